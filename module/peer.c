// SPDX-License-Identifier: GPL-2.0
/*
 * The peer table of a node: node id -> underlay addresses (IPv4, IPv6 or
 * both; see migtcp_peer_daddr() for which is used).  Lookups from
 * the packet path run under RCU; changes are serialised by config_lock.
 * The table is bounded by the max_peers module parameter.
 */
#include <linux/moduleparam.h>
#include <linux/netlink.h>
#include <linux/rculist.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <net/addrconf.h>
#include <net/route.h>

#include "migtcp.h"

unsigned int migtcp_max_peers = 1024;
module_param_named(max_peers, migtcp_max_peers, uint, 0644);
MODULE_PARM_DESC(max_peers, "most peers one node's table may hold (default 1024)");

static const struct rhashtable_params migtcp_peer_params = {
	.key_len		= sizeof(u32),
	.key_offset		= offsetof(struct migtcp_peer, id),
	.head_offset		= offsetof(struct migtcp_peer, hash_node),
	.automatic_shrinking	= true,
};

int migtcp_peers_init(struct migtcp_net *mn)
{
	INIT_LIST_HEAD(&mn->peer_list);
	return rhashtable_init(&mn->peers, &migtcp_peer_params);
}

static void migtcp_peer_free(void *ptr, void *arg)
{
	struct migtcp_peer *peer = ptr;

	kfree_rcu(peer, rcu);
}

void migtcp_peers_destroy(struct migtcp_net *mn)
{
	rhashtable_free_and_destroy(&mn->peers, migtcp_peer_free, NULL);
}

/* Under rcu_read_lock() or config_lock. */
struct migtcp_peer *migtcp_peer_lookup(struct migtcp_net *mn, u32 id)
{
	return rhashtable_lookup_fast(&mn->peers, &id, migtcp_peer_params);
}

static struct migtcp_peer *migtcp_peer_alloc(u32 id, __be32 addr4,
					     const struct in6_addr *addr6)
{
	struct migtcp_peer *peer = kzalloc(sizeof(*peer), GFP_KERNEL);

	if (peer) {
		peer->id = id;
		peer->addr4 = addr4;
		peer->addr6 = *addr6;
	}
	return peer;
}

int migtcp_peer_add(struct migtcp_net *mn, u32 id, __be32 addr4,
		    const struct in6_addr *addr6, struct netlink_ext_ack *extack)
{
	unsigned int max = READ_ONCE(migtcp_max_peers);
	struct migtcp_peer *peer;
	int err;

	lockdep_assert_held(&mn->config_lock);

	if (id == mn->node.id) {
		NL_SET_ERR_MSG(extack, "the peer id is this node's own id");
		return -EINVAL;
	}
	if (migtcp_peer_lookup(mn, id)) {
		NL_SET_ERR_MSG(extack, "a peer with this id already exists");
		return -EEXIST;
	}
	if (mn->peer_count >= max) {
		NL_SET_ERR_MSG(extack, "the peer table is full (module parameter max_peers)");
		return -ENOSPC;
	}

	peer = migtcp_peer_alloc(id, addr4, addr6);
	if (!peer)
		return -ENOMEM;
	err = rhashtable_lookup_insert_fast(&mn->peers, &peer->hash_node,
					    migtcp_peer_params);
	if (err) {
		kfree(peer);
		return err;
	}
	list_add_tail_rcu(&peer->list, &mn->peer_list);
	mn->peer_count++;
	mn->peers_gen++;
	return 0;
}

int migtcp_peer_replace(struct migtcp_net *mn, u32 id, __be32 addr4,
			const struct in6_addr *addr6,
			struct netlink_ext_ack *extack)
{
	struct migtcp_peer *old, *new;
	int err;

	lockdep_assert_held(&mn->config_lock);

	old = migtcp_peer_lookup(mn, id);
	if (!old) {
		NL_SET_ERR_MSG(extack, "no peer with this id");
		return -ENOENT;
	}
	new = migtcp_peer_alloc(id, addr4, addr6);
	if (!new)
		return -ENOMEM;
	/* Readers see either the old entry or the new one, never neither. */
	err = rhashtable_replace_fast(&mn->peers, &old->hash_node,
				      &new->hash_node, migtcp_peer_params);
	if (err) {
		kfree(new);
		return err;
	}
	list_replace_rcu(&old->list, &new->list);
	mn->peers_gen++;
	kfree_rcu(old, rcu);
	return 0;
}

int migtcp_peer_del(struct migtcp_net *mn, u32 id,
		    struct netlink_ext_ack *extack)
{
	struct migtcp_peer *peer;
	int err;

	lockdep_assert_held(&mn->config_lock);

	peer = migtcp_peer_lookup(mn, id);
	if (!peer) {
		NL_SET_ERR_MSG(extack, "no peer with this id");
		return -ENOENT;
	}
	err = rhashtable_remove_fast(&mn->peers, &peer->hash_node,
				     migtcp_peer_params);
	if (err)
		return err;
	list_del_rcu(&peer->list);
	mn->peer_count--;
	mn->peers_gen++;
	kfree_rcu(peer, rcu);
	return 0;
}

/*
 * The address this node reaches @peer at: its IPv6 address when both
 * have one, else its IPv4 address when it has one, else its IPv6
 * address.  Under rcu_read_lock() or config_lock.
 */
void migtcp_peer_daddr(const struct migtcp_net *mn,
		       const struct migtcp_peer *peer, struct in6_addr *daddr)
{
	struct in6_addr self6;

	migtcp_node_addr6(&mn->node, &self6);
	if (!ipv6_addr_any(&peer->addr6) &&
	    (!ipv6_addr_any(&self6) || !peer->addr4))
		*daddr = peer->addr6;
	else
		migtcp_addr_set4(daddr, peer->addr4);
}

/*
 * Where node @id is reached from here (migtcp_peer_daddr()); for this
 * node, its own address (loopback without one).  False if @id is no
 * known node.
 */
bool migtcp_node_daddr(struct net *net, u32 id, struct in6_addr *daddr)
{
	struct migtcp_net *mn = migtcp_pernet(net);
	const struct migtcp_peer *peer;
	__be32 addr4;

	if (id == READ_ONCE(mn->node.id)) {
		addr4 = READ_ONCE(mn->node.addr4);
		migtcp_node_addr6(&mn->node, daddr);
		if (addr4 || ipv6_addr_any(daddr))
			migtcp_addr_set4(daddr, addr4 ?: htonl(INADDR_LOOPBACK));
		return true;
	}
	rcu_read_lock();
	peer = migtcp_peer_lookup(mn, id);
	if (peer)
		migtcp_peer_daddr(mn, peer, daddr);
	rcu_read_unlock();
	return peer;
}

/*
 * Replaces @addr, an address of a peer in the table (either family), with
 * the address this node reaches that peer at (migtcp_peer_daddr()); true
 * if it was one.  A restored endpoint brings its last host's view of
 * where its peer runs, and that host may have used the other family.
 */
bool migtcp_addr_prefer(struct net *net, struct in6_addr *addr)
{
	struct migtcp_net *mn = migtcp_pernet(net);
	const struct migtcp_peer *peer;
	bool found = false;

	if (migtcp_addr_none(addr))
		return false;
	rcu_read_lock();
	list_for_each_entry_rcu(peer, &mn->peer_list, list) {
		if (migtcp_addr_is4(addr) ?
		    peer->addr4 && peer->addr4 == migtcp_addr4(addr) :
		    ipv6_addr_equal(&peer->addr6, addr)) {
			migtcp_peer_daddr(mn, peer, addr);
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/*
 * Whether @addr is an address node @id sends from: for a peer, an
 * address of its entry; for this node, any of its local addresses (its
 * own connections, over loopback or its underlay address).  The SYN
 * check of a node without a cluster key (input.c): the only proof of a
 * node id it has.
 */
bool migtcp_node_has_addr(struct net *net, u32 id, const struct in6_addr *addr)
{
	struct migtcp_net *mn = migtcp_pernet(net);
	const struct migtcp_peer *peer;
	bool ok;

	if (migtcp_addr_none(addr))
		return false;
	if (id == READ_ONCE(mn->node.id)) {
		if (migtcp_addr_is4(addr))
			return inet_addr_type(net, migtcp_addr4(addr)) ==
			       RTN_LOCAL;
		/* ipv6.disable=1: no IPv6 address is local (nor any table). */
		return ipv6_mod_enabled() && ipv6_chk_addr(net, addr, NULL, 0);
	}
	rcu_read_lock();
	peer = migtcp_peer_lookup(mn, id);
	ok = peer && (migtcp_addr_is4(addr) ?
		      peer->addr4 == migtcp_addr4(addr) :
		      ipv6_addr_equal(&peer->addr6, addr));
	rcu_read_unlock();
	return ok;
}
