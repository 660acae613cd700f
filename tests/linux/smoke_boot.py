#!/usr/bin/env python3
"""CI smoke boot: the default Debian image boots in the interpreter, a
script typed on the console exercises the system, and the guest powers
off. Asserts on the console output and a clean exit; bounds its own time.

usage: smoke_boot.py DISCO_EXE SOURCE_DIR [--engine jit] [--smp N] [--numa] [--deterministic-twice | --lockstep N]

--smp N: an SMP guest of N vCPUs; nproc, /proc/cpuinfo and the timer and
IPI lines of /proc/interrupts must show all N CPUs at work.

--numa: on a modelled 2-node machine (the vCPUs split over the nodes) with
--numa-policy both; the statistics must show pages migrated or replicated.

--lockstep N: boot with the JIT and the interpreter in lockstep for the
first N guest instructions (0: the whole smoke script, which must then
pass as well); passes when they never diverge.
"""
import os
import re
import subprocess
import sys
import time

def fail(msg, out=""):
    if out:
        sys.stdout.write(out[-6000:])
    print(f"\nFAIL: {msg}")
    sys.exit(1)

def build_image(src):
    img = os.path.join(src, "cache", "default")
    if not os.path.exists(os.path.join(img, ".complete")):
        print("building the default image ...", flush=True)
        r = subprocess.run([os.path.join(src, "images", "build-default.sh"), img])
        if r.returncode != 0:
            fail("images/build-default.sh failed")
    return img

def boot(disco, img, script, extra, timeout):
    cmd = [disco, "run", "--kernel", os.path.join(img, "vmlinuz"),
           "--initrd", os.path.join(img, "initrd.gz"), "--input", script,
           "--timeout", str(timeout), "--stats"] + extra
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout + 60)
    out = r.stdout.decode("utf-8", "replace")
    return r.returncode, out, time.monotonic() - t0

def check_smoke(rc, out, ncpus=1):
    if rc != 0:
        fail(f"disco exited with status {rc}", out)
    expect = [
        (r"Run /init as init process", "kernel started init"),
        (r"disco guest ready", "init banner"),
        (r"Linux disco 6\.1\.\S+ .* mips64 GNU/Linux", "uname -a"),
        (r"cpu model\s*: MIPS", "/proc/cpuinfo"),
        (r"\n\s*7:(?:\s+\d+)+\s+MIPS\s+7\s+timer", "timer line in /proc/interrupts"),
        (r"ttyS0", "UART in /proc/interrupts"),
        (r"loop 4", "shell loop"),
        (r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC 20\d\d", "date"),
        (r"slept [12]\b", "sleep 1 took about a second"),
        (r"smoke-done", "end of script"),
        (r"disco: (?:guest|vm0:) halted", "power-off ends the run"),
    ]
    for pattern, what in expect:
        if not re.search(pattern, out):
            fail(f"missing {what} (/{pattern}/)", out)
    m = re.search(r"nproc\r?\n(\d+)\r?\n", out)
    if not m or int(m.group(1)) != ncpus:
        fail(f"nproc did not print {ncpus}", out)
    if len(re.findall(r"(?m)^processor\s*: \d+", out)) != ncpus:
        fail(f"/proc/cpuinfo does not list {ncpus} processors", out)
    m = re.search(r"\n\s*7:((?:\s+\d+)+)\s+MIPS\s+7\s+timer", out)
    counts = [int(x) for x in m.group(1).split()]
    if len(counts) != ncpus or min(counts) < 10:
        fail(f"timer interrupts not counting on each of {ncpus} CPUs: {counts}", out)
    if ncpus > 1:
        if f"smp: Brought up 1 node, {ncpus} CPUs" not in out:
            fail(f"the kernel did not bring up {ncpus} CPUs", out)
        if not re.search(r"MIPS GIC\s+\d+\s+IPI call", out):
            fail("no GIC IPI lines in /proc/interrupts", out)
        for bad in ("Kernel panic", "BUG:", "Oops"):
            if bad in out:
                fail(f"the console shows '{bad}'", out)
        # A host too busy to give the vCPU threads their cores (other jobs)
        # can starve one long enough for Linux's watchdogs: said, not failed.
        for warn in ("rcu_sched detected stalls", "soft lockup"):
            if warn in out:
                print(f"WARNING: the console shows '{warn}' (a busy host?)")

def check_numa(out):
    """The text statistics' NUMA line: the policy moved pages."""
    m = re.search(r"NUMA: (\d+) local \+ (\d+) remote misses .*?, (\d+) migrations, (\d+) replications, (\d+) collapses", out)
    if not m:
        fail("no NUMA line in the statistics", out)
    local, remote, mig, rep, col = (int(x) for x in m.groups())
    print(f"NUMA: {local} local + {remote} remote misses, {mig} migrations, {rep} replications, {col} collapses")
    if remote == 0:
        fail("a VM spanning two nodes had no remote misses", out)
    if mig + rep == 0:
        fail("--numa-policy both moved no page during the boot", out)

def main():
    disco, src = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    twice = "--deterministic-twice" in args
    # The interpreter unless told otherwise (the command's default is the JIT).
    engine = ["--engine", args[args.index("--engine") + 1] if "--engine" in args else "interp"]
    ncpus = int(args[args.index("--smp") + 1]) if "--smp" in args else 1
    if ncpus > 1:
        engine += ["--smp", str(ncpus)]
    numa = "--numa" in args
    if numa:
        engine += ["--nodes", "2", "--cpus-per-node", str(max(1, ncpus // 2)), "--numa-policy", "both"]
    img = build_image(src)
    script = os.path.join(src, "tests", "linux", "smoke.script")
    if "--lockstep" in args:
        n = args[args.index("--lockstep") + 1]
        limit = ["--max-insns", n] if n != "0" else []
        rc, out, secs = boot(disco, img, script, ["--engine", "jit", "--lockstep"] + limit, 600)
        if "lockstep:" in out or rc not in (0, 125):
            fail(f"lockstep run ended with status {rc}", out)
        if n == "0":
            check_smoke(rc, out)
            n = "all"
        print(out[-800:])
        print(f"JIT and interpreter agreed on {n} instructions of a Linux boot ({secs:.1f} s)")
        print("1 passed, 0 failed")
        return
    if not twice:
        rc, out, secs = boot(disco, img, script, engine, 240)
        check_smoke(rc, out, ncpus)
        if numa:
            check_numa(out)
        print(out[-1500:])
        print(f"smoke boot passed in {secs:.1f} s")
        print("1 passed, 0 failed")
        return
    runs = []
    for k in range(2):
        rc, out, secs = boot(disco, img, script, ["--deterministic"] + engine, 240)
        check_smoke(rc, out, ncpus)
        # Only the guest's console is compared (the --stats line has host time).
        runs.append(out.split("\ndisco: ")[0])
        print(f"deterministic run {k + 1}: {secs:.1f} s")
    if runs[0] != runs[1]:
        a, b = runs[0].splitlines(), runs[1].splitlines()
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                fail(f"deterministic runs differ at line {i + 1}:\n  {x!r}\n  {y!r}")
        fail(f"deterministic runs differ in length ({len(a)} vs {len(b)} lines)")
    print("two --deterministic boots printed the same console output")
    print("1 passed, 0 failed")

if __name__ == "__main__":
    main()
