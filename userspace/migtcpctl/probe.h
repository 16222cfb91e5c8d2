/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probing peers: does each answer migtcp on this node's IP protocol
 * number (probe.c)?
 */
#ifndef MIGTCPCTL_PROBE_H
#define MIGTCPCTL_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include <json-c/json.h>

#include "peers.h"

enum probe_result {
	PROBE_ANSWERS,		/* a migtcp reset came back */
	PROBE_WRONG_PROTOCOL,	/* ICMP protocol unreachable */
	PROBE_UNREACHABLE,	/* another ICMP error, or no route */
	PROBE_NO_ANSWER,	/* nothing within the timeout */
	PROBE_NO_ADDRESS,	/* the peer has no address to probe */
};

struct probe_answer {
	uint32_t id;
	bool addr_set, addr6_set;
	uint32_t addr;		/* network order */
	struct in6_addr addr6;
	int family;		/* probed over AF_INET or AF_INET6; 0: none */
	enum probe_result result;
	int err;		/* PROBE_UNREACHABLE: its errno */
	long rtt_us;		/* PROBE_ANSWERS: the round trip */
};

const char *probe_result_name(enum probe_result r);

/*
 * Probes the @n @peers at once, each over the path the kernel takes to
 * it (IPv6 when this node and the peer both have an IPv6 address, else
 * IPv4 if the peer has an IPv4 one, else IPv6), and waits up to
 * @timeout_ms for their answers, in @answers[0..n).  Returns the
 * protocol number probed, or -1 after printing what failed.
 */
int probe_peers(struct nl_ctx *nl, const struct peer *peers, size_t n,
		int timeout_ms, struct probe_answer *answers);

/* "warning: node N (A) does not take IP protocol P: ..." on stderr. */
void probe_warn_mismatch(const struct probe_answer *a, int proto);

/*
 * [{"id":…,"addr":…,"addr6":…,"path":"ipv4"|"ipv6"|null,"result":…,
 *   "rtt_us"|"error":…}, …]
 */
struct json_object *probe_answers_to_json(const struct probe_answer *answers,
					  size_t n);

/* The "peer probe" command. */
int peer_probe(int argc, char **argv);

#endif /* MIGTCPCTL_PROBE_H */
