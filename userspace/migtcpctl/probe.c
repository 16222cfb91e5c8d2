// SPDX-License-Identifier: GPL-2.0
/*
 * "migtcpctl peer probe": does each peer speak migtcp on this node's IP
 * protocol number?  Every node must load the module with the same
 * proto= (and wire version); a peer that does not answers nothing we can
 * use, and connections to it fail (ENOPROTOOPT) or hang.
 *
 * The probe is an ordinary segment that no endpoint takes: an ACK from a
 * port of ours that a bound socket holds for the while (so no connection
 * of ours uses it) to a port of the peer.  A migtcp node answers such a
 * segment with a reset whose sequence number is the probe's
 * acknowledgment number (docs/protocol.md, "Resets for segments no
 * endpoint takes").  A host whose kernel has no handler for the protocol
 * answers with ICMP "protocol unreachable", which a connected raw socket
 * reports as ENOPROTOOPT; over IPv6 with ICMPv6 "parameter problem"
 * (unrecognized next header), which it reports as EPROTO.
 *
 * Each peer is probed over the path the kernel uses to reach it, IPv4 or
 * IPv6.  Over IPv6 the kernel fills in and checks the checksum
 * (IPV6_CHECKSUM): migtcp's pseudo-header is the one of RFC 8200, 8.1.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/ip.h>

#include "migtcp.h"
#include "node.h"
#include "output.h"
#include "parse.h"
#include "probe.h"

/* The peer's port the probe goes to: any, since no endpoint takes it. */
#define PROBE_DPORT	9

struct probe {
	const struct peer *peer;
	int family;		/* the path's: AF_INET or AF_INET6 */
	int fd;			/* raw socket connected to the peer */
	uint32_t cookie;	/* the probe's ack_seq; the reset's seq */
	struct timespec sent;
	enum probe_result result;
	int err;		/* PROBE_UNREACHABLE: the ICMP's errno */
	long rtt_us;		/* PROBE_ANSWERS */
};

const char *probe_result_name(enum probe_result r)
{
	switch (r) {
	case PROBE_ANSWERS:
		return "answers";
	case PROBE_WRONG_PROTOCOL:
		return "protocol unreachable";
	case PROBE_UNREACHABLE:
		return "unreachable";
	case PROBE_NO_ANSWER:
		return "no answer";
	case PROBE_NO_ADDRESS:
		return "no address";
	}
	return "?";
}

static long probe_us_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000000L +
	       (now.tv_nsec - t0->tv_nsec) / 1000;
}

/*
 * The family of the path to @peer, as the kernel chooses it: IPv6 when
 * this node and the peer both have an IPv6 address, else IPv4 when the
 * peer has an IPv4 address, else IPv6; 0 if the peer has no address.
 */
static int probe_path_family(const struct node_info *self,
			     const struct peer *peer)
{
	if (peer->addr6_set && self->addr6_set)
		return AF_INET6;
	if (peer->addr_set)
		return AF_INET;
	return peer->addr6_set ? AF_INET6 : 0;
}

/*
 * Opens @p's raw socket, of its path's family, and connects it to the
 * peer: only the peer's packets, and the ICMP errors about the probe,
 * come to it.  Over IPv4 our address on the way there is in @saddr, for
 * the checksum; over IPv6 the kernel computes the checksum, and checks
 * the answer's.  Returns 0, or -1 with errno set.
 */
static int probe_connect(struct probe *p, int proto, uint32_t *saddr)
{
	int csum_off = offsetof(struct migtcphdr, check);
	struct sockaddr_in6 sin6 = {
		.sin6_family = AF_INET6,
		.sin6_addr = p->peer->addr6,
	};
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = p->peer->addr,
	};
	socklen_t len = sizeof(sin);

	p->fd = socket(p->family, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       proto);
	if (p->fd < 0)
		return -1;
	if (p->family == AF_INET6) {
		if (setsockopt(p->fd, IPPROTO_IPV6, IPV6_CHECKSUM, &csum_off,
			       sizeof(csum_off)))
			return -1;
		return connect(p->fd, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	if (connect(p->fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(p->fd, (struct sockaddr *)&sin, &len))
		return -1;
	*saddr = sin.sin_addr.s_addr;
	return 0;
}

/* Connects @p's raw socket to its peer and sends the probe; -1: failed. */
static int probe_send(struct probe *p, int proto, uint32_t self_id,
		      uint16_t sport)
{
	struct migtcphdr h;
	uint32_t saddr = 0;

	if (probe_connect(p, proto, &saddr))
		goto unreachable;
	if (getrandom(&p->cookie, sizeof(p->cookie), 0) !=
	    sizeof(p->cookie))
		return -1;

	memset(&h, 0, sizeof(h));
	h.version = MIGTCP_WIRE_VERSION;
	h.doff = MIGTCP_HDR_MIN_DOFF;
	h.flags = htons(MIGTCP_F_ACK);
	h.src_node = htonl(self_id);
	h.dst_node = htonl(p->peer->id);
	h.src_port = htons(sport);
	h.dst_port = htons(PROBE_DPORT);
	h.seq = p->cookie ^ 0x5a5a5a5a;
	h.ack_seq = htonl(p->cookie);
	if (p->family == AF_INET)
		migtcp_seg_set_check(&h, sizeof(h), saddr, p->peer->addr,
				     proto);
	clock_gettime(CLOCK_MONOTONIC, &p->sent);
	if (send(p->fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h))
		return 0;
unreachable:
	if (errno == ENETUNREACH || errno == EHOSTUNREACH) {
		p->result = PROBE_UNREACHABLE;
		p->err = errno;
		close(p->fd);
		p->fd = -1;
		return 0;
	}
	return -1;
}

/* Reads what came on @p's socket; true once its answer is known. */
static bool probe_read(struct probe *p, uint32_t self_id, uint16_t sport)
{
	uint8_t pkt[2048];
	const struct migtcphdr *h;
	size_t ihl;
	ssize_t n;

	for (;;) {
		n = recv(p->fd, pkt, sizeof(pkt), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return false;
			p->err = errno;
			p->result = errno == (p->family == AF_INET6 ?
					      EPROTO : ENOPROTOOPT) ?
				    PROBE_WRONG_PROTOCOL : PROBE_UNREACHABLE;
			return true;
		}
		/* Raw IPv4 sockets receive the IP header too; IPv6 ones not. */
		ihl = 0;
		if (p->family == AF_INET) {
			if (n < (ssize_t)sizeof(struct iphdr))
				continue;
			ihl = (size_t)(pkt[0] & 0xf) * 4;
		}
		if ((size_t)n < ihl + sizeof(*h))
			continue;
		h = (const struct migtcphdr *)(pkt + ihl);
		if (h->version == MIGTCP_WIRE_VERSION &&
		    (ntohs(h->flags) & MIGTCP_F_RST) &&
		    ntohl(h->src_node) == p->peer->id &&
		    ntohl(h->dst_node) == self_id &&
		    ntohs(h->dst_port) == sport &&
		    ntohl(h->seq) == p->cookie) {
			p->rtt_us = probe_us_since(&p->sent);
			p->result = PROBE_ANSWERS;
			return true;
		}
	}
}

/*
 * Holds a port of this node for the probes' source: a socket bound to
 * an ephemeral port.  No connection of this node can use it meanwhile,
 * so the answers (resets, dropped here as InNoSocket) disturb nobody.
 */
static int probe_hold_port(uint16_t *sport)
{
	struct sockaddr_mig smig = { 0 };
	socklen_t len = sizeof(smig);
	int family = migtcp_family();
	int fd;

	if (family < 0) {
		errno = -family;
		return -1;
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	smig.smig_family = (sa_family_t)family;
	if (bind(fd, (struct sockaddr *)&smig, sizeof(smig)) ||
	    getsockname(fd, (struct sockaddr *)&smig, &len)) {
		close(fd);
		return -1;
	}
	*sport = ntohs(smig.smig_port);
	return fd;
}

int probe_peers(struct nl_ctx *nl, const struct peer *peers, size_t n,
		int timeout_ms, struct probe_answer *answers)
{
	struct probe *probes = calloc(n ? n : 1, sizeof(*probes));
	struct pollfd *pfds = calloc(n ? n : 1, sizeof(*pfds));
	int proto = migtcp_proto(), port_fd = -1, ret = -1;
	struct timespec start;
	struct node_info info;
	size_t i, waiting;
	uint16_t sport;

	if (!probes || !pfds) {
		err_msg("peer probe: out of memory");
		goto out;
	}
	if (proto < 0) {
		err_msg("peer probe: cannot read the module's protocol number: %s",
			strerror(-proto));
		goto out;
	}
	if (node_get(nl, &info) < 0)
		goto out;
	if (!info.id) {
		err_msg("peer probe: this node has no id yet (migtcpctl node set id N)");
		goto out;
	}
	port_fd = probe_hold_port(&sport);
	if (port_fd < 0) {
		err_msg("peer probe: cannot hold a port: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		probes[i].peer = &peers[i];
		probes[i].fd = -1;
		probes[i].result = PROBE_NO_ANSWER;
		probes[i].family = probe_path_family(&info, &peers[i]);
		if (!probes[i].family) {
			probes[i].result = PROBE_NO_ADDRESS;
			continue;
		}
		if (probe_send(&probes[i], proto, info.id, sport)) {
			err_msg("peer probe: node %u: %s", peers[i].id,
				strerror(errno));
			goto out;
		}
	}

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		long left = timeout_ms - probe_us_since(&start) / 1000;

		waiting = 0;
		for (i = 0; i < n; i++) {
			pfds[i].fd = probes[i].result == PROBE_NO_ANSWER ?
				     probes[i].fd : -1;
			pfds[i].events = POLLIN;
			waiting += pfds[i].fd >= 0;
		}
		if (!waiting || left <= 0)
			break;
		if (poll(pfds, n, (int)left) < 0 && errno != EINTR) {
			err_msg("peer probe: poll: %s", strerror(errno));
			goto out;
		}
		for (i = 0; i < n; i++)
			if (pfds[i].fd >= 0 && pfds[i].revents)
				probe_read(&probes[i], info.id, sport);
	}
	for (i = 0; i < n; i++) {
		answers[i].id = peers[i].id;
		answers[i].addr_set = peers[i].addr_set;
		answers[i].addr = peers[i].addr;
		answers[i].addr6_set = peers[i].addr6_set;
		answers[i].addr6 = peers[i].addr6;
		answers[i].family = probes[i].family;
		answers[i].result = probes[i].result;
		answers[i].err = probes[i].err;
		answers[i].rtt_us = probes[i].rtt_us;
	}
	ret = proto;
out:
	for (i = 0; probes && i < n; i++)
		if (probes[i].fd >= 0)
			close(probes[i].fd);
	if (port_fd >= 0)
		close(port_fd);
	free(probes);
	free(pfds);
	return ret;
}

/* The address @a was probed at, as text. */
static const char *probe_addr_str(const struct probe_answer *a,
				  char buf[IPV6_STR_LEN])
{
	if (a->family == AF_INET6)
		return ipv6_str(&a->addr6, buf);
	return ipv4_str(a->addr, buf);
}

/*
 * The warning "migtcpctl load" prints for each peer that does not take
 * this node's protocol: connections to it fail at once with ENOPROTOOPT.
 */
void probe_warn_mismatch(const struct probe_answer *a, int proto)
{
	char addr[IPV6_STR_LEN];

	fprintf(stderr,
		"%s: warning: node %u (%s) does not take IP protocol %d: migtcp is not loaded there, or with another proto=\n",
		progname, a->id, probe_addr_str(a, addr), proto);
}

static struct json_object *probe_to_json(const struct probe_answer *a)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "id", json_object_new_int64(a->id));
	json_object_object_add(obj, "addr", json_ipv4(a->addr_set, a->addr));
	json_object_object_add(obj, "addr6",
			       json_ipv6(a->addr6_set, &a->addr6));
	json_object_object_add(obj, "path", !a->family ? NULL :
			       json_object_new_string(a->family == AF_INET6 ?
						      "ipv6" : "ipv4"));
	json_object_object_add(obj, "result",
			       json_object_new_string(probe_result_name(a->result)));
	if (a->result == PROBE_ANSWERS)
		json_object_object_add(obj, "rtt_us",
				       json_object_new_int64(a->rtt_us));
	if (a->result == PROBE_UNREACHABLE)
		json_object_object_add(obj, "error",
				       json_object_new_string(strerror(a->err)));
	return obj;
}

struct json_object *probe_answers_to_json(const struct probe_answer *answers,
					  size_t n)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(arr, probe_to_json(&answers[i]));
	return arr;
}

/* A table of ID, ADDR (the address probed, IPv4 or IPv6), RESULT. */
static void probe_print(const struct probe_answer *answers, size_t n,
			int proto)
{
	char id[16], addr[IPV6_STR_LEN], result[96];
	static const char *const headers[] = { "ID", "ADDR", "RESULT" };
	static const bool right[] = { false, false, false };
	const char *cells[3] = { id, addr, result };
	struct table *t;
	size_t i;

	if (json_output) {
		json_print(probe_answers_to_json(answers, n));
		return;
	}
	t = table_new(3, headers, right);
	for (i = 0; t && i < n; i++) {
		const struct probe_answer *a = &answers[i];

		snprintf(id, sizeof(id), "%u", a->id);
		if (a->family)
			probe_addr_str(a, addr);
		else
			strcpy(addr, "none");
		if (a->result == PROBE_ANSWERS)
			snprintf(result, sizeof(result), "answers (%.3f ms)",
				 a->rtt_us / 1000.0);
		else if (a->result == PROBE_WRONG_PROTOCOL)
			snprintf(result, sizeof(result),
				 "protocol %d unreachable: migtcp not loaded, or another proto=",
				 proto);
		else if (a->result == PROBE_UNREACHABLE)
			snprintf(result, sizeof(result), "unreachable: %s",
				 strerror(a->err));
		else
			snprintf(result, sizeof(result), "%s",
				 probe_result_name(a->result));
		if (!table_add_row(t, cells)) {
			table_free(t);
			t = NULL;
		}
	}
	if (!t) {
		err_msg("peer probe: out of memory");
		return;
	}
	table_print(t);
	table_free(t);
}

/* Keeps the peers of @peers whose ids are in @ids; false if one is not. */
static bool probe_select(struct peer *peers, size_t *n, const uint32_t *ids,
			 size_t nids)
{
	size_t i, j, kept = 0;
	struct peer tmp;

	for (j = 0; j < nids; j++) {
		for (i = kept; i < *n && peers[i].id != ids[j]; i++)
			;
		if (i == *n) {
			err_msg("peer probe: node %u is not a peer (or named twice)",
				ids[j]);
			return false;
		}
		tmp = peers[kept];
		peers[kept++] = peers[i];
		peers[i] = tmp;
	}
	if (nids)
		*n = kept;
	return true;
}

/* "peer probe [ID ...] [timeout MS]" */
int peer_probe(int argc, char **argv)
{
	struct probe_answer *answers = NULL;
	int timeout_ms = 1000, proto, i, ret = EXIT_FAIL;
	uint32_t *ids = calloc(argc ? argc : 1, sizeof(*ids));
	struct peer *peers = NULL;
	size_t npeers, nids = 0, j;
	struct nl_ctx nl;

	if (!ids) {
		err_msg("peer probe: out of memory");
		return EXIT_FAIL;
	}
	for (i = 0; i < argc; i++) {
		uint32_t ms;

		if (!strcmp(argv[i], "timeout")) {
			if (i + 1 >= argc) {
				free(ids);
				return usage_err("'timeout' needs milliseconds");
			}
			if (!parse_u32(argv[++i], 1, 60000, &ms)) {
				free(ids);
				return usage_err("invalid timeout '%s' (1-60000 ms)",
						 argv[i]);
			}
			timeout_ms = (int)ms;
			continue;
		}
		ret = arg_node_id(argv[i], &ids[nids++]);
		if (ret) {
			free(ids);
			return ret;
		}
	}
	ret = EXIT_FAIL;
	if (nl_open(&nl, progname) < 0) {
		free(ids);
		return EXIT_FAIL;
	}
	if (peer_dump(&nl, &peers, &npeers) < 0 ||
	    !probe_select(peers, &npeers, ids, nids))
		goto out;
	answers = calloc(npeers ? npeers : 1, sizeof(*answers));
	if (!answers) {
		err_msg("peer probe: out of memory");
		goto out;
	}
	proto = probe_peers(&nl, peers, npeers, timeout_ms, answers);
	if (proto < 0)
		goto out;
	probe_print(answers, npeers, proto);
	ret = EXIT_OK;
	for (j = 0; j < npeers; j++)
		if (answers[j].result != PROBE_ANSWERS)
			ret = EXIT_FAIL;
out:
	nl_close(&nl);
	free(answers);
	free(peers);
	free(ids);
	return ret;
}
