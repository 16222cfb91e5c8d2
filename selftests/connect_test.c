// SPDX-License-Identifier: GPL-2.0
/*
 * Connection establishment: connect() (blocking, non-blocking, refused,
 * timed out, to this very node), listen() with its backlog limit, accept()
 * and accept4(), the addresses both ends report, poll() on connecting and
 * listening sockets, the states /proc/net/migtcp shows, SYN retransmission,
 * the FIN close() sends and the resets a closed listener sends its queue.
 *
 * Every test builds its own two-node cluster (cluster.h): node 1 and
 * node 2 joined by a veth pair; node 1 also knows a node 3 where no host
 * answers, so SYNs sent there vanish.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"

#define NODE_UNKNOWN	9U	/* in nobody's peer table */
#define EPHEMERAL_MIN	32768
#define EPHEMERAL_MAX	60999

/*
 * Checks a whole address as getsockname() (@peer false) or getpeername()
 * (@peer true) reports it, and returns its port.
 */
static int check_name(struct __test_metadata *_metadata, int fd, bool peer,
		      int family, __u32 want_node)
{
	struct sockaddr_mig addr;
	socklen_t len = sizeof(addr);
	int ret;

	memset(&addr, 0xa5, sizeof(addr));
	if (peer)
		ret = getpeername(fd, (struct sockaddr *)&addr, &len);
	else
		ret = getsockname(fd, (struct sockaddr *)&addr, &len);
	EXPECT_EQ(0, ret)
		TH_LOG("%s: %s", peer ? "getpeername" : "getsockname",
		       strerror(errno));
	if (ret)
		return -1;
	EXPECT_EQ(sizeof(addr), len);
	EXPECT_EQ(family, addr.smig_family);
	EXPECT_EQ(want_node, addr.smig_node)
		TH_LOG("%s node", peer ? "peer" : "local");
	for (unsigned int i = 0; i < sizeof(addr.smig_zero); i++)
		EXPECT_EQ(0, addr.smig_zero[i]);
	return ntohs(addr.smig_port);
}

#define LOCAL_PORT(fd, node)	check_name(_metadata, fd, false, self->family, node)
#define PEER_PORT(fd, node)	check_name(_metadata, fd, true, self->family, node)

static void expect_ephemeral(struct __test_metadata *_metadata, int port)
{
	EXPECT_LE(EPHEMERAL_MIN, port) TH_LOG("port %d", port);
	EXPECT_GE(EPHEMERAL_MAX, port) TH_LOG("port %d", port);
}

/*
 * Finds @fd's line in /proc/net/migtcp of the current node and copies its
 * local endpoint, remote endpoint and state; 0 when found.
 */
static int proc_entry(int fd, char local[32], char remote[32], char state[32])
{
	char line[256];
	struct stat st;
	int ret = -1;
	FILE *f;

	if (fstat(fd, &st))
		return -1;
	f = fopen("/proc/net/migtcp", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *last = strrchr(line, ' ');

		if (!last || strtoul(last, NULL, 10) != st.st_ino)
			continue;
		if (sscanf(line, "%*s %31s %31s %31s", local, remote, state) == 3)
			ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/*
 * Waits up to WAIT_MS for a socket of the current node with these
 * "node:port" endpoints in @state, as /proc/net/migtcp lists it (also
 * one no process holds yet, waiting in a listener's queue); 0 once seen.
 */
static int proc_wait(const char *local, const char *remote, const char *state)
{
	char line[256], l[32], r[32], st[32];
	int i;

	for (i = 0; i < WAIT_MS / 10; i++) {
		FILE *f = fopen("/proc/net/migtcp", "re");
		bool found = false;

		if (!f)
			return -1;
		while (!found && fgets(line, sizeof(line), f))
			found = sscanf(line, "%*s %31s %31s %31s", l, r, st) == 3 &&
				!strcmp(l, local) && !strcmp(r, remote) &&
				!strcmp(st, state);
		fclose(f);
		if (found)
			return 0;
		sleep_ms(10);
	}
	return -1;
}

/* Checks @fd's /proc/net/migtcp line: "node:port" endpoints and state. */
static void expect_proc(struct __test_metadata *_metadata, int fd,
			__u32 lnode, int lport, __u32 rnode, int rport,
			const char *want_state)
{
	char local[32], remote[32], state[32], want[32];

	ASSERT_EQ(0, proc_entry(fd, local, remote, state))
		TH_LOG("socket not in /proc/net/migtcp");
	snprintf(want, sizeof(want), "%u:%d", lnode, lport);
	EXPECT_STREQ(want, local);
	snprintf(want, sizeof(want), "%u:%d", rnode, rport);
	EXPECT_STREQ(want, remote);
	EXPECT_STREQ(want_state, state);
}

static void expect_proc_state(struct __test_metadata *_metadata, int fd,
			      const char *want_state)
{
	char local[32], remote[32], state[32];

	ASSERT_EQ(0, proc_entry(fd, local, remote, state))
		TH_LOG("socket not in /proc/net/migtcp");
	EXPECT_STREQ(want_state, state);
}

/*
 * Starts a non-blocking connect from the current node; returns the socket
 * (still non-blocking) after checking EINPROGRESS.
 */
static int connect_nb(struct __test_metadata *_metadata, int family,
		      __u32 node, __u16 port)
{
	int fd = mig_socket(family, SOCK_NONBLOCK);

	EXPECT_LE(0, fd);
	if (fd < 0)
		return -1;
	errno = 0;
	if (connect_to(fd, family, node, port) == 0 || errno != EINPROGRESS) {
		TH_LOG("non-blocking connect: %s, expected EINPROGRESS",
		       errno ? strerrorname_np(errno) : "success");
		_metadata->passed = 0;
		close(fd);
		return -1;
	}
	return fd;
}

TEST_F(cluster, connect_short_address)
{
	struct sockaddr_mig addr = mig_addr(self->family, NODE2, PORT);
	int fd = mig_socket(self->family, 0);

	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(EINVAL, connect(fd, (struct sockaddr *)&addr,
					  sizeof(addr) - 1));
	ASSERT_FAILS_WITH(EINVAL, connect(fd, (struct sockaddr *)&addr,
					  sizeof(sa_family_t)));
	/* Nothing changed: no port was taken. */
	EXPECT_EQ(0, LOCAL_PORT(fd, 0));
	close(fd);
}

TEST_F(cluster, connect_wrong_family)
{
	struct sockaddr_mig addr = mig_addr(AF_INET, NODE2, PORT);
	int fd = mig_socket(self->family, 0);

	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(EAFNOSUPPORT, connect(fd, (struct sockaddr *)&addr,
						sizeof(addr)));
	addr.smig_family = AF_INET6;
	ASSERT_FAILS_WITH(EAFNOSUPPORT, connect(fd, (struct sockaddr *)&addr,
						sizeof(addr)));
	EXPECT_EQ(0, LOCAL_PORT(fd, 0));
	close(fd);
}

/* A node without an id has no endpoints to connect from. */
TEST_F(cluster, connect_needs_node_id)
{
	int fd;

	ASSERT_EQ(0, migtcp_test_new_netns());
	/* It knows node 2, so the only thing missing is its own id. */
	ASSERT_EQ(0, migtcp_test_ctl("peer add %d addr " NODE2_ADDR, NODE2));
	fd = mig_socket(self->family, 0);
	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(EADDRNOTAVAIL,
			  connect_to(fd, self->family, NODE2, PORT));
	EXPECT_EQ(0, LOCAL_PORT(fd, 0));
	close(fd);
}

TEST_F(cluster, connect_unknown_node)
{
	int fd;

	ON_NODE(NODE1);
	fd = mig_socket(self->family, 0);
	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(EHOSTUNREACH,
			  connect_to(fd, self->family, NODE_UNKNOWN, PORT));
	/* A failed connect() leaves the socket as it was: unbound. */
	EXPECT_EQ(0, LOCAL_PORT(fd, 0));
	/* Node 3 is in node 1's peer table, not in node 2's. */
	ON_NODE(NODE2);
	close(fd);
	fd = mig_socket(self->family, 0);
	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(EHOSTUNREACH,
			  connect_to(fd, self->family, NODE_BLACKHOLE, PORT));
	close(fd);
}

/*
 * An unbound socket gets an ephemeral port of this node at connect(); the
 * accepted socket is named by the listener's endpoint and the client's.
 */
TEST_F(cluster, connect_binds_ephemeral_and_names_both_ends)
{
	int lfd, cfd, afd, cport;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT))
		TH_LOG("connect: %s", strerror(errno));
	cport = LOCAL_PORT(cfd, NODE1);
	expect_ephemeral(_metadata, cport);
	EXPECT_EQ(PORT, PEER_PORT(cfd, NODE2));

	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	EXPECT_EQ(PORT, LOCAL_PORT(afd, NODE2));
	EXPECT_EQ(cport, PEER_PORT(afd, NODE1));
	/* The listener itself is unchanged. */
	EXPECT_EQ(PORT, LOCAL_PORT(lfd, NODE2));
	close(afd);
	close(cfd);
	close(lfd);
}

/* accept() with an address buffer fills it in as getpeername() does. */
TEST_F(cluster, accept_reports_client_address)
{
	struct sockaddr_mig addr;
	socklen_t len = sizeof(addr);
	int lfd, cfd, afd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, bind_to(cfd, self->family, 0, 5555));
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT))
		TH_LOG("connect: %s", strerror(errno));
	/* An explicitly bound port is the one used. */
	EXPECT_EQ(5555, LOCAL_PORT(cfd, NODE1));

	ASSERT_EQ(POLLIN, poll_one(lfd, POLLIN, WAIT_MS));
	memset(&addr, 0xa5, sizeof(addr));
	afd = accept(lfd, (struct sockaddr *)&addr, &len);
	ASSERT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));
	EXPECT_EQ(sizeof(addr), len);
	EXPECT_EQ(self->family, addr.smig_family);
	EXPECT_EQ(NODE1, addr.smig_node);
	EXPECT_EQ(5555, ntohs(addr.smig_port));
	for (unsigned int i = 0; i < sizeof(addr.smig_zero); i++)
		EXPECT_EQ(0, addr.smig_zero[i]);
	close(afd);
	close(cfd);
	close(lfd);
}

/* The remote may be this very node: the path is loopback. */
TEST_F(cluster, connect_to_this_node)
{
	int lfd, cfd, afd, cport;

	ON_NODE(NODE1);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE1, PORT))
		TH_LOG("connect to this node: %s", strerror(errno));
	cport = LOCAL_PORT(cfd, NODE1);
	expect_ephemeral(_metadata, cport);
	EXPECT_EQ(PORT, PEER_PORT(cfd, NODE1));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	EXPECT_EQ(PORT, LOCAL_PORT(afd, NODE1));
	EXPECT_EQ(cport, PEER_PORT(afd, NODE1));
	expect_proc(_metadata, cfd, NODE1, cport, NODE1, PORT, "ESTABLISHED");
	expect_proc(_metadata, afd, NODE1, PORT, NODE1, cport, "ESTABLISHED");
	close(afd);
	close(cfd);
	close(lfd);
}

/* One byte from @a to @b and one back: the connection carries data. */
static void exchange_bytes(struct __test_metadata *_metadata, int a, int b)
{
	char c = 0;

	ASSERT_EQ(1, send(a, "a", 1, MSG_NOSIGNAL))
		TH_LOG("send: %s", strerror(errno));
	ASSERT_EQ(1, recv(b, &c, 1, 0)) TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ('a', c);
	ASSERT_EQ(1, send(b, "b", 1, MSG_NOSIGNAL))
		TH_LOG("send: %s", strerror(errno));
	ASSERT_EQ(1, recv(a, &c, 1, 0)) TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ('b', c);
}

/*
 * Two sockets of node 1 may share a port with SO_REUSEADDR, but not a
 * connection's 4-tuple: the second connect() to the same remote endpoint
 * fails with EADDRNOTAVAIL (as TCP's, whose tuple is taken), leaves the
 * first connection as it was, and keeps its own bound port, from which a
 * connection to another endpoint then succeeds.
 */
TEST_F(cluster, connect_duplicate_tuple_is_eaddrnotavail)
{
	int lfd, lfd2, a, b, afd, bfd, one = 1;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	lfd2 = listener(_metadata, self->family, PORT + 1, 8);
	ASSERT_LE(0, lfd2);
	ON_NODE(NODE1);
	a = mig_socket(self->family, 0);
	b = mig_socket(self->family, 0);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	ASSERT_EQ(0, setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	ASSERT_EQ(0, bind_to(a, self->family, 0, 5557));
	ASSERT_EQ(0, bind_to(b, self->family, 0, 5557))
		TH_LOG("bind with SO_REUSEADDR on both: %s", strerror(errno));

	ASSERT_EQ(0, connect_to(a, self->family, NODE2, PORT))
		TH_LOG("connect: %s", strerror(errno));
	ASSERT_FAILS_WITH(EADDRNOTAVAIL,
			  connect_to(b, self->family, NODE2, PORT));
	EXPECT_EQ(5557, LOCAL_PORT(b, NODE1));
	expect_proc(_metadata, b, NODE1, 5557, 0, 0, "CLOSE");

	/* The first connection is the one its tuple names. */
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	EXPECT_EQ(5557, PEER_PORT(afd, NODE1));
	exchange_bytes(_metadata, a, afd);

	ASSERT_EQ(0, connect_to(b, self->family, NODE2, PORT + 1))
		TH_LOG("connect to another endpoint: %s", strerror(errno));
	EXPECT_EQ(5557, LOCAL_PORT(b, NODE1));
	bfd = accept_waiting(_metadata, lfd2);
	ASSERT_LE(0, bfd);
	EXPECT_EQ(5557, PEER_PORT(bfd, NODE1));
	exchange_bytes(_metadata, b, bfd);
	exchange_bytes(_metadata, a, afd);

	close(bfd);
	close(afd);
	close(b);
	close(a);
	close(lfd2);
	close(lfd);
}

/*
 * Refused: ECONNREFUSED, the socket back in CLOSE with its ephemeral port
 * released, and usable for another connect(), whose connection carries
 * data both ways.
 */
TEST_F(cluster, connect_refused_releases_ephemeral_port)
{
	int lfd, cfd, afd;

	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_FAILS_WITH(ECONNREFUSED,
			  connect_to(cfd, self->family, NODE2, PORT));
	EXPECT_EQ(0, LOCAL_PORT(cfd, 0));
	expect_proc_state(_metadata, cfd, "CLOSE");
	/* The error was reported by connect(), not left pending. */
	EXPECT_EQ(0, so_error(cfd));

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT))
		TH_LOG("connect after a refusal: %s", strerror(errno));
	expect_ephemeral(_metadata, LOCAL_PORT(cfd, NODE1));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	exchange_bytes(_metadata, cfd, afd);
	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * Refused, a bound socket keeps its port and nothing of the peer it tried
 * (as TCP's disconnect clears the destination), and connects again from
 * the same port, a connection that carries data both ways.
 */
TEST_F(cluster, connect_refused_keeps_bound_port)
{
	int lfd, cfd, afd;
	char c;

	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, bind_to(cfd, self->family, 0, 5556));
	ASSERT_FAILS_WITH(ECONNREFUSED,
			  connect_to(cfd, self->family, NODE2, PORT));
	EXPECT_EQ(5556, LOCAL_PORT(cfd, NODE1));
	expect_proc(_metadata, cfd, NODE1, 5556, 0, 0, "CLOSE");
	/* Not connected (as TCP after a failed connect), not at EOF. */
	ASSERT_FAILS_WITH(ENOTCONN, recv(cfd, &c, 1, MSG_DONTWAIT));

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT))
		TH_LOG("connect after a refusal: %s", strerror(errno));
	EXPECT_EQ(5556, LOCAL_PORT(cfd, NODE1));
	EXPECT_EQ(PORT, PEER_PORT(cfd, NODE2));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	EXPECT_EQ(5556, PEER_PORT(afd, NODE1));
	exchange_bytes(_metadata, cfd, afd);
	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * Connects from node 2 to (@node, @port) and checks that listener @lfd of
 * node 1 takes the connection: one byte each way.  Back on node 1 after.
 */
static void expect_listener_found(struct __test_metadata *_metadata,
				  CLUSTER *self, int lfd, __u32 node,
				  int port)
{
	int cfd, afd;

	ON_NODE(NODE2);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, node, port))
		TH_LOG("connect to the listener %u:%d: %s", node, port,
		       strerror(errno));
	ON_NODE(NODE1);
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	EXPECT_EQ(LOCAL_PORT(cfd, NODE2), PEER_PORT(afd, NODE2));
	exchange_bytes(_metadata, cfd, afd);
	close(afd);
	close(cfd);
}

/*
 * As with TCP, a bound socket whose connect() failed may listen instead,
 * and the SYNs for its port find it: a listener has no peer, and the one
 * connect() tried must not stay behind.
 */
TEST_F(cluster, listen_after_refused_connect)
{
	int sfd;

	ON_NODE(NODE1);
	sfd = mig_socket(self->family, 0);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, bind_to(sfd, self->family, 0, 5556));
	ASSERT_FAILS_WITH(ECONNREFUSED,
			  connect_to(sfd, self->family, NODE2, PORT));
	ASSERT_EQ(0, listen(sfd, 8)) TH_LOG("listen: %s", strerror(errno));
	expect_proc(_metadata, sfd, NODE1, 5556, 0, 0, "LISTEN");
	expect_listener_found(_metadata, self, sfd, NODE1, 5556);
	close(sfd);
}

/*
 * The same after a non-blocking connect() refused: once connect() has
 * reported the outcome, listen() binds an ephemeral port (the one the
 * connection had went back) and the listener is found there.
 */
TEST_F(cluster, listen_after_refused_nonblocking_connect)
{
	int sfd, port;

	ON_NODE(NODE1);
	sfd = connect_nb(_metadata, self->family, NODE2, PORT);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(POLLOUT | POLLERR | POLLHUP,
		  poll_one(sfd, POLLOUT, WAIT_MS));
	EXPECT_EQ(ECONNREFUSED, so_error(sfd));
	/* The error was taken: connect() says the attempt is over. */
	ASSERT_FAILS_WITH(ECONNABORTED,
			  connect_to(sfd, self->family, NODE2, PORT));
	ASSERT_EQ(0, listen(sfd, 8)) TH_LOG("listen: %s", strerror(errno));
	port = LOCAL_PORT(sfd, NODE1);
	expect_ephemeral(_metadata, port);
	expect_proc(_metadata, sfd, NODE1, port, 0, 0, "LISTEN");
	ASSERT_EQ(0, fcntl(sfd, F_SETFL, 0));
	expect_listener_found(_metadata, self, sfd, NODE1, port);
	close(sfd);
}

/* A refusal from this node itself (loopback path). */
TEST_F(cluster, connect_refused_by_this_node)
{
	int cfd;

	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_FAILS_WITH(ECONNREFUSED,
			  connect_to(cfd, self->family, NODE1, PORT));
	EXPECT_EQ(0, LOCAL_PORT(cfd, 0));
	close(cfd);
}

TEST_F(cluster, nonblocking_connect_completes)
{
	int lfd, cfd, afd, cport;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = connect_nb(_metadata, self->family, NODE2, PORT);
	ASSERT_LE(0, cfd);
	/* The port is taken at connect(), before the handshake ends. */
	cport = LOCAL_PORT(cfd, NODE1);
	expect_ephemeral(_metadata, cport);
	EXPECT_EQ(POLLOUT, poll_one(cfd, POLLIN | POLLOUT, WAIT_MS));
	EXPECT_EQ(0, so_error(cfd));
	EXPECT_EQ(PORT, PEER_PORT(cfd, NODE2));
	expect_proc(_metadata, cfd, NODE1, cport, NODE2, PORT, "ESTABLISHED");
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	close(afd);
	close(cfd);
	close(lfd);
}

TEST_F(cluster, nonblocking_connect_refused)
{
	int cfd;

	ON_NODE(NODE1);
	cfd = connect_nb(_metadata, self->family, NODE2, PORT);
	ASSERT_LE(0, cfd);
	EXPECT_EQ(POLLOUT | POLLERR | POLLHUP,
		  poll_one(cfd, POLLOUT, WAIT_MS));
	EXPECT_EQ(ECONNREFUSED, so_error(cfd));
	/* SO_ERROR is read once. */
	EXPECT_EQ(0, so_error(cfd));
	EXPECT_EQ(0, LOCAL_PORT(cfd, 0));
	expect_proc_state(_metadata, cfd, "CLOSE");
	close(cfd);
}

/*
 * While the handshake is pending: EALREADY, no poll event, SYN_SENT, a
 * local endpoint but no peer yet (getpeername ENOTCONN, as TCP).
 */
TEST_F(cluster, nonblocking_connect_pending)
{
	struct sockaddr_mig addr;
	socklen_t len = sizeof(addr);
	int cfd, cport;

	ON_NODE(NODE1);
	cfd = connect_nb(_metadata, self->family, NODE_BLACKHOLE, PORT);
	ASSERT_LE(0, cfd);
	ASSERT_FAILS_WITH(EALREADY, connect_to(cfd, self->family,
					       NODE_BLACKHOLE, PORT));
	EXPECT_EQ(0, poll_one(cfd, POLLIN | POLLOUT, 300));
	cport = LOCAL_PORT(cfd, NODE1);
	expect_ephemeral(_metadata, cport);
	ASSERT_FAILS_WITH(ENOTCONN, getpeername(cfd, (struct sockaddr *)&addr,
						&len));
	expect_proc(_metadata, cfd, NODE1, cport, NODE_BLACKHOLE, PORT,
		    "SYN_SENT");
	close(cfd);
}

/*
 * As TCP: once a non-blocking connect has completed, connect() again
 * returns 0 (programs use this to learn the outcome); after that the
 * socket is connected and connect() says EISCONN.
 */
TEST_F(cluster, nonblocking_connect_again_after_completion)
{
	int lfd, cfd, afd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = connect_nb(_metadata, self->family, NODE2, PORT);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(POLLOUT, poll_one(cfd, POLLOUT, WAIT_MS));
	EXPECT_EQ(0, connect_to(cfd, self->family, NODE2, PORT))
		TH_LOG("connect after completion: %s", strerror(errno));
	ASSERT_FAILS_WITH(EISCONN, connect_to(cfd, self->family, NODE2, PORT));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	close(afd);
	close(cfd);
	close(lfd);
}

TEST_F(cluster, connect_connected_is_eisconn)
{
	int lfd, lfd1, cfd, afd;

	ON_NODE(NODE1);
	lfd1 = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd1);
	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT));
	ASSERT_FAILS_WITH(EISCONN, connect_to(cfd, self->family, NODE2, PORT));
	/* Another destination, even one with a listener, changes nothing. */
	ASSERT_FAILS_WITH(EISCONN, connect_to(cfd, self->family, NODE1, PORT));
	EXPECT_EQ(PORT, PEER_PORT(cfd, NODE2));
	EXPECT_EQ(0, poll_one(lfd1, POLLIN, 300));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	/* The accepted end is connected too. */
	ASSERT_FAILS_WITH(EISCONN, connect_to(afd, self->family, NODE1, PORT));
	close(afd);
	close(cfd);
	close(lfd);
	close(lfd1);
}

TEST_F(cluster, connect_listener_is_eisconn)
{
	int lfd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ASSERT_FAILS_WITH(EISCONN, connect_to(lfd, self->family, NODE1, PORT));
	expect_proc(_metadata, lfd, NODE2, PORT, 0, 0, "LISTEN");
	close(lfd);
}

/* A blocking connect that outlasts SO_SNDTIMEO: EINPROGRESS, as TCP. */
TEST_F(cluster, connect_sndtimeo_expires)
{
	struct timeval tv = { .tv_usec = 300000 };
	long start, took;
	int cfd, cport;

	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	start = now_ms();
	ASSERT_FAILS_WITH(EINPROGRESS, connect_to(cfd, self->family,
						  NODE_BLACKHOLE, PORT));
	took = now_ms() - start;
	/* At 300 ms, less a tick; well before GUARD_SEC's 5 s it replaced. */
	EXPECT_LE(280, took);
	EXPECT_GT(GUARD_SEC * 1000 / 2, took);
	/* The handshake goes on in the background. */
	cport = LOCAL_PORT(cfd, NODE1);
	expect_ephemeral(_metadata, cport);
	expect_proc(_metadata, cfd, NODE1, cport, NODE_BLACKHOLE, PORT,
		    "SYN_SENT");
	close(cfd);
}

#define NODE_UNROUTED	5U	/* in node 1's table, its net unknown to node 2 */

#ifdef CLUSTER_IPV6
#define UNROUTED_NET	"2001:db8:5::/64"
#define UNROUTED_ADDR	"2001:db8:5::5"
#else
#define UNROUTED_NET	"203.0.113.0/24"
#define UNROUTED_ADDR	"203.0.113.5"
#endif

/*
 * An ICMP error ends a connect() at once, as TCP's (RFC 1122 4.2.3.9):
 * node 1 reaches node 5's network through node 2, which forwards but has
 * no route there, and answers the SYN with "network unreachable".  The
 * blocking connect() fails with ENETUNREACH long before its SO_SNDTIMEO
 * (and the SYN's retries) would end it.
 */
TEST_F(cluster, connect_fails_at_once_on_icmp_unreachable)
{
	struct timeval tv = { .tv_sec = 20 };
	long start;
	int cfd;

	ON_NODE(NODE2);
	ASSERT_EQ(0, sh("sysctl -qw " UL_FORWARDING "=1"));
	ON_NODE(NODE1);
	ASSERT_EQ(0, sh("ip route add " UNROUTED_NET " via " NODE2_ADDR));
	ASSERT_EQ(0, migtcp_test_ctl("peer add %u addr " UNROUTED_ADDR,
				     NODE_UNROUTED));
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	start = now_ms();
	ASSERT_FAILS_WITH(ENETUNREACH, connect_to(cfd, self->family,
						  NODE_UNROUTED, PORT));
	/* The first SYN's answer, not the end of its retries. */
	EXPECT_GT(tv.tv_sec * 1000 / 2, now_ms() - start);
	/* As any failed connect(): the socket is unbound again. */
	EXPECT_EQ(0, LOCAL_PORT(cfd, 0));
	close(cfd);
}

static void on_alarm(int sig)
{
}

/*
 * A signal interrupts a blocking connect() with EINTR (the handler is
 * installed without SA_RESTART); the handshake goes on, as in TCP.  The
 * alarm repeats until connect() returns: one that comes before the call
 * blocks is handled in user space and leaves it blocked.
 */
TEST_F(cluster, connect_interrupted_by_signal)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value.tv_usec = 300000,
				.it_interval.tv_usec = 300000 };
	const struct itimerval off = { 0 };
	long start, took;
	int cfd, ret, err;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	start = now_ms();
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	ret = connect_to(cfd, self->family, NODE_BLACKHOLE, PORT);
	err = errno;
	took = now_ms() - start;
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &off, NULL));
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(EINTR, err) TH_LOG("connect: %s", strerror(err));
	/* The signal, at 300 ms; not the GUARD_SEC timeout (5 s). */
	EXPECT_LE(280, took);
	EXPECT_GT(GUARD_SEC * 1000 / 2, took);
	expect_proc_state(_metadata, cfd, "SYN_SENT");
	/* Still connecting: a non-blocking retry says so. */
	ASSERT_EQ(0, fcntl(cfd, F_SETFL, O_NONBLOCK));
	ASSERT_FAILS_WITH(EALREADY, connect_to(cfd, self->family,
					       NODE_BLACKHOLE, PORT));
	close(cfd);
}

/* Closing a socket whose handshake is pending frees its port. */
TEST_F(cluster, close_while_connecting)
{
	int cfd;

	ON_NODE(NODE1);
	cfd = mig_socket(self->family, SOCK_NONBLOCK);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, bind_to(cfd, self->family, 0, 5557));
	ASSERT_FAILS_WITH(EINPROGRESS, connect_to(cfd, self->family,
						  NODE_BLACKHOLE, PORT));
	expect_proc_state(_metadata, cfd, "SYN_SENT");
	close(cfd);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, bind_to(cfd, self->family, 0, 5557))
		TH_LOG("bind to the port of a closed connecting socket: %s",
		       strerror(errno));
	/* The closed socket's retransmission timer must not fire: wait past it. */
	sleep_ms(1300);
	expect_proc(_metadata, cfd, NODE1, 5557, 0, 0, "CLOSE");
	close(cfd);
}

/* Each listener gets the connections for its own port. */
TEST_F(cluster, connections_reach_their_listener)
{
	int l1, l2, c1, c2, a1, a2;

	ON_NODE(NODE2);
	l1 = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, l1);
	l2 = listener(_metadata, self->family, PORT + 1, 8);
	ASSERT_LE(0, l2);
	ON_NODE(NODE1);
	c2 = mig_socket(self->family, 0);
	ASSERT_LE(0, c2);
	ASSERT_EQ(0, connect_to(c2, self->family, NODE2, PORT + 1));
	EXPECT_EQ(POLLIN, poll_one(l2, POLLIN, WAIT_MS));
	EXPECT_EQ(0, poll_one(l1, POLLIN, 200));
	c1 = mig_socket(self->family, 0);
	ASSERT_LE(0, c1);
	ASSERT_EQ(0, connect_to(c1, self->family, NODE2, PORT));
	a1 = accept_waiting(_metadata, l1);
	ASSERT_LE(0, a1);
	a2 = accept_waiting(_metadata, l2);
	ASSERT_LE(0, a2);
	EXPECT_EQ(PORT, LOCAL_PORT(a1, NODE2));
	EXPECT_EQ(LOCAL_PORT(c1, NODE1), PEER_PORT(a1, NODE1));
	EXPECT_EQ(PORT + 1, LOCAL_PORT(a2, NODE2));
	EXPECT_EQ(LOCAL_PORT(c2, NODE1), PEER_PORT(a2, NODE1));
	close(a1);
	close(a2);
	close(c1);
	close(c2);
	close(l1);
	close(l2);
}

/* listen() on a connected socket: EINVAL, as inet_listen() says. */
TEST_F(cluster, listen_on_connected_socket)
{
	int lfd, cfd, afd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT));
	ASSERT_FAILS_WITH(EINVAL, listen(cfd, 8));
	expect_proc_state(_metadata, cfd, "ESTABLISHED");
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	ASSERT_FAILS_WITH(EINVAL, listen(afd, 8));
	close(afd);
	close(cfd);
	close(lfd);
}

TEST_F(cluster, listen_unbound_binds_ephemeral)
{
	int lfd, cfd, afd, lport;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, 0, 8);
	ASSERT_LE(0, lfd);
	lport = LOCAL_PORT(lfd, NODE2);
	expect_ephemeral(_metadata, lport);
	expect_proc(_metadata, lfd, NODE2, lport, 0, 0, "LISTEN");
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, lport))
		TH_LOG("connect to the ephemeral listener: %s", strerror(errno));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	EXPECT_EQ(lport, LOCAL_PORT(afd, NODE2));
	close(afd);
	close(cfd);
	close(lfd);
}

/* The SYN retransmissions of @fd so far (MIGTCP_INFO), or -1. */
static long syn_retransmissions(int fd)
{
	struct migtcp_info info;

	return get_info(fd, &info) ? -1 : (long)info.total_retrans;
}

/*
 * Client @c, whose SYNs node 2 dropped from @drops on, and for which room
 * was just made in the accept queue: waits for its handshake to end and
 * checks that it ended with the first SYN sent after the room was made.
 * That is the retransmission after the last one dropped, on the SYN
 * schedule (1 s, then 2 s, 4 s... apart): the test counts the drops once
 * the room is made, so that a test thread that ran late, and saw one
 * retransmission more dropped, changes which one passes and not the
 * outcome.  The time since @start is bounded by that retransmission's
 * moment (less a tick) and the next one's.
 */
static void expect_syn_passes(struct __test_metadata *_metadata,
			      CLUSTER *self, int c, long drops, long start)
{
	long dropped = node_stat(self, NODE2, "ListenDrops") - drops;
	long took, at_ms = 0, next_ms, i;

	ON_NODE(NODE1);
	EXPECT_EQ(POLLOUT, poll_one(c, POLLOUT, 20000));
	took = now_ms() - start;
	EXPECT_EQ(0, so_error(c));
	/* The SYNs dropped: the first and dropped - 1 retransmissions. */
	EXPECT_EQ(dropped, syn_retransmissions(c))
		TH_LOG("%ld SYNs dropped", dropped);
	for (i = 0; i < dropped; i++)
		at_ms += 1000L << i;
	next_ms = at_ms + (1000L << dropped);
	EXPECT_LE(at_ms - 200, took)
		TH_LOG("retransmission %ld passed after %ld ms", dropped, took);
	EXPECT_GT(next_ms, took)
		TH_LOG("retransmission %ld passed after %ld ms", dropped, took);
	EXPECT_EQ(drops + dropped, node_stat(self, NODE2, "ListenDrops"));
}

/*
 * At most @backlog connections wait; a SYN beyond that is dropped, the
 * client retransmits it after 1 s, then 2 s more, and completes at the
 * first retransmission that finds room.
 *
 * Room is made as soon as node 2 has counted the drops (ListenDrops),
 * not after a fixed sleep, and then there is a whole retransmission
 * interval (1 s, then 2 s) before the retransmission that must find it;
 * which one found it is counted (expect_syn_passes()).
 */
TEST_F(cluster, backlog_full_syn_retransmitted)
{
	int lfd, c1, c2, c3, a1, a2, a3;
	long start, drops;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 1);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	c1 = mig_socket(self->family, 0);
	ASSERT_LE(0, c1);
	ASSERT_EQ(0, connect_to(c1, self->family, NODE2, PORT));
	ASSERT_EQ(POLLIN, poll_one(lfd, POLLIN, WAIT_MS));
	drops = node_stat(self, NODE2, "ListenDrops");
	ASSERT_LE(0, drops);

	/* The queue is full: c2's SYN is dropped, not refused. */
	ON_NODE(NODE1);
	start = now_ms();
	c2 = connect_nb(_metadata, self->family, NODE2, PORT);
	ASSERT_LE(0, c2);
	ASSERT_EQ(drops + 1, wait_node_stat(self, NODE2, "ListenDrops",
					    drops + 1, WAIT_MS));
	EXPECT_EQ(0, poll_one(c2, POLLOUT, 0));
	a1 = accept(lfd, NULL, NULL);
	ASSERT_LE(0, a1) TH_LOG("accept: %s", strerror(errno));
	ON_NODE(NODE1);
	expect_proc_state(_metadata, c2, "SYN_SENT");
	/* Room now: the retransmission at 1 s gets through. */
	expect_syn_passes(_metadata, self, c2, drops, start);
	drops = node_stat(self, NODE2, "ListenDrops");

	/* c2 waits now; c3 is dropped at 0 s and 1 s, passes at 3 s. */
	ASSERT_EQ(POLLIN, poll_one(lfd, POLLIN, WAIT_MS));
	ON_NODE(NODE1);
	start = now_ms();
	c3 = connect_nb(_metadata, self->family, NODE2, PORT);
	ASSERT_LE(0, c3);
	ASSERT_EQ(drops + 2, wait_node_stat(self, NODE2, "ListenDrops",
					    drops + 2, 10000));
	EXPECT_EQ(0, poll_one(c3, POLLOUT, 0));
	a2 = accept(lfd, NULL, NULL);
	ASSERT_LE(0, a2) TH_LOG("accept: %s", strerror(errno));
	expect_syn_passes(_metadata, self, c3, drops, start);
	a3 = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, a3);
	EXPECT_EQ(LOCAL_PORT(c3, NODE1), PEER_PORT(a3, NODE1));
	close(a1);
	close(a2);
	close(a3);
	close(c1);
	close(c2);
	close(c3);
	close(lfd);
}

/* listen() on a listener changes only the backlog. */
TEST_F(cluster, listen_again_changes_backlog)
{
	char local[32], remote[32];
	int lfd, c1, c2, c3;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 1);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	c1 = mig_socket(self->family, 0);
	ASSERT_LE(0, c1);
	ASSERT_EQ(0, connect_to(c1, self->family, NODE2, PORT));
	/* c1 waits on the listener: the queue is full. */
	ASSERT_EQ(POLLIN, poll_one(lfd, POLLIN, WAIT_MS));
	c2 = connect_nb(_metadata, self->family, NODE2, PORT);
	ASSERT_LE(0, c2);
	EXPECT_EQ(0, poll_one(c2, POLLOUT, 300));

	ASSERT_EQ(0, listen(lfd, 2)) TH_LOG("listen again: %s", strerror(errno));
	EXPECT_EQ(PORT, LOCAL_PORT(lfd, NODE2));
	ON_NODE(NODE2);
	expect_proc(_metadata, lfd, NODE2, PORT, 0, 0, "LISTEN");
	ON_NODE(NODE1);
	/* c2 gets in at its next retransmission. */
	EXPECT_EQ(POLLOUT, poll_one(c2, POLLOUT, 4500));
	EXPECT_EQ(0, so_error(c2));
	/* c2's final ACK reached the listener: two wait, the new limit. */
	snprintf(local, sizeof(local), "%u:%d", NODE2, PORT);
	snprintf(remote, sizeof(remote), "%u:%d", NODE1, LOCAL_PORT(c2, NODE1));
	ON_NODE(NODE2);
	ASSERT_EQ(0, proc_wait(local, remote, "ESTABLISHED"))
		TH_LOG("no ESTABLISHED %s %s on node 2", local, remote);
	ON_NODE(NODE1);
	c3 = connect_nb(_metadata, self->family, NODE2, PORT);
	ASSERT_LE(0, c3);
	EXPECT_EQ(0, poll_one(c3, POLLOUT, 1300));
	expect_proc_state(_metadata, c3, "SYN_SENT");
	close(c3);
	close(c2);
	close(c1);
	close(lfd);
}

/* accept() blocks until a connection is established. */
TEST_F(cluster, accept_blocks_until_connection)
{
	int lfd, afd, sync[2], status;
	long start, took;
	char c = 0;
	pid_t pid;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, pipe(sync));
	start = now_ms();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (setns(self->ns[NODE1], CLONE_NEWNET))
			_exit(2);
		sleep_ms(400);
		fd = mig_socket(self->family, 0);
		if (fd < 0)
			_exit(3);
		if (connect_to(fd, self->family, NODE2, PORT))
			_exit(4);
		/* Hold the connection until the parent has accepted it. */
		close(sync[1]);
		if (read(sync[0], &c, 1) < 0)
			_exit(5);
		_exit(0);
	}
	close(sync[0]);
	afd = accept(lfd, NULL, NULL);
	took = now_ms() - start;
	EXPECT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));
	EXPECT_LE(350, took) TH_LOG("accept returned after %ld ms", took);
	EXPECT_GE(3000, took) TH_LOG("accept returned after %ld ms", took);
	if (afd >= 0) {
		EXPECT_EQ(PORT, LOCAL_PORT(afd, NODE2));
		expect_ephemeral(_metadata, PEER_PORT(afd, NODE1));
		expect_proc_state(_metadata, afd, "ESTABLISHED");
	}
	ASSERT_EQ(1, write(sync[1], &c, 1));
	close(sync[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child: 2 setns, 3 socket, 4 connect, 5 sync");
	if (afd >= 0)
		close(afd);
	close(lfd);
}

TEST_F(cluster, accept_nonblocking_nothing_waiting)
{
	int lfd, afd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, fcntl(lfd, F_SETFL, O_NONBLOCK));
	ASSERT_FAILS_WITH(EAGAIN, accept(lfd, NULL, NULL));
	ASSERT_FAILS_WITH(EAGAIN, accept4(lfd, NULL, NULL, SOCK_CLOEXEC));
	/* Still listening: a connection is accepted. */
	ON_NODE(NODE1);
	{
		int cfd = mig_socket(self->family, 0);

		ASSERT_LE(0, cfd);
		ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT));
		afd = accept_waiting(_metadata, lfd);
		ASSERT_LE(0, afd);
		ASSERT_FAILS_WITH(EAGAIN, accept(lfd, NULL, NULL));
		close(afd);
		close(cfd);
	}
	close(lfd);
}

TEST_F(cluster, accept4_flags)
{
	int lfd, c1, c2, a1, a2;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	c1 = mig_socket(self->family, 0);
	ASSERT_LE(0, c1);
	ASSERT_EQ(0, connect_to(c1, self->family, NODE2, PORT));
	c2 = mig_socket(self->family, 0);
	ASSERT_LE(0, c2);
	ASSERT_EQ(0, connect_to(c2, self->family, NODE2, PORT));

	ASSERT_EQ(POLLIN, poll_one(lfd, POLLIN, WAIT_MS));
	a1 = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ASSERT_LE(0, a1) TH_LOG("accept4: %s", strerror(errno));
	EXPECT_EQ(O_NONBLOCK, fcntl(a1, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(a1, F_GETFD));

	ASSERT_EQ(POLLIN, poll_one(lfd, POLLIN, WAIT_MS));
	a2 = accept4(lfd, NULL, NULL, 0);
	ASSERT_LE(0, a2) TH_LOG("accept4: %s", strerror(errno));
	EXPECT_EQ(0, fcntl(a2, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(0, fcntl(a2, F_GETFD));

	close(a1);
	close(a2);
	close(c1);
	close(c2);
	close(lfd);
}

TEST_F(cluster, accept_not_listening)
{
	int fd;

	ON_NODE(NODE2);
	fd = mig_socket(self->family, 0);
	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(EINVAL, accept(fd, NULL, NULL));
	ASSERT_EQ(0, bind_to(fd, self->family, 0, PORT));
	ASSERT_FAILS_WITH(EINVAL, accept(fd, NULL, NULL));
	ASSERT_FAILS_WITH(EINVAL, accept4(fd, NULL, NULL, SOCK_NONBLOCK));
	close(fd);
}

/* A connected socket is not a listener either. */
TEST_F(cluster, accept_on_connected_socket)
{
	int lfd, cfd, afd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT));
	ASSERT_FAILS_WITH(EINVAL, accept(cfd, NULL, NULL));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	ASSERT_FAILS_WITH(EINVAL, accept(afd, NULL, NULL));
	close(afd);
	close(cfd);
	close(lfd);
}

TEST_F(cluster, listener_poll)
{
	int lfd, cfd, afd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	EXPECT_EQ(0, poll_one(lfd, POLLIN | POLLOUT, 200));
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT));
	EXPECT_EQ(POLLIN, poll_one(lfd, POLLIN | POLLOUT, WAIT_MS));
	afd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));
	/* Nothing waits any more. */
	EXPECT_EQ(0, poll_one(lfd, POLLIN | POLLOUT, 200));
	close(afd);
	close(cfd);
	close(lfd);
}

/* /proc/net/migtcp on both nodes while a connection is up. */
TEST_F(cluster, proc_shows_connection)
{
	int lfd, cfd, afd, cport;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT));
	cport = LOCAL_PORT(cfd, NODE1);
	expect_proc(_metadata, cfd, NODE1, cport, NODE2, PORT, "ESTABLISHED");
	ON_NODE(NODE2);
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	expect_proc(_metadata, afd, NODE2, PORT, NODE1, cport, "ESTABLISHED");
	expect_proc(_metadata, lfd, NODE2, PORT, 0, 0, "LISTEN");
	close(afd);
	close(cfd);
	close(lfd);
}

/* Waits for a reset from the peer and checks what it left. */
static void expect_reset(struct __test_metadata *_metadata, int fd)
{
	int revents = poll_one(fd, POLLIN, WAIT_MS);

	EXPECT_EQ(POLLERR | POLLHUP, revents & (POLLERR | POLLHUP))
		TH_LOG("poll after the peer's reset: revents %#x", revents);
	EXPECT_EQ(ECONNRESET, so_error(fd));
	expect_proc_state(_metadata, fd, "CLOSE");
}

/*
 * Waits for the FIN a peer's close() sends: the socket reads EOF at once
 * and sits in CLOSE_WAIT, writable, with no error.
 */
static void expect_fin(struct __test_metadata *_metadata, int fd)
{
	/* POLLOUT alone would end the wait before the FIN is there. */
	int revents = poll_one(fd, POLLIN | POLLRDHUP, WAIT_MS);
	char byte;

	EXPECT_EQ(POLLIN | POLLRDHUP, revents)
		TH_LOG("poll after the peer's close: revents %#x", revents);
	revents = poll_one(fd, POLLIN | POLLRDHUP | POLLOUT, 0);
	EXPECT_EQ(POLLIN | POLLRDHUP | POLLOUT, revents)
		TH_LOG("poll after the FIN: revents %#x", revents);
	EXPECT_EQ(0, read(fd, &byte, 1));
	EXPECT_EQ(0, so_error(fd));
	expect_proc_state(_metadata, fd, "CLOSE_WAIT");
}

/* close() of a connected socket with nothing unread sends a FIN. */
TEST_F(cluster, close_client_sends_fin)
{
	int lfd, cfd, afd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT));
	ON_NODE(NODE2);
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	close(cfd);
	expect_fin(_metadata, afd);
	close(afd);
	close(lfd);
}

TEST_F(cluster, close_server_sends_fin)
{
	int lfd, cfd, afd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	close(afd);
	expect_fin(_metadata, cfd);
	/* The listener is not affected. */
	EXPECT_EQ(0, poll_one(lfd, POLLIN, 200));
	close(cfd);
	close(lfd);
}

/* Closing a listener resets the connections still waiting in its queue. */
TEST_F(cluster, close_listener_resets_queue)
{
	int lfd, c1, c2;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	c1 = mig_socket(self->family, 0);
	ASSERT_LE(0, c1);
	ASSERT_EQ(0, connect_to(c1, self->family, NODE2, PORT));
	c2 = mig_socket(self->family, 0);
	ASSERT_LE(0, c2);
	ASSERT_EQ(0, connect_to(c2, self->family, NODE2, PORT));
	/* Let the final ACKs reach the listener. */
	ASSERT_EQ(POLLIN, poll_one(lfd, POLLIN, WAIT_MS));
	sleep_ms(100);
	close(lfd);
	expect_reset(_metadata, c1);
	expect_reset(_metadata, c2);
	close(c1);
	close(c2);
	/* The port is free again. */
	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT, 8);
	EXPECT_LE(0, lfd);
	close(lfd);
}

TEST_HARNESS_MAIN
