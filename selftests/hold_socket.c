// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of the shell tests: holds AF_MIGTCP sockets open (so that the
 * module cannot be unloaded, or so that they can be listed).  Opens COUNT
 * (default 1) sockets of the family in use; with PORT, binds socket i to
 * port PORT + i of this node.  Prints "ready", then the inode of each
 * socket on a line of its own, and waits until its standard input is
 * closed, then closes them and exits 0.  Exits 1 (with a message) if a
 * socket cannot be created or bound.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migtcp.h"

#define MAX_SOCKETS	64

static int bind_port(int fd, int family, int port)
{
	struct sockaddr_mig addr = {
		.smig_family = family,
		.smig_port = htons(port),
	};

	if (!bind(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return 0;
	fprintf(stderr, "hold_socket: bind to port %d: %s\n", port,
		strerror(errno));
	return -1;
}

int main(int argc, char **argv)
{
	int fds[MAX_SOCKETS], count = 1, port = 0, family, i;
	struct stat st;
	char buf[64];

	if (argc >= 2)
		count = atoi(argv[1]);
	if (argc >= 3)
		port = atoi(argv[2]);
	if (argc > 3 || count <= 0 || count > MAX_SOCKETS || port < 0 ||
	    port + count > 65536) {
		fprintf(stderr, "usage: %s [COUNT (1..%d) [PORT]]\n", argv[0],
			MAX_SOCKETS);
		return 2;
	}
	family = migtcp_family();
	if (family < 0) {
		fprintf(stderr, "hold_socket: cannot read the family: %s\n",
			strerror(-family));
		return 1;
	}
	for (i = 0; i < count; i++) {
		fds[i] = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0) {
			fprintf(stderr, "hold_socket: socket(%d): %s\n",
				family, strerror(errno));
			return 1;
		}
		if (port && bind_port(fds[i], family, port + i))
			return 1;
	}
	printf("ready\n");
	for (i = 0; i < count; i++) {
		if (fstat(fds[i], &st))
			return 1;
		printf("%lu\n", (unsigned long)st.st_ino);
	}
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	for (i = 0; i < count; i++)
		close(fds[i]);
	return 0;
}
