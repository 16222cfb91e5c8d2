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

#endif /* _UAPI_LINUX_MIGTCP_H */
