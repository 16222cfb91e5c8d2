#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Transport benchmark: AF_MIGTCP against kernel TCP over the same path, in
# the same VM run.  Two network namespaces (two nodes) joined by a veth
# pair: node 1 (client) at 198.51.100.1, node 2 (server) at 198.51.100.2.
# Each round runs every measurement over TCP and over migtcp, one after
# the other, the order alternating from round to round: those of
# build/bench/streambench (bulk 1 and 4 streams, sendfile() of a file
# in memory, request/response, connection rate), iperf3 with 1 and 4 streams (-J) and sockperf
# ping-pong (round-trip times from its --full-log).  iperf3 and sockperf
# are the unmodified Debian programs: over migtcp they run under
# build/userspace/migtcp-run, the preload library's wrapper, and are the
# same commands without it over TCP.  The table gives the median of the
# rounds and the ratio.
# Before the rounds, on a machine with no connection yet, the kernel
# memory of IDLE_CONNS idle established connections is measured once per
# transport (streambench -m idle): first, so that no TIME_WAIT socket
# left by the connection-rate test expires in the middle of it.
# Nothing here passes or fails on a number: the exit status says only
# whether the measurements could be run.
#
# Run as root inside the test VM, from the project directory:
#   tools/vm run -t 900 -- bench/transport.sh
# Environment:
#   ROUNDS=3              rounds of every measurement
#   SECONDS_PER_TEST=5    duration of one measurement
#   IDLE_CONNS=1000       idle connections for the memory measurement
#   MIGTCP_BENCH_OUT=DIR  where transport.json goes (default /tmp)
#   MIGTCP_ACCEL=tcg|kvm  recorded in the results (guessed if unset)
#   MIGTCP_RUN=PATH       the preload wrapper (default
#                         build/userspace/migtcp-run)
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bin=$top/build/bench/streambench
wrap=${MIGTCP_RUN:-$top/build/userspace/migtcp-run}

rounds=${ROUNDS:-3}
secs=${SECONDS_PER_TEST:-5}
idle_conns=${IDLE_CONNS:-1000}
# How long the idle connections rest before the counters are read.
idle_settle=1
outdir=${MIGTCP_BENCH_OUT:-/tmp}
port=5201
iperf_port=5301
sockperf_port=11111
cli_ip=198.51.100.1
srv_ip=198.51.100.2
cli_node=1
srv_node=2
# Measurements of a round: name and parallel streams.
tests=("${transport_tests[@]}")
nsteps=$(transport_steps "$rounds" "${#tests[@]}")

[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
[[ $secs =~ ^[1-9][0-9]*$ ]] || die "SECONDS_PER_TEST must be a positive integer"
if ! [[ $idle_conns =~ ^[1-9][0-9]*$ ]] || ((idle_conns > 8000)); then
	die "IDLE_CONNS must be an integer from 1 to 8000"
fi
check_setup "$bin" "$outdir"
for app in iperf3 sockperf; do
	command -v "$app" >/dev/null || die "$app is not installed (make deps)"
done

work=$(mktemp -d /tmp/migtcp-bench.XXXXXX)
cli=mtb-cli-$$
srv=mtb-srv-$$
server_pid=
app_servers=()

cleanup() {
	for pid in $server_pid "${app_servers[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	ip netns del "$cli" 2>/dev/null || true
	ip netns del "$srv" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_module
modprobe veth 2>/dev/null || true

step "building two nodes: $cli (node $cli_node, $cli_ip) and $srv (node $srv_node, $srv_ip)"
ip netns add "$cli"
ip netns add "$srv"
ip -n "$cli" link set lo up
ip -n "$srv" link set lo up
ip -n "$srv" link add mtb2 type veth peer name mtb1 netns "$cli"
ip -n "$cli" addr add "$cli_ip/24" dev mtb1
ip -n "$srv" addr add "$srv_ip/24" dev mtb2
ip -n "$cli" link set mtb1 up
ip -n "$srv" link set mtb2 up
ip netns exec "$cli" "$ctl" node set id "$cli_node" addr "$cli_ip"
ip netns exec "$cli" "$ctl" peer add "$srv_node" addr "$srv_ip"
ip netns exec "$srv" "$ctl" node set id "$srv_node" addr "$srv_ip"
ip netns exec "$srv" "$ctl" peer add "$cli_node" addr "$cli_ip"
# The connection-rate test leaves one client port in TIME_WAIT per
# connection for 60 s; give both transports the same, wider ephemeral
# range on the client node so that neither runs out.
ports_lo=10000
ports_hi=65001
ip netns exec "$cli" sysctl -q -w net.ipv4.ip_local_port_range="$ports_lo $ports_hi"
ip netns exec "$cli" "$ctl" node set port-range "$ports_lo-$ports_hi"

step "starting the server on node $srv_node"
ip netns exec "$srv" "$bin" server -p "$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
	grep -q '^ready$' "$work/server.log" && break
	kill -0 "$server_pid" 2>/dev/null || die "the server died: $(cat "$work/server.log")"
	sleep 0.1
done
grep -q '^ready$' "$work/server.log" || die "the server did not start: $(cat "$work/server.log")"

# listening TRANSPORT PORT: whether a listener of TRANSPORT is on PORT of
# the server node.
listening() {
	if [ "$1" = tcp ]; then
		ip netns exec "$srv" ss -Hltn "sport = :$2" | grep -q .
	else
		# "LISTEN  0  0  2:5301  *:*  0  1234": the local endpoint ends in :PORT.
		ip netns exec "$srv" "$ctl" sockets |
			awk -v p=":$2" '$1 == "LISTEN" && substr($4, length($4) - length(p) + 1) == p { f = 1 } END { exit !f }'
	fi
}

# over TRANSPORT CMD...: sets cmd to CMD as it runs over TRANSPORT:
# through the preload wrapper (with its decisions on stderr) for migtcp,
# unchanged for TCP.
over() {
	local transport=$1
	shift
	cmd=("$@")
	if [ "$transport" = migtcp ]; then
		cmd=("$wrap" -d "$@")
	fi
}

# Servers of the unmodified programs, one per program and transport (the
# same port in each transport's own port space): NAME-TRANSPORT is in
# up[] once it listens, else why[] says why not.
declare -A up=() why=()
start_app_server() {
	local name=$1 transport=$2 appport=$3 pid
	shift 3
	local log=$work/$name-$transport-server.log
	if [ "$transport" = migtcp ] && [ ! -x "$wrap" ]; then
		why[$name-$transport]="$wrap is not built (the preload library: make userspace)"
		step "no $name server over $transport: ${why[$name-$transport]}"
		return 0
	fi
	over "$transport" "$@"
	ip netns exec "$srv" "${cmd[@]}" >"$log" 2>&1 &
	pid=$!
	app_servers+=("$pid")
	for _ in $(seq 300); do
		if listening "$transport" "$appport"; then
			up[$name-$transport]=1
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	why[$name-$transport]="the $name server over $transport did not start: $(tail -n 3 "$log" | tr '\n' ' ')"
	step "${why[$name-$transport]}"
}
step "starting iperf3 and sockperf servers on node $srv_node, over TCP and migtcp"
for transport in tcp migtcp; do
	start_app_server iperf3 "$transport" "$iperf_port" iperf3 -s -p "$iperf_port" --forceflush
	start_app_server sockperf "$transport" "$sockperf_port" \
		sockperf server --tcp -i 0.0.0.0 -p "$sockperf_port"
done

# One line of JSON per measurement: {"round":R,"result":{...}}.
raw=$work/raw.jsonl
: >"$raw"
failures=0
guard=$((secs * 4 + 60))

# The label of a step: "iperf3 -P 4 over migtcp, round 2/3".
label() {
	local round=$1 transport=$2 test=$3 streams=$4 what
	case $test in
	idle) what="kernel memory of $idle_conns idle connections" ;;
	bulk) what="streambench bulk x$streams" ;;
	sendfile) what="streambench sendfile" ;;
	rr) what="streambench request/response" ;;
	crr) what="streambench connection rate" ;;
	iperf3) what="iperf3 -P $streams" ;;
	sockperf) what="sockperf ping-pong" ;;
	esac
	if [ "$round" = 0 ]; then
		echo "$what over $transport"
	else
		echo "$what over $transport, round $round/$rounds"
	fi
}

# streambench_client TRANSPORT TEST STREAMS: its JSON line.
streambench_client() {
	local transport=$1 test=$2 streams=$3 dest line rc=0
	local args=(-t "$secs" -P "$streams") limit=$guard
	if [ "$transport" = tcp ]; then dest=$srv_ip; else dest=$srv_node; fi
	if [ "$test" = idle ]; then
		args=(-t "$idle_settle" -n "$idle_conns")
		limit=$((idle_conns / 10 + 120))
	fi
	line=$(timeout -k 5 "$limit" ip netns exec "$cli" "$bin" client \
		-x "$transport" -m "$test" -d "$dest" -p "$port" "${args[@]}" \
		2>"$work/client.err") || rc=$?
	if [ -z "$line" ] || [ "${line:0:1}" != "{" ]; then
		local reason="client exited with status $rc"
		[ "$rc" = 124 ] && reason="client did not finish within ${limit}s (stalled)"
		[ -s "$work/client.err" ] && reason+=": $(tr '\n' ' ' <"$work/client.err")"
		line=$(python3 -c 'import json,sys; print(json.dumps({"test":sys.argv[1],"transport":sys.argv[2],"streams":int(sys.argv[3]),"error":sys.argv[4]}))' \
			"$test" "$transport" "$streams" "$reason")
	fi
	echo "$line"
}

# app_client ROUND TRANSPORT TEST STREAMS: iperf3 or sockperf from the
# client node, its result as a JSON line (parse.py).
app_client() {
	local round=$1 transport=$2 test=$3 streams=$4 rc=0
	local out=$work/app.out err=$work/app.err
	if [ -z "${up[$test-$transport]:-}" ]; then
		python3 -c 'import json,sys; print(json.dumps({"test":sys.argv[1],"transport":sys.argv[2],"streams":int(sys.argv[3]),"error":sys.argv[4]}))' \
			"$test" "$transport" "$streams" "${why[$test-$transport]:-no server}"
		return 0
	fi
	rm -f "$out" "$err" "$work/sockperf.log"
	if [ "$test" = iperf3 ]; then
		over "$transport" iperf3 -c "$srv_ip" -p "$iperf_port" -t "$secs" -P "$streams" -J
		timeout -k 5 "$guard" ip netns exec "$cli" "${cmd[@]}" >"$out" 2>"$err" || rc=$?
		python3 "$top/bench/parse.py" iperf3 "$out" "$err" "$transport" "$streams" "$rc"
	else
		# --full-rtt: round-trip times, not half of them; --no-rdtsc:
		# the monotonic clock, not a TSC calibrated under emulation.
		# One second more than the others: sockperf counts nothing in
		# its first 400 ms of warm-up nor at the very end.
		over "$transport" sockperf ping-pong --tcp -i "$srv_ip" -p "$sockperf_port" \
			-t "$((secs + 1))" --full-rtt --no-rdtsc --full-log "$work/sockperf.log"
		timeout -k 5 "$guard" ip netns exec "$cli" "${cmd[@]}" >"$out" 2>"$err" || rc=$?
		python3 "$top/bench/parse.py" sockperf "$out" "$work/sockperf.log" "$err" \
			"$transport" "$rc" "$work/rtt-$transport-$round.txt"
	fi
}

# measure ROUND TRANSPORT TEST STREAMS
# Round 0 is the memory measurement: TEST is idle, STREAMS unused.
measure() {
	local round=$1 transport=$2 test=$3 streams=$4 line
	progress "$nsteps" "$(label "$@")"
	case $test in
	iperf3 | sockperf) line=$(app_client "$@") || true ;;
	*) line=$(streambench_client "$transport" "$test" "$streams") || true ;;
	esac
	if [ "${line:0:1}" != "{" ]; then
		line=$(python3 -c 'import json,sys; print(json.dumps({"test":sys.argv[1],"transport":sys.argv[2],"streams":int(sys.argv[3]),"error":sys.argv[4]}))' \
			"$test" "$transport" "$streams" "no result: ${line:-nothing printed}")
	fi
	echo "{\"round\":$round,\"result\":$line}" >>"$raw"
	python3 "$top/bench/parse.py" show "$line" "$round" "$rounds"
	case $line in *'"error"'*) failures=$((failures + 1)) ;; esac
	return 0
}

start=$(date +%s)
step "kernel memory of $idle_conns idle connections, TCP then migtcp"
for transport in tcp migtcp; do
	measure 0 "$transport" idle 1
done
step "$rounds rounds of ${#tests[@]} measurements, ${secs}s each, TCP and migtcp alternately"
for ((round = 1; round <= rounds; round++)); do
	# Alternate which transport goes first, so that neither always runs
	# on a freshly quiet (or freshly busy) machine.
	if ((round % 2)); then order=(tcp migtcp); else order=(migtcp tcp); fi
	for t in "${tests[@]}"; do
		read -r test streams <<<"$t"
		for transport in "${order[@]}"; do
			measure "$round" "$transport" "$test" "$streams"
		done
	done
done
elapsed=$(($(date +%s) - start))

# Context for the numbers: node counters and the kernel log.
ip netns exec "$cli" "$ctl" -j stats >"$work/stats-cli.json" 2>/dev/null || echo null >"$work/stats-cli.json"
ip netns exec "$srv" "$ctl" -j stats >"$work/stats-srv.json" 2>/dev/null || echo null >"$work/stats-srv.json"
for ns in "$cli" "$srv"; do
	# shellcheck disable=SC2016 # awk program
	ip netns exec "$ns" awk '/^Tcp:/ { if (!h) { split($0, k); h = 1 } else { for (i = 2; i <= NF; i++) if (k[i] == "RetransSegs") print $i } }' /proc/net/snmp
done >"$work/tcp-retrans"
save_kernel_log "$work/dmesg"

accel=$(guess_accel)

json=$outdir/transport.json
RAW=$raw WORK=$work JSON=$json ROUNDS=$rounds SECS=$secs ACCEL=$accel IDLE_SETTLE=$idle_settle \
ELAPSED=$elapsed PORTS="$ports_lo-$ports_hi" WRAP=$wrap IDLE_CONNS=$idle_conns python3 - <<'EOF'
import glob, json, math, os, platform, statistics, subprocess, time

env = os.environ
runs = [json.loads(l) for l in open(env["RAW"]) if l.strip()]

def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default

def version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (out.stdout + out.stderr).strip().splitlines()
    return lines[0].replace("sockperf: ", "").strip() if lines else None

def load_json(path):
    try:
        return json.loads(read(path, "null"))
    except ValueError:
        return None

cpu = next((l.split(":", 1)[1].strip() for l in read("/proc/cpuinfo").splitlines()
            if l.startswith("model name")), "unknown")
params = {}
for p in ("family", "proto", "timewait_secs"):
    v = read("/sys/module/migtcp/parameters/" + p).strip()
    if v:
        params[p] = int(v) if v.isdigit() else v

# metric label, test, streams, field, unit, higher is better
metrics = [
    ("bulk throughput, 1 stream", "bulk", 1, "mbit_s", "Mbit/s", True),
    ("bulk throughput, 4 streams", "bulk", 4, "mbit_s", "Mbit/s", True),
    ("sendfile() throughput", "sendfile", 1, "mbit_s", "Mbit/s", True),
    ("request/response rate", "rr", 1, "tps", "trans/s", True),
    ("request/response p50 RTT", "rr", 1, "p50_us", "us", False),
    ("request/response p99 RTT", "rr", 1, "p99_us", "us", False),
    ("connection rate", "crr", 1, "conn_s", "conn/s", True),
    ("connection p50 time", "crr", 1, "p50_us", "us", False),
    ("iperf3 throughput, 1 stream", "iperf3", 1, "mbit_s", "Mbit/s", True),
    ("iperf3 throughput, 4 streams", "iperf3", 4, "mbit_s", "Mbit/s", True),
    ("sockperf ping-pong rate", "sockperf", 1, "tps", "trans/s", True),
    ("sockperf p50 RTT", "sockperf", 1, "p50_us", "us", False),
    ("sockperf p99 RTT", "sockperf", 1, "p99_us", "us", False),
    ("idle conn mem, slabinfo", "idle", 1, "established.slabinfo_bytes_per_conn",
     "B/conn", False),
    ("idle conn mem, meminfo Slab", "idle", 1, "established.meminfo_slab_bytes_per_conn",
     "B/conn", False),
]

def field_of(result, field):
    """result[field], where a dotted field names a nested member; None if absent."""
    for key in field.split("."):
        if not isinstance(result, dict) or key not in result:
            return None
        result = result[key]
    return result

def values(test, streams, field, transport):
    return [field_of(r["result"], field) for r in runs
            if r["result"]["test"] == test and r["result"].get("streams", 1) == streams
            and r["result"]["transport"] == transport
            and "error" not in r["result"] and field_of(r["result"], field) is not None]

# The memory measurement, one run per transport.
memory = {}
for r in runs:
    res = r["result"]
    if res["test"] == "idle" and "error" not in res:
        memory[res["transport"]] = {
            "connections": res["connections"],
            "established_bytes_per_conn": res["established"]["slabinfo_bytes_per_conn"],
            "established_meminfo_slab_bytes_per_conn":
                res["established"]["meminfo_slab_bytes_per_conn"],
            "time_wait_bytes_per_conn": res["closed"]["slabinfo_bytes_per_conn"],
            "main_caches": [{"name": c["name"], "bytes_per_conn": c["bytes_per_conn"]}
                            for c in res["established"]["caches"][:8]],
        }

summary = []
for label, test, streams, field, unit, higher in metrics:
    tcp = values(test, streams, field, "tcp")
    mig = values(test, streams, field, "migtcp")
    row = {"metric": label, "test": test, "streams": streams, "field": field,
           "unit": unit, "higher_is_better": higher,
           "tcp": tcp, "migtcp": mig,
           "tcp_median": statistics.median(tcp) if tcp else None,
           "migtcp_median": statistics.median(mig) if mig else None,
           "migtcp_over_tcp": None, "ratio": None}
    t, m = row["tcp_median"], row["migtcp_median"]
    if t and m:
        row["migtcp_over_tcp"] = m / t
        row["ratio"] = m / t if higher else t / m
    summary.append(row)

errors = [r for r in runs if "error" in r["result"]]

# sockperf's round-trip times of every round, per transport: a CDF of
# 1000 quantiles and the far tail.
def cdf(transport):
    v = []
    for path in sorted(glob.glob("%s/rtt-%s-*.txt" % (env["WORK"], transport))):
        v += [float(x) for x in read(path).split()]
    if not v:
        return None
    v.sort()
    n = len(v)
    fracs = [i / 1000 for i in range(1001)] + [0.9995, 0.9999]
    pts = sorted({(v[min(n - 1, max(0, math.ceil(f * n) - 1))], f) for f in fracs},
                 key=lambda p: p[1])
    return {"samples": n, "min_us": v[0], "max_us": v[-1],
            "points": [[round(x, 3), f] for x, f in pts]}
latency_cdf = {"what": "sockperf ping-pong round-trip times (--full-rtt, --full-log) of all "
                       "rounds pooled: [microseconds, fraction of samples at or below]",
               "tcp": cdf("tcp"), "migtcp": cdf("migtcp")}
doc = {
    "benchmark": "transport",
    "description": "AF_MIGTCP vs kernel TCP (AF_INET) between two network "
                   "namespaces joined by veth, one VM run, interleaved rounds",
    "ratio": "migtcp/TCP for rates, TCP/migtcp for times: above 1 means migtcp is better",
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "kernel": platform.release(),
    "cpu_model": cpu,
    "cpus": os.cpu_count(),
    "accel": env["ACCEL"],
    "rounds": int(env["ROUNDS"]),
    "seconds_per_test": int(env["SECS"]),
    "idle_connections": int(env["IDLE_CONNS"]),
    "elapsed_seconds": int(env["ELAPSED"]),
    "socket_options": "none on either transport (AF_MIGTCP has none yet): "
                      "Nagle on, default buffers; SO_SNDTIMEO/SO_RCVTIMEO as a stall guard only",
    "client_ephemeral_ports": env["PORTS"],
    "path": {"client": {"node": 1, "ip": "198.51.100.1"},
             "server": {"node": 2, "ip": "198.51.100.2"}, "link": "veth, MTU 1500"},
    "migtcp_params": params,
    "programs": {"iperf3": version(["iperf3", "--version"]),
                 "sockperf": version(["sockperf", "--version"]),
                 "migtcp-run": env["WRAP"]},
    "summary": summary,
    "latency_cdf": latency_cdf,
    "idle_memory": {
        "what": "kernel memory of idle established connections from node 1 to node 2, "
                "measured once per transport before the rounds: /proc/slabinfo "
                "(sum of active_objs * objsize over all caches, and per cache) and "
                "/proc/meminfo Slab: before opening them and 1 s after all are established; "
                "both nodes share the kernel, so a connection is two sockets with their "
                "files; time_wait is what is left 1 s after the client closed them all",
        "ratio": "TCP/migtcp: above 1 means migtcp uses less",
        "settle_seconds": int(env["IDLE_SETTLE"]),
        "tcp": memory.get("tcp"),
        "migtcp": memory.get("migtcp"),
    },
    "runs": runs,
    "errors": len(errors),
    "migtcp_stats": {"client": load_json(env["WORK"] + "/stats-cli.json"),
                     "server": load_json(env["WORK"] + "/stats-srv.json")},
    "tcp_retrans_segs": dict(zip(("client", "server"),
                                 (int(x) for x in read(env["WORK"] + "/tcp-retrans").split()))),
    "kernel_log": read(env["WORK"] + "/dmesg").splitlines(),
}
with open(env["JSON"], "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")

def fmt(v):
    if v is None:
        return "n/a"
    return "%.1f" % v if v < 1e5 else "%.0f" % v

print()
print("migtcp vs TCP, %s, %s, %d CPUs, %s; median of %d rounds of %ds"
      % (doc["kernel"], cpu, doc["cpus"], doc["accel"], doc["rounds"], doc["seconds_per_test"]))
print("%-28s %8s %12s %12s %7s" % ("metric", "unit", "TCP", "migtcp", "ratio"))
for row in summary:
    ratio = "%.3f" % row["ratio"] if row["ratio"] is not None else "n/a"
    print("%-28s %8s %12s %12s %7s" % (row["metric"], row["unit"], fmt(row["tcp_median"]),
                                       fmt(row["migtcp_median"]), ratio))
print("ratio: migtcp/TCP for rates, TCP/migtcp for times and memory; above 1 means migtcp is better")
if memory:
    print("memory: measured once per transport, %d idle connections, before the rounds"
          % max(m["connections"] for m in memory.values()))
for transport in ("tcp", "migtcp"):
    m = memory.get(transport)
    if not m:
        continue
    print("%s idle conn (2 sockets), B/conn by slab cache: %s" % (
        "TCP" if transport == "tcp" else transport,
        ", ".join("%s %.0f" % (c["name"], c["bytes_per_conn"]) for c in m["main_caches"])))
    print("    in TIME_WAIT after close: %.0f B/conn" % m["time_wait_bytes_per_conn"])
if errors:
    print("%d measurement(s) failed:" % len(errors))
    for r in errors:
        where = "round %d" % r["round"] if r["round"] else "memory"
        print("  %s %s %s: %s" % (where, r["result"]["test"],
                                  r["result"]["transport"], r["result"]["error"]))
EOF

if grep -qE 'WARNING:|BUG:|Oops|refcount_t|Call Trace:|soft lockup|blocked for more than' "$work/dmesg"; then
	echo "bench: the kernel log has warnings (kept in transport.json):"
	grep -E 'WARNING:|BUG:|Oops|refcount_t|Call Trace:|soft lockup|blocked for more than' "$work/dmesg" | head -n 10 | sed 's/^/bench:   /'
fi
echo "bench: ${elapsed}s of measurements; results in $json"
case $outdir in /tmp | /tmp/*)
	[ -n "${MIGTCP_VM:-}" ] && echo "bench: note: the VM's /tmp is lost at power-off; set MIGTCP_BENCH_OUT to keep the file" ;;
esac
[ "$failures" = 0 ] || { echo "bench: $failures measurement(s) failed"; exit 1; }
