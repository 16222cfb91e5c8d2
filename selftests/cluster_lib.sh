#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for driving a cluster of guests (tools/vm cluster) from node 1,
# as an operator would, over SSH: shared by xkernel_test.sh and
# tools/demo.  Source it; it defines functions only.  The caller sets
#   top    the project directory (the same path on every guest)
#   ctl    migtcpctl, stream migstream, migrate migtcp-migrate
#   nodes  how many nodes
# and defines diag TEXT… (how a failure is told).  MIGTCP_UNDERLAY picks
# the nodes' underlay addresses in the cluster file: 4 (the default:
# each node's IPv4 address on the Ethernet of tools/vm cluster,
# 192.0.2.N), 6 (its IPv6 address there only, 2001:db8::N: every migtcp
# segment and migration message goes over IPv6) or 46 (both; two nodes
# that both have IPv6 talk IPv6).  SSH, and so CRIU's page server, stay
# on IPv4 (/etc/hosts).
# shellcheck disable=SC2154

# on N CMD…: CMD on node N (a shell command line, as ssh takes it).
on() {
	local n=$1
	shift
	if [ "$n" = 1 ]; then
		bash -c "$*"
	else
		ssh "node$n" "$*"
	fi
}

# q ARG…: ARG… quoted for a remote shell.
q() {
	local a w=()
	for a; do
		w+=("$(printf %q "$a")")
	done
	echo "${w[*]}"
}

underlay=${MIGTCP_UNDERLAY:-4}

# node_addr4 N, node_addr6 N: node N's IPv4 and IPv6 addresses on the
# Ethernet of tools/vm cluster.
node_addr4() {
	echo "192.0.2.$1"
}

node_addr6() {
	echo "2001:db8::$1"
}

# node_addr N: the address of node N that a program dials: its IPv4
# address, unless the underlay is IPv6 only.
node_addr() {
	if [ "$underlay" = 6 ]; then node_addr6 "$1"; else node_addr4 "$1"; fi
}

# peer_addrs N: node N's addresses for "migtcpctl peer add N …" (words).
peer_addrs() {
	case $underlay in
	4) echo "addr $(node_addr4 "$1")" ;;
	6) echo "addr $(node_addr6 "$1")" ;;
	46) echo "addr $(node_addr4 "$1") addr $(node_addr6 "$1")" ;;
	esac
}

# node_json N: node N's entry in the cluster file.
node_json() {
	case $underlay in
	4) echo "{\"id\": $1, \"addr\": \"$(node_addr4 "$1")\"}" ;;
	6) echo "{\"id\": $1, \"addr6\": \"$(node_addr6 "$1")\"}" ;;
	46) echo "{\"id\": $1, \"addr\": \"$(node_addr4 "$1")\", \"addr6\": \"$(node_addr6 "$1")\"}" ;;
	esac
}

# json_num TEXT FIELD: the number FIELD of the one-line JSON object TEXT.
json_num() {
	sed -n "s/.*\"$2\": *\\(-\\{0,1\\}[0-9.]*\\).*/\\1/p" <<<"$1" | head -n 1
}

# cluster_load: every node gets its module (built for its kernel), the
# diag modules CRIU needs, and the cluster file of all nodes with one
# key, sent over SSH, with the addresses of MIGTCP_UNDERLAY; "node N:
# KERNEL, node ID" for each on stdout.  A module loaded before keeps the
# addresses it had (none can be removed): unload it first to change the
# underlay.
# The peers of a frozen socket hold it for migration_timeout_ms: three
# guests under TCG on two host cores took up to 19 s from dump to
# restore (5 s on a quiet host), so 2 minutes, not the default 30 s.
# TIME_WAIT lasts 2 s, as vm_check.sh makes it on node 1, so that the
# modules unload soon after the last test.
cluster_load() {
	local n key nodes_json="" ko out
	case $underlay in
	4 | 6 | 46) ;;
	*) diag "MIGTCP_UNDERLAY is 4, 6 or 46, not '$underlay'"; return 1 ;;
	esac
	key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	for ((n = 1; n <= nodes; n++)); do
		nodes_json+="${nodes_json:+, }$(node_json "$n")"
	done
	for ((n = 1; n <= nodes; n++)); do
		# shellcheck disable=SC2016
		ko=$(on "$n" 'echo '"$(q "$top")"'/build/kbuild/$(uname -r)/migtcp.ko')
		if ! out=$(on "$n" "modprobe -a -q unix_diag inet_diag tcp_diag netlink_diag af_packet_diag nf_tables 2>/dev/null
			[ -d /sys/module/migtcp ] || insmod $(q "$ko") &&
			mkdir -p /run/migtcp && umask 077 &&
			echo $(q "$key") >/run/migtcp/cluster.key &&
			echo $(q "{\"key-file\": \"cluster.key\", \"nodes\": [$nodes_json]}") >/run/migtcp/cluster.json &&
			$(q "$ctl") load /run/migtcp/cluster.json &&
			echo 120000 >/sys/module/migtcp/parameters/migration_timeout_ms &&
			echo 2 >/sys/module/migtcp/parameters/timewait_secs" 2>&1); then
			diag "node $n ($(on "$n" 'uname -r')): $out"
			return 1
		fi
		echo "node $n: $(on "$n" 'uname -r'), node $(on "$n" "$(q "$ctl") -j node" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')"
	done
}

# wait_sockets N REGEX COUNT SECS: until COUNT of node N's sockets (lines
# of "migtcpctl sockets") match REGEX; SECS at most.
wait_sockets() {
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		[ "$(on "$1" "$(q "$ctl") sockets" | grep -cE "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	diag "node $1: fewer than $3 sockets match '$2' after $4 s:" "$(on "$1" "$(q "$ctl") sockets")"
	return 1
}

# stream_start PORT [REDIRECT]: a migstream server on node 1 and its
# client on node 3, connected and streaming both ways at 100 Mbit/s; their
# pids in pid and cpid.  Each writes its summary where it ends, so that
# either may migrate: /var/tmp/stream.server.json and
# /var/tmp/stream.client.json.  REDIRECT, such as "3<FILE", is given to
# the server too, and stream_server_opts (words) its options.
stream_start() {
	local port=$1 n
	for ((n = 1; n <= nodes; n++)); do
		on "$n" "rm -f /var/tmp/stream.server.json /var/tmp/stream.client.json"
	done
	pid=$(eval "setsid $(q "$stream") server -p $port -r 12500000 ${stream_server_opts:-} \
		-o /var/tmp/stream.server.json </dev/null >/dev/null 2>&1 ${2:-} & echo \$!")
	# The client connects once, to a server already listening.
	wait_sockets 1 "^LISTEN .* 1:$port " 1 30 || return 1
	cpid=$(on 3 "setsid $(q "$stream") client -d 1 -p $port -t 3600 -r 12500000 \
		-o /var/tmp/stream.client.json </dev/null >/dev/null 2>&1 & echo \$!")
	wait_sockets 1 "^ESTABLISHED .* 1:$port " 1 10
}

# stream_stop CNODE SNODE: the client (now on node CNODE) stops sending;
# both ends drain and end (the server on node SNODE); their summaries in
# client and server.
# shellcheck disable=SC2034
stream_stop() {
	client='' server=''
	if ! on "$1" "kill -USR1 $cpid; timeout 60 tail --pid=$cpid -f /dev/null"; then
		diag "the client did not end"
		return 1
	fi
	on "$2" "timeout 60 tail --pid=$pid -f /dev/null" ||
		diag "the server (node $2) still runs 60 s after its client ended"
	client=$(on "$1" "cat /var/tmp/stream.client.json")
	server=$(on "$2" "cat /var/tmp/stream.server.json")
}

# migrate_json FROM TO PID [OPTION…]: migtcp-migrate on node FROM moves
# PID to node TO; its JSON summary on stdout, its status returned.
migrate_json() {
	local from=$1 to=$2 p=$3
	shift 3
	on "$from" "$(q "$migrate") --remote $(q "$migrate") -j $(q "$@") $p node$to" 2>&1
}
