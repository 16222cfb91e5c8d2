// SPDX-License-Identifier: GPL-2.0
/*
 * "migtcpctl monitor": follows the multicast group "config" and prints
 * one line per change of the node identity or of the peer table.  An
 * IPv6 address is in the text only when there is one; JSON always has
 * "addr6", null when unset, as "addr".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "node.h"
#include "output.h"
#include "parse.h"
#include "peer.h"

struct monitor {
	uint16_t family;
	uint32_t limit;		/* events to print, 0: no limit */
	uint32_t seen;
};

static void monitor_print_node(const struct nlmsghdr *nlh)
{
	struct node_info info;
	char buf[IPV6_STR_LEN];

	node_info_parse(nlh, &info);
	if (json_output) {
		struct json_object *obj = json_object_new_object();

		json_object_object_add(obj, "event",
				       json_object_new_string("node-set"));
		node_info_to_json(&info, obj);
		json_print(obj);
		return;
	}
	printf("node");
	if (info.has_id && info.id)
		printf(" id %u", info.id);
	else if (info.has_id)
		printf(" id none");
	printf(" addr %s", info.addr_set ? ipv4_str(info.addr, buf) : "none");
	if (info.addr6_set)
		printf(" addr6 %s", ipv6_str(&info.addr6, buf));
	if (info.has_key_set)
		printf(" key %s", info.key_set ? "set" : "not set");
	if (info.has_ports)
		printf(" ports %u-%u", info.port_min, info.port_max);
	printf("\n");
	fflush(stdout);
}

static void monitor_print_peer(const struct nlmsghdr *nlh, const char *verb)
{
	bool with_addr = strcmp(verb, "del") != 0;
	struct peer peer;

	peer_parse(nlh, &peer);
	if (json_output) {
		struct json_object *obj = json_object_new_object();
		char event[16];

		snprintf(event, sizeof(event), "peer-%s", verb);
		json_object_object_add(obj, "event",
				       json_object_new_string(event));
		json_object_object_add(obj, "id",
				       json_object_new_int64(peer.id));
		if (with_addr) {
			json_object_object_add(obj, "addr",
					       json_ipv4(peer.addr_set,
							 peer.addr));
			json_object_object_add(obj, "addr6",
					       json_ipv6(peer.addr6_set,
							 &peer.addr6));
		}
		json_print(obj);
		return;
	}
	printf("peer %s %u", verb, peer.id);
	if (with_addr) {
		char buf[IPV6_STR_LEN];

		printf(" addr %s", peer.addr_set ? ipv4_str(peer.addr, buf) :
		       "none");
		if (peer.addr6_set)
			printf(" addr6 %s", ipv6_str(&peer.addr6, buf));
	}
	printf("\n");
	fflush(stdout);
}

/* Prints one notification; false if it is not one we know. */
static bool monitor_print(const struct nlmsghdr *nlh)
{
	switch (nl_genl_cmd(nlh)) {
	case MIGTCP_CMD_NODE_SET:
		monitor_print_node(nlh);
		return true;
	case MIGTCP_CMD_PEER_NEW:
		monitor_print_peer(nlh, "add");
		return true;
	case MIGTCP_CMD_PEER_SET:
		monitor_print_peer(nlh, "replace");
		return true;
	case MIGTCP_CMD_PEER_DEL:
		monitor_print_peer(nlh, "del");
		return true;
	default:
		return false;
	}
}

static int monitor_cb(const struct nlmsghdr *nlh, void *data)
{
	struct monitor *mon = data;

	if (nlh->nlmsg_type != mon->family ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct genlmsghdr)))
		return MNL_CB_OK;
	if (monitor_print(nlh))
		mon->seen++;
	return mon->limit && mon->seen >= mon->limit ? MNL_CB_STOP :
						       MNL_CB_OK;
}

static int monitor_loop(struct nl_ctx *nl, struct monitor *mon)
{
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(nl->sock, nl->buf,
						  NL_BUF_SIZE);
		int ret;

		if (len < 0 && errno == ENOBUFS) {
			/* The socket overflowed: say so, keep following. */
			err_msg("monitor: events were lost (receive buffer overrun)");
			continue;
		}
		if (len < 0) {
			err_msg("monitor: %s", strerror(errno));
			return EXIT_FAIL;
		}
		ret = mnl_cb_run(nl->buf, len, 0, 0, monitor_cb, mon);
		if (ret == MNL_CB_STOP)
			return EXIT_OK;
		if (ret < 0) {
			err_msg("monitor: %s", strerror(errno));
			return EXIT_FAIL;
		}
	}
}

static int monitor_parse(int argc, char **argv, struct monitor *mon)
{
	memset(mon, 0, sizeof(*mon));
	if (argc == 0)
		return 0;
	if (strcmp(argv[0], "count"))
		return usage_err("unknown monitor argument '%s'", argv[0]);
	if (argc < 2)
		return usage_err("'count' needs a value");
	if (argc > 2)
		return usage_err("unexpected argument '%s' after count %s",
				 argv[2], argv[1]);
	return arg_count(argv[1], &mon->limit);
}

int cmd_monitor(int argc, char **argv)
{
	struct monitor mon;
	struct nl_ctx nl;
	int ret;

	ret = monitor_parse(argc, argv, &mon);
	if (ret)
		return ret;
	if (nl_open(&nl, progname) < 0)
		return EXIT_FAIL;
	if (!nl.mcgrp_config) {
		err_msg("monitor: the kernel has no multicast group '%s'",
			MIGTCP_GENL_MCGRP_CONFIG);
		nl_close(&nl);
		return EXIT_FAIL;
	}
	if (mnl_socket_setsockopt(nl.sock, NETLINK_ADD_MEMBERSHIP,
				  &nl.mcgrp_config,
				  sizeof(nl.mcgrp_config)) < 0) {
		err_msg("monitor: cannot join group '%s': %s",
			MIGTCP_GENL_MCGRP_CONFIG, strerror(errno));
		nl_close(&nl);
		return EXIT_FAIL;
	}
	mon.family = nl.family;
	fprintf(stderr, "monitoring\n");
	ret = monitor_loop(&nl, &mon);
	nl_close(&nl);
	return ret;
}
