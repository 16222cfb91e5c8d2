#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole benchmark suite in one VM run (make bench):
#   1. transport.sh: AF_MIGTCP against kernel TCP over one veth path,
#      interleaved rounds: streambench (bulk 1 and 4 streams,
#      request/response, connection rate, idle memory), iperf3 (1 and 4
#      streams) and sockperf ping-pong, the programs unmodified, run
#      under migtcp-run for migtcp;
#   2. migration.sh: downtime of migrations of a live stream, CRIU
#      migrations of a process, the migrated connection against a relay
#      through the home node;
#   3. ofo.sh: the cost of one out-of-order segment as the receiver's
#      out-of-order queue deepens, under SegmentSmack's pattern;
#   4. wan.sh: kernel TCP against migtcp (iperf3) through a router with
#      delay, loss and reordering;
#   5. results.json (bench/report merge) with every figure, and the
#      charts (bench/plot.sh): throughput.png, latency-cdf.png, beside
#      migration.sh's migration-downtime.png, ofo.sh's ofo-cost.png and
#      wan.sh's wan.png; then the tables.
# Each step prints "bench: [n/N] ..." to stderr as it starts.  Nothing
# passes or fails on a number: the exit status says only whether the
# measurements ran (the first failing part's status).
#
# Run as root inside the test VM, from the project directory:
#   tools/vm run -t 2400 -o DIR -- env MIGTCP_BENCH_OUT=DIR/out bench/suite.sh
# Environment: MIGTCP_BENCH_OUT (default /tmp), MIGTCP_ACCEL, and the
# knobs of transport.sh, migration.sh, ofo.sh and wan.sh (ROUNDS,
# SECONDS_PER_TEST, ..., OFO_SEGMENTS, WAN_SECONDS).
set -uo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

outdir=${MIGTCP_BENCH_OUT:-/tmp}
mkdir -p "$outdir" || die "cannot create $outdir"
rounds=${ROUNDS:-3}
criu_migrations=${CRIU_MIGRATIONS:-30}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
[[ $criu_migrations =~ ^[0-9]+$ ]] || die "CRIU_MIGRATIONS must be an integer"

# One count of steps across the scripts, and one accelerator for both.
MIGTCP_BENCH_PROGRESS=$(mktemp /tmp/migtcp-progress.XXXXXX)
MIGTCP_ACCEL=$(guess_accel)
export MIGTCP_BENCH_PROGRESS MIGTCP_ACCEL
trap 'rm -f "$MIGTCP_BENCH_PROGRESS"' EXIT
total=$(($(transport_steps "$rounds" "${#transport_tests[@]}") + \
	$(migration_steps "$criu_migrations") + 1 + 1 + 1))
echo "0 $total" >"$MIGTCP_BENCH_PROGRESS"

start=$(date +%s)
t0=$start
"$top/bench/transport.sh"
tstatus=$?
t1=$(date +%s)
"$top/bench/migration.sh"
mstatus=$?
t2=$(date +%s)
"$top/bench/ofo.sh"
ostatus=$?
t3=$(date +%s)
progress "$total" "TCP and migtcp through a lossy router (wan.sh)"
"$top/bench/wan.sh" >&2
wstatus=$?
t4=$(date +%s)

progress "$total" "results.json and charts"
merge() {
	SUITE_START=$start SUITE_SECONDS=$((t4 - start)) TRANSPORT_SECONDS=$((t1 - t0)) \
	MIGRATION_SECONDS=$((t2 - t1)) OFO_SECONDS=$((t3 - t2)) WAN_SECONDS_TOTAL=$((t4 - t3)) \
	TRANSPORT_STATUS=$tstatus MIGRATION_STATUS=$mstatus OFO_STATUS=$ostatus \
	WAN_STATUS=$wstatus \
		python3 "$top/bench/report" merge "$outdir" >/dev/null
}
merge || step "results.json could not be written"
if [ -s "$outdir/results.json" ]; then
	"$top/bench/plot.sh" "$outdir/results.json" "$outdir" || step "some charts could not be drawn"
	# results.json lists the charts: once more, now that they exist.
	merge
	echo
	python3 "$top/bench/report" table "$outdir/results.json"
	echo
fi
step "suite: $((t4 - start)) s; transport.sh status $tstatus, migration.sh status $mstatus, ofo.sh status $ostatus, wan.sh status $wstatus; results in $outdir/results.json"
for status in "$tstatus" "$mstatus" "$ostatus"; do
	if [ "$status" != 0 ]; then exit "$status"; fi
done
exit "$wstatus"
