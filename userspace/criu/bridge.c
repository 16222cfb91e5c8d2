// SPDX-License-Identifier: GPL-2.0
/*
 * The bridge, active when libmigtcp-criu.so is LD_PRELOADed into criu.
 *
 * CRIU refuses sockets of families it does not know ("Unknown socket
 * collected" in dump_socket()) before it asks any plugin.  It does ask
 * its plugins (CR_PLUGIN_HOOK__DUMP_EXT_FILE) about character devices of
 * majors it does not know.  So fstat() here presents an AF_MIGTCP socket
 * as such a character device; every other descriptor passes through
 * untouched.  Debian 12's criu 3.17.1 imports fstat64 (glibc 2.33 and
 * later export it as a function; "nm -D /usr/sbin/criu"); fstat is
 * covered too.  The upstream change that makes this unnecessary is in
 * docs/criu.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "migtcp.h"
#include "plugin.h"

/*
 * Major 60 is reserved for local and experimental use
 * (Documentation/admin-guide/devices.txt) and never allocated
 * dynamically, and CRIU has no handler of its own for it.
 */
#define MIG_BRIDGE_MAJOR	60

int mig_family(void)
{
	static int family;	/* 0: not read yet */
	int f;

	if (!family) {
		f = migtcp_family();
		family = f > 0 ? f : -1;
	}
	return family;
}

static bool mig_is_socket_st(int fd, const struct stat *st)
{
	int domain, family, saved = errno;
	socklen_t len = sizeof(domain);
	bool ours;

	if (!S_ISSOCK(st->st_mode))
		return false;
	family = mig_family();
	ours = family > 0 &&
	       !getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) &&
	       domain == family;
	errno = saved;
	return ours;
}

bool mig_is_socket(int fd)
{
	struct stat st;

	return !fstatat(fd, "", &st, AT_EMPTY_PATH) && mig_is_socket_st(fd, &st);
}

static int bridge_fstat(int fd, struct stat *st)
{
	/* glibc's fstat is this call; fstatat is not overridden. */
	int ret = fstatat(fd, "", st, AT_EMPTY_PATH);

	if (!ret && mig_is_socket_st(fd, st)) {
		st->st_mode = (st->st_mode & ~S_IFMT) | S_IFCHR;
		st->st_rdev = makedev(MIG_BRIDGE_MAJOR, 0);
	}
	return ret;
}

/* On LP64 glibc, struct stat64 and struct stat are the same. */
_Static_assert(sizeof(struct stat64) == sizeof(struct stat),
	       "the bridge assumes an LP64 struct stat");

__attribute__((visibility("default")))
int fstat64(int fd, struct stat64 *st)
{
	return bridge_fstat(fd, (struct stat *)st);
}

__attribute__((visibility("default")))
int fstat(int fd, struct stat *st)
{
	return bridge_fstat(fd, st);
}

/*
 * CRIU runs action scripts, iptables and other programs: they have no
 * use for the bridge, so it leaves the environment criu passes on.
 */
static void __attribute__((constructor)) bridge_leave_environment(void)
{
	const char *preload = getenv("LD_PRELOAD");
	char *copy, *tok, *save, *out;
	size_t len;

	if (!preload || !strstr(preload, "libmigtcp-criu.so"))
		return;
	len = strlen(preload);
	copy = strdup(preload);
	out = calloc(1, len + 1);
	if (!copy || !out)
		goto out;
	for (tok = strtok_r(copy, ": ", &save); tok;
	     tok = strtok_r(NULL, ": ", &save)) {
		if (strstr(tok, "libmigtcp-criu.so"))
			continue;
		if (*out)
			strcat(out, ":");
		strcat(out, tok);
	}
	if (*out)
		setenv("LD_PRELOAD", out, 1);
	else
		unsetenv("LD_PRELOAD");
out:
	free(copy);
	free(out);
}
