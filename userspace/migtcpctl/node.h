/* SPDX-License-Identifier: GPL-2.0 */
/*
 * This node's identity: reading it (NODE_GET, and NODE_SET
 * notifications) and changing it (NODE_SET).
 */
#ifndef MIGTCPCTL_NODE_H
#define MIGTCPCTL_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include <json-c/json.h>
#include <linux/migtcp.h>

#include "nl.h"

/* What the kernel reports; the has_* flags say which attributes came. */
struct node_info {
	bool has_id, has_key_set, has_ports, has_peers;
	uint32_t id;			/* 0: not set */
	bool addr_set;
	uint32_t addr;			/* network order */
	bool addr6_set;
	struct in6_addr addr6;
	bool key_set;
	uint16_t port_min, port_max;
	uint32_t peers, max_peers;
};

/* What to change; fields without their set_* flag are left alone. */
struct node_config {
	bool set_id, set_addr, set_addr6, set_key, set_ports;
	uint32_t id;
	uint32_t addr;			/* network order */
	struct in6_addr addr6;
	uint8_t key[MIGTCP_KEY_LEN];
	uint16_t port_min, port_max;
};

/* Reads the node attributes of a NODE_GET reply or notification. */
void node_info_parse(const struct nlmsghdr *nlh, struct node_info *info);

/* The attributes of INFO that were present, as JSON members of OBJ. */
void node_info_to_json(const struct node_info *info, struct json_object *obj);

/* NODE_GET; prints the error and returns -1 on failure. */
int node_get(struct nl_ctx *nl, struct node_info *info);

/* NODE_SET; prints the error and returns -1 on failure. */
int node_set(struct nl_ctx *nl, const struct node_config *cfg);

#endif /* MIGTCPCTL_NODE_H */
