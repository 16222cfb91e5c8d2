// SPDX-License-Identifier: GPL-2.0
/*
 * The connection timer.  One timer per socket serves, by state: the
 * retransmission of SYNs, SYN-ACKs and data (RFC 6298: the timeout
 * doubles each time, the connection fails after the retry limit), the
 * probe of a closed window, and the end of TIME_WAIT and of an orphaned
 * FIN_WAIT2.  A second timer sends keepalive probes, a third delayed
 * acknowledgments.
 */
#include <linux/moduleparam.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "migtcp.h"

unsigned int migtcp_timewait_secs = 60;
module_param_named(timewait_secs, migtcp_timewait_secs, uint, 0644);
MODULE_PARM_DESC(timewait_secs,
		 "seconds in TIME_WAIT, and of an orphaned FIN_WAIT2 (default 60)");

/* As net.ipv4.tcp_orphan_retries: 0 means Linux's default of 8. */
static unsigned int migtcp_orphan_retries;
module_param_named(orphan_retries, migtcp_orphan_retries, uint, 0644);
MODULE_PARM_DESC(orphan_retries,
		 "timeouts after which a connection closed by its user gives up, window probes included (0: 8)");

/* How many timeouts @sk may take before it fails. */
static unsigned int migtcp_retry_limit(const struct sock *sk)
{
	if (!sock_flag(sk, SOCK_DEAD))
		return MIGTCP_RETRIES;
	return READ_ONCE(migtcp_orphan_retries) ?: MIGTCP_ORPHAN_RETRIES;
}

/*
 * An orphan holds no reference on its namespace (migtcp_net_orphan()).
 * Once that is being dismantled there is nobody left to talk to: the
 * connection ends without a packet, as tcp_write_timeout() ends one in a
 * dying namespace, rather than keep sending there until the namespace's
 * exit purges it.  The state is checked first: an orphan that is not
 * closed is still on its namespace's socket list, which the namespace's
 * exit empties (under the socket lock, held here) before it frees
 * anything; a closed one may have outlived its namespace.
 */
static bool migtcp_orphan_netns_gone(const struct sock *sk)
{
	return sk->sk_state != TCP_CLOSE && sock_flag(sk, SOCK_DEAD) &&
	       !check_net(sock_net(sk));
}

/*
 * What a connection that timed out reports: the last ICMP error about it
 * if one came (migtcp_v4_err()), as tcp_write_err() does, else ETIMEDOUT.
 */
static int migtcp_timeout_err(const struct sock *sk)
{
	return READ_ONCE(sk->sk_err_soft) ?: ETIMEDOUT;
}

static void migtcp_backoff(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->retransmits++;
	msk->rto = min(msk->rto * 2, (unsigned long)MIGTCP_RTO_MAX);
}

static void migtcp_retransmit_ctl(struct sock *sk, u16 flags)
{
	migtcp_backoff(sk);
	migtcp_count_retransmit(sk, migtcp_sk(sk)->iss, 0, 1);
	migtcp_send_ctl(sk, flags, migtcp_sk(sk)->iss);
	migtcp_arm_retransmit(sk);
}

/*
 * The timeout expired with data unacknowledged: send again from the first
 * unacknowledged segment what the window allows.  When that is nothing
 * (a closed window), probe it with the first segment, at every timeout,
 * whether or not the last probe is still out.  An orphan is reset
 * instead when its node keeps too many (pernet.c).
 */
void migtcp_retransmit(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);

	/* A migration holds the connection: its own timer decides. */
	if (migtcp_mig_blocks_send(sk))
		return;
	/*
	 * After a SYN cookie the listener has no connection until our ACK
	 * reaches it: that ACK goes again, as a SYN would, and the
	 * connection fails when a SYN's retries would have run out.
	 */
	if (migtcp_kx_cookie_wait(&msk->kx)) {
		if (msk->retransmits >= MIGTCP_SYN_RETRIES) {
			migtcp_done(sk, migtcp_timeout_err(sk));
			return;
		}
		migtcp_backoff(sk);
		migtcp_count_retransmit(sk, msk->snd_nxt, 0, 1);
		migtcp_send_ack(sk);
		migtcp_arm_retransmit(sk);
		return;
	}
	if (!skb)
		return;
	/* Window probes count from the first probe. */
	if (!msk->retransmits && msk->snd_una == msk->snd_nxt)
		msk->retrans_stamp = jiffies;
	/* MIGTCP_USER_TIMEOUT replaces the retry limit when set. */
	if (msk->user_timeout ?
	    time_after_eq(jiffies, msk->retrans_stamp +
			  msecs_to_jiffies(msk->user_timeout)) :
	    msk->retransmits >= migtcp_retry_limit(sk)) {
		migtcp_done(sk, migtcp_timeout_err(sk));
		return;
	}
	if (migtcp_orphan_out_of_resources(sk))
		return;
	/*
	 * RFC 5681 3.1: ssthresh is set once per loss; further timeouts of
	 * the same data keep it (and CUBIC's W_max) where it is.  What is
	 * out beyond a closed window is a probe, not a loss: as
	 * tcp_probe_timer(), the congestion window stays.
	 */
	if (msk->snd_wnd && msk->snd_una != msk->snd_nxt) {
		if (!msk->retransmits)
			migtcp_cwnd_loss(sk, true);
		else
			msk->cwnd = 1;
	}
	/*
	 * A timeout ends fast recovery; what was in flight is sent again,
	 * SACKed or not: the receiver may have dropped what it held out of
	 * order (RFC 2018 8).
	 */
	migtcp_sack_forget(sk);
	msk->in_recovery = false;
	msk->tlp_on = false;
	msk->recover = msk->snd_max;
	if (msk->snd_una != msk->snd_nxt)
		MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_TIMEOUTS);
	migtcp_backoff(sk);
	msk->rtt_start = 0;
	msk->dup_acks = 0;
	msk->snd_nxt = msk->snd_una;
	migtcp_push(sk);
	if (msk->snd_nxt != msk->snd_una)
		return;
	/* A window probe is one segment at most. */
	if (skb->len > msk->mss)
		migtcp_split(sk, skb, msk->mss);
	if (!migtcp_transmit(sk, skb) &&
	    migtcp_after(MIGTCP_SKB_CB(skb)->end_seq, msk->snd_nxt))
		msk->snd_nxt = MIGTCP_SKB_CB(skb)->end_seq;
	if (migtcp_after(msk->snd_nxt, msk->snd_max))
		msk->snd_max = msk->snd_nxt;
	migtcp_arm_retransmit(sk);
}

static void migtcp_timer(struct timer_list *t)
{
	struct sock *sk = from_timer(sk, t, sk_timer);
	struct migtcp_sock *msk = migtcp_sk(sk);

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		/* Try again shortly rather than race with the owner. */
		sk_reset_timer(sk, &sk->sk_timer, jiffies + HZ / 20);
		goto out;
	}
	if (migtcp_orphan_netns_gone(sk)) {
		migtcp_done(sk, 0);
		goto out;
	}
	switch (sk->sk_state) {
	case TCP_SYN_SENT:
		if (msk->retransmits >= MIGTCP_SYN_RETRIES)
			migtcp_done(sk, migtcp_timeout_err(sk));
		else
			migtcp_retransmit_ctl(sk, MIGTCP_F_SYN);
		break;
	case TCP_SYN_RECV:
		if (msk->retransmits >= MIGTCP_SYNACK_RETRIES)
			migtcp_child_give_up(sk);
		else
			migtcp_retransmit_ctl(sk, MIGTCP_F_SYN | MIGTCP_F_ACK);
		break;
	case TCP_FIN_WAIT2:
		/*
		 * Only an orphan's FIN_WAIT2 ends on its own; a user who
		 * shut down writing still reads (this may be a retransmission
		 * timeout that fired as our FIN was acknowledged).
		 */
		if (sock_flag(sk, SOCK_DEAD))
			migtcp_done(sk, 0);
		break;
	case TCP_TIME_WAIT:
		migtcp_done(sk, 0);
		break;
	case TCP_CLOSE:
	case TCP_LISTEN:
		break;
	default:
		if (msk->timer_kind == MIGTCP_TIMER_REO)
			migtcp_rack_reo_timeout(sk);
		else if (msk->timer_kind == MIGTCP_TIMER_TLP)
			migtcp_tlp_timeout(sk);
		else
			migtcp_retransmit(sk);
		break;
	}
out:
	bh_unlock_sock(sk);
	sock_put(sk);
}

static int migtcp_keepidle(const struct migtcp_sock *msk)
{
	return (msk->keepidle ?: MIGTCP_KEEPIDLE_DEFAULT) * HZ;
}

/*
 * After keepidle without a segment from the peer, probe it every
 * keepintvl (an ACK one byte behind, which it must answer); after
 * keepcnt unanswered probes the connection fails with ETIMEDOUT.
 */
static void migtcp_keepalive_timer(struct timer_list *t)
{
	struct migtcp_sock *msk = from_timer(msk, t, keepalive_timer);
	struct sock *sk = &msk->sk;
	unsigned long idle, next;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		sk_reset_timer(sk, &msk->keepalive_timer, jiffies + HZ / 20);
		goto out;
	}
	if (migtcp_orphan_netns_gone(sk)) {
		migtcp_done(sk, 0);
		goto out;
	}
	if (!sock_flag(sk, SOCK_KEEPOPEN) || migtcp_mig_blocks_send(sk) ||
	    !((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				     TCPF_FIN_WAIT2)))
		goto out;
	idle = jiffies - msk->rcv_tstamp;
	if (idle < migtcp_keepidle(msk)) {
		next = migtcp_keepidle(msk) - idle;
	} else if (msk->probes_out >= (msk->keepcnt ?: MIGTCP_KEEPCNT_DEFAULT)) {
		migtcp_done(sk, migtcp_timeout_err(sk));
		goto out;
	} else {
		migtcp_send_ctl(sk, MIGTCP_F_ACK, msk->snd_una - 1);
		msk->probes_out++;
		next = (msk->keepintvl ?: MIGTCP_KEEPINTVL_DEFAULT) * HZ;
	}
	sk_reset_timer(sk, &msk->keepalive_timer, jiffies + next);
out:
	bh_unlock_sock(sk);
	sock_put(sk);
}

/* (Re)starts keepalive on a connection that has it on. */
void migtcp_keepalive_reset(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (!sock_flag(sk, SOCK_KEEPOPEN) ||
	    !((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				     TCPF_FIN_WAIT2)))
		return;
	sk_reset_timer(sk, &msk->keepalive_timer,
		       msk->rcv_tstamp + migtcp_keepidle(msk));
}

void migtcp_keepalive_stop(struct sock *sk)
{
	sk_stop_timer(sk, &migtcp_sk(sk)->keepalive_timer);
}

/* SO_KEEPALIVE, with the socket locked (proto->keepalive). */
void migtcp_set_keepalive(struct sock *sk, int on)
{
	if (on) {
		sock_set_flag(sk, SOCK_KEEPOPEN);
		migtcp_keepalive_reset(sk);
	} else {
		migtcp_keepalive_stop(sk);
	}
}

/* The delayed acknowledgment is due, unless a segment of ours took it. */
static void migtcp_delack_fire(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (!msk->delack_armed)
		return;
	msk->delack_armed = false;
	if (!((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 |
				     TCPF_FIN_WAIT2)))
		return;
	MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_DELAYED_ACKS);
	migtcp_send_ack(sk);
}

static void migtcp_delack_timer(struct timer_list *t)
{
	struct migtcp_sock *msk = from_timer(msk, t, delack_timer);
	struct sock *sk = &msk->sk;

	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk))
		migtcp_delack_fire(sk);
	else if (!test_and_set_bit(MIGTCP_DEFERRED_DELACK, &msk->deferred))
		sock_hold(sk);	/* migtcp_release_cb() drops it */
	bh_unlock_sock(sk);
	sock_put(sk);
}

/* Acknowledges received data within MIGTCP_DELACK. */
void migtcp_delack_arm(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (msk->delack_armed)
		return;
	msk->delack_armed = true;
	sk_reset_timer(sk, &msk->delack_timer, jiffies + MIGTCP_DELACK);
}

void migtcp_delack_stop(struct sock *sk)
{
	migtcp_sk(sk)->delack_armed = false;
	sk_stop_timer(sk, &migtcp_sk(sk)->delack_timer);
}

/*
 * A segment carrying our acknowledgment went: nothing is owed any more.
 * The timer is left to expire (cheaper than stopping it per segment).
 */
void migtcp_ack_sent(struct sock *sk)
{
	migtcp_sk(sk)->delack_armed = false;
}

/*
 * release_sock() calls this (proto->release_cb) after the backlog: the
 * work a timer found the socket busy for is done now, as
 * tcp_release_cb() does TCP's.
 */
void migtcp_release_cb(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (test_and_clear_bit(MIGTCP_DEFERRED_DELACK, &msk->deferred)) {
		migtcp_delack_fire(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(MIGTCP_DEFERRED_MTU, &msk->deferred)) {
		migtcp_mtu_reduced(sk);
		__sock_put(sk);
	}
}

void migtcp_init_timers(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	timer_setup(&sk->sk_timer, migtcp_timer, 0);
	timer_setup(&msk->keepalive_timer, migtcp_keepalive_timer, 0);
	timer_setup(&msk->delack_timer, migtcp_delack_timer, 0);
	migtcp_mig_timer_init(sk);
}

/*
 * Arms the retransmission timer for the current RTO, but never past the
 * moment MIGTCP_USER_TIMEOUT gives up (as tcp_clamp_rto_to_user_timeout()),
 * so that the user timeout holds to the tick and not to the next backoff.
 */
/* The connection timer fires at @when for @kind (MIGTCP_TIMER_*). */
void migtcp_arm_timer(struct sock *sk, u8 kind, unsigned long when)
{
	migtcp_sk(sk)->timer_kind = kind;
	sk_reset_timer(sk, &sk->sk_timer, when);
}

void migtcp_arm_retransmit(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	unsigned long when = jiffies + msk->rto, deadline;

	if (msk->user_timeout && sk->sk_state != TCP_SYN_SENT &&
	    sk->sk_state != TCP_SYN_RECV) {
		deadline = msk->retrans_stamp +
			   msecs_to_jiffies(msk->user_timeout);
		if (time_before(deadline, when))
			when = time_after(deadline, jiffies) ? deadline :
							      jiffies + 1;
	}
	migtcp_arm_timer(sk, MIGTCP_TIMER_RTO, when);
}

void migtcp_stop_retransmit(struct sock *sk)
{
	sk_stop_timer(sk, &sk->sk_timer);
}

/*
 * Stops the timers and waits for a running one to finish, for a socket
 * that is over (TCP_CLOSE), so that neither can run again: a timer that
 * found the socket owned re-armed itself, one that finds it closed does
 * not.  The caller holds a reference and not the socket lock, which the
 * timers take.
 */
void migtcp_stop_timers_sync(struct sock *sk)
{
	sk_stop_timer_sync(sk, &sk->sk_timer);
	sk_stop_timer_sync(sk, &migtcp_sk(sk)->keepalive_timer);
	sk_stop_timer_sync(sk, &migtcp_sk(sk)->delack_timer);
	migtcp_mig_stop_sync(sk);
}

/* TIME_WAIT, or an orphan's FIN_WAIT2, ends after timewait_secs. */
void migtcp_arm_linger(struct sock *sk)
{
	sk_reset_timer(sk, &sk->sk_timer,
		       jiffies + READ_ONCE(migtcp_timewait_secs) * HZ);
}

void migtcp_enter_time_wait(struct sock *sk)
{
	migtcp_set_state(sk, TCP_TIME_WAIT);
	migtcp_arm_linger(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_state_change(sk);
}
