// SPDX-License-Identifier: GPL-2.0
/*
 * The identity of this node: its id, underlay address and cluster key.
 * Callers hold config_lock.
 */
#include <linux/netlink.h>
#include <linux/rcupdate.h>
#include <linux/string.h>

#include "migtcp.h"

/*
 * A bound socket carries the node id in its endpoint identity for life, so
 * the id can change only while no socket holds a port.
 */
int migtcp_node_set_id(struct migtcp_net *mn, u32 id,
		       struct netlink_ext_ack *extack)
{
	int err = 0;

	lockdep_assert_held(&mn->config_lock);

	if (id == mn->node.id)
		return 0;
	if (migtcp_peer_lookup(mn, id)) {
		NL_SET_ERR_MSG(extack, "the node id is in the peer table");
		return -EEXIST;
	}

	spin_lock_bh(&mn->ports_lock);
	if (mn->bound) {
		NL_SET_ERR_MSG(extack,
			       "sockets are bound to the current node id; close them first");
		err = -EBUSY;
	} else {
		WRITE_ONCE(mn->node.id, id);
	}
	spin_unlock_bh(&mn->ports_lock);
	return err;
}

/*
 * Installs cluster @key and @tfm, an hmac(sha256) already keyed with it
 * (migtcp_kx_keyed_tfm(): allocating may fail, so the caller does it
 * before it changes anything).  The previous transform is freed once no
 * reader of the packet path can still hold it.
 */
void migtcp_node_set_key(struct migtcp_net *mn, const u8 *key,
			 struct crypto_shash *tfm)
{
	struct crypto_shash *old;

	lockdep_assert_held(&mn->config_lock);
	spin_lock_bh(&mn->node.key_lock);
	memcpy(mn->node.key, key, MIGTCP_KEY_LEN);
	WRITE_ONCE(mn->node.key_set, true);
	old = rcu_replace_pointer(mn->node.tfm, tfm,
				  lockdep_is_held(&mn->node.key_lock));
	spin_unlock_bh(&mn->node.key_lock);
	if (old) {
		synchronize_rcu();
		crypto_free_shash(old);
	}
}

void migtcp_node_forget_key(struct migtcp_net *mn)
{
	struct crypto_shash *old;

	spin_lock_bh(&mn->node.key_lock);
	memzero_explicit(mn->node.key, MIGTCP_KEY_LEN);
	WRITE_ONCE(mn->node.key_set, false);
	old = rcu_replace_pointer(mn->node.tfm, NULL,
				  lockdep_is_held(&mn->node.key_lock));
	spin_unlock_bh(&mn->node.key_lock);
	if (old) {
		synchronize_rcu();
		crypto_free_shash(old);
	}
}
