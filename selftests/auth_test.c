// SPDX-License-Identifier: GPL-2.0
/*
 * Node identities are proven, not claimed (docs/protocol.md, "Security"
 * and "Handshake MAC"), on the two-node cluster of cluster.h plus a third
 * network namespace, "the stranger", joined to node 2 by its own veth
 * pair on 192.0.2.0/24 (node 2 at 192.0.2.2):
 *
 *  - a stranger that is no member (its address is not in node 2's peer
 *    table), under an id of its own or under node 1's, and a member
 *    (node 3 of node 2's table, at its address) claiming node 1's id:
 *    connect() fails with ECONNREFUSED, nothing reaches accept(), and
 *    InSynBadSource says why; without a cluster key and with one (the
 *    member then holds the right key);
 *  - a member at its address under its own id, with the cluster key:
 *    connects; with no key or a wrong one: ECONNREFUSED, InHsBadMac on
 *    its side, nothing accepted; nodes 1 and 2 with different keys, or
 *    a key on one of them only: the same;
 *  - with the right key, data crosses byte for byte both ways;
 *  - a raw client (node 3, at its address) that completes the handshake
 *    without the handshake MAC (InHsNoMac: dropped, the SYN-ACK comes
 *    again) or with a wrong one (InHsBadMac: reset) is never accepted;
 *    the MAC the listener sends, and the one it takes, are the
 *    protocol's formula;
 *  - the connecting side (node 1, to a raw node 3): a SYN-ACK without the
 *    MAC, with a wrong one, or from another address does not establish
 *    the connection; a good one does, and node 1's ACK carries its MAC,
 *    again when the SYN-ACK is repeated, and no more once node 3 answered
 *    without SYN; a checkpoint taken meanwhile carries the pending MAC.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/wait.h>

/*
 * The 6.1 harness's TEST() wrappers and timeout handler have parameters
 * they do not use; -Wextra would reject every test this file defines.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"
#include "hsmac.h"

#define NODE3_ADDR	"198.51.100.99"	/* node 3 of node 1's peer table */
#define NODE3		NODE_BLACKHOLE

#define LINK2_ADDR	"192.0.2.2"	/* node 2 on the stranger's link */
#define MEMBER_ADDR	"192.0.2.3"	/* node 3 of node 2's table there */
#define STRANGER_ADDR	"192.0.2.9"	/* in nobody's table */
#define STRANGER_ID	9U

#define AUTH_PORT	7300		/* node 2's listener */
#define RAW_PORT	7400		/* where the raw node 3 "listens" */
#define RAW_SRC_PORT	41000

#define HALF_LEN	MIGTCP_KX_HALF_LEN
#define KEY_A		0x5c		/* the cluster key: 32 bytes of it */
#define KEY_B		0x66		/* a wrong one */

/* Writes a key file of 32 bytes all @byte; returns its name. */
static const char *key_file(__u8 byte)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/auth_test.%d.%02x.key", getpid(),
		 byte);
	return migtcp_test_key_file(path, byte) ? NULL : path;
}

/* Sets the cluster key of the caller's node to 32 bytes all @byte. */
static int set_key_here(__u8 byte)
{
	const char *path = key_file(byte);
	int ret;

	if (!path)
		return -1;
	ret = migtcp_test_ctl("node set key-file %s", path);
	unlink(path);
	return ret;
}

#define SET_KEY(node, byte) do {					\
	ON_NODE(node);							\
	ASSERT_EQ(0, set_key_here(byte))				\
		TH_LOG("cannot set the key of node %u", (node));	\
} while (0)

static void fill_key(__u8 *key, __u8 byte)
{
	memset(key, byte, MIGTCP_KEY_LEN);
}

/*
 * A new network namespace joined to node 2 by a veth pair, at @addr,
 * whose module is node @id with node 2 (at LINK2_ADDR) as its peer, and
 * the cluster key @key_byte (0: none).  With @member, node 2's table
 * knows it as node 3 at @addr.  Returns its namespace's descriptor; the
 * caller is in it.
 */
static int stranger(struct __test_metadata *_metadata, CLUSTER *self,
		    const char *addr, __u32 id, bool member, __u8 key_byte)
{
	int ns;

	ON_NODE(NODE2);
	if (sh("ip link show st2 >/dev/null 2>&1") != 0) {
		if (sh("ip link add st2 type veth peer name st0") ||
		    sh("ip addr add %s/24 dev st2 && ip link set st2 up",
		       LINK2_ADDR))
			return -1;
	}
	if (member && migtcp_test_ctl("peer add %u addr %s", NODE3, addr))
		return -1;
	if (migtcp_test_new_netns())
		return -1;
	ns = open_own_netns();
	if (ns < 0)
		return -1;
	ON_NODE(NODE2);
	if (sh("ip link set st0 netns /proc/%d/fd/%d", getpid(), ns))
		goto fail;
	if (setns(ns, CLONE_NEWNET))
		goto fail;
	if (sh("ip addr add %s/24 dev st0 && ip link set st0 up", addr) ||
	    migtcp_test_ctl("node set id %u addr %s", id, addr) ||
	    migtcp_test_ctl("peer add %u addr %s", NODE2, LINK2_ADDR) ||
	    (key_byte && set_key_here(key_byte)))
		goto fail;
	return ns;
fail:
	close(ns);
	return -1;
}

/* Node 2's listener on AUTH_PORT, non-blocking (accept() must fail). */
static int auth_listener(struct __test_metadata *_metadata, CLUSTER *self)
{
	int lfd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, AUTH_PORT, 8);
	if (lfd >= 0 && fcntl(lfd, F_SETFL, O_NONBLOCK)) {
		close(lfd);
		return -1;
	}
	return lfd;
}

/*
 * From namespace @ns, connect() to node 2's listener @lfd must fail with
 * ECONNREFUSED; then node 2's counter @why has grown by one, and nothing
 * waits on the listener.
 */
static void expect_refused(struct __test_metadata *_metadata, CLUSTER *self,
			   int ns, int lfd, const char *why)
{
	long before = node_stat(self, NODE2, why);
	int fd;

	ASSERT_LE(0, before);
	ASSERT_EQ(0, setns(ns, CLONE_NEWNET));
	fd = mig_socket(self->family, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_timeouts(fd, GUARD_SEC));
	EXPECT_EQ(-1, connect_to(fd, self->family, NODE2, AUTH_PORT))
		TH_LOG("connect() succeeded");
	EXPECT_EQ(ECONNREFUSED, errno) TH_LOG("connect(): %s", errname(errno));
	close(fd);
	EXPECT_EQ(before + 1, wait_node_stat(self, NODE2, why, before + 1,
					     WAIT_MS))
		TH_LOG("node 2 did not count %s", why);
	/* Anything the SYN made would be on the listener by now. */
	sleep_ms(200);
	ON_NODE(NODE2);
	ASSERT_FAILS_WITH(EAGAIN, accept(lfd, NULL, NULL));
}

/*
 * A stranger at @addr under @id (a member of node 2's table as node 3
 * with @member) is refused by address, with the cluster key @key (0:
 * none) on nodes 1 and 2 and @stranger_key on the stranger.
 */
static void refused_by_source(struct __test_metadata *_metadata,
			      CLUSTER *self, const char *addr, __u32 id,
			      bool member, __u8 key, __u8 stranger_key)
{
	int ns, lfd;

	if (key) {
		SET_KEY(NODE1, key);
		SET_KEY(NODE2, key);
	}
	lfd = auth_listener(_metadata, self);
	ASSERT_LE(0, lfd);
	ns = stranger(_metadata, self, addr, id, member, stranger_key);
	ASSERT_LE(0, ns) TH_LOG("cannot build the stranger's namespace");
	expect_refused(_metadata, self, ns, lfd, "InSynBadSource");
	EXPECT_EQ(0, node_stat(self, NODE2, "InHsBadMac"));
	close(ns);
	close(lfd);
}

/* Not in node 2's peer table, under an id of its own. */
TEST_F(cluster, non_member_refused)
{
	refused_by_source(_metadata, self, STRANGER_ADDR, STRANGER_ID, false,
			  0, 0);
}

TEST_F(cluster, non_member_refused_with_key)
{
	refused_by_source(_metadata, self, STRANGER_ADDR, STRANGER_ID, false,
			  KEY_A, 0);
}

/* Not in node 2's peer table, under node 1's id. */
TEST_F(cluster, non_member_as_node1_refused)
{
	refused_by_source(_metadata, self, STRANGER_ADDR, NODE1, false, 0, 0);
}

TEST_F(cluster, non_member_as_node1_refused_with_key)
{
	refused_by_source(_metadata, self, STRANGER_ADDR, NODE1, false, KEY_A,
			  KEY_B);
}

/* Node 3 of node 2's table, at its address, claiming node 1's id. */
TEST_F(cluster, member_as_node1_refused)
{
	refused_by_source(_metadata, self, MEMBER_ADDR, NODE1, true, 0, 0);
}

/* The same member holds the right key: the key does not let it lie. */
TEST_F(cluster, member_as_node1_refused_with_key)
{
	refused_by_source(_metadata, self, MEMBER_ADDR, NODE1, true, KEY_A,
			  KEY_A);
}

/*
 * Node 3 under its own id, with cluster key @key_byte (0: none) while
 * node 2 has KEY_A: connects with KEY_A; otherwise connect() fails with
 * ECONNREFUSED, node 3 counts the listener's MAC in InHsBadMac, and node
 * 2 accepts nothing.
 */
static void member_with_key(struct __test_metadata *_metadata, CLUSTER *self,
			    __u8 key_byte)
{
	char buf[4] = "";
	int ns, lfd, fd, afd, ret;
	long bad, src;

	SET_KEY(NODE2, KEY_A);
	lfd = auth_listener(_metadata, self);
	ASSERT_LE(0, lfd);
	src = node_stat(self, NODE2, "InSynBadSource");
	ns = stranger(_metadata, self, MEMBER_ADDR, NODE3, true, key_byte);
	ASSERT_LE(0, ns);
	bad = stat_here("InHsBadMac");
	fd = mig_socket(self->family, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_timeouts(fd, GUARD_SEC));
	ret = connect_to(fd, self->family, NODE2, AUTH_PORT);
	if (key_byte == KEY_A) {
		ASSERT_EQ(0, ret) TH_LOG("connect(): %s", strerror(errno));
		ON_NODE(NODE2);
		afd = accept_waiting(_metadata, lfd);
		ASSERT_LE(0, afd);
		ASSERT_EQ(4, send(fd, "ping", 4, MSG_NOSIGNAL));
		ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
		ASSERT_EQ(4, recv(afd, buf, 4, MSG_WAITALL));
		EXPECT_EQ(0, memcmp(buf, "ping", 4));
		close(afd);
		ASSERT_EQ(0, setns(ns, CLONE_NEWNET));
		EXPECT_EQ(bad, stat_here("InHsBadMac"));
	} else {
		EXPECT_EQ(-1, ret) TH_LOG("connect() succeeded");
		EXPECT_EQ(ECONNREFUSED, errno)
			TH_LOG("connect(): %s", errname(errno));
		EXPECT_EQ(bad + 1, stat_here("InHsBadMac"));
		sleep_ms(200);
		ON_NODE(NODE2);
		ASSERT_FAILS_WITH(EAGAIN, accept(lfd, NULL, NULL));
	}
	EXPECT_EQ(src, node_stat(self, NODE2, "InSynBadSource"));
	close(fd);
	close(ns);
	close(lfd);
}

TEST_F(cluster, member_with_the_key_connects)
{
	member_with_key(_metadata, self, KEY_A);
}

TEST_F(cluster, member_with_a_wrong_key_refused)
{
	member_with_key(_metadata, self, KEY_B);
}

TEST_F(cluster, member_without_the_key_refused)
{
	member_with_key(_metadata, self, 0);
}

/*
 * A key on node 2 only, then different keys on nodes 1 and 2: never a
 * connection, node 1 says why (InHsBadMac, and first the log line naming
 * the key on one side only).
 */
TEST_F(cluster, mismatched_keys_refused)
{
	static const char one_side[] =
		"this node has no cluster key, the peer has one";
	int lfd, fd, round, logged;
	long bad;

	lfd = auth_listener(_metadata, self);
	ASSERT_LE(0, lfd);
	for (round = 0; round < 2; round++) {
		if (round == 0)
			SET_KEY(NODE2, KEY_B);
		else
			SET_KEY(NODE1, KEY_A);
		logged = migtcp_test_dmesg_count((const char *[]){ one_side },
						 1);
		bad = node_stat(self, NODE1, "InHsBadMac");
		ON_NODE(NODE1);
		fd = mig_socket(self->family, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, set_timeouts(fd, GUARD_SEC));
		EXPECT_EQ(-1, connect_to(fd, self->family, NODE2, AUTH_PORT));
		EXPECT_EQ(ECONNREFUSED, errno)
			TH_LOG("round %d: connect(): %s", round,
			       errname(errno));
		close(fd);
		EXPECT_EQ(bad + 1, node_stat(self, NODE1, "InHsBadMac"));
		if (round == 0)
			EXPECT_EQ(logged + 1, migtcp_test_dmesg_count(
				(const char *[]){ one_side }, 1))
				TH_LOG("node 1 did not log \"%s\"", one_side);
		sleep_ms(200);
		ON_NODE(NODE2);
		ASSERT_FAILS_WITH(EAGAIN, accept(lfd, NULL, NULL));
	}
	close(lfd);
}

/* The byte at offset @i of the stream that direction @dir carries. */
static __u8 pattern(long i, int dir)
{
	return (__u8)((i * 2654435761U) >> (dir ? 13 : 7));
}

/*
 * Writes @len bytes of direction @dir's pattern to @wfd from a child
 * process while this one reads them from @rfd; true if every byte came,
 * in order.
 */
static bool stream_checked(int wfd, int rfd, long len, int dir)
{
	__u8 buf[16384];
	long off = 0, i;
	int status;
	ssize_t n;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return false;
	if (!pid) {
		while (off < len) {
			long chunk = len - off < (long)sizeof(buf) ?
				     len - off : (long)sizeof(buf);

			for (i = 0; i < chunk; i++)
				buf[i] = pattern(off + i, dir);
			n = send(wfd, buf, chunk, MSG_NOSIGNAL);
			if (n <= 0)
				_exit(1);
			off += n;
		}
		_exit(0);
	}
	while (off < len) {
		n = recv(rfd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			if (buf[i] != pattern(off + i, dir))
				goto out;
		off += n;
	}
out:
	waitpid(pid, &status, 0);
	return off == len && WIFEXITED(status) && !WEXITSTATUS(status);
}

/* With the same key on both nodes, 4 MiB each way, byte for byte. */
TEST_F_TIMEOUT(cluster, right_key_data_intact, 120)
{
	const long len = 4L << 20;
	int cfd, afd;

	SET_KEY(NODE1, KEY_A);
	SET_KEY(NODE2, KEY_A);
	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, set_timeouts(cfd, 30));
	ASSERT_EQ(0, set_timeouts(afd, 30));
	EXPECT_TRUE(stream_checked(cfd, afd, len, 0));
	EXPECT_TRUE(stream_checked(afd, cfd, len, 1));
	EXPECT_EQ(0, node_stat(self, NODE1, "InHsBadMac"));
	EXPECT_EQ(0, node_stat(self, NODE2, "InHsBadMac"));
	EXPECT_EQ(0, node_stat(self, NODE2, "InHsNoMac"));
	EXPECT_EQ(0, node_stat(self, NODE2, "InSynBadSource"));
	close(cfd);
	close(afd);
}

/* ---- one side played with segments built by hand ---- */

static const struct migtcphdr *hdr(const struct raw_seg *s)
{
	return (const struct migtcphdr *)s->buf;
}

/*
 * Builds a segment from (@snode, @sport) to (@dnode, @dport) with @flags,
 * @seq, @ack; with @half a KX option carrying it (and K flag @kx_flags),
 * with @mac a handshake MAC option carrying it; checksummed for @saddr
 * to @daddr.
 */
static void build(struct raw_seg *s, const char *saddr, const char *daddr,
		  __u32 snode, __u16 sport, __u32 dnode, __u16 dport,
		  __u16 flags, __u32 seq, __u32 ack, const __u8 *half,
		  __u8 kx_flags, const __u8 *mac, const void *data, int dlen)
{
	struct migtcphdr h = {
		.version = MIGTCP_WIRE_VERSION,
		.flags = htons(flags),
		.src_node = htonl(snode),
		.dst_node = htonl(dnode),
		.src_port = htons(sport),
		.dst_port = htons(dport),
		.seq = htonl(seq),
		.ack_seq = htonl(ack),
		.window = htons(65535),
	};
	__u8 *opt = s->buf + sizeof(h);
	int optlen = 0;

	memset(s, 0, sizeof(*s));
	if (half) {
		opt[0] = MIGTCP_OPT_KX;
		opt[1] = MIGTCP_OPTLEN_KX;
		opt[2] = MIGTCP_KX_SUITE_HMAC_SHA256;
		opt[3] = kx_flags;
		memcpy(opt + 4, half, HALF_LEN);
		optlen += MIGTCP_OPTLEN_KX;
	}
	if (mac) {
		hs_put_opt(opt + optlen, mac);
		optlen += MIGTCP_OPTLEN_HSMAC;
	}
	h.doff = (sizeof(h) + optlen) / 4;
	memcpy(s->buf, &h, sizeof(h));
	if (dlen)
		memcpy(s->buf + sizeof(h) + optlen, data, dlen);
	s->len = sizeof(h) + optlen + dlen;
	migtcp_test_set_csum(s->buf, s->len, inet_addr(saddr),
			     inet_addr(daddr), migtcp_proto());
}

/*
 * Waits up to @ms for a segment on raw socket @fd to (@dnode, @dport)
 * whose flags are exactly @flags.
 */
static bool raw_wait(int fd, int ms, __u16 flags, __u32 dnode, __u16 dport,
		     struct raw_seg *s)
{
	long end = now_ms() + ms;

	while (raw_next_seg(fd, end, sizeof(struct migtcphdr),
			    MIGTCP_TEST_SEG_MAX, s))
		if (ntohs(hdr(s)->flags) == flags &&
		    ntohl(hdr(s)->dst_node) == dnode &&
		    ntohs(hdr(s)->dst_port) == dport &&
		    hdr(s)->doff * 4 <= s->len)
			return true;
	return false;
}

/* The MAC of the handshake MAC option of @s; NULL if it has none. */
static const __u8 *seg_mac(const struct raw_seg *s)
{
	const __u8 *opt = seg_find_opt(s->buf, s->len, MIGTCP_OPT_HSMAC);

	return opt && opt[1] == MIGTCP_OPTLEN_HSMAC ? opt + 4 : NULL;
}

/* The half of the KX option of @s; NULL if it has none. */
static const __u8 *seg_half(const struct raw_seg *s)
{
	const __u8 *opt = seg_find_opt(s->buf, s->len, MIGTCP_OPT_KX);

	return opt && opt[1] == MIGTCP_OPTLEN_KX ? opt + 4 : NULL;
}

/* Node 2 also answers for NODE3_ADDR, node 3 of its table now. */
static int raw_node3_on_node2(struct __test_metadata *_metadata,
			      CLUSTER *self)
{
	ON_NODE(NODE2);
	if (blackhole_on_node2(self) ||
	    migtcp_test_ctl("peer add %u addr %s", NODE3, NODE3_ADDR))
		return -1;
	return raw_bound_in(_metadata, self->ns[NODE2], NODE3_ADDR);
}

/*
 * A raw node 3 opens a connection to node 2's listener (cluster key
 * KEY_A) from port @sport with half @half: returns the listener's ISS,
 * its half in @lhalf; checks that its SYN-ACK carries the protocol's MAC.
 */
static __u32 raw_open(struct __test_metadata *_metadata, int tx, int cap,
		      __u16 sport, __u32 iss, const __u8 *half, __u8 *lhalf)
{
	__u8 key[MIGTCP_KEY_LEN], want[MIGTCP_HSMAC_LEN];
	struct raw_seg s, r;
	const __u8 *p;

	fill_key(key, KEY_A);
	build(&s, NODE3_ADDR, NODE2_ADDR, NODE3, sport, NODE2, AUTH_PORT,
	      MIGTCP_F_SYN, iss, 0, half, MIGTCP_KX_F_KEY, NULL, NULL, 0);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	if (!raw_wait(cap, WAIT_MS, MIGTCP_F_SYN | MIGTCP_F_ACK, NODE3, sport,
		      &r)) {
		TH_LOG("no SYN-ACK");
		_metadata->passed = 0;
		return 0;
	}
	EXPECT_EQ(iss + 1, ntohl(hdr(&r)->ack_seq));
	/* MSS, NOP, WS, KX, HSMAC: 64 bytes of options. */
	EXPECT_EQ(23, hdr(&r)->doff);
	p = seg_half(&r);
	if (!p) {
		TH_LOG("the SYN-ACK has no KX option");
		_metadata->passed = 0;
		return 0;
	}
	memcpy(lhalf, p, HALF_LEN);
	EXPECT_EQ(r.buf + 28 + 44, seg_find_opt(r.buf, r.len, MIGTCP_OPT_HSMAC))
		TH_LOG("the handshake MAC does not follow the KX option");
	p = seg_mac(&r);
	EXPECT_NE(NULL, p) TH_LOG("the SYN-ACK has no handshake MAC");
	EXPECT_EQ(0, hs_mac(key, HS_SYNACK_LABEL, NODE3, sport, NODE2,
			    AUTH_PORT, half, lhalf, want));
	if (p)
		EXPECT_EQ(0, memcmp(p, want, MIGTCP_HSMAC_LEN))
			TH_LOG("the SYN-ACK's MAC is not the protocol's");
	return ntohl(hdr(&r)->seq);
}

/*
 * The raw node 3 completes handshakes with node 2 (cluster key KEY_A):
 * an ACK without the MAC is dropped (InHsNoMac) and draws the SYN-ACK
 * again; data without the MAC, the same; an ACK with a MAC under the
 * wrong key is reset (InHsBadMac); none reaches accept().  The ACK with
 * the protocol's MAC does.
 */
TEST_F_TIMEOUT(cluster, listener_takes_only_proven_acks, 60)
{
	__u8 half[HALF_LEN], lhalf[HALF_LEN], mac[MIGTCP_HSMAC_LEN];
	__u8 key[MIGTCP_KEY_LEN], wrong[MIGTCP_KEY_LEN];
	const __u32 iss = 0x01020304;
	struct raw_seg s, r;
	int lfd, tx, cap, afd;
	long nomac, bad;
	__u16 sport;
	__u32 liss;
	char buf[5] = "";

	fill_key(key, KEY_A);
	fill_key(wrong, KEY_B);
	memset(half, 0xa5, sizeof(half));
	SET_KEY(NODE2, KEY_A);
	lfd = auth_listener(_metadata, self);
	ASSERT_LE(0, lfd);
	tx = raw_node3_on_node2(_metadata, self);
	ASSERT_LE(0, tx);
	cap = raw_on(_metadata, self, NODE2);
	ASSERT_LE(0, cap);

	/* No MAC: a pure ACK, then data; each dropped, never accepted. */
	sport = RAW_SRC_PORT;
	liss = raw_open(_metadata, tx, cap, sport, iss, half, lhalf);
	ASSERT_TRUE(_metadata->passed);
	nomac = node_stat(self, NODE2, "InHsNoMac");
	build(&s, NODE3_ADDR, NODE2_ADDR, NODE3, sport, NODE2, AUTH_PORT,
	      MIGTCP_F_ACK, iss + 1, liss + 1, NULL, 0, NULL, NULL, 0);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	build(&s, NODE3_ADDR, NODE2_ADDR, NODE3, sport, NODE2, AUTH_PORT,
	      MIGTCP_F_ACK | MIGTCP_F_PSH, iss + 1, liss + 1, NULL, 0, NULL,
	      "hello", 5);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	EXPECT_EQ(nomac + 2, wait_node_stat(self, NODE2, "InHsNoMac",
					    nomac + 2, WAIT_MS));
	sleep_ms(200);
	ON_NODE(NODE2);
	ASSERT_FAILS_WITH(EAGAIN, accept(lfd, NULL, NULL));
	/* The listener asks again: its SYN-ACK, on its 1 s timer. */
	ASSERT_TRUE(raw_wait(cap, 3000, MIGTCP_F_SYN | MIGTCP_F_ACK, NODE3,
			     sport, &r)) TH_LOG("no repeated SYN-ACK");
	EXPECT_EQ(liss, ntohl(hdr(&r)->seq));
	/* Now the protocol's MAC: the connection, and the data resent. */
	ASSERT_EQ(0, hs_mac(key, HS_ACK_LABEL, NODE3, sport, NODE2, AUTH_PORT,
			    half, lhalf, mac));
	build(&s, NODE3_ADDR, NODE2_ADDR, NODE3, sport, NODE2, AUTH_PORT,
	      MIGTCP_F_ACK, iss + 1, liss + 1, NULL, 0, mac, NULL, 0);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	ON_NODE(NODE2);
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	build(&s, NODE3_ADDR, NODE2_ADDR, NODE3, sport, NODE2, AUTH_PORT,
	      MIGTCP_F_ACK | MIGTCP_F_PSH, iss + 1, liss + 1, NULL, 0, NULL,
	      "hello", 5);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
	EXPECT_EQ(5, recv(afd, buf, 5, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(nomac + 2, node_stat(self, NODE2, "InHsNoMac"));
	ON_NODE(NODE2);
	close(afd);

	/* A MAC under the wrong key: reset, never accepted. */
	sport = RAW_SRC_PORT + 1;
	memset(half, 0x3c, sizeof(half));
	liss = raw_open(_metadata, tx, cap, sport, iss, half, lhalf);
	ASSERT_TRUE(_metadata->passed);
	bad = node_stat(self, NODE2, "InHsBadMac");
	ASSERT_EQ(0, hs_mac(wrong, HS_ACK_LABEL, NODE3, sport, NODE2,
			    AUTH_PORT, half, lhalf, mac));
	build(&s, NODE3_ADDR, NODE2_ADDR, NODE3, sport, NODE2, AUTH_PORT,
	      MIGTCP_F_ACK, iss + 1, liss + 1, NULL, 0, mac, NULL, 0);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	ASSERT_TRUE(raw_wait(cap, WAIT_MS, MIGTCP_F_RST, NODE3, sport, &r))
		TH_LOG("no reset for a wrong MAC");
	EXPECT_EQ(liss + 1, ntohl(hdr(&r)->seq));
	EXPECT_EQ(bad + 1, node_stat(self, NODE2, "InHsBadMac"));
	/* The listener's MAC, reflected: not the connecting side's. */
	sport = RAW_SRC_PORT + 2;
	liss = raw_open(_metadata, tx, cap, sport, iss, half, lhalf);
	ASSERT_TRUE(_metadata->passed);
	ASSERT_EQ(0, hs_mac(key, HS_SYNACK_LABEL, NODE3, sport, NODE2,
			    AUTH_PORT, half, lhalf, mac));
	build(&s, NODE3_ADDR, NODE2_ADDR, NODE3, sport, NODE2, AUTH_PORT,
	      MIGTCP_F_ACK, iss + 1, liss + 1, NULL, 0, mac, NULL, 0);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	ASSERT_TRUE(raw_wait(cap, WAIT_MS, MIGTCP_F_RST, NODE3, sport, &r))
		TH_LOG("no reset for a reflected MAC");
	EXPECT_EQ(bad + 2, node_stat(self, NODE2, "InHsBadMac"));
	sleep_ms(200);
	ON_NODE(NODE2);
	ASSERT_FAILS_WITH(EAGAIN, accept(lfd, NULL, NULL));

	close(cap);
	close(tx);
	close(lfd);
}

/*
 * Appends NOP, NOP and a host option naming @host to the options of SYN
 * @s, checksummed again for @saddr to @daddr.
 */
static void add_host(struct raw_seg *s, __u32 host, const char *saddr,
		     const char *daddr)
{
	struct migtcphdr *h = (struct migtcphdr *)s->buf;
	__u32 n = htonl(host);
	__u8 *opt = s->buf + s->len;

	opt[0] = MIGTCP_OPT_NOP;
	opt[1] = MIGTCP_OPT_NOP;
	opt[2] = MIGTCP_OPT_HOST;
	opt[3] = MIGTCP_OPTLEN_HOST;
	memcpy(opt + 4, &n, 4);
	s->len += 8;
	h->doff = s->len / 4;
	migtcp_test_set_csum(s->buf, s->len, inet_addr(saddr),
			     inet_addr(daddr), migtcp_proto());
}

/*
 * A SYN of node 1's identity from node 3's address, naming node 3 as the
 * host it runs on (an endpoint restored away from its home): without a
 * cluster key nothing backs the claim, so it is refused (InSynBadSource,
 * reset); with one, the listener answers, and the MACs decide.  Without
 * the host option, the same SYN is refused with the key too.
 */
TEST_F(cluster, host_claim_needs_the_key)
{
	__u8 half[HALF_LEN];
	struct raw_seg s, r;
	int lfd, tx, cap, round;
	const __u16 sport = RAW_SRC_PORT + 20;
	long src;

	memset(half, 0x99, sizeof(half));
	lfd = auth_listener(_metadata, self);
	ASSERT_LE(0, lfd);
	tx = raw_node3_on_node2(_metadata, self);
	ASSERT_LE(0, tx);
	cap = raw_on(_metadata, self, NODE2);
	ASSERT_LE(0, cap);
	for (round = 0; round < 3; round++) {
		/* 0: no key, host option; 1: key, none; 2: key, host option */
		if (round == 1)
			SET_KEY(NODE2, KEY_A);
		src = node_stat(self, NODE2, "InSynBadSource");
		build(&s, NODE3_ADDR, NODE2_ADDR, NODE1, sport + round, NODE2,
		      AUTH_PORT, MIGTCP_F_SYN, 0x5000, 0, half,
		      round ? MIGTCP_KX_F_KEY : 0, NULL, NULL, 0);
		if (round != 1)
			add_host(&s, NODE3, NODE3_ADDR, NODE2_ADDR);
		raw_send(_metadata, tx, &s, NODE2_ADDR);
		if (round < 2) {
			ASSERT_TRUE(raw_wait(cap, WAIT_MS,
					     MIGTCP_F_RST | MIGTCP_F_ACK, NODE1,
					     sport + round, &r))
				TH_LOG("round %d: no reset", round);
			EXPECT_EQ(src + 1, node_stat(self, NODE2,
						     "InSynBadSource"));
		} else {
			ASSERT_TRUE(raw_wait(cap, WAIT_MS,
					     MIGTCP_F_SYN | MIGTCP_F_ACK, NODE1,
					     sport + round, &r))
				TH_LOG("no SYN-ACK to a keyed host claim");
			EXPECT_EQ(src, node_stat(self, NODE2,
						 "InSynBadSource"));
			EXPECT_NE(NULL, seg_mac(&r));
		}
	}
	sleep_ms(200);
	ON_NODE(NODE2);
	ASSERT_FAILS_WITH(EAGAIN, accept(lfd, NULL, NULL));
	close(cap);
	close(tx);
	close(lfd);
}

/* A raw "node 3" at NODE3_ADDR on node 2, which node 1 connects to. */
static int raw_server(struct __test_metadata *_metadata, CLUSTER *self)
{
	ON_NODE(NODE2);
	if (blackhole_on_node2(self))
		return -1;
	return raw_bound_in(_metadata, self->ns[NODE2], NODE3_ADDR);
}

/* Node 1 connects (non-blocking) to the raw node 3; its SYN in @syn. */
static int connect_node3(struct __test_metadata *_metadata, CLUSTER *self,
			 int srv, struct raw_seg *syn)
{
	int cfd;

	ON_NODE(NODE1);
	cfd = mig_socket(self->family, SOCK_NONBLOCK);
	if (cfd < 0)
		return -1;
	EXPECT_EQ(-1, connect_to(cfd, self->family, NODE3, RAW_PORT));
	EXPECT_EQ(EINPROGRESS, errno);
	if (!raw_wait(srv, WAIT_MS, MIGTCP_F_SYN, NODE3, RAW_PORT, syn)) {
		TH_LOG("node 3 saw no SYN");
		close(cfd);
		return -1;
	}
	return cfd;
}

/* Node 1's side: SYN-ACKs that prove nothing establish nothing. */
TEST_F(cluster, connector_refuses_unproven_synack)
{
	enum { NO_MAC, WRONG_KEY, REFLECTED, NR_CASES };
	static const char * const names[] = {
		"no MAC", "a MAC under another key", "the ACK's MAC",
	};
	static const char * const counters[] = {
		"InHsNoMac", "InHsBadMac", "InHsBadMac",
	};
	__u8 half[HALF_LEN], chalf[HALF_LEN], mac[MIGTCP_HSMAC_LEN];
	__u8 key[MIGTCP_KEY_LEN], wrong[MIGTCP_KEY_LEN];
	struct raw_seg syn, s, r;
	int srv, cfd, i;
	__u32 iss, cport;
	long before;

	fill_key(key, KEY_A);
	fill_key(wrong, KEY_B);
	memset(half, 0x42, sizeof(half));
	SET_KEY(NODE1, KEY_A);
	srv = raw_server(_metadata, self);
	ASSERT_LE(0, srv);
	for (i = 0; i < NR_CASES; i++) {
		TH_LOG("SYN-ACK with %s", names[i]);
		before = node_stat(self, NODE1, counters[i]);
		cfd = connect_node3(_metadata, self, srv, &syn);
		ASSERT_LE(0, cfd);
		iss = ntohl(hdr(&syn)->seq);
		cport = ntohs(hdr(&syn)->src_port);
		ASSERT_NE(NULL, seg_half(&syn));
		memcpy(chalf, seg_half(&syn), HALF_LEN);
		if (i == WRONG_KEY)
			ASSERT_EQ(0, hs_mac(wrong, HS_SYNACK_LABEL, NODE1,
					    cport, NODE3, RAW_PORT, chalf,
					    half, mac));
		if (i == REFLECTED)
			ASSERT_EQ(0, hs_mac(key, HS_ACK_LABEL, NODE1, cport,
					    NODE3, RAW_PORT, chalf, half,
					    mac));
		build(&s, NODE3_ADDR, NODE1_ADDR, NODE3, RAW_PORT, NODE1,
		      cport, MIGTCP_F_SYN | MIGTCP_F_ACK, 0x7000, iss + 1,
		      half, MIGTCP_KX_F_KEY, i == NO_MAC ? NULL : mac, NULL,
		      0);
		raw_send(_metadata, srv, &s, NODE1_ADDR);
		ASSERT_EQ(POLLOUT | POLLERR | POLLHUP,
			  poll_one(cfd, POLLOUT, WAIT_MS));
		EXPECT_EQ(ECONNREFUSED, so_error(cfd));
		ASSERT_TRUE(raw_wait(srv, WAIT_MS, MIGTCP_F_RST, NODE3,
				     RAW_PORT, &r)) TH_LOG("no reset");
		EXPECT_EQ(iss + 1, ntohl(hdr(&r)->seq));
		EXPECT_EQ(before + 1, node_stat(self, NODE1, counters[i]));
		close(cfd);
	}
	close(srv);
}

/*
 * A SYN-ACK that proves the key but comes from another address than the
 * one node 1's SYN went to is dropped (InSynBadSource) and does not end
 * the attempt; the same from the right address establishes it.
 */
TEST_F(cluster, connector_takes_synack_from_its_peer_only)
{
	__u8 half[HALF_LEN], chalf[HALF_LEN], mac[MIGTCP_HSMAC_LEN];
	struct raw_seg syn, s;
	int srv, other, cfd;
	__u32 iss, cport;
	long src;

	memset(half, 0x17, sizeof(half));
	srv = raw_server(_metadata, self);
	ASSERT_LE(0, srv);
	other = raw_bound_in(_metadata, self->ns[NODE2], NODE2_ADDR);
	ASSERT_LE(0, other);
	cfd = connect_node3(_metadata, self, srv, &syn);
	ASSERT_LE(0, cfd);
	iss = ntohl(hdr(&syn)->seq);
	cport = ntohs(hdr(&syn)->src_port);
	memcpy(chalf, seg_half(&syn), HALF_LEN);
	ASSERT_EQ(0, hs_mac(NULL, HS_SYNACK_LABEL, NODE1, cport, NODE3,
			    RAW_PORT, chalf, half, mac));
	src = node_stat(self, NODE1, "InSynBadSource");
	build(&s, NODE2_ADDR, NODE1_ADDR, NODE3, RAW_PORT, NODE1, cport,
	      MIGTCP_F_SYN | MIGTCP_F_ACK, 0x7000, iss + 1, half, 0, mac,
	      NULL, 0);
	raw_send(_metadata, other, &s, NODE1_ADDR);
	EXPECT_EQ(src + 1, wait_node_stat(self, NODE1, "InSynBadSource",
					  src + 1, WAIT_MS));
	EXPECT_EQ(0, poll_one(cfd, POLLOUT, 200)) TH_LOG("connect() ended");
	build(&s, NODE3_ADDR, NODE1_ADDR, NODE3, RAW_PORT, NODE1, cport,
	      MIGTCP_F_SYN | MIGTCP_F_ACK, 0x7000, iss + 1, half, 0, mac,
	      NULL, 0);
	raw_send(_metadata, srv, &s, NODE1_ADDR);
	EXPECT_EQ(POLLOUT, poll_one(cfd, POLLOUT, WAIT_MS));
	EXPECT_EQ(0, so_error(cfd));
	close(cfd);
	close(other);
	close(srv);
}

/* Walks the first record of checkpoint @blob for attribute @type. */
static const __u8 *blob_attr(const __u8 *blob, size_t len, __u16 type,
			     __u16 *alen)
{
	const struct migtcp_ckpt_hdr *h = (const void *)blob;
	const struct migtcp_ckpt_rec *rec;
	size_t off, end;

	if (len < sizeof(*h) + sizeof(*rec))
		return NULL;
	rec = (const void *)(blob + h->hdr_len);
	off = h->hdr_len + sizeof(*rec);
	end = h->hdr_len + rec->len;
	if (end > len)
		return NULL;
	while (off + 4 <= end) {
		__u16 nla_len, nla_type;

		memcpy(&nla_len, blob + off, 2);
		memcpy(&nla_type, blob + off + 2, 2);
		if (nla_len < 4 || off + nla_len > end)
			return NULL;
		if ((nla_type & 0x3fff) == type) {
			*alen = nla_len - 4;
			return blob + off + 4;
		}
		off += (nla_len + 3) & ~3U;
	}
	return NULL;
}

/*
 * Node 1 (cluster key KEY_A) connects to the raw node 3, which answers
 * with a proven SYN-ACK (kept in @synack); node 1's ACK carries its MAC,
 * the protocol's (@want), as its only option.  Returns the socket.
 */
static int open_proven(struct __test_metadata *_metadata, CLUSTER *self,
		       int srv, const __u8 *half, struct raw_seg *synack,
		       __u8 *want)
{
	__u8 key[MIGTCP_KEY_LEN], chalf[HALF_LEN], mac[MIGTCP_HSMAC_LEN];
	struct raw_seg syn, r;
	__u32 iss, cport;
	const __u8 *p;
	int cfd;

	fill_key(key, KEY_A);
	cfd = connect_node3(_metadata, self, srv, &syn);
	ASSERT_LE(0, cfd);
	iss = ntohl(hdr(&syn)->seq);
	cport = ntohs(hdr(&syn)->src_port);
	ASSERT_NE(NULL, seg_half(&syn));
	memcpy(chalf, seg_half(&syn), HALF_LEN);
	ASSERT_EQ(0, hs_mac(key, HS_SYNACK_LABEL, NODE1, cport, NODE3,
			    RAW_PORT, chalf, half, mac));
	ASSERT_EQ(0, hs_mac(key, HS_ACK_LABEL, NODE1, cport, NODE3, RAW_PORT,
			    chalf, half, want));
	build(synack, NODE3_ADDR, NODE1_ADDR, NODE3, RAW_PORT, NODE1, cport,
	      MIGTCP_F_SYN | MIGTCP_F_ACK, 0x9000, iss + 1, half,
	      MIGTCP_KX_F_KEY, mac, NULL, 0);
	raw_send(_metadata, srv, synack, NODE1_ADDR);
	ASSERT_EQ(POLLOUT, poll_one(cfd, POLLOUT, WAIT_MS));
	EXPECT_EQ(0, so_error(cfd));
	ASSERT_TRUE(raw_wait(srv, WAIT_MS, MIGTCP_F_ACK, NODE3, RAW_PORT, &r))
		TH_LOG("no ACK of the SYN-ACK");
	EXPECT_EQ(12, hdr(&r)->doff) TH_LOG("the ACK's only option is the MAC");
	p = seg_mac(&r);
	ASSERT_NE(NULL, p) TH_LOG("the ACK carries no handshake MAC");
	EXPECT_EQ(0, memcmp(p, want, MIGTCP_HSMAC_LEN))
		TH_LOG("the ACK's MAC is not the protocol's");
	return cfd;
}

/*
 * The connecting side repeats its MAC: a repeated SYN-ACK draws the ACK
 * with it again at once; once node 3 sends a segment without SYN, node
 * 1's ACKs carry no option.
 */
TEST_F(cluster, connector_repeats_its_mac_until_answered)
{
	__u8 half[HALF_LEN], want[MIGTCP_HSMAC_LEN];
	struct raw_seg synack, s, r;
	__u32 cport, ack;
	int srv, cfd;
	const __u8 *p;

	memset(half, 0x6b, sizeof(half));
	SET_KEY(NODE1, KEY_A);
	srv = raw_server(_metadata, self);
	ASSERT_LE(0, srv);
	cfd = open_proven(_metadata, self, srv, half, &synack, want);
	cport = ntohs(hdr(&synack)->dst_port);
	ack = ntohl(hdr(&synack)->ack_seq);

	raw_send(_metadata, srv, &synack, NODE1_ADDR);
	ASSERT_TRUE(raw_wait(srv, WAIT_MS, MIGTCP_F_ACK, NODE3, RAW_PORT, &r))
		TH_LOG("no ACK of the repeated SYN-ACK");
	p = seg_mac(&r);
	ASSERT_NE(NULL, p) TH_LOG("the second ACK carries no MAC");
	EXPECT_EQ(0, memcmp(p, want, MIGTCP_HSMAC_LEN));

	build(&s, NODE3_ADDR, NODE1_ADDR, NODE3, RAW_PORT, NODE1, cport,
	      MIGTCP_F_ACK | MIGTCP_F_PSH, 0x9001, ack, NULL, 0, NULL,
	      "data", 4);
	raw_send(_metadata, srv, &s, NODE1_ADDR);
	for (;;) {
		ASSERT_TRUE(raw_wait(srv, WAIT_MS, MIGTCP_F_ACK, NODE3,
				     RAW_PORT, &r)) TH_LOG("no ACK of the data");
		if (ntohl(hdr(&r)->ack_seq) == 0x9005)
			break;
	}
	EXPECT_EQ(MIGTCP_HDR_MIN_DOFF, hdr(&r)->doff);
	EXPECT_EQ(NULL, seg_mac(&r));
	close(cfd);
	close(srv);
}

/*
 * A checkpoint of a connecting side whose MAC is pending carries it, and
 * the connection restored from it (here, in its place) sends it on its
 * ACKs.
 */
TEST_F(cluster, pending_mac_moves_in_checkpoint)
{
	__u8 half[HALF_LEN], want[MIGTCP_HSMAC_LEN];
	struct raw_seg synack, r;
	socklen_t blen = 0;
	int srv, cfd, rfd, hold = 0;
	const __u8 *p;
	__u16 alen = 0;
	__u8 *buf;

	memset(half, 0x2d, sizeof(half));
	SET_KEY(NODE1, KEY_A);
	srv = raw_server(_metadata, self);
	ASSERT_LE(0, srv);
	cfd = open_proven(_metadata, self, srv, half, &synack, want);

	ON_NODE(NODE1);
	ASSERT_EQ(0, setsockopt(cfd, SOL_MIGTCP, MIGTCP_FREEZE, &hold,
				sizeof(hold))) TH_LOG("freeze: %s",
						      strerror(errno));
	ASSERT_EQ(-1, getsockopt(cfd, SOL_MIGTCP, MIGTCP_CHECKPOINT, NULL,
				 &blen));
	ASSERT_EQ(ERANGE, errno);
	buf = malloc(blen);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, getsockopt(cfd, SOL_MIGTCP, MIGTCP_CHECKPOINT, buf,
				&blen)) TH_LOG("checkpoint: %s",
					       strerror(errno));
	p = blob_attr(buf, blen, MIGTCP_CKPT_A_HS_PROOF, &alen);
	ASSERT_NE(NULL, p) TH_LOG("the checkpoint has no handshake MAC");
	ASSERT_EQ(MIGTCP_HSMAC_LEN, alen);
	EXPECT_EQ(0, memcmp(p, want, MIGTCP_HSMAC_LEN));

	/* The restored connection's first ACK still carries it. */
	close(cfd);
	rfd = mig_socket(self->family, 0);
	ASSERT_LE(0, rfd);
	ASSERT_EQ(0, setsockopt(rfd, SOL_MIGTCP, MIGTCP_RESTORE, buf, blen))
		TH_LOG("restore: %s", strerror(errno));
	free(buf);
	ASSERT_TRUE(raw_wait(srv, WAIT_MS, MIGTCP_F_ACK, NODE3, RAW_PORT, &r))
		TH_LOG("no ACK from the restored connection");
	p = seg_mac(&r);
	ASSERT_NE(NULL, p) TH_LOG("the restored connection lost its MAC");
	EXPECT_EQ(0, memcmp(p, want, MIGTCP_HSMAC_LEN));
	close(rfd);
	close(srv);
}

TEST_HARNESS_MAIN
