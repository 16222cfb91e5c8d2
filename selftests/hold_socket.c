// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of module_test.sh: holds AF_MIGTCP sockets open so that the
 * module cannot be unloaded.  Opens COUNT (default 1) sockets of the
 * family in use, prints "ready" and waits until its standard input is
 * closed, then closes them and exits 0.  Exits 1 (with a message) if a
 * socket cannot be created.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "migtcp.h"

#define MAX_SOCKETS	64

int main(int argc, char **argv)
{
	int fds[MAX_SOCKETS], count = 1, family, i;
	char buf[64];

	if (argc == 2)
		count = atoi(argv[1]);
	if (argc > 2 || count <= 0 || count > MAX_SOCKETS) {
		fprintf(stderr, "usage: %s [COUNT (1..%d)]\n", argv[0],
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
	}
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	for (i = 0; i < count; i++)
		close(fds[i]);
	return 0;
}
