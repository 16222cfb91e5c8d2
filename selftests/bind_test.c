// SPDX-License-Identifier: GPL-2.0
/*
 * Socket addressing: bind() to (node, port) with node 0 meaning this node
 * and port 0 an ephemeral port, the errors inet_bind() users expect,
 * SO_REUSEADDR, getsockname()/getpeername(), the port table being per
 * node, and a node id that cannot change under bound sockets.
 *
 * Every test runs in a network namespace of its own (a node of its own);
 * the node id is set with migtcpctl ($MIGTCP_CTL).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"

#define NODE_ID		7
#define OTHER_NODE	8
#define EPHEMERAL_MIN	32768
#define EPHEMERAL_MAX	60999

FIXTURE(node) {
	int family;
};

FIXTURE_SETUP(node)
{
	self->family = migtcp_family();
	ASSERT_LT(0, self->family) TH_LOG("is migtcp loaded?");
	ASSERT_EQ(0, migtcp_test_new_netns())
		TH_LOG("new netns: %s", strerror(errno));
	ASSERT_EQ(0, migtcp_test_ctl("node set id %d", NODE_ID))
		TH_LOG("migtcpctl node set id %d failed (MIGTCP_CTL=%s)",
		       NODE_ID, getenv("MIGTCP_CTL"));
}

FIXTURE_TEARDOWN(node)
{
}

static struct sockaddr_mig mig_addr(int family, uint32_t node, uint16_t port)
{
	struct sockaddr_mig addr = {
		.smig_family = family,
		.smig_port = htons(port),
		.smig_node = node,
	};
	return addr;
}

static int mig_socket(int family)
{
	return socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static int bind_to(int fd, int family, uint32_t node, uint16_t port)
{
	struct sockaddr_mig addr = mig_addr(family, node, port);

	return bind(fd, (struct sockaddr *)&addr, sizeof(addr));
}

/* Returns the bound port (host order) and checks the whole address. */
static int bound_port(struct __test_metadata *_metadata, int fd, int family,
		      uint32_t want_node)
{
	struct sockaddr_mig addr;
	socklen_t len = sizeof(addr);

	memset(&addr, 0xa5, sizeof(addr));
	EXPECT_EQ(0, getsockname(fd, (struct sockaddr *)&addr, &len))
		TH_LOG("getsockname: %s", strerror(errno));
	EXPECT_EQ(sizeof(addr), len);
	EXPECT_EQ(family, addr.smig_family);
	EXPECT_EQ(want_node, addr.smig_node);
	for (unsigned int i = 0; i < sizeof(addr.smig_zero); i++)
		EXPECT_EQ(0, addr.smig_zero[i]);
	return ntohs(addr.smig_port);
}

TEST(bind_needs_node_id)
{
	int family = migtcp_family();
	int fd;

	ASSERT_EQ(0, migtcp_test_new_netns());
	fd = mig_socket(family);
	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(EADDRNOTAVAIL, bind_to(fd, family, 0, 5000));
	ASSERT_FAILS_WITH(EADDRNOTAVAIL, bind_to(fd, family, 0, 0));
	EXPECT_EQ(0, bound_port(_metadata, fd, family, 0));
	close(fd);
}

TEST_F(node, bind_this_node_by_zero)
{
	int fd = mig_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_to(fd, self->family, 0, 5000))
		TH_LOG("bind: %s", strerror(errno));
	EXPECT_EQ(5000, bound_port(_metadata, fd, self->family, NODE_ID));
	close(fd);
}

TEST_F(node, bind_this_node_by_id)
{
	int fd = mig_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_to(fd, self->family, NODE_ID, 5001))
		TH_LOG("bind: %s", strerror(errno));
	EXPECT_EQ(5001, bound_port(_metadata, fd, self->family, NODE_ID));
	close(fd);
}

TEST_F(node, bind_other_node_refused)
{
	int fd = mig_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(EADDRNOTAVAIL,
			  bind_to(fd, self->family, OTHER_NODE, 5000));
	/* Nothing changed: the socket can still bind. */
	ASSERT_EQ(0, bind_to(fd, self->family, 0, 5000));
	close(fd);
}

TEST_F(node, bind_short_address)
{
	struct sockaddr_mig addr = mig_addr(self->family, 0, 5000);
	int fd = mig_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(EINVAL, bind(fd, (struct sockaddr *)&addr,
				       sizeof(addr) - 1));
	ASSERT_FAILS_WITH(EINVAL, bind(fd, (struct sockaddr *)&addr,
				       sizeof(sa_family_t)));
	close(fd);
}

TEST_F(node, bind_wrong_family)
{
	struct sockaddr_mig addr = mig_addr(AF_INET, 0, 5000);
	int fd = mig_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(EINVAL, bind(fd, (struct sockaddr *)&addr,
				       sizeof(addr)));
	addr.smig_family = AF_UNSPEC;
	ASSERT_FAILS_WITH(EINVAL, bind(fd, (struct sockaddr *)&addr,
				       sizeof(addr)));
	close(fd);
}

TEST_F(node, bind_twice)
{
	int fd = mig_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_to(fd, self->family, 0, 5000));
	ASSERT_FAILS_WITH(EINVAL, bind_to(fd, self->family, 0, 5002));
	EXPECT_EQ(5000, bound_port(_metadata, fd, self->family, NODE_ID));
	close(fd);
}

TEST_F(node, bind_port_in_use)
{
	int a = mig_socket(self->family), b = mig_socket(self->family);

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, bind_to(a, self->family, 0, 6000));
	ASSERT_FAILS_WITH(EADDRINUSE, bind_to(b, self->family, 0, 6000));
	ASSERT_FAILS_WITH(EADDRINUSE, bind_to(b, self->family, NODE_ID, 6000));
	/* Closing the holder frees the port. */
	close(a);
	ASSERT_EQ(0, bind_to(b, self->family, 0, 6000))
		TH_LOG("bind after close: %s", strerror(errno));
	close(b);
}

TEST_F(node, reuseaddr_needs_both)
{
	int a = mig_socket(self->family), b = mig_socket(self->family);
	int c = mig_socket(self->family), one = 1;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	ASSERT_EQ(0, bind_to(a, self->family, 0, 6001));
	/* b does not ask for reuse: refused. */
	ASSERT_FAILS_WITH(EADDRINUSE, bind_to(b, self->family, 0, 6001));
	/* c does, and so does a: shared, as TCP allows before listen(). */
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	ASSERT_EQ(0, bind_to(c, self->family, 0, 6001))
		TH_LOG("bind with SO_REUSEADDR on both: %s", strerror(errno));
	EXPECT_EQ(6001, bound_port(_metadata, c, self->family, NODE_ID));
	close(a);
	close(b);
	close(c);
}

TEST_F(node, ephemeral_in_default_range)
{
	int fd = mig_socket(self->family), port;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_to(fd, self->family, 0, 0));
	port = bound_port(_metadata, fd, self->family, NODE_ID);
	EXPECT_LE(EPHEMERAL_MIN, port);
	EXPECT_GE(EPHEMERAL_MAX, port);
	close(fd);
}

TEST_F(node, ephemeral_range_exhausted)
{
	int fds[4], ports[3], i;

	ASSERT_EQ(0, migtcp_test_ctl("node set port-range 40000-40002"));
	for (i = 0; i < 4; i++) {
		fds[i] = mig_socket(self->family);
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, bind_to(fds[i], self->family, 0, 0))
			TH_LOG("ephemeral bind %d: %s", i, strerror(errno));
		ports[i] = bound_port(_metadata, fds[i], self->family, NODE_ID);
		EXPECT_LE(40000, ports[i]);
		EXPECT_GE(40002, ports[i]);
	}
	EXPECT_NE(ports[0], ports[1]);
	EXPECT_NE(ports[0], ports[2]);
	EXPECT_NE(ports[1], ports[2]);
	ASSERT_FAILS_WITH(EADDRINUSE, bind_to(fds[3], self->family, 0, 0));
	/* A port freed is handed out again. */
	close(fds[1]);
	ASSERT_EQ(0, bind_to(fds[3], self->family, 0, 0));
	EXPECT_EQ(ports[1], bound_port(_metadata, fds[3], self->family, NODE_ID));
	close(fds[0]);
	close(fds[2]);
	close(fds[3]);
}

/*
 * The first ephemeral port starts at a random offset, as in Linux TCP: in
 * eight fresh nodes, the first ports are not all the same (all eight equal
 * by chance has probability 28232^-7).
 */
TEST(ephemeral_start_is_random)
{
	int family = migtcp_family(), first = -1, i;
	bool differ = false;

	for (i = 0; i < 8; i++) {
		int fd, port;

		ASSERT_EQ(0, migtcp_test_new_netns());
		ASSERT_EQ(0, migtcp_test_ctl("node set id %d", NODE_ID));
		fd = mig_socket(family);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, bind_to(fd, family, 0, 0));
		port = bound_port(_metadata, fd, family, NODE_ID);
		if (first < 0)
			first = port;
		else if (port != first)
			differ = true;
		close(fd);
	}
	EXPECT_TRUE(differ) TH_LOG("eight nodes all picked port %d first", first);
}

/* Ports are per node: two namespaces may each bind the same port. */
TEST(ports_per_node)
{
	int family = migtcp_family(), a, b, home;

	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, home);
	ASSERT_EQ(0, migtcp_test_new_netns());
	ASSERT_EQ(0, migtcp_test_ctl("node set id 1"));
	a = mig_socket(family);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, bind_to(a, family, 0, 7000));

	ASSERT_EQ(0, migtcp_test_new_netns());
	ASSERT_EQ(0, migtcp_test_ctl("node set id 2"));
	b = mig_socket(family);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, bind_to(b, family, 0, 7000))
		TH_LOG("same port on another node: %s", strerror(errno));
	EXPECT_EQ(7000, bound_port(_metadata, b, family, 2));
	EXPECT_EQ(7000, bound_port(_metadata, a, family, 1));
	close(a);
	close(b);
	ASSERT_EQ(0, setns(home, CLONE_NEWNET));
	close(home);
}

TEST_F(node, unbound_getsockname)
{
	int fd = mig_socket(self->family);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, bound_port(_metadata, fd, self->family, 0));
	close(fd);
}

TEST_F(node, getpeername_not_connected)
{
	struct sockaddr_mig addr;
	socklen_t len = sizeof(addr);
	int fd = mig_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(ENOTCONN, getpeername(fd, (struct sockaddr *)&addr,
						&len));
	ASSERT_EQ(0, bind_to(fd, self->family, 0, 5000));
	ASSERT_FAILS_WITH(ENOTCONN, getpeername(fd, (struct sockaddr *)&addr,
						&len));
	close(fd);
}

/* Ports below 1024 need CAP_NET_BIND_SERVICE, as for TCP. */
TEST_F(node, privileged_port)
{
	int fd, status;
	pid_t pid;

	fd = mig_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_to(fd, self->family, 0, 80));
	close(fd);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int s = mig_socket(self->family);

		if (s < 0 || setresuid(65534, 65534, 65534))
			_exit(2);
		if (bind_to(s, self->family, 0, 81) == 0)
			_exit(3);
		if (errno != EACCES)
			_exit(4);
		/* An unprivileged port is fine. */
		_exit(bind_to(s, self->family, 0, 5081) ? 5 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child: 2 setup, 3 bound port 81, 4 wrong errno, 5 port 5081 refused");
}

/* The node id is part of every bound endpoint: it cannot change under one. */
TEST_F(node, node_id_fixed_while_bound)
{
	int fd = mig_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_to(fd, self->family, 0, 5000));
	EXPECT_NE(0, migtcp_test_ctl("node set id %d", OTHER_NODE));
	/* Setting the same id again is no change. */
	EXPECT_EQ(0, migtcp_test_ctl("node set id %d", NODE_ID));
	EXPECT_EQ(5000, bound_port(_metadata, fd, self->family, NODE_ID));
	close(fd);
	EXPECT_EQ(0, migtcp_test_ctl("node set id %d", OTHER_NODE));
	fd = mig_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_to(fd, self->family, 0, 5000));
	EXPECT_EQ(5000, bound_port(_metadata, fd, self->family, OTHER_NODE));
	close(fd);
}

/* /proc/net/migtcp shows the bound endpoint. */
TEST_F(node, proc_shows_bound_endpoint)
{
	char line[256], want[64];
	bool found = false;
	struct stat st;
	FILE *f;
	int fd = mig_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_to(fd, self->family, 0, 5005));
	ASSERT_EQ(0, fstat(fd, &st));
	snprintf(want, sizeof(want), "%d:5005 0:0 CLOSE", NODE_ID);
	f = fopen("/proc/net/migtcp", "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long ino;
		char *last = strrchr(line, ' ');

		if (!last || sscanf(last, "%lu", &ino) != 1 || ino != st.st_ino)
			continue;
		found = true;
		EXPECT_NE(NULL, strstr(line, want)) TH_LOG("line: %s", line);
	}
	fclose(f);
	EXPECT_TRUE(found);
	close(fd);
}

TEST_HARNESS_MAIN
