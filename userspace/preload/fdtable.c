// SPDX-License-Identifier: GPL-2.0
/*
 * The state the preload library keeps per file descriptor, in an array
 * indexed by descriptor that grows on demand.  One mutex guards it; it
 * is never held across a system call other than setsockopt on a fresh
 * socket, and fork takes it so that a child never inherits it locked.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "preload.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fd_info *table;
static size_t table_size;

static void lock(void)
{
	pthread_mutex_lock(&table_lock);
}

static void unlock(void)
{
	pthread_mutex_unlock(&table_lock);
}

static void atfork_prepare(void)
{
	lock();
}

void fd_table_atfork(void)
{
	pthread_atfork(atfork_prepare, unlock, unlock);
}

/* The entry of FD, growing the table; NULL if FD is negative or no memory. */
static struct fd_info *slot(int fd, bool grow)
{
	size_t size;
	struct fd_info *bigger;

	if (fd < 0)
		return NULL;
	if ((size_t)fd < table_size)
		return &table[fd];
	if (!grow)
		return NULL;
	size = table_size ? table_size : 256;
	while (size <= (size_t)fd)
		size *= 2;
	bigger = realloc(table, size * sizeof(*table));
	if (!bigger)
		return NULL;
	memset(bigger + table_size, 0, (size - table_size) * sizeof(*table));
	table = bigger;
	table_size = size;
	return &table[fd];
}

static void clear(struct fd_info *info)
{
	size_t i;

	for (i = 0; i < info->nopts; i++)
		free(info->opts[i]);
	free(info->opts);
	memset(info, 0, sizeof(*info));
}

enum fd_state fd_get(int fd, struct fd_info *out)
{
	struct fd_info *info;
	enum fd_state state = FD_NONE;

	memset(out, 0, sizeof(*out));
	lock();
	info = slot(fd, false);
	if (info) {
		*out = *info;
		out->opts = NULL;
		out->nopts = 0;
		state = info->state;
	}
	unlock();
	return state;
}

void fd_set_state(int fd, enum fd_state state, int family)
{
	struct fd_info *info;

	lock();
	info = slot(fd, true);
	if (info) {
		if (info->state == FD_NONE)
			clear(info);
		info->state = state;
		if (family)
			info->family = family;
	}
	unlock();
}

void fd_set_bound(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct fd_info *info;

	if (len > sizeof(info->bound))
		len = sizeof(info->bound);
	lock();
	info = slot(fd, true);
	if (info) {
		memcpy(&info->bound, addr, len);
		info->bound_len = len;
	}
	unlock();
}

void fd_set_mapped(int fd)
{
	struct fd_info *info;

	lock();
	info = slot(fd, true);
	if (info)
		info->mapped = true;
	unlock();
}

int fd_save_opt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct saved_opt *opt, **opts;
	struct fd_info *info;
	size_t i;
	int ret = -1;

	opt = malloc(sizeof(*opt) + len);
	if (!opt) {
		errno = ENOMEM;
		return -1;
	}
	opt->level = level;
	opt->name = name;
	opt->len = len;
	memcpy(opt->val, val, len);

	lock();
	info = slot(fd, true);
	if (!info)
		goto out;
	/* The last value of an option is the one that counts. */
	for (i = 0; i < info->nopts; i++) {
		if (info->opts[i]->level == level &&
		    info->opts[i]->name == name) {
			free(info->opts[i]);
			info->opts[i] = opt;
			opt = NULL;
			ret = 0;
			goto out;
		}
	}
	opts = reallocarray(info->opts, info->nopts + 1, sizeof(*opts));
	if (!opts)
		goto out;
	opts[info->nopts++] = opt;
	info->opts = opts;
	opt = NULL;
	ret = 0;
out:
	unlock();
	free(opt);
	if (ret)
		errno = ENOMEM;
	return ret;
}

int fd_saved_opt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct fd_info *info;
	size_t i;
	int ret = -1;

	lock();
	info = slot(fd, false);
	for (i = 0; info && i < info->nopts; i++) {
		const struct saved_opt *opt = info->opts[i];

		if (opt->level == level && opt->name == name) {
			if (*len > opt->len)
				*len = opt->len;
			memcpy(val, opt->val, *len);
			ret = 0;
			break;
		}
	}
	unlock();
	return ret;
}

void fd_replay_opts(int fd, int newfd)
{
	struct fd_info *info;
	size_t i;

	lock();
	info = slot(fd, false);
	for (i = 0; info && i < info->nopts; i++) {
		const struct saved_opt *opt = info->opts[i];

		if (real.setsockopt(newfd, opt->level, opt->name, opt->val,
				    opt->len) < 0)
			debug("fd %d: option %d/%d not taken by TCP: %m", fd,
			      opt->level, opt->name);
	}
	unlock();
}

void fd_forget(int fd)
{
	struct fd_info *info;

	lock();
	info = slot(fd, false);
	if (info)
		clear(info);
	unlock();
}

/* dup() and friends: the copy is the same socket, its options included. */
void fd_copy(int from, int to)
{
	struct fd_info *src, *dst;
	size_t i;

	if (from == to)
		return;
	lock();
	src = slot(from, false);
	dst = slot(to, src && src->state != FD_NONE);
	if (dst) {
		clear(dst);
		if (src && src->state != FD_NONE) {
			*dst = *src;
			dst->opts = NULL;
			dst->nopts = 0;
			/* Without memory the copy just cannot fall back. */
			dst->opts = calloc(src->nopts ?: 1, sizeof(*dst->opts));
			for (i = 0; dst->opts && i < src->nopts; i++) {
				size_t n = sizeof(*src->opts[i]) +
					   src->opts[i]->len;

				dst->opts[i] = malloc(n);
				if (!dst->opts[i])
					break;
				memcpy(dst->opts[i], src->opts[i], n);
				dst->nopts++;
			}
		}
	}
	unlock();
}
