// SPDX-License-Identifier: GPL-2.0
/*
 * "migtcpctl image show DIR": decodes the socket images the CRIU plugin
 * wrote into a CRIU image directory (migtcp-sk-<id>.img, criu_image.h):
 * the file's flags and options and every record of the checkpoint, with
 * its attributes walked and validated by libmnl.  Secrets (the
 * connection and home keys) are never printed, only whether they are
 * there.  Anything malformed is named in words and makes the exit
 * status 1.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "cmds.h"
#include "criu_image.h"
#include "output.h"

enum fmt {
	FMT_NUM,	/* unsigned integer */
	FMT_HEX,	/* flags */
	FMT_KIND,	/* enum migtcp_ckpt_kind */
	FMT_STATE,	/* TCP state */
	FMT_ADDR,	/* IPv4 address */
	FMT_ADDR6,	/* IPv6 address */
	FMT_SECRET,	/* shown as present only */
	FMT_STR,	/* NUL-terminated name */
	FMT_DATA,	/* a chunk of stream data, counted */
	FMT_OFO,	/* nest: one out-of-order segment */
};

struct field {
	const char *name;		/* JSON key and text label */
	enum mnl_attr_data_type type;
	uint16_t len;			/* exact size of binaries, 0: chunk */
	enum fmt fmt;
};

#define F(attr, n, t, f)	[MIGTCP_CKPT_A_##attr] = { n, MNL_TYPE_##t, 0, f }

static const struct field fields[MIGTCP_CKPT_A_MAX + 1] = {
	F(KIND, "kind", U8, FMT_KIND),
	F(STATE, "state", U8, FMT_STATE),
	F(LOCAL_NODE, "local_node", U32, FMT_NUM),
	F(LOCAL_PORT, "local_port", U16, FMT_NUM),
	F(REMOTE_NODE, "remote_node", U32, FMT_NUM),
	F(REMOTE_PORT, "remote_port", U16, FMT_NUM),
	[MIGTCP_CKPT_A_PEER_ADDR_IN] = { "peer_addr", MNL_TYPE_BINARY, 4, FMT_ADDR },
	[MIGTCP_CKPT_A_HOME_KEY] = { "home_key", MNL_TYPE_BINARY, MIGTCP_KEY_LEN, FMT_SECRET },
	F(EPOCH, "epoch", U64, FMT_NUM),
	F(PEER_EPOCH, "peer_epoch", U64, FMT_NUM),
	[MIGTCP_CKPT_A_CONN_KEY] = { "conn_key", MNL_TYPE_BINARY, 32, FMT_SECRET },
	F(KX_PEER_FLAGS, "kx_peer_flags", U8, FMT_HEX),
	F(ISS, "iss", U32, FMT_NUM),
	F(IRS, "irs", U32, FMT_NUM),
	F(SND_UNA, "snd_una", U32, FMT_NUM),
	F(SND_MAX, "snd_max", U32, FMT_NUM),
	F(WRITE_SEQ, "write_seq", U32, FMT_NUM),
	F(SND_WND, "snd_wnd", U32, FMT_NUM),
	F(MAX_WINDOW, "max_window", U32, FMT_NUM),
	F(SND_WL1, "snd_wl1", U32, FMT_NUM),
	F(SND_WSCALE, "snd_wscale", U8, FMT_NUM),
	F(RCV_WSCALE, "rcv_wscale", U8, FMT_NUM),
	F(RCV_NXT, "rcv_nxt", U32, FMT_NUM),
	F(COPIED_SEQ, "copied_seq", U32, FMT_NUM),
	F(RCV_WUP, "rcv_wup", U32, FMT_NUM),
	F(RCV_WND, "rcv_wnd", U32, FMT_NUM),
	F(FIN_QUEUED, "fin_queued", U8, FMT_NUM),
	F(SHUTDOWN, "shutdown", U8, FMT_HEX),
	F(MSS, "mss", U16, FMT_NUM),
	F(PEER_MSS, "peer_mss", U16, FMT_NUM),
	F(USER_MSS, "user_mss", U16, FMT_NUM),
	F(CWND, "cwnd", U32, FMT_NUM),
	F(SSTHRESH, "ssthresh", U32, FMT_NUM),
	F(CONGESTION, "congestion", NUL_STRING, FMT_STR),
	F(SRTT_US, "srtt_us", U32, FMT_NUM),
	F(RTTVAR_US, "rttvar_us", U32, FMT_NUM),
	F(RTO_US, "rto_us", U32, FMT_NUM),
	F(RETRANS_AGE_MS, "retrans_age_ms", U32, FMT_NUM),
	F(IDLE_MS, "idle_ms", U32, FMT_NUM),
	F(NODELAY, "nodelay", U8, FMT_NUM),
	F(CORK, "cork", U8, FMT_NUM),
	F(PINGPONG, "pingpong", U8, FMT_NUM),
	F(KEEPALIVE, "keepalive", U8, FMT_NUM),
	F(KEEPIDLE, "keepidle", U32, FMT_NUM),
	F(KEEPINTVL, "keepintvl", U32, FMT_NUM),
	F(KEEPCNT, "keepcnt", U32, FMT_NUM),
	F(USER_TIMEOUT, "user_timeout", U32, FMT_NUM),
	F(SNDBUF, "sndbuf", U32, FMT_NUM),
	F(RCVBUF, "rcvbuf", U32, FMT_NUM),
	F(BUF_LOCKS, "buf_locks", U8, FMT_HEX),
	F(BACKLOG, "backlog", U32, FMT_NUM),
	F(SND_DATA, "snd_data", BINARY, FMT_DATA),
	F(RCV_DATA, "rcv_data", BINARY, FMT_DATA),
	F(OFO, "ofo", NESTED, FMT_OFO),
	F(BYTES_SENT, "bytes_sent", U64, FMT_NUM),
	F(BYTES_ACKED, "bytes_acked", U64, FMT_NUM),
	F(BYTES_RECEIVED, "bytes_received", U64, FMT_NUM),
	F(TOTAL_RETRANS, "total_retrans", U32, FMT_NUM),
	[MIGTCP_CKPT_A_HOST_ADDR_IN] = { "host_addr", MNL_TYPE_BINARY, 4, FMT_ADDR },
	[MIGTCP_CKPT_A_HS_PROOF] = { "hs_proof", MNL_TYPE_BINARY,
				     MIGTCP_HSMAC_LEN, FMT_SECRET },
	F(MARK, "mark", U32, FMT_HEX),
	F(PRIORITY, "priority", U32, FMT_NUM),
	F(BOUND_DEV, "bound_dev", NUL_STRING, FMT_STR),
	[MIGTCP_CKPT_A_KX_HALF] = { "kx_half", MNL_TYPE_BINARY,
				    MIGTCP_KX_HALF_LEN, FMT_SECRET },
	[MIGTCP_CKPT_A_PEER_ADDR_IN6] = { "peer_addr6", MNL_TYPE_BINARY,
					  sizeof(struct in6_addr), FMT_ADDR6 },
	[MIGTCP_CKPT_A_HOST_ADDR_IN6] = { "host_addr6", MNL_TYPE_BINARY,
					  sizeof(struct in6_addr), FMT_ADDR6 },
	F(SACK_OK, "sack_ok", U8, FMT_NUM),
};

#undef F

/* The lines of the text output, each a group of attributes in order. */
static const struct {
	const char *label;
	uint8_t attrs[16];	/* 0-terminated */
} text_lines[] = {
	{ "identity", { MIGTCP_CKPT_A_HOST_ADDR_IN, MIGTCP_CKPT_A_HOST_ADDR_IN6,
			MIGTCP_CKPT_A_PEER_ADDR_IN, MIGTCP_CKPT_A_PEER_ADDR_IN6,
			MIGTCP_CKPT_A_EPOCH,
			MIGTCP_CKPT_A_PEER_EPOCH, MIGTCP_CKPT_A_CONN_KEY,
			MIGTCP_CKPT_A_HOME_KEY, MIGTCP_CKPT_A_KX_PEER_FLAGS,
			MIGTCP_CKPT_A_HS_PROOF, MIGTCP_CKPT_A_KX_HALF } },
	{ "send", { MIGTCP_CKPT_A_ISS, MIGTCP_CKPT_A_SND_UNA,
		    MIGTCP_CKPT_A_SND_MAX, MIGTCP_CKPT_A_WRITE_SEQ,
		    MIGTCP_CKPT_A_SND_WND, MIGTCP_CKPT_A_MAX_WINDOW,
		    MIGTCP_CKPT_A_SND_WL1, MIGTCP_CKPT_A_SND_WSCALE,
		    MIGTCP_CKPT_A_MSS, MIGTCP_CKPT_A_PEER_MSS,
		    MIGTCP_CKPT_A_USER_MSS, MIGTCP_CKPT_A_FIN_QUEUED,
		    MIGTCP_CKPT_A_SACK_OK } },
	{ "receive", { MIGTCP_CKPT_A_IRS, MIGTCP_CKPT_A_RCV_NXT,
		       MIGTCP_CKPT_A_COPIED_SEQ, MIGTCP_CKPT_A_RCV_WUP,
		       MIGTCP_CKPT_A_RCV_WND, MIGTCP_CKPT_A_RCV_WSCALE,
		       MIGTCP_CKPT_A_SHUTDOWN } },
	{ "congestion", { MIGTCP_CKPT_A_CONGESTION, MIGTCP_CKPT_A_CWND,
			  MIGTCP_CKPT_A_SSTHRESH, MIGTCP_CKPT_A_SRTT_US,
			  MIGTCP_CKPT_A_RTTVAR_US, MIGTCP_CKPT_A_RTO_US,
			  MIGTCP_CKPT_A_RETRANS_AGE_MS, MIGTCP_CKPT_A_IDLE_MS } },
	{ "options", { MIGTCP_CKPT_A_NODELAY, MIGTCP_CKPT_A_CORK,
		       MIGTCP_CKPT_A_PINGPONG, MIGTCP_CKPT_A_KEEPALIVE,
		       MIGTCP_CKPT_A_KEEPIDLE, MIGTCP_CKPT_A_KEEPINTVL,
		       MIGTCP_CKPT_A_KEEPCNT, MIGTCP_CKPT_A_USER_TIMEOUT,
		       MIGTCP_CKPT_A_SNDBUF, MIGTCP_CKPT_A_RCVBUF,
		       MIGTCP_CKPT_A_BUF_LOCKS, MIGTCP_CKPT_A_BACKLOG,
		       MIGTCP_CKPT_A_MARK, MIGTCP_CKPT_A_PRIORITY,
		       MIGTCP_CKPT_A_BOUND_DEV } },
	{ "counters", { MIGTCP_CKPT_A_BYTES_SENT, MIGTCP_CKPT_A_BYTES_ACKED,
			MIGTCP_CKPT_A_BYTES_RECEIVED,
			MIGTCP_CKPT_A_TOTAL_RETRANS } },
};

static const char *const kind_names[] = {
	[MIGTCP_CKPT_UNBOUND] = "unbound",
	[MIGTCP_CKPT_BOUND] = "bound",
	[MIGTCP_CKPT_LISTENER] = "listener",
	[MIGTCP_CKPT_CONN] = "connection",
};

#define NR_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))

/* One out-of-order segment. */
struct ofo_seg {
	uint32_t seq, bytes;
	bool fin;
};

/* A record, walked. */
struct rec {
	const struct nlattr *tb[MIGTCP_CKPT_A_MAX + 1];
	uint64_t snd_bytes, rcv_bytes, ofo_bytes;
	uint32_t snd_chunks, rcv_chunks, nr_ofo, max_ofo;
	struct ofo_seg *ofo;
	const char *base;	/* the record's attributes */
	size_t end;		/* offset after the last one walked */
	char *err;
	size_t err_len;
};

static int rec_fail(struct rec *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int rec_fail(struct rec *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->err_len, fmt, ap);
	va_end(ap);
	return MNL_CB_ERROR;
}

static uint64_t attr_uint(const struct nlattr *a, enum mnl_attr_data_type t)
{
	switch (t) {
	case MNL_TYPE_U8:
		return mnl_attr_get_u8(a);
	case MNL_TYPE_U16:
		return mnl_attr_get_u16(a);
	case MNL_TYPE_U32:
		return mnl_attr_get_u32(a);
	default:
		return mnl_attr_get_u64(a);
	}
}

struct ofo_parse {
	const struct nlattr *tb[MIGTCP_CKPT_OFO_A_MAX + 1];
	struct rec *r;
};

static int ofo_attr_cb(const struct nlattr *a, void *data)
{
	static const enum mnl_attr_data_type types[] = {
		[MIGTCP_CKPT_OFO_A_SEQ] = MNL_TYPE_U32,
		[MIGTCP_CKPT_OFO_A_FIN] = MNL_TYPE_U8,
		[MIGTCP_CKPT_OFO_A_DATA] = MNL_TYPE_BINARY,
	};
	struct ofo_parse *p = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type == MIGTCP_CKPT_OFO_A_UNSPEC || type > MIGTCP_CKPT_OFO_A_MAX)
		return rec_fail(p->r, "unknown attribute type %u in an out-of-order segment",
				type);
	if (p->tb[type])
		return rec_fail(p->r, "an out-of-order segment has attribute %u twice",
				type);
	if (mnl_attr_validate(a, types[type]) < 0)
		return rec_fail(p->r, "an out-of-order segment's attribute %u has the wrong size (%u bytes)",
				type, mnl_attr_get_payload_len(a));
	if (type == MIGTCP_CKPT_OFO_A_DATA &&
	    mnl_attr_get_payload_len(a) > MIGTCP_CKPT_CHUNK)
		return rec_fail(p->r, "an out-of-order segment has %u bytes, more than a chunk (%d)",
				mnl_attr_get_payload_len(a), MIGTCP_CKPT_CHUNK);
	p->tb[type] = a;
	return MNL_CB_OK;
}

static int rec_add_ofo(struct rec *r, const struct nlattr *nest)
{
	struct ofo_parse p = { .r = r };
	struct ofo_seg *n;
	uint32_t bytes;

	if (mnl_attr_parse_nested(nest, ofo_attr_cb, &p) < 0)
		return MNL_CB_ERROR;
	if (!p.tb[MIGTCP_CKPT_OFO_A_SEQ])
		return rec_fail(r, "an out-of-order segment has no sequence number");
	if (r->nr_ofo == r->max_ofo) {
		uint32_t max = r->max_ofo ? 2 * r->max_ofo : 16;

		n = reallocarray(r->ofo, max, sizeof(*n));
		if (!n)
			return rec_fail(r, "out of memory");
		r->ofo = n;
		r->max_ofo = max;
	}
	bytes = p.tb[MIGTCP_CKPT_OFO_A_DATA] ?
		mnl_attr_get_payload_len(p.tb[MIGTCP_CKPT_OFO_A_DATA]) : 0;
	r->ofo[r->nr_ofo++] = (struct ofo_seg){
		.seq = mnl_attr_get_u32(p.tb[MIGTCP_CKPT_OFO_A_SEQ]),
		.bytes = bytes,
		.fin = p.tb[MIGTCP_CKPT_OFO_A_FIN] &&
		       mnl_attr_get_u8(p.tb[MIGTCP_CKPT_OFO_A_FIN]),
	};
	r->ofo_bytes += bytes;
	return MNL_CB_OK;
}

static int rec_attr_cb(const struct nlattr *a, void *data)
{
	struct rec *r = data;
	uint16_t type = mnl_attr_get_type(a);
	const struct field *f;
	uint16_t len;

	r->end = (const char *)a - r->base + MNL_ALIGN(a->nla_len);
	if (type == MIGTCP_CKPT_A_PAD)
		return MNL_CB_OK;
	/* A type this table lacks is as unknown as one beyond it. */
	if (type == MIGTCP_CKPT_A_UNSPEC || type > MIGTCP_CKPT_A_MAX ||
	    !fields[type].name)
		return rec_fail(r, "unknown attribute type %u (format version %d knows 2..%d)",
				type, MIGTCP_CKPT_VERSION, MIGTCP_CKPT_A_MAX);
	f = &fields[type];
	len = mnl_attr_get_payload_len(a);
	if (f->len ? mnl_attr_validate2(a, f->type, f->len) < 0 :
		     mnl_attr_validate(a, f->type) < 0)
		return rec_fail(r, "attribute %s has %u bytes, the wrong size or content",
				f->name, len);
	if (type == MIGTCP_CKPT_A_CONGESTION && len > MIGTCP_CA_NAME_MAX)
		return rec_fail(r, "the congestion control name has %u bytes, more than %d",
				len, MIGTCP_CA_NAME_MAX);
	switch (f->fmt) {
	case FMT_DATA:
		if (len > MIGTCP_CKPT_CHUNK)
			return rec_fail(r, "a %s chunk has %u bytes, more than %d",
					f->name, len, MIGTCP_CKPT_CHUNK);
		if (type == MIGTCP_CKPT_A_SND_DATA) {
			r->snd_bytes += len;
			r->snd_chunks++;
		} else {
			r->rcv_bytes += len;
			r->rcv_chunks++;
		}
		return MNL_CB_OK;
	case FMT_OFO:
		return rec_add_ofo(r, a);
	default:
		break;
	}
	if (r->tb[type])
		return rec_fail(r, "attribute %s appears twice", f->name);
	if (f->fmt == FMT_KIND && mnl_attr_get_u8(a) >= NR_KINDS)
		return rec_fail(r, "unknown socket kind %u", mnl_attr_get_u8(a));
	r->tb[type] = a;
	return MNL_CB_OK;
}

static void rec_free(struct rec *r)
{
	free(r->ofo);
	r->ofo = NULL;
}

/*
 * Walks the record at P (LEFT bytes left in the checkpoint); its length
 * in *LEN.  Returns 0, or -1 with what is wrong in R->err.
 */
static int rec_walk(struct rec *r, const char *p, size_t left, uint32_t *len)
{
	struct migtcp_ckpt_rec hdr;

	if (left < sizeof(hdr)) {
		rec_fail(r, "%zu bytes left, less than a record header", left);
		return -1;
	}
	memcpy(&hdr, p, sizeof(hdr));
	if (hdr.len < sizeof(hdr) || hdr.len > left || hdr.len % 4) {
		rec_fail(r, "its length %u is not a multiple of 4 between %zu and the %zu bytes left",
			 hdr.len, sizeof(hdr), left);
		return -1;
	}
	if (hdr.reserved) {
		rec_fail(r, "its reserved field is %u, not 0", hdr.reserved);
		return -1;
	}
	*len = hdr.len;
	r->base = p + sizeof(hdr);
	if (hdr.len > sizeof(hdr) &&
	    mnl_attr_parse_payload(r->base, hdr.len - sizeof(hdr),
				   rec_attr_cb, r) < 0)
		return -1;
	/* libmnl stops quietly at anything that is not an attribute. */
	if (r->end != hdr.len - sizeof(hdr)) {
		rec_fail(r, "%zu bytes of it are not attributes",
			 hdr.len - sizeof(hdr) - r->end);
		return -1;
	}
	if (!r->tb[MIGTCP_CKPT_A_KIND]) {
		rec_fail(r, "it has no kind");
		return -1;
	}
	return 0;
}

/* Checks what the records say about each other. */
static int recs_check(struct rec *recs, uint32_t nr, char *err, size_t len)
{
	uint32_t i;

	if (nr == 1)
		return 0;
	if (mnl_attr_get_u8(recs[0].tb[MIGTCP_CKPT_A_KIND]) !=
	    MIGTCP_CKPT_LISTENER) {
		snprintf(err, len, "%u records, but record 0 is not a listener",
			 nr);
		return -1;
	}
	for (i = 1; i < nr; i++) {
		if (mnl_attr_get_u8(recs[i].tb[MIGTCP_CKPT_A_KIND]) !=
		    MIGTCP_CKPT_CONN) {
			snprintf(err, len, "record %u of a listener's queue is not a connection",
				 i);
			return -1;
		}
	}
	return 0;
}

/* Walks all records of a checkpoint whose header is valid. */
static struct rec *ckpt_walk(const void *ckpt, uint32_t ckpt_len,
			     uint32_t *nr, char *err, size_t err_len)
{
	const struct migtcp_ckpt_hdr *hdr = ckpt;
	size_t off = sizeof(*hdr);
	uint32_t i, len;
	struct rec *recs;

	*nr = hdr->nr_recs;
	recs = calloc(*nr, sizeof(*recs));
	if (!recs) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	for (i = 0; i < *nr; i++) {
		char msg[256];

		recs[i].err = msg;
		recs[i].err_len = sizeof(msg);
		msg[0] = '\0';
		if (rec_walk(&recs[i], (const char *)ckpt + off,
			     ckpt_len - off, &len)) {
			snprintf(err, err_len, "record %u at byte %zu: %s", i,
				 off, msg);
			goto fail;
		}
		recs[i].err = NULL;
		off += len;
	}
	if (off != ckpt_len) {
		snprintf(err, err_len, "%zu bytes follow the last of the %u records",
			 ckpt_len - off, *nr);
		goto fail;
	}
	if (recs_check(recs, *nr, err, err_len))
		goto fail;
	return recs;
fail:
	for (i = 0; i < *nr; i++)
		rec_free(&recs[i]);
	free(recs);
	return NULL;
}

static const char *kind_name(const struct rec *r)
{
	return kind_names[mnl_attr_get_u8(r->tb[MIGTCP_CKPT_A_KIND])];
}

/* "node:port" of two attributes, "*" for a missing or zero part. */
static void endpoint_str(const struct rec *r, int node_attr, int port_attr,
			 char *buf, size_t len)
{
	char n[16] = "*", p[8] = "*";

	if (r->tb[node_attr] && mnl_attr_get_u32(r->tb[node_attr]))
		snprintf(n, sizeof(n), "%u", mnl_attr_get_u32(r->tb[node_attr]));
	if (r->tb[port_attr] && mnl_attr_get_u16(r->tb[port_attr]))
		snprintf(p, sizeof(p), "%u", mnl_attr_get_u16(r->tb[port_attr]));
	snprintf(buf, len, "%s:%s", n, p);
}

static uint32_t attr_addr(const struct nlattr *a)
{
	uint32_t addr;

	memcpy(&addr, mnl_attr_get_payload(a), sizeof(addr));
	return addr;
}

static const char *attr_addr6_str(const struct nlattr *a,
				  char buf[IPV6_STR_LEN])
{
	struct in6_addr addr;

	memcpy(&addr, mnl_attr_get_payload(a), sizeof(addr));
	return ipv6_str(&addr, buf);
}

static void field_text(int type, const struct nlattr *a, char *buf,
		       size_t len)
{
	const struct field *f = &fields[type];
	char ip[IPV6_STR_LEN];

	switch (f->fmt) {
	case FMT_HEX:
		snprintf(buf, len, "%#" PRIx64, attr_uint(a, f->type));
		break;
	case FMT_STATE:
		snprintf(buf, len, "%s", sock_state_name(mnl_attr_get_u8(a)));
		break;
	case FMT_ADDR:
		snprintf(buf, len, "%s", ipv4_str(attr_addr(a), ip));
		break;
	case FMT_ADDR6:
		snprintf(buf, len, "%s", attr_addr6_str(a, ip));
		break;
	case FMT_SECRET:
		snprintf(buf, len, "present");
		break;
	case FMT_STR:
		snprintf(buf, len, "%s", mnl_attr_get_str(a));
		break;
	default:
		snprintf(buf, len, "%" PRIu64, attr_uint(a, f->type));
		break;
	}
}

static struct json_object *field_json(int type, const struct nlattr *a)
{
	const struct field *f = &fields[type];
	char ip[IPV6_STR_LEN];

	switch (f->fmt) {
	case FMT_KIND:
		return json_object_new_string(kind_names[mnl_attr_get_u8(a)]);
	case FMT_STATE:
		return json_object_new_string(sock_state_name(mnl_attr_get_u8(a)));
	case FMT_ADDR:
		return json_object_new_string(ipv4_str(attr_addr(a), ip));
	case FMT_ADDR6:
		return json_object_new_string(attr_addr6_str(a, ip));
	case FMT_SECRET:
		return json_object_new_boolean(true);
	case FMT_STR:
		return json_object_new_string(mnl_attr_get_str(a));
	default:
		return json_object_new_uint64(attr_uint(a, f->type));
	}
}

static void json_add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static struct json_object *rec_json(const struct rec *r)
{
	struct json_object *o = json_object_new_object(), *ofo;
	uint32_t i;
	int type;

	for (type = MIGTCP_CKPT_A_KIND; type <= MIGTCP_CKPT_A_MAX; type++) {
		if (!r->tb[type])
			continue;
		/* Secrets: "conn_key_present": true, never the bytes. */
		if (fields[type].fmt == FMT_SECRET) {
			char key[32];

			snprintf(key, sizeof(key), "%s_present", fields[type].name);
			json_object_object_add(o, key, json_object_new_boolean(true));
			continue;
		}
		json_object_object_add(o, fields[type].name,
				       field_json(type, r->tb[type]));
	}
	json_add_u64(o, "snd_data_bytes", r->snd_bytes);
	json_add_u64(o, "snd_data_chunks", r->snd_chunks);
	json_add_u64(o, "rcv_data_bytes", r->rcv_bytes);
	json_add_u64(o, "rcv_data_chunks", r->rcv_chunks);
	json_add_u64(o, "ofo_bytes", r->ofo_bytes);
	ofo = json_object_new_array();
	for (i = 0; i < r->nr_ofo; i++) {
		struct json_object *s = json_object_new_object();

		json_add_u64(s, "seq", r->ofo[i].seq);
		json_add_u64(s, "bytes", r->ofo[i].bytes);
		json_object_object_add(s, "fin",
				       json_object_new_boolean(r->ofo[i].fin));
		json_object_array_add(ofo, s);
	}
	json_object_object_add(o, "ofo", ofo);
	return o;
}

static void rec_text(const struct rec *r, uint32_t i)
{
	char local[32], remote[32], val[64];
	size_t l, k;

	endpoint_str(r, MIGTCP_CKPT_A_LOCAL_NODE, MIGTCP_CKPT_A_LOCAL_PORT,
		     local, sizeof(local));
	endpoint_str(r, MIGTCP_CKPT_A_REMOTE_NODE, MIGTCP_CKPT_A_REMOTE_PORT,
		     remote, sizeof(remote));
	printf("  record %u: %s %s -> %s %s\n", i, kind_name(r), local, remote,
	       r->tb[MIGTCP_CKPT_A_STATE] ?
	       sock_state_name(mnl_attr_get_u8(r->tb[MIGTCP_CKPT_A_STATE])) :
	       "(no state)");
	for (l = 0; l < sizeof(text_lines) / sizeof(text_lines[0]); l++) {
		bool any = false;

		for (k = 0; text_lines[l].attrs[k]; k++) {
			int type = text_lines[l].attrs[k];

			if (!r->tb[type])
				continue;
			if (!any)
				printf("    %s:", text_lines[l].label);
			any = true;
			field_text(type, r->tb[type], val, sizeof(val));
			printf(" %s %s", fields[type].name, val);
		}
		if (any)
			putchar('\n');
	}
	printf("    queues: snd_data %" PRIu64 " bytes in %u chunks, rcv_data %" PRIu64
	       " bytes in %u chunks, ofo %" PRIu64 " bytes in %u segments\n",
	       r->snd_bytes, r->snd_chunks, r->rcv_bytes, r->rcv_chunks,
	       r->ofo_bytes, r->nr_ofo);
	for (k = 0; k < r->nr_ofo; k++)
		printf("      ofo seq %u bytes %u%s\n", r->ofo[k].seq,
		       r->ofo[k].bytes, r->ofo[k].fin ? " fin" : "");
}

static struct json_object *opts_json(const struct migtcp_img_opts *o)
{
	struct json_object *j = json_object_new_object();

	json_add_u64(j, "family", o->family);
	json_add_u64(j, "file_flags", o->file_flags);
	json_object_object_add(j, "nonblock",
			       json_object_new_boolean(o->file_flags & O_NONBLOCK));
	json_add_u64(j, "rcvtimeo_us", o->rcvtimeo_us);
	json_add_u64(j, "sndtimeo_us", o->sndtimeo_us);
	json_add_u64(j, "rcvlowat", o->rcvlowat);
	json_add_u64(j, "priority", o->priority);
	json_add_u64(j, "mark", o->mark);
	json_object_object_add(j, "linger_s", o->linger ?
			       json_object_new_uint64(o->linger_s) : NULL);
	json_object_object_add(j, "reuseaddr",
			       json_object_new_boolean(o->reuseaddr));
	return j;
}

static void opts_text(const struct migtcp_img_opts *o)
{
	char linger[16] = "off";

	if (o->linger)
		snprintf(linger, sizeof(linger), "%us", o->linger_s);
	printf("  file: family %u%s rcvtimeo_us %" PRIu64 " sndtimeo_us %" PRIu64
	       " rcvlowat %u priority %u mark %u linger %s reuseaddr %u\n",
	       o->family, o->file_flags & O_NONBLOCK ? " nonblock" : "",
	       o->rcvtimeo_us, o->sndtimeo_us, o->rcvlowat, o->priority,
	       o->mark, linger, o->reuseaddr);
}

/* Shows one image; false (after saying why) if it is not valid. */
static bool image_show_one(int dirfd, const char *name, uint32_t id,
			   struct json_object *array)
{
	struct migtcp_img img;
	struct json_object *o, *ckpt, *recs_j;
	struct rec *recs;
	char err[512];
	uint32_t nr, i;

	if (migtcp_img_read(dirfd, name, &img, err, sizeof(err))) {
		err_msg("%s: %s", name, err);
		return false;
	}
	recs = ckpt_walk(img.ckpt, img.ckpt_len, &nr, err, sizeof(err));
	if (!recs) {
		err_msg("%s: the checkpoint is not valid: %s", name, err);
		migtcp_img_free(&img);
		return false;
	}
	if (array) {
		o = json_object_new_object();
		json_object_object_add(o, "file", json_object_new_string(name));
		json_add_u64(o, "id", id);
		json_object_object_add(o, "file_opts", opts_json(&img.opts));
		ckpt = json_object_new_object();
		json_add_u64(ckpt, "version", MIGTCP_CKPT_VERSION);
		json_add_u64(ckpt, "bytes", img.ckpt_len);
		recs_j = json_object_new_array();
		for (i = 0; i < nr; i++)
			json_object_array_add(recs_j, rec_json(&recs[i]));
		json_object_object_add(ckpt, "records", recs_j);
		json_object_object_add(o, "checkpoint", ckpt);
		json_object_array_add(array, o);
	} else {
		printf("%s: file id %u, checkpoint format %d, %u record%s, %u bytes\n",
		       name, id, MIGTCP_CKPT_VERSION, nr, nr == 1 ? "" : "s",
		       img.ckpt_len);
		opts_text(&img.opts);
		for (i = 0; i < nr; i++)
			rec_text(&recs[i], i);
	}
	for (i = 0; i < nr; i++)
		rec_free(&recs[i]);
	free(recs);
	migtcp_img_free(&img);
	return true;
}

struct img_entry {
	uint32_t id;
	char name[64];
};

static int cmp_entry(const void *a, const void *b)
{
	const struct img_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The image files of DIR, sorted by id; NULL (after a message) on error. */
static struct img_entry *list_images(DIR *d, const char *path, size_t *nr)
{
	struct img_entry *list = NULL, *n;
	size_t max = 0;
	struct dirent *de;
	uint32_t id;

	*nr = 0;
	while ((errno = 0, de = readdir(d))) {
		if (!migtcp_img_name_id(de->d_name, &id) ||
		    strlen(de->d_name) >= sizeof(list->name))
			continue;
		if (*nr == max) {
			max = max ? 2 * max : 16;
			n = reallocarray(list, max, sizeof(*list));
			if (!n) {
				err_msg("image show: out of memory");
				free(list);
				return NULL;
			}
			list = n;
		}
		list[*nr].id = id;
		strcpy(list[*nr].name, de->d_name);
		(*nr)++;
	}
	if (errno) {
		err_msg("image show: cannot read %s: %s", path, strerror(errno));
		free(list);
		return NULL;
	}
	if (!*nr) {
		err_msg("image show: no migtcp socket images (%s*%s) in %s",
			MIGTCP_IMG_PREFIX, MIGTCP_IMG_SUFFIX, path);
		return NULL;
	}
	qsort(list, *nr, sizeof(*list), cmp_entry);
	return list;
}

static int image_show(const char *path)
{
	struct json_object *array = NULL;
	struct img_entry *list;
	bool ok = true;
	size_t nr, i;
	DIR *d;

	d = opendir(path);
	if (!d) {
		err_msg("image show: cannot open directory %s: %s", path,
			strerror(errno));
		return EXIT_FAIL;
	}
	list = list_images(d, path, &nr);
	if (!list) {
		closedir(d);
		return EXIT_FAIL;
	}
	if (json_output)
		array = json_object_new_array();
	for (i = 0; i < nr; i++)
		if (!image_show_one(dirfd(d), list[i].name, list[i].id, array))
			ok = false;
	if (array)
		json_print(array);
	free(list);
	closedir(d);
	return ok ? EXIT_OK : EXIT_FAIL;
}

int cmd_image(int argc, char **argv)
{
	if (argc < 1)
		return usage_err("image: expected 'show DIR'");
	if (strcmp(argv[0], "show"))
		return usage_err("image: unknown command '%s' (expected show)",
				 argv[0]);
	if (argc != 2)
		return usage_err("image show takes one directory, got %d arguments",
				 argc - 1);
	return image_show(argv[1]);
}
