/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The peer table: node ids of the other nodes and their underlay
 * addresses, read from the module over generic netlink.
 */
#ifndef MIGTCP_PEERS_H
#define MIGTCP_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "nl.h"

struct peer {
	uint32_t id;
	bool addr_set;
	uint32_t addr;		/* network order */
	bool addr6_set;
	struct in6_addr addr6;
};

/* Reads the MIGTCP_A_PEER nest of NLH; false if it has no valid id. */
bool peer_parse(const struct nlmsghdr *nlh, struct peer *peer);

/*
 * The whole table, sorted by id; free *PEERS.  -1 with errno set on
 * failure (printed unless the context is quiet).
 */
int peer_dump(struct nl_ctx *nl, struct peer **peers, size_t *npeers);

#endif /* MIGTCP_PEERS_H */
