// SPDX-License-Identifier: GPL-2.0
/*
 * The connection table of a node and what identifies a connection: the
 * 4-tuple of endpoint identities, never IP addresses.  Also the path a
 * connection takes to its peer node, and initial sequence numbers.
 */
#include <linux/hash.h>
#include <linux/jhash.h>
#include <linux/siphash.h>
#include <linux/ktime.h>
#include <net/route.h>
#include <net/tcp_states.h>

#include "migtcp.h"

void migtcp_conn_init(struct migtcp_net *mn)
{
	int i;

	spin_lock_init(&mn->conn_lock);
	for (i = 0; i < ARRAY_SIZE(mn->conn_hash); i++)
		INIT_HLIST_HEAD(&mn->conn_hash[i]);
}

/*
 * The whole 4-tuple is the key: after a migration a node hosts endpoints
 * whose identity names another node.  A listener that migrated here is
 * hashed with a remote identity of zeros.
 */
static struct hlist_head *migtcp_conn_bucket(struct migtcp_net *mn, u32 lnode,
					     u16 lport, u32 rnode, u16 rport)
{
	u32 hash = jhash_3words(lnode, (u32)lport << 16 | rport, rnode, 0);

	return &mn->conn_hash[hash_32(hash, MIGTCP_CONN_HASH_BITS)];
}

static struct migtcp_sock *__migtcp_conn_find(struct migtcp_net *mn,
					      u32 lnode, u16 lport,
					      u32 rnode, u16 rport)
{
	struct migtcp_sock *msk;

	hlist_for_each_entry(msk, migtcp_conn_bucket(mn, lnode, lport, rnode,
						     rport), conn_node)
		if (msk->local_port == lport && msk->remote_node == rnode &&
		    msk->remote_port == rport && msk->local_node == lnode)
			return msk;
	return NULL;
}

/* Makes @sk findable by its 4-tuple; -EADDRNOTAVAIL if the tuple is taken. */
int migtcp_conn_hash(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);
	int err = 0;

	spin_lock_bh(&mn->conn_lock);
	/* Hashed twice, it would leave its old bucket pointing at it. */
	if (WARN_ON_ONCE(!hlist_unhashed(&msk->conn_node)))
		err = -EINVAL;
	else if (__migtcp_conn_find(mn, msk->local_node, msk->local_port,
				    msk->remote_node, msk->remote_port))
		err = -EADDRNOTAVAIL;
	else
		hlist_add_head(&msk->conn_node,
			       migtcp_conn_bucket(mn, msk->local_node,
						  msk->local_port,
						  msk->remote_node,
						  msk->remote_port));
	spin_unlock_bh(&mn->conn_lock);
	return err;
}

/*
 * Makes @sk findable as the end of a connection to (@rnode, @rport), in
 * place of whatever tuple it was found by: an endpoint of another node's
 * identity is in the table as soon as it is restored, as a bound socket
 * (no peer) or as a connection, which may have ended.  -EADDRNOTAVAIL if
 * another socket has the tuple; then nothing changed.
 */
int migtcp_conn_rehash(struct sock *sk, u32 rnode, u16 rport)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk), *other;
	int err = 0;

	spin_lock_bh(&mn->conn_lock);
	other = __migtcp_conn_find(mn, msk->local_node, msk->local_port,
				   rnode, rport);
	if (other && other != msk) {
		err = -EADDRNOTAVAIL;
	} else {
		hlist_del_init(&msk->conn_node);
		WRITE_ONCE(msk->remote_node, rnode);
		WRITE_ONCE(msk->remote_port, rport);
		hlist_add_head(&msk->conn_node,
			       migtcp_conn_bucket(mn, msk->local_node,
						  msk->local_port, rnode,
						  rport));
	}
	spin_unlock_bh(&mn->conn_lock);
	return err;
}

void migtcp_conn_unhash(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);

	spin_lock_bh(&mn->conn_lock);
	hlist_del_init(&msk->conn_node);
	spin_unlock_bh(&mn->conn_lock);
}

/* The connection a segment belongs to, with a reference, or NULL. */
struct sock *migtcp_conn_lookup(struct migtcp_net *mn, u32 lnode, u16 lport,
				u32 rnode, u16 rport)
{
	struct migtcp_sock *msk;

	spin_lock_bh(&mn->conn_lock);
	msk = __migtcp_conn_find(mn, lnode, lport, rnode, rport);
	if (msk)
		sock_hold(&msk->sk);
	spin_unlock_bh(&mn->conn_lock);
	return msk ? &msk->sk : NULL;
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
	struct migtcp_sock *msk;
	struct sock *found = NULL;

	if (lnode != READ_ONCE(mn->node.id)) {
		found = migtcp_conn_lookup(mn, lnode, lport, 0, 0);
		if (found && !match(found)) {
			sock_put(found);
			found = NULL;
		}
		return found;
	}
	spin_lock_bh(&mn->ports_lock);
	hlist_for_each_entry(msk, &mn->port_hash[hash_32(lport, MIGTCP_PORT_HASH_BITS)],
			     port_node) {
		if (msk->local_port == lport && !msk->remote_port &&
		    match(&msk->sk)) {
			found = &msk->sk;
			sock_hold(found);
			break;
		}
	}
	spin_unlock_bh(&mn->ports_lock);
	return found;
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
 * The IPv4 path to @node: the peer table's address, or for this node its
 * own address (loopback when it has none).  Sets the path and the MSS the
 * route allows.
 */
int migtcp_resolve_path(struct sock *sk, u32 node)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);
	const struct migtcp_peer *peer;
	__be32 daddr = 0;

	if (node == READ_ONCE(mn->node.id)) {
		daddr = READ_ONCE(mn->node.addr4) ?: htonl(INADDR_LOOPBACK);
	} else {
		rcu_read_lock();
		peer = migtcp_peer_lookup(mn, node);
		if (peer)
			daddr = peer->addr4;
		rcu_read_unlock();
	}
	if (!daddr)
		return -EHOSTUNREACH;
	msk->path_daddr = daddr;
	msk->path_saddr = 0;
	return migtcp_route_path(sk);
}
