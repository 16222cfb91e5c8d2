// SPDX-License-Identifier: GPL-2.0
/*
 * RACK-TLP loss detection (RFC 8985) for connections with SACK.
 *
 * RACK judges a segment lost by time, not by counting duplicates: once a
 * segment sent after it has been delivered (acknowledged or SACKed), it
 * is lost if it is still missing a round trip of that later segment, plus
 * a reordering window, after it was sent.  The window is a quarter of the
 * minimum RTT, times a multiplier that D-SACKs raise; it is zero until
 * the path has shown reordering once the recovery has begun or DupThresh
 * segments are SACKed.  A segment not yet overdue arms the reorder
 * timer, which checks again when it would be.  A lost retransmission is
 * seen the same way.
 *
 * TLP (the tail loss probe) covers the losses at the end of a flight,
 * which no later segment can reveal: two smoothed RTTs after the last
 * send (more when one segment is out, whose ACK the peer may delay),
 * the last segment goes again.  Its ACK, or the SACK of it, lets RACK
 * see any other loss; a D-SACK of it shows that nothing was lost; an
 * ACK beyond it without one means it repaired a loss, and the window
 * shrinks as for one.
 *
 * Both use the connection timer (timers.c), which then waits for the
 * reorder timeout or the probe instead of the retransmission timeout,
 * and which the next ACK or send sets again.  Their state is local
 * (send times of this node's clock): a migration starts it over.
 */
#include <linux/moduleparam.h>

#include "migtcp.h"

static unsigned int migtcp_rack_param = 1;
module_param_named(rack, migtcp_rack_param, uint, 0644);
MODULE_PARM_DESC(rack,
		 "RACK-TLP loss detection on connections with SACK: 1 (default) or 0 (RFC 6675's DupThresh)");

/* How long the minimum RTT is remembered (Linux's tcp_min_rtt_wlen). */
#define MIGTCP_MIN_RTT_WIN	(300 * HZ)
/* How many recoveries a raised reorder window lasts (RFC 8985 6.2). */
#define MIGTCP_REO_PERSIST	16
#define MIGTCP_REO_MULT_MAX	255

/* The clock of send times, in microseconds. */
static u64 migtcp_clock_us(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_USEC);
}

bool migtcp_rack_on(const struct migtcp_sock *msk)
{
	return msk->sack_ok && READ_ONCE(migtcp_rack_param);
}

/* Nothing delivered or measured yet: a new connection, a new path. */
void migtcp_rack_reset(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->rack_xmit_us = 0;
	msk->rack_end_seq = 0;
	msk->rack_rtt_us = 0;
	msk->rack_fack_set = false;
	msk->rack_advanced = false;
	msk->rack_reord_seen = false;
	msk->rack_reo_mult = 1;
	msk->rack_reo_persist = 0;
	msk->rack_dsack_round_on = false;
	msk->rack_min_rtt = 0;
	msk->tlp_on = false;
}

/* @skb of the write queue goes now: its send time, and whether again. */
void migtcp_rack_sent(struct sock *sk, struct sk_buff *skb)
{
	struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);

	cb->xmit_us = migtcp_clock_us();
	if (migtcp_before(cb->seq, migtcp_sk(sk)->snd_max))
		cb->sacked |= MIGTCP_SKB_EVER_RETRANS;
}

/* Whether what was sent at @t1 and ends at @seq1 went after @t2, @seq2. */
static bool migtcp_rack_sent_after(u64 t1, u32 seq1, u64 t2, u32 seq2)
{
	return t1 > t2 || (t1 == t2 && migtcp_after(seq1, seq2));
}

/* The minimum RTT (µs) of the last window or so; 0 until one is measured. */
u32 migtcp_rack_min_rtt(const struct migtcp_sock *msk)
{
	return msk->rack_min_rtt;
}

/*
 * An RTT sample of @rtt µs: the minimum, unless the minimum is older
 * than the window (the path may have changed), when the sample replaces
 * it.  (Linux keeps the best three samples of the window instead, with
 * lib/minmax.c, whose minimum 6.1 does not export.)
 */
static void migtcp_rack_min_rtt_update(struct migtcp_sock *msk, u32 rtt)
{
	rtt = max_t(u32, rtt, 1);
	if (!msk->rack_min_rtt || rtt <= msk->rack_min_rtt ||
	    time_after(jiffies, msk->rack_min_rtt_stamp + MIGTCP_MIN_RTT_WIN)) {
		msk->rack_min_rtt = rtt;
		msk->rack_min_rtt_stamp = jiffies;
	}
}

/*
 * An ACK is being processed: what it delivers below the highest data
 * delivered before it (SND.UNA if none) came out of order.
 */
void migtcp_rack_ack_start(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->rack_prior_fack = msk->rack_fack_set ? msk->rack_fack :
						    msk->snd_una;
}

/*
 * The segment of @skb, not delivered before, is now (acknowledged or
 * SACKed; RFC 8985 6.2 steps 2 and 3): RACK's most recently sent
 * delivered segment may be this one, and a delivery below the highest
 * one delivered before this ACK, of data sent once, is reordering (as
 * Linux's prior_fack; the ACK's own SACK blocks, lowest first, and the
 * data it acknowledges below them are not).  A retransmitted
 * segment delivered sooner than the minimum RTT after its last send was
 * the original's delivery: its time says nothing.
 */
void migtcp_rack_delivered(struct sock *sk, const struct sk_buff *skb)
{
	const struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	bool again = cb->sacked & MIGTCP_SKB_EVER_RETRANS;
	u32 rtt;

	if (!msk->sack_ok || !cb->xmit_us)
		return;
	if (!again && migtcp_before(cb->end_seq, msk->rack_prior_fack))
		msk->rack_reord_seen = true;
	if (!msk->rack_fack_set || migtcp_after(cb->end_seq, msk->rack_fack)) {
		msk->rack_fack = cb->end_seq;
		msk->rack_fack_set = true;
	}
	rtt = min_t(u64, migtcp_clock_us() - cb->xmit_us, U32_MAX);
	if (again && rtt < migtcp_rack_min_rtt(msk))
		return;
	if (!again)
		migtcp_rack_min_rtt_update(msk, rtt);
	msk->rack_advanced = true;
	msk->rack_rtt_us = rtt;
	if (migtcp_rack_sent_after(cb->xmit_us, cb->end_seq,
				   msk->rack_xmit_us, msk->rack_end_seq)) {
		msk->rack_xmit_us = cb->xmit_us;
		msk->rack_end_seq = cb->end_seq;
	}
}

/*
 * A D-SACK came: our retransmissions were needless, the path reorders
 * more than the window allowed.  Once per round trip the multiplier
 * grows, for the next MIGTCP_REO_PERSIST recoveries (RFC 8985 6.2 step 4).
 */
void migtcp_rack_dsack(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->rack_reord_seen = true;
	if (msk->rack_dsack_round_on &&
	    migtcp_before(msk->snd_una, msk->rack_dsack_round))
		return;
	msk->rack_dsack_round = msk->snd_nxt;
	msk->rack_dsack_round_on = true;
	if (msk->rack_reo_mult < MIGTCP_REO_MULT_MAX)
		msk->rack_reo_mult++;
	msk->rack_reo_persist = MIGTCP_REO_PERSIST;
}

/* A recovery ended: a raised reorder window lasts only so many. */
void migtcp_rack_recovery_end(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (msk->rack_reo_persist && !--msk->rack_reo_persist)
		msk->rack_reo_mult = 1;
}

/* The smoothed RTT in microseconds (srtt is in jiffies, scaled by 8). */
static u32 migtcp_srtt_us(const struct migtcp_sock *msk)
{
	return jiffies_to_usecs(msk->srtt) >> 3;
}

/*
 * RFC 8985 6.2 step 4: the reordering window, in microseconds.  Without
 * reordering seen, none in a recovery or once DupThresh segments are
 * SACKed (a loss then is what it looks like).
 */
u32 migtcp_rack_reo_wnd(const struct sock *sk)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	u32 mss = max_t(u32, msk->mss, 1);

	if (!msk->rack_reord_seen &&
	    (msk->in_recovery ||
	     msk->sacked_bytes >= migtcp_reordering(msk) * mss))
		return 0;
	return min_t(u32, migtcp_rack_min_rtt(msk) / 4 * msk->rack_reo_mult,
		     migtcp_srtt_us(msk));
}

/*
 * RFC 8985 6.2 step 5: marks lost the segments in flight, not SACKed,
 * sent before RACK's segment and missing longer than its RTT plus the
 * reordering window (a retransmission too: it is then to go again).
 * How many were marked; in *@wait_us how long until the next of the
 * others would be overdue (0: none).
 */
static unsigned int migtcp_rack_detect(struct sock *sk, u32 *wait_us)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u32 reo_wnd = migtcp_rack_reo_wnd(sk), segs = 0;
	u64 now = migtcp_clock_us();
	unsigned int marked = 0;
	struct sk_buff *skb;

	*wait_us = 0;
	if (!msk->rack_xmit_us)
		return 0;
	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);
		u64 due;

		if (!migtcp_before(cb->seq, msk->snd_nxt))
			break;
		if ((cb->sacked & MIGTCP_SKB_SACKED) || !cb->xmit_us ||
		    (cb->sacked & (MIGTCP_SKB_LOST | MIGTCP_SKB_RETRANS)) ==
		    MIGTCP_SKB_LOST ||
		    !migtcp_rack_sent_after(msk->rack_xmit_us,
					    msk->rack_end_seq, cb->xmit_us,
					    cb->end_seq))
			continue;
		due = cb->xmit_us + msk->rack_rtt_us + reo_wnd;
		if (due <= now) {
			cb->sacked |= MIGTCP_SKB_LOST;
			cb->sacked &= ~MIGTCP_SKB_RETRANS;
			segs += DIV_ROUND_UP(skb->len, max_t(u32, msk->mss, 1));
			marked++;
		} else {
			*wait_us = max_t(u32, *wait_us,
					 min_t(u64, due - now, U32_MAX));
		}
	}
	if (segs)
		MIGTCP_ADD_STATS(sock_net(sk), MIGTCP_STAT_RACK_LOST, segs);
	return marked;
}

/* The connection timer waits @us for the reorder timeout. */
static void migtcp_rack_arm_reo(struct sock *sk, u32 us)
{
	migtcp_arm_timer(sk, MIGTCP_TIMER_REO,
			 jiffies + max_t(unsigned long, usecs_to_jiffies(us), 1));
}

/* Lost segments were marked: a recovery begins, or goes on. */
static void migtcp_rack_recover(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (msk->in_recovery)
		migtcp_sack_recover(sk);
	else
		migtcp_enter_recovery(sk);
}

/*
 * After an ACK (@reo: the reorder timer was set before it): when it
 * delivered a segment sent later than RACK's (or a reorder timeout was
 * due to be checked), the segments in flight are judged again.  True if
 * one was found lost: the caller recovers.
 */
bool migtcp_rack_ack(struct sock *sk, bool reo)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	unsigned int lost;
	u32 wait_us;

	if (!migtcp_rack_on(msk) || (!msk->rack_advanced && !reo))
		return false;
	msk->rack_advanced = false;
	lost = migtcp_rack_detect(sk, &wait_us);
	if (wait_us)
		migtcp_rack_arm_reo(sk, wait_us);
	return lost;
}

/* The reorder timer fired: what is overdue now is lost. */
void migtcp_rack_reo_timeout(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u32 wait_us;

	if (migtcp_mig_blocks_send(sk))
		return;
	MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_RACK_REO_TIMEOUTS);
	if (migtcp_rack_detect(sk, &wait_us))
		migtcp_rack_recover(sk);
	if (wait_us)
		migtcp_rack_arm_reo(sk, wait_us);
	else if (msk->snd_una != msk->snd_nxt)
		migtcp_arm_retransmit(sk);
}

/*
 * The probe timeout (RFC 8985 7.2): two smoothed RTTs, plus the time a
 * delayed ACK may take when one segment is out; and no later than the
 * retransmission timeout of the first unacknowledged segment, counted
 * from when it went (as Linux's tcp_rto_delta_us()), so that probes
 * rescheduled again and again never put the timeout off.
 */
static unsigned long migtcp_tlp_when(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	unsigned long when = jiffies + (msk->srtt >> 2);
	struct sk_buff *head = skb_peek(&sk->sk_write_queue);
	u64 now = migtcp_clock_us(), rto_at;

	if (msk->snd_nxt - msk->snd_una <= msk->mss)
		when += MIGTCP_DELACK;
	else
		when += 2;
	if (head && MIGTCP_SKB_CB(head)->xmit_us) {
		rto_at = MIGTCP_SKB_CB(head)->xmit_us +
			 jiffies_to_usecs(msk->rto);
		if (rto_at <= now)
			return jiffies + 1;
		if (time_before(jiffies + usecs_to_jiffies(rto_at - now), when))
			when = jiffies + usecs_to_jiffies(rto_at - now);
	}
	return when;
}

/*
 * After data went, or an ACK: in the open state (no recovery, nothing
 * SACKed, no timeout being backed off), the timer waits for the loss
 * probe instead of the retransmission timeout.  One probe is out at a
 * time.
 */
void migtcp_tlp_schedule(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (!migtcp_rack_on(msk) || msk->tlp_on || msk->in_recovery ||
	    msk->sacked_bytes || msk->retransmits || !msk->srtt ||
	    !msk->snd_wnd || msk->snd_una == msk->snd_nxt ||
	    !((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				     TCPF_FIN_WAIT1 | TCPF_CLOSING |
				     TCPF_LAST_ACK)) ||
	    migtcp_mig_blocks_send(sk) ||
	    (timer_pending(&sk->sk_timer) &&
	     msk->timer_kind == MIGTCP_TIMER_REO))
		return;
	migtcp_arm_timer(sk, MIGTCP_TIMER_TLP, migtcp_tlp_when(sk));
}

/*
 * The probe timer fired (RFC 8985 7.3): the last segment sent goes
 * again (an MSS of it at most), and the retransmission timer runs.
 */
void migtcp_tlp_timeout(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct sk_buff *skb, *last = NULL;

	if (migtcp_mig_blocks_send(sk))
		return;
	skb_queue_walk(&sk->sk_write_queue, skb) {
		if (!migtcp_before(MIGTCP_SKB_CB(skb)->seq, msk->snd_nxt))
			break;
		last = skb;
	}
	if (last && !msk->tlp_on && !msk->in_recovery) {
		if (last->len > msk->mss &&
		    !migtcp_split(sk, last, last->len - msk->mss))
			last = last->next;
		/* Karn: the sample is void if the timed bytes go again. */
		if (!migtcp_before(MIGTCP_SKB_CB(last)->end_seq, msk->rtt_seq))
			msk->rtt_start = 0;
		if (!migtcp_transmit(sk, last)) {
			msk->tlp_on = true;
			msk->tlp_dsacked = false;
			msk->tlp_seq = MIGTCP_SKB_CB(last)->seq;
			msk->tlp_high_seq = msk->snd_nxt;
			MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_TLP_PROBES);
		}
	}
	if (msk->snd_una != msk->snd_nxt)
		migtcp_arm_retransmit(sk);
}

/* A D-SACK block [@start, @end): if it is of the probe, nothing was lost. */
void migtcp_tlp_dsack(struct sock *sk, u32 start, u32 end)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (msk->tlp_on && !migtcp_before(start, msk->tlp_seq) &&
	    !migtcp_after(end, msk->tlp_high_seq))
		msk->tlp_dsacked = true;
}

/*
 * An ACK of @ack while a probe is out (RFC 8985 7.4, as Linux's
 * tcp_process_tlp_ack()): a D-SACK of the probe, or a duplicate ACK at
 * its end, says the original arrived too; an ACK beyond it without
 * either says the probe repaired a loss, which the window answers as
 * any loss (outside a recovery, which did already).
 */
void migtcp_tlp_ack(struct sock *sk, u32 ack, bool advanced)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (!msk->tlp_on)
		return;
	if (msk->tlp_dsacked) {
		msk->tlp_on = false;
		return;
	}
	if (migtcp_before(ack, msk->tlp_high_seq))
		return;
	if (migtcp_after(ack, msk->tlp_high_seq)) {
		msk->tlp_on = false;
		MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_TLP_RECOVERIES);
		if (!msk->in_recovery)
			migtcp_cwnd_loss(sk, false);
	} else if (!advanced) {
		msk->tlp_on = false;
	}
}
