/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The peer table: node ids of the other nodes and their underlay
 * addresses (IPv4, IPv6 or both).
 */
#ifndef MIGTCPCTL_PEER_H
#define MIGTCPCTL_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "peers.h"

/*
 * PEER_NEW, PEER_SET (with the addresses PEER has) or PEER_DEL (without)
 * of one peer.  Prints "migtcpctl: WHAT: error" and returns -1 on
 * failure.
 */
int peer_change(struct nl_ctx *nl, uint8_t cmd, const struct peer *peer,
		const char *what);

/* {"id":…,"addr":…,"addr6":…} */
struct json_object *peer_to_json(const struct peer *peer);

#endif /* MIGTCPCTL_PEER_H */
