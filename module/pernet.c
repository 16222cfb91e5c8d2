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

/*
 * Spends one unit of budget @b: false if none is left this second.  The
 * first spend of a second refills it with @fill().
 */
bool migtcp_budget_take(struct migtcp_budget *b, u32 (*fill)(void))
{
	u32 now = jiffies / HZ, left;

	if (READ_ONCE(b->second) != now) {
		WRITE_ONCE(b->second, now);
		WRITE_ONCE(b->left, fill());
	}
	left = READ_ONCE(b->left);
	if (!left)
		return false;
	WRITE_ONCE(b->left, left - 1);
	return true;
}

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
	mn->sockets = RB_ROOT;
	migtcp_conn_init(mn);
	migtcp_gone_init(mn);

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

/*
 * The namespace is being dismantled: its devices are gone, so no segment
 * reaches its sockets any more, and none could be sent.  Its orphans,
 * which hold no reference on it (see migtcp_net_orphan()), end at once,
 * without a packet, as Linux ends TIME_WAIT sockets in inet_twsk_purge().
 * Their timers are stopped for good before the namespace's state is
 * freed, so that none can touch it later.
 */
static void migtcp_net_purge_orphans(struct migtcp_net *mn)
{
	struct migtcp_sock *msk;
	struct sock *sk;

	for (;;) {
		sk = NULL;
		spin_lock_bh(&mn->sockets_lock);
		for (msk = migtcp_net_sock_after(mn, 0); msk;
		     msk = migtcp_net_sock_next(msk)) {
			if (sock_flag(&msk->sk, SOCK_DEAD)) {
				sk = &msk->sk;
				sock_hold(sk);
				break;
			}
		}
		spin_unlock_bh(&mn->sockets_lock);
		if (!sk)
			return;

		/* Ends the connection, unlinks it, drops the orphan's reference. */
		lock_sock(sk);
		migtcp_done(sk, 0);
		release_sock(sk);
		migtcp_stop_timers_sync(sk);
		sock_put(sk);
	}
}

static void __net_exit migtcp_net_exit(struct net *net)
{
	struct migtcp_net *mn = migtcp_pernet(net);

	migtcp_proc_exit_net(net);
	migtcp_net_purge_orphans(mn);
	/* After the orphans, whose ends may have queued GONEs. */
	migtcp_gone_exit(mn);
	/* Every other socket holds a reference on its netns. */
	WARN_ON_ONCE(!RB_EMPTY_ROOT(&mn->sockets));
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

static bool migtcp_net_sock_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct migtcp_sock, net_node)->net_seq <
	       rb_entry(b, struct migtcp_sock, net_node)->net_seq;
}

void migtcp_net_link_sock(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);

	spin_lock_bh(&mn->sockets_lock);
	msk->net_seq = ++mn->sockets_seq;
	rb_add(&msk->net_node, &mn->sockets, migtcp_net_sock_less);
	spin_unlock_bh(&mn->sockets_lock);
}

void migtcp_net_unlink_sock(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);

	spin_lock_bh(&mn->sockets_lock);
	if (msk->net_seq) {
		rb_erase(&msk->net_node, &mn->sockets);
		msk->net_seq = 0;
	}
	spin_unlock_bh(&mn->sockets_lock);
}

/*
 * The first socket made after the one with key @seq (0: the first of
 * all), or NULL; under sockets_lock.
 */
struct migtcp_sock *migtcp_net_sock_after(struct migtcp_net *mn, u64 seq)
{
	struct rb_node *node = mn->sockets.rb_node;
	struct migtcp_sock *found = NULL, *msk;

	while (node) {
		msk = rb_entry(node, struct migtcp_sock, net_node);
		if (msk->net_seq > seq) {
			found = msk;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	return found;
}

/* The socket made after @msk, or NULL; under sockets_lock. */
struct migtcp_sock *migtcp_net_sock_next(struct migtcp_sock *msk)
{
	struct rb_node *node = rb_next(&msk->net_node);

	return node ? rb_entry(node, struct migtcp_sock, net_node) : NULL;
}

/*
 * A socket closed by its user lives on, an orphan, to finish its
 * connection.  It must not keep its namespace alive: a node deleted while
 * its peer is silent would otherwise linger, with its devices, for the
 * minutes of an orphan's retransmissions, and keep the module loaded.  So,
 * as Linux's TIME_WAIT sockets, the orphan gives back the reference
 * sk_alloc() took on the namespace, and the namespace ends it when it
 * exits (migtcp_net_purge_orphans()).  The socket is locked and SOCK_DEAD.
 */
void migtcp_net_orphan(struct sock *sk)
{
	if (!sk->sk_net_refcnt)
		return;
	/* What __sk_free() and __sk_destruct() would have undone. */
	migtcp_sk_net_ref_to_passive(sk);
}
