#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Migrations between machines: run on node 1 of a cluster of guests
# (tools/vm cluster, each guest its own kernel and its own migtcp.ko, one
# virtual Ethernet between them), it drives the other nodes over SSH, as
# an operator would.  Nothing is shared between the nodes but that
# network: cluster files, programs' output and images cross it.
#
#   tools/vm cluster -n 3 -k 6.1,6.12,6.1 -- selftests/xkernel_test.sh
#
# MIGTCP_XKERNEL_TESTS="test_a,test_b" runs only those entries.
# MIGTCP_UNDERLAY=6 (or 46) gives the nodes IPv6 underlay addresses only
# (or both families) in their cluster file (cluster_lib.sh), so that the
# migrations go over IPv6; the first entry then unloads every node's
# module (test_reload), which keeps the addresses it had, and the path
# MTU test, built of IPv4 routes, is skipped.  xkernel6_test.sh runs the
# core of it so.
set -uo pipefail
# shellcheck source=selftests/lib.sh
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/build/userspace/migtcpctl
migrate=$top/build/userspace/migtcp-migrate
stream=$top/build/bench/migstream
conns=$top/build/selftests/mig_conns
run=$top/build/userspace/migtcp-run
iperf=$(command -v iperf3)
nodes=${MIGTCP_NODES:-3}

[ "${MIGTCP_NODE:-}" = 1 ] || skip_all "runs on node 1 of tools/vm cluster"
# make check builds them all: one missing is a failure, not a reason to
# skip.
for f in "$ctl" "$migrate" "$stream" "$conns" "$run" "${iperf:-iperf3}"; do
	if [ ! -x "$f" ]; then
		echo "TAP version 13"
		echo "Bail out! $f is not built (make all, and make -C bench)"
		exit 1
	fi
done

tmp=$(mktemp -d /var/tmp/xkernel_test.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=selftests/cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"

# Every node: its module, its cluster file (cluster_lib.sh).
test_cluster() {
	local out
	out=$(cluster_load) || return 1
	diag "$out"
	case $underlay in
	4) diag "underlay: IPv4" ;;
	6) diag "underlay: IPv6" ;;
	*) diag "underlay: IPv4 and IPv6" ;;
	esac
}

# Every node whose module is loaded unloads it (unload, below), so that
# test_cluster loads it afresh with the addresses of MIGTCP_UNDERLAY
# only: node 1's, which vm_check.sh loaded, too.
test_reload() {
	local n rc=0
	for ((n = nodes; n >= 1; n--)); do
		on "$n" "[ -d /sys/module/migtcp ]" || continue
		unload "$n" || rc=1
	done
	return "$rc"
}

# migrate_to FROM TO PID: migtcp-migrate on node FROM moves PID to node
# TO; its JSON timeline is diagnosed.
migrate_to() {
	local out
	if ! out=$(migrate_json "$1" "$2" "$3"); then
		diag "migtcp-migrate $3 node$2 on node $1 failed:" "$out"
		return 1
	fi
	diag "node $1 -> node $2: frozen $(json_num "$out" frozen_ms) ms of $(json_num "$out" total_ms) ms;" \
	     "$(grep -o '"phases": .*' <<<"$out")"
}

# unload N: unloads node N's module as soon as no socket holds it.  The
# tests before leave orphans that still close (the end that closed first
# waits in TIME_WAIT, 2 s here; a FIN_WAIT or LAST_ACK until its peer
# answers or its retries end): 2 min at most, as vm_check.sh gives node
# 1's, then the sockets that hold it are diagnosed.
unload() {
	local out
	out=$(on "$1" "for i in \$(seq 600); do rmmod migtcp 2>/dev/null && exit 0; sleep 0.2; done
		rmmod migtcp; $(q "$ctl") sockets; exit 1" 2>&1) && return 0
	diag "node $1: the module stays loaded:" "$out"
	return 1
}

# wait_line N FILE REGEX SECS: until FILE on node N has a line matching
# REGEX; SECS at most.
wait_line() {
	if ! on "$1" "for i in \$(seq $(($4 * 10))); do grep -qE $(q "$3") $(q "$2") && exit 0; sleep 0.1; done; exit 1"; then
		diag "node $1: no line matching '$3' in $2 after $4 s:" "$(on "$1" "tail -n 5 $(q "$2")" 2>&1)"
		return 1
	fi
}

# nodes_state: every node's sockets and its counters that are not 0,
# diagnosed (for a test that failed).
nodes_state() {
	local n
	for ((n = 1; n <= nodes; n++)); do
		diag "node $n sockets:" "$(on "$n" "$(q "$ctl") sockets")" \
		     "node $n counters: $(on "$n" "$(q "$ctl") stats" | awk '$2 != 0 { printf "%s %s, ", $1, $2 }')"
	done
}

# wait_exit N PID SECS: until process PID on node N has ended.
wait_exit() {
	if ! on "$1" "timeout $3 tail --pid=$2 -f /dev/null"; then
		diag "node $1: process $2 still runs after $3 s"
		nodes_state
		return 1
	fi
}

# stream_end [CNODE SNODE]: the client (on node CNODE, 3 by default)
# stops sending; both ends drain, and each must have verified every byte
# the other sent (the server ends on node SNODE, 1 by default).
stream_end() {
	local client server
	stream_stop "${1:-3}" "${2:-1}" || return 1
	streams_match "$client" "$server"
}

# A server on node 1 and a client on node 3 stream both ways (each end
# checks every byte it gets), while the server process moves 1 -> 2 -> 1
# with migtcp-migrate.
test_stream_migrations() {
	local pid cpid
	stream_start 7100
	sleep 2
	migrate_to 1 2 "$pid" || return 1
	sleep 2
	migrate_to 2 1 "$pid" || return 1
	sleep 2
	stream_end
}

# A listener with three connections in its accept queue (their data sent
# and acknowledged, not yet accepted) moves 1 -> 2; a new client of its
# identity 1:PORT dials node 1 and is redirected to node 2; the server
# then accepts all four, and both ends check every byte of each.  (A
# step of mig_conns may wait a whole migration between machines: 150 s.)
test_listener_redirect() {
	local port=7300 k=2000 spid cpid cpid2 out i want
	rm -f /var/tmp/queue.pid
	setsid "$conns" server $port 4 $k /var/tmp/queue.pid --late-accept --stall 150 \
		</dev/null >/dev/null 2>&1 &
	# Killed where it leaves: not this shell's job any more.
	disown $!
	for ((i = 0; i < 100; i++)); do
		[ -s /var/tmp/queue.pid ] && break
		sleep 0.1
	done
	spid=$(cat /var/tmp/queue.pid) || return 1
	cpid=$(on 3 "$(q "$conns") client 1 $port 3 $k --stall 150 </dev/null >/var/tmp/queue.client 2>&1 & echo \$!")
	wait_line 3 /var/tmp/queue.client '^ready 3$' 30 || return 1
	migrate_to 1 2 "$spid" || return 1
	if ! on 2 "$(q "$ctl") sockets" | grep -q "^LISTEN .* 1:$port "; then
		diag "node 2 has no listener 1:$port:" "$(on 2 "$(q "$ctl") sockets")"
		return 1
	fi
	cpid2=$(on 3 "$(q "$conns") client 1 $port 1 $k --stall 150 </dev/null >/var/tmp/queue.client2 2>&1 & echo \$!")
	wait_line 3 /var/tmp/queue.client2 '^ready 1$' 30 || return 1
	on 2 "kill -USR1 $spid" || return 1
	wait_exit 3 "$cpid" 60 && wait_exit 3 "$cpid2" 60 && wait_exit 2 "$spid" 60 || return 1
	out=$(on 3 "tail -n 1 /var/tmp/queue.client; tail -n 1 /var/tmp/queue.client2")
	want="done 3 connections sent $((3 * k)) received $((3 * k)) each
done 1 connections sent $((3 * k)) received $((3 * k)) each"
	if [ "$out" != "$want" ]; then
		diag "the clients said:" "$out" "expected:" "$want"
		return 1
	fi
	# The connection the redirected client made (to 1:PORT, on node 2).
	diag "$(on 3 "grep ^conn /var/tmp/queue.client2")"
}

# Both ends of one connection move at once, each to another machine: the
# server 1 -> 2 while its client 3 -> 1 (two migtcp-migrate at the same
# time); the stream goes on, every byte once both ways.
test_both_ends() {
	local pid cpid rc1 rc2 j1 j2 last
	# CRIU restores a process with its PID: node 3's next ones are made
	# far above any node 1 has used, so that the client's is free there.
	last=$(cat /proc/sys/kernel/ns_last_pid)
	on 3 "echo $((last + 5000)) >/proc/sys/kernel/ns_last_pid" || return 1
	stream_start 7400
	sleep 2
	migrate_to 1 2 "$pid" >"$tmp/both.srv" &
	j1=$!
	migrate_to 3 1 "$cpid" >"$tmp/both.cli" &
	j2=$!
	wait "$j1"
	rc1=$?
	wait "$j2"
	rc2=$?
	cat "$tmp/both.srv" "$tmp/both.cli"
	[ "$rc1" = 0 ] && [ "$rc2" = 0 ] || return 1
	sleep 2
	# The client runs on node 1 now, the server on node 2.
	stream_end 1 2
}

# An unmodified iperf3 server under migtcp-run moves 1 -> 2 with
# migtcp-migrate in the middle of a test from node 3: IPERF_BYTES at
# IPERF_RATE, a test that ends once every byte went through.  The server
# is stopped (SIGSTOP) from just before the migration until it runs on
# node 2, so that its test cannot end while the migration starts up
# however slow the machine: its connections go on in the kernel
# meanwhile, as under CRIU's freeze, and CRIU restores it stopped.  The
# client's report (with the server's, --get-server-output) must agree
# with every byte sent; then the server ends on SIGTERM, on node 2.
test_iperf() {
	local port=7500 spid cpid i rc=0
	rm -f /var/tmp/iperf.pid
	setsid "$run" "$iperf" -s -J -p $port -I /var/tmp/iperf.pid \
		</dev/null >/dev/null 2>&1 &
	disown $!
	wait_sockets 1 "^LISTEN .* 1:$port " 1 10 || return 1
	spid=$(cat /var/tmp/iperf.pid) || return 1
	cpid=$(on 3 "$(q "$run") $(q "$iperf") -c $(node_addr 1) -p $port -n $IPERF_BYTES -b $IPERF_RATE -J --get-server-output \
		</dev/null >/var/tmp/iperf.client.json 2>/var/tmp/iperf.client.err & echo \$!")
	# Its control and data connections carry the test: then the move.
	wait_sockets 1 "^ESTABLISHED .* 1:$port " 2 30 || return 1
	sleep 3
	kill -STOP "$spid"
	migrate_to 1 2 "$spid" || rc=1
	on 2 "kill -CONT $spid"
	wait_exit 3 "$cpid" 120 || rc=1
	on 3 "cat /var/tmp/iperf.client.json" >"$tmp/iperf.client.json"
	iperf_check "$tmp/iperf.client.json" "-n $IPERF_BYTES" - || rc=1
	[ "$rc" = 0 ] || diag "client: $(on 3 "tail -n 3 /var/tmp/iperf.client.err")"
	# It ends on SIGTERM, on node 2.
	on 2 "kill $spid" || rc=1
	if ! wait_exit 2 "$spid" 30; then
		diag "$(on 2 "grep State /proc/$spid/status; cat /proc/$spid/wchan; kill -KILL $spid")"
		rc=1
	fi
	return "$rc"
}

# expect_refusal WHY PID HOST [ON]: migtcp-migrate --dry-run (from node
# ON, default 1) fails with status 1 and its JSON error says WHY.
expect_refusal() {
	local why=$1 out rc=0
	out=$(on "${4:-1}" "$(q "$migrate") --remote $(q "$migrate") -n -j $2 $3" 2>/dev/null) || rc=$?
	if [ "$rc" != 1 ] || [[ $out != *'"ok": false'*"$why"* ]]; then
		diag "migtcp-migrate -n $2 $3: status $rc, expected 1 and an error with '$why':" "$out"
		return 1
	fi
}

# What migtcp-migrate checks before it touches the process: each refusal
# says why, and the process is untouched; then a dry run that passes.
test_checks() {
	local pid rc=0 out i
	# A process whose PID node 2 does not use: CRIU restores a process
	# with its PID, and the guests' PIDs are counted apart, so one taken
	# at random may be in use there too (the dry run then says so).
	for ((i = 0; i < 50; i++)); do
		pid=$(setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $!)
		on 2 "test ! -e /proc/$pid" && break
		kill "$pid"
		pid=
	done
	[ -n "$pid" ] || { diag "no PID of node 1 is free on node 2"; return 1; }
	# Node 2 hands out the PIDs after it from now on (until they wrap),
	# so that none of its processes (the SSH sessions of the checks) can
	# take it before the dry run asks.
	on 2 "[ \$(cat /proc/sys/kernel/ns_last_pid) -ge $pid ] || echo $pid >/proc/sys/kernel/ns_last_pid" ||
		{ diag "cannot move node 2's PIDs past $pid"; return 1; }
	expect_refusal "no process 999999 here" 999999 node2 &&
		expect_refusal "cannot reach node9 over SSH" "$pid" node9 &&
		expect_refusal "PID 1 is in use on node2" 1 node2 &&
		expect_refusal "node2 is this node" 1 node2 2 || rc=1
	# A node that is not a peer of this one.
	"$ctl" peer del 2
	expect_refusal "node2 (node 2) is not a peer of this node (node 1)" "$pid" node2 || rc=1
	# shellcheck disable=SC2046 # its words
	"$ctl" peer add 2 $(peer_addrs 2) || { diag "cannot add node 2 again"; rc=1; }
	# A node without the module.
	unload 3 || rc=1
	expect_refusal "the migtcp module is not loaded on node3" "$pid" node3 || rc=1
	test_cluster >/dev/null || { diag "cannot set up node 3 again"; rc=1; }
	if ! out=$("$migrate" --remote "$migrate" -n -j "$pid" node2 2>&1) ||
	   [[ $out != *'"ok": true, "dry_run": true'* ]]; then
		diag "migtcp-migrate -n $pid node2:" "$out"
		rc=1
	fi
	# Nothing happened to the process.
	grep -q '^State:[[:space:]]*S' "/proc/$pid/status" ||
		{ diag "process $pid: $(grep State "/proc/$pid/status" 2>&1)"; rc=1; }
	kill "$pid"
	return "$rc"
}

# A migration that fails after the dump (the process holds a file that
# only node 1 has, so the restore on node 2 fails): the source is
# continued, its socket thawed, and the client's stream goes on, every
# byte once.
test_failed_restore() {
	local pid cpid out rc=0
	echo "node 1's own" >/var/tmp/only-on-node1
	# fd 3: opened before the socket, so restored (and failed) before it.
	stream_start 7200 "3</var/tmp/only-on-node1"
	sleep 1
	out=$("$migrate" --remote "$migrate" -j "$pid" node2 2>/dev/null) && rc=1
	if [ "$rc" = 1 ] || [[ $out != *'"source": "runs on here (continued; its sockets thawed)"'* ]]; then
		diag "migtcp-migrate $pid node2: expected a failed restore, the source continued:" "$out"
		rc=1
	fi
	diag "$(grep -o '"error": "[^"]*"' <<<"$out")"
	# It runs here: its socket still on node 1, the stream moving.
	grep -q '^State:[[:space:]]*[RS]' "/proc/$pid/status" ||
		{ diag "process $pid: $(grep State "/proc/$pid/status" 2>&1)"; rc=1; }
	sleep 2
	stream_end && [ "$rc" = 0 ]
}

# migtcp-migrate interrupted (SIGTERM) while its final dump runs: once
# the dump has returned, the process is continued on the source, its
# sockets thawed, and the client's stream goes on, every byte once.  The
# tool is stopped while criu dump is seen running, and interrupted then,
# so the interrupt is in before the dump returns however fast it is.
test_interrupted_dump() {
	local pid cpid mpid i rc=0 out dumping=" dump -t "
	stream_start 7600 || return 1
	sleep 1
	"$migrate" --remote "$migrate" -j "$pid" node2 >"$tmp/interrupted.json" 2>/dev/null &
	mpid=$!
	for ((i = 0; i < 1200; i++)); do
		pgrep -f "$dumping$pid " >/dev/null && break
		sleep 0.1
	done
	kill -STOP "$mpid"
	if ! pgrep -f "$dumping$pid " >/dev/null; then
		kill -CONT "$mpid"
		wait "$mpid"
		diag "criu dump of $pid was not running while migtcp-migrate was stopped:" "$(cat "$tmp/interrupted.json")"
		return 1
	fi
	kill -TERM "$mpid"
	kill -CONT "$mpid"
	wait "$mpid" && rc=1
	out=$(cat "$tmp/interrupted.json")
	if [ "$rc" = 1 ] || [[ $out != *'"error": "interrupted", "source": "runs on here (continued; its sockets thawed)"'* ]]; then
		diag "migtcp-migrate $pid node2, interrupted in its dump: expected status 1 and the source continued:" "$out"
		rc=1
	fi
	grep -q '^State:[[:space:]]*[RS]' "/proc/$pid/status" ||
		{ diag "process $pid: $(grep State "/proc/$pid/status" 2>&1)"; rc=1; }
	sleep 2
	stream_end && [ "$rc" = 0 ]
}

# Every node's counters after the migrations (what crossed its NIC), in
# the output as JSON; none that says a segment arrived damaged, of
# another version or without the cluster key's proof.
test_counters() {
	local n rc=0 out bad
	for ((n = 1; n <= nodes; n++)); do
		diag "node $n: $(on "$n" "$(q "$ctl") -j stats")"
		out=$(on "$n" "$(q "$ctl") stats") || { diag "node $n: migtcpctl stats failed"; rc=1; continue; }
		bad=$(awk '$1 ~ /^(InHdrErrors|InCsumErrors|InBadVersion|InKxErrors|InCtlBadMac|InHsBadMac|InHsNoMac)$/ && $2 != 0' <<<"$out")
		[ -z "$bad" ] || { diag "node $n, counters that must be 0:" "$bad"; rc=1; }
	done
	return "$rc"
}

# probe_addr N: the address of node N that "migtcpctl peer probe" probes:
# its IPv6 one when both ends have one.
probe_addr() {
	if [ "$underlay" = 4 ]; then node_addr4 "$1"; else node_addr6 "$1"; fi
}

# probe_json N: the start of node N's entry in "migtcpctl -j peer probe",
# up to its result.
probe_json() {
	local a4=null a6=null path=ipv4
	[ "$underlay" = 6 ] || a4="\"$(node_addr4 "$1")\""
	if [ "$underlay" != 4 ]; then
		a6="\"$(node_addr6 "$1")\""
		path=ipv6
	fi
	echo "{\"id\":$1,\"addr\":$a4,\"addr6\":$a6,\"path\":\"$path\","
}

# Every node must load the module with the same proto=.  Node 3's loaded
# with another: migtcpctl on node 1 finds node 2 answering and node 3
# not taking the protocol ("peer probe", and a warning from "load").
test_proto_mismatch() {
	local ko out err rc=0
	# shellcheck disable=SC2016
	ko=$(on 3 'echo '"$(q "$top")"'/build/kbuild/$(uname -r)/migtcp.ko')
	# The client of the test before may still close on node 3.
	unload 3 || return 1
	if ! out=$(on 3 "insmod $(q "$ko") proto=254 &&
		$(q "$ctl") load /run/migtcp/cluster.json" 2>&1); then
		diag "node 3 with proto=254: $out"
		return 1
	fi
	out=$("$ctl" -j peer probe 2>&1) && rc=1
	if [ "$rc" = 1 ] ||
	   [[ $out != *"$(probe_json 2)"'"result":"answers"'* ]] ||
	   [[ $out != *"$(probe_json 3)"'"result":"protocol unreachable"}'* ]]; then
		diag "peer probe on node 1 (status 1 expected):" "$out"
		rc=1
	fi
	err=$("$ctl" load /run/migtcp/cluster.json 2>&1 >/dev/null)
	if [[ $err != *"warning: node 3 ($(probe_addr 3)) does not take IP protocol 253"* ]] ||
	   [[ $err == *"node 2"* ]]; then
		diag "load on node 1 said:" "$err"
		rc=1
	fi
	if ! { unload 3 && test_cluster >/dev/null; }; then
		diag "cannot set up node 3 again"
		return 1
	fi
	out=$("$ctl" -j peer probe 2>&1) ||
		{ diag "peer probe after node 3 is back:" "$out"; return 1; }
	return "$rc"
}

# streams_match CLIENT SERVER: the two summaries of migstream agree: each
# end verified every byte the other sent, none wrong.
streams_match() {
	diag "client: $(cut -c1-200 <<<"$1")" "server: $2"
	[ -n "$1" ] && [ -n "$2" ] &&
		[ "$(json_num "$1" rx_first_bad)" = -1 ] && [ "$(json_num "$2" rx_first_bad)" = -1 ] &&
		[ "$(json_num "$1" rx_verified)" = "$(json_num "$2" tx_bytes)" ] &&
		[ "$(json_num "$2" rx_verified)" = "$(json_num "$1" tx_bytes)" ] &&
		[ "$(json_num "$1" tx_bytes)" -gt 0 ] && [ "$(json_num "$1" rx_verified)" -gt 0 ]
}

# path_routes add|del: nodes 1 and 3 reach each other through node 2,
# over the chain of tools/vm cluster -P 9000,9000 (link 1 between nodes
# 1 and 2, link 2 between nodes 2 and 3), as hosts behind routers do,
# their addresses still the cluster's.  Inside node 2 the path crosses
# a third link, of MTU 1500: a veth pair to a namespace "mid" that holds
# node 2's end of link 2.  So both ends have a first hop of 9000 bytes
# (and announce an MSS to match) and a link of 1500 bytes between them.
# Only migtcp's segments take that path (a rule for its IP protocol, to
# table 100): SSH, whose TCP would otherwise find the path's MTU first
# and hand it to migtcp through the route, stays on the Ethernet.  The
# routes leave the source address to the sender, whose first choice
# would be its address on the chain, not its node's.
# Node 2's routes come first and go last, so that its forwarding is
# there whenever the others use it.
path_routes() {
	local rc=0 n
	if [ "$1" = add ]; then
		on 2 "set -e
			ip netns add mid
			ip -n mid link set lo up
			ip netns exec mid sysctl -qw net.ipv4.ip_forward=1
			ip link add mtu1500 mtu 1500 type veth peer name mtu1500 mtu 1500 netns mid
			ip addr add 198.51.100.65/28 dev mtu1500
			ip link set mtu1500 up
			ip -n mid addr add 198.51.100.66/28 dev mtu1500
			ip -n mid link set mtu1500 up
			ip link set hop2 netns mid
			ip -n mid addr add 198.51.100.33/28 dev hop2
			ip -n mid link set hop2 mtu 9000 up
			ip route add 192.0.2.1/32 dev hop1
			ip route add 192.0.2.3/32 via 198.51.100.66 dev mtu1500
			ip -n mid route add 192.0.2.3/32 dev hop2
			ip -n mid route add 192.0.2.1/32 via 198.51.100.65 dev mtu1500" &&
			on 1 "ip route add 192.0.2.3/32 via 198.51.100.18 dev hop1 table 100 &&
				ip rule add ipproto \$(cat /sys/module/migtcp/parameters/proto) lookup 100 pref 100" &&
			on 3 "ip route add 192.0.2.1/32 via 198.51.100.33 dev hop2 table 100 &&
				ip rule add ipproto \$(cat /sys/module/migtcp/parameters/proto) lookup 100 pref 100"
		return
	fi
	for n in 1 3; do
		on "$n" "ip rule del pref 100 2>/dev/null; ip route flush table 100 2>/dev/null
			! ip rule show | grep -q '^100:' && [ -z \"\$(ip route show table 100)\" ]" ||
			{ diag "node $n: its route through the chain stays"; rc=1; }
	done
	on 2 "ip route del 192.0.2.1/32 2>/dev/null; ip route del 192.0.2.3/32 2>/dev/null
		ip -n mid link set hop2 netns 1 2>/dev/null
		ip netns del mid 2>/dev/null
		ip addr add 198.51.100.33/28 dev hop2 2>/dev/null; ip link set hop2 up
		ip -o addr show dev hop2 | grep -q ' 198\.51\.100\.33/28 ' &&
			! ip route show | grep -q '^192\.0\.2\.[0-9]* '" ||
		{ diag "node 2: its chain is not as tools/vm made it"; rc=1; }
	return "$rc"
}

# ip_stat N FIELD [NETNS]: the Ip: counter FIELD of node N's
# /proc/net/snmp (in NETNS).
ip_stat() {
	on "$1" "${3:+ip netns exec $3} awk '\$1 == \"Ip:\" { if (!n++) for (i = 2; i <= NF; i++) f[\$i] = i; else print \$f[\"$2\"] }' /proc/net/snmp"
}

# Nodes 1 and 3, each with a first hop of MTU 9000, reach each other
# through node 2 over a link of 1500 bytes (path_routes).  Each end's
# first large segments are too large for the path: node 2 refuses them
# ("fragmentation needed", counted as its IP FragFails, on each side of
# that link), and each end must learn the path's MTU from that ICMP
# error and send the rest, and resend what was lost, in segments that
# fit, while they stream both ways.  Every byte is checked.
test_path_mtu() {
	local pid cpid n route fails=() rc=0
	# Skipped (its entry says so): the routes are IPv4 ones.
	[ "$underlay" = 4 ] || return 0
	if [ "${MIGTCP_HOPS:-}" != 9000,9000 ]; then
		diag "needs the chain of links of tools/vm cluster -P 9000,9000 (as make check boots it), not '${MIGTCP_HOPS:-}'"
		return 1
	fi
	path_routes add || { diag "cannot route through node 2"; path_routes del; return 1; }
	for n in 1 3; do
		route=$(on "$n" "ip route show table 100; ip route show table 100 cache")
		if [[ $route != "192.0.2.$((4 - n)) via "*" dev hop"* ]] || [[ $route == *" mtu "* ]]; then
			diag "node $n's route to node $((4 - n)) before (table 100, its cache): $route"
			path_routes del
			return 1
		fi
	done
	fails=("$(ip_stat 2 FragFails)" "$(ip_stat 2 FragFails mid)")
	if ! stream_start 7150; then
		for n in 1 3; do
			diag "node $n's counters not 0: $(on "$n" "$(q "$ctl") stats" | awk '$2 != 0' | tr -s ' \n' ' ')"
		done
		on 1 "kill $pid"
		path_routes del
		return 1
	fi
	sleep 5
	stream_end || rc=1
	fails+=("$(ip_stat 2 FragFails)" "$(ip_stat 2 FragFails mid)")
	diag "node 2's FragFails: towards node 3 ${fails[0]} -> ${fails[2]}, towards node 1 ${fails[1]} -> ${fails[3]}"
	if [ "${fails[2]}" -le "${fails[0]}" ] || [ "${fails[3]}" -le "${fails[1]}" ]; then
		diag "the ends' first segments were not refused as too large for the 1500-byte link"
		rc=1
	fi
	for n in 1 3; do
		route=$(on "$n" "ip route show table 100; ip route show table 100 cache")
		diag "node $n's route to node $((4 - n)) (table 100, its cache): $route"
		[[ $route =~ mtu\ 1500([^0-9]|$) ]] ||
			{ diag "node $n did not learn the path's MTU (1500)"; rc=1; }
	done
	path_routes del || rc=1
	return "$rc"
}

# The module of every node unloads: no socket or reference left.
test_unload() {
	local n rc=0
	for ((n = nodes; n >= 2; n--)); do
		unload "$n" || rc=1
	done
	return "$rc"
}

# Over an IPv6 underlay the modules are loaded afresh first, and the path
# MTU test (IPv4 routes) is skipped.
tests=()
[ -z "${MIGTCP_UNDERLAY:-}" ] ||
	tests+=("test_reload|every node's module unloaded, to be loaded with the addresses of MIGTCP_UNDERLAY=$underlay only")
path_mtu_skip=
[ "$underlay" = 4 ] || path_mtu_skip=" # SKIP its routes are IPv4 ones; MIGTCP_UNDERLAY=$underlay"
tests+=(
	"test_cluster|$nodes nodes, each its own kernel: the module loaded, one cluster file sent to all"
	"test_checks|migtcp-migrate's checks: no such process, host unreachable, PID in use, same node, not a peer, no module; a dry run"
	"test_stream_migrations|a server moves 1 -> 2 -> 1 with migtcp-migrate while a client on node 3 streams both ways: every byte once"
	"test_listener_redirect|a listener with its accept queue moves 1 -> 2; a new client dialling node 1 is redirected; every byte checked"
	"test_both_ends|both ends of one connection move at once, 1 -> 2 and 3 -> 1: every byte once"
	"test_iperf|an unmodified iperf3 server under migtcp-run moves 1 -> 2 in the middle of a test"
	"test_failed_restore|a restore that fails on the target leaves the process running on the source, its stream intact"
	"test_interrupted_dump|migtcp-migrate interrupted during its final dump continues the process on the source, its stream intact"
	"test_path_mtu|nodes 1 and 3, each on a 9000-byte link, through a 1500-byte one inside node 2: each end learns the path's MTU from node 2's ICMP error; every byte of a stream both ways$path_mtu_skip"
	"test_counters|every node's counters: no segment damaged, of another version, or without the key's proof"
	"test_proto_mismatch|a node whose module uses another proto= is found by peer probe and named by load"
	"test_unload|every other node's module unloads at the end"
)

pick_tests "${MIGTCP_XKERNEL_TESTS:-}"

run_tests "${tests[@]}"
