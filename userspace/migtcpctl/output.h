/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output of migtcpctl: the choice between human-readable text and JSON,
 * error and usage messages, address formatting and aligned tables.
 */
#ifndef MIGTCPCTL_OUTPUT_H
#define MIGTCPCTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include <json-c/json.h>

/* Exit statuses. */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

extern const char *progname;
extern bool json_output;	/* -j: JSON instead of text */

/* "migtcpctl: MESSAGE" on stderr. */
void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A usage error: "migtcpctl: MESSAGE" and a pointer to --help on
 * stderr.  Returns EXIT_USAGE.
 */
int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints OBJ as one line of compact JSON, flushes stdout, frees OBJ. */
void json_print(struct json_object *obj);

/* Dotted-quad text of a network-order IPv4 address. */
#define IPV4_STR_LEN	16
const char *ipv4_str(uint32_t addr_be, char buf[IPV4_STR_LEN]);

/* A JSON string of the address, or JSON null if !IS_SET. */
struct json_object *json_ipv4(bool is_set, uint32_t addr_be);

/* RFC 5952 text of an IPv6 address. */
#define IPV6_STR_LEN	INET6_ADDRSTRLEN
const char *ipv6_str(const struct in6_addr *addr, char buf[IPV6_STR_LEN]);

/* A JSON string of the address, or JSON null if !IS_SET. */
struct json_object *json_ipv6(bool is_set, const struct in6_addr *addr);

/*
 * A text table: columns sized to their widest cell, separated by two
 * spaces, numbers right-aligned.  Cells are copied.
 */
struct table;

struct table *table_new(unsigned int ncols, const char *const *headers,
			const bool *right_align);
/* Appends a row of NCOLS cells; false when out of memory. */
bool table_add_row(struct table *t, const char *const *cells);
void table_print(const struct table *t);
void table_free(struct table *t);

#endif /* MIGTCPCTL_OUTPUT_H */
