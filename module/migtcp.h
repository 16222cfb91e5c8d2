/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Definitions shared by the files of the migtcp module.
 */
#ifndef _MIGTCP_MIGTCP_H
#define _MIGTCP_MIGTCP_H

#include <linux/migtcp.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/snmp.h>
#include <net/sock.h>

/* Numbers in use, from the "family" and "proto" module parameters. */
extern int migtcp_family;
extern int migtcp_proto;

/*
 * Per-netns counters.  Every segment that reaches the protocol handler is
 * counted as received intact (InSegs) or in exactly one error counter.
 */
enum migtcp_mib_field {
	MIGTCP_MIB_INSEGS,		/* intact segments received */
	MIGTCP_MIB_INHDRERRORS,		/* truncated, or bad header length */
	MIGTCP_MIB_INCSUMERRORS,	/* checksum did not verify */
	MIGTCP_MIB_INBADVERSION,	/* unknown wire version */
	MIGTCP_MIB_INADDRERRORS,	/* not unicast to this host */
	MIGTCP_MIB_INNOSOCKET,		/* intact, but no endpoint takes it */
	__MIGTCP_MIB_MAX
};

struct migtcp_mib {
	unsigned long mibs[__MIGTCP_MIB_MAX];
};

/* One cluster node: the state of one network namespace. */
struct migtcp_net {
	struct migtcp_mib __percpu *mib;
	spinlock_t sockets_lock;	/* protects sockets */
	struct hlist_head sockets;	/* every AF_MIGTCP socket, for /proc */
};

extern unsigned int migtcp_net_id;

static inline struct migtcp_net *migtcp_pernet(const struct net *net)
{
	return net_generic(net, migtcp_net_id);
}

#define __MIGTCP_INC_STATS(net, field) \
	__SNMP_INC_STATS(migtcp_pernet(net)->mib, field)

struct migtcp_sock {
	struct sock sk;			/* must be first */
	struct hlist_node net_node;	/* in migtcp_net.sockets */
	u32 local_node;
	u16 local_port;			/* host byte order */
	u32 remote_node;
	u16 remote_port;
};

static inline struct migtcp_sock *migtcp_sk(const struct sock *sk)
{
	return (struct migtcp_sock *)sk;
}

/* socket.c */
extern struct proto migtcp_prot;
int migtcp_socket_register(void);
void migtcp_socket_unregister(void);

/* pernet.c */
int migtcp_pernet_register(void);
void migtcp_pernet_unregister(void);
void migtcp_net_link_sock(struct sock *sk);
void migtcp_net_unlink_sock(struct sock *sk);

/* receive.c */
int migtcp_receive_register(void);
void migtcp_receive_unregister(void);

/* proc.c */
int migtcp_proc_init_net(struct net *net);
void migtcp_proc_exit_net(struct net *net);

#endif /* _MIGTCP_MIGTCP_H */
