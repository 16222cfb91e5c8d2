// SPDX-License-Identifier: GPL-2.0
/*
 * migtcp IPv4 protocol handler and /proc selftests: every segment that
 * reaches the handler is counted exactly once in its network namespace's
 * /proc/net/migtcp_stats (valid, short, bad checksum, bad version, bad
 * data offset, not unicast to this host, and the order of those checks),
 * counters are per namespace, and /proc/net/migtcp lists exactly the
 * AF_MIGTCP sockets of the reader's namespace with their owner and inode.
 *
 * Each test runs in a network namespace of its own (only lo, up), so all
 * counters start at 0.  Segments are sent with an IPv4 raw socket of the
 * module's protocol number; a second raw socket of that protocol sees
 * every copy the stack delivers, which tells how many the handler got.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

/*
 * The 6.1 harness's TEST() wrappers and timeout handler have parameters
 * they do not use; -Wextra would reject every test this file defines.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"

#define STATS_PATH	"/proc/net/migtcp_stats"
#define SOCKS_PATH	"/proc/net/migtcp"
#define HDR_LEN		((int)sizeof(struct migtcphdr))
#define MAX_SEG		512
#define NOBODY_UID	65534UL
#define THIS_NODE	1	/* the node id of each test's namespace */

static_assert(sizeof(struct migtcphdr) == 28, "wire header is 28 bytes");

enum {
	ST_SEGS,
	ST_HDR,
	ST_CSUM,
	ST_VERSION,
	ST_ADDR,
	ST_NOSOCK,
	ST_WRONGNODE,
	ST_OUTSEGS,
	ST_OUTRSTS,
	ST_NOROUTE,
	ST_LISTENDROPS,
	ST_BACKLOGDROPS,
	ST_RETRANS,
	ST_RCVBUFDROPS,
	ST_OFOPRUNED,
	ST_CHALLENGEACKS,
	ST_DELAYEDACKS,
	ST_BADFLAGS,
	ST_WINDOWDROPS,
	ST_KXERRORS,
	ST_CTLERRORS,
	ST_CTLNOSTATE,
	ST_CTLBADMAC,
	ST_CTLSTALEEPOCH,
	ST_CTLBADHOST,
	ST_MOVED,
	ST_OUTCTL,
	ST_BADENDPOINT,
	ST_CTLTIMEOUTS,
	ST_HSBADMAC,
	ST_HSNOMAC,
	ST_SYNBADSOURCE,
	ST_XFRMDROPS,
	ST_FILTERDROPS,
	ST_LEASESLOST,
	ST_ABORTONMEMORY,
	ST_ABORTONDATA,
	ST_OOWICMPS,
	ST_COOKIES_SENT,
	ST_COOKIES_RECV,
	ST_COOKIES_FAILED,
	ST_CTL_MAC_LIMITED,
	ST_IN_SACK_BLOCKS,
	ST_IN_DSACKS,
	ST_IN_SACK_INVALID,
	ST_OUT_SACK_BLOCKS,
	ST_OUT_DSACKS,
	ST_DSACK_UNDO,
	ST_TIMEOUTS,
	ST_RACK_LOST,
	ST_RACK_REO_TIMEOUTS,
	ST_TLP_PROBES,
	ST_TLP_RECOVERIES,
	ST_NR,
};

static const char * const stat_names[ST_NR] = {
	"InSegs", "InHdrErrors", "InCsumErrors", "InBadVersion",
	"InAddrErrors", "InNoSocket", "InWrongNode", "OutSegs", "OutRsts",
	"OutNoRoute", "ListenDrops", "InBacklogDrops", "RetransSegs",
	"RcvbufDrops", "OfoPruned", "ChallengeAcks", "DelayedAcks",
	"InBadFlags", "InWindowDrops", "InKxErrors", "InCtlErrors",
	"InCtlNoState", "InCtlBadMac", "InCtlStaleEpoch", "InCtlBadHost",
	"InMoved", "OutCtl", "InBadEndpoint", "CtlTimeouts", "InHsBadMac",
	"InHsNoMac", "InSynBadSource", "InXfrmDrops", "InFilterDrops",
	"LeasesLost", "AbortOnMemory", "AbortOnData", "OutOfWindowIcmps",
	"SyncookiesSent", "SyncookiesRecv", "SyncookiesFailed",
	"InCtlMacLimited", "InSackBlocks", "InDsacks", "InSackInvalid",
	"OutSackBlocks", "OutDsacks", "DsackUndo", "Timeouts", "RackLost",
	"RackReoTimeouts", "TlpProbes", "TlpRecoveries",
};

struct mig_stats {
	unsigned long long v[ST_NR];
};

/* One line of /proc/net/migtcp. */
struct sock_entry {
	unsigned long sl;
	unsigned long lnode, lport, rnode, rport;
	char state[32];
	unsigned long tx_queue, rx_queue, uid, inode;
};

/* A segment to send: the bytes after the IP header. */
struct segment {
	uint8_t buf[MAX_SEG];
	int len;
};

/* ---- parsing helpers (all strict: anything unexpected is an error) ---- */

static char *read_file(const char *path)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	for (;;) {
		if (cap - len < 2) {
			char *nbuf = realloc(buf, cap * 2);

			if (!nbuf)
				break;
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static int parse_ulong(const char *s, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/* "<node>:<port>" */
static int parse_endpoint(const char *s, unsigned long *node,
			  unsigned long *port)
{
	char tmp[64], *colon;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	strcpy(tmp, s);
	colon = strchr(tmp, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	return parse_ulong(tmp, node) || parse_ulong(colon + 1, port) ? -1 : 0;
}

/* Splits @line at blanks into at most @max tokens; returns the count. */
static int split(char *line, char **tok, int max)
{
	char *save, *t;
	int n = 0;

	for (t = strtok_r(line, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		tok[n++] = t;
	}
	return n;
}

static int parse_sock_line(char *line, struct sock_entry *e)
{
	char *tok[9];
	size_t l;
	int i;

	if (split(line, tok, 8) != 8)
		return -1;
	l = strlen(tok[0]);
	if (l < 2 || tok[0][l - 1] != ':')
		return -1;
	tok[0][l - 1] = '\0';
	if (parse_ulong(tok[0], &e->sl) ||
	    parse_endpoint(tok[1], &e->lnode, &e->lport) ||
	    parse_endpoint(tok[2], &e->rnode, &e->rport))
		return -1;
	if (strlen(tok[3]) >= sizeof(e->state))
		return -1;
	for (i = 0; tok[3][i]; i++)
		if (!((tok[3][i] >= 'A' && tok[3][i] <= 'Z') ||
		      tok[3][i] == '_'))
			return -1;
	strcpy(e->state, tok[3]);
	return parse_ulong(tok[4], &e->tx_queue) ||
	       parse_ulong(tok[5], &e->rx_queue) ||
	       parse_ulong(tok[6], &e->uid) ||
	       parse_ulong(tok[7], &e->inode) ? -1 : 0;
}

/*
 * Reads /proc/net/migtcp into @e (at most @max entries); returns the number
 * of sockets listed, -1 (with a logged reason) if the file is malformed.
 */
static int read_socks(struct __test_metadata *_metadata,
		      struct sock_entry *e, int max)
{
	static const char * const header[] = {
		"sl", "local", "remote", "state", "tx_queue", "rx_queue",
		"uid", "inode",
	};
	char *text, *line, *save, *tok[9];
	int n = 0, lineno = 0, ntok, i;

	text = read_file(SOCKS_PATH);
	if (!text) {
		TH_LOG("cannot read %s: %s", SOCKS_PATH, strerror(errno));
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), lineno++) {
		if (lineno == 0) {
			ntok = split(line, tok, 8);
			for (i = 0; i < 8 && ntok == 8; i++)
				if (strcmp(tok[i], header[i]))
					break;
			if (ntok != 8 || i != 8) {
				TH_LOG("bad header line in %s", SOCKS_PATH);
				n = -1;
				break;
			}
			continue;
		}
		if (n == max || parse_sock_line(line, &e[n])) {
			TH_LOG("bad or extra line %d in %s", lineno,
			       SOCKS_PATH);
			n = -1;
			break;
		}
		n++;
	}
	if (lineno == 0) {
		TH_LOG("%s is empty (no header line)", SOCKS_PATH);
		n = -1;
	}
	free(text);
	return n;
}

/* Index of the entry for socket inode @ino in @e[0..n), or -1. */
static int find_inode(const struct sock_entry *e, int n, unsigned long ino)
{
	int i, found = -1;

	for (i = 0; i < n; i++) {
		if (e[i].inode != ino)
			continue;
		if (found >= 0)
			return -2;	/* listed twice */
		found = i;
	}
	return found;
}

static unsigned long fd_inode(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return 0;
	return st.st_ino;
}

/*
 * Reads /proc/net/migtcp_stats: "Name Value" lines, the first ST_NR of them
 * exactly stat_names[] in that order.  Counters added after those are
 * parsed (the file must stay well-formed) but not returned.
 */
static int read_stats(struct __test_metadata *_metadata, struct mig_stats *st)
{
	char *text, *line, *save, *tok[3];
	int n = 0, ret = 0;

	text = read_file(STATS_PATH);
	if (!text) {
		TH_LOG("cannot read %s: %s", STATS_PATH, strerror(errno));
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), n++) {
		unsigned long v;

		if (split(line, tok, 2) != 2 || parse_ulong(tok[1], &v) ||
		    (n < ST_NR && strcmp(tok[0], stat_names[n]))) {
			TH_LOG("%s line %d is not \"%s <value>\"", STATS_PATH,
			       n + 1, n < ST_NR ? stat_names[n] : "Name");
			ret = -1;
			break;
		}
		if (n < ST_NR)
			st->v[n] = v;
	}
	if (!ret && n < ST_NR) {
		TH_LOG("%s has %d lines, expected %d", STATS_PATH, n, ST_NR);
		ret = -1;
	}
	free(text);
	return ret;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Waits up to two seconds for the counters to read @want (delivery to the
 * handler may finish on another CPU after sendto() returned), then checks
 * each counter by name.
 */
static void check_stats(struct __test_metadata *_metadata,
			const struct mig_stats *want)
{
	struct mig_stats got;
	int tries, i;

	for (tries = 0; tries < 200; tries++) {
		memset(&got, 0, sizeof(got));
		ASSERT_EQ(0, read_stats(_metadata, &got));
		if (!memcmp(&got, want, sizeof(got)))
			return;
		sleep_ms(10);
	}
	for (i = 0; i < ST_NR; i++) {
		EXPECT_EQ(want->v[i], got.v[i])
			TH_LOG("%s is %llu, expected %llu", stat_names[i],
			       got.v[i], want->v[i]);
	}
}

/* The receive counters; nothing may have been sent. */
#define CHECK_STATS(segs, hdr, csum, ver, addr, nosock, wrong) do {	\
	const struct mig_stats __want = {				\
		{ segs, hdr, csum, ver, addr, nosock, wrong }		\
	};								\
	check_stats(_metadata, &__want);				\
} while (0)

/* The receive counters and OutSegs, OutRsts. */
#define CHECK_STATS_OUT(segs, nosock, wrong, outsegs, outrsts) do {	\
	const struct mig_stats __want = {				\
		{ segs, 0, 0, 0, 0, nosock, wrong, outsegs, outrsts }	\
	};								\
	check_stats(_metadata, &__want);				\
} while (0)

/* ---- segments ---- */

/*
 * TCP's checksum: over the pseudo-header (saddr, daddr, 0, @proto, length)
 * then the segment with its check field zero.
 */
static uint16_t seg_csum(const struct segment *seg, in_addr_t saddr,
			 in_addr_t daddr, int proto)
{
	uint8_t buf[12 + MAX_SEG];

	memcpy(buf, &saddr, 4);
	memcpy(buf + 4, &daddr, 4);
	buf[8] = 0;
	buf[9] = proto;
	buf[10] = seg->len >> 8;
	buf[11] = seg->len & 0xff;
	memcpy(buf + 12, seg->buf, seg->len);
	buf[12 + offsetof(struct migtcphdr, check)] = 0;
	buf[12 + offsetof(struct migtcphdr, check) + 1] = 0;
	return inet_csum(buf, 12 + seg->len);
}

static void set_check(struct segment *seg, uint16_t check)
{
	seg->buf[offsetof(struct migtcphdr, check)] = check >> 8;
	seg->buf[offsetof(struct migtcphdr, check) + 1] = check & 0xff;
}

/*
 * Builds a segment with a @doff-word header (options are NOPs, as TCP's
 * padding) and @payload bytes of a counting pattern, checksummed for
 * 127.0.0.1 -> @daddr.  @len_override, if non-zero, cuts or pads the
 * segment to that many bytes (before checksumming).
 */
static void build_seg(struct segment *seg, int proto, int version, int doff,
		      int payload, int len_override, in_addr_t daddr)
{
	struct migtcphdr h = {
		.version = version,
		.doff = doff,
		/* A reset is never answered: only the counters move. */
		.flags = htons(MIGTCP_F_RST | MIGTCP_F_ACK),
		.src_node = htonl(7),
		.dst_node = htonl(THIS_NODE),
		.src_port = htons(40000),
		.dst_port = htons(1234),
		.seq = htonl(0x12345678),
		.ack_seq = 0,
		.window = htons(65535),
	};
	int i, opts = doff * 4 > HDR_LEN ? doff * 4 - HDR_LEN : 0;

	memset(seg, 0, sizeof(*seg));
	memcpy(seg->buf, &h, HDR_LEN);
	memset(seg->buf + HDR_LEN, 1, opts);	/* TCPOPT_NOP */
	for (i = 0; i < payload; i++)
		seg->buf[HDR_LEN + opts + i] = i & 0xff;
	seg->len = len_override ? len_override : HDR_LEN + opts + payload;
	set_check(seg, seg_csum(seg, htonl(INADDR_LOOPBACK), daddr, proto));
}

static void build_valid(struct segment *seg, int proto)
{
	build_seg(seg, proto, MIGTCP_WIRE_VERSION, MIGTCP_HDR_MIN_DOFF, 0, 0,
		  htonl(INADDR_LOOPBACK));
}

/* ---- namespace and sockets ---- */

static int raw_socket(int proto)
{
	return socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, proto);
}

/* Receives, without waiting, every datagram queued on @fd; returns how many. */
static int drain(int fd)
{
	uint8_t buf[2048];
	int n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

/*
 * Counts the datagrams raw socket @fd receives: waits up to two seconds for
 * each of the first @want, then @ms more for any further copies.
 */
static int count_delivered(int fd, int want, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = drain(fd);

	while (n < want) {
		if (poll(&pfd, 1, 2000) <= 0)
			return n;
		n += drain(fd);
	}
	for (; ms > 0; ms -= 10)
		if (poll(&pfd, 1, 10) > 0)
			n += drain(fd);
	return n + drain(fd);
}

static void send_seg(struct __test_metadata *_metadata, int fd,
		     const struct segment *seg, in_addr_t daddr)
{
	struct sockaddr_in dst = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = daddr,
	};
	ssize_t n;

	n = migtcp_test_sendto(fd, seg->buf, seg->len,
			       (struct sockaddr *)&dst, sizeof(dst));
	ASSERT_EQ(seg->len, n) TH_LOG("sendto: %s", strerror(errno));
}

/*
 * Each test: a new network namespace, a raw socket to send segments of the
 * module's protocol and one that sees every copy delivered to this host.
 */
FIXTURE(netns)
{
	int family;
	int proto;
	int tx;
	int cap;
};

FIXTURE_SETUP(netns)
{
	const struct sockaddr_in lo_addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	self->tx = -1;
	self->cap = -1;
	self->family = migtcp_family();
	self->proto = migtcp_proto();
	ASSERT_LT(0, self->family) TH_LOG("is migtcp loaded?");
	ASSERT_LT(0, self->proto);
	ASSERT_EQ(0, migtcp_test_new_netns()) TH_LOG("netns: %s", strerror(errno));
	ASSERT_EQ(0, migtcp_test_ctl("node set id %d", THIS_NODE))
		TH_LOG("migtcpctl node set id failed (MIGTCP_CTL=%s)",
		       getenv("MIGTCP_CTL"));
	self->tx = raw_socket(self->proto);
	ASSERT_LE(0, self->tx) TH_LOG("raw socket: %s", strerror(errno));
	/* The pseudo-header of every checksum names 127.0.0.1 as source. */
	ASSERT_EQ(0, bind(self->tx, (struct sockaddr *)&lo_addr,
			  sizeof(lo_addr)));
	self->cap = raw_socket(self->proto);
	ASSERT_LE(0, self->cap) TH_LOG("raw socket: %s", strerror(errno));
}

FIXTURE_TEARDOWN(netns)
{
	if (self->tx >= 0)
		close(self->tx);
	if (self->cap >= 0)
		close(self->cap);
}

/* Sends @seg to 127.0.0.1 and waits until the stack has delivered it. */
static void send_local(struct __test_metadata *_metadata,
		       FIXTURE_DATA(netns) *self, const struct segment *seg)
{
	send_seg(_metadata, self->tx, seg, htonl(INADDR_LOOPBACK));
	ASSERT_EQ(1, count_delivered(self->cap, 1, 0));
}

TEST_F(netns, stats_start_at_zero)
{
	CHECK_STATS(0, 0, 0, 0, 0, 0, 0);
}

/* A valid segment no socket owns is counted and dropped, nothing answered. */
TEST_F(netns, valid_segment_no_socket)
{
	struct segment seg;
	int icmp;

	icmp = raw_socket(IPPROTO_ICMP);
	ASSERT_LE(0, icmp);
	build_valid(&seg, self->proto);
	send_local(_metadata, self, &seg);
	CHECK_STATS(1, 0, 0, 0, 0, 1, 0);
	/* No reply segment of our protocol, no ICMP error either. */
	EXPECT_EQ(0, count_delivered(self->cap, 0, 300));
	EXPECT_EQ(0, count_delivered(icmp, 0, 0));
	close(icmp);
}

TEST_F(netns, valid_segment_options_payload)
{
	struct segment seg;

	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 8, 100, 0,
		  htonl(INADDR_LOOPBACK));
	ASSERT_EQ(HDR_LEN + 4 + 100, seg.len);
	send_local(_metadata, self, &seg);
	CHECK_STATS(1, 0, 0, 0, 0, 1, 0);
}

/*
 * The options area must be walkable: a kind without its length byte, a
 * length below 2 or past the area is InHdrErrors; unknown kinds, EOL
 * and NOPs are fine.
 */
TEST_F(netns, options_area)
{
	static const struct {
		uint8_t opt[8];
		int ok;
	} cases[] = {
		{ { 1, 1, 1, 1, 1, 1, 1, 2 }, 0 },	/* kind, no length */
		{ { 200, 1, 1, 1, 1, 1, 1, 1 }, 0 },	/* length 1 */
		{ { 200, 0, 1, 1, 1, 1, 1, 1 }, 0 },	/* length 0 */
		{ { 1, 200, 8, 0, 0, 0, 0, 0 }, 0 },	/* past the area */
		{ { 200, 8, 9, 9, 9, 9, 9, 9 }, 1 },	/* unknown, skipped */
		{ { 0, 5, 5, 5, 5, 5, 5, 5 }, 1 },	/* EOL ends the walk */
		{ { 2, 4, 5, 180, 3, 3, 7, 1 }, 1 },	/* MSS, WS, NOP */
	};
	struct mig_stats want = { { 0 } };
	struct segment seg;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 9, 3, 0,
			  htonl(INADDR_LOOPBACK));
		memcpy(seg.buf + HDR_LEN, cases[i].opt, 8);
		set_check(&seg, seg_csum(&seg, htonl(INADDR_LOOPBACK),
					 htonl(INADDR_LOOPBACK), self->proto));
		send_local(_metadata, self, &seg);
		if (cases[i].ok) {
			want.v[ST_SEGS]++;
			want.v[ST_NOSOCK]++;
		} else {
			want.v[ST_HDR]++;
		}
	}
	check_stats(_metadata, &want);
}

/* An odd length: the checksum's last byte is padded with a zero. */
TEST_F(netns, valid_segment_odd_length)
{
	struct segment seg;

	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 7, 1, 0,
		  htonl(INADDR_LOOPBACK));
	ASSERT_EQ(29, seg.len);
	send_local(_metadata, self, &seg);
	CHECK_STATS(1, 0, 0, 0, 0, 1, 0);
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 9, 57, 0,
		  htonl(INADDR_LOOPBACK));
	ASSERT_EQ(HDR_LEN + 8 + 57, seg.len);
	send_local(_metadata, self, &seg);
	CHECK_STATS(2, 0, 0, 0, 0, 2, 0);
}

/* Counters add up: several valid segments in a row. */
TEST_F(netns, valid_segments_accumulate)
{
	struct segment seg;
	int i;

	for (i = 0; i < 5; i++) {
		build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 7, i * 10,
			  0, htonl(INADDR_LOOPBACK));
		send_local(_metadata, self, &seg);
	}
	CHECK_STATS(5, 0, 0, 0, 0, 5, 0);
}

/* Endpoints are named by node id: a segment for another node is dropped. */
TEST_F(netns, segment_for_other_node)
{
	struct segment seg;
	uint32_t other = htonl(THIS_NODE + 1);

	build_valid(&seg, self->proto);
	memcpy(seg.buf + offsetof(struct migtcphdr, dst_node), &other, 4);
	set_check(&seg, seg_csum(&seg, htonl(INADDR_LOOPBACK),
				 htonl(INADDR_LOOPBACK), self->proto));
	send_local(_metadata, self, &seg);
	CHECK_STATS(1, 0, 0, 0, 0, 0, 1);
}

/* A node without an id is no endpoint's node. */
TEST_F(netns, segment_to_node_without_id)
{
	struct segment seg;
	int tx, cap;

	ASSERT_EQ(0, migtcp_test_new_netns());
	tx = raw_socket(self->proto);
	cap = raw_socket(self->proto);
	ASSERT_LE(0, tx);
	ASSERT_LE(0, cap);
	build_valid(&seg, self->proto);
	send_seg(_metadata, tx, &seg, htonl(INADDR_LOOPBACK));
	ASSERT_EQ(1, count_delivered(cap, 1, 0));
	CHECK_STATS(1, 0, 0, 0, 0, 0, 1);
	close(tx);
	close(cap);
}

TEST_F(netns, short_segment)
{
	struct segment seg;

	/* One byte short of a header, with a checksum that would match. */
	build_valid(&seg, self->proto);
	seg.len = HDR_LEN - 1;
	set_check(&seg, seg_csum(&seg, htonl(INADDR_LOOPBACK),
				 htonl(INADDR_LOOPBACK), self->proto));
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 1, 0, 0, 0, 0, 0);
	seg.len = 1;
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 2, 0, 0, 0, 0, 0);
}

TEST_F(netns, bad_checksum)
{
	struct segment seg;

	build_valid(&seg, self->proto);
	seg.buf[offsetof(struct migtcphdr, check) + 1] ^= 0x01;
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 0, 1, 0, 0, 0, 0);

	/* Payload changed after the checksum was computed. */
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 7, 100, 0,
		  htonl(INADDR_LOOPBACK));
	seg.buf[HDR_LEN + 50] ^= 0x80;
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 0, 2, 0, 0, 0, 0);

	/* Odd length, last byte changed: the pad byte is not ignored. */
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 7, 3, 0,
		  htonl(INADDR_LOOPBACK));
	seg.buf[seg.len - 1] ^= 0x10;
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 0, 3, 0, 0, 0, 0);
}

/* The checksum must cover the pseudo-header, not just the segment. */
TEST_F(netns, checksum_needs_pseudo_header)
{
	struct segment seg;

	/* Checksum of the segment alone (check field zero while summing). */
	build_valid(&seg, self->proto);
	set_check(&seg, 0);
	set_check(&seg, inet_csum(seg.buf, seg.len));
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 0, 1, 0, 0, 0, 0);

	/* Pseudo-header with TCP's protocol number instead of ours. */
	build_valid(&seg, self->proto);
	set_check(&seg, seg_csum(&seg, htonl(INADDR_LOOPBACK),
				 htonl(INADDR_LOOPBACK), IPPROTO_TCP));
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 0, 2, 0, 0, 0, 0);

	/* Pseudo-header with another destination address. */
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 7, 0, 0,
		  htonl(INADDR_LOOPBACK + 1));
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 0, 3, 0, 0, 0, 0);
}

TEST_F(netns, bad_version)
{
	static const int versions[] = { 0, MIGTCP_WIRE_VERSION + 1, 255 };
	struct segment seg;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(versions); i++) {
		build_seg(&seg, self->proto, versions[i], 7, 20, 0,
			  htonl(INADDR_LOOPBACK));
		send_local(_metadata, self, &seg);
	}
	CHECK_STATS(0, 0, 0, ARRAY_SIZE(versions), 0, 0, 0);
}

TEST_F(netns, doff_too_small)
{
	struct segment seg;

	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 6, 0, 0,
		  htonl(INADDR_LOOPBACK));
	ASSERT_EQ(HDR_LEN, seg.len);
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 1, 0, 0, 0, 0, 0);
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 0, 40, 0,
		  htonl(INADDR_LOOPBACK));
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 2, 0, 0, 0, 0, 0);
}

TEST_F(netns, doff_past_end)
{
	struct segment seg;

	/* doff 8 announces 32 header bytes; only 28 arrive. */
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 8, 0, HDR_LEN,
		  htonl(INADDR_LOOPBACK));
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 1, 0, 0, 0, 0, 0);
	/* The largest doff (60 bytes) with 59 bytes. */
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 15, 0, 59,
		  htonl(INADDR_LOOPBACK));
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 2, 0, 0, 0, 0, 0);
	/* Exactly 60 bytes with doff 15 is valid. */
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 15, 0, 0,
		  htonl(INADDR_LOOPBACK));
	ASSERT_EQ(60, seg.len);
	send_local(_metadata, self, &seg);
	CHECK_STATS(1, 2, 0, 0, 0, 1, 0);
}

/* Length is checked before the checksum: short and corrupt is short. */
TEST_F(netns, order_length_before_checksum)
{
	struct segment seg;

	build_valid(&seg, self->proto);
	seg.len = 20;
	seg.buf[0] ^= 0xff;
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 1, 0, 0, 0, 0, 0);
}

/* Checksum before version: a corrupt segment's version means nothing. */
TEST_F(netns, order_checksum_before_version)
{
	struct segment seg;

	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION + 1, 7, 0, 0,
		  htonl(INADDR_LOOPBACK));
	seg.buf[offsetof(struct migtcphdr, seq)] ^= 0x01;
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 0, 1, 0, 0, 0, 0);
}

/* Version before doff: another version may lay out its header otherwise. */
TEST_F(netns, order_version_before_doff)
{
	struct segment seg;

	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION + 1, 3, 0, 0,
		  htonl(INADDR_LOOPBACK));
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 0, 0, 1, 0, 0, 0);
}

/*
 * Broadcast to 127.255.255.255: every copy the stack delivers (the one sent
 * through lo and the looped-back one) is an address error, whatever else
 * is right or wrong with the segment.
 */
TEST_F(netns, broadcast_address_error)
{
	in_addr_t bcast = htonl(0x7fffffff);
	struct segment seg;
	int one = 1, n, m;

	ASSERT_EQ(0, setsockopt(self->tx, SOL_SOCKET, SO_BROADCAST, &one,
				sizeof(one)));
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 7, 0, 0, bcast);
	send_seg(_metadata, self->tx, &seg, bcast);
	n = count_delivered(self->cap, 1, 300);
	ASSERT_LE(1, n);
	CHECK_STATS(0, 0, 0, 0, n, 0, 0);

	/* Short and broadcast: the address check comes first. */
	seg.len = 10;
	send_seg(_metadata, self->tx, &seg, bcast);
	m = count_delivered(self->cap, 1, 300);
	ASSERT_LE(1, m);
	CHECK_STATS(0, 0, 0, 0, n + m, 0, 0);
}

TEST_F(netns, multicast_address_error)
{
	in_addr_t group = htonl(0xe0000001);	/* 224.0.0.1, all hosts */
	struct ip_mreqn mreq = { .imr_ifindex = 1 };
	struct segment seg;
	int n;

	mreq.imr_multiaddr.s_addr = group;
	ASSERT_EQ(0, setsockopt(self->tx, IPPROTO_IP, IP_MULTICAST_IF, &mreq,
				sizeof(mreq)))
		TH_LOG("IP_MULTICAST_IF lo: %s", strerror(errno));
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 7, 0, 0, group);
	send_seg(_metadata, self->tx, &seg, group);
	n = count_delivered(self->cap, 1, 300);
	ASSERT_LE(1, n) TH_LOG("the stack delivered no copy to this host");
	CHECK_STATS(0, 0, 0, 0, n, 0, 0);
}

/* One of each kind: each lands in exactly one counter. */
TEST_F(netns, mixed_segments)
{
	struct segment seg;

	build_valid(&seg, self->proto);
	send_local(_metadata, self, &seg);
	seg.len = 12;
	send_local(_metadata, self, &seg);
	build_valid(&seg, self->proto);
	seg.buf[HDR_LEN - 1] ^= 0xff;
	send_local(_metadata, self, &seg);
	build_seg(&seg, self->proto, 2, 7, 0, 0, htonl(INADDR_LOOPBACK));
	send_local(_metadata, self, &seg);
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 5, 0, 0,
		  htonl(INADDR_LOOPBACK));
	send_local(_metadata, self, &seg);
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 8, 31, 0,
		  htonl(INADDR_LOOPBACK));
	send_local(_metadata, self, &seg);
	CHECK_STATS(2, 2, 1, 1, 0, 2, 0);
}

/* Segments in one namespace never show in another's counters. */
TEST_F(netns, stats_per_netns)
{
	struct segment seg;
	int ns_a, tx_b, cap_b;

	ns_a = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ns_a);

	/* B: a second new namespace, two valid segments. */
	ASSERT_EQ(0, migtcp_test_new_netns());
	ASSERT_EQ(0, migtcp_test_ctl("node set id %d", THIS_NODE));
	CHECK_STATS(0, 0, 0, 0, 0, 0, 0);
	tx_b = raw_socket(self->proto);
	cap_b = raw_socket(self->proto);
	ASSERT_LE(0, tx_b);
	ASSERT_LE(0, cap_b);
	build_valid(&seg, self->proto);
	send_seg(_metadata, tx_b, &seg, htonl(INADDR_LOOPBACK));
	send_seg(_metadata, tx_b, &seg, htonl(INADDR_LOOPBACK));
	ASSERT_EQ(2, count_delivered(cap_b, 2, 0));
	CHECK_STATS(2, 0, 0, 0, 0, 2, 0);

	/* A saw none of that; send A a corrupt one. */
	ASSERT_EQ(0, setns(ns_a, CLONE_NEWNET));
	CHECK_STATS(0, 0, 0, 0, 0, 0, 0);
	seg.buf[HDR_LEN - 1] ^= 0xff;
	send_local(_metadata, self, &seg);
	CHECK_STATS(0, 0, 1, 0, 0, 0, 0);
	/* B's socket still sends into B, whatever namespace its user is in. */
	seg.buf[HDR_LEN - 1] ^= 0xff;
	send_seg(_metadata, tx_b, &seg, htonl(INADDR_LOOPBACK));
	ASSERT_EQ(1, count_delivered(cap_b, 1, 0));
	EXPECT_EQ(0, count_delivered(self->cap, 0, 100));
	CHECK_STATS(0, 0, 1, 0, 0, 0, 0);
	close(tx_b);
	close(cap_b);
	close(ns_a);
}

/* ---- resets for segments no endpoint takes ---- */

/* Rewrites the flags, sequence and acknowledgement of @seg and its checksum. */
static void set_seg(struct segment *seg, int proto, uint16_t flags,
		    uint32_t seq, uint32_t ack)
{
	struct migtcphdr *h = (struct migtcphdr *)seg->buf;

	h->flags = htons(flags);
	h->seq = htonl(seq);
	h->ack_seq = htonl(ack);
	set_check(seg, seg_csum(seg, htonl(INADDR_LOOPBACK),
				htonl(INADDR_LOOPBACK), proto));
}

/*
 * Waits up to @ms for a segment with RST set on raw socket @fd (which also
 * sees the segment the test sent) and copies its header and whole length.
 * Returns 1 if one came, 0 if not.
 */
static int recv_reset(int fd, struct segment *reply, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t buf[2048];

	while (poll(&pfd, 1, ms) > 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		int ihl;

		if (n < 20)
			continue;
		ihl = (buf[0] & 0x0f) * 4;
		if (n - ihl < HDR_LEN ||
		    !(buf[ihl + offsetof(struct migtcphdr, flags) + 1] &
		      MIGTCP_F_RST))
			continue;
		reply->len = n - ihl;
		memcpy(reply->buf, buf + ihl, reply->len);
		return 1;
	}
	return 0;
}

/* The exact reset expected in answer to the segments build_seg() makes. */
static void check_reset(struct __test_metadata *_metadata, int proto,
			const struct segment *reply, uint16_t flags,
			uint32_t seq, uint32_t ack)
{
	const struct migtcphdr *h = (const struct migtcphdr *)reply->buf;

	ASSERT_EQ(HDR_LEN, reply->len);
	EXPECT_EQ(MIGTCP_WIRE_VERSION, h->version);
	EXPECT_EQ(MIGTCP_HDR_MIN_DOFF, h->doff);
	EXPECT_EQ(flags, ntohs(h->flags));
	EXPECT_EQ((uint32_t)THIS_NODE, ntohl(h->src_node));
	EXPECT_EQ(7U, ntohl(h->dst_node));
	EXPECT_EQ(1234, ntohs(h->src_port));
	EXPECT_EQ(40000, ntohs(h->dst_port));
	EXPECT_EQ(seq, ntohl(h->seq));
	EXPECT_EQ(ack, ntohl(h->ack_seq));
	EXPECT_EQ(0, ntohs(h->window));
	EXPECT_EQ(seg_csum(reply, htonl(INADDR_LOOPBACK),
			   htonl(INADDR_LOOPBACK), proto), ntohs(h->check));
}

/* A SYN to a closed port is refused: RST|ACK acknowledging the SYN. */
TEST_F(netns, reset_answers_syn)
{
	struct segment seg, reply;

	build_valid(&seg, self->proto);
	set_seg(&seg, self->proto, MIGTCP_F_SYN, 0xfffffffe, 0);
	send_seg(_metadata, self->tx, &seg, htonl(INADDR_LOOPBACK));
	ASSERT_EQ(1, recv_reset(self->cap, &reply, 2000));
	check_reset(_metadata, self->proto, &reply,
		    MIGTCP_F_RST | MIGTCP_F_ACK, 0, 0xffffffff);
	/* The reset came back to this host too: it names node 7, not us. */
	CHECK_STATS_OUT(2, 1, 1, 1, 1);
}

/* A segment acknowledging something gets a RST with SEG.ACK as sequence. */
TEST_F(netns, reset_answers_ack)
{
	struct segment seg, reply;

	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 7, 10, 0,
		  htonl(INADDR_LOOPBACK));
	set_seg(&seg, self->proto, MIGTCP_F_ACK | MIGTCP_F_PSH, 1000, 0x55667788);
	send_seg(_metadata, self->tx, &seg, htonl(INADDR_LOOPBACK));
	ASSERT_EQ(1, recv_reset(self->cap, &reply, 2000));
	check_reset(_metadata, self->proto, &reply, MIGTCP_F_RST, 0x55667788, 0);
	CHECK_STATS_OUT(2, 1, 1, 1, 1);
}

/* Without ACK, the reset acknowledges the data and the FIN. */
TEST_F(netns, reset_acknowledges_data_and_fin)
{
	struct segment seg, reply;

	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, 8, 100, 0,
		  htonl(INADDR_LOOPBACK));
	set_seg(&seg, self->proto, MIGTCP_F_FIN, 5000, 0);
	send_seg(_metadata, self->tx, &seg, htonl(INADDR_LOOPBACK));
	ASSERT_EQ(1, recv_reset(self->cap, &reply, 2000));
	check_reset(_metadata, self->proto, &reply,
		    MIGTCP_F_RST | MIGTCP_F_ACK, 0, 5000 + 100 + 1);
	CHECK_STATS_OUT(2, 1, 1, 1, 1);
}

/* A reset is never answered, whatever else it carries. */
TEST_F(netns, reset_not_answered)
{
	struct segment seg, reply;

	build_valid(&seg, self->proto);
	set_seg(&seg, self->proto,
		MIGTCP_F_RST | MIGTCP_F_ACK | MIGTCP_F_PSH | MIGTCP_F_FIN, 1, 0);
	send_local(_metadata, self, &seg);
	EXPECT_EQ(0, recv_reset(self->cap, &reply, 300));
	CHECK_STATS_OUT(1, 1, 0, 0, 0);
}

/*
 * Reserved flag bits (0x0200 and up, 0x0020), or a SYN that also carries
 * FIN or RST: dropped before any endpoint sees them, counted in
 * InBadFlags, never answered.
 */
TEST_F(netns, bad_flags_dropped)
{
	static const uint16_t flags[] = {
		0x0020, 0x0400, 0x0200, 0x8000 | MIGTCP_F_ACK,
		MIGTCP_F_SYN | MIGTCP_F_FIN, MIGTCP_F_SYN | MIGTCP_F_RST,
		MIGTCP_F_SYN | MIGTCP_F_ACK | MIGTCP_F_FIN,
	};
	struct mig_stats want = { { 0 } };
	struct segment seg, reply;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		build_valid(&seg, self->proto);
		set_seg(&seg, self->proto, flags[i], 1, 0);
		send_local(_metadata, self, &seg);
	}
	EXPECT_EQ(0, recv_reset(self->cap, &reply, 300));
	want.v[ST_BADFLAGS] = ARRAY_SIZE(flags);
	check_stats(_metadata, &want);
}

/*
 * CTL (0x0100) with any other flag, or with data that is not exactly one
 * control TLV of a known type and length: dropped as InCtlErrors (CTL
 * with another flag before it is counted as intact), never answered.
 */
TEST_F(netns, bad_control_segments_dropped)
{
	static const uint16_t flags[] = {
		MIGTCP_F_CTL | MIGTCP_F_ACK, MIGTCP_F_CTL | MIGTCP_F_SYN,
		MIGTCP_F_CTL | MIGTCP_F_RST, MIGTCP_F_CTL | MIGTCP_F_FIN,
	};
	struct mig_stats want = { { 0 } };
	struct segment seg, reply;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		build_valid(&seg, self->proto);
		set_seg(&seg, self->proto, flags[i], 1, 0);
		send_local(_metadata, self, &seg);
	}
	/* Intact, but its data is 1 byte, no TLV. */
	build_valid(&seg, self->proto);
	set_seg(&seg, self->proto, MIGTCP_F_CTL, 1, 0);
	send_local(_metadata, self, &seg);
	EXPECT_EQ(0, recv_reset(self->cap, &reply, 300));
	want.v[ST_CTLERRORS] = ARRAY_SIZE(flags) + 1;
	want.v[ST_SEGS] = 1;
	check_stats(_metadata, &want);
}

/* A segment for another node is not this node's to refuse. */
TEST_F(netns, no_reset_for_other_node)
{
	struct segment seg, reply;
	uint32_t other = htonl(THIS_NODE + 1);

	build_valid(&seg, self->proto);
	memcpy(seg.buf + offsetof(struct migtcphdr, dst_node), &other, 4);
	set_seg(&seg, self->proto, MIGTCP_F_SYN, 1, 0);
	send_local(_metadata, self, &seg);
	EXPECT_EQ(0, recv_reset(self->cap, &reply, 300));
	CHECK_STATS_OUT(1, 0, 1, 0, 0);
}

/* ---- endpoints that cannot exist: node 0, port 0 ---- */

/* Rewrites the source node and both ports of @seg, and its checksum. */
static void set_endpoints(struct segment *seg, int proto, uint32_t src_node,
			  uint16_t src_port, uint16_t dst_port)
{
	struct migtcphdr *h = (struct migtcphdr *)seg->buf;

	h->src_node = htonl(src_node);
	h->src_port = htons(src_port);
	h->dst_port = htons(dst_port);
	set_check(seg, seg_csum(seg, htonl(INADDR_LOOPBACK),
				htonl(INADDR_LOOPBACK), proto));
}

/*
 * Node 0 is no node and port 0 no port (in bind() they mean "this node"
 * and "pick one"): a segment from node 0, or from or to port 0, names no
 * endpoint.  It is dropped before any endpoint sees it, counted in
 * InBadEndpoint only (not in InSegs), and never answered, although a SYN
 * or an ACK for a closed port would draw a reset (TCP does not answer
 * port 0 either).  A control segment's ports are checked with its TLV
 * (a registrar's messages have port 0), its source node here.
 */
TEST_F(netns, zero_endpoint_dropped_unanswered)
{
	static const struct {
		uint32_t src_node;
		uint16_t src_port, dst_port, flags;
	} bad[] = {
		{ 0, 40000, 1234, MIGTCP_F_SYN },
		{ 7, 0, 1234, MIGTCP_F_SYN },
		{ 7, 40000, 0, MIGTCP_F_SYN },
		{ 0, 0, 0, MIGTCP_F_SYN },
		{ 7, 0, 1234, MIGTCP_F_ACK | MIGTCP_F_PSH },
		{ 0, 40000, 1234, MIGTCP_F_CTL },
	};
	struct mig_stats want = { { 0 } };
	struct segment seg, reply;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		build_valid(&seg, self->proto);
		set_seg(&seg, self->proto, bad[i].flags, 1000, 2000);
		set_endpoints(&seg, self->proto, bad[i].src_node,
			      bad[i].src_port, bad[i].dst_port);
		send_seg(_metadata, self->tx, &seg, htonl(INADDR_LOOPBACK));
	}
	/* Every counter exact, OutSegs and OutRsts 0 included. */
	want.v[ST_BADENDPOINT] = ARRAY_SIZE(bad);
	check_stats(_metadata, &want);
	/* Nothing but the segments sent here reached this host. */
	EXPECT_EQ(0, recv_reset(self->cap, &reply, 0));
}

/*
 * A SYN with everything a listener needs, a usable key exchange option
 * included, but from node 0 or port 0, opens no connection: a child whose
 * peer is port 0 could never be answered and would keep its listener
 * from being checkpointed.  The same SYN from a real endpoint does.
 */
TEST_F(netns, zero_endpoint_syn_opens_nothing)
{
	static const struct {
		uint32_t src_node;
		uint16_t src_port;
	} from[] = { { 0, 40000 }, { 7, 0 }, { 0, 0 } };
	const struct sockaddr_mig addr = {
		.smig_family = self->family,
		.smig_port = htons(1234),
	};
	const struct sockaddr_in node7 = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = inet_addr("192.0.2.7"),
	};
	const int doff = (HDR_LEN + MIGTCP_OPTLEN_KX) / 4;
	struct mig_stats want = { { 0 } };
	struct sock_entry e[8];
	struct segment seg;
	unsigned int i;
	int lfd, n, tx7;

	lfd = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, lfd) TH_LOG("socket: %s", strerror(errno));
	ASSERT_EQ(0, bind(lfd, (const struct sockaddr *)&addr, sizeof(addr)))
		TH_LOG("bind: %s", strerror(errno));
	ASSERT_EQ(0, listen(lfd, 8)) TH_LOG("listen: %s", strerror(errno));

	/* A SYN whose options are one KX option of suite 1. */
	build_seg(&seg, self->proto, MIGTCP_WIRE_VERSION, doff, 0, 0,
		  htonl(INADDR_LOOPBACK));
	seg.buf[HDR_LEN] = MIGTCP_OPT_KX;
	seg.buf[HDR_LEN + 1] = MIGTCP_OPTLEN_KX;
	seg.buf[HDR_LEN + 2] = MIGTCP_KX_SUITE_HMAC_SHA256;
	seg.buf[HDR_LEN + 3] = 0;
	memset(seg.buf + HDR_LEN + 4, 0x5a, MIGTCP_KX_HALF_LEN);
	set_seg(&seg, self->proto, MIGTCP_F_SYN, 0x10000000, 0);

	for (i = 0; i < ARRAY_SIZE(from); i++) {
		set_endpoints(&seg, self->proto, from[i].src_node,
			      from[i].src_port, 1234);
		send_seg(_metadata, self->tx, &seg, htonl(INADDR_LOOPBACK));
	}
	want.v[ST_BADENDPOINT] = ARRAY_SIZE(from);
	check_stats(_metadata, &want);
	n = read_socks(_metadata, e, ARRAY_SIZE(e));
	ASSERT_EQ(1, n) TH_LOG("the listener has company");
	EXPECT_STREQ("LISTEN", e[0].state);

	/*
	 * From node 7's port 40000, at node 7's address in the peer table
	 * (a listener takes a SYN only from its node's address), the same
	 * SYN opens a connection (whose SYN-ACK, for node 7, comes back to
	 * this host and is dropped).
	 */
	ASSERT_EQ(0, system("ip addr add 192.0.2.7/32 dev lo"));
	ASSERT_EQ(0, migtcp_test_ctl("peer add 7 addr 192.0.2.7"));
	tx7 = raw_socket(self->proto);
	ASSERT_LE(0, tx7);
	ASSERT_EQ(0, bind(tx7, (const struct sockaddr *)&node7,
			  sizeof(node7)));
	set_endpoints(&seg, self->proto, 7, 40000, 1234);
	set_check(&seg, seg_csum(&seg, node7.sin_addr.s_addr,
				 htonl(INADDR_LOOPBACK), self->proto));
	send_seg(_metadata, tx7, &seg, htonl(INADDR_LOOPBACK));
	close(tx7);
	for (i = 0; i < 200; i++) {
		n = read_socks(_metadata, e, ARRAY_SIZE(e));
		if (n != 1)
			break;
		sleep_ms(10);
	}
	ASSERT_EQ(2, n);
	i = strcmp(e[0].state, "LISTEN") ? 0 : 1;
	EXPECT_STREQ("SYN_RECV", e[i].state);
	EXPECT_EQ(7UL, e[i].rnode);
	EXPECT_EQ(40000UL, e[i].rport);
	ASSERT_EQ(0, close(lfd));
}

/* ---- /proc/net/migtcp ---- */

TEST_F(netns, socks_header_only_when_empty)
{
	struct sock_entry e[4];

	ASSERT_EQ(0, read_socks(_metadata, e, ARRAY_SIZE(e)));
}

TEST_F(netns, socks_fresh_socket_listed)
{
	struct sock_entry e[4];
	unsigned long ino;
	int fd, n, i;

	fd = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	ino = fd_inode(fd);
	ASSERT_NE(0UL, ino);
	n = read_socks(_metadata, e, ARRAY_SIZE(e));
	ASSERT_EQ(1, n);
	i = find_inode(e, n, ino);
	ASSERT_EQ(0, i) TH_LOG("inode %lu not listed", ino);
	EXPECT_EQ(0UL, e[0].sl);
	EXPECT_EQ(0UL, e[0].lnode);
	EXPECT_EQ(0UL, e[0].lport);
	EXPECT_EQ(0UL, e[0].rnode);
	EXPECT_EQ(0UL, e[0].rport);
	EXPECT_STREQ("CLOSE", e[0].state);
	EXPECT_EQ(0UL, e[0].tx_queue);
	EXPECT_EQ(0UL, e[0].rx_queue);
	EXPECT_EQ(getuid(), e[0].uid);
	EXPECT_EQ(ino, e[0].inode);
	ASSERT_EQ(0, close(fd));
	/* Gone once closed. */
	ASSERT_EQ(0, read_socks(_metadata, e, ARRAY_SIZE(e)));
}

TEST_F(netns, socks_several)
{
	struct sock_entry e[8];
	unsigned long ino[3];
	int fd[3], n, i;
	bool seen_sl[3] = { false, false, false };

	for (i = 0; i < 3; i++) {
		fd[i] = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC,
			       i == 1 ? self->proto : 0);
		ASSERT_LE(0, fd[i]);
		ino[i] = fd_inode(fd[i]);
	}
	n = read_socks(_metadata, e, ARRAY_SIZE(e));
	ASSERT_EQ(3, n);
	for (i = 0; i < 3; i++) {
		ASSERT_LE(0, find_inode(e, n, ino[i]))
			TH_LOG("inode %lu listed %s", ino[i],
			       find_inode(e, n, ino[i]) == -2 ? "twice" :
			       "nowhere");
		/* sl numbers the lines 0, 1, 2 as in /proc/net/tcp. */
		ASSERT_GT(3UL, e[i].sl);
		EXPECT_FALSE(seen_sl[e[i].sl]);
		seen_sl[e[i].sl] = true;
	}

	ASSERT_EQ(0, close(fd[1]));
	n = read_socks(_metadata, e, ARRAY_SIZE(e));
	ASSERT_EQ(2, n);
	EXPECT_LE(0, find_inode(e, n, ino[0]));
	EXPECT_EQ(-1, find_inode(e, n, ino[1]));
	EXPECT_LE(0, find_inode(e, n, ino[2]));
	ASSERT_EQ(0, close(fd[0]));
	ASSERT_EQ(0, close(fd[2]));
	ASSERT_EQ(0, read_socks(_metadata, e, ARRAY_SIZE(e)));
}

TEST_F(netns, socks_per_netns)
{
	struct sock_entry e[4];
	unsigned long ino_a, ino_b;
	int ns_a, fd_a, fd_b, n;

	ns_a = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ns_a);
	fd_a = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd_a);
	ino_a = fd_inode(fd_a);

	ASSERT_EQ(0, migtcp_test_new_netns());
	ASSERT_EQ(0, read_socks(_metadata, e, ARRAY_SIZE(e)))
		TH_LOG("a socket of another namespace is listed");
	fd_b = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd_b);
	ino_b = fd_inode(fd_b);
	n = read_socks(_metadata, e, ARRAY_SIZE(e));
	ASSERT_EQ(1, n);
	EXPECT_EQ(ino_b, e[0].inode);

	ASSERT_EQ(0, setns(ns_a, CLONE_NEWNET));
	n = read_socks(_metadata, e, ARRAY_SIZE(e));
	ASSERT_EQ(1, n);
	EXPECT_EQ(ino_a, e[0].inode);
	close(fd_b);
	close(fd_a);
	close(ns_a);
}

/* The uid column is the creator's, as in /proc/net/tcp. */
TEST_F(netns, socks_uid_of_creator)
{
	int ready[2], hold[2], status, got, n, i;
	struct sock_entry e[4];
	unsigned long ino = 0, uid;
	pid_t pid;

	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(hold, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char c;
		int fd;

		close(ready[0]);
		close(hold[1]);
		if (setresgid(NOBODY_UID, NOBODY_UID, NOBODY_UID) ||
		    setresuid(NOBODY_UID, NOBODY_UID, NOBODY_UID))
			_exit(2);
		fd = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			_exit(3);
		ino = fd_inode(fd);
		if (write(ready[1], &ino, sizeof(ino)) != sizeof(ino))
			_exit(4);
		/* Hold the socket until the parent has looked. */
		if (read(hold[0], &c, 1) != 0)
			_exit(5);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	got = read(ready[0], &ino, sizeof(ino));
	if (got == sizeof(ino)) {
		n = read_socks(_metadata, e, ARRAY_SIZE(e));
		EXPECT_EQ(1, n);
		i = n > 0 ? find_inode(e, n, ino) : -1;
		EXPECT_LE(0, i) TH_LOG("inode %lu not listed", ino);
		uid = i >= 0 ? e[i].uid : ~0UL;
		EXPECT_EQ(NOBODY_UID, uid);
	}
	close(hold[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child failed at step %d", WEXITSTATUS(status));
	ASSERT_EQ((int)sizeof(ino), got);
	close(ready[0]);
	/* The child's exit closed its socket. */
	ASSERT_EQ(0, read_socks(_metadata, e, ARRAY_SIZE(e)));
}

TEST_HARNESS_MAIN
