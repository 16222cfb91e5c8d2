#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Out-of-order queue benchmark (issue 12): the cost of one out-of-order
# segment as the receiver's queue deepens, under the adversarial pattern
# of SegmentSmack: one-byte segments at every other byte, in random order.
# build/bench/ofobench does the work (its header says what it measures);
# this script builds its two nodes, places the kprobes it reads and
# writes ofo.json.
#
# Two network namespaces joined by a veth pair: node 1 (the forger) at
# 198.51.100.1 on device ofo1, node 2 (the receiver) at 198.51.100.2.
# The kernel's figures come from kprobe events in a tracing instance of
# its own: ofo/rcv at migtcp_rcv_synchronized() and ofo/ack at
# migtcp_send_ack() (ftrace-based probes at function entry), and ofo/ins
# at migtcp_ofo_insert(), a probe at the inlined function's first
# instruction, which perf(1) finds in the module's debugging information
# ("perf probe -D", the Debian package linux-perf): without perf, or if
# the compiler left more than one copy of it, the insert goes unmeasured
# and the rest is still measured.  The module's "mem" parameter (pages
# all migtcp sockets may use) is raised for the run if the receive
# buffer would put them under memory pressure, and put back.
#
# Writes ofo.json, ofo-samples.tsv (every segment's figures) and, with
# gnuplot, ofo-cost.png into MIGTCP_BENCH_OUT.  Nothing here passes or
# fails on a number: the exit status says only whether the measurement
# ran and every byte arrived.
#
# Run as root inside the test VM, from the project directory:
#   tools/vm run -t 900 -- bench/ofo.sh
# Environment:
#   OFO_SEGMENTS=262144   N: segments at odd offsets (the deepest queue;
#                         some 768 bytes of receive buffer each)
#   OFO_BUCKET=1024       segments per bucket of the figures
#   OFO_SEED=1            the random order's seed
#   MIGTCP_BENCH_OUT=DIR  where ofo.json and ofo-samples.tsv go (default /tmp)
#   MIGTCP_ACCEL=tcg|kvm  recorded in the results (guessed if unset)
#   MIGTCP_KO=PATH        the module to load, if none is (default
#                         build/kbuild/$(uname -r)/migtcp.ko): another
#                         build, for a comparison
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bin=$top/build/bench/ofobench

segments=${OFO_SEGMENTS:-262144}
bucket=${OFO_BUCKET:-1024}
seed=${OFO_SEED:-1}
outdir=${MIGTCP_BENCH_OUT:-/tmp}
tracing=/sys/kernel/tracing

for v in segments bucket; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "OFO_${v^^} must be a positive integer"
done
[[ $seed =~ ^[0-9]+$ ]] || die "OFO_SEED must be an integer"
((bucket <= segments)) || die "OFO_BUCKET must not exceed OFO_SEGMENTS"
check_setup "$bin" "$outdir"
command -v tc >/dev/null || die "tc is needed (Debian package iproute2)"

work=$(mktemp -d /tmp/migtcp-ofo.XXXXXX)
pfx=ofo$$
inst=$tracing/instances/migtcp-$pfx
mem_saved=
probes=()

# Called by the EXIT trap only (shellcheck cannot tell).
# shellcheck disable=SC2317
cleanup() {
	if [ -d "$inst" ]; then
		echo 0 >"$inst/events/ofo/enable" 2>/dev/null || true
		rmdir "$inst" 2>/dev/null || true
	fi
	for p in "${probes[@]}"; do
		echo "-:ofo/$p" >>"$tracing/kprobe_events" 2>/dev/null || true
	done
	if [ -n "$mem_saved" ]; then
		echo "$mem_saved" >/sys/module/migtcp/parameters/mem || true
	fi
	ip netns del "$pfx-1" 2>/dev/null || true
	ip netns del "$pfx-2" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_module
for m in veth sch_ingress cls_u32 act_gact; do
	modprobe -q "$m" 2>/dev/null || true
done

step "building two nodes: $pfx-1 (node 1, 198.51.100.1) and $pfx-2 (node 2, 198.51.100.2)"
ip netns add "$pfx-1"
ip netns add "$pfx-2"
ip -n "$pfx-1" link set lo up
ip -n "$pfx-2" link set lo up
ip -n "$pfx-2" link add ofo2 type veth peer name ofo1 netns "$pfx-1"
ip -n "$pfx-1" addr add 198.51.100.1/24 dev ofo1
ip -n "$pfx-2" addr add 198.51.100.2/24 dev ofo2
ip -n "$pfx-1" link set ofo1 up
ip -n "$pfx-2" link set ofo2 up
ip netns exec "$pfx-1" "$ctl" node set id 1 addr 198.51.100.1
ip netns exec "$pfx-1" "$ctl" peer add 2 addr 198.51.100.2
ip netns exec "$pfx-2" "$ctl" node set id 2 addr 198.51.100.2
ip netns exec "$pfx-2" "$ctl" peer add 1 addr 198.51.100.1

# Node 2's receive buffer: some 1 KiB of truesize per queued one-byte
# segment, twice that to be safe (ofobench's default, made explicit).
rcvbuf=$((segments * 2048 + 1048576))
((rcvbuf < 2147483647)) || rcvbuf=2147483646
# The memory limits of all migtcp sockets, in pages (as tcp_mem): under
# pressure above the second, which the receive buffer must stay under.
read -r -a mem <<<"$(tr ',' ' ' </sys/module/migtcp/parameters/mem)"
need=$((rcvbuf * 2 / 4096))
if ((mem[1] < need)); then
	mem_saved=$(cat /sys/module/migtcp/parameters/mem)
	echo "$need,$((need * 2)),$((need * 4))" >/sys/module/migtcp/parameters/mem
	step "module parameter mem: $mem_saved -> $(cat /sys/module/migtcp/parameters/mem) for the run"
fi

# in_filter_functions FUNC: whether ftrace can attach to FUNC (it exists
# as a function of its own, not only inlined).
in_filter_functions() {
	grep -q "^$1 \[migtcp\]$" "$tracing/available_filter_functions"
}

# The build ID of the migtcp module loaded: the last 20 bytes of its
# GNU build-id note (a SHA-1), in hex, as readelf -n prints it.
build_id_loaded() {
	tail -c 20 /sys/module/migtcp/notes/.note.gnu.build-id | od -An -tx1 | tr -d ' \n'
}

# add_probe NAME DEFINITION: kprobe event ofo/NAME.
add_probe() {
	echo "p:ofo/$1 $2" >>"$tracing/kprobe_events" || return 1
	probes+=("$1")
}

trace_args=()
insert_probe=null
no_kernel_figures=
if [ ! -w "$tracing/kprobe_events" ]; then
	no_kernel_figures="no $tracing/kprobe_events (tracefs, CONFIG_KPROBE_EVENTS)"
elif ! in_filter_functions migtcp_rcv_synchronized || ! in_filter_functions migtcp_send_ack; then
	no_kernel_figures="migtcp_rcv_synchronized or migtcp_send_ack is not in available_filter_functions"
else
	add_probe rcv migtcp_rcv_synchronized
	add_probe ack migtcp_send_ack
	if in_filter_functions migtcp_ofo_insert; then
		insert_probe=migtcp_ofo_insert
	elif [ "$(build_id_loaded)" != "$(readelf -n "$ko" | sed -n 's/.*Build ID: //p')" ]; then
		# The probe's place comes from $ko's debugging information.
		step "no probe at the inlined migtcp_ofo_insert: the module loaded is not $ko (MIGTCP_KO)"
	elif command -v perf >/dev/null; then
		# "p:probe/migtcp_ofo_insert migtcp:migtcp_rcv_synchronized+3262"
		defs=$(perf probe -q -m "$ko" -D migtcp_ofo_insert 2>"$work/perf.err" || true)
		if [ "$(grep -c '^p:' <<<"$defs")" = 1 ]; then
			insert_probe=${defs#* }
		else
			step "no probe at the inlined migtcp_ofo_insert: perf probe gave '$defs' $(head -c 300 "$work/perf.err")"
		fi
	else
		step "no probe at the inlined migtcp_ofo_insert: perf(1) is not installed (linux-perf)"
	fi
	if [ "$insert_probe" != null ] && ! add_probe ins "$insert_probe"; then
		step "the kernel refused the probe $insert_probe"
		insert_probe=null
	fi
	mkdir "$inst"
	echo mono >"$inst/trace_clock"
	echo 1 >"$inst/options/raw"
	echo 8192 >"$inst/buffer_size_kb"
	trace_args=(-t "$inst")
fi
[ -z "$no_kernel_figures" ] || step "only the send() times: $no_kernel_figures"

progress 1 "out-of-order queue: $segments segments at odd offsets, $((segments - 1)) at even ones, buckets of $bucket"
start=$(date +%s)
status=0
timeout -k 5 $((segments / 100 + 300)) "$bin" -1 "/run/netns/$pfx-1" -2 "/run/netns/$pfx-2" -d ofo1 \
	-n "$segments" -b "$bucket" -s "$seed" -r "$rcvbuf" "${trace_args[@]}" \
	-S "$outdir/ofo-samples.tsv" >"$work/run.json" || status=$?
elapsed=$(($(date +%s) - start))
save_kernel_log "$work/kernel.log"

# plot OFO.json: ofo-cost.png beside it, each measure's median per bucket
# against the depth.
plot() {
	command -v gnuplot >/dev/null || { echo "no gnuplot (gnuplot-nox)" >"$work/plot.err"; return 1; }
	python3 "$top/bench/report" ofo-plotdata "$1" "$work/ofo.dat" 2>"$work/plot.err" || return 1
	cat >"$work/ofo.gp" <<'GP'
set terminal pngcairo size 900,500 font ",10"
set output out."/ofo-cost.png"
set title "Cost of one out-of-order one-byte segment against the depth of the queue\n{/*0.8 ".sub."}"
set xlabel "segments queued out of order when it arrives"
set ylabel "us per segment, median of the bucket (log scale)"
set logscale y
set xrange [0:*]
set grid xtics ytics mytics
set key outside right
plot dat using 1:2 with lines linewidth 2 linecolor rgb "gray30" title "send()", \
     dat using 1:4 with lines linewidth 2 linecolor rgb "dark-orange" title "segment", \
     dat using 1:6 with lines linewidth 2 linecolor rgb "steelblue" title "insert"
GP
	gnuplot -e "out='$outdir'; dat='$work/ofo.dat'; sub='$(uname -r), $(guess_accel), buckets of $bucket segments, $segments in all'" \
		"$work/ofo.gp" 2>"$work/plot.err" || return 1
	step "plot: $outdir/ofo-cost.png"
}

json=$outdir/ofo.json
WORK=$work JSON=$json STATUS=$status ELAPSED=$elapsed ACCEL=$(guess_accel) \
INSERT_PROBE=$insert_probe NO_KERNEL=$no_kernel_figures MEM_SAVED=$mem_saved \
python3 - <<'EOF'
import json, os, platform, time
env = os.environ
try:
    run = json.load(open(env["WORK"] + "/run.json"))
except (OSError, ValueError):
    run = None
cpu = None
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
mem_kib = None
for line in open("/proc/meminfo"):
    if line.startswith("MemTotal:"):
        mem_kib = int(line.split()[1])
doc = {
    "benchmark": "out-of-order queue under SegmentSmack's pattern (bench/ofo.sh)",
    "description": "one-byte segments forged at every other byte beyond a one-byte gap, "
                   "odd offsets in random order (the queue deepens), then the even ones, "
                   "then the gap; per bucket of segments, the time of the forger's send() "
                   "(the receiver's softirq runs inside it on a veth) and, from kprobes, "
                   "the receiving socket's processing and the insert itself",
    "flat": "ratio_*: the deepest bucket's figure over the shallowest's, phase odd; "
            "1.0 is flat, a list walked from its head grows linearly",
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "kernel": platform.release(),
    "cpu_model": cpu,
    "cpus": os.cpu_count(),
    "memory_mib": mem_kib // 1024 if mem_kib else None,
    "accel": env["ACCEL"],
    "elapsed_seconds": int(env["ELAPSED"]),
    "exit_status": int(env["STATUS"]),
    "insert_probe": None if env["INSERT_PROBE"] == "null" else env["INSERT_PROBE"],
    "no_kernel_figures": env["NO_KERNEL"] or None,
    "module_mem_raised_from": env["MEM_SAVED"] or None,
    "result": run,
}
json.dump(doc, open(env["JSON"], "w"), indent=1)
EOF
if [ -s "$json" ]; then
	python3 "$top/bench/report" ofo-table "$json" || true
	plot "$json" || step "no chart: $(tail -n 1 "$work/plot.err" 2>/dev/null)"
fi
step "out-of-order queue: ${elapsed}s, status $status; results in $json"
exit "$status"
