# SPDX-License-Identifier: GPL-2.0
"""What transport.sh makes of one measurement, as one line of JSON.

  python3 parse.py iperf3 OUT ERR TRANSPORT STREAMS STATUS
      iperf3 -J's output OUT (and its stderr ERR) as a result
  python3 parse.py sockperf OUT LOG ERR TRANSPORT STATUS SAMPLES
      sockperf ping-pong's output OUT and its --full-log LOG as a result;
      the round-trip times, one per line in microseconds, go to SAMPLES
  python3 parse.py show RESULT ROUND ROUNDS
      the line transport.sh prints for a result (round 0: memory)

A run over migtcp goes through migtcp-run -d, whose stderr names every
decision of the preload library; a result over migtcp is only taken if
every connection it made became AF_MIGTCP, so that a run that fell back to
kernel TCP is never reported as migtcp.  A result that cannot be taken is
{"test", "transport", "streams", "error"}.
"""
import json
import math
import re
import sys


def error(test, transport, streams, why):
    return {"test": test, "transport": transport, "streams": streams, "error": why}


def tail(path, n=3):
    try:
        with open(path, errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])


def status_text(status, limit_hint="the time limit"):
    if status == 124:
        return "did not finish within %s (stalled)" % limit_hint
    return "exited with status %d" % status


def preload_check(err_path):
    """None if every connect the preload library decided became AF_MIGTCP
    (and there was one), else why not.  Returns (count, why)."""
    try:
        with open(err_path, errors="replace") as f:
            lines = [l for l in f if l.startswith("migtcp-run[")]
    except OSError:
        lines = []
    connects = [l for l in lines if ": connect " in l]
    mig = [l for l in connects if "AF_MIGTCP" in l]
    if not connects:
        return 0, "the preload library reported no connect (is migtcp-run the preload wrapper?)"
    if len(mig) != len(connects):
        bad = next(l for l in connects if "AF_MIGTCP" not in l)
        return len(mig), "a connection was not made over AF_MIGTCP: " + bad.strip()
    return len(mig), None


def pct(sorted_values, p):
    """Nearest-rank percentile of sorted values."""
    if not sorted_values:
        return None
    n = len(sorted_values)
    return sorted_values[max(1, min(n, math.ceil(p / 100 * n))) - 1]


def iperf3(out, err, transport, streams, status):
    streams = int(streams)
    status = int(status)
    try:
        with open(out) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        doc = None
    if not isinstance(doc, dict):
        return error("iperf3", transport, streams, "iperf3 %s without JSON: %s"
                     % (status_text(status), tail(err)))
    if "error" in doc:
        return error("iperf3", transport, streams, "iperf3: %s (%s)"
                     % (doc["error"], status_text(status)))
    if status != 0:
        return error("iperf3", transport, streams, "iperf3 " + status_text(status))
    end = doc.get("end", {})
    sent, received = end.get("sum_sent"), end.get("sum_received")
    if not sent or not received:
        return error("iperf3", transport, streams, "iperf3's JSON has no end sums")
    r = {"test": "iperf3", "transport": transport, "streams": streams,
         "seconds": received["seconds"],
         "mbit_s": received["bits_per_second"] / 1e6,
         "sender_mbit_s": sent["bits_per_second"] / 1e6,
         "bytes": received["bytes"],
         "retransmits": sent.get("retransmits"),
         "mbit_s_per_second": [round(i["sum"]["bits_per_second"] / 1e6, 1)
                               for i in doc.get("intervals", [])],
         "sender_congestion": end.get("sender_tcp_congestion"),
         "cpu_utilization_percent": end.get("cpu_utilization_percent"),
         "iperf3_version": doc.get("start", {}).get("version")}
    if transport == "migtcp":
        n, why = preload_check(err)
        if why:
            return error("iperf3", transport, streams, why)
        r["preload_connects"] = n
    return r


def sockperf(out, log, err, transport, status, samples_path):
    status = int(status)
    try:
        with open(out, errors="replace") as f:
            text = f.read()
    except OSError:
        text = ""
    if status != 0:
        return error("sockperf", transport, 1, "sockperf %s: %s"
                     % (status_text(status), tail(err) or tail(out)))
    rtts = []
    try:
        with open(log, errors="replace") as f:
            header = False
            for line in f:
                if line.startswith("packet,"):
                    header = True
                    continue
                if not header:
                    continue
                if line.startswith("---"):
                    break
                cols = line.split(",")
                if len(cols) == 4:
                    rtts.append(float(cols[3]))
    except (OSError, ValueError) as e:
        return error("sockperf", transport, 1, "cannot read sockperf's full log: %s" % e)
    if not rtts:
        return error("sockperf", transport, 1, "sockperf's full log has no sample: %s" % tail(out))
    m = re.search(r"\[Valid Duration\] RunTime=([0-9.]+) sec; SentMessages=(\d+); "
                  r"ReceivedMessages=(\d+)", text)
    valid = float(m.group(1)) if m else None
    with open(samples_path, "w") as f:
        f.write("".join("%.3f\n" % x for x in rtts))
    s = sorted(rtts)
    r = {"test": "sockperf", "transport": transport, "streams": 1,
         "samples": len(s), "valid_seconds": valid,
         "tps": len(s) / valid if valid else None,
         "sent": int(m.group(2)) if m else None,
         "received": int(m.group(3)) if m else None,
         "mean_us": sum(s) / len(s), "min_us": s[0],
         "p50_us": pct(s, 50), "p90_us": pct(s, 90), "p99_us": pct(s, 99),
         "p999_us": pct(s, 99.9), "max_us": s[-1]}
    if transport == "migtcp":
        n, why = preload_check(err)
        if why:
            return error("sockperf", transport, 1, why)
        r["preload_connects"] = n
    return r


def show(line, rnd, rounds):
    r = json.loads(line)
    t = r["test"]
    name = "%s x%d" % (t, r.get("streams", 1)) if t in ("bulk", "iperf3") else t
    if rnd == "0":
        head = "bench: memory    %-9s %-6s " % (name, r["transport"])
    else:
        head = "bench: round %s/%s %-9s %-6s " % (rnd, rounds, name, r["transport"])
    if "error" in r:
        return head + "ERROR: " + r["error"]
    if t == "idle":
        e, c = r["established"], r["closed"]
        return (head + "%8.0f B/conn slabinfo, %.0f B/conn meminfo Slab (%d conns opened in "
                "%.1f s); after close %.0f B/conn\n" % (
                    e["slabinfo_bytes_per_conn"], e["meminfo_slab_bytes_per_conn"],
                    r["connections"], r["open_seconds"], c["slabinfo_bytes_per_conn"])
                + "bench:   " + ", ".join("%s %+.0f" % (x["name"], x["bytes_per_conn"])
                                          for x in e["caches"][:8]))
    if t in ("bulk", "sendfile"):
        return head + "%10.1f Mbit/s   longest write %.0f ms" % (r["mbit_s"],
                                                               r["max_write_block_ms"])
    if t == "iperf3":
        rt = r.get("retransmits")
        return head + "%10.1f Mbit/s   (sender %.1f, retransmits %s)" % (
            r["mbit_s"], r["sender_mbit_s"], "n/a" if rt is None else rt)
    if t == "sockperf":
        return head + "%10.1f trans/s  RTT p50 %.1f us  p99 %.1f us (%d samples)" % (
            r["tps"] or 0, r["p50_us"], r["p99_us"], r["samples"])
    if t == "rr":
        return head + "%10.1f trans/s  p50 %.1f us  p99 %.1f us" % (r["tps"], r["p50_us"],
                                                                  r["p99_us"])
    return head + "%10.1f conn/s   p50 %.1f us" % (r["conn_s"], r["p50_us"])


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "iperf3" and len(argv) == 7:
        print(json.dumps(iperf3(*argv[2:])))
    elif cmd == "sockperf" and len(argv) == 8:
        print(json.dumps(sockperf(*argv[2:])))
    elif cmd == "show" and len(argv) == 5:
        print(show(*argv[2:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
