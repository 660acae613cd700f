#!/usr/bin/env python3
"""Transparent page sharing benchmark: memory of N identical VMs.

The analogue of the Disco paper's Fig. 6.  For each N in --counts, boot N
copies of the default Debian guest (512 MiB each) in one disco process,
until every VM's console shows the shell prompt "disco# ", let the sharing
scan settle (--settle) and read disco's memory statistics (--stats-file);
then do the same with --no-sharing, the baseline on the same modelled
machine.  With --qemu, also boot N separate QEMU processes (-M malta
-cpu 5KEc -m 512, the setup of bench/linux/run.py) at once to the same
prompt and sum their resident set sizes.

The table gives, per N: the guest memory in use (the VMs' touched guest
pages), the machine memory used with and without sharing and their ratio,
the host RSS of the disco process in both runs and the QEMU total.  The
target is a ratio of at most 1/3 at the largest N.

Usage: bench/sharing/run.py [--counts 1,2,4,8] [--engine jit] [--qemu]
                            [--keep DIR] [--json FILE] [--disco PATH]
Standard library only.  See bench/sharing/README.md.  Exit status 1 if a
disco run failed, else 0 (whether or not the target is met).
"""

import argparse
import datetime
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
IMAGE = os.path.join(REPO, "cache", "default")
MALTA_DIR = os.path.join(REPO, "cache", "bench-linux", "malta")
QEMU = "qemu-system-mips64el"
PROMPT = "disco# "
MEM_MB = 512
MIB = 1024 * 1024
TARGET = 1.0 / 3.0
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def mib(nbytes):
    return nbytes / MIB


def tail_lines(path, n):
    """The last n non-empty lines of a text file, escape sequences removed."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return ["(cannot read %s: %s)" % (path, e.strerror)]
    lines = [ANSI_RE.sub("", l).rstrip() for l in text.replace("\r", "\n").split("\n")]
    return [l for l in lines if l.strip()][-n:]


def file_has(path, needle):
    try:
        with open(path, "rb") as f:
            return needle.encode() in f.read()
    except OSError:
        return False


# --- disco ----------------------------------------------------------------

def binary_state(path):
    """(mtime, size) of the disco binary, or None if it is not there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.access(path, os.X_OK):
        return None
    return (st.st_mtime, st.st_size)


def wait_for_binary(path, patience=900):
    """Wait until the binary exists and has not changed for a few seconds
    (the other engineer may be relinking it).  False after `patience` s."""
    deadline = time.monotonic() + patience
    announced = False
    while True:
        s = binary_state(path)
        if s is not None and time.time() - s[0] > 5:
            time.sleep(1)
            if binary_state(path) == s:
                return True
        if time.monotonic() > deadline:
            return False
        if not announced:
            say("  %s is missing or being rebuilt; waiting..." % path)
            announced = True
        time.sleep(15)


def run_disco(args, n, sharing, rundir):
    """One disco run of n VMs.  Returns a result dict: ok, seconds, rc,
    stats (the statistics JSON), and on failure a message."""
    timeout = args.timeout_base + args.timeout_per_vm * n
    label = "%d VM%s %s sharing" % (n, "" if n == 1 else "s", "with" if sharing else "without")
    for attempt in range(1, args.retries + 2):
        if os.path.isdir(rundir):
            shutil.rmtree(rundir)
        os.makedirs(rundir)
        condir = os.path.join(rundir, "consoles")
        stats = os.path.join(rundir, "stats.json")
        outlog = os.path.join(rundir, "disco.out")
        cmd = [args.disco, "run", "--vms", str(n), "--engine", args.engine,
               "--until", PROMPT, "--console", "none", "--console-dir", condir,
               "--stats-file", stats, "--settle", "--timeout", str(int(timeout))]
        if sharing:
            if args.scan_rate is not None:
                cmd += ["--scan-rate", str(args.scan_rate)]
            if args.no_patching:
                cmd.append("--no-patching")
        else:
            cmd.append("--no-sharing")
        if not wait_for_binary(args.disco):
            return {"ok": False, "label": label, "cmd": cmd, "rc": None, "seconds": None,
                    "message": "%s not available (missing or changing) for 15 minutes" % args.disco}
        before = binary_state(args.disco)
        say("booting %d VM%s %s sharing...%s" % (
            n, "" if n == 1 else "s", "with" if sharing else "without",
            "" if attempt == 1 else " (attempt %d)" % attempt))
        t0 = time.monotonic()
        timed_out = False
        try:
            with open(outlog, "wb") as out:
                p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
                try:
                    rc = p.wait(timeout + 30)  # disco's own --timeout should fire first
                except subprocess.TimeoutExpired:
                    timed_out = True
                    p.kill()
                    rc = p.wait()
        except OSError as e:  # e.g. ETXTBSY / ENOEXEC while it is being linked
            rc, err = None, str(e)
        else:
            err = None
        secs = time.monotonic() - t0
        res = {"label": label, "cmd": cmd, "rc": rc, "seconds": secs, "dir": rundir,
               "timeout": timeout}
        if rc == 0 and not timed_out:
            try:
                with open(stats) as f:
                    res["stats"] = json.load(f)
                res["ok"] = True
                return res
            except (OSError, ValueError) as e:
                res["message"] = "exit 0 but no statistics in %s: %s" % (stats, e)
        elif timed_out or rc == 124:
            res["message"] = "timed out after %.0f s" % secs
        elif err:
            res["message"] = "could not start: %s" % err
        else:
            res["message"] = "exit status %s after %.1f s" % (rc, secs)
        res["ok"] = False
        # a binary that changed (or vanished) under the run: wait and retry
        if binary_state(args.disco) != before or err:
            say("  %s: %s; the binary changed meanwhile, retrying in 60 s" % (label, res["message"]))
            time.sleep(60)
            continue
        break
    return res


def report_failure(res):
    say("FAILED: %s: %s" % (res["label"], res.get("message", "?")))
    say("  command: %s" % shlex.join(res["cmd"]))
    if not res.get("dir"):
        return
    out = os.path.join(res["dir"], "disco.out")
    if os.path.exists(out):
        say("  disco output (tail):")
        for l in tail_lines(out, 10):
            say("    | " + l)
    logs = sorted(glob.glob(os.path.join(res["dir"], "consoles", "*.log")))
    if not logs:
        say("  no console logs in %s" % os.path.join(res["dir"], "consoles"))
    for log in logs:
        name = os.path.splitext(os.path.basename(log))[0]
        say("  console %s (%s; tail):" % (
            name, "reached the prompt" if file_has(log, PROMPT) else "no prompt"))
        lines = tail_lines(log, 6)
        for l in lines or ["(empty)"]:
            say("    | " + l)


def summarize(res):
    """The numbers the table needs from one successful run."""
    m = res["stats"]["machine"]
    vms = res["stats"]["vms"]
    page = m.get("page_bytes", 4096)
    # Machine memory: pool pages plus the host memory patches take.
    used = m.get("machine_bytes_used", m["machine_pages_used"] * page)
    return {
        "page_bytes": page,
        "guest_pages_touched": sum(v["guest_pages_touched"] for v in vms),
        "machine_pages_used": m["machine_pages_used"],
        "guest_mib": mib(sum(v["guest_pages_touched"] for v in vms) * page),
        "machine_bytes_used": used,
        "machine_mib": mib(used),
        "patched_pages": m.get("patched_pages", 0),
        "patch_bytes": m.get("patch_bytes", 0),
        "patch_faults": m.get("patch_faults", 0),
        "host_rss_mib": mib(m["host_rss_bytes"]),
        "shared_pages": m.get("shared_pages"),
        "zero_page_mappings": m.get("zero_page_mappings"),
        "cow_breaks": m.get("cow_breaks"),
        "merges": m.get("merges"),
        "seconds": res["seconds"],
    }


# --- QEMU -----------------------------------------------------------------

def malta_kernel(explicit):
    """The 5kc-malta kernel bench/linux/run.py uses, or None."""
    if explicit:
        return explicit
    ks = sorted(glob.glob(os.path.join(MALTA_DIR, "vmlinuz-*")))
    if ks:
        return ks[-1]
    # let the Linux benchmark fetch it (apt-get download), as it does itself
    try:
        sys.path.insert(0, os.path.join(REPO, "bench", "linux"))
        import run as linux_bench  # bench/linux/run.py
        return linux_bench.malta_kernel()
    except Exception as e:  # noqa: BLE001 - any trouble means "no kernel"
        say("qemu: no Malta kernel in %s and fetching it failed (%s); "
            "run bench/linux/run.py --qemu malta once" % (MALTA_DIR, e))
        return None
    finally:
        sys.path.pop(0)


def vm_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_qemu(n, kernel, timeout, workdir):
    """Start n QEMUs at once, wait for each one's prompt, sum their RSS.
    Returns a dict: status ("ok" | "timeout" | "failed"), rss_mib (sum, only
    when every one reached the prompt), per-process details."""
    qdir = os.path.join(workdir, "qemu-%d" % n)
    if os.path.isdir(qdir):
        shutil.rmtree(qdir)
    os.makedirs(qdir)
    initrd = os.path.join(IMAGE, "initrd.gz")
    say("booting %d QEMU%s at once..." % (n, "" if n == 1 else "s"))
    procs = []
    t0 = time.monotonic()
    try:
        for i in range(n):
            log = os.path.join(qdir, "qemu%d.log" % i)
            cmd = [QEMU, "-M", "malta", "-cpu", "5KEc", "-m", str(MEM_MB),
                   "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0",
                   "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot"]
            with open(log, "wb") as out:
                p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
            procs.append({"p": p, "log": log, "at": None})
        while True:
            now = time.monotonic() - t0
            for q in procs:
                if q["at"] is None and q["p"].poll() is None and file_has(q["log"], PROMPT):
                    q["at"] = now
            waiting = [q for q in procs if q["at"] is None and q["p"].poll() is None]
            if not waiting or now > timeout:
                break
            time.sleep(0.5)
        # every one is at the prompt (or given up on): read the RSS now
        for q in procs:
            q["rss_kib"] = vm_rss_kib(q["p"].pid) if q["p"].poll() is None else None
        secs = time.monotonic() - t0
    finally:
        for q in procs:
            if q["p"].poll() is None:
                q["p"].terminate()
        for q in procs:
            try:
                q["p"].wait(10)
            except subprocess.TimeoutExpired:
                q["p"].kill()
                q["p"].wait()
    details = [{"log": q["log"], "prompt_after_s": q["at"], "rss_kib": q.get("rss_kib"),
                "exited": q["p"].returncode if q["at"] is None else None} for q in procs]
    reached = [q for q in procs if q["at"] is not None]
    res = {"n": n, "seconds": secs, "timeout": timeout, "processes": details,
           "reached_prompt": len(reached)}
    died = [q for q in procs if q["at"] is None and q.get("rss_kib") is None]
    if len(reached) == n and all(q["rss_kib"] is not None for q in procs):
        res["status"] = "ok"
        res["rss_mib"] = sum(q["rss_kib"] for q in procs) / 1024.0
        say("  %d QEMU%s at the prompt after %.1f s: total RSS %.1f MiB" % (
            n, "" if n == 1 else "s", max(q["at"] for q in procs), res["rss_mib"]))
    elif died:
        res["status"] = "failed"
        say("  QEMU: %d of %d exited before the prompt; log tail of %s:" % (
            len(died), n, died[0]["log"]))
        for l in tail_lines(died[0]["log"], 6):
            say("    | " + l)
    else:
        res["status"] = "timeout"
        res["partial_rss_mib"] = sum(q["rss_kib"] or 0 for q in procs) / 1024.0
        say("  QEMU: timeout after %.0f s, %d of %d at the prompt (RSS so far %.1f MiB)" % (
            secs, len(reached), n, res["partial_rss_mib"]))
    return res


# --- table ----------------------------------------------------------------

def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


def print_table(rows, qemu_on, engine):
    sep = "  "
    head = [("N", 4), ("in use", 9), ("shared", 9), ("unshared", 9), ("ratio", 7),
            ("shared", 9), ("unshared", 9)]
    groups = [("", 1), ("guest", 1), ("machine memory", 3), ("disco host RSS", 2)]
    if qemu_on:
        head.append(("N procs", 10))
        groups.append(("QEMU RSS", 1))
    # a group header is centred over the columns it spans
    spans, k = [], 0
    for g, cols in groups:
        spans.append((g, sum(w for _, w in head[k:k + cols]) + len(sep) * (cols - 1)))
        k += cols
    groups = spans
    print("Page sharing: N copies of the default guest (%d MiB each), disco --engine %s; MiB"
          % (MEM_MB, engine))
    print(sep.join(g.center(w) if g else " " * w for g, w in groups).rstrip())
    print(sep.join(h.rjust(w) for h, w in head))
    print(sep.join("-" * w for _, w in head))
    for r in rows:
        sh, un = r.get("sharing"), r.get("unshared")
        cells = ["%d" % r["n"],
                 fmt(sh and sh["guest_mib"]),
                 fmt(sh and sh["machine_mib"]),
                 fmt(un and un["machine_mib"]),
                 fmt(r.get("ratio"), "%.3f"),
                 fmt(sh and sh["host_rss_mib"]),
                 fmt(un and un["host_rss_mib"])]
        if not sh:
            cells[1] = cells[2] = cells[5] = "FAILED"
        if not un:
            cells[3] = cells[6] = "FAILED"
        if qemu_on:
            q = r.get("qemu")
            if q is None:
                cells.append("n/a")
            elif q["status"] == "ok":
                cells.append(fmt(q["rss_mib"]))
            else:
                cells.append(q["status"])
        print(sep.join(c.rjust(w) for c, (_, w) in zip(cells, head)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counts", default="1,2,4,8", help="VM counts, comma-separated (default 1,2,4,8)")
    ap.add_argument("--engine", default="jit", choices=["interp", "jit"], help="disco engine (default jit)")
    ap.add_argument("--disco", default=os.path.join(REPO, "build", "src", "disco"),
                    help="the disco binary (default <repo>/build/src/disco)")
    ap.add_argument("--scan-rate", type=int, help="pages/s for the sharing scan (default: disco's)")
    ap.add_argument("--no-patching", action="store_true",
                    help="whole-page sharing only (disco --no-patching)")
    ap.add_argument("--qemu", action="store_true",
                    help="also measure N separate %s processes (if installed)" % QEMU)
    ap.add_argument("--qemu-kernel", help="kernel for QEMU Malta (default: the 5kc-malta kernel "
                    "of bench/linux, cache/bench-linux/malta/)")
    ap.add_argument("--qemu-timeout", type=float, default=300,
                    help="seconds for N QEMUs to reach the prompt (default 300)")
    ap.add_argument("--timeout-base", type=float, default=120, help="disco run timeout: base seconds (120)")
    ap.add_argument("--timeout-per-vm", type=float, default=40, help="... plus seconds per VM (40)")
    ap.add_argument("--retries", type=int, default=2,
                    help="reruns when the disco binary changed during a run (default 2)")
    ap.add_argument("--keep", metavar="DIR", help="keep consoles and statistics of every run in DIR")
    ap.add_argument("--json", metavar="FILE", help="write all numbers as JSON")
    args = ap.parse_args()

    try:
        counts = [int(c) for c in args.counts.split(",") if c.strip()]
    except ValueError:
        ap.error("--counts: comma-separated integers, e.g. 1,2,4,8")
    if not counts or min(counts) < 1:
        ap.error("--counts: at least one count, each >= 1")
    args.disco = os.path.abspath(args.disco)
    if not os.path.exists(os.path.join(IMAGE, "vmlinuz")):
        say("note: %s has no default image; disco will build it on the first run" % IMAGE)

    qemu_kernel = None
    if args.qemu:
        if not shutil.which(QEMU):
            say("qemu: %s not installed (apt-get install qemu-system-mips); no QEMU column" % QEMU)
        else:
            qemu_kernel = malta_kernel(args.qemu_kernel)
    qemu_on = args.qemu

    if args.keep:
        workdir = os.path.abspath(args.keep)
        os.makedirs(workdir, exist_ok=True)
    else:
        workdir = tempfile.mkdtemp(prefix="disco-sharing-")
    say("sharing bench: counts %s, engine %s, %d cores, load %s; runs in %s" % (
        ",".join(map(str, counts)), args.engine, os.cpu_count(),
        " ".join("%.2f" % x for x in os.getloadavg()), workdir))

    rows, failed = [], []
    t_start = time.monotonic()
    for n in counts:
        row = {"n": n}
        for sharing, key in ((True, "sharing"), (False, "unshared")):
            rundir = os.path.join(workdir, "n%d-%s" % (n, key))
            res = run_disco(args, n, sharing, rundir)
            row[key + "_run"] = {k: res.get(k) for k in ("cmd", "rc", "seconds", "message", "timeout")}
            if res["ok"]:
                row[key + "_run"]["stats"] = res["stats"]
                s = summarize(res)
                row[key] = s
                say("  done in %.1f s: machine memory %.1f MiB, host RSS %.1f MiB" % (
                    res["seconds"], s["machine_mib"], s["host_rss_mib"]))
            else:
                report_failure(res)
                failed.append(res["label"])
        if row.get("sharing") and row.get("unshared") and row["unshared"]["machine_bytes_used"]:
            row["ratio"] = (row["sharing"]["machine_bytes_used"] /
                            row["unshared"]["machine_bytes_used"])
        if qemu_kernel:
            row["qemu"] = run_qemu(n, qemu_kernel, args.qemu_timeout, workdir)
        rows.append(row)

    print()
    print_table(rows, qemu_on, args.engine)
    print()
    big = max(rows, key=lambda r: r["n"])
    if big.get("ratio") is not None:
        met = big["ratio"] <= TARGET
        print("target (N=%d: machine memory with sharing / without <= 1/3): %.3f -> %s" % (
            big["n"], big["ratio"], "target met" if met else "target NOT met"))
    else:
        met = None
        print("target (N=%d: machine memory with sharing / without <= 1/3): "
              "no ratio (a run failed)" % big["n"])
    if failed:
        print("failed runs: %s" % "; ".join(failed))
    say("total %.0f s" % (time.monotonic() - t_start))

    if args.json:
        doc = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host": {"cores": os.cpu_count(), "loadavg_end": os.getloadavg()},
            "disco": args.disco, "engine": args.engine, "counts": counts,
            "guest_mem_mib": MEM_MB, "qemu_kernel": qemu_kernel,
            "target_ratio": TARGET, "target_met": met, "failed": failed,
            "rows": rows,
        }
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")

    if args.keep:
        say("consoles and statistics kept in %s" % workdir)
    elif failed:
        say("consoles of the failed runs kept in %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
