#!/usr/bin/env python3
"""VM isolation: several physwalk guests in one disco machine.

Each VM runs tests/guest/physwalk.c: it probes every guest-physical page it
can name, fills its RAM with patterns carrying its VM id, leaves the
page-sharing scanner time to merge the pages that are identical in every VM,
writes its id into those (breaking the sharing copy-on-write) and walks
everything again.  It prints
    PHYSWALK id=<id> ram_pages=<n> foreign=<f> corrupt=<c>
and powers off with status 0 only when it saw nothing of another VM's (or
the monitor's) and its own memory is intact.

Checks, on the interpreter and on the JIT:
  - disco exits 0,
  - every VM's console log holds its PHYSWALK line with its id, foreign=0,
    corrupt=0 and ram_pages = mem / 4 KiB,
  - the --stats-file JSON parses, machine.cow_breaks > 0 (the guests' writes
    broke shared pages) and machine.shared_pages exists (>= 0); on
    deterministic time the VMs ran on one host thread, on host time each
    VM's processor on a thread of its own (machine.processors).
A second run per engine, on host time, has the guests leave their pages
alone for a while after writing their id into the common pages, so that
sub-page sharing stores those (one word apart from the other VMs' copies)
as patches; the final walk reads them back.  It checks the same console
lines, and that the statistics show pages patched and rebuilt on access
(machine.patch_faults > 0).
Then configurations that must be refused before anything runs (exit 2, a
one-line error): memory over-commit, a missing kernel file, more vCPUs than
processors.

usage: run.py DISCO PHYSWALK_ELF [--engines interp,jit] [--skip-negative] [--keep]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20
PAGE = 4096

# The three VMs: (name, walkid, mem in MiB).  "c" crosses the 256 MiB
# boundary, so part of its RAM is at physical 0x20000000.
VMS = [("a", 1, 48), ("b", 2, 32), ("c", 3, 300)]

# Added to every VM's command line after walkid=N; physwalk also accepts
# walkspin=MS (busy phase, default 100) and walkwait=MS (WAIT phase,
# default 300), in guest milliseconds, should the scanner need longer.
EXTRA_APPEND = ""

RUN_TIMEOUT = 120           # disco --timeout
PROC_TIMEOUT = 300          # this script's limit per disco run
NEG_TIMEOUT = 60

PHYSWALK_RE = re.compile(
    r"^PHYSWALK id=(\d+) ram_pages=(\d+) foreign=(\d+) corrupt=(\d+)$", re.M)

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, flush=True)


def ok(msg):
    print("  ok: " + msg, flush=True)


def toml_str(s):
    # A JSON string is a valid TOML basic string for these characters
    # (json.dumps escapes quotes, backslashes and control characters).
    return json.dumps(s)


def write_config(path, machine, sharing, vms):
    """machine/sharing: dicts of already-formatted TOML values; vms: list of
    dicts of Python str/int values."""
    lines = []
    if machine:
        lines.append("[machine]")
        lines += ["%s = %s" % kv for kv in machine.items()]
    if sharing:
        lines.append("[sharing]")
        lines += ["%s = %s" % kv for kv in sharing.items()]
    for vm in vms:
        lines.append("")
        lines.append("[[vm]]")
        for k, v in vm.items():
            lines.append("%s = %s" % (k, toml_str(v) if isinstance(v, str) else v))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_disco(disco, args, timeout):
    cmd = [disco, "run"] + args
    print("$ " + " ".join(cmd), flush=True)
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace"), (e.stderr or b"").decode(errors="replace")
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def show_tail(title, text, n=30):
    lines = text.replace("\r", "").splitlines()
    print("---- %s (last %d of %d lines) ----" % (title, min(n, len(lines)), len(lines)))
    for line in lines[-n:]:
        print("    " + line)


# The patching run: guest milliseconds (= host milliseconds on host time)
# the guests leave their pages alone before the final walk; the scan needs
# two passes over the VMs' 95,000 pages (at 400,000 pages/s) to patch them.
COLD_MS = 2500


def isolation_run(disco, elf, tmp, engine, patching=False):
    print("== isolation, engine %s%s" % (engine, ", sub-page sharing" if patching else ""), flush=True)
    work = os.path.join(tmp, engine + ("-patching" if patching else ""))
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    extra = ("walkcold=%d" % COLD_MS) if patching else EXTRA_APPEND
    cfg = write_config(
        os.path.join(work, "machine.toml"),
        {"overcommit": "false"},
        {"enabled": "true", "scan_rate": "400000" if patching else "200000",
         "patching": "true" if patching else "false"},
        [{"name": name, "kernel": elf,
          "append": ("walkid=%d %s" % (wid, extra)).strip(),
          "mem": "%dM" % mem}
         for name, wid, mem in VMS])
    stats = os.path.join(work, "stats.json")
    # The patching run keeps host time: its cold phase is a WAIT, which
    # deterministic time would skip at once.
    rc, out, err = run_disco(disco, [
        "--config", cfg, "--console", "all", "--console-dir", logs,
        "--timeout", str(RUN_TIMEOUT), "--engine", engine,
        "--stats-file", stats] + ([] if patching else ["--deterministic"]), PROC_TIMEOUT)

    good = True
    if rc != 0:
        fail("%s: disco exited with %s (expected 0)" % (engine, "a timeout" if rc is None else rc))
        good = False
    else:
        ok("%s: disco exited 0" % engine)

    for name, wid, mem in VMS:
        log = os.path.join(logs, name + ".log")
        try:
            with open(log, errors="replace") as f:
                text = f.read().replace("\r", "")
        except OSError as e:
            fail("%s: vm %s: no console log %s (%s)" % (engine, name, log, e))
            good = False
            continue
        found = PHYSWALK_RE.findall(text)
        want_pages = mem * MIB // PAGE
        if len(found) != 1:
            fail("%s: vm %s: %d PHYSWALK lines in %s (expected 1)" % (engine, name, len(found), log))
            show_tail(log, text)
            good = False
            continue
        vid, pages, foreign, corrupt = (int(x) for x in found[0])
        line = "PHYSWALK id=%d ram_pages=%d foreign=%d corrupt=%d" % (vid, pages, foreign, corrupt)
        problems = []
        if vid != wid:
            problems.append("id %d, expected %d" % (vid, wid))
        if pages != want_pages:
            problems.append("ram_pages %d, expected %d (%d MiB)" % (pages, want_pages, mem))
        if foreign:
            problems.append("%d foreign words" % foreign)
        if corrupt:
            problems.append("%d corrupt pages" % corrupt)
        if problems:
            fail("%s: vm %s: %s: %s" % (engine, name, line, "; ".join(problems)))
            show_tail(log, text)
            good = False
        else:
            ok("%s: vm %s: %s" % (engine, name, line))

    try:
        with open(stats) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        fail("%s: stats file %s: %s" % (engine, stats, e))
        good = False
        data = None
    if data is not None:
        good &= check_stats(engine, data, patching)

    if not good:
        show_tail("disco stdout", out)
        show_tail("disco stderr", err)


def check_stats(engine, data, patching):
    good = True
    machine = data.get("machine") if isinstance(data, dict) else None
    if not isinstance(machine, dict):
        fail("%s: stats: no \"machine\" object" % engine)
        return False
    cow = machine.get("cow_breaks")
    shared = machine.get("shared_pages")
    if not isinstance(cow, int) or isinstance(cow, bool) or cow <= 0:
        fail("%s: stats: machine.cow_breaks = %r (expected an integer > 0)" % (engine, cow))
        good = False
    if not isinstance(shared, int) or isinstance(shared, bool) or shared < 0:
        fail("%s: stats: machine.shared_pages = %r (expected an integer >= 0)" % (engine, shared))
        good = False
    vms = data.get("vms")
    names = sorted(str(v.get("name")) for v in vms if isinstance(v, dict)) if isinstance(vms, list) else None
    if names != sorted(n for n, _, _ in VMS):
        fail("%s: stats: vms names %r (expected %r)" % (engine, names, [n for n, _, _ in VMS]))
        good = False
    # Host time: each of the three modelled processors ran on a host thread
    # of its own; deterministic time runs every VM on one thread in turn.
    want_threads = len(VMS) if patching else 1
    procs = machine.get("processors")
    tids = sorted({p.get("host_tid") for p in procs if isinstance(p, dict)}) if isinstance(procs, list) else []
    if machine.get("host_threads") != want_threads or len(tids) != want_threads or 0 in tids:
        fail("%s: stats: host_threads %r, processors' host threads %r (expected %d distinct threads)" %
             (engine, machine.get("host_threads"), tids, want_threads))
        good = False
    faults = machine.get("patch_faults")
    if patching and (not isinstance(faults, int) or isinstance(faults, bool) or faults <= 0):
        fail("%s: stats: machine.patch_faults = %r (expected pages patched, then rebuilt when the "
             "final walk read them: an integer > 0)" % (engine, faults))
        good = False
    if good:
        ok("%s: stats: cow_breaks %d, shared_pages %d, pages_scanned %r, patch_faults %r" %
           (engine, cow, shared, machine.get("pages_scanned"), faults))
    return good


def refused(disco, tmp, title, machine, vms, words):
    """The configuration must be refused: exit 2, an error line holding every
    one of `words` (case-insensitive)."""
    print("== refused: %s" % title, flush=True)
    work = os.path.join(tmp, "neg-" + re.sub(r"\W+", "-", title))
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    cfg = write_config(os.path.join(work, "machine.toml"), machine, None, vms)
    rc, out, err = run_disco(disco, [
        "--config", cfg, "--console", "all", "--console-dir", logs,
        "--timeout", "30", "--deterministic"], NEG_TIMEOUT)
    lines = [l for l in (err + "\n" + out).replace("\r", "").splitlines() if l.strip()]
    hits = [l for l in lines if all(w.lower() in l.lower() for w in words)]
    good = True
    if rc != 2:
        fail("%s: exit status %s (expected 2)" % (title, "a timeout" if rc is None else rc))
        good = False
    if not hits:
        fail("%s: no error line containing %s" % (title, " and ".join(repr(w) for w in words)))
        good = False
    if good:
        ok("%s: exit 2: %s" % (title, hits[0]))
    else:
        show_tail("disco stdout", out)
        show_tail("disco stderr", err)


def negative_tests(disco, elf, tmp):
    refused(disco, tmp, "memory over-commit",
            {"nodes": "1", "mem_per_node": toml_str("64M"), "overcommit": "false"},
            [{"name": "x", "kernel": elf, "mem": "48M"},
             {"name": "y", "kernel": elf, "mem": "48M"}],
            ["overcommit"])
    missing = os.path.join(tmp, "no-such-dir", "missing-kernel.elf")
    refused(disco, tmp, "missing kernel",
            {},
            [{"name": "x", "kernel": elf, "mem": "32M"},
             {"name": "y", "kernel": missing, "mem": "32M"}],
            [missing])
    refused(disco, tmp, "too many vCPUs",
            {"nodes": "1", "cpus_per_node": "1"},
            [{"name": "x", "kernel": elf, "mem": "32M"},
             {"name": "y", "kernel": elf, "mem": "32M"}],
            ["vCPUs"])


def out_of_memory(disco, elf, tmp):
    """An over-committed machine that truly runs out of pages: the VMs whose
    writes find none stop with a message; the one that already has its
    memory finishes its walk and powers off cleanly."""
    print("== over-committed machine runs out of pages", flush=True)
    work = os.path.join(tmp, "oom")
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    cfg = write_config(os.path.join(work, "machine.toml"),
                       {"nodes": "1", "mem_per_node": toml_str("64M"), "overcommit": "true"},
                       {"enabled": "false"},
                       [{"name": "small", "kernel": elf, "append": "walkid=3", "mem": "16M"},
                        {"name": "big1", "kernel": elf, "append": "walkid=1", "mem": "48M"},
                        {"name": "big2", "kernel": elf, "append": "walkid=2", "mem": "48M"}])
    rc, out, err = run_disco(disco, ["--config", cfg, "--console", "none", "--console-dir", logs,
                                     "--timeout", "60", "--deterministic"], RUN_TIMEOUT)
    stopped = [l for l in err.splitlines() if "out of memory" in l and "the others go on" in l]
    with open(os.path.join(logs, "small.log"), errors="replace") as f:
        small = f.read()
    if rc != 1:
        fail("oom: exit status %s (expected 1: a VM was stopped)" % rc)
    elif not stopped:
        fail("oom: no 'out of memory ... the others go on' message")
    elif "PHYSWALK id=3 ram_pages=4096 foreign=0 corrupt=0" not in small:
        fail("oom: the VM that had its memory did not finish its walk")
    else:
        ok("oom: %d VM(s) stopped (%s); 'small' finished its walk" % (len(stopped), stopped[0]))
        return
    show_tail("disco stderr", err)


def prompt_stop(disco, elf, tmp):
    """--timeout ends a machine whose processors all run busy guests on
    their own host threads promptly: exit 124 well within the limit."""
    print("== a timeout stops every processor thread", flush=True)
    work = os.path.join(tmp, "stop")
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    cfg = write_config(os.path.join(work, "machine.toml"), {}, {"enabled": "true"},
                       [{"name": n, "kernel": elf, "append": "walkid=%d walkspin=600000" % (k + 1), "mem": "32M"}
                        for k, n in enumerate(("p", "q", "r"))])
    t0 = time.monotonic()
    rc, out, err = run_disco(disco, ["--config", cfg, "--console", "none", "--console-dir", logs,
                                     "--timeout", "2", "--stats"], NEG_TIMEOUT)
    secs = time.monotonic() - t0
    threads = re.findall(r"processor \d+ \(node \d+\): host thread (\d+)", err)
    if rc != 124 or secs > 8:
        fail("stop: exit status %s after %.1f s (expected 124 within 8 s)" % (rc, secs))
        show_tail("disco stderr", err)
    elif len(set(threads)) != 3:
        fail("stop: %d processor host threads in the statistics (expected 3)" % len(set(threads)))
        show_tail("disco stderr", err)
    else:
        ok("stop: exit 124 after %.1f s with 3 busy processor threads" % secs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("disco")
    ap.add_argument("elf", help="physwalk.elf")
    ap.add_argument("--engines", default="interp,jit")
    ap.add_argument("--skip-negative", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    a = ap.parse_args()
    disco = os.path.abspath(a.disco)
    elf = os.path.abspath(a.elf)
    for p in (disco, elf):
        if not os.path.isfile(p):
            print("run.py: %s: not found" % p)
            return 2

    tmp = tempfile.mkdtemp(prefix="disco-isolation-")
    try:
        for engine in [e for e in a.engines.split(",") if e]:
            isolation_run(disco, elf, tmp, engine)
            isolation_run(disco, elf, tmp, engine, patching=True)
        if not a.skip_negative:
            negative_tests(disco, elf, tmp)
            out_of_memory(disco, elf, tmp)
        prompt_stop(disco, elf, tmp)
    finally:
        if a.keep or failures:
            print("files kept in " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
