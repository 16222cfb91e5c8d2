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
		exchange(_metadata, cfd, afd, 20 + 2 * i, 1000);
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

/*
 * A checkpoint restored on the node where its endpoint still lives
 * (frozen or thawed) fails with EADDRINUSE: a bound socket and a
 * connection.  The fresh socket stays fresh, the original works.
 */
TEST_F(cluster, restore_where_endpoint_lives)
{
	struct sockaddr_mig fresh_name, name, after;
	struct blob bb, cb;
	int cfd, afd, b, fresh;

	CONNECT_PAIR(&cfd, &afd);
	b = mig_socket(self->family, 0);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, bind_to(b, self->family, 0, PORT + 2));
	name = name_of(b, false);
	freeze_checkpoint(_metadata, b, 0, &bb);
	freeze_checkpoint(_metadata, cfd, 0, &cb);

	fresh = mig_socket(self->family, 0);
	ASSERT_LE(0, fresh);
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

TEST_HARNESS_MAIN
