// SPDX-License-Identifier: GPL-2.0
/*
 * The send path's offloads, and what it does without them.  A queued skb
 * of several MSS goes down as one GSO packet (gso_type SKB_GSO_SCTP) and
 * its checksum is left to the device (CHECKSUM_PARTIAL) when it has
 * NETIF_F_HW_CSUM.  veth has both, so by default neither the software
 * segmentation (migtcp_gso_segment) nor the software checksum runs: these
 * tests turn the features off on both ends of the veth with ethtool
 * (before connecting: the connection reads them when it routes), move
 * several MiB each way, check every byte, and look at the packets on the
 * wire with an AF_PACKET capture on each node:
 *
 *  - tx-sctp-segmentation off: every packet fits the MTU, full ones are
 *    exactly 1500 bytes (MSS-sized segments), and each node sent exactly
 *    as many packets as its OutSegs counter gained;
 *  - tx-checksum-ip-generic off: every packet a node sent carries a
 *    correct checksum over the pseudo-header (the stack, not the device,
 *    computed it), and no InCsumErrors anywhere;
 *  - and with the offloads on, the same capture sees packets larger than
 *    the MTU and fewer packets than OutSegs counts, which proves that it
 *    can tell the difference.
 *
 * Then path MTU discovery through a forwarding hop whose MTU neither end
 * knows (1280, and 1490: between the true length of a 1500-byte segment
 * and what the core would take it for under its GSO label), and the
 * check that ICMP errors about no segment in flight are ignored.
 *
 * Built with CLUSTER_IPV6 (offload6_test), the same tests run over the
 * IPv6 underlay of cluster.h: the capture takes IPv6 packets and checks
 * their checksums over IPv6's pseudo-header, the MSS is 20 bytes smaller
 * (the IPv6 header's 40 bytes), and the path MTU is learnt from ICMPv6
 * Packet Too Big.
 */
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"
#include "stream.h"

#define MTU		1500	/* veth's default */
#ifdef CLUSTER_IPV6
#define IP_HLEN		40U	/* no extension headers are sent */
#define ETH_P_UL	ETH_P_IPV6
#else
#define IP_HLEN		20U	/* no options are sent */
#define ETH_P_UL	ETH_P_IP
#endif
/* The IP header and ours: the MSS of a path is its MTU less these. */
#define HDRS_LEN	(IP_HLEN + 28U)
#define XFER_BYTES	(4 * MiB)
#define XFER_CHUNK	(256 * KiB)
/*
 * Once data stops, the counters are read again every QUIET_MS until two
 * reads agree (the last ACKs and delayed ACKs have left), QUIET_TRIES
 * times at most: a loaded machine may send them late, never for long.
 */
#define QUIET_MS	500
#define QUIET_TRIES	20

/*
 * Each test's limit is a guard against a hang, not a measure: on the
 * debug kernel (KASAN, lockdep) under TCG one test takes about 100 s.
 */
#define OFFLOAD_TEST_TIMEOUT	300

/* What one node's capture saw of migtcp packets on its veth device. */
struct capture {
	int fd;
	pthread_t thread;
	bool stop;		/* set by the test, read by the thread */
	bool check_csum;	/* verify the checksum of packets it sent */
	long sent, received;	/* packets, by direction */
	long over_mtu;		/* packets longer than the MTU */
	long full;		/* packets sent of exactly the MTU */
	long max_len;
	long csum_checked, csum_bad;
	int err;		/* errno of a failed recv, or 0 */
};

#ifdef CLUSTER_IPV6
/*
 * Whether IPv6 packet @pkt of @len bytes carries a migtcp segment: right
 * after its fixed header, as no extension header is ever sent.
 */
static bool is_migtcp(const __u8 *pkt, ssize_t len)
{
	return len >= 40 && (pkt[0] >> 4) == 6 && pkt[6] == migtcp_proto();
}

/* The length of the headers of IPv6 packet @pkt (is_migtcp()). */
static size_t ip_hlen(const __u8 *pkt)
{
	return 40;
}

/*
 * Writes into @buf the pseudo-header of IPv6 packet @pkt, whose segment
 * has @seglen bytes (RFC 8200 8.1: source, destination, the 32-bit
 * upper-layer length, three zero bytes, the next header); its length.
 */
static size_t pseudo_hdr(__u8 *buf, const __u8 *pkt, size_t seglen)
{
	memcpy(buf, pkt + 8, 32);	/* source and destination */
	buf[32] = seglen >> 24;
	buf[33] = (seglen >> 16) & 0xff;
	buf[34] = (seglen >> 8) & 0xff;
	buf[35] = seglen & 0xff;
	memset(buf + 36, 0, 3);
	buf[39] = pkt[6];
	return 40;
}
#else
/* Whether IPv4 packet @pkt of @len bytes carries a migtcp segment. */
static bool is_migtcp(const __u8 *pkt, ssize_t len)
{
	return len >= 20 && (pkt[0] >> 4) == 4 && pkt[9] == migtcp_proto();
}

/* The length of the header of IPv4 packet @pkt, options included. */
static size_t ip_hlen(const __u8 *pkt)
{
	return (pkt[0] & 0xf) * 4;
}

/*
 * Writes into @buf the pseudo-header of IPv4 packet @pkt, whose segment
 * has @seglen bytes (source, destination, a zero byte, the protocol, the
 * 16-bit length); its length.
 */
static size_t pseudo_hdr(__u8 *buf, const __u8 *pkt, size_t seglen)
{
	memcpy(buf, pkt + 12, 8);	/* source and destination */
	buf[8] = 0;
	buf[9] = pkt[9];
	buf[10] = seglen >> 8;
	buf[11] = seglen & 0xff;
	return 12;
}
#endif

/*
 * Whether IP packet @pkt of @len bytes (is_migtcp()) carries a migtcp
 * segment with a correct checksum over its pseudo-header: summed with its
 * checksum field, it folds to all ones.
 */
static bool csum_ok(const __u8 *pkt, size_t len)
{
	static __thread __u8 buf[40 + 65536];
	size_t hlen = ip_hlen(pkt), seglen = len - hlen, plen;

	if (len < hlen + sizeof(struct migtcphdr) || seglen > 65536)
		return false;
	plen = pseudo_hdr(buf, pkt, seglen);
	memcpy(buf + plen, pkt + hlen, seglen);
	return inet_csum(buf, plen + seglen) == 0;
}

static void capture_one(struct capture *c, const __u8 *pkt, ssize_t len,
			const struct sockaddr_ll *from)
{
	bool out = from->sll_pkttype == PACKET_OUTGOING;

	if (from->sll_protocol != htons(ETH_P_UL) || !is_migtcp(pkt, len))
		return;
	if (out)
		c->sent++;
	else
		c->received++;
	if (len > c->max_len)
		c->max_len = len;
	if (len > MTU)
		c->over_mtu++;
	if (len == MTU && out)
		c->full++;
	if (out && c->check_csum) {
		c->csum_checked++;
		if (!csum_ok(pkt, len))
			c->csum_bad++;
	}
}

/* Reads packets until told to stop, then what is still queued. */
static void *capture_main(void *arg)
{
	static __thread __u8 pkt[65536 + 4096];
	struct capture *c = arg;

	for (;;) {
		struct sockaddr_ll from;
		socklen_t fromlen = sizeof(from);
		ssize_t len;

		/* MSG_TRUNC: the length on the wire, even if longer. */
		len = recvfrom(c->fd, pkt, sizeof(pkt), MSG_TRUNC | MSG_DONTWAIT,
			       (struct sockaddr *)&from, &fromlen);
		if (len >= 0) {
			capture_one(c, pkt, len, &from);
			continue;
		}
		if (errno != EAGAIN) {
			c->err = errno;
			break;
		}
		if (__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE))
			break;
		poll_one(c->fd, POLLIN, 50);
	}
	return NULL;
}

/* Starts capturing every packet of @node's veth device, both ways. */
static void capture_start(struct __test_metadata *_metadata, CLUSTER *self,
			  unsigned int node, struct capture *c, bool check_csum)
{
	/* ETH_P_ALL: only such taps see what the device sends. */
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	char dev[IFNAMSIZ];
	int size = 64 << 20;

	memset(c, 0, sizeof(*c));
	c->check_csum = check_csum;
	ON_NODE(node);
	snprintf(dev, sizeof(dev), "mig%u", node);
	sll.sll_ifindex = if_nametoindex(dev);
	ASSERT_LT(0, sll.sll_ifindex) TH_LOG("no device %s", dev);
	c->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, c->fd) TH_LOG("packet socket: %s", strerror(errno));
	/* Room for all of it, so that a slow reader under TCG loses nothing. */
	ASSERT_EQ(0, setsockopt(c->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
				sizeof(size)));
	ASSERT_EQ(0, bind(c->fd, (struct sockaddr *)&sll, sizeof(sll)))
		TH_LOG("bind to %s: %s", dev, strerror(errno));
	ASSERT_EQ(0, pthread_create(&c->thread, NULL, capture_main, c));
}

static void capture_stop(struct __test_metadata *_metadata, unsigned int node,
			 struct capture *c)
{
	struct tpacket_stats st = {};
	socklen_t len = sizeof(st);

	__atomic_store_n(&c->stop, true, __ATOMIC_RELEASE);
	pthread_join(c->thread, NULL);
	EXPECT_EQ(0, c->err) TH_LOG("capture on node %u: %s", node,
				    strerror(c->err));
	ASSERT_EQ(0, getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &st,
				&len));
	EXPECT_EQ(0U, st.tp_drops)
		TH_LOG("the capture on node %u lost packets", node);
	close(c->fd);
	fprintf(stderr, "# node %u sent %ld (%ld of %d bytes) and received %ld migtcp packets, %ld longer than that, longest %ld",
		node, c->sent, c->full, MTU, c->received, c->over_mtu,
		c->max_len);
	if (c->check_csum)
		fprintf(stderr, ", %ld of %ld sent without a correct checksum",
			c->csum_bad, c->csum_checked);
	fprintf(stderr, "\n");
}

/* Sets @node's veth features with "ethtool -K", and checks they took. */
static void set_features(struct __test_metadata *_metadata, CLUSTER *self,
			 unsigned int node, const char *feature,
			 const char *value)
{
	ON_NODE(node);
	/* Its report of what else changed is no TAP. */
	ASSERT_EQ(0, sh("ethtool -K mig%u %s %s >/dev/null", node, feature,
			value))
		TH_LOG("ethtool -K mig%u %s %s failed", node, feature, value);
	ASSERT_EQ(0, sh("ethtool -k mig%u | grep -Eq '^\\s*%s: %s'", node,
			feature, value))
		TH_LOG("mig%u: %s is not %s", node, feature, value);
}

/* The counters each test reads, of both nodes. */
struct counts {
	long out_segs[3], csum_errors[3];
};

static void read_counts(struct __test_metadata *_metadata, CLUSTER *self,
			struct counts *c)
{
	unsigned int node;

	for (node = NODE1; node <= NODE2; node++) {
		c->out_segs[node] = node_stat(self, node, "OutSegs");
		c->csum_errors[node] = node_stat(self, node, "InCsumErrors");
		ASSERT_LE(0, c->out_segs[node]);
		ASSERT_LE(0, c->csum_errors[node]);
	}
}

/*
 * Connects node 1 to node 2 (with the features as they are now), captures
 * on both nodes (checking the checksums of sent packets when
 * @check_csum) while XFER_BYTES go each way, checked byte for byte, and
 * returns the captures and the counters' gains.
 */
static void transfer_captured(struct __test_metadata *_metadata,
			      CLUSTER *self, bool check_csum,
			      struct capture *cap, struct counts *gain)
{
	struct counts before, after;
	unsigned int node;
	int cfd, afd, tries;

	CONNECT_PAIR(&cfd, &afd);
	capture_start(_metadata, self, NODE1, &cap[NODE1], check_csum);
	capture_start(_metadata, self, NODE2, &cap[NODE2], check_csum);
	read_counts(_metadata, self, &before);
	TRANSFER(cfd, afd, XFER_BYTES, XFER_BYTES, XFER_CHUNK);
	read_counts(_metadata, self, &after);
	for (tries = 0; tries < QUIET_TRIES; tries++) {
		struct counts last = after;

		sleep_ms(QUIET_MS);
		read_counts(_metadata, self, &after);
		if (!memcmp(&last, &after, sizeof(after)))
			break;
	}
	capture_stop(_metadata, NODE1, &cap[NODE1]);
	capture_stop(_metadata, NODE2, &cap[NODE2]);
	for (node = NODE1; node <= NODE2; node++) {
		gain->out_segs[node] = after.out_segs[node] -
				       before.out_segs[node];
		gain->csum_errors[node] = after.csum_errors[node] -
					  before.csum_errors[node];
		fprintf(stderr, "# node %u: OutSegs +%ld, InCsumErrors +%ld\n",
			node, gain->out_segs[node], gain->csum_errors[node]);
	}
	close(afd);
	close(cfd);
}

/* No segment arrived with a bad checksum on either node. */
static void expect_no_csum_errors(struct __test_metadata *_metadata,
				  const struct counts *gain)
{
	EXPECT_EQ(0, gain->csum_errors[NODE1]);
	EXPECT_EQ(0, gain->csum_errors[NODE2]);
}

/*
 * The control: with veth's offloads on, GSO packets cross the veth
 * whole.  The capture sees packets longer than the MTU, and fewer
 * packets than the OutSegs counter (which counts the segments in them);
 * and the checksums it sees are the device's to finish (CHECKSUM_PARTIAL
 * leaves only the pseudo-header's sum in the field), so the checksum
 * check of the software test would fail here.
 */
TEST_F_TIMEOUT(cluster, offloads_on_gso_packets_cross_whole, OFFLOAD_TEST_TIMEOUT)
{
	struct capture cap[3];
	struct counts gain;
	unsigned int node;

	for (node = NODE1; node <= NODE2; node++) {
		set_features(_metadata, self, node, "tx-sctp-segmentation", "on");
		set_features(_metadata, self, node, "tx-checksum-ip-generic",
			     "on");
	}
	transfer_captured(_metadata, self, true, cap, &gain);
	for (node = NODE1; node <= NODE2; node++) {
		EXPECT_LT(0, cap[node].over_mtu)
			TH_LOG("node %u sent no GSO packet", node);
		EXPECT_GT(gain.out_segs[node], cap[node].sent);
		EXPECT_LT(0, cap[node].csum_bad)
			TH_LOG("node %u: every checksum complete on the wire", node);
	}
	expect_no_csum_errors(_metadata, &gain);
}

/*
 * Without tx-sctp-segmentation the stack cuts GSO packets with
 * migtcp_gso_segment(): only MSS-sized segments (and smaller) cross the
 * veth, one packet per segment counted, and the device still computes
 * the checksums of the segments.
 */
TEST_F_TIMEOUT(cluster, gso_off_segments_fit_the_mtu, OFFLOAD_TEST_TIMEOUT)
{
	struct capture cap[3];
	struct counts gain;
	unsigned int node;

	for (node = NODE1; node <= NODE2; node++)
		set_features(_metadata, self, node, "tx-sctp-segmentation",
			     "off");
	transfer_captured(_metadata, self, false, cap, &gain);
	for (node = NODE1; node <= NODE2; node++) {
		EXPECT_EQ(0, cap[node].over_mtu)
			TH_LOG("node %u: %ld packets longer than %d bytes, longest %ld",
			       node, cap[node].over_mtu, MTU, cap[node].max_len);
		EXPECT_EQ(MTU, cap[node].max_len);
		/* Most of 4 MiB goes in full segments. */
		EXPECT_LT((long)(XFER_BYTES / MTU / 2), cap[node].full);
		EXPECT_EQ(gain.out_segs[node], cap[node].sent)
			TH_LOG("node %u: OutSegs counted %ld, %ld packets sent",
			       node, gain.out_segs[node], cap[node].sent);
		/* What one node sent, the other received. */
		EXPECT_EQ(cap[node].sent, cap[NODE1 + NODE2 - node].received);
	}
	expect_no_csum_errors(_metadata, &gain);
}

/*
 * Without tx-checksum-ip-generic the device computes no checksum: the
 * stack does, for single segments when it builds them and for GSO
 * packets when it cuts them (a device that cannot checksum takes no GSO
 * packet).  Every packet sent carries a correct checksum, and the
 * receiving node, which verifies them, counts no error.
 */
TEST_F_TIMEOUT(cluster, csum_off_checksums_in_software, OFFLOAD_TEST_TIMEOUT)
{
	struct capture cap[3];
	struct counts gain;
	unsigned int node;

	for (node = NODE1; node <= NODE2; node++)
		set_features(_metadata, self, node, "tx-checksum-ip-generic",
			     "off");
	transfer_captured(_metadata, self, true, cap, &gain);
	for (node = NODE1; node <= NODE2; node++) {
		EXPECT_LT((long)(XFER_BYTES / MTU), cap[node].csum_checked);
		EXPECT_EQ(0, cap[node].csum_bad)
			TH_LOG("node %u sent %ld of %ld packets with a wrong checksum",
			       node, cap[node].csum_bad, cap[node].csum_checked);
		EXPECT_EQ(0, cap[node].over_mtu);
		EXPECT_EQ(gain.out_segs[node], cap[node].sent);
	}
	expect_no_csum_errors(_metadata, &gain);
}

#ifdef CLUSTER_IPV6
/*
 * How node 1's route into node 4 takes the hop's MTU.  "ip route change"
 * finds IPv6's prefix route only by its metric (256, not the 1024 it
 * assumes), and IPv6 forwards by the device's MTU unless the route's is
 * locked (ip6_forward()); IPv4 forwards by the route's.
 */
#define HOP_ROUTE_MTU	"metric 256 mtu lock"
#else
#define HOP_ROUTE_MTU	"mtu"
#endif

/*
 * Path MTU discovery through a middle hop that neither end knows of.
 * Node 4 sits behind node 1 (add_node4()), which forwards between node 2
 * and node 4 along a route of MTU @mtu: the narrow link into node 4,
 * whose device has that MTU too.  Both ends still take 1500 bytes for
 * their own path (node 4's route says so), so each offers the MSS of a
 * 1500-byte link and the handshake lowers nothing.  Node 1 cuts the GSO
 * packets it forwards in software, as a real NIC's driver would see them
 * (tx-sctp-segmentation off): a packet longer than @mtu then does not
 * reach node 4.  Node 1 answers node 2's first larger packet with "ICMP
 * fragmentation needed" (DF is set; over IPv6, which no router
 * fragments, with ICMPv6 "Packet Too Big"), and node 2's end must learn
 * the MTU from it and go on.  Returns the connected pair: *@cfd on node
 * 2, *@afd on node 4 (self->ns[0], closed by the caller).
 */
static void connect_over_hop(struct __test_metadata *_metadata, CLUSTER *self,
			     unsigned int mtu, int *cfd, int *afd)
{
	struct migtcp_info info;
	int ns4, lfd;

	ns4 = add_node4(_metadata, self);
	ASSERT_LE(0, ns4);
	self->ns[0] = ns4;
	ASSERT_EQ(0, sh("ip route change " NODE4_NET " dev mig14 " HOP_ROUTE_MTU
			" %u && ethtool -K mig14 tx-sctp-segmentation off >/dev/null",
			mtu));
	ON_NODE(0);
	ASSERT_EQ(0, sh("ip link set mig4 mtu %u && ip route change " UL_NET
			" via " NODE14_LINK_ADDR " mtu %u", mtu, MTU));
	lfd = listener(_metadata, self->family, PORT, 1);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE2);
	*cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, *cfd);
	ASSERT_EQ(0, connect_to(*cfd, self->family, NODE4, PORT))
		TH_LOG("connect: %s", strerror(errno));
	*afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, *afd);
	close(lfd);
	GET_INFO(*cfd, &info);
	EXPECT_EQ(MTU - HDRS_LEN, info.snd_mss)
		TH_LOG("node 2 starts with the MSS of its own link");
}

/*
 * Packets that device @dev of the current node could not pass on (veth
 * counts a packet too long for its peer's MTU as a transmit drop), from
 * /proc/net/dev; -1 if it is not there.
 */
static long tx_dropped(const char *dev)
{
	char line[512], name[64];
	long v[16], found = -1;
	FILE *f = fopen("/proc/net/dev", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!colon || sscanf(line, " %63[^:]", name) != 1 ||
		    strcmp(name, dev))
			continue;
		/* rx: bytes packets errs drop fifo frame compressed
		 * multicast; tx: bytes packets errs drop ...
		 */
		if (sscanf(colon + 1, "%ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7], &v[8], &v[9], &v[10], &v[11]) == 12)
			found = v[11];
	}
	fclose(f);
	return found;
}

/*
 * After a transfer over connect_over_hop(): node 2's end sends with the
 * MSS that the hop allows (node 4's, whose path is not narrowed, with
 * its own), and node 1 sent nothing into the hop that its device had to
 * drop: every packet too long was answered with the ICMP error.
 */
static void expect_mss_of_hop(struct __test_metadata *_metadata,
			      CLUSTER *self, int cfd, int afd,
			      unsigned int mtu)
{
	struct migtcp_info info;

	ON_NODE(NODE1);
	EXPECT_EQ(0, tx_dropped("mig14"))
		TH_LOG("node 1 forwarded packets too long for the hop");

	GET_INFO(cfd, &info);
	EXPECT_EQ(mtu - HDRS_LEN, info.snd_mss)
		TH_LOG("node 2's MSS is %u after the hop of MTU %u",
		       info.snd_mss, mtu);
	GET_INFO(afd, &info);
	EXPECT_EQ(MTU - HDRS_LEN, info.snd_mss);
}

/*
 * Over connect_over_hop() with a hop of MTU @mtu: node 2 learns it from
 * node 1's ICMP error, sends again at the new size what was dropped, and
 * 2 MiB cross each way, byte for byte.
 */
static void transfer_over_hop(struct __test_metadata *_metadata,
			      CLUSTER *self, unsigned int mtu)
{
	int cfd, afd;

	connect_over_hop(_metadata, self, mtu, &cfd, &afd);
	TRANSFER(cfd, afd, 2 * MiB, 2 * MiB, XFER_CHUNK);
	expect_mss_of_hop(_metadata, self, cfd, afd, mtu);
	close(cfd);
	close(afd);
	close(self->ns[0]);
	self->ns[0] = -1;
}

/* A hop of MTU 1280 (IPv6's minimum, common on tunnels). */
TEST_F_TIMEOUT(cluster, path_mtu_of_a_middle_hop_is_learned, OFFLOAD_TEST_TIMEOUT)
{
	transfer_over_hop(_metadata, self, 1280);
}

/*
 * A hop of MTU 1490: node 2's segments, 1500 bytes long, do not fit, but
 * the core measures a GSO packet's segments by its label's header (SCTP's
 * 12 bytes, not our 28): unless gso_size says the true length
 * (MIGTCP_GSO_SIZE_BIAS), node 1 takes them for 1484 bytes, forwards them
 * without a word, and the device drops every one.
 */
TEST_F_TIMEOUT(cluster, gso_packets_meet_a_hop_mtu_at_their_true_length,
	       OFFLOAD_TEST_TIMEOUT)
{
	transfer_over_hop(_metadata, self, 1490);
}

#ifdef CLUSTER_IPV6
/*
 * Node 1's raw sockets of migtcp's protocol (cluster.h's raw6_*) and of
 * ICMPv6, and the MTU that the forged error names: at least 1280, as
 * IPv6 ignores a Packet Too Big below its minimum (RFC 8201).
 */
#define RAW_ON		raw6_on
#define RAW_NEXT_SEG	raw6_next_seg
#define ICMP_FAMILY	AF_INET6
#define ICMP_PROTO	IPPROTO_ICMPV6
#define FORGED_MTU	1300U

/*
 * An ICMPv6 "Packet Too Big" about segment @seg, sent by node 2 to node 1
 * (the IPv6 header it quotes), with MTU @mtu, from node 1's raw ICMPv6
 * socket @fd to node 2.  The kernel fills in its checksum (over IPv6's
 * pseudo-header, as ICMPv6's always is).
 */
static void forge_mtu_error(struct __test_metadata *_metadata, int fd,
			    const struct raw_seg *seg, unsigned int mtu)
{
	const struct sockaddr_in6 to = sin6_of(NODE2_ADDR);
	__u8 msg[8 + 40 + 28] = { 2, 0 };	/* packet too big */
	__u8 *ip = msg + 8;

	msg[4] = mtu >> 24;
	msg[5] = (mtu >> 16) & 0xff;
	msg[6] = (mtu >> 8) & 0xff;
	msg[7] = mtu & 0xff;
	ip[0] = 0x60;
	ip[4] = 0x05;		/* a payload length of 1460: 1500 in all */
	ip[5] = 0xb4;
	ip[6] = migtcp_proto();
	ip[7] = 64;
	ASSERT_EQ(1, inet_pton(AF_INET6, NODE2_ADDR, ip + 8));
	ASSERT_EQ(1, inet_pton(AF_INET6, NODE1_ADDR, ip + 24));
	memcpy(ip + 40, seg->buf, 28);
	ASSERT_EQ((ssize_t)sizeof(msg),
		  migtcp_test_sendto(fd, msg, sizeof(msg),
				     (const struct sockaddr *)&to, sizeof(to)))
		TH_LOG("sendto: %s", strerror(errno));
}
#else
#define RAW_ON		raw_on
#define RAW_NEXT_SEG	raw_next_seg
#define ICMP_FAMILY	AF_INET
#define ICMP_PROTO	IPPROTO_ICMP
#define FORGED_MTU	1000U

/* An ICMP "fragmentation needed" about segment @seg, sent by node 2 to
 * node 1 (the IP header it quotes), with next-hop MTU @mtu, from node 1's
 * raw ICMP socket @fd to node 2.
 */
static void forge_mtu_error(struct __test_metadata *_metadata, int fd,
			    const struct raw_seg *seg, unsigned int mtu)
{
	const struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = inet_addr(NODE2_ADDR),
	};
	__u8 msg[8 + 20 + 28] = { 3, 4 };	/* dest. unreachable, frag. */
	__u8 *ip = msg + 8;
	__u16 sum;

	msg[6] = mtu >> 8;
	msg[7] = mtu & 0xff;
	ip[0] = 0x45;
	ip[2] = 0x05;		/* a total length of 1500 */
	ip[3] = 0xdc;
	ip[6] = 0x40;		/* DF */
	ip[8] = 64;
	ip[9] = migtcp_proto();
	*(__u32 *)(ip + 12) = inet_addr(NODE2_ADDR);
	*(__u32 *)(ip + 16) = inet_addr(NODE1_ADDR);
	sum = inet_csum(ip, 20);
	ip[10] = sum >> 8;
	ip[11] = sum & 0xff;
	memcpy(ip + 20, seg->buf, 28);
	sum = inet_csum(msg, sizeof(msg));
	msg[2] = sum >> 8;
	msg[3] = sum & 0xff;
	ASSERT_EQ((ssize_t)sizeof(msg),
		  migtcp_test_sendto(fd, msg, sizeof(msg),
				     (const struct sockaddr *)&to, sizeof(to)))
		TH_LOG("sendto: %s", strerror(errno));
}
#endif

/*
 * ICMP errors are easy to forge (RFC 5927): one about a connection is
 * heard only if the segment it quotes has a sequence number in flight or
 * next, as TCP checks.  Node 1 captures a segment that node 2 sent, then
 * forges "fragmentation needed, MTU 1000" about it (over IPv6 "Packet
 * Too Big, MTU 1300"): first with a sequence number half the space away
 * (ignored, counted in OutOfWindowIcmps, the MSS unchanged), then with
 * the next one (heard: the MSS is 952, over IPv6 1232), and data still
 * crosses byte for byte at that size.
 */
TEST_F_TIMEOUT(cluster, icmp_errors_out_of_window_are_ignored, OFFLOAD_TEST_TIMEOUT)
{
	struct migtcp_info info;
	struct raw_seg seg;
	int cfd, afd, raw, icmp;
	char one;
	long oow;
	__u32 seq;

	CONNECT_PAIR(&cfd, &afd);
	raw = RAW_ON(_metadata, self, NODE1);
	ASSERT_LE(0, raw);
	ON_NODE(NODE1);
	icmp = socket(ICMP_FAMILY, SOCK_RAW | SOCK_CLOEXEC, ICMP_PROTO);
	ASSERT_LE(0, icmp) TH_LOG("raw ICMP socket: %s", strerror(errno));
	/* One byte from node 2's end; its segment tells its sequence. */
	ASSERT_EQ(1, write(afd, "x", 1));
	ASSERT_TRUE(RAW_NEXT_SEG(raw, now_ms() + WAIT_MS, 29, 29, &seg))
		TH_LOG("node 1 saw no 1-byte segment from node 2");
	ASSERT_EQ(1, read(cfd, &one, 1));
	memcpy(&seq, seg.buf + 16, 4);
	seq = htonl(ntohl(seq) + 1);	/* acknowledged: in flight is none */
	ASSERT_TRUE(wait_unacked(afd, WAIT_MS))
		TH_LOG("node 2's byte is not acknowledged");
	ON_NODE(NODE2);
	oow = stat_here("OutOfWindowIcmps");
	ASSERT_LE(0, oow);

	memcpy(seg.buf + 16, &(__u32){ htonl(ntohl(seq) + 0x80000000u) }, 4);
	forge_mtu_error(_metadata, icmp, &seg, FORGED_MTU);
	ON_NODE(NODE2);
	EXPECT_EQ(oow + 1, wait_node_stat(self, NODE2, "OutOfWindowIcmps",
					  oow + 1, WAIT_MS));
	GET_INFO(afd, &info);
	EXPECT_EQ(MTU - HDRS_LEN, info.snd_mss);

	memcpy(seg.buf + 16, &seq, 4);
	ON_NODE(NODE1);
	forge_mtu_error(_metadata, icmp, &seg, FORGED_MTU);
	EXPECT_EQ(FORGED_MTU - HDRS_LEN,
		  wait_mss(afd, FORGED_MTU - HDRS_LEN, WAIT_MS))
		TH_LOG("the ICMP error about the next sequence number was not heard");
	ON_NODE(NODE2);
	EXPECT_EQ(oow + 1, stat_here("OutOfWindowIcmps"));
	TRANSFER(cfd, afd, 1 * MiB, 1 * MiB, XFER_CHUNK);
	close(icmp);
	close(raw);
	close(cfd);
	close(afd);
}

#ifdef CLUSTER_IPV6
/*
 * Sends from node 1, as a raw IPv6 packet with the header given
 * (IPPROTO_RAW), a bare ACK from @src to node 2's port @port, with a
 * correct checksum over the IPv6 pseudo-header.
 */
static void send_ack_from(struct __test_metadata *_metadata, CLUSTER *self,
			  const char *src, __u16 port)
{
	struct sockaddr_in6 to = sin6_of(NODE2_ADDR);
	__u8 pkt[40 + sizeof(struct migtcphdr)] = {}, buf[80];
	struct migtcphdr *mh = (void *)(pkt + 40);
	size_t plen;
	__u16 sum;
	int fd;

	pkt[0] = 0x60;
	pkt[5] = sizeof(*mh);
	pkt[6] = migtcp_proto();
	pkt[7] = 64;
	ASSERT_EQ(1, inet_pton(AF_INET6, src, pkt + 8));
	ASSERT_EQ(1, inet_pton(AF_INET6, NODE2_ADDR, pkt + 24));
	mh->version = MIGTCP_WIRE_VERSION;
	mh->doff = MIGTCP_HDR_MIN_DOFF;
	mh->flags = htons(MIGTCP_F_ACK);
	mh->src_node = htonl(NODE1);
	mh->dst_node = htonl(NODE2);
	mh->src_port = htons(40000);
	mh->dst_port = htons(port);
	mh->seq = htonl(1);
	mh->ack_seq = htonl(1);
	mh->window = htons(1000);
	plen = pseudo_hdr(buf, pkt, sizeof(*mh));
	memcpy(buf + plen, mh, sizeof(*mh));
	sum = inet_csum(buf, plen + sizeof(*mh));
	mh->check = htons(sum);
	ON_NODE(NODE1);
	fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	ASSERT_LE(0, fd) TH_LOG("raw IPv6 socket: %s", strerror(errno));
	ASSERT_EQ((ssize_t)sizeof(pkt),
		  sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to,
			 sizeof(to))) TH_LOG("sendto: %s", strerror(errno));
	close(fd);
}

/*
 * Over IPv6 both ends of a segment are global unicast, as every node's
 * address: a segment from an IPv4-mapped source (which the IPv6 layer
 * passes, and the module would take for the IPv4 address inside, as TCP
 * would if tcp_v6_rcv() did not drop it), from a link-local one or from
 * :: is dropped as an address error, unanswered.  The same segment from
 * node 1's address draws the reset of a port nobody holds.
 */
TEST_F_TIMEOUT(cluster, ipv6_source_must_be_global, OFFLOAD_TEST_TIMEOUT)
{
	static const char * const bad[] = {
		"::ffff:198.51.100.1", "fe80::1", "::",
	};
	long addr_errors, no_socket, rsts;
	unsigned int i;

	/* First from node 1's address, which also resolves node 2's MAC. */
	no_socket = node_stat(self, NODE2, "InNoSocket");
	send_ack_from(_metadata, self, NODE1_ADDR, PORT + 1);
	ASSERT_EQ(no_socket + 1, wait_node_stat(self, NODE2, "InNoSocket",
						no_socket + 1, WAIT_MS));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		addr_errors = node_stat(self, NODE2, "InAddrErrors");
		no_socket = node_stat(self, NODE2, "InNoSocket");
		rsts = node_stat(self, NODE2, "OutRsts");
		send_ack_from(_metadata, self, bad[i], PORT + 1);
		EXPECT_EQ(addr_errors + 1,
			  wait_node_stat(self, NODE2, "InAddrErrors",
					 addr_errors + 1, WAIT_MS))
			TH_LOG("from %s", bad[i]);
		sleep_ms(100);
		EXPECT_EQ(addr_errors + 1, node_stat(self, NODE2, "InAddrErrors"))
			TH_LOG("from %s", bad[i]);
		EXPECT_EQ(no_socket, node_stat(self, NODE2, "InNoSocket"))
			TH_LOG("from %s", bad[i]);
		EXPECT_EQ(rsts, node_stat(self, NODE2, "OutRsts"))
			TH_LOG("from %s", bad[i]);
	}
}
#endif

TEST_HARNESS_MAIN
