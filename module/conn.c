// SPDX-License-Identifier: GPL-2.0
/*
 * The connection table of a node and what identifies a connection: the
 * 4-tuple of endpoint identities, never IP addresses.  Also the path a
 * connection takes to its peer node, and initial sequence numbers.
 */
#include <linux/rhashtable.h>
#include <linux/siphash.h>
#include <linux/ktime.h>
#include <net/route.h>
#include <net/tcp_states.h>

#include "migtcp.h"

/*
 * The connection table, an rhashtable.  The whole 4-tuple is the key:
 * after a migration a node hosts endpoints whose identity names another
 * node.  A listener (or bound socket) that
 * migrated here is hashed with a remote identity of zeros.
 *
 * Anyone can send segments naming any 4-tuple, so the table must not
 * let them choose the bucket: each bucket table hashes with its own
 * random seed (lib/rhashtable.c), grows with the number of connections,
 * and is rehashed with a new seed when a chain grows too long.  The
 * packet path looks connections up under RCU, without a lock; sockets
 * are freed only after a grace period (SOCK_RCU_FREE, socket.c), and a
 * lookup takes its reference with refcount_inc_not_zero(), as TCP's
 * lookups do, so that a socket being freed is not found.
 */
static const struct rhashtable_params migtcp_conn_params = {
	.key_len		= sizeof(struct migtcp_conn_key),
	.key_offset		= offsetof(struct migtcp_sock, conn_key),
	.head_offset		= offsetof(struct migtcp_sock, conn_node),
	.automatic_shrinking	= true,
};

int migtcp_conn_init(struct migtcp_net *mn)
{
	return rhashtable_init(&mn->conns, &migtcp_conn_params);
}

/* Once every socket of the namespace is gone: each unhashed itself. */
void migtcp_conn_destroy(struct migtcp_net *mn)
{
	WARN_ON_ONCE(atomic_read(&mn->conns.nelems));
	rhashtable_destroy(&mn->conns);
}

/*
 * Makes @sk findable by its 4-tuple; -EADDRNOTAVAIL if the tuple is
 * taken (the socket already there stays), -ENOMEM if the table could not
 * take one more (it grows with atomic allocations).  The socket is
 * locked.
 */
int migtcp_conn_hash(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);
	const struct migtcp_conn_key old = msk->conn_key;
	const struct migtcp_conn_key key = {
		.local_node	= msk->local_node,
		.remote_node	= msk->remote_node,
		.local_port	= msk->local_port,
		.remote_port	= msk->remote_port,
	};
	bool moved = false;
	int err;

	/*
	 * A socket has one place in the table.  A bound socket restored
	 * away from its home is there with a remote of zeros, and when it
	 * connects its connection takes that place: it leaves it first,
	 * found by the key it went in with, so that it is never linked into
	 * two chains at once.
	 */
	if (memcmp(&old, &key, sizeof(key)))
		moved = !rhashtable_remove_fast(&mn->conns, &msk->conn_node,
						migtcp_conn_params);
	msk->conn_key = key;
	/* The check and the insertion are one step under the bucket's lock. */
	err = rhashtable_lookup_insert_fast(&mn->conns, &msk->conn_node,
					    migtcp_conn_params);
	if (err && moved) {
		/* Back in its place, unless a restore took it meanwhile. */
		msk->conn_key = old;
		rhashtable_lookup_insert_fast(&mn->conns, &msk->conn_node,
					      migtcp_conn_params);
	}
	if (err == -EEXIST)
		return -EADDRNOTAVAIL;
	return err ? -ENOMEM : 0;
}

/*
 * Takes @sk out of the table, if it is there: found by the key it was
 * hashed with, whatever its fields say now.  Lookups under RCU may still
 * see it until the socket is freed, after a grace period.
 */
void migtcp_conn_unhash(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));

	rhashtable_remove_fast(&mn->conns, &migtcp_sk(sk)->conn_node,
			       migtcp_conn_params);
}

/* The connection a segment belongs to, with a reference, or NULL. */
struct sock *migtcp_conn_lookup(struct migtcp_net *mn, u32 lnode, u16 lport,
				u32 rnode, u16 rport)
{
	const struct migtcp_conn_key key = {
		.local_node	= lnode,
		.remote_node	= rnode,
		.local_port	= lport,
		.remote_port	= rport,
	};
	struct migtcp_sock *msk;
	struct sock *sk = NULL;

	rcu_read_lock();
	msk = rhashtable_lookup(&mn->conns, &key, migtcp_conn_params);
	if (msk && refcount_inc_not_zero(&msk->sk.sk_refcnt)) {
		sk = &msk->sk;
		/*
		 * Unhashed and hashed again as another connection (a new
		 * connect()) since it matched: not the one sought.
		 */
		if (unlikely(memcmp(&msk->conn_key, &key, sizeof(key)))) {
			sock_put(sk);
			sk = NULL;
		}
	}
	rcu_read_unlock();
	return sk;
}

/*
 * The socket without a peer that is (@lnode, @lport) and for which @match
 * holds, with a reference, or NULL: in the port table for this node's
 * identities, in the connection table for one that migrated here.
 */
static struct sock *migtcp_endpoint_lookup(struct migtcp_net *mn, u32 lnode,
					   u16 lport,
					   bool (*match)(const struct sock *))
{
	struct sock *found;

	if (lnode != READ_ONCE(mn->node.id)) {
		found = migtcp_conn_lookup(mn, lnode, lport, 0, 0);
		if (found && !match(found)) {
			sock_put(found);
			found = NULL;
		}
		return found;
	}
	return migtcp_port_lookup(mn, lport, match);
}

static bool migtcp_is_listener(const struct sock *sk)
{
	return inet_sk_state_load(sk) == TCP_LISTEN;
}

static bool migtcp_is_departed(const struct sock *sk)
{
	return READ_ONCE(migtcp_sk(sk)->mig.state) == MIGTCP_MIG_DEPARTED;
}

/* The socket listening as (@lnode, @lport), with a reference, or NULL. */
struct sock *migtcp_listener_lookup(struct migtcp_net *mn, u32 lnode,
				    u16 lport)
{
	return migtcp_endpoint_lookup(mn, lnode, lport, migtcp_is_listener);
}

/*
 * The record a socket without a peer (a listener, or a bound socket) left
 * as (@lnode, @lport) when it migrated away, with a reference, or NULL.
 */
struct sock *migtcp_departed_lookup(struct migtcp_net *mn, u32 lnode,
				    u16 lport)
{
	return migtcp_endpoint_lookup(mn, lnode, lport, migtcp_is_departed);
}

/*
 * What a registrar's update for the socket without a peer (@lnode, @lport)
 * goes to: its record, or the checkpointed socket still here.
 */
struct sock *migtcp_record_lookup(struct migtcp_net *mn, u32 lnode, u16 lport)
{
	return migtcp_endpoint_lookup(mn, lnode, lport, migtcp_mig_is_record);
}

/*
 * RFC 6528: a keyed hash of the connection's identity plus a clock ticking
 * every 64 ns, so sequence numbers of successive incarnations advance.
 */
u32 migtcp_isn(const struct migtcp_sock *msk)
{
	static siphash_aligned_key_t isn_secret;
	u64 hash;

	net_get_random_once(&isn_secret, sizeof(isn_secret));
	hash = siphash_3u32(msk->local_node, msk->remote_node,
			    (u32)msk->local_port << 16 | msk->remote_port,
			    &isn_secret);
	return (u32)hash + (u32)(ktime_get_real_ns() >> 6);
}

/*
 * The path to @node: the peer table's address (migtcp_peer_daddr()), or
 * for this node its own address (loopback when it has none).  Sets the
 * path and the MSS the route allows.
 */
int migtcp_resolve_path(struct sock *sk, u32 node)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct in6_addr daddr;

	if (!migtcp_node_daddr(sock_net(sk), node, &daddr) ||
	    migtcp_addr_none(&daddr))
		return -EHOSTUNREACH;
	msk->path_daddr = daddr;
	msk->path_saddr = in6addr_any;
	return migtcp_route_path(sk);
}
