/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the CRIU test's programs (mig_echo, mig_conns) share: messages
 * prefixed with the program's role, the byte pattern both ends of a
 * stream derive from a seed, a clock, numbers from the command line and
 * endpoint names.  Each program sets "role" first.
 */
#ifndef MIGTCP_MIG_PROG_H
#define MIGTCP_MIG_PROG_H

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "migtcp.h"

static const char *role;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", role);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static uint8_t pattern(uint64_t off, uint64_t seed)
{
	uint64_t z = (off >> 3) + seed * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z >> ((off & 7) * 8);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static unsigned long parse_num(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end)
		die("%s '%s' is not a number", what, s);
	return v;
}

static void endpoint(int fd, bool peer, char *buf, size_t len,
		     unsigned int *port)
{
	struct sockaddr_mig a;
	socklen_t alen = sizeof(a);
	int ret = peer ? getpeername(fd, (struct sockaddr *)&a, &alen) :
			 getsockname(fd, (struct sockaddr *)&a, &alen);

	if (ret)
		die("%s: %s", peer ? "getpeername" : "getsockname",
		    strerror(errno));
	snprintf(buf, len, "%u:%u", a.smig_node, ntohs(a.smig_port));
	if (port)
		*port = ntohs(a.smig_port);
}

#endif /* MIGTCP_MIG_PROG_H */
