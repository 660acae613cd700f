#!/usr/bin/env python3
"""Processors on host threads: N VMs of the default guest, each running the
guest benchmark's sha256 workload (bench/linux/suite.sh), on a machine of
one modelled processor (every VM on one host thread, time-sliced:
--nodes 1 --cpus-per-node 1 --overcommit) and on a machine with a
processor per VM (a host thread each), interleaved run by run in one
invocation. Reports wall time from start until every VM finished (boot
and the guest's data generation included), the sha256 window (first
START to last END) and the mean sha256 time of a VM, as medians, and
their ratio threads/one-thread.

Usage: bench/smp/run.py [--vms N] [--runs N] [--engine jit|interp]
                        [--workload sha256|gzip|...] [--json FILE]
Standard library only; see bench/smp/README.md.
"""

import argparse
import importlib.util
import json
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
spec = importlib.util.spec_from_file_location("linux_bench", os.path.join(REPO, "bench", "linux", "run.py"))
lb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lb)

LINE_RE = re.compile(r"^\[(\w+)\] (.*)$")


def run_machine(cmd, vms, workload, timeout):
    """Runs cmd; returns (total seconds, {vm: (start, end)}, {vm: result}, rc)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, bufsize=0, start_new_session=True)
    fd = p.stdout.fileno()
    buf, spans, results, lines = b"", {}, {}, []
    while True:
        left = t0 + timeout - time.monotonic()
        if left <= 0:
            os.killpg(p.pid, signal.SIGKILL)
            break
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        data = os.read(fd, 65536)
        now = time.monotonic() - t0
        if not data:
            break
        buf += data
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode("utf-8", "replace").rstrip("\r")
            lines.append(line)
            m = LINE_RE.match(line)
            if not m:
                continue
            vm, text = m.groups()
            if text.startswith("BENCH-START " + workload):
                spans[vm] = (now, None)
            elif text.startswith("BENCH-END " + workload) and vm in spans:
                spans[vm] = (spans[vm][0], now)
            elif text.startswith("BENCH-RESULT " + workload):
                results[vm] = text.split(None, 2)[2] if len(text.split(None, 2)) > 2 else ""
    rc = p.wait()
    return time.monotonic() - t0, spans, results, rc, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vms", type=int, default=2, help="VMs (default 2)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each setup; medians shown (default 3)")
    ap.add_argument("--engine", default="jit", choices=["jit", "interp"])
    ap.add_argument("--workload", default="sha256", help="a bench/linux workload (default sha256)")
    ap.add_argument("--disco", default=os.path.join(REPO, "build", "src", "disco"))
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    if not os.access(args.disco, os.X_OK):
        sys.exit("bench: %s not built (ninja -C build)" % args.disco)
    lb.ensure_default_image()
    initrd = lb.make_initrd()
    expect = lb.expected_results()
    base = [args.disco, "run", "--vms", str(args.vms), "--engine", args.engine,
            "--kernel", os.path.join(lb.IMAGE, "vmlinuz"), "--initrd", initrd,
            "--mem", "256M", "--append", "disco.bench=" + args.workload,
            "--console", "all", "--until", "BENCH-DONE", "--timeout", str(int(args.timeout)),
            "--no-sharing", "--nodes", "1"]
    setups = {
        "one-thread": base + ["--cpus-per-node", "1", "--overcommit"],
        "threads": base + ["--cpus-per-node", str(args.vms)],
    }
    logdir = os.path.join(lb.CACHE, "smp-logs")
    os.makedirs(logdir, exist_ok=True)
    print("bench: %d cores, load %s; %d VMs x %s on %s, %d run(s) of each setup" % (
        os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg()), args.vms, args.workload,
        args.engine, args.runs), file=sys.stderr, flush=True)
    data = {k: {"total": [], "window": [], "per_vm": []} for k in setups}
    problems = []
    for i in range(args.runs):
        for name, cmd in setups.items():
            total, spans, results, rc, lines = run_machine(cmd, args.vms, args.workload, args.timeout)
            with open(os.path.join(logdir, "%s-%d.log" % (name, i + 1)), "w") as f:
                f.write("\n".join(lines) + "\n")
            done = [s for s in spans.values() if s[1] is not None]
            if rc != 0 or len(done) != args.vms:
                problems.append("%s run %d: rc %d, %d of %d VMs finished %s" % (
                    name, i + 1, rc, len(done), args.vms, args.workload))
                continue
            if args.workload == "sha256":
                bad = {vm: r for vm, r in results.items() if r != expect["sha256"]}
                if bad or len(results) != args.vms:
                    problems.append("%s run %d: wrong sha256 results %s" % (name, i + 1, bad or results))
            window = max(e for _, e in done) - min(s for s, _ in done)
            data[name]["total"].append(total)
            data[name]["window"].append(window)
            data[name]["per_vm"].append(statistics.mean(e - s for s, e in done))
            print("bench: %-10s run %d: total %.2f s, %s window %.2f s" % (name, i + 1, total, args.workload, window),
                  file=sys.stderr, flush=True)
    med = {k: {m: statistics.median(v[m]) if v[m] else None for m in v} for k, v in data.items()}
    print("%d VMs x %s (%s), seconds, median of %d" % (args.vms, args.workload, args.engine, args.runs))
    print("%-22s %12s %12s %8s" % ("measure", "one-thread", "threads", "ratio"))
    labels = {"total": "total (boot + work)", "window": args.workload + " window",
              "per_vm": args.workload + " per VM"}
    for m in ("total", "window", "per_vm"):
        a, b = med["one-thread"][m], med["threads"][m]
        ratio = "%.2f" % (b / a) if a and b else "-"
        print("%-22s %12s %12s %8s" % (labels[m],
                                        "%.2f" % a if a else "-", "%.2f" % b if b else "-", ratio))
    if problems:
        print("\nproblems:\n  " + "\n  ".join(problems))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": data, "median": med, "problems": problems}, f, indent=2)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
