// SPDX-License-Identifier: GPL-2.0
/*
 * The per-connection key exchange (docs/protocol.md, "Key exchange"), on
 * the two-node cluster of cluster.h:
 *
 *  - both ends of a connection derive the same key (MIGTCP_INFO's
 *    kx_fingerprint), each connection its own, with or without a cluster
 *    key; nodes with different keys never connect (their handshake MACs
 *    do not verify), and a node whose peer has a key when it has none
 *    says so;
 *  - the key is exactly HMAC-SHA256(K, "migtcp v1 conn key" || A || B),
 *    checked against Python's hmac module for a handshake whose halves
 *    the test knows, from both sides of the (node, port) order;
 *  - a SYN without a usable KX option (none, an unknown suite, a wrong
 *    length) is refused as by a closed port and counted in InKxErrors;
 *  - an acceptable SYN-ACK without one fails connect() with ECONNREFUSED
 *    and draws a reset of its acknowledgment number; an unacceptable one
 *    does not disturb the connection attempt;
 *  - every SYN of a connection carries the same half, in the layout the
 *    protocol gives.
 *
 * Segments are built by hand and sent from raw sockets.  A raw "node"
 * lives at an address of node 2 under a node id node 2 does not have, so
 * that node 2's module drops what is sent to it (InWrongNode) and never
 * answers for it; a raw client is node 3 of node 2's peer table at that
 * address, since a listener takes SYNs only from their node's address.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/stat.h>

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

#define KX_PORT		7100		/* node 2's listener */
#define RAW_PORT	7200		/* where the raw node 3 "listens" */
#define RAW_SRC_PORT	40000		/* the raw client's first port */

#define HALF_LEN	MIGTCP_KX_HALF_LEN
/* 28 + MSS 4 + NOP WS 4 + KX 36, and NOP NOP SACK permitted 4 */
#define SYN_DOFF	19		/* a migtcp.ko's (sack=1) */
#define SYNACK_DOFF	23		/* to a SYN without SACK: + HSMAC 20 */

/* The ways a KX option can be unusable, and the usable one. */
enum kx_variant {
	KX_NONE,		/* no KX option at all */
	KX_SUITE2,		/* suite 2: unknown */
	KX_LEN35,		/* one byte short */
	KX_GOOD,
};

static const char * const kx_variant_names[] = {
	"no KX option", "KX suite 2", "KX length 35", "a good KX option",
};

static const struct migtcphdr *hdr(const struct raw_seg *s)
{
	return (const struct migtcphdr *)s->buf;
}

static __u16 seg_flags(const struct raw_seg *s)
{
	return ntohs(hdr(s)->flags);
}

/* The KX option of @s (its kind byte); NULL if there is none. */
static const __u8 *find_kx(const struct raw_seg *s)
{
	return seg_find_opt(s->buf, s->len, MIGTCP_OPT_KX);
}

/*
 * Builds a segment from (@snode, @sport) to (@dnode, @dport) with @flags,
 * @seq and @ack, the options MSS 1400 and the KX option @variant with
 * secret half @half and flags @kx_flags, checksummed for @saddr to
 * @daddr.
 */
static void build(struct raw_seg *s, const char *saddr, const char *daddr,
		  __u32 snode, __u16 sport, __u32 dnode, __u16 dport,
		  __u16 flags, __u32 seq, __u32 ack, enum kx_variant variant,
		  const __u8 *half, __u8 kx_flags)
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
	int optlen = 4;

	memset(s, 0, sizeof(*s));
	opt[0] = MIGTCP_OPT_MSS;
	opt[1] = MIGTCP_OPTLEN_MSS;
	opt[2] = 1400 >> 8;
	opt[3] = 1400 & 0xff;
	if (variant != KX_NONE) {
		opt[4] = MIGTCP_OPT_KX;
		opt[5] = variant == KX_LEN35 ? 35 : MIGTCP_OPTLEN_KX;
		opt[6] = variant == KX_SUITE2 ? 2 : MIGTCP_KX_SUITE_HMAC_SHA256;
		opt[7] = kx_flags;
		memcpy(opt + 8, half, variant == KX_LEN35 ? HALF_LEN - 1 :
							 HALF_LEN);
		/* A length of 35 leaves one byte: an EOL pads the area. */
		optlen += MIGTCP_OPTLEN_KX;
	}
	h.doff = (sizeof(h) + optlen) / 4;
	memcpy(s->buf, &h, sizeof(h));
	s->len = sizeof(h) + optlen;
	migtcp_test_set_csum(s->buf, s->len, inet_addr(saddr),
			     inet_addr(daddr), migtcp_proto());
}

/*
 * Waits up to @ms for a segment on raw socket @fd to (@dnode, @dport)
 * whose flags are exactly @flags; copies it without its IP header.
 */
static bool raw_wait(int fd, int ms, __u16 flags, __u32 dnode, __u16 dport,
		     struct raw_seg *s)
{
	long end = now_ms() + ms;

	while (raw_next_seg(fd, end, sizeof(struct migtcphdr),
			MIGTCP_TEST_SEG_MAX, s))
		if (seg_flags(s) == flags && ntohl(hdr(s)->dst_node) == dnode &&
		    ntohs(hdr(s)->dst_port) == dport &&
		    hdr(s)->doff * 4 <= s->len)
			return true;
	return false;
}

/* MIGTCP_INFO's kx_fingerprint of @fd; fails the test if unreadable. */
static __u64 fingerprint(struct __test_metadata *_metadata, int fd)
{
	struct migtcp_info info;

	EXPECT_EQ(0, get_info(fd, &info))
		TH_LOG("MIGTCP_INFO: %s", strerror(errno));
	return info.kx_fingerprint;
}

static void hex(char *out, const __u8 *p, int len)
{
	int i;

	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* Appends an endpoint (node id, port, half) as the protocol orders it. */
static __u8 *put_end(__u8 *p, __u32 node, __u16 port, const __u8 *half)
{
	__u32 n = htonl(node);
	__u16 pt = htons(port);

	memcpy(p, &n, 4);
	memcpy(p + 4, &pt, 2);
	memcpy(p + 6, half, HALF_LEN);
	return p + 6 + HALF_LEN;
}

/*
 * The fingerprint a connection between (@n1, @p1) with half @h1 and
 * (@n2, @p2) with half @h2 must have under cluster key @key (NULL: none),
 * computed from the protocol's text by Python's hmac module: the first 8
 * bytes of HMAC-SHA256(conn_key, "migtcp v1 fingerprint"), conn_key =
 * HMAC-SHA256(K, "migtcp v1 conn key" || A || B).  0 if Python fails.
 */
static __u64 expected_fingerprint(const __u8 *key, __u32 n1, __u16 p1,
				  const __u8 *h1, __u32 n2, __u16 p2,
				  const __u8 *h2)
{
	static const char label[] = "migtcp v1 conn key";
	__u8 zero[MIGTCP_KEY_LEN] = { 0 }, msg[18 + 2 * (6 + HALF_LEN)];
	char khex[2 * MIGTCP_KEY_LEN + 1], mhex[2 * sizeof(msg) + 1];
	char cmd[1024], out[64] = "";
	unsigned long long fp;
	__u8 *p = msg;
	FILE *f;

	memcpy(p, label, 18);
	p += 18;
	if (((__u64)n1 << 16 | p1) < ((__u64)n2 << 16 | p2)) {
		p = put_end(p, n1, p1, h1);
		put_end(p, n2, p2, h2);
	} else {
		p = put_end(p, n2, p2, h2);
		put_end(p, n1, p1, h1);
	}
	hex(khex, key ?: zero, MIGTCP_KEY_LEN);
	hex(mhex, msg, sizeof(msg));
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import hmac, hashlib, sys\n"
		 "k = hmac.new(bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), hashlib.sha256).digest()\n"
		 "print(hmac.new(k, b\"migtcp v1 fingerprint\", hashlib.sha256).hexdigest()[:16])' %s %s",
		 khex, mhex);
	f = popen(cmd, "re");
	if (!f)
		return 0;
	if (!fgets(out, sizeof(out), f))
		out[0] = 0;
	pclose(f);
	if (sscanf(out, "%16llx", &fp) != 1)
		return 0;
	return fp;
}

/* The lines of the kernel log containing @text. */
static int dmesg_count(const char *text)
{
	return migtcp_test_dmesg_count(&text, 1);
}

/* Writes a cluster key file of 32 bytes all @byte; returns its name. */
static const char *key_file(__u8 byte)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/kx_test.%d.%02x.key", getpid(),
		 byte);
	return migtcp_test_key_file(path, byte) ? NULL : path;
}

/* Sets the cluster key of @node to 32 bytes all @byte. */
static void set_key(struct __test_metadata *_metadata, CLUSTER *self,
		    unsigned int node, __u8 byte)
{
	const char *path = key_file(byte);

	ASSERT_NE(NULL, path) TH_LOG("cannot write a key file in /tmp");
	ON_NODE(node);
	ASSERT_EQ(0, migtcp_test_ctl("node set key-file %s", path))
		TH_LOG("migtcpctl node set key-file failed on node %u", node);
	unlink(path);
}

/* A few bytes each way: the connection works. */
static void ping_pong(struct __test_metadata *_metadata, int cfd, int afd)
{
	char buf[4] = "";

	ASSERT_EQ(4, send(cfd, "ping", 4, MSG_NOSIGNAL));
	ASSERT_EQ(4, recv(afd, buf, sizeof(buf), MSG_WAITALL))
		TH_LOG("recv: %s", strerror(errno));
	ASSERT_EQ(0, memcmp(buf, "ping", 4));
	ASSERT_EQ(4, send(afd, "pong", 4, MSG_NOSIGNAL));
	ASSERT_EQ(4, recv(cfd, buf, sizeof(buf), MSG_WAITALL))
		TH_LOG("recv: %s", strerror(errno));
	ASSERT_EQ(0, memcmp(buf, "pong", 4));
}

/*
 * Both ends of a connection report the same, non-zero fingerprint; a
 * second connection (same nodes, same listener) has another one; no
 * socket has one before its handshake completes.
 */
TEST_F(cluster, fingerprints_match)
{
	int c1, a1, c2, a2, fresh, pending;
	__u64 f1, f2;

	CONNECT_PAIR(&c1, &a1);
	CONNECT_PAIR(&c2, &a2);
	f1 = fingerprint(_metadata, c1);
	f2 = fingerprint(_metadata, c2);
	EXPECT_NE(0ULL, f1);
	EXPECT_NE(0ULL, f2);
	EXPECT_EQ(f1, fingerprint(_metadata, a1));
	EXPECT_EQ(f2, fingerprint(_metadata, a2));
	EXPECT_NE(f1, f2) TH_LOG("two connections share fingerprint %#llx",
				 (unsigned long long)f1);
	ping_pong(_metadata, c1, a1);
	ping_pong(_metadata, c2, a2);

	/* No key before the handshake: unconnected, listening, SYN-SENT. */
	fresh = mig_socket(self->family, 0);
	ASSERT_LE(0, fresh);
	EXPECT_EQ(0ULL, fingerprint(_metadata, fresh));
	EXPECT_EQ(0ULL, fingerprint(_metadata, self->lfd));
	pending = mig_socket(self->family, SOCK_NONBLOCK);
	ASSERT_LE(0, pending);
	ASSERT_FAILS_WITH(EINPROGRESS, connect_to(pending, self->family,
						  NODE_BLACKHOLE, PORT));
	EXPECT_EQ(0ULL, fingerprint(_metadata, pending));

	EXPECT_EQ(0, node_stat(self, NODE1, "InKxErrors"));
	EXPECT_EQ(0, node_stat(self, NODE2, "InKxErrors"));
	close(pending);
	close(fresh);
	close(c1);
	close(a1);
	close(c2);
	close(a2);
}

/* The same cluster key on both nodes: the ends still agree. */
TEST_F(cluster, same_cluster_key)
{
	int warned = dmesg_count("the cluster keys differ");
	int c1, a1, c2, a2;
	__u64 f1, f2;

	set_key(_metadata, self, NODE1, 0x5c);
	set_key(_metadata, self, NODE2, 0x5c);
	CONNECT_PAIR(&c1, &a1);
	CONNECT_PAIR(&c2, &a2);
	ping_pong(_metadata, c1, a1);
	f1 = fingerprint(_metadata, c1);
	f2 = fingerprint(_metadata, c2);
	EXPECT_NE(0ULL, f1);
	EXPECT_EQ(f1, fingerprint(_metadata, a1));
	EXPECT_EQ(f2, fingerprint(_metadata, a2));
	EXPECT_NE(f1, f2);
	EXPECT_EQ(warned, dmesg_count("the cluster keys differ"));
	close(c1);
	close(a1);
	close(c2);
	close(a2);
}

/*
 * Node 1 connects to node 2's listener and must be refused: connect()
 * fails with ECONNREFUSED, node 1 counts the SYN-ACK's MAC in
 * InHsBadMac, and nothing waits on the listener.
 */
static void expect_refused(struct __test_metadata *_metadata, CLUSTER *self)
{
	long bad = node_stat(self, NODE1, "InHsBadMac");
	int lfd, cfd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, KX_PORT, 8);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, fcntl(lfd, F_SETFL, O_NONBLOCK));
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
	EXPECT_EQ(-1, connect_to(cfd, self->family, NODE2, KX_PORT))
		TH_LOG("connect() succeeded");
	EXPECT_EQ(ECONNREFUSED, errno) TH_LOG("connect(): %s", errname(errno));
	EXPECT_EQ(0ULL, fingerprint(_metadata, cfd));
	EXPECT_EQ(bad + 1, node_stat(self, NODE1, "InHsBadMac"));
	sleep_ms(200);
	ON_NODE(NODE2);
	ASSERT_FAILS_WITH(EAGAIN, accept(lfd, NULL, NULL));
	close(cfd);
	close(lfd);
}

/*
 * Different keys on the two nodes: no connection (the listener's MAC
 * does not verify), and no log line about a key on one side only.
 */
TEST_F(cluster, different_cluster_keys)
{
	int warned = dmesg_count("this node has no cluster key") +
		     dmesg_count("this node has a cluster key");

	set_key(_metadata, self, NODE1, 0x11);
	set_key(_metadata, self, NODE2, 0x22);
	expect_refused(_metadata, self);
	EXPECT_EQ(warned, dmesg_count("this node has no cluster key") +
			  dmesg_count("this node has a cluster key"));
}

/*
 * A key on node 2 only: no connection, and node 1 logs that its peer's K
 * flag disagrees with its own key.
 */
TEST_F(cluster, cluster_key_on_one_node)
{
	static const char no_key[] =
		"this node has no cluster key, the peer has one";
	int before_no = dmesg_count(no_key);

	ASSERT_LE(0, before_no);
	set_key(_metadata, self, NODE2, 0x77);
	expect_refused(_metadata, self);
	EXPECT_EQ(before_no + 1, dmesg_count(no_key))
		TH_LOG("node 1 did not warn: \"%s\"", no_key);
}

/*
 * SYNs to node 2's listener from a raw client inside node 2 (node id 1,
 * which node 2 does not have, so what node 2 answers it drops): without
 * a usable KX option each is answered with the reset a closed port gives
 * and counted in InKxErrors, and nothing waits on the listener.
 */
TEST_F(cluster, syn_without_kx_refused)
{
	static const enum kx_variant bad[] = { KX_NONE, KX_SUITE2, KX_LEN35 };
	__u8 half[HALF_LEN];
	int lfd, tx, cap, i;
	long kx, nosock, drops;
	struct raw_seg s, r;

	memset(half, 0x3c, sizeof(half));
	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, KX_PORT, 8);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, fcntl(lfd, F_SETFL, O_NONBLOCK));
	tx = raw_bound_in(_metadata, self->ns[NODE2], NODE2_ADDR);
	ASSERT_LE(0, tx);
	cap = raw_on(_metadata, self, NODE2);
	ASSERT_LE(0, cap);

	for (i = 0; i < (int)ARRAY_SIZE(bad); i++) {
		__u16 sport = RAW_SRC_PORT + i;
		__u32 iss = 0x10000000U * (i + 1) + 0xfff;

		TH_LOG("SYN with %s", kx_variant_names[bad[i]]);
		kx = node_stat(self, NODE2, "InKxErrors");
		nosock = node_stat(self, NODE2, "InNoSocket");
		drops = node_stat(self, NODE2, "ListenDrops");
		build(&s, NODE2_ADDR, NODE2_ADDR, NODE1, sport, NODE2, KX_PORT,
		      MIGTCP_F_SYN, iss, 0, bad[i], half, 0);
		raw_send(_metadata, tx, &s, NODE2_ADDR);
		ASSERT_TRUE(raw_wait(cap, WAIT_MS, MIGTCP_F_RST | MIGTCP_F_ACK,
				     NODE1, sport, &r))
			TH_LOG("no reset for the SYN with %s",
			       kx_variant_names[bad[i]]);
		/* Exactly the reset of a closed port (RFC 9293 3.10.7.1). */
		EXPECT_EQ(sizeof(struct migtcphdr), (size_t)r.len);
		EXPECT_EQ(MIGTCP_HDR_MIN_DOFF, hdr(&r)->doff);
		EXPECT_EQ(NODE2, ntohl(hdr(&r)->src_node));
		EXPECT_EQ(KX_PORT, ntohs(hdr(&r)->src_port));
		EXPECT_EQ(0U, ntohl(hdr(&r)->seq));
		EXPECT_EQ(iss + 1, ntohl(hdr(&r)->ack_seq));
		EXPECT_EQ(0, ntohs(hdr(&r)->window));
		EXPECT_EQ(kx + 1, wait_node_stat(self, NODE2, "InKxErrors", kx + 1, WAIT_MS));
		EXPECT_EQ(nosock, node_stat(self, NODE2, "InNoSocket"));
		EXPECT_EQ(drops, node_stat(self, NODE2, "ListenDrops"));
	}
	sleep_ms(100);
	ASSERT_FAILS_WITH(EAGAIN, accept(lfd, NULL, NULL));
	EXPECT_EQ(0, node_stat(self, NODE1, "InKxErrors"));

	close(cap);
	close(tx);
	close(lfd);
}

/*
 * A raw client, node 3 of node 2's table at its address, with a good KX
 * option gets a SYN-ACK with the protocol's option layout and completes
 * the handshake with its handshake MAC; the accepted connection's key is
 * the protocol's formula, with the listener's endpoint (node 2 < node 3
 * here, so the listener is A) first.
 */
/*
 * Node 2 listening on KX_PORT with @backlog, and a raw "node 3" client
 * at NODE3_ADDR (an address of node 2 now, and node 3's in node 2's
 * peer table): *@tx sends from there, *@cap sees what node 2 sends.
 * Returns the listener; the caller is on node 2 afterwards.  Fails the
 * test unless all three are open.
 */
static int raw_client_of_node2(struct __test_metadata *_metadata,
			       CLUSTER *self, int backlog, int *tx, int *cap)
{
	int lfd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, KX_PORT, backlog);
	EXPECT_EQ(0, blackhole_on_node2(self));
	EXPECT_EQ(0, migtcp_test_ctl("peer add %u addr %s", NODE_BLACKHOLE,
				     NODE3_ADDR));
	*tx = raw_bound_in(_metadata, self->ns[NODE2], NODE3_ADDR);
	*cap = raw_on(_metadata, self, NODE2);
	ASSERT_LE(0, lfd);
	ASSERT_LE(0, *tx);
	ASSERT_LE(0, *cap);
	return lfd;
}

TEST_F(cluster, syn_with_kx_accepted)
{
	const struct linger abort_linger = { .l_onoff = 1, .l_linger = 0 };
	__u8 half[HALF_LEN], lhalf[HALF_LEN];
	const __u16 sport = RAW_SRC_PORT + 10;
	const __u32 iss = 0xfffffff0U;
	int lfd, tx, cap, afd;
	__u8 mac[MIGTCP_HSMAC_LEN];
	const __u8 *kx;
	struct raw_seg s, r;
	__u32 liss;
	__u64 want;
	int i;

	for (i = 0; i < HALF_LEN; i++)
		half[i] = 0x80 + i;
	lfd = raw_client_of_node2(_metadata, self, 8, &tx, &cap);

	build(&s, NODE3_ADDR, NODE2_ADDR, NODE_BLACKHOLE, sport, NODE2,
	      KX_PORT, MIGTCP_F_SYN, iss, 0, KX_GOOD, half, 0);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	ASSERT_TRUE(raw_wait(cap, WAIT_MS, MIGTCP_F_SYN | MIGTCP_F_ACK,
			     NODE_BLACKHOLE, sport, &r)) TH_LOG("no SYN-ACK");
	EXPECT_EQ(iss + 1, ntohl(hdr(&r)->ack_seq));
	/* MSS, NOP, WS, then KX on a 4-byte boundary, then HSMAC. */
	ASSERT_EQ(SYNACK_DOFF, hdr(&r)->doff);
	ASSERT_EQ(SYNACK_DOFF * 4, r.len);
	EXPECT_EQ(MIGTCP_OPT_MSS, r.buf[28]);
	EXPECT_EQ(MIGTCP_OPT_NOP, r.buf[32]);
	EXPECT_EQ(MIGTCP_OPT_WSCALE, r.buf[33]);
	kx = find_kx(&r);
	ASSERT_EQ(r.buf + 36, kx);
	EXPECT_EQ(MIGTCP_OPTLEN_KX, kx[1]);
	EXPECT_EQ(MIGTCP_KX_SUITE_HMAC_SHA256, kx[2]);
	EXPECT_EQ(0, kx[3]) TH_LOG("K flag set without a cluster key");
	memcpy(lhalf, kx + 4, HALF_LEN);
	EXPECT_NE(0, memcmp(lhalf, half, HALF_LEN));
	liss = ntohl(hdr(&r)->seq);
	EXPECT_EQ(MIGTCP_OPT_HSMAC, r.buf[72]);
	EXPECT_EQ(MIGTCP_OPTLEN_HSMAC, r.buf[73]);

	/* The ACK's only option: the handshake MAC, under no key. */
	ASSERT_EQ(0, hs_mac(NULL, HS_ACK_LABEL, NODE_BLACKHOLE, sport, NODE2,
			    KX_PORT, half, lhalf, mac));
	build(&s, NODE3_ADDR, NODE2_ADDR, NODE_BLACKHOLE, sport, NODE2,
	      KX_PORT, MIGTCP_F_ACK, iss + 1, liss + 1, KX_NONE, NULL, 0);
	s.len = sizeof(struct migtcphdr) + MIGTCP_OPTLEN_HSMAC;
	s.buf[offsetof(struct migtcphdr, doff)] = s.len / 4;
	hs_put_opt(s.buf + sizeof(struct migtcphdr), mac);
	migtcp_test_set_csum(s.buf, s.len, inet_addr(NODE3_ADDR),
			     inet_addr(NODE2_ADDR), migtcp_proto());
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	ON_NODE(NODE2);
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);

	want = expected_fingerprint(NULL, NODE_BLACKHOLE, sport, half, NODE2,
				    KX_PORT, lhalf);
	ASSERT_NE(0ULL, want) TH_LOG("python3 computed no fingerprint");
	EXPECT_EQ(want, fingerprint(_metadata, afd));
	EXPECT_EQ(0, node_stat(self, NODE2, "InKxErrors"));

	/* An abort: no orphan stays behind to resend a FIN to nobody. */
	ASSERT_EQ(0, setsockopt(afd, SOL_SOCKET, SO_LINGER, &abort_linger,
				sizeof(abort_linger)));
	close(afd);
	close(cap);
	close(tx);
	close(lfd);
}

/*
 * A raw "node 3" at NODE3_ADDR, an address of node 2: node 1 connects to
 * it, the test answers.  Returns the client socket (non-blocking, SYN
 * sent) and the SYN it sent.
 */
static int connect_raw_node3(struct __test_metadata *_metadata,
			     CLUSTER *self, int srv, struct raw_seg *syn)
{
	int cfd;

	ON_NODE(NODE1);
	cfd = mig_socket(self->family, SOCK_NONBLOCK);
	if (cfd < 0)
		return -1;
	EXPECT_EQ(-1, connect_to(cfd, self->family, NODE_BLACKHOLE, RAW_PORT));
	EXPECT_EQ(EINPROGRESS, errno);
	if (!raw_wait(srv, WAIT_MS, MIGTCP_F_SYN, NODE_BLACKHOLE, RAW_PORT,
		      syn)) {
		TH_LOG("node 3 saw no SYN");
		close(cfd);
		return -1;
	}
	return cfd;
}

/* Node 2 also answers for NODE3_ADDR; its raw socket bound there. */
static int raw_node3(struct __test_metadata *_metadata, CLUSTER *self)
{
	ON_NODE(NODE2);
	if (blackhole_on_node2(self))
		return -1;
	return raw_bound_in(_metadata, self->ns[NODE2], NODE3_ADDR);
}

/*
 * An acceptable SYN-ACK without a usable KX option refuses the
 * connection: connect() fails with ECONNREFUSED, the segment is answered
 * with a reset of its acknowledgment number, InKxErrors counts it.
 */
TEST_F(cluster, synack_without_kx_refused)
{
	static const enum kx_variant bad[] = { KX_NONE, KX_SUITE2, KX_LEN35 };
	__u8 half[HALF_LEN];
	struct raw_seg syn, s, r;
	int srv, cfd, i;
	long kx;

	memset(half, 0x42, sizeof(half));
	srv = raw_node3(_metadata, self);
	ASSERT_LE(0, srv);
	for (i = 0; i < (int)ARRAY_SIZE(bad); i++) {
		__u32 iss, cport;

		TH_LOG("SYN-ACK with %s", kx_variant_names[bad[i]]);
		kx = node_stat(self, NODE1, "InKxErrors");
		cfd = connect_raw_node3(_metadata, self, srv, &syn);
		ASSERT_LE(0, cfd);
		iss = ntohl(hdr(&syn)->seq);
		cport = ntohs(hdr(&syn)->src_port);
		build(&s, NODE3_ADDR, NODE1_ADDR, NODE_BLACKHOLE, RAW_PORT,
		      NODE1, cport, MIGTCP_F_SYN | MIGTCP_F_ACK, 0x7000,
		      iss + 1, bad[i], half, 0);
		raw_send(_metadata, srv, &s, NODE1_ADDR);

		ASSERT_EQ(POLLOUT | POLLERR | POLLHUP,
			  poll_one(cfd, POLLOUT, WAIT_MS));
		EXPECT_EQ(ECONNREFUSED, so_error(cfd));
		ASSERT_TRUE(raw_wait(srv, WAIT_MS, MIGTCP_F_RST, NODE_BLACKHOLE,
				     RAW_PORT, &r)) TH_LOG("no reset");
		EXPECT_EQ(iss + 1, ntohl(hdr(&r)->seq));
		EXPECT_EQ(MIGTCP_HDR_MIN_DOFF, hdr(&r)->doff);
		EXPECT_EQ(cport, ntohs(hdr(&r)->src_port));
		EXPECT_EQ(kx + 1, wait_node_stat(self, NODE1, "InKxErrors", kx + 1, WAIT_MS));
		EXPECT_EQ(0ULL, fingerprint(_metadata, cfd));
		close(cfd);
	}
	close(srv);
}

/*
 * A SYN-ACK that acknowledges something else is not an answer to the
 * SYN: without KX it is answered with a reset and aborts nothing.  The
 * right SYN-ACK then completes the handshake, and the key is the
 * protocol's formula under node 1's cluster key, the client (node 1 <
 * node 3) first.
 */
TEST_F(cluster, unacceptable_synack_ignored)
{
	const struct linger abort_linger = { .l_onoff = 1, .l_linger = 0 };
	__u8 half[HALF_LEN], key[MIGTCP_KEY_LEN], chalf[HALF_LEN];
	__u8 mac[MIGTCP_HSMAC_LEN];
	struct raw_seg syn, s, r;
	int srv, cfd, i;
	__u32 iss, cport;
	const __u8 *kx;
	__u64 want;
	long kx_errs;

	for (i = 0; i < HALF_LEN; i++)
		half[i] = 0xff - i;
	memset(key, 0x99, sizeof(key));
	set_key(_metadata, self, NODE1, 0x99);
	srv = raw_node3(_metadata, self);
	ASSERT_LE(0, srv);
	kx_errs = node_stat(self, NODE1, "InKxErrors");
	cfd = connect_raw_node3(_metadata, self, srv, &syn);
	ASSERT_LE(0, cfd);
	iss = ntohl(hdr(&syn)->seq);
	cport = ntohs(hdr(&syn)->src_port);
	kx = find_kx(&syn);
	ASSERT_NE(NULL, kx);
	EXPECT_EQ(MIGTCP_KX_F_KEY, kx[3]) TH_LOG("no K flag with a key");
	memcpy(chalf, kx + 4, HALF_LEN);

	build(&s, NODE3_ADDR, NODE1_ADDR, NODE_BLACKHOLE, RAW_PORT, NODE1,
	      cport, MIGTCP_F_SYN | MIGTCP_F_ACK, 0x9000, iss + 2, KX_NONE,
	      NULL, 0);
	raw_send(_metadata, srv, &s, NODE1_ADDR);
	ASSERT_TRUE(raw_wait(srv, WAIT_MS, MIGTCP_F_RST, NODE_BLACKHOLE,
			     RAW_PORT, &r)) TH_LOG("no reset");
	EXPECT_EQ(iss + 2, ntohl(hdr(&r)->seq));
	EXPECT_EQ(0, poll_one(cfd, POLLOUT, 300)) TH_LOG("connect() ended");
	EXPECT_EQ(0, so_error(cfd));
	EXPECT_EQ(kx_errs, node_stat(self, NODE1, "InKxErrors"));

	/*
	 * Now the real answer, K flag set as node 1's key is, and the
	 * handshake MAC under that key after the KX option.
	 */
	build(&s, NODE3_ADDR, NODE1_ADDR, NODE_BLACKHOLE, RAW_PORT, NODE1,
	      cport, MIGTCP_F_SYN | MIGTCP_F_ACK, 0x9000, iss + 1, KX_GOOD,
	      half, MIGTCP_KX_F_KEY);
	ASSERT_EQ(0, hs_mac(key, HS_SYNACK_LABEL, NODE1, cport,
			    NODE_BLACKHOLE, RAW_PORT, chalf, half, mac));
	hs_put_opt(s.buf + s.len, mac);
	s.len += MIGTCP_OPTLEN_HSMAC;
	s.buf[offsetof(struct migtcphdr, doff)] = s.len / 4;
	migtcp_test_set_csum(s.buf, s.len, inet_addr(NODE3_ADDR),
			     inet_addr(NODE1_ADDR), migtcp_proto());
	raw_send(_metadata, srv, &s, NODE1_ADDR);
	ASSERT_EQ(POLLOUT, poll_one(cfd, POLLOUT, WAIT_MS));
	EXPECT_EQ(0, so_error(cfd));
	ASSERT_TRUE(raw_wait(srv, WAIT_MS, MIGTCP_F_ACK, NODE_BLACKHOLE,
			     RAW_PORT, &r)) TH_LOG("no ACK of the SYN-ACK");
	EXPECT_EQ(0x9001U, ntohl(hdr(&r)->ack_seq));

	want = expected_fingerprint(key, NODE1, cport, chalf, NODE_BLACKHOLE,
				    RAW_PORT, half);
	ASSERT_NE(0ULL, want) TH_LOG("python3 computed no fingerprint");
	EXPECT_EQ(want, fingerprint(_metadata, cfd));
	EXPECT_EQ(kx_errs, node_stat(self, NODE1, "InKxErrors"));
	/* An abort: no orphan stays behind to resend a FIN to nobody. */
	ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, SO_LINGER, &abort_linger,
				sizeof(abort_linger)));
	close(cfd);
	close(srv);
}

/*
 * A SYN retransmitted to a silent peer carries the same sequence number
 * and the same half; another connection draws another half.  Also the
 * SYN's layout: MSS, NOP, WS, KX at offset 36, NOP, NOP, SACK permitted,
 * doff 19.
 */
TEST_F_TIMEOUT(cluster, syn_retransmission_same_half, 30)
{
	struct raw_seg syn1, syn2, other;
	const __u8 *kx1, *kx2, *kxo;
	int srv, cfd, cfd2;

	srv = raw_node3(_metadata, self);
	ASSERT_LE(0, srv);
	cfd = connect_raw_node3(_metadata, self, srv, &syn1);
	ASSERT_LE(0, cfd);
	/* The initial RTO is 1 s. */
	ASSERT_TRUE(raw_wait(srv, 3000, MIGTCP_F_SYN, NODE_BLACKHOLE,
			     RAW_PORT, &syn2)) TH_LOG("no retransmission");
	EXPECT_EQ(ntohl(hdr(&syn1)->seq), ntohl(hdr(&syn2)->seq));
	EXPECT_EQ(hdr(&syn1)->src_port, hdr(&syn2)->src_port);
	ASSERT_EQ(SYN_DOFF, hdr(&syn1)->doff);
	ASSERT_EQ(SYN_DOFF, hdr(&syn2)->doff);
	EXPECT_EQ(MIGTCP_OPT_MSS, syn1.buf[28]);
	EXPECT_EQ(MIGTCP_OPTLEN_MSS, syn1.buf[29]);
	EXPECT_EQ(MIGTCP_OPT_NOP, syn1.buf[32]);
	EXPECT_EQ(MIGTCP_OPT_WSCALE, syn1.buf[33]);
	EXPECT_EQ(MIGTCP_OPTLEN_WSCALE, syn1.buf[34]);
	kx1 = find_kx(&syn1);
	kx2 = find_kx(&syn2);
	ASSERT_EQ(syn1.buf + 36, kx1);
	ASSERT_EQ(syn2.buf + 36, kx2);
	EXPECT_EQ(0, memcmp(kx1, kx2, MIGTCP_OPTLEN_KX))
		TH_LOG("the retransmitted SYN has another KX option");
	EXPECT_EQ(MIGTCP_OPTLEN_KX, kx1[1]);
	EXPECT_EQ(MIGTCP_KX_SUITE_HMAC_SHA256, kx1[2]);
	EXPECT_EQ(0, kx1[3]);

	cfd2 = connect_raw_node3(_metadata, self, srv, &other);
	ASSERT_LE(0, cfd2);
	kxo = find_kx(&other);
	ASSERT_NE(NULL, kxo);
	EXPECT_NE(0, memcmp(kx1 + 4, kxo + 4, HALF_LEN))
		TH_LOG("two connections drew the same half");
	close(cfd2);
	close(cfd);
	close(srv);
}

/* Sets the module parameter syncookies (the fixture puts it back). */
static void set_syncookies(struct __test_metadata *_metadata, int mode)
{
	ASSERT_EQ(0, sh("echo %d >/sys/module/migtcp/parameters/syncookies",
			mode)) TH_LOG("cannot set syncookies=%d", mode);
}

/* @len bytes of a pattern that differs per @seed and per position. */
static void pattern(char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)(i * 131 + seed + (i >> 9));
}

/* @len bytes from @from to @to, checked byte for byte at the other end. */
static void stream_checked(struct __test_metadata *_metadata, int from, int to,
			   size_t len, unsigned int seed)
{
	char *want = malloc(len), *got = malloc(len);
	size_t sent = 0, rcvd = 0;
	ssize_t n;

	ASSERT_TRUE(want && got);
	pattern(want, len, seed);
	ASSERT_EQ(0, fcntl(from, F_SETFL, O_NONBLOCK));
	while (rcvd < len) {
		if (sent < len) {
			n = send(from, want + sent, len - sent, MSG_NOSIGNAL);
			if (n > 0) {
				sent += n;
			} else {
				ASSERT_EQ(EAGAIN, errno)
					TH_LOG("send: %s", strerror(errno));
			}
		}
		n = recv(to, got + rcvd, len - rcvd, 0);
		ASSERT_LT(0, n) TH_LOG("recv after %zu bytes: %s", rcvd,
				       n ? strerror(errno) : "end of stream");
		rcvd += n;
	}
	ASSERT_EQ(0, fcntl(from, F_SETFL, 0));
	EXPECT_EQ(0, memcmp(want, got, len)) TH_LOG("the data differ");
	free(want);
	free(got);
}

/*
 * syncookies=2: every SYN is answered with a SYN cookie, and the
 * connection made from its ACK works as any other: both ends derive the
 * same key, data goes both ways byte for byte, and node 2 counts one
 * connection made from a cookie.
 */
TEST_F(cluster, syncookie_connection_carries_data)
{
	long sent, recvd, failed;
	int cfd = -1, afd = -1;

	set_syncookies(_metadata, 2);
	sent = node_stat(self, NODE2, "SyncookiesSent");
	recvd = node_stat(self, NODE2, "SyncookiesRecv");
	failed = node_stat(self, NODE2, "SyncookiesFailed");
	connect_pair(_metadata, self, &cfd, &afd);
	ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
	ping_pong(_metadata, cfd, afd);
	EXPECT_NE(0ULL, fingerprint(_metadata, cfd));
	EXPECT_EQ(fingerprint(_metadata, cfd), fingerprint(_metadata, afd));
	stream_checked(_metadata, cfd, afd, 1 << 20, 1);
	stream_checked(_metadata, afd, cfd, 1 << 20, 2);
	EXPECT_LE(sent + 1, node_stat(self, NODE2, "SyncookiesSent"));
	EXPECT_EQ(recvd + 1, node_stat(self, NODE2, "SyncookiesRecv"));
	EXPECT_EQ(failed, node_stat(self, NODE2, "SyncookiesFailed"));
	close(cfd);
	close(afd);
}

/*
 * syncookies=1 (the default): a listener whose backlog a handshake that
 * never completes fills answers the next SYN with a cookie, and that
 * caller connects; with syncookies=0 the next SYN is dropped instead
 * (ListenDrops) and its caller is still waiting.
 */
TEST_F(cluster, syncookie_when_syn_queue_full)
{
	__u8 half[HALF_LEN];
	int lfd, tx, cap, cfd, afd, cfd2;
	struct raw_seg s, r;
	long sent, drops;

	memset(half, 0x5a, sizeof(half));
	set_syncookies(_metadata, 1);
	lfd = raw_client_of_node2(_metadata, self, 1, &tx, &cap);
	sent = node_stat(self, NODE2, "SyncookiesSent");
	drops = node_stat(self, NODE2, "ListenDrops");

	/* A handshake that never completes takes the only slot. */
	build(&s, NODE3_ADDR, NODE2_ADDR, NODE_BLACKHOLE, RAW_SRC_PORT + 20,
	      NODE2, KX_PORT, MIGTCP_F_SYN, 1000, 0, KX_GOOD, half, 0);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	ASSERT_TRUE(raw_wait(cap, WAIT_MS, MIGTCP_F_SYN | MIGTCP_F_ACK,
			     NODE_BLACKHOLE, RAW_SRC_PORT + 20, &r))
		TH_LOG("no SYN-ACK for the raw SYN");
	EXPECT_EQ(0, find_kx(&r)[3] & MIGTCP_KX_F_COOKIE)
		TH_LOG("a SYN cookie while the queue had room");
	EXPECT_EQ(sent, node_stat(self, NODE2, "SyncookiesSent"));

	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, KX_PORT))
		TH_LOG("connect: %s", strerror(errno));
	ON_NODE(NODE2);
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
	ping_pong(_metadata, cfd, afd);
	EXPECT_EQ(sent + 1, node_stat(self, NODE2, "SyncookiesSent"));
	EXPECT_EQ(drops, node_stat(self, NODE2, "ListenDrops"));

	/* Without cookies the full queue drops the next SYN. */
	set_syncookies(_metadata, 0);
	ON_NODE(NODE1);
	cfd2 = mig_socket(self->family, SOCK_NONBLOCK);
	ASSERT_LE(0, cfd2);
	EXPECT_EQ(-1, connect_to(cfd2, self->family, NODE2, KX_PORT));
	EXPECT_EQ(EINPROGRESS, errno);
	EXPECT_LE(drops + 1, wait_node_stat(self, NODE2, "ListenDrops",
					    drops + 1, WAIT_MS));
	EXPECT_EQ(sent + 1, node_stat(self, NODE2, "SyncookiesSent"));
	EXPECT_EQ(0, poll_one(cfd2, POLLOUT, 100))
		TH_LOG("connected through a full queue");
	close(cfd2);
	close(cfd);
	close(afd);
	close(cap);
	close(tx);
	close(lfd);
}

/*
 * An ACK answering a SYN cookie, built by hand from node 3: the handshake
 * MAC option, then the KX option again (@kx_half: none if NULL), with
 * @ack as its acknowledgment number.
 */
static void build_cookie_ack(struct raw_seg *s, __u16 sport, __u32 seq,
			     __u32 ack, const __u8 *kx_half, const __u8 *mac)
{
	build(s, NODE3_ADDR, NODE2_ADDR, NODE_BLACKHOLE, sport, NODE2,
	      KX_PORT, MIGTCP_F_ACK, seq, ack, KX_NONE, NULL, 0);
	s->len = sizeof(struct migtcphdr);
	hs_put_opt(s->buf + s->len, mac);
	s->len += MIGTCP_OPTLEN_HSMAC;
	if (kx_half) {
		__u8 *opt = s->buf + s->len;

		opt[0] = MIGTCP_OPT_KX;
		opt[1] = MIGTCP_OPTLEN_KX;
		opt[2] = MIGTCP_KX_SUITE_HMAC_SHA256;
		opt[3] = 0;
		memcpy(opt + 4, kx_half, HALF_LEN);
		s->len += MIGTCP_OPTLEN_KX;
	}
	s->buf[offsetof(struct migtcphdr, doff)] = s->len / 4;
	migtcp_test_set_csum(s->buf, s->len, inet_addr(NODE3_ADDR),
			     inet_addr(NODE2_ADDR), migtcp_proto());
}

/* Whether listener @lfd has a connection to accept within @ms. */
static bool acceptable(int lfd, int ms)
{
	return poll_one(lfd, POLLIN, ms) == POLLIN;
}

/*
 * The wire format of a SYN cookie, played from node 3 by hand: the
 * SYN-ACK has the layout of any SYN-ACK, with the C flag in its KX
 * option; the same SYN again draws the same answer (nothing was kept,
 * and nothing changed); an ACK whose cookie is wrong, whose MAC is
 * wrong, or without the KX option again is reset and makes nothing; the
 * right one makes a connection, with the key of the two halves, which
 * node 2 acknowledges at once.
 */
TEST_F(cluster, syncookie_wire_format)
{
	const struct linger abort_linger = { .l_onoff = 1, .l_linger = 0 };
	__u8 half[HALF_LEN], lhalf[HALF_LEN], mac[MIGTCP_HSMAC_LEN];
	__u8 bad_mac[MIGTCP_HSMAC_LEN];
	const __u16 sport = RAW_SRC_PORT + 30;
	const __u32 iss = 0x7ffffff0U;
	long failed, bad, recvd;
	int lfd, tx, cap, afd;
	struct raw_seg s, r, r2;
	const __u8 *kx;
	__u32 cookie;
	int i;

	for (i = 0; i < HALF_LEN; i++)
		half[i] = 0x40 + i;
	set_syncookies(_metadata, 2);
	lfd = raw_client_of_node2(_metadata, self, 8, &tx, &cap);
	failed = node_stat(self, NODE2, "SyncookiesFailed");
	bad = node_stat(self, NODE2, "InHsBadMac");
	recvd = node_stat(self, NODE2, "SyncookiesRecv");

	build(&s, NODE3_ADDR, NODE2_ADDR, NODE_BLACKHOLE, sport, NODE2,
	      KX_PORT, MIGTCP_F_SYN, iss, 0, KX_GOOD, half, 0);
	/*
	 * The same SYN twice, the same answer: nothing was kept of the
	 * first.  A cookie holds the minute it was made in, so a pair that
	 * straddles the turn of one differs there, and is sent again: the
	 * next turn is a minute away.
	 */
	for (i = 0; i < 2; i++) {
		raw_send(_metadata, tx, &s, NODE2_ADDR);
		ASSERT_TRUE(raw_wait(cap, WAIT_MS, MIGTCP_F_SYN | MIGTCP_F_ACK,
				     NODE_BLACKHOLE, sport, &r))
			TH_LOG("no SYN-ACK");
		raw_send(_metadata, tx, &s, NODE2_ADDR);
		ASSERT_TRUE(raw_wait(cap, WAIT_MS, MIGTCP_F_SYN | MIGTCP_F_ACK,
				     NODE_BLACKHOLE, sport, &r2));
		/* The minute is in the top two bits (docs/protocol.md). */
		if (!((ntohl(hdr(&r)->seq) ^ ntohl(hdr(&r2)->seq)) >> 30))
			break;
		TH_LOG("cookies %#x and %#x of two minutes: once more",
		       ntohl(hdr(&r)->seq), ntohl(hdr(&r2)->seq));
	}
	EXPECT_EQ(iss + 1, ntohl(hdr(&r)->ack_seq));
	ASSERT_EQ(SYNACK_DOFF, hdr(&r)->doff);
	kx = find_kx(&r);
	ASSERT_EQ(r.buf + 36, kx);
	EXPECT_EQ(MIGTCP_KX_F_COOKIE, kx[3]) TH_LOG("KX flags %#x", kx[3]);
	memcpy(lhalf, kx + 4, HALF_LEN);
	cookie = ntohl(hdr(&r)->seq);
	EXPECT_EQ(MIGTCP_OPT_HSMAC, r.buf[72]);
	EXPECT_FALSE(acceptable(lfd, 0)) TH_LOG("a connection from a SYN");
	EXPECT_EQ(cookie, ntohl(hdr(&r2)->seq));
	EXPECT_EQ(0, memcmp(lhalf, find_kx(&r2) + 4, HALF_LEN));

	ASSERT_EQ(0, hs_mac(NULL, HS_ACK_LABEL, NODE_BLACKHOLE, sport, NODE2,
			    KX_PORT, half, lhalf, mac));

	/* A cookie one off. */
	build_cookie_ack(&s, sport, iss + 1, cookie + 2, half, mac);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	EXPECT_TRUE(raw_wait(cap, WAIT_MS, MIGTCP_F_RST, NODE_BLACKHOLE,
			     sport, &r2)) TH_LOG("no reset for a bad cookie");
	EXPECT_EQ(failed + 1, node_stat(self, NODE2, "SyncookiesFailed"));

	/* The right cookie, a wrong MAC. */
	memcpy(bad_mac, mac, sizeof(bad_mac));
	bad_mac[0] ^= 1;
	build_cookie_ack(&s, sport, iss + 1, cookie + 1, half, bad_mac);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	EXPECT_TRUE(raw_wait(cap, WAIT_MS, MIGTCP_F_RST, NODE_BLACKHOLE,
			     sport, &r2)) TH_LOG("no reset for a bad MAC");
	EXPECT_EQ(bad + 1, node_stat(self, NODE2, "InHsBadMac"));

	/* The right cookie and MAC, without the KX option again. */
	build_cookie_ack(&s, sport, iss + 1, cookie + 1, NULL, mac);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	EXPECT_TRUE(raw_wait(cap, WAIT_MS, MIGTCP_F_RST, NODE_BLACKHOLE,
			     sport, &r2)) TH_LOG("no reset without KX");
	EXPECT_FALSE(acceptable(lfd, 0)) TH_LOG("a connection from a bad ACK");
	EXPECT_EQ(recvd, node_stat(self, NODE2, "SyncookiesRecv"));

	/* The right ACK: a connection, acknowledged at once. */
	build_cookie_ack(&s, sport, iss + 1, cookie + 1, half, mac);
	raw_send(_metadata, tx, &s, NODE2_ADDR);
	ASSERT_TRUE(raw_wait(cap, WAIT_MS, MIGTCP_F_ACK, NODE_BLACKHOLE,
			     sport, &r2)) TH_LOG("node 2 did not acknowledge");
	EXPECT_EQ(cookie + 1, ntohl(hdr(&r2)->seq));
	EXPECT_EQ(iss + 1, ntohl(hdr(&r2)->ack_seq));
	EXPECT_EQ(recvd + 1, node_stat(self, NODE2, "SyncookiesRecv"));
	ON_NODE(NODE2);
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	EXPECT_EQ(expected_fingerprint(NULL, NODE_BLACKHOLE, sport, half,
				       NODE2, KX_PORT, lhalf),
		  fingerprint(_metadata, afd));
	ASSERT_EQ(0, setsockopt(afd, SOL_SOCKET, SO_LINGER, &abort_linger,
				sizeof(abort_linger)));
	close(afd);
	close(cap);
	close(tx);
	close(lfd);
}

/*
 * After a SYN cookie, the first segment of either side after the
 * handshake is lost (an nftables rule drops the first one that matches,
 * on @node's output): the connecting side's ACK that makes the
 * connection, or the listener's ACK that releases the connecting side's
 * data.  The connecting side's timer sends its ACK again, and the data
 * arrive, byte for byte.
 */
static void cookie_first_segment_lost(struct __test_metadata *_metadata,
				      CLUSTER *self, unsigned int node,
				      const char *match)
{
	int cfd = -1, afd = -1, lfd;
	char buf[4] = "";
	long retrans;

	set_syncookies(_metadata, 2);
	ON_NODE(node);
	/* The rule's limit makes it match the first such segment only. */
	nft_migtcp_rule(_metadata, "inet cookie_loss", "output", match,
			"drop");
	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, KX_PORT, 8);
	ASSERT_LE(0, lfd);
	retrans = node_stat(self, NODE1, "RetransSegs");
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, KX_PORT))
		TH_LOG("connect: %s", strerror(errno));
	/* Sent now, held until node 2 is seen to have the connection. */
	ASSERT_EQ(4, send(cfd, "ping", 4, MSG_NOSIGNAL));
	ON_NODE(NODE2);
	/* One retransmission timeout (initially 1 s), and a margin. */
	ASSERT_TRUE(acceptable(lfd, 4 * WAIT_MS))
		TH_LOG("no connection after the first ACK was lost");
	afd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
	ASSERT_EQ(4, recv(afd, buf, sizeof(buf), MSG_WAITALL))
		TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "ping", 4));
	ON_NODE(node);
	EXPECT_EQ(1, nft_counter("inet cookie_loss", "hits"));
	EXPECT_LE(retrans + 1, node_stat(self, NODE1, "RetransSegs"));
	stream_checked(_metadata, cfd, afd, 256 << 10, 3);
	close(cfd);
	close(afd);
	close(lfd);
}

/*
 * Node 1's ACK with the handshake MAC, the KX option and SACK permitted
 * (doff 22).
 */
TEST_F(cluster, syncookie_ack_lost)
{
	cookie_first_segment_lost(_metadata, self, NODE1,
				  "@th,8,8 22 @th,16,16 0x0010 limit rate 1/hour burst 1 packets");
}

/* Node 2's first ACK without options (doff 7). */
TEST_F(cluster, syncookie_answer_lost)
{
	cookie_first_segment_lost(_metadata, self, NODE2,
				  "@th,8,8 7 @th,16,16 0x0010 limit rate 1/hour burst 1 packets");
}

TEST_HARNESS_MAIN
