#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install, and migtcp used from where it installs: the layout that
# "make install DESTDIR=… PREFIX=/usr" gives (exact files and modes), an
# uninstall that removes all of it, an install that fails before changing
# anything, the installed module loaded, and the installed migtcpctl,
# migtcp-run and migtcp-criu (with the plugin and preload library they
# find from their own directory) driving a cluster, a preloaded iperf3
# and a CRIU migration, with a PATH that has nothing of the build tree.
#
# Needs the source tree the tests were built from (tools/install and
# build/): skipped in an installed kselftest tree.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$here/lib.sh"
top=$(cd "$here/.." && pwd)
install=$top/tools/install
kver=$(uname -r)

[ "$(id -u)" -eq 0 ] || skip_all "must run as root"
[ -x "$install" ] || skip_all "no source tree (tools/install) beside the tests"
[ -f "$top/build/kbuild/$kver/migtcp.ko" ] ||
	skip_all "no migtcp.ko built for $kver in $top/build/kbuild"
[ -e /sys/module/migtcp ] || skip_all "the migtcp module is not loaded"
ko=${MIGTCP_KO:-$top/build/kbuild/$kver/migtcp.ko}

tmp=$(mktemp -d /tmp/migtcp_install_test.XXXXXX) || exit 1
root=$tmp/root
cleanup() {
	rm -rf "$tmp"
}
trap cleanup EXIT

# install_into DIR ACTION: tools/install as "make install DESTDIR=DIR
# PREFIX=/usr" runs it (a distribution's layout), for this kernel.
install_into() {
	env DESTDIR="$1" PREFIX=/usr UNITDIR=/lib/systemd/system \
		"$install" "$2" "$kver"
}

# The files of DIR as "MODE PATH", sorted.
tree_of() {
	(cd "$1" && find . -type f -printf '%m %P\n' | sort)
}

test_layout() {
	local want got
	install_into "$root" install >"$tmp/out" 2>&1 ||
		{ diag "install failed:" "$(cat "$tmp/out")"; return 1; }
	want=$(sort <<EOF
644 etc/modprobe.d/migtcp.conf
644 lib/modules/$kver/updates/migtcp.ko
644 lib/systemd/system/migtcp.service
644 usr/include/linux/migtcp.h
755 usr/bin/migtcp-criu
755 usr/bin/migtcp-run
644 usr/lib/criu/libmigtcp-criu.so
644 usr/lib/migtcp/libmigtcp-preload.so
755 usr/sbin/migtcpctl
644 usr/share/bash-completion/completions/migtcpctl
644 usr/share/man/man1/migtcp-criu.1
644 usr/share/man/man1/migtcp-run.1
644 usr/share/man/man7/migtcp.7
644 usr/share/man/man8/migtcpctl.8
EOF
)
	got=$(tree_of "$root")
	if [ "$got" != "$want" ]; then
		diag "installed:" "$got" "expected:" "$want"
		return 1
	fi
	# The unit runs the installed migtcpctl; nothing installed names
	# the build tree.
	grep -qx 'ExecStart=/usr/sbin/migtcpctl load /etc/migtcp/cluster.json' \
		"$root/lib/systemd/system/migtcp.service" ||
		{ diag "migtcp.service:" "$(cat "$root/lib/systemd/system/migtcp.service")"; return 1; }
	if grep -rlF "$top" "$root/usr/bin" "$root/lib/systemd" "$root/etc"; then
		diag "the files above name the build tree $top"
		return 1
	fi
	# The same module as the build, and one this kernel takes.
	local mod=$root/lib/modules/$kver/updates/migtcp.ko
	if ! cmp -s "$ko" "$mod" ||
	   [ "$(modinfo -F vermagic "$mod" | cut -d' ' -f1)" != "$kver" ]; then
		diag "the installed module is not $ko, or not for $kver"
		return 1
	fi
	# The bash completion completes migtcpctl's objects.
	bash -c '. /usr/share/bash-completion/bash_completion 2>/dev/null || _init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
		. "$1"; COMP_WORDS=(migtcpctl pe); COMP_CWORD=1
		COMP_LINE="migtcpctl pe"; COMP_POINT=${#COMP_LINE}; _migtcpctl; echo "${COMPREPLY[*]}"' \
		_ "$root/usr/share/bash-completion/completions/migtcpctl" >"$tmp/out" 2>&1
	[ "$(cat "$tmp/out")" = peer ] ||
		{ diag "completion of 'migtcpctl pe': $(cat "$tmp/out")"; return 1; }
}

# Installing again over an installed tree is fine; uninstall removes
# every file install put there.
test_uninstall() {
	local again=$tmp/again
	if ! { install_into "$again" install &&
	       install_into "$again" install &&
	       install_into "$again" uninstall; } >"$tmp/out" 2>&1; then
		diag "$(cat "$tmp/out")"
		return 1
	fi
	if [ -n "$(tree_of "$again")" ]; then
		diag "left after uninstall:" "$(tree_of "$again")"
		return 1
	fi
}

# A missing build output stops the install before it writes anything.
test_install_nothing_on_error() {
	local dest=$tmp/partial
	if BUILD=$tmp/nobuild install_into "$dest" install >"$tmp/out" 2>&1; then
		diag "install without a build succeeded"
		return 1
	fi
	grep -q "is missing: run 'make' first" "$tmp/out" ||
		{ diag "install said: $(cat "$tmp/out")"; return 1; }
	[ ! -e "$dest" ] || { diag "it wrote:" "$(tree_of "$dest")"; return 1; }
}

# reload_module KO: the module from KO, as vm_check.sh loads it.
reload_module() {
	wait_unused 30 || { diag "the module is still in use"; return 1; }
	{ [ ! -e /sys/module/migtcp ] || rmmod migtcp; } && insmod "$1" &&
		echo 2 >/sys/module/migtcp/parameters/timewait_secs
}

# The installed module loads and serves; the build's is back after.
test_installed_module() {
	local rc=0
	reload_module "$root/lib/modules/$kver/updates/migtcp.ko" ||
		{ diag "cannot load the installed module"; rc=1; }
	[ "$rc" = 1 ] || grep -q '^migtcp ' /proc/modules || rc=1
	reload_module "$ko" || { diag "cannot load $ko again"; return 1; }
	return "$rc"
}

# The installed tools, from where they installed: criu_test.sh's cluster
# (migtcpctl load) and its migration of a preloaded iperf3 server
# mid-test (migtcp-run, migtcp-criu), with every tool taken from the
# installed tree and a PATH without build/.
test_installed_tools() {
	local path=$root/usr/sbin:$root/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin
	env PATH="$path" \
		MIGTCP_CTL="$root/usr/sbin/migtcpctl" \
		MIGTCP_RUN="$root/usr/bin/migtcp-run" \
		MIGTCP_CRIU="$root/usr/bin/migtcp-criu" \
		MIGTCP_CRIU_PLUGIN_DIR= MIGTCP_PRELOAD_LIB= \
		MIGTCP_CRIU_TESTS="test_cluster,test_iperf 7950" \
		"$here/criu_test.sh" >"$tmp/criu.tap" 2>&1
	local rc=$?
	diag "$(sed 's/^/  /' "$tmp/criu.tap")"
	# Both picked entries ran: a filter that matched nothing passes.
	grep -qx '1\.\.2' "$tmp/criu.tap" || { diag "not the 2 tests picked"; return 1; }
	return "$rc"
}

tests=(
	"test_layout|make install DESTDIR= PREFIX=/usr: exactly the files and modes of the layout"
	"test_uninstall|make uninstall removes every installed file; installing twice is fine"
	"test_install_nothing_on_error|an install missing a build output fails and writes nothing"
	"test_installed_module|the installed migtcp.ko loads"
	"test_installed_tools|installed migtcpctl, migtcp-run, migtcp-criu: a cluster, a preloaded iperf3 server migrated mid-test"
)

run_tests "${tests[@]}"
