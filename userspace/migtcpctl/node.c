// SPDX-License-Identifier: GPL-2.0
/*
 * "migtcpctl node [show]" and "migtcpctl node set": this node's id,
 * underlay addresses (IPv4, IPv6 or both), cluster key and ephemeral
 * port range.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "node.h"
#include "output.h"
#include "parse.h"

void node_info_parse(const struct nlmsghdr *nlh, struct node_info *info)
{
	const struct nlattr *tb[MIGTCP_A_MAX + 1];
	uint8_t key_set = 0;

	memset(info, 0, sizeof(*info));
	nl_parse_attrs(nlh, tb, MIGTCP_A_MAX);
	info->has_id = nl_attr_u32(tb[MIGTCP_A_NODE_ID], &info->id);
	info->addr_set = nl_attr_in_addr(tb[MIGTCP_A_NODE_ADDR_IN],
					 &info->addr);
	info->addr6_set = nl_attr_in6_addr(tb[MIGTCP_A_NODE_ADDR_IN6],
					   &info->addr6);
	info->has_key_set = nl_attr_u8(tb[MIGTCP_A_NODE_KEY_SET], &key_set);
	info->key_set = key_set;
	info->has_ports = nl_attr_u16(tb[MIGTCP_A_NODE_PORT_MIN],
				      &info->port_min) &&
			  nl_attr_u16(tb[MIGTCP_A_NODE_PORT_MAX],
				      &info->port_max);
	info->has_peers = nl_attr_u32(tb[MIGTCP_A_PEER_COUNT], &info->peers) &&
			  nl_attr_u32(tb[MIGTCP_A_PEER_MAX], &info->max_peers);
}

void node_info_to_json(const struct node_info *info, struct json_object *obj)
{
	if (info->has_id)
		json_object_object_add(obj, "id", info->id ?
				       json_object_new_int64(info->id) : NULL);
	json_object_object_add(obj, "addr",
			       json_ipv4(info->addr_set, info->addr));
	json_object_object_add(obj, "addr6",
			       json_ipv6(info->addr6_set, &info->addr6));
	if (info->has_key_set)
		json_object_object_add(obj, "key_set",
				       json_object_new_boolean(info->key_set));
	if (info->has_ports) {
		json_object_object_add(obj, "port_min",
				       json_object_new_int(info->port_min));
		json_object_object_add(obj, "port_max",
				       json_object_new_int(info->port_max));
	}
	if (info->has_peers) {
		json_object_object_add(obj, "peers",
				       json_object_new_int64(info->peers));
		json_object_object_add(obj, "max_peers",
				       json_object_new_int64(info->max_peers));
	}
}

static int node_get_cb(const struct nlmsghdr *nlh, void *data)
{
	node_info_parse(nlh, data);
	return MNL_CB_OK;
}

int node_get(struct nl_ctx *nl, struct node_info *info)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, MIGTCP_CMD_NODE_GET, 0);

	memset(info, 0, sizeof(*info));
	return nl_request(nl, nlh, node_get_cb, info, "node show");
}

int node_set(struct nl_ctx *nl, const struct node_config *cfg)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, MIGTCP_CMD_NODE_SET, 0);
	int ret;

	if (cfg->set_id)
		mnl_attr_put_u32(nlh, MIGTCP_A_NODE_ID, cfg->id);
	if (cfg->set_addr)
		mnl_attr_put(nlh, MIGTCP_A_NODE_ADDR_IN, sizeof(cfg->addr),
			     &cfg->addr);
	if (cfg->set_addr6)
		mnl_attr_put(nlh, MIGTCP_A_NODE_ADDR_IN6, sizeof(cfg->addr6),
			     &cfg->addr6);
	if (cfg->set_key)
		mnl_attr_put(nlh, MIGTCP_A_NODE_KEY, sizeof(cfg->key),
			     cfg->key);
	if (cfg->set_ports) {
		mnl_attr_put_u16(nlh, MIGTCP_A_NODE_PORT_MIN, cfg->port_min);
		mnl_attr_put_u16(nlh, MIGTCP_A_NODE_PORT_MAX, cfg->port_max);
	}
	ret = nl_request(nl, nlh, NULL, NULL, "node set");
	/* The request held the key; the reply overwrote only its start. */
	explicit_bzero(nl->buf, NL_BUF_SIZE);
	return ret;
}

/* The IPv6 address has its line only when there is one. */
static void node_print_text(const struct node_info *info)
{
	char buf[IPV6_STR_LEN];

	if (info->id)
		printf("node %u\n", info->id);
	else
		printf("node none\n");
	printf("  addr %s\n", info->addr_set ? ipv4_str(info->addr, buf) :
	       "none");
	if (info->addr6_set)
		printf("  addr6 %s\n", ipv6_str(&info->addr6, buf));
	if (info->has_key_set)
		printf("  key %s\n", info->key_set ? "set" : "not set");
	if (info->has_ports)
		printf("  ports %u-%u\n", info->port_min, info->port_max);
	if (info->has_peers)
		printf("  peers %u/%u\n", info->peers, info->max_peers);
}

static int node_show(int argc, char **argv)
{
	struct node_info info;
	struct nl_ctx nl;
	int ret;

	if (argc > 0)
		return usage_err("node show takes no arguments, got '%s'",
				 argv[0]);
	if (nl_open(&nl, progname) < 0)
		return EXIT_FAIL;
	ret = node_get(&nl, &info);
	nl_close(&nl);
	if (ret < 0)
		return EXIT_FAIL;
	if (json_output) {
		struct json_object *obj = json_object_new_object();

		node_info_to_json(&info, obj);
		json_print(obj);
	} else {
		node_print_text(&info);
	}
	return EXIT_OK;
}

/* One KEYWORD VALUE pair of "node set"; KEY_FILE is read later. */
static int node_set_arg(const char *kw, const char *val,
			struct node_config *cfg, const char **key_file)
{
	if (!strcmp(kw, "id")) {
		if (cfg->set_id)
			return usage_err("'id' given twice");
		cfg->set_id = true;
		return arg_node_id(val, &cfg->id);
	}
	if (!strcmp(kw, "addr"))
		return arg_addr(val, &cfg->set_addr, &cfg->addr,
				&cfg->set_addr6, &cfg->addr6);
	if (!strcmp(kw, "key-file")) {
		if (*key_file)
			return usage_err("'key-file' given twice");
		*key_file = val;
		return 0;
	}
	if (!strcmp(kw, "port-range")) {
		if (cfg->set_ports)
			return usage_err("'port-range' given twice");
		cfg->set_ports = true;
		return arg_port_range(val, &cfg->port_min, &cfg->port_max);
	}
	return usage_err("unknown node set argument '%s'", kw);
}

static int node_set_parse(int argc, char **argv, struct node_config *cfg,
			  const char **key_file)
{
	int i;

	memset(cfg, 0, sizeof(*cfg));
	*key_file = NULL;
	for (i = 0; i < argc; i += 2) {
		int ret;

		if (i + 1 == argc)
			return usage_err("'%s' needs a value", argv[i]);
		ret = node_set_arg(argv[i], argv[i + 1], cfg, key_file);
		if (ret)
			return ret;
	}
	if (!cfg->set_id && !cfg->set_addr && !cfg->set_addr6 && !*key_file &&
	    !cfg->set_ports)
		return usage_err("node set needs at least one of id, addr, key-file, port-range");
	return 0;
}

static int node_set_cmd(int argc, char **argv)
{
	struct node_config cfg;
	const char *key_file;
	struct nl_ctx nl;
	int ret;

	ret = node_set_parse(argc, argv, &cfg, &key_file);
	if (ret)
		return ret;
	if (key_file) {
		char err[128];

		if (read_key_file(key_file, cfg.key, err, sizeof(err)) < 0) {
			err_msg("key file %s: %s", key_file, err);
			return EXIT_FAIL;
		}
		cfg.set_key = true;
	}
	if (nl_open(&nl, progname) < 0) {
		ret = EXIT_FAIL;
	} else {
		ret = node_set(&nl, &cfg) < 0 ? EXIT_FAIL : EXIT_OK;
		nl_close(&nl);
	}
	explicit_bzero(cfg.key, sizeof(cfg.key));
	return ret;
}

int cmd_node(int argc, char **argv)
{
	if (argc == 0 || !strcmp(argv[0], "show"))
		return node_show(argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "set"))
		return node_set_cmd(argc - 1, argv + 1);
	return usage_err("unknown node command '%s' (expected show or set)",
			 argv[0]);
}
