#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Charts of a results.json (bench/report merge), with gnuplot, into DIR:
#   throughput.png   bulk throughput, TCP against migtcp, 1 and 4 streams and sendfile(),
#                    streambench and iperf3 (bars: medians; whiskers: the
#                    lowest and highest round)
#   latency-cdf.png  CDF of sockperf ping-pong round-trip times, TCP
#                    against migtcp, every round's samples pooled
# (migration.sh draws migration-downtime.png itself.)  Runs on the host
# or in the VM:
#   bench/plot.sh build/bench/results.json build/bench
set -euo pipefail

[ $# = 2 ] || { echo "usage: bench/plot.sh RESULTS.json DIR" >&2; exit 2; }
results=$1
dir=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v gnuplot >/dev/null || { echo "plot: no gnuplot (Debian gnuplot-nox; make deps)" >&2; exit 1; }

data=$(mktemp -d /tmp/migtcp-plot.XXXXXX)
trap 'rm -rf "$data"' EXIT
python3 "$here/report" plotdata "$results" "$data"
title=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["metadata"]; print("%s, %s, %s, medians of %s rounds of %s s" % (m["kernel"], m["accel"], m["date"][:10], m["rounds"], m["seconds_per_test"]))' "$results")
out=$(cd "$dir" && pwd)

cd "$data"
# Files, not stdin: gnuplot reads multi-line blocks only from files.
cat >throughput.gp <<'GP'
set terminal pngcairo size 900,500 font ",10"
set output out."/throughput.png"
set title "Bulk throughput, kernel TCP and AF\\_MIGTCP over the same veth\n{/*0.8 ".sub."}"
set bmargin 4
set ylabel "Mbit/s (median; whiskers: lowest and highest round)"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.7 border -1
set boxwidth 0.9
set yrange [0:*]
set grid ytics
set key top left
plot "throughput.dat" using 2:3:4:xtic(1) title "TCP" linecolor rgb "gray50", \
     "" using 5:6:7 title "migtcp" linecolor rgb "steelblue"
GP
cat >latency.gp <<'GP'
set terminal pngcairo size 900,500 font ",10"
set output out."/latency-cdf.png"
set title "sockperf ping-pong round-trip time, every round pooled\n{/*0.8 ".sub."}"
set xlabel "round-trip time, us (log scale)"
set ylabel "fraction of round trips at or below"
set logscale x
set yrange [0:1]
set grid xtics ytics mxtics
set key bottom right
plot "cdf-tcp.dat" using 1:2 with steps linewidth 2 linecolor rgb "gray50" title "TCP", \
     "cdf-migtcp.dat" using 1:2 with steps linewidth 2 linecolor rgb "steelblue" title "migtcp"
GP
status=0
gnuplot -e "out='$out'; sub='$title'" throughput.gp && echo "bench: plot: $out/throughput.png" || status=1
if [ -s cdf-tcp.dat ] || [ -s cdf-migtcp.dat ]; then
	# An empty file makes gnuplot fail: give it one that plots nothing.
	for t in tcp migtcp; do [ -s "cdf-$t.dat" ] || echo "1 NaN" >"cdf-$t.dat"; done
	gnuplot -e "out='$out'; sub='$title'" latency.gp && echo "bench: plot: $out/latency-cdf.png" || status=1
else
	echo "bench: no sockperf samples: no latency CDF" >&2
fi
exit $status
