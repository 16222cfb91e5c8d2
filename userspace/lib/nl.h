/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generic netlink channel to the migtcp module: one libmnl socket,
 * the family id and multicast group resolved through the controller,
 * and request/reply exchanges that report the kernel's extack message.
 */
#ifndef MIGTCP_NL_H
#define MIGTCP_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/migtcp.h>

/*
 * Large enough for any dump skb the kernel builds for us: it sizes them
 * after the largest buffer we have received with.
 */
#define NL_BUF_SIZE	32768

struct nl_ctx {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	uint16_t family;	/* generic netlink id of "migtcp" */
	uint32_t mcgrp_config;	/* id of multicast group "config", 0 if none */
	char *buf;		/* NL_BUF_SIZE bytes */
	const char *prog;	/* prefix of error messages; NULL: quiet */
};

/*
 * Opens the socket and resolves the family.  Returns -1 with errno set
 * on failure (ENOENT: the module is not loaded).  Errors of this and of
 * every later request are printed as "PROG: MESSAGE" on stderr, unless
 * PROG is NULL.
 */
int nl_open(struct nl_ctx *nl, const char *prog);
void nl_close(struct nl_ctx *nl);

/*
 * Starts a request for CMD in nl->buf: NLM_F_REQUEST | NLM_F_ACK plus
 * FLAGS (NLM_F_DUMP for dumps), with a fresh sequence number.
 */
struct nlmsghdr *nl_msg_start(struct nl_ctx *nl, uint8_t cmd, uint16_t flags);

/*
 * Sends NLH and processes replies with CB (which may be NULL) until the
 * acknowledgement or the end of the dump.  On failure prints
 * "PROG: WHAT: <extack message or strerror>" and returns -1 with
 * errno set to the kernel's error.
 */
int nl_request(struct nl_ctx *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
	       void *data, const char *what);

/* The genl command of a migtcp message. */
uint8_t nl_genl_cmd(const struct nlmsghdr *nlh);

/*
 * Callback helper: fills TB[0..MAX] with the attributes of NLH (after
 * the genl header) or of nest NEST, ignoring types above MAX so that a
 * newer kernel's additions are harmless.
 */
void nl_parse_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb,
		    unsigned int max);
void nl_parse_nest(const struct nlattr *nest, const struct nlattr **tb,
		   unsigned int max);

/* Attribute readers that check the payload size; false if it is wrong. */
bool nl_attr_u8(const struct nlattr *attr, uint8_t *val);
bool nl_attr_u16(const struct nlattr *attr, uint16_t *val);
bool nl_attr_u32(const struct nlattr *attr, uint32_t *val);
bool nl_attr_u64(const struct nlattr *attr, uint64_t *val);
bool nl_attr_in_addr(const struct nlattr *attr, uint32_t *addr_be);
bool nl_attr_in6_addr(const struct nlattr *attr, struct in6_addr *addr);

#endif /* MIGTCP_NL_H */
