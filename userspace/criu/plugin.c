// SPDX-License-Identifier: GPL-2.0
/*
 * The CRIU plugin for AF_MIGTCP sockets.
 *
 * Dump (CR_PLUGIN_HOOK__DUMP_EXT_FILE, reached through the bridge of
 * bridge.c): freeze the socket (MIGTCP_FREEZE), take its checkpoint
 * (MIGTCP_CHECKPOINT) and write it with the file's flags and SOL_SOCKET
 * options to migtcp-sk-<id>.img in the image directory.  The socket is
 * remembered: if the dump fails, or CRIU lets the process run on, it is
 * thawed (MIGTCP_THAW) at the end (cr_plugin_fini, watch.c).
 *
 * Restore (CR_PLUGIN_HOOK__RESTORE_EXT_FILE): read the image, create a
 * socket of this node and rebuild it (MIGTCP_RESTORE), then put back the
 * flags and options.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* CRIU finds the plugin by its descriptor: the one exported symbol. */
#pragma GCC visibility push(default)
#include <criu/criu-plugin.h>
#pragma GCC visibility pop

#include "criu_image.h"
#include "migtcp.h"
#include "plugin.h"

/*
 * Exported by the criu binary.  Weak, so that the library also loads
 * where they do not exist (programs criu starts before the bridge takes
 * itself out of LD_PRELOAD).
 */
extern void print_on_level(unsigned int loglevel, const char *format, ...)
	__attribute__((weak, format(printf, 2, 3)));
#pragma weak criu_get_image_dir

#define FREEZE_WAIT_MS		2000	/* for a handshake to finish */
#define CKPT_FIRST_SIZE		65536

bool mig_log_off;
static struct mig_frozen *frozen;
static int nr_frozen, max_frozen;

void mig_log(unsigned int level, const char *fmt, ...)
{
	int saved = errno;
	char msg[512];
	va_list ap;

	if (mig_log_off)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (print_on_level)
		print_on_level(level, "migtcp-criu: %s\n", msg);
	else
		fprintf(stderr, "migtcp-criu: %s\n", msg);
	errno = saved;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static const char *migration_errstr(int err)
{
	switch (err) {
	case EPERM:
		return "not permitted: migration needs CAP_NET_ADMIN and CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) over the socket's network namespace";
	case ENOPROTOOPT:
		return "the loaded migtcp module has no migration support";
	default:
		return strerror(err);
	}
}

static int socket_freeze(int fd, int id)
{
	int hold_ms = 0, waited;

	for (waited = 0;; waited += 10) {
		if (!setsockopt(fd, SOL_MIGTCP, MIGTCP_FREEZE, &hold_ms,
				sizeof(hold_ms)))
			return 0;
		/* EAGAIN: a handshake is running; it ends in the kernel. */
		if (errno != EAGAIN || waited >= FREEZE_WAIT_MS)
			break;
		sleep_ms(10);
	}
	if (errno == EAGAIN)
		mig_log(MIG_LOG_ERROR, "socket %#x: its handshake did not finish within %d ms, cannot freeze it",
			id, FREEZE_WAIT_MS);
	else if (errno == EALREADY)
		mig_log(MIG_LOG_ERROR, "socket %#x is frozen already (another dump of it running?)",
			id);
	else
		mig_log(MIG_LOG_ERROR, "socket %#x: MIGTCP_FREEZE: %s", id,
			migration_errstr(errno));
	return -1;
}

int mig_thaw(int fd, int id)
{
	if (!setsockopt(fd, SOL_MIGTCP, MIGTCP_THAW, NULL, 0))
		return 0;
	mig_log(MIG_LOG_ERROR, "socket %#x: MIGTCP_THAW: %s", id,
		migration_errstr(errno));
	return -1;
}

static int remember_frozen(int fd, int id, ino_t ino)
{
	struct mig_frozen *n;
	int dup_fd;

	if (nr_frozen == max_frozen) {
		int max = max_frozen ? 2 * max_frozen : 8;

		n = reallocarray(frozen, max, sizeof(*n));
		if (!n)
			return -1;
		frozen = n;
		max_frozen = max;
	}
	/* CRIU closes FD after this hook; thawing needs the socket later. */
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0)
		return -1;
	frozen[nr_frozen++] = (struct mig_frozen){
		.fd = dup_fd, .id = id, .ino = ino,
	};
	return 0;
}

/* The checkpoint of frozen socket FD, grown until it fits; NULL on error. */
static void *socket_checkpoint(int fd, int id, socklen_t *len)
{
	socklen_t size = CKPT_FIRST_SIZE, got;
	void *buf = NULL, *n;
	int tries;

	for (tries = 0; tries < 4; tries++) {
		n = realloc(buf, size);
		if (!n) {
			mig_log(MIG_LOG_ERROR, "socket %#x: no memory for a %u-byte checkpoint",
				id, size);
			break;
		}
		buf = n;
		got = size;
		if (!getsockopt(fd, SOL_MIGTCP, MIGTCP_CHECKPOINT, buf, &got)) {
			*len = got;
			return buf;
		}
		if (errno != ERANGE) {
			mig_log(MIG_LOG_ERROR, "socket %#x: MIGTCP_CHECKPOINT: %s",
				id, migration_errstr(errno));
			break;
		}
		/* The kernel said how much it needs. */
		if (got <= size) {
			mig_log(MIG_LOG_ERROR, "socket %#x: MIGTCP_CHECKPOINT said ERANGE but needs only %u bytes of %u",
				id, got, size);
			break;
		}
		size = got;
	}
	if (tries == 4)
		mig_log(MIG_LOG_ERROR, "socket %#x: the checkpoint kept growing", id);
	free(buf);
	return NULL;
}

static uint64_t timeval_us(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000 + tv->tv_usec;
}

static int get_int_opt(int fd, int opt, uint32_t *val)
{
	socklen_t len = sizeof(int);
	int v;

	if (getsockopt(fd, SOL_SOCKET, opt, &v, &len))
		return -1;
	*val = v;
	return 0;
}

/* What the image keeps beside the checkpoint. */
static int socket_opts(int fd, int id, struct migtcp_img_opts *o)
{
	struct timeval rcv, snd;
	struct linger lg;
	socklen_t len;
	uint32_t reuse;
	int flags;

	memset(o, 0, sizeof(*o));
	o->family = mig_family();
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		goto fail;
	o->file_flags = flags;
	len = sizeof(rcv);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, &len))
		goto fail;
	len = sizeof(snd);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, &len))
		goto fail;
	o->rcvtimeo_us = timeval_us(&rcv);
	o->sndtimeo_us = timeval_us(&snd);
	len = sizeof(lg);
	if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len))
		goto fail;
	o->linger = lg.l_onoff;
	o->linger_s = lg.l_linger;
	if (get_int_opt(fd, SO_RCVLOWAT, &o->rcvlowat) ||
	    get_int_opt(fd, SO_PRIORITY, &o->priority) ||
	    get_int_opt(fd, SO_MARK, &o->mark) ||
	    get_int_opt(fd, SO_REUSEADDR, &reuse))
		goto fail;
	o->reuseaddr = !!reuse;
	return 0;
fail:
	mig_log(MIG_LOG_ERROR, "socket %#x: cannot read its options: %s", id,
		strerror(errno));
	return -1;
}

static int write_all(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf = (const char *)buf + n;
		len -= n;
	}
	return 0;
}

static int write_image(int id, const struct migtcp_img_opts *opts,
		       const void *ckpt, uint32_t ckpt_len)
{
	char name[64], prefix[MIGTCP_IMG_PREFIX_MAX];
	size_t prefix_len;
	int dirfd, fd;

	snprintf(name, sizeof(name), MIGTCP_IMG_PREFIX "%u" MIGTCP_IMG_SUFFIX,
		 (unsigned int)id);
	dirfd = criu_get_image_dir();
	/* The image holds the connection's keys: for root's eyes only. */
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		mig_log(MIG_LOG_ERROR, "cannot create %s in the image directory: %s",
			name, strerror(errno));
		return -1;
	}
	prefix_len = migtcp_img_build_prefix(prefix, opts, ckpt_len);
	if (write_all(fd, prefix, prefix_len) ||
	    write_all(fd, ckpt, ckpt_len) || close(fd)) {
		mig_log(MIG_LOG_ERROR, "cannot write %s: %s", name,
			strerror(errno));
		close(fd);
		unlinkat(dirfd, name, 0);
		return -1;
	}
	mig_log(MIG_LOG_INFO, "socket %#x: %u-byte checkpoint written to %s",
		id, ckpt_len, name);
	return 0;
}

static int migtcp_dump_ext_file(int fd, int id)
{
	struct migtcp_img_opts opts;
	socklen_t ckpt_len = 0;
	struct stat st;
	char err[256];
	void *ckpt;
	int ret;

	if (!mig_is_socket(fd))
		return -ENOTSUP;	/* a real device: not ours */
	if (fstatat(fd, "", &st, AT_EMPTY_PATH))
		return -errno;
	if (socket_freeze(fd, id))
		return -1;
	if (remember_frozen(fd, id, st.st_ino)) {
		mig_log(MIG_LOG_ERROR, "socket %#x: cannot keep it to thaw later: %s",
			id, strerror(errno));
		mig_thaw(fd, id);
		return -1;
	}
	ckpt = socket_checkpoint(fd, id, &ckpt_len);
	if (!ckpt)
		return -1;	/* thawed at the end: fini sees the failure */
	ret = -1;
	if (migtcp_ckpt_check_hdr(ckpt, ckpt_len, err, sizeof(err)))
		mig_log(MIG_LOG_ERROR, "socket %#x: the kernel's checkpoint is not valid: %s",
			id, err);
	else if (!socket_opts(fd, id, &opts))
		ret = write_image(id, &opts, ckpt, ckpt_len);
	free(ckpt);
	return ret;
}

static int restore_opts(int fd, int id, const struct migtcp_img_opts *o)
{
	struct timeval rcv = {
		.tv_sec = o->rcvtimeo_us / 1000000,
		.tv_usec = o->rcvtimeo_us % 1000000,
	};
	struct timeval snd = {
		.tv_sec = o->sndtimeo_us / 1000000,
		.tv_usec = o->sndtimeo_us % 1000000,
	};
	struct linger lg = { .l_onoff = o->linger, .l_linger = o->linger_s };
	int lowat = o->rcvlowat, prio = o->priority, mark = o->mark;
	int reuse = o->reuseaddr, flags;
	const char *what;

	what = "SO_RCVTIMEO";
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv)))
		goto fail;
	what = "SO_SNDTIMEO";
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd)))
		goto fail;
	what = "SO_LINGER";
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		goto fail;
	what = "SO_RCVLOWAT";
	if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)))
		goto fail;
	what = "SO_PRIORITY";
	if (setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)))
		goto fail;
	/* Setting a mark needs CAP_NET_ADMIN even to set 0: only if set. */
	what = "SO_MARK";
	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)))
		goto fail;
	what = "SO_REUSEADDR";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse)))
		goto fail;
	/*
	 * CRIU restores descriptor flags and the owner of external files,
	 * but not their status flags: O_NONBLOCK is ours to put back.
	 */
	what = "O_NONBLOCK";
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 ||
	    fcntl(fd, F_SETFL, (flags & ~O_NONBLOCK) |
				(o->file_flags & O_NONBLOCK)))
		goto fail;
	return 0;
fail:
	mig_log(MIG_LOG_ERROR, "socket %#x: cannot restore %s: %s", id, what,
		strerror(errno));
	return -1;
}

static const char *restore_errstr(int err)
{
	switch (err) {
	case EINVAL:
		return "the kernel refused the checkpoint (the kernel log says which check failed)";
	case EADDRINUSE:
		return "the endpoint already lives on this node";
	case EISCONN:
		return "the new socket is bound or connected already";
	default:
		return migration_errstr(err);
	}
}

/*
 * CRIU 3.17 calls this hook with the id only; CRIU 4 added
 * "bool *retry_needed", for plugins that must wait for other files.
 * A socket never has to wait, so RETRY_NEEDED is never read or written:
 * under 3.17 it is not an argument at all.
 */
static int migtcp_restore_ext_file(int id, bool *retry_needed)
{
	struct migtcp_img img;
	char name[64], err[256];
	int dirfd, family, fd;

	(void)retry_needed;
	snprintf(name, sizeof(name), MIGTCP_IMG_PREFIX "%u" MIGTCP_IMG_SUFFIX,
		 (unsigned int)id);
	dirfd = criu_get_image_dir();
	if (faccessat(dirfd, name, F_OK, 0) && errno == ENOENT)
		return -ENOTSUP;	/* another plugin's file */
	if (migtcp_img_read(dirfd, name, &img, err, sizeof(err))) {
		mig_log(MIG_LOG_ERROR, "%s: %s", name, err);
		return -EINVAL;
	}
	family = mig_family();
	if (family < 0) {
		mig_log(MIG_LOG_ERROR, "%s: the migtcp module is not loaded on this node",
			name);
		fd = -ENOENT;
		goto out;
	}
	if ((uint32_t)family != img.opts.family)
		mig_log(MIG_LOG_INFO, "%s: dumped with family %u, restored with family %d",
			name, img.opts.family, family);
	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0) {
		fd = -errno;
		mig_log(MIG_LOG_ERROR, "%s: socket(%d, SOCK_STREAM): %s", name,
			family, strerror(-fd));
		goto out;
	}
	if (setsockopt(fd, SOL_MIGTCP, MIGTCP_RESTORE, img.ckpt, img.ckpt_len)) {
		int errnum = errno;

		mig_log(MIG_LOG_ERROR, "%s: MIGTCP_RESTORE: %s", name,
			restore_errstr(errnum));
		close(fd);
		fd = -errnum;
		goto out;
	}
	if (restore_opts(fd, id, &img.opts)) {
		close(fd);
		fd = -EINVAL;
		goto out;
	}
	mig_log(MIG_LOG_INFO, "socket %#x restored from %s", id, name);
out:
	migtcp_img_free(&img);
	return fd;
}

static int migtcp_init(int stage)
{
	(void)stage;
	return 0;
}

static void forget_frozen(void)
{
	int i;

	for (i = 0; i < nr_frozen; i++)
		close(frozen[i].fd);
	free(frozen);
	frozen = NULL;
	nr_frozen = max_frozen = 0;
}

static void migtcp_fini(int stage, int ret)
{
	int i;

	if (stage != CR_PLUGIN_STAGE__DUMP || !nr_frozen) {
		forget_frozen();
		return;
	}
	if (ret) {
		mig_log(MIG_LOG_INFO, "the dump failed: thawing %d socket(s)",
			nr_frozen);
		for (i = 0; i < nr_frozen; i++)
			mig_thaw(frozen[i].fd, frozen[i].id);
	} else if (mig_watch_start(frozen, nr_frozen)) {
		mig_log(MIG_LOG_ERROR, "no watcher: if CRIU lets the process run on, its %d socket(s) stay frozen until the migration timeout",
			nr_frozen);
	}
	forget_frozen();
}

CR_PLUGIN_REGISTER("migtcp", migtcp_init, migtcp_fini)
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__DUMP_EXT_FILE, migtcp_dump_ext_file)
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__RESTORE_EXT_FILE, migtcp_restore_ext_file)
