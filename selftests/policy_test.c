// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's policy hooks on AF_MIGTCP traffic (docs/migtcp.7, "Policy
 * and firewalls"): nftables rules on the owner's uid and cgroup, IPsec
 * policies, SO_MARK and SO_BINDTODEVICE in the routing, socket filters,
 * and the memory cgroup of a listener's connections.
 *
 * Every test builds its own two-node cluster (cluster.h).  Rules and
 * policies live in the nodes' namespaces and go with them; the cgroups a
 * test makes are removed at its end.
 */
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"

#define TEST_UID	4242		/* a user with no other business here */
#define TEST_UID_STR	"4242"
#define NFT_TABLE	"inet migtcp_policy"

/* The output rule of table NFT_TABLE (see nft_migtcp_rule()). */
static void nft_output_rule(struct __test_metadata *_metadata,
			    const char *match, const char *verdict)
{
	nft_migtcp_rule(_metadata, NFT_TABLE, "output", match, verdict);
}

/* Packets the rule took, or -1. */
static long nft_hits(void)
{
	return nft_counter(NFT_TABLE, "hits");
}

/* Starts a non-blocking connect to node 2's PORT; the socket. */
static int connect_nb(struct __test_metadata *_metadata, int fd, int family)
{
	EXPECT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	if (fd < 0)
		return -1;
	if (!connect_to(fd, family, NODE2, PORT) || errno != EINPROGRESS) {
		TH_LOG("connect: %s, expected EINPROGRESS", errname(errno));
		_metadata->passed = 0;
		close(fd);
		return -1;
	}
	return fd;
}

/* Node 2's listener on PORT, as connect_pair() makes it. */
static int node2_listener(struct __test_metadata *_metadata, CLUSTER *self)
{
	ON_NODE(NODE2);
	self->lfd = listener(_metadata, self->family, PORT, 8);
	return self->lfd;
}

/*
 * @fd's connect never completed and node 2 has nothing to accept: every
 * segment of its handshake that a rule took is one it needed.
 */
static void expect_not_connected(struct __test_metadata *_metadata,
				 CLUSTER *self, int fd)
{
	EXPECT_EQ(0, poll_one(fd, POLLOUT, 0))
		TH_LOG("the connection was made although its segments were dropped");
	EXPECT_EQ(0, poll_one(self->lfd, POLLIN, 0))
		TH_LOG("node 2 has a connection to accept");
}

/* @len bytes of a pattern that no shift of itself matches. */
static void fill(__u8 *buf, size_t len, unsigned int seed)
{
	__u32 x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = x;
	}
}

/* Sends @len bytes each way over @a and @b and checks them. */
static void exchange(struct __test_metadata *_metadata, int a, int b,
		     size_t len)
{
	static __u8 out[65536], in[65536];
	size_t got = 0;
	ssize_t n;

	ASSERT_GE(sizeof(out), len);
	fill(out, len, len);
	ASSERT_EQ((ssize_t)len, send(a, out, len, 0))
		TH_LOG("send: %s", strerror(errno));
	while (got < len) {
		n = recv(b, in + got, len - got, 0);
		ASSERT_LT(0, n) TH_LOG("recv: %s", n ? strerror(errno) : "EOF");
		got += n;
	}
	ASSERT_EQ(0, memcmp(in, out, len));
	ASSERT_EQ((ssize_t)len, send(b, out, len, 0));
	for (got = 0; got < len; got += n) {
		n = recv(a, in + got, len - got, 0);
		ASSERT_LT(0, n) TH_LOG("recv: %s", n ? strerror(errno) : "EOF");
	}
	ASSERT_EQ(0, memcmp(in, out, len));
}

/* A socket of the current node whose file belongs to (effective) @uid. */
static int socket_as(int family, uid_t uid)
{
	int fd, err;

	if (setresuid(-1, uid, -1))
		return -1;
	fd = mig_socket(family, SOCK_NONBLOCK);
	err = errno;
	if (setresuid(-1, 0, -1))
		abort();	/* the test cannot go on as another user */
	errno = err;
	return fd;
}

/*
 * "meta skuid" reads the uid of the sending socket's file: an output
 * rule on one user's uid drops that user's segments, and nobody else's.
 */
TEST_F(cluster, nft_skuid_drops_that_users_segments)
{
	long hits;
	int fd, cfd, afd;

	ASSERT_LE(0, node2_listener(_metadata, self));
	ON_NODE(NODE1);
	nft_output_rule(_metadata, "meta skuid " TEST_UID_STR, "drop");

	fd = connect_nb(_metadata, socket_as(self->family, TEST_UID),
			self->family);
	ASSERT_LE(0, fd);
	/* The SYN and one retransmission of it: both dropped. */
	ON_NODE(NODE1);
	hits = wait_nft_hits(NFT_TABLE, 2, WAIT_MS);
	EXPECT_LE(2, hits) TH_LOG("the rule dropped %ld segments of uid %d",
				  hits, TEST_UID);
	expect_not_connected(_metadata, self, fd);
	close(fd);

	/* root's connection is not the rule's business. */
	ON_NODE(NODE1);
	hits = nft_hits();
	CONNECT_PAIR(&cfd, &afd);
	exchange(_metadata, cfd, afd, 4096);
	ON_NODE(NODE1);
	EXPECT_EQ(hits, nft_hits()) TH_LOG("root's segments matched the rule");
	close(cfd);
	close(afd);
}

/* An output rule of the current node on sockets of cgroup @name. */
static void nft_cgroup_rule(struct __test_metadata *_metadata,
			    const char *name)
{
	char match[128];

	snprintf(match, sizeof(match), "socket cgroupv2 level 1 \"%s\"", name);
	nft_output_rule(_metadata, match, "drop");
}

/*
 * "socket cgroupv2" reads the sending socket's cgroup, fixed when the
 * socket is made: an output rule on one cgroup drops the segments of a
 * socket made in it, and not those of one made outside.
 */
TEST_F(cluster, nft_socket_cgroupv2_drops_that_cgroups_segments)
{
	char cg[128], name[64];
	long hits;
	int fd, cfd, afd;

	ASSERT_NE(NULL, make_cgroup(cg, sizeof(cg), name, sizeof(name)))
		TH_LOG("no cgroup2 hierarchy at " CGROOT);
	ASSERT_LE(0, node2_listener(_metadata, self));
	ON_NODE(NODE1);
	nft_cgroup_rule(_metadata, name);
	ASSERT_EQ(0, enter_cgroup(cg));
	fd = mig_socket(self->family, SOCK_NONBLOCK);
	ASSERT_EQ(0, enter_cgroup(CGROOT));
	fd = connect_nb(_metadata, fd, self->family);
	ASSERT_LE(0, fd);
	hits = wait_nft_hits(NFT_TABLE, 2, WAIT_MS);
	EXPECT_LE(2, hits) TH_LOG("the rule dropped %ld segments", hits);
	expect_not_connected(_metadata, self, fd);
	close(fd);

	ON_NODE(NODE1);
	hits = nft_hits();
	CONNECT_PAIR(&cfd, &afd);
	exchange(_metadata, cfd, afd, 4096);
	ON_NODE(NODE1);
	EXPECT_EQ(hits, nft_hits())
		TH_LOG("a socket made outside the cgroup matched the rule");
	close(cfd);
	close(afd);
	rmdir(cg);
}

/*
 * A connection a listener takes is made in softirq, where no task's
 * cgroup is the right one: it belongs to its listener's cgroup, as a TCP
 * child does.  So a rule on the listener's cgroup drops what the
 * connection sends (its SYN-ACK), and the handshake never completes.
 */
TEST_F(cluster, accepted_connections_are_in_the_listeners_cgroup)
{
	char cg[128], name[64];
	long hits;
	int fd;

	ASSERT_NE(NULL, make_cgroup(cg, sizeof(cg), name, sizeof(name)))
		TH_LOG("no cgroup2 hierarchy at " CGROOT);
	ON_NODE(NODE2);
	ASSERT_EQ(0, enter_cgroup(cg));
	self->lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_EQ(0, enter_cgroup(CGROOT));
	ASSERT_LE(0, self->lfd);
	nft_cgroup_rule(_metadata, name);

	ON_NODE(NODE1);
	fd = connect_nb(_metadata, mig_socket(self->family, SOCK_NONBLOCK),
			self->family);
	ASSERT_LE(0, fd);
	/* The SYN-ACK and one retransmission of it. */
	ON_NODE(NODE2);
	hits = wait_nft_hits(NFT_TABLE, 2, WAIT_MS);
	EXPECT_LE(2, hits) TH_LOG("the rule dropped %ld segments of node 2",
				  hits);
	expect_not_connected(_metadata, self, fd);
	close(fd);
	rmdir(cg);
}

/* Node 2's ESP security associations and policies for proto 253. */
#define ESP_KEY	"0x0123456789abcdef0123456789abcdef01234567"

static int xfrm_state(const char *src, const char *dst, unsigned int spi)
{
	return sh("ip xfrm state add src %s dst %s proto esp spi %#x mode transport aead 'rfc4106(gcm(aes))' " ESP_KEY " 128",
		  src, dst, spi);
}

static int xfrm_policy(const char *src, const char *dst, const char *dir)
{
	return sh("ip xfrm policy add src %s/32 dst %s/32 proto %d dir %s tmpl proto esp mode transport level required",
		  src, dst, migtcp_proto(), dir);
}

/* Packets that ESP SA @spi from @src to @dst carried, or -1. */
static long xfrm_state_packets(const char *src, const char *dst,
			       unsigned int spi)
{
	char cmd[160], line[256];
	long packets = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "ip -s xfrm state get src %s dst %s proto esp spi %#x", src,
		 dst, spi);
	f = popen(cmd, "re");
	if (!f)
		return -1;
	/* "  1234(bytes), 5(packets)" under "lifetime current:" */
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "(packets)");

		if (p && strstr(line, "(bytes)")) {
			while (p > line && p[-1] >= '0' && p[-1] <= '9')
				p--;
			packets = strtol(p, NULL, 10);
		}
	}
	pclose(f);
	return packets;
}

/*
 * An IPsec policy of level "required" for migtcp's protocol: plaintext
 * segments are refused on receive (InXfrmDrops) and open nothing; with
 * ESP security associations on both ends the same connection works, and
 * its segments travel in ESP.  It may take more than the harness's
 * default 30 s: on first use the kernel loads esp4, xfrm_user and the
 * AEAD's modules and self-tests each algorithm, slow under TCG: with two
 * other guests beside it, a 6.12 guest took 70 s from "Initializing XFRM
 * netlink socket" to its AEAD's instantiation.
 */
TEST_F_TIMEOUT(cluster, ipsec_policy_refuses_plaintext_carries_esp, 240)
{
	const char *a1 = "198.51.100.1", *a2 = "198.51.100.2";
	long drops;
	int fd, cfd, afd;

	sh("modprobe -q esp4 2>/dev/null; modprobe -q xfrm_user 2>/dev/null");
	ASSERT_LE(0, node2_listener(_metadata, self));
	ASSERT_EQ(0, xfrm_policy(a1, a2, "in"))
		TH_LOG("ip xfrm policy add failed (xfrm_user?)");

	ON_NODE(NODE1);
	fd = connect_nb(_metadata, mig_socket(self->family, SOCK_NONBLOCK),
			self->family);
	ASSERT_LE(0, fd);
	drops = wait_node_stat(self, NODE2, "InXfrmDrops", 2, WAIT_MS);
	EXPECT_LE(2, drops) TH_LOG("node 2 refused %ld plaintext segments",
				   drops);
	expect_not_connected(_metadata, self, fd);
	close(fd);

	/* ESP both ways, required both ways. */
	ON_NODE(NODE2);
	ASSERT_EQ(0, xfrm_state(a1, a2, 0x100)) TH_LOG("no rfc4106(gcm(aes))?");
	ASSERT_EQ(0, xfrm_state(a2, a1, 0x200));
	ASSERT_EQ(0, xfrm_policy(a2, a1, "out"));
	ON_NODE(NODE1);
	ASSERT_EQ(0, xfrm_state(a1, a2, 0x100));
	ASSERT_EQ(0, xfrm_state(a2, a1, 0x200));
	ASSERT_EQ(0, xfrm_policy(a1, a2, "out"));
	ASSERT_EQ(0, xfrm_policy(a2, a1, "in"));

	drops = node_stat(self, NODE2, "InXfrmDrops");
	CONNECT_PAIR(&cfd, &afd);
	exchange(_metadata, cfd, afd, 65536);
	EXPECT_EQ(drops, node_stat(self, NODE2, "InXfrmDrops"));
	ON_NODE(NODE2);
	/* At least the handshake's two segments and the data's. */
	EXPECT_LE(3, xfrm_state_packets(a1, a2, 0x100))
		TH_LOG("node 2's inbound SA carried nothing");
	EXPECT_LE(3, xfrm_state_packets(a2, a1, 0x200))
		TH_LOG("node 2's outbound SA carried nothing");
	close(cfd);
	close(afd);
}

/*
 * Node 1 gets a second way out, a dummy device (whatever goes there is
 * lost), and a routing table 7, taken by packets marked 7, whose route
 * to node 2 is through it.  The table's counter counts the migtcp
 * segments that leave through the dummy (marked @mark, if not 0).
 */
static void dummy_route(struct __test_metadata *_metadata, CLUSTER *self,
			unsigned int mark)
{
	char match[64];

	ON_NODE(NODE1);
	sh("modprobe -q dummy 2>/dev/null");
	ASSERT_EQ(0, sh("ip link add dum0 type dummy && ip addr add 192.0.2.1/24 dev dum0 && ip link set dum0 up"));
	ASSERT_EQ(0, sh("ip route add 198.51.100.2/32 dev dum0 table 7 && ip rule add fwmark 7 lookup 7"));
	snprintf(match, sizeof(match), "oifname \"dum0\" meta mark %u", mark);
	nft_output_rule(_metadata, match, "accept");
}

/* @fd's connect went out through the dummy (twice), never to node 2. */
static void expect_via_dummy(struct __test_metadata *_metadata,
			     CLUSTER *self, int fd)
{
	long hits;

	ON_NODE(NODE1);
	hits = wait_nft_hits(NFT_TABLE, 2, WAIT_MS);
	EXPECT_LE(2, hits) TH_LOG("%ld segments left through dum0", hits);
	expect_not_connected(_metadata, self, fd);
	close(fd);
}

/* A connection that ignores the dummy still goes through mig1. */
static void expect_main_route(struct __test_metadata *_metadata,
			      CLUSTER *self)
{
	long hits;
	int cfd, afd;

	ON_NODE(NODE1);
	hits = nft_hits();
	CONNECT_PAIR(&cfd, &afd);
	exchange(_metadata, cfd, afd, 4096);
	ON_NODE(NODE1);
	EXPECT_EQ(hits, nft_hits());
	close(cfd);
	close(afd);
}

/* SO_MARK selects the policy route (ip rule fwmark), and marks segments. */
TEST_F(cluster, so_mark_steers_the_route)
{
	unsigned int mark = 7;
	int fd;

	ASSERT_LE(0, node2_listener(_metadata, self));
	dummy_route(_metadata, self, mark);
	fd = mig_socket(self->family, SOCK_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)));
	fd = connect_nb(_metadata, fd, self->family);
	ASSERT_LE(0, fd);
	expect_via_dummy(_metadata, self, fd);
	expect_main_route(_metadata, self);
}

/* SO_BINDTODEVICE sends through that device, whatever the routes say. */
TEST_F(cluster, so_bindtodevice_steers_the_route)
{
	int fd;

	ASSERT_LE(0, node2_listener(_metadata, self));
	dummy_route(_metadata, self, 0);
	fd = mig_socket(self->family, SOCK_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "dum0", 5))
		TH_LOG("SO_BINDTODEVICE: %s", strerror(errno));
	fd = connect_nb(_metadata, fd, self->family);
	ASSERT_LE(0, fd);
	expect_via_dummy(_metadata, self, fd);
	expect_main_route(_metadata, self);
}

/*
 * A connected pair, node 2's end @afd with socket filter @prog attached;
 * node 2's InFilterDrops, or -1.
 */
static long pair_with_filter(struct __test_metadata *_metadata, CLUSTER *self,
			     int *cfd, int *afd, const struct sock_fprog *prog)
{
	CONNECT_PAIR(cfd, afd);
	if (setsockopt(*afd, SOL_SOCKET, SO_ATTACH_FILTER, prog,
		       sizeof(*prog))) {
		TH_LOG("SO_ATTACH_FILTER: %s", strerror(errno));
		return -1;
	}
	return node_stat(self, NODE2, "InFilterDrops");
}

/*
 * A classic BPF socket filter that returns 0 drops every segment for the
 * socket (InFilterDrops), data included; once it is detached, the sender's
 * retransmission delivers the data, byte for byte.
 */
TEST_F(cluster, socket_filter_drops_until_detached)
{
	struct sock_filter drop_all[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	const struct sock_fprog prog = { .len = 1, .filter = drop_all };
	__u8 out[1000], in[1000];
	int cfd, afd, dummy = 0;
	long drops;
	size_t got;
	ssize_t n;

	drops = pair_with_filter(_metadata, self, &cfd, &afd, &prog);
	ASSERT_LE(0, drops);

	fill(out, sizeof(out), 12);
	ON_NODE(NODE1);
	ASSERT_EQ((ssize_t)sizeof(out), send(cfd, out, sizeof(out), 0));
	EXPECT_LE(drops + 1, wait_node_stat(self, NODE2, "InFilterDrops",
					    drops + 1, WAIT_MS));
	EXPECT_EQ(0, poll_one(afd, POLLIN, 0));
	ASSERT_FAILS_WITH(EAGAIN, recv(afd, in, sizeof(in), MSG_DONTWAIT));

	ASSERT_EQ(0, setsockopt(afd, SOL_SOCKET, SO_DETACH_FILTER, &dummy,
				sizeof(dummy)));
	/* The retransmission timer backs off: up to RTO_MAX in theory. */
	for (got = 0; got < sizeof(in); got += n) {
		ASSERT_EQ(POLLIN, poll_one(afd, POLLIN, 30000))
			TH_LOG("nothing arrived after the filter was detached");
		n = recv(afd, in + got, sizeof(in) - got, MSG_DONTWAIT);
		ASSERT_LT(0, n);
	}
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	close(cfd);
	close(afd);
}

/* Node 2's socket @fd's migration state (enum migtcp_migration). */
static int migration_of(int fd)
{
	struct migtcp_info info;

	return get_info(fd, &info) ? -1 : info.migration;
}

/*
 * A filter may keep less of a control segment than its message: what it
 * cut off must not be read.  This one keeps the header and the first four
 * bytes after it (a control TLV's type and length, when the header has no
 * options) of every control segment for node 2's socket, and all of
 * anything else.  Node 1's HOLD, cut, is dropped (InFilterDrops) and not
 * obeyed; once the filter is detached, the HOLD sent again is; then node
 * 1 thaws and data flows both ways, byte for byte.
 */
TEST_F(cluster, socket_filter_cutting_a_control_message)
{
	struct sock_filter cut_ctl[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS,
			 offsetof(struct migtcphdr, flags)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MIGTCP_F_CTL, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, sizeof(struct migtcphdr) + 4),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	const struct sock_fprog prog = {
		.len = sizeof(cut_ctl) / sizeof(cut_ctl[0]), .filter = cut_ctl
	};
	const int hold_ms = 60000;
	int cfd, afd, i, dummy = 0;
	long drops;

	drops = pair_with_filter(_metadata, self, &cfd, &afd, &prog);
	ASSERT_LE(0, drops);

	ON_NODE(NODE1);
	ASSERT_EQ(0, setsockopt(cfd, SOL_MIGTCP, MIGTCP_FREEZE, &hold_ms,
				sizeof(hold_ms)))
		TH_LOG("MIGTCP_FREEZE: %s", strerror(errno));
	EXPECT_LE(drops + 1, wait_node_stat(self, NODE2, "InFilterDrops",
					    drops + 1, WAIT_MS))
		TH_LOG("no cut HOLD was dropped");
	EXPECT_EQ(MIGTCP_MIG_NONE, migration_of(afd))
		TH_LOG("node 2 obeyed a HOLD the filter cut");

	ASSERT_EQ(0, setsockopt(afd, SOL_SOCKET, SO_DETACH_FILTER, &dummy,
				sizeof(dummy)));
	/* The HOLD goes again on its retransmission timer, which backs off. */
	for (i = 0; i < 3000 && migration_of(afd) != MIGTCP_MIG_HELD; i++)
		sleep_ms(10);
	EXPECT_EQ(MIGTCP_MIG_HELD, migration_of(afd))
		TH_LOG("node 2 did not hold once the filter was gone");

	ASSERT_EQ(0, setsockopt(cfd, SOL_MIGTCP, MIGTCP_THAW, NULL, 0))
		TH_LOG("MIGTCP_THAW: %s", strerror(errno));
	exchange(_metadata, afd, cfd, 1000);
	close(cfd);
	close(afd);
}

#define MEMCG_MAX	(2 << 20)	/* the server's memory.max */
#define MEMCG_CONNS	4
#define MEMCG_RCVBUF	(2 << 20)	/* each connection's: 4x memory.max */
#define MEMCG_PORT	7100

/* A "key value" line of cgroup file @path/@file, or -1. */
static long cg_value(const char *path, const char *file, const char *key)
{
	char name[256], line[256], k[64];
	long v, value = -1;
	FILE *f;

	snprintf(name, sizeof(name), "%s/%s", path, file);
	f = fopen(name, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", k, &v) == 2 && !strcmp(k, key))
			value = v;
	fclose(f);
	return value;
}

/*
 * The server of the memory test, in cgroup @cg on node 2: a listener
 * whose connections have MEMCG_RCVBUF receive buffers; accepts
 * MEMCG_CONNS connections, says so on @ready, reads nothing, and waits
 * for @done to close.
 */
static void memcg_server(int family, const char *cg, int ready, int done)
{
	int rcvbuf = MEMCG_RCVBUF / 2, lfd, i;
	char c = 0;

	if (enter_cgroup(cg))
		_exit(2);
	lfd = mig_socket(family, 0);
	if (lfd < 0 || bind_to(lfd, family, 0, MEMCG_PORT) ||
	    setsockopt(lfd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) ||
	    listen(lfd, MEMCG_CONNS))
		_exit(3);
	if (write(ready, &c, 1) != 1)
		_exit(4);
	for (i = 0; i < MEMCG_CONNS; i++)
		if (accept(lfd, NULL, NULL) < 0)
			_exit(5);
	if (write(ready, &c, 1) != 1)
		_exit(6);
	if (read(done, &c, 1) < 0)
		_exit(7);
	_exit(0);
}

/*
 * Writes to every socket of @fds until none takes a byte for a second:
 * then the receiver holds all it will.  Returns the bytes written.
 */
static long fill_until_stuck(const int *fds, int n)
{
	static __u8 buf[65536];
	struct pollfd pfd[MEMCG_CONNS];
	long total = 0;
	bool progress;
	ssize_t w;
	int i;

	do {
		progress = false;
		for (i = 0; i < n; i++)
			while ((w = send(fds[i], buf, sizeof(buf),
					 MSG_DONTWAIT)) > 0) {
				total += w;
				progress = true;
			}
		for (i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = fds[i],
						  .events = POLLOUT };
		if (poll(pfd, n, 1000) > 0)
			progress = true;
	} while (progress);
	return total;
}

/*
 * A server in a memory cgroup whose clients fill its connections'
 * receive queues: the connections, made in softirq, are charged to the
 * listener's cgroup (memory.stat "sock": what their queues hold), so
 * that they meet its memory.max (memory.events "max").
 *
 * Socket memory charged in softirq is charged GFP_ATOMIC, which the
 * memory controller lets past memory.max (try_charge_memcg(): atomic
 * charges "go through as privileged allocations"), for TCP as for us:
 * the limit raises its events and the reclaim that follows puts the
 * cgroup's sockets under memory pressure, which shrinks the windows
 * they offer; it is no hard cap on receive queues.  So the test checks
 * the charge and the limit's events, not a ceiling.
 */
TEST_F_TIMEOUT(cluster, listener_memory_cgroup_is_charged_for_its_connections,
	       300)
{
	int ready[2], done[2], fds[MEMCG_CONNS], status, i;
	char cg[128], name[64], c;
	long written, unacked = 0, acked, sock, events;
	pid_t pid;

	ASSERT_NE(NULL, make_cgroup(cg, sizeof(cg), name, sizeof(name)))
		TH_LOG("no cgroup2 hierarchy at " CGROOT);
	/* Enables the memory controller below the root, if not yet. */
	sh("grep -qw memory " CGROOT "/cgroup.subtree_control || echo +memory >" CGROOT "/cgroup.subtree_control");
	ASSERT_EQ(0, sh("echo %d >%s/memory.max", MEMCG_MAX, cg))
		TH_LOG("no memory controller in %s", cg);
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(done, O_CLOEXEC));

	ON_NODE(NODE2);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(ready[0]);
		close(done[1]);
		memcg_server(self->family, cg, ready[1], done[0]);
	}
	close(ready[1]);
	close(done[0]);
	ASSERT_EQ(1, read(ready[0], &c, 1)) TH_LOG("the server did not start");

	ON_NODE(NODE1);
	for (i = 0; i < MEMCG_CONNS; i++) {
		fds[i] = mig_socket(self->family, 0);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, connect_to(fds[i], self->family, NODE2,
					MEMCG_PORT))
			TH_LOG("connect %d: %s", i, strerror(errno));
	}
	ASSERT_EQ(1, read(ready[0], &c, 1))
		TH_LOG("the server did not accept its connections");

	written = fill_until_stuck(fds, MEMCG_CONNS);
	for (i = 0; i < MEMCG_CONNS; i++) {
		int outq = 0;

		ASSERT_EQ(0, ioctl(fds[i], SIOCOUTQ, &outq));
		unacked += outq;
	}
	acked = written - unacked;
	sock = cg_value(cg, "memory.stat", "sock");
	events = cg_value(cg, "memory.events", "max");
	TH_LOG("written %ld, taken by the server %ld; sock %ld, max events %ld",
	       written, acked, sock, events);

	/* The server took more than its cgroup may hold... */
	EXPECT_LT(MEMCG_MAX, acked);
	/* ...and its cgroup is charged with it, */
	EXPECT_LE(acked / 2, sock)
		TH_LOG("the server's connections are charged to no cgroup");
	/* ...which so met its limit. */
	EXPECT_LE(1, events);

	close(done[1]);
	for (i = 0; i < MEMCG_CONNS; i++)
		close(fds[i]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status) TH_LOG("server status %#x", status);
	rmdir(cg);
}

TEST_HARNESS_MAIN
