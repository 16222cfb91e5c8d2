#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install and the Debian packages, and migtcp used from where they
# install: the layout that "make install DESTDIR=… PREFIX=/usr" gives
# (exact files and modes), an uninstall that removes all of it, an install
# that fails before changing anything, the installed module loaded; the
# exact contents of the three packages of make deb (build/deb/, built by
# make check before the guests boot), unpacked into a staging root; the
# commands of their migtcp.service configuring two nodes, and its reload
# applying a changed cluster file without disturbing a live connection;
# the packaged migtcpctl, migtcp-run and migtcp-criu (with the plugin and
# preload library they find from their own directory) driving a cluster,
# a preloaded iperf3 and a CRIU migration, with a PATH that has nothing
# of the build tree.
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
version=$(cat "$top/VERSION")
debs=$top/build/deb
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3

tmp=$(mktemp -d /tmp/migtcp_install_test.XXXXXX) || exit 1
root=$tmp/root
debroot=$tmp/debroot
ns=min$$
sw=$ns-sw
key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
feed=
cleanup() {
	[ -z "$feed" ] || exec {feed}>&-
	kill_started
	wait 2>/dev/null
	del_nodes
	ip netns del "$sw" 2>/dev/null
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

# deb_files PACKAGE: the files (and links) of build/deb's PACKAGE but
# its /usr/share/doc, as "MODE PATH", sorted.
deb_files() {
	dpkg-deb -c "$debs/${1}_${version}_"*.deb |
		awk '$1 !~ /^d/ { p = $6; sub(/^\.\//, "", p); print $1, p }' |
		grep -v ' usr/share/doc/' | sort
}

# expect_deb PACKAGE FILE…: PACKAGE holds exactly the regular files FILE
# ("MODE PATH" each).
expect_deb() {
	local p=$1 want got
	shift
	want=$(printf '%s\n' "$@" | sort)
	got=$(deb_files "$p")
	[ "$got" = "$want" ] || { diag "$p has:" "$got" "expected:" "$want"; return 1; }
}

# The three packages hold exactly what they should; unpacked, they are the
# staging root of the next tests.  migtcp-dkms has the module's sources and
# a dkms.conf of this version, and its postinst registers them with DKMS.
test_deb_contents() {
	local p f src=usr/src/migtcp-$version dkms_files=()
	for p in migtcp-dkms migtcp-tools migtcp-criu; do
		compgen -G "$debs/${p}_${version}_*.deb" >/dev/null ||
			{ diag "no $p $version package in $debs (make deb)"; return 1; }
	done
	expect_deb migtcp-tools \
		"-rw-r--r-- etc/modprobe.d/migtcp.conf" \
		"-rw-r--r-- lib/systemd/system/migtcp.service" \
		"-rw-r--r-- usr/include/linux/migtcp.h" \
		"-rw-r--r-- usr/lib/migtcp/libmigtcp-preload.so" \
		"-rw-r--r-- usr/share/bash-completion/completions/migtcpctl" \
		"-rw-r--r-- usr/share/lintian/overrides/migtcp-tools" \
		"-rw-r--r-- usr/share/man/man1/migtcp-run.1.gz" \
		"-rw-r--r-- usr/share/man/man7/migtcp.7.gz" \
		"-rw-r--r-- usr/share/man/man8/migtcpctl.8.gz" \
		"-rwxr-xr-x usr/bin/migtcp-run" \
		"-rwxr-xr-x usr/sbin/migtcpctl" || return 1
	expect_deb migtcp-criu \
		"-rw-r--r-- usr/lib/criu/libmigtcp-criu.so" \
		"-rw-r--r-- usr/share/man/man1/migtcp-criu.1.gz" \
		"-rwxr-xr-x usr/bin/migtcp-criu" || return 1
	for f in "$top"/module/*.[ch]; do
		dkms_files+=("-rw-r--r-- $src/module/${f##*/}")
	done
	expect_deb migtcp-dkms "${dkms_files[@]}" \
		"-rw-r--r-- $src/Kbuild" "-rw-r--r-- $src/dkms.conf" \
		"-rw-r--r-- $src/include/uapi/linux/migtcp.h" || return 1
	mkdir -p "$debroot" "$tmp/ctl"
	for p in migtcp-dkms migtcp-tools migtcp-criu; do
		dpkg-deb -x "$debs/${p}_${version}_"*.deb "$debroot" &&
			dpkg-deb -e "$debs/${p}_${version}_"*.deb "$tmp/ctl/$p" || return 1
	done
	grep -qx "PACKAGE_VERSION=\"$version\"" "$debroot/$src/dkms.conf" ||
		{ diag "dkms.conf: $(grep VERSION "$debroot/$src/dkms.conf")"; return 1; }
	grep -q "dkms" "$tmp/ctl/migtcp-dkms/postinst" ||
		{ diag "migtcp-dkms's postinst does not run dkms"; return 1; }
}

# unit_cmd KEY: the command line of KEY= in the packaged migtcp.service,
# with the installed paths mapped into the staging root and the cluster
# file to $tmp/etc/cluster.json.
unit_cmd() {
	sed -n "s/^$1=//p" "$debroot/lib/systemd/system/migtcp.service" |
		sed "s|/usr/sbin/|$debroot/usr/sbin/|; s|/etc/migtcp/cluster.json|$tmp/etc/cluster.json|"
}

# cluster_file ID…: the cluster file, with the nodes ID at 192.0.2.ID.
cluster_file() {
	local id sep=""
	mkdir -p "$tmp/etc"
	echo "$key" >"$tmp/etc/cluster.key"
	chmod 600 "$tmp/etc/cluster.key"
	{
		printf '{"key-file": "cluster.key", "nodes": ['
		for id in "$@"; do
			printf '%s{"id": %d, "addr": "192.0.2.%d"}' "$sep" "$id" "$id"
			sep=", "
		done
		printf ']}\n'
	} >"$tmp/etc/cluster.json"
}

# An echo server (node 1) and a client (node 2), both plain TCP programs
# run by the packaged migtcp-run; the client sends each line of its input
# and prints "echo LINE" once the line came back.
ECHO_SERVER='
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7700))
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
while True:
    d = c.recv(65536)
    if not d:
        break
    c.sendall(d)
'
ECHO_CLIENT='
import socket, sys
c = socket.create_connection(("192.0.2.1", 7700))
print("connected", flush=True)
for line in sys.stdin:
    data = line.encode()
    c.sendall(data)
    got = b""
    while len(got) < len(data):
        got += c.recv(len(data) - len(got))
    print("echo", got.decode().strip(), flush=True)
'

# wait_line FILE LINE: until FILE has the line LINE (10 s).
wait_line() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qxF "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	diag "$(basename "$1") said: $(cat "$1" 2>/dev/null)" "expected the line: $2"
	return 1
}

# echo_failed: what the echo pair and the nodes say, for a failed test.
echo_failed() {
	local p
	for p in "${pids[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			diag "process $p runs: $(tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-60) $(grep State "/proc/$p/status")"
		else
			wait "$p"
			diag "process $p exited with status $?"
		fi
	done
	diag "server said: $(cat "$tmp/server")" "client said: $(cat "$tmp/client")" \
	     "node 1's sockets: $(at n1 "$debroot/usr/sbin/migtcpctl" sockets 2>&1)" \
	     "node 2's sockets: $(at n2 "$debroot/usr/sbin/migtcpctl" sockets 2>&1)"
	return 1
}

# The unit's commands make two namespaces nodes; its reload applies a
# cluster file without node 3 and with a new node 4 (one peer added, one
# deleted) and leaves peer 2, and the live connection to it, alone.
test_service_start_reload() {
	local i run=$debroot/usr/bin/migtcp-run ctl=$debroot/usr/sbin/migtcpctl
	local start reload
	[ "$(unit_cmd ExecStartPre)" = "/sbin/modprobe migtcp" ] ||
		{ diag "ExecStartPre is '$(unit_cmd ExecStartPre)'"; return 1; }
	read -r -a start <<<"$(unit_cmd ExecStart)"
	read -r -a reload <<<"$(unit_cmd ExecReload)"
	ip netns add "$sw" && ip -n "$sw" link add br0 type bridge &&
		ip -n "$sw" link set br0 up || return 1
	for i in 1 2; do
		new_node "n$i" && attach "n$i" "192.0.2.$i" || return 1
	done
	cluster_file 1 2 3
	for i in 1 2; do
		at "n$i" "${start[@]}" >"$tmp/start$i" 2>&1 ||
			{ diag "ExecStart on node $i: $(cat "$tmp/start$i")"; return 1; }
	done
	wait_line "$tmp/start1" "node 1 configured: 2 peers" || return 1
	at_bg n1 "$run" "$python" -c "$ECHO_SERVER" >"$tmp/server" 2>&1
	pids+=($!)
	wait_line "$tmp/server" listening || return 1
	# The client reads a FIFO this shell holds open (read-write, so that
	# neither open waits for the other end).  Not through at_bg: a
	# command put in the background without a redirection of its own
	# reads /dev/null.
	mkfifo "$tmp/feed"
	exec {feed}<>"$tmp/feed"
	nsenter --net="/run/netns/$ns-n2" "$run" "$python" -c "$ECHO_CLIENT" \
		<"$tmp/feed" >"$tmp/client" 2>&1 &
	pids+=($!)
	wait_line "$tmp/client" connected || return 1
	echo one >&"$feed"
	wait_line "$tmp/client" "echo one" || echo_failed || return 1
	# The connection is AF_MIGTCP, from node 2 to node 1.
	at n2 "$ctl" -j sockets >"$tmp/socks" &&
		json_check "[(s['state'], s['remote_node'], s['remote_port']) for s in j] == [('ESTABLISHED', 1, 7700)]" \
			"$tmp/socks" || return 1
	cluster_file 1 2 4
	for i in 1 2; do
		if ! at "n$i" "${reload[0]}" -j "${reload[@]:1}" >"$tmp/reload$i" 2>&1; then
			diag "ExecReload on node $i: $(cat "$tmp/reload$i")"
			return 1
		fi
		json_check "(j['added'], j['replaced'], j['deleted'], j['peers']) == (1, 0, 1, 2)" \
			"$tmp/reload$i" || return 1
	done
	at n1 "$ctl" -j peer >"$tmp/peers" &&
		json_check "j == [{'id': 2, 'addr': '192.0.2.2'}, {'id': 4, 'addr': '192.0.2.4'}]" "$tmp/peers" ||
		return 1
	echo two >&"$feed"
	wait_line "$tmp/client" "echo two" || echo_failed || return 1
	# The client's end of input closes the connection.
	exec {feed}>&-
	feed=
	kill_started
	pids=()
}

# The packaged tools, from where they install: criu_test.sh's cluster
# (migtcpctl load) and its migration of a preloaded iperf3 server
# mid-test (migtcp-run, migtcp-criu), with every tool taken from the
# unpacked packages and a PATH without build/.
test_installed_tools() {
	local path=$debroot/usr/sbin:$debroot/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin
	env PATH="$path" \
		MIGTCP_CTL="$debroot/usr/sbin/migtcpctl" \
		MIGTCP_RUN="$debroot/usr/bin/migtcp-run" \
		MIGTCP_CRIU="$debroot/usr/bin/migtcp-criu" \
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
	"test_deb_contents|make deb: exactly the files of migtcp-dkms, migtcp-tools and migtcp-criu"
	"test_service_start_reload|migtcp.service's commands configure nodes; reload adds and deletes peers, a live connection goes on"
	"test_installed_tools|packaged migtcpctl, migtcp-run, migtcp-criu: a cluster, a preloaded iperf3 server migrated mid-test"
)

run_tests "${tests[@]}"
