// SPDX-License-Identifier: GPL-2.0
/*
 * The watcher: decides, after CRIU has finished, whether the sockets of
 * a dump go on here (thaw them) or live on where they are restored.
 *
 * CRIU calls its plugins' fini (with the dump's result) before it runs
 * the post-dump action script and before it decides the fate of the
 * dumped processes: a failing post-dump script, --leave-running (also
 * from a configuration file or over RPC) or a crash of criu itself let
 * them run on, with sockets the plugin froze.  None of that is visible
 * to a plugin, but all of it is visible afterwards in the processes:
 *
 *   - CRIU kills the processes of a finished migration with SIGKILL
 *     before it lets go of them (ptrace detach);
 *   - it lets go of processes that run on without a signal.
 *
 * So the watcher, a process that keeps duplicates of the frozen
 * sockets and pidfds of the processes holding them, polls these
 * processes until each is either gone (migrated: close the duplicates;
 * the checkpointed sockets close without FIN or RST) or no longer
 * traced, not exiting and without SIGKILL pending for a few polls in a
 * row (running on: thaw the sockets).
 *
 * A holder stopped and no longer traced (criu dump --leave-stopped) is
 * neither: it waits to be killed once it is restored elsewhere, or
 * continued if that failed (migtcp-migrate does both), so the watcher
 * waits with it, its sockets frozen.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plugin.h"

/* Exported by the criu binary: the descriptor its log goes to. */
extern int log_get_fd(void) __attribute__((weak));

#define MAX_HOLDERS	64	/* processes; sockets are not limited */
#define POLL_MS		20
/* Polls in a row that must see a holder running before the thaw. */
#define RUNNING_CONFIRM	3
#define PF_EXITING	0x00000004	/* include/linux/sched.h */
#define SIGKILL_BIT	(1ULL << (SIGKILL - 1))

struct holder {
	pid_t pid;
	int pidfd;	/* -1 once the process is gone */
};

enum holder_state {
	HOLDER_GONE, HOLDER_TRACED, HOLDER_DYING, HOLDER_STOPPED, HOLDER_RUNNING
};

static int pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static bool holds_socket(int pid_dirfd, const struct mig_frozen *socks, int nr)
{
	char link[64];
	struct dirent *de;
	bool found = false;
	unsigned long ino;
	DIR *fds;
	ssize_t n;
	int i, fdfd;

	fdfd = openat(pid_dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fdfd < 0)
		return false;
	fds = fdopendir(fdfd);
	if (!fds) {
		close(fdfd);
		return false;
	}
	while (!found && (de = readdir(fds))) {
		n = readlinkat(fdfd, de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) != 1)
			continue;
		for (i = 0; i < nr; i++)
			if (socks[i].ino == ino)
				found = true;
	}
	closedir(fds);
	return found;
}

/* The processes other than criu that hold one of the sockets. */
static int find_holders(const struct mig_frozen *socks, int nr,
			struct holder *h)
{
	pid_t self = getpid(), pid;
	struct dirent *de;
	int nh = 0, pid_dir;
	DIR *proc;

	proc = opendir("/proc");
	if (!proc)
		return -1;
	while ((de = readdir(proc)) && nh < MAX_HOLDERS) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (pid == self)
			continue;
		pid_dir = openat(dirfd(proc), de->d_name,
				 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pid_dir < 0)
			continue;
		if (holds_socket(pid_dir, socks, nr)) {
			h[nh].pid = pid;
			h[nh].pidfd = pidfd_open(pid);
			if (h[nh].pidfd >= 0)
				nh++;
		}
		close(pid_dir);
	}
	closedir(proc);
	return nh;
}

static bool pidfd_exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static int read_proc(pid_t pid, const char *file, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The "flags" field of /proc/PID/stat (the 9th; comm may hold spaces). */
static bool stat_exiting(const char *stat)
{
	const char *p = strrchr(stat, ')');
	unsigned long flags;

	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & PF_EXITING;
}

static enum holder_state holder_state(const struct holder *h)
{
	char status[4096], stat[1024], *line;
	unsigned long long pending = 0, v;
	int tracer = 0;
	char state = '?';

	if (pidfd_exited(h->pidfd) ||
	    read_proc(h->pid, "status", status, sizeof(status)) ||
	    read_proc(h->pid, "stat", stat, sizeof(stat)))
		return HOLDER_GONE;
	/* The pid cannot have been reused while the pidfd says "alive". */
	if (pidfd_exited(h->pidfd))
		return HOLDER_GONE;
	for (line = strtok(status, "\n"); line; line = strtok(NULL, "\n")) {
		if (sscanf(line, "State: %c", &state) == 1)
			continue;
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			continue;
		if (sscanf(line, "SigPnd: %llx", &v) == 1 ||
		    sscanf(line, "ShdPnd: %llx", &v) == 1)
			pending |= v;
	}
	if (state == 'Z' || state == 'X')
		return HOLDER_GONE;	/* its descriptors are closed */
	if ((pending & SIGKILL_BIT) || stat_exiting(stat))
		return HOLDER_DYING;
	if (tracer)
		return HOLDER_TRACED;
	if (state == 'T')
		return HOLDER_STOPPED;
	return HOLDER_RUNNING;
}

static void watch(const struct mig_frozen *socks, int nr, struct holder *h,
		  int nh)
{
	struct pollfd pfd[MAX_HOLDERS];
	int i, alive, running, confirmed = 0;

	for (;;) {
		alive = running = 0;
		for (i = 0; i < nh; i++) {
			enum holder_state st;

			if (h[i].pidfd < 0)
				continue;
			st = holder_state(&h[i]);
			if (st == HOLDER_GONE) {
				close(h[i].pidfd);
				h[i].pidfd = -1;
				continue;
			}
			alive++;
			if (st == HOLDER_RUNNING)
				running++;
		}
		if (!alive) {
			mig_log(MIG_LOG_INFO, "watcher: the dumped process is gone; its %d socket(s) live on where they are restored",
				nr);
			return;
		}
		confirmed = running ? confirmed + 1 : 0;
		if (confirmed >= RUNNING_CONFIRM) {
			mig_log(MIG_LOG_INFO, "watcher: the dumped process runs on (--leave-running, continued after --leave-stopped, or the dump failed after the plugin): thawing %d socket(s)",
				nr);
			for (i = 0; i < nr; i++)
				mig_thaw(socks[i].fd, socks[i].id);
			return;
		}
		for (i = 0; i < nh; i++)
			pfd[i] = (struct pollfd){ .fd = h[i].pidfd, .events = POLLIN };
		poll(pfd, nh, POLL_MS);
	}
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Closes every descriptor but the KEEP ones, sorted in place. */
static void close_all_but(int *keep, int nkeep)
{
	unsigned int from = 0;
	int i;

	qsort(keep, nkeep, sizeof(*keep), cmp_int);
	for (i = 0; i < nkeep; i++) {
		if ((unsigned int)keep[i] > from)
			close_range(from, keep[i] - 1, 0);
		from = keep[i] + 1;
	}
	close_range(from, ~0U, 0);
}

/* The watcher process: detach from criu, then watch; never returns. */
static void __attribute__((noreturn))
watcher_main(const struct mig_frozen *socks, int nr, struct holder *h, int nh)
{
	int *keep, nkeep = 0, log_fd = -1, i, fd;
	struct stat st;
	sigset_t all;

	keep = malloc((nr + nh + 1) * sizeof(*keep));
	if (!keep)
		_exit(1);

	setsid();
	prctl(PR_SET_NAME, "migtcp-criu-w");
	sigfillset(&all);
	for (i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	if (chdir("/"))
		_exit(1);

	/* Keep CRIU's log if it is a file; nothing else of criu's. */
	if (log_get_fd)
		log_fd = log_get_fd();
	if (log_fd >= 0 && !fstatat(log_fd, "", &st, AT_EMPTY_PATH) &&
	    S_ISREG(st.st_mode))
		keep[nkeep++] = log_fd;
	else
		mig_log_off = true;	/* its descriptor is about to close */
	for (i = 0; i < nr; i++)
		keep[nkeep++] = socks[i].fd;
	for (i = 0; i < nh; i++)
		keep[nkeep++] = h[i].pidfd;
	close_all_but(keep, nkeep);
	free(keep);
	/* Standard streams on /dev/null: a pipe of criu's caller stays free. */
	fd = open("/dev/null", O_RDWR);
	for (i = 0; fd >= 0 && i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	if (fd > 2)
		close(fd);

	watch(socks, nr, h, nh);
	_exit(0);
}

int mig_watch_start(const struct mig_frozen *socks, int nr)
{
	struct holder h[MAX_HOLDERS];
	int nh, i, status = 0;
	long pid;

	nh = find_holders(socks, nr, h);
	if (nh < 0) {
		mig_log(MIG_LOG_ERROR, "watcher: cannot read /proc: %s",
			strerror(errno));
		return -1;
	}
	if (!nh) {
		mig_log(MIG_LOG_WARN, "watcher: no process holds the dumped sockets any more");
		return 0;
	}
	/*
	 * The watcher must not be criu's child: criu waits for the dumped
	 * tasks with __WALL and calls any other child a BUG.  So an
	 * intermediate child, cloned without an exit signal (criu gets no
	 * SIGCHLD for it) and reaped here at once, forks the watcher and
	 * exits; whoever inherits the watcher (init or a subreaper) reaps it.
	 */
	pid = syscall(SYS_clone, 0UL, NULL, NULL, NULL, NULL);
	if (pid == 0) {
		pid_t w = fork();

		if (w == 0)
			watcher_main(socks, nr, h, nh);
		_exit(w < 0 ? 1 : 0);
	}
	for (i = 0; i < nh; i++)
		close(h[i].pidfd);
	if (pid < 0) {
		mig_log(MIG_LOG_ERROR, "watcher: clone: %s", strerror(errno));
		return -1;
	}
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		mig_log(MIG_LOG_ERROR, "watcher: cannot fork it");
		return -1;
	}
	mig_log(MIG_LOG_INFO, "watcher started: it watches %d process(es) holding %d frozen socket(s)",
		nh, nr);
	return 0;
}
