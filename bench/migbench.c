// SPDX-License-Identifier: GPL-2.0
/*
 * migbench: the migration benchmark's measurements (bench/migration.sh),
 * each printed as one JSON object.  Three nodes, given as network
 * namespaces: node A (the home node, where the sender starts), node B
 * (where it moves) and node R (the receiver, which never moves).  The
 * threads of one process each enter the node they play, so that every
 * timestamp is read from one clock (CLOCK_MONOTONIC, which namespaces
 * share) and no clock needs to be matched between processes.
 *
 *   migbench downtime -a NODE -b NODE -r NODE [-n MIGRATIONS] [-w SECS]
 *	One AF_MIGTCP connection from A to R carries a continuous stream
 *	(64 KiB writes, as fast as it goes), which R checks byte for byte.
 *	Every window + 0.25 s the sender's endpoint migrates, A -> B, then
 *	B -> A, and so on, with the socket options alone: MIGTCP_FREEZE and
 *	MIGTCP_CHECKPOINT, close, setns() into the other node, MIGTCP_RESTORE
 *	on a new socket.  For each migration: the time to freeze and
 *	checkpoint, to restore (close, setns, socket, restore), from the
 *	restore until R read the first byte written after it (bytes are
 *	told apart by stream offset), the whole of that ("migtcp time":
 *	freeze to first new byte), and R's longest pause between two reads
 *	in that time (peer-observed downtime: R reads on from its queue for
 *	a while after the freeze, so it can be shorter than the migration);
 *	and the throughput R saw in the window before the freeze and in the
 *	window from the first new byte, on the same connection.
 *	MIGBENCH_TRACE=FILE writes every read (time, bytes so far) and every
 *	migration (freeze, checkpointed, restored, offset) to FILE.
 *
 *   migbench relay -a NODE -b NODE -r NODE [-A IP] [-R IP] [-t SECS] [-k ROUNDS]
 *	The path a migrated connection takes compared with the path of the
 *	design this project replaces, home-node relaying (OpenMosix's
 *	deputy): the process has moved from A to B and its peer is R.
 *	  direct        an AF_MIGTCP connection opened on A and migrated to B:
 *	                B talks to R;
 *	  fresh         for reference, an AF_MIGTCP connection opened on B
 *	                and never migrated: what direct should match;
 *	  relay-tcp     B talks over kernel TCP to a relay process on A,
 *	                which copies to and from a TCP connection to R;
 *	  relay-migtcp  the same relay with AF_MIGTCP on both legs.
 *	Each is measured with a bulk stream for SECS (throughput R counted
 *	and checked) and 1-byte request/response for SECS (round trips),
 *	ROUNDS times, the order rotating from round to round.
 *
 * A node is "PATH,ID" (the namespace file, e.g. /run/netns/n1, and its
 * migtcp node id); -A and -R are A's and R's IPv4 addresses for TCP.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "migcommon.h"

#define BUF_SIZE	(64 * 1024)
#define RECV_SIZE	(256 * 1024)
#define SEED		0x6d696762ULL	/* "migb" */
#define GUARD_SEC	30
#define MAX_MIGRATIONS	10000
/* Between the end of one measuring window and the next migration. */
#define SETTLE_S	0.25

struct node {
	const char *ns;
	uint32_t id;
};

static int family;

static void parse_node(const char *arg, struct node *n)
{
	char *comma = strrchr(arg, ',');

	if (!comma || comma == arg)
		die("a node is PATH,ID: '%s'", arg);
	n->ns = strndup(arg, comma - arg);
	n->id = parse_long(comma + 1, 1, UINT32_MAX, "node id");
}

static void enter(const struct node *n)
{
	if (enter_netns(n->ns))
		die("entering %s: %s", n->ns, strerror(errno));
}

static int listen_on(int fam, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sock_addr(fam, NULL, 0, port, &ss);
	int fd, one = 1;

	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16))
		die("listen on %s port %u: %s",
		    fam == AF_INET ? "tcp" : "migtcp", port, strerror(errno));
	return fd;
}

/* A connected stream socket with guard timeouts; dies on failure. */
static int dial(int fam, uint32_t node, const struct in_addr *ip,
		uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sock_addr(fam, ip, node, port, &ss);
	int fd, tries;

	for (tries = 0;; tries++) {
		fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || set_guard(fd, GUARD_SEC))
			die("socket: %s", strerror(errno));
		if (!connect(fd, (struct sockaddr *)&ss, len))
			return fd;
		if (errno != ECONNREFUSED || tries == 100)
			die("connect to %s port %u: %s",
			    fam == AF_INET ? "tcp" : "migtcp", port,
			    strerror(errno));
		close(fd);
		sleep_s(0.05);
	}
}

static void start_thread(void *(*fn)(void *), void *arg)
{
	pthread_t th;

	if (pthread_create(&th, NULL, fn, arg))
		die("cannot start a thread");
	pthread_detach(th);
}

/*
 * Moves connected @fd from the caller's node to @to: freeze, checkpoint,
 * close, enter @to, restore.  Fills the times (CLOCK_MONOTONIC) and
 * returns the new socket.
 */
struct move {
	double t_freeze, t_checkpointed, t_restored;
	unsigned int blob_len;
};

static int migrate(int fd, const struct node *to, struct move *m)
{
	socklen_t len;
	void *blob;
	int nfd;

	m->t_freeze = mono_s();
	blob = mig_checkpoint(fd, 0, &len);
	if (!blob)
		die("checkpoint: %s", strerror(errno));
	m->t_checkpointed = mono_s();
	close(fd);
	enter(to);
	nfd = mig_restore(family, blob, len);
	if (nfd < 0)
		die("restore on node %u: %s", to->id, strerror(errno));
	m->t_restored = mono_s();
	m->blob_len = len;
	free(blob);
	if (set_guard(nfd, GUARD_SEC))
		die("guard: %s", strerror(errno));
	return nfd;
}

/* Sends stream SEED from *@off until CLOCK_MONOTONIC reads @until. */
static void stream_until(int fd, uint64_t *off, double until)
{
	static uint8_t buf[BUF_SIZE];

	while (mono_s() < until) {
		pattern_fill(buf, sizeof(buf), SEED, *off);
		if (write_all(fd, buf, sizeof(buf)))
			die("send at offset %" PRIu64 ": %s", *off,
			    strerror(errno));
		*off += sizeof(buf);
	}
}

/*
 * Counts @n bytes of stream SEED read at offset *@bytes, and keeps in
 * *@first_bad the offset of the first wrong byte so far (-1: none yet).
 */
static void check_read(const uint8_t *buf, size_t n, uint64_t *bytes,
		       int64_t *first_bad)
{
	long bad;

	if (*first_bad < 0) {
		bad = pattern_check(buf, n, SEED, *bytes);
		if (bad >= 0)
			*first_bad = *bytes + bad;
	}
	*bytes += n;
}

/* ------------------------------------------------------------- downtime */

/* What the receiver saw: when each read returned, and the bytes so far. */
struct sample {
	double t;
	uint64_t bytes;
};

struct receiver {
	const struct node *node;
	uint16_t port;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool listening;
	struct sample *s;
	size_t n, cap;
	uint64_t bytes;
	int64_t first_bad;
	int err;
};

static void *receive_stream(void *arg)
{
	struct receiver *r = arg;
	static uint8_t buf[RECV_SIZE];
	int lfd, fd;
	ssize_t n;

	enter(r->node);
	lfd = listen_on(family, r->port);
	pthread_mutex_lock(&r->lock);
	r->listening = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0 || set_guard(fd, GUARD_SEC))
		die("accept: %s", strerror(errno));
	close(lfd);
	while ((n = recv_some(fd, buf, sizeof(buf))) > 0) {
		check_read(buf, n, &r->bytes, &r->first_bad);
		if (r->n == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 1 << 16;
			r->s = realloc(r->s, r->cap * sizeof(*r->s));
			if (!r->s)
				die("out of memory");
		}
		r->s[r->n].t = mono_s();
		r->s[r->n].bytes = r->bytes;
		r->n++;
	}
	r->err = n < 0 ? errno : 0;
	close(fd);
	return NULL;
}

/* Bytes received by time @t (the last sample at or before it). */
static uint64_t bytes_at(const struct receiver *r, double t)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (r->s[mid].t <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? r->s[lo - 1].bytes : 0;
}

struct mig_result {
	struct move m;
	uint64_t off;			/* bytes written before the freeze */
	double gap_start, gap_end;	/* the receiver's longest pause */
	double first_new;		/* first byte sent after the restore read */
	double mbit_before, mbit_after;
};

/*
 * Where migration @m shows at the receiver: *@first is when the first
 * byte written after the restore (stream offset @m->off) was read, and
 * *@gap_start, *@gap_end the longest pause between two reads from the
 * freeze up to then (the receiver may read on for a while from its
 * queue after the freeze, so the pause can be shorter than the
 * migration).  NaN where the samples do not tell.
 */
static void locate(const struct receiver *r, struct mig_result *m,
		   double *first)
{
	size_t lo = 0, hi = r->n, i;
	double best = -1;

	*first = m->gap_start = m->gap_end = NAN;
	/* The first read whose bytes reach past the offset. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (r->s[mid].bytes <= m->off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == r->n)
		return;
	*first = r->s[lo].t;
	for (i = lo; i > 0 && r->s[i].t > m->m.t_freeze; i--) {
		if (r->s[i].t - r->s[i - 1].t > best) {
			best = r->s[i].t - r->s[i - 1].t;
			m->gap_start = r->s[i - 1].t;
			m->gap_end = r->s[i].t;
		}
	}
}

/* ,"@name":@v — or null where there is no value (NaN). */
static void jnum(const char *name, const char *fmt, double v)
{
	printf(",\"%s\":", name);
	if (isfinite(v))
		printf(fmt, v);
	else
		printf("null");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of @n values (sorted here). */
static double percentile(double *v, size_t n, double p)
{
	size_t rank;

	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	rank = (size_t)ceil(p / 100.0 * n);
	if (rank < 1)
		rank = 1;
	return v[rank > n ? n - 1 : rank - 1];
}

static void print_stat(const char *name, double *v, size_t n)
{
	double sum = 0;
	size_t i, k = 0;

	/* Migrations without a value (no gap found) are left out. */
	for (i = 0; i < n; i++)
		if (isfinite(v[i])) {
			sum += v[i];
			v[k++] = v[i];
		}
	printf(",\"%s\":{\"n\":%zu", name, k);
	jnum("median", "%.3f", percentile(v, k, 50));
	jnum("p99", "%.3f", percentile(v, k, 99));
	jnum("min", "%.3f", percentile(v, k, 0));
	jnum("max", "%.3f", percentile(v, k, 100));
	jnum("mean", "%.3f", k ? sum / k : NAN);
	printf("}");
}

static int run_downtime(const struct node *a, const struct node *b,
			const struct node *rn, uint16_t port, int nmig,
			double window)
{
	static struct mig_result res[MAX_MIGRATIONS];
	struct receiver r = {
		.node = rn, .port = port, .first_bad = -1,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	static double v[8][MAX_MIGRATIONS];
	uint64_t off = 0;
	double t_start, t_end;
	pthread_t th;
	int fd, i;

	if (pthread_create(&th, NULL, receive_stream, &r))
		die("cannot start a thread");
	pthread_mutex_lock(&r.lock);
	while (!r.listening)
		pthread_cond_wait(&r.cond, &r.lock);
	pthread_mutex_unlock(&r.lock);

	enter(a);
	fd = dial(family, rn->id, NULL, port);
	t_start = mono_s();
	stream_until(fd, &off, t_start + window + SETTLE_S);
	for (i = 0; i < nmig; i++) {
		res[i].off = off;
		fd = migrate(fd, i % 2 ? a : b, &res[i].m);
		stream_until(fd, &off, res[i].m.t_restored + window + SETTLE_S);
	}
	if (shutdown(fd, SHUT_WR))
		die("shutdown: %s", strerror(errno));
	pthread_join(th, NULL);
	close(fd);
	t_end = mono_s();
	if (getenv("MIGBENCH_TRACE")) {
		FILE *f = fopen(getenv("MIGBENCH_TRACE"), "w");

		for (size_t j = 0; f && j < r.n; j++)
			fprintf(f, "S %.6f %" PRIu64 "\n", r.s[j].t - t_start, r.s[j].bytes);
		for (i = 0; f && i < nmig; i++)
			fprintf(f, "M %.6f %.6f %.6f %" PRIu64 "\n", res[i].m.t_freeze - t_start,
				res[i].m.t_checkpointed - t_start, res[i].m.t_restored - t_start,
				res[i].off);
		if (f)
			fclose(f);
	}

	for (i = 0; i < nmig; i++) {
		struct mig_result *m = &res[i];

		locate(&r, m, &m->first_new);
		m->mbit_before = (bytes_at(&r, m->m.t_freeze) -
				  bytes_at(&r, m->m.t_freeze - window)) *
				 8 / window / 1e6;
		m->mbit_after = (bytes_at(&r, m->first_new + window) -
				 bytes_at(&r, m->first_new)) * 8 / window / 1e6;
		v[0][i] = (m->gap_end - m->gap_start) * 1e3;
		v[1][i] = (m->first_new - m->m.t_freeze) * 1e3;
		v[2][i] = (m->m.t_checkpointed - m->m.t_freeze) * 1e3;
		v[3][i] = (m->m.t_restored - m->m.t_checkpointed) * 1e3;
		v[4][i] = (m->first_new - m->m.t_restored) * 1e3;
		v[5][i] = m->mbit_before;
		v[6][i] = m->mbit_after;
		v[7][i] = m->mbit_before > 0 && isfinite(m->mbit_after) ?
			  m->mbit_after / m->mbit_before : NAN;
	}

	printf("{\"test\":\"downtime\",\"migrations\":%d,\"window_s\":%g,"
	       "\"seconds\":%.3f,\"bytes_sent\":%" PRIu64 ",\"bytes_received\":%"
	       PRIu64 ",\"bytes_verified\":%" PRIu64 ",\"first_bad\":%" PRId64,
	       nmig, window, t_end - t_start, off, r.bytes,
	       r.first_bad < 0 ? r.bytes : (uint64_t)r.first_bad, r.first_bad);
	printf(",\"per_migration\":[");
	for (i = 0; i < nmig; i++) {
		struct mig_result *m = &res[i];

		printf("%s{\"n\":%d,\"to\":%u,\"at_s\":%.3f,\"checkpoint_bytes\":%u",
		       i ? "," : "", i + 1, (i % 2 ? a : b)->id,
		       m->m.t_freeze - t_start, m->m.blob_len);
		jnum("freeze_checkpoint_ms", "%.3f", v[2][i]);
		jnum("restore_ms", "%.3f", v[3][i]);
		jnum("restore_to_first_byte_ms", "%.3f", v[4][i]);
		jnum("migtcp_ms", "%.3f", v[1][i]);
		jnum("peer_downtime_ms", "%.3f", v[0][i]);
		jnum("mbit_s_before", "%.1f", v[5][i]);
		jnum("mbit_s_after", "%.1f", v[6][i]);
		printf("}");
	}
	printf("]");
	print_stat("peer_downtime_ms", v[0], nmig);
	print_stat("migtcp_ms", v[1], nmig);
	print_stat("freeze_checkpoint_ms", v[2], nmig);
	print_stat("restore_ms", v[3], nmig);
	print_stat("restore_to_first_byte_ms", v[4], nmig);
	print_stat("mbit_s_before", v[5], nmig);
	print_stat("mbit_s_after", v[6], nmig);
	print_stat("after_before_ratio", v[7], nmig);
	if (r.err || r.first_bad >= 0 || r.bytes != off)
		printf(",\"error\":\"receiver: %s; %" PRIu64 " bytes sent, %"
		       PRIu64 " received, first wrong byte at %" PRId64 "\"",
		       r.err ? strerror(r.err) : "no socket error", off,
		       r.bytes, r.first_bad);
	printf("}\n");
	free(r.s);
	return r.err || r.first_bad >= 0 || r.bytes != off;
}

/* ---------------------------------------------------------------- relay */

enum { PORT_SINK, PORT_ECHO, PORT_RELAY_SINK, PORT_RELAY_ECHO };

/* R's services: a checking sink that answers with its count, and echo. */
static void *serve_sink(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static __thread uint8_t buf[RECV_SIZE];
	uint64_t total = 0, be;
	int64_t bad = -1;
	ssize_t n;

	while ((n = recv_some(fd, buf, sizeof(buf))) > 0)
		check_read(buf, n, &total, &bad);
	/* A wrong byte makes the count wrong, and the client says so. */
	be = htobe64(n == 0 && bad < 0 ? total : UINT64_MAX);
	write_all(fd, &be, sizeof(be));
	close(fd);
	return NULL;
}

static void *serve_echo(void *arg)
{
	int fd = (int)(intptr_t)arg;

	echo_all(fd);
	close(fd);
	return NULL;
}

struct service {
	const struct node *node;
	int fam;
	uint16_t port;
	int kind;
	/* A relay's far end: R, over the same transport. */
	uint32_t to_node;
	struct in_addr to_ip;
	uint16_t to_port;
	int lfd;
};

struct pipe_half {
	int from, to;
};

/* Copies one direction of a relayed connection, as a deputy does. */
static void *copy_half(void *arg)
{
	struct pipe_half *h = arg;
	static __thread uint8_t buf[BUF_SIZE];
	ssize_t n;

	while ((n = recv_some(h->from, buf, sizeof(buf))) > 0)
		if (write_all(h->to, buf, n))
			break;
	shutdown(h->to, SHUT_WR);
	return NULL;
}

struct relay_conn {
	int in, out;
};

static void *relay(void *arg)
{
	struct relay_conn *c = arg;
	struct pipe_half up = { c->in, c->out }, down = { c->out, c->in };
	pthread_t th;

	if (pthread_create(&th, NULL, copy_half, &down))
		die("cannot start a thread");
	copy_half(&up);
	pthread_join(th, NULL);
	close(c->in);
	close(c->out);
	free(c);
	return NULL;
}

static void *accept_loop(void *arg)
{
	struct service *s = arg;

	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept: %s", strerror(errno));
		}
		set_guard(fd, 2 * GUARD_SEC);
		if (s->kind == PORT_SINK) {
			start_thread(serve_sink, (void *)(intptr_t)fd);
		} else if (s->kind == PORT_ECHO) {
			start_thread(serve_echo, (void *)(intptr_t)fd);
		} else {
			struct relay_conn *c = malloc(sizeof(*c));

			if (!c)
				die("out of memory");
			c->in = fd;
			c->out = dial(s->fam, s->to_node, &s->to_ip, s->to_port);
			start_thread(relay, c);
		}
	}
	return NULL;
}

/* Starts @s's listener, in its node, from this thread; then its thread. */
static void start_service(struct service *s)
{
	enter(s->node);
	s->lfd = listen_on(s->fam, s->port);
	start_thread(accept_loop, s);
}

/* Bulk for @secs on @fd; Mbit/s as R counted, or a negative on error. */
static double bulk(int fd, double secs, char *err, size_t errlen)
{
	uint64_t off = 0, be;
	double t0 = mono_s(), t1;

	stream_until(fd, &off, t0 + secs);
	if (shutdown(fd, SHUT_WR) || read_all(fd, &be, sizeof(be))) {
		snprintf(err, errlen, "bulk: waiting for the count: %s",
			 strerror(errno));
		return -1;
	}
	t1 = mono_s();
	if (be64toh(be) != off) {
		snprintf(err, errlen, "bulk: sent %" PRIu64 " bytes, the sink "
			 "counted %" PRIu64 " (all ones: a wrong byte)", off,
			 (uint64_t)be64toh(be));
		return -1;
	}
	return off * 8 / (t1 - t0) / 1e6;
}

/* 1-byte round trips for @secs: p50 and p99 in us, and the rate. */
static int rr(int fd, double secs, double *p50, double *p99, double *tps,
	      char *err, size_t errlen)
{
	size_t n = 0, cap = 1 << 16;
	double *lat = malloc(cap * sizeof(*lat));
	double t0 = mono_s(), end = t0 + secs, a, b;
	unsigned char out = 0, in;

	if (!lat)
		die("out of memory");
	for (a = t0; a < end; a = b) {
		out++;
		if (write_all(fd, &out, 1) || read_all(fd, &in, 1)) {
			snprintf(err, errlen, "rr: %s", strerror(errno));
			free(lat);
			return -1;
		}
		b = mono_s();
		if (in != out) {
			snprintf(err, errlen, "rr: echo %u for %u", in, out);
			free(lat);
			return -1;
		}
		if (n == cap) {
			cap *= 2;
			lat = realloc(lat, cap * sizeof(*lat));
			if (!lat)
				die("out of memory");
		}
		lat[n++] = (b - a) * 1e6;
	}
	*tps = n / (mono_s() - t0);
	*p50 = percentile(lat, n, 50);
	*p99 = percentile(lat, n, 99);
	free(lat);
	return 0;
}

enum path { DIRECT, FRESH, RELAY_TCP, RELAY_MIGTCP, NR_PATHS };
static const char * const path_names[NR_PATHS] = {
	"direct", "fresh", "relay-tcp", "relay-migtcp"
};

struct relay_args {
	const struct node *a, *b, *r;
	struct in_addr a_ip;
	uint16_t port;
};

/*
 * A connection of the moved process on B to @kind (PORT_SINK or
 * PORT_ECHO) at R, over path @p.  The caller ends up in B.
 */
static int open_path(const struct relay_args *ra, enum path p, int kind)
{
	struct move m;
	int fd;

	if (p == DIRECT) {
		/* Opened at home, then moved: the migrated connection. */
		enter(ra->a);
		fd = dial(family, ra->r->id, NULL, ra->port + kind);
		return migrate(fd, ra->b, &m);
	}
	enter(ra->b);
	if (p == FRESH)
		return dial(family, ra->r->id, NULL, ra->port + kind);
	if (p == RELAY_TCP)
		return dial(AF_INET, 0, &ra->a_ip, ra->port + kind + 2);
	return dial(family, ra->a->id, NULL, ra->port + kind + 2);
}

static int run_relay(const struct relay_args *ra, struct in_addr r_ip,
		     double secs, int rounds)
{
	static struct service svc[8];
	int nsvc = 0, round, i, failed = 0;
	char err[200] = "";

	/* R serves both transports; A relays each over its own. */
	for (i = 0; i < 2; i++) {
		int fam = i ? family : AF_INET;

		svc[nsvc++] = (struct service){
			.node = ra->r, .fam = fam, .port = ra->port + PORT_SINK,
			.kind = PORT_SINK };
		svc[nsvc++] = (struct service){
			.node = ra->r, .fam = fam, .port = ra->port + PORT_ECHO,
			.kind = PORT_ECHO };
		svc[nsvc++] = (struct service){
			.node = ra->a, .fam = fam,
			.port = ra->port + PORT_RELAY_SINK,
			.kind = PORT_RELAY_SINK, .to_node = ra->r->id,
			.to_ip = r_ip, .to_port = ra->port + PORT_SINK };
		svc[nsvc++] = (struct service){
			.node = ra->a, .fam = fam,
			.port = ra->port + PORT_RELAY_ECHO,
			.kind = PORT_RELAY_ECHO, .to_node = ra->r->id,
			.to_ip = r_ip, .to_port = ra->port + PORT_ECHO };
	}
	for (i = 0; i < nsvc; i++)
		start_service(&svc[i]);

	printf("{\"test\":\"relay\",\"seconds_per_test\":%g,\"rounds\":%d,"
	       "\"runs\":[", secs, rounds);
	for (round = 0; round < rounds; round++) {
		for (i = 0; i < NR_PATHS; i++) {
			enum path p = (i + round) % NR_PATHS;
			double mbit, p50 = NAN, p99 = NAN, tps = NAN;
			int fd;

			err[0] = 0;
			fd = open_path(ra, p, PORT_SINK);
			mbit = bulk(fd, secs, err, sizeof(err));
			close(fd);
			if (!err[0]) {
				fd = open_path(ra, p, PORT_ECHO);
				rr(fd, secs, &p50, &p99, &tps, err, sizeof(err));
				close(fd);
			}
			printf("%s{\"round\":%d,\"path\":\"%s\"",
			       round || i ? "," : "", round + 1, path_names[p]);
			jnum("mbit_s", "%.2f", mbit >= 0 ? mbit : NAN);
			jnum("rr_tps", "%.1f", tps);
			jnum("rr_p50_us", "%.1f", p50);
			jnum("rr_p99_us", "%.1f", p99);
			if (err[0]) {
				printf(",\"error\":\"%s\"", err);
				failed++;
			}
			printf("}");
			fflush(stdout);
		}
	}
	printf("]}\n");
	return failed ? 1 : 0;
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
		"usage: migbench downtime -a NS,ID -b NS,ID -r NS,ID [-p PORT] [-n MIGRATIONS] [-w SECS]\n"
		"       migbench relay -a NS,ID -b NS,ID -r NS,ID -A A_IP -R R_IP [-p PORT]\n"
		"                      [-t SECS] [-k ROUNDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct node a = { 0 }, b = { 0 }, r = { 0 };
	struct in_addr a_ip = { 0 }, r_ip = { 0 };
	double window = 2, secs = 3;
	int nmig = 30, rounds = 3, opt;
	uint16_t port = 7100;
	const char *mode;

	prog_name = "migbench";
	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "a:b:r:A:R:p:n:w:t:k:")) != -1) {
		switch (opt) {
		case 'a': parse_node(optarg, &a); break;
		case 'b': parse_node(optarg, &b); break;
		case 'r': parse_node(optarg, &r); break;
		case 'A':
			if (inet_pton(AF_INET, optarg, &a_ip) != 1)
				die("bad address '%s'", optarg);
			break;
		case 'R':
			if (inet_pton(AF_INET, optarg, &r_ip) != 1)
				die("bad address '%s'", optarg);
			break;
		case 'p': port = parse_long(optarg, 1, 65000, "port"); break;
		case 'n':
			nmig = parse_long(optarg, 1, MAX_MIGRATIONS, "migrations");
			break;
		case 'w': window = parse_double(optarg, 0.1, 60, "window"); break;
		case 't': secs = parse_double(optarg, 0.1, 600, "duration"); break;
		case 'k': rounds = parse_long(optarg, 1, 100, "rounds"); break;
		default: usage();
		}
	}
	if (optind != argc || !a.ns || !b.ns || !r.ns)
		usage();
	family = migtcp_family();
	if (family < 0)
		die("migtcp is not loaded (%s)", strerror(-family));
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(mode, "downtime"))
		return run_downtime(&a, &b, &r, port, nmig, window);
	if (!strcmp(mode, "relay")) {
		struct relay_args ra = { &a, &b, &r, a_ip, port };

		if (!a_ip.s_addr || !r_ip.s_addr)
			usage();
		return run_relay(&ra, r_ip, secs, rounds);
	}
	usage();
}
