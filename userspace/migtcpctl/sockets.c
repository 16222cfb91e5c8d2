// SPDX-License-Identifier: GPL-2.0
/*
 * "migtcpctl sockets": the AF_MIGTCP sockets of this node as an ss-like
 * table, from the SOCK_GET dump.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "nl.h"
#include "output.h"

struct sock_info {
	uint8_t state;
	uint32_t local_node, remote_node;
	uint16_t local_port, remote_port;
	uint32_t rx_queue, tx_queue, uid;
	uint64_t inode, epoch;
	uint8_t migration;
};

struct sock_dump {
	struct table *table;		/* text output */
	struct json_object *array;	/* JSON output */
};

#define SOCK_COLS 8

/* Linux TCP state numbers, named as /proc/net/migtcp names them. */
static const char *const sock_state_names[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT",  [3] = "SYN_RECV",
	[4] = "FIN_WAIT1",   [5] = "FIN_WAIT2", [6] = "TIME_WAIT",
	[7] = "CLOSE",       [8] = "CLOSE_WAIT", [9] = "LAST_ACK",
	[10] = "LISTEN",     [11] = "CLOSING",
};

const char *sock_state_name(uint8_t state)
{
	if (state < sizeof(sock_state_names) / sizeof(sock_state_names[0]) &&
	    sock_state_names[state])
		return sock_state_names[state];
	return "UNKNOWN";
}

/* enum migtcp_migration, in words; "-" when no migration is under way. */
static const char *const sock_mig_names[] = {
	[MIGTCP_MIG_NONE] = "-",		[MIGTCP_MIG_FROZEN] = "frozen",
	[MIGTCP_MIG_DEPARTED] = "departed",	[MIGTCP_MIG_RELOCATING] = "relocating",
	[MIGTCP_MIG_HELD] = "held",
};

static const char *sock_mig_name(uint8_t mig)
{
	if (mig < sizeof(sock_mig_names) / sizeof(sock_mig_names[0]))
		return sock_mig_names[mig];
	return "unknown";
}

static bool sock_parse(const struct nlmsghdr *nlh, struct sock_info *si)
{
	const struct nlattr *tb[MIGTCP_A_MAX + 1];
	const struct nlattr *stb[MIGTCP_SOCK_A_MAX + 1];

	memset(si, 0, sizeof(*si));
	nl_parse_attrs(nlh, tb, MIGTCP_A_MAX);
	if (!tb[MIGTCP_A_SOCK])
		return false;
	nl_parse_nest(tb[MIGTCP_A_SOCK], stb, MIGTCP_SOCK_A_MAX);
	nl_attr_u8(stb[MIGTCP_SOCK_A_STATE], &si->state);
	nl_attr_u32(stb[MIGTCP_SOCK_A_LOCAL_NODE], &si->local_node);
	nl_attr_u16(stb[MIGTCP_SOCK_A_LOCAL_PORT], &si->local_port);
	nl_attr_u32(stb[MIGTCP_SOCK_A_REMOTE_NODE], &si->remote_node);
	nl_attr_u16(stb[MIGTCP_SOCK_A_REMOTE_PORT], &si->remote_port);
	nl_attr_u32(stb[MIGTCP_SOCK_A_RX_QUEUE], &si->rx_queue);
	nl_attr_u32(stb[MIGTCP_SOCK_A_TX_QUEUE], &si->tx_queue);
	nl_attr_u32(stb[MIGTCP_SOCK_A_UID], &si->uid);
	nl_attr_u64(stb[MIGTCP_SOCK_A_INODE], &si->inode);
	nl_attr_u8(stb[MIGTCP_SOCK_A_MIGRATION], &si->migration);
	nl_attr_u64(stb[MIGTCP_SOCK_A_EPOCH], &si->epoch);
	return true;
}

static struct json_object *sock_to_json(const struct sock_info *si)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "state",
			       json_object_new_string(sock_state_name(si->state)));
	json_object_object_add(obj, "local_node",
			       json_object_new_int64(si->local_node));
	json_object_object_add(obj, "local_port",
			       json_object_new_int(si->local_port));
	json_object_object_add(obj, "remote_node",
			       json_object_new_int64(si->remote_node));
	json_object_object_add(obj, "remote_port",
			       json_object_new_int(si->remote_port));
	json_object_object_add(obj, "rx_queue",
			       json_object_new_int64(si->rx_queue));
	json_object_object_add(obj, "tx_queue",
			       json_object_new_int64(si->tx_queue));
	json_object_object_add(obj, "uid", json_object_new_int64(si->uid));
	json_object_object_add(obj, "inode",
			       json_object_new_uint64(si->inode));
	json_object_object_add(obj, "migration",
			       json_object_new_string(sock_mig_name(si->migration)));
	json_object_object_add(obj, "epoch", json_object_new_uint64(si->epoch));
	return obj;
}

/* "node:port", with "*" for an unset node or port (listeners' peers). */
static void sock_endpoint(char *buf, size_t len, uint32_t node, uint16_t port)
{
	char n[16] = "*", p[8] = "*";

	if (node)
		snprintf(n, sizeof(n), "%u", node);
	if (port)
		snprintf(p, sizeof(p), "%u", port);
	snprintf(buf, len, "%s:%s", n, p);
}

static bool sock_add_row(struct table *t, const struct sock_info *si)
{
	char rxq[16], txq[16], local[32], remote[32], uid[16], inode[24];
	const char *cells[SOCK_COLS] = {
		sock_state_name(si->state), rxq, txq, local, remote, uid, inode,
		sock_mig_name(si->migration)
	};

	snprintf(rxq, sizeof(rxq), "%u", si->rx_queue);
	snprintf(txq, sizeof(txq), "%u", si->tx_queue);
	sock_endpoint(local, sizeof(local), si->local_node, si->local_port);
	sock_endpoint(remote, sizeof(remote), si->remote_node,
		      si->remote_port);
	snprintf(uid, sizeof(uid), "%u", si->uid);
	snprintf(inode, sizeof(inode), "%llu", (unsigned long long)si->inode);
	return table_add_row(t, cells);
}

static int sock_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sock_dump *dump = data;
	struct sock_info si;

	if (!sock_parse(nlh, &si))
		return MNL_CB_OK;
	if (dump->array)
		json_object_array_add(dump->array, sock_to_json(&si));
	else if (!sock_add_row(dump->table, &si))
		return MNL_CB_ERROR;	/* errno is ENOMEM */
	return MNL_CB_OK;
}

static bool sock_dump_init(struct sock_dump *dump)
{
	static const char *const headers[SOCK_COLS] = {
		"State", "Recv-Q", "Send-Q", "Local", "Peer", "UID", "Inode",
		"Migration"
	};
	static const bool right[SOCK_COLS] = {
		false, true, true, false, false, true, true, false
	};

	memset(dump, 0, sizeof(*dump));
	if (json_output)
		dump->array = json_object_new_array();
	else
		dump->table = table_new(SOCK_COLS, headers, right);
	return dump->array || dump->table;
}

int cmd_sockets(int argc, char **argv)
{
	struct sock_dump dump;
	struct nlmsghdr *nlh;
	struct nl_ctx nl;
	int ret;

	if (argc > 0)
		return usage_err("sockets takes no arguments, got '%s'", argv[0]);
	if (nl_open(&nl, progname) < 0)
		return EXIT_FAIL;
	if (!sock_dump_init(&dump)) {
		nl_close(&nl);
		err_msg("sockets: out of memory");
		return EXIT_FAIL;
	}
	nlh = nl_msg_start(&nl, MIGTCP_CMD_SOCK_GET, NLM_F_DUMP);
	ret = nl_request(&nl, nlh, sock_dump_cb, &dump, "sockets");
	nl_close(&nl);
	if (ret == 0 && dump.array)
		json_print(dump.array);
	else if (ret == 0)
		table_print(dump.table);
	else
		json_object_put(dump.array);
	table_free(dump.table);
	return ret < 0 ? EXIT_FAIL : EXIT_OK;
}
