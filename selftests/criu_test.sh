#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Live migration with CRIU, as a user does it: a 3-node cluster in
# network namespaces (veth to a bridge, 192.0.2.0/24, one cluster file),
# a server (mig_echo) on node 1 streaming a verifiable pattern both ways
# with a client on node 3, dumped with migtcp-criu on node 1 and restored
# on node 2 in the middle of the transfer: every byte arrives once and
# intact both ways, the endpoint keeps its identity (1:PORT) on node 2,
# node 1 no longer has it, and the restored socket has its O_NONBLOCK
# and timeouts back.  Also: "migtcpctl image show" decodes the images
# (text and JSON, exact values) and names what is wrong in damaged ones;
# a dump that fails after the plugin froze the socket (a socket CRIU
# cannot dump; a failing post-dump action script) and a dump with
# --leave-running leave the connection working on node 1.  And what a
# migrated process may hold or do: an epoll set watching its socket; 1000
# connections, each with data unread and unacknowledged both ways
# (mig_conns); a listener with connections waiting to be accepted, whose
# identity takes new clients on its new node; both ends of a connection
# migrated at once; one process migrated 1 -> 2 -> 3 -> 1.  And an
# unmodified program: an iperf3 server under migtcp-run (its TCP sockets
# made AF_MIGTCP by the preload library) migrated from node 1 to node 2
# in the middle of a 20 s test from an iperf3 client (under migtcp-run
# too) on node 3, each direction: the client's test ends without error,
# the bytes flowed before and after the migration, the server's listener
# and connections live on node 2; then the server, on node 2, serves a
# new client test.
#
# Environment: MIGTCP_CTL (migtcpctl), MIGTCP_TEST_BIN (mig_echo,
# mig_conns), MIGTCP_CRIU (migtcp-criu), MIGTCP_RUN (migtcp-run).  Runs as root with the module loaded (with
# migration support).  Prints TAP 13.  CRIU runs inside a node's
# namespace with nsenter --net, never ip netns exec, whose private mount
# namespace CRIU would have to dump.
#
# The tests are functions run from a table, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$here/lib.sh"
top=$(cd "$here/.." && pwd)

ctl=${MIGTCP_CTL:-$top/build/userspace/migtcpctl}
echo_bin=${MIGTCP_TEST_BIN:-$top/build/selftests}/mig_echo
conns_bin=${MIGTCP_TEST_BIN:-$top/build/selftests}/mig_conns
wrapper=${MIGTCP_CRIU:-$top/build/userspace/migtcp-criu}
run_bin=${MIGTCP_RUN:-$top/build/userspace/migtcp-run}
iperf=$(command -v iperf3)
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3

[ -x "$ctl" ] || skip_all "migtcpctl not found at $ctl"
[ -x "$echo_bin" ] || skip_all "mig_echo not found at $echo_bin"
[ -x "$conns_bin" ] || skip_all "mig_conns not found at $conns_bin"
[ -x "$wrapper" ] || skip_all "migtcp-criu not found at $wrapper"
[ -x "$run_bin" ] || skip_all "migtcp-run not found at $run_bin"
[ -n "$iperf" ] || skip_all "iperf3 is not installed"
[ "$(id -u)" -eq 0 ] || skip_all "must run as root"
[ -e /sys/module/migtcp ] || skip_all "the migtcp module is not loaded"
command -v criu >/dev/null || skip_all "criu is not installed"

# What CRIU needs to dump sockets and lock the network (brief, section 4).
modprobe -a unix_diag inet_diag tcp_diag udp_diag netlink_diag \
	af_packet_diag nf_tables 2>/dev/null
ip link set lo up

tmp=$(mktemp -d /tmp/migtcp_criu_test.XXXXXX) || exit 1
ns=mcr$$
sw=$ns-sw
key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
family=$(cat /sys/module/migtcp/parameters/family)
proto=$(cat /sys/module/migtcp/parameters/proto)

# Size and pace of each transfer.  Each end holds back its last HOLD
# bytes until finish_pair lets them go (mig_echo --pause-every): however
# slow the machine (a debug kernel, CRIU's start-up), a dump and a restore
# happen in the middle of the transfer, and what is held back can only
# arrive through the migrated connection.
BYTES=$((3 * 1024 * 1024))
RATE=$((192 * 1024))
HOLD=$((512 * 1024))

cleanup() {
	kill_started
	del_nodes
	# As the module was before test_family_change, for the next program.
	if [ "$(cat /sys/module/migtcp/parameters/family)" != "$family" ]; then
		wait_unused 120 && rmmod migtcp &&
			insmod "$MIGTCP_KO" family="$family" proto="$proto"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# wait_for FILE REGEX [SECS]: until a line of FILE matches (default 60 s).
wait_for() {
	local i
	for ((i = 0; i < ${3:-60} * 10; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	diag "no line matching '$2' in $1 after ${3:-60} s:" "$(tail -n 5 "$1" 2>/dev/null)"
	return 1
}

# wait_received FILE BYTES [SECS]: until mig_echo's output in FILE says
# it received at least BYTES (default 30 s).
wait_received() {
	local i
	for ((i = 0; i < ${3:-30} * 10; i++)); do
		awk -v min="$2" '$1 == "progress" && $5 >= min { found = 1 }
				 END { exit !found }' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	diag "$1 does not say $2 bytes were received after ${3:-30} s:" \
	     "$(tail -n 3 "$1" 2>/dev/null)"
	return 1
}

# The state of a transfer: NAME's server and client (the client's job is
# empty once it is no child of ours: restored elsewhere).
srv_pid=
srv_job=
cli_pid=
cli_job=
cport=
# Options for the client of start_pair (test_hops sets its own).
cli_opts=()

# start_pair NAME PORT [SERVER OPTION...]: a server on node 1 on PORT and
# a client on node 3, streaming; returns once 512 KiB went each way.
# Both hold back their last HOLD bytes (the client unless cli_opts says
# otherwise) until finish_pair.
start_pair() {
	local name=$1 port=$2 hold=(--pause-every $((BYTES - HOLD))) copts
	shift 2
	pair=$name
	copts=("${cli_opts[@]}")
	[ ${#copts[@]} -gt 0 ] || copts=("${hold[@]}")
	rm -f "$tmp/$name".*
	# setsid: a session of its own, so CRIU needs no --shell-job.  Not
	# through at(): a shell function in the background is a subshell,
	# which would outlive the server and write to its output file.
	nsenter --net="/run/netns/$ns-n1" setsid "$echo_bin" server "$port" \
		"$BYTES" "$RATE" "$tmp/$name.pid" "${hold[@]}" "$@" \
		</dev/null >"$tmp/$name.server" 2>&1 &
	srv_job=$!
	wait_for "$tmp/$name.server" '^listening$' 10 || return 1
	srv_pid=$(cat "$tmp/$name.pid")
	pids+=("$srv_pid")
	# The client can be dumped too: a session of its own, its pid in a file.
	nsenter --net="/run/netns/$ns-n3" setsid "$echo_bin" client 1 "$port" \
		"$BYTES" "$RATE" "$tmp/$name.cpid" "${copts[@]}" \
		</dev/null >"$tmp/$name.client" 2>&1 &
	cli_job=$!
	pids+=("$cli_job")
	wait_for "$tmp/$name.client" '^connected ' 10 || return 1
	cli_pid=$(cat "$tmp/$name.cpid")
	cport=$(sed -n 's/^connected local 3:\([0-9]*\) remote 1:'"$port"'$/\1/p' \
		"$tmp/$name.client")
	[ -n "$cport" ] || { diag "client: $(cat "$tmp/$name.client")"; return 1; }
	wait_received "$tmp/$name.server" $((512 * 1024)) &&
		wait_received "$tmp/$name.client" $((512 * 1024))
}

# expect_last FILE WANT: the last line of FILE (a helper's output) is WANT.
expect_last() {
	if [ "$(tail -n 1 "$1")" != "$2" ]; then
		diag "$(basename "$1") said: $(tail -n 1 "$1")" "expected: $2"
		return 1
	fi
}

# finish_pair NAME PORT: both ends, let go of what they held back, report
# the whole transfer, verified byte for byte by mig_echo, with the
# endpoints and socket options.
finish_pair() {
	local name=$1 port=$2 want_srv want_cli
	want_srv="done sent $BYTES received $BYTES local 1:$port remote 3:$cport nonblock 1 rcvtimeo_us 7000000 sndtimeo_us 7000000"
	want_cli="done sent $BYTES received $BYTES local 3:$cport remote 1:$port nonblock 1 rcvtimeo_us 0 sndtimeo_us 10000000"
	if ! kill -USR1 "$srv_pid" "$cli_pid"; then
		diag "the server ($srv_pid) or the client ($cli_pid) is gone"
		show_pair
		return 1
	fi
	if [ -n "$cli_job" ] && ! wait "$cli_job"; then
		diag "client failed: $(tail -n 3 "$tmp/$name.client")"
		return 1
	fi
	wait_for "$tmp/$name.client" '^(done|mig_echo)' 60 &&
		wait_for "$tmp/$name.server" '^(done|mig_echo)' 60 &&
		expect_last "$tmp/$name.server" "$want_srv" &&
		expect_last "$tmp/$name.client" "$want_cli"
}

# criu_run NODE LOG CMD ARGS...: migtcp-criu CMD in NODE with images in
# $dir, debug log to $dir/LOG; returns criu's exit status.
criu_run() {
	local node=$1 log=$2 action=$3
	shift 3
	at "$node" "$wrapper" "$action" -D "$dir" -o "$log" -v4 "$@" \
		</dev/null >"$dir/$log.out" 2>&1
}

# show_log LOG: what CRIU's log LOG in $dir says went wrong, and how it
# ended (the cause is not always a line marked Error).
show_log() {
	diag "$1:" "$(grep -E 'Error|Warn|migtcp-criu' "$dir/$1" | tail -n 15)" \
	     "its last lines:" "$(tail -n 12 "$dir/$1")"
	show_pair
}

# show_pair: the last words of the current pair's server and client.
pair=
show_pair() {
	local end
	[ -n "$pair" ] || return 0
	for end in server client; do
		[ -s "$tmp/$pair.$end" ] &&
			diag "$pair's $end said:" "$(tail -n 4 "$tmp/$pair.$end")"
	done
}

# Sockets of NODE with local port PORT, as "state local remote migration".
sockets_on() {
	at "$1" "$ctl" -j sockets | "$python" -c '
import json, sys
for s in json.load(sys.stdin):
    if s["local_port"] == int(sys.argv[1]):
        print(s["state"], "%d:%d" % (s["local_node"], s["local_port"]),
              "%d:%d" % (s["remote_node"], s["remote_port"]), s["migration"])' "$2"
}

# wait_sockets NODE PORT WANT [SECS]: until sockets_on says WANT, or
# one of its alternatives separated by "|".
wait_sockets() {
	local i cur want wants
	IFS='|' read -r -a wants <<<"$3"
	for ((i = 0; i < ${4:-10} * 10; i++)); do
		cur=$(sockets_on "$1" "$2")
		for want in "${wants[@]}"; do
			[ "$cur" = "$want" ] && return 0
		done
		sleep 0.1
	done
	diag "node $1's sockets on port $2: $(sockets_on "$1" "$2")" "expected: $3"
	return 1
}

ns_inode() {
	stat -L -c %i "$1"
}

test_cluster() {
	local i
	ip netns add "$sw" &&
		ip -n "$sw" link add br0 type bridge &&
		ip -n "$sw" link set br0 up || return 1
	for i in 1 2 3; do
		new_node "n$i" && attach "n$i" "192.0.2.$i" || return 1
	done
	echo "$key" >"$tmp/cluster.key"
	chmod 600 "$tmp/cluster.key"
	cat >"$tmp/cluster.json" <<EOF
{"key-file": "cluster.key", "nodes": [{"id": 1, "addr": "192.0.2.1"},
  {"id": 2, "addr": "192.0.2.2"}, {"id": 3, "addr": "192.0.2.3"}]}
EOF
	load_cluster
}

# load_cluster: the cluster file loaded on every node.
load_cluster() {
	local i
	for i in 1 2 3; do
		at "n$i" "$ctl" load "$tmp/cluster.json" >"$tmp/out" 2>&1 ||
			{ diag "load on n$i: $(cat "$tmp/out")"; return 1; }
	done
}

# The migration itself; the images stay in $tmp/mig for the image tests.
test_migrate() {
	local port=7100 rc restored
	dir=$tmp/mig
	mkdir -p "$dir"
	start_pair mig $port || return 1
	criu_run n1 dump.log dump -t "$srv_pid"
	rc=$?
	if [ $rc != 0 ]; then
		diag "dump failed with status $rc"
		show_log dump.log
		return 1
	fi
	# CRIU killed it; reap it so that its pid is free for the restore.
	wait "$srv_job"
	if [ -e "/proc/$srv_pid" ]; then
		diag "the server still runs on node 1 after the dump"
		return 1
	fi
	criu_run n2 restore.log restore -d --pidfile "$dir/restored.pid"
	rc=$?
	if [ $rc != 0 ]; then
		diag "restore failed with status $rc"
		show_log restore.log
		return 1
	fi
	restored=$(cat "$dir/restored.pid")
	if [ "$restored" != "$srv_pid" ]; then
		diag "restored as pid $restored, not $srv_pid"
		return 1
	fi
	# The process and its endpoint live on node 2 now, node 1 has none.
	if [ "$(readlink "/proc/$restored/ns/net")" != "net:[$(ns_inode "/run/netns/$ns-n2")]" ]; then
		diag "the restored server is not in node 2's namespace"
		return 1
	fi
	# Relocated once node 3 acknowledged; node 1 keeps only a record.
	wait_sockets n2 $port "ESTABLISHED 1:$port 3:$cport -" || return 1
	if sockets_on n1 $port | grep -qv ' departed$'; then
		diag "node 1 still has a live socket: $(sockets_on n1 $port)"
		return 1
	fi
	finish_pair mig $port || return 1
	# The watcher saw the dumped process die and left the socket alone.
	wait_for "$dir/dump.log" 'watcher: the dumped process is gone' 10
}

# The image of the migration, decoded: exact identities and state.
test_image_json() {
	local port=7100 img
	img=$(cd "$tmp/mig" && ls migtcp-sk-*.img)
	if [ "$(wc -w <<<"$img")" != 1 ]; then
		diag "images: $img"
		return 1
	fi
	if [ "$(stat -c %a "$tmp/mig/$img")" != 600 ]; then
		diag "$img has mode $(stat -c %a "$tmp/mig/$img"), not 600"
		return 1
	fi
	"$ctl" -j image show "$tmp/mig" >"$tmp/image.json" 2>"$tmp/err" ||
		{ diag "image show: $(cat "$tmp/err")"; return 1; }
	json_check "len(j) == 1 and j[0]['file'] == '$img' and
		 '%s' % j[0]['id'] == '$img'[len('migtcp-sk-'):-len('.img')] and
		 j[0]['file_opts']['family'] == $family and
		 j[0]['file_opts']['nonblock'] and
		 j[0]['file_opts']['rcvtimeo_us'] == 7000000 and
		 j[0]['file_opts']['sndtimeo_us'] == 7000000 and
		 j[0]['file_opts']['linger_s'] is None and
		 j[0]['checkpoint']['version'] == 1 and
		 len(j[0]['checkpoint']['records']) == 1" "$tmp/image.json" || return 1
	json_check "[(r['kind'], r['state'], r['local_node'], r['local_port'],
		   r['remote_node'], r['remote_port'], r['peer_addr'],
		   r['conn_key_present'])
		  for r in j[0]['checkpoint']['records']] ==
		 [('connection', 'ESTABLISHED', 1, $port, 3, $cport, '192.0.2.3', True)]" \
		"$tmp/image.json" || return 1
	# The queues hold exactly the bytes between the sequence numbers.
	json_check "all(r['snd_data_bytes'] == (r['write_seq'] - r['snd_una']) % 2**32 and
		     r['rcv_data_bytes'] == (r['rcv_nxt'] - r['copied_seq']) % 2**32 and
		     r['epoch'] >= 1 and r['congestion'] != '' and
		     r['sack_ok'] == 1
		     for r in j[0]['checkpoint']['records'])" "$tmp/image.json" || return 1
	# The key never appears in the output.
	if grep -qi "$key" "$tmp/image.json"; then
		diag "image show prints the cluster key"
		return 1
	fi
}

test_image_text() {
	local port=7100 img id
	img=$(cd "$tmp/mig" && ls migtcp-sk-*.img)
	id=${img#migtcp-sk-}
	id=${id%.img}
	"$ctl" image show "$tmp/mig" >"$tmp/image.txt" 2>"$tmp/err" ||
		{ diag "image show: $(cat "$tmp/err")"; return 1; }
	cat >"$tmp/image.want" <<EOF
$img: file id $id, checkpoint format 1, 1 record
  file: family $family nonblock rcvtimeo_us 7000000 sndtimeo_us 7000000 rcvlowat 1 priority 0 mark 0 linger off reuseaddr 0
  record 0: connection 1:$port -> 3:$cport ESTABLISHED
EOF
	head -n 3 "$tmp/image.txt" | sed '1s/, [0-9]* bytes$//' >"$tmp/image.got"
	if ! diff -u "$tmp/image.want" "$tmp/image.got" >"$tmp/diff"; then
		diag "$(cat "$tmp/diff")"
		return 1
	fi
}

# expect_bad_image WHAT MESSAGE: image show of $tmp/bad fails saying MESSAGE.
expect_bad_image() {
	if "$ctl" image show "$tmp/bad" >"$tmp/out" 2>"$tmp/err"; then
		diag "image show accepted an image with $1"
		return 1
	fi
	if ! grep -qF -- "$2" "$tmp/err"; then
		diag "image with $1: $(cat "$tmp/err")" "expected: $2"
		return 1
	fi
}

test_image_damaged() {
	local img f len
	img=$(cd "$tmp/mig" && ls migtcp-sk-*.img)
	mkdir -p "$tmp/bad"
	f=$tmp/bad/$img
	len=$(stat -c %s "$tmp/mig/$img")

	cp "$tmp/mig/$img" "$f" && printf 'XXXX' | dd of="$f" conv=notrunc status=none
	expect_bad_image "a wrong magic" "not a migtcp socket image" || return 1

	cp "$tmp/mig/$img" "$f" && printf '\x09\x00' | dd of="$f" bs=1 seek=4 conv=notrunc status=none
	expect_bad_image "version 9" "image format version 9; this program reads version 1" || return 1

	cp "$tmp/mig/$img" "$f" && truncate -s $((len - 1)) "$f"
	expect_bad_image "a byte missing" "but the file has $((len - 1))" || return 1

	# The checkpoint's own header: its magic, after ours and the attributes.
	cp "$tmp/mig/$img" "$f" || return 1
	local ckpt_off
	ckpt_off=$((16 + $(od -An -tu4 -j8 -N4 "$f")))
	printf 'XXXX' | dd of="$f" bs=1 seek="$ckpt_off" conv=notrunc status=none
	expect_bad_image "a wrong checkpoint magic" "the checkpoint's magic is 0x58585858, not 0x4d47434b" || return 1

	rm -f "$f"
	expect_bad_image "no image at all" "no migtcp socket images (migtcp-sk-*.img) in $tmp/bad"
}

# A dump that fails after the plugin froze the connection (CRIU cannot
# dump the AF_ALG socket at a higher descriptor): CRIU resumes the
# server, the plugin thaws its socket at fini, the transfer completes.
test_failed_dump() {
	local port=7200 rc
	dir=$tmp/fail
	mkdir -p "$dir"
	start_pair fail $port --unknown-socket || return 1
	criu_run n1 dump.log dump -t "$srv_pid"
	rc=$?
	if [ $rc = 0 ]; then
		diag "the dump succeeded despite the AF_ALG socket"
		return 1
	fi
	if ! grep -q 'migtcp-criu: the dump failed: thawing 1 socket(s)' "$dir/dump.log"; then
		show_log dump.log
		return 1
	fi
	wait_sockets n1 $port "ESTABLISHED 1:$port 3:$cport -" || return 1
	finish_pair fail $port
}

# A dump that succeeds, then a post-dump action script that fails: CRIU
# lets the server run on; the watcher thaws the socket.
test_failed_post_dump() {
	local port=7300 rc
	dir=$tmp/post
	mkdir -p "$dir"
	cat >"$tmp/fail-post-dump.sh" <<'EOF'
#!/bin/sh
[ "$CRTOOLS_SCRIPT_ACTION" = post-dump ] && exit 3
exit 0
EOF
	chmod +x "$tmp/fail-post-dump.sh"
	start_pair post $port || return 1
	criu_run n1 dump.log dump -t "$srv_pid" --action-script "$tmp/fail-post-dump.sh"
	rc=$?
	if [ $rc = 0 ]; then
		diag "criu dump succeeded although its post-dump script failed"
		return 1
	fi
	if ! ls "$dir"/migtcp-sk-*.img >/dev/null 2>&1; then
		diag "no image: the plugin did not run before the post-dump script"
		show_log dump.log
		return 1
	fi
	wait_for "$dir/dump.log" 'watcher: the dumped process runs on .*: thawing 1 socket' 10 ||
		return 1
	wait_sockets n1 $port "ESTABLISHED 1:$port 3:$cport -" || return 1
	finish_pair post $port
}

# --leave-running: a checkpoint, and the server goes on on node 1.
test_leave_running() {
	local port=7400 rc
	dir=$tmp/leave
	mkdir -p "$dir"
	start_pair leave $port || return 1
	criu_run n1 dump.log dump -t "$srv_pid" --leave-running
	rc=$?
	if [ $rc != 0 ]; then
		diag "dump --leave-running failed with status $rc"
		show_log dump.log
		return 1
	fi
	"$ctl" -j image show "$dir" >"$tmp/leave.json" 2>"$tmp/err" ||
		{ diag "image show: $(cat "$tmp/err")"; return 1; }
	json_check "[(r['kind'], r['local_node'], r['local_port'], r['remote_port'])
		  for i in j for r in i['checkpoint']['records']] ==
		 [('connection', 1, $port, $cport)]" "$tmp/leave.json" || return 1
	wait_for "$dir/dump.log" 'watcher: the dumped process runs on .*: thawing 1 socket' 10 ||
		return 1
	wait_sockets n1 $port "ESTABLISHED 1:$port 3:$cport -" || return 1
	finish_pair leave $port
}

# in_node PID NODE: the process PID lives in NODE's network namespace.
in_node() {
	local got want
	got=$(readlink "/proc/$1/ns/net")
	want="net:[$(ns_inode "/run/netns/$ns-$2")]"
	if [ "$got" != "$want" ]; then
		diag "process $1 is in $got, not in node $2's namespace $want"
		return 1
	fi
}

# wait_gone PID [JOB]: until the dumped process PID is no more (CRIU
# killed it); JOB, if given, is its job in this shell, to reap.
wait_gone() {
	local i
	[ -n "${2:-}" ] && wait "$2"
	for ((i = 0; i < 100; i++)); do
		[ -e "/proc/$1" ] || return 0
		sleep 0.1
	done
	diag "process $1 still exists 10 s after its dump: $(grep State "/proc/$1/status")"
	return 1
}

# dump_proc NODE PID [ARGS...]: migtcp-criu dump of PID on NODE into $dir.
dump_proc() {
	local node=$1 pid=$2 rc
	shift 2
	mkdir -p "$dir"
	criu_run "$node" dump.log dump -t "$pid" "$@"
	rc=$?
	if [ $rc != 0 ]; then
		diag "dump of $pid on $node failed with status $rc"
		show_log dump.log
		return 1
	fi
}

# restore_proc NODE PID [ARGS...]: migtcp-criu restore of $dir on NODE,
# which must give back process PID, in NODE's namespace.
restore_proc() {
	local node=$1 pid=$2 rc restored
	shift 2
	criu_run "$node" restore.log restore -d --pidfile "$dir/restored.pid" "$@"
	rc=$?
	if [ $rc != 0 ]; then
		diag "restore of $pid on $node failed with status $rc"
		show_log restore.log
		return 1
	fi
	restored=$(cat "$dir/restored.pid")
	if [ "$restored" != "$pid" ]; then
		diag "restored as pid $restored, not $pid"
		return 1
	fi
	in_node "$pid" "$node"
}

# resume PID: process PID, restored with --leave-stopped (so that a test
# sees what the restore made before the process changes it), runs on.
resume() {
	if ! grep -q '^State:[[:space:]]*T' "/proc/$1/status"; then
		diag "process $1 was not left stopped: $(grep State "/proc/$1/status")"
		return 1
	fi
	kill -CONT "$1"
}

# migrate_proc FROM TO PID [JOB]: PID dumped on node FROM (JOB: its job
# here, to reap), restored on node TO, images in $dir.
migrate_proc() {
	dump_proc "$1" "$3" && wait_gone "$3" "${4:-}" && restore_proc "$2" "$3"
}

# epoll_set PID EPFD FD DATA: the epoll descriptor EPFD of process PID
# watches exactly its descriptor FD, the file FD is now, with data word
# DATA (hex), as /proc/PID/fdinfo/EPFD shows.
epoll_set() {
	local pid=$1 epfd=$2 fd=$3 data=$4 ino got
	if ! ino=$(stat -L -c %i "/proc/$pid/fd/$fd"); then
		diag "process $pid: $(grep State "/proc/$pid/status" 2>&1)"
		show_pair
		return 1
	fi
	got=$(awk '$1 == "tfd:" { sub("ino:", "", $8); print $2, $6, $8 }' \
		"/proc/$pid/fdinfo/$epfd")
	if [ "$got" != "$fd $data $(printf %x "$ino")" ]; then
		diag "epoll $epfd of $pid watches (fd data ino): $got" \
		     "expected: $fd $data $(printf %x "$ino")"
		return 1
	fi
}

# The migrated server drives its connection through an epoll set: after
# the restore the same epoll descriptor watches the restored socket
# (fdinfo: descriptor, data word, the new socket's inode) and reports its
# readiness, or the transfer, which waits on nothing else, would stall.
test_epoll() {
	local port=7500 line epfd fd data
	dir=$tmp/epoll
	start_pair epoll $port --epoll || return 1
	line=$(grep '^epoll fd ' "$tmp/epoll.server")
	read -r _ _ epfd _ _ fd _ data <<<"$line"
	if [ -z "$data" ]; then
		diag "server: $(head -n 5 "$tmp/epoll.server")"
		return 1
	fi
	epoll_set "$srv_pid" "$epfd" "$fd" "$data" || return 1
	# Looked at as the restore made it, before the server runs again.
	dump_proc n1 "$srv_pid" && wait_gone "$srv_pid" "$srv_job" &&
		restore_proc n2 "$srv_pid" --leave-stopped || return 1
	pids+=("$srv_pid")
	epoll_set "$srv_pid" "$epfd" "$fd" "$data" || return 1
	wait_sockets n2 $port "ESTABLISHED 1:$port 3:$cport -" || return 1
	resume "$srv_pid" || return 1
	finish_pair epoll $port
}

# partition A B / heal A B: the switch drops every IP packet between
# nodes A and B (numbers), both ways, as a broken network would.
partition() {
	local a b
	for a in "$1 $2" "$2 $1"; do
		read -r a b <<<"$a"
		tc -n "$sw" qdisc add dev "n$a" clsact &&
			tc -n "$sw" filter add dev "n$a" ingress protocol ip \
				u32 match ip dst "192.0.2.$b/32" action drop ||
			return 1
	done
}

heal() {
	tc -n "$sw" qdisc del dev "n$1" clsact
	tc -n "$sw" qdisc del dev "n$2" clsact
}

# sockets_count NODE PORT: how many sockets of NODE with local PORT are
# in each "state migration", one "COUNT state migration" line each.
sockets_count() {
	at "$1" "$ctl" -j sockets | "$python" -c '
import collections, json, sys
c = collections.Counter((s["state"], s["migration"]) for s in json.load(sys.stdin)
                        if s["local_port"] == int(sys.argv[1]))
for k in sorted(c):
    print(c[k], *k)' "$2"
}

# wait_count NODE PORT WANT [SECS]: until sockets_count says WANT.
wait_count() {
	local i seen raw st
	for ((i = 0; i < ${4:-10} * 10; i++)); do
		seen=$(sockets_count "$1" "$2")
		[ "$seen" = "$3" ] && return 0
		sleep 0.1
	done
	raw=$(at "$1" "$ctl" -j sockets 2>&1)
	st=$?
	diag "node $1's sockets on port $2 after ${4:-10} s: $(tr '\n' , <<<"$seen")" \
	     "expected: $(tr '\n' , <<<"$3")" \
	     "migtcpctl -j sockets there now: status $st, $(wc -c <<<"$raw") bytes, first: $(head -c 300 <<<"$raw")"
	return 1
}

# wait_listener NODE PORT SECS: until NODE has one listener on PORT,
# whatever else is on the port.  It says what it saw if that took more
# than 2 s, or never came.
wait_listener() {
	local i seen all=()
	for ((i = 0; i < $3 * 10; i++)); do
		seen=$(sockets_count "$1" "$2" | tr '\n' ,)
		[[ " ${all[*]} " == *" [$seen] "* ]] || all+=("[$seen]")
		[[ ,$seen == *",1 LISTEN -,"* ]] && break
		sleep 0.1
	done
	[ "$i" -le 20 ] ||
		diag "node $1's sockets on port $2 over $((i / 10)) s: ${all[*]}"
	[[ ,$seen == *",1 LISTEN -,"* ]] && return 0
	diag "node $1: $(at "$1" "$ctl" sockets | tr -s ' ' | tr '\n' ,)"
	return 1
}

# A process with 1000 connections, each holding data both ways that its
# peer (one process with the other 1000 ends, on node 3) has sent but it
# has not read, and data it sent that its peer has not acknowledged
# (nodes 1 and 3 cut off from each other while it is sent and dumped):
# the images hold exactly that for each; restored on node 2, each
# connection then carries the rest of a verified exchange both ways.
# (More sockets than the plugin's watcher follows: a migration must not
# need it.)
test_many_sockets() {
	local port=7600 n=1000 k=1000 img_count
	dir=$tmp/many
	rm -f "$tmp"/many.*
	nsenter --net="/run/netns/$ns-n1" setsid "$conns_bin" server $port $n $k \
		"$tmp/many.pid" --steps </dev/null >"$tmp/many.server" 2>&1 &
	srv_job=$!
	wait_for "$tmp/many.server" '^listening$' 10 || return 1
	srv_pid=$(cat "$tmp/many.pid")
	pids+=("$srv_pid")
	nsenter --net="/run/netns/$ns-n3" "$conns_bin" client 1 $port $n $k --steps \
		</dev/null >"$tmp/many.client" 2>&1 &
	cli_job=$!
	pids+=("$cli_job")
	wait_for "$tmp/many.server" "^ready $n\$" 120 &&
		wait_for "$tmp/many.client" "^ready $n\$" 60 || return 1
	partition 1 3 || { heal 1 3; return 1; }
	kill -USR1 "$srv_pid" "$cli_job"
	if ! wait_for "$tmp/many.server" "^sent $n\$" 30 ||
	   ! wait_for "$tmp/many.client" "^sent $n\$" 30 ||
	   ! dump_proc n1 "$srv_pid"; then
		heal 1 3
		return 1
	fi
	heal 1 3
	wait_gone "$srv_pid" "$srv_job" || return 1
	restore_proc n2 "$srv_pid" || return 1
	# Every image: one connection 1:PORT -> 3:*, K bytes unread, K unacknowledged.
	img_count=$(find "$dir" -name 'migtcp-sk-*.img' | wc -l)
	if [ "$img_count" != $n ]; then
		diag "$img_count images, not $n"
		return 1
	fi
	"$ctl" -j image show "$dir" >"$tmp/many.json" 2>"$tmp/err" ||
		{ diag "image show: $(cat "$tmp/err")"; return 1; }
	json_check "len(j) == $n and
		 all(len(i['checkpoint']['records']) == 1 for i in j) and
		 len({r['remote_port'] for i in j for r in i['checkpoint']['records']}) == $n and
		 all((r['kind'], r['state'], r['local_node'], r['local_port'],
		      r['remote_node'], r['rcv_data_bytes'], r['snd_data_bytes']) ==
		     ('connection', 'ESTABLISHED', 1, $port, 3, $k, $k)
		     for i in j for r in i['checkpoint']['records'])" "$tmp/many.json" ||
		return 1
	wait_count n2 $port "$n ESTABLISHED -" 60 || return 1
	wait_count n1 $port "$n ESTABLISHED departed" || return 1
	kill -USR1 "$srv_pid" "$cli_job"
	if ! wait "$cli_job"; then
		diag "client failed: $(tail -n 3 "$tmp/many.client")"
		return 1
	fi
	wait_for "$tmp/many.server" '^(done|mig_conns)' 60 &&
		expect_last "$tmp/many.server" "done $n connections sent $((3 * k)) received $((3 * k)) each" &&
		expect_last "$tmp/many.client" "done $n connections sent $((3 * k)) received $((3 * k)) each"
}

# conns_of FILE: the "conn LOCAL REMOTE" lines of a mig_conns output, as
# "CLIENT SERVER" endpoint pairs, sorted.
conns_of() {
	awk '$1 == "conn" { if ($2 ~ /^1:/) print $3, $2; else print $2, $3 }' "$1" | sort
}

# A listener with connections waiting in its accept queue, their data
# already sent and acknowledged: the image holds the listener and the
# three queued connections with that data; restored on node 2, the
# listener's identity 1:PORT takes a new client too (node 1 redirects
# it), then the server accepts all four and each exchange is verified.
test_accept_queue() {
	local port=7700 k=2000 want
	dir=$tmp/queue
	rm -f "$tmp"/queue.*
	nsenter --net="/run/netns/$ns-n1" setsid "$conns_bin" server $port 4 $k \
		"$tmp/queue.pid" --late-accept </dev/null >"$tmp/queue.server" 2>&1 &
	srv_job=$!
	wait_for "$tmp/queue.server" '^listening$' 10 || return 1
	srv_pid=$(cat "$tmp/queue.pid")
	pids+=("$srv_pid")
	nsenter --net="/run/netns/$ns-n3" "$conns_bin" client 1 $port 3 $k \
		</dev/null >"$tmp/queue.client" 2>&1 &
	cli_job=$!
	pids+=("$cli_job")
	# Connected, and all their data acknowledged by the queued connections.
	wait_for "$tmp/queue.client" '^ready 3$' 30 || return 1
	migrate_proc n1 n2 "$srv_pid" "$srv_job" || return 1
	"$ctl" -j image show "$dir" >"$tmp/queue.json" 2>"$tmp/err" ||
		{ diag "image show: $(cat "$tmp/err")"; return 1; }
	# The listener, then its queue (in accept order; compared sorted).
	want=$(conns_of "$tmp/queue.client" |
	       awk -v port=$port -v bytes=$((3 * k)) '{ sub("3:", "", $1)
		printf "(\"connection\", \"ESTABLISHED\", 1, %d, 3, %d, %d, 0), ", port, $1, bytes }')
	json_check "len(j) == 1 and
		 [(r['kind'], r['local_node'], r['local_port'], r['backlog'])
		  for r in j[0]['checkpoint']['records'][:1]] ==
		 [('listener', 1, $port, 4)] and
		 sorted((r['kind'], r['state'], r['local_node'], r['local_port'],
			 r['remote_node'], r['remote_port'], r['rcv_data_bytes'],
			 r['snd_data_bytes'])
			for r in j[0]['checkpoint']['records'][1:]) ==
		 [$want]" "$tmp/queue.json" || return 1
	wait_count n2 $port "3 ESTABLISHED -
1 LISTEN -" || return 1
	# A new client of 1:PORT: node 1's record redirects it to node 2.
	nsenter --net="/run/netns/$ns-n3" "$conns_bin" client 1 $port 1 $k \
		</dev/null >"$tmp/queue.client2" 2>&1 &
	local cli2_job=$!
	pids+=("$cli2_job")
	wait_for "$tmp/queue.client2" '^ready 1$' 30 || return 1
	kill -USR1 "$srv_pid"
	if ! wait "$cli_job" || ! wait "$cli2_job"; then
		diag "a client failed: $(tail -n 1 "$tmp/queue.client" "$tmp/queue.client2")"
		return 1
	fi
	wait_for "$tmp/queue.server" '^(done|mig_conns)' 30 || return 1
	expect_last "$tmp/queue.server" "done 4 connections sent $((3 * k)) received $((3 * k)) each" &&
		expect_last "$tmp/queue.client" "done 3 connections sent $((3 * k)) received $((3 * k)) each" &&
		expect_last "$tmp/queue.client2" "done 1 connections sent $((3 * k)) received $((3 * k)) each" ||
		return 1
	# The server accepted exactly the four connections the clients made.
	want=$({ conns_of "$tmp/queue.client"; conns_of "$tmp/queue.client2"; } | sort)
	if [ "$(conns_of "$tmp/queue.server")" != "$want" ]; then
		diag "the server accepted: $(conns_of "$tmp/queue.server" | tr '\n' ,)" \
		     "the clients made:    $(tr '\n' , <<<"$want")"
		return 1
	fi
}

# Both ends migrate at once: the server (node 1) and the client (node 3)
# dumped by two concurrent criu runs, then restored at once, the server
# on node 2 and the client on node 1; the transfer completes with every
# byte once both ways.
test_both_ends() {
	local port=7800 rc1 rc2 job1 job2
	start_pair both $port || return 1
	# Killed by CRIU while this shell waits for the dumps: not its jobs
	# any more, or it reports their death.
	disown "$srv_job" "$cli_job"
	mkdir -p "$tmp/both/srv" "$tmp/both/cli"
	dir=$tmp/both/srv dump_proc n1 "$srv_pid" &
	job1=$!
	dir=$tmp/both/cli dump_proc n3 "$cli_pid" &
	job2=$!
	wait $job1
	rc1=$?
	wait $job2
	rc2=$?
	[ $rc1 = 0 ] && [ $rc2 = 0 ] || return 1
	cli_job=
	wait_gone "$srv_pid" && wait_gone "$cli_pid" || return 1
	dir=$tmp/both/srv restore_proc n2 "$srv_pid" &
	job1=$!
	dir=$tmp/both/cli restore_proc n1 "$cli_pid" &
	job2=$!
	wait $job1
	rc1=$?
	wait $job2
	rc2=$?
	[ $rc1 = 0 ] && [ $rc2 = 0 ] || return 1
	wait_sockets n2 $port "ESTABLISHED 1:$port 3:$cport -" &&
		wait_sockets n1 "$cport" "ESTABLISHED 3:$cport 1:$port -" &&
		finish_pair both $port
}

# The same server migrated three times while it streams, node 1 -> 2 ->
# 3 -> 1: onto its client's node, then back home.  The client sends in
# chunks of 512 KiB, each when the test lets it: one just before each
# dump (on its way while the server is frozen), one after each restore
# (it can only arrive on the new node), so the transfer goes on across
# and after every hop however fast or slow the machine; the server on
# each node has its identity, and every byte arrives once.
test_hops() {
	local port=7900 chunk=$((512 * 1024)) hop from to
	local BYTES=$((7 * 512 * 1024)) cli_opts=(--pause-every $((512 * 1024)))
	start_pair hops $port || return 1
	for hop in "1 n1 n2" "2 n2 n3" "3 n3 n1"; do
		read -r hop from to <<<"$hop"
		dir=$tmp/hops/$hop
		kill -USR1 "$cli_pid"
		migrate_proc "$from" "$to" "$srv_pid" "$srv_job" || return 1
		srv_job=
		# Relocated; it cannot finish while the client holds back,
		# but may have sent all it had (and its FIN) already.
		wait_sockets "$to" $port "ESTABLISHED 1:$port 3:$cport -|FIN_WAIT1 1:$port 3:$cport -|FIN_WAIT2 1:$port 3:$cport -" ||
			return 1
		kill -USR1 "$cli_pid"
		wait_received "$tmp/hops.server" $(((2 * hop + 1) * chunk)) || return 1
	done
	finish_pair hops $port
}

# The iperf3 server migrated by test_iperf, its port and direction option
# (empty or -R), for test_iperf_next.
iperf_pid=
iperf_port=
iperf_dir=()

# iperf_log_check FILE N: the server's log file (-J --logfile: one JSON
# object per test, one after the other) holds N tests, each ended
# without error, and then at most the error of the SIGTERM that ended it.
iperf_log_check() {
	"$python" - "$@" <<'EOF'
import json
import sys

with open(sys.argv[1]) as f:
    text = f.read()
objs, pos, dec = [], 0, json.JSONDecoder()
while text[pos:].strip():
    while text[pos].isspace():
        pos += 1
    try:
        o, pos = dec.raw_decode(text, pos)
    except ValueError as e:
        print('# %s: %s' % (sys.argv[1], e))
        sys.exit(1)
    objs.append(o)
# The last one may be the SIGTERM that ended it.
if objs and objs[-1].get('error') == 'interrupt - the server has terminated':
    objs.pop()
tests = [o for o in objs if 'end' in o and 'sum_received' in o['end']]
errors = [o['error'] for o in objs if 'error' in o]
if len(tests) != int(sys.argv[2]) or errors:
    print('# the server logged %d tests, not %s; errors: %s'
          % (len(tests), sys.argv[2], errors))
    sys.exit(1)
EOF
}

# now_since T: seconds since T (date +%s.%N), with one decimal.
now_since() {
	awk -v t="$1" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - t }'
}

# node_segs NODE: the segments NODE sent and received so far (InSegs +
# OutSegs of its /proc/net/migtcp_stats).
# shellcheck disable=SC2016
node_segs() {
	at "$1" awk '$1 == "InSegs" || $1 == "OutSegs" { n += $2 } END { print n + 0 }' \
		/proc/net/migtcp_stats
}

# test_iperf PORT [-R]: an unmodified iperf3 server under migtcp-run on
# node 1, its client (under migtcp-run too) on node 3 running a test of
# IPERF_BYTES at IPERF_RATE, to 192.0.2.1, which the preload library
# makes node 1 (-R: the server sends).  Once data flows (node 1 counted
# a thousand segments of the test), the server is stopped (SIGSTOP),
# dumped on node 1 (its listener, control and data connections in the
# images) and restored on node 2, stopped: there its endpoints have their
# identity 1:PORT and node 1 keeps only records, looked at before the
# server runs again and its test can end.  Then it runs on, and the
# client's test ends well, data having gone through both before the dump
# and after the restore.
#
# iperf3 3.12 as it is: not --one-off (test_iperf_next runs a second
# test), its JSON written into a log file, not to a terminal, in a
# session of its own (setsid: no --shell-job), its pid in a pid file.
# CRIU dumps all it holds without any option: besides the sockets, its
# log file, /dev/urandom and the deleted temporary file under /tmp it
# mmaps as the buffer of each stream (a "ghost file": CRIU saves its
# 128 KiB, within the default --ghost-limit of 1 MiB), and the preload
# library, a file mapping of build/userspace/libmigtcp-preload.so, at the
# same path on node 2 (one file system).  Its timers are its own:
# select() timeouts on CLOCK_MONOTONIC, which CRIU restores in a time
# namespace going on from the dump.
test_iperf() {
	local port=$1 name=iperf$1 t0 t_dump t_dumped t_restored rc segs i
	iperf_pid=
	iperf_port=$port
	iperf_dir=("${@:2}")
	dir=$tmp/$name
	rm -f "$tmp/$name".*
	nsenter --net="/run/netns/$ns-n1" setsid "$run_bin" "$iperf" -s -p "$port" \
		-J --logfile "$tmp/$name.server.json" -I "$tmp/$name.pid" \
		</dev/null >"$tmp/$name.server" 2>&1 &
	srv_job=$!
	pids+=("$srv_job")
	# Its listener: AF_MIGTCP, 1:PORT.
	wait_count n1 "$port" "1 LISTEN -" || return 1
	srv_pid=$(cat "$tmp/$name.pid")
	nsenter --net="/run/netns/$ns-n3" "$run_bin" "$iperf" -c 192.0.2.1 -p "$port" \
		-n $IPERF_BYTES -b $IPERF_RATE -J --get-server-output "${iperf_dir[@]}" \
		</dev/null >"$tmp/$name.client.json" 2>"$tmp/$name.client" &
	cli_job=$!
	pids+=("$cli_job")
	# Its control and data connections, AF_MIGTCP from node 3: the test
	# starts.  Once node 1 has carried some of its data, the dump.
	wait_count n1 "$port" "2 ESTABLISHED -
1 LISTEN -" 20 || return 1
	t0=$(date +%s.%N)
	segs=$(node_segs n1)
	for ((i = 0; i < 300; i++)); do
		[ "$(node_segs n1)" -ge $((segs + 1000)) ] && break
		sleep 0.1
	done
	if [ "$(node_segs n1)" -lt $((segs + 1000)) ]; then
		diag "node 1 carried $(($(node_segs n1) - segs)) segments in 30 s of the test"
		return 1
	fi
	# Stopped from here to the restore: its test, paced, must not end
	# while CRIU starts up (seconds, more than the test's 20 s on a
	# debug kernel) before it freezes the server.  Its connections go on
	# in the kernel meanwhile (data in flight, acknowledgments, queues
	# that fill), as under CRIU's freeze; CRIU dumps a stopped process
	# as it is and restores it stopped.
	kill -STOP "$srv_pid"
	t_dump=$(now_since "$t0")
	dump_proc n1 "$srv_pid" || return 1
	t_dumped=$(now_since "$t0")
	wait_gone "$srv_pid" "$srv_job" || return 1
	srv_job=
	restore_proc n2 "$srv_pid" --leave-stopped || return 1
	pids+=("$srv_pid")
	iperf_pid=$srv_pid
	t_restored=$(now_since "$t0")
	diag "dump from $t_dump s to $t_dumped s into the test, restored at $t_restored s"
	"$ctl" -j image show "$dir" >"$tmp/$name.images.json" 2>"$tmp/err" ||
		{ diag "image show: $(cat "$tmp/err")"; return 1; }
	json_check "sorted((r['kind'], r.get('state'), r['local_node'], r['local_port'],
			 r.get('remote_node'))
			for i in j for r in i['checkpoint']['records']) ==
		 [('connection', 'ESTABLISHED', 1, $port, 3)] * 2 +
		 [('listener', None, 1, $port, None)]" "$tmp/$name.images.json" ||
		return 1
	# Relocated once node 3 acknowledged, identities unchanged; node 1
	# has only the records of the departed endpoints.
	wait_count n2 "$port" "2 ESTABLISHED -
1 LISTEN -" || return 1
	if ! sockets_on n2 "$port" | grep -q "^LISTEN 1:$port "; then
		diag "node 2's listener: $(sockets_on n2 "$port")"
		return 1
	fi
	if sockets_on n1 "$port" | grep -qv ' departed$'; then
		diag "node 1 still has a live socket: $(sockets_on n1 "$port" | tr '\n' ,)"
		return 1
	fi
	resume "$srv_pid" || return 1
	diag "resumed at $(now_since "$t0") s"
	wait "$cli_job"
	rc=$?
	cli_job=
	if [ $rc != 0 ]; then
		diag "the iperf3 client failed with status $rc: $(tail -n 3 "$tmp/$name.client")"
	fi
	iperf_check "$tmp/$name.client.json" "-n $IPERF_BYTES" "${iperf_dir[@]:--}" \
		"$tmp/$name.images.json" && [ $rc = 0 ]
}

# wait_exit PID: until process PID (no child of ours) has exited.
wait_exit() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -e "/proc/$1" ] || return 0
		grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null && return 0
		sleep 0.1
	done
	diag "process $1 still runs: $(grep State "/proc/$1/status")"
	return 1
}

# test_iperf_next: the server test_iperf migrated, now on node 2, serves
# a second client test (same direction), then ends on SIGTERM.  iperf3
# closes its listener after every test and opens a new one, bound to
# [::]:PORT: the preload library binds that to this node, which is node
# 2 now.  So the new test's server is 2:PORT, which the client reaches at
# node 2's address; the migrated listener 1:PORT is gone with its test
# (as it closed, its home, node 1, forgot it).
test_iperf_next() {
	local port=$iperf_port name=iperf$iperf_port i
	if [ -z "$iperf_pid" ]; then
		diag "no migrated iperf3 server"
		return 1
	fi
	for ((i = 0; i < 100; i++)); do
		sockets_on n2 "$port" | grep -q "^LISTEN 2:$port " && break
		sleep 0.1
	done
	if ! sockets_on n2 "$port" | grep -q "^LISTEN 2:$port "; then
		diag "no new listener 2:$port on node 2: $(sockets_on n2 "$port" | tr '\n' ,)"
		return 1
	fi
	# The old listener's home, node 1, has no record of it left.
	for ((i = 0; i < 100; i++)); do
		sockets_on n1 "$port" | grep -q '^LISTEN ' || break
		sleep 0.1
	done
	if sockets_on n1 "$port" | grep -q '^LISTEN '; then
		diag "node 1 keeps a listener: $(sockets_on n1 "$port" | tr '\n' ,)"
		return 1
	fi
	if ! at n3 "$run_bin" "$iperf" -c 192.0.2.2 -p "$port" -t 3 -J \
		--get-server-output "${iperf_dir[@]}" </dev/null \
		>"$tmp/$name.client2.json" 2>"$tmp/$name.client2"; then
		diag "the second iperf3 client failed: $(tail -n 3 "$tmp/$name.client2")"
		iperf_check "$tmp/$name.client2.json" "-t 3" "${iperf_dir[@]:--}"
		return 1
	fi
	iperf_check "$tmp/$name.client2.json" "-t 3" "${iperf_dir[@]:--}" || return 1
	# Both tests are in its log file, written on node 2.
	kill "$iperf_pid"
	wait_exit "$iperf_pid" || return 1
	iperf_pid=
	iperf_log_check "$tmp/$name.server.json" 2
}

# reload_module PARAM...: migtcp loaded anew with PARAM, in a cluster made
# anew.  The module is held while a socket lives: the nodes' namespaces
# go first (with them what a dump left: a home keeps the record of an
# endpoint that may yet be restored), and earlier connections end their
# TIME_WAIT.
reload_module() {
	local out
	if [ -z "${MIGTCP_KO:-}" ]; then
		diag "MIGTCP_KO does not name migtcp.ko (vm_check.sh sets it)"
		return 1
	fi
	del_nodes
	if ! wait_unused 120; then
		diag "sockets hold the module after 120 s: refcnt $(cat /sys/module/migtcp/refcnt)"
		return 1
	fi
	if ! out=$(rmmod migtcp 2>&1) || ! out=$(insmod "$MIGTCP_KO" "$@" 2>&1); then
		diag "reloading migtcp with $*: $out"
		return 1
	fi
	test_cluster
}

# iperf_client NAME: an iperf3 client test of 2 s under migtcp-run from
# node 3 to 192.0.2.1 (node 1), its JSON checked; a minute at most.
iperf_client() {
	if ! at n3 timeout 60 "$run_bin" "$iperf" -c 192.0.2.1 -p "$port" -t 2 -J \
		--get-server-output </dev/null >"$tmp/$1.json" 2>"$tmp/$1.err"; then
		diag "iperf3 client $1 failed: $(tail -n 3 "$tmp/$1.err")"
		iperf_check "$tmp/$1.json" "-t 2" -
		return 1
	fi
	iperf_check "$tmp/$1.json" "-t 2" -
}

# An iperf3 server under migtcp-run is checkpointed with its listener
# where the module's family number is F, and restored where it is
# another (the module reloaded with family=, as another node's may be
# loaded, and the cluster made anew).  The preload library read F when iperf3 started: it must take
# the restored listener and what it accepts for AF_MIGTCP (TCP_INFO, the
# addresses), and make the listener iperf3 opens for its next test of
# the new number, so that a second client test works too.
test_family_change() {
	local port=7970 name=iperffam alt=18
	[ "$family" = 18 ] && alt=20
	dir=$tmp/$name
	rm -f "$tmp/$name".*
	nsenter --net="/run/netns/$ns-n1" setsid "$run_bin" "$iperf" -s -p "$port" \
		-J --logfile "$tmp/$name.server.json" -I "$tmp/$name.pid" \
		</dev/null >"$tmp/$name.server" 2>&1 &
	srv_job=$!
	pids+=("$srv_job")
	wait_count n1 "$port" "1 LISTEN -" || return 1
	srv_pid=$(cat "$tmp/$name.pid")
	dump_proc n1 "$srv_pid" && wait_gone "$srv_pid" "$srv_job" || return 1
	srv_job=
	reload_module family=$alt proto="$proto" || return 1
	diag "dumped with AF_MIGTCP $family, restored with $alt"
	restore_proc n1 "$srv_pid" || return 1
	pids+=("$srv_pid")
	wait_count n1 "$port" "1 LISTEN -" || return 1
	iperf_client "$name.client1" || return 1
	# iperf3's next listener, made after the restore: AF_MIGTCP.  The
	# first test's connections may still be closing beside it.
	wait_listener n1 "$port" 30 || return 1
	iperf_client "$name.client2" || return 1
	kill "$srv_pid"
	wait_exit "$srv_pid" || return 1
	iperf_log_check "$tmp/$name.server.json" 2
}

tests=(
	"test_cluster|a 3-node cluster from one cluster file"
	"test_migrate|dump on node 1, restore on node 2 mid-transfer: every byte once, both ways"
	"test_image_json|image show -j: identities, state, options, queues of the dumped socket"
	"test_image_text|image show: text"
	"test_image_damaged|image show names what is wrong in damaged images"
	"test_failed_dump|a dump failing after the plugin ran leaves the connection working"
	"test_failed_post_dump|a failing post-dump script leaves the connection working"
	"test_leave_running|dump --leave-running leaves the connection working"
	"test_epoll|an epoll set migrates with its sockets: same epoll fd, readiness, every byte"
	"test_many_sockets|1000 connections with unread and unacknowledged data both ways migrate, each verified"
	"test_accept_queue|a listener's accept queue migrates: queued and redirected new connections accepted on node 2"
	"test_both_ends|both ends dumped and restored at once (1 -> 2, 3 -> 1): every byte once, both ways"
	"test_hops|one server migrated 1 -> 2 -> 3 -> 1 mid-transfer: every byte once, both ways"
	"test_iperf 7950|an iperf3 server under migtcp-run migrates 1 -> 2 mid-test; its client's test ends well"
	"test_iperf_next|the migrated iperf3 server serves a new client test on node 2"
	"test_iperf 7960 -R|iperf3 -R (the server sends): migrates 1 -> 2 mid-test; its client's test ends well"
	"test_iperf_next|the migrated iperf3 -R server serves a new client test on node 2"
	"test_family_change|a preloaded iperf3 restored where AF_MIGTCP has another number keeps working"
)

# MIGTCP_CRIU_TESTS="test_cluster,test_iperf 7950" runs only the entries
# of those commands, in the order above (install_test.sh runs some with
# the installed tools).
pick_tests "${MIGTCP_CRIU_TESTS:-}"

run_tests "${tests[@]}"
