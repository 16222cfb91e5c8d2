#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# WAN benchmark: kernel TCP against AF_MIGTCP through a router that
# delays, loses and reorders, in the same VM run.  Three network
# namespaces: node 1 (the iperf3 client) at 198.51.100.1, a router, and
# node 2 (the server) at 192.0.2.2.  The router forwards between its two
# veth links and applies the profile's netem on both of its egress
# devices, so each direction gets the delay and the loss.  The two nodes
# send with GSO and TSO off, so that what reaches the router's netem is
# segments of the path's MTU, as on a real network, and not 64 KiB
# superpackets that one "loss" would take whole.
#
# Each round runs every profile over TCP and over migtcp (iperf3 -J,
# unmodified; under migtcp-run for migtcp), the order alternating from
# round to round.  For each run: the receiver's throughput, the segments
# the sender's kernel sent again (node 1's TcpRetransSegs or migtcp's
# RetransSegs) and the packets lost on the way to node 2, the data's
# direction: those the router's netem dropped, any a device on the way
# dropped, and those node 2's transport dropped (full backlog or
# receive buffer).  wan.json has every run and, per profile,
# the medians, migtcp/TCP and retransmissions per lost packet; wan.png
# (gnuplot) plots throughput against loss at a 20 ms RTT.  Nothing passes
# or fails on a number: the exit status says only whether the runs ran.
#
# Run as root inside the test VM, from the project directory:
#   tools/vm run -t 1800 -- bench/wan.sh
# Environment:
#   ROUNDS=3              rounds of every profile
#   WAN_SECONDS=10        duration of one iperf3 run
#   WAN_PROFILES=...      names of the profiles to run (default: all)
#   MIGTCP_BENCH_OUT=DIR  where wan.json and wan.png go (default /tmp)
#   MIGTCP_ACCEL=tcg|kvm  recorded in the results (guessed if unset)
#   MIGTCP_KO=PATH        the module to load if none is (lib.sh)
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
wrap=${MIGTCP_RUN:-$top/build/userspace/migtcp-run}

# name|netem arguments, for each direction.  "rtt" is the round trip the
# delays add up to; the first four share it and make the chart.
all_profiles=(
	"rtt20|delay 10ms"
	"rtt20-loss0.1|delay 10ms loss 0.1%"
	"rtt20-loss1|delay 10ms loss 1%"
	"rtt20-loss3|delay 10ms loss 3%"
	"jitter-reorder|delay 2ms 1ms loss 0.5% reorder 5%"
	"rtt80|delay 40ms"
	"rtt80-loss1|delay 40ms loss 1%"
)

rounds=${ROUNDS:-3}
secs=${WAN_SECONDS:-10}
outdir=${MIGTCP_BENCH_OUT:-/tmp}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
[[ $secs =~ ^[1-9][0-9]*$ ]] || die "WAN_SECONDS must be a positive integer"
profiles=()
for p in "${all_profiles[@]}"; do
	if [ -z "${WAN_PROFILES:-}" ] || [[ " $WAN_PROFILES " == *" ${p%%|*} "* ]]; then
		profiles+=("$p")
	fi
done
[ ${#profiles[@]} -gt 0 ] || die "WAN_PROFILES names no profile of: ${all_profiles[*]%%|*}"
check_setup "$top/build/bench/streambench" "$outdir"
command -v iperf3 >/dev/null || die "iperf3 is not installed (make deps)"
command -v ethtool >/dev/null || die "ethtool is not installed (make deps)"
[ -x "$wrap" ] || die "$wrap is not built (make userspace)"

work=$(mktemp -d /tmp/migtcp-wan.XXXXXX)
cli=mtw-cli-$$
rtr=mtw-rtr-$$
srv=mtw-srv-$$
cli_ip=198.51.100.1
srv_ip=192.0.2.2
port=5301
servers=()

cleanup() {
	for pid in "${servers[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	for ns in "$cli" "$rtr" "$srv"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	[ -z "${backlog:-}" ] || sysctl -q -w net.core.netdev_max_backlog="$backlog"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_module
modprobe veth 2>/dev/null || true
modprobe sch_netem 2>/dev/null || true

step "building node 1 ($cli_ip), a router, node 2 ($srv_ip)"
for ns in "$cli" "$rtr" "$srv"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip -n "$cli" link add mtw1 type veth peer name mtwr1 netns "$rtr"
ip -n "$srv" link add mtw2 type veth peer name mtwr2 netns "$rtr"
ip -n "$cli" addr add "$cli_ip/24" dev mtw1
ip -n "$rtr" addr add 198.51.100.254/24 dev mtwr1
ip -n "$rtr" addr add 192.0.2.254/24 dev mtwr2
ip -n "$srv" addr add "$srv_ip/24" dev mtw2
for l in "$cli mtw1" "$rtr mtwr1" "$rtr mtwr2" "$srv mtw2"; do
	read -r ns dev <<<"$l"
	ip -n "$ns" link set "$dev" up
done
ip -n "$cli" route add default via 198.51.100.254
ip -n "$srv" route add default via 192.0.2.254
ip netns exec "$rtr" sysctl -q -w net.ipv4.ip_forward=1
# Segments of the path's MTU leave the nodes, and the router forwards
# them as they come (no GRO on veth by default).
ip netns exec "$cli" ethtool -K mtw1 gso off tso off >/dev/null
ip netns exec "$srv" ethtool -K mtw2 gso off tso off >/dev/null
# A packet crossing a veth waits in the receiving CPU's backlog: at
# these packet rates its default 1000 would drop bursts that no netem
# counts.  The path's only loss is the profile's.
backlog=$(sysctl -n net.core.netdev_max_backlog)
sysctl -q -w net.core.netdev_max_backlog=100000
ip netns exec "$cli" "$ctl" node set id 1 addr "$cli_ip"
ip netns exec "$cli" "$ctl" peer add 2 addr "$srv_ip"
ip netns exec "$srv" "$ctl" node set id 2 addr "$srv_ip"
ip netns exec "$srv" "$ctl" peer add 1 addr "$cli_ip"

step "iperf3 servers on node 2, over TCP and migtcp"
ip netns exec "$srv" iperf3 -s -p "$port" >"$work/server-tcp.log" 2>&1 &
servers+=($!)
ip netns exec "$srv" "$wrap" iperf3 -s -p "$port" >"$work/server-migtcp.log" 2>&1 &
servers+=($!)
for _ in $(seq 300); do
	if ip netns exec "$srv" ss -Hltn "sport = :$port" | grep -q . &&
	   ip netns exec "$srv" "$ctl" sockets | grep -q "LISTEN.*:$port "; then
		break
	fi
	sleep 0.1
done

# netem_set ARGS: the profile on both of the router's egress devices;
# a queue long enough for the bandwidth-delay product, so that netem's
# own limit drops nothing.
netem_set() {
	local dev
	for dev in mtwr1 mtwr2; do
		# shellcheck disable=SC2086 # the profile is words
		ip netns exec "$rtr" tc qdisc replace dev "$dev" root netem limit 100000 $1
	done
}

# The packets netem dropped on device $1 of the router so far.
netem_drops() {
	ip netns exec "$rtr" tc -s qdisc show dev "$1" |
		awk '/dropped/ { sub(/,/, "", $7); print $7; exit }'
}

# Packets the devices on the data's way dropped so far (a veth counts a
# packet its peer could not take as a transmit drop).
device_drops() {
	local sum=0 l ns dev dir v
	for l in "$cli mtw1 tx" "$rtr mtwr1 rx" "$rtr mtwr2 tx" "$srv mtw2 rx"; do
		read -r ns dev dir <<<"$l"
		v=$(ip netns exec "$ns" cat "/sys/class/net/$dev/statistics/${dir}_dropped")
		sum=$((sum + v))
	done
	echo "$sum"
}

# Segments of transport $1 that node 2, the receiver, dropped so far:
# TCP's backlog, receive-queue, out-of-order and zero-window drops, or
# migtcp's backlog, receive-buffer and out-of-order-prune drops.
receiver_drops() {
	if [ "$1" = tcp ]; then
		# shellcheck disable=SC2016 # awk's own fields
		ip netns exec "$srv" awk '$1 == "TcpExt:" && !h { for (i = 1; i <= NF; i++) n[$i] = i; h = 1; next }
			$1 == "TcpExt:" { print $n["TCPBacklogDrop"] + $n["TCPRcvQDrop"] + $n["TCPOFODrop"] + $n["TCPZeroWindowDrop"] }' /proc/net/netstat
	else
		ip netns exec "$srv" "$ctl" -j stats |
			python3 -c 'import json,sys; s = json.load(sys.stdin); print(s["InBacklogDrops"] + s["RcvbufDrops"] + s["OfoPruned"])'
	fi
}

# Segments node 1 sent again so far over transport $1.
retrans() {
	if [ "$1" = tcp ]; then
		# shellcheck disable=SC2016 # awk's own fields
		ip netns exec "$cli" awk '$1 == "Tcp:" && !h { for (i = 1; i <= NF; i++) n[$i] = i; h = 1; next }
			$1 == "Tcp:" { print $n["RetransSegs"] }' /proc/net/snmp
	else
		ip netns exec "$cli" "$ctl" -j stats |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["RetransSegs"])'
	fi
}

raw=$work/raw.jsonl
: >"$raw"
failures=0
total=$((rounds * ${#profiles[@]} * 2))
n=0
for ((round = 1; round <= rounds; round++)); do
	for p in "${profiles[@]}"; do
		name=${p%%|*} args=${p#*|}
		netem_set "$args"
		order=(tcp migtcp)
		((round % 2)) || order=(migtcp tcp)
		for t in "${order[@]}"; do
			n=$((n + 1))
			echo "bench: wan [$n/$total] iperf3 over $t, $name ($args), round $round/$rounds" >&2
			cmd=(iperf3 -c "$srv_ip" -p "$port" -t "$secs" -J)
			[ "$t" = tcp ] || cmd=("$wrap" -d "${cmd[@]}")
			d0=$(netem_drops mtwr2) v0=$(device_drops) k0=$(receiver_drops "$t")
			r0=$(retrans "$t") rc=0
			timeout -k 5 $((secs * 6 + 60)) ip netns exec "$cli" "${cmd[@]}" \
				>"$work/out.json" 2>"$work/err" || rc=$?
			d1=$(netem_drops mtwr2) v1=$(device_drops) k1=$(receiver_drops "$t")
			r1=$(retrans "$t")
			line=$(python3 "$top/bench/parse.py" iperf3 "$work/out.json" "$work/err" "$t" 1 "$rc")
			python3 - "$line" "$round" "$name" "$args" $((d1 - d0)) $((v1 - v0)) \
				$((k1 - k0)) $((r1 - r0)) >>"$raw" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
r.update({"round": int(sys.argv[2]), "profile": sys.argv[3], "netem": sys.argv[4],
          "netem_lost": int(sys.argv[5]), "device_lost": int(sys.argv[6]),
          "receiver_dropped": int(sys.argv[7]), "sender_retrans_segs": int(sys.argv[8])})
r["lost_to_receiver"] = r["netem_lost"] + r["device_lost"] + r["receiver_dropped"]
print(json.dumps(r))
PY
			if tail -n 1 "$raw" | grep -q '"error"'; then
				failures=$((failures + 1))
				echo "bench:   ERROR: $(tail -n 1 "$raw")" >&2
			else
				tail -n 1 "$raw" | python3 -c 'import json,sys
r = json.load(sys.stdin)
print("bench:   %8.1f Mbit/s, %d lost, %d sent again" % (r["mbit_s"], r["lost_to_receiver"], r["sender_retrans_segs"]))' >&2
			fi
		done
	done
done

python3 - "$raw" "$outdir/wan.json" "$(guess_accel)" "$rounds" "$secs" "${profiles[@]}" <<'PY'
import json, os, statistics, sys, time
raw, out, accel, rounds, secs = sys.argv[1:6]
profiles = [p.split("|", 1) for p in sys.argv[6:]]
runs = [json.loads(l) for l in open(raw)]


def med(v):
    return statistics.median(v) if v else None


summary = []
for name, args in profiles:
    row = {"profile": name, "netem": args}
    for t in ("tcp", "migtcp"):
        ok = [r for r in runs if r["profile"] == name and r["transport"] == t and "error" not in r]
        row[t] = [round(r["mbit_s"], 1) for r in ok]
        row[t + "_median"] = med(row[t])
        per_loss = [r["sender_retrans_segs"] / r["lost_to_receiver"] for r in ok
                    if r["lost_to_receiver"]]
        row[t + "_retrans_per_loss_median"] = med(per_loss)
        row[t + "_retrans_median"] = med([r["sender_retrans_segs"] for r in ok])
        row[t + "_lost_median"] = med([r["lost_to_receiver"] for r in ok])
        row[t + "_errors"] = sum(1 for r in runs if r["profile"] == name
                                 and r["transport"] == t and "error" in r)
    row["migtcp_over_tcp"] = (row["migtcp_median"] / row["tcp_median"]
                              if row["tcp_median"] and row["migtcp_median"] is not None
                              else None)
    summary.append(row)
doc = {"benchmark": "migtcp WAN (bench/wan.sh)",
       "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
       "kernel": os.uname().release, "accel": accel, "rounds": int(rounds),
       "seconds_per_run": int(secs),
       "path": "node 1 - router - node 2, netem on both router egress devices, "
               "GSO/TSO off on the nodes",
       "summary": summary, "runs": runs}
with open(out, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
print("| profile | netem (each way) | TCP Mbit/s | migtcp Mbit/s | migtcp/TCP "
      "| lost, TCP | resent, TCP | per lost | lost, migtcp | resent, migtcp | per lost |")
print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")


def fmt(v, f="%.1f"):
    return "n/a" if v is None else f % v


for r in summary:
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        r["profile"], r["netem"], fmt(r["tcp_median"]), fmt(r["migtcp_median"]),
        fmt(r["migtcp_over_tcp"], "%.2f"),
        fmt(r["tcp_lost_median"], "%.0f"), fmt(r["tcp_retrans_median"], "%.0f"),
        fmt(r["tcp_retrans_per_loss_median"], "%.2f"),
        fmt(r["migtcp_lost_median"], "%.0f"), fmt(r["migtcp_retrans_median"], "%.0f"),
        fmt(r["migtcp_retrans_per_loss_median"], "%.2f")))
PY

# Throughput against loss at a 20 ms round trip.
if command -v gnuplot >/dev/null; then
	python3 - "$outdir/wan.json" >"$work/wan.dat" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["summary"]:
    if r["profile"].startswith("rtt20"):
        loss = float(r["profile"].split("loss")[1]) if "loss" in r["profile"] else 0.0
        print(loss, r["tcp_median"] or 0, r["migtcp_median"] or 0)
PY
	if [ -s "$work/wan.dat" ]; then
		gnuplot -e "dat='$work/wan.dat'; out='$outdir/wan.png'" <<'GP' || step "wan.png could not be drawn"
set terminal pngcairo size 800,500
set output out
set title "iperf3 through a router, 20 ms RTT: kernel TCP and AF\\_MIGTCP (medians)"
set xlabel "loss each way, %"
set ylabel "Mbit/s"
set logscale y
set key top right
plot dat using 1:2 with linespoints title "TCP", dat using 1:3 with linespoints title "migtcp"
GP
	fi
fi
if [ "$failures" = 0 ]; then
	step "wan: $outdir/wan.json"
else
	step "wan: $outdir/wan.json; $failures runs failed"
	exit 1
fi
