// SPDX-License-Identifier: GPL-2.0
/*
 * Selective acknowledgments (RFC 2018) and their duplicate report
 * (RFC 2883), as the wire shows them: both SYNs offer SACK permitted
 * unless the module parameter sack is 0; the receiver's ACKs name the
 * data it holds beyond a hole, the block of the latest segment first;
 * data that arrives twice is reported once as a D-SACK block.
 *
 * Segments are watched with a raw socket of migtcp's protocol on the node
 * they arrive at.  The loss is made, not hoped for: the other end of the
 * veth drops exactly the data packets a test names (add_determ_loss()).
 */
#include <netinet/in.h>
#include <stddef.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"

#define SACK_PARAM	"/sys/module/migtcp/parameters/sack"
#define RACK_PARAM	"/sys/module/migtcp/parameters/rack"
#define SEG_BYTES	1000	/* each write: one segment of its own */

static const struct migtcphdr *hdr(const struct raw_seg *s)
{
	return (const struct migtcphdr *)s->buf;
}

/* The option of @kind in @s: its first byte, or NULL. */
static const __u8 *find_opt(const struct raw_seg *s, __u8 kind)
{
	return seg_find_opt(s->buf, s->len, kind);
}

/* A segment of @flags exactly to @port arriving on raw socket @fd. */
static bool next_to(int fd, __u16 flags, __u16 port, long wait_ms,
		    struct raw_seg *s)
{
	long end = now_ms() + wait_ms;

	while (raw_next_seg(fd, end, sizeof(struct migtcphdr),
			    MIGTCP_TEST_SEG_MAX, s)) {
		if (ntohs(hdr(s)->flags) == flags &&
		    ntohs(hdr(s)->dst_port) == port)
			return true;
	}
	return false;
}

/* SACK blocks of @s, relative to @base: up to @max, as pairs. */
static int sack_blocks(const struct raw_seg *s, __u32 base, __u32 *blocks,
		       int max)
{
	const __u8 *opt = find_opt(s, MIGTCP_OPT_SACK);
	int n, i;

	if (!opt)
		return 0;
	n = (opt[1] - 2) / MIGTCP_SACK_BLOCK_LEN;
	for (i = 0; i < n && i < max; i++) {
		__u32 v[2];

		memcpy(v, opt + 2 + i * MIGTCP_SACK_BLOCK_LEN, sizeof(v));
		blocks[2 * i] = ntohl(v[0]) - base;
		blocks[2 * i + 1] = ntohl(v[1]) - base;
	}
	return n;
}

/*
 * Node 1 connects from port @cport to a listener of node 2 on @port:
 * @cfd and @afd, each with a guard of @guard seconds on blocking calls.
 */
static void pair_on(struct __test_metadata *_metadata, CLUSTER *self,
		    __u16 cport, __u16 port, int guard, int *cfd, int *afd)
{
	int lfd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, port, 1);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	*cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, *cfd);
	ASSERT_EQ(0, bind_to(*cfd, self->family, 0, cport));
	ASSERT_EQ(0, connect_to(*cfd, self->family, NODE2, port))
		TH_LOG("connect: %s", strerror(errno));
	*afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, *afd);
	close(lfd);
	ASSERT_EQ(0, set_timeouts(*afd, guard));
	ASSERT_EQ(0, set_timeouts(*cfd, guard));
}

/*
 * pair_on() for connection @pair (ports PORT + 10 + @pair and PORT +
 * @pair, guards of @guard seconds) with node 1's end watched: where its
 * data starts (the sequence number the SYN-ACK acknowledges) in *@base,
 * its MSS in *@mss; the raw socket that saw the SYN-ACK in *@cap, still
 * open, or closed if @cap is NULL.
 */
static void watched_pair(struct __test_metadata *_metadata, CLUSTER *self,
			 unsigned int pair, int guard, int *cfd, int *afd,
			 __u32 *base, __u32 *mss, int *cap)
{
	const __u16 cport = PORT + 10 + pair;
	struct migtcp_info info;
	struct raw_seg synack;
	int fd;

	fd = raw_on(_metadata, self, NODE1);
	ASSERT_LE(0, fd);
	pair_on(_metadata, self, cport, PORT + pair, guard, cfd, afd);
	ASSERT_TRUE(next_to(fd, MIGTCP_F_SYN | MIGTCP_F_ACK, cport, WAIT_MS,
			    &synack));
	*base = ntohl(hdr(&synack)->ack_seq);
	ASSERT_EQ(0, get_info(*cfd, &info));
	*mss = info.snd_mss;
	ASSERT_GE(9000U, *mss);
	if (cap)
		*cap = fd;
	else
		close(fd);
}

/* Fills @buf with a pattern of @seed; checks it back with same_pattern(). */
static void pattern(char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)(i * 7 + seed + (i >> 8));
}

/* Whether SYN (or SYN-ACK) @s offers SACK: NOP, NOP, kind 4, length 2. */
static bool offers_sack(const struct raw_seg *s)
{
	const __u8 *opt = find_opt(s, MIGTCP_OPT_SACK_PERM);

	return opt && opt[1] == MIGTCP_OPTLEN_SACK_PERM;
}

/*
 * Both SYNs offer SACK permitted, after the KX option (SYN doff 19,
 * SYN-ACK doff 24); with the module parameter sack at 0, neither does
 * (doff 18 and 23), and the connection works the same.
 */
TEST_F(cluster, sack_permitted_in_both_syns)
{
	static const int want_syn[2] = { 18, 19 }, want_synack[2] = { 23, 24 };
	const __u16 cport = PORT + 10;
	int on, cap1, cap2, cfd, afd;
	struct raw_seg syn, synack;
	char c = 'x';

	for (on = 0; on <= 1; on++) {
		ASSERT_EQ(0, sh("echo %d >" SACK_PARAM, on));
		cap1 = raw_on(_metadata, self, NODE1);
		cap2 = raw_on(_metadata, self, NODE2);
		ASSERT_LE(0, cap1);
		ASSERT_LE(0, cap2);
		pair_on(_metadata, self, cport + on, PORT + on, GUARD_SEC,
			&cfd, &afd);
		ASSERT_TRUE(next_to(cap2, MIGTCP_F_SYN, PORT + on, WAIT_MS,
				    &syn)) TH_LOG("no SYN seen on node 2");
		ASSERT_TRUE(next_to(cap1, MIGTCP_F_SYN | MIGTCP_F_ACK,
				    cport + on, WAIT_MS, &synack))
			TH_LOG("no SYN-ACK seen on node 1");
		EXPECT_EQ(on, offers_sack(&syn)) TH_LOG("sack=%d: SYN", on);
		EXPECT_EQ(on, offers_sack(&synack))
			TH_LOG("sack=%d: SYN-ACK", on);
		EXPECT_EQ(want_syn[on], hdr(&syn)->doff);
		EXPECT_EQ(want_synack[on], hdr(&synack)->doff);
		if (on) {
			/* Right behind the KX option, NOP-aligned. */
			EXPECT_EQ(MIGTCP_OPT_NOP, syn.buf[72]);
			EXPECT_EQ(MIGTCP_OPT_NOP, syn.buf[73]);
			EXPECT_EQ(MIGTCP_OPT_SACK_PERM, syn.buf[74]);
			EXPECT_EQ(MIGTCP_OPT_SACK_PERM, synack.buf[74]);
		}
		ASSERT_EQ(1, write(cfd, &c, 1));
		ASSERT_EQ(1, read(afd, &c, 1));
		close(cfd);
		close(afd);
		close(cap1);
		close(cap2);
	}
}

/*
 * Seven segments of 1000 bytes leave node 1 at once; node 2's side of
 * the veth drops the 3rd and the 6th.  Node 2's ACKs say so: each segment
 * beyond a hole draws an ACK of the hole's start whose first block holds
 * that segment, then the older block: [3000, 4000), then [3000, 5000),
 * then [6000, 7000) and [3000, 5000).  Every byte arrives, in order.
 * The blocks are the receiver's: node 1 uses RFC 6675's DupThresh here,
 * as RACK would send the 3rd again once the 4th is SACKed, before the
 * others arrive, and change which ACKs come.
 */
TEST_F_TIMEOUT(cluster, sack_blocks_name_what_is_held, 60)
{
	static const __u32 want[3][4] = {
		{ 3000, 4000 }, { 3000, 5000 }, { 6000, 7000, 3000, 5000 },
	};
	static const int want_n[3] = { 1, 1, 2 };
	char out[7 * SEG_BYTES], in[sizeof(out)];
	const __u16 cport = PORT + 10;
	int cap, cfd, afd, i, one = 1;
	__u32 base, mss, blocks[8];
	struct raw_seg ack;
	ssize_t n;

	watched_pair(_metadata, self, 0, 30, &cfd, &afd, &base, &mss, &cap);
	ASSERT_EQ(0, sh("echo 0 >" RACK_PARAM));
	add_determ_loss(_metadata, self, NODE1, 3);
	ASSERT_EQ(0, setsockopt(cfd, SOL_MIGTCP, MIGTCP_NODELAY, &one,
				sizeof(one)));
	pattern(out, sizeof(out), 23);
	for (i = 0; i < 7; i++)
		ASSERT_EQ(SEG_BYTES, write(cfd, out + i * SEG_BYTES, SEG_BYTES));

	for (i = 0; i < 3; i++) {
		do {
			ASSERT_TRUE(next_to(cap, MIGTCP_F_ACK, cport, 5000,
					    &ack))
				TH_LOG("ACK %d with SACK blocks: none came", i);
		} while (!find_opt(&ack, MIGTCP_OPT_SACK));
		memset(blocks, 0, sizeof(blocks));
		EXPECT_EQ(want_n[i], sack_blocks(&ack, base, blocks, 4));
		EXPECT_EQ(2000U, ntohl(hdr(&ack)->ack_seq) - base);
		EXPECT_EQ(0, memcmp(want[i], blocks, sizeof(want[i])))
			TH_LOG("ACK %d: blocks [%u, %u) [%u, %u)", i,
			       blocks[0], blocks[1], blocks[2], blocks[3]);
	}
	n = recv(afd, in, sizeof(in), MSG_WAITALL);
	ASSERT_EQ((ssize_t)sizeof(in), n) TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(out, in, sizeof(in)));
	EXPECT_LE(4, node_stat(self, NODE2, "OutSackBlocks"));
	EXPECT_LE(4, node_stat(self, NODE1, "InSackBlocks"));
	EXPECT_EQ(0, node_stat(self, NODE1, "InSackInvalid"));
	EXPECT_EQ(0, node_stat(self, NODE2, "InSackInvalid"));
	netem_dropped(self, NODE1);
	close(cfd);
	close(afd);
	close(cap);
}

/*
 * A segment that arrives twice (netem duplicates all node 1 sends) is
 * reported by the ACK that answers the copy: a D-SACK block of exactly
 * its bytes, below the acknowledgment (RFC 2883 4.1.1); node 2 counts
 * it sent, node 1 received.
 */
TEST_F_TIMEOUT(cluster, dsack_reports_a_duplicate, 30)
{
	char out[SEG_BYTES], in[sizeof(out)];
	const __u16 cport = PORT + 10;
	__u32 base, mss, blocks[8];
	int cap, cfd, afd;
	struct raw_seg ack;

	watched_pair(_metadata, self, 0, GUARD_SEC, &cfd, &afd, &base, &mss,
		     &cap);
	add_netem(_metadata, self, NODE1, "duplicate 100%");
	pattern(out, sizeof(out), 29);
	ASSERT_EQ(SEG_BYTES, write(cfd, out, sizeof(out)));
	do {
		ASSERT_TRUE(next_to(cap, MIGTCP_F_ACK, cport, 5000, &ack))
			TH_LOG("no ACK with a D-SACK block came");
	} while (!find_opt(&ack, MIGTCP_OPT_SACK));
	memset(blocks, 0, sizeof(blocks));
	EXPECT_EQ(1, sack_blocks(&ack, base, blocks, 4));
	EXPECT_EQ((__u32)SEG_BYTES, ntohl(hdr(&ack)->ack_seq) - base);
	EXPECT_EQ(0U, blocks[0]);
	EXPECT_EQ((__u32)SEG_BYTES, blocks[1]);
	ASSERT_EQ((ssize_t)sizeof(in), recv(afd, in, sizeof(in), MSG_WAITALL));
	EXPECT_EQ(0, memcmp(out, in, sizeof(in)));
	EXPECT_EQ(1, wait_node_stat(self, NODE1, "InDsacks", 1,
				       WAIT_MS));
	EXPECT_EQ(1, node_stat(self, NODE2, "OutDsacks"));
	EXPECT_EQ(0, node_stat(self, NODE1, "InSackBlocks"));
	EXPECT_EQ(0, node_stat(self, NODE1, "InSackInvalid"));
	close(cfd);
	close(afd);
	close(cap);
}

#define TRACING		"/sys/kernel/tracing"

/* Writes @str to tracefs file @name; 0 or -1. */
static int trace_write(const char *name, const char *str)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), TRACING "/%s", name);
	f = fopen(path, "we");
	if (!f)
		return -1;
	ok = fputs(str, f) >= 0;
	return fclose(f) || !ok ? -1 : 0;
}

/*
 * The migtcp_retransmit lines traced since trace_retransmits(true): the
 * sequence number and SND.UNA of each, relative to @base, up to @max;
 * how many there were.  Printed.  Tracing stops.
 */
static int trace_retransmits_read(__u32 base, __u32 *seq, __u32 *una,
				  int max)
{
	char line[512];
	int n = 0;
	FILE *f;

	trace_write("events/migtcp/migtcp_retransmit/enable", "0");
	f = fopen(TRACING "/trace", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, " seq=");
		char *q = strstr(line, " snd_una=");

		if (line[0] == '#' || !p || !q)
			continue;
		fprintf(stderr, "# %s", line);
		if (n < max) {
			seq[n] = strtoul(p + 5, NULL, 10) - base;
			una[n] = strtoul(q + 9, NULL, 10) - base;
		}
		n++;
	}
	fclose(f);
	return n;
}

/*
 * RFC 6675 recovery: ten segments leave node 1 in one write (one GSO
 * packet, cut into segments before node 1's device, which is told it
 * cannot);
 * node 2 drops the first copy of the 3rd and of the 5th on their way in.
 * The SACK blocks show both lost, so node 1 sends the 5th again while
 * the 3rd is still unacknowledged (the migtcp_retransmit tracepoint
 * says SND.UNA; NewReno would wait for the partial ACK of the resent
 * 3rd): two retransmissions in all, no timeout, every byte in order.
 */
TEST_F_TIMEOUT(cluster, sack_recovery_resends_holes_at_once, 60)
{
	static char out[10 * 9000], in[sizeof(out)];
	__u32 base, mss, seq[4], una[4];
	int cfd, afd, n;
	char match[96];
	size_t len;
	long retrans;

	ON_NODE(NODE1);
	/* migtcp's GSO packets are labelled SCTP's (offload_test.c). */
	ASSERT_EQ(0, sh("ethtool -K mig1 tx-sctp-segmentation off >/dev/null"));
	watched_pair(_metadata, self, 0, 30, &cfd, &afd, &base, &mss, NULL);
	len = 10 * mss;
	ON_NODE(NODE2);
	snprintf(match, sizeof(match),
		 "@th,128,32 %u limit rate 1/hour burst 1 packets",
		 base + 2 * mss);
	nft_migtcp_rule(_metadata, "inet sackloss2", "input", match, "drop");
	snprintf(match, sizeof(match),
		 "@th,128,32 %u limit rate 1/hour burst 1 packets",
		 base + 4 * mss);
	nft_migtcp_rule(_metadata, "inet sackloss4", "input", match, "drop");
	retrans = node_stat(self, NODE1, "RetransSegs");
	ASSERT_EQ(0, trace_write("trace", ""));
	ASSERT_EQ(0, trace_write("events/migtcp/migtcp_retransmit/enable", "1"))
		TH_LOG("cannot trace migtcp_retransmit");

	pattern(out, len, 31);
	ASSERT_EQ((ssize_t)len, write(cfd, out, len));
	ASSERT_EQ((ssize_t)len, recv(afd, in, len, MSG_WAITALL))
		TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(out, in, len));
	ON_NODE(NODE2);
	EXPECT_EQ(1, nft_counter("inet sackloss2", "hits"));
	EXPECT_EQ(1, nft_counter("inet sackloss4", "hits"));
	EXPECT_EQ(retrans + 2, node_stat(self, NODE1, "RetransSegs"));

	/* The 3rd and then the 5th, both before the 3rd was acknowledged. */
	n = trace_retransmits_read(base, seq, una, 4);
	ASSERT_EQ(2, n);
	EXPECT_EQ(2 * mss, seq[0]);
	EXPECT_EQ(2 * mss, una[0]);
	EXPECT_EQ(4 * mss, seq[1]);
	EXPECT_EQ(2 * mss, una[1])
		TH_LOG("the 5th went again only once the 3rd was acknowledged");
	close(cfd);
	close(afd);
}

/* Where a segment's sequence number is, from the IP header on. */
#ifdef CLUSTER_IPV6
#define SEQ_AT	"56"
#else
#define SEQ_AT	"36"
#endif

/*
 * A recovery that was not needed is undone: node 1 writes ten segments
 * one by one and holds back both copies of the 3rd for 30 ms (a prio
 * qdisc sends that sequence number through netem).  The SACKs of the others start a
 * recovery that sends it again; the late original then completes the
 * data, and the retransmission arrives as a duplicate, which node 2
 * reports with a D-SACK block.  Every retransmission of the recovery
 * thus came back: node 1 undoes it (DsackUndo) and its congestion window
 * is what it was before.  This is RFC 6675's recovery (rack at 0): the
 * writes go one by one, so RACK would find the retransmission itself
 * lost (held back too) once a segment written after it is SACKed, and
 * send it again for each.
 */
TEST_F_TIMEOUT(cluster, dsack_undoes_a_needless_recovery, 60)
{
	static char out[10 * 9000], in[sizeof(out)];
	struct migtcp_info info;
	__u32 base, mss, cwnd;
	int cfd, afd, i, one = 1;
	long retrans;
	size_t len;

	watched_pair(_metadata, self, 0, 30, &cfd, &afd, &base, &mss, NULL);
	ASSERT_EQ(0, get_info(cfd, &info));
	cwnd = info.snd_cwnd;
	len = 10 * mss;
	ASSERT_EQ(0, sh("echo 0 >" RACK_PARAM));
	ON_NODE(NODE1);
	sh("modprobe -q sch_prio 2>/dev/null; modprobe -q sch_netem 2>/dev/null");
	ASSERT_EQ(0, sh("tc qdisc add dev mig1 root handle 1: prio bands 3 priomap 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"));
	ASSERT_EQ(0, sh("tc qdisc add dev mig1 parent 1:3 handle 30: netem delay 30ms"));
	ASSERT_EQ(0, sh("tc filter add dev mig1 parent 1: " UL_TC_MATCH
			" match u32 %u 0xffffffff at " SEQ_AT " flowid 1:3",
			1, migtcp_proto(), base + 2 * mss));
	retrans = node_stat(self, NODE1, "RetransSegs");

	/* Segment by segment: a qdisc sees GSO packets before they are cut. */
	ASSERT_EQ(0, setsockopt(cfd, SOL_MIGTCP, MIGTCP_NODELAY, &one,
				sizeof(one)));
	pattern(out, len, 37);
	for (i = 0; i < 10; i++)
		ASSERT_EQ((ssize_t)mss, write(cfd, out + i * mss, mss));
	ASSERT_EQ((ssize_t)len, recv(afd, in, len, MSG_WAITALL))
		TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(out, in, len));
	EXPECT_EQ(1, wait_node_stat(self, NODE1, "DsackUndo", 1, 5000));
	EXPECT_EQ(retrans + 1, node_stat(self, NODE1, "RetransSegs"));
	EXPECT_EQ(1, node_stat(self, NODE1, "InDsacks"));
	EXPECT_EQ(1, node_stat(self, NODE2, "OutDsacks"));
	ASSERT_EQ(0, get_info(cfd, &info));
	EXPECT_LE(cwnd, info.snd_cwnd) TH_LOG("the window was not undone");
	close(cfd);
	close(afd);
}

/*
 * Node 1 and node 2 set up for one loss: connection @pair (its ports
 * PORT + 10 + @pair and PORT + @pair) with its RTT measured (a byte went
 * and came back: the loss probe needs it), its MSS in *@mss, and node 2
 * dropping the first copy of the @nth segment (from 0) that node 1 sends
 * next (nft table @table).  Node 1 sends without Nagle.
 */
static void one_loss_at(struct __test_metadata *_metadata, CLUSTER *self,
			unsigned int pair, const char *table, unsigned int nth,
			int *cfd, int *afd, __u32 *mss)
{
	struct migtcp_info info;
	char match[96], c = 'r';
	int one = 1;
	__u32 base;

	watched_pair(_metadata, self, pair, 30, cfd, afd, &base, mss, NULL);
	ASSERT_EQ(0, setsockopt(*cfd, SOL_MIGTCP, MIGTCP_NODELAY, &one,
				sizeof(one)));
	ASSERT_EQ(1, write(*cfd, &c, 1));
	ASSERT_EQ(1, read(*afd, &c, 1));
	ASSERT_TRUE(wait_unacked(*cfd, WAIT_MS));
	ASSERT_EQ(0, get_info(*cfd, &info));
	ASSERT_LT(0U, info.rtt_us);
	ON_NODE(NODE2);
	snprintf(match, sizeof(match),
		 "@th,128,32 %u limit rate 1/hour burst 1 packets",
		 base + 1 + nth * *mss);
	nft_migtcp_rule(_metadata, table, "input", match, "drop");
	ON_NODE(NODE1);
}

/*
 * RACK (RFC 8985): two segments go, node 2 drops the first.  The second
 * is SACKed: one duplicate ACK, which DupThresh would never count as a
 * loss, so only a timeout could send the first again.  RACK sees that a
 * segment sent later arrived and the first did not within its RTT and
 * the reordering window, and sends it again: no timeout, one
 * retransmission, every byte.  With the module parameter rack at 0 the
 * same takes a timeout.
 */
TEST_F_TIMEOUT(cluster, rack_resends_after_one_duplicate, 60)
{
	static char out[2 * 9000], in[sizeof(out)];
	static const char *const tables[2] = { "inet rack0", "inet rack1" };
	long retrans, timeouts, lost;
	int cfd, afd, on;
	__u32 mss;

	for (on = 0; on <= 1; on++) {
		ASSERT_EQ(0, sh("echo %d >" RACK_PARAM, on));
		one_loss_at(_metadata, self, on, tables[on], 0, &cfd, &afd,
			    &mss);
		retrans = node_stat(self, NODE1, "RetransSegs");
		timeouts = node_stat(self, NODE1, "Timeouts");
		lost = node_stat(self, NODE1, "RackLost");
		pattern(out, 2 * mss, 41 + on);
		ASSERT_EQ((ssize_t)mss, write(cfd, out, mss));
		ASSERT_EQ((ssize_t)mss, write(cfd, out + mss, mss));
		ASSERT_EQ((ssize_t)(2 * mss), recv(afd, in, 2 * mss, MSG_WAITALL))
			TH_LOG("rack=%d: recv: %s", on, strerror(errno));
		EXPECT_EQ(0, memcmp(out, in, 2 * mss));
		ON_NODE(NODE2);
		EXPECT_EQ(1, nft_counter(tables[on], "hits"));
		EXPECT_EQ(retrans + 1, node_stat(self, NODE1, "RetransSegs"))
			TH_LOG("rack=%d", on);
		EXPECT_EQ(timeouts + !on, node_stat(self, NODE1, "Timeouts"))
			TH_LOG("rack=%d: the first went again %s a timeout", on,
			       on ? "after" : "without");
		EXPECT_EQ(lost + on, node_stat(self, NODE1, "RackLost"));
		close(cfd);
		close(afd);
	}
}

/*
 * The tail loss probe (RFC 8985 7): two segments go, node 2 drops the
 * second, the last: nothing comes after it that could be SACKed.  Two
 * RTTs later node 1 sends it again as a probe (TlpProbes), before any
 * timeout; the next write's ACK, beyond the probe, without a D-SACK of
 * it, shows that the probe repaired a loss (TlpRecoveries).
 */
TEST_F_TIMEOUT(cluster, tlp_repairs_a_lost_tail, 60)
{
	static char out[3 * 9000], in[sizeof(out)];
	long retrans, timeouts, probes, repaired;
	int cfd, afd;
	__u32 mss;

	ASSERT_EQ(0, sh("echo 1 >" RACK_PARAM));
	one_loss_at(_metadata, self, 0, "inet tlp", 1, &cfd, &afd, &mss);
	retrans = node_stat(self, NODE1, "RetransSegs");
	timeouts = node_stat(self, NODE1, "Timeouts");
	probes = node_stat(self, NODE1, "TlpProbes");
	repaired = node_stat(self, NODE1, "TlpRecoveries");
	pattern(out, 3 * mss, 43);
	ASSERT_EQ((ssize_t)mss, write(cfd, out, mss));
	ASSERT_EQ((ssize_t)mss, write(cfd, out + mss, mss));
	ASSERT_EQ((ssize_t)(2 * mss), recv(afd, in, 2 * mss, MSG_WAITALL))
		TH_LOG("recv: %s", strerror(errno));
	ASSERT_TRUE(wait_unacked(cfd, WAIT_MS));
	ASSERT_EQ((ssize_t)mss, write(cfd, out + 2 * mss, mss));
	ASSERT_EQ((ssize_t)mss, recv(afd, in + 2 * mss, mss, MSG_WAITALL));
	ASSERT_TRUE(wait_unacked(cfd, WAIT_MS));
	EXPECT_EQ(0, memcmp(out, in, 3 * mss));
	ON_NODE(NODE2);
	EXPECT_EQ(1, nft_counter("inet tlp", "hits"));
	EXPECT_EQ(retrans + 1, node_stat(self, NODE1, "RetransSegs"));
	EXPECT_EQ(probes + 1, node_stat(self, NODE1, "TlpProbes"));
	EXPECT_EQ(repaired + 1, node_stat(self, NODE1, "TlpRecoveries"));
	EXPECT_EQ(timeouts, node_stat(self, NODE1, "Timeouts"))
		TH_LOG("the tail went again after a timeout");
	close(cfd);
	close(afd);
}

/*
 * RACK learns that the path reorders (RFC 8985 6.2): node 2's ACKs take
 * 100 ms (netem), node 1's segments none, except two that a prio qdisc
 * holds back.  Ten segments go at once, the 3rd 40 ms late: the others
 * are SACKed first, and with no reordering seen (and DupThresh segments
 * SACKed) the reordering window is zero: the 3rd goes again, and its
 * retransmission arrives as a duplicate (D-SACK, undo).  Reordering is
 * now seen and the D-SACK doubled the window (a quarter of the 100 ms
 * minimum RTT, times 2): ten more segments, whose 3rd is 10 ms late, go
 * without a retransmission.
 */
TEST_F_TIMEOUT(cluster, rack_reordering_window_grows_with_dsacks, 60)
{
	static char out[20 * 9000], in[sizeof(out)];
	struct migtcp_info info;
	int cfd, afd, i, one = 1;
	long retrans, lost;
	__u32 base, mss;
	char c = 'w';
	size_t len;

	ASSERT_EQ(0, sh("echo 1 >" RACK_PARAM));
	watched_pair(_metadata, self, 0, 30, &cfd, &afd, &base, &mss, NULL);
	base++;		/* after the byte of the first round trip */
	len = 10 * mss;
	add_netem(_metadata, self, NODE2, "delay 100ms");
	ON_NODE(NODE1);
	sh("modprobe -q sch_prio 2>/dev/null");
	ASSERT_EQ(0, sh("tc qdisc add dev mig1 root handle 1: prio bands 3 priomap 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"));
	ASSERT_EQ(0, sh("tc qdisc add dev mig1 parent 1:2 handle 20: netem delay 10ms"));
	ASSERT_EQ(0, sh("tc qdisc add dev mig1 parent 1:3 handle 30: netem delay 40ms"));
	ASSERT_EQ(0, sh("tc filter add dev mig1 parent 1: " UL_TC_MATCH
			" match u32 %u 0xffffffff at " SEQ_AT " flowid 1:3",
			1, migtcp_proto(), base + 2 * mss));
	ASSERT_EQ(0, sh("tc filter add dev mig1 parent 1: " UL_TC_MATCH
			" match u32 %u 0xffffffff at " SEQ_AT " flowid 1:2",
			2, migtcp_proto(), base + 12 * mss));
	/* A round trip first: the minimum RTT (100 ms) is known. */
	ASSERT_EQ(0, setsockopt(cfd, SOL_MIGTCP, MIGTCP_NODELAY, &one,
				sizeof(one)));
	ASSERT_EQ(1, write(cfd, &c, 1));
	ASSERT_EQ(1, read(afd, &c, 1));
	ASSERT_TRUE(wait_unacked(cfd, WAIT_MS));
	ASSERT_EQ(0, get_info(cfd, &info));
	EXPECT_LE(100000U, info.min_rtt_us);
	EXPECT_GE(info.min_rtt_us / 4, info.reo_wnd_us)
		TH_LOG("reordering window %u us before any reordering",
		       info.reo_wnd_us);

	retrans = node_stat(self, NODE1, "RetransSegs");
	pattern(out, 2 * len, 47);
	for (i = 0; i < 10; i++)
		ASSERT_EQ((ssize_t)mss, write(cfd, out + i * mss, mss));
	ASSERT_EQ((ssize_t)len, recv(afd, in, len, MSG_WAITALL))
		TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ(1, wait_node_stat(self, NODE1, "DsackUndo", 1, 5000));
	EXPECT_EQ(retrans + 1, node_stat(self, NODE1, "RetransSegs"));
	ASSERT_TRUE(wait_unacked(cfd, WAIT_MS));
	ASSERT_EQ(0, get_info(cfd, &info));
	fprintf(stderr, "# min RTT %u us, reordering window %u us\n",
		info.min_rtt_us, info.reo_wnd_us);
	EXPECT_LE(info.min_rtt_us / 4 * 2, info.reo_wnd_us)
		TH_LOG("the window did not grow with the D-SACK");

	retrans = node_stat(self, NODE1, "RetransSegs");
	lost = node_stat(self, NODE1, "RackLost");
	for (i = 10; i < 20; i++)
		ASSERT_EQ((ssize_t)mss, write(cfd, out + i * mss, mss));
	ASSERT_EQ((ssize_t)len, recv(afd, in + len, len, MSG_WAITALL))
		TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(out, in, 2 * len));
	ASSERT_TRUE(wait_unacked(cfd, WAIT_MS));
	EXPECT_EQ(retrans, node_stat(self, NODE1, "RetransSegs"))
		TH_LOG("a segment 10 ms late went again");
	EXPECT_EQ(lost, node_stat(self, NODE1, "RackLost"));
	close(cfd);
	close(afd);
}

TEST_HARNESS_MAIN
