#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The control plane through migtcpctl, as an operator uses it: a 3-node
# cluster in network namespaces (veth to a bridge, 192.0.2.0/24)
# configured from one cluster file; every command in text and JSON (JSON
# checked with python3's json module); rejections with their messages and
# exit status; changes refused to unprivileged users and to user
# namespaces that do not own the node; nodes isolated from each other; a
# cluster key that is never readable; notifications; the man pages.  IPv6
# underlay addresses: nodes and peers with an IPv6 address, one of each
# family or IPv4 only, cluster files of both kinds, the probe over the
# path the kernel takes.
#
# Environment: MIGTCP_CTL (migtcpctl), MIGTCP_TEST_BIN (hold_socket).
# Runs as root with the module loaded.  Prints TAP 13.  Without the module
# or root it runs only the tests that need neither (the command line, the
# cluster file, image show), as on a build host.
#
# The tests are functions run from a table, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$here/lib.sh"
top=$(cd "$here/.." && pwd)

ctl=${MIGTCP_CTL:-$top/build/userspace/migtcpctl}
hold_bin=${MIGTCP_TEST_BIN:-$top/build/selftests}/hold_socket
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3

[ -x "$ctl" ] || skip_all "migtcpctl not found at $ctl"
# Why only the tests that need neither root nor the module run, if so.
offline=
[ -x "$hold_bin" ] || offline="hold_socket not found at $hold_bin"
[ "$(id -u)" -eq 0 ] || offline="not root"
[ -e /sys/module/migtcp ] || offline="the migtcp module is not loaded"

tmp=$(mktemp -d /tmp/migtcp_control_test.XXXXXX) || exit 1
ns=mtc$$
sw=$ns-sw
key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

cleanup() {
	stop_holder
	del_nodes
	rm -rf "$tmp"
}
trap cleanup EXIT

# at NODE CMD...: runs CMD in the namespace of NODE (n1, n2, …); "-" is
# where this script runs, for what needs no node.
at() {
	local node=$1
	shift
	if [ "$node" = - ]; then
		"$@"
	else
		ip netns exec "$ns-$node" "$@"
	fi
}

# mctl NODE ARGS...: migtcpctl in NODE; stdout to $tmp/out, stderr to
# $tmp/err; returns its exit status.
mctl() {
	local node=$1
	shift
	at "$node" "$ctl" "$@" >"$tmp/out" 2>"$tmp/err"
}

# expect_status WANT NODE ARGS...: migtcpctl exits with WANT.
expect_status() {
	local want=$1 status
	shift
	mctl "$@"
	status=$?
	if [ "$status" != "$want" ]; then
		diag "migtcpctl ${*:2} at $1: exit $status, expected $want" \
		     "$(cat "$tmp/out" "$tmp/err")"
		return 1
	fi
}

# expect_error NODE MESSAGE ARGS...: migtcpctl exits 1 saying MESSAGE.
expect_error() {
	local node=$1 msg=$2
	shift 2
	expect_status 1 "$node" "$@" || return 1
	if ! grep -qF -- "$msg" "$tmp/err"; then
		diag "migtcpctl $* said: $(cat "$tmp/err")" "expected: $msg"
		return 1
	fi
}

# pycheck EXPR: python3 evaluates EXPR with j = the JSON at $tmp/out; the
# check passes if EXPR is true.
pycheck() {
	if ! json_check "$1" "$tmp/out"; then
		diag "output was: $(cat "$tmp/out")"
		return 1
	fi
}

write_cluster() {
	cat >"$tmp/cluster.json" <<EOF
{
  "key-file": "cluster.key",
  "port-range": [40000, 49999],
  "nodes": [
    {"id": 1, "host": "alpha", "addr": "192.0.2.1"},
    {"id": 2, "host": "beta", "addr": "192.0.2.2"},
    {"id": 3, "host": "gamma", "addr": "192.0.2.3"}
  ]
}
EOF
}

setup_cluster() {
	local i
	ip netns add "$sw" &&
		ip -n "$sw" link add br0 type bridge &&
		ip -n "$sw" link set br0 up || return 1
	for i in 1 2 3; do
		new_node "n$i" && attach "n$i" "192.0.2.$i" || return 1
	done
	echo "$key" >"$tmp/cluster.key"
	chmod 600 "$tmp/cluster.key"
	write_cluster
}

# hold NODE COUNT PORT: hold_socket in NODE; its output at $tmp/hold.out.
hold() {
	local i line=
	# A stale hold.out would say "ready" before this helper starts.
	rm -f "$tmp/hold" "$tmp/hold.out"
	mkfifo "$tmp/hold" || return 1
	# The helper opens its output only once this shell opens the fifo;
	# the file must be there for the reads below before that.
	: >"$tmp/hold.out"
	at "$1" "$hold_bin" "$2" "$3" <"$tmp/hold" >"$tmp/hold.out" 2>&1 &
	hold_pid=$!
	exec {hold_fd}>"$tmp/hold"
	for ((i = 0; i < 100; i++)); do
		read -r line <"$tmp/hold.out"
		[ "$line" = ready ] && return 0
		sleep 0.1
	done
	diag "hold_socket: $(cat "$tmp/hold.out")"
	return 1
}

test_load_cluster() {
	local i
	setup_cluster || { diag "cannot build the cluster"; return 1; }
	for i in 1 2 3; do
		expect_status 0 "n$i" load "$tmp/cluster.json" || return 1
		grep -qx "node $i configured: 2 peers" "$tmp/out" ||
			{ diag "load in n$i said: $(cat "$tmp/out")"; return 1; }
		expect_status 0 "n$i" -j node || return 1
		pycheck "j == {'id': $i, 'addr': '192.0.2.$i', 'addr6': None, 'key_set': True,
			       'port_min': 40000, 'port_max': 49999, 'peers': 2,
			       'max_peers': j['max_peers']} and
			 j['max_peers'] >= 2" || return 1
	done
}

test_peer_lists() {
	local i
	for i in 1 2 3; do
		expect_status 0 "n$i" -j peer || return 1
		pycheck "sorted((p['id'], p['addr']) for p in j) ==
			 [(k, '192.0.2.%d' % k) for k in (1, 2, 3) if k != $i]" ||
			return 1
	done
}

test_node_text() {
	expect_status 0 n1 node || return 1
	if ! diff -u - "$tmp/out" >"$tmp/diff" <<EOF
node 1
  addr 192.0.2.1
  key set
  ports 40000-49999
  peers 2/$(cat /sys/module/migtcp/parameters/max_peers)
EOF
	then
		diag "$(cat "$tmp/diff")"
		return 1
	fi
}

test_peer_text() {
	expect_status 0 n2 peer || return 1
	if [ "$(awk '{print $1, $2}' "$tmp/out")" != "$(printf 'ID ADDR\n1 192.0.2.1\n3 192.0.2.3')" ]; then
		diag "peer list: $(cat "$tmp/out")"
		return 1
	fi
}

test_load_by_hostname() {
	new_node n4 || return 1
	if ! at n4 unshare --uts sh -c "hostname beta && exec $ctl load $tmp/cluster.json" \
		>"$tmp/out" 2>"$tmp/err"; then
		diag "load as host beta: $(cat "$tmp/err")"
		return 1
	fi
	expect_status 0 n4 -j node && pycheck "j['id'] == 2 and j['addr'] == '192.0.2.2'"
}

test_load_by_id() {
	new_node n5 || return 1
	expect_status 0 n5 load "$tmp/cluster.json" id 3 || return 1
	expect_status 0 n5 -j node && pycheck "j['id'] == 3"
}

test_load_no_match() {
	new_node n6 || return 1
	expect_status 1 n6 load "$tmp/cluster.json" || return 1
	expect_status 0 n6 -j node && pycheck "j['id'] is None and j['peers'] == 0"
}

test_reload_applies_changes() {
	expect_status 0 n1 -j load "$tmp/cluster.json" || return 1
	pycheck "j['added'] == 0 and j['replaced'] == 0 and j['deleted'] == 0" || return 1
	# Node 3 leaves the cluster, node 2 moves.
	"$python" - "$tmp/cluster.json" <<'EOF' || return 1
import json
import sys
with open(sys.argv[1]) as f:
    c = json.load(f)
c['nodes'] = [n for n in c['nodes'] if n['id'] != 3]
c['nodes'][1]['addr'] = '192.0.2.22'
with open(sys.argv[1], 'w') as f:
    json.dump(c, f)
EOF
	expect_status 0 n1 -j load "$tmp/cluster.json" || return 1
	pycheck "j['added'] == 0 and j['replaced'] == 1 and j['deleted'] == 1" || return 1
	expect_status 0 n1 -j peer &&
		pycheck "j == [{'id': 2, 'addr': '192.0.2.22', 'addr6': None}]" || return 1
	write_cluster
	expect_status 0 n1 load "$tmp/cluster.json"
}

test_node_set() {
	new_node n7 || return 1
	echo "$key" >"$tmp/n7.key"
	chmod 600 "$tmp/n7.key"
	expect_status 0 n7 node set id 9 addr 198.51.100.9 port-range 50000-50100 || return 1
	expect_status 0 n7 -j node || return 1
	pycheck "j['id'] == 9 and j['addr'] == '198.51.100.9' and
		 not j['key_set'] and (j['port_min'], j['port_max']) == (50000, 50100)" ||
		return 1
	expect_status 0 n7 node set key-file "$tmp/n7.key" || return 1
	expect_status 0 n7 -j node && pycheck "j['key_set'] and j['id'] == 9"
}

# The key is write-only: nothing that reads the node shows it.
test_key_never_readable() {
	local out
	for args in "node" "-j node" "peer" "-j peer" "stats" "sockets"; do
		# shellcheck disable=SC2086
		mctl n1 $args || { diag "migtcpctl $args failed"; return 1; }
		if grep -qiF "$key" "$tmp/out" "$tmp/err"; then
			diag "migtcpctl $args shows the key"
			return 1
		fi
	done
	out=$(at n1 cat /proc/net/migtcp /proc/net/migtcp_stats)
	if grep -qiF "$key" <<<"$out"; then
		diag "/proc shows the key"
		return 1
	fi
}

test_peer_add_replace_del() {
	expect_status 0 n7 peer add 5 addr 198.51.100.5 || return 1
	expect_status 0 n7 -j peer && pycheck "j == [{'id': 5, 'addr': '198.51.100.5', 'addr6': None}]" || return 1
	expect_status 0 n7 peer replace 5 addr 198.51.100.55 || return 1
	expect_status 0 n7 -j peer && pycheck "j == [{'id': 5, 'addr': '198.51.100.55', 'addr6': None}]" || return 1
	expect_status 0 n7 peer del 5 || return 1
	expect_status 0 n7 -j peer && pycheck "j == []"
}

test_rejections() {
	expect_status 0 n7 peer add 6 addr 198.51.100.6 || return 1
	expect_error n7 "a peer with this id already exists" peer add 6 addr 198.51.100.66 || return 1
	expect_error n7 "no peer with this id" peer replace 60 addr 198.51.100.60 || return 1
	expect_error n7 "no peer with this id" peer del 60 || return 1
	expect_error n7 "this node's own id" peer add 9 addr 198.51.100.99 || return 1
	expect_error n7 "not a unicast IPv4 address" peer add 61 addr 224.0.0.1 || return 1
	expect_error n7 "the node id is in the peer table" node set id 6 || return 1
	# Nothing changed.
	expect_status 0 n7 -j peer && pycheck "j == [{'id': 6, 'addr': '198.51.100.6', 'addr6': None}]" || return 1
	expect_status 0 n7 -j node && pycheck "j['id'] == 9"
}

test_usage_errors() {
	local bad
	for bad in "peer add 0 addr 198.51.100.1" "peer add 7 addr 2001:db8::g" \
		   "peer add 7" "node set" "node set port-range 9-8" "bogus"; do
		# shellcheck disable=SC2086
		expect_status 2 n7 $bad || return 1
	done
	printf '%s\n' "${key:0:63}" >"$tmp/short.key"
	chmod 600 "$tmp/short.key"
	expect_error n7 "has 63 hex digits, expected 64" node set key-file "$tmp/short.key"
}

# A key file that group or others may read or write is refused, by
# node set and by load, saying why and how to fix it; nothing changes.
test_key_file_private() {
	local mode
	new_node n8 || return 1
	for mode in 644 640 604 660 606; do
		echo "$key" >"$tmp/open.key"
		chmod "$mode" "$tmp/open.key"
		expect_error n8 "is open to group or others (mode 0$mode): a cluster key must be private (chmod 600 $tmp/open.key)" \
			node set key-file "$tmp/open.key" || return 1
	done
	sed 's/"cluster.key"/"open.key"/' "$tmp/cluster.json" >"$tmp/open.json"
	expect_error n8 "$tmp/open.json: key-file: $tmp/open.key: is open to group or others" \
		load "$tmp/open.json" id 1 || return 1
	expect_status 0 n8 -j node && pycheck "j['id'] is None and not j['key_set']" || return 1
	chmod 600 "$tmp/open.key"
	expect_status 0 n8 node set key-file "$tmp/open.key" &&
		expect_status 0 n8 -j node && pycheck "j['key_set']"
}

# load --check validates the whole file (syntax with line and column,
# fields by path, the key file) and applies nothing.
test_load_check() {
	new_node n9 || return 1
	expect_status 0 n9 load --check "$tmp/cluster.json" || return 1
	grep -qxF "$tmp/cluster.json: valid: 3 nodes, a cluster key, ports 40000-49999" "$tmp/out" ||
		{ diag "load --check said: $(cat "$tmp/out")"; return 1; }
	expect_status 0 n9 -j load --check "$tmp/cluster.json" id 2 &&
		pycheck "j == {'file': '$tmp/cluster.json', 'valid': True, 'nodes': 3, 'key': True,
			      'port_min': 40000, 'port_max': 49999}" ||
		return 1
	expect_error n9 "$tmp/cluster.json: node 7 is not in the file" \
		load --check "$tmp/cluster.json" id 7 || return 1
	printf '{"nodes": [\n  {"id": 1, "addr": "192.0.2.1"},\n]}\n' >"$tmp/bad.json"
	expect_error n9 "$tmp/bad.json: 3:1: unexpected character" \
		load --check "$tmp/bad.json" || return 1
	printf '{"nodes": [{"id": 1, "addr": "192.0.2.1"}, {"id": 2, "addr": "192.0.2.256"}]}\n' >"$tmp/bad.json"
	expect_error n9 "$tmp/bad.json: nodes[1].addr: expected a dotted-quad IPv4 address" \
		load --check "$tmp/bad.json" || return 1
	# Nothing was applied.
	expect_status 0 n9 -j node && pycheck "j['id'] is None and j['peers'] == 0"
}

test_node_id_fixed_while_bound() {
	hold n7 1 5000 || return 1
	expect_error n7 "sockets are bound" node set id 10 || return 1
	stop_holder
	expect_status 0 n7 node set id 10 && expect_status 0 n7 node set id 9
}

test_unprivileged() {
	local nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	# shellcheck disable=SC2086
	if at n1 $nobody "$ctl" node set id 4 >"$tmp/out" 2>"$tmp/err"; then
		diag "nobody could change the node id"
		return 1
	fi
	grep -qF "Operation not permitted" "$tmp/err" || { diag "$(cat "$tmp/err")"; return 1; }
	# shellcheck disable=SC2086
	if at n1 $nobody "$ctl" peer add 40 addr 198.51.100.40 >/dev/null 2>&1; then
		diag "nobody could add a peer"
		return 1
	fi
	for args in "node" "peer" "sockets" "stats"; do
		# shellcheck disable=SC2086
		at n1 $nobody "$ctl" -j $args >"$tmp/out" 2>"$tmp/err" ||
			{ diag "nobody cannot read $args: $(cat "$tmp/err")"; return 1; }
		pycheck "True" || return 1
	done
	expect_status 0 n1 -j node && pycheck "j['id'] == 1"
}

# Root of a user namespace is not root of a node its namespace does not own.
test_user_namespace() {
	if at n1 unshare --user --map-root-user "$ctl" peer add 40 addr 198.51.100.40 \
		>"$tmp/out" 2>"$tmp/err"; then
		diag "a user namespace could add a peer to node 1"
		return 1
	fi
	grep -qF "Operation not permitted" "$tmp/err" || { diag "$(cat "$tmp/err")"; return 1; }
	# Its own node, though, it may configure.
	unshare --user --map-root-user --net sh -c \
		"$ctl node set id 77 && $ctl -j node" >"$tmp/out" 2>"$tmp/err" ||
		{ diag "own netns: $(cat "$tmp/err")"; return 1; }
	pycheck "j['id'] == 77"
}

test_isolation() {
	expect_status 0 n2 peer add 42 addr 198.51.100.42 || return 1
	expect_status 0 n1 -j peer && pycheck "42 not in [p['id'] for p in j]" || return 1
	hold n2 2 6000 || return 1
	if ! { expect_status 0 n1 -j sockets && pycheck "j == []"; }; then
		stop_holder
		return 1
	fi
	expect_status 0 n2 -j sockets
	local rc=$?
	stop_holder
	[ $rc = 0 ] && pycheck "len(j) == 2" && expect_status 0 n2 peer del 42
}

test_sockets() {
	local inodes
	hold n3 2 7000 || return 1
	inodes=$(tail -n +2 "$tmp/hold.out" | sort -n | paste -sd,)
	expect_status 0 n3 -j sockets || { stop_holder; return 1; }
	pycheck "sorted((s['state'], s['local_node'], s['local_port'], s['remote_node'],
			 s['remote_port'], s['rx_queue'], s['tx_queue'], s['uid'])
			for s in j) == [('CLOSE', 3, 7000, 0, 0, 0, 0, 0),
					('CLOSE', 3, 7001, 0, 0, 0, 0, 0)] and
		 sorted(s['inode'] for s in j) == [$inodes]" || { stop_holder; return 1; }
	expect_status 0 n3 sockets || { stop_holder; return 1; }
	stop_holder
	if ! grep -q "^CLOSE .* 3:7000 " "$tmp/out"; then
		diag "sockets table: $(cat "$tmp/out")"
		return 1
	fi
}

test_stats() {
	expect_status 0 n1 stats || return 1
	if ! at n1 cat /proc/net/migtcp_stats | diff -u - "$tmp/out" >"$tmp/diff"; then
		diag "$(cat "$tmp/diff")"
		return 1
	fi
	at n1 cat /proc/net/migtcp_stats >"$tmp/proc"
	expect_status 0 n1 -j stats || return 1
	pycheck "sorted(j.items()) == sorted((l.split()[0], int(l.split()[1]))
			for l in open('$tmp/proc'))"
}

test_monitor() {
	local pid i
	# Not through at(), whose $! would be a subshell: a failure below
	# kills the monitor itself, which would otherwise wait for ever.
	ip netns exec "$ns-n1" "$ctl" -j monitor count 3 >"$tmp/mon" 2>"$tmp/mon.err" &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -q monitoring "$tmp/mon.err" && break
		sleep 0.1
	done
	if ! { expect_status 0 n1 peer add 50 addr 198.51.100.50 &&
	       expect_status 0 n1 peer replace 50 addr 198.51.100.51 &&
	       expect_status 0 n1 peer del 50; }; then
		kill "$pid"
		return 1
	fi
	# Another node's changes are not node 1's news.
	expect_status 0 n2 peer add 50 addr 198.51.100.50 || { kill "$pid"; return 1; }
	if ! wait "$pid"; then
		diag "monitor: $(cat "$tmp/mon.err")"
		return 1
	fi
	"$python" - "$tmp/mon" <<'EOF'
import json
import sys
events = [json.loads(line) for line in open(sys.argv[1])]
want = [('peer-add', 50, '198.51.100.50'), ('peer-replace', 50, '198.51.100.51'),
        ('peer-del', 50)]
got = [(e['event'], e['id'], e['addr']) if e['event'] != 'peer-del'
       else (e['event'], e['id']) for e in events]
if got != want:
    print('# monitor saw %r' % events)
    sys.exit(1)
EOF
	local rc=$?
	expect_status 0 n2 peer del 50 && return $rc
}

# The README's three-node example works as written: its file lines run
# once, its migtcpctl lines on each node.
test_readme_example() {
	local block i
	block=$(awk '/^### A three-node cluster/ { on = 1 }
		     on && /^```sh/ { inside = 1; next }
		     inside && /^```/ { exit }
		     inside' "$top/README.md")
	[ -n "$block" ] || { diag "no example in README.md"; return 1; }
	mkdir -p "$tmp/readme"
	if ! (cd "$tmp/readme" && bash -e -c "$(grep -v '^migtcpctl' <<<"$block")"); then
		diag "README file lines failed"
		return 1
	fi
	for i in 1 2 3; do
		if ! (cd "$tmp/readme" && PATH=$(dirname "$ctl"):$PATH \
			ip netns exec "$ns-n$i" bash -e -c "$(grep '^migtcpctl' <<<"$block")") \
			>"$tmp/out" 2>&1; then
			diag "README migtcpctl lines failed in n$i: $(cat "$tmp/out")"
			return 1
		fi
		expect_status 0 "n$i" -j node || return 1
		pycheck "j['id'] == $i and j['key_set'] and j['peers'] == 2" || return 1
		expect_status 0 "n$i" -j peer || return 1
		pycheck "sorted(p['id'] for p in j) == [k for k in (1, 2, 3) if k != $i]" ||
			return 1
	done
}

# peer probe: every peer that speaks migtcp on this node's protocol number
# answers (text and JSON, all or the ones named); a peer address where
# nobody does gets no answer and the exit status says so.
test_peer_probe() {
	local rc
	expect_status 0 n1 peer probe || return 1
	if ! awk 'NR > 1 { print $1, $2, $3 }' "$tmp/out" |
		diff -u - <(printf '2 192.0.2.2 answers\n3 192.0.2.3 answers\n') >"$tmp/diff"; then
		diag "peer probe: $(cat "$tmp/out")" "$(cat "$tmp/diff")"
		return 1
	fi
	expect_status 0 n2 -j peer probe 3 || return 1
	pycheck "len(j) == 1 and j[0]['id'] == 3 and j[0]['addr'] == '192.0.2.3' and
		 j[0]['result'] == 'answers' and j[0]['rtt_us'] > 0" || return 1
	expect_error n1 "node 7 is not a peer" peer probe 7 || return 1
	expect_status 2 n1 peer probe timeout 0 || return 1
	# Nobody has that address: no answer within the timeout.
	expect_status 0 n1 peer add 5 addr 192.0.2.5 || return 1
	expect_status 1 n1 -j peer probe 2 5 timeout 300
	rc=$?
	at n1 "$ctl" peer del 5
	[ "$rc" = 0 ] && pycheck "[(p['id'], p['result']) for p in j] ==
				 [(2, 'answers'), (5, 'no answer')]"
}

# The command line: "addr" takes an address of either family, at most one
# of each; every mistake is a usage error (exit 2) saying what is wrong,
# found before the kernel is asked.
test_addr_usage_errors() {
	local args msg
	while IFS='|' read -r args msg; do
		# shellcheck disable=SC2086
		expect_status 2 - $args || return 1
		if ! grep -qF -- "$msg" "$tmp/err"; then
			diag "migtcpctl $args said: $(cat "$tmp/err")" "expected: $msg"
			return 1
		fi
	done <<'EOF'
peer add 7 addr 2001:db8::g|invalid address '2001:db8::g': expected an IPv4 or IPv6 address
peer add 7 addr fe80::7%eth0|invalid address 'fe80::7%eth0': expected an IPv4 or IPv6 address
peer add 7 addr 192.0.2.7 addr 192.0.2.8|two IPv4 addresses, 192.0.2.7 and 192.0.2.8: give at most one of each family
peer replace 7 addr 2001:db8::7 addr 192.0.2.7 addr 2001:db8:0::8|two IPv6 addresses, 2001:db8::7 and 2001:db8:0::8: give at most one of each family
peer add 7 addr 2001:db8::7 addr|'addr' needs a value
peer add 7 addr 2001:db8::7 port 9|unexpected argument 'port' after peer add 7 addr 2001:db8::7
peer add 7 port 9|peer add needs 'ID addr ADDRESS'
node set addr 2001:db8::1 addr 2001:db8::2|two IPv6 addresses, 2001:db8::1 and 2001:db8::2: give at most one of each family
node set addr 192.0.2.1 id 1 addr 198.51.100.1|two IPv4 addresses, 192.0.2.1 and 198.51.100.1: give at most one of each family
EOF
}

# expect_check_error NODES MESSAGE: load --check of a cluster file whose
# "nodes" are NODES fails saying "FILE: MESSAGE".
expect_check_error() {
	printf '{"nodes": [%s]}\n' "$1" >"$tmp/bad6.json"
	expect_error - "$tmp/bad6.json: $2" load --check "$tmp/bad6.json"
}

# The cluster file with IPv6: addr, addr6 or both; each wrong addr6 found
# with its path and why, as the kernel would refuse it; addr6 unique.
test_cluster_file_ipv6() {
	local n1='{"id": 1, "addr6": "2001:db8::1"}' bad why
	printf '%s\n' '{"nodes": [{"id": 1, "addr": "192.0.2.1", "addr6": "2001:db8::1"},' \
		'{"id": 2, "addr6": "2001:db8::2"}, {"id": 3, "addr": "192.0.2.3"}]}' \
		>"$tmp/dual.json"
	expect_status 0 - load --check "$tmp/dual.json" id 2 || return 1
	grep -qxF "$tmp/dual.json: valid: 3 nodes, no cluster key" "$tmp/out" ||
		{ diag "load --check said: $(cat "$tmp/out")"; return 1; }
	printf '{"nodes": [%s, {"id": 2, "addr6": "2001:db8::2"}]}\n' "$n1" >"$tmp/only6.json"
	expect_status 0 - -j load --check "$tmp/only6.json" &&
		pycheck "j == {'file': '$tmp/only6.json', 'valid': True, 'nodes': 2, 'key': False}" ||
		return 1

	expect_check_error '{"id": 1, "addr": "192.0.2.1"}, {"id": 2, "host": "b"}' \
		'nodes[1]: no "addr" or "addr6": a node needs an IPv4 or an IPv6 address' || return 1
	expect_check_error "$n1"', {"id": 2, "addr6": "2001:db8::2::"}' \
		'nodes[1].addr6: expected an IPv6 address, got "2001:db8::2::"' || return 1
	expect_check_error "$n1"', {"id": 2, "addr6": 2}' \
		'nodes[1].addr6: expected an IPv6 address, got 2' || return 1
	expect_check_error "$n1"', {"id": 2, "addr6": "192.0.2.2"}' \
		'nodes[1].addr6: expected an IPv6 address, got "192.0.2.2" (an IPv4 address goes in "addr")' ||
		return 1
	expect_check_error "$n1"', {"id": 2, "addr": "2001:db8::2"}' \
		'nodes[1].addr: expected a dotted-quad IPv4 address, got "2001:db8::2" (an IPv6 address goes in "addr6")' ||
		return 1
	# IPv4 as the kernel's migtcp_addr4_is_unicast(): no file that the
	# check passes is refused halfway through applying it.
	while read -r bad why; do
		expect_check_error "$n1"', {"id": 2, "addr": "'"$bad"'"}' \
			"nodes[1].addr: $bad is $why, not a unicast address" || return 1
	done <<'EOF'
0.1.2.3 in 0.0.0.0/8 ("this network")
0.0.0.0 in 0.0.0.0/8 ("this network")
127.0.0.2 a loopback address
224.0.0.1 a multicast address
239.255.255.255 a multicast address
240.0.0.1 a reserved or broadcast address
255.255.255.255 a reserved or broadcast address
EOF
	printf '%s\n' '{"nodes": [{"id": 1, "addr": "223.255.255.254"}, {"id": 2, "addr": "1.0.0.1"}]}' \
		>"$tmp/edges.json"
	expect_status 0 - load --check "$tmp/edges.json" id 1 || return 1
	while read -r bad why; do
		expect_check_error "$n1"', {"id": 2, "addr": "192.0.2.2", "addr6": "'"$bad"'"}' \
			"nodes[1].addr6: $bad is $why, not a global unicast address" || return 1
	done <<'EOF'
fe80::2 a link-local address
fec0::2 a site-local address
ff02::2 a multicast address
::1 the loopback address
:: the unspecified address
::ffff:192.0.2.2 an IPv4-mapped address
::192.0.2.2 an IPv4-compatible address
EOF
	# The same address in another spelling, beside different IPv4 ones.
	expect_check_error '{"id": 1, "addr": "192.0.2.1", "addr6": "2001:db8::1"},
			    {"id": 2, "addr": "192.0.2.2", "addr6": "2001:DB8:0::1"}' \
		'nodes[1]: addr6 2001:db8::1 is already the address of nodes[0]' || return 1
	expect_check_error "$n1"', {"id": 2, "addr6": "2001:db8::2", "addr4": "192.0.2.2"}' \
		'nodes[1]: unknown key "addr4" (expected id, host, addr, addr6)'
}

# make_image DIR [LEN]: DIR/migtcp-sk-7.img, a socket image built from the
# uapi header and criu_image.h: a connection 1:5000 -> 2:40000 taken over
# IPv6 (host_addr6 2001:db8::1, peer_addr6 2001:db8::2, LEN bytes of it,
# 16 by default) while its SYN cookie's ACK was awaited (kx_half).
make_image() {
	"$python" - "$top/include/uapi/linux/migtcp.h" "$top/userspace/lib/criu_image.h" \
		"$1/migtcp-sk-7.img" "${2:-16}" <<'EOF'
import re
import socket
import struct
import sys

uapi, img_h = (open(p).read() for p in sys.argv[1:3])


def enum(text, name):
    body = re.search(r'enum %s \{(.*?)\};' % name, text, re.S).group(1)
    vals, n = {}, 0
    for e in re.sub(r'/\*.*?\*/', '', body, flags=re.S).split(','):
        e = e.strip()
        if '=' in e:
            e, v = (x.strip() for x in e.split('='))
            n = int(v, 0)
        if e:
            vals[e] = n
            n += 1
    return vals


def define(text, name):
    return int(re.search(r'#define\s+%s\s+(\w+)' % name, text).group(1), 0)


def attr(kind, payload):
    a = struct.pack('=HH', 4 + len(payload), kind) + payload
    return a + b'\0' * (-len(a) % 4)


A = enum(uapi, 'migtcp_ckpt_attr')
I = enum(img_h, 'migtcp_img_attr')
K = enum(uapi, 'migtcp_ckpt_kind')
a6 = socket.inet_pton(socket.AF_INET6, '2001:db8::2')[:int(sys.argv[4])]
rec = b''.join([
    attr(A['MIGTCP_CKPT_A_KIND'], bytes([K['MIGTCP_CKPT_CONN']])),
    attr(A['MIGTCP_CKPT_A_STATE'], bytes([1])),  # TCP_ESTABLISHED
    attr(A['MIGTCP_CKPT_A_LOCAL_NODE'], struct.pack('=I', 1)),
    attr(A['MIGTCP_CKPT_A_LOCAL_PORT'], struct.pack('=H', 5000)),
    attr(A['MIGTCP_CKPT_A_REMOTE_NODE'], struct.pack('=I', 2)),
    attr(A['MIGTCP_CKPT_A_REMOTE_PORT'], struct.pack('=H', 40000)),
    attr(A['MIGTCP_CKPT_A_HOST_ADDR_IN6'],
         socket.inet_pton(socket.AF_INET6, '2001:db8::1')),
    attr(A['MIGTCP_CKPT_A_PEER_ADDR_IN6'], a6),
    attr(A['MIGTCP_CKPT_A_EPOCH'], struct.pack('=Q', 3)),
    attr(A['MIGTCP_CKPT_A_KX_HALF'], bytes(range(0x40, 0x60))),
])
rec = struct.pack('=II', 8 + len(rec), 0) + rec
ckpt = struct.pack('=IHHII', define(uapi, 'MIGTCP_CKPT_MAGIC'),
                   define(uapi, 'MIGTCP_CKPT_VERSION'), 16, 16 + len(rec), 1) + rec
attrs = (attr(I['MIGTCP_IMG_A_FAMILY'], struct.pack('=I', 19)) +
         attr(I['MIGTCP_IMG_A_FILE_FLAGS'], struct.pack('=I', 2)))
hdr = struct.pack('=IHHII', define(img_h, 'MIGTCP_IMG_MAGIC'),
                  define(img_h, 'MIGTCP_IMG_VERSION'), 16, len(attrs), len(ckpt))
with open(sys.argv[3], 'wb') as f:
    f.write(hdr + attrs + ckpt)
EOF
}

# image show: the IPv6 addresses of a connection checkpointed over IPv6,
# text and JSON; the key-exchange half only as present; an address of the
# wrong size refused.
test_image_ipv6() {
	mkdir -p "$tmp/img6" && make_image "$tmp/img6" || return 1
	expect_status 0 - image show "$tmp/img6" || return 1
	if ! grep -qxF "  record 0: connection 1:5000 -> 2:40000 ESTABLISHED" "$tmp/out" ||
		! grep -qxF "    identity: host_addr6 2001:db8::1 peer_addr6 2001:db8::2 epoch 3 kx_half present" \
			"$tmp/out" || grep -qi 404142 "$tmp/out"; then
		diag "image show said:" "$(cat "$tmp/out")"
		return 1
	fi
	expect_status 0 - -j image show "$tmp/img6" || return 1
	pycheck "[(r['host_addr6'], r['peer_addr6'], r['kx_half_present'], 'host_addr' in r,
		   'peer_addr' in r) for r in j[0]['checkpoint']['records']] ==
		 [('2001:db8::1', '2001:db8::2', True, False, False)]" || return 1
	make_image "$tmp/img6" 4 || return 1
	expect_error - "migtcp-sk-7.img: the checkpoint is not valid: record 0 at byte 16: attribute peer_addr6 has 4 bytes, the wrong size or content" \
		image show "$tmp/img6"
}

# node set with IPv6: an IPv6 address alone, then one of each family (an
# address of one family leaves the other); the kernel refuses what is
# not global unicast and nothing changes.
test_node_set_ipv6() {
	local bad
	new_node n10 || return 1
	expect_status 0 n10 node set id 10 addr 2001:db8::10 || return 1
	expect_status 0 n10 -j node &&
		pycheck "j['id'] == 10 and j['addr'] is None and j['addr6'] == '2001:db8::10'" ||
		return 1
	expect_status 0 n10 node || return 1
	if ! head -n 3 "$tmp/out" | diff -u - <(printf 'node 10\n  addr none\n  addr6 2001:db8::10\n') \
		>"$tmp/diff"; then
		diag "$(cat "$tmp/diff")"
		return 1
	fi
	expect_status 0 n10 node set addr 198.51.100.10 || return 1
	expect_status 0 n10 -j node &&
		pycheck "(j['addr'], j['addr6']) == ('198.51.100.10', '2001:db8::10')" || return 1
	expect_status 0 n10 node set addr 2001:db8::1:10 addr 198.51.100.11 || return 1
	expect_status 0 n10 -j node &&
		pycheck "(j['addr'], j['addr6']) == ('198.51.100.11', '2001:db8::1:10')" || return 1
	for bad in fe80::10 fec0::10 ff02::10 ::1 :: ::ffff:198.51.100.10 ::198.51.100.10; do
		expect_error n10 "not a global unicast IPv6 address" node set addr "$bad" ||
			return 1
	done
	expect_error n10 "not a global unicast IPv6 address" \
		node set id 11 addr 198.51.100.12 addr fe80::10 || return 1
	expect_status 0 n10 -j node &&
		pycheck "(j['id'], j['addr'], j['addr6']) == (10, '198.51.100.11', '2001:db8::1:10')"
}

# Peers with an IPv6 address, one of each family or IPv4 only: JSON,
# the text table with its ADDR6 column, replace setting both addresses,
# the kernel's refusals.
test_peer_ipv6() {
	expect_status 0 n10 peer add 11 addr 2001:db8::11 &&
		expect_status 0 n10 peer add 12 addr 198.51.100.12 addr 2001:db8::12 &&
		expect_status 0 n10 peer add 13 addr 198.51.100.13 || return 1
	expect_status 0 n10 -j peer || return 1
	pycheck "j == [{'id': 11, 'addr': None, 'addr6': '2001:db8::11'},
		       {'id': 12, 'addr': '198.51.100.12', 'addr6': '2001:db8::12'},
		       {'id': 13, 'addr': '198.51.100.13', 'addr6': None}]" || return 1
	expect_status 0 n10 peer || return 1
	if ! diff -u - "$tmp/out" >"$tmp/diff" <<'EOF'
ID  ADDR           ADDR6
11  none           2001:db8::11
12  198.51.100.12  2001:db8::12
13  198.51.100.13  none
EOF
	then
		diag "$(cat "$tmp/diff")"
		return 1
	fi
	# replace gives a peer those addresses and no other.
	expect_status 0 n10 peer replace 12 addr 2001:db8::1:12 &&
		expect_status 0 n10 peer replace 11 addr 2001:db8::11 addr 198.51.100.11 || return 1
	expect_error n10 "not a global unicast IPv6 address" peer add 14 addr fe80::14 || return 1
	expect_error n10 "not a global unicast IPv6 address" \
		peer replace 13 addr 198.51.100.31 addr ff02::13 || return 1
	expect_status 0 n10 -j peer || return 1
	pycheck "j == [{'id': 11, 'addr': '198.51.100.11', 'addr6': '2001:db8::11'},
		       {'id': 12, 'addr': None, 'addr6': '2001:db8::1:12'},
		       {'id': 13, 'addr': '198.51.100.13', 'addr6': None}]" || return 1
	expect_status 0 n10 peer del 11 && expect_status 0 n10 peer del 12 &&
		expect_status 0 n10 peer del 13
}

# monitor shows IPv6 addresses, in text where there is one, in JSON always.
test_monitor_ipv6() {
	local pid pidj i rc=0
	# Not through at(), whose $! would be a subshell: a failure kills
	# the monitors themselves.
	ip netns exec "$ns-n10" "$ctl" monitor count 4 >"$tmp/mon" 2>"$tmp/mon.err" &
	pid=$!
	ip netns exec "$ns-n10" "$ctl" -j monitor count 4 >"$tmp/monj" 2>"$tmp/monj.err" &
	pidj=$!
	for ((i = 0; i < 100; i++)); do
		grep -q monitoring "$tmp/mon.err" && grep -q monitoring "$tmp/monj.err" && break
		sleep 0.1
	done
	if ! { expect_status 0 n10 peer add 15 addr 2001:db8::15 &&
	       expect_status 0 n10 peer replace 15 addr 198.51.100.15 addr 2001:db8::15 &&
	       expect_status 0 n10 peer del 15 &&
	       expect_status 0 n10 node set addr 2001:db8::2:10; }; then
		kill "$pid" "$pidj"
		return 1
	fi
	wait "$pid" || rc=1
	wait "$pidj" || rc=1
	[ "$rc" = 0 ] || { diag "monitor: $(cat "$tmp/mon.err" "$tmp/monj.err")"; return 1; }
	if ! head -n 3 "$tmp/mon" | diff -u - <(printf '%s\n' \
		"peer add 15 addr none addr6 2001:db8::15" \
		"peer replace 15 addr 198.51.100.15 addr6 2001:db8::15" \
		"peer del 15") >"$tmp/diff" ||
		! sed -n 4p "$tmp/mon" |
			grep -qEx "node id 10 addr 198.51.100.11 addr6 2001:db8::2:10 key not set ports [0-9]+-[0-9]+"; then
		diag "monitor said:" "$(cat "$tmp/mon")" "$(cat "$tmp/diff")"
		return 1
	fi
	"$python" - "$tmp/monj" <<'EOF'
import json
import sys
events = [json.loads(line) for line in open(sys.argv[1])]
got = [(e['event'], e.get('id'), e.get('addr'), e.get('addr6')) for e in events]
want = [('peer-add', 15, None, '2001:db8::15'),
        ('peer-replace', 15, '198.51.100.15', '2001:db8::15'),
        ('peer-del', 15, None, None),
        ('node-set', 10, '198.51.100.11', '2001:db8::2:10')]
if got != want or 'addr6' in events[2]:
    print('# monitor -j saw %r' % events)
    sys.exit(1)
EOF
}

# attach_dual NODE ADDR4 ADDR6: a veth from NODE to the bridge with
# ADDR4/24 and ADDR6/64 ("-": none), the IPv6 one usable at once (no
# duplicate address detection).
attach_dual() {
	ip link add eth0 netns "$ns-$1" type veth peer name "$1" netns "$sw" &&
		ip -n "$sw" link set "$1" master br0 up &&
		{ [ "$2" = - ] || at "$1" ip addr add "$2/24" dev eth0; } &&
		{ [ "$3" = - ] || at "$1" ip addr add "$3/64" dev eth0 nodad; } &&
		at "$1" ip link set eth0 up
}

# A cluster of both families: node 11 has an IPv4 and an IPv6 address,
# node 12 only IPv6, node 13 only IPv4; each finds itself by a local
# address (node 12 by its IPv6 one).  11 and 12 talk over IPv6, 11 and 13
# over IPv4, and the probe takes the same paths; 12 and 13 have no path.
write_dual_cluster() {
	cat >"$tmp/dual.json" <<EOF
{"key-file": "cluster.key", "nodes": [
  {"id": 11, "addr": "192.0.2.11", "addr6": "2001:db8::11"},
  {"id": 12, "addr6": "2001:db8::12"},
  {"id": 13, "addr": "192.0.2.13"}]}
EOF
}

test_load_dual_stack() {
	local i
	if ! { new_node n11 && attach_dual n11 192.0.2.11 2001:db8::11 &&
	       new_node n12 && attach_dual n12 - 2001:db8::12 &&
	       new_node n13 && attach_dual n13 192.0.2.13 -; }; then
		diag "cannot build the nodes"
		return 1
	fi
	write_dual_cluster
	for i in 11 12 13; do
		expect_status 0 "n$i" load "$tmp/dual.json" || return 1
		grep -qx "node $i configured: 2 peers" "$tmp/out" ||
			{ diag "load in n$i said: $(cat "$tmp/out")"; return 1; }
	done
	expect_status 0 n12 -j node &&
		pycheck "(j['id'], j['addr'], j['addr6'], j['key_set']) == (12, None, '2001:db8::12', True)" ||
		return 1
	expect_status 0 n11 -j peer &&
		pycheck "j == [{'id': 12, 'addr': None, 'addr6': '2001:db8::12'},
			       {'id': 13, 'addr': '192.0.2.13', 'addr6': None}]" || return 1
	expect_status 0 n11 -j load "$tmp/dual.json" &&
		pycheck "(j['id'], j['addr'], j['addr6'], j['added'], j['replaced'], j['deleted']) ==
			 (11, '192.0.2.11', '2001:db8::11', 0, 0, 0) and
			 [(p['id'], p['path'], p['result']) for p in j['probe']] ==
			 [(12, 'ipv6', 'answers'), (13, 'ipv4', 'answers')]" || return 1
}

# peer probe over each path: 11 reaches 12 over IPv6 and 13 over IPv4;
# 12 would reach 13 over IPv4 and 13 reach 12 over IPv6, where neither
# has a route.
test_probe_paths() {
	expect_status 0 n11 peer probe || return 1
	if ! awk 'NR > 1 { print $1, $2, $3 }' "$tmp/out" |
		diff -u - <(printf '12 2001:db8::12 answers\n13 192.0.2.13 answers\n') >"$tmp/diff"; then
		diag "peer probe: $(cat "$tmp/out")" "$(cat "$tmp/diff")"
		return 1
	fi
	expect_status 0 n11 -j peer probe 12 &&
		pycheck "len(j) == 1 and j[0]['addr6'] == '2001:db8::12' and j[0]['addr'] is None and
			 j[0]['path'] == 'ipv6' and j[0]['result'] == 'answers' and j[0]['rtt_us'] > 0" ||
		return 1
	expect_status 1 n12 -j peer probe 13 timeout 300 &&
		pycheck "[(p['id'], p['path'], p['result'], p['error']) for p in j] ==
			 [(13, 'ipv4', 'unreachable', 'Network is unreachable')]" || return 1
	expect_status 1 n13 -j peer probe 12 timeout 300 &&
		pycheck "[(p['id'], p['path'], p['result'], p['error']) for p in j] ==
			 [(12, 'ipv6', 'unreachable', 'Network is unreachable')]"
}

# load again after addresses changed: a peer that lost its IPv6 address
# and one whose IPv6 address moved are replaced; then nothing changes.
# The node keeps an address the file no longer gives it.
test_reload_ipv6_changes() {
	"$python" - "$tmp/dual.json" <<'EOF' || return 1
import json
import sys
with open(sys.argv[1]) as f:
    c = json.load(f)
del c['nodes'][0]['addr6']
c['nodes'][1]['addr6'] = '2001:db8::1:12'
with open(sys.argv[1], 'w') as f:
    json.dump(c, f)
EOF
	expect_status 0 n13 -j load "$tmp/dual.json" &&
		pycheck "(j['added'], j['replaced'], j['deleted']) == (0, 2, 0)" || return 1
	expect_status 0 n13 -j peer &&
		pycheck "j == [{'id': 11, 'addr': '192.0.2.11', 'addr6': None},
			       {'id': 12, 'addr': None, 'addr6': '2001:db8::1:12'}]" || return 1
	expect_status 0 n13 -j load "$tmp/dual.json" &&
		pycheck "(j['added'], j['replaced'], j['deleted']) == (0, 0, 0)" || return 1
	expect_status 0 n11 -j load "$tmp/dual.json" &&
		pycheck "(j['addr'], j['addr6'], j['replaced']) == ('192.0.2.11', None, 1)" || return 1
	expect_status 0 n11 -j node &&
		pycheck "(j['addr'], j['addr6']) == ('192.0.2.11', '2001:db8::11')"
}

# A cluster of IPv6 addresses only: nodes found by their IPv6 address,
# peers reached and probed over IPv6.
test_load_ipv6_only() {
	local i
	if ! { new_node n14 && attach_dual n14 - 2001:db8::14 &&
	       new_node n15 && attach_dual n15 - 2001:db8::15; }; then
		diag "cannot build the nodes"
		return 1
	fi
	cat >"$tmp/only6.json" <<EOF
{"key-file": "cluster.key", "port-range": [40000, 49999], "nodes": [
  {"id": 14, "host": "delta", "addr6": "2001:db8::14"},
  {"id": 15, "host": "epsilon", "addr6": "2001:db8::15"}]}
EOF
	expect_status 0 - load --check "$tmp/only6.json" || return 1
	for i in 14 15; do
		expect_status 0 "n$i" -j load "$tmp/only6.json" || return 1
		pycheck "(j['id'], j['addr'], j['addr6'], j['peers'], j['added']) ==
			 ($i, None, '2001:db8::$i', 1, 1)" || return 1
		expect_status 0 "n$i" -j node || return 1
		pycheck "(j['id'], j['addr'], j['addr6'], j['key_set'], j['port_min']) ==
			 ($i, None, '2001:db8::$i', True, 40000)" || return 1
	done
	expect_status 0 n14 -j peer &&
		pycheck "j == [{'id': 15, 'addr': None, 'addr6': '2001:db8::15'}]" || return 1
	expect_status 0 n15 -j peer probe &&
		pycheck "[(p['id'], p['path'], p['result']) for p in j] == [(14, 'ipv6', 'answers')]"
}

test_man_pages() {
	local page
	for page in "$top/docs/migtcpctl.8" "$top/docs/migtcp.7"; do
		if ! MANWIDTH=80 man --warnings -l "$page" >"$tmp/out" 2>"$tmp/err" ||
			[ -s "$tmp/err" ] || [ ! -s "$tmp/out" ]; then
			diag "$page: $(cat "$tmp/err")"
			return 1
		fi
	done
}

tests=(
	"test_load_cluster|load: three nodes from one cluster file (found by address)"
	"test_peer_lists|each node's peers are the other two"
	"test_node_text|node: text output"
	"test_peer_text|peer list: text output"
	"test_load_by_hostname|load: node found by host name"
	"test_load_by_id|load: node given by id"
	"test_load_no_match|load: no matching node is an error and changes nothing"
	"test_reload_applies_changes|load again: idempotent; removals and moves applied"
	"test_node_set|node set: id, address, port range, key file"
	"test_key_never_readable|the cluster key is never shown"
	"test_peer_add_replace_del|peer add, replace, del"
	"test_rejections|rejections: EEXIST, ENOENT, own id, multicast; nothing changed"
	"test_usage_errors|usage errors exit 2; a short key file is refused"
	"test_key_file_private|a key file open to group or others is refused, saying how to fix it"
	"test_load_check|load --check validates the whole file and applies nothing"
	"test_node_id_fixed_while_bound|node id cannot change under a bound socket"
	"test_unprivileged|an unprivileged user reads but cannot change"
	"test_user_namespace|a user namespace cannot change a node it does not own"
	"test_isolation|nodes do not see each other's peers or sockets"
	"test_sockets|sockets: table and JSON with exact endpoints and inodes"
	"test_stats|stats: equal to /proc/net/migtcp_stats, text and JSON"
	"test_monitor|monitor: add, replace, del events of this node only"
	"test_readme_example|the README's three-node example works as written"
	"test_peer_probe|peer probe: the peers that speak migtcp answer; one nobody has does not"
	"test_addr_usage_errors|addr: IPv4 or IPv6, one of each family at most; usage errors say why"
	"test_cluster_file_ipv6|cluster file: addr, addr6 or both; each wrong addr6 named by path"
	"test_image_ipv6|image show: host_addr6, peer_addr6 and kx_half of a hand-built image"
	"test_node_set_ipv6|node set: an IPv6 address, one of each family, the kernel's refusals"
	"test_peer_ipv6|peer add, replace, list with IPv6 addresses, text and JSON"
	"test_monitor_ipv6|monitor: IPv6 addresses in text and JSON"
	"test_load_dual_stack|load: a cluster of both families, a node found by its IPv6 address"
	"test_probe_paths|peer probe: over IPv6 or IPv4 as the kernel goes; no route either way"
	"test_reload_ipv6_changes|load again: peers whose IPv6 address went or moved are replaced"
	"test_load_ipv6_only|load: a cluster of IPv6 addresses only"
	"test_man_pages|man pages render without warnings"
)

# Without root or the module: what needs neither.
if [ -n "$offline" ]; then
	echo "control_test.sh: $offline: only the tests without a node run" >&2
	pick_tests test_addr_usage_errors,test_cluster_file_ipv6,test_image_ipv6,test_man_pages
fi
run_tests "${tests[@]}"
