// SPDX-License-Identifier: GPL-2.0
/*
 * The peer table as the module reports it (MIGTCP_CMD_PEER_GET), shared
 * by migtcpctl and the preload library.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "peers.h"

struct peer_list {
	struct peer *peers;
	size_t n, cap;
};

bool peer_parse(const struct nlmsghdr *nlh, struct peer *peer)
{
	const struct nlattr *tb[MIGTCP_A_MAX + 1];
	const struct nlattr *ptb[MIGTCP_PEER_A_MAX + 1];

	memset(peer, 0, sizeof(*peer));
	nl_parse_attrs(nlh, tb, MIGTCP_A_MAX);
	if (!tb[MIGTCP_A_PEER])
		return false;
	nl_parse_nest(tb[MIGTCP_A_PEER], ptb, MIGTCP_PEER_A_MAX);
	peer->addr_set = nl_attr_in_addr(ptb[MIGTCP_PEER_A_ADDR_IN],
					 &peer->addr);
	peer->addr6_set = nl_attr_in6_addr(ptb[MIGTCP_PEER_A_ADDR_IN6],
					   &peer->addr6);
	return nl_attr_u32(ptb[MIGTCP_PEER_A_ID], &peer->id) && peer->id;
}

static int peer_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct peer_list *list = data;
	if (list->n == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 64;
		struct peer *grown = reallocarray(list->peers, cap,
						  sizeof(*grown));

		if (!grown)
			return MNL_CB_ERROR;	/* errno is ENOMEM */
		list->peers = grown;
		list->cap = cap;
	}
	if (peer_parse(nlh, &list->peers[list->n]))
		list->n++;
	return MNL_CB_OK;
}

static int peer_cmp(const void *a, const void *b)
{
	const struct peer *pa = a, *pb = b;

	return (pa->id > pb->id) - (pa->id < pb->id);
}

int peer_dump(struct nl_ctx *nl, struct peer **peers, size_t *npeers)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, MIGTCP_CMD_PEER_GET,
					    NLM_F_DUMP);
	struct peer_list list = { 0 };

	if (nl_request(nl, nlh, peer_dump_cb, &list, "peer list") < 0) {
		free(list.peers);
		return -1;
	}
	qsort(list.peers, list.n, sizeof(*list.peers), peer_cmp);
	*peers = list.peers;
	*npeers = list.n;
	return 0;
}
