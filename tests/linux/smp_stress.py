#!/usr/bin/env python3
"""Guest-level SMP stress test: boot the default Debian image R times in a
row and, in each boot, run two parallel workloads and check their results.

  counter   tests/linux/smp_stress/counter.c, a static mips64el pthread
            program: THREADS threads increment shared counters ITERS times
            each (explicit lld/scd loop, __atomic_fetch_add, a
            pthread_mutex, an ll/sc + sync spinlock); every counter must
            end at THREADS*ITERS (COUNTER-OK).  It also reports on how
            many distinct CPUs the threads were seen (cpus_seen).
  jobs      tests/linux/smp_stress/jobs.sh, a "make -j"-like busybox sh
            workload: 8 pipelines (awk | sort | gzip | gunzip, sha256sum)
            in the background at once, a few rounds, each compared with a
            sequential reference (JOBS-OK) and with the sum computed here.

  replica   (with --numa) tests/linux/smp_stress/replica.c: one writer
            and N-1 reader threads share a buffer larger than the modelled
            cache; each generation they all read it (Disco replicates the
            pages), the writer rewrites every word (collapsing the
            replicas) and the readers check they see the new generation
            (REPLICA-OK; a stale replica shows REPLICA-STALE).

With --numa the guest runs on a 2-node machine (--nodes 2 --cpus-per-node
N/2: its vCPUs span both nodes) with --numa-policy both, and the run must also show
replications and collapses in the statistics (the policy really moved
pages under the workloads).

usage: smp_stress.py DISCO_EXE SOURCE_DIR [--smp N] [--runs R]
                     [--engine jit|interp] [--threads T] [--iters I]
                     [--rounds K] [--timeout S] [--numa]

The counter is cross-compiled (mips64el-linux-gnuabi64-gcc -O2 -static
-pthread) into cache/smp-stress/, and the initramfs there is the default
cache/default/initrd.gz followed by a second gzip'd newc cpio holding
/stress/counter, /stress/jobs.sh and a /root/.profile that, when the kernel
command line has the word disco.stress, runs the workloads once and powers
off (as bench/linux/run.py does with its suite).  Each boot is

  disco run --kernel cache/default/vmlinuz --initrd <that> --append disco.stress
            --timeout S --engine E --stats [--smp N, only when N > 1]

and must print nproc = N, COUNTER-OK, JOBS-OK with the expected sum, no
kernel panic/oops/BUG/lockup/RCU stall, power off ("disco: guest halted")
and exit 0.  One line per run, a summary at the end; the first failure
stops the test (exit 1) with the tail of that boot's console.  Console
logs: cache/smp-stress/logs/smpN-ENGINE-runK.log (and a .timeline of host
times per line).
Standard library only.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import select
import subprocess
import sys
import time

CROSS_CC = "mips64el-linux-gnuabi64-gcc"
CFLAGS = ["-O2", "-static", "-pthread", "-Wall", "-Wextra"]
JOBS, LINES = 8, 600  # jobs.sh's JOBS and LINES (the host recomputes the sum)

# Console lines that fail a run whatever else happened.
BAD_RE = re.compile(r"Kernel panic|Oops|\bBUG:|soft lockup|hard LOCKUP|"
                    r"rcu: INFO: .*stall|rcu_sched self-detected stall|"
                    r"hung_task|segfault at|Unhandled kernel unaligned access|"
                    r"init: shell exited")


def say(msg):
    print(msg, flush=True)


def fail(msg, out="", log=None):
    if out:
        sys.stdout.write("---- last console output ----\n")
        sys.stdout.write(out[-6000:])
        if not out.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.write("-----------------------------\n")
    if log:
        print(f"console log: {log}")
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


# --- the image, the program, the initramfs --------------------------------

def build_image(src):
    img = os.path.join(src, "cache", "default")
    if not os.path.exists(os.path.join(img, ".complete")):
        say("building the default image ...")
        r = subprocess.run([os.path.join(src, "images", "build-default.sh"), img])
        if r.returncode != 0:
            fail("images/build-default.sh failed")
    return img


def build_counter(src, cache, name="counter"):
    """cache/NAME, rebuilt when NAME.c or the flags change."""
    source = os.path.join(src, "tests", "linux", "smp_stress", name + ".c")
    out = os.path.join(cache, name)
    cc = shutil.which(CROSS_CC)
    if not cc:
        fail(f"{CROSS_CC} not found (apt-get install gcc-mips64el-linux-gnuabi64)")
    with open(source, "rb") as f:
        key = hashlib.sha256(f.read() + " ".join([cc] + CFLAGS).encode()).hexdigest()
    stamp = out + ".stamp"
    if os.path.exists(out) and os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == key:
                return out
    cmd = [cc] + CFLAGS + ["-o", out + ".tmp", source]
    say("$ " + " ".join(cmd))
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        fail(f"compiling {name}.c failed:\n" + r.stdout)
    if r.stdout.strip():
        say(r.stdout.rstrip())
    os.replace(out + ".tmp", out)
    with open(stamp, "w") as f:
        f.write(key + "\n")
    return out


PROFILE = """\
# /root/.profile added by tests/linux/smp_stress.py: with the kernel
# command line word disco.stress, run the SMP stress workloads once and
# power off.
case " $(cat /proc/cmdline) " in
*" disco.stress "*)
	if [ ! -e /run/stress-started ]; then
		: >/run/stress-started
		echo "STRESS-NPROC $(nproc) online=$(cat /sys/devices/system/cpu/online) cpuinfo=$(grep -c ^processor /proc/cpuinfo)"
		echo "STRESS-START counter"
		/stress/counter {threads} {iters}
		echo "STRESS-END counter rc=$?"
		echo "STRESS-START jobs"
		sh /stress/jobs.sh {rounds} {jobs} {lines}
		echo "STRESS-END jobs rc=$?"
		if [ -x /stress/replica ]; then
			echo "STRESS-START replica"
			/stress/replica {readers} {generations}
			echo "STRESS-END replica rc=$?"
		fi
		echo "STRESS-DONE"
		sleep 1  # let the console drain (a polled UART is slow)
		poweroff -f
	fi
	;;
esac
"""


def make_initrd(src, img, cache, counter, args, replica=None):
    """cache/initrd-stress.gz: the default initrd.gz followed by a second
    gzip'd newc cpio (Linux unpacks concatenated archives in order)."""
    sys.path.insert(0, os.path.join(src, "images"))
    import mkcpio  # images/mkcpio.py: the same newc writer the image uses
    with open(counter, "rb") as f:
        counter_bin = f.read()
    with open(os.path.join(src, "tests", "linux", "smp_stress", "jobs.sh"), "rb") as f:
        jobs_sh = f.read()
    profile = PROFILE.format(threads=args.threads, iters=args.iters, rounds=args.rounds,
                             jobs=JOBS, lines=LINES, readers=max(1, args.smp - 1),
                             generations=args.generations)
    entries = [("stress", 0o040755, b""), ("stress/counter", 0o100755, counter_bin),
               ("stress/jobs.sh", 0o100755, jobs_sh)]
    if replica:
        with open(replica, "rb") as f:
            entries.append(("stress/replica", 0o100755, f.read()))
    entries += [("root", 0o040700, b""), ("root/.profile", 0o100644, profile.encode())]
    out = os.path.join(cache, "initrd-stress-numa.gz" if replica else "initrd-stress.gz")
    return mkcpio.overlay_initrd(os.path.join(img, "initrd.gz"), out, entries)


def jobs_expected(njobs=JOBS, lines=LINES):
    """The sum jobs.sh prints: its awk generator, sorted, hashed per job,
    then the "NUMBER HASH" lines hashed in job order."""
    combined = []
    for s in range(1, njobs + 1):
        x = s * 7919 + 1
        out = []
        for i in range(lines):
            x = (x * 75 + 74) % 65537
            out.append("%05d %d %d\n" % (x, i, s))
        h = hashlib.sha256("".join(sorted(out)).encode()).hexdigest()
        combined.append("%d %s\n" % (s, h))
    return hashlib.sha256("".join(combined).encode()).hexdigest()


# --- one boot --------------------------------------------------------------

def boot(cmd, host_timeout, log_path):
    """Run cmd, stamping console lines with host time as they arrive.
    Returns (rc, output text, seconds, {marker: host seconds})."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, bufsize=0, start_new_session=True)
    fd = p.stdout.fileno()
    chunks, buf, marks, timeline = [], b"", {}, []
    killed = False
    while True:
        left = t0 + host_timeout - time.monotonic()
        if left <= 0:
            killed = True
            os.killpg(p.pid, signal.SIGKILL)
            break
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        data = os.read(fd, 65536)
        if not data:
            break
        now = time.monotonic() - t0
        chunks.append(data)
        buf += data
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode("utf-8", "replace").rstrip("\r")
            timeline.append((now, line))
            for key, pat in (("boot", "Run /init as init process"),
                             ("ready", "disco guest ready"),
                             ("counter-start", "STRESS-START counter"),
                             ("counter-end", "STRESS-END counter"),
                             ("jobs-start", "STRESS-START jobs"),
                             ("jobs-end", "STRESS-END jobs"),
                             ("done", "STRESS-DONE")):
                if key not in marks and pat in line:
                    marks[key] = now
    rc = p.wait()
    secs = time.monotonic() - t0
    out = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    if killed:
        out += f"\n[smp_stress: killed after {host_timeout:.0f} s]\n"
    with open(log_path, "w") as f:
        f.write(out)
    with open(os.path.splitext(log_path)[0] + ".timeline", "w") as f:
        for t, line in timeline:
            f.write("%9.3f %s\n" % (t, line))
    return rc, out, secs, marks


def check_run(rc, out, args, expect_sum, log):
    """Returns a dict of what the run showed, or fails."""
    m = BAD_RE.search(out)
    if m:
        fail(f"console shows {m.group(0)!r}", out, log)
    if rc != 0:
        fail(f"disco exited with status {rc}" + (" (timeout)" if rc == 124 else ""), out, log)
    m = re.search(r"STRESS-NPROC (\d+) online=(\S*) cpuinfo=(\d+)", out)
    if not m:
        fail("no STRESS-NPROC line (did /root/.profile run?)", out, log)
    nproc, online, cpuinfo = int(m.group(1)), m.group(2), int(m.group(3))
    if nproc != args.smp or cpuinfo != args.smp:
        fail(f"guest sees nproc={nproc}, /proc/cpuinfo {cpuinfo} processors, online {online}; "
             f"expected {args.smp}", out, log)
    m = re.search(r"COUNTER-RESULT (.*)", out)
    if not m:
        fail("no COUNTER-RESULT line", out, log)
    res = m.group(1).strip()
    kv = dict(re.findall(r"(\w+)=(\S+)", res))
    if not res.endswith("COUNTER-OK"):
        fail(f"counter: {res}", out, log)
    if kv.get("threads") != str(args.threads) or kv.get("iters") != str(args.iters):
        fail(f"counter ran with other arguments: {res}", out, log)
    if not re.search(r"STRESS-END counter rc=0\b", out):
        fail("counter exited non-zero", out, log)
    cpus_seen = int(kv.get("cpus_seen", "0"))
    if cpus_seen < 1 or cpus_seen > args.smp:
        fail(f"counter saw {cpus_seen} CPUs on a {args.smp}-CPU guest", out, log)
    m = re.search(r"JOBS-(OK|BAD)(.*)", out)
    if not m:
        fail("no JOBS-OK/JOBS-BAD line", out, log)
    if m.group(1) != "OK":
        fail("jobs: JOBS-BAD" + m.group(2), out, log)
    got = dict(re.findall(r"(\w+)=(\S+)", m.group(2))).get("sum")
    if got != expect_sum:
        fail(f"jobs: sum {got}, the host computed {expect_sum}", out, log)
    if not re.search(r"STRESS-END jobs rc=0\b", out):
        fail("jobs.sh exited non-zero", out, log)
    if "STRESS-DONE" not in out:
        fail("no STRESS-DONE", out, log)
    if args.numa:
        return check_numa(out, cpus_seen, log)
    if "disco: guest halted" not in out:
        fail("the guest did not halt cleanly (no 'disco: guest halted')", out, log)
    m = re.search(r"disco: (\d+) instructions in", out)
    return {"cpus_seen": cpus_seen, "insns": int(m.group(1)) if m else None}


def check_numa(out, cpus_seen, log):
    """--numa: the replica check passed, the machine powered off, and the
    policy replicated and collapsed pages (the statistics' JSON line)."""
    m = re.search(r"REPLICA-RESULT (.*)", out)
    if not m:
        fail("no REPLICA-RESULT line", out, log)
    if "REPLICA-OK" not in m.group(1):
        fail(f"replica: {m.group(1)}", out, log)
    if not re.search(r"STRESS-END replica rc=0\b", out):
        fail("replica exited non-zero", out, log)
    if not re.search(r"disco: \S+: (powered off \(status 0\)|halted)", out):
        fail("the guest did not power off cleanly", out, log)
    stats = None
    for line in out.splitlines():
        if line.startswith('{"machine"'):
            stats = json.loads(line)
    if not stats or "numa" not in stats:
        fail("no NUMA statistics in the --stats=json line", out, log)
    vm = stats["vms"][0]["numa"]
    if vm["replications"] < 1 or vm["collapses"] < 1:
        fail(f"the policy did not replicate and collapse pages: {vm['replications']} replications, "
             f"{vm['collapses']} collapses", out, log)
    insns = stats["vms"][0]["instructions"]
    return {"cpus_seen": cpus_seen, "insns": insns, "replications": vm["replications"],
            "collapses": vm["collapses"], "migrations": vm["migrations"],
            "local": vm["local_share"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("disco")
    ap.add_argument("source_dir")
    ap.add_argument("--smp", type=int, default=1, help="guest CPUs (default 1: no --smp flag)")
    ap.add_argument("--runs", type=int, default=20, help="boots in a row (default 20)")
    ap.add_argument("--engine", choices=["jit", "interp"], default="jit")
    ap.add_argument("--threads", type=int, default=4, help="counter threads (default 4)")
    ap.add_argument("--iters", type=int, default=1000000, help="counter iterations per thread (default 1000000)")
    ap.add_argument("--rounds", type=int, default=3, help="parallel rounds of jobs.sh (default 3)")
    ap.add_argument("--timeout", type=int, default=300, help="disco --timeout per boot (default 300)")
    ap.add_argument("--numa", action="store_true",
                    help="a 2-node machine with --numa-policy both, and the replica check")
    ap.add_argument("--generations", type=int, default=30, help="replica generations (default 30)")
    args = ap.parse_args()
    if args.smp < 1 or args.runs < 1:
        ap.error("--smp and --runs must be at least 1")

    src = os.path.abspath(args.source_dir)
    disco = args.disco
    for _ in range(30):  # the binary may be being relinked right now
        if os.access(disco, os.X_OK):
            break
        say(f"waiting for {disco} ...")
        time.sleep(10)
    else:
        fail(f"{disco} is not an executable")
    smp_flag = []
    if args.smp > 1:
        h = subprocess.run([disco, "run", "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if "--smp" not in h.stdout:
            fail(f"--smp {args.smp} asked for, but '{disco} run --help' lists no --smp")
        smp_flag = ["--smp", str(args.smp)]

    img = build_image(src)
    cache = os.path.join(src, "cache", "smp-stress")
    logdir = os.path.join(cache, "logs")
    os.makedirs(logdir, exist_ok=True)
    counter = build_counter(src, cache)
    replica = build_counter(src, cache, "replica") if args.numa else None
    initrd = make_initrd(src, img, cache, counter, args, replica)
    expect_sum = jobs_expected()

    # Half the vCPUs on each node (the VM spans both; its memory is on node 0).
    numa_flags = ["--nodes", "2", "--cpus-per-node", str(max(1, args.smp // 2)), "--numa-policy", "both",
                  "--stats=json"] if args.numa else ["--stats"]
    cmd = [disco, "run", "--kernel", os.path.join(img, "vmlinuz"), "--initrd", initrd,
           "--append", "disco.stress", "--timeout", str(args.timeout)] + smp_flag + \
          ["--engine", args.engine] + numa_flags
    say("$ " + " ".join(cmd))
    say(f"smp_stress: {args.runs} run(s), {args.smp} CPU(s), engine {args.engine}; "
        f"counter {args.threads} threads x {args.iters}, jobs {args.rounds} rounds x {JOBS}")

    rows = []
    for k in range(1, args.runs + 1):
        log = os.path.join(logdir, f"smp{args.smp}-{args.engine}-run{k}.log")
        rc, out, secs, marks = boot(cmd, args.timeout + 60, log)
        info = check_run(rc, out, args, expect_sum, log)

        def span(a, b):
            return marks[b] - marks[a] if a in marks and b in marks else float("nan")

        row = {"total": secs, "boot": marks.get("ready", float("nan")),
               "counter": span("counter-start", "counter-end"),
               "jobs": span("jobs-start", "jobs-end"), **info}
        rows.append(row)
        mips = ""
        if info["insns"]:
            mips = f", {info['insns'] / 1e6 / secs:.0f} MIPS avg"
        numa = ""
        if args.numa:
            numa = (f"  replications={info['replications']} collapses={info['collapses']} "
                    f"migrations={info['migrations']} local={100 * info['local']:.0f}%")
        say(f"run {k}: ok  {secs:.1f} s  (boot {row['boot']:.1f} s, counter {row['counter']:.1f} s, "
            f"jobs {row['jobs']:.1f} s{mips})  cpus_seen={info['cpus_seen']}{numa}")

    def stat(key):
        v = [r[key] for r in rows]
        return f"{min(v):.1f}/{statistics.median(v):.1f}/{max(v):.1f}"

    seen = sorted({r["cpus_seen"] for r in rows})
    say(f"smp_stress: all {len(rows)} runs passed with {args.smp} CPU(s), engine {args.engine}; "
        f"seconds min/median/max: total {stat('total')}, boot {stat('boot')}, "
        f"counter {stat('counter')}, jobs {stat('jobs')}; cpus_seen {','.join(map(str, seen))}")
    if args.smp > 1 and seen == [1]:
        say("smp_stress: note: the counter threads were only ever seen on one CPU")
    print(f"{len(rows)} passed, 0 failed")


if __name__ == "__main__":
    main()
