/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Definitions shared by the files of the migtcp module.
 */
#ifndef _MIGTCP_MIGTCP_H
#define _MIGTCP_MIGTCP_H

#include <linux/migtcp.h>
#include <linux/mutex.h>
#include <linux/ip.h>
#include <linux/percpu.h>
#include <linux/percpu_counter.h>
#include <linux/rhashtable-types.h>
#include <linux/seqlock.h>
#include <linux/siphash.h>
#include <linux/spinlock.h>
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/snmp.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "compat.h"

/* Numbers in use, from the "family" and "proto" module parameters. */
extern int migtcp_family;
extern int migtcp_proto;

/* Per-node counters, indexed by enum migtcp_stat (uapi). */
struct migtcp_mib {
	unsigned long mibs[__MIGTCP_STAT_MAX];
};

/* The identity of this node. */
struct migtcp_node {
	u32 id;				/* 0 until set */
	__be32 addr4;			/* underlay IPv4 address, 0 if unset */
	/*
	 * Underlay IPv6 address, :: if unset.  Written under config_lock
	 * and addr6_lock; the packet path reads it with
	 * migtcp_node_addr6(), never torn (a connection keeps what it read).
	 */
	seqlock_t addr6_lock;
	struct in6_addr addr6;
	/*
	 * key_lock: the packet path reads the key (kx.c) while the
	 * configuration may change it, and must never see half of each.
	 */
	spinlock_t key_lock;
	bool key_set;
	u8 key[MIGTCP_KEY_LEN];		/* cluster key, never read back */
	/*
	 * hmac(sha256) keyed with @key, NULL without one: its key schedule
	 * (the hashed pads) is computed once per key, so that the packet
	 * path MACs without a lock.  Replaced under config_lock, read
	 * under RCU (kx.c).
	 */
	struct crypto_shash __rcu *tfm;
};

/*
 * Underlay addresses of either family in one field, as a dual-stack TCP
 * socket keeps its peer's (sk_v6_daddr): an IPv4 address as v4-mapped
 * IPv6 (::ffff:a.b.c.d), none as :: (all zero).
 */
static inline bool migtcp_addr_is4(const struct in6_addr *a)
{
	return ipv6_addr_v4mapped(a);
}

static inline __be32 migtcp_addr4(const struct in6_addr *a)
{
	return a->s6_addr32[3];
}

static inline bool migtcp_addr_none(const struct in6_addr *a)
{
	return ipv6_addr_any(a);
}

static inline void migtcp_addr_set4(struct in6_addr *a, __be32 addr4)
{
	if (addr4)
		ipv6_addr_set_v4mapped(addr4, a);
	else
		*a = in6addr_any;
}

/*
 * Whether @a can be a node's IPv6 underlay address: global unicast (a
 * link-local one would need an interface too; a v4-mapped one is an
 * IPv4 address, which has its own attributes).
 */
static inline bool migtcp_addr6_usable(const struct in6_addr *a)
{
	int type = ipv6_addr_type(a);

	/*
	 * ::/96 is ::, ::1 or the deprecated IPv4-compatible form;
	 * site-local addresses are deprecated too (RFC 3879).
	 */
	return (type & IPV6_ADDR_UNICAST) &&
	       !(type & (IPV6_ADDR_LINKLOCAL | IPV6_ADDR_SITELOCAL |
			 IPV6_ADDR_MAPPED)) &&
	       (a->s6_addr32[0] | a->s6_addr32[1] | a->s6_addr32[2]);
}

/* @node's IPv6 address (:: if none), read whole. */
static inline void migtcp_node_addr6(const struct migtcp_node *node,
				     struct in6_addr *addr6)
{
	unsigned int seq;

	do {
		seq = read_seqbegin(&node->addr6_lock);
		*addr6 = node->addr6;
	} while (read_seqretry(&node->addr6_lock, seq));
}

/* The bytes an IP header of @daddr's family takes. */
static inline unsigned int migtcp_ip_hlen(const struct in6_addr *daddr)
{
	return migtcp_addr_is4(daddr) ? sizeof(struct iphdr) :
					sizeof(struct ipv6hdr);
}

/* The source and destination of a received segment, in that form. */
static inline void migtcp_skb_saddr(const struct sk_buff *skb,
				    struct in6_addr *addr)
{
	if (ip_hdr(skb)->version == 6)
		*addr = ipv6_hdr(skb)->saddr;
	else
		migtcp_addr_set4(addr, ip_hdr(skb)->saddr);
}

static inline void migtcp_skb_daddr(const struct sk_buff *skb,
				    struct in6_addr *addr)
{
	if (ip_hdr(skb)->version == 6)
		*addr = ipv6_hdr(skb)->daddr;
	else
		migtcp_addr_set4(addr, ip_hdr(skb)->daddr);
}

static inline bool migtcp_skb_from(const struct sk_buff *skb,
				   const struct in6_addr *addr)
{
	struct in6_addr saddr;

	migtcp_skb_saddr(skb, &saddr);
	return ipv6_addr_equal(&saddr, addr);
}

#define MIGTCP_GONE_HASH_BITS	6

/*
 * What a node may spend per second on one kind of answer; lockless, as
 * Linux's per-netns challenge-ACK budget: a race may spend one more.
 */
struct migtcp_budget {
	u32 second;	/* jiffies / HZ when it was last filled */
	u32 left;
};

/* Sources of control messages told apart by their MAC-failure budget. */
#define MIGTCP_MAC_FAIL_BUCKETS	64

/* One cluster node: the state of one network namespace. */
struct migtcp_net {
	struct migtcp_mib __percpu *mib;

	/*
	 * Serialises configuration changes.  node.id is also written under
	 * ports_lock (binding depends on it) and read locklessly by the
	 * packet path.
	 */
	struct mutex config_lock;
	struct migtcp_node node;

	struct rhashtable peers;	/* id -> migtcp_peer; RCU lookups */
	struct list_head peer_list;	/* the same peers, for dumps (RCU) */
	unsigned int peer_count;	/* under config_lock */
	unsigned int peers_gen;		/* bumped on every change */

	/*
	 * The port table (port.c): port -> the sockets holding it, looked
	 * up under RCU.  ports_lock serialises its writers, so that a
	 * port's check and its taking are one step, and protects bound,
	 * the port range and node.id.
	 */
	spinlock_t ports_lock;
	struct rhltable ports;
	unsigned int bound;		/* sockets holding a port */
	u16 port_min, port_max;		/* ephemeral range */

	/*
	 * Every AF_MIGTCP socket, in the order they were made (by net_seq,
	 * never reused): a dump resumes after the last socket it gave,
	 * wherever that is now, whatever came and went meanwhile.
	 */
	spinlock_t sockets_lock;	/* protects sockets, sockets_seq */
	struct rb_root sockets;
	u64 sockets_seq;

	/*
	 * Answers the node may still send in the current second to segments
	 * anyone can forge: RFC 5961 challenge ACKs (input.c) and REDIRECTs
	 * of departed listeners (migrate.c).  Each node has its own, so
	 * that a flood at one node silences no other.
	 */
	struct migtcp_budget challenges;
	struct migtcp_budget redirects;

	/*
	 * Control messages with a wrong MAC that the node still checks this
	 * second, per source address (hashed with mac_fail_seed into one of
	 * the buckets): once a source's budget is spent, its control
	 * messages are dropped before their MAC is computed (kx.c).
	 */
	siphash_key_t mac_fail_seed;
	struct migtcp_budget mac_fails[MIGTCP_MAC_FAIL_BUCKETS];

	/*
	 * The connection table (conn.c): sockets by their 4-tuple, looked
	 * up under RCU; its own bucket locks serialise its writers.
	 */
	struct rhashtable conns;

	/*
	 * GONEs to registrars that no acknowledgment answered yet, whose
	 * sockets are no more: gone_timer sends them again (migrate.c).
	 */
	spinlock_t gone_lock;
	struct hlist_head gone_hash[1 << MIGTCP_GONE_HASH_BITS];
	unsigned int gone_count;
	bool gone_dying;		/* the namespace exits: no more */
	struct timer_list gone_timer;
	/* Closed connections still delivering (pernet.c, "Orphans"). */
	atomic_t orphans;
};

extern unsigned int migtcp_net_id;

static inline struct migtcp_net *migtcp_pernet(const struct net *net)
{
	return net_generic(net, migtcp_net_id);
}

/*
 * Counters are bumped from softirq and from process context alike (the
 * socket backlog, release_cb, sendmsg), so always in the preempt-safe
 * form; on x86 it is the same single instruction as the __ form.
 */
#define MIGTCP_INC_STATS(net, field) \
	SNMP_INC_STATS(migtcp_pernet(net)->mib, field)
#define MIGTCP_ADD_STATS(net, field, val) \
	SNMP_ADD_STATS(migtcp_pernet(net)->mib, field, val)

struct migtcp_peer {
	struct rhash_head hash_node;
	struct list_head list;		/* in migtcp_net.peer_list */
	u32 id;
	__be32 addr4;			/* 0 if it has none */
	struct in6_addr addr6;		/* :: if it has none */
	struct rcu_head rcu;
};

/*
 * What a socket is hashed with in the connection table: a copy of its
 * 4-tuple taken when it is hashed, so that the key cannot change under
 * the table whatever the socket's fields do.  12 bytes, no padding.
 */
struct migtcp_conn_key {
	u32 local_node;
	u32 remote_node;
	u16 local_port;
	u16 remote_port;
};

/* The flags a version 1 segment may carry; the others are reserved. */
#define MIGTCP_F_KNOWN	(MIGTCP_F_FIN | MIGTCP_F_SYN | MIGTCP_F_RST | \
			 MIGTCP_F_PSH | MIGTCP_F_ACK | MIGTCP_F_ECE | \
			 MIGTCP_F_CWR | MIGTCP_F_CTL)

/* Per-segment data of queued segments. */
struct migtcp_skb_cb {
	u32 seq;			/* first sequence number */
	u32 end_seq;			/* seq + data + FIN */
	bool fin;
	u8 sacked;			/* MIGTCP_SKB_*: the scoreboard (sack.c) */
	u64 xmit_us;			/* when it last went (rack.c); 0: never */
};

#define MIGTCP_SKB_SACKED	0x01	/* the peer holds it (a SACK block) */
#define MIGTCP_SKB_RETRANS	0x02	/* sent again in this recovery */
#define MIGTCP_SKB_LOST		0x04	/* RACK judged it lost (rack.c) */
#define MIGTCP_SKB_EVER_RETRANS	0x08	/* sent more than once */

#define MIGTCP_SKB_CB(skb) ((struct migtcp_skb_cb *)&(skb)->cb[0])

/*
 * A congestion control algorithm (cong.c): how the window grows beyond
 * ssthresh, and the ssthresh after a loss.
 */
#define MIGTCP_CONG_PRIV	40	/* bytes of per-socket state */
struct migtcp_cong_ops {
	const char *name;
	void (*init)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, u32 acked);
	u32 (*ssthresh)(struct sock *sk);
};

/*
 * The key exchange of a connection (docs/protocol.md, "Key exchange"):
 * the halves live until the handshake completes, then only the key.
 */
struct migtcp_kx {
	u8 half[MIGTCP_KX_HALF_LEN];	/* ours, on each SYN we send */
	u8 peer_half[MIGTCP_KX_HALF_LEN]; /* the SYN's, until its ACK */
	u8 peer_flags;			/* MIGTCP_KX_F_* of the peer */
	bool done;			/* conn_key is computed */
	/*
	 * Our handshake MAC (docs/protocol.md, "Handshake MAC"): a
	 * listener's child puts it on every SYN-ACK; the connecting side
	 * on its ACKs until the peer is seen to have taken it
	 * (@proof_pending).  After a SYN cookie (MIGTCP_KX_F_COOKIE in
	 * @peer_flags) those ACKs also carry our KX option again, so @half
	 * lives as long as the proof is pending.
	 */
	bool proof_pending;
	u8 proof[MIGTCP_HSMAC_LEN];
	u8 conn_key[SHA256_DIGEST_SIZE];
};

/*
 * The connecting side after a SYN cookie, until the listener is seen to
 * hold the connection: its ACKs carry the KX option and the handshake
 * MAC, the retransmission timer repeats them, and data waits.
 */
static inline bool migtcp_kx_cookie_wait(const struct migtcp_kx *kx)
{
	return kx->proof_pending && (kx->peer_flags & MIGTCP_KX_F_COOKIE);
}

/*
 * A socket's part in migrations (migrate.c, docs/migration.md).  Changed
 * under the socket lock.
 */
struct migtcp_mig {
	u8 state;			/* enum migtcp_migration */
	bool exported;			/* MIGTCP_CHECKPOINT taken while frozen */
	bool foreign;			/* an identity of another node: not in
					 * this node's port table
					 */
	bool quiet;			/* ends without telling anyone (a
					 * restore that failed half-way)
					 */
	bool held;			/* the peer asked us to hold */
	u8 pending;			/* MIGTCP_PEND_* messages not acked yet */
	u8 tries;			/* times they were sent again */
	u8 redirects;			/* REDIRECTs a connect() followed */
	u32 hold_ms;			/* the hold we ask for */
	u64 epoch;			/* ours: migrations begun */
	u64 peer_epoch;			/* the peer's, last applied */
	u32 peer_host;			/* where the peer's last update said */
	u64 held_epoch;			/* the peer's HOLD we obey */
	unsigned long held_until;	/* when that hold ends */
	u32 host_node;			/* where a departed endpoint went, 0: unknown */
	struct in6_addr host_addr;	/* migtcp_addr_*(): either family */
	struct in6_addr prev_addr;	/* a restored one's last host */
	unsigned long deadline;		/* a departure, relocation or HOLD ends */
	unsigned long next_ctl;		/* when pending messages go again */
	unsigned long rto;		/* between control retransmissions */
	/*
	 * An endpoint restored away from its home keeps the registrar's
	 * record there alive (docs/protocol.md, "The registrar's lease"):
	 * it registers again at @lease_next; the home last answered at
	 * @lease_ok.
	 */
	bool registrar;
	unsigned long lease_next;
	unsigned long lease_ok;
	struct timer_list timer;	/* control retransmission and deadlines */
	u8 home_key[MIGTCP_KEY_LEN];	/* authenticates it to its registrar */
};

/* Where a passively opened connection waits, under its listener's accept_lock. */
enum migtcp_queue {
	MIGTCP_QUEUE_NONE,
	MIGTCP_QUEUE_SYN,		/* handshake in progress (SYN_RECV) */
	MIGTCP_QUEUE_ACCEPT,		/* established, not accepted yet */
};

/* A range of sequence numbers held out of order, for a SACK block. */
struct migtcp_sack_block {
	u32 start, end;
};

/*
 * SACK blocks a pure ACK carries at most (D-SACK included), as TCP
 * without timestamps: 4 + 8 * 4 bytes of options.
 */
#define MIGTCP_SACK_BLOCKS	4
#define MIGTCP_SACK_OPT_ALIGNED(n)	(4 + (n) * MIGTCP_SACK_BLOCK_LEN)

struct migtcp_sock {
	/*
	 * First, as every protocol's.  The IPv4 output path takes a full
	 * socket that owns an skb for an inet_sock and reads its fields
	 * (ip_skb_dst_mtu() its pmtudisc, cgroup BPF its ports): so the
	 * socket is laid out as one, all zero, which reads as "no IP-level
	 * options" and "use the path MTU" (IP_PMTUDISC_DONT).
	 */
	union {
		struct sock sk;
		struct inet_sock inet;
	};
	struct rb_node net_node;	/* in migtcp_net.sockets */
	u64 net_seq;			/* its key there; 0: not in it */
	struct rhlist_head port_node;	/* in migtcp_net.ports if bound */
	u16 port_key;			/* the port it is there with */
	struct rhash_head conn_node;	/* in migtcp_net.conns if hashed */
	struct migtcp_conn_key conn_key; /* the tuple it is there with */
	u32 local_node;
	u16 local_port;			/* host byte order */
	u32 remote_node;
	u16 remote_port;

	/*
	 * The path of the connection, IPv4 or IPv6 (migtcp_addr_*()): the
	 * family of path_daddr is the family of every segment it sends.
	 */
	struct in6_addr path_saddr;	/* none: as the route chooses */
	struct in6_addr path_daddr;
	struct in6_addr route_saddr;	/* the source the route chose */
	/*
	 * What the cached route is checked against (dst_ops->check): an
	 * IPv6 route's fib6 serial number (rt6_get_cookie()), as
	 * ip6_dst_store() keeps it for TCP; IPv4 routes ignore it.
	 */
	u32 dst_cookie;
	u16 mss;			/* largest payload we may send */
	u16 peer_mss;			/* what the peer's SYN allowed; 0 before */
	u32 size_goal;			/* bytes a queued skb (GSO packet) holds */
	bool csum_offload;		/* the route's device checksums for us */

	/* Sequence space (RFC 9293 names). */
	u32 iss, snd_una, snd_nxt;
	u32 snd_max;			/* highest snd_nxt: beyond it is new */
	u32 write_seq;			/* next byte sendmsg() queues */
	u32 snd_wnd;			/* the peer's window, bytes */
	u32 max_window;			/* the largest it offered */
	u32 snd_wl1;			/* seq of the segment that set snd_wnd */
	u8 snd_wscale;			/* the peer's window shift */
	u8 rcv_wscale;			/* ours (RFC 7323); 0 if not agreed */
	u32 irs, rcv_nxt;
	u32 copied_seq;			/* next byte recvmsg() returns */
	u32 rcv_wup;			/* rcv_nxt when a window was last sent */
	u32 rcv_wnd;			/* that window */
	/*
	 * Received out of order: an rbtree by seq (skb->rbnode), so that a
	 * segment costs O(log n) however the peer scatters them, with its
	 * last skb at hand, where most segments land.
	 */
	struct rb_root ofo_root;
	struct sk_buff *ofo_last;
	/*
	 * SACK (sack.c): before the handshake ends, whether our SYN offers
	 * it; then whether both did.  Blocks of the out-of-order queue for
	 * our ACKs, the latest first; a duplicate to report once.
	 */
	bool sack_ok;
	bool dsack;
	u8 sack_blocks;
	struct migtcp_sack_block sacks[MIGTCP_SACK_BLOCKS];
	struct migtcp_sack_block dsack_block;
	/* The sender's scoreboard: bytes of the write queue SACKed, and
	 * where the highest of them ends (valid while any are).
	 */
	u32 sacked_bytes;
	u32 high_sacked;
	/*
	 * Undoing a recovery that D-SACKs show needless (RFC 2883, as
	 * Linux's undo_marker and undo_retrans): the window before it, the
	 * data it covered, its retransmissions not yet reported as received
	 * twice, and how far beyond the first hole SACKs reached when it
	 * began (segments).  An undo raises reordering, the duplicates (in
	 * segments) that make a loss, to at least that.
	 */
	bool undo_armed;
	u16 reordering;
	u32 undo_degree;
	int undo_retrans;
	u32 undo_start, undo_end;
	u32 prior_cwnd, prior_ssthresh;

	/*
	 * RACK-TLP (rack.c, RFC 8985), in this node's clock: the most
	 * recently sent segment delivered (when it went, where it ends, its
	 * RTT), the highest end delivered (and before the ACK being processed),
	 * the minimum RTT (µs, 0: none; and
	 * when it was measured),
	 * the reorder window's multiplier, for how many more recoveries,
	 * and until where a D-SACK round lasts; the loss probe out (from
	 * tlp_seq, SND.NXT then tlp_high_seq) and whether a D-SACK showed
	 * it needless.
	 */
	u64 rack_xmit_us;
	u32 rack_end_seq;
	u32 rack_rtt_us;
	u32 rack_fack, rack_prior_fack;
	u32 rack_min_rtt;
	unsigned long rack_min_rtt_stamp;
	u32 rack_dsack_round;
	u8 rack_reo_mult;
	u8 rack_reo_persist;
	bool rack_fack_set;
	bool rack_advanced;
	bool rack_reord_seen;
	bool rack_dsack_round_on;
	bool tlp_on;
	bool tlp_dsacked;
	u32 tlp_seq, tlp_high_seq;
	u8 timer_kind;			/* MIGTCP_TIMER_*: what sk_timer waits for */

	/* RFC 6298, in jiffies: srtt scaled by 8, rttvar by 4. */
	unsigned long rto;		/* retransmission timeout */
	u32 srtt, rttvar;
	u32 rtt_seq;			/* timing the segment ending here */
	unsigned long rtt_start;	/* 0: no segment timed */
	u8 retransmits;
	u8 dup_acks;			/* in a row, for fast retransmit */
	bool fin_queued;		/* our FIN is in the write queue */
	unsigned long retrans_stamp;	/* when the oldest unacked data went */
	unsigned long challenge_stamp;	/* when a challenge ACK last went */
	unsigned long oow_ack_stamp;	/* an ACK to an out-of-window one */

	/* Congestion control: RFC 5681 slow start, avoidance, halving. */
	u32 cwnd;			/* segments */
	u32 ssthresh;
	u32 cwnd_cnt;			/* acked segments toward cwnd + 1 */
	const struct migtcp_cong_ops *cong;	/* the algorithm (cong.c) */
	u64 cong_priv[MIGTCP_CONG_PRIV / 8];	/* its state */
	u32 recover;			/* snd_max when fast recovery began */
	bool in_recovery;		/* NewReno fast recovery (RFC 6582) */

	/* Socket options (SOL_MIGTCP). */
	bool nodelay, cork;
	u16 user_mss;
	int keepidle, keepintvl, keepcnt;	/* seconds; 0: default */
	unsigned int user_timeout;	/* ms; 0: the retry limit */

	/*
	 * Delayed acknowledgments (RFC 9293 3.8.6.3): an ACK waits up to
	 * MIGTCP_DELACK for data to ride on, or for a second full segment.
	 */
	struct timer_list delack_timer;
	bool delack_armed;
	bool pingpong;			/* MIGTCP_QUICKACK 0: always delay */
	u8 quickacks;			/* segments still acknowledged at once */
	unsigned long deferred;		/* MIGTCP_DEFERRED_* bits */

	/* Keepalive (RFC 9293 3.8.4). */
	struct timer_list keepalive_timer;
	unsigned long rcv_tstamp;	/* when a segment last arrived */
	u8 probes_out;

	/* Autotuning of the receive buffer (mem.c). */
	unsigned long rcvq_time;	/* when the current round trip began */
	u32 rcvq_seq;			/* copied_seq then */
	u32 rcv_rtt;			/* the receiver's RTT estimate, jiffies */
	unsigned long rcv_rtt_time;	/* measuring until rcv_rtt_seq */
	u32 rcv_rtt_seq;

	/* For MIGTCP_INFO. */
	u64 bytes_sent, bytes_acked, bytes_received;
	u32 total_retrans;

	struct migtcp_kx kx;
	struct migtcp_mig mig;

	/* A listener's queues of passively opened connections. */
	spinlock_t accept_lock;
	struct list_head syn_queue;
	struct list_head accept_queue;
	unsigned int queued;		/* on both queues */
	unsigned int syn_queued;	/* on the SYN queue */

	/* A passively opened connection until accepted. */
	struct sock *parent;
	struct list_head queue_node;
	enum migtcp_queue queue;

	/* In migtcp_net.orphans (pernet.c); changed under the socket lock. */
	bool orphan_counted;
};

/*
 * Work a timer found the socket owned by its user for; release_sock()
 * does it (proto->release_cb), as tcp_release_cb() does TCP's.
 */
enum {
	MIGTCP_DEFERRED_DELACK,
	MIGTCP_DEFERRED_MTU,		/* an ICMP error lowered the MTU */
};

#include "trace.h"

/* A segment dropped: counted, and traced with its reason. */
static inline void migtcp_drop(struct net *net, const struct sk_buff *skb,
			       enum migtcp_stat why)
{
	MIGTCP_INC_STATS(net, why);
	trace_migtcp_drop(skb, why);
}

/* The header of a received segment, once validated and linear. */
static inline const struct migtcphdr *migtcp_hdr(const struct sk_buff *skb)
{
	return (const struct migtcphdr *)skb_transport_header(skb);
}

/* Frees @skb of @sk's write queue and gives its memory back. */
static inline void migtcp_wmem_free_skb(struct sock *sk, struct sk_buff *skb)
{
	sk_wmem_queued_add(sk, -skb->truesize);
	sk_mem_uncharge(sk, skb->truesize);
	__kfree_skb(skb);
}

/* Sequence number order, modulo 2^32 (RFC 9293 3.4). */
static inline bool migtcp_before(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

static inline bool migtcp_after(u32 a, u32 b)
{
	return migtcp_before(b, a);
}

/* Whether @lo <= @seq <= @hi in sequence number order. */
static inline bool migtcp_between(u32 seq, u32 lo, u32 hi)
{
	return hi - lo >= seq - lo;
}

static inline struct migtcp_sock *migtcp_sk(const struct sock *sk)
{
	return (struct migtcp_sock *)sk;
}

static inline bool migtcp_ofo_empty(const struct sock *sk)
{
	return RB_EMPTY_ROOT(&migtcp_sk(sk)->ofo_root);
}

/*
 * Whether @sk is frozen (MIGTCP_FREEZE), or the record of an endpoint
 * that was checkpointed and lives elsewhere now (frozen for good): it
 * sends nothing, takes nothing, and its state stays as a checkpoint has it.
 */
static inline bool migtcp_mig_frozen(const struct sock *sk)
{
	u8 state = READ_ONCE(migtcp_sk(sk)->mig.state);

	return state == MIGTCP_MIG_FROZEN || state == MIGTCP_MIG_DEPARTED;
}

/* The states in which an orphan counts against max_orphans (pernet.c). */
#define MIGTCPF_ORPHAN_STATES	(TCPF_FIN_WAIT1 | TCPF_CLOSING | TCPF_LAST_ACK)
void migtcp_orphan_uncount(struct sock *sk);

/* Changes the connection state. */
static inline void migtcp_set_state(struct sock *sk, int state)
{
	trace_migtcp_set_state(sk, sk->sk_state, state);
	/*
	 * An orphan stops counting when it has nothing left to deliver,
	 * whichever way it gets there: here, so that no path misses it.
	 */
	if (unlikely(migtcp_sk(sk)->orphan_counted) &&
	    !((1 << state) & MIGTCPF_ORPHAN_STATES))
		migtcp_orphan_uncount(sk);
	/*
	 * Release: whatever led to the new state is visible to readers that
	 * see it through inet_sk_state_load() without the socket lock (poll,
	 * /proc, dumps, the listener lookup).
	 */
	smp_store_release(&sk->sk_state, state);
}

/* socket.c */
extern struct proto migtcp_prot;
void migtcp_init_sock(struct sock *sk);
void migtcp_forget_conn(struct sock *sk);
int migtcp_socket_register(void);
void migtcp_socket_unregister(void);

/* pernet.c */
int migtcp_pernet_register(void);
void migtcp_pernet_unregister(void);
void migtcp_net_link_sock(struct sock *sk);
void migtcp_net_unlink_sock(struct sock *sk);
struct migtcp_sock *migtcp_net_sock_after(struct migtcp_net *mn, u64 seq);
struct migtcp_sock *migtcp_net_sock_next(struct migtcp_sock *msk);
void migtcp_net_orphan(struct sock *sk);
bool migtcp_budget_take(struct migtcp_budget *b, u32 (*fill)(void));
bool migtcp_budget_left(struct migtcp_budget *b, u32 (*fill)(void));
u32 migtcp_budget_draw(u32 limit);
bool migtcp_orphan_count(struct sock *sk);
bool migtcp_orphan_out_of_resources(struct sock *sk);
void migtcp_orphan_abort(struct sock *sk);

/* node.c */
int migtcp_node_set_id(struct migtcp_net *mn, u32 id,
		       struct netlink_ext_ack *extack);
void migtcp_node_set_key(struct migtcp_net *mn, const u8 *key,
			 struct crypto_shash *tfm);
void migtcp_node_forget_key(struct migtcp_net *mn);

/* peer.c */
extern unsigned int migtcp_max_peers;
int migtcp_peers_init(struct migtcp_net *mn);
void migtcp_peers_destroy(struct migtcp_net *mn);
struct migtcp_peer *migtcp_peer_lookup(struct migtcp_net *mn, u32 id);
int migtcp_peer_add(struct migtcp_net *mn, u32 id, __be32 addr4,
		    const struct in6_addr *addr6, struct netlink_ext_ack *extack);
int migtcp_peer_replace(struct migtcp_net *mn, u32 id, __be32 addr4,
			const struct in6_addr *addr6,
			struct netlink_ext_ack *extack);
int migtcp_peer_del(struct migtcp_net *mn, u32 id,
		    struct netlink_ext_ack *extack);
bool migtcp_node_has_addr(struct net *net, u32 id,
			  const struct in6_addr *addr);
void migtcp_peer_daddr(const struct migtcp_net *mn,
		       const struct migtcp_peer *peer, struct in6_addr *daddr);
bool migtcp_node_daddr(struct net *net, u32 id, struct in6_addr *daddr);
bool migtcp_addr_prefer(struct net *net, struct in6_addr *addr);

/* port.c */
int migtcp_ports_init(struct migtcp_net *mn);
void migtcp_ports_destroy(struct migtcp_net *mn);
int migtcp_port_bind(struct sock *sk, u32 node, u16 port);
int migtcp_port_hold(struct sock *sk, u16 port);
int migtcp_port_inherit(struct sock *child, const struct sock *parent);
int migtcp_port_listen(struct sock *sk);
struct sock *migtcp_port_lookup(struct migtcp_net *mn, u16 port,
				bool (*match)(const struct sock *));
void migtcp_port_unbind(struct sock *sk);
int migtcp_ports_set_range(struct migtcp_net *mn, u16 min, u16 max);

/* netlink.c */
int migtcp_netlink_register(void);
void migtcp_netlink_unregister(void);

/* send.c */
int migtcp_xmit(struct net *net, struct sk_buff *skb,
		const struct in6_addr *saddr, const struct in6_addr *daddr);
void migtcp_send_reset(struct net *net, const struct sk_buff *in_skb);
int migtcp_send_cookie_synack(struct sock *lsk, const struct sk_buff *syn,
			      u32 iss, const u8 *half, const u8 *mac,
			      bool sack_perm);
int migtcp_send_ctl(struct sock *sk, u16 flags, u32 seq);
int migtcp_route_path(struct sock *sk);
void migtcp_mtu_reduced(struct sock *sk);
int migtcp_send_ack(struct sock *sk);
void migtcp_push(struct sock *sk);
int migtcp_transmit(struct sock *sk, struct sk_buff *skb);
int migtcp_split(struct sock *sk, struct sk_buff *skb, u32 len);
void migtcp_count_retransmit(struct sock *sk, u32 seq, u32 len, u32 segs);
struct sk_buff *migtcp_alloc_seg(struct sock *sk, gfp_t gfp);
void migtcp_set_csum(struct sk_buff *skb, const struct in6_addr *saddr,
		     const struct in6_addr *daddr, bool offload);
u16 migtcp_select_window(struct sock *sk);
u32 migtcp_free_window(struct sock *sk);
u32 migtcp_offered_window(const struct migtcp_sock *msk);

/*
 * The most option bytes a segment of ours carries: a SYN-ACK's full set
 * (docs/protocol.md, "A SYN's options", and the handshake MAC).
 */
#define MIGTCP_MAX_OPTLEN	(56 + MIGTCP_OPTLEN_HSMAC)

/*
 * Room in front of a queued segment for the link, IP and migtcp headers
 * with options, so that a clone of it needs no new head to be sent.
 */
#define MIGTCP_MAX_HEADER	(MAX_HEADER + sizeof(struct ipv6hdr) + \
				 sizeof(struct migtcphdr) + MIGTCP_MAX_OPTLEN)

/* stream.c */
int migtcp_sendmsg(struct socket *sock, struct msghdr *msg, size_t len);
ssize_t migtcp_sendpage(struct socket *sock, struct page *page, int offset,
			size_t size, int flags);
ssize_t migtcp_splice_read(struct socket *sock, loff_t *ppos,
			   struct pipe_inode_info *pipe, size_t len,
			   unsigned int flags);
int migtcp_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		   int flags);
int migtcp_shutdown(struct socket *sock, int how);
int migtcp_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg);
void migtcp_send_fin(struct sock *sk);
void migtcp_write_space(struct sock *sk);
void migtcp_purge_queues(struct sock *sk);

/* conn.c */
int migtcp_conn_init(struct migtcp_net *mn);
void migtcp_conn_destroy(struct migtcp_net *mn);
int migtcp_conn_hash(struct sock *sk);
void migtcp_conn_unhash(struct sock *sk);
struct sock *migtcp_conn_lookup(struct migtcp_net *mn, u32 lnode, u16 lport,
				u32 rnode, u16 rport);
struct sock *migtcp_listener_lookup(struct migtcp_net *mn, u32 lnode,
				    u16 lport);
struct sock *migtcp_departed_lookup(struct migtcp_net *mn, u32 lnode,
				    u16 lport);
struct sock *migtcp_record_lookup(struct migtcp_net *mn, u32 lnode, u16 lport);
bool migtcp_mig_is_record(const struct sock *sk);
u32 migtcp_isn(const struct migtcp_sock *msk);
int migtcp_resolve_path(struct sock *sk, u32 node);

/* What a SYN's options say. */
struct migtcp_syn_opts {
	u16 mss;
	bool wscale_ok;
	u8 wscale;
	bool sack_ok;			/* SACK permitted */
	/* A usable KX option: the peer's half, in the skb; else NULL. */
	const u8 *kx_half;
	u8 kx_flags;
	/* A handshake MAC option's MAC, in the skb; else NULL. */
	const u8 *hsmac;
	/* A host option's node id: where a migrated endpoint runs; else 0. */
	u32 host_node;
};

/* input.c */
void migtcp_parse_syn_opts(const struct sk_buff *skb,
			   struct migtcp_syn_opts *opts);
const u8 *migtcp_find_hsmac(const struct sk_buff *skb);
bool migtcp_syn_from_member(struct net *net, const struct sk_buff *skb);
u8 migtcp_our_wscale(void);
void migtcp_rtt_reset(struct sock *sk);
unsigned long migtcp_rto_estimate(const struct migtcp_sock *msk);
int migtcp_sock_rcv(struct sock *sk, struct sk_buff *skb);
unsigned int migtcp_ofo_purge(struct sock *sk);
void migtcp_ofo_append(struct sock *sk, struct sk_buff *skb);
void migtcp_listen_rcv(struct sock *lsk, struct sk_buff *skb);
void migtcp_done(struct sock *sk, int err);
void migtcp_retransmit(struct sock *sk);
void migtcp_abort(struct sock *sk, bool send_rst);
void migtcp_child_give_up(struct sock *child);
void migtcp_listen_stop(struct sock *lsk);
void migtcp_listen_discard(struct sock *lsk, bool quiet);
void migtcp_listen_depart(struct sock *lsk);
int migtcp_listen_children(struct sock *lsk, struct sock ***out, int max);
void migtcp_put_children(struct sock **children, int n);
void migtcp_listen_each_child(struct sock *lsk, void (*fn)(struct sock *sk));
struct sock *migtcp_accept_dequeue(struct sock *lsk);

/* timers.c */
#define MIGTCP_RTO_INIT		HZ
#define MIGTCP_RTO_MAX		(120 * HZ)
#define MIGTCP_SYN_RETRIES	6
#define MIGTCP_SYNACK_RETRIES	5
#define MIGTCP_RTO_MIN		(HZ / 5)
#define MIGTCP_RETRIES		15
#define MIGTCP_ORPHAN_RETRIES	8	/* Linux's tcp_orphan_retries default */
#define MIGTCP_INIT_CWND	10	/* RFC 6928 */
/* RFC 9293 3.7.1: when a SYN names none, 576 less the IP and our header. */
#define MIGTCP_DEFAULT_MSS	(576 - 20 - 28)
#define MIGTCP_MIN_SND_MSS	48	/* a smaller MSS option is raised to it */
#define MIGTCP_MAX_WSCALE	14	/* RFC 7323 2.3 */
/*
 * A GSO packet of ours is labelled SKB_GSO_SCTP (send.c), and the core
 * (skb_gso_transport_seglen(): qdiscs, the forwarding path's MTU check)
 * takes a segment to be SCTP's 12-byte header and gso_size bytes.  So
 * gso_size is the segment's length less 12: the MSS and this bias, our
 * header's 28 bytes less SCTP's 12.  A hop whose MTU lies between the two
 * ideas of the length then answers "fragmentation needed" as it should,
 * instead of forwarding segments that its device cannot carry.
 */
#define MIGTCP_GSO_SIZE_BIAS	(sizeof(struct migtcphdr) - 12)

#define MIGTCP_MIN_USER_MSS	88	/* as TCP_MIN_MSS */
#define MIGTCP_KEEPIDLE_DEFAULT	7200
#define MIGTCP_KEEPINTVL_DEFAULT 75
#define MIGTCP_KEEPCNT_DEFAULT	9
extern unsigned int migtcp_timewait_secs;
void migtcp_init_timers(struct sock *sk);
/* What the connection timer waits for in a state that sends data. */
enum {
	MIGTCP_TIMER_RTO,		/* the retransmission timeout */
	MIGTCP_TIMER_REO,		/* RACK's reorder timeout (rack.c) */
	MIGTCP_TIMER_TLP,		/* the tail loss probe (rack.c) */
};

void migtcp_arm_timer(struct sock *sk, u8 kind, unsigned long when);
void migtcp_arm_retransmit(struct sock *sk);
void migtcp_stop_retransmit(struct sock *sk);
void migtcp_enter_recovery(struct sock *sk);
void migtcp_stop_timers_sync(struct sock *sk);
void migtcp_enter_time_wait(struct sock *sk);
void migtcp_arm_linger(struct sock *sk);
void migtcp_keepalive_reset(struct sock *sk);
void migtcp_keepalive_stop(struct sock *sk);
void migtcp_set_keepalive(struct sock *sk, int on);
#define MIGTCP_DELACK		(HZ / 25)	/* 40 ms, TCP_DELACK_MIN */
#define MIGTCP_MAX_QUICKACKS	16		/* as TCP_MAX_QUICKACKS */
void migtcp_delack_arm(struct sock *sk);
void migtcp_delack_stop(struct sock *sk);
void migtcp_ack_sent(struct sock *sk);
void migtcp_release_cb(struct sock *sk);

/* sockopt.c */
int migtcp_setsockopt(struct socket *sock, int level, int optname,
		      sockptr_t optval, unsigned int optlen);
int migtcp_getsockopt(struct socket *sock, int level, int optname,
		      char __user *optval, int __user *optlen);

/* offload.c */
int migtcp_offload_register(void);
void migtcp_offload_unregister(void);

/* cong.c */
void migtcp_cong_init(struct sock *sk, const struct sock *parent);
void migtcp_cong_reset(struct sock *sk);
int migtcp_cong_set(struct sock *sk, const char *name);
/* A bound on cwnd, in segments: GiBs in flight, far beyond any buffer. */
#define MIGTCP_MAX_CWND		BIT(20)
void migtcp_cong_on_ack(struct sock *sk, u32 acked, u32 in_flight);
void migtcp_cwnd_loss(struct sock *sk, bool timeout);

/* mem.c */
extern long migtcp_mem[3];
extern int migtcp_rmem[3];
extern int migtcp_wmem[3];
extern atomic_long_t migtcp_memory_allocated;
DECLARE_PER_CPU(int, migtcp_memory_per_cpu_fw_alloc);
extern struct percpu_counter migtcp_sockets_allocated;
extern unsigned long migtcp_memory_pressure;
void migtcp_enter_memory_pressure(struct sock *sk);
void migtcp_leave_memory_pressure(struct sock *sk);
void migtcp_wmem_charge_forced(struct sock *sk, int size);
void migtcp_rcvbuf_adjust(struct sock *sk);
void migtcp_rcv_rtt_measure(struct sock *sk);
void migtcp_sndbuf_expand(struct sock *sk);
int migtcp_mem_init(void);
void migtcp_mem_exit(void);

/* receive.c */
void migtcp_deliver(struct sock *sk, struct sk_buff *skb);
int migtcp_receive_register(void);
void migtcp_receive_unregister(void);

/* syncookie.c */
extern unsigned int migtcp_syncookies;
bool migtcp_want_cookie(const struct sock *lsk, u32 backlog);
void migtcp_cookie_synack(struct sock *lsk, const struct sk_buff *skb,
			  const struct migtcp_syn_opts *opts);
enum migtcp_stat migtcp_cookie_check(struct net *net,
				     const struct sk_buff *skb,
				     struct migtcp_syn_opts *opts, u8 *half);

/* sack.c */
bool migtcp_sack_enabled(void);
void migtcp_sack_new_ofo(struct sock *sk, u32 seq, u32 end);
void migtcp_sack_advance(struct sock *sk);
void migtcp_sack_reset(struct sock *sk);
void migtcp_sack_dup(struct sock *sk, u32 seq, u32 end);
unsigned int migtcp_sack_optlen(const struct sock *sk);
void migtcp_sack_write_opt(struct sock *sk, u8 *opt, unsigned int optlen);
void migtcp_sack_rcv(struct sock *sk, const struct sk_buff *skb, u32 ack);
void migtcp_sack_unlink(struct sock *sk, const struct sk_buff *skb);
void migtcp_sack_clear(struct sock *sk, u8 bits);
bool migtcp_sack_head_lost(const struct sock *sk);
void migtcp_sack_recovery_start(struct sock *sk);
void migtcp_sack_recovery_end(struct sock *sk);
void migtcp_sack_forget(struct sock *sk);
void migtcp_sack_retransmitted(struct sock *sk, struct sk_buff *skb);
bool migtcp_count_dupack(struct migtcp_sock *msk);
u32 migtcp_sack_pipe(const struct sock *sk);
void migtcp_sack_recover(struct sock *sk);
void migtcp_sack_recover_first(struct sock *sk);
int migtcp_resend_seg(struct sock *sk, struct sk_buff *skb);
unsigned int migtcp_reordering(const struct migtcp_sock *msk);

/* rack.c */
bool migtcp_rack_on(const struct migtcp_sock *msk);
void migtcp_rack_reset(struct sock *sk);
void migtcp_rack_sent(struct sock *sk, struct sk_buff *skb);
void migtcp_rack_delivered(struct sock *sk, const struct sk_buff *skb);
void migtcp_rack_dsack(struct sock *sk);
void migtcp_rack_recovery_end(struct sock *sk);
u32 migtcp_rack_reo_wnd(const struct sock *sk);
u32 migtcp_rack_min_rtt(const struct migtcp_sock *msk);
void migtcp_rack_ack_start(struct sock *sk);
bool migtcp_rack_ack(struct sock *sk, bool reo);
void migtcp_rack_reo_timeout(struct sock *sk);
void migtcp_tlp_schedule(struct sock *sk);
void migtcp_tlp_timeout(struct sock *sk);
void migtcp_tlp_dsack(struct sock *sk, u32 start, u32 end);
void migtcp_tlp_ack(struct sock *sk, u32 ack, bool advanced);

/* kx.c */
int migtcp_kx_register(void);
void migtcp_kx_unregister(void);
struct crypto_shash *migtcp_kx_keyed_tfm(const u8 *key);
void migtcp_kx_connect(struct sock *sk);
/* An end of a handshake: node id, port and KX half. */
struct migtcp_hs_end {
	u32 node;
	u16 port;
	const u8 *half;
};

int migtcp_kx_accept(struct sock *child, const struct migtcp_syn_opts *opts,
		     const u8 *half);
int migtcp_hs_check_synack(struct sock *sk, const u8 *peer_half,
			   u8 peer_flags, const u8 *mac);
int migtcp_hs_check_ack(struct sock *child, const u8 *mac);
int migtcp_hs_check_ack_ends(struct net *net, const struct migtcp_hs_end *i,
			     const struct migtcp_hs_end *r, u8 peer_flags,
			     const u8 *mac);
int migtcp_hs_synack_mac(struct net *net, const struct migtcp_hs_end *i,
			 const struct migtcp_hs_end *r, u8 *mac);
void migtcp_hs_write_opt(const struct sock *sk, u8 *opt);
void migtcp_hs_put_opt(u8 *opt, const u8 *mac);
void migtcp_kx_put_opt(struct net *net, u8 *opt, const u8 *half, u8 flags);
void migtcp_kx_write_opt(const struct sock *sk, u8 *opt);
void migtcp_kx_proof_taken(struct sock *sk);
int migtcp_secret_hmac(const u8 *msg, unsigned int len, u8 *out);
int migtcp_kx_complete(struct sock *sk, const u8 *peer_half, u8 peer_flags);
void migtcp_kx_forget(struct sock *sk);
u64 migtcp_kx_fingerprint(const struct sock *sk);
int migtcp_hmac(const u8 *key, const u8 *msg, unsigned int len, u8 *out);
bool migtcp_kx_redirect_key(struct net *net, u8 *key);

/* migrate.c */
extern unsigned int migtcp_migration_timeout_ms;
void migtcp_mig_init(struct sock *sk);
void migtcp_mig_timer_init(struct sock *sk);
void migtcp_ctl_process(struct sock *sk, struct sk_buff *skb);
bool migtcp_mig_privileged(const struct sock *sk);
int migtcp_freeze(struct sock *sk, unsigned int hold_ms);
int migtcp_thaw(struct sock *sk);
bool migtcp_mig_release(struct sock *sk);
void migtcp_mig_restored(struct sock *sk);
void migtcp_mig_done(struct sock *sk);
void migtcp_mig_stop_sync(struct sock *sk);
void migtcp_gone_init(struct migtcp_net *mn);
void migtcp_gone_exit(struct migtcp_net *mn);
bool migtcp_mig_blocks_send(const struct sock *sk);
u8 migtcp_mig_report(const struct sock *sk);
u8 migtcp_mig_unacked(const struct sock *sk);
bool migtcp_mig_drops_input(struct sock *sk, struct sk_buff *skb);
void migtcp_ctl_rcv(struct net *net, struct sk_buff *skb);
bool migtcp_moved_rcv(struct net *net, struct sk_buff *skb);

/* checkpoint.c */
int migtcp_checkpoint(struct sock *sk, char __user *optval,
		      int __user *optlen);
int migtcp_restore(struct sock *sk, sockptr_t optval, unsigned int optlen);

/* policy.c */
bool migtcp_rcv_policy_ok(struct net *net, struct sk_buff *skb);
bool migtcp_sk_filter_drops(struct sock *sk, struct sk_buff *skb);
void migtcp_node_saddr(struct net *net, const struct in6_addr *daddr,
		       struct in6_addr *saddr);
struct dst_entry *migtcp_route(struct net *net, struct sock *sk,
			       const struct in6_addr *saddr,
			       const struct in6_addr *daddr,
			       struct in6_addr *route_saddr);
void migtcp_skb_set_owner(struct sock *sk, struct sk_buff *skb);
void migtcp_child_inherit(struct sock *lsk, struct sock *child);
void migtcp_accept_charge(struct sock *child);

/* proc.c */
int migtcp_proc_init_net(struct net *net);
void migtcp_proc_exit_net(struct net *net);

#endif /* _MIGTCP_MIGTCP_H */
