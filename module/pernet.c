// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace state.  One network namespace is one cluster
 * node: its counters and its sockets live here.
 */
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "migtcp.h"

unsigned int migtcp_net_id __read_mostly;

static int __net_init migtcp_net_init(struct net *net)
{
	struct migtcp_net *mn = migtcp_pernet(net);
	int err;

	mn->mib = alloc_percpu(struct migtcp_mib);
	if (!mn->mib)
		return -ENOMEM;
	mutex_init(&mn->config_lock);
	spin_lock_init(&mn->node.key_lock);
	migtcp_ports_init(mn);
	spin_lock_init(&mn->sockets_lock);
	INIT_HLIST_HEAD(&mn->sockets);
	migtcp_conn_init(mn);

	err = migtcp_peers_init(mn);
	if (err)
		goto err_mib;
	err = migtcp_proc_init_net(net);
	if (err)
		goto err_peers;
	return 0;

err_peers:
	migtcp_peers_destroy(mn);
err_mib:
	free_percpu(mn->mib);
	return err;
}

static void __net_exit migtcp_net_exit(struct net *net)
{
	struct migtcp_net *mn = migtcp_pernet(net);

	migtcp_proc_exit_net(net);
	/* Every user socket holds a reference on its netns. */
	WARN_ON_ONCE(!hlist_empty(&mn->sockets));
	migtcp_peers_destroy(mn);
	migtcp_node_forget_key(mn);
	free_percpu(mn->mib);
}

static struct pernet_operations migtcp_net_ops = {
	.init	= migtcp_net_init,
	.exit	= migtcp_net_exit,
	.id	= &migtcp_net_id,
	.size	= sizeof(struct migtcp_net),
};

int migtcp_pernet_register(void)
{
	return register_pernet_subsys(&migtcp_net_ops);
}

void migtcp_pernet_unregister(void)
{
	unregister_pernet_subsys(&migtcp_net_ops);
}

void migtcp_net_link_sock(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));

	spin_lock_bh(&mn->sockets_lock);
	hlist_add_head(&migtcp_sk(sk)->net_node, &mn->sockets);
	spin_unlock_bh(&mn->sockets_lock);
}

void migtcp_net_unlink_sock(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));

	spin_lock_bh(&mn->sockets_lock);
	hlist_del_init(&migtcp_sk(sk)->net_node);
	spin_unlock_bh(&mn->sockets_lock);
}
