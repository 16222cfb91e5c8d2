// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of criu_test.sh: the two ends of an AF_MIGTCP connection that
 * stream a verifiable byte pattern both ways at a paced rate, so that a
 * process can be checkpointed and restored in the middle of the
 * transfer.
 *
 *   mig_echo server PORT BYTES RATE PIDFILE [--unknown-socket] [--epoll]
 *                   [--pause-every N]
 *   mig_echo client NODE PORT BYTES RATE [PIDFILE] [--pause-every N]
 *
 * The server listens on PORT of its node, writes its pid to PIDFILE,
 * accepts one connection and closes the listener.  Each end sends BYTES
 * bytes of its own pattern (byte i of a direction is byte i % 8 of
 * splitmix64(i / 8 + seed): any byte lost, duplicated, reordered or
 * corrupted changes it) at RATE bytes per second, checks every byte it
 * receives against the other end's pattern, shuts down its sending side
 * and waits for the peer's end of stream.  The server's socket is
 * non-blocking with SO_RCVTIMEO and SO_SNDTIMEO of 7 s, so that a
 * restore must put flags and options back.  --unknown-socket also holds
 * an AF_ALG socket (a family CRIU cannot dump) at a descriptor above
 * the connection's, so that a dump fails after the plugin has frozen
 * the connection.  --epoll drives the connection through an epoll set
 * instead of poll(): one epoll descriptor, made before the transfer and
 * used to its end, whose interest in EPOLLOUT follows the pace
 * (EPOLL_CTL_MOD: ENOENT if the socket left the set) and whose every
 * event must carry the data word it was registered with; it prints
 * "epoll fd E socket fd S data D" (D in hex) after "connected".  The
 * client writes its pid to PIDFILE if one is given.  With --pause-every
 * N either end stops sending after every N bytes, says "paused sent S",
 * and goes on (receiving meanwhile) once it got one SIGUSR1 more than the
 * times it paused before (a signal that comes early counts for the next
 * pause): a test decides when data flows from it, and so that the
 * transfer cannot end before the test is ready for it to.
 *
 * The pace is a token bucket that holds at most two chunks: after a
 * pause (a frozen connection) the transfer resumes at RATE, not in one
 * burst, so a migrated transfer still runs for a predictable time.
 *
 * Output, one line each, flushed: "listening" (server), "connected
 * local N:P remote N:P", "progress sent S received R" every 256 KiB
 * received, and at the end
 * "done sent BYTES received BYTES local N:P remote N:P nonblock F
 * rcvtimeo_us T sndtimeo_us T"; exit 0.  On any error a line that says
 * what went wrong (a mismatch names the offset and both bytes) and exit
 * 1; a transfer without progress for 60 s is an error too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "migtcp.h"
#include "mig_prog.h"

#define SEED_SERVER	0x5e
#define SEED_CLIENT	0xc1
#define CHUNK		65536
#define PROGRESS_EVERY	(256 * 1024)
#define STALL_MS	60000
#define SOCK_TIMEO_S	7
#define UNKNOWN_FD_MIN	100
/* The data word of the socket in the epoll set: what every event returns. */
#define EPOLL_DATA	0x6d6967746370ee01ULL

/* SIGUSR1s received: each lets a paused end send N bytes more. */
static volatile sig_atomic_t releases;

struct xfer {
	int fd;
	int epfd;		/* -1: poll() */
	uint32_t ep_events;	/* the interest registered in EPFD */
	uint64_t total, rate;
	uint64_t sent, received;
	uint64_t send_seed, recv_seed;
	long last_progress_ms, last_refill_ms;
	uint64_t tokens;		/* bytes the pace allows now */
	uint64_t pause_every;		/* 0, or --pause-every N */
	uint64_t paused_at;		/* the pause said last */
	uint64_t next_progress;
	bool shut, eof;
	/* The endpoints, taken before our FIN: a closed socket has no peer. */
	char local[32], remote[32];
};

static void xfer_recv(struct xfer *x)
{
	uint8_t buf[CHUNK];
	ssize_t n, i;

	n = read(x->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		die("read after %llu bytes: %s",
		    (unsigned long long)x->received, strerror(errno));
	if (n == 0) {
		if (x->received != x->total)
			die("end of stream after %llu of %llu bytes",
			    (unsigned long long)x->received,
			    (unsigned long long)x->total);
		x->eof = true;
		return;
	}
	if (x->received + n > x->total)
		die("received %llu bytes, more than the %llu sent",
		    (unsigned long long)(x->received + n),
		    (unsigned long long)x->total);
	for (i = 0; i < n; i++) {
		uint8_t want = pattern(x->received + i, x->recv_seed);

		if (buf[i] != want)
			die("byte %llu received is 0x%02x, expected 0x%02x",
			    (unsigned long long)(x->received + i), buf[i], want);
	}
	x->received += n;
	x->last_progress_ms = now_ms();
	while (x->received >= x->next_progress) {
		say("progress sent %llu received %llu",
		    (unsigned long long)x->sent,
		    (unsigned long long)x->received);
		x->next_progress += PROGRESS_EVERY;
	}
}

/* Where the stream stops for now: its end, or the next pause. */
static uint64_t xfer_limit(const struct xfer *x)
{
	uint64_t limit;

	if (!x->pause_every)
		return x->total;
	limit = (releases + 1) * x->pause_every;
	return limit < x->total ? limit : x->total;
}

/* Bytes the pace allows now: RATE a second, up to two chunks saved. */
static uint64_t xfer_allowed(struct xfer *x)
{
	long now = now_ms();
	uint64_t add = x->rate * (now - x->last_refill_ms) / 1000;
	uint64_t limit = xfer_limit(x);

	if (add) {
		x->tokens += add;
		x->last_refill_ms = now;
	}
	if (x->tokens > 2 * CHUNK)
		x->tokens = 2 * CHUNK;
	if (x->sent >= limit)
		return 0;
	return x->tokens < limit - x->sent ? x->tokens : limit - x->sent;
}

/* A paused end says so once; waiting for a signal is no stall. */
static void xfer_check_pause(struct xfer *x)
{
	if (!x->pause_every || x->sent == x->total || x->sent < xfer_limit(x))
		return;
	x->last_progress_ms = now_ms();
	if (x->paused_at != x->sent) {
		x->paused_at = x->sent;
		say("paused sent %llu", (unsigned long long)x->sent);
	}
}

static void xfer_send(struct xfer *x)
{
	uint8_t buf[CHUNK];
	uint64_t len = xfer_allowed(x), i;
	ssize_t n;

	if (len > CHUNK)
		len = CHUNK;
	for (i = 0; i < len; i++)
		buf[i] = pattern(x->sent + i, x->send_seed);
	n = write(x->fd, buf, len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		die("write after %llu bytes: %s",
		    (unsigned long long)x->sent, strerror(errno));
	x->sent += n;
	x->tokens -= n;
	x->last_progress_ms = now_ms();
	if (x->sent == x->total) {
		endpoint(x->fd, false, x->local, sizeof(x->local), NULL);
		endpoint(x->fd, true, x->remote, sizeof(x->remote), NULL);
		if (shutdown(x->fd, SHUT_WR))
			die("shutdown: %s", strerror(errno));
		x->shut = true;
	}
}

/* Waits up to TIMEOUT ms for EVENTS on the socket; returns what came. */
static uint32_t xfer_poll(struct xfer *x, uint32_t events, int timeout)
{
	struct pollfd p = { .fd = x->fd, .events = events };

	if (poll(&p, 1, timeout) < 0 && errno != EINTR)
		die("poll: %s", strerror(errno));
	return p.revents;
}

/*
 * The same through the epoll set: the interest changes with EVENTS, and
 * every event is the socket's (its data word).
 */
static uint32_t xfer_epoll(struct xfer *x, uint32_t events, int timeout)
{
	/* One set of event bits for both. */
	_Static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT &&
		       EPOLLHUP == POLLHUP && EPOLLERR == POLLERR,
		       "epoll and poll event bits differ");
	struct epoll_event ev[4];
	uint32_t got = 0;
	int n, i;

	if (events != x->ep_events) {
		ev[0] = (struct epoll_event){ .events = events,
					      .data.u64 = EPOLL_DATA };
		if (epoll_ctl(x->epfd, EPOLL_CTL_MOD, x->fd, &ev[0]))
			die("epoll_ctl(MOD) after %llu bytes sent: %s",
			    (unsigned long long)x->sent, strerror(errno));
		x->ep_events = events;
	}
	n = epoll_wait(x->epfd, ev, 4, timeout);
	if (n < 0 && errno != EINTR)
		die("epoll_wait: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		if (ev[i].data.u64 != EPOLL_DATA)
			die("epoll_wait returned data 0x%llx, not 0x%llx",
			    (unsigned long long)ev[i].data.u64, EPOLL_DATA);
		got |= ev[i].events;
	}
	return got;
}

static void xfer_run(struct xfer *x)
{
	uint32_t events, revents;
	int timeout;

	x->last_progress_ms = x->last_refill_ms = now_ms();
	x->tokens = CHUNK;
	x->next_progress = PROGRESS_EVERY;
	while (!(x->shut && x->eof)) {
		bool want_send = !x->shut && xfer_allowed(x) > 0;

		events = (x->eof ? 0 : POLLIN) | (want_send ? POLLOUT : 0);
		/* Without POLLOUT, wake up for the pace and the stall check. */
		timeout = want_send ? 1000 : 10;
		if (x->epfd >= 0)
			revents = xfer_epoll(x, events, timeout);
		else
			revents = xfer_poll(x, events, timeout);
		if (revents & (POLLIN | POLLHUP | POLLERR))
			xfer_recv(x);
		if (revents & POLLOUT)
			xfer_send(x);
		xfer_check_pause(x);
		if (now_ms() - x->last_progress_ms > STALL_MS)
			die("no progress for %d s: sent %llu received %llu of %llu",
			    STALL_MS / 1000, (unsigned long long)x->sent,
			    (unsigned long long)x->received,
			    (unsigned long long)x->total);
	}
}

/* The epoll set of --epoll, with the socket in it. */
static void xfer_epoll_setup(struct xfer *x)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT,
				  .data.u64 = EPOLL_DATA };

	x->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (x->epfd < 0 || epoll_ctl(x->epfd, EPOLL_CTL_ADD, x->fd, &ev))
		die("epoll: %s", strerror(errno));
	x->ep_events = ev.events;
	say("epoll fd %d socket fd %d data %llx", x->epfd, x->fd,
	    (unsigned long long)EPOLL_DATA);
}

static void say_connected(int fd)
{
	char local[32], remote[32];

	endpoint(fd, false, local, sizeof(local), NULL);
	endpoint(fd, true, remote, sizeof(remote), NULL);
	say("connected local %s remote %s", local, remote);
}

static uint64_t timeo_us(int fd, int opt)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len))
		die("getsockopt: %s", strerror(errno));
	return (uint64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void report(const struct xfer *x)
{
	int flags = fcntl(x->fd, F_GETFL);

	say("done sent %llu received %llu local %s remote %s nonblock %d rcvtimeo_us %llu sndtimeo_us %llu",
	    (unsigned long long)x->sent, (unsigned long long)x->received,
	    x->local, x->remote, flags >= 0 && (flags & O_NONBLOCK) ? 1 : 0,
	    (unsigned long long)timeo_us(x->fd, SO_RCVTIMEO),
	    (unsigned long long)timeo_us(x->fd, SO_SNDTIMEO));
}

static int family_or_die(void)
{
	int family = migtcp_family();

	if (family < 0)
		die("cannot read the family of AF_MIGTCP: %s", strerror(-family));
	return family;
}

static void set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK))
		die("O_NONBLOCK: %s", strerror(errno));
}

/* An AF_ALG socket at a descriptor above every other one. */
static void hold_unknown_socket(void)
{
	int fd = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), high;

	if (fd < 0)
		die("socket(AF_ALG): %s", strerror(errno));
	high = fcntl(fd, F_DUPFD, UNKNOWN_FD_MIN);
	if (high < 0)
		die("F_DUPFD: %s", strerror(errno));
	close(fd);
}

static void on_sigusr1(int sig)
{
	(void)sig;
	releases++;
}

/* --pause-every N, with the handler of the SIGUSR1s that release it. */
static void set_pause_every(struct xfer *x, const char *arg)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };

	x->pause_every = parse_num(arg, "N");
	if (!x->pause_every)
		die("--pause-every 0");
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		die("sigaction: %s", strerror(errno));
}

static void write_pidfile(const char *path)
{
	FILE *pidfile = fopen(path, "we");

	if (!pidfile || fprintf(pidfile, "%d\n", getpid()) < 0 ||
	    fclose(pidfile))
		die("cannot write %s: %s", path, strerror(errno));
}

static int run_server(int argc, char **argv)
{
	struct xfer x = { .send_seed = SEED_SERVER, .recv_seed = SEED_CLIENT,
			  .epfd = -1 };
	struct timeval tv = { .tv_sec = SOCK_TIMEO_S };
	struct sockaddr_mig addr = { 0 };
	bool unknown_socket = false, use_epoll = false;
	int family, lfd, fd, i;

	role = "mig_echo server";
	if (argc < 6)
		die("usage: server PORT BYTES RATE PIDFILE [--unknown-socket] [--epoll] [--pause-every N]");
	for (i = 6; i < argc; i++) {
		if (!strcmp(argv[i], "--unknown-socket"))
			unknown_socket = true;
		else if (!strcmp(argv[i], "--epoll"))
			use_epoll = true;
		else if (!strcmp(argv[i], "--pause-every") && i + 1 < argc)
			set_pause_every(&x, argv[++i]);
		else
			die("unknown option %s", argv[i]);
	}
	family = family_or_die();
	addr.smig_family = family;
	addr.smig_port = htons(parse_num(argv[2], "PORT"));
	x.total = parse_num(argv[3], "BYTES");
	x.rate = parse_num(argv[4], "RATE");

	lfd = socket(family, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket(%d): %s", family, strerror(errno));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 1))
		die("bind and listen on port %s: %s", argv[2], strerror(errno));
	write_pidfile(argv[5]);
	say("listening");
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept: %s", strerror(errno));
	close(lfd);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		die("SO_RCVTIMEO, SO_SNDTIMEO: %s", strerror(errno));
	set_nonblock(fd);
	if (unknown_socket)
		hold_unknown_socket();
	say_connected(fd);
	x.fd = fd;
	if (use_epoll)
		xfer_epoll_setup(&x);
	xfer_run(&x);
	report(&x);
	close(fd);
	return 0;
}

static int run_client(int argc, char **argv)
{
	struct xfer x = { .send_seed = SEED_CLIENT, .recv_seed = SEED_SERVER,
			  .epfd = -1 };
	struct sockaddr_mig addr = { 0 };
	struct timeval tv = { .tv_sec = 10 };
	int family, fd, i = 6;

	role = "mig_echo client";
	if (argc < 6)
		die("usage: client NODE PORT BYTES RATE [PIDFILE] [--pause-every N]");
	family = family_or_die();
	addr.smig_family = family;
	addr.smig_node = parse_num(argv[2], "NODE");
	addr.smig_port = htons(parse_num(argv[3], "PORT"));
	x.total = parse_num(argv[4], "BYTES");
	x.rate = parse_num(argv[5], "RATE");
	if (i < argc && strncmp(argv[i], "--", 2))
		write_pidfile(argv[i++]);
	if (i + 1 < argc && !strcmp(argv[i], "--pause-every")) {
		set_pause_every(&x, argv[i + 1]);
		i += 2;
	}
	if (i != argc)
		die("unknown argument %s", argv[i]);

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket(%d): %s", family, strerror(errno));
	/* A bounded connect: a broken cluster fails the test, not hangs it. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		die("SO_SNDTIMEO: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		die("connect to %s:%s: %s", argv[2], argv[3], strerror(errno));
	set_nonblock(fd);
	say_connected(fd);
	x.fd = fd;
	xfer_run(&x);
	report(&x);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	role = "mig_echo";
	if (argc >= 2 && !strcmp(argv[1], "server"))
		return run_server(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return run_client(argc, argv);
	fprintf(stderr, "usage: %s server PORT BYTES RATE PIDFILE [--unknown-socket] [--epoll] [--pause-every N]\n"
		"       %s client NODE PORT BYTES RATE [PIDFILE] [--pause-every N]\n",
		argv[0], argv[0]);
	return 2;
}
