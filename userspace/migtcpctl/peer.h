/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The peer table: node ids of the other nodes and their underlay
 * addresses.
 */
#ifndef MIGTCPCTL_PEER_H
#define MIGTCPCTL_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "nl.h"

struct peer {
	uint32_t id;
	bool addr_set;
	uint32_t addr;		/* network order */
};

/* Reads the MIGTCP_A_PEER nest of NLH; false if it has no valid id. */
bool peer_parse(const struct nlmsghdr *nlh, struct peer *peer);

/* The whole table, sorted by id; free *PEERS.  -1 after printing. */
int peer_dump(struct nl_ctx *nl, struct peer **peers, size_t *npeers);

/*
 * PEER_NEW, PEER_SET (with the address) or PEER_DEL (without) of one
 * peer.  Prints "migtcpctl: WHAT: error" and returns -1 on failure.
 */
int peer_change(struct nl_ctx *nl, uint8_t cmd, const struct peer *peer,
		const char *what);

/* {"id":…,"addr":…} */
struct json_object *peer_to_json(const struct peer *peer);

#endif /* MIGTCPCTL_PEER_H */
