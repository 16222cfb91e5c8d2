// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace state.  One network namespace is one cluster
 * node: its counters and its sockets live here, and its count of orphans.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "migtcp.h"

unsigned int migtcp_net_id __read_mostly;

/*
 * What is left of budget @b this second.  The first look of a second
 * refills it with @fill().
 */
static u32 migtcp_budget_now(struct migtcp_budget *b, u32 (*fill)(void))
{
	u32 now = jiffies / HZ;

	if (READ_ONCE(b->second) != now) {
		WRITE_ONCE(b->second, now);
		WRITE_ONCE(b->left, fill());
	}
	return READ_ONCE(b->left);
}

/*
 * A budget for a second drawn at random from [@limit/2, @limit*3/2), as
 * Linux draws its challenge ACKs' since CVE-2016-5696: at least 1 for a
 * @limit of at least 1, none for 0.
 */
u32 migtcp_budget_draw(u32 limit)
{
	u64 budget;

	if (!limit)
		return 0;
	budget = limit / 2 + (u64)get_random_u32_below(limit);
	return clamp_t(u64, budget, 1, U32_MAX);
}

/* Whether budget @b has a unit left this second; spends none. */
bool migtcp_budget_left(struct migtcp_budget *b, u32 (*fill)(void))
{
	return migtcp_budget_now(b, fill);
}

/* Spends one unit of budget @b: false if none is left this second. */
bool migtcp_budget_take(struct migtcp_budget *b, u32 (*fill)(void))
{
	u32 left = migtcp_budget_now(b, fill);

	if (!left)
		return false;
	WRITE_ONCE(b->left, left - 1);
	return true;
}

/*
 * Orphans.  A connection its user closed lives on to deliver what it
 * still has to send and its FIN (FIN_WAIT1, CLOSING, LAST_ACK); a peer
 * that stops answering keeps it for minutes of retransmissions, with its
 * send buffer.  As TCP caps those with net.ipv4.tcp_max_orphans, a node
 * keeps at most max_orphans of them: a close() that would make one more
 * resets the connection instead, and so does the timer of an orphan that
 * finds too many (tcp_check_oom(), tcp_out_of_resources()).
 *
 * What TCP does not count is not counted here either: FIN_WAIT2 and
 * TIME_WAIT orphans hold no data and end on their own timer (TCP turns
 * them into timewait sockets); nor are the records that departed
 * endpoints leave (migrate.c): a record is the state of a connection
 * that lives on elsewhere, which its peer and the endpoint's registrar
 * still need, not a closed connection, and resetting it would break the
 * migrated one.
 *
 * The count is per node (network namespace) and exact, one atomic_t:
 * TCP sums per-CPU counters into a value refreshed every 100 ms, so that
 * the close()s and timers of a whole host do not share a cache line; the
 * close()s of one node contending on one is cheap beside the close
 * itself, and the cap holds to the socket.
 */

/*
 * The default is TCP's: tcp_init() allows half as many orphans as its
 * established hash has slots, one slot per 128 KB of memory and at most
 * 512 Ki, so one orphan per 256 KB of RAM, at most 256 Ki.  The memory
 * an orphan pins is its send buffer (at most wmem[2]), which mem limits
 * as a whole; this bounds their number, so that a flood of connections
 * closed under a silent peer cannot fill the socket tables with them.
 */
#define MIGTCP_MAX_ORPHANS_CAP	(256U * 1024)

static unsigned int migtcp_max_orphans;
static bool migtcp_max_orphans_given;

static int migtcp_max_orphans_set(const char *val,
				  const struct kernel_param *kp)
{
	int err = param_set_uint(val, kp);

	if (!err)
		migtcp_max_orphans_given = true;
	return err;
}

static const struct kernel_param_ops migtcp_max_orphans_ops = {
	.set	= migtcp_max_orphans_set,
	.get	= param_get_uint,
};
module_param_cb(max_orphans, &migtcp_max_orphans_ops, &migtcp_max_orphans,
		0644);
MODULE_PARM_DESC(max_orphans,
		 "closed connections a node keeps delivering; more are reset (default from RAM, as tcp_max_orphans)");

/* Sets max_orphans from the size of RAM, unless it was given at load. */
static void migtcp_orphans_init(void)
{
	u64 n = ((u64)totalram_pages() << PAGE_SHIFT) >> 18;

	if (!migtcp_max_orphans_given)
		migtcp_max_orphans = min_t(u64, n, MIGTCP_MAX_ORPHANS_CAP);
}

/*
 * Whether @orphans, with @shift as tcp_too_many_orphans() takes it (an
 * orphan that is stuck counts double), are more than the node may keep.
 */
static bool migtcp_too_many_orphans(int orphans, int shift)
{
	if ((s64)orphans << shift <= READ_ONCE(migtcp_max_orphans))
		return false;
	net_info_ratelimited("too many orphaned sockets\n");
	return true;
}

/*
 * @sk (locked) is being closed by its user and will live on to deliver
 * what it has: counts it among its node's orphans, and returns true;
 * false, and not counted, if that is more than max_orphans.
 */
bool migtcp_orphan_count(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));

	migtcp_sk(sk)->orphan_counted = true;
	if (!migtcp_too_many_orphans(atomic_inc_return(&mn->orphans), 0))
		return true;
	migtcp_orphan_uncount(sk);
	return false;
}

/*
 * @sk (locked) stops counting: it has nothing more to deliver, or ended.
 * migtcp_set_state() calls this; the state it leaves is a counted one,
 * so the namespace's state is still there (see migtcp_net_exit()).
 */
void migtcp_orphan_uncount(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));

	migtcp_sk(sk)->orphan_counted = false;
	WARN_ON_ONCE(atomic_dec_return(&mn->orphans) < 0);
}

/*
 * Resets @sk (locked), an orphan or a connection being closed, for want
 * of room among its node's orphans.  TCP queues the FIN of a close()
 * first and resets after it; the reset goes alone here, not after a FIN
 * that promised an orderly end.
 */
void migtcp_orphan_abort(struct sock *sk)
{
	MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_ABORT_ON_MEMORY);
	migtcp_send_ctl(sk, MIGTCP_F_RST, migtcp_sk(sk)->snd_nxt);
	migtcp_done(sk, 0);
}

/*
 * The retransmission timer of orphan @sk (locked) fired, to send data or
 * its FIN again or to probe a closed window: as tcp_out_of_resources(),
 * it is reset if its node keeps too many orphans, counting double if its
 * peer has acknowledged nothing for 2 * MIGTCP_RTO_MAX (TCP's test: it
 * sent nothing new for that long).  Returns true if it was.  TCP leaves
 * out the reset only for a peer that looks gone, its retries spent; that
 * orphan has ended on the retry limit before this is asked.
 */
bool migtcp_orphan_out_of_resources(struct sock *sk)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);
	int shift = 0;

	if (!msk->orphan_counted)
		return false;
	if (time_after(jiffies, msk->retrans_stamp + 2 * MIGTCP_RTO_MAX))
		shift++;
	if (!migtcp_too_many_orphans(atomic_read(&mn->orphans), shift))
		return false;
	migtcp_orphan_abort(sk);
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
	seqlock_init(&mn->node.addr6_lock);
	spin_lock_init(&mn->sockets_lock);
	mn->sockets = RB_ROOT;
	migtcp_gone_init(mn);
	atomic_set(&mn->orphans, 0);
	get_random_bytes(&mn->mac_fail_seed, sizeof(mn->mac_fail_seed));

	err = migtcp_ports_init(mn);
	if (err)
		goto err_mib;
	err = migtcp_conn_init(mn);
	if (err)
		goto err_ports;
	err = migtcp_peers_init(mn);
	if (err)
		goto err_conn;
	err = migtcp_proc_init_net(net);
	if (err)
		goto err_peers;
	return 0;

err_peers:
	migtcp_peers_destroy(mn);
err_conn:
	migtcp_conn_destroy(mn);
err_ports:
	migtcp_ports_destroy(mn);
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
	/* Each orphan stopped counting as it ended. */
	WARN_ON_ONCE(atomic_read(&mn->orphans));
	/*
	 * Each socket left the tables as it ended, and no segment reaches
	 * the namespace any more: nothing walks them.
	 */
	migtcp_conn_destroy(mn);
	migtcp_ports_destroy(mn);
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
	migtcp_orphans_init();
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
