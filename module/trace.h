/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of migtcp: connection state changes, dropped segments and
 * retransmissions, as tcp:tcp_set_state, skb:kfree_skb and
 * tcp:tcp_retransmit_skb are for TCP.  Enable them under
 * /sys/kernel/tracing/events/migtcp/.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM migtcp

#if !defined(_MIGTCP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _MIGTCP_TRACE_H

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <linux/tracepoint.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#define migtcp_show_state(state)					\
	__print_symbolic(state,						\
		{ TCP_ESTABLISHED,	"ESTABLISHED" },		\
		{ TCP_SYN_SENT,		"SYN_SENT" },			\
		{ TCP_SYN_RECV,		"SYN_RECV" },			\
		{ TCP_FIN_WAIT1,	"FIN_WAIT1" },			\
		{ TCP_FIN_WAIT2,	"FIN_WAIT2" },			\
		{ TCP_TIME_WAIT,	"TIME_WAIT" },			\
		{ TCP_CLOSE,		"CLOSE" },			\
		{ TCP_CLOSE_WAIT,	"CLOSE_WAIT" },			\
		{ TCP_LAST_ACK,		"LAST_ACK" },			\
		{ TCP_LISTEN,		"LISTEN" },			\
		{ TCP_CLOSING,		"CLOSING" })

/* The counters that count drops, by their /proc/net/migtcp_stats names. */
#define migtcp_show_drop(reason)					\
	__print_symbolic(reason,					\
		{ MIGTCP_STAT_IN_HDR_ERRORS,	"InHdrErrors" },	\
		{ MIGTCP_STAT_IN_CSUM_ERRORS,	"InCsumErrors" },	\
		{ MIGTCP_STAT_IN_BAD_VERSION,	"InBadVersion" },	\
		{ MIGTCP_STAT_IN_ADDR_ERRORS,	"InAddrErrors" },	\
		{ MIGTCP_STAT_IN_NO_SOCKET,	"InNoSocket" },		\
		{ MIGTCP_STAT_IN_WRONG_NODE,	"InWrongNode" },	\
		{ MIGTCP_STAT_LISTEN_DROPS,	"ListenDrops" },	\
		{ MIGTCP_STAT_IN_BACKLOG_DROPS,	"InBacklogDrops" },	\
		{ MIGTCP_STAT_RCVBUF_DROPS,	"RcvbufDrops" },	\
		{ MIGTCP_STAT_OFO_PRUNED,	"OfoPruned" },		\
		{ MIGTCP_STAT_IN_BAD_FLAGS,	"InBadFlags" },		\
		{ MIGTCP_STAT_IN_WINDOW_DROPS,	"InWindowDrops" },	\
		{ MIGTCP_STAT_IN_KX_ERRORS,	"InKxErrors" },	\
		{ MIGTCP_STAT_IN_CTL_ERRORS,	"InCtlErrors" },	\
		{ MIGTCP_STAT_IN_CTL_NO_STATE,	"InCtlNoState" },	\
		{ MIGTCP_STAT_IN_CTL_BAD_MAC,	"InCtlBadMac" },	\
		{ MIGTCP_STAT_IN_CTL_MAC_LIMITED,	"InCtlMacLimited" },	\
		{ MIGTCP_STAT_IN_CTL_STALE_EPOCH,	"InCtlStaleEpoch" },	\
		{ MIGTCP_STAT_IN_CTL_BAD_HOST,	"InCtlBadHost" },	\
		{ MIGTCP_STAT_IN_MOVED,	"InMoved" },		\
		{ MIGTCP_STAT_IN_BAD_ENDPOINT,	"InBadEndpoint" },	\
		{ MIGTCP_STAT_IN_HS_BAD_MAC,	"InHsBadMac" },		\
		{ MIGTCP_STAT_IN_HS_NO_MAC,	"InHsNoMac" },		\
		{ MIGTCP_STAT_IN_SYN_BAD_SOURCE,	"InSynBadSource" },	\
		{ MIGTCP_STAT_IN_XFRM_DROPS,	"InXfrmDrops" },	\
		{ MIGTCP_STAT_IN_FILTER_DROPS,	"InFilterDrops" })

TRACE_EVENT(migtcp_set_state,

	TP_PROTO(const struct sock *sk, int oldstate, int newstate),

	TP_ARGS(sk, oldstate, newstate),

	TP_STRUCT__entry(
		__field(const void *, skaddr)
		__field(u32, lnode)
		__field(u16, lport)
		__field(u32, rnode)
		__field(u16, rport)
		__field(int, oldstate)
		__field(int, newstate)
	),

	TP_fast_assign(
		const struct migtcp_sock *msk = (const struct migtcp_sock *)sk;

		__entry->skaddr = sk;
		__entry->lnode = msk->local_node;
		__entry->lport = msk->local_port;
		__entry->rnode = msk->remote_node;
		__entry->rport = msk->remote_port;
		__entry->oldstate = oldstate;
		__entry->newstate = newstate;
	),

	TP_printk("sk=%p %u:%u -> %u:%u %s -> %s", __entry->skaddr,
		  __entry->lnode, __entry->lport, __entry->rnode,
		  __entry->rport, migtcp_show_state(__entry->oldstate),
		  migtcp_show_state(__entry->newstate))
);

TRACE_EVENT(migtcp_retransmit,

	TP_PROTO(const struct sock *sk, u32 seq, u32 len, u32 segs),

	TP_ARGS(sk, seq, len, segs),

	TP_STRUCT__entry(
		__field(const void *, skaddr)
		__field(u32, rnode)
		__field(u16, rport)
		__field(u32, seq)
		__field(u32, len)
		__field(u32, segs)
		__field(u32, snd_una)
		__field(u32, cwnd)
		__field(unsigned int, rto_ms)
	),

	TP_fast_assign(
		const struct migtcp_sock *msk = (const struct migtcp_sock *)sk;

		__entry->skaddr = sk;
		__entry->rnode = msk->remote_node;
		__entry->rport = msk->remote_port;
		__entry->seq = seq;
		__entry->len = len;
		__entry->segs = segs;
		__entry->snd_una = msk->snd_una;
		__entry->cwnd = msk->cwnd;
		__entry->rto_ms = jiffies_to_msecs(msk->rto);
	),

	TP_printk("sk=%p to %u:%u seq=%u len=%u snd_una=%u cwnd=%u rto=%ums segs=%u",
		  __entry->skaddr, __entry->rnode, __entry->rport,
		  __entry->seq, __entry->len, __entry->snd_una,
		  __entry->cwnd, __entry->rto_ms, __entry->segs)
);

TRACE_EVENT(migtcp_drop,

	TP_PROTO(const struct sk_buff *skb, int reason),

	TP_ARGS(skb, reason),

	/* The addresses as socket addresses of their family, as TCP's. */
	TP_STRUCT__entry(
		__array(__u8, saddr, sizeof(struct sockaddr_in6))
		__array(__u8, daddr, sizeof(struct sockaddr_in6))
		__field(unsigned int, len)
		__field(int, reason)
	),

	TP_fast_assign(
		struct sockaddr_in6 *s6 = (void *)__entry->saddr;
		struct sockaddr_in6 *d6 = (void *)__entry->daddr;
		struct sockaddr_in *s4 = (void *)__entry->saddr;
		struct sockaddr_in *d4 = (void *)__entry->daddr;

		memset(__entry->saddr, 0, sizeof(__entry->saddr));
		memset(__entry->daddr, 0, sizeof(__entry->daddr));
		if (ip_hdr(skb)->version == 6) {
			s6->sin6_family = AF_INET6;
			s6->sin6_addr = ipv6_hdr(skb)->saddr;
			d6->sin6_family = AF_INET6;
			d6->sin6_addr = ipv6_hdr(skb)->daddr;
		} else {
			s4->sin_family = AF_INET;
			s4->sin_addr.s_addr = ip_hdr(skb)->saddr;
			d4->sin_family = AF_INET;
			d4->sin_addr.s_addr = ip_hdr(skb)->daddr;
		}
		__entry->len = skb->len;
		__entry->reason = reason;
	),

	TP_printk("%pISc -> %pISc len=%u %s", __entry->saddr, __entry->daddr,
		  __entry->len, migtcp_show_drop(__entry->reason))
);

#endif /* _MIGTCP_TRACE_H */

/* Out of tree: the trace header is found beside this file. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace

#include <trace/define_trace.h>
