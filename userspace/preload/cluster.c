// SPDX-License-Identifier: GPL-2.0
/*
 * The cluster map of the preload library: which IPv4 addresses are the
 * underlay addresses of cluster nodes, and back.  Node ids are
 * cluster-wide, so the map stays true when the process migrates to
 * another node; it is read from the module (this node and its peer
 * table) when first needed and again, at most once a second, when an
 * address or an id is missing, so peers added later are found.  The
 * netlink socket is closed after each reading: a process being
 * checkpointed holds nothing of the library's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nl.h"
#include "peers.h"
#include "preload.h"

struct node_addr {
	uint32_t id;
	uint32_t addr;		/* network order */
};

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct node_addr *map;
static size_t map_len;
static uint32_t self_id;
static struct timespec last_read;
static bool ever_read;

static void map_lock_take(void)
{
	pthread_mutex_lock(&map_lock);
}

static void map_lock_give(void)
{
	pthread_mutex_unlock(&map_lock);
}

/*
 * A child forked while another thread reads the map must not inherit
 * the lock held.
 */
void cluster_atfork(void)
{
	pthread_atfork(map_lock_take, map_lock_give, map_lock_give);
}

struct self_reply {
	uint32_t id, addr;
};

static int self_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[MIGTCP_A_MAX + 1];
	struct self_reply *self = data;

	nl_parse_attrs(nlh, tb, MIGTCP_A_MAX);
	if (!nl_attr_u32(tb[MIGTCP_A_NODE_ID], &self->id))
		self->id = 0;
	if (!nl_attr_in_addr(tb[MIGTCP_A_NODE_ADDR_IN], &self->addr))
		self->addr = 0;
	return MNL_CB_OK;
}

/* Reads the map anew; called with map_lock held.  0 or -1. */
static int map_read(void)
{
	struct self_reply self = { 0 };
	struct node_addr *fresh;
	struct peer *peers = NULL;
	size_t npeers = 0, i, n = 0;
	struct nl_ctx nl;
	int ret = -1;

	clock_gettime(CLOCK_MONOTONIC, &last_read);
	ever_read = true;
	if (nl_open(&nl, NULL) < 0) {
		debug("cannot read the cluster map: %m");
		return -1;
	}
	if (nl_request(&nl, nl_msg_start(&nl, MIGTCP_CMD_NODE_GET, 0),
		       self_cb, &self, "node") < 0 ||
	    peer_dump(&nl, &peers, &npeers) < 0) {
		debug("cannot read the cluster map: %m");
		goto out;
	}
	fresh = calloc(npeers + 1, sizeof(*fresh));
	if (!fresh)
		goto out;
	if (self.id && self.addr)
		fresh[n++] = (struct node_addr){ self.id, self.addr };
	for (i = 0; i < npeers; i++)
		if (peers[i].addr_set && peers[i].addr)
			fresh[n++] = (struct node_addr){ peers[i].id,
							 peers[i].addr };
	free(map);
	map = fresh;
	map_len = n;
	self_id = self.id;
	ret = 0;
	debug("cluster map: this node %u, %zu node addresses", self_id, n);
out:
	free(peers);
	nl_close(&nl);
	return ret;
}

/* Reads the map if it was never read, or if asked and a second has gone. */
static void map_refresh(bool missing)
{
	struct timespec now;

	if (!ever_read) {
		map_read();
		return;
	}
	if (!missing)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - last_read.tv_sec >= 1)
		map_read();
}

/* The id of the node at ADDR, or (BY_ID) the address of node ADDR. */
static uint32_t find(uint32_t key, bool by_id)
{
	size_t i;

	for (i = 0; i < map_len; i++) {
		if (by_id && map[i].id == key)
			return map[i].addr;
		if (!by_id && map[i].addr == key)
			return map[i].id;
	}
	return 0;
}

static uint32_t lookup(uint32_t key, bool by_id)
{
	uint32_t found;

	pthread_mutex_lock(&map_lock);
	map_refresh(false);
	found = find(key, by_id);
	if (!found) {
		map_refresh(true);
		found = find(key, by_id);
	}
	pthread_mutex_unlock(&map_lock);
	return found;
}

uint32_t cluster_node_of(uint32_t addr)
{
	return lookup(addr, false);
}

uint32_t cluster_addr_of(uint32_t node)
{
	return lookup(node, true);
}

uint32_t cluster_self(void)
{
	uint32_t id;

	pthread_mutex_lock(&map_lock);
	/* A node given its id after the program started is found too. */
	map_refresh(!self_id);
	id = self_id;
	pthread_mutex_unlock(&map_lock);
	return id;
}

struct listener_query {
	uint16_t port;		/* host order */
	bool found;
};

static int listener_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[MIGTCP_A_MAX + 1];
	const struct nlattr *stb[MIGTCP_SOCK_A_MAX + 1];
	struct listener_query *q = data;
	uint8_t state, mig = MIGTCP_MIG_NONE;
	uint16_t port;

	nl_parse_attrs(nlh, tb, MIGTCP_A_MAX);
	nl_parse_nest(tb[MIGTCP_A_SOCK], stb, MIGTCP_SOCK_A_MAX);
	nl_attr_u8(stb[MIGTCP_SOCK_A_MIGRATION], &mig);
	/* A listener that migrated away is not here any more. */
	if (nl_attr_u8(stb[MIGTCP_SOCK_A_STATE], &state) &&
	    state == TCP_LISTEN && mig != MIGTCP_MIG_DEPARTED &&
	    nl_attr_u16(stb[MIGTCP_SOCK_A_LOCAL_PORT], &port) &&
	    port == q->port)
		q->found = true;
	return MNL_CB_OK;
}

bool cluster_has_listener(uint16_t port)
{
	struct listener_query q = { ntohs(port), false };
	struct nl_ctx nl;

	if (nl_open(&nl, NULL) < 0)
		return false;
	if (nl_request(&nl, nl_msg_start(&nl, MIGTCP_CMD_SOCK_GET, NLM_F_DUMP),
		       listener_cb, &q, "sockets") < 0) {
		debug("cannot list this node's AF_MIGTCP sockets: %m");
		q.found = false;
	}
	nl_close(&nl);
	return q.found;
}

bool inet_to_v4(const struct sockaddr *addr, socklen_t len, uint32_t *ip,
		uint16_t *port)
{
	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)addr;

		*ip = sin->sin_addr.s_addr;
		*port = sin->sin_port;
		return true;
	}
	if (addr->sa_family == AF_INET6 &&
	    len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const void *)addr;

		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
			*ip = INADDR_ANY;
		} else if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(ip, &sin6->sin6_addr.s6_addr[12], sizeof(*ip));
		} else {
			return false;
		}
		*port = sin6->sin6_port;
		return true;
	}
	return false;
}

void mig_to_inet(const struct sockaddr_storage *mig, int family,
		 struct sockaddr *addr, socklen_t *len)
{
	const struct sockaddr_mig *smig = (const void *)mig;
	struct sockaddr_storage out = { 0 };
	uint32_t ip = smig->smig_node ? cluster_addr_of(smig->smig_node) : 0;
	socklen_t full;

	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (void *)&out;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = smig->smig_port;
		/* The wildcard stays ::, as an IPv6 socket shows it. */
		if (ip) {
			sin6->sin6_addr.s6_addr[10] = 0xff;
			sin6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&sin6->sin6_addr.s6_addr[12], &ip, sizeof(ip));
		}
		full = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (void *)&out;

		sin->sin_family = AF_INET;
		sin->sin_port = smig->smig_port;
		sin->sin_addr.s_addr = ip;
		full = sizeof(*sin);
	}
	if (smig->smig_node && !ip)
		debug("node %u is in no peer table entry: shown as the wildcard",
		      smig->smig_node);
	memcpy(addr, &out, *len < full ? *len : full);
	*len = full;
}

const char *addr_str(const struct sockaddr *addr, socklen_t len, char *buf,
		     size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)addr;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (addr->sa_family == AF_INET6 &&
		   len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const void *)addr;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, size, "(family %d, %u bytes)", addr->sa_family,
			 (unsigned int)len);
	}
	return buf;
}
