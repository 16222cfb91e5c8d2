// SPDX-License-Identifier: GPL-2.0
/*
 * Receiving migtcp segments from IPv4.  Every segment is validated
 * before any field is trusted: it must be unicast to this host, hold a
 * whole header, carry a correct checksum over the pseudo-header, speak
 * our wire version, give a header length that fits the segment with a
 * walkable options area, carry only flags that make sense, and come from
 * (and go to) an endpoint that can exist: no node 0, no port 0.
 * Each segment is counted once, as intact or under the reason it was
 * dropped.  An intact one then meets the node's IPsec policy and the
 * socket's filter (policy.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sizes.h>
#include <linux/skbuff.h>
#include <net/dropreason.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/protocol.h>
#include <net/route.h>

#include "migtcp.h"

/*
 * The options area must be walkable (docs/protocol.md, "Parsing"): every
 * option but EOL and NOP has a length of at least 2 that stays inside
 * the area.  Option contents are judged later, by who uses them.
 */
static bool migtcp_options_ok(const struct migtcphdr *mh)
{
	const u8 *opt = (const u8 *)(mh + 1);
	const u8 *end = (const u8 *)mh + mh->doff * 4;

	while (opt < end && *opt != MIGTCP_OPT_EOL) {
		if (*opt == MIGTCP_OPT_NOP) {
			opt++;
			continue;
		}
		if (end - opt < 2 || opt[1] < 2 || opt[1] > end - opt)
			return false;
		opt += opt[1];
	}
	return true;
}

/*
 * Node 0 and port 0 name no endpoint (bind() reads them as "this node"
 * and "any port"): a segment from either could open a connection that
 * nothing can answer, and is never answered itself, as TCP does not
 * answer port 0.  A control segment's ports are checked with its TLV:
 * messages to and from a registrar carry port 0 there.
 */
static bool migtcp_endpoints_ok(const struct migtcphdr *mh, u16 flags)
{
	if (!mh->src_node)
		return false;
	return (flags & MIGTCP_F_CTL) || (mh->src_port && mh->dst_port);
}

/*
 * Returns 0 when @skb holds a well-formed segment whose header is in the
 * linear area, or the counter that explains why it must be dropped.
 */
static enum migtcp_stat migtcp_validate(struct sk_buff *skb)
{
	const struct migtcphdr *mh;
	unsigned int hdrlen;
	u16 flags;

	/*
	 * Broadcasts and multicasts sent from this host come back as
	 * PACKET_HOST: the route says what they really are.
	 */
	if (skb->pkt_type != PACKET_HOST ||
	    skb_rtable(skb)->rt_flags & (RTCF_BROADCAST | RTCF_MULTICAST))
		return MIGTCP_STAT_IN_ADDR_ERRORS;

	if (!pskb_may_pull(skb, sizeof(*mh)))
		return MIGTCP_STAT_IN_HDR_ERRORS;

	/* A corrupted header says nothing: verify the checksum first. */
	if (skb_checksum_validate(skb, migtcp_proto, inet_compute_pseudo))
		return MIGTCP_STAT_IN_CSUM_ERRORS;

	mh = migtcp_hdr(skb);
	if (mh->version != MIGTCP_WIRE_VERSION)
		return MIGTCP_STAT_IN_BAD_VERSION;

	hdrlen = mh->doff * 4;
	if (mh->doff < MIGTCP_HDR_MIN_DOFF || hdrlen > skb->len ||
	    !pskb_may_pull(skb, hdrlen) || !migtcp_options_ok(migtcp_hdr(skb)))
		return MIGTCP_STAT_IN_HDR_ERRORS;

	/*
	 * Unlike TCP's receivers, ours refuse reserved bits: a peer that
	 * sets them speaks a protocol we do not, and a SYN that also
	 * finishes or resets is never sent by an honest one.
	 */
	flags = ntohs(migtcp_hdr(skb)->flags);
	if ((flags & MIGTCP_F_CTL) && flags != MIGTCP_F_CTL)
		return MIGTCP_STAT_IN_CTL_ERRORS;
	if (flags & ~MIGTCP_F_KNOWN ||
	    ((flags & MIGTCP_F_SYN) && (flags & (MIGTCP_F_FIN | MIGTCP_F_RST))))
		return MIGTCP_STAT_IN_BAD_FLAGS;

	if (!migtcp_endpoints_ok(migtcp_hdr(skb), flags))
		return MIGTCP_STAT_IN_BAD_ENDPOINT;

	return MIGTCP_STAT_IN_SEGS;
}

/*
 * Endpoints are named by node id, not by IP address: a segment is for
 * this node if it names this node's id, or an endpoint that migrated
 * here (found by the demultiplexing).  A node without an id takes nothing.
 */
static bool migtcp_for_this_node(struct net *net, const struct sk_buff *skb)
{
	u32 id = READ_ONCE(migtcp_pernet(net)->node.id);

	return id && migtcp_hdr(skb)->dst_node == htonl(id);
}

/*
 * What may wait for a socket's owner: both buffers, as TCP allows, and
 * 64 KiB more (tcp_add_backlog()'s headroom), so that a full receive
 * buffer does not also drop the ACKs and window updates that come with
 * a GSO burst while the owner is busy.
 */
static unsigned int migtcp_backlog_limit(const struct sock *sk)
{
	u64 limit = (u64)READ_ONCE(sk->sk_rcvbuf) + READ_ONCE(sk->sk_sndbuf) +
		    SZ_64K;

	/* Both buffers may be forced to INT_MAX - 1 (SO_RCVBUFFORCE). */
	return min_t(u64, limit, UINT_MAX);
}

/*
 * Processes @skb on @sk now, or after its owner releases the lock; the
 * socket's filter first, as TCP runs it before the backlog.
 */
void migtcp_deliver(struct sock *sk, struct sk_buff *skb)
{
	if (migtcp_sk_filter_drops(sk, skb))
		return;
	bh_lock_sock_nested(sk);
	if (!sock_owned_by_user(sk)) {
		migtcp_sock_rcv(sk, skb);
		goto unlock;
	}
	/* The route may be RCU-protected only: it must not outlive softirq. */
	skb_dst_drop(skb);
	if (sk_add_backlog(sk, skb, migtcp_backlog_limit(sk))) {
		migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_BACKLOG_DROPS);
		kfree_skb_reason(skb, SKB_DROP_REASON_SOCKET_BACKLOG);
	}
unlock:
	bh_unlock_sock(sk);
}

/*
 * Finds who takes @skb: its connection, or for a SYN (or a SYN cookie's
 * ACK) a listener on its port.  Returns false if nobody does (the
 * segment is still the caller's).
 */
static bool migtcp_demux(struct net *net, struct sk_buff *skb)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	struct migtcp_net *mn = migtcp_pernet(net);
	u16 syn_only = ntohs(mh->flags) &
		       (MIGTCP_F_SYN | MIGTCP_F_ACK | MIGTCP_F_RST);
	struct sock *sk;

	sk = migtcp_conn_lookup(mn, ntohl(mh->dst_node), ntohs(mh->dst_port),
				ntohl(mh->src_node), ntohs(mh->src_port));
	if (sk) {
		migtcp_deliver(sk, skb);
		sock_put(sk);
		return true;
	}
	/*
	 * Besides SYNs, a listener takes the ACKs that answer its SYN
	 * cookies: without SYN, RST or FIN, with options (syncookie.c).
	 */
	if (syn_only != MIGTCP_F_SYN &&
	    !(syn_only == MIGTCP_F_ACK && !(mh->flags & htons(MIGTCP_F_FIN)) &&
	      mh->doff > MIGTCP_HDR_MIN_DOFF && READ_ONCE(migtcp_syncookies)))
		return false;
	sk = migtcp_listener_lookup(mn, ntohl(mh->dst_node),
				    ntohs(mh->dst_port));
	if (!sk)
		return false;
	if (migtcp_sk_filter_drops(sk, skb) ||
	    migtcp_mig_drops_input(sk, skb)) {
		sock_put(sk);
		return true;
	}
	migtcp_listen_rcv(sk, skb);
	sock_put(sk);
	consume_skb(skb);
	return true;
}

static int migtcp_v4_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);
	enum migtcp_stat verdict;

	verdict = migtcp_validate(skb);
	if (verdict != MIGTCP_STAT_IN_SEGS) {
		migtcp_drop(net, skb, verdict);
		kfree_skb_reason(skb, verdict == MIGTCP_STAT_IN_CSUM_ERRORS ?
				 SKB_DROP_REASON_SKB_CSUM :
				 SKB_DROP_REASON_NOT_SPECIFIED);
		return 0;
	}
	MIGTCP_INC_STATS(net, MIGTCP_STAT_IN_SEGS);

	if (!migtcp_rcv_policy_ok(net, skb)) {
		kfree_skb_reason(skb, SKB_DROP_REASON_XFRM_POLICY);
		return 0;
	}

	if (!READ_ONCE(migtcp_pernet(net)->node.id)) {
		migtcp_drop(net, skb, MIGTCP_STAT_IN_WRONG_NODE);
		kfree_skb_reason(skb, SKB_DROP_REASON_NOT_SPECIFIED);
		return 0;
	}
	if (ntohs(migtcp_hdr(skb)->flags) & MIGTCP_F_CTL) {
		migtcp_ctl_rcv(net, skb);
		return 0;
	}
	if (migtcp_demux(net, skb))
		return 0;
	if (!migtcp_for_this_node(net, skb)) {
		migtcp_drop(net, skb, MIGTCP_STAT_IN_WRONG_NODE);
		kfree_skb_reason(skb, SKB_DROP_REASON_NOT_SPECIFIED);
		return 0;
	}

	migtcp_drop(net, skb, MIGTCP_STAT_IN_NO_SOCKET);
	migtcp_send_reset(net, skb);
	kfree_skb_reason(skb, SKB_DROP_REASON_NO_SOCKET);
	return 0;
}

/*
 * What an ICMP error of @type and @code means to a connection: a
 * negative errno, or 0 if nothing (as tcp_v4_err() reads them).
 */
static int migtcp_icmp_err(int type, int code)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
		return code <= NR_ICMP_UNREACH ?
		       -icmp_err_convert[code].errno : 0;
	case ICMP_TIME_EXCEEDED:
		return -EHOSTUNREACH;
	case ICMP_PARAMETERPROB:
		return -EPROTO;
	default:
		return 0;
	}
}

/*
 * An ICMP error about a segment we sent, whose IP header and at least 8
 * bytes of ours the ICMP layer put at @skb->data; for "fragmentation
 * needed" @info is the next hop's MTU (RFC 1191).  Who may forge ICMP
 * (RFC 5927) is heard only about a segment of a connection it knows, to
 * where that connection's segments go, with a sequence number that is in
 * flight, as TCP checks.  Then, as tcp_v4_err() does:
 *   - "fragmentation needed" lowers the path's MTU (the route's
 *     exception, shared with TCP) and with it the MSS, and what went at
 *     the larger size goes again (migtcp_mtu_reduced());
 *   - a redirect updates the route;
 *   - any other error ends a connect() at once, and is otherwise kept
 *     as the soft error that a timeout reports (RFC 1122 4.2.3.9).
 */
static int migtcp_v4_err(struct sk_buff *skb, u32 info)
{
	const int type = icmp_hdr(skb)->type, code = icmp_hdr(skb)->code;
	struct net *net = dev_net(skb->dev);
	const struct migtcphdr *mh;
	const struct iphdr *iph;
	struct migtcp_sock *msk;
	unsigned int ihl;
	struct sock *sk;
	int err;

	/* Nodes, ports and seq: more than the 8 bytes RFC 792 promises,
	 * less than RFC 1812 routers and Linux quote.
	 */
	ihl = ((const struct iphdr *)skb->data)->ihl * 4;
	if (!pskb_may_pull(skb, ihl + offsetofend(struct migtcphdr, seq)))
		return -EINVAL;
	iph = (const struct iphdr *)skb->data;
	mh = (const struct migtcphdr *)(skb->data + ihl);
	sk = migtcp_conn_lookup(migtcp_pernet(net), ntohl(mh->src_node),
				ntohs(mh->src_port), ntohl(mh->dst_node),
				ntohs(mh->dst_port));
	if (!sk) {
		__ICMP_INC_STATS(net, ICMP_MIB_INERRORS);
		return -ENOENT;
	}
	msk = migtcp_sk(sk);
	bh_lock_sock(sk);
	if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_TIME_WAIT))
		goto out;
	if (iph->daddr != READ_ONCE(msk->path_daddr) ||
	    !migtcp_between(ntohl(mh->seq), msk->snd_una, msk->snd_max)) {
		MIGTCP_INC_STATS(net, MIGTCP_STAT_OUT_OF_WINDOW_ICMPS);
		goto out;
	}
	if (type == ICMP_REDIRECT) {
		/* Its user may be using the cached route: as TCP, not now. */
		if (!sock_owned_by_user(sk)) {
			ipv4_redirect(skb, net, READ_ONCE(sk->sk_bound_dev_if),
				      migtcp_proto);
			__sk_dst_reset(sk);
		}
		goto out;
	}
	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED) {
		ipv4_update_pmtu(skb, net, info,
				 READ_ONCE(sk->sk_bound_dev_if), migtcp_proto);
		if (!sock_owned_by_user(sk))
			migtcp_mtu_reduced(sk);
		else if (!test_and_set_bit(MIGTCP_DEFERRED_MTU,
					   &msk->deferred))
			sock_hold(sk);
		goto out;
	}
	/* sk_err and sk_err_soft hold positive errnos. */
	err = -migtcp_icmp_err(type, code);
	if (!err)
		goto out;
	if (sk->sk_state == TCP_SYN_SENT && !sock_owned_by_user(sk))
		migtcp_done(sk, err);
	else
		WRITE_ONCE(sk->sk_err_soft, err);
out:
	bh_unlock_sock(sk);
	sock_put(sk);
	return 0;
}

/*
 * no_policy: the IP layer leaves the IPsec input policy and conntrack to
 * us (migtcp_rcv_policy_ok()), as it leaves them to TCP, so that a
 * refused segment is counted.
 */
static const struct net_protocol migtcp_v4_protocol = {
	.handler	= migtcp_v4_rcv,
	.err_handler	= migtcp_v4_err,
	.no_policy	= 1,
};

int migtcp_receive_register(void)
{
	if (inet_add_protocol(&migtcp_v4_protocol, migtcp_proto) < 0) {
		pr_err("IP protocol %d is already in use; load with proto=N to pick a free one\n",
		       migtcp_proto);
		return -EEXIST;
	}
	return 0;
}

void migtcp_receive_unregister(void)
{
	/* inet_del_protocol() waits for handlers still running. */
	inet_del_protocol(&migtcp_v4_protocol, migtcp_proto);
}
