/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the migration tests (ckpt_test.c), on top of cluster.h:
 *
 *  - more nodes: node 2's end of the veth becomes a port of a bridge in
 *    node 2, and nodes 3 (198.51.100.99, the address node 1's peer table
 *    already gives node 3) and 4 (198.51.100.4) join it with veth pairs
 *    of their own, so every node reaches every other; each knows all the
 *    others as peers;
 *  - freeze, checkpoint, thaw, restore and a whole migration (checkpoint,
 *    close, restore on another node);
 *  - a checkpoint's records as lists of netlink attributes, read and
 *    written with libmnl, so that a test can take a blob apart, change
 *    it and put it together again;
 *  - byte-exact streams at any offset, counters of any node.
 *
 * Include after kselftest_harness.h, migtcp_test.h, cluster.h and
 * stream.h; link with libmnl.
 */
#ifndef MIGTCP_CKPT_H
#define MIGTCP_CKPT_H

#include <libmnl/libmnl.h>
#include <linux/sockios.h>

#define NODE3		NODE_BLACKHOLE	/* a real node from add_nodes() on */
#define NODE4		4U
#define MAX_NODE	NODE4

#define NODE3_ADDR	BLACKHOLE_ADDR
#ifdef CLUSTER_IPV6
#define NODE4_ADDR	"2001:db8:100::4"
#else
#define NODE4_ADDR	"198.51.100.4"
#endif

static const char * const node_addr[] = {
	[NODE1] = NODE1_ADDR, [NODE2] = NODE2_ADDR,
	[NODE3] = NODE3_ADDR, [NODE4] = NODE4_ADDR,
};

/*
 * The network namespaces of nodes 3 and 4, once add_nodes() made them.
 * Each test runs in a process of its own, so this is per test.
 */
static int extra_ns[MAX_NODE + 1] = { -1, -1, -1, -1, -1 };

static inline int node_ns(CLUSTER *self, unsigned int node)
{
	if (node == NODE1 || node == NODE2)
		return self->ns[node];
	return node <= MAX_NODE ? extra_ns[node] : -1;
}

/* ON_NODE() for every node, 3 and 4 included. */
#define GO(node) do {							\
	const unsigned int __n = (node);				\
									\
	ASSERT_EQ(0, setns(node_ns(self, __n), CLONE_NEWNET))		\
		TH_LOG("setns to node %u: %s", __n, strerror(errno));	\
} while (0)

/*
 * The device of @node that netem goes on for traffic from @node to
 * @to: a node's own veth end, or for node 2 the bridge port toward @to.
 */
static inline void netem_dev(unsigned int node, unsigned int to, char *dev,
			     size_t len)
{
	if (node == NODE1)
		snprintf(dev, len, "mig1");
	else if (node == NODE2)
		snprintf(dev, len, "mig%u", to == NODE1 ? NODE2 : to);
	else
		snprintf(dev, len, "eth%u", node);
}

/*
 * Adds nodes 3 up to @last (3 or 4) to the cluster: a bridge in node 2
 * takes over node 2's address and its veth end, and each new node is
 * connected to the bridge by a veth pair (migN in node 2, ethN in node
 * N).  Every node gets the new ones as peers (node 1 knows node 3
 * already).  Leaves the caller in node 1.
 */
static inline void add_nodes(struct __test_metadata *_metadata,
			     CLUSTER *self, unsigned int last)
{
	unsigned int n, p;

	ASSERT_TRUE(last == NODE3 || last == NODE4);
	/*
	 * Node 3 takes the blackhole node's address: the fixture's
	 * permanent neighbour entries for it (a MAC nobody has) go.
	 */
	ON_NODE(NODE1);
	ASSERT_EQ(0, sh("ip neigh del %s dev mig1", NODE3_ADDR));
	ON_NODE(NODE2);
	ASSERT_EQ(0, sh("ip neigh del %s dev mig2", NODE3_ADDR));
	ASSERT_EQ(0, sh("ip link add br0 type bridge && ip addr flush dev mig2 && "
			"ip link set mig2 master br0 && "
			"ip addr add %s" UL_PREFIX " dev br0" UL_ADDR_FLAGS
			" && ip link set br0 up",
			NODE2_ADDR)) TH_LOG("cannot make node 2's bridge");
	for (n = NODE3; n <= last; n++) {
		ASSERT_EQ(0, migtcp_test_new_netns())
			TH_LOG("node %u netns: %s", n, strerror(errno));
		extra_ns[n] = open_own_netns();
		ASSERT_LE(0, extra_ns[n]);
		ON_NODE(NODE2);
		ASSERT_EQ(0, sh("ip link add mig%u type veth peer name eth%u netns /proc/%d/fd/%d && "
				"ip link set mig%u master br0 up",
				n, n, getpid(), extra_ns[n], n));
		GO(n);
		ASSERT_EQ(0, sh("ip addr add %s" UL_PREFIX " dev eth%u" UL_ADDR_FLAGS
				" && ip link set eth%u up",
				node_addr[n], n, n));
		ASSERT_EQ(0, migtcp_test_ctl("node set id %u addr %s", n,
					     node_addr[n]));
	}
	/* Each node knows every other one. */
	for (n = NODE1; n <= last; n++) {
		GO(n);
		for (p = NODE1; p <= last; p++) {
			if (p == n || (n == NODE1 && p <= NODE3) ||
			    (n == NODE2 && p == NODE1))
				continue;
			ASSERT_EQ(0, migtcp_test_ctl("peer add %u addr %s", p,
						     node_addr[p]))
				TH_LOG("node %u: peer add %u failed", n, p);
		}
	}
	ON_NODE(NODE1);
}

/* Counter @name of any node (see stat_here()), or -1. */
static inline long stat_of(CLUSTER *self, unsigned int node,
			   const char *name)
{
	if (setns(node_ns(self, node), CLONE_NEWNET))
		return -1;
	return stat_here(name);
}

/* Waits up to @ms for counter @name of @node to reach @want; its value. */
static inline long stat_wait_for(CLUSTER *self, unsigned int node,
				 const char *name, long want, int ms)
{
	long end = now_ms() + ms, v;

	for (;;) {
		v = stat_of(self, node, name);
		if (v >= want || now_ms() >= end)
			return v;
		sleep_ms(10);
	}
}

#define MAX_STATS	64

/* All counters of a node, in /proc/net/migtcp_stats order. */
struct stats {
	int n;
	char name[MAX_STATS][32];
	long value[MAX_STATS];
};

static inline int read_stats(CLUSTER *self, unsigned int node,
			     struct stats *s)
{
	char line[128];
	FILE *f;

	s->n = 0;
	if (setns(node_ns(self, node), CLONE_NEWNET))
		return -1;
	f = fopen("/proc/net/migtcp_stats", "re");
	if (!f)
		return -1;
	while (s->n < MAX_STATS && fgets(line, sizeof(line), f))
		if (sscanf(line, "%31s %ld", s->name[s->n], &s->value[s->n]) == 2)
			s->n++;
	fclose(f);
	return s->n;
}

/* Every counter in @b equals its value in @a; names the ones that do not. */
static inline bool same_stats(struct __test_metadata *_metadata,
			      unsigned int node, const struct stats *a,
			      const struct stats *b)
{
	bool same = a->n == b->n && a->n > 0;
	int i;

	for (i = 0; i < a->n && i < b->n; i++) {
		if (a->value[i] == b->value[i])
			continue;
		TH_LOG("node %u: %s went from %ld to %ld", node, a->name[i],
		       a->value[i], b->value[i]);
		same = false;
	}
	return same;
}

/* Sockets of @node in /proc/net/migtcp. */
static inline int sockets_on(CLUSTER *self, unsigned int node)
{
	if (setns(node_ns(self, node), CLONE_NEWNET))
		return -1;
	return count_proc_sockets(NULL, NULL);
}

static inline bool local_is(const struct proc_sock *ps, const void *arg)
{
	return !strcmp(ps->local, arg);
}

/* Sockets of @node whose local end is @node_id:@port. */
static inline int sockets_with_local(CLUSTER *self, unsigned int node,
				     __u32 node_id, int port)
{
	char end[32];

	if (setns(node_ns(self, node), CLONE_NEWNET))
		return -1;
	snprintf(end, sizeof(end), "%u:%d", node_id, port);
	return count_proc_sockets(local_is, end);
}

/* The kernel log lines that make "make check" fail. */
static inline int dmesg_bad_lines(void)
{
	static const char * const bad[] = {
		"WARNING:", "BUG:", "BUG ", "Oops", "refcount_t",
		"list_add corruption", "list_del corruption",
		"general protection", "UBSAN", "KASAN", "Call Trace:",
		"sleeping function called from invalid context",
	};

	return migtcp_test_dmesg_count(bad, ARRAY_SIZE(bad));
}

/* The migration options. */

/* MIGTCP_FREEZE asking the peer to hold for @hold_ms (0: the default). */
static inline int freeze(int fd, int hold_ms)
{
	return setsockopt(fd, SOL_MIGTCP, MIGTCP_FREEZE, &hold_ms,
			  sizeof(hold_ms));
}

static inline int thaw(int fd)
{
	return setsockopt(fd, SOL_MIGTCP, MIGTCP_THAW, NULL, 0);
}

/* A checkpoint: what MIGTCP_CHECKPOINT returned. */
struct blob {
	__u8 *buf;
	size_t len;
};

static inline void blob_free(struct blob *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = 0;
}

/*
 * MIGTCP_CHECKPOINT of @fd into a buffer of the size the kernel asks for
 * (ERANGE and the size first); 0, or -1 with errno set.
 */
static inline int checkpoint(int fd, struct blob *b)
{
	socklen_t len = 0, need;
	__u8 probe[1];

	b->buf = NULL;
	b->len = 0;
	if (!getsockopt(fd, SOL_MIGTCP, MIGTCP_CHECKPOINT, probe, &len)) {
		errno = EPROTO;	/* a checkpoint cannot fit in 0 bytes */
		return -1;
	}
	if (errno != ERANGE)
		return -1;
	need = len;
	b->buf = malloc(need ?: 1);
	if (!b->buf)
		return -1;
	if (getsockopt(fd, SOL_MIGTCP, MIGTCP_CHECKPOINT, b->buf, &len)) {
		blob_free(b);
		return -1;
	}
	if (len != need) {
		blob_free(b);
		errno = EMSGSIZE;
		return -1;
	}
	b->len = len;
	return 0;
}

static inline int restore(int fd, const void *buf, size_t len)
{
	return setsockopt(fd, SOL_MIGTCP, MIGTCP_RESTORE, buf, len);
}

/* Freezes @fd (hold @hold_ms), takes its checkpoint into *@b. */
static inline void freeze_checkpoint(struct __test_metadata *_metadata,
				     int fd, int hold_ms, struct blob *b)
{
	ASSERT_EQ(0, freeze(fd, hold_ms))
		TH_LOG("MIGTCP_FREEZE: %s", strerror(errno));
	ASSERT_EQ(0, checkpoint(fd, b))
		TH_LOG("MIGTCP_CHECKPOINT: %s", strerror(errno));
}

/*
 * A socket of @node rebuilt from @b, with GUARD_SEC timeouts; the caller
 * is on @node afterwards.
 */
static inline int restore_on(struct __test_metadata *_metadata,
			     CLUSTER *self, unsigned int node,
			     const struct blob *b)
{
	int fd;

	if (setns(node_ns(self, node), CLONE_NEWNET)) {
		TH_LOG("setns to node %u: %s", node, strerror(errno));
		return -1;
	}
	fd = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		TH_LOG("socket on node %u: %s", node, strerror(errno));
		return -1;
	}
	if (restore(fd, b->buf, b->len)) {
		TH_LOG("MIGTCP_RESTORE on node %u: %s", node, strerror(errno));
		close(fd);
		return -1;
	}
	if (set_timeouts(fd, GUARD_SEC)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Moves the socket *@fd to @node as CRIU would: freeze, checkpoint,
 * close, restore there.  *@fd is the restored socket afterwards.
 */
static inline void migrate(struct __test_metadata *_metadata, CLUSTER *self,
			   int *fd, unsigned int node)
{
	struct blob b;

	freeze_checkpoint(_metadata, *fd, 0, &b);
	close(*fd);
	*fd = restore_on(_metadata, self, node, &b);
	blob_free(&b);
	ASSERT_LE(0, *fd) TH_LOG("the migration to node %u failed", node);
}

#define MIGRATE(fd, node) migrate(_metadata, self, fd, node)

static inline bool same_name(int a, int b, bool peer)
{
	struct sockaddr_mig x, y;
	socklen_t xl = sizeof(x), yl = sizeof(y);
	int (*get)(int, struct sockaddr *, socklen_t *) =
		peer ? getpeername : getsockname;

	memset(&x, 0x11, sizeof(x));
	memset(&y, 0x22, sizeof(y));
	if (get(a, (struct sockaddr *)&x, &xl) ||
	    get(b, (struct sockaddr *)&y, &yl))
		return false;
	return xl == yl && !memcmp(&x, &y, xl);
}

static inline struct sockaddr_mig name_of(int fd, bool peer)
{
	struct sockaddr_mig a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if ((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&a, &len))
		a.smig_family = 0xffff;
	return a;
}

static inline bool addr_eq(const struct sockaddr_mig *a,
			   const struct sockaddr_mig *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Bytes in @fd's receive queue (SIOCINQ), or -1. */
static inline int inq(int fd)
{
	int n;

	return ioctl(fd, SIOCINQ, &n) ? -1 : n;
}

/* Waits up to @ms for @fd to hold @n unread bytes; true if it does. */
static inline bool wait_inq(int fd, int n, int ms)
{
	long end = now_ms() + ms;

	while (inq(fd) != n) {
		if (now_ms() >= end)
			return false;
		sleep_ms(5);
	}
	return true;
}

/* Data at any offset of a stream.h stream. */

/* Sends bytes [@off, @off + @len) of stream @seed on @fd, blocking. */
static inline void send_at(struct __test_metadata *_metadata, int fd,
			   __u64 seed, size_t off, size_t len)
{
	__u8 *buf = malloc(len ?: 1);
	size_t done = 0;
	ssize_t n;

	ASSERT_NE(NULL, buf);
	pattern_fill(buf, len, seed, off);
	while (done < len) {
		n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
		if (n <= 0) {
			TH_LOG("send of stream %llu at %zu: %s",
			       (unsigned long long)seed, off + done,
			       n ? strerror(errno) : "returned 0");
			_metadata->passed = 0;
			break;
		}
		done += n;
	}
	free(buf);
}

/*
 * Receives exactly @len bytes from @fd and checks that they are bytes
 * [@off, @off + @len) of stream @seed; true if they are.
 */
static inline bool recv_at(struct __test_metadata *_metadata, int fd,
			   __u64 seed, size_t off, size_t len)
{
	__u8 *buf = malloc(len ?: 1), want;
	size_t done = 0;
	bool ok = true;
	long bad;
	ssize_t n;

	if (!buf)
		return false;
	while (done < len) {
		n = recv(fd, buf + done, len - done, 0);
		if (n <= 0) {
			TH_LOG("stream %llu: %s after %zu of %zu bytes (from offset %zu)",
			       (unsigned long long)seed,
			       n ? strerror(errno) : "EOF", done, len, off);
			ok = false;
			break;
		}
		done += n;
	}
	bad = pattern_check(buf, done, seed, off, &want);
	if (bad >= 0) {
		TH_LOG("stream %llu: byte %zu is %#04x, want %#04x",
		       (unsigned long long)seed, off + bad, buf[bad], want);
		ok = false;
	}
	free(buf);
	if (!ok)
		_metadata->passed = 0;
	return ok;
}

/* The next read of @fd returns EOF, within GUARD_SEC. */
static inline void expect_eof(struct __test_metadata *_metadata, int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, 0);

	EXPECT_EQ(0, n) TH_LOG("no EOF: recv returned %zd (%s)", n,
			       n < 0 ? strerror(errno) : "data");
}

/* @n bytes each way, stream @seed and @seed + 1: the connection works. */
static inline void exchange(struct __test_metadata *_metadata, int a, int b,
			    __u64 seed, size_t n)
{
	send_at(_metadata, a, seed, 0, n);
	recv_at(_metadata, b, seed, 0, n);
	send_at(_metadata, b, seed + 1, 0, n);
	recv_at(_metadata, a, seed + 1, 0, n);
}

/*
 * A checkpoint taken apart: each record a list of attributes (type as
 * found, flags included; payload pointing into the blob or elsewhere).
 */
#define MODEL_RECS	16
#define MODEL_ATTRS	160

struct ckpt_attr {
	__u16 type;
	__u16 len;		/* of the payload */
	const __u8 *data;
};

struct ckpt_rec {
	unsigned int n;
	struct ckpt_attr a[MODEL_ATTRS];
};

struct ckpt_model {
	unsigned int nr;
	struct ckpt_rec rec[MODEL_RECS];
};

/*
 * Takes @b apart into @m (which points into @b).  0, or -1 if @b is not
 * a header and records whose attributes fill them exactly.
 */
static inline int model_parse(const __u8 *b, size_t len,
			      struct ckpt_model *m)
{
	const struct migtcp_ckpt_hdr *h = (const void *)b;
	size_t off = sizeof(*h);
	unsigned int i;

	if (len < sizeof(*h) || h->total_len != len || h->nr_recs == 0 ||
	    h->nr_recs > MODEL_RECS)
		return -1;
	m->nr = h->nr_recs;
	for (i = 0; i < m->nr; i++) {
		struct migtcp_ckpt_rec r;
		struct ckpt_rec *rec = &m->rec[i];
		const struct nlattr *attr;
		const void *p;
		size_t plen;

		if (len - off < sizeof(r))
			return -1;
		memcpy(&r, b + off, sizeof(r));
		if (r.len < sizeof(r) || r.len > len - off)
			return -1;
		p = b + off + sizeof(r);
		plen = r.len - sizeof(r);
		rec->n = 0;
		mnl_attr_for_each_payload(p, plen) {
			if (rec->n == MODEL_ATTRS)
				return -1;
			rec->a[rec->n].type = attr->nla_type;
			rec->a[rec->n].len = mnl_attr_get_payload_len(attr);
			rec->a[rec->n].data = mnl_attr_get_payload(attr);
			rec->n++;
		}
		if ((const __u8 *)attr != (const __u8 *)p + plen)
			return -1;
		off += r.len;
	}
	return off == len ? 0 : -1;
}

/* The first attribute of type @type (flags ignored) in @rec, or NULL. */
static inline struct ckpt_attr *model_find(struct ckpt_rec *rec, __u16 type)
{
	unsigned int i;

	for (i = 0; i < rec->n; i++)
		if ((rec->a[i].type & NLA_TYPE_MASK) == type)
			return &rec->a[i];
	return NULL;
}

/* Attribute @type of @rec as an unsigned number of its own size, or @dflt. */
static inline __u64 model_uint(struct ckpt_rec *rec, __u16 type, __u64 dflt)
{
	const struct ckpt_attr *a = model_find(rec, type);
	__u8 v8;
	__u16 v16;
	__u32 v32;
	__u64 v64;

	if (!a)
		return dflt;
	switch (a->len) {
	case 1:
		memcpy(&v8, a->data, 1);
		return v8;
	case 2:
		memcpy(&v16, a->data, 2);
		return v16;
	case 4:
		memcpy(&v32, a->data, 4);
		return v32;
	case 8:
		memcpy(&v64, a->data, 8);
		return v64;
	}
	return dflt;
}

/* Where model_emit() builds records: one netlink message of attributes. */
#define EMIT_MAX	(256 * 1024)

/*
 * Puts @m together again into @out (of @cap bytes) with a header saying
 * what @m holds; the length, or 0 if it does not fit.  Attributes are
 * written with mnl_attr_put(), which pads them as the kernel does.
 */
static inline size_t model_emit(const struct ckpt_model *m, __u8 *out,
				size_t cap)
{
	static __u8 nlbuf[EMIT_MAX];
	struct migtcp_ckpt_hdr h = {
		.magic = MIGTCP_CKPT_MAGIC,
		.version = MIGTCP_CKPT_VERSION,
		.hdr_len = sizeof(h),
		.nr_recs = m->nr,
	};
	size_t off = sizeof(h);
	unsigned int i, j;

	for (i = 0; i < m->nr; i++) {
		const struct ckpt_rec *rec = &m->rec[i];
		struct migtcp_ckpt_rec r = { 0 };
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(nlbuf);
		size_t plen = 0;

		for (j = 0; j < rec->n; j++) {
			plen += MNL_ALIGN(MNL_ATTR_HDRLEN + rec->a[j].len);
			if (plen > EMIT_MAX - MNL_NLMSG_HDRLEN)
				return 0;
			mnl_attr_put(nlh, rec->a[j].type, rec->a[j].len,
				     rec->a[j].data);
		}
		plen = nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
		r.len = sizeof(r) + plen;
		if (off + r.len > cap)
			return 0;
		memcpy(out + off, &r, sizeof(r));
		memcpy(out + off + sizeof(r), mnl_nlmsg_get_payload(nlh), plen);
		off += r.len;
	}
	h.total_len = off;
	memcpy(out, &h, sizeof(h));
	return off;
}

/* The connection key and epoch a checkpoint of a connection carries. */
struct conn_secrets {
	__u8 key[32];
	__u64 epoch;
	__u32 local_node, remote_node;
	__u16 local_port, remote_port;
};

static inline int model_secrets(const struct blob *b, struct conn_secrets *s)
{
	static struct ckpt_model m;
	struct ckpt_attr *key;

	if (model_parse(b->buf, b->len, &m))
		return -1;
	key = model_find(&m.rec[0], MIGTCP_CKPT_A_CONN_KEY);
	if (!key || key->len != sizeof(s->key))
		return -1;
	memcpy(s->key, key->data, sizeof(s->key));
	s->epoch = model_uint(&m.rec[0], MIGTCP_CKPT_A_EPOCH, 0);
	s->local_node = model_uint(&m.rec[0], MIGTCP_CKPT_A_LOCAL_NODE, 0);
	s->remote_node = model_uint(&m.rec[0], MIGTCP_CKPT_A_REMOTE_NODE, 0);
	s->local_port = model_uint(&m.rec[0], MIGTCP_CKPT_A_LOCAL_PORT, 0);
	s->remote_port = model_uint(&m.rec[0], MIGTCP_CKPT_A_REMOTE_PORT, 0);
	return 0;
}

#endif /* MIGTCP_CKPT_H */
