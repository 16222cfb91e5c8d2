/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the migration demo (migstream) and the migration benchmark
 * (migbench) share: the verifiable byte stream, clocks, blocking I/O
 * helpers, node descriptions and the socket-option migration of a
 * connection (freeze, checkpoint, restore; include/uapi/linux/migtcp.h).
 */
#ifndef MIGTCP_BENCH_MIGCOMMON_H
#define MIGTCP_BENCH_MIGCOMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

static const char *prog_name = "mig";

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

/*
 * The byte stream: byte @off of stream @seed depends on both and on
 * nothing else, so a byte lost, doubled or shifted anywhere is caught at
 * the offset where it happened (the generator of selftests/stream.h).
 */
static inline uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline void pattern_fill(uint8_t *buf, size_t len, uint64_t seed,
				uint64_t off)
{
	uint64_t key = splitmix64(seed), word = 0;
	size_t i = 0;

	/* Whole aligned words at a time where possible. */
	for (; i < len && (off & 7); i++, off++) {
		if (i == 0)
			word = splitmix64(key ^ (off >> 3));
		buf[i] = word >> ((off & 7) * 8);
	}
	for (; i + 8 <= len; i += 8, off += 8) {
		word = splitmix64(key ^ (off >> 3));
		memcpy(buf + i, &word, 8);	/* little-endian, as below */
	}
	for (; i < len; i++, off++) {
		if (!(off & 7) || i == 0)
			word = splitmix64(key ^ (off >> 3));
		buf[i] = word >> ((off & 7) * 8);
	}
}

/*
 * Checks @len bytes received at stream offset @off; returns the index of
 * the first wrong byte, or -1 when all are right.
 */
static inline long pattern_check(const uint8_t *buf, size_t len,
				 uint64_t seed, uint64_t off)
{
	uint8_t expect[8192];
	size_t done, n, i;

	for (done = 0; done < len; done += n) {
		n = len - done < sizeof(expect) ? len - done : sizeof(expect);
		pattern_fill(expect, n, seed, off + done);
		if (!memcmp(expect, buf + done, n))
			continue;
		for (i = 0; expect[i] == buf[done + i]; i++)
			;
		return done + i;
	}
	return -1;
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
 * Freezes connected @fd (asking the peer to hold for @hold_ms, 0 for the
 * module's migration timeout) and returns its checkpoint, malloc()ed, with
 * its length in *@len; NULL with errno set on failure, the socket then
 * thawed again if it was frozen.
 */
static inline void *mig_checkpoint(int fd, unsigned int hold_ms,
				   socklen_t *len)
{
	int hold = hold_ms, err;
	socklen_t size = 256 * 1024;
	void *blob = NULL, *p;

	if (setsockopt(fd, SOL_MIGTCP, MIGTCP_FREEZE, &hold, sizeof(hold)))
		return NULL;
	for (;;) {
		p = realloc(blob, size);
		if (!p) {
			err = ENOMEM;
			break;
		}
		blob = p;
		*len = size;
		if (!getsockopt(fd, SOL_MIGTCP, MIGTCP_CHECKPOINT, blob, len))
			return blob;
		err = errno;
		/* ERANGE: *len says how much is needed. */
		if (err != ERANGE || *len <= size)
			break;
		size = *len;
	}
	free(blob);
	setsockopt(fd, SOL_MIGTCP, MIGTCP_THAW, NULL, 0);
	errno = err;
	return NULL;
}

/*
 * A new socket of the caller's current network namespace (node) that is
 * the connection of @blob; -1 with errno set on failure.
 */
static inline int mig_restore(int family, const void *blob, socklen_t len)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_MIGTCP, MIGTCP_RESTORE, blob, len)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Enters the network namespace at @path (/run/netns/NAME): this thread only. */
static inline int enter_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -1;
	if (setns(fd, CLONE_NEWNET)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	close(fd);
	return 0;
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

#endif /* MIGTCP_BENCH_MIGCOMMON_H */
