// SPDX-License-Identifier: GPL-2.0
/*
 * Data transfer and connection close, with Linux TCP's semantics:
 * read/recv/recvmsg/readv and write/send/sendmsg/writev, blocking and
 * non-blocking, MSG_PEEK, MSG_WAITALL, SO_RCVTIMEO, SO_SNDTIMEO and
 * SO_RCVLOWAT; reliable, ordered delivery checked byte for byte in both
 * directions at once, from 1 byte to several MiB, through netem loss,
 * reordering and duplication; shutdown() in both directions and the
 * half-close; orderly close, the reset of a close() with unread data or
 * SO_LINGER 0, EPIPE and SIGPIPE; poll() and edge-triggered epoll
 * readiness; the states /proc/net/migtcp shows while a connection
 * closes (FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE_WAIT, LAST_ACK); as
 * TCP's, the resets of closed connections beyond max_orphans and of data
 * that comes after close(); and sendfile() and splice() both ways.
 *
 * Every test builds its own two-node cluster (cluster.h): node 1 and
 * node 2 joined by a veth pair (devices mig1 and mig2).  The client end of
 * a connection lives on node 1, the accepted end on node 2.
 *
 * Data is a keyed pseudo-random stream (stream.h), checked byte for byte.
 * Transfers run one thread per writer and per reader, so this test uses
 * POSIX threads and is linked with -pthread.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"
#include "stream.h"

/* /proc/net/migtcp of the current node. */

struct proc_line {
	char local[32], remote[32], state[32];
	unsigned long ino;
};

/*
 * Finds the socket with inode @ino (when @ino) or with endpoints @local
 * and @remote ("node:port") in the current node's /proc/net/migtcp.
 */
static bool proc_find(unsigned long ino, const char *local,
		      const char *remote, struct proc_line *out)
{
	char line[256];
	bool found = false;
	FILE *f;

	f = fopen("/proc/net/migtcp", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		struct proc_line p;

		if (sscanf(line, "%*s %31s %31s %31s %*s %*s %*s %lu",
			   p.local, p.remote, p.state, &p.ino) != 4)
			continue;
		if (ino ? p.ino == ino :
		    !strcmp(p.local, local) && !strcmp(p.remote, remote)) {
			*out = p;
			found = true;
		}
	}
	fclose(f);
	return found;
}

static unsigned long inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/*
 * State of @fd (or, for @fd < 0, of the socket with endpoints @local and
 * @remote) once it is @want or @ms have passed: "gone" if it is not
 * listed.  @want "gone" waits for the socket to disappear.
 */
static const char *wait_state(int fd, const char *local, const char *remote,
			      const char *want, int ms, char buf[32])
{
	unsigned long ino = fd >= 0 ? inode_of(fd) : 0;
	long deadline = now_ms() + ms;
	struct proc_line p;

	for (;;) {
		if (proc_find(ino, local, remote, &p))
			snprintf(buf, 32, "%s", p.state);
		else
			snprintf(buf, 32, "gone");
		if (!strcmp(buf, want) || now_ms() >= deadline)
			return buf;
		sleep_ms(10);
	}
}

#define EXPECT_FD_STATE(fd, want, ms) do {				\
	const char *__want = (want);					\
	char __st[32];							\
									\
	EXPECT_STREQ(__want, wait_state(fd, NULL, NULL, __want, ms, __st)); \
} while (0)

#define EXPECT_EP_STATE(local, remote, want, ms) do {			\
	const char *__want = (want);					\
	char __st[32];							\
									\
	EXPECT_STREQ(__want,						\
		     wait_state(-1, local, remote, __want, ms, __st));	\
} while (0)

/*
 * Something to do in another thread: after @delay_ms, send @pieces (at
 * least one) pieces of @len bytes from @buf on @fd, @delay_ms apart; or,
 * when @fd < 0, send SIGUSR1 to thread @target.
 */
struct later {
	pthread_t thread;
	long delay_ms;
	int fd;
	const __u8 *buf;
	size_t len;
	unsigned int pieces;
	pthread_t target;
	int stop;		/* set when the target's call returned */
	/* results */
	unsigned int sent;	/* pieces sent whole */
	ssize_t ret;		/* of the last call */
	int err;
};

static void *later_main(void *arg)
{
	struct later *l = arg;
	unsigned int i;

	/*
	 * A signal every delay_ms until the target's call returned: one
	 * that comes before the call blocks is handled in user space and
	 * would leave it blocked.
	 */
	if (l->fd < 0) {
		do {
			sleep_ms(l->delay_ms);
			l->ret = pthread_kill(l->target, SIGUSR1);
		} while (!l->ret && !__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE));
		return NULL;
	}
	for (i = 0; i < (l->pieces ?: 1); i++) {
		sleep_ms(l->delay_ms);
		l->ret = send(l->fd, l->buf + i * l->len, l->len, MSG_NOSIGNAL);
		l->err = errno;
		if (l->ret != (ssize_t)l->len)
			break;
		l->sent++;
	}
	return NULL;
}

/* Signals count_signal() caught; atomic, as a handler updates it. */
static int signals_seen;

static void count_signal(int sig)
{
	__atomic_fetch_add(&signals_seen, 1, __ATOMIC_SEQ_CST);
}

static int signals_caught(void)
{
	return __atomic_load_n(&signals_seen, __ATOMIC_SEQ_CST);
}

/* Installs count_signal for @sig, without SA_RESTART. */
static int catch_signal(int sig)
{
	struct sigaction sa = { .sa_handler = count_signal };

	__atomic_store_n(&signals_seen, 0, __ATOMIC_SEQ_CST);
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

/* CONNECT_PAIR(), and the port of node 1's end into *@cport. */
#define CONNECT_PAIR_PORT(cfd, afd, cport) do {				\
	CONNECT_PAIR(cfd, afd);						\
	*(cport) = local_port(*(cfd));					\
	ASSERT_LT(0, *(cport));						\
} while (0)

/*
 * Has node 1's end of a connection with unread data close, which aborts
 * it: node 2's end (*@afd) gets the reset.  On return the reset has
 * arrived (poll reports it) and nothing has read the error yet.
 */
static void reset_by_peer(struct __test_metadata *_metadata,
			  CLUSTER *self, int *afd, int *cport)
{
	char buf[100] = "unread";
	int cfd, revents;

	CONNECT_PAIR_PORT(&cfd, afd, cport);
	ASSERT_EQ((ssize_t)sizeof(buf),
		  send(*afd, buf, sizeof(buf), MSG_NOSIGNAL));
	ASSERT_EQ(POLLIN, poll_one(cfd, POLLIN, WAIT_MS));
	close(cfd);
	revents = poll_one(*afd, POLLIN, WAIT_MS);
	ASSERT_EQ(POLLERR | POLLHUP, revents & (POLLERR | POLLHUP))
		TH_LOG("poll after the peer's abort: revents %#x", revents);
}

/* Neither reading nor writing works on a socket that is not connected. */
TEST_F(cluster, io_on_unconnected_socket)
{
	char buf[16] = "data";
	int fd, lfd;

	ON_NODE(NODE1);
	fd = mig_socket(self->family, 0);
	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(ENOTCONN, read(fd, buf, sizeof(buf)));
	ASSERT_FAILS_WITH(ENOTCONN, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	/* As TCP: sending on an unconnected stream socket is EPIPE. */
	ASSERT_FAILS_WITH(EPIPE, send(fd, buf, 4, MSG_NOSIGNAL));
	ASSERT_EQ(0, bind_to(fd, self->family, 0, PORT));
	ASSERT_FAILS_WITH(ENOTCONN, read(fd, buf, sizeof(buf)));
	ASSERT_FAILS_WITH(EPIPE, send(fd, buf, 4, MSG_NOSIGNAL));

	lfd = mig_socket(self->family, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind_to(lfd, self->family, 0, PORT + 1));
	ASSERT_EQ(0, listen(lfd, 4));
	ASSERT_FAILS_WITH(ENOTCONN, recv(lfd, buf, sizeof(buf), 0));
	ASSERT_FAILS_WITH(EPIPE, send(lfd, buf, 4, MSG_NOSIGNAL));
	close(lfd);
	close(fd);
}

/* One byte each way, then recv() returns what is there without waiting. */
TEST_F(cluster, send_recv_small)
{
	char buf[1000];
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(1, write(cfd, "A", 1)) TH_LOG("write: %s", strerror(errno));
	ASSERT_EQ(1, read(afd, buf, sizeof(buf)))
		TH_LOG("read: %s", strerror(errno));
	EXPECT_EQ('A', buf[0]);
	ASSERT_EQ(1, send(afd, "B", 1, 0)) TH_LOG("send: %s", strerror(errno));
	ASSERT_EQ(1, recv(cfd, buf, sizeof(buf), 0))
		TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ('B', buf[0]);

	/* Ten bytes queued, a thousand asked for: ten come back at once. */
	ASSERT_EQ(10, send(cfd, "0123456789", 10, 0));
	ASSERT_EQ(POLLIN, poll_one(afd, POLLIN, WAIT_MS));
	sleep_ms(50);
	ASSERT_EQ(10, recv(afd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	ASSERT_FAILS_WITH(EAGAIN, recv(afd, buf, sizeof(buf), MSG_DONTWAIT));
	/* A zero-length read neither blocks nor consumes anything. */
	EXPECT_EQ(0, recv(afd, buf, 0, 0));
	close(afd);
	close(cfd);
}

/* A blocking read sleeps until data arrives, then returns it. */
TEST_F(cluster, blocking_read_waits_for_data)
{
	struct later l = {
		.delay_ms = 400, .buf = (const __u8 *)"late data", .len = 9,
	};
	char buf[64];
	int cfd, afd;
	long start, took;
	ssize_t ret;

	CONNECT_PAIR(&cfd, &afd);
	l.fd = cfd;
	start = now_ms();
	ASSERT_EQ(0, pthread_create(&l.thread, NULL, later_main, &l));
	ret = read(afd, buf, sizeof(buf));
	took = now_ms() - start;
	pthread_join(l.thread, NULL);
	ASSERT_EQ(9, ret) TH_LOG("read: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "late data", 9));
	EXPECT_LE(350, took) TH_LOG("read returned after %ld ms", took);
	EXPECT_GE(3000, took) TH_LOG("read returned after %ld ms", took);
	close(afd);
	close(cfd);
}

/* Scatter/gather: sendmsg and writev in, recvmsg and readv out. */
TEST_F(cluster, sendmsg_recvmsg_iovecs)
{
	__u8 in[3000], out[3000];
	struct iovec iov[4];
	struct msghdr msg = { .msg_iov = iov };
	int cfd, afd;
	__u8 want;

	CONNECT_PAIR(&cfd, &afd);
	pattern_fill(in, sizeof(in), 7, 0);
	iov[0] = (struct iovec){ in, 1 };
	iov[1] = (struct iovec){ in + 1, 0 };
	iov[2] = (struct iovec){ in + 1, 1499 };
	iov[3] = (struct iovec){ in + 1500, 500 };
	msg.msg_iovlen = 4;
	ASSERT_EQ(2000, sendmsg(cfd, &msg, 0))
		TH_LOG("sendmsg: %s", strerror(errno));
	iov[0] = (struct iovec){ in + 2000, 999 };
	iov[1] = (struct iovec){ in + 2999, 1 };
	ASSERT_EQ(1000, writev(cfd, iov, 2)) TH_LOG("writev: %s", strerror(errno));
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));

	memset(out, 0, sizeof(out));
	iov[0] = (struct iovec){ out, 700 };
	iov[1] = (struct iovec){ out + 700, 800 };
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	ASSERT_EQ(1500, recvmsg(afd, &msg, MSG_WAITALL))
		TH_LOG("recvmsg: %s", strerror(errno));
	EXPECT_EQ(0, msg.msg_flags);
	iov[0] = (struct iovec){ out + 1500, 1 };
	iov[1] = (struct iovec){ out + 1501, 1499 };
	iov[2] = (struct iovec){ out + 3000, 100 };	/* beyond the data */
	{
		size_t got = 0;
		ssize_t ret;

		/* readv returns what is there: read until the EOF. */
		while ((ret = readv(afd, iov, 2)) > 0) {
			got += ret;
			if (got >= 1500)
				break;
			iov[0].iov_base = out + 1500 + got;
			iov[0].iov_len = 0;
			iov[1].iov_base = out + 1500 + got;
			iov[1].iov_len = 1500 - got;
		}
		ASSERT_EQ(1500U, got) TH_LOG("readv: %s", strerror(errno));
	}
	EXPECT_EQ(-1, pattern_check(out, sizeof(out), 7, 0, &want));
	EXPECT_EQ(0, readv(afd, iov, 3));
	close(afd);
	close(cfd);
}

/*
 * One blocking write() of each size, from 1 byte to 3 MiB, on its own
 * connection: write returns the whole size, the peer reads exactly those
 * bytes, then EOF.
 */
TEST_F_TIMEOUT(cluster, transfer_sizes, 180)
{
	static const size_t sizes[] = {
		1, 2, 7, 536, 1023, 1024, 1459, 1460, 1461, 4095, 4096,
		65535, 65536, 65537, 262143, 1 * MiB + 3, 3 * MiB + 1,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct stream s[2] = {
			{ .len = sizes[i], .seed = 100 + i, .one_call = true },
			{ .len = sizes[i], .seed = 100 + i, .reader = true,
			  .max_chunk = 32 * KiB, .until_eof = true },
		};
		int cfd, afd;

		CONNECT_PAIR(&cfd, &afd);
		ASSERT_EQ(0, set_timeouts(cfd, XFER_GUARD_SEC));
		ASSERT_EQ(0, set_timeouts(afd, XFER_GUARD_SEC));
		s[0].fd = cfd;
		s[1].fd = afd;
		run_streams(_metadata, s, 2);
		if (!check_delivered(_metadata, "1->2", &s[0], &s[1]))
			TH_LOG("with a write of %zu bytes", sizes[i]);
		EXPECT_EQ(1U, s[0].calls)
			TH_LOG("a blocking write of %zu bytes took %u calls",
			       sizes[i], s[0].calls);
		close(afd);
		close(cfd);
	}
}

#ifdef CLUSTER_IPV6
#define ROUTE_EVENT	"fib6/fib6_table_lookup"
#else
#define ROUTE_EVENT	"fib/fib_table_lookup"
#endif
#define ROUTE_TRACE	"/sys/kernel/tracing/instances/migtcp_route"

/* Route lookups traced in ROUTE_TRACE so far, or -1. */
static long route_lookups(void)
{
	long n = -1;
	FILE *f;

	f = popen("grep -c table_lookup " ROUTE_TRACE "/trace", "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	pclose(f);
	return n;
}

/*
 * A connection's route is looked up when it is made and then kept: 4 MiB
 * each way cost the routing tables a few output lookups of migtcp's
 * protocol at most (the kernel's fib_table_lookup or fib6_table_lookup
 * tracepoint, which sees every lookup in the VM; output lookups are the
 * ones from the loopback "interface", iif 1; each received packet's
 * input lookup comes from its device), not one per segment.  Over IPv6,
 * a route kept without its fib6 cookie (rt6_get_cookie()) failed every
 * check and was looked up again for each segment.
 */
TEST_F_TIMEOUT(cluster, route_kept_while_streaming, 180)
{
	long lookups;
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	sh("rmdir " ROUTE_TRACE " 2>/dev/null");
	ASSERT_EQ(0, sh("mkdir " ROUTE_TRACE " && echo 'proto == %d && iif == 1' >"
			ROUTE_TRACE "/events/" ROUTE_EVENT "/filter && echo 1 >"
			ROUTE_TRACE "/events/" ROUTE_EVENT "/enable",
			migtcp_proto()));
	TRANSFER(cfd, afd, 4 * MiB, 4 * MiB, 64 * KiB);
	EXPECT_EQ(0, sh("echo 0 >" ROUTE_TRACE "/events/" ROUTE_EVENT
			"/enable"));
	lookups = route_lookups();
	sh("rmdir " ROUTE_TRACE);
	ASSERT_LE(0, lookups) TH_LOG("cannot read " ROUTE_TRACE "/trace");
	TH_LOG("%ld output route lookups while 8 MiB went", lookups);
	EXPECT_GE(32, lookups);
	close(afd);
	close(cfd);
}

/* Several MiB each way at once, in calls of every size up to 64 KiB. */
TEST_F_TIMEOUT(cluster, transfer_both_directions, 180)
{
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	TRANSFER(cfd, afd, 4 * MiB, 3 * MiB + 12345, 64 * KiB);
	close(afd);
	close(cfd);
}

/* Many small writes: every byte in its place despite segment merging. */
TEST_F_TIMEOUT(cluster, transfer_small_writes, 120)
{
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	TRANSFER(cfd, afd, 256 * KiB, 256 * KiB, 17);
	close(afd);
	close(cfd);
}

/*
 * The loss tests connect before they add their loss, so that no
 * handshake depends on chance (a lost SYN costs 1 s, then 2 s more...).
 * netem's random loss may spare every one of the few dozen GSO packets
 * a transfer of a few hundred KiB takes, so each side that must lose
 * something also drops every @every-th packet of data it sends
 * (add_determ_loss()); @every is at most the number of packets of data
 * (64 KiB each at most) that side sends, so the loss is certain.
 */
TEST_F_TIMEOUT(cluster, netem_loss_one_side, 120)
{
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	add_netem(_metadata, self, NODE1, "loss 5%");
	add_determ_loss(_metadata, self, NODE1, 8);
	TRANSFER(cfd, afd, 512 * KiB, 512 * KiB, 16 * KiB);
	expect_netem_dropped(_metadata, self, NODE1);
	close(afd);
	close(cfd);
}

TEST_F_TIMEOUT(cluster, netem_loss_both_sides, 120)
{
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	add_netem(_metadata, self, NODE1, "loss 5%");
	add_netem(_metadata, self, NODE2, "loss 5%");
	add_determ_loss(_metadata, self, NODE1, 6);
	add_determ_loss(_metadata, self, NODE2, 6);
	TRANSFER(cfd, afd, 384 * KiB, 384 * KiB, 16 * KiB);
	expect_netem_dropped(_metadata, self, NODE1);
	expect_netem_dropped(_metadata, self, NODE2);
	close(afd);
	close(cfd);
}

TEST_F_TIMEOUT(cluster, netem_reorder, 120)
{
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	add_netem(_metadata, self, NODE1, "delay 10ms reorder 25% 50%");
	TRANSFER(cfd, afd, 1 * MiB, 256 * KiB, 32 * KiB);
	netem_dropped(self, NODE1);
	close(afd);
	close(cfd);
}

TEST_F_TIMEOUT(cluster, netem_duplicate, 120)
{
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	add_netem(_metadata, self, NODE1, "duplicate 10%");
	add_netem(_metadata, self, NODE2, "duplicate 10%");
	TRANSFER(cfd, afd, 1 * MiB, 1 * MiB, 32 * KiB);
	netem_dropped(self, NODE1);
	netem_dropped(self, NODE2);
	close(afd);
	close(cfd);
}

/*
 * Loss, delay, reordering and duplication on both sides at once (and,
 * as above, loss that is certain: 1 MiB takes 16 packets at least).
 */
TEST_F_TIMEOUT(cluster, netem_everything_both_sides, 120)
{
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	add_netem(_metadata, self, NODE1,
		  "delay 5ms reorder 25% 50% loss 3% duplicate 5%");
	add_netem(_metadata, self, NODE2,
		  "delay 5ms reorder 25% 50% loss 3% duplicate 5%");
	add_determ_loss(_metadata, self, NODE1, 16);
	add_determ_loss(_metadata, self, NODE2, 16);
	TRANSFER(cfd, afd, 1 * MiB, 1 * MiB, 16 * KiB);
	expect_netem_dropped(_metadata, self, NODE1);
	expect_netem_dropped(_metadata, self, NODE2);
	close(afd);
	close(cfd);
}

/* Nothing to read: EAGAIN at once, with O_NONBLOCK or MSG_DONTWAIT. */
TEST_F(cluster, nonblocking_read_eagain)
{
	char buf[16];
	int cfd, afd;
	long start;

	CONNECT_PAIR(&cfd, &afd);
	start = now_ms();
	ASSERT_FAILS_WITH(EAGAIN, recv(afd, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(0, fcntl(afd, F_SETFL, O_NONBLOCK));
	ASSERT_FAILS_WITH(EAGAIN, read(afd, buf, sizeof(buf)));
	ASSERT_FAILS_WITH(EAGAIN, recv(afd, buf, sizeof(buf), 0));
	/*
	 * A read that blocked would wait out the socket's GUARD_SEC timeout
	 * and fail with EAGAIN as well: only the time tells them apart, with
	 * a margin no busy machine stretches three system calls to.
	 */
	EXPECT_GT(GUARD_SEC * 1000 / 2, now_ms() - start)
		TH_LOG("a non-blocking read waited");

	ASSERT_EQ(3, send(cfd, "abc", 3, 0));
	ASSERT_EQ(POLLIN, poll_one(afd, POLLIN, WAIT_MS));
	ASSERT_EQ(3, read(afd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	ASSERT_FAILS_WITH(EAGAIN, read(afd, buf, sizeof(buf)));
	close(afd);
	close(cfd);
}

/*
 * Whether the peer's window is closed and nothing waits for an
 * acknowledgement but a window probe (MIGTCP_INFO).
 */
static bool peer_window_closed(int cfd)
{
	struct migtcp_info info;
	socklen_t len = sizeof(info);

	return !getsockopt(cfd, SOL_MIGTCP, MIGTCP_INFO, &info, &len) &&
	       !info.snd_wnd && info.unacked <= info.snd_mss;
}

/*
 * Sends pattern @seed on @cfd (made non-blocking) to a peer that does not
 * read, in @chunk-byte pieces from @buf, until neither the send buffer
 * nor the peer's window has room: the bytes sent, or 0 after a failed
 * assertion.
 */
static size_t fill_until_blocked(struct __test_metadata *_metadata, int cfd,
				 __u8 *buf, size_t chunk, unsigned int seed)
{
	bool settled = false;
	size_t total = 0;
	ssize_t ret;
	int i;

	EXPECT_EQ(0, fcntl(cfd, F_SETFL, O_NONBLOCK));
	for (i = 0; i < 2000 && total < 64 * MiB; i++) {
		pattern_fill(buf, chunk, seed, total);
		ret = send(cfd, buf, chunk, MSG_NOSIGNAL);
		if (ret > 0) {
			total += ret;
			settled = false;
			continue;
		}
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(EAGAIN, errno) TH_LOG("send: %s", strerror(errno));
		if (ret != -1 || errno != EAGAIN)
			return 0;
		/* Full once more after nothing could make room: blocked. */
		if (settled)
			break;
		/*
		 * Acknowledgements make room until the window closes, also
		 * less than POLLOUT asks for: once the window is closed and
		 * nothing but a window probe waits for its acknowledgement,
		 * only the reader can make room, and one more send() takes
		 * what the last acknowledgements freed.
		 */
		settled = poll_one(cfd, POLLOUT, 500) == 0 &&
			  peer_window_closed(cfd);
	}
	EXPECT_GT(64 * MiB, total) TH_LOG("64 MiB sent to a peer that does not read");
	return total < 64 * MiB ? total : 0;
}

/*
 * A peer that does not read: non-blocking sends fill the send buffer and
 * the peer's receive window, then fail with EAGAIN and POLLOUT is clear;
 * MSG_DONTWAIT does the same on a blocking socket.  Once the peer has read
 * everything, intact, POLLOUT is back.
 */
TEST_F_TIMEOUT(cluster, send_buffer_full_eagain, 60)
{
	size_t total, chunk = 64 * KiB;
	__u8 *buf = malloc(chunk);
	int cfd, afd;

	ASSERT_NE(NULL, buf);
	CONNECT_PAIR(&cfd, &afd);
	total = fill_until_blocked(_metadata, cfd, buf, chunk, 5);
	ASSERT_LT(0U, total);
	ASSERT_FAILS_WITH(EAGAIN, send(cfd, buf, chunk, MSG_NOSIGNAL));
	EXPECT_EQ(0, poll_one(cfd, POLLOUT, 300));
	ASSERT_EQ(0, fcntl(cfd, F_SETFL, 0));
	ASSERT_FAILS_WITH(EAGAIN, send(cfd, buf, 1, MSG_DONTWAIT | MSG_NOSIGNAL));
	fprintf(stderr, "# %zu bytes queued before EAGAIN\n", total);

	expect_stream(_metadata, afd, total, 5);
	ASSERT_FAILS_WITH(EAGAIN, recv(afd, buf, 1, MSG_DONTWAIT));
	EXPECT_EQ(POLLOUT, poll_one(cfd, POLLOUT, WAIT_MS));
	free(buf);
	close(afd);
	close(cfd);
}

/* MSG_PEEK returns data without consuming it. */
TEST_F(cluster, msg_peek)
{
	static const size_t big = 32 * KiB;
	__u8 *buf = malloc(big);
	int cfd, afd;
	long deadline;
	ssize_t ret;
	__u8 want;

	ASSERT_NE(NULL, buf);
	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(12, send(cfd, "hello, world", 12, 0));
	ASSERT_EQ(POLLIN, poll_one(afd, POLLIN, WAIT_MS));
	ASSERT_EQ(5, recv(afd, buf, 5, MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(12, recv(afd, buf, 100, MSG_PEEK | MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, "hello, world", 12));
	memset(buf, 0, 100);
	ASSERT_EQ(12, read(afd, buf, 100));
	EXPECT_EQ(0, memcmp(buf, "hello, world", 12));
	ASSERT_FAILS_WITH(EAGAIN, recv(afd, buf, 100, MSG_PEEK | MSG_DONTWAIT));

	/* Many segments: peek them all, then read the same bytes. */
	send_stream(_metadata, cfd, big, 9);
	deadline = now_ms() + WAIT_MS;
	do {
		ret = recv(afd, buf, big, MSG_PEEK | MSG_DONTWAIT);
		if (ret == (ssize_t)big)
			break;
		sleep_ms(20);
	} while (now_ms() < deadline);
	ASSERT_EQ((ssize_t)big, ret) TH_LOG("peek: %s", strerror(errno));
	EXPECT_EQ(-1, pattern_check(buf, big, 9, 0, &want));
	memset(buf, 0, big);
	ASSERT_EQ((ssize_t)big, recv(afd, buf, big, MSG_WAITALL));
	EXPECT_EQ(-1, pattern_check(buf, big, 9, 0, &want));
	ASSERT_FAILS_WITH(EAGAIN, recv(afd, buf, 1, MSG_PEEK | MSG_DONTWAIT));
	free(buf);
	close(afd);
	close(cfd);
}

/* MSG_WAITALL waits for the full amount, arriving in ten pieces. */
TEST_F(cluster, msg_waitall)
{
	static const size_t piece = 10000, pieces = 10;
	struct stream w = { .len = piece * pieces };
	struct stream r = { .len = piece * pieces };
	__u8 *out = malloc(piece * pieces), *in = malloc(piece * pieces);
	struct later l = { .delay_ms = 50, .len = piece, .pieces = pieces };
	int cfd, afd;
	long start, took;
	ssize_t ret;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	CONNECT_PAIR(&cfd, &afd);
	pattern_fill(out, piece * pieces, 3, 0);
	l.fd = cfd;
	l.buf = out;
	start = now_ms();
	ASSERT_EQ(0, pthread_create(&l.thread, NULL, later_main, &l));
	ret = recv(afd, in, piece * pieces, MSG_WAITALL);
	took = now_ms() - start;
	pthread_join(l.thread, NULL);
	EXPECT_EQ(pieces, l.sent) TH_LOG("send: %s", strerror(l.err));
	ASSERT_EQ((ssize_t)(piece * pieces), ret)
		TH_LOG("recv(MSG_WAITALL): %s", ret < 0 ? strerror(errno) : "short");
	r.done = ret;
	r.bad_at = pattern_check(in, ret, 3, 0, &r.want);
	if (r.bad_at >= 0)
		r.got = in[r.bad_at];
	check_delivered(_metadata, "1->2", &w, &r);
	EXPECT_LE(450, took) TH_LOG("MSG_WAITALL returned after %ld ms", took);
	free(out);
	free(in);
	close(afd);
	close(cfd);
}

/* MSG_WAITALL returns less at EOF, and when a signal interrupts it. */
TEST_F(cluster, msg_waitall_short_at_eof_or_signal)
{
	struct later l = { .delay_ms = 300, .fd = -1 };
	char buf[100];
	int cfd, afd;
	long start, took;
	ssize_t ret;

	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(10, send(cfd, "0123456789", 10, 0));
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	ASSERT_EQ(10, recv(afd, buf, sizeof(buf), MSG_WAITALL))
		TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	EXPECT_EQ(0, recv(afd, buf, sizeof(buf), MSG_WAITALL));

	/* The other direction is still open: a signal ends the wait. */
	ASSERT_EQ(0, catch_signal(SIGUSR1));
	ASSERT_EQ(7, send(afd, "partial", 7, 0));
	l.target = pthread_self();
	start = now_ms();
	ASSERT_EQ(0, pthread_create(&l.thread, NULL, later_main, &l));
	ret = recv(cfd, buf, sizeof(buf), MSG_WAITALL);
	took = now_ms() - start;
	__atomic_store_n(&l.stop, 1, __ATOMIC_RELEASE);
	pthread_join(l.thread, NULL);
	EXPECT_LE(1, signals_caught());
	ASSERT_EQ(7, ret) TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "partial", 7));
	EXPECT_LE(250, took) TH_LOG("returned after %ld ms", took);
	EXPECT_GE(3000, took) TH_LOG("returned after %ld ms", took);
	close(afd);
	close(cfd);
}

TEST_F(cluster, so_rcvtimeo_expires)
{
	struct timeval tv = { .tv_usec = 300000 };
	char buf[16];
	int cfd, afd;
	long start, took;

	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, setsockopt(afd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	start = now_ms();
	ASSERT_FAILS_WITH(EAGAIN, read(afd, buf, sizeof(buf)));
	took = now_ms() - start;
	/*
	 * At 300 ms, less a tick; well before the GUARD_SEC timeout it
	 * replaced, with room for a slow wake-up.
	 */
	EXPECT_LE(280, took) TH_LOG("read gave up after %ld ms", took);
	EXPECT_GT(GUARD_SEC * 1000 / 2, took)
		TH_LOG("read gave up after %ld ms", took);
	/* The connection is fine: data still gets through. */
	ASSERT_EQ(2, send(cfd, "ok", 2, 0));
	ASSERT_EQ(2, read(afd, buf, sizeof(buf)));
	close(afd);
	close(cfd);
}

/*
 * A peer that does not read: blocking sends with SO_SNDTIMEO return what
 * they queued, then EAGAIN after the timeout.  Nothing is lost or doubled.
 */
TEST_F_TIMEOUT(cluster, so_sndtimeo_expires, 60)
{
	struct timeval tv = { .tv_usec = 300000 };
	size_t total = 0, chunk = 64 * KiB;
	__u8 *buf = malloc(chunk);
	long start, took = 0;
	int cfd, afd, i, err = 0;
	ssize_t ret = 0;

	ASSERT_NE(NULL, buf);
	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	for (i = 0; i < 2000 && total < 64 * MiB; i++) {
		pattern_fill(buf, chunk, 6, total);
		start = now_ms();
		ret = send(cfd, buf, chunk, MSG_NOSIGNAL);
		took = now_ms() - start;
		err = errno;
		if (ret < 0)
			break;
		total += ret;
	}
	ASSERT_EQ(-1, ret) TH_LOG("%zu bytes sent to a peer that does not read",
				  total);
	ASSERT_EQ(EAGAIN, err) TH_LOG("send: %s", strerror(err));
	/* As for SO_RCVTIMEO: 300 ms, well before GUARD_SEC's 5 s. */
	EXPECT_LE(280, took) TH_LOG("send gave up after %ld ms", took);
	EXPECT_GT(GUARD_SEC * 1000 / 2, took)
		TH_LOG("send gave up after %ld ms", took);
	fprintf(stderr, "# %zu bytes queued before the timeout\n", total);

	expect_stream(_metadata, afd, total, 6);
	ASSERT_FAILS_WITH(EAGAIN, recv(afd, buf, 1, MSG_DONTWAIT));
	free(buf);
	close(afd);
	close(cfd);
}

/*
 * SO_RCVLOWAT: poll does not report fewer bytes than the mark, and a
 * blocking read waits until the mark is reached.
 */
TEST_F(cluster, so_rcvlowat)
{
	__u8 out[1100], in[4096];
	struct later l = { .delay_ms = 400, .len = 600 };
	socklen_t len = sizeof(int);
	int cfd, afd, lowat = 1000;
	long start, took;
	ssize_t ret;
	__u8 want;

	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, setsockopt(afd, SOL_SOCKET, SO_RCVLOWAT, &lowat,
				sizeof(lowat)));
	lowat = 0;
	ASSERT_EQ(0, getsockopt(afd, SOL_SOCKET, SO_RCVLOWAT, &lowat, &len));
	EXPECT_EQ(1000, lowat);
	pattern_fill(out, sizeof(out), 4, 0);

	ASSERT_EQ(500, send(cfd, out, 500, 0));
	EXPECT_EQ(0, poll_one(afd, POLLIN, 500)) TH_LOG("500 bytes < SO_RCVLOWAT");
	ASSERT_EQ(600, send(cfd, out + 500, 600, 0));
	EXPECT_EQ(POLLIN, poll_one(afd, POLLIN, WAIT_MS));
	ASSERT_EQ(1100, read(afd, in, sizeof(in)));
	EXPECT_EQ(-1, pattern_check(in, 1100, 4, 0, &want));

	/* Blocking: 500 bytes are there, the read waits for the rest. */
	ASSERT_EQ(500, send(cfd, out, 500, 0));
	sleep_ms(100);
	l.fd = cfd;
	l.buf = out + 500;
	start = now_ms();
	ASSERT_EQ(0, pthread_create(&l.thread, NULL, later_main, &l));
	ret = read(afd, in, sizeof(in));
	took = now_ms() - start;
	pthread_join(l.thread, NULL);
	ASSERT_EQ(1100, ret) TH_LOG("read: %s", ret < 0 ? strerror(errno) : "short");
	EXPECT_EQ(-1, pattern_check(in, 1100, 4, 0, &want));
	EXPECT_LE(350, took) TH_LOG("read returned after %ld ms", took);
	close(afd);
	close(cfd);
}

/*
 * shutdown(SHUT_WR): the peer reads every byte sent before it, then EOF,
 * again and again; poll shows POLLIN|POLLRDHUP and no POLLHUP.
 */
TEST_F(cluster, shutdown_wr_peer_reads_data_then_eof)
{
	char buf[16];
	int cfd, afd, revents;

	CONNECT_PAIR(&cfd, &afd);
	send_stream(_metadata, cfd, 100 * KiB, 21);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	ASSERT_FAILS_WITH(EPIPE, send(cfd, "x", 1, MSG_NOSIGNAL));
	{
		struct stream w = { .len = 100 * KiB };
		struct stream r = {
			.fd = afd, .reader = true, .len = 100 * KiB, .seed = 21,
			.max_chunk = 8 * KiB, .until_eof = true,
		};

		reader_main(&r);
		check_delivered(_metadata, "1->2", &w, &r);
	}
	EXPECT_EQ(0, read(afd, buf, sizeof(buf)));
	EXPECT_EQ(0, recv(afd, buf, sizeof(buf), MSG_DONTWAIT));
	revents = poll_one(afd, POLLIN | POLLRDHUP | POLLOUT, WAIT_MS);
	EXPECT_EQ(POLLIN | POLLRDHUP | POLLOUT, revents)
		TH_LOG("revents %#x", revents);
	close(afd);
	close(cfd);
}

/* After its shutdown(SHUT_WR) a socket still reads what the peer sends. */
TEST_F_TIMEOUT(cluster, half_close_peer_still_sends, 60)
{
	struct stream s[2];
	int cfd, afd;
	char c;

	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	ASSERT_EQ(POLLIN | POLLRDHUP,
		  poll_one(afd, POLLIN | POLLRDHUP, WAIT_MS));
	ASSERT_EQ(0, read(afd, &c, 1));
	/* The closed direction does not stop the open one. */
	ASSERT_EQ(0, set_timeouts(cfd, XFER_GUARD_SEC));
	ASSERT_EQ(0, set_timeouts(afd, XFER_GUARD_SEC));
	s[0] = (struct stream){
		.fd = afd, .len = 512 * KiB, .seed = 22, .max_chunk = 16 * KiB,
	};
	s[1] = (struct stream){
		.fd = cfd, .reader = true, .len = 512 * KiB, .seed = 22,
		.max_chunk = 16 * KiB, .until_eof = true,
	};
	run_streams(_metadata, s, 2);
	check_delivered(_metadata, "2->1", &s[0], &s[1]);
	close(afd);
	close(cfd);
}

/* shutdown(SHUT_RD): reads return 0 at once; writing still works. */
TEST_F(cluster, shutdown_rd_reads_zero)
{
	char buf[16];
	int cfd, afd, revents;
	long start;

	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, shutdown(cfd, SHUT_RD));
	start = now_ms();
	EXPECT_EQ(0, read(cfd, buf, sizeof(buf)))
		TH_LOG("read: %s", strerror(errno));
	EXPECT_EQ(0, recv(cfd, buf, sizeof(buf), MSG_DONTWAIT));
	/* A blocked read would wait out GUARD_SEC (and fail). */
	EXPECT_GT(GUARD_SEC * 1000 / 2, now_ms() - start)
		TH_LOG("read blocked after SHUT_RD");
	revents = poll_one(cfd, POLLIN | POLLRDHUP, 0);
	EXPECT_EQ(POLLIN | POLLRDHUP, revents) TH_LOG("revents %#x", revents);
	/* Only the reading side is shut. */
	ASSERT_EQ(5, send(cfd, "after", 5, 0));
	ASSERT_EQ(5, read(afd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "after", 5));
	close(afd);
	close(cfd);
}

/* shutdown() needs a connection and a valid "how". */
TEST_F(cluster, shutdown_unconnected_and_invalid)
{
	int fd, cfd, afd;
	char c;

	ON_NODE(NODE1);
	fd = mig_socket(self->family, 0);
	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(ENOTCONN, shutdown(fd, SHUT_WR));
	ASSERT_FAILS_WITH(ENOTCONN, shutdown(fd, SHUT_RD));
	ASSERT_FAILS_WITH(ENOTCONN, shutdown(fd, SHUT_RDWR));
	ASSERT_EQ(0, bind_to(fd, self->family, 0, PORT + 1));
	ASSERT_FAILS_WITH(ENOTCONN, shutdown(fd, SHUT_WR));
	close(fd);

	CONNECT_PAIR(&cfd, &afd);
	ASSERT_FAILS_WITH(EINVAL, shutdown(cfd, 3));
	ASSERT_FAILS_WITH(EINVAL, shutdown(cfd, -1));
	/* Nothing was shut. */
	ASSERT_EQ(1, send(cfd, "y", 1, 0));
	ASSERT_EQ(1, read(afd, &c, 1));
	ASSERT_EQ(1, send(afd, "z", 1, 0));
	ASSERT_EQ(1, read(cfd, &c, 1));
	EXPECT_EQ('z', c);
	close(afd);
	close(cfd);
}

/*
 * close() right after writing, with nothing unread: the peer gets every
 * byte and then EOF (a FIN, not a reset), and is in CLOSE_WAIT.
 */
TEST_F_TIMEOUT(cluster, close_orderly_peer_reads_all_then_eof, 60)
{
	struct stream w = { .len = 256 * KiB, .seed = 23 };
	struct stream r = {
		.reader = true, .len = 256 * KiB, .seed = 23,
		.max_chunk = 16 * KiB, .until_eof = true,
	};
	pthread_t th;
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	r.fd = afd;
	ASSERT_EQ(0, set_timeouts(afd, XFER_GUARD_SEC));
	ASSERT_EQ(0, set_timeouts(cfd, XFER_GUARD_SEC));
	ASSERT_EQ(0, pthread_create(&th, NULL, reader_main, &r));
	send_stream(_metadata, cfd, w.len, 23);
	close(cfd);
	pthread_join(th, NULL);
	check_delivered(_metadata, "1->2", &w, &r);
	ON_NODE(NODE2);
	EXPECT_FD_STATE(afd, "CLOSE_WAIT", WAIT_MS);
	close(afd);
}

/*
 * close() with unread data aborts: the peer's next read fails with
 * ECONNRESET, later sends with EPIPE; the closer leaves no TIME_WAIT.
 */
TEST_F(cluster, close_with_unread_data_resets)
{
	char buf[16], local[32], remote[32];
	int afd, cport;

	reset_by_peer(_metadata, self, &afd, &cport);
	ASSERT_FAILS_WITH(ECONNRESET, read(afd, buf, sizeof(buf)));
	ASSERT_FAILS_WITH(EPIPE, send(afd, "x", 1, MSG_NOSIGNAL));
	ON_NODE(NODE2);
	EXPECT_FD_STATE(afd, "CLOSE", 0);
	/* An abort: no FIN_WAIT or TIME_WAIT on the closing side. */
	ON_NODE(NODE1);
	snprintf(local, sizeof(local), "%u:%d", NODE1, cport);
	snprintf(remote, sizeof(remote), "%u:%d", NODE2, PORT);
	EXPECT_EP_STATE(local, remote, "gone", 0);
	close(afd);
}

/* The first send after a reset reports it; the next ones say EPIPE. */
TEST_F(cluster, reset_then_send_econnreset_then_epipe)
{
	char buf[16];
	int afd, cport;

	reset_by_peer(_metadata, self, &afd, &cport);
	ASSERT_FAILS_WITH(ECONNRESET, send(afd, "x", 1, MSG_NOSIGNAL));
	ASSERT_FAILS_WITH(EPIPE, send(afd, "x", 1, MSG_NOSIGNAL));
	ASSERT_FAILS_WITH(EPIPE, send(afd, "x", 1, MSG_NOSIGNAL));
	/* The error was reported once: reading now finds the end. */
	EXPECT_EQ(0, read(afd, buf, sizeof(buf)));
	close(afd);
}

/* SO_LINGER with a zero timeout: close() resets instead of a FIN. */
TEST_F(cluster, so_linger_zero_resets)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[16], local[32], remote[32];
	int cfd, afd, revents, cport;

	CONNECT_PAIR_PORT(&cfd, &afd, &cport);
	ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	close(cfd);
	revents = poll_one(afd, POLLIN, WAIT_MS);
	EXPECT_EQ(POLLERR | POLLHUP, revents & (POLLERR | POLLHUP))
		TH_LOG("poll after the peer's abort: revents %#x", revents);
	ASSERT_FAILS_WITH(ECONNRESET, read(afd, buf, sizeof(buf)));
	/* No FIN_WAIT or TIME_WAIT on the closing side. */
	ON_NODE(NODE1);
	snprintf(local, sizeof(local), "%u:%d", NODE1, cport);
	snprintf(remote, sizeof(remote), "%u:%d", NODE2, PORT);
	EXPECT_EP_STATE(local, remote, "gone", 0);
	close(afd);
}

/*
 * Sending to a peer that is gone: EPIPE, with SIGPIPE unless
 * MSG_NOSIGNAL.
 */
TEST_F(cluster, sigpipe_unless_nosignal)
{
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	char buf[16];
	int afd, cport;

	reset_by_peer(_metadata, self, &afd, &cport);
	ASSERT_FAILS_WITH(ECONNRESET, read(afd, buf, sizeof(buf)));
	ASSERT_EQ(0, catch_signal(SIGPIPE));
	ASSERT_FAILS_WITH(EPIPE, send(afd, "x", 1, 0));
	EXPECT_EQ(1, signals_caught());
	ASSERT_FAILS_WITH(EPIPE, send(afd, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(1, signals_caught());
	ASSERT_FAILS_WITH(EPIPE, write(afd, "x", 1));
	EXPECT_EQ(2, signals_caught());
	ASSERT_FAILS_WITH(EPIPE, sendmsg(afd, &msg, MSG_NOSIGNAL));
	EXPECT_EQ(2, signals_caught());
	ASSERT_FAILS_WITH(EPIPE, sendmsg(afd, &msg, 0));
	EXPECT_EQ(3, signals_caught());
	close(afd);
}

/* poll(): POLLOUT on a connected socket, POLLIN only once data is there. */
TEST_F(cluster, poll_pollout_and_pollin)
{
	char buf[16];
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	EXPECT_EQ(POLLOUT, poll_one(cfd, POLLIN | POLLOUT | POLLRDHUP, WAIT_MS));
	EXPECT_EQ(POLLOUT, poll_one(afd, POLLIN | POLLOUT | POLLRDHUP, WAIT_MS));
	EXPECT_EQ(0, poll_one(afd, POLLIN | POLLRDHUP, 200));
	ASSERT_EQ(1, send(cfd, "x", 1, 0));
	EXPECT_EQ(POLLIN, poll_one(afd, POLLIN | POLLRDHUP, WAIT_MS));
	EXPECT_EQ(POLLIN | POLLOUT, poll_one(afd, POLLIN | POLLOUT, 0));
	ASSERT_EQ(1, read(afd, buf, sizeof(buf)));
	EXPECT_EQ(0, poll_one(afd, POLLIN | POLLRDHUP, 200));
	/* The sender saw no event but POLLOUT. */
	EXPECT_EQ(POLLOUT, poll_one(cfd, POLLIN | POLLOUT | POLLRDHUP, 0));
	close(afd);
	close(cfd);
}

/*
 * Edge-triggered epoll: one event when data arrives, none while it sits
 * there or after it is drained, a new one for new data.
 */
TEST_F(cluster, epoll_edge_triggered)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct epoll_event out[4];
	char buf[256];
	int cfd, afd, ep;

	CONNECT_PAIR(&cfd, &afd);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ev.data.fd = afd;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, afd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 200));

	ASSERT_EQ(100, send(cfd, buf, 100, 0));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, WAIT_MS));
	EXPECT_EQ(afd, out[0].data.fd);
	EXPECT_EQ((__u32)EPOLLIN, out[0].events);
	/* The data is still there, but nothing new arrived. */
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 300));
	ASSERT_EQ(40, read(afd, buf, 40));
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 300));
	ASSERT_EQ(60, read(afd, buf, sizeof(buf)));
	ASSERT_FAILS_WITH(EAGAIN, recv(afd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 300));

	/* New data: a new edge. */
	ASSERT_EQ(50, send(cfd, buf, 50, 0));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, WAIT_MS));
	EXPECT_EQ((__u32)EPOLLIN, out[0].events);
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 300));
	close(ep);
	close(afd);
	close(cfd);
}

/* POLLHUP only once both directions are shut down. */
TEST_F(cluster, pollhup_after_both_directions_shut)
{
	const short want = POLLIN | POLLRDHUP | POLLHUP;
	char buf[16];
	int cfd, afd, revents;

	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	ASSERT_EQ(POLLIN | POLLRDHUP,
		  poll_one(afd, POLLIN | POLLRDHUP, WAIT_MS));
	/* Half-closed: no POLLHUP on either side, nothing for node 1 to read. */
	EXPECT_EQ(0, poll_one(cfd, POLLIN | POLLRDHUP, 300));
	revents = poll_one(afd, POLLIN | POLLRDHUP, 0);
	EXPECT_EQ(POLLIN | POLLRDHUP, revents) TH_LOG("revents %#x", revents);

	ASSERT_EQ(0, shutdown(afd, SHUT_WR));
	revents = poll_one(cfd, POLLIN | POLLRDHUP, WAIT_MS);
	EXPECT_EQ(want, revents & want) TH_LOG("node 1 revents %#x", revents);
	EXPECT_EQ(0, revents & POLLERR);
	EXPECT_EQ(0, read(cfd, buf, sizeof(buf)));
	/* Let node 1's acknowledgment of the FIN arrive. */
	sleep_ms(200);
	revents = poll_one(afd, POLLIN | POLLRDHUP, WAIT_MS);
	EXPECT_EQ(want, revents & want) TH_LOG("node 2 revents %#x", revents);
	EXPECT_EQ(0, revents & POLLERR);
	close(afd);
	close(cfd);
}

/*
 * The states of an orderly close: the side that shuts down first goes to
 * FIN_WAIT2, its peer to CLOSE_WAIT; when the peer closes too, the first
 * side is in TIME_WAIT (and stays there after its close()), the peer's
 * socket goes away.
 */
TEST_F(cluster, close_states)
{
	char local[32], remote[32], buf[16];
	int cfd, afd, cport;

	CONNECT_PAIR_PORT(&cfd, &afd, &cport);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	ASSERT_EQ(POLLIN | POLLRDHUP,
		  poll_one(afd, POLLIN | POLLRDHUP, WAIT_MS));
	ON_NODE(NODE2);
	EXPECT_FD_STATE(afd, "CLOSE_WAIT", 0);
	ON_NODE(NODE1);
	EXPECT_FD_STATE(cfd, "FIN_WAIT2", WAIT_MS);

	close(afd);
	/* Node 2's FIN: EOF, and both directions of node 1 are shut. */
	ASSERT_EQ(POLLIN | POLLHUP, poll_one(cfd, POLLIN, WAIT_MS));
	EXPECT_EQ(0, read(cfd, buf, sizeof(buf)));
	EXPECT_FD_STATE(cfd, "TIME_WAIT", WAIT_MS);
	snprintf(local, sizeof(local), "%u:%d", NODE2, PORT);
	snprintf(remote, sizeof(remote), "%u:%d", NODE1, cport);
	ON_NODE(NODE2);
	EXPECT_EP_STATE(local, remote, "gone", WAIT_MS);

	close(cfd);
	ON_NODE(NODE1);
	snprintf(local, sizeof(local), "%u:%d", NODE1, cport);
	snprintf(remote, sizeof(remote), "%u:%d", NODE2, PORT);
	EXPECT_EP_STATE(local, remote, "TIME_WAIT", 0);
}

/*
 * The same with 300 ms of delay on node 1's side, which makes the short
 * states visible: FIN_WAIT1 while node 1's FIN travels, LAST_ACK while
 * node 1's acknowledgment of node 2's FIN does.
 */
TEST_F(cluster, close_states_slow_path)
{
	char c1[32], c2[32];
	int cfd, afd, cport;

	CONNECT_PAIR_PORT(&cfd, &afd, &cport);
	snprintf(c1, sizeof(c1), "%u:%d", NODE1, cport);
	snprintf(c2, sizeof(c2), "%u:%d", NODE2, PORT);
	add_netem(_metadata, self, NODE1, "delay 300ms");

	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	ON_NODE(NODE1);
	EXPECT_FD_STATE(cfd, "FIN_WAIT1", 0);
	ON_NODE(NODE2);
	EXPECT_FD_STATE(afd, "ESTABLISHED", 0);
	ASSERT_EQ(POLLIN | POLLRDHUP,
		  poll_one(afd, POLLIN | POLLRDHUP, WAIT_MS));
	EXPECT_FD_STATE(afd, "CLOSE_WAIT", 0);
	ON_NODE(NODE1);
	EXPECT_FD_STATE(cfd, "FIN_WAIT2", WAIT_MS);

	close(afd);
	ON_NODE(NODE2);
	EXPECT_EP_STATE(c2, c1, "LAST_ACK", 0);
	ON_NODE(NODE1);
	EXPECT_FD_STATE(cfd, "TIME_WAIT", WAIT_MS);
	ON_NODE(NODE2);
	EXPECT_EP_STATE(c2, c1, "gone", WAIT_MS);
	close(cfd);
	ON_NODE(NODE1);
	EXPECT_EP_STATE(c1, c2, "TIME_WAIT", 0);
}

/* Sets module parameter @name to @value. */
#define SET_PARAM(name, value)						\
	ASSERT_EQ(0, sh("echo %d >/sys/module/migtcp/parameters/%s",	\
			(int)(value), name))				\
		TH_LOG("cannot set the module parameter %s", name)

/* "node:port" of @port on @node, into @buf. */
static const char *endpoint(char buf[32], unsigned int node, int port)
{
	snprintf(buf, 32, "%u:%d", node, port);
	return buf;
}

/*
 * Waits (bounded) for the reset that ends @fd's connection: POLLERR.
 * Once the peer's FIN came too, POLLIN and POLLHUP come with it.
 */
#define EXPECT_RESET_ARRIVES(fd) do {					\
	int __revents = poll_one(fd, 0, WAIT_MS);			\
									\
	EXPECT_EQ(POLLERR | POLLHUP, __revents)				\
		TH_LOG("no reset reached node 2's end (revents %#x)",	\
		       __revents);					\
} while (0)

/*
 * Waits (bounded) until one of the connections from node 1's ports
 * @cport[0] and @cport[1] to node 2's PORT has left /proc/net/migtcp:
 * its index, or -1; @other gets the state of the other one.  The caller
 * is on node 1.
 */
static int wait_one_gone(const int cport[2], char other[32])
{
	char local[32], remote[32], st[2][32];
	long end = now_ms() + WAIT_MS;
	int i;

	endpoint(remote, NODE2, PORT);
	for (;;) {
		for (i = 0; i < 2; i++)
			wait_state(-1, endpoint(local, NODE1, cport[i]), remote,
				   "gone", 0, st[i]);
		for (i = 0; i < 2; i++) {
			if (!strcmp(st[i], "gone")) {
				memcpy(other, st[!i], sizeof(st[!i]));
				return i;
			}
		}
		if (now_ms() >= end)
			return -1;
		sleep_ms(10);
	}
}

#define ORPHAN_CONNS	4

/*
 * As TCP's tcp_max_orphans: a node keeps at most max_orphans connections
 * that their users closed and that still have a FIN to deliver.  Node 2
 * is silenced (netem drops all it sends), so the FINs of node 1's closes
 * are never acknowledged: with max_orphans 2, the first two close()s
 * leave orphans in FIN_WAIT1, the third and fourth reset their
 * connections at once, counted by AbortOnMemory; node 2's ends of those
 * read ECONNRESET, the others the end of the stream.
 */
TEST_F(cluster, close_beyond_max_orphans_resets)
{
	int cfd[ORPHAN_CONNS], afd[ORPHAN_CONNS], cport[ORPHAN_CONNS], i;
	char local[32], remote[32], buf[16];
	long aborts;

	for (i = 0; i < ORPHAN_CONNS; i++) {
		CONNECT_PAIR(&cfd[i], &afd[i]);
		cport[i] = local_port(cfd[i]);
		ASSERT_LT(0, cport[i]);
	}
	SET_PARAM("max_orphans", 2);
	add_netem(_metadata, self, NODE2, "loss 100%");
	ON_NODE(NODE1);
	aborts = stat_here("AbortOnMemory");
	ASSERT_LE(0, aborts) TH_LOG("node 1 has no counter AbortOnMemory");

	for (i = 0; i < ORPHAN_CONNS; i++)
		close(cfd[i]);
	/* close() decides at once. */
	EXPECT_EQ(aborts + ORPHAN_CONNS - 2, stat_here("AbortOnMemory"));
	endpoint(remote, NODE2, PORT);
	for (i = 0; i < ORPHAN_CONNS; i++)
		EXPECT_EP_STATE(endpoint(local, NODE1, cport[i]), remote,
				i < 2 ? "FIN_WAIT1" : "gone", 0);

	ON_NODE(NODE2);
	for (i = 0; i < ORPHAN_CONNS; i++) {
		if (i < 2) {
			EXPECT_EQ(POLLIN | POLLRDHUP,
				  poll_one(afd[i], POLLIN | POLLRDHUP, WAIT_MS));
			EXPECT_EQ(0, read(afd[i], buf, sizeof(buf)));
			EXPECT_EQ(0, so_error(afd[i]));
		} else {
			EXPECT_RESET_ARRIVES(afd[i]);
			ASSERT_FAILS_WITH(ECONNRESET,
					  read(afd[i], buf, sizeof(buf)));
		}
		close(afd[i]);
	}
}

/*
 * The timer of an orphan checks the limit too (tcp_out_of_resources()):
 * max_orphans lowered to 1 under two orphans in FIN_WAIT1, the first
 * whose FIN is due again is reset; the other, then alone, retransmits on.
 */
TEST_F(cluster, orphans_beyond_lowered_max_reset_on_timer)
{
	int cfd[2], afd[2], cport[2], i, gone;
	char local[32], remote[32], st[32];
	long aborts, retrans;

	for (i = 0; i < 2; i++) {
		CONNECT_PAIR(&cfd[i], &afd[i]);
		cport[i] = local_port(cfd[i]);
		ASSERT_LT(0, cport[i]);
	}
	SET_PARAM("max_orphans", 2);
	add_netem(_metadata, self, NODE2, "loss 100%");
	ON_NODE(NODE1);
	aborts = stat_here("AbortOnMemory");
	ASSERT_LE(0, aborts) TH_LOG("node 1 has no counter AbortOnMemory");
	close(cfd[0]);
	close(cfd[1]);
	endpoint(remote, NODE2, PORT);
	for (i = 0; i < 2; i++)
		ASSERT_STREQ("FIN_WAIT1",
			     wait_state(-1, endpoint(local, NODE1, cport[i]),
					remote, "FIN_WAIT1", 0, st));
	EXPECT_EQ(aborts, stat_here("AbortOnMemory"));

	SET_PARAM("max_orphans", 1);
	/* The FINs go again within an RTO (at most 1 s): 10 s is ample. */
	ASSERT_EQ(aborts + 1, wait_node_stat(self, NODE1, "AbortOnMemory",
					     aborts + 1, 10000))
		TH_LOG("no orphan was reset by its timer");
	retrans = stat_here("RetransSegs");
	/* It is counted just before it leaves the table. */
	gone = wait_one_gone(cport, st);
	ASSERT_LE(0, gone) TH_LOG("the orphan counted as reset is still there");
	ASSERT_STREQ("FIN_WAIT1", st) TH_LOG("the other orphan is %s", st);

	/* The survivor sends its FIN again and is not reset. */
	EXPECT_LT(retrans, wait_node_stat(self, NODE1, "RetransSegs",
					  retrans + 1, 10000))
		TH_LOG("the last orphan does not retransmit");
	EXPECT_EQ(aborts + 1, stat_here("AbortOnMemory"));
	EXPECT_EP_STATE(endpoint(local, NODE1, cport[!gone]), remote,
			"FIN_WAIT1", 0);

	/* Node 2 had the FINs; the reset too, for one of them. */
	ON_NODE(NODE2);
	EXPECT_RESET_ARRIVES(afd[gone]);
	ASSERT_FAILS_WITH(ECONNRESET, send(afd[gone], "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(0, so_error(afd[!gone]));
	EXPECT_EQ(1, send(afd[!gone], "x", 1, MSG_NOSIGNAL));
	close(afd[0]);
	close(afd[1]);
}

/*
 * close() with unread data resets in every synchronized state, as
 * tcp_close() does, not only in ESTABLISHED: here node 2 has sent data
 * and its FIN, and node 1 closes in CLOSE_WAIT without reading.  Node 2,
 * in FIN_WAIT2, learns it at once with ECONNRESET instead of waiting out
 * timewait_secs for a FIN that never comes.
 */
TEST_F(cluster, close_wait_with_unread_data_resets)
{
	char buf[100] = "unread", local[32], remote[32];
	int cfd, afd, cport;

	CONNECT_PAIR_PORT(&cfd, &afd, &cport);
	ASSERT_EQ((ssize_t)sizeof(buf),
		  send(afd, buf, sizeof(buf), MSG_NOSIGNAL));
	ASSERT_EQ(0, shutdown(afd, SHUT_WR));
	ON_NODE(NODE1);
	EXPECT_FD_STATE(cfd, "CLOSE_WAIT", WAIT_MS);
	ON_NODE(NODE2);
	EXPECT_FD_STATE(afd, "FIN_WAIT2", WAIT_MS);
	close(cfd);
	EXPECT_RESET_ARRIVES(afd);
	EXPECT_EQ(ECONNRESET, so_error(afd));
	ON_NODE(NODE1);
	EXPECT_EP_STATE(endpoint(local, NODE1, cport),
			endpoint(remote, NODE2, PORT), "gone", 0);
	close(afd);
}

/*
 * SO_LINGER of 0 resets from FIN_WAIT2 too (tcp_need_reset()): node 1
 * has shut down writing and node 2 read the end of the stream; node 1's
 * abortive close tells node 2, whose send then fails with ECONNRESET.
 */
TEST_F(cluster, so_linger_zero_after_shutdown_resets)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[16], local[32], remote[32];
	int cfd, afd, cport;

	CONNECT_PAIR_PORT(&cfd, &afd, &cport);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	ASSERT_EQ(POLLIN, poll_one(afd, POLLIN, WAIT_MS));
	ASSERT_EQ(0, read(afd, buf, sizeof(buf)));
	ON_NODE(NODE1);
	EXPECT_FD_STATE(cfd, "FIN_WAIT2", WAIT_MS);
	ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	close(cfd);
	EXPECT_EP_STATE(endpoint(local, NODE1, cport),
			endpoint(remote, NODE2, PORT), "gone", 0);
	ON_NODE(NODE2);
	EXPECT_RESET_ARRIVES(afd);
	ASSERT_FAILS_WITH(ECONNRESET, send(afd, "x", 1, MSG_NOSIGNAL));
	close(afd);
}

/*
 * An orphan whose peer keeps its window closed gives up after
 * orphan_retries timeouts however the peer answers its probes, as
 * tcp_orphan_retries bounds TCP's: node 2 reads nothing, node 1 fills
 * the window, sees it closed (the condition this test needs, made and
 * checked first) and probes it; node 2 answers every probe with window
 * 0.  With orphan_retries 3 the orphan ends at its third timeout after
 * close() at most: within 7 of the RTOs it had then, the time allowed
 * (and 5 s more).  Before, an answered probe started the count over and
 * the orphan probed for ever.
 */
TEST_F_TIMEOUT(cluster, orphan_probing_closed_window_gives_up, 240)
{
	size_t chunk = 64 * KiB;
	char local[32], remote[32];
	struct migtcp_info info;
	__u8 *buf = malloc(chunk);
	int cfd, afd, cport;
	long end;

	ASSERT_NE(NULL, buf);
	CONNECT_PAIR_PORT(&cfd, &afd, &cport);
	ASSERT_LT(0U, fill_until_blocked(_metadata, cfd, buf, chunk, 9));
	free(buf);
	end = now_ms() + 20000;
	do {
		ASSERT_EQ(0, get_info(cfd, &info));
		if (!info.snd_wnd && info.retransmits)
			break;
		sleep_ms(50);
	} while (now_ms() < end);
	ASSERT_EQ(0U, info.snd_wnd)
		TH_LOG("node 2's window never closed: %u bytes", info.snd_wnd);
	ASSERT_LT(0, info.retransmits) TH_LOG("node 1 does not probe");
	SET_PARAM("orphan_retries", 3);
	ON_NODE(NODE1);
	close(cfd);
	endpoint(local, NODE1, cport);
	endpoint(remote, NODE2, PORT);
	EXPECT_EP_STATE(local, remote, "FIN_WAIT1", 0);
	EXPECT_EP_STATE(local, remote, "gone", 7 * (info.rto_us / 1000) + 5000);
	close(afd);
}

/*
 * Data that comes after close() is reset, as TCP does (RFC 1122
 * 4.2.2.13, TCPAbortOnData): node 1 closes, and its orphan waits in
 * FIN_WAIT2 for node 2's FIN; node 2 sends instead.  Node 1 answers with
 * a reset, its orphan ends (no TIME_WAIT) and AbortOnData counts it; node
 * 2's next send fails with ECONNRESET, the one after with EPIPE.
 */
TEST_F(cluster, data_after_close_resets)
{
	char local[32], remote[32], buf[16];
	int cfd, afd, cport;
	long aborts;

	/* The FIN_WAIT2 orphan lasts timewait_secs: long enough, however slow. */
	SET_PARAM("timewait_secs", 60);
	CONNECT_PAIR_PORT(&cfd, &afd, &cport);
	endpoint(local, NODE1, cport);
	endpoint(remote, NODE2, PORT);
	aborts = stat_here("AbortOnData");

	close(cfd);
	ON_NODE(NODE2);
	ASSERT_EQ(POLLIN | POLLRDHUP,
		  poll_one(afd, POLLIN | POLLRDHUP, WAIT_MS));
	ASSERT_EQ(0, read(afd, buf, sizeof(buf)));
	ON_NODE(NODE1);
	EXPECT_EP_STATE(local, remote, "FIN_WAIT2", WAIT_MS);

	ASSERT_EQ(3, send(afd, "abc", 3, MSG_NOSIGNAL));
	EXPECT_RESET_ARRIVES(afd);
	ASSERT_FAILS_WITH(ECONNRESET, send(afd, "x", 1, MSG_NOSIGNAL));
	ASSERT_FAILS_WITH(EPIPE, send(afd, "x", 1, MSG_NOSIGNAL));
	ON_NODE(NODE1);
	EXPECT_LE(0, aborts) TH_LOG("node 1 has no counter AbortOnData");
	EXPECT_EQ(aborts + 1, stat_here("AbortOnData"));
	/* Its reset goes just before it leaves the table. */
	EXPECT_EP_STATE(local, remote, "gone", WAIT_MS);
	close(afd);
}

/* ---- sendfile() and splice() ---- */

/* A file of @len bytes of stream @seed, unlinked: its descriptor. */
static int stream_file(struct __test_metadata *_metadata, __u64 seed,
		       size_t len)
{
	char path[] = "/tmp/migtcp_data_test.XXXXXX";
	size_t done, n;
	__u8 buf[64 * KiB];
	int fd;

	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	for (done = 0; done < len; done += n) {
		n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		pattern_fill(buf, n, seed, done);
		if (write(fd, buf, n) != (ssize_t)n) {
			TH_LOG("writing the file: %s", strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* What a sink thread read from @fd: up to @len bytes, then the EOF. */
struct sink {
	int fd;
	size_t len, got;
	__u8 *buf;
	bool eof;
	int err;
};

static void *sink_main(void *arg)
{
	struct sink *k = arg;
	ssize_t n;

	for (;;) {
		n = read(k->fd, k->buf + k->got, k->len + 1 - k->got);
		if (n <= 0) {
			k->eof = !n;
			k->err = n ? errno : 0;
			return NULL;
		}
		k->got += n;
		if (k->got > k->len)
			return NULL;
	}
}

static void sink_start(struct __test_metadata *_metadata, struct sink *k,
		       pthread_t *th, int fd, size_t len)
{
	*k = (struct sink){ .fd = fd, .len = len, .buf = malloc(len + 1) };
	ASSERT_NE(NULL, k->buf);
	ASSERT_EQ(0, set_timeouts(fd, XFER_GUARD_SEC));
	ASSERT_EQ(0, pthread_create(th, NULL, sink_main, k));
}

/* Checks that sink @k read bytes [@off, @off + len) of stream @seed, then
 * the EOF.
 */
static void sink_check(struct __test_metadata *_metadata, pthread_t th,
		       struct sink *k, __u64 seed, __u64 off)
{
	long bad;
	__u8 want;

	pthread_join(th, NULL);
	EXPECT_EQ(k->len, k->got) TH_LOG("read %zu bytes of %zu, then %s",
					 k->got, k->len, k->eof ? "EOF" :
					 strerror(k->err));
	EXPECT_TRUE(k->eof) TH_LOG("no EOF after the data");
	bad = pattern_check(k->buf, k->got < k->len ? k->got : k->len, seed,
			    off, &want);
	EXPECT_EQ(-1, bad) TH_LOG("byte %ld is %#04x, want %#04x", bad,
				  k->buf[bad], want);
	free(k->buf);
}

/*
 * sendfile() from a file to the socket: the file's bytes arrive once, in
 * order, then the EOF; from an offset of the file not on a page boundary
 * and for a length that is not either, exactly those bytes.
 */
TEST_F_TIMEOUT(cluster, sendfile_file_to_socket, 120)
{
	const size_t len = 3 * MiB + 1234, part = 300 * KiB + 5;
	const off_t from = 5000;
	struct sink k;
	pthread_t th;
	int cfd, afd, file, round;
	off_t off;
	ssize_t n;

	file = stream_file(_metadata, 7, len);
	ASSERT_LE(0, file);
	for (round = 0; round < 2; round++) {
		const off_t start = round ? from : 0;
		const size_t want = round ? part : len;

		CONNECT_PAIR(&cfd, &afd);
		ASSERT_EQ(0, set_timeouts(cfd, XFER_GUARD_SEC));
		sink_start(_metadata, &k, &th, afd, want);
		off = start;
		while ((size_t)(off - start) < want) {
			n = sendfile(cfd, file, &off, want - (off - start));
			if (n <= 0) {
				TH_LOG("sendfile: %s", n ? strerror(errno) : "0");
				break;
			}
		}
		EXPECT_EQ(start + (off_t)want, off);
		EXPECT_EQ(0, shutdown(cfd, SHUT_WR));
		sink_check(_metadata, th, &k, 7, start);
		close(cfd);
		close(afd);
	}
	close(file);
}

/*
 * splice() from a pipe to the socket, the pipe filled by another thread
 * in writes of odd sizes: every byte once, in order.
 */
struct pipe_feed {
	int fd;
	size_t len;
	int err;
};

static void *pipe_feed_main(void *arg)
{
	struct pipe_feed *f = arg;
	__u8 buf[7777];
	size_t done, n;
	ssize_t w;

	for (done = 0; done < f->len; done += w) {
		n = f->len - done < sizeof(buf) ? f->len - done : sizeof(buf);
		pattern_fill(buf, n, 8, done);
		w = write(f->fd, buf, n);
		if (w <= 0) {
			f->err = w ? errno : EIO;
			break;
		}
	}
	close(f->fd);
	return NULL;
}

TEST_F_TIMEOUT(cluster, splice_pipe_to_socket, 120)
{
	const size_t len = 2 * MiB + 77;
	struct pipe_feed f;
	pthread_t feeder, th;
	size_t moved = 0;
	struct sink k;
	int cfd, afd, p[2];
	ssize_t n;

	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, set_timeouts(cfd, XFER_GUARD_SEC));
	ASSERT_EQ(0, pipe(p));
	sink_start(_metadata, &k, &th, afd, len);
	f = (struct pipe_feed){ .fd = p[1], .len = len };
	ASSERT_EQ(0, pthread_create(&feeder, NULL, pipe_feed_main, &f));
	while ((n = splice(p[0], NULL, cfd, NULL, 64 * KiB,
			   SPLICE_F_MOVE | SPLICE_F_MORE)) > 0)
		moved += n;
	EXPECT_EQ(0, n) TH_LOG("splice: %s", strerror(errno));
	pthread_join(feeder, NULL);
	EXPECT_EQ(0, f.err);
	EXPECT_EQ(len, moved);
	EXPECT_EQ(0, shutdown(cfd, SHUT_WR));
	sink_check(_metadata, th, &k, 8, 0);
	close(p[0]);
	close(cfd);
	close(afd);
}

/*
 * splice() from the socket to a pipe: every byte once, in order, then 0
 * at the EOF; at most what the pipe holds at a time.  A non-blocking
 * socket without data: EAGAIN.
 */
TEST_F_TIMEOUT(cluster, splice_socket_to_pipe, 120)
{
	const size_t len = 2 * MiB + 99;
	struct stream w = { .len = len, .seed = 9, .max_chunk = 100 * KiB };
	size_t moved = 0, pipe_size;
	int cfd, afd, p[2], round;
	pthread_t writer;
	__u8 *buf, want;
	ssize_t n, r;
	long bad;

	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, set_timeouts(cfd, XFER_GUARD_SEC));
	ASSERT_EQ(0, set_timeouts(afd, XFER_GUARD_SEC));
	ASSERT_EQ(0, pipe(p));
	pipe_size = fcntl(p[0], F_GETPIPE_SZ);
	w.fd = cfd;
	ASSERT_EQ(0, pthread_create(&writer, NULL, writer_main, &w));
	while ((n = splice(afd, NULL, p[1], NULL, 1 * MiB, SPLICE_F_MOVE)) > 0) {
		EXPECT_GE(pipe_size, (size_t)n);
		if (moved + n > len)
			break;
		for (r = 0; r < n;) {
			ssize_t got = read(p[0], buf + moved + r, n - r);

			ASSERT_LT(0, got) TH_LOG("reading the pipe: %s",
						 strerror(errno));
			r += got;
		}
		moved += n;
	}
	EXPECT_EQ(0, n) TH_LOG("splice: %s after %zu bytes",
			       n < 0 ? strerror(errno) : "too many", moved);
	pthread_join(writer, NULL);
	EXPECT_EQ(NULL, w.failed);
	EXPECT_EQ(len, moved);
	bad = pattern_check(buf, moved, 9, 0, &want);
	EXPECT_EQ(-1, bad) TH_LOG("byte %ld is %#04x, want %#04x", bad,
				  buf[bad], want);
	close(cfd);
	close(afd);

	/* Nothing to read on a non-blocking socket, then one byte. */
	for (round = 0; round < 2; round++) {
		CONNECT_PAIR(&cfd, &afd);
		ASSERT_EQ(0, fcntl(afd, F_SETFL, O_NONBLOCK));
		if (round) {
			ASSERT_EQ(1, send(cfd, "z", 1, 0));
			ASSERT_EQ(POLLIN, poll_one(afd, POLLIN, WAIT_MS));
			EXPECT_EQ(1, splice(afd, NULL, p[1], NULL, 100, 0));
			EXPECT_EQ(1, read(p[0], buf, 100));
			EXPECT_EQ('z', buf[0]);
		} else {
			ASSERT_FAILS_WITH(EAGAIN, splice(afd, NULL, p[1], NULL,
							 100, 0));
		}
		close(cfd);
		close(afd);
	}
	close(p[0]);
	close(p[1]);
	free(buf);
}

TEST_HARNESS_MAIN
