// SPDX-License-Identifier: GPL-2.0
/*
 * The preload library (migtcp-run, libmigtcp-preload.so): unmodified TCP
 * programs run over AF_MIGTCP.  Each test runs preload_app, an ordinary
 * AF_INET/AF_INET6 program, under migtcp-run in the nodes of a two-node
 * cluster (cluster.h: node 1 at 198.51.100.1, node 2 at 198.51.100.2),
 * and checks what the program sees and what the kernel really made:
 *
 *  - an IPv4 and an IPv6 client/server pair are AF_MIGTCP at both ends
 *    (the kernel's SO_DOMAIN, read past the library) while libc's
 *    SO_DOMAIN says the program's family; getsockname, getpeername and
 *    accept give the nodes' underlay addresses (v4-mapped for IPv6
 *    sockets) and the right ports; the data arrives intact both ways;
 *  - a listener bound to the node's own address, an IPv6 listener that
 *    takes an IPv4 client, a client of its own node's address;
 *  - loopback and a destination outside the cluster stay kernel TCP,
 *    but for a loopback connect to a listener run under migtcp-run; the
 *    AF_MIGTCP and TCP port spaces stay apart;
 *  - accept4 flags, a non-blocking connect, O_NONBLOCK set with fcntl,
 *    epoll readiness, fork, exec, concurrent threads, sendfile and
 *    splice, dup and dup2, a refused connect, the flags of a socket that
 *    falls back to TCP;
 *  - the TCP options the library maps, TCP_INFO, TCP_CONGESTION, an
 *    unsupported option (ENOPROTOOPT), options set before a connect
 *    that falls back to TCP, and MIGTCP_RUN_DEBUG's decision lines;
 *  - IPv6 underlay addresses, in clusters of IPv6 only, of both families
 *    and of one node of each (fixtures v6only, dual, mixed): a client
 *    that dials a node's IPv6 address and the server see the nodes' IPv6
 *    addresses, over a wildcard listener or one bound to the node's
 *    address, also within one node and from [::1]; an IPv6 address
 *    outside the cluster stays TCP; AF_INET programs keep IPv4 addresses,
 *    an AF_INET6 listener shows a node's IPv6 address, a v4-mapped
 *    client sees v4-mapped ones; an AF_INET listener resets a client of
 *    a node without IPv4, and a node without IPv4 has AF_INET sockets of
 *    kernel TCP, and takes an inherited AF_MIGTCP socket as AF_INET6.
 *
 * Environment: MIGTCP_TEST_BIN (preload_app), MIGTCP_CTL (migtcpctl;
 * migtcp-run is looked for next to it unless MIGTCP_RUN names it).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <linux/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <time.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "migtcp_test.h"
#include "cluster.h"

#define ADDR1		"198.51.100.1"
#define ADDR2		"198.51.100.2"
#define MAPPED1		"::ffff:198.51.100.1"
#define MAPPED2		"::ffff:198.51.100.2"
/* An address of node 2 that no node's peer table has. */
#define OUTSIDE		"198.51.100.50"
#define SPORT		7000
#define SPORT_STR	"7000"
#define XFER		262144		/* bytes each way, as preload_app's default */
#define XFER_STR	"262144"

#define APP_WAIT_MS	30000		/* the longest a helper may run */

enum {
	APP_PLAIN	= 0,		/* no library: a plain TCP program */
	APP_PRELOAD	= 1,		/* under migtcp-run */
	APP_DEBUG	= 2,		/* ... with MIGTCP_RUN_DEBUG=1 */
};

/* A preload_app running in a node; its stdout and stderr, merged. */
struct app {
	const char *name;
	pid_t pid;
	int out;
	int status;
	size_t len;
	char buf[32768];
};

static void path_of(char *out, size_t len, const char *env, const char *dir_env,
		    const char *fallback_dir, const char *name)
{
	const char *p = getenv(env);
	const char *dir;

	if (p) {
		snprintf(out, len, "%s", p);
		return;
	}
	dir = getenv(dir_env);
	if (dir) {
		const char *slash = strrchr(dir, '/');

		/* MIGTCP_CTL names a file: its directory. */
		if (!strcmp(dir_env, "MIGTCP_CTL") && slash)
			snprintf(out, len, "%.*s/%s", (int)(slash - dir), dir, name);
		else
			snprintf(out, len, "%s/%s", dir, name);
		return;
	}
	snprintf(out, len, "%s/%s", fallback_dir, name);
}

/*
 * Starts preload_app in @node with the space-separated arguments @fmt;
 * @how is APP_PLAIN or APP_PRELOAD, | APP_DEBUG.  The helper is killed if
 * the test's process ends first.
 */
static void __attribute__((format(printf, 6, 7)))
app_start(struct __test_metadata *_metadata, const int *ns, struct app *a,
	  unsigned int node, int how, const char *fmt, ...)
{
	char args[512], app_bin[PATH_MAX], run_bin[PATH_MAX];
	char *argv[32], *save = NULL, *tok;
	int p[2], argc = 0;
	va_list ap;

	path_of(app_bin, sizeof(app_bin), "MIGTCP_PRELOAD_APP", "MIGTCP_TEST_BIN",
		".", "preload_app");
	path_of(run_bin, sizeof(run_bin), "MIGTCP_RUN", "MIGTCP_CTL",
		"../build/userspace", "migtcp-run");
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	if (how & APP_PRELOAD)
		argv[argc++] = run_bin;
	argv[argc++] = app_bin;
	for (tok = strtok_r(args, " ", &save); tok && argc < 31;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;

	a->len = 0;
	a->buf[0] = 0;
	a->status = -1;
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	fflush(stdout);
	fflush(stderr);
	a->pid = fork();
	ASSERT_LE(0, a->pid);
	if (!a->pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setns(ns[node], CLONE_NEWNET) ||
		    dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)
			_exit(126);
		unsetenv("LD_PRELOAD");
		if (how & APP_DEBUG)
			setenv("MIGTCP_RUN_DEBUG", "1", 1);
		else
			unsetenv("MIGTCP_RUN_DEBUG");
		execv(argv[0], argv);
		printf("error: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	a->out = p[0];
}

/* Reads what the helper wrote until @end (now_ms()); false at EOF. */
static bool app_read(struct app *a, long end)
{
	long left = end - now_ms();
	ssize_t n;

	if (a->out < 0)
		return false;
	if (left > 0 && poll_one(a->out, POLLIN, left) <= 0)
		return true;
	n = read(a->out, a->buf + a->len, sizeof(a->buf) - 1 - a->len);
	if (n <= 0) {
		close(a->out);
		a->out = -1;
		return false;
	}
	a->len += n;
	a->buf[a->len] = 0;
	return true;
}

/* The start of the line of @a that begins with word @word (@nth such). */
static const char *app_line(const struct app *a, const char *word, int nth)
{
	size_t wl = strlen(word);
	const char *l;

	for (l = a->buf; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		if (!strncmp(l, word, wl) && (l[wl] == ' ' || l[wl] == '\n') &&
		    !nth--)
			return l;
	}
	return NULL;
}

static int app_count(const struct app *a, const char *word)
{
	int n = 0;

	while (app_line(a, word, n))
		n++;
	return n;
}

/* Waits until the helper printed a line starting with @word. */
static bool app_wait(struct app *a, const char *word)
{
	long end = now_ms() + APP_WAIT_MS;

	while (!app_line(a, word, 0) && now_ms() < end)
		if (!app_read(a, end))
			break;
	return app_line(a, word, 0);
}

static void app_dump(const struct app *a)
{
	const char *l = a->buf, *nl;

	while (*l) {
		nl = strchr(l, '\n');
		fprintf(stderr, "# %s: %.*s\n", a->name,
			(int)(nl ? nl - l : (long)strlen(l)), l);
		if (!nl)
			break;
		l = nl + 1;
	}
}

/* Waits for the helper to end (killing it after APP_WAIT_MS). */
static int app_finish(struct app *a)
{
	long end = now_ms() + APP_WAIT_MS;
	int status;

	while (now_ms() < end && app_read(a, end))
		;
	if (a->out >= 0) {
		kill(a->pid, SIGKILL);
		close(a->out);
		a->out = -1;
	}
	if (waitpid(a->pid, &status, 0) != a->pid)
		return -1;
	a->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return a->status;
}

/*
 * Value of "@key=" on the @nth line of @a starting with @word, into @out;
 * "(none)" when there is no such line or key.
 */
static const char *app_val(const struct app *a, const char *word, int nth,
			   const char *key, char *out, size_t len)
{
	const char *l = app_line(a, word, nth), *v, *end;
	char pat[64];

	snprintf(out, len, "(none)");
	if (!l)
		return out;
	end = strchr(l, '\n') ?: l + strlen(l);
	snprintf(pat, sizeof(pat), " %s=", key);
	v = strstr(l, pat);
	if (!v || v > end)
		return out;
	v += strlen(pat);
	snprintf(out, len, "%.*s", (int)strcspn(v, " \n"), v);
	return out;
}

static long app_num(const struct app *a, const char *word, int nth,
		    const char *key)
{
	char v[64], *e;
	long n;

	app_val(a, word, nth, key, v, sizeof(v));
	n = strtol(v, &e, 0);
	return *e || e == v ? LONG_MIN : n;
}

/* Checks "@key=@want" on the @nth "@word" line of @a. */
#define EXPECT_KEY(a, word, nth, key, want) do {			\
	char __v[128];							\
									\
	EXPECT_STREQ(want, app_val(a, word, nth, key, __v, sizeof(__v))) \
		TH_LOG("%s: \"%s\" line %d, %s", (a)->name, word, nth, key); \
} while (0)

#define EXPECT_NUM(a, word, nth, key, want)				\
	EXPECT_EQ((long)(want), app_num(a, word, nth, key))		\
		TH_LOG("%s: \"%s\" line %d, %s", (a)->name, word, nth, key)

/*
 * The @nth "@word" line of @a describes a socket whose kernel family is
 * @real, that the program sees as @family (AF_INET or AF_INET6), bound
 * to @local:@lport and connected to @peer:@pport (NULL: not connected;
 * a port of 0: any port above 0, returned).  Returns the local port.
 */
static long expect_sock(struct __test_metadata *_metadata,
			const struct app *a, const char *word, int nth,
			int real, int family, const char *local, long lport,
			const char *peer, long pport)
{
	const long alen = family == AF_INET ? 16 : 28;
	long port;

	EXPECT_NE(NULL, app_line(a, word, nth))
		TH_LOG("%s: no \"%s\" line %d", a->name, word, nth);
	EXPECT_NUM(a, word, nth, "real", real);
	EXPECT_NUM(a, word, nth, "domain", family);
	EXPECT_NUM(a, word, nth, "protocol", IPPROTO_TCP);
	EXPECT_KEY(a, word, nth, "local", local);
	port = app_num(a, word, nth, "lport");
	if (lport) {
		EXPECT_EQ(lport, port) TH_LOG("%s: %s lport", a->name, word);
	} else {
		EXPECT_LT(0, port) TH_LOG("%s: %s lport", a->name, word);
	}
	EXPECT_NUM(a, word, nth, "lfam", family);
	EXPECT_NUM(a, word, nth, "llen", alen);
	if (!peer) {
		EXPECT_KEY(a, word, nth, "peer", "ENOTCONN");
		return port;
	}
	EXPECT_KEY(a, word, nth, "peer", peer);
	if (pport) {
		EXPECT_NUM(a, word, nth, "pport", pport);
	} else {
		EXPECT_LT(0, app_num(a, word, nth, "pport"));
	}
	EXPECT_NUM(a, word, nth, "pfam", family);
	EXPECT_NUM(a, word, nth, "plen", alen);
	return port;
}

/* Both directions verified by a client (@nth exchange) and the server. */
static void expect_exchanged(struct __test_metadata *_metadata,
			     const struct app *cli, int nth)
{
	EXPECT_NUM(cli, "exchanged", nth, "sent", XFER);
	EXPECT_NUM(cli, "exchanged", nth, "received", XFER);
}

static void expect_served(struct __test_metadata *_metadata,
			  const struct app *srv, int nth)
{
	EXPECT_NUM(srv, "served", nth, "received", XFER);
	EXPECT_NUM(srv, "served", nth, "sent", XFER);
}

/* Both helpers ended with status 0; their output if anything failed. */
static void expect_clean_end(struct __test_metadata *_metadata,
			     struct app *srv, struct app *cli)
{
	if (cli) {
		EXPECT_EQ(0, cli->status) TH_LOG("client exit status");
		EXPECT_NE(NULL, app_line(cli, "done", 0));
	}
	if (srv) {
		EXPECT_EQ(0, srv->status) TH_LOG("server exit status");
		EXPECT_NE(NULL, app_line(srv, "done", 0));
	}
	if (!_metadata->passed) {
		if (srv)
			app_dump(srv);
		if (cli)
			app_dump(cli);
	}
}

/*
 * A server on node 2 (preloaded), listening on SPORT; @opts are more of
 * its arguments.  Waits for "listening".
 */
#define START_SERVER(srv, node, how, opts, ...) do {			\
	(srv)->name = "server";						\
	app_start(_metadata, (self)->ns, srv, node, how,		\
		  "server -p " SPORT_STR " " opts, ##__VA_ARGS__);	\
	ASSERT_TRUE(app_wait(srv, "listening")) {			\
		app_finish(srv);					\
		app_dump(srv);						\
	}								\
} while (0)

#define RUN_CLIENT(cli, node, how, opts, ...) do {			\
	(cli)->name = "client";						\
	app_start(_metadata, (self)->ns, cli, node, how, "client " opts, \
		  ##__VA_ARGS__);					\
	app_finish(cli);						\
} while (0)

/*
 * The plain pair over the cluster: node 2 serves, node 1 connects to
 * node 2's address; @v6srv / @v6cli make either end an AF_INET6 program.
 * Checks everything both ends see.
 */
static void pair_test(struct __test_metadata *_metadata, CLUSTER *self,
		      bool v6srv, bool v6cli, const char *bind_addr)
{
	const int sfam = v6srv ? AF_INET6 : AF_INET;
	const int cfam = v6cli ? AF_INET6 : AF_INET;
	struct app srv, cli;
	long cport;

	if (bind_addr)
		START_SERVER(&srv, NODE2, APP_PRELOAD, "%s-b %s",
			     v6srv ? "-6 " : "", bind_addr);
	else
		START_SERVER(&srv, NODE2, APP_PRELOAD, "%s", v6srv ? "-6" : "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "%s-c %s -p " SPORT_STR,
		   v6cli ? "-6 " : "", v6cli ? MAPPED2 : ADDR2);
	app_finish(&srv);

	expect_sock(_metadata, &srv, "listening", 0, self->family, sfam,
		    bind_addr ?: (v6srv ? "::" : "0.0.0.0"), SPORT, NULL, 0);
	cport = expect_sock(_metadata, &cli, "connected", 0, self->family,
			    cfam, v6cli ? MAPPED1 : ADDR1, 0,
			    v6cli ? MAPPED2 : ADDR2, SPORT);
	/* accept's address, then the accepted socket's names. */
	EXPECT_KEY(&srv, "accepted", 0, "from", v6srv ? MAPPED1 : ADDR1);
	EXPECT_NUM(&srv, "accepted", 0, "fport", cport);
	EXPECT_NUM(&srv, "accepted", 0, "ffam", sfam);
	EXPECT_NUM(&srv, "accepted", 0, "flen", sfam == AF_INET ? 16 : 28);
	EXPECT_NUM(&srv, "accepted", 0, "nonblock", 0);
	EXPECT_NUM(&srv, "accepted", 0, "cloexec", 0);
	expect_sock(_metadata, &srv, "conn", 0, self->family, sfam,
		    v6srv ? MAPPED2 : ADDR2, SPORT,
		    v6srv ? MAPPED1 : ADDR1, cport);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * An AF_INET server (wildcard listener, bound and listening before the
 * client comes) and an AF_INET client on the other node: AF_MIGTCP at
 * both ends, the nodes' addresses and the ports as TCP would give them,
 * every byte both ways.
 */
TEST_F(cluster, inet_pair_is_migtcp)
{
	pair_test(_metadata, self, false, false, NULL);
}

/* The same with AF_INET6 programs: v4-mapped addresses of the nodes. */
TEST_F(cluster, inet6_pair_is_migtcp)
{
	pair_test(_metadata, self, true, true, NULL);
}

/* An AF_INET6 wildcard listener takes an AF_INET client, v4-mapped. */
TEST_F(cluster, inet6_listener_takes_inet_client)
{
	pair_test(_metadata, self, true, false, NULL);
}

/* A listener bound to its node's own underlay address is AF_MIGTCP. */
TEST_F(cluster, listener_on_node_address)
{
	pair_test(_metadata, self, false, false, ADDR2);
}

/*
 * A client that connects to its own node's address reaches a listener of
 * its own node over AF_MIGTCP.
 */
TEST_F(cluster, connect_to_own_node_address)
{
	struct app srv, cli;
	long cport;

	START_SERVER(&srv, NODE1, APP_PRELOAD, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-c " ADDR1 " -p " SPORT_STR);
	app_finish(&srv);
	cport = expect_sock(_metadata, &cli, "connected", 0, self->family,
			    AF_INET, ADDR1, 0, ADDR1, SPORT);
	expect_sock(_metadata, &srv, "conn", 0, self->family, AF_INET, ADDR1,
		    SPORT, ADDR1, cport);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * Loopback stays kernel TCP: a server bound to 127.0.0.1 and a client
 * connecting there, both under migtcp-run, are AF_INET sockets.
 */
TEST_F(cluster, loopback_stays_tcp)
{
	struct app srv, cli;
	long cport;

	START_SERVER(&srv, NODE1, APP_PRELOAD, "-b 127.0.0.1");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-c 127.0.0.1 -p " SPORT_STR);
	app_finish(&srv);
	expect_sock(_metadata, &srv, "listening", 0, AF_INET, AF_INET,
		    "127.0.0.1", SPORT, NULL, 0);
	cport = expect_sock(_metadata, &cli, "connected", 0, AF_INET, AF_INET,
			    "127.0.0.1", 0, "127.0.0.1", SPORT);
	expect_sock(_metadata, &srv, "conn", 0, AF_INET, AF_INET, "127.0.0.1",
		    SPORT, "127.0.0.1", cport);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * A client of this host (127.0.0.1) reaches a wildcard listener run
 * under migtcp-run, which only listens over AF_MIGTCP: the connect goes
 * AF_MIGTCP, every byte both ways.
 */
TEST_F(cluster, loopback_reaches_migtcp_listener)
{
	struct app srv, cli;

	START_SERVER(&srv, NODE1, APP_PRELOAD, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-c 127.0.0.1 -p " SPORT_STR);
	app_finish(&srv);
	EXPECT_NUM(&cli, "connected", 0, "real", self->family);
	EXPECT_NUM(&cli, "connected", 0, "pport", SPORT);
	EXPECT_NUM(&srv, "conn", 0, "real", self->family);
	EXPECT_NUM(&srv, "conn", 0, "pport", app_num(&cli, "connected", 0, "lport"));
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * AF_MIGTCP and TCP ports are separate spaces: with an AF_MIGTCP
 * connection on local port P open, a program binds a TCP listener to
 * 127.0.0.1:P and connects to it over loopback; that connect is kernel
 * TCP and reaches the listener (nothing of AF_MIGTCP listens on P).
 */
TEST_F(cluster, loopback_port_of_a_migtcp_connection)
{
	struct app srv, cli;
	long cport;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-m port-clash -c " ADDR2 " -p " SPORT_STR);
	app_finish(&srv);
	cport = expect_sock(_metadata, &cli, "connected", 0, self->family,
			    AF_INET, ADDR1, 0, ADDR2, SPORT);
	expect_sock(_metadata, &cli, "tcp-listening", 0, AF_INET, AF_INET,
		    "127.0.0.1", cport, NULL, 0);
	EXPECT_NUM(&cli, "loop-connect", 0, "ret", 0);
	expect_sock(_metadata, &cli, "loop", 0, AF_INET, AF_INET, "127.0.0.1",
		    0, "127.0.0.1", cport);
	EXPECT_NUM(&cli, "loop-accepted", 0, "ok", 1);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * A destination that is no cluster node (a second address of node 2,
 * in no peer table, served by a plain TCP program) stays kernel TCP.
 */
TEST_F(cluster, outside_cluster_stays_tcp)
{
	struct app srv, cli;
	long cport;

	ON_NODE(NODE2);
	ASSERT_EQ(0, sh("ip addr add " OUTSIDE "/24 dev mig2"));
	START_SERVER(&srv, NODE2, APP_PLAIN, "-b " OUTSIDE);
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-c " OUTSIDE " -p " SPORT_STR);
	app_finish(&srv);
	cport = expect_sock(_metadata, &cli, "connected", 0, AF_INET, AF_INET,
			    ADDR1, 0, OUTSIDE, SPORT);
	expect_sock(_metadata, &srv, "conn", 0, AF_INET, AF_INET, OUTSIDE,
		    SPORT, ADDR1, cport);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/* accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) gives a socket with both flags. */
TEST_F(cluster, accept4_flags)
{
	struct app srv, cli;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "-a");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-c " ADDR2 " -p " SPORT_STR);
	app_finish(&srv);
	EXPECT_NUM(&srv, "accepted", 0, "nonblock", 1);
	EXPECT_NUM(&srv, "accepted", 0, "cloexec", 1);
	EXPECT_NUM(&srv, "conn", 0, "real", self->family);
	expect_served(_metadata, &srv, 0);
	expect_exchanged(_metadata, &cli, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * socket(SOCK_NONBLOCK) then connect: EINPROGRESS, POLLOUT once
 * connected, SO_ERROR 0, and a working AF_MIGTCP connection.
 */
TEST_F(cluster, nonblocking_connect)
{
	struct app srv, cli;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-m nonblock -c " ADDR2 " -p " SPORT_STR);
	app_finish(&srv);
	EXPECT_NUM(&cli, "connect", 0, "ret", -1);
	EXPECT_KEY(&cli, "connect", 0, "errno", "EINPROGRESS");
	EXPECT_NUM(&cli, "poll", 0, "n", 1);
	EXPECT_NUM(&cli, "poll", 0, "revents", POLLOUT);
	EXPECT_NUM(&cli, "so_error", 0, "err", 0);
	EXPECT_NUM(&cli, "flags", 0, "nonblock", 1);
	expect_sock(_metadata, &cli, "connected", 0, self->family, AF_INET,
		    ADDR1, 0, ADDR2, SPORT);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/* fcntl(O_NONBLOCK) on a connection: recv with nothing there, EAGAIN. */
TEST_F(cluster, fcntl_nonblock_recv_eagain)
{
	struct app srv, cli;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-m fcntl -c " ADDR2 " -p " SPORT_STR);
	app_finish(&srv);
	EXPECT_NUM(&cli, "connected", 0, "real", self->family);
	EXPECT_NUM(&cli, "flags", 0, "nonblock", 1);
	EXPECT_NUM(&cli, "recv", 0, "ret", -1);
	EXPECT_KEY(&cli, "recv", 0, "errno", "EAGAIN");
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * epoll on the connection: nothing readable before the server answers,
 * writable at once, readable when the answer comes, EPOLLIN|EPOLLHUP
 * when both sides have closed their direction.
 */
TEST_F(cluster, epoll_readiness)
{
	struct app srv, cli;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-m epoll -c " ADDR2 " -p " SPORT_STR);
	app_finish(&srv);
	EXPECT_NUM(&cli, "connected", 0, "real", self->family);
	EXPECT_NUM(&cli, "epoll-idle", 0, "n", 0);
	EXPECT_NUM(&cli, "epoll-writable", 0, "n", 1);
	EXPECT_NUM(&cli, "epoll-writable", 0, "events", EPOLLOUT);
	EXPECT_NUM(&cli, "epoll-readable", 0, "n", 1);
	EXPECT_NUM(&cli, "epoll-readable", 0, "events", EPOLLIN);
	EXPECT_NUM(&cli, "epoll-eof", 0, "n", 1);
	EXPECT_NUM(&cli, "epoll-eof", 0, "events", EPOLLIN | EPOLLHUP);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/* A forked child does the whole exchange on its parent's connection. */
TEST_F(cluster, fork_child_uses_socket)
{
	struct app srv, cli;
	long cport;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-m fork -c " ADDR2 " -p " SPORT_STR);
	app_finish(&srv);
	cport = expect_sock(_metadata, &cli, "connected", 0, self->family,
			    AF_INET, ADDR1, 0, ADDR2, SPORT);
	expect_sock(_metadata, &cli, "child", 0, self->family, AF_INET, ADDR1,
		    cport, ADDR2, SPORT);
	EXPECT_NUM(&cli, "waited", 0, "status", 0);
	expect_sock(_metadata, &cli, "parent", 0, self->family, AF_INET,
		    ADDR1, cport, ADDR2, SPORT);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * A program exec'd with an AF_MIGTCP connection (no longer made by the
 * library in this process) still sees AF_INET names and uses it.
 */
TEST_F(cluster, exec_inherits_socket)
{
	struct app srv, cli;
	long cport;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-m exec -c " ADDR2 " -p " SPORT_STR);
	app_finish(&srv);
	cport = expect_sock(_metadata, &cli, "connected", 0, self->family,
			    AF_INET, ADDR1, 0, ADDR2, SPORT);
	expect_sock(_metadata, &cli, "inherited", 0, self->family, AF_INET,
		    ADDR1, cport, ADDR2, SPORT);
	EXPECT_NUM(&cli, "inherited", 0, "fd",
		   app_num(&cli, "connected", 0, "fd"));
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/* Four threads connect at once: four AF_MIGTCP connections, all intact. */
TEST_F_TIMEOUT(cluster, threads_connect_concurrently, 60)
{
	const int n = 4;
	struct app srv, cli;
	long seeds = 0, ports[4];
	int i, j;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "-n %d", n);
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-m threads -n %d -c " ADDR2 " -p " SPORT_STR, n);
	app_finish(&srv);
	EXPECT_EQ(n, app_count(&cli, "connected"));
	EXPECT_EQ(n, app_count(&cli, "exchanged"));
	EXPECT_EQ(n, app_count(&srv, "conn"));
	EXPECT_EQ(n, app_count(&srv, "served"));
	for (i = 0; i < n; i++) {
		ports[i] = expect_sock(_metadata, &cli, "connected", i,
				       self->family, AF_INET, ADDR1, 0, ADDR2,
				       SPORT);
		for (j = 0; j < i; j++)
			EXPECT_NE(ports[j], ports[i]) TH_LOG("two threads on port %ld", ports[i]);
		expect_exchanged(_metadata, &cli, i);
		expect_sock(_metadata, &srv, "conn", i, self->family, AF_INET,
			    ADDR2, SPORT, ADDR1, 0);
		expect_served(_metadata, &srv, i);
		/* Each of the seeds 1..n served once. */
		seeds |= 1L << app_num(&srv, "served", i, "seed");
	}
	EXPECT_EQ(((1L << n) - 1) << 1, seeds);
	expect_clean_end(_metadata, &srv, &cli);
}

/* sendfile() from a file into the connection, splice() out of it. */
TEST_F(cluster, sendfile_and_splice)
{
	struct app srv, cli;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-m sendfile -c " ADDR2 " -p " SPORT_STR);
	app_finish(&srv);
	EXPECT_NUM(&cli, "connected", 0, "real", self->family);
	EXPECT_NUM(&cli, "sendfile", 0, "sent", 4 + XFER);
	EXPECT_NUM(&cli, "splice", 0, "received", XFER);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * dup2() and dup() of an AF_INET6 program's connection: the copies show
 * the same v4-mapped names, and the dup2 copy carries the exchange after
 * the original is closed.
 */
TEST_F(cluster, dup_keeps_inet6_view)
{
	struct app srv, cli;
	long cport;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "-6");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-6 -m dup -c " MAPPED2 " -p " SPORT_STR);
	app_finish(&srv);
	cport = expect_sock(_metadata, &cli, "connected", 0, self->family,
			    AF_INET6, MAPPED1, 0, MAPPED2, SPORT);
	expect_sock(_metadata, &cli, "dup2", 0, self->family, AF_INET6,
		    MAPPED1, cport, MAPPED2, SPORT);
	expect_sock(_metadata, &cli, "dup", 0, self->family, AF_INET6,
		    MAPPED1, cport, MAPPED2, SPORT);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * A connect to a node where nobody listens on the port fails with
 * ECONNREFUSED, as TCP's does; the socket stays AF_MIGTCP.
 */
TEST_F(cluster, connect_refused)
{
	struct app cli;

	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-m refused -c " ADDR2 " -p " SPORT_STR);
	EXPECT_NUM(&cli, "connect", 0, "ret", -1);
	EXPECT_KEY(&cli, "connect", 0, "errno", "ECONNREFUSED");
	EXPECT_NUM(&cli, "after", 0, "real", self->family);
	expect_clean_end(_metadata, NULL, &cli);
}

/*
 * A SOCK_NONBLOCK | SOCK_CLOEXEC socket that falls back to TCP (a
 * connect to loopback) is still non-blocking and close-on-exec, and its
 * connect behaves as a non-blocking TCP connect.
 */
TEST_F(cluster, fallback_keeps_flags)
{
	struct app srv, cli;

	START_SERVER(&srv, NODE1, APP_PLAIN, "-b 127.0.0.1");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-m fallback-flags -c 127.0.0.1 -p " SPORT_STR);
	app_finish(&srv);
	EXPECT_NUM(&cli, "before", 0, "real", self->family);
	EXPECT_NUM(&cli, "connect", 0, "ret", -1);
	EXPECT_KEY(&cli, "connect", 0, "errno", "EINPROGRESS");
	EXPECT_NUM(&cli, "so_error", 0, "err", 0);
	EXPECT_NUM(&cli, "flags", 0, "nonblock", 1);
	EXPECT_NUM(&cli, "flags", 0, "cloexec", 1);
	expect_sock(_metadata, &cli, "connected", 0, AF_INET, AF_INET,
		    "127.0.0.1", 0, "127.0.0.1", SPORT);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/* Runs the sockopt client against a node-2 server. */
static void sockopt_run(struct __test_metadata *_metadata, CLUSTER *self,
			struct app *srv, struct app *cli)
{
	START_SERVER(srv, NODE2, APP_PRELOAD, "");
	RUN_CLIENT(cli, NODE1, APP_PRELOAD, "-m sockopt -c " ADDR2 " -p " SPORT_STR);
	app_finish(srv);
	EXPECT_NUM(cli, "connected", 0, "real", self->family);
	expect_exchanged(_metadata, cli, 0);
	expect_served(_metadata, srv, 0);
}

/*
 * TCP_NODELAY, TCP_MAXSEG (before connect), TCP_KEEPIDLE, TCP_KEEPINTVL,
 * TCP_KEEPCNT, TCP_USER_TIMEOUT and TCP_CORK read back what was set.
 */
TEST_F(cluster, tcp_options_round_trip)
{
	static const struct { const char *label; int v; } opts[] = {
		{ "nodelay1", 1 }, { "nodelay0", 0 }, { "keepidle", 77 },
		{ "keepintvl", 9 }, { "keepcnt", 4 },
		{ "user_timeout", 12345 }, { "cork1", 1 }, { "cork0", 0 },
	};
	struct app srv, cli;
	unsigned int i;

	sockopt_run(_metadata, self, &srv, &cli);
	EXPECT_KEY(&cli, "opt maxseg-before", 0, "ret", "0");
	EXPECT_NUM(&cli, "opt maxseg", 0, "get", 1000);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char word[64];

		snprintf(word, sizeof(word), "opt %s", opts[i].label);
		EXPECT_KEY(&cli, word, 0, "ret", "0");
		EXPECT_NUM(&cli, word, 0, "set", opts[i].v);
		EXPECT_NUM(&cli, word, 0, "get", opts[i].v);
	}
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * TCP_INFO on the AF_MIGTCP connection: ESTABLISHED, the MSS it uses
 * (1000, as TCP_MAXSEG asked), a round-trip time measured (above 0, below
 * a second on a veth), the bytes both ways; TCP_CONGESTION readable and
 * settable.
 */
TEST_F(cluster, tcp_info_and_congestion)
{
	struct app srv, cli;
	long rtt;

	sockopt_run(_metadata, self, &srv, &cli);
	EXPECT_KEY(&cli, "info", 0, "ret", "0");
	EXPECT_NUM(&cli, "info", 0, "len", sizeof(struct tcp_info));
	EXPECT_NUM(&cli, "info", 0, "state", 1);	/* TCP_ESTABLISHED */
	EXPECT_NUM(&cli, "info", 0, "snd_mss", 1000);
	rtt = app_num(&cli, "info", 0, "rtt");
	EXPECT_LT(0, rtt);
	EXPECT_GT(1000000, rtt);
	EXPECT_LT(0, app_num(&cli, "info", 0, "rto"));
	EXPECT_LT(0, app_num(&cli, "info", 0, "snd_cwnd"));
	EXPECT_NUM(&cli, "info", 0, "bytes_acked", 4 + XFER);
	EXPECT_NUM(&cli, "info", 0, "bytes_received", XFER);
	EXPECT_KEY(&cli, "opt congestion", 0, "ret", "0");
	EXPECT_KEY(&cli, "opt congestion", 0, "name", "cubic");
	EXPECT_KEY(&cli, "opt congestion-reno", 0, "ret", "0");
	EXPECT_KEY(&cli, "opt congestion-reno", 0, "name", "reno");
	expect_clean_end(_metadata, &srv, &cli);
}

/* A TCP option AF_MIGTCP does not have: ENOPROTOOPT, not a silent 0. */
TEST_F(cluster, unsupported_tcp_option)
{
	struct app srv, cli;

	sockopt_run(_metadata, self, &srv, &cli);
	EXPECT_NUM(&cli, "opt fastopen", 0, "ret", -1);
	EXPECT_KEY(&cli, "opt fastopen", 0, "errno", "ENOPROTOOPT");
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * SO_RCVBUF, TCP_NODELAY and IP_TOS set on the AF_MIGTCP socket before a
 * connect to loopback, which makes it kernel TCP: all three still set,
 * with the values kernel TCP gives them (SO_RCVBUF doubled).
 */
TEST_F(cluster, options_survive_fallback)
{
	struct app srv, cli;

	START_SERVER(&srv, NODE1, APP_PLAIN, "-b 127.0.0.1");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-m fallback -c 127.0.0.1 -p " SPORT_STR);
	app_finish(&srv);
	EXPECT_NUM(&cli, "before", 0, "real", self->family);
	EXPECT_NUM(&cli, "before", 0, "fd", app_num(&cli, "connected", 0, "fd"));
	expect_sock(_metadata, &cli, "connected", 0, AF_INET, AF_INET,
		    "127.0.0.1", 0, "127.0.0.1", SPORT);
	EXPECT_NUM(&cli, "after", 0, "rcvbuf", 2 * 65536);
	EXPECT_NUM(&cli, "after", 0, "nodelay", 1);
	EXPECT_NUM(&cli, "after", 0, "tos", 0x20);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/* The line "migtcp-run[PID]: fd FD: @what" is in @a's output, once. */
static void expect_debug_line(struct __test_metadata *_metadata,
			      const struct app *a, long fd, const char *what)
{
	char want[256];
	const char *p;
	int n = 0;

	snprintf(want, sizeof(want), "migtcp-run[%d]: fd %ld: %s\n", a->pid,
		 fd, what);
	for (p = strstr(a->buf, want); p; p = strstr(p + 1, want))
		if (p == a->buf || p[-1] == '\n')
			n++;
	EXPECT_EQ(1, n) TH_LOG("%s: line \"%.*s\" %d times", a->name,
			       (int)strlen(want) - 1, want, n);
}

/* Whether line @l (ending at @nl, or at the NUL) is a bind or connect. */
static bool is_decision(const char *l, const char *nl)
{
	const char *c = strstr(l, ": connect ");

	if (!c || (nl && c > nl))
		c = strstr(l, ": bind ");
	return c && (!nl || c < nl);
}

/*
 * Lines of @a from the library (prefix "migtcp-run["); with @decisions,
 * only its bind and connect decisions.
 */
static int debug_lines(const struct app *a, bool decisions)
{
	const char *l = a->buf, *nl;
	int n = 0;

	while (l && *l) {
		nl = strchr(l, '\n');
		if (!strncmp(l, "migtcp-run[", strlen("migtcp-run[")) &&
		    (!decisions || is_decision(l, nl)))
			n++;
		l = nl ? nl + 1 : NULL;
	}
	return n;
}

/*
 * MIGTCP_RUN_DEBUG=1: one line per decision, for a bind (wildcard: this
 * node), a connect to a node, to loopback and to an address outside the
 * cluster; nothing without it.
 */
TEST_F(cluster, debug_prints_decisions)
{
	struct app srv, cli, lo_srv, lo_cli, out_srv, out_cli;
	char what[128];

	START_SERVER(&srv, NODE2, APP_PRELOAD | APP_DEBUG, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD | APP_DEBUG, "-c " ADDR2 " -p " SPORT_STR);
	app_finish(&srv);
	expect_debug_line(_metadata, &srv, app_num(&srv, "listening", 0, "fd"),
			  "bind 0.0.0.0:" SPORT_STR " -> AF_MIGTCP node 0 (this node)");
	EXPECT_EQ(1, debug_lines(&srv, true));
	expect_debug_line(_metadata, &cli, app_num(&cli, "connected", 0, "fd"),
			  "connect " ADDR2 ":" SPORT_STR " -> AF_MIGTCP node 2");
	EXPECT_EQ(1, debug_lines(&cli, true));
	expect_clean_end(_metadata, &srv, &cli);

	START_SERVER(&lo_srv, NODE1, APP_PLAIN, "-b 127.0.0.1");
	RUN_CLIENT(&lo_cli, NODE1, APP_PRELOAD | APP_DEBUG, "-c 127.0.0.1 -p " SPORT_STR);
	app_finish(&lo_srv);
	expect_debug_line(_metadata, &lo_cli, app_num(&lo_cli, "connected", 0, "fd"),
			  "connect 127.0.0.1:" SPORT_STR " -> TCP (loopback)");
	EXPECT_EQ(1, debug_lines(&lo_cli, true));
	EXPECT_EQ(0, debug_lines(&lo_srv, false));
	expect_clean_end(_metadata, &lo_srv, &lo_cli);

	ON_NODE(NODE2);
	ASSERT_EQ(0, sh("ip addr add " OUTSIDE "/24 dev mig2"));
	START_SERVER(&out_srv, NODE2, APP_PLAIN, "-b " OUTSIDE);
	RUN_CLIENT(&out_cli, NODE1, APP_PRELOAD | APP_DEBUG, "-c " OUTSIDE " -p " SPORT_STR);
	app_finish(&out_srv);
	snprintf(what, sizeof(what), "connect " OUTSIDE ":" SPORT_STR
		 " -> TCP (not a cluster node)");
	expect_debug_line(_metadata, &out_cli,
			  app_num(&out_cli, "connected", 0, "fd"), what);
	EXPECT_EQ(1, debug_lines(&out_cli, true));
	expect_clean_end(_metadata, &out_srv, &out_cli);
}

/* Without MIGTCP_RUN_DEBUG, the library prints nothing. */
TEST_F(cluster, quiet_without_debug)
{
	struct app srv, cli;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-c " ADDR2 " -p " SPORT_STR);
	app_finish(&srv);
	EXPECT_EQ(0, debug_lines(&srv, false));
	EXPECT_EQ(0, debug_lines(&cli, false));
	expect_exchanged(_metadata, &cli, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * IPv6 underlay addresses.  Three more two-node clusters, each on a veth
 * pair between two network namespaces as the IPv4 one, with IPv6 on and
 * the addresses added without duplicate address detection (nodad), so
 * usable at once:
 *  - v6only: node 1 at 2001:db8::1, node 2 at 2001:db8::2, nothing else;
 *  - dual: each node also at its IPv4 address (198.51.100.1 and .2);
 *  - mixed: node 1 IPv6 only, node 2 both.
 */
#define ADDR6_1		"2001:db8::1"
#define ADDR6_2		"2001:db8::2"
/* An IPv6 address of node 2 that no node's peer table has. */
#define OUTSIDE6	"2001:db8::50"

struct nodes {
	int family;
	int ns[3];	/* ns[NODE1], ns[NODE2] */
};

/* A node's underlay addresses: IPv4 and IPv6, NULL for none. */
struct node_conf {
	const char *v4, *v6;
};

/* "addr A [addr B]" for migtcpctl, the node's addresses. */
static const char *ctl_addrs(const struct node_conf *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", c->v4 ? "addr " : "", c->v4 ?: "",
		 c->v6 ? (c->v4 ? " addr " : "addr ") : "", c->v6 ?: "");
	return buf;
}

/*
 * Builds the cluster: nodes 1 and 2 with the addresses of @conf[NODE1]
 * and @conf[NODE2] on the two ends of a veth pair (mig1, mig2), each the
 * other's peer; the caller is on node 1 afterwards.
 */
static void nodes_setup(struct __test_metadata *_metadata, struct nodes *self,
			const struct node_conf conf[3])
{
	char addrs[128];
	unsigned int n, other;

	self->ns[NODE1] = -1;
	self->ns[NODE2] = -1;
	self->family = migtcp_family();
	ASSERT_LT(0, self->family) TH_LOG("is migtcp loaded?");
	for (n = NODE1; n <= NODE2; n++) {
		ASSERT_EQ(0, migtcp_test_new_netns())
			TH_LOG("node %u netns: %s", n, strerror(errno));
		self->ns[n] = open_own_netns();
		ASSERT_LE(0, self->ns[n]);
		/* IPv6 on, also on the devices made from now on. */
		ASSERT_EQ(0, sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0"));
	}
	/* In node 2: create the pair, push one end into node 1. */
	ASSERT_EQ(0, sh("ip link add mig2 type veth peer name mig1 netns /proc/%d/fd/%d",
			getpid(), self->ns[NODE1]));
	for (n = NODE2; n >= NODE1; n--) {
		other = n == NODE1 ? NODE2 : NODE1;
		ON_NODE(n);
		if (conf[n].v4)
			ASSERT_EQ(0, sh("ip addr add %s/24 dev mig%u", conf[n].v4, n));
		if (conf[n].v6)
			ASSERT_EQ(0, sh("ip -6 addr add %s/64 dev mig%u nodad",
					conf[n].v6, n));
		ASSERT_EQ(0, sh("ip link set mig%u up", n));
		/* One address at a time: each "addr" sets its family's. */
		ASSERT_EQ(0, migtcp_test_ctl("node set id %u addr %s", n,
					     conf[n].v4 ?: conf[n].v6))
			TH_LOG("migtcpctl node set id %u addr %s failed (MIGTCP_CTL=%s)",
			       n, conf[n].v4 ?: conf[n].v6, getenv("MIGTCP_CTL"));
		if (conf[n].v4 && conf[n].v6)
			ASSERT_EQ(0, migtcp_test_ctl("node set addr %s", conf[n].v6))
				TH_LOG("migtcpctl node set addr %s failed", conf[n].v6);
		ASSERT_EQ(0, migtcp_test_ctl("peer add %u %s", other,
					     ctl_addrs(&conf[other], addrs,
						       sizeof(addrs))))
			TH_LOG("migtcpctl peer add %u %s failed", other, addrs);
	}
}

static void nodes_teardown(struct nodes *self)
{
	if (self->ns[NODE1] >= 0)
		close(self->ns[NODE1]);
	if (self->ns[NODE2] >= 0)
		close(self->ns[NODE2]);
}

/*
 * A fixture NAME whose two nodes have the addresses given: node 1 IPv4
 * @a1 (NULL: none) and IPv6 @b1, node 2 likewise @a2 and @b2.
 */
#define NODES_FIXTURE(name, a1, b1, a2, b2)				\
FIXTURE(name) {								\
	struct nodes n;							\
};									\
FIXTURE_SETUP(name)							\
{									\
	static const struct node_conf conf[3] = {			\
		[NODE1] = { a1, b1 }, [NODE2] = { a2, b2 },		\
	};								\
									\
	nodes_setup(_metadata, &self->n, conf);				\
}									\
FIXTURE_TEARDOWN(name)							\
{									\
	nodes_teardown(&self->n);					\
}

NODES_FIXTURE(v6only, NULL, ADDR6_1, NULL, ADDR6_2)
NODES_FIXTURE(dual, ADDR1, ADDR6_1, ADDR2, ADDR6_2)
NODES_FIXTURE(mixed, NULL, ADDR6_1, ADDR2, ADDR6_2)

/* "ADDR:PORT" or "[ADDR]:PORT", as the library's debug lines name it. */
static const char *addr_port(const char *addr, bool v6, char *buf, size_t len)
{
	snprintf(buf, len, v6 ? "[%s]:%d" : "%s:%d", addr, SPORT);
	return buf;
}

/*
 * A pair over one of the clusters above: a server on node 2 (AF_INET6
 * if @v6srv, bound to @bind or the wildcard), a client on node 1
 * (AF_INET6 if @v6cli) that dials @dial; both under migtcp-run, the
 * client with MIGTCP_RUN_DEBUG.  What each end must see of itself
 * (@cli_local, @srv_local) and of the other: the client its @dial, the
 * server @srv_peer.  Both AF_MIGTCP, every byte both ways.
 */
struct pair6 {
	bool v6srv, v6cli;
	const char *bind, *dial;
	const char *cli_local, *srv_local, *srv_peer;
};

static void pair6_test(struct __test_metadata *_metadata, struct nodes *self,
		       const struct pair6 *p)
{
	const int sfam = p->v6srv ? AF_INET6 : AF_INET;
	const int cfam = p->v6cli ? AF_INET6 : AF_INET;
	char what[128], ap[80];
	struct app srv, cli;
	long cport;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "%s%s%s", p->v6srv ? "-6 " : "",
		     p->bind ? "-b " : "", p->bind ?: "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD | APP_DEBUG, "%s-c %s -p " SPORT_STR,
		   p->v6cli ? "-6 " : "", p->dial);
	app_finish(&srv);

	expect_sock(_metadata, &srv, "listening", 0, self->family, sfam,
		    p->bind ?: (p->v6srv ? "::" : "0.0.0.0"), SPORT, NULL, 0);
	cport = expect_sock(_metadata, &cli, "connected", 0, self->family,
			    cfam, p->cli_local, 0, p->dial, SPORT);
	EXPECT_KEY(&srv, "accepted", 0, "from", p->srv_peer);
	EXPECT_NUM(&srv, "accepted", 0, "fport", cport);
	EXPECT_NUM(&srv, "accepted", 0, "ffam", sfam);
	EXPECT_NUM(&srv, "accepted", 0, "flen", sfam == AF_INET ? 16 : 28);
	expect_sock(_metadata, &srv, "conn", 0, self->family, sfam,
		    p->srv_local, SPORT, p->srv_peer, cport);
	snprintf(what, sizeof(what), "connect %s -> AF_MIGTCP node 2",
		 addr_port(p->dial, p->v6cli, ap, sizeof(ap)));
	expect_debug_line(_metadata, &cli, app_num(&cli, "connected", 0, "fd"),
			  what);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

/*
 * An unmodified AF_INET6 client dials [2001:db8::2]:PORT, an AF_INET6
 * wildcard listener of node 2 takes it: AF_MIGTCP at both ends, each
 * sees the nodes' IPv6 addresses, every byte both ways.
 */
static const struct pair6 inet6_pair = {
	.v6srv = true, .v6cli = true, .dial = ADDR6_2,
	.cli_local = ADDR6_1, .srv_local = ADDR6_2, .srv_peer = ADDR6_1,
};

TEST_F(v6only, inet6_pair_is_migtcp)
{
	pair6_test(_metadata, &self->n, &inet6_pair);
}

/* The same where the nodes have IPv4 addresses too. */
TEST_F(dual, inet6_pair_is_migtcp)
{
	pair6_test(_metadata, &self->n, &inet6_pair);
}

/* ... and from an IPv6-only node to a node of both. */
TEST_F(mixed, inet6_pair_is_migtcp)
{
	pair6_test(_metadata, &self->n, &inet6_pair);
}

/* A listener bound to its node's own IPv6 address is AF_MIGTCP. */
TEST_F(v6only, listener_on_node6_address)
{
	const struct pair6 p = {
		.v6srv = true, .v6cli = true, .bind = ADDR6_2, .dial = ADDR6_2,
		.cli_local = ADDR6_1, .srv_local = ADDR6_2, .srv_peer = ADDR6_1,
	};

	pair6_test(_metadata, &self->n, &p);
}

/*
 * A client that dials its own node's IPv6 address reaches a listener of
 * its node over AF_MIGTCP.
 */
static void connect_to_own_node6_address_run(struct __test_metadata *_metadata,
					     struct nodes *self)
{
	struct app srv, cli;
	long cport;

	START_SERVER(&srv, NODE1, APP_PRELOAD, "-6");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-6 -c " ADDR6_1 " -p " SPORT_STR);
	app_finish(&srv);
	cport = expect_sock(_metadata, &cli, "connected", 0, self->family,
			    AF_INET6, ADDR6_1, 0, ADDR6_1, SPORT);
	expect_sock(_metadata, &srv, "conn", 0, self->family, AF_INET6, ADDR6_1,
		    SPORT, ADDR6_1, cport);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

TEST_F(v6only, connect_to_own_node6_address)
{
	connect_to_own_node6_address_run(_metadata, &self->n);
}

/*
 * IPv6 loopback as IPv4's: a server bound to ::1 and its client stay
 * kernel TCP; a client of [::1] reaches a wildcard listener run under
 * migtcp-run over AF_MIGTCP.
 */
static void loopback6_run(struct __test_metadata *_metadata,
			  struct nodes *self)
{
	struct app srv, cli, msrv, mcli;
	long cport;

	START_SERVER(&srv, NODE1, APP_PRELOAD, "-6 -b ::1");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-6 -c ::1 -p " SPORT_STR);
	app_finish(&srv);
	expect_sock(_metadata, &srv, "listening", 0, AF_INET6, AF_INET6,
		    "::1", SPORT, NULL, 0);
	cport = expect_sock(_metadata, &cli, "connected", 0, AF_INET6,
			    AF_INET6, "::1", 0, "::1", SPORT);
	expect_sock(_metadata, &srv, "conn", 0, AF_INET6, AF_INET6, "::1",
		    SPORT, "::1", cport);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);

	START_SERVER(&msrv, NODE1, APP_PRELOAD, "-6");
	RUN_CLIENT(&mcli, NODE1, APP_PRELOAD, "-6 -c ::1 -p " SPORT_STR);
	app_finish(&msrv);
	/* Its peer is this node: its underlay address, as for 127.0.0.1. */
	cport = expect_sock(_metadata, &mcli, "connected", 0, self->family,
			    AF_INET6, ADDR6_1, 0, ADDR6_1, SPORT);
	expect_sock(_metadata, &msrv, "conn", 0, self->family, AF_INET6, ADDR6_1,
		    SPORT, ADDR6_1, cport);
	expect_exchanged(_metadata, &mcli, 0);
	expect_served(_metadata, &msrv, 0);
	expect_clean_end(_metadata, &msrv, &mcli);
}

TEST_F(v6only, loopback6)
{
	loopback6_run(_metadata, &self->n);
}

/*
 * An IPv6 address that is no cluster node's (a second address of node
 * 2, served by a plain TCP program) stays kernel TCP.
 */
static void outside_cluster6_stays_tcp_run(struct __test_metadata *_metadata,
					   struct nodes *self)
{
	struct app srv, cli;
	long cport;

	ASSERT_EQ(0, setns(self->ns[NODE2], CLONE_NEWNET));
	ASSERT_EQ(0, sh("ip -6 addr add " OUTSIDE6 "/64 dev mig2 nodad"));
	START_SERVER(&srv, NODE2, APP_PLAIN, "-6 -b " OUTSIDE6);
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD | APP_DEBUG,
		   "-6 -c " OUTSIDE6 " -p " SPORT_STR);
	app_finish(&srv);
	cport = expect_sock(_metadata, &cli, "connected", 0, AF_INET6,
			    AF_INET6, ADDR6_1, 0, OUTSIDE6, SPORT);
	expect_sock(_metadata, &srv, "conn", 0, AF_INET6, AF_INET6, OUTSIDE6,
		    SPORT, ADDR6_1, cport);
	expect_debug_line(_metadata, &cli, app_num(&cli, "connected", 0, "fd"),
			  "connect [" OUTSIDE6 "]:" SPORT_STR " -> TCP (not a cluster node)");
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

TEST_F(v6only, outside_cluster6_stays_tcp)
{
	outside_cluster6_stays_tcp_run(_metadata, &self->n);
}

/*
 * On a node without an IPv4 address, AF_INET sockets are kernel TCP, as
 * on a host without IPv4: an AF_INET wildcard listener is TCP's, and an
 * AF_INET client of 127.0.0.1 reaches it over loopback.
 */
static void inet_sockets_stay_tcp_run(struct __test_metadata *_metadata,
				      struct nodes *self)
{
	struct app srv, cli;
	long cport;

	START_SERVER(&srv, NODE1, APP_PRELOAD | APP_DEBUG, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-c 127.0.0.1 -p " SPORT_STR);
	app_finish(&srv);
	expect_sock(_metadata, &srv, "listening", 0, AF_INET, AF_INET,
		    "0.0.0.0", SPORT, NULL, 0);
	expect_debug_line(_metadata, &srv, app_num(&srv, "listening", 0, "fd"),
			  "bind 0.0.0.0:" SPORT_STR " -> TCP (this node has no IPv4 address)");
	cport = expect_sock(_metadata, &cli, "connected", 0, AF_INET, AF_INET,
			    "127.0.0.1", 0, "127.0.0.1", SPORT);
	expect_sock(_metadata, &srv, "conn", 0, AF_INET, AF_INET, "127.0.0.1",
		    SPORT, "127.0.0.1", cport);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

TEST_F(v6only, inet_sockets_stay_tcp)
{
	inet_sockets_stay_tcp_run(_metadata, &self->n);
}

/*
 * A program exec'd with an AF_INET6 connection (no longer made by the
 * library in this process) sees AF_INET6 names on a node without IPv4,
 * where no AF_INET socket is AF_MIGTCP, and uses it.
 */
static void exec_inherits_inet6_socket_run(struct __test_metadata *_metadata,
					   struct nodes *self)
{
	struct app srv, cli;
	long cport;

	START_SERVER(&srv, NODE2, APP_PRELOAD, "-6");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-6 -m exec -c " ADDR6_2 " -p " SPORT_STR);
	app_finish(&srv);
	cport = expect_sock(_metadata, &cli, "connected", 0, self->family,
			    AF_INET6, ADDR6_1, 0, ADDR6_2, SPORT);
	expect_sock(_metadata, &cli, "inherited", 0, self->family, AF_INET6,
		    ADDR6_1, cport, ADDR6_2, SPORT);
	expect_exchanged(_metadata, &cli, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli);
}

TEST_F(v6only, exec_inherits_inet6_socket)
{
	exec_inherits_inet6_socket_run(_metadata, &self->n);
}

/* AF_INET programs of a dual-stack cluster: IPv4 addresses, as ever. */
TEST_F(dual, inet_pair_is_migtcp)
{
	const struct pair6 p = {
		.dial = ADDR2, .cli_local = ADDR1, .srv_local = ADDR2,
		.srv_peer = ADDR1,
	};

	pair6_test(_metadata, &self->n, &p);
}

/*
 * An AF_INET client dials node 2's IPv4 address; an AF_INET6 listener
 * shows it by its node's IPv6 address, as it shows every node that has
 * one.
 */
TEST_F(dual, inet6_listener_shows_ipv6)
{
	const struct pair6 p = {
		.v6srv = true, .dial = ADDR2, .cli_local = ADDR1,
		.srv_local = ADDR6_2, .srv_peer = ADDR6_1,
	};

	pair6_test(_metadata, &self->n, &p);
}

/*
 * An AF_INET6 client that dials an IPv4-mapped address (an IPv4
 * connection, to Linux) sees both ends v4-mapped; the server, a
 * wildcard listener, sees the client's IPv6 address.
 */
TEST_F(dual, mapped_client_shows_ipv4)
{
	const struct pair6 p = {
		.v6srv = true, .v6cli = true, .dial = MAPPED2,
		.cli_local = MAPPED1, .srv_local = ADDR6_2, .srv_peer = ADDR6_1,
	};

	pair6_test(_metadata, &self->n, &p);
}

/*
 * An AF_INET listener of node 2 (which has both addresses) never hands
 * over a client of the IPv6-only node 1, which AF_INET cannot name: the
 * connection is reset (the client sees ECONNRESET) and the listener goes
 * on to its next client, one of node 2 itself over IPv4.  Node 1's
 * AF_INET sockets are kernel TCP: a connect to node 2's IPv4 address
 * finds no route.
 */
static void inet_listener_resets_ipv6_only_node_run(struct __test_metadata *_metadata,
						    struct nodes *self)
{
	struct app srv, cli, cli2, cli4;
	char what[128];

	START_SERVER(&srv, NODE2, APP_PRELOAD | APP_DEBUG, "");
	RUN_CLIENT(&cli, NODE1, APP_PRELOAD, "-6 -m wait -c " ADDR6_2 " -p " SPORT_STR);
	RUN_CLIENT(&cli2, NODE2, APP_PRELOAD, "-c " ADDR2 " -p " SPORT_STR);
	app_finish(&srv);
	/* The reset may come before connect() returns: either is "wait". */
	EXPECT_NUM(&cli, "socket", 0, "real", self->family);
	EXPECT_NUM(&cli, "wait", 0, "ret", -1);
	EXPECT_KEY(&cli, "wait", 0, "errno", "ECONNRESET");
	expect_clean_end(_metadata, NULL, &cli);
	EXPECT_EQ(1, app_count(&srv, "accepted"));
	expect_sock(_metadata, &srv, "conn", 0, self->family, AF_INET, ADDR2,
		    SPORT, ADDR2, app_num(&cli2, "connected", 0, "lport"));
	snprintf(what, sizeof(what), "connection from node %u reset: it has no IPv4 address for an AF_INET listener",
		 NODE1);
	expect_debug_line(_metadata, &srv, app_num(&srv, "listening", 0, "fd"),
			  what);
	expect_exchanged(_metadata, &cli2, 0);
	expect_served(_metadata, &srv, 0);
	expect_clean_end(_metadata, &srv, &cli2);

	RUN_CLIENT(&cli4, NODE1, APP_PRELOAD | APP_DEBUG,
		   "-m refused -c " ADDR2 " -p " SPORT_STR);
	EXPECT_NUM(&cli4, "connect", 0, "ret", -1);
	EXPECT_KEY(&cli4, "connect", 0, "errno", "ENETUNREACH");
	EXPECT_NUM(&cli4, "after", 0, "real", AF_INET);
	expect_debug_line(_metadata, &cli4, app_num(&cli4, "after", 0, "fd"),
			  "connect " ADDR2 ":" SPORT_STR " -> TCP (this node has no IPv4 address)");
	expect_clean_end(_metadata, NULL, &cli4);
}

TEST_F(mixed, inet_listener_resets_ipv6_only_node)
{
	inet_listener_resets_ipv6_only_node_run(_metadata, &self->n);
}

TEST_HARNESS_MAIN
