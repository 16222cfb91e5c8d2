// SPDX-License-Identifier: GPL-2.0
/*
 * Live migration of a socket (docs/migration.md) and its control messages
 * (docs/protocol.md, "Migration control messages").
 *
 * A frozen socket sends nothing and drops what arrives; it asked its peer
 * to HOLD: keep its state, send nothing, give up only when the hold ends.
 * Its checkpoint (checkpoint.c) is restored on another node, which sends
 * a LOCATION-UPDATE to the peer: the peer takes the new address, answers
 * with a LOCATION-ACK and sends again all that was unacknowledged.  The
 * socket closed on the old node stays as a record of the departed
 * endpoint, answering nothing, until the migration timeout; at the
 * endpoint's home it is the registrar's record and lives as long as the
 * endpoint does.  Records that learn where the endpoint went pass control
 * messages on to it, so that both ends of a connection may move at once.
 *
 * Every control message carries a MAC (HMAC-SHA256) with the connection's
 * key from the handshake, or with the socket's home key towards its
 * registrar, and an epoch that only grows: forged and replayed messages
 * change nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/algapi.h>
#include <linux/capability.h>
#include <linux/jhash.h>
#include <linux/random.h>
#include <net/ip.h>
#include <net/tcp_states.h>

#include "migtcp.h"

unsigned int migtcp_migration_timeout_ms = 30000;
module_param_named(migration_timeout_ms, migtcp_migration_timeout_ms, uint,
		   0644);
MODULE_PARM_DESC(migration_timeout_ms,
		 "longest hold of a migrating connection, in ms (default 30000)");

static unsigned int migtcp_mac_failure_limit = 64;
module_param_named(mac_failure_limit, migtcp_mac_failure_limit, uint, 0644);
MODULE_PARM_DESC(mac_failure_limit,
		 "control messages with a wrong MAC a node checks per second from one source, drawn at random from [limit/2, limit*3/2) each second; 0: no limit (default 64)");

/* Messages a socket sent and waits to see acknowledged (mig.pending). */
enum {
	MIGTCP_PEND_HOLD = BIT(0),	/* HOLD to the peer */
	MIGTCP_PEND_PEER = BIT(1),	/* LOCATION-UPDATE to the peer */
	MIGTCP_PEND_HOME = BIT(2),	/* LOCATION-UPDATE to the registrar */
	MIGTCP_PEND_PREV = BIT(3),	/* ... to the record on the last host */
};

#define MIGTCP_CTL_LABEL	"migtcp v1 ctl"
#define MIGTCP_CTL_LABEL_LEN	(sizeof(MIGTCP_CTL_LABEL) - 1)
#define MIGTCP_CTL_MAX_LEN	sizeof(struct migtcp_ctl_update)

/* Header bytes 4..15, which the MAC covers: the two identities. */
struct migtcp_ctl_ids {
	__be32 src_node;
	__be32 dst_node;
	__be16 src_port;
	__be16 dst_port;
};

static unsigned long migtcp_mig_timeout(void)
{
	return msecs_to_jiffies(max(READ_ONCE(migtcp_migration_timeout_ms),
				    1U));
}

/*
 * A registrar's record away from which its endpoint is heard of no more
 * for this long ends (docs/protocol.md, "The registrar's lease"); the
 * endpoint registers again each migration timeout, so a lease outlives
 * three lost registrations and a migration's longest hold.
 */
static unsigned long migtcp_mig_lease(void)
{
	return 4 * migtcp_mig_timeout();
}

/* The earlier of two times, where 0 is none. */
static unsigned long migtcp_earlier(unsigned long when, unsigned long t)
{
	return !when || time_before(t, when) ? t : when;
}

void migtcp_mig_init(struct sock *sk)
{
	struct migtcp_mig *mig = &migtcp_sk(sk)->mig;

	get_random_bytes(mig->home_key, sizeof(mig->home_key));
}

/*
 * Importing state creates endpoints that speak for others, and freezing
 * one stops a connection: both need CAP_NET_ADMIN and
 * CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) where the node's network
 * namespace belongs.
 */
bool migtcp_mig_privileged(const struct sock *sk)
{
	struct user_namespace *ns = sock_net(sk)->user_ns;

	return ns_capable(ns, CAP_NET_ADMIN) &&
	       checkpoint_restore_ns_capable(ns);
}

/* The states in which a connection has a peer to hold or to tell. */
static bool migtcp_has_peer(const struct sock *sk)
{
	return (1 << sk->sk_state) &
	       (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
		TCPF_CLOSE_WAIT | TCPF_CLOSING | TCPF_LAST_ACK);
}

static int migtcp_ctl_mac(const u8 *key, const struct migtcp_ctl_ids *ids,
			  const u8 *tlv, unsigned int len, u8 *mac)
{
	u8 msg[MIGTCP_CTL_LABEL_LEN + sizeof(*ids) + MIGTCP_CTL_MAX_LEN];
	u8 *p = msg;
	int err;

	memcpy(p, MIGTCP_CTL_LABEL, MIGTCP_CTL_LABEL_LEN);
	p += MIGTCP_CTL_LABEL_LEN;
	memcpy(p, ids, sizeof(*ids));
	p += sizeof(*ids);
	memcpy(p, tlv, len - MIGTCP_CTL_MAC_LEN);
	memset(p + len - MIGTCP_CTL_MAC_LEN, 0, MIGTCP_CTL_MAC_LEN);
	err = migtcp_hmac(key, msg, p + len - msg, mac);
	memzero_explicit(msg, sizeof(msg));
	return err;
}

/*
 * Sends control TLV @tlv of @len bytes between @ids to @daddr; with @key,
 * its MAC is computed first, else (a message passed on) it is as received.
 */
static void migtcp_ctl_xmit(struct net *net, const struct migtcp_ctl_ids *ids,
			    const void *tlv, unsigned int len, const u8 *key,
			    const struct in6_addr *daddr)
{
	struct migtcphdr *mh;
	struct sk_buff *skb;
	u8 *body;

	if (migtcp_addr_none(daddr))
		return;
	skb = alloc_skb(MIGTCP_MAX_HEADER + len, GFP_ATOMIC);
	if (!skb)
		return;
	skb_reserve(skb, MIGTCP_MAX_HEADER);
	body = skb_put_data(skb, tlv, len);
	if (key && migtcp_ctl_mac(key, ids, body, len,
				  body + len - MIGTCP_CTL_MAC_LEN)) {
		kfree_skb(skb);
		return;
	}
	mh = skb_push(skb, sizeof(*mh));
	memset(mh, 0, sizeof(*mh));
	mh->version	= MIGTCP_WIRE_VERSION;
	mh->doff	= MIGTCP_HDR_MIN_DOFF;
	mh->flags	= htons(MIGTCP_F_CTL);
	mh->src_node	= ids->src_node;
	mh->dst_node	= ids->dst_node;
	mh->src_port	= ids->src_port;
	mh->dst_port	= ids->dst_port;
	MIGTCP_INC_STATS(net, MIGTCP_STAT_OUT_CTL);
	migtcp_xmit(net, skb, NULL, daddr);
}

/* A message's address field and family byte (docs/protocol.md). */
static void migtcp_ctl_put_addr(u8 *family, u8 *field,
				const struct in6_addr *addr)
{
	memset(field, 0, 16);
	if (migtcp_addr_is4(addr)) {
		*family = MIGTCP_CTL_ADDR_IN;
		memcpy(field, &addr->s6_addr32[3], 4);
	} else {
		*family = MIGTCP_CTL_ADDR_IN6;
		memcpy(field, addr, 16);
	}
}

static bool migtcp_ctl_family_ok(u8 family)
{
	return family == MIGTCP_CTL_ADDR_IN || family == MIGTCP_CTL_ADDR_IN6;
}

/* The address in a message whose family migtcp_ctl_family_ok() passed. */
static void migtcp_ctl_get_addr(u8 family, const u8 *field,
				struct in6_addr *addr)
{
	__be32 addr4;

	if (family == MIGTCP_CTL_ADDR_IN) {
		memcpy(&addr4, field, sizeof(addr4));
		migtcp_addr_set4(addr, addr4);
		return;
	}
	memcpy(addr, field, sizeof(*addr));
	/* An IPv4 address is sent as one: v4-mapped here means none. */
	if (migtcp_addr_is4(addr))
		*addr = in6addr_any;
}

static void migtcp_ctl_ids_of(const struct migtcphdr *mh,
			      struct migtcp_ctl_ids *ids, bool swap)
{
	ids->src_node = swap ? mh->dst_node : mh->src_node;
	ids->dst_node = swap ? mh->src_node : mh->dst_node;
	ids->src_port = swap ? mh->dst_port : mh->src_port;
	ids->dst_port = swap ? mh->src_port : mh->dst_port;
}

/* The identities of @sk's connection, ours first. */
static void migtcp_conn_ids(const struct migtcp_sock *msk,
			    struct migtcp_ctl_ids *ids)
{
	ids->src_node = htonl(msk->local_node);
	ids->dst_node = htonl(msk->remote_node);
	ids->src_port = htons(msk->local_port);
	ids->dst_port = htons(msk->remote_port);
}

/*
 * The address at which this node's endpoints are reached by whoever is
 * at @daddr: the node's own of that family, else the source @sk's route
 * chose when it is of that family.  None without either.
 */
static void migtcp_host_addr(const struct sock *sk,
			     const struct in6_addr *daddr,
			     struct in6_addr *addr)
{
	const struct migtcp_node *node = &migtcp_pernet(sock_net(sk))->node;
	const struct in6_addr *route = &migtcp_sk(sk)->route_saddr;
	bool v4 = migtcp_addr_is4(daddr);
	struct in6_addr addr6;

	migtcp_node_addr6(node, &addr6);
	if (v4 && READ_ONCE(node->addr4))
		migtcp_addr_set4(addr, READ_ONCE(node->addr4));
	else if (!v4 && !ipv6_addr_any(&addr6))
		*addr = addr6;
	else if (!migtcp_addr_none(route) && migtcp_addr_is4(route) == v4)
		*addr = *route;
	else
		*addr = in6addr_any;
}

/*
 * The underlay address of node @id: the peer table's (migtcp_peer_daddr()),
 * or this node's own (its IPv4 one first); none if there is none.
 */
static void migtcp_node_addr(struct net *net, u32 id, struct in6_addr *addr)
{
	const struct migtcp_node *node = &migtcp_pernet(net)->node;
	struct in6_addr addr6;

	migtcp_node_addr6(node, &addr6);
	if ((id == READ_ONCE(node->id) && !READ_ONCE(node->addr4) &&
	     ipv6_addr_any(&addr6)) ||
	    !migtcp_node_daddr(net, id, addr))
		*addr = in6addr_any;
}

static void migtcp_send_hold(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_ctl_hold hold = {
		.type		= MIGTCP_CTL_HOLD,
		.len		= htons(sizeof(hold)),
		.epoch		= cpu_to_be64(msk->mig.epoch),
		.hold_ms	= htonl(msk->mig.hold_ms),
	};
	struct migtcp_ctl_ids ids;

	migtcp_conn_ids(msk, &ids);
	migtcp_ctl_xmit(sock_net(sk), &ids, &hold, sizeof(hold),
			msk->kx.conn_key, &msk->path_daddr);
}

/* A LOCATION-UPDATE for the node at @daddr. */
static void migtcp_fill_update(struct sock *sk, struct migtcp_ctl_update *u,
			       u8 flags, const struct in6_addr *daddr)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct in6_addr host;

	migtcp_host_addr(sk, daddr, &host);

	memset(u, 0, sizeof(*u));
	u->type		= MIGTCP_CTL_LOCATION_UPDATE;
	u->flags	= flags;
	u->len		= htons(sizeof(*u));
	u->epoch	= cpu_to_be64(msk->mig.epoch);
	u->host_node	= htonl(READ_ONCE(mn->node.id));
	u->peer_node	= htonl(msk->remote_node);
	u->peer_port	= htons(msk->remote_port);
	migtcp_ctl_put_addr(&u->family, u->host_addr, &host);
}

/*
 * To the peer, at the address we know, and at its home when that differs:
 * if the peer moved meanwhile, its registrar passes the update on.
 */
static void migtcp_send_update_peer(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_ctl_update u;
	struct migtcp_ctl_ids ids;
	struct in6_addr home;

	migtcp_fill_update(sk, &u, 0, &msk->path_daddr);
	migtcp_conn_ids(msk, &ids);
	migtcp_ctl_xmit(sock_net(sk), &ids, &u, sizeof(u), msk->kx.conn_key,
			&msk->path_daddr);
	migtcp_node_addr(sock_net(sk), msk->remote_node, &home);
	if (migtcp_addr_none(&home) || ipv6_addr_equal(&home, &msk->path_daddr))
		return;
	migtcp_fill_update(sk, &u, 0, &home);
	migtcp_ctl_xmit(sock_net(sk), &ids, &u, sizeof(u), msk->kx.conn_key,
			&home);
}

/* To the registrar of the endpoint's home, or to the record at @daddr. */
static void migtcp_send_update_reg(struct sock *sk,
				   const struct in6_addr *daddr, u8 flags)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_ctl_update u;
	struct migtcp_ctl_ids ids = {
		.src_node = htonl(msk->local_node),
		.dst_node = htonl(msk->local_node),
		.src_port = htons(msk->local_port),
	};

	migtcp_fill_update(sk, &u, flags, daddr);
	migtcp_ctl_xmit(sock_net(sk), &ids, &u, sizeof(u), msk->mig.home_key,
			daddr);
}

static void migtcp_home_addr(struct sock *sk, struct in6_addr *addr)
{
	migtcp_node_addr(sock_net(sk), migtcp_sk(sk)->local_node, addr);
}

/*
 * A GONE waiting for its registrar's acknowledgment.  Its socket is no
 * more, so the message is kept here, with the key that authenticates it
 * and its answer, and sent again on a backoff until the answer comes or
 * the migration timeout passes; a lost one then leaves the record to its
 * lease.
 */
struct migtcp_gone {
	struct hlist_node node;		/* in migtcp_net.gone_hash */
	struct net *net;		/* no reference: ends before it */
	struct migtcp_ctl_ids ids;
	struct migtcp_ctl_update u;
	u8 key[MIGTCP_KEY_LEN];
	struct in6_addr daddr;
	unsigned long next, rto, until;
};

/* More are sent once and left to their leases. */
#define MIGTCP_GONE_MAX		4096

static u32 migtcp_gone_hash(__be16 port, __be32 peer_node, __be16 peer_port)
{
	return jhash_3words(ntohs(port), ntohl(peer_node), ntohs(peer_port),
			    0);
}

static void migtcp_gone_free(struct migtcp_net *mn, struct migtcp_gone *g)
{
	hlist_del(&g->node);
	mn->gone_count--;
	kfree_sensitive(g);
}

static void migtcp_gone_timer(struct timer_list *t)
{
	struct migtcp_net *mn = from_timer(mn, t, gone_timer);
	unsigned long now = jiffies, when = 0;
	struct migtcp_gone *g;
	struct hlist_node *tmp;
	unsigned int i;

	spin_lock(&mn->gone_lock);
	for (i = 0; i < ARRAY_SIZE(mn->gone_hash); i++) {
		hlist_for_each_entry_safe(g, tmp, &mn->gone_hash[i], node) {
			if (time_after_eq(now, g->until)) {
				migtcp_gone_free(mn, g);
				continue;
			}
			if (time_after_eq(now, g->next)) {
				MIGTCP_INC_STATS(g->net,
						 MIGTCP_STAT_CTL_TIMEOUTS);
				migtcp_ctl_xmit(g->net, &g->ids, &g->u,
						sizeof(g->u), g->key,
						&g->daddr);
				g->rto = min(g->rto * 2,
					     (unsigned long)MIGTCP_RTO_MAX);
				g->next = now + g->rto;
			}
			when = migtcp_earlier(when, g->next);
			when = migtcp_earlier(when, g->until);
		}
	}
	if (when && !mn->gone_dying)
		mod_timer(&mn->gone_timer, when);
	spin_unlock(&mn->gone_lock);
}

void migtcp_gone_init(struct migtcp_net *mn)
{
	spin_lock_init(&mn->gone_lock);
	timer_setup(&mn->gone_timer, migtcp_gone_timer, 0);
}

void migtcp_gone_exit(struct migtcp_net *mn)
{
	struct migtcp_gone *g;
	struct hlist_node *tmp;
	unsigned int i;

	spin_lock_bh(&mn->gone_lock);
	mn->gone_dying = true;
	spin_unlock_bh(&mn->gone_lock);
	/* Once dying, the timer arms itself no more. */
	del_timer_sync(&mn->gone_timer);
	for (i = 0; i < ARRAY_SIZE(mn->gone_hash); i++)
		hlist_for_each_entry_safe(g, tmp, &mn->gone_hash[i], node)
			migtcp_gone_free(mn, g);
}

/*
 * The connection of @sk, an endpoint away from home, is over: its
 * registrar frees the identity on a GONE, sent until acknowledged if the
 * endpoint was registered there.
 */
static void migtcp_send_gone(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_gone *g;
	struct in6_addr daddr;

	migtcp_home_addr(sk, &daddr);
	migtcp_send_update_reg(sk, &daddr, MIGTCP_CTL_F_GONE);
	if (migtcp_addr_none(&daddr) || !msk->mig.registrar ||
	    !check_net(sock_net(sk)))
		return;
	g = kzalloc(sizeof(*g), GFP_ATOMIC);
	if (!g)
		return;
	g->net = sock_net(sk);
	g->ids.src_node = htonl(msk->local_node);
	g->ids.dst_node = htonl(msk->local_node);
	g->ids.src_port = htons(msk->local_port);
	migtcp_fill_update(sk, &g->u, MIGTCP_CTL_F_GONE, &daddr);
	memcpy(g->key, msk->mig.home_key, sizeof(g->key));
	g->daddr = daddr;
	g->rto = migtcp_rto_estimate(msk);
	g->next = jiffies + g->rto;
	g->until = jiffies + migtcp_mig_timeout();

	spin_lock_bh(&mn->gone_lock);
	if (mn->gone_dying || mn->gone_count >= MIGTCP_GONE_MAX) {
		spin_unlock_bh(&mn->gone_lock);
		kfree_sensitive(g);
		return;
	}
	hlist_add_head(&g->node,
		       &mn->gone_hash[migtcp_gone_hash(g->ids.src_port,
						       g->u.peer_node,
						       g->u.peer_port) %
				      ARRAY_SIZE(mn->gone_hash)]);
	mn->gone_count++;
	timer_reduce(&mn->gone_timer, g->next);
	spin_unlock_bh(&mn->gone_lock);
}

/* Sends again every message still waiting for its acknowledgment. */
static void migtcp_send_pending(struct sock *sk)
{
	struct migtcp_mig *mig = &migtcp_sk(sk)->mig;
	struct in6_addr home;

	if (mig->pending & MIGTCP_PEND_HOLD)
		migtcp_send_hold(sk);
	if (mig->pending & MIGTCP_PEND_PEER)
		migtcp_send_update_peer(sk);
	if (mig->pending & MIGTCP_PEND_HOME) {
		migtcp_home_addr(sk, &home);
		migtcp_send_update_reg(sk, &home, 0);
	}
	if (mig->pending & MIGTCP_PEND_PREV)
		migtcp_send_update_reg(sk, &mig->prev_addr, 0);
}

/* Where @sk is in a migration, as MIGTCP_SOCK_A_MIGRATION reports it. */
u8 migtcp_mig_report(const struct sock *sk)
{
	const struct migtcp_mig *mig = &migtcp_sk(sk)->mig;
	u8 state = READ_ONCE(mig->state);

	if (state == MIGTCP_MIG_NONE && READ_ONCE(mig->held))
		return MIGTCP_MIG_HELD;
	return state;
}

/* Control messages @sk sent and waits to see acknowledged. */
u8 migtcp_mig_unacked(const struct sock *sk)
{
	return hweight8(READ_ONCE(migtcp_sk(sk)->mig.pending));
}

/* Arms the migration timer for the earliest thing it has to do. */
static void migtcp_mig_arm(struct sock *sk)
{
	struct migtcp_mig *mig = &migtcp_sk(sk)->mig;
	unsigned long when = 0;

	if (mig->held)
		when = migtcp_earlier(when, mig->held_until);
	if (mig->pending)
		when = migtcp_earlier(when, mig->next_ctl);
	if (mig->deadline)
		when = migtcp_earlier(when, mig->deadline);
	if (mig->registrar && mig->state == MIGTCP_MIG_NONE) {
		if (mig->pending & MIGTCP_PEND_HOME)
			when = migtcp_earlier(when, mig->lease_ok +
						    migtcp_mig_lease());
		else if (mig->lease_next)
			when = migtcp_earlier(when, mig->lease_next);
	}
	if (when)
		sk_reset_timer(sk, &mig->timer, when);
	else
		sk_stop_timer(sk, &mig->timer);
}

/* Starts sending @bits now and again on a backoff from the RTO. */
static void migtcp_mig_start(struct sock *sk, u8 bits)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_mig *mig = &msk->mig;

	mig->pending |= bits;
	/*
	 * From the path's estimate, not from the data's RTO: that one may
	 * have backed off to a minute while the peer held, and the first
	 * updates after a restore are often lost (the record they go to is
	 * still being made).
	 */
	mig->rto = migtcp_rto_estimate(msk);
	mig->next_ctl = jiffies + mig->rto;
	migtcp_send_pending(sk);
	migtcp_mig_arm(sk);
}

/* Whether the connection must not send now (the migration decides). */
bool migtcp_mig_blocks_send(const struct sock *sk)
{
	const struct migtcp_mig *mig = &migtcp_sk(sk)->mig;

	return mig->state != MIGTCP_MIG_NONE || mig->held;
}

/*
 * Each REDIRECT costs two HMACs and answers an address nobody checked: a
 * node sends at most a thousand a second, as Linux limits ICMP.
 */
static u32 migtcp_redirect_fill(void)
{
	return 1000;
}

/*
 * Answers @syn, for departed listener @lsk, with a REDIRECT to the node
 * the listener moved to, once its registrar knows (docs/protocol.md).
 */
static void migtcp_send_redirect(struct sock *lsk, const struct sk_buff *syn)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(lsk));
	const struct migtcp_mig *mig = &migtcp_sk(lsk)->mig;
	struct migtcp_ctl_redirect r = {
		.type		= MIGTCP_CTL_REDIRECT,
		.len		= htons(sizeof(r)),
		.echoed_seq	= migtcp_hdr(syn)->seq,
		.epoch		= cpu_to_be64(READ_ONCE(mig->epoch)),
		.host_node	= htonl(READ_ONCE(mig->host_node)),
	};
	struct in6_addr host, daddr;
	struct migtcp_ctl_ids ids;
	u8 key[MIGTCP_KEY_LEN];
	bool keyed;

	/*
	 * The registrar's record is written under the listener's lock,
	 * which this path does not hold.  A copy torn by a change names no
	 * node's address, and the caller drops it (InCtlBadHost).
	 */
	host = mig->host_addr;
	if (migtcp_addr_none(&host) ||
	    !migtcp_budget_take(&mn->redirects, migtcp_redirect_fill))
		return;
	migtcp_ctl_put_addr(&r.family, r.host_addr, &host);
	migtcp_ctl_ids_of(migtcp_hdr(syn), &ids, true);
	keyed = migtcp_kx_redirect_key(sock_net(lsk), key);
	migtcp_skb_saddr(syn, &daddr);
	migtcp_ctl_xmit(sock_net(lsk), &ids, &r, sizeof(r), keyed ? key : NULL,
			&daddr);
	memzero_explicit(key, sizeof(key));
}

/*
 * A frozen socket, and the record a departed one leaves, take nothing:
 * what arrives is dropped unacknowledged, so the peer sends it again to
 * wherever the endpoint resumes.  Consumes @skb when it returns true.
 */
bool migtcp_mig_drops_input(struct sock *sk, struct sk_buff *skb)
{
	if (!migtcp_mig_frozen(sk))
		return false;
	/* A SYN for a listener that moved: tell the caller where it is. */
	if (READ_ONCE(migtcp_sk(sk)->mig.state) == MIGTCP_MIG_DEPARTED &&
	    sk->sk_state == TCP_LISTEN &&
	    migtcp_syn_from_member(sock_net(sk), skb))
		migtcp_send_redirect(sk, skb);
	migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_MOVED);
	kfree_skb_reason(skb, SKB_DROP_REASON_NOT_SPECIFIED);
	return true;
}

/* Sends whatever waited for the migration to end. */
static void migtcp_mig_resume(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (!migtcp_has_peer(sk) || migtcp_mig_blocks_send(sk))
		return;
	/*
	 * After a SYN cookie the peer may not hold the connection yet: our
	 * ACK goes again, now from here, and on the timer until it answers.
	 */
	if (migtcp_kx_cookie_wait(&msk->kx)) {
		migtcp_send_ack(sk);
		if (!timer_pending(&sk->sk_timer))
			migtcp_arm_retransmit(sk);
	}
	if (!skb_queue_empty(&sk->sk_write_queue)) {
		msk->snd_nxt = msk->snd_una;
		msk->retransmits = 0;
		msk->dup_acks = 0;
		msk->in_recovery = false;
		msk->tlp_on = false;
		migtcp_sack_forget(sk);
		msk->rtt_start = 0;
		msk->retrans_stamp = jiffies;
		migtcp_push(sk);
		if (!timer_pending(&sk->sk_timer))
			migtcp_arm_retransmit(sk);
	} else if (sk->sk_state == TCP_FIN_WAIT2 && sock_flag(sk, SOCK_DEAD) &&
		   !timer_pending(&sk->sk_timer)) {
		/*
		 * The hold stopped an orphan's linger timer, which is the
		 * retransmission timer's (migtcp_hold_rcv()): without it the
		 * orphan would wait for the peer's FIN forever.
		 */
		migtcp_arm_linger(sk);
	}
	if (sock_flag(sk, SOCK_KEEPOPEN))
		migtcp_keepalive_reset(sk);
	if (msk->rcv_nxt != msk->rcv_wup || msk->delack_armed)
		migtcp_send_ack(sk);
}

/*
 * MIGTCP_FREEZE: the socket stops sending, asks its peer to hold for
 * @hold_ms (0: the migration timeout), and its state stays as it is until
 * a checkpoint, a thaw, or its close.
 */
int migtcp_freeze(struct sock *sk, unsigned int hold_ms)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_mig *mig = &msk->mig;
	unsigned int limit = READ_ONCE(migtcp_migration_timeout_ms);

	if (mig->state == MIGTCP_MIG_FROZEN)
		return -EALREADY;
	/* Still telling the peer about the last move: soon. */
	if (mig->state != MIGTCP_MIG_NONE)
		return -EBUSY;
	if (sk->sk_state == TCP_SYN_SENT || sk->sk_state == TCP_SYN_RECV)
		return -EAGAIN;

	/*
	 * What we received is acknowledged before we go quiet: a frozen
	 * socket sends nothing (migtcp_sk_xmit()), so the ACK goes first.
	 */
	if (migtcp_has_peer(sk) && msk->delack_armed)
		migtcp_send_ack(sk);
	mig->epoch++;
	mig->state = MIGTCP_MIG_FROZEN;
	WRITE_ONCE(mig->exported, false);
	/* Where it goes next is unknown until it is restored there. */
	mig->host_node = 0;
	mig->host_addr = in6addr_any;
	/* Whoever runs the endpoint next registers it anew. */
	mig->registrar = false;
	mig->lease_next = 0;
	mig->hold_ms = hold_ms && hold_ms < limit ? hold_ms : limit;
	/* Without a peer, the socket's timer (TIME_WAIT's) runs on. */
	if (migtcp_has_peer(sk)) {
		migtcp_stop_retransmit(sk);
		migtcp_keepalive_stop(sk);
		migtcp_delack_stop(sk);
		mig->deadline = jiffies + msecs_to_jiffies(mig->hold_ms);
		migtcp_mig_start(sk, MIGTCP_PEND_HOLD);
	}
	return 0;
}

/*
 * The endpoint runs here now (thawed, or restored): tell the peer, the
 * registrar and the record on the last host, and send nothing more until
 * the peer has acknowledged.
 */
void migtcp_mig_restored(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_mig *mig = &msk->mig;
	struct net *net = sock_net(sk);
	u32 self = READ_ONCE(migtcp_pernet(net)->node.id);
	struct in6_addr home;
	u8 bits = 0;

	migtcp_home_addr(sk, &home);
	mig->state = MIGTCP_MIG_NONE;
	mig->pending = 0;
	mig->deadline = 0;
	if (migtcp_has_peer(sk)) {
		mig->state = MIGTCP_MIG_RELOCATING;
		bits |= MIGTCP_PEND_PEER;
		/*
		 * An ACK ahead of the update: the peer learns what we have
		 * and sends again only what we lack once it switches.
		 */
		migtcp_send_ack(sk);
	}
	mig->registrar = false;
	mig->lease_next = 0;
	/* The last host is told unless it is the home or this node. */
	if (msk->local_port) {
		if (!migtcp_addr_none(&home) && msk->local_node != self) {
			bits |= MIGTCP_PEND_HOME;
			mig->registrar = true;
			mig->lease_ok = jiffies;
		}
		if (!migtcp_addr_none(&mig->prev_addr) &&
		    !migtcp_node_has_addr(net, msk->local_node,
					  &mig->prev_addr) &&
		    !migtcp_node_has_addr(net, self, &mig->prev_addr))
			bits |= MIGTCP_PEND_PREV;
	}
	if (bits) {
		mig->deadline = jiffies + migtcp_mig_timeout();
		migtcp_mig_start(sk, bits);
	} else {
		migtcp_mig_arm(sk);
	}
}

static void migtcp_thaw_child(struct sock *sk)
{
	migtcp_thaw(sk);
}

/* MIGTCP_THAW: the checkpoint is void; the connection goes on here. */
int migtcp_thaw(struct sock *sk)
{
	struct migtcp_mig *mig = &migtcp_sk(sk)->mig;

	if (mig->state != MIGTCP_MIG_FROZEN)
		return -EINVAL;
	WRITE_ONCE(mig->exported, false);
	mig->prev_addr = in6addr_any;
	migtcp_mig_restored(sk);
	if (mig->state == MIGTCP_MIG_NONE)
		migtcp_mig_resume(sk);
	/* A listener's checkpoint froze its queued connections: they go on too. */
	if (sk->sk_state == TCP_LISTEN)
		migtcp_listen_each_child(sk, migtcp_thaw_child);
	return 0;
}

/* Whether @sk's identity is this node's: a record here is its registrar. */
static bool migtcp_mig_at_home(const struct sock *sk)
{
	return migtcp_sk(sk)->local_node ==
	       READ_ONCE(migtcp_pernet(sock_net(sk))->node.id);
}

/*
 * The user closes @sk (locked).  A socket that was checkpointed lives on
 * elsewhere: it leaves a record here and sends neither FIN nor RST.
 * Returns true if @sk became such a record (an orphan).
 */
bool migtcp_mig_release(struct sock *sk)
{
	struct migtcp_mig *mig = &migtcp_sk(sk)->mig;

	if (mig->state != MIGTCP_MIG_FROZEN)
		return false;
	/* Only an endpoint, with an identity, lives on elsewhere. */
	if (!mig->exported || !migtcp_sk(sk)->local_port ||
	    (!migtcp_has_peer(sk) && sk->sk_state != TCP_LISTEN &&
	     sk->sk_state != TCP_CLOSE)) {
		migtcp_thaw(sk);
		return false;
	}
	/* Where the endpoint went, if it said so already (registrar_rcv). */
	mig->state = MIGTCP_MIG_DEPARTED;
	/* A record obeys no hold: it ends on its own deadline. */
	mig->held = false;
	/*
	 * The home keeps its record, and the port, for as long as the
	 * endpoint lives and renews its lease; elsewhere a record passes
	 * messages on for a while.
	 */
	mig->deadline = jiffies + (migtcp_mig_at_home(sk) ?
				   migtcp_mig_lease() : migtcp_mig_timeout());
	migtcp_purge_queues(sk);
	sk->sk_shutdown = SHUTDOWN_MASK;
	migtcp_mig_arm(sk);
	return true;
}

/* The connection of @sk is over: nothing more to send or wait for. */
void migtcp_mig_done(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_mig *mig = &msk->mig;

	/* A socket that lived away from home frees its identity there. */
	if (mig->foreign && mig->state != MIGTCP_MIG_DEPARTED &&
	    !mig->quiet && msk->local_port)
		migtcp_send_gone(sk);
	/*
	 * Nobody is left to tell of a relocation: it is over too, or the
	 * socket could never freeze again, and a connection it made next
	 * would send nothing (migtcp_mig_blocks_send()).
	 */
	if (mig->state == MIGTCP_MIG_RELOCATING)
		mig->state = MIGTCP_MIG_NONE;
	mig->registrar = false;
	mig->lease_next = 0;
	mig->pending = 0;
	mig->held = false;
	mig->deadline = 0;
	sk_stop_timer(sk, &mig->timer);
}

void migtcp_mig_stop_sync(struct sock *sk)
{
	sk_stop_timer_sync(sk, &migtcp_sk(sk)->mig.timer);
}

/*
 * The registrar's record of @sk, an endpoint away from home, lives as long
 * as its lease: register again each migration timeout, and stop once the
 * home answered nothing for a whole lease (the record is over there).
 */
static void migtcp_lease_tick(struct sock *sk, unsigned long now)
{
	struct migtcp_mig *mig = &migtcp_sk(sk)->mig;

	if (mig->pending & MIGTCP_PEND_HOME) {
		if (time_before(now, mig->lease_ok + migtcp_mig_lease()))
			return;
		mig->pending &= ~MIGTCP_PEND_HOME;
		mig->registrar = false;
		MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_LEASES_LOST);
		return;
	}
	/* The first registration ran out with the migration's deadline. */
	if (!mig->lease_next) {
		mig->lease_next = now + migtcp_mig_timeout();
		return;
	}
	if (time_before(now, mig->lease_next))
		return;
	mig->lease_next = 0;
	migtcp_mig_start(sk, MIGTCP_PEND_HOME);
}

static void migtcp_mig_tick(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_mig *mig = &msk->mig;
	unsigned long now = jiffies;

	/*
	 * A connection that ended has nothing left to do; a bound socket's
	 * record, or a restored bound socket, is closed and still has.
	 */
	if (sk->sk_state == TCP_CLOSE && mig->state != MIGTCP_MIG_DEPARTED &&
	    !mig->registrar)
		return;
	if (mig->held && time_after_eq(now, mig->held_until)) {
		/* The peer never came back. */
		mig->held = false;
		migtcp_done(sk, ETIMEDOUT);
		return;
	}
	if (mig->deadline && time_after_eq(now, mig->deadline)) {
		mig->deadline = 0;
		switch (mig->state) {
		case MIGTCP_MIG_DEPARTED:
			migtcp_done(sk, 0);
			return;
		case MIGTCP_MIG_RELOCATING:
			migtcp_done(sk, ETIMEDOUT);
			return;
		default:
			/* A frozen socket stops asking; its user decides. */
			mig->pending = 0;
			break;
		}
	}
	if (mig->pending && time_after_eq(now, mig->next_ctl)) {
		MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_CTL_TIMEOUTS);
		mig->tries++;
		mig->rto = min(mig->rto * 2, (unsigned long)MIGTCP_RTO_MAX);
		mig->next_ctl = now + mig->rto;
		migtcp_send_pending(sk);
	}
	if (mig->registrar && mig->state == MIGTCP_MIG_NONE)
		migtcp_lease_tick(sk, now);
	migtcp_mig_arm(sk);
}

static void migtcp_mig_timer(struct timer_list *t)
{
	struct migtcp_sock *msk = from_timer(msk, t, mig.timer);
	struct sock *sk = &msk->sk;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk))
		sk_reset_timer(sk, &msk->mig.timer, jiffies + HZ / 20);
	else if (sock_flag(sk, SOCK_DEAD) && !check_net(sock_net(sk)))
		migtcp_done(sk, 0);	/* its node is going away */
	else
		migtcp_mig_tick(sk);
	bh_unlock_sock(sk);
	sock_put(sk);
}

void migtcp_mig_timer_init(struct sock *sk)
{
	timer_setup(&migtcp_sk(sk)->mig.timer, migtcp_mig_timer, 0);
}

/* Control messages received. */

static unsigned int migtcp_ctl_len(u8 type)
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

static const u8 *migtcp_ctl_tlv(const struct sk_buff *skb)
{
	return (const u8 *)migtcp_hdr(skb) + migtcp_hdr(skb)->doff * 4;
}

static void migtcp_ctl_drop(struct net *net, struct sk_buff *skb,
			    enum migtcp_stat why)
{
	migtcp_drop(net, skb, why);
	kfree_skb_reason(skb, SKB_DROP_REASON_NOT_SPECIFIED);
}

/*
 * A control message's MAC costs an HMAC to check, and anyone who guesses
 * a live endpoint's ids gets that far.  So each source has a budget of
 * wrong MACs a second (its bucket's, of MIGTCP_MAC_FAIL_BUCKETS chosen
 * by a keyed hash of its IPv4 address or of its IPv6 address's /64, as
 * one host may hold a whole /64); once it is spent, what comes from
 * there is dropped unchecked until the next second (InCtlMacLimited),
 * and sent again by its sender if it was genuine.  A message from the
 * very address its endpoint expects it from (the peer's, the
 * registrar's, the endpoint's host) is always checked, so that a flood
 * from elsewhere cannot silence it.  The budget is drawn at random each
 * second, as the challenge ACKs' (input.c): it is spent only by
 * messages that found an endpoint, and must not tell how many did.
 */
static u32 migtcp_mac_fail_fill(void)
{
	return migtcp_budget_draw(READ_ONCE(migtcp_mac_failure_limit));
}

static struct migtcp_budget *migtcp_mac_fail_budget(struct net *net,
						    const struct sk_buff *skb)
{
	struct migtcp_net *mn = migtcp_pernet(net);
	struct in6_addr saddr;
	u64 hash;

	migtcp_skb_saddr(skb, &saddr);
	if (!migtcp_addr_is4(&saddr)) {
		saddr.s6_addr32[2] = 0;
		saddr.s6_addr32[3] = 0;
	}
	hash = siphash(&saddr, sizeof(saddr), &mn->mac_fail_seed);
	return &mn->mac_fails[hash % MIGTCP_MAC_FAIL_BUCKETS];
}

static bool migtcp_ctl_mac_ok(const struct sk_buff *skb, const u8 *key)
{
	const u8 *tlv = migtcp_ctl_tlv(skb);
	unsigned int len = get_unaligned_be16(tlv + 2);
	struct migtcp_ctl_ids ids;
	u8 mac[MIGTCP_CTL_MAC_LEN];
	bool ok;

	migtcp_ctl_ids_of(migtcp_hdr(skb), &ids, false);
	if (migtcp_ctl_mac(key, &ids, tlv, len, mac))
		return false;
	ok = !crypto_memneq(mac, tlv + len - MIGTCP_CTL_MAC_LEN, sizeof(mac));
	memzero_explicit(mac, sizeof(mac));
	return ok;
}

/*
 * Whether control message @skb carries the right MAC under @key; if not,
 * false and *@why says what to count: InCtlBadMac, or InCtlMacLimited
 * for a source whose budget of wrong MACs is spent (then the MAC was not
 * computed).  One from @expected (NULL: none) is always checked.
 */
static bool migtcp_ctl_authentic(struct net *net, const struct sk_buff *skb,
				 const u8 *key, const struct in6_addr *expected,
				 enum migtcp_stat *why)
{
	struct migtcp_budget *budget = NULL;

	if (READ_ONCE(migtcp_mac_failure_limit) &&
	    !(expected && migtcp_skb_from(skb, expected))) {
		budget = migtcp_mac_fail_budget(net, skb);
		if (!migtcp_budget_left(budget, migtcp_mac_fail_fill)) {
			*why = MIGTCP_STAT_IN_CTL_MAC_LIMITED;
			return false;
		}
	}
	if (migtcp_ctl_mac_ok(skb, key))
		return true;
	if (budget)
		migtcp_budget_take(budget, migtcp_mac_fail_fill);
	*why = MIGTCP_STAT_IN_CTL_BAD_MAC;
	return false;
}

/*
 * A registrar's LOCATION-ACK that found no socket: the answer to a GONE
 * kept for sending again?  Then that GONE is done.
 */
static bool migtcp_gone_acked(struct net *net, const struct sk_buff *skb)
{
	const struct migtcp_ctl_ack *a = (const void *)migtcp_ctl_tlv(skb);
	const struct migtcphdr *mh = migtcp_hdr(skb);
	struct migtcp_net *mn = migtcp_pernet(net);
	struct migtcp_gone *g;
	enum migtcp_stat why;
	bool found = false;
	u32 bucket;

	if (a->acked_type != MIGTCP_CTL_LOCATION_UPDATE)
		return false;
	bucket = migtcp_gone_hash(mh->dst_port, a->peer_node, a->peer_port) %
		 ARRAY_SIZE(mn->gone_hash);
	spin_lock_bh(&mn->gone_lock);
	hlist_for_each_entry(g, &mn->gone_hash[bucket], node) {
		if (g->ids.src_node != mh->dst_node ||
		    g->ids.src_port != mh->dst_port ||
		    g->u.peer_node != a->peer_node ||
		    g->u.peer_port != a->peer_port || g->u.epoch != a->epoch ||
		    !migtcp_skb_from(skb, &g->daddr) ||
		    !migtcp_ctl_authentic(net, skb, g->key, &g->daddr, &why))
			continue;
		migtcp_gone_free(mn, g);
		found = true;
		break;
	}
	spin_unlock_bh(&mn->gone_lock);
	return found;
}

/*
 * A control segment, intact and with the CTL flag alone: checks its TLV
 * and hands it to the socket it is for (processed in migtcp_sock_rcv()).
 */
void migtcp_ctl_rcv(struct net *net, struct sk_buff *skb)
{
	struct migtcp_net *mn = migtcp_pernet(net);
	const struct migtcphdr *mh = migtcp_hdr(skb);
	unsigned int hdrlen = mh->doff * 4, len = skb->len - hdrlen;
	const struct migtcp_ctl_update *u;
	const struct migtcp_ctl_ack *a;
	const u8 *tlv;
	struct sock *sk;

	if (mh->doff != MIGTCP_HDR_MIN_DOFF || len < 4 ||
	    len > MIGTCP_CTL_MAX_LEN || !pskb_may_pull(skb, hdrlen + len))
		goto bad;
	mh = migtcp_hdr(skb);
	tlv = migtcp_ctl_tlv(skb);
	if (migtcp_ctl_len(tlv[0]) != len || get_unaligned_be16(tlv + 2) != len)
		goto bad;

	if (!mh->dst_port) {
		/* To the registrar, about the endpoint that sent it. */
		u = (const void *)tlv;
		if (tlv[0] != MIGTCP_CTL_LOCATION_UPDATE || !mh->src_port ||
		    !migtcp_ctl_family_ok(u->family))
			goto bad;
		if (!u->peer_node && !u->peer_port)
			sk = migtcp_record_lookup(mn, ntohl(mh->src_node),
						  ntohs(mh->src_port));
		else
			sk = migtcp_conn_lookup(mn, ntohl(mh->src_node),
						ntohs(mh->src_port),
						ntohl(u->peer_node),
						ntohs(u->peer_port));
	} else if (!mh->src_port) {
		/* From a registrar: the acknowledgment of an update. */
		a = (const void *)tlv;
		if (tlv[0] != MIGTCP_CTL_LOCATION_ACK)
			goto bad;
		/* Sockets without a peer are in the connection table
		 * when their identity is another node's.
		 */
		if (!a->peer_node && !a->peer_port)
			sk = migtcp_conn_lookup(mn, ntohl(mh->dst_node),
						ntohs(mh->dst_port), 0, 0);
		else
			sk = migtcp_conn_lookup(mn, ntohl(mh->dst_node),
						ntohs(mh->dst_port),
						ntohl(a->peer_node),
						ntohs(a->peer_port));
	} else {
		if (tlv[0] == MIGTCP_CTL_LOCATION_UPDATE) {
			u = (const void *)tlv;
			if (!migtcp_ctl_family_ok(u->family) ||
			    u->peer_node != mh->dst_node ||
			    u->peer_port != mh->dst_port)
				goto bad;
		}
		sk = migtcp_conn_lookup(mn, ntohl(mh->dst_node),
					ntohs(mh->dst_port),
					ntohl(mh->src_node),
					ntohs(mh->src_port));
	}
	if (!sk) {
		if (!mh->src_port && migtcp_gone_acked(net, skb)) {
			consume_skb(skb);
			return;
		}
		migtcp_ctl_drop(net, skb, MIGTCP_STAT_IN_CTL_NO_STATE);
		return;
	}
	migtcp_deliver(sk, skb);
	sock_put(sk);
	return;
bad:
	migtcp_ctl_drop(net, skb, MIGTCP_STAT_IN_CTL_ERRORS);
}

/* Answers the HOLD or LOCATION-UPDATE in @skb, to @daddr. */
static void migtcp_send_loc_ack(struct net *net, const struct sk_buff *skb,
				const u8 *key, const struct in6_addr *daddr)
{
	const u8 *tlv = migtcp_ctl_tlv(skb);
	const struct migtcp_ctl_update *u = (const void *)tlv;
	struct migtcp_ctl_ack ack = {
		.type		= MIGTCP_CTL_LOCATION_ACK,
		.len		= htons(sizeof(ack)),
		.epoch		= u->epoch,	/* where the HOLD's is too */
		.acked_type	= tlv[0],
	};
	struct migtcp_ctl_ids ids;

	migtcp_ctl_ids_of(migtcp_hdr(skb), &ids, true);
	/* A registrar names which of the endpoint's sockets it answers. */
	if (!migtcp_hdr(skb)->dst_port) {
		ack.peer_node = u->peer_node;
		ack.peer_port = u->peer_port;
	}
	migtcp_ctl_xmit(net, &ids, &ack, sizeof(ack), key, daddr);
}

/*
 * Whether node @host is reached at @addr: a known peer at one of its
 * addresses, or this node at any of its own (a node without an underlay
 * address sends its own connections' control messages from loopback).
 * Then for a peer @addr becomes the address this node reaches it at
 * (migtcp_peer_daddr()), which may be of the other family: the sender
 * names its address of the family it was reached by.
 */
static bool migtcp_host_ok(struct net *net, u32 host, struct in6_addr *addr)
{
	if (!host || !migtcp_node_has_addr(net, host, addr))
		return false;
	if (host != READ_ONCE(migtcp_pernet(net)->node.id))
		migtcp_node_daddr(net, host, addr);
	return true;
}

static void migtcp_hold_rcv(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcp_ctl_hold *h = (const void *)migtcp_ctl_tlv(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_mig *mig = &msk->mig;
	u64 epoch = be64_to_cpu(h->epoch);
	unsigned long limit = migtcp_mig_timeout(), hold;
	struct in6_addr from;

	if (epoch <= mig->peer_epoch ||
	    (mig->held && epoch < mig->held_epoch)) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_CTL_STALE_EPOCH);
		return;
	}
	if (!migtcp_has_peer(sk)) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_CTL_NO_STATE);
		return;
	}
	/* A repeated HOLD is acknowledged again; it extends nothing. */
	if (!mig->held || epoch != mig->held_epoch) {
		hold = msecs_to_jiffies(ntohl(h->hold_ms));
		mig->held = true;
		mig->held_epoch = epoch;
		mig->held_until = jiffies + (hold && hold < limit ? hold : limit);
		migtcp_stop_retransmit(sk);
		migtcp_keepalive_stop(sk);
		migtcp_mig_arm(sk);
	}
	migtcp_skb_saddr(skb, &from);
	migtcp_send_loc_ack(sock_net(sk), skb, msk->kx.conn_key, &from);
}

/*
 * The peer runs at a new address: send everything there, from SND.UNA,
 * with RTT and congestion state started afresh as for a new path.
 */
static void migtcp_switch_path(struct sock *sk, const struct in6_addr *addr)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->path_daddr = *addr;
	msk->path_saddr = in6addr_any;
	sk_dst_reset(sk);
	migtcp_route_path(sk);
	migtcp_rtt_reset(sk);
	msk->cwnd = MIGTCP_INIT_CWND;
	msk->cwnd_cnt = 0;
}

static void migtcp_update_rcv(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcp_ctl_update *u = (const void *)migtcp_ctl_tlv(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_mig *mig = &msk->mig;
	u64 epoch = be64_to_cpu(u->epoch);
	u32 host = ntohl(u->host_node);
	struct in6_addr addr;
	bool host_ok;

	migtcp_ctl_get_addr(u->family, u->host_addr, &addr);
	host_ok = migtcp_host_ok(sock_net(sk), host, &addr);
	if (epoch < mig->peer_epoch ||
	    (epoch == mig->peer_epoch &&
	     (!epoch || host != mig->peer_host ||
	      !ipv6_addr_equal(&addr, &msk->path_daddr)))) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_CTL_STALE_EPOCH);
		return;
	}
	if (!host_ok) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_CTL_BAD_HOST);
		return;
	}
	if (!migtcp_has_peer(sk)) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_CTL_NO_STATE);
		return;
	}
	if (epoch == mig->peer_epoch) {
		/* A duplicate: our acknowledgment was lost. */
		migtcp_send_loc_ack(sock_net(sk), skb, msk->kx.conn_key, &addr);
		return;
	}
	mig->peer_epoch = epoch;
	mig->peer_host = host;
	/* An older update ends no newer hold. */
	if (epoch >= mig->held_epoch)
		mig->held = false;
	if (!ipv6_addr_equal(&addr, &msk->path_daddr))
		migtcp_switch_path(sk, &addr);
	/*
	 * An ACK first: the moved end learns what we have before our
	 * LOCATION-ACK lets it send, and sends again only what we lack.
	 */
	if (migtcp_has_peer(sk))
		migtcp_send_ack(sk);
	migtcp_send_loc_ack(sock_net(sk), skb, msk->kx.conn_key, &addr);
	migtcp_mig_arm(sk);
	migtcp_mig_resume(sk);
}

static void migtcp_ack_rcv(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcp_ctl_ack *a = (const void *)migtcp_ctl_tlv(skb);
	struct migtcp_mig *mig = &migtcp_sk(sk)->mig;
	bool relocated = false;
	u8 bit = 0;

	if (be64_to_cpu(a->epoch) == mig->epoch) {
		/*
		 * A registrar's: from the record on the last host only while
		 * that update waits.  On the first move away from home the
		 * last host is the home, and only the home was told.
		 */
		if (!migtcp_hdr(skb)->src_port)
			bit = migtcp_skb_from(skb, &mig->prev_addr) &&
			      (mig->pending & MIGTCP_PEND_PREV) ?
			      MIGTCP_PEND_PREV : MIGTCP_PEND_HOME;
		else if (a->acked_type == MIGTCP_CTL_HOLD)
			bit = MIGTCP_PEND_HOLD;
		else if (a->acked_type == MIGTCP_CTL_LOCATION_UPDATE)
			bit = MIGTCP_PEND_PEER;
	}
	if (!(mig->pending & bit)) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_CTL_NO_STATE);
		return;
	}
	mig->pending &= ~bit;
	if (bit == MIGTCP_PEND_HOME && mig->registrar) {
		mig->lease_ok = jiffies;
		mig->lease_next = jiffies + migtcp_mig_timeout();
	}
	/* The peer knows: data may flow.  The deadline stays while updates
	 * to registrars are still unacknowledged, to end their resending.
	 */
	if (bit == MIGTCP_PEND_PEER && mig->state == MIGTCP_MIG_RELOCATING) {
		mig->state = MIGTCP_MIG_NONE;
		relocated = true;
	}
	if (!mig->pending && mig->state != MIGTCP_MIG_DEPARTED)
		mig->deadline = 0;
	migtcp_mig_arm(sk);
	/*
	 * Only the end of a relocation lets data flow again.  A registrar's
	 * acknowledgment of a lease renewal changes nothing for the stream:
	 * resuming there would restart the retransmission budget and an
	 * orphan's FIN_WAIT2 wait each time, and the orphan would never end.
	 */
	if (relocated)
		migtcp_mig_resume(sk);
}

/*
 * Whether @sk is a record, or a socket checkpointed and still open, which
 * becomes one when it is closed: either stands for an endpoint that lives
 * elsewhere.  Read without the socket's lock by lookups (conn.c).
 */
bool migtcp_mig_is_record(const struct sock *sk)
{
	const struct migtcp_mig *mig = &migtcp_sk(sk)->mig;
	u8 state = READ_ONCE(mig->state);

	return state == MIGTCP_MIG_DEPARTED ||
	       (state == MIGTCP_MIG_FROZEN && READ_ONCE(mig->exported));
}

/*
 * A LOCATION-UPDATE from the endpoint of record @sk, for the registrar
 * (at its home) or for the record on a host it left: where it runs now.
 */
static void migtcp_registrar_rcv(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcp_ctl_update *u = (const void *)migtcp_ctl_tlv(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_mig *mig = &msk->mig;
	struct net *net = sock_net(sk);
	u64 epoch = be64_to_cpu(u->epoch);
	u32 host = ntohl(u->host_node);
	struct in6_addr addr;
	enum migtcp_stat why;
	bool host_ok;

	/*
	 * A checkpointed socket whose process has not closed it yet (it
	 * waits, stopped, to be killed once restored elsewhere: criu dump
	 * --leave-stopped) is the record to be, and learns where its
	 * endpoint runs all the same.  Dropped, the update would come again
	 * only on the sender's backoff, and the record would meanwhile drop
	 * every message for the endpoint (when both ends move, the only
	 * way between them).  Its end (GONE) waits for the record.
	 */
	if (!migtcp_mig_is_record(sk) ||
	    (mig->state != MIGTCP_MIG_DEPARTED &&
	     (u->flags & MIGTCP_CTL_F_GONE))) {
		migtcp_drop(net, skb, MIGTCP_STAT_IN_CTL_NO_STATE);
		return;
	}
	if (!migtcp_ctl_authentic(net, skb, mig->home_key, &mig->host_addr,
				  &why)) {
		migtcp_drop(net, skb, why);
		return;
	}
	migtcp_ctl_get_addr(u->family, u->host_addr, &addr);
	host_ok = migtcp_host_ok(net, host, &addr);
	if (epoch < mig->epoch ||
	    (epoch == mig->epoch && mig->host_node &&
	     (host != mig->host_node ||
	      !ipv6_addr_equal(&addr, &mig->host_addr)))) {
		migtcp_drop(net, skb, MIGTCP_STAT_IN_CTL_STALE_EPOCH);
		return;
	}
	if (!host_ok) {
		migtcp_drop(net, skb, MIGTCP_STAT_IN_CTL_BAD_HOST);
		return;
	}
	migtcp_send_loc_ack(net, skb, mig->home_key, &addr);
	if (u->flags & MIGTCP_CTL_F_GONE) {
		migtcp_done(sk, 0);
		return;
	}
	mig->epoch = epoch;
	mig->host_node = host;
	mig->host_addr = addr;
	/* Still frozen: its close makes the record, which keeps all this. */
	if (mig->state != MIGTCP_MIG_DEPARTED)
		return;
	/*
	 * Away from home, the record passes messages on a while longer; at
	 * home, the endpoint renewed its lease.
	 */
	mig->deadline = jiffies + (migtcp_mig_at_home(sk) ?
				   migtcp_mig_lease() : migtcp_mig_timeout());
	migtcp_mig_arm(sk);
}

/* A record that knows where its endpoint went passes the message on. */
static void migtcp_forward(struct sock *sk, struct sk_buff *skb)
{
	struct migtcp_mig *mig = &migtcp_sk(sk)->mig;
	const u8 *tlv = migtcp_ctl_tlv(skb);
	struct migtcp_ctl_ids ids;

	if (migtcp_addr_none(&mig->host_addr)) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_MOVED);
		return;
	}
	migtcp_ctl_ids_of(migtcp_hdr(skb), &ids, false);
	migtcp_ctl_xmit(sock_net(sk), &ids, tlv, get_unaligned_be16(tlv + 2),
			NULL, &mig->host_addr);
}

/*
 * A REDIRECT answers our SYN: the listener runs elsewhere.  Only in
 * SYN-SENT, only for our ISS (which off-path attackers cannot know), only
 * to a known node, at most three times; the same SYN goes there.
 */
static void migtcp_redirect_rcv(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcp_ctl_redirect *r = (const void *)migtcp_ctl_tlv(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct net *net = sock_net(sk);
	u8 key[MIGTCP_KEY_LEN];
	enum migtcp_stat why;
	struct in6_addr addr;
	bool keyed;

	if (sk->sk_state != TCP_SYN_SENT || ntohl(r->echoed_seq) != msk->iss) {
		migtcp_drop(net, skb, MIGTCP_STAT_IN_CTL_NO_STATE);
		return;
	}
	keyed = migtcp_kx_redirect_key(net, key);
	if (keyed &&
	    !migtcp_ctl_authentic(net, skb, key, &msk->path_daddr, &why)) {
		memzero_explicit(key, sizeof(key));
		migtcp_drop(net, skb, why);
		return;
	}
	memzero_explicit(key, sizeof(key));
	if (!migtcp_ctl_family_ok(r->family)) {
		migtcp_drop(net, skb, MIGTCP_STAT_IN_CTL_BAD_HOST);
		return;
	}
	migtcp_ctl_get_addr(r->family, r->host_addr, &addr);
	if (!migtcp_host_ok(net, ntohl(r->host_node), &addr)) {
		migtcp_drop(net, skb, MIGTCP_STAT_IN_CTL_BAD_HOST);
		return;
	}
	if (++msk->mig.redirects > 3) {
		migtcp_done(sk, ECONNREFUSED);
		return;
	}
	msk->path_daddr = addr;
	msk->path_saddr = in6addr_any;
	sk_dst_reset(sk);
	if (!migtcp_route_path(sk))
		migtcp_send_ctl(sk, MIGTCP_F_SYN, msk->iss);
}

/* A control segment for @sk (locked); the caller frees @skb. */
void migtcp_ctl_process(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	const u8 *tlv = migtcp_ctl_tlv(skb);
	enum migtcp_stat why;

	/*
	 * migtcp_ctl_rcv() found the message whole, but the socket's filter
	 * may have cut it since (sk_filter_trim_cap()): what it cut off is
	 * not to be read.
	 */
	if (skb->len - mh->doff * 4 < 4 ||
	    skb->len - mh->doff * 4 != migtcp_ctl_len(tlv[0])) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_FILTER_DROPS);
		return;
	}
	if (!mh->dst_port) {
		migtcp_registrar_rcv(sk, skb);
		return;
	}
	if (tlv[0] == MIGTCP_CTL_REDIRECT) {
		migtcp_redirect_rcv(sk, skb);
		return;
	}
	if (!migtcp_ctl_authentic(sock_net(sk), skb,
				  mh->src_port ? msk->kx.conn_key :
						 msk->mig.home_key,
				  &msk->path_daddr, &why)) {
		migtcp_drop(sock_net(sk), skb, why);
		return;
	}
	/*
	 * A departed record passes on what the peer sends, and so does a
	 * socket checkpointed and still open (its state lives on where it is
	 * restored; acknowledged here, a peer's update would be lost with
	 * it, and the peer would never tell the restored end where it went:
	 * when both ends move at once, they would never meet again).  Each
	 * still takes the acknowledgment of its own HOLD.
	 */
	if (migtcp_mig_is_record(sk) && mh->src_port &&
	    tlv[0] != MIGTCP_CTL_LOCATION_ACK) {
		migtcp_forward(sk, skb);
		return;
	}
	switch (tlv[0]) {
	case MIGTCP_CTL_HOLD:
		migtcp_hold_rcv(sk, skb);
		break;
	case MIGTCP_CTL_LOCATION_UPDATE:
		migtcp_update_rcv(sk, skb);
		break;
	case MIGTCP_CTL_LOCATION_ACK:
		migtcp_ack_rcv(sk, skb);
		break;
	default:
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_CTL_NO_STATE);
		break;
	}
}
