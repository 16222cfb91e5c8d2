/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every benchmark program (streambench, migstream, migbench) shares:
 * dying with a message, clocks, blocking I/O with guard timeouts, socket
 * addresses of either transport, and the parsing of numeric arguments.
 */
#ifndef MIGTCP_BENCH_COMMON_H
#define MIGTCP_BENCH_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "migtcp.h"

/* What die() prints before its message; main() sets it. */
static const char *prog_name = "bench";

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Seconds on CLOCK_MONOTONIC, which every network namespace shares. */
static inline double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seconds since the epoch, to line events up with shell timestamps. */
static inline double real_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void sleep_s(double secs)
{
	struct timespec ts;

	if (secs <= 0)
		return;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (time_t)secs) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Guard timeouts on blocking calls: a stalled run fails, it never hangs. */
static inline int set_guard(int fd, int sec)
{
	struct timeval tv = { .tv_sec = sec };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -1;
	return 0;
}

static inline int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* recv() of up to @len bytes, again when a signal interrupts it. */
static inline ssize_t recv_some(int fd, void *buf, size_t len)
{
	ssize_t n;

	do {
		n = recv(fd, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	return n;
}

/* Reads exactly @len bytes; 0, or -1 with errno (EPIPE at end of file). */
static inline int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static inline struct sockaddr_mig mig_addr(int family, uint32_t node,
					   uint16_t port)
{
	struct sockaddr_mig a = {
		.smig_family = family,
		.smig_port = htons(port),
		.smig_node = node,
	};
	return a;
}

/*
 * Fills @ss with the address of @port: for AF_INET, at @ip (NULL: any
 * address); for AF_MIGTCP (@family is its number in use), on node @node
 * (0: this node).  Returns the address's length.
 */
static inline socklen_t sock_addr(int family, const struct in_addr *ip,
				  uint32_t node, uint16_t port,
				  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (ip)
			sin->sin_addr = *ip;
		return sizeof(*sin);
	}
	*(struct sockaddr_mig *)ss = mig_addr(family, node, port);
	return sizeof(struct sockaddr_mig);
}

/*
 * Sends back what @fd reads until end of file, or until a send fails;
 * -1 with errno set if a read failed, else 0.
 */
static inline int echo_all(int fd)
{
	char buf[256];
	ssize_t n;

	while ((n = recv_some(fd, buf, sizeof(buf))) > 0)
		if (write_all(fd, buf, n))
			return 0;
	return n < 0 ? -1 : 0;
}

static inline long parse_long(const char *s, long lo, long hi,
			      const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < lo || v > hi)
		die("bad %s '%s' (%ld..%ld)", what, s, lo, hi);
	return v;
}

static inline double parse_double(const char *s, double lo, double hi,
				  const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		die("bad %s '%s' (%g..%g)", what, s, lo, hi);
	return v;
}

#endif /* MIGTCP_BENCH_COMMON_H */
