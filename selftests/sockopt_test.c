// SPDX-License-Identifier: GPL-2.0
/*
 * Socket options of AF_MIGTCP sockets, with Linux TCP's semantics
 * (man 7 tcp): the int options at SOL_MIGTCP (MIGTCP_NODELAY, _MAXSEG,
 * _CORK, _KEEPIDLE, _KEEPINTVL, _KEEPCNT, _QUICKACK, _USER_TIMEOUT) with
 * their defaults, ranges and the errors of a short, negative or bad
 * option length or pointer; unknown options and the read-only
 * MIGTCP_INFO; what MIGTCP_INFO reports of a fresh socket, a connection
 * and a transfer; the effects that can be seen from outside: the MSS a
 * connection uses, corking, keepalive probes that find a silent peer and
 * keep an answering one, and the user timeout that gives up on
 * unacknowledged data; and SO_KEEPALIVE, SO_SNDBUF and SO_RCVBUF at
 * SOL_SOCKET.
 *
 * Every test builds its own two-node cluster (cluster.h): node 1 and
 * node 2 joined by a veth pair (MTU 1500, devices mig1 and mig2).  The
 * client end of a connection lives on node 1, the accepted end on node 2.
 * A silent peer is made with netem dropping everything node 2 sends.
 * The keepalive test reads in a second thread, so this test is linked
 * with -pthread.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"
#include "stream.h"

/* TCP_* state numbers, as MIGTCP_INFO reports them. */
#define ST_ESTABLISHED	1
#define ST_CLOSE	7

/* The veth's MTU less the IP header and migtcp's 28-byte header. */
#define VETH_MSS	(1500U - 20U - 28U)
#define DEFAULT_MSS	536

#define XFER_LEN	100000UL

/* A socket of node 1, not connected. */
static int node1_socket(struct __test_metadata *_metadata,
			CLUSTER *self)
{
	int fd;

	if (setns(self->ns[NODE1], CLONE_NEWNET))
		return -1;
	fd = mig_socket(self->family, 0);
	if (fd < 0)
		TH_LOG("socket: %s", strerror(errno));
	return fd;
}

/* Socket options as ints. */

static int set_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

/* The value of an int option, or INT_MIN (with a log) if it fails. */
static int get_int(struct __test_metadata *_metadata, int fd, int level,
		   int opt)
{
	socklen_t len = sizeof(int);
	int val = INT_MIN;

	if (getsockopt(fd, level, opt, &val, &len)) {
		TH_LOG("getsockopt(%d, %d): %s", level, opt, strerror(errno));
		return INT_MIN;
	}
	if (len != sizeof(int)) {
		TH_LOG("getsockopt(%d, %d) returned %u bytes", level, opt, len);
		return INT_MIN;
	}
	return val;
}

#define GET_MIG(fd, opt)	get_int(_metadata, fd, SOL_MIGTCP, opt)
#define GET_SOL(fd, opt)	get_int(_metadata, fd, SOL_SOCKET, opt)

static void log_info(const char *who, const struct migtcp_info *i)
{
	fprintf(stderr,
		"# %s: state %u retransmits %u rto %u rtt %u/%u mss %u cwnd %u "
		"snd_wnd %u rcv_wnd %u unacked %u total_retrans %u "
		"sent %llu acked %llu received %llu\n",
		who, i->state, i->retransmits, i->rto_us, i->rtt_us,
		i->rttvar_us, i->snd_mss, i->snd_cwnd, i->snd_wnd, i->rcv_wnd,
		i->unacked, i->total_retrans,
		(unsigned long long)i->bytes_sent,
		(unsigned long long)i->bytes_acked,
		(unsigned long long)i->bytes_received);
}

/* The int options at SOL_MIGTCP, their defaults and a valid other value. */
static const struct int_opt {
	const char *name;
	int opt;
	int def;	/* on a fresh socket */
	int other;	/* valid, reads back as itself */
} int_opts[] = {
	{ "MIGTCP_NODELAY",	 MIGTCP_NODELAY,	0,	1 },
	{ "MIGTCP_MAXSEG",	 MIGTCP_MAXSEG,		DEFAULT_MSS, 1000 },
	{ "MIGTCP_CORK",	 MIGTCP_CORK,		0,	1 },
	{ "MIGTCP_KEEPIDLE",	 MIGTCP_KEEPIDLE,	7200,	10 },
	{ "MIGTCP_KEEPINTVL",	 MIGTCP_KEEPINTVL,	75,	10 },
	{ "MIGTCP_KEEPCNT",	 MIGTCP_KEEPCNT,	9,	5 },
	{ "MIGTCP_QUICKACK",	 MIGTCP_QUICKACK,	1,	1 },
	{ "MIGTCP_USER_TIMEOUT", MIGTCP_USER_TIMEOUT,	0,	1500 },
};

#define N_INT_OPTS (sizeof(int_opts) / sizeof(int_opts[0]))

/* A page nothing may touch: a bad pointer that is certainly bad. */
static void *bad_page(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Defaults of every int option on a fresh socket, and on a connection. */
TEST_F(cluster, int_option_defaults)
{
	int fd, cfd, afd, i;
	unsigned int k;

	fd = node1_socket(_metadata, self);
	ASSERT_LE(0, fd);
	for (k = 0; k < N_INT_OPTS; k++) {
		EXPECT_EQ(int_opts[k].def, GET_MIG(fd, int_opts[k].opt))
			TH_LOG("%s on a fresh socket", int_opts[k].name);
	}
	close(fd);

	/* Connected, the same but for MAXSEG, which is the path's now. */
	CONNECT_PAIR(&cfd, &afd);
	for (i = 0; i < 2; i++) {
		int s = i ? afd : cfd;

		for (k = 0; k < N_INT_OPTS; k++) {
			int want = int_opts[k].opt == MIGTCP_MAXSEG ?
				   (int)VETH_MSS : int_opts[k].def;

			EXPECT_EQ(want, GET_MIG(s, int_opts[k].opt))
				TH_LOG("%s on the %s end", int_opts[k].name,
				       i ? "accepted" : "connecting");
		}
	}
	close(afd);
	close(cfd);
}

/*
 * setsockopt of an int option: an optlen shorter than an int is EINVAL
 * (and changes nothing), a longer one is fine, a bad pointer is EFAULT.
 */
TEST_F(cluster, int_option_set_bad_length_and_pointer)
{
	static const socklen_t short_lens[] = { 0, 1, 2, 3 };
	int64_t wide;
	void *bad;
	unsigned int k, j;
	int fd;

	bad = bad_page();
	ASSERT_NE(NULL, bad);
	fd = node1_socket(_metadata, self);
	ASSERT_LE(0, fd);
	for (k = 0; k < N_INT_OPTS; k++) {
		const struct int_opt *o = &int_opts[k];
		int val = o->other;

		for (j = 0; j < sizeof(short_lens) / sizeof(short_lens[0]); j++) {
			errno = 0;
			EXPECT_EQ(-1, setsockopt(fd, SOL_MIGTCP, o->opt, &val,
						 short_lens[j]))
				TH_LOG("%s with optlen %u succeeded", o->name,
				       short_lens[j]);
			EXPECT_EQ(EINVAL, errno)
				TH_LOG("%s with optlen %u: %s, expected EINVAL",
				       o->name, short_lens[j], errname(errno));
		}
		errno = 0;
		EXPECT_EQ(-1, setsockopt(fd, SOL_MIGTCP, o->opt, bad, sizeof(int)))
			TH_LOG("%s from a bad pointer succeeded", o->name);
		EXPECT_EQ(EFAULT, errno)
			TH_LOG("%s from a bad pointer: %s, expected EFAULT",
			       o->name, errname(errno));
		errno = 0;
		EXPECT_EQ(-1, setsockopt(fd, SOL_MIGTCP, o->opt, NULL, sizeof(int)))
			TH_LOG("%s from NULL succeeded", o->name);
		EXPECT_EQ(EFAULT, errno)
			TH_LOG("%s from NULL: %s, expected EFAULT",
			       o->name, errname(errno));
		/* None of these changed anything. */
		EXPECT_EQ(o->def, GET_MIG(fd, o->opt))
			TH_LOG("%s after failed sets", o->name);

		/* An optlen longer than an int: the int is used. */
		wide = 0;
		memcpy(&wide, &val, sizeof(val));
		EXPECT_EQ(0, setsockopt(fd, SOL_MIGTCP, o->opt, &wide, sizeof(wide)))
			TH_LOG("%s with optlen 8: %s", o->name, strerror(errno));
		EXPECT_EQ(o->other, GET_MIG(fd, o->opt))
			TH_LOG("%s after a set with optlen 8", o->name);
	}
	close(fd);
	munmap(bad, 4096);
}

/*
 * getsockopt of an int option: a shorter optlen gets that many bytes of
 * the int and the length written back; a longer one gets the int; a
 * negative one is EINVAL; bad pointers are EFAULT.
 */
TEST_F(cluster, int_option_get_lengths_and_pointers)
{
	unsigned int k;
	void *bad;
	int fd;

	bad = bad_page();
	ASSERT_NE(NULL, bad);
	fd = node1_socket(_metadata, self);
	ASSERT_LE(0, fd);
	for (k = 0; k < N_INT_OPTS; k++) {
		const struct int_opt *o = &int_opts[k];
		unsigned char buf[16], want[16];
		socklen_t len, lens[] = { 0, 1, 2, 3 };
		int val = o->other;
		unsigned int j;

		/* A value whose bytes differ from the 0xee filler. */
		ASSERT_EQ(0, set_int(fd, SOL_MIGTCP, o->opt, val))
			TH_LOG("%s: %s", o->name, strerror(errno));
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			memset(buf, 0xee, sizeof(buf));
			memset(want, 0xee, sizeof(want));
			memcpy(want, &val, lens[j]);
			len = lens[j];
			EXPECT_EQ(0, getsockopt(fd, SOL_MIGTCP, o->opt, buf, &len))
				TH_LOG("%s with optlen %u: %s", o->name, lens[j],
				       strerror(errno));
			EXPECT_EQ(lens[j], len)
				TH_LOG("%s: optlen %u came back as %u", o->name,
				       lens[j], len);
			EXPECT_EQ(0, memcmp(want, buf, sizeof(buf)))
				TH_LOG("%s with optlen %u: wrong bytes", o->name,
				       lens[j]);
		}
		/* Longer than an int: an int, and its length. */
		memset(buf, 0xee, sizeof(buf));
		memset(want, 0xee, sizeof(want));
		memcpy(want, &val, sizeof(val));
		len = sizeof(buf);
		EXPECT_EQ(0, getsockopt(fd, SOL_MIGTCP, o->opt, buf, &len))
			TH_LOG("%s with optlen 16: %s", o->name, strerror(errno));
		EXPECT_EQ(sizeof(int), len)
			TH_LOG("%s: optlen 16 came back as %u", o->name, len);
		EXPECT_EQ(0, memcmp(want, buf, sizeof(buf)))
			TH_LOG("%s with optlen 16: wrong bytes", o->name);

		/* Negative. */
		len = (socklen_t)-1;
		errno = 0;
		EXPECT_EQ(-1, getsockopt(fd, SOL_MIGTCP, o->opt, buf, &len))
			TH_LOG("%s with optlen -1 succeeded", o->name);
		EXPECT_EQ(EINVAL, errno)
			TH_LOG("%s with optlen -1: %s, expected EINVAL", o->name,
			       errname(errno));

		/* Bad pointers, to the value and to the length. */
		len = sizeof(int);
		errno = 0;
		EXPECT_EQ(-1, getsockopt(fd, SOL_MIGTCP, o->opt, bad, &len))
			TH_LOG("%s into a bad pointer succeeded", o->name);
		EXPECT_EQ(EFAULT, errno)
			TH_LOG("%s into a bad pointer: %s, expected EFAULT",
			       o->name, errname(errno));
		errno = 0;
		EXPECT_EQ(-1, getsockopt(fd, SOL_MIGTCP, o->opt, buf, bad))
			TH_LOG("%s with a bad optlen pointer succeeded", o->name);
		EXPECT_EQ(EFAULT, errno)
			TH_LOG("%s with a bad optlen pointer: %s, expected EFAULT",
			       o->name, errname(errno));
	}
	close(fd);
	munmap(bad, 4096);
}

/* Unknown options at SOL_MIGTCP, and setting the read-only MIGTCP_INFO. */
TEST_F(cluster, unknown_option_and_read_only_info)
{
	static const int unknown[] = { 0, 99, 1000 };
	struct migtcp_info info;
	socklen_t len;
	unsigned int k;
	int fd, cfd, afd, val = 1, s, i;

	fd = node1_socket(_metadata, self);
	ASSERT_LE(0, fd);
	CONNECT_PAIR(&cfd, &afd);
	for (i = 0; i < 2; i++) {
		s = i ? cfd : fd;
		for (k = 0; k < sizeof(unknown) / sizeof(unknown[0]); k++) {
			errno = 0;
			EXPECT_EQ(-1, setsockopt(s, SOL_MIGTCP, unknown[k], &val,
						 sizeof(val)))
				TH_LOG("set of option %d succeeded", unknown[k]);
			EXPECT_EQ(ENOPROTOOPT, errno)
				TH_LOG("set of option %d: %s, expected ENOPROTOOPT",
				       unknown[k], errname(errno));
			len = sizeof(val);
			errno = 0;
			EXPECT_EQ(-1, getsockopt(s, SOL_MIGTCP, unknown[k], &val,
						 &len))
				TH_LOG("get of option %d succeeded", unknown[k]);
			EXPECT_EQ(ENOPROTOOPT, errno)
				TH_LOG("get of option %d: %s, expected ENOPROTOOPT",
				       unknown[k], errname(errno));
		}
		memset(&info, 0, sizeof(info));
		ASSERT_FAILS_WITH(ENOPROTOOPT,
				  setsockopt(s, SOL_MIGTCP, MIGTCP_INFO, &info,
					     sizeof(info)));
	}
	/* Still readable. */
	GET_INFO(cfd, &info);
	EXPECT_EQ(ST_ESTABLISHED, info.state);
	close(afd);
	close(cfd);
	close(fd);
}

/*
 * MIGTCP_NODELAY and MIGTCP_CORK are flags: 0 by default, any non-zero
 * value reads back as 1, 0 clears them; before and after connecting.
 */
TEST_F(cluster, nodelay_cork_flags)
{
	static const int opts[] = { MIGTCP_NODELAY, MIGTCP_CORK };
	static const int vals[] = { 1, 0, 7, -1, INT_MAX, 0 };
	int fd, cfd, afd, s, i;
	unsigned int k, j;

	fd = node1_socket(_metadata, self);
	ASSERT_LE(0, fd);
	CONNECT_PAIR(&cfd, &afd);
	for (i = 0; i < 2; i++) {
		s = i ? cfd : fd;
		for (k = 0; k < 2; k++) {
			const char *name = opts[k] == MIGTCP_CORK ?
					   "MIGTCP_CORK" : "MIGTCP_NODELAY";

			EXPECT_EQ(0, GET_MIG(s, opts[k])) TH_LOG("%s default", name);
			for (j = 0; j < sizeof(vals) / sizeof(vals[0]); j++) {
				EXPECT_EQ(0, set_int(s, SOL_MIGTCP, opts[k], vals[j]))
					TH_LOG("%s = %d: %s", name, vals[j],
					       strerror(errno));
				EXPECT_EQ(!!vals[j], GET_MIG(s, opts[k]))
					TH_LOG("%s after setting %d", name, vals[j]);
			}
		}
	}
	close(afd);
	close(cfd);
	close(fd);
}

/*
 * MIGTCP_CORK holds a partial segment back; clearing it sends the
 * segment at once: from within the setsockopt() call, which the
 * segments node 1 sent during it show (the connection is otherwise idle:
 * no timer of it runs).  Counted rather than timed, because a busy
 * machine can delay the reader's wake-up by any amount.
 */
TEST_F(cluster, cork_holds_partial_segment)
{
	long out_before, out_after;
	char buf[256];
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, set_int(cfd, SOL_MIGTCP, MIGTCP_CORK, 1));
	ASSERT_EQ(100, send(cfd, buf, 100, 0));
	EXPECT_EQ(0, poll_one(afd, POLLIN, 150))
		TH_LOG("a corked 100-byte write arrived at once");
	out_before = node_stat(self, NODE1, "OutSegs");
	ASSERT_LE(0, out_before);
	ASSERT_EQ(0, set_int(cfd, SOL_MIGTCP, MIGTCP_CORK, 0));
	out_after = node_stat(self, NODE1, "OutSegs");
	EXPECT_EQ(1, out_after - out_before)
		TH_LOG("%ld segments sent while uncorking", out_after - out_before);
	EXPECT_EQ(POLLIN, poll_one(afd, POLLIN, WAIT_MS))
		TH_LOG("nothing arrived after uncorking");
	EXPECT_EQ(100, recv(afd, buf, sizeof(buf), MSG_DONTWAIT));
	close(afd);
	close(cfd);
}

/*
 * MIGTCP_QUICKACK reads 1: this transport acknowledges every segment at
 * once.  Setting it is accepted, as TCP programs do.
 */
TEST_F(cluster, quickack_reads_one)
{
	int fd, cfd, afd, s, i;

	fd = node1_socket(_metadata, self);
	ASSERT_LE(0, fd);
	CONNECT_PAIR(&cfd, &afd);
	for (i = 0; i < 2; i++) {
		s = i ? cfd : fd;
		EXPECT_EQ(1, GET_MIG(s, MIGTCP_QUICKACK));
		EXPECT_EQ(0, set_int(s, SOL_MIGTCP, MIGTCP_QUICKACK, 1))
			TH_LOG("set 1: %s", strerror(errno));
		EXPECT_EQ(1, GET_MIG(s, MIGTCP_QUICKACK));
		EXPECT_EQ(0, set_int(s, SOL_MIGTCP, MIGTCP_QUICKACK, 0))
			TH_LOG("set 0: %s", strerror(errno));
		fprintf(stderr, "# MIGTCP_QUICKACK after setting 0: %d\n",
			GET_MIG(s, MIGTCP_QUICKACK));
	}
	close(afd);
	close(cfd);
	close(fd);
}

/* MIGTCP_MAXSEG before connecting: 536, 88..65535 read back, else EINVAL. */
TEST_F(cluster, maxseg_range_unconnected)
{
	static const int good[] = { 88, 1000, 1452, 9000, 65535 };
	/* 0 is not here: as for TCP_MAXSEG it resets to the default. */
	static const int bad[] = { 1, 87, 65536, 100000, INT_MAX, -1, INT_MIN };
	unsigned int k;
	int fd;

	fd = node1_socket(_metadata, self);
	ASSERT_LE(0, fd);
	EXPECT_EQ(DEFAULT_MSS, GET_MIG(fd, MIGTCP_MAXSEG));
	for (k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
		EXPECT_EQ(0, set_int(fd, SOL_MIGTCP, MIGTCP_MAXSEG, good[k]))
			TH_LOG("MAXSEG %d: %s", good[k], strerror(errno));
		EXPECT_EQ(good[k], GET_MIG(fd, MIGTCP_MAXSEG));
	}
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		ASSERT_EQ(0, set_int(fd, SOL_MIGTCP, MIGTCP_MAXSEG, 1000));
		errno = 0;
		EXPECT_EQ(-1, set_int(fd, SOL_MIGTCP, MIGTCP_MAXSEG, bad[k]))
			TH_LOG("MAXSEG %d accepted", bad[k]);
		EXPECT_EQ(EINVAL, errno)
			TH_LOG("MAXSEG %d: %s, expected EINVAL", bad[k],
			       errname(errno));
		EXPECT_EQ(1000, GET_MIG(fd, MIGTCP_MAXSEG))
			TH_LOG("after MAXSEG %d", bad[k]);
	}
	close(fd);
}

/*
 * Connected over the veth, the MSS is the path's: 1500 less 20 bytes of
 * IP header and 28 of migtcp header, on both ends, as MIGTCP_MAXSEG and
 * MIGTCP_INFO.snd_mss.
 */
TEST_F(cluster, maxseg_default_is_path_mss)
{
	struct migtcp_info info;
	int cfd, afd, s, i;

	CONNECT_PAIR(&cfd, &afd);
	for (i = 0; i < 2; i++) {
		s = i ? afd : cfd;
		EXPECT_EQ((int)VETH_MSS, GET_MIG(s, MIGTCP_MAXSEG))
			TH_LOG("%s end", i ? "accepted" : "connecting");
		GET_INFO(s, &info);
		EXPECT_EQ(VETH_MSS, info.snd_mss)
			TH_LOG("%s end", i ? "accepted" : "connecting");
	}
	close(afd);
	close(cfd);
}

static void *send_all_main(void *arg)
{
	int *fd = arg;
	uint8_t *buf = malloc(XFER_LEN);
	size_t done = 0;
	ssize_t n;

	if (!buf)
		return (void *)-1L;
	memset(buf, 'i', XFER_LEN);
	while (done < XFER_LEN) {
		n = send(*fd, buf + done, XFER_LEN - done, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		done += n;
	}
	free(buf);
	return (void *)(long)done;
}

/*
 * MIGTCP_MAXSEG set before connecting caps the MSS of the connection:
 * ours (as MIGTCP_MAXSEG and snd_mss read it) and, as it is announced in
 * the SYN, the peer's.  The segments really are that small: 100000 bytes
 * take at least 100000 / 500 segments.  A value above the path's MSS
 * leaves the path's.
 */
TEST_F_TIMEOUT(cluster, maxseg_caps_connection_mss, 60)
{
	struct migtcp_info info;
	long segs_before, segs_after;
	pthread_t th;
	void *sent;
	uint8_t *buf;
	size_t got = 0;
	ssize_t n;
	int cfd = -1, afd;

	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, set_int(cfd, SOL_MIGTCP, MIGTCP_MAXSEG, 500));
	connect_pair(_metadata, self, &cfd, &afd);
	GET_INFO(cfd, &info);
	log_info("MAXSEG 500, connecting end", &info);
	EXPECT_GE(500U, info.snd_mss);
	EXPECT_LT(0U, info.snd_mss);
	EXPECT_EQ((int)info.snd_mss, GET_MIG(cfd, MIGTCP_MAXSEG))
		TH_LOG("MIGTCP_MAXSEG is not the effective MSS");
	GET_INFO(afd, &info);
	log_info("MAXSEG 500, accepted end", &info);
	EXPECT_GE(500U, info.snd_mss) TH_LOG("the SYN did not announce MSS 500");

	/* Count node 1's segments while it sends 100000 bytes. */
	buf = malloc(XFER_LEN);
	ASSERT_NE(NULL, buf);
	segs_before = node_stat(self, NODE1, "OutSegs");
	ASSERT_LE(0, segs_before);
	ASSERT_EQ(0, set_timeouts(cfd, 20));
	ASSERT_EQ(0, set_timeouts(afd, 20));
	/* Node 2 reads while node 1 writes: no buffer size assumed. */
	ASSERT_EQ(0, pthread_create(&th, NULL, send_all_main, &cfd));
	while (got < XFER_LEN) {
		n = recv(afd, buf, XFER_LEN - got, 0);
		if (n <= 0)
			break;
		got += n;
	}
	pthread_join(th, &sent);
	EXPECT_EQ(XFER_LEN, (unsigned long)(long)sent);
	ASSERT_EQ(XFER_LEN, got) TH_LOG("recv: %s", strerror(errno));
	segs_after = node_stat(self, NODE1, "OutSegs");
	fprintf(stderr, "# %ld segments for %lu bytes\n",
		segs_after - segs_before, XFER_LEN);
	EXPECT_LE((long)(XFER_LEN / 500), segs_after - segs_before);
	free(buf);
	close(afd);
	close(cfd);

	/* Above the path's MSS: the path's. */
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, set_int(cfd, SOL_MIGTCP, MIGTCP_MAXSEG, 65535));
	connect_pair(_metadata, self, &cfd, &afd);
	GET_INFO(cfd, &info);
	EXPECT_EQ(VETH_MSS, info.snd_mss);
	EXPECT_EQ((int)VETH_MSS, GET_MIG(cfd, MIGTCP_MAXSEG));
	close(afd);
	close(cfd);
}

/*
 * MIGTCP_KEEPIDLE and MIGTCP_KEEPINTVL take 1..32767 seconds,
 * MIGTCP_KEEPCNT 1..127 probes, MIGTCP_USER_TIMEOUT any ms >= 0; other
 * values are EINVAL and change nothing.
 */
TEST_F(cluster, keepalive_and_user_timeout_ranges)
{
	static const struct {
		const char *name;
		int opt;
		int good[4];
		int bad[5];
	} r[] = {
		{ "MIGTCP_KEEPIDLE", MIGTCP_KEEPIDLE,
		  { 1, 60, 32767, 7200 }, { 0, -1, 32768, INT_MAX, INT_MIN } },
		{ "MIGTCP_KEEPINTVL", MIGTCP_KEEPINTVL,
		  { 1, 60, 32767, 75 }, { 0, -1, 32768, INT_MAX, INT_MIN } },
		{ "MIGTCP_KEEPCNT", MIGTCP_KEEPCNT,
		  { 1, 50, 127, 9 }, { 0, -1, 128, INT_MAX, INT_MIN } },
		{ "MIGTCP_USER_TIMEOUT", MIGTCP_USER_TIMEOUT,
		  { 1, 1500, INT_MAX, 0 }, { -1, -1000, INT_MIN, -1, -1 } },
	};
	int fd, cfd, afd, s, i;
	unsigned int k, j;

	fd = node1_socket(_metadata, self);
	ASSERT_LE(0, fd);
	CONNECT_PAIR(&cfd, &afd);
	for (i = 0; i < 2; i++) {
		s = i ? cfd : fd;
		for (k = 0; k < sizeof(r) / sizeof(r[0]); k++) {
			for (j = 0; j < 4; j++) {
				EXPECT_EQ(0, set_int(s, SOL_MIGTCP, r[k].opt,
						     r[k].good[j]))
					TH_LOG("%s = %d: %s", r[k].name,
					       r[k].good[j], strerror(errno));
				EXPECT_EQ(r[k].good[j], GET_MIG(s, r[k].opt))
					TH_LOG("%s after setting %d", r[k].name,
					       r[k].good[j]);
			}
			/* The last good value is the default: keep it. */
			for (j = 0; j < 5; j++) {
				errno = 0;
				EXPECT_EQ(-1, set_int(s, SOL_MIGTCP, r[k].opt,
						      r[k].bad[j]))
					TH_LOG("%s = %d accepted", r[k].name,
					       r[k].bad[j]);
				EXPECT_EQ(EINVAL, errno)
					TH_LOG("%s = %d: %s, expected EINVAL",
					       r[k].name, r[k].bad[j],
					       errname(errno));
				EXPECT_EQ(r[k].good[3], GET_MIG(s, r[k].opt))
					TH_LOG("%s after %d", r[k].name,
					       r[k].bad[j]);
			}
		}
	}
	close(afd);
	close(cfd);
	close(fd);
}

/* Blocking read in a thread, timed. */
struct timed_read {
	pthread_t thread;
	int fd;
	long start;
	ssize_t ret;
	int err;
	long ms;
};

static void *timed_read_main(void *arg)
{
	struct timed_read *t = arg;
	char c;

	t->ret = read(t->fd, &c, 1);
	t->err = errno;
	t->ms = now_ms() - t->start;
	return NULL;
}

/*
 * Keepalive idle 1 s, interval 1 s, 2 probes, with SO_KEEPALIVE set
 * before or after them.  The idle time goes last: on a connection idle
 * for more than 1 s already (a slow setup), setting it with SO_KEEPALIVE
 * on sends the first probe at once, as TCP_KEEPIDLE does, and the next
 * one would wait for the interval in force then (75 s by default).
 */
static int set_keepalive(int fd, bool so_keepalive_first, bool so_keepalive)
{
	if (so_keepalive_first && so_keepalive &&
	    set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1))
		return -1;
	if (set_int(fd, SOL_MIGTCP, MIGTCP_KEEPINTVL, 1) ||
	    set_int(fd, SOL_MIGTCP, MIGTCP_KEEPCNT, 2) ||
	    set_int(fd, SOL_MIGTCP, MIGTCP_KEEPIDLE, 1))
		return -1;
	if (!so_keepalive_first && so_keepalive &&
	    set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1))
		return -1;
	return 0;
}

/*
 * Keepalive (idle 1 s, interval 1 s, 2 probes) on an idle connection
 * whose peer stops answering: after idle + 2 x interval (less the idle
 * time already spent) the connection fails with ETIMEDOUT, reported by
 * SO_ERROR and by a blocking read, having sent exactly 2 probes; whether
 * SO_KEEPALIVE is set before or after the MIGTCP_KEEP* options.  A
 * connection with the same options but without SO_KEEPALIVE lives on.
 *
 * The probes are counted (node 2 still receives them), which pins the
 * count to 2 whatever the machine's speed; the time bounds are those of
 * the timers: at least 2 intervals (less a jiffy each: a timer of 1 s
 * fires on a tick), and far less than the defaults (9 probes, 75 s
 * apart, after 2 h) would take.
 */
#define KEEPALIVE_MIN_MS	(2 * 1000 - 2 * 20)
#define KEEPALIVE_MAX_MS	20000
TEST_F_TIMEOUT(cluster, keepalive_silent_peer_times_out, 90)
{
	struct timed_read tr = { 0 };
	struct migtcp_info info;
	int c[3], a[3], revents, i;
	long start, took, in2_before, in2_after;

	for (i = 0; i < 3; i++)
		CONNECT_PAIR(&c[i], &a[i]);
	/* Node 2 goes silent (its end still receives). */
	add_netem(_metadata, self, NODE2, "loss 100%");
	in2_before = node_stat(self, NODE2, "InSegs");
	ASSERT_LE(0, in2_before);

	start = now_ms();
	ASSERT_EQ(0, set_keepalive(c[0], true, true)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, set_keepalive(c[1], false, true)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, set_keepalive(c[2], false, false)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, set_timeouts(c[1], KEEPALIVE_MAX_MS / 1000 + 10));
	tr.fd = c[1];
	tr.start = start;
	ASSERT_EQ(0, pthread_create(&tr.thread, NULL, timed_read_main, &tr));

	revents = poll_one(c[0], POLLIN, KEEPALIVE_MAX_MS + 5000);
	took = now_ms() - start;
	pthread_join(tr.thread, NULL);
	in2_after = node_stat(self, NODE2, "InSegs");
	fprintf(stderr, "# poll: revents %#x after %ld ms; read: %zd (%s) after %ld ms\n",
		revents, took, tr.ret, errname(tr.ret < 0 ? tr.err : 0), tr.ms);
	/* 2 probes from each of the two sockets, nothing else. */
	EXPECT_EQ(4, in2_after - in2_before)
		TH_LOG("node 2 received %ld segments", in2_after - in2_before);

	/* SO_KEEPALIVE first, then the options. */
	EXPECT_EQ(POLLERR, revents & POLLERR)
		TH_LOG("no error after %ld ms", took);
	EXPECT_LE(KEEPALIVE_MIN_MS, took);
	EXPECT_GE(KEEPALIVE_MAX_MS, took);
	EXPECT_EQ(ETIMEDOUT, so_error(c[0])) TH_LOG("SO_ERROR %s",
						   errname(so_error(c[0])));
	GET_INFO(c[0], &info);
	EXPECT_EQ(ST_CLOSE, info.state);

	/* The options first, then SO_KEEPALIVE; a blocking read sees it. */
	EXPECT_EQ(-1, tr.ret);
	EXPECT_EQ(ETIMEDOUT, tr.err) TH_LOG("read: %s", errname(tr.err));
	EXPECT_LE(KEEPALIVE_MIN_MS, tr.ms);
	EXPECT_GE(KEEPALIVE_MAX_MS, tr.ms);
	GET_INFO(c[1], &info);
	EXPECT_EQ(ST_CLOSE, info.state);

	/* No SO_KEEPALIVE, no probes, no timeout. */
	EXPECT_EQ(0, poll_one(c[2], POLLIN, 0));
	EXPECT_EQ(0, so_error(c[2]));
	GET_INFO(c[2], &info);
	EXPECT_EQ(ST_ESTABLISHED, info.state);

	for (i = 0; i < 3; i++) {
		close(a[i]);
		close(c[i]);
	}
}

/*
 * Keepalive with an answering peer: probes go out (node 2 receives
 * segments on an idle connection), the connection stays ESTABLISHED for
 * 4 s, and data still flows both ways afterwards.
 */
TEST_F_TIMEOUT(cluster, keepalive_answering_peer_stays, 60)
{
	struct migtcp_info info;
	long in2_before, in2_after, out2_before, out2_after;
	long in1_before, in1_after;
	char buf[16];
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	sleep_ms(100);
	in1_before = node_stat(self, NODE1, "InSegs");
	in2_before = node_stat(self, NODE2, "InSegs");
	out2_before = node_stat(self, NODE2, "OutSegs");
	ASSERT_LE(0, in2_before);
	ON_NODE(NODE1);
	ASSERT_EQ(0, set_keepalive(cfd, true, true)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(1, GET_SOL(cfd, SO_KEEPALIVE));
	sleep_ms(4000);
	in1_after = node_stat(self, NODE1, "InSegs");
	in2_after = node_stat(self, NODE2, "InSegs");
	out2_after = node_stat(self, NODE2, "OutSegs");
	fprintf(stderr, "# in 4 s of idleness: node 2 received %ld segments and "
		"sent %ld, node 1 received %ld\n", in2_after - in2_before,
		out2_after - out2_before, in1_after - in1_before);
	EXPECT_LE(2, in2_after - in2_before) TH_LOG("no keepalive probes seen");
	EXPECT_LE(2, in1_after - in1_before) TH_LOG("the probes were not answered");

	EXPECT_EQ(0, poll_one(cfd, POLLIN, 0));
	EXPECT_EQ(0, so_error(cfd));
	GET_INFO(cfd, &info);
	EXPECT_EQ(ST_ESTABLISHED, info.state);
	GET_INFO(afd, &info);
	EXPECT_EQ(ST_ESTABLISHED, info.state);

	ASSERT_EQ(4, send(cfd, "ping", 4, MSG_NOSIGNAL));
	ASSERT_EQ(4, recv(afd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "ping", 4));
	ASSERT_EQ(4, send(afd, "pong", 4, MSG_NOSIGNAL));
	ASSERT_EQ(4, recv(cfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "pong", 4));
	close(afd);
	close(cfd);
}

/*
 * MIGTCP_USER_TIMEOUT 1500 ms with unacknowledged data and a silent
 * peer: the connection fails with ETIMEDOUT after 1.5 s, to the tick,
 * not at the first retransmission timeout after it.  The same connection
 * without it keeps retransmitting meanwhile.
 *
 * With a retransmission timeout of R, the timer fires R, 3R, 7R...
 * after the send: those before 1.5 s resend the data, and the one the
 * clamp moves to 1.5 s gives up; without the clamp, the first past 1.5 s
 * (3 s for the usual 200 ms) would resend it once more.  So the clamp is
 * judged by the retransmissions, computed from the connection's own RTO:
 * a slow wake-up or a late timer can leave one out, never add one.
 */
TEST_F_TIMEOUT(cluster, user_timeout_gives_up_on_unacked_data, 60)
{
	struct migtcp_info info;
	int c[2], a[2], revents, i;
	long start, took, rto_ms, unclamped_ms;
	unsigned int timeouts;
	char data[1000];
	__u32 retrans;

	for (i = 0; i < 2; i++)
		CONNECT_PAIR(&c[i], &a[i]);
	ASSERT_EQ(0, set_int(c[0], SOL_MIGTCP, MIGTCP_USER_TIMEOUT, 1500));
	EXPECT_EQ(1500, GET_MIG(c[0], MIGTCP_USER_TIMEOUT));
	add_netem(_metadata, self, NODE2, "loss 100%");
	GET_INFO(c[0], &info);
	rto_ms = info.rto_us / 1000;
	ASSERT_LE(200, rto_ms);
	timeouts = rto_fires_before(rto_ms, 1500, &unclamped_ms);
	retrans = info.total_retrans;

	memset(data, 'u', sizeof(data));
	start = now_ms();
	ASSERT_EQ((ssize_t)sizeof(data), send(c[0], data, sizeof(data), MSG_NOSIGNAL));
	ASSERT_EQ((ssize_t)sizeof(data), send(c[1], data, sizeof(data), MSG_NOSIGNAL));
	revents = poll_one(c[0], POLLIN, unclamped_ms + 10000);
	took = now_ms() - start;
	fprintf(stderr, "# revents %#x after %ld ms (RTO %ld ms, unclamped %ld ms)\n",
		revents, took, rto_ms, unclamped_ms);
	EXPECT_EQ(POLLERR, revents & POLLERR) TH_LOG("no error after %ld ms", took);
	EXPECT_LE(1450, took);
	EXPECT_EQ(ETIMEDOUT, so_error(c[0]));
	GET_INFO(c[0], &info);
	EXPECT_EQ(ST_CLOSE, info.state);
	/* At 1.5 s, not the next backoff. */
	EXPECT_GE(timeouts, info.total_retrans - retrans)
		TH_LOG("%u retransmissions, %u fit in 1.5 s with an RTO of %ld ms",
		       info.total_retrans - retrans, timeouts, rto_ms);

	/* Without a user timeout: still trying. */
	EXPECT_EQ(0, poll_one(c[1], POLLIN, 0));
	EXPECT_EQ(0, so_error(c[1]));
	GET_INFO(c[1], &info);
	log_info("no user timeout", &info);
	EXPECT_EQ(ST_ESTABLISHED, info.state);
	EXPECT_EQ(sizeof(data), info.unacked);
	EXPECT_LE(1, info.retransmits);
	EXPECT_LE(1U, info.total_retrans);
	for (i = 0; i < 2; i++) {
		close(a[i]);
		close(c[i]);
	}
}

/*
 * MIGTCP_INFO of a fresh socket and of both ends of a connection; its
 * length: a longer buffer gets the structure, a shorter one its first
 * bytes, a negative length EINVAL.
 */
TEST_F(cluster, info_fresh_and_connected)
{
	unsigned char buf[sizeof(struct migtcp_info) + 16];
	struct migtcp_info info;
	socklen_t len;
	unsigned int k;
	int fd, cfd, afd, s, i;

	fd = node1_socket(_metadata, self);
	ASSERT_LE(0, fd);
	GET_INFO(fd, &info);
	EXPECT_EQ(ST_CLOSE, info.state);
	EXPECT_EQ(0U, info.unacked);
	EXPECT_EQ(0ULL, info.bytes_sent);
	EXPECT_EQ(0ULL, info.bytes_acked);
	EXPECT_EQ(0ULL, info.bytes_received);

	CONNECT_PAIR(&cfd, &afd);
	for (i = 0; i < 2; i++) {
		s = i ? afd : cfd;
		GET_INFO(s, &info);
		log_info(i ? "accepted" : "connecting", &info);
		EXPECT_EQ(ST_ESTABLISHED, info.state);
		EXPECT_EQ(VETH_MSS, info.snd_mss);
		EXPECT_LE(200000U, info.rto_us);
		EXPECT_LE(1U, info.snd_cwnd);
		EXPECT_EQ(0U, info.unacked);
		EXPECT_EQ(0, info.retransmits);
		EXPECT_EQ(0ULL, info.bytes_sent);
		EXPECT_EQ(0ULL, info.bytes_received);
	}

	/* Longer: the structure, its length written back. */
	memset(buf, 0xee, sizeof(buf));
	len = sizeof(buf);
	ASSERT_EQ(0, getsockopt(cfd, SOL_MIGTCP, MIGTCP_INFO, buf, &len));
	EXPECT_EQ(sizeof(struct migtcp_info), len);
	EXPECT_EQ(ST_ESTABLISHED, buf[0]);
	for (k = sizeof(struct migtcp_info); k < sizeof(buf); k++) {
		ASSERT_EQ(0xee, buf[k]) TH_LOG("byte %u written", k);
	}

	/* Shorter: 4 bytes, state first. */
	memset(buf, 0xee, sizeof(buf));
	len = 4;
	ASSERT_EQ(0, getsockopt(cfd, SOL_MIGTCP, MIGTCP_INFO, buf, &len));
	EXPECT_EQ(4U, len);
	EXPECT_EQ(ST_ESTABLISHED, buf[0]);
	for (k = 4; k < sizeof(buf); k++) {
		ASSERT_EQ(0xee, buf[k]) TH_LOG("byte %u written", k);
	}

	/* Zero: nothing. */
	memset(buf, 0xee, sizeof(buf));
	len = 0;
	ASSERT_EQ(0, getsockopt(cfd, SOL_MIGTCP, MIGTCP_INFO, buf, &len));
	EXPECT_EQ(0U, len);
	EXPECT_EQ(0xee, buf[0]);

	len = (socklen_t)-1;
	ASSERT_FAILS_WITH(EINVAL, getsockopt(cfd, SOL_MIGTCP, MIGTCP_INFO,
					     buf, &len));
	close(afd);
	close(cfd);
	close(fd);
}

/*
 * MIGTCP_INFO's counters after node 1 sent 100000 bytes and node 2 read
 * them all: sent >= 100000, all of them acknowledged, nothing in flight,
 * node 2 received exactly 100000 and sent nothing.
 */
TEST_F_TIMEOUT(cluster, info_counters_after_transfer, 60)
{
	struct migtcp_info info;
	pthread_t th;
	void *sent;
	uint8_t buf[16384];
	size_t got = 0;
	long deadline;
	ssize_t n;
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, set_timeouts(cfd, 20));
	ASSERT_EQ(0, set_timeouts(afd, 20));
	ASSERT_EQ(0, pthread_create(&th, NULL, send_all_main, &cfd));
	while (got < XFER_LEN) {
		n = recv(afd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		got += n;
	}
	pthread_join(th, &sent);
	ASSERT_EQ(XFER_LEN, (unsigned long)(long)sent);
	ASSERT_EQ(XFER_LEN, got) TH_LOG("recv: %s", strerror(errno));

	deadline = now_ms() + WAIT_MS;
	do {
		GET_INFO(cfd, &info);
		if (info.bytes_acked >= XFER_LEN)
			break;
		sleep_ms(10);
	} while (now_ms() < deadline);
	log_info("sender", &info);
	EXPECT_EQ(ST_ESTABLISHED, info.state);
	EXPECT_LE(XFER_LEN, info.bytes_sent);
	EXPECT_EQ(XFER_LEN, info.bytes_acked);
	EXPECT_EQ(0U, info.unacked);
	EXPECT_EQ(0ULL, info.bytes_received);

	GET_INFO(afd, &info);
	log_info("receiver", &info);
	EXPECT_EQ(ST_ESTABLISHED, info.state);
	EXPECT_EQ(XFER_LEN, info.bytes_received);
	EXPECT_EQ(0ULL, info.bytes_sent);
	EXPECT_EQ(0ULL, info.bytes_acked);
	EXPECT_EQ(0U, info.unacked);
	close(afd);
	close(cfd);
}

/*
 * SOL_SOCKET options on AF_MIGTCP sockets: SO_KEEPALIVE is a flag,
 * SO_SNDBUF and SO_RCVBUF read back doubled, as the core keeps them.
 */
TEST_F(cluster, sol_socket_options)
{
	int fd, cfd, afd, s, i;

	fd = node1_socket(_metadata, self);
	ASSERT_LE(0, fd);
	CONNECT_PAIR(&cfd, &afd);
	for (i = 0; i < 2; i++) {
		s = i ? cfd : fd;
		EXPECT_EQ(0, GET_SOL(s, SO_KEEPALIVE));
		EXPECT_EQ(0, set_int(s, SOL_SOCKET, SO_KEEPALIVE, 1))
			TH_LOG("SO_KEEPALIVE: %s", strerror(errno));
		EXPECT_EQ(1, GET_SOL(s, SO_KEEPALIVE));
		EXPECT_EQ(0, set_int(s, SOL_SOCKET, SO_KEEPALIVE, 0));
		EXPECT_EQ(0, GET_SOL(s, SO_KEEPALIVE));

		EXPECT_EQ(0, set_int(s, SOL_SOCKET, SO_SNDBUF, 65536))
			TH_LOG("SO_SNDBUF: %s", strerror(errno));
		EXPECT_EQ(131072, GET_SOL(s, SO_SNDBUF));
		EXPECT_EQ(0, set_int(s, SOL_SOCKET, SO_RCVBUF, 65536))
			TH_LOG("SO_RCVBUF: %s", strerror(errno));
		EXPECT_EQ(131072, GET_SOL(s, SO_RCVBUF));
	}
	/* Data still flows with the smaller buffers. */
	{
		char buf[8];

		ASSERT_EQ(3, send(cfd, "abc", 3, MSG_NOSIGNAL));
		ASSERT_EQ(3, recv(afd, buf, sizeof(buf), 0));
		EXPECT_EQ(0, memcmp(buf, "abc", 3));
	}
	close(afd);
	close(cfd);
	close(fd);
}

/* MIGTCP_CONGESTION's name, as TCP_CONGESTION reads back; "" on error. */
static const char *get_cong(int fd, char buf[MIGTCP_CA_NAME_MAX])
{
	socklen_t len = MIGTCP_CA_NAME_MAX;

	memset(buf, 0, MIGTCP_CA_NAME_MAX);
	if (getsockopt(fd, SOL_MIGTCP, MIGTCP_CONGESTION, buf, &len) ||
	    len != MIGTCP_CA_NAME_MAX)
		buf[0] = 0;
	return buf;
}

static int set_cong(int fd, const char *name, socklen_t len)
{
	return setsockopt(fd, SOL_MIGTCP, MIGTCP_CONGESTION, name, len);
}

static int cong_param(const char *write, char *read, size_t size)
{
	const char *path = "/sys/module/migtcp/parameters/congestion";
	FILE *f = fopen(path, write ? "w" : "r");
	int ok;

	if (!f)
		return -1;
	if (write)
		ok = fputs(write, f) >= 0;
	else
		ok = fgets(read, size, f) != NULL;
	if (fclose(f))
		return -1;
	if (read && ok)
		read[strcspn(read, "\n")] = 0;
	return ok ? 0 : -1;
}

/*
 * SO_RCVBUF at its minimum is smaller than the buffer of one full
 * segment: the receiver must still take the next in-order segment when
 * its receive queue is empty, as Linux TCP does (tcp_data_queue()), or
 * it drops every segment the peer sends and the stream stalls for good.
 * Found by nlfuzz_test, on a connection whose SO_RCVBUF it had set to 0.
 */
TEST_F_TIMEOUT(cluster, rcvbuf_minimum_still_receives, 60)
{
	const size_t len = 8000;
	__u8 out[8000], in[8000], want;
	int c, a, zero = 0;
	size_t got = 0;
	long end;

	CONNECT_PAIR(&c, &a);
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_RCVBUF, &zero, sizeof(zero)));
	pattern_fill(out, len, 31, 0);
	ASSERT_EQ((ssize_t)len, send(a, out, len, 0));
	end = now_ms() + 20000;
	while (got < len && now_ms() < end) {
		ssize_t n;

		if (poll_one(c, POLLIN, 500) != POLLIN)
			continue;
		n = recv(c, in + got, len - got, MSG_DONTWAIT);
		if (n <= 0)
			break;
		got += n;
	}
	EXPECT_EQ(len, got) TH_LOG("received %zu of %zu bytes (RcvbufDrops %ld)",
				   got, len, node_stat(self, NODE1, "RcvbufDrops"));
	EXPECT_EQ(-1, pattern_check(in, got, 31, 0, &want));
	close(c);
	close(a);
}

/*
 * MIGTCP_CONGESTION as TCP_CONGESTION: reads back the algorithm ("cubic"
 * by default), takes "reno" or "cubic", a name with or without its NUL,
 * ENOENT for any other name (and changes nothing); a short buffer gets
 * the first bytes.
 */
TEST_F(cluster, congestion_option)
{
	char buf[MIGTCP_CA_NAME_MAX];
	socklen_t len = 3;
	int fd;

	ON_NODE(NODE1);
	fd = mig_socket(self->family, 0);
	ASSERT_LE(0, fd);
	EXPECT_STREQ("cubic", get_cong(fd, buf));
	EXPECT_EQ(0, set_cong(fd, "reno", 4));
	EXPECT_STREQ("reno", get_cong(fd, buf));
	EXPECT_EQ(0, set_cong(fd, "cubic", 6));
	EXPECT_STREQ("cubic", get_cong(fd, buf));
	EXPECT_EQ(-1, set_cong(fd, "vegas", 6));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, set_cong(fd, "ren", 3));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, set_cong(fd, "", 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_STREQ("cubic", get_cong(fd, buf));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(0, getsockopt(fd, SOL_MIGTCP, MIGTCP_CONGESTION, buf, &len));
	EXPECT_EQ(3U, len);
	EXPECT_EQ(0, memcmp(buf, "cub", 3));
	close(fd);
}

/*
 * The module parameter names the algorithm of new sockets, refuses an
 * unknown one, and a listener's choice passes to what it accepts.
 */
TEST_F(cluster, congestion_default_and_inheritance)
{
	char buf[MIGTCP_CA_NAME_MAX], old[32];
	int lfd, cfd, afd;

	ASSERT_EQ(0, cong_param(NULL, old, sizeof(old)));
	EXPECT_STREQ("cubic", old);
	EXPECT_EQ(-1, cong_param("vegas", NULL, 0));
	ASSERT_EQ(0, cong_param("reno", NULL, 0));
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	EXPECT_STREQ("reno", get_cong(cfd, buf));
	ASSERT_EQ(0, cong_param(old, NULL, 0));
	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT + 2, 4);
	ASSERT_LE(0, lfd);
	EXPECT_STREQ("cubic", get_cong(lfd, buf));
	ASSERT_EQ(0, set_cong(lfd, "reno", 4));
	ON_NODE(NODE1);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT + 2));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	EXPECT_STREQ("reno", get_cong(afd, buf));
	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * Each algorithm recovers from loss and delivers every byte.  Both
 * connections are made before the loss is added: a handshake through
 * 10% loss takes 1 s more per SYN or SYN-ACK lost (the SYN timer doubles
 * from 1 s), longer than any fixed wait a test could choose.  netem's
 * random loss may spare a whole transfer (6 MiB leave in about a hundred
 * GSO packets: 0.9^96, one run in 25000), so every 32nd packet of data
 * node 1 sends is dropped as well: each transfer loses at least 3.
 */
TEST_F_TIMEOUT(cluster, congestion_algorithms_through_loss, 360)
{
	static const char *const algos[] = { "reno", "cubic" };
	struct migtcp_info info;
	int cfd[2], afd[2];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(algos); i++) {
		CONNECT_PAIR(&cfd[i], &afd[i]);
		ASSERT_EQ(0, set_cong(cfd[i], algos[i], strlen(algos[i])));
	}
	add_netem(_metadata, self, NODE1, "delay 2ms loss 10%");
	add_determ_loss(_metadata, self, NODE1, 32);
	for (i = 0; i < ARRAY_SIZE(algos); i++) {
		TRANSFER(cfd[i], afd[i], 6 * MiB, 0, 64 * KiB);
		GET_INFO(cfd[i], &info);
		fprintf(stderr, "# %s: cwnd %u, %u retransmissions\n", algos[i],
			info.snd_cwnd, info.total_retrans);
		EXPECT_LT(0U, info.total_retrans);
		close(afd[i]);
		close(cfd[i]);
	}
	netem_dropped(self, NODE1);
}

TEST_HARNESS_MAIN
