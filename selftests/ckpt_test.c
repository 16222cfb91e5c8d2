// SPDX-License-Identifier: GPL-2.0
/*
 * Migration of AF_MIGTCP sockets without CRIU: the MIGTCP_FREEZE,
 * MIGTCP_CHECKPOINT, MIGTCP_THAW and MIGTCP_RESTORE options and what a
 * user relies on them for (include/uapi/linux/migtcp.h; docs/protocol.md,
 * "Migration control messages").
 *
 *  - Privilege: each option needs CAP_NET_ADMIN and CAP_CHECKPOINT_RESTORE
 *    (or CAP_SYS_ADMIN); a process lacking either gets EPERM and changes
 *    nothing.
 *  - Errors: EINVAL, EALREADY, EAGAIN, EISCONN, EADDRINUSE and ERANGE
 *    exactly where the ABI gives them.
 *  - IPv6 addresses in a checkpoint: PEER_ADDR_IN6 and HOST_ADDR_IN6 of
 *    exactly 16 bytes and usable, one peer address per connection (a
 *    blob with both, or an unusable one, is refused and changes
 *    nothing); PEER_ADDR_IN6 restores where PEER_ADDR_IN did; a node's
 *    two addresses both named in its checkpoints.
 *  - Fuzz: 100 000 blobs, every one invalid by construction, each given to
 *    MIGTCP_RESTORE on a fresh socket: all refused with EINVAL, nothing
 *    changed on the node, the sockets the valid blobs came from unharmed.
 *  - Semantics: thaw after a checkpoint; migration to another node with
 *    unread, unacknowledged and in-flight data, there and back, both ends
 *    at once, a listener with its accept queue, half-closed connections,
 *    unbound and bound sockets, through loss and reordering; a restore
 *    that never comes times the peer out.
 *  - Security: forged, replayed and misdirected LOCATION-UPDATEs are
 *    dropped and counted, and change nothing.
 *
 * Every test builds its own cluster (cluster.h, and ckpt.h's nodes 3 and
 * 4 where a socket needs somewhere to go); all data is checked byte for
 * byte against stream.h's generator.
 */
#include <linux/capability.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <grp.h>
#include <sys/syscall.h>

/*
 * The 6.1 harness's TEST() wrappers and timeout handler have parameters
 * they do not use; -Wextra would reject every test this file defines.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"
#include "stream.h"
#include "ckpt.h"

#define TCP_ESTABLISHED_	1	/* TCP_* numbers, as MIGTCP_INFO gives */
#define TCP_FIN_WAIT2_		5
#define TCP_TIME_WAIT_		6
#define TCP_CLOSE_		7
#define TCP_CLOSE_WAIT_		8
#define TCP_LISTEN_		10

/*
 * Privilege.
 */

#define CAP(c)		(1ULL << (c))
#define NOBODY		65534

/* What a child process keeps of root's capabilities. */
struct cap_profile {
	const char *name;
	__u64 caps;		/* effective = permitted */
	bool nobody;		/* instead: setuid to nobody, which drops all */
	bool allowed;		/* what the ABI says this may do */
};

static const struct cap_profile cap_profiles[] = {
	{ "no capabilities", 0, false, false },
	{ "uid nobody", 0, true, false },
	{ "CAP_NET_ADMIN only", CAP(CAP_NET_ADMIN), false, false },
	{ "CAP_CHECKPOINT_RESTORE only", CAP(CAP_CHECKPOINT_RESTORE), false,
	  false },
	{ "CAP_SYS_ADMIN only", CAP(CAP_SYS_ADMIN), false, false },
	{ "CAP_CHECKPOINT_RESTORE and CAP_SYS_ADMIN",
	  CAP(CAP_CHECKPOINT_RESTORE) | CAP(CAP_SYS_ADMIN), false, false },
	{ "CAP_NET_ADMIN and CAP_CHECKPOINT_RESTORE",
	  CAP(CAP_NET_ADMIN) | CAP(CAP_CHECKPOINT_RESTORE), false, true },
	{ "CAP_NET_ADMIN and CAP_SYS_ADMIN",
	  CAP(CAP_NET_ADMIN) | CAP(CAP_SYS_ADMIN), false, true },
};

enum mig_op { OP_FREEZE, OP_CHECKPOINT, OP_THAW, OP_RESTORE };

static const char * const op_names[] = {
	"MIGTCP_FREEZE", "MIGTCP_CHECKPOINT", "MIGTCP_THAW", "MIGTCP_RESTORE",
};

static int drop_to(const struct cap_profile *p)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	/* Leaving uid 0 for good clears every capability set. */
	if (p->nobody)
		return setgroups(0, NULL) ||
		       setresgid(NOBODY, NOBODY, NOBODY) ||
		       setresuid(NOBODY, NOBODY, NOBODY) ? -1 : 0;
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (__u32)p->caps;
	d[1].effective = d[1].permitted = (__u32)(p->caps >> 32);
	return syscall(SYS_capset, &h, d);
}

/*
 * Runs @op on @fd (MIGTCP_RESTORE: of @b) in a child process with the
 * capabilities of @p; the errno the child got, 0 if the option
 * succeeded, or -1 if the child could not be set up.
 */
static int op_as(const struct cap_profile *p, enum mig_op op, int fd,
		 const struct blob *b)
{
	struct blob got;
	int status, ret;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (drop_to(p))
			_exit(255);
		switch (op) {
		case OP_FREEZE:
			ret = freeze(fd, 0);
			break;
		case OP_CHECKPOINT:
			ret = checkpoint(fd, &got);
			break;
		case OP_THAW:
			ret = thaw(fd);
			break;
		default:
			ret = restore(fd, b->buf, b->len);
			break;
		}
		_exit(!ret ? 0 : errno > 0 && errno < 254 ? errno : 254);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	ret = WEXITSTATUS(status);
	return ret == 255 ? -1 : ret;
}

#define EXPECT_OP_AS(want, p, op, fd, b) do {				\
	const int __want = (want);					\
	const int __got = op_as(p, op, fd, b);				\
									\
	EXPECT_EQ(__want, __got)					\
		TH_LOG("%s with %s: %s, expected %s", op_names[op],	\
		       (p)->name, __got < 0 ? "child failed" :		\
		       errname(__got), errname(__want));		\
} while (0)

/*
 * Each option by a process without the privilege the ABI asks for fails
 * with EPERM and changes nothing: a socket it could not freeze is not
 * frozen, one it could not thaw still is, a socket it could not restore
 * is still a fresh one and the node sent nothing.  With CAP_NET_ADMIN and
 * either CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN, each succeeds.  The
 * connection carries data after every round.
 */
TEST_F(cluster, migration_needs_privilege)
{
	struct sockaddr_mig fresh, unbound;
	struct blob cb, ub;
	int cfd, afd, u, r;
	long out_ctl, out_segs;
	unsigned int i;
	int socks;

	CONNECT_PAIR(&cfd, &afd);
	u = mig_socket(self->family, 0);
	ASSERT_LE(0, u);
	unbound = name_of(u, false);
	freeze_checkpoint(_metadata, u, 0, &ub);
	ASSERT_EQ(0, thaw(u));
	freeze_checkpoint(_metadata, cfd, 0, &cb);
	ASSERT_EQ(0, thaw(cfd));
	exchange(_metadata, cfd, afd, 10, 100);

	for (i = 0; i < ARRAY_SIZE(cap_profiles); i++) {
		const struct cap_profile *p = &cap_profiles[i];
		const int want = p->allowed ? 0 : EPERM;

		TH_LOG("%s: %s", p->name, p->allowed ? "allowed" : "EPERM");
		EXPECT_OP_AS(want, p, OP_FREEZE, cfd, NULL);
		if (p->allowed) {
			ASSERT_FAILS_WITH(EALREADY, freeze(cfd, 0));
		} else {
			/* Not frozen: there is nothing to thaw. */
			ASSERT_FAILS_WITH(EINVAL, thaw(cfd));
			ASSERT_EQ(0, freeze(cfd, 0));
		}
		EXPECT_OP_AS(want, p, OP_CHECKPOINT, cfd, NULL);
		EXPECT_OP_AS(want, p, OP_THAW, cfd, NULL);
		if (p->allowed) {
			ASSERT_FAILS_WITH(EINVAL, thaw(cfd));
		} else {
			/* Still frozen. */
			ASSERT_FAILS_WITH(EALREADY, freeze(cfd, 0));
			ASSERT_EQ(0, thaw(cfd));
		}

		/*
		 * Node 2 is quiet from here on once it acknowledged the
		 * thaw's LOCATION-UPDATE and has nothing to send again.
		 */
		exchange(_metadata, cfd, afd, 20 + 2 * i, 1000);
		ASSERT_TRUE(wait_ctl_acked(cfd, WAIT_MS));
		ASSERT_TRUE(wait_unacked(afd, WAIT_MS));

		/* Restores on node 2, where neither endpoint lives. */
		ON_NODE(NODE2);
		r = mig_socket(self->family, 0);
		ASSERT_LE(0, r);
		fresh = name_of(r, false);
		socks = sockets_on(self, NODE2);
		out_ctl = stat_of(self, NODE2, "OutCtl");
		out_segs = stat_of(self, NODE2, "OutSegs");
		if (p->allowed) {
			EXPECT_OP_AS(0, p, OP_RESTORE, r, &ub);
			fresh = name_of(r, false);
			EXPECT_TRUE(addr_eq(&unbound, &fresh))
				TH_LOG("the restored socket is not the unbound one");
		} else {
			EXPECT_OP_AS(EPERM, p, OP_RESTORE, r, &cb);
			EXPECT_OP_AS(EPERM, p, OP_RESTORE, r, &ub);
			EXPECT_TRUE(addr_eq(&fresh, &unbound));
			EXPECT_EQ(socks, sockets_on(self, NODE2));
			EXPECT_EQ(out_ctl, stat_of(self, NODE2, "OutCtl"));
			EXPECT_EQ(out_segs, stat_of(self, NODE2, "OutSegs"));
		}
		close(r);
		exchange(_metadata, cfd, afd, 40 + 2 * i, 1000);
	}
	blob_free(&cb);
	blob_free(&ub);
	close(u);
	close(cfd);
	close(afd);
}

/*
 * Errors.
 */

/* MIGTCP_CHECKPOINT of @fd into a buffer of 64 KiB: 0, or -1 and errno. */
static int checkpoint_big(int fd)
{
	static __u8 buf[64 * 1024];
	socklen_t len = sizeof(buf);

	return getsockopt(fd, SOL_MIGTCP, MIGTCP_CHECKPOINT, buf, &len);
}

/*
 * MIGTCP_CHECKPOINT of a socket that is not frozen fails with EINVAL:
 * connected, listening, unbound, and one frozen and thawed again.
 */
TEST_F(cluster, checkpoint_not_frozen)
{
	int cfd, afd, u;

	CONNECT_PAIR(&cfd, &afd);
	u = mig_socket(self->family, 0);
	ASSERT_LE(0, u);
	ASSERT_FAILS_WITH(EINVAL, checkpoint_big(cfd));
	ASSERT_FAILS_WITH(EINVAL, checkpoint_big(afd));
	ASSERT_FAILS_WITH(EINVAL, checkpoint_big(self->lfd));
	ASSERT_FAILS_WITH(EINVAL, checkpoint_big(u));
	ASSERT_EQ(0, freeze(cfd, 0));
	ASSERT_EQ(0, checkpoint_big(cfd));
	ASSERT_EQ(0, thaw(cfd));
	ASSERT_FAILS_WITH(EINVAL, checkpoint_big(cfd));
	exchange(_metadata, cfd, afd, 30, 1000);
	close(u);
	close(cfd);
	close(afd);
}

/* MIGTCP_THAW of a socket that is not frozen fails with EINVAL. */
TEST_F(cluster, thaw_not_frozen)
{
	int cfd, afd, u;

	CONNECT_PAIR(&cfd, &afd);
	u = mig_socket(self->family, 0);
	ASSERT_LE(0, u);
	ASSERT_FAILS_WITH(EINVAL, thaw(cfd));
	ASSERT_FAILS_WITH(EINVAL, thaw(self->lfd));
	ASSERT_FAILS_WITH(EINVAL, thaw(u));
	ASSERT_EQ(0, freeze(cfd, 0));
	ASSERT_EQ(0, thaw(cfd));
	ASSERT_FAILS_WITH(EINVAL, thaw(cfd));
	exchange(_metadata, cfd, afd, 40, 1000);
	close(u);
	close(cfd);
	close(afd);
}

/*
 * MIGTCP_FREEZE of a frozen socket fails with EALREADY, whatever kind of
 * socket; the first freeze stays in force and one thaw undoes it.
 */
TEST_F(cluster, freeze_twice)
{
	int cfd, afd, u, i;
	int fds[3];

	CONNECT_PAIR(&cfd, &afd);
	u = mig_socket(self->family, 0);
	ASSERT_LE(0, u);
	fds[0] = cfd;
	fds[1] = self->lfd;
	fds[2] = u;
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, freeze(fds[i], 0));
		ASSERT_FAILS_WITH(EALREADY, freeze(fds[i], 0));
		ASSERT_FAILS_WITH(EALREADY, freeze(fds[i], 5000));
		ASSERT_EQ(0, checkpoint_big(fds[i]));
		ASSERT_EQ(0, thaw(fds[i]));
		ASSERT_FAILS_WITH(EINVAL, thaw(fds[i]));
	}
	exchange(_metadata, cfd, afd, 50, 1000);
	close(u);
	close(cfd);
	close(afd);
}

/*
 * A connection still in its handshake cannot be frozen: EAGAIN.  (Node 3
 * is a peer of node 1 where no host answers, so the SYN stays
 * unanswered.)
 */
TEST_F(cluster, freeze_during_handshake)
{
	int fd;

	ON_NODE(NODE1);
	fd = mig_socket(self->family, SOCK_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_FAILS_WITH(EINPROGRESS, connect_to(fd, self->family,
						  NODE_BLACKHOLE, PORT));
	ASSERT_FAILS_WITH(EAGAIN, freeze(fd, 0));
	ASSERT_FAILS_WITH(EINVAL, thaw(fd));
	close(fd);
}

/*
 * MIGTCP_RESTORE, even of a valid checkpoint, on a socket that is bound,
 * listening or connected fails with EISCONN and leaves it as it was.
 */
TEST_F(cluster, restore_on_used_socket)
{
	struct sockaddr_mig before, after;
	struct blob ub;
	int cfd, afd, u, b, afd2, cfd2;

	CONNECT_PAIR(&cfd, &afd);
	u = mig_socket(self->family, 0);
	ASSERT_LE(0, u);
	freeze_checkpoint(_metadata, u, 0, &ub);
	ASSERT_EQ(0, thaw(u));

	b = mig_socket(self->family, 0);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, bind_to(b, self->family, 0, PORT + 1));
	before = name_of(b, false);
	ASSERT_FAILS_WITH(EISCONN, restore(b, ub.buf, ub.len));
	after = name_of(b, false);
	EXPECT_TRUE(addr_eq(&before, &after)) TH_LOG("the bound socket moved");
	EXPECT_EQ(NODE1, after.smig_node);
	EXPECT_EQ(htons(PORT + 1), after.smig_port);

	ASSERT_FAILS_WITH(EISCONN, restore(cfd, ub.buf, ub.len));
	ASSERT_FAILS_WITH(EISCONN, restore(afd, ub.buf, ub.len));
	exchange(_metadata, cfd, afd, 60, 1000);

	/* Node 2's listener still takes connections. */
	ON_NODE(NODE2);
	ASSERT_FAILS_WITH(EISCONN, restore(self->lfd, ub.buf, ub.len));
	EXPECT_EQ(PORT, local_port(self->lfd));
	cfd2 = -1;
	connect_pair(_metadata, self, &cfd2, &afd2);
	exchange(_metadata, cfd2, afd2, 62, 1000);

	blob_free(&ub);
	close(cfd2);
	close(afd2);
	close(b);
	close(u);
	close(cfd);
	close(afd);
}

/* The options of @fd that a restore sets, read back. */
struct restored_opts {
	int keepalive, sndbuf, rcvbuf, nodelay;
};

static void read_restored_opts(struct __test_metadata *_metadata, int fd,
			       struct restored_opts *o)
{
	socklen_t len = sizeof(int);

	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &o->keepalive, &len));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, &len));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, &len));
	ASSERT_EQ(0, getsockopt(fd, SOL_MIGTCP, MIGTCP_NODELAY, &o->nodelay,
				&len));
}

/*
 * A checkpoint restored on the node where its endpoint still lives
 * (frozen or thawed) fails with EADDRINUSE: a bound socket and a
 * connection.  The fresh socket stays fresh, with the options it had
 * (the blob's, set before the identity is taken, are undone), and the
 * original works.
 */
TEST_F(cluster, restore_where_endpoint_lives)
{
	struct sockaddr_mig fresh_name, name, after;
	struct restored_opts before_opts, after_opts;
	int cfd, afd, b, fresh, one = 1, big = 400000, small = 20000;
	struct blob bb, cb;

	CONNECT_PAIR(&cfd, &afd);
	/* The blob's options differ from the fresh socket's. */
	ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)));
	ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)));
	ASSERT_EQ(0, setsockopt(cfd, SOL_MIGTCP, MIGTCP_NODELAY, &one,
				sizeof(one)));
	b = mig_socket(self->family, 0);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, bind_to(b, self->family, 0, PORT + 2));
	name = name_of(b, false);
	freeze_checkpoint(_metadata, b, 0, &bb);
	freeze_checkpoint(_metadata, cfd, 0, &cb);

	fresh = mig_socket(self->family, 0);
	ASSERT_LE(0, fresh);
	ASSERT_EQ(0, setsockopt(fresh, SOL_SOCKET, SO_RCVBUF, &small,
				sizeof(small)));
	read_restored_opts(_metadata, fresh, &before_opts);
	fresh_name = name_of(fresh, false);
	/* Frozen... */
	ASSERT_FAILS_WITH(EADDRINUSE, restore(fresh, bb.buf, bb.len));
	ASSERT_FAILS_WITH(EADDRINUSE, restore(fresh, cb.buf, cb.len));
	ASSERT_EQ(0, thaw(b));
	ASSERT_EQ(0, thaw(cfd));
	/* ...and thawed. */
	ASSERT_FAILS_WITH(EADDRINUSE, restore(fresh, bb.buf, bb.len));
	ASSERT_FAILS_WITH(EADDRINUSE, restore(fresh, cb.buf, cb.len));
	after = name_of(fresh, false);
	EXPECT_TRUE(addr_eq(&fresh_name, &after))
		TH_LOG("the socket a restore failed on changed");
	EXPECT_EQ(0, after.smig_port);
	read_restored_opts(_metadata, fresh, &after_opts);
	EXPECT_EQ(before_opts.keepalive, after_opts.keepalive);
	EXPECT_EQ(before_opts.sndbuf, after_opts.sndbuf);
	EXPECT_EQ(before_opts.rcvbuf, after_opts.rcvbuf);
	EXPECT_EQ(before_opts.nodelay, after_opts.nodelay);
	after = name_of(b, false);
	EXPECT_TRUE(addr_eq(&name, &after));
	EXPECT_EQ(NODE1, after.smig_node);
	EXPECT_EQ(htons(PORT + 2), after.smig_port);
	exchange(_metadata, cfd, afd, 64, 1000);
	blob_free(&bb);
	blob_free(&cb);
	close(fresh);
	close(b);
	close(cfd);
	close(afd);
}

/*
 * MIGTCP_CHECKPOINT with a buffer too small fails with ERANGE and sets
 * *optlen to the exact size needed, however small the buffer (0, the
 * header, one byte short); with that size it succeeds and says so, and a
 * larger buffer gets the same size.  The header describes the blob.
 */
TEST_F(cluster, checkpoint_buffer_too_small)
{
	const struct migtcp_ckpt_hdr *h;
	socklen_t len, need;
	int cfd, afd;
	__u8 *buf;

	CONNECT_PAIR(&cfd, &afd);
	/* Unread data on both sides, so the blob has data records. */
	send_at(_metadata, afd, 70, 0, 3000);
	send_at(_metadata, cfd, 71, 0, 2000);
	ASSERT_TRUE(wait_inq(cfd, 3000, WAIT_MS));
	ASSERT_TRUE(wait_inq(afd, 2000, WAIT_MS));
	ASSERT_EQ(0, freeze(cfd, 0));

	buf = malloc(256 * 1024);
	ASSERT_NE(NULL, buf);
	len = 0;
	ASSERT_FAILS_WITH(ERANGE, getsockopt(cfd, SOL_MIGTCP,
					     MIGTCP_CHECKPOINT, buf, &len));
	need = len;
	ASSERT_LT(sizeof(struct migtcp_ckpt_hdr) +
		  sizeof(struct migtcp_ckpt_rec) + 3000, need)
		TH_LOG("a checkpoint of %u bytes cannot hold 3000 bytes of data",
		       need);
	len = sizeof(struct migtcp_ckpt_hdr);
	ASSERT_FAILS_WITH(ERANGE, getsockopt(cfd, SOL_MIGTCP,
					     MIGTCP_CHECKPOINT, buf, &len));
	EXPECT_EQ(need, len);
	len = need - 1;
	ASSERT_FAILS_WITH(ERANGE, getsockopt(cfd, SOL_MIGTCP,
					     MIGTCP_CHECKPOINT, buf, &len));
	EXPECT_EQ(need, len);

	len = need;
	ASSERT_EQ(0, getsockopt(cfd, SOL_MIGTCP, MIGTCP_CHECKPOINT, buf, &len))
		TH_LOG("with the size it asked for: %s", strerror(errno));
	EXPECT_EQ(need, len);
	h = (const void *)buf;
	EXPECT_EQ((__u32)MIGTCP_CKPT_MAGIC, h->magic);
	EXPECT_EQ(MIGTCP_CKPT_VERSION, (int)h->version);
	EXPECT_EQ((int)sizeof(*h), (int)h->hdr_len);
	EXPECT_EQ(need, h->total_len);
	EXPECT_EQ(1U, h->nr_recs);

	len = 256 * 1024;
	ASSERT_EQ(0, getsockopt(cfd, SOL_MIGTCP, MIGTCP_CHECKPOINT, buf, &len));
	EXPECT_EQ(need, len);
	EXPECT_EQ(need, h->total_len);

	ASSERT_EQ(0, thaw(cfd));
	EXPECT_TRUE(recv_at(_metadata, cfd, 70, 0, 3000));
	EXPECT_TRUE(recv_at(_metadata, afd, 71, 0, 2000));
	exchange(_metadata, cfd, afd, 72, 1000);
	free(buf);
	close(cfd);
	close(afd);
}

/*
 * Fuzz.
 *
 * Every blob the fuzz test hands to MIGTCP_RESTORE breaks at least one
 * of the rules below, which the ABI (include/uapi/linux/migtcp.h) states
 * or which follow from it for any strict reader; blob_invalid() checks
 * them and names the one broken.  A mutation that breaks none of them
 * (a flipped data byte, a window changed) might be valid, so it is never
 * sent: the random classes draw again, and the structured ones are
 * written to break a rule by construction (blob_invalid() proves it).
 * Every blob sent must then fail with EINVAL.
 *
 *  header   at least 16 bytes; magic, version 1, hdr_len 16, total_len
 *           the length given, nr_recs from 1 to MIGTCP_CKPT_MAX_RECS;
 *  records  exactly nr_recs records fill the rest, each at least 8 bytes
 *           with reserved 0; record 0 of several is a listener's, the
 *           others are connections;
 *  attributes  fill their record (or OFO nest) exactly; no type 0 or
 *           above the maximum (flags aside); the fixed-size types at
 *           their size; no scalar (anything but PAD, data and OFO) twice;
 *           no data chunk above MIGTCP_CKPT_CHUNK; an OFO chunk has its
 *           sequence number; no data in a socket that is not a
 *           connection;
 *  values   kind 0..3 and present; a TCP state 1..12, LISTEN for a
 *           listener, CLOSE for an unbound or bound socket, and for a
 *           connection one past the handshake; window scales up to 14;
 *           a connection's MSS not 0; a connection has its
 *           identities, key and sequence numbers, and exactly one peer
 *           address (PEER_ADDR_IN or PEER_ADDR_IN6); an IPv6 address
 *           (PEER_ADDR_IN6, HOST_ADDR_IN6) is global unicast: not in
 *           ::/96, not v4-mapped, multicast or link-local; in
 *           ESTABLISHED without a FIN queued, the send data is exactly
 *           WRITE_SEQ - SND_UNA bytes, SND_MAX lies in [SND_UNA,
 *           WRITE_SEQ] and the receive data is exactly RCV_NXT -
 *           COPIED_SEQ bytes.
 *
 * An attribute whose type carries NLA_F_NESTED or NLA_F_NET_BYTEORDER
 * (other than OFO's nest) may be read as its type or refused: such a
 * record is judged only by the rules that hold either way.
 */
#define FUZZ_ITERS	100000
#define FUZZ_SEED	0x6d6967746370ULL	/* "migtcp" */
#define FUZZ_MAX	(192 * 1024)	/* the longest blob a mutation makes */
#define FUZZ_REPORT	10		/* failures described in full */
#define FUZZ_GIVE_UP	50		/* failures before the loop stops */
#define FUZZ_PER_RULE	5		/* failures of one rule before its
					 * blobs are no longer sent
					 */

#define MAX_WSCALE	14
#define TCP_STATES	13		/* TCP_MAX_STATES */

#define CK(x)		MIGTCP_CKPT_A_##x

/* Payload size of each fixed-size attribute; 0: variable. */
static const __u8 attr_size[__MIGTCP_CKPT_A_MAX] = {
	[CK(KIND)] = 1, [CK(STATE)] = 1, [CK(LOCAL_NODE)] = 4,
	[CK(LOCAL_PORT)] = 2, [CK(REMOTE_NODE)] = 4, [CK(REMOTE_PORT)] = 2,
	[CK(PEER_ADDR_IN)] = 4, [CK(HOME_KEY)] = MIGTCP_KEY_LEN,
	[CK(EPOCH)] = 8, [CK(PEER_EPOCH)] = 8, [CK(CONN_KEY)] = 32,
	[CK(KX_PEER_FLAGS)] = 1, [CK(ISS)] = 4, [CK(IRS)] = 4,
	[CK(SND_UNA)] = 4, [CK(SND_MAX)] = 4, [CK(WRITE_SEQ)] = 4,
	[CK(SND_WND)] = 4, [CK(MAX_WINDOW)] = 4, [CK(SND_WL1)] = 4,
	[CK(SND_WSCALE)] = 1, [CK(RCV_WSCALE)] = 1, [CK(RCV_NXT)] = 4,
	[CK(COPIED_SEQ)] = 4, [CK(RCV_WUP)] = 4, [CK(RCV_WND)] = 4,
	[CK(FIN_QUEUED)] = 1, [CK(SHUTDOWN)] = 1, [CK(MSS)] = 2,
	[CK(PEER_MSS)] = 2, [CK(USER_MSS)] = 2, [CK(CWND)] = 4,
	[CK(SSTHRESH)] = 4, [CK(SRTT_US)] = 4, [CK(RTTVAR_US)] = 4,
	[CK(RTO_US)] = 4, [CK(RETRANS_AGE_MS)] = 4, [CK(IDLE_MS)] = 4,
	[CK(NODELAY)] = 1, [CK(CORK)] = 1, [CK(PINGPONG)] = 1,
	[CK(KEEPALIVE)] = 1, [CK(KEEPIDLE)] = 4, [CK(KEEPINTVL)] = 4,
	[CK(KEEPCNT)] = 4, [CK(USER_TIMEOUT)] = 4, [CK(SNDBUF)] = 4,
	[CK(RCVBUF)] = 4, [CK(BUF_LOCKS)] = 1, [CK(BACKLOG)] = 4,
	[CK(BYTES_SENT)] = 8, [CK(BYTES_ACKED)] = 8,
	[CK(BYTES_RECEIVED)] = 8, [CK(TOTAL_RETRANS)] = 4,
	[CK(HOST_ADDR_IN)] = 4, [CK(HS_PROOF)] = MIGTCP_HSMAC_LEN,
	[CK(MARK)] = 4, [CK(PRIORITY)] = 4, [CK(KX_HALF)] = MIGTCP_KX_HALF_LEN,
	[CK(PEER_ADDR_IN6)] = 16, [CK(HOST_ADDR_IN6)] = 16,
};

static bool is_scalar(__u16 t)
{
	return t != CK(PAD) && t != CK(SND_DATA) && t != CK(RCV_DATA) &&
	       t != CK(OFO);
}

/* What a connection's record cannot do without. */
static const __u16 conn_needs[] = {
	CK(STATE), CK(LOCAL_NODE), CK(LOCAL_PORT), CK(REMOTE_NODE),
	CK(REMOTE_PORT), CK(CONN_KEY), CK(SND_UNA), CK(SND_MAX),
	CK(WRITE_SEQ), CK(RCV_NXT), CK(COPIED_SEQ),
};

/* What one record's attribute walk found (flagged attributes aside). */
struct rec_facts {
	unsigned int count[__MIGTCP_CKPT_A_MAX];
	__u64 value[__MIGTCP_CKPT_A_MAX];	/* of the fixed-size ones */
	bool flagged;
	bool bad_addr6;		/* an IPv6 address migtcp_addr6_usable() refuses */
	__u64 snd_bytes, rcv_bytes;
};

/*
 * Whether the kernel takes @a as a node's IPv6 address (module/migtcp.h,
 * migtcp_addr6_usable()): not in ::/96 (::, ::1, IPv4-compatible), not
 * v4-mapped (::ffff:0:0/96), multicast (ff00::/8) or link-local
 * (fe80::/10).
 */
static bool addr6_usable(const __u8 *a)
{
	static const __u8 zero[12], mapped[12] = {
		[10] = 0xff, [11] = 0xff,
	};

	return memcmp(a, zero, 12) && memcmp(a, mapped, 12) && a[0] != 0xff &&
	       !(a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

static __u64 attr_uint(const struct nlattr *attr)
{
	switch (mnl_attr_get_payload_len(attr)) {
	case 1:
		return mnl_attr_get_u8(attr);
	case 2:
		return mnl_attr_get_u16(attr);
	case 4:
		return mnl_attr_get_u32(attr);
	case 8:
		return mnl_attr_get_u64(attr);
	}
	return 0;
}

static const char *ofo_invalid(const struct nlattr *nest)
{
	unsigned int count[__MIGTCP_CKPT_OFO_A_MAX] = { 0 };
	const struct nlattr *attr;
	bool flagged = false;
	const char *end;

	mnl_attr_for_each_nested(attr, nest) {
		__u16 t = mnl_attr_get_type(attr);
		__u16 len = mnl_attr_get_payload_len(attr);

		if (t == 0 || t > MIGTCP_CKPT_OFO_A_MAX)
			return "an out-of-order chunk with an attribute of unknown type";
		if (attr->nla_type & ~NLA_TYPE_MASK) {
			flagged = true;
			continue;
		}
		if ((t == MIGTCP_CKPT_OFO_A_SEQ && len != 4) ||
		    (t == MIGTCP_CKPT_OFO_A_FIN && len != 1))
			return "an out-of-order chunk with an attribute of the wrong length";
		if (count[t]++)
			return "an out-of-order chunk with an attribute twice";
		if (t == MIGTCP_CKPT_OFO_A_DATA && len > MIGTCP_CKPT_CHUNK)
			return "an out-of-order chunk larger than MIGTCP_CKPT_CHUNK";
	}
	end = (const char *)mnl_attr_get_payload(nest) +
	      mnl_attr_get_payload_len(nest);
	if ((const char *)attr < end)
		return "bytes after the last attribute of an out-of-order chunk";
	if (!flagged && !count[MIGTCP_CKPT_OFO_A_SEQ])
		return "an out-of-order chunk without its sequence number";
	return NULL;
}

/* Rules on the values of one record, given what its walk found. */
static const char *rec_values_invalid(const struct rec_facts *f,
				      unsigned int idx, unsigned int nr)
{
	const __u64 *v = f->value;
	int kind = f->count[CK(KIND)] ? (int)v[CK(KIND)] : -1;
	unsigned int i;

	if (kind > MIGTCP_CKPT_CONN)
		return "a kind out of range";
	if (f->count[CK(STATE)]) {
		__u64 st = v[CK(STATE)];

		if (st == 0 || st >= TCP_STATES)
			return "a state out of range";
		if (kind == MIGTCP_CKPT_CONN &&
		    (st == 2 || st == 3 || st == TCP_LISTEN_ || st == 12))
			return "a connection in a state before its handshake ended";
		if (kind == MIGTCP_CKPT_LISTENER && st != TCP_LISTEN_)
			return "a listener not in LISTEN";
		if ((kind == MIGTCP_CKPT_UNBOUND || kind == MIGTCP_CKPT_BOUND) &&
		    st != TCP_CLOSE_)
			return "an unconnected socket not in CLOSE";
	}
	if ((f->count[CK(SND_WSCALE)] && v[CK(SND_WSCALE)] > MAX_WSCALE) ||
	    (f->count[CK(RCV_WSCALE)] && v[CK(RCV_WSCALE)] > MAX_WSCALE))
		return "a window scale above 14";
	/* (A peer MSS of 0 says that the peer announced none.) */
	if (kind == MIGTCP_CKPT_CONN && f->count[CK(MSS)] && !v[CK(MSS)])
		return "a connection with an MSS of 0";
	if (kind >= 0 && idx == 0 && nr > 1 && kind != MIGTCP_CKPT_LISTENER)
		return "records after one that is not a listener";
	if (kind >= 0 && idx > 0 && kind != MIGTCP_CKPT_CONN)
		return "an accept queue entry that is not a connection";
	if (kind >= 0 && kind != MIGTCP_CKPT_CONN &&
	    (f->count[CK(SND_DATA)] || f->count[CK(RCV_DATA)] ||
	     f->count[CK(OFO)]))
		return "data in a socket that is not a connection";
	if (f->bad_addr6)
		return "an IPv6 address that is not global unicast";
	if (kind == MIGTCP_CKPT_CONN && f->count[CK(PEER_ADDR_IN)] &&
	    f->count[CK(PEER_ADDR_IN6)])
		return "a connection with an IPv4 and an IPv6 peer address";

	/* Absence and sums: a flagged attribute might fill the gap. */
	if (f->flagged)
		return NULL;
	if (kind < 0)
		return "a record without its kind";
	if (kind == MIGTCP_CKPT_CONN)
		for (i = 0; i < ARRAY_SIZE(conn_needs); i++)
			if (!f->count[conn_needs[i]])
				return "a connection without an identity, key or sequence number";
	if (kind == MIGTCP_CKPT_CONN && !f->count[CK(PEER_ADDR_IN)] &&
	    !f->count[CK(PEER_ADDR_IN6)])
		return "a connection without a peer address";
	if ((kind == MIGTCP_CKPT_LISTENER || kind == MIGTCP_CKPT_BOUND) &&
	    !f->count[CK(LOCAL_PORT)])
		return "a bound socket without its port";
	if (kind == MIGTCP_CKPT_CONN && v[CK(STATE)] == TCP_ESTABLISHED_ &&
	    !v[CK(FIN_QUEUED)]) {
		__u32 una = v[CK(SND_UNA)], wseq = v[CK(WRITE_SEQ)];
		__u32 smax = v[CK(SND_MAX)];
		__u32 nxt = v[CK(RCV_NXT)], copied = v[CK(COPIED_SEQ)];

		if ((__u32)(wseq - una) != f->snd_bytes)
			return "send data not WRITE_SEQ - SND_UNA bytes";
		if ((__u32)(smax - una) > (__u32)(wseq - una))
			return "SND_MAX outside [SND_UNA, WRITE_SEQ]";
		if ((__u32)(nxt - copied) != f->rcv_bytes)
			return "receive data not RCV_NXT - COPIED_SEQ bytes";
	}
	return NULL;
}

static const char *rec_invalid(const void *p, size_t len, unsigned int idx,
			       unsigned int nr)
{
	static struct rec_facts f;
	const struct nlattr *attr;
	const char *why;

	memset(&f, 0, sizeof(f));
	mnl_attr_for_each_payload(p, len) {
		__u16 t = mnl_attr_get_type(attr);
		__u16 plen = mnl_attr_get_payload_len(attr);

		if (t == 0 || t > MIGTCP_CKPT_A_MAX)
			return "an attribute of unknown type";
		if (t == CK(OFO)) {
			why = ofo_invalid(attr);
			if (why)
				return why;
			f.count[t]++;
			continue;
		}
		if (attr->nla_type & ~NLA_TYPE_MASK) {
			f.flagged = true;
			continue;
		}
		if (attr_size[t] && plen != attr_size[t])
			return "an attribute of the wrong length";
		if (is_scalar(t) && f.count[t])
			return "a scalar attribute twice";
		if ((t == CK(SND_DATA) || t == CK(RCV_DATA)) &&
		    plen > MIGTCP_CKPT_CHUNK)
			return "a data chunk larger than MIGTCP_CKPT_CHUNK";
		if (t == CK(SND_DATA))
			f.snd_bytes += plen;
		if (t == CK(RCV_DATA))
			f.rcv_bytes += plen;
		if (attr_size[t])
			f.value[t] = attr_uint(attr);
		if ((t == CK(PEER_ADDR_IN6) || t == CK(HOST_ADDR_IN6)) &&
		    !addr6_usable(mnl_attr_get_payload(attr)))
			f.bad_addr6 = true;
		f.count[t]++;
	}
	if ((const char *)attr < (const char *)p + len)
		return "bytes after the last attribute of a record";
	return rec_values_invalid(&f, idx, nr);
}

/* The rule @b breaks, or NULL if none of them can be shown broken. */
static const char *blob_invalid(const __u8 *b, size_t len)
{
	struct migtcp_ckpt_hdr h;
	struct migtcp_ckpt_rec r;
	const char *why;
	size_t off;
	__u32 i;

	if (len < sizeof(h))
		return "shorter than the header";
	memcpy(&h, b, sizeof(h));
	if (h.magic != MIGTCP_CKPT_MAGIC)
		return "wrong magic";
	if (h.version != MIGTCP_CKPT_VERSION)
		return "wrong version";
	if (h.hdr_len != sizeof(h))
		return "hdr_len not 16";
	if (h.total_len != len)
		return "total_len not the length given";
	if (h.nr_recs == 0 || h.nr_recs > MIGTCP_CKPT_MAX_RECS)
		return "nr_recs out of range";
	off = sizeof(h);
	for (i = 0; i < h.nr_recs; i++) {
		if (len - off < sizeof(r))
			return "fewer records than nr_recs";
		memcpy(&r, b + off, sizeof(r));
		if (r.len < sizeof(r) || r.len > len - off)
			return "a record length out of bounds";
		if (r.reserved)
			return "a record's reserved field not 0";
		why = rec_invalid(b + off + sizeof(r), r.len - sizeof(r), i,
				  h.nr_recs);
		if (why)
			return why;
		off += r.len;
	}
	if (off != len)
		return "bytes after the last record";
	return NULL;
}

/* The fuzzer's random numbers: splitmix64, one stream per iteration. */
static __u64 rng_state;

static __u64 rnd(void)
{
	__u64 x = rng_state;

	rng_state += 0x9e3779b97f4a7c15ULL;
	return splitmix64(x);
}

static __u32 below(__u32 n)
{
	return n ? rnd() % n : 0;
}

static void rnd_fill(__u8 *p, size_t len)
{
	size_t i;
	__u64 w = 0;

	for (i = 0; i < len; i++) {
		if (!(i & 7))
			w = rnd();
		p[i] = w >> (8 * (i & 7));
	}
}

/* A valid checkpoint the mutations start from. */
struct fuzz_src {
	const char *name;
	struct blob b;
	struct ckpt_model m;
	unsigned int weight;	/* how often it is picked, in 1/100 */
	size_t *hot;		/* offsets of header and scalar bytes */
	size_t nhot;
};

enum fuzz_class {
	FZ_RANDOM,		/* (a) random bytes */
	FZ_RANDOM_ATTRS,	/* (a) a valid header, random attributes */
	FZ_HEADER,		/* (b) a header field changed */
	FZ_BYTES,		/* (c) bytes flipped, cut off, added */
	FZ_STRUCT,		/* (d) one rule broken on purpose */
	FZ_CLASSES
};

static const char * const fuzz_class_names[] = {
	"random bytes", "random attributes", "header fields",
	"flips, truncations, extensions", "structured",
};

/* Iterations of each class in 100. */
static const unsigned int fuzz_class_share[FZ_CLASSES] = { 12, 13, 10, 40, 25 };

struct fuzz {
	struct fuzz_src *src;
	unsigned int nsrc;
	__u8 *out;
	size_t len;
	char desc[256];
	const char *why;
	/* a model being changed, and room for the payloads it points to */
	struct ckpt_model m;
	__u8 *arena;
	size_t arena_used;
	unsigned int redraws, fallbacks;
};

#define ARENA_SIZE	(96 * 1024)

static void *arena_get(struct fuzz *fz, size_t len)
{
	void *p;

	if (fz->arena_used + len > ARENA_SIZE)
		return NULL;
	p = fz->arena + fz->arena_used;
	fz->arena_used += len;
	return p;
}

static struct fuzz_src *pick_src(struct fuzz *fz)
{
	unsigned int r = below(100), i, acc = 0;

	for (i = 0; i < fz->nsrc; i++) {
		acc += fz->src[i].weight;
		if (r < acc)
			return &fz->src[i];
	}
	return &fz->src[0];
}

static void set_out(struct fuzz *fz, const struct blob *b)
{
	memcpy(fz->out, b->buf, b->len);
	fz->len = b->len;
}

/* (a): random bytes of a random length; never the magic. */
static void fz_random(struct fuzz *fz)
{
	__u32 magic;

	fz->len = below(8) ? below(4097) : below(16385);
	rnd_fill(fz->out, fz->len);
	if (fz->len >= 4) {
		memcpy(&magic, fz->out, 4);
		if (magic == MIGTCP_CKPT_MAGIC)
			fz->out[0] ^= 1;
	}
	snprintf(fz->desc, sizeof(fz->desc), "%zu random bytes", fz->len);
}

/* A random attribute: any type, flags now and then, random payload. */
static void put_random_attr(struct nlmsghdr *nlh)
{
	__u8 payload[48];
	__u16 type, len;

	type = below(2) ? below(__MIGTCP_CKPT_A_MAX + 4) :
			  1 + below(MIGTCP_CKPT_A_MAX);
	if (!below(10))
		type |= below(2) ? NLA_F_NESTED : NLA_F_NET_BYTEORDER;
	len = type < __MIGTCP_CKPT_A_MAX && attr_size[type] && below(2) ?
	      attr_size[type] : below(sizeof(payload));
	rnd_fill(payload, len);
	mnl_attr_put(nlh, type, len, payload);
}

/* (a): a valid header and records of random attributes. */
static bool fz_random_attrs(struct fuzz *fz)
{
	static __u8 nlbuf[8192];
	struct migtcp_ckpt_hdr h = {
		.magic = MIGTCP_CKPT_MAGIC, .version = MIGTCP_CKPT_VERSION,
		.hdr_len = sizeof(h),
	};
	size_t off = sizeof(h);
	unsigned int i, j, n;

	h.nr_recs = 1 + below(3);
	for (i = 0; i < h.nr_recs; i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(nlbuf);
		struct migtcp_ckpt_rec r = { 0 };
		size_t plen;

		n = below(32);
		for (j = 0; j < n; j++)
			put_random_attr(nlh);
		plen = nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
		r.len = sizeof(r) + plen;
		memcpy(fz->out + off, &r, sizeof(r));
		memcpy(fz->out + off + sizeof(r), mnl_nlmsg_get_payload(nlh),
		       plen);
		off += r.len;
	}
	h.total_len = off;
	memcpy(fz->out, &h, sizeof(h));
	fz->len = off;
	snprintf(fz->desc, sizeof(fz->desc),
		 "%u records of random attributes, %zu bytes", h.nr_recs, off);
	return true;
}

/* A value for a 32-bit field that is not @avoid. */
static __u32 other_u32(__u32 avoid)
{
	static const __u32 edges[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff };
	__u32 v;

	switch (below(4)) {
	case 0:
		v = edges[below(ARRAY_SIZE(edges))];
		break;
	case 1:
		v = avoid + (below(2) ? 1 : -1);
		break;
	case 2:
		v = avoid ^ (1U << below(32));
		break;
	default:
		v = rnd();
		break;
	}
	return v == avoid ? avoid + 1 : v;
}

static __u16 other_u16(__u16 avoid)
{
	__u16 v = below(2) ? (__u16)other_u32(avoid) : avoid ^ (1U << below(16));

	return v == avoid ? avoid + 1 : v;
}

/* (b): one field of a valid blob's header changed. */
static void fz_header(struct fuzz *fz, struct fuzz_src *s)
{
	struct migtcp_ckpt_hdr h;
	const char *field;
	__u64 was, now;

	set_out(fz, &s->b);
	memcpy(&h, fz->out, sizeof(h));
	switch (below(5)) {
	case 0:
		field = "magic";
		was = h.magic;
		h.magic = other_u32(h.magic);
		now = h.magic;
		break;
	case 1:
		field = "version";
		was = h.version;
		h.version = other_u16(h.version);
		now = h.version;
		break;
	case 2:
		field = "hdr_len";
		was = h.hdr_len;
		h.hdr_len = other_u16(h.hdr_len);
		now = h.hdr_len;
		break;
	case 3:
		field = "total_len";
		was = h.total_len;
		h.total_len = other_u32(h.total_len);
		now = h.total_len;
		break;
	default:
		field = "nr_recs";
		was = h.nr_recs;
		h.nr_recs = below(2) ? other_u32(h.nr_recs) :
			    below(2) ? h.nr_recs + 1 : h.nr_recs - 1;
		if (h.nr_recs == was)
			h.nr_recs++;
		now = h.nr_recs;
		break;
	}
	memcpy(fz->out, &h, sizeof(h));
	snprintf(fz->desc, sizeof(fz->desc), "%s: %s %#llx -> %#llx", s->name,
		 field, (unsigned long long)was, (unsigned long long)now);
}

/* Offsets of record @i of the blob in fz->out: its header, its end. */
static bool rec_bounds(const __u8 *b, size_t len, unsigned int i,
		       size_t *start, size_t *end)
{
	size_t off = sizeof(struct migtcp_ckpt_hdr);
	struct migtcp_ckpt_rec r;
	unsigned int k;

	for (k = 0;; k++) {
		if (off + sizeof(r) > len)
			return false;
		memcpy(&r, b + off, sizeof(r));
		if (r.len < sizeof(r) || r.len > len - off)
			return false;
		if (k == i) {
			*start = off;
			*end = off + r.len;
			return true;
		}
		off += r.len;
	}
}

static void hdr_add(__u8 *b, size_t field, __s64 delta)
{
	__u32 v;

	memcpy(&v, b + field, 4);
	v += delta;
	memcpy(b + field, &v, 4);
}

#define TOTAL_LEN_OFF	offsetof(struct migtcp_ckpt_hdr, total_len)
#define NR_RECS_OFF	offsetof(struct migtcp_ckpt_hdr, nr_recs)

/*
 * (c): bytes flipped (anywhere, or in the header and scalar bytes),
 * the blob cut or extended, with or without the header and the last
 * record's length made to agree.
 */
static void fz_bytes_once(struct fuzz *fz, struct fuzz_src *s)
{
	static const char * const fixes[] = {
		"", ", total_len fixed", ", total_len and the record fixed",
	};
	size_t start, end, pos, cut, k, i;
	unsigned int fix, rec;
	int n;

	set_out(fz, &s->b);
	switch (below(3)) {
	case 0:
		k = 1 + below(4);
		n = snprintf(fz->desc, sizeof(fz->desc), "%s: flip", s->name);
		for (i = 0; i < k; i++) {
			__u8 x = 1 + below(255);

			pos = below(2) ? below(fz->len) : s->hot[below(s->nhot)];
			fz->out[pos] ^= x;
			n += snprintf(fz->desc + n, sizeof(fz->desc) - n,
				      " [%zu]^=%#x", pos, x);
		}
		return;
	case 1:
		cut = below(fz->len);
		fix = below(3);
		fz->len = cut;
		if (fix >= 1 && cut >= sizeof(struct migtcp_ckpt_hdr))
			hdr_add(fz->out, TOTAL_LEN_OFF, (__s64)cut - s->b.len);
		/* The record the cut falls in ends there, and is the last. */
		for (rec = 0; fix == 2 && rec < s->m.nr; rec++) {
			if (!rec_bounds(s->b.buf, s->b.len, rec, &start, &end) ||
			    cut < start + sizeof(struct migtcp_ckpt_rec) ||
			    cut >= end)
				continue;
			hdr_add(fz->out, start, (__s64)cut - end);
			hdr_add(fz->out, NR_RECS_OFF, (__s64)rec + 1 - s->m.nr);
		}
		snprintf(fz->desc, sizeof(fz->desc), "%s: cut to %zu of %zu bytes%s",
			 s->name, cut, s->b.len, fixes[fix]);
		return;
	default:
		if (below(2)) {
			k = 1 + below(64);
			rnd_fill(fz->out + fz->len, k);
		} else {
			static __u8 nlbuf[256];
			struct nlmsghdr *nlh = mnl_nlmsg_put_header(nlbuf);

			put_random_attr(nlh);
			k = nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
			memcpy(fz->out + fz->len, mnl_nlmsg_get_payload(nlh), k);
		}
		fz->len += k;
		fix = below(3);
		if (fix >= 1)
			hdr_add(fz->out, TOTAL_LEN_OFF, k);
		if (fix == 2 &&
		    rec_bounds(s->b.buf, s->b.len, s->m.nr - 1, &start, &end))
			hdr_add(fz->out, start, k);
		snprintf(fz->desc, sizeof(fz->desc), "%s: %zu bytes added%s",
			 s->name, k, fixes[fix]);
		return;
	}
}

/* A structured mutation: false if it does not apply to the source. */
typedef bool (*mutator)(struct fuzz *fz, struct fuzz_src *s);

static void model_copy(struct ckpt_model *to, const struct ckpt_model *from)
{
	unsigned int i;

	to->nr = from->nr;
	for (i = 0; i < from->nr; i++) {
		to->rec[i].n = from->rec[i].n;
		memcpy(to->rec[i].a, from->rec[i].a,
		       from->rec[i].n * sizeof(from->rec[i].a[0]));
	}
}

static int rec_kind(struct ckpt_rec *rec)
{
	return model_uint(rec, CK(KIND), 0xff);
}

/* A random record of the working model, of kind @kind (-1: any). */
static struct ckpt_rec *pick_rec(struct fuzz *fz, int kind,
				 unsigned int *idx)
{
	unsigned int i, n = 0, pick;

	*idx = 0;
	for (i = 0; i < fz->m.nr; i++)
		n += kind < 0 || rec_kind(&fz->m.rec[i]) == kind;
	if (!n)
		return NULL;
	pick = below(n);
	for (i = 0; i < fz->m.nr; i++) {
		if (kind >= 0 && rec_kind(&fz->m.rec[i]) != kind)
			continue;
		if (!pick--) {
			*idx = i;
			return &fz->m.rec[i];
		}
	}
	return NULL;
}

static bool insert_attr(struct ckpt_rec *rec, unsigned int at, __u16 type,
			__u16 len, const void *data)
{
	if (rec->n == MODEL_ATTRS || at > rec->n)
		return false;
	memmove(&rec->a[at + 1], &rec->a[at],
		(rec->n - at) * sizeof(rec->a[0]));
	rec->a[at] = (struct ckpt_attr){ type, len, data };
	rec->n++;
	return true;
}

static void remove_attr(struct ckpt_rec *rec, unsigned int at)
{
	memmove(&rec->a[at], &rec->a[at + 1],
		(rec->n - at - 1) * sizeof(rec->a[0]));
	rec->n--;
}

/* Sets attribute @type of @rec (added if missing) to @v, at its size. */
static bool set_uint(struct fuzz *fz, struct ckpt_rec *rec, __u16 type,
		     __u64 v)
{
	struct ckpt_attr *a = model_find(rec, type);
	__u8 size = attr_size[type];
	__u8 *p = arena_get(fz, 8);
	__u8 v8 = v;
	__u16 v16 = v;
	__u32 v32 = v;

	if (!p)
		return false;
	if (size == 1)
		memcpy(p, &v8, 1);
	else if (size == 2)
		memcpy(p, &v16, 2);
	else if (size == 4)
		memcpy(p, &v32, 4);
	else
		memcpy(p, &v, 8);
	if (!a)
		return insert_attr(rec, below(rec->n + 1), type, size, p);
	a->type = type;
	a->len = size;
	a->data = p;
	return true;
}

#define DESC(fmt, ...) \
	snprintf(fz->desc, sizeof(fz->desc), "%s rec %u: " fmt, s->name, \
		 idx, ##__VA_ARGS__)

/* A fixed-size attribute at another length. */
static bool mut_wrong_len(struct fuzz *fz, struct fuzz_src *s)
{
	static const int deltas[] = { -8, -4, -2, -1, 1, 2, 3, 4, 8 };
	unsigned int idx, i, tries;
	struct ckpt_rec *rec = pick_rec(fz, -1, &idx);
	struct ckpt_attr *a;
	__u8 *p;
	int len;

	for (tries = 0; rec && tries < 16; tries++) {
		i = below(rec->n);
		a = &rec->a[i];
		if (a->type >= __MIGTCP_CKPT_A_MAX || !attr_size[a->type])
			continue;
		len = below(4) ? a->len + deltas[below(ARRAY_SIZE(deltas))] :
				 (int)below(41);
		if (len < 0)
			len = 0;
		if (len == a->len)
			len++;
		p = arena_get(fz, len);
		if (!p)
			return false;
		rnd_fill(p, len);
		memcpy(p, a->data, len < a->len ? len : a->len);
		DESC("attribute %u: %u bytes -> %d", a->type, a->len, len);
		a->data = p;
		a->len = len;
		return true;
	}
	return false;
}

/* A scalar attribute twice (same value or another). */
static bool mut_dup_scalar(struct fuzz *fz, struct fuzz_src *s)
{
	unsigned int idx, i, tries;
	struct ckpt_rec *rec = pick_rec(fz, -1, &idx);
	struct ckpt_attr a;
	__u8 *p;

	for (tries = 0; rec && tries < 16; tries++) {
		i = below(rec->n);
		a = rec->a[i];
		if (a.type >= __MIGTCP_CKPT_A_MAX || !is_scalar(a.type))
			continue;
		if (below(2)) {
			p = arena_get(fz, a.len);
			if (!p)
				return false;
			rnd_fill(p, a.len);
			a.data = p;
		}
		DESC("attribute %u twice", a.type);
		return insert_attr(rec, below(rec->n + 1), a.type, a.len,
				   a.data);
	}
	return false;
}

/* An attribute of a type version 1 does not have. */
static bool mut_unknown_type(struct fuzz *fz, struct fuzz_src *s)
{
	unsigned int idx;
	struct ckpt_rec *rec = pick_rec(fz, -1, &idx);
	__u16 type, len = below(17);
	__u8 *p = arena_get(fz, 16);

	if (!rec || !p)
		return false;
	switch (below(4)) {
	case 0:
		type = 0;
		break;
	case 1:
		type = __MIGTCP_CKPT_A_MAX;
		break;
	case 2:
		type = __MIGTCP_CKPT_A_MAX + below(200);
		break;
	default:
		/*
		 * Up to the largest type without flags: NLA_TYPE_MASK is an
		 * int, ~(the flags), and a flagged known type is no unknown
		 * one (the kernel may read it as its type).
		 */
		type = __MIGTCP_CKPT_A_MAX + below((__u16)NLA_TYPE_MASK -
						   MIGTCP_CKPT_A_MAX);
		break;
	}
	rnd_fill(p, len);
	DESC("attribute of type %u", type);
	return insert_attr(rec, below(rec->n + 1), type, len, p);
}

/* An out-of-order chunk that is not one. */
static bool mut_bad_ofo(struct fuzz *fz, struct fuzz_src *s)
{
	static __u8 nlbuf[2 * MIGTCP_CKPT_CHUNK];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nlbuf);
	unsigned int idx, how = below(5);
	struct ckpt_rec *rec = pick_rec(fz, MIGTCP_CKPT_CONN, &idx);
	size_t dlen = below(2) ? 1 + below(100) : 1 + below(MIGTCP_CKPT_CHUNK);
	static const char * const hows[] = {
		"an unknown attribute", "no sequence number",
		"a 2-byte sequence number", "a chunk too large",
		"a stray byte at its end",
	};
	__u8 *data, *p;
	size_t plen;

	if (!rec)
		return false;
	if (how == 3)
		dlen = MIGTCP_CKPT_CHUNK + 1 + below(1000);
	data = arena_get(fz, dlen);
	if (!data)
		return false;
	rnd_fill(data, dlen);
	if (how == 2)
		mnl_attr_put_u16(nlh, MIGTCP_CKPT_OFO_A_SEQ, 1);
	else if (how != 1)
		mnl_attr_put_u32(nlh, MIGTCP_CKPT_OFO_A_SEQ,
				 model_uint(rec, CK(RCV_NXT), 0) + 1000);
	mnl_attr_put(nlh, MIGTCP_CKPT_OFO_A_DATA, dlen, data);
	if (how == 0)
		mnl_attr_put_u32(nlh, __MIGTCP_CKPT_OFO_A_MAX + below(100), 0);
	plen = nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
	p = arena_get(fz, plen + 4);
	if (!p)
		return false;
	memcpy(p, mnl_nlmsg_get_payload(nlh), plen);
	if (how == 4) {
		/* An attribute header claiming 2 bytes: not an attribute. */
		const struct nlattr stray = { .nla_len = 2, .nla_type = 1 };

		memcpy(p + plen, &stray, sizeof(stray));
		plen += sizeof(stray);
	}
	DESC("an out-of-order chunk with %s", hows[how]);
	return insert_attr(rec, below(rec->n + 1), CK(OFO) | NLA_F_NESTED,
			   plen, p);
}

/* A state out of range, or one that does not go with the kind. */
static bool mut_bad_state(struct fuzz *fz, struct fuzz_src *s)
{
	static const __u8 conn_bad[] = { 0, 2, 3, TCP_LISTEN_, 12, 13, 99, 255 };
	static const __u8 listener_bad[] = { 0, 1, 2, TCP_CLOSE_, 99 };
	static const __u8 unconn_bad[] = { 0, 1, 4, TCP_LISTEN_, 99 };
	unsigned int idx;
	struct ckpt_rec *rec = pick_rec(fz, -1, &idx);
	__u8 st;

	if (!rec)
		return false;
	switch (rec_kind(rec)) {
	case MIGTCP_CKPT_CONN:
		st = conn_bad[below(ARRAY_SIZE(conn_bad))];
		break;
	case MIGTCP_CKPT_LISTENER:
		st = listener_bad[below(ARRAY_SIZE(listener_bad))];
		break;
	default:
		st = unconn_bad[below(ARRAY_SIZE(unconn_bad))];
		break;
	}
	DESC("state %u for kind %d", st, rec_kind(rec));
	return set_uint(fz, rec, CK(STATE), st);
}

static bool mut_bad_wscale(struct fuzz *fz, struct fuzz_src *s)
{
	unsigned int idx;
	struct ckpt_rec *rec = pick_rec(fz, MIGTCP_CKPT_CONN, &idx);
	__u16 type = below(2) ? CK(SND_WSCALE) : CK(RCV_WSCALE);
	__u8 ws = below(2) ? 15 : 15 + below(241);

	if (!rec)
		return false;
	DESC("%s window scale %u", type == CK(SND_WSCALE) ? "send" : "receive",
	     ws);
	return set_uint(fz, rec, type, ws);
}

static bool mut_mss_zero(struct fuzz *fz, struct fuzz_src *s)
{
	unsigned int idx;
	struct ckpt_rec *rec = pick_rec(fz, MIGTCP_CKPT_CONN, &idx);

	if (!rec)
		return false;
	DESC("MSS 0");
	return set_uint(fz, rec, CK(MSS), 0);
}

/* A kind out of range, missing, or out of place in a listener's blob. */
static bool mut_bad_kind(struct fuzz *fz, struct fuzz_src *s)
{
	unsigned int idx;
	struct ckpt_rec *rec = pick_rec(fz, -1, &idx);
	struct ckpt_attr *a;
	__u8 kind;

	if (!rec)
		return false;
	switch (below(3)) {
	case 0:
		kind = below(2) ? 7 : 4 + below(252);
		DESC("kind %u", kind);
		return set_uint(fz, rec, CK(KIND), kind);
	case 1:
		a = model_find(rec, CK(KIND));
		if (!a)
			return false;
		DESC("no kind");
		remove_attr(rec, a - rec->a);
		return true;
	default:
		if (fz->m.nr < 2)
			return false;
		kind = idx ? below(3) : MIGTCP_CKPT_CONN;
		DESC("kind %u in a listener's blob", kind);
		return set_uint(fz, rec, CK(KIND), kind);
	}
}

/* The record of a connection in ESTABLISHED without a FIN queued. */
static struct ckpt_rec *pick_plain_conn(struct fuzz *fz, unsigned int *idx)
{
	struct ckpt_rec *rec = pick_rec(fz, MIGTCP_CKPT_CONN, idx);

	if (!rec || model_uint(rec, CK(STATE), 0) != TCP_ESTABLISHED_ ||
	    model_uint(rec, CK(FIN_QUEUED), 0))
		return NULL;
	return rec;
}

/* SND_UNA after WRITE_SEQ, COPIED_SEQ after RCV_NXT, SND_MAX outside. */
static bool mut_seq_order(struct fuzz *fz, struct fuzz_src *s)
{
	unsigned int idx;
	struct ckpt_rec *rec = pick_plain_conn(fz, &idx);
	__u32 d = 1 + below(0x7fffffff), v;

	if (!rec)
		return false;
	switch (below(4)) {
	case 0:
		v = model_uint(rec, CK(WRITE_SEQ), 0) + d;
		DESC("SND_UNA %u after WRITE_SEQ", d);
		return set_uint(fz, rec, CK(SND_UNA), v);
	case 1:
		v = model_uint(rec, CK(RCV_NXT), 0) + d;
		DESC("COPIED_SEQ %u after RCV_NXT", d);
		return set_uint(fz, rec, CK(COPIED_SEQ), v);
	case 2:
		d = 1 + below(100000);
		v = model_uint(rec, CK(WRITE_SEQ), 0) + d;
		DESC("SND_MAX %u after WRITE_SEQ", d);
		return set_uint(fz, rec, CK(SND_MAX), v);
	default:
		d = 1 + below(100000);
		v = model_uint(rec, CK(SND_UNA), 0) - d;
		DESC("SND_MAX %u before SND_UNA", d);
		return set_uint(fz, rec, CK(SND_MAX), v);
	}
}

/* The data chunks and the sequence numbers disagree. */
static bool mut_data_len(struct fuzz *fz, struct fuzz_src *s)
{
	unsigned int idx, i, last = MODEL_ATTRS;
	struct ckpt_rec *rec = pick_plain_conn(fz, &idx);
	bool snd = below(2);
	__u16 data_type = snd ? CK(SND_DATA) : CK(RCV_DATA);
	__u16 end_type = snd ? CK(WRITE_SEQ) : CK(RCV_NXT);
	const char *dir = snd ? "send" : "receive";
	struct ckpt_attr *a;
	__s32 d;
	__u8 *p;

	if (!rec)
		return false;
	for (i = 0; i < rec->n; i++)
		if (rec->a[i].type == data_type)
			last = i;
	switch (below(4)) {
	case 0:
		if (last == MODEL_ATTRS)
			return false;
		a = &rec->a[last];
		DESC("last %s chunk one byte short", dir);
		a->len--;
		if (!a->len)
			remove_attr(rec, last);
		return true;
	case 1:
		if (last == MODEL_ATTRS || rec->a[last].len >= MIGTCP_CKPT_CHUNK)
			return false;
		a = &rec->a[last];
		p = arena_get(fz, a->len + 1);
		if (!p)
			return false;
		memcpy(p, a->data, a->len);
		p[a->len] = rnd();
		DESC("last %s chunk one byte long", dir);
		a->data = p;
		a->len++;
		return true;
	case 2:
		d = 1 + below(1000);
		p = arena_get(fz, d);
		if (!p)
			return false;
		rnd_fill(p, d);
		DESC("an extra %s chunk of %d bytes", dir, d);
		return insert_attr(rec, last == MODEL_ATTRS ? rec->n : last + 1,
				   data_type, d, p);
	default:
		d = 1 + below(1000);
		if (below(2))
			d = -d;
		DESC("%s end moved by %d", dir, d);
		return set_uint(fz, rec, end_type,
				(__u32)model_uint(rec, end_type, 0) + d);
	}
}

/*
 * All of a direction's data in one chunk larger than MIGTCP_CKPT_CHUNK,
 * the sequence numbers made to agree with it.
 */
static bool mut_big_chunk(struct fuzz *fz, struct fuzz_src *s)
{
	unsigned int idx, i;
	struct ckpt_rec *rec = pick_plain_conn(fz, &idx);
	bool snd = below(2);
	__u16 data_type = snd ? CK(SND_DATA) : CK(RCV_DATA);
	size_t len = MIGTCP_CKPT_CHUNK + 1 + below(2000), off = 0;
	__u32 start;
	__u8 *p;

	if (!rec)
		return false;
	p = arena_get(fz, len);
	if (!p)
		return false;
	for (i = 0; i < rec->n;) {
		if (rec->a[i].type != data_type) {
			i++;
			continue;
		}
		if (off + rec->a[i].len <= len) {
			memcpy(p + off, rec->a[i].data, rec->a[i].len);
			off += rec->a[i].len;
		}
		remove_attr(rec, i);
	}
	rnd_fill(p + off, len - off);
	if (!insert_attr(rec, rec->n, data_type, len, p))
		return false;
	DESC("%s data as one chunk of %zu bytes", snd ? "send" : "receive",
	     len);
	if (snd) {
		start = model_uint(rec, CK(SND_UNA), 0);
		return set_uint(fz, rec, CK(WRITE_SEQ), start + len) &&
		       set_uint(fz, rec, CK(SND_MAX), start);
	}
	start = model_uint(rec, CK(COPIED_SEQ), 0);
	return set_uint(fz, rec, CK(RCV_NXT), start + len);
}

/* A connection without one of the attributes it needs. */
static bool mut_missing(struct fuzz *fz, struct fuzz_src *s)
{
	unsigned int idx;
	struct ckpt_rec *rec = pick_rec(fz, MIGTCP_CKPT_CONN, &idx);
	__u16 type = conn_needs[below(ARRAY_SIZE(conn_needs))];
	struct ckpt_attr *a;

	if (!rec) {
		rec = pick_rec(fz, -1, &idx);
		type = rec_kind(rec) == MIGTCP_CKPT_UNBOUND ? CK(KIND) :
		       CK(LOCAL_PORT);
	}
	a = model_find(rec, type);
	if (!a)
		return false;
	DESC("without attribute %u", type);
	remove_attr(rec, a - rec->a);
	return true;
}

/* Data in a listener, an unbound or a bound socket. */
static bool mut_data_unconnected(struct fuzz *fz, struct fuzz_src *s)
{
	unsigned int idx;
	struct ckpt_rec *rec = pick_rec(fz, -1, &idx);
	__u16 len = 1 + below(500);
	__u8 *p = arena_get(fz, len);

	if (!rec || !p || rec_kind(rec) == MIGTCP_CKPT_CONN)
		return false;
	rnd_fill(p, len);
	DESC("%u bytes of data in kind %d", len, rec_kind(rec));
	return insert_attr(rec, below(rec->n + 1),
			   below(2) ? CK(SND_DATA) : CK(RCV_DATA), len, p);
}

/* IPv6 addresses migtcp_addr6_usable() refuses. */
static const char * const bad_addr6[] = {
	"::", "::1", "::198.51.100.2", "::ffff:198.51.100.2", "ff02::1",
	"ff0e::2", "fe80::2", "febf:ffff::1",
};

#define GOOD_ADDR6	"2001:db8:100::2"

/*
 * A connection with two peer addresses (IPv4 and IPv6) or none, or its
 * peer address made an IPv6 one that is not usable or not 16 bytes; or
 * any record with such a host address.
 */
static bool mut_peer_addr(struct fuzz *fz, struct fuzz_src *s)
{
	static const __u16 bad_lens[] = { 0, 4, 8, 15, 17, 20, 32 };
	unsigned int idx, how = below(6);
	bool host = how >= 4;
	struct ckpt_rec *rec = pick_rec(fz, host ? -1 : MIGTCP_CKPT_CONN,
					&idx);
	__u16 len = bad_lens[below(ARRAY_SIZE(bad_lens))];
	__u8 *p = arena_get(fz, 32);
	const char *text = bad_addr6[below(ARRAY_SIZE(bad_addr6))];
	struct ckpt_attr *a;

	if (!rec || !p)
		return false;
	a = model_find(rec, host ? CK(HOST_ADDR_IN6) : CK(PEER_ADDR_IN));
	switch (how) {
	case 0:
		if (!a || inet_pton(AF_INET6, GOOD_ADDR6, p) != 1)
			return false;
		DESC("PEER_ADDR_IN6 %s beside PEER_ADDR_IN", GOOD_ADDR6);
		return insert_attr(rec, below(rec->n + 1), CK(PEER_ADDR_IN6),
				   16, p);
	case 1:
		if (!a)
			return false;
		DESC("no peer address");
		remove_attr(rec, a - rec->a);
		return true;
	case 2:
	case 3:
		if (!a)
			return false;
		if (how == 2) {
			if (inet_pton(AF_INET6, text, p) != 1)
				return false;
			len = 16;
			DESC("PEER_ADDR_IN6 %s for PEER_ADDR_IN", text);
		} else {
			rnd_fill(p, len);
			DESC("PEER_ADDR_IN6 of %u bytes for PEER_ADDR_IN", len);
		}
		a->type = CK(PEER_ADDR_IN6);
		a->len = len;
		a->data = p;
		return true;
	default:
		if (how == 4) {
			if (inet_pton(AF_INET6, text, p) != 1)
				return false;
			len = 16;
			DESC("HOST_ADDR_IN6 %s", text);
		} else {
			rnd_fill(p, len);
			DESC("HOST_ADDR_IN6 of %u bytes", len);
		}
		if (!a)
			return insert_attr(rec, below(rec->n + 1),
					   CK(HOST_ADDR_IN6), len, p);
		a->len = len;
		a->data = p;
		return true;
	}
}

static const struct {
	const char *name;
	mutator fn;
} mutators[] = {
	{ "attribute length", mut_wrong_len },
	{ "duplicate scalar", mut_dup_scalar },
	{ "unknown type", mut_unknown_type },
	{ "bad out-of-order chunk", mut_bad_ofo },
	{ "bad state", mut_bad_state },
	{ "window scale", mut_bad_wscale },
	{ "MSS 0", mut_mss_zero },
	{ "bad kind", mut_bad_kind },
	{ "sequence order", mut_seq_order },
	{ "data length", mut_data_len },
	{ "chunk too large", mut_big_chunk },
	{ "missing attribute", mut_missing },
	{ "data where none can be", mut_data_unconnected },
	{ "peer and IPv6 addresses", mut_peer_addr },
};

/*
 * Record lengths off by one: alone (the records no longer fill the
 * blob), or with the blob's length and the record's last byte made to
 * agree.  Works on the bytes of a valid blob.
 */
static bool mut_rec_len(struct fuzz *fz, struct fuzz_src *s)
{
	unsigned int idx = below(s->m.nr), how = below(4);
	size_t start, end;

	set_out(fz, &s->b);
	if (!rec_bounds(fz->out, fz->len, idx, &start, &end))
		return false;
	switch (how) {
	case 0:
		hdr_add(fz->out, start, 1);
		DESC("record length + 1");
		break;
	case 1:
		hdr_add(fz->out, start, -1);
		DESC("record length - 1");
		break;
	case 2:
		/* One zero byte more at the record's end. */
		memmove(fz->out + end + 1, fz->out + end, fz->len - end);
		fz->out[end] = 0;
		fz->len++;
		hdr_add(fz->out, start, 1);
		hdr_add(fz->out, TOTAL_LEN_OFF, 1);
		DESC("record length + 1 with a zero byte");
		break;
	default:
		/* The record's last byte gone. */
		memmove(fz->out + end - 1, fz->out + end, fz->len - end);
		fz->len--;
		hdr_add(fz->out, start, -1);
		hdr_add(fz->out, TOTAL_LEN_OFF, -1);
		DESC("record length - 1 without its last byte");
		break;
	}
	return true;
}

/* A record's reserved field set. */
static bool mut_reserved(struct fuzz *fz, struct fuzz_src *s)
{
	unsigned int idx = below(s->m.nr);
	size_t start, end;
	__u32 v = other_u32(0);

	set_out(fz, &s->b);
	if (!rec_bounds(fz->out, fz->len, idx, &start, &end))
		return false;
	memcpy(fz->out + start + offsetof(struct migtcp_ckpt_rec, reserved),
	       &v, 4);
	DESC("reserved %#x", v);
	return true;
}

/*
 * (d): one of the mutations above, each of which breaks one rule by
 * construction; false if blob_invalid() does not agree (a test bug).
 */
static bool fz_struct(struct fuzz *fz)
{
	unsigned int n = ARRAY_SIZE(mutators) + 2, tries;
	struct fuzz_src *s;
	unsigned int pick;

	for (tries = 0; tries < 1000; tries++) {
		s = pick_src(fz);
		pick = below(n);
		fz->arena_used = 0;
		if (pick == n - 2) {
			if (!mut_rec_len(fz, s))
				continue;
		} else if (pick == n - 1) {
			if (!mut_reserved(fz, s))
				continue;
		} else {
			model_copy(&fz->m, &s->m);
			if (!mutators[pick].fn(fz, s))
				continue;
			fz->len = model_emit(&fz->m, fz->out, FUZZ_MAX);
			if (!fz->len)
				continue;
		}
		/* Record length - 1 may leave a valid unpadded record. */
		if (pick == n - 2 && !blob_invalid(fz->out, fz->len))
			continue;
		return true;
	}
	return false;
}

/* One blob of class @cls in fz->out; false if none could be made. */
static bool fuzz_make(struct fuzz *fz, enum fuzz_class cls)
{
	unsigned int tries;

	fz->desc[0] = 0;
	switch (cls) {
	case FZ_RANDOM:
		fz_random(fz);
		return true;
	case FZ_RANDOM_ATTRS:
		for (tries = 0; tries < 100; tries++) {
			fz_random_attrs(fz);
			if (blob_invalid(fz->out, fz->len))
				return true;
			fz->redraws++;
		}
		break;
	case FZ_HEADER:
		fz_header(fz, pick_src(fz));
		return true;
	case FZ_BYTES:
		for (tries = 0; tries < 100; tries++) {
			fz_bytes_once(fz, pick_src(fz));
			if (blob_invalid(fz->out, fz->len))
				return true;
			fz->redraws++;
		}
		/* Nothing provably invalid came out: change the header. */
		fz->fallbacks++;
		fz_header(fz, pick_src(fz));
		return true;
	case FZ_STRUCT:
		return fz_struct(fz);
	default:
		break;
	}
	return false;
}

/* Offsets of a blob's header bytes and of its fixed-size values. */
static void find_hot(struct fuzz_src *s)
{
	size_t start, end, i;
	unsigned int r, a;

	s->hot = calloc(s->b.len, sizeof(*s->hot));
	s->nhot = 0;
	for (i = 0; i < sizeof(struct migtcp_ckpt_hdr); i++)
		s->hot[s->nhot++] = i;
	for (r = 0; r < s->m.nr; r++) {
		if (!rec_bounds(s->b.buf, s->b.len, r, &start, &end))
			continue;
		for (i = 0; i < sizeof(struct migtcp_ckpt_rec); i++)
			s->hot[s->nhot++] = start + i;
		for (a = 0; a < s->m.rec[r].n; a++) {
			const struct ckpt_attr *at = &s->m.rec[r].a[a];
			size_t off = at->data - s->b.buf;
			size_t n = MNL_ATTR_HDRLEN;

			if (at->type < __MIGTCP_CKPT_A_MAX && attr_size[at->type])
				n += at->len;
			for (i = 0; i < n; i++)
				s->hot[s->nhot++] = off - MNL_ATTR_HDRLEN + i;
		}
	}
}

/*
 * Takes the checkpoint of @fd (frozen for it, thawed after) as a fuzz
 * source; checks that it is valid by every rule and that libmnl puts it
 * together again byte for byte.
 */
static void add_src(struct __test_metadata *_metadata, struct fuzz *fz,
		    const char *name, int fd, unsigned int weight)
{
	struct fuzz_src *s = &fz->src[fz->nsrc++];
	static __u8 again[FUZZ_MAX];
	const char *why;
	size_t len;

	s->name = name;
	s->weight = weight;
	freeze_checkpoint(_metadata, fd, 0, &s->b);
	ASSERT_EQ(0, thaw(fd)) TH_LOG("thaw %s: %s", name, strerror(errno));
	ASSERT_GE((size_t)FUZZ_MAX / 2, s->b.len);
	ASSERT_EQ(0, model_parse(s->b.buf, s->b.len, &s->m))
		TH_LOG("the checkpoint of the %s is not a header and records of attributes",
		       name);
	why = blob_invalid(s->b.buf, s->b.len);
	EXPECT_EQ(NULL, why)
		TH_LOG("the kernel's checkpoint of the %s breaks a rule: %s",
		       name, why);
	len = model_emit(&s->m, again, sizeof(again));
	EXPECT_TRUE(len == s->b.len && !memcmp(again, s->b.buf, len))
		TH_LOG("the %s's checkpoint, taken apart and put together with libmnl, differs",
		       name);
	find_hot(s);
	fprintf(stderr, "# source %s: %zu bytes, %u records\n", name, s->b.len,
		s->m.nr);
}

#define FZ_CONN_IN	3000	/* node 2 -> node 1, unread */
#define FZ_CONN_OUT	5000	/* node 1 -> node 2, unacknowledged */
#define FZ_BIG		40000	/* each way on the big connection */
#define FZ_QUEUED	3	/* connections in the listener's queue */
#define FZ_QUEUED_DATA	200
#define FZ_LPORT	7300
#define FZ_BPORT	7301

/* SIOCOUTQ of @fd reaching @n within @ms. */
static bool wait_outq(int fd, int n, int ms)
{
	long end = now_ms() + ms;
	int v;

	for (;;) {
		if (!ioctl(fd, SIOCOUTQ, &v) && v == n)
			return true;
		if (now_ms() >= end)
			return false;
		sleep_ms(5);
	}
}

/* Blobs not refused, by the rule they break. */
static struct {
	const char *why;
	unsigned int n;
} failures[32];

static unsigned int failures_of(const char *why)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(failures) && failures[i].why; i++)
		if (failures[i].why == why)
			return failures[i].n;
	return 0;
}

static void count_failure(const char *why)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(failures); i++) {
		if (!failures[i].why)
			failures[i].why = why;
		if (failures[i].why == why) {
			failures[i].n++;
			return;
		}
	}
}

static __u64 env_u64(const char *name, __u64 dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

/*
 * 100 000 blobs (MIGTCP_FUZZ_ITERS), made from the checkpoints of a
 * connection with unread and unacknowledged data, one with 40 000 bytes
 * each way (several chunks), a listener with three connections queued,
 * an unbound and a bound socket, by a seeded random generator
 * (MIGTCP_FUZZ_SEED; printed).  Each is given to MIGTCP_RESTORE on a
 * fresh socket of node 3, where none of those endpoints lives, and must
 * fail with EINVAL.  Afterwards node 3's counters and socket count and
 * node 1's socket count are as before, the kernel log has no new
 * warning, every source socket carries its data on byte for byte, and
 * the unbound socket's checkpoint, put together by the test, restores.
 */
TEST_F_TIMEOUT(cluster, restore_fuzz, 900)
{
	int c1, a1, c2, a2, lq, u, b, q[FZ_QUEUED], r;
	unsigned int done[FZ_CLASSES] = { 0 }, failed = 0, skipped = 0;
	__u64 seed = env_u64("MIGTCP_FUZZ_SEED", FUZZ_SEED);
	__u64 iters = env_u64("MIGTCP_FUZZ_ITERS", FUZZ_ITERS);
	struct fuzz_src srcs[5];
	struct stats before, after;
	struct sockaddr_mig uname, rname;
	int socks3, socks1, bad_log;
	static struct fuzz fz;
	int sndbuf = 1 << 20;
	long start, ms;
	__u64 i;

	fprintf(stderr, "# fuzz seed %#llx (MIGTCP_FUZZ_SEED), %llu blobs (MIGTCP_FUZZ_ITERS)\n",
		(unsigned long long)seed, (unsigned long long)iters);
	add_nodes(_metadata, self, NODE3);

	/* The sources, all on node 1. */
	CONNECT_PAIR(&c1, &a1);
	CONNECT_PAIR(&c2, &a2);
	ASSERT_EQ(0, setsockopt(c2, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				sizeof(sndbuf)));
	send_at(_metadata, a1, 101, 0, FZ_CONN_IN);
	send_at(_metadata, a2, 103, 0, FZ_BIG);
	ASSERT_TRUE(wait_inq(c1, FZ_CONN_IN, WAIT_MS));
	ASSERT_TRUE(wait_inq(c2, FZ_BIG, WAIT_MS));
	lq = listener(_metadata, self->family, FZ_LPORT, 8);
	ASSERT_LE(0, lq);
	ON_NODE(NODE2);
	for (i = 0; i < FZ_QUEUED; i++) {
		q[i] = mig_socket(self->family, 0);
		ASSERT_LE(0, q[i]);
		ASSERT_EQ(0, connect_to(q[i], self->family, NODE1, FZ_LPORT));
		send_at(_metadata, q[i], 110 + i, 0, FZ_QUEUED_DATA);
		ASSERT_TRUE(wait_outq(q[i], 0, WAIT_MS));
	}
	ON_NODE(NODE1);
	u = mig_socket(self->family, 0);
	ASSERT_LE(0, u);
	uname = name_of(u, false);
	b = mig_socket(self->family, 0);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, bind_to(b, self->family, 0, FZ_BPORT));
	/* Node 2's ACKs lost: what node 1 sends now stays unacknowledged. */
	add_netem(_metadata, self, NODE2, "loss 100%");
	send_at(_metadata, c1, 102, 0, FZ_CONN_OUT);
	send_at(_metadata, c2, 104, 0, FZ_BIG);
	ASSERT_TRUE(wait_inq(a1, FZ_CONN_OUT, WAIT_MS));

	memset(&fz, 0, sizeof(fz));
	fz.src = srcs;
	add_src(_metadata, &fz, "connection", c1, 35);
	add_src(_metadata, &fz, "big connection", c2, 5);
	add_src(_metadata, &fz, "listener", lq, 30);
	add_src(_metadata, &fz, "unbound socket", u, 15);
	add_src(_metadata, &fz, "bound socket", b, 15);
	ON_NODE(NODE2);
	ASSERT_EQ(0, sh("tc qdisc del dev mig2 root"));
	fz.out = malloc(FUZZ_MAX + 4096);
	fz.arena = malloc(ARENA_SIZE);
	ASSERT_NE(NULL, fz.out);
	ASSERT_NE(NULL, fz.arena);

	bad_log = dmesg_bad_lines();
	socks1 = sockets_on(self, NODE1);
	socks3 = sockets_on(self, NODE3);
	ASSERT_LT(0, read_stats(self, NODE3, &before));
	GO(NODE3);
	start = now_ms();
	for (i = 0; i < iters && failed < FUZZ_GIVE_UP; i++) {
		enum fuzz_class cls;
		unsigned int c = (i * 7919) % 100, acc = 0;
		int ret, err;

		for (cls = 0; cls < FZ_CLASSES - 1; cls++) {
			acc += fuzz_class_share[cls];
			if (c < acc)
				break;
		}
		rng_state = splitmix64(seed ^ (i * 0x100000001b3ULL));
		if (!fuzz_make(&fz, cls)) {
			TH_LOG("iteration %llu: no %s mutation could be made",
			       (unsigned long long)i, fuzz_class_names[cls]);
			failed++;
			continue;
		}
		fz.why = blob_invalid(fz.out, fz.len);
		if (!fz.why) {
			TH_LOG("iteration %llu (%s): the test made a blob it cannot prove invalid: %s",
			       (unsigned long long)i, fuzz_class_names[cls],
			       fz.desc);
			failed++;
			continue;
		}
		/*
		 * A rule the kernel let pass FUZZ_PER_RULE times has failed
		 * the test already; more blobs breaking only it would just
		 * restore more sockets and hide what else fails.
		 */
		if (failures_of(fz.why) >= FUZZ_PER_RULE) {
			skipped++;
			continue;
		}
		r = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, r) TH_LOG("socket: %s", strerror(errno));
		ret = restore(r, fz.out, fz.len);
		err = errno;
		close(r);
		done[cls]++;
		if (ret == -1 && err == EINVAL)
			continue;
		count_failure(fz.why);
		if (++failed <= FUZZ_REPORT)
			TH_LOG("iteration %llu (%s): %s, expected EINVAL: %s (%zu bytes; it breaks: %s)",
			       (unsigned long long)i, fuzz_class_names[cls],
			       ret ? errname(err) : "restored", fz.desc,
			       fz.len, fz.why);
	}
	ms = now_ms() - start;
	fprintf(stderr, "# %llu blobs in %ld ms (%.1f us each); redrawn %u, header fallbacks %u\n",
		(unsigned long long)i, ms, i ? 1000.0 * ms / i : 0.0,
		fz.redraws, fz.fallbacks);
	for (i = 0; i < FZ_CLASSES; i++)
		fprintf(stderr, "#   %-32s %u\n", fuzz_class_names[i], done[i]);
	EXPECT_EQ(0U, failed) TH_LOG("%u blobs not refused with EINVAL; %u more not sent, as they break only rules that failed %u times",
				     failed, skipped, FUZZ_PER_RULE);
	for (i = 0; i < ARRAY_SIZE(failures) && failures[i].why; i++)
		TH_LOG("  %u accepted although they break: %s",
		       failures[i].n, failures[i].why);

	/* Nothing changed. */
	ASSERT_LT(0, read_stats(self, NODE3, &after));
	EXPECT_TRUE(same_stats(_metadata, NODE3, &before, &after));
	EXPECT_EQ(socks3, sockets_on(self, NODE3));
	EXPECT_EQ(socks1, sockets_on(self, NODE1));
	EXPECT_EQ(bad_log, dmesg_bad_lines())
		TH_LOG("the kernel warned during the fuzz");

	/* The sources carry on, each byte exactly once. */
	EXPECT_TRUE(recv_at(_metadata, c1, 101, 0, FZ_CONN_IN));
	EXPECT_TRUE(recv_at(_metadata, a1, 102, 0, FZ_CONN_OUT));
	EXPECT_TRUE(recv_at(_metadata, c2, 103, 0, FZ_BIG));
	EXPECT_TRUE(recv_at(_metadata, a2, 104, 0, FZ_BIG));
	exchange(_metadata, c1, a1, 120, 10000);
	exchange(_metadata, c2, a2, 122, 10000);
	ON_NODE(NODE1);
	for (i = 0; i < FZ_QUEUED; i++) {
		int afd = accept_waiting(_metadata, lq);

		ASSERT_LE(0, afd);
		ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
		EXPECT_TRUE(recv_at(_metadata, afd, 110 + i, 0, FZ_QUEUED_DATA));
		exchange(_metadata, afd, q[i], 130 + 2 * i, 1000);
		close(afd);
	}
	EXPECT_EQ(FZ_BPORT, local_port(b));

	/* The test's own assembly of a valid checkpoint is accepted. */
	fz.len = model_emit(&srcs[3].m, fz.out, FUZZ_MAX);
	GO(NODE3);
	r = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, r);
	EXPECT_EQ(0, restore(r, fz.out, fz.len))
		TH_LOG("the unbound socket's checkpoint, as libmnl puts it together: %s",
		       strerror(errno));
	rname = name_of(r, false);
	EXPECT_TRUE(addr_eq(&uname, &rname));
	close(r);

	for (i = 0; i < 5; i++) {
		blob_free(&srcs[i].b);
		free(srcs[i].hot);
	}
	for (i = 0; i < FZ_QUEUED; i++)
		close(q[i]);
	free(fz.out);
	free(fz.arena);
	close(b);
	close(u);
	close(lq);
	close(c1);
	close(a1);
	close(c2);
	close(a2);
}

/*
 * IPv6 addresses in a checkpoint: blobs made from a real checkpoint of
 * node 1's end of a connection to node 2 (PEER_ADDR_IN 198.51.100.2,
 * HOST_ADDR_IN 198.51.100.1), one attribute changed.
 */

#define NODE1_ADDR6	"2001:db8:100::1"
#define NODE2_ADDR6	"2001:db8:100::2"

/*
 * @b with attribute @drop of its first record taken out (0: none) and
 * attribute @add of @len bytes of @data put in its place, or at the end
 * (@add 0: none), into @out (of @cap bytes); the new length, or 0 if @b
 * has no attribute @drop or the result does not fit.
 */
static size_t edit_rec0(const struct blob *b, __u16 drop, __u16 add,
			const void *data, __u16 len, __u8 *out, size_t cap)
{
	static struct ckpt_model m;
	struct ckpt_rec *rec = &m.rec[0];
	struct ckpt_attr *a;
	unsigned int at;

	if (model_parse(b->buf, b->len, &m))
		return 0;
	at = rec->n;
	if (drop) {
		a = model_find(rec, drop);
		if (!a)
			return 0;
		at = a - rec->a;
		remove_attr(rec, at);
	}
	if (add && !insert_attr(rec, at, add, len, data))
		return 0;
	return model_emit(&m, out, cap);
}

/* @text as the 16 bytes of an IPv6 address. */
static struct in6_addr in6(const char *text)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, text, &a) != 1)
		abort();
	return a;
}

/*
 * MIGTCP_RESTORE of @len bytes of @buf on a fresh socket of node 3 fails
 * with EINVAL and changes nothing: the socket is still unbound, node 3
 * has the sockets and counters it had.  The caller is on node 3 after.
 */
static void expect_refused(struct __test_metadata *_metadata, CLUSTER *self,
			   const __u8 *buf, size_t len, const char *what)
{
	struct sockaddr_mig fresh, now;
	struct stats before, after;
	int socks, r, ret, err;

	ASSERT_NE(0U, len) TH_LOG("%s: the blob could not be made", what);
	socks = sockets_on(self, NODE3);
	ASSERT_LT(0, read_stats(self, NODE3, &before));
	GO(NODE3);
	r = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, r) TH_LOG("socket: %s", strerror(errno));
	fresh = name_of(r, false);
	ret = restore(r, buf, len);
	err = errno;
	EXPECT_EQ(-1, ret) TH_LOG("%s: restored", what);
	EXPECT_EQ(EINVAL, err) TH_LOG("%s: %s, expected EINVAL", what,
				      errname(err));
	now = name_of(r, false);
	EXPECT_TRUE(addr_eq(&fresh, &now))
		TH_LOG("%s: the socket the restore failed on changed", what);
	EXPECT_EQ(0, now.smig_port);
	close(r);
	EXPECT_EQ(socks, sockets_on(self, NODE3));
	ASSERT_LT(0, read_stats(self, NODE3, &after));
	EXPECT_TRUE(same_stats(_metadata, NODE3, &before, &after));
}

/*
 * PEER_ADDR_IN6 (in place of PEER_ADDR_IN) and HOST_ADDR_IN6 (beside
 * HOST_ADDR_IN) at any length but 16 bytes: refused.  The frozen
 * connection the checkpoint came from carries on once thawed.
 */
TEST_F_TIMEOUT(cluster, restore_ipv6_address_lengths, 120)
{
	static const __u16 lens[] = { 0, 4, 8, 15, 17, 20, 32 };
	static const __u16 types[] = { CK(PEER_ADDR_IN6), CK(HOST_ADDR_IN6) };
	const struct in6_addr addr6 = in6(NODE2_ADDR6);
	__u8 addr[32], *out;
	unsigned int i, j;
	int cfd, afd;
	struct blob b;
	size_t len;

	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	freeze_checkpoint(_metadata, cfd, 0, &b);
	out = malloc(b.len + 64);
	ASSERT_NE(NULL, out);
	memset(addr, 0, sizeof(addr));
	memcpy(addr, &addr6, sizeof(addr6));
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		for (j = 0; j < ARRAY_SIZE(lens); j++) {
			char what[64];

			snprintf(what, sizeof(what), "%s of %u bytes",
				 i ? "HOST_ADDR_IN6" : "PEER_ADDR_IN6",
				 lens[j]);
			TH_LOG("%s", what);
			len = edit_rec0(&b, i ? 0 : CK(PEER_ADDR_IN), types[i],
					addr, lens[j], out, b.len + 64);
			expect_refused(_metadata, self, out, len, what);
		}
	}
	ON_NODE(NODE1);
	ASSERT_EQ(0, thaw(cfd));
	exchange(_metadata, cfd, afd, 300, 1000);
	free(out);
	blob_free(&b);
	close(cfd);
	close(afd);
}

/*
 * A connection with PEER_ADDR_IN and PEER_ADDR_IN6 (node 2's IPv6
 * address, which node 3 knows): refused, whichever comes first.
 */
TEST_F_TIMEOUT(cluster, restore_both_peer_addresses_refused, 120)
{
	const struct in6_addr addr = in6(NODE2_ADDR6);
	static struct ckpt_model m;
	int cfd, afd;
	struct blob b;
	size_t len;
	__u8 *out;

	add_nodes(_metadata, self, NODE3);
	GO(NODE3);
	ASSERT_EQ(0, migtcp_test_ctl("peer replace %u addr %s addr %s", NODE2,
				     NODE2_ADDR, NODE2_ADDR6));
	CONNECT_PAIR(&cfd, &afd);
	freeze_checkpoint(_metadata, cfd, 0, &b);
	out = malloc(b.len + 64);
	ASSERT_NE(NULL, out);

	/* After every other attribute... */
	len = edit_rec0(&b, 0, CK(PEER_ADDR_IN6), &addr, sizeof(addr), out,
			b.len + 64);
	expect_refused(_metadata, self, out, len, "PEER_ADDR_IN6 last");
	/* ...and first. */
	ASSERT_EQ(0, model_parse(b.buf, b.len, &m));
	ASSERT_TRUE(insert_attr(&m.rec[0], 0, CK(PEER_ADDR_IN6), sizeof(addr),
				&addr));
	len = model_emit(&m, out, b.len + 64);
	expect_refused(_metadata, self, out, len, "PEER_ADDR_IN6 first");

	ON_NODE(NODE1);
	ASSERT_EQ(0, thaw(cfd));
	exchange(_metadata, cfd, afd, 302, 1000);
	free(out);
	blob_free(&b);
	close(cfd);
	close(afd);
}

/* IPv6 addresses migtcp_addr6_usable() refuses, node 2's among them. */
static const char * const unusable6[] = {
	"::ffff:198.51.100.2", "::198.51.100.2", "::", "::1", "ff02::1",
	"ff0e::2", "fe80::2",
};

/* PEER_ADDR_IN6 in place of PEER_ADDR_IN, each address above: refused. */
TEST_F_TIMEOUT(cluster, restore_peer_ipv6_address_not_usable, 120)
{
	unsigned int i;
	int cfd, afd;
	struct blob b;
	size_t len;
	__u8 *out;

	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	freeze_checkpoint(_metadata, cfd, 0, &b);
	out = malloc(b.len + 64);
	ASSERT_NE(NULL, out);
	for (i = 0; i < ARRAY_SIZE(unusable6); i++) {
		const struct in6_addr addr = in6(unusable6[i]);

		TH_LOG("%s", unusable6[i]);
		len = edit_rec0(&b, CK(PEER_ADDR_IN), CK(PEER_ADDR_IN6), &addr,
				sizeof(addr), out, b.len + 64);
		expect_refused(_metadata, self, out, len, unusable6[i]);
	}
	ON_NODE(NODE1);
	ASSERT_EQ(0, thaw(cfd));
	exchange(_metadata, cfd, afd, 304, 1000);
	free(out);
	blob_free(&b);
	close(cfd);
	close(afd);
}

/* HOST_ADDR_IN6 beside HOST_ADDR_IN, each address above: refused. */
TEST_F_TIMEOUT(cluster, restore_host_ipv6_address_not_usable, 120)
{
	unsigned int i;
	int cfd, afd;
	struct blob b;
	size_t len;
	__u8 *out;

	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	freeze_checkpoint(_metadata, cfd, 0, &b);
	out = malloc(b.len + 64);
	ASSERT_NE(NULL, out);
	for (i = 0; i < ARRAY_SIZE(unusable6); i++) {
		const struct in6_addr addr = in6(unusable6[i]);

		TH_LOG("%s", unusable6[i]);
		len = edit_rec0(&b, 0, CK(HOST_ADDR_IN6), &addr, sizeof(addr),
				out, b.len + 64);
		expect_refused(_metadata, self, out, len, unusable6[i]);
	}
	ON_NODE(NODE1);
	ASSERT_EQ(0, thaw(cfd));
	exchange(_metadata, cfd, afd, 306, 1000);
	free(out);
	blob_free(&b);
	close(cfd);
	close(afd);
}

/*
 * A connection whose peer address is IPv6 (PEER_ADDR_IN6 in place of
 * PEER_ADDR_IN): restored on node 3, which knows node 2 by both
 * addresses and has no IPv6 address of its own, so reaches it over IPv4.
 * The unread and unacknowledged data and everything after arrive once.
 */
TEST_F_TIMEOUT(cluster, restore_peer_ipv6_address_accepted, 120)
{
	const struct in6_addr addr = in6(NODE2_ADDR6);
	struct sockaddr_mig name, peer, now;
	int cfd, afd;
	struct blob b, b6;
	size_t len;

	add_nodes(_metadata, self, NODE3);
	GO(NODE3);
	ASSERT_EQ(0, migtcp_test_ctl("peer replace %u addr %s addr %s", NODE2,
				     NODE2_ADDR, NODE2_ADDR6));
	CONNECT_PAIR(&cfd, &afd);
	name = name_of(cfd, false);
	peer = name_of(cfd, true);
	send_at(_metadata, afd, 310, 0, 3000);
	ASSERT_TRUE(wait_inq(cfd, 3000, WAIT_MS));
	add_netem(_metadata, self, NODE2, "loss 100%");
	send_at(_metadata, cfd, 311, 0, 2000);
	ASSERT_TRUE(wait_inq(afd, 2000, WAIT_MS));
	freeze_checkpoint(_metadata, cfd, 0, &b);
	EXPECT_EQ(0, close(cfd));
	ON_NODE(NODE2);
	ASSERT_EQ(0, sh("tc qdisc del dev mig2 root"));

	b6.buf = malloc(b.len + 64);
	ASSERT_NE(NULL, b6.buf);
	len = edit_rec0(&b, CK(PEER_ADDR_IN), CK(PEER_ADDR_IN6), &addr,
			sizeof(addr), b6.buf, b.len + 64);
	ASSERT_NE(0U, len);
	b6.len = len;
	cfd = restore_on(_metadata, self, NODE3, &b6);
	ASSERT_LE(0, cfd);
	now = name_of(cfd, false);
	EXPECT_TRUE(addr_eq(&name, &now)) TH_LOG("getsockname changed");
	now = name_of(cfd, true);
	EXPECT_TRUE(addr_eq(&peer, &now)) TH_LOG("getpeername changed");
	EXPECT_EQ(TCP_ESTABLISHED_, info_of(cfd).state);

	EXPECT_TRUE(recv_at(_metadata, cfd, 310, 0, 3000));
	EXPECT_TRUE(recv_at(_metadata, afd, 311, 0, 2000));
	exchange(_metadata, cfd, afd, 312, 10000);
	blob_free(&b6);
	blob_free(&b);
	close(cfd);
	close(afd);
}

/*
 * A node with both an IPv4 and an IPv6 address names both in a
 * checkpoint (HOST_ADDR_IN, HOST_ADDR_IN6); its connection to a peer it
 * knows by IPv4 alone keeps PEER_ADDR_IN.  The checkpoint restores on
 * node 3, and the connection goes on.
 */
TEST_F_TIMEOUT(cluster, checkpoint_names_both_host_addresses, 120)
{
	const struct in6_addr host6 = in6(NODE1_ADDR6);
	static struct ckpt_model m;
	struct in_addr host4, peer4;
	struct ckpt_attr *a;
	int cfd, afd;
	struct blob b;

	add_nodes(_metadata, self, NODE3);
	ASSERT_EQ(0, migtcp_test_ctl("node set addr %s", NODE1_ADDR6));
	ASSERT_EQ(1, inet_pton(AF_INET, NODE1_ADDR, &host4));
	ASSERT_EQ(1, inet_pton(AF_INET, NODE2_ADDR, &peer4));
	CONNECT_PAIR(&cfd, &afd);
	freeze_checkpoint(_metadata, cfd, 0, &b);
	ASSERT_EQ(0, model_parse(b.buf, b.len, &m));
	ASSERT_EQ(1U, m.nr);
	a = model_find(&m.rec[0], CK(HOST_ADDR_IN));
	ASSERT_NE(NULL, a);
	EXPECT_EQ(4, a->len);
	EXPECT_EQ(0, memcmp(a->data, &host4, 4));
	a = model_find(&m.rec[0], CK(HOST_ADDR_IN6));
	ASSERT_NE(NULL, a) TH_LOG("no HOST_ADDR_IN6");
	EXPECT_EQ(16, a->len);
	EXPECT_EQ(0, memcmp(a->data, &host6, 16));
	a = model_find(&m.rec[0], CK(PEER_ADDR_IN));
	ASSERT_NE(NULL, a);
	EXPECT_EQ(4, a->len);
	EXPECT_EQ(0, memcmp(a->data, &peer4, 4));
	EXPECT_EQ(NULL, model_find(&m.rec[0], CK(PEER_ADDR_IN6)));

	EXPECT_EQ(0, close(cfd));
	cfd = restore_on(_metadata, self, NODE3, &b);
	ASSERT_LE(0, cfd);
	exchange(_metadata, cfd, afd, 320, 10000);
	blob_free(&b);
	close(cfd);
	close(afd);
}

/*
 * What a user relies on.
 */

/* Waits up to @ms for @fd's MIGTCP_INFO state to be @state. */
static bool wait_state(int fd, int state, int ms)
{
	long end = now_ms() + ms;

	while (info_of(fd).state != state) {
		if (now_ms() >= end)
			return false;
		sleep_ms(5);
	}
	return true;
}

/*
 * Freeze, checkpoint, thaw: the connection goes on.  Unread data on both
 * sides stays readable, what the peer sends while its partner is frozen
 * arrives after the thaw, and a transfer afterwards is exact.
 */
TEST_F_TIMEOUT(cluster, thaw_after_checkpoint, 120)
{
	struct blob b;
	int cfd, afd;

	CONNECT_PAIR(&cfd, &afd);
	send_at(_metadata, afd, 200, 0, 3000);
	send_at(_metadata, cfd, 201, 0, 2000);
	ASSERT_TRUE(wait_inq(cfd, 3000, WAIT_MS));
	ASSERT_TRUE(wait_inq(afd, 2000, WAIT_MS));
	freeze_checkpoint(_metadata, cfd, 0, &b);
	/* Sent while node 1 is frozen: held, then sent again. */
	send_at(_metadata, afd, 200, 3000, 4000);
	sleep_ms(300);
	ASSERT_EQ(0, thaw(cfd));
	EXPECT_EQ(TCP_ESTABLISHED_, info_of(cfd).state);
	EXPECT_TRUE(recv_at(_metadata, cfd, 200, 0, 7000));
	EXPECT_TRUE(recv_at(_metadata, afd, 201, 0, 2000));
	TRANSFER_SHA256(cfd, afd, 1 * MiB, 1 * MiB, 64 * KiB);
	blob_free(&b);
	close(cfd);
	close(afd);
}

/*
 * Node 1's end moves to node 3 while node 2 keeps its end: the bytes it
 * had received and not read, the bytes it had sent that node 2 received
 * but never acknowledged (node 2's ACKs were lost), and the bytes node 2
 * sent while it was in transit all arrive exactly once; the restored
 * socket has the same names and connection key; later traffic is exact.
 */
TEST_F_TIMEOUT(cluster, migrate_keeps_every_byte, 120)
{
	struct sockaddr_mig name, peer, now;
	struct blob b;
	int cfd, afd;
	__u64 fp;

	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	name = name_of(cfd, false);
	peer = name_of(cfd, true);
	fp = info_of(cfd).kx_fingerprint;
	send_at(_metadata, afd, 210, 0, 3000);
	ASSERT_TRUE(wait_inq(cfd, 3000, WAIT_MS));
	add_netem(_metadata, self, NODE2, "loss 100%");
	send_at(_metadata, cfd, 211, 0, 5000);
	ASSERT_TRUE(wait_inq(afd, 5000, WAIT_MS));
	freeze_checkpoint(_metadata, cfd, 0, &b);
	EXPECT_EQ(0, close(cfd));
	ON_NODE(NODE2);
	ASSERT_EQ(0, sh("tc qdisc del dev mig2 root"));
	send_at(_metadata, afd, 210, 3000, 4000);
	sleep_ms(200);

	cfd = restore_on(_metadata, self, NODE3, &b);
	ASSERT_LE(0, cfd);
	now = name_of(cfd, false);
	EXPECT_TRUE(addr_eq(&name, &now)) TH_LOG("getsockname changed");
	now = name_of(cfd, true);
	EXPECT_TRUE(addr_eq(&peer, &now)) TH_LOG("getpeername changed");
	EXPECT_EQ(fp, info_of(cfd).kx_fingerprint);
	EXPECT_EQ(TCP_ESTABLISHED_, info_of(cfd).state);
	EXPECT_EQ(1, sockets_with_local(self, NODE3, NODE1,
					ntohs(name.smig_port)));

	EXPECT_TRUE(recv_at(_metadata, cfd, 210, 0, 7000));
	EXPECT_TRUE(recv_at(_metadata, afd, 211, 0, 5000));
	/* The stream goes on where it was: no byte came twice. */
	send_at(_metadata, cfd, 211, 5000, 3000);
	EXPECT_TRUE(recv_at(_metadata, afd, 211, 5000, 3000));
	send_at(_metadata, afd, 210, 7000, 3000);
	EXPECT_TRUE(recv_at(_metadata, cfd, 210, 7000, 3000));
	TRANSFER_SHA256(cfd, afd, 512 * KiB, 512 * KiB, 64 * KiB);
	blob_free(&b);
	close(cfd);
	close(afd);
}

/*
 * @b with every data chunk (SND_DATA, RCV_DATA) cut into chunks of one
 * byte, into *@out (malloc'd); its length, or 0.
 */
static size_t rechunk_bytes(const struct blob *b, __u8 **out)
{
	const struct migtcp_ckpt_hdr *h = (const void *)b->buf;
	size_t off = h->hdr_len, o = h->hdr_len, cap = 16 * b->len + 4096;
	struct migtcp_ckpt_hdr nh;
	unsigned int i;
	__u8 *w;

	w = calloc(1, cap);
	if (!w)
		return 0;
	for (i = 0; i < h->nr_recs; i++) {
		struct migtcp_ckpt_rec r, nr = { 0 };
		const struct nlattr *attr;
		size_t rstart = o;
		const void *p;

		memcpy(&r, b->buf + off, sizeof(r));
		p = b->buf + off + sizeof(r);
		o += sizeof(nr);
		mnl_attr_for_each_payload(p, r.len - sizeof(r)) {
			__u16 type = attr->nla_type & NLA_TYPE_MASK;
			const __u8 *d = mnl_attr_get_payload(attr);
			unsigned int j, n = mnl_attr_get_payload_len(attr);

			if (type != MIGTCP_CKPT_A_SND_DATA &&
			    type != MIGTCP_CKPT_A_RCV_DATA) {
				memcpy(w + o, attr, MNL_ALIGN(attr->nla_len));
				o += MNL_ALIGN(attr->nla_len);
				continue;
			}
			for (j = 0; j < n; j++) {
				struct nlattr one = {
					.nla_len = MNL_ATTR_HDRLEN + 1,
					.nla_type = attr->nla_type,
				};

				memcpy(w + o, &one, sizeof(one));
				w[o + MNL_ATTR_HDRLEN] = d[j];
				o += MNL_ALIGN(one.nla_len);
			}
		}
		nr.len = o - rstart;
		memcpy(w + rstart, &nr, sizeof(nr));
		off += r.len;
	}
	memcpy(&nh, h, sizeof(nh));
	nh.total_len = o;
	memcpy(w, &nh, sizeof(nh));
	*out = w;
	return o;
}

/* SO_MEMINFO of @fd: its receive and send queues' memory, in *@rmem, *@wmem. */
static int queue_memory(int fd, __u32 *rmem, __u32 *wmem)
{
	__u32 mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len))
		return -1;
	*rmem = mem[SK_MEMINFO_RMEM_ALLOC];
	*wmem = mem[SK_MEMINFO_WMEM_QUEUED];
	return 0;
}

/*
 * A restore builds its queues from the bytes, not from the chunks that
 * carry them: a checkpoint whose unread and unacknowledged data come in
 * one-byte chunks (96 KiB of them, a blob anyone with the privilege may
 * write) is restored in the memory its data needs, not a page per chunk,
 * and every byte arrives once, in order.
 */
TEST_F_TIMEOUT(cluster, restore_packs_tiny_chunks, 120)
{
	struct blob b, tiny;
	__u32 rmem, wmem;
	int cfd, afd;

	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	send_at(_metadata, afd, 240, 0, 64 * KiB);
	ASSERT_TRUE(wait_inq(cfd, 64 * KiB, WAIT_MS));
	/* Unacknowledged: node 2 hears none of it. */
	add_netem(_metadata, self, NODE2, "loss 100%");
	send_at(_metadata, cfd, 241, 0, 32 * KiB);
	freeze_checkpoint(_metadata, cfd, 0, &b);
	EXPECT_EQ(0, close(cfd));
	tiny.len = rechunk_bytes(&b, &tiny.buf);
	ASSERT_LE(8 * 96 * KiB, tiny.len) TH_LOG("the blob was not cut up");
	ON_NODE(NODE2);
	ASSERT_EQ(0, sh("tc qdisc del dev mig2 root"));

	cfd = restore_on(_metadata, self, NODE3, &tiny);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, queue_memory(cfd, &rmem, &wmem));
	/* The data's pages, and some skbs: not 64 Ki pages. */
	EXPECT_GE(2 * 64 * KiB, rmem) TH_LOG("64 KiB restored in %u bytes", rmem);
	EXPECT_GE(2 * 32 * KiB, wmem) TH_LOG("32 KiB restored in %u bytes", wmem);
	EXPECT_TRUE(recv_at(_metadata, cfd, 240, 0, 64 * KiB));
	EXPECT_TRUE(recv_at(_metadata, afd, 241, 0, 32 * KiB));
	exchange(_metadata, cfd, afd, 242, 256 * KiB);
	blob_free(&tiny);
	blob_free(&b);
	close(cfd);
	close(afd);
}

/* Node 1's end moves to node 3 and back; data both ways at each stop. */
TEST_F_TIMEOUT(cluster, migrate_there_and_back, 120)
{
	static const unsigned int hops[] = { NODE3, NODE1, NODE3, NODE1 };
	struct sockaddr_mig name, now;
	unsigned int i;
	int cfd, afd;

	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	name = name_of(cfd, false);
	for (i = 0; i < ARRAY_SIZE(hops); i++) {
		TH_LOG("to node %u", hops[i]);
		send_at(_metadata, afd, 220, i * 2000, 2000);
		ASSERT_TRUE(wait_inq(cfd, 2000, WAIT_MS));
		MIGRATE(&cfd, hops[i]);
		now = name_of(cfd, false);
		EXPECT_TRUE(addr_eq(&name, &now));
		EXPECT_TRUE(recv_at(_metadata, cfd, 220, i * 2000, 2000));
		send_at(_metadata, cfd, 221, i * 1000, 1000);
		EXPECT_TRUE(recv_at(_metadata, afd, 221, i * 1000, 1000));
	}
	TRANSFER_SHA256(cfd, afd, 256 * KiB, 256 * KiB, 64 * KiB);
	close(cfd);
	close(afd);
}

/*
 * Both ends of a connection migrate at the same time: node 1's to node 3,
 * node 2's to node 4, both frozen, checkpointed and closed before either
 * is restored.  Each end's unread data, and everything afterwards,
 * arrives exactly once.
 */
TEST_F_TIMEOUT(cluster, both_ends_migrate_at_once, 120)
{
	struct blob bc, ba;
	int cfd, afd;

	add_nodes(_metadata, self, NODE4);
	CONNECT_PAIR(&cfd, &afd);
	send_at(_metadata, afd, 230, 0, 3000);
	send_at(_metadata, cfd, 231, 0, 3000);
	ASSERT_TRUE(wait_inq(cfd, 3000, WAIT_MS));
	ASSERT_TRUE(wait_inq(afd, 3000, WAIT_MS));
	freeze_checkpoint(_metadata, cfd, 0, &bc);
	freeze_checkpoint(_metadata, afd, 0, &ba);
	close(cfd);
	close(afd);
	cfd = restore_on(_metadata, self, NODE3, &bc);
	afd = restore_on(_metadata, self, NODE4, &ba);
	ASSERT_LE(0, cfd);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, set_timeouts(cfd, XFER_GUARD_SEC));
	ASSERT_EQ(0, set_timeouts(afd, XFER_GUARD_SEC));
	EXPECT_TRUE(recv_at(_metadata, cfd, 230, 0, 3000));
	EXPECT_TRUE(recv_at(_metadata, afd, 231, 0, 3000));
	send_at(_metadata, cfd, 231, 3000, 2000);
	EXPECT_TRUE(recv_at(_metadata, afd, 231, 3000, 2000))
		TH_LOG("node 3 -> node 4 after both moved");
	send_at(_metadata, afd, 230, 3000, 2000);
	EXPECT_TRUE(recv_at(_metadata, cfd, 230, 3000, 2000))
		TH_LOG("node 4 -> node 3 after both moved");
	TRANSFER_SHA256(cfd, afd, 256 * KiB, 256 * KiB, 64 * KiB);
	blob_free(&bc);
	blob_free(&ba);
	close(cfd);
	close(afd);
}

#define Q_PORT		7400
#define Q_CONNS		3

/*
 * A listener of node 1 with three connections in its accept queue (each
 * with 1000 bytes its client sent) moves to node 3; the clients send 500
 * bytes more meanwhile.  accept() on the restored listener returns the
 * three, in queue order, with the listener's name, each with its 1500
 * bytes; they talk to their clients both ways; there is no fourth.
 */
TEST_F_TIMEOUT(cluster, listener_moves_with_its_queue, 120)
{
	struct sockaddr_mig lname, now, cname;
	int lfd, q[Q_CONNS], afd, i;
	const struct migtcp_ckpt_hdr *h;
	struct blob b;

	add_nodes(_metadata, self, NODE3);
	lfd = listener(_metadata, self->family, Q_PORT, 8);
	ASSERT_LE(0, lfd);
	lname = name_of(lfd, false);
	ON_NODE(NODE2);
	for (i = 0; i < Q_CONNS; i++) {
		q[i] = mig_socket(self->family, 0);
		ASSERT_LE(0, q[i]);
		ASSERT_EQ(0, connect_to(q[i], self->family, NODE1, Q_PORT));
		send_at(_metadata, q[i], 240 + i, 0, 1000);
		ASSERT_TRUE(wait_outq(q[i], 0, WAIT_MS));
	}
	freeze_checkpoint(_metadata, lfd, 0, &b);
	h = (const void *)b.buf;
	EXPECT_EQ(1U + Q_CONNS, h->nr_recs);
	close(lfd);
	for (i = 0; i < Q_CONNS; i++)
		send_at(_metadata, q[i], 240 + i, 1000, 500);
	sleep_ms(100);

	lfd = restore_on(_metadata, self, NODE3, &b);
	ASSERT_LE(0, lfd);
	EXPECT_EQ(TCP_LISTEN_, info_of(lfd).state);
	now = name_of(lfd, false);
	EXPECT_TRUE(addr_eq(&lname, &now));
	for (i = 0; i < Q_CONNS; i++) {
		afd = accept_waiting(_metadata, lfd);
		ASSERT_LE(0, afd);
		ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
		now = name_of(afd, false);
		EXPECT_TRUE(addr_eq(&lname, &now));
		now = name_of(afd, true);
		cname = name_of(q[i], false);
		EXPECT_TRUE(addr_eq(&cname, &now))
			TH_LOG("accept() %d returned port %u, queued %d was port %u",
			       i, ntohs(now.smig_port), i,
			       ntohs(cname.smig_port));
		EXPECT_TRUE(recv_at(_metadata, afd, 240 + i, 0, 1500));
		exchange(_metadata, afd, q[i], 250 + 2 * i, 2000);
		/* Its home, node 1, knows where it is now. */
		EXPECT_TRUE(wait_ctl_acked(afd, 10000))
			TH_LOG("queued connection %d: never acknowledged", i);
		close(afd);
	}
	ASSERT_EQ(0, fcntl(lfd, F_SETFL, O_NONBLOCK));
	ASSERT_FAILS_WITH(EAGAIN, accept(lfd, NULL, NULL));
	blob_free(&b);
	for (i = 0; i < Q_CONNS; i++)
		close(q[i]);
	close(lfd);
}

#define BL_PORT		7420

/* The backlog in listener @fd's checkpoint (frozen, then thawed). */
static long backlog_in_checkpoint(struct __test_metadata *_metadata, int fd)
{
	static struct ckpt_model m;
	struct blob b;
	long backlog;

	freeze_checkpoint(_metadata, fd, 0, &b);
	EXPECT_EQ(0, thaw(fd));
	if (model_parse(b.buf, b.len, &m)) {
		blob_free(&b);
		return -1;
	}
	backlog = (long)model_uint(&m.rec[0], MIGTCP_CKPT_A_BACKLOG, 0);
	blob_free(&b);
	return backlog;
}

/*
 * A restored listener's backlog is what listen() would give it on its new
 * node: node 1's listener with a backlog of 4000 moves to node 3, whose
 * somaxconn is 16, and has a backlog of 16 there; it still accepts.
 */
TEST_F_TIMEOUT(cluster, restored_backlog_is_at_most_somaxconn, 120)
{
	int lfd, cfd, afd;

	add_nodes(_metadata, self, NODE3);
	GO(NODE3);
	ASSERT_EQ(0, sh("sysctl -qw net.core.somaxconn=16"));
	ON_NODE(NODE1);
	lfd = listener(_metadata, self->family, BL_PORT, 4000);
	ASSERT_LE(0, lfd);
	EXPECT_EQ(4000, backlog_in_checkpoint(_metadata, lfd));
	MIGRATE(&lfd, NODE3);
	EXPECT_EQ(16, backlog_in_checkpoint(_metadata, lfd));
	ON_NODE(NODE2);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE1, BL_PORT));
	ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
	exchange(_metadata, cfd, afd, 286, 1000);
	close(afd);
	close(cfd);
	close(lfd);
}

#define CG_PORT		7410
#define CG_TABLE	"inet migtcp_ckpt_cg"

/*
 * The connections in a restored listener's queue are made as the
 * listener's own are: in its cgroup, not in the restoring task's.  Node
 * 1's listener, one connection queued, moves to node 3 onto a socket made
 * in a cgroup of its own by a task that then goes back to the root
 * cgroup before MIGTCP_RESTORE.  Once data has gone both ways, a node 3
 * output rule on that cgroup ("socket cgroupv2") drops what the accepted
 * connection sends to its client, which gets none of it.
 */
TEST_F_TIMEOUT(cluster, restored_queue_is_in_the_listeners_cgroup, 120)
{
	char cg[128], name[64], match[128];
	int lfd, cfd, afd, fd;
	struct blob b;
	__u8 byte;
	long hits;

	ASSERT_NE(NULL, make_cgroup(cg, sizeof(cg), name, sizeof(name)))
		TH_LOG("no cgroup2 hierarchy at " CGROOT);
	add_nodes(_metadata, self, NODE3);
	lfd = listener(_metadata, self->family, CG_PORT, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE2);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE1, CG_PORT));
	ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
	ON_NODE(NODE1);
	wait_accept_queued(_metadata, lfd);
	freeze_checkpoint(_metadata, lfd, 0, &b);
	close(lfd);

	GO(NODE3);
	ASSERT_EQ(0, enter_cgroup(cg));
	fd = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, enter_cgroup(CGROOT));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, restore(fd, b.buf, b.len))
		TH_LOG("MIGTCP_RESTORE: %s", strerror(errno));
	afd = accept_waiting(_metadata, fd);
	ASSERT_LE(0, afd);
	/* The listener's home, node 1, acknowledges where it is now. */
	EXPECT_TRUE(wait_ctl_acked(fd, 10000));
	exchange(_metadata, afd, cfd, 280, 1000);

	/*
	 * Only what goes to node 2, where the client is: the listener, in
	 * the cgroup too, has nothing to say to node 2 (its updates go to
	 * its home, node 1).
	 */
	snprintf(match, sizeof(match),
		 "ip daddr %s socket cgroupv2 level 1 \"%s\"", NODE2_ADDR,
		 name);
	nft_migtcp_rule(_metadata, CG_TABLE, "output", match, "drop");
	ASSERT_EQ(1, send(afd, "x", 1, 0));
	hits = wait_nft_hits(CG_TABLE, 1, WAIT_MS);
	EXPECT_LE(1, hits)
		TH_LOG("the accepted connection is not in the listener's cgroup");
	EXPECT_EQ(0, poll_one(cfd, POLLIN, 500));
	EXPECT_EQ(-1, recv(cfd, &byte, 1, MSG_DONTWAIT));

	blob_free(&b);
	close(afd);
	close(fd);
	close(cfd);
	rmdir(cg);
}

/*
 * Node 1 sent its data and shut down its sending side, and node 2 has
 * the FIN; node 1's end (FIN_WAIT2, with bytes from node 2 unread) moves
 * to node 3.  Node 2 reads the data and EOF; node 3 reads what node 2
 * sent before and after, then node 2's EOF; it cannot send.
 */
TEST_F_TIMEOUT(cluster, half_closed_here_migrates, 120)
{
	int cfd, afd;

	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	send_at(_metadata, cfd, 260, 0, 2000);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	ASSERT_TRUE(wait_state(cfd, TCP_FIN_WAIT2_, WAIT_MS));
	send_at(_metadata, afd, 261, 0, 1500);
	ASSERT_TRUE(wait_inq(cfd, 1500, WAIT_MS));
	MIGRATE(&cfd, NODE3);
	EXPECT_EQ(TCP_FIN_WAIT2_, info_of(cfd).state);
	EXPECT_TRUE(recv_at(_metadata, afd, 260, 0, 2000));
	expect_eof(_metadata, afd);
	EXPECT_TRUE(recv_at(_metadata, cfd, 261, 0, 1500));
	send_at(_metadata, afd, 261, 1500, 2500);
	ASSERT_EQ(0, shutdown(afd, SHUT_WR));
	EXPECT_TRUE(recv_at(_metadata, cfd, 261, 1500, 2500));
	expect_eof(_metadata, cfd);
	ASSERT_FAILS_WITH(EPIPE, send(cfd, "x", 1, MSG_NOSIGNAL));
	close(cfd);
	close(afd);
}

/*
 * Node 2 sent its data and shut down; node 1's end (CLOSE_WAIT, the data
 * and the FIN unread) moves to node 3, which reads the data, then EOF,
 * and can still send: node 2 reads that and EOF after node 3's shutdown.
 */
TEST_F_TIMEOUT(cluster, half_closed_by_peer_migrates, 120)
{
	int cfd, afd;

	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	send_at(_metadata, afd, 270, 0, 1500);
	ASSERT_EQ(0, shutdown(afd, SHUT_WR));
	ASSERT_TRUE(wait_state(cfd, TCP_CLOSE_WAIT_, WAIT_MS));
	MIGRATE(&cfd, NODE3);
	EXPECT_EQ(TCP_CLOSE_WAIT_, info_of(cfd).state);
	EXPECT_TRUE(recv_at(_metadata, cfd, 270, 0, 1500));
	expect_eof(_metadata, cfd);
	send_at(_metadata, cfd, 271, 0, 2500);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	EXPECT_TRUE(recv_at(_metadata, afd, 271, 0, 2500));
	expect_eof(_metadata, afd);
	close(cfd);
	close(afd);
}

#define B_PORT		7410
#define B_LPORT		7411

/* Gives every node up to @last the same cluster key. */
static void same_key_everywhere(struct __test_metadata *_metadata,
				CLUSTER *self, unsigned int last)
{
	char path[64];
	unsigned int n;

	snprintf(path, sizeof(path), "/tmp/ckpt_test.%d.key", getpid());
	ASSERT_EQ(0, migtcp_test_key_file(path, 7));
	for (n = NODE1; n <= last; n++) {
		GO(n);
		EXPECT_EQ(0, migtcp_test_ctl("node set key-file %s", path))
			TH_LOG("cannot set node %u's key", n);
	}
	unlink(path);
}

/*
 * An unbound and a bound socket of node 1 move to node 3 and are what
 * they were: the same getsockname(); the bound one connects from its
 * identity (node 2 sees node 1's port as the peer; the cluster has a
 * key, without which a SYN of node 1's identity from node 3's address
 * proves nothing: auth_test), the unbound one binds where it now is.
 * The home keeps the bound port while it lives.
 */
TEST_F_TIMEOUT(cluster, unbound_and_bound_migrate, 120)
{
	struct sockaddr_mig un, bn, now;
	int u, b, l2, afd, other;
	long refused;

	add_nodes(_metadata, self, NODE3);
	ON_NODE(NODE1);
	u = mig_socket(self->family, 0);
	b = mig_socket(self->family, 0);
	ASSERT_LE(0, u);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, bind_to(b, self->family, 0, B_PORT));
	un = name_of(u, false);
	bn = name_of(b, false);
	EXPECT_EQ(NODE1, bn.smig_node);
	MIGRATE(&u, NODE3);
	MIGRATE(&b, NODE3);
	now = name_of(u, false);
	EXPECT_TRUE(addr_eq(&un, &now)) TH_LOG("the unbound socket's name changed");
	now = name_of(b, false);
	EXPECT_TRUE(addr_eq(&bn, &now)) TH_LOG("the bound socket's name changed");

	/* Node 1, its home, does not give the port to anyone else. */
	ON_NODE(NODE1);
	other = mig_socket(self->family, 0);
	ASSERT_LE(0, other);
	errno = 0;
	EXPECT_EQ(-1, bind_to(other, self->family, 0, B_PORT))
		TH_LOG("node 1 gave port %d, which its endpoint on node 3 still has, to another socket",
		       B_PORT);
	EXPECT_EQ(EADDRINUSE, errno);
	close(other);

	ON_NODE(NODE2);
	l2 = listener(_metadata, self->family, B_LPORT, 8);
	ASSERT_LE(0, l2);
	refused = stat_of(self, NODE2, "InSynBadSource");
	same_key_everywhere(_metadata, self, NODE3);
	ASSERT_EQ(0, connect_to(b, self->family, NODE2, B_LPORT))
		TH_LOG("connect from the restored bound socket: %s",
		       strerror(errno));
	afd = accept_waiting(_metadata, l2);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
	EXPECT_EQ(refused, stat_of(self, NODE2, "InSynBadSource"));
	now = name_of(afd, true);
	EXPECT_TRUE(addr_eq(&bn, &now)) TH_LOG("node 2 sees port %u of node %u",
					       ntohs(now.smig_port),
					       now.smig_node);
	exchange(_metadata, b, afd, 280, 2000);
	close(afd);

	ASSERT_EQ(0, bind_to(u, self->family, 0, B_PORT + 2))
		TH_LOG("bind of the restored unbound socket: %s",
		       strerror(errno));
	now = name_of(u, false);
	EXPECT_EQ(NODE3, now.smig_node);
	EXPECT_EQ(htons(B_PORT + 2), now.smig_port);
	close(l2);
	close(u);
	close(b);
}

/*
 * A port the user bound stays bound when the connection ends, as TCP's
 * does (SOCK_BINDPORT_LOCK), also after the socket moved: node 2 resets
 * the connection of a bound socket restored on node 3, and the socket
 * still has node 1's port.
 */
TEST_F_TIMEOUT(cluster, bound_port_outlives_migrated_connection, 120)
{
	const struct linger abort_linger = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_mig bn, now;
	int b, l2, afd;
	char byte;

	add_nodes(_metadata, self, NODE3);
	ON_NODE(NODE2);
	l2 = listener(_metadata, self->family, B_LPORT, 8);
	ASSERT_LE(0, l2);
	ON_NODE(NODE1);
	b = mig_socket(self->family, 0);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, bind_to(b, self->family, 0, B_PORT));
	ASSERT_EQ(0, connect_to(b, self->family, NODE2, B_LPORT));
	afd = accept_waiting(_metadata, l2);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
	bn = name_of(b, false);
	MIGRATE(&b, NODE3);
	ASSERT_EQ(0, set_timeouts(b, GUARD_SEC));
	exchange(_metadata, b, afd, 281, 2000);

	ASSERT_EQ(0, setsockopt(afd, SOL_SOCKET, SO_LINGER, &abort_linger,
				sizeof(abort_linger)));
	close(afd);
	errno = 0;
	EXPECT_EQ(-1, recv(b, &byte, 1, 0));
	EXPECT_EQ(ECONNRESET, errno);
	now = name_of(b, false);
	EXPECT_TRUE(addr_eq(&bn, &now))
		TH_LOG("after the reset the socket is port %u of node %u, not port %u of node %u",
		       ntohs(now.smig_port), now.smig_node,
		       ntohs(bn.smig_port), bn.smig_node);
	close(l2);
	close(b);
}

/*
 * A bound socket restored away from its home keeps its identity when a
 * connect() from it fails, as a bound TCP socket keeps its port: node 1's
 * bound socket, restored on node 3, is refused by node 2; a second
 * restore of its checkpoint on node 3 is EADDRINUSE, and the socket then
 * connects.  The failed connect() used to leave the identity unclaimed on
 * node 3, so that the second restore made a twin.
 */
#define KI_PORT		7464
#define KI_LPORT	7465

TEST_F_TIMEOUT(cluster, restored_bound_socket_keeps_identity, 120)
{
	struct sockaddr_mig bn, now;
	int b, l2, afd, twin;
	struct blob bb;

	add_nodes(_metadata, self, NODE3);
	same_key_everywhere(_metadata, self, NODE3);
	ON_NODE(NODE1);
	b = mig_socket(self->family, 0);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, bind_to(b, self->family, 0, KI_PORT));
	bn = name_of(b, false);
	freeze_checkpoint(_metadata, b, 0, &bb);
	close(b);
	b = restore_on(_metadata, self, NODE3, &bb);
	ASSERT_LE(0, b);

	ASSERT_FAILS_WITH(ECONNREFUSED, connect_to(b, self->family, NODE2,
						   KI_LPORT));
	now = name_of(b, false);
	EXPECT_TRUE(addr_eq(&bn, &now)) TH_LOG("the socket's name changed");
	twin = mig_socket(self->family, 0);
	ASSERT_LE(0, twin);
	ASSERT_FAILS_WITH(EADDRINUSE, restore(twin, bb.buf, bb.len));
	close(twin);

	ON_NODE(NODE2);
	l2 = listener(_metadata, self->family, KI_LPORT, 8);
	ASSERT_LE(0, l2);
	ASSERT_EQ(0, connect_to(b, self->family, NODE2, KI_LPORT))
		TH_LOG("connect: %s", strerror(errno));
	afd = accept_waiting(_metadata, l2);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
	now = name_of(afd, true);
	EXPECT_TRUE(addr_eq(&bn, &now));
	exchange(_metadata, b, afd, 468, 1000);
	blob_free(&bb);
	close(afd);
	close(l2);
	close(b);
}

/*
 * A socket that gave up the identity it brought from another node is one
 * of this node's again: node 2 resets the connection of an unbound socket
 * restored on node 3, the socket binds a port of node 3 and closes, and
 * that port is free for the next socket, three times over (a socket left
 * in the port table after it is freed would make the bind fail, or walk
 * freed memory).
 */
#define F_PORT		7430
#define F_LPORT		7431

TEST_F_TIMEOUT(cluster, foreign_identity_given_up, 120)
{
	const struct linger abort_linger = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_mig now;
	int round, l2, cfd, afd, next;
	char byte;

	add_nodes(_metadata, self, NODE3);
	ON_NODE(NODE2);
	l2 = listener(_metadata, self->family, F_LPORT, 8);
	ASSERT_LE(0, l2);
	for (round = 0; round < 3; round++) {
		ON_NODE(NODE1);
		cfd = mig_socket(self->family, 0);
		ASSERT_LE(0, cfd);
		ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, F_LPORT));
		afd = accept_waiting(_metadata, l2);
		ASSERT_LE(0, afd);
		ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
		MIGRATE(&cfd, NODE3);
		exchange(_metadata, cfd, afd, 283, 1000);
		ASSERT_EQ(0, setsockopt(afd, SOL_SOCKET, SO_LINGER,
					&abort_linger, sizeof(abort_linger)));
		close(afd);
		errno = 0;
		EXPECT_EQ(-1, recv(cfd, &byte, 1, 0));
		EXPECT_EQ(ECONNRESET, errno);
		now = name_of(cfd, false);
		EXPECT_EQ(0, now.smig_port)
			TH_LOG("the reset socket kept port %u of node %u",
			       ntohs(now.smig_port), now.smig_node);

		GO(NODE3);
		ASSERT_EQ(0, bind_to(cfd, self->family, 0, F_PORT))
			TH_LOG("bind after the reset: %s", strerror(errno));
		now = name_of(cfd, false);
		EXPECT_EQ(NODE3, now.smig_node);
		EXPECT_EQ(htons(F_PORT), now.smig_port);
		close(cfd);
		next = mig_socket(self->family, 0);
		ASSERT_LE(0, next);
		EXPECT_EQ(0, bind_to(next, self->family, 0, F_PORT))
			TH_LOG("port %u of node 3 is still taken: %s", F_PORT,
			       strerror(errno));
		close(next);
	}
	close(l2);
}

/*
 * Whatever buffer sizes SO_SNDBUF/SO_RCVBUF and their FORCE variants can
 * give a socket migrate with it: the smallest (a request of 1 byte gives
 * the kernel's minimums, and the receive minimum is below the send one)
 * and the largest (INT_MAX forced gives INT_MAX - 1).  Each end moves to
 * node 3 with its sizes, and the data still flows.
 */
TEST_F_TIMEOUT(cluster, extreme_buffer_sizes_migrate, 120)
{
	static const struct {
		int opt_snd, opt_rcv, val;
	} sizes[] = {
		{ SO_SNDBUF, SO_RCVBUF, 1 },
		{ SO_SNDBUFFORCE, SO_RCVBUFFORCE, INT_MAX },
	};
	struct restored_opts before, after;
	unsigned int i;
	int cfd, afd;

	add_nodes(_metadata, self, NODE3);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ON_NODE(NODE1);
		CONNECT_PAIR(&cfd, &afd);
		ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, sizes[i].opt_snd,
					&sizes[i].val, sizeof(int)));
		ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, sizes[i].opt_rcv,
					&sizes[i].val, sizeof(int)));
		read_restored_opts(_metadata, cfd, &before);
		TH_LOG("SO_SNDBUF %d, SO_RCVBUF %d", before.sndbuf,
		       before.rcvbuf);
		MIGRATE(&cfd, NODE3);
		read_restored_opts(_metadata, cfd, &after);
		EXPECT_EQ(before.sndbuf, after.sndbuf);
		EXPECT_EQ(before.rcvbuf, after.rcvbuf);
		exchange(_metadata, cfd, afd, 284 + i, 1000);
		close(cfd);
		close(afd);
	}
}

/* One of two restores of the same checkpoint that race. */
struct racing_restore {
	pthread_barrier_t *start;
	const struct blob *b;
	int family, fd, err;
};

static void *racing_restore_main(void *arg)
{
	struct racing_restore *r = arg;

	r->err = 0;
	r->fd = socket(r->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		r->err = errno;
	pthread_barrier_wait(r->start);
	if (r->fd >= 0 && restore(r->fd, r->b->buf, r->b->len))
		r->err = errno;
	return NULL;
}

/*
 * Two restores of one checkpoint on the same node at the same time: one
 * gets the connection, the other fails with EADDRINUSE, as a restore
 * after the first would (and not with another errno, depending on where
 * the two met), twenty times over.  The winner's connection works.
 */
TEST_F_TIMEOUT(cluster, racing_restores_one_wins, 120)
{
	struct racing_restore r[2];
	pthread_barrier_t start;
	pthread_t t[2];
	int round, cfd, afd, i, winners;
	struct blob b;

	add_nodes(_metadata, self, NODE3);
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, 2));
	for (round = 0; round < 20; round++) {
		CONNECT_PAIR(&cfd, &afd);
		freeze_checkpoint(_metadata, cfd, 0, &b);
		close(cfd);
		GO(NODE3);	/* the threads are made on node 3 */
		for (i = 0; i < 2; i++) {
			r[i].start = &start;
			r[i].b = &b;
			r[i].family = self->family;
			ASSERT_EQ(0, pthread_create(&t[i], NULL,
						    racing_restore_main, &r[i]));
		}
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		blob_free(&b);
		winners = 0;
		cfd = -1;
		for (i = 0; i < 2; i++) {
			if (!r[i].err) {
				winners++;
				cfd = r[i].fd;
				continue;
			}
			EXPECT_EQ(EADDRINUSE, r[i].err)
				TH_LOG("round %d: a losing restore: %s", round,
				       strerror(r[i].err));
			if (r[i].fd >= 0)
				close(r[i].fd);
		}
		ASSERT_EQ(1, winners);
		ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
		exchange(_metadata, cfd, afd, 287, 500);
		close(cfd);
		close(afd);
	}
	pthread_barrier_destroy(&start);
}

#define NA_PORT		7440

/*
 * A node with an id and no underlay address reaches its own connections
 * over loopback, and its control messages come from there: a connection
 * between two of its sockets, one end frozen then thawed, goes on, with
 * its update acknowledged and not dropped as from an unknown host.
 */
TEST_F_TIMEOUT(cluster, thaw_on_node_without_address, 120)
{
	int lfd, cfd, afd;
	long bad_host;

	ASSERT_EQ(0, migtcp_test_new_netns());
	ASSERT_EQ(0, migtcp_test_ctl("node set id 5"));
	bad_host = stat_here("InCtlBadHost");
	ASSERT_LE(0, bad_host);
	lfd = listener(_metadata, self->family, NA_PORT, 8);
	ASSERT_LE(0, lfd);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, self->family, 5, NA_PORT))
		TH_LOG("connect over loopback: %s", strerror(errno));
	ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
	exchange(_metadata, cfd, afd, 288, 1000);
	ASSERT_EQ(0, freeze(cfd, 0));
	ASSERT_EQ(0, thaw(cfd));
	EXPECT_TRUE(wait_ctl_acked(cfd, 10000));
	EXPECT_EQ(bad_host, stat_here("InCtlBadHost"));
	exchange(_metadata, cfd, afd, 289, 1000);
	close(afd);
	close(cfd);
	close(lfd);
}

#define OPT_PORT	7450
#define OPT_MARK	0x4d4947
#define OPT_PRIORITY	5

/* @fd's SO_MARK, SO_PRIORITY and SO_BINDTODEVICE, as they read. */
struct route_opts {
	int mark, priority;
	char dev[IFNAMSIZ];
};

static struct route_opts route_opts_of(struct __test_metadata *_metadata,
				       int fd)
{
	struct route_opts o = {};
	socklen_t len = sizeof(int);

	EXPECT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_MARK, &o.mark, &len));
	len = sizeof(int);
	EXPECT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_PRIORITY, &o.priority,
				&len));
	len = sizeof(o.dev);
	EXPECT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o.dev, &len));
	return o;
}

static void set_route_opts(struct __test_metadata *_metadata, int fd,
			   const char *dev)
{
	int mark = OPT_MARK, prio = OPT_PRIORITY;

	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)));
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio,
				sizeof(prio)));
	if (dev)
		ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev,
					strlen(dev) + 1))
			TH_LOG("SO_BINDTODEVICE %s: %s", dev, strerror(errno));
}

#define EXPECT_ROUTE_OPTS(o, want_dev) do {				\
	EXPECT_EQ(OPT_MARK, (o).mark);					\
	EXPECT_EQ(OPT_PRIORITY, (o).priority);				\
	EXPECT_STREQ(want_dev, (o).dev);				\
} while (0)

/*
 * A socket's SO_MARK, SO_PRIORITY and SO_BINDTODEVICE move with it: the
 * device by its name, which node 3 also has (its underlay device is
 * renamed mig1, as node 1's), so that the connection still flows through
 * it.  A socket bound to a device node 3 has no device of the name of
 * cannot be restored there (ENODEV, and the fresh socket stays fresh)
 * until node 3 has one.  A listener's queued connection gets its
 * listener's options, not the restoring socket's.
 */
TEST_F_TIMEOUT(cluster, route_options_migrate, 120)
{
	int cfd, afd, b, fresh, lfd, qfd, zero = 0;
	struct sockaddr_mig name;
	struct route_opts o;
	struct blob bb, lb;

	add_nodes(_metadata, self, NODE3);
	GO(NODE3);
	ASSERT_EQ(0, sh("ip link set eth3 down && ip link set eth3 name mig1 && "
			"ip link set mig1 up"));

	/* A connection, through its device. */
	ON_NODE(NODE1);
	CONNECT_PAIR(&cfd, &afd);
	set_route_opts(_metadata, cfd, "mig1");
	exchange(_metadata, cfd, afd, 290, 1000);
	MIGRATE(&cfd, NODE3);
	o = route_opts_of(_metadata, cfd);
	EXPECT_ROUTE_OPTS(o, "mig1");
	exchange(_metadata, cfd, afd, 291, 1000);
	close(afd);

	/* A device node 3 lacks, then has. */
	ON_NODE(NODE1);
	ASSERT_EQ(0, sh("ip link add migdev type dummy && ip link set migdev up"));
	b = mig_socket(self->family, 0);
	ASSERT_LE(0, b);
	set_route_opts(_metadata, b, "migdev");
	ASSERT_EQ(0, bind_to(b, self->family, 0, OPT_PORT));
	freeze_checkpoint(_metadata, b, 0, &bb);
	close(b);
	GO(NODE3);
	fresh = mig_socket(self->family, 0);
	ASSERT_LE(0, fresh);
	ASSERT_FAILS_WITH(ENODEV, restore(fresh, bb.buf, bb.len));
	name = name_of(fresh, false);
	EXPECT_EQ(0, name.smig_port);
	o = route_opts_of(_metadata, fresh);
	EXPECT_EQ(0, o.mark);
	EXPECT_EQ(0, o.priority);
	EXPECT_STREQ("", o.dev);
	ASSERT_EQ(0, sh("ip link add migdev type dummy && ip link set migdev up"));
	ASSERT_EQ(0, restore(fresh, bb.buf, bb.len))
		TH_LOG("MIGTCP_RESTORE: %s", strerror(errno));
	name = name_of(fresh, false);
	EXPECT_EQ(htons(OPT_PORT), name.smig_port);
	o = route_opts_of(_metadata, fresh);
	EXPECT_ROUTE_OPTS(o, "migdev");
	close(fresh);

	/* A listener's queued connection. */
	ON_NODE(NODE1);
	lfd = listener(_metadata, self->family, OPT_PORT + 1, 8);
	ASSERT_LE(0, lfd);
	set_route_opts(_metadata, lfd, NULL);
	ON_NODE(NODE2);
	qfd = mig_socket(self->family, 0);
	ASSERT_LE(0, qfd);
	ASSERT_EQ(0, connect_to(qfd, self->family, NODE1, OPT_PORT + 1));
	ASSERT_EQ(0, set_timeouts(qfd, GUARD_SEC));
	ON_NODE(NODE1);
	wait_accept_queued(_metadata, lfd);
	freeze_checkpoint(_metadata, lfd, 0, &lb);
	close(lfd);
	GO(NODE3);
	lfd = mig_socket(self->family, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, setsockopt(lfd, SOL_SOCKET, SO_MARK, &zero, sizeof(zero)));
	ASSERT_EQ(0, restore(lfd, lb.buf, lb.len))
		TH_LOG("MIGTCP_RESTORE: %s", strerror(errno));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
	o = route_opts_of(_metadata, afd);
	EXPECT_ROUTE_OPTS(o, "");
	exchange(_metadata, afd, qfd, 292, 1000);
	blob_free(&bb);
	blob_free(&lb);
	close(afd);
	close(qfd);
	close(lfd);
	close(cfd);
}

/*
 * An orphan in FIN_WAIT2 ends after timewait_secs even if its peer froze
 * and thawed meanwhile: the peer's HOLD stops the orphan's timer (which
 * in FIN_WAIT2 is the linger timer, not a retransmission's), and the
 * LOCATION-UPDATE that ends the hold must start it again.  The peer stays
 * in CLOSE_WAIT, sending nothing, as a process that never closes.
 */
TEST_F_TIMEOUT(cluster, orphan_fin_wait2_ends_after_a_hold, 60)
{
	const int linger_secs = 2;
	int cfd, afd, i;
	char byte;

	ASSERT_EQ(0, sh("echo %d >/sys/module/migtcp/parameters/timewait_secs",
			linger_secs));
	CONNECT_PAIR(&cfd, &afd);
	exchange(_metadata, cfd, afd, 290, 1000);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	/* The FIN is in and acknowledged: node 1's end is in FIN_WAIT2. */
	EXPECT_EQ(0, recv(afd, &byte, 1, 0));
	ASSERT_TRUE(wait_state(cfd, TCP_FIN_WAIT2_, WAIT_MS));
	close(cfd);
	ASSERT_EQ(1, sockets_on(self, NODE1));
	ASSERT_EQ(0, freeze(afd, 0));
	ASSERT_TRUE(wait_ctl_acked(afd, 10000)) TH_LOG("the HOLD was not acknowledged");
	ASSERT_EQ(0, thaw(afd));
	ASSERT_TRUE(wait_ctl_acked(afd, 10000)) TH_LOG("the update was not acknowledged");
	for (i = 0; i < (linger_secs + 3) * 10 && sockets_on(self, NODE1); i++)
		sleep_ms(100);
	EXPECT_EQ(0, sockets_on(self, NODE1))
		TH_LOG("node 1's orphan outlived timewait_secs (%d s) by 3 s",
		       linger_secs);
	close(afd);
}

/*
 * A restore that fails leaves the socket fresh, connection state
 * included: a checkpoint of a connection whose FIN is queued (node 1's
 * end, after shutdown(SHUT_WR)) is refused on a fresh socket of node 1,
 * where that end still lives; the socket then connects and shuts down
 * its own writing side, and its peer reads EOF (a FIN marked queued from
 * the checkpoint would never be sent), and once the peer closes too it
 * ends in TIME_WAIT.
 */
TEST_F_TIMEOUT(cluster, connection_after_failed_restore_sends_its_fin, 60)
{
	int cfd, afd, fresh, afd2, i;
	struct blob cb;
	char byte;

	CONNECT_PAIR(&cfd, &afd);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	EXPECT_EQ(0, recv(afd, &byte, 1, 0));
	freeze_checkpoint(_metadata, cfd, 0, &cb);
	ON_NODE(NODE1);
	fresh = mig_socket(self->family, 0);
	ASSERT_LE(0, fresh);
	ASSERT_FAILS_WITH(EADDRINUSE, restore(fresh, cb.buf, cb.len));
	blob_free(&cb);
	ASSERT_EQ(0, thaw(cfd));

	connect_pair(_metadata, self, &fresh, &afd2);
	ASSERT_EQ(0, set_timeouts(fresh, GUARD_SEC));
	exchange(_metadata, fresh, afd2, 293, 1000);
	ASSERT_EQ(0, shutdown(fresh, SHUT_WR));
	errno = 0;
	EXPECT_EQ(0, recv(afd2, &byte, 1, 0))
		TH_LOG("no EOF after the shutdown: %s", strerror(errno));
	close(afd2);
	for (i = 0; i < 100 && info_of(fresh).state != TCP_TIME_WAIT_; i++)
		sleep_ms(20);
	EXPECT_EQ(TCP_TIME_WAIT_, info_of(fresh).state);
	close(fresh);
	close(afd);
	close(cfd);
}

/*
 * An orphan away from its home ends its FIN_WAIT2 wait after
 * timewait_secs, although it renews its registration at its home every
 * migration timeout, more often than that: node 1's end moves to node 3,
 * closes, and its peer never does.
 */
TEST_F_TIMEOUT(cluster, foreign_orphan_fin_wait2_ends, 60)
{
	const int linger_secs = 3;
	int cfd, afd, i;
	char byte;

	ASSERT_EQ(0, sh("echo %d >/sys/module/migtcp/parameters/timewait_secs",
			linger_secs));
	ASSERT_EQ(0, sh("echo 1000 >/sys/module/migtcp/parameters/migration_timeout_ms"));
	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	MIGRATE(&cfd, NODE3);
	exchange(_metadata, cfd, afd, 294, 1000);
	close(cfd);
	EXPECT_EQ(0, recv(afd, &byte, 1, 0));
	for (i = 0; i < (linger_secs + 5) * 10 && sockets_on(self, NODE3); i++)
		sleep_ms(100);
	EXPECT_EQ(0, sockets_on(self, NODE3))
		TH_LOG("node 3's orphan outlived timewait_secs (%d s) by 5 s",
		       linger_secs);
	close(afd);
}

/*
 * The record a migrated socket leaves is no orphan (pernet.c): with
 * max_orphans 0, node 1's end still moves to node 3, its record stays at
 * its home, nothing is reset for want of room, and the connection goes on.
 */
TEST_F_TIMEOUT(cluster, record_is_no_orphan, 120)
{
	struct sockaddr_mig name;
	int cfd, afd;
	long aborts;

	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	name = name_of(cfd, false);
	ON_NODE(NODE1);
	aborts = stat_here("AbortOnMemory");
	ASSERT_LE(0, aborts) TH_LOG("node 1 has no counter AbortOnMemory");
	ASSERT_EQ(0, sh("echo 0 >/sys/module/migtcp/parameters/max_orphans"))
		TH_LOG("cannot set the module parameter max_orphans");
	MIGRATE(&cfd, NODE3);
	EXPECT_EQ(1, sockets_with_local(self, NODE1, NODE1,
					ntohs(name.smig_port)));
	EXPECT_EQ(aborts, node_stat(self, NODE1, "AbortOnMemory"));
	exchange(_metadata, cfd, afd, 282, 2000);
	close(cfd);
	close(afd);
}

/* Packets dropped on @dev of @node (netem_dropped_dev()), or -1. */
static long dropped_on(CLUSTER *self, unsigned int node, const char *dev)
{
	return netem_dropped_dev(node_ns(self, node), node, dev);
}

/*
 * A migration in the middle of two streams, through netem on every path
 * (5% loss, reordering, delay): node 2 writes 2 MiB and reads 1 MiB
 * without pause; node 1's end takes the first quarter of each, moves to
 * node 3 and does the rest there.  Every byte arrives exactly once, in
 * order, followed by EOF, and the loss was real: node 2 also drops every
 * 8th packet of data it sends to node 1, which reads 512 KiB (8 packets
 * at least) before it moves (add_determ_loss()).
 */
TEST_F_TIMEOUT(cluster, migrate_through_loss_and_reordering, 300)
{
	static const char netem[] = "loss 5% reorder 25% 50% delay 10ms 5ms";
	struct stream w = { .len = 2 * MiB, .seed = 290 };
	struct stream r = { .reader = true, .len = 1 * MiB, .seed = 291,
			    .until_eof = true };
	struct stream w3 = { .len = 1 * MiB, .seed = 291 };
	struct stream r3 = { .reader = true, .len = 2 * MiB, .seed = 290,
			     .until_eof = true };
	long dropped;
	pthread_t tw, tr, tw3, tr3;
	int cfd, afd;

	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	add_netem(_metadata, self, NODE1, netem);
	add_netem(_metadata, self, NODE2, netem);
	add_determ_loss(_metadata, self, NODE2, 8);
	ON_NODE(NODE2);
	ASSERT_EQ(0, sh("tc qdisc add dev mig3 root netem %s", netem));
	GO(NODE3);
	ASSERT_EQ(0, sh("tc qdisc add dev eth3 root netem %s", netem));
	ASSERT_EQ(0, set_timeouts(afd, XFER_GUARD_SEC));
	ASSERT_EQ(0, set_timeouts(cfd, XFER_GUARD_SEC));

	w.fd = r.fd = afd;
	w.max_chunk = r.max_chunk = w3.max_chunk = r3.max_chunk = 64 * KiB;
	ASSERT_EQ(0, pthread_create(&tw, NULL, writer_main, &w));
	ASSERT_EQ(0, pthread_create(&tr, NULL, reader_main, &r));
	send_at(_metadata, cfd, 291, 0, 256 * KiB);
	EXPECT_TRUE(recv_at(_metadata, cfd, 290, 0, 512 * KiB));
	MIGRATE(&cfd, NODE3);
	ASSERT_EQ(0, set_timeouts(cfd, XFER_GUARD_SEC));
	w3.fd = r3.fd = cfd;
	w3.done = 256 * KiB;	/* both go on where node 1 stopped */
	r3.done = 512 * KiB;
	ASSERT_EQ(0, pthread_create(&tw3, NULL, writer_main, &w3));
	ASSERT_EQ(0, pthread_create(&tr3, NULL, reader_main, &r3));
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	pthread_join(tw3, NULL);
	pthread_join(tr3, NULL);
	if (!check_delivered(_metadata, "2->1->3", &w, &r3) |
	    !check_delivered(_metadata, "1->3->2", &w3, &r))
		dump_nodes(self);
	dropped = dropped_on(self, NODE1, "mig1") + dropped_on(self, NODE2, "mig2") +
		  dropped_on(self, NODE2, "mig3") + dropped_on(self, NODE3, "eth3");
	EXPECT_LT(0, dropped) TH_LOG("netem dropped nothing");
	close(cfd);
	close(afd);
}

#define TIMEOUT_PARAM	"/sys/module/migtcp/parameters/migration_timeout_ms"

static int write_param(const char *path, long v)
{
	FILE *f = fopen(path, "we");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%ld\n", v) < 0;
	return fclose(f) || ret ? -1 : 0;
}

/*
 * Checkpointed and closed, never restored: the peer's blocked recv()
 * fails with ETIMEDOUT once the hold time is over, not before: the
 * module's migration_timeout_ms (2000 here) when the freeze asks for
 * the default, the time the freeze asks for when that is shorter.
 */
TEST_F_TIMEOUT(cluster, restore_never_comes, 60)
{
	static const int holds[] = { 0, 1000 };
	unsigned int i;

	ASSERT_LT(0, self->param[PARAM_MIGRATION_TIMEOUT_MS])
		TH_LOG("no parameter migration_timeout_ms");
	ASSERT_EQ(0, write_param(TIMEOUT_PARAM, 2000));
	for (i = 0; i < ARRAY_SIZE(holds); i++) {
		const long want = holds[i] ?: 2000;
		struct blob b;
		int cfd, afd;
		long start, ms;
		char c;

		CONNECT_PAIR(&cfd, &afd);
		EXPECT_EQ(0, set_timeouts(afd, 10));
		start = now_ms();
		EXPECT_EQ(0, freeze(cfd, holds[i]));
		EXPECT_EQ(0, checkpoint(cfd, &b));
		close(cfd);
		errno = 0;
		EXPECT_EQ(-1, recv(afd, &c, 1, 0));
		ms = now_ms() - start;
		EXPECT_EQ(ETIMEDOUT, errno) TH_LOG("recv failed with %s",
						   errname(errno));
		TH_LOG("hold %d ms: recv failed after %ld ms", holds[i], ms);
		EXPECT_LE(want - 50, ms);
		EXPECT_GE(want + 1500, ms);
		EXPECT_EQ(TCP_CLOSE_, info_of(afd).state);
		blob_free(&b);
		close(afd);
	}
	/* The fixture's teardown puts the module's value back. */
}

/*
 * Security: control messages (docs/protocol.md, "Migration control
 * messages").  The test knows a connection's key from its checkpoint, so
 * it can build messages whose only fault is the one under test, and
 * check the MAC of the ones the kernel sends.
 */

#define CTL_LABEL	"migtcp v1 ctl"
#define CTL_HDR_LEN	((int)sizeof(struct migtcphdr))
#define CTL_MAX		(CTL_HDR_LEN + 72)

static const __u8 *ctl_tlv(const struct raw_seg *c)
{
	return c->buf + CTL_HDR_LEN;
}

/* The MAC of control segment @seg (header and TLV of @len) under @key. */
static void ctl_mac(const __u8 *key, const __u8 *seg, int len, __u8 *mac)
{
	__u8 msg[sizeof(CTL_LABEL) - 1 + 12 + 72];
	unsigned int n = sizeof(CTL_LABEL) - 1, out = 0;

	memcpy(msg, CTL_LABEL, n);
	memcpy(msg + n, seg + 4, 12);
	n += 12;
	memcpy(msg + n, seg + CTL_HDR_LEN, len);
	memset(msg + n + len - MIGTCP_CTL_MAC_LEN, 0, MIGTCP_CTL_MAC_LEN);
	n += len;
	HMAC(EVP_sha256(), key, MIGTCP_KEY_LEN, msg, n, mac, &out);
}

static bool ctl_mac_ok(const __u8 *key, const struct raw_seg *c)
{
	__u8 mac[32];
	int len = c->len - CTL_HDR_LEN;

	ctl_mac(key, c->buf, len, mac);
	return !memcmp(mac, ctl_tlv(c) + len - MIGTCP_CTL_MAC_LEN, 32);
}

/*
 * A control segment from (@snode, @sport) to (@dnode, @dport) carrying
 * @tlv, its MAC taken under @key, checksummed for @saddr to @daddr.
 */
static void build_ctl(struct raw_seg *c, __u32 snode, __u16 sport,
		      __u32 dnode, __u16 dport, const void *tlv, int len,
		      const __u8 *key, const char *saddr, const char *daddr)
{
	struct migtcphdr h = {
		.version = MIGTCP_WIRE_VERSION,
		.doff = MIGTCP_HDR_MIN_DOFF,
		.flags = htons(MIGTCP_F_CTL),
		.src_node = htonl(snode),
		.dst_node = htonl(dnode),
		.src_port = htons(sport),
		.dst_port = htons(dport),
	};

	memset(c, 0, sizeof(*c));
	memcpy(c->buf, &h, sizeof(h));
	memcpy(c->buf + CTL_HDR_LEN, tlv, len);
	c->len = CTL_HDR_LEN + len;
	ctl_mac(key, c->buf, len, c->buf + c->len - MIGTCP_CTL_MAC_LEN);
	migtcp_test_set_csum(c->buf, c->len, inet_addr(saddr),
			     inet_addr(daddr), migtcp_proto());
}

static struct migtcp_ctl_update update_tlv(__u64 epoch, __u32 host,
					   __u32 peer_node, __u16 peer_port,
					   const char *addr)
{
	struct migtcp_ctl_update u = {
		.type = MIGTCP_CTL_LOCATION_UPDATE,
		.len = htons(sizeof(u)),
		.epoch = htobe64(epoch),
		.host_node = htonl(host),
		.peer_node = htonl(peer_node),
		.peer_port = htons(peer_port),
		.family = MIGTCP_CTL_ADDR_IN,
	};
	__be32 a = inet_addr(addr);

	memcpy(u.host_addr, &a, 4);
	return u;
}

/*
 * Waits up to @ms on raw socket @fd for a control segment with TLV type
 * @type from (@snode, @sport); copies it without its IP header.
 */
static bool ctl_wait(int fd, int ms, __u8 type, __u32 snode, __u16 sport,
		     struct raw_seg *c)
{
	long end = now_ms() + ms;
	const struct migtcphdr *h = (const void *)c->buf;

	while (raw_next_seg(fd, end, CTL_HDR_LEN + 1, CTL_MAX, c))
		if (ntohs(h->flags) == MIGTCP_F_CTL &&
		    c->buf[CTL_HDR_LEN] == type &&
		    ntohl(h->src_node) == snode && ntohs(h->src_port) == sport)
			return true;
	return false;
}

/* The control counters a forged message may move. */
static const char * const ctl_counters[] = {
	"InCtlErrors", "InCtlNoState", "InCtlBadMac", "InCtlStaleEpoch",
	"InCtlBadHost", "OutCtl", "InMoved", "InCtlMacLimited",
};

struct ctl_stats {
	long v[ARRAY_SIZE(ctl_counters)];
};

static void ctl_stats(CLUSTER *self, unsigned int node, struct ctl_stats *s)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ctl_counters); i++)
		s->v[i] = stat_of(self, node, ctl_counters[i]);
}

/*
 * Checks that counter @name of @node went up by exactly 1 from @before
 * (waiting for it) and that every other control counter stayed.
 */
static void expect_only(struct __test_metadata *_metadata, CLUSTER *self,
			unsigned int node, const struct ctl_stats *before,
			const char *name)
{
	struct ctl_stats now;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ctl_counters); i++)
		if (!strcmp(ctl_counters[i], name))
			stat_wait_for(self, node, name, before->v[i] + 1,
				      WAIT_MS);
	sleep_ms(100);
	ctl_stats(self, node, &now);
	for (i = 0; i < ARRAY_SIZE(ctl_counters); i++) {
		long want = before->v[i] + !strcmp(ctl_counters[i], name);

		if (now.v[i] == want)
			continue;
		TH_LOG("node %u: %s went from %ld to %ld, expected %ld", node,
		       ctl_counters[i], before->v[i], now.v[i], want);
		_metadata->passed = 0;
	}
}

/* The counter @name of @s, one of ctl_counters. */
static long ctl_stat(const struct ctl_stats *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ctl_counters); i++)
		if (!strcmp(ctl_counters[i], name))
			return s->v[i];
	abort();
}

/*
 * Freezes, checkpoints and thaws @fd: its connection key and epoch.
 * Returns once the peer acknowledged the thaw's update, so that no
 * resent copy moves the peer's control counters afterwards.
 */
static void learn_secrets(struct __test_metadata *_metadata, int fd,
			  struct conn_secrets *cs)
{
	struct blob b;

	freeze_checkpoint(_metadata, fd, 0, &b);
	ASSERT_EQ(0, thaw(fd));
	ASSERT_TRUE(wait_ctl_acked(fd, WAIT_MS))
		TH_LOG("the thaw's update is not acknowledged");
	ASSERT_EQ(0, model_secrets(&b, cs))
		TH_LOG("no connection key in the checkpoint");
	blob_free(&b);
}

/*
 * The HOLD a freeze sends and the LOCATION-UPDATE a thaw sends are laid
 * out as docs/protocol.md says, with the epoch of the checkpoint, the
 * hold time asked for, node 1's identity and address, and a MAC under
 * the connection key; node 2 acknowledges each with a LOCATION-ACK of
 * the same epoch and type, under the same key.
 */
TEST_F(cluster, control_messages_as_specified)
{
	const struct migtcp_ctl_update *u;
	const struct migtcp_ctl_hold *h;
	const struct migtcp_ctl_ack *a;
	struct raw_seg hold, upd, ack;
	struct conn_secrets cs;
	int cfd, afd, cap2, cap1;
	__u16 cport;
	struct blob b;
	__be32 addr1 = inet_addr(NODE1_ADDR);
	__u8 zero[12] = { 0 };

	CONNECT_PAIR(&cfd, &afd);
	cport = local_port(cfd);
	cap2 = raw_on(_metadata, self, NODE2);
	cap1 = raw_on(_metadata, self, NODE1);
	ASSERT_LE(0, cap2);
	ASSERT_LE(0, cap1);
	freeze_checkpoint(_metadata, cfd, 3000, &b);
	ASSERT_EQ(0, model_secrets(&b, &cs));
	ASSERT_TRUE(ctl_wait(cap2, WAIT_MS, MIGTCP_CTL_HOLD, NODE1, cport, &hold))
		TH_LOG("node 2 received no HOLD");
	ASSERT_TRUE(ctl_wait(cap1, WAIT_MS, MIGTCP_CTL_LOCATION_ACK, NODE2,
			     PORT, &ack)) TH_LOG("node 1 received no LOCATION-ACK");
	ASSERT_EQ(0, thaw(cfd));
	ASSERT_TRUE(ctl_wait(cap2, WAIT_MS, MIGTCP_CTL_LOCATION_UPDATE, NODE1,
			     cport, &upd)) TH_LOG("node 2 received no LOCATION-UPDATE");

	ASSERT_EQ(CTL_HDR_LEN + 48, hold.len);
	h = (const void *)ctl_tlv(&hold);
	EXPECT_EQ(0, h->flags);
	EXPECT_EQ(48, ntohs(h->len));
	EXPECT_EQ(cs.epoch, be64toh(h->epoch));
	EXPECT_NE(0ULL, cs.epoch);
	EXPECT_EQ(3000U, ntohl(h->hold_ms));
	EXPECT_EQ(NODE2, ntohl(((const struct migtcphdr *)hold.buf)->dst_node));
	EXPECT_EQ(MIGTCP_HDR_MIN_DOFF, ((const struct migtcphdr *)hold.buf)->doff);
	EXPECT_EQ(0, memcmp(hold.buf + 16, zero, 10)) TH_LOG("seq, ack, window not 0");
	EXPECT_TRUE(ctl_mac_ok(cs.key, &hold)) TH_LOG("the HOLD's MAC is wrong");

	ASSERT_EQ(CTL_HDR_LEN + 52, ack.len);
	a = (const void *)ctl_tlv(&ack);
	EXPECT_EQ(52, ntohs(a->len));
	EXPECT_EQ(cs.epoch, be64toh(a->epoch));
	EXPECT_EQ(MIGTCP_CTL_HOLD, a->acked_type);
	EXPECT_TRUE(ctl_mac_ok(cs.key, &ack)) TH_LOG("the LOCATION-ACK's MAC is wrong");

	ASSERT_EQ(CTL_HDR_LEN + 72, upd.len);
	u = (const void *)ctl_tlv(&upd);
	EXPECT_EQ(0, u->flags);
	EXPECT_EQ(72, ntohs(u->len));
	EXPECT_EQ(cs.epoch, be64toh(u->epoch));
	EXPECT_EQ(NODE1, ntohl(u->host_node));
	EXPECT_EQ(NODE2, ntohl(u->peer_node));
	EXPECT_EQ(PORT, ntohs(u->peer_port));
	EXPECT_EQ(MIGTCP_CTL_ADDR_IN, u->family);
	EXPECT_EQ(0, u->reserved);
	EXPECT_EQ(0, memcmp(u->host_addr, &addr1, 4));
	EXPECT_EQ(0, memcmp(u->host_addr + 4, zero, 12));
	EXPECT_TRUE(ctl_mac_ok(cs.key, &upd)) TH_LOG("the LOCATION-UPDATE's MAC is wrong");
	ASSERT_TRUE(ctl_wait(cap1, WAIT_MS, MIGTCP_CTL_LOCATION_ACK, NODE2,
			     PORT, &ack)) TH_LOG("no LOCATION-ACK of the update");
	a = (const void *)ctl_tlv(&ack);
	EXPECT_EQ(MIGTCP_CTL_LOCATION_UPDATE, a->acked_type);
	EXPECT_EQ(cs.epoch, be64toh(a->epoch));
	EXPECT_TRUE(ctl_mac_ok(cs.key, &ack));
	exchange(_metadata, cfd, afd, 300, 1000);
	blob_free(&b);
	close(cap1);
	close(cap2);
	close(cfd);
	close(afd);
}

/*
 * What a forger's test starts from: a connection from node 1 to node 2
 * that has carried data (seq), the secrets of node 1's end, a key one
 * bit away from its connection key, and a raw socket sending from node
 * 1's address.
 */
struct forgery {
	int cfd, afd, tx;
	__u16 cport;
	struct conn_secrets cs;
	__u8 wrong[MIGTCP_KEY_LEN];
};

static void forge_setup(struct __test_metadata *_metadata, CLUSTER *self,
			struct forgery *f, int seq)
{
	CONNECT_PAIR(&f->cfd, &f->afd);
	f->cport = local_port(f->cfd);
	learn_secrets(_metadata, f->cfd, &f->cs);
	exchange(_metadata, f->cfd, f->afd, seq, 1000);
	memcpy(f->wrong, f->cs.key, sizeof(f->wrong));
	f->wrong[0] ^= 1;
	f->tx = raw_bound_in(_metadata, node_ns(self, NODE1), NODE1_ADDR);
	ASSERT_LE(0, f->tx);
}

/*
 * Sends node 2, from node 1's address, a LOCATION-UPDATE for node 1's end
 * of @f at @epoch that names @host_addr, under @key, and checks that of
 * node 2's control counters only @counter moves, by one.
 */
static void forge_update(struct __test_metadata *_metadata, CLUSTER *self,
			 const struct forgery *f, __u64 epoch,
			 const char *host_addr, const __u8 *key,
			 const char *counter)
{
	struct migtcp_ctl_update u;
	struct ctl_stats before;
	struct raw_seg c;

	ctl_stats(self, NODE2, &before);
	u = update_tlv(epoch, NODE1, NODE2, PORT, host_addr);
	build_ctl(&c, NODE1, f->cport, NODE2, PORT, &u, sizeof(u), key,
		  NODE1_ADDR, NODE2_ADDR);
	raw_send(_metadata, f->tx, &c, NODE2_ADDR);
	expect_only(_metadata, self, NODE2, &before, counter);
}

static void forge_teardown(struct forgery *f)
{
	close(f->tx);
	close(f->cfd);
	close(f->afd);
}

/*
 * LOCATION-UPDATEs and a HOLD with a wrong MAC, but nothing else wrong,
 * sent to node 2 from node 1's address: each is dropped and counted in
 * InCtlBadMac only, node 2 answers nothing and keeps sending to node 1.
 * The same update with the right MAC, an exact copy of the one the thaw
 * sent, is acknowledged: the test's MAC is the protocol's.
 */
TEST_F(cluster, forged_mac_dropped)
{
	struct migtcp_ctl_hold h;
	struct ctl_stats before;
	struct forgery f;
	struct raw_seg c;

	forge_setup(_metadata, self, &f, 310);

	forge_update(_metadata, self, &f, f.cs.epoch + 5, NODE1_ADDR, f.wrong,
		     "InCtlBadMac");
	exchange(_metadata, f.cfd, f.afd, 312, 1000);

	/* One that would take the connection away to node 3's address. */
	forge_update(_metadata, self, &f, f.cs.epoch + 6, NODE3_ADDR, f.wrong,
		     "InCtlBadMac");
	exchange(_metadata, f.cfd, f.afd, 314, 1000);

	/* A HOLD that would stall node 2 for a minute. */
	ctl_stats(self, NODE2, &before);
	h = (struct migtcp_ctl_hold){
		.type = MIGTCP_CTL_HOLD, .len = htons(sizeof(h)),
		.epoch = htobe64(f.cs.epoch + 7), .hold_ms = htonl(60000),
	};
	build_ctl(&c, NODE1, f.cport, NODE2, PORT, &h, sizeof(h), f.wrong,
		  NODE1_ADDR, NODE2_ADDR);
	raw_send(_metadata, f.tx, &c, NODE2_ADDR);
	expect_only(_metadata, self, NODE2, &before, "InCtlBadMac");
	exchange(_metadata, f.cfd, f.afd, 316, 1000);

	/* The thaw's own update again, MAC by the test: acknowledged. */
	forge_update(_metadata, self, &f, f.cs.epoch, NODE1_ADDR, f.cs.key,
		     "OutCtl");
	exchange(_metadata, f.cfd, f.afd, 318, 1000);
	forge_teardown(&f);
}

/*
 * Sends @n copies of control message @c from raw socket @tx to node 2 and
 * waits until node 2 has counted each, as a wrong MAC or as one dropped
 * unchecked: how long the sending took, in ms, and the counters after.
 */
static long forge_burst(struct __test_metadata *_metadata, CLUSTER *self,
			int tx, const struct raw_seg *c, int n,
			const struct ctl_stats *before, struct ctl_stats *after)
{
	long start = now_ms(), took, end, heard;
	int i;

	for (i = 0; i < n; i++)
		raw_send(_metadata, tx, c, NODE2_ADDR);
	took = now_ms() - start;
	end = now_ms() + WAIT_MS;
	do {
		ctl_stats(self, NODE2, after);
		heard = ctl_stat(after, "InCtlBadMac") -
			ctl_stat(before, "InCtlBadMac") +
			ctl_stat(after, "InCtlMacLimited") -
			ctl_stat(before, "InCtlMacLimited");
		if (heard >= n)
			break;
		sleep_ms(20);
	} while (now_ms() < end);
	EXPECT_EQ(n, heard) TH_LOG("node 2 counted %ld of %d forged messages",
				   heard, n);
	return took;
}

/*
 * A flood of LOCATION-UPDATEs with a wrong MAC for node 1's end, from
 * node 3's address (where the first update after a move to node 3 would
 * come from).  With mac_failure_limit 8, node 2 computes the MAC of 4 to
 * 11 of them a second (a budget drawn from [limit/2, limit*3/2)) and
 * drops the rest unchecked (InCtlMacLimited); no other counter moves, and
 * nothing is answered.  The peer's own address is not silenced: right
 * after the burst, a forged message from node 1's address is still
 * checked, and the thaw's own update from there is acknowledged.  With
 * the limit 1, at least one forged message a second is checked; with the
 * limit 0, every one.
 */
TEST_F(cluster, forged_macs_rate_limited)
{
	const int limit = 8, most = limit / 2 + limit - 1, n = 4 * most;
	struct ctl_stats before, after;
	struct migtcp_ctl_update u;
	long bad, limited, took;
	struct forgery f;
	struct raw_seg c;
	int tx3, round;

	ASSERT_EQ(0, sh("echo %d >/sys/module/migtcp/parameters/mac_failure_limit",
			limit));
	add_nodes(_metadata, self, NODE3);
	forge_setup(_metadata, self, &f, 320);
	tx3 = raw_bound_in(_metadata, node_ns(self, NODE3), NODE3_ADDR);
	ASSERT_LE(0, tx3);
	u = update_tlv(f.cs.epoch + 5, NODE3, NODE2, PORT, NODE3_ADDR);
	build_ctl(&c, NODE1, f.cport, NODE2, PORT, &u, sizeof(u), f.wrong,
		  NODE3_ADDR, NODE2_ADDR);

	/*
	 * Budgets are refilled when the kernel's second changes.  A burst
	 * sent within a second sees at most two of them, so that at most
	 * 2 * most of its n messages are checked.  A burst that took longer
	 * (a guest starved of CPU) proves nothing and is sent again.
	 */
	for (round = 0; round < 5; round++) {
		ctl_stats(self, NODE2, &before);
		took = forge_burst(_metadata, self, tx3, &c, n, &before, &after);
		bad = ctl_stat(&after, "InCtlBadMac") -
		      ctl_stat(&before, "InCtlBadMac");
		limited = ctl_stat(&after, "InCtlMacLimited") -
			  ctl_stat(&before, "InCtlMacLimited");
		TH_LOG("%d forged in %ld ms: %ld checked, %ld dropped unchecked",
		       n, took, bad, limited);
		if (took < 1000)
			break;
		sleep_ms(1100);
	}
	ASSERT_GT(1000, took) TH_LOG("no burst of %d sends took under a second", n);
	EXPECT_LE(limit / 2, bad);
	EXPECT_GE(2 * most, bad);
	EXPECT_EQ(n, bad + limited);
	EXPECT_EQ(ctl_stat(&before, "OutCtl"), ctl_stat(&after, "OutCtl"));
	EXPECT_EQ(ctl_stat(&before, "InCtlNoState"),
		  ctl_stat(&after, "InCtlNoState"));
	EXPECT_EQ(ctl_stat(&before, "InCtlStaleEpoch"),
		  ctl_stat(&after, "InCtlStaleEpoch"));

	/* From the peer's address: checked, whatever node 3 spent. */
	forge_update(_metadata, self, &f, f.cs.epoch + 6, NODE1_ADDR, f.wrong,
		     "InCtlBadMac");
	forge_update(_metadata, self, &f, f.cs.epoch, NODE1_ADDR, f.cs.key,
		     "OutCtl");
	exchange(_metadata, f.cfd, f.afd, 322, 1000);

	/* The limit 1: never a budget of 0, whatever the draw. */
	sleep_ms(1100);
	ASSERT_EQ(0, sh("echo 1 >/sys/module/migtcp/parameters/mac_failure_limit"));
	ctl_stats(self, NODE2, &before);
	forge_burst(_metadata, self, tx3, &c, 3, &before, &after);
	EXPECT_LE(1, ctl_stat(&after, "InCtlBadMac") -
		     ctl_stat(&before, "InCtlBadMac"));

	/* No limit: each forged message is checked. */
	ASSERT_EQ(0, sh("echo 0 >/sys/module/migtcp/parameters/mac_failure_limit"));
	ctl_stats(self, NODE2, &before);
	forge_burst(_metadata, self, tx3, &c, n, &before, &after);
	EXPECT_EQ(n, ctl_stat(&after, "InCtlBadMac") -
		     ctl_stat(&before, "InCtlBadMac"));
	EXPECT_EQ(ctl_stat(&before, "InCtlMacLimited"),
		  ctl_stat(&after, "InCtlMacLimited"));
	exchange(_metadata, f.cfd, f.afd, 326, 1000);
	close(tx3);
	forge_teardown(&f);
}

/*
 * A real LOCATION-UPDATE captured on node 2 (node 1's end moving to node
 * 3) and replayed from node 3 after the end has moved back to node 1:
 * dropped as stale (InCtlStaleEpoch), unanswered; node 2 keeps the
 * connection at node 1.
 */
TEST_F_TIMEOUT(cluster, replayed_update_dropped, 120)
{
	struct ctl_stats before;
	struct raw_seg old;
	int cfd, afd, cap, tx;
	__u16 cport;

	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	cport = local_port(cfd);
	cap = raw_on(_metadata, self, NODE2);
	ASSERT_LE(0, cap);
	MIGRATE(&cfd, NODE3);
	ASSERT_TRUE(ctl_wait(cap, WAIT_MS, MIGTCP_CTL_LOCATION_UPDATE, NODE1,
			     cport, &old)) TH_LOG("no LOCATION-UPDATE from node 3");
	EXPECT_EQ(inet_addr(NODE3_ADDR), old.saddr);
	exchange(_metadata, cfd, afd, 320, 1000);
	MIGRATE(&cfd, NODE1);
	exchange(_metadata, cfd, afd, 322, 1000);
	ASSERT_TRUE(wait_ctl_acked(cfd, WAIT_MS));

	tx = raw_bound_in(_metadata, node_ns(self, NODE3), NODE3_ADDR);
	ASSERT_LE(0, tx);
	ctl_stats(self, NODE2, &before);
	raw_send(_metadata, tx, &old, NODE2_ADDR);
	expect_only(_metadata, self, NODE2, &before, "InCtlStaleEpoch");
	exchange(_metadata, cfd, afd, 324, 1000);
	EXPECT_EQ(1, sockets_with_local(self, NODE1, NODE1, cport));
	close(tx);
	close(cap);
	close(cfd);
	close(afd);
}

/*
 * A LOCATION-UPDATE that is right in every way (MAC under the connection
 * key, a newer epoch) but names a host node 2 does not know (node 5, at
 * an address of node 1's it is sent from): dropped, counted in
 * InCtlBadHost only, unanswered; node 2 keeps sending to node 1.  Its
 * epoch was not taken: a real migration afterwards, with the next epoch,
 * works.
 */
TEST_F_TIMEOUT(cluster, update_from_unknown_host_dropped, 120)
{
	struct migtcp_ctl_update u;
	struct ctl_stats before;
	struct conn_secrets cs;
	struct raw_seg c;
	int cfd, afd, tx;
	__u16 cport;

	add_nodes(_metadata, self, NODE3);
	CONNECT_PAIR(&cfd, &afd);
	cport = local_port(cfd);
	learn_secrets(_metadata, cfd, &cs);
	exchange(_metadata, cfd, afd, 330, 1000);
	ON_NODE(NODE1);
	ASSERT_EQ(0, sh("ip addr add 198.51.100.5/24 dev mig1"));
	tx = raw_bound_in(_metadata, node_ns(self, NODE1), "198.51.100.5");
	ASSERT_LE(0, tx);

	ctl_stats(self, NODE2, &before);
	u = update_tlv(cs.epoch + 10, 5, NODE2, PORT, "198.51.100.5");
	build_ctl(&c, NODE1, cport, NODE2, PORT, &u, sizeof(u), cs.key,
		  "198.51.100.5", NODE2_ADDR);
	raw_send(_metadata, tx, &c, NODE2_ADDR);
	expect_only(_metadata, self, NODE2, &before, "InCtlBadHost");
	exchange(_metadata, cfd, afd, 332, 1000);

	MIGRATE(&cfd, NODE3);
	exchange(_metadata, cfd, afd, 334, 1000);
	close(tx);
	close(cfd);
	close(afd);
}

/*
 * Starts a non-blocking connect() of @cfd to @port of node 2, whose
 * listener is @lfd, and waits until both ends are established; returns
 * the accepted socket, with the guard's timeouts.
 */
static int connect_nonblocking(struct __test_metadata *_metadata,
			       CLUSTER *self, int cfd, int lfd,
			       uint16_t port)
{
	int afd;

	ASSERT_FAILS_WITH(EINPROGRESS, connect_to(cfd, self->family, NODE2,
						  port));
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
	ASSERT_EQ(POLLOUT, poll_one(cfd, POLLOUT, WAIT_MS));
	return afd;
}

/*
 * Node 2's listener @lfd on @port and node 1's non-blocking socket @cfd
 * connected to it (connect_nonblocking()); returns the accepted socket.
 */
static int nonblocking_pair(struct __test_metadata *_metadata, CLUSTER *self,
			    uint16_t port, int *lfd, int *cfd)
{
	ON_NODE(NODE2);
	*lfd = listener(_metadata, self->family, port, 8);
	ASSERT_LE(0, *lfd);
	ON_NODE(NODE1);
	*cfd = mig_socket(self->family, SOCK_NONBLOCK);
	ASSERT_LE(0, *cfd);
	return connect_nonblocking(_metadata, self, *cfd, *lfd, port);
}

/*
 * A non-blocking connect() that completed and was never called again
 * leaves the socket connecting for the socket layer; once that connection
 * ends, connect() reports the end and the next one connects anew, as
 * tcp_disconnect() leaves a TCP socket.  Nothing of the old connection
 * may carry over: not its FIN (marked queued, the new connection's would
 * never go, its closing states would wait for ever, and a checkpoint
 * would fail its own validation with EIO), not its unread data.
 */
#define RC_LPORT	7460

TEST_F(cluster, reconnect_starts_afresh)
{
	struct linger abort_linger = { .l_onoff = 1, .l_linger = 0 };
	int lfd, cfd, afd, revents;
	struct blob b;

	afd = nonblocking_pair(_metadata, self, RC_LPORT, &lfd, &cfd);

	/* Our FIN goes and is acknowledged; data waits unread. */
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	expect_eof(_metadata, afd);
	send_at(_metadata, afd, 460, 0, 100);
	ASSERT_TRUE(wait_inq(cfd, 100, WAIT_MS));
	/* The peer resets the connection: it is over. */
	ASSERT_EQ(0, setsockopt(afd, SOL_SOCKET, SO_LINGER, &abort_linger,
				sizeof(abort_linger)));
	close(afd);
	revents = poll_one(cfd, 0, WAIT_MS);
	ASSERT_TRUE(revents > 0 && (revents & POLLHUP))
		TH_LOG("the reset did not end the connection (%d)", revents);

	/* connect() reports how it ended; the next one starts afresh. */
	errno = 0;
	EXPECT_EQ(-1, connect_to(cfd, self->family, NODE2, RC_LPORT));
	EXPECT_TRUE(errno == ECONNRESET || errno == ECONNABORTED)
		TH_LOG("connect: %s", strerror(errno));
	afd = connect_nonblocking(_metadata, self, cfd, lfd, RC_LPORT);
	EXPECT_EQ(0, inq(cfd));

	/* The new connection can be checkpointed, and carries only its data. */
	ASSERT_EQ(0, freeze(cfd, 0));
	EXPECT_EQ(0, checkpoint(cfd, &b))
		TH_LOG("MIGTCP_CHECKPOINT: %s", strerror(errno));
	blob_free(&b);
	ASSERT_EQ(0, thaw(cfd));
	ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
	ASSERT_EQ(0, fcntl(cfd, F_SETFL, 0));
	exchange(_metadata, cfd, afd, 462, 1000);

	/* Its own FIN goes: the peer reads the end of the stream. */
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	expect_eof(_metadata, afd);
	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * A non-blocking connect() whose connection is closing already when
 * connect() is called again succeeds, as inet_stream_connect() does: the
 * connection is still the socket's.  It failed with ECONNABORTED and left
 * the socket unconnected, so that the connect() after the connection's
 * end started a new one over the old one's state (its FIN marked queued,
 * never sent: the closing states waited for ever, and a checkpoint failed
 * its own validation with EIO).
 */
#define RS_LPORT	7462

TEST_F(cluster, connect_sees_closing_connection)
{
	int lfd, cfd, afd;

	afd = nonblocking_pair(_metadata, self, RS_LPORT, &lfd, &cfd);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	expect_eof(_metadata, afd);

	EXPECT_EQ(0, connect_to(cfd, self->family, NODE2, RS_LPORT))
		TH_LOG("connect: %s", strerror(errno));
	ASSERT_FAILS_WITH(EISCONN, connect_to(cfd, self->family, NODE2,
					      RS_LPORT));
	close(afd);
	ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
	ASSERT_EQ(0, fcntl(cfd, F_SETFL, 0));
	expect_eof(_metadata, cfd);
	/* Over, and still connected for the socket layer: no new start. */
	ASSERT_FAILS_WITH(EISCONN, connect_to(cfd, self->family, NODE2,
					      RS_LPORT));
	close(cfd);
	close(lfd);
}

/*
 * A connection that ends while relocating (its peer never acknowledged
 * the update: the migration timeout ends it) leaves nothing of the
 * relocation behind: the socket may be frozen again, and a connection it
 * makes next sends (a stale relocation would hold its data for ever).
 */
#define RR_LPORT	7461
#define RR_TABLE	"inet migtcp_rr"

TEST_F_TIMEOUT(cluster, reconnect_after_relocation_timeout, 60)
{
	struct linger abort_linger = { .l_onoff = 1, .l_linger = 0 };
	int lfd, cfd, afd, old, revents;

	ASSERT_EQ(0, sh("echo 1000 >/sys/module/migtcp/parameters/migration_timeout_ms"));
	old = nonblocking_pair(_metadata, self, RR_LPORT, &lfd, &cfd);

	/* Node 2 hears nothing more of node 1: the relocation times out. */
	ON_NODE(NODE1);
	nft_migtcp_rule(_metadata, RR_TABLE, "output",
			"ip daddr " NODE2_ADDR, "drop");
	ASSERT_EQ(0, freeze(cfd, 0));
	ASSERT_EQ(0, thaw(cfd));
	revents = poll_one(cfd, 0, 10000);
	EXPECT_TRUE(revents > 0 && (revents & POLLHUP))
		TH_LOG("the relocation did not time out (%d)", revents);
	ASSERT_EQ(0, sh("nft delete table " RR_TABLE));
	EXPECT_EQ(0, freeze(cfd, 0)) TH_LOG("freeze: %s", strerror(errno));
	EXPECT_EQ(0, thaw(cfd)) TH_LOG("thaw: %s", strerror(errno));

	errno = 0;
	EXPECT_EQ(-1, connect_to(cfd, self->family, NODE2, RR_LPORT));
	EXPECT_EQ(ETIMEDOUT, errno) TH_LOG("connect: %s", strerror(errno));
	afd = connect_nonblocking(_metadata, self, cfd, lfd, RR_LPORT);
	ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
	ASSERT_EQ(0, fcntl(cfd, F_SETFL, 0));
	exchange(_metadata, cfd, afd, 464, 1000);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	expect_eof(_metadata, afd);

	ASSERT_EQ(0, setsockopt(old, SOL_SOCKET, SO_LINGER, &abort_linger,
				sizeof(abort_linger)));
	close(old);
	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * A frozen socket keeps the state a checkpoint takes: bind(), listen()
 * and connect() are EBUSY until it is thawed.  A connect() on a frozen
 * unconnected socket used to start a connection whose SYN could not go,
 * so that the checkpoint found it connecting.
 */
#define FRZ_LPORT	7463

TEST_F(cluster, frozen_socket_changes_no_state)
{
	int lfd, cfd, afd, fd;

	ON_NODE(NODE2);
	lfd = listener(_metadata, self->family, FRZ_LPORT, 8);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, freeze(lfd, 0));
	ASSERT_FAILS_WITH(EBUSY, listen(lfd, 16));
	ASSERT_EQ(0, thaw(lfd));

	ON_NODE(NODE1);
	fd = mig_socket(self->family, SOCK_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, freeze(fd, 0));
	ASSERT_FAILS_WITH(EBUSY, connect_to(fd, self->family, NODE2,
					    FRZ_LPORT));
	ASSERT_FAILS_WITH(EBUSY, bind_to(fd, self->family, 0, 0));
	ASSERT_FAILS_WITH(EBUSY, listen(fd, 8));
	EXPECT_EQ(TCP_CLOSE_, info_of(fd).state);

	/* Thawed, it is a fresh socket again. */
	ASSERT_EQ(0, thaw(fd));
	cfd = fd;
	afd = connect_nonblocking(_metadata, self, cfd, lfd, FRZ_LPORT);
	ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
	ASSERT_EQ(0, fcntl(cfd, F_SETFL, 0));
	exchange(_metadata, cfd, afd, 466, 1000);
	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * A connecting side that a SYN cookie answered, and that has not seen
 * the listener hold the connection yet (the listener's ACKs are lost:
 * an nftables rule drops them), migrates: its checkpoint carries its
 * handshake MAC and its KX half, the data written before stays held, and
 * once the listener's ACKs get through again, from its new node, the
 * data goes, byte for byte.
 */
TEST_F_TIMEOUT(cluster, cookie_wait_migrates, 60)
{
	struct ckpt_model m;
	int cfd, afd, lfd;
	struct blob b;

	add_nodes(_metadata, self, NODE3);
	ASSERT_EQ(0, sh("echo 2 >/sys/module/migtcp/parameters/syncookies"));
	ON_NODE(NODE2);
	nft_migtcp_rule(_metadata, "inet cookie_answer", "output",
			"@th,8,8 7 @th,16,16 0x0010", "drop");
	lfd = listener(_metadata, self->family, PORT + 40, 8);
	ASSERT_LE(0, lfd);
	ON_NODE(NODE1);
	cfd = mig_socket(self->family, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, set_timeouts(cfd, GUARD_SEC));
	ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, PORT + 40))
		TH_LOG("connect: %s", strerror(errno));
	send_at(_metadata, cfd, 240, 0, 3000);
	ON_NODE(NODE2);
	afd = accept_waiting(_metadata, lfd);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
	ASSERT_LE(1, wait_nft_hits("inet cookie_answer", 1, WAIT_MS))
		TH_LOG("node 2's answer was not dropped");
	EXPECT_EQ(0, inq(afd)) TH_LOG("data went before the answer");

	ON_NODE(NODE1);
	freeze_checkpoint(_metadata, cfd, 0, &b);
	ASSERT_EQ(0, model_parse(b.buf, b.len, &m));
	EXPECT_NE(NULL, model_find(&m.rec[0], CK(HS_PROOF)));
	EXPECT_NE(NULL, model_find(&m.rec[0], CK(KX_HALF)))
		TH_LOG("no KX half in the checkpoint of a cookie's wait");
	close(cfd);
	ON_NODE(NODE2);
	ASSERT_EQ(0, sh("nft delete table inet cookie_answer"));
	/* The restored end says at once that it still waits. */
	cfd = restore_on(_metadata, self, NODE3, &b);
	blob_free(&b);
	ASSERT_LE(0, cfd);

	EXPECT_TRUE(recv_at(_metadata, afd, 240, 0, 3000))
		TH_LOG("the held data never came");
	TRANSFER_SHA256(cfd, afd, 256 * KiB, 256 * KiB, 64 * KiB);
	close(cfd);
	close(afd);
	close(lfd);
}

TEST_HARNESS_MAIN
