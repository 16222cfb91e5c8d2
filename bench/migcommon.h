/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the migration demo (migstream) and the migration benchmark
 * (migbench) share, on top of common.h: the verifiable byte stream, the
 * socket-option migration of a connection (freeze, checkpoint, restore;
 * include/uapi/linux/migtcp.h) and entering a node's network namespace.
 */
#ifndef MIGTCP_BENCH_MIGCOMMON_H
#define MIGTCP_BENCH_MIGCOMMON_H

#include <fcntl.h>
#include <sched.h>

#include "common.h"

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

#endif /* MIGTCP_BENCH_MIGCOMMON_H */
