// SPDX-License-Identifier: GPL-2.0
/*
 * Socket options at SOL_MIGTCP.  Each has the number, range and meaning
 * of the TCP option of the same name (man 7 tcp), so TCP programs map one
 * to one; errors are those tcp_setsockopt()/tcp_getsockopt() give.
 */
#include <linux/jiffies.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "migtcp.h"

static int migtcp_keep_value(int val, int max)
{
	return val >= 1 && val <= max ? 0 : -EINVAL;
}

static int migtcp_set_int(struct sock *sk, int optname, int val)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	int err = 0;

	switch (optname) {
	case MIGTCP_NODELAY:
		msk->nodelay = !!val;
		if (val)
			migtcp_push(sk);
		break;
	case MIGTCP_CORK:
		msk->cork = !!val;
		if (!val)
			migtcp_push(sk);
		break;
	case MIGTCP_MAXSEG:
		if (val && (val < MIGTCP_MIN_USER_MSS || val > U16_MAX))
			return -EINVAL;
		msk->user_mss = val;
		break;
	case MIGTCP_KEEPIDLE:
		err = migtcp_keep_value(val, 32767);
		if (!err) {
			msk->keepidle = val;
			migtcp_keepalive_reset(sk);
		}
		break;
	case MIGTCP_KEEPINTVL:
		err = migtcp_keep_value(val, 32767);
		if (!err)
			msk->keepintvl = val;
		break;
	case MIGTCP_KEEPCNT:
		err = migtcp_keep_value(val, 127);
		if (!err)
			msk->keepcnt = val;
		break;
	case MIGTCP_QUICKACK:
		/*
		 * As TCP_QUICKACK: 1 acknowledges the next segments at once
		 * (and what is owed now), 0 delays every acknowledgment.
		 */
		if (val) {
			msk->pingpong = false;
			msk->quickacks = MIGTCP_MAX_QUICKACKS;
			if (msk->delack_armed)
				migtcp_send_ack(sk);
		} else {
			msk->pingpong = true;
			msk->quickacks = 0;
		}
		break;
	case MIGTCP_USER_TIMEOUT:
		if (val < 0)
			return -EINVAL;
		msk->user_timeout = val;
		break;
	default:
		return -ENOPROTOOPT;
	}
	return err;
}

/* As TCP_CONGESTION: a name, NUL-terminated or not; ENOENT if unknown. */
static int migtcp_set_congestion(struct sock *sk, sockptr_t optval,
				 unsigned int optlen)
{
	char name[MIGTCP_CA_NAME_MAX];
	long len;
	int err;

	len = strncpy_from_sockptr(name, optval,
				   min_t(long, MIGTCP_CA_NAME_MAX - 1, optlen));
	if (len < 0)
		return -EFAULT;
	name[len] = 0;
	lock_sock(sk);
	err = migtcp_cong_set(sk, name);
	release_sock(sk);
	return err;
}

/* The migration options (migrate.c, checkpoint.c): privileged. */
static int migtcp_set_migration(struct sock *sk, int optname,
				sockptr_t optval, unsigned int optlen)
{
	unsigned int hold_ms = 0;
	int err;

	if (!migtcp_mig_privileged(sk))
		return -EPERM;
	if (optname == MIGTCP_RESTORE)
		return migtcp_restore(sk, optval, optlen);
	if (optname == MIGTCP_FREEZE && optlen) {
		if (optlen < sizeof(int))
			return -EINVAL;
		if (copy_from_sockptr(&hold_ms, optval, sizeof(hold_ms)))
			return -EFAULT;
	}
	lock_sock(sk);
	err = optname == MIGTCP_FREEZE ? migtcp_freeze(sk, hold_ms) :
					 migtcp_thaw(sk);
	release_sock(sk);
	return err;
}

int migtcp_setsockopt(struct socket *sock, int level, int optname,
		      sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = sock->sk;
	int val, err;

	if (level != SOL_MIGTCP)
		return -ENOPROTOOPT;
	if (optname == MIGTCP_INFO)
		return -ENOPROTOOPT;
	if (optname == MIGTCP_CONGESTION)
		return migtcp_set_congestion(sk, optval, optlen);
	if (optname == MIGTCP_FREEZE || optname == MIGTCP_THAW ||
	    optname == MIGTCP_RESTORE)
		return migtcp_set_migration(sk, optname, optval, optlen);
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	err = migtcp_set_int(sk, optname, val);
	release_sock(sk);
	return err;
}

static void migtcp_get_info(struct sock *sk, struct migtcp_info *info)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);

	memset(info, 0, sizeof(*info));
	info->state = sk->sk_state;
	info->retransmits = msk->retransmits;
	info->migration = migtcp_mig_report(sk);
	info->ctl_unacked = migtcp_mig_unacked(sk);
	info->rto_us = jiffies_to_usecs(msk->rto);
	info->rtt_us = jiffies_to_usecs(msk->srtt >> 3);
	info->rttvar_us = jiffies_to_usecs(msk->rttvar >> 2);
	info->snd_mss = msk->mss;
	info->snd_cwnd = msk->cwnd;
	info->snd_wnd = msk->snd_wnd;
	info->rcv_wnd = msk->rcv_wnd;
	info->unacked = msk->snd_nxt - msk->snd_una;
	info->total_retrans = msk->total_retrans;
	info->bytes_sent = msk->bytes_sent;
	info->bytes_acked = msk->bytes_acked;
	info->bytes_received = msk->bytes_received;
	info->kx_fingerprint = migtcp_kx_fingerprint(sk);
	info->min_rtt_us = migtcp_rack_min_rtt(msk);
	info->reo_wnd_us = migtcp_rack_reo_wnd(sk);
}

static int migtcp_get_int(struct sock *sk, int optname, int *val)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);

	switch (optname) {
	case MIGTCP_NODELAY:
		*val = msk->nodelay;
		break;
	case MIGTCP_CORK:
		*val = msk->cork;
		break;
	case MIGTCP_MAXSEG:
		/*
		 * Connected: what is in effect; else what was asked, or 536
		 * as tcp_getsockopt() reports (TCP_MSS_DEFAULT).
		 */
		if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))
			*val = msk->user_mss ?: 536;
		else
			*val = msk->mss;
		break;
	case MIGTCP_KEEPIDLE:
		*val = msk->keepidle ?: MIGTCP_KEEPIDLE_DEFAULT;
		break;
	case MIGTCP_KEEPINTVL:
		*val = msk->keepintvl ?: MIGTCP_KEEPINTVL_DEFAULT;
		break;
	case MIGTCP_KEEPCNT:
		*val = msk->keepcnt ?: MIGTCP_KEEPCNT_DEFAULT;
		break;
	case MIGTCP_QUICKACK:
		*val = !msk->pingpong;
		break;
	case MIGTCP_USER_TIMEOUT:
		*val = msk->user_timeout;
		break;
	default:
		return -ENOPROTOOPT;
	}
	return 0;
}

int migtcp_getsockopt(struct socket *sock, int level, int optname,
		      char __user *optval, int __user *optlen)
{
	struct sock *sk = sock->sk;
	struct migtcp_info info;
	int len, val, err;

	if (level != SOL_MIGTCP)
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	if (optname == MIGTCP_CHECKPOINT)
		return migtcp_mig_privileged(sk) ?
		       migtcp_checkpoint(sk, optval, optlen) : -EPERM;
	if (optname == MIGTCP_CONGESTION) {
		char name[MIGTCP_CA_NAME_MAX] = {};

		lock_sock(sk);
		strscpy(name, migtcp_sk(sk)->cong->name, sizeof(name));
		release_sock(sk);
		len = min_t(unsigned int, len, MIGTCP_CA_NAME_MAX);
		if (put_user(len, optlen) || copy_to_user(optval, name, len))
			return -EFAULT;
		return 0;
	}
	lock_sock(sk);
	if (optname == MIGTCP_INFO) {
		migtcp_get_info(sk, &info);
		err = 0;
	} else {
		err = migtcp_get_int(sk, optname, &val);
	}
	release_sock(sk);
	if (err)
		return err;

	if (optname == MIGTCP_INFO) {
		len = min_t(unsigned int, len, sizeof(info));
		if (put_user(len, optlen) || copy_to_user(optval, &info, len))
			return -EFAULT;
		return 0;
	}
	len = min_t(unsigned int, len, sizeof(int));
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}
