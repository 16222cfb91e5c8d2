// SPDX-License-Identifier: GPL-2.0
/*
 * Generic segmentation offload for migtcp.  The send path hands a queued
 * skb of several MSS down as one GSO packet (send.c); where the device
 * cannot pass it on whole, inet_gso_segment() or ipv6_gso_segment()
 * calls migtcp_gso_segment() to cut it into segments, as
 * tcp_gso_segment() does for TCP: each gets
 * the header with its own sequence number, FIN and PSH stay with the last,
 * and the checksum is finished in software unless the device computes
 * checksums of any protocol.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sctp.h>
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/protocol.h>

#include "migtcp.h"

static struct sk_buff *migtcp_gso_segment(struct sk_buff *skb,
					  netdev_features_t features)
{
	bool hw_csum = features & NETIF_F_HW_CSUM;
	struct in6_addr saddr, daddr;
	struct sk_buff *segs, *seg;
	unsigned int hlen, gso_size;
	struct migtcphdr *mh;
	__be16 last_flags;
	u32 seq;

	if (!(skb_shinfo(skb)->gso_type & SKB_GSO_SCTP) ||
	    !pskb_may_pull(skb, sizeof(*mh)))
		return ERR_PTR(-EINVAL);
	mh = (struct migtcphdr *)skb_transport_header(skb);
	hlen = mh->doff * 4;
	if (hlen < sizeof(*mh) || !pskb_may_pull(skb, hlen) ||
	    skb->len <= hlen)
		return ERR_PTR(-EINVAL);
	mh = (struct migtcphdr *)skb_transport_header(skb);
	seq = ntohl(mh->seq);
	last_flags = mh->flags;
	/* gso_size is biased (MIGTCP_GSO_SIZE_BIAS): the payload is less. */
	gso_size = skb_shinfo(skb)->gso_size;
	if (gso_size + sizeof(struct sctphdr) <= hlen)
		return ERR_PTR(-EINVAL);

	__skb_pull(skb, hlen);
	skb_shinfo(skb)->gso_size = gso_size + sizeof(struct sctphdr) - hlen;
	segs = skb_segment(skb, features);
	if (IS_ERR_OR_NULL(segs)) {
		skb_shinfo(skb)->gso_size = gso_size;
		return segs;
	}

	for (seg = segs; seg; seg = seg->next) {
		unsigned int len = seg->len - skb_transport_offset(seg);

		mh = (struct migtcphdr *)skb_transport_header(seg);
		mh->seq = htonl(seq);
		seq += len - hlen;
		mh->flags = seg->next ?
			    last_flags & ~htons(MIGTCP_F_FIN | MIGTCP_F_PSH) :
			    last_flags;
		migtcp_skb_saddr(seg, &saddr);
		migtcp_skb_daddr(seg, &daddr);
		migtcp_set_csum(seg, &saddr, &daddr,
				hw_csum && seg->ip_summed == CHECKSUM_PARTIAL);
	}
	return segs;
}

static const struct net_offload migtcp_offload = {
	.callbacks = {
		.gso_segment	= migtcp_gso_segment,
	},
};

/* The same callbacks serve IPv4 and IPv6 (when IPv6 runs). */
int migtcp_offload_register(void)
{
	if (inet_add_offload(&migtcp_offload, migtcp_proto) < 0)
		goto taken;
	if (ipv6_mod_enabled() &&
	    inet6_add_offload(&migtcp_offload, migtcp_proto) < 0) {
		inet_del_offload(&migtcp_offload, migtcp_proto);
		goto taken;
	}
	return 0;
taken:
	pr_err("IP protocol %d already has an offload\n", migtcp_proto);
	return -EEXIST;
}

void migtcp_offload_unregister(void)
{
	/* inet*_del_offload() wait for segmentations still running. */
	if (ipv6_mod_enabled())
		inet6_del_offload(&migtcp_offload, migtcp_proto);
	inet_del_offload(&migtcp_offload, migtcp_proto);
}
