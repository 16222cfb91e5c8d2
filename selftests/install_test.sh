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
# of the build tree; the packages installed with dpkg -i in a chroot over
# a writable overlay of the root, their maintainer scripts having DKMS
# build the module (loaded, where it is for the running kernel), and
# removed with dpkg -r and --purge.
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
# test_deb_install's overlay root (a tmpfs holding its layers) and whether
# the module it built is the one loaded.
ovl=$tmp/ovl
sysroot=$ovl/merged
dkms_loaded=
cleanup() {
	[ -z "$feed" ] || exec {feed}>&-
	kill_started
	wait 2>/dev/null
	del_nodes
	ip netns del "$sw" 2>/dev/null
	sysroot_down
	# The suite's module back, whatever test_deb_install left.
	if [ -n "$dkms_loaded" ] || [ ! -e /sys/module/migtcp ]; then
		reload_module "$ko" >/dev/null 2>&1
	fi
	# Never into a mount that would not go (the chroot's /dev is the
	# guest's).
	rm -rf --one-file-system "$tmp"
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
755 usr/bin/migtcp-migrate
755 usr/bin/migtcp-run
644 usr/lib/criu/libmigtcp-criu.so
644 usr/lib/migtcp/libmigtcp-preload.so
755 usr/sbin/migtcpctl
644 usr/share/bash-completion/completions/migtcpctl
644 usr/share/man/man1/migtcp-criu.1
644 usr/share/man/man1/migtcp-migrate.1
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
		"-rw-r--r-- usr/share/man/man1/migtcp-migrate.1.gz" \
		"-rwxr-xr-x usr/bin/migtcp-criu" \
		"-rwxr-xr-x usr/bin/migtcp-migrate" || return 1
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
		json_check "j == [{'id': 2, 'addr': '192.0.2.2', 'addr6': None},
				  {'id': 4, 'addr': '192.0.2.4', 'addr6': None}]" "$tmp/peers" ||
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

# The packages test_deb_install installs, in the order dpkg -r takes
# them (each before what it depends on).
debpkgs=(migtcp-criu migtcp-tools migtcp-dkms)

# sysroot_up: the root test_deb_install installs into, $sysroot: an
# overlay whose lower layer is the guest's root file system (the host's,
# read-only over 9p; the mounts the VM puts on it, its /lib/modules
# among them, are not part of it) and whose upper and work directories
# are on a tmpfs of their own, $ovl; the guest's /proc, /sys and /dev;
# an empty /run (no systemd to start the unit) and /tmp.  Everything is
# under $ovl, which sysroot_down unmounts at once.
sysroot_up() {
	mkdir -p "$ovl" &&
		mount -t tmpfs -o mode=755 migtcp-sysroot "$ovl" &&
		mount --make-private "$ovl" &&
		mkdir "$ovl/upper" "$ovl/work" "$sysroot" &&
		mount -t overlay -o "lowerdir=/,upperdir=$ovl/upper,workdir=$ovl/work" \
			migtcp-sysroot "$sysroot" &&
		mount -t proc proc "$sysroot/proc" &&
		mount --bind /sys "$sysroot/sys" &&
		mount --bind /dev "$sysroot/dev" &&
		mount -t tmpfs tmpfs "$sysroot/run" &&
		mount -t tmpfs tmpfs "$sysroot/tmp"
}

# sysroot_down: unmounts $ovl and everything under it; lazily if
# something still holds it, so that no mount outlives the test.
sysroot_down() {
	mountpoint -q "$ovl" 2>/dev/null || return 0
	umount -R "$ovl" 2>/dev/null || umount -R -l "$ovl"
}

# in_root CMD…: CMD chrooted into $sysroot, in the environment of a root
# shell, with no debconf questions.
in_root() {
	chroot "$sysroot" env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# pkg_state PACKAGE: its state in the chroot's dpkg database (installed,
# config-files, not-installed…), or "absent" once dpkg forgot it.
pkg_state() {
	in_root dpkg-query -W -f="\${db:Status-Status}" "$1" 2>/dev/null || echo absent
}

# expect_states STATE…: the packages of debpkgs are in these states, in
# that order.
expect_states() {
	local i got="" want=""
	for i in "${!debpkgs[@]}"; do
		got+="${debpkgs[i]} $(pkg_state "${debpkgs[i]}"); "
		want+="${debpkgs[i]} ${*:i+1:1}; "
	done
	[ "$got" = "$want" ] || { diag "packages: $got" "expected: $want"; return 1; }
}

# missing_deps DEB…: the dependencies of the packages DEB, other than
# each other, that the chroot's dpkg does not have installed, as
# "PACKAGE depends on DEPENDENCY" (either of "a | b" will do).  The
# versions are dpkg -i's to check.
missing_deps() {
	local deb p dep alt ok alts
	for deb in "$@"; do
		p=$(dpkg-deb -f "$deb" Package)
		while read -r dep; do
			[ -n "$dep" ] || continue
			ok=
			IFS='|' read -r -a alts <<<"$dep"
			for alt in "${alts[@]}"; do
				alt=${alt// /}
				alt=${alt%%(*}
				alt=${alt%%:*}
				case " ${debpkgs[*]} " in *" $alt "*) ok=1 ;; esac
				[ "$(pkg_state "$alt")" = installed ] && ok=1
			done
			[ -n "$ok" ] || echo "$p depends on $dep, which is not installed"
		done < <(dpkg-deb -f "$deb" Depends | tr ',' '\n')
	done
}

# dkms_status: what the chroot's DKMS says of migtcp, one line per kernel.
dkms_status() {
	in_root dkms status -m migtcp -v "$version" 2>/dev/null | sort
}

# expect_paths present|gone PATH…: each PATH is in the chroot, or none is.
expect_paths() {
	local want=$1 p wrong=()
	shift
	for p in "$@"; do
		if [ -e "$sysroot$p" ] || [ -L "$sysroot$p" ]; then
			[ "$want" = present ] || wrong+=("$p")
		else
			[ "$want" = gone ] || wrong+=("$p")
		fi
	done
	[ "${#wrong[@]}" = 0 ] || { diag "expected $want from the root: ${wrong[*]}"; return 1; }
}

# load_dkms_module KO: DKMS's module for this kernel, KO, in place of the
# suite's.  It registers its family (a socket of it opens) and it is KO
# that the kernel runs (the build ID it has for migtcp is KO's).
load_dkms_module() {
	local f=$1 want got family
	dkms_loaded=1
	reload_module "$f" || { diag "cannot load $f"; return 1; }
	[ -e /sys/module/migtcp/parameters/family ] ||
		{ diag "$f loaded, but no /sys/module/migtcp/parameters/family"; return 1; }
	case $f in
	*.xz) xz -dc "$f" >"$tmp/dkms.ko" && f=$tmp/dkms.ko ;;
	esac
	want=$(readelf -n "$f" | sed -n 's/^ *Build ID: //p')
	# The note: 4-byte name and description sizes and type, "GNU\0", the ID.
	got=$(od -An -tx1 -v -j16 /sys/module/migtcp/notes/.note.gnu.build-id | tr -d ' \n')
	if [ -z "$want" ] || [ "$got" != "$want" ]; then
		diag "the kernel's migtcp has build ID '$got', $1 has '$want'"
		return 1
	fi
	family=$(cat /sys/module/migtcp/parameters/family)
	"$python" -c 'import socket, sys; socket.socket(int(sys.argv[1]), socket.SOCK_STREAM).close()' \
		"$family" >"$tmp/out" 2>&1 ||
		{ diag "socket($family, SOCK_STREAM): $(cat "$tmp/out")"; return 1; }
}

# deb_install: test_deb_install's steps, in the chroot that it unmounts.
deb_install() {
	local p f log=$tmp/dpkg.log t0 arch line k ko_dkms="" rc
	local debfiles=() indebs=() kernels=() all=() built=() want=() dkms_kos=()
	local paths=("/usr/src/migtcp-$version/dkms.conf" /var/lib/dkms/migtcp
		/usr/sbin/migtcpctl /usr/bin/migtcp-run /usr/bin/migtcp-criu
		/usr/lib/criu/libmigtcp-criu.so /lib/systemd/system/migtcp.service)
	local wants=/etc/systemd/system/multi-user.target.wants/migtcp.service
	for p in migtcp-dkms migtcp-tools migtcp-criu; do
		f=$(compgen -G "$debs/${p}_${version}_*.deb" | head -n 1)
		[ -n "$f" ] || { diag "no $p $version package in $debs (make deb)"; return 1; }
		debfiles+=("$f")
		indebs+=("/tmp/debs/${f##*/}")
	done
	sysroot_up || { diag "cannot mount the overlay root $sysroot"; return 1; }
	# A root that has them already would prove nothing.
	if [ -n "$(dkms_status)" ] || [ -e "$sysroot/usr/src/migtcp-$version" ] ||
	   ! expect_states absent absent absent; then
		diag "the root has migtcp installed already" "$(dkms_status)"
		return 1
	fi
	line=$(missing_deps "${debfiles[@]}")
	if [ -n "$line" ]; then
		diag "$line" "(the guest has no network to install them from: the host's root must have them)"
		return 1
	fi
	# DKMS builds for the running kernel if the root has its headers,
	# else for every kernel of the root: then the same compile as on the
	# kernel that has them (a quarter of an hour under TCG) would prove
	# nothing new.  There, the root is made one with no headers at all,
	# as a machine where DKMS is installed before them: dpkg -i must
	# still succeed, DKMS having the module added and nothing built.
	if [ ! -e "$sysroot/lib/modules/$kver/build/include" ]; then
		rm -f "$sysroot"/lib/modules/*/build "$sysroot"/lib/modules/*/source
		diag "the root has no headers for the running $kver: installing into one with no kernel headers"
	fi
	# man-db's trigger would index every manual page of the root again
	# (minutes under TCG); that is its switch.
	rm -f "$sysroot/var/lib/man-db/auto-update"
	mkdir "$sysroot/tmp/debs" && cp "${debfiles[@]}" "$sysroot/tmp/debs/" || return 1

	t0=$EPOCHSECONDS
	in_root dpkg -i "${indebs[@]}" >"$log" 2>&1
	rc=$?
	diag "dpkg -i: $((EPOCHSECONDS - t0)) s"
	[ "$rc" = 0 ] || { diag "dpkg -i failed ($rc):" "$(cat "$log")"; return 1; }
	expect_states installed installed installed &&
		expect_paths present "${paths[@]}" /etc/modprobe.d/migtcp.conf || return 1
	# The postinsts: migtcp-tools's enabled the unit, and its tools run
	# from where they are, with the libraries they need.
	[ "$(readlink "$sysroot$wants")" = /lib/systemd/system/migtcp.service ] ||
		{ diag "$wants: '$(readlink "$sysroot$wants")'"; return 1; }
	line=$(in_root migtcpctl --version 2>&1)
	[[ $line == "migtcpctl $version "* ]] ||
		{ diag "migtcpctl --version in the root: $line"; return 1; }

	# migtcp-dkms's: DKMS built and installed the module for each kernel
	# it names ("Building for A, B and C") that has headers in the root.
	# That is the running kernel if the root has a /lib/modules directory
	# for it, else every kernel the root has (DKMS takes the running one
	# for a chroot's host's).
	line=$(sed -n 's/^Building for //p' "$log")
	line=${line//,/ }
	read -r -a kernels <<<"${line// and / }"
	if [ -d "$sysroot/lib/modules/$kver" ]; then
		[[ " ${kernels[*]} " == *" $kver "* ]] ||
			{ diag "DKMS built for '${kernels[*]}', not for the running $kver:" "$(cat "$log")"; return 1; }
	else
		mapfile -t all < <(ls -v "$sysroot/lib/modules")
		line=${all[*]}
		[ "${kernels[*]}" = "$line" ] ||
			{ diag "DKMS built for '${kernels[*]}', not for the root's kernels '$line':" "$(cat "$log")"; return 1; }
	fi
	arch=$(uname -m)
	for k in "${kernels[@]}"; do
		if [ -e "$sysroot/lib/modules/$k/build/include" ]; then
			built+=("$k")
			want+=("migtcp/$version, $k, $arch: installed")
		else
			diag "DKMS skipped $k: the root has no headers for it (/lib/modules/$k/build/include)"
		fi
	done
	[ "${#built[@]}" -gt 0 ] || want=("migtcp/$version: added")
	line=$(printf '%s\n' "${want[@]}" | sort)
	[ "$(dkms_status)" = "$line" ] ||
		{ diag "dkms status:" "$(dkms_status)" "expected:" "$line" "dpkg -i said:" "$(cat "$log")"; return 1; }
	for k in "${built[@]}"; do
		f=$(compgen -G "$sysroot/lib/modules/$k/updates/dkms/migtcp.ko*" | head -n 1)
		[ -n "$f" ] || { diag "no migtcp.ko in /lib/modules/$k/updates/dkms"; return 1; }
		[ "$(modinfo -F vermagic "$f" | cut -d' ' -f1)" = "$k" ] ||
			{ diag "$f is not for $k: $(modinfo -F vermagic "$f")"; return 1; }
		grep -q '^updates/dkms/migtcp\.ko[^:]*:' "$sysroot/lib/modules/$k/modules.dep" ||
			{ diag "depmod did not list $f in /lib/modules/$k/modules.dep"; return 1; }
		dkms_kos+=("${f#"$sysroot"}")
		[ "$k" != "$kver" ] || ko_dkms=$f
	done

	# The module DKMS built for this kernel loads; the suite's is back
	# after.
	if [ -n "$ko_dkms" ]; then
		load_dkms_module "$ko_dkms"
		rc=$?
		reload_module "$ko" || { diag "cannot load $ko again"; return 1; }
		dkms_loaded=
		[ "$rc" = 0 ] || return 1
	else
		diag "the root has no headers for the running kernel $kver (no /lib/modules/$kver/build/include):" \
		     "DKMS's build and the load of its module are not checked on $kver (built for: ${built[*]:-none})"
	fi

	# dpkg -r: DKMS forgets the module, and the packages' files go but
	# migtcp-tools's conffile; dpkg --purge takes that and the unit's
	# enablement.
	t0=$EPOCHSECONDS
	in_root dpkg -r "${debpkgs[@]}" >"$log" 2>&1
	rc=$?
	diag "dpkg -r: $((EPOCHSECONDS - t0)) s"
	[ "$rc" = 0 ] || { diag "dpkg -r failed ($rc):" "$(cat "$log")"; return 1; }
	expect_states not-installed config-files not-installed &&
		expect_paths gone "${paths[@]}" "${dkms_kos[@]}" &&
		expect_paths present /etc/modprobe.d/migtcp.conf || return 1
	[ -z "$(dkms_status)" ] || { diag "dkms status after dpkg -r:" "$(dkms_status)"; return 1; }
	for k in "${built[@]}"; do
		! grep -q 'migtcp\.ko' "$sysroot/lib/modules/$k/modules.dep" ||
			{ diag "/lib/modules/$k/modules.dep still lists migtcp"; return 1; }
	done
	in_root dpkg --purge "${debpkgs[@]}" >"$log" 2>&1 ||
		{ diag "dpkg --purge failed:" "$(cat "$log")"; return 1; }
	expect_states absent absent absent &&
		expect_paths gone /etc/modprobe.d/migtcp.conf "$wants"
}

# The three packages installed for real, maintainer scripts and all: dpkg
# -i in a chroot over a writable overlay of the guest's root, whose dpkg
# database has their dependencies (dkms, criu); migtcp-dkms's postinst
# has DKMS build and install the module for the kernels of the root that
# have headers, and the one for the running kernel loads; dpkg -r has
# DKMS remove it and takes the files, dpkg --purge the conffile.  The
# chroot is unmounted and the suite's module loaded however it ends.
test_deb_install() {
	local rc
	deb_install
	rc=$?
	if [ -n "$dkms_loaded" ]; then
		reload_module "$ko" || { diag "cannot load $ko again"; rc=1; }
		dkms_loaded=
	fi
	sysroot_down || { diag "cannot unmount $ovl"; rc=1; }
	if mountpoint -q "$ovl" 2>/dev/null; then
		diag "$ovl is still mounted"
		rc=1
	fi
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
	"test_deb_install|dpkg -i of the three packages in a chroot: DKMS builds the module for the kernels with headers, the running one's loads; dpkg -r and --purge remove it all"
)

run_tests "${tests[@]}"
