#!/usr/bin/env python3
"""SMP guests on a machine: two Debian VMs with two vCPUs each.

The machine's scheduler runs every vCPU of every VM on the modelled
processors (docs/architecture.md, "Scheduling virtual CPUs"). Each VM boots
the default image with /bin/sh as its init running `nproc` and
`poweroff -f` (given on the kernel command line: the console's --input
only reaches one VM), so both guests must bring up their second CPU, print
"nproc: 2" and power off, which ends in the kernel's halt on this board.

Three runs:
- 2 VMs x 2 vCPUs on 2 nodes x 2 processors: a host thread per processor;
- the same 4 vCPUs time-sliced on 1 node x 2 processors (--overcommit);
- one VM with 2 vCPUs without a machine (Vm::run, a thread per vCPU).
Each checks the consoles and the per-vCPU statistics (--stats-file /
--stats=json): both vCPUs of every VM started, ran instructions and slices.

usage: smp_machine.py DISCO_EXE SOURCE_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

# No '=' or '.' in the words after rdinit: the kernel passes such words on
# to init as arguments (a word with '=' would be an environment variable).
INIT = 'rdinit=/bin/sh -c "echo nproc: $(nproc); poweroff -f"'


def fail(msg, detail=""):
    if detail:
        sys.stdout.write(detail[-4000:] + "\n")
    print(f"FAIL: {msg}")
    sys.exit(1)


def run(cmd, timeout):
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout + 60)
    out = r.stdout.decode("utf-8", "replace")
    print(f"  {time.monotonic() - t0:.1f} s, exit {r.returncode}")
    if r.returncode != 0:
        fail(f"disco exited with status {r.returncode}", out)
    return out


def check_console(name, text):
    for pattern, what in [(r"smp: Brought up 1 node, 2 CPUs", "the second CPU came up"),
                          (r"nproc: 2\b", "nproc printed 2")]:
        if not re.search(pattern, text):
            fail(f"{name}: missing {what} (/{pattern}/)", text)
    for bad in ("Kernel panic", "BUG:"):
        if bad in text:
            fail(f"{name}: the console shows '{bad}'", text)
    # Guest time is host time: a host busy with other work can stall a vCPU
    # long enough for the kernel to complain, so these are only reported.
    for slow in ("rcu_sched detected stalls", "soft lockup"):
        if slow in text:
            print(f"  warning: {name}: the console shows '{slow}' (a loaded host?)")


def check_vcpus(name, vcpus, machine):
    if len(vcpus) != 2:
        fail(f"{name}: {len(vcpus)} vCPUs in the statistics, not 2", json.dumps(vcpus))
    for c in vcpus:
        if c["instructions"] <= 0 or c["run_seconds"] <= 0 or c["host_tid"] <= 0:
            fail(f"{name}: vCPU {c['index']} did not run", json.dumps(vcpus))
        if machine and (not c["started"] or c["slices"] <= 0 or c["processor"] < 0):
            fail(f"{name}: vCPU {c['index']} got no slices", json.dumps(vcpus))
    print(f"  {name}: " + ", ".join(f"vCPU {c['index']} {c['instructions'] / 1e6:.0f} M instructions" for c in vcpus))


def machine_run(disco, img, tmp, label, machine_args):
    logs = os.path.join(tmp, label)
    stats = os.path.join(tmp, label + ".json")
    out = run([disco, "run", "--vms", "2", "--smp", "2"] + machine_args +
              ["--append", INIT, "--console", "none", "--console-dir", logs, "--stats-file", stats,
               "--timeout", "120"], 120)
    for vm in ("vm0", "vm1"):
        if f"disco: {vm}: halted" not in out:
            fail(f"{vm} did not power off (halt)", out)
        with open(os.path.join(logs, vm + ".log"), errors="replace") as f:
            check_console(vm, f.read())
    with open(stats) as f:
        st = json.load(f)
    m = st["machine"]
    for v in st["vms"]:
        check_vcpus(v["name"], v["vcpus"], True)
        if v["instructions"] != sum(c["instructions"] for c in v["vcpus"]):
            fail(f"{v['name']}: instructions are not the sum over its vCPUs", json.dumps(v))
    return m


def main():
    disco, src = sys.argv[1], sys.argv[2]
    img = os.path.join(src, "cache", "default")
    if not os.path.exists(os.path.join(img, ".complete")):
        if subprocess.run([os.path.join(src, "images", "build-default.sh"), img]).returncode != 0:
            fail("images/build-default.sh failed")
    with tempfile.TemporaryDirectory(prefix="disco-smp-machine-") as tmp:
        # A processor for every vCPU: four host threads.
        m = machine_run(disco, img, tmp, "spread", ["--cpus-per-node", "2"])
        if m["host_threads"] != 4 or len([p for p in m["processors"] if p["slices"] > 0]) < 2:
            fail("expected 4 processors on host threads, most of them busy", json.dumps(m["processors"]))
        # Four vCPUs take turns on two processors.
        m = machine_run(disco, img, tmp, "sliced", ["--nodes", "1", "--cpus-per-node", "2", "--overcommit"])
        if m["host_threads"] != 2 or any(p["slices"] == 0 for p in m["processors"]):
            fail("expected 2 busy processors on host threads", json.dumps(m["processors"]))
        # One VM, no machine: --stats=json lists its vCPUs.
        out = run([disco, "run", "--smp", "2", "--append", INIT, "--stats=json", "--timeout", "120"], 120)
        check_console("single VM", out)
        line = next((l for l in out.splitlines() if l.startswith("{")), None)
        if not line:
            fail("no --stats=json line", out)
        check_vcpus("single VM", json.loads(line)["vcpus"], False)
    print("PASS")


if __name__ == "__main__":
    main()
