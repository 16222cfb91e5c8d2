// SPDX-License-Identifier: GPL-2.0
/*
 * The "migtcp" generic netlink family, end to end:
 *
 * - NODE_GET/NODE_SET round trips: id, IPv4 and IPv6 addresses, key-set
 *   flag, port range, peer count and limit; partial updates; the port
 *   range used by bind();
 * - the peer table: PEER_NEW, PEER_SET, PEER_DEL, PEER_GET, dumps that span
 *   several reads, peers of either address family or both, and the
 *   max_peers bound (ENOSPC);
 * - every rejection, with its exact errno and extack message, offending
 *   attribute offset or missing attribute: the netlink core's strict
 *   policy checks (nlmsg flags, reserved header, unknown and read-only
 *   attributes, sizes, ranges, NLA_F_NESTED) and the module's own checks;
 *   a rejected request changes nothing and announces nothing;
 * - privilege: changes need CAP_NET_ADMIN in the user namespace owning the
 *   network namespace, reading does not;
 * - the cluster key is write-only;
 * - "config" notifications, and their confinement to one node;
 * - SOCK_GET and STATS_GET (against /proc/net/migtcp_stats);
 * - nodes (network namespaces) are isolated from each other.
 *
 * Every test runs in a network namespace of its own: a fresh node.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"

#define NODE_ID		7
#define OTHER_ID	9
#define PEER_ID		8
#define NEW_PEER_ID	10
#define NODE_ADDR	"192.0.2.7"
#define ADDR_A		"192.0.2.8"
#define ADDR_B		"198.51.100.8"
#define NODE_ADDR6	"2001:db8::7"
#define ADDR6_A		"2001:db8::8"
#define ADDR6_B		"2001:db8:1::8"
#define PORT		5000
#define EPHEMERAL_MIN	32768
#define EPHEMERAL_MAX	60999
#define NOBODY		65534

#define REQ_SIZE	1024
#define RECV_SIZE	8192	/* >= MNL_SOCKET_BUFFER_SIZE */

#define BIT(n)		(1UL << (n))

/* The module's extack messages. */
#define MSG_NOTHING_TO_SET	"nothing to set: give a node id, address, key or port range"
#define MSG_NO_PEER		"no peer with this id"
#define MSG_PEER_EXISTS		"a peer with this id already exists"
#define MSG_OWN_ID		"the peer id is this node's own id"
#define MSG_TABLE_FULL		"the peer table is full (module parameter max_peers)"
#define MSG_MISSING_PEER	"missing the peer (MIGTCP_A_PEER)"
#define MSG_MISSING_ID		"missing the peer id (MIGTCP_PEER_A_ID)"
#define MSG_MISSING_ADDR	"missing the peer address (MIGTCP_PEER_A_ADDR_IN or MIGTCP_PEER_A_ADDR_IN6)"
#define MSG_ID_IS_PEER		"the node id is in the peer table"
#define MSG_BUSY		"sockets are bound to the current node id; close them first"
#define MSG_NOT_UNICAST		"not a unicast IPv4 address"
#define MSG_NOT_UNICAST6	"not a global unicast IPv6 address"
#define MSG_RANGE_HALF		"a port range needs both its minimum and its maximum"
#define MSG_RANGE_INVERTED	"the port range minimum is above its maximum"

/* The netlink core's (lib/nlattr.c, net/netlink/genetlink.c in 6.1). */
#define MSG_INT_RANGE		"integer out of range"
#define MSG_BIN_SIZE		"binary attribute size out of range"
#define MSG_ATTR_LEN		"invalid attribute length"
#define MSG_UNSUPPORTED		"Unsupported attribute"
#define MSG_UNKNOWN_TYPE	"Unknown attribute type"
#define MSG_NOT_NESTED		"NLA_F_NESTED is missing"
#define MSG_BAD_FLAGS		"ambiguous or reserved bits set in nlmsg_flags"
#define MSG_RESERVED		"genlmsghdr.reserved field is not 0"

/* A generic netlink socket talking to the "migtcp" family. */
struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	uint16_t family;	/* id of "migtcp" */
	uint32_t mcgrp;		/* id of its "config" group */
	uint32_t seq;
};

/* How the kernel answered one request. */
struct nl_ack {
	int err;		/* 0 or a positive errno */
	char msg[256];		/* NLMSGERR_ATTR_MSG, "" if none */
	long offs;		/* NLMSGERR_ATTR_OFFS, -1 if none */
	long miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, -1 if none */
	long miss_nest;		/* NLMSGERR_ATTR_MISS_NEST, -1 if none */
	int reads;		/* recv() calls the answer took */
	int intr;		/* a part carried NLM_F_DUMP_INTR */
	int local;		/* err is ours (send, recv, framing) */
};

/* Copies of the data messages of an answer. */
struct msgs {
	int n;
	struct nlmsghdr **m;
};

struct req {
	union {
		struct nlmsghdr nlh;
		char buf[REQ_SIZE];
	};
};

static const char *errname(int err)
{
	if (!err)
		return "0";
	return strerrorname_np(err) ?: "?";
}

/* The answer is exactly @want_err with exactly the extack message @want_msg. */
#define ASSERT_ANSWER(want_err, want_msg, ack) do {			\
	ASSERT_EQ(0, (ack).local) TH_LOG("%s", (ack).msg);		\
	ASSERT_EQ(want_err, (ack).err)					\
		TH_LOG("answer %s \"%s\", expected %s \"%s\"",		\
		       errname((ack).err), (ack).msg,			\
		       errname(want_err), want_msg);			\
	ASSERT_STREQ(want_msg, (ack).msg);				\
} while (0)

#define ASSERT_OK(ack)	ASSERT_ANSWER(0, "", ack)

/* ... and blames the attribute at @want_offs (-1: none) and nothing else. */
#define ASSERT_BLAMES(want_offs, ack) do {				\
	ASSERT_EQ((long)(want_offs), (ack).offs);			\
	ASSERT_EQ(-1, (ack).miss_type);					\
	ASSERT_EQ(-1, (ack).miss_nest);					\
} while (0)

/* ... and names the missing attribute @type in the nest at @nest (-1: top). */
#define ASSERT_MISSING(type, nest, ack) do {				\
	ASSERT_EQ(-1, (ack).offs);					\
	ASSERT_EQ((long)(type), (ack).miss_type);			\
	ASSERT_EQ((long)(nest), (ack).miss_nest);			\
} while (0)

static int msgs_add(struct msgs *msgs, const struct nlmsghdr *nlh)
{
	struct nlmsghdr **m, *copy;

	m = realloc(msgs->m, (msgs->n + 1) * sizeof(*m));
	if (!m)
		return -1;
	msgs->m = m;
	copy = malloc(nlh->nlmsg_len);
	if (!copy)
		return -1;
	memcpy(copy, nlh, nlh->nlmsg_len);
	msgs->m[msgs->n++] = copy;
	return 0;
}

static void msgs_free(struct msgs *msgs)
{
	while (msgs->n)
		free(msgs->m[--msgs->n]);
	free(msgs->m);
	msgs->m = NULL;
}

static int genl_cmd(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	return g->cmd;
}

/* Starts a generic netlink request; NLM_F_REQUEST is always set. */
static struct nlmsghdr *genl_req(struct req *r, struct nl *nl, uint16_t type,
				 uint8_t cmd, uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

static struct nlmsghdr *mig_req(struct req *r, struct nl *nl, uint8_t cmd,
				uint16_t flags)
{
	return genl_req(r, nl, nl->family, cmd, MIGTCP_GENL_VERSION, flags);
}

/* A request answered by an ack (and a reply, for the GET commands). */
static struct nlmsghdr *doit_req(struct req *r, struct nl *nl, uint8_t cmd)
{
	return mig_req(r, nl, cmd, NLM_F_ACK);
}

static struct nlmsghdr *dump_req(struct req *r, struct nl *nl, uint8_t cmd)
{
	return mig_req(r, nl, cmd, NLM_F_DUMP);
}

/* The put helpers return the offset of the attribute in the message. */
static long put(struct nlmsghdr *nlh, uint16_t type, size_t len,
		const void *data)
{
	long offs = (char *)mnl_nlmsg_get_payload_tail(nlh) - (char *)nlh;

	mnl_attr_put(nlh, type, len, data);
	return offs;
}

static long put_u32(struct nlmsghdr *nlh, uint16_t type, uint32_t v)
{
	return put(nlh, type, sizeof(v), &v);
}

static long put_u16(struct nlmsghdr *nlh, uint16_t type, uint16_t v)
{
	return put(nlh, type, sizeof(v), &v);
}

static long put_in4(struct nlmsghdr *nlh, uint16_t type, const char *addr)
{
	struct in_addr a;

	if (inet_pton(AF_INET, addr, &a) != 1)
		abort();
	return put(nlh, type, sizeof(a), &a);
}

static long put_in6(struct nlmsghdr *nlh, uint16_t type, const char *addr)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, addr, &a) != 1)
		abort();
	return put(nlh, type, sizeof(a), &a);
}

static long nest_start(struct nlmsghdr *nlh, uint16_t type,
		       struct nlattr **nest)
{
	long offs = (char *)mnl_nlmsg_get_payload_tail(nlh) - (char *)nlh;

	*nest = mnl_attr_nest_start(nlh, type);
	return offs;
}

static int nl_local_failure(struct nl_ack *ack, int err, const char *what)
{
	ack->err = err;
	ack->local = 1;
	snprintf(ack->msg, sizeof(ack->msg), "%s: %s", what, strerror(err));
	return err;
}

/* The extended ack TLVs, from @offs bytes into the payload of @m. */
static void parse_ext_ack(const struct nlmsghdr *m, size_t offs,
			  struct nl_ack *ack)
{
	const struct nlattr *a;

	if (!(m->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	mnl_attr_for_each(a, m, offs) {
		switch (mnl_attr_get_type(a)) {
		case NLMSGERR_ATTR_MSG:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
				strcpy(ack->msg, "<malformed extack message>");
			else
				snprintf(ack->msg, sizeof(ack->msg), "%s",
					 mnl_attr_get_str(a));
			break;
		case NLMSGERR_ATTR_OFFS:
			ack->offs = mnl_attr_get_u32(a);
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			ack->miss_type = mnl_attr_get_u32(a);
			break;
		case NLMSGERR_ATTR_MISS_NEST:
			ack->miss_nest = mnl_attr_get_u32(a);
			break;
		}
	}
}

static int parse_error(const struct nlmsghdr *m, struct nl_ack *ack)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
	size_t offs = sizeof(*e);

	if (mnl_nlmsg_get_payload_len(m) < sizeof(*e))
		return nl_local_failure(ack, EBADMSG, "short NLMSG_ERROR");
	ack->err = -e->error;
	/* Unless capped, the request comes back before the TLVs. */
	if (!(m->nlmsg_flags & NLM_F_CAPPED))
		offs += e->msg.nlmsg_len - NLMSG_HDRLEN;
	parse_ext_ack(m, offs, ack);
	return ack->err;
}

static int parse_done(const struct nlmsghdr *m, struct nl_ack *ack)
{
	int err;

	if (mnl_nlmsg_get_payload_len(m) < sizeof(err))
		return nl_local_failure(ack, EBADMSG, "short NLMSG_DONE");
	memcpy(&err, mnl_nlmsg_get_payload(m), sizeof(err));
	ack->err = -err;
	parse_ext_ack(m, sizeof(err), ack);
	return ack->err;
}

/*
 * Sends @req and reads the whole answer, in reads of
 * MNL_SOCKET_BUFFER_SIZE bytes: data messages are copied to @replies
 * (unless NULL), the final ack or NLMSG_DONE fills @ack.  Returns the
 * errno of the answer.
 */
/*
 * Sends @req and takes its answer, copying its data messages to
 * @replies; @between(@arg), if given, runs after each part of a dump.
 */
static int nl_talk_each(struct nl *nl, const struct nlmsghdr *req,
			struct msgs *replies, struct nl_ack *ack,
			void (*between)(void *), void *arg)
{
	bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	union {
		struct nlmsghdr nlh;
		char buf[RECV_SIZE];
	} rx;

	memset(ack, 0, sizeof(*ack));
	ack->offs = -1;
	ack->miss_type = -1;
	ack->miss_nest = -1;

	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return nl_local_failure(ack, errno, "send");
	for (;;) {
		const struct nlmsghdr *m;
		ssize_t n;
		int len;

		n = mnl_socket_recvfrom(nl->sock, rx.buf,
					MNL_SOCKET_BUFFER_SIZE);
		if (n < 0)
			return nl_local_failure(ack, errno, "recv");
		ack->reads++;
		len = n;
		for (m = &rx.nlh; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_seq != req->nlmsg_seq ||
			    m->nlmsg_pid != nl->portid)
				return nl_local_failure(ack, EPROTO,
							"unexpected message");
			if (m->nlmsg_flags & NLM_F_DUMP_INTR)
				ack->intr = 1;
			if (m->nlmsg_type == NLMSG_ERROR)
				return parse_error(m, ack);
			if (m->nlmsg_type == NLMSG_DONE) {
				if (!dump)
					return nl_local_failure(ack, EPROTO,
								"NLMSG_DONE");
				return parse_done(m, ack);
			}
			if (replies && msgs_add(replies, m))
				return nl_local_failure(ack, ENOMEM, "copy");
		}
		if (len)
			return nl_local_failure(ack, EBADMSG, "torn message");
		if (between)
			between(arg);
	}
}

static int nl_talk(struct nl *nl, const struct nlmsghdr *req,
		   struct msgs *replies, struct nl_ack *ack)
{
	return nl_talk_each(nl, req, replies, ack, NULL, NULL);
}

/* Sends @req; the answer must hold no data message. */
static int nl_change(struct nl *nl, const struct nlmsghdr *req,
		     struct nl_ack *ack)
{
	struct msgs replies = {};
	int err = nl_talk(nl, req, &replies, ack);

	if (!ack->local && replies.n)
		err = nl_local_failure(ack, EPROTO, "unexpected reply");
	msgs_free(&replies);
	return err;
}

/* Sends @req, a GET command; a success must come with exactly one reply. */
static int nl_get(struct nl *nl, const struct nlmsghdr *req,
		  struct msgs *reply, struct nl_ack *ack)
{
	int err = nl_talk(nl, req, reply, ack);

	if (!err && reply->n != 1)
		err = nl_local_failure(ack, EPROTO, "not exactly one reply");
	return err;
}

static void parse_family(const struct nlmsghdr *m, struct nl *nl)
{
	const struct nlattr *a, *grp, *g;

	mnl_attr_for_each(a, m, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
			nl->family = mnl_attr_get_u16(a);
		if (mnl_attr_get_type(a) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		mnl_attr_for_each_nested(grp, a) {
			const char *name = NULL;
			uint32_t id = 0;

			mnl_attr_for_each_nested(g, grp) {
				if (mnl_attr_get_type(g) == CTRL_ATTR_MCAST_GRP_NAME)
					name = mnl_attr_get_str(g);
				if (mnl_attr_get_type(g) == CTRL_ATTR_MCAST_GRP_ID)
					id = mnl_attr_get_u32(g);
			}
			if (name && !strcmp(name, MIGTCP_GENL_MCGRP_CONFIG))
				nl->mcgrp = id;
		}
	}
}

static int resolve_family(struct nl *nl)
{
	struct msgs reply = {};
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	struct req r;
	int err;

	nlh = genl_req(&r, nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, MIGTCP_GENL_NAME);
	err = nl_get(nl, nlh, &reply, &ack);
	if (!err) {
		parse_family(reply.m[0], nl);
		if (!nl->family || !nl->mcgrp)
			err = ENOENT;
	}
	msgs_free(&reply);
	return err;
}

/* Opens a socket in the caller's network namespace; returns 0 or errno. */
static int nl_open(struct nl *nl)
{
	struct timeval tv = { .tv_sec = 10 };
	int one = 1, err;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock)
		return errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) ||
	    mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one,
				  sizeof(one)) ||
	    setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO,
		       &tv, sizeof(tv))) {
		err = errno;
		goto close;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	err = resolve_family(nl);
	if (!err)
		return 0;
close:
	mnl_socket_close(nl->sock);
	nl->sock = NULL;
	return err;
}

static void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

/* A socket subscribed to the "config" group of the caller's netns. */
static struct mnl_socket *listener_open(const struct nl *nl)
{
	struct mnl_socket *l = mnl_socket_open(NETLINK_GENERIC);
	uint32_t grp = nl->mcgrp;

	if (!l)
		return NULL;
	if (mnl_socket_bind(l, 0, MNL_SOCKET_AUTOPID) ||
	    mnl_socket_setsockopt(l, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp))) {
		mnl_socket_close(l);
		return NULL;
	}
	return l;
}

/*
 * Takes every notification queued on @l.  Multicasts are queued before
 * the request that caused them is acked, so nothing is still on its way.
 * Returns 0 or errno.
 */
static int listener_drain(struct mnl_socket *l, struct msgs *msgs)
{
	union {
		struct nlmsghdr nlh;
		char buf[RECV_SIZE];
	} rx;

	for (;;) {
		const struct nlmsghdr *m;
		ssize_t n;
		int len;

		n = recv(mnl_socket_get_fd(l), rx.buf, sizeof(rx.buf),
			 MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			return errno == EAGAIN ? 0 : errno;
		if (n > (ssize_t)sizeof(rx.buf))
			return EMSGSIZE;
		len = n;
		for (m = &rx.nlh; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len))
			if (msgs_add(msgs, m))
				return ENOMEM;
		if (len)
			return EBADMSG;
	}
}

static bool attr_len_is(const struct nlattr *a, size_t len)
{
	return mnl_attr_get_payload_len(a) == len;
}

static void get_in4(const struct nlattr *a, char *out)
{
	inet_ntop(AF_INET, mnl_attr_get_payload(a), out, INET_ADDRSTRLEN);
}

/* An IPv6 address attribute as text; false (and "") unless 16 bytes. */
static bool get_in6(const struct nlattr *a, char *out)
{
	out[0] = 0;
	if (!attr_len_is(a, 16))
		return false;
	inet_ntop(AF_INET6, mnl_attr_get_payload(a), out, INET6_ADDRSTRLEN);
	return true;
}

/* @s, or "" for NULL: an address a test expects to be absent. */
static const char *or_none(const char *s)
{
	return s ? s : "";
}

/*
 * What every reply parsed below says besides its own fields, and how well
 * it was formed.
 */
struct reply {
	int cmd;
	unsigned long attrs;		/* BIT(type) of each top-level attribute */
	unsigned long nest_attrs;	/* and of each one in the reply's nest */
	int bad;			/* unknown, wrong size, nest not flagged */
};

static unsigned long attr_bit(int type)
{
	return type < 64 ? BIT(type) : BIT(63);
}

/* Takes one attribute into a reply's state; false if unknown or malformed. */
typedef bool (*attr_parser)(const struct nlattr *a, void *st);

/*
 * Walks reply @m into @r and, through @parse, into @st: with @nest 0 the
 * fields are the top-level attributes; otherwise the only top-level
 * attribute allowed is @nest, flagged NLA_F_NESTED, and the fields are
 * inside it.  Attributes of type @pad (-1: none) are skipped.
 */
static void walk_reply(const struct nlmsghdr *m, int nest, int pad,
		       attr_parser parse, void *st, struct reply *r)
{
	const struct nlattr *a, *f;

	r->cmd = genl_cmd(m);
	mnl_attr_for_each(a, m, sizeof(struct genlmsghdr)) {
		int type = mnl_attr_get_type(a);

		r->attrs |= attr_bit(type);
		if (!nest) {
			r->bad += !parse(a, st);
			continue;
		}
		if (type != nest) {
			r->bad++;
			continue;
		}
		r->bad += !(a->nla_type & NLA_F_NESTED);
		mnl_attr_for_each_nested(f, a) {
			int t = mnl_attr_get_type(f);

			if (t == pad)
				continue;
			r->nest_attrs |= attr_bit(t);
			r->bad += !parse(f, st);
		}
	}
}

/* What NODE_GET (or a NODE_SET notification) says. */
struct node_state {
	struct reply r;		/* its attributes are at the top level */
	long id, key_set, port_min, port_max, peer_count, peer_max;
	char addr[INET_ADDRSTRLEN];	/* "" if absent */
	char addr6[INET6_ADDRSTRLEN];	/* "" if absent */
};

#define NODE_ATTRS	(BIT(MIGTCP_A_NODE_ID) | BIT(MIGTCP_A_NODE_KEY_SET) | \
			 BIT(MIGTCP_A_NODE_PORT_MIN) |			     \
			 BIT(MIGTCP_A_NODE_PORT_MAX) |			     \
			 BIT(MIGTCP_A_PEER_COUNT) | BIT(MIGTCP_A_PEER_MAX))

static bool node_attr(const struct nlattr *a, void *data)
{
	struct node_state *st = data;

	switch (mnl_attr_get_type(a)) {
	case MIGTCP_A_NODE_ID:
		st->id = mnl_attr_get_u32(a);
		return attr_len_is(a, 4);
	case MIGTCP_A_NODE_ADDR_IN:
		get_in4(a, st->addr);
		return attr_len_is(a, 4);
	case MIGTCP_A_NODE_ADDR_IN6:
		return get_in6(a, st->addr6);
	case MIGTCP_A_NODE_KEY_SET:
		st->key_set = mnl_attr_get_u8(a);
		return attr_len_is(a, 1);
	case MIGTCP_A_NODE_PORT_MIN:
		st->port_min = mnl_attr_get_u16(a);
		return attr_len_is(a, 2);
	case MIGTCP_A_NODE_PORT_MAX:
		st->port_max = mnl_attr_get_u16(a);
		return attr_len_is(a, 2);
	case MIGTCP_A_PEER_COUNT:
		st->peer_count = mnl_attr_get_u32(a);
		return attr_len_is(a, 4);
	case MIGTCP_A_PEER_MAX:
		st->peer_max = mnl_attr_get_u32(a);
		return attr_len_is(a, 4);
	}
	return false;
}

static void parse_node(const struct nlmsghdr *m, struct node_state *st)
{
	memset(st, 0, sizeof(*st));
	walk_reply(m, 0, -1, node_attr, st, &st->r);
}

static int node_get(struct nl *nl, struct node_state *st, struct nl_ack *ack)
{
	struct msgs reply = {};
	struct req r;
	int err;

	memset(st, 0, sizeof(*st));
	err = nl_get(nl, doit_req(&r, nl, MIGTCP_CMD_NODE_GET), &reply, ack);
	if (!err)
		parse_node(reply.m[0], st);
	msgs_free(&reply);
	return err;
}

static int set_node_id(struct nl *nl, long id, struct nl_ack *ack)
{
	struct nlmsghdr *nlh;
	struct req r;

	nlh = doit_req(&r, nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, id);
	return nl_change(nl, nlh, ack);
}

/* What a PEER_GET reply, dump part or peer notification says. */
struct peer_state {
	struct reply r;		/* nest: MIGTCP_A_PEER */
	long id;
	char addr[INET_ADDRSTRLEN];
	char addr6[INET6_ADDRSTRLEN];
};

#define PEER_ATTRS	(BIT(MIGTCP_PEER_A_ID) | BIT(MIGTCP_PEER_A_ADDR_IN))

/* The attributes of a peer with these addresses (NULL: none). */
static unsigned long peer_attrs(const char *addr4, const char *addr6)
{
	return BIT(MIGTCP_PEER_A_ID) |
	       (addr4 ? BIT(MIGTCP_PEER_A_ADDR_IN) : 0) |
	       (addr6 ? BIT(MIGTCP_PEER_A_ADDR_IN6) : 0);
}

static bool peer_attr(const struct nlattr *a, void *data)
{
	struct peer_state *st = data;

	switch (mnl_attr_get_type(a)) {
	case MIGTCP_PEER_A_ID:
		st->id = mnl_attr_get_u32(a);
		return attr_len_is(a, 4);
	case MIGTCP_PEER_A_ADDR_IN:
		get_in4(a, st->addr);
		return attr_len_is(a, 4);
	case MIGTCP_PEER_A_ADDR_IN6:
		return get_in6(a, st->addr6);
	}
	return false;
}

static void parse_peer(const struct nlmsghdr *m, struct peer_state *st)
{
	memset(st, 0, sizeof(*st));
	walk_reply(m, MIGTCP_A_PEER, -1, peer_attr, st, &st->r);
}

/*
 * Builds a peer command; @id < 0 or a NULL @addr4 or @addr6 leaves that
 * attribute out.
 */
static struct nlmsghdr *peer_req6(struct req *r, struct nl *nl, uint8_t cmd,
				  long id, const char *addr4,
				  const char *addr6)
{
	struct nlmsghdr *nlh = doit_req(r, nl, cmd);
	struct nlattr *nest;

	nest_start(nlh, MIGTCP_A_PEER, &nest);
	if (id >= 0)
		put_u32(nlh, MIGTCP_PEER_A_ID, id);
	if (addr4)
		put_in4(nlh, MIGTCP_PEER_A_ADDR_IN, addr4);
	if (addr6)
		put_in6(nlh, MIGTCP_PEER_A_ADDR_IN6, addr6);
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

static struct nlmsghdr *peer_req(struct req *r, struct nl *nl, uint8_t cmd,
				 long id, const char *addr)
{
	return peer_req6(r, nl, cmd, id, addr, NULL);
}

/* PEER_NEW, PEER_SET or PEER_DEL. */
static int peer_change(struct nl *nl, uint8_t cmd, long id, const char *addr,
		       struct nl_ack *ack)
{
	struct req r;

	return nl_change(nl, peer_req(&r, nl, cmd, id, addr), ack);
}

/* The same with either address or both. */
static int peer_change6(struct nl *nl, uint8_t cmd, long id,
			const char *addr4, const char *addr6,
			struct nl_ack *ack)
{
	struct req r;

	return nl_change(nl, peer_req6(&r, nl, cmd, id, addr4, addr6), ack);
}

static int peer_get(struct nl *nl, long id, struct peer_state *st,
		    struct nl_ack *ack)
{
	struct msgs reply = {};
	struct req r;
	int err;

	memset(st, 0, sizeof(*st));
	err = nl_get(nl, peer_req(&r, nl, MIGTCP_CMD_PEER_GET, id, NULL),
		     &reply, ack);
	if (!err)
		parse_peer(reply.m[0], st);
	msgs_free(&reply);
	return err;
}

static int dump(struct nl *nl, uint8_t cmd, struct msgs *msgs,
		struct nl_ack *ack)
{
	struct req r;

	return nl_talk(nl, dump_req(&r, nl, cmd), msgs, ack);
}

/* What a SOCK_GET dump part says. */
struct sock_state {
	struct reply r;		/* nest: MIGTCP_A_SOCK */
	long state, local_node, local_port, remote_node, remote_port;
	long rx_queue, tx_queue, uid, migration;
	uint64_t inode, epoch;
};

#define SOCK_ATTRS	(BIT(MIGTCP_SOCK_A_STATE) |			\
			 BIT(MIGTCP_SOCK_A_LOCAL_NODE) |		\
			 BIT(MIGTCP_SOCK_A_LOCAL_PORT) |		\
			 BIT(MIGTCP_SOCK_A_REMOTE_NODE) |		\
			 BIT(MIGTCP_SOCK_A_REMOTE_PORT) |		\
			 BIT(MIGTCP_SOCK_A_RX_QUEUE) |			\
			 BIT(MIGTCP_SOCK_A_TX_QUEUE) |			\
			 BIT(MIGTCP_SOCK_A_UID) | BIT(MIGTCP_SOCK_A_INODE) |	\
			 BIT(MIGTCP_SOCK_A_MIGRATION) | BIT(MIGTCP_SOCK_A_EPOCH))

static bool sock_attr(const struct nlattr *a, void *data)
{
	struct sock_state *st = data;

	switch (mnl_attr_get_type(a)) {
	case MIGTCP_SOCK_A_STATE:
		st->state = mnl_attr_get_u8(a);
		return attr_len_is(a, 1);
	case MIGTCP_SOCK_A_LOCAL_NODE:
		st->local_node = mnl_attr_get_u32(a);
		return attr_len_is(a, 4);
	case MIGTCP_SOCK_A_LOCAL_PORT:
		st->local_port = mnl_attr_get_u16(a);
		return attr_len_is(a, 2);
	case MIGTCP_SOCK_A_REMOTE_NODE:
		st->remote_node = mnl_attr_get_u32(a);
		return attr_len_is(a, 4);
	case MIGTCP_SOCK_A_REMOTE_PORT:
		st->remote_port = mnl_attr_get_u16(a);
		return attr_len_is(a, 2);
	case MIGTCP_SOCK_A_RX_QUEUE:
		st->rx_queue = mnl_attr_get_u32(a);
		return attr_len_is(a, 4);
	case MIGTCP_SOCK_A_TX_QUEUE:
		st->tx_queue = mnl_attr_get_u32(a);
		return attr_len_is(a, 4);
	case MIGTCP_SOCK_A_UID:
		st->uid = mnl_attr_get_u32(a);
		return attr_len_is(a, 4);
	case MIGTCP_SOCK_A_INODE:
		st->inode = mnl_attr_get_u64(a);
		return attr_len_is(a, 8);
	case MIGTCP_SOCK_A_MIGRATION:
		st->migration = mnl_attr_get_u8(a);
		return attr_len_is(a, 1);
	case MIGTCP_SOCK_A_EPOCH:
		st->epoch = mnl_attr_get_u64(a);
		return attr_len_is(a, 8);
	}
	return false;
}

static void parse_sock(const struct nlmsghdr *m, struct sock_state *st)
{
	memset(st, 0, sizeof(*st));
	walk_reply(m, MIGTCP_A_SOCK, MIGTCP_SOCK_A_PAD, sock_attr, st, &st->r);
}

/* Finds the socket with inode @ino in a SOCK_GET dump; false if absent. */
static bool find_sock(const struct msgs *msgs, uint64_t ino,
		      struct sock_state *st)
{
	int i;

	for (i = 0; i < msgs->n; i++) {
		parse_sock(msgs->m[i], st);
		if (st->inode == ino)
			return true;
	}
	return false;
}

static uint64_t inode_of(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return 0;
	return st.st_ino;
}

static int mig_socket(int family)
{
	return socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

/* A socket bound to (this node, @port); -1 on failure. */
static int bound_socket(int family, uint16_t port)
{
	struct sockaddr_mig addr = {
		.smig_family = family,
		.smig_port = htons(port),
	};
	int fd = mig_socket(family);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* What STATS_GET says. */
struct stats_state {
	struct reply r;		/* nest: MIGTCP_A_STATS */
	uint64_t value[__MIGTCP_STAT_MAX];
};

/* Counter N is attribute N + 1, a u64. */
static bool stat_attr(const struct nlattr *a, void *data)
{
	struct stats_state *st = data;
	int t = mnl_attr_get_type(a);

	if (t > __MIGTCP_STAT_MAX || !attr_len_is(a, 8))
		return false;
	st->value[t - 1] = mnl_attr_get_u64(a);
	return true;
}

static void parse_stats(const struct nlmsghdr *m, struct stats_state *st)
{
	memset(st, 0, sizeof(*st));
	walk_reply(m, MIGTCP_A_STATS, MIGTCP_STATS_A_PAD, stat_attr, st,
		   &st->r);
}

static int stats_get(struct nl *nl, struct stats_state *st,
		     struct nl_ack *ack)
{
	struct msgs reply = {};
	struct req r;
	int err;

	memset(st, 0, sizeof(*st));
	err = nl_get(nl, doit_req(&r, nl, MIGTCP_CMD_STATS_GET), &reply, ack);
	if (!err)
		parse_stats(reply.m[0], st);
	msgs_free(&reply);
	return err;
}

/* Reads /proc/net/migtcp_stats; returns the number of lines or -1. */
static int proc_stats(char names[][32], uint64_t *values, int max)
{
	FILE *f = fopen("/proc/net/migtcp_stats", "re");
	unsigned long long v;
	char line[128];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (n == max || sscanf(line, "%31s %llu", names[n], &v) != 2) {
			n = -1;
			break;
		}
		values[n++] = v;
	}
	fclose(f);
	return n;
}

static const char * const stat_names[__MIGTCP_STAT_MAX] = {
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

static int module_param_write(const char *name, long value)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/module/migtcp/parameters/%s", name);
	f = fopen(path, "we");
	if (!f)
		return -1;
	ret = fprintf(f, "%ld\n", value) < 0;
	ret |= fclose(f) != 0;
	return ret ? -1 : 0;
}

static void fill_key(uint8_t *key, uint8_t seed)
{
	int i;

	for (i = 0; i < MIGTCP_KEY_LEN; i++)
		key[i] = seed + 37 * i;
}

static bool holds_key(const struct nlmsghdr *m, const uint8_t *key)
{
	return memmem(m, m->nlmsg_len, key, MIGTCP_KEY_LEN);
}

/* What a child process saw, for the parent to check. */
struct outcome {
	int err;		/* errno of the answer, -1: local failure */
	char msg[160];
};

static void record(struct outcome *o, int err, const struct nl_ack *ack)
{
	o->err = ack->local ? -1 : err;
	snprintf(o->msg, sizeof(o->msg), "%.159s", ack->msg);
}

enum { CH_NODE_SET, CH_PEER_NEW, CH_PEER_SET, CH_PEER_DEL, CH_COUNT };

static const char * const change_names[CH_COUNT] = {
	"NODE_SET", "PEER_NEW", "PEER_SET", "PEER_DEL",
};

struct child_report {
	int family;			/* AF_MIGTCP, from the parent */
	uint64_t parent_ino;		/* a socket of the parent */
	char failed[160];		/* a step outside the checks failed */

	struct outcome change[CH_COUNT];
	struct outcome node_get, peer_get, peer_dump, sock_dump, stats_get;
	long node_id, peers, socks;
	char peer_addr[INET_ADDRSTRLEN];
	long own_sock_uid, parent_sock_uid;	/* -1 if not dumped */

	/* The user-namespace child, in a network namespace it owns. */
	struct outcome own_change[CH_COUNT];
	struct outcome own_node_get;
	long own_node_id, own_peers;
};

static struct child_report *report_alloc(void)
{
	struct child_report *rep;

	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rep == MAP_FAILED)
		return NULL;
	rep->own_sock_uid = -1;
	rep->parent_sock_uid = -1;
	return rep;
}

static int child_failed(struct child_report *rep, const char *what)
{
	snprintf(rep->failed, sizeof(rep->failed), "%s: %s", what,
		 strerror(errno));
	return 1;
}

/* Runs @fn in a child; returns its exit status (0: it ran to the end). */
static int run_child(int (*fn)(struct child_report *),
		     struct child_report *rep)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid)
		_exit(fn(rep));
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Tries every change command: NODE_SET to @node_id, PEER_NEW of
 * @new_peer, then PEER_SET and PEER_DEL of @old_peer.
 */
static void try_changes(struct nl *nl, struct outcome *out, long node_id,
			long new_peer, long old_peer)
{
	struct nl_ack ack;
	int err;

	err = set_node_id(nl, node_id, &ack);
	record(&out[CH_NODE_SET], err, &ack);
	err = peer_change(nl, MIGTCP_CMD_PEER_NEW, new_peer, ADDR_B, &ack);
	record(&out[CH_PEER_NEW], err, &ack);
	err = peer_change(nl, MIGTCP_CMD_PEER_SET, old_peer, ADDR_B, &ack);
	record(&out[CH_PEER_SET], err, &ack);
	err = peer_change(nl, MIGTCP_CMD_PEER_DEL, old_peer, NULL, &ack);
	record(&out[CH_PEER_DEL], err, &ack);
}

/* Every read command, recording what it returned. */
static void try_reads(struct nl *nl, struct child_report *rep, uint64_t own)
{
	struct node_state node;
	struct peer_state peer;
	struct stats_state stats;
	struct sock_state sock;
	struct msgs msgs = {};
	struct nl_ack ack;
	int err;

	err = node_get(nl, &node, &ack);
	record(&rep->node_get, err, &ack);
	rep->node_id = node.id;

	err = peer_get(nl, PEER_ID, &peer, &ack);
	record(&rep->peer_get, err, &ack);
	snprintf(rep->peer_addr, sizeof(rep->peer_addr), "%s", peer.addr);

	err = dump(nl, MIGTCP_CMD_PEER_GET, &msgs, &ack);
	record(&rep->peer_dump, err, &ack);
	rep->peers = msgs.n;
	msgs_free(&msgs);

	err = dump(nl, MIGTCP_CMD_SOCK_GET, &msgs, &ack);
	record(&rep->sock_dump, err, &ack);
	rep->socks = msgs.n;
	if (own && find_sock(&msgs, own, &sock))
		rep->own_sock_uid = sock.uid;
	if (find_sock(&msgs, rep->parent_ino, &sock))
		rep->parent_sock_uid = sock.uid;
	msgs_free(&msgs);

	err = stats_get(nl, &stats, &ack);
	record(&rep->stats_get, err, &ack);
}

static int unprivileged_child(struct child_report *rep)
{
	struct nl nl;
	int err, fd;

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return child_failed(rep, "dropping privileges");
	err = nl_open(&nl);
	if (err) {
		errno = err;
		return child_failed(rep, "nl_open");
	}
	fd = mig_socket(rep->family);
	if (fd < 0)
		return child_failed(rep, "socket");
	try_changes(&nl, rep->change, OTHER_ID, NEW_PEER_ID, PEER_ID);
	try_reads(&nl, rep, inode_of(fd));
	close(fd);
	nl_close(&nl);
	return 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Makes the caller root of a new user namespace. */
static int enter_user_ns(struct child_report *rep)
{
	if (unshare(CLONE_NEWUSER))
		return child_failed(rep, "unshare(CLONE_NEWUSER)");
	if (write_file("/proc/self/setgroups", "deny") ||
	    write_file("/proc/self/uid_map", "0 0 1") ||
	    write_file("/proc/self/gid_map", "0 0 1"))
		return child_failed(rep, "writing the id maps");
	if (getuid() || getgid())
		return child_failed(rep, "not root in the user namespace");
	return 0;
}

/* Root of a new user namespace, acting on the parent's network namespace. */
static int userns_child(struct child_report *rep)
{
	struct nl nl;
	int err;

	if (enter_user_ns(rep))
		return 1;
	err = nl_open(&nl);
	if (err) {
		errno = err;
		return child_failed(rep, "nl_open");
	}
	try_changes(&nl, rep->change, OTHER_ID, NEW_PEER_ID, PEER_ID);
	try_reads(&nl, rep, 0);
	nl_close(&nl);
	return 0;
}

/* The same, then in a network namespace owned by its user namespace. */
static int userns_netns_child(struct child_report *rep)
{
	struct node_state node;
	struct nl_ack ack;
	struct nl nl;
	int err;

	if (userns_child(rep))
		return 1;
	if (unshare(CLONE_NEWNET))
		return child_failed(rep, "unshare(CLONE_NEWNET)");
	err = nl_open(&nl);
	if (err) {
		errno = err;
		return child_failed(rep, "nl_open in the new netns");
	}
	try_changes(&nl, rep->own_change, OTHER_ID, NEW_PEER_ID, NEW_PEER_ID);
	err = node_get(&nl, &node, &ack);
	record(&rep->own_node_get, err, &ack);
	rep->own_node_id = node.id;
	rep->own_peers = node.peer_count;
	nl_close(&nl);
	return 0;
}

FIXTURE(genl) {
	struct nl nl;
	int family;
};

FIXTURE_SETUP(genl)
{
	int err;

	self->family = migtcp_family();
	ASSERT_LT(0, self->family) TH_LOG("is migtcp loaded?");
	ASSERT_EQ(0, migtcp_test_new_netns())
		TH_LOG("new netns: %s", strerror(errno));
	err = nl_open(&self->nl);
	ASSERT_EQ(0, err) TH_LOG("generic netlink family \"%s\": %s",
				 MIGTCP_GENL_NAME, strerror(err));
}

FIXTURE_TEARDOWN(genl)
{
	nl_close(&self->nl);
}

/* Node id 7, address NODE_ADDR, no key, the default port range. */
#define SET_BASE_NODE(nl) do {						\
	struct nl_ack __ack;						\
	struct nlmsghdr *__nlh;						\
	struct req __r;							\
									\
	__nlh = doit_req(&__r, nl, MIGTCP_CMD_NODE_SET);		\
	put_u32(__nlh, MIGTCP_A_NODE_ID, NODE_ID);			\
	put_in4(__nlh, MIGTCP_A_NODE_ADDR_IN, NODE_ADDR);		\
	nl_change(nl, __nlh, &__ack);					\
	ASSERT_OK(__ack);						\
} while (0)

/* The node is still exactly what SET_BASE_NODE made it. */
#define ASSERT_BASE_NODE(nl) do {					\
	struct node_state __st;						\
	struct nl_ack __ack;						\
									\
	node_get(nl, &__st, &__ack);					\
	ASSERT_OK(__ack);						\
	ASSERT_EQ(NODE_ID, __st.id);					\
	ASSERT_STREQ(NODE_ADDR, __st.addr);				\
	ASSERT_STREQ("", __st.addr6);					\
	ASSERT_EQ(0, __st.key_set);					\
	ASSERT_EQ(EPHEMERAL_MIN, __st.port_min);			\
	ASSERT_EQ(EPHEMERAL_MAX, __st.port_max);			\
} while (0)

/* PEER_GET says exactly these addresses (NULL: that one absent). */
#define ASSERT_PEER6(nl, want_id, want_addr4, want_addr6) do {		\
	struct peer_state __p;						\
	struct nl_ack __ack;						\
									\
	peer_get(nl, want_id, &__p, &__ack);				\
	ASSERT_OK(__ack);						\
	ASSERT_EQ(MIGTCP_CMD_PEER_GET, __p.r.cmd);			\
	ASSERT_EQ(BIT(MIGTCP_A_PEER), __p.r.attrs);			\
	ASSERT_EQ(peer_attrs(want_addr4, want_addr6), __p.r.nest_attrs);	\
	ASSERT_EQ(0, __p.r.bad);						\
	ASSERT_EQ((long)(want_id), __p.id);					\
	ASSERT_STREQ(or_none(want_addr4), __p.addr);			\
	ASSERT_STREQ(or_none(want_addr6), __p.addr6);			\
} while (0)

#define ASSERT_PEER(nl, want_id, want_addr)				\
	ASSERT_PEER6(nl, want_id, want_addr, NULL)

#define ASSERT_NO_PEER(nl, id) do {					\
	struct peer_state __p;						\
	struct nl_ack __ack;						\
									\
	peer_get(nl, id, &__p, &__ack);					\
	ASSERT_ANSWER(ENOENT, MSG_NO_PEER, __ack);			\
} while (0)

#define ASSERT_PEER_COUNT(nl, n) do {					\
	struct node_state __st;						\
	struct nl_ack __ack;						\
									\
	node_get(nl, &__st, &__ack);					\
	ASSERT_OK(__ack);						\
	ASSERT_EQ((long)(n), __st.peer_count);				\
} while (0)

TEST_F(genl, node_get_defaults)
{
	struct node_state st;
	struct nl_ack ack;
	long max_peers = migtcp_module_param("max_peers");

	ASSERT_LT(0, max_peers);
	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(MIGTCP_CMD_NODE_GET, st.r.cmd);
	/* No address is set, so none is reported; never the key. */
	ASSERT_EQ(NODE_ATTRS, st.r.attrs);
	ASSERT_EQ(0, st.r.bad);
	ASSERT_EQ(0, st.id);
	ASSERT_EQ(0, st.key_set);
	ASSERT_EQ(EPHEMERAL_MIN, st.port_min);
	ASSERT_EQ(EPHEMERAL_MAX, st.port_max);
	ASSERT_EQ(0, st.peer_count);
	ASSERT_EQ(max_peers, st.peer_max);
}

TEST_F(genl, node_set_get_round_trip)
{
	uint8_t key[MIGTCP_KEY_LEN];
	struct nlmsghdr *nlh;
	struct node_state st;
	struct nl_ack ack;
	struct req r;

	fill_key(key, 0x51);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);

	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, NODE_ID);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, NODE_ADDR);
	put(nlh, MIGTCP_A_NODE_KEY, sizeof(key), key);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MIN, 40000);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MAX, 40099);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);

	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(MIGTCP_CMD_NODE_GET, st.r.cmd);
	ASSERT_EQ(NODE_ATTRS | BIT(MIGTCP_A_NODE_ADDR_IN), st.r.attrs);
	ASSERT_EQ(0, st.r.bad);
	ASSERT_EQ(NODE_ID, st.id);
	ASSERT_STREQ(NODE_ADDR, st.addr);
	ASSERT_EQ(1, st.key_set);
	ASSERT_EQ(40000, st.port_min);
	ASSERT_EQ(40099, st.port_max);
	ASSERT_EQ(1, st.peer_count);
	ASSERT_EQ(migtcp_module_param("max_peers"), st.peer_max);
}

TEST_F(genl, node_set_changes_only_given_attributes)
{
	uint8_t key[MIGTCP_KEY_LEN];
	struct nlmsghdr *nlh;
	struct node_state st;
	struct nl_ack ack;
	struct req r;

	fill_key(key, 0x17);
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, NODE_ID);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, NODE_ADDR);
	put(nlh, MIGTCP_A_NODE_KEY, sizeof(key), key);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MIN, 40000);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MAX, 40099);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);

	/* Each attribute alone changes only itself. */
	set_node_id(&self->nl, OTHER_ID, &ack);
	ASSERT_OK(ack);
	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(OTHER_ID, st.id);
	ASSERT_STREQ(NODE_ADDR, st.addr);
	ASSERT_EQ(1, st.key_set);
	ASSERT_EQ(40000, st.port_min);
	ASSERT_EQ(40099, st.port_max);

	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, ADDR_B);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MIN, 50000);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MAX, 50000);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);
	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(OTHER_ID, st.id);
	ASSERT_STREQ(ADDR_B, st.addr);
	ASSERT_EQ(1, st.key_set);
	ASSERT_EQ(50000, st.port_min);
	ASSERT_EQ(50000, st.port_max);
}

TEST_F(genl, node_port_range_applies_to_bind)
{
	struct sockaddr_mig addr;
	socklen_t len = sizeof(addr);
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	struct req r;
	int fd;

	/* A range of one port: the only port an ephemeral bind can get. */
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, NODE_ID);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MIN, 41234);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MAX, 41234);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);

	fd = bound_socket(self->family, 0);
	ASSERT_LE(0, fd) TH_LOG("bind port 0: %s", strerror(errno));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&addr, &len));
	ASSERT_EQ(41234, ntohs(addr.smig_port));
	ASSERT_EQ((uint32_t)NODE_ID, addr.smig_node);
	ASSERT_EQ(-1, bound_socket(self->family, 0));
	ASSERT_EQ(EADDRINUSE, errno);
	close(fd);
}

TEST_F(genl, node_set_nothing_to_set)
{
	struct nl_ack ack;
	struct req r;

	nl_change(&self->nl, doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET),
		  &ack);
	ASSERT_ANSWER(EINVAL, MSG_NOTHING_TO_SET, ack);
	ASSERT_BLAMES(-1, ack);
}

struct bad_node_attr {
	const char *what;
	uint16_t type;
	uint16_t len;
	uint32_t value;		/* the first bytes of the payload */
	int err;
	const char *msg;
};

/* Policy violations: the core rejects them before the module sees them. */
static const struct bad_node_attr bad_node_attrs[] = {
	{ "id 0", MIGTCP_A_NODE_ID, 4, 0, ERANGE, MSG_INT_RANGE },
	{ "id of 2 bytes", MIGTCP_A_NODE_ID, 2, 7, EINVAL, MSG_ATTR_LEN },
	{ "id of 8 bytes", MIGTCP_A_NODE_ID, 8, 7, EINVAL, MSG_ATTR_LEN },
	{ "address of 3 bytes", MIGTCP_A_NODE_ADDR_IN, 3, 0x0100a8c0,
	  ERANGE, MSG_BIN_SIZE },
	{ "address of 5 bytes", MIGTCP_A_NODE_ADDR_IN, 5, 0x0100a8c0,
	  ERANGE, MSG_BIN_SIZE },
	{ "IPv6 address of 4 bytes", MIGTCP_A_NODE_ADDR_IN6, 4, 0x0100a8c0,
	  ERANGE, MSG_BIN_SIZE },
	{ "IPv6 address of 15 bytes", MIGTCP_A_NODE_ADDR_IN6, 15, 0xb80d0120,
	  ERANGE, MSG_BIN_SIZE },
	{ "IPv6 address of 17 bytes", MIGTCP_A_NODE_ADDR_IN6, 17, 0xb80d0120,
	  ERANGE, MSG_BIN_SIZE },
	{ "key of 31 bytes", MIGTCP_A_NODE_KEY, 31, 0x01020304,
	  ERANGE, MSG_BIN_SIZE },
	{ "key of 33 bytes", MIGTCP_A_NODE_KEY, 33, 0x01020304,
	  ERANGE, MSG_BIN_SIZE },
	{ "empty key", MIGTCP_A_NODE_KEY, 0, 0, ERANGE, MSG_BIN_SIZE },
	{ "port min 0", MIGTCP_A_NODE_PORT_MIN, 2, 0, ERANGE, MSG_INT_RANGE },
	{ "port max 0", MIGTCP_A_NODE_PORT_MAX, 2, 0, ERANGE, MSG_INT_RANGE },
	{ "port min of 4 bytes", MIGTCP_A_NODE_PORT_MIN, 4, 5000,
	  EINVAL, MSG_ATTR_LEN },
};

TEST_F(genl, node_policy_violations)
{
	uint8_t payload[40] = {};
	unsigned int i;

	SET_BASE_NODE(&self->nl);
	for (i = 0; i < ARRAY_SIZE(bad_node_attrs); i++) {
		const struct bad_node_attr *b = &bad_node_attrs[i];
		struct nlmsghdr *nlh;
		struct nl_ack ack;
		struct req r;
		long offs;

		TH_LOG("%s", b->what);
		memcpy(payload, &b->value, sizeof(b->value));
		nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
		/* A valid change in the same request must not happen either. */
		if (b->type != MIGTCP_A_NODE_ID)
			put_u32(nlh, MIGTCP_A_NODE_ID, OTHER_ID);
		offs = put(nlh, b->type, b->len, payload);
		nl_change(&self->nl, nlh, &ack);
		ASSERT_ANSWER(b->err, b->msg, ack);
		ASSERT_BLAMES(offs, ack);
		ASSERT_BASE_NODE(&self->nl);
	}
}

/* An IPv6 address alone: NODE_GET reports it and no IPv4 one. */
TEST_F(genl, node_ipv6_address_round_trip)
{
	struct nlmsghdr *nlh;
	struct node_state st;
	struct nl_ack ack;
	struct req r;

	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, NODE_ID);
	put_in6(nlh, MIGTCP_A_NODE_ADDR_IN6, NODE_ADDR6);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);

	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(MIGTCP_CMD_NODE_GET, st.r.cmd);
	ASSERT_EQ(NODE_ATTRS | BIT(MIGTCP_A_NODE_ADDR_IN6), st.r.attrs);
	ASSERT_EQ(0, st.r.bad);
	ASSERT_EQ(NODE_ID, st.id);
	ASSERT_STREQ("", st.addr);
	ASSERT_STREQ(NODE_ADDR6, st.addr6);
}

/* Both addresses in one request: NODE_GET reports both. */
TEST_F(genl, node_ipv6_address_beside_ipv4)
{
	struct nlmsghdr *nlh;
	struct node_state st;
	struct nl_ack ack;
	struct req r;

	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, NODE_ID);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, NODE_ADDR);
	put_in6(nlh, MIGTCP_A_NODE_ADDR_IN6, NODE_ADDR6);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);

	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(MIGTCP_CMD_NODE_GET, st.r.cmd);
	ASSERT_EQ(NODE_ATTRS | BIT(MIGTCP_A_NODE_ADDR_IN) |
		  BIT(MIGTCP_A_NODE_ADDR_IN6), st.r.attrs);
	ASSERT_EQ(0, st.r.bad);
	ASSERT_EQ(NODE_ID, st.id);
	ASSERT_STREQ(NODE_ADDR, st.addr);
	ASSERT_STREQ(NODE_ADDR6, st.addr6);
}

/* Either address given alone changes that one and leaves the other. */
TEST_F(genl, node_addresses_change_independently)
{
	struct nlmsghdr *nlh;
	struct node_state st;
	struct nl_ack ack;
	struct req r;

	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, NODE_ID);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, NODE_ADDR);
	put_in6(nlh, MIGTCP_A_NODE_ADDR_IN6, NODE_ADDR6);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);

	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, ADDR_B);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);
	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(NODE_ID, st.id);
	ASSERT_STREQ(ADDR_B, st.addr);
	ASSERT_STREQ(NODE_ADDR6, st.addr6);

	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_in6(nlh, MIGTCP_A_NODE_ADDR_IN6, ADDR6_B);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);
	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(NODE_ID, st.id);
	ASSERT_STREQ(ADDR_B, st.addr);
	ASSERT_STREQ(ADDR6_B, st.addr6);
}

/* Linux treats 0.0.0.0/8 but 0.0.0.0 itself as unicast (since 5.3). */
static const char * const not_unicast[] = {
	"0.0.0.0", "0.1.2.3", "127.0.0.1", "127.1.2.3", "224.0.0.1",
	"239.255.255.255", "240.0.0.1", "255.255.255.255",
};

/*
 * What migtcp_addr6_usable() refuses: the unspecified address, loopback,
 * the rest of ::/96 (IPv4-compatible), IPv4-mapped, multicast of any
 * scope, and link-local (fe80::/10, both ends of it).
 */
static const char * const not_usable6[] = {
	"::", "::1", "::2", "::192.0.2.1", "::ffff:192.0.2.1",
	"::ffff:0.0.0.0", "ff02::1", "ff05::2", "ff0e::1", "fe80::1",
	"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
};

/*
 * Each one refused with EINVAL, blaming the attribute; the id and the
 * IPv4 address in the same request do not change either.
 */
TEST_F(genl, node_ipv6_address_not_usable)
{
	unsigned int i;

	SET_BASE_NODE(&self->nl);
	for (i = 0; i < ARRAY_SIZE(not_usable6); i++) {
		struct nlmsghdr *nlh;
		struct nl_ack ack;
		struct req r;
		long offs;

		TH_LOG("%s", not_usable6[i]);
		nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
		put_u32(nlh, MIGTCP_A_NODE_ID, OTHER_ID);
		put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, ADDR_B);
		offs = put_in6(nlh, MIGTCP_A_NODE_ADDR_IN6, not_usable6[i]);
		nl_change(&self->nl, nlh, &ack);
		ASSERT_ANSWER(EINVAL, MSG_NOT_UNICAST6, ack);
		ASSERT_BLAMES(offs, ack);
		ASSERT_BASE_NODE(&self->nl);
	}
}

/*
 * A node's IPv6 address is not replaced (or, by ::, cleared) by an
 * unusable one.
 */
TEST_F(genl, node_ipv6_address_kept_when_refused)
{
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	struct req r;
	unsigned int i;

	SET_BASE_NODE(&self->nl);
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_in6(nlh, MIGTCP_A_NODE_ADDR_IN6, NODE_ADDR6);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);
	for (i = 0; i < ARRAY_SIZE(not_usable6); i++) {
		struct node_state st;

		TH_LOG("%s", not_usable6[i]);
		nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
		put_in6(nlh, MIGTCP_A_NODE_ADDR_IN6, not_usable6[i]);
		nl_change(&self->nl, nlh, &ack);
		ASSERT_ANSWER(EINVAL, MSG_NOT_UNICAST6, ack);
		node_get(&self->nl, &st, &ack);
		ASSERT_OK(ack);
		ASSERT_EQ(NODE_ATTRS | BIT(MIGTCP_A_NODE_ADDR_IN) |
			  BIT(MIGTCP_A_NODE_ADDR_IN6), st.r.attrs);
		ASSERT_STREQ(NODE_ADDR, st.addr);
		ASSERT_STREQ(NODE_ADDR6, st.addr6);
	}
}

TEST_F(genl, node_address_not_unicast)
{
	unsigned int i;

	SET_BASE_NODE(&self->nl);
	for (i = 0; i < ARRAY_SIZE(not_unicast); i++) {
		struct nlmsghdr *nlh;
		struct nl_ack ack;
		struct req r;
		long offs;

		TH_LOG("%s", not_unicast[i]);
		nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
		put_u32(nlh, MIGTCP_A_NODE_ID, OTHER_ID);
		offs = put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, not_unicast[i]);
		nl_change(&self->nl, nlh, &ack);
		ASSERT_ANSWER(EINVAL, MSG_NOT_UNICAST, ack);
		ASSERT_BLAMES(offs, ack);
		ASSERT_BASE_NODE(&self->nl);
	}
}

TEST_F(genl, node_port_range_incomplete)
{
	static const uint16_t types[] = {
		MIGTCP_A_NODE_PORT_MIN, MIGTCP_A_NODE_PORT_MAX,
	};
	unsigned int i;

	SET_BASE_NODE(&self->nl);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		struct nlmsghdr *nlh;
		struct nl_ack ack;
		struct req r;
		long offs;

		nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
		put_u32(nlh, MIGTCP_A_NODE_ID, OTHER_ID);
		offs = put_u16(nlh, types[i], 40000);
		nl_change(&self->nl, nlh, &ack);
		ASSERT_ANSWER(EINVAL, MSG_RANGE_HALF, ack);
		ASSERT_BLAMES(offs, ack);
		ASSERT_BASE_NODE(&self->nl);
	}
}

TEST_F(genl, node_port_range_inverted)
{
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	struct req r;
	long offs;

	SET_BASE_NODE(&self->nl);
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, OTHER_ID);
	offs = put_u16(nlh, MIGTCP_A_NODE_PORT_MIN, 40001);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MAX, 40000);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_ANSWER(EINVAL, MSG_RANGE_INVERTED, ack);
	ASSERT_BLAMES(offs, ack);
	ASSERT_BASE_NODE(&self->nl);
}

/*
 * A request with valid id, key, IPv6 address and port range but one bad
 * address changes none of them: validation comes before any change.
 */
TEST_F(genl, node_rejected_request_changes_nothing)
{
	uint8_t key[MIGTCP_KEY_LEN];
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	struct req r;

	fill_key(key, 0x99);
	SET_BASE_NODE(&self->nl);
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, OTHER_ID);
	put(nlh, MIGTCP_A_NODE_KEY, sizeof(key), key);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MIN, 40000);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MAX, 40099);
	put_in6(nlh, MIGTCP_A_NODE_ADDR_IN6, NODE_ADDR6);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, "224.0.0.251");
	nl_change(&self->nl, nlh, &ack);
	ASSERT_ANSWER(EINVAL, MSG_NOT_UNICAST, ack);
	ASSERT_BASE_NODE(&self->nl);
}

TEST_F(genl, node_id_taken_by_peer)
{
	uint8_t key[MIGTCP_KEY_LEN];
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	struct req r;

	fill_key(key, 0x33);
	SET_BASE_NODE(&self->nl);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);

	/* The id check comes after validation but before any change. */
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, PEER_ID);
	put(nlh, MIGTCP_A_NODE_KEY, sizeof(key), key);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, ADDR_B);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_ANSWER(EEXIST, MSG_ID_IS_PEER, ack);
	ASSERT_BLAMES(-1, ack);
	ASSERT_BASE_NODE(&self->nl);
	ASSERT_PEER(&self->nl, PEER_ID, ADDR_A);
}

TEST_F(genl, node_id_busy_while_socket_bound)
{
	struct nlmsghdr *nlh;
	struct node_state st;
	struct nl_ack ack;
	struct req r;
	int fd, unbound;

	SET_BASE_NODE(&self->nl);
	/* A socket that holds no port does not pin the id. */
	unbound = mig_socket(self->family);
	ASSERT_LE(0, unbound);
	set_node_id(&self->nl, OTHER_ID, &ack);
	ASSERT_OK(ack);
	set_node_id(&self->nl, NODE_ID, &ack);
	ASSERT_OK(ack);

	fd = bound_socket(self->family, PORT);
	ASSERT_LE(0, fd) TH_LOG("bind: %s", strerror(errno));
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, OTHER_ID);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, ADDR_B);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_ANSWER(EBUSY, MSG_BUSY, ack);
	ASSERT_BLAMES(-1, ack);
	ASSERT_BASE_NODE(&self->nl);

	/* Restating the current id is no change; other attributes still are. */
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, NODE_ID);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, ADDR_B);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);
	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(NODE_ID, st.id);
	ASSERT_STREQ(ADDR_B, st.addr);

	close(fd);
	set_node_id(&self->nl, OTHER_ID, &ack);
	ASSERT_OK(ack);
	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(OTHER_ID, st.id);
	close(unbound);
}

/* Attributes the kernel reports but never takes. */
static const uint16_t readonly_attrs[] = {
	MIGTCP_A_PAD, MIGTCP_A_NODE_KEY_SET, MIGTCP_A_SOCK, MIGTCP_A_STATS,
	MIGTCP_A_PEER_COUNT, MIGTCP_A_PEER_MAX,
};

TEST_F(genl, readonly_attributes_rejected)
{
	static const struct {
		uint8_t cmd;
		uint16_t flags;
	} cmds[] = {
		{ MIGTCP_CMD_NODE_SET, NLM_F_ACK },
		{ MIGTCP_CMD_NODE_GET, NLM_F_ACK },
		{ MIGTCP_CMD_STATS_GET, NLM_F_ACK },
		{ MIGTCP_CMD_PEER_GET, NLM_F_DUMP },
		{ MIGTCP_CMD_SOCK_GET, NLM_F_DUMP },
	};
	unsigned int i, j;

	SET_BASE_NODE(&self->nl);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (j = 0; j < ARRAY_SIZE(readonly_attrs); j++) {
			struct msgs replies = {};
			struct nlmsghdr *nlh;
			struct nl_ack ack;
			struct req r;
			long offs;

			TH_LOG("cmd %d, attribute %d", cmds[i].cmd,
			       readonly_attrs[j]);
			nlh = mig_req(&r, &self->nl, cmds[i].cmd,
				      cmds[i].flags);
			if (cmds[i].cmd == MIGTCP_CMD_NODE_SET)
				put_u32(nlh, MIGTCP_A_NODE_ID, OTHER_ID);
			offs = put_u32(nlh, readonly_attrs[j], 1);
			nl_talk(&self->nl, nlh, &replies, &ack);
			ASSERT_ANSWER(EINVAL, MSG_UNSUPPORTED, ack);
			ASSERT_BLAMES(offs, ack);
			ASSERT_EQ(0, replies.n);
			msgs_free(&replies);
		}
	}
	ASSERT_BASE_NODE(&self->nl);
}

TEST_F(genl, unknown_attribute_types_rejected)
{
	static const uint16_t types[] = { 0, MIGTCP_A_MAX + 1, 1000 };
	static const uint16_t peer_types[] = { 0, MIGTCP_PEER_A_MAX + 1 };
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct nl_ack ack;
	unsigned int i;
	struct req r;
	long offs;

	SET_BASE_NODE(&self->nl);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		TH_LOG("type %d", types[i]);
		nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
		put_u32(nlh, MIGTCP_A_NODE_ID, OTHER_ID);
		offs = put_u32(nlh, types[i], 1);
		nl_change(&self->nl, nlh, &ack);
		ASSERT_ANSWER(EINVAL, MSG_UNKNOWN_TYPE, ack);
		ASSERT_BLAMES(offs, ack);
	}
	ASSERT_BASE_NODE(&self->nl);

	for (i = 0; i < ARRAY_SIZE(peer_types); i++) {
		TH_LOG("peer attribute type %d", peer_types[i]);
		nlh = doit_req(&r, &self->nl, MIGTCP_CMD_PEER_NEW);
		nest_start(nlh, MIGTCP_A_PEER, &nest);
		put_u32(nlh, MIGTCP_PEER_A_ID, PEER_ID);
		put_in4(nlh, MIGTCP_PEER_A_ADDR_IN, ADDR_A);
		offs = put_u32(nlh, peer_types[i], 1);
		mnl_attr_nest_end(nlh, nest);
		nl_change(&self->nl, nlh, &ack);
		ASSERT_ANSWER(EINVAL, MSG_UNKNOWN_TYPE, ack);
		ASSERT_BLAMES(offs, ack);
	}
	ASSERT_PEER_COUNT(&self->nl, 0);
}

TEST_F(genl, bad_nlmsg_flags_rejected)
{
	/* NLM_F_ROOT or NLM_F_MATCH alone is half a dump: ambiguous. */
	static const uint16_t flags[] = {
		NLM_F_CREATE, NLM_F_EXCL, NLM_F_APPEND, NLM_F_REPLACE,
		NLM_F_MULTI, NLM_F_DUMP_INTR, NLM_F_DUMP_FILTERED,
	};
	static const uint8_t cmds[] = {
		MIGTCP_CMD_NODE_SET, MIGTCP_CMD_NODE_GET, MIGTCP_CMD_PEER_NEW,
		MIGTCP_CMD_STATS_GET,
	};
	unsigned int i, j;

	SET_BASE_NODE(&self->nl);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (j = 0; j < ARRAY_SIZE(flags); j++) {
			struct nlmsghdr *nlh;
			struct nl_ack ack;
			struct req r;

			TH_LOG("cmd %d, flag 0x%x", cmds[i], flags[j]);
			if (cmds[i] == MIGTCP_CMD_PEER_NEW) {
				nlh = peer_req(&r, &self->nl, cmds[i], PEER_ID,
					       ADDR_A);
			} else {
				nlh = doit_req(&r, &self->nl, cmds[i]);
				if (cmds[i] == MIGTCP_CMD_NODE_SET)
					put_u32(nlh, MIGTCP_A_NODE_ID,
						OTHER_ID);
			}
			nlh->nlmsg_flags |= flags[j];
			nl_change(&self->nl, nlh, &ack);
			ASSERT_ANSWER(EINVAL, MSG_BAD_FLAGS, ack);
			ASSERT_BLAMES(-1, ack);
		}
	}
	/* And on a dump, whose NLM_F_ROOT|NLM_F_MATCH are NLM_F_EXCL|REPLACE. */
	for (j = 0; j < ARRAY_SIZE(flags); j++) {
		struct nl_ack ack;
		struct req r;

		if (flags[j] & NLM_F_DUMP)
			continue;
		TH_LOG("dump, flag 0x%x", flags[j]);
		nl_talk(&self->nl, mig_req(&r, &self->nl, MIGTCP_CMD_PEER_GET,
					   NLM_F_DUMP | flags[j]),
			NULL, &ack);
		ASSERT_ANSWER(EINVAL, MSG_BAD_FLAGS, ack);
	}
	ASSERT_BASE_NODE(&self->nl);
	ASSERT_PEER_COUNT(&self->nl, 0);
}

TEST_F(genl, allowed_nlmsg_flags_accepted)
{
	struct nlmsghdr *nlh;
	struct node_state st;
	struct nl_ack ack;
	struct req r;

	nlh = mig_req(&r, &self->nl, MIGTCP_CMD_NODE_SET,
		      NLM_F_ACK | NLM_F_ECHO);
	put_u32(nlh, MIGTCP_A_NODE_ID, NODE_ID);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);
	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(NODE_ID, st.id);
}

TEST_F(genl, reserved_header_rejected)
{
	struct genlmsghdr *g;
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	struct req r;

	SET_BASE_NODE(&self->nl);
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	g = mnl_nlmsg_get_payload(nlh);
	g->reserved = 1;
	put_u32(nlh, MIGTCP_A_NODE_ID, OTHER_ID);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_ANSWER(EINVAL, MSG_RESERVED, ack);
	ASSERT_BASE_NODE(&self->nl);
}

TEST_F(genl, unknown_commands_rejected)
{
	static const struct {
		uint8_t cmd;
		uint16_t flags;
	} bad[] = {
		{ MIGTCP_CMD_UNSPEC, NLM_F_ACK },
		{ MIGTCP_CMD_MAX + 1, NLM_F_ACK },
		{ 255, NLM_F_ACK },
		{ MIGTCP_CMD_MAX + 1, NLM_F_DUMP },
		/* Dump-only and do-only commands used the other way. */
		{ MIGTCP_CMD_SOCK_GET, NLM_F_ACK },
		{ MIGTCP_CMD_NODE_GET, NLM_F_DUMP },
		{ MIGTCP_CMD_NODE_SET, NLM_F_DUMP },
		{ MIGTCP_CMD_STATS_GET, NLM_F_DUMP },
		{ MIGTCP_CMD_PEER_NEW, NLM_F_DUMP },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct msgs replies = {};
		struct nl_ack ack;
		struct req r;

		TH_LOG("cmd %d, flags 0x%x", bad[i].cmd, bad[i].flags);
		nl_talk(&self->nl, mig_req(&r, &self->nl, bad[i].cmd,
					   bad[i].flags),
			&replies, &ack);
		ASSERT_ANSWER(EOPNOTSUPP, "", ack);
		ASSERT_EQ(0, replies.n);
		msgs_free(&replies);
	}
}

TEST_F(genl, peer_new_get_set_del_round_trip)
{
	struct nl_ack ack;

	SET_BASE_NODE(&self->nl);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);
	ASSERT_PEER(&self->nl, PEER_ID, ADDR_A);
	ASSERT_PEER_COUNT(&self->nl, 1);

	peer_change(&self->nl, MIGTCP_CMD_PEER_SET, PEER_ID, ADDR_B, &ack);
	ASSERT_OK(ack);
	ASSERT_PEER(&self->nl, PEER_ID, ADDR_B);
	ASSERT_PEER_COUNT(&self->nl, 1);

	peer_change(&self->nl, MIGTCP_CMD_PEER_DEL, PEER_ID, NULL, &ack);
	ASSERT_OK(ack);
	ASSERT_NO_PEER(&self->nl, PEER_ID);
	ASSERT_PEER_COUNT(&self->nl, 0);

	/* The id is free again. */
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_B, &ack);
	ASSERT_OK(ack);
	ASSERT_PEER(&self->nl, PEER_ID, ADDR_B);
}

TEST_F(genl, peer_dump_empty)
{
	struct msgs msgs = {};
	struct nl_ack ack;

	dump(&self->nl, MIGTCP_CMD_PEER_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, msgs.n);
}

#define MANY_PEERS	300
#define FIRST_PEER	1000

static void many_peer_addr(int i, char *addr)
{
	snprintf(addr, INET_ADDRSTRLEN, "10.%d.%d.1", (i / 256 + 1) & 255,
		 i % 256);
}

TEST_F(genl, peer_dump_many)
{
	static int seen[MANY_PEERS];
	char addr[INET_ADDRSTRLEN];
	struct msgs msgs = {};
	struct nl_ack ack;
	int i, wrong;

	ASSERT_LE(MANY_PEERS, migtcp_module_param("max_peers"));
	for (i = 0; i < MANY_PEERS; i++) {
		many_peer_addr(i, addr);
		peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, FIRST_PEER + i,
			    addr, &ack);
		ASSERT_OK(ack);
	}
	ASSERT_PEER_COUNT(&self->nl, MANY_PEERS);

	dump(&self->nl, MIGTCP_CMD_PEER_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, ack.intr);
	/* 300 parts of 40 bytes cannot come in fewer than 3 reads of 4 KiB. */
	ASSERT_LE(3, ack.reads);
	ASSERT_EQ(MANY_PEERS, msgs.n);
	for (i = 0; i < msgs.n; i++) {
		struct peer_state p;
		long k;

		ASSERT_EQ(NLM_F_MULTI, msgs.m[i]->nlmsg_flags & NLM_F_MULTI);
		parse_peer(msgs.m[i], &p);
		ASSERT_EQ(MIGTCP_CMD_PEER_GET, p.r.cmd);
		ASSERT_EQ(BIT(MIGTCP_A_PEER), p.r.attrs);
		ASSERT_EQ(PEER_ATTRS, p.r.nest_attrs);
		ASSERT_EQ(0, p.r.bad);
		k = p.id - FIRST_PEER;
		ASSERT_TRUE(k >= 0 && k < MANY_PEERS) TH_LOG("id %ld", p.id);
		seen[k]++;
		many_peer_addr(k, addr);
		ASSERT_STREQ(addr, p.addr);
	}
	for (i = 0, wrong = -1; i < MANY_PEERS && wrong < 0; i++)
		if (seen[i] != 1)
			wrong = i;
	ASSERT_EQ(-1, wrong) TH_LOG("peer %d came back %d times",
				    FIRST_PEER + wrong, seen[wrong]);
	msgs_free(&msgs);
}

/* Builds PEER_NEW/SET/DEL/GET or a PEER_GET dump on one bad nest. */
struct bad_peer {
	const char *what;
	uint16_t type;		/* the bad attribute in the nest */
	uint16_t len;
	uint32_t value;
	int err;
	const char *msg;
};

static const struct bad_peer bad_peers[] = {
	{ "id 0", MIGTCP_PEER_A_ID, 4, 0, ERANGE, MSG_INT_RANGE },
	{ "id of 2 bytes", MIGTCP_PEER_A_ID, 2, 8, EINVAL, MSG_ATTR_LEN },
	{ "address of 3 bytes", MIGTCP_PEER_A_ADDR_IN, 3, 0x0100a8c0,
	  ERANGE, MSG_BIN_SIZE },
	{ "address of 8 bytes", MIGTCP_PEER_A_ADDR_IN, 8, 0x0100a8c0,
	  ERANGE, MSG_BIN_SIZE },
	{ "IPv6 address of 4 bytes", MIGTCP_PEER_A_ADDR_IN6, 4, 0x0100a8c0,
	  ERANGE, MSG_BIN_SIZE },
	{ "IPv6 address of 15 bytes", MIGTCP_PEER_A_ADDR_IN6, 15, 0xb80d0120,
	  ERANGE, MSG_BIN_SIZE },
	{ "IPv6 address of 17 bytes", MIGTCP_PEER_A_ADDR_IN6, 17, 0xb80d0120,
	  ERANGE, MSG_BIN_SIZE },
};

static const struct {
	uint8_t cmd;
	uint16_t flags;
} peer_cmds[] = {
	{ MIGTCP_CMD_PEER_NEW, NLM_F_ACK },
	{ MIGTCP_CMD_PEER_SET, NLM_F_ACK },
	{ MIGTCP_CMD_PEER_DEL, NLM_F_ACK },
	{ MIGTCP_CMD_PEER_GET, NLM_F_ACK },
	{ MIGTCP_CMD_PEER_GET, NLM_F_DUMP },
};

TEST_F(genl, peer_policy_violations)
{
	uint8_t payload[20] = {};
	struct nl_ack ack;
	unsigned int i, j;

	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);
	ASSERT_PEER(&self->nl, PEER_ID, ADDR_A);
	for (i = 0; i < ARRAY_SIZE(peer_cmds); i++) {
		for (j = 0; j < ARRAY_SIZE(bad_peers); j++) {
			const struct bad_peer *b = &bad_peers[j];
			struct msgs replies = {};
			struct nlmsghdr *nlh;
			struct nlattr *nest;
			struct req r;
			long offs;

			TH_LOG("cmd %d flags 0x%x: %s", peer_cmds[i].cmd,
			       peer_cmds[i].flags, b->what);
			memcpy(payload, &b->value, sizeof(b->value));
			nlh = mig_req(&r, &self->nl, peer_cmds[i].cmd,
				      peer_cmds[i].flags);
			nest_start(nlh, MIGTCP_A_PEER, &nest);
			if (b->type != MIGTCP_PEER_A_ID)
				put_u32(nlh, MIGTCP_PEER_A_ID, PEER_ID);
			if (b->type != MIGTCP_PEER_A_ADDR_IN)
				put_in4(nlh, MIGTCP_PEER_A_ADDR_IN, ADDR_B);
			offs = put(nlh, b->type, b->len, payload);
			mnl_attr_nest_end(nlh, nest);
			nl_talk(&self->nl, nlh, &replies, &ack);
			ASSERT_ANSWER(b->err, b->msg, ack);
			ASSERT_BLAMES(offs, ack);
			ASSERT_EQ(0, replies.n);
			msgs_free(&replies);
		}
	}

	/* A nest without NLA_F_NESTED. */
	for (i = 0; i < ARRAY_SIZE(peer_cmds); i++) {
		struct nlmsghdr *nlh;
		struct nlattr *nest;
		struct req r;
		long offs;

		nlh = mig_req(&r, &self->nl, peer_cmds[i].cmd,
			      peer_cmds[i].flags);
		offs = nest_start(nlh, MIGTCP_A_PEER, &nest);
		put_u32(nlh, MIGTCP_PEER_A_ID, PEER_ID);
		put_in4(nlh, MIGTCP_PEER_A_ADDR_IN, ADDR_B);
		mnl_attr_nest_end(nlh, nest);
		nest->nla_type &= ~NLA_F_NESTED;
		nl_talk(&self->nl, nlh, NULL, &ack);
		ASSERT_ANSWER(EINVAL, MSG_NOT_NESTED, ack);
		ASSERT_BLAMES(offs, ack);
	}
	ASSERT_PEER(&self->nl, PEER_ID, ADDR_A);
	ASSERT_PEER_COUNT(&self->nl, 1);
}

TEST_F(genl, peer_nest_missing)
{
	static const uint8_t cmds[] = {
		MIGTCP_CMD_PEER_NEW, MIGTCP_CMD_PEER_SET, MIGTCP_CMD_PEER_DEL,
		MIGTCP_CMD_PEER_GET,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		struct msgs replies = {};
		struct nl_ack ack;
		struct req r;

		nl_talk(&self->nl, doit_req(&r, &self->nl, cmds[i]), &replies,
			&ack);
		ASSERT_ANSWER(EINVAL, MSG_MISSING_PEER, ack);
		ASSERT_MISSING(MIGTCP_A_PEER, -1, ack);
		ASSERT_EQ(0, replies.n);
		msgs_free(&replies);
	}
}

TEST_F(genl, peer_id_missing)
{
	static const uint8_t cmds[] = {
		MIGTCP_CMD_PEER_NEW, MIGTCP_CMD_PEER_SET, MIGTCP_CMD_PEER_DEL,
		MIGTCP_CMD_PEER_GET,
	};
	unsigned int i, empty;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (empty = 0; empty < 2; empty++) {
			struct msgs replies = {};
			struct nlmsghdr *nlh;
			struct nlattr *nest;
			struct nl_ack ack;
			struct req r;
			long offs;

			nlh = doit_req(&r, &self->nl, cmds[i]);
			offs = nest_start(nlh, MIGTCP_A_PEER, &nest);
			if (!empty)
				put_in4(nlh, MIGTCP_PEER_A_ADDR_IN, ADDR_A);
			mnl_attr_nest_end(nlh, nest);
			nl_talk(&self->nl, nlh, &replies, &ack);
			ASSERT_ANSWER(EINVAL, MSG_MISSING_ID, ack);
			ASSERT_MISSING(MIGTCP_PEER_A_ID, offs, ack);
			ASSERT_EQ(0, replies.n);
			msgs_free(&replies);
		}
	}
	ASSERT_PEER_COUNT(&self->nl, 0);
}

TEST_F(genl, peer_address_missing)
{
	static const uint8_t cmds[] = {
		MIGTCP_CMD_PEER_NEW, MIGTCP_CMD_PEER_SET,
	};
	struct nl_ack ack;
	unsigned int i;

	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		struct nlmsghdr *nlh;
		struct nlattr *nest;
		struct req r;
		long offs;

		nlh = doit_req(&r, &self->nl, cmds[i]);
		offs = nest_start(nlh, MIGTCP_A_PEER, &nest);
		put_u32(nlh, MIGTCP_PEER_A_ID,
			cmds[i] == MIGTCP_CMD_PEER_NEW ? NEW_PEER_ID : PEER_ID);
		mnl_attr_nest_end(nlh, nest);
		nl_change(&self->nl, nlh, &ack);
		ASSERT_ANSWER(EINVAL, MSG_MISSING_ADDR, ack);
		ASSERT_MISSING(MIGTCP_PEER_A_ADDR_IN, offs, ack);
	}
	ASSERT_PEER(&self->nl, PEER_ID, ADDR_A);
	ASSERT_NO_PEER(&self->nl, NEW_PEER_ID);
	/* PEER_DEL and PEER_GET need only the id. */
	peer_change(&self->nl, MIGTCP_CMD_PEER_DEL, PEER_ID, NULL, &ack);
	ASSERT_OK(ack);
	ASSERT_PEER_COUNT(&self->nl, 0);
}

/* A peer with an IPv6 address alone: PEER_GET reports it and no IPv4 one. */
TEST_F(genl, peer_ipv6_only_round_trip)
{
	struct nl_ack ack;

	SET_BASE_NODE(&self->nl);
	peer_change6(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, NULL, ADDR6_A,
		     &ack);
	ASSERT_OK(ack);
	ASSERT_PEER6(&self->nl, PEER_ID, NULL, ADDR6_A);
	ASSERT_PEER_COUNT(&self->nl, 1);
}

/* A peer with both addresses: PEER_GET reports both. */
TEST_F(genl, peer_both_addresses_round_trip)
{
	struct nl_ack ack;

	SET_BASE_NODE(&self->nl);
	peer_change6(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, ADDR6_A,
		     &ack);
	ASSERT_OK(ack);
	ASSERT_PEER6(&self->nl, PEER_ID, ADDR_A, ADDR6_A);
	ASSERT_PEER_COUNT(&self->nl, 1);
}

/*
 * PEER_SET replaces both addresses: the family a request leaves out is
 * unset, either way round.
 */
TEST_F(genl, peer_set_replaces_both_addresses)
{
	struct nl_ack ack;

	SET_BASE_NODE(&self->nl);
	peer_change6(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, ADDR6_A,
		     &ack);
	ASSERT_OK(ack);

	peer_change6(&self->nl, MIGTCP_CMD_PEER_SET, PEER_ID, ADDR_B, NULL,
		     &ack);
	ASSERT_OK(ack);
	ASSERT_PEER6(&self->nl, PEER_ID, ADDR_B, NULL);

	peer_change6(&self->nl, MIGTCP_CMD_PEER_SET, PEER_ID, NULL, ADDR6_B,
		     &ack);
	ASSERT_OK(ack);
	ASSERT_PEER6(&self->nl, PEER_ID, NULL, ADDR6_B);

	peer_change6(&self->nl, MIGTCP_CMD_PEER_SET, PEER_ID, ADDR_A, ADDR6_A,
		     &ack);
	ASSERT_OK(ack);
	ASSERT_PEER6(&self->nl, PEER_ID, ADDR_A, ADDR6_A);
	ASSERT_PEER_COUNT(&self->nl, 1);
}

/* A dump reports each peer's addresses, whichever it has. */
TEST_F(genl, peer_dump_reports_ipv6)
{
	static const struct {
		long id;
		const char *addr4, *addr6;
	} peers[] = {
		{ PEER_ID, ADDR_A, NULL },
		{ NEW_PEER_ID, NULL, ADDR6_A },
		{ OTHER_ID, ADDR_B, ADDR6_B },
	};
	unsigned int seen[ARRAY_SIZE(peers)] = {};
	struct msgs msgs = {};
	struct nl_ack ack;
	unsigned int i, k;

	SET_BASE_NODE(&self->nl);
	for (i = 0; i < ARRAY_SIZE(peers); i++) {
		peer_change6(&self->nl, MIGTCP_CMD_PEER_NEW, peers[i].id,
			     peers[i].addr4, peers[i].addr6, &ack);
		ASSERT_OK(ack);
	}

	dump(&self->nl, MIGTCP_CMD_PEER_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, ack.intr);
	ASSERT_EQ((int)ARRAY_SIZE(peers), msgs.n);
	for (i = 0; i < (unsigned int)msgs.n; i++) {
		struct peer_state p;

		parse_peer(msgs.m[i], &p);
		ASSERT_EQ(MIGTCP_CMD_PEER_GET, p.r.cmd);
		ASSERT_EQ(BIT(MIGTCP_A_PEER), p.r.attrs);
		ASSERT_EQ(0, p.r.bad);
		k = 0;
		while (k < ARRAY_SIZE(peers) && peers[k].id != p.id)
			k++;
		ASSERT_GT(ARRAY_SIZE(peers), k) TH_LOG("id %ld", p.id);
		seen[k]++;
		ASSERT_EQ(peer_attrs(peers[k].addr4, peers[k].addr6),
			  p.r.nest_attrs);
		ASSERT_STREQ(or_none(peers[k].addr4), p.addr);
		ASSERT_STREQ(or_none(peers[k].addr6), p.addr6);
	}
	for (k = 0; k < ARRAY_SIZE(peers); k++)
		ASSERT_EQ(1U, seen[k]) TH_LOG("peer %ld", peers[k].id);
	msgs_free(&msgs);
}

/*
 * PEER_NEW and PEER_SET with an unusable IPv6 address, alone or beside a
 * valid IPv4 one: EINVAL blaming it, and the table is unchanged.
 */
TEST_F(genl, peer_ipv6_address_not_usable)
{
	static const uint8_t cmds[] = {
		MIGTCP_CMD_PEER_NEW, MIGTCP_CMD_PEER_SET,
	};
	struct nl_ack ack;
	unsigned int i, j, with_in4;

	peer_change6(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, ADDR6_A,
		     &ack);
	ASSERT_OK(ack);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (j = 0; j < ARRAY_SIZE(not_usable6); j++) {
			for (with_in4 = 0; with_in4 < 2; with_in4++) {
				struct nlmsghdr *nlh;
				struct nlattr *nest;
				struct req r;
				long offs;

				TH_LOG("cmd %d, %s%s", cmds[i], not_usable6[j],
				       with_in4 ? " beside " ADDR_B : "");
				nlh = doit_req(&r, &self->nl, cmds[i]);
				nest_start(nlh, MIGTCP_A_PEER, &nest);
				put_u32(nlh, MIGTCP_PEER_A_ID,
					cmds[i] == MIGTCP_CMD_PEER_NEW ?
					NEW_PEER_ID : PEER_ID);
				if (with_in4)
					put_in4(nlh, MIGTCP_PEER_A_ADDR_IN,
						ADDR_B);
				offs = put_in6(nlh, MIGTCP_PEER_A_ADDR_IN6,
					       not_usable6[j]);
				mnl_attr_nest_end(nlh, nest);
				nl_change(&self->nl, nlh, &ack);
				ASSERT_ANSWER(EINVAL, MSG_NOT_UNICAST6, ack);
				ASSERT_BLAMES(offs, ack);
			}
		}
	}
	ASSERT_PEER6(&self->nl, PEER_ID, ADDR_A, ADDR6_A);
	ASSERT_NO_PEER(&self->nl, NEW_PEER_ID);
	ASSERT_PEER_COUNT(&self->nl, 1);
}

TEST_F(genl, peer_address_not_unicast)
{
	static const uint8_t cmds[] = {
		MIGTCP_CMD_PEER_NEW, MIGTCP_CMD_PEER_SET,
	};
	struct nl_ack ack;
	unsigned int i, j;

	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (j = 0; j < ARRAY_SIZE(not_unicast); j++) {
			struct nlmsghdr *nlh;
			struct nlattr *nest;
			struct req r;
			long offs;

			TH_LOG("cmd %d, %s", cmds[i], not_unicast[j]);
			nlh = doit_req(&r, &self->nl, cmds[i]);
			nest_start(nlh, MIGTCP_A_PEER, &nest);
			put_u32(nlh, MIGTCP_PEER_A_ID,
				cmds[i] == MIGTCP_CMD_PEER_NEW ?
				NEW_PEER_ID : PEER_ID);
			offs = put_in4(nlh, MIGTCP_PEER_A_ADDR_IN,
				       not_unicast[j]);
			mnl_attr_nest_end(nlh, nest);
			nl_change(&self->nl, nlh, &ack);
			ASSERT_ANSWER(EINVAL, MSG_NOT_UNICAST, ack);
			ASSERT_BLAMES(offs, ack);
		}
	}
	ASSERT_PEER(&self->nl, PEER_ID, ADDR_A);
	ASSERT_NO_PEER(&self->nl, NEW_PEER_ID);
	ASSERT_PEER_COUNT(&self->nl, 1);
}

TEST_F(genl, peer_duplicate_rejected)
{
	struct nl_ack ack;

	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_B, &ack);
	ASSERT_ANSWER(EEXIST, MSG_PEER_EXISTS, ack);
	ASSERT_BLAMES(-1, ack);
	ASSERT_PEER(&self->nl, PEER_ID, ADDR_A);
	ASSERT_PEER_COUNT(&self->nl, 1);
}

TEST_F(genl, peer_own_id_rejected)
{
	struct nl_ack ack;

	SET_BASE_NODE(&self->nl);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, NODE_ID, ADDR_A, &ack);
	ASSERT_ANSWER(EINVAL, MSG_OWN_ID, ack);
	ASSERT_BLAMES(-1, ack);
	ASSERT_NO_PEER(&self->nl, NODE_ID);
	ASSERT_PEER_COUNT(&self->nl, 0);
}

TEST_F(genl, peer_unknown_id)
{
	struct peer_state p;
	struct nl_ack ack;

	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);

	peer_change(&self->nl, MIGTCP_CMD_PEER_SET, NEW_PEER_ID, ADDR_B, &ack);
	ASSERT_ANSWER(ENOENT, MSG_NO_PEER, ack);
	ASSERT_BLAMES(-1, ack);
	peer_change(&self->nl, MIGTCP_CMD_PEER_DEL, NEW_PEER_ID, NULL, &ack);
	ASSERT_ANSWER(ENOENT, MSG_NO_PEER, ack);
	ASSERT_BLAMES(-1, ack);
	peer_get(&self->nl, NEW_PEER_ID, &p, &ack);
	ASSERT_ANSWER(ENOENT, MSG_NO_PEER, ack);
	ASSERT_BLAMES(-1, ack);
	ASSERT_NO_PEER(&self->nl, NEW_PEER_ID);
	ASSERT_PEER(&self->nl, PEER_ID, ADDR_A);

	/* Deleted is unknown too. */
	peer_change(&self->nl, MIGTCP_CMD_PEER_DEL, PEER_ID, NULL, &ack);
	ASSERT_OK(ack);
	peer_change(&self->nl, MIGTCP_CMD_PEER_DEL, PEER_ID, NULL, &ack);
	ASSERT_ANSWER(ENOENT, MSG_NO_PEER, ack);
	peer_change(&self->nl, MIGTCP_CMD_PEER_SET, PEER_ID, ADDR_B, &ack);
	ASSERT_ANSWER(ENOENT, MSG_NO_PEER, ack);
	ASSERT_PEER_COUNT(&self->nl, 0);
}

TEST_F(genl, key_never_returned)
{
	uint8_t key[MIGTCP_KEY_LEN], key2[MIGTCP_KEY_LEN];
	struct mnl_socket *listener;
	struct msgs msgs = {};
	struct nlmsghdr *nlh;
	struct node_state st;
	struct nl_ack ack;
	struct req r;

	fill_key(key, 0xa7);
	fill_key(key2, 0x3c);
	listener = listener_open(&self->nl);
	ASSERT_NE(NULL, listener);

	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, NODE_ID);
	put(nlh, MIGTCP_A_NODE_KEY, sizeof(key), key);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);

	nl_get(&self->nl, doit_req(&r, &self->nl, MIGTCP_CMD_NODE_GET), &msgs,
	       &ack);
	ASSERT_OK(ack);
	parse_node(msgs.m[0], &st);
	ASSERT_EQ(NODE_ATTRS, st.r.attrs);
	ASSERT_EQ(0, st.r.bad);
	ASSERT_EQ(1, st.key_set);
	ASSERT_FALSE(holds_key(msgs.m[0], key));
	msgs_free(&msgs);

	ASSERT_EQ(0, listener_drain(listener, &msgs));
	ASSERT_EQ(1, msgs.n);
	ASSERT_FALSE(holds_key(msgs.m[0], key));
	msgs_free(&msgs);

	/* A new key replaces the old one: still set, still hidden. */
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put(nlh, MIGTCP_A_NODE_KEY, sizeof(key2), key2);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);
	nl_get(&self->nl, doit_req(&r, &self->nl, MIGTCP_CMD_NODE_GET), &msgs,
	       &ack);
	ASSERT_OK(ack);
	parse_node(msgs.m[0], &st);
	ASSERT_EQ(1, st.key_set);
	ASSERT_EQ(NODE_ATTRS, st.r.attrs);
	ASSERT_FALSE(holds_key(msgs.m[0], key2));
	msgs_free(&msgs);
	ASSERT_EQ(0, listener_drain(listener, &msgs));
	ASSERT_EQ(1, msgs.n);
	ASSERT_FALSE(holds_key(msgs.m[0], key2));
	msgs_free(&msgs);
	mnl_socket_close(listener);
}

/* A notification: from the kernel, unsolicited, of the migtcp family. */
#define ASSERT_NOTIFICATION(nl, m) do {					\
	ASSERT_EQ((nl)->family, (m)->nlmsg_type);			\
	ASSERT_EQ(0U, (m)->nlmsg_pid);					\
	ASSERT_EQ(0U, (m)->nlmsg_seq);					\
} while (0)

TEST_F(genl, notify_node_set)
{
	uint8_t key[MIGTCP_KEY_LEN];
	struct mnl_socket *listener;
	struct msgs msgs = {};
	struct nlmsghdr *nlh;
	struct node_state st;
	struct nl_ack ack;
	struct req r;

	fill_key(key, 0x42);
	listener = listener_open(&self->nl);
	ASSERT_NE(NULL, listener);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, listener_drain(listener, &msgs));
	ASSERT_EQ(1, msgs.n);
	msgs_free(&msgs);

	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, NODE_ID);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, NODE_ADDR);
	put(nlh, MIGTCP_A_NODE_KEY, sizeof(key), key);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MIN, 40000);
	put_u16(nlh, MIGTCP_A_NODE_PORT_MAX, 40099);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);

	ASSERT_EQ(0, listener_drain(listener, &msgs));
	ASSERT_EQ(1, msgs.n);
	ASSERT_NOTIFICATION(&self->nl, msgs.m[0]);
	parse_node(msgs.m[0], &st);
	ASSERT_EQ(MIGTCP_CMD_NODE_SET, st.r.cmd);
	ASSERT_EQ(NODE_ATTRS | BIT(MIGTCP_A_NODE_ADDR_IN), st.r.attrs);
	ASSERT_EQ(0, st.r.bad);
	ASSERT_EQ(NODE_ID, st.id);
	ASSERT_STREQ(NODE_ADDR, st.addr);
	ASSERT_EQ(1, st.key_set);
	ASSERT_EQ(40000, st.port_min);
	ASSERT_EQ(40099, st.port_max);
	ASSERT_EQ(1, st.peer_count);
	ASSERT_EQ(migtcp_module_param("max_peers"), st.peer_max);
	ASSERT_FALSE(holds_key(msgs.m[0], key));
	msgs_free(&msgs);

	/* A partial change announces the whole resulting node. */
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, ADDR_B);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, listener_drain(listener, &msgs));
	ASSERT_EQ(1, msgs.n);
	parse_node(msgs.m[0], &st);
	ASSERT_EQ(MIGTCP_CMD_NODE_SET, st.r.cmd);
	ASSERT_EQ(NODE_ATTRS | BIT(MIGTCP_A_NODE_ADDR_IN), st.r.attrs);
	ASSERT_EQ(NODE_ID, st.id);
	ASSERT_STREQ(ADDR_B, st.addr);
	ASSERT_EQ(1, st.key_set);
	ASSERT_EQ(40000, st.port_min);
	ASSERT_EQ(40099, st.port_max);
	msgs_free(&msgs);
	mnl_socket_close(listener);
}

/* The NODE_SET notification carries the IPv6 address, alone or not. */
TEST_F(genl, notify_node_set_ipv6)
{
	struct mnl_socket *listener;
	struct msgs msgs = {};
	struct nlmsghdr *nlh;
	struct node_state st;
	struct nl_ack ack;
	struct req r;

	listener = listener_open(&self->nl);
	ASSERT_NE(NULL, listener);

	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_u32(nlh, MIGTCP_A_NODE_ID, NODE_ID);
	put_in6(nlh, MIGTCP_A_NODE_ADDR_IN6, NODE_ADDR6);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, listener_drain(listener, &msgs));
	ASSERT_EQ(1, msgs.n);
	ASSERT_NOTIFICATION(&self->nl, msgs.m[0]);
	parse_node(msgs.m[0], &st);
	ASSERT_EQ(MIGTCP_CMD_NODE_SET, st.r.cmd);
	ASSERT_EQ(NODE_ATTRS | BIT(MIGTCP_A_NODE_ADDR_IN6), st.r.attrs);
	ASSERT_EQ(0, st.r.bad);
	ASSERT_EQ(NODE_ID, st.id);
	ASSERT_STREQ("", st.addr);
	ASSERT_STREQ(NODE_ADDR6, st.addr6);
	msgs_free(&msgs);

	/* Setting the IPv4 address announces both. */
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, NODE_ADDR);
	nl_change(&self->nl, nlh, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, listener_drain(listener, &msgs));
	ASSERT_EQ(1, msgs.n);
	ASSERT_NOTIFICATION(&self->nl, msgs.m[0]);
	parse_node(msgs.m[0], &st);
	ASSERT_EQ(MIGTCP_CMD_NODE_SET, st.r.cmd);
	ASSERT_EQ(NODE_ATTRS | BIT(MIGTCP_A_NODE_ADDR_IN) |
		  BIT(MIGTCP_A_NODE_ADDR_IN6), st.r.attrs);
	ASSERT_EQ(0, st.r.bad);
	ASSERT_EQ(NODE_ID, st.id);
	ASSERT_STREQ(NODE_ADDR, st.addr);
	ASSERT_STREQ(NODE_ADDR6, st.addr6);
	msgs_free(&msgs);
	mnl_socket_close(listener);
}

/*
 * Exactly one notification is queued, for @cmd on peer @id at exactly
 * @addr4 and @addr6 (NULL: that one absent).
 */
#define ASSERT_PEER6_NOTIFIED(l, nl, want_cmd, want_id, want4, want6) do { \
	struct msgs __m = {};						\
	struct peer_state __p;						\
									\
	ASSERT_EQ(0, listener_drain(l, &__m));				\
	ASSERT_EQ(1, __m.n);						\
	ASSERT_NOTIFICATION(nl, __m.m[0]);				\
	parse_peer(__m.m[0], &__p);					\
	ASSERT_EQ(want_cmd, __p.r.cmd);					\
	ASSERT_EQ(BIT(MIGTCP_A_PEER), __p.r.attrs);			\
	ASSERT_EQ(peer_attrs(want4, want6), __p.r.nest_attrs);		\
	ASSERT_EQ(0, __p.r.bad);						\
	ASSERT_EQ(want_id, __p.id);					\
	ASSERT_STREQ(or_none(want4), __p.addr);				\
	ASSERT_STREQ(or_none(want6), __p.addr6);			\
	msgs_free(&__m);						\
} while (0)

/* ... for @cmd on peer @id at IPv4 address @addr alone. */
#define ASSERT_PEER_NOTIFIED(l, nl, want_cmd, want_id, want_addr)	\
	ASSERT_PEER6_NOTIFIED(l, nl, want_cmd, want_id, want_addr, NULL)

TEST_F(genl, notify_peer_changes)
{
	struct mnl_socket *listener;
	struct nl_ack ack;

	listener = listener_open(&self->nl);
	ASSERT_NE(NULL, listener);

	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);
	ASSERT_PEER_NOTIFIED(listener, &self->nl, MIGTCP_CMD_PEER_NEW,
			     PEER_ID, ADDR_A);
	peer_change(&self->nl, MIGTCP_CMD_PEER_SET, PEER_ID, ADDR_B, &ack);
	ASSERT_OK(ack);
	ASSERT_PEER_NOTIFIED(listener, &self->nl, MIGTCP_CMD_PEER_SET,
			     PEER_ID, ADDR_B);
	/* A deletion names what was deleted. */
	peer_change(&self->nl, MIGTCP_CMD_PEER_DEL, PEER_ID, NULL, &ack);
	ASSERT_OK(ack);
	ASSERT_PEER_NOTIFIED(listener, &self->nl, MIGTCP_CMD_PEER_DEL,
			     PEER_ID, ADDR_B);
	mnl_socket_close(listener);
}

/* Peer notifications carry the addresses the peer has, IPv6 included. */
TEST_F(genl, notify_peer_ipv6_changes)
{
	struct mnl_socket *listener;
	struct nl_ack ack;

	listener = listener_open(&self->nl);
	ASSERT_NE(NULL, listener);

	peer_change6(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, ADDR6_A,
		     &ack);
	ASSERT_OK(ack);
	ASSERT_PEER6_NOTIFIED(listener, &self->nl, MIGTCP_CMD_PEER_NEW,
			      PEER_ID, ADDR_A, ADDR6_A);
	peer_change6(&self->nl, MIGTCP_CMD_PEER_SET, PEER_ID, NULL, ADDR6_B,
		     &ack);
	ASSERT_OK(ack);
	ASSERT_PEER6_NOTIFIED(listener, &self->nl, MIGTCP_CMD_PEER_SET,
			      PEER_ID, NULL, ADDR6_B);
	/* A deletion names what was deleted. */
	peer_change(&self->nl, MIGTCP_CMD_PEER_DEL, PEER_ID, NULL, &ack);
	ASSERT_OK(ack);
	ASSERT_PEER6_NOTIFIED(listener, &self->nl, MIGTCP_CMD_PEER_DEL,
			      PEER_ID, NULL, ADDR6_B);
	mnl_socket_close(listener);
}

TEST_F(genl, notify_nothing_for_rejected_requests)
{
	struct mnl_socket *listener;
	struct msgs msgs = {};
	struct nlmsghdr *nlh;
	struct node_state st;
	struct peer_state p;
	struct nl_ack ack;
	struct req r;
	int fd;

	SET_BASE_NODE(&self->nl);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);
	fd = bound_socket(self->family, PORT);
	ASSERT_LE(0, fd);
	listener = listener_open(&self->nl);
	ASSERT_NE(NULL, listener);

	nl_change(&self->nl, doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET),
		  &ack);
	ASSERT_ANSWER(EINVAL, MSG_NOTHING_TO_SET, ack);
	nlh = doit_req(&r, &self->nl, MIGTCP_CMD_NODE_SET);
	put_in4(nlh, MIGTCP_A_NODE_ADDR_IN, "224.0.0.1");
	nl_change(&self->nl, nlh, &ack);
	ASSERT_ANSWER(EINVAL, MSG_NOT_UNICAST, ack);
	set_node_id(&self->nl, 0, &ack);
	ASSERT_ANSWER(ERANGE, MSG_INT_RANGE, ack);
	set_node_id(&self->nl, PEER_ID, &ack);
	ASSERT_ANSWER(EEXIST, MSG_ID_IS_PEER, ack);
	set_node_id(&self->nl, OTHER_ID, &ack);
	ASSERT_ANSWER(EBUSY, MSG_BUSY, ack);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_B, &ack);
	ASSERT_ANSWER(EEXIST, MSG_PEER_EXISTS, ack);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, NODE_ID, ADDR_B, &ack);
	ASSERT_ANSWER(EINVAL, MSG_OWN_ID, ack);
	peer_change(&self->nl, MIGTCP_CMD_PEER_SET, NEW_PEER_ID, ADDR_B, &ack);
	ASSERT_ANSWER(ENOENT, MSG_NO_PEER, ack);
	peer_change(&self->nl, MIGTCP_CMD_PEER_DEL, NEW_PEER_ID, NULL, &ack);
	ASSERT_ANSWER(ENOENT, MSG_NO_PEER, ack);
	/* Nor for reads. */
	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	peer_get(&self->nl, PEER_ID, &p, &ack);
	ASSERT_OK(ack);

	ASSERT_EQ(0, listener_drain(listener, &msgs));
	ASSERT_EQ(0, msgs.n);

	/* The listener does hear a change that happens. */
	set_node_id(&self->nl, NODE_ID, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, listener_drain(listener, &msgs));
	ASSERT_EQ(1, msgs.n);
	msgs_free(&msgs);
	mnl_socket_close(listener);
	close(fd);
}

TEST_F(genl, notify_stays_in_netns)
{
	struct mnl_socket *listener_a, *listener_b;
	struct msgs msgs = {};
	struct nl_ack ack;
	struct nl nl_b;
	int netns_a;

	netns_a = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, netns_a);
	listener_a = listener_open(&self->nl);
	ASSERT_NE(NULL, listener_a);

	ASSERT_EQ(0, migtcp_test_new_netns());
	ASSERT_EQ(0, nl_open(&nl_b));
	listener_b = listener_open(&nl_b);
	ASSERT_NE(NULL, listener_b);
	set_node_id(&nl_b, OTHER_ID, &ack);
	ASSERT_OK(ack);
	peer_change(&nl_b, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_B, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, listener_drain(listener_a, &msgs));
	ASSERT_EQ(0, msgs.n);
	ASSERT_EQ(0, listener_drain(listener_b, &msgs));
	ASSERT_EQ(2, msgs.n);
	ASSERT_EQ(MIGTCP_CMD_NODE_SET, genl_cmd(msgs.m[0]));
	ASSERT_EQ(MIGTCP_CMD_PEER_NEW, genl_cmd(msgs.m[1]));
	msgs_free(&msgs);

	/* A change in the first node reaches its listener, not B's. */
	ASSERT_EQ(0, setns(netns_a, CLONE_NEWNET));
	set_node_id(&self->nl, NODE_ID, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, listener_drain(listener_b, &msgs));
	ASSERT_EQ(0, msgs.n);
	ASSERT_EQ(0, listener_drain(listener_a, &msgs));
	ASSERT_EQ(1, msgs.n);
	ASSERT_EQ(MIGTCP_CMD_NODE_SET, genl_cmd(msgs.m[0]));
	msgs_free(&msgs);

	mnl_socket_close(listener_a);
	mnl_socket_close(listener_b);
	nl_close(&nl_b);
	close(netns_a);
}

TEST_F(genl, peer_tables_isolated)
{
	struct msgs msgs = {};
	struct node_state st;
	struct nl_ack ack;
	struct nl nl_b;
	int netns_a;

	SET_BASE_NODE(&self->nl);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);
	netns_a = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, netns_a);

	ASSERT_EQ(0, migtcp_test_new_netns());
	ASSERT_EQ(0, nl_open(&nl_b));
	node_get(&nl_b, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, st.id);
	ASSERT_STREQ("", st.addr);
	ASSERT_EQ(0, st.peer_count);
	ASSERT_NO_PEER(&nl_b, PEER_ID);
	dump(&nl_b, MIGTCP_CMD_PEER_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, msgs.n);

	/* The same ids mean other things here. */
	set_node_id(&nl_b, PEER_ID, &ack);
	ASSERT_OK(ack);
	peer_change(&nl_b, MIGTCP_CMD_PEER_NEW, NODE_ID, ADDR_B, &ack);
	ASSERT_OK(ack);
	ASSERT_PEER(&nl_b, NODE_ID, ADDR_B);
	ASSERT_NO_PEER(&nl_b, PEER_ID);

	ASSERT_EQ(0, setns(netns_a, CLONE_NEWNET));
	/* A socket opened now lives in the first node again. */
	nl_close(&nl_b);
	ASSERT_EQ(0, nl_open(&nl_b));
	ASSERT_BASE_NODE(&nl_b);
	ASSERT_PEER(&nl_b, PEER_ID, ADDR_A);
	ASSERT_NO_PEER(&nl_b, NODE_ID);
	ASSERT_PEER_COUNT(&nl_b, 1);
	nl_close(&nl_b);
	close(netns_a);
}

#define ASSERT_SOCK(st, ino, want_state, node, port) do {		\
	ASSERT_EQ(MIGTCP_CMD_SOCK_GET, (st).r.cmd);			\
	ASSERT_EQ(BIT(MIGTCP_A_SOCK), (st).r.attrs);			\
	ASSERT_EQ(SOCK_ATTRS, (st).r.nest_attrs);				\
	ASSERT_EQ(0, (st).r.bad);						\
	ASSERT_EQ((uint64_t)(ino), (st).inode);				\
	ASSERT_EQ(want_state, (st).state);				\
	ASSERT_EQ(node, (st).local_node);				\
	ASSERT_EQ(port, (st).local_port);				\
	ASSERT_EQ(0, (st).remote_node);					\
	ASSERT_EQ(0, (st).remote_port);					\
	ASSERT_EQ(0, (st).rx_queue);					\
	ASSERT_EQ(0, (st).tx_queue);					\
	ASSERT_EQ(0, (st).uid);						\
	ASSERT_EQ(MIGTCP_MIG_NONE, (st).migration);			\
	ASSERT_EQ((uint64_t)0, (st).epoch);				\
} while (0)

#define TCP_CLOSE_STATE	7

TEST_F(genl, sock_dump_shows_sockets)
{
	struct sock_state st;
	struct msgs msgs = {};
	struct nl_ack ack;
	uint64_t ino, ino_unbound;
	int fd, unbound;

	dump(&self->nl, MIGTCP_CMD_SOCK_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, msgs.n);

	SET_BASE_NODE(&self->nl);
	fd = bound_socket(self->family, PORT);
	ASSERT_LE(0, fd) TH_LOG("bind: %s", strerror(errno));
	unbound = mig_socket(self->family);
	ASSERT_LE(0, unbound);
	ino = inode_of(fd);
	ino_unbound = inode_of(unbound);
	ASSERT_NE((uint64_t)0, ino);
	ASSERT_NE((uint64_t)0, ino_unbound);

	dump(&self->nl, MIGTCP_CMD_SOCK_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(2, msgs.n);
	ASSERT_EQ(NLM_F_MULTI, msgs.m[0]->nlmsg_flags & NLM_F_MULTI);
	ASSERT_EQ(NLM_F_MULTI, msgs.m[1]->nlmsg_flags & NLM_F_MULTI);
	ASSERT_TRUE(find_sock(&msgs, ino, &st));
	ASSERT_SOCK(st, ino, TCP_CLOSE_STATE, NODE_ID, PORT);
	ASSERT_TRUE(find_sock(&msgs, ino_unbound, &st));
	ASSERT_SOCK(st, ino_unbound, TCP_CLOSE_STATE, 0, 0);
	msgs_free(&msgs);

	close(unbound);
	dump(&self->nl, MIGTCP_CMD_SOCK_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(1, msgs.n);
	ASSERT_TRUE(find_sock(&msgs, ino, &st));
	msgs_free(&msgs);

	close(fd);
	dump(&self->nl, MIGTCP_CMD_SOCK_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, msgs.n);
}

/*
 * Sockets made and closed while a dump or a reading of /proc/net/migtcp
 * is under way, between its parts: CHURN new ones after each part, and
 * the next of the first ones closed.
 */
#define CHURN_FIRST	1500
#define CHURN		50
#define CHURN_MAX	(CHURN_FIRST + 100 * CHURN)

struct churn {
	int family;
	int fd[CHURN_MAX];
	uint64_t ino[CHURN_MAX];
	int n;			/* made */
	int closed;		/* the first ones, closed */
	int parts;
};

static void churn_open(struct churn *c, int count)
{
	while (count-- && c->n < CHURN_MAX) {
		c->fd[c->n] = mig_socket(c->family);
		c->ino[c->n] = c->fd[c->n] >= 0 ? inode_of(c->fd[c->n]) : 0;
		c->n++;
	}
}

static void churn_between(void *arg)
{
	struct churn *c = arg;

	c->parts++;
	churn_open(c, CHURN);
	close(c->fd[c->closed]);
	c->fd[c->closed++] = -1;
}

static void churn_free(struct churn *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	free(c);
}

/*
 * Checks what a listing of @c's sockets showed (*@seen[i]: times socket i
 * was listed): every socket open throughout exactly once, every other at
 * most once.
 */
static void churn_check(struct __test_metadata *_metadata,
			const struct churn *c, const int *seen)
{
	int i, missing = 0, twice = 0;

	for (i = 0; i < c->n; i++) {
		if (seen[i] > 1)
			twice++;
		if (i >= c->closed && i < CHURN_FIRST && seen[i] != 1)
			missing++;
	}
	EXPECT_EQ(0, twice) TH_LOG("%d sockets listed twice", twice);
	EXPECT_EQ(0, missing)
		TH_LOG("%d of the sockets open throughout not listed once",
		       missing);
}

static struct churn *churn_new(struct __test_metadata *_metadata, int family)
{
	struct rlimit rl = { CHURN_MAX + 64, CHURN_MAX + 64 };
	struct churn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->family = family;
	EXPECT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	churn_open(c, CHURN_FIRST);
	EXPECT_EQ(CHURN_FIRST, c->n);
	EXPECT_NE((uint64_t)0, c->ino[CHURN_FIRST - 1])
		TH_LOG("socket: %s", strerror(errno));
	return c;
}

static int churn_index(const struct churn *c, uint64_t ino)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->ino[i] == ino)
			return i;
	return -1;
}

/*
 * A dump goes on after the last socket it gave, not at a count: sockets
 * made or closed between its parts change nothing of what it lists.
 */
TEST_F(genl, sock_dump_resumes_after_the_last_socket)
{
	struct churn *c = churn_new(_metadata, self->family);
	static int seen[CHURN_MAX];
	struct sock_state st;
	struct msgs msgs = {};
	struct nl_ack ack;
	struct req r;
	int i, at;

	ASSERT_NE(NULL, c);
	nl_talk_each(&self->nl, dump_req(&r, &self->nl, MIGTCP_CMD_SOCK_GET),
		     &msgs, &ack, churn_between, c);
	ASSERT_OK(ack);
	ASSERT_LE(3, c->parts) TH_LOG("the dump came in %d parts", c->parts);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < msgs.n; i++) {
		parse_sock(msgs.m[i], &st);
		at = churn_index(c, st.inode);
		if (at >= 0)
			seen[at]++;
	}
	churn_check(_metadata, c, seen);
	msgs_free(&msgs);
	churn_free(c);
}

/* The same for /proc/net/migtcp, read a page at a time. */
TEST_F(genl, proc_sockets_resume_after_the_last_socket)
{
	struct churn *c = churn_new(_metadata, self->family);
	static int seen[CHURN_MAX];
	static char text[1 << 20];
	size_t len = 0;
	ssize_t n;
	char *line;
	int fd, at;

	ASSERT_NE(NULL, c);
	fd = open("/proc/net/migtcp", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	while (len < sizeof(text) - 4096 &&
	       (n = read(fd, text + len, 4096)) > 0) {
		len += n;
		churn_between(c);
	}
	close(fd);
	text[len] = 0;
	ASSERT_LE(3, c->parts) TH_LOG("read in %d parts", c->parts);
	memset(seen, 0, sizeof(seen));
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long ino;
		char *last = strrchr(line, ' ');

		if (!last || sscanf(last, "%llu", &ino) != 1)
			continue;
		at = churn_index(c, ino);
		if (at >= 0)
			seen[at]++;
	}
	churn_check(_metadata, c, seen);
	churn_free(c);
}

TEST_F(genl, sock_dump_stays_in_netns)
{
	struct sock_state st;
	struct msgs msgs = {};
	uint64_t ino_a, ino_b;
	struct nl_ack ack;
	struct nl nl_b;
	int fd_a, fd_b;

	SET_BASE_NODE(&self->nl);
	fd_a = bound_socket(self->family, PORT);
	ASSERT_LE(0, fd_a);
	ino_a = inode_of(fd_a);

	ASSERT_EQ(0, migtcp_test_new_netns());
	ASSERT_EQ(0, nl_open(&nl_b));
	dump(&nl_b, MIGTCP_CMD_SOCK_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, msgs.n);

	/* Same node id and port in another node: no conflict, no mixing. */
	set_node_id(&nl_b, NODE_ID, &ack);
	ASSERT_OK(ack);
	fd_b = bound_socket(self->family, PORT);
	ASSERT_LE(0, fd_b) TH_LOG("bind: %s", strerror(errno));
	ino_b = inode_of(fd_b);
	dump(&nl_b, MIGTCP_CMD_SOCK_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(1, msgs.n);
	ASSERT_TRUE(find_sock(&msgs, ino_b, &st));
	ASSERT_SOCK(st, ino_b, TCP_CLOSE_STATE, NODE_ID, PORT);
	msgs_free(&msgs);

	dump(&self->nl, MIGTCP_CMD_SOCK_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(1, msgs.n);
	ASSERT_TRUE(find_sock(&msgs, ino_a, &st));
	ASSERT_SOCK(st, ino_a, TCP_CLOSE_STATE, NODE_ID, PORT);
	msgs_free(&msgs);

	close(fd_a);
	close(fd_b);
	nl_close(&nl_b);
}

static uint16_t segment_csum(const void *seg, size_t len, int proto)
{
	const uint8_t *p = seg;
	uint32_t sum = 0;
	size_t i;

	/* Pseudo-header: 127.0.0.1 to 127.0.0.1, protocol, length. */
	sum += 2 * (0x7f00 + 0x0001) + proto + len;
	for (i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Sends @count segments to 127.0.0.1; returns 0 or -1. */
static int send_segments(int proto, int count, uint8_t version,
			 uint32_t dst_node, bool good_csum, size_t len)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct migtcphdr h = {
		.version = version,
		.doff = MIGTCP_HDR_MIN_DOFF,
		/* Resets: never answered, so only these segments count. */
		.flags = htons(MIGTCP_F_RST),
		.src_node = htonl(5),
		.dst_node = htonl(dst_node),
		.src_port = htons(1),
		.dst_port = htons(PORT),
	};
	int fd, i, ret = 0;

	if (good_csum)
		h.check = htons(segment_csum(&h, sizeof(h), proto));
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -1;
	for (i = 0; i < count && !ret; i++)
		if (migtcp_test_sendto(fd, &h, len, (struct sockaddr *)&to,
				       sizeof(to)) != (ssize_t)len)
			ret = -1;
	close(fd);
	return ret;
}

TEST_F(genl, stats_match_proc)
{
	/*
	 * InSegs, HdrErrors, CsumErrors, BadVersion, AddrErrors, NoSocket,
	 * WrongNode, OutSegs, OutRsts, OutNoRoute, ListenDrops,
	 * InBacklogDrops
	 */
	static const uint64_t want[__MIGTCP_STAT_MAX] = {
		9, 1, 2, 3, 0, 4, 5, 0, 0, 0, 0, 0
	};
	char names[__MIGTCP_STAT_MAX + 1][32];
	uint64_t proc[__MIGTCP_STAT_MAX + 1];
	int proto = migtcp_proto(), i, n;
	struct stats_state st;
	struct nl_ack ack;

	ASSERT_LT(0, proto);
	SET_BASE_NODE(&self->nl);
	/* Distinct counts, so that a counter in the wrong slot shows. */
	ASSERT_EQ(0, send_segments(proto, 1, 1, NODE_ID, true, 4));
	ASSERT_EQ(0, send_segments(proto, 2, 1, NODE_ID, false,
				   sizeof(struct migtcphdr)));
	ASSERT_EQ(0, send_segments(proto, 3, 2, NODE_ID, true,
				   sizeof(struct migtcphdr)));
	ASSERT_EQ(0, send_segments(proto, 4, 1, NODE_ID, true,
				   sizeof(struct migtcphdr)));
	ASSERT_EQ(0, send_segments(proto, 5, 1, OTHER_ID, true,
				   sizeof(struct migtcphdr)));
	/*
	 * Loopback delivers in softirq: wait until all 15 segments have a
	 * verdict and the 9 intact ones a destination.
	 */
	for (i = 0; i < 200; i++) {
		n = proc_stats(names, proc, __MIGTCP_STAT_MAX + 1);
		ASSERT_EQ(__MIGTCP_STAT_MAX, n);
		if (proc[0] + proc[1] + proc[2] + proc[3] + proc[4] >= 15 &&
		    proc[5] + proc[6] >= 9)
			break;
		usleep(10000);
	}

	stats_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	n = proc_stats(names, proc, __MIGTCP_STAT_MAX + 1);
	ASSERT_EQ(__MIGTCP_STAT_MAX, n);
	ASSERT_EQ(MIGTCP_CMD_STATS_GET, st.r.cmd);
	ASSERT_EQ(BIT(MIGTCP_A_STATS), st.r.attrs);
	/* Counter N is attribute N + 1, all of them, nothing else. */
	ASSERT_EQ((BIT(__MIGTCP_STAT_MAX + 1) - 1) & ~BIT(0), st.r.nest_attrs);
	ASSERT_EQ(0, st.r.bad);
	for (i = 0; i < __MIGTCP_STAT_MAX; i++) {
		ASSERT_STREQ(stat_names[i], names[i]);
		ASSERT_EQ(proc[i], st.value[i]) TH_LOG("%s", names[i]);
		ASSERT_EQ(want[i], st.value[i]) TH_LOG("%s", names[i]);
	}
}

TEST_F(genl, stats_per_netns)
{
	struct stats_state st;
	struct nl_ack ack;
	struct nl nl_b;
	int proto = migtcp_proto(), i;

	ASSERT_LT(0, proto);
	SET_BASE_NODE(&self->nl);
	ASSERT_EQ(0, send_segments(proto, 3, 1, NODE_ID, true, 4));
	for (i = 0; i < 200; i++) {
		stats_get(&self->nl, &st, &ack);
		ASSERT_OK(ack);
		if (st.value[MIGTCP_STAT_IN_HDR_ERRORS] == 3)
			break;
		usleep(10000);
	}
	ASSERT_EQ((uint64_t)3, st.value[MIGTCP_STAT_IN_HDR_ERRORS]);

	ASSERT_EQ(0, migtcp_test_new_netns());
	ASSERT_EQ(0, nl_open(&nl_b));
	stats_get(&nl_b, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(0, st.r.bad);
	for (i = 0; i < __MIGTCP_STAT_MAX; i++) {
		ASSERT_EQ((uint64_t)0, st.value[i])
			TH_LOG("%s", stat_names[i]);
	}
	nl_close(&nl_b);
}

/* Every change command failed with EPERM and no message. */
#define ASSERT_ALL_EPERM(out) do {					\
	int __i;							\
									\
	for (__i = 0; __i < CH_COUNT; __i++) {				\
		ASSERT_EQ(EPERM, (out)[__i].err)			\
			TH_LOG("%s: %s \"%s\"", change_names[__i],	\
			       errname((out)[__i].err), (out)[__i].msg); \
		ASSERT_STREQ("", (out)[__i].msg);			\
	}								\
} while (0)

/* Every read command worked. */
#define ASSERT_READS_WORK(rep) do {					\
	ASSERT_EQ(0, (rep)->node_get.err) TH_LOG("%s", (rep)->node_get.msg); \
	ASSERT_EQ(0, (rep)->peer_get.err) TH_LOG("%s", (rep)->peer_get.msg); \
	ASSERT_EQ(0, (rep)->peer_dump.err)				\
		TH_LOG("%s", (rep)->peer_dump.msg);			\
	ASSERT_EQ(0, (rep)->sock_dump.err)				\
		TH_LOG("%s", (rep)->sock_dump.msg);			\
	ASSERT_EQ(0, (rep)->stats_get.err)				\
		TH_LOG("%s", (rep)->stats_get.msg);			\
	ASSERT_EQ(NODE_ID, (rep)->node_id);				\
	ASSERT_STREQ(ADDR_A, (rep)->peer_addr);				\
	ASSERT_EQ(1, (rep)->peers);					\
} while (0)

/* The parent's node after a child's refused changes: as it was. */
#define ASSERT_UNCHANGED_BY_CHILD(nl) do {				\
	ASSERT_BASE_NODE(nl);						\
	ASSERT_PEER(nl, PEER_ID, ADDR_A);				\
	ASSERT_NO_PEER(nl, NEW_PEER_ID);				\
	ASSERT_PEER_COUNT(nl, 1);					\
} while (0)

TEST_F(genl, unprivileged_user_cannot_change)
{
	struct child_report *rep = report_alloc();
	struct nl_ack ack;
	int fd;

	ASSERT_NE(NULL, rep);
	SET_BASE_NODE(&self->nl);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);
	fd = bound_socket(self->family, PORT);
	ASSERT_LE(0, fd);
	rep->family = self->family;
	rep->parent_ino = inode_of(fd);

	ASSERT_EQ(0, run_child(unprivileged_child, rep))
		TH_LOG("child: %s", rep->failed);
	ASSERT_ALL_EPERM(rep->change);
	ASSERT_READS_WORK(rep);
	/* Its own socket and ours, each with its owner. */
	ASSERT_EQ(2, rep->socks);
	ASSERT_EQ(NOBODY, rep->own_sock_uid);
	ASSERT_EQ(0, rep->parent_sock_uid);
	ASSERT_UNCHANGED_BY_CHILD(&self->nl);
	close(fd);
	munmap(rep, sizeof(*rep));
}

TEST_F(genl, userns_root_cannot_change_parent_netns)
{
	struct child_report *rep = report_alloc();
	struct nl_ack ack;

	ASSERT_NE(NULL, rep);
	SET_BASE_NODE(&self->nl);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);

	ASSERT_EQ(0, run_child(userns_child, rep))
		TH_LOG("child: %s", rep->failed);
	ASSERT_ALL_EPERM(rep->change);
	ASSERT_READS_WORK(rep);
	ASSERT_UNCHANGED_BY_CHILD(&self->nl);
	munmap(rep, sizeof(*rep));
}

TEST_F(genl, userns_root_configures_own_netns)
{
	struct child_report *rep = report_alloc();
	struct nl_ack ack;
	int i;

	ASSERT_NE(NULL, rep);
	SET_BASE_NODE(&self->nl);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, PEER_ID, ADDR_A, &ack);
	ASSERT_OK(ack);

	ASSERT_EQ(0, run_child(userns_netns_child, rep))
		TH_LOG("child: %s", rep->failed);
	/* Refused on our node, then allowed on the node it owns. */
	ASSERT_ALL_EPERM(rep->change);
	for (i = 0; i < CH_COUNT; i++) {
		const struct outcome *o = &rep->own_change[i];

		ASSERT_EQ(0, o->err) TH_LOG("%s: %s \"%s\"", change_names[i],
					    errname(o->err), o->msg);
	}
	ASSERT_EQ(0, rep->own_node_get.err);
	ASSERT_EQ(OTHER_ID, rep->own_node_id);
	ASSERT_EQ(0, rep->own_peers);
	ASSERT_UNCHANGED_BY_CHILD(&self->nl);
	munmap(rep, sizeof(*rep));
}

/* Tests that lower max_peers, a module-wide parameter, and restore it. */
FIXTURE(small_table) {
	struct nl nl;
	long saved_max;
};

#define SMALL_MAX	3

FIXTURE_SETUP(small_table)
{
	ASSERT_LT(0, migtcp_family()) TH_LOG("is migtcp loaded?");
	ASSERT_EQ(0, migtcp_test_new_netns());
	ASSERT_EQ(0, nl_open(&self->nl));
	self->saved_max = migtcp_module_param("max_peers");
	ASSERT_LT(SMALL_MAX, self->saved_max);
	/* Last: teardown restores it whenever this succeeded. */
	ASSERT_EQ(0, module_param_write("max_peers", SMALL_MAX));
}

FIXTURE_TEARDOWN(small_table)
{
	EXPECT_EQ(0, module_param_write("max_peers", self->saved_max))
		TH_LOG("restoring max_peers=%ld", self->saved_max);
	nl_close(&self->nl);
}

TEST_F(small_table, full_table_rejects_new_peers)
{
	struct node_state st;
	struct msgs msgs = {};
	struct nl_ack ack;
	long i;

	SET_BASE_NODE(&self->nl);
	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(SMALL_MAX, st.peer_max);

	for (i = 0; i < SMALL_MAX; i++) {
		peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, 100 + i, ADDR_A,
			    &ack);
		ASSERT_OK(ack);
	}
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, 200, ADDR_A, &ack);
	ASSERT_ANSWER(ENOSPC, MSG_TABLE_FULL, ack);
	ASSERT_BLAMES(-1, ack);
	ASSERT_NO_PEER(&self->nl, 200);
	ASSERT_PEER_COUNT(&self->nl, SMALL_MAX);
	dump(&self->nl, MIGTCP_CMD_PEER_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(SMALL_MAX, msgs.n);
	msgs_free(&msgs);

	/* The other checks come first; replacing needs no room. */
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, 100, ADDR_B, &ack);
	ASSERT_ANSWER(EEXIST, MSG_PEER_EXISTS, ack);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, NODE_ID, ADDR_B, &ack);
	ASSERT_ANSWER(EINVAL, MSG_OWN_ID, ack);
	peer_change(&self->nl, MIGTCP_CMD_PEER_SET, 100, ADDR_B, &ack);
	ASSERT_OK(ack);
	ASSERT_PEER(&self->nl, 100, ADDR_B);

	/* Deleting one makes room for one. */
	peer_change(&self->nl, MIGTCP_CMD_PEER_DEL, 101, NULL, &ack);
	ASSERT_OK(ack);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, 200, ADDR_B, &ack);
	ASSERT_OK(ack);
	ASSERT_PEER(&self->nl, 200, ADDR_B);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, 201, ADDR_B, &ack);
	ASSERT_ANSWER(ENOSPC, MSG_TABLE_FULL, ack);
	ASSERT_PEER_COUNT(&self->nl, SMALL_MAX);
}

TEST_F(small_table, lowered_limit_keeps_existing_peers)
{
	struct node_state st;
	struct msgs msgs = {};
	struct nl_ack ack;
	long i;

	for (i = 0; i < SMALL_MAX; i++) {
		peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, 100 + i, ADDR_A,
			    &ack);
		ASSERT_OK(ack);
	}
	ASSERT_EQ(0, module_param_write("max_peers", SMALL_MAX - 1));
	node_get(&self->nl, &st, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(SMALL_MAX - 1, st.peer_max);
	ASSERT_EQ(SMALL_MAX, st.peer_count);
	dump(&self->nl, MIGTCP_CMD_PEER_GET, &msgs, &ack);
	ASSERT_OK(ack);
	ASSERT_EQ(SMALL_MAX, msgs.n);
	msgs_free(&msgs);
	peer_change(&self->nl, MIGTCP_CMD_PEER_DEL, 100, NULL, &ack);
	ASSERT_OK(ack);
	peer_change(&self->nl, MIGTCP_CMD_PEER_NEW, 100, ADDR_A, &ack);
	ASSERT_ANSWER(ENOSPC, MSG_TABLE_FULL, ack);
	ASSERT_PEER_COUNT(&self->nl, SMALL_MAX - 1);
}

TEST_HARNESS_MAIN
