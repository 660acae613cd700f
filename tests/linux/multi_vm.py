#!/usr/bin/env python3
"""Several Debian guests on one disco machine, with page sharing.

Boots N copies of the default image (JIT) to their shell prompt in one
process, lets the sharing scan settle, and asserts on the statistics: every
VM reached its prompt (per-VM console logs), identical pages are stored once
(machine memory well below the guests' memory in use), copy-on-write breaks
happened (the guests write to pages that had been shared) and the boot
images were mapped from the machine's cache, not loaded again.

Sub-page sharing: vm0's shell sleeps at its prompt while the scan runs
(fast), so cold kernel pages that differ from vm1's in a few words are
stored as patches; then vm0 walks tracefs, /proc and the file system,
which reads many of them back (patch_faults), and must finish normally.

usage: multi_vm.py DISCO_EXE SOURCE_DIR [--vms N]
"""
import json
import os
import subprocess
import sys
import tempfile
import time


def fail(msg, detail=""):
    if detail:
        sys.stdout.write(detail[-4000:] + "\n")
    print(f"FAIL: {msg}")
    sys.exit(1)


def main():
    disco, src = sys.argv[1], sys.argv[2]
    n = int(sys.argv[sys.argv.index("--vms") + 1]) if "--vms" in sys.argv else 2
    img = os.path.join(src, "cache", "default")
    if not os.path.exists(os.path.join(img, ".complete")):
        if subprocess.run([os.path.join(src, "images", "build-default.sh"), img]).returncode != 0:
            fail("images/build-default.sh failed")
    with tempfile.TemporaryDirectory(prefix="disco-multi-") as tmp:
        logs = os.path.join(tmp, "consoles")
        stats = os.path.join(tmp, "stats.json")
        script = os.path.join(tmp, "input.txt")
        with open(script, "w") as f:
            f.write("sleep 8\n"
                    "ls -lR /sys/kernel/tracing /proc/sys >/dev/null 2>&1; find / -xdev | wc -l; "
                    "cat /proc/slabinfo /proc/meminfo >/dev/null; echo MULTI-$((6*7))-DONE\n")
        # --console vm0: the input and --until are about vm0.
        cmd = [disco, "run", "--vms", str(n), "--engine", "jit", "--until", "MULTI-42-DONE", "--settle",
               "--console", "vm0", "--input", script, "--scan-rate", "400000",
               "--console-dir", logs, "--stats-file", stats, "--timeout", "240"]
        print("$ " + " ".join(cmd), flush=True)
        t0 = time.monotonic()
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=400)
        out = r.stdout.decode("utf-8", "replace")
        print(out)
        print(f"{n} VMs to their prompt in {time.monotonic() - t0:.1f} s")
        if r.returncode != 0:
            fail(f"disco exited with status {r.returncode}", out)
        for i in range(n):
            with open(os.path.join(logs, f"vm{i}.log"), errors="replace") as f:
                log = f.read()
            if "disco# " not in log:
                fail(f"vm{i} never showed its prompt", log)
            if "Linux version 6.1" not in log:
                fail(f"vm{i}'s console log lacks the kernel banner", log)
        with open(stats) as f:
            st = json.load(f)
        m = st["machine"]
        vms = st["vms"]
        touched = sum(v["guest_pages_touched"] for v in vms)
        print(json.dumps(m, indent=1))
        checks = [
            (len(vms) == n, f"{len(vms)} VMs in the statistics"),
            (all(v["state"] == "running" for v in vms), "every VM still running at the prompt"),
            (m["image_cache_hits"] >= 2 * (n - 1), "later VMs mapped kernel and initrd from the cache"),
            (m["merges"] > 0 and m["shared_pages"] > 0, "the scan shared pages"),
            (m["cow_breaks"] > 0, "guest writes broke copy-on-write"),
            # Two identical guests: at least a fifth of their memory is stored once.
            (m["machine_pages_used"] < 0.8 * touched,
             f"machine pages {m['machine_pages_used']} < 0.8 x guest pages in use {touched}"),
            (all(v["shared_pages"] > 0 for v in vms), "every VM maps shared pages"),
            (m["patched_pages"] > 0 and m["patch_bytes"] > 0, "cold pages are stored as patches"),
            (vms[0]["patch_faults"] > 0, "vm0 read patched pages back (rebuilt on access)"),
            (m["machine_bytes_used"] == m["machine_pages_used"] * 4096 + m["patch_bytes"],
             "machine memory in use counts the patches"),
        ]
        for ok, what in checks:
            print(("  ok: " if ok else "  FAILED: ") + what)
        if not all(ok for ok, _ in checks):
            fail("statistics do not show sharing")
        print("PASS")


if __name__ == "__main__":
    main()
