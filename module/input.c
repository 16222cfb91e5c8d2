// SPDX-License-Identifier: GPL-2.0
/*
 * Segment processing for a connection, by state (RFC 9293 3.10.7), and
 * the passive open: a listener answers a SYN with a new connection in
 * SYN_RECV that waits in its queues until accept().
 *
 * Acknowledgments free sent data and time the round trip (RFC 6298);
 * data is queued in order for recvmsg(), or kept out of order until the
 * gap is filled; a FIN ends the peer's direction.  Every segment with data
 * is acknowledged at once when it is out of order, fills a gap or ends the
 * stream, else with the second full segment or after MIGTCP_DELACK
 * (RFC 5681 4.2); three duplicate acknowledgments retransmit the first
 * unacknowledged segment.
 */
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/tcp_states.h>

#include "migtcp.h"

/*
 * The MSS, window scale and key exchange a SYN offers.  Unknown options
 * are skipped by their length, known ones of the wrong length ignored,
 * the first of a duplicate wins (docs/protocol.md, "Parsing").  A KX
 * option of an unknown suite counts as missing; being the first KX, it
 * still hides any later one.
 */
void migtcp_parse_syn_opts(const struct sk_buff *skb,
			   struct migtcp_syn_opts *opts)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	const u8 *opt = (const u8 *)(mh + 1);
	const u8 *end = (const u8 *)mh + mh->doff * 4;
	bool have_mss = false, have_kx = false;

	opts->mss = MIGTCP_DEFAULT_MSS;
	opts->wscale_ok = false;
	opts->wscale = 0;
	opts->sack_ok = false;
	opts->kx_half = NULL;
	opts->kx_flags = 0;
	opts->hsmac = migtcp_find_hsmac(skb);
	opts->host_node = 0;
	while (opt < end && *opt != MIGTCP_OPT_EOL) {
		if (*opt == MIGTCP_OPT_NOP) {
			opt++;
			continue;
		}
		/* The receive path checked the area: lengths are sound. */
		if (opt[0] == MIGTCP_OPT_MSS && opt[1] == MIGTCP_OPTLEN_MSS &&
		    !have_mss) {
			opts->mss = max_t(u16, get_unaligned_be16(opt + 2),
					  MIGTCP_MIN_SND_MSS);
			have_mss = true;
		} else if (opt[0] == MIGTCP_OPT_WSCALE &&
			   opt[1] == MIGTCP_OPTLEN_WSCALE && !opts->wscale_ok) {
			/* RFC 7323 2.3: larger shifts are taken as 14. */
			opts->wscale = min_t(u8, opt[2], MIGTCP_MAX_WSCALE);
			opts->wscale_ok = true;
		} else if (opt[0] == MIGTCP_OPT_SACK_PERM &&
			   opt[1] == MIGTCP_OPTLEN_SACK_PERM) {
			opts->sack_ok = true;
		} else if (opt[0] == MIGTCP_OPT_KX &&
			   opt[1] == MIGTCP_OPTLEN_KX && !have_kx) {
			have_kx = true;
			if (opt[2] == MIGTCP_KX_SUITE_HMAC_SHA256) {
				opts->kx_flags = opt[3];
				opts->kx_half = opt + 4;
			}
		} else if (opt[0] == MIGTCP_OPT_HOST &&
			   opt[1] == MIGTCP_OPTLEN_HOST && !opts->host_node) {
			opts->host_node = get_unaligned_be32(opt + 2);
		}
		opt += opt[1];
	}
}

/*
 * The MAC of the first handshake MAC option of the right length in the
 * segment, or NULL (docs/protocol.md, "Handshake MAC").  The caller
 * decides whether the segment may carry one.
 */
const u8 *migtcp_find_hsmac(const struct sk_buff *skb)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	const u8 *opt = (const u8 *)(mh + 1);
	const u8 *end = (const u8 *)mh + mh->doff * 4;

	while (opt < end && *opt != MIGTCP_OPT_EOL) {
		if (*opt == MIGTCP_OPT_NOP) {
			opt++;
			continue;
		}
		/* The receive path checked the area: lengths are sound. */
		if (opt[0] == MIGTCP_OPT_HSMAC &&
		    opt[1] == MIGTCP_OPTLEN_HSMAC)
			return opt + 4;
		opt += opt[1];
	}
	return NULL;
}

/* The shift that lets our window cover the largest receive buffer. */
u8 migtcp_our_wscale(void)
{
	u32 space = max_t(u32, READ_ONCE(sysctl_rmem_max),
			  READ_ONCE(migtcp_rmem[2]));
	u8 shift = 0;

	while (space > U16_MAX && shift < MIGTCP_MAX_WSCALE) {
		space >>= 1;
		shift++;
	}
	return shift;
}

/*
 * Takes what both SYNs agreed: the MSS, and scaling and SACK only if both
 * asked.
 */
static void migtcp_apply_syn_opts(struct migtcp_sock *msk,
				  const struct migtcp_syn_opts *opts)
{
	msk->sack_ok = msk->sack_ok && opts->sack_ok;
	msk->peer_mss = opts->mss;
	msk->mss = min(msk->mss, opts->mss);
	if (opts->wscale_ok) {
		msk->snd_wscale = opts->wscale;
	} else {
		msk->snd_wscale = 0;
		msk->rcv_wscale = 0;
	}
}

/*
 * The connection is over: no timer, not findable, the port given back
 * unless the user bound it, and waiters told (with @err if non-zero).
 * The socket is locked.
 */
void migtcp_done(struct sock *sk, int err)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	int old_state = sk->sk_state;
	struct sk_buff *skb;

	if (old_state == TCP_CLOSE && !msk->local_port)
		return;
	/* First, while the socket still has its endpoints (tracepoint). */
	migtcp_set_state(sk, TCP_CLOSE);
	migtcp_mig_done(sk);
	migtcp_stop_retransmit(sk);
	migtcp_keepalive_stop(sk);
	migtcp_delack_stop(sk);
	sk_dst_reset(sk);
	migtcp_conn_unhash(sk);
	/*
	 * A connect() that failed leaves no peer behind (as tcp_disconnect()
	 * clears inet_dport): the socket may connect again or listen, and a
	 * listener is found only with no peer (migtcp_listener_lookup()).
	 */
	if (old_state == TCP_SYN_SENT) {
		WRITE_ONCE(msk->remote_node, 0);
		WRITE_ONCE(msk->remote_port, 0);
	}
	if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK) || sock_flag(sk, SOCK_DEAD))
		migtcp_port_unbind(sk);
	else if (msk->mig.foreign && !msk->remote_port)
		/*
		 * A restored endpoint of another node's identity that stays
		 * bound is found by it again, as when it was restored, so
		 * that it may still listen (a restore of the identity that
		 * took the tuple meanwhile wins).
		 */
		migtcp_conn_hash(sk);
	while ((skb = __skb_dequeue(&sk->sk_write_queue)))
		migtcp_wmem_free_skb(sk, skb);
	sk->sk_shutdown = SHUTDOWN_MASK;
	if (err) {
		WRITE_ONCE(sk->sk_err, err);
		sk_error_report(sk);
	}
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		return;
	}
	/*
	 * A socket closed by its user lived on to finish the connection:
	 * drop the reference it kept (callers hold one of their own).
	 */
	if (!migtcp_sk(sk)->parent) {
		migtcp_net_unlink_sock(sk);
		sock_put(sk);
	}
}

/*
 * Ends the connection at once, with a reset if the peer knows of it: in
 * every synchronized state but TIME_WAIT, as tcp_close() resets a
 * connection closed with unread data.  A peer that still sends or waits
 * for our FIN learns it is over; nobody else would tell it once this
 * endpoint has migrated, since a node keeps silent about an identity it
 * does not own (migtcp_v4_rcv()).
 */
void migtcp_abort(struct sock *sk, bool send_rst)
{
	if (send_rst && ((1 << sk->sk_state) &
			 (TCPF_ESTABLISHED | TCPF_SYN_RECV | TCPF_CLOSE_WAIT |
			  TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 | TCPF_CLOSING |
			  TCPF_LAST_ACK)))
		migtcp_send_ctl(sk, MIGTCP_F_RST, migtcp_sk(sk)->snd_nxt);
	migtcp_done(sk, 0);
}

/*
 * Drops a passively opened connection its listener no longer queues: the
 * caller took it off the queues and owns the queue's reference, and holds
 * one more on @child and its lock.
 */
static void migtcp_child_discard(struct sock *child, bool send_rst)
{
	struct migtcp_sock *c = migtcp_sk(child);

	migtcp_abort(child, send_rst);
	migtcp_net_unlink_sock(child);
	sock_put(c->parent);
	c->parent = NULL;
	sock_put(child);
}

/* Takes @child off its listener's queues; true if it was on one. */
static bool migtcp_child_unqueue(struct sock *child)
{
	struct migtcp_sock *c = migtcp_sk(child);
	struct migtcp_sock *l = migtcp_sk(c->parent);
	bool queued;

	spin_lock_bh(&l->accept_lock);
	queued = c->queue != MIGTCP_QUEUE_NONE;
	if (queued) {
		if (c->queue == MIGTCP_QUEUE_SYN)
			l->syn_queued--;
		list_del_init(&c->queue_node);
		c->queue = MIGTCP_QUEUE_NONE;
		l->queued--;
	}
	spin_unlock_bh(&l->accept_lock);
	return queued;
}

/* A handshake that never completed (SYN-ACK retries exhausted). */
void migtcp_child_give_up(struct sock *child)
{
	if (migtcp_child_unqueue(child))
		migtcp_child_discard(child, false);
	else
		migtcp_done(child, 0);
}

/* Moves an established @child to its listener's accept queue. */
static void migtcp_child_established(struct sock *child)
{
	struct migtcp_sock *c = migtcp_sk(child);
	struct sock *lsk = c->parent;
	struct migtcp_sock *l = migtcp_sk(lsk);
	bool moved = false;

	spin_lock_bh(&l->accept_lock);
	if (c->queue == MIGTCP_QUEUE_SYN) {
		list_move_tail(&c->queue_node, &l->accept_queue);
		c->queue = MIGTCP_QUEUE_ACCEPT;
		l->syn_queued--;
		moved = true;
	}
	spin_unlock_bh(&l->accept_lock);
	if (moved)
		lsk->sk_data_ready(lsk);
}

/* Hands the first established connection of @lsk to accept(), or NULL. */
struct sock *migtcp_accept_dequeue(struct sock *lsk)
{
	struct migtcp_sock *l = migtcp_sk(lsk), *c;

	spin_lock_bh(&l->accept_lock);
	c = list_first_entry_or_null(&l->accept_queue, struct migtcp_sock,
				     queue_node);
	if (c) {
		list_del_init(&c->queue_node);
		c->queue = MIGTCP_QUEUE_NONE;
		l->queued--;
	}
	spin_unlock_bh(&l->accept_lock);
	if (!c)
		return NULL;
	sock_put(lsk);
	c->parent = NULL;
	return &c->sk;
}

/*
 * References to the connections waiting in listener @lsk's accept queue,
 * at most @max, in a new array at *@out; returns how many, or -ENOMEM.
 * The caller owns the listener's lock, so none is accepted meanwhile.
 */
int migtcp_listen_children(struct sock *lsk, struct sock ***out, int max)
{
	struct migtcp_sock *l = migtcp_sk(lsk), *c;
	struct sock **children;
	int n = 0, room;

	/*
	 * The array is sized now; connections that complete their handshake
	 * after this (a listener not frozen still takes them) are left out.
	 */
	room = max_t(int, min_t(int, READ_ONCE(l->queued), max), 1);
	children = kvcalloc(room, sizeof(*children), GFP_KERNEL);
	if (!children)
		return -ENOMEM;
	spin_lock_bh(&l->accept_lock);
	list_for_each_entry(c, &l->accept_queue, queue_node) {
		if (n == room)
			break;
		sock_hold(&c->sk);
		children[n++] = &c->sk;
	}
	spin_unlock_bh(&l->accept_lock);
	*out = children;
	return n;
}

void migtcp_put_children(struct sock **children, int n)
{
	while (n--)
		sock_put(children[n]);
	kvfree(children);
}

/*
 * Calls @fn on each connection waiting in listener @lsk's accept queue,
 * under the connection's own lock, nested in the listener's, which the
 * caller owns.  Without memory for the list, on none.
 */
void migtcp_listen_each_child(struct sock *lsk, void (*fn)(struct sock *sk))
{
	struct sock **children;
	int n, i;

	n = migtcp_listen_children(lsk, &children, INT_MAX);
	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		lock_sock_nested(children[i], SINGLE_DEPTH_NESTING);
		fn(children[i]);
		release_sock(children[i]);
	}
	migtcp_put_children(children, n);
}

/*
 * Takes every connection off listener @lsk's queues into @children (the
 * queues' references with them), and with @close ends its listening.
 */
static void migtcp_listen_unqueue_all(struct sock *lsk,
				      struct list_head *children, bool close)
{
	struct migtcp_sock *l = migtcp_sk(lsk), *c;

	spin_lock_bh(&l->accept_lock);
	if (close)
		migtcp_set_state(lsk, TCP_CLOSE);
	list_splice_init(&l->syn_queue, children);
	list_splice_tail_init(&l->accept_queue, children);
	list_for_each_entry(c, children, queue_node)
		c->queue = MIGTCP_QUEUE_NONE;
	l->queued = 0;
	l->syn_queued = 0;
	spin_unlock_bh(&l->accept_lock);
}

/*
 * A listener that was checkpointed closes: the connections that went
 * with its checkpoint leave records, as it does; the others (handshakes
 * in progress, or finished after the checkpoint) are reset.  The
 * listener keeps its state, so that SYNs for it are still recognised.
 */
void migtcp_listen_depart(struct sock *lsk)
{
	struct migtcp_sock *c, *tmp;
	LIST_HEAD(children);

	migtcp_listen_unqueue_all(lsk, &children, false);
	list_for_each_entry_safe(c, tmp, &children, queue_node) {
		struct sock *child = &c->sk;

		list_del_init(&c->queue_node);
		sock_hold(child);
		lock_sock_nested(child, SINGLE_DEPTH_NESTING);
		if (migtcp_mig_release(child)) {
			/* The queue's reference is the record's now. */
			sock_put(lsk);
			c->parent = NULL;
			sock_set_flag(child, SOCK_DEAD);
			migtcp_net_orphan(child);
		} else {
			migtcp_child_discard(child, true);
		}
		release_sock(child);
		sock_put(child);
	}
}

/* Stops listening: every queued connection is reset and dropped. */
void migtcp_listen_stop(struct sock *lsk)
{
	migtcp_listen_discard(lsk, false);
}

/*
 * Stops listening and drops every queued connection; with @quiet without
 * a word to anyone (the listener's restore failed: the peers still wait
 * for it), else with a reset to each peer.
 */
void migtcp_listen_discard(struct sock *lsk, bool quiet)
{
	struct migtcp_sock *c, *tmp;
	LIST_HEAD(children);

	migtcp_mig_done(lsk);
	migtcp_listen_unqueue_all(lsk, &children, true);

	list_for_each_entry_safe(c, tmp, &children, queue_node) {
		struct sock *child = &c->sk;

		list_del_init(&c->queue_node);
		sock_hold(child);
		lock_sock_nested(child, SINGLE_DEPTH_NESTING);
		migtcp_child_discard(child, !quiet);
		release_sock(child);
		sock_put(child);
	}
}

static unsigned int migtcp_challenge_ack_limit = 1000;
module_param_named(challenge_ack_limit, migtcp_challenge_ack_limit, uint, 0644);
MODULE_PARM_DESC(challenge_ack_limit,
		 "RFC 5961 challenge ACKs a node sends per second: a budget drawn at random from [limit/2, limit*3/2) each second (default 1000)");

/*
 * The node's budget of challenge ACKs (RFC 5961 10) for a second: drawn
 * at random each second, as Linux has done since CVE-2016-5696, so that
 * an attacker counting the answers learns nothing from the shared limit.
 */
static u32 migtcp_challenge_fill(void)
{
	return migtcp_budget_draw(READ_ONCE(migtcp_challenge_ack_limit));
}

/*
 * Whether an answer to an invalid segment went less than 500 ms ago, at
 * @stamp (0: never): Linux's tcp_invalid_ratelimit, per connection, for
 * challenge ACKs and for answers to out-of-window segments alike.
 */
static bool migtcp_invalid_ratelimited(unsigned long stamp)
{
	return stamp && time_before(jiffies, stamp + HZ / 2);
}

/*
 * RFC 5961: answer a suspicious RST or SYN with an ACK, not a reset; at
 * most one per 500 ms per connection (Linux's tcp_invalid_ratelimit) and
 * the node's budget per second, so that a flood of forged segments draws
 * no flood of answers.
 */
static void migtcp_challenge_ack(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (migtcp_invalid_ratelimited(msk->challenge_stamp))
		return;
	if (!migtcp_budget_take(&migtcp_pernet(sock_net(sk))->challenges,
				migtcp_challenge_fill))
		return;
	msk->challenge_stamp = jiffies ?: 1;
	MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_CHALLENGE_ACKS);
	migtcp_send_ack(sk);
}

/*
 * The handshake is over.  The first segments of data are acknowledged at
 * once, so that the peer's slow start is not held back (as TCP's quickack
 * mode at connection start), unless the user asked for delays.
 */
static void migtcp_established(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (!msk->pingpong)
		msk->quickacks = MIGTCP_MAX_QUICKACKS;
	/* RFC 6582 3.2 step 1: no recovery is under way (recover = ISS). */
	msk->recover = msk->snd_una - 1;
	migtcp_sndbuf_expand(sk);
	migtcp_set_state(sk, TCP_ESTABLISHED);
}

static void migtcp_rcv_syn_sent(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_syn_opts opts;
	u16 flags = ntohs(mh->flags);
	int err;

	if (flags & MIGTCP_F_ACK) {
		if (ntohl(mh->ack_seq) != msk->snd_nxt) {
			/* Not an answer to our SYN. */
			migtcp_send_reset(sock_net(sk), skb);
			return;
		}
		if (flags & MIGTCP_F_RST) {
			migtcp_done(sk, ECONNREFUSED);
			return;
		}
	}
	/* A reset without ACK, or a SYN without ACK (simultaneous open,
	 * which migtcp does not do), is ignored.
	 */
	if ((flags & (MIGTCP_F_SYN | MIGTCP_F_ACK | MIGTCP_F_RST)) !=
	    (MIGTCP_F_SYN | MIGTCP_F_ACK))
		return;

	/*
	 * The SYN-ACK comes from where our SYN went: a listener answers
	 * along the path of the SYN, and that address is the peer's in our
	 * table, or the host a checked REDIRECT named.  Another source is
	 * ignored, as an unacceptable segment is, so that it cannot abort
	 * the attempt.
	 */
	if (!migtcp_skb_from(skb, &msk->path_daddr)) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_SYN_BAD_SOURCE);
		return;
	}
	migtcp_parse_syn_opts(skb, &opts);
	/*
	 * An acceptable SYN-ACK (checked above, so that no off-path
	 * attacker gets this far) without a usable key exchange: the
	 * connection could never be authenticated.  Refuse it, and tell
	 * the peer with a reset of SEG.ACK.
	 */
	if (!opts.kx_half) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_KX_ERRORS);
		migtcp_send_reset(sock_net(sk), skb);
		migtcp_done(sk, ECONNREFUSED);
		return;
	}
	/*
	 * The listener must prove that it holds our cluster key before the
	 * connection exists (docs/protocol.md, "Handshake MAC"); a peer
	 * that cannot is refused as a closed port would refuse us.
	 */
	err = migtcp_hs_check_synack(sk, opts.kx_half, opts.kx_flags,
				     opts.hsmac);
	if (!err)
		err = migtcp_kx_complete(sk, opts.kx_half, opts.kx_flags);
	if (err) {
		if (err == -ENOMSG || err == -EBADMSG) {
			migtcp_drop(sock_net(sk), skb, err == -ENOMSG ?
				    MIGTCP_STAT_IN_HS_NO_MAC :
				    MIGTCP_STAT_IN_HS_BAD_MAC);
			err = -ECONNREFUSED;
		}
		/* Else the crypto layer failed: no key, no connection. */
		migtcp_send_reset(sock_net(sk), skb);
		migtcp_done(sk, -err);
		return;
	}

	msk->irs = ntohl(mh->seq);
	msk->rcv_nxt = msk->irs + 1;
	/*
	 * The window our SYN offered starts here: the left edge it was
	 * sent with could not know the peer's sequence numbers, and would
	 * make the right edge (which never moves left) anything at all.
	 */
	msk->rcv_wup = msk->rcv_nxt;
	msk->copied_seq = msk->rcv_nxt;
	msk->snd_una = msk->snd_nxt;
	msk->snd_max = msk->snd_nxt;
	/* The window of a SYN is never scaled (RFC 7323 2.2). */
	msk->snd_wnd = ntohs(mh->window);
	msk->snd_wl1 = msk->irs;
	msk->max_window = msk->snd_wnd;
	migtcp_apply_syn_opts(msk, &opts);
	migtcp_stop_retransmit(sk);
	migtcp_established(sk);
	migtcp_send_ctl(sk, MIGTCP_F_ACK, msk->snd_nxt);
	/*
	 * A SYN cookie: the listener makes the connection from our ACK,
	 * which the timer sends again until the listener is seen to have
	 * it (migtcp_retransmit()).
	 */
	if (migtcp_kx_cookie_wait(&msk->kx)) {
		msk->retransmits = 0;
		migtcp_arm_retransmit(sk);
	}
	migtcp_keepalive_reset(sk);
	sk->sk_state_change(sk);
}

/* Returns true when the segment completed the handshake. */
static bool migtcp_rcv_syn_recv(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	u16 flags = ntohs(mh->flags);
	u32 seq = ntohl(mh->seq);
	int err;

	if (flags & MIGTCP_F_RST) {
		if (seq == msk->rcv_nxt)
			migtcp_child_give_up(sk);
		return false;
	}
	if (flags & MIGTCP_F_SYN) {
		/* The peer did not hear our SYN-ACK: say it again. */
		if (seq == msk->irs)
			migtcp_send_ctl(sk, MIGTCP_F_SYN | MIGTCP_F_ACK,
					msk->iss);
		return false;
	}
	if (!(flags & MIGTCP_F_ACK))
		return false;
	if (ntohl(mh->ack_seq) != msk->snd_nxt) {
		migtcp_send_reset(sock_net(sk), skb);
		return false;
	}
	/*
	 * The connecting side proves that it holds our cluster key before
	 * the connection reaches accept().  An ACK without the proof is
	 * dropped: it may be data that overtook a lost ACK, and our SYN-ACK,
	 * sent again, draws the proof again.  A wrong proof ends the
	 * handshake with a reset: that peer cannot prove it, ever.
	 */
	err = migtcp_hs_check_ack(sk, migtcp_find_hsmac(skb));
	if (err == -ENOMSG) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_HS_NO_MAC);
		return false;
	}
	if (err == -EBADMSG)
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_HS_BAD_MAC);
	/* Else, if the crypto layer failed: no key, no connection either. */
	if (err || migtcp_kx_complete(sk, msk->kx.peer_half,
				      msk->kx.peer_flags)) {
		migtcp_send_ctl(sk, MIGTCP_F_RST, msk->snd_nxt);
		migtcp_child_give_up(sk);
		return false;
	}
	memzero_explicit(msk->kx.proof, sizeof(msk->kx.proof));
	msk->snd_una = msk->snd_nxt;
	msk->snd_max = msk->snd_nxt;
	msk->snd_wnd = (u32)ntohs(mh->window) << msk->snd_wscale;
	msk->snd_wl1 = seq;
	msk->max_window = msk->snd_wnd;
	migtcp_stop_retransmit(sk);
	migtcp_established(sk);
	migtcp_keepalive_reset(sk);
	migtcp_child_established(sk);
	return true;
}

/*
 * RFC 6298 2.3: RTO = SRTT + 4 RTTVAR (rttvar is kept scaled by 4), without
 * the backoff of the timeouts since; the initial RTO before a measurement.
 */
unsigned long migtcp_rto_estimate(const struct migtcp_sock *msk)
{
	if (!msk->srtt)
		return MIGTCP_RTO_INIT;
	return clamp((unsigned long)(msk->srtt >> 3) + max(msk->rttvar, 1U),
		     (unsigned long)MIGTCP_RTO_MIN,
		     (unsigned long)MIGTCP_RTO_MAX);
}

static void migtcp_rto_from_srtt(struct migtcp_sock *msk)
{
	msk->rto = migtcp_rto_estimate(msk);
}

/*
 * Nothing measured yet (RFC 6298 2.1): the RTO starts at its initial
 * value, for a new connection on the socket or a new path to the peer.
 */
void migtcp_rtt_reset(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->srtt = 0;
	msk->rttvar = 0;
	msk->rto = MIGTCP_RTO_INIT;
	migtcp_rack_reset(sk);
}

/* RFC 6298 2.2-2.3, with srtt scaled by 8 and rttvar by 4 as Linux does. */
static void migtcp_rtt_sample(struct sock *sk, long m)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	long delta;

	m = max(m, 1L);
	if (!msk->srtt) {
		msk->srtt = m << 3;
		msk->rttvar = m << 1;
	} else {
		delta = m - (msk->srtt >> 3);
		msk->srtt += delta;
		msk->rttvar += abs(delta) - (msk->rttvar >> 2);
	}
	migtcp_rto_from_srtt(msk);
}

/* Frees the data @ack acknowledges; the retransmission timer restarts. */
static void migtcp_clean_acked(struct sock *sk, u32 ack)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct sk_buff *skb;

	u32 acked = ack - msk->snd_una;

	/* The window grows (cong.c), except in fast recovery, where it
	 * stays at ssthresh (RFC 6582).
	 */
	acked = max_t(u32, acked / max_t(u32, msk->mss, 1), 1);
	if (!msk->in_recovery)
		migtcp_cong_on_ack(sk, acked, msk->snd_nxt - msk->snd_una);
	msk->bytes_acked += ack - msk->snd_una -
			    (msk->fin_queued && ack == msk->write_seq);

	while ((skb = skb_peek(&sk->sk_write_queue)) &&
	       !migtcp_after(MIGTCP_SKB_CB(skb)->end_seq, ack)) {
		if (!(MIGTCP_SKB_CB(skb)->sacked & MIGTCP_SKB_SACKED))
			migtcp_rack_delivered(sk, skb);
		migtcp_sack_unlink(sk, skb);
		__skb_unlink(skb, &sk->sk_write_queue);
		migtcp_wmem_free_skb(sk, skb);
	}
	/*
	 * A GSO packet acknowledged in part: drop the acknowledged bytes, so
	 * that the queue always starts at SND.UNA (as tcp_trim_head()).
	 */
	if (skb && migtcp_after(ack, MIGTCP_SKB_CB(skb)->seq) &&
	    !migtcp_split(sk, skb, ack - MIGTCP_SKB_CB(skb)->seq)) {
		if (!(MIGTCP_SKB_CB(skb)->sacked & MIGTCP_SKB_SACKED))
			migtcp_rack_delivered(sk, skb);
		migtcp_sack_unlink(sk, skb);
		__skb_unlink(skb, &sk->sk_write_queue);
		migtcp_wmem_free_skb(sk, skb);
	}
	/* Karn: only a segment sent once is timed (see migtcp_retransmit). */
	if (msk->rtt_start && !migtcp_before(ack, msk->rtt_seq)) {
		migtcp_rtt_sample(sk, jiffies - msk->rtt_start);
		msk->rtt_start = 0;
	}
	msk->snd_una = ack;
	/* The path works: an ICMP error heard before is news no more. */
	WRITE_ONCE(sk->sk_err_soft, 0);
	/* After a timeout snd_nxt went back; what is acknowledged is sent. */
	if (migtcp_after(ack, msk->snd_nxt))
		msk->snd_nxt = ack;
	/*
	 * New data acknowledged: the backoff ends, as in BSD, and the RTO
	 * is the estimate's again.  Waiting for a clean RTT sample instead
	 * (RFC 6298 5.7) can take forever when every window loses a segment
	 * (Karn voids each sample), and each timeout doubles the RTO again
	 * until one stall outlasts any reader.
	 */
	if (msk->retransmits && msk->srtt)
		migtcp_rto_from_srtt(msk);
	msk->retransmits = 0;
	msk->dup_acks = 0;
	migtcp_stop_retransmit(sk);
	if (msk->snd_una != msk->snd_nxt) {
		/* The next unacked data left no later than now. */
		msk->retrans_stamp = jiffies;
		migtcp_arm_retransmit(sk);
	}
	sk->sk_write_space(sk);
}

/* Our FIN is acknowledged: the closing states move on. */
static bool migtcp_fin_acked(struct sock *sk)
{
	switch (sk->sk_state) {
	case TCP_FIN_WAIT1:
		migtcp_set_state(sk, TCP_FIN_WAIT2);
		/* An orphan does not wait for the peer's FIN forever. */
		if (sock_flag(sk, SOCK_DEAD))
			migtcp_arm_linger(sk);
		else
			sk->sk_state_change(sk);
		break;
	case TCP_CLOSING:
		migtcp_enter_time_wait(sk);
		break;
	case TCP_LAST_ACK:
		migtcp_done(sk, 0);
		return false;
	}
	return true;
}

/*
 * Sends again the first unacknowledged segment, and no more: not a whole
 * GSO packet.
 */
static void migtcp_retransmit_head(struct sock *sk)
{
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);

	if (skb)
		migtcp_resend_seg(sk, skb);
}

/*
 * Fast recovery begins (RFC 5681 3.2, RFC 6582, RFC 6675 4): the window
 * halves, everything in flight now is to be recovered, and the first
 * unacknowledged segment goes again at once; with RACK, the first of
 * those it found lost, then what the pipe allows.  A loss probe out is
 * forgotten: the recovery answers for the loss.
 */
void migtcp_enter_recovery(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	migtcp_sack_recovery_start(sk);
	migtcp_cwnd_loss(sk, false);
	msk->in_recovery = true;
	msk->tlp_on = false;
	msk->recover = msk->snd_max;
	if (migtcp_rack_on(msk))
		migtcp_sack_recover_first(sk);
	else
		migtcp_retransmit_head(sk);
}

/*
 * Takes the window of a segment with sequence number @seq acknowledging
 * @ack, unless an older segment than the one that set the window last
 * (RFC 9293's SND.WL1 test, in Linux's form: tcp_may_update_window()).
 */
static void migtcp_update_wnd(struct migtcp_sock *msk, u32 seq, u32 ack,
			      u32 wnd)
{
	if (!migtcp_after(ack, msk->snd_una) &&
	    !migtcp_after(seq, msk->snd_wl1) &&
	    !(seq == msk->snd_wl1 && wnd > msk->snd_wnd))
		return;
	msk->snd_wl1 = seq;
	msk->snd_wnd = wnd;
	msk->max_window = max(msk->max_window, wnd);
}

/*
 * Processes the acknowledgment of a segment in a synchronized state.
 * Returns false if the segment must go no further.
 */
static bool migtcp_rcv_ack(struct sock *sk, const struct sk_buff *skb,
			   unsigned int len)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	u32 ack = ntohl(mh->ack_seq), seq = ntohl(mh->seq);
	u32 wnd = (u32)ntohs(mh->window) << msk->snd_wscale;
	bool reo = timer_pending(&sk->sk_timer) &&
		   msk->timer_kind == MIGTCP_TIMER_REO;
	bool advanced = migtcp_after(ack, msk->snd_una);

	/*
	 * RFC 5961 5.2: an acknowledgment is acceptable only from
	 * SND.UNA - MAX.SND.WND to SND.MAX.  Beyond SND.MAX it acknowledges
	 * what we never sent; before, it is older than any window we could
	 * have had: forged, or a blind injection's guess.  Either way the
	 * segment goes, and the answer is a challenge ACK, rate-limited as
	 * the others (RFC 5961 10): a flood of forged segments must not
	 * draw a flood of answers.
	 */
	if (migtcp_after(ack, msk->snd_max) ||
	    migtcp_before(ack, msk->snd_una - msk->max_window)) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_WINDOW_DROPS);
		migtcp_challenge_ack(sk);
		return false;
	}
	if (migtcp_before(ack, msk->snd_una))
		return true;	/* old: its data may still be new */
	migtcp_rack_ack_start(sk);
	migtcp_sack_rcv(sk, skb, ack);

	if (advanced) {
		migtcp_update_wnd(msk, seq, ack, wnd);
		migtcp_clean_acked(sk, ack);
		if (msk->in_recovery) {
			/*
			 * RFC 6582 3.2: a partial acknowledgment means the
			 * next segment was lost too: send it at once; a full
			 * one ends the recovery.
			 */
			if (!migtcp_before(ack, msk->recover)) {
				msk->in_recovery = false;
				msk->cwnd = msk->ssthresh;
				migtcp_sack_recovery_end(sk);
			} else if (!msk->sacked_bytes &&
				   !migtcp_rack_on(msk)) {
				/* With SACK, the scoreboard decides below. */
				migtcp_retransmit_head(sk);
			}
		}
		if (msk->fin_queued && msk->snd_una == msk->write_seq &&
		    !migtcp_fin_acked(sk))
			return false;
	} else if (!len && wnd && wnd == msk->snd_wnd &&
		   msk->snd_una != msk->snd_nxt && !migtcp_rack_on(msk) &&
		   migtcp_count_dupack(msk) &&
		   !msk->in_recovery &&
		   migtcp_after(ack, msk->recover)) {
		/*
		 * RFC 5681 3.2: three duplicates mean a lost segment; NewReno
		 * (RFC 6582) recovers everything that was in flight then.
		 * Under a closed window they answer our probes instead.
		 */
		migtcp_enter_recovery(sk);
	} else {
		migtcp_update_wnd(msk, seq, ack, wnd);
	}
	/*
	 * RFC 6675: SACKed data above the first unacknowledged segment can
	 * show it lost before three duplicates came (they need not: a window
	 * update is no duplicate); in recovery every ACK may let more go.
	 */
	if (migtcp_rack_on(msk)) {
		/*
		 * RACK (rack.c) judges by time what the SACKs and the ACK
		 * delivered; the loss probe's outcome, then the next probe.
		 */
		if (migtcp_rack_ack(sk, reo) && !msk->in_recovery)
			migtcp_enter_recovery(sk);
		else if (msk->in_recovery)
			migtcp_sack_recover(sk);
		migtcp_tlp_ack(sk, ack, advanced);
		/* As the RTO: restarted by new data acknowledged only. */
		if (advanced)
			migtcp_tlp_schedule(sk);
	} else if (msk->sacked_bytes) {
		if (!msk->in_recovery && migtcp_after(ack, msk->recover) &&
		    migtcp_sack_head_lost(sk))
			migtcp_enter_recovery(sk);
		if (msk->in_recovery)
			migtcp_sack_recover(sk);
	}
	/*
	 * The peer answers our probes of its closed window: it is alive, and
	 * the retry limit starts over (RFC 1122 4.2.2.17; Linux resets
	 * icsk_probes_out).  MIGTCP_USER_TIMEOUT still counts from the
	 * oldest unacknowledged data.  An orphan has nobody left to read
	 * what it would deliver: as tcp_probe_timer() bounds it by
	 * tcp_orphan_retries however the peer answers, its probes keep
	 * counting to the orphan_retries limit, so a peer that never opens its
	 * window cannot keep it for ever.
	 */
	if (!msk->snd_wnd && ack == msk->snd_una && msk->retransmits &&
	    !sock_flag(sk, SOCK_DEAD))
		msk->retransmits = 1;
	return true;
}

/* The peer's FIN arrived in order: its direction is over. */
static void migtcp_rcv_fin(struct sock *sk)
{
	sk->sk_shutdown |= RCV_SHUTDOWN;
	sock_set_flag(sk, SOCK_DONE);
	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
		migtcp_set_state(sk, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT1:
		migtcp_set_state(sk, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		migtcp_enter_time_wait(sk);
		break;
	}
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_state_change(sk);
}

/* Room for @skb in the receive buffer, and the memory to charge it. */
static bool migtcp_rmem_room(struct sock *sk, struct sk_buff *skb)
{
	return atomic_read(&sk->sk_rmem_alloc) + skb->truesize <=
	       READ_ONCE(sk->sk_rcvbuf) &&
	       sk_rmem_schedule(sk, skb, skb->truesize);
}

/* Frees what waits out of order; returns how many skbs that was. */
unsigned int migtcp_ofo_purge(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct rb_node *node = rb_first(&msk->ofo_root);
	unsigned int n = 0;

	while (node) {
		struct sk_buff *skb = rb_to_skb(node);

		node = rb_next(node);
		rb_erase(&skb->rbnode, &msk->ofo_root);
		kfree_skb(skb);
		n++;
	}
	msk->ofo_last = NULL;
	migtcp_sack_reset(sk);
	return n;
}

/*
 * Room for in-order @skb.  An empty receive queue takes it whatever the
 * receive buffer's size, as tcp_data_queue() does: a buffer smaller than
 * one segment's truesize (SO_RCVBUF at its minimum, or lowered under a
 * window already offered) would otherwise drop every segment the peer
 * sends, and the stream would never move again.
 */
static bool migtcp_rmem_room_in_order(struct sock *sk, struct sk_buff *skb)
{
	if (skb_queue_empty(&sk->sk_receive_queue))
		return sk_rmem_schedule(sk, skb, skb->truesize);
	return migtcp_rmem_room(sk, skb);
}

/*
 * Data kept out of order must never keep in-order data out: under memory
 * pressure it goes (its senders retransmit it), as tcp_prune_ofo_queue().
 */
static void migtcp_prune_ofo(struct sock *sk)
{
	unsigned int n;

	if (migtcp_ofo_empty(sk))
		return;
	n = migtcp_ofo_purge(sk);
	MIGTCP_ADD_STATS(sock_net(sk), MIGTCP_STAT_OFO_PRUNED, n);
}

/*
 * Moves the data of @from to the end of @to, charged to @sk, when the two
 * are contiguous and skb_try_coalesce() can (as tcp_try_coalesce()), so
 * that small segments do not cost a buffer each, in order or not.  The
 * caller then frees @from with kfree_skb_partial(@from, *@stolen): if it
 * was charged too, its destructor gives back all of it.
 */
static bool migtcp_try_merge(struct sock *sk, struct sk_buff *to,
			     struct sk_buff *from, bool *stolen)
{
	int delta;

	if (MIGTCP_SKB_CB(to)->fin ||
	    MIGTCP_SKB_CB(to)->end_seq != MIGTCP_SKB_CB(from)->seq ||
	    !skb_try_coalesce(to, from, stolen, &delta))
		return false;
	MIGTCP_SKB_CB(to)->end_seq = MIGTCP_SKB_CB(from)->end_seq;
	MIGTCP_SKB_CB(to)->fin = MIGTCP_SKB_CB(from)->fin;
	atomic_add(delta, &sk->sk_rmem_alloc);
	sk_mem_charge(sk, delta);
	return true;
}

/* migtcp_try_merge() of @from, in no queue, which is freed if it merged. */
static bool migtcp_merge(struct sock *sk, struct sk_buff *to,
			 struct sk_buff *from)
{
	bool stolen;

	if (!migtcp_try_merge(sk, to, from, &stolen))
		return false;
	kfree_skb_partial(from, stolen);
	return true;
}

/* Appends @skb's data to the last skb of the receive queue if it can. */
static bool migtcp_coalesce(struct sock *sk, struct sk_buff *skb)
{
	struct sk_buff *tail = skb_peek_tail(&sk->sk_receive_queue);

	return tail && migtcp_merge(sk, tail, skb);
}

/* Queues in-order @skb (data already trimmed to start at rcv_nxt). */
static bool migtcp_queue_in_order(struct sock *sk, struct sk_buff *skb)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_skb_cb cb = *MIGTCP_SKB_CB(skb);

	if (skb->len) {
		if (!migtcp_rmem_room_in_order(sk, skb))
			migtcp_prune_ofo(sk);
		if (!migtcp_rmem_room_in_order(sk, skb)) {
			/* No room: the peer sends it again. */
			migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_RCVBUF_DROPS);
			return false;
		}
		msk->bytes_received += skb->len;
		if (cb.fin || !migtcp_coalesce(sk, skb)) {
			skb_set_owner_r(skb, sk);
			__skb_queue_tail(&sk->sk_receive_queue, skb);
		}
		skb = NULL;
	}
	msk->rcv_nxt = cb.end_seq;
	migtcp_rcv_rtt_measure(sk);
	if (cb.fin)
		migtcp_rcv_fin(sk);
	consume_skb(skb);
	return true;
}

/* Trims @skb so that it starts at rcv_nxt; false if nothing new is left. */
static bool migtcp_trim_front(struct sock *sk, struct sk_buff *skb)
{
	struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);
	u32 old = migtcp_sk(sk)->rcv_nxt - cb->seq;

	if (!migtcp_after(cb->end_seq, migtcp_sk(sk)->rcv_nxt))
		return false;
	if (old) {
		if (old > skb->len || !pskb_pull(skb, old))
			return false;
		cb->seq += old;
	}
	return true;
}

/* Moves what the out-of-order queue now continues into the stream. */
static void migtcp_ofo_drain(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct sk_buff *skb;

	while ((skb = skb_rb_first(&msk->ofo_root)) &&
	       !migtcp_after(MIGTCP_SKB_CB(skb)->seq, msk->rcv_nxt)) {
		/* Nothing comes after the peer's FIN: what claims to is
		 * garbage, and would pin memory that nobody reads.
		 */
		if (sock_flag(sk, SOCK_DONE)) {
			migtcp_ofo_purge(sk);
			break;
		}
		rb_erase(&skb->rbnode, &msk->ofo_root);
		if (skb == msk->ofo_last)
			msk->ofo_last = NULL;
		skb_orphan(skb);	/* queue_in_order() charges it again */
		if (!migtcp_trim_front(sk, skb) ||
		    !migtcp_queue_in_order(sk, skb))
			kfree_skb(skb);
	}
}

/* Drops the skbs after @skb that it covers whole (their data is in it). */
static void migtcp_ofo_drop_covered(struct sock *sk, struct sk_buff *skb)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct sk_buff *next;

	while ((next = skb_rb_next(skb)) &&
	       !migtcp_after(MIGTCP_SKB_CB(next)->end_seq,
			     MIGTCP_SKB_CB(skb)->end_seq)) {
		rb_erase(&next->rbnode, &msk->ofo_root);
		kfree_skb(next);
	}
	if (!next)
		msk->ofo_last = skb;
}

/*
 * migtcp_try_merge() of two neighbours in the out-of-order queue: @from,
 * if its data went into @to, leaves the queue and is freed.
 */
static bool migtcp_ofo_merge(struct sock *sk, struct sk_buff *to,
			     struct sk_buff *from)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	bool stolen;

	if (!migtcp_try_merge(sk, to, from, &stolen))
		return false;
	rb_erase(&from->rbnode, &msk->ofo_root);
	if (msk->ofo_last == from)
		msk->ofo_last = to;
	kfree_skb_partial(from, stolen);
	return true;
}

/* Puts @skb (charged) at the end of the out-of-order queue: a restore. */
void migtcp_ofo_append(struct sock *sk, struct sk_buff *skb)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct rb_node **link = &msk->ofo_root.rb_node, *parent = NULL;

	if (msk->ofo_last) {
		parent = &msk->ofo_last->rbnode;
		link = &parent->rb_right;
	}
	rb_link_node(&skb->rbnode, parent, link);
	rb_insert_color(&skb->rbnode, &msk->ofo_root);
	msk->ofo_last = skb;
}

/*
 * Keeps @skb, beyond a gap, in sequence order; false if not kept (the
 * caller frees it).  As tcp_data_queue_ofo(): a segment that continues
 * the last one joins it, others find their place in the tree; one that
 * brings nothing new is dropped, one that covers others replaces them,
 * and one that touches its neighbours merges with them when it can.
 */
static bool migtcp_ofo_insert(struct sock *sk, struct sk_buff *skb)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	const struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);
	struct rb_node **link, *parent = NULL;
	struct sk_buff *pos, *prev;

	if (!migtcp_rmem_room(sk, skb)) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_RCVBUF_DROPS);
		return false;
	}
	/* The common case: the next segment after the last one kept. */
	if (msk->ofo_last && migtcp_merge(sk, msk->ofo_last, skb))
		return true;
	if (msk->ofo_last &&
	    !migtcp_before(cb->seq, MIGTCP_SKB_CB(msk->ofo_last)->end_seq)) {
		skb_set_owner_r(skb, sk);
		migtcp_ofo_append(sk, skb);
		return true;
	}

	link = &msk->ofo_root.rb_node;
	while (*link) {
		const struct migtcp_skb_cb *p;

		parent = *link;
		pos = rb_to_skb(parent);
		p = MIGTCP_SKB_CB(pos);
		if (migtcp_before(cb->seq, p->seq)) {
			link = &parent->rb_left;
			continue;
		}
		if (!migtcp_after(cb->end_seq, p->end_seq)) {
			/* Nothing new: a duplicate, reported (D-SACK). */
			migtcp_sack_dup(sk, cb->seq, cb->end_seq);
			return false;
		}
		if (cb->seq == p->seq) {
			/* @skb covers @pos, and maybe more after it. */
			skb_set_owner_r(skb, sk);
			rb_replace_node(&pos->rbnode, &skb->rbnode,
					&msk->ofo_root);
			if (msk->ofo_last == pos)
				msk->ofo_last = skb;
			kfree_skb(pos);
			goto inserted;
		}
		link = &parent->rb_right;
	}
	skb_set_owner_r(skb, sk);
	rb_link_node(&skb->rbnode, parent, link);
	rb_insert_color(&skb->rbnode, &msk->ofo_root);
inserted:
	migtcp_ofo_drop_covered(sk, skb);
	/* A predecessor that ends where @skb starts takes its data... */
	prev = skb_rb_prev(skb);
	if (prev && migtcp_ofo_merge(sk, prev, skb))
		skb = prev;
	/* ...and the data of a successor that starts where it ends. */
	pos = skb_rb_next(skb);
	if (pos)
		migtcp_ofo_merge(sk, skb, pos);
	return true;
}

/*
 * Acknowledges data received: at once if @now, in quickack mode, while
 * data waits out of order, or with the second full segment not yet
 * acknowledged (RFC 5681 4.2); else within MIGTCP_DELACK, in the hope
 * that data of ours carries the acknowledgment.
 */
static void migtcp_ack_data(struct sock *sk, bool now)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (msk->quickacks) {
		msk->quickacks--;
		now = true;
	}
	if (now || !migtcp_ofo_empty(sk) ||
	    msk->rcv_nxt - msk->rcv_wup >= 2U * msk->mss)
		migtcp_send_ack(sk);
	else
		migtcp_delack_arm(sk);
}

/*
 * Data and FIN of a segment in a synchronized state.  Returns true if
 * @skb was kept (queued), false if the caller still owns it.
 */
static bool migtcp_rcv_data(struct sock *sk, struct sk_buff *skb,
			    const struct migtcphdr *mh, unsigned int len)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_skb_cb cb = {
		.seq = ntohl(mh->seq),
		.fin = !!(mh->flags & htons(MIGTCP_F_FIN)),
	};
	bool kept = false, now = false;

	if (!((1 << sk->sk_state) &
	      (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2))) {
		/* The peer's direction is over; a retransmitted FIN wants
		 * our acknowledgment again.
		 */
		migtcp_send_ack(sk);
		return false;
	}
	cb.end_seq = cb.seq + len + cb.fin;
	if (!migtcp_after(cb.end_seq, msk->rcv_nxt) ||
	    migtcp_after(cb.seq, msk->rcv_nxt + max(msk->rcv_wnd, 1U))) {
		/* Old, or beyond the window: fails RFC 9293's acceptability
		 * test, and is answered with where we are, and for old data
		 * with what came twice (D-SACK).
		 */
		if (len && !migtcp_after(cb.end_seq, msk->rcv_nxt))
			migtcp_sack_dup(sk, cb.seq, cb.seq + len);
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_WINDOW_DROPS);
		migtcp_send_ack(sk);
		return false;
	}

	/* The route was the receive path's (RCU-protected); no use later. */
	skb_dst_drop(skb);
	__skb_pull(skb, mh->doff * 4);
	*MIGTCP_SKB_CB(skb) = cb;
	if (migtcp_after(cb.seq, msk->rcv_nxt)) {
		kept = migtcp_ofo_insert(sk, skb);
		if (kept)
			migtcp_sack_new_ofo(sk, cb.seq, cb.end_seq);
	} else {
		/* What it has before RCV.NXT came twice (D-SACK). */
		migtcp_sack_dup(sk, cb.seq, msk->rcv_nxt);
		if (migtcp_trim_front(sk, skb) &&
		    migtcp_queue_in_order(sk, skb)) {
			/* A filled gap or the end of the stream is news at
			 * once.
			 */
			now = !migtcp_ofo_empty(sk) || cb.fin;
			kept = true;
			migtcp_ofo_drain(sk);
			migtcp_sack_advance(sk);
			if (!sock_flag(sk, SOCK_DEAD))
				sk->sk_data_ready(sk);
		}
	}
	migtcp_ack_data(sk, now || !kept ||
			(sk->sk_shutdown & RCV_SHUTDOWN));
	return kept;
}

/*
 * New data for a connection whose receiving side is shut down, by its
 * close() or by shutdown(SHUT_RD), once our FIN is out: nobody will read
 * it.  RFC 9293 would queue it; RFC 1122 4.2.2.13 says to reset, "to
 * show that data was lost", and so does Linux (tcp_rcv_state_process(),
 * TCPAbortOnData) and BSD.  The reset answers the segment, at the
 * sequence number it acknowledges; the connection ends.  True if it did.
 */
static bool migtcp_rcv_after_close(struct sock *sk, const struct migtcphdr *mh,
				   unsigned int len)
{
	if (!((1 << sk->sk_state) & (TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2)) ||
	    !(sk->sk_shutdown & RCV_SHUTDOWN) ||
	    !migtcp_after(ntohl(mh->seq) + len, migtcp_sk(sk)->rcv_nxt))
		return false;
	MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_ABORT_ON_DATA);
	migtcp_send_ctl(sk, MIGTCP_F_RST, ntohl(mh->ack_seq));
	migtcp_done(sk, ECONNRESET);
	return true;
}

/*
 * Answers to segments without data outside the window go at most once
 * per 500 ms (Linux's tcp_oow_rate_limited()): two ends that each find
 * the other's ACKs unacceptable must not answer each other forever.  A
 * segment with data is always answered: it is no part of such a loop.
 */
static bool migtcp_oow_limited(struct sock *sk, bool has_data)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (has_data)
		return false;
	if (migtcp_invalid_ratelimited(msk->oow_ack_stamp))
		return true;
	msk->oow_ack_stamp = jiffies ?: 1;
	return false;
}

/*
 * RFC 9293's acceptability test, in Linux's form (tcp_sequence()): the
 * segment ends no earlier than the last window we announced begins, and
 * starts no later than it ends.  Old duplicates pass, and are trimmed or
 * acknowledged as such by the data path.
 */
static bool migtcp_seq_acceptable(const struct migtcp_sock *msk, u32 seq,
				  u32 end_seq)
{
	return !migtcp_before(end_seq, msk->rcv_wup) &&
	       !migtcp_after(seq, msk->rcv_wup + msk->rcv_wnd);
}

/* RFC 9293 3.10.7.4, for ESTABLISHED and the closing states. */
static bool migtcp_rcv_synchronized(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	u16 flags = ntohs(mh->flags);
	unsigned int len = skb->len - mh->doff * 4;
	u32 seq = ntohl(mh->seq);
	bool acceptable = migtcp_seq_acceptable(msk, seq,
						seq + len + !!(flags & MIGTCP_F_FIN));

	if (flags & MIGTCP_F_RST) {
		/*
		 * RFC 5961 3.2: only an exact sequence number resets; one in
		 * the window draws a challenge ACK, any other is dropped.
		 */
		if (seq == msk->rcv_nxt)
			migtcp_done(sk, sk->sk_state == TCP_TIME_WAIT ?
				    0 : ECONNRESET);
		else if (acceptable)
			migtcp_challenge_ack(sk);
		else
			migtcp_drop(sock_net(sk), skb,
				    MIGTCP_STAT_IN_WINDOW_DROPS);
		return false;
	}
	if (flags & MIGTCP_F_SYN) {
		/*
		 * The listener sends its SYN-ACK again: it did not get our
		 * ACK with its handshake MAC, so that ACK goes again, not
		 * held back by the challenge ACK limits.
		 */
		if (msk->kx.proof_pending && (flags & MIGTCP_F_ACK) &&
		    seq == msk->irs)
			migtcp_send_ack(sk);
		else
			migtcp_challenge_ack(sk);
		return false;
	}
	/*
	 * RFC 9293 3.10.7.4: the sequence number is checked first; nothing
	 * of a segment that fails, its acknowledgment and window included,
	 * is taken.  It is answered with an ACK (that is also what a
	 * keepalive probe asks for).
	 */
	if (!acceptable) {
		/* Data that came before: the ACK reports it (D-SACK). */
		if (len && migtcp_before(seq, msk->rcv_nxt))
			migtcp_sack_dup(sk, seq,
					migtcp_before(seq + len, msk->rcv_nxt) ?
					seq + len : msk->rcv_nxt);
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_WINDOW_DROPS);
		if (!migtcp_oow_limited(sk, len || (flags & MIGTCP_F_FIN)))
			migtcp_send_ack(sk);
		return false;
	}
	if (!(flags & MIGTCP_F_ACK))
		return false;
	if (!migtcp_rcv_ack(sk, skb, len))
		return false;
	/*
	 * An acceptable segment without SYN: the listener is past its
	 * handshake, so it took our MAC; our ACKs need not carry it on.
	 * After a SYN cookie, data may go now (migtcp_push() below).
	 */
	if (migtcp_kx_cookie_wait(&msk->kx)) {
		migtcp_stop_retransmit(sk);
		msk->retransmits = 0;
		if (msk->srtt)
			migtcp_rto_from_srtt(msk);
	}
	migtcp_kx_proof_taken(sk);
	if (sk->sk_state == TCP_TIME_WAIT) {
		/* A retransmitted FIN: our last ACK was lost. */
		if (flags & MIGTCP_F_FIN)
			migtcp_send_ack(sk);
		return false;
	}
	if (len || (flags & MIGTCP_F_FIN)) {
		bool kept;

		if (migtcp_rcv_after_close(sk, mh, len))
			return false;
		kept = migtcp_rcv_data(sk, skb, mh, len);

		migtcp_push(sk);
		return kept;
	}
	/*
	 * A segment before RCV.NXT fails the sequence test and is answered
	 * with an ACK (RFC 9293 3.10.7.4): that is what a keepalive probe is.
	 * An ACK with the handshake MAC says that its sender has not seen
	 * us past the handshake yet, which after a SYN cookie holds its
	 * data back: an ACK tells it.
	 */
	if (migtcp_before(ntohl(mh->seq), msk->rcv_nxt) ||
	    (mh->doff > MIGTCP_HDR_MIN_DOFF && migtcp_find_hsmac(skb)))
		migtcp_send_ack(sk);
	migtcp_push(sk);
	return false;
}

/* A segment for @sk's connection; @sk is locked, the segment consumed. */
int migtcp_sock_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	bool kept = false;

	if (ntohs(migtcp_hdr(skb)->flags) & MIGTCP_F_CTL) {
		migtcp_ctl_process(sk, skb);
		consume_skb(skb);
		return 0;
	}
	if (migtcp_mig_drops_input(sk, skb))
		return 0;

	/* The peer is alive: keepalive starts over. */
	msk->rcv_tstamp = jiffies;
	msk->probes_out = 0;

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
		migtcp_rcv_syn_sent(sk, skb);
		break;
	case TCP_SYN_RECV:
		/* The ACK that completes the handshake may carry data. */
		if (migtcp_rcv_syn_recv(sk, skb))
			kept = migtcp_rcv_synchronized(sk, skb);
		break;
	case TCP_CLOSE:
	case TCP_LISTEN:
		/* Closed meanwhile: as for no endpoint at all. */
		migtcp_send_reset(sock_net(sk), skb);
		break;
	default:
		kept = migtcp_rcv_synchronized(sk, skb);
		break;
	}
	if (!kept)
		consume_skb(skb);
	return 0;
}

/*
 * A new connection for listener @lsk, answering the SYN in @skb, whose
 * options are @opts; or, with @cookie_half, the ACK in @skb that answered
 * a SYN cookie, with @opts as the cookie kept them and our half.
 */
static struct sock *migtcp_child_alloc(struct sock *lsk,
				       const struct sk_buff *skb,
				       const struct migtcp_syn_opts *opts,
				       const u8 *cookie_half)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	struct migtcp_sock *l = migtcp_sk(lsk), *c;
	struct sock *child;

	child = sk_alloc(sock_net(lsk), lsk->sk_family, GFP_ATOMIC,
			 &migtcp_prot, 0);
	if (!child)
		return NULL;
	sock_init_data(NULL, child);
	migtcp_init_sock(child);
	migtcp_child_inherit(lsk, child);
	child->sk_reuse = lsk->sk_reuse;
	child->sk_rcvbuf = READ_ONCE(lsk->sk_rcvbuf);
	child->sk_sndbuf = READ_ONCE(lsk->sk_sndbuf);
	/* Sizes the user set stay set; the others are autotuned. */
	child->sk_userlocks |= lsk->sk_userlocks &
			       (SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK);

	/* Options set on the listener apply to its connections, as TCP's. */
	c = migtcp_sk(child);
	if (sock_flag(lsk, SOCK_KEEPOPEN))
		sock_set_flag(child, SOCK_KEEPOPEN);
	migtcp_cong_init(child, lsk);
	c->nodelay = l->nodelay;
	c->pingpong = l->pingpong;
	c->user_mss = l->user_mss;
	c->keepidle = l->keepidle;
	c->keepintvl = l->keepintvl;
	c->keepcnt = l->keepcnt;
	c->user_timeout = l->user_timeout;
	/*
	 * The identity the SYN was for, which the listener was found by:
	 * not the listener's own, which its close() may clear meanwhile (it
	 * runs under the listener's lock; this does not).
	 */
	c->local_node = ntohl(mh->dst_node);
	c->local_port = ntohs(mh->dst_port);
	c->remote_node = ntohl(mh->src_node);
	c->remote_port = ntohs(mh->src_port);
	if (migtcp_kx_accept(child, opts, cookie_half)) {
		sk_free(child);
		return NULL;
	}
	/* Answer along the path the SYN came. */
	migtcp_skb_daddr(skb, &c->path_saddr);
	migtcp_skb_saddr(skb, &c->path_daddr);
	if (migtcp_route_path(child)) {
		sk_free(child);
		return NULL;
	}
	c->rcv_wscale = migtcp_our_wscale();
	c->sack_ok = migtcp_sack_enabled();
	migtcp_apply_syn_opts(c, opts);
	if (cookie_half) {
		/* The ACK: its sequence number is the SYN's + 1. */
		c->irs = ntohl(mh->seq) - 1;
		c->iss = ntohl(mh->ack_seq) - 1;
	} else {
		c->irs = ntohl(mh->seq);
		c->iss = migtcp_isn(c);
	}
	c->rcv_nxt = c->irs + 1;
	c->copied_seq = c->rcv_nxt;
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->write_seq = c->snd_nxt;
	child->sk_state = TCP_SYN_RECV;

	sock_hold(lsk);
	c->parent = lsk;
	/* A listener that migrated here passes on its identity only. */
	c->mig.foreign = l->mig.foreign;
	migtcp_net_link_sock(child);
	return child;
}

/* How many connections listener @lsk keeps waiting, at most, per queue. */
static u32 migtcp_listen_backlog(const struct sock *lsk)
{
	return max_t(u32, READ_ONCE(lsk->sk_max_ack_backlog), 1);
}

/*
 * Queues @child on its listener's SYN queue unless the listener is full
 * or gone: the whole backlog counts, or for a connection made from a SYN
 * cookie (@cookie), which goes on to the accept queue as soon as it can
 * be found, the accept queue only.  The listener's close() stops it
 * listening under the same lock, so a child queued here is one that
 * close() finds and drops, and one refused is dropped by its caller
 * before it enters the port or connection table.
 */
static bool migtcp_child_queue(struct sock *lsk, struct sock *child,
			       bool cookie)
{
	struct migtcp_sock *l = migtcp_sk(lsk), *c = migtcp_sk(child);
	u32 backlog = migtcp_listen_backlog(lsk);
	bool queued = false;

	spin_lock_bh(&l->accept_lock);
	/* A frozen or departed listener takes nobody: its queue is moving. */
	if (lsk->sk_state == TCP_LISTEN &&
	    READ_ONCE(l->mig.state) == MIGTCP_MIG_NONE &&
	    (cookie ? l->queued - l->syn_queued : l->queued) < backlog) {
		list_add_tail(&c->queue_node, &l->syn_queue);
		c->queue = MIGTCP_QUEUE_SYN;
		l->queued++;
		l->syn_queued++;
		queued = true;
	}
	spin_unlock_bh(&l->accept_lock);
	return queued;
}

/* Whether the SYN in @skb, with options @opts, comes from its node. */
static bool migtcp_syn_source_ok(struct net *net, const struct sk_buff *skb,
				 const struct migtcp_syn_opts *opts)
{
	u32 node = ntohl(migtcp_hdr(skb)->src_node);
	struct in6_addr saddr;

	if (opts->host_node && opts->host_node != node) {
		if (!READ_ONCE(migtcp_pernet(net)->node.key_set))
			return false;
		node = opts->host_node;
	}
	/*
	 * This node's own segments come over loopback.  IPv4 drops a
	 * packet from outside with a local source as a martian; IPv6 does
	 * not, so the device says it.
	 */
	if (node == READ_ONCE(migtcp_pernet(net)->node.id) &&
	    !(skb->dev->flags & IFF_LOOPBACK))
		return false;
	migtcp_skb_saddr(skb, &saddr);
	return migtcp_node_has_addr(net, node, &saddr);
}

/*
 * Whether @skb is a SYN that a node would answer: with a usable key
 * exchange, from the node it names (counted in InKxErrors or
 * InSynBadSource if not).  A departed listener's REDIRECT tells where the
 * listener went: only such callers learn it, and only they can spend the
 * node's budget of answers.
 */
bool migtcp_syn_from_member(struct net *net, const struct sk_buff *skb)
{
	struct migtcp_syn_opts opts;

	if ((migtcp_hdr(skb)->flags & htons(MIGTCP_F_SYN | MIGTCP_F_ACK)) !=
	    htons(MIGTCP_F_SYN))
		return false;
	migtcp_parse_syn_opts(skb, &opts);
	if (!opts.kx_half) {
		MIGTCP_INC_STATS(net, MIGTCP_STAT_IN_KX_ERRORS);
		return false;
	}
	if (!migtcp_syn_source_ok(net, skb, &opts)) {
		MIGTCP_INC_STATS(net, MIGTCP_STAT_IN_SYN_BAD_SOURCE);
		return false;
	}
	return true;
}

/* Whether listener @lsk's accept queue is full. */
static bool migtcp_accept_queue_full(const struct sock *lsk)
{
	const struct migtcp_sock *l = migtcp_sk(lsk);

	return READ_ONCE(l->queued) - READ_ONCE(l->syn_queued) >=
	       migtcp_listen_backlog(lsk);
}

/*
 * Makes @child, just allocated for listener @lsk, findable: its port and
 * its 4-tuple.  On failure it is unqueued and dropped.  @child is locked.
 */
static bool migtcp_child_hash(struct sock *child)
{
	/*
	 * Only a queued child takes its port and becomes findable: should
	 * the listener close now, its close() waits for the child's lock
	 * (held here) and then unhashes it as it drops it.
	 */
	if ((!migtcp_sk(child)->mig.foreign &&
	     migtcp_port_hold(child, migtcp_sk(child)->local_port)) ||
	    migtcp_conn_hash(child)) {
		/*
		 * The same SYN (or ACK), twice at once: the other copy won.
		 * Or a table could not grow (an atomic allocation).
		 */
		if (migtcp_child_unqueue(child))
			migtcp_child_discard(child, false);
		return false;
	}
	return true;
}

/*
 * Puts @child, just allocated for listener @lsk from @skb, in the
 * listener's queue (migtcp_child_queue(), @cookie as there) and its
 * tables (migtcp_child_hash()).  On failure @child is dropped, and @skb
 * counted in ListenDrops if the queue refused it.  @child is locked.
 */
static bool migtcp_child_enter(struct sock *lsk, struct sock *child,
			       struct sk_buff *skb, bool cookie)
{
	if (!migtcp_child_queue(lsk, child, cookie)) {
		migtcp_drop(sock_net(lsk), skb, MIGTCP_STAT_LISTEN_DROPS);
		migtcp_child_discard(child, false);
		return false;
	}
	return migtcp_child_hash(child);
}

/*
 * An ACK for listener @lsk that matches no connection: the answer to a
 * SYN cookie (syncookie.c), or a segment nobody takes.  A good answer
 * makes an established connection, queued for accept() at once.
 */
static void migtcp_listen_ack(struct sock *lsk, struct sk_buff *skb)
{
	struct net *net = sock_net(lsk);
	u8 half[MIGTCP_KX_HALF_LEN];
	struct migtcp_syn_opts opts;
	enum migtcp_stat verdict;
	struct migtcp_sock *c;
	struct sock *child;

	migtcp_parse_syn_opts(skb, &opts);
	/* As its SYN's, the ACK's source must be its node's (or host's). */
	if (opts.kx_half && !migtcp_syn_source_ok(net, skb, &opts)) {
		migtcp_drop(net, skb, MIGTCP_STAT_IN_SYN_BAD_SOURCE);
		migtcp_send_reset(net, skb);
		return;
	}
	/* Full: dropped before any hashing; the sender repeats its ACK. */
	if (opts.kx_half && READ_ONCE(migtcp_syncookies) &&
	    migtcp_accept_queue_full(lsk)) {
		migtcp_drop(net, skb, MIGTCP_STAT_LISTEN_DROPS);
		return;
	}
	verdict = migtcp_cookie_check(net, skb, &opts, half);
	if (verdict != MIGTCP_STAT_SYNCOOKIES_RECV) {
		migtcp_drop(net, skb, verdict);
		migtcp_send_reset(net, skb);
		return;
	}
	child = migtcp_child_alloc(lsk, skb, &opts, half);
	memzero_explicit(half, sizeof(half));
	if (!child) {
		migtcp_drop(net, skb, MIGTCP_STAT_LISTEN_DROPS);
		return;
	}
	c = migtcp_sk(child);
	/* The allocation's reference is the queue's; this one is ours. */
	sock_hold(child);
	bh_lock_sock(child);
	if (migtcp_kx_complete(child, c->kx.peer_half, c->kx.peer_flags)) {
		migtcp_drop(net, skb, MIGTCP_STAT_LISTEN_DROPS);
		migtcp_child_discard(child, false);
		goto out;
	}
	memzero_explicit(c->kx.proof, sizeof(c->kx.proof));
	c->snd_una = c->snd_nxt;
	c->snd_max = c->snd_nxt;
	c->snd_wnd = (u32)ntohs(migtcp_hdr(skb)->window) << c->snd_wscale;
	c->snd_wl1 = c->irs + 1;
	c->max_window = c->snd_wnd;
	migtcp_established(child);
	if (!migtcp_child_enter(lsk, child, skb, true))
		goto out;
	MIGTCP_INC_STATS(net, MIGTCP_STAT_SYNCOOKIES_RECV);
	migtcp_keepalive_reset(child);
	/* The connecting side holds its data until it hears from us. */
	migtcp_send_ack(child);
	migtcp_child_established(child);
out:
	bh_unlock_sock(child);
	sock_put(child);
}

/*
 * A segment for listener @lsk that matches no connection.  Only a SYN
 * opens one; at most the backlog's worth wait, further SYNs are dropped
 * so that their senders retry.
 */
void migtcp_listen_rcv(struct sock *lsk, struct sk_buff *skb)
{
	struct net *net = sock_net(lsk);
	struct migtcp_syn_opts opts;
	struct sock *child;
	u32 backlog;

	if (!(migtcp_hdr(skb)->flags & htons(MIGTCP_F_SYN))) {
		migtcp_listen_ack(lsk, skb);
		return;
	}
	/*
	 * A SYN without a usable key exchange opens a connection that could
	 * never be authenticated: it is refused as if nobody listened, so
	 * that the caller fails at once instead of retrying for minutes.
	 */
	migtcp_parse_syn_opts(skb, &opts);
	if (!opts.kx_half) {
		migtcp_drop(net, skb, MIGTCP_STAT_IN_KX_ERRORS);
		migtcp_send_reset(net, skb);
		return;
	}
	/*
	 * The SYN must come from the address of the node it claims
	 * (docs/protocol.md, "Security"): without a cluster key that is the
	 * only proof of a node id there is, and with one it keeps key
	 * holders from simply claiming each other's ids.  An endpoint that
	 * migrated away from its home names the node it runs on (the host
	 * option) and must come from there; that claim can only be taken
	 * from a cluster member proven by the key.  Refused as by a closed
	 * port, so that a misconfigured node's connect() fails at once.
	 */
	if (!migtcp_syn_source_ok(net, skb, &opts)) {
		migtcp_drop(net, skb, MIGTCP_STAT_IN_SYN_BAD_SOURCE);
		migtcp_send_reset(net, skb);
		return;
	}

	/*
	 * A full queue costs no child (an atomic allocation, random bytes,
	 * a route): checked first without the lock, as TCP checks its
	 * request queue, and again with it when the child is queued.  When
	 * handshakes in progress fill it, a SYN cookie answers, which
	 * costs nothing to keep (syncookie.c); a full accept queue takes
	 * nobody, as TCP's.
	 */
	backlog = migtcp_listen_backlog(lsk);
	if (migtcp_accept_queue_full(lsk)) {
		migtcp_drop(net, skb, MIGTCP_STAT_LISTEN_DROPS);
		return;
	}
	if (migtcp_want_cookie(lsk, backlog)) {
		migtcp_cookie_synack(lsk, skb, &opts);
		return;
	}
	if (READ_ONCE(migtcp_sk(lsk)->queued) >= backlog) {
		migtcp_drop(net, skb, MIGTCP_STAT_LISTEN_DROPS);
		return;
	}
	child = migtcp_child_alloc(lsk, skb, &opts, NULL);
	if (!child) {
		migtcp_drop(net, skb, MIGTCP_STAT_LISTEN_DROPS);
		return;
	}
	/* The allocation's reference is the queue's; this one is ours. */
	sock_hold(child);
	bh_lock_sock(child);
	if (!migtcp_child_enter(lsk, child, skb, false))
		goto out;
	migtcp_send_ctl(child, MIGTCP_F_SYN | MIGTCP_F_ACK, migtcp_sk(child)->iss);
	migtcp_arm_retransmit(child);
out:
	bh_unlock_sock(child);
	sock_put(child);
}
