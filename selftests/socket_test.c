// SPDX-License-Identifier: GPL-2.0
/*
 * AF_MIGTCP socket API selftests: the module parameters in sysfs, socket()
 * creation and its argument checks, the identity socket options, the
 * errors of I/O on a socket that is not connected (addressing is covered
 * by bind_test, connections by connect_test, data by data_test),
 * SOL_MIGTCP
 * options (none exist yet) and poll() on a fresh socket.
 *
 * The family and protocol numbers are read from sysfs (the module may be
 * loaded with non-default numbers), never taken from the uapi defaults.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>

/*
 * The 6.1 harness's TEST() wrappers and timeout handler have parameters
 * they do not use; -Wextra would reject every test this file defines.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"

#define PARAM_DIR	"/sys/module/migtcp/parameters/"

/* Highest family number the 6.1 kernel accepts is AF_MAX - 1. */
#define MIGTCP_FAMILY_MAX	45
#define MIGTCP_PROTO_MAX	254

/* The family and protocol of the loaded module; fails the test if absent. */
static int family_in_use(struct __test_metadata *_metadata)
{
	int family = migtcp_family();

	EXPECT_LT(0, family)
		TH_LOG("cannot read %sfamily: %s (is migtcp loaded?)",
		       PARAM_DIR, strerror(-family));
	return family;
}

static int proto_in_use(struct __test_metadata *_metadata)
{
	int proto = migtcp_proto();

	EXPECT_LT(0, proto)
		TH_LOG("cannot read %sproto: %s (is migtcp loaded?)",
		       PARAM_DIR, strerror(-proto));
	return proto;
}

static void fill_sockaddr(struct sockaddr_mig *addr, int family)
{
	memset(addr, 0, sizeof(*addr));
	addr->smig_family = family;
	addr->smig_port = htons(1234);
	addr->smig_node = 1;
}

static int getsockopt_int(int fd, int level, int optname, int *value)
{
	socklen_t len = sizeof(*value);
	int ret;

	ret = getsockopt(fd, level, optname, value, &len);
	if (ret == 0 && len != sizeof(*value)) {
		errno = EMSGSIZE;
		return -1;
	}
	return ret;
}

TEST(params_in_range)
{
	int family = migtcp_family();
	int proto = migtcp_proto();

	ASSERT_LE(1, family) TH_LOG("family parameter: %d", family);
	ASSERT_GE(MIGTCP_FAMILY_MAX, family);
	ASSERT_LE(1, proto) TH_LOG("proto parameter: %d", proto);
	ASSERT_GE(MIGTCP_PROTO_MAX, proto);
}

/* Changing a number under live sockets would orphan them: 0444, even to root. */
TEST(params_read_only)
{
	static const char * const names[] = { "family", "proto" };
	char path[128];
	struct stat st;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), PARAM_DIR "%s", names[i]);
		ASSERT_EQ(0, stat(path, &st))
			TH_LOG("stat %s: %s", path, strerror(errno));
		EXPECT_EQ(0444, (int)(st.st_mode & 07777))
			TH_LOG("%s has mode %04o", path, st.st_mode & 07777);
		ASSERT_FAILS_WITH(EACCES, open(path, O_WRONLY | O_CLOEXEC));
		ASSERT_FAILS_WITH(EACCES, open(path, O_RDWR | O_CLOEXEC));
	}
}

TEST(create_protocol_zero)
{
	int family = family_in_use(_metadata);
	int fd;

	fd = socket(family, SOCK_STREAM, 0);
	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
}

TEST(create_protocol_in_use)
{
	int family = family_in_use(_metadata);
	int proto = proto_in_use(_metadata);
	int fd;

	fd = socket(family, SOCK_STREAM, proto);
	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
}

TEST(create_default_flags)
{
	int family = family_in_use(_metadata);
	int fd, fl, fdfl;

	fd = socket(family, SOCK_STREAM, 0);
	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	EXPECT_EQ(0, fl & O_NONBLOCK);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE);
	EXPECT_EQ(0, fdfl & FD_CLOEXEC);
	EXPECT_EQ(0, close(fd));
}

TEST(create_nonblock_cloexec)
{
	int family = family_in_use(_metadata);
	int fd, fl, fdfl;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	EXPECT_EQ(O_NONBLOCK, fl & O_NONBLOCK) TH_LOG("F_GETFL %#x", fl);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fdfl & FD_CLOEXEC) TH_LOG("F_GETFD %#x", fdfl);
	EXPECT_EQ(0, close(fd));
}

TEST(type_dgram_unsupported)
{
	int family = family_in_use(_metadata);

	ASSERT_FAILS_WITH(ESOCKTNOSUPPORT, socket(family, SOCK_DGRAM, 0));
}

TEST(type_raw_unsupported)
{
	int family = family_in_use(_metadata);

	ASSERT_FAILS_WITH(ESOCKTNOSUPPORT, socket(family, SOCK_RAW, 0));
}

TEST(type_seqpacket_unsupported)
{
	int family = family_in_use(_metadata);

	ASSERT_FAILS_WITH(ESOCKTNOSUPPORT, socket(family, SOCK_SEQPACKET, 0));
}

TEST(protocol_tcp_unsupported)
{
	int family = family_in_use(_metadata);

	ASSERT_FAILS_WITH(EPROTONOSUPPORT,
			  socket(family, SOCK_STREAM, IPPROTO_TCP));
}

TEST(protocol_udp_unsupported)
{
	int family = family_in_use(_metadata);

	ASSERT_FAILS_WITH(EPROTONOSUPPORT,
			  socket(family, SOCK_STREAM, IPPROTO_UDP));
}

/* A protocol number next to the one in use: an off-by-one check fails here. */
TEST(protocol_neighbour_unsupported)
{
	int family = family_in_use(_metadata);
	int proto = proto_in_use(_metadata);
	int other = proto < MIGTCP_PROTO_MAX ? proto + 1 : proto - 1;

	ASSERT_FAILS_WITH(EPROTONOSUPPORT, socket(family, SOCK_STREAM, other));
	if (proto > 1)
		ASSERT_FAILS_WITH(EPROTONOSUPPORT,
				  socket(family, SOCK_STREAM, proto - 1));
}

TEST(sockopt_identity)
{
	int family = family_in_use(_metadata);
	int proto = proto_in_use(_metadata);
	int fd, val;

	fd = socket(family, SOCK_STREAM, proto);
	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_TYPE, &val));
	EXPECT_EQ(SOCK_STREAM, val);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &val));
	EXPECT_EQ(family, val);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &val));
	EXPECT_EQ(proto, val);
	EXPECT_EQ(0, close(fd));
}

/* Protocol 0 means "the default": SO_PROTOCOL must name it, not 0. */
TEST(sockopt_identity_protocol_zero)
{
	int family = family_in_use(_metadata);
	int proto = proto_in_use(_metadata);
	int fd, val;

	fd = socket(family, SOCK_STREAM, 0);
	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_TYPE, &val));
	EXPECT_EQ(SOCK_STREAM, val);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &val));
	EXPECT_EQ(family, val);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &val));
	EXPECT_EQ(proto, val);
	EXPECT_EQ(0, close(fd));
}

TEST(socketpair_unsupported)
{
	int family = family_in_use(_metadata);
	int sv[2];

	/* The kernel fills sv[] before asking the family, even on failure. */
	ASSERT_FAILS_WITH(EOPNOTSUPP, socketpair(family, SOCK_STREAM, 0, sv));
}

/* A fresh, blocking AF_MIGTCP stream socket created with protocol 0. */
FIXTURE(fresh)
{
	int family;
	int fd;
};

FIXTURE_SETUP(fresh)
{
	self->fd = -1;
	self->family = family_in_use(_metadata);
	ASSERT_LT(0, self->family);
	self->fd = socket(self->family, SOCK_STREAM, 0);
	ASSERT_LE(0, self->fd) TH_LOG("socket: %s", strerror(errno));
	/* A send that fails with EPIPE must fail the test, not kill it. */
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(fresh)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * The root namespace of the test VM is a node without an id: it can
 * neither connect nor listen (connect_test covers configured nodes).
 */
TEST_F(fresh, connect_needs_node_id)
{
	struct sockaddr_mig addr;

	fill_sockaddr(&addr, self->family);
	ASSERT_FAILS_WITH(EADDRNOTAVAIL,
			  connect(self->fd, (struct sockaddr *)&addr,
				  sizeof(addr)));
}

TEST_F(fresh, listen_needs_node_id)
{
	ASSERT_FAILS_WITH(EADDRNOTAVAIL, listen(self->fd, 1));
}

TEST_F(fresh, accept_not_listening)
{
	ASSERT_FAILS_WITH(EINVAL, accept(self->fd, NULL, NULL));
}

TEST_F(fresh, accept4_not_listening)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	ASSERT_FAILS_WITH(EINVAL,
			  accept4(self->fd, (struct sockaddr *)&ss, &len,
				  SOCK_NONBLOCK | SOCK_CLOEXEC));
}

/*
 * I/O on a socket that never connected, as TCP answers it: sending is
 * EPIPE (SIGPIPE is ignored here), receiving ENOTCONN.
 */
TEST_F(fresh, send_not_connected)
{
	static const char msg[] = "x";

	ASSERT_FAILS_WITH(EPIPE,
			  send(self->fd, msg, sizeof(msg), MSG_NOSIGNAL));
}

TEST_F(fresh, write_not_connected)
{
	static const char msg[] = "x";

	ASSERT_FAILS_WITH(EPIPE, write(self->fd, msg, sizeof(msg)));
}

TEST_F(fresh, sendmsg_not_connected)
{
	char buf[16] = "migtcp";
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	ASSERT_FAILS_WITH(EPIPE, sendmsg(self->fd, &msg, MSG_NOSIGNAL));
}

TEST_F(fresh, recv_not_connected)
{
	char buf[16];

	ASSERT_FAILS_WITH(ENOTCONN,
			  recv(self->fd, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_FAILS_WITH(ENOTCONN, recv(self->fd, buf, sizeof(buf), 0));
}

TEST_F(fresh, read_not_connected)
{
	char buf[16];

	ASSERT_FAILS_WITH(ENOTCONN, read(self->fd, buf, sizeof(buf)));
}

TEST_F(fresh, recvmsg_not_connected)
{
	char buf[16];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	ASSERT_FAILS_WITH(ENOTCONN, recvmsg(self->fd, &msg, MSG_DONTWAIT));
}

TEST_F(fresh, shutdown_not_connected)
{
	ASSERT_FAILS_WITH(ENOTCONN, shutdown(self->fd, SHUT_RDWR));
	ASSERT_FAILS_WITH(EINVAL, shutdown(self->fd, 3));
}

/* Nothing queued either way on a fresh socket. */
TEST_F(fresh, ioctl_inq_outq_empty)
{
	int val = -1;

	ASSERT_EQ(0, ioctl(self->fd, SIOCINQ, &val));
	EXPECT_EQ(0, val);
	val = -1;
	ASSERT_EQ(0, ioctl(self->fd, SIOCOUTQ, &val));
	EXPECT_EQ(0, val);
}

/* An unknown option: answer as TCP does. */
TEST_F(fresh, setsockopt_sol_migtcp_unknown)
{
	int val = 1;

	ASSERT_FAILS_WITH(ENOPROTOOPT, setsockopt(self->fd, SOL_MIGTCP, 99,
						  &val, sizeof(val)));
	/* Levels of other protocols are not ours either. */
	ASSERT_FAILS_WITH(ENOPROTOOPT, setsockopt(self->fd, IPPROTO_TCP, 1,
						  &val, sizeof(val)));
}

TEST_F(fresh, getsockopt_sol_migtcp_unknown)
{
	socklen_t len = sizeof(int);
	int val = -1;

	ASSERT_FAILS_WITH(ENOPROTOOPT,
			  getsockopt(self->fd, SOL_MIGTCP, 99, &val, &len));
	EXPECT_EQ(-1, val);
}

/* Like an unconnected TCP socket: writable (so a writer finds out) but hung up. */
TEST_F(fresh, poll_writable_hangup)
{
	struct pollfd pfd = {
		.fd = self->fd,
		.events = POLLIN | POLLOUT | POLLRDHUP,
	};
	struct timespec start, end;
	long long elapsed_ms;

	/* Events are pending: a long timeout must not be waited out. */
	ASSERT_EQ(0, clock_gettime(CLOCK_MONOTONIC, &start));
	ASSERT_EQ(1, poll(&pfd, 1, 5000)) TH_LOG("poll: %s", strerror(errno));
	ASSERT_EQ(0, clock_gettime(CLOCK_MONOTONIC, &end));
	EXPECT_EQ(POLLOUT | POLLHUP, pfd.revents)
		TH_LOG("revents %#x, expected POLLOUT|POLLHUP (%#x)",
		       pfd.revents, POLLOUT | POLLHUP);
	elapsed_ms = (end.tv_sec - start.tv_sec) * 1000LL +
		     (end.tv_nsec - start.tv_nsec) / 1000000;
	/* Not the 5 s timeout: half of it is more than a busy machine takes. */
	EXPECT_GT(2500, elapsed_ms) TH_LOG("poll took %lld ms", elapsed_ms);
}

TEST_F(fresh, poll_timeout_zero)
{
	struct pollfd pfd = {
		.fd = self->fd,
		.events = POLLIN | POLLOUT | POLLRDHUP,
	};

	ASSERT_EQ(1, poll(&pfd, 1, 0)) TH_LOG("poll: %s", strerror(errno));
	EXPECT_EQ(POLLOUT | POLLHUP, pfd.revents)
		TH_LOG("revents %#x", pfd.revents);
}

TEST_HARNESS_MAIN
