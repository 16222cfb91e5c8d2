// SPDX-License-Identifier: GPL-2.0
/*
 * SYN cookies (docs/protocol.md, "SYN cookies").  A listener whose queue
 * of handshakes in progress is full answers a SYN without keeping
 * anything: its SYN-ACK's sequence number (the cookie) encodes what it
 * must remember of the SYN, and its KX half is derived from the SYN
 * under a secret of this module's, so that both can be computed again
 * when the ACK comes.  The ACK carries the connecting side's KX option
 * again besides its handshake MAC, and the connection is made from it.
 *
 * The cookie, as TCP's (RFC 4987 3.6), packs into 32 bits:
 *
 *   bits 31-30  a counter of minutes, modulo 4: cookies live two minutes
 *   bits 29-26  the peer's window shift + 1, or 0 without the option
 *   bits 25-23  the largest entry of migtcp_cookie_mss[] the peer's MSS
 *               reaches
 *   bits 22-0   SipHash of both identities and addresses, the SYN's
 *               sequence number, the full counter and the bits above
 *
 * and the listener's half is HMAC-SHA256(secret, label || cookie ||
 * both addresses || both identities || the SYN's sequence number || the
 * SYN's half).  The hash keeps forged ACKs to one SipHash each; the
 * handshake MAC of the ACK, which covers the half, is what proves the
 * ACK came from whoever got the SYN-ACK (and holds the cluster key).
 */
#include <linux/moduleparam.h>
#include <linux/siphash.h>
#include <net/ip.h>

#include "migtcp.h"

/* As net.ipv4.tcp_syncookies. */
unsigned int migtcp_syncookies = 1;
module_param_named(syncookies, migtcp_syncookies, uint, 0644);
MODULE_PARM_DESC(syncookies,
		 "answer SYNs without keeping state: 0 never, 1 when a listener's queue is full (default), 2 always");

#define MIGTCP_COOKIE_PERIOD	(60 * HZ)
#define MIGTCP_COOKIE_COUNT_SHIFT	30
#define MIGTCP_COOKIE_WS_SHIFT	26
#define MIGTCP_COOKIE_MSS_SHIFT	23
#define MIGTCP_COOKIE_HASH_MASK	((1U << MIGTCP_COOKIE_MSS_SHIFT) - 1)
#define MIGTCP_COOKIE_LABEL	"migtcp v1 cookie half"
#define MIGTCP_COOKIE_LABEL_LEN	(sizeof(MIGTCP_COOKIE_LABEL) - 1)

/*
 * The peer MSS a cookie can name: the smallest a SYN may say, then the
 * MSS of common MTUs (IPv4 minimum, 1280, WireGuard's 1420, VXLAN's 1450,
 * Ethernet's 1500, 9000, and 65536) less the IP and migtcp headers.
 */
static const u16 migtcp_cookie_mss[] = {
	MIGTCP_MIN_SND_MSS, 536, 1232, 1372, 1402, 1452, 8952, 65488,
};

static siphash_aligned_key_t migtcp_cookie_key;

/* Whether a SYN to @lsk, whose queue holds @queued, is answered so. */
bool migtcp_want_cookie(const struct sock *lsk, u32 backlog)
{
	unsigned int mode = READ_ONCE(migtcp_syncookies);

	return mode >= 2 ||
	       (mode == 1 && READ_ONCE(migtcp_sk(lsk)->queued) >= backlog);
}

static u32 migtcp_cookie_now(void)
{
	return (u32)(jiffies / MIGTCP_COOKIE_PERIOD);
}

/*
 * The hash part of a cookie for the handshake of @skb (a SYN, or the ACK
 * that answers it: both go the same way), whose SYN had sequence number
 * @isn, at minute @count, with the option bits @opt_bits.
 */
static u32 migtcp_cookie_hash(const struct sk_buff *skb, u32 isn, u32 count,
			      u32 opt_bits)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	struct {
		struct in6_addr saddr, daddr;	/* either family */
		__be32 src_node, dst_node;
		__be16 src_port, dst_port;
		u32 isn, count, opt_bits;
	} in;

	BUILD_BUG_ON(sizeof(in) != 2 * 16 + 8 + 4 + 12);
	migtcp_skb_saddr(skb, &in.saddr);
	migtcp_skb_daddr(skb, &in.daddr);
	in.src_node = mh->src_node;
	in.dst_node = mh->dst_node;
	in.src_port = mh->src_port;
	in.dst_port = mh->dst_port;
	in.isn = isn;
	in.count = count;
	in.opt_bits = opt_bits;
	net_get_random_once(&migtcp_cookie_key, sizeof(migtcp_cookie_key));
	return siphash(&in, sizeof(in), &migtcp_cookie_key) &
	       MIGTCP_COOKIE_HASH_MASK;
}

/*
 * The listener's half for the handshake of @skb with cookie @cookie,
 * whose SYN had sequence number @isn and half @peer_half, into @half.
 */
static int migtcp_cookie_half(const struct sk_buff *skb, u32 cookie, u32 isn,
			      const u8 *peer_half, u8 *half)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	u8 msg[MIGTCP_COOKIE_LABEL_LEN + 4 + 32 + 12 + 4 + MIGTCP_KX_HALF_LEN];
	u8 out[SHA256_DIGEST_SIZE];
	struct in6_addr addr;
	u8 *p = msg;
	int err;

	/* The addresses in their 16-byte form (v4-mapped for IPv4). */
	memcpy(p, MIGTCP_COOKIE_LABEL, MIGTCP_COOKIE_LABEL_LEN);
	p += MIGTCP_COOKIE_LABEL_LEN;
	put_unaligned_be32(cookie, p);
	migtcp_skb_saddr(skb, &addr);
	memcpy(p + 4, &addr, 16);
	migtcp_skb_daddr(skb, &addr);
	memcpy(p + 20, &addr, 16);
	memcpy(p + 36, &mh->src_node, 4);
	memcpy(p + 40, &mh->src_port, 2);
	memcpy(p + 42, &mh->dst_node, 4);
	memcpy(p + 46, &mh->dst_port, 2);
	put_unaligned_be32(isn, p + 48);
	memcpy(p + 52, peer_half, MIGTCP_KX_HALF_LEN);
	BUILD_BUG_ON(sizeof(msg) != MIGTCP_COOKIE_LABEL_LEN + 52 +
		     MIGTCP_KX_HALF_LEN);

	err = migtcp_secret_hmac(msg, sizeof(msg), out);
	if (!err)
		memcpy(half, out, MIGTCP_KX_HALF_LEN);
	memzero_explicit(out, sizeof(out));
	return err;
}

/* The two ends of the handshake of @skb, sent by its connecting side. */
static void migtcp_cookie_ends(const struct sk_buff *skb,
			       struct migtcp_hs_end *i, struct migtcp_hs_end *r)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);

	i->node = ntohl(mh->src_node);
	i->port = ntohs(mh->src_port);
	r->node = ntohl(mh->dst_node);
	r->port = ntohs(mh->dst_port);
}

/*
 * Answers the SYN @skb, with options @opts (a usable KX option, from a
 * source already checked), to listener @lsk with a SYN cookie.
 */
void migtcp_cookie_synack(struct sock *lsk, const struct sk_buff *skb,
			  const struct migtcp_syn_opts *opts)
{
	u32 isn = ntohl(migtcp_hdr(skb)->seq), count = migtcp_cookie_now();
	u8 half[MIGTCP_KX_HALF_LEN], mac[MIGTCP_HSMAC_LEN];
	struct migtcp_hs_end i, r;
	u32 opt_bits, cookie;
	unsigned int mss;

	for (mss = ARRAY_SIZE(migtcp_cookie_mss) - 1; mss; mss--)
		if (opts->mss >= migtcp_cookie_mss[mss])
			break;
	opt_bits = (opts->wscale_ok ? opts->wscale + 1 : 0) <<
		   (MIGTCP_COOKIE_WS_SHIFT - MIGTCP_COOKIE_MSS_SHIFT) | mss;
	cookie = count << MIGTCP_COOKIE_COUNT_SHIFT |
		 opt_bits << MIGTCP_COOKIE_MSS_SHIFT |
		 migtcp_cookie_hash(skb, isn, count, opt_bits);

	migtcp_cookie_ends(skb, &i, &r);
	i.half = opts->kx_half;
	r.half = half;
	if (!migtcp_cookie_half(skb, cookie, isn, opts->kx_half, half) &&
	    !migtcp_hs_synack_mac(sock_net(lsk), &i, &r, mac))
		migtcp_send_cookie_synack(lsk, skb, cookie, half, mac,
					  opts->sack_ok &&
					  migtcp_sack_enabled());
	memzero_explicit(half, sizeof(half));
}

/*
 * Whether @cookie (SEG.ACK - 1 of the ACK @skb) is one this node made in
 * the last two minutes for the handshake of @skb; if so, the SYN's
 * options it kept go to @opts (MSS, window scale).
 */
static bool migtcp_cookie_valid(const struct sk_buff *skb, u32 cookie,
				struct migtcp_syn_opts *opts)
{
	u32 now = migtcp_cookie_now(), count, opt_bits, ws;
	u32 isn = ntohl(migtcp_hdr(skb)->seq) - 1;

	/* The full counter: now, or a minute before (modulo 4). */
	count = now - ((now - (cookie >> MIGTCP_COOKIE_COUNT_SHIFT)) & 3);
	if (now - count > 1)
		return false;
	opt_bits = (cookie >> MIGTCP_COOKIE_MSS_SHIFT) &
		   ((1U << (MIGTCP_COOKIE_COUNT_SHIFT -
			    MIGTCP_COOKIE_MSS_SHIFT)) - 1);
	if (migtcp_cookie_hash(skb, isn, count, opt_bits) !=
	    (cookie & MIGTCP_COOKIE_HASH_MASK))
		return false;
	ws = opt_bits >> (MIGTCP_COOKIE_WS_SHIFT - MIGTCP_COOKIE_MSS_SHIFT);
	opts->mss = migtcp_cookie_mss[opt_bits &
				      (ARRAY_SIZE(migtcp_cookie_mss) - 1)];
	opts->wscale_ok = ws != 0;
	opts->wscale = ws ? ws - 1 : 0;
	return true;
}

/*
 * An ACK without SYN for a listener of @net that matches no connection,
 * with options @opts: whether it answers a SYN cookie of ours.  Returns
 * MIGTCP_STAT_SYNCOOKIES_RECV if so, with what the cookie kept of the SYN
 * in @opts and our half in @half; else the counter that says why not
 * (MIGTCP_STAT_IN_NO_SOCKET: not a cookie's answer at all).
 */
enum migtcp_stat migtcp_cookie_check(struct net *net,
				     const struct sk_buff *skb,
				     struct migtcp_syn_opts *opts, u8 *half)
{
	const struct migtcphdr *mh = migtcp_hdr(skb);
	u32 cookie = ntohl(mh->ack_seq) - 1;
	struct migtcp_hs_end i, r;
	int err;

	if (!READ_ONCE(migtcp_syncookies) || !opts->kx_half)
		return MIGTCP_STAT_IN_NO_SOCKET;
	if (!migtcp_cookie_valid(skb, cookie, opts))
		return MIGTCP_STAT_SYNCOOKIES_FAILED;
	if (migtcp_cookie_half(skb, cookie, ntohl(mh->seq) - 1, opts->kx_half,
			       half))
		return MIGTCP_STAT_SYNCOOKIES_FAILED;
	migtcp_cookie_ends(skb, &i, &r);
	i.half = opts->kx_half;
	r.half = half;
	err = migtcp_hs_check_ack_ends(net, &i, &r, opts->kx_flags,
				       opts->hsmac);
	if (!err)
		return MIGTCP_STAT_SYNCOOKIES_RECV;
	memzero_explicit(half, MIGTCP_KX_HALF_LEN);
	if (err == -ENOMSG)
		return MIGTCP_STAT_IN_HS_NO_MAC;
	if (err == -EBADMSG)
		return MIGTCP_STAT_IN_HS_BAD_MAC;
	/* The crypto layer failed: no key, no connection. */
	return MIGTCP_STAT_SYNCOOKIES_FAILED;
}
