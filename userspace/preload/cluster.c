// SPDX-License-Identifier: GPL-2.0
/*
 * The cluster map of the preload library: which IPv4 and IPv6 addresses
 * are the underlay addresses of cluster nodes, and back.  A node may
 * have either or both.  Node ids are cluster-wide, so the map stays true
 * when the process migrates to another node; it is read from the module
 * (this node and its peer table) when first needed and again, at most
 * once a second, when an address or an id is missing, so peers added
 * later are found.  The netlink socket is closed after each reading: a
 * process being checkpointed holds nothing of the library's.
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

struct node_entry {
	uint32_t id;
	struct node_addrs a;
};

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct node_entry *map;
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
	uint32_t id;
	struct node_addrs a;
};

static int self_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[MIGTCP_A_MAX + 1];
	struct self_reply *self = data;

	nl_parse_attrs(nlh, tb, MIGTCP_A_MAX);
	if (!nl_attr_u32(tb[MIGTCP_A_NODE_ID], &self->id))
		self->id = 0;
	self->a.has4 = nl_attr_in_addr(tb[MIGTCP_A_NODE_ADDR_IN],
				       &self->a.addr4) && self->a.addr4;
	self->a.has6 = nl_attr_in6_addr(tb[MIGTCP_A_NODE_ADDR_IN6],
					&self->a.addr6) &&
		       !IN6_IS_ADDR_UNSPECIFIED(&self->a.addr6);
	return MNL_CB_OK;
}

/* Reads the map anew; called with map_lock held.  0 or -1. */
static int map_read(void)
{
	struct self_reply self = { 0 };
	struct node_entry *fresh, *e;
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
	if (self.id && (self.a.has4 || self.a.has6))
		fresh[n++] = (struct node_entry){ self.id, self.a };
	for (i = 0; i < npeers; i++) {
		e = &fresh[n];
		e->id = peers[i].id;
		e->a.has4 = peers[i].addr_set && peers[i].addr;
		e->a.addr4 = peers[i].addr;
		e->a.has6 = peers[i].addr6_set &&
			    !IN6_IS_ADDR_UNSPECIFIED(&peers[i].addr6);
		e->a.addr6 = peers[i].addr6;
		if (e->a.has4 || e->a.has6)
			n++;
	}
	free(map);
	map = fresh;
	map_len = n;
	self_id = self.id;
	ret = 0;
	debug("cluster map: this node %u, %zu nodes with addresses", self_id,
	      n);
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

/* What a lookup looks for: a node by id, IPv4 or IPv6 address. */
struct map_key {
	enum { BY_ID, BY_IN, BY_IN6 } by;
	uint32_t val;			/* the id, or the IPv4 address */
	const struct in6_addr *addr6;
	bool need4;			/* BY_ID: an entry without IPv4 misses */
};

static const struct node_entry *find(const struct map_key *k)
{
	const struct node_entry *e;
	size_t i;

	for (i = 0; i < map_len; i++) {
		e = &map[i];
		switch (k->by) {
		case BY_ID:
			if (e->id == k->val)
				return k->need4 && !e->a.has4 ? NULL : e;
			break;
		case BY_IN:
			if (e->a.has4 && e->a.addr4 == k->val)
				return e;
			break;
		case BY_IN6:
			if (e->a.has6 &&
			    IN6_ARE_ADDR_EQUAL(&e->a.addr6, k->addr6))
				return e;
			break;
		}
	}
	return NULL;
}

/*
 * The entry K finds, into *OUT; false if none.  With need4, the entry
 * of the node without an IPv4 address after a fresh reading.
 */
static bool lookup(const struct map_key *k, struct node_entry *out)
{
	const struct node_entry *e;
	struct map_key any = *k;

	pthread_mutex_lock(&map_lock);
	map_refresh(false);
	e = find(k);
	if (!e) {
		map_refresh(true);
		any.need4 = false;
		e = find(&any);
	}
	if (e)
		*out = *e;
	pthread_mutex_unlock(&map_lock);
	return e;
}

uint32_t cluster_node_of(uint32_t addr)
{
	struct map_key k = { .by = BY_IN, .val = addr };
	struct node_entry e;

	return lookup(&k, &e) ? e.id : 0;
}

uint32_t cluster_node_of6(const struct in6_addr *addr)
{
	struct map_key k = { .by = BY_IN6, .addr6 = addr };
	struct node_entry e;

	return lookup(&k, &e) ? e.id : 0;
}

bool cluster_addrs_of(uint32_t node, bool need4, struct node_addrs *addrs)
{
	struct map_key k = { .by = BY_ID, .val = node, .need4 = need4 };
	struct node_entry e;

	if (!node || !lookup(&k, &e))
		return false;
	*addrs = e.a;
	return true;
}

bool cluster_v6_only(uint32_t node)
{
	struct node_addrs a;

	return cluster_addrs_of(node, true, &a) && !a.has4 && a.has6;
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

bool inet_parse(const struct sockaddr *addr, socklen_t len,
		struct inet_addr *ia)
{
	memset(ia, 0, sizeof(*ia));
	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)addr;

		ia->ip = sin->sin_addr.s_addr;
		ia->port = sin->sin_port;
		return true;
	}
	if (addr->sa_family == AF_INET6 &&
	    len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const void *)addr;

		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
			ia->ip = INADDR_ANY;
		} else if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(&ia->ip, &sin6->sin6_addr.s6_addr[12],
			       sizeof(ia->ip));
			ia->mapped = true;
		} else {
			ia->v6 = true;
			ia->ip6 = sin6->sin6_addr;
		}
		ia->port = sin6->sin6_port;
		return true;
	}
	return false;
}

void mig_to_inet(const struct sockaddr_storage *mig, int family, bool mapped,
		 struct sockaddr *addr, socklen_t *len)
{
	const struct sockaddr_mig *smig = (const void *)mig;
	struct sockaddr_storage out = { 0 };
	struct node_addrs a = { 0 };
	bool known;
	socklen_t full;

	/* An AF_INET socket can only show an IPv4 address. */
	known = cluster_addrs_of(smig->smig_node, family != AF_INET6, &a);
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (void *)&out;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = smig->smig_port;
		/* The wildcard stays ::, as an IPv6 socket shows it. */
		if (a.has6 && !(mapped && a.has4)) {
			sin6->sin6_addr = a.addr6;
		} else if (a.has4) {
			sin6->sin6_addr.s6_addr[10] = 0xff;
			sin6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&sin6->sin6_addr.s6_addr[12], &a.addr4,
			       sizeof(a.addr4));
		}
		full = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (void *)&out;

		sin->sin_family = AF_INET;
		sin->sin_port = smig->smig_port;
		sin->sin_addr.s_addr = a.has4 ? a.addr4 : INADDR_ANY;
		full = sizeof(*sin);
		if (known && !a.has4)
			debug("node %u has no IPv4 address: shown as 0.0.0.0",
			      smig->smig_node);
	}
	if (smig->smig_node && !known)
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
