/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel API differences between the kernels migtcp builds for (6.1
 * and 6.12 today), in one place.  Each difference is decided by a feature
 * test, never by the version number: a distribution kernel may carry a
 * backport that the version does not show.  The tests are in Kbuild: a
 * header's presence, or a grep of the kernel's own headers, each passing
 * -DMIGTCP_HAVE_<FEATURE> for what it finds.
 */
#ifndef _MIGTCP_COMPAT_H
#define _MIGTCP_COMPAT_H

#include <linux/net.h>
#include <net/net_namespace.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/skbuff.h>
#include <net/sock.h>

/* get/put_unaligned_*() moved from asm/ to linux/ in 6.12. */
#ifdef MIGTCP_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/* sk_under_memory_pressure() and its kin left net/sock.h in 6.10. */
#ifdef MIGTCP_HAVE_NET_PROTO_MEMORY_H
#include <net/proto_memory.h>
#endif

/*
 * proto_ops.accept: since 6.10 its flags arrive in a struct
 * proto_accept_arg instead of as arguments.  migtcp_accept() is the entry
 * of this kernel's kind; migtcp_do_accept() (socket.c) does the work.
 */
int migtcp_do_accept(struct socket *sock, struct socket *newsock, int flags,
		     bool kern);

#ifdef MIGTCP_HAVE_PROTO_ACCEPT_ARG
static inline int migtcp_accept(struct socket *sock, struct socket *newsock,
				struct proto_accept_arg *arg)
{
	return migtcp_do_accept(sock, newsock, arg->flags, arg->kern);
}
#else
static inline int migtcp_accept(struct socket *sock, struct socket *newsock,
				int flags, bool kern)
{
	return migtcp_do_accept(sock, newsock, flags, kern);
}
#endif

/*
 * migtcp_sk_net_ref_to_passive() - make a user socket's hold on its
 * namespace that of a kernel socket, which does not keep the namespace
 * alive (see migtcp_net_orphan()).  Since 6.14, and in 6.12 by backport,
 * a kernel socket holds a passive reference (the struct net stays, the
 * namespace may end) that __sk_destruct() drops; before, it held none.
 */
static inline void migtcp_sk_net_ref_to_passive(struct sock *sk)
{
	struct net *net = sock_net(sk);

	sk->sk_net_refcnt = 0;
	sock_inuse_add(net, -1);
#ifdef MIGTCP_HAVE_KERNEL_SOCK_PASSIVE_REF
	net_passive_inc(net);
	put_net_track(net, &sk->ns_tracker);
	__netns_tracker_alloc(net, &sk->ns_tracker, false, GFP_ATOMIC);
#else
	put_net_track(net, &sk->ns_tracker);
#endif
}

/*
 * migtcp_charge_sock_object() - charge @sk's struct sock, allocated in
 * softirq (a passive open) and so charged to no memory cgroup, to the
 * current task's, as inet_csk_accept() does.  kmem_cache_charge() came
 * in 6.12 for this; before it a module has no way to, and the object
 * stays uncharged (its buffers are charged: policy.c).
 */
#ifdef MIGTCP_HAVE_KMEM_CACHE_CHARGE
static inline void migtcp_charge_sock_object(struct sock *sk, gfp_t gfp)
{
	kmem_cache_charge(sk, gfp);
}
#else
static inline void migtcp_charge_sock_object(struct sock *sk, gfp_t gfp)
{
}
#endif

/*
 * Pages that sendfile() and splice() hand to a socket: since 6.5 they
 * come to sendmsg() as an iterator with MSG_SPLICE_PAGES (a flag no user
 * can pass), which skb_splice_from_iter() takes into an skb by
 * reference.  Before, they come one by one to proto_ops.sendpage, which
 * migtcp_sendpage() (stream.c) passes on as a one-entry bio_vec
 * iterator; the fallback below takes that entry by reference the same
 * way.  Either adds to the skb's len, data_len and truesize what it took,
 * and returns it.  (Debian's 6.1 defines MSG_SPLICE_PAGES, backported,
 * but splices through sendpage: the test is for the function.)
 */
#ifdef MIGTCP_HAVE_SKB_SPLICE_FROM_ITER
static inline bool migtcp_msg_splices(const struct msghdr *msg)
{
	return msg->msg_flags & MSG_SPLICE_PAGES;
}

static inline ssize_t migtcp_skb_splice(struct sk_buff *skb,
					struct iov_iter *iter, size_t max,
					gfp_t gfp)
{
	return skb_splice_from_iter(skb, iter, max, gfp);
}
#else
static inline bool migtcp_msg_splices(const struct msghdr *msg)
{
	return false;
}

static inline ssize_t migtcp_skb_splice(struct sk_buff *skb,
					struct iov_iter *iter, size_t max,
					gfp_t gfp)
{
	const struct bio_vec *bv = iter->bvec;
	size_t len;
	int err;

	if (WARN_ON_ONCE(!iov_iter_is_bvec(iter) || iter->nr_segs != 1))
		return -EFAULT;
	len = min_t(size_t, max, bv->bv_len - iter->iov_offset);
	err = skb_append_pagefrags(skb, bv->bv_page,
				   bv->bv_offset + iter->iov_offset, len);
	if (err)
		return err;
	skb_len_add(skb, len);
	iov_iter_advance(iter, len);
	return len;
}
#endif

/* proto_ops.sendpage went in 6.5: migtcp_sendpage() is for before. */
#ifdef MIGTCP_HAVE_PROTO_OPS_SENDPAGE
ssize_t migtcp_sendpage(struct socket *sock, struct page *page, int offset,
			size_t size, int flags);
#define MIGTCP_SENDPAGE_OP	.sendpage = migtcp_sendpage,
#else
#define MIGTCP_SENDPAGE_OP
#endif

#endif /* _MIGTCP_COMPAT_H */
