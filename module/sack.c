// SPDX-License-Identifier: GPL-2.0
/*
 * Selective acknowledgments (RFC 2018) and their duplicate report
 * (D-SACK, RFC 2883), negotiated with the SACK permitted option of both
 * SYNs (docs/protocol.md, "SACK permitted and SACK").
 *
 * The receiving side keeps up to MIGTCP_SACK_BLOCKS blocks of data held
 * out of order, the one of the latest segment first, then the others in
 * the order they last changed (RFC 2018 4), as Linux keeps
 * tp->selective_acks; a block that two segments join is one.  A segment
 * that brings nothing new is reported once as a D-SACK block, ahead of
 * them.  Pure ACKs carry them.
 *
 * The sending side checks the blocks it receives (RFC 2883 4, RFC 2018
 * 3: within what it sent, beyond what is acknowledged or, for a D-SACK,
 * below it), counts them, and marks what they cover in its write queue
 * (the scoreboard: skbs split at the blocks' edges).  Fast recovery then
 * follows RFC 6675: a segment is lost once RACK finds it so (rack.c), or
 * without RACK once more than two segments' worth of data above it is
 * SACKed; what is in flight (the pipe) counts neither
 * SACKed nor lost segments, but retransmitted ones; while the pipe is
 * below the congestion window, lost segments go again in sequence order,
 * and then new data.  A timeout forgets the scoreboard (RFC 2018 8: the
 * receiver may have dropped what it SACKed).
 */
#include <linux/moduleparam.h>
#include <linux/sort.h>

#include "migtcp.h"

/*
 * Whether SYNs offer SACK (as net.ipv4.tcp_sack): a connection uses it
 * only if both offered it.  Read when a SYN is made or answered.
 */
static unsigned int migtcp_sack_param = 1;
module_param_named(sack, migtcp_sack_param, uint, 0644);
MODULE_PARM_DESC(sack, "offer selective acknowledgments in SYNs: 1 (default) or 0");

bool migtcp_sack_enabled(void)
{
	return READ_ONCE(migtcp_sack_param) != 0;
}

/* Whether @b and [@seq, @end) overlap or touch: they make one block. */
static bool migtcp_sack_touches(const struct migtcp_sack_block *b, u32 seq,
				u32 end)
{
	return !migtcp_after(seq, b->end) && !migtcp_after(b->start, end);
}

/*
 * [@seq, @end) is now held out of order: its block (joined with those it
 * touches) becomes the first, the others follow in their order; the
 * oldest falls off when there are too many.
 */
void migtcp_sack_new_ofo(struct sock *sk, u32 seq, u32 end)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_sack_block rest[MIGTCP_SACK_BLOCKS];
	struct migtcp_sack_block block = { .start = seq, .end = end };
	unsigned int i, n = 0;

	if (!msk->sack_ok)
		return;
	for (i = 0; i < msk->sack_blocks; i++) {
		const struct migtcp_sack_block *b = &msk->sacks[i];

		if (!migtcp_sack_touches(b, seq, end)) {
			rest[n++] = *b;
			continue;
		}
		if (migtcp_before(b->start, block.start))
			block.start = b->start;
		if (migtcp_after(b->end, block.end))
			block.end = b->end;
	}
	n = min_t(unsigned int, n, MIGTCP_SACK_BLOCKS - 1);
	msk->sacks[0] = block;
	memcpy(&msk->sacks[1], rest, n * sizeof(rest[0]));
	msk->sack_blocks = n + 1;
}

/*
 * RCV.NXT moved: blocks it passed are acknowledged (they went into the
 * stream with the gap's data) and go.
 */
void migtcp_sack_advance(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	unsigned int i, n = 0;

	for (i = 0; i < msk->sack_blocks; i++) {
		struct migtcp_sack_block b = msk->sacks[i];

		if (!migtcp_after(b.end, msk->rcv_nxt))
			continue;
		if (migtcp_before(b.start, msk->rcv_nxt))
			b.start = msk->rcv_nxt;
		msk->sacks[n++] = b;
	}
	msk->sack_blocks = n;
}

/*
 * The out-of-order queue was dropped (memory pressure, a restore, the
 * end of the connection): no block may claim what is no longer held
 * (RFC 2018 8: the sender keeps what was SACKed until it is ACKed).
 */
void migtcp_sack_reset(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->sack_blocks = 0;
	msk->dsack = false;
}

/* [@seq, @end) came again: the next ACK reports it (RFC 2883 4). */
void migtcp_sack_dup(struct sock *sk, u32 seq, u32 end)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (!msk->sack_ok || !migtcp_before(seq, end))
		return;
	msk->dsack_block.start = seq;
	msk->dsack_block.end = end;
	msk->dsack = true;
}

/* Blocks the next pure ACK carries: the D-SACK one first. */
static unsigned int migtcp_sack_count(const struct migtcp_sock *msk)
{
	return min_t(unsigned int, msk->dsack + msk->sack_blocks,
		     MIGTCP_SACK_BLOCKS);
}

/* Bytes the SACK option of the next pure ACK takes, NOPs included. */
unsigned int migtcp_sack_optlen(const struct sock *sk)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	unsigned int n = migtcp_sack_count(msk);

	return n ? MIGTCP_SACK_OPT_ALIGNED(n) : 0;
}

/*
 * Writes NOP, NOP and the SACK option of migtcp_sack_optlen() bytes at
 * @opt.  A D-SACK block goes once.
 */
void migtcp_sack_write_opt(struct sock *sk, u8 *opt, unsigned int optlen)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	unsigned int n = (optlen - 4) / MIGTCP_SACK_BLOCK_LEN, i = 0;
	struct net *net = sock_net(sk);
	u8 *p = opt + 4;

	opt[0] = MIGTCP_OPT_NOP;
	opt[1] = MIGTCP_OPT_NOP;
	opt[2] = MIGTCP_OPT_SACK;
	opt[3] = 2 + n * MIGTCP_SACK_BLOCK_LEN;
	if (msk->dsack && n) {
		put_unaligned_be32(msk->dsack_block.start, p);
		put_unaligned_be32(msk->dsack_block.end, p + 4);
		p += MIGTCP_SACK_BLOCK_LEN;
		msk->dsack = false;
		MIGTCP_INC_STATS(net, MIGTCP_STAT_OUT_DSACKS);
		n--;
	}
	for (; i < n && i < msk->sack_blocks; i++) {
		put_unaligned_be32(msk->sacks[i].start, p);
		put_unaligned_be32(msk->sacks[i].end, p + 4);
		p += MIGTCP_SACK_BLOCK_LEN;
	}
	MIGTCP_ADD_STATS(net, MIGTCP_STAT_OUT_SACK_BLOCKS, i);
}

/*
 * The first SACK option of the right length in @skb, a segment without
 * SYN whose options area the receive path checked: its blocks and their
 * number; NULL if none.
 */
static const u8 *migtcp_sack_find(const struct sk_buff *skb, unsigned int *n)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	const u8 *opt = (const u8 *)(mh + 1);
	const u8 *end = (const u8 *)mh + mh->doff * 4;

	while (opt < end && *opt != MIGTCP_OPT_EOL) {
		if (*opt == MIGTCP_OPT_NOP) {
			opt++;
			continue;
		}
		if (opt[0] == MIGTCP_OPT_SACK) {
			/* A wrong length is ignored, as the first one wins. */
			if (opt[1] < 2 + MIGTCP_SACK_BLOCK_LEN ||
			    (opt[1] - 2) % MIGTCP_SACK_BLOCK_LEN)
				return NULL;
			*n = (opt[1] - 2) / MIGTCP_SACK_BLOCK_LEN;
			return opt + 2;
		}
		opt += opt[1];
	}
	return NULL;
}

/*
 * Marks the data of the write queue that [@start, @end) covers as SACKed,
 * splitting skbs at its edges (an skb that cannot be split stays
 * unmarked: it is sent again, which costs bytes, never correctness).
 */
static void migtcp_sack_tag(struct sock *sk, u32 start, u32 end)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct sk_buff_head *q = &sk->sk_write_queue;
	struct sk_buff *skb = skb_peek(q);

	while (skb) {
		struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);
		u32 data_end = cb->seq + skb->len;

		if (!migtcp_before(cb->seq, end))
			break;
		if (!skb->len || (cb->sacked & MIGTCP_SKB_SACKED) ||
		    !migtcp_after(data_end, start))
			goto next;
		/* The front is not covered: the rest is looked at next. */
		if (migtcp_before(cb->seq, start)) {
			migtcp_split(sk, skb, start - cb->seq);
			goto next;
		}
		if (migtcp_after(data_end, end)) {
			if (migtcp_split(sk, skb, end - cb->seq))
				goto next;
			data_end = end;
		}
		if (!msk->sacked_bytes || migtcp_after(data_end, msk->high_sacked))
			msk->high_sacked = data_end;
		migtcp_rack_delivered(sk, skb);
		cb->sacked |= MIGTCP_SKB_SACKED;
		msk->sacked_bytes += skb->len;
next:
		skb = skb_queue_is_last(q, skb) ? NULL : skb->next;
	}
}

/* @skb leaves the write queue (acknowledged): off the scoreboard too. */
void migtcp_sack_unlink(struct sock *sk, const struct sk_buff *skb)
{
	if (MIGTCP_SKB_CB(skb)->sacked & MIGTCP_SKB_SACKED)
		migtcp_sk(sk)->sacked_bytes -= skb->len;
}

/*
 * Clears @bits of every queued skb: MIGTCP_SKB_RETRANS when a recovery
 * ends, both at a timeout (the scoreboard is forgotten).
 */
void migtcp_sack_clear(struct sock *sk, u8 bits)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb)
		MIGTCP_SKB_CB(skb)->sacked &= ~bits;
	if (bits & MIGTCP_SKB_SACKED)
		msk->sacked_bytes = 0;
}

/*
 * Duplicates that make a loss until an undo raises it (RFC 5681), and
 * the most it is raised to (Linux's net.ipv4.tcp_max_reordering).
 */
#define MIGTCP_REORDERING_INIT	3
#define MIGTCP_REORDERING_MAX	300

unsigned int migtcp_reordering(const struct migtcp_sock *msk)
{
	return msk->reordering ?: MIGTCP_REORDERING_INIT;
}

/*
 * RFC 6675 IsLost() for data with @sacked_above bytes SACKed above it:
 * more than DupThresh - 1 segments' worth, DupThresh being what
 * reordering the path has shown (3 until an undo).
 */
static bool migtcp_sack_is_lost(const struct migtcp_sock *msk,
				u32 sacked_above)
{
	return sacked_above > (migtcp_reordering(msk) - 1) * msk->mss;
}

/*
 * Counts a duplicate acknowledgment: true when they reach DupThresh,
 * three or as many as the path reorders (an undo raised it).
 */
bool migtcp_count_dupack(struct migtcp_sock *msk)
{
	return ++msk->dup_acks == migtcp_reordering(msk);
}

/* @skb went again in a recovery: in the pipe, and to be D-SACKed. */
void migtcp_sack_retransmitted(struct sock *sk, struct sk_buff *skb)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	MIGTCP_SKB_CB(skb)->sacked |= MIGTCP_SKB_RETRANS;
	if (msk->undo_armed)
		msk->undo_retrans++;
}

/*
 * A fast recovery begins (before the window shrinks): what to undo it
 * to, should every retransmission of it be D-SACKed.
 */
void migtcp_sack_recovery_start(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->undo_armed = msk->sack_ok;
	msk->undo_retrans = 0;
	msk->undo_start = msk->snd_una;
	msk->undo_end = msk->snd_max;
	msk->prior_cwnd = msk->cwnd;
	msk->prior_ssthresh = msk->ssthresh;
	msk->undo_degree = msk->sacked_bytes ?
		(msk->high_sacked - msk->snd_una) / max_t(u32, msk->mss, 1) :
		msk->dup_acks;
}

/*
 * Every retransmission of the recovery came back as a duplicate: nothing
 * was lost, the segments were late.  The window is what it was before
 * (as tcp_undo_cwnd_reduction()), and the path's reordering is taken to
 * be at least what started the recovery (and twice what it was), so that
 * as much reordering makes no recovery again (as tcp_check_sack_reordering()).
 */
static void migtcp_sack_undo(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->cwnd = max(msk->cwnd, msk->prior_cwnd);
	msk->ssthresh = max(msk->ssthresh, msk->prior_ssthresh);
	msk->undo_armed = false;
	msk->rack_reord_seen = true;
	msk->reordering = min_t(u32, max_t(u32, 2 * migtcp_reordering(msk),
					   msk->undo_degree + 1),
				MIGTCP_REORDERING_MAX);
	MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_DSACK_UNDO);
}

/* The recovery is over: undone if its D-SACKs came already. */
void migtcp_sack_recovery_end(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	migtcp_sack_clear(sk, MIGTCP_SKB_RETRANS | MIGTCP_SKB_LOST);
	migtcp_rack_recovery_end(sk);
	if (msk->undo_armed && msk->undo_retrans <= 0)
		migtcp_sack_undo(sk);
}

/*
 * A D-SACK block [@start, @end): a retransmission of the recovery that
 * could be undone arrived twice.  Once all did, the recovery is undone
 * (at its end, if it is still going on).
 */
static void migtcp_sack_dsack(struct sock *sk, u32 start, u32 end)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	migtcp_rack_dsack(sk);
	migtcp_tlp_dsack(sk, start, end);
	if (!msk->undo_armed || migtcp_before(start, msk->undo_start) ||
	    migtcp_after(end, msk->undo_end))
		return;
	msk->undo_retrans -= DIV_ROUND_UP(end - start, max_t(u32, msk->mss, 1));
	if (msk->undo_retrans <= 0 && !msk->in_recovery)
		migtcp_sack_undo(sk);
}

/*
 * A timeout, or a migration that sends everything again: the scoreboard
 * is forgotten (RFC 2018 8: the receiver may have dropped what it
 * SACKed), and no recovery is undone any more.
 */
void migtcp_sack_forget(struct sock *sk)
{
	migtcp_sack_clear(sk, MIGTCP_SKB_SACKED | MIGTCP_SKB_RETRANS |
			  MIGTCP_SKB_LOST);
	migtcp_sk(sk)->undo_armed = false;
}

/* Whether the first unacknowledged segment is lost (RFC 6675 IsLost). */
bool migtcp_sack_head_lost(const struct sock *sk)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	const struct sk_buff *skb = skb_peek(&sk->sk_write_queue);

	return msk->sack_ok && skb &&
	       !(MIGTCP_SKB_CB(skb)->sacked & MIGTCP_SKB_SACKED) &&
	       migtcp_sack_is_lost(msk, msk->sacked_bytes);
}

/*
 * Whether the unSACKed segment of @cb, with @sacked_above bytes SACKed
 * above it, is lost: as RACK marked it (rack.c), else RFC 6675 IsLost().
 */
static bool migtcp_seg_lost(const struct migtcp_sock *msk,
			    const struct migtcp_skb_cb *cb, u32 sacked_above)
{
	if (migtcp_rack_on(msk))
		return cb->sacked & MIGTCP_SKB_LOST;
	return migtcp_sack_is_lost(msk, sacked_above);
}

/*
 * RFC 6675 SetPipe(), in bytes: of the data sent, what is neither SACKed
 * nor lost, and again what was retransmitted.
 */
u32 migtcp_sack_pipe(const struct sock *sk)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	u32 pipe = 0, above = msk->sacked_bytes;
	const struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		const struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);

		if (!migtcp_before(cb->seq, msk->snd_nxt))
			break;
		if (cb->sacked & MIGTCP_SKB_SACKED) {
			above -= skb->len;
			continue;
		}
		if (!migtcp_seg_lost(msk, cb, above))
			pipe += skb->len;
		if (cb->sacked & MIGTCP_SKB_RETRANS)
			pipe += skb->len;
	}
	return pipe;
}

/*
 * Sends lost @skb again, an MSS of it at most, in a recovery: 0, or the
 * error.
 */
int migtcp_resend_seg(struct sock *sk, struct sk_buff *skb)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);
	int err;

	if (skb->len > msk->mss)
		migtcp_split(sk, skb, msk->mss);
	/* Karn: the sample is void only if the timed bytes go again. */
	if (!migtcp_before(cb->end_seq, msk->rtt_seq))
		msk->rtt_start = 0;
	err = migtcp_transmit(sk, skb);
	if (!err)
		migtcp_sack_retransmitted(sk, skb);
	return err;
}

/*
 * Whether @skb is lost and not sent again yet, with @above bytes SACKed
 * above it; RACK's marks are anywhere in flight, RFC 6675's below the
 * highest SACKed byte.
 */
static bool migtcp_sack_to_resend(const struct migtcp_sock *msk,
				  const struct sk_buff *skb, u32 above)
{
	const struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);

	return !(cb->sacked & (MIGTCP_SKB_SACKED | MIGTCP_SKB_RETRANS)) &&
	       migtcp_seg_lost(msk, cb, above);
}

/*
 * RFC 6675 (C) and NextSeg() rule 1: while the pipe leaves room in the
 * congestion window, the lost segments go again, a segment at a time,
 * lowest first; migtcp_push() then sends new data with what room is
 * left.
 */
void migtcp_sack_recover(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u64 cwnd_bytes = (u64)msk->cwnd * msk->mss;
	struct sk_buff_head *q = &sk->sk_write_queue;
	u32 pipe = migtcp_sack_pipe(sk), above = msk->sacked_bytes;
	bool rack = migtcp_rack_on(msk);
	struct sk_buff *skb = skb_peek(q);

	while (skb && pipe < cwnd_bytes && (rack || msk->sacked_bytes)) {
		struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);

		if (!migtcp_before(cb->seq, rack ? msk->snd_nxt :
						   msk->high_sacked))
			break;
		if (cb->sacked & MIGTCP_SKB_SACKED) {
			above -= skb->len;
		} else if (migtcp_sack_to_resend(msk, skb, above)) {
			if (migtcp_resend_seg(sk, skb))
				break;
			pipe += skb->len;
		}
		skb = skb_queue_is_last(q, skb) ? NULL : skb->next;
	}
}

/*
 * A recovery begins with RACK (RFC 6675 4 step 4.3, as the first
 * unacknowledged segment without it): the first segment RACK found
 * lost goes at once, whatever the pipe; then what the pipe allows.
 */
void migtcp_sack_recover_first(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u32 above = msk->sacked_bytes;
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		if (!migtcp_before(MIGTCP_SKB_CB(skb)->seq, msk->snd_nxt))
			break;
		if (MIGTCP_SKB_CB(skb)->sacked & MIGTCP_SKB_SACKED) {
			above -= skb->len;
		} else if (migtcp_sack_to_resend(msk, skb, above)) {
			migtcp_resend_seg(sk, skb);
			break;
		}
	}
	migtcp_sack_recover(sk);
}

/* Most blocks one option can hold: its length is a byte. */
#define MIGTCP_SACK_BLOCKS_MAX	((255 - 2) / MIGTCP_SACK_BLOCK_LEN)

static int migtcp_sack_block_cmp(const void *a, const void *b)
{
	const struct migtcp_sack_block *x = a, *y = b;

	if (x->start == y->start)
		return 0;
	return migtcp_before(x->start, y->start) ? -1 : 1;
}

/*
 * The SACK blocks of @skb, an acceptable ACK of @ack: each is counted as
 * a D-SACK (RFC 2883 4: the first block, below @ack or inside the second
 * block), as a SACK block (after @ack, up to what we sent), or as
 * invalid (anything else, which is then ignored, as Linux's
 * tcp_is_sackblock_valid() does).  The SACK blocks mark the scoreboard
 * lowest first (the order in which they came is the receiver's, newest
 * first), so that RACK sees data delivered below data delivered before
 * only when it was.
 */
void migtcp_sack_rcv(struct sock *sk, const struct sk_buff *skb, u32 ack)
{
	struct migtcp_sack_block blocks[MIGTCP_SACK_BLOCKS_MAX];
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct net *net = sock_net(sk);
	unsigned int n, i, nb = 0;
	const u8 *p;

	if (!msk->sack_ok || migtcp_hdr(skb)->doff <= MIGTCP_HDR_MIN_DOFF)
		return;
	p = migtcp_sack_find(skb, &n);
	if (!p)
		return;
	for (i = 0; i < n; i++, p += MIGTCP_SACK_BLOCK_LEN) {
		u32 start = get_unaligned_be32(p);
		u32 end = get_unaligned_be32(p + 4);
		bool dsack = false;

		if (i == 0) {
			if (!migtcp_after(end, ack)) {
				dsack = true;
			} else if (n > 1) {
				u32 s2 = get_unaligned_be32(p + 8);
				u32 e2 = get_unaligned_be32(p + 12);

				dsack = !migtcp_before(start, s2) &&
					!migtcp_after(end, e2);
			}
		}
		if (!migtcp_before(start, end) ||
		    migtcp_after(end, msk->snd_max) ||
		    (!dsack && migtcp_before(start, ack)) ||
		    migtcp_before(start, msk->snd_una - msk->max_window)) {
			MIGTCP_INC_STATS(net, MIGTCP_STAT_IN_SACK_INVALID);
			continue;
		}
		if (dsack) {
			MIGTCP_INC_STATS(net, MIGTCP_STAT_IN_DSACKS);
			migtcp_sack_dsack(sk, start, end);
			continue;
		}
		MIGTCP_INC_STATS(net, MIGTCP_STAT_IN_SACK_BLOCKS);
		if (nb < MIGTCP_SACK_BLOCKS_MAX) {
			blocks[nb].start = start;
			blocks[nb++].end = end;
		}
	}
	sort(blocks, nb, sizeof(blocks[0]), migtcp_sack_block_cmp, NULL);
	for (i = 0; i < nb; i++)
		migtcp_sack_tag(sk, blocks[i].start, blocks[i].end);
}
