/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libmigtcp-criu.so: the CRIU plugin for AF_MIGTCP sockets (plugin.c),
 * the watcher that thaws sockets when CRIU lets the dumped process run on
 * (watch.c) and the fstat bridge that hands AF_MIGTCP sockets to the
 * plugin (bridge.c).  See docs/criu.md.
 */
#ifndef MIGTCP_CRIU_PLUGIN_H
#define MIGTCP_CRIU_PLUGIN_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * CRIU's log levels (criu/include/log.h; criu.h of the criu package
 * names them CRIU_LOG_*).
 */
#define MIG_LOG_ERROR	1
#define MIG_LOG_WARN	2
#define MIG_LOG_INFO	3
#define MIG_LOG_DEBUG	4

/*
 * "migtcp-criu: MESSAGE" to CRIU's log, or to stderr outside CRIU.
 * Preserves errno.
 */
void mig_log(unsigned int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Set in the watcher when it has no log to write to. */
extern bool mig_log_off;

/* The family of AF_MIGTCP in use (module parameter), or -1. */
int mig_family(void);

/*
 * True if FD is an AF_MIGTCP socket.  Looks through the bridge: uses the
 * real file type, not what the overridden fstat() says.
 */
bool mig_is_socket(int fd);

/* A frozen socket: CRIU's file id and our duplicate of its descriptor. */
struct mig_frozen {
	int fd;
	int id;
	ino_t ino;
};

/* setsockopt(MIGTCP_THAW) on FD; logs and returns -1 on failure. */
int mig_thaw(int fd, int id);

/*
 * Called at the end of a dump that succeeded so far, with the sockets
 * frozen and checkpointed: CRIU may still let the dumped processes run
 * (--leave-running, a failing post-dump action script), which it decides
 * after its plugins are finished.  Starts a process that keeps
 * duplicates of the sockets, waits until CRIU releases the processes
 * that hold them, and thaws the sockets if they run on; if they were
 * killed (the usual migration), it just closes its duplicates.  Returns
 * 0, or -1 if no watcher could be started (the sockets stay frozen).
 */
int mig_watch_start(const struct mig_frozen *socks, int nr);

#endif /* MIGTCP_CRIU_PLUGIN_H */
