#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unmodified programs over AF_MIGTCP with migtcp-run: a 2-node cluster in
# network namespaces (veth to a bridge, 192.0.2.0/24, one cluster file),
# Debian's iperf3 and sockperf run as they are, server on node 1 and
# client on node 2, both under migtcp-run.
#  - iperf3 plain, -P 4, -R and --bidir: the JSON of both ends (python3)
#    has no error, bytes sent and received, the right number of streams,
#    the nodes' addresses as the ends of each stream, and the congestion
#    control AF_MIGTCP uses;
#  - a 4-stream iperf3 run and the sockperf runs: none of their
#    connections was TCP (kernel TCP's ActiveOpens and PassiveOpens of
#    both namespaces stay as they were) and AF_MIGTCP carried their data
#    (its segment counters grew) -- counted after the run, so a slow
#    machine cannot miss a connection that a look during the run would;
#  - sockperf ping-pong and throughput against a sockperf server: messages
#    and observations counted, none dropped, duplicated or out of order;
#  - iperf3 over loopback under migtcp-run stays kernel TCP (exactly its
#    two connections opened, and accepted, nothing on AF_MIGTCP);
#  - over IPv6: two more nodes on the bridge, with IPv6 addresses only
#    (2001:db8::1 and ::2, their own cluster file of "addr6"), and
#    iperf3 -P 2 to [2001:db8::1]: the nodes' IPv6 addresses as the ends
#    of each stream, every connection AF_MIGTCP.
#
# Environment: MIGTCP_CTL (migtcpctl; migtcp-run is looked for next to it
# unless MIGTCP_RUN names it).  Runs as root with the module loaded.
# Prints TAP 13.  Programs run inside a node with nsenter --net.
#
# The tests are functions run from a table, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$here/lib.sh"
top=$(cd "$here/.." && pwd)

ctl=${MIGTCP_CTL:-$top/build/userspace/migtcpctl}
run=${MIGTCP_RUN:-$(dirname "$ctl")/migtcp-run}
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3

[ -x "$ctl" ] || skip_all "migtcpctl not found at $ctl"
[ -x "$run" ] || skip_all "migtcp-run not found at $run"
[ "$(id -u)" -eq 0 ] || skip_all "must run as root"
[ -e /sys/module/migtcp ] || skip_all "the migtcp module is not loaded"
command -v iperf3 >/dev/null || skip_all "iperf3 is not installed"
command -v sockperf >/dev/null || skip_all "sockperf is not installed"
command -v ss >/dev/null || skip_all "ss is not installed"

tmp=$(mktemp -d /tmp/migtcp_apps_test.XXXXXX) || exit 1
ns=map$$
sw=$ns-sw
key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
readonly ADDR1=192.0.2.1 ADDR2=192.0.2.2
readonly ADDR6_1=2001:db8::1 ADDR6_2=2001:db8::2
# The nodes of the iperf3 runs below, server and client, and their
# addresses; a test may make them others (local).
srv_node=n1 cli_node=n2 srv_addr=$ADDR1 cli_addr=$ADDR2
# iperf3's runs: long enough to see traffic, short under TCG.
readonly SECS=2

cleanup() {
	kill_started
	del_nodes
	rm -rf "$tmp"
}
trap cleanup EXIT

# wait_listen NODE PORT KIND: until NODE has a listener on PORT, KIND
# mig (in migtcpctl sockets) or tcp (in ss); 10 s at most.
wait_listen() {
	local i
	for ((i = 0; i < 100; i++)); do
		case $3 in
		mig) [ "$(socks "$1" "LISTEN" "local_port == $2")" -ge 1 ] && return 0 ;;
		tcp) at "$1" ss -Htln "sport = :$2" | grep -q . && return 0 ;;
		esac
		sleep 0.1
	done
	diag "no $3 listener on port $2 of $1"
	return 1
}

# socks NODE STATE COND: how many of NODE's AF_MIGTCP sockets are in
# STATE and satisfy the python COND over s's fields (local_port, ...).
socks() {
	at "$1" "$ctl" -j sockets | "$python" -c '
import json, sys
n = 0
for s in json.load(sys.stdin):
    if s["state"] == sys.argv[1] and eval(sys.argv[2], {}, s):
        n += 1
print(n)' "$2" "$3"
}

# tcp_opens NODE: kernel TCP's "ActiveOpens PassiveOpens" of NODE (its
# /proc/net/snmp, per network namespace): every TCP connection a program
# there opens, or accepts, counts, however short it lived.
# shellcheck disable=SC2016
tcp_opens() {
	at "$1" awk '$1 == "Tcp:" && !names { for (i = 2; i <= NF; i++) col[$i] = i; names = 1; next }
		     $1 == "Tcp:" { print $col["ActiveOpens"], $col["PassiveOpens"] }' /proc/net/snmp
}

# mig_segs NODE: the segments AF_MIGTCP sent and received on NODE so far.
# shellcheck disable=SC2016
mig_segs() {
	at "$1" awk '$1 == "InSegs" || $1 == "OutSegs" { n += $2 } END { print n + 0 }' \
		/proc/net/migtcp_stats
}

# counters_before / counters_after MIN_SEGS NODES...: what a program run
# in between did: no TCP connection opened or accepted on any of NODES,
# and AF_MIGTCP carried at least MIN_SEGS segments on each.  So its every
# connection was AF_MIGTCP, whenever and however briefly it lived: a fact
# that no look at the sockets while it runs can miss.
declare -A opens_before segs_before
counters_before() {
	local n
	for n in "$@"; do
		opens_before[$n]=$(tcp_opens "$n")
		segs_before[$n]=$(mig_segs "$n")
	done
}

counters_after() {
	local min=$1 n opens segs
	shift
	for n in "$@"; do
		opens=$(tcp_opens "$n")
		segs=$(mig_segs "$n")
		if [ "$opens" != "${opens_before[$n]}" ]; then
			diag "TCP connections opened on $n: ActiveOpens PassiveOpens went from ${opens_before[$n]} to $opens"
			return 1
		fi
		if [ $((segs - segs_before[$n])) -lt "$min" ]; then
			diag "AF_MIGTCP carried $((segs - segs_before[$n])) segments on $n, expected $min at least"
			return 1
		fi
	done
}

test_cluster() {
	local i
	ip netns add "$sw" &&
		ip -n "$sw" link add br0 type bridge &&
		ip -n "$sw" link set br0 up || return 1
	for i in 1 2; do
		new_node "n$i" && attach "n$i" "192.0.2.$i" || return 1
	done
	echo "$key" >"$tmp/cluster.key"
	chmod 600 "$tmp/cluster.key"
	cat >"$tmp/cluster.json" <<EOF
{"key-file": "cluster.key", "nodes": [{"id": 1, "addr": "$ADDR1"},
  {"id": 2, "addr": "$ADDR2"}]}
EOF
	for i in 1 2; do
		at "n$i" "$ctl" load "$tmp/cluster.json" >"$tmp/out" 2>&1 ||
			{ diag "load on n$i: $(cat "$tmp/out")"; return 1; }
	done
}

# iperf_server NAME PORT [ARGS...]: a one-off iperf3 server on node 1
# ($srv_node) under migtcp-run, JSON to $tmp/NAME.server.json; waits for
# its AF_MIGTCP listener.
iperf_server() {
	local name=$1 port=$2
	shift 2
	at_bg "$srv_node" "$run" iperf3 -s -1 -J -p "$port" "$@" \
		>"$tmp/$name.server.json" 2>"$tmp/$name.server.err"
	srv_pid=$!
	pids+=("$srv_pid")
	wait_listen "$srv_node" "$port" mig
}

# iperf_client NAME PORT ARGS...: iperf3 on node 2 ($cli_node) under
# migtcp-run against node 1's $srv_addr; JSON to $tmp/NAME.client.json;
# its exit status.
iperf_client() {
	local name=$1 port=$2
	shift 2
	at "$cli_node" "$run" iperf3 -c "$srv_addr" -p "$port" -J "$@" \
		>"$tmp/$name.client.json" 2>"$tmp/$name.client.err"
}

# iperf_wait NAME: the server's exit status (0 expected); its stderr.
iperf_wait() {
	if ! wait "$srv_pid"; then
		diag "iperf3 server $1 failed:" "$(cat "$tmp/$1.server.err")" \
		     "$(head -c 2000 "$tmp/$1.server.json")"
		return 1
	fi
}

# iperf_check NAME STREAMS PORT [reverse|bidir]: both ends' JSON say the
# test ran: no error and STREAMS streams whose ends are the nodes'
# addresses, the server's on PORT; the client (which learns the server's
# figures) counts bytes sent and received, the server those it received
# (sent with -R, both with --bidir); CUBIC, AF_MIGTCP's default, is the
# congestion control the client reports.
iperf_check() {
	local name=$1 streams=$2 port=$3 dir=${4:-} f end
	for end in client server; do
		f=$tmp/$name.$end.json
		json_check '"error" not in j' "$f" || return 1
		json_check "len(j['start']['connected']) == $streams" "$f" || return 1
		json_check "len(j['end']['streams']) == $streams" "$f" || return 1
	done
	f=$tmp/$name.client.json
	json_check "j['end']['sum_sent']['bytes'] > 0" "$f" || return 1
	json_check "j['end']['sum_received']['bytes'] > 0" "$f" || return 1
	if [ "$dir" = bidir ]; then
		json_check "j['end']['sum_sent_bidir_reverse']['bytes'] > 0" "$f" || return 1
		json_check "j['end']['sum_received_bidir_reverse']['bytes'] > 0" "$f" || return 1
	fi
	json_check "all(c['local_host'] == '$cli_addr' and c['remote_host'] == '$srv_addr'
		  and c['remote_port'] == $port for c in j['start']['connected'])" "$f" || return 1
	json_check "j['end']['sender_tcp_congestion'] == 'cubic'" "$f" || return 1
	f=$tmp/$name.server.json
	case $dir in
	reverse) json_check "j['end']['sum_sent']['bytes'] > 0" "$f" || return 1 ;;
	bidir)	json_check "j['end']['sum_received']['bytes'] > 0" "$f" || return 1
		json_check "j['end']['sum_sent_bidir_reverse']['bytes'] > 0" "$f" || return 1 ;;
	*)	json_check "j['end']['sum_received']['bytes'] > 0" "$f" || return 1 ;;
	esac
	json_check "all(c['local_host'] == '$srv_addr' and c['remote_host'] == '$cli_addr'
		  and c['local_port'] == $port for c in j['start']['connected'])" "$f" || return 1
}

# iperf_run NAME PORT STREAMS [reverse|bidir] CLIENT_ARGS...: one
# whole run.
iperf_run() {
	local name=$1 port=$2 streams=$3 dir=
	shift 3
	case ${1:-} in
	reverse|bidir) dir=$1; shift ;;
	esac
	iperf_server "$name" "$port" || return 1
	if ! iperf_client "$name" "$port" -t "$SECS" "$@"; then
		diag "iperf3 client $name failed:" "$(cat "$tmp/$name.client.err")" \
		     "$(head -c 2000 "$tmp/$name.client.json")"
		return 1
	fi
	iperf_wait "$name" || return 1
	iperf_check "$name" "$streams" "$port" "$dir"
}

test_iperf_plain() {
	iperf_run plain 5201 1
}

test_iperf_parallel() {
	iperf_run parallel 5202 4 -P 4
}

test_iperf_reverse() {
	iperf_run reverse 5203 1 reverse -R || return 1
	# In reverse, the server sends: its sum_sent is what the client got.
	json_check "j['end']['streams'][0]['sender']['sender'] is False" \
		"$tmp/reverse.client.json"
}

test_iperf_bidir() {
	iperf_run bidir 5204 2 bidir --bidir
}

# A 4-stream run: its control connection and 4 data streams were all
# AF_MIGTCP (no TCP connection on either node, AF_MIGTCP carried the
# data), with the nodes' addresses as their ends.
test_iperf_sockets() {
	local name=live port=5205
	iperf_server "$name" "$port" || return 1
	counters_before n1 n2
	if ! iperf_client "$name" "$port" -t "$SECS" -P 4; then
		diag "iperf3 client $name failed:" "$(cat "$tmp/$name.client.err")"
		return 1
	fi
	iperf_wait "$name" && iperf_check "$name" 4 "$port" &&
		counters_after 100 n1 n2
}

# sockperf_server PORT: sockperf server on node 1's address under
# migtcp-run; waits for its AF_MIGTCP listener.
sockperf_server() {
	at_bg n1 "$run" sockperf server --tcp -i "$ADDR1" -p "$1" \
		>"$tmp/sockperf.server" 2>&1
	sp_pid=$!
	pids+=("$sp_pid")
	wait_listen n1 "$1" mig
}

sockperf_stop() {
	kill "$sp_pid" 2>/dev/null
	wait "$sp_pid" 2>/dev/null
	if grep -qi error "$tmp/sockperf.server"; then
		diag "sockperf server:" "$(cat "$tmp/sockperf.server")"
		return 1
	fi
}

# sp_value FILE REGEX: the first number after REGEX in FILE (colour codes
# stripped), or nothing.
sp_value() {
	sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -oE -- "$2[0-9]+" | head -n 1 |
		grep -oE '[0-9]+$'
}

# sockperf ping-pong for 4 s: observations and messages both ways, none
# dropped, duplicated or out of order; its connection was AF_MIGTCP (no
# TCP connection on either node, AF_MIGTCP carried the messages).
test_sockperf_pingpong() {
	local port=11111 f=$tmp/pingpong v
	sockperf_server "$port" || return 1
	counters_before n1 n2
	if ! at n2 "$run" sockperf ping-pong --tcp -i "$ADDR1" -p "$port" -t 4 \
		>"$f" 2>&1; then
		diag "sockperf ping-pong failed:" "$(cat "$f")"
		return 1
	fi
	counters_after 100 n1 n2 || return 1
	sockperf_stop || return 1
	for v in "Valid Duration\] RunTime=[0-9.]+ sec; SentMessages=" \
		 "Valid Duration\] RunTime=[0-9.]+ sec; SentMessages=[0-9]+; ReceivedMessages=" \
		 "Total "; do
		if [ "$(sp_value "$f" "$v")" -gt 0 ] 2>/dev/null; then
			continue
		fi
		diag "no count above 0 after '$v':" "$(cat "$f")"
		return 1
	done
	for v in "dropped messages = " "duplicated messages = " "out-of-order messages = "; do
		if [ "$(sp_value "$f" "$v")" != 0 ]; then
			diag "'$v' is not 0:" "$(cat "$f")"
			return 1
		fi
	done
	if grep -qi error "$f"; then
		diag "sockperf ping-pong says:" "$(cat "$f")"
		return 1
	fi
}

# sockperf throughput for 4 s: messages sent at a rate above 0, no error;
# its connection was AF_MIGTCP.
test_sockperf_throughput() {
	local port=11112 f=$tmp/throughput v
	sockperf_server "$port" || return 1
	counters_before n1 n2
	if ! at n2 "$run" sockperf throughput --tcp -i "$ADDR1" -p "$port" -t 4 \
		>"$f" 2>&1; then
		diag "sockperf throughput failed:" "$(cat "$f")"
		return 1
	fi
	counters_after 100 n1 n2 || return 1
	sockperf_stop || return 1
	for v in "Total of " "Message Rate is "; do
		if [ "$(sp_value "$f" "$v")" -gt 0 ] 2>/dev/null; then
			continue
		fi
		diag "no count above 0 after '$v':" "$(cat "$f")"
		return 1
	done
	if grep -qi error "$f"; then
		diag "sockperf throughput says:" "$(cat "$f")"
		return 1
	fi
}

# iperf3 over loopback, both ends under migtcp-run on node 1: kernel TCP
# (node 1 opened exactly its control connection and its stream, and
# accepted them, AF_MIGTCP carried nothing), and it works.
test_iperf_loopback() {
	local port=5206 name=loop before after a0 p0 a1 p1
	at_bg n1 "$run" iperf3 -s -1 -J -B 127.0.0.1 -p "$port" \
		>"$tmp/$name.server.json" 2>"$tmp/$name.server.err"
	srv_pid=$!
	pids+=("$srv_pid")
	wait_listen n1 "$port" tcp || return 1
	before=$(tcp_opens n1)
	counters_before n1
	if ! at n1 "$run" iperf3 -c 127.0.0.1 -p "$port" -J -t "$SECS" \
		>"$tmp/$name.client.json" 2>"$tmp/$name.client.err"; then
		diag "iperf3 client failed: $(cat "$tmp/$name.client.err")"
		return 1
	fi
	after=$(tcp_opens n1)
	read -r a0 p0 <<<"$before"
	read -r a1 p1 <<<"$after"
	# Its two connect()s, and at least two children accepted: Linux
	# counts a passive open per child it makes, and its lockless
	# listener may make two of one connection when the final ACK and
	# the first data race on two CPUs (the loser is freed unused).
	if [ $((a1 - a0)) != 2 ] || [ $((p1 - p0)) -lt 2 ]; then
		diag "TCP ActiveOpens PassiveOpens on n1 went from $before to $after, expected +2 +2 (or more accepted)"
		return 1
	fi
	if [ "$(mig_segs n1)" != "${segs_before[n1]}" ]; then
		diag "AF_MIGTCP carried $(($(mig_segs n1) - segs_before[n1])) segments on n1"
		return 1
	fi
	iperf_wait "$name" || return 1
	json_check '"error" not in j' "$tmp/$name.client.json" &&
		json_check "j['end']['sum_received']['bytes'] > 0" "$tmp/$name.client.json" &&
		json_check "all(c['remote_host'] == '127.0.0.1' for c in j['start']['connected'])" \
			"$tmp/$name.client.json"
}

# Two more nodes on the bridge, v1 and v2, with IPv6 addresses only
# (IPv6 switched on in their namespaces; nodad: usable at once) and a
# cluster file of their own that gives them "addr6" only.
test_cluster6() {
	local i
	for i in 1 2; do
		new_node "v$i" &&
			at "v$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
				net.ipv6.conf.default.disable_ipv6=0 &&
			ip link add eth0 netns "$ns-v$i" type veth peer name "v$i" netns "$sw" &&
			ip -n "$sw" link set "v$i" master br0 up &&
			at "v$i" ip -6 addr add "2001:db8::$i/64" dev eth0 nodad &&
			at "v$i" ip link set eth0 up || return 1
	done
	cat >"$tmp/cluster6.json" <<EOF
{"key-file": "cluster.key", "nodes": [{"id": 1, "addr6": "$ADDR6_1"},
  {"id": 2, "addr6": "$ADDR6_2"}]}
EOF
	for i in 1 2; do
		at "v$i" "$ctl" load "$tmp/cluster6.json" >"$tmp/out" 2>&1 ||
			{ diag "load on v$i: $(cat "$tmp/out")"; return 1; }
	done
}

# iperf3 -P 2 from v2 to [2001:db8::1] on v1: the nodes' IPv6 addresses
# as the ends of every stream in both ends' JSON, all of its connections
# AF_MIGTCP (no TCP connection on either node, AF_MIGTCP carried the
# data).
test_iperf6() {
	local srv_node=v1 cli_node=v2 srv_addr=$ADDR6_1 cli_addr=$ADDR6_2
	local name=ipv6 port=5207
	iperf_server "$name" "$port" || return 1
	counters_before v1 v2
	if ! iperf_client "$name" "$port" -t "$SECS" -P 2; then
		diag "iperf3 client $name failed:" "$(cat "$tmp/$name.client.err")" \
		     "$(head -c 2000 "$tmp/$name.client.json")"
		return 1
	fi
	iperf_wait "$name" && iperf_check "$name" 2 "$port" &&
		counters_after 100 v1 v2
}

tests=(
	"test_cluster|a 2-node cluster from one cluster file"
	"test_iperf_plain|iperf3 under migtcp-run: one stream, both ends' JSON"
	"test_iperf_parallel|iperf3 -P 4"
	"test_iperf_reverse|iperf3 -R"
	"test_iperf_bidir|iperf3 --bidir"
	"test_iperf_sockets|iperf3 -P 4: its 5 connections are AF_MIGTCP on both nodes, none is TCP"
	"test_sockperf_pingpong|sockperf ping-pong: messages both ways, none lost or reordered, AF_MIGTCP"
	"test_sockperf_throughput|sockperf throughput: messages sent, AF_MIGTCP"
	"test_iperf_loopback|iperf3 over loopback under migtcp-run stays TCP"
	"test_cluster6|2 more nodes with IPv6 addresses only, their own cluster file"
	"test_iperf6|iperf3 -P 2 over IPv6: the nodes' IPv6 addresses, AF_MIGTCP on both nodes, none is TCP"
)

run_tests "${tests[@]}"
