/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel API differences between the kernels migtcp builds for (6.1
 * and 6.12 today), in one place.  Each difference is decided by a feature
 * test, never by the version number: a distribution kernel may carry a
 * backport that the version does not show.  The tests are either
 * __has_include() here or a grep of the kernel's own headers in Kbuild,
 * which passes -DMIGTCP_HAVE_<FEATURE> for what it finds.
 */
#ifndef _MIGTCP_COMPAT_H
#define _MIGTCP_COMPAT_H

#include <linux/net.h>

/* get/put_unaligned_*() moved from asm/ to linux/ in 6.12. */
#if __has_include(<linux/unaligned.h>)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/* sk_under_memory_pressure() and its kin left net/sock.h in 6.10. */
#if __has_include(<net/proto_memory.h>)
#include <net/proto_memory.h>
#endif

/*
 * proto_ops.accept: since 6.10 its flags arrive in a struct
 * proto_accept_arg instead of as arguments.  MIGTCP_DEFINE_ACCEPT(name,
 * fn) defines the proto_ops entry "name" for this kernel, calling
 * int fn(struct socket *sock, struct socket *newsock, int flags, bool kern).
 */
#ifdef MIGTCP_HAVE_PROTO_ACCEPT_ARG
#define MIGTCP_DEFINE_ACCEPT(name, fn)					\
static int name(struct socket *sock, struct socket *newsock,		\
		struct proto_accept_arg *arg)				\
{									\
	return fn(sock, newsock, arg->flags, arg->kern);		\
}
#else
#define MIGTCP_DEFINE_ACCEPT(name, fn)					\
static int name(struct socket *sock, struct socket *newsock,		\
		int flags, bool kern)					\
{									\
	return fn(sock, newsock, flags, kern);				\
}
#endif

#endif /* _MIGTCP_COMPAT_H */
