// SPDX-License-Identifier: GPL-2.0
/*
 * The "migtcp" generic netlink family: node identity, peer table,
 * sockets and counters of the caller's network namespace.  Every request
 * is validated whole before anything changes, and every rejection says
 * why in an extack message.  Changes are announced to the "config"
 * multicast group.
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/rculist.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/netlink.h>

#include "migtcp.h"

enum migtcp_mcgrp {
	MIGTCP_MCGRP_CONFIG,
};

static const struct genl_multicast_group migtcp_mcgrps[] = {
	[MIGTCP_MCGRP_CONFIG] = { .name = MIGTCP_GENL_MCGRP_CONFIG },
};

static const struct nla_policy migtcp_peer_policy[MIGTCP_PEER_A_MAX + 1] = {
	[MIGTCP_PEER_A_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[MIGTCP_PEER_A_ADDR_IN]	= NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[MIGTCP_PEER_A_ADDR_IN6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
};

/* Attributes absent here (read-only ones included) are rejected. */
static const struct nla_policy migtcp_policy[MIGTCP_A_MAX + 1] = {
	[MIGTCP_A_NODE_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[MIGTCP_A_NODE_ADDR_IN]	= NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[MIGTCP_A_NODE_ADDR_IN6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[MIGTCP_A_NODE_KEY]	= NLA_POLICY_EXACT_LEN(MIGTCP_KEY_LEN),
	[MIGTCP_A_NODE_PORT_MIN] = NLA_POLICY_MIN(NLA_U16, 1),
	[MIGTCP_A_NODE_PORT_MAX] = NLA_POLICY_MIN(NLA_U16, 1),
	[MIGTCP_A_PEER]		= NLA_POLICY_NESTED(migtcp_peer_policy),
};

static struct genl_family migtcp_genl_family;

static struct migtcp_net *migtcp_info_pernet(struct genl_info *info)
{
	return migtcp_pernet(genl_info_net(info));
}

/* A peer as the messages describe it. */
struct migtcp_nl_peer {
	u32 id;
	__be32 addr4;			/* 0: none */
	struct in6_addr addr6;		/* ::, none */
};

/*
 * An underlay address must reach another host: not "this network"
 * (0/8), loopback, multicast, reserved (240/4) or broadcast.
 */
static bool migtcp_addr4_is_unicast(__be32 a)
{
	u8 first = ntohl(a) >> 24;

	return first != 0 && first != 127 && first < 224;
}

static int migtcp_nl_get_addr4(const struct nlattr *attr, __be32 *addr,
			       struct netlink_ext_ack *extack)
{
	__be32 a = nla_get_in_addr(attr);

	if (!migtcp_addr4_is_unicast(a)) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "not a unicast IPv4 address");
		return -EINVAL;
	}
	*addr = a;
	return 0;
}

/* The same for IPv6 (migtcp_addr6_usable()), when this host runs it. */
static int migtcp_nl_get_addr6(const struct nlattr *attr,
			       struct in6_addr *addr,
			       struct netlink_ext_ack *extack)
{
	struct in6_addr a = nla_get_in6_addr(attr);

	if (!ipv6_mod_enabled()) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "IPv6 is disabled on this host");
		return -EAFNOSUPPORT;
	}
	if (!migtcp_addr6_usable(&a)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "not a global unicast IPv6 address");
		return -EINVAL;
	}
	*addr = a;
	return 0;
}

static int migtcp_nl_put_node(struct sk_buff *skb, struct migtcp_net *mn)
{
	const struct migtcp_node *node = &mn->node;

	lockdep_assert_held(&mn->config_lock);

	if (nla_put_u32(skb, MIGTCP_A_NODE_ID, node->id) ||
	    (node->addr4 &&
	     nla_put_in_addr(skb, MIGTCP_A_NODE_ADDR_IN, node->addr4)) ||
	    (!ipv6_addr_any(&node->addr6) &&
	     nla_put_in6_addr(skb, MIGTCP_A_NODE_ADDR_IN6, &node->addr6)) ||
	    nla_put_u8(skb, MIGTCP_A_NODE_KEY_SET, node->key_set) ||
	    nla_put_u16(skb, MIGTCP_A_NODE_PORT_MIN, mn->port_min) ||
	    nla_put_u16(skb, MIGTCP_A_NODE_PORT_MAX, mn->port_max) ||
	    nla_put_u32(skb, MIGTCP_A_PEER_COUNT, mn->peer_count) ||
	    nla_put_u32(skb, MIGTCP_A_PEER_MAX, READ_ONCE(migtcp_max_peers)))
		return -EMSGSIZE;
	return 0;
}

static int migtcp_nl_put_peer(struct sk_buff *skb,
			      const struct migtcp_nl_peer *peer)
{
	struct nlattr *nest = nla_nest_start(skb, MIGTCP_A_PEER);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, MIGTCP_PEER_A_ID, peer->id) ||
	    (peer->addr4 &&
	     nla_put_in_addr(skb, MIGTCP_PEER_A_ADDR_IN, peer->addr4)) ||
	    (!ipv6_addr_any(&peer->addr6) &&
	     nla_put_in6_addr(skb, MIGTCP_PEER_A_ADDR_IN6, &peer->addr6))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* A message describing the node (@peer NULL) or one peer. */
static struct sk_buff *migtcp_nl_build(struct migtcp_net *mn, u32 portid,
				       u32 seq, u8 cmd,
				       const struct migtcp_nl_peer *peer)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return ERR_PTR(-ENOMEM);
	hdr = genlmsg_put(msg, portid, seq, &migtcp_genl_family, 0, cmd);
	if (!hdr) {
		nlmsg_free(msg);
		return ERR_PTR(-EMSGSIZE);
	}
	if (peer)
		err = migtcp_nl_put_peer(msg, peer);
	else
		err = migtcp_nl_put_node(msg, mn);
	if (err) {
		nlmsg_free(msg);
		return ERR_PTR(err);
	}
	genlmsg_end(msg, hdr);
	return msg;
}

/* Notifications are best effort: a failure here must not undo a change. */
static void migtcp_nl_notify(struct net *net, struct sk_buff *msg)
{
	if (!IS_ERR(msg))
		genlmsg_multicast_netns(&migtcp_genl_family, net, msg, 0,
					MIGTCP_MCGRP_CONFIG, GFP_KERNEL);
}

static int migtcp_nl_node_get(struct sk_buff *skb, struct genl_info *info)
{
	struct migtcp_net *mn = migtcp_info_pernet(info);
	struct sk_buff *msg;

	mutex_lock(&mn->config_lock);
	msg = migtcp_nl_build(mn, info->snd_portid, info->snd_seq,
			      MIGTCP_CMD_NODE_GET, NULL);
	mutex_unlock(&mn->config_lock);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	return genlmsg_reply(msg, info);
}

struct migtcp_node_change {
	__be32 addr4;
	struct in6_addr addr6;
	u16 port_min, port_max;
};

/* Checks everything a NODE_SET request asks for before anything changes. */
static int migtcp_nl_node_validate(struct genl_info *info,
				   struct migtcp_node_change *change)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **a = info->attrs;
	struct nlattr *range = a[MIGTCP_A_NODE_PORT_MIN] ?:
			       a[MIGTCP_A_NODE_PORT_MAX];
	int err;

	if (!a[MIGTCP_A_NODE_ID] && !a[MIGTCP_A_NODE_ADDR_IN] &&
	    !a[MIGTCP_A_NODE_ADDR_IN6] && !a[MIGTCP_A_NODE_KEY] && !range) {
		NL_SET_ERR_MSG(extack,
			       "nothing to set: give a node id, address, key or port range");
		return -EINVAL;
	}
	if (a[MIGTCP_A_NODE_ADDR_IN6]) {
		err = migtcp_nl_get_addr6(a[MIGTCP_A_NODE_ADDR_IN6],
					  &change->addr6, extack);
		if (err)
			return err;
	}
	if (a[MIGTCP_A_NODE_ADDR_IN]) {
		err = migtcp_nl_get_addr4(a[MIGTCP_A_NODE_ADDR_IN],
					  &change->addr4, extack);
		if (err)
			return err;
	}
	if (range) {
		if (!a[MIGTCP_A_NODE_PORT_MIN] || !a[MIGTCP_A_NODE_PORT_MAX]) {
			NL_SET_ERR_MSG_ATTR(extack, range,
					    "a port range needs both its minimum and its maximum");
			return -EINVAL;
		}
		change->port_min = nla_get_u16(a[MIGTCP_A_NODE_PORT_MIN]);
		change->port_max = nla_get_u16(a[MIGTCP_A_NODE_PORT_MAX]);
		if (change->port_min > change->port_max) {
			NL_SET_ERR_MSG_ATTR(extack, range,
					    "the port range minimum is above its maximum");
			return -EINVAL;
		}
	}
	return 0;
}

static int migtcp_nl_node_set(struct sk_buff *skb, struct genl_info *info)
{
	struct migtcp_net *mn = migtcp_info_pernet(info);
	struct migtcp_node_change change = {};
	struct crypto_shash *tfm = NULL;
	struct nlattr **a = info->attrs;
	struct sk_buff *msg;
	int err;

	err = migtcp_nl_node_validate(info, &change);
	if (err)
		return err;

	/* The key's MAC state is built first: that may fail. */
	if (a[MIGTCP_A_NODE_KEY]) {
		tfm = migtcp_kx_keyed_tfm(nla_data(a[MIGTCP_A_NODE_KEY]));
		if (IS_ERR(tfm)) {
			NL_SET_ERR_MSG(info->extack,
				       "cannot set up hmac(sha256) for the key");
			return PTR_ERR(tfm);
		}
	}

	mutex_lock(&mn->config_lock);
	/* The only step that can still fail comes first. */
	if (a[MIGTCP_A_NODE_ID]) {
		err = migtcp_node_set_id(mn, nla_get_u32(a[MIGTCP_A_NODE_ID]),
					 info->extack);
		if (err)
			goto unlock;
	}
	if (a[MIGTCP_A_NODE_ADDR_IN])
		WRITE_ONCE(mn->node.addr4, change.addr4);
	/* The packet path reads it whole (migtcp_node_addr6()). */
	if (a[MIGTCP_A_NODE_ADDR_IN6]) {
		write_seqlock_bh(&mn->node.addr6_lock);
		mn->node.addr6 = change.addr6;
		write_sequnlock_bh(&mn->node.addr6_lock);
	}
	if (tfm)
		migtcp_node_set_key(mn, nla_data(a[MIGTCP_A_NODE_KEY]), tfm);
	if (change.port_min)
		migtcp_ports_set_range(mn, change.port_min, change.port_max);
	msg = migtcp_nl_build(mn, 0, 0, MIGTCP_CMD_NODE_SET, NULL);
	mutex_unlock(&mn->config_lock);

	migtcp_nl_notify(genl_info_net(info), msg);
	return 0;

unlock:
	mutex_unlock(&mn->config_lock);
	if (tfm)
		crypto_free_shash(tfm);
	return err;
}

/*
 * Parses the MIGTCP_A_PEER nest into @peer: an id, and when @need_addr an
 * address of one family or both.
 */
static int migtcp_nl_parse_peer(struct genl_info *info, bool need_addr,
				struct migtcp_nl_peer *peer)
{
	struct nlattr *tb[MIGTCP_PEER_A_MAX + 1];
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *nest = info->attrs[MIGTCP_A_PEER];
	int err;

	if (!nest) {
		NL_SET_ERR_ATTR_MISS(extack, NULL, MIGTCP_A_PEER);
		NL_SET_ERR_MSG(extack, "missing the peer (MIGTCP_A_PEER)");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, MIGTCP_PEER_A_MAX, nest, migtcp_peer_policy,
			       extack);
	if (err)
		return err;
	if (!tb[MIGTCP_PEER_A_ID]) {
		NL_SET_ERR_ATTR_MISS(extack, nest, MIGTCP_PEER_A_ID);
		NL_SET_ERR_MSG(extack, "missing the peer id (MIGTCP_PEER_A_ID)");
		return -EINVAL;
	}
	peer->id = nla_get_u32(tb[MIGTCP_PEER_A_ID]);
	if (!need_addr)
		return 0;

	if (!tb[MIGTCP_PEER_A_ADDR_IN] && !tb[MIGTCP_PEER_A_ADDR_IN6]) {
		NL_SET_ERR_ATTR_MISS(extack, nest, MIGTCP_PEER_A_ADDR_IN);
		NL_SET_ERR_MSG(extack,
			       "missing the peer address (MIGTCP_PEER_A_ADDR_IN or MIGTCP_PEER_A_ADDR_IN6)");
		return -EINVAL;
	}
	if (tb[MIGTCP_PEER_A_ADDR_IN6]) {
		err = migtcp_nl_get_addr6(tb[MIGTCP_PEER_A_ADDR_IN6],
					  &peer->addr6, extack);
		if (err)
			return err;
	}
	if (tb[MIGTCP_PEER_A_ADDR_IN])
		return migtcp_nl_get_addr4(tb[MIGTCP_PEER_A_ADDR_IN],
					   &peer->addr4, extack);
	return 0;
}

static void migtcp_nl_peer_copy(struct migtcp_nl_peer *to,
				const struct migtcp_peer *peer)
{
	to->addr4 = peer->addr4;
	to->addr6 = peer->addr6;
}

static int migtcp_nl_peer_get(struct sk_buff *skb, struct genl_info *info)
{
	struct migtcp_net *mn = migtcp_info_pernet(info);
	struct migtcp_nl_peer want = {};
	const struct migtcp_peer *peer;
	struct sk_buff *msg;
	int err;

	err = migtcp_nl_parse_peer(info, false, &want);
	if (err)
		return err;

	rcu_read_lock();
	peer = migtcp_peer_lookup(mn, want.id);
	if (peer)
		migtcp_nl_peer_copy(&want, peer);
	rcu_read_unlock();
	if (!peer) {
		NL_SET_ERR_MSG(info->extack, "no peer with this id");
		return -ENOENT;
	}

	msg = migtcp_nl_build(mn, info->snd_portid, info->snd_seq,
			      MIGTCP_CMD_PEER_GET, &want);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	return genlmsg_reply(msg, info);
}

/* PEER_NEW, PEER_SET and PEER_DEL. */
static int migtcp_nl_peer_change(struct sk_buff *skb, struct genl_info *info)
{
	struct migtcp_net *mn = migtcp_info_pernet(info);
	u8 cmd = info->genlhdr->cmd;
	struct migtcp_nl_peer want = {};
	const struct migtcp_peer *peer;
	struct sk_buff *msg;
	int err;

	err = migtcp_nl_parse_peer(info, cmd != MIGTCP_CMD_PEER_DEL, &want);
	if (err)
		return err;

	mutex_lock(&mn->config_lock);
	switch (cmd) {
	case MIGTCP_CMD_PEER_NEW:
		err = migtcp_peer_add(mn, want.id, want.addr4, &want.addr6,
				      info->extack);
		break;
	case MIGTCP_CMD_PEER_SET:
		err = migtcp_peer_replace(mn, want.id, want.addr4, &want.addr6,
					  info->extack);
		break;
	default:
		/* Announce what was deleted. */
		peer = migtcp_peer_lookup(mn, want.id);
		if (peer)
			migtcp_nl_peer_copy(&want, peer);
		err = migtcp_peer_del(mn, want.id, info->extack);
		break;
	}
	mutex_unlock(&mn->config_lock);
	if (err)
		return err;

	msg = migtcp_nl_build(mn, 0, 0, cmd, &want);
	migtcp_nl_notify(genl_info_net(info), msg);
	return 0;
}

/*
 * Dumps resume by position; a change between two parts of a dump is
 * flagged with NLM_F_DUMP_INTR through the table's generation.
 */
static int migtcp_nl_peer_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(skb->sk));
	const struct migtcp_peer *peer;
	long done = cb->args[0], idx = 0;
	struct migtcp_nl_peer out;
	void *hdr;

	rcu_read_lock();
	cb->seq = READ_ONCE(mn->peers_gen) + 1;
	list_for_each_entry_rcu(peer, &mn->peer_list, list) {
		if (idx < done) {
			idx++;
			continue;
		}
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &migtcp_genl_family,
				  NLM_F_MULTI, MIGTCP_CMD_PEER_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		out.id = peer->id;
		migtcp_nl_peer_copy(&out, peer);
		if (migtcp_nl_put_peer(skb, &out)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		idx++;
	}
	rcu_read_unlock();
	cb->args[0] = idx;
	return skb->len;
}

static int migtcp_nl_put_sock(struct sk_buff *skb, struct sock *sk,
			      struct user_namespace *user_ns)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	struct nlattr *nest = nla_nest_start(skb, MIGTCP_A_SOCK);
	u8 mig = migtcp_mig_report(sk);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u8(skb, MIGTCP_SOCK_A_STATE, inet_sk_state_load(sk)) ||
	    nla_put_u32(skb, MIGTCP_SOCK_A_LOCAL_NODE, READ_ONCE(msk->local_node)) ||
	    nla_put_u16(skb, MIGTCP_SOCK_A_LOCAL_PORT, READ_ONCE(msk->local_port)) ||
	    nla_put_u32(skb, MIGTCP_SOCK_A_REMOTE_NODE, READ_ONCE(msk->remote_node)) ||
	    nla_put_u16(skb, MIGTCP_SOCK_A_REMOTE_PORT, READ_ONCE(msk->remote_port)) ||
	    nla_put_u32(skb, MIGTCP_SOCK_A_RX_QUEUE, sk_rmem_alloc_get(sk)) ||
	    nla_put_u32(skb, MIGTCP_SOCK_A_TX_QUEUE, READ_ONCE(sk->sk_wmem_queued)) ||
	    nla_put_u32(skb, MIGTCP_SOCK_A_UID,
			from_kuid_munged(user_ns, sock_i_uid(sk))) ||
	    nla_put_u64_64bit(skb, MIGTCP_SOCK_A_INODE, sock_i_ino(sk),
			      MIGTCP_SOCK_A_PAD) ||
	    nla_put_u8(skb, MIGTCP_SOCK_A_MIGRATION, mig) ||
	    nla_put_u64_64bit(skb, MIGTCP_SOCK_A_EPOCH,
			      READ_ONCE(msk->mig.epoch), MIGTCP_SOCK_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int migtcp_nl_sock_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(skb->sk));
	struct user_namespace *user_ns = sk_user_ns(NETLINK_CB(cb->skb).sk);
	struct migtcp_sock *msk;
	void *hdr;

	/* cb->args[0]: the key of the last socket given, 0 at first. */
	spin_lock_bh(&mn->sockets_lock);
	for (msk = migtcp_net_sock_after(mn, (unsigned long)cb->args[0]); msk;
	     msk = migtcp_net_sock_next(msk)) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &migtcp_genl_family,
				  NLM_F_MULTI, MIGTCP_CMD_SOCK_GET);
		if (!hdr)
			break;
		if (migtcp_nl_put_sock(skb, &msk->sk, user_ns)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = msk->net_seq;
	}
	spin_unlock_bh(&mn->sockets_lock);
	return skb->len;
}

static int migtcp_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct migtcp_net *mn = migtcp_info_pernet(info);
	struct nlattr *nest;
	struct sk_buff *msg;
	void *hdr;
	int i;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &migtcp_genl_family, 0,
				MIGTCP_CMD_STATS_GET);
	if (!hdr)
		goto nospace;
	nest = nla_nest_start(msg, MIGTCP_A_STATS);
	if (!nest)
		goto nospace;
	for (i = 0; i < __MIGTCP_STAT_MAX; i++)
		if (nla_put_u64_64bit(msg, i + 1, snmp_fold_field(mn->mib, i),
				      MIGTCP_STATS_A_PAD))
			goto nospace;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static const struct genl_small_ops migtcp_genl_ops[] = {
	{
		.cmd	= MIGTCP_CMD_NODE_GET,
		.doit	= migtcp_nl_node_get,
	},
	{
		.cmd	= MIGTCP_CMD_NODE_SET,
		.doit	= migtcp_nl_node_set,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= MIGTCP_CMD_PEER_GET,
		.doit	= migtcp_nl_peer_get,
		.dumpit	= migtcp_nl_peer_dump,
	},
	{
		.cmd	= MIGTCP_CMD_PEER_NEW,
		.doit	= migtcp_nl_peer_change,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= MIGTCP_CMD_PEER_SET,
		.doit	= migtcp_nl_peer_change,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= MIGTCP_CMD_PEER_DEL,
		.doit	= migtcp_nl_peer_change,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= MIGTCP_CMD_SOCK_GET,
		.dumpit	= migtcp_nl_sock_dump,
	},
	{
		.cmd	= MIGTCP_CMD_STATS_GET,
		.doit	= migtcp_nl_stats_get,
	},
};

/* A new family: every command gets strict validation (resv_start_op 0). */
static struct genl_family migtcp_genl_family __ro_after_init = {
	.name		= MIGTCP_GENL_NAME,
	.version	= MIGTCP_GENL_VERSION,
	.maxattr	= MIGTCP_A_MAX,
	.policy		= migtcp_policy,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.small_ops	= migtcp_genl_ops,
	.n_small_ops	= ARRAY_SIZE(migtcp_genl_ops),
	.mcgrps		= migtcp_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(migtcp_mcgrps),
};

int migtcp_netlink_register(void)
{
	return genl_register_family(&migtcp_genl_family);
}

void migtcp_netlink_unregister(void)
{
	genl_unregister_family(&migtcp_genl_family);
}
