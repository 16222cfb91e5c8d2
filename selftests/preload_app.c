// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of preload_test: an ordinary TCP program, written with AF_INET
 * and AF_INET6 sockets only, that preload_test runs under migtcp-run (or
 * without it, as a plain TCP peer).  It reports what it sees, one line
 * per fact, and preload_test checks those facts; the only thing it
 * checks itself is the data, byte for byte.
 *
 *   preload_app server [-6] [-b ADDR] -p PORT [-N BYTES] [-n CONNS] [-a]
 *   preload_app client [-6] -c ADDR -p PORT [-N BYTES] [-n THREADS]
 *                      [-s SEED] [-m MODE]
 *   preload_app inherit FD SEED BYTES
 *
 * The exchange on every connection: the client sends a 4-byte seed and
 * BYTES bytes of pattern(seed); the server checks them, answers with
 * BYTES bytes of pattern(~seed), which the client checks, and waits for
 * the client's end of stream.  pattern(s) is a xorshift32 stream: any
 * byte lost, duplicated, reordered or corrupted changes it.
 *
 * The server binds ADDR (default the wildcard of its family) and PORT,
 * listens, accepts CONNS (default 1) connections, with accept4(
 * SOCK_NONBLOCK | SOCK_CLOEXEC) if -a, serves each in a thread of its
 * own, and exits.
 *
 * The client modes (default plain): plain (connect, exchange), nonblock
 * (a SOCK_NONBLOCK socket: connect, poll POLLOUT, SO_ERROR), fcntl
 * (O_NONBLOCK set after connect, recv with nothing to read), epoll (the
 * exchange driven by epoll readiness), fork (the child does the
 * exchange), exec (the exchange done by "inherit", exec'd with the
 * socket), threads (THREADS threads connect and exchange at once),
 * sendfile (sends from a file with sendfile, receives with splice through
 * a pipe), sockopt (TCP options set and read back, TCP_INFO,
 * TCP_CONGESTION, TCP_FASTOPEN), fallback (SO_RCVBUF, TCP_NODELAY and
 * IP_TOS set before connect, read back after), fallback-flags (a
 * SOCK_NONBLOCK | SOCK_CLOEXEC socket connected), dup (the exchange on a
 * dup2 copy of the connection), refused (a connect nobody answers),
 * port-clash (a loopback TCP listener and client on the port number of
 * an AF_MIGTCP connection's local port), wait (connect, then wait for
 * the server's first byte, end of stream or error, a reset that came
 * before connect() returned too: "wait ret=R errno=E").
 *
 * Output lines, each "WORD key=value...":
 *   "listening S", "connected S", "inherited S", "parent S": S is
 *     "fd=F real=R domain=D protocol=P local=A lport=P lfam=F llen=L
 *     peer=A pport=P pfam=F plen=L": the family the kernel says (raw
 *     getsockopt SO_DOMAIN, past any preloaded library), the family and
 *     protocol libc's getsockopt says, and the addresses getsockname and getpeername return (peer=E
 *     with the errno name when getpeername fails);
 *   "accepted from=A fport=P ffam=F flen=L nonblock=B cloexec=B" then
 *     "conn S" for each connection a server accepts;
 *   "exchanged seed=S sent=N received=N" when both directions are
 *     verified;
 *   mode-specific lines ("connect ...", "poll ...", "opt ...", ...);
 *   "done" at the end; exit 0.
 * On an error: "error: ..." and exit 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define IO_TIMEOUT_MS	20000	/* no progress for this long: an error */
#define MAX_CONNS	16

static int family = AF_INET;
static size_t nbytes = 256 * 1024;

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	printf("error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static const char *errname(int err)
{
	return strerrorname_np(err) ?: "?";
}

/* Byte @i of pattern(@seed) follows from the state after byte i - 1. */
static uint32_t pattern_start(uint32_t seed)
{
	return seed * 2654435761U + 0x9e3779b9U ?: 1;
}

static uint8_t pattern_next(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x >> 24;
}

static void pattern_fill(uint8_t *buf, size_t len, uint32_t *state)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_next(state);
}

/* Waits until @fd is ready for @events; an error after IO_TIMEOUT_MS. */
static void wait_ready(int fd, short events, const char *what)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n = poll(&pfd, 1, IO_TIMEOUT_MS);

	if (n < 0)
		die("%s: poll: %s", what, errname(errno));
	if (!n)
		die("%s: nothing for %d ms", what, IO_TIMEOUT_MS);
}

/* Writes all of @buf, blocking or not. */
static void write_all(int fd, const void *buf, size_t len, const char *what)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			wait_ready(fd, POLLOUT, what);
			continue;
		}
		if (n <= 0)
			die("%s: send: %s", what, n ? errname(errno) : "0");
		p += n;
		len -= n;
	}
}

/* Reads up to @len bytes (at least one); 0 at end of stream. */
static size_t read_some(int fd, void *buf, size_t len, const char *what)
{
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EINTR)
			die("%s: recv: %s", what, errname(errno));
		wait_ready(fd, POLLIN, what);
	}
}

static void read_all(int fd, void *buf, size_t len, const char *what)
{
	uint8_t *p = buf;
	size_t n;

	while (len) {
		n = read_some(fd, p, len, what);
		if (!n)
			die("%s: end of stream with %zu bytes missing", what, len);
		p += n;
		len -= n;
	}
}

/* Receives nbytes of pattern(@seed) and checks every byte. */
static void recv_pattern(int fd, uint32_t seed, const char *what)
{
	uint32_t state = pattern_start(seed);
	uint8_t buf[16384], want;
	size_t done = 0, n, i;

	while (done < nbytes) {
		n = nbytes - done < sizeof(buf) ? nbytes - done : sizeof(buf);
		n = read_some(fd, buf, n, what);
		if (!n)
			die("%s: end of stream after %zu of %zu bytes", what,
			    done, nbytes);
		for (i = 0; i < n; i++) {
			want = pattern_next(&state);
			if (buf[i] != want)
				die("%s: byte %zu is 0x%02x, expected 0x%02x",
				    what, done + i, buf[i], want);
		}
		done += n;
	}
}

static void send_pattern(int fd, uint32_t seed, const char *what)
{
	uint32_t state = pattern_start(seed);
	uint8_t buf[16384];
	size_t done = 0, n;

	while (done < nbytes) {
		n = nbytes - done < sizeof(buf) ? nbytes - done : sizeof(buf);
		pattern_fill(buf, n, &state);
		write_all(fd, buf, n, what);
		done += n;
	}
}

/* The client's half: the seed and its data out, the answer checked. */
static void client_send(int fd, uint32_t seed)
{
	uint32_t s = htonl(seed);

	write_all(fd, &s, sizeof(s), "client");
	send_pattern(fd, seed, "client");
}

static void client_recv(int fd, uint32_t seed)
{
	recv_pattern(fd, ~seed, "client");
	printf("exchanged seed=%u sent=%zu received=%zu\n", seed, nbytes,
	       nbytes);
}

static void client_exchange(int fd, uint32_t seed)
{
	client_send(fd, seed);
	client_recv(fd, seed);
}

/* "A port=P fam=F len=L" for an address getsockname() & co. returned. */
static void addr_str(const struct sockaddr_storage *ss, socklen_t len,
		     const char *p, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN] = "?";
	int port = -1;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		port = ntohs(in6->sin6_port);
	}
	snprintf(out, outlen, "%s %sport=%d %sfam=%d %slen=%u", a, p, port, p,
		 ss->ss_family, p, len);
}

/* The family of @fd as the kernel knows it, past any preloaded library. */
static int real_domain(int fd)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, &v, &len))
		return -errno;
	return v;
}

static int libc_domain(int fd)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len))
		return -errno;
	return v;
}

static int libc_protocol(int fd)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len))
		return -errno;
	return v;
}

static void report(const char *what, int fd)
{
	struct sockaddr_storage ss;
	char local[128], peer[128];
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		snprintf(local, sizeof(local), "%s", errname(errno));
	else
		addr_str(&ss, len, "l", local, sizeof(local));
	memset(&ss, 0, sizeof(ss));
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len))
		snprintf(peer, sizeof(peer), "%s", errname(errno));
	else
		addr_str(&ss, len, "p", peer, sizeof(peer));
	printf("%s fd=%d real=%d domain=%d protocol=%d local=%s peer=%s\n",
	       what, fd, real_domain(fd), libc_domain(fd), libc_protocol(fd),
	       local, peer);
}

/* ADDR and PORT as a sockaddr of the program's family. */
static socklen_t make_addr(const char *addr, int port,
			   struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		if (inet_pton(AF_INET, addr ?: "0.0.0.0", &in->sin_addr) != 1)
			die("bad IPv4 address %s", addr);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (void *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	if (inet_pton(AF_INET6, addr ?: "::", &in6->sin6_addr) != 1)
		die("bad IPv6 address %s", addr);
	return sizeof(*in6);
}

/* Server */

static void *serve_main(void *arg)
{
	int fd = (int)(long)arg;
	uint32_t seed;
	uint8_t c;

	read_all(fd, &seed, sizeof(seed), "server");
	seed = ntohl(seed);
	recv_pattern(fd, seed, "server");
	send_pattern(fd, ~seed, "server");
	if (read_some(fd, &c, 1, "server"))
		die("server: data after the exchange");
	close(fd);
	printf("served seed=%u received=%zu sent=%zu\n", seed, nbytes, nbytes);
	return NULL;
}

static int server(const char *addr, int port, int conns, bool use_accept4)
{
	pthread_t th[MAX_CONNS];
	struct sockaddr_storage ss;
	socklen_t len;
	char from[128];
	int lfd, fd, i, fl, fdfl;

	if (conns < 1 || conns > MAX_CONNS)
		die("1 to %d connections", MAX_CONNS);
	lfd = socket(family, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket: %s", errname(errno));
	len = make_addr(addr, port, &ss);
	if (bind(lfd, (struct sockaddr *)&ss, len))
		die("bind: %s", errname(errno));
	if (listen(lfd, MAX_CONNS))
		die("listen: %s", errname(errno));
	report("listening", lfd);
	for (i = 0; i < conns; i++) {
		memset(&ss, 0, sizeof(ss));
		len = sizeof(ss);
		if (use_accept4)
			fd = accept4(lfd, (struct sockaddr *)&ss, &len,
				     SOCK_NONBLOCK | SOCK_CLOEXEC);
		else
			fd = accept(lfd, (struct sockaddr *)&ss, &len);
		if (fd < 0)
			die("accept: %s", errname(errno));
		fl = fcntl(fd, F_GETFL);
		fdfl = fcntl(fd, F_GETFD);
		if (fl < 0 || fdfl < 0)
			die("fcntl: %s", errname(errno));
		addr_str(&ss, len, "f", from, sizeof(from));
		printf("accepted from=%s nonblock=%d cloexec=%d\n", from,
		       !!(fl & O_NONBLOCK), !!(fdfl & FD_CLOEXEC));
		report("conn", fd);
		if (pthread_create(&th[i], NULL, serve_main, (void *)(long)fd))
			die("pthread_create failed");
	}
	for (i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	close(lfd);
	return 0;
}

/* Client */

static const char *c_addr;
static int c_port;

static int connected_socket(int type_flags)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(c_addr, c_port, &ss);
	int fd = socket(family, SOCK_STREAM | type_flags, 0);

	if (fd < 0)
		die("socket: %s", errname(errno));
	if (connect(fd, (struct sockaddr *)&ss, len))
		die("connect: %s", errname(errno));
	return fd;
}

static void mode_nonblock(uint32_t seed)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(c_addr, c_port, &ss);
	struct pollfd pfd;
	int fd, ret, err, n;
	socklen_t elen = sizeof(err);

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket: %s", errname(errno));
	errno = 0;
	ret = connect(fd, (struct sockaddr *)&ss, len);
	printf("connect ret=%d errno=%s\n", ret, ret ? errname(errno) : "0");
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	n = poll(&pfd, 1, IO_TIMEOUT_MS);
	printf("poll n=%d revents=0x%x\n", n, n > 0 ? pfd.revents : 0);
	err = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen))
		die("getsockopt SO_ERROR: %s", errname(errno));
	printf("so_error err=%d\n", err);
	printf("flags nonblock=%d\n", !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
	report("connected", fd);
	client_exchange(fd, seed);
	close(fd);
}

static void mode_fcntl(uint32_t seed)
{
	int fd = connected_socket(0), fl;
	ssize_t n;
	char c;

	report("connected", fd);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		die("fcntl: %s", errname(errno));
	printf("flags nonblock=%d\n", !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
	errno = 0;
	n = recv(fd, &c, 1, 0);
	printf("recv ret=%zd errno=%s\n", n, n < 0 ? errname(errno) : "0");
	client_exchange(fd, seed);
	close(fd);
}

/* One epoll_wait for @ms; prints "epoll-LABEL n=N events=0xE". */
static void epoll_step(int ep, int fd, int ms, const char *label)
{
	struct epoll_event ev = { 0 };
	int n = epoll_wait(ep, &ev, 1, ms);

	if (n < 0)
		die("epoll_wait: %s", errname(errno));
	if (n && ev.data.fd != fd)
		die("epoll event for data %d, registered %d", ev.data.fd, fd);
	printf("epoll-%s n=%d events=0x%x\n", label, n, n ? ev.events : 0);
}

static void mode_epoll(uint32_t seed)
{
	int fd = connected_socket(0), ep;
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	report("connected", fd);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		die("epoll: %s", errname(errno));
	/* Nothing to read before the server has had our data. */
	epoll_step(ep, fd, 200, "idle");
	ev.events = EPOLLOUT;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev))
		die("epoll_ctl MOD: %s", errname(errno));
	epoll_step(ep, fd, IO_TIMEOUT_MS, "writable");
	client_send(fd, seed);
	ev.events = EPOLLIN;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev))
		die("epoll_ctl MOD: %s", errname(errno));
	epoll_step(ep, fd, IO_TIMEOUT_MS, "readable");
	client_recv(fd, seed);
	/* After the answer, the server's end of stream is next. */
	shutdown(fd, SHUT_WR);
	epoll_step(ep, fd, IO_TIMEOUT_MS, "eof");
	close(ep);
	close(fd);
}

static void mode_fork(uint32_t seed)
{
	int fd = connected_socket(0), status;
	pid_t pid;

	report("connected", fd);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", errname(errno));
	if (!pid) {
		report("child", fd);
		client_exchange(fd, seed);
		exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid: %s", errname(errno));
	printf("waited status=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	report("parent", fd);
	close(fd);
}

static void mode_exec(uint32_t seed)
{
	int fd = connected_socket(SOCK_CLOEXEC);
	char fdstr[16], seedstr[16], bytes[24];

	report("connected", fd);
	if (fcntl(fd, F_SETFD, 0))
		die("fcntl: %s", errname(errno));
	snprintf(fdstr, sizeof(fdstr), "%d", fd);
	snprintf(seedstr, sizeof(seedstr), "%u", seed);
	snprintf(bytes, sizeof(bytes), "%zu", nbytes);
	fflush(stdout);
	execl("/proc/self/exe", "preload_app", "inherit", fdstr, seedstr,
	      bytes, (char *)NULL);
	die("exec: %s", errname(errno));
}

static void *thread_main(void *arg)
{
	uint32_t seed = (uint32_t)(long)arg;
	int fd = connected_socket(0);

	report("connected", fd);
	client_exchange(fd, seed);
	close(fd);
	return NULL;
}

static void mode_threads(uint32_t seed, int n)
{
	pthread_t th[MAX_CONNS];
	int i;

	if (n < 1 || n > MAX_CONNS)
		die("1 to %d threads", MAX_CONNS);
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, thread_main,
				   (void *)(long)(seed + i)))
			die("pthread_create failed");
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

static void mode_sendfile(uint32_t seed)
{
	int fd = connected_socket(0), file, pipefd[2];
	uint32_t state = pattern_start(~seed), s = htonl(seed);
	uint8_t buf[16384], want;
	size_t total = sizeof(s) + nbytes, got = 0;
	off_t off = 0;
	ssize_t n, i;

	report("connected", fd);
	/* A file holding exactly what the client sends. */
	file = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (file < 0)
		die("open O_TMPFILE: %s", errname(errno));
	if (write(file, &s, sizeof(s)) != sizeof(s))
		die("write: %s", errname(errno));
	{
		uint32_t ps = pattern_start(seed);
		size_t done = 0, k;

		while (done < nbytes) {
			k = nbytes - done < sizeof(buf) ? nbytes - done : sizeof(buf);
			pattern_fill(buf, k, &ps);
			if (write(file, buf, k) != (ssize_t)k)
				die("write: %s", errname(errno));
			done += k;
		}
	}
	while ((size_t)off < total) {
		n = sendfile(fd, file, &off, total - off);
		if (n <= 0)
			die("sendfile at %lld: %s", (long long)off,
			    n ? errname(errno) : "0");
	}
	printf("sendfile sent=%lld\n", (long long)off);
	close(file);

	if (pipe2(pipefd, O_CLOEXEC))
		die("pipe: %s", errname(errno));
	while (got < nbytes) {
		n = splice(fd, NULL, pipefd[1], NULL, nbytes - got, 0);
		if (n <= 0)
			die("splice after %zu bytes: %s", got,
			    n ? errname(errno) : "end of stream");
		while (n > 0) {
			ssize_t r = read(pipefd[0], buf,
					 n < (ssize_t)sizeof(buf) ? n : (ssize_t)sizeof(buf));

			if (r <= 0)
				die("read pipe: %s", r ? errname(errno) : "0");
			for (i = 0; i < r; i++) {
				want = pattern_next(&state);
				if (buf[i] != want)
					die("splice: byte %zu is 0x%02x, expected 0x%02x",
					    got + i, buf[i], want);
			}
			got += r;
			n -= r;
		}
	}
	printf("splice received=%zu\n", got);
	printf("exchanged seed=%u sent=%zu received=%zu\n", seed, nbytes, got);
	close(fd);
}

static int get_int(int fd, int level, int name, int *val)
{
	socklen_t len = sizeof(*val);

	*val = -1;
	return getsockopt(fd, level, name, val, &len) ? -errno : 0;
}

/* "opt NAME set=V ret=R get=G": set @name to @v, read it back. */
static void opt_round_trip(int fd, const char *label, int name, int v)
{
	int ret, got = -1;

	ret = setsockopt(fd, IPPROTO_TCP, name, &v, sizeof(v)) ? errno : 0;
	get_int(fd, IPPROTO_TCP, name, &got);
	printf("opt %s set=%d ret=%s get=%d\n", label, v,
	       ret ? errname(ret) : "0", got);
}

static void mode_sockopt(uint32_t seed)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(c_addr, c_port, &ss);
	struct tcp_info ti;
	char cc[32] = "";
	int fd, v = 1000, got, ret;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket: %s", errname(errno));
	/* TCP_MAXSEG before connect caps the connection's MSS. */
	ret = setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v));
	printf("opt maxseg-before set=%d ret=%s\n", v, ret ? errname(errno) : "0");
	if (connect(fd, (struct sockaddr *)&ss, len))
		die("connect: %s", errname(errno));
	report("connected", fd);
	get_int(fd, IPPROTO_TCP, TCP_MAXSEG, &got);
	printf("opt maxseg get=%d\n", got);
	opt_round_trip(fd, "nodelay1", TCP_NODELAY, 1);
	opt_round_trip(fd, "nodelay0", TCP_NODELAY, 0);
	opt_round_trip(fd, "keepidle", TCP_KEEPIDLE, 77);
	opt_round_trip(fd, "keepintvl", TCP_KEEPINTVL, 9);
	opt_round_trip(fd, "keepcnt", TCP_KEEPCNT, 4);
	opt_round_trip(fd, "user_timeout", TCP_USER_TIMEOUT, 12345);
	opt_round_trip(fd, "cork1", TCP_CORK, 1);
	opt_round_trip(fd, "cork0", TCP_CORK, 0);
	len = sizeof(cc) - 1;
	ret = getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len);
	printf("opt congestion ret=%s name=%s\n", ret ? errname(errno) : "0",
	       ret ? "-" : cc);
	ret = setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
	len = sizeof(cc) - 1;
	memset(cc, 0, sizeof(cc));
	getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len);
	printf("opt congestion-reno ret=%s name=%s\n",
	       ret ? errname(errno) : "0", cc);
	v = 1;
	ret = setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &v, sizeof(v));
	printf("opt fastopen ret=%d errno=%s\n", ret, ret ? errname(errno) : "0");
	client_exchange(fd, seed);
	memset(&ti, 0xff, sizeof(ti));
	len = sizeof(ti);
	ret = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	printf("info ret=%s len=%u state=%u snd_mss=%u rtt=%u rto=%u snd_cwnd=%u bytes_acked=%llu bytes_received=%llu\n",
	       ret ? errname(errno) : "0", len, ti.tcpi_state, ti.tcpi_snd_mss,
	       ti.tcpi_rtt, ti.tcpi_rto, ti.tcpi_snd_cwnd,
	       (unsigned long long)ti.tcpi_bytes_acked,
	       (unsigned long long)ti.tcpi_bytes_received);
	close(fd);
}

static void mode_fallback(uint32_t seed)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(c_addr, c_port, &ss);
	int fd, v, rcvbuf = -1, nodelay = -1, tos = -1;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket: %s", errname(errno));
	printf("before fd=%d real=%d\n", fd, real_domain(fd));
	v = 65536;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)))
		die("SO_RCVBUF: %s", errname(errno));
	v = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)))
		die("TCP_NODELAY: %s", errname(errno));
	if (family == AF_INET) {
		v = 0x20;
		if (setsockopt(fd, IPPROTO_IP, IP_TOS, &v, sizeof(v)))
			die("IP_TOS: %s", errname(errno));
	}
	if (connect(fd, (struct sockaddr *)&ss, len))
		die("connect: %s", errname(errno));
	report("connected", fd);
	get_int(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf);
	get_int(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay);
	if (family == AF_INET)
		get_int(fd, IPPROTO_IP, IP_TOS, &tos);
	printf("after rcvbuf=%d nodelay=%d tos=%d\n", rcvbuf, nodelay, tos);
	client_exchange(fd, seed);
	close(fd);
}

/* dup2() and dup() of the connection; the exchange on the dup2 copy. */
static void mode_dup(uint32_t seed)
{
	int fd = connected_socket(0), d;

	report("connected", fd);
	if (dup2(fd, 20) != 20)
		die("dup2: %s", errname(errno));
	report("dup2", 20);
	d = dup(fd);
	if (d < 0)
		die("dup: %s", errname(errno));
	report("dup", d);
	close(d);
	close(fd);
	client_exchange(20, seed);
	close(20);
}

/* connect() where nobody listens: its errno, and what the socket is. */
static void mode_refused(void)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(c_addr, c_port, &ss);
	int fd = socket(family, SOCK_STREAM, 0), ret;

	if (fd < 0)
		die("socket: %s", errname(errno));
	errno = 0;
	ret = connect(fd, (struct sockaddr *)&ss, len);
	printf("connect ret=%d errno=%s\n", ret, ret ? errname(errno) : "0");
	printf("after fd=%d real=%d\n", fd, real_domain(fd));
	close(fd);
}

/*
 * A SOCK_NONBLOCK | SOCK_CLOEXEC socket whose connect makes it kernel
 * TCP: the connect as a non-blocking TCP one, the flags kept.
 */
static void mode_fallback_flags(uint32_t seed)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(c_addr, c_port, &ss);
	int fd, ret, err = -1;
	socklen_t elen = sizeof(err);

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", errname(errno));
	printf("before fd=%d real=%d\n", fd, real_domain(fd));
	errno = 0;
	ret = connect(fd, (struct sockaddr *)&ss, len);
	printf("connect ret=%d errno=%s\n", ret, ret ? errname(errno) : "0");
	wait_ready(fd, POLLOUT, "connect");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen))
		die("getsockopt SO_ERROR: %s", errname(errno));
	printf("so_error err=%d\n", err);
	printf("flags nonblock=%d cloexec=%d\n",
	       !!(fcntl(fd, F_GETFL) & O_NONBLOCK),
	       !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	report("connected", fd);
	client_exchange(fd, seed);
	close(fd);
}

/*
 * With an AF_MIGTCP connection on local port P open, a kernel TCP
 * listener on 127.0.0.1:P (the two port spaces are separate) and a
 * connect to it: "loop-connect", "loop" (the connecting socket) and
 * "loop-accepted"; then the exchange on the AF_MIGTCP connection.
 */
static void mode_port_clash(uint32_t seed)
{
	int fd = connected_socket(0), l, c, a, ret;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const char *lo = family == AF_INET ? "127.0.0.1" : "::1";
	int port;

	report("connected", fd);
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		die("getsockname: %s", errname(errno));
	port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
				       ((struct sockaddr_in6 *)&ss)->sin6_port);
	l = socket(family, SOCK_STREAM, 0);
	if (l < 0)
		die("socket: %s", errname(errno));
	len = make_addr(lo, port, &ss);
	if (bind(l, (struct sockaddr *)&ss, len) || listen(l, 1))
		die("bind/listen %s port %d: %s", lo, port, errname(errno));
	report("tcp-listening", l);
	c = socket(family, SOCK_STREAM, 0);
	if (c < 0)
		die("socket: %s", errname(errno));
	errno = 0;
	ret = connect(c, (struct sockaddr *)&ss, len);
	printf("loop-connect ret=%d errno=%s\n", ret, ret ? errname(errno) : "0");
	report("loop", c);
	a = -1;
	if (!ret) {
		struct pollfd pfd = { .fd = l, .events = POLLIN };

		if (poll(&pfd, 1, 2000) == 1)
			a = accept(l, NULL, NULL);
	}
	printf("loop-accepted ok=%d\n", a >= 0);
	if (a >= 0)
		close(a);
	close(c);
	close(l);
	client_exchange(fd, seed);
	close(fd);
}

/*
 * Connects and waits for what the server does first: data, EOF or reset
 * ("wait ret=R errno=E").  The reset may come before connect() returns,
 * when the server's accept() runs before this process does: connect()
 * then fails with it, as TCP's does, and that is what "wait" reports.
 * "socket" shows the socket before the connect, "connected" after one
 * that succeeded.
 */
static void mode_wait(void)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(c_addr, c_port, &ss);
	int fd = socket(family, SOCK_STREAM, 0), n;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t ret = -1;
	char c;

	if (fd < 0)
		die("socket: %s", errname(errno));
	report("socket", fd);
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		if (errno != ECONNRESET)
			die("connect: %s", errname(errno));
		printf("wait ret=-1 errno=ECONNRESET\n");
		close(fd);
		return;
	}
	report("connected", fd);
	n = poll(&pfd, 1, IO_TIMEOUT_MS);
	errno = n ? errno : ETIMEDOUT;
	if (n > 0)
		ret = recv(fd, &c, 1, MSG_DONTWAIT);
	printf("wait ret=%zd errno=%s\n", ret, ret < 0 ? errname(errno) : "0");
	close(fd);
}

static int client(const char *mode, uint32_t seed, int n)
{
	if (!strcmp(mode, "plain")) {
		int fd = connected_socket(0);

		report("connected", fd);
		client_exchange(fd, seed);
		close(fd);
	} else if (!strcmp(mode, "nonblock")) {
		mode_nonblock(seed);
	} else if (!strcmp(mode, "fcntl")) {
		mode_fcntl(seed);
	} else if (!strcmp(mode, "epoll")) {
		mode_epoll(seed);
	} else if (!strcmp(mode, "fork")) {
		mode_fork(seed);
	} else if (!strcmp(mode, "exec")) {
		mode_exec(seed);
	} else if (!strcmp(mode, "threads")) {
		mode_threads(seed, n);
	} else if (!strcmp(mode, "sendfile")) {
		mode_sendfile(seed);
	} else if (!strcmp(mode, "sockopt")) {
		mode_sockopt(seed);
	} else if (!strcmp(mode, "fallback")) {
		mode_fallback(seed);
	} else if (!strcmp(mode, "fallback-flags")) {
		mode_fallback_flags(seed);
	} else if (!strcmp(mode, "dup")) {
		mode_dup(seed);
	} else if (!strcmp(mode, "refused")) {
		mode_refused();
	} else if (!strcmp(mode, "port-clash")) {
		mode_port_clash(seed);
	} else if (!strcmp(mode, "wait")) {
		mode_wait();
	} else {
		die("unknown mode %s", mode);
	}
	return 0;
}

static int inherit(int argc, char **argv)
{
	int fd;

	if (argc != 5)
		die("usage: inherit FD SEED BYTES");
	fd = atoi(argv[2]);
	nbytes = strtoull(argv[4], NULL, 0);
	report("inherited", fd);
	client_exchange(fd, strtoul(argv[3], NULL, 0));
	close(fd);
	return 0;
}

static void __attribute__((noreturn)) usage(void)
{
	die("usage: preload_app server [-6] [-b ADDR] -p PORT [-N BYTES] [-n CONNS] [-a]\n"
	    "       preload_app client [-6] -c ADDR -p PORT [-N BYTES] [-n THREADS] [-s SEED] [-m MODE]\n"
	    "       preload_app inherit FD SEED BYTES");
}

int main(int argc, char **argv)
{
	const char *mode = "plain", *bind_addr = NULL;
	bool use_accept4 = false;
	uint32_t seed = 1;
	int opt, n = 1, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "inherit"))
		ret = inherit(argc, argv);
	else {
		optind = 2;
		while ((opt = getopt(argc, argv, "6ab:c:p:N:n:s:m:")) != -1) {
			switch (opt) {
			case '6': family = AF_INET6; break;
			case 'a': use_accept4 = true; break;
			case 'b': bind_addr = optarg; break;
			case 'c': c_addr = optarg; break;
			case 'p': c_port = atoi(optarg); break;
			case 'N': nbytes = strtoull(optarg, NULL, 0); break;
			case 'n': n = atoi(optarg); break;
			case 's': seed = strtoul(optarg, NULL, 0); break;
			case 'm': mode = optarg; break;
			default: usage();
			}
		}
		if (!c_port)
			usage();
		if (!strcmp(argv[1], "server"))
			ret = server(bind_addr, c_port, n, use_accept4);
		else if (!strcmp(argv[1], "client") && c_addr)
			ret = client(mode, seed, n);
		else
			usage();
	}
	printf("done\n");
	return ret;
}
