// SPDX-License-Identifier: GPL-2.0
/*
 * "migtcpctl load FILE [id N]": configures this node from the cluster
 * file.  It finds which node of the file it is, sets the node identity
 * and makes the peer table equal to the other nodes of the file, changing
 * only the peers that differ.  "load --check FILE" only validates.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cluster.h"
#include "cmds.h"
#include "node.h"
#include "output.h"
#include "parse.h"
#include "peer.h"
#include "probe.h"

struct load_result {
	uint32_t added, replaced, deleted;
	struct probe_answer *probes;	/* of every peer; NULL if none ran */
	size_t nprobes;
};

/* How long load waits for its peers' answers to the probe. */
#define LOAD_PROBE_MS	1000

/* How many nodes have HOST, and the index of the last one. */
static size_t load_match_host(const struct cluster *cl, const char *host,
			      size_t *self)
{
	size_t i, n = 0;

	for (i = 0; i < cl->nnodes; i++) {
		if (cl->nodes[i].host && !strcmp(cl->nodes[i].host, host)) {
			*self = i;
			n++;
		}
	}
	return n;
}

/* Is ADDR (of FAMILY, AF_INET or AF_INET6) on an interface here? */
static bool load_addr_is_local(const struct ifaddrs *ifa, int family,
			       const void *addr)
{
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_in *sin;

	for (; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != family)
			continue;
		if (family == AF_INET) {
			sin = (const struct sockaddr_in *)ifa->ifa_addr;
			if (!memcmp(&sin->sin_addr, addr, sizeof(sin->sin_addr)))
				return true;
		} else {
			sin6 = (const struct sockaddr_in6 *)ifa->ifa_addr;
			if (IN6_ARE_ADDR_EQUAL(&sin6->sin6_addr, addr))
				return true;
		}
	}
	return false;
}

/* The address of NODE that is configured here, as text in BUF; NULL if none. */
static const char *load_node_local_addr(const struct ifaddrs *ifa,
					const struct cluster_node *node,
					char buf[IPV6_STR_LEN])
{
	if (node->has_addr && load_addr_is_local(ifa, AF_INET, &node->addr))
		return ipv4_str(node->addr, buf);
	if (node->has_addr6 && load_addr_is_local(ifa, AF_INET6, &node->addr6))
		return ipv6_str(&node->addr6, buf);
	return NULL;
}

/*
 * How many nodes have an address (addr or addr6) configured on an
 * interface of this network namespace, and the index of the last one;
 * their ids are listed in MATCHES.  -1 if the addresses cannot be read.
 */
static long load_match_local_addr(const struct cluster *cl, size_t *self,
				  char *matches, size_t len)
{
	char buf[IPV6_STR_LEN];
	struct ifaddrs *ifa;
	size_t i, used = 0;
	const char *addr;
	long n = 0;

	if (getifaddrs(&ifa) < 0) {
		err_msg("load: cannot list the local addresses: %s",
			strerror(errno));
		return -1;
	}
	matches[0] = '\0';
	for (i = 0; i < cl->nnodes; i++) {
		addr = load_node_local_addr(ifa, &cl->nodes[i], buf);
		if (!addr)
			continue;
		if (used < len)
			used += snprintf(matches + used, len - used, "%s%u (%s)",
					 n ? ", " : "", cl->nodes[i].id, addr);
		*self = i;
		n++;
	}
	freeifaddrs(ifa);
	return n;
}

static void load_no_match(const struct cluster *cl, uint32_t kernel_id,
			  const char *host)
{
	char id[16] = "unset";

	if (kernel_id)
		snprintf(id, sizeof(id), "%u", kernel_id);
	err_msg("load: cannot tell which node of %s this is: the kernel's node id is %s, no node has host '%s' and no node's addr or addr6 is configured here; choose one with 'id N'",
		cl->path, id, host);
}

/* Without "id N": the kernel's id, the host name, a local address. */
static int load_guess_self(const struct cluster *cl, uint32_t kernel_id,
			   size_t *self)
{
	struct utsname uts;
	char matches[256];
	long idx, n;

	idx = kernel_id ? cluster_find_id(cl, kernel_id) : -1;
	if (idx >= 0) {
		*self = (size_t)idx;
		return 0;
	}
	if (uname(&uts) < 0)
		uts.nodename[0] = '\0';
	/* Host names are unique in a valid file: one match at most. */
	if (load_match_host(cl, uts.nodename, self) == 1)
		return 0;
	n = load_match_local_addr(cl, self, matches, sizeof(matches));
	if (n == 1)
		return 0;
	if (n > 1)
		err_msg("load: several nodes of %s have an address on this host: %s; choose one with 'id N'",
			cl->path, matches);
	else if (n == 0)
		load_no_match(cl, kernel_id, uts.nodename);
	return -1;
}

/* PEER_DEL of the peers that are not among the other nodes of CL. */
static int load_delete_stale(struct nl_ctx *nl, const struct cluster *cl,
			     size_t self, const struct peer *peers,
			     size_t npeers, struct load_result *res)
{
	char what[48];
	size_t i;

	for (i = 0; i < npeers; i++) {
		long idx = cluster_find_id(cl, peers[i].id);

		if (idx >= 0 && (size_t)idx != self)
			continue;
		snprintf(what, sizeof(what), "load: peer del %u", peers[i].id);
		if (peer_change(nl, MIGTCP_CMD_PEER_DEL, &peers[i], what) < 0)
			return -1;
		res->deleted++;
	}
	return 0;
}

static const struct peer *load_find_peer(const struct peer *peers,
					 size_t npeers, uint32_t id)
{
	size_t i;

	for (i = 0; i < npeers; i++)
		if (peers[i].id == id)
			return &peers[i];
	return NULL;
}

/* Has the peer CUR the addresses of WANT, and no other? */
static bool load_peer_is_current(const struct peer *cur,
				 const struct peer *want)
{
	return cur->addr_set == want->addr_set &&
	       (!want->addr_set || cur->addr == want->addr) &&
	       cur->addr6_set == want->addr6_set &&
	       (!want->addr6_set ||
		IN6_ARE_ADDR_EQUAL(&cur->addr6, &want->addr6));
}

/*
 * PEER_NEW or PEER_SET for each other node of CL that is not current.
 * PEER_SET sets both addresses: one the file no longer gives is unset.
 */
static int load_update_peers(struct nl_ctx *nl, const struct cluster *cl,
			     size_t self, const struct peer *peers,
			     size_t npeers, struct load_result *res)
{
	const struct cluster_node *node;
	const struct peer *cur;
	struct peer want;
	char what[48];
	size_t i;

	for (i = 0; i < cl->nnodes; i++) {
		if (i == self)
			continue;
		node = &cl->nodes[i];
		want = (struct peer){ .id = node->id,
				      .addr_set = node->has_addr,
				      .addr = node->addr,
				      .addr6_set = node->has_addr6,
				      .addr6 = node->addr6 };
		cur = load_find_peer(peers, npeers, want.id);
		if (cur && load_peer_is_current(cur, &want))
			continue;
		snprintf(what, sizeof(what), "load: peer %s %u",
			 cur ? "replace" : "add", want.id);
		if (peer_change(nl, cur ? MIGTCP_CMD_PEER_SET :
				MIGTCP_CMD_PEER_NEW, &want, what) < 0)
			return -1;
		if (cur)
			res->replaced++;
		else
			res->added++;
	}
	return 0;
}

static void load_node_config(const struct cluster *cl, size_t self,
			     struct node_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->set_id = true;
	cfg->id = cl->nodes[self].id;
	cfg->set_addr = cl->nodes[self].has_addr;
	cfg->addr = cl->nodes[self].addr;
	cfg->set_addr6 = cl->nodes[self].has_addr6;
	cfg->addr6 = cl->nodes[self].addr6;
	if (cl->has_key) {
		cfg->set_key = true;
		memcpy(cfg->key, cl->key, sizeof(cfg->key));
	}
	if (cl->has_ports) {
		cfg->set_ports = true;
		cfg->port_min = cl->port_min;
		cfg->port_max = cl->port_max;
	}
}

/*
 * Stale peers go first: one of them may carry this node's new id, and
 * they take room in a table of bounded size.
 */
static int load_apply(struct nl_ctx *nl, const struct cluster *cl,
		      size_t self, struct load_result *res)
{
	struct node_config cfg;
	struct peer *peers;
	size_t npeers;
	int ret;

	if (peer_dump(nl, &peers, &npeers) < 0)
		return -1;
	ret = load_delete_stale(nl, cl, self, peers, npeers, res);
	if (ret == 0) {
		load_node_config(cl, self, &cfg);
		ret = node_set(nl, &cfg);
		explicit_bzero(cfg.key, sizeof(cfg.key));
	}
	if (ret == 0)
		ret = load_update_peers(nl, cl, self, peers, npeers, res);
	free(peers);
	return ret;
}

/*
 * Every node of a cluster must use the same IP protocol number: the
 * peers are probed (probe.c), and each that answers "protocol
 * unreachable" is named on stderr.  Peers that do not answer at all may
 * simply not be up yet; nothing of this changes what was loaded.
 */
static void load_probe(struct nl_ctx *nl, struct load_result *res)
{
	struct peer *peers;
	size_t n, i;
	int proto;

	if (peer_dump(nl, &peers, &n) < 0)
		return;
	res->probes = calloc(n ? n : 1, sizeof(*res->probes));
	if (!res->probes) {
		free(peers);
		return;
	}
	proto = probe_peers(nl, peers, n, LOAD_PROBE_MS, res->probes);
	free(peers);
	if (proto < 0) {
		free(res->probes);
		res->probes = NULL;
		return;
	}
	res->nprobes = n;
	for (i = 0; i < n; i++)
		if (res->probes[i].result == PROBE_WRONG_PROTOCOL)
			probe_warn_mismatch(&res->probes[i], proto);
}

static void load_print(const struct cluster *cl, size_t self,
		       const struct load_result *res)
{
	const struct cluster_node *node = &cl->nodes[self];
	size_t npeers = cl->nnodes - 1;
	struct json_object *obj;

	if (!json_output) {
		printf("node %u configured: %zu peer%s\n", node->id, npeers,
		       npeers == 1 ? "" : "s");
		fflush(stdout);
		return;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "id", json_object_new_int64(node->id));
	json_object_object_add(obj, "addr",
			       json_ipv4(node->has_addr, node->addr));
	json_object_object_add(obj, "addr6",
			       json_ipv6(node->has_addr6, &node->addr6));
	json_object_object_add(obj, "peers", json_object_new_int64(npeers));
	json_object_object_add(obj, "added", json_object_new_int64(res->added));
	json_object_object_add(obj, "replaced",
			       json_object_new_int64(res->replaced));
	json_object_object_add(obj, "deleted",
			       json_object_new_int64(res->deleted));
	if (res->probes)
		json_object_object_add(obj, "probe",
				       probe_answers_to_json(res->probes,
							     res->nprobes));
	json_print(obj);
}

/* Takes a leading "--check" off ARGC/ARGV. */
static bool load_check_arg(int *argc, char ***argv)
{
	if (*argc < 1 || strcmp((*argv)[0], "--check"))
		return false;
	(*argc)--;
	(*argv)++;
	return true;
}

static int load_parse_args(int argc, char **argv, bool *has_id, uint32_t *id)
{
	*has_id = false;
	if (argc < 1)
		return usage_err("load needs a cluster file");
	if (argc == 1)
		return 0;
	if (strcmp(argv[1], "id"))
		return usage_err("unknown load argument '%s'", argv[1]);
	if (argc < 3)
		return usage_err("'id' needs a value");
	if (argc > 3)
		return usage_err("unexpected argument '%s' after id %s",
				 argv[3], argv[2]);
	*has_id = true;
	return arg_node_id(argv[2], id);
}

/* This node's index in CL: from "id N" if given, else guessed. */
static int load_find_self(struct nl_ctx *nl, const struct cluster *cl,
			  bool has_id, uint32_t id, size_t *self)
{
	struct node_info info;

	if (has_id) {
		long idx = cluster_find_id(cl, id);

		if (idx < 0) {
			err_msg("load: node %u is not in %s", id, cl->path);
			return -1;
		}
		*self = (size_t)idx;
		return 0;
	}
	if (node_get(nl, &info) < 0)
		return -1;
	return load_guess_self(cl, info.id, self);
}

/*
 * "load --check FILE [id N]": the file read and validated as load does
 * (syntax, every field, the key file and its mode), and N looked up in
 * it; nothing is applied, and the module need not be loaded.
 */
static int load_check(const struct cluster *cl, bool has_id, uint32_t id)
{
	struct json_object *obj;

	if (has_id && cluster_find_id(cl, id) < 0) {
		err_msg("%s: node %u is not in the file", cl->path, id);
		return EXIT_FAIL;
	}
	if (!json_output) {
		printf("%s: valid: %zu node%s, %s", cl->path, cl->nnodes,
		       cl->nnodes == 1 ? "" : "s",
		       cl->has_key ? "a cluster key" : "no cluster key");
		if (cl->has_ports)
			printf(", ports %u-%u", cl->port_min, cl->port_max);
		printf("\n");
		return EXIT_OK;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "file", json_object_new_string(cl->path));
	json_object_object_add(obj, "valid", json_object_new_boolean(true));
	json_object_object_add(obj, "nodes", json_object_new_int64(cl->nnodes));
	json_object_object_add(obj, "key", json_object_new_boolean(cl->has_key));
	/* As "node -j" shows a node's range. */
	if (cl->has_ports) {
		json_object_object_add(obj, "port_min",
				       json_object_new_int(cl->port_min));
		json_object_object_add(obj, "port_max",
				       json_object_new_int(cl->port_max));
	}
	json_print(obj);
	return EXIT_OK;
}

int cmd_load(int argc, char **argv)
{
	struct load_result res = { 0 };
	struct cluster cl;
	struct nl_ctx nl;
	uint32_t id = 0;
	size_t self;
	bool has_id, check;
	int ret;

	check = load_check_arg(&argc, &argv);
	ret = load_parse_args(argc, argv, &has_id, &id);
	if (ret)
		return ret;
	if (cluster_read(argv[0], &cl) < 0)
		return EXIT_FAIL;
	if (check) {
		ret = load_check(&cl, has_id, id);
		cluster_free(&cl);
		return ret;
	}
	if (nl_open(&nl, progname) < 0) {
		cluster_free(&cl);
		return EXIT_FAIL;
	}
	ret = load_find_self(&nl, &cl, has_id, id, &self);
	if (ret == 0)
		ret = load_apply(&nl, &cl, self, &res);
	if (ret == 0)
		load_probe(&nl, &res);
	nl_close(&nl);
	if (ret == 0)
		load_print(&cl, self, &res);
	free(res.probes);
	cluster_free(&cl);
	return ret < 0 ? EXIT_FAIL : EXIT_OK;
}
