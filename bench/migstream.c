// SPDX-License-Identifier: GPL-2.0
/*
 * migstream: the two programs of the migration demo (tools/demo).  A
 * server and a client exchange two verifiable byte streams over one
 * AF_MIGTCP connection, one each way, at the same time, while the server
 * process is migrated between nodes; each end checks every byte it
 * receives against the generator (bench/migcommon.h).
 *
 *   migstream server -p PORT [-r BYTES_PER_S] [-s STATE] [-H HOLD_MS]
 *		[-M MIB] [-o SUMMARY]
 *   migstream server --restore STATE [-s STATE] [-H HOLD_MS] [-o SUMMARY]
 *	Listens on PORT of this node, serves one client, and ends when the
 *	client has shut its side down: it then shuts its own down and
 *	prints a JSON summary (bytes each way, bytes verified), also into
 *	the file SUMMARY, made then (on the node it ends on).  It prints
 *	"listening", "connected", "checkpointed" and "restored" lines as it
 *	gets there, the last two with the wall-clock time ("time T").
 *	-M holds MIB MiB of memory, every page written, as a real server
 *	holds its heap: what a migration of the process has to move.
 *
 *	Migrated with CRIU (migtcp-criu dump/restore) the server needs
 *	nothing more.  Without CRIU, SIGUSR1 migrates the connection with the
 *	socket options alone: the server freezes its socket, writes the
 *	checkpoint and its own stream positions to STATE and exits; a
 *	server started with --restore STATE on another node restores the
 *	socket there and carries on where the first left off.  This is what
 *	CRIU does for a process, done by hand for one socket and two
 *	counters: the kernel path is the same.
 *
 *   migstream client -d NODE -p PORT -t SECONDS [-r BYTES_PER_S]
 *		[-b BUCKET_MS] [-o SUMMARY]
 *	Connects to (NODE, PORT), streams for SECONDS (or until SIGUSR1)
 *	while receiving, then shuts its side down, reads to the end and
 *	prints one JSON object (into the file SUMMARY instead, made then, on
 *	the node it ends on: a client migrated too cannot keep a file of
 *	the node it started on open):
 *	the bytes sent, received and verified, the bytes received in every
 *	BUCKET_MS (default 50) and sent in it, and every gap of at least
 *	GAP_MIN_MS between received bytes, with times on the wall clock
 *	(seconds since the epoch) so they line up with the migrations the
 *	script timed.
 *
 * Both ends use one non-blocking socket and poll(), so one thread moves
 * both streams; -r caps each direction (0, the default: as fast as the
 * connection goes).
 */
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>

#include "migcommon.h"

#define BUF_SIZE	(64 * 1024)
#define SEED_S2C	0x5e7e7001ULL	/* server to client */
#define SEED_C2S	0xc11e7002ULL	/* client to server */
#define GAP_MIN_MS	5
#define MAX_GAPS	100000
/* No byte either way for this long: the run has failed (a migration
 * by CRIU under TCG takes seconds, not this). */
#define STALL_S		90
#define STATE_MAGIC	0x4d475354	/* "MGST" */
#define STATE_VERSION	1

/* One end's two streams. */
struct pump {
	int fd;
	uint64_t tx_seed, rx_seed;
	uint64_t tx_off;	/* bytes the kernel took from us */
	uint64_t rx_off;	/* bytes we read */
	int64_t first_bad;	/* offset of the first wrong byte, or -1 */
	double rate;		/* bytes/s each way, 0: no cap */
	double tokens, refilled;
	bool tx_shut, rx_eof;
	double last_progress;
};

/* The file a self-migrating server leaves for its successor. */
struct state {
	uint32_t magic, version;
	uint64_t tx_off, rx_off;
	int64_t first_bad;
	double rate;
	uint32_t instances;	/* servers that held the connection so far */
	uint32_t blob_len;
	double checkpoint_ms;	/* freeze and checkpoint, in the process */
};

/* SIGUSR1: the server migrates itself; the client stops sending. */
static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/* How many bytes the rate cap lets us send now. */
static size_t tx_allowance(struct pump *p)
{
	double now, cap;

	if (p->rate <= 0)
		return BUF_SIZE;
	now = mono_s();
	/* A burst after a stall (a migration) is capped at 50 ms worth. */
	cap = p->rate * 0.05 > BUF_SIZE ? p->rate * 0.05 : BUF_SIZE;
	p->tokens += (now - p->refilled) * p->rate;
	if (p->tokens > cap)
		p->tokens = cap;
	p->refilled = now;
	return p->tokens < 1 ? 0 : p->tokens > BUF_SIZE ? BUF_SIZE :
	       (size_t)p->tokens;
}

/* Sends what the socket and the cap take; -1 on a socket error. */
static int pump_send(struct pump *p)
{
	static uint8_t buf[BUF_SIZE];
	size_t n = tx_allowance(p);
	ssize_t sent;

	if (!n)
		return 0;
	pattern_fill(buf, n, p->tx_seed, p->tx_off);
	sent = send(p->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (sent < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	p->tx_off += sent;
	p->tokens -= sent;
	p->last_progress = mono_s();
	return 0;
}

/* Receives and checks what is there; returns the byte count, -1 on error. */
static ssize_t pump_recv(struct pump *p)
{
	static uint8_t buf[BUF_SIZE];
	ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
	long bad;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0) {
		p->rx_eof = true;
		return 0;
	}
	if (p->first_bad < 0) {
		bad = pattern_check(buf, n, p->rx_seed, p->rx_off);
		if (bad >= 0) {
			p->first_bad = p->rx_off + bad;
			fprintf(stderr, "%s: wrong byte at offset %" PRId64 "\n",
				prog_name, p->first_bad);
		}
	}
	p->rx_off += n;
	p->last_progress = mono_s();
	return n;
}

static uint64_t verified(const struct pump *p)
{
	return p->first_bad < 0 ? p->rx_off : (uint64_t)p->first_bad;
}

/*
 * One round of poll(): sends while @sending, receives always.  Returns
 * the bytes received (0 too on timeout or EINTR), -1 with errno on error.
 */
static ssize_t pump_once(struct pump *p, bool sending, int timeout_ms)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	ssize_t got = 0;
	int n;

	if (sending && !p->tx_shut) {
		if (p->rate <= 0 || tx_allowance(p))
			pfd.events |= POLLOUT;
		else if (timeout_ms > 2)
			timeout_ms = 2;	/* the next tokens */
	}
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (pfd.revents & (POLLIN | POLLERR | POLLHUP)) {
		got = pump_recv(p);
		if (got < 0)
			return -1;
	}
	if ((pfd.revents & POLLOUT) && pump_send(p))
		return -1;
	if (mono_s() - p->last_progress > STALL_S) {
		errno = ETIMEDOUT;
		return -1;
	}
	return got;
}

static int nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---------------------------------------------------------------- server */

struct server_opts {
	uint16_t port;
	double rate;
	const char *state_path;		/* where SIGUSR1 leaves the state */
	const char *restore_path;
	unsigned int hold_ms;
	const char *summary_path;	/* the summary, written at the end */
};

static void write_state(const char *path, const struct state *st,
			const void *blob)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		die("%s: %s", tmp, strerror(errno));
	if (fwrite(st, sizeof(*st), 1, f) != 1 ||
	    fwrite(blob, st->blob_len, 1, f) != 1 || fclose(f))
		die("writing %s: %s", tmp, strerror(errno));
	if (rename(tmp, path))
		die("rename %s: %s", tmp, strerror(errno));
}

static void *read_state(const char *path, struct state *st)
{
	FILE *f = fopen(path, "re");
	void *blob;

	if (!f)
		die("%s: %s", path, strerror(errno));
	if (fread(st, sizeof(*st), 1, f) != 1 || st->magic != STATE_MAGIC ||
	    st->version != STATE_VERSION || !st->blob_len ||
	    st->blob_len > 1U << 30)
		die("%s is not a migstream state file", path);
	blob = malloc(st->blob_len);
	if (!blob)
		die("out of memory");
	if (fread(blob, st->blob_len, 1, f) != 1)
		die("%s: truncated", path);
	fclose(f);
	return blob;
}

/* SIGUSR1: the connection leaves this process (and node) for @path. */
static void __attribute__((noreturn))
self_checkpoint(struct pump *p, const struct server_opts *o,
		uint32_t instances)
{
	struct state st = {
		.magic = STATE_MAGIC, .version = STATE_VERSION,
		.tx_off = p->tx_off, .rx_off = p->rx_off,
		.first_bad = p->first_bad, .rate = p->rate,
		.instances = instances,
	};
	double t0 = mono_s();
	socklen_t len;
	void *blob;

	if (!o->state_path)
		die("SIGUSR1 but no state file (-s)");
	blob = mig_checkpoint(p->fd, o->hold_ms, &len);
	if (!blob)
		die("checkpoint: %s", strerror(errno));
	st.checkpoint_ms = (mono_s() - t0) * 1e3;
	st.blob_len = len;
	write_state(o->state_path, &st, blob);
	/* Checkpointed: closing sends neither FIN nor RST. */
	close(p->fd);
	printf("checkpointed %u bytes in %.2f ms at tx %" PRIu64 " rx %" PRIu64
	       " time %.6f\n", len, st.checkpoint_ms, p->tx_off, p->rx_off,
	       real_s());
	exit(0);
}

static int accept_one(uint16_t port, int family)
{
	struct sockaddr_mig a = mig_addr(family, 0, port);
	int lfd, fd, one = 1;

	lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket: %s", strerror(errno));
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1))
		die("listen on port %u: %s", port, strerror(errno));
	printf("listening\n");
	do {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		die("accept: %s", strerror(errno));
	/* Only the connection goes with the process. */
	close(lfd);
	printf("connected\n");
	return fd;
}

static int run_server(const struct server_opts *o)
{
	struct pump p = {
		.tx_seed = SEED_S2C, .rx_seed = SEED_C2S, .first_bad = -1,
		.rate = o->rate,
	};
	uint32_t instances = 1;
	int family = migtcp_family();
	struct sigaction sa = { .sa_handler = on_usr1 };
	char summary[256];

	if (family < 0)
		die("migtcp is not loaded (%s)", strerror(-family));
	sigaction(SIGUSR1, &sa, NULL);
	if (o->restore_path) {
		struct state st;
		void *blob;
		double t0;

		printf("started time %.6f\n", real_s());
		blob = read_state(o->restore_path, &st);
		t0 = mono_s();
		p.fd = mig_restore(family, blob, st.blob_len);
		if (p.fd < 0)
			die("restore: %s", strerror(errno));
		free(blob);
		p.tx_off = st.tx_off;
		p.rx_off = st.rx_off;
		p.first_bad = st.first_bad;
		p.rate = st.rate;
		instances = st.instances + 1;
		printf("restored in %.2f ms at tx %" PRIu64 " rx %" PRIu64
		       " time %.6f\n", (mono_s() - t0) * 1e3, p.tx_off,
		       p.rx_off, real_s());
	} else {
		p.fd = accept_one(o->port, family);
	}
	if (nonblocking(p.fd))
		die("O_NONBLOCK: %s", strerror(errno));
	p.refilled = p.last_progress = mono_s();

	while (!p.rx_eof) {
		if (got_usr1)
			self_checkpoint(&p, o, instances);
		if (pump_once(&p, true, 100) < 0)
			die("connection: %s", strerror(errno));
	}
	/* The client is done sending: so are we. */
	if (shutdown(p.fd, SHUT_WR))
		die("shutdown: %s", strerror(errno));
	snprintf(summary, sizeof(summary),
		 "{\"role\":\"server\",\"tx_bytes\":%" PRIu64
		 ",\"rx_bytes\":%" PRIu64 ",\"rx_verified\":%" PRIu64
		 ",\"rx_first_bad\":%" PRId64 ",\"instances\":%u}\n",
		 p.tx_off, p.rx_off, verified(&p), p.first_bad, instances);
	fputs(summary, stdout);
	/*
	 * Opened only now, on whichever node the server ends: a file open
	 * all along would have to exist on every node it migrates to.
	 */
	if (o->summary_path) {
		FILE *f = fopen(o->summary_path, "w");

		if (!f || fputs(summary, f) < 0 || fclose(f))
			die("%s: %s", o->summary_path, strerror(errno));
	}
	/* Wait for the client's close, so that our last bytes are delivered. */
	set_guard(p.fd, 10);
	fcntl(p.fd, F_SETFL, fcntl(p.fd, F_GETFL) & ~O_NONBLOCK);
	{
		char c;

		while (recv(p.fd, &c, 1, 0) > 0)
			;
	}
	close(p.fd);
	return p.first_bad < 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- client */

struct series {
	uint64_t *v;
	size_t n, cap;
};

static void series_add(struct series *s, size_t i, uint64_t bytes)
{
	if (i >= s->cap) {
		size_t cap = s->cap ? s->cap : 1024;

		while (cap <= i)
			cap *= 2;
		s->v = realloc(s->v, cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
		memset(s->v + s->cap, 0, (cap - s->cap) * sizeof(*s->v));
		s->cap = cap;
	}
	s->v[i] += bytes;
	if (i + 1 > s->n)
		s->n = i + 1;
}

static void print_series(const char *name, const struct series *s,
			 size_t n)
{
	size_t i;

	printf(",\"%s\":[", name);
	for (i = 0; i < n; i++)
		printf("%s%" PRIu64, i ? "," : "", i < s->n ? s->v[i] : 0);
	printf("]");
}

static int run_client(uint32_t node, uint16_t port, double secs,
		      double rate, int bucket_ms, const char *summary_path)
{
	struct pump p = {
		.tx_seed = SEED_C2S, .rx_seed = SEED_S2C, .first_bad = -1,
		.rate = rate,
	};
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct series rx = { 0 }, tx = { 0 };
	static double gaps[MAX_GAPS][2];
	int family = migtcp_family(), ngaps = 0, dropped_gaps = 0;
	double t0, real0, end, last_rx, now;
	struct sockaddr_mig a;
	const char *err = NULL;
	char errbuf[160];
	uint64_t tx_seen = 0;
	size_t nb, i;

	if (family < 0)
		die("migtcp is not loaded (%s)", strerror(-family));
	a = mig_addr(family, node, port);
	p.fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p.fd < 0)
		die("socket: %s", strerror(errno));
	if (set_guard(p.fd, 15) ||
	    connect(p.fd, (struct sockaddr *)&a, sizeof(a)))
		die("connect to node %u port %u: %s", node, port,
		    strerror(errno));
	if (nonblocking(p.fd))
		die("O_NONBLOCK: %s", strerror(errno));
	t0 = mono_s();
	real0 = real_s();
	p.refilled = p.last_progress = last_rx = t0;
	end = t0 + secs;

	sigaction(SIGUSR1, &sa, NULL);
	while (!p.rx_eof) {
		bool sending = mono_s() < end && !got_usr1;
		ssize_t got;

		if (!sending && !p.tx_shut) {
			if (shutdown(p.fd, SHUT_WR)) {
				snprintf(errbuf, sizeof(errbuf), "shutdown: %s",
					 strerror(errno));
				err = errbuf;
				break;
			}
			p.tx_shut = true;
		}
		got = pump_once(&p, sending, 20);
		now = mono_s();
		if (got < 0) {
			snprintf(errbuf, sizeof(errbuf), "connection: %s",
				 strerror(errno));
			err = errbuf;
			break;
		}
		if (p.tx_off != tx_seen) {
			series_add(&tx, (size_t)((now - t0) * 1e3 / bucket_ms),
				   p.tx_off - tx_seen);
			tx_seen = p.tx_off;
		}
		if (got > 0) {
			series_add(&rx, (size_t)((now - t0) * 1e3 / bucket_ms),
				   got);
			if ((now - last_rx) * 1e3 >= GAP_MIN_MS) {
				if (ngaps < MAX_GAPS) {
					gaps[ngaps][0] = last_rx;
					gaps[ngaps][1] = now;
					ngaps++;
				} else {
					dropped_gaps++;
				}
			}
			last_rx = now;
		}
	}
	close(p.fd);

	if (summary_path && !freopen(summary_path, "w", stdout))
		die("%s: %s", summary_path, strerror(errno));
	nb = rx.n > tx.n ? rx.n : tx.n;
	printf("{\"role\":\"client\",\"t0\":%.6f,\"seconds\":%.3f,"
	       "\"bucket_ms\":%d,\"rate_limit\":%.0f,\"tx_bytes\":%" PRIu64
	       ",\"rx_bytes\":%" PRIu64 ",\"rx_verified\":%" PRIu64
	       ",\"rx_first_bad\":%" PRId64 ",\"rx_eof\":%s",
	       real0, mono_s() - t0, bucket_ms, rate, p.tx_off, p.rx_off,
	       verified(&p), p.first_bad, p.rx_eof ? "true" : "false");
	print_series("rx_buckets", &rx, nb);
	print_series("tx_buckets", &tx, nb);
	printf(",\"gap_min_ms\":%d,\"gaps_dropped\":%d,\"gaps\":[", GAP_MIN_MS,
	       dropped_gaps);
	for (i = 0; i < (size_t)ngaps; i++)
		printf("%s[%.6f,%.6f]", i ? "," : "", gaps[i][0] - t0 + real0,
		       gaps[i][1] - t0 + real0);
	printf("]");
	if (err)
		printf(",\"error\":\"%s\"", err);
	printf("}\n");
	free(rx.v);
	free(tx.v);
	return err || p.first_bad >= 0 ? 1 : 0;
}

/*
 * MIB MiB of memory held until the process ends, every page written with
 * its own contents: the pages a CRIU dump finds and copies, as it would a
 * real server's heap.
 */
static void hold_memory(unsigned long mib)
{
	size_t len = (size_t)mib << 20, off;
	uint8_t *mem;

	if (!mib)
		return;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("-M %lu: %s", mib, strerror(errno));
	for (off = 0; off < len; off += 4096)
		memset(mem + off, (int)(off >> 12), 4096);
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
		"usage: migstream server -p PORT [-r BYTES_PER_S] [-s STATE] [-H HOLD_MS] [-M MIB]\n"
		"                        [-o SUMMARY]\n"
		"       migstream server --restore STATE [-s STATE] [-H HOLD_MS] [-o SUMMARY]\n"
		"       migstream client -d NODE -p PORT -t SECONDS [-r BYTES_PER_S] [-b BUCKET_MS]\n"
		"                        [-o SUMMARY]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "restore", required_argument, NULL, 'R' },
		{ 0 }
	};
	struct server_opts so = { 0 };
	double secs = 0, rate = 0;
	unsigned long hold_mib = 0;
	long node = 0;
	int opt, bucket_ms = 50;
	const char *mode;

	prog_name = "migstream";
	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt_long(argc, argv, "p:r:s:H:M:d:t:b:o:", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'p':
			so.port = parse_long(optarg, 1, 65535, "port");
			break;
		case 'r':
			rate = parse_double(optarg, 0, 1e10, "rate");
			break;
		case 's':
			so.state_path = optarg;
			break;
		case 'R':
			so.restore_path = optarg;
			break;
		case 'H':
			so.hold_ms = parse_long(optarg, 0, 3600000, "hold");
			break;
		case 'M':
			hold_mib = parse_long(optarg, 0, 65536, "memory");
			break;
		case 'd':
			node = parse_long(optarg, 1, UINT32_MAX, "node");
			break;
		case 't':
			secs = parse_double(optarg, 0.1, 3600, "duration");
			break;
		case 'b':
			bucket_ms = parse_long(optarg, 1, 10000, "bucket");
			break;
		case 'o':
			so.summary_path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(mode, "server")) {
		if (!so.port == !so.restore_path)
			usage();
		so.rate = rate;
		hold_memory(hold_mib);
		return run_server(&so);
	}
	if (strcmp(mode, "client") || !node || !so.port || !secs)
		usage();
	return run_client(node, so.port, secs, rate, bucket_ms,
			  so.summary_path);
}
