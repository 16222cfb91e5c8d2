// SPDX-License-Identifier: GPL-2.0
/*
 * libmigtcp-preload: runs an unmodified TCP program over AF_MIGTCP, as
 * smc_run does for AF_SMC.  socket() for an IPv4 or IPv6 stream socket
 * creates an AF_MIGTCP socket; the transport is decided when the
 * program binds, connects or listens: a cluster node (or a wildcard
 * listener) keeps AF_MIGTCP, anything else -- loopback, an address
 * outside the cluster -- gets kernel TCP, swapped in under the same
 * descriptor number with its flags and options.  Addresses are
 * translated both ways through the cluster map: an underlay address of
 * a node, IPv4 or IPv6, is that node's id.  An AF_INET socket can name
 * only nodes that have an IPv4 address, as kernel TCP's reaches only
 * IPv4 hosts; an AF_INET6 socket names every node, by its IPv6 address
 * or its IPv4 one v4-mapped.
 *
 * Only calls that carry addresses, options or descriptors are wrapped;
 * read, write, send, recv, poll, epoll, fcntl, sendfile and splice go
 * straight to the kernel.  MIGTCP_RUN_DEBUG=1 prints every decision.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/migtcp.h>

#include "migtcp.h"
#include "preload.h"

#define EXPORT __attribute__((visibility("default")))

struct real_calls real;
int migtcp_af;
bool debug_on;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

void debug(const char *fmt, ...)
{
	int saved = errno;
	char line[512];
	va_list ap;
	int n;

	if (!debug_on)
		return;
	n = snprintf(line, sizeof(line), "migtcp-run[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	/* One write per line, so lines of threads and children don't mix. */
	if (write(STDERR_FILENO, line, strlen(line)) < 0)
		(void)0;
	errno = saved;
}

#define RESOLVE(name) (real.name = dlsym(RTLD_NEXT, #name))

static void init_once_fn(void)
{
	const char *env = getenv("MIGTCP_RUN_DEBUG");
	int af;

	debug_on = env && *env && strcmp(env, "0") != 0;
	RESOLVE(socket);
	RESOLVE(bind);
	RESOLVE(connect);
	RESOLVE(listen);
	RESOLVE(accept);
	RESOLVE(accept4);
	RESOLVE(getsockname);
	RESOLVE(getpeername);
	RESOLVE(setsockopt);
	RESOLVE(getsockopt);
	RESOLVE(sendto);
	RESOLVE(sendmsg);
	RESOLVE(recvfrom);
	RESOLVE(recvmsg);
	RESOLVE(close);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	fd_table_atfork();
	cluster_atfork();

	af = migtcp_family();
	if (af > 0) {
		migtcp_af = af;
		debug("AF_MIGTCP is family %d", af);
	} else {
		debug("the migtcp module is not loaded: everything stays TCP");
	}
}

void preload_init(void)
{
	pthread_once(&init_once, init_once_fn);
}

__attribute__((constructor)) static void preload_ctor(void)
{
	preload_init();
}

/*
 * The module's family number, read again.  Each node's module may use
 * its own (family=), and a process CRIU restored on another node keeps
 * in its memory the number of the node it left, while its migrated
 * sockets, and those it makes from now on, have this node's.  A failed
 * reading (no module, or no /sys in a chroot) keeps the number known: a
 * socket of an unloaded family fails, and the program gets TCP.
 */
static int migtcp_af_reload(void)
{
	int af = migtcp_family();

	if (af > 0 && af != __atomic_load_n(&migtcp_af, __ATOMIC_RELAXED)) {
		debug("AF_MIGTCP is family %d now", af);
		__atomic_store_n(&migtcp_af, af, __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&migtcp_af, __ATOMIC_RELAXED);
}

/*
 * Whether FAMILY, of a socket or of an address the kernel wrote, is
 * AF_MIGTCP: the number known, or the number read again when FAMILY is
 * none of those a TCP program uses on its own (after a restore).
 */
static bool is_migtcp_family(int family)
{
	switch (family) {
	case AF_UNSPEC:
	case AF_UNIX:
	case AF_INET:
	case AF_INET6:
	case AF_NETLINK:
	case AF_PACKET:
		return false;
	}
	return family == __atomic_load_n(&migtcp_af, __ATOMIC_RELAXED) ||
	       family == migtcp_af_reload();
}

static bool is_loopback(const struct inet_addr *ia)
{
	if (ia->v6)
		return IN6_IS_ADDR_LOOPBACK(&ia->ip6);
	return (ntohl(ia->ip) >> 24) == 127;
}

static bool is_wildcard(const struct inet_addr *ia)
{
	return !ia->v6 && ia->ip == htonl(INADDR_ANY);
}

/*
 * The family of an AF_MIGTCP socket the library did not make: AF_INET,
 * but on a node that has an IPv6 address and no IPv4 one, where no
 * AF_INET socket is AF_MIGTCP, AF_INET6.
 */
static int unknown_family(void)
{
	return cluster_v6_only(cluster_self()) ? AF_INET6 : AF_INET;
}

/*
 * What FD is, checked with the kernel: an entry can be stale when the
 * program closed the descriptor in a way the library does not see
 * (fclose, close_range), and a socket inherited across exec or copied
 * with fcntl(F_DUPFD) has none.  Such an AF_MIGTCP socket is taken as
 * a decided one of unknown_family().
 */
static enum fd_state classify(int fd, struct fd_info *info)
{
	enum fd_state state = fd_get(fd, info);
	socklen_t len = sizeof(int);
	int domain;

	if (!migtcp_af || state == FD_TCP)
		return state;
	if (real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    !is_migtcp_family(domain)) {
		if (state != FD_NONE)
			fd_forget(fd);
		info->state = FD_NONE;
		return FD_NONE;
	}
	if (state == FD_NONE) {
		info->family = unknown_family();
		fd_set_state(fd, FD_MIGTCP, info->family);
		info->state = FD_MIGTCP;
		state = FD_MIGTCP;
	}
	return state;
}

/*
 * Where an address of the program leads: NULL and *MIG filled for
 * AF_MIGTCP, else the reason for kernel TCP.  A wildcard is this node
 * for bind and (as Linux takes it) the local host for connect.  A
 * connect to the local host (loopback or the wildcard) stays local over
 * TCP, unless an AF_MIGTCP listener of this node has the port: a server
 * run under migtcp-run listens only there, and its local clients must
 * reach it too.  An AF_INET socket of a node that has an IPv6 address
 * and no IPv4 one binds and connects over TCP, as on a host without
 * IPv4: it could not show its own address.
 */
static const char *decide(const struct fd_info *info,
			  const struct sockaddr *addr, socklen_t len,
			  bool for_bind, struct sockaddr_mig *mig)
{
	struct inet_addr ia;
	uint32_t node = 0;

	if (!addr || len < sizeof(sa_family_t) ||
	    addr->sa_family != info->family)
		return "not the socket's address family";
	if (!inet_parse(addr, len, &ia))
		return "not an IPv4 or IPv6 address";
	if (!for_bind && (is_loopback(&ia) || is_wildcard(&ia))) {
		if (!ia.port || !cluster_has_listener(ia.port))
			return is_loopback(&ia) ? "loopback" : "the local host";
		/* node 0: this node, also after the process migrated */
	} else if (is_loopback(&ia)) {
		return "loopback";
	} else {
		if (!is_wildcard(&ia)) {
			/* bind: this node's own address, or it fails */
			node = ia.v6 ? cluster_node_of6(&ia.ip6) :
				       cluster_node_of(ia.ip);
			if (!node)
				return "not a cluster node";
		}
		if (info->family == AF_INET && cluster_v6_only(cluster_self()))
			return "this node has no IPv4 address";
	}
	memset(mig, 0, sizeof(*mig));
	mig->smig_family = migtcp_af;
	mig->smig_port = ia.port;
	mig->smig_node = node;
	return NULL;
}

/* Whether ADDR is an IPv4-mapped IPv6 address (::ffff:0.0.0.0 too). */
static bool is_mapped(const struct sockaddr *addr, socklen_t len)
{
	struct inet_addr ia;

	return addr && len >= sizeof(sa_family_t) &&
	       inet_parse(addr, len, &ia) && ia.mapped;
}

/*
 * Replaces the AF_MIGTCP socket FD by a kernel TCP socket under the same
 * number: the same family as the program asked for, the same O_NONBLOCK
 * and FD_CLOEXEC, the options set so far and the bind() address.
 */
static int swap_to_tcp(int fd, const struct fd_info *info)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
	int s, err;

	if (fl < 0 || fdfl < 0)
		return -1;
	s = real.socket(info->family, SOCK_STREAM | SOCK_CLOEXEC,
			IPPROTO_TCP);
	if (s < 0)
		return -1;
	if ((fl & O_NONBLOCK) && fcntl(s, F_SETFL, fl & O_NONBLOCK) < 0)
		goto fail;
	fd_replay_opts(fd, s);
	if (info->state == FD_BOUND &&
	    real.bind(s, (const void *)&info->bound, info->bound_len) < 0)
		goto fail;
	if (real.dup3(s, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
		goto fail;
	real.close(s);
	fd_set_state(fd, FD_TCP, 0);
	return 0;
fail:
	err = errno;
	real.close(s);
	errno = err;
	return -1;
}

static void debug_decision(int fd, const char *what,
			   const struct sockaddr *addr, socklen_t len,
			   const char *reason, const struct sockaddr_mig *mig)
{
	char buf[INET6_ADDRSTRLEN + 16];

	if (!debug_on)
		return;
	if (addr && len >= sizeof(sa_family_t))
		addr_str(addr, len, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "(no address)");
	if (reason)
		debug("fd %d: %s %s -> TCP (%s)", fd, what, buf, reason);
	else if (mig->smig_node)
		debug("fd %d: %s %s -> AF_MIGTCP node %u", fd, what, buf,
		      mig->smig_node);
	else
		debug("fd %d: %s %s -> AF_MIGTCP node 0 (this node)", fd, what,
		      buf);
}

EXPORT int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	int fd;

	preload_init();
	/*
	 * The family number read each time: after a restore on another
	 * node the old one may be unused there, or another family's.
	 */
	if (migtcp_af && (domain == AF_INET || domain == AF_INET6) &&
	    base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP) &&
	    migtcp_af_reload() && cluster_self()) {
		fd = real.socket(migtcp_af, type, 0);
		if (fd >= 0) {
			fd_forget(fd);
			fd_set_state(fd, FD_PENDING, domain);
			debug("fd %d: socket(%s) -> AF_MIGTCP", fd,
			      domain == AF_INET ? "AF_INET" : "AF_INET6");
			return fd;
		}
		debug("socket(AF_MIGTCP): %m: kernel TCP instead");
	}
	fd = real.socket(domain, type, protocol);
	if (fd >= 0)
		fd_forget(fd);
	return fd;
}

/* Translates ADDR for a decided AF_MIGTCP socket, where it can be. */
static const struct sockaddr *mig_addr_of(const struct fd_info *info,
					  const struct sockaddr *addr,
					  socklen_t *len, bool for_bind,
					  struct sockaddr_mig *mig)
{
	if (decide(info, addr, *len, for_bind, mig))
		return addr;
	*len = sizeof(*mig);
	return (const void *)mig;
}

EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_mig mig;
	struct fd_info info;
	const char *reason;
	enum fd_state state;

	preload_init();
	state = classify(fd, &info);
	if (state == FD_MIGTCP || state == FD_BOUND) {
		addr = mig_addr_of(&info, addr, &len, true, &mig);
		return real.bind(fd, addr, len);
	}
	if (state != FD_PENDING)
		return real.bind(fd, addr, len);

	reason = decide(&info, addr, len, true, &mig);
	debug_decision(fd, "bind", addr, len, reason, &mig);
	if (reason) {
		if (swap_to_tcp(fd, &info) < 0)
			return -1;
		return real.bind(fd, addr, len);
	}
	if (real.bind(fd, (const void *)&mig, sizeof(mig)) < 0)
		return -1;
	fd_set_bound(fd, addr, len);
	fd_set_state(fd, FD_BOUND, 0);
	if (is_mapped(addr, len))
		fd_set_mapped(fd);
	return 0;
}

/* A connect that has started leaves the socket AF_MIGTCP for good. */
static bool connect_started(int ret)
{
	return ret == 0 || errno == EINPROGRESS || errno == EINTR ||
	       errno == EALREADY || errno == EISCONN;
}

EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_mig mig;
	struct fd_info info;
	const char *reason;
	enum fd_state state;
	int ret;

	preload_init();
	state = classify(fd, &info);
	if (state == FD_MIGTCP) {
		/* Again, as non-blocking programs do to learn the outcome. */
		addr = mig_addr_of(&info, addr, &len, false, &mig);
		return real.connect(fd, addr, len);
	}
	if (state != FD_PENDING && state != FD_BOUND)
		return real.connect(fd, addr, len);
	if (addr && len >= sizeof(sa_family_t) &&
	    addr->sa_family == AF_UNSPEC)
		return real.connect(fd, addr, len);

	reason = decide(&info, addr, len, false, &mig);
	debug_decision(fd, "connect", addr, len, reason, &mig);
	if (reason) {
		if (swap_to_tcp(fd, &info) < 0)
			return -1;
		return real.connect(fd, addr, len);
	}
	ret = real.connect(fd, (const void *)&mig, sizeof(mig));
	if (connect_started(ret)) {
		int err = errno;

		fd_set_state(fd, FD_MIGTCP, 0);
		if (is_mapped(addr, len))
			fd_set_mapped(fd);
		errno = err;
	}
	return ret;
}

EXPORT int listen(int fd, int backlog)
{
	struct fd_info info;
	enum fd_state state;

	preload_init();
	state = classify(fd, &info);
	/* An unbound AF_INET socket, as bind() would have decided it. */
	if (state == FD_PENDING && info.family == AF_INET &&
	    cluster_v6_only(cluster_self())) {
		debug("fd %d: listen -> TCP (this node has no IPv4 address)",
		      fd);
		if (swap_to_tcp(fd, &info) < 0)
			return -1;
		return real.listen(fd, backlog);
	}
	if (state == FD_PENDING || state == FD_BOUND) {
		int ret = real.listen(fd, backlog);

		if (ret == 0) {
			fd_set_state(fd, FD_MIGTCP, 0);
			debug("fd %d: listen -> AF_MIGTCP", fd);
		}
		return ret;
	}
	return real.listen(fd, backlog);
}

/*
 * The family the program sees for FD's addresses, and whether it shows
 * IPv4 addresses v4-mapped where it can (struct fd_info's mapped).
 */
static int program_family(int fd, bool *mapped)
{
	struct fd_info info;

	fd_get(fd, &info);
	*mapped = info.mapped;
	return info.family ?: unknown_family();
}

/*
 * Hands the address the kernel wrote to SS to the program: translated
 * if it is an AF_MIGTCP one, else copied, truncated to *LEN as the
 * kernel would.
 */
static void give_addr(int fd, const struct sockaddr_storage *ss,
		      socklen_t sslen, struct sockaddr *addr, socklen_t *len)
{
	bool mapped;
	int family;

	if (!addr || !len)
		return;
	if (migtcp_af && sslen >= sizeof(struct sockaddr_mig) &&
	    is_migtcp_family(ss->ss_family)) {
		family = program_family(fd, &mapped);
		mig_to_inet(ss, family, mapped, addr, len);
		return;
	}
	memcpy(addr, ss, *len < sslen ? *len : sslen);
	*len = sslen;
}

/* Closes FD with a reset (SO_LINGER of 0), as a refusal. */
static void close_reset(int fd)
{
	const struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (real.setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		debug("fd %d: SO_LINGER: %m", fd);
	real.close(fd);
}

/*
 * accept() and accept4().  The connection shows the listener's family
 * to the program.  An AF_INET listener of kernel TCP never gets a
 * client that came over IPv6: a connection from a node that has an
 * IPv6 address and no IPv4 one, which AF_INET cannot name, is reset
 * rather than handed over, and the next one is accepted.
 */
static int do_accept(int fd, struct sockaddr *addr, socklen_t *len,
		     int flags, bool four)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	bool mapped;
	int nfd, family, saved = errno;

	preload_init();
	if (addr && !len) {
		errno = EFAULT;
		return -1;
	}
	for (;;) {
		sslen = sizeof(ss);
		nfd = four ? real.accept4(fd, (void *)&ss, &sslen, flags) :
			     real.accept(fd, (void *)&ss, &sslen);
		if (nfd < 0)
			return nfd;
		fd_forget(nfd);
		if (!migtcp_af || !is_migtcp_family(ss.ss_family))
			break;
		family = program_family(fd, &mapped);
		if (family == AF_INET &&
		    sslen >= sizeof(struct sockaddr_mig) &&
		    cluster_v6_only(((struct sockaddr_mig *)&ss)->smig_node)) {
			debug("fd %d: connection from node %u reset: it has no IPv4 address for an AF_INET listener",
			      fd, ((struct sockaddr_mig *)&ss)->smig_node);
			close_reset(nfd);
			errno = saved;
			continue;
		}
		fd_set_state(nfd, FD_MIGTCP, family);
		if (mapped)
			fd_set_mapped(nfd);
		break;
	}
	give_addr(nfd, &ss, sslen, addr, len);
	return nfd;
}

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return do_accept(fd, addr, len, 0, false);
}

EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return do_accept(fd, addr, len, flags, true);
}

/*
 * Whether FD's local address is, to a TCP program, the wildcard: a
 * socket bound to it (or never bound) and not connected.  The module
 * names this node in either case, as its endpoints always have a node.
 */
static bool shows_wildcard(int fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	struct fd_info info;
	enum fd_state state = fd_get(fd, &info);
	struct inet_addr ia;

	if (state != FD_PENDING && state != FD_BOUND && state != FD_MIGTCP)
		return false;
	if (info.bound_len &&
	    !(inet_parse((const void *)&info.bound, info.bound_len, &ia) &&
	      is_wildcard(&ia)))
		return false;
	/* A listener, not a connection (accepted ones were never bound). */
	if (state == FD_MIGTCP &&
	    (real.getpeername(fd, (void *)&peer, &len) == 0 ||
	     errno != ENOTCONN))
		return false;
	return true;
}

static int get_name(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int ret, saved = errno;

	preload_init();
	if (!len) {
		errno = EFAULT;
		return -1;
	}
	ret = peer ? real.getpeername(fd, (void *)&ss, &sslen) :
		     real.getsockname(fd, (void *)&ss, &sslen);
	if (ret)
		return ret;
	if (!peer && migtcp_af && is_migtcp_family(ss.ss_family) &&
	    shows_wildcard(fd))
		((struct sockaddr_mig *)&ss)->smig_node = 0;
	give_addr(fd, &ss, sslen, addr, len);
	errno = saved;
	return 0;
}

EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return get_name(fd, addr, len, false);
}

EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return get_name(fd, addr, len, true);
}

EXPORT int setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len)
{
	struct fd_info info;
	enum fd_state state;

	preload_init();
	state = classify(fd, &info);
	if (state == FD_NONE || state == FD_TCP)
		return real.setsockopt(fd, level, name, val, len);
	if (!val && len) {
		errno = EFAULT;
		return -1;
	}
	return mig_setsockopt(fd, state, level, name, val, len);
}

EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct fd_info info;
	enum fd_state state;

	preload_init();
	state = classify(fd, &info);
	if (state == FD_NONE || state == FD_TCP)
		return real.getsockopt(fd, level, name, val, len);
	if (!val || !len) {
		errno = EFAULT;
		return -1;
	}
	return mig_getsockopt(fd, &info, level, name, val, len);
}

/*
 * MSG_FASTOPEN connects and sends in one call.  AF_MIGTCP has no fast
 * open: the socket connects (for a non-blocking one, EINPROGRESS as a
 * TCP socket without a cookie would say) and then sends.
 */
static ssize_t fastopen(int fd, const struct msghdr *msg, int flags)
{
	struct fd_info info;
	enum fd_state state = classify(fd, &info);
	int ret;

	if (state != FD_PENDING && state != FD_BOUND)
		return real.sendmsg(fd, msg, flags);
	ret = connect(fd, msg->msg_name, msg->msg_namelen);
	if (fd_get(fd, &info) == FD_TCP)
		return real.sendmsg(fd, msg, flags);
	if (ret < 0)
		return -1;
	return real.sendmsg(fd, &(struct msghdr){
		.msg_iov = msg->msg_iov, .msg_iovlen = msg->msg_iovlen,
		.msg_control = msg->msg_control,
		.msg_controllen = msg->msg_controllen,
	}, flags & ~MSG_FASTOPEN);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
		      const struct sockaddr *addr, socklen_t len)
{
	struct iovec iov = { (void *)buf, n };

	preload_init();
	if (!(flags & MSG_FASTOPEN) || !addr)
		return real.sendto(fd, buf, n, flags, addr, len);
	return fastopen(fd, &(struct msghdr){
		.msg_name = (void *)addr, .msg_namelen = len,
		.msg_iov = &iov, .msg_iovlen = 1,
	}, flags);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	preload_init();
	if (!(flags & MSG_FASTOPEN) || !msg || !msg->msg_name)
		return real.sendmsg(fd, msg, flags);
	return fastopen(fd, msg, flags);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
			struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	ssize_t ret;

	preload_init();
	if (!addr || !len)
		return real.recvfrom(fd, buf, n, flags, addr, len);
	ret = real.recvfrom(fd, buf, n, flags, (void *)&ss, &sslen);
	if (ret >= 0)
		give_addr(fd, &ss, sslen, addr, len);
	return ret;
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct sockaddr_storage ss;
	void *name;
	socklen_t namelen;
	ssize_t ret;

	preload_init();
	if (!msg || !msg->msg_name)
		return real.recvmsg(fd, msg, flags);
	name = msg->msg_name;
	namelen = msg->msg_namelen;
	msg->msg_name = &ss;
	msg->msg_namelen = sizeof(ss);
	ret = real.recvmsg(fd, msg, flags);
	msg->msg_name = name;
	if (ret >= 0) {
		socklen_t got = msg->msg_namelen;

		msg->msg_namelen = namelen;
		give_addr(fd, &ss, got, name, &msg->msg_namelen);
	} else {
		msg->msg_namelen = namelen;
	}
	return ret;
}

EXPORT int close(int fd)
{
	preload_init();
	fd_forget(fd);
	return real.close(fd);
}

EXPORT int dup(int fd)
{
	int nfd;

	preload_init();
	nfd = real.dup(fd);
	if (nfd >= 0)
		fd_copy(fd, nfd);
	return nfd;
}

EXPORT int dup2(int fd, int nfd)
{
	int ret;

	preload_init();
	ret = real.dup2(fd, nfd);
	if (ret >= 0)
		fd_copy(fd, nfd);
	return ret;
}

EXPORT int dup3(int fd, int nfd, int flags)
{
	int ret;

	preload_init();
	ret = real.dup3(fd, nfd, flags);
	if (ret >= 0)
		fd_copy(fd, nfd);
	return ret;
}
