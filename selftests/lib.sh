#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared by the shell selftests: TAP output and a table-driven runner.
# Source it; it defines functions only.

readonly KSFT_SKIP=4

# skip_all REASON: the whole test program is skipped.
skip_all() {
	echo "TAP version 13"
	echo "1..0 # SKIP $*"
	exit "$KSFT_SKIP"
}

# diag TEXT: prints TEXT as TAP diagnostics, one "# " line per line.
diag() {
	local line

	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

# run_tests ENTRY...: each ENTRY is "function args|description"; runs
# them in order, prints TAP 13 and returns 1 if any failed.
run_tests() {
	local n=0 failed=0 t cmd

	echo "TAP version 13"
	echo "1..$#"
	for t in "$@"; do
		n=$((n + 1))
		read -r -a cmd <<<"${t%%|*}"
		if "${cmd[@]}"; then
			echo "ok $n ${t#*|}"
		else
			echo "not ok $n ${t#*|}"
			failed=1
		fi
	done
	return "$failed"
}

# A hold_socket helper running in the background: its pid, and the write
# end of its standard input (closing it lets the helper finish).
hold_pid=
hold_fd=

# stop_holder: closes the helper's input and returns its exit status.
stop_holder() {
	if [ -n "$hold_fd" ]; then
		exec {hold_fd}>&-
		hold_fd=
	fi
	if [ -n "$hold_pid" ]; then
		wait "$hold_pid"
		local rc=$?
		hold_pid=
		return "$rc"
	fi
}

# wait_unused [SECS]: waits (default 15 s) until no socket holds the module,
# as connections closed by earlier tests finish TIME_WAIT.
wait_unused() {
	local i

	for ((i = 0; i < ${1:-15} * 10; i++)); do
		[ "$(cat /sys/module/migtcp/refcnt 2>/dev/null)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# at NODE CMD...: CMD in the network namespace of NODE ("$ns-NODE"), and
# nothing else new (CRIU must find the process in the root mount
# namespace, where "ip netns exec" would not leave it).  A script may
# define its own.
# shellcheck disable=SC2154
at() {
	local node=$1
	shift
	nsenter --net="/run/netns/$ns-$node" "$@"
}

# at_bg NODE CMD...: the same in the background, with CMD's own pid in
# $! (nsenter's, which CMD replaces).  Never "at ... &": its $! is a
# subshell, and killing that leaves CMD running.
# shellcheck disable=SC2154
at_bg() {
	local node=$1
	shift
	nsenter --net="/run/netns/$ns-$node" "$@" &
}

# The processes a test started; kill_started kills them (SIGKILL), for
# the cleanup of a test that failed half-way.
pids=()
kill_started() {
	local p
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
}

# json_check EXPR FILE: python3 evaluates EXPR with j = the JSON in FILE;
# fails, saying why, if FILE is not JSON or EXPR is false.
json_check() {
	"${python:-python3}" - "$1" "$2" <<'EOF'
import json
import sys
try:
    with open(sys.argv[2]) as f:
        j = json.load(f)
except (OSError, ValueError) as e:
    print('# %s: %s' % (sys.argv[2], e))
    sys.exit(1)
if not eval('(' + sys.argv[1] + ')', {'j': j}):
    print('# %s is false for %s' % (sys.argv[1], json.dumps(j)[:2000]))
    sys.exit(1)
EOF
}

# Nodes on a bridge, for scripts that define $ns (the namespaces' prefix),
# $sw (the namespace holding bridge br0) and at NODE CMD... (runs CMD in
# node NODE's namespace).
# shellcheck disable=SC2154
new_node() {
	ip netns add "$ns-$1" && at "$1" ip link set lo up
}

# attach NODE ADDR: a veth from NODE to the bridge, with ADDR/24.
# shellcheck disable=SC2154
attach() {
	ip link add eth0 netns "$ns-$1" type veth peer name "$1" netns "$sw" &&
		ip -n "$sw" link set "$1" master br0 up &&
		at "$1" ip addr add "$2/24" dev eth0 &&
		at "$1" ip link set eth0 up
}

# Deletes every namespace of the nodes ("$ns-" and anything after).
del_nodes() {
	local n
	for n in $(ip netns list | awk -v p="$ns-" 'index($1, p) == 1 {print $1}'); do
		ip netns del "$n"
	done
}
