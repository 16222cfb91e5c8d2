// SPDX-License-Identifier: GPL-2.0
/*
 * Receiving migtcp segments from IPv4 and IPv6.  Every segment is validated
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

#include <linux/icmpv6.h>
#include <linux/sizes.h>
#include <linux/skbuff.h>
#include <net/addrconf.h>
#include <net/dropreason.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/ndisc.h>
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
static enum migtcp_stat migtcp_validate(struct sk_buff *skb, bool v6)
{
	const struct migtcphdr *mh;
	unsigned int hdrlen;
	bool bad_csum;
	u16 flags;

	/*
	 * Broadcasts and multicasts sent from this host come back as
	 * PACKET_HOST: the route says what they really are.
	 */
	if (skb->pkt_type != PACKET_HOST ||
	    (!v6 &&
	     skb_rtable(skb)->rt_flags & (RTCF_BROADCAST | RTCF_MULTICAST)))
		return MIGTCP_STAT_IN_ADDR_ERRORS;
	/*
	 * Over IPv6, both ends are global unicast addresses, as every
	 * node's is (migtcp_addr6_usable()).  IPv6 itself passes v4-mapped
	 * ones, which the module would take for the IPv4 address inside
	 * (as tcp_v6_rcv() drops them), and scoped ones, which would need
	 * the interface to answer.
	 */
	if (v6 && (!migtcp_addr6_usable(&ipv6_hdr(skb)->saddr) ||
		   !migtcp_addr6_usable(&ipv6_hdr(skb)->daddr)))
		return MIGTCP_STAT_IN_ADDR_ERRORS;

	if (!pskb_may_pull(skb, sizeof(*mh)))
		return MIGTCP_STAT_IN_HDR_ERRORS;

	/* A corrupted header says nothing: verify the checksum first. */
	if (v6)
		bad_csum = skb_checksum_validate(skb, migtcp_proto,
						 ip6_compute_pseudo);
	else
		bad_csum = skb_checksum_validate(skb, migtcp_proto,
						 inet_compute_pseudo);
	if (bad_csum)
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

/* A segment that IPv6 (@v6) or IPv4 delivered to us. */
static int migtcp_rcv(struct sk_buff *skb, bool v6)
{
	struct net *net = dev_net(skb->dev);
	enum migtcp_stat verdict;

	verdict = migtcp_validate(skb, v6);
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

static int migtcp_v4_rcv(struct sk_buff *skb)
{
	return migtcp_rcv(skb, false);
}

static int migtcp_v6_rcv(struct sk_buff *skb)
{
	return migtcp_rcv(skb, true);
}

/*
 * The connection an ICMP or ICMPv6 error is about: our segment @mh.
 * Held; NULL if no connection has those ends.
 */
static struct sock *migtcp_err_lookup(struct net *net,
				      const struct migtcphdr *mh)
{
	return migtcp_conn_lookup(migtcp_pernet(net), ntohl(mh->src_node),
				  ntohs(mh->src_port), ntohl(mh->dst_node),
				  ntohs(mh->dst_port));
}

/*
 * Whether @sk (bh-locked) hears an error about its segment @mh to
 * @daddr.  Who may forge ICMP (RFC 5927) is heard only about a segment of
 * a connection it knows, to where that connection's segments go, with a
 * sequence number that is in flight, as TCP checks.
 */
static bool migtcp_err_heard(struct sock *sk, const struct migtcphdr *mh,
			     const struct in6_addr *daddr)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);

	if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_TIME_WAIT))
		return false;
	if (!ipv6_addr_equal(daddr, &msk->path_daddr) ||
	    !migtcp_between(ntohl(mh->seq), msk->snd_una, msk->snd_max)) {
		MIGTCP_INC_STATS(sock_net(sk), MIGTCP_STAT_OUT_OF_WINDOW_ICMPS);
		return false;
	}
	return true;
}

/* The path of @sk (bh-locked) has a smaller MTU in its route now. */
static void migtcp_err_mtu(struct sock *sk)
{
	if (!sock_owned_by_user(sk))
		migtcp_mtu_reduced(sk);
	else if (!test_and_set_bit(MIGTCP_DEFERRED_MTU,
				   &migtcp_sk(sk)->deferred))
		sock_hold(sk);
}

/* @err (positive) from an ICMP error that ends nothing by itself. */
static void migtcp_err_other(struct sock *sk, int err)
{
	if (sk->sk_state == TCP_SYN_SENT && !sock_owned_by_user(sk))
		migtcp_done(sk, err);
	else
		WRITE_ONCE(sk->sk_err_soft, err);
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
 * needed" @info is the next hop's MTU (RFC 1191).  For a connection that
 * migtcp_err_sock() finds, as tcp_v4_err() does:
 *   - "fragmentation needed" lowers the path's MTU (the route's
 *     exception, shared with TCP) and with it the MSS, and what went at
 *     the larger size goes again (migtcp_mtu_reduced());
 *   - a redirect updates the route;
 *   - any other error ends a connect() at once, and is otherwise kept
 *     as the soft error that a timeout reports (RFC 1122 4.2.3.9).
 */
/* What ICMP error @type/@code (@info) does to @sk, bh-locked. */
static void migtcp_v4_err_sk(struct sock *sk, struct sk_buff *skb, int type,
			     int code, u32 info)
{
	struct net *net = sock_net(sk);
	int err;

	if (type == ICMP_REDIRECT) {
		/* Its user may be using the cached route: as TCP, not now. */
		if (!sock_owned_by_user(sk)) {
			ipv4_redirect(skb, net, READ_ONCE(sk->sk_bound_dev_if),
				      migtcp_proto);
			__sk_dst_reset(sk);
		}
	} else if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED) {
		ipv4_update_pmtu(skb, net, info,
				 READ_ONCE(sk->sk_bound_dev_if), migtcp_proto);
		migtcp_err_mtu(sk);
	} else {
		/* sk_err and sk_err_soft hold positive errnos. */
		err = -migtcp_icmp_err(type, code);
		if (err)
			migtcp_err_other(sk, err);
	}
}

static int migtcp_v4_err(struct sk_buff *skb, u32 info)
{
	const int type = icmp_hdr(skb)->type, code = icmp_hdr(skb)->code;
	struct net *net = dev_net(skb->dev);
	const struct migtcphdr *mh;
	struct in6_addr daddr;
	unsigned int ihl;
	struct sock *sk;

	/* Nodes, ports and seq: more than the 8 bytes RFC 792 promises,
	 * less than RFC 1812 routers and Linux quote.
	 */
	ihl = ((const struct iphdr *)skb->data)->ihl * 4;
	if (!pskb_may_pull(skb, ihl + offsetofend(struct migtcphdr, seq)))
		return -EINVAL;
	migtcp_addr_set4(&daddr, ((const struct iphdr *)skb->data)->daddr);
	mh = (const struct migtcphdr *)(skb->data + ihl);
	sk = migtcp_err_lookup(net, mh);
	if (!sk) {
		__ICMP_INC_STATS(net, ICMP_MIB_INERRORS);
		return -ENOENT;
	}
	bh_lock_sock(sk);
	if (migtcp_err_heard(sk, mh, &daddr))
		migtcp_v4_err_sk(sk, skb, type, code, info);
	bh_unlock_sock(sk);
	sock_put(sk);
	return 0;
}

/* What ICMPv6 error @type/@code (@info) does to @sk, bh-locked. */
static void migtcp_v6_err_sk(struct sock *sk, struct sk_buff *skb, u8 type,
			     u8 code, __be32 info)
{
	struct net *net = sock_net(sk);
	int err;

	if (type == NDISC_REDIRECT) {
		if (!sock_owned_by_user(sk)) {
			ip6_redirect(skb, net, READ_ONCE(sk->sk_bound_dev_if),
				     READ_ONCE(sk->sk_mark), sk->sk_uid);
			__sk_dst_reset(sk);
		}
	} else if (type == ICMPV6_PKT_TOOBIG) {
		if (ntohl(info) >= IPV6_MIN_MTU) {
			ip6_update_pmtu(skb, net, info,
					READ_ONCE(sk->sk_bound_dev_if),
					READ_ONCE(sk->sk_mark), sk->sk_uid);
			migtcp_err_mtu(sk);
		}
	} else {
		icmpv6_err_convert(type, code, &err);
		if (err)
			migtcp_err_other(sk, err);
	}
}

/*
 * The same for ICMPv6 (RFC 4443), as tcp_v6_err() reads it: @skb->data
 * is the IPv6 header of our segment, which starts @offset bytes on; a
 * Packet Too Big gives the next hop's MTU in @info (RFC 8201), never
 * below IPv6's minimum.
 */
static int migtcp_v6_err(struct sk_buff *skb, struct inet6_skb_parm *opt,
			 u8 type, u8 code, int offset, __be32 info)
{
	struct net *net = dev_net(skb->dev);
	const struct migtcphdr *mh;
	struct in6_addr daddr;
	struct sock *sk;

	if (!pskb_may_pull(skb, offset + offsetofend(struct migtcphdr, seq)))
		return -EINVAL;
	daddr = ((const struct ipv6hdr *)skb->data)->daddr;
	/* None of ours went to one (migtcp_validate()): not an IPv4 path's. */
	if (!migtcp_addr6_usable(&daddr))
		return -ENOENT;
	mh = (const struct migtcphdr *)(skb->data + offset);
	sk = migtcp_err_lookup(net, mh);
	if (!sk) {
		__ICMP6_INC_STATS(net, __in6_dev_get(skb->dev),
				  ICMP6_MIB_INERRORS);
		return -ENOENT;
	}
	bh_lock_sock(sk);
	if (migtcp_err_heard(sk, mh, &daddr))
		migtcp_v6_err_sk(sk, skb, type, code, info);
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

static const struct inet6_protocol migtcp_v6_protocol = {
	.handler	= migtcp_v6_rcv,
	.err_handler	= migtcp_v6_err,
	.flags		= INET6_PROTO_NOPOLICY | INET6_PROTO_FINAL,
};

/*
 * Without IPv6 (ipv6.disable=1) the IPv6 handler is not registered, and
 * no IPv6 address can be configured (netlink.c) or restored.
 */
int migtcp_receive_register(void)
{
	if (inet_add_protocol(&migtcp_v4_protocol, migtcp_proto) < 0)
		goto taken;
	if (ipv6_mod_enabled() &&
	    inet6_add_protocol(&migtcp_v6_protocol, migtcp_proto) < 0) {
		inet_del_protocol(&migtcp_v4_protocol, migtcp_proto);
		goto taken;
	}
	return 0;
taken:
	pr_err("IP protocol %d is already in use; load with proto=N to pick a free one\n",
	       migtcp_proto);
	return -EEXIST;
}

void migtcp_receive_unregister(void)
{
	/* inet*_del_protocol() wait for handlers still running. */
	if (ipv6_mod_enabled())
		inet6_del_protocol(&migtcp_v6_protocol, migtcp_proto);
	inet_del_protocol(&migtcp_v4_protocol, migtcp_proto);
}
