#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Migration between machines: three guests, each its own kernel (tools/vm
# cluster), this script on node 1.  The demo's streaming server (a
# migstream server holding MEMORY_MIB MiB of memory, as a real server
# holds its heap, streaming both ways with a client on node 3 that checks
# every byte) moves 1 -> 2 -> 1, in each round once with migtcp-migrate
# (pre-dump rounds while it runs, pages through CRIU's page server, then
# the dump) and once with migtcp-migrate --plain (dump, copy, restore:
# what CRIU alone does), the order alternating between rounds.  Per mode:
# the medians of the client's stall, of the time the process was frozen
# and of each phase; and the ratio of the stalls.  Into
# MIGTCP_BENCH_OUT/xmigration.json (bench/report xmigration); each run's
# timeline under MIGTCP_BENCH_OUT/xmigration/.
#
# Nothing here passes or fails on a number: the exit status says only
# whether the migrations ran (and every byte arrived).
#
#   tools/vm cluster -n 3 -k 6.1,6.12,6.1 -o DIR -- \
#	env MIGTCP_BENCH_OUT=DIR/node1/out bench/xmigration.sh
# Environment:
#   XMIG_ROUNDS=2         rounds (each: one migration pair per mode)
#   XMIG_MEMORY_MIB=128   the server's memory
#   MIGTCP_BENCH_OUT=DIR  where xmigration.json goes (default /tmp)
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

rounds=${XMIG_ROUNDS:-2}
mib=${XMIG_MEMORY_MIB:-128}
outdir=${MIGTCP_BENCH_OUT:-/tmp}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "XMIG_ROUNDS must be a positive integer"
[[ $mib =~ ^[0-9]+$ ]] || die "XMIG_MEMORY_MIB must be a number of MiB"
[ -n "${MIGTCP_NODE:-}" ] || die "runs on node 1 of tools/vm cluster (make bench)"
check_setup "$top/build/bench/migstream" "$outdir"

rm -rf "$outdir/xmigration"
start=$(date +%s)
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then modes=(migrate plain); else modes=(plain migrate); fi
	for mode in "${modes[@]}"; do
		step "xmigration: round $r/$rounds, $mode: the server ($mib MiB) moves 1 -> 2 -> 1"
		MIGTCP_DEMO_OUT=$outdir/xmigration/$mode-$r \
			"$top/tools/demo" -m "$mode" -n 2 -M "$mib" ||
			die "round $r, $mode: the demo failed (see $outdir/xmigration/$mode-$r)"
	done
done
ELAPSED=$(($(date +%s) - start)) python3 "$top/bench/report" xmigration "$outdir"
