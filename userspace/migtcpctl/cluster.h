/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cluster file: one JSON description of every node, shared by all
 * of them, read and validated as a whole before anything is changed.
 */
#ifndef MIGTCPCTL_CLUSTER_H
#define MIGTCPCTL_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include <linux/migtcp.h>

/* A node has an IPv4 address, an IPv6 address or both. */
struct cluster_node {
	uint32_t id;
	bool has_addr, has_addr6;
	uint32_t addr;		/* network order */
	struct in6_addr addr6;
	const char *host;	/* NULL if not given */
};

struct cluster {
	const char *path;
	struct json_object *root;	/* owns the host strings */
	bool has_key, has_ports;
	uint8_t key[MIGTCP_KEY_LEN];
	uint16_t port_min, port_max;
	struct cluster_node *nodes;
	size_t nnodes;
};

/*
 * Reads and validates PATH into CL.  On the first problem prints it with
 * its location ("FILE:LINE:COL" for syntax, "FILE: nodes[2].addr" for
 * content) and returns -1.
 */
int cluster_read(const char *path, struct cluster *cl);
void cluster_free(struct cluster *cl);

/* Index of the node with ID, or -1. */
long cluster_find_id(const struct cluster *cl, uint32_t id);

#endif /* MIGTCPCTL_CLUSTER_H */
