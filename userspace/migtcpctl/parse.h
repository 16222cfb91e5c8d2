/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Validation of the values migtcpctl takes on its command line and in
 * cluster files: node ids, IPv4 and IPv6 addresses, port ranges, counts
 * and the cluster key file.
 */
#ifndef MIGTCPCTL_PARSE_H
#define MIGTCPCTL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include <linux/migtcp.h>

/* Pure checks: true and *out set if S is valid. */
bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
bool parse_ipv4(const char *s, uint32_t *addr_be);
bool parse_ipv6(const char *s, struct in6_addr *addr);

/*
 * NULL if ADDR may be an IPv6 underlay address, as the kernel requires
 * (global unicast), else what it is instead ("a link-local address").
 */
const char *ipv4_underlay_error(uint32_t addr_be);
const char *ipv6_underlay_error(const struct in6_addr *addr);
bool parse_port_range(const char *s, uint16_t *lo, uint16_t *hi);

/*
 * Command-line arguments: 0 if valid, else a usage message naming the
 * argument is printed and EXIT_USAGE returned.
 */
int arg_node_id(const char *s, uint32_t *id);
/*
 * An underlay address, IPv4 or IPv6 as its literal says, into *ADDR or
 * *ADDR6 with its flag set; an address of a family already given is a
 * usage error (at most one of each).
 */
int arg_addr(const char *s, bool *addr_set, uint32_t *addr,
	     bool *addr6_set, struct in6_addr *addr6);
int arg_port_range(const char *s, uint16_t *lo, uint16_t *hi);
int arg_count(const char *s, uint32_t *count);

/*
 * Reads a cluster key: 64 hex digits, optionally followed by white
 * space, from a file only its owner may read and write (a regular file
 * open to group or others is refused).  Returns 0, or -1 with what is
 * wrong in ERR.
 */
int read_key_file(const char *path, uint8_t key[MIGTCP_KEY_LEN],
		  char *err, size_t errlen);

#endif /* MIGTCPCTL_PARSE_H */
