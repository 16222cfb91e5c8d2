// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink channel to the migtcp module (libmnl): family and
 * multicast group resolution through the controller, and request/reply
 * exchanges that turn NLMSG_ERROR and NLMSG_DONE errors into errno plus
 * the kernel's extack message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/migtcp.h>
#include <linux/netlink.h>

#include <stdarg.h>
#include <stdio.h>

#include "nl.h"

/* State of one exchange, shared by the data and control callbacks. */
struct nl_exchange {
	mnl_cb_t cb;
	void *data;
	int error;		/* positive errno from the kernel, or 0 */
	bool dump_intr;		/* the dumped table changed meanwhile */
	char extack[256];	/* NLMSGERR_ATTR_MSG, or "" */
};

/* "PROG: MESSAGE" on stderr, unless the context is quiet (no PROG). */
static void __attribute__((format(printf, 2, 3)))
nl_err(const struct nl_ctx *nl, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (!nl->prog)
		return;
	fprintf(stderr, "%s: ", nl->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	errno = saved;
}

uint8_t nl_genl_cmd(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);

	return genl->cmd;
}

struct nl_parse_ctx {
	const struct nlattr **tb;
	unsigned int max;
};

static int nl_parse_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nl_parse_ctx *ctx = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type <= ctx->max)
		ctx->tb[type] = attr;
	return MNL_CB_OK;
}

void nl_parse_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb,
		    unsigned int max)
{
	struct nl_parse_ctx ctx = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct genlmsghdr)))
		mnl_attr_parse(nlh, sizeof(struct genlmsghdr),
			       nl_parse_attr_cb, &ctx);
}

void nl_parse_nest(const struct nlattr *nest, const struct nlattr **tb,
		   unsigned int max)
{
	struct nl_parse_ctx ctx = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (nest)
		mnl_attr_parse_nested(nest, nl_parse_attr_cb, &ctx);
}

bool nl_attr_u8(const struct nlattr *attr, uint8_t *val)
{
	if (!attr || mnl_attr_get_payload_len(attr) != sizeof(*val))
		return false;
	*val = mnl_attr_get_u8(attr);
	return true;
}

bool nl_attr_u16(const struct nlattr *attr, uint16_t *val)
{
	if (!attr || mnl_attr_get_payload_len(attr) != sizeof(*val))
		return false;
	*val = mnl_attr_get_u16(attr);
	return true;
}

bool nl_attr_u32(const struct nlattr *attr, uint32_t *val)
{
	if (!attr || mnl_attr_get_payload_len(attr) != sizeof(*val))
		return false;
	*val = mnl_attr_get_u32(attr);
	return true;
}

bool nl_attr_u64(const struct nlattr *attr, uint64_t *val)
{
	if (!attr || mnl_attr_get_payload_len(attr) != sizeof(*val))
		return false;
	*val = mnl_attr_get_u64(attr);
	return true;
}

bool nl_attr_in_addr(const struct nlattr *attr, uint32_t *addr_be)
{
	if (!attr || mnl_attr_get_payload_len(attr) != sizeof(*addr_be))
		return false;
	memcpy(addr_be, mnl_attr_get_payload(attr), sizeof(*addr_be));
	return true;
}

bool nl_attr_in6_addr(const struct nlattr *attr, struct in6_addr *addr)
{
	if (!attr || mnl_attr_get_payload_len(attr) != sizeof(*addr))
		return false;
	memcpy(addr, mnl_attr_get_payload(attr), sizeof(*addr));
	return true;
}

static int nl_extack_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl_exchange *ex = data;
	size_t len;

	if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG)
		return MNL_CB_OK;
	len = strnlen(mnl_attr_get_str(attr), mnl_attr_get_payload_len(attr));
	if (len >= sizeof(ex->extack))
		len = sizeof(ex->extack) - 1;
	memcpy(ex->extack, mnl_attr_get_str(attr), len);
	ex->extack[len] = '\0';
	return MNL_CB_OK;
}

/* The extack TLVs start OFFSET bytes into the payload of NLH, if any. */
static void nl_parse_extack(const struct nlmsghdr *nlh, size_t offset,
			    struct nl_exchange *ex)
{
	size_t len = mnl_nlmsg_get_payload_len(nlh);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || offset >= len)
		return;
	mnl_attr_parse_payload((const char *)mnl_nlmsg_get_payload(nlh) +
			       offset, len - offset, nl_extack_attr_cb, ex);
}

static int nl_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct nl_exchange *ex = data;
	size_t offset = sizeof(*err);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (err->error == 0)
		return MNL_CB_STOP;		/* the acknowledgement */
	/* Without NLM_F_CAPPED the request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	nl_parse_extack(nlh, offset, ex);
	ex->error = err->error < 0 ? -err->error : err->error;
	errno = ex->error;
	return MNL_CB_ERROR;
}

/* A dump ends with NLMSG_DONE, which carries the error of a failed one. */
static int nl_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_exchange *ex = data;
	int error;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(error))
		return MNL_CB_STOP;
	memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
	if (error == 0)
		return MNL_CB_STOP;
	nl_parse_extack(nlh, sizeof(error), ex);
	ex->error = error < 0 ? -error : error;
	errno = ex->error;
	return MNL_CB_ERROR;
}

static int nl_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_exchange *ex = data;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct genlmsghdr))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		ex->dump_intr = true;
	return ex->cb ? ex->cb(nlh, ex->data) : MNL_CB_OK;
}

/* Not const: mnl_cb_run2() takes a plain pointer. */
static mnl_cb_t nl_ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR]	= nl_error_cb,
	[NLMSG_DONE]	= nl_done_cb,
};

/* Prints the failure of WHAT, unless WHAT is NULL; errno is ERROR. */
static void nl_report(const struct nl_ctx *nl, const struct nl_exchange *ex,
		      const char *what, int error)
{
	if (what && ex->extack[0])
		nl_err(nl, "%s: %s", what, ex->extack);
	else if (what)
		nl_err(nl, "%s: %s", what, strerror(error));
	errno = error;
}

int nl_request(struct nl_ctx *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
	       void *data, const char *what)
{
	struct nl_exchange ex = { .cb = cb, .data = data };
	uint32_t seq = nlh->nlmsg_seq;
	int ret;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0) {
		nl_report(nl, &ex, what, errno);
		return -1;
	}
	do {
		ssize_t len = mnl_socket_recvfrom(nl->sock, nl->buf,
						  NL_BUF_SIZE);

		if (len < 0) {
			nl_report(nl, &ex, what, errno);
			return -1;
		}
		ret = mnl_cb_run2(nl->buf, len, seq, nl->portid, nl_data_cb,
				  &ex, nl_ctl_cbs, NLMSG_MIN_TYPE);
	} while (ret > MNL_CB_STOP);
	if (ret < 0) {
		nl_report(nl, &ex, what, ex.error ? ex.error : errno);
		return -1;
	}
	if (ex.dump_intr) {
		/* A partial or inconsistent list is worse than none. */
		if (what)
			nl_err(nl, "%s: the table changed while it was read; try again",
			       what);
		errno = EAGAIN;
		return -1;
	}
	return 0;
}

static struct nlmsghdr *nl_put_header(struct nl_ctx *nl, uint16_t type,
				      uint8_t cmd, uint8_t version,
				      uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;

	/* libmnl leaves attribute padding as it finds it. */
	memset(nl->buf, 0, NL_BUF_SIZE);
	nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

struct nlmsghdr *nl_msg_start(struct nl_ctx *nl, uint8_t cmd, uint16_t flags)
{
	return nl_put_header(nl, nl->family, cmd, MIGTCP_GENL_VERSION, flags);
}

/* One entry of CTRL_ATTR_MCAST_GROUPS: is it our group "config"? */
static int nl_mcgrp_cb(const struct nlattr *grp, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1];
	struct nl_ctx *nl = data;
	uint32_t id;

	nl_parse_nest(grp, tb, CTRL_ATTR_MCAST_GRP_MAX);
	if (tb[CTRL_ATTR_MCAST_GRP_NAME] &&
	    nl_attr_u32(tb[CTRL_ATTR_MCAST_GRP_ID], &id) &&
	    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]),
		    MIGTCP_GENL_MCGRP_CONFIG))
		nl->mcgrp_config = id;
	return MNL_CB_OK;
}

static int nl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct nl_ctx *nl = data;

	nl_parse_attrs(nlh, tb, CTRL_ATTR_MAX);
	if (!nl_attr_u16(tb[CTRL_ATTR_FAMILY_ID], &nl->family)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (tb[CTRL_ATTR_MCAST_GROUPS])
		mnl_attr_parse_nested(tb[CTRL_ATTR_MCAST_GROUPS], nl_mcgrp_cb,
				      nl);
	return MNL_CB_OK;
}

static int nl_resolve_family(struct nl_ctx *nl)
{
	struct nlmsghdr *nlh;

	nlh = nl_put_header(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, MIGTCP_GENL_NAME);
	if (nl_request(nl, nlh, nl_family_cb, nl, NULL) == 0)
		return 0;
	if (errno == ENOENT)
		nl_err(nl, "the migtcp module is not loaded");
	else
		nl_err(nl, "cannot resolve generic netlink family %s: %s",
		       MIGTCP_GENL_NAME, strerror(errno));
	return -1;
}

static int nl_setup_socket(struct nl_ctx *nl)
{
	int one = 1;

	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock)
		return -1;
	/* Ask for extack messages, without the echoed request. */
	if (mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one,
				  sizeof(one)) < 0)
		return -1;
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	nl->portid = mnl_socket_get_portid(nl->sock);
	return 0;
}

int nl_open(struct nl_ctx *nl, const char *prog)
{
	memset(nl, 0, sizeof(*nl));
	nl->prog = prog;
	nl->seq = (uint32_t)time(NULL);
	nl->buf = malloc(NL_BUF_SIZE);
	if (!nl->buf) {
		nl_err(nl, "out of memory");
		return -1;
	}
	if (nl_setup_socket(nl) < 0) {
		nl_err(nl, "cannot open a generic netlink socket: %s",
		       strerror(errno));
		nl_close(nl);
		return -1;
	}
	if (nl_resolve_family(nl) < 0) {
		nl_close(nl);
		return -1;
	}
	return 0;
}

void nl_close(struct nl_ctx *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	nl->sock = NULL;
	nl->buf = NULL;
}
