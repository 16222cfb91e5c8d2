// SPDX-License-Identifier: GPL-2.0
/*
 * Receiving migtcp segments from IPv4.  Every segment is validated
 * before any field is trusted: it must be unicast to this host, hold a
 * whole header, carry a correct checksum over the pseudo-header, speak
 * our wire version and give a header length that fits the segment.
 * Each segment is counted once, as intact or under the reason it was
 * dropped.
 */
#include <linux/skbuff.h>
#include <net/dropreason.h>
#include <net/ip.h>
#include <net/protocol.h>

#include "migtcp.h"

/*
 * Returns 0 when @skb holds a well-formed segment whose header is in the
 * linear area, or the counter that explains why it must be dropped.
 */
static enum migtcp_mib_field migtcp_validate(struct sk_buff *skb)
{
	const struct migtcphdr *mh;
	unsigned int hdrlen;

	if (skb->pkt_type != PACKET_HOST)
		return MIGTCP_MIB_INADDRERRORS;

	if (!pskb_may_pull(skb, sizeof(*mh)))
		return MIGTCP_MIB_INHDRERRORS;

	/* A corrupted header says nothing: verify the checksum first. */
	if (skb_checksum_validate(skb, migtcp_proto, inet_compute_pseudo))
		return MIGTCP_MIB_INCSUMERRORS;

	mh = (const struct migtcphdr *)skb->data;
	if (mh->version != MIGTCP_WIRE_VERSION)
		return MIGTCP_MIB_INBADVERSION;

	hdrlen = mh->doff * 4;
	if (mh->doff < MIGTCP_HDR_MIN_DOFF || hdrlen > skb->len ||
	    !pskb_may_pull(skb, hdrlen))
		return MIGTCP_MIB_INHDRERRORS;

	return MIGTCP_MIB_INSEGS;
}

static int migtcp_v4_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);
	enum migtcp_mib_field verdict;

	verdict = migtcp_validate(skb);
	__MIGTCP_INC_STATS(net, verdict);
	if (verdict != MIGTCP_MIB_INSEGS) {
		kfree_skb_reason(skb, verdict == MIGTCP_MIB_INCSUMERRORS ?
				 SKB_DROP_REASON_SKB_CSUM :
				 SKB_DROP_REASON_NOT_SPECIFIED);
		return 0;
	}

	/* No endpoint can own a segment until the transport exists. */
	__MIGTCP_INC_STATS(net, MIGTCP_MIB_INNOSOCKET);
	kfree_skb_reason(skb, SKB_DROP_REASON_NO_SOCKET);
	return 0;
}

static const struct net_protocol migtcp_v4_protocol = {
	.handler	= migtcp_v4_rcv,
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
