// SPDX-License-Identifier: GPL-2.0
/*
 * The module's tracepoints, as a user of ftrace sees them under
 * /sys/kernel/tracing/events/migtcp/: migtcp_set_state names every state
 * change of every socket, in order, by its endpoints; migtcp_drop names
 * the /proc/net/migtcp_stats counter that counted the dropped segment;
 * migtcp_retransmit fires once per retransmitted skb (a GSO packet may
 * hold several segments: its segs= field says how many), so that the
 * segments of its lines and the RetransSegs counter agree.
 *
 * Every test builds its own two-node cluster (cluster.h) and uses ports
 * of its own (TRACE_PORT and up), so that no line of another test's
 * sockets (a TIME_WAIT expiring late in a namespace still being torn
 * down) can be taken for one of its own.  Tracing is global: each test
 * starts from a disabled, empty trace and leaves it so; a destructor of
 * the main process does it again in case a test bailed out half way.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/stat.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"
#include "stream.h"

#define TRACING		"/sys/kernel/tracing"
#define EVENTS		TRACING "/events/migtcp"

/* Ports no other selftest uses: see the comment at the top. */
#define TRACE_PORT	7400

static const char * const trace_events[] = {
	"migtcp_set_state", "migtcp_drop", "migtcp_retransmit",
};

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int read_long(const char *path, long *v)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%ld", v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

/* Disables the migtcp events and empties the trace buffer. */
static int trace_stop(void)
{
	char path[128];
	unsigned int i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(trace_events); i++) {
		snprintf(path, sizeof(path), EVENTS "/%s/enable",
			 trace_events[i]);
		if (!access(path, F_OK) && write_str(path, "0"))
			ret = -1;
	}
	/* Opening "trace" with O_TRUNC clears the buffers of all CPUs. */
	if (!access(TRACING "/trace", F_OK) && write_str(TRACING "/trace", ""))
		ret = -1;
	return ret;
}

static void __attribute__((destructor)) trace_cleanup(void)
{
	trace_stop();
}

/*
 * Mounts tracefs where the kernel expects it (the VM mounts only sysfs
 * there), then enables the migtcp events on an empty buffer with
 * tracing on.
 */
static void trace_start(struct __test_metadata *_metadata)
{
	char path[128];
	unsigned int i;

	if (access(TRACING "/events", F_OK))
		ASSERT_EQ(0, mount("tracefs", TRACING, "tracefs", 0, NULL))
			TH_LOG("mount tracefs on " TRACING ": %s",
			       strerror(errno));
	ASSERT_EQ(0, access(EVENTS, F_OK))
		TH_LOG(EVENTS ": %s (a module without tracepoints?)",
		       strerror(errno));
	ASSERT_EQ(0, trace_stop());
	ASSERT_EQ(0, write_str(TRACING "/tracing_on", "1"));
	for (i = 0; i < ARRAY_SIZE(trace_events); i++) {
		snprintf(path, sizeof(path), EVENTS "/%s/enable",
			 trace_events[i]);
		ASSERT_EQ(0, write_str(path, "1"))
			TH_LOG("enable %s: %s", trace_events[i],
			       strerror(errno));
	}
}

/* Lost events would make every count below meaningless. */
static long trace_overruns(void)
{
	char path[128], line[128];
	long total = 0, v;
	int cpu;

	for (cpu = 0; ; cpu++) {
		FILE *f;

		snprintf(path, sizeof(path), TRACING "/per_cpu/cpu%d/stats",
			 cpu);
		f = fopen(path, "re");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "overrun: %ld", &v) == 1)
				total += v;
		fclose(f);
	}
	return total;
}

#define MAX_LINES	4096
#define LINE_LEN	192

/* The lines of @event in the trace: what its TP_printk printed. */
struct trace_lines {
	int n;
	char line[MAX_LINES][LINE_LEN];
};

static void trace_read(struct __test_metadata *_metadata, const char *event,
		       struct trace_lines *out)
{
	char line[512], tag[64];
	FILE *f;

	snprintf(tag, sizeof(tag), " %s: ", event);
	out->n = 0;
	f = fopen(TRACING "/trace", "re");
	ASSERT_NE(NULL, f) TH_LOG(TRACING "/trace: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, tag);

		if (!p || line[0] == '#')
			continue;
		p += strlen(tag);
		p[strcspn(p, "\n")] = 0;
		if (out->n < MAX_LINES)
			snprintf(out->line[out->n], LINE_LEN, "%s", p);
		out->n++;
	}
	fclose(f);
	EXPECT_GE(MAX_LINES, out->n) TH_LOG("more %s lines than expected",
					    event);
	if (out->n > MAX_LINES)
		out->n = MAX_LINES;
}

static void dump_lines(const char *event, const struct trace_lines *t)
{
	int i;

	fprintf(stderr, "# %d %s lines:\n", t->n, event);
	for (i = 0; i < t->n && i < 64; i++)
		fprintf(stderr, "#   %s\n", t->line[i]);
}

/* ---- migtcp_set_state ---- */

/* A migtcp_set_state line, parsed. */
struct state_line {
	char sk[24];
	char ends[80];		/* "1:7401 -> 2:7400" */
	char change[40];	/* "CLOSE -> SYN_SENT" */
};

static bool parse_state_line(const char *line, struct state_line *p)
{
	char l[32], r[32], from[16], to[16];

	if (sscanf(line, "sk=%23s %31s -> %31s %15s -> %15s", p->sk, l, r,
		   from, to) != 5)
		return false;
	snprintf(p->ends, sizeof(p->ends), "%s -> %s", l, r);
	snprintf(p->change, sizeof(p->change), "%s -> %s", from, to);
	return true;
}

/*
 * The transitions migtcp_set_state traced for the socket whose endpoints
 * are @ends ("1:7401 -> 2:7400"), in order, as "OLD -> NEW" strings: the
 * lines of the socket (sk=) that first shows @ends.  *@misnamed counts
 * its lines that name other endpoints, the first of which goes to
 * @other.
 */
static int transitions_of(const struct trace_lines *t, const char *ends,
			  char (*out)[40], int max, int *misnamed,
			  char *other, size_t other_len)
{
	struct state_line p;
	char sk[24] = "";
	int i, n = 0;

	*misnamed = 0;
	for (i = 0; i < t->n; i++) {
		if (!parse_state_line(t->line[i], &p))
			continue;
		if (!sk[0] && !strcmp(p.ends, ends))
			snprintf(sk, sizeof(sk), "%s", p.sk);
		if (!sk[0] || strcmp(p.sk, sk))
			continue;
		if (strcmp(p.ends, ends) && !(*misnamed)++)
			snprintf(other, other_len, "%s (%s)", p.ends, p.change);
		if (n < max)
			snprintf(out[n], sizeof(out[n]), "%s", p.change);
		n++;
	}
	return n;
}

/*
 * Checks that socket @ends went exactly through @want, in that order,
 * and that every line of it names its endpoints.
 */
static bool expect_transitions(struct __test_metadata *_metadata,
			       const struct trace_lines *t, const char *ends,
			       const char * const *want, int n_want)
{
	char got[16][40], other[128];
	int n, i, misnamed;
	bool ok = true;

	n = transitions_of(t, ends, got, 16, &misnamed, other, sizeof(other));
	for (i = 0; i < n_want && i < n; i++)
		if (strcmp(got[i], want[i]))
			break;
	if (i != n_want || n != n_want) {
		TH_LOG("%s: %d transitions, %d expected; first difference at %d: %s, expected %s",
		       ends, n, n_want, i, i < n ? got[i] : "none",
		       i < n_want ? want[i] : "none");
		ok = false;
	}
	if (misnamed) {
		TH_LOG("%s: %d of its lines name other endpoints, first %s",
		       ends, misnamed, other);
		ok = false;
	}
	if (!ok)
		_metadata->passed = 0;
	return ok;
}

/* Whether the trace already has the line of socket @ends going @change. */
static bool traced(struct __test_metadata *_metadata, const char *ends,
		   const char *change)
{
	static struct trace_lines t;
	char got[16][40], other[128];
	int n, i, misnamed;

	trace_read(_metadata, "migtcp_set_state", &t);
	n = transitions_of(&t, ends, got, 16, &misnamed, other, sizeof(other));
	for (i = 0; i < n && i < 16; i++)
		if (!strcmp(got[i], change))
			return true;
	return false;
}

static bool wait_traced(struct __test_metadata *_metadata, const char *ends,
			const char *change, long ms)
{
	long deadline = now_ms() + ms;

	do {
		if (traced(_metadata, ends, change))
			return true;
		sleep_ms(20);
	} while (now_ms() < deadline);
	return false;
}

/* How long a TIME_WAIT lasts, as the module is configured. */
static long timewait_ms(void)
{
	long secs = 60;

	read_long("/sys/module/migtcp/parameters/timewait_secs", &secs);
	return secs * 1000;
}

/*
 * A connection from node 1 (bound to port TRACE_PORT + 1) to a listener
 * of node 2 on TRACE_PORT, accepted, then closed first by the client: its
 * FIN is acknowledged (FIN_WAIT2) before the server, having read EOF,
 * closes too.  Each of the three sockets goes through exactly the states
 * of RFC 9293's diagram, as Linux's tcp:tcp_set_state shows them for TCP
 * (an accepted socket appears in SYN_RECV without a line of its own, as
 * TCP's request socks do), and nothing else is traced.  Every line names
 * the socket's endpoints, the last one (-> CLOSE) too: that is how a user
 * finds a connection's lines, and tcp:tcp_set_state's last line does.
 */
TEST_F_TIMEOUT(cluster, set_state_connect_accept_close, 90)
{
	static const char * const client[] = {
		"CLOSE -> SYN_SENT", "SYN_SENT -> ESTABLISHED",
		"ESTABLISHED -> FIN_WAIT1", "FIN_WAIT1 -> FIN_WAIT2",
		"FIN_WAIT2 -> TIME_WAIT", "TIME_WAIT -> CLOSE",
	};
	static const char * const server[] = {
		"SYN_RECV -> ESTABLISHED", "ESTABLISHED -> CLOSE_WAIT",
		"CLOSE_WAIT -> LAST_ACK", "LAST_ACK -> CLOSE",
	};
	static const char * const listening[] = {
		"CLOSE -> LISTEN", "LISTEN -> CLOSE",
	};
	static struct trace_lines t;
	char cl[64], sv[64], ls[64], c;
	int lfd, cfd, afd;
	bool ok;

	snprintf(cl, sizeof(cl), "%u:%u -> %u:%u", NODE1, TRACE_PORT + 1,
		 NODE2, TRACE_PORT);
	snprintf(sv, sizeof(sv), "%u:%u -> %u:%u", NODE2, TRACE_PORT,
		 NODE1, TRACE_PORT + 1);
	snprintf(ls, sizeof(ls), "%u:%u -> 0:0", NODE2, TRACE_PORT);

	trace_start(_metadata);
	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, TRACE_PORT, 1);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, bind_to(cfd, self->family, 0, TRACE_PORT + 1))
		TH_LOG("bind: %s", strerror(errno));
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, TRACE_PORT))
		TH_LOG("connect: %s", strerror(errno));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);

	ASSERT_EQ(0, close(cfd));
	ASSERT_EQ(0, recv(afd, &c, 1, 0)) TH_LOG("no EOF: %s", strerror(errno));
	/* Only then is the order of the client's states certain. */
	ASSERT_TRUE(wait_traced(_metadata, cl, "FIN_WAIT1 -> FIN_WAIT2",
				WAIT_MS))
		TH_LOG("the client's FIN was not acknowledged");
	ASSERT_EQ(0, close(afd));
	ASSERT_EQ(0, close(lfd));
	/* Without it, the lines below say what happened instead. */
	EXPECT_TRUE(wait_traced(_metadata, cl, "TIME_WAIT -> CLOSE",
				timewait_ms() + 2000))
		TH_LOG("no end of the client's TIME_WAIT traced");
	/* The server left LAST_ACK when the client entered TIME_WAIT. */

	trace_read(_metadata, "migtcp_set_state", &t);
	ok = expect_transitions(_metadata, &t, cl, client, ARRAY_SIZE(client));
	ok &= expect_transitions(_metadata, &t, sv, server, ARRAY_SIZE(server));
	ok &= expect_transitions(_metadata, &t, ls, listening,
				 ARRAY_SIZE(listening));
	EXPECT_EQ((int)(ARRAY_SIZE(client) + ARRAY_SIZE(server) +
			ARRAY_SIZE(listening)), t.n)
		TH_LOG("lines of other sockets, or unparsable ones");
	EXPECT_EQ(0, trace_overruns());
	if (!ok || t.n != (int)(ARRAY_SIZE(client) + ARRAY_SIZE(server) +
				ARRAY_SIZE(listening)))
		dump_lines("migtcp_set_state", &t);
	EXPECT_EQ(0, trace_stop());
}

/* ---- migtcp_drop ---- */

#define SEG_PAYLOAD	100
#define SEG_LEN		(sizeof(struct migtcphdr) + SEG_PAYLOAD)

/*
 * A data segment from node 1 to node 2 (ports of no socket: these are
 * dropped before any lookup) with @flags and a correct checksum over the
 * pseudo-header.
 */
static void build_segment(__u8 *seg, __u16 flags)
{
	__u8 buf[12 + SEG_LEN];
	struct migtcphdr h = {
		.version = MIGTCP_WIRE_VERSION,
		.doff = MIGTCP_HDR_MIN_DOFF,
		.flags = htons(flags),
		.src_node = htonl(NODE1),
		.dst_node = htonl(NODE2),
		.src_port = htons(TRACE_PORT + 21),
		.dst_port = htons(TRACE_PORT + 20),
		.seq = htonl(1000),
		.ack_seq = htonl(2000),
		.window = htons(65535),
	};
	__u16 check;

	memcpy(seg, &h, sizeof(h));
	memset(seg + sizeof(h), 0xab, SEG_PAYLOAD);
	inet_pton(AF_INET, NODE1_ADDR, buf);
	inet_pton(AF_INET, NODE2_ADDR, buf + 4);
	buf[8] = 0;
	buf[9] = migtcp_proto();
	buf[10] = SEG_LEN >> 8;
	buf[11] = SEG_LEN & 0xff;
	memcpy(buf + 12, seg, SEG_LEN);
	check = inet_csum(buf, sizeof(buf));
	seg[offsetof(struct migtcphdr, check)] = check >> 8;
	seg[offsetof(struct migtcphdr, check) + 1] = check & 0xff;
}

/*
 * Sends @seg from node 1's raw socket @tx and waits until node 2's
 * counter @name has risen by one from @before.
 */
static void inject_counted(struct __test_metadata *_metadata, CLUSTER *self,
			   int tx, const __u8 *seg, const char *name)
{
	const struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = inet_addr(NODE2_ADDR),
	};
	long before = node_stat(self, NODE2, name), now = before;
	int i;

	ASSERT_LE(0, before) TH_LOG("no counter %s", name);
	ASSERT_EQ((ssize_t)SEG_LEN,
		  migtcp_test_sendto(tx, seg, SEG_LEN,
				     (const struct sockaddr *)&to, sizeof(to)))
		TH_LOG("sendto: %s", strerror(errno));
	for (i = 0; i < 100 && now == before; i++) {
		sleep_ms(20);
		now = node_stat(self, NODE2, name);
	}
	EXPECT_EQ(before + 1, now) TH_LOG("%s went from %ld to %ld", name,
					  before, now);
}

/*
 * A segment with a corrupted checksum, then one with a reserved flag bit
 * set, sent to node 2 from a raw socket on node 1: each is counted once
 * and traced once, by its addresses, its length (the migtcp header and
 * payload) and the name of its counter.
 */
TEST_F(cluster, drop_names_the_counter)
{
	static struct trace_lines t;
	char want[2][LINE_LEN];
	__u8 seg[SEG_LEN];
	int tx, i;

	ON_NODE(NODE1);
	tx = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, migtcp_proto());
	ASSERT_LE(0, tx) TH_LOG("raw socket: %s", strerror(errno));
	trace_start(_metadata);

	build_segment(seg, MIGTCP_F_ACK | MIGTCP_F_PSH);
	seg[offsetof(struct migtcphdr, check)] ^= 0x5a;
	inject_counted(_metadata, self, tx, seg, "InCsumErrors");
	/* Bit 9: no version of the protocol defines it. */
	build_segment(seg, MIGTCP_F_ACK | MIGTCP_F_PSH | 0x0200);
	inject_counted(_metadata, self, tx, seg, "InBadFlags");

	snprintf(want[0], LINE_LEN, "%s -> %s len=%zu InCsumErrors",
		 NODE1_ADDR, NODE2_ADDR, SEG_LEN);
	snprintf(want[1], LINE_LEN, "%s -> %s len=%zu InBadFlags",
		 NODE1_ADDR, NODE2_ADDR, SEG_LEN);
	trace_read(_metadata, "migtcp_drop", &t);
	EXPECT_EQ(2, t.n);
	for (i = 0; i < 2 && i < t.n; i++)
		EXPECT_STREQ(want[i], t.line[i]);
	if (t.n != 2 || !_metadata->passed)
		dump_lines("migtcp_drop", &t);
	EXPECT_EQ(0, trace_overruns());
	EXPECT_EQ(0, trace_stop());
	close(tx);
}

/* ---- migtcp_retransmit ---- */

/* Whether @ps has port *@arg (a ":port" string) at either end. */
static bool has_port(const struct proc_sock *ps, const void *arg)
{
	const char *p = arg;

	return !strcmp(strchr(ps->local, ':'), p) ||
	       !strcmp(strchr(ps->remote, ':') ?: "", p);
}

/* Sockets of the current node with @port at either end. */
static int sockets_with_port(unsigned int port)
{
	char p[16];

	snprintf(p, sizeof(p), ":%u", port);
	return count_proc_sockets(has_port, p);
}

/* Segments traced as retransmitted towards @node:@port, and their bytes. */
static int retransmits_to(const struct trace_lines *t, unsigned int node,
			  unsigned int port, long *bytes, int *below_una,
			  int *lines)
{
	unsigned int rn, rp, seq, len, una, cwnd, rto, segs;
	int i, n = 0;

	*bytes = 0;
	*below_una = 0;
	for (i = 0; i < t->n; i++) {
		if (sscanf(t->line[i],
			   "sk=%*s to %u:%u seq=%u len=%u snd_una=%u cwnd=%u rto=%ums segs=%u",
			   &rn, &rp, &seq, &len, &una, &cwnd, &rto, &segs) != 8 ||
		    rn != node || rp != port)
			continue;
		n += segs;
		(*lines)++;
		*bytes += len;
		if ((int)(seq - una) < 0)
			(*below_una)++;
	}
	return n;
}

/*
 * 2 MiB from node 1 to node 2 and 256 KiB back while node 1's side of the
 * veth loses 5% of what it sends, and every 16th of its packets of data
 * (at least 32 of them: the loss is certain, add_determ_loss()): node 1
 * retransmits data, node 2 perhaps its FIN.  Once both connections are
 * gone (nothing can be retransmitted any more), the segments of each
 * node's migtcp_retransmit lines number exactly what its RetransSegs
 * counter gained, and node 1's are at least one.
 */
TEST_F_TIMEOUT(cluster, retransmit_lines_match_retrans_segs, 120)
{
	const unsigned int lport = TRACE_PORT + 10, cport = TRACE_PORT + 11;
	static struct trace_lines t;
	long before1, before2, after1, after2, bytes1, bytes2, deadline;
	int lfd, cfd, afd, n1, n2, below1, below2, lines;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, lport, 1);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, bind_to(cfd, self->family, 0, cport));
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, lport))
		TH_LOG("connect: %s", strerror(errno));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, close(lfd));

	trace_start(_metadata);
	before1 = node_stat(self, NODE1, "RetransSegs");
	before2 = node_stat(self, NODE2, "RetransSegs");
	ASSERT_LE(0, before1);
	ASSERT_LE(0, before2);
	add_netem(_metadata, self, NODE1, "loss 5%");
	add_determ_loss(_metadata, self, NODE1, 16);
	TRANSFER(cfd, afd, 2 * MiB, 256 * KiB, 64 * KiB);
	expect_netem_dropped(_metadata, self, NODE1);
	close(cfd);
	close(afd);

	/* Until TIME_WAIT is over on whichever side it is. */
	deadline = now_ms() + timewait_ms() + 10000;
	for (;;) {
		ON_NODE(NODE1);
		n1 = sockets_with_port(lport);
		ON_NODE(NODE2);
		n2 = sockets_with_port(lport);
		if ((!n1 && !n2) || now_ms() > deadline)
			break;
		sleep_ms(100);
	}
	ASSERT_EQ(0, n1 + n2) TH_LOG("the connection outlived TIME_WAIT");

	after1 = node_stat(self, NODE1, "RetransSegs");
	after2 = node_stat(self, NODE2, "RetransSegs");
	trace_read(_metadata, "migtcp_retransmit", &t);
	lines = 0;
	n1 = retransmits_to(&t, NODE2, lport, &bytes1, &below1, &lines);
	n2 = retransmits_to(&t, NODE1, cport, &bytes2, &below2, &lines);
	fprintf(stderr, "# node 1: %d retransmitted segments (%ld bytes, %d starting below snd_una), RetransSegs %ld -> %ld\n",
		n1, bytes1, below1, before1, after1);
	fprintf(stderr, "# node 2: %d retransmitted segments (%ld bytes, %d starting below snd_una), RetransSegs %ld -> %ld\n",
		n2, bytes2, below2, before2, after2);
	EXPECT_LE(1, n1);
	EXPECT_EQ(after1 - before1, n1);
	EXPECT_EQ(after2 - before2, n2);
	EXPECT_EQ(t.n, lines) TH_LOG("lines of other sockets");
	EXPECT_EQ(0, trace_overruns());
	if (!_metadata->passed)
		dump_lines("migtcp_retransmit", &t);
	EXPECT_EQ(0, trace_stop());
}

TEST_HARNESS_MAIN
