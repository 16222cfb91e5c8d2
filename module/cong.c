// SPDX-License-Identifier: GPL-2.0
/*
 * Congestion control.  The generic part is RFC 5681's: slow start up to
 * ssthresh, then an algorithm's congestion avoidance; after a loss the
 * algorithm names the new ssthresh and the window falls to it (to one
 * segment after a timeout).  Fast recovery is NewReno's for all (input.c).
 * Algorithms are struct migtcp_cong_ops, chosen per socket with
 * MIGTCP_CONGESTION (as TCP_CONGESTION) or for new sockets with the module
 * parameter "congestion": "reno" (RFC 5681's additive increase) and
 * "cubic" (RFC 9438), the default, as Linux's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/math64.h>
#include <linux/moduleparam.h>
#include <net/sock.h>

#include "migtcp.h"

/* ---- Reno: one segment per window (RFC 5681 3.1) ---- */

/* Adds one segment to cwnd for each @w segments acknowledged. */
static void migtcp_cong_ai(struct migtcp_sock *msk, u32 w, u32 acked)
{
	msk->cwnd_cnt += acked;
	if (msk->cwnd_cnt >= w) {
		msk->cwnd += msk->cwnd_cnt / w;
		msk->cwnd_cnt %= w;
	}
}

static void migtcp_reno_cong_avoid(struct sock *sk, u32 acked)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	migtcp_cong_ai(msk, msk->cwnd, acked);
}

/* RFC 5681 (4): half of what was in flight, at least two segments. */
static u32 migtcp_reno_ssthresh(struct sock *sk)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	u32 flight = (msk->snd_nxt - msk->snd_una) / max_t(u32, msk->mss, 1);

	return max(flight / 2, 2U);
}

static const struct migtcp_cong_ops migtcp_reno = {
	.name		= "reno",
	.cong_avoid	= migtcp_reno_cong_avoid,
	.ssthresh	= migtcp_reno_ssthresh,
};

/* ---- CUBIC (RFC 9438) ---- */

/* beta = 0.7 and C = 0.4, in fixed point. */
#define CUBIC_BETA		717	/* / 1024 */
#define CUBIC_BETA_SCALE	1024
/* Reno-friendly increase alpha = 3 (1 - beta) / (1 + beta) = 0.529. */
#define CUBIC_ALPHA		529	/* / 1000 */

struct migtcp_cubic {
	u32 w_max;		/* cwnd before the last reduction */
	u32 origin;		/* the curve's plateau */
	u32 k_ms;		/* time to reach it from the epoch start */
	unsigned long epoch;	/* when this epoch began; 0: none yet */
	u32 w_est;		/* what Reno would have (segments) */
	u64 est_acc;		/* acked segments * alpha toward w_est + 1 */
};

static_assert(sizeof(struct migtcp_cubic) <= MIGTCP_CONG_PRIV);

static struct migtcp_cubic *migtcp_cubic(struct sock *sk)
{
	return (struct migtcp_cubic *)migtcp_sk(sk)->cong_priv;
}

/* The integer cube root of @x, rounded down. */
static u32 migtcp_cbrt(u64 x)
{
	u32 lo = 0, hi = 2642245;	/* cbrt(2^64) < 2642246 */

	while (lo < hi) {
		u32 mid = lo + (hi - lo + 1) / 2;

		if ((u64)mid * mid * mid <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static void migtcp_cubic_init(struct sock *sk)
{
	memset(migtcp_cubic(sk), 0, sizeof(struct migtcp_cubic));
}

/*
 * The window the cubic function W(t) = C (t - K)^3 + origin wants one
 * RTT from now (RFC 9438 4.2), t counted from the start of the epoch.
 */
static u64 migtcp_cubic_target(struct sock *sk, struct migtcp_cubic *ca)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	s64 t_ms = jiffies_to_msecs(jiffies - ca->epoch) +
		   jiffies_to_msecs(msk->srtt >> 3);
	/* Within 1000 s of K, 4 d^3 stays inside s64. */
	s64 d = clamp_t(s64, t_ms - ca->k_ms, -1000000, 1000000);
	s64 w = (s64)ca->origin + div64_s64(4 * d * d * d, 10000000000LL);

	/* RFC 9438 4.2: never more than 1.5 cwnd, never less than cwnd. */
	return clamp_t(s64, w, msk->cwnd, (u64)msk->cwnd * 3 / 2);
}

static void migtcp_cubic_cong_avoid(struct sock *sk, u32 acked)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_cubic *ca = migtcp_cubic(sk);
	u64 target;
	u32 cnt;

	if (!ca->epoch) {
		ca->epoch = jiffies ?: 1;
		if (msk->cwnd < ca->w_max) {
			/* K = cbrt((W_max - cwnd) / C) seconds, in ms. */
			ca->k_ms = migtcp_cbrt((u64)(ca->w_max - msk->cwnd) *
					       2500000000ULL);
			ca->origin = ca->w_max;
		} else {
			ca->k_ms = 0;
			ca->origin = msk->cwnd;
		}
		ca->w_est = msk->cwnd;
		ca->est_acc = 0;
	}
	target = migtcp_cubic_target(sk, ca);

	/* The Reno-friendly region (RFC 9438 4.3). */
	ca->est_acc += (u64)acked * CUBIC_ALPHA;
	while (ca->est_acc >= (u64)ca->w_est * 1000) {
		ca->est_acc -= (u64)ca->w_est * 1000;
		ca->w_est++;
	}
	if (ca->w_est > target)
		target = ca->w_est;

	/* Grow by (target - cwnd) / cwnd per acknowledged segment. */
	if (target > msk->cwnd)
		cnt = max_t(u32, msk->cwnd / (u32)(target - msk->cwnd), 1);
	else
		cnt = 100 * msk->cwnd;	/* the plateau: barely grow */
	migtcp_cong_ai(msk, cnt, acked);
}

/* RFC 9438 4.6-4.7: multiplicative decrease, with fast convergence. */
static u32 migtcp_cubic_ssthresh(struct sock *sk)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_cubic *ca = migtcp_cubic(sk);
	u32 cwnd = msk->cwnd;

	ca->epoch = 0;
	if (cwnd < ca->w_max)
		ca->w_max = (u64)cwnd * (CUBIC_BETA_SCALE + CUBIC_BETA) /
			    (2 * CUBIC_BETA_SCALE);
	else
		ca->w_max = cwnd;
	return max_t(u32, (u64)cwnd * CUBIC_BETA / CUBIC_BETA_SCALE, 2);
}

static const struct migtcp_cong_ops migtcp_cubic_ops = {
	.name		= "cubic",
	.init		= migtcp_cubic_init,
	.cong_avoid	= migtcp_cubic_cong_avoid,
	.ssthresh	= migtcp_cubic_ssthresh,
};

/* ---- The generic part ---- */

static const struct migtcp_cong_ops *const migtcp_cong_algos[] = {
	&migtcp_cubic_ops,
	&migtcp_reno,
};

static const struct migtcp_cong_ops *migtcp_cong_default =
	&migtcp_cubic_ops;

static const struct migtcp_cong_ops *migtcp_cong_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(migtcp_cong_algos); i++)
		if (!strcmp(migtcp_cong_algos[i]->name, name))
			return migtcp_cong_algos[i];
	return NULL;
}

static int migtcp_cong_param_set(const char *val, const struct kernel_param *kp)
{
	char name[MIGTCP_CA_NAME_MAX];
	const struct migtcp_cong_ops *ops;

	strscpy(name, val, sizeof(name));
	strim(name);
	ops = migtcp_cong_find(name);
	if (!ops) {
		pr_err("congestion=%s: no such algorithm (cubic, reno)\n", name);
		return -EINVAL;
	}
	WRITE_ONCE(migtcp_cong_default, ops);
	return 0;
}

static int migtcp_cong_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", READ_ONCE(migtcp_cong_default)->name);
}

static const struct kernel_param_ops migtcp_cong_param_ops = {
	.set	= migtcp_cong_param_set,
	.get	= migtcp_cong_param_get,
};
module_param_cb(congestion, &migtcp_cong_param_ops, NULL, 0644);
MODULE_PARM_DESC(congestion,
		 "congestion control of new sockets: cubic (default) or reno");

static void migtcp_cong_use(struct sock *sk, const struct migtcp_cong_ops *ops)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->cong = ops;
	memset(msk->cong_priv, 0, sizeof(msk->cong_priv));
	if (ops->init)
		ops->init(sk);
}

/*
 * The congestion state a connection starts with (RFC 5681 3.1: the
 * initial window, no threshold yet), under algorithm @ops, whose own state
 * starts afresh too.
 */
static void migtcp_cong_start(struct sock *sk,
			      const struct migtcp_cong_ops *ops)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->cwnd = MIGTCP_INIT_CWND;
	msk->cwnd_cnt = 0;
	msk->ssthresh = U32_MAX;
	migtcp_cong_use(sk, ops);
}

/* A new socket's algorithm: the default, or its listener's. */
void migtcp_cong_init(struct sock *sk, const struct sock *parent)
{
	migtcp_cong_start(sk, parent ? migtcp_sk(parent)->cong :
			  READ_ONCE(migtcp_cong_default));
}

/*
 * What a connection that ended leaves to the next one on the socket: the
 * algorithm the user chose, none of its state (as tcp_disconnect()).
 */
void migtcp_cong_reset(struct sock *sk)
{
	migtcp_cong_start(sk, migtcp_sk(sk)->cong);
}

/* MIGTCP_CONGESTION: switches @sk to algorithm @name; the socket is locked. */
int migtcp_cong_set(struct sock *sk, const char *name)
{
	const struct migtcp_cong_ops *ops = migtcp_cong_find(name);

	if (!ops)
		return -ENOENT;
	if (ops != migtcp_sk(sk)->cong)
		migtcp_cong_use(sk, ops);
	return 0;
}

/*
 * @acked segments were newly acknowledged outside fast recovery, with
 * @in_flight bytes outstanding before: slow start up to ssthresh (RFC
 * 5681 3.1), the algorithm beyond it.  Only a window in use grows (as
 * tcp_is_cwnd_limited(), RFC 7661): an application that sends little
 * must not build a window it never tested, to burst into later.
 */
void migtcp_cong_on_ack(struct sock *sk, u32 acked, u32 in_flight)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u32 cwnd = msk->cwnd;

	if ((u64)in_flight * 2 < (u64)msk->cwnd * msk->mss ||
	    msk->cwnd >= MIGTCP_MAX_CWND)
		return;

	if (msk->cwnd < msk->ssthresh) {
		u32 room = msk->ssthresh - msk->cwnd;

		msk->cwnd += min(acked, room);
		acked -= min(acked, room);
	}
	if (acked)
		msk->cong->cong_avoid(sk, acked);
	msk->cwnd = min_t(u32, msk->cwnd, MIGTCP_MAX_CWND);
	if (msk->cwnd != cwnd)
		migtcp_sndbuf_expand(sk);
}

/* A loss: three duplicate ACKs, or a timeout (RFC 5681 3.1-3.2). */
void migtcp_cwnd_loss(struct sock *sk, bool timeout)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->ssthresh = msk->cong->ssthresh(sk);
	msk->cwnd = timeout ? 1 : msk->ssthresh;
	msk->cwnd_cnt = 0;
}
