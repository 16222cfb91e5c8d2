// SPDX-License-Identifier: GPL-2.0
/*
 * A syscall-sequence fuzzer for AF_MIGTCP sockets (issue 12).
 *
 * Four threads act at random on a shared table of 24 socket slots on a
 * three-node cluster (cluster.h's fixture, node 3 from ckpt.h's
 * add_nodes()): socket, bind (own node, another node, ports from a range
 * of eight so that they collide, port 0, a short address), listen (backlogs
 * from -1 to far above somaxconn), connect (to ports of nodes 1 to 3 where
 * listeners may be, to node 4 which nobody knows, to the own node, bad
 * addresses), accept, send and recv (non-blocking, small and large, peek),
 * shutdown, setsockopt and getsockopt (buffer sizes down to 1 and forced
 * up to INT_MAX, SO_LINGER 0, keepalive, every SOL_MIGTCP option with
 * valid and invalid values), MIGTCP_FREEZE, MIGTCP_CHECKPOINT,
 * MIGTCP_THAW, MIGTCP_RESTORE of a saved checkpoint onto a fresh or a used
 * socket of any node (several threads may restore one checkpoint at once),
 * close (also with SO_LINGER 0, also of frozen and checkpointed sockets),
 * poll, ioctl and getsockname/getpeername.  A network namespace is
 * per-thread, so each thread moves between the nodes with setns() as it
 * goes.
 *
 * Every call must succeed or fail with an errno from the set the module
 * (socket.c, stream.c, sockopt.c, port.c, checkpoint.c, migrate.c) can
 * give for that operation, narrowed where the slot's recorded history
 * decides (a bind to another node's id, a freeze of a socket frozen by
 * this program, a restore onto a socket nothing was done to...).  Any
 * other result is reported with the operation, the slot's history, the
 * thread, its operation number and the seed, and fails the test.  At the
 * end every operation's count by errno is printed; then everything is
 * closed, the nodes must be left with no socket within a bounded time, a
 * fresh connection must carry data byte for byte both ways, and the
 * kernel log must have no new warning, BUG or memory report.
 *
 * Environment:
 *   MIGTCP_FUZZ_SEED=S      the seed (default SEQ_SEED, always printed);
 *                           thread t draws from splitmix64 streams of
 *                           S + t, so each thread repeats its own sequence
 *                           of operations and arguments
 *   MIGTCP_FUZZ_SEQ_OPS=N   operations in all (default 100,000: 4 to 8 s
 *                           in the TCG guest, about 30 s with the close-down
 *                           and the checks; 400,000 take about 30 s)
 * tools/check passes every MIGTCP_FUZZ_* variable into the guest, so
 *   MIGTCP_TESTS=seqfuzz_test MIGTCP_FUZZ_SEED=0x1234 \
 *     MIGTCP_FUZZ_SEQ_OPS=400000 tools/check 6.1
 * repeats a run by its seed.  The threads' interleaving, and with it what
 * the kernel answers, is the scheduler's: a seed repeats the calls made,
 * not always the failure; run it a few times.
 */
#include <linux/sockios.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>

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

#define SEQ_SEED	0x73657166757a7aULL	/* "seqfuzz" */
#define SEQ_OPS		100000UL
#define NTHREADS	4
#define NSLOTS		24
#define NBLOBS		8
#define NNODES		3	/* nodes 1 to 3 */
#define PORT_BASE	7100	/* the fuzzed ports: PORT_BASE .. + NPORTS - 1 */
#define NPORTS		8
#define CHECK_PORT	7690	/* the final check's listener */
#define UNKNOWN_NODE	NODE4	/* in nobody's peer table */
#define MAX_ERRNO	160
#define MAX_REPORTS	25
/* Sockets left after the close-down: TIME_WAIT, records, orphans. */
#define DRAIN_MS	180000
#define MIG_TIMEOUT_MS	2000	/* records and holds end soon */

enum op {
	OP_SOCKET, OP_BIND, OP_LISTEN, OP_CONNECT, OP_ACCEPT, OP_SEND,
	OP_RECV, OP_SHUTDOWN, OP_SETSOCKOPT, OP_GETSOCKOPT, OP_FREEZE,
	OP_CHECKPOINT, OP_THAW, OP_RESTORE_NEW, OP_RESTORE_USED, OP_CLOSE,
	OP_POLL, OP_IOCTL, OP_GETNAME, OP_SETNS, NR_OPS
};

static const char * const op_name[NR_OPS] = {
	"socket", "bind", "listen", "connect", "accept", "send", "recv",
	"shutdown", "setsockopt", "getsockopt", "freeze", "checkpoint",
	"thaw", "restore(new)", "restore(used)", "close", "poll", "ioctl",
	"getname", "setns",
};

/* What this program did to a slot's socket, for the narrower errno sets. */
#define S_FRESH		0x001	/* socket(), nothing that changes it since */
#define S_BOUND		0x002	/* bind() succeeded */
#define S_LISTEN	0x004	/* listen() succeeded, or a listener restored */
#define S_CONNECTING	0x008	/* connect() started */
#define S_CONN		0x010	/* accepted, connected, or restored connection */
#define S_FROZEN	0x020	/* our MIGTCP_FREEZE, no MIGTCP_THAW since */
#define S_CKPT		0x040	/* checkpointed while frozen */
#define S_RESTORED	0x080
#define S_LINGER0	0x100	/* SO_LINGER on with 0 s */
#define S_ACCEPTED	0x200

struct slot {
	pthread_mutex_t lock;
	int fd;			/* -1: empty */
	unsigned int node;	/* the node (netns) the socket is of */
	unsigned int flags;
	unsigned long ops;	/* operations on this socket */
	/* A listener's identity, counted in fz.listening while it lives. */
	unsigned int lnode, lport;
};

/* A checkpoint, shared read-only by the restores that use it. */
struct blob_ref {
	int refs;		/* under fz.blob_lock */
	unsigned int node;	/* taken on */
	unsigned int flags;	/* of the socket then */
	size_t len;
	__u8 buf[];
};

struct fuzz_thread {
	pthread_t tid;
	int idx;
	__u64 rng;
	unsigned int node;	/* the thread's netns now */
	unsigned long ops, done;
	enum op last_op;	/* the step's operation, for its time */
	__u8 *sbuf, *rbuf, *cbuf;
	size_t cbuf_len;
};

static struct {
	CLUSTER *self;
	int family;
	__u64 seed;
	unsigned long total_ops;
	struct slot slot[NSLOTS];
	pthread_mutex_t blob_lock;
	struct blob_ref *blob[NBLOBS];
	/* counts[op][errno]; errno 0 is success, MAX_ERRNO - 1 the rest */
	unsigned long counts[NR_OPS][MAX_ERRNO];
	/* Time spent in each slot operation, ns, lock waits included. */
	unsigned long ns[NR_OPS];
	/*
	 * Listeners on each fuzzed port of each node (by identity), so that
	 * most connects reach one: connections, their data and their
	 * migrations are where the module's state is richest.
	 */
	int listening[NNODES + 1][NPORTS];
	int violations;
} fz;

/* ---- the PRNG: splitmix64, one stream per thread ---- */

static __u64 rnd(struct fuzz_thread *t)
{
	t->rng += 0x9e3779b97f4a7c15ULL;
	return splitmix64(t->rng);
}

static unsigned int below(struct fuzz_thread *t, unsigned int n)
{
	return rnd(t) % n;
}

static bool chance(struct fuzz_thread *t, unsigned int percent)
{
	return below(t, 100) < percent;
}

/* ---- expectations ---- */

/* What a connection's end reports once it failed (sk_err, migtcp_done()). */
#define CONN_ERRS	ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, \
			ENETUNREACH, EPIPE

static bool in_set(int err, const int *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == err)
			return true;
	return false;
}

#define ALLOWED(err, ...) ({						\
	static const int __set[] = { 0, __VA_ARGS__ };			\
	in_set(err, __set, ARRAY_SIZE(__set));				\
})

static void flags_str(unsigned int f, char *buf, size_t len)
{
	static const char * const names[] = {
		"fresh", "bound", "listen", "connecting", "conn", "frozen",
		"ckpt", "restored", "linger0", "accepted",
	};
	size_t i, off = 0;

	buf[0] = 0;
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (f & (1U << i))
			off += snprintf(buf + off, len - off, "%s%s",
					off ? "," : "", names[i]);
	if (!off)
		snprintf(buf, len, "-");
}

static void count(enum op op, int err)
{
	__atomic_fetch_add(&fz.counts[op][err >= 0 && err < MAX_ERRNO - 1 ?
					 err : MAX_ERRNO - 1], 1,
			   __ATOMIC_RELAXED);
}

/*
 * Counts the result @err (0: success) of @op on slot @s (NULL: none) and
 * reports it if @ok is false.  @what says what exactly was called.
 */
static void result(struct fuzz_thread *t, enum op op, int si,
		   const struct slot *s, int err, bool ok, const char *what)
{
	char fl[128];

	if (t->last_op == NR_OPS)
		t->last_op = op;
	count(op, err);
	if (ok)
		return;
	if (__atomic_fetch_add(&fz.violations, 1, __ATOMIC_RELAXED) >=
	    MAX_REPORTS)
		return;
	flags_str(s ? s->flags : 0, fl, sizeof(fl));
	fprintf(stderr,
		"# seqfuzz: VIOLATION seed %#llx thread %d op #%lu: %s %s on slot %d (fd %d, node %u, state %s, %lu ops on it), thread on node %u: %s (%d)\n",
		(unsigned long long)fz.seed, t->idx, t->done, op_name[op],
		what, si, s ? s->fd : -1, s ? s->node : 0, fl,
		s ? s->ops : 0, t->node, errname(err), err);
}

/* ---- nodes ---- */

static int go(struct fuzz_thread *t, unsigned int node)
{
	if (t->node == node)
		return 0;
	if (setns(node_ns(fz.self, node), CLONE_NEWNET))
		return -1;
	t->node = node;
	return 0;
}

static unsigned int any_node(struct fuzz_thread *t)
{
	return NODE1 + below(t, NNODES);
}

/* ---- slots ---- */

/*
 * An empty slot, locked, other than @not; -1 if none is free now.  Only
 * trylock: the caller holds a slot already, and two threads waiting for
 * each other's slots would never go on.
 */
static int grab_empty_slot(struct fuzz_thread *t, int not)
{
	int start = below(t, NSLOTS), i, si;

	for (i = 0; i < NSLOTS; i++) {
		si = (start + i) % NSLOTS;
		if (si == not || pthread_mutex_trylock(&fz.slot[si].lock))
			continue;
		if (fz.slot[si].fd < 0)
			return si;
		pthread_mutex_unlock(&fz.slot[si].lock);
	}
	return -1;
}

/* Counts @s as a listener of its identity, or stops counting it. */
static void count_listener(struct slot *s, bool on)
{
	struct sockaddr_mig a;
	socklen_t len = sizeof(a);

	if (!on) {
		if (s->lport)
			__atomic_fetch_sub(&fz.listening[s->lnode][s->lport - PORT_BASE],
					   1, __ATOMIC_RELAXED);
		s->lnode = 0;
		s->lport = 0;
		return;
	}
	if (s->lport || getsockname(s->fd, (struct sockaddr *)&a, &len))
		return;
	if (a.smig_node < NODE1 || a.smig_node > NNODES ||
	    ntohs(a.smig_port) < PORT_BASE ||
	    ntohs(a.smig_port) >= PORT_BASE + NPORTS)
		return;
	s->lnode = a.smig_node;
	s->lport = ntohs(a.smig_port);
	__atomic_fetch_add(&fz.listening[s->lnode][s->lport - PORT_BASE], 1,
			   __ATOMIC_RELAXED);
}

/* A (node, port) with a listener, or false if none is known. */
static bool pick_listener(struct fuzz_thread *t, struct sockaddr_mig *a)
{
	unsigned int n, p, found = 0, want;

	for (n = NODE1; n <= NNODES; n++)
		for (p = 0; p < NPORTS; p++)
			found += __atomic_load_n(&fz.listening[n][p],
						 __ATOMIC_RELAXED) > 0;
	if (!found)
		return false;
	want = below(t, found);
	for (n = NODE1; n <= NNODES; n++)
		for (p = 0; p < NPORTS; p++)
			if (__atomic_load_n(&fz.listening[n][p],
					    __ATOMIC_RELAXED) > 0 && !want--) {
				a->smig_node = n;
				a->smig_port = htons(PORT_BASE + p);
				return true;
			}
	return false;
}

static void slot_set(struct slot *s, int fd, unsigned int node,
		     unsigned int flags)
{
	if (fd < 0)
		count_listener(s, false);
	s->fd = fd;
	s->node = node;
	s->flags = flags;
	s->ops = 0;
}

/* ---- checkpoints ---- */

static void blob_put(struct blob_ref *b)
{
	bool last;

	if (!b)
		return;
	pthread_mutex_lock(&fz.blob_lock);
	last = !--b->refs;
	pthread_mutex_unlock(&fz.blob_lock);
	if (last)
		free(b);
}

static struct blob_ref *blob_get(struct fuzz_thread *t)
{
	struct blob_ref *b;

	pthread_mutex_lock(&fz.blob_lock);
	b = fz.blob[below(t, NBLOBS)];
	if (b)
		b->refs++;
	pthread_mutex_unlock(&fz.blob_lock);
	return b;
}

static void blob_keep(struct fuzz_thread *t, struct blob_ref *b)
{
	struct blob_ref *old;
	int i = below(t, NBLOBS);

	b->refs = 1;
	pthread_mutex_lock(&fz.blob_lock);
	old = fz.blob[i];
	fz.blob[i] = b;
	pthread_mutex_unlock(&fz.blob_lock);
	blob_put(old);
}

/*
 * MIGTCP_CHECKPOINT of @fd: the size first (ERANGE), then the blob; a
 * frozen listener's queue may grow in between, so that is tried again.
 * 0 with *@out set, or an errno.
 */
static int take_checkpoint(struct fuzz_thread *t, int fd,
			   struct blob_ref **out)
{
	struct blob_ref *b;
	socklen_t len;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		len = t->cbuf_len;
		if (!getsockopt(fd, SOL_MIGTCP, MIGTCP_CHECKPOINT, t->cbuf,
				&len))
			break;
		if (errno != ERANGE)
			return errno;
		free(t->cbuf);
		t->cbuf_len = len + 4096;
		t->cbuf = malloc(t->cbuf_len);
		if (!t->cbuf) {
			t->cbuf_len = 0;
			return ENOMEM;
		}
	}
	if (tries == 3)
		return ERANGE;
	b = malloc(sizeof(*b) + len);
	if (!b)
		return ENOMEM;
	memcpy(b->buf, t->cbuf, len);
	b->len = len;
	*out = b;
	return 0;
}

/* ---- the operations; each runs with slot @si locked ---- */

static void do_socket(struct fuzz_thread *t, int si, struct slot *s)
{
	unsigned int node = any_node(t);
	int fd, err = 0;

	if (go(t, node))
		return;
	fd = socket(fz.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err = errno;
	result(t, OP_SOCKET, si, s, err, !err, "");
	if (fd >= 0)
		slot_set(s, fd, node, S_FRESH);
}

static void do_bind(struct fuzz_thread *t, int si, struct slot *s)
{
	struct sockaddr_mig a;
	socklen_t alen = sizeof(a);
	unsigned int r = below(t, 100), own = s->node;
	bool other = false;
	char what[64];
	int err = 0;
	bool ok;

	a = mig_addr(fz.family, chance(t, 50) ? 0 : own,
		     chance(t, 15) ? 0 : PORT_BASE + below(t, NPORTS));
	if (r < 8) {
		a.smig_node = NODE1 + (own - NODE1 + 1 + below(t, NNODES - 1)) %
			      NNODES;
		other = true;
	} else if (r < 11) {
		alen = sizeof(a) - 1 - below(t, 8);
	} else if (r < 13) {
		a.smig_family = AF_INET;
	}
	snprintf(what, sizeof(what), "%u:%u len %u family %u", a.smig_node,
		 ntohs(a.smig_port), alen, a.smig_family);
	if (bind(s->fd, (struct sockaddr *)&a, alen))
		err = errno;
	/* Checked in this order: the address, the socket, the node, the port. */
	if (alen < sizeof(a) || a.smig_family != fz.family)
		ok = err == EINVAL;
	else if (s->flags & S_FROZEN)
		/* Bound or connected already, or frozen as it is. */
		ok = ALLOWED(err, EINVAL, EBUSY);
	else if (other)
		ok = err == EINVAL || err == EADDRNOTAVAIL;
	else if ((s->flags & S_LISTEN) ||
		 ((s->flags & S_BOUND) &&
		  !(s->flags & (S_CONNECTING | S_CONN | S_RESTORED))))
		/* Bound, and nothing since that could end it. */
		ok = err == EINVAL;
	else
		ok = ALLOWED(err, EINVAL, EADDRINUSE);
	result(t, OP_BIND, si, s, err, ok, what);
	if (!err)
		s->flags = (s->flags & ~S_FRESH) | S_BOUND;
}

static void do_listen(struct fuzz_thread *t, int si, struct slot *s)
{
	static const int backlogs[] = { -1, 0, 1, 2, 8, 128, 1000000 };
	int backlog = backlogs[below(t, ARRAY_SIZE(backlogs))], err = 0;
	char what[32];

	snprintf(what, sizeof(what), "backlog %d", backlog);
	if (listen(s->fd, backlog))
		err = errno;
	result(t, OP_LISTEN, si, s, err,
	       (s->flags & S_FROZEN) ? ALLOWED(err, EINVAL, EBUSY) :
				       ALLOWED(err, EINVAL, EADDRINUSE), what);
	if (!err) {
		s->flags = (s->flags & ~S_FRESH) | S_LISTEN | S_BOUND;
		count_listener(s, true);
	}
}

static void do_connect(struct fuzz_thread *t, int si, struct slot *s)
{
	struct sockaddr_mig a;
	socklen_t alen = sizeof(a);
	unsigned int r = below(t, 100);
	int err = 0, want = 0;
	char what[64];
	bool ok;

	a = mig_addr(fz.family, any_node(t), PORT_BASE + below(t, NPORTS));
	if (r >= 20 && r < 80)
		pick_listener(t, &a);
	if (r < 6) {
		a.smig_node = UNKNOWN_NODE;
	} else if (r < 16) {
		a.smig_node = chance(t, 50) ? 0 : s->node;
	} else if (r < 18) {
		alen = sizeof(a) - 1 - below(t, 8);
		want = EINVAL;
	} else if (r < 20) {
		a.smig_family = AF_INET;
		want = EAFNOSUPPORT;
	}
	snprintf(what, sizeof(what), "%u:%u len %u family %u", a.smig_node,
		 ntohs(a.smig_port), alen, a.smig_family);
	if (connect(s->fd, (struct sockaddr *)&a, alen))
		err = errno;
	if (want)
		ok = err == want;
	else if (s->flags & S_FROZEN)
		/* A frozen socket starts no connection (EBUSY). */
		ok = ALLOWED(err, EBUSY, EALREADY, EISCONN, ECONNABORTED,
			     CONN_ERRS);
	else
		ok = ALLOWED(err, EINPROGRESS, EALREADY, EISCONN,
			     EADDRNOTAVAIL, ECONNABORTED, CONN_ERRS);
	result(t, OP_CONNECT, si, s, err, ok, what);
	if (!err)
		s->flags = (s->flags & ~(S_FRESH | S_CONNECTING)) | S_CONN;
	else if (err == EINPROGRESS)
		s->flags = (s->flags & ~S_FRESH) | S_CONNECTING;
}

static void do_accept(struct fuzz_thread *t, int si, struct slot *s)
{
	int fd, err = 0, ni;

	fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		err = errno;
	/* A listener that was checkpointed and thawed still listens. */
	result(t, OP_ACCEPT, si, s, err,
	       (s->flags & S_LISTEN) ? ALLOWED(err, EAGAIN, EINVAL) :
				       ALLOWED(err, EINVAL), "");
	if (fd < 0)
		return;
	ni = grab_empty_slot(t, si);
	if (ni < 0) {
		close(fd);
		count(OP_CLOSE, 0);
		return;
	}
	slot_set(&fz.slot[ni], fd, s->node, S_CONN | S_ACCEPTED);
	pthread_mutex_unlock(&fz.slot[ni].lock);
}

static void do_send(struct fuzz_thread *t, int si, struct slot *s)
{
	size_t len = chance(t, 60) ? 1 + below(t, 100) :
				     1000 + below(t, 64 * 1024);
	char what[32];
	ssize_t n;
	int err = 0;

	snprintf(what, sizeof(what), "%zu bytes", len);
	n = send(s->fd, t->sbuf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		err = errno;
	result(t, OP_SEND, si, s, err,
	       n <= (ssize_t)len &&
	       ALLOWED(err, EAGAIN, ENOTCONN, ENOBUFS, CONN_ERRS), what);
}

static void do_recv(struct fuzz_thread *t, int si, struct slot *s)
{
	size_t len = chance(t, 50) ? 1 + below(t, 100) :
				     1000 + below(t, 64 * 1024);
	int flags = MSG_DONTWAIT | (chance(t, 10) ? MSG_PEEK : 0), err = 0;
	char what[32];
	ssize_t n;

	snprintf(what, sizeof(what), "%zu bytes%s", len,
		 flags & MSG_PEEK ? " peek" : "");
	n = recv(s->fd, t->rbuf, len, flags);
	if (n < 0)
		err = errno;
	result(t, OP_RECV, si, s, err,
	       n <= (ssize_t)len && ALLOWED(err, EAGAIN, ENOTCONN, CONN_ERRS),
	       what);
}

static void do_shutdown(struct fuzz_thread *t, int si, struct slot *s)
{
	int how = below(t, 20) ? (int)below(t, 3) : 3, err = 0;
	char what[16];

	snprintf(what, sizeof(what), "how %d", how);
	if (shutdown(s->fd, how))
		err = errno;
	result(t, OP_SHUTDOWN, si, s, err,
	       how == 3 ? err == EINVAL : ALLOWED(err, ENOTCONN), what);
	if (!err)
		s->flags &= ~S_FRESH;
}

/* A setsockopt() with the errno its value must give (0: success). */
static void do_setsockopt(struct fuzz_thread *t, int si, struct slot *s)
{
	static const int bufs[] = { 0, 1, 2048, 65536, 1 << 20, INT_MAX };
	static const int mss[] = { 0, 1, 87, 88, 536, 1400, 65535, 65536 };
	static const int keep[] = { -1, 0, 1, 10, 127, 128, 32767, 32768 };
	static const char * const cc[] = { "reno", "cubic", "bogus", "" };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int level = SOL_SOCKET, name, val = below(t, 2), want = 0, err = 0;
	const void *p = &val;
	socklen_t len = sizeof(val);
	char what[64];

	switch (below(t, 20)) {
	case 0:
		name = SO_RCVBUF;
		val = bufs[below(t, ARRAY_SIZE(bufs))];
		break;
	case 1:
		name = SO_SNDBUF;
		val = bufs[below(t, ARRAY_SIZE(bufs))];
		break;
	case 2:
		name = chance(t, 50) ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
		val = bufs[below(t, ARRAY_SIZE(bufs))];
		break;
	case 3:
	case 4:
		name = SO_LINGER;
		lg.l_onoff = below(t, 4) != 0;
		lg.l_linger = chance(t, 70) ? 0 : 1;
		p = &lg;
		len = sizeof(lg);
		break;
	case 5:
		name = SO_KEEPALIVE;
		break;
	case 6:
		name = SO_REUSEADDR;
		break;
	case 7:
		name = SO_RCVLOWAT;
		val = 1 + below(t, 3000);
		break;
	case 8:
	case 9:
		level = SOL_MIGTCP;
		name = MIGTCP_NODELAY;
		break;
	case 10:
		level = SOL_MIGTCP;
		name = MIGTCP_CORK;
		break;
	case 11:
		level = SOL_MIGTCP;
		name = MIGTCP_MAXSEG;
		val = mss[below(t, ARRAY_SIZE(mss))];
		want = val && (val < 88 || val > 65535) ? EINVAL : 0;
		break;
	case 12:
		level = SOL_MIGTCP;
		name = MIGTCP_KEEPIDLE + below(t, 3);
		val = keep[below(t, ARRAY_SIZE(keep))];
		want = val < 1 || val > (name == MIGTCP_KEEPCNT ? 127 : 32767) ?
		       EINVAL : 0;
		break;
	case 13:
		level = SOL_MIGTCP;
		name = MIGTCP_QUICKACK;
		break;
	case 14:
		level = SOL_MIGTCP;
		name = MIGTCP_USER_TIMEOUT;
		val = (int[]){ -1, 0, 100, 5000 }[below(t, 4)];
		want = val < 0 ? EINVAL : 0;
		break;
	case 15:
		level = SOL_MIGTCP;
		name = MIGTCP_CONGESTION;
		p = cc[below(t, ARRAY_SIZE(cc))];
		len = strlen(p) + below(t, 2);
		want = strcmp(p, "reno") && strcmp(p, "cubic") ? ENOENT : 0;
		break;
	case 16:
		/* Short values. */
		level = chance(t, 50) ? SOL_SOCKET : SOL_MIGTCP;
		name = level == SOL_SOCKET ? SO_LINGER : MIGTCP_NODELAY;
		len = below(t, 4);
		want = EINVAL;
		break;
	case 17:
		level = SOL_MIGTCP;
		name = MIGTCP_INFO;
		want = ENOPROTOOPT;
		break;
	case 18:
		level = SOL_MIGTCP;
		name = 99;
		want = ENOPROTOOPT;
		break;
	default:
		name = SO_PRIORITY;
		val = below(t, 7);
		break;
	}
	snprintf(what, sizeof(what), "level %d name %d val %d len %u", level,
		 name, p == &val ? val : p == &lg ? lg.l_linger : -1, len);
	if (setsockopt(s->fd, level, name, p, len))
		err = errno;
	result(t, OP_SETSOCKOPT, si, s, err, err == want, what);
	if (!err && name == SO_LINGER) {
		s->flags &= ~S_LINGER0;
		if (lg.l_onoff && !lg.l_linger)
			s->flags |= S_LINGER0;
	}
}

static void do_getsockopt(struct fuzz_thread *t, int si, struct slot *s)
{
	static const struct {
		int level, name;
	} opts[] = {
		{ SOL_SOCKET, SO_ERROR }, { SOL_SOCKET, SO_ERROR },
		{ SOL_SOCKET, SO_RCVBUF }, { SOL_SOCKET, SO_SNDBUF },
		{ SOL_MIGTCP, MIGTCP_INFO }, { SOL_MIGTCP, MIGTCP_CONGESTION },
		{ SOL_MIGTCP, MIGTCP_MAXSEG }, { SOL_MIGTCP, MIGTCP_KEEPCNT },
		{ SOL_MIGTCP, MIGTCP_USER_TIMEOUT },
	};
	unsigned int i = below(t, ARRAY_SIZE(opts));
	union {
		int val;
		struct migtcp_info info;
		char name[MIGTCP_CA_NAME_MAX];
	} u;
	socklen_t len = sizeof(u);
	char what[48];
	int err = 0;
	bool ok;

	memset(&u, 0, sizeof(u));
	if (getsockopt(s->fd, opts[i].level, opts[i].name, &u, &len))
		err = errno;
	ok = !err;
	if (ok && opts[i].level == SOL_SOCKET && opts[i].name == SO_ERROR)
		ok = ALLOWED(u.val, CONN_ERRS);
	snprintf(what, sizeof(what), "level %d name %d -> %d", opts[i].level,
		 opts[i].name, u.val);
	result(t, OP_GETSOCKOPT, si, s, err, ok, what);
}

static void do_freeze(struct fuzz_thread *t, int si, struct slot *s)
{
	static const int holds[] = { 0, 50, 500, 5000 };
	int hold = holds[below(t, ARRAY_SIZE(holds))], err = 0;
	char what[16];

	snprintf(what, sizeof(what), "hold %d", hold);
	if (freeze(s->fd, hold))
		err = errno;
	/* Frozen stays frozen (migrate.c): only a thaw or close ends it. */
	result(t, OP_FREEZE, si, s, err,
	       (s->flags & S_FROZEN) ? err == EALREADY :
				       ALLOWED(err, EALREADY, EBUSY, EAGAIN),
	       what);
	if (!err)
		s->flags = (s->flags & ~S_FRESH) | S_FROZEN;
}

static void do_checkpoint(struct fuzz_thread *t, int si, struct slot *s)
{
	struct blob_ref *b = NULL;
	int err;

	err = take_checkpoint(t, s->fd, &b);
	/*
	 * EIO is the module's own validation refusing what it wrote: a bug
	 * (checkpoint.c), never allowed.  A frozen socket may see a child
	 * end between the two passes (EAGAIN) or its queue grow (ERANGE).
	 */
	result(t, OP_CHECKPOINT, si, s, err,
	       (s->flags & S_FROZEN) ? ALLOWED(err, EAGAIN, ERANGE, E2BIG) :
				       ALLOWED(err, EINVAL, EAGAIN, ERANGE,
					       E2BIG), "");
	if (err)
		return;
	s->flags |= S_CKPT;
	b->node = s->node;
	b->flags = s->flags;
	blob_keep(t, b);
}

static void do_thaw(struct fuzz_thread *t, int si, struct slot *s)
{
	int err = 0;

	if (thaw(s->fd))
		err = errno;
	result(t, OP_THAW, si, s, err,
	       (s->flags & S_FROZEN) ? !err : ALLOWED(err, EINVAL), "");
	if (!err)
		s->flags &= ~(S_FROZEN | S_CKPT);
}

/* The slot's state after a restore of @b. */
static unsigned int restored_flags(const struct blob_ref *b)
{
	return S_RESTORED | (b->flags & (S_LISTEN | S_CONN | S_BOUND));
}

/*
 * MIGTCP_RESTORE of a saved checkpoint onto a new socket of any node, put
 * in empty slot @si.
 */
static void do_restore_new(struct fuzz_thread *t, int si, struct slot *s)
{
	unsigned int node = any_node(t);
	struct blob_ref *b;
	char what[48];
	int fd, err = 0;

	b = blob_get(t);
	if (!b || go(t, node)) {
		blob_put(b);
		return;
	}
	fd = socket(fz.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		result(t, OP_SOCKET, si, s, errno, false, "for a restore");
		blob_put(b);
		return;
	}
	count(OP_SOCKET, 0);
	if (restore(fd, b->buf, b->len))
		err = errno;
	snprintf(what, sizeof(what), "%zu bytes from node %u to node %u",
		 b->len, b->node, node);
	/*
	 * A fresh socket: only the endpoint's living here already (or a
	 * racing restore of the same checkpoint, which then won) refuses.
	 */
	result(t, OP_RESTORE_NEW, si, s, err, ALLOWED(err, EADDRINUSE), what);
	if (err) {
		close(fd);
		count(OP_CLOSE, 0);
	} else {
		slot_set(s, fd, node, restored_flags(b));
		if (s->flags & S_LISTEN)
			count_listener(s, true);
	}
	blob_put(b);
}

/* MIGTCP_RESTORE onto slot @si's socket, fresh or not. */
static void do_restore_used(struct fuzz_thread *t, int si, struct slot *s)
{
	struct blob_ref *b = blob_get(t);
	char what[48];
	int err = 0;

	if (!b)
		return;
	if (restore(s->fd, b->buf, b->len))
		err = errno;
	snprintf(what, sizeof(what), "%zu bytes from node %u", b->len,
		 b->node);
	result(t, OP_RESTORE_USED, si, s, err,
	       (s->flags & S_FRESH) ? ALLOWED(err, EADDRINUSE) :
				      ALLOWED(err, EADDRINUSE, EISCONN), what);
	if (!err) {
		s->flags = restored_flags(b) | (s->flags & S_LINGER0);
		if (s->flags & S_LISTEN)
			count_listener(s, true);
	}
	blob_put(b);
}

static void do_close(struct fuzz_thread *t, int si, struct slot *s)
{
	const struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int err = 0;

	/* An abortive close, as a killed process's connections get. */
	if (chance(t, 25) &&
	    !setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		s->flags |= S_LINGER0;
	if (close(s->fd))
		err = errno;
	result(t, OP_CLOSE, si, s, err, !err, "");
	slot_set(s, -1, 0, 0);
}

static void do_poll(struct fuzz_thread *t, int si, struct slot *s)
{
	struct pollfd pfd = {
		.fd = s->fd,
		.events = POLLIN | POLLOUT | POLLRDHUP | POLLPRI,
	};
	char what[32];
	int n, err = 0;

	n = poll(&pfd, 1, 0);
	if (n < 0)
		err = errno;
	snprintf(what, sizeof(what), "-> %d revents %#x", n, pfd.revents);
	result(t, OP_POLL, si, s, err,
	       n >= 0 && n <= 1 && !(pfd.revents & (POLLNVAL | POLLPRI)),
	       what);
}

static void do_ioctl(struct fuzz_thread *t, int si, struct slot *s)
{
	unsigned long cmd = chance(t, 50) ? SIOCINQ : SIOCOUTQ;
	int v = -1, err = 0;
	char what[32];

	if (ioctl(s->fd, cmd, &v))
		err = errno;
	snprintf(what, sizeof(what), "%s -> %d",
		 cmd == SIOCINQ ? "SIOCINQ" : "SIOCOUTQ", v);
	/* EINVAL on a listener, as TCP's. */
	result(t, OP_IOCTL, si, s, err,
	       err ? err == EINVAL : v >= 0, what);
}

static void do_getname(struct fuzz_thread *t, int si, struct slot *s)
{
	struct sockaddr_mig a;
	socklen_t len = sizeof(a);
	bool peer = chance(t, 50);
	int err = 0;

	if ((peer ? getpeername : getsockname)(s->fd, (struct sockaddr *)&a,
					       &len))
		err = errno;
	result(t, OP_GETNAME, si, s, err,
	       err ? peer && err == ENOTCONN :
		     len == sizeof(a) && a.smig_family == fz.family,
	       peer ? "peer" : "sock");
}

/* One operation on a random slot. */
static void step(struct fuzz_thread *t)
{
	int si = below(t, NSLOTS);
	struct slot *s = &fz.slot[si];
	unsigned int r;

	if (chance(t, 3)) {
		unsigned int node = any_node(t);
		int err = go(t, node) ? errno : 0;

		result(t, OP_SETNS, -1, NULL, err, !err && t->node == node, "");
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->fd < 0) {
		if (chance(t, 75))
			do_socket(t, si, s);
		else
			do_restore_new(t, si, s);
		goto out;
	}
	s->ops++;
	r = below(t, 100);
	/*
	 * A listener takes its connections, a connecting socket looks
	 * whether it is through, more often than at random: else few
	 * connections would live long enough for data and migrations.
	 */
	if ((s->flags & S_LISTEN) && r < 25)
		r = 23 + r % 8;		/* accept */
	else if ((s->flags & S_CONNECTING) && r < 15)
		r = 13 + r % 10;	/* connect */
	else
		r = below(t, 100);
	if (r < 8)
		do_bind(t, si, s);
	else if (r < 13)
		do_listen(t, si, s);
	else if (r < 23)
		do_connect(t, si, s);
	else if (r < 31)
		do_accept(t, si, s);
	else if (r < 41)
		do_send(t, si, s);
	else if (r < 51)
		do_recv(t, si, s);
	else if (r < 54)
		do_shutdown(t, si, s);
	else if (r < 64)
		do_setsockopt(t, si, s);
	else if (r < 69)
		do_getsockopt(t, si, s);
	else if (r < 74)
		do_freeze(t, si, s);
	else if (r < 79)
		do_checkpoint(t, si, s);
	else if (r < 83)
		do_thaw(t, si, s);
	else if (r < 85)
		do_restore_used(t, si, s);
	else if (r < 89)
		do_close(t, si, s);
	else if (r < 94)
		do_poll(t, si, s);
	else if (r < 97)
		do_ioctl(t, si, s);
	else
		do_getname(t, si, s);
out:
	pthread_mutex_unlock(&s->lock);
}

static unsigned long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000UL + ts.tv_nsec;
}

static void *fuzz_main(void *arg)
{
	struct fuzz_thread *t = arg;
	unsigned long start;

	for (t->done = 0; t->done < t->ops; t->done++) {
		start = now_ns();
		t->last_op = NR_OPS;
		step(t);
		if (t->last_op < NR_OPS)
			__atomic_fetch_add(&fz.ns[t->last_op], now_ns() - start,
					   __ATOMIC_RELAXED);
	}
	return NULL;
}

static void print_counts(void)
{
	unsigned long total, all = 0;
	char line[1024];
	int op, e, off;

	fprintf(stderr, "# seqfuzz: %-14s %8s %8s %7s  errors\n", "operation",
		"calls", "ok", "us/call");
	for (op = 0; op < NR_OPS; op++) {
		total = 0;
		off = 0;
		line[0] = 0;
		for (e = 0; e < MAX_ERRNO; e++) {
			unsigned long n = fz.counts[op][e];

			total += n;
			if (!e || !n)
				continue;
			off += snprintf(line + off, sizeof(line) - off, " %s %lu",
					e == MAX_ERRNO - 1 ? "other" : errname(e),
					n);
			if (off >= (int)sizeof(line))
				break;
		}
		all += total;
		fprintf(stderr, "# seqfuzz: %-14s %8lu %8lu %7lu %s\n",
			op_name[op], total, fz.counts[op][0],
			total ? fz.ns[op] / 1000 / total : 0, line);
	}
	fprintf(stderr, "# seqfuzz: %lu calls in all\n", all);
}

/* Sockets of nodes 1 to 3 in all, or -1. */
static int sockets_left(CLUSTER *self)
{
	int n, sum = 0;
	unsigned int node;

	for (node = NODE1; node <= NODE3; node++) {
		n = sockets_on(self, node);
		if (n < 0)
			return -1;
		sum += n;
	}
	return sum;
}

TEST_F_TIMEOUT(cluster, random_sequences, 600)
{
	struct fuzz_thread th[NTHREADS];
	unsigned long per;
	long start, took;
	int i, bad_before, left, lfd, cfd, afd;
	unsigned int node;

	signal(SIGPIPE, SIG_IGN);
	add_nodes(_metadata, self, NODE3);
	/*
	 * Records of departed endpoints and peers' holds end after the
	 * migration timeout (a lease is four of them), TIME_WAIT after
	 * timewait_secs, an orphan whose peer does not answer (or keeps
	 * its window closed) after orphan_retries timeouts: short, so that
	 * the cluster empties soon after the run and the timeouts happen
	 * during it too.  With the default 8, the backoff from an initial
	 * RTO of 1 s alone would outlast DRAIN_MS.  The fixture puts all
	 * three back.
	 */
	ASSERT_EQ(0, sh("echo %d >/sys/module/migtcp/parameters/migration_timeout_ms",
			MIG_TIMEOUT_MS));
	ASSERT_EQ(0, sh("echo 1 >/sys/module/migtcp/parameters/timewait_secs"));
	ASSERT_EQ(0, sh("echo 3 >/sys/module/migtcp/parameters/orphan_retries"));
	bad_before = dmesg_bad_lines();
	ASSERT_LE(0, bad_before);

	memset(&fz, 0, sizeof(fz));
	fz.self = self;
	fz.family = self->family;
	fz.seed = migtcp_test_env_ulong("MIGTCP_FUZZ_SEED", SEQ_SEED);
	fz.total_ops = migtcp_test_env_ulong("MIGTCP_FUZZ_SEQ_OPS", SEQ_OPS);
	fprintf(stderr, "# seqfuzz: seed %#llx (MIGTCP_FUZZ_SEED), %lu operations (MIGTCP_FUZZ_SEQ_OPS), %d threads, %d slots\n",
		(unsigned long long)fz.seed, fz.total_ops, NTHREADS, NSLOTS);
	pthread_mutex_init(&fz.blob_lock, NULL);
	for (i = 0; i < NSLOTS; i++) {
		pthread_mutex_init(&fz.slot[i].lock, NULL);
		fz.slot[i].fd = -1;
	}

	/* Each thread starts on node 1, where the fixture left this one. */
	GO(NODE1);
	per = fz.total_ops / NTHREADS;
	start = now_ms();
	for (i = 0; i < NTHREADS; i++) {
		memset(&th[i], 0, sizeof(th[i]));
		th[i].idx = i;
		th[i].rng = fz.seed + i;
		th[i].node = NODE1;
		th[i].ops = per + (i < (int)(fz.total_ops % NTHREADS));
		th[i].sbuf = malloc(64 * 1024 + 1000);
		th[i].rbuf = malloc(64 * 1024 + 1000);
		ASSERT_NE(NULL, th[i].sbuf);
		ASSERT_NE(NULL, th[i].rbuf);
		pattern_fill(th[i].sbuf, 64 * 1024 + 1000, fz.seed, 0);
		ASSERT_EQ(0, pthread_create(&th[i].tid, NULL, fuzz_main,
					    &th[i]));
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i].tid, NULL);
		free(th[i].sbuf);
		free(th[i].rbuf);
		free(th[i].cbuf);
	}
	took = now_ms() - start;
	fprintf(stderr, "# seqfuzz: %lu operations in %ld.%03ld s\n",
		fz.total_ops, took / 1000, took % 1000);
	print_counts();
	EXPECT_EQ(0, fz.violations)
		TH_LOG("%d calls failed with an errno their operation cannot give (seed %#llx)",
		       fz.violations, (unsigned long long)fz.seed);

	/* Close everything; the nodes must empty. */
	for (i = 0; i < NSLOTS; i++) {
		if (fz.slot[i].fd >= 0)
			close(fz.slot[i].fd);
		fz.slot[i].fd = -1;
		pthread_mutex_destroy(&fz.slot[i].lock);
	}
	for (i = 0; i < NBLOBS; i++) {
		free(fz.blob[i]);
		fz.blob[i] = NULL;
	}
	start = now_ms();
	while ((left = sockets_left(self)) != 0 &&
	       now_ms() - start < DRAIN_MS)
		sleep_ms(200);
	took = now_ms() - start;
	fprintf(stderr, "# seqfuzz: %d sockets left %ld.%03ld s after the close-down\n",
		left, took / 1000, took % 1000);
	if (left) {
		for (node = NODE1; node <= NODE3; node++) {
			GO(node);
			fprintf(stderr, "# node %u:\n", node);
			sh("sed 's/^/#   /' /proc/net/migtcp >&2");
			/* With its migration state, which /proc does not say. */
			sh("\"$MIGTCP_CTL\" sockets 2>&1 | sed 's/^/#   /' >&2");
			/* Its counters, for what the run did to the socket. */
			sh("awk '$2 != 0 { printf \"#   %%s %%s\\n\", $1, $2 }' /proc/net/migtcp_stats >&2");
		}
	}
	EXPECT_EQ(0, left) TH_LOG("sockets outlived the run by %d s (seed %#llx)",
				  DRAIN_MS / 1000,
				  (unsigned long long)fz.seed);

	/* A fresh connection from each other node still carries every byte. */
	GO(NODE2);
	lfd = listener(_metadata, self->family, CHECK_PORT, 8);
	ASSERT_LE(0, lfd);
	for (node = NODE1; node <= NODE3; node += 2) {
		GO(node);
		cfd = mig_socket(self->family, 0);
		ASSERT_LE(0, cfd);
		ASSERT_EQ(0, connect_to(cfd, self->family, NODE2, CHECK_PORT))
			TH_LOG("node %u: connect after the run: %s", node,
			       strerror(errno));
		afd = accept_waiting(_metadata, lfd);
		ASSERT_LE(0, afd);
		ASSERT_EQ(0, set_timeouts(afd, GUARD_SEC));
		exchange(_metadata, cfd, afd, fz.seed + node, 50000);
		close(cfd);
		close(afd);
	}
	close(lfd);

	EXPECT_EQ(bad_before, dmesg_bad_lines())
		TH_LOG("the kernel log has new warnings (seed %#llx)",
		       (unsigned long long)fz.seed);
}

TEST_HARNESS_MAIN
