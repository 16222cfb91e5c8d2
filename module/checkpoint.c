// SPDX-License-Identifier: GPL-2.0
/*
 * The checkpoint of a socket: MIGTCP_CHECKPOINT writes a frozen socket's
 * whole state as a versioned blob of netlink attributes (the layout is in
 * the uapi header), MIGTCP_RESTORE validates one field by field and
 * rebuilds the socket from it.  Nothing in a blob is trusted: every
 * length, range and relation between fields is checked before anything
 * changes, and a blob that fails is refused with EINVAL and one log line
 * that says why.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/sockptr.h>
#include <net/netlink.h>
#include <net/tcp_states.h>

#include "migtcp.h"

/* The largest blob taken: queues of a few hundred MiB at most. */
#define MIGTCP_CKPT_MAX_LEN	(256U << 20)
/* Bytes queued one way in a connection's checkpoint, at most. */
#define MIGTCP_CKPT_MAX_QUEUE	(64U << 20)
/*
 * The user's locks a socket keeps across a move: buffer sizes it set,
 * and a port it bound, which stays bound when a connection ends.
 */
#define MIGTCP_CKPT_USERLOCKS	(SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK | \
				 SOCK_BINDPORT_LOCK)

/*
 * A blob being written, or measured when buf is NULL.  Measuring stops
 * counting past the largest blob, so the length never wraps; writing
 * never goes past cap (the measured length).
 */
struct migtcp_ckpt_out {
	u8 *buf;
	size_t len, cap;
	__be32 host4;		/* this node's addresses, read once */
	struct in6_addr host6;
};

static void *migtcp_ckpt_reserve(struct migtcp_ckpt_out *o, int type, int len)
{
	struct nlattr *nla;

	if (!o->buf || o->len + nla_total_size(len) > o->cap) {
		o->len = min_t(size_t, o->len + nla_total_size(len),
			       MIGTCP_CKPT_MAX_LEN + 1);
		return NULL;
	}
	nla = (struct nlattr *)(o->buf + o->len);
	nla->nla_type = type;
	nla->nla_len = nla_attr_size(len);
	memset((u8 *)nla_data(nla) + len, 0, nla_padlen(len));
	o->len += nla_total_size(len);
	return nla_data(nla);
}

static void migtcp_ckpt_put(struct migtcp_ckpt_out *o, int type,
			    const void *data, int len)
{
	void *p = migtcp_ckpt_reserve(o, type, len);

	if (p)
		memcpy(p, data, len);
}

#define MIGTCP_CKPT_PUT(o, type, val) \
	do { typeof(val) __v = (val); \
	     migtcp_ckpt_put(o, type, &__v, sizeof(__v)); } while (0)

/* Puts @len bytes of @skb from @off as chunks of attribute @type. */
static void migtcp_ckpt_put_skb(struct migtcp_ckpt_out *o, int type,
				const struct sk_buff *skb, u32 off, u32 len)
{
	while (len) {
		u32 n = min_t(u32, len, MIGTCP_CKPT_CHUNK);
		void *p = migtcp_ckpt_reserve(o, type, n);

		if (p)
			WARN_ON_ONCE(skb_copy_bits(skb, off, p, n));
		off += n;
		len -= n;
	}
}

static size_t migtcp_ckpt_nest_start(struct migtcp_ckpt_out *o, int type)
{
	size_t start = o->len;

	migtcp_ckpt_reserve(o, type | NLA_F_NESTED, 0);
	return start;
}

static void migtcp_ckpt_nest_end(struct migtcp_ckpt_out *o, size_t start)
{
	if (o->buf && o->len <= o->cap)
		((struct nlattr *)(o->buf + start))->nla_len = o->len - start;
}

/* Peer's FIN received: the states after it (RFC 9293 3.3.2). */
static bool migtcp_peer_fin(int state)
{
	return (1 << state) & (TCPF_CLOSE_WAIT | TCPF_CLOSING | TCPF_LAST_ACK);
}

/* Our FIN queued: the states after a shutdown for writing. */
static bool migtcp_own_fin(int state)
{
	return (1 << state) & (TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
			       TCPF_CLOSING | TCPF_LAST_ACK);
}

static u8 migtcp_ckpt_kind(const struct sock *sk)
{
	if (sk->sk_state == TCP_LISTEN)
		return MIGTCP_CKPT_LISTENER;
	if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT) ||
	    migtcp_own_fin(sk->sk_state))
		return MIGTCP_CKPT_CONN;
	return migtcp_sk(sk)->local_port ? MIGTCP_CKPT_BOUND :
					   MIGTCP_CKPT_UNBOUND;
}

static void migtcp_ckpt_conn(struct migtcp_ckpt_out *o, struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u32 data_end = msk->write_seq - msk->fin_queued, next;
	const struct sk_buff *skb;
	size_t start;

	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_STATE, (u8)sk->sk_state);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_REMOTE_NODE, msk->remote_node);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_REMOTE_PORT, msk->remote_port);
	if (migtcp_addr_is4(&msk->path_daddr))
		MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_PEER_ADDR_IN,
				migtcp_addr4(&msk->path_daddr));
	else
		MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_PEER_ADDR_IN6, msk->path_daddr);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_PEER_EPOCH, msk->mig.peer_epoch);
	migtcp_ckpt_put(o, MIGTCP_CKPT_A_CONN_KEY, msk->kx.conn_key,
			sizeof(msk->kx.conn_key));
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_KX_PEER_FLAGS, msk->kx.peer_flags);
	/*
	 * Our handshake MAC, while the listener may not have taken it: its
	 * SYN-ACK, sent again, still asks for it after the restore.  The
	 * halves it was computed from are gone.
	 */
	if (msk->kx.proof_pending)
		migtcp_ckpt_put(o, MIGTCP_CKPT_A_HS_PROOF, msk->kx.proof,
				sizeof(msk->kx.proof));
	/* After a SYN cookie, the half those ACKs carry too. */
	if (migtcp_kx_cookie_wait(&msk->kx))
		migtcp_ckpt_put(o, MIGTCP_CKPT_A_KX_HALF, msk->kx.half,
				sizeof(msk->kx.half));
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_ISS, msk->iss);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_IRS, msk->irs);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_SND_UNA, msk->snd_una);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_SND_MAX, msk->snd_max);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_WRITE_SEQ, msk->write_seq);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_SND_WND, msk->snd_wnd);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_MAX_WINDOW, msk->max_window);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_SND_WL1, msk->snd_wl1);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_SND_WSCALE, msk->snd_wscale);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_RCV_WSCALE, msk->rcv_wscale);
	if (msk->sack_ok)
		MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_SACK_OK, (u8)1);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_RCV_NXT, msk->rcv_nxt);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_COPIED_SEQ, msk->copied_seq);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_RCV_WUP, msk->rcv_wup);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_RCV_WND, msk->rcv_wnd);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_FIN_QUEUED, (u8)msk->fin_queued);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_MSS, msk->mss);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_PEER_MSS, msk->peer_mss);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_CWND, msk->cwnd);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_SSTHRESH, msk->ssthresh);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_SRTT_US,
			jiffies_to_usecs(msk->srtt) / 8);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_RTTVAR_US,
			jiffies_to_usecs(msk->rttvar) / 4);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_RTO_US, jiffies_to_usecs(msk->rto));
	/* Nothing in flight: no stamp to age (it may never have been set). */
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_RETRANS_AGE_MS,
			msk->snd_una == msk->snd_max ? 0 :
			(u32)min_t(unsigned long, jiffies_to_msecs(jiffies -
					msk->retrans_stamp), U32_MAX));
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_IDLE_MS,
			(u32)min_t(unsigned long, jiffies_to_msecs(jiffies -
					msk->rcv_tstamp), U32_MAX));
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_BYTES_SENT, msk->bytes_sent);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_BYTES_ACKED, msk->bytes_acked);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_BYTES_RECEIVED, msk->bytes_received);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_TOTAL_RETRANS, msk->total_retrans);

	/* What restore would refuse is not written (E2BIG). */
	if ((migtcp_before(msk->snd_una, data_end) &&
	     data_end - msk->snd_una > MIGTCP_CKPT_MAX_QUEUE) ||
	    msk->rcv_nxt - msk->copied_seq > MIGTCP_CKPT_MAX_QUEUE + 1) {
		o->len = MIGTCP_CKPT_MAX_LEN + 1;
		return;
	}
	/* Send data: from SND.UNA to the FIN, all of it unacknowledged. */
	skb_queue_walk(&sk->sk_write_queue, skb) {
		const struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);
		u32 off = migtcp_before(cb->seq, msk->snd_una) ?
			  msk->snd_una - cb->seq : 0;
		u32 end = min_t(u32, skb->len, data_end - cb->seq);

		if (off < end)
			migtcp_ckpt_put_skb(o, MIGTCP_CKPT_A_SND_DATA, skb, off,
					    end - off);
	}
	/* Receive data: what the user has not read. */
	skb_queue_walk(&sk->sk_receive_queue, skb) {
		u32 off = msk->copied_seq - MIGTCP_SKB_CB(skb)->seq;

		if (migtcp_before(msk->copied_seq, MIGTCP_SKB_CB(skb)->seq))
			off = 0;
		if (off < skb->len)
			migtcp_ckpt_put_skb(o, MIGTCP_CKPT_A_RCV_DATA, skb, off,
					    skb->len - off);
	}
	/*
	 * Out of order: a nest per chunk, each with its sequence number.
	 * The queue may hold overlapping segments: each byte goes once.  A
	 * FIN alone is left out (never acknowledged, the peer sends it
	 * again).
	 */
	next = msk->rcv_nxt;
	skb_rbtree_walk(skb, &msk->ofo_root) {
		/* Nothing counts after the peer's FIN (migtcp_ofo_drain()). */
		if (migtcp_peer_fin(sk->sk_state))
			break;
		const struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);
		u32 off = migtcp_before(cb->seq, next) ? next - cb->seq : 0;

		while (off < skb->len) {
			u32 n = min_t(u32, skb->len - off, MIGTCP_CKPT_CHUNK);
			bool fin = cb->fin && off + n == skb->len;

			start = migtcp_ckpt_nest_start(o, MIGTCP_CKPT_A_OFO);
			MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_OFO_A_SEQ, cb->seq + off);
			if (fin)
				MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_OFO_A_FIN, (u8)1);
			migtcp_ckpt_put_skb(o, MIGTCP_CKPT_OFO_A_DATA, skb,
					    off, n);
			migtcp_ckpt_nest_end(o, start);
			off += n;
		}
		if (migtcp_after(cb->seq + skb->len, next))
			next = cb->seq + skb->len;
		if (cb->fin)
			break;	/* nothing counts after the FIN */
	}
}

/*
 * The name of @sk's SO_BINDTODEVICE device, which a restore looks up
 * again (device indexes are a node's own).  A device gone since the bind
 * binds nothing: no attribute.
 */
static void migtcp_ckpt_bound_dev(struct migtcp_ckpt_out *o,
				  const struct sock *sk)
{
	int ifindex = READ_ONCE(sk->sk_bound_dev_if);
	char name[IFNAMSIZ] = "";
	struct net_device *dev;

	if (!ifindex)
		return;
	rcu_read_lock();
	dev = dev_get_by_index_rcu(sock_net(sk), ifindex);
	if (dev)
		strscpy(name, dev->name, sizeof(name));
	rcu_read_unlock();
	if (name[0])
		migtcp_ckpt_put(o, MIGTCP_CKPT_A_BOUND_DEV, name,
				strlen(name) + 1);
}

/* Writes the record of @sk (locked, frozen). */
static void migtcp_ckpt_record(struct migtcp_ckpt_out *o, struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u8 kind = migtcp_ckpt_kind(sk);
	size_t start = o->len;

	o->len += sizeof(struct migtcp_ckpt_rec);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_KIND, kind);
	migtcp_ckpt_put(o, MIGTCP_CKPT_A_HOME_KEY, msk->mig.home_key,
			sizeof(msk->mig.home_key));
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_EPOCH, msk->mig.epoch);
	if (o->host4)
		MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_HOST_ADDR_IN, o->host4);
	if (!ipv6_addr_any(&o->host6))
		MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_HOST_ADDR_IN6, o->host6);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_NODELAY, (u8)msk->nodelay);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_CORK, (u8)msk->cork);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_PINGPONG, (u8)msk->pingpong);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_KEEPALIVE,
			(u8)sock_flag(sk, SOCK_KEEPOPEN));
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_KEEPIDLE, (u32)msk->keepidle);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_KEEPINTVL, (u32)msk->keepintvl);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_KEEPCNT, (u32)msk->keepcnt);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_USER_TIMEOUT, msk->user_timeout);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_USER_MSS, msk->user_mss);
	migtcp_ckpt_put(o, MIGTCP_CKPT_A_CONGESTION, msk->cong->name,
			strlen(msk->cong->name) + 1);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_SNDBUF, (u32)sk->sk_sndbuf);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_RCVBUF, (u32)sk->sk_rcvbuf);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_BUF_LOCKS,
			(u8)(sk->sk_userlocks & MIGTCP_CKPT_USERLOCKS));
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_SHUTDOWN, (u8)sk->sk_shutdown);
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_MARK, (u32)READ_ONCE(sk->sk_mark));
	MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_PRIORITY,
			(u32)READ_ONCE(sk->sk_priority));
	migtcp_ckpt_bound_dev(o, sk);
	if (kind != MIGTCP_CKPT_UNBOUND) {
		MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_LOCAL_NODE, msk->local_node);
		MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_LOCAL_PORT, msk->local_port);
	}
	if (kind == MIGTCP_CKPT_LISTENER)
		MIGTCP_CKPT_PUT(o, MIGTCP_CKPT_A_BACKLOG,
				(u32)READ_ONCE(sk->sk_max_ack_backlog));
	if (kind == MIGTCP_CKPT_CONN)
		migtcp_ckpt_conn(o, sk);
	if (o->buf && o->len <= o->cap) {
		struct migtcp_ckpt_rec *rec = (void *)(o->buf + start);

		rec->len = o->len - start;
		rec->reserved = 0;
	}
}

/*
 * The records of @sk (locked) and its @n queued @children after the
 * header, each child locked in turn (its timers run).
 */
static void migtcp_ckpt_records(struct migtcp_ckpt_out *o, struct sock *sk,
				struct sock **children, int n)
{
	int i;

	o->len = sizeof(struct migtcp_ckpt_hdr);
	migtcp_ckpt_record(o, sk);
	for (i = 0; i < n; i++) {
		lock_sock_nested(children[i], SINGLE_DEPTH_NESTING);
		migtcp_ckpt_record(o, children[i]);
		release_sock(children[i]);
	}
}

static int migtcp_ckpt_check(const u8 *buf, u32 len, u32 somaxconn);

/* MIGTCP_CHECKPOINT: the blob of frozen @sk, to user memory. */
int migtcp_checkpoint(struct sock *sk, char __user *optval,
		      int __user *optlen)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_ckpt_out o = {
		.host4 = READ_ONCE(mn->node.addr4),
	};
	struct sock **children = NULL;
	struct migtcp_ckpt_hdr *hdr;
	int len, err = 0, n = 0, i;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	/* Whole: a torn address could be one our own restore refuses. */
	migtcp_node_addr6(&mn->node, &o.host6);

	lock_sock(sk);
	if (migtcp_sk(sk)->mig.state != MIGTCP_MIG_FROZEN) {
		err = -EINVAL;
		goto out;
	}
	if (sk->sk_state == TCP_LISTEN) {
		n = migtcp_listen_children(sk, &children,
					   MIGTCP_CKPT_MAX_RECS - 1);
		if (n < 0) {
			err = n;
			n = 0;
			goto out;
		}
		/*
		 * Connections go frozen; one that is over (reset before it
		 * was accepted) or still relocating stays behind.
		 */
		for (i = 0; i < n; ) {
			struct sock *child = children[i];
			bool frozen;

			lock_sock_nested(child, SINGLE_DEPTH_NESTING);
			if (migtcp_sk(child)->mig.state == MIGTCP_MIG_NONE &&
			    migtcp_ckpt_kind(child) == MIGTCP_CKPT_CONN)
				migtcp_freeze(child, migtcp_sk(sk)->mig.hold_ms);
			frozen = migtcp_sk(child)->mig.state == MIGTCP_MIG_FROZEN &&
				 migtcp_ckpt_kind(child) == MIGTCP_CKPT_CONN;
			release_sock(child);
			if (frozen) {
				i++;
				continue;
			}
			sock_put(child);
			children[i] = children[--n];
		}
	}

	/* Measure, then write. */
	migtcp_ckpt_records(&o, sk, children, n);
	if (o.len > MIGTCP_CKPT_MAX_LEN) {
		err = -E2BIG;
		goto out;
	}
	if ((size_t)len < o.len) {
		err = put_user(o.len, optlen) ? -EFAULT : -ERANGE;
		goto out;
	}
	o.cap = o.len;
	o.buf = kvzalloc(o.cap, GFP_KERNEL_ACCOUNT);
	if (!o.buf) {
		err = -ENOMEM;
		goto out;
	}
	hdr = (void *)o.buf;
	hdr->magic = MIGTCP_CKPT_MAGIC;
	hdr->version = MIGTCP_CKPT_VERSION;
	hdr->hdr_len = sizeof(*hdr);
	hdr->total_len = o.cap;
	hdr->nr_recs = n + 1;
	migtcp_ckpt_records(&o, sk, children, n);
	/* A child changed between the passes (its connection ended). */
	if (o.len != o.cap) {
		err = -EAGAIN;
		goto out;
	}
	/*
	 * What restore would refuse must fail here, where the socket still
	 * lives, and not after its process is gone.  Any failure is a bug.
	 */
	if (migtcp_ckpt_check(o.buf, o.cap, U32_MAX)) {
		pr_warn_once("a checkpoint failed its own validation\n");
		err = -EIO;
		goto out;
	}
	if (copy_to_user(optval, o.buf, o.cap) || put_user(o.cap, optlen)) {
		err = -EFAULT;
		goto out;
	}
	WRITE_ONCE(migtcp_sk(sk)->mig.exported, true);
	for (i = 0; i < n; i++) {
		lock_sock_nested(children[i], SINGLE_DEPTH_NESTING);
		WRITE_ONCE(migtcp_sk(children[i])->mig.exported, true);
		release_sock(children[i]);
	}
out:
	release_sock(sk);
	migtcp_put_children(children, n);
	kvfree(o.buf);
	return err;
}

/* Restore. */

static const struct nla_policy migtcp_ckpt_ofo_policy[MIGTCP_CKPT_OFO_A_MAX + 1] = {
	[MIGTCP_CKPT_OFO_A_SEQ]		= { .type = NLA_U32 },
	[MIGTCP_CKPT_OFO_A_FIN]		= NLA_POLICY_MAX(NLA_U8, 1),
	[MIGTCP_CKPT_OFO_A_DATA]	= { .type = NLA_BINARY,
					    .len = MIGTCP_CKPT_CHUNK },
};

#define MIGTCP_U8_FLAG		NLA_POLICY_MAX(NLA_U8, 1)

/*
 * Ranges beyond what a policy's 16-bit bounds hold (the policy API takes
 * them writable, though it never writes).
 */
static struct netlink_range_validation migtcp_ckpt_wnd_range = {
	.max = 65535U << MIGTCP_MAX_WSCALE,
};

static struct netlink_range_validation migtcp_ckpt_rtt_range = {
	.max = 120 * USEC_PER_SEC,
};

static struct netlink_range_validation migtcp_ckpt_rto_range = {
	.min = 200 * USEC_PER_MSEC,
	.max = 120 * USEC_PER_SEC,
};

static struct netlink_range_validation migtcp_ckpt_cwnd_range = {
	.min = 1,
	.max = MIGTCP_MAX_CWND,
};

static struct netlink_range_validation migtcp_ckpt_int_range = {
	.max = INT_MAX,
};

/*
 * What sk_sndbuf and sk_rcvbuf can be: SO_SNDBUF/SO_RCVBUF give at least
 * these minimums, and SO_SNDBUFFORCE/SO_RCVBUFFORCE up to INT_MAX - 1.
 */
static struct netlink_range_validation migtcp_ckpt_sndbuf_range = {
	.min = SOCK_MIN_SNDBUF,
	.max = INT_MAX,
};

static struct netlink_range_validation migtcp_ckpt_rcvbuf_range = {
	.min = SOCK_MIN_RCVBUF,
	.max = INT_MAX,
};

static const struct nla_policy migtcp_ckpt_policy[MIGTCP_CKPT_A_MAX + 1] = {
	[MIGTCP_CKPT_A_PAD]		= { .type = NLA_REJECT },
	[MIGTCP_CKPT_A_KIND]		= NLA_POLICY_MAX(NLA_U8, MIGTCP_CKPT_CONN),
	[MIGTCP_CKPT_A_STATE]		= NLA_POLICY_RANGE(NLA_U8, TCP_ESTABLISHED,
							   TCP_CLOSING),
	[MIGTCP_CKPT_A_LOCAL_NODE]	= NLA_POLICY_MIN(NLA_U32, 1),
	[MIGTCP_CKPT_A_LOCAL_PORT]	= NLA_POLICY_MIN(NLA_U16, 1),
	[MIGTCP_CKPT_A_REMOTE_NODE]	= NLA_POLICY_MIN(NLA_U32, 1),
	[MIGTCP_CKPT_A_REMOTE_PORT]	= NLA_POLICY_MIN(NLA_U16, 1),
	[MIGTCP_CKPT_A_PEER_ADDR_IN]	= NLA_POLICY_EXACT_LEN(4),
	[MIGTCP_CKPT_A_PEER_ADDR_IN6]	= NLA_POLICY_EXACT_LEN(16),
	[MIGTCP_CKPT_A_HOME_KEY]	= NLA_POLICY_EXACT_LEN(MIGTCP_KEY_LEN),
	[MIGTCP_CKPT_A_EPOCH]		= { .type = NLA_U64 },
	[MIGTCP_CKPT_A_PEER_EPOCH]	= { .type = NLA_U64 },
	[MIGTCP_CKPT_A_CONN_KEY]	= NLA_POLICY_EXACT_LEN(SHA256_DIGEST_SIZE),
	[MIGTCP_CKPT_A_KX_PEER_FLAGS]	= NLA_POLICY_MAX(NLA_U8, MIGTCP_KX_F_KEY |
							 MIGTCP_KX_F_COOKIE),
	[MIGTCP_CKPT_A_ISS]		= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_IRS]		= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_SND_UNA]		= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_SND_MAX]		= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_WRITE_SEQ]	= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_SND_WND]		= NLA_POLICY_FULL_RANGE(NLA_U32, &migtcp_ckpt_wnd_range),
	[MIGTCP_CKPT_A_MAX_WINDOW]	= NLA_POLICY_FULL_RANGE(NLA_U32, &migtcp_ckpt_wnd_range),
	[MIGTCP_CKPT_A_SND_WL1]		= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_SND_WSCALE]	= NLA_POLICY_MAX(NLA_U8, MIGTCP_MAX_WSCALE),
	[MIGTCP_CKPT_A_RCV_WSCALE]	= NLA_POLICY_MAX(NLA_U8, MIGTCP_MAX_WSCALE),
	[MIGTCP_CKPT_A_SACK_OK]		= NLA_POLICY_MAX(NLA_U8, 1),
	[MIGTCP_CKPT_A_RCV_NXT]		= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_COPIED_SEQ]	= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_RCV_WUP]		= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_RCV_WND]		= NLA_POLICY_FULL_RANGE(NLA_U32, &migtcp_ckpt_wnd_range),
	[MIGTCP_CKPT_A_FIN_QUEUED]	= MIGTCP_U8_FLAG,
	[MIGTCP_CKPT_A_SHUTDOWN]	= NLA_POLICY_MAX(NLA_U8, SHUTDOWN_MASK),
	[MIGTCP_CKPT_A_MSS]		= NLA_POLICY_MIN(NLA_U16, MIGTCP_MIN_SND_MSS),
	[MIGTCP_CKPT_A_PEER_MSS]	= { .type = NLA_U16 },
	[MIGTCP_CKPT_A_USER_MSS]	= { .type = NLA_U16 },
	[MIGTCP_CKPT_A_CWND]		= NLA_POLICY_FULL_RANGE(NLA_U32, &migtcp_ckpt_cwnd_range),
	[MIGTCP_CKPT_A_SSTHRESH]	= NLA_POLICY_MIN(NLA_U32, 2),
	[MIGTCP_CKPT_A_CONGESTION]	= { .type = NLA_NUL_STRING,
					    .len = MIGTCP_CA_NAME_MAX - 1 },
	[MIGTCP_CKPT_A_SRTT_US]		= NLA_POLICY_FULL_RANGE(NLA_U32, &migtcp_ckpt_rtt_range),
	[MIGTCP_CKPT_A_RTTVAR_US]	= NLA_POLICY_FULL_RANGE(NLA_U32, &migtcp_ckpt_rtt_range),
	[MIGTCP_CKPT_A_RTO_US]		= NLA_POLICY_FULL_RANGE(NLA_U32, &migtcp_ckpt_rto_range),
	[MIGTCP_CKPT_A_RETRANS_AGE_MS]	= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_IDLE_MS]		= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_NODELAY]		= MIGTCP_U8_FLAG,
	[MIGTCP_CKPT_A_CORK]		= MIGTCP_U8_FLAG,
	[MIGTCP_CKPT_A_PINGPONG]	= MIGTCP_U8_FLAG,
	[MIGTCP_CKPT_A_KEEPALIVE]	= MIGTCP_U8_FLAG,
	[MIGTCP_CKPT_A_KEEPIDLE]	= NLA_POLICY_MAX(NLA_U32, 32767),
	[MIGTCP_CKPT_A_KEEPINTVL]	= NLA_POLICY_MAX(NLA_U32, 32767),
	[MIGTCP_CKPT_A_KEEPCNT]		= NLA_POLICY_MAX(NLA_U32, 127),
	[MIGTCP_CKPT_A_USER_TIMEOUT]	= NLA_POLICY_FULL_RANGE(NLA_U32, &migtcp_ckpt_int_range),
	[MIGTCP_CKPT_A_SNDBUF]		= NLA_POLICY_FULL_RANGE(NLA_U32, &migtcp_ckpt_sndbuf_range),
	[MIGTCP_CKPT_A_RCVBUF]		= NLA_POLICY_FULL_RANGE(NLA_U32, &migtcp_ckpt_rcvbuf_range),
	[MIGTCP_CKPT_A_BUF_LOCKS]	= NLA_POLICY_MASK(NLA_U8, MIGTCP_CKPT_USERLOCKS),
	[MIGTCP_CKPT_A_BACKLOG]		= NLA_POLICY_FULL_RANGE(NLA_U32, &migtcp_ckpt_int_range),
	[MIGTCP_CKPT_A_SND_DATA]	= { .type = NLA_BINARY,
					    .len = MIGTCP_CKPT_CHUNK },
	[MIGTCP_CKPT_A_RCV_DATA]	= { .type = NLA_BINARY,
					    .len = MIGTCP_CKPT_CHUNK },
	[MIGTCP_CKPT_A_OFO]		= NLA_POLICY_NESTED(migtcp_ckpt_ofo_policy),
	[MIGTCP_CKPT_A_BYTES_SENT]	= { .type = NLA_U64 },
	[MIGTCP_CKPT_A_BYTES_ACKED]	= { .type = NLA_U64 },
	[MIGTCP_CKPT_A_BYTES_RECEIVED]	= { .type = NLA_U64 },
	[MIGTCP_CKPT_A_TOTAL_RETRANS]	= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_HOST_ADDR_IN]	= NLA_POLICY_EXACT_LEN(4),
	[MIGTCP_CKPT_A_HOST_ADDR_IN6]	= NLA_POLICY_EXACT_LEN(16),
	[MIGTCP_CKPT_A_HS_PROOF]	= NLA_POLICY_EXACT_LEN(MIGTCP_HSMAC_LEN),
	[MIGTCP_CKPT_A_KX_HALF]		= NLA_POLICY_EXACT_LEN(MIGTCP_KX_HALF_LEN),
	[MIGTCP_CKPT_A_MARK]		= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_PRIORITY]	= { .type = NLA_U32 },
	[MIGTCP_CKPT_A_BOUND_DEV]	= { .type = NLA_NUL_STRING,
					    .len = IFNAMSIZ - 1 },
};

/* One record, parsed: its scalars, and where its data is. */
struct migtcp_ckpt_rec_view {
	const struct nlattr *tb[MIGTCP_CKPT_A_MAX + 1];
	const struct nlattr *attrs;	/* all of them, for the data */
	int attrs_len;
	u32 snd_bytes, rcv_bytes, ofo_count;
};

static int migtcp_ckpt_bad(const char *why)
{
	pr_info_ratelimited("restore refused: %s\n", why);
	return -EINVAL;
}

static u32 migtcp_ckpt_u32(const struct migtcp_ckpt_rec_view *v, int type)
{
	return v->tb[type] ? nla_get_u32(v->tb[type]) : 0;
}

static u8 migtcp_ckpt_u8(const struct migtcp_ckpt_rec_view *v, int type)
{
	return v->tb[type] ? nla_get_u8(v->tb[type]) : 0;
}

/* Attributes a connection's record must have. */
static const u8 migtcp_ckpt_conn_attrs[] = {
	MIGTCP_CKPT_A_STATE, MIGTCP_CKPT_A_LOCAL_NODE, MIGTCP_CKPT_A_LOCAL_PORT,
	MIGTCP_CKPT_A_REMOTE_NODE, MIGTCP_CKPT_A_REMOTE_PORT,
	MIGTCP_CKPT_A_CONN_KEY,
	MIGTCP_CKPT_A_ISS, MIGTCP_CKPT_A_IRS, MIGTCP_CKPT_A_SND_UNA,
	MIGTCP_CKPT_A_SND_MAX, MIGTCP_CKPT_A_WRITE_SEQ, MIGTCP_CKPT_A_SND_WND,
	MIGTCP_CKPT_A_MAX_WINDOW, MIGTCP_CKPT_A_SND_WL1,
	MIGTCP_CKPT_A_SND_WSCALE, MIGTCP_CKPT_A_RCV_WSCALE,
	MIGTCP_CKPT_A_RCV_NXT, MIGTCP_CKPT_A_COPIED_SEQ, MIGTCP_CKPT_A_RCV_WUP,
	MIGTCP_CKPT_A_RCV_WND, MIGTCP_CKPT_A_FIN_QUEUED, MIGTCP_CKPT_A_MSS,
	MIGTCP_CKPT_A_CWND, MIGTCP_CKPT_A_SSTHRESH, MIGTCP_CKPT_A_RTO_US,
};

/*
 * Checks one record's sequence space against its data: whatever a
 * connection in its state could hold, and nothing else.
 */
static int migtcp_ckpt_check_conn(const struct migtcp_ckpt_rec_view *v)
{
	const struct nlattr *nla;
	struct nlattr *ofo[MIGTCP_CKPT_OFO_A_MAX + 1];
	u8 state = migtcp_ckpt_u8(v, MIGTCP_CKPT_A_STATE);
	bool fin = migtcp_ckpt_u8(v, MIGTCP_CKPT_A_FIN_QUEUED);
	u32 una = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_SND_UNA);
	u32 snd_max = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_SND_MAX);
	u32 write_seq = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_WRITE_SEQ);
	u32 rcv_nxt = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_RCV_NXT);
	u32 copied = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_COPIED_SEQ);
	u32 rcv_end = rcv_nxt - migtcp_peer_fin(state);
	u32 data_end = write_seq - fin, snd_bytes, next, seq;
	bool fin_acked, fin_wait2, fin_seen = false;
	unsigned int i;
	int rem;

	for (i = 0; i < ARRAY_SIZE(migtcp_ckpt_conn_attrs); i++)
		if (!v->tb[migtcp_ckpt_conn_attrs[i]])
			return migtcp_ckpt_bad("a connection's field is missing");
	if (!v->tb[MIGTCP_CKPT_A_PEER_ADDR_IN] ==
	    !v->tb[MIGTCP_CKPT_A_PEER_ADDR_IN6])
		return migtcp_ckpt_bad("a connection needs one peer address, IPv4 or IPv6");
	if (!((1 << state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
			      TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
			      TCPF_CLOSING | TCPF_LAST_ACK)))
		return migtcp_ckpt_bad("state is not a synchronized connection's");
	if (fin != migtcp_own_fin(state))
		return migtcp_ckpt_bad("FIN does not match the state");
	fin_acked = fin && una == write_seq;
	fin_wait2 = state == TCP_FIN_WAIT2;
	if (fin_acked != fin_wait2)
		return migtcp_ckpt_bad("the FIN's acknowledgment does not match the state");
	if (!fin_acked && migtcp_after(una, data_end))
		return migtcp_ckpt_bad("SND.UNA is beyond the data");
	snd_bytes = fin_acked ? 0 : data_end - una;
	if (snd_bytes > MIGTCP_CKPT_MAX_QUEUE)
		return migtcp_ckpt_bad("too much data to send");
	if (snd_bytes != v->snd_bytes)
		return migtcp_ckpt_bad("send data does not span SND.UNA to the end");
	if (migtcp_before(snd_max, una) || migtcp_after(snd_max, write_seq))
		return migtcp_ckpt_bad("SND.MAX is outside the sequence space");
	if (migtcp_after(copied, rcv_end))
		return migtcp_ckpt_bad("the read pointer is beyond RCV.NXT");
	if (rcv_end - copied > MIGTCP_CKPT_MAX_QUEUE ||
	    rcv_end - copied != v->rcv_bytes)
		return migtcp_ckpt_bad("receive data does not span the unread bytes");
	if (migtcp_after(migtcp_ckpt_u32(v, MIGTCP_CKPT_A_RCV_WUP), rcv_nxt))
		return migtcp_ckpt_bad("RCV.WUP is beyond RCV.NXT");
	/* A segment beyond a gap may have set the window: in reach of one. */
	if (migtcp_after(migtcp_ckpt_u32(v, MIGTCP_CKPT_A_SND_WL1),
			 rcv_nxt + (65535U << MIGTCP_MAX_WSCALE)))
		return migtcp_ckpt_bad("SND.WL1 is beyond any window");
	if (migtcp_ckpt_u32(v, MIGTCP_CKPT_A_MAX_WINDOW) <
	    migtcp_ckpt_u32(v, MIGTCP_CKPT_A_SND_WND))
		return migtcp_ckpt_bad("the largest window is below the window");

	/*
	 * Out-of-order chunks: beyond a gap after RCV.NXT, in order, apart
	 * (or adjoining: one segment may come in several chunks), inside
	 * what a window can reach, nothing after a FIN.
	 */
	next = rcv_nxt;
	nla_for_each_attr(nla, v->attrs, v->attrs_len, rem) {
		u32 len;

		if (nla_type(nla) != MIGTCP_CKPT_A_OFO)
			continue;
		if (nla_parse_nested(ofo, MIGTCP_CKPT_OFO_A_MAX, nla,
				     migtcp_ckpt_ofo_policy, NULL))
			return migtcp_ckpt_bad("an out-of-order chunk is malformed");
		if (!ofo[MIGTCP_CKPT_OFO_A_SEQ] || !ofo[MIGTCP_CKPT_OFO_A_DATA])
			return migtcp_ckpt_bad("an out-of-order chunk lacks a field");
		if (migtcp_peer_fin(state) || fin_seen)
			return migtcp_ckpt_bad("out-of-order data after a FIN");
		seq = nla_get_u32(ofo[MIGTCP_CKPT_OFO_A_SEQ]);
		len = nla_len(ofo[MIGTCP_CKPT_OFO_A_DATA]);
		if (!len || (next == rcv_nxt ? !migtcp_after(seq, next) :
			     migtcp_before(seq, next)) ||
		    seq + len - rcv_nxt > MIGTCP_CKPT_MAX_QUEUE)
			return migtcp_ckpt_bad("out-of-order chunks overlap or are misplaced");
		next = seq + len;
		fin_seen = ofo[MIGTCP_CKPT_OFO_A_FIN] &&
			   nla_get_u8(ofo[MIGTCP_CKPT_OFO_A_FIN]);
	}
	return 0;
}

/* An IPv6 address attribute, if present, is a usable one. */
static bool migtcp_ckpt_addr6_ok(const struct nlattr *nla)
{
	struct in6_addr addr;

	if (!nla)
		return true;
	addr = nla_get_in6_addr(nla);
	return migtcp_addr6_usable(&addr);
}

/*
 * Parses and checks record @rec of @len bytes into @v.  @listener is the
 * record's place: 0 for the socket itself, else a listener's child.
 */
static int migtcp_ckpt_parse_rec(const u8 *rec, u32 len, bool child,
				 struct migtcp_ckpt_rec_view *v)
{
	const struct migtcp_ckpt_rec *hdr = (const void *)rec;
	const struct nlattr *nla;
	int rem, type;
	u8 kind;

	memset(v, 0, sizeof(*v));
	if (hdr->reserved)
		return migtcp_ckpt_bad("a record's reserved field is not zero");
	v->attrs = (const void *)(rec + sizeof(*hdr));
	v->attrs_len = len - sizeof(*hdr);
	if (nla_validate(v->attrs, v->attrs_len, MIGTCP_CKPT_A_MAX,
			 migtcp_ckpt_policy, NULL))
		return migtcp_ckpt_bad("an attribute is malformed, unknown or out of range");
	nla_for_each_attr(nla, v->attrs, v->attrs_len, rem) {
		type = nla_type(nla);
		switch (type) {
		case MIGTCP_CKPT_A_SND_DATA:
		case MIGTCP_CKPT_A_RCV_DATA:
			if (!nla_len(nla))
				return migtcp_ckpt_bad("an empty data chunk");
			if (type == MIGTCP_CKPT_A_SND_DATA)
				v->snd_bytes += nla_len(nla);
			else
				v->rcv_bytes += nla_len(nla);
			if (v->snd_bytes > MIGTCP_CKPT_MAX_QUEUE ||
			    v->rcv_bytes > MIGTCP_CKPT_MAX_QUEUE)
				return migtcp_ckpt_bad("too much data");
			break;
		case MIGTCP_CKPT_A_OFO:
			v->ofo_count++;
			break;
		default:
			if (v->tb[type])
				return migtcp_ckpt_bad("an attribute is repeated");
			v->tb[type] = nla;
			break;
		}
	}
	if (!v->tb[MIGTCP_CKPT_A_KIND] || !v->tb[MIGTCP_CKPT_A_HOME_KEY] ||
	    !v->tb[MIGTCP_CKPT_A_EPOCH])
		return migtcp_ckpt_bad("kind, home key or epoch is missing");
	kind = nla_get_u8(v->tb[MIGTCP_CKPT_A_KIND]);
	if (child && kind != MIGTCP_CKPT_CONN)
		return migtcp_ckpt_bad("a listener's queue holds something else than a connection");
	if (kind != MIGTCP_CKPT_CONN &&
	    (v->snd_bytes || v->rcv_bytes || v->ofo_count ||
	     v->tb[MIGTCP_CKPT_A_STATE] || v->tb[MIGTCP_CKPT_A_REMOTE_NODE] ||
	     v->tb[MIGTCP_CKPT_A_HS_PROOF]))
		return migtcp_ckpt_bad("connection state in a socket that has none");
	if (!migtcp_ckpt_addr6_ok(v->tb[MIGTCP_CKPT_A_PEER_ADDR_IN6]) ||
	    !migtcp_ckpt_addr6_ok(v->tb[MIGTCP_CKPT_A_HOST_ADDR_IN6]))
		return migtcp_ckpt_bad("an IPv6 address that is not a global unicast one");
	if (v->tb[MIGTCP_CKPT_A_PEER_ADDR_IN6] && !ipv6_mod_enabled()) {
		pr_info_ratelimited("restore refused: a peer over IPv6, which this host does not run\n");
		return -EAFNOSUPPORT;
	}
	/* Only the side that sent the SYN proves itself on its ACKs. */
	if (child && v->tb[MIGTCP_CKPT_A_HS_PROOF])
		return migtcp_ckpt_bad("an accepted connection with a handshake MAC to repeat");
	/* After a SYN cookie its half goes with it, and only then. */
	if (!!v->tb[MIGTCP_CKPT_A_KX_HALF] !=
	    (v->tb[MIGTCP_CKPT_A_HS_PROOF] &&
	     (migtcp_ckpt_u8(v, MIGTCP_CKPT_A_KX_PEER_FLAGS) &
	      MIGTCP_KX_F_COOKIE)))
		return migtcp_ckpt_bad("a cookie's handshake MAC without its half, or the reverse");
	if (kind == MIGTCP_CKPT_UNBOUND) {
		if (v->tb[MIGTCP_CKPT_A_LOCAL_NODE] ||
		    v->tb[MIGTCP_CKPT_A_LOCAL_PORT])
			return migtcp_ckpt_bad("an unbound socket with an identity");
		if (migtcp_ckpt_u8(v, MIGTCP_CKPT_A_BUF_LOCKS) &
		    SOCK_BINDPORT_LOCK)
			return migtcp_ckpt_bad("an unbound socket with a port the user bound");
		return 0;
	}
	if (!v->tb[MIGTCP_CKPT_A_LOCAL_NODE] || !v->tb[MIGTCP_CKPT_A_LOCAL_PORT])
		return migtcp_ckpt_bad("the identity is missing");
	if (kind == MIGTCP_CKPT_LISTENER && !v->tb[MIGTCP_CKPT_A_BACKLOG])
		return migtcp_ckpt_bad("a listener without its backlog");
	if (kind == MIGTCP_CKPT_CONN)
		return migtcp_ckpt_check_conn(v);
	return 0;
}

/* Checks the whole blob: header, record boundaries, every record. */
static int migtcp_ckpt_check(const u8 *buf, u32 len, u32 somaxconn)
{
	const struct migtcp_ckpt_hdr *hdr = (const void *)buf;
	struct migtcp_ckpt_rec_view *v;
	u32 off, i, rlen, lnode = 0;
	u16 lport = 0;
	int err = 0;

	if (len < sizeof(*hdr))
		return migtcp_ckpt_bad("shorter than its header");
	if (hdr->magic != MIGTCP_CKPT_MAGIC)
		return migtcp_ckpt_bad("not a migtcp checkpoint (magic)");
	if (hdr->version != MIGTCP_CKPT_VERSION)
		return migtcp_ckpt_bad("unknown checkpoint version");
	if (hdr->hdr_len != sizeof(*hdr) || hdr->total_len != len)
		return migtcp_ckpt_bad("header or total length is wrong");
	if (!hdr->nr_recs || hdr->nr_recs > MIGTCP_CKPT_MAX_RECS)
		return migtcp_ckpt_bad("record count out of range");

	v = kmalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	off = sizeof(*hdr);
	for (i = 0; i < hdr->nr_recs; i++) {
		if (len - off < sizeof(struct migtcp_ckpt_rec)) {
			err = migtcp_ckpt_bad("a record is cut short");
			break;
		}
		rlen = ((const struct migtcp_ckpt_rec *)(buf + off))->len;
		if (rlen < sizeof(struct migtcp_ckpt_rec) || rlen > len - off ||
		    rlen % NLA_ALIGNTO) {
			err = migtcp_ckpt_bad("a record's length is wrong");
			break;
		}
		err = migtcp_ckpt_parse_rec(buf + off, rlen, i > 0, v);
		if (err)
			break;
		if (!i) {
			if (hdr->nr_recs > 1 &&
			    nla_get_u8(v->tb[MIGTCP_CKPT_A_KIND]) !=
			    MIGTCP_CKPT_LISTENER) {
				err = migtcp_ckpt_bad("queued connections without a listener");
				break;
			}
			if (hdr->nr_recs - 1 > somaxconn) {
				err = migtcp_ckpt_bad("more queued connections than allowed");
				break;
			}
			if (v->tb[MIGTCP_CKPT_A_LOCAL_NODE]) {
				lnode = nla_get_u32(v->tb[MIGTCP_CKPT_A_LOCAL_NODE]);
				lport = nla_get_u16(v->tb[MIGTCP_CKPT_A_LOCAL_PORT]);
			}
		} else if (nla_get_u32(v->tb[MIGTCP_CKPT_A_LOCAL_NODE]) != lnode ||
			   nla_get_u16(v->tb[MIGTCP_CKPT_A_LOCAL_PORT]) != lport) {
			err = migtcp_ckpt_bad("a queued connection is not the listener's");
			break;
		}
		off += rlen;
	}
	if (!err && off != len)
		err = migtcp_ckpt_bad("bytes after the last record");
	kfree(v);
	return err;
}

/*
 * A restored queue is built from the bytes, not from the chunks that
 * carry them: consecutive chunks fill the same pages, and an skb takes up
 * to MIGTCP_CKPT_SKB_PAGES of them, so a blob of one-byte chunks costs
 * what its data does.  Out-of-order runs beyond MIGTCP_CKPT_MAX_OFO are
 * dropped, as pruning would drop them (the peer sends them again).
 */
#define MIGTCP_CKPT_SKB_PAGES	16
#define MIGTCP_CKPT_MAX_OFO	4096

/*
 * Appends what fits of @len bytes of @data to @skb's pages, the last one
 * first; the bytes taken (fewer when the skb is full), or -ENOMEM.
 */
static int migtcp_ckpt_append(struct sk_buff *skb, const u8 *data, u32 len)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);
	u32 taken = 0;

	while (taken < len) {
		skb_frag_t *frag = shinfo->nr_frags ?
				   &shinfo->frags[shinfo->nr_frags - 1] : NULL;
		u32 end = frag ? skb_frag_off(frag) + skb_frag_size(frag) : 0;
		struct page *page;
		u32 n;

		if (!frag || end == PAGE_SIZE) {
			if (shinfo->nr_frags == MIGTCP_CKPT_SKB_PAGES)
				break;
			page = alloc_page(GFP_KERNEL | __GFP_NOWARN);
			if (!page)
				return -ENOMEM;
			skb_fill_page_desc(skb, shinfo->nr_frags, page, 0, 0);
			skb->truesize += PAGE_SIZE;
			continue;
		}
		n = min_t(u32, PAGE_SIZE - end, len - taken);
		memcpy(page_address(skb_frag_page(frag)) + end, data + taken, n);
		skb_frag_size_add(frag, n);
		skb->len += n;
		skb->data_len += n;
		taken += n;
	}
	return taken;
}

/* Puts restored @skb at the tail of the queue of attribute @type. */
static int migtcp_ckpt_enqueue(struct sock *sk, struct sk_buff *skb, int type)
{
	if (type == MIGTCP_CKPT_A_SND_DATA) {
		if (!sk_wmem_schedule(sk, skb->truesize)) {
			kfree_skb(skb);
			return -ENOMEM;
		}
		__skb_queue_tail(&sk->sk_write_queue, skb);
		sk_wmem_queued_add(sk, skb->truesize);
		sk_mem_charge(sk, skb->truesize);
		return 0;
	}
	if (!sk_rmem_schedule(sk, skb, skb->truesize)) {
		kfree_skb(skb);
		return -ENOMEM;
	}
	skb_set_owner_r(skb, sk);
	/* Chunks come in order, without overlap (migtcp_ckpt_check_conn()). */
	if (type == MIGTCP_CKPT_A_OFO)
		migtcp_ofo_append(sk, skb);
	else
		__skb_queue_tail(&sk->sk_receive_queue, skb);
	return 0;
}

/*
 * Queues @len bytes of @data at @seq as data of attribute @type, on in
 * *@skb (not queued yet, or NULL) while it has room.
 */
static int migtcp_ckpt_add(struct sock *sk, struct sk_buff **skb, int type,
			   u32 seq, const u8 *data, u32 len)
{
	int n, err;

	while (len) {
		if (!*skb) {
			*skb = migtcp_alloc_seg(sk, GFP_KERNEL);
			if (!*skb)
				return -ENOMEM;
			MIGTCP_SKB_CB(*skb)->seq = seq;
			MIGTCP_SKB_CB(*skb)->end_seq = seq;
		}
		n = migtcp_ckpt_append(*skb, data, len);
		if (n < 0)
			return n;
		MIGTCP_SKB_CB(*skb)->end_seq += n;
		seq += n;
		data += n;
		len -= n;
		if (len) {
			err = migtcp_ckpt_enqueue(sk, *skb, type);
			*skb = NULL;
			if (err)
				return err;
		}
	}
	return 0;
}

/* Queues the data chunks of attribute @type, from @seq on. */
static int migtcp_ckpt_fill(struct sock *sk, const struct migtcp_ckpt_rec_view *v,
			    int type, u32 seq)
{
	struct nlattr *ofo[MIGTCP_CKPT_OFO_A_MAX + 1];
	struct sk_buff *skb = NULL;
	const struct nlattr *nla;
	const struct nlattr *data;
	unsigned int runs = 0;
	int rem, err = 0;

	nla_for_each_attr(nla, v->attrs, v->attrs_len, rem) {
		bool fin = false;

		if (nla_type(nla) != type)
			continue;
		data = nla;
		if (type == MIGTCP_CKPT_A_OFO) {
			if (nla_parse_nested(ofo, MIGTCP_CKPT_OFO_A_MAX, nla,
					     migtcp_ckpt_ofo_policy, NULL)) {
				err = -EINVAL;
				break;
			}
			data = ofo[MIGTCP_CKPT_OFO_A_DATA];
			seq = nla_get_u32(ofo[MIGTCP_CKPT_OFO_A_SEQ]);
			fin = ofo[MIGTCP_CKPT_OFO_A_FIN] &&
			      nla_get_u8(ofo[MIGTCP_CKPT_OFO_A_FIN]);
			/* A run that goes on where the last ended shares its skb. */
			if (skb && (MIGTCP_SKB_CB(skb)->fin ||
				    seq != MIGTCP_SKB_CB(skb)->end_seq)) {
				err = migtcp_ckpt_enqueue(sk, skb, type);
				skb = NULL;
				if (err)
					break;
			}
			if (!skb && ++runs > MIGTCP_CKPT_MAX_OFO) {
				MIGTCP_INC_STATS(sock_net(sk),
						 MIGTCP_STAT_OFO_PRUNED);
				continue;
			}
		}
		err = migtcp_ckpt_add(sk, &skb, type, seq, nla_data(data),
				      nla_len(data));
		if (err)
			break;
		seq += nla_len(data);
		if (fin) {
			MIGTCP_SKB_CB(skb)->fin = true;
			MIGTCP_SKB_CB(skb)->end_seq++;
		}
		/* A blob may hold millions of chunks. */
		cond_resched();
	}
	if (skb && !err)
		return migtcp_ckpt_enqueue(sk, skb, type);
	kfree_skb(skb);
	return err;
}

/* Our FIN, after the data, unless the peer acknowledged it. */
static int migtcp_ckpt_queue_fin(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);

	if (msk->snd_una == msk->write_seq)
		return 0;
	if (!skb) {
		skb = migtcp_alloc_seg(sk, GFP_KERNEL);
		if (!skb)
			return -ENOMEM;
		MIGTCP_SKB_CB(skb)->seq = msk->write_seq - 1;
		MIGTCP_SKB_CB(skb)->end_seq = msk->write_seq - 1;
		migtcp_wmem_charge_forced(sk, skb->truesize);
		__skb_queue_tail(&sk->sk_write_queue, skb);
	}
	MIGTCP_SKB_CB(skb)->end_seq++;
	MIGTCP_SKB_CB(skb)->fin = true;
	return 0;
}

/*
 * A buffer size from a checkpoint: what SO_SNDBUF/SO_RCVBUF could have
 * set (twice the sysctl maximum) or autotuning reached, unless the
 * caller may force sizes (CAP_NET_ADMIN of the host, as SO_SNDBUFFORCE).
 */
static u32 migtcp_ckpt_buf(const struct migtcp_ckpt_rec_view *v, int type,
			   u32 sysctl_max, u32 tuned_max)
{
	u32 val = migtcp_ckpt_u32(v, type);

	if (capable(CAP_NET_ADMIN))
		return val;
	return min(val, max(sysctl_max * 2, tuned_max));
}

/* The index of the device named @name in @net, or 0 if there is none. */
static int migtcp_ckpt_ifindex(struct net *net, const struct nlattr *name)
{
	struct net_device *dev;
	int ifindex = 0;

	rcu_read_lock();
	dev = dev_get_by_name_rcu(net, nla_data(name));
	if (dev)
		ifindex = dev->ifindex;
	rcu_read_unlock();
	return ifindex;
}

/*
 * The node the checkpoint was taken on, as this node reaches it: of its
 * addresses in the record (one per family it had), the first that names
 * a node this node knows, else any (migtcp_mig_restored() tells it).
 */
static void migtcp_ckpt_host_addr(struct net *net,
				  const struct migtcp_ckpt_rec_view *v,
				  struct in6_addr *addr)
{
	const struct nlattr *in6 = v->tb[MIGTCP_CKPT_A_HOST_ADDR_IN6];
	const struct nlattr *in = v->tb[MIGTCP_CKPT_A_HOST_ADDR_IN];

	*addr = in6addr_any;
	/* Without IPv6 here (ipv6.disable=1), it is reached over IPv4. */
	if (in6 && ipv6_mod_enabled()) {
		*addr = nla_get_in6_addr(in6);
		if (migtcp_addr_prefer(net, addr))
			return;
	}
	if (in) {
		migtcp_addr_set4(addr, nla_get_in_addr(in));
		migtcp_addr_prefer(net, addr);
	}
}

/* Sets the socket-wide fields every kind of record has. */
static int migtcp_ckpt_apply_common(struct sock *sk,
				    const struct migtcp_ckpt_rec_view *v)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	const struct nlattr *dev;
	int err;

	if (v->tb[MIGTCP_CKPT_A_CONGESTION]) {
		err = migtcp_cong_set(sk, nla_data(v->tb[MIGTCP_CKPT_A_CONGESTION]));
		if (err)
			return migtcp_ckpt_bad("unknown congestion control");
	}
	nla_memcpy(msk->mig.home_key, v->tb[MIGTCP_CKPT_A_HOME_KEY],
		   sizeof(msk->mig.home_key));
	msk->mig.epoch = nla_get_u64(v->tb[MIGTCP_CKPT_A_EPOCH]);
	migtcp_ckpt_host_addr(sock_net(sk), v, &msk->mig.prev_addr);
	msk->nodelay = migtcp_ckpt_u8(v, MIGTCP_CKPT_A_NODELAY);
	msk->cork = migtcp_ckpt_u8(v, MIGTCP_CKPT_A_CORK);
	msk->pingpong = migtcp_ckpt_u8(v, MIGTCP_CKPT_A_PINGPONG);
	if (migtcp_ckpt_u8(v, MIGTCP_CKPT_A_KEEPALIVE))
		sock_set_flag(sk, SOCK_KEEPOPEN);
	msk->keepidle = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_KEEPIDLE);
	msk->keepintvl = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_KEEPINTVL);
	msk->keepcnt = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_KEEPCNT);
	msk->user_timeout = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_USER_TIMEOUT);
	if (v->tb[MIGTCP_CKPT_A_USER_MSS])
		msk->user_mss = nla_get_u16(v->tb[MIGTCP_CKPT_A_USER_MSS]);
	if (v->tb[MIGTCP_CKPT_A_SNDBUF])
		WRITE_ONCE(sk->sk_sndbuf,
			   migtcp_ckpt_buf(v, MIGTCP_CKPT_A_SNDBUF,
					   READ_ONCE(sysctl_wmem_max),
					   READ_ONCE(migtcp_wmem[2])));
	if (v->tb[MIGTCP_CKPT_A_RCVBUF])
		WRITE_ONCE(sk->sk_rcvbuf,
			   migtcp_ckpt_buf(v, MIGTCP_CKPT_A_RCVBUF,
					   READ_ONCE(sysctl_rmem_max),
					   READ_ONCE(migtcp_rmem[2])));
	sk->sk_userlocks |= migtcp_ckpt_u8(v, MIGTCP_CKPT_A_BUF_LOCKS);
	sk->sk_shutdown = migtcp_ckpt_u8(v, MIGTCP_CKPT_A_SHUTDOWN);
	/* Absent (an older module's checkpoint): as the socket has them. */
	if (v->tb[MIGTCP_CKPT_A_MARK])
		WRITE_ONCE(sk->sk_mark, nla_get_u32(v->tb[MIGTCP_CKPT_A_MARK]));
	if (v->tb[MIGTCP_CKPT_A_PRIORITY])
		WRITE_ONCE(sk->sk_priority,
			   nla_get_u32(v->tb[MIGTCP_CKPT_A_PRIORITY]));
	dev = v->tb[MIGTCP_CKPT_A_BOUND_DEV];
	if (dev) {
		int ifindex = migtcp_ckpt_ifindex(sock_net(sk), dev);

		/* As SO_BINDTODEVICE of a name no device has. */
		if (!ifindex) {
			pr_info_ratelimited("restore refused: no device %s here\n",
					    (const char *)nla_data(dev));
			return -ENODEV;
		}
		WRITE_ONCE(sk->sk_bound_dev_if, ifindex);
	}
	sk_dst_reset(sk);
	return 0;
}

/* Rebuilds a connection on @sk (fresh, locked) from record @v. */
static int migtcp_ckpt_apply_conn(struct sock *sk,
				  const struct migtcp_ckpt_rec_view *v)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u8 state = migtcp_ckpt_u8(v, MIGTCP_CKPT_A_STATE);
	u32 age;
	int err;

	msk->remote_node = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_REMOTE_NODE);
	msk->remote_port = nla_get_u16(v->tb[MIGTCP_CKPT_A_REMOTE_PORT]);
	if (v->tb[MIGTCP_CKPT_A_PEER_ADDR_IN])
		migtcp_addr_set4(&msk->path_daddr,
				 nla_get_in_addr(v->tb[MIGTCP_CKPT_A_PEER_ADDR_IN]));
	else
		msk->path_daddr = nla_get_in6_addr(v->tb[MIGTCP_CKPT_A_PEER_ADDR_IN6]);
	/* This node may reach where the peer runs by another family. */
	migtcp_addr_prefer(sock_net(sk), &msk->path_daddr);
	msk->path_saddr = in6addr_any;
	if (v->tb[MIGTCP_CKPT_A_PEER_EPOCH])
		msk->mig.peer_epoch = nla_get_u64(v->tb[MIGTCP_CKPT_A_PEER_EPOCH]);
	nla_memcpy(msk->kx.conn_key, v->tb[MIGTCP_CKPT_A_CONN_KEY],
		   sizeof(msk->kx.conn_key));
	msk->kx.peer_flags = migtcp_ckpt_u8(v, MIGTCP_CKPT_A_KX_PEER_FLAGS);
	msk->kx.done = true;
	if (v->tb[MIGTCP_CKPT_A_HS_PROOF]) {
		nla_memcpy(msk->kx.proof, v->tb[MIGTCP_CKPT_A_HS_PROOF],
			   sizeof(msk->kx.proof));
		msk->kx.proof_pending = true;
	}
	if (v->tb[MIGTCP_CKPT_A_KX_HALF]) {
		nla_memcpy(msk->kx.half, v->tb[MIGTCP_CKPT_A_KX_HALF],
			   sizeof(msk->kx.half));
	}
	msk->iss = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_ISS);
	msk->irs = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_IRS);
	msk->snd_una = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_SND_UNA);
	msk->snd_nxt = msk->snd_una;
	msk->snd_max = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_SND_MAX);
	msk->write_seq = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_WRITE_SEQ);
	msk->snd_wnd = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_SND_WND);
	msk->max_window = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_MAX_WINDOW);
	msk->snd_wl1 = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_SND_WL1);
	msk->snd_wscale = migtcp_ckpt_u8(v, MIGTCP_CKPT_A_SND_WSCALE);
	msk->rcv_wscale = migtcp_ckpt_u8(v, MIGTCP_CKPT_A_RCV_WSCALE);
	/* The blocks are not kept: the next segment out of order starts them. */
	msk->sack_ok = v->tb[MIGTCP_CKPT_A_SACK_OK] &&
		       nla_get_u8(v->tb[MIGTCP_CKPT_A_SACK_OK]);
	msk->rcv_nxt = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_RCV_NXT);
	msk->copied_seq = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_COPIED_SEQ);
	msk->rcv_wup = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_RCV_WUP);
	msk->rcv_wnd = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_RCV_WND);
	msk->fin_queued = migtcp_ckpt_u8(v, MIGTCP_CKPT_A_FIN_QUEUED);
	if (v->tb[MIGTCP_CKPT_A_PEER_MSS])
		msk->peer_mss = nla_get_u16(v->tb[MIGTCP_CKPT_A_PEER_MSS]);
	msk->cwnd = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_CWND);
	msk->ssthresh = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_SSTHRESH);
	msk->srtt = usecs_to_jiffies(migtcp_ckpt_u32(v, MIGTCP_CKPT_A_SRTT_US)) << 3;
	msk->rttvar = usecs_to_jiffies(migtcp_ckpt_u32(v, MIGTCP_CKPT_A_RTTVAR_US)) << 2;
	msk->rto = usecs_to_jiffies(migtcp_ckpt_u32(v, MIGTCP_CKPT_A_RTO_US));
	age = min_t(u32, migtcp_ckpt_u32(v, MIGTCP_CKPT_A_RETRANS_AGE_MS),
		    MSEC_PER_SEC * 3600);
	msk->retrans_stamp = jiffies - msecs_to_jiffies(age);
	age = min_t(u32, migtcp_ckpt_u32(v, MIGTCP_CKPT_A_IDLE_MS),
		    MSEC_PER_SEC * 3600);
	msk->rcv_tstamp = jiffies - msecs_to_jiffies(age);
	if (v->tb[MIGTCP_CKPT_A_BYTES_SENT])
		msk->bytes_sent = nla_get_u64(v->tb[MIGTCP_CKPT_A_BYTES_SENT]);
	if (v->tb[MIGTCP_CKPT_A_BYTES_ACKED])
		msk->bytes_acked = nla_get_u64(v->tb[MIGTCP_CKPT_A_BYTES_ACKED]);
	if (v->tb[MIGTCP_CKPT_A_BYTES_RECEIVED])
		msk->bytes_received = nla_get_u64(v->tb[MIGTCP_CKPT_A_BYTES_RECEIVED]);
	msk->total_retrans = migtcp_ckpt_u32(v, MIGTCP_CKPT_A_TOTAL_RETRANS);
	msk->quickacks = MIGTCP_MAX_QUICKACKS;

	if (migtcp_route_path(sk))
		return -EHOSTUNREACH;
	err = migtcp_ckpt_fill(sk, v, MIGTCP_CKPT_A_SND_DATA, msk->snd_una);
	if (!err && msk->fin_queued)
		err = migtcp_ckpt_queue_fin(sk);
	if (!err)
		err = migtcp_ckpt_fill(sk, v, MIGTCP_CKPT_A_RCV_DATA,
				       msk->copied_seq);
	if (!err)
		err = migtcp_ckpt_fill(sk, v, MIGTCP_CKPT_A_OFO, 0);
	if (err)
		return err;
	if (migtcp_peer_fin(state))
		sock_set_flag(sk, SOCK_DONE);
	sk->sk_state = state;
	return 0;
}

/*
 * Ends the record a departed endpoint left on this node, so that the
 * endpoint may come back; EADDRINUSE if the endpoint lives here.
 */
static int migtcp_ckpt_evict(struct sock *sk, u32 lnode, u16 lport,
			     u32 rnode, u16 rport)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct sock *old;
	int err = 0;

	old = rnode ? migtcp_conn_lookup(mn, lnode, lport, rnode, rport) :
		      migtcp_departed_lookup(mn, lnode, lport);
	if (!old)
		return 0;
	lock_sock_nested(old, SINGLE_DEPTH_NESTING);
	if (migtcp_sk(old)->mig.state == MIGTCP_MIG_DEPARTED)
		migtcp_done(old, 0);
	else
		err = -EADDRINUSE;
	release_sock(old);
	sock_put(old);
	return err;
}

/*
 * Makes restored @sk findable by its identity.  Another socket with that
 * identity (a restore of the same checkpoint that got there first) is
 * EADDRINUSE, as an endpoint found by migtcp_ckpt_evict() is.
 */
static int migtcp_ckpt_hash(struct sock *sk)
{
	int err = migtcp_conn_hash(sk);

	return err == -EADDRNOTAVAIL ? -EADDRINUSE : err;
}

/* Gives @sk the identity (@node, @port), in the tables where it belongs. */
static int migtcp_ckpt_identity(struct sock *sk, u32 node, u16 port,
				bool listener)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);
	int err;

	/*
	 * At home: a connection shares its port with its listener, and a
	 * listener with its connections (migtcp_port_listen() then refuses
	 * a second listener).
	 */
	if (node == READ_ONCE(mn->node.id)) {
		if (listener || migtcp_sk(sk)->remote_port)
			return migtcp_port_hold(sk, port);
		return migtcp_port_bind(sk, node, port);
	}
	msk->mig.foreign = true;
	WRITE_ONCE(msk->local_node, node);
	WRITE_ONCE(msk->local_port, port);
	/* Found by its identity: a listener, or a bound socket. */
	if (!msk->remote_port) {
		err = migtcp_ckpt_hash(sk);
		if (err) {
			msk->mig.foreign = false;
			msk->local_node = 0;
			msk->local_port = 0;
			return err;
		}
	}
	return 0;
}

/*
 * A connection of restored listener @lsk (locked), from record @v, put in
 * its accept queue.  It is findable only once complete, and sends nothing
 * until migtcp_ckpt_announce() announces it with its listener.
 */
static int migtcp_ckpt_child(struct sock *lsk,
			     const struct migtcp_ckpt_rec_view *v)
{
	struct migtcp_sock *l = migtcp_sk(lsk), *c;
	struct sock *child;
	int err;

	err = migtcp_ckpt_evict(lsk, l->local_node, l->local_port,
				migtcp_ckpt_u32(v, MIGTCP_CKPT_A_REMOTE_NODE),
				nla_get_u16(v->tb[MIGTCP_CKPT_A_REMOTE_PORT]));
	if (err)
		return err;
	child = sk_alloc(sock_net(lsk), lsk->sk_family, GFP_KERNEL,
			 &migtcp_prot, 0);
	if (!child)
		return -ENOMEM;
	sock_init_data(NULL, child);
	migtcp_init_sock(child);
	/* As a connection the listener took itself (cgroups, LSM label,
	 * device, mark, priority), not as the restoring task's socket.
	 */
	migtcp_child_inherit(lsk, child);
	c = migtcp_sk(child);
	err = migtcp_ckpt_apply_common(child, v);
	if (!err)
		err = migtcp_ckpt_apply_conn(child, v);
	if (err)
		goto free;
	/* Everything a queued connection has, before it can be found. */
	c->mig.state = MIGTCP_MIG_RELOCATING;
	c->mig.quiet = true;
	c->mig.foreign = l->mig.foreign;
	if (c->mig.foreign) {
		c->local_node = l->local_node;
		c->local_port = l->local_port;
	} else {
		err = migtcp_port_inherit(child, lsk);
		if (err)
			goto free;
	}
	sock_hold(lsk);
	c->parent = lsk;
	migtcp_net_link_sock(child);
	spin_lock_bh(&l->accept_lock);
	list_add_tail(&c->queue_node, &l->accept_queue);
	c->queue = MIGTCP_QUEUE_ACCEPT;
	l->queued++;
	spin_unlock_bh(&l->accept_lock);
	/* On failure the listener's unwinding drops it with the others. */
	return migtcp_ckpt_hash(child);

free:
	migtcp_purge_queues(child);
	child->sk_state = TCP_CLOSE;
	sk_free(child);
	return err;
}

/* Tells the peer of a restored listener's connection where it is. */
static void migtcp_ckpt_announce(struct sock *sk)
{
	migtcp_sk(sk)->mig.quiet = false;
	if (sk->sk_state != TCP_CLOSE)
		migtcp_mig_restored(sk);
}

/*
 * What a restore sets of a fresh socket's options (migtcp_ckpt_apply_common())
 * and its failure puts back: a failed restore changes nothing.
 */
struct migtcp_ckpt_undo {
	const struct migtcp_cong_ops *cong;
	u8 home_key[MIGTCP_KEY_LEN];
	u64 epoch;
	struct in6_addr prev_addr;
	int sndbuf, rcvbuf;
	int keepidle, keepintvl, keepcnt;
	unsigned int user_timeout;
	u16 user_mss;
	u8 userlocks;
	bool keepopen, nodelay, cork, pingpong;
	u32 mark, priority;
	int bound_dev_if;
};

static void migtcp_ckpt_save(struct sock *sk, struct migtcp_ckpt_undo *u)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);

	u->cong = msk->cong;
	memcpy(u->home_key, msk->mig.home_key, sizeof(u->home_key));
	u->epoch = msk->mig.epoch;
	u->prev_addr = msk->mig.prev_addr;
	u->sndbuf = sk->sk_sndbuf;
	u->rcvbuf = sk->sk_rcvbuf;
	u->keepidle = msk->keepidle;
	u->keepintvl = msk->keepintvl;
	u->keepcnt = msk->keepcnt;
	u->user_timeout = msk->user_timeout;
	u->user_mss = msk->user_mss;
	u->userlocks = sk->sk_userlocks;
	u->keepopen = sock_flag(sk, SOCK_KEEPOPEN);
	u->nodelay = msk->nodelay;
	u->cork = msk->cork;
	u->pingpong = msk->pingpong;
	u->mark = sk->sk_mark;
	u->priority = sk->sk_priority;
	u->bound_dev_if = sk->sk_bound_dev_if;
}

static void migtcp_ckpt_restore_saved(struct sock *sk,
				      const struct migtcp_ckpt_undo *u)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	if (u->cong && u->cong != msk->cong)
		migtcp_cong_set(sk, u->cong->name);
	memcpy(msk->mig.home_key, u->home_key, sizeof(u->home_key));
	msk->mig.epoch = u->epoch;
	msk->mig.prev_addr = u->prev_addr;
	WRITE_ONCE(sk->sk_sndbuf, u->sndbuf);
	WRITE_ONCE(sk->sk_rcvbuf, u->rcvbuf);
	msk->keepidle = u->keepidle;
	msk->keepintvl = u->keepintvl;
	msk->keepcnt = u->keepcnt;
	msk->user_timeout = u->user_timeout;
	msk->user_mss = u->user_mss;
	sk->sk_userlocks = u->userlocks;
	sock_valbool_flag(sk, SOCK_KEEPOPEN, u->keepopen);
	msk->nodelay = u->nodelay;
	msk->cork = u->cork;
	msk->pingpong = u->pingpong;
	WRITE_ONCE(sk->sk_mark, u->mark);
	WRITE_ONCE(sk->sk_priority, u->priority);
	WRITE_ONCE(sk->sk_bound_dev_if, u->bound_dev_if);
	sk_dst_reset(sk);
}

/*
 * Undoes a restore that failed half-way: @sk is fresh again, and nobody
 * heard of it or of its queued connections (no RST, no GONE: the peers
 * and the home still wait for the endpoint, whose restore may be tried
 * again).
 */
static void migtcp_ckpt_unwind(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->mig.quiet = true;
	if (sk->sk_state == TCP_LISTEN)
		migtcp_listen_discard(sk, true);
	migtcp_conn_unhash(sk);
	migtcp_purge_queues(sk);
	sk->sk_state = TCP_CLOSE;
	migtcp_port_unbind(sk);
	sock_reset_flag(sk, SOCK_DONE);
	sk->sk_shutdown = 0;
	msk->mig.quiet = false;
	msk->mig.foreign = false;
	msk->mig.state = MIGTCP_MIG_NONE;
	msk->remote_node = 0;
	msk->remote_port = 0;
	migtcp_forget_conn(sk);
	sk_dst_reset(sk);
}

/* Whether @sk is as socket() made it: nothing bound, queued or failed. */
static bool migtcp_ckpt_fresh(struct sock *sk)
{
	return sk->sk_state == TCP_CLOSE && !migtcp_sk(sk)->local_port &&
	       sk->sk_socket->state == SS_UNCONNECTED &&
	       migtcp_sk(sk)->mig.state == MIGTCP_MIG_NONE &&
	       skb_queue_empty(&sk->sk_receive_queue) &&
	       skb_queue_empty(&sk->sk_write_queue) &&
	       migtcp_ofo_empty(sk) && !sk->sk_err;
}

/*
 * Rebuilds @sk from the checked blob @buf.  What may fail comes first
 * (options, the connection's queues and route), then what changes the
 * node's tables: the record of the endpoint here ends, the identity is
 * taken, the socket becomes findable; last, everybody is told.
 */
static int migtcp_ckpt_build(struct sock *sk, const u8 *buf)
{
	const struct migtcp_ckpt_hdr *hdr = (const void *)buf;
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_ckpt_rec_view *v;
	struct migtcp_ckpt_undo undo;
	u32 off = sizeof(*hdr), rlen, i;
	u32 lnode = 0, rnode = 0;
	u16 lport = 0, rport = 0;
	u8 kind;
	int err;

	v = kmalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	rlen = ((const struct migtcp_ckpt_rec *)(buf + off))->len;
	err = migtcp_ckpt_parse_rec(buf + off, rlen, false, v);
	if (err)
		goto out;
	kind = nla_get_u8(v->tb[MIGTCP_CKPT_A_KIND]);
	if (kind != MIGTCP_CKPT_UNBOUND) {
		lnode = nla_get_u32(v->tb[MIGTCP_CKPT_A_LOCAL_NODE]);
		lport = nla_get_u16(v->tb[MIGTCP_CKPT_A_LOCAL_PORT]);
	}
	if (kind == MIGTCP_CKPT_CONN) {
		rnode = nla_get_u32(v->tb[MIGTCP_CKPT_A_REMOTE_NODE]);
		rport = nla_get_u16(v->tb[MIGTCP_CKPT_A_REMOTE_PORT]);
	}

	lock_sock(sk);
	if (!migtcp_ckpt_fresh(sk)) {
		err = -EISCONN;
		goto unlock;
	}
	migtcp_ckpt_save(sk, &undo);
	err = migtcp_ckpt_apply_common(sk, v);
	if (!err && kind == MIGTCP_CKPT_CONN)
		err = migtcp_ckpt_apply_conn(sk, v);
	if (!err && kind != MIGTCP_CKPT_UNBOUND)
		err = migtcp_ckpt_evict(sk, lnode, lport, rnode, rport);
	if (err || kind == MIGTCP_CKPT_UNBOUND)
		goto done;
	msk->remote_port = rport;	/* what the identity is for */
	err = migtcp_ckpt_identity(sk, lnode, lport,
				   kind == MIGTCP_CKPT_LISTENER);
	if (err || kind == MIGTCP_CKPT_BOUND)
		goto done;
	if (kind == MIGTCP_CKPT_LISTENER) {
		/* As listen() would clamp it on this node. */
		WRITE_ONCE(sk->sk_max_ack_backlog,
			   min_t(u32, migtcp_ckpt_u32(v, MIGTCP_CKPT_A_BACKLOG),
				 READ_ONCE(sock_net(sk)->core.sysctl_somaxconn)));
		if (msk->mig.foreign)
			migtcp_set_state(sk, TCP_LISTEN);
		else
			err = migtcp_port_listen(sk);
		off += rlen;
		for (i = 1; !err && i < hdr->nr_recs; i++) {
			rlen = ((const struct migtcp_ckpt_rec *)(buf + off))->len;
			err = migtcp_ckpt_parse_rec(buf + off, rlen, true, v);
			if (!err)
				err = migtcp_ckpt_child(sk, v);
			off += rlen;
		}
	} else {
		err = migtcp_ckpt_hash(sk);
		if (!err)
			sk->sk_socket->state = SS_CONNECTED;
	}
done:
	if (err) {
		migtcp_ckpt_unwind(sk);
		migtcp_ckpt_restore_saved(sk, &undo);
		goto unlock;
	}
	if (kind == MIGTCP_CKPT_LISTENER)
		migtcp_listen_each_child(sk, migtcp_ckpt_announce);
	migtcp_mig_restored(sk);
	if (msk->mig.state == MIGTCP_MIG_NONE && kind == MIGTCP_CKPT_CONN)
		migtcp_push(sk);
unlock:
	release_sock(sk);
out:
	kfree(v);
	return err;
}

/* MIGTCP_RESTORE: rebuilds fresh @sk from the blob at @optval. */
int migtcp_restore(struct sock *sk, sockptr_t optval, unsigned int optlen)
{
	u8 *buf;
	int err;

	if (optlen < sizeof(struct migtcp_ckpt_hdr) ||
	    optlen > MIGTCP_CKPT_MAX_LEN)
		return migtcp_ckpt_bad("the blob's size is out of range");
	buf = kvmalloc(optlen, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!buf)
		return -ENOMEM;
	if (copy_from_sockptr(buf, optval, optlen)) {
		err = -EFAULT;
		goto out;
	}
	err = migtcp_ckpt_check(buf, optlen,
				READ_ONCE(sock_net(sk)->core.sysctl_somaxconn));
	if (!err)
		err = migtcp_ckpt_build(sk, buf);
out:
	kvfree(buf);
	return err;
}
