/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libmigtcp-preload: runs unmodified TCP programs over AF_MIGTCP.
 * Shared declarations of its parts: the real libc functions, the state
 * kept per file descriptor, the cluster map and option mapping.
 */
#ifndef MIGTCP_PRELOAD_H
#define MIGTCP_PRELOAD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The libc functions the library wraps, found with dlsym(RTLD_NEXT). */
struct real_calls {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *,
			    socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
};

extern struct real_calls real;
extern int migtcp_af;		/* the module's family; 0: library is off */

/* Resolves the real calls and decides whether the library is on. */
void preload_init(void);

/* One line on stderr when MIGTCP_RUN_DEBUG is set. */
void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern bool debug_on;

/*
 * What the library knows of a descriptor it created or accepted.  A
 * socket is PENDING from socket() until bind, connect or listen decides
 * its transport: AF_MIGTCP (MIGTCP) or kernel TCP (TCP, after which the
 * library leaves it alone).  BOUND is a PENDING socket bound to a
 * wildcard or to this node, which can still fall back to TCP at connect.
 */
enum fd_state {
	FD_NONE = 0,		/* not a socket of the library */
	FD_PENDING,
	FD_BOUND,
	FD_MIGTCP,
	FD_TCP,
};

/* An option set while the transport was undecided, kept for a fallback. */
struct saved_opt {
	int level, name;
	socklen_t len;
	unsigned char val[];
};

struct fd_info {
	enum fd_state state;
	int family;			/* what the program asked for */
	/*
	 * An AF_INET6 socket the program bound or connected to an
	 * IPv4-mapped address, or accepted from such a listener: it shows
	 * nodes by their IPv4 address (mapped) where they have one.
	 */
	bool mapped;
	struct sockaddr_storage bound;	/* the program's bind() address */
	socklen_t bound_len;
	struct saved_opt **opts;
	size_t nopts;
};

/*
 * The table is locked for each access; the functions copy in and out so
 * that no caller holds the lock across a system call.  fd_get fills
 * INFO (without the options) and returns its state, FD_NONE if unknown.
 */
enum fd_state fd_get(int fd, struct fd_info *info);
void fd_set_state(int fd, enum fd_state state, int family);
void fd_set_bound(int fd, const struct sockaddr *addr, socklen_t len);
void fd_set_mapped(int fd);
int fd_save_opt(int fd, int level, int name, const void *val, socklen_t len);
/* Looks up a saved option of FD: copies up to *LEN bytes; 0 or -1. */
int fd_saved_opt(int fd, int level, int name, void *val, socklen_t *len);
/* Applies every saved option of FD to NEWFD with the real setsockopt. */
void fd_replay_opts(int fd, int newfd);
void fd_forget(int fd);
void fd_copy(int from, int to);
void fd_table_atfork(void);

/*
 * The cluster map: this node's id and the nodes of the peer table with
 * their underlay addresses, IPv4, IPv6 or both, read from the module
 * over generic netlink and read again, at most once a second, when an
 * address or an id is not in it.
 */
struct node_addrs {
	bool has4, has6;
	uint32_t addr4;			/* network order */
	struct in6_addr addr6;
};

uint32_t cluster_node_of(uint32_t addr);	/* 0: not a cluster node */
uint32_t cluster_node_of6(const struct in6_addr *addr);
/*
 * NODE's addresses into *ADDRS; false if the map has none.  NEED4: an
 * entry without an IPv4 address is looked up again, as a missing one.
 */
bool cluster_addrs_of(uint32_t node, bool need4, struct node_addrs *addrs);
uint32_t cluster_self(void);			/* this node's id, or 0 */
/* Whether node NODE is known to have an IPv6 address and no IPv4 one. */
bool cluster_v6_only(uint32_t node);
void cluster_atfork(void);
/* Whether this node has an AF_MIGTCP listener on PORT (network order). */
bool cluster_has_listener(uint16_t port);

/*
 * Address translation.  inet_parse reads an AF_INET or AF_INET6 address
 * of the program: a native IPv6 address, or the IPv4 address it names
 * (v4-mapped IPv6 included; the wildcards :: and ::ffff:0.0.0.0 are
 * 0.0.0.0), and its port; false if it is neither or too short.
 * mig_to_inet writes the AF_INET or AF_INET6 form of a struct
 * sockaddr_mig into ADDR (truncated to *LEN, which is set to the full
 * length, as the kernel does): for AF_INET the node's IPv4 address; for
 * AF_INET6 its IPv6 address, or its IPv4 address v4-mapped when it has
 * no IPv6 one or when MAPPED prefers IPv4.
 */
struct inet_addr {
	bool v6;		/* native IPv6: ip6; else IPv4: ip */
	bool mapped;		/* an IPv4-mapped IPv6 address */
	uint32_t ip;		/* network order */
	struct in6_addr ip6;
	uint16_t port;		/* network order */
};

bool inet_parse(const struct sockaddr *addr, socklen_t len,
		struct inet_addr *ia);
void mig_to_inet(const struct sockaddr_storage *mig, int family, bool mapped,
		 struct sockaddr *addr, socklen_t *len);
/* "198.51.100.2:5201" or "[::1]:80" for debug lines. */
const char *addr_str(const struct sockaddr *addr, socklen_t len,
		     char *buf, size_t size);

/* Option mapping (sockopt.c); both return what setsockopt would. */
int mig_setsockopt(int fd, enum fd_state state, int level, int name,
		   const void *val, socklen_t len);
int mig_getsockopt(int fd, const struct fd_info *info, int level, int name,
		   void *val, socklen_t *len);

#endif /* MIGTCP_PRELOAD_H */
