// SPDX-License-Identifier: GPL-2.0
/*
 * Socket options of the preload library's AF_MIGTCP sockets, as a TCP
 * program sets and reads them.  SOL_MIGTCP options carry the numbers and
 * meanings of their TCP namesakes, so IPPROTO_TCP maps by level alone;
 * TCP_INFO is rebuilt from struct migtcp_info.  While the transport is
 * still undecided every option is also kept, so that a fallback to
 * kernel TCP gets them all.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <linux/migtcp.h>
#include <linux/tcp.h>

#include "preload.h"

/* The TCP options that have a SOL_MIGTCP namesake. */
static bool tcp_opt_mapped(int name)
{
	switch (name) {
	case TCP_NODELAY:
	case TCP_MAXSEG:
	case TCP_CORK:
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
	case TCP_KEEPCNT:
	case TCP_QUICKACK:
	case TCP_CONGESTION:
	case TCP_USER_TIMEOUT:
		return true;
	}
	return false;
}

static bool undecided(enum fd_state state)
{
	return state == FD_PENDING || state == FD_BOUND;
}

int mig_setsockopt(int fd, enum fd_state state, int level, int name,
		   const void *val, socklen_t len)
{
	int ret;

	if (len > 4096) {
		/* No option this library keeps is anywhere near this. */
		errno = EINVAL;
		return -1;
	}
	if (level == SOL_SOCKET) {
		ret = real.setsockopt(fd, level, name, val, len);
	} else if (level == IPPROTO_TCP && tcp_opt_mapped(name)) {
		ret = real.setsockopt(fd, SOL_MIGTCP, name, val, len);
	} else if (level == IPPROTO_TCP && !undecided(state)) {
		debug("fd %d: TCP option %d has no AF_MIGTCP equivalent", fd,
		      name);
		errno = ENOPROTOOPT;
		return -1;
	} else if (level == IPPROTO_TCP || level == IPPROTO_IP ||
		   level == IPPROTO_IPV6) {
		/*
		 * Kept for a fallback to TCP, and for getsockopt; IP-level
		 * options mean nothing to AF_MIGTCP, which sends over the
		 * node's own underlay path.
		 */
		debug("fd %d: option %d/%d kept, not applied to AF_MIGTCP", fd,
		      level, name);
		ret = 0;
	} else {
		return real.setsockopt(fd, level, name, val, len);
	}
	if (ret == 0 && (undecided(state) || level == IPPROTO_IP ||
			 level == IPPROTO_IPV6))
		ret = fd_save_opt(fd, level, name, val, len);
	return ret;
}

/* TCP_INFO of an AF_MIGTCP socket, in struct tcp_info's terms. */
static int tcp_info_get(int fd, void *val, socklen_t *len)
{
	struct migtcp_info mi;
	struct tcp_info ti;
	socklen_t mlen = sizeof(mi);

	if (real.getsockopt(fd, SOL_MIGTCP, MIGTCP_INFO, &mi, &mlen) < 0)
		return -1;
	if (mlen < sizeof(mi))
		memset((char *)&mi + mlen, 0, sizeof(mi) - mlen);
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_state = mi.state;
	ti.tcpi_retransmits = mi.retransmits;
	ti.tcpi_rto = mi.rto_us;
	ti.tcpi_rtt = mi.rtt_us;
	ti.tcpi_rttvar = mi.rttvar_us;
	ti.tcpi_snd_mss = mi.snd_mss;
	ti.tcpi_rcv_mss = mi.snd_mss;
	ti.tcpi_advmss = mi.snd_mss;
	ti.tcpi_snd_cwnd = mi.snd_cwnd;
	ti.tcpi_snd_ssthresh = 0x7fffffff;	/* not reported: "infinite" */
	ti.tcpi_unacked = mi.snd_mss ?
		(mi.unacked + mi.snd_mss - 1) / mi.snd_mss : 0;
	ti.tcpi_total_retrans = mi.total_retrans;
	ti.tcpi_rcv_space = mi.rcv_wnd;
	ti.tcpi_snd_wnd = mi.snd_wnd;
	ti.tcpi_bytes_sent = mi.bytes_sent;
	ti.tcpi_bytes_acked = mi.bytes_acked;
	ti.tcpi_bytes_received = mi.bytes_received;
	if (*len > sizeof(ti))
		*len = sizeof(ti);
	memcpy(val, &ti, *len);
	return 0;
}

static int int_opt(int v, void *val, socklen_t *len)
{
	if (*len > sizeof(v))
		*len = sizeof(v);
	memcpy(val, &v, *len);
	return 0;
}

int mig_getsockopt(int fd, const struct fd_info *info, int level, int name,
		   void *val, socklen_t *len)
{
	if (level == SOL_SOCKET && name == SO_DOMAIN)
		return int_opt(info->family ?: AF_INET, val, len);
	if (level == SOL_SOCKET && name == SO_PROTOCOL)
		return int_opt(IPPROTO_TCP, val, len);
	if (level == IPPROTO_TCP && name == TCP_INFO)
		return tcp_info_get(fd, val, len);
	if (level == IPPROTO_TCP && tcp_opt_mapped(name))
		return real.getsockopt(fd, SOL_MIGTCP, name, val, len);
	if (level == IPPROTO_TCP || level == IPPROTO_IP ||
	    level == IPPROTO_IPV6) {
		if (fd_saved_opt(fd, level, name, val, len) == 0)
			return 0;
		errno = ENOPROTOOPT;
		return -1;
	}
	return real.getsockopt(fd, level, name, val, len);
}
