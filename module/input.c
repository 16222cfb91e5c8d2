// SPDX-License-Identifier: GPL-2.0
/*
 * Segment processing for a connection, by state (RFC 9293 3.10.7), and
 * the passive open: a listener answers a SYN with a new connection in
 * SYN_RECV that waits in its queues until accept().
 *
 * Data and FIN are not processed yet: a connection only ends by a reset.
 */
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/tcp_states.h>
#include <asm/unaligned.h>

#include "migtcp.h"

/* RFC 9293 3.7.1: the MSS to assume when a SYN names none. */
#define MIGTCP_DEFAULT_MSS	536

/* The MSS a SYN offers, from its options (validated by receive.c). */
static u16 migtcp_parse_mss(const struct sk_buff *skb)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	const u8 *opt = (const u8 *)(mh + 1);
	const u8 *end = (const u8 *)mh + mh->doff * 4;

	while (opt < end && *opt != MIGTCP_OPT_EOL) {
		if (*opt == MIGTCP_OPT_NOP) {
			opt++;
			continue;
		}
		if (end - opt < 2 || opt[1] < 2 || opt[1] > end - opt)
			break;
		if (opt[0] == MIGTCP_OPT_MSS && opt[1] == MIGTCP_OPTLEN_MSS)
			return max_t(u16, get_unaligned_be16(opt + 2), 1);
		opt += opt[1];
	}
	return MIGTCP_DEFAULT_MSS;
}

/*
 * The connection is over: no timer, not findable, the port given back
 * unless the user bound it, and waiters told (with @err if non-zero).
 * The socket is locked.
 */
void migtcp_done(struct sock *sk, int err)
{
	migtcp_stop_retransmit(sk);
	migtcp_conn_unhash(sk);
	if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK))
		migtcp_port_unbind(sk);
	sk->sk_shutdown = SHUTDOWN_MASK;
	migtcp_set_state(sk, TCP_CLOSE);
	if (err) {
		WRITE_ONCE(sk->sk_err, err);
		sk_error_report(sk);
	}
	sk->sk_state_change(sk);
}

/* Ends the connection at once, with a reset if the peer knows of it. */
void migtcp_abort(struct sock *sk, bool send_rst)
{
	int state = sk->sk_state;

	if (send_rst && (state == TCP_ESTABLISHED || state == TCP_SYN_RECV))
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

/* Stops listening: every queued connection is reset and dropped. */
void migtcp_listen_stop(struct sock *lsk)
{
	struct migtcp_sock *l = migtcp_sk(lsk), *c, *tmp;
	LIST_HEAD(children);

	spin_lock_bh(&l->accept_lock);
	migtcp_set_state(lsk, TCP_CLOSE);
	list_splice_init(&l->syn_queue, &children);
	list_splice_tail_init(&l->accept_queue, &children);
	list_for_each_entry(c, &children, queue_node)
		c->queue = MIGTCP_QUEUE_NONE;
	l->queued = 0;
	spin_unlock_bh(&l->accept_lock);

	list_for_each_entry_safe(c, tmp, &children, queue_node) {
		struct sock *child = &c->sk;

		list_del_init(&c->queue_node);
		sock_hold(child);
		lock_sock(child);
		migtcp_child_discard(child, true);
		release_sock(child);
		sock_put(child);
	}
}

/* RFC 5961: answer a suspicious RST or SYN with an ACK, not a reset. */
static void migtcp_challenge_ack(struct sock *sk)
{
	migtcp_send_ctl(sk, MIGTCP_F_ACK, migtcp_sk(sk)->snd_nxt);
}

static void migtcp_rcv_syn_sent(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	u16 flags = ntohs(mh->flags);

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

	msk->irs = ntohl(mh->seq);
	msk->rcv_nxt = msk->irs + 1;
	msk->snd_una = msk->snd_nxt;
	msk->mss = min(msk->mss, migtcp_parse_mss(skb));
	migtcp_stop_retransmit(sk);
	migtcp_set_state(sk, TCP_ESTABLISHED);
	migtcp_send_ctl(sk, MIGTCP_F_ACK, msk->snd_nxt);
	sk->sk_state_change(sk);
}

static void migtcp_rcv_syn_recv(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	u16 flags = ntohs(mh->flags);
	u32 seq = ntohl(mh->seq);

	if (flags & MIGTCP_F_RST) {
		if (seq == msk->rcv_nxt)
			migtcp_child_give_up(sk);
		return;
	}
	if (flags & MIGTCP_F_SYN) {
		/* The peer did not hear our SYN-ACK: say it again. */
		if (seq == msk->irs)
			migtcp_send_ctl(sk, MIGTCP_F_SYN | MIGTCP_F_ACK,
					msk->iss);
		return;
	}
	if (!(flags & MIGTCP_F_ACK))
		return;
	if (ntohl(mh->ack_seq) != msk->snd_nxt) {
		migtcp_send_reset(sock_net(sk), skb);
		return;
	}
	msk->snd_una = msk->snd_nxt;
	migtcp_stop_retransmit(sk);
	migtcp_set_state(sk, TCP_ESTABLISHED);
	migtcp_child_established(sk);
}

static void migtcp_rcv_established(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	u16 flags = ntohs(mh->flags);

	if (flags & MIGTCP_F_RST) {
		/* RFC 5961 3.2: only an exact sequence number resets. */
		if (ntohl(mh->seq) == msk->rcv_nxt)
			migtcp_done(sk, ECONNRESET);
		else
			migtcp_challenge_ack(sk);
		return;
	}
	if (flags & MIGTCP_F_SYN)
		migtcp_challenge_ack(sk);
}

/* A segment for @sk's connection; @sk is locked, the segment consumed. */
int migtcp_sock_rcv(struct sock *sk, struct sk_buff *skb)
{
	switch (sk->sk_state) {
	case TCP_SYN_SENT:
		migtcp_rcv_syn_sent(sk, skb);
		break;
	case TCP_SYN_RECV:
		migtcp_rcv_syn_recv(sk, skb);
		break;
	case TCP_ESTABLISHED:
		migtcp_rcv_established(sk, skb);
		break;
	default:
		/* Closed meanwhile: as for no endpoint at all. */
		migtcp_send_reset(sock_net(sk), skb);
		break;
	}
	consume_skb(skb);
	return 0;
}

/* A new connection for listener @lsk, answering the SYN in @skb. */
static struct sock *migtcp_child_alloc(struct sock *lsk,
				       const struct sk_buff *skb)
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
	child->sk_reuse = lsk->sk_reuse;
	child->sk_rcvbuf = READ_ONCE(lsk->sk_rcvbuf);
	child->sk_sndbuf = READ_ONCE(lsk->sk_sndbuf);

	c = migtcp_sk(child);
	c->local_node = l->local_node;
	c->local_port = l->local_port;
	c->remote_node = ntohl(mh->src_node);
	c->remote_port = ntohs(mh->src_port);
	/* Answer along the path the SYN came. */
	c->path_saddr = ip_hdr(skb)->daddr;
	c->path_daddr = ip_hdr(skb)->saddr;
	if (migtcp_route_path(child)) {
		sk_free(child);
		return NULL;
	}
	c->mss = min(c->mss, migtcp_parse_mss(skb));
	c->irs = ntohl(mh->seq);
	c->rcv_nxt = c->irs + 1;
	c->iss = migtcp_isn(c);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	child->sk_state = TCP_SYN_RECV;

	sock_hold(lsk);
	c->parent = lsk;
	migtcp_port_inherit(child, lsk);
	migtcp_net_link_sock(child);
	return child;
}

/* Queues @child on its listener unless the listener is full or gone. */
static bool migtcp_child_queue(struct sock *lsk, struct sock *child)
{
	struct migtcp_sock *l = migtcp_sk(lsk), *c = migtcp_sk(child);
	bool queued = false;

	spin_lock_bh(&l->accept_lock);
	if (lsk->sk_state == TCP_LISTEN &&
	    l->queued < max_t(u32, READ_ONCE(lsk->sk_max_ack_backlog), 1)) {
		list_add_tail(&c->queue_node, &l->syn_queue);
		c->queue = MIGTCP_QUEUE_SYN;
		l->queued++;
		queued = true;
	}
	spin_unlock_bh(&l->accept_lock);
	return queued;
}

/*
 * A segment for listener @lsk that matches no connection.  Only a SYN
 * opens one; at most the backlog's worth wait, further SYNs are dropped
 * so that their senders retry.
 */
void migtcp_listen_rcv(struct sock *lsk, struct sk_buff *skb)
{
	struct net *net = sock_net(lsk);
	struct sock *child;

	child = migtcp_child_alloc(lsk, skb);
	if (!child) {
		__MIGTCP_INC_STATS(net, MIGTCP_STAT_LISTEN_DROPS);
		return;
	}
	/* The allocation's reference is the queue's; this one is ours. */
	sock_hold(child);
	bh_lock_sock(child);
	if (!migtcp_child_queue(lsk, child)) {
		__MIGTCP_INC_STATS(net, MIGTCP_STAT_LISTEN_DROPS);
		migtcp_child_discard(child, false);
		goto out;
	}
	if (migtcp_conn_hash(child)) {
		/* The same SYN, twice at once: the other copy won. */
		if (migtcp_child_unqueue(child))
			migtcp_child_discard(child, false);
		goto out;
	}
	migtcp_send_ctl(child, MIGTCP_F_SYN | MIGTCP_F_ACK, migtcp_sk(child)->iss);
	migtcp_arm_retransmit(child);
out:
	bh_unlock_sock(child);
	sock_put(child);
}
