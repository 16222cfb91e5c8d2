// SPDX-License-Identifier: GPL-2.0
/*
 * A fuzzer of migtcp's two configuration interfaces: the "migtcp" generic
 * netlink family and the socket options (issue 12).
 *
 * netlink: requests for every command of the family, valid ones and
 * mutated ones (unknown, read-only, duplicated and missing attributes,
 * wrong lengths, out-of-range ids, ports, port ranges and addresses of
 * both families, IPv4 and IPv6 peers and dual-stack ones,
 * NLA_F_NESTED and byte-order flags, nlmsg flags, genl header fields,
 * truncated and overlong headers, bit flips, random bytes, two requests
 * in one datagram, an unprivileged caller, a changed max_peers limit),
 * sent to node 1 of the cluster fixture.  Every datagram also goes
 * through a model written from the kernel's netlink_rcv_skb(),
 * genl_family_rcv_msg(), __nla_validate_parse() and module/netlink.c,
 * which predicts each answer (no answer, an ack, a reply, a dump) with
 * its errno, extack message, offending attribute offset and missing
 * attribute; the kernel's answers must be exactly those, and so must
 * the notifications a second socket gets from the "config" group (the
 * node after a NODE_SET, the peer a peer change names).  After every
 * request NODE_GET must report the model's node (id, IPv4 and IPv6
 * addresses, key set, port range, peer count, peer limit), and after any
 * that may have changed peers (and every 16th) a PEER_GET dump must list
 * the model's peers, with their addresses, in order.  Because the model
 * reads raw bytes, a bit flip or a random datagram is predicted as
 * exactly as a request built on purpose.
 *
 * sockopt: every SOL_MIGTCP option and the SOL_SOCKET ones the module
 * depends on (SO_KEEPALIVE calls its keepalive hook, SO_RCVBUF and
 * SO_SNDBUF lock its buffer autotuning, SO_LINGER changes its close,
 * SO_RCVLOWAT its poll, SO_REUSEADDR its port table), set and read with
 * optlen 0, short, exact, long, huge and negative, with valid, NULL,
 * unmapped, read-only and page-straddling pointers, on sockets fresh,
 * bound, listening, connected, frozen and closed by their peer.  The
 * errno of each call is predicted from module/sockopt.c and
 * net/core/sock.c, and a model of each socket's options says what every
 * successful get returns, byte for byte.
 *
 * After each part: no socket left behind on either node, node 1 still
 * makes a connection that carries data both ways (with its fuzzed
 * configuration put back, and node 2 given the cluster key the fuzzer
 * left on node 1), and no new WARN/BUG line in the kernel log.
 *
 * MIGTCP_FUZZ_NL_ITERS sets the iterations of each part (default
 * 12,000: under TCG about 20 s for the netlink part, whose requests each
 * check the node's whole state, and under a second for the socket
 * options; "make fuzz" runs 100,000); MIGTCP_FUZZ_SEED (default printed)
 * repeats a run:
 *   MIGTCP_TESTS=nlfuzz_test MIGTCP_FUZZ_SEED=0x1234 tools/check 6.1
 * The counts (accepted, refused by errno, by mutation kind) are printed
 * at the end of each part.
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"
#include "stream.h"
#include "ckpt.h"

#define FUZZ_SEED	0x6e6c66757a7a3132ULL	/* "nlfuzz12" */
#define FUZZ_ITERS	12000UL

/* xorshift64*: deterministic from the seed, fast, good enough. */
static __u64 rng_state;

static __u64 rnd64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static __u32 rnd(void)
{
	return rnd64() >> 32;
}

/* 0 .. n - 1 */
static __u32 below(__u32 n)
{
	return n ? (__u32)(((__u64)rnd() * n) >> 32) : 0;
}

static bool chance(__u32 one_in)
{
	return below(one_in) == 0;
}

static void fill_rnd(void *p, size_t n)
{
	__u8 *b = p;

	while (n--)
		*b++ = rnd();
}

static void seed_part(__u64 seed, __u64 part)
{
	rng_state = seed ^ (part * 0x9e3779b97f4a7c15ULL);
	if (!rng_state)
		rng_state = 1;
}

/* Counts by name, printed at the end of a part. */
#define MAX_COUNTS	64

struct counts {
	int n;
	const char *name[MAX_COUNTS];
	unsigned long v[MAX_COUNTS];
};

static void count(struct counts *c, const char *name)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->name[i], name)) {
			c->v[i]++;
			return;
		}
	if (c->n < MAX_COUNTS) {
		c->name[c->n] = name;
		c->v[c->n++] = 1;
	}
}

static void print_counts(const char *part, const char *what,
			 const struct counts *c)
{
	int i;

	fprintf(stderr, "# %s: %s:", part, what);
	for (i = 0; i < c->n; i++)
		fprintf(stderr, " %s %lu", c->name[i], c->v[i]);
	fprintf(stderr, "\n");
}

static const char *err_name(int err)
{
	static char buf[16];

	if (!err)
		return "accepted";
	if (strerrorname_np(err))
		return strerrorname_np(err);
	snprintf(buf, sizeof(buf), "errno%d", err);
	return buf;
}

/*
 * Names that outlive the call: the counters keep the pointer.  errno
 * names are static strings of libc; the fallback is not, so it is never
 * counted (no errno outside libc's table is expected).
 */

/* Capabilities: an "unprivileged" request drops CAP_NET_ADMIN for itself. */
static int cap_net_admin(bool on)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	if (on)
		d[0].effective |= 1U << CAP_NET_ADMIN;
	else
		d[0].effective &= ~(1U << CAP_NET_ADMIN);
	return syscall(SYS_capset, &h, d);
}

/* ------------------------------------------------------------------ */
/* Netlink: a socket and the answers it gets.                           */
/* ------------------------------------------------------------------ */

#define NL_BUF		65536
#define MAX_EVENTS	64
#define MAX_PEERS	64	/* the fuzzer keeps the table below this */

struct nl {
	struct mnl_socket *sock;
	int fd;
	__u32 portid;
	__u16 family;
	__u32 mcgrp;		/* the family's "config" group */
	__u32 seq;
	/* A second socket in that group (nl_monitor()); -1: none. */
	struct mnl_socket *mon;
	int mon_fd;
	/* Ids of the other generic netlink families: never aimed at. */
	__u16 others[128];
	int n_others;
};

enum ev_kind { EV_DATA, EV_ACK, EV_DONE };

/* A node's or a peer's underlay addresses, as the messages carry them. */
struct addrs {
	__u32 in;		/* network byte order; 0: none */
	__u8 in6[16];		/* all zero (::): none */
};

/* One message of an answer, as received or as the model predicts it. */
struct event {
	enum ev_kind kind;
	__u32 seq;
	int cmd;		/* EV_DATA: genl command */
	int err;		/* EV_ACK, EV_DONE: positive errno or 0 */
	const char *msg;	/* predicted extack message, NULL: none */
	char rmsg[128];		/* received one, "" if none */
	long offs;		/* NLMSGERR_ATTR_OFFS, -1 if none */
	long miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, -1 if none */
	long miss_nest;		/* NLMSGERR_ATTR_MISS_NEST, -1 if none */
	/* EV_DATA of a node or peer command: what it says */
	__u32 id, key_set, port_min, port_max, peer_count, peer_max;
	struct addrs addr;
	bool has_addr, has_addr6;
};

struct answer {
	int n;
	struct event ev[MAX_EVENTS];
	bool overflow;
};

static void parse_ext_ack(const struct nlmsghdr *m, size_t offs,
			  struct event *e)
{
	const struct nlattr *a;

	if (!(m->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	mnl_attr_for_each(a, m, offs) {
		switch (mnl_attr_get_type(a)) {
		case NLMSGERR_ATTR_MSG:
			snprintf(e->rmsg, sizeof(e->rmsg), "%.*s",
				 (int)mnl_attr_get_payload_len(a),
				 (const char *)mnl_attr_get_payload(a));
			break;
		case NLMSGERR_ATTR_OFFS:
			e->offs = mnl_attr_get_u32(a);
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			e->miss_type = mnl_attr_get_u32(a);
			break;
		case NLMSGERR_ATTR_MISS_NEST:
			e->miss_nest = mnl_attr_get_u32(a);
			break;
		}
	}
}

/* An IPv6 address attribute; one of another length reads as ff..ff. */
static void get_addr6(const struct nlattr *a, struct event *e)
{
	if (mnl_attr_get_payload_len(a) == sizeof(e->addr.in6))
		memcpy(e->addr.in6, mnl_attr_get_payload(a),
		       sizeof(e->addr.in6));
	else
		memset(e->addr.in6, 0xff, sizeof(e->addr.in6));
	e->has_addr6 = true;
}

static void parse_node_reply(const struct nlmsghdr *m, struct event *e)
{
	const struct nlattr *a, *p;

	mnl_attr_for_each(a, m, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case MIGTCP_A_NODE_ID:
			e->id = mnl_attr_get_u32(a);
			break;
		case MIGTCP_A_NODE_ADDR_IN:
			e->addr.in = mnl_attr_get_u32(a);
			e->has_addr = true;
			break;
		case MIGTCP_A_NODE_ADDR_IN6:
			get_addr6(a, e);
			break;
		case MIGTCP_A_NODE_KEY_SET:
			e->key_set = mnl_attr_get_u8(a);
			break;
		case MIGTCP_A_NODE_PORT_MIN:
			e->port_min = mnl_attr_get_u16(a);
			break;
		case MIGTCP_A_NODE_PORT_MAX:
			e->port_max = mnl_attr_get_u16(a);
			break;
		case MIGTCP_A_PEER_COUNT:
			e->peer_count = mnl_attr_get_u32(a);
			break;
		case MIGTCP_A_PEER_MAX:
			e->peer_max = mnl_attr_get_u32(a);
			break;
		case MIGTCP_A_PEER:
			mnl_attr_for_each_nested(p, a) {
				if (mnl_attr_get_type(p) == MIGTCP_PEER_A_ID)
					e->id = mnl_attr_get_u32(p);
				if (mnl_attr_get_type(p) ==
				    MIGTCP_PEER_A_ADDR_IN) {
					e->addr.in = mnl_attr_get_u32(p);
					e->has_addr = true;
				}
				if (mnl_attr_get_type(p) ==
				    MIGTCP_PEER_A_ADDR_IN6)
					get_addr6(p, e);
			}
			break;
		}
	}
}

/*
 * The messages of an answer on socket @fd (or the notifications on the
 * monitor's): @want of them (more if they come in the same read), or
 * with @want < 0 everything queued, until the socket is empty.  A doit
 * request is answered before sendto() returns (the kernel runs it in
 * the sender's context) and a dump's next part is queued by the recv()
 * that takes the previous one, so an empty socket means the answer is
 * complete.  Reading only the messages the model predicts
 * saves a recv() per request (a TCG guest's syscalls are slow); a
 * message too many shows in the next answer, whose sequence numbers it
 * does not have, or in the final drain.
 */
static int nl_collect(int fd, struct answer *ans, int want)
{
	static char buf[NL_BUF];

	ans->n = 0;
	ans->overflow = false;
	while (want < 0 || ans->n < want) {
		const struct nlmsghdr *m;
		ssize_t n = recv(fd, buf, sizeof(buf),
				 (want < 0 ? MSG_DONTWAIT : 0) | MSG_TRUNC);
		int len;

		if (n < 0)
			return want < 0 && errno == EAGAIN ? 0 : -errno;
		if (n > (ssize_t)sizeof(buf))
			return -EMSGSIZE;
		len = n;
		for (m = (const void *)buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			struct event *e;

			if (ans->n == MAX_EVENTS) {
				ans->overflow = true;
				continue;
			}
			e = &ans->ev[ans->n++];
			memset(e, 0, sizeof(*e));
			e->seq = m->nlmsg_seq;
			e->offs = e->miss_type = e->miss_nest = -1;
			if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *er =
					mnl_nlmsg_get_payload(m);
				size_t off = sizeof(*er);

				e->kind = EV_ACK;
				e->err = -er->error;
				/* The TLVs follow the echoed request, aligned. */
				if (!(m->nlmsg_flags & NLM_F_CAPPED))
					off += er->msg.nlmsg_len - NLMSG_HDRLEN;
				parse_ext_ack(m, MNL_ALIGN(off), e);
			} else if (m->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				e->kind = EV_DONE;
				memcpy(&err, mnl_nlmsg_get_payload(m),
				       sizeof(err));
				e->err = -err;
				parse_ext_ack(m, sizeof(err), e);
			} else {
				const struct genlmsghdr *g =
					mnl_nlmsg_get_payload(m);

				e->kind = EV_DATA;
				e->cmd = g->cmd;
				parse_node_reply(m, e);
			}
		}
		if (len)
			return -EBADMSG;
	}
	return 0;
}

static int nl_send(struct nl *nl, const void *buf, size_t len)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	return sendto(nl->fd, buf, len, 0, (struct sockaddr *)&to,
		      sizeof(to)) == (ssize_t)len ? 0 : -errno;
}

/* The id of the "config" group in a family's CTRL_ATTR_MCAST_GROUPS. */
static __u32 config_group(const struct nlattr *groups)
{
	const struct nlattr *grp, *g;
	__u32 found = 0;

	mnl_attr_for_each_nested(grp, groups) {
		const char *name = NULL;
		__u32 id = 0;

		mnl_attr_for_each_nested(g, grp) {
			if (mnl_attr_get_type(g) == CTRL_ATTR_MCAST_GRP_NAME)
				name = mnl_attr_get_str(g);
			if (mnl_attr_get_type(g) == CTRL_ATTR_MCAST_GRP_ID)
				id = mnl_attr_get_u32(g);
		}
		if (name && !strcmp(name, MIGTCP_GENL_MCGRP_CONFIG))
			found = id;
	}
	return found;
}

/* The ids of every generic netlink family, ours apart. */
static int nl_resolve(struct nl *nl)
{
	static char buf[NL_BUF];
	char req[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct genlmsghdr *g;
	bool done = false;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	if (nl_send(nl, nlh, nlh->nlmsg_len))
		return -1;
	while (!done) {
		const struct nlmsghdr *m;
		ssize_t n = recv(nl->fd, buf, sizeof(buf), 0);
		int len = n;

		if (n <= 0)
			return -1;
		for (m = (const void *)buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			const struct nlattr *a;
			const char *name = NULL;
			__u32 grp = 0;
			__u16 id = 0;

			if (m->nlmsg_type == NLMSG_DONE ||
			    m->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			mnl_attr_for_each(a, m, sizeof(struct genlmsghdr)) {
				if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
					id = mnl_attr_get_u16(a);
				if (mnl_attr_get_type(a) ==
				    CTRL_ATTR_FAMILY_NAME)
					name = mnl_attr_get_str(a);
				if (mnl_attr_get_type(a) ==
				    CTRL_ATTR_MCAST_GROUPS)
					grp = config_group(a);
			}
			if (name && !strcmp(name, MIGTCP_GENL_NAME)) {
				nl->family = id;
				nl->mcgrp = grp;
			} else if (nl->n_others < 128) {
				nl->others[nl->n_others++] = id;
			}
		}
	}
	return nl->family && nl->mcgrp ? 0 : -1;
}

static int nl_open(struct nl *nl)
{
	struct timeval tv = { .tv_sec = 2 };
	int one = 1, big = 1 << 20;

	memset(nl, 0, sizeof(*nl));
	nl->mon_fd = -1;
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock)
		return -1;
	nl->fd = mnl_socket_get_fd(nl->sock);
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) ||
	    setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
		       sizeof(one)) ||
	    setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) ||
	    setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -1;
	nl->portid = mnl_socket_get_portid(nl->sock);
	return nl_resolve(nl);
}

/*
 * Opens @nl's monitor: a socket of the same namespace in the "config"
 * group, whose notifications nl_run() then checks.  The kernel queues a
 * change's notification before it acknowledges the request.
 */
static int nl_monitor(struct nl *nl)
{
	struct timeval tv = { .tv_sec = 2 };
	int big = 1 << 20;

	nl->mon = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->mon)
		return -1;
	nl->mon_fd = mnl_socket_get_fd(nl->mon);
	if (mnl_socket_bind(nl->mon, 0, MNL_SOCKET_AUTOPID) ||
	    mnl_socket_setsockopt(nl->mon, NETLINK_ADD_MEMBERSHIP, &nl->mcgrp,
				  sizeof(nl->mcgrp)) ||
	    setsockopt(nl->mon_fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) ||
	    setsockopt(nl->mon_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -1;
	return 0;
}

static void nl_close(struct nl *nl)
{
	if (nl->mon)
		mnl_socket_close(nl->mon);
	nl->mon = NULL;
	nl->mon_fd = -1;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static bool other_family(const struct nl *nl, __u16 type)
{
	int i;

	if (type == GENL_ID_CTRL)
		return true;
	for (i = 0; i < nl->n_others; i++)
		if (nl->others[i] == type)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* The model of node 1's configuration and of the kernel's answers.    */
/* ------------------------------------------------------------------ */

#define PEER_TABLE	1100	/* above max_peers' default, 1024 */

struct node_model {
	__u32 id;
	struct addrs addr;
	bool key_set;
	__u8 key[MIGTCP_KEY_LEN];
	__u16 port_min, port_max;
	__u32 max_peers;
	bool bound;		/* the fuzzer's bound socket is open */
	int npeers;
	struct { __u32 id; struct addrs addr; } peer[PEER_TABLE]; /* list order */
};

/* Whether this host runs IPv6 (the module's ipv6_mod_enabled()). */
static bool ipv6_on;

static int peer_find(const struct node_model *m, __u32 id)
{
	int i;

	for (i = 0; i < m->npeers; i++)
		if (m->peer[i].id == id)
			return i;
	return -1;
}

/* Policy kinds of module/netlink.c's two policies. */
enum pol_kind { P_UNSPEC, P_U32_MIN1, P_U16_MIN1, P_EXACT, P_NEST };

struct pol {
	enum pol_kind kind;
	int len;		/* P_EXACT */
};

static const struct pol top_policy[MIGTCP_A_MAX + 1] = {
	[MIGTCP_A_NODE_ID]	 = { P_U32_MIN1 },
	[MIGTCP_A_NODE_ADDR_IN]	 = { P_EXACT, 4 },
	[MIGTCP_A_NODE_ADDR_IN6] = { P_EXACT, 16 },
	[MIGTCP_A_NODE_KEY]	 = { P_EXACT, MIGTCP_KEY_LEN },
	[MIGTCP_A_NODE_PORT_MIN] = { P_U16_MIN1 },
	[MIGTCP_A_NODE_PORT_MAX] = { P_U16_MIN1 },
	[MIGTCP_A_PEER]		 = { P_NEST },
};

static const struct pol peer_policy[MIGTCP_PEER_A_MAX + 1] = {
	[MIGTCP_PEER_A_ID]	= { P_U32_MIN1 },
	[MIGTCP_PEER_A_ADDR_IN]	= { P_EXACT, 4 },
	[MIGTCP_PEER_A_ADDR_IN6] = { P_EXACT, 16 },
};

/* Messages of lib/nlattr.c and net/netlink/genetlink.c. */
#define M_UNKNOWN	"Unknown attribute type"
#define M_UNSUPPORTED	"Unsupported attribute"
#define M_ATTR_LEN	"invalid attribute length"
#define M_NEST_MISSING	"NLA_F_NESTED is missing"
#define M_NEST_UNEXP	"NLA_F_NESTED not expected"
#define M_POLICY	"Attribute failed policy validation"
#define M_INT_RANGE	"integer out of range"
#define M_BIN_SIZE	"binary attribute size out of range"
#define M_LEFTOVER	"bytes leftover after parsing attributes"
#define M_RESERVED	"genlmsghdr.reserved field is not 0"
#define M_FLAGS		"ambiguous or reserved bits set in nlmsg_flags"
/* module/netlink.c, node.c, peer.c */
#define M_NOTHING	"nothing to set: give a node id, address, key or port range"
#define M_IPV6_OFF	"IPv6 is disabled on this host"
#define M_NOT_GLOBAL6	"not a global unicast IPv6 address"
#define M_NOT_UNICAST	"not a unicast IPv4 address"
#define M_RANGE_HALF	"a port range needs both its minimum and its maximum"
#define M_RANGE_INV	"the port range minimum is above its maximum"
#define M_ID_IS_PEER	"the node id is in the peer table"
#define M_BUSY		"sockets are bound to the current node id; close them first"
#define M_MISS_PEER	"missing the peer (MIGTCP_A_PEER)"
#define M_MISS_ID	"missing the peer id (MIGTCP_PEER_A_ID)"
#define M_MISS_ADDR	"missing the peer address (MIGTCP_PEER_A_ADDR_IN or MIGTCP_PEER_A_ADDR_IN6)"
#define M_NO_PEER	"no peer with this id"
#define M_PEER_EXISTS	"a peer with this id already exists"
#define M_OWN_ID	"the peer id is this node's own id"
#define M_TABLE_FULL	"the peer table is full (module parameter max_peers)"

/* What processing one message gives: its error and extack. */
struct verdict {
	int err;
	const char *msg;
	long offs, miss_type, miss_nest;
};

static int refuse(struct verdict *v, int err, const char *msg, long offs)
{
	v->err = err;
	v->msg = msg;
	v->offs = offs;
	return err;
}

static __u16 get16(const __u8 *p)
{
	__u16 v;

	memcpy(&v, p, 2);
	return v;
}

static __u32 get32(const __u8 *p)
{
	__u32 v;

	memcpy(&v, p, 4);
	return v;
}

static int validate_attrs(const __u8 *nlh, const __u8 *head, int len,
			  const struct pol *pol, int maxtype,
			  const __u8 **tb, struct verdict *v);

/* validate_nla() for our two policies. */
static int validate_one(const __u8 *nlh, const __u8 *nla, const struct pol *pt,
			struct verdict *v)
{
	__u16 nla_len = get16(nla), nla_type = get16(nla + 2);
	int attrlen = nla_len - NLA_HDRLEN;
	long offs = nla - nlh;
	const __u8 *tb[MIGTCP_PEER_A_MAX + 1];

	if ((pt->kind == P_U32_MIN1 && attrlen != 4) ||
	    (pt->kind == P_U16_MIN1 && attrlen != 2))
		return refuse(v, EINVAL, M_ATTR_LEN, offs);
	if (pt->kind == P_NEST && !(nla_type & NLA_F_NESTED))
		return refuse(v, EINVAL, M_NEST_MISSING, offs);
	if (pt->kind != P_NEST && pt->kind != P_UNSPEC &&
	    (nla_type & NLA_F_NESTED))
		return refuse(v, EINVAL, M_NEST_UNEXP, offs);
	switch (pt->kind) {
	case P_UNSPEC:
		return refuse(v, EINVAL, M_UNSUPPORTED, offs);
	case P_NEST:
		if (attrlen == 0)
			return 0;
		if (attrlen < NLA_HDRLEN)
			return refuse(v, ERANGE, M_POLICY, offs);
		return validate_attrs(nlh, nla + NLA_HDRLEN, attrlen,
				      peer_policy, MIGTCP_PEER_A_MAX, tb, v);
	case P_U32_MIN1:
		if (get32(nla + NLA_HDRLEN) < 1)
			return refuse(v, ERANGE, M_INT_RANGE, offs);
		return 0;
	case P_U16_MIN1:
		if (get16(nla + NLA_HDRLEN) < 1)
			return refuse(v, ERANGE, M_INT_RANGE, offs);
		return 0;
	case P_EXACT:
		if (attrlen != pt->len)
			return refuse(v, ERANGE, M_BIN_SIZE, offs);
		return 0;
	}
	return 0;
}

/*
 * __nla_validate_parse() with NL_VALIDATE_STRICT: @tb gets the last
 * attribute of each type, as the kernel's does.
 */
static int validate_attrs(const __u8 *nlh, const __u8 *head, int len,
			  const struct pol *pol, int maxtype,
			  const __u8 **tb, struct verdict *v)
{
	const __u8 *p = head;
	int rem = len, err;

	memset(tb, 0, sizeof(*tb) * (maxtype + 1));
	while (rem >= NLA_HDRLEN) {
		__u16 nla_len = get16(p), type = get16(p + 2) & NLA_TYPE_MASK;

		if (nla_len < NLA_HDRLEN || nla_len > rem)
			break;
		if (type == 0 || type > maxtype)
			return refuse(v, EINVAL, M_UNKNOWN, p - nlh);
		err = validate_one(nlh, p, &pol[type], v);
		if (err)
			return err;
		tb[type] = p;
		rem -= NLA_ALIGN(nla_len);
		p += NLA_ALIGN(nla_len);
	}
	if (rem > 0)
		return refuse(v, EINVAL, M_LEFTOVER, -1);
	return 0;
}

static bool unicast4(__u32 a)
{
	__u8 first = ntohl(a) >> 24;

	return first != 0 && first != 127 && first < 224;
}

static bool addr6_none(const __u8 *a)
{
	static const __u8 any[16];

	return !memcmp(a, any, 16);
}

/*
 * migtcp_addr6_usable(), from ipv6_addr_type(): not multicast (ff00::/8),
 * not link-local (fe80::/10), not site-local (fec0::/10), not in ::/96
 * (::, ::1, IPv4-compatible) and not v4-mapped (::ffff:0:0/96).  Unique
 * local (fc00::/7) and the reserved ranges are unicast: usable.
 */
static bool usable6(const __u8 *a)
{
	static const __u8 v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const __u8 zero[12];

	if (a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0x80)))
		return false;
	return memcmp(a, zero, 12) && memcmp(a, v4mapped, 12);
}

static void set_addrs(struct event *e, const struct addrs *ad)
{
	e->addr = *ad;
	e->has_addr = ad->in != 0;
	e->has_addr6 = !addr6_none(ad->in6);
}

/* What NODE_GET (or a NODE_SET notification) says of @m. */
static void node_event(const struct node_model *m, struct event *e)
{
	e->id = m->id;
	set_addrs(e, &m->addr);
	e->key_set = m->key_set;
	e->port_min = m->port_min;
	e->port_max = m->port_max;
	e->peer_count = m->npeers;
	e->peer_max = m->max_peers;
}

/* A message about peer @id at @ad: a reply, a dump part, a notification. */
static void peer_event(struct event *e, int cmd, __u32 id,
		       const struct addrs *ad)
{
	e->cmd = cmd;
	e->id = id;
	set_addrs(e, ad);
}

struct prediction {
	struct answer a;
	struct answer notes;	/* on the monitor, in order (sequence 0) */
	bool unpredictable;	/* aimed at another family: not sent */
	bool peer_change;	/* a peer change reached its handler */
	/* IPv6 addresses that reached the module's check: usable, not */
	int addr6_ok, addr6_bad;
	/* A dump that goes on after the datagram (see model_genl()). */
	__u32 dump_seq;
	int dump_cmd, dump_pos;
};

static struct event *add_event(struct answer *a, enum ev_kind kind, __u32 seq)
{
	struct event *e;

	if (a->n == MAX_EVENTS) {
		a->overflow = true;
		return NULL;
	}
	e = &a->ev[a->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->seq = seq;
	e->offs = e->miss_type = e->miss_nest = -1;
	return e;
}

static struct event *pred_event(struct prediction *p, enum ev_kind kind,
				__u32 seq)
{
	return add_event(&p->a, kind, seq);
}

/* A notification to the "config" group: command @cmd's message. */
static struct event *pred_note(struct prediction *p, int cmd)
{
	struct event *e = add_event(&p->notes, EV_DATA, 0);

	if (e)
		e->cmd = cmd;
	return e;
}

/* migtcp_nl_get_addr6() on the 16 bytes of attribute @nla. */
static int model_addr6(const __u8 *nlh, const __u8 *nla, __u8 *addr6,
		       struct verdict *v, struct prediction *p)
{
	const __u8 *a = nla + NLA_HDRLEN;

	if (!ipv6_on)
		return refuse(v, EAFNOSUPPORT, M_IPV6_OFF, nla - nlh);
	if (!usable6(a)) {
		p->addr6_bad++;
		return refuse(v, EINVAL, M_NOT_GLOBAL6, nla - nlh);
	}
	p->addr6_ok++;
	memcpy(addr6, a, 16);
	return 0;
}

static int model_node_set(struct node_model *m, const __u8 *nlh,
			  const __u8 **a, struct verdict *v,
			  struct prediction *p)
{
	const __u8 *range = a[MIGTCP_A_NODE_PORT_MIN] ?:
			    a[MIGTCP_A_NODE_PORT_MAX];
	struct addrs ad = {};
	__u16 pmin = 0, pmax = 0;
	struct event *e;
	__u32 id;

	if (!a[MIGTCP_A_NODE_ID] && !a[MIGTCP_A_NODE_ADDR_IN] &&
	    !a[MIGTCP_A_NODE_ADDR_IN6] && !a[MIGTCP_A_NODE_KEY] && !range)
		return refuse(v, EINVAL, M_NOTHING, -1);
	if (a[MIGTCP_A_NODE_ADDR_IN6] &&
	    model_addr6(nlh, a[MIGTCP_A_NODE_ADDR_IN6], ad.in6, v, p))
		return v->err;
	if (a[MIGTCP_A_NODE_ADDR_IN]) {
		ad.in = get32(a[MIGTCP_A_NODE_ADDR_IN] + NLA_HDRLEN);
		if (!unicast4(ad.in))
			return refuse(v, EINVAL, M_NOT_UNICAST,
				      a[MIGTCP_A_NODE_ADDR_IN] - nlh);
	}
	if (range) {
		if (!a[MIGTCP_A_NODE_PORT_MIN] || !a[MIGTCP_A_NODE_PORT_MAX])
			return refuse(v, EINVAL, M_RANGE_HALF, range - nlh);
		pmin = get16(a[MIGTCP_A_NODE_PORT_MIN] + NLA_HDRLEN);
		pmax = get16(a[MIGTCP_A_NODE_PORT_MAX] + NLA_HDRLEN);
		if (pmin > pmax)
			return refuse(v, EINVAL, M_RANGE_INV, range - nlh);
	}
	if (a[MIGTCP_A_NODE_ID]) {
		id = get32(a[MIGTCP_A_NODE_ID] + NLA_HDRLEN);
		if (id != m->id) {
			if (peer_find(m, id) >= 0)
				return refuse(v, EEXIST, M_ID_IS_PEER, -1);
			if (m->bound)
				return refuse(v, EBUSY, M_BUSY, -1);
			m->id = id;
		}
	}
	/* Each address that is given replaces its family's; none unsets. */
	if (a[MIGTCP_A_NODE_ADDR_IN])
		m->addr.in = ad.in;
	if (a[MIGTCP_A_NODE_ADDR_IN6])
		memcpy(m->addr.in6, ad.in6, 16);
	if (a[MIGTCP_A_NODE_KEY]) {
		memcpy(m->key, a[MIGTCP_A_NODE_KEY] + NLA_HDRLEN,
		       MIGTCP_KEY_LEN);
		m->key_set = true;
	}
	if (pmin) {
		m->port_min = pmin;
		m->port_max = pmax;
	}
	e = pred_note(p, MIGTCP_CMD_NODE_SET);
	if (e)
		node_event(m, e);
	return 0;
}

/*
 * migtcp_nl_parse_peer(): the id, and with @need_addr the addresses (an
 * IPv4 one, an IPv6 one or both; the IPv6 one is checked first).
 */
static int model_parse_peer(const __u8 *nlh, const __u8 **a, bool need_addr,
			    __u32 *id, struct addrs *ad, struct verdict *v,
			    struct prediction *p)
{
	const __u8 *nest = a[MIGTCP_A_PEER], *tb[MIGTCP_PEER_A_MAX + 1];

	if (!nest) {
		v->miss_type = MIGTCP_A_PEER;
		return refuse(v, EINVAL, M_MISS_PEER, -1);
	}
	/* Already validated with the message: this parse cannot fail. */
	if (validate_attrs(nlh, nest + NLA_HDRLEN, get16(nest) - NLA_HDRLEN,
			   peer_policy, MIGTCP_PEER_A_MAX, tb, v))
		return v->err;
	if (!tb[MIGTCP_PEER_A_ID]) {
		v->miss_type = MIGTCP_PEER_A_ID;
		v->miss_nest = nest - nlh;
		return refuse(v, EINVAL, M_MISS_ID, -1);
	}
	*id = get32(tb[MIGTCP_PEER_A_ID] + NLA_HDRLEN);
	if (!need_addr)
		return 0;
	if (!tb[MIGTCP_PEER_A_ADDR_IN] && !tb[MIGTCP_PEER_A_ADDR_IN6]) {
		/* The report names the IPv4 attribute. */
		v->miss_type = MIGTCP_PEER_A_ADDR_IN;
		v->miss_nest = nest - nlh;
		return refuse(v, EINVAL, M_MISS_ADDR, -1);
	}
	if (tb[MIGTCP_PEER_A_ADDR_IN6] &&
	    model_addr6(nlh, tb[MIGTCP_PEER_A_ADDR_IN6], ad->in6, v, p))
		return v->err;
	if (tb[MIGTCP_PEER_A_ADDR_IN]) {
		ad->in = get32(tb[MIGTCP_PEER_A_ADDR_IN] + NLA_HDRLEN);
		if (!unicast4(ad->in))
			return refuse(v, EINVAL, M_NOT_UNICAST,
				      tb[MIGTCP_PEER_A_ADDR_IN] - nlh);
	}
	return 0;
}

static int model_peer_cmd(struct node_model *m, __u8 cmd, const __u8 *nlh,
			  const __u8 **a, struct verdict *v,
			  struct prediction *p, __u32 seq)
{
	struct addrs ad = {};
	struct event *e;
	__u32 id = 0;
	int i;

	if (model_parse_peer(nlh, a, cmd == MIGTCP_CMD_PEER_NEW ||
			     cmd == MIGTCP_CMD_PEER_SET, &id, &ad, v, p))
		return v->err;
	i = peer_find(m, id);
	switch (cmd) {
	case MIGTCP_CMD_PEER_GET:
		if (i < 0)
			return refuse(v, ENOENT, M_NO_PEER, -1);
		e = pred_event(p, EV_DATA, seq);
		if (e)
			peer_event(e, cmd, id, &m->peer[i].addr);
		return 0;
	case MIGTCP_CMD_PEER_NEW:
		if (id == m->id)
			return refuse(v, EINVAL, M_OWN_ID, -1);
		if (i >= 0)
			return refuse(v, EEXIST, M_PEER_EXISTS, -1);
		if ((__u32)m->npeers >= m->max_peers || m->npeers == PEER_TABLE)
			return refuse(v, ENOSPC, M_TABLE_FULL, -1);
		m->peer[m->npeers].id = id;
		m->peer[m->npeers].addr = ad;
		m->npeers++;
		break;
	case MIGTCP_CMD_PEER_SET:
		/* Both addresses replaced: one not given is unset. */
		if (i < 0)
			return refuse(v, ENOENT, M_NO_PEER, -1);
		m->peer[i].addr = ad;
		break;
	default:
		/* The notification names what was deleted. */
		if (i < 0)
			return refuse(v, ENOENT, M_NO_PEER, -1);
		ad = m->peer[i].addr;
		memmove(&m->peer[i], &m->peer[i + 1],
			(m->npeers - i - 1) * sizeof(m->peer[0]));
		m->npeers--;
		break;
	}
	e = pred_note(p, cmd);
	if (e)
		peer_event(e, cmd, id, &ad);
	return 0;
}

/* Set when the kernel dispatches by (command, do or dump) first (6.2+). */
static bool split_ops;

#define DUMP_STARTED	(-1)

/*
 * genl_rcv_msg() and the family's handlers, for one message.  *@dumping:
 * a dump of this datagram is still running (its NLMSG_DONE waits for the
 * next recv()), so another one gets EBUSY from __netlink_dump_start().
 */
static int model_genl(const struct nl *nl, struct node_model *m,
		      const __u8 *nlh_b, bool unpriv, struct verdict *v,
		      struct prediction *p, bool *dumping)
{
	struct nlmsghdr nlh;
	struct genlmsghdr g;
	const __u8 *a[MIGTCP_A_MAX + 1];
	bool dump, has_do, has_dump, admin;
	struct event *e;
	__u16 flags;
	int err, i;

	memcpy(&nlh, nlh_b, sizeof(nlh));
	if (nlh.nlmsg_type != nl->family) {
		if (other_family(nl, nlh.nlmsg_type))
			p->unpredictable = true;
		return refuse(v, ENOENT, NULL, -1);
	}
	if (nlh.nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return refuse(v, EINVAL, NULL, -1);
	memcpy(&g, nlh_b + NLMSG_HDRLEN, sizeof(g));
	if (g.reserved)
		return refuse(v, EINVAL, M_RESERVED, -1);
	flags = nlh.nlmsg_flags;
	dump = (flags & NLM_F_DUMP) == NLM_F_DUMP;
	if (dump)
		flags &= ~NLM_F_DUMP;
	if (flags & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO))
		return refuse(v, EINVAL, M_FLAGS, -1);

	has_do = g.cmd >= MIGTCP_CMD_NODE_GET && g.cmd <= MIGTCP_CMD_STATS_GET &&
		 g.cmd != MIGTCP_CMD_SOCK_GET;
	has_dump = g.cmd == MIGTCP_CMD_PEER_GET || g.cmd == MIGTCP_CMD_SOCK_GET;
	admin = g.cmd == MIGTCP_CMD_NODE_SET || g.cmd == MIGTCP_CMD_PEER_NEW ||
		g.cmd == MIGTCP_CMD_PEER_SET || g.cmd == MIGTCP_CMD_PEER_DEL;
	if (split_ops) {
		if (dump ? !has_dump : !has_do)
			return refuse(v, EOPNOTSUPP, NULL, -1);
		if (admin && unpriv)
			return refuse(v, EPERM, NULL, -1);
	} else {
		if (!has_do && !has_dump)
			return refuse(v, EOPNOTSUPP, NULL, -1);
		if (admin && unpriv)
			return refuse(v, EPERM, NULL, -1);
		if (dump ? !has_dump : !has_do)
			return refuse(v, EOPNOTSUPP, NULL, -1);
	}
	if (dump && *dumping)
		return refuse(v, EBUSY, NULL, -1);
	err = validate_attrs(nlh_b, nlh_b + NLMSG_HDRLEN + GENL_HDRLEN,
			     nlh.nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN,
			     top_policy, MIGTCP_A_MAX, a, v);
	if (err)
		return err;

	if (dump) {
		/*
		 * A dump that gave anything goes on with the next recv(),
		 * after the datagram's other requests: from the position it
		 * reached, in the table as they left it.
		 */
		*dumping = g.cmd == MIGTCP_CMD_PEER_GET ? m->npeers > 0 :
			   m->bound;
		if (*dumping) {
			p->dump_seq = nlh.nlmsg_seq;
			p->dump_cmd = g.cmd;
			p->dump_pos = m->npeers;
		}
		if (g.cmd == MIGTCP_CMD_PEER_GET) {
			for (i = 0; i < m->npeers; i++) {
				e = pred_event(p, EV_DATA, nlh.nlmsg_seq);
				if (!e)
					break;
				peer_event(e, MIGTCP_CMD_PEER_GET,
					   m->peer[i].id, &m->peer[i].addr);
			}
		} else if (m->bound) {
			e = pred_event(p, EV_DATA, nlh.nlmsg_seq);
			if (e)
				e->cmd = MIGTCP_CMD_SOCK_GET;
		}
		if (!*dumping)
			pred_event(p, EV_DONE, nlh.nlmsg_seq);
		return DUMP_STARTED;
	}
	switch (g.cmd) {
	case MIGTCP_CMD_NODE_GET:
	case MIGTCP_CMD_STATS_GET:
		e = pred_event(p, EV_DATA, nlh.nlmsg_seq);
		if (e) {
			e->cmd = g.cmd;
			if (g.cmd == MIGTCP_CMD_NODE_GET)
				node_event(m, e);
		}
		return 0;
	case MIGTCP_CMD_NODE_SET:
		return model_node_set(m, nlh_b, a, v, p);
	default:
		p->peer_change |= g.cmd != MIGTCP_CMD_PEER_GET;
		return model_peer_cmd(m, g.cmd, nlh_b, a, v, p,
				      nlh.nlmsg_seq);
	}
}

/*
 * The rest of a dump that a datagram left running: its next part comes
 * with the next recv() (migtcp_nl_peer_dump() resumes at the position it
 * reached; the sockets' dump has no socket to add), then NLMSG_DONE.
 */
static void model_dump_rest(const struct node_model *m, struct prediction *p)
{
	struct event *e;
	int i;

	if (p->dump_cmd < 0)
		return;
	if (p->dump_cmd == MIGTCP_CMD_PEER_GET) {
		for (i = p->dump_pos; i < m->npeers; i++) {
			e = pred_event(p, EV_DATA, p->dump_seq);
			if (!e)
				break;
			peer_event(e, MIGTCP_CMD_PEER_GET, m->peer[i].id,
				   &m->peer[i].addr);
		}
	}
	pred_event(p, EV_DONE, p->dump_seq);
}

/* netlink_rcv_skb() over one datagram of @len bytes. */
static void model_datagram(const struct nl *nl, struct node_model *m,
			   const __u8 *buf, size_t len, bool unpriv,
			   struct prediction *p)
{
	bool dumping = false;
	size_t off = 0;

	memset(p, 0, sizeof(*p));
	p->dump_cmd = -1;
	while (len - off >= NLMSG_HDRLEN) {
		struct nlmsghdr nlh;
		struct verdict v = { .offs = -1, .miss_type = -1,
				     .miss_nest = -1 };
		struct event *e;
		size_t msglen;
		int err = 0;

		memcpy(&nlh, buf + off, sizeof(nlh));
		if (nlh.nlmsg_len < NLMSG_HDRLEN || len - off < nlh.nlmsg_len)
			break;
		if ((nlh.nlmsg_flags & NLM_F_REQUEST) &&
		    nlh.nlmsg_type >= NLMSG_MIN_TYPE)
			err = model_genl(nl, m, buf + off, unpriv, &v, p,
					 &dumping);
		if (err != DUMP_STARTED &&
		    ((nlh.nlmsg_flags & NLM_F_ACK) || err)) {
			e = pred_event(p, EV_ACK, nlh.nlmsg_seq);
			if (e) {
				e->err = err;
				e->msg = v.msg;
				e->offs = v.offs;
				e->miss_type = v.miss_type;
				e->miss_nest = v.miss_nest;
			}
		}
		msglen = NLMSG_ALIGN(nlh.nlmsg_len);
		if (msglen > len - off)
			msglen = len - off;
		off += msglen;
	}
	model_dump_rest(m, p);
}

/* ------------------------------------------------------------------ */
/* Netlink requests: built, mutated, serialised.                       */
/* ------------------------------------------------------------------ */

#define MAX_ATTRS	16
#define ATTR_DATA	48
#define REQ_MAX		2048

struct gen_attr {
	__u16 type;		/* with NLA_F_* flags */
	__u16 len;		/* payload */
	__u8 data[ATTR_DATA];
	bool is_nest;		/* the payload is the nest list */
};

struct gen_req {
	__u16 nl_type, nl_flags;
	__u32 seq;
	__u8 cmd, version, reserved;
	int n, nn;
	struct gen_attr a[MAX_ATTRS];	/* top level */
	struct gen_attr na[MAX_ATTRS];	/* inside the (first) nest */
};

enum mutation {
	MU_VALID, MU_UNKNOWN_ATTR, MU_READONLY_ATTR, MU_WRONG_LEN, MU_VALUE,
	MU_BAD_ADDR6, MU_DUP, MU_MISSING, MU_NLA_FLAGS, MU_NLMSG_FLAGS,
	MU_GENL_HDR,
	MU_NLMSG_LEN, MU_TRUNCATE, MU_BITFLIP, MU_RANDOM, MU_BATCH,
	MU_UNPRIV, MU_LIMIT, MU_BOUND, MU_NR
};

static const char * const mu_names[MU_NR] = {
	"valid", "unknown-attr", "readonly-attr", "wrong-len", "value",
	"bad-ipv6", "duplicate", "missing", "nla-flags", "nlmsg-flags", "genl-hdr",
	"nlmsg-len", "truncate", "bitflip", "random", "batch", "unpriv",
	"limit", "bound-socket",
};

static void put_attr(struct gen_attr *a, __u16 type, const void *d, int len)
{
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->len = len;
	memcpy(a->data, d, len);
}

static __u32 gen_id(const struct node_model *m)
{
	static const __u32 special[] = { 0xffffffff, 0x80000000, 65536, 255 };

	switch (below(10)) {
	case 0:
	case 1:
		if (m->npeers)
			return m->peer[below(m->npeers)].id;
		return 1 + below(12);
	case 2:
		return m->id ?: 1;
	case 3:
		return special[below(4)];
	case 4:
		return rnd() | 1;
	default:
		return 1 + below(12);
	}
}

static __u32 gen_addr(bool good)
{
	static const __u8 bad_first[] = { 0, 127, 224, 239, 240, 255 };
	static const __u8 good_first[] = { 192, 198, 10, 203, 1, 223 };
	__u8 b[4];
	__u32 a;

	fill_rnd(b, 4);
	b[0] = good ? good_first[below(6)] : bad_first[below(6)];
	if (good && chance(4))
		b[0] = 1 + below(223) + (below(223) >= 126 ? 1 : 0);
	if (good && b[0] == 127)
		b[0] = 128;
	memcpy(&a, b, 4);
	return a;
}

/*
 * An IPv6 address that migtcp_addr6_usable() takes (@good) or refuses:
 * of every kind ipv6_addr_type() tells apart, edges included.
 */
static void gen_addr6(__u8 *a, bool good)
{
	static const __u8 good_pfx[][4] = {
		{ 0x20, 0x01, 0x0d, 0xb8 },	/* documentation */
		{ 0x20, 0x01, 0x00, 0x00 },
		{ 0x3f, 0xff, 0xff, 0xff },	/* 2000::/3's top */
		{ 0xfd, 0x00, 0x00, 0x00 },	/* unique local */
		{ 0xfc, 0x00, 0x00, 0x00 },
		{ 0xfe, 0x7f, 0x00, 0x00 },	/* just below link-local */
		{ 0xe0, 0x00, 0x00, 0x00 },	/* reserved, unicast */
		{ 0x00, 0x64, 0xff, 0x9b },	/* NAT64 */
		{ 0x01, 0x00, 0x00, 0x00 },	/* discard */
	};
	int i;

	fill_rnd(a, 16);
	if (good) {
		switch (below(4)) {
		case 0:		/* just outside ::/96 and ::ffff:0:0/96 */
			memset(a, 0, 12);
			i = below(4);
			a[8 + i] = i == 3 ? 1 + below(255) : 1U << below(8);
			if (chance(2)) {	/* ::N:ffff:a.b.c.d */
				a[9] = 1 + below(255);
				memset(a + 10, 0xff, 2);
			}
			break;
		case 1:		/* anything unicast */
			while (!usable6(a))
				fill_rnd(a, 16);
			break;
		default:
			memcpy(a, good_pfx[below(ARRAY_SIZE(good_pfx))], 4);
			break;
		}
		return;
	}
	switch (below(8)) {
	case 0:		/* :: */
		memset(a, 0, 16);
		break;
	case 1:		/* ::1, or IPv4-compatible ::a.b.c.d */
		memset(a, 0, 12);
		if (chance(2)) {
			memset(a + 12, 0, 3);
			a[15] = 1;
		}
		break;
	case 2:		/* v4-mapped ::ffff:a.b.c.d */
		memset(a, 0, 10);
		memset(a + 10, 0xff, 2);
		break;
	case 3:
	case 4:		/* multicast */
		a[0] = 0xff;
		if (chance(2)) {	/* ff02::1 */
			memset(a + 1, 0, 15);
			a[1] = 2;
			a[15] = 1;
		}
		break;
	default:	/* link-local fe80::/10, site-local fec0::/10 */
		a[0] = 0xfe;
		a[1] = 0x80 | below(0x80);
		if (chance(2))
			memset(a + 2, 0, 6);
		break;
	}
}

static __u16 gen_port(void)
{
	static const __u16 ports[] = { 1, 2, 1023, 1024, 32768, 40000,
				       60999, 65534, 65535 };

	return chance(3) ? 1 + below(65535) : ports[below(9)];
}

static void add_top(struct gen_req *r, __u16 type, const void *d, int len)
{
	if (r->n < MAX_ATTRS)
		put_attr(&r->a[r->n++], type, d, len);
}

static void add_nested(struct gen_req *r, __u16 type, const void *d, int len)
{
	if (r->nn < MAX_ATTRS)
		put_attr(&r->na[r->nn++], type, d, len);
}

static void add_peer_nest(struct gen_req *r)
{
	if (r->n < MAX_ATTRS) {
		memset(&r->a[r->n], 0, sizeof(r->a[0]));
		r->a[r->n].type = MIGTCP_A_PEER | NLA_F_NESTED;
		r->a[r->n++].is_nest = true;
	}
}

/* A valid request for @cmd (as a dump when @dump). */
static void gen_valid(struct gen_req *r, const struct nl *nl,
		      const struct node_model *m, __u8 cmd, bool dump)
{
	__u8 key[MIGTCP_KEY_LEN], a6[16];
	__u32 v32;
	__u16 lo, hi;
	int what;

	memset(r, 0, sizeof(*r));
	r->nl_type = nl->family;
	r->nl_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
	if (!dump && chance(8))
		r->nl_flags |= NLM_F_ECHO;
	if (!dump && chance(10))
		r->nl_flags &= ~NLM_F_ACK;
	r->cmd = cmd;
	r->version = MIGTCP_GENL_VERSION;
	switch (cmd) {
	case MIGTCP_CMD_NODE_SET:
		what = 1 + below(31);
		if (what & 16) {
			gen_addr6(a6, true);
			add_top(r, MIGTCP_A_NODE_ADDR_IN6, a6, 16);
		}
		if (what & 1) {
			v32 = gen_id(m);
			if (!v32)
				v32 = 1;
			add_top(r, MIGTCP_A_NODE_ID, &v32, 4);
		}
		if (what & 2) {
			v32 = gen_addr(true);
			add_top(r, MIGTCP_A_NODE_ADDR_IN, &v32, 4);
		}
		if (what & 4) {
			fill_rnd(key, sizeof(key));
			add_top(r, MIGTCP_A_NODE_KEY, key, sizeof(key));
		}
		if (what & 8) {
			lo = gen_port();
			hi = gen_port();
			if (lo > hi) {
				__u16 t = lo;

				lo = hi;
				hi = t;
			}
			add_top(r, MIGTCP_A_NODE_PORT_MIN, &lo, 2);
			add_top(r, MIGTCP_A_NODE_PORT_MAX, &hi, 2);
		}
		break;
	case MIGTCP_CMD_PEER_GET:
	case MIGTCP_CMD_PEER_NEW:
	case MIGTCP_CMD_PEER_SET:
	case MIGTCP_CMD_PEER_DEL:
		if (dump)
			break;
		add_peer_nest(r);
		v32 = gen_id(m) ?: 1;
		add_nested(r, MIGTCP_PEER_A_ID, &v32, 4);
		if (cmd != MIGTCP_CMD_PEER_NEW && cmd != MIGTCP_CMD_PEER_SET)
			break;
		/* IPv4 alone, IPv6 alone, or both, in either order. */
		what = below(4);
		v32 = gen_addr(true);
		gen_addr6(a6, true);
		if (what == 0 || what == 2)
			add_nested(r, MIGTCP_PEER_A_ADDR_IN, &v32, 4);
		if (what != 0)
			add_nested(r, MIGTCP_PEER_A_ADDR_IN6, a6, 16);
		if (what == 3)
			add_nested(r, MIGTCP_PEER_A_ADDR_IN, &v32, 4);
		break;
	}
}

static void gen_any_valid(struct gen_req *r, const struct nl *nl,
			  const struct node_model *m)
{
	/* Changes are the interesting part: more of them. */
	static const __u8 cmds[] = {
		MIGTCP_CMD_NODE_GET, MIGTCP_CMD_NODE_SET, MIGTCP_CMD_NODE_SET,
		MIGTCP_CMD_PEER_GET, MIGTCP_CMD_PEER_NEW, MIGTCP_CMD_PEER_NEW,
		MIGTCP_CMD_PEER_NEW, MIGTCP_CMD_PEER_SET, MIGTCP_CMD_PEER_DEL,
		MIGTCP_CMD_PEER_DEL, MIGTCP_CMD_SOCK_GET, MIGTCP_CMD_STATS_GET,
	};
	__u8 cmd = cmds[below(sizeof(cmds))];
	bool dump = cmd == MIGTCP_CMD_SOCK_GET ||
		    (cmd == MIGTCP_CMD_PEER_GET && chance(3));

	gen_valid(r, nl, m, cmd, dump);
}

/* The list a mutation works on: the nest's, or the top level. */
static struct gen_attr *pick_list(struct gen_req *r, int **n)
{
	if (r->nn && chance(2)) {
		*n = &r->nn;
		return r->na;
	}
	*n = &r->n;
	return r->a;
}

static void insert_attr(struct gen_attr *list, int *n, const struct gen_attr *a)
{
	int at;

	if (*n >= MAX_ATTRS)
		return;
	at = below(*n + 1);
	memmove(&list[at + 1], &list[at], (*n - at) * sizeof(list[0]));
	list[at] = *a;
	(*n)++;
}

static void mutate_value(struct gen_req *r, const struct node_model *m)
{
	int *n, i, type;
	struct gen_attr *list = pick_list(r, &n), *a;
	__u32 v32;

	if (!*n)
		return;
	i = below(*n);
	a = &list[i];
	if (a->is_nest)
		return;
	type = a->type & NLA_TYPE_MASK;
	/* The nest's id and addresses, as the top level's. */
	if (list == r->na)
		type = type == MIGTCP_PEER_A_ID ? MIGTCP_A_NODE_ID :
		       type == MIGTCP_PEER_A_ADDR_IN ? MIGTCP_A_NODE_ADDR_IN :
		       type == MIGTCP_PEER_A_ADDR_IN6 ? MIGTCP_A_NODE_ADDR_IN6 :
		       0;
	switch (type) {
	case MIGTCP_A_NODE_ID:
		v32 = chance(2) ? 0 : gen_id(m);
		memcpy(a->data, &v32, 4);
		break;
	case MIGTCP_A_NODE_ADDR_IN:
		v32 = gen_addr(false);
		memcpy(a->data, &v32, 4);
		break;
	case MIGTCP_A_NODE_ADDR_IN6:
		gen_addr6(a->data, false);
		break;
	case MIGTCP_A_NODE_PORT_MIN:
	case MIGTCP_A_NODE_PORT_MAX:
		if (chance(2)) {
			memset(a->data, 0, 2);
		} else {
			__u16 p = gen_port();

			memcpy(a->data, &p, 2);
		}
		break;
	default:
		fill_rnd(a->data, a->len);
	}
	(void)m;
}

/*
 * An IPv6 address the module refuses, in place of the request's (or
 * added): in the peer nest if it has one, else at the top level.
 */
static void bad_addr6(struct gen_req *r)
{
	struct gen_attr *list;
	bool nest = false;
	__u8 a6[16];
	__u16 type;
	int *n, i;

	for (i = 0; i < r->n; i++)
		nest |= r->a[i].is_nest;
	list = nest ? r->na : r->a;
	n = nest ? &r->nn : &r->n;
	type = nest ? MIGTCP_PEER_A_ADDR_IN6 : MIGTCP_A_NODE_ADDR_IN6;
	gen_addr6(a6, false);
	for (i = 0; i < *n; i++)
		if (list[i].type == type && list[i].len == 16) {
			memcpy(list[i].data, a6, 16);
			return;
		}
	if (*n < MAX_ATTRS)
		put_attr(&list[(*n)++], type, a6, 16);
}

/* Applies mutation @mu (of the kinds that work on the request's parts). */
static void mutate_req(struct gen_req *r, enum mutation mu,
		       const struct node_model *m)
{
	static const __u16 ro_types[] = {
		MIGTCP_A_PAD, MIGTCP_A_NODE_KEY_SET, MIGTCP_A_SOCK,
		MIGTCP_A_STATS, MIGTCP_A_PEER_COUNT, MIGTCP_A_PEER_MAX,
	};
	static const __u16 flag_bits[] = {
		NLM_F_ACK, NLM_F_ECHO, NLM_F_MULTI, NLM_F_DUMP_INTR,
		NLM_F_DUMP_FILTERED, NLM_F_ROOT, NLM_F_MATCH, NLM_F_ATOMIC,
		NLM_F_REQUEST, 0x0040, 0x0080, 0x0800, 0x1000, 0x8000,
	};
	struct gen_attr a, *list;
	int *n, i;

	switch (mu) {
	case MU_UNKNOWN_ATTR:
		list = pick_list(r, &n);
		memset(&a, 0, sizeof(a));
		switch (below(4)) {
		case 0:
			a.type = 0;
			break;
		case 1:
			a.type = (list == r->a ? MIGTCP_A_MAX : MIGTCP_PEER_A_MAX) +
				 1 + below(3);
			break;
		case 2:
			a.type = NLA_TYPE_MASK - below(4);
			break;
		default:
			a.type = rnd();
		}
		a.len = below(9);
		fill_rnd(a.data, a.len);
		if ((a.type & NLA_TYPE_MASK) == 0 ||
		    (a.type & NLA_TYPE_MASK) >
		    (list == r->a ? MIGTCP_A_MAX : MIGTCP_PEER_A_MAX))
			insert_attr(list, n, &a);
		else
			insert_attr(list, n, &a);
		break;
	case MU_READONLY_ATTR:
		memset(&a, 0, sizeof(a));
		a.type = ro_types[below(6)];
		a.len = chance(2) ? 4 : below(9);
		fill_rnd(a.data, a.len);
		insert_attr(r->a, &r->n, &a);
		break;
	case MU_WRONG_LEN:
		list = pick_list(r, &n);
		if (!*n)
			break;
		i = below(*n);
		if (list[i].is_nest) {
			/* A nest of 1 to 3 bytes, or one cut short. */
			r->nn = 0;
			list[i].is_nest = false;
			list[i].len = below(4);
			fill_rnd(list[i].data, list[i].len);
			break;
		}
		list[i].len = chance(2) ? below(ATTR_DATA + 1) :
			      list[i].len + (chance(2) ? 1 : -1) * (1 + below(3));
		if (list[i].len > ATTR_DATA)
			list[i].len = ATTR_DATA;
		break;
	case MU_VALUE:
		if (chance(3))
			bad_addr6(r);
		else
			mutate_value(r, m);
		if (chance(3)) {
			/* An inverted range: both ends valid, min above max. */
			__u16 lo = 2 + below(65534), hi = 1 + below(lo - 1);

			add_top(r, MIGTCP_A_NODE_PORT_MIN, &lo, 2);
			add_top(r, MIGTCP_A_NODE_PORT_MAX, &hi, 2);
		}
		break;
	case MU_BAD_ADDR6:
		bad_addr6(r);
		break;
	case MU_DUP:
		list = pick_list(r, &n);
		if (!*n || list[0].is_nest)
			break;
		a = list[below(*n)];
		if (a.is_nest)
			break;
		if (chance(2) && a.len == 4) {
			__u32 v = (a.type & NLA_TYPE_MASK) == 2 ? gen_addr(true) :
				  gen_id(m);

			memcpy(a.data, &v, 4);
		} else if (chance(2) && a.len == 16) {
			/* Another IPv6 address: the last one counts. */
			gen_addr6(a.data, true);
		}
		insert_attr(list, n, &a);
		break;
	case MU_MISSING:
		list = pick_list(r, &n);
		if (!*n)
			break;
		i = below(*n);
		if (list[i].is_nest)
			r->nn = 0;
		memmove(&list[i], &list[i + 1], (*n - i - 1) * sizeof(list[0]));
		(*n)--;
		break;
	case MU_NLA_FLAGS:
		list = pick_list(r, &n);
		if (!*n)
			break;
		i = below(*n);
		list[i].type ^= chance(2) ? NLA_F_NESTED : NLA_F_NET_BYTEORDER;
		break;
	case MU_NLMSG_FLAGS:
		for (i = below(3); i >= 0; i--)
			r->nl_flags ^= flag_bits[below(sizeof(flag_bits) /
						       sizeof(flag_bits[0]))];
		break;
	case MU_GENL_HDR:
		switch (below(3)) {
		case 0:
			r->reserved = 1 + below(0xffff);
			break;
		case 1:
			r->cmd = chance(2) ? below(12) : rnd();
			break;
		default:
			r->version = rnd();
		}
		break;
	default:
		break;
	}
}

/* The request as bytes; its length. */
static size_t serialise(const struct gen_req *r, __u8 *buf, size_t cap)
{
	struct nlmsghdr *nlh = (void *)buf;
	struct genlmsghdr *g;
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
	int i, j;

	memset(buf, 0, cap);
	nlh->nlmsg_type = r->nl_type;
	nlh->nlmsg_flags = r->nl_flags;
	nlh->nlmsg_seq = r->seq;
	g = (void *)(buf + NLMSG_HDRLEN);
	g->cmd = r->cmd;
	g->version = r->version;
	g->reserved = r->reserved;
	for (i = 0; i < r->n; i++) {
		const struct gen_attr *a = &r->a[i];
		size_t start = off;
		struct nlattr h;

		off += NLA_HDRLEN;
		if (a->is_nest) {
			for (j = 0; j < r->nn; j++) {
				const struct gen_attr *b = &r->na[j];
				struct nlattr bh = {
					.nla_len = NLA_HDRLEN + b->len,
					.nla_type = b->type,
				};

				memcpy(buf + off, &bh, sizeof(bh));
				memcpy(buf + off + NLA_HDRLEN, b->data, b->len);
				off += NLA_ALIGN(NLA_HDRLEN + b->len);
			}
		} else {
			memcpy(buf + off, a->data, a->len);
			off += a->len;
		}
		h.nla_len = off - start;
		h.nla_type = a->type;
		memcpy(buf + start, &h, sizeof(h));
		off = start + NLA_ALIGN(off - start);
	}
	nlh->nlmsg_len = off;
	(void)cap;
	return off;
}

/* ------------------------------------------------------------------ */
/* Netlink: running a datagram against the kernel and the model.        */
/* ------------------------------------------------------------------ */

/* A node's or a peer's addresses, for a report: "(none)" if neither. */
static const char *fmt_addrs(const struct event *e, char *buf, size_t len)
{
	char a4[INET_ADDRSTRLEN] = "", a6[INET6_ADDRSTRLEN] = "";

	if (e->has_addr)
		inet_ntop(AF_INET, &e->addr.in, a4, sizeof(a4));
	if (e->has_addr6)
		inet_ntop(AF_INET6, e->addr.in6, a6, sizeof(a6));
	snprintf(buf, len, "%s%s%s", a4, *a4 && *a6 ? " " : "",
		 *a4 || *a6 ? a6 : "(none)");
	return buf;
}

static bool same_addrs(const struct event *want, const struct event *got)
{
	return want->has_addr == got->has_addr &&
	       want->has_addr6 == got->has_addr6 &&
	       !memcmp(&want->addr, &got->addr, sizeof(want->addr));
}

static bool same_event(const struct event *want, const struct event *got,
		       char *why, size_t wl)
{
	const char *wmsg = want->msg ?: "";
	char ga[64], wa[64];

	if (want->kind != got->kind) {
		snprintf(why, wl, "message kind %d, expected %d", got->kind,
			 want->kind);
		return false;
	}
	if (want->kind == EV_DATA) {
		if (want->cmd != got->cmd) {
			snprintf(why, wl, "message of command %d, expected %d",
				 got->cmd, want->cmd);
			return false;
		}
		if ((want->cmd == MIGTCP_CMD_NODE_GET ||
		     want->cmd == MIGTCP_CMD_NODE_SET) &&
		    (want->id != got->id || !same_addrs(want, got) ||
		     want->key_set != got->key_set ||
		     want->port_min != got->port_min ||
		     want->port_max != got->port_max ||
		     want->peer_count != got->peer_count ||
		     want->peer_max != got->peer_max)) {
			snprintf(why, wl,
				 "node (command %d): id %u at %s key %u ports %u-%u peers %u/%u, model: id %u at %s key %u ports %u-%u peers %u/%u",
				 got->cmd, got->id, fmt_addrs(got, ga, sizeof(ga)),
				 got->key_set, got->port_min, got->port_max,
				 got->peer_count, got->peer_max, want->id,
				 fmt_addrs(want, wa, sizeof(wa)), want->key_set,
				 want->port_min, want->port_max,
				 want->peer_count, want->peer_max);
			return false;
		}
		if (want->cmd >= MIGTCP_CMD_PEER_GET &&
		    want->cmd <= MIGTCP_CMD_PEER_DEL &&
		    (want->id != got->id || !same_addrs(want, got))) {
			snprintf(why, wl,
				 "peer (command %d) %u at %s, model: peer %u at %s",
				 got->cmd, got->id, fmt_addrs(got, ga, sizeof(ga)),
				 want->id, fmt_addrs(want, wa, sizeof(wa)));
			return false;
		}
		return true;
	}
	if (want->err != got->err || strcmp(wmsg, got->rmsg) ||
	    (want->kind == EV_ACK &&
	     (want->offs != got->offs || want->miss_type != got->miss_type ||
	      want->miss_nest != got->miss_nest))) {
		snprintf(why, wl,
			 "%s %s \"%s\" offs %ld miss %ld/%ld, model: %s \"%s\" offs %ld miss %ld/%ld",
			 got->kind == EV_ACK ? "ack" : "done",
			 err_name(got->err), got->rmsg, got->offs,
			 got->miss_type, got->miss_nest, err_name(want->err),
			 wmsg, want->offs, want->miss_type, want->miss_nest);
		return false;
	}
	return true;
}

/*
 * The answer is the prediction: the same messages for each sequence
 * number, in the same order.  Answers to different requests of one
 * datagram may interleave (a dump's NLMSG_DONE comes with the next
 * recv(), after the answer to the next request of the datagram).
 */
static bool same_answer(const struct answer *want, const struct answer *got,
			char *why, size_t wl)
{
	int i, j, k;

	if (want->overflow || got->overflow) {
		snprintf(why, wl, "more than %d messages", MAX_EVENTS);
		return false;
	}
	if (want->n != got->n) {
		snprintf(why, wl, "%d messages, model: %d", got->n, want->n);
		return false;
	}
	for (i = 0; i < want->n; i++) {
		__u32 seq = want->ev[i].seq;
		int nth = 0;

		for (k = 0; k < i; k++)
			nth += want->ev[k].seq == seq;
		for (j = 0; j < got->n; j++)
			if (got->ev[j].seq == seq && nth-- == 0)
				break;
		if (j == got->n) {
			snprintf(why, wl, "no answer %d to seq %u", i, seq);
			return false;
		}
		if (!same_event(&want->ev[i], &got->ev[j], why, wl))
			return false;
	}
	return true;
}

enum run_result { RUN_OK, RUN_SKIP, RUN_MISMATCH };

/*
 * Sends datagram @buf to the kernel (without CAP_NET_ADMIN if @unpriv)
 * and through the model of @m; RUN_OK when the answers agree, @m then
 * being the state after it.
 */
static enum run_result nl_run(struct nl *nl, struct node_model *m,
			      const __u8 *buf, size_t len, bool unpriv,
			      struct prediction *p, char *why, size_t wl)
{
	static struct node_model next;
	static struct answer got;
	int err;

	next = *m;
	model_datagram(nl, &next, buf, len, unpriv, p);
	if (p->unpredictable)
		return RUN_SKIP;
	if (unpriv && cap_net_admin(false)) {
		snprintf(why, wl, "capset: %s", strerror(errno));
		return RUN_MISMATCH;
	}
	err = nl_send(nl, buf, len);
	if (unpriv && cap_net_admin(true)) {
		snprintf(why, wl, "capset: %s", strerror(errno));
		return RUN_MISMATCH;
	}
	/* netlink_sendmsg() refuses an empty datagram. */
	if (!len && err == -ENODATA)
		err = 0;
	else if (!len && !err)
		err = -EPROTO;
	if (err) {
		snprintf(why, wl, "sendto: %s", strerror(-err));
		return RUN_MISMATCH;
	}
	err = nl_collect(nl->fd, &got, p->a.n);
	if (err) {
		snprintf(why, wl, "recv: %s", strerror(-err));
		return RUN_MISMATCH;
	}
	if (!same_answer(&p->a, &got, why, wl))
		return RUN_MISMATCH;
	/*
	 * The notifications, queued before the answer: as the replies, only
	 * the predicted ones are read, and one too many shows at the next
	 * read or in the final drain.
	 */
	if (nl->mon_fd >= 0 && p->notes.n) {
		char what[384];

		err = nl_collect(nl->mon_fd, &got, p->notes.n);
		if (err) {
			snprintf(why, wl, "notifications: recv: %s",
				 strerror(-err));
			return RUN_MISMATCH;
		}
		if (!same_answer(&p->notes, &got, what, sizeof(what))) {
			snprintf(why, wl, "notifications: %s", what);
			return RUN_MISMATCH;
		}
	}
	*m = next;
	return RUN_OK;
}

/* A valid request run; RUN_OK if the kernel answered as the model. */
static enum run_result nl_run_req(struct nl *nl, struct node_model *m,
				  struct gen_req *r, char *why, size_t wl)
{
	static __u8 buf[REQ_MAX];
	struct prediction p;
	size_t len;

	r->seq = ++nl->seq;
	len = serialise(r, buf, sizeof(buf));
	return nl_run(nl, m, buf, len, false, &p, why, wl);
}

/* NODE_GET, and with @peers a PEER_GET dump: the kernel's state is @m's. */
static enum run_result check_state(struct nl *nl, struct node_model *m,
				   bool peers, char *why, size_t wl)
{
	struct gen_req r;
	enum run_result res;

	gen_valid(&r, nl, m, MIGTCP_CMD_NODE_GET, false);
	r.nl_flags = NLM_F_REQUEST | NLM_F_ACK;
	res = nl_run_req(nl, m, &r, why, wl);
	if (res != RUN_OK || !peers)
		return res;
	gen_valid(&r, nl, m, MIGTCP_CMD_PEER_GET, true);
	return nl_run_req(nl, m, &r, why, wl);
}

/* Reads the kernel's node and peers into @m (the model starts from them). */
static int model_load(struct nl *nl, struct node_model *m)
{
	static __u8 buf[REQ_MAX];
	static struct answer got;
	struct gen_req r;
	size_t len;
	int i, want;

	memset(m, 0, sizeof(*m));
	gen_valid(&r, nl, m, MIGTCP_CMD_NODE_GET, false);
	r.nl_flags = NLM_F_REQUEST | NLM_F_ACK;
	r.seq = ++nl->seq;
	len = serialise(&r, buf, sizeof(buf));
	if (nl_send(nl, buf, len) || nl_collect(nl->fd, &got, -1) ||
	    got.n != 2 || got.ev[0].kind != EV_DATA)
		return -1;
	/* An address the node has not is all zero in the event too. */
	m->id = got.ev[0].id;
	m->addr = got.ev[0].addr;
	m->key_set = got.ev[0].key_set;
	m->port_min = got.ev[0].port_min;
	m->port_max = got.ev[0].port_max;
	m->max_peers = got.ev[0].peer_max;
	want = got.ev[0].peer_count;
	gen_valid(&r, nl, m, MIGTCP_CMD_PEER_GET, true);
	r.seq = ++nl->seq;
	len = serialise(&r, buf, sizeof(buf));
	if (nl_send(nl, buf, len) || nl_collect(nl->fd, &got, -1))
		return -1;
	for (i = 0; i < got.n && got.ev[i].kind == EV_DATA; i++) {
		m->peer[m->npeers].id = got.ev[i].id;
		m->peer[m->npeers].addr = got.ev[i].addr;
		m->npeers++;
	}
	return m->npeers == want ? 0 : -1;
}

static int write_param(const char *name, unsigned long v)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/module/migtcp/parameters/%s", name);
	f = fopen(path, "we");
	if (!f)
		return -1;
	ret = fprintf(f, "%lu\n", v) > 0 ? 0 : -1;
	if (fclose(f))
		ret = -1;
	return ret;
}

/* ipv6_mod_enabled(): IPv6 built in or loaded, and not ipv6.disable=1. */
static bool ipv6_enabled(void)
{
	FILE *f = fopen("/sys/module/ipv6/parameters/disable", "re");
	int disable = 1;

	if (f) {
		if (fscanf(f, "%d", &disable) != 1)
			disable = 1;
		fclose(f);
	}
	return !disable;
}

static bool kernel_splits_ops(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return true;
	return major > 6 || (major == 6 && minor >= 2);
}

/* The commands that check an IPv6 address they are given. */
static const __u8 addr_cmds[] = {
	MIGTCP_CMD_NODE_SET, MIGTCP_CMD_PEER_NEW, MIGTCP_CMD_PEER_SET,
};

/* Builds datagram @mu into @buf; its length.  *@unpriv for MU_UNPRIV. */
static size_t gen_datagram(struct nl *nl, struct node_model *m,
			   enum mutation mu, __u8 *buf, size_t cap,
			   bool *unpriv, __u8 *cmd)
{
	struct nlmsghdr *nlh = (void *)buf;
	struct gen_req r;
	size_t len, len2;
	int i;

	*unpriv = false;
	gen_any_valid(&r, nl, m);
	if (mu == MU_BAD_ADDR6 && !chance(4))
		/* Mostly to a command that checks the address. */
		gen_valid(&r, nl, m, addr_cmds[below(3)], false);
	r.seq = ++nl->seq;
	switch (mu) {
	case MU_UNKNOWN_ATTR ... MU_GENL_HDR:
		mutate_req(&r, mu, m);
		if (chance(4))	/* and another one */
			mutate_req(&r, MU_UNKNOWN_ATTR + below(MU_GENL_HDR -
							      MU_UNKNOWN_ATTR + 1),
				   m);
		break;
	case MU_UNPRIV:
		*unpriv = true;
		break;
	default:
		break;
	}
	*cmd = r.cmd;
	len = serialise(&r, buf, cap);
	switch (mu) {
	case MU_NLMSG_LEN:
		switch (below(4)) {
		case 0:
			nlh->nlmsg_len = below(NLMSG_HDRLEN);
			break;
		case 1:
			nlh->nlmsg_len = NLMSG_HDRLEN + below(GENL_HDRLEN);
			break;
		case 2:
			nlh->nlmsg_len = len > 1 ? 1 + below(len - 1) : 0;
			break;
		default:
			nlh->nlmsg_len = len + 1 + below(chance(2) ? 8 : 60000);
		}
		break;
	case MU_TRUNCATE:
		len = below(len);
		break;
	case MU_BITFLIP:
		for (i = 1 + below(4); i > 0; i--)
			buf[below(len)] ^= 1 << below(8);
		break;
	case MU_RANDOM:
		len = below(160);
		fill_rnd(buf, len);
		if (len >= NLMSG_HDRLEN + GENL_HDRLEN && !chance(4)) {
			/* A header that gets it to the family's attributes. */
			nlh->nlmsg_len = len;
			nlh->nlmsg_type = nl->family;
			nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
			nlh->nlmsg_seq = r.seq;
			buf[NLMSG_HDRLEN] = 1 + below(8);
			buf[NLMSG_HDRLEN + 2] = 0;
			buf[NLMSG_HDRLEN + 3] = 0;
		} else if (len >= NLMSG_HDRLEN) {
			nlh->nlmsg_seq = r.seq;
		}
		break;
	case MU_BATCH:
		/* A second request, mutated or not, in the same datagram. */
		len = NLMSG_ALIGN(len);
		gen_any_valid(&r, nl, m);
		r.seq = ++nl->seq;
		if (chance(2))
			mutate_req(&r, MU_UNKNOWN_ATTR +
				   below(MU_GENL_HDR - MU_UNKNOWN_ATTR + 1), m);
		{
			static __u8 b2[REQ_MAX];

			len2 = serialise(&r, b2, sizeof(b2));
			if (len + len2 <= cap)
				memcpy(buf + len, b2, len2), len += len2;
		}
		break;
	default:
		break;
	}
	return len;
}

/* The first error the model predicts for the datagram, or how it went. */
static const char *outcome(const struct prediction *p)
{
	int i;

	for (i = 0; i < p->a.n; i++)
		if (p->a.ev[i].kind == EV_ACK && p->a.ev[i].err)
			return err_name(p->a.ev[i].err);
	return p->a.n ? "accepted" : "no-answer";
}

static enum mutation pick_mutation(void)
{
	/* Weights: the request mutations most, state actions rarely. */
	static const __u8 w[MU_NR] = {
		[MU_VALID] = 14, [MU_UNKNOWN_ATTR] = 5, [MU_READONLY_ATTR] = 4,
		[MU_WRONG_LEN] = 6, [MU_VALUE] = 8, [MU_BAD_ADDR6] = 5,
		[MU_DUP] = 6,
		[MU_MISSING] = 6, [MU_NLA_FLAGS] = 5, [MU_NLMSG_FLAGS] = 5,
		[MU_GENL_HDR] = 5, [MU_NLMSG_LEN] = 5, [MU_TRUNCATE] = 4,
		[MU_BITFLIP] = 8, [MU_RANDOM] = 6, [MU_BATCH] = 5,
		[MU_UNPRIV] = 3, [MU_LIMIT] = 1, [MU_BOUND] = 1,
	};
	unsigned int total = 0, x, i;

	for (i = 0; i < MU_NR; i++)
		total += w[i];
	x = below(total);
	for (i = 0; i < MU_NR; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return MU_VALID;
}

/* The fuzzer's own bound socket of node 1: it pins the node id (EBUSY). */
static int toggle_bound(CLUSTER *self, struct node_model *m, int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
		m->bound = false;
		return 0;
	}
	*fd = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -1;
	if (bind_to(*fd, self->family, 0, 0)) {
		/* No node id yet, or no free port in the range. */
		close(*fd);
		*fd = -1;
		return 0;
	}
	m->bound = true;
	return 0;
}

#define NL_PEER_LIMIT	32	/* max_peers while the netlink part runs */

static unsigned long iters_per_part(void)
{
	return migtcp_test_env_ulong("MIGTCP_FUZZ_NL_ITERS", FUZZ_ITERS);
}

static __u64 fuzz_seed(void)
{
	return migtcp_test_env_ulong("MIGTCP_FUZZ_SEED", FUZZ_SEED);
}

/*
 * A request that must succeed: a NODE_SET or peer change built here,
 * with @addr (IPv4 or IPv6, as cluster.h's are; NULL for PEER_DEL).
 */
static enum run_result must_do(struct nl *nl, struct node_model *m, __u8 cmd,
			       __u32 id, const char *addr, char *why,
			       size_t wl)
{
	__u16 lo = 32768, hi = 60999, type;
	struct gen_req r;
	__u8 a[16];
	int len = 0;

	if (addr && inet_pton(AF_INET, addr, a) == 1)
		len = 4;
	else if (addr && inet_pton(AF_INET6, addr, a) == 1)
		len = 16;
	gen_valid(&r, nl, m, MIGTCP_CMD_NODE_GET, false);
	r.cmd = cmd;
	r.nl_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (cmd == MIGTCP_CMD_NODE_SET) {
		type = len == 4 ? MIGTCP_A_NODE_ADDR_IN : MIGTCP_A_NODE_ADDR_IN6;
		add_top(&r, MIGTCP_A_NODE_ID, &id, 4);
		if (len)
			add_top(&r, type, a, len);
		add_top(&r, MIGTCP_A_NODE_PORT_MIN, &lo, 2);
		add_top(&r, MIGTCP_A_NODE_PORT_MAX, &hi, 2);
	} else {
		type = len == 4 ? MIGTCP_PEER_A_ADDR_IN : MIGTCP_PEER_A_ADDR_IN6;
		add_peer_nest(&r);
		add_nested(&r, MIGTCP_PEER_A_ID, &id, 4);
		if (len)
			add_nested(&r, type, a, len);
	}
	if (addr && !len) {
		snprintf(why, wl, "not an address: %s", addr);
		return RUN_MISMATCH;
	}
	return nl_run_req(nl, m, &r, why, wl);
}

/*
 * Puts node 1 back as the fixture made it (id 1, its address, peers 2
 * and 3, the default port range), keeping the cluster key the fuzzer
 * left, gives node 2 that key too, and shows that the node still works:
 * no socket left on either node, a new connection carries data.  An
 * address of the other family that the fuzzer gave node 1 stays (no
 * request takes one away); its peers have none of that family, so it is
 * never used.
 */
static void node_still_works(struct __test_metadata *_metadata, CLUSTER *self,
			     struct nl *nl, struct node_model *m)
{
	char why[512] = "";
	struct nl nl2;
	int c = -1, a = -1;

	while (m->npeers)
		ASSERT_EQ(0, (int)must_do(nl, m, MIGTCP_CMD_PEER_DEL,
					  m->peer[0].id, NULL, why,
					  sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(0, (int)must_do(nl, m, MIGTCP_CMD_NODE_SET, NODE1,
				  NODE1_ADDR, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, (int)must_do(nl, m, MIGTCP_CMD_PEER_NEW, NODE2,
				  NODE2_ADDR, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, (int)must_do(nl, m, MIGTCP_CMD_PEER_NEW, NODE3,
				  NODE3_ADDR, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, (int)check_state(nl, m, true, why, sizeof(why)))
		TH_LOG("%s", why);
	if (m->key_set) {
		struct node_model m2;
		struct gen_req r;

		ON_NODE(NODE2);
		ASSERT_EQ(0, nl_open(&nl2));
		ASSERT_EQ(0, model_load(&nl2, &m2));
		gen_valid(&r, &nl2, &m2, MIGTCP_CMD_NODE_GET, false);
		r.cmd = MIGTCP_CMD_NODE_SET;
		add_top(&r, MIGTCP_A_NODE_KEY, m->key, MIGTCP_KEY_LEN);
		EXPECT_EQ(0, (int)nl_run_req(&nl2, &m2, &r, why, sizeof(why)))
			TH_LOG("node 2's key: %s", why);
		nl_close(&nl2);
	}
	ASSERT_EQ(0, sockets_on(self, NODE1)) TH_LOG("a socket was left on node 1");
	ASSERT_EQ(0, sockets_on(self, NODE2)) TH_LOG("a socket was left on node 2");
	CONNECT_PAIR(&c, &a);
	exchange(_metadata, c, a, 12, 100000);
	close(c);
	close(a);
}

TEST_F_TIMEOUT(cluster, netlink, 600)
{
	static __u8 buf[REQ_MAX];
	static struct node_model m;
	unsigned long iters = iters_per_part(), it, skipped = 0;
	unsigned long addr6_ok = 0, addr6_bad = 0, notes = 0;
	struct counts by_result = {}, by_mu = {};
	enum mutation last_mu = MU_VALID;
	size_t last_len = 0;
	int orig_max_peers, bound_fd = -1, dmesg_before;
	__u64 seed = fuzz_seed();
	long start = now_ms();
	char why[512] = "";
	bool failed = false;
	struct nl nl;

	fprintf(stderr, "# netlink: seed %#llx (MIGTCP_FUZZ_SEED), %lu requests (MIGTCP_FUZZ_NL_ITERS)\n",
		(unsigned long long)seed, iters);
	seed_part(seed, 1);
	split_ops = kernel_splits_ops();
	dmesg_before = dmesg_bad_lines();
	orig_max_peers = migtcp_module_param("max_peers");
	ASSERT_LT(0, orig_max_peers);
	ipv6_on = ipv6_enabled();
	ON_NODE(NODE1);
	ASSERT_EQ(0, nl_open(&nl)) TH_LOG("netlink: %s", strerror(errno));
	ASSERT_EQ(0, nl_monitor(&nl)) TH_LOG("monitor: %s", strerror(errno));
	ASSERT_EQ(0, write_param("max_peers", NL_PEER_LIMIT));
	ASSERT_EQ(0, model_load(&nl, &m));
	ASSERT_EQ(NL_PEER_LIMIT, (int)m.max_peers);

	for (it = 0; it < iters && !failed; it++) {
		enum mutation mu = pick_mutation();
		struct prediction p;
		enum run_result res;
		bool unpriv, peers;
		size_t len;
		__u8 cmd;

		if (mu == MU_LIMIT) {
			__u32 lim = chance(4) ? NL_PEER_LIMIT :
				    (__u32)below(m.npeers + 4);

			if (write_param("max_peers", lim)) {
				snprintf(why, sizeof(why), "cannot set max_peers");
				failed = true;
				break;
			}
			m.max_peers = lim;
		}
		if (mu == MU_BOUND && toggle_bound(self, &m, &bound_fd)) {
			snprintf(why, sizeof(why), "socket: %s", strerror(errno));
			failed = true;
			break;
		}
		len = gen_datagram(&nl, &m, mu, buf, sizeof(buf), &unpriv, &cmd);
		last_mu = mu;
		last_len = len;
		res = nl_run(&nl, &m, buf, len, unpriv, &p, why, sizeof(why));
		if (res == RUN_SKIP) {
			skipped++;
			it--;
			continue;
		}
		count(&by_mu, mu_names[mu]);
		count(&by_result, outcome(&p));
		addr6_ok += p.addr6_ok;
		addr6_bad += p.addr6_bad;
		notes += p.notes.n;
		if (res != RUN_OK) {
			failed = true;
			break;
		}
		/*
		 * NODE_GET's peer count shows any peer added or deleted; the
		 * dump also shows an address replaced, or an entry moved.
		 */
		peers = p.peer_change || it % 16 == 0;
		(void)cmd;
		if (check_state(&nl, &m, peers, why, sizeof(why)) != RUN_OK) {
			failed = true;
			break;
		}
	}
	if (!failed) {
		static struct answer extra;

		/* Nothing came that the model did not predict. */
		if (nl_collect(nl.fd, &extra, -1) || extra.n) {
			snprintf(why, sizeof(why), "%d messages more than predicted",
				 extra.n);
			failed = true;
		} else if (nl_collect(nl.mon_fd, &extra, -1) || extra.n) {
			snprintf(why, sizeof(why),
				 "%d notifications more than predicted",
				 extra.n);
			failed = true;
		}
	}
	if (failed) {
		TH_LOG("request %lu (%s, %zu bytes): %s", it, mu_names[last_mu],
		       last_len, why);
		fprintf(stderr, "# the datagram:");
		for (size_t i = 0; i < last_len && i < 256; i++)
			fprintf(stderr, " %02x", buf[i]);
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "# netlink: %lu requests in %ld ms (%lu regenerated: aimed at another family)\n",
		it, now_ms() - start, skipped);
	print_counts("netlink", "by result", &by_result);
	print_counts("netlink", "by mutation", &by_mu);
	fprintf(stderr, "# netlink: IPv6 addresses checked%s: %lu usable, %lu refused; %lu notifications\n",
		ipv6_on ? "" : " (IPv6 disabled: refused with EAFNOSUPPORT)",
		addr6_ok, addr6_bad, notes);
	if (bound_fd >= 0)
		toggle_bound(self, &m, &bound_fd);
	write_param("max_peers", orig_max_peers);
	m.max_peers = orig_max_peers;
	ASSERT_FALSE(failed);
	node_still_works(_metadata, self, &nl, &m);
	nl_close(&nl);
	EXPECT_EQ(dmesg_before, dmesg_bad_lines())
		TH_LOG("the kernel log has new WARN/BUG lines");
}

/* ------------------------------------------------------------------ */
/* Socket options.                                                      */
/* ------------------------------------------------------------------ */

enum sock_kind { S_FRESH, S_BOUND, S_LISTEN, S_CONN, S_FROZEN, S_PEERCLOSED,
		 S_NR };

static const char * const sock_names[S_NR] = {
	"fresh", "bound", "listening", "connected", "frozen", "closed-by-peer",
};

#define TCP_ESTABLISHED_	1
#define TCP_CLOSE_		7
#define TCP_CLOSE_WAIT_		8
#define TCP_LISTEN_		10

/* What each option of one socket reads as. */
struct sock_model {
	int fd;
	int state;			/* TCP_* */
	bool frozen;
	int nodelay, cork, user_mss, mss_now, keepidle, keepintvl, keepcnt;
	int quickack, user_timeout;
	char cong[MIGTCP_CA_NAME_MAX];
	int keepalive, rcvbuf, sndbuf, rcvlowat, reuse;
	struct linger linger;
	__u32 ckpt_len;			/* MIGTCP_CHECKPOINT's size, frozen */
};

/* The kernel's figures the SOL_SOCKET options depend on. */
struct sock_limits {
	int rmem_max, wmem_max;		/* net.core.[rw]mem_max */
	int min_rcvbuf, min_sndbuf;	/* SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF */
};

/* Where option values live: pointers of every kind. */
enum ptr_kind { PK_VALID, PK_NULL, PK_BAD, PK_RO, PK_STRADDLE, PK_NR };

static const char * const ptr_names[PK_NR] = {
	"valid", "null", "unmapped", "read-only", "straddling",
};

#define BIG_AREA	(1 << 20)	/* MIGTCP_RESTORE's longest valid blob */

struct areas {
	__u8 *pages;	/* RW, NONE, RO, NONE, RW, NONE */
	__u8 *big;	/* BIG_AREA + 64 bytes, RW */
	long page;
};

static int areas_init(struct areas *ar)
{
	ar->page = sysconf(_SC_PAGESIZE);
	ar->pages = mmap(NULL, 6 * ar->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ar->pages == MAP_FAILED)
		return -1;
	memset(ar->pages + 2 * ar->page, 0x5a, ar->page);
	if (mprotect(ar->pages + ar->page, ar->page, PROT_NONE) ||
	    mprotect(ar->pages + 2 * ar->page, ar->page, PROT_READ) ||
	    mprotect(ar->pages + 3 * ar->page, ar->page, PROT_NONE) ||
	    mprotect(ar->pages + 5 * ar->page, ar->page, PROT_NONE))
		return -1;
	ar->big = malloc(BIG_AREA + 64);
	return ar->big ? 0 : -1;
}

/* A pointer of kind @k; for PK_STRADDLE, @k_ok bytes are mapped. */
static void *area_ptr(const struct areas *ar, enum ptr_kind k, int k_ok)
{
	switch (k) {
	case PK_VALID:
		return ar->big;
	case PK_NULL:
		return NULL;
	case PK_BAD:
		return ar->pages + (chance(2) ? 1 : 3) * ar->page;
	case PK_RO:
		return ar->pages + 2 * ar->page;
	default:
		return ar->pages + ar->page - k_ok;
	}
}

/* Whether @n bytes at a pointer of kind @k can be read (or written). */
static bool can_access(enum ptr_kind k, int k_ok, long n, bool write)
{
	if (n <= 0)
		return true;
	switch (k) {
	case PK_VALID:
		return n <= BIG_AREA;
	case PK_RO:	/* one page, an unmapped one after it */
		return !write && n <= sysconf(_SC_PAGESIZE);
	case PK_STRADDLE:
		return n <= k_ok;
	default:
		return false;
	}
}

static int int_value(void)
{
	static const int v[] = {
		0, 1, -1, 2, 7, 87, 88, 89, 127, 128, 536, 1460, 32767, 32768,
		65535, 65536, 7200, 0x7fffffff, (int)0x80000000, 1 << 20,
	};

	return chance(5) ? (int)rnd() : v[below(sizeof(v) / sizeof(v[0]))];
}

/* Reads option @name of @fd into @v (int); 0 or -errno. */
static int get_int(int fd, int level, int name, int *v)
{
	socklen_t len = sizeof(*v);

	return getsockopt(fd, level, name, v, &len) ? -errno : 0;
}

/* What the model says every option of @s reads as, from the kernel now. */
static int sock_model_load(struct sock_model *s)
{
	socklen_t len = sizeof(s->cong);
	struct migtcp_info info;

	memset(s->cong, 0, sizeof(s->cong));
	if (get_int(s->fd, SOL_MIGTCP, MIGTCP_NODELAY, &s->nodelay) ||
	    get_int(s->fd, SOL_MIGTCP, MIGTCP_CORK, &s->cork) ||
	    get_int(s->fd, SOL_MIGTCP, MIGTCP_MAXSEG, &s->mss_now) ||
	    get_int(s->fd, SOL_MIGTCP, MIGTCP_KEEPIDLE, &s->keepidle) ||
	    get_int(s->fd, SOL_MIGTCP, MIGTCP_KEEPINTVL, &s->keepintvl) ||
	    get_int(s->fd, SOL_MIGTCP, MIGTCP_KEEPCNT, &s->keepcnt) ||
	    get_int(s->fd, SOL_MIGTCP, MIGTCP_QUICKACK, &s->quickack) ||
	    get_int(s->fd, SOL_MIGTCP, MIGTCP_USER_TIMEOUT, &s->user_timeout) ||
	    getsockopt(s->fd, SOL_MIGTCP, MIGTCP_CONGESTION, s->cong, &len) ||
	    get_int(s->fd, SOL_SOCKET, SO_KEEPALIVE, &s->keepalive) ||
	    get_int(s->fd, SOL_SOCKET, SO_RCVBUF, &s->rcvbuf) ||
	    get_int(s->fd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf) ||
	    get_int(s->fd, SOL_SOCKET, SO_RCVLOWAT, &s->rcvlowat) ||
	    get_int(s->fd, SOL_SOCKET, SO_REUSEADDR, &s->reuse) ||
	    get_info(s->fd, &info))
		return -1;
	len = sizeof(s->linger);
	if (getsockopt(s->fd, SOL_SOCKET, SO_LINGER, &s->linger, &len))
		return -1;
	/* Unconnected sockets report MIGTCP_MAXSEG's 536 until it is set. */
	s->user_mss = 0;
	s->state = info.state;
	s->frozen = info.migration == MIGTCP_MIG_FROZEN;
	return 0;
}

/* One call: what it is, and what the model expects of it. */
struct so_call {
	bool set;
	int level, name;
	int optlen;			/* set: the length; get: *optlen */
	enum ptr_kind val_k, len_k;	/* optval; get: optlen's pointer */
	int k_ok, len_ok;		/* straddling: bytes mapped */
	__u8 val[64];			/* set: the value's bytes */
	/* expected */
	int err;
	int out_len;			/* get: *optlen after */
	__u8 out[MIGTCP_CA_NAME_MAX + sizeof(struct migtcp_info)];
	int out_check;			/* bytes of out[] to compare */
	bool info;			/* MIGTCP_INFO: state and migration */
};

static const int migtcp_opts[] = {
	MIGTCP_NODELAY, MIGTCP_MAXSEG, MIGTCP_CORK, MIGTCP_KEEPIDLE,
	MIGTCP_KEEPINTVL, MIGTCP_KEEPCNT, MIGTCP_INFO, MIGTCP_QUICKACK,
	MIGTCP_CONGESTION, MIGTCP_USER_TIMEOUT, MIGTCP_FREEZE,
	MIGTCP_CHECKPOINT, MIGTCP_THAW, MIGTCP_RESTORE,
	/* unknown: TCP's numbers migtcp does not take, and others */
	0, 7, 8, 9, 10, 14, 19, 31, 36, 255,
};

static const int socket_opts[] = {
	SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF, SO_LINGER, SO_RCVLOWAT,
	SO_REUSEADDR,
};

static int pick_optlen(int exact)
{
	switch (below(7)) {
	case 0:
		return 0;
	case 1:
		return 1 + below(exact > 1 ? exact - 1 : 1);
	case 2:
	case 3:
		return exact;
	case 4:
		return exact + 1 + below(60);
	case 5:
		return chance(2) ? 0x7fffffff : (int)(1 + below(0x7fffffff));
	default:
		return chance(2) ? -1 : (int)(0x80000000 | rnd());
	}
}

static enum ptr_kind pick_ptr(void)
{
	static const __u8 w[PK_NR] = { 12, 2, 2, 2, 2 };
	unsigned int x = below(20), i;

	for (i = 0; i < PK_NR; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return PK_VALID;
}

static const char * const cong_names[] = {
	"reno", "cubic", "", "bbr", "vegas", "Reno", "cubicc", "cubi",
	"dctcp", "reno\0xx", "cubic\0cubic",
};

/* The name MIGTCP_CONGESTION's set reads from @c: -EFAULT, or 0 and @name. */
static int cong_name_read(const struct so_call *c, char *name)
{
	int n = c->optlen < MIGTCP_CA_NAME_MAX - 1 ? c->optlen :
		MIGTCP_CA_NAME_MAX - 1, i;

	for (i = 0; i < n; i++) {
		if (!can_access(c->val_k, c->k_ok, i + 1, false))
			return -EFAULT;
		if (!c->val[i])
			break;
		name[i] = c->val[i];
	}
	name[i] = 0;
	return 0;
}

/*
 * The expected outcome of a set on @s, per module/sockopt.c and
 * net/core/sock.c; @s is updated as the kernel should update it.
 * Returns false for calls that would change the socket's migration
 * state (a real freeze or thaw), which the fuzzer does not make.
 */
static bool expect_set(struct so_call *c, struct sock_model *s,
		       const struct sock_limits *lim)
{
	int val;

	c->err = 0;
	if (c->optlen < 0) {
		c->err = EINVAL;
		return true;
	}
	if (c->level != SOL_MIGTCP && c->level != SOL_SOCKET) {
		c->err = ENOPROTOOPT;
		return true;
	}
	if (c->level == SOL_SOCKET) {
		if (c->optlen < (int)sizeof(int)) {
			c->err = EINVAL;
			return true;
		}
		if (!can_access(c->val_k, c->k_ok, sizeof(int), false)) {
			c->err = EFAULT;
			return true;
		}
		memcpy(&val, c->val, sizeof(val));
		switch (c->name) {
		case SO_KEEPALIVE:
			s->keepalive = !!val;
			break;
		case SO_RCVBUF:
			val = (__u32)val < (__u32)lim->rmem_max ? val : lim->rmem_max;
			s->rcvbuf = val * 2 > lim->min_rcvbuf ? val * 2 :
				    lim->min_rcvbuf;
			break;
		case SO_SNDBUF:
			val = (__u32)val < (__u32)lim->wmem_max ? val : lim->wmem_max;
			s->sndbuf = val * 2 > lim->min_sndbuf ? val * 2 :
				    lim->min_sndbuf;
			break;
		case SO_RCVLOWAT:
			if (val < 0)
				val = 0x7fffffff;
			s->rcvlowat = val ?: 1;
			break;
		case SO_REUSEADDR:
			s->reuse = !!val;
			break;
		case SO_LINGER:
			if (c->optlen < (int)sizeof(struct linger)) {
				c->err = EINVAL;
				return true;
			}
			if (!can_access(c->val_k, c->k_ok,
					sizeof(struct linger), false)) {
				c->err = EFAULT;
				return true;
			}
			{
				struct linger l;

				memcpy(&l, c->val, sizeof(l));
				s->linger.l_onoff = !!l.l_onoff;
				if (l.l_onoff)
					s->linger.l_linger = l.l_linger;
			}
			break;
		}
		return true;
	}
	switch (c->name) {
	case MIGTCP_INFO:
		c->err = ENOPROTOOPT;
		return true;
	case MIGTCP_CONGESTION: {
		char name[MIGTCP_CA_NAME_MAX];

		if (cong_name_read(c, name)) {
			c->err = EFAULT;
			return true;
		}
		if (strcmp(name, "reno") && strcmp(name, "cubic")) {
			c->err = ENOENT;
			return true;
		}
		memset(s->cong, 0, sizeof(s->cong));
		strcpy(s->cong, name);
		return true;
	}
	case MIGTCP_RESTORE:
		if (c->optlen < (int)sizeof(struct migtcp_ckpt_hdr) ||
		    (unsigned int)c->optlen > (256U << 20))
			c->err = EINVAL;
		else if (!can_access(c->val_k, c->k_ok, c->optlen, false))
			c->err = EFAULT;
		else
			c->err = EINVAL;	/* no blob: random bytes */
		return true;
	case MIGTCP_FREEZE:
		if (c->optlen && c->optlen < (int)sizeof(int))
			c->err = EINVAL;
		else if (c->optlen &&
			 !can_access(c->val_k, c->k_ok, sizeof(int), false))
			c->err = EFAULT;
		else if (s->frozen)
			c->err = EALREADY;
		else
			return false;
		return true;
	case MIGTCP_THAW:
		if (s->frozen)
			return false;
		c->err = EINVAL;
		return true;
	}
	if (c->optlen < (int)sizeof(int)) {
		c->err = EINVAL;
		return true;
	}
	if (!can_access(c->val_k, c->k_ok, sizeof(int), false)) {
		c->err = EFAULT;
		return true;
	}
	memcpy(&val, c->val, sizeof(val));
	switch (c->name) {
	case MIGTCP_NODELAY:
		s->nodelay = !!val;
		break;
	case MIGTCP_CORK:
		s->cork = !!val;
		break;
	case MIGTCP_MAXSEG:
		if (val && (val < 88 || val > 65535))
			c->err = EINVAL;
		else
			s->user_mss = val;
		break;
	case MIGTCP_KEEPIDLE:
	case MIGTCP_KEEPINTVL:
		if (val < 1 || val > 32767)
			c->err = EINVAL;
		else if (c->name == MIGTCP_KEEPIDLE)
			s->keepidle = val;
		else
			s->keepintvl = val;
		break;
	case MIGTCP_KEEPCNT:
		if (val < 1 || val > 127)
			c->err = EINVAL;
		else
			s->keepcnt = val;
		break;
	case MIGTCP_QUICKACK:
		s->quickack = !!val;
		break;
	case MIGTCP_USER_TIMEOUT:
		if (val < 0)
			c->err = EINVAL;
		else
			s->user_timeout = val;
		break;
	default:
		c->err = ENOPROTOOPT;
	}
	return true;
}

/* The expected outcome of a get on @s. */
static void expect_get(struct so_call *c, const struct sock_model *s)
{
	int len = c->optlen, lv = sizeof(int), v = 0;
	bool unconnected = s->state == TCP_CLOSE_ || s->state == TCP_LISTEN_;
	const void *src = &v;

	c->err = 0;
	c->out_check = 0;
	c->info = false;
	if (c->level != SOL_MIGTCP && c->level != SOL_SOCKET) {
		c->err = ENOPROTOOPT;
		return;
	}
	if (!can_access(c->len_k, c->len_ok, sizeof(int), false)) {
		c->err = EFAULT;
		return;
	}
	if (len < 0) {
		c->err = EINVAL;
		return;
	}
	if (c->level == SOL_SOCKET) {
		switch (c->name) {
		case SO_KEEPALIVE:
			v = s->keepalive;
			break;
		case SO_RCVBUF:
			v = s->rcvbuf;
			break;
		case SO_SNDBUF:
			v = s->sndbuf;
			break;
		case SO_RCVLOWAT:
			v = s->rcvlowat;
			break;
		case SO_REUSEADDR:
			v = s->reuse;
			break;
		case SO_LINGER:
			lv = sizeof(s->linger);
			src = &s->linger;
			break;
		}
		if (len > lv)
			len = lv;
		if (!can_access(c->val_k, c->k_ok, len, true) ||
		    !can_access(c->len_k, c->len_ok, sizeof(int), true)) {
			c->err = EFAULT;
			return;
		}
		c->out_len = len;
		memcpy(c->out, src, len);
		c->out_check = len;
		return;
	}
	switch (c->name) {
	case MIGTCP_CHECKPOINT:
		if (!s->frozen) {
			c->err = EINVAL;
		} else if ((__u32)len < s->ckpt_len) {
			c->err = can_access(c->len_k, c->len_ok, sizeof(int),
					    true) ? ERANGE : EFAULT;
			c->out_len = s->ckpt_len;
		} else if (!can_access(c->val_k, c->k_ok, s->ckpt_len, true) ||
			   !can_access(c->len_k, c->len_ok, sizeof(int), true)) {
			c->err = EFAULT;
		} else {
			c->out_len = s->ckpt_len;
		}
		return;
	case MIGTCP_CONGESTION:
		lv = MIGTCP_CA_NAME_MAX;
		src = s->cong;
		break;
	case MIGTCP_INFO:
		lv = sizeof(struct migtcp_info);
		c->info = true;
		break;
	case MIGTCP_NODELAY:
		v = s->nodelay;
		break;
	case MIGTCP_CORK:
		v = s->cork;
		break;
	case MIGTCP_MAXSEG:
		v = unconnected ? (s->user_mss ?: 536) : s->mss_now;
		break;
	case MIGTCP_KEEPIDLE:
		v = s->keepidle;
		break;
	case MIGTCP_KEEPINTVL:
		v = s->keepintvl;
		break;
	case MIGTCP_KEEPCNT:
		v = s->keepcnt;
		break;
	case MIGTCP_QUICKACK:
		v = s->quickack;
		break;
	case MIGTCP_USER_TIMEOUT:
		v = s->user_timeout;
		break;
	default:
		c->err = ENOPROTOOPT;
		return;
	}
	if (len > lv)
		len = lv;
	if (!can_access(c->len_k, c->len_ok, sizeof(int), true) ||
	    !can_access(c->val_k, c->k_ok, len, true)) {
		c->err = EFAULT;
		return;
	}
	c->out_len = len;
	if (!c->info) {
		memcpy(c->out, src, len);
		c->out_check = len;
	}
}

/*
 * Makes call @c on @fd; false (with @why) if the kernel's answer is not
 * the expected one.
 */
static bool so_run(const struct so_call *c, const struct areas *ar, int fd,
		   const struct sock_model *s, char *why, size_t wl)
{
	void *val = area_ptr(ar, c->val_k, c->k_ok);
	int r, err, len = c->optlen, *lenp = &len;
	const __u8 *out = val;

	if (c->val_k == PK_VALID)
		memcpy(ar->big, c->val, sizeof(c->val));
	else if (c->val_k == PK_STRADDLE)
		memcpy(val, c->val, c->k_ok);
	if (c->set) {
		r = setsockopt(fd, c->level, c->name, val, (socklen_t)c->optlen);
	} else {
		switch (c->len_k) {
		case PK_VALID:
			break;
		case PK_STRADDLE:
			lenp = (int *)(ar->pages + 5 * ar->page - c->len_ok);
			memcpy(lenp, &len, c->len_ok);
			break;
		case PK_RO:
			lenp = (int *)(ar->pages + 2 * ar->page);
			break;
		case PK_NULL:
			lenp = NULL;
			break;
		default:
			lenp = (int *)(ar->pages + 3 * ar->page);
		}
		r = getsockopt(fd, c->level, c->name, val, (socklen_t *)lenp);
	}
	err = r ? errno : 0;
	if (r && r != -1) {
		snprintf(why, wl, "returned %d", r);
		return false;
	}
	if (err != c->err) {
		snprintf(why, wl, "%s, expected %s", err_name(err),
			 err_name(c->err));
		return false;
	}
	if (c->set || c->len_k != PK_VALID ||
	    (err && err != ERANGE))
		return true;
	if (len != c->out_len) {
		snprintf(why, wl, "optlen %d after, expected %d", len,
			 c->out_len);
		return false;
	}
	if (err)
		return true;
	if (c->out_check && memcmp(out, c->out, c->out_check)) {
		int got = 0, want = 0;

		memcpy(&got, out, c->out_check < 4 ? c->out_check : 4);
		memcpy(&want, c->out, c->out_check < 4 ? c->out_check : 4);
		snprintf(why, wl, "value %d, expected %d (%d bytes)", got,
			 want, c->out_check);
		return false;
	}
	if (c->info && len > 2 &&
	    (out[0] != s->state || out[2] != (s->frozen ? 1 : 0))) {
		snprintf(why, wl, "MIGTCP_INFO state %u migration %u, expected %u %u",
			 out[0], out[2], s->state, s->frozen ? 1 : 0);
		return false;
	}
	return true;
}

/* A random call on socket @s, its expectation in @c. */
static bool gen_call(struct so_call *c, struct sock_model *s, int kind,
		     const struct sock_limits *lim)
{
	int exact = sizeof(int);

	memset(c, 0, sizeof(*c));
	c->set = chance(2);
	switch (below(20)) {
	case 0:
		c->level = chance(2) ? IPPROTO_TCP : (int)rnd();
		if (c->level == SOL_SOCKET || c->level == SOL_MIGTCP)
			c->level = 0;
		c->name = migtcp_opts[below(sizeof(migtcp_opts) / sizeof(int))];
		break;
	case 1:
	case 2:
	case 3:
	case 4:
		c->level = SOL_SOCKET;
		c->name = socket_opts[below(sizeof(socket_opts) / sizeof(int))];
		break;
	default:
		c->level = SOL_MIGTCP;
		c->name = migtcp_opts[below(sizeof(migtcp_opts) / sizeof(int))];
	}
	if (c->name == SO_LINGER && c->level == SOL_SOCKET)
		exact = sizeof(struct linger);
	if (c->name == MIGTCP_CONGESTION && c->level == SOL_MIGTCP)
		exact = c->set ? 6 : MIGTCP_CA_NAME_MAX;
	if (c->name == MIGTCP_INFO && c->level == SOL_MIGTCP)
		exact = sizeof(struct migtcp_info);
	if (c->name == MIGTCP_CHECKPOINT && c->level == SOL_MIGTCP)
		exact = s->ckpt_len ?: 512;
	c->optlen = pick_optlen(exact);
	c->val_k = pick_ptr();
	c->k_ok = below(exact + 1);
	c->len_k = chance(8) ? pick_ptr() : PK_VALID;
	c->len_ok = below(4);
	if (!c->set && c->len_k == PK_RO)
		c->optlen = 0x5a5a5a5a;	/* what the read-only page holds */
	if (c->val_k == PK_RO && c->set)
		memset(c->val, 0x5a, sizeof(c->val));
	else
		fill_rnd(c->val, sizeof(c->val));
	if (c->set && c->val_k != PK_RO) {
		int v = int_value();

		memcpy(c->val, &v, sizeof(v));
		if (c->name == SO_LINGER && c->level == SOL_SOCKET) {
			struct linger l = { chance(2), below(100000) };

			memcpy(c->val, &l, sizeof(l));
		}
		if (c->name == MIGTCP_CONGESTION && c->level == SOL_MIGTCP) {
			const char *n = cong_names[below(sizeof(cong_names) /
							 sizeof(char *))];

			memset(c->val, 0, sizeof(c->val));
			memcpy(c->val, n, strlen(n) + (strlen(n) < 6 ? 6 : 1));
			if (chance(3))
				c->optlen = strlen(n) + below(3);
		}
		if (c->name == MIGTCP_RESTORE && c->level == SOL_MIGTCP &&
		    c->val[0] == (MIGTCP_CKPT_MAGIC & 0xff))
			c->val[0] ^= 1;
	}
	/*
	 * A keepalive on a connection could end it (its probes unanswered
	 * by a frozen or closed peer): the state would leave the model.
	 */
	if (c->set && c->level == SOL_SOCKET && c->name == SO_KEEPALIVE &&
	    kind >= S_CONN) {
		memset(c->val, 0, sizeof(int));
		if (c->val_k == PK_RO)	/* it holds 0x5a5a5a5a */
			c->val_k = PK_VALID;
	}
	/* MIGTCP_RESTORE's blob is read whole: no longer than the buffer. */
	if (c->set && c->level == SOL_MIGTCP && c->name == MIGTCP_RESTORE &&
	    c->optlen > BIG_AREA && (unsigned int)c->optlen <= (256U << 20))
		c->optlen = BIG_AREA;
	if (c->set)
		return expect_set(c, s, lim);
	expect_get(c, s);
	return true;
}

/* Waits (bounded) for @fd's MIGTCP_INFO state to be @state. */
static bool wait_state(int fd, int state, int ms)
{
	long end = now_ms() + ms;

	while (info_of(fd).state != state) {
		if (now_ms() >= end)
			return false;
		sleep_ms(10);
	}
	return true;
}

/* Waits (bounded) until @node has @n sockets. */
static bool wait_sockets(CLUSTER *self, unsigned int node, int n, int ms)
{
	long end = now_ms() + ms;

	while (sockets_on(self, node) != n) {
		if (now_ms() >= end)
			return false;
		sleep_ms(50);
	}
	return true;
}

/* The options a fuzzed connection was left with, to repeat a failure. */
static void print_sock_model(const char *name, const struct sock_model *s)
{
	fprintf(stderr, "# sockopt: %s: nodelay %d cork %d user_mss %d keepidle %d keepintvl %d keepcnt %d quickack %d user_timeout %d congestion %s keepalive %d rcvbuf %d sndbuf %d rcvlowat %d reuse %d linger %d/%d\n",
		name, s->nodelay, s->cork, s->user_mss, s->keepidle,
		s->keepintvl, s->keepcnt, s->quickack, s->user_timeout, s->cong,
		s->keepalive, s->rcvbuf, s->sndbuf, s->rcvlowat, s->reuse,
		s->linger.l_onoff, s->linger.l_linger);
}

static void print_infos(const char *name, int a, int b)
{
	int fds[2] = { a, b }, i;

	for (i = 0; i < 2; i++) {
		struct migtcp_info n = info_of(fds[i]);

		fprintf(stderr, "# sockopt: %s end %d: state %u migration %u ctl_unacked %u rto %u mss %u cwnd %u snd_wnd %u rcv_wnd %u unacked %u retrans %u sent %llu acked %llu received %llu inq %d\n",
			name, i, n.state, n.migration, n.ctl_unacked, n.rto_us,
			n.snd_mss, n.snd_cwnd, n.snd_wnd, n.rcv_wnd, n.unacked,
			n.total_retrans, (unsigned long long)n.bytes_sent,
			(unsigned long long)n.bytes_acked,
			(unsigned long long)n.bytes_received, inq(fds[i]));
	}
}

TEST_F_TIMEOUT(cluster, sockopt, 600)
{
	static struct sock_model sm[S_NR];
	unsigned long iters = iters_per_part(), it;
	struct counts by_result = {}, by_sock = {}, by_ptr = {}, by_len = {};
	int peer[S_NR], i, dmesg_before, scratch, v;
	__u64 seed = fuzz_seed();
	struct sock_limits lim;
	long start = now_ms();
	char why[256] = "";
	bool failed = false;
	struct areas ar;
	struct blob b;

	fprintf(stderr, "# sockopt: seed %#llx (MIGTCP_FUZZ_SEED), %lu calls (MIGTCP_FUZZ_NL_ITERS)\n",
		(unsigned long long)seed, iters);
	seed_part(seed, 2);
	dmesg_before = dmesg_bad_lines();
	ASSERT_EQ(0, areas_init(&ar));
	ASSERT_EQ(0, write_param("migration_timeout_ms", 600000));
	ASSERT_EQ(0, write_param("timewait_secs", 1));

	/*
	 * The kernel's buffer limits, as SO_RCVBUF and SO_SNDBUF apply them:
	 * the largest value gives twice net.core.[rw]mem_max (not readable
	 * from a network namespace other than the first), 0 the minimum.
	 */
	ON_NODE(NODE1);
	scratch = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, scratch);
	v = 0x7fffffff;
	ASSERT_EQ(0, setsockopt(scratch, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	ASSERT_EQ(0, setsockopt(scratch, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	ASSERT_EQ(0, get_int(scratch, SOL_SOCKET, SO_RCVBUF, &lim.rmem_max));
	ASSERT_EQ(0, get_int(scratch, SOL_SOCKET, SO_SNDBUF, &lim.wmem_max));
	lim.rmem_max /= 2;
	lim.wmem_max /= 2;
	v = 0;
	ASSERT_EQ(0, setsockopt(scratch, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	ASSERT_EQ(0, setsockopt(scratch, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	ASSERT_EQ(0, get_int(scratch, SOL_SOCKET, SO_RCVBUF, &lim.min_rcvbuf));
	ASSERT_EQ(0, get_int(scratch, SOL_SOCKET, SO_SNDBUF, &lim.min_sndbuf));
	close(scratch);

	/* The sockets, in each state. */
	for (i = 0; i < S_NR; i++)
		peer[i] = -1;
	sm[S_FRESH].fd = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, sm[S_FRESH].fd);
	sm[S_BOUND].fd = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, bind_to(sm[S_BOUND].fd, self->family, 0, 0));
	sm[S_LISTEN].fd = listener(_metadata, self->family, 0, 8);
	ASSERT_LE(0, sm[S_LISTEN].fd);
	CONNECT_PAIR(&sm[S_CONN].fd, &peer[S_CONN]);
	CONNECT_PAIR(&sm[S_FROZEN].fd, &peer[S_FROZEN]);
	CONNECT_PAIR(&sm[S_PEERCLOSED].fd, &peer[S_PEERCLOSED]);
	close(peer[S_PEERCLOSED]);
	peer[S_PEERCLOSED] = -1;
	ASSERT_TRUE(wait_state(sm[S_PEERCLOSED].fd, TCP_CLOSE_WAIT_, WAIT_MS));
	ASSERT_EQ(0, freeze(sm[S_FROZEN].fd, 0)) TH_LOG("freeze: %s", strerror(errno));
	for (i = 0; i < S_NR; i++)
		ASSERT_EQ(0, sock_model_load(&sm[i])) TH_LOG("socket %d", i);
	ASSERT_EQ(0, checkpoint(sm[S_FROZEN].fd, &b))
		TH_LOG("checkpoint: %s", strerror(errno));
	sm[S_FROZEN].ckpt_len = b.len;
	blob_free(&b);
	ASSERT_EQ(TCP_CLOSE_, sm[S_FRESH].state);
	ASSERT_EQ(TCP_CLOSE_, sm[S_BOUND].state);
	ASSERT_EQ(TCP_LISTEN_, sm[S_LISTEN].state);
	ASSERT_EQ(TCP_ESTABLISHED_, sm[S_CONN].state);
	ASSERT_EQ(TCP_ESTABLISHED_, sm[S_FROZEN].state);
	ASSERT_TRUE(sm[S_FROZEN].frozen);
	ASSERT_EQ(TCP_CLOSE_WAIT_, sm[S_PEERCLOSED].state);

	for (it = 0; it < iters && !failed; it++) {
		int kind = below(S_NR);
		struct sock_model next = sm[kind];
		struct so_call c;

		if (!gen_call(&c, &next, kind, &lim)) {
			it--;
			continue;
		}
		count(&by_sock, sock_names[kind]);
		count(&by_ptr, ptr_names[c.val_k]);
		count(&by_len, c.optlen < 0 ? "negative" :
			       c.optlen == 0 ? "zero" :
			       c.optlen < 4 ? "short" :
			       c.optlen <= 64 ? "exact-or-long" : "huge");
		count(&by_result, c.err ? err_name(c.err) :
				  c.set ? "set" : "got");
		if (!so_run(&c, &ar, sm[kind].fd, &sm[kind], why, sizeof(why))) {
			TH_LOG("call %lu: %s socket, %s level %d option %d optlen %d (value %s, optlen %s): %s",
			       it, sock_names[kind], c.set ? "set" : "get",
			       c.level, c.name, c.optlen, ptr_names[c.val_k],
			       ptr_names[c.len_k], why);
			failed = true;
			break;
		}
		sm[kind] = next;
	}
	fprintf(stderr, "# sockopt: %lu calls in %ld ms\n", it, now_ms() - start);
	print_counts("sockopt", "by result", &by_result);
	print_counts("sockopt", "by socket", &by_sock);
	print_counts("sockopt", "by value pointer", &by_ptr);
	print_counts("sockopt", "by optlen", &by_len);

	/* Every socket is still in its state; the connections still work. */
	for (i = 0; i < S_NR && !failed; i++) {
		struct migtcp_info info = info_of(sm[i].fd);

		EXPECT_EQ(sm[i].state, info.state) TH_LOG("%s", sock_names[i]);
	}
	for (i = 0; i < S_NR; i++) {
		struct linger off = { 0, 0 };
		int zero = 0, one = 1;

		setsockopt(sm[i].fd, SOL_SOCKET, SO_LINGER, &off, sizeof(off));
		setsockopt(sm[i].fd, SOL_MIGTCP, MIGTCP_CORK, &zero, sizeof(zero));
		setsockopt(sm[i].fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	}
	ASSERT_FALSE(failed);
	for (i = S_CONN; i <= S_FROZEN; i++)
		print_sock_model(sock_names[i], &sm[i]);
	ASSERT_EQ(0, thaw(sm[S_FROZEN].fd)) TH_LOG("thaw: %s", strerror(errno));
	exchange(_metadata, sm[S_CONN].fd, peer[S_CONN], 21, 20000);
	if (!_metadata->passed)
		print_infos("connected", sm[S_CONN].fd, peer[S_CONN]);
	exchange(_metadata, sm[S_FROZEN].fd, peer[S_FROZEN], 23, 20000);
	if (!_metadata->passed)
		print_infos("thawed", sm[S_FROZEN].fd, peer[S_FROZEN]);
	for (i = 0; i < S_NR; i++) {
		close(sm[i].fd);
		if (peer[i] >= 0)
			close(peer[i]);
	}
	close(self->lfd);
	self->lfd = -1;
	EXPECT_TRUE(wait_sockets(self, NODE1, 0, 20000))
		TH_LOG("node 1 keeps %d sockets", sockets_on(self, NODE1));
	EXPECT_TRUE(wait_sockets(self, NODE2, 0, 20000))
		TH_LOG("node 2 keeps %d sockets", sockets_on(self, NODE2));
	{
		int c = -1, a = -1;

		CONNECT_PAIR(&c, &a);
		exchange(_metadata, c, a, 25, 100000);
		close(c);
		close(a);
	}
	EXPECT_EQ(dmesg_before, dmesg_bad_lines())
		TH_LOG("the kernel log has new WARN/BUG lines");
}

TEST_HARNESS_MAIN
