/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * migtcp: TCP over raw IP between cluster-wide endpoints, with live
 * migration of connections.
 *
 * This header is the whole user ABI of the migtcp module: the socket
 * family and protocol numbers, the endpoint address, socket options and
 * the on-wire segment header.
 */
#ifndef _UAPI_LINUX_MIGTCP_H
#define _UAPI_LINUX_MIGTCP_H

#include <linux/types.h>
#include <linux/socket.h>

/*
 * Linux has no free address-family slot below AF_MAX, so migtcp reuses
 * the slot of a family that no current kernel implements: 19 belonged to
 * AF_ECONET, removed in Linux 3.5.  Both numbers are module parameters
 * ("family" and "proto"); the values in use are readable in
 * /sys/module/migtcp/parameters/.  Programs that must work with a module
 * loaded with other numbers read them from there.
 */
#define MIGTCP_FAMILY_DEFAULT	19
#define MIGTCP_PROTO_DEFAULT	253	/* RFC 3692 experimental */

#ifndef AF_MIGTCP
#define AF_MIGTCP		MIGTCP_FAMILY_DEFAULT
#endif
#ifndef PF_MIGTCP
#define PF_MIGTCP		AF_MIGTCP
#endif
#ifndef IPPROTO_MIGTCP
#define IPPROTO_MIGTCP		MIGTCP_PROTO_DEFAULT
#endif

/* Socket option level of AF_MIGTCP sockets (as SOL_TCP == IPPROTO_TCP). */
#define SOL_MIGTCP		253

/*
 * Options at SOL_MIGTCP.  Each has the number and the meaning of the TCP
 * option of the same name (man 7 tcp), so a TCP program's options map
 * one to one.
 */
#define MIGTCP_NODELAY		1	/* int: send partial segments at once */
#define MIGTCP_MAXSEG		2	/* int: largest segment payload */
#define MIGTCP_CORK		3	/* int: hold partial segments */
#define MIGTCP_KEEPIDLE		4	/* int: idle seconds before probes */
#define MIGTCP_KEEPINTVL	5	/* int: seconds between probes */
#define MIGTCP_KEEPCNT		6	/* int: probes before giving up */
#define MIGTCP_INFO		11	/* struct migtcp_info, read-only */
#define MIGTCP_QUICKACK		12	/* int: acknowledge at once */
#define MIGTCP_CONGESTION	13	/* char[]: congestion control by name */
#define MIGTCP_USER_TIMEOUT	18	/* unsigned int: ms data may stay unacked */

/*
 * Migration (docs/migration.md).  Each needs CAP_NET_ADMIN and
 * CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) in the user namespace that
 * owns the socket's network namespace; EPERM otherwise.
 *
 * MIGTCP_FREEZE  set, int: the hold time in ms to ask the peer for (0: the
 *                "migration_timeout_ms" module parameter).  Stops sending,
 *                asks the peer to hold (HOLD) and fixes the socket's state.
 *                EALREADY if frozen; EAGAIN while a handshake is running;
 *                EBUSY while the peer is still being told of the last move.
 * MIGTCP_CHECKPOINT  get: the frozen socket's state, a struct
 *                migtcp_ckpt_hdr and its records.  EINVAL unless frozen;
 *                ERANGE with *optlen set to the size needed if the buffer
 *                is too small.  After it, closing the socket sends neither
 *                FIN nor RST: the endpoint lives on where it is restored.
 * MIGTCP_THAW    set, no value: undoes MIGTCP_FREEZE (a dump failed, or the
 *                process keeps running); the connection goes on.  EINVAL
 *                unless frozen.
 * MIGTCP_RESTORE set, the blob MIGTCP_CHECKPOINT returned: rebuilds the
 *                socket on a fresh AF_MIGTCP socket of this node and
 *                announces its new location.  EINVAL (with a kernel log
 *                line saying which check failed) for any blob that is not
 *                valid; EISCONN if the socket is bound or connected;
 *                EADDRINUSE if the endpoint already lives on this node;
 *                ENODEV if it was bound to a device (SO_BINDTODEVICE)
 *                that this node has no device of the name of.
 */
#define MIGTCP_FREEZE		32
#define MIGTCP_CHECKPOINT	33
#define MIGTCP_THAW		34
#define MIGTCP_RESTORE		35

/* Longest MIGTCP_CONGESTION name, with its NUL (as TCP_CA_NAME_MAX). */
#define MIGTCP_CA_NAME_MAX	16

/* What getsockopt(MIGTCP_INFO) returns; fields may be added at the end. */
struct migtcp_info {
	__u8	state;		/* TCP_* state number */
	__u8	retransmits;	/* consecutive timeouts now */
	__u8	migration;	/* enum migtcp_migration */
	__u8	ctl_unacked;	/* control messages awaiting their ACK */
	__u32	rto_us;		/* retransmission timeout */
	__u32	rtt_us;		/* smoothed round-trip time */
	__u32	rttvar_us;	/* its variation */
	__u32	snd_mss;	/* largest payload we send */
	__u32	snd_cwnd;	/* congestion window, segments */
	__u32	snd_wnd;	/* peer's window, bytes */
	__u32	rcv_wnd;	/* window we offer, bytes */
	__u32	unacked;	/* bytes in flight */
	__u32	total_retrans;	/* segments sent again */
	__u64	bytes_sent;	/* payload sent, retransmissions included */
	__u64	bytes_acked;	/* payload the peer acknowledged */
	__u64	bytes_received;	/* payload received in order */
	__u64	kx_fingerprint;	/* of the connection key; 0 until known */
	__u32	min_rtt_us;	/* least RTT seen (RACK); 0: none yet */
	__u32	reo_wnd_us;	/* RACK's reordering window now */
};

/*
 * The checkpoint of a socket, as MIGTCP_CHECKPOINT returns it and
 * MIGTCP_RESTORE takes it:
 *
 *   struct migtcp_ckpt_hdr
 *   record 0: the socket                   struct migtcp_ckpt_rec + attributes
 *   record 1..n: a listener's accept queue struct migtcp_ckpt_rec + attributes
 *
 * The attributes of a record are netlink attributes (struct nlattr,
 * 4-byte aligned, enum migtcp_ckpt_attr), so any netlink library walks
 * them.  Scalars appear at most once; data comes in chunks of at most
 * MIGTCP_CKPT_CHUNK bytes, in stream order.  All integers are in host
 * byte order: a checkpoint moves between nodes of one cluster, which
 * share a byte order.  Version 1 readers reject unknown attributes.
 */
#define MIGTCP_CKPT_MAGIC	0x4d47434b	/* "MGCK" */
#define MIGTCP_CKPT_VERSION	1
#define MIGTCP_CKPT_CHUNK	32768
#define MIGTCP_CKPT_MAX_RECS	65536		/* a listener and its queue */

struct migtcp_ckpt_hdr {
	__u32	magic;		/* MIGTCP_CKPT_MAGIC */
	__u16	version;	/* MIGTCP_CKPT_VERSION */
	__u16	hdr_len;	/* sizeof(struct migtcp_ckpt_hdr) */
	__u32	total_len;	/* the whole blob, this header included */
	__u32	nr_recs;	/* records that follow, at least 1 */
};

struct migtcp_ckpt_rec {
	__u32	len;		/* this header and its attributes */
	__u32	reserved;	/* zero */
};

/* What a record describes (MIGTCP_CKPT_A_KIND). */
enum migtcp_ckpt_kind {
	MIGTCP_CKPT_UNBOUND,	/* created, nothing more */
	MIGTCP_CKPT_BOUND,	/* bound, neither listening nor connected */
	MIGTCP_CKPT_LISTENER,
	MIGTCP_CKPT_CONN,	/* a connection past its handshake */
};

enum migtcp_ckpt_attr {
	MIGTCP_CKPT_A_UNSPEC,
	MIGTCP_CKPT_A_PAD,
	MIGTCP_CKPT_A_KIND,		/* u8: enum migtcp_ckpt_kind */
	MIGTCP_CKPT_A_STATE,		/* u8: TCP_* state number */
	MIGTCP_CKPT_A_LOCAL_NODE,	/* u32: the endpoint's identity */
	MIGTCP_CKPT_A_LOCAL_PORT,	/* u16 */
	MIGTCP_CKPT_A_REMOTE_NODE,	/* u32: the peer's identity */
	MIGTCP_CKPT_A_REMOTE_PORT,	/* u16 */
	MIGTCP_CKPT_A_PEER_ADDR_IN,	/* 4 bytes: where the peer runs now */
	MIGTCP_CKPT_A_HOME_KEY,		/* MIGTCP_KEY_LEN bytes */
	MIGTCP_CKPT_A_EPOCH,		/* u64: this endpoint's, of the HOLD */
	MIGTCP_CKPT_A_PEER_EPOCH,	/* u64: the peer's, last applied */
	MIGTCP_CKPT_A_CONN_KEY,		/* 32 bytes */
	MIGTCP_CKPT_A_KX_PEER_FLAGS,	/* u8 */
	MIGTCP_CKPT_A_ISS,		/* u32: sequence space, RFC 9293 names */
	MIGTCP_CKPT_A_IRS,		/* u32 */
	MIGTCP_CKPT_A_SND_UNA,		/* u32 */
	MIGTCP_CKPT_A_SND_MAX,		/* u32 */
	MIGTCP_CKPT_A_WRITE_SEQ,	/* u32: end of the queued data */
	MIGTCP_CKPT_A_SND_WND,		/* u32: bytes */
	MIGTCP_CKPT_A_MAX_WINDOW,	/* u32 */
	MIGTCP_CKPT_A_SND_WL1,		/* u32 */
	MIGTCP_CKPT_A_SND_WSCALE,	/* u8 */
	MIGTCP_CKPT_A_RCV_WSCALE,	/* u8 */
	MIGTCP_CKPT_A_RCV_NXT,		/* u32 */
	MIGTCP_CKPT_A_COPIED_SEQ,	/* u32 */
	MIGTCP_CKPT_A_RCV_WUP,		/* u32 */
	MIGTCP_CKPT_A_RCV_WND,		/* u32 */
	MIGTCP_CKPT_A_FIN_QUEUED,	/* u8: our FIN ends the send data */
	MIGTCP_CKPT_A_SHUTDOWN,		/* u8: RCV_SHUTDOWN | SEND_SHUTDOWN */
	MIGTCP_CKPT_A_MSS,		/* u16: largest payload we send */
	MIGTCP_CKPT_A_PEER_MSS,		/* u16 */
	MIGTCP_CKPT_A_USER_MSS,		/* u16: MIGTCP_MAXSEG, 0 if unset */
	MIGTCP_CKPT_A_CWND,		/* u32: segments */
	MIGTCP_CKPT_A_SSTHRESH,		/* u32 */
	MIGTCP_CKPT_A_CONGESTION,	/* string: MIGTCP_CONGESTION name */
	MIGTCP_CKPT_A_SRTT_US,		/* u32: smoothed RTT, 0 if none yet */
	MIGTCP_CKPT_A_RTTVAR_US,	/* u32 */
	MIGTCP_CKPT_A_RTO_US,		/* u32 */
	MIGTCP_CKPT_A_RETRANS_AGE_MS,	/* u32: since the oldest unacked data
					 * went (for MIGTCP_USER_TIMEOUT)
					 */
	MIGTCP_CKPT_A_IDLE_MS,		/* u32: since a segment last arrived
					 * (for keepalive)
					 */
	MIGTCP_CKPT_A_NODELAY,		/* u8 */
	MIGTCP_CKPT_A_CORK,		/* u8 */
	MIGTCP_CKPT_A_PINGPONG,		/* u8: MIGTCP_QUICKACK 0 */
	MIGTCP_CKPT_A_KEEPALIVE,	/* u8: SO_KEEPALIVE */
	MIGTCP_CKPT_A_KEEPIDLE,		/* u32: seconds, 0: default */
	MIGTCP_CKPT_A_KEEPINTVL,	/* u32 */
	MIGTCP_CKPT_A_KEEPCNT,		/* u32 */
	MIGTCP_CKPT_A_USER_TIMEOUT,	/* u32: ms */
	MIGTCP_CKPT_A_SNDBUF,		/* u32: bytes, as SO_SNDBUF reads */
	MIGTCP_CKPT_A_RCVBUF,		/* u32 */
	MIGTCP_CKPT_A_BUF_LOCKS,	/* u8: SOCK_SNDBUF_LOCK,
					 * SOCK_RCVBUF_LOCK and
					 * SOCK_BINDPORT_LOCK (a port the user
					 * bound, kept when a connection ends)
					 */
	MIGTCP_CKPT_A_BACKLOG,		/* u32: a listener's backlog */
	MIGTCP_CKPT_A_SND_DATA,		/* bytes from SND.UNA on, a chunk */
	MIGTCP_CKPT_A_RCV_DATA,		/* bytes from COPIED_SEQ on, a chunk */
	MIGTCP_CKPT_A_OFO,		/* nest: MIGTCP_CKPT_OFO_A_*, one chunk */
	MIGTCP_CKPT_A_BYTES_SENT,	/* u64: MIGTCP_INFO counters */
	MIGTCP_CKPT_A_BYTES_ACKED,	/* u64 */
	MIGTCP_CKPT_A_BYTES_RECEIVED,	/* u64 */
	MIGTCP_CKPT_A_TOTAL_RETRANS,	/* u32 */
	MIGTCP_CKPT_A_HOST_ADDR_IN,	/* 4 bytes: the node it was taken on,
					 * its IPv4 address
					 */
	MIGTCP_CKPT_A_HS_PROOF,		/* MIGTCP_HSMAC_LEN bytes: the handshake
					 * MAC a connecting side repeats until
					 * its peer shows it was taken
					 */
	MIGTCP_CKPT_A_MARK,		/* u32: SO_MARK */
	MIGTCP_CKPT_A_PRIORITY,		/* u32: SO_PRIORITY */
	MIGTCP_CKPT_A_BOUND_DEV,	/* string: the SO_BINDTODEVICE device's
					 * name, absent when unbound; a restore
					 * where no device has that name fails
					 * with ENODEV
					 */
	MIGTCP_CKPT_A_KX_HALF,		/* MIGTCP_KX_HALF_LEN bytes: our KX
					 * half, which a connecting side
					 * answered with a SYN cookie echoes
					 * with its handshake MAC (only with
					 * MIGTCP_CKPT_A_HS_PROOF)
					 */
	MIGTCP_CKPT_A_PEER_ADDR_IN6,	/* 16 bytes: in place of PEER_ADDR_IN
					 * when the peer is reached over IPv6
					 */
	MIGTCP_CKPT_A_HOST_ADDR_IN6,	/* 16 bytes: the node it was taken on,
					 * its IPv6 address (beside
					 * HOST_ADDR_IN when it has both)
					 */
	MIGTCP_CKPT_A_SACK_OK,		/* u8: 1 if both SYNs permitted SACK;
					 * absent: 0
					 */
	__MIGTCP_CKPT_A_MAX
};

#define MIGTCP_CKPT_A_MAX (__MIGTCP_CKPT_A_MAX - 1)

enum migtcp_ckpt_ofo_attr {
	MIGTCP_CKPT_OFO_A_UNSPEC,
	MIGTCP_CKPT_OFO_A_SEQ,		/* u32: first sequence number */
	MIGTCP_CKPT_OFO_A_FIN,		/* u8: the peer's FIN follows it */
	MIGTCP_CKPT_OFO_A_DATA,		/* the bytes */
	__MIGTCP_CKPT_OFO_A_MAX
};

#define MIGTCP_CKPT_OFO_A_MAX (__MIGTCP_CKPT_OFO_A_MAX - 1)

/*
 * struct sockaddr_mig - a cluster-wide endpoint identity.
 * @smig_family: AF_MIGTCP
 * @smig_port:   port, network byte order (as sin_port)
 * @smig_node:   node id, host byte order; 0 in bind() means "this node"
 *
 * Same size as struct sockaddr_in.
 */
struct sockaddr_mig {
	__kernel_sa_family_t	smig_family;
	__be16			smig_port;
	__u32			smig_node;
	__u8			smig_zero[8];
};

/*
 * On-wire segment header, carried directly in IP with protocol number
 * "proto".  All fields are in network byte order.  See docs/protocol.md.
 */
#define MIGTCP_WIRE_VERSION	1

struct migtcphdr {
	__u8	version;	/* MIGTCP_WIRE_VERSION */
	__u8	doff;		/* header length with options, 32-bit words */
	__be16	flags;		/* MIGTCP_F_* */
	__be32	src_node;
	__be32	dst_node;
	__be16	src_port;
	__be16	dst_port;
	__be32	seq;
	__be32	ack_seq;
	__be16	window;
	__sum16	check;		/* over pseudo-header, header and payload */
};

#define MIGTCP_HDR_MIN_DOFF	(sizeof(struct migtcphdr) / 4)

#define MIGTCP_F_FIN		0x0001
#define MIGTCP_F_SYN		0x0002
#define MIGTCP_F_RST		0x0004
#define MIGTCP_F_PSH		0x0008
#define MIGTCP_F_ACK		0x0010
#define MIGTCP_F_ECE		0x0040
#define MIGTCP_F_CWR		0x0080
#define MIGTCP_F_CTL		0x0100	/* a migration control segment */

/*
 * Migration control messages: the data of a CTL segment is one TLV
 * (docs/protocol.md, "Migration control messages").
 */
enum migtcp_ctl_type {
	MIGTCP_CTL_HOLD = 1,
	MIGTCP_CTL_LOCATION_UPDATE = 2,
	MIGTCP_CTL_LOCATION_ACK = 3,
	MIGTCP_CTL_REDIRECT = 4,
};

#define MIGTCP_CTL_MAC_LEN	32
#define MIGTCP_CTL_F_GONE	0x01	/* LOCATION-UPDATE: the socket closed */
#define MIGTCP_CTL_ADDR_IN	4	/* address family byte: IPv4 */
#define MIGTCP_CTL_ADDR_IN6	6	/* IPv6 */

struct migtcp_ctl_hold {
	__u8	type;		/* MIGTCP_CTL_HOLD */
	__u8	flags;
	__be16	len;		/* 48 */
	__be64	epoch;
	__be32	hold_ms;
	__u8	mac[MIGTCP_CTL_MAC_LEN];
} __attribute__((packed));

struct migtcp_ctl_update {
	__u8	type;		/* MIGTCP_CTL_LOCATION_UPDATE */
	__u8	flags;		/* MIGTCP_CTL_F_GONE */
	__be16	len;		/* 72 */
	__be64	epoch;
	__be32	host_node;
	__be32	peer_node;
	__be16	peer_port;
	__u8	family;		/* MIGTCP_CTL_ADDR_IN or _IN6 */
	__u8	reserved;
	__u8	host_addr[16];
	__u8	mac[MIGTCP_CTL_MAC_LEN];
} __attribute__((packed));

struct migtcp_ctl_ack {
	__u8	type;		/* MIGTCP_CTL_LOCATION_ACK */
	__u8	flags;
	__be16	len;		/* 52 */
	__be64	epoch;
	__be32	peer_node;
	__u8	acked_type;
	__u8	reserved;
	__be16	peer_port;
	__u8	mac[MIGTCP_CTL_MAC_LEN];
} __attribute__((packed));

struct migtcp_ctl_redirect {
	__u8	type;		/* MIGTCP_CTL_REDIRECT */
	__u8	flags;
	__be16	len;		/* 72 */
	__be32	echoed_seq;
	__be64	epoch;
	__be32	host_node;
	__u8	family;
	__u8	reserved[3];
	__u8	host_addr[16];
	__u8	mac[MIGTCP_CTL_MAC_LEN];
} __attribute__((packed));

/* Options: TCP's kind/length encoding (docs/protocol.md). */
#define MIGTCP_OPT_EOL		0
#define MIGTCP_OPT_NOP		1
#define MIGTCP_OPT_MSS		2
#define MIGTCP_OPTLEN_MSS	4
#define MIGTCP_OPT_WSCALE	3
#define MIGTCP_OPTLEN_WSCALE	3
/*
 * Selective acknowledgments (RFC 2018, RFC 2883): permitted in both SYNs,
 * then blocks of two sequence numbers on ACKs.
 */
#define MIGTCP_OPT_SACK_PERM	4
#define MIGTCP_OPTLEN_SACK_PERM	2
#define MIGTCP_OPT_SACK		5
#define MIGTCP_SACK_BLOCK_LEN	8	/* left edge, right edge */
#define MIGTCP_OPT_KX		224	/* key exchange, on every SYN */
#define MIGTCP_OPTLEN_KX	36
#define MIGTCP_KX_SUITE_HMAC_SHA256	1	/* the only suite defined */
#define MIGTCP_KX_F_KEY		0x01	/* the sender has a cluster key */
#define MIGTCP_KX_F_COOKIE	0x02	/* SYN-ACK: a SYN cookie, the listener
					 * kept nothing: echo your KX option
					 * with your handshake MAC
					 */
#define MIGTCP_KX_HALF_LEN	32	/* the secret half each side sends */
/*
 * Handshake MAC: the proof of the cluster key in the SYN-ACK (from the
 * listener) and in the ACK that completes the handshake (from the
 * connecting side); docs/protocol.md, "Handshake MAC".
 */
#define MIGTCP_OPT_HSMAC	225
#define MIGTCP_OPTLEN_HSMAC	20
#define MIGTCP_HSMAC_LEN	16	/* HMAC-SHA256, truncated */
/*
 * Host: on the SYN of an endpoint that runs away from its home, the node
 * it runs on (docs/protocol.md, "Security").
 */
#define MIGTCP_OPT_HOST		226
#define MIGTCP_OPTLEN_HOST	6

/*
 * Counters of a node (network namespace), as listed by
 * /proc/net/migtcp_stats (same names, same order) and by
 * MIGTCP_CMD_STATS_GET, where counter N is attribute N + 1 of the
 * MIGTCP_A_STATS nest.
 */
enum migtcp_stat {
	MIGTCP_STAT_IN_SEGS,		/* InSegs: intact segments received */
	MIGTCP_STAT_IN_HDR_ERRORS,	/* InHdrErrors: truncated, bad doff */
	MIGTCP_STAT_IN_CSUM_ERRORS,	/* InCsumErrors */
	MIGTCP_STAT_IN_BAD_VERSION,	/* InBadVersion */
	MIGTCP_STAT_IN_ADDR_ERRORS,	/* InAddrErrors: not unicast to us */
	MIGTCP_STAT_IN_NO_SOCKET,	/* InNoSocket: no endpoint takes it */
	MIGTCP_STAT_IN_WRONG_NODE,	/* InWrongNode: not for this node id */
	MIGTCP_STAT_OUT_SEGS,		/* OutSegs: segments sent */
	MIGTCP_STAT_OUT_RSTS,		/* OutRsts: resets sent */
	MIGTCP_STAT_OUT_NO_ROUTE,	/* OutNoRoute: no route to send */
	MIGTCP_STAT_LISTEN_DROPS,	/* ListenDrops: SYNs a listener dropped */
	MIGTCP_STAT_IN_BACKLOG_DROPS,	/* InBacklogDrops: socket backlog full */
	MIGTCP_STAT_RETRANS_SEGS,	/* RetransSegs: segments sent again */
	MIGTCP_STAT_RCVBUF_DROPS,	/* RcvbufDrops: data, receive buffer full */
	MIGTCP_STAT_OFO_PRUNED,		/* OfoPruned: out-of-order data dropped */
	MIGTCP_STAT_CHALLENGE_ACKS,	/* ChallengeAcks: RFC 5961 answers */
	MIGTCP_STAT_DELAYED_ACKS,	/* DelayedAcks: ACKs the delay timer sent */
	MIGTCP_STAT_IN_BAD_FLAGS,	/* InBadFlags: reserved or impossible flags */
	MIGTCP_STAT_IN_WINDOW_DROPS,	/* InWindowDrops: outside the window */
	MIGTCP_STAT_IN_KX_ERRORS,	/* InKxErrors: SYN, SYN-ACK without KX */
	MIGTCP_STAT_IN_CTL_ERRORS,	/* InCtlErrors: malformed control */
	MIGTCP_STAT_IN_CTL_NO_STATE,	/* InCtlNoState: for nothing we hold */
	MIGTCP_STAT_IN_CTL_BAD_MAC,	/* InCtlBadMac */
	MIGTCP_STAT_IN_CTL_STALE_EPOCH,	/* InCtlStaleEpoch: replayed or old */
	MIGTCP_STAT_IN_CTL_BAD_HOST,	/* InCtlBadHost: host not a known peer */
	MIGTCP_STAT_IN_MOVED,		/* InMoved: for a frozen or moved socket */
	MIGTCP_STAT_OUT_CTL,		/* OutCtl: control messages sent */
	MIGTCP_STAT_IN_BAD_ENDPOINT,	/* InBadEndpoint: from node 0, port 0 */
	MIGTCP_STAT_CTL_TIMEOUTS,	/* CtlTimeouts: control sent again */
	MIGTCP_STAT_IN_HS_BAD_MAC,	/* InHsBadMac: handshake MAC is wrong */
	MIGTCP_STAT_IN_HS_NO_MAC,	/* InHsNoMac: handshake MAC missing */
	MIGTCP_STAT_IN_SYN_BAD_SOURCE,	/* InSynBadSource: SYN, SYN-ACK not
					 * from its node's address
					 */
	MIGTCP_STAT_IN_XFRM_DROPS,	/* InXfrmDrops: IPsec policy refused */
	MIGTCP_STAT_IN_FILTER_DROPS,	/* InFilterDrops: socket filter, LSM */
	MIGTCP_STAT_LEASES_LOST,	/* LeasesLost: the home stopped answering */
	MIGTCP_STAT_ABORT_ON_MEMORY,	/* AbortOnMemory: closed connections
					 * reset, beyond max_orphans
					 */
	MIGTCP_STAT_ABORT_ON_DATA,	/* AbortOnData: reset for data that
					 * came after close()
					 */
	MIGTCP_STAT_OUT_OF_WINDOW_ICMPS,/* OutOfWindowIcmps: ICMP errors
					 * about no segment in flight
					 */
	MIGTCP_STAT_SYNCOOKIES_SENT,	/* SyncookiesSent: SYN-ACKs without
					 * state
					 */
	MIGTCP_STAT_SYNCOOKIES_RECV,	/* SyncookiesRecv: connections made
					 * from a cookie
					 */
	MIGTCP_STAT_SYNCOOKIES_FAILED,	/* SyncookiesFailed: ACKs with a KX
					 * echo whose cookie is wrong or old
					 */
	MIGTCP_STAT_IN_CTL_MAC_LIMITED,	/* InCtlMacLimited: control messages
					 * dropped unchecked, their source's
					 * budget of wrong MACs spent
					 */
	MIGTCP_STAT_IN_SACK_BLOCKS,	/* InSackBlocks: SACK blocks received */
	MIGTCP_STAT_IN_DSACKS,		/* InDsacks: D-SACK blocks received:
					 * data the peer got twice
					 */
	MIGTCP_STAT_IN_SACK_INVALID,	/* InSackInvalid: SACK blocks ignored,
					 * outside what was sent or is
					 * unacknowledged
					 */
	MIGTCP_STAT_OUT_SACK_BLOCKS,	/* OutSackBlocks: SACK blocks sent */
	MIGTCP_STAT_OUT_DSACKS,		/* OutDsacks: D-SACK blocks sent */
	MIGTCP_STAT_DSACK_UNDO,		/* DsackUndo: recoveries undone, all
					 * their retransmissions D-SACKed
					 */
	MIGTCP_STAT_TIMEOUTS,		/* Timeouts: retransmission timeouts
					 * with data in flight
					 */
	MIGTCP_STAT_RACK_LOST,		/* RackLost: segments RACK judged
					 * lost
					 */
	MIGTCP_STAT_RACK_REO_TIMEOUTS,	/* RackReoTimeouts: reorder timeouts */
	MIGTCP_STAT_TLP_PROBES,		/* TlpProbes: tail loss probes sent */
	MIGTCP_STAT_TLP_RECOVERIES,	/* TlpRecoveries: probes that repaired
					 * a loss
					 */
	__MIGTCP_STAT_MAX
};

/* Inside the MIGTCP_A_STATS nest, attribute type 0 is padding. */
#define MIGTCP_STATS_A_PAD	0

/*
 * Generic netlink family "migtcp": node identity, peer table, sockets and
 * counters of the caller's network namespace (one namespace = one node).
 * Changes need CAP_NET_ADMIN in the user namespace owning the network
 * namespace; reading is open to everyone.  The cluster key is write-only.
 */
#define MIGTCP_GENL_NAME		"migtcp"
#define MIGTCP_GENL_VERSION		1
#define MIGTCP_GENL_MCGRP_CONFIG	"config"

#define MIGTCP_KEY_LEN			32

enum migtcp_cmd {
	MIGTCP_CMD_UNSPEC,
	MIGTCP_CMD_NODE_GET,	/* this node's identity, never the key */
	MIGTCP_CMD_NODE_SET,	/* admin: id, addresses, key, port range;
				 * also the notification of a change
				 */
	MIGTCP_CMD_PEER_GET,	/* one peer (MIGTCP_PEER_A_ID) or dump all */
	MIGTCP_CMD_PEER_NEW,	/* admin: add; EEXIST if the id is known */
	MIGTCP_CMD_PEER_SET,	/* admin: replace; ENOENT if unknown */
	MIGTCP_CMD_PEER_DEL,	/* admin: delete; ENOENT if unknown */
	MIGTCP_CMD_SOCK_GET,	/* dump the sockets of this node */
	MIGTCP_CMD_STATS_GET,	/* this node's counters */
	__MIGTCP_CMD_MAX
};

#define MIGTCP_CMD_MAX (__MIGTCP_CMD_MAX - 1)

enum migtcp_attr {
	MIGTCP_A_UNSPEC,
	MIGTCP_A_PAD,
	MIGTCP_A_NODE_ID,		/* u32, not 0 */
	MIGTCP_A_NODE_ADDR_IN,		/* 4 bytes: IPv4 underlay address */
	MIGTCP_A_NODE_ADDR_IN6,		/* 16 bytes: IPv6 underlay address */
	MIGTCP_A_NODE_KEY,		/* MIGTCP_KEY_LEN bytes, write-only */
	MIGTCP_A_NODE_KEY_SET,		/* u8: 1 if a cluster key is set */
	MIGTCP_A_NODE_PORT_MIN,		/* u16: ephemeral port range */
	MIGTCP_A_NODE_PORT_MAX,		/* u16 */
	MIGTCP_A_PEER,			/* nest: enum migtcp_peer_attr */
	MIGTCP_A_SOCK,			/* nest: enum migtcp_sock_attr */
	MIGTCP_A_STATS,			/* nest: u64 counter N as type N + 1 */
	MIGTCP_A_PEER_COUNT,		/* u32: peers in the table */
	MIGTCP_A_PEER_MAX,		/* u32: size limit (max_peers) */
	__MIGTCP_A_MAX
};

#define MIGTCP_A_MAX (__MIGTCP_A_MAX - 1)

enum migtcp_peer_attr {
	MIGTCP_PEER_A_UNSPEC,
	MIGTCP_PEER_A_ID,		/* u32 node id, not 0 */
	MIGTCP_PEER_A_ADDR_IN,		/* 4 bytes; this, ADDR_IN6 or both */
	MIGTCP_PEER_A_ADDR_IN6,		/* 16 bytes */
	__MIGTCP_PEER_A_MAX
};

#define MIGTCP_PEER_A_MAX (__MIGTCP_PEER_A_MAX - 1)

/* Where a socket is in a migration (MIGTCP_SOCK_A_MIGRATION). */
enum migtcp_migration {
	MIGTCP_MIG_NONE,
	MIGTCP_MIG_FROZEN,	/* MIGTCP_FREEZE: not sending */
	MIGTCP_MIG_DEPARTED,	/* checkpointed and closed: lives elsewhere */
	MIGTCP_MIG_RELOCATING,	/* restored here, its peer not yet told */
	MIGTCP_MIG_HELD,	/* its peer is migrating: waiting */
};

enum migtcp_sock_attr {
	MIGTCP_SOCK_A_UNSPEC,
	MIGTCP_SOCK_A_PAD,
	MIGTCP_SOCK_A_STATE,		/* u8: TCP_* state numbers */
	MIGTCP_SOCK_A_LOCAL_NODE,	/* u32 */
	MIGTCP_SOCK_A_LOCAL_PORT,	/* u16 */
	MIGTCP_SOCK_A_REMOTE_NODE,	/* u32 */
	MIGTCP_SOCK_A_REMOTE_PORT,	/* u16 */
	MIGTCP_SOCK_A_RX_QUEUE,		/* u32: bytes received, unread */
	MIGTCP_SOCK_A_TX_QUEUE,		/* u32: bytes sent, unacknowledged */
	MIGTCP_SOCK_A_UID,		/* u32 */
	MIGTCP_SOCK_A_INODE,		/* u64 */
	MIGTCP_SOCK_A_MIGRATION,	/* u8: enum migtcp_migration */
	MIGTCP_SOCK_A_EPOCH,		/* u64: migrations begun */
	__MIGTCP_SOCK_A_MAX
};

#define MIGTCP_SOCK_A_MAX (__MIGTCP_SOCK_A_MAX - 1)

#endif /* _UAPI_LINUX_MIGTCP_H */
