// SPDX-License-Identifier: GPL-2.0
/*
 * Sending migtcp segments over IPv4: the segment is checksummed over the
 * pseudo-header of the route actually chosen, wrapped in an IP header and
 * handed to ip_local_out().  Resets for segments that no endpoint takes
 * are built here, as RFC 9293 builds them for TCP.
 */
#include <linux/skbuff.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/tcp_states.h>
#include <asm/unaligned.h>

#include "migtcp.h"

/* Room for the link and IP headers in front of a segment. */
#define MIGTCP_HEADROOM		(MAX_HEADER + sizeof(struct iphdr))

/*
 * Routes @skb, whose data is a whole segment, from @saddr (0: the route's
 * choice) to @daddr and sends it.  Consumes @skb.
 */
static int migtcp_xmit_v4(struct net *net, struct sk_buff *skb,
			  __be32 saddr, __be32 daddr)
{
	struct migtcphdr *mh = (struct migtcphdr *)skb->data;
	struct flowi4 fl4 = {
		.daddr		= daddr,
		.saddr		= saddr,
		.flowi4_proto	= migtcp_proto,
	};
	struct rtable *rt;
	struct iphdr *iph;

	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt)) {
		__MIGTCP_INC_STATS(net, MIGTCP_STAT_OUT_NO_ROUTE);
		kfree_skb(skb);
		return PTR_ERR(rt);
	}
	skb_dst_set(skb, &rt->dst);

	mh->check = 0;
	mh->check = csum_tcpudp_magic(fl4.saddr, fl4.daddr, skb->len,
				      migtcp_proto,
				      csum_partial(mh, skb->len, 0));
	skb->ip_summed = CHECKSUM_NONE;

	skb_reset_transport_header(skb);
	iph = skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	iph->version	= 4;
	iph->ihl	= sizeof(*iph) / 4;
	iph->tos	= 0;
	iph->frag_off	= htons(IP_DF);
	iph->ttl	= ip4_dst_hoplimit(&rt->dst);
	iph->protocol	= migtcp_proto;
	iph->saddr	= fl4.saddr;
	iph->daddr	= fl4.daddr;
	/* With DF set the IP id may be 0 (RFC 6864); the rest is filled in
	 * by ip_local_out().
	 */
	ip_select_ident(net, skb, NULL);

	__MIGTCP_INC_STATS(net, MIGTCP_STAT_OUT_SEGS);
	return ip_local_out(net, NULL, skb);
}

/*
 * Checks that the connection's path routes, and takes its MSS from the
 * route's MTU minus the IP and migtcp headers.
 */
int migtcp_route_path(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct flowi4 fl4 = {
		.daddr		= msk->path_daddr,
		.saddr		= msk->path_saddr,
		.flowi4_proto	= migtcp_proto,
	};
	struct rtable *rt;
	int mss;

	rt = ip_route_output_key(sock_net(sk), &fl4);
	if (IS_ERR(rt))
		return -EHOSTUNREACH;
	mss = dst_mtu(&rt->dst) - sizeof(struct iphdr) -
	      sizeof(struct migtcphdr);
	if (msk->user_mss)
		mss = min_t(int, mss, msk->user_mss);
	msk->mss = max(mss, MIGTCP_MIN_USER_MSS);
	ip_rt_put(rt);
	return 0;
}

/*
 * The window we offer: the free part of the receive buffer, in units of
 * our window shift (RFC 7323); a SYN's window is never scaled.
 * Remembered, so that the reader knows when an update is worth sending.
 */
static u16 __migtcp_select_window(struct sock *sk, bool syn)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	/* Half the free space, as Linux's tcp_win_from_space(): the rest
	 * pays for the buffers the data arrives in.
	 */
	int free = (READ_ONCE(sk->sk_rcvbuf) -
		    atomic_read(&sk->sk_rmem_alloc)) / 2;
	u8 shift = syn ? 0 : msk->rcv_wscale;
	u32 window = min_t(u32, max(free, 0) >> shift, U16_MAX);

	msk->rcv_wnd = window << shift;
	msk->rcv_wup = msk->rcv_nxt;
	return window;
}

u16 migtcp_select_window(struct sock *sk)
{
	return __migtcp_select_window(sk, false);
}

/*
 * Sends a segment without data on @sk's connection: a SYN (with our MSS),
 * SYN-ACK, ACK or RST, with sequence number @seq.
 */
int migtcp_send_ctl(struct sock *sk, u16 flags, u32 seq)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	/* A SYN offers our MSS and window scale: MSS, NOP, WSCALE. */
	unsigned int optlen = flags & MIGTCP_F_SYN ? 8 : 0;
	struct migtcphdr *mh;
	struct sk_buff *skb;
	u8 *opt;

	skb = alloc_skb(MIGTCP_HEADROOM + sizeof(*mh) + optlen, GFP_ATOMIC);
	if (!skb)
		return -ENOBUFS;
	skb_reserve(skb, MIGTCP_HEADROOM);
	mh = skb_put_zero(skb, sizeof(*mh) + optlen);
	mh->version	= MIGTCP_WIRE_VERSION;
	mh->doff	= (sizeof(*mh) + optlen) / 4;
	mh->flags	= htons(flags);
	mh->src_node	= htonl(msk->local_node);
	mh->dst_node	= htonl(msk->remote_node);
	mh->src_port	= htons(msk->local_port);
	mh->dst_port	= htons(msk->remote_port);
	mh->seq		= htonl(seq);
	if (flags & MIGTCP_F_ACK)
		mh->ack_seq = htonl(msk->rcv_nxt);
	mh->window	= htons(__migtcp_select_window(sk, flags & MIGTCP_F_SYN));
	if (optlen) {
		opt = (u8 *)(mh + 1);
		opt[0] = MIGTCP_OPT_MSS;
		opt[1] = MIGTCP_OPTLEN_MSS;
		put_unaligned_be16(msk->mss, opt + 2);
		opt[4] = MIGTCP_OPT_NOP;
		opt[5] = MIGTCP_OPT_WSCALE;
		opt[6] = MIGTCP_OPTLEN_WSCALE;
		opt[7] = msk->rcv_wscale;
	}
	if (flags & MIGTCP_F_RST)
		__MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_OUT_RSTS);
	return migtcp_xmit_v4(sock_net(sk), skb, msk->path_saddr,
			      msk->path_daddr);
}

int migtcp_send_ack(struct sock *sk)
{
	return migtcp_send_ctl(sk, MIGTCP_F_ACK, migtcp_sk(sk)->snd_nxt);
}

/* Sends a copy of queued segment @skb (data and/or FIN). */
int migtcp_transmit(struct sock *sk, const struct sk_buff *skb)
{
	const struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	u16 flags = MIGTCP_F_ACK | MIGTCP_F_PSH;
	struct migtcphdr *mh;
	struct sk_buff *seg;

	if (cb->fin)
		flags |= MIGTCP_F_FIN;
	seg = alloc_skb(MIGTCP_HEADROOM + sizeof(*mh) + skb->len, GFP_ATOMIC);
	if (!seg)
		return -ENOBUFS;
	skb_reserve(seg, MIGTCP_HEADROOM);
	mh = skb_put_zero(seg, sizeof(*mh));
	skb_copy_bits(skb, 0, skb_put(seg, skb->len), skb->len);
	mh->version	= MIGTCP_WIRE_VERSION;
	mh->doff	= MIGTCP_HDR_MIN_DOFF;
	mh->flags	= htons(flags);
	mh->src_node	= htonl(msk->local_node);
	mh->dst_node	= htonl(msk->remote_node);
	mh->src_port	= htons(msk->local_port);
	mh->dst_port	= htons(msk->remote_port);
	mh->seq		= htonl(cb->seq);
	mh->ack_seq	= htonl(msk->rcv_nxt);
	mh->window	= htons(migtcp_select_window(sk));
	msk->bytes_sent += skb->len;
	return migtcp_xmit_v4(sock_net(sk), seg, msk->path_saddr,
			      msk->path_daddr);
}

/*
 * Sends the queued segments not sent yet that fit the peer's window, and
 * keeps the retransmission timer running while anything is in flight.
 * With a closed window and nothing in flight the timer probes it.
 */
void migtcp_push(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct sk_buff *skb;

	if (!((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				     TCPF_FIN_WAIT1 | TCPF_CLOSING |
				     TCPF_LAST_ACK)))
		return;
	skb_queue_walk(&sk->sk_write_queue, skb) {
		const struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);

		if (!migtcp_after(cb->end_seq, msk->snd_nxt))
			continue;
		if (migtcp_after(cb->end_seq, msk->snd_una + msk->snd_wnd) &&
		    !(cb->fin && !skb->len))
			break;
		/* The congestion window bounds what is in flight. */
		if (msk->snd_nxt - msk->snd_una >= msk->cwnd * msk->mss)
			break;
		/*
		 * Nagle (RFC 896): a partial segment waits while data is in
		 * flight, so that small writes travel together; MIGTCP_CORK
		 * holds it in any case, MIGTCP_NODELAY never.
		 */
		if (skb->len < msk->mss && !cb->fin &&
		    skb_queue_is_last(&sk->sk_write_queue, skb) &&
		    (msk->cork ||
		     (!msk->nodelay && msk->snd_nxt != msk->snd_una)))
			break;
		if (migtcp_transmit(sk, skb))
			break;
		if (migtcp_before(cb->seq, msk->snd_max))
			msk->total_retrans++;
		/* Karn: time new data only, never a retransmission. */
		if (migtcp_after(cb->end_seq, msk->snd_max)) {
			if (!msk->rtt_start) {
				msk->rtt_seq = cb->end_seq;
				msk->rtt_start = jiffies;
			}
			msk->snd_max = cb->end_seq;
		}
		msk->snd_nxt = cb->end_seq;
	}
	if (!skb_queue_empty(&sk->sk_write_queue) &&
	    !timer_pending(&sk->sk_timer))
		migtcp_arm_retransmit(sk);
}

/*
 * Answers @in_skb, a valid segment that no endpoint takes, with a reset
 * (RFC 9293 3.10.7.1): never to a reset; with SEG.ACK as sequence number
 * if it acknowledged something, else acknowledging all it occupied.
 */
void migtcp_send_reset(struct net *net, const struct sk_buff *in_skb)
{
	const struct migtcphdr *in = migtcp_hdr(in_skb);
	u16 in_flags = ntohs(in->flags);
	struct migtcphdr *mh;
	struct sk_buff *skb;
	u32 seg_len;

	if (in_flags & MIGTCP_F_RST)
		return;

	skb = alloc_skb(MIGTCP_HEADROOM + sizeof(*mh), GFP_ATOMIC);
	if (!skb)
		return;
	skb_reserve(skb, MIGTCP_HEADROOM);
	mh = skb_put_zero(skb, sizeof(*mh));
	mh->version	= MIGTCP_WIRE_VERSION;
	mh->doff	= MIGTCP_HDR_MIN_DOFF;
	mh->src_node	= in->dst_node;
	mh->dst_node	= in->src_node;
	mh->src_port	= in->dst_port;
	mh->dst_port	= in->src_port;
	if (in_flags & MIGTCP_F_ACK) {
		mh->flags = htons(MIGTCP_F_RST);
		mh->seq = in->ack_seq;
	} else {
		seg_len = in_skb->len - in->doff * 4 +
			  !!(in_flags & MIGTCP_F_SYN) +
			  !!(in_flags & MIGTCP_F_FIN);
		mh->flags = htons(MIGTCP_F_RST | MIGTCP_F_ACK);
		mh->ack_seq = htonl(ntohl(in->seq) + seg_len);
	}

	__MIGTCP_INC_STATS(net, MIGTCP_STAT_OUT_RSTS);
	migtcp_xmit_v4(net, skb, ip_hdr(in_skb)->daddr, ip_hdr(in_skb)->saddr);
}
