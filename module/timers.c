// SPDX-License-Identifier: GPL-2.0
/*
 * The retransmission timer.  For now it drives the handshake: SYNs and
 * SYN-ACKs are sent again with the timeout doubling each time (RFC 6298,
 * from 1 s), until the retry limit gives up on the connection.
 */
#include <net/sock.h>
#include <net/tcp_states.h>

#include "migtcp.h"

static void migtcp_retransmit_ctl(struct sock *sk, u16 flags)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->retransmits++;
	msk->rto = min(msk->rto * 2, (unsigned long)MIGTCP_RTO_MAX);
	migtcp_send_ctl(sk, flags, msk->iss);
	migtcp_arm_retransmit(sk);
}

static void migtcp_retransmit_timer(struct timer_list *t)
{
	struct sock *sk = from_timer(sk, t, sk_timer);
	struct migtcp_sock *msk = migtcp_sk(sk);

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		/* Try again shortly rather than race with the owner. */
		sk_reset_timer(sk, &sk->sk_timer, jiffies + HZ / 20);
		goto out;
	}
	switch (sk->sk_state) {
	case TCP_SYN_SENT:
		if (msk->retransmits >= MIGTCP_SYN_RETRIES)
			migtcp_done(sk, ETIMEDOUT);
		else
			migtcp_retransmit_ctl(sk, MIGTCP_F_SYN);
		break;
	case TCP_SYN_RECV:
		if (msk->retransmits >= MIGTCP_SYNACK_RETRIES)
			migtcp_child_give_up(sk);
		else
			migtcp_retransmit_ctl(sk, MIGTCP_F_SYN | MIGTCP_F_ACK);
		break;
	}
out:
	bh_unlock_sock(sk);
	sock_put(sk);
}

void migtcp_init_timers(struct sock *sk)
{
	timer_setup(&sk->sk_timer, migtcp_retransmit_timer, 0);
}

void migtcp_arm_retransmit(struct sock *sk)
{
	sk_reset_timer(sk, &sk->sk_timer, jiffies + migtcp_sk(sk)->rto);
}

void migtcp_stop_retransmit(struct sock *sk)
{
	sk_stop_timer(sk, &sk->sk_timer);
}
