// SPDX-License-Identifier: GPL-2.0
/*
 * A segment fuzzer (issue 12, finding 7), on the two-node cluster of
 * cluster.h.  It builds valid segments of every kind migtcp.ko meets
 * (data, ACK, FIN, RST, SYN with its options, SYN-ACK, the ACK with the
 * handshake MAC, and the four control messages), mutates them (version,
 * data offset, flags, node ids, ports, sequence and acknowledgment
 * numbers, window, checksum; option kinds and lengths, truncated and
 * overlong options, the key exchange option; control TLV types,
 * lengths and address families; payload lengths; bit flips), fixes the
 * checksum up or not, and
 * injects them through a raw IP socket into:
 *
 *  (a) two connections that stream data both ways the whole time, every
 *      byte of which is checked afterwards, and sacrificial connections
 *      whose data is not checked;
 *  (b) a listener;
 *  (c) a connection in the middle of a migration: one end frozen, then
 *      checkpointed and closed (departed: its node keeps a record of it,
 *      its peer holds), then restored on the other node.
 *
 * Afterwards every checked stream must have arrived byte for byte up to
 * its EOF, the migrated connection must deliver what was queued both ways
 * and carry more, the sacrificial connection's socket calls must give
 * answers a TCP socket could give, and the listener must take a new
 * connection (and none the fuzzer could not have completed).  Each node's
 * drop counters must say exactly what a model of docs/protocol.md
 * ("Receiving a segment", "Parsing", "Control segments") predicts for the
 * segments it was sent: InHdrErrors, InCsumErrors, InBadVersion,
 * InBadFlags, InBadEndpoint and InCtlErrors (the honest traffic beside
 * them never moves these).  tools/check fails the run on any kernel
 * warning, BUG or KASAN report in the guest's log.
 *
 * What the fuzzer never sends to a connection whose data it checks, and
 * why.  TCP accepts a forged segment with a valid checksum whose sequence
 * number is in the window (as data, as a FIN, as an acknowledgment of
 * data never received, as a window update), and a reset whose sequence
 * number is exactly RCV.NXT: such a segment corrupts or ends a plain TCP
 * connection too, which is why RFC 5961 only narrows the window for it.
 * So a segment with a valid checksum whose 4-tuple names an end of a
 * checked connection (whichever field the mutations changed to make it
 * so) gets its sequence number moved half the sequence space away from
 * that end's window: RCV.NXT lies between IRS + 1 and IRS + 1 + W, where
 * W (at most 2^28 here) is what the other end has written so far, and the
 * window is at most 2^30, so IRS + 1 + W + 2^31 +- 2^27 is outside it
 * whatever the connection did meanwhile; a segment outside the window is
 * dropped (and answered with an ACK) before its ACK, FIN or data are
 * read, and a reset there is dropped.  Everything else reaches the
 * checked connections: segments with broken checksums aimed exactly at
 * RCV.NXT and SND.UNA (which a receiver that skipped the checksum would
 * take), SYNs (answered by challenge ACKs), and control messages, whose
 * MACs the fuzzer does not know (HMAC-SHA256 under the connection key or
 * a socket's home key: a forged one passes with a chance of 2^-256; a
 * REDIRECT, whose MAC a node without a cluster key ignores, is taken
 * only in SYN-SENT, which no checked connection is in).  The sacrificial
 * connections get all of it, valid in-window segments and exact resets
 * included, and are only checked for coherent socket calls.
 *
 * Determinism: the segments come from a xorshift64* generator seeded by
 * MIGTCP_FUZZ_SEED (default FUZZ_SEED, printed), so a seed repeats the same
 * choices; the live values they are aimed at (sequence numbers) are the
 * connections'.  MIGTCP_FUZZ_SEGMENTS sets the count (default 160,000,
 * about a minute under TCG; "make fuzz" runs 1,000,000).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdatomic.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"
#include "stream.h"

#define FUZZ_SEED		0x6d6967746370667aULL	/* "migtcpfz" */
#define FUZZ_SEGMENTS		160000UL
/*
 * Segments per round: each round has its own connections, listener and
 * migration.  Fewer than the fuzz listener's backlog, so that SYNs whose
 * SYN-ACK is never answered cannot fill it.
 */
#define ROUND_SEGMENTS		4000UL
#define FUZZ_BACKLOG		4096
#define SETUP_PORT_BASE		20000	/* + round: where a round connects */
#define FUZZ_PORT_BASE		40000	/* + round: the fuzzed listener */
#define PORT_ROUNDS		10000

#define SEG_MAX		1400	/* segment bytes: one IP packet on veth */
#define HDR		28	/* struct migtcphdr */
#define SYN_OPTS	44	/* MSS, NOP, WS, KX: migtcp.ko's SYN */
#define SYNACK_OPTS	64	/* and HSMAC: its SYN-ACK */
#define HSACK_OPTS	20	/* HSMAC alone: the ACK ending a handshake */
#define F_KNOWN		(MIGTCP_F_FIN | MIGTCP_F_SYN | MIGTCP_F_RST | \
			 MIGTCP_F_PSH | MIGTCP_F_ACK | MIGTCP_F_ECE | \
			 MIGTCP_F_CWR | MIGTCP_F_CTL)

/* The pumps write at most this much per direction and round (< 2^28). */
#define PUMP_CAP	(256 * MiB - 1)
#define PUMP_CHUNK	(8 * KiB)
#define SAFE_OFF	0x80000000U
#define SAFE_SPREAD	(1U << 27)

#define TCP_ESTABLISHED_	1
#define TCP_CLOSE_		7
#define TCP_CLOSING_		11

/* Where a segment goes. */
enum target {
	T_CHECKED_BADSUM,	/* a checked connection, in its window, bad checksum */
	T_CHECKED,		/* a checked connection, anything else */
	T_SACRIFICE,		/* the sacrificial connection, anything */
	T_LISTENER,		/* the fuzzed listener */
	T_MIGRATING,		/* the connection being migrated */
	T_REGISTRAR,		/* control messages to and from registrars */
	T_NOWHERE,		/* ports and nodes nobody holds */
	T_NR
};

static const char * const target_names[T_NR] = {
	"checked-badsum", "checked", "sacrificial", "listener", "migrating",
	"registrar", "nowhere",
};

/* What a segment starts as. */
enum kind {
	K_DATA, K_ACK, K_FIN, K_RST, K_SYN, K_SYNACK, K_HSACK,
	K_HOLD, K_UPDATE, K_LACK, K_REDIRECT, K_NR
};

static const char * const kind_names[K_NR] = {
	"data", "ack", "fin", "rst", "syn", "synack", "hsack", "hold",
	"update", "lack", "redirect",
};

enum mutation {
	MU_VERSION, MU_DOFF, MU_FLAGS, MU_SRC_NODE, MU_DST_NODE, MU_SRC_PORT,
	MU_DST_PORT, MU_SEQ, MU_ACK, MU_WINDOW, MU_OPT_BYTE, MU_OPT_LEN,
	MU_OPT_INSERT, MU_OPT_KX, MU_OPT_TRUNC, MU_CTL_TYPE, MU_CTL_LEN,
	MU_CTL_BODY, MU_LEN, MU_BITFLIP, MU_NR
};

static const char * const mutation_names[MU_NR] = {
	"version", "doff", "flags", "src_node", "dst_node", "src_port",
	"dst_port", "seq", "ack_seq", "window", "opt_byte", "opt_len",
	"opt_insert", "opt_kx", "opt_trunc", "ctl_type", "ctl_len",
	"ctl_body", "length", "bitflip",
};

/* How a node's first checks end for a segment (receive.c, in order). */
enum verdict {
	V_HDR, V_CSUM, V_VERSION, V_CTL, V_FLAGS, V_ENDPOINT, V_SEGS, V_NR
};

/* The counter each verdict is counted in. */
static const char * const verdict_counters[V_NR] = {
	"InHdrErrors", "InCsumErrors", "InBadVersion", "InCtlErrors",
	"InBadFlags", "InBadEndpoint", "InSegs",
};

/* A round's phases: the migrating connection's end is ... */
enum phase { P_LIVE, P_FROZEN, P_DEPARTED, P_RESTORED, P_NR };

static const char * const phase_names[P_NR] = {
	"live", "frozen", "departed", "restored",
};

/* One direction of a checked connection: a writer that runs until told. */
struct pump {
	int fd;
	__u64 seed;
	atomic_size_t written;
	atomic_bool stop;
	int err;
	const char *failed;
	pthread_t th;
};

/*
 * A connection as the fuzzer sees it: end 0 was connected from node 1,
 * end 1 accepted on node 2 (until one of them migrates).
 */
struct conn {
	int fd[2];
	unsigned int host[2];	/* the node that holds each end now */
	unsigned int old_host;	/* where the migrated end was */
	__u32 node[2];		/* each end's identity */
	__u16 port[2];
	__u32 iss[2];		/* each end's initial sequence number */
	bool checked;		/* its data is verified */
	bool pumped;		/* the pumps write it */
	size_t sent[2];		/* written by each end, when not pumped */
	struct pump pump[2];	/* pump[e] writes from end e */
	struct stream rd[2];	/* rd[e] reads at end e */
	pthread_t rd_th[2];
};

/* Several sacrificial connections: forged resets and FINs end them soon. */
#define N_SACRIFICE	4

enum {
	C_CHECKED0, C_CHECKED1, C_SACRIFICE,
	C_MIGRATING = C_SACRIFICE + N_SACRIFICE,
	C_NR
};

struct fuzz {
	__u64 seed;		/* MIGTCP_FUZZ_SEED */
	__u64 rng;
	unsigned long total;	/* MIGTCP_FUZZ_SEGMENTS */
	int proto;
	int tx[3];		/* IPPROTO_RAW sockets of nodes 1 and 2 */
	__u32 addr[3];		/* the nodes' addresses */
	unsigned int round;
	enum phase phase;
	int mig_end;		/* the end that migrates this round */
	__u16 setup_port, fuzz_port;
	int lfd;		/* the fuzzed listener, on node 2 */
	struct conn c[C_NR];
	/* counts */
	unsigned long sent, by_target[T_NR], by_kind[K_NR], by_mut[MU_NR];
	unsigned long by_phase[P_NR], csum_valid, csum_invalid, kept_out;
	unsigned long predicted[3][V_NR], ctl_tlv_bad[3];
	unsigned long ctl_in6;	/* control messages built with family 6 */
	unsigned long sac_calls, sac_errors;
	unsigned long long streamed;	/* checked bytes, all directions */
};

/* ---- the generator ---- */

static __u64 rnd(struct fuzz *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545f4914f6cdd1dULL;
}

static unsigned int below(struct fuzz *f, unsigned int n)
{
	return rnd(f) % n;
}

static bool chance(struct fuzz *f, unsigned int one_in)
{
	return below(f, one_in) == 0;
}

/* An index into @w (weights) chosen in proportion to them. */
static unsigned int weighted(struct fuzz *f, const unsigned int *w,
			     unsigned int n)
{
	unsigned int i, sum = 0, r;

	for (i = 0; i < n; i++)
		sum += w[i];
	r = below(f, sum);
	for (i = 0; r >= w[i]; i++)
		r -= w[i];
	return i;
}

static void fill_random(struct fuzz *f, __u8 *p, int n)
{
	while (n-- > 0)
		*p++ = rnd(f);
}

/* ---- segments ---- */

struct seg {
	__u8 b[SEG_MAX] __attribute__((aligned(8)));
	int len;
	unsigned int from, to;	/* sending node; node whose address it goes to */
};

static struct migtcphdr *hdr(struct seg *s)
{
	return (struct migtcphdr *)s->b;
}

static int doff_bytes(const struct seg *s)
{
	return s->b[1] * 4;
}

/* One's complement sum of @len bytes as big-endian words, added to @sum. */
static __u32 sum16(const __u8 *p, int len, __u32 sum)
{
	int i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static __u16 fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static __u32 pseudo_sum(const struct fuzz *f, const struct seg *s)
{
	__u8 ph[12];

	memcpy(ph, &f->addr[s->from], 4);
	memcpy(ph + 4, &f->addr[s->to], 4);
	ph[8] = 0;
	ph[9] = f->proto;
	ph[10] = s->len >> 8;
	ph[11] = s->len & 0xff;
	return sum16(ph, 12, 0);
}

/* Whether @s is long enough to have a checksum and it verifies. */
static bool csum_valid(const struct fuzz *f, const struct seg *s)
{
	return s->len >= HDR &&
	       fold(sum16(s->b, s->len, pseudo_sum(f, s))) == 0xffff;
}

static void csum_fix(const struct fuzz *f, struct seg *s)
{
	__u16 c;

	if (s->len < HDR)
		return;
	s->b[26] = 0;
	s->b[27] = 0;
	c = ~fold(sum16(s->b, s->len, pseudo_sum(f, s)));
	s->b[26] = c >> 8;
	s->b[27] = c & 0xff;
}

/* A checksum that does not verify, whatever the rest of @s is. */
static void csum_break(struct fuzz *f, struct seg *s)
{
	if (s->len < HDR)
		return;
	s->b[26] ^= rnd(f);
	s->b[27] ^= rnd(f);
	if (csum_valid(f, s))	/* unchanged, or 0x0000 for 0xffff */
		s->b[27] ^= 1;
}

/* ---- the model of a node's first checks (receive.c, docs/protocol.md) ---- */

static bool options_walkable(const struct seg *s)
{
	const __u8 *opt = s->b + HDR, *end = s->b + doff_bytes(s);

	while (opt < end && *opt != MIGTCP_OPT_EOL) {
		if (*opt == MIGTCP_OPT_NOP) {
			opt++;
			continue;
		}
		if (end - opt < 2 || opt[1] < 2 || opt[1] > end - opt)
			return false;
		opt += opt[1];
	}
	return true;
}

static unsigned int ctl_len_of(__u8 type)
{
	switch (type) {
	case MIGTCP_CTL_HOLD:
		return sizeof(struct migtcp_ctl_hold);
	case MIGTCP_CTL_LOCATION_UPDATE:
		return sizeof(struct migtcp_ctl_update);
	case MIGTCP_CTL_LOCATION_ACK:
		return sizeof(struct migtcp_ctl_ack);
	case MIGTCP_CTL_REDIRECT:
		return sizeof(struct migtcp_ctl_redirect);
	}
	return 0;
}

/* An address family byte of a control message: IPv4 or IPv6. */
static bool ctl_family_ok(__u8 family)
{
	return family == MIGTCP_CTL_ADDR_IN || family == MIGTCP_CTL_ADDR_IN6;
}

/*
 * Whether an intact control segment passes the TLV checks of "Control
 * segments" (otherwise: InCtlErrors): no options, one TLV of its type's
 * length, registrar forms only for LOCATION-UPDATE (to one, from an
 * endpoint) and LOCATION-ACK (from one), an update's address family
 * IPv4 or IPv6, an update to a peer naming the header's destination.  (A
 * REDIRECT's family is checked later, as its host: InCtlBadHost.)
 */
static bool ctl_tlv_ok(struct seg *s)
{
	const struct migtcphdr *h = hdr(s);
	const struct migtcp_ctl_update *u;
	int len = s->len - doff_bytes(s);
	const __u8 *tlv = s->b + doff_bytes(s);

	if (h->doff != MIGTCP_HDR_MIN_DOFF || len < 4 ||
	    len > (int)sizeof(struct migtcp_ctl_update))
		return false;
	if ((int)ctl_len_of(tlv[0]) != len || ((tlv[2] << 8) | tlv[3]) != len)
		return false;
	u = (const void *)tlv;
	if (!h->dst_port)
		return tlv[0] == MIGTCP_CTL_LOCATION_UPDATE && h->src_port &&
		       ctl_family_ok(u->family);
	if (!h->src_port)
		return tlv[0] == MIGTCP_CTL_LOCATION_ACK;
	if (tlv[0] == MIGTCP_CTL_LOCATION_UPDATE)
		return ctl_family_ok(u->family) &&
		       u->peer_node == h->dst_node &&
		       u->peer_port == h->dst_port;
	return true;
}

static enum verdict predict(const struct fuzz *f, struct seg *s,
			    bool *ctl_bad)
{
	const struct migtcphdr *h = hdr(s);
	__u16 flags;

	*ctl_bad = false;
	if (s->len < HDR)
		return V_HDR;
	if (!csum_valid(f, s))
		return V_CSUM;
	if (h->version != MIGTCP_WIRE_VERSION)
		return V_VERSION;
	if (h->doff < MIGTCP_HDR_MIN_DOFF || doff_bytes(s) > s->len ||
	    !options_walkable(s))
		return V_HDR;
	flags = ntohs(h->flags);
	if ((flags & MIGTCP_F_CTL) && flags != MIGTCP_F_CTL)
		return V_CTL;
	if ((flags & ~F_KNOWN) ||
	    ((flags & MIGTCP_F_SYN) && (flags & (MIGTCP_F_FIN | MIGTCP_F_RST))))
		return V_FLAGS;
	if (!h->src_node ||
	    (!(flags & MIGTCP_F_CTL) && (!h->src_port || !h->dst_port)))
		return V_ENDPOINT;
	if (flags & MIGTCP_F_CTL)
		*ctl_bad = !ctl_tlv_ok(s);
	return V_SEGS;
}

/* ---- what the connections are at ---- */

static size_t written_by(struct conn *c, int e)
{
	return c->pumped ? atomic_load(&c->pump[e].written) : c->sent[e];
}

/* RCV.NXT of end @e, as far as its MIGTCP_INFO says (or a guess). */
static __u32 aim_seq(struct conn *c, int e)
{
	struct migtcp_info i;

	if (c->fd[e] >= 0 && !get_info(c->fd[e], &i))
		return c->iss[!e] + 1 + (__u32)i.bytes_received;
	return c->iss[!e] + 1 + (__u32)written_by(c, !e);
}

/* SND.UNA of end @e, likewise. */
static __u32 aim_ack(struct conn *c, int e)
{
	struct migtcp_info i;

	if (c->fd[e] >= 0 && !get_info(c->fd[e], &i))
		return c->iss[e] + 1 + (__u32)i.bytes_acked;
	return c->iss[e] + 1;
}

/*
 * A sequence number outside end @e's receive window whatever it does
 * meanwhile (see the top of this file).
 */
static __u32 safe_seq(struct fuzz *f, struct conn *c, int e)
{
	return c->iss[!e] + 1 + (__u32)written_by(c, !e) + SAFE_OFF +
	       below(f, 2 * SAFE_SPREAD) - SAFE_SPREAD;
}

/* The end of a checked connection that segment @s would reach, or NULL. */
static struct conn *checked_end(struct fuzz *f, struct seg *s, int *end)
{
	const struct migtcphdr *h = hdr(s);
	int i, e;

	for (i = 0; i < C_NR; i++) {
		struct conn *c = &f->c[i];

		if (!c->checked)
			continue;
		for (e = 0; e < 2; e++) {
			if (h->dst_node == htonl(c->node[e]) &&
			    h->dst_port == htons(c->port[e]) &&
			    h->src_node == htonl(c->node[!e]) &&
			    h->src_port == htons(c->port[!e])) {
				*end = e;
				return c;
			}
		}
	}
	return NULL;
}

/* ---- templates ---- */

static void put_hdr(struct seg *s, __u16 flags, __u32 snode, __u16 sport,
		    __u32 dnode, __u16 dport, __u32 seq, __u32 ack,
		    int optlen)
{
	struct migtcphdr *h = hdr(s);

	memset(h, 0, HDR);
	h->version = MIGTCP_WIRE_VERSION;
	h->doff = (HDR + optlen) / 4;
	h->flags = htons(flags);
	h->src_node = htonl(snode);
	h->dst_node = htonl(dnode);
	h->src_port = htons(sport);
	h->dst_port = htons(dport);
	h->seq = htonl(seq);
	h->ack_seq = htonl(ack);
	h->window = htons(0xffff);
	s->len = HDR + optlen;
}

/* A key exchange option (36 bytes) with a random half. */
static void put_kx(struct fuzz *f, __u8 *o)
{
	o[0] = MIGTCP_OPT_KX;
	o[1] = MIGTCP_OPTLEN_KX;
	o[2] = MIGTCP_KX_SUITE_HMAC_SHA256;
	o[3] = 0;
	fill_random(f, o + 4, MIGTCP_KX_HALF_LEN);
}

/* MSS, NOP, WS, KX: 44 bytes, as migtcp.ko's SYN. */
static void put_syn_opts(struct fuzz *f, __u8 *o)
{
	o[0] = MIGTCP_OPT_MSS;
	o[1] = MIGTCP_OPTLEN_MSS;
	o[2] = 0x05;
	o[3] = 0x8c;
	o[4] = MIGTCP_OPT_NOP;
	o[5] = MIGTCP_OPT_WSCALE;
	o[6] = MIGTCP_OPTLEN_WSCALE;
	o[7] = 7;
	put_kx(f, o + 8);
}

static void put_hsmac(struct fuzz *f, __u8 *o)
{
	o[0] = MIGTCP_OPT_HSMAC;
	o[1] = MIGTCP_OPTLEN_HSMAC;
	o[2] = 0;
	o[3] = 0;
	fill_random(f, o + 4, MIGTCP_HSMAC_LEN);
}

/*
 * The host address of a LOCATION-UPDATE or REDIRECT from @s's node
 * (@field zeroed): its IPv4 address mostly; 1 in 4 an IPv6 one (family
 * 6: the nodes have none, so it names an unknown host), now and then
 * the IPv4 address v4-mapped, which a receiver reads as none.
 */
static void put_host_addr(struct fuzz *f, const struct seg *s, __u8 *family,
			  __u8 *field)
{
	static const __u8 doc[] = { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00 };

	if (!chance(f, 4)) {
		*family = MIGTCP_CTL_ADDR_IN;
		memcpy(field, &f->addr[s->from], 4);
		return;
	}
	*family = MIGTCP_CTL_ADDR_IN6;
	f->ctl_in6++;
	if (chance(f, 4)) {
		memset(field + 10, 0xff, 2);
		memcpy(field + 12, &f->addr[s->from], 4);
	} else {
		memcpy(field, doc, sizeof(doc));	/* 2001:db8:100::N */
		field[15] = s->from;
	}
}

/* The offset of the family byte in a control TLV of @len bytes, or -1. */
static int ctl_family_at(const __u8 *tlv, int len)
{
	int at = -1;

	if (len > 0 && tlv[0] == MIGTCP_CTL_LOCATION_UPDATE)
		at = offsetof(struct migtcp_ctl_update, family);
	if (len > 0 && tlv[0] == MIGTCP_CTL_REDIRECT)
		at = offsetof(struct migtcp_ctl_redirect, family);
	return at < len ? at : -1;
}

/*
 * The data of a control segment of kind @k from (@snode, @sport) to
 * (@dnode, @dport), correct but for its MAC, which is random.
 */
static void put_ctl(struct fuzz *f, struct seg *s, enum kind k)
{
	const struct migtcphdr *h = hdr(s);
	__u8 *tlv = s->b + HDR;
	struct migtcp_ctl_update *u = (void *)tlv;
	struct migtcp_ctl_ack *a = (void *)tlv;
	struct migtcp_ctl_hold *hd = (void *)tlv;
	struct migtcp_ctl_redirect *r = (void *)tlv;
	unsigned int len;
	__u64 epoch = chance(f, 2) ? 1 + below(f, 4) : rnd(f);

	switch (k) {
	case K_HOLD:
		len = sizeof(*hd);
		memset(tlv, 0, len);
		hd->epoch = htobe64(epoch);
		hd->hold_ms = htonl(below(f, 200000));
		fill_random(f, hd->mac, MIGTCP_CTL_MAC_LEN);
		break;
	case K_UPDATE:
		len = sizeof(*u);
		memset(tlv, 0, len);
		u->flags = chance(f, 4) ? MIGTCP_CTL_F_GONE : 0;
		u->epoch = htobe64(epoch);
		u->host_node = htonl(s->from);
		u->peer_node = h->dst_port ? h->dst_node : 0;
		u->peer_port = h->dst_port;
		put_host_addr(f, s, &u->family, u->host_addr);
		fill_random(f, u->mac, MIGTCP_CTL_MAC_LEN);
		break;
	case K_LACK:
		len = sizeof(*a);
		memset(tlv, 0, len);
		a->epoch = htobe64(epoch);
		a->acked_type = chance(f, 2) ? MIGTCP_CTL_HOLD :
					       MIGTCP_CTL_LOCATION_UPDATE;
		if (!h->src_port) {
			a->peer_node = htonl(1 + below(f, 2));
			a->peer_port = htons(rnd(f));
		}
		fill_random(f, a->mac, MIGTCP_CTL_MAC_LEN);
		break;
	default:
		len = sizeof(*r);
		memset(tlv, 0, len);
		r->echoed_seq = htonl(rnd(f));
		r->epoch = htobe64(epoch);
		r->host_node = htonl(s->from);
		put_host_addr(f, s, &r->family, r->host_addr);
		fill_random(f, r->mac, MIGTCP_CTL_MAC_LEN);
		break;
	}
	tlv[0] = k == K_HOLD ? MIGTCP_CTL_HOLD :
		 k == K_UPDATE ? MIGTCP_CTL_LOCATION_UPDATE :
		 k == K_LACK ? MIGTCP_CTL_LOCATION_ACK : MIGTCP_CTL_REDIRECT;
	tlv[2] = len >> 8;
	tlv[3] = len & 0xff;
	s->len = HDR + len;
}

/*
 * A valid segment of kind @k from (@snode, @sport) to (@dnode, @dport)
 * with @seq and @ack (control segments: zero).
 */
static void build(struct fuzz *f, struct seg *s, enum kind k, __u32 snode,
		  __u16 sport, __u32 dnode, __u16 dport, __u32 seq,
		  __u32 ack)
{
	int n;

	switch (k) {
	case K_DATA:
		put_hdr(s, MIGTCP_F_ACK | MIGTCP_F_PSH, snode, sport, dnode,
			dport, seq, ack, 0);
		n = 1 + (chance(f, 4) ? below(f, SEG_MAX - HDR) : below(f, 256));
		fill_random(f, s->b + HDR, n);
		s->len += n;
		break;
	case K_ACK:
		put_hdr(s, MIGTCP_F_ACK, snode, sport, dnode, dport, seq, ack, 0);
		break;
	case K_FIN:
		put_hdr(s, MIGTCP_F_FIN | MIGTCP_F_ACK, snode, sport, dnode,
			dport, seq, ack, 0);
		break;
	case K_RST:
		put_hdr(s, chance(f, 2) ? MIGTCP_F_RST :
			MIGTCP_F_RST | MIGTCP_F_ACK, snode, sport, dnode, dport,
			seq, ack, 0);
		break;
	case K_SYN:
		put_hdr(s, MIGTCP_F_SYN, snode, sport, dnode, dport, seq, 0,
			SYN_OPTS);
		put_syn_opts(f, s->b + HDR);
		break;
	case K_SYNACK:
		put_hdr(s, MIGTCP_F_SYN | MIGTCP_F_ACK, snode, sport, dnode,
			dport, seq, ack, SYNACK_OPTS);
		put_syn_opts(f, s->b + HDR);
		put_hsmac(f, s->b + HDR + SYN_OPTS);
		break;
	case K_HSACK:
		put_hdr(s, MIGTCP_F_ACK, snode, sport, dnode, dport, seq, ack,
			HSACK_OPTS);
		put_hsmac(f, s->b + HDR);
		break;
	default:
		put_hdr(s, MIGTCP_F_CTL, snode, sport, dnode, dport, 0, 0, 0);
		hdr(s)->window = 0;
		put_ctl(f, s, k);
		break;
	}
}

/* ---- mutations ---- */

/* A node id worth trying: the cluster's, 0, all ones, any. */
static __u32 pick_node(struct fuzz *f)
{
	static const __u32 nodes[] = { 0, 1, 2, 3, 4, 0xffffffff };

	if (chance(f, 4))
		return rnd(f);
	return nodes[below(f, ARRAY_SIZE(nodes))];
}

/* A port worth trying: one in use (as a connection end or listener), 0, any. */
static __u16 pick_port(struct fuzz *f)
{
	struct conn *c = &f->c[below(f, C_NR)];

	switch (below(f, 6)) {
	case 0:
		return 0;
	case 1:
		return chance(f, 2) ? 65535 : 1;
	case 2:
		return chance(f, 2) ? f->fuzz_port : f->setup_port;
	case 3:
		return rnd(f);
	default:
		return c->port[below(f, 2)];
	}
}

/* Opens @n bytes at @at, moving what follows (the segment grows). */
static bool open_gap(struct seg *s, int at, int n)
{
	if (s->len + n > SEG_MAX || at > s->len)
		return false;
	memmove(s->b + at + n, s->b + at, s->len - at);
	s->len += n;
	return true;
}

/*
 * One option (or a broken piece of one) at @o, at most @room bytes;
 * returns its length.
 */
static int gen_option(struct fuzz *f, __u8 *o, int room)
{
	static const __u8 kinds[] = {
		MIGTCP_OPT_MSS, MIGTCP_OPT_WSCALE, 4, 5, 8, MIGTCP_OPT_KX,
		MIGTCP_OPT_HSMAC, MIGTCP_OPT_HOST, 253, 254, 255, 6, 30,
	};
	static const __u8 lens[] = { 4, 3, 2, 10, 10, 36, 20, 6, 4, 4, 4, 4, 4 };
	int i = below(f, ARRAY_SIZE(kinds)), n;

	switch (below(f, 8)) {
	case 0:
		o[0] = chance(f, 4) ? MIGTCP_OPT_EOL : MIGTCP_OPT_NOP;
		return 1;
	case 1:		/* SACK with 1 to 4 blocks */
		n = 2 + 8 * (1 + below(f, 4));
		break;
	case 2:		/* a known kind with a length off by a little */
		n = lens[i] + (chance(f, 2) ? 1 : -1);
		break;
	case 3:		/* a length that runs past the area */
		o[0] = kinds[i];
		if (room < 2)
			return 1;
		o[1] = room + 1 + below(f, 8);
		return 2;
	case 4:		/* a length of 0 or 1 */
		o[0] = kinds[i];
		if (room < 2)
			return 1;
		o[1] = below(f, 2);
		return 2;
	default:	/* a known kind, well formed */
		n = lens[i];
		break;
	}
	if (n > room)
		n = room;
	if (n < 2) {
		o[0] = kinds[i];	/* a kind without its length */
		return n;
	}
	o[0] = kinds[i];
	o[1] = n;
	fill_random(f, o + 2, n - 2);
	if (o[0] == MIGTCP_OPT_KX && n >= 4) {
		o[2] = chance(f, 2) ? MIGTCP_KX_SUITE_HMAC_SHA256 : rnd(f);
		o[3] = chance(f, 2) ? 0 : MIGTCP_KX_F_KEY;
	}
	return n;
}

/* The offset of the first option of kind @kind in the area, or -1. */
static int find_option(struct seg *s, __u8 kind)
{
	int i = HDR, end = doff_bytes(s) < s->len ? doff_bytes(s) : s->len;

	while (i < end) {
		if (s->b[i] == kind)
			return i;
		if (s->b[i] == MIGTCP_OPT_EOL)
			return -1;
		if (s->b[i] == MIGTCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= end || s->b[i + 1] < 2)
			return -1;
		i += s->b[i + 1];
	}
	return -1;
}

static void mutate_seq_field(struct fuzz *f, __be32 *field, __u32 aim)
{
	__u32 v = ntohl(*field);

	switch (below(f, 8)) {
	case 0:
		v += 1;
		break;
	case 1:
		v -= 1;
		break;
	case 2:
		v += below(f, 1 << 20);
		break;
	case 3:
		v -= below(f, 1 << 20);
		break;
	case 4:
		v ^= 0x80000000U;
		break;
	case 5:
		v = aim;
		break;
	default:
		v = rnd(f);
		break;
	}
	*field = htonl(v);
}

static void mutate(struct fuzz *f, struct seg *s, enum mutation m,
		   __u32 aim_s, __u32 aim_a)
{
	static const __u16 flag_sets[] = {
		MIGTCP_F_SYN | MIGTCP_F_FIN, MIGTCP_F_SYN | MIGTCP_F_RST,
		MIGTCP_F_CTL | MIGTCP_F_ACK, MIGTCP_F_CTL | MIGTCP_F_SYN,
		0x0020, 0x0200, 0x8000, 0, MIGTCP_F_FIN, MIGTCP_F_RST,
		MIGTCP_F_RST | MIGTCP_F_ACK, MIGTCP_F_SYN | MIGTCP_F_ACK,
		MIGTCP_F_CTL, MIGTCP_F_SYN, MIGTCP_F_ACK | MIGTCP_F_ECE |
		MIGTCP_F_CWR,
	};
	struct migtcphdr *h = hdr(s);
	int optlen = doff_bytes(s) - HDR, dataoff, i, n;
	__u8 *tlv;

	if (s->len < HDR)
		return;
	dataoff = doff_bytes(s) < s->len ? doff_bytes(s) : s->len;
	tlv = s->b + dataoff;
	switch (m) {
	case MU_VERSION:
		h->version = chance(f, 2) ? below(f, 4) : rnd(f);
		break;
	case MU_DOFF:
		switch (below(f, 6)) {
		case 0:
			h->doff = below(f, MIGTCP_HDR_MIN_DOFF);
			break;
		case 1:
			h->doff += chance(f, 2) ? 1 : -1;
			break;
		case 2:
			h->doff = s->len / 4 + below(f, 2);
			break;
		case 3:
			h->doff = 255;
			break;
		default:
			h->doff = rnd(f);
			break;
		}
		break;
	case MU_FLAGS:
		if (chance(f, 3))
			h->flags = htons(flag_sets[below(f, ARRAY_SIZE(flag_sets))]);
		else if (chance(f, 2))
			h->flags ^= htons(1 << below(f, 16));
		else
			h->flags = rnd(f);
		break;
	case MU_SRC_NODE:
		h->src_node = htonl(pick_node(f));
		break;
	case MU_DST_NODE:
		h->dst_node = htonl(pick_node(f));
		break;
	case MU_SRC_PORT:
		h->src_port = htons(pick_port(f));
		break;
	case MU_DST_PORT:
		h->dst_port = htons(pick_port(f));
		break;
	case MU_SEQ:
		mutate_seq_field(f, &h->seq, aim_s);
		break;
	case MU_ACK:
		mutate_seq_field(f, &h->ack_seq, aim_a);
		break;
	case MU_WINDOW:
		h->window = chance(f, 2) ? htons(below(f, 2) ? 0xffff : below(f, 2)) :
					   rnd(f);
		break;
	case MU_OPT_BYTE:
		if (optlen > 0 && dataoff > HDR) {
			i = HDR + below(f, dataoff - HDR);
			s->b[i] = chance(f, 2) ? below(f, 10) : rnd(f);
		}
		break;
	case MU_OPT_LEN:
		i = find_option(s, s->b[HDR + (optlen > 0 ? below(f, optlen) : 0)]);
		if (i >= 0 && i + 1 < dataoff) {
			n = dataoff - i;
			switch (below(f, 5)) {
			case 0:
				s->b[i + 1] = below(f, 2);
				break;
			case 1:
				s->b[i + 1] = n + 1 + below(f, 4);
				break;
			case 2:
				s->b[i + 1] += chance(f, 2) ? 1 : -1;
				break;
			default:
				s->b[i + 1] = rnd(f);
				break;
			}
		}
		break;
	case MU_OPT_INSERT:
		n = 4 * (1 + below(f, 10));
		if (h->doff + n / 4 > 255 || !open_gap(s, HDR, n))
			break;
		for (i = 0; i < n;)
			i += gen_option(f, s->b + HDR + i, n - i) ?: 1;
		h->doff += n / 4;
		break;
	case MU_OPT_KX:
		i = find_option(s, MIGTCP_OPT_KX);
		if (i < 0) {	/* a KX option where it does not belong */
			if (h->doff + MIGTCP_OPTLEN_KX / 4 > 255 ||
			    !open_gap(s, HDR, MIGTCP_OPTLEN_KX))
				break;
			put_kx(f, s->b + HDR);
			h->doff += MIGTCP_OPTLEN_KX / 4;
			break;
		}
		switch (below(f, 5)) {
		case 0:
			s->b[i + 2] = rnd(f);		/* suite */
			break;
		case 1:
			s->b[i + 3] = rnd(f);		/* flags */
			break;
		case 2:
			s->b[i + 1] = chance(f, 2) ? MIGTCP_OPTLEN_KX - 1 :
				      MIGTCP_OPTLEN_KX + 1;
			break;
		case 3:
			s->b[i] = MIGTCP_OPT_NOP;	/* gone */
			break;
		default:
			fill_random(f, s->b + i + 4, MIGTCP_KX_HALF_LEN);
			break;
		}
		break;
	case MU_OPT_TRUNC:
		if (optlen >= 4)
			h->doff = MIGTCP_HDR_MIN_DOFF + below(f, optlen / 4);
		break;
	case MU_CTL_TYPE:
		if (dataoff < s->len)
			tlv[0] = chance(f, 2) ? below(f, 6) : rnd(f);
		break;
	case MU_CTL_LEN:
		if (dataoff + 4 <= s->len) {
			static const int d[] = { -1, 1, -4, 4 };

			n = s->len - dataoff;
			switch (below(f, 4)) {
			case 0:
				n = below(f, 5);
				break;
			case 1:
				n += d[below(f, 4)];
				break;
			case 2:
				n = 0xffff;
				break;
			default:
				n = rnd(f);
				break;
			}
			tlv[2] = n >> 8;
			tlv[3] = n;
		}
		break;
	case MU_CTL_BODY:
		i = ctl_family_at(tlv, s->len - dataoff);
		if (i >= 0 && chance(f, 3)) {
			/* Families: none, IPv4, IPv6, near ones, AF_INET6. */
			static const __u8 fams[] = { 0, 4, 6, 5, 7, 10, 41, 255 };

			tlv[i] = chance(f, 4) ? rnd(f) :
					       fams[below(f, ARRAY_SIZE(fams))];
			break;
		}
		if (dataoff + 4 < s->len) {
			n = 1 + below(f, 4);
			while (n--)
				tlv[4 + below(f, s->len - dataoff - 4)] = rnd(f);
		}
		break;
	case MU_LEN:
		if (chance(f, 2)) {	/* shorter: into the header, options or data */
			switch (below(f, 4)) {
			case 0:
				s->len = below(f, HDR);
				break;
			case 1:
				s->len = HDR + (dataoff > HDR ?
						below(f, dataoff - HDR + 1) : 0);
				break;
			default:
				s->len = below(f, s->len + 1);
				break;
			}
		} else {
			n = 1 + below(f, chance(f, 2) ? 8 : SEG_MAX);
			if (s->len + n > SEG_MAX)
				n = SEG_MAX - s->len;
			fill_random(f, s->b + s->len, n);
			s->len += n;
		}
		break;
	default:
		n = 1 + below(f, 8);
		while (n--) {
			i = below(f, s->len);
			s->b[i] ^= 1 << below(f, 8);
		}
		break;
	}
}

/* ---- sending ---- */

/* Sends @s from its node's raw socket, with an IP header of our own. */
static void send_seg(struct __test_metadata *_metadata, struct fuzz *f,
		     const struct seg *s)
{
	const struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = f->addr[s->to],
	};
	__u8 pkt[sizeof(struct iphdr) + SEG_MAX];
	struct iphdr *ip = (struct iphdr *)pkt;
	int len = sizeof(*ip) + s->len;
	ssize_t n = -1;

	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = f->proto;
	ip->saddr = f->addr[s->from];
	ip->daddr = f->addr[s->to];
	ip->tot_len = htons(len);
	memcpy(pkt + sizeof(*ip), s->b, s->len);
	n = migtcp_test_sendto(f->tx[s->from], pkt, len,
			       (const struct sockaddr *)&to, sizeof(to));
	ASSERT_EQ(len, n) TH_LOG("sendto: %s", strerror(errno));
}

/* ---- the sacrificial connection ---- */

/* What a TCP socket may answer once forged segments reset or closed it. */
static bool sac_errno_ok(int err)
{
	return err == EAGAIN || err == ECONNRESET || err == EPIPE ||
	       err == ETIMEDOUT;
}

/* Writes a little at both ends and reads what came, without blocking. */
static void sac_poke(struct __test_metadata *_metadata, struct fuzz *f)
{
	struct conn *c = &f->c[C_SACRIFICE + below(f, N_SACRIFICE)];
	__u8 buf[2048];
	ssize_t ret;
	int e, n;

	for (e = 0; e < 2; e++) {
		n = 1 + below(f, 64);
		fill_random(f, buf, n);
		ret = send(c->fd[e], buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		f->sac_calls++;
		if (ret < 0) {
			f->sac_errors++;
			EXPECT_TRUE(sac_errno_ok(errno))
				TH_LOG("send on the sacrificial connection: %s",
				       errname(errno));
		}
		do {
			ret = recv(c->fd[e], buf, sizeof(buf), MSG_DONTWAIT);
			f->sac_calls++;
		} while (ret > 0);
		if (ret < 0 && errno != EAGAIN) {
			f->sac_errors++;
			EXPECT_TRUE(sac_errno_ok(errno))
				TH_LOG("recv on the sacrificial connection: %s",
				       errname(errno));
		}
	}
}

/*
 * After the fuzzing: each end has a TCP state, poll() answers, a closed
 * end says so (POLLHUP, and reads that end rather than EAGAIN), and
 * close() works.
 */
static void sac_final(struct __test_metadata *_metadata, struct fuzz *f)
{
	struct migtcp_info info;
	int e, revents, i;
	__u8 buf[2048];
	struct conn *c;
	ssize_t ret;

	sleep_ms(100);	/* let answers to the last segments land */
	for (i = 0; i < N_SACRIFICE * 2; i++) {
		c = &f->c[C_SACRIFICE + i / 2];
		e = i % 2;
		GET_INFO(c->fd[e], &info);
		EXPECT_LE(TCP_ESTABLISHED_, info.state);
		EXPECT_GE(TCP_CLOSING_, info.state);
		revents = poll_one(c->fd[e], POLLIN | POLLOUT, 0);
		EXPECT_LE(0, revents) TH_LOG("poll: %s", strerror(errno));
		do
			ret = recv(c->fd[e], buf, sizeof(buf), MSG_DONTWAIT);
		while (ret > 0);
		if (info.state == TCP_CLOSE_) {
			EXPECT_TRUE(revents & POLLHUP)
				TH_LOG("end %d: closed, poll says %#x", e, revents);
			EXPECT_FALSE(ret < 0 && errno == EAGAIN)
				TH_LOG("end %d: closed, recv says EAGAIN", e);
		}
		if (ret < 0 && errno != EAGAIN)
			EXPECT_TRUE(sac_errno_ok(errno))
				TH_LOG("end %d: recv: %s", e, errname(errno));
		fprintf(stderr, "# fuzz: round %u sacrificial %d end %d: state %u, %llu bytes in, %llu out\n",
			f->round, i / 2, e, info.state,
			(unsigned long long)info.bytes_received,
			(unsigned long long)info.bytes_acked);
		EXPECT_EQ(0, close(c->fd[e]));
		c->fd[e] = -1;
	}
}

/* ---- one segment ---- */

static const unsigned int w_live[T_NR] = { 15, 25, 15, 15, 10, 5, 15 };
static const unsigned int w_migrating[T_NR] = { 10, 15, 5, 10, 40, 10, 10 };
static const unsigned int w_conn[K_NR] = { 30, 20, 8, 8, 6, 5, 5, 5, 5, 4, 4 };
static const unsigned int w_badsum[K_NR] = { 50, 15, 15, 20 };
static const unsigned int w_listener[K_NR] = { 10, 15, 5, 5, 50, 5, 10 };

/* A template for a connection target: from end !@e to end @e, aimed. */
static void conn_template(struct fuzz *f, struct seg *s, enum target t,
			  struct conn *c, int e, __u32 *as, __u32 *aa)
{
	enum kind k = weighted(f, t == T_CHECKED_BADSUM ? w_badsum : w_conn,
			       K_NR);

	f->by_kind[k]++;
	*as = aim_seq(c, e);
	*aa = aim_ack(c, e);
	s->to = c->host[e];
	/* A departed end's old node keeps a record of it. */
	if (t == T_MIGRATING && e == f->mig_end &&
	    (f->phase == P_DEPARTED || f->phase == P_RESTORED) &&
	    chance(f, 2))
		s->to = c->old_host;
	build(f, s, k, c->node[!e], c->port[!e], c->node[e], c->port[e],
	      *as + (t == T_SACRIFICE && !chance(f, 4) ? below(f, 65536) : 0),
	      *aa);
}

/* A control message to a registrar (LOCATION-UPDATE) or from one (ACK). */
static void registrar_template(struct fuzz *f, struct seg *s)
{
	struct conn *c = &f->c[below(f, C_NR)];
	int e = below(f, 2);

	if (chance(f, 2)) {
		struct migtcp_ctl_update *u = (void *)(s->b + HDR);

		f->by_kind[K_UPDATE]++;
		build(f, s, K_UPDATE, c->node[e], c->port[e], c->node[e], 0,
		      0, 0);
		if (chance(f, 4)) {	/* a listener's: no peer */
			u->peer_node = 0;
			u->peer_port = 0;
		} else {
			u->peer_node = htonl(c->node[!e]);
			u->peer_port = htons(c->port[!e]);
		}
		s->to = c->node[e];	/* the endpoint's home */
	} else {
		struct migtcp_ctl_ack *a = (void *)(s->b + HDR);

		f->by_kind[K_LACK]++;
		build(f, s, K_LACK, c->node[e], 0, c->node[e], c->port[e], 0,
		      0);
		a->acked_type = MIGTCP_CTL_LOCATION_UPDATE;
		if (chance(f, 2)) {
			a->peer_node = htonl(c->node[!e]);
			a->peer_port = htons(c->port[!e]);
		}
		s->to = c->host[e];
	}
}

static void one_segment(struct __test_metadata *_metadata, struct fuzz *f)
{
	enum target t = weighted(f, f->phase == P_LIVE ? w_live : w_migrating,
				 T_NR);
	__u32 as = 0, aa = 0;
	unsigned int i, nmut, how;
	enum verdict v;
	struct seg s;
	bool ctl_bad;
	enum kind k;
	int e;

	s.from = NODE1 + below(f, 2);
	switch (t) {
	case T_CHECKED_BADSUM:
	case T_CHECKED:
		conn_template(f, &s, t, &f->c[C_CHECKED0 + below(f, 2)],
			      below(f, 2), &as, &aa);
		break;
	case T_SACRIFICE:
		conn_template(f, &s, t,
			      &f->c[C_SACRIFICE + below(f, N_SACRIFICE)],
			      below(f, 2), &as, &aa);
		break;
	case T_MIGRATING:
		conn_template(f, &s, t, &f->c[C_MIGRATING], below(f, 2), &as,
			      &aa);
		break;
	case T_LISTENER:
		k = weighted(f, w_listener, K_NR);
		f->by_kind[k]++;
		/* Mostly the node of the address it comes from: SYNs get in. */
		build(f, &s, k, chance(f, 4) ? pick_node(f) : s.from,
		      1024 + below(f, 64000), NODE2, f->fuzz_port, rnd(f),
		      rnd(f));
		s.to = NODE2;
		break;
	case T_REGISTRAR:
		registrar_template(f, &s);
		break;
	default:
		k = below(f, K_NR);
		f->by_kind[k]++;
		s.to = NODE1 + below(f, 2);
		build(f, &s, k, pick_node(f) ?: s.from, 1 + below(f, 65535),
		      chance(f, 2) ? s.to : pick_node(f), 1 + below(f, 65535),
		      rnd(f), rnd(f));
		break;
	}
	csum_fix(f, &s);

	nmut = chance(f, 16) ? 0 : 1 + below(f, 3);
	for (i = 0; i < nmut; i++) {
		enum mutation m = below(f, MU_NR);

		f->by_mut[m]++;
		mutate(f, &s, m, as, aa);
	}
	/* 6 in 8: fixed up; 1 in 8: broken; 1 in 8: left as it was. */
	how = t == T_CHECKED_BADSUM ? 6 : below(f, 8);
	if (how <= 6)
		csum_fix(f, &s);
	if (how == 6)
		csum_break(f, &s);
	if (csum_valid(f, &s)) {
		struct conn *cc = checked_end(f, &s, &e);

		if (cc) {	/* see the top of this file */
			hdr(&s)->seq = htonl(safe_seq(f, cc, e));
			csum_fix(f, &s);
			f->kept_out++;
		}
		f->csum_valid++;
	} else {
		f->csum_invalid++;
	}
	v = predict(f, &s, &ctl_bad);
	send_seg(_metadata, f, &s);
	f->sent++;
	f->by_target[t]++;
	f->by_phase[f->phase]++;
	f->predicted[s.to][v]++;
	f->ctl_tlv_bad[s.to] += ctl_bad;
}

static void inject(struct __test_metadata *_metadata, struct fuzz *f,
		   unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n && _metadata->passed; i++) {
		one_segment(_metadata, f);
		if (i % 32 == 31)
			sac_poke(_metadata, f);
	}
}

/* ---- connections ---- */

static void *pump_main(void *arg)
{
	static const struct timespec pace = { 0, 1000000 };
	struct pump *p = arg;
	__u64 rng = p->seed ^ 0x5555;
	unsigned int how = 0;
	__u8 *buf;

	buf = malloc(PUMP_CHUNK);
	if (!buf) {
		p->err = ENOMEM;
		p->failed = "malloc";
		return NULL;
	}
	while (!atomic_load(&p->stop)) {
		size_t done = atomic_load(&p->written), n;
		ssize_t ret;

		if (done >= PUMP_CAP)
			break;
		rng = splitmix64(rng);
		n = 1 + rng % PUMP_CHUNK;
		if (n > PUMP_CAP - done)
			n = PUMP_CAP - done;
		pattern_fill(buf, n, p->seed, done);
		ret = write_by(p->fd, buf, n, how);
		if (ret <= 0) {
			p->err = ret ? errno : 0;
			p->failed = write_calls[how];
			break;
		}
		atomic_store(&p->written, done + ret);
		how = (how + 1) % 4;
		/* Leaves the CPU to the fuzzer: the streams need not be fast. */
		nanosleep(&pace, NULL);
	}
	if (!p->failed && shutdown(p->fd, SHUT_WR)) {
		p->err = errno;
		p->failed = "shutdown";
	}
	free(buf);
	return NULL;
}

static __u64 stream_seed(struct fuzz *f, int conn, int e)
{
	return splitmix64(f->seed ^ ((__u64)f->round << 16) ^ (conn << 4) ^ e);
}

static void start_pumps(struct __test_metadata *_metadata, struct fuzz *f,
			int i)
{
	struct conn *c = &f->c[i];
	int e;

	c->pumped = true;
	for (e = 0; e < 2; e++) {
		ASSERT_EQ(0, set_timeouts(c->fd[e], XFER_GUARD_SEC));
		c->pump[e].fd = c->fd[e];
		c->pump[e].seed = stream_seed(f, i, e);
		atomic_store(&c->pump[e].written, 0);
		atomic_store(&c->pump[e].stop, false);
		c->rd[!e] = (struct stream){
			.fd = c->fd[!e], .reader = true, .len = PUMP_CAP,
			.seed = c->pump[e].seed, .max_chunk = 16 * KiB,
			.until_eof = true,
		};
	}
	for (e = 0; e < 2; e++) {
		ASSERT_EQ(0, pthread_create(&c->pump[e].th, NULL, pump_main,
					    &c->pump[e]));
		ASSERT_EQ(0, pthread_create(&c->rd_th[e], NULL, reader_main,
					    &c->rd[e]));
	}
}

/* Stops the pumps of checked connection @i and checks every byte. */
static void check_pumped(struct __test_metadata *_metadata, struct fuzz *f,
			 int i)
{
	struct conn *c = &f->c[i];
	int e;

	for (e = 0; e < 2; e++)
		atomic_store(&c->pump[e].stop, true);
	for (e = 0; e < 2; e++) {
		pthread_join(c->pump[e].th, NULL);
		pthread_join(c->rd_th[e], NULL);
	}
	for (e = 0; e < 2; e++) {
		struct pump *p = &c->pump[e];
		struct stream *r = &c->rd[!e];
		size_t w = atomic_load(&p->written);

		EXPECT_EQ(NULL, p->failed)
			TH_LOG("round %u connection %d: end %d: %s failed with %s after %zu bytes",
			       f->round, i, e, p->failed, errname(p->err), w);
		EXPECT_EQ(NULL, r->failed)
			TH_LOG("round %u connection %d: end %d: %s failed with %s after %zu bytes",
			       f->round, i, !e, r->failed, errname(r->err),
			       r->done);
		EXPECT_EQ(-1, r->bad_at)
			TH_LOG("round %u connection %d: end %d -> %d: first wrong byte at %lld: %#04x, want %#04x",
			       f->round, i, e, !e, r->bad_at, r->got, r->want);
		EXPECT_EQ(w, r->done)
			TH_LOG("round %u connection %d: end %d wrote %zu bytes, %d read %zu",
			       f->round, i, e, w, !e, r->done);
		EXPECT_TRUE(r->eof)
			TH_LOG("round %u connection %d: no EOF at end %d",
			       f->round, i, !e);
	}
	c->pumped = false;
	c->sent[0] = atomic_load(&c->pump[0].written);
	c->sent[1] = atomic_load(&c->pump[1].written);
	f->streamed += c->sent[0] + c->sent[1];
	fprintf(stderr, "# fuzz: round %u checked connection %d: %zu and %zu bytes, every one verified\n",
		f->round, i, c->sent[0], c->sent[1]);
}

static void name_of(struct __test_metadata *_metadata, int fd, __u32 *node,
		    __u16 *port)
{
	struct sockaddr_mig a;
	socklen_t len = sizeof(a);

	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&a, &len));
	*node = a.smig_node;
	*port = ntohs(a.smig_port);
}

/*
 * Connects the round's connections (node 1 to a listener of node 2 that
 * is closed afterwards) and learns each end's ISS from the handshake,
 * which raw sockets of both nodes see.
 */
static void open_conns(struct __test_metadata *_metadata, CLUSTER *self,
		       struct fuzz *f)
{
	bool have[C_NR][2] = { { false } };
	int raw[3], lfd, i, e, known = 0;
	struct raw_seg seg;
	long end;

	raw[NODE1] = raw_on(_metadata, self, NODE1);
	raw[NODE2] = raw_on(_metadata, self, NODE2);
	ASSERT_LE(0, raw[NODE1]);
	ASSERT_LE(0, raw[NODE2]);
	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, f->setup_port, 16);
	ASSERT_LE(0, lfd);
	for (i = 0; i < C_NR; i++) {
		struct conn *c = &f->c[i];

		memset(c, 0, sizeof(*c));
		c->checked = i < C_SACRIFICE || i >= C_SACRIFICE + N_SACRIFICE;
		ON_NODE(NODE1);
		c->fd[0] = mig_socket(self->family, 0);
		ASSERT_LE(0, c->fd[0]);
		ASSERT_EQ(0, connect_to(c->fd[0], self->family, NODE2,
					f->setup_port))
			TH_LOG("connect: %s", strerror(errno));
		c->fd[1] = accept_waiting(_metadata, lfd);
		ASSERT_LE(0, c->fd[1]);
		c->host[0] = NODE1;
		c->host[1] = NODE2;
		name_of(_metadata, c->fd[0], &c->node[0], &c->port[0]);
		name_of(_metadata, c->fd[1], &c->node[1], &c->port[1]);
	}
	close(lfd);

	/* The SYNs reached node 2, the SYN-ACKs node 1. */
	end = now_ms() + WAIT_MS;
	while (known < 2 * C_NR) {
		unsigned int node = known < C_NR ? NODE2 : NODE1;
		const struct migtcphdr *h = (const void *)seg.buf;
		__u16 want = node == NODE2 ? MIGTCP_F_SYN :
					     MIGTCP_F_SYN | MIGTCP_F_ACK;

		ASSERT_TRUE(raw_next_seg(raw[node], end, HDR,
					 MIGTCP_TEST_SEG_MAX, &seg))
			TH_LOG("only %d of the %d handshake segments seen",
			       known, 2 * C_NR);
		if ((ntohs(h->flags) & (MIGTCP_F_SYN | MIGTCP_F_ACK)) != want)
			continue;
		for (i = 0; i < C_NR; i++) {
			struct conn *c = &f->c[i];
			__u16 port = ntohs(node == NODE2 ? h->src_port :
							   h->dst_port);

			e = node == NODE2 ? 0 : 1;
			if (port != c->port[0] || have[i][e])
				continue;
			c->iss[e] = ntohl(h->seq);
			have[i][e] = true;
			known++;
		}
	}
	close(raw[NODE1]);
	close(raw[NODE2]);
}

static void close_conns(struct fuzz *f)
{
	int i, e;

	for (i = 0; i < C_NR; i++)
		for (e = 0; e < 2; e++)
			if (f->c[i].fd[e] >= 0) {
				close(f->c[i].fd[e]);
				f->c[i].fd[e] = -1;
			}
}

/* ---- migration ---- */

static void *take_checkpoint(struct __test_metadata *_metadata, int fd,
			     socklen_t *len)
{
	void *blob;
	char probe;

	*len = 1;
	ASSERT_FAILS_WITH(ERANGE, getsockopt(fd, SOL_MIGTCP, MIGTCP_CHECKPOINT,
					     &probe, len));
	blob = malloc(*len);
	ASSERT_NE(NULL, blob);
	ASSERT_EQ(0, getsockopt(fd, SOL_MIGTCP, MIGTCP_CHECKPOINT, blob, len))
		TH_LOG("checkpoint: %s", strerror(errno));
	return blob;
}

/*
 * The migrating connection: data waits unread both ways; end mig_end is
 * frozen, then checkpointed and closed, then restored on the other node,
 * with segments injected in each state.
 */
static void migrate_under_fire(struct __test_metadata *_metadata,
			       CLUSTER *self, struct fuzz *f, unsigned long n)
{
	struct conn *c = &f->c[C_MIGRATING];
	int e = f->mig_end, fd;
	socklen_t len;
	void *blob;

	f->phase = P_FROZEN;
	ASSERT_EQ(0, setsockopt(c->fd[e], SOL_MIGTCP, MIGTCP_FREEZE, NULL, 0))
		TH_LOG("freeze: %s", strerror(errno));
	inject(_metadata, f, n / 3);
	blob = take_checkpoint(_metadata, c->fd[e], &len);
	EXPECT_EQ(0, close(c->fd[e]));
	c->fd[e] = -1;
	c->old_host = c->host[e];

	f->phase = P_DEPARTED;
	inject(_metadata, f, n / 3);
	ON_NODE(NODE1 + NODE2 - c->old_host);
	fd = mig_socket(self->family, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setsockopt(fd, SOL_MIGTCP, MIGTCP_RESTORE, blob, len))
		TH_LOG("restore on node %u: %s", NODE1 + NODE2 - c->old_host,
		       strerror(errno));
	free(blob);
	c->fd[e] = fd;
	c->host[e] = NODE1 + NODE2 - c->old_host;

	f->phase = P_RESTORED;
	inject(_metadata, f, n - 2 * (n / 3));
}

/*
 * What waited both ways arrives at the migrated connection's ends, and it
 * carries more, up to the EOF each way.
 */
static void check_migrated(struct __test_metadata *_metadata, struct fuzz *f)
{
	struct conn *c = &f->c[C_MIGRATING];
	char byte;
	int e;

	for (e = 0; e < 2; e++)
		ASSERT_EQ(0, set_timeouts(c->fd[e], XFER_GUARD_SEC));
	for (e = 0; e < 2; e++)
		expect_stream(_metadata, c->fd[!e], c->sent[e],
			      stream_seed(f, C_MIGRATING, e));
	for (e = 0; e < 2; e++) {
		send_stream(_metadata, c->fd[e], 32 * KiB,
			    stream_seed(f, C_MIGRATING, e + 2));
		EXPECT_EQ(0, shutdown(c->fd[e], SHUT_WR));
	}
	for (e = 0; e < 2; e++) {
		expect_stream(_metadata, c->fd[!e], 32 * KiB,
			      stream_seed(f, C_MIGRATING, e + 2));
		EXPECT_EQ(0, recv(c->fd[!e], &byte, 1, 0))
			TH_LOG("round %u: migrated connection: no EOF at end %d",
			       f->round, !e);
	}
}

/*
 * The fuzzed listener took no connection the fuzzer could not have
 * completed (that needs the handshake MAC), and takes a new one.
 */
static void check_listener(struct __test_metadata *_metadata, CLUSTER *self,
			   struct fuzz *f)
{
	int cfd, afd;

	EXPECT_EQ(0, poll_one(f->lfd, POLLIN, 0))
		TH_LOG("round %u: a connection nobody made waits on the fuzzed listener",
		       f->round);
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, set_timeouts(cfd, XFER_GUARD_SEC));
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, f->fuzz_port))
		TH_LOG("round %u: connect to the fuzzed listener: %s", f->round,
		       strerror(errno));
	ASSERT_EQ(POLLIN, poll_one(f->lfd, POLLIN, 10000));
	afd = accept(f->lfd, NULL, NULL);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, set_timeouts(afd, XFER_GUARD_SEC));
	send_stream(_metadata, cfd, 16 * KiB, f->round);
	expect_stream(_metadata, afd, 16 * KiB, f->round);
	send_stream(_metadata, afd, 16 * KiB, f->round + 1);
	expect_stream(_metadata, cfd, 16 * KiB, f->round + 1);
	close(cfd);
	close(afd);
	close(f->lfd);
	f->lfd = -1;
}

/* Waits (bounded) until @fd has received @want bytes; how many it has. */
static size_t wait_received(int fd, size_t want)
{
	struct migtcp_info info;
	long end = now_ms() + 10000;

	for (;;) {
		if (get_info(fd, &info))
			return 0;
		if (info.bytes_received >= want || now_ms() >= end)
			return info.bytes_received;
		sleep_ms(5);
	}
}

static void run_round(struct __test_metadata *_metadata, CLUSTER *self,
		      struct fuzz *f, unsigned long n)
{
	struct conn *m = &f->c[C_MIGRATING];
	unsigned long live = n * 55 / 100;
	int e;

	f->rng = splitmix64(f->seed + f->round) | 1;
	f->setup_port = SETUP_PORT_BASE + f->round % PORT_ROUNDS;
	f->fuzz_port = FUZZ_PORT_BASE + f->round % PORT_ROUNDS;
	f->mig_end = f->round & 1;
	f->phase = P_LIVE;
	open_conns(_metadata, self, f);
	ON_NODE(NODE2);
	f->lfd = listener(_metadata, self->family, f->fuzz_port, FUZZ_BACKLOG);
	ASSERT_LE(0, f->lfd);
	/* Data waits unread both ways when the migrating end is frozen. */
	for (e = 0; e < 2; e++) {
		m->sent[e] = (48 - 24 * e) * KiB;
		send_stream(_metadata, m->fd[e], m->sent[e],
			    stream_seed(f, C_MIGRATING, e));
	}
	/*
	 * Both ends have it before anything is forged: then neither waits
	 * for its handshake MAC to be taken (MIGTCP_FREEZE's EAGAIN).
	 */
	for (e = 0; e < 2; e++)
		ASSERT_EQ(m->sent[!e], wait_received(m->fd[e], m->sent[!e]))
			TH_LOG("round %u: the migrating connection's data did not arrive",
			       f->round);
	start_pumps(_metadata, f, C_CHECKED0);
	start_pumps(_metadata, f, C_CHECKED1);

	inject(_metadata, f, live);
	migrate_under_fire(_metadata, self, f, n - live);

	check_pumped(_metadata, f, C_CHECKED0);
	check_pumped(_metadata, f, C_CHECKED1);
	check_migrated(_metadata, f);
	sac_final(_metadata, f);
	check_listener(_metadata, self, f);
	close_conns(f);
}

/* ---- counters ---- */

#define MAX_COUNTERS	64

struct counters {
	int n;
	char name[MAX_COUNTERS][32];
	long value[MAX_COUNTERS];
};

static void read_counters(struct __test_metadata *_metadata, CLUSTER *self,
			  unsigned int node, struct counters *c)
{
	char line[128];
	FILE *fp;

	ON_NODE(node);
	fp = fopen("/proc/net/migtcp_stats", "re");
	ASSERT_NE(NULL, fp);
	c->n = 0;
	while (c->n < MAX_COUNTERS && fgets(line, sizeof(line), fp))
		if (sscanf(line, "%31s %ld", c->name[c->n], &c->value[c->n]) == 2)
			c->n++;
	fclose(fp);
}

static long counter(const struct counters *c, const char *name)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->name[i], name))
			return c->value[i];
	return -1;
}

/* Packets the CPUs' input queues dropped (all namespaces), or 0. */
static unsigned long softnet_dropped(void)
{
	unsigned long total = 0, processed, dropped;
	char line[512];
	FILE *fp;

	fp = fopen("/proc/net/softnet_stat", "re");
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "%lx %lx", &processed, &dropped) == 2)
			total += dropped;
	fclose(fp);
	return total;
}

static void print_counts(const char *what, const char * const *names,
			 const unsigned long *n, int nr)
{
	char line[1024];
	int i, at = 0;

	for (i = 0; i < nr; i++)
		at += snprintf(line + at, sizeof(line) - at, " %s %lu",
			       names[i], n[i]);
	fprintf(stderr, "# fuzz: %s:%s\n", what, line);
}

static void print_summary(struct fuzz *f, long ms)
{
	fprintf(stderr, "# fuzz: %lu segments in %u rounds, %ld ms (%ld/s); seed %#llx\n",
		f->sent, f->round, ms, ms ? (long)(f->sent * 1000 / ms) : 0,
		(unsigned long long)f->seed);
	print_counts("by target", target_names, f->by_target, T_NR);
	print_counts("by template", kind_names, f->by_kind, K_NR);
	print_counts("by mutation", mutation_names, f->by_mut, MU_NR);
	print_counts("by phase of the migrating end", phase_names, f->by_phase,
		     P_NR);
	fprintf(stderr, "# fuzz: checksum valid %lu (of them moved out of a checked window %lu), invalid %lu\n",
		f->csum_valid, f->kept_out, f->csum_invalid);
	fprintf(stderr, "# fuzz: control messages built with an IPv6 host address: %lu\n",
		f->ctl_in6);
	fprintf(stderr, "# fuzz: sacrificial connections: %lu calls, %lu failed with a TCP error\n",
		f->sac_calls, f->sac_errors);
	fprintf(stderr, "# fuzz: checked streams: %llu bytes verified while the segments came\n",
		f->streamed);
}

/*
 * Each node's drop counters are what the model predicts: exactly, unless
 * the input queues dropped packets (then by at most that many).
 */
static void check_counters(struct __test_metadata *_metadata, struct fuzz *f,
			   const struct counters *before,
			   const struct counters *after, unsigned long drops)
{
	unsigned int node;
	int i, v;

	for (node = NODE1; node <= NODE2; node++) {
		char line[2048];
		int at = 0;

		for (i = 0; i < after[node].n; i++) {
			long d = after[node].value[i] - before[node].value[i];

			if (d)
				at += snprintf(line + at, sizeof(line) - at,
					       " %s +%ld", after[node].name[i], d);
		}
		fprintf(stderr, "# fuzz: node %u counters:%s\n", node, line);
		for (v = 0; v < V_NR; v++) {
			const char *name = verdict_counters[v];
			long want = f->predicted[node][v];
			long got = counter(&after[node], name) -
				   counter(&before[node], name);

			if (v == V_CTL)
				want += f->ctl_tlv_bad[node];
			fprintf(stderr, "# fuzz: node %u %s: predicted %s%ld, counted +%ld\n",
				node, name, v == V_SEGS ? ">= " : "", want, got);
			if (v != V_SEGS)
				EXPECT_GE(want, got)
					TH_LOG("node %u: %s +%ld, predicted %ld",
					       node, name, got, want);
			EXPECT_LE(want, got + (long)drops)
				TH_LOG("node %u: %s +%ld, predicted %ld (%lu packets dropped in input queues)",
				       node, name, got, want, drops);
		}
	}
}

TEST_F(cluster, segments)
{
	struct counters before[NODE2 + 1], after[NODE2 + 1];
	unsigned long done = 0, drops;
	unsigned int node;
	struct fuzz *f;
	long t0;

	f = calloc(1, sizeof(*f));
	ASSERT_NE(NULL, f);
	f->seed = migtcp_test_env_ulong("MIGTCP_FUZZ_SEED", FUZZ_SEED);
	f->total = migtcp_test_env_ulong("MIGTCP_FUZZ_SEGMENTS", FUZZ_SEGMENTS);
	f->proto = migtcp_proto();
	f->lfd = -1;
	fprintf(stderr, "# fuzz: seed %#llx (MIGTCP_FUZZ_SEED), %lu segments (MIGTCP_FUZZ_SEGMENTS)\n",
		(unsigned long long)f->seed, f->total);
	/* Raw IPv4 sockets and IPv4 pseudo-headers: an IPv4 cluster. */
	ASSERT_EQ(1, inet_pton(AF_INET, NODE1_ADDR, &f->addr[NODE1]))
		TH_LOG("node 1's address %s is not IPv4", NODE1_ADDR);
	ASSERT_EQ(1, inet_pton(AF_INET, NODE2_ADDR, &f->addr[NODE2]))
		TH_LOG("node 2's address %s is not IPv4", NODE2_ADDR);
	for (node = NODE1; node <= NODE2; node++) {
		ON_NODE(node);
		f->tx[node] = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC,
				     IPPROTO_RAW);
		ASSERT_LE(0, f->tx[node]) TH_LOG("raw socket: %s",
						 strerror(errno));
	}
	/* The migration's peer holds however slowly the fuzzer goes. */
	ASSERT_EQ(0, sh("echo 120000 >/sys/module/migtcp/parameters/migration_timeout_ms"));
	for (node = NODE1; node <= NODE2; node++)
		read_counters(_metadata, self, node, &before[node]);
	drops = softnet_dropped();
	t0 = now_ms();

	for (f->round = 0; done < f->total && _metadata->passed; f->round++) {
		unsigned long n = f->total - done;

		if (n > ROUND_SEGMENTS)
			n = ROUND_SEGMENTS;
		run_round(_metadata, self, f, n);
		if (!_metadata->passed)
			TH_LOG("round %u failed (seed %#llx)", f->round,
			       (unsigned long long)f->seed);
		done += n;
	}

	print_summary(f, now_ms() - t0);
	drops = softnet_dropped() - drops;
	for (node = NODE1; node <= NODE2; node++)
		read_counters(_metadata, self, node, &after[node]);
	check_counters(_metadata, f, before, after, drops);
	for (node = NODE1; node <= NODE2; node++)
		close(f->tx[node]);
	free(f);
}

/*
 * The harness's watchdog for the test scales with the count: a minute
 * for 160,000 segments under TCG, a few times that on a debug kernel.
 */
static void __attribute__((constructor)) segments_watchdog(void)
{
	unsigned long n = migtcp_test_env_ulong("MIGTCP_FUZZ_SEGMENTS", FUZZ_SEGMENTS);

	_cluster_segments_object.timeout = 120 + n / 20;
}

TEST_HARNESS_MAIN
