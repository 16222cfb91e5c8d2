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

# pick_tests NAMES: keeps the entries of the array tests whose command
# ("function args", before the "|") is one of the comma-separated NAMES;
# all of them if NAMES is empty.
pick_tests() {
	local t picked=()
	[ -n "$1" ] || return 0
	for t in "${tests[@]}"; do
		[[ ",$1," == *",${t%%|*},"* ]] && picked+=("$t")
	done
	tests=("${picked[@]}")
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

# The migrated iperf3 test: IPERF_BYTES at IPERF_RATE (iperf3's -n and
# -b), 20 s at that pace.  The test ends once every byte went through,
# not after a time, so it cannot end before the dump however long a dump
# and a restore take on a loaded machine, and a good part of it is left
# for after the restore (iperf3's pace catches up after a stall).
# shellcheck disable=SC2034  # used by the tests that source this
IPERF_RATE=100M
# shellcheck disable=SC2034
IPERF_BYTES=$((20 * 100 * 1000 * 1000 / 8))

# iperf_check FILE LENGTH DIR [IMAGES]: the iperf3 client's JSON output
# in FILE (-J --get-server-output) reports a test without error; LENGTH
# is "-t SECS" or "-n BYTES" as the client was run; DIR is -R when the
# server sent.  A timed test: the client measured SECS (± 1) seconds, the
# server no more; a test of BYTES: the sender sent at least BYTES, and
# the server measured no more time than the client.  (A restored server
# measures less: CRIU restores it in a time namespace whose
# CLOCK_MONOTONIC goes on from the dump, so the time between dump and
# restore does not count.)  The receiver read all that the sender wrote
# but what the socket buffers and the path could hold when the test
# ended (16 MiB; a tenth of a long test), and the server's own report
# agrees with the client's summary.  With IMAGES (image show -j of the
# server's dump), the data connection's counters at the dump prove that
# data went through both before the dump and after the restore.
iperf_check() {
	"${python:-python3}" - "$@" <<'EOF'
import json
import sys

path, (mode, amount), direction = sys.argv[1], sys.argv[2].split(), sys.argv[3]
secs = float(amount) if mode == '-t' else None
bad = []
try:
    with open(path) as f:
        j = json.load(f)
except (OSError, ValueError) as e:
    print('# %s: %s' % (path, e))
    sys.exit(1)
if 'error' in j:
    bad.append('the client reports an error: %s' % j['error'])
srv = j.get('server_output_json', {})
if 'error' in srv:
    bad.append('the server reports an error: %s' % srv['error'])
end = j.get('end', {})
srv_end = srv.get('end', {})
sent, rcvd = end.get('sum_sent', {}), end.get('sum_received', {})
nsent, nrcvd = sent.get('bytes', 0), rcvd.get('bytes', 0)
if secs is None and nsent < int(amount):
    bad.append('%d bytes sent of a test of %s' % (nsent, amount))
# What the sender wrote and the receiver never read when the test ended
# sat in the sender's write queue (4 MiB at most: wmem), on the way and
# in the receiver's queue (a window, 6 MiB at most: rmem, each): 16 MiB,
# or a tenth of a long test.
if not (0 < nrcvd <= nsent and
        nsent - nrcvd <= max(0.1 * nsent, 16 * 1024 * 1024)):
    bad.append('%d bytes sent, %d received' % (nsent, nrcvd))
# Each side's own report: the client's, and the server's, which it
# sent to the client at the end of the test.
if direction == '-R':
    cli, srv_sum, srv_what = rcvd, srv_end.get('sum_sent', {}), 'sent'
else:
    cli, srv_sum, srv_what = sent, srv_end.get('sum_received', {}), 'received'
if srv_sum.get('bytes') != (nsent if direction == '-R' else nrcvd):
    bad.append("the server says it %s %s bytes; the client's summary: sent %d, received %d"
               % (srv_what, srv_sum.get('bytes'), nsent, nrcvd))
if secs is not None and abs(cli.get('seconds', 0) - secs) > 1:
    bad.append('the client measured %s s, not %g' % (cli.get('seconds'), secs))
if not 0 < srv_sum.get('seconds', 0) <= (secs or cli.get('seconds', 0)) + 1:
    bad.append('the server measured %s s; the client %s s'
               % (srv_sum.get('seconds'), cli.get('seconds')))
summary = ('# iperf3 %s: client %.1f s, server %.1f s; sent %d bytes, received %d (%.0f Mbit/s)'
           % ('-R' if direction == '-R' else '(the client sends)',
              cli.get('seconds', 0), srv_sum.get('seconds', 0), nsent, nrcvd,
              rcvd.get('bits_per_second', 0) / 1e6))
if len(sys.argv) > 4:
    with open(sys.argv[4]) as f:
        recs = [r for i in json.load(f) for r in i['checkpoint']['records']
                if r['kind'] == 'connection']
    # The data connection carried the most; the control one a few bytes.
    data = max(recs, key=lambda r: r['bytes_received'] + r['bytes_acked'])
    if direction == '-R':
        done, written = data['bytes_acked'], data['bytes_acked'] + data['snd_data_bytes']
        ok = done > 0 and nrcvd > written
        summary += ('; at the dump %d bytes acknowledged, %d written'
                    % (done, written))
    else:
        done = data['bytes_received']
        ok = done > 0 and nrcvd > done
        summary += '; at the dump %d bytes arrived' % done
    if not ok:
        bad.append('no data both before the dump and after the restore')
print(summary)
recv = j if direction == '-R' else srv
print('# receiver MB/s per interval: %s' % ' '.join(
    '%.1f' % (i['sum']['bytes'] / 1e6 / i['sum']['seconds'])
    for i in recv.get('intervals', []) if i['sum']['seconds'] > 0))
for b in bad:
    print('# ' + b)
sys.exit(1 if bad else 0)
EOF
}
