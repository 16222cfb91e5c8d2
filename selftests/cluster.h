/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two-node cluster the connection tests run on, as a kselftest
 * fixture: two anonymous network namespaces joined by a veth pair, node 1
 * at 198.51.100.1 (device mig1) and node 2 at 198.51.100.2 (device mig2),
 * each the other's peer.  Node 1 also knows a node 3 at 198.51.100.99,
 * where no host answers: segments sent there vanish.  The namespaces are
 * held by file descriptors only, so they disappear with the test's
 * process and nothing is left behind when a test fails.
 *
 * Also the helpers those tests share: moving between nodes, sockets with
 * guard timeouts, bind/connect/listen/accept, a connected pair, netem on
 * either side of the veth and the counters of /proc/net/migtcp_stats.
 *
 * Include after kselftest_harness.h and migtcp_test.h, in one file per
 * program (it defines the fixture).
 *
 * Built with CLUSTER_IPV6 defined, the same cluster runs on an IPv6-only
 * underlay: the nodes' addresses are 2001:db8:100::1, ::2 and ::99 (/64,
 * without duplicate address detection, so they are usable at once) and
 * nothing of IPv4 is configured.  A program built both ways runs the
 * same tests over each family (the Makefile's *6_test programs).
 */
#ifndef MIGTCP_CLUSTER_H
#define MIGTCP_CLUSTER_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#define NODE1		1U
#define NODE2		2U
#define NODE_BLACKHOLE	3U	/* in node 1's peer table, no host there */
#define PORT		7000	/* where connect_pair() listens, on node 2 */
#ifdef CLUSTER_IPV6
#define NODE1_ADDR	"2001:db8:100::1"	/* mig1 */
#define NODE2_ADDR	"2001:db8:100::2"	/* mig2 */
#define BLACKHOLE_ADDR	"2001:db8:100::99"
#define UL_PREFIX	"/64"
#define UL_ADDR_FLAGS	" nodad"		/* for "ip addr add" */
/*
 * nft 0.9/1.0 cannot list a rule that follows "meta l4proto" with an
 * @th match (an assertion in payload_expr_complete()): the header's own
 * protocol field, which nothing follows here, serves.
 */
#define UL_NFT_PROTO	"meta nfproto ipv6 ip6 nexthdr"
/*
 * tc u32 on the underlay: its packets of protocol %d, and where the high
 * byte of their length is (IPv6's payload length, without extension
 * headers).
 */
#define UL_TC_MATCH	"protocol ipv6 pref %d u32 match ip6 protocol %d 0xff"
#define UL_TC_LEN_HI	"4"
#else
#define NODE1_ADDR	"198.51.100.1"	/* mig1 */
#define NODE2_ADDR	"198.51.100.2"	/* mig2 */
#define BLACKHOLE_ADDR	"198.51.100.99"
#define UL_PREFIX	"/24"
#define UL_ADDR_FLAGS	""
#define UL_NFT_PROTO	"meta nfproto ipv4 ip protocol"
#define UL_TC_MATCH	"protocol ip pref %d u32 match ip protocol %d 0xff"
#define UL_TC_LEN_HI	"2"
#endif

/* Anything that crosses the veth once (a handshake too) takes ms. */
#define WAIT_MS		2000
/* Guard on blocking calls, so that a broken module fails, not hangs. */
#define GUARD_SEC	5

/* Module parameters that tests change; the fixture puts them back. */
enum cluster_param {
	PARAM_MIGRATION_TIMEOUT_MS,
	PARAM_CHALLENGE_ACK_LIMIT,
	PARAM_MAX_ORPHANS,
	PARAM_TIMEWAIT_SECS,
	PARAM_ORPHAN_RETRIES,
	PARAM_SYNCOOKIES,
	PARAM_MAC_FAILURE_LIMIT,
	PARAM_SACK,
	PARAM_RACK,
	CLUSTER_PARAMS
};

static const char *const cluster_param_names[CLUSTER_PARAMS] = {
	[PARAM_MIGRATION_TIMEOUT_MS]	= "migration_timeout_ms",
	[PARAM_CHALLENGE_ACK_LIMIT]	= "challenge_ack_limit",
	[PARAM_MAX_ORPHANS]		= "max_orphans",
	[PARAM_TIMEWAIT_SECS]		= "timewait_secs",
	[PARAM_ORPHAN_RETRIES]		= "orphan_retries",
	[PARAM_SYNCOOKIES]		= "syncookies",
	[PARAM_MAC_FAILURE_LIMIT]	= "mac_failure_limit",
	[PARAM_SACK]			= "sack",
	[PARAM_RACK]			= "rack",
};

FIXTURE(cluster) {
	int family;
	int ns[3];	/* ns[NODE1], ns[NODE2]: network namespace fds */
	int lfd;	/* node 2's listener on PORT, once a test needs it */
	/* The module's parameters before the test, put back after. */
	int param[CLUSTER_PARAMS];
};

/* The fixture's data, as the helpers below take it. */
#define CLUSTER FIXTURE_DATA(cluster)

/* Runs a shell command line in the caller's network namespace. */
static inline int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	status = system(cmd);
	if (status < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * Packets that named counter @name of nftables table @table ("family
 * name") counted in the caller's network namespace, or -1.
 */
static inline long nft_counter(const char *table, const char *name)
{
	char cmd[160], line[256];
	long packets = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "nft list counter %s %s 2>/dev/null",
		 table, name);
	f = popen(cmd, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "packets ");

		if (p)
			packets = strtol(p + strlen("packets "), NULL, 10);
	}
	pclose(f);
	return packets;
}

static inline int open_own_netns(void)
{
	return open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
}

FIXTURE_SETUP(cluster)
{
	int i;

	self->ns[NODE1] = -1;
	self->ns[NODE2] = -1;
	self->lfd = -1;
	for (i = 0; i < CLUSTER_PARAMS; i++)
		self->param[i] = migtcp_module_param(cluster_param_names[i]);
	self->family = migtcp_family();
	ASSERT_LT(0, self->family) TH_LOG("is migtcp loaded?");

	ASSERT_EQ(0, migtcp_test_new_netns())
		TH_LOG("node 1 netns: %s", strerror(errno));
	self->ns[NODE1] = open_own_netns();
	ASSERT_LE(0, self->ns[NODE1]);
	ASSERT_EQ(0, migtcp_test_new_netns())
		TH_LOG("node 2 netns: %s", strerror(errno));
	self->ns[NODE2] = open_own_netns();
	ASSERT_LE(0, self->ns[NODE2]);

	/* In node 2: create the pair, push one end into node 1. */
	ASSERT_EQ(0, sh("ip link add mig2 type veth peer name mig1 netns /proc/%d/fd/%d",
			getpid(), self->ns[NODE1]));
	ASSERT_EQ(0, sh("ip addr add " NODE2_ADDR UL_PREFIX " dev mig2" UL_ADDR_FLAGS
			" && ip link set mig2 up"));
	ASSERT_EQ(0, migtcp_test_ctl("node set id %d addr " NODE2_ADDR, NODE2));
	ASSERT_EQ(0, migtcp_test_ctl("peer add %d addr " NODE1_ADDR, NODE1));

	ASSERT_EQ(0, setns(self->ns[NODE1], CLONE_NEWNET));
	ASSERT_EQ(0, sh("ip addr add " NODE1_ADDR UL_PREFIX " dev mig1" UL_ADDR_FLAGS
			" && ip link set mig1 up"));
	ASSERT_EQ(0, migtcp_test_ctl("node set id %d addr " NODE1_ADDR, NODE1))
		TH_LOG("migtcpctl node set failed (MIGTCP_CTL=%s)",
		       getenv("MIGTCP_CTL"));
	ASSERT_EQ(0, migtcp_test_ctl("peer add %d addr " NODE2_ADDR, NODE2));
	ASSERT_EQ(0, migtcp_test_ctl("peer add %d addr " BLACKHOLE_ADDR,
				     NODE_BLACKHOLE));
	/*
	 * Silent: its address resolves (to a MAC nobody has), so no failed
	 * ARP or neighbour discovery answers its packets with "host
	 * unreachable", which would end a connect() to it after 3 s (as
	 * TCP's) instead of never.
	 */
	ASSERT_EQ(0, sh("ip neigh add " BLACKHOLE_ADDR " lladdr 02:00:00:00:00:99 dev mig1 nud permanent"));
	ASSERT_EQ(0, setns(self->ns[NODE2], CLONE_NEWNET));
	ASSERT_EQ(0, sh("ip neigh add " BLACKHOLE_ADDR " lladdr 02:00:00:00:00:99 dev mig2 nud permanent"));
	ASSERT_EQ(0, setns(self->ns[NODE1], CLONE_NEWNET));
}

FIXTURE_TEARDOWN(cluster)
{
	int i;

	/* Also after a failed assertion: the next test gets the default. */
	for (i = 0; i < CLUSTER_PARAMS; i++)
		if (self->param[i] >= 0 &&
		    migtcp_module_param(cluster_param_names[i]) != self->param[i])
			sh("echo %d >/sys/module/migtcp/parameters/%s",
			   self->param[i], cluster_param_names[i]);
	if (self->lfd >= 0)
		close(self->lfd);
	if (self->ns[NODE1] >= 0)
		close(self->ns[NODE1]);
	if (self->ns[NODE2] >= 0)
		close(self->ns[NODE2]);
}

/*
 * Gives node 2 the blackhole node's address as well, for tests that play
 * that node with a raw socket there: node 1 then resolves the address to
 * node 2 again.  The caller is on node 2 afterwards; 0 on success.
 */
static inline int blackhole_on_node2(CLUSTER *self)
{
	if (setns(self->ns[NODE1], CLONE_NEWNET) ||
	    sh("ip neigh del " BLACKHOLE_ADDR " dev mig1") ||
	    setns(self->ns[NODE2], CLONE_NEWNET))
		return -1;
	return sh("ip addr add " BLACKHOLE_ADDR UL_PREFIX " dev mig2" UL_ADDR_FLAGS);
}

/* Moves the caller to @node; sockets created afterwards belong to it. */
#define ON_NODE(node) do {						\
	const unsigned int __node = (node);				\
									\
	ASSERT_EQ(0, setns(self->ns[__node], CLONE_NEWNET))		\
		TH_LOG("setns to node %u: %s", __node, strerror(errno));	\
} while (0)

static inline long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * In the current node: nftables table @table ("family name") whose chain
 * on hook @hook ("input", "output") runs "@match counter name hits
 * @verdict" on migtcp segments; its counter "hits" says how many the rule
 * took.
 */
static inline void nft_migtcp_rule(struct __test_metadata *_metadata,
				   const char *table, const char *hook,
				   const char *match, const char *verdict)
{
	ASSERT_EQ(0, sh("command -v nft >/dev/null"))
		TH_LOG("nft(8) is needed (Debian package nftables)");
	ASSERT_EQ(0, sh("nft add table %s", table));
	ASSERT_EQ(0, sh("nft add counter %s hits", table));
	ASSERT_EQ(0, sh("nft 'add chain %s %s { type filter hook %s priority 0; }'",
			table, hook, hook));
	ASSERT_EQ(0, sh("nft 'add rule %s %s " UL_NFT_PROTO " %d %s counter name hits %s'",
			table, hook, migtcp_proto(), match, verdict))
		TH_LOG("nft cannot add the rule matching '%s'", match);
}

/*
 * Waits (bounded by @ms) until counter "hits" of nft_migtcp_rule()'s
 * table @table reaches @want; its last value.
 */
static inline long wait_nft_hits(const char *table, long want, long ms)
{
	long end = now_ms() + ms, v;

	for (;;) {
		v = nft_counter(table, "hits");
		if (v >= want || now_ms() >= end)
			return v;
		sleep_ms(5);
	}
}

#define CGROOT		"/sys/fs/cgroup"

/*
 * A cgroup of its own for the test, CGROOT/@name: its path in @path, or
 * NULL if there is no cgroup2 hierarchy there.
 */
static inline const char *make_cgroup(char *path, size_t len, char *name,
				      size_t namelen)
{
	snprintf(name, namelen, "migtcp_test_%d", getpid());
	snprintf(path, len, CGROOT "/%s", name);
	if (access(CGROOT "/cgroup.procs", F_OK) ||
	    (mkdir(path, 0755) && errno != EEXIST))
		return NULL;
	return path;
}

/* Moves the calling process into cgroup @path; 0 or -1. */
static inline int enter_cgroup(const char *path)
{
	char file[256];
	int fd, ret;

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = write(fd, "0", 1) == 1 ? 0 : -1;
	close(fd);
	return ret;
}

static inline const char *errname(int err)
{
	return err ? strerrorname_np(err) ?: "?" : "no error";
}

/* SO_SNDTIMEO and SO_RCVTIMEO of @sec seconds. */
static inline int set_timeouts(int fd, int sec)
{
	struct timeval tv = { .tv_sec = sec };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -1;
	return 0;
}

/*
 * A stream socket of the current node (@flags: SOCK_NONBLOCK or 0) whose
 * blocking calls give up after GUARD_SEC seconds instead of hanging the
 * test.
 */
static inline int mig_socket(int family, int flags)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);

	if (fd >= 0 && set_timeouts(fd, GUARD_SEC)) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline struct sockaddr_mig mig_addr(int family, __u32 node,
					   __u16 port)
{
	struct sockaddr_mig addr = {
		.smig_family = family,
		.smig_port = htons(port),
		.smig_node = node,
	};
	return addr;
}

static inline int bind_to(int fd, int family, __u32 node, __u16 port)
{
	struct sockaddr_mig addr = mig_addr(family, node, port);

	return bind(fd, (struct sockaddr *)&addr, sizeof(addr));
}

static inline int connect_to(int fd, int family, __u32 node, __u16 port)
{
	struct sockaddr_mig addr = mig_addr(family, node, port);

	return connect(fd, (struct sockaddr *)&addr, sizeof(addr));
}

/* poll() on one descriptor: its revents, 0 on timeout, -1 on error. */
static inline int poll_one(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n = poll(&pfd, 1, timeout_ms);

	return n <= 0 ? n : pfd.revents;
}

/* SO_ERROR of @fd (taking it), or -errno if getsockopt() fails. */
static inline int so_error(int fd)
{
	socklen_t len = sizeof(int);
	int err = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return err;
}

static inline int local_port(int fd)
{
	struct sockaddr_mig addr;
	socklen_t len = sizeof(addr);

	if (getsockname(fd, (struct sockaddr *)&addr, &len))
		return -1;
	return ntohs(addr.smig_port);
}

/* A listener of the current node on @port (0: ephemeral), or -1. */
static inline int listener(struct __test_metadata *_metadata, int family,
			   __u16 port, int backlog)
{
	int fd = mig_socket(family, 0);

	EXPECT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	if (fd < 0)
		return -1;
	if (port && bind_to(fd, family, 0, port)) {
		TH_LOG("bind %d: %s", port, strerror(errno));
		goto fail;
	}
	if (listen(fd, backlog)) {
		TH_LOG("listen: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	_metadata->passed = 0;
	close(fd);
	return -1;
}

/*
 * Waits (bounded) until a connection is in @lfd's accept queue.  connect()
 * returns when the caller has sent the handshake's last ACK, which the
 * listener may not have yet: a test that moves the listener with its
 * queue waits for it, as a connection still in SYN_RECV stays behind.
 */
static inline void wait_accept_queued(struct __test_metadata *_metadata,
				      int lfd)
{
	ASSERT_EQ(POLLIN, poll_one(lfd, POLLIN, WAIT_MS))
		TH_LOG("the listener has no connection in its accept queue");
}

/* Waits (bounded) for a connection to be waiting on @lfd and accepts it. */
static inline int accept_waiting(struct __test_metadata *_metadata, int lfd)
{
	int fd;

	EXPECT_EQ(POLLIN, poll_one(lfd, POLLIN, WAIT_MS))
		TH_LOG("no connection waiting on the listener");
	fd = accept(lfd, NULL, NULL);
	EXPECT_LE(0, fd) TH_LOG("accept: %s", strerror(errno));
	return fd;
}

/*
 * Connects @cfd, a socket of node 1 (made here when *@cfd < 0), to node
 * 2's listener on PORT (made on first use, kept until the test ends, so
 * that connections still closing do not hold the port) and accepts the
 * connection (*@afd).  Both ends have GUARD_SEC timeouts; the caller is
 * on node 1 afterwards.
 */
static inline void connect_pair(struct __test_metadata *_metadata,
				CLUSTER *self, int *cfd, int *afd)
{
	int lfd = self->lfd;

	if (lfd < 0) {
		ON_NODE(NODE2);
		lfd = mig_socket(self->family, 0);
		ASSERT_LE(0, lfd) TH_LOG("socket: %s", strerror(errno));
		self->lfd = lfd;
		ASSERT_EQ(0, bind_to(lfd, self->family, 0, PORT))
			TH_LOG("bind: %s", strerror(errno));
		ASSERT_EQ(0, listen(lfd, 8))
			TH_LOG("listen: %s", strerror(errno));
	}
	ON_NODE(NODE1);
	if (*cfd < 0) {
		*cfd = mig_socket(self->family, 0);
		ASSERT_LE(0, *cfd) TH_LOG("socket: %s", strerror(errno));
	}
	ASSERT_EQ(0, connect_to(*cfd, self->family, NODE2, PORT))
		TH_LOG("connect: %s", strerror(errno));
	ASSERT_EQ(POLLIN, poll_one(lfd, POLLIN, WAIT_MS))
		TH_LOG("no connection waiting on the listener");
	*afd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, *afd) TH_LOG("accept: %s", strerror(errno));
	ASSERT_EQ(0, set_timeouts(*afd, GUARD_SEC));
}

/* A new client socket of node 1, connected, and its accepted end. */
#define CONNECT_PAIR(cfd, afd) do {					\
	*(cfd) = -1;							\
	connect_pair(_metadata, self, cfd, afd);			\
} while (0)

/* Adds a netem qdisc with @args on @node's side of the veth. */
static inline void add_netem(struct __test_metadata *_metadata,
			     CLUSTER *self, unsigned int node,
			     const char *args)
{
	ON_NODE(node);
	/* The kernel would load it on demand; this makes failures clear. */
	sh("modprobe -q sch_netem 2>/dev/null");
	ASSERT_EQ(0, sh("tc qdisc add dev mig%u root netem %s", node, args))
		TH_LOG("tc qdisc add dev mig%u root netem %s failed", node, args);
}

/*
 * Drops every @every-th migtcp packet carrying data (IP length, IPv6's
 * payload length, 256 or more) of the underlay's family that arrives on
 * device @dev of the current node, counted from now: a tc gact action of
 * the "random determ" kind (a counter, not chance) on the device's
 * clsact ingress hook.  Shorter packets (ACKs, FINs, control messages)
 * pass a filter of higher priority first, so that every drop costs the
 * sender a retransmission of data.
 *
 * On arrival, not on departure: a packet that a filter drops as it
 * leaves is refused to the sender there and then (NET_XMIT_DROP), which
 * sends it again as if it had never been sent, as TCP does; no loss is
 * seen at all.  A drop at the receiving end is silent, as on a network.
 *
 * netem's "loss N%" is random: a transfer of a few dozen GSO packets (up
 * to 64 KiB each) may well lose none of them.  A test that needs loss
 * adds this too, so that the loss it asserts on is certain once @every
 * packets of data have left.
 */
static inline int add_determ_loss_dev(const char *dev, unsigned int every)
{
	sh("modprobe -q sch_ingress 2>/dev/null");
	sh("modprobe -q cls_u32 2>/dev/null");
	sh("modprobe -q act_gact 2>/dev/null");
	if (sh("tc qdisc add dev %s clsact", dev) ||
	    sh("tc filter add dev %s ingress " UL_TC_MATCH
	       " match u8 0 0xff at " UL_TC_LEN_HI " action pass",
	       dev, 1, migtcp_proto()))
		return -1;
	return sh("tc filter add dev %s ingress " UL_TC_MATCH
		  " action pass random determ drop %u",
		  dev, 2, migtcp_proto(), every);
}

/* The node at the other end of the veth of @node (node 1 or 2). */
static inline unsigned int veth_peer(unsigned int node)
{
	return node == NODE1 ? NODE2 : NODE1;
}

/*
 * add_determ_loss_dev() for what @node sends over its veth: on the other
 * end's device, where it arrives.
 */
static inline void add_determ_loss(struct __test_metadata *_metadata,
				   CLUSTER *self, unsigned int node,
				   unsigned int every)
{
	unsigned int peer = veth_peer(node);
	char dev[16];

	snprintf(dev, sizeof(dev), "mig%u", peer);
	ON_NODE(peer);
	ASSERT_EQ(0, add_determ_loss_dev(dev, every))
		TH_LOG("cannot drop every %uth packet of data from node %u on %s",
		       every, node, dev);
}

/*
 * Packets dropped on device @dev of @node (network namespace @ns), as
 * @what says: by the netem qdisc on its way out (random loss,
 * DROPPED_NETEM) and by the action of add_determ_loss_dev() on its way in
 * (DROPPED_DETERM); -1 if none of them is there.  Prints their counters.
 * (clsact counts the action's drops too on some kernels: only netem's
 * qdisc line counts.)
 */
#define DROPPED_NETEM	1
#define DROPPED_DETERM	2
static inline long dropped_dev(int ns, unsigned int node, const char *dev,
			       int what)
{
	char cmd[160], line[256];
	const char *counts = NULL;	/* what the current block counts */
	long dropped = -1;
	FILE *f;

	if (setns(ns, CLONE_NEWNET))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "tc -s qdisc show dev %s; tc -s filter show dev %s ingress 2>/dev/null",
		 dev, dev);
	f = popen(cmd, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "(dropped ");

		if (!strncmp(line, "qdisc ", 6))
			counts = (what & DROPPED_NETEM) &&
				 !strncmp(line, "qdisc netem ", 12) ? "netem" : NULL;
		else if (!strncmp(line, "filter ", 7))
			counts = what & DROPPED_DETERM ? "determ drop" : NULL;
		if (!p || !counts)
			continue;
		dropped = (dropped < 0 ? 0 : dropped) +
			  strtol(p + strlen("(dropped "), NULL, 10);
		fprintf(stderr, "# %s on node %u %s:%s", counts, node, dev, line);
	}
	pclose(f);
	return dropped;
}

/* Both kinds of dropped_dev() on @dev. */
static inline long netem_dropped_dev(int ns, unsigned int node,
				     const char *dev)
{
	return dropped_dev(ns, node, dev, DROPPED_NETEM | DROPPED_DETERM);
}

/*
 * Packets that @node sent over its veth and that were dropped, by netem
 * on its side or by add_determ_loss() on the other; -1 if neither is
 * there.  Prints the counters.  Proves that a loss test really lost
 * packets.
 */
static inline long netem_dropped(CLUSTER *self, unsigned int node)
{
	unsigned int peer = veth_peer(node);
	long netem, determ;
	char dev[16];

	snprintf(dev, sizeof(dev), "mig%u", node);
	netem = dropped_dev(self->ns[node], node, dev, DROPPED_NETEM);
	snprintf(dev, sizeof(dev), "mig%u", peer);
	determ = dropped_dev(self->ns[peer], peer, dev, DROPPED_DETERM);
	if (netem < 0 && determ < 0)
		return -1;
	return (netem > 0 ? netem : 0) + (determ > 0 ? determ : 0);
}

static inline void expect_netem_dropped(struct __test_metadata *_metadata,
					CLUSTER *self, unsigned int node)
{
	EXPECT_LT(0, netem_dropped(self, node))
		TH_LOG("nothing was dropped on node %u", node);
}

/*
 * @fd's MIGTCP_INFO into @info (poisoned first, so that nothing stale
 * passes); -1 with errno if getsockopt fails or returns another size.
 */
static inline int get_info(int fd, struct migtcp_info *info)
{
	socklen_t len = sizeof(*info);

	memset(info, 0xa5, sizeof(*info));
	if (getsockopt(fd, SOL_MIGTCP, MIGTCP_INFO, info, &len))
		return -1;
	if (len != sizeof(*info)) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* get_info(), failing the test if it fails. */
#define GET_INFO(fd, info)						\
	ASSERT_EQ(0, get_info(fd, info))				\
		TH_LOG("getsockopt(MIGTCP_INFO): %s", strerror(errno))

/* MIGTCP_INFO of @fd (get_info()); all 0 but state 0xff if unreadable. */
static inline struct migtcp_info info_of(int fd)
{
	struct migtcp_info info;

	if (get_info(fd, &info)) {
		memset(&info, 0, sizeof(info));
		info.state = 0xff;
	}
	return info;
}

/*
 * Waits up to @ms, reading @fd's MIGTCP_INFO into @info every few ms,
 * until @cond (an expression of @info) holds; true if it came to.
 */
#define WAIT_INFO(fd, ms, info, cond) ({				\
	long __end = now_ms() + (ms);					\
	bool __held;							\
									\
	while (!(__held = ((info) = info_of(fd), (cond))) &&		\
	       now_ms() < __end)					\
		sleep_ms(5);						\
	__held;								\
})

/*
 * Waits up to @ms until nothing @fd sent is unacknowledged (an ACK on
 * its way changes the RTO, or what a segment's sequence number means);
 * whether that came.
 */
static inline bool wait_unacked(int fd, int ms)
{
	struct migtcp_info info;

	return WAIT_INFO(fd, ms, info, info.state != 0xff && !info.unacked);
}

/*
 * Waits up to @ms until every control message @fd sent (a HOLD, an
 * update, a registration) is acknowledged; true if it is.
 */
static inline bool wait_ctl_acked(int fd, int ms)
{
	struct migtcp_info info;

	return WAIT_INFO(fd, ms, info, !info.ctl_unacked);
}

/* Waits up to @ms until @fd's send MSS is @mss: the last one it read. */
static inline unsigned int wait_mss(int fd, unsigned int mss, int ms)
{
	struct migtcp_info info;

	WAIT_INFO(fd, ms, info, info.snd_mss == mss);
	return info.snd_mss;
}

/*
 * How many times a retransmission timer of @rto_ms fires before @ms has
 * passed since the send: at R, 3R, 7R... (each backoff doubles it).
 * *@first_after (unless NULL): the first firing at or after @ms.
 */
static inline unsigned int rto_fires_before(long rto_ms, long ms,
					    long *first_after)
{
	unsigned int n = 0;
	long at;

	for (at = rto_ms; at < ms; at = 2 * at + rto_ms)
		n++;
	if (first_after)
		*first_after = at;
	return n;
}

/*
 * Counter @name of the current node's /proc/net/migtcp_stats ("Name
 * value" lines), or -1 if the node has no such counter.
 */
static inline long stat_here(const char *name)
{
	char line[128], key[64];
	long value = -1, v;
	FILE *f;

	f = fopen("/proc/net/migtcp_stats", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", key, &v) == 2 && !strcmp(key, name))
			value = v;
	fclose(f);
	return value;
}

/* Counter @name of @node (see stat_here()), or -1. */
static inline long node_stat(CLUSTER *self, unsigned int node,
			     const char *name)
{
	if (setns(self->ns[node], CLONE_NEWNET))
		return -1;
	return stat_here(name);
}

/*
 * Waits (bounded by @ms) until counter @name of @node has grown to @want;
 * its last value.  The caller is on @node afterwards.
 */
static inline long wait_node_stat(CLUSTER *self, unsigned int node,
				  const char *name, long want, long ms)
{
	long end = now_ms() + ms, v;

	for (;;) {
		v = node_stat(self, node, name);
		if (v >= want || now_ms() >= end)
			return v;
		sleep_ms(5);
	}
}

#define NODE4	4U	/* a third node, reached through node 1 */

#ifdef CLUSTER_IPV6
#define NODE4_LINK_ADDR	"2001:db8:4::4"
#define NODE14_LINK_ADDR "2001:db8:4::1"	/* node 1's end */
#define NODE4_NET	"2001:db8:4::/64"
#define UL_NET		"2001:db8:100::/64"
#define UL_FORWARDING	"net.ipv6.conf.all.forwarding"
#else
#define NODE4_LINK_ADDR	"192.0.2.4"
#define NODE14_LINK_ADDR "192.0.2.1"
#define NODE4_NET	"192.0.2.0/24"
#define UL_NET		"198.51.100.0/24"
#define UL_FORWARDING	"net.ipv4.ip_forward"
#endif

/*
 * Adds node 4 at NODE4_LINK_ADDR (192.0.2.4), joined to node 1 by a veth
 * pair; node 1 forwards between it and node 2.  Returns its netns fd;
 * the caller is on node 1 afterwards.
 */
static inline int add_node4(struct __test_metadata *_metadata, CLUSTER *self)
{
	int ns4;

	ON_NODE(NODE2);
	EXPECT_EQ(0, sh("ip route add " NODE4_NET " via " NODE1_ADDR));
	EXPECT_EQ(0, migtcp_test_ctl("peer add %u addr " NODE4_LINK_ADDR, NODE4));
	ON_NODE(NODE1);
	EXPECT_EQ(0, migtcp_test_new_netns());
	ns4 = open_own_netns();
	EXPECT_LE(0, ns4);
	EXPECT_EQ(0, sh("ip link add mig4 type veth peer name mig14 netns /proc/%d/fd/%d",
			getpid(), self->ns[NODE1]));
	EXPECT_EQ(0, sh("ip link set lo up && ip addr add " NODE4_LINK_ADDR UL_PREFIX
			" dev mig4" UL_ADDR_FLAGS " && ip link set mig4 up && "
			"ip route add " UL_NET " via " NODE14_LINK_ADDR));
	EXPECT_EQ(0, migtcp_test_ctl("node set id %u addr " NODE4_LINK_ADDR, NODE4));
	EXPECT_EQ(0, migtcp_test_ctl("peer add %u addr " NODE1_ADDR, NODE1));
	EXPECT_EQ(0, migtcp_test_ctl("peer add %u addr " NODE2_ADDR, NODE2));
	ON_NODE(NODE1);
	EXPECT_EQ(0, sh("ip addr add " NODE14_LINK_ADDR UL_PREFIX " dev mig14"
			UL_ADDR_FLAGS " && ip link set mig14 up && "
			"sysctl -qw " UL_FORWARDING "=1"));
	EXPECT_EQ(0, migtcp_test_ctl("peer add %u addr " NODE4_LINK_ADDR, NODE4));
	return ns4;
}

/*
 * A raw socket of migtcp's protocol in the node of network namespace
 * @ns: it sees every segment that reaches the node's IP layer, and sends
 * segments built by hand.
 */
static inline int raw_in(struct __test_metadata *_metadata, int ns)
{
	int fd;

	if (setns(ns, CLONE_NEWNET))
		return -1;
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, migtcp_proto());
	if (fd < 0)
		TH_LOG("raw socket: %s", strerror(errno));
	return fd;
}

/* A raw socket of node @node (see raw_in()). */
static inline int raw_on(struct __test_metadata *_metadata, CLUSTER *self,
			 unsigned int node)
{
	return raw_in(_metadata, self->ns[node]);
}

/* raw_in(), bound to @addr (the source it sends from). */
static inline int raw_bound_in(struct __test_metadata *_metadata, int ns,
			       const char *addr)
{
	const struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = inet_addr(addr),
	};
	int fd = raw_in(_metadata, ns);

	if (fd >= 0 && bind(fd, (const struct sockaddr *)&a, sizeof(a))) {
		TH_LOG("bind raw socket to %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The first option of @kind in the options area of segment @seg (@len
 * bytes), walked as the protocol says; NULL if there is none.
 */
static inline const __u8 *seg_find_opt(const __u8 *seg, int len, __u8 kind)
{
	const struct migtcphdr *h = (const struct migtcphdr *)seg;
	const __u8 *opt = seg + sizeof(*h);
	const __u8 *end = seg + (h->doff * 4 <= len ? h->doff * 4 : len);

	while (opt < end && *opt != MIGTCP_OPT_EOL) {
		if (*opt == MIGTCP_OPT_NOP) {
			opt++;
			continue;
		}
		if (end - opt < 2 || opt[1] < 2 || opt[1] > end - opt)
			return NULL;
		if (opt[0] == kind)
			return opt;
		opt += opt[1];
	}
	return NULL;
}

/* A segment without its IP header, as built by hand or as received. */
struct raw_seg {
	__u8 buf[MIGTCP_TEST_SEG_MAX];
	int len;
	__u32 saddr;		/* IP source, network byte order */
	struct in6_addr saddr6;	/* IPv6 source, from raw6_next_seg() */
};

/* Sends @s from raw socket @fd to @daddr. */
static inline void raw_send(struct __test_metadata *_metadata, int fd,
			    const struct raw_seg *s, const char *daddr)
{
	const struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = inet_addr(daddr),
	};

	ASSERT_EQ(s->len, migtcp_test_sendto(fd, s->buf, s->len,
					     (const struct sockaddr *)&to,
					     sizeof(to)))
		TH_LOG("sendto: %s", strerror(errno));
}

/*
 * Waits until now_ms() reaches @end for the next segment on raw socket
 * @fd of @min to @max bytes without its IP header, and copies it into @s
 * without that header; false if none came in time.
 */
static inline bool raw_next_seg(int fd, long end, int min, int max,
			    struct raw_seg *s)
{
	__u8 pkt[2048];
	ssize_t n;
	int ihl;

	for (;;) {
		long left = end - now_ms();

		if (left <= 0 || poll_one(fd, POLLIN, left) != POLLIN)
			return false;
		n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
		if (n < 20)
			continue;
		ihl = (pkt[0] & 0xf) * 4;
		if (n - ihl < min || n - ihl > max)
			continue;
		s->len = n - ihl;
		memcpy(s->buf, pkt + ihl, s->len);
		memcpy(&s->saddr, pkt + 12, 4);
		return true;
	}
}

#ifdef CLUSTER_IPV6
/*
 * The same over IPv6: an AF_INET6 raw socket of migtcp's protocol in the
 * node of network namespace @ns.  Unlike IPv4's, it delivers a segment
 * without the IPv6 header (its source comes in the sockaddr_in6) and
 * sends what it is given as the IPv6 header's payload, unchanged: the
 * kernel fills in no checksum of ours (IPV6_CHECKSUM is off).
 */
static inline int raw6_in(struct __test_metadata *_metadata, int ns)
{
	int fd;

	if (setns(ns, CLONE_NEWNET))
		return -1;
	fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, migtcp_proto());
	if (fd < 0)
		TH_LOG("raw IPv6 socket: %s", strerror(errno));
	return fd;
}

/* An IPv6 raw socket of node @node (see raw6_in()). */
static inline int raw6_on(struct __test_metadata *_metadata, CLUSTER *self,
			  unsigned int node)
{
	return raw6_in(_metadata, self->ns[node]);
}

/* IPv6 address @addr as a sockaddr_in6 (port 0: the socket's protocol). */
static inline struct sockaddr_in6 sin6_of(const char *addr)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };

	inet_pton(AF_INET6, addr, &a.sin6_addr);
	return a;
}

/* raw6_in(), bound to @addr (the source it sends from). */
static inline int raw6_bound_in(struct __test_metadata *_metadata, int ns,
				const char *addr)
{
	const struct sockaddr_in6 a = sin6_of(addr);
	int fd = raw6_in(_metadata, ns);

	if (fd >= 0 && bind(fd, (const struct sockaddr *)&a, sizeof(a))) {
		TH_LOG("bind raw IPv6 socket to %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends @s from IPv6 raw socket @fd to @daddr. */
static inline void raw6_send(struct __test_metadata *_metadata, int fd,
			     const struct raw_seg *s, const char *daddr)
{
	const struct sockaddr_in6 to = sin6_of(daddr);

	ASSERT_EQ(s->len, migtcp_test_sendto(fd, s->buf, s->len,
					     (const struct sockaddr *)&to,
					     sizeof(to)))
		TH_LOG("sendto: %s", strerror(errno));
}

/*
 * raw_next_seg() on IPv6 raw socket @fd: the next segment of @min to @max
 * bytes before now_ms() reaches @end, into @s with its source in
 * @s->saddr6 (@s->saddr is 0); false if none came in time.
 */
static inline bool raw6_next_seg(int fd, long end, int min, int max,
				 struct raw_seg *s)
{
	__u8 pkt[2048];
	ssize_t n;

	for (;;) {
		long left = end - now_ms();
		struct sockaddr_in6 from;
		socklen_t fromlen = sizeof(from);

		if (left <= 0 || poll_one(fd, POLLIN, left) != POLLIN)
			return false;
		n = recvfrom(fd, pkt, sizeof(pkt), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fromlen);
		if (n < min || n > max || from.sin6_family != AF_INET6)
			continue;
		s->len = n;
		memcpy(s->buf, pkt, s->len);
		s->saddr = 0;
		s->saddr6 = from.sin6_addr;
		return true;
	}
}
#endif /* CLUSTER_IPV6 */

/* A socket of the current node as /proc/net/migtcp lists it. */
struct proc_sock {
	char local[32], remote[32];	/* "node:port" */
	char state[32];
};

/*
 * The sockets of the current node for which @match(@arg) holds, counted;
 * -1 if /proc/net/migtcp cannot be read.  A NULL @match counts them all.
 */
static inline int count_proc_sockets(bool (*match)(const struct proc_sock *,
						   const void *),
				     const void *arg)
{
	struct proc_sock ps;
	char line[256];
	int n = 0;
	FILE *f;

	f = fopen("/proc/net/migtcp", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %31s %31s %31s", ps.local, ps.remote,
			   ps.state) == 3 && strchr(ps.local, ':') &&
		    (!match || match(&ps, arg)))
			n++;
	fclose(f);
	return n;
}

/* Prints both nodes' sockets and counters, to diagnose a failure. */
static inline void dump_nodes(CLUSTER *self)
{
	static const char * const files[] = {
		"/proc/net/migtcp", "/proc/net/migtcp_stats",
	};
	char line[256];
	unsigned int node, i;

	for (node = NODE1; node <= NODE2; node++) {
		if (setns(self->ns[node], CLONE_NEWNET))
			continue;
		for (i = 0; i < 2; i++) {
			FILE *f = fopen(files[i], "re");

			if (!f)
				continue;
			fprintf(stderr, "# node %u %s:\n", node, files[i]);
			while (fgets(line, sizeof(line), f))
				fprintf(stderr, "#   %s", line);
			fclose(f);
		}
	}
}

#endif /* MIGTCP_CLUSTER_H */
