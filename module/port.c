// SPDX-License-Identifier: GPL-2.0
/*
 * The port table of a node.  A bound socket owns (node id, port) for
 * life; ports given as 0 are picked from the ephemeral range, starting at
 * a random offset as Linux TCP does, so ports are hard to predict.
 */
#include <linux/random.h>
#include <linux/rhashtable.h>
#include <net/inet_sock.h>
#include <net/tcp_states.h>

#include "migtcp.h"

/* Linux's default ip_local_port_range. */
#define MIGTCP_EPHEMERAL_MIN	32768
#define MIGTCP_EPHEMERAL_MAX	60999

/*
 * Several sockets hold one port (SO_REUSEADDR, a listener and its
 * connections), so the table is an rhltable: one entry per port, the
 * port's sockets in a list behind it.  The alternative, an rhashtable
 * of per-port buckets each with a list of its own (as inet_bind_bucket),
 * costs a second object per port, freed after a grace period, for what
 * the rhltable's own list gives.  Either way the sockets of one port
 * are one entry: they never count toward the chain length that makes
 * the table rehash, whose seed is random per bucket table and which
 * grows with the number of ports in use.
 *
 * The listener lookup of the packet path walks a port's list under RCU
 * (sockets are freed after a grace period, SOCK_RCU_FREE); writers are
 * serialised by ports_lock, so that a port's conflict check and its
 * taking are one step, with bound and the port range.
 */
static const struct rhashtable_params migtcp_port_params = {
	.key_len		= sizeof(u16),
	.key_offset		= offsetof(struct migtcp_sock, port_key),
	.head_offset		= offsetof(struct migtcp_sock, port_node),
	.automatic_shrinking	= true,
};

int migtcp_ports_init(struct migtcp_net *mn)
{
	spin_lock_init(&mn->ports_lock);
	mn->port_min = MIGTCP_EPHEMERAL_MIN;
	mn->port_max = MIGTCP_EPHEMERAL_MAX;
	return rhltable_init(&mn->ports, &migtcp_port_params);
}

/* Once every socket of the namespace is gone: each gave its port back. */
void migtcp_ports_destroy(struct migtcp_net *mn)
{
	WARN_ON_ONCE(mn->bound);
	rhltable_destroy(&mn->ports);
}

/*
 * As TCP: sockets may share a port only if all of them set SO_REUSEADDR
 * and none of them listens.  Under ports_lock.
 */
static bool migtcp_port_conflicts(struct migtcp_net *mn,
				  const struct sock *sk, u16 port)
{
	const struct migtcp_sock *other;
	struct rhlist_head *list, *pos;
	bool conflict = false;

	lockdep_assert_held(&mn->ports_lock);
	rcu_read_lock();
	list = rhltable_lookup(&mn->ports, &port, migtcp_port_params);
	rhl_for_each_entry_rcu(other, pos, list, port_node) {
		if (!sk || !sk->sk_reuse || !other->sk.sk_reuse ||
		    other->sk.sk_state == TCP_LISTEN) {
			conflict = true;
			break;
		}
	}
	rcu_read_unlock();
	return conflict;
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
 * Puts @sk in the table as (this node, @port), under ports_lock; -ENOMEM
 * if the table could not take one more (it grows with atomic
 * allocations).
 */
static int migtcp_port_add(struct migtcp_net *mn, struct sock *sk, u16 port)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	lockdep_assert_held(&mn->ports_lock);
	WRITE_ONCE(msk->port_key, port);
	if (rhltable_insert(&mn->ports, &msk->port_node, migtcp_port_params))
		return -ENOMEM;
	WRITE_ONCE(msk->local_node, mn->node.id);
	WRITE_ONCE(msk->local_port, port);
	mn->bound++;
	return 0;
}

/*
 * Binds @sk to (@node, @port); node 0 means this node, port 0 an
 * ephemeral port.  The caller owns the socket lock.
 */
int migtcp_port_bind(struct sock *sk, u32 node, u16 port)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
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
	if (!err)
		err = migtcp_port_add(mn, sk, port);
	spin_unlock_bh(&mn->ports_lock);
	return err;
}

/*
 * A connection holds its port while it lives, shared with its listener
 * and the port's other connections (as TCP's bind hash): a passively
 * opened one, or one restored at its home.  Fails only for want of
 * memory.
 */
int migtcp_port_hold(struct sock *sk, u16 port)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	int err;

	spin_lock_bh(&mn->ports_lock);
	err = migtcp_port_add(mn, sk, port);
	spin_unlock_bh(&mn->ports_lock);
	return err;
}

int migtcp_port_inherit(struct sock *child, const struct sock *parent)
{
	return migtcp_port_hold(child, migtcp_sk(parent)->local_port);
}

/* Makes bound @sk listen, unless another socket listens on its port. */
int migtcp_port_listen(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	u16 port = migtcp_sk(sk)->local_port;
	const struct migtcp_sock *other;
	struct rhlist_head *list, *pos;
	int err = 0;

	spin_lock_bh(&mn->ports_lock);
	rcu_read_lock();
	list = rhltable_lookup(&mn->ports, &port, migtcp_port_params);
	rhl_for_each_entry_rcu(other, pos, list, port_node)
		if (other->sk.sk_state == TCP_LISTEN)
			err = -EADDRINUSE;
	rcu_read_unlock();
	if (!err)
		migtcp_set_state(sk, TCP_LISTEN);
	spin_unlock_bh(&mn->ports_lock);
	return err;
}

/*
 * The socket of this node on @port that has no peer and for which @match
 * holds, with a reference, or NULL; the packet path's, without a lock.
 * The most recently bound one first, as sockets join the front of their
 * port's list.
 */
struct sock *migtcp_port_lookup(struct migtcp_net *mn, u16 port,
				bool (*match)(const struct sock *))
{
	struct rhlist_head *list, *pos;
	struct migtcp_sock *msk;
	struct sock *found = NULL;

	rcu_read_lock();
	list = rhltable_lookup(&mn->ports, &port, migtcp_port_params);
	rhl_for_each_entry_rcu(msk, pos, list, port_node) {
		/*
		 * A socket that gave its port back and took another one
		 * meanwhile leads the walk into that port's list.
		 */
		if (READ_ONCE(msk->port_key) != port ||
		    READ_ONCE(msk->remote_port) || !match(&msk->sk) ||
		    !refcount_inc_not_zero(&msk->sk.sk_refcnt))
			continue;
		found = &msk->sk;
		break;
	}
	rcu_read_unlock();
	return found;
}

/*
 * Gives @sk's port back; the socket is locked.  Whether it is in the
 * table is what counts, not its port number: a passively opened
 * connection has its identity before it holds the port (and never holds
 * it if its listener closed first), and a socket left in the table when
 * it is freed would be a use after free for the next walk of its port.
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
	/* By the key it went in with; -ENOENT if it is not in. */
	if (!rhltable_remove(&mn->ports, &msk->port_node, migtcp_port_params))
		mn->bound--;
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
