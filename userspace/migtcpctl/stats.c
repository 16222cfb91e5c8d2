// SPDX-License-Identifier: GPL-2.0
/*
 * "migtcpctl stats": this node's counters (STATS_GET), one "Name value"
 * a line as /proc/net/migtcp_stats prints them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "nl.h"
#include "output.h"

/* In enum migtcp_stat order; counter N is attribute N + 1. */
static const char *const stat_names[] = {
	[MIGTCP_STAT_IN_SEGS]		= "InSegs",
	[MIGTCP_STAT_IN_HDR_ERRORS]	= "InHdrErrors",
	[MIGTCP_STAT_IN_CSUM_ERRORS]	= "InCsumErrors",
	[MIGTCP_STAT_IN_BAD_VERSION]	= "InBadVersion",
	[MIGTCP_STAT_IN_ADDR_ERRORS]	= "InAddrErrors",
	[MIGTCP_STAT_IN_NO_SOCKET]	= "InNoSocket",
	[MIGTCP_STAT_IN_WRONG_NODE]	= "InWrongNode",
	[MIGTCP_STAT_OUT_SEGS]		= "OutSegs",
	[MIGTCP_STAT_OUT_RSTS]		= "OutRsts",
	[MIGTCP_STAT_OUT_NO_ROUTE]	= "OutNoRoute",
	[MIGTCP_STAT_LISTEN_DROPS]	= "ListenDrops",
	[MIGTCP_STAT_IN_BACKLOG_DROPS]	= "InBacklogDrops",
	[MIGTCP_STAT_RETRANS_SEGS]	= "RetransSegs",
	[MIGTCP_STAT_RCVBUF_DROPS]	= "RcvbufDrops",
	[MIGTCP_STAT_OFO_PRUNED]	= "OfoPruned",
	[MIGTCP_STAT_CHALLENGE_ACKS]	= "ChallengeAcks",
	[MIGTCP_STAT_DELAYED_ACKS]	= "DelayedAcks",
	[MIGTCP_STAT_IN_BAD_FLAGS]	= "InBadFlags",
	[MIGTCP_STAT_IN_WINDOW_DROPS]	= "InWindowDrops",
	[MIGTCP_STAT_IN_KX_ERRORS]	= "InKxErrors",
	[MIGTCP_STAT_IN_CTL_ERRORS]	= "InCtlErrors",
	[MIGTCP_STAT_IN_CTL_NO_STATE]	= "InCtlNoState",
	[MIGTCP_STAT_IN_CTL_BAD_MAC]	= "InCtlBadMac",
	[MIGTCP_STAT_IN_CTL_STALE_EPOCH]	= "InCtlStaleEpoch",
	[MIGTCP_STAT_IN_CTL_BAD_HOST]	= "InCtlBadHost",
	[MIGTCP_STAT_IN_MOVED]		= "InMoved",
	[MIGTCP_STAT_OUT_CTL]		= "OutCtl",
	[MIGTCP_STAT_IN_BAD_ENDPOINT]	= "InBadEndpoint",
	[MIGTCP_STAT_CTL_TIMEOUTS]	= "CtlTimeouts",
	[MIGTCP_STAT_IN_HS_BAD_MAC]	= "InHsBadMac",
	[MIGTCP_STAT_IN_HS_NO_MAC]	= "InHsNoMac",
	[MIGTCP_STAT_IN_SYN_BAD_SOURCE]	= "InSynBadSource",
	[MIGTCP_STAT_IN_XFRM_DROPS]	= "InXfrmDrops",
	[MIGTCP_STAT_IN_FILTER_DROPS]	= "InFilterDrops",
	[MIGTCP_STAT_LEASES_LOST]	= "LeasesLost",
	[MIGTCP_STAT_ABORT_ON_MEMORY]	= "AbortOnMemory",
	[MIGTCP_STAT_ABORT_ON_DATA]	= "AbortOnData",
	[MIGTCP_STAT_OUT_OF_WINDOW_ICMPS] = "OutOfWindowIcmps",
	[MIGTCP_STAT_SYNCOOKIES_SENT]	= "SyncookiesSent",
	[MIGTCP_STAT_SYNCOOKIES_RECV]	= "SyncookiesRecv",
	[MIGTCP_STAT_SYNCOOKIES_FAILED]	= "SyncookiesFailed",
	[MIGTCP_STAT_IN_CTL_MAC_LIMITED]	= "InCtlMacLimited",
	[MIGTCP_STAT_IN_SACK_BLOCKS]	= "InSackBlocks",
	[MIGTCP_STAT_IN_DSACKS]	= "InDsacks",
	[MIGTCP_STAT_IN_SACK_INVALID]	= "InSackInvalid",
	[MIGTCP_STAT_OUT_SACK_BLOCKS]	= "OutSackBlocks",
	[MIGTCP_STAT_OUT_DSACKS]	= "OutDsacks",
	[MIGTCP_STAT_DSACK_UNDO]	= "DsackUndo",
	[MIGTCP_STAT_TIMEOUTS]		= "Timeouts",
	[MIGTCP_STAT_RACK_LOST]		= "RackLost",
	[MIGTCP_STAT_RACK_REO_TIMEOUTS]	= "RackReoTimeouts",
	[MIGTCP_STAT_TLP_PROBES]	= "TlpProbes",
	[MIGTCP_STAT_TLP_RECOVERIES]	= "TlpRecoveries",
};

_Static_assert(sizeof(stat_names) / sizeof(stat_names[0]) == __MIGTCP_STAT_MAX,
	       "every counter of enum migtcp_stat has a name");

struct stats_out {
	struct json_object *obj;	/* JSON output, else text */
	bool found;
};

/* Counters a newer kernel added are "Stat<N>". */
static const char *stat_name(unsigned int n, char *buf, size_t len)
{
	if (n < __MIGTCP_STAT_MAX)
		return stat_names[n];
	snprintf(buf, len, "Stat%u", n);
	return buf;
}

static int stats_attr_cb(const struct nlattr *attr, void *data)
{
	unsigned int type = mnl_attr_get_type(attr);
	struct stats_out *out = data;
	char buf[24];
	const char *name;
	uint64_t val;

	if (type == 0 || !nl_attr_u64(attr, &val))
		return MNL_CB_OK;
	name = stat_name(type - 1, buf, sizeof(buf));
	if (out->obj)
		json_object_object_add(out->obj, name,
				       json_object_new_uint64(val));
	else
		printf("%s %" PRIu64 "\n", name, val);
	return MNL_CB_OK;
}

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[MIGTCP_A_MAX + 1];
	struct stats_out *out = data;

	nl_parse_attrs(nlh, tb, MIGTCP_A_MAX);
	if (!tb[MIGTCP_A_STATS])
		return MNL_CB_OK;
	out->found = true;
	return mnl_attr_parse_nested(tb[MIGTCP_A_STATS], stats_attr_cb, out);
}

int cmd_stats(int argc, char **argv)
{
	struct stats_out out = { 0 };
	struct nlmsghdr *nlh;
	struct nl_ctx nl;
	int ret;

	if (argc > 0)
		return usage_err("stats takes no arguments, got '%s'", argv[0]);
	if (nl_open(&nl, progname) < 0)
		return EXIT_FAIL;
	if (json_output)
		out.obj = json_object_new_object();
	nlh = nl_msg_start(&nl, MIGTCP_CMD_STATS_GET, 0);
	ret = nl_request(&nl, nlh, stats_cb, &out, "stats");
	nl_close(&nl);
	if (ret == 0 && !out.found) {
		err_msg("stats: the kernel's reply has no counters");
		ret = -1;
	}
	if (ret == 0 && out.obj)
		json_print(out.obj);
	else
		json_object_put(out.obj);
	fflush(stdout);
	return ret < 0 ? EXIT_FAIL : EXIT_OK;
}
