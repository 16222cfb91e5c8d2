/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the migtcp selftests written with kselftest_harness.h.
 * Include after kselftest_harness.h.
 */
#ifndef MIGTCP_TEST_H
#define MIGTCP_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "migtcp.h"

/*
 * The harness kills a test after TEST_TIMEOUT_DEFAULT (30 s) unless it
 * names its own timeout.  That is a watchdog against hangs, not a
 * deadline: every test here builds namespaces, veths and nodes with
 * ip(8) and migtcpctl, and on a loaded 2-core host running the guest
 * under TCG (several times slower again with KASAN and lockdep) a test
 * that takes 2 s on an idle machine has been seen to pass 30 s.  Four
 * times the harness's figure, for the tests that name none.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT	120

/*
 * Checks that @expr returned -1 and set errno to @err, naming both errnos
 * when it did not.
 */
#define ASSERT_FAILS_WITH(err, expr) do {				\
	const int __want = (err);					\
	long __ret;							\
	int __errno;							\
									\
	errno = 0;							\
	__ret = (long)(expr);						\
	__errno = errno;						\
	ASSERT_EQ(-1, __ret)						\
		TH_LOG("%s succeeded (returned %ld), expected %s",	\
		       #expr, __ret, strerrorname_np(__want));		\
	ASSERT_EQ(__want, __errno)					\
		TH_LOG("%s failed with %s, expected %s", #expr,	\
		       strerrorname_np(__errno) ?: "?",		\
		       strerrorname_np(__want));			\
} while (0)

static inline int migtcp_test_lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (!ret) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret;
}

/* Moves the caller into a new network namespace (a new node) with lo up. */
static inline int migtcp_test_new_netns(void)
{
	if (unshare(CLONE_NEWNET))
		return -1;
	return migtcp_test_lo_up();
}

/*
 * The number in environment variable @name (decimal, 0x hex or 0 octal),
 * or @def if it is unset, empty or not a number (said on stderr): the
 * fuzzers' MIGTCP_FUZZ_* settings.
 */
static inline unsigned long migtcp_test_env_ulong(const char *name,
						  unsigned long def)
{
	const char *v = getenv(name);
	unsigned long x;
	char *end;

	if (!v || !*v)
		return def;
	errno = 0;
	x = strtoul(v, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "# %s=%s is no number, using %#lx\n", name, v,
			def);
		return def;
	}
	return x;
}

/*
 * Runs "migtcpctl ARGS" (the binary named by $MIGTCP_CTL) quietly in the
 * caller's network namespace; returns its exit status, or -1.
 */
static inline int migtcp_test_ctl(const char *fmt, ...)
{
	const char *ctl = getenv("MIGTCP_CTL");
	char args[512], cmd[1024];
	va_list ap;
	int status;

	if (!ctl)
		return -1;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>&1", ctl, args);
	status = system(cmd);
	if (status < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * Writes a cluster key file at @path for "migtcpctl node set key-file":
 * 32 bytes all @byte, as 64 hex digits, in a file only its owner can
 * read (migtcpctl refuses any other).  Returns 0, or -1 with errno set.
 */
static inline int migtcp_test_key_file(const char *path, uint8_t byte)
{
	FILE *f;
	int fd, i;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	/* A file left by an earlier run keeps its mode through O_CREAT. */
	if (fchmod(fd, 0600) < 0) {
		close(fd);
		return -1;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -1;
	}
	for (i = 0; i < MIGTCP_KEY_LEN; i++)
		fprintf(f, "%02x", byte);
	fputc('\n', f);
	return fclose(f) ? -1 : 0;
}

/*
 * The Internet checksum (RFC 1071) of @len bytes, as big-endian 16-bit
 * words: what segments built by hand carry over their pseudo-header.
 */
static inline uint16_t inet_csum(const uint8_t *p, int len)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/*
 * The lines of the kernel log that contain any of the @n strings @texts;
 * -1 if dmesg cannot be run.
 */
static inline int migtcp_test_dmesg_count(const char * const *texts,
					  size_t n)
{
	char line[1024];
	int count = 0;
	size_t i;
	FILE *f;

	f = popen("dmesg", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < n; i++)
			if (strstr(line, texts[i])) {
				count++;
				break;
			}
	pclose(f);
	return count;
}

#define MIGTCP_TEST_SEG_MAX	1024	/* the longest segment built by hand */

/*
 * Fills in the checksum of @seg, a migtcp segment of @len bytes built by
 * hand, for the pseudo-header of @saddr to @daddr (network byte order)
 * and protocol @proto: libmigtcp's, which migtcpctl's probe uses too.
 */
static inline void migtcp_test_set_csum(uint8_t *seg, int len,
					uint32_t saddr, uint32_t daddr,
					int proto)
{
	migtcp_seg_set_check(seg, (size_t)len, saddr, daddr, proto);
}

/*
 * sendto() of a packet built by hand on a raw socket, sent again while
 * the kernel answers ENOBUFS (or EAGAIN): a burst of raw sends finds the
 * device's queue or the receiving side's backlog full now and then on a
 * loaded machine, and the packet was then not sent at all, so sending it
 * again is no duplicate.  Bounded: about 2 s of 1 ms waits.
 */
static inline ssize_t migtcp_test_sendto(int fd, const void *buf, size_t len,
					 const struct sockaddr *to,
					 socklen_t tolen)
{
	ssize_t n;
	int tries;

	for (tries = 0; tries < 2000; tries++) {
		n = sendto(fd, buf, len, 0, to, tolen);
		if (n >= 0 || (errno != ENOBUFS && errno != EAGAIN))
			break;
		usleep(1000);
	}
	return n;
}

#endif /* MIGTCP_TEST_H */
