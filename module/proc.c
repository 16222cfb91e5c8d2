// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/migtcp (the sockets of this node) and /proc/net/migtcp_stats
 * (its counters, one "Name value" pair a line).
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/tcp_states.h>

#include "migtcp.h"

static const char * const migtcp_stat_names[__MIGTCP_STAT_MAX] = {
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

/* Connection states use TCP's numbering, as MPTCP's do. */
static const char * const migtcp_state_names[TCP_MAX_STATES] = {
	[TCP_ESTABLISHED]	= "ESTABLISHED",
	[TCP_SYN_SENT]		= "SYN_SENT",
	[TCP_SYN_RECV]		= "SYN_RECV",
	[TCP_FIN_WAIT1]		= "FIN_WAIT1",
	[TCP_FIN_WAIT2]		= "FIN_WAIT2",
	[TCP_TIME_WAIT]		= "TIME_WAIT",
	[TCP_CLOSE]		= "CLOSE",
	[TCP_CLOSE_WAIT]	= "CLOSE_WAIT",
	[TCP_LAST_ACK]		= "LAST_ACK",
	[TCP_LISTEN]		= "LISTEN",
	[TCP_CLOSING]		= "CLOSING",
	[TCP_NEW_SYN_RECV]	= "NEW_SYN_RECV",
};

static int migtcp_stats_show(struct seq_file *seq, void *v)
{
	struct migtcp_net *mn = migtcp_pernet(seq_file_single_net(seq));
	int i;

	for (i = 0; i < __MIGTCP_STAT_MAX; i++)
		seq_printf(seq, "%s %lu\n", migtcp_stat_names[i],
			   snmp_fold_field(mn->mib, i));
	return 0;
}

/*
 * A reading of /proc/net/migtcp: the last socket it reached, at line
 * @pos, had key @seq.  The next read() goes on from there, however many
 * sockets came and went meanwhile, without walking those before it.
 */
struct migtcp_sockets_iter {
	struct seq_net_private p;
	loff_t pos;
	u64 seq;
};

static void *migtcp_sockets_reached(struct seq_file *seq,
				    struct migtcp_sock *msk, loff_t pos)
{
	struct migtcp_sockets_iter *it = seq->private;

	if (msk) {
		it->pos = pos;
		it->seq = msk->net_seq;
	}
	return msk;
}

static void *migtcp_sockets_start(struct seq_file *seq, loff_t *pos)
	__acquires(sockets_lock)
{
	struct migtcp_net *mn = migtcp_pernet(seq_file_net(seq));
	struct migtcp_sockets_iter *it = seq->private;
	struct migtcp_sock *msk;
	loff_t i;

	spin_lock_bh(&mn->sockets_lock);
	if (!*pos)
		return SEQ_START_TOKEN;
	/* The socket the last read reached (or the next, if it is gone). */
	if (it->seq && *pos == it->pos)
		return migtcp_sockets_reached(seq,
					      migtcp_net_sock_after(mn, it->seq - 1),
					      *pos);
	/* Anywhere else (a seek): counted from the first. */
	msk = migtcp_net_sock_after(mn, 0);
	for (i = 1; msk && i < *pos; i++)
		msk = migtcp_net_sock_next(msk);
	return migtcp_sockets_reached(seq, msk, *pos);
}

static void *migtcp_sockets_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct migtcp_net *mn = migtcp_pernet(seq_file_net(seq));

	++*pos;
	return migtcp_sockets_reached(seq, v == SEQ_START_TOKEN ?
					   migtcp_net_sock_after(mn, 0) :
					   migtcp_net_sock_next(v),
				      *pos);
}

static void migtcp_sockets_stop(struct seq_file *seq, void *v)
	__releases(sockets_lock)
{
	struct migtcp_net *mn = migtcp_pernet(seq_file_net(seq));

	spin_unlock_bh(&mn->sockets_lock);
}

static int migtcp_sockets_show(struct seq_file *seq, void *v)
{
	const struct migtcp_sock *msk;
	struct sock *sk;
	int state;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, "  sl local            remote           state        tx_queue rx_queue   uid    inode\n");
		return 0;
	}

	msk = v;
	sk = (struct sock *)&msk->sk;
	state = inet_sk_state_load(sk);
	/* Index 0 is the header line. */
	seq_printf(seq, "%4lld: %u:%u %u:%u %-12s %8d %8d %5u %8lu\n",
		   (long long)seq->index - 1,
		   READ_ONCE(msk->local_node), READ_ONCE(msk->local_port),
		   READ_ONCE(msk->remote_node), READ_ONCE(msk->remote_port),
		   state < TCP_MAX_STATES && migtcp_state_names[state] ?
		   migtcp_state_names[state] : "UNKNOWN",
		   READ_ONCE(sk->sk_wmem_queued), sk_rmem_alloc_get(sk),
		   from_kuid_munged(seq_user_ns(seq), sock_i_uid(sk)),
		   sock_i_ino(sk));
	return 0;
}

static const struct seq_operations migtcp_sockets_seq_ops = {
	.start	= migtcp_sockets_start,
	.next	= migtcp_sockets_next,
	.stop	= migtcp_sockets_stop,
	.show	= migtcp_sockets_show,
};

int migtcp_proc_init_net(struct net *net)
{
	if (!proc_create_net("migtcp", 0444, net->proc_net,
			     &migtcp_sockets_seq_ops,
			     sizeof(struct migtcp_sockets_iter)))
		return -ENOMEM;
	if (!proc_create_net_single("migtcp_stats", 0444, net->proc_net,
				    migtcp_stats_show, NULL)) {
		remove_proc_entry("migtcp", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

void migtcp_proc_exit_net(struct net *net)
{
	remove_proc_entry("migtcp_stats", net->proc_net);
	remove_proc_entry("migtcp", net->proc_net);
}
