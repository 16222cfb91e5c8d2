// SPDX-License-Identifier: GPL-2.0
/*
 * streambench: the same three stream measurements over kernel TCP and over
 * AF_MIGTCP, so that bench/transport.sh can compare them in one VM run.
 *
 *   streambench server [-p PORT]
 *	Listens with both transports at once (TCP on every IPv4 address,
 *	AF_MIGTCP on this node) on PORT (bulk sink), PORT+1 (echo), PORT+2
 *	(connect/close) and PORT+3 (idle), prints "ready" and serves until
 *	killed.
 *
 *   streambench client -x tcp|migtcp -m bulk|sendfile|rr|crr|idle -d SERVER
 *		[-p PORT] [-t SECONDS] [-P STREAMS] [-n CONNECTIONS]
 *	Runs one measurement against the server (SERVER is an IPv4 address
 *	for tcp, a node id for migtcp) and prints one JSON object on stdout.
 *
 * The measurements:
 *   bulk  STREAMS connections, each written with 64 KiB buffers for
 *	   SECONDS; each then shuts down its sending side and the server
 *	   answers with the number of bytes it read.  Throughput is the sum
 *	   of those counts over the time from the start until the last
 *	   answer, so data still queued at the deadline is counted only once
 *	   it has really arrived.  A count that differs from what was
 *	   written is an error.
 *   sendfile  as bulk, but each stream sends a 16 MiB file in memory
 *	   (memfd) round and round with sendfile() of 64 KiB: the path of a
 *	   web server's static files, where the transport takes the file's
 *	   pages by reference instead of copying them.
 *   rr	   one connection, 1-byte request and 1-byte response in turn for
 *	   SECONDS: transactions per second, median and 99th percentile of
 *	   the round trip.
 *   crr   for SECONDS: connect, shut down the sending side, wait for the
 *	   server's close (it accepts, reads to end of file and closes),
 *	   close.  Connections per second; the client ends in TIME_WAIT.
 *   idle  kernel memory of CONNECTIONS established, idle connections:
 *	   /proc/slabinfo and /proc/meminfo are read, the connections are
 *	   opened (the server accepts each, holds it and sends one byte,
 *	   which the client reads, so that both ends are known to exist),
 *	   left idle for SECONDS, and read again.  Both nodes share one
 *	   kernel, so the delta is the cost of both ends: two sockets, with
 *	   their files, per connection.  The client then shuts down, waits
 *	   for the server's close, closes and, SECONDS later, reads the
 *	   counters a third time: what is left is the cost of TIME_WAIT.
 *	   Nothing else runs in the client meanwhile, and the server's
 *	   bookkeeping keeps no kernel memory per connection (no epoll, no
 *	   blocking poll), so the delta is the sockets' own.
 *
 * No socket option is set on either transport (AF_MIGTCP has none yet), so
 * both run with their defaults: Nagle on, delayed acknowledgements, default
 * buffer sizes.  Only SO_RCVTIMEO and SO_SNDTIMEO are set, at SOL_SOCKET,
 * as a guard: a connection that stalls for GUARD_SEC fails the
 * measurement instead of hanging it.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>

#include "common.h"

#define BULK_BUF	(64 * 1024)
#define SENDFILE_SIZE	(16 * 1024 * 1024)
#define MAX_STREAMS	64
#define MAX_SECONDS	3600
#define DEFAULT_PORT	5201
#define PORT_BULK	0
#define PORT_ECHO	1
#define PORT_CRR	2
#define PORT_IDLE	3
#define NR_PORTS	4
/* Longest time a blocking call may take before the run counts as stalled. */
#define GUARD_SEC	15
#define CONNECT_RETRY_MS 10000
/* Idle connections: at most this many, and file descriptors to match. */
#define MAX_IDLE	8000
#define IDLE_NOFILE	8192
/* How often the server looks for idle connections the client closed. */
#define IDLE_SWEEP_MS	250

enum transport { T_TCP, T_MIGTCP };

struct target {
	enum transport transport;
	int family;		/* AF_INET, or AF_MIGTCP's number in use */
	struct in_addr ip;	/* tcp */
	uint32_t node;		/* migtcp */
	uint16_t port;		/* base port */
};

static const char *transport_name(enum transport t)
{
	return t == T_TCP ? "tcp" : "migtcp";
}

/*
 * Lets this process hold @want file descriptors and grows its descriptor
 * table to that size now, so that the table's growth is not counted in a
 * memory measurement later.  Returns 0, or -1 with errno set.
 */
static int reserve_fds(unsigned int want)
{
	struct rlimit rl;
	int fd;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (rl.rlim_max < want)
			rl.rlim_max = want;	/* needs CAP_SYS_RESOURCE */
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return -1;
	}
	fd = dup2(STDERR_FILENO, want - 1);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* A connected socket, or -1 with errno set. */
static int dial(const struct target *t, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sock_addr(t->family, &t->ip, t->node, port, &ss);
	int fd, err;

	fd = socket(t->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (set_guard(fd, GUARD_SEC) ||
	    connect(fd, (struct sockaddr *)&ss, len)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* As dial(), but waits up to CONNECT_RETRY_MS for the server to listen. */
static int dial_patiently(const struct target *t, uint16_t port)
{
	double give_up = mono_s() + CONNECT_RETRY_MS / 1000.0;
	int fd;

	for (;;) {
		fd = dial(t, port);
		if (fd >= 0 || errno != ECONNREFUSED || mono_s() > give_up)
			return fd;
		usleep(50 * 1000);
	}
}

 /* ---------------------------------------------------------------- server */

struct listener {
	int fd;
	int kind;		/* PORT_BULK, PORT_ECHO, PORT_CRR */
	const char *name;
};

/* Reads to end of file, then answers with the byte count (8 bytes, BE). */
static void *serve_bulk(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static __thread char buf[BULK_BUF];
	uint64_t total = 0, be;
	ssize_t n;

	while ((n = recv_some(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n == 0) {
		be = htobe64(total);
		if (write_all(fd, &be, sizeof(be)))
			perror("streambench server: bulk answer");
	} else {
		perror("streambench server: bulk recv");
	}
	close(fd);
	return NULL;
}

static void *serve_echo(void *arg)
{
	int fd = (int)(intptr_t)arg;

	if (echo_all(fd))
		perror("streambench server: echo");
	close(fd);
	return NULL;
}

/* Connect/close: read to end of file (the client shut down), close. */
static void serve_crr(int fd)
{
	char buf[64];

	while (recv_some(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

static void *accept_loop(void *arg)
{
	const struct listener *l = arg;
	pthread_t th;

	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "streambench server: accept on %s: %s\n",
				l->name, strerror(errno));
			usleep(100 * 1000);
			continue;
		}
		/* A generous guard: a stalled client must not pin a thread. */
		set_guard(fd, 4 * GUARD_SEC);
		if (l->kind == PORT_CRR) {
			serve_crr(fd);
			continue;
		}
		if (pthread_create(&th, NULL,
				   l->kind == PORT_BULK ? serve_bulk : serve_echo,
				   (void *)(intptr_t)fd)) {
			fprintf(stderr, "streambench server: no thread\n");
			close(fd);
			continue;
		}
		pthread_detach(th);
	}
	return NULL;
}

/*
 * Idle connections: accept, send one byte to say so, and hold each until
 * the client shuts it down.  One thread; instead of epoll or a blocking
 * poll() over the held sockets, which would keep kernel memory per
 * connection (epoll items, poll table entries) and blur the client's
 * measurement, it sweeps them with a poll() that does not wait.
 */
struct idle_set {
	struct pollfd *pfd;
	int n;
};

static void idle_accept(const struct listener *l, struct idle_set *set)
{
	static const char hello = 'i';

	for (;;) {
		int fd = accept4(l->fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				fprintf(stderr, "streambench server: accept on %s: %s\n",
					l->name, strerror(errno));
			return;
		}
		if (set->n == MAX_IDLE) {
			fprintf(stderr, "streambench server: more than %d idle connections\n",
				MAX_IDLE);
			close(fd);
			continue;
		}
		if (send(fd, &hello, 1, MSG_NOSIGNAL) != 1) {
			perror("streambench server: idle greeting");
			close(fd);
			continue;
		}
		set->pfd[set->n].fd = fd;
		set->pfd[set->n].events = POLLIN | POLLRDHUP;
		set->n++;
	}
}

/* Closes the held connections the client has shut down or broken. */
static void idle_sweep(struct idle_set *set)
{
	char buf[64];
	int i, n;

	if (!set->n || poll(set->pfd, set->n, 0) <= 0)
		return;
	for (i = 0; i < set->n; i++) {
		if (!set->pfd[i].revents)
			continue;
		while ((n = recv_some(set->pfd[i].fd, buf, sizeof(buf))) > 0)
			;
		if (n < 0 && errno == EAGAIN)
			continue;	/* data, but no end of file yet */
		close(set->pfd[i].fd);
		set->pfd[i--] = set->pfd[--set->n];
	}
}

static void *idle_loop(void *arg)
{
	const struct listener *l = arg;
	struct idle_set set = { 0 };
	struct pollfd lp = { .fd = l->fd, .events = POLLIN };

	set.pfd = calloc(MAX_IDLE, sizeof(*set.pfd));
	if (!set.pfd)
		die("out of memory");
	if (fcntl(l->fd, F_SETFL, fcntl(l->fd, F_GETFL) | O_NONBLOCK))
		die("%s: O_NONBLOCK: %s", l->name, strerror(errno));
	for (;;) {
		if (poll(&lp, 1, IDLE_SWEEP_MS) > 0)
			idle_accept(l, &set);
		idle_sweep(&set);
	}
	return NULL;
}

static int listen_on(enum transport t, int family, uint16_t port,
		     int backlog)
{
	struct sockaddr_storage ss;
	/* Every IPv4 address, or this node. */
	socklen_t len = sock_addr(family, NULL, 0, port, &ss);
	int fd, one = 1;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("%s socket: %s", transport_name(t), strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("%s SO_REUSEADDR: %s", transport_name(t), strerror(errno));
	if (bind(fd, (struct sockaddr *)&ss, len))
		die("%s bind port %u: %s", transport_name(t), port,
		    strerror(errno));
	if (listen(fd, backlog))
		die("%s listen: %s", transport_name(t), strerror(errno));
	return fd;
}

static int run_server(uint16_t port)
{
	static const char * const kinds[NR_PORTS] = {
		"bulk", "echo", "crr", "idle"
	};
	static struct listener ls[2][NR_PORTS];
	static char names[2][NR_PORTS][32];
	int family = migtcp_family();
	pthread_t th;
	int t, k;
	int last = T_MIGTCP;

	/* Without the module, TCP alone can still be served. */
	if (family < 0) {
		fprintf(stderr, "streambench server: migtcp is not loaded (%s): serving TCP only\n",
			strerror(-family));
		last = T_TCP;
	}
	signal(SIGPIPE, SIG_IGN);
	if (reserve_fds(IDLE_NOFILE))
		die("cannot allow %d open files: %s", IDLE_NOFILE,
		    strerror(errno));
	for (t = T_TCP; t <= last; t++) {
		for (k = 0; k < NR_PORTS; k++) {
			struct listener *l = &ls[t][k];

			snprintf(names[t][k], sizeof(names[t][k]), "%s %s:%u",
				 transport_name(t), kinds[k], port + k);
			l->name = names[t][k];
			l->kind = k;
			l->fd = listen_on(t, t == T_TCP ? AF_INET : family,
					  port + k, k == PORT_IDLE ? 1024 : 128);
			if (pthread_create(&th, NULL, k == PORT_IDLE ?
					   idle_loop : accept_loop, l))
				die("cannot start a thread");
			pthread_detach(th);
		}
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

/* ---------------------------------------------------------------- client */

struct result {
	char error[160];
};

static void set_error(struct result *r, const char *what, int err)
{
	if (!r->error[0])
		snprintf(r->error, sizeof(r->error), "%s: %s", what,
			 strerror(err));
}

static void json_head(const struct target *t, const char *test, int streams,
		      double secs)
{
	printf("{\"test\":\"%s\",\"transport\":\"%s\",\"streams\":%d,"
	       "\"seconds_requested\":%g,\"socket_options\":\"none\"",
	       test, transport_name(t->transport), streams, secs);
}

/* Ends the JSON object; returns the exit status. */
static int json_tail(const struct result *r)
{
	if (r->error[0]) {
		printf(",\"error\":\"");
		for (const char *p = r->error; *p; p++)
			printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
		printf("\"}\n");
		return 1;
	}
	printf("}\n");
	return 0;
}

struct stream {
	pthread_t th;
	int fd;
	double deadline;
	uint64_t sent;		/* written so far; the main thread samples it */
	double max_block;	/* longest single 64 KiB write, seconds */
	int file;		/* sendfile() from it when >= 0 */
	uint64_t acked;		/* what the server says it read */
	double done;		/* when its answer came */
	int err;
	const char *what;
};

static pthread_barrier_t start_line;

/* sendfile() of @len bytes of @file from *@off to @fd, all of them. */
static int send_file_all(int fd, int file, off_t *off, size_t len)
{
	ssize_t n;

	for (; len; len -= n) {
		n = sendfile(fd, file, off, len);
		if (n <= 0) {
			if (!n)
				errno = EIO;
			return -1;
		}
	}
	return 0;
}

/* A memfd of SENDFILE_SIZE bytes of 0xa5: sendfile()'s source. */
static int sendfile_source(void)
{
	static char buf[BULK_BUF];
	int fd = memfd_create("streambench", MFD_CLOEXEC);
	size_t done;

	if (fd < 0)
		die("memfd_create: %s", strerror(errno));
	memset(buf, 0xa5, sizeof(buf));
	for (done = 0; done < SENDFILE_SIZE; done += sizeof(buf))
		if (write_all(fd, buf, sizeof(buf)))
			die("writing the memfd: %s", strerror(errno));
	return fd;
}

static void *bulk_stream(void *arg)
{
	struct stream *s = arg;
	static __thread char buf[BULK_BUF];
	uint64_t be;

	off_t off = 0;

	memset(buf, 0xa5, sizeof(buf));
	pthread_barrier_wait(&start_line);
	for (double t0 = mono_s(), t1; t0 < s->deadline; t0 = t1) {
		if (s->file >= 0) {
			if (off == SENDFILE_SIZE)
				off = 0;
			if (send_file_all(s->fd, s->file, &off, sizeof(buf))) {
				s->err = errno;
				s->what = "sendfile";
				return NULL;
			}
		} else if (write_all(s->fd, buf, sizeof(buf))) {
			s->err = errno;
			s->what = "send";
			return NULL;
		}
		t1 = mono_s();
		if (t1 - t0 > s->max_block)
			s->max_block = t1 - t0;
		__atomic_store_n(&s->sent, s->sent + sizeof(buf),
				 __ATOMIC_RELAXED);
	}
	if (shutdown(s->fd, SHUT_WR)) {
		s->err = errno;
		s->what = "shutdown";
		return NULL;
	}
	if (read_all(s->fd, &be, sizeof(be))) {
		s->err = errno;
		s->what = "waiting for the server's byte count";
		return NULL;
	}
	s->done = mono_s();
	s->acked = be64toh(be);
	return NULL;
}

/*
 * Samples what the writers wrote, once a second until the deadline, into
 * @per_sec (Mbit/s written in each second).  Returns the number of samples.
 */
static int sample_writes(struct stream *s, int streams, double start,
			 double secs, double *per_sec)
{
	uint64_t before = 0, total;
	int n = 0, i;

	while (n < MAX_SECONDS && n + 1 <= secs) {
		double until = start + n + 1, left;

		while ((left = until - mono_s()) > 0)
			usleep(left * 1e6 + 1);
		total = 0;
		for (i = 0; i < streams; i++)
			total += __atomic_load_n(&s[i].sent, __ATOMIC_RELAXED);
		per_sec[n++] = (total - before) * 8 / 1e6;
		before = total;
	}
	return n;
}

static int run_bulk(const struct target *t, const char *test, double secs,
		    int streams)
{
	int file = strcmp(test, "sendfile") ? -1 : sendfile_source();
	struct stream s[MAX_STREAMS] = { 0 };
	struct result r = { 0 };
	uint64_t sent = 0, acked = 0;
	double start, end = 0, max_block = 0;
	double per_sec[MAX_SECONDS];
	int nsamples = 0;
	int i, started = 0;

	for (i = 0; i < streams; i++) {
		s[i].fd = -1;
		s[i].file = file;
	}
	for (i = 0; i < streams; i++) {
		s[i].fd = dial_patiently(t, t->port + PORT_BULK);
		if (s[i].fd < 0) {
			set_error(&r, "connect", errno);
			break;
		}
	}
	if (r.error[0])
		goto out;
	pthread_barrier_init(&start_line, NULL, streams + 1);
	start = mono_s();
	for (i = 0; i < streams; i++) {
		s[i].deadline = start + secs;
		if (pthread_create(&s[i].th, NULL, bulk_stream, &s[i]))
			die("cannot start a thread");
		started++;
	}
	pthread_barrier_wait(&start_line);
	nsamples = sample_writes(s, streams, start, secs, per_sec);
	for (i = 0; i < started; i++) {
		pthread_join(s[i].th, NULL);
		if (s[i].max_block > max_block)
			max_block = s[i].max_block;
		if (s[i].err) {
			set_error(&r, s[i].what, s[i].err);
			continue;
		}
		sent += s[i].sent;
		acked += s[i].acked;
		if (s[i].done > end)
			end = s[i].done;
		if (s[i].acked != s[i].sent && !r.error[0])
			snprintf(r.error, sizeof(r.error),
				 "stream %d: wrote %" PRIu64
				 " bytes, server read %" PRIu64, i,
				 s[i].sent, s[i].acked);
	}
	pthread_barrier_destroy(&start_line);
	json_head(t, test, streams, secs);
	if (!r.error[0])
		printf(",\"seconds\":%.4f,\"bytes\":%" PRIu64
		       ",\"mbit_s\":%.2f", end - start, acked,
		       acked * 8 / (end - start) / 1e6);
	else
		printf(",\"bytes_written\":%" PRIu64, sent);
	/* How steady the streams were, as the writers saw them. */
	printf(",\"max_write_block_ms\":%.1f,\"written_mbit_s_per_second\":[",
	       max_block * 1e3);
	for (i = 0; i < nsamples; i++)
		printf("%s%.1f", i ? "," : "", per_sec[i]);
	printf("]");
out:
	for (i = 0; i < streams; i++)
		if (s[i].fd >= 0)
			close(s[i].fd);
	if (started == 0)
		json_head(t, test, streams, secs);
	if (file >= 0)
		close(file);
	return json_tail(&r);
}

/* Round trips in nanoseconds, grown as needed. */
struct samples {
	uint32_t *v;
	size_t n, cap;
};

static void sample_add(struct samples *s, double secs)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 65536;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
	}
	s->v[s->n++] = secs * 1e9 > UINT32_MAX ? UINT32_MAX :
		       (uint32_t)(secs * 1e9);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples, in microseconds. */
static double percentile_us(const struct samples *s, double p)
{
	size_t rank;

	if (!s->n)
		return 0;
	rank = (size_t)(p / 100.0 * s->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->v[rank - 1] / 1e3;
}

static void print_latency(struct samples *s)
{
	qsort(s->v, s->n, sizeof(*s->v), cmp_u32);
	printf(",\"p50_us\":%.1f,\"p99_us\":%.1f,\"min_us\":%.1f,"
	       "\"max_us\":%.1f", percentile_us(s, 50), percentile_us(s, 99),
	       percentile_us(s, 0), percentile_us(s, 100));
}

static int run_rr(const struct target *t, double secs)
{
	struct samples lat = { 0 };
	struct result r = { 0 };
	double start, end, t0, t1;
	unsigned char out = 0, in;
	int fd;

	fd = dial_patiently(t, t->port + PORT_ECHO);
	if (fd < 0) {
		set_error(&r, "connect", errno);
		json_head(t, "rr", 1, secs);
		return json_tail(&r);
	}
	start = mono_s();
	end = start + secs;
	for (t0 = start; t0 < end; t0 = t1) {
		out++;
		if (write_all(fd, &out, 1)) {
			set_error(&r, "send", errno);
			break;
		}
		if (read_all(fd, &in, 1)) {
			set_error(&r, "recv", errno);
			break;
		}
		t1 = mono_s();
		if (in != out) {
			snprintf(r.error, sizeof(r.error),
				 "echo returned byte %u for %u", in, out);
			break;
		}
		sample_add(&lat, t1 - t0);
	}
	end = mono_s();
	close(fd);
	json_head(t, "rr", 1, secs);
	printf(",\"seconds\":%.4f,\"transactions\":%zu,\"tps\":%.1f",
	       end - start, lat.n, lat.n / (end - start));
	print_latency(&lat);
	free(lat.v);
	return json_tail(&r);
}

/* One connect, half-close, wait for the server's close, close. */
static int crr_once(const struct target *t, struct result *r)
{
	char c;
	ssize_t n;
	int fd;

	fd = dial(t, t->port + PORT_CRR);
	if (fd < 0) {
		set_error(r, "connect", errno);
		return -1;
	}
	if (shutdown(fd, SHUT_WR)) {
		set_error(r, "shutdown", errno);
		close(fd);
		return -1;
	}
	n = recv_some(fd, &c, 1);
	if (n != 0) {
		if (n > 0)
			snprintf(r->error, sizeof(r->error),
				 "server sent data instead of closing");
		else
			set_error(r, "waiting for the server's close", errno);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int run_crr(const struct target *t, double secs)
{
	struct samples lat = { 0 };
	struct result r = { 0 };
	double start, end, t0, t1;
	int fd;

	/* The first connection may wait for the server to listen. */
	fd = dial_patiently(t, t->port + PORT_CRR);
	if (fd < 0) {
		set_error(&r, "connect", errno);
		json_head(t, "crr", 1, secs);
		return json_tail(&r);
	}
	close(fd);
	start = mono_s();
	end = start + secs;
	for (t0 = start; t0 < end; t0 = t1) {
		if (crr_once(t, &r))
			break;
		t1 = mono_s();
		sample_add(&lat, t1 - t0);
	}
	end = mono_s();
	json_head(t, "crr", 1, secs);
	printf(",\"seconds\":%.4f,\"connections\":%zu,\"conn_s\":%.1f",
	       end - start, lat.n, lat.n / (end - start));
	print_latency(&lat);
	free(lat.v);
	return json_tail(&r);
}

/* ---------------------------------------------------- idle connections */

#define MAX_CACHES	512

/* One reading of the kernel's slab counters. */
struct slab_snapshot {
	int n;
	struct {
		char name[64];
		long objs;	/* active objects */
		long size;	/* object size, bytes */
	} cache[MAX_CACHES];
	long slab_kb, reclaimable_kb, unreclaimable_kb;	/* /proc/meminfo */
};

static int read_slabinfo(struct slab_snapshot *s)
{
	char line[512];
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	s->n = 0;
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		long objs, total, size;

		if (sscanf(line, "%63s %ld %ld %ld", name, &objs, &total,
			   &size) != 4)
			continue;	/* the two header lines */
		if (s->n == MAX_CACHES) {
			fclose(f);
			errno = E2BIG;
			return -1;
		}
		strcpy(s->cache[s->n].name, name);
		s->cache[s->n].objs = objs;
		s->cache[s->n].size = size;
		s->n++;
	}
	fclose(f);
	return 0;
}

static int read_meminfo(struct slab_snapshot *s)
{
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		found += sscanf(line, "Slab: %ld", &s->slab_kb) +
			 sscanf(line, "SReclaimable: %ld", &s->reclaimable_kb) +
			 sscanf(line, "SUnreclaim: %ld", &s->unreclaimable_kb);
	fclose(f);
	if (found != 3) {
		errno = ENODATA;
		return -1;
	}
	return 0;
}

static int snapshot(struct slab_snapshot *s)
{
	return read_slabinfo(s) || read_meminfo(s) ? -1 : 0;
}

/* The index of cache @name in @s, or -1. */
static int find_cache(const struct slab_snapshot *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->cache[i].name, name))
			return i;
	return -1;
}

static long cache_bytes(const struct slab_snapshot *s, int i)
{
	return i < 0 ? 0 : s->cache[i].objs * s->cache[i].size;
}

struct cache_delta {
	const char *name;
	long size, objs, bytes;
};

static int cmp_delta(const void *a, const void *b)
{
	const struct cache_delta *x = a, *y = b;

	return (y->bytes > x->bytes) - (y->bytes < x->bytes);
}

/*
 * Prints, as JSON members named after @what, the difference from @a to @b
 * per connection: the sum over all caches, /proc/meminfo's Slab, and each
 * cache whose share is at least one byte per connection, largest first.
 * Caches are matched by name, so one that appeared in between counts whole.
 */
static void print_slab_delta(const char *what, const struct slab_snapshot *a,
			     const struct slab_snapshot *b, int conns)
{
	static struct cache_delta d[MAX_CACHES];
	long total = 0;
	int i, n = 0;

	for (i = 0; i < b->n; i++) {
		long bytes = cache_bytes(b, i) -
			     cache_bytes(a, find_cache(a, b->cache[i].name));

		total += bytes;
		if (labs(bytes) < conns)
			continue;
		d[n].name = b->cache[i].name;
		d[n].size = b->cache[i].size;
		d[n].bytes = bytes;
		d[n].objs = bytes / b->cache[i].size;
		n++;
	}
	/* Caches that disappeared, if any, gave all their objects back. */
	for (i = 0; i < a->n; i++)
		if (find_cache(b, a->cache[i].name) < 0)
			total -= cache_bytes(a, i);
	qsort(d, n, sizeof(*d), cmp_delta);
	printf(",\"%s\":{\"slabinfo_bytes\":%ld,\"slabinfo_bytes_per_conn\":%.1f,"
	       "\"meminfo_slab_kb\":%ld,\"meminfo_sreclaimable_kb\":%ld,"
	       "\"meminfo_sunreclaim_kb\":%ld,\"meminfo_slab_bytes_per_conn\":%.1f,"
	       "\"caches\":[", what, total, (double)total / conns,
	       b->slab_kb - a->slab_kb, b->reclaimable_kb - a->reclaimable_kb,
	       b->unreclaimable_kb - a->unreclaimable_kb,
	       (b->slab_kb - a->slab_kb) * 1024.0 / conns);
	for (i = 0; i < n; i++)
		printf("%s{\"name\":\"%s\",\"objsize\":%ld,\"objs\":%ld,"
		       "\"bytes\":%ld,\"bytes_per_conn\":%.1f}", i ? "," : "",
		       d[i].name, d[i].size, d[i].objs, d[i].bytes,
		       (double)d[i].bytes / conns);
	printf("]}");
}

/* Reads the server's one-byte greeting; 0, or -1 with errno set. */
static int read_greeting(int fd)
{
	ssize_t n;
	char c;

	n = recv_some(fd, &c, 1);
	if (n == 1)
		return 0;
	if (n == 0)
		errno = EPIPE;
	return -1;
}

/* Half-closes every connection, waits for the server's close, closes. */
static void idle_close(int *fd, int n, struct result *r)
{
	ssize_t got;
	char c;
	int i;

	for (i = 0; i < n; i++)
		if (shutdown(fd[i], SHUT_WR))
			set_error(r, "shutdown", errno);
	for (i = 0; i < n; i++) {
		got = recv_some(fd[i], &c, 1);
		if (got < 0)
			set_error(r, "waiting for the server's close", errno);
		else if (got > 0 && !r->error[0])
			snprintf(r->error, sizeof(r->error),
				 "server sent data instead of closing");
		close(fd[i]);
	}
}

static int run_idle(const struct target *t, double secs, int conns)
{
	static struct slab_snapshot before, established, closed;
	struct result r = { 0 };
	double start, opened = 0;
	int *fd, n = 0, i;

	fd = calloc(conns, sizeof(*fd));
	if (!fd)
		die("out of memory");
	if (reserve_fds(conns + 64))
		die("cannot allow %d open files: %s", conns + 64,
		    strerror(errno));
	/* The server is listening: no measurement runs before it is. */
	fd[0] = dial_patiently(t, t->port + PORT_IDLE);
	if (fd[0] < 0) {
		set_error(&r, "connect", errno);
		goto out;
	}
	if (read_greeting(fd[0])) {
		set_error(&r, "waiting for the server's greeting", errno);
		close(fd[0]);
		goto out;
	}
	idle_close(fd, 1, &r);
	if (r.error[0])
		goto out;
	sleep_s(secs);

	if (snapshot(&before)) {
		set_error(&r, "reading /proc/slabinfo and /proc/meminfo", errno);
		goto out;
	}
	start = mono_s();
	for (n = 0; n < conns; n++) {
		fd[n] = dial(t, t->port + PORT_IDLE);
		if (fd[n] < 0) {
			set_error(&r, "connect", errno);
			break;
		}
	}
	for (i = 0; i < n && !r.error[0]; i++)
		if (read_greeting(fd[i]))
			set_error(&r, "waiting for the server's greeting",
				  errno);
	opened = mono_s() - start;
	if (!r.error[0]) {
		sleep_s(secs);
		if (snapshot(&established))
			set_error(&r, "reading /proc/slabinfo and /proc/meminfo",
				  errno);
	}
	idle_close(fd, n, &r);
	if (!r.error[0]) {
		sleep_s(secs);
		if (snapshot(&closed))
			set_error(&r, "reading /proc/slabinfo and /proc/meminfo",
				  errno);
	}
out:
	free(fd);
	json_head(t, "idle", 1, secs);
	printf(",\"connections\":%d,\"sockets_per_conn\":2,"
	       "\"open_seconds\":%.3f,\"settle_seconds\":%g",
	       n, opened, secs);
	if (!r.error[0]) {
		print_slab_delta("established", &before, &established, conns);
		print_slab_delta("closed", &before, &closed, conns);
	}
	return json_tail(&r);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: streambench server [-p PORT]\n"
		"       streambench client -x tcp|migtcp -m bulk|sendfile|rr|crr|idle\n"
		"                          -d SERVER [-p PORT] [-t SECONDS] [-P STREAMS]\n"
		"                          [-n CONNECTIONS]\n"
		"SERVER is an IPv4 address (tcp) or a node id (migtcp).\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode, *test = NULL, *transport = NULL, *server = NULL;
	struct target t = { .port = DEFAULT_PORT };
	double secs = 5;
	int streams = 1, conns = 1000, opt;

	prog_name = "streambench";
	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "x:m:d:p:t:P:n:")) != -1) {
		switch (opt) {
		case 'x': transport = optarg; break;
		case 'm': test = optarg; break;
		case 'd': server = optarg; break;
		case 'p':
			t.port = parse_long(optarg, 1, 65536 - NR_PORTS, "port");
			break;
		case 't':
			secs = strtod(optarg, NULL);
			if (!(secs > 0 && secs <= 3600))
				die("bad duration '%s'", optarg);
			break;
		case 'P':
			streams = parse_long(optarg, 1, MAX_STREAMS, "streams");
			break;
		case 'n':
			conns = parse_long(optarg, 1, MAX_IDLE, "connections");
			break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "server"))
		return run_server(t.port);
	if (strcmp(mode, "client") || !test || !transport || !server)
		usage();

	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(transport, "tcp")) {
		t.transport = T_TCP;
		t.family = AF_INET;
		if (inet_pton(AF_INET, server, &t.ip) != 1)
			die("bad IPv4 address '%s'", server);
	} else if (!strcmp(transport, "migtcp")) {
		t.transport = T_MIGTCP;
		t.family = migtcp_family();
		if (t.family < 0)
			die("the migtcp module is not loaded (%s)",
			    strerror(-t.family));
		t.node = parse_long(server, 1, UINT32_MAX, "node id");
	} else {
		usage();
	}
	if (!strcmp(test, "bulk") || !strcmp(test, "sendfile"))
		return run_bulk(&t, test, secs, streams);
	if (!strcmp(test, "rr"))
		return run_rr(&t, secs);
	if (!strcmp(test, "crr"))
		return run_crr(&t, secs);
	if (!strcmp(test, "idle"))
		return run_idle(&t, secs, conns);
	usage();
	return 2;
}
