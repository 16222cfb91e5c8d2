// SPDX-License-Identifier: GPL-2.0
/*
 * "migtcpctl peer": list, add, replace and delete the entries of the
 * peer table, which maps the node ids of the cluster to underlay
 * addresses, an IPv4 one, an IPv6 one or both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "output.h"
#include "parse.h"
#include "peer.h"
#include "probe.h"

struct json_object *peer_to_json(const struct peer *peer)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "id", json_object_new_int64(peer->id));
	json_object_object_add(obj, "addr",
			       json_ipv4(peer->addr_set, peer->addr));
	json_object_object_add(obj, "addr6",
			       json_ipv6(peer->addr6_set, &peer->addr6));
	return obj;
}

int peer_change(struct nl_ctx *nl, uint8_t cmd, const struct peer *peer,
		const char *what)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, cmd, 0);
	struct nlattr *nest;

	nest = mnl_attr_nest_start(nlh, MIGTCP_A_PEER);
	mnl_attr_put_u32(nlh, MIGTCP_PEER_A_ID, peer->id);
	if (cmd != MIGTCP_CMD_PEER_DEL && peer->addr_set)
		mnl_attr_put(nlh, MIGTCP_PEER_A_ADDR_IN, sizeof(peer->addr),
			     &peer->addr);
	if (cmd != MIGTCP_CMD_PEER_DEL && peer->addr6_set)
		mnl_attr_put(nlh, MIGTCP_PEER_A_ADDR_IN6, sizeof(peer->addr6),
			     &peer->addr6);
	mnl_attr_nest_end(nlh, nest);
	return nl_request(nl, nlh, NULL, NULL, what);
}

/* The column ADDR6 is there only when a peer has an IPv6 address. */
static int peer_print_text(const struct peer *peers, size_t n)
{
	static const char *const headers[] = { "ID", "ADDR", "ADDR6" };
	static const bool right[] = { false, false, false };
	char id[16], addr[IPV4_STR_LEN], addr6[IPV6_STR_LEN];
	const char *cells[3] = { id, addr, addr6 };
	unsigned int ncols = 2;
	struct table *t;
	size_t i;

	for (i = 0; i < n; i++)
		if (peers[i].addr6_set)
			ncols = 3;
	t = table_new(ncols, headers, right);
	for (i = 0; t && i < n; i++) {
		snprintf(id, sizeof(id), "%u", peers[i].id);
		if (peers[i].addr_set)
			ipv4_str(peers[i].addr, addr);
		else
			strcpy(addr, "none");
		if (peers[i].addr6_set)
			ipv6_str(&peers[i].addr6, addr6);
		else
			strcpy(addr6, "none");
		if (!table_add_row(t, cells)) {
			table_free(t);
			t = NULL;
		}
	}
	if (!t) {
		err_msg("peer list: out of memory");
		return EXIT_FAIL;
	}
	table_print(t);
	table_free(t);
	return EXIT_OK;
}

static void peer_print_json(const struct peer *peers, size_t n)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(arr, peer_to_json(&peers[i]));
	json_print(arr);
}

static int peer_list(int argc, char **argv)
{
	struct peer *peers;
	struct nl_ctx nl;
	size_t n;
	int ret;

	if (argc > 0)
		return usage_err("peer list takes no arguments, got '%s'",
				 argv[0]);
	if (nl_open(&nl, progname) < 0)
		return EXIT_FAIL;
	ret = peer_dump(&nl, &peers, &n);
	nl_close(&nl);
	if (ret < 0)
		return EXIT_FAIL;
	ret = EXIT_OK;
	if (json_output)
		peer_print_json(peers, n);
	else
		ret = peer_print_text(peers, n);
	free(peers);
	return ret;
}

/*
 * "ID addr A [addr A]" for add/replace (an IPv4 address, an IPv6 one or
 * one of each), "ID" for del.
 */
static int peer_parse_args(int argc, char **argv, bool want_addr,
			   const char *cmd, struct peer *peer)
{
	int i, ret;

	memset(peer, 0, sizeof(*peer));
	if (argc < 1)
		return usage_err("peer %s needs a node id", cmd);
	ret = arg_node_id(argv[0], &peer->id);
	if (ret)
		return ret;
	if (!want_addr) {
		if (argc > 1)
			return usage_err("unexpected argument '%s' after peer %s %s",
					 argv[1], cmd, argv[0]);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "addr"))
		return usage_err("peer %s needs 'ID addr ADDRESS'", cmd);
	for (i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "addr"))
			return usage_err("unexpected argument '%s' after peer %s %s addr %s",
					 argv[i], cmd, argv[0], argv[i - 1]);
		if (i + 1 == argc)
			return usage_err("'addr' needs a value");
		ret = arg_addr(argv[i + 1], &peer->addr_set, &peer->addr,
			       &peer->addr6_set, &peer->addr6);
		if (ret)
			return ret;
	}
	return 0;
}

static int peer_change_cmd(int argc, char **argv, uint8_t cmd,
			   const char *name)
{
	char what[64];
	struct peer peer;
	struct nl_ctx nl;
	int ret;

	ret = peer_parse_args(argc, argv, cmd != MIGTCP_CMD_PEER_DEL, name,
			      &peer);
	if (ret)
		return ret;
	if (nl_open(&nl, progname) < 0)
		return EXIT_FAIL;
	snprintf(what, sizeof(what), "peer %s %u", name, peer.id);
	ret = peer_change(&nl, cmd, &peer, what);
	nl_close(&nl);
	return ret < 0 ? EXIT_FAIL : EXIT_OK;
}

int cmd_peer(int argc, char **argv)
{
	if (argc == 0 || !strcmp(argv[0], "list") || !strcmp(argv[0], "show"))
		return peer_list(argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "add"))
		return peer_change_cmd(argc - 1, argv + 1, MIGTCP_CMD_PEER_NEW,
				       "add");
	if (!strcmp(argv[0], "replace"))
		return peer_change_cmd(argc - 1, argv + 1, MIGTCP_CMD_PEER_SET,
				       "replace");
	if (!strcmp(argv[0], "del") || !strcmp(argv[0], "delete"))
		return peer_change_cmd(argc - 1, argv + 1, MIGTCP_CMD_PEER_DEL,
				       "del");
	if (!strcmp(argv[0], "probe"))
		return peer_probe(argc - 1, argv + 1);
	return usage_err("unknown peer command '%s' (expected list, add, replace, del or probe)",
			 argv[0]);
}
