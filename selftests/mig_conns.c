// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of criu_test.sh: many AF_MIGTCP connections in one process, each
 * carrying a small verifiable exchange both ways, in steps that the test
 * drives with SIGUSR1, so that a process can be checkpointed with data
 * unread and unacknowledged on every connection, or with connections
 * waiting in its listener's accept queue.
 *
 *   mig_conns server PORT N K PIDFILE [--steps] [--late-accept] [--stall S]
 *   mig_conns client NODE PORT N K [--steps] [--stall S]
 *
 * The server listens on PORT of its node (backlog N), writes its pid to
 * PIDFILE, says "listening", accepts N connections (with --late-accept
 * only after a SIGUSR1) and closes the listener; the client opens N
 * connections to NODE:PORT and says "connected N".  With N at most 16,
 * each then lists its connections, sorted, one line each: "conn LOCAL
 * REMOTE" (N:P endpoints).
 *
 * Each end of each connection sends 3 * K bytes, its stream: byte i is
 * byte i % 8 of splitmix64(i / 8 + seed), the seed made of the direction
 * and the client's port, so that a byte of another connection, or one
 * lost, duplicated or reordered, shows.  It checks every byte it receives
 * against the other end's stream.
 *
 *   1. Each end writes the first K bytes of its stream on every
 *      connection (without --steps: the whole stream), then waits until
 *      they are all acknowledged (SIOCOUTQ 0) and, with --steps, until
 *      the peer's first K bytes are there unread on every connection
 *      (SIOCINQ K), without reading them; says "ready N".
 *   2. With --steps: waits for a SIGUSR1, writes the next K bytes on
 *      every connection, says "sent N", and waits for another SIGUSR1.
 *   3. Writes the rest of its stream and reads and checks the peer's
 *      whole stream, then shuts down its sending side and waits for the
 *      peer's end of stream, on all connections at once.  Then says "done N
 *      connections sent 3K received 3K each" (numbers) and exits 0.
 *
 * Any error prints a line saying what went wrong (connection, offset,
 * bytes) and exits 1, so does a step without progress for 60 s (or S:
 * a migration between machines holds a step up for longer).  The
 * soft RLIMIT_NOFILE is raised to what N connections need.
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
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "migtcp.h"
#include "mig_prog.h"

#define SEED_SERVER	0x5e000000ULL
#define SEED_CLIENT	0xc1000000ULL

/* How long a step may go without progress; --stall changes it. */
static long stall_ms = 60000;
#define LIST_MAX	16
#define BUF_SIZE	65536

struct conn {
	int fd;
	unsigned int cport;		/* the client's port: the seeds */
	uint64_t sent, received;
	bool shut, eof;
	char local[32], remote[32];
};

static bool is_server;
static volatile sig_atomic_t signals;	/* SIGUSR1s received */
static int signals_used;			/* ... and waited for */

static uint64_t send_seed(const struct conn *c)
{
	return (is_server ? SEED_SERVER : SEED_CLIENT) + c->cport;
}

static uint64_t recv_seed(const struct conn *c)
{
	return (is_server ? SEED_CLIENT : SEED_SERVER) + c->cport;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);	/* EINTR: the callers look again */
}

static void on_sigusr1(int sig)
{
	(void)sig;
	signals++;
}

/*
 * Until the next SIGUSR1, counted from the start: one that came early is
 * not missed.  Polled, so that no wakeup is lost either.
 */
static void wait_next_signal(void)
{
	long start = now_ms();

	signals_used++;
	while (signals < signals_used) {
		if (now_ms() - start > 2 * stall_ms)
			die("no SIGUSR1 number %d after %ld s", signals_used,
			    2 * stall_ms / 1000);
		sleep_ms(10);
	}
}

/* Endpoints and seeds of a new connection; non-blocking from now on. */
static void conn_init(struct conn *c, int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK))
		die("O_NONBLOCK: %s", strerror(errno));
	c->fd = fd;
	endpoint(fd, false, c->local, sizeof(c->local),
		 is_server ? NULL : &c->cport);
	endpoint(fd, true, c->remote, sizeof(c->remote),
		 is_server ? &c->cport : NULL);
}

static int cmp_cport(const void *a, const void *b)
{
	const struct conn *x = a, *y = b;

	return (int)x->cport - (int)y->cport;
}

/* "conn LOCAL REMOTE" for each, in the order of the clients' ports. */
static void list_conns(const struct conn *c, int n)
{
	struct conn *sorted;
	int i;

	if (n > LIST_MAX)
		return;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		die("out of memory");
	memcpy(sorted, c, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_cport);
	for (i = 0; i < n; i++)
		say("conn %s %s", sorted[i].local, sorted[i].remote);
	free(sorted);
}

static int sock_ioctl(const struct conn *c, unsigned long req,
		      const char *what)
{
	int v;

	if (ioctl(c->fd, req, &v))
		die("%s on connection %s: %s", what, c->remote,
		    strerror(errno));
	return v;
}

/* Writes up to TO bytes of C's stream, as much as the socket takes. */
static bool conn_send(struct conn *c, uint64_t to)
{
	uint8_t buf[BUF_SIZE];
	uint64_t len = to - c->sent, i;
	ssize_t n;

	if (len > sizeof(buf))
		len = sizeof(buf);
	for (i = 0; i < len; i++)
		buf[i] = pattern(c->sent + i, send_seed(c));
	n = write(c->fd, buf, len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n < 0)
		die("write on %s after %llu bytes: %s", c->remote,
		    (unsigned long long)c->sent, strerror(errno));
	c->sent += n;
	return n > 0;
}

/* Reads and checks what is there of the peer's TOTAL-byte stream. */
static bool conn_recv(struct conn *c, uint64_t total)
{
	uint8_t buf[BUF_SIZE];
	ssize_t n, i;

	n = read(c->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n < 0)
		die("read on %s after %llu bytes: %s", c->remote,
		    (unsigned long long)c->received, strerror(errno));
	if (n == 0) {
		if (c->received != total)
			die("end of stream on %s after %llu of %llu bytes",
			    c->remote, (unsigned long long)c->received,
			    (unsigned long long)total);
		c->eof = true;
		return true;
	}
	if (c->received + n > total)
		die("received %llu bytes on %s, more than the %llu sent",
		    (unsigned long long)(c->received + n), c->remote,
		    (unsigned long long)total);
	for (i = 0; i < n; i++) {
		uint8_t want = pattern(c->received + i, recv_seed(c));

		if (buf[i] != want)
			die("byte %llu received on %s is 0x%02x, expected 0x%02x",
			    (unsigned long long)(c->received + i), c->remote,
			    buf[i], want);
	}
	c->received += n;
	return true;
}

/*
 * Writes every connection's stream up to TO bytes; with TOTAL, also
 * reads and checks the peer's whole TOTAL-byte stream, then shuts down
 * (so a peer that did not read yet sees no end of stream) and waits for
 * the peer's end of stream.  Without TOTAL nothing is read.
 */
static void pump(struct conn *c, int n, uint64_t to, uint64_t total)
{
	struct pollfd *p = calloc(n, sizeof(*p));
	long last = now_ms();
	int i, left;

	if (!p)
		die("out of memory");
	for (;;) {
		left = 0;
		for (i = 0; i < n; i++) {
			struct conn *x = &c[i];
			bool reading = total && !x->eof;

			if (total && x->sent == to && x->received == total &&
			    !x->shut) {
				if (shutdown(x->fd, SHUT_WR))
					die("shutdown on %s: %s", x->remote,
					    strerror(errno));
				x->shut = true;
			}
			p[i].fd = x->fd;
			p[i].events = (x->sent < to ? POLLOUT : 0) |
				      (reading ? POLLIN : 0);
			p[i].revents = 0;
			if (p[i].events)
				left++;
		}
		if (!left)
			break;
		if (poll(p, n, 1000) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			if ((p[i].revents & POLLOUT) && conn_send(&c[i], to))
				last = now_ms();
			if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    (p[i].events & POLLIN) && conn_recv(&c[i], total))
				last = now_ms();
		}
		if (now_ms() - last > stall_ms) {
			for (i = 0; i < n && !p[i].events; i++)
				;
			die("no progress for %ld s: %d connection(s) unfinished, the first %s sent %llu received %llu",
			    stall_ms / 1000, left, c[i].remote,
			    (unsigned long long)c[i].sent,
			    (unsigned long long)c[i].received);
		}
	}
	free(p);
}

/*
 * Until every connection's data is acknowledged and, if INQ is not
 * negative, INQ bytes of the peer's are there unread.
 */
static void wait_settled(const struct conn *c, int n, int inq)
{
	long start = now_ms();
	int i, outq = 0, got = inq;

	for (;;) {
		for (i = 0; i < n; i++) {
			outq = sock_ioctl(&c[i], SIOCOUTQ, "SIOCOUTQ");
			if (inq >= 0)
				got = sock_ioctl(&c[i], SIOCINQ, "SIOCINQ");
			if (outq || got != inq)
				break;
		}
		if (i == n)
			return;
		if (now_ms() - start > stall_ms)
			die("after %ld s, connection %s has %d bytes unacknowledged and %d unread (want 0 and %d)",
			    stall_ms / 1000, c[i].remote, outq, got, inq);
		sleep_ms(10);
	}
}

static void raise_nofile(int n)
{
	struct rlimit rl;
	rlim_t need = n + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need)
		rl.rlim_max = need;	/* as root: the hard limit too */
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("RLIMIT_NOFILE %llu: %s", (unsigned long long)need,
		    strerror(errno));
}

static void accept_all(int lfd, struct conn *c, int n)
{
	int i, fd;

	for (i = 0; i < n; i++) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			die("accept of connection %d of %d: %s", i + 1, n,
			    strerror(errno));
		conn_init(&c[i], fd);
	}
}

static void connect_all(int family, unsigned int node, unsigned int port,
			struct conn *c, int n)
{
	struct sockaddr_mig addr = { .smig_family = family, .smig_node = node,
				     .smig_port = htons(port) };
	/* A bounded connect: a broken cluster fails the test, not hangs it. */
	struct timeval tv = { .tv_sec = 10 };
	int i, fd;

	for (i = 0; i < n; i++) {
		fd = socket(family, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket(%d) for connection %d: %s", family, i + 1,
			    strerror(errno));
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
			die("SO_SNDTIMEO: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			die("connection %d of %d to %u:%u: %s", i + 1, n, node,
			    port, strerror(errno));
		conn_init(&c[i], fd);
	}
}

/* Steps 1 to 3 of the comment at the top. */
static void exchange(struct conn *c, int n, uint64_t k, bool steps)
{
	pump(c, n, steps ? k : 3 * k, 0);
	wait_settled(c, n, steps ? (int)k : -1);
	say("ready %d", n);
	if (steps) {
		wait_next_signal();
		pump(c, n, 2 * k, 0);
		say("sent %d", n);
		wait_next_signal();
	}
	pump(c, n, 3 * k, 3 * k);
	say("done %d connections sent %llu received %llu each", n,
	    (unsigned long long)(3 * k), (unsigned long long)(3 * k));
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	bool steps = false, late_accept = false;
	unsigned int node = 0, port;
	int family, i, n;
	struct conn *c;
	uint64_t k;

	role = "mig_conns";
	if (argc < 2 || (strcmp(argv[1], "server") && strcmp(argv[1], "client"))) {
		fprintf(stderr, "usage: %s server PORT N K PIDFILE [--steps] [--late-accept] [--stall S]\n"
			"       %s client NODE PORT N K [--steps] [--stall S]\n",
			argv[0], argv[0]);
		return 2;
	}
	is_server = !strcmp(argv[1], "server");
	role = is_server ? "mig_conns server" : "mig_conns client";
	if (argc < 6)
		die("usage: %s", is_server ?
		    "server PORT N K PIDFILE [--steps] [--late-accept] [--stall S]" :
		    "client NODE PORT N K [--steps] [--stall S]");
	for (i = 6; i < argc; i++) {
		if (!strcmp(argv[i], "--steps"))
			steps = true;
		else if (is_server && !strcmp(argv[i], "--late-accept"))
			late_accept = true;
		else if (!strcmp(argv[i], "--stall") && i + 1 < argc)
			stall_ms = 1000L * parse_num(argv[++i], "--stall");
		else
			die("unknown option %s", argv[i]);
	}
	if (!is_server)
		node = parse_num(argv[2], "NODE");
	argv += !is_server;
	port = parse_num(argv[2], "PORT");
	n = parse_num(argv[3], "N");
	k = parse_num(argv[4], "K");
	if (n < 1 || n > 65536 || k < 1 || k > (1 << 20))
		die("N must be 1 to 65536, K 1 to 1048576");

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		die("sigaction: %s", strerror(errno));
	raise_nofile(n);
	family = migtcp_family();
	if (family < 0)
		die("cannot read the family of AF_MIGTCP: %s", strerror(-family));
	c = calloc(n, sizeof(*c));
	if (!c)
		die("out of memory");

	if (is_server) {
		struct sockaddr_mig addr = { .smig_family = family,
					     .smig_port = htons(port) };
		struct timeval tv = { .tv_sec = stall_ms / 1000 };
		FILE *pidfile;
		int lfd;

		lfd = socket(family, SOCK_STREAM, 0);
		if (lfd < 0)
			die("socket(%d): %s", family, strerror(errno));
		/* accept() gives up after a while: the test fails, not hangs. */
		if (setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
		    bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
		    listen(lfd, n))
			die("bind and listen on port %u: %s", port,
			    strerror(errno));
		pidfile = fopen(argv[5], "we");
		if (!pidfile || fprintf(pidfile, "%d\n", getpid()) < 0 ||
		    fclose(pidfile))
			die("cannot write %s: %s", argv[5], strerror(errno));
		say("listening");
		if (late_accept)
			wait_next_signal();
		accept_all(lfd, c, n);
		close(lfd);
		say("accepted %d", n);
	} else {
		connect_all(family, node, port, c, n);
		say("connected %d", n);
	}
	list_conns(c, n);
	exchange(c, n, k, steps);
	for (i = 0; i < n; i++)
		close(c[i].fd);
	free(c);
	return 0;
}
