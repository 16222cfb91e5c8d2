#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Migration benchmark: what moving a live connection costs, and what the
# design it replaces (relaying through the home node) costs instead.
# Three nodes, network namespaces on one bridge: node 1 (home) at
# 198.51.100.11, node 2 at .12, node 3 (the peer) at .13.
#
#  1. downtime (build/bench/migbench downtime): a sender streams without
#     pause to a receiver on node 3, which checks every byte; the sender's
#     endpoint migrates MIGRATIONS times, 1 -> 2 -> 1 ..., with the socket
#     options alone (freeze, checkpoint, close, restore on the other
#     node).  Per migration: the time to freeze and checkpoint, to
#     restore, from restore until the peer read the first byte written
#     after it ("migtcp time" is the sum: freeze to first new byte), the
#     peer's longest pause between reads meanwhile (peer-observed
#     downtime), and the peer's throughput over WINDOW s before the freeze
#     and after the first new byte.
#  2. CRIU (when the CRIU wrapper migtcp-criu is built): the same for a
#     whole process: tools/demo -m criu with CRIU_MIGRATIONS migrations
#     of its server process; criu dump ms, criu restore ms, the gap its
#     client (node 3) saw.
#  3. relay (migbench relay): the moved process on node 2 talks to node 3
#     over the migrated connection (direct), over a connection opened on
#     node 2 for reference (fresh), or through a relay process
#     on node 1 that copies to and from a connection to node 3, over
#     kernel TCP (relay-tcp, OpenMosix's deputy) or AF_MIGTCP
#     (relay-migtcp): bulk throughput and 1-byte round trips,
#     RELAY_ROUNDS rounds of RELAY_SECS each, the order rotating.
#
# Nothing here passes or fails on a number: the exit status says only
# whether the measurements could be run (and every byte arrived).
#
# Run as root inside the test VM, from the project directory:
#   tools/vm run -t 900 -- bench/migration.sh
# Environment:
#   MIGRATIONS=30         socket-option migrations (at least 30 for a p99)
#   WINDOW=2              seconds of throughput before and after each
#   CRIU_MIGRATIONS=30    CRIU migrations of a process (0: none)
#   RELAY_SECS=3          duration of one relay measurement
#   RELAY_ROUNDS=5        rounds of the relay measurements (round trips
#                         under TCG are noisy: the median needs rounds)
#   MIGTCP_BENCH_OUT=DIR  where migration.json and the plot go (default /tmp)
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bin=$top/build/bench/migbench

migrations=${MIGRATIONS:-30}
window=${WINDOW:-2}
criu_migrations=${CRIU_MIGRATIONS:-30}
relay_secs=${RELAY_SECS:-3}
relay_rounds=${RELAY_ROUNDS:-5}
outdir=${MIGTCP_BENCH_OUT:-/tmp}
net=198.51.100

for v in migrations relay_rounds; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "${v^^} must be a positive integer"
done
[[ $criu_migrations =~ ^[0-9]+$ ]] || die "CRIU_MIGRATIONS must be an integer"
[[ $window =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "WINDOW must be seconds"
[[ $relay_secs =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "RELAY_SECS must be seconds"
check_setup "$bin" "$outdir"

work=$(mktemp -d /tmp/migtcp-migbench.XXXXXX)
pfx=mmb$$

cleanup() {
	for n in 1 2 3 sw; do
		ip netns del "$pfx-$n" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_module
modprobe -q veth 2>/dev/null || true
modprobe -q bridge 2>/dev/null || true

step "three nodes on one bridge: node N is $pfx-N at $net.1N"
ip netns add "$pfx-sw"
ip -n "$pfx-sw" link add br0 type bridge
ip -n "$pfx-sw" link set br0 up
for n in 1 2 3; do
	ip netns add "$pfx-$n"
	ip -n "$pfx-$n" link set lo up
	ip -n "$pfx-sw" link add "n$n" type veth peer name eth0 netns "$pfx-$n"
	ip -n "$pfx-sw" link set "n$n" master br0 up
	ip -n "$pfx-$n" addr add "$net.1$n/24" dev eth0
	ip -n "$pfx-$n" link set eth0 up
done
for n in 1 2 3; do
	nsenter --net="/run/netns/$pfx-$n" "$ctl" node set id "$n" addr "$net.1$n"
	for p in 1 2 3; do
		[ "$p" = "$n" ] && continue
		nsenter --net="/run/netns/$pfx-$n" "$ctl" peer add "$p" addr "$net.1$p"
	done
done
nodes=(-a "/run/netns/$pfx-1,1" -b "/run/netns/$pfx-2,2" -r "/run/netns/$pfx-3,3")

failures=0
start=$(date +%s)
nsteps=$(migration_steps "$criu_migrations")

# run NAME TIMEOUT CMD...: its JSON line goes to $work/NAME.json.
run() {
	local name=$1 limit=$2 rc=0
	shift 2
	timeout -k 5 "$limit" "$@" >"$work/$name.json" 2>"$work/$name.err" || rc=$?
	if [ $rc != 0 ]; then
		failures=$((failures + 1))
		step "$name failed (status $rc): $(tail -n 3 "$work/$name.err")"
	fi
	[ -s "$work/$name.json" ] || echo null >"$work/$name.json"
}

progress "$nsteps" "migration downtime: $migrations migrations of a live stream"
step "downtime: $migrations migrations of a live stream, ${window}s windows (~$(python3 -c "print(round($migrations * ($window + 0.3) + $window))")s)"
run downtime $((migrations * 10 + 120)) "$bin" downtime "${nodes[@]}" \
	-n "$migrations" -w "$window"

criu_status="not measured"
echo null >"$work/criu.json"
if [ "$criu_migrations" -gt 0 ]; then
	wrapper=$(criu_wrapper)
	if [ -n "$wrapper" ] && command -v criu >/dev/null; then
		progress "$nsteps" "migration with CRIU: $criu_migrations migrations of a process"
		step "CRIU: $criu_migrations migrations of a process (tools/demo -m criu)"
		rc=0
		MIGTCP_DEMO_OUT=$work/criu timeout -k 5 $((criu_migrations * 30 + 120)) \
			"$top/tools/demo" -m criu -n "$criu_migrations" -l 1 -g 1 \
			>"$work/criu.log" 2>&1 || rc=$?
		if [ -s "$work/criu/timeline.json" ]; then
			cp "$work/criu/timeline.json" "$work/criu.json"
			criu_status="measured"
		fi
		if [ $rc != 0 ]; then
			failures=$((failures + 1))
			criu_status="failed (status $rc)"
			step "CRIU migrations failed (status $rc):"
			tail -n 15 "$work/criu.log" | sed 's/^/bench:   /'
		fi
	else
		criu_status="not measured: no migtcp-criu (the CRIU plugin's wrapper) or no criu"
		step "CRIU: $criu_status"
	fi
fi

progress "$nsteps" "migrated connection against a relay through the home node, $relay_rounds rounds"
step "relay: direct vs through the home node, $relay_rounds rounds of ${relay_secs}s bulk and request/response"
run relay $(((relay_secs * 2 + 10) * 4 * relay_rounds + 120)) "$bin" relay "${nodes[@]}" \
	-A "$net.11" -R "$net.13" -t "$relay_secs" -k "$relay_rounds"
elapsed=$(($(date +%s) - start))

for n in 1 2 3; do
	nsenter --net="/run/netns/$pfx-$n" "$ctl" -j stats >"$work/stats$n.json" 2>/dev/null ||
		echo null >"$work/stats$n.json"
done
save_kernel_log "$work/dmesg"
accel=$(guess_accel)

json=$outdir/migration.json
WORK=$work JSON=$json ACCEL=$accel ELAPSED=$elapsed CRIU_STATUS=$criu_status \
KNOBS="$migrations $window $criu_migrations $relay_secs $relay_rounds" \
OUTDIR=$outdir python3 - <<'EOF'
import json, os, platform, statistics, time, math

env = os.environ
work = env["WORK"]

def load(name):
    try:
        return json.load(open("%s/%s.json" % (work, name)))
    except (OSError, ValueError):
        return None

def pct(v, p):
    """Nearest-rank percentile."""
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    return v[max(1, min(len(v), math.ceil(p / 100 * len(v)))) - 1]

def stat(v):
    v = [x for x in v if x is not None]
    return {"n": len(v), "median": pct(v, 50), "p99": pct(v, 99),
            "min": min(v) if v else None, "max": max(v) if v else None}

down = load("downtime")
criu = load("criu")
relay = load("relay")
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), "unknown")

summary = {}
if down:
    pm = down["per_migration"]
    summary["migtcp"] = {
        "migrations": len(pm),
        "peer_downtime_ms": stat([m["peer_downtime_ms"] for m in pm]),
        "migtcp_ms": stat([m["migtcp_ms"] for m in pm]),
        "freeze_checkpoint_ms": stat([m["freeze_checkpoint_ms"] for m in pm]),
        "restore_ms": stat([m["restore_ms"] for m in pm]),
        "restore_to_first_byte_ms": stat([m["restore_to_first_byte_ms"] for m in pm]),
        "checkpoint_bytes": stat([m["checkpoint_bytes"] for m in pm]),
        "mbit_s_before": stat([m["mbit_s_before"] for m in pm]),
        "mbit_s_after": stat([m["mbit_s_after"] for m in pm]),
        "after_before_ratio": stat([m["mbit_s_after"] / m["mbit_s_before"] for m in pm
                                    if m["mbit_s_before"] and m["mbit_s_after"] is not None]),
        "bytes_sent": down["bytes_sent"], "bytes_verified": down["bytes_verified"],
        "bytes_lost": down["bytes_sent"] - down["bytes_verified"],
    }
if criu:
    ms = criu["migrations"]
    summary["criu"] = {
        "migrations": len(ms),
        "criu_dump_ms": stat([m["checkpoint_ms"] for m in ms]),
        "criu_restore_ms": stat([m["restore_ms"] for m in ms]),
        "peer_stall_ms": stat([m["stall_ms"] for m in ms]),
        "bytes": criu["bytes"],
        "verdict": criu["verdict"],
    }
if relay:
    paths = {}
    for r in relay["runs"]:
        if "error" in r:
            continue
        paths.setdefault(r["path"], []).append(r)
    med = {p: {k: statistics.median([r[k] for r in rs])
               for k in ("mbit_s", "rr_tps", "rr_p50_us", "rr_p99_us")}
           for p, rs in paths.items()}
    rows = {"paths": med}
    d = med.get("direct")
    for p in ("relay-tcp", "relay-migtcp"):
        q = med.get(p)
        if d and q:
            rows[p + "_vs_direct"] = {
                "throughput_ratio_direct_over_relay": d["mbit_s"] / q["mbit_s"],
                "rtt_p50_ratio_relay_over_direct": q["rr_p50_us"] / d["rr_p50_us"],
                "added_latency_p50_us": q["rr_p50_us"] - d["rr_p50_us"],
            }
    summary["relay"] = rows

doc = {
    "benchmark": "migration",
    "description": "cost of moving a live AF_MIGTCP connection between nodes (network "
                   "namespaces on one bridge, one VM), and home-node relaying for comparison",
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "kernel": platform.release(), "cpu_model": cpu, "cpus": os.cpu_count(),
    "accel": env["ACCEL"], "elapsed_seconds": int(env["ELAPSED"]),
    "settings": dict(zip(("migrations", "window_seconds", "criu_migrations", "relay_seconds",
                          "relay_rounds"), (float(x) if "." in x else int(x)
                                            for x in env["KNOBS"].split()))),
    "definitions": {
        "peer_downtime_ms": "the peer application's longest pause between two reads from the "
                            "freeze until it read the first byte written after the restore "
                            "(it reads on from its receive queue after the freeze, so this can "
                            "be shorter than migtcp_ms)",
        "migtcp_ms": "from MIGTCP_FREEZE until the peer application read the first byte "
                     "written after MIGTCP_RESTORE (told apart by stream offset)",
        "freeze_checkpoint_ms": "MIGTCP_FREEZE and MIGTCP_CHECKPOINT",
        "restore_ms": "close, setns() to the other node, socket(), MIGTCP_RESTORE",
        "restore_to_first_byte_ms": "from MIGTCP_RESTORE's return until the peer read the "
                                    "first byte written after it",
        "mbit_s_before/after": "the peer's throughput in the window before the freeze and "
                               "from the first new byte on, same connection",
        "criu": "tools/demo -m criu: criu dump ms and criu restore ms as the shell timed them, "
                "and the longest gap in what the client received",
        "relay": "direct: the migrated connection from node 2 to node 3; fresh: a connection "
                 "opened on node 2, never migrated (what direct should match); relay-*: node 2 "
                 "to a copying relay process on node 1 (home) to node 3; medians of the rounds",
    },
    "criu_status": env["CRIU_STATUS"],
    "summary": summary,
    "downtime": down, "criu": criu, "relay": relay,
    "migtcp_stats": {"node%d" % n: load("stats%d" % n) for n in (1, 2, 3)},
    "kernel_log": open(work + "/dmesg").read().splitlines(),
}
json.dump(doc, open(env["JSON"], "w"), indent=1)

with open(env["OUTDIR"] + "/migration-downtime.dat", "w") as f:
    for m in (down or {}).get("per_migration", []):
        if m["peer_downtime_ms"] is not None:
            f.write("migtcp %.3f\n" % m["peer_downtime_ms"])
with open(env["OUTDIR"] + "/migration-criu.dat", "w") as f:
    for m in (criu or {}).get("migrations", []):
        if m["stall_ms"] is not None:
            f.write("criu %.3f\n" % m["stall_ms"])

def f(v, fmt="%.1f"):
    return "n/a" if v is None else fmt % v

print()
print("migration, %s, %s, %d CPUs, %s" % (doc["kernel"], cpu, doc["cpus"], doc["accel"]))
if "migtcp" in summary:
    s = summary["migtcp"]
    print("socket-option migrations of a live stream: %d, bytes lost %d"
          % (s["migrations"], s["bytes_lost"]))
    print("  %-36s %10s %10s %10s" % ("", "median", "p99", "max"))
    for k, label in (("peer_downtime_ms", "peer-observed downtime, ms"),
                     ("migtcp_ms", "freeze -> first new byte read, ms"),
                     ("freeze_checkpoint_ms", "  freeze + checkpoint, ms"),
                     ("restore_ms", "  close + setns + restore, ms"),
                     ("restore_to_first_byte_ms", "  restore -> first new byte, ms"),
                     ("checkpoint_bytes", "checkpoint size, bytes"),
                     ("mbit_s_before", "throughput before, Mbit/s"),
                     ("mbit_s_after", "throughput after, Mbit/s"),
                     ("after_before_ratio", "after/before")):
        st = s[k]
        fmt = "%.3f" if k == "after_before_ratio" else "%.1f"
        print("  %-36s %10s %10s %10s" % (label, f(st["median"], fmt), f(st["p99"], fmt),
                                          f(st["max"], fmt)))
if "criu" in summary:
    s = summary["criu"]
    print("CRIU migrations of a process: %d (%s)" % (s["migrations"], s["verdict"]))
    for k, label in (("criu_dump_ms", "criu dump, ms"), ("criu_restore_ms", "criu restore, ms"),
                     ("peer_stall_ms", "peer-observed stall, ms")):
        st = s[k]
        print("  %-36s %10s %10s %10s" % (label, f(st["median"]), f(st["p99"]), f(st["max"])))
else:
    print("CRIU: " + env["CRIU_STATUS"])
if "relay" in summary:
    r = summary["relay"]
    print("after the move (node 2 to node 3), medians of %d rounds:" % relay["rounds"])
    print("  %-14s %12s %12s %12s %12s" % ("path", "Mbit/s", "trans/s", "p50 RTT us", "p99 RTT us"))
    for p in ("direct", "fresh", "relay-tcp", "relay-migtcp"):
        m = r["paths"].get(p)
        if m:
            print("  %-14s %12.1f %12.1f %12.1f %12.1f" % (p, m["mbit_s"], m["rr_tps"],
                                                           m["rr_p50_us"], m["rr_p99_us"]))
    for p in ("relay-tcp", "relay-migtcp"):
        q = r.get(p + "_vs_direct")
        if q:
            print("  %-12s vs direct: direct has %.2fx its throughput; its p50 RTT is %.2fx "
                  "direct's (%+.0f us)" % (p, q["throughput_ratio_direct_over_relay"],
                                          q["rtt_p50_ratio_relay_over_direct"],
                                          q["added_latency_p50_us"]))
EOF

if command -v gnuplot >/dev/null && [ -s "$outdir/migration-downtime.dat" ]; then
	(
		cd "$outdir"
		has_criu=0
		[ -s migration-criu.dat ] && has_criu=1
		# A file, not stdin: gnuplot reads multi-line blocks only from files.
		cat >"$work/plot.gp" <<'EOF'
set terminal pngcairo size 900,450 font ",10"
set output "migration-downtime.png"
set title "Peer-observed downtime per migration"
set ylabel "migrations"
set style fill solid 0.6 border -1
set key top right
set grid ytics
stats "migration-downtime.dat" using 2 nooutput
lo = STATS_min; hi = STATS_max
w = (hi - lo) / 20.0
w = w > 0 ? w : 1
bin(x) = w * floor(x / w) + w / 2
set boxwidth w * 0.9
set xlabel "ms (socket-option migration: freeze, checkpoint, restore)"
if (has_criu) {
	set multiplot layout 1,2
}
plot "migration-downtime.dat" using (bin($2)):(1) smooth frequency with boxes \
	linecolor rgb "steelblue" title "migtcp"
if (has_criu) {
	stats "migration-criu.dat" using 2 nooutput
	lo = STATS_min; hi = STATS_max
	w = (hi - lo) / 20.0
	w = w > 0 ? w : 1
	set boxwidth w * 0.9
	set xlabel "ms (whole process: criu dump + criu restore)"
	set title "Peer-observed stall per CRIU migration"
	plot "migration-criu.dat" using (bin($2)):(1) smooth frequency with boxes \
		linecolor rgb "dark-orange" title "CRIU"
	unset multiplot
}
EOF
		gnuplot -e "has_criu=$has_criu" "$work/plot.gp" &&
			echo "bench: plot: $outdir/migration-downtime.png"
	) || step "gnuplot failed; no plot"
fi
echo "bench: ${elapsed}s of measurements; results in $json"
[ "$failures" = 0 ] || { echo "bench: $failures measurement(s) failed"; exit 1; }
