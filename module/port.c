// SPDX-License-Identifier: GPL-2.0
/*
 * The port table of a node.  A bound socket owns (node id, port) for
 * life; ports given as 0 are picked from the ephemeral range, starting at
 * a random offset as Linux TCP does, so ports are hard to predict.
 */
#include <linux/hash.h>
#include <linux/random.h>
#include <net/inet_sock.h>
#include <net/tcp_states.h>

#include "migtcp.h"

/* Linux's default ip_local_port_range. */
#define MIGTCP_EPHEMERAL_MIN	32768
#define MIGTCP_EPHEMERAL_MAX	60999

void migtcp_ports_init(struct migtcp_net *mn)
{
	int i;

	spin_lock_init(&mn->ports_lock);
	for (i = 0; i < ARRAY_SIZE(mn->port_hash); i++)
		INIT_HLIST_HEAD(&mn->port_hash[i]);
	mn->port_min = MIGTCP_EPHEMERAL_MIN;
	mn->port_max = MIGTCP_EPHEMERAL_MAX;
}

static struct hlist_head *migtcp_port_bucket(struct migtcp_net *mn, u16 port)
{
	return &mn->port_hash[hash_32(port, MIGTCP_PORT_HASH_BITS)];
}

/*
 * As TCP: sockets may share a port only if all of them set SO_REUSEADDR
 * and none of them listens.
 */
static bool migtcp_port_conflicts(struct migtcp_net *mn,
				  const struct sock *sk, u16 port)
{
	const struct migtcp_sock *other;

	hlist_for_each_entry(other, migtcp_port_bucket(mn, port), port_node) {
		if (other->local_port != port)
			continue;
		if (!sk || !sk->sk_reuse || !other->sk.sk_reuse ||
		    other->sk.sk_state == TCP_LISTEN)
			return true;
	}
	return false;
}

/* Returns a port no socket holds, or 0 if the range is exhausted. */
static u16 migtcp_port_pick(struct migtcp_net *mn)
{
	u32 range = mn->port_max - mn->port_min + 1;
	u32 offset = get_random_u32_below(range);
	u32 i;

	for (i = 0; i < range; i++) {
		u16 port = mn->port_min + (offset + i) % range;

		if (!migtcp_port_conflicts(mn, NULL, port))
			return port;
	}
	return 0;
}

/*
 * Binds @sk to (@node, @port); node 0 means this node, port 0 an
 * ephemeral port.  The caller owns the socket lock.
 */
int migtcp_port_bind(struct sock *sk, u32 node, u16 port)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);
	int err = 0;

	spin_lock_bh(&mn->ports_lock);
	if (!mn->node.id || (node && node != mn->node.id)) {
		err = -EADDRNOTAVAIL;
	} else if (!port) {
		port = migtcp_port_pick(mn);
		if (!port)
			err = -EADDRINUSE;
	} else if (migtcp_port_conflicts(mn, sk, port)) {
		err = -EADDRINUSE;
	}
	if (!err) {
		WRITE_ONCE(msk->local_node, mn->node.id);
		WRITE_ONCE(msk->local_port, port);
		hlist_add_head(&msk->port_node, migtcp_port_bucket(mn, port));
		mn->bound++;
	}
	spin_unlock_bh(&mn->ports_lock);
	return err;
}

/*
 * A connection holds its port while it lives, shared with its listener
 * and the port's other connections (as TCP's bind hash): a passively
 * opened one, or one restored at its home.
 */
void migtcp_port_hold(struct sock *sk, u16 port)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);

	spin_lock_bh(&mn->ports_lock);
	WRITE_ONCE(msk->local_node, mn->node.id);
	WRITE_ONCE(msk->local_port, port);
	hlist_add_head(&msk->port_node, migtcp_port_bucket(mn, port));
	mn->bound++;
	spin_unlock_bh(&mn->ports_lock);
}

void migtcp_port_inherit(struct sock *child, const struct sock *parent)
{
	migtcp_port_hold(child, migtcp_sk(parent)->local_port);
}

/* Makes bound @sk listen, unless another socket listens on its port. */
int migtcp_port_listen(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	u16 port = migtcp_sk(sk)->local_port;
	const struct migtcp_sock *other;
	int err = 0;

	spin_lock_bh(&mn->ports_lock);
	hlist_for_each_entry(other, migtcp_port_bucket(mn, port), port_node)
		if (other->local_port == port &&
		    other->sk.sk_state == TCP_LISTEN)
			err = -EADDRINUSE;
	if (!err)
		migtcp_set_state(sk, TCP_LISTEN);
	spin_unlock_bh(&mn->ports_lock);
	return err;
}

/*
 * Gives @sk's port back; the socket is locked.  Whether it is in the
 * table is what counts, not its port number: a passively opened
 * connection has its identity before it holds the port (and never holds
 * it if its listener closed first), and a socket left in the table when
 * it is freed would be a use after free for the next walk of its bucket.
 */
void migtcp_port_unbind(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);

	/*
	 * An identity of another node was never in our table.  Once given
	 * up, the socket is one of ours again: a later bind() puts it in
	 * the table, and the next unbind must take it out.
	 */
	if (msk->mig.foreign) {
		if (msk->local_port)
			migtcp_conn_unhash(sk);	/* where its listener was */
		WRITE_ONCE(msk->local_port, 0);
		WRITE_ONCE(msk->local_node, 0);
		msk->mig.foreign = false;
		return;
	}
	spin_lock_bh(&mn->ports_lock);
	if (!hlist_unhashed(&msk->port_node)) {
		hlist_del_init(&msk->port_node);
		mn->bound--;
	}
	WRITE_ONCE(msk->local_port, 0);
	WRITE_ONCE(msk->local_node, 0);
	spin_unlock_bh(&mn->ports_lock);
}

int migtcp_ports_set_range(struct migtcp_net *mn, u16 min, u16 max)
{
	if (!min || min > max)
		return -EINVAL;
	spin_lock_bh(&mn->ports_lock);
	mn->port_min = min;
	mn->port_max = max;
	spin_unlock_bh(&mn->ports_lock);
	return 0;
}
