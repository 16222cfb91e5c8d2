// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's policy hooks, applied to migtcp segments and sockets where
 * TCP applies them, so that the tools that firewall and isolate TCP
 * traffic hold for AF_MIGTCP too (docs/migtcp.7, "Policy and firewalls"):
 *
 *  - receive: the node's IPsec input policy (xfrm4_policy_check), the
 *    conntrack reference dropped before a segment is queued, and the
 *    socket's filter (SO_ATTACH_FILTER, with the LSM's sock_rcv_skb);
 *  - output: segments of a socket are owned by it (netfilter's "meta
 *    skuid" and "socket cgroupv2" see it) and routed with its
 *    SO_BINDTODEVICE device, SO_MARK, uid and LSM flow label, through
 *    the IPsec output policy;
 *  - passive opens: a connection made in softirq for a listener gets the
 *    listener's cgroup, memory cgroup and LSM label, as a TCP child gets
 *    them by sk_clone_lock() and inet_csk_accept().
 *
 * cgroup-BPF skb programs (BPF_CGROUP_INET_INGRESS/EGRESS) never run for
 * AF_MIGTCP: __cgroup_bpf_run_filter_skb() returns early for any socket
 * family but AF_INET and AF_INET6, although sk_filter_trim_cap() and
 * ip_finish_output() call it for ours.
 */
#include <linux/bpf-cgroup.h>
#include <linux/cgroup.h>
#include <linux/filter.h>
#include <linux/memcontrol.h>
#include <linux/security.h>
#include <linux/skbuff.h>
#include <net/addrconf.h>
#include <net/dropreason.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/xfrm.h>

#include "migtcp.h"

/*
 * Checks a valid segment against the node's IPsec input policy and
 * detaches it from conntrack; false if it must be dropped (counted).
 *
 * The IP layer checks it for protocols that do not say no_policy, but
 * then a refused segment is counted nowhere; ours says it, as TCP does.
 * TCP checks the policy with the socket it found, and with none before
 * it answers with a reset.  An AF_MIGTCP socket has no per-socket policy
 * (that is the IP-level IP_XFRM_POLICY option, which it does not have):
 * the node's policy is the whole of it, so one check before the
 * demultiplexing is the same check, and a segment it refuses neither
 * reaches a socket nor draws a reset or a control answer.
 */
bool migtcp_rcv_policy_ok(struct net *net, struct sk_buff *skb)
{
	bool ok = ip_hdr(skb)->version == 6 ?
		  xfrm6_policy_check(NULL, XFRM_POLICY_IN, skb) :
		  xfrm4_policy_check(NULL, XFRM_POLICY_IN, skb);

	if (!ok) {
		migtcp_drop(net, skb, MIGTCP_STAT_IN_XFRM_DROPS);
		return false;
	}
	/* A segment may wait in a socket for long: it pins no conntrack. */
	nf_reset_ct(skb);
	return true;
}

/*
 * Runs @sk's socket filter (SO_ATTACH_FILTER, SO_ATTACH_BPF) and the
 * LSM's socket_sock_rcv_skb on @skb, a segment for @sk, before it is
 * processed or queued to the backlog, as tcp_filter() does.  The filter
 * may shorten the payload but never the header.  Returns true if the
 * segment was dropped (counted and freed).
 */
bool migtcp_sk_filter_drops(struct sock *sk, struct sk_buff *skb)
{
	if (!sk_filter_trim_cap(sk, skb, migtcp_hdr(skb)->doff * 4))
		return false;
	migtcp_drop(sock_net(sk), skb, MIGTCP_STAT_IN_FILTER_DROPS);
	kfree_skb_reason(skb, SKB_DROP_REASON_SOCKET_FILTER);
	return true;
}

/*
 * The source address for a segment to @daddr when the caller leaves it
 * open: this node's underlay address of @daddr's family, when it is one
 * of this host's.  A peer takes a node's SYN only from an address of that
 * node's entry (input.c), so the source must not be whatever the route
 * prefers: a host whose route to a peer leaves by another interface would
 * prefer that interface's address.  None (the route's choice) without one.
 */
void migtcp_node_saddr(struct net *net, const struct in6_addr *daddr,
		       struct in6_addr *saddr)
{
	const struct migtcp_node *node = &migtcp_pernet(net)->node;
	__be32 addr4;

	if (migtcp_addr_is4(daddr)) {
		addr4 = READ_ONCE(node->addr4);
		if (addr4 && inet_addr_type(net, addr4) != RTN_LOCAL)
			addr4 = 0;
		migtcp_addr_set4(saddr, addr4);
		return;
	}
	migtcp_node_addr6(node, saddr);
	/* Without IPv6 (ipv6.disable=1) there are no IPv6 addresses. */
	if (!ipv6_addr_any(saddr) &&
	    (!ipv6_mod_enabled() || !ipv6_chk_addr(net, saddr, NULL, 0)))
		*saddr = in6addr_any;
}

static struct dst_entry *migtcp_route4(struct net *net, struct sock *sk,
				       const struct in6_addr *saddr,
				       const struct in6_addr *daddr,
				       struct in6_addr *route_saddr)
{
	struct flowi4 fl4;
	struct rtable *rt;

	if (sk)
		flowi4_init_output(&fl4, READ_ONCE(sk->sk_bound_dev_if),
				   READ_ONCE(sk->sk_mark), 0, RT_SCOPE_UNIVERSE,
				   migtcp_proto, 0, migtcp_addr4(daddr),
				   migtcp_addr4(saddr), 0, 0, sk->sk_uid);
	else
		flowi4_init_output(&fl4, 0, 0, 0, RT_SCOPE_UNIVERSE,
				   migtcp_proto, 0, migtcp_addr4(daddr),
				   migtcp_addr4(saddr), 0, 0,
				   make_kuid(net->user_ns, 0));
	if (sk)
		security_sk_classify_flow(sk, flowi4_to_flowi_common(&fl4));
	rt = ip_route_output_flow(net, &fl4, sk);
	if (IS_ERR(rt))
		return ERR_CAST(rt);
	migtcp_addr_set4(route_saddr, fl4.saddr);
	return &rt->dst;
}

/*
 * ip6_dst_lookup_flow() is not given the socket: the IPv6 routing code
 * reads an IPv6 socket's preferences (inet6_sk()) from any socket it
 * gets, and ours has none.  Its keys go in the flow instead.
 */
static struct dst_entry *migtcp_route6(struct net *net, struct sock *sk,
				       const struct in6_addr *saddr,
				       const struct in6_addr *daddr,
				       struct in6_addr *route_saddr)
{
	struct flowi6 fl6 = {
		.flowi6_proto	= migtcp_proto,
		.daddr		= *daddr,
		.saddr		= *saddr,
		.flowi6_uid	= sk ? sk->sk_uid : make_kuid(net->user_ns, 0),
	};
	struct dst_entry *dst;

	if (sk) {
		fl6.flowi6_oif = READ_ONCE(sk->sk_bound_dev_if);
		fl6.flowi6_mark = READ_ONCE(sk->sk_mark);
		security_sk_classify_flow(sk, flowi6_to_flowi_common(&fl6));
	}
	dst = ip6_dst_lookup_flow(net, NULL, &fl6, NULL);
	if (!IS_ERR(dst))
		*route_saddr = fl6.saddr;
	return dst;
}

/*
 * Routes segments from @saddr (NULL or none: this node's address, see
 * migtcp_node_saddr()) to @daddr, over IPv4 or IPv6 as @daddr is, and
 * returns the route (a reference) and in @route_saddr the source it
 * chose.  For a socket @sk, as ip_route_connect() routes a TCP socket's:
 * through the device it is bound to (SO_BINDTODEVICE), with its mark
 * (SO_MARK, for "ip rule fwmark") and uid (for "ip rule uidrange"), the
 * flow labelled by the LSM; without one (resets, registrar messages) as
 * TCP routes its resets.  The route is looked up in the IPsec output
 * policy (ip_route_output_flow() and ip6_dst_lookup_flow() call
 * xfrm_lookup_route()).  AF_MIGTCP has no IP-level options: its segments
 * have TOS 0 and no flow label, and are routed with them.
 */
struct dst_entry *migtcp_route(struct net *net, struct sock *sk,
			       const struct in6_addr *saddr,
			       const struct in6_addr *daddr,
			       struct in6_addr *route_saddr)
{
	struct in6_addr src;

	if (saddr && !migtcp_addr_none(saddr))
		src = *saddr;
	else
		migtcp_node_saddr(net, daddr, &src);
	if (migtcp_addr_is4(daddr))
		return migtcp_route4(net, sk, &src, daddr, route_saddr);
	/*
	 * An IPv6 address can still come from a checkpoint or a peer's
	 * control message where IPv6 is disabled (ipv6.disable=1), whose
	 * routing tables do not exist.
	 */
	if (!ipv6_mod_enabled())
		return ERR_PTR(-EAFNOSUPPORT);
	return migtcp_route6(net, sk, &src, daddr, route_saddr);
}

/*
 * Makes @sk the owner of @skb, a segment it sends: netfilter reads the
 * owner's uid ("meta skuid"), cgroup ("socket cgroupv2") and mark from
 * it, the qdiscs its priority.  The segment's memory is charged to the
 * socket's sk_wmem_alloc until the device is done with it, which also
 * keeps the sock from being freed under it (skb_set_owner_w()); the send
 * buffer's limit is sk_wmem_queued's (SOCK_USE_WRITE_QUEUE), as TCP's.
 */
void migtcp_skb_set_owner(struct sock *sk, struct sk_buff *skb)
{
	/*
	 * A socket in TIME_WAIT is no full socket to the core
	 * (sk_fullsock()): skb_set_owner_w() would take it for an
	 * inet_timewait_sock, and who reads skb->sk for one (sock_gen_put()
	 * on the last reference, netfilter) would read ours as one.  Its
	 * last ACKs go unowned, as TCP's do (ip_send_unicast_reply()).
	 */
	if (sk_fullsock(sk))
		skb_set_owner_w(skb, sk);
	skb->mark = READ_ONCE(sk->sk_mark);
	skb->priority = READ_ONCE(sk->sk_priority);
}

/*
 * The listener's cgroup v2 (and v1 net_cls/net_prio data) for @child,
 * made in softirq, where sk_alloc() gave it the root cgroup: what
 * cgroup_sk_clone() gives a clone, which a module cannot call.  The
 * references are those cgroup_sk_free() drops.
 */
static void migtcp_child_cgroup(struct sock *lsk, struct sock *child)
{
#ifdef CONFIG_SOCK_CGROUP_DATA
	struct cgroup *old = sock_cgroup_ptr(&child->sk_cgrp_data);
	struct cgroup *cgrp = sock_cgroup_ptr(&lsk->sk_cgrp_data);

	/*
	 * The listener's cgroup may be rmdir'd but is not freed while the
	 * listener holds it: a plain get, as cgroup_sk_clone().
	 */
	cgroup_get(cgrp);
	cgroup_bpf_get(cgrp);
	child->sk_cgrp_data = lsk->sk_cgrp_data;
	cgroup_bpf_put(old);
	cgroup_put(old);
#endif
}

/*
 * The listener's memory cgroup for @child.  TCP charges a child at
 * accept(), in the accepting task, with mem_cgroup_sk_alloc() and
 * mem_cgroup_charge_skmem() for what it holds by then; neither is
 * exported to modules.  What is: sk_memcg, read by every charge and
 * uncharge of socket memory, and the css reference that __sk_destruct()
 * drops.  So the child takes the listener's memory cgroup (the creator's,
 * as mem_cgroup_sk_alloc() chose it) at birth, before it has charged a
 * page: its charges and uncharges pair up from the start, and what its
 * queues hold before accept() is within the listener's limit too.
 */
static void migtcp_child_memcg(const struct sock *lsk, struct sock *child)
{
	struct mem_cgroup *memcg = lsk->sk_memcg;

	if (!mem_cgroup_sockets_enabled || !memcg || child->sk_memcg)
		return;
	css_get(&memcg->css);
	child->sk_memcg = memcg;
}

/*
 * Gives @child, a connection that listener @lsk's SYN made in softirq
 * (sk_alloc() there takes nothing from the interrupted task), what a TCP
 * child inherits from its listener by sk_clone_lock(): cgroups, memory
 * cgroup, LSM label, bound device, mark, priority and uid.  Before it is
 * routed and before it charges any memory.
 *
 * LSM hooks: security_sk_alloc() ran in sk_alloc(); security_sk_clone()
 * (exported) copies the listener's label here; security_sock_graft()
 * runs at accept() in sock_graft().  security_inet_conn_request() and
 * security_inet_csk_clone() are not usable: the first needs a
 * request_sock that the LSMs dereference (rsk_ops, its inet addresses,
 * and SELinux's NetLabel may attach IP options to it), the second, which
 * would move the label computed there to the child, is not exported.
 * security_inet_conn_established() takes any sock but its LSMs read
 * sk_family as an IP family: not called for a non-inet socket.
 */
void migtcp_child_inherit(struct sock *lsk, struct sock *child)
{
	migtcp_child_cgroup(lsk, child);
	migtcp_child_memcg(lsk, child);
	security_sk_clone(lsk, child);
	child->sk_bound_dev_if = READ_ONCE(lsk->sk_bound_dev_if);
	child->sk_mark = READ_ONCE(lsk->sk_mark);
	child->sk_priority = READ_ONCE(lsk->sk_priority);
	child->sk_uid = lsk->sk_uid;
}

/*
 * At accept(), in the accepting task: the child's struct sock itself,
 * allocated in softirq and so charged to no memory cgroup, is charged to
 * the task's, as inet_csk_accept() does where the kernel can
 * (migtcp_charge_sock_object(), compat.h).
 */
void migtcp_accept_charge(struct sock *child)
{
	if (mem_cgroup_sockets_enabled)
		migtcp_charge_sock_object(child, GFP_KERNEL | __GFP_NOFAIL);
}
