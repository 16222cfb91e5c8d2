// SPDX-License-Identifier: GPL-2.0
/*
 * Sending migtcp segments over IPv4 or IPv6.  A connection keeps its route in the
 * socket's dst cache and sends clones of the segments in its write queue,
 * as TCP does: the payload stays in the queue's pages, only the header is
 * written, and the checksum is left to the device when it can checksum
 * any protocol (NETIF_F_HW_CSUM).  A queued skb larger than the MSS goes
 * down as one GSO packet: devices that pass such packets on (veth,
 * loopback, bridges) carry it whole; for the others the stack cuts it
 * into segments with migtcp_gso_segment() (offload.c).
 * Resets for segments that no endpoint takes are built here, as RFC 9293
 * builds them for TCP.
 */
#include <linux/skbuff.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/tcp_states.h>

#include "migtcp.h"

/*
 * Fills in the checksum of the segment that starts at @skb's transport
 * header, over the pseudo-header of @saddr and @daddr: left to the device
 * (CHECKSUM_PARTIAL) when @offload, else computed here.
 */
static __sum16 migtcp_csum_magic(const struct in6_addr *saddr,
				 const struct in6_addr *daddr,
				 unsigned int len, __wsum sum)
{
	if (migtcp_addr_is4(daddr))
		return csum_tcpudp_magic(migtcp_addr4(saddr),
					 migtcp_addr4(daddr), len,
					 migtcp_proto, sum);
	return csum_ipv6_magic(saddr, daddr, len, migtcp_proto, sum);
}

void migtcp_set_csum(struct sk_buff *skb, const struct in6_addr *saddr,
		     const struct in6_addr *daddr, bool offload)
{
	struct migtcphdr *mh = (struct migtcphdr *)skb_transport_header(skb);
	unsigned int off = skb_transport_offset(skb);
	unsigned int len = skb->len - off;

	if (offload) {
		skb->ip_summed = CHECKSUM_PARTIAL;
		skb->csum_start = skb_transport_header(skb) - skb->head;
		skb->csum_offset = offsetof(struct migtcphdr, check);
		mh->check = ~migtcp_csum_magic(saddr, daddr, len, 0);
		return;
	}
	mh->check = 0;
	mh->check = migtcp_csum_magic(saddr, daddr, len,
				      skb_checksum(skb, off, len, 0));
	skb->ip_summed = CHECKSUM_NONE;
}

/* The IPv4 header of migtcp_ip_send(). */
static void migtcp_push_iph(struct net *net, struct sk_buff *skb,
			    const struct dst_entry *dst, __be32 saddr,
			    __be32 daddr)
{
	struct iphdr *iph = skb_push(skb, sizeof(*iph));

	skb_reset_network_header(skb);
	iph->version	= 4;
	iph->ihl	= sizeof(*iph) / 4;
	iph->tos	= 0;
	/* Path MTU discovery (RFC 1191), unless the route's MTU is locked
	 * (below net.ipv4.route.min_pmtu): then the IP layer fragments.
	 */
	iph->frag_off	= dst_metric_locked(dst, RTAX_MTU) ? 0 : htons(IP_DF);
	iph->ttl	= ip4_dst_hoplimit(dst);
	iph->protocol	= migtcp_proto;
	iph->saddr	= saddr;
	iph->daddr	= daddr;
	/* With DF set the IP id may be 0 (RFC 6864); the rest is filled in
	 * by ip_local_out().
	 */
	ip_select_ident_segs(net, skb, NULL,
			     skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 1);
}

/*
 * The IPv6 header of migtcp_ip_send().  No fragment header ever: a
 * segment larger than the path MTU is refused by ip6_fragment() with an
 * ICMPv6 Packet Too Big to ourselves (skb->ignore_df is clear), which
 * lowers the MSS (migtcp_v6_err()), as DF does for IPv4.
 */
static void migtcp_push_ip6h(struct sk_buff *skb, const struct dst_entry *dst,
			     const struct in6_addr *saddr,
			     const struct in6_addr *daddr)
{
	struct ipv6hdr *ip6h = skb_push(skb, sizeof(*ip6h));

	skb_reset_network_header(skb);
	ip6_flow_hdr(ip6h, 0, 0);
	ip6h->payload_len = 0;		/* ip6_local_out() sets it */
	ip6h->nexthdr	= migtcp_proto;
	ip6h->hop_limit	= ip6_dst_hoplimit((struct dst_entry *)dst);
	ip6h->saddr	= *saddr;
	ip6h->daddr	= *daddr;
}

/*
 * Wraps @skb, whose data is a whole segment (or a GSO packet of them), in
 * an IP header of @daddr's family for route @dst, whose reference it
 * takes, and sends it.
 */
static int migtcp_ip_send(struct net *net, struct sk_buff *skb,
			  struct dst_entry *dst, const struct in6_addr *saddr,
			  const struct in6_addr *daddr, bool offload)
{
	int err;

	/*
	 * The control block held the write queue's sequence numbers; the IP
	 * layers read theirs from it (as TCP clears it in
	 * __tcp_transmit_skb()).
	 */
	memset(skb->cb, 0, max(sizeof(struct inet_skb_parm),
			       sizeof(struct inet6_skb_parm)));
	skb_dst_set(skb, dst);
	skb_reset_transport_header(skb);
	/* A GSO packet is always CHECKSUM_PARTIAL (the core insists):
	 * the segmentation finishes the checksums the device cannot.
	 */
	migtcp_set_csum(skb, saddr, daddr, offload || skb_is_gso(skb));

	MIGTCP_ADD_STATS(net, MIGTCP_STAT_OUT_SEGS,
			 skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 1);
	/*
	 * NET_XMIT_CN: queued all the same (a qdisc signalled congestion).
	 * net_xmit_eval() is a macro that evaluates its argument twice.
	 */
	if (migtcp_addr_is4(daddr)) {
		migtcp_push_iph(net, skb, dst, migtcp_addr4(saddr),
				migtcp_addr4(daddr));
		err = ip_local_out(net, skb->sk, skb);
	} else {
		migtcp_push_ip6h(skb, dst, saddr, daddr);
		err = ip6_local_out(net, skb->sk, skb);
	}
	return net_xmit_eval(err);
}

/*
 * Routes @skb from @saddr (NULL or none: this node's address,
 * migtcp_node_saddr()) to @daddr and sends it; for segments of no
 * connection (resets, registrar messages), which no socket owns, as TCP's
 * resets.  The IPsec output policy applies (the route is looked up in
 * it).  Consumes @skb.
 */
int migtcp_xmit(struct net *net, struct sk_buff *skb,
		const struct in6_addr *saddr, const struct in6_addr *daddr)
{
	struct in6_addr src;
	struct dst_entry *dst;

	dst = migtcp_route(net, NULL, saddr, daddr, &src);
	if (IS_ERR(dst)) {
		MIGTCP_INC_STATS(net, MIGTCP_STAT_OUT_NO_ROUTE);
		kfree_skb(skb);
		return PTR_ERR(dst);
	}
	return migtcp_ip_send(net, skb, dst, &src, daddr, false);
}

/*
 * Routes the connection's path with the socket's routing keys
 * (migtcp_route_sk()) and keeps the route in the socket's dst cache.
 * Takes from it the MSS (the MTU less the IP and migtcp headers),
 * how much one GSO packet may carry, and whether the device checksums.
 */
int migtcp_route_path(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	const struct net_device *dev;
	struct in6_addr saddr;
	struct dst_entry *dst;
	unsigned int gso_max;
	int mss;

	dst = migtcp_route(sock_net(sk), sk, &msk->path_saddr,
			   &msk->path_daddr, &saddr);
	if (IS_ERR(dst)) {
		sk_dst_reset(sk);
		return -EHOSTUNREACH;
	}
	mss = dst_mtu(dst) - migtcp_ip_hlen(&msk->path_daddr) -
	      sizeof(struct migtcphdr);
	if (msk->user_mss)
		mss = min_t(int, mss, msk->user_mss);
	/* Once the peer named its MSS, a new route never exceeds it. */
	if (msk->peer_mss)
		mss = min_t(int, mss, msk->peer_mss);
	msk->mss = max(mss, MIGTCP_MIN_USER_MSS);

	dev = dst->dev;
	msk->csum_offload = !!(dev->features & NETIF_F_HW_CSUM);
	gso_max = min(READ_ONCE(dev->gso_max_size), GSO_LEGACY_MAX_SIZE) -
		  MIGTCP_MAX_HEADER;
	msk->size_goal = max_t(u32, rounddown(gso_max, msk->mss), msk->mss);
	msk->route_saddr = saddr;
	msk->dst_cookie = migtcp_addr_is4(&msk->path_daddr) ? 0 :
			  rt6_get_cookie(container_of(dst, struct rt6_info, dst));
	sk_dst_set(sk, dst);
	return 0;
}

/*
 * An ICMP error said that a segment of @sk (locked, not by its user) was
 * too big for the path: the route has the smaller MTU now (migtcp_v4_err()).
 * Routes again, which takes the MSS from it, and sends again at once what
 * went at the larger size, which the path dropped, as
 * tcp_simple_retransmit() does: no congestion said so, so the congestion
 * window stays.
 */
void migtcp_mtu_reduced(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u16 old_mss = msk->mss;

	if ((1 << sk->sk_state) & (TCPF_LISTEN | TCPF_CLOSE | TCPF_TIME_WAIT))
		return;
	/* A fresh route has the MTU learnt; it replaces the cached one. */
	if (migtcp_route_path(sk) || msk->mss >= old_mss)
		return;
	if (msk->snd_nxt != msk->snd_una && !migtcp_mig_blocks_send(sk)) {
		msk->snd_nxt = msk->snd_una;
		msk->rtt_start = 0;	/* Karn: resent, not timed */
		migtcp_push(sk);
	}
}

/* A new, empty skb for the write queue: headroom only, data goes in pages. */
struct sk_buff *migtcp_alloc_seg(struct sock *sk, gfp_t gfp)
{
	struct sk_buff *skb = alloc_skb_fclone(MIGTCP_MAX_HEADER, gfp);

	if (!skb)
		return NULL;
	skb_reserve(skb, MIGTCP_MAX_HEADER);
	memset(MIGTCP_SKB_CB(skb), 0, sizeof(struct migtcp_skb_cb));
	return skb;
}

/*
 * Sends @skb, a segment of @sk's connection that starts with its header,
 * along the cached route (routed again if the route went stale, or
 * reset by SO_MARK or SO_BINDTODEVICE), owned by @sk.
 */
static int migtcp_sk_xmit(struct sock *sk, struct sk_buff *skb)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct net *net = sock_net(sk);
	struct dst_entry *dst;

	/* Frozen, or a record of a departed endpoint: silent. */
	if (migtcp_mig_frozen(sk)) {
		kfree_skb(skb);
		return -EAGAIN;
	}
	dst = __sk_dst_check(sk, msk->dst_cookie);
	if (!dst) {
		if (migtcp_route_path(sk)) {
			MIGTCP_INC_STATS(net, MIGTCP_STAT_OUT_NO_ROUTE);
			kfree_skb(skb);
			return -EHOSTUNREACH;
		}
		dst = __sk_dst_get(sk);
	}
	if (((struct migtcphdr *)skb->data)->flags & htons(MIGTCP_F_ACK))
		migtcp_ack_sent(sk);
	migtcp_skb_set_owner(sk, skb);
	return migtcp_ip_send(net, skb, dst_clone(dst), &msk->route_saddr,
			      &msk->path_daddr, msk->csum_offload);
}

/*
 * The window we offer: the free part of the receive buffer, in units of
 * our window shift (RFC 7323); a SYN's window is never scaled.
 * Remembered, so that the reader knows when an update is worth sending.
 */
u32 migtcp_free_window(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	/* Half the free space, as Linux's tcp_win_from_space(): the rest
	 * pays for the buffers the data arrives in.  Segments waiting in
	 * the backlog (the reader holds the socket) take space too.
	 */
	int full = READ_ONCE(sk->sk_rcvbuf) / 2;
	int free = (READ_ONCE(sk->sk_rcvbuf) -
		    atomic_read(&sk->sk_rmem_alloc) -
		    READ_ONCE(sk->sk_backlog.len)) / 2;

	/*
	 * Receiver-side silly window avoidance (RFC 9293 3.8.6.2.2, as
	 * __tcp_select_window()): with less than half the buffer free, less
	 * than a segment (or a sixteenth of the buffer) is offered as none.
	 * A reader that stops reading then shows a closed window, which the
	 * peer probes for as long as we answer, rather than a sliver that
	 * takes no segment, whose probes would count as unanswered
	 * retransmissions until the connection timed out.
	 */
	if (free < full / 2 && (free < full / 16 || free < (int)msk->mss))
		return 0;
	/* Under memory pressure, a few segments at a time (as TCP's
	 * rcv_ssthresh, clamped to 4 * advmss then).
	 */
	if (sk_under_memory_pressure(sk))
		free = min_t(int, free, 4 * msk->mss);
	return max(free, 0);
}

/* What is left of the window last offered, in bytes. */
u32 migtcp_offered_window(const struct migtcp_sock *msk)
{
	u32 right = msk->rcv_wup + msk->rcv_wnd;

	return migtcp_after(right, msk->rcv_nxt) ? right - msk->rcv_nxt : 0;
}

static u16 __migtcp_select_window(struct sock *sk, bool syn)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u8 shift = syn ? 0 : msk->rcv_wscale;
	u32 window = migtcp_free_window(sk);

	/*
	 * The right edge never moves left (RFC 9293 3.8.6.2.2, as
	 * tcp_select_window()): data the peer may already have sent inside
	 * it must stay acceptable.
	 */
	if (!syn)
		window = max(window, round_up(migtcp_offered_window(msk),
					      1U << shift));
	window = min_t(u32, window >> shift, U16_MAX);

	msk->rcv_wnd = window << shift;
	msk->rcv_wup = msk->rcv_nxt;
	return window;
}

u16 migtcp_select_window(struct sock *sk)
{
	return __migtcp_select_window(sk, false);
}

/* Writes the header of a segment of @sk's connection in front of @skb. */
static struct migtcphdr *migtcp_push_header(struct sock *sk,
					    struct sk_buff *skb,
					    unsigned int optlen, u16 flags,
					    u32 seq)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcphdr *mh;

	mh = skb_push(skb, sizeof(*mh) + optlen);
	memset(mh, 0, sizeof(*mh) + optlen);
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
	return mh;
}

/*
 * The options of a SYN or SYN-ACK: MSS, NOP, window scale, then the key
 * exchange, which thus starts on a 4-byte boundary and keeps its half
 * aligned (docs/protocol.md, "Key exchange").
 */
#define MIGTCP_SYN_OPT_KX	8
#define MIGTCP_SYN_OPTLEN	(MIGTCP_SYN_OPT_KX + MIGTCP_OPTLEN_KX)

/*
 * The SYN of an endpoint away from its home ends with NOP, NOP and the
 * host option: the listener checks the SYN's source against that node.
 */
#define MIGTCP_SYN_HOST_LEN	(2 + MIGTCP_OPTLEN_HOST)

/* NOP, NOP, SACK permitted: after the KX option of a SYN that offers it. */
#define MIGTCP_SYN_SACK_LEN	(2 + MIGTCP_OPTLEN_SACK_PERM)

static void migtcp_write_sack_perm(u8 *opt)
{
	opt[0] = MIGTCP_OPT_NOP;
	opt[1] = MIGTCP_OPT_NOP;
	opt[2] = MIGTCP_OPT_SACK_PERM;
	opt[3] = MIGTCP_OPTLEN_SACK_PERM;
}

/* NOP, NOP and the host option naming this node, at @opt. */
static void migtcp_write_host_opt(const struct sock *sk, u8 *opt)
{
	u32 host = READ_ONCE(migtcp_pernet(sock_net(sk))->node.id);

	opt[0] = MIGTCP_OPT_NOP;
	opt[1] = MIGTCP_OPT_NOP;
	opt[2] = MIGTCP_OPT_HOST;
	opt[3] = MIGTCP_OPTLEN_HOST;
	put_unaligned_be32(host, opt + 4);
}

/*
 * The handshake MAC option (kx.c) follows on a SYN-ACK, and is the only
 * option of the connecting side's ACKs until the listener took it,
 * besides SACK blocks.  After a SYN cookie the SYN's KX option (and SACK
 * permitted, and host option) follow it on those ACKs: the listener kept
 * nothing of the SYN.
 */
static unsigned int migtcp_ctl_optlen(const struct sock *sk, u16 flags)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	unsigned int host = msk->mig.foreign ? MIGTCP_SYN_HOST_LEN : 0;
	unsigned int sack = msk->sack_ok ? MIGTCP_SYN_SACK_LEN : 0;

	if ((flags & (MIGTCP_F_SYN | MIGTCP_F_ACK)) ==
	    (MIGTCP_F_SYN | MIGTCP_F_ACK))
		return MIGTCP_SYN_OPTLEN + sack + MIGTCP_OPTLEN_HSMAC;
	if (flags & MIGTCP_F_SYN)
		return MIGTCP_SYN_OPTLEN + sack + host;
	if (flags != MIGTCP_F_ACK)
		return 0;
	if (migtcp_kx_cookie_wait(&msk->kx))
		return MIGTCP_OPTLEN_HSMAC + MIGTCP_OPTLEN_KX + sack + host;
	return (msk->kx.proof_pending ? MIGTCP_OPTLEN_HSMAC : 0) +
	       migtcp_sack_optlen(sk);
}

/*
 * Sends a segment without data on @sk's connection: a SYN or SYN-ACK
 * (with the options above), ACK or RST, with sequence number @seq.
 */
int migtcp_send_ctl(struct sock *sk, u16 flags, u32 seq)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	unsigned int optlen = migtcp_ctl_optlen(sk, flags);
	struct migtcphdr *mh;
	struct sk_buff *skb;
	u8 *opt, *end;

	BUILD_BUG_ON(MIGTCP_SYN_OPTLEN % 4 || MIGTCP_SYN_OPT_KX % 4 ||
		     MIGTCP_OPTLEN_HSMAC % 4 || MIGTCP_SYN_HOST_LEN % 4 ||
		     MIGTCP_SYN_SACK_LEN % 4);
	/* The longest SYN-ACK, cookie ACK and pure ACK fit. */
	BUILD_BUG_ON(MIGTCP_SYN_OPTLEN + MIGTCP_SYN_SACK_LEN + MIGTCP_OPTLEN_HSMAC >
		     MIGTCP_MAX_OPTLEN);
	BUILD_BUG_ON(MIGTCP_OPTLEN_HSMAC + MIGTCP_OPTLEN_KX + MIGTCP_SYN_SACK_LEN +
		     MIGTCP_SYN_HOST_LEN > MIGTCP_MAX_OPTLEN);
	BUILD_BUG_ON(MIGTCP_OPTLEN_HSMAC + MIGTCP_SACK_OPT_ALIGNED(MIGTCP_SACK_BLOCKS) >
		     MIGTCP_MAX_OPTLEN);
	skb = alloc_skb(MIGTCP_MAX_HEADER, GFP_ATOMIC);
	if (!skb)
		return -ENOBUFS;
	skb_reserve(skb, MIGTCP_MAX_HEADER);
	mh = migtcp_push_header(sk, skb, optlen, flags, seq);
	opt = (u8 *)(mh + 1);
	end = opt + optlen;
	if (flags & MIGTCP_F_SYN) {
		opt[0] = MIGTCP_OPT_MSS;
		opt[1] = MIGTCP_OPTLEN_MSS;
		put_unaligned_be16(msk->mss, opt + 2);
		opt[4] = MIGTCP_OPT_NOP;
		opt[5] = MIGTCP_OPT_WSCALE;
		opt[6] = MIGTCP_OPTLEN_WSCALE;
		opt[7] = msk->rcv_wscale;
		migtcp_kx_write_opt(sk, opt + MIGTCP_SYN_OPT_KX);
		opt += MIGTCP_SYN_OPTLEN;
		if (msk->sack_ok) {
			migtcp_write_sack_perm(opt);
			opt += MIGTCP_SYN_SACK_LEN;
		}
		if (flags & MIGTCP_F_ACK)
			migtcp_hs_write_opt(sk, opt);
		else if (opt < end)
			migtcp_write_host_opt(sk, opt);
	} else if (migtcp_kx_cookie_wait(&msk->kx) && optlen) {
		migtcp_hs_write_opt(sk, opt);
		opt += MIGTCP_OPTLEN_HSMAC;
		migtcp_kx_write_opt(sk, opt);
		opt += MIGTCP_OPTLEN_KX;
		if (msk->sack_ok) {
			migtcp_write_sack_perm(opt);
			opt += MIGTCP_SYN_SACK_LEN;
		}
		if (opt < end)
			migtcp_write_host_opt(sk, opt);
	} else if (optlen) {
		if (msk->kx.proof_pending) {
			migtcp_hs_write_opt(sk, opt);
			opt += MIGTCP_OPTLEN_HSMAC;
		}
		if (opt < end)
			migtcp_sack_write_opt(sk, opt, end - opt);
	}
	if (flags & MIGTCP_F_RST)
		MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_OUT_RSTS);
	return migtcp_sk_xmit(sk, skb);
}

/*
 * An ACK carries SND.MAX, not SND.NXT, which a timeout moves back: the
 * peer takes window updates only from segments no older than the last one
 * (SND.WL1).  But never beyond the peer's window (a window probe may have
 * gone past it), where the peer would drop it (tcp_acceptable_seq()).
 */
int migtcp_send_ack(struct sock *sk)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	u32 wnd_end = msk->snd_una + msk->snd_wnd;

	return migtcp_send_ctl(sk, MIGTCP_F_ACK,
			       migtcp_after(msk->snd_max, wnd_end) ?
			       wnd_end : msk->snd_max);
}

/* Marks queued @skb as one GSO packet of MSS-sized segments, or none. */
static void migtcp_set_gso(struct sk_buff *skb, unsigned int mss)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);

	if (skb->len <= mss) {
		shinfo->gso_size = 0;
		shinfo->gso_type = 0;
		shinfo->gso_segs = 0;
		return;
	}
	/*
	 * The kernel has no GSO type for out-of-tree protocols.  SCTP's is
	 * software-only (no device segments SCTP), so a device either
	 * passes the packet on whole or the stack calls our offload.  The
	 * core then takes the transport header for SCTP's: gso_size is
	 * biased so that its idea of a segment's length is the true one
	 * (MIGTCP_GSO_SIZE_BIAS).  Data segments have no options.
	 */
	shinfo->gso_size = mss + MIGTCP_GSO_SIZE_BIAS;
	shinfo->gso_type = SKB_GSO_SCTP;
	shinfo->gso_segs = DIV_ROUND_UP(skb->len, mss);
}

/*
 * @segs segments from @seq on (@len bytes) go again: counted in segments,
 * as TCP's RetransSegs, and traced.
 */
void migtcp_count_retransmit(struct sock *sk, u32 seq, u32 len, u32 segs)
{
	trace_migtcp_retransmit(sk, seq, len, segs);
	migtcp_sk(sk)->total_retrans += segs;
	MIGTCP_ADD_STATS(sock_net(sk), MIGTCP_STAT_RETRANS_SEGS, segs);
}

/*
 * Sends queued segment @skb (data and/or FIN): a clone shares its data;
 * a copy of its head if an earlier clone is still on its way.
 */
int migtcp_transmit(struct sock *sk, struct sk_buff *skb)
{
	const struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	u16 flags = MIGTCP_F_ACK | MIGTCP_F_PSH;
	struct sk_buff *seg;

	if (cb->fin)
		flags |= MIGTCP_F_FIN;
	if (skb_cloned(skb)) {
		seg = pskb_copy(skb, GFP_ATOMIC);
		if (!seg)
			return -ENOBUFS;
		migtcp_set_gso(seg, msk->mss);
	} else {
		migtcp_set_gso(skb, msk->mss);
		seg = skb_clone(skb, GFP_ATOMIC);
		if (!seg)
			return -ENOBUFS;
	}
	migtcp_push_header(sk, seg, 0, flags, cb->seq);
	if (migtcp_before(cb->seq, msk->snd_max))
		migtcp_count_retransmit(sk, cb->seq, skb->len,
					DIV_ROUND_UP(skb->len, msk->mss) ?: 1);
	migtcp_rack_sent(sk, skb);
	msk->bytes_sent += skb->len;
	return migtcp_sk_xmit(sk, seg);
}

/*
 * Splits queued @skb after @len bytes: the rest becomes a new skb after
 * it, so that what the windows allow can go now (as tcp_fragment()).
 */
int migtcp_split(struct sock *sk, struct sk_buff *skb, u32 len)
{
	struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);
	struct sk_buff *rest;
	unsigned int moved;

	if (len >= skb->len || skb_headlen(skb))
		return -EINVAL;
	/* An earlier transmission shares the fragments: unshare them. */
	if (skb_unclone(skb, GFP_ATOMIC))
		return -ENOMEM;
	rest = migtcp_alloc_seg(sk, GFP_ATOMIC);
	if (!rest)
		return -ENOMEM;
	migtcp_wmem_charge_forced(sk, rest->truesize);
	skb_split(skb, rest, len);
	moved = rest->len;
	skb->truesize -= moved;
	rest->truesize += moved;

	*MIGTCP_SKB_CB(rest) = *cb;
	MIGTCP_SKB_CB(rest)->seq = cb->seq + len;
	cb->end_seq = cb->seq + len;
	cb->fin = false;
	__skb_queue_after(&sk->sk_write_queue, skb, rest);
	return 0;
}

/*
 * How many bytes of queued @skb may go now, @in_flight bytes being in
 * flight: what the peer's window and the congestion window leave, in
 * whole segments, and with Nagle's rule
 * (RFC 896) for a partial one at the end.  Sender-side silly window
 * avoidance (RFC 9293 3.8.6.2.1): less than a segment goes only if it is
 * all there is or at least half the largest window the peer offered.
 */
static u32 migtcp_send_quota(struct sock *sk, const struct sk_buff *skb,
			     u32 in_flight)
{
	const struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);
	struct migtcp_sock *msk = migtcp_sk(sk);
	u64 cwnd_bytes = (u64)msk->cwnd * msk->mss;
	u32 wnd_end = msk->snd_una + msk->snd_wnd;
	u32 room, len = skb->len;
	bool last = skb_queue_is_last(&sk->sk_write_queue, skb);

	/* A lone FIN takes no room. */
	if (!len)
		return 1;
	if (in_flight >= cwnd_bytes || !migtcp_after(wnd_end, cb->seq))
		return 0;
	room = min_t(u64, wnd_end - cb->seq, cwnd_bytes - in_flight);
	if (room < len) {
		if (room >= msk->mss)
			return rounddown(room, msk->mss);
		return room >= msk->max_window / 2 ? room : 0;
	}
	/*
	 * Nagle: a partial segment at the end of the queue waits while data
	 * is in flight, so that small writes travel together; MIGTCP_CORK
	 * holds it in any case, MIGTCP_NODELAY never.
	 */
	if (len % msk->mss && last && !cb->fin &&
	    (msk->cork || (!msk->nodelay && in_flight)))
		return rounddown(len, msk->mss);
	return len;
}

/*
 * Sends the queued segments not sent yet that the windows allow, and
 * keeps the retransmission timer running while anything is in flight.
 * With a closed window and nothing in flight the timer probes it.
 */
void migtcp_push(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct sk_buff *skb;
	u32 quota, in_flight, sent;

	if (!((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				     TCPF_FIN_WAIT1 | TCPF_CLOSING |
				     TCPF_LAST_ACK)) ||
	    migtcp_mig_blocks_send(sk))
		return;
	/*
	 * After a SYN cookie the listener holds the connection only once
	 * our ACK with the KX option reached it: data sent before would
	 * find no connection there (docs/protocol.md, "SYN cookies").
	 */
	if (migtcp_kx_cookie_wait(&msk->kx))
		return;
	/* In a recovery with SACK, the pipe: lost and SACKed data is out. */
	in_flight = msk->in_recovery &&
		    (msk->sacked_bytes || migtcp_rack_on(msk)) ?
		    migtcp_sack_pipe(sk) : msk->snd_nxt - msk->snd_una;
	sent = msk->snd_nxt;
	skb_queue_walk(&sk->sk_write_queue, skb) {
		const struct migtcp_skb_cb *cb = MIGTCP_SKB_CB(skb);

		if (!migtcp_after(cb->end_seq, msk->snd_nxt))
			continue;
		quota = migtcp_send_quota(sk, skb, in_flight);
		if (!quota)
			break;
		/* The rest of the skb follows it in the queue. */
		if (quota < skb->len && migtcp_split(sk, skb, quota))
			break;
		/* The user timeout counts from the oldest unacked data. */
		if (msk->snd_max == msk->snd_una)
			msk->retrans_stamp = jiffies;
		if (migtcp_transmit(sk, skb))
			break;
		in_flight += skb->len;
		/* Karn: time new data only, never a retransmission. */
		if (migtcp_after(cb->end_seq, msk->snd_max)) {
			if (!msk->rtt_start) {
				msk->rtt_seq = cb->end_seq;
				msk->rtt_start = jiffies;
			}
			msk->snd_max = cb->end_seq;
		}
		if (migtcp_after(cb->end_seq, msk->snd_nxt))
			msk->snd_nxt = cb->end_seq;
	}
	if (!skb_queue_empty(&sk->sk_write_queue) &&
	    !timer_pending(&sk->sk_timer))
		migtcp_arm_retransmit(sk);
	/* New data went: the loss probe waits for it (rack.c). */
	if (msk->snd_nxt != sent)
		migtcp_tlp_schedule(sk);
}

/*
 * Answers the SYN @syn to listener @lsk with a SYN-ACK that leaves no
 * state (a SYN cookie, syncookie.c): sequence number @iss, our KX half
 * @half with the C flag, our handshake MAC @mac.  The options are those
 * of any SYN-ACK (migtcp_send_ctl()); routed and owned as the
 * listener's own segments would be.
 */
int migtcp_send_cookie_synack(struct sock *lsk, const struct sk_buff *syn,
			      u32 iss, const u8 *half, const u8 *mac,
			      bool sack_perm)
{
	unsigned int optlen = MIGTCP_SYN_OPTLEN + MIGTCP_OPTLEN_HSMAC +
			      (sack_perm ? MIGTCP_SYN_SACK_LEN : 0);
	const struct migtcphdr *in = migtcp_hdr(syn);
	struct net *net = sock_net(lsk);
	struct in6_addr saddr, daddr, src;
	struct dst_entry *dst;
	struct migtcphdr *mh;
	struct sk_buff *skb;
	int mss;
	u8 *opt;

	migtcp_skb_daddr(syn, &saddr);
	migtcp_skb_saddr(syn, &daddr);
	dst = migtcp_route(net, lsk, &saddr, &daddr, &src);
	if (IS_ERR(dst)) {
		MIGTCP_INC_STATS(net, MIGTCP_STAT_OUT_NO_ROUTE);
		return PTR_ERR(dst);
	}
	mss = dst_mtu(dst) - migtcp_ip_hlen(&daddr) - sizeof(struct migtcphdr);
	if (migtcp_sk(lsk)->user_mss)
		mss = min_t(int, mss, migtcp_sk(lsk)->user_mss);
	mss = max(mss, MIGTCP_MIN_USER_MSS);

	skb = alloc_skb(MIGTCP_MAX_HEADER, GFP_ATOMIC);
	if (!skb) {
		dst_release(dst);
		return -ENOBUFS;
	}
	skb_reserve(skb, MIGTCP_MAX_HEADER);
	mh = skb_push(skb, sizeof(*mh) + optlen);
	memset(mh, 0, sizeof(*mh));
	mh->version	= MIGTCP_WIRE_VERSION;
	mh->doff	= (sizeof(*mh) + optlen) / 4;
	mh->flags	= htons(MIGTCP_F_SYN | MIGTCP_F_ACK);
	mh->src_node	= in->dst_node;
	mh->dst_node	= in->src_node;
	mh->src_port	= in->dst_port;
	mh->dst_port	= in->src_port;
	mh->seq		= htonl(iss);
	mh->ack_seq	= htonl(ntohl(in->seq) + 1);
	/* What a child's first window would be (never scaled on a SYN). */
	mh->window	= htons(min_t(u32, READ_ONCE(lsk->sk_rcvbuf) / 2,
				      U16_MAX));
	opt = (u8 *)(mh + 1);
	opt[0] = MIGTCP_OPT_MSS;
	opt[1] = MIGTCP_OPTLEN_MSS;
	put_unaligned_be16(mss, opt + 2);
	opt[4] = MIGTCP_OPT_NOP;
	opt[5] = MIGTCP_OPT_WSCALE;
	opt[6] = MIGTCP_OPTLEN_WSCALE;
	opt[7] = migtcp_our_wscale();
	migtcp_kx_put_opt(net, opt + MIGTCP_SYN_OPT_KX, half,
			  MIGTCP_KX_F_COOKIE);
	opt += MIGTCP_SYN_OPTLEN;
	if (sack_perm) {
		migtcp_write_sack_perm(opt);
		opt += MIGTCP_SYN_SACK_LEN;
	}
	migtcp_hs_put_opt(opt, mac);

	migtcp_skb_set_owner(lsk, skb);
	MIGTCP_INC_STATS(net, MIGTCP_STAT_SYNCOOKIES_SENT);
	return migtcp_ip_send(net, skb, dst, &src, &daddr, false);
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
	struct in6_addr saddr, daddr;
	struct migtcphdr *mh;
	struct sk_buff *skb;
	u32 seg_len;

	if (in_flags & MIGTCP_F_RST)
		return;

	skb = alloc_skb(MIGTCP_MAX_HEADER, GFP_ATOMIC);
	if (!skb)
		return;
	skb_reserve(skb, MIGTCP_MAX_HEADER);
	mh = skb_push(skb, sizeof(*mh));
	memset(mh, 0, sizeof(*mh));
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

	MIGTCP_INC_STATS(net, MIGTCP_STAT_OUT_RSTS);
	migtcp_skb_daddr(in_skb, &saddr);
	migtcp_skb_saddr(in_skb, &daddr);
	migtcp_xmit(net, skb, &saddr, &daddr);
}
