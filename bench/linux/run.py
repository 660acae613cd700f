#!/usr/bin/env python3
"""Linux guest benchmark: the default Debian image on disco, and on QEMU.

One invocation boots the default image (cache/default) once per run and
engine, runs the guest suite (bench/linux/suite.sh) in it and times each
workload on the host from console marker lines:

  boot    process start -> "Run /init as init process" (or "disco guest ready")
  sha256  sha256sum of 32 MiB generated in the guest's tmpfs
  gzip    gzip -9 of 16 MiB of compressible, deterministic text
  fork    2000 fork+exec of busybox true (a shell loop)

When qemu-system-mips64el is installed the same initramfs also boots on
QEMU (-M malta -cpu 5KEc, Debian's linux-image-5kc-malta kernel, fetched
with apt-get download into cache/bench-linux/) and the table shows the
disco/QEMU time ratios and their geometric mean.

Usage: bench/linux/run.py [--runs N] [--engines interp,jit] [--only NAME]
                          [--no-qemu] [--json FILE] [--baseline OLD_DISCO]
                          [--disco-args ARGS] [--baseline-args ARGS]
Standard library only.  See bench/linux/README.md.
"""

import argparse
import datetime
import gzip
import hashlib
import json
import math
import os
import platform
import re
import select
import struct
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
IMAGE = os.path.join(REPO, "cache", "default")
CACHE = os.path.join(REPO, "cache", "bench-linux")
WORKLOADS = ["boot", "sha256", "gzip", "fork"]
GUEST_WORKLOADS = WORKLOADS[1:]
MEM_MB = 512
BOOT_MARKERS = ("Run /init as init process", "disco guest ready")
QEMU = "qemu-system-mips64el"
MALTA_META = "linux-image-5kc-malta"

MARKER_RE = re.compile(r"BENCH-(START|END) (\w+)")
RESULT_RE = re.compile(r"BENCH-RESULT (\w+) ?(.*)")


def say(msg):
    print(msg, file=sys.stderr, flush=True)


# --- the initramfs overlay ------------------------------------------------

def newc(entries):
    """A newc cpio archive (bytes) of (name, mode, data) entries."""
    out = bytearray()

    def pad4():
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], 1):
        raw = name.encode() + b"\0"
        fields = [ino if name != "TRAILER!!!" else 0, mode, 0, 0,
                  2 if mode & 0o040000 else 1, 0, len(data), 0, 0, 0, 0, len(raw), 0]
        out.extend(b"070701" + b"".join(b"%08X" % f for f in fields))
        out.extend(raw)
        pad4()
        out.extend(data)
        pad4()
    return bytes(out)


PROFILE = """\
# /root/.profile added by bench/linux/run.py: with the kernel command line
# word disco.bench (or disco.bench=W1,W2), run the suite once and power off.
case " $(cat /proc/cmdline) " in
*" disco.bench "* | *" disco.bench="*)
	if [ ! -e /run/bench-started ]; then
		: >/run/bench-started
		sh /bench/suite.sh
		sleep 1  # let the console drain (a polled UART is slow)
		poweroff -f
	fi
	;;
esac
"""


def make_initrd():
    """cache/bench-linux/initrd-bench.gz: the default initrd.gz followed
    by a second gzip'd cpio with /bench/suite.sh and /root/.profile (Linux
    unpacks concatenated archives in order)."""
    base = os.path.join(IMAGE, "initrd.gz")
    with open(os.path.join(HERE, "suite.sh"), "rb") as f:
        suite = f.read()
    overlay = newc([
        ("bench", 0o040755, b""),
        ("bench/suite.sh", 0o100755, suite),
        ("root", 0o040700, b""),
        ("root/.profile", 0o100644, PROFILE.encode()),
    ])
    with open(base, "rb") as f:
        data = f.read()
    data += gzip.compress(overlay, 9, mtime=0)
    os.makedirs(CACHE, exist_ok=True)
    out = os.path.join(CACHE, "initrd-bench.gz")
    with open(out + ".tmp", "wb") as f:
        f.write(data)
    os.replace(out + ".tmp", out)
    return out


def expected_data16():
    """The 16 MiB that suite.sh generates (its awk, in Python)."""
    w = ("the of and to in is that for it as with was on be by at this from "
         "or an are not have which but had they you were his her their disco mips").split()
    n = len(w)
    lines = []
    x = 1
    for i in range(4800):
        x = (x * 75 + 74) % 65537
        y = (x * 75 + 74) % 65537
        lines.append("%06d %s %s %s %s %05d\n" % (
            i, w[x % n], w[(x // n) % n], w[y % n], w[(y // 7) % n], y))
        x = y
    chunk = "".join(lines).encode()[:131072]
    return chunk * 128


def expected_results():
    d16 = expected_data16()
    return {
        "sha256": hashlib.sha256(d16 + d16).hexdigest(),
        "gzip-roundtrip": hashlib.sha256(d16).hexdigest(),
        "fork": "2000",
    }


# --- images and engines ---------------------------------------------------

def ensure_default_image():
    if os.path.exists(os.path.join(IMAGE, ".complete")):
        return
    say("bench: building the default image (images/build-default.sh)...")
    subprocess.run([os.path.join(REPO, "images", "build-default.sh")], check=True)


def malta_kernel():
    """Debian's 5kc-malta kernel, fetched once into cache/bench-linux/malta/.
    Returns its path, or None (with a message) when it cannot be had."""
    kdir = os.path.join(CACHE, "malta")
    if os.path.isdir(kdir):
        ks = sorted(k for k in os.listdir(kdir) if k.startswith("vmlinuz-"))
        if ks:
            return os.path.join(kdir, ks[-1])
    for tool in ("apt-cache", "apt-get", "dpkg-deb"):
        if not shutil.which(tool):
            say("bench: %s not found; cannot fetch %s for QEMU" % (tool, MALTA_META))
            return None
    dep = subprocess.run(["apt-cache", "depends", "--important", MALTA_META + ":mips64el"],
                         capture_output=True, text=True)
    m = re.search(r"Depends: (linux-image-[0-9][^:\s]*)", dep.stdout)
    if not m:
        say("bench: apt knows no %s:mips64el (run images/build-default.sh or "
            "'dpkg --add-architecture mips64el && apt-get update')" % MALTA_META)
        return None
    pkg = m.group(1)
    say("bench: fetching %s:mips64el for QEMU (apt-get download)..." % pkg)
    with tempfile.TemporaryDirectory(prefix="disco-bench-") as tmp:
        os.chmod(tmp, 0o755)  # apt's _apt user must be able to write here
        r = subprocess.run(["apt-get", "download", "-q", pkg + ":mips64el"], cwd=tmp,
                           capture_output=True, text=True)
        debs = [d for d in os.listdir(tmp) if d.endswith(".deb")]
        if r.returncode != 0 or not debs:
            say("bench: apt-get download %s failed:\n%s" % (pkg, r.stderr.strip()))
            return None
        fs = subprocess.run(["dpkg-deb", "--fsys-tarfile", os.path.join(tmp, debs[0])],
                            capture_output=True, check=True).stdout
        tmpdir = os.path.join(tmp, "x")
        os.makedirs(tmpdir)
        with open(os.path.join(tmp, "fs.tar"), "wb") as f:
            f.write(fs)
        with tarfile.open(os.path.join(tmp, "fs.tar")) as tar:
            members = [t for t in tar.getmembers()
                       if re.fullmatch(r"\./boot/(vmlinu[xz]|config)-[^/]+", t.name) and t.isfile()]
            for t in members:
                t.name = os.path.basename(t.name)
                tar.extract(t, tmpdir)
        ks = [k for k in os.listdir(tmpdir) if k.startswith("vmlinu")]
        if not ks:
            say("bench: no /boot/vmlinuz-* in %s" % debs[0])
            return None
        os.makedirs(CACHE, exist_ok=True)
        if os.path.isdir(kdir):
            shutil.rmtree(kdir)
        shutil.copytree(tmpdir, kdir)
        with open(os.path.join(kdir, "package.txt"), "w") as f:
            f.write("%s\n" % debs[0])
        return os.path.join(kdir, ks[0])


def fdt_blob(root):
    """A flattened device tree (version 17) of root = (name, props, kids);
    a prop value is a str, bytes, or list of 32-bit cells."""
    strings, names, st = bytearray(), {}, bytearray()

    def name_off(n):
        if n not in names:
            names[n] = len(strings)
            strings.extend(n.encode() + b"\0")
        return names[n]

    def node(name, props, kids):
        raw = name.encode() + b"\0"
        st.extend(struct.pack(">I", 1) + raw + b"\0" * (-len(raw) % 4))
        for k, v in props:
            if isinstance(v, str):
                v = v.encode() + b"\0"
            elif isinstance(v, list):
                v = b"".join(struct.pack(">I", c) for c in v)
            st.extend(struct.pack(">III", 3, len(v), name_off(k)) + v + b"\0" * (-len(v) % 4))
        for kid in kids:
            node(*kid)
        st.extend(struct.pack(">I", 2))

    node(*root)
    st.extend(struct.pack(">I", 9))
    off_st = 40 + 16  # header, then an empty memory reservation map
    off_str = off_st + len(st)
    hdr = struct.pack(">10I", 0xD00DFEED, off_str + len(strings), off_st, off_str, 40, 17, 16, 0,
                      len(strings), len(st))
    return hdr + b"\0" * 16 + bytes(st) + bytes(strings)


def generic_malta_elf(kernel, initrd, bootargs, out):
    """One ELF for QEMU's Malta -kernel holding the Generic kernel's
    segments, a DTB, the initramfs and a trampoline (the entry) that
    sets a0 = -2 (UHI), a1 = the DTB and jumps to the kernel's entry.
    The DTB describes 256 MiB of RAM, the CPU interrupt controller (CP0
    timer) and Malta's ISA 16550 at 0x180003f8 without an interrupt (the
    i8259 behind it is not described), so the 8250 driver polls it."""
    dtb_pa, initrd_pa, tramp_pa = 0x0F000000, 0x0C000000, 0x0FFF0000
    kseg0 = lambda pa: 0xFFFFFFFF80000000 | pa
    with open(initrd, "rb") as f:
        ird = f.read()
    dtb = fdt_blob(("", [("#address-cells", [2]), ("#size-cells", [2]),
                         ("compatible", "disco,qemu-malta-bench"), ("model", "QEMU Malta (disco bench)")], [
        ("cpus", [("#address-cells", [1]), ("#size-cells", [0])], [
            ("cpu@0", [("device_type", "cpu"), ("compatible", "mti,mips64r2"), ("reg", [0]),
                       ("clocks", [1])], [])]),
        ("cpuclk", [("compatible", "fixed-clock"), ("#clock-cells", [0]),
                    ("clock-frequency", [320000000]), ("phandle", [1])], []),
        ("memory@0", [("device_type", "memory"), ("reg", [0, 0, 0, 0x10000000])], []),
        ("interrupt-controller", [("compatible", "mti,cpu-interrupt-controller"),
                                  ("interrupt-controller", b""), ("#interrupt-cells", [1]),
                                  ("#address-cells", [0]), ("phandle", [2])], []),
        ("serial@180003f8", [("compatible", "ns16550a"), ("reg", [0, 0x180003F8, 0, 8]),
                             ("clock-frequency", [1843200])], []),
        ("chosen", [("bootargs", bootargs), ("stdout-path", "/serial@180003f8:115200"),
                    ("linux,initrd-start", [0, initrd_pa]),
                    ("linux,initrd-end", [0, initrd_pa + len(ird)])], []),
    ]))
    with open(kernel, "rb") as f:
        k = f.read()
    entry, phoff = struct.unpack_from("<QQ", k, 24)
    phentsize, phnum = struct.unpack_from("<HH", k, 54)
    segs = []
    for i in range(phnum):
        p_type, _, p_off, p_vaddr, _, p_filesz, p_memsz, _ = struct.unpack_from(
            "<IIQQQQQQ", k, phoff + i * phentsize)
        if p_type == 1:  # PT_LOAD
            segs.append((p_vaddr, k[p_off:p_off + p_filesz], p_memsz))
    a1 = kseg0(dtb_pa)
    code = [0x6404FFFE,                        # daddiu a0, zero, -2
            0x3C050000 | (a1 >> 16 & 0xFFFF),  # lui    a1, %hi(DTB)   (sign-extends)
            0x00003025, 0x00003825,            # move   a2, zero; move a3, zero
            0x3C190000 | (entry >> 16 & 0xFFFF),  # lui t9, %hi(entry)
            0x37390000 | (entry & 0xFFFF),     # ori    t9, t9, %lo(entry)
            0x03200008, 0]                     # jr     t9; nop
    segs = ([(kseg0(tramp_pa), b"".join(struct.pack("<I", c) for c in code), 32)] + segs +
            [(kseg0(dtb_pa), dtb, len(dtb)), (kseg0(initrd_pa), ird, len(ird))])
    off = 64 + 56 * len(segs)
    ph, body = bytearray(), bytearray()
    for va, data, memsz in segs:
        ph += struct.pack("<IIQQQQQQ", 1, 7, off + len(body), va, va, len(data), max(memsz, len(data)), 8)
        body += data + b"\0" * (-len(data) % 8)
    eh = (b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8 +
          struct.pack("<HHIQQQIHHHHHH", 2, 8, 1, kseg0(tramp_pa), 64, 0, 0x80000007, 64, 56, len(segs), 64, 0, 0))
    with open(out, "wb") as f:
        f.write(eh + ph + body)


def engine_command(engine, args, initrd, only_word, qemu_kernel):
    append = "disco.bench=" + only_word
    if engine == "qemu-generic":
        elf = os.path.join(CACHE, "generic-malta.elf")
        generic_malta_elf(os.path.join(IMAGE, "vmlinuz"), initrd, "console=ttyS0,115200 " + append, elf)
        return [QEMU, "-M", "malta", "-cpu", "MIPS64R2-generic", "-m", "256", "-kernel", elf,
                "-display", "none", "-serial", "stdio", "-monitor", "none", "-nic", "none", "-vga", "none", "-no-reboot"]
    if engine == "qemu-5kc":
        return [QEMU, "-M", "malta", "-cpu", "5KEc", "-m", str(MEM_MB),
                "-kernel", qemu_kernel, "-initrd", initrd,
                "-append", "console=ttyS0 " + append,
                "-display", "none", "-serial", "stdio", "-monitor", "none",
                "-nic", "none", "-vga", "none", "-no-reboot"]
    binary, extra = args.disco, shlex.split(args.disco_args)
    if engine.endswith("@base"):
        binary, engine = args.baseline, engine[:-len("@base")]
        extra = shlex.split(args.baseline_args)
    return [binary, "run", "--engine", engine, "--stats",
            "--kernel", os.path.join(IMAGE, "vmlinuz"), "--initrd", initrd,
            "--mem", "%dM" % MEM_MB, "--append", append,
            "--timeout", str(int(args.timeout))] + extra


# --- one run --------------------------------------------------------------

def run_once(cmd, timeout, log_path, grace=60, silence=300):
    """Run cmd, timestamp console lines as they arrive.  Returns a dict
    with per-workload seconds, results, and diagnostics."""
    times, starts, results, notes = {}, {}, {}, []
    done_at = None
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, bufsize=0, start_new_session=True)
    fd = p.stdout.fileno()
    buf = b""
    timed_out = False
    timeline = []  # (host seconds, line): written next to the log
    last_out = t0
    with open(log_path, "wb") as log:
        while True:
            now = time.monotonic()
            left = t0 + timeout - now
            left = min(left, last_out + silence - now)  # a hung guest
            if done_at is not None:  # the suite finished; allow the power-off
                left = min(left, done_at + grace - now)
            if left <= 0:
                timed_out = done_at is None
                if timed_out:
                    log.write(b"\n[bench: killed: no BENCH-DONE (timeout or %d s of silence)]\n" % silence)
                os.killpg(p.pid, signal.SIGKILL)
                break
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            data = os.read(fd, 65536)
            now = time.monotonic() - t0
            if not data:
                break
            last_out = time.monotonic()
            log.write(data)
            buf += data
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode("utf-8", "replace").rstrip("\r")
                timeline.append((now, line))
                if "boot" not in times and any(mk in line for mk in BOOT_MARKERS):
                    times["boot"] = now
                m = MARKER_RE.search(line)
                if m:
                    kind, name = m.groups()
                    if kind == "START":
                        starts[name] = now
                    elif name in starts:
                        times[name] = now - starts[name]
                m = RESULT_RE.search(line)
                if m:
                    results[m.group(1)] = m.group(2).strip()
                if "BENCH-DONE" in line or re.search(r"reboot: (System halted|Power down)", line):
                    done_at = time.monotonic()
                m = re.search(r"disco: (\d+) instructions in", line)
                if m:
                    notes.append(line.strip())
                if ("boot" in times and not line.startswith("BENCH-") and
                        re.search(r"(?i)panic|oops|bug:|unhandled|fault|illegal|"
                                  r"bus error|killed|error|can't|not found", line)):
                    notes.append(line.strip())
    rc = p.wait()
    total = time.monotonic() - t0
    with open(os.path.splitext(log_path)[0] + ".timeline", "w") as f:
        for t, line in timeline:
            f.write("%9.3f %s\n" % (t, line))
    return {"times": times, "results": results, "notes": notes, "rc": rc,
            "timed_out": timed_out, "done": done_at is not None, "total": total}


# --- report ---------------------------------------------------------------

def fmt_s(vals):
    if not vals:
        return "-"
    med = statistics.median(vals)
    s = "%.2f" % med
    if len(vals) > 1 and med > 0:
        s += " ±%d%%" % round(100 * (max(vals) - min(vals)) / 2 / med)
    return s


def geomean(xs):
    xs = [x for x in xs if x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def say_binary(what, path):
    """Which binary runs, when it was built, and whether a source file is
    newer (a stale build dir, e.g. build/ when one works in build-dev/)."""
    built = os.path.getmtime(path)
    newest, newest_path = 0.0, None
    for root, _, files in os.walk(os.path.join(REPO, "src")):
        for name in files:
            t = os.path.getmtime(os.path.join(root, name))
            if t > newest:
                newest, newest_path = t, os.path.join(root, name)
    stamp = datetime.datetime.fromtimestamp(built).strftime("%Y-%m-%d %H:%M")
    stale = ""
    if newest > built:
        stale = "; WARNING: %s is newer: rebuild?" % os.path.relpath(newest_path, REPO)
    say("bench: %s = %s (built %s%s)" % (what, os.path.relpath(path), stamp, stale))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs per engine; the median is shown (default 3)")
    ap.add_argument("--engine", help="one disco engine (interp | jit)")
    ap.add_argument("--engines", default="interp", help="comma-separated disco engines (default interp)")
    ap.add_argument("--only", help="comma-separated workloads: " + ", ".join(WORKLOADS))
    ap.add_argument("--no-qemu", action="store_true", help="do not run QEMU even if installed")
    ap.add_argument("--qemu", default="malta,generic",
                    help="QEMU setups, comma-separated: malta (-cpu 5KEc, Debian's 5kc-malta "
                         "kernel), generic (-cpu MIPS64R2-generic, the same Generic kernel as disco "
                         "via a trampoline ELF); default both")
    ap.add_argument("--json", metavar="FILE", help="write all runs and medians as JSON")
    ap.add_argument("--disco", default=os.path.join(REPO, "build", "src", "disco"),
                    help="the disco binary (default build/src/disco)")
    ap.add_argument("--disco-args", default="", metavar="ARGS",
                    help="more disco run options for the disco columns, e.g. '--numa-model off'")
    ap.add_argument("--baseline-args", default="", metavar="ARGS",
                    help="more disco run options for the @base columns (--baseline may then be the same\n"
                         "binary: e.g. --baseline build/src/disco --baseline-args '--numa-model off')")
    ap.add_argument("--baseline", metavar="DISCO",
                    help="an older disco binary: each engine also runs on it (column ENGINE@base), "
                         "interleaved run by run, with the ratio ENGINE/ENGINE@base")
    ap.add_argument("--qemu-kernel", help="kernel for QEMU Malta (default: Debian's %s, fetched)" % MALTA_META)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per boot (default 1800)")
    args = ap.parse_args()

    engines = [args.engine] if args.engine else [e for e in args.engines.split(",") if e]
    for e in engines:
        if e not in ("interp", "jit"):
            ap.error("unknown engine %r (interp, jit)" % e)
    only = WORKLOADS
    if args.only:
        only = [w for w in args.only.split(",") if w]
        for w in only:
            if w not in WORKLOADS:
                ap.error("unknown workload %r (%s)" % (w, ", ".join(WORKLOADS)))
    guest = [w for w in GUEST_WORKLOADS if w in only]
    only_word = ",".join(guest) if guest else "none"
    if not os.access(args.disco, os.X_OK):
        sys.exit("bench: %s not built (ninja -C build)" % args.disco)

    ensure_default_image()
    initrd = make_initrd()
    columns = list(engines)
    if args.baseline:
        if not os.access(args.baseline, os.X_OK):
            sys.exit("bench: --baseline %s is not an executable" % args.baseline)
        columns += ["%s@base" % e for e in engines]
    qemu_kernel = None
    if args.no_qemu:
        pass
    elif not shutil.which(QEMU):
        say("bench: %s not installed (apt-get install qemu-system-mips); disco only" % QEMU)
    else:
        kinds = [k for k in args.qemu.split(",") if k]
        for k in kinds:
            if k not in ("malta", "generic"):
                ap.error("unknown --qemu setup %r (malta, generic)" % k)
        if "malta" in kinds:
            qemu_kernel = args.qemu_kernel or malta_kernel()
            if qemu_kernel:
                columns.append("qemu-5kc")
            else:
                say("bench: no Malta kernel; skipping QEMU malta")
        if "generic" in kinds:
            columns.append("qemu-generic")

    logdir = os.path.join(CACHE, "logs")
    os.makedirs(logdir, exist_ok=True)
    expect = expected_results()
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    except (OSError, AttributeError):
        pass
    say("bench: %s, %d cores, load %s; %d run(s) of %s on %s" % (
        cpu, os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg()),
        args.runs, ",".join(only), ", ".join(columns)))

    say_binary("disco", args.disco)
    if args.baseline:
        say_binary("baseline", args.baseline)

    runs = {c: [] for c in columns}
    problems = []
    for i in range(args.runs):
        for c in columns:
            cmd = engine_command(c, args, initrd, only_word, qemu_kernel)
            log = os.path.join(logdir, "%s-%d.log" % (c, i + 1))
            r = run_once(cmd, args.timeout, log, 3 if c == "qemu-generic" else 60)
            runs[c].append(r)
            say("bench: %-6s run %d: %s (total %.1f s, rc %d)%s" % (
                c, i + 1, "  ".join("%s %.2f" % (w, r["times"][w]) for w in only if w in r["times"]),
                r["total"], r["rc"], "" if r["done"] or not guest else "  INCOMPLETE, see " + log))
            for n in r["notes"]:
                if not n.startswith("disco: ") or "instructions" not in n:
                    say("bench:   console: %s" % n)
            # correctness of what the guest computed
            res = r["results"]
            where = "%s run %d" % (c, i + 1)
            if "sha256" in guest and res.get("sha256") != expect["sha256"]:
                problems.append("%s: sha256 gave %r, expected %s" % (where, res.get("sha256"), expect["sha256"]))
            if "gzip" in guest:
                g = res.get("gzip", "").split()
                if len(g) != 3 or g[2] != expect["gzip-roundtrip"]:
                    problems.append("%s: gzip round trip gave %r" % (where, res.get("gzip")))
            if "fork" in guest and res.get("fork") != expect["fork"]:
                problems.append("%s: fork loop gave %r" % (where, res.get("fork")))
            missing = [w for w in only if w not in r["times"]]
            if missing:
                problems.append("%s: no time for %s (log %s)" % (where, ",".join(missing), log))
    # gzip output must be the same bytes everywhere (same busybox)
    gz = {(c, i + 1): r["results"].get("gzip") for c in columns for i, r in enumerate(runs[c])
          if r["results"].get("gzip")}
    if len(set(gz.values())) > 1:
        problems.append("gzip output differs between runs/engines: %s" % gz)

    # table
    med = {c: {w: statistics.median([r["times"][w] for r in runs[c] if w in r["times"]])
               for w in only if any(w in r["times"] for r in runs[c])} for c in columns}
    head = ["workload"] + ["%s s" % c for c in columns]
    qcols = [q for q in ("qemu-5kc", "qemu-generic") if q in columns]
    ratio_cols = ["%s/%s" % (c, q) for q in qcols for c in engines]
    if args.baseline:
        ratio_cols += ["%s/%s@base" % (e, e) for e in engines]
    head += ratio_cols
    rows = []
    ratios = {rc: {} for rc in ratio_cols}
    for w in only:
        row = [w] + [fmt_s([r["times"][w] for r in runs[c] if w in r["times"]]) for c in columns]
        for rc in ratio_cols:
            c, q = rc.split("/")
            if w in med[c] and w in med[q] and med[q][w] > 0:
                ratios[rc][w] = med[c][w] / med[q][w]
                row.append("%.2f" % ratios[rc][w])
            else:
                row.append("-")
        rows.append(row)
    if ratio_cols:
        row = ["geomean"] + [""] * len(columns)
        for c in ratio_cols:
            g = geomean(list(ratios[c].values()))
            row.append("%.2f" % g if g else "-")
        rows.append(row)
    widths = [max(len(r[k]) for r in [head] + rows) for k in range(len(head))]
    line = lambda r: "  ".join(r[0].ljust(widths[0]) if k == 0 else r[k].rjust(widths[k])
                               for k in range(len(r)))
    print("Linux guest benchmark: seconds (median of %d%s), host %s, %d cores" % (
        args.runs, ", ±half-range" if args.runs > 1 else "", cpu, os.cpu_count()))
    print(line(head))
    print("  ".join("-" * wd for wd in widths))
    for r in rows:
        print(line(r))
    if problems:
        print("\nproblems:")
        for p in problems:
            print("  " + p)
    say("bench: console logs in %s" % os.path.relpath(logdir, os.getcwd()))

    if args.json:
        doc = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host": {"cpu": cpu, "cores": os.cpu_count(), "loadavg_end": os.getloadavg()},
            "runs": args.runs, "workloads": only, "columns": columns,
            "qemu_kernel": qemu_kernel,
            "median_seconds": med, "ratios_vs_qemu": ratios,
            "geomean_vs_qemu": {c: geomean(list(ratios[c].values())) for c in ratio_cols},
            "all_runs": {c: [{k: r[k] for k in ("times", "results", "rc", "total", "notes")}
                             for r in runs[c]] for c in columns},
            "problems": problems,
        }
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
