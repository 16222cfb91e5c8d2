// SPDX-License-Identifier: GPL-2.0
/*
 * ofobench: what one out-of-order segment costs the receiver as its
 * out-of-order queue deepens, under the adversarial pattern of
 * SegmentSmack (CVE-2018-5390): one-byte segments at every other byte, in
 * random order, so that none adjoins another and each lands somewhere in
 * the middle of the queue.  A queue kept as a list walked from its head
 * costs each segment time in proportion to the depth; migtcp's is an
 * rbtree (module/input.c, migtcp_ofo_insert()), whose walk grows with the
 * logarithm of the depth only.
 *
 *   ofobench -1 NETNS1 -2 NETNS2 -d DEV1 [-n SEGMENTS] [-b BUCKET]
 *	      [-s SEED] [-r RCVBUF] [-t TRACEDIR] [-S SAMPLES]
 *
 * Two nodes, the network namespaces NETNS1 (node 1, 198.51.100.1, device
 * DEV1) and NETNS2 (node 2, 198.51.100.2), already configured as cluster
 * nodes 1 and 2 (bench/ofo.sh builds them).  A connection from node 1 to
 * node 2 carries 1000 bytes, whose segments a raw socket on node 2
 * captures to learn the sequence numbers (as stress_test.c's injection
 * tests do).  Node 2's receive buffer is RCVBUF (SO_RCVBUFFORCE; default
 * 2 KiB per segment and 1 MiB).  Node 1 then forges, with a raw IP
 * socket, the connection's one-byte segments beyond a one-byte gap at
 * offset 0, first the whole pattern below with up to 1024 segments,
 * unmeasured (a warm-up), then with N = SEGMENTS (default 262144):
 *
 *   phase "odd":  offsets 1, 3, ..., 2N-1 in random order; none touches
 *		   another, so the queue holds d segments when the (d+1)th
 *		   arrives: depth 0 to N-1;
 *   phase "even": offsets 2, 4, ..., 2N-2 in random order, each filling
 *		   the hole between two queued segments (which merge when
 *		   their buffers have room);
 *   fill:	   offset 0, which moves all 2N bytes to the stream.
 *
 * Node 2's socket must then deliver the 2N bytes, each checked against the
 * pattern, with RcvbufDrops and OfoPruned unchanged: a run that lost or
 * pruned anything measured something else, and fails.
 *
 * Node 2 answers each out-of-order segment with an ACK at once.  Node 1
 * drops those answers at its device's ingress (a tc filter), as an
 * attacker would ignore them: node 1's own socket of the connection then
 * plays no part, and what a send() costs is node 2's work alone.
 *
 * Measured per segment:
 *   send     the time of node 1's send() on the raw socket.  On a veth
 *	      the receiving side runs inside that system call (the softirq
 *	      that runs when the sender re-enables bottom halves): node 2's
 *	      IP input, migtcp's demultiplexing, checksum, the socket's
 *	      processing and the ACK it sends are all in it.  Unless the
 *	      kernel deferred the receiving to ksoftirqd (a softirq that ran
 *	      too long, as when the host stops the vCPU): with -t, the
 *	      kprobes tell (another task than ours was running), and those
 *	      send()s are left out of the figures and counted ("deferred").
 *   segment  (with -t) in the kernel, from the entry of node 2's
 *	      migtcp_rcv_synchronized() to that of the migtcp_send_ack()
 *	      which answers the segment: the socket's whole processing of
 *	      the segment before its ACK.
 *   insert   (with -t, when the probe exists) from the first instruction
 *	      of migtcp_ofo_insert(), which the compiler inlines (a kprobe
 *	      at its inlined entry, bench/ofo.sh places it), to that same
 *	      migtcp_send_ack(): the insert itself, and the two tests that
 *	      decide to acknowledge at once.
 * The kernel's figures come from kprobe events "ofo/rcv", "ofo/ins" and
 * "ofo/ack" of the tracing instance TRACEDIR (in raw output, with
 * nanosecond timestamps), read between buckets.  Per bucket of BUCKET
 * segments: mean, median and 99th percentile of each, in microseconds.
 * Printed: one JSON object on stdout; progress on stderr; with -S, every
 * segment's figures to SAMPLES, tab-separated.
 *
 * Not a test: no figure passes or fails.  The exit status is 0 if the
 * measurement ran and every byte arrived, 1 if bytes were lost, pruned or
 * wrong, 2 if it could not run.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/sock_diag.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"

#define NODE1		1U
#define NODE2		2U
#define NODE1_ADDR	"198.51.100.1"
#define NODE2_ADDR	"198.51.100.2"
#define PORT		7100
#define WARMUP_BYTES	1000
#define GUARD_SEC	10
#define MAX_SEGMENTS	(1U << 20)
/* The kernel's samples of a bucket may trail its last send() a little. */
#define TRACE_WAIT_MS	2000

enum phase { PH_ODD, PH_EVEN, NR_PHASES };

static const char *const phase_names[NR_PHASES] = { "odd", "even" };

/* The kernel's measures, in the order of the JSON and of the samples. */
enum measure { M_SEND, M_SEGMENT, M_INSERT, NR_MEASURES };

static const char *const measure_names[NR_MEASURES] = {
	"send", "segment", "insert",
};

struct opts {
	const char *ns_path[3];	/* [NODE1], [NODE2] */
	const char *dev1;
	unsigned int segments;	/* N: odd offsets; N - 1 even ones */
	unsigned int bucket;
	uint64_t seed;
	long rcvbuf;		/* 0: sized from N */
	const char *trace;	/* tracing instance directory, or NULL */
	const char *samples;	/* per-segment file, or NULL */
};

/* What node 2 expects next on the connection, learnt from the wire. */
struct conn_seq {
	uint16_t cport;		/* the client's port on node 1 */
	uint32_t rcv_nxt;	/* node 2 expects this sequence number */
	uint32_t snd_nxt;	/* and has sent up to this one */
};

/*
 * One forged segment's figures, in ns; -1: none measured.  @deferred: the
 * kernel received it outside the send() that sent it (ksoftirqd did), so
 * that send() timed no receiving; known only from the kprobes.
 */
struct sample {
	int64_t ns[NR_MEASURES];
	bool deferred;
};

/* A phase: its offsets in the order sent, and their figures. */
struct run_phase {
	unsigned int n;
	unsigned int *offset;
	struct sample *s;
	long *rmem_after;	/* node 2's receive memory after each bucket */
};

static int ns_fd[3];
static int proto;
/* send()s that found the receiving CPU's backlog full, and were retried. */
static unsigned long send_retries;

static void on_node(unsigned int node)
{
	if (setns(ns_fd[node], CLONE_NEWNET))
		die("setns to node %u: %s", node, strerror(errno));
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The byte at offset @i of the forged stream (stress_test.c's pattern). */
static uint8_t ofo_byte(unsigned int i)
{
	return (uint8_t)(i * 131 + 7);
}

/* splitmix64: a seeded generator, so that a run can be repeated. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Fisher-Yates. */
static void shuffle(unsigned int *v, unsigned int n)
{
	unsigned int i, j, t;

	for (i = n; i > 1; i--) {
		j = rng_next() % i;
		t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		die("out of memory");
	return p;
}

/* Runs a shell command line in the current network namespace. */
static int sh(const char *fmt, ...)
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

/* Counter @name of the /proc/net/migtcp_stats open as @fd; -1 if none. */
static long stat_of(int fd, const char *name)
{
	char buf[8192], key[64], *line, *save = NULL;
	long value = -1, v;
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%63s %ld", key, &v) == 2 && !strcmp(key, name))
			value = v;
	return value;
}

static int get_info(int fd, struct migtcp_info *info)
{
	socklen_t len = sizeof(*info);

	return getsockopt(fd, SOL_MIGTCP, MIGTCP_INFO, info, &len);
}

/* The receive memory charged to @fd's socket (SO_MEMINFO). */
static long rmem_of(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len))
		return -1;
	return mem[SK_MEMINFO_RMEM_ALLOC];
}

/* ---- the connection, and what node 2 expects on it ---- */

/*
 * Node 2's listener, node 1's client connected to it and node 2's
 * accepted end, its receive buffer @rcvbuf (SO_RCVBUFFORCE: above
 * net.core.rmem_max) before any data, so that the window it offers
 * covers every forged offset.
 */
static void connect_pair(int family, long rcvbuf, int *cfd, int *afd)
{
	struct sockaddr_mig any = mig_addr(family, 0, PORT);
	struct sockaddr_mig srv = mig_addr(family, NODE2, PORT);
	int lfd, size = (int)rcvbuf;

	on_node(NODE2);
	lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("AF_MIGTCP socket: %s", strerror(errno));
	if (setsockopt(lfd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		die("SO_RCVBUFFORCE %d: %s", size, strerror(errno));
	if (bind(lfd, (struct sockaddr *)&any, sizeof(any)) || listen(lfd, 1))
		die("listen on node 2 port %d: %s", PORT, strerror(errno));

	on_node(NODE1);
	*cfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*cfd < 0 || set_guard(*cfd, GUARD_SEC))
		die("client socket: %s", strerror(errno));
	if (connect(*cfd, (struct sockaddr *)&srv, sizeof(srv)))
		die("connect to node 2: %s", strerror(errno));
	*afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (*afd < 0 || set_guard(*afd, GUARD_SEC))
		die("accept: %s", strerror(errno));
	if (setsockopt(*afd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		die("SO_RCVBUFFORCE %d: %s", size, strerror(errno));
	close(lfd);
}

/*
 * Learns node 2's view of the connection from the last segment of it
 * that node 1 sent, as raw socket @cap on node 2 saw them all: the
 * client is quiet once nothing has come for 300 ms.
 */
static void learn_seq(int cap, struct conn_seq *cs)
{
	bool any = false;
	uint8_t pkt[2048];

	while (poll(&(struct pollfd){ .fd = cap, .events = POLLIN }, 1, 300) == 1) {
		const struct migtcphdr *h;
		unsigned int ihl, doff, data;
		ssize_t n = recv(cap, pkt, sizeof(pkt), MSG_DONTWAIT);

		if (n < 20)
			continue;
		ihl = (pkt[0] & 0xf) * 4;
		if (n < (ssize_t)(ihl + sizeof(*h)))
			continue;
		h = (const struct migtcphdr *)(pkt + ihl);
		doff = h->doff * 4;
		if (ntohs(h->src_port) != cs->cport || ntohs(h->dst_port) != PORT ||
		    doff < sizeof(*h) || ihl + doff > (size_t)n)
			continue;
		data = n - ihl - doff;
		cs->rcv_nxt = ntohl(h->seq) + data +
			      !!(ntohs(h->flags) & (MIGTCP_F_SYN | MIGTCP_F_FIN));
		cs->snd_nxt = ntohl(h->ack_seq);
		any = true;
	}
	if (!any)
		die("node 2 saw no segment of the connection");
}

/*
 * The connection, warmed up with WARMUP_BYTES from node 1 that node 2
 * reads and acknowledges, and its sequence numbers learnt.
 */
static void setup_connection(int family, long rcvbuf, int *cfd, int *afd,
			     struct conn_seq *cs)
{
	uint8_t buf[WARMUP_BYTES], got[WARMUP_BYTES];
	struct migtcp_info info;
	struct sockaddr_mig me;
	socklen_t len = sizeof(me);
	int cap, i;

	/* Node 2's capture must exist before the first data segment. */
	on_node(NODE2);
	cap = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (cap < 0)
		die("raw socket on node 2: %s", strerror(errno));
	connect_pair(family, rcvbuf, cfd, afd);
	if (getsockname(*cfd, (struct sockaddr *)&me, &len))
		die("getsockname: %s", strerror(errno));
	cs->cport = ntohs(me.smig_port);

	for (i = 0; i < WARMUP_BYTES; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	if (write_all(*cfd, buf, sizeof(buf)) || read_all(*afd, got, sizeof(got)) ||
	    memcmp(buf, got, sizeof(buf)))
		die("the first %d bytes did not arrive intact", WARMUP_BYTES);
	/* Acknowledged, so that node 1 will not send them again. */
	for (i = 0; i < GUARD_SEC * 100; i++) {
		if (get_info(*cfd, &info))
			die("MIGTCP_INFO: %s", strerror(errno));
		if (!info.unacked)
			break;
		sleep_s(0.01);
	}
	if (info.unacked)
		die("node 2 did not acknowledge the first bytes");
	learn_seq(cap, cs);
	/*
	 * A capture holds a clone of every segment node 2 receives, and a
	 * cloned skb takes no other's data (skb_try_coalesce()): it goes
	 * before the first forged segment.
	 */
	close(cap);
}

/* ---- forging ---- */

static int forge_socket(void)
{
	const struct sockaddr_in from = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = inet_addr(NODE1_ADDR),
	};
	const struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = inet_addr(NODE2_ADDR),
	};
	int fd;

	on_node(NODE1);
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (fd < 0 || bind(fd, (const struct sockaddr *)&from, sizeof(from)) ||
	    connect(fd, (const struct sockaddr *)&to, sizeof(to)))
		die("raw socket on node 1: %s", strerror(errno));
	return fd;
}

/* Node 1's one-byte segment of the connection @cs at offset @i. */
static void seg_build(uint8_t *seg, const struct conn_seq *cs,
		      unsigned int i)
{
	struct migtcphdr h = {
		.version = MIGTCP_WIRE_VERSION,
		.doff = MIGTCP_HDR_MIN_DOFF,
		.flags = htons(MIGTCP_F_ACK),
		.src_node = htonl(NODE1),
		.dst_node = htonl(NODE2),
		.src_port = htons(cs->cport),
		.dst_port = htons(PORT),
		.seq = htonl(cs->rcv_nxt + i),
		.ack_seq = htonl(cs->snd_nxt),
		.window = htons(65535),
	};

	memcpy(seg, &h, sizeof(h));
	seg[sizeof(h)] = ofo_byte(i);
	migtcp_seg_set_check(seg, sizeof(h) + 1, inet_addr(NODE1_ADDR),
			     inet_addr(NODE2_ADDR), proto);
}

/*
 * Sends the segment at offset @i; the send()'s duration in ns.  When the
 * kernel defers receiving to ksoftirqd (a softirq that ran too long, as
 * when the host stops the vCPU), sends only queue packets on the
 * receiving CPU's backlog until it is full, and the veth refuses the next
 * with ENOBUFS: that packet was not sent, and goes again once ksoftirqd
 * has had a millisecond to run (as the selftests' migtcp_test_sendto()).
 */
static int64_t forge(int tx, const struct conn_seq *cs, unsigned int i)
{
	uint8_t seg[sizeof(struct migtcphdr) + 1];
	int64_t t0, t1;
	int tries = 0;
	ssize_t n;

	seg_build(seg, cs, i);
	for (;;) {
		t0 = mono_ns();
		n = send(tx, seg, sizeof(seg), 0);
		t1 = mono_ns();
		if (n >= 0 || (errno != ENOBUFS && errno != EAGAIN) || ++tries > 2000)
			break;
		send_retries++;
		sleep_s(0.001);
	}
	if (n != (ssize_t)sizeof(seg))
		die("send of offset %u: %s", i, n < 0 ? strerror(errno) : "short");
	return t1 - t0;
}

/* Reads the next @total bytes of the stream on @afd and checks them
 * against the pattern; the bytes that differ, and *@have those read.
 */
static unsigned long read_stream(int afd, unsigned long total,
				 unsigned long *have)
{
	uint8_t buf[65536];
	unsigned long bad = 0, i;
	ssize_t n;

	*have = 0;
	while (*have < total &&
	       poll(&(struct pollfd){ .fd = afd, .events = POLLIN }, 1,
		    GUARD_SEC * 1000) == 1) {
		n = recv(afd, buf, total - *have < sizeof(buf) ?
			 total - *have : sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		for (i = 0; i < (unsigned long)n; i++)
			bad += buf[i] != ofo_byte(*have + i);
		*have += n;
	}
	return bad;
}

/*
 * The whole pattern once with @w segments at odd offsets, unmeasured,
 * its 2 * @w bytes read and checked; the stream then goes on from there.
 * Under QEMU's TCG, code runs slowly the first time (it is translated),
 * and kprobes become jumps only some time after they are armed: neither
 * belongs in the shallowest bucket.
 */
static void warm_up(int tx, int afd, struct conn_seq *cs, unsigned int w)
{
	unsigned int *offset = xcalloc(w, sizeof(*offset)), i, ph;
	unsigned long have, bad;

	for (ph = 0; ph < NR_PHASES; ph++) {
		unsigned int n = ph == PH_ODD ? w : w - 1;

		for (i = 0; i < n; i++)
			offset[i] = 2 * i + (ph == PH_ODD ? 1 : 2);
		shuffle(offset, n);
		for (i = 0; i < n; i++)
			forge(tx, cs, offset[i]);
	}
	forge(tx, cs, 0);
	bad = read_stream(afd, 2UL * w, &have);
	if (have != 2UL * w || bad)
		die("warm-up: %lu of %u bytes arrived, %lu wrong", have, 2 * w,
		    bad);
	cs->rcv_nxt += 2 * w;
	free(offset);
}

/* ---- the kernel's figures: kprobe events of a tracing instance ---- */

enum probe { P_RCV, P_INS, P_ACK, NR_PROBES };

static const char *const probe_names[NR_PROBES] = { "rcv", "ins", "ack" };

struct tracer {
	int pipe;		/* trace_pipe, non-blocking; -1: no tracing */
	int id[NR_PROBES];	/* event type ids; -1: no such probe */
	char dir[256];
	char buf[1 << 16];
	size_t len;		/* bytes of buf not yet parsed */
	/* Per CPU, the open segment: timestamps of rcv and ins, or 0, and
	 * the task that was running when it arrived.
	 */
	unsigned long long t_rcv[64], t_ins[64];
	int pid_rcv[64];
	int self;		/* our PID, as the trace shows it */
	/* Segments whose ACK closed them, since the tracer started. */
	unsigned long closed;
	struct sample *out;	/* where the next closed segment goes */
	unsigned long room;
};

static int read_int_file(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoi(buf);
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		ret = -1;
	close(fd);
	return ret;
}

static void tracer_init(struct tracer *t, const char *dir)
{
	char path[512];
	int p;

	memset(t, 0, sizeof(*t));
	t->pipe = -1;
	t->self = getpid();
	if (!dir)
		return;
	snprintf(t->dir, sizeof(t->dir), "%s", dir);
	for (p = 0; p < NR_PROBES; p++) {
		snprintf(path, sizeof(path), "%s/events/ofo/%s/id", dir,
			 probe_names[p]);
		t->id[p] = read_int_file(path);
	}
	if (t->id[P_RCV] < 0 || t->id[P_ACK] < 0)
		die("%s has no kprobe events ofo/rcv and ofo/ack", dir);
	snprintf(path, sizeof(path), "%s/trace_pipe", dir);
	t->pipe = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (t->pipe < 0)
		die("%s: %s", path, strerror(errno));
}

/*
 * Arms or disarms the probes.  Armed long before the first forged
 * segment: the kernel replaces a kprobe's breakpoint by a jump (an
 * optimized kprobe) only some time after it is armed.
 */
static void tracer_enable(struct tracer *t, bool on)
{
	char path[512];

	if (t->pipe < 0)
		return;
	snprintf(path, sizeof(path), "%s/events/ofo/enable", t->dir);
	if (write_file(path, on ? "1" : "0"))
		die("cannot %s the events of %s", on ? "enable" : "disable",
		    t->dir);
}

/*
 * The kernel's list of the armed kprobes of migtcp (without their
 * addresses), as a JSON array: whether each is [OPTIMIZED] (a jump),
 * [FTRACE] (a function's ftrace call) or a breakpoint, which costs
 * more and adds to what it measures.
 */
static void kprobes_json(char *out, size_t size)
{
	char line[256], *p;
	size_t len = 0;
	FILE *f;

	len += snprintf(out, size, "[");
	f = fopen("/sys/kernel/debug/kprobes/list", "re");
	while (f && fgets(line, sizeof(line), f) && len + sizeof(line) + 8 < size) {
		if (!strstr(line, "migtcp"))
			continue;
		line[strcspn(line, "\n")] = '\0';
		p = strchr(line, ' ');
		p = p ? p + strspn(p, " ") : line;
		len += snprintf(out + len, size - len, "%s\"%s\"",
				len > 1 ? ", " : "", p);
	}
	if (f)
		fclose(f);
	snprintf(out + len, size - len, "]");
}

/*
 * One line of raw output, "PID CPU TIMESTAMP type: ID": the segment of
 * that CPU opens at rcv, is marked at ins, and closes at ack, which
 * stores its kernel figures (ack alone: an ACK no segment drew).  A
 * segment received while another task than ours ran (ksoftirqd) was not
 * received inside our send().
 */
static void tracer_line(struct tracer *t, const char *line)
{
	unsigned long long ts;
	int pid, cpu, id;
	struct sample *s;

	if (sscanf(line, "%d %d %llu type: %d", &pid, &cpu, &ts, &id) != 4 ||
	    cpu < 0 || cpu >= 64)
		return;
	if (id == t->id[P_RCV]) {
		t->t_rcv[cpu] = ts;
		t->t_ins[cpu] = 0;
		t->pid_rcv[cpu] = pid;
	} else if (id == t->id[P_INS]) {
		t->t_ins[cpu] = ts;
	} else if (id == t->id[P_ACK] && t->t_rcv[cpu]) {
		if (t->room) {
			s = t->out++;
			t->room--;
			s->ns[M_SEGMENT] = ts - t->t_rcv[cpu];
			if (t->t_ins[cpu])
				s->ns[M_INSERT] = ts - t->t_ins[cpu];
			s->deferred = t->pid_rcv[cpu] != t->self;
		}
		t->closed++;
		t->t_rcv[cpu] = 0;
		t->t_ins[cpu] = 0;
	}
}

/* Parses what the pipe has now. */
static void tracer_read(struct tracer *t)
{
	char *nl, *p;
	ssize_t n;

	for (;;) {
		n = read(t->pipe, t->buf + t->len, sizeof(t->buf) - 1 - t->len);
		if (n <= 0)
			return;
		t->len += n;
		t->buf[t->len] = '\0';
		p = t->buf;
		while ((nl = strchr(p, '\n'))) {
			*nl = '\0';
			tracer_line(t, p);
			p = nl + 1;
		}
		t->len -= p - t->buf;
		memmove(t->buf, p, t->len);
	}
}

/*
 * The kernel's figures of the @n segments just sent, into @s: read until
 * @n more segments have closed (or TRACE_WAIT_MS passed: figures lost to
 * an overrun stay -1).  Returns how many arrived.
 */
static unsigned long tracer_collect(struct tracer *t, struct sample *s,
				    unsigned long n)
{
	unsigned long want = t->closed + n;
	int64_t end = mono_ns() + TRACE_WAIT_MS * 1000000LL;

	if (t->pipe < 0)
		return 0;
	t->out = s;
	t->room = n;
	for (;;) {
		tracer_read(t);
		if (t->closed >= want || mono_ns() > end)
			break;
		poll(&(struct pollfd){ .fd = t->pipe, .events = POLLIN }, 1, 10);
	}
	t->room = 0;
	return n - (want > t->closed ? want - t->closed : 0);
}

/* ---- statistics ---- */

struct stats {
	unsigned long n;
	double mean, p50, p99;	/* us */
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted @v[0..n). */
static double pct(const int64_t *v, unsigned long n, double p)
{
	unsigned long k = (unsigned long)ceil(p / 100 * n);

	return v[k ? k - 1 : 0] / 1000.0;
}

/*
 * @n samples' figures of measure @m, leaving out the send()s that timed
 * no receiving.
 */
static struct stats stats_of(const struct sample *s, unsigned long n,
			     enum measure m, int64_t *scratch)
{
	struct stats st = {};
	unsigned long i;
	double sum = 0;

	for (i = 0; i < n; i++)
		if (s[i].ns[m] >= 0 && !(m == M_SEND && s[i].deferred)) {
			scratch[st.n++] = s[i].ns[m];
			sum += s[i].ns[m];
		}
	if (!st.n)
		return st;
	qsort(scratch, st.n, sizeof(*scratch), cmp_i64);
	st.mean = sum / st.n / 1000.0;
	st.p50 = pct(scratch, st.n, 50);
	st.p99 = pct(scratch, st.n, 99);
	return st;
}

static void print_stats(const char *name, struct stats st, bool comma)
{
	if (st.n)
		printf("\"%s_us\": {\"n\": %lu, \"mean\": %.3f, \"p50\": %.3f, \"p99\": %.3f}",
		       name, st.n, st.mean, st.p50, st.p99);
	else
		printf("\"%s_us\": null", name);
	if (comma)
		printf(", ");
}

/* ---- the run ---- */

static void run_phase(enum phase ph, struct run_phase *rp, int tx, int afd,
		      const struct conn_seq *cs, struct tracer *t,
		      unsigned int bucket)
{
	unsigned int i, b, lo, hi, nb = (rp->n + bucket - 1) / bucket;
	unsigned long got, lost = 0;

	for (b = 0; b < nb; b++) {
		lo = b * bucket;
		hi = lo + bucket < rp->n ? lo + bucket : rp->n;
		for (i = lo; i < hi; i++)
			rp->s[i].ns[M_SEND] = forge(tx, cs, rp->offset[i]);
		got = tracer_collect(t, rp->s + lo, hi - lo);
		if (t->pipe >= 0)
			lost += hi - lo - got;
		rp->rmem_after[b] = rmem_of(afd);
		if ((b + 1) % 8 == 0 || b + 1 == nb)
			fprintf(stderr, "ofobench: %s: %u of %u segments sent\n",
				phase_names[ph], hi, rp->n);
	}
	if (lost)
		fprintf(stderr, "ofobench: %s: the kernel's figures of %lu segments were lost\n",
			phase_names[ph], lost);
}

/* Least-squares slope of @y[0..n) over @x[0..n). */
static double slope(const double *x, const double *y, unsigned int n)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, d;
	unsigned int i;

	for (i = 0; i < n; i++) {
		sx += x[i];
		sy += y[i];
		sxx += x[i] * x[i];
		sxy += x[i] * y[i];
	}
	d = n * sxx - sx * sx;
	return d ? (n * sxy - sx * sy) / d : 0;
}

/* How many of @n samples were received outside their send(). */
static unsigned int deferred(const struct sample *s, unsigned int n)
{
	unsigned int i, d = 0;

	for (i = 0; i < n; i++)
		d += s[i].deferred;
	return d;
}

/*
 * Each bucket of phase @ph as a JSON object.  In phase odd the queue
 * holds "depth_lo" to "depth_hi" - 1 segments as the bucket's arrive;
 * in phase even "holes_lo" to "holes_hi" holes are left as they arrive,
 * and "queue_skbs_after" is the receive memory over a lone segment's
 * (merged segments share a buffer).
 */
static void print_buckets(enum phase ph, const struct run_phase *rp,
			  unsigned int bucket, double truesize,
			  int64_t *scratch)
{
	unsigned int b, lo, hi, m, nb = (rp->n + bucket - 1) / bucket;

	printf("\"%s\": [", phase_names[ph]);
	for (b = 0; b < nb; b++) {
		lo = b * bucket;
		hi = lo + bucket < rp->n ? lo + bucket : rp->n;
		printf("%s\n  {", b ? "," : "");
		if (ph == PH_ODD)
			printf("\"depth_lo\": %u, \"depth_hi\": %u, ", lo, hi);
		else
			printf("\"holes_lo\": %u, \"holes_hi\": %u, \"queue_skbs_after\": %.0f, ",
			       rp->n - hi + 1, rp->n - lo,
			       truesize > 0 ? rp->rmem_after[b] / truesize : 0);
		printf("\"rmem_after\": %ld, \"deferred\": %u, ", rp->rmem_after[b],
		       deferred(rp->s + lo, hi - lo));
		for (m = 0; m < NR_MEASURES; m++)
			print_stats(measure_names[m],
				    stats_of(rp->s + lo, hi - lo, m, scratch),
				    m + 1 < NR_MEASURES);
		printf("}");
	}
	printf("]");
}

/*
 * Phase odd's flatness, per measure: the deepest full bucket's mean,
 * median and 99th percentile over the shallowest's, and two fits of the
 * buckets' medians against their middle depth: the slope per 1000 of
 * depth (a list walked from its head grows so, linearly) and per doubling
 * of the depth (a balanced tree's walk grows so, logarithmically).
 */
static void print_flatness(const struct run_phase *rp, unsigned int bucket,
			   int64_t *scratch)
{
	unsigned int nb = rp->n / bucket, b, m;
	struct stats first, last, st;
	double *depth, *log2d, *p50;
	bool comma = false;

	printf("\"flatness\": {");
	if (nb < 2) {
		printf("}");
		return;
	}
	depth = xcalloc(nb, sizeof(*depth));
	log2d = xcalloc(nb, sizeof(*log2d));
	p50 = xcalloc(nb, sizeof(*p50));
	for (m = 0; m < NR_MEASURES; m++) {
		first = stats_of(rp->s, bucket, m, scratch);
		last = stats_of(rp->s + (nb - 1) * bucket, bucket, m, scratch);
		if (!first.n || !last.n)
			continue;
		for (b = 0; b < nb; b++) {
			st = stats_of(rp->s + b * bucket, bucket, m, scratch);
			depth[b] = b * bucket + bucket / 2.0;
			log2d[b] = log2(depth[b]);
			p50[b] = st.p50;
		}
		printf("%s\"%s\": {\"shallowest_depth\": %u, \"deepest_depth\": %u, "
		       "\"ratio_mean\": %.3f, \"ratio_p50\": %.3f, \"ratio_p99\": %.3f, "
		       "\"p50_slope_us_per_1k_depth\": %.5f, "
		       "\"p50_slope_us_per_doubling\": %.4f}",
		       comma ? ", " : "", measure_names[m], bucket / 2,
		       (nb - 1) * bucket + bucket / 2,
		       last.mean / first.mean, last.p50 / first.p50,
		       last.p99 / first.p99, slope(depth, p50, nb) * 1000,
		       slope(log2d, p50, nb));
		comma = true;
	}
	printf("}");
	free(depth);
	free(log2d);
	free(p50);
}

static void write_samples(const char *path, const struct run_phase *rp,
			  const struct sample *fill)
{
	FILE *f = fopen(path, "we");
	unsigned int ph, i, m;

	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "# phase\tindex\toffset\tsend_ns\tsegment_ns\tinsert_ns\tdeferred\n");
	for (ph = 0; ph < NR_PHASES; ph++)
		for (i = 0; i < rp[ph].n; i++) {
			fprintf(f, "%s\t%u\t%u", phase_names[ph], i,
				rp[ph].offset[i]);
			for (m = 0; m < NR_MEASURES; m++)
				fprintf(f, "\t%" PRId64, rp[ph].s[i].ns[m]);
			fprintf(f, "\t%d\n", rp[ph].s[i].deferred);
		}
	fprintf(f, "fill\t0\t0");
	for (m = 0; m < NR_MEASURES; m++)
		fprintf(f, "\t%" PRId64, fill->ns[m]);
	fprintf(f, "\t%d\n", fill->deferred);
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}

static void usage(void)
{
	fprintf(stderr, "usage: ofobench -1 NETNS1 -2 NETNS2 -d DEV1 [-n SEGMENTS] [-b BUCKET]\n"
			"                [-s SEED] [-r RCVBUF] [-t TRACEDIR] [-S SAMPLES]\n");
	exit(2);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .segments = 262144, .bucket = 1024, .seed = 1 };
	while ((c = getopt(argc, argv, "1:2:d:n:b:s:r:t:S:")) != -1) {
		switch (c) {
		case '1':
			o->ns_path[NODE1] = optarg;
			break;
		case '2':
			o->ns_path[NODE2] = optarg;
			break;
		case 'd':
			o->dev1 = optarg;
			break;
		case 'n':
			o->segments = parse_long(optarg, 2, MAX_SEGMENTS, "segments");
			break;
		case 'b':
			o->bucket = parse_long(optarg, 1, MAX_SEGMENTS, "bucket");
			break;
		case 's':
			o->seed = parse_long(optarg, 0, LONG_MAX, "seed");
			break;
		case 'r':
			o->rcvbuf = parse_long(optarg, 0, INT32_MAX - 1, "receive buffer");
			break;
		case 't':
			o->trace = optarg;
			break;
		case 'S':
			o->samples = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !o->ns_path[NODE1] || !o->ns_path[NODE2] || !o->dev1)
		usage();
	if (o->bucket > o->segments)
		die("a bucket of %u is more than the %u segments", o->bucket,
		    o->segments);
	/*
	 * A queued one-byte segment costs some 1 KiB of buffer (its skb's
	 * truesize); twice that, and room for the first bytes.
	 */
	if (!o->rcvbuf)
		o->rcvbuf = (long)o->segments * 2048 + (1 << 20);
	if (o->rcvbuf > INT32_MAX - 1)
		o->rcvbuf = INT32_MAX - 1;
}

int main(int argc, char **argv)
{
	struct run_phase rp[NR_PHASES] = {};
	long drops0, pruned0, outsegs0, drops, pruned, outsegs;
	struct sample fill = { .ns = { -1, -1, -1 } };
	unsigned long total, have, bad;
	int family, cfd, afd, tx, statfd, ph;
	struct migtcp_info info;
	struct conn_seq cs = {};
	unsigned int i, n;
	double truesize, start = mono_s();
	int64_t *scratch;
	char kprobes[2048];
	struct tracer *t;
	struct opts o;

	prog_name = "ofobench";
	parse_opts(argc, argv, &o);
	rng_state = o.seed;
	n = o.segments;
	total = 2UL * n;	/* offsets 0 .. 2N-1 */
	for (i = NODE1; i <= NODE2; i++) {
		ns_fd[i] = open(o.ns_path[i], O_RDONLY | O_CLOEXEC);
		if (ns_fd[i] < 0)
			die("%s: %s", o.ns_path[i], strerror(errno));
	}
	family = migtcp_family();
	proto = migtcp_proto();
	if (family < 0 || proto < 0)
		die("is migtcp loaded?");

	rp[PH_ODD].n = n;
	rp[PH_EVEN].n = n - 1;
	for (ph = 0; ph < NR_PHASES; ph++) {
		rp[ph].offset = xcalloc(rp[ph].n, sizeof(*rp[ph].offset));
		rp[ph].s = xcalloc(rp[ph].n, sizeof(*rp[ph].s));
		rp[ph].rmem_after = xcalloc(rp[ph].n / o.bucket + 1,
					    sizeof(*rp[ph].rmem_after));
		for (i = 0; i < rp[ph].n; i++) {
			rp[ph].offset[i] = 2 * i + (ph == PH_ODD ? 1 : 2);
			rp[ph].s[i] = fill;
		}
		shuffle(rp[ph].offset, rp[ph].n);
	}
	scratch = xcalloc(n, sizeof(*scratch));
	t = xcalloc(1, sizeof(*t));
	tracer_init(t, o.trace);
	tracer_enable(t, true);

	setup_connection(family, o.rcvbuf, &cfd, &afd, &cs);
	if (get_info(afd, &info))
		die("MIGTCP_INFO: %s", strerror(errno));
	if (info.rcv_wnd < total)
		die("node 2 offers a window of %u bytes, less than the %lu forged: a larger receive buffer (-r), rmem[2] or net.core.rmem_max",
		    info.rcv_wnd, total);
	on_node(NODE2);
	statfd = open("/proc/net/migtcp_stats", O_RDONLY | O_CLOEXEC);
	if (statfd < 0)
		die("/proc/net/migtcp_stats: %s", strerror(errno));
	drops0 = stat_of(statfd, "RcvbufDrops");
	pruned0 = stat_of(statfd, "OfoPruned");
	outsegs0 = stat_of(statfd, "OutSegs");
	if (drops0 < 0 || pruned0 < 0 || outsegs0 < 0)
		die("node 2 has no RcvbufDrops, OfoPruned or OutSegs counter");

	/* Node 2's answers stop at node 1's device (see the top). */
	on_node(NODE1);
	if (sh("tc qdisc add dev %s clsact && tc filter add dev %s ingress protocol ip pref 1 u32 match ip protocol %d 0xff action drop",
	       o.dev1, o.dev1, proto))
		die("cannot drop node 2's answers on %s (tc, sch_ingress, cls_u32, act_gact)",
		    o.dev1);
	tx = forge_socket();
	warm_up(tx, afd, &cs, o.bucket < 1024 ? o.bucket : 1024);
	if (get_info(afd, &info))
		die("MIGTCP_INFO: %s", strerror(errno));
	if (info.rcv_wnd < total)
		die("node 2's window shrank to %u bytes", info.rcv_wnd);

	fprintf(stderr, "ofobench: %u segments at odd offsets, then %u at even ones, then the gap; buckets of %u\n",
		n, n - 1, o.bucket);
	tracer_read(t);		/* the handshake's and warm-up's */
	t->closed = 0;
	run_phase(PH_ODD, &rp[PH_ODD], tx, afd, &cs, t, o.bucket);
	truesize = (double)rp[PH_ODD].rmem_after[(n - 1) / o.bucket] / n;
	run_phase(PH_EVEN, &rp[PH_EVEN], tx, afd, &cs, t, o.bucket);
	fill.ns[M_SEND] = forge(tx, &cs, 0);
	tracer_collect(t, &fill, 1);
	if (t->pipe >= 0)
		kprobes_json(kprobes, sizeof(kprobes));
	else
		snprintf(kprobes, sizeof(kprobes), "[]");
	tracer_enable(t, false);

	bad = read_stream(afd, total, &have);
	drops = stat_of(statfd, "RcvbufDrops") - drops0;
	pruned = stat_of(statfd, "OfoPruned") - pruned0;
	outsegs = stat_of(statfd, "OutSegs") - outsegs0;

	printf("{\"segments\": %u, \"bucket\": %u, \"seed\": %" PRIu64 ", "
	       "\"rcvbuf\": %ld, \"window_offered\": %u, "
	       "\"truesize_per_queued_segment\": %.0f, \"kernel_figures\": %s, "
	       "\"insert_probe\": %s, \"kprobes\": %s, \"send_retries\": %lu,\n",
	       n, o.bucket, o.seed, o.rcvbuf, info.rcv_wnd, truesize,
	       t->pipe >= 0 ? "true" : "false",
	       t->pipe >= 0 && t->id[P_INS] >= 0 ? "true" : "false", kprobes,
	       send_retries);
	printf("\"buckets\": {");
	for (ph = 0; ph < NR_PHASES; ph++) {
		print_buckets(ph, &rp[ph], o.bucket, truesize, scratch);
		printf("%s", ph + 1 < NR_PHASES ? ",\n" : "},\n");
	}
	print_flatness(&rp[PH_ODD], o.bucket, scratch);
	printf(",\n\"fill\": {\"bytes\": %lu, ", total);
	for (i = 0; i < NR_MEASURES; i++)
		if (fill.ns[i] >= 0)
			printf("\"%s_us\": %.3f, ", measure_names[i], fill.ns[i] / 1000.0);
	printf("\"rmem_before\": %ld},\n", rp[PH_EVEN].rmem_after[(n - 2) / o.bucket]);
	printf("\"verified\": {\"bytes_expected\": %lu, \"bytes_read\": %lu, \"bytes_wrong\": %lu, "
	       "\"rcvbuf_drops\": %ld, \"ofo_pruned\": %ld, \"node2_out_segs\": %ld, \"ok\": %s},\n",
	       total, have, bad, drops, pruned, outsegs,
	       have == total && !bad && !drops && !pruned ? "true" : "false");
	printf("\"elapsed_seconds\": %.1f}\n", mono_s() - start);

	if (o.samples)
		write_samples(o.samples, rp, &fill);
	fprintf(stderr, "ofobench: %lu of %lu bytes read, %lu wrong; RcvbufDrops +%ld, OfoPruned +%ld\n",
		have, total, bad, drops, pruned);
	close(tx);
	close(cfd);
	close(afd);
	return have == total && !bad && !drops && !pruned ? 0 : 1;
}
