// SPDX-License-Identifier: GPL-2.0
/*
 * Socket memory of AF_MIGTCP sockets, with Linux TCP's behaviour: the
 * initial buffer sizes come from the module parameters wmem and rmem (as
 * net.ipv4.tcp_wmem and tcp_rmem), buffers the user did not size grow
 * with the connection up to their maximum, sizes the user set stay, the
 * window each end offers is what its receive buffer holds (so that a
 * clean path drops nothing), and under memory pressure (the module
 * parameter mem, as tcp_mem) data still arrives whole.  Every socket's memory is given back to the byte
 * when it is freed: the module warns otherwise, and make check fails on
 * a warning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The harness has handlers with parameters it does not use. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"
#include "stream.h"

#define PARAMS	"/sys/module/migtcp/parameters/"

/* Opens module parameter @name for reading or writing (@mode). */
static FILE *open_param(const char *name, const char *mode)
{
	char path[128];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	return fopen(path, mode);
}

/* Reads the three numbers of module parameter @name ("a,b,c"). */
static int read_param3(const char *name, long v[3])
{
	FILE *f = open_param(name, "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%ld,%ld,%ld", &v[0], &v[1], &v[2]);
	fclose(f);
	return n == 3 ? 0 : -1;
}

static int write_param(const char *name, const char *value)
{
	FILE *f = open_param(name, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(value, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int get_sol(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int val = -1;

	if (getsockopt(fd, SOL_SOCKET, opt, &val, &len))
		return -1;
	return val;
}

/*
 * The "press" column of MIGTCP's line in /proc/net/protocols: 1 for
 * "yes", 0 for "no", -1 if the line is missing.
 */
static int proto_pressure(void)
{
	char line[512], name[32], press[8];
	int ret = -1;
	FILE *f;

	f = fopen("/proc/net/protocols", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s %*s %*s %*s %7s", name, press) == 2 &&
		    !strcmp(name, "MIGTCP")) {
			ret = !strcmp(press, "yes");
			break;
		}
	}
	fclose(f);
	return ret;
}

/*
 * A fresh socket's buffers are wmem[1] and rmem[1]; the protocol's memory
 * is accounted (/proc/net/protocols says "no" pressure, not "NI").
 */
TEST_F(cluster, initial_buffers_from_params)
{
	long wmem[3], rmem[3];
	int fd;

	ASSERT_EQ(0, read_param3("wmem", wmem));
	ASSERT_EQ(0, read_param3("rmem", rmem));
	EXPECT_EQ(4096, wmem[0]);
	EXPECT_EQ(16384, wmem[1]);
	EXPECT_EQ(4194304, wmem[2]);
	EXPECT_EQ(4096, rmem[0]);
	EXPECT_EQ(131072, rmem[1]);
	EXPECT_EQ(6291456, rmem[2]);
	ON_NODE(NODE1);
	fd = mig_socket(self->family, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(wmem[1], get_sol(fd, SO_SNDBUF));
	EXPECT_EQ(rmem[1], get_sol(fd, SO_RCVBUF));
	EXPECT_EQ(0, proto_pressure());
	close(fd);
}

/* A bulk transfer grows both ends' buffers, never past the maximum. */
TEST_F_TIMEOUT(cluster, buffers_grow_with_the_connection, 120)
{
	long wmem[3], rmem[3];
	int cfd, afd, snd, rcv;

	ASSERT_EQ(0, read_param3("wmem", wmem));
	ASSERT_EQ(0, read_param3("rmem", rmem));
	CONNECT_PAIR(&cfd, &afd);
	/* Established: room for the initial congestion window at once. */
	snd = get_sol(cfd, SO_SNDBUF);
	EXPECT_LT(wmem[1], snd);
	TRANSFER(cfd, afd, 32 * MiB, 0, 64 * KiB);
	snd = get_sol(cfd, SO_SNDBUF);
	rcv = get_sol(afd, SO_RCVBUF);
	fprintf(stderr, "# after 32 MiB: sender SO_SNDBUF %d, receiver SO_RCVBUF %d\n",
		snd, rcv);
	EXPECT_LT(wmem[1], snd);
	EXPECT_GE(wmem[2], snd);
	EXPECT_LT(rmem[1], rcv);
	EXPECT_GE(rmem[2], rcv);
	close(afd);
	close(cfd);
}

/*
 * The window each end offers once the handshake is done lies within its
 * receive buffer: half of it, as data arrives in buffers that cost up to
 * twice its size.  Both ends of 32 connections: the connecting end knows
 * the peer's sequence numbers only from the SYN-ACK, and a window anchored
 * anywhere else would be whatever the random initial sequence numbers
 * made it, in half of all connections.
 */
TEST_F(cluster, first_window_within_receive_buffer)
{
	struct migtcp_info ci, ai;
	int i, cfd, afd;

	for (i = 0; i < 32; i++) {
		CONNECT_PAIR(&cfd, &afd);
		GET_INFO(cfd, &ci);
		GET_INFO(afd, &ai);
		EXPECT_LT(0U, ci.rcv_wnd);
		EXPECT_GE((__u32)get_sol(cfd, SO_RCVBUF) / 2, ci.rcv_wnd)
			TH_LOG("connection %d: the connecting end offers %u bytes",
			       i, ci.rcv_wnd);
		EXPECT_LT(0U, ai.rcv_wnd);
		EXPECT_GE((__u32)get_sol(afd, SO_RCVBUF) / 2, ai.rcv_wnd)
			TH_LOG("connection %d: the accepted end offers %u bytes",
			       i, ai.rcv_wnd);
		close(afd);
		close(cfd);
	}
}

/*
 * Segments @node dropped for a full receive buffer or socket backlog, or
 * -1 if unreadable.
 */
static long node_receive_drops(CLUSTER *self, unsigned int node)
{
	long rcvbuf = node_stat(self, node, "RcvbufDrops");
	long backlog = node_stat(self, node, "InBacklogDrops");

	return rcvbuf < 0 || backlog < 0 ? -1 : rcvbuf + backlog;
}

/*
 * Receivers never drop data for want of room: the window they offer is
 * what their buffers hold.  Bulk data both ways over a clean path (to the
 * connecting end as well as to the accepted one), in fresh connections
 * whose buffers start small: not one segment is dropped for a full
 * receive buffer or socket backlog on either node.
 */
TEST_F_TIMEOUT(cluster, receivers_drop_nothing_on_a_clean_path, 120)
{
	long before1 = node_receive_drops(self, NODE1);
	long before2 = node_receive_drops(self, NODE2);
	int k, cfd, afd;

	ASSERT_LE(0, before1);
	ASSERT_LE(0, before2);
	for (k = 0; k < 4; k++) {
		CONNECT_PAIR(&cfd, &afd);
		TRANSFER(cfd, afd, 8 * MiB, 8 * MiB, 64 * KiB);
		close(afd);
		close(cfd);
	}
	EXPECT_EQ(before1, node_receive_drops(self, NODE1))
		TH_LOG("node 1 dropped received data (RcvbufDrops, InBacklogDrops)");
	EXPECT_EQ(before2, node_receive_drops(self, NODE2))
		TH_LOG("node 2 dropped received data (RcvbufDrops, InBacklogDrops)");
}

/*
 * SO_SNDBUF and SO_RCVBUF fix a size: the transfer leaves it alone, and
 * a listener's sizes pass to the connections it accepts, as TCP's do.
 */
TEST_F_TIMEOUT(cluster, user_sizes_stay, 120)
{
	int lfd, cfd, afd, val = 65536;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, PORT + 1, 4);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val)));
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &val, sizeof(val)));
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT + 1));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	EXPECT_EQ(2 * val, get_sol(afd, SO_RCVBUF));
	TRANSFER(cfd, afd, 8 * MiB, 0, 64 * KiB);
	EXPECT_EQ(2 * val, get_sol(cfd, SO_SNDBUF));
	EXPECT_EQ(2 * val, get_sol(afd, SO_RCVBUF));
	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * With the pressure threshold of mem at one page (and the hard limit far
 * away), pressure begins as soon as a CPU's batch of charges reaches the
 * shared count (1 MiB, sysctl net.core.mem_pcpu_rsv), which megabytes in
 * flight each way guarantee.  Under pressure receivers offer a few
 * segments of window at a time, and still every byte arrives.  (Above the
 * hard limit nothing more is charged at all, for TCP as for migtcp: data
 * stops until memory is given back.)
 */
TEST_F_TIMEOUT(cluster, memory_pressure_delivers_everything, 180)
{
	long mem[3];
	char old[96];
	int cfd, afd;

	ASSERT_EQ(0, read_param3("mem", mem));
	snprintf(old, sizeof(old), "%ld,%ld,%ld", mem[0], mem[1], mem[2]);
	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, write_param("mem", "1,1,10000000"));
	TRANSFER(cfd, afd, 8 * MiB, 8 * MiB, 64 * KiB);
	EXPECT_EQ(0, write_param("mem", old));
	close(afd);
	close(cfd);
}

TEST_HARNESS_MAIN
