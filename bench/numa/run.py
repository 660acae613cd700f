#!/usr/bin/env python3
"""The paper's NUMA experiment (Disco, SOSP '97, Fig. 8 and Table 3) on the
modelled ccNUMA machine: two kinds of workload, each run with the NUMA
policy off and on, side by side in one invocation.

  engineering  NODES uniprocessor VMs, one per node, each running
               bench/numa/guest/eng.c (a compile's symbol tables and a
               compressor's match finding). Their pages start spread over
               all nodes (placement = "interleave": what a NUMA-unaware OS
               gets), so most misses are remote until Disco migrates the
               pages a VM uses to its node and replicates the read-shared
               ones (kernel text and data merged between the VMs).
  raytrace     one VM with NODES vCPUs, one per node, running
               bench/numa/guest/ray.c (threads reading a scene the main
               thread built, writing their own image rows). Its memory is
               on its home node (placement = "home"), so vCPUs elsewhere
               miss remotely until Disco replicates the scene and migrates
               each thread's rows to its node.

Each run boots the default Debian image on `disco run --config <machine
file>` with the workload in the initramfs; the guest prints NUMA-MARK
before the workload starts and powers off after it, and `--stats-mark
NUMA-MARK` makes the statistics report each VM's counters since its mark
("numa_since_mark"): the boot is not counted.

Reported per workload and policy: the share of cache misses served
locally, the modelled time (the processors' busy time: instructions x
insn_ns + misses x latency + the policy's own costs; the paper's Fig. 8
bars without idle) and its breakdown, migrations, replications,
collapses, and the host seconds of the run. Figures go to
bench/numa/results/ (ignored): fig8.png (breakdown, policy off = 100),
table3.png (local-miss share), results.json and a Markdown table that
bench/numa/README.md quotes.

usage: run.py DISCO_EXE SOURCE_DIR [--workloads engineering,raytrace]
              [--nodes 4] [--scale 1] [--engine jit] [--timeout 900]
              [--set KEY=VALUE ...]   ([numa] keys for both runs)
Standard library, plus python3-matplotlib for the pictures.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CROSS_CC = "mips64el-linux-gnuabi64-gcc"
CFLAGS = ["-O2", "-static", "-pthread", "-Wall", "-Wextra"]

PROFILE = """\
# /root/.profile added by bench/numa/run.py: with disco.numa=WORKLOAD:SCALE
# on the kernel command line, run the workload once and power off.
w=$(sed -n 's/.*disco\\.numa=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
if [ -n "$w" ] && [ ! -e /run/numa-started ]; then
	: >/run/numa-started
	rest=${w#*:}
	scale=${rest%%:*}
	seed=0
	[ "$rest" != "$scale" ] && seed=${rest#*:}
	# Large heaps on huge pages, as a user of such a workload would have
	# them (Linux turns THP off below 512 MiB of RAM): without, the guest
	# kernel spends more time refilling the 64-entry TLB than the workload
	# computes.
	echo always >/sys/kernel/mm/transparent_hugepage/enabled
	echo "NUMA-MARK"
	case $w in
	eng:*) /numa/eng "$scale" "$seed" ;;
	ray:*) /numa/ray "$(nproc)" "$scale" ;;
	esac
	echo "NUMA-END rc=$?"
	sleep 1
	poweroff -f
fi
"""


def say(msg):
    print(msg, flush=True)


def die(msg):
    print(f"bench/numa: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def build_programs(cache):
    cc = shutil.which(CROSS_CC)
    if not cc:
        die(f"{CROSS_CC} not found (apt-get install gcc-mips64el-linux-gnuabi64)")
    out = {}
    for name in ("eng", "ray"):
        src = os.path.join(HERE, "guest", name + ".c")
        exe = os.path.join(cache, name)
        if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
            cmd = [cc] + CFLAGS + ["-o", exe + ".tmp", src]
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                die(f"compiling {src} failed:\n{r.stdout}")
            os.replace(exe + ".tmp", exe)
        out[name] = exe
    return out


def make_initrd(src, img, cache, progs):
    """The default initrd.gz followed by a second gzip'd newc cpio with the
    programs and the profile (Linux unpacks concatenated archives in order)."""
    sys.path.insert(0, os.path.join(src, "images"))
    import mkcpio
    entries = [("numa", 0o040755, b"")]
    for name, exe in sorted(progs.items()):
        with open(exe, "rb") as f:
            entries.append(("numa/" + name, 0o100755, f.read()))
    entries += [("root", 0o040700, b""), ("root/.profile", 0o100644, PROFILE.encode())]
    return mkcpio.overlay_initrd(os.path.join(img, "initrd.gz"), os.path.join(cache, "initrd-numa.gz"), entries)


def machine_file(path, kind, policy, nodes, scale, img, initrd, numa_set):
    kernel = os.path.join(img, "vmlinuz")
    lines = ["[machine]", f"nodes = {nodes}", "cpus_per_node = 1", "",
             "[numa]", f'policy = "{policy}"',
             f'placement = "{"interleave" if kind == "engineering" else "home"}"'] + numa_set + [""]
    if kind == "engineering":
        for i in range(nodes):  # one per node, each with its own seed
            lines += ["[[vm]]", f'name = "eng{i}"', 'mem = "256M"', f"home_node = {i}",
                      f'kernel = "{kernel}"', f'initrd = "{initrd}"',
                      f'append = "disco.numa=eng:{scale}:{i + 1}"', ""]
    else:
        lines += ["[[vm]]", 'name = "ray"', f"vcpus = {nodes}", 'mem = "512M"', "home_node = 0",
                  f'kernel = "{kernel}"', f'initrd = "{initrd}"', f'append = "disco.numa=ray:{scale}"']
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def run_one(disco, cfg, out_dir, tag, engine, timeout):
    consoles = os.path.join(out_dir, "consoles-" + tag)
    stats_file = os.path.join(out_dir, "stats-" + tag + ".json")
    shutil.rmtree(consoles, ignore_errors=True)
    cmd = [disco, "run", "--config", cfg, "--engine", engine, "--console", "none",
           "--console-dir", consoles, "--stats-file", stats_file, "--stats-mark", "NUMA-MARK",
           "--timeout", str(timeout)]
    say("$ " + " ".join(cmd))
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    secs = time.monotonic() - t0
    if r.returncode != 0:
        die(f"{tag}: disco exited with {r.returncode}:\n{r.stdout[-3000:]}")
    results = {}
    for log in sorted(os.listdir(consoles)):
        with open(os.path.join(consoles, log), errors="replace") as f:
            text = f.read()
        found = [l.split()[1] for l in text.splitlines() if l.startswith(("ENG-RESULT", "RAY-RESULT"))]
        if not found or "NUMA-END rc=0" not in text:
            die(f"{tag}: {log} shows no result (see {consoles})")
        results[log] = found[-1]
    with open(stats_file) as f:
        stats = json.load(f)
    return stats, results, secs


def summarize(stats):
    """Sums each VM's counters since its mark."""
    keys = ("local_misses", "remote_misses", "migrations", "replications", "collapses")
    tkeys = ("user", "kernel", "idle", "local_stall", "remote_stall", "policy")
    s = {k: 0 for k in keys}
    t = {k: 0.0 for k in tkeys}
    for vm in stats["vms"]:
        n = vm.get("numa_since_mark")
        if n is None:
            die(f"VM {vm['name']} never printed its mark")
        for k in keys:
            s[k] += n[k]
        for k in tkeys:
            t[k] += n["time"][k]
    misses = s["local_misses"] + s["remote_misses"]
    s["local_share"] = s["local_misses"] / misses if misses else 0.0
    s["time"] = t
    s["modelled_seconds"] = sum(v for k, v in t.items() if k != "idle")
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("disco")
    ap.add_argument("source")
    ap.add_argument("--workloads", default="engineering,raytrace")
    ap.add_argument("--nodes", type=int, default=4)
    ap.add_argument("--scale", type=int, default=1,
                    help="work per workload (default 1: engineering runs its program at scale 3 and\n"
                         "raytrace at 6, long enough for the pages' one-time moves to be paid back)")
    ap.add_argument("--engine", default="jit")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a [numa] key for both runs, e.g. --set trigger=32 (docs/machine-config.md)")
    args = ap.parse_args()
    for kv in args.set:
        if "=" not in kv:
            die(f"--set {kv!r}: expected KEY=VALUE")
    src = os.path.abspath(args.source)
    sys.path.insert(0, os.path.join(src, "tests", "linux"))
    import smp_stress
    img = smp_stress.build_image(src)
    cache = os.path.join(src, "cache", "numa")
    out_dir = os.path.join(HERE, "results")
    os.makedirs(cache, exist_ok=True)
    os.makedirs(out_dir, exist_ok=True)
    initrd = make_initrd(src, img, cache, build_programs(cache))
    table = {}
    for kind in args.workloads.split(","):
        if kind not in ("engineering", "raytrace"):
            die(f"--workloads: unknown workload {kind!r} (engineering, raytrace)")
        row = {}
        for policy in ("off", "both"):
            cfg = os.path.join(cache, f"{kind}-{policy}.toml")
            # Raytrace twice as long: its scene is built by one thread
            # before the render, and the render is what the policy helps.
            scale = args.scale * (6 if kind == "raytrace" else 3)
            machine_file(cfg, kind, policy, args.nodes, scale, img, initrd, args.set)
            stats, results, secs = run_one(args.disco, cfg, out_dir, f"{kind}-{policy}", args.engine, args.timeout)
            s = summarize(stats)
            s["host_seconds"] = secs
            s["results"] = results
            row[policy] = s
            say(f"{kind:12} policy {policy:4}: local {100 * s['local_share']:5.1f}%  "
                f"modelled {s['modelled_seconds']:8.3f} s  migrations {s['migrations']}  "
                f"replications {s['replications']}  collapses {s['collapses']}  host {secs:6.1f} s")
        if row["off"]["results"] != row["both"]["results"]:
            die(f"{kind}: the workload's results differ between policy off and on: "
                f"{row['off']['results']} vs {row['both']['results']}")
        row["time_ratio"] = row["both"]["modelled_seconds"] / row["off"]["modelled_seconds"]
        table[kind] = row
        say(f"{kind:12} modelled time on/off {row['time_ratio']:.2f}; local misses "
            f"{100 * row['off']['local_share']:.0f}% -> {100 * row['both']['local_share']:.0f}%")
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(table, f, indent=1)
    write_table(table, os.path.join(out_dir, "table.md"))
    try:
        import plot
        plot.draw(table, out_dir)
    except ImportError as e:
        say(f"no pictures: {e} (apt-get install python3-matplotlib)")


def write_table(table, path):
    rows = ["| workload | policy | local misses | modelled time | user | kernel | local stall | remote stall "
            "| policy cost | migrations | replications | collapses | host s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for kind, row in table.items():
        base = row["off"]["modelled_seconds"]
        for policy in ("off", "both"):
            s = row[policy]
            t = s["time"]
            pct = lambda v: f"{100 * v / base:.0f}"
            rows.append(f"| {kind} | {policy} | {100 * s['local_share']:.0f}% | {pct(s['modelled_seconds'])} "
                        f"| {pct(t['user'])} | {pct(t['kernel'])} | {pct(t['local_stall'])} | {pct(t['remote_stall'])} "
                        f"| {pct(t['policy'])} | {s['migrations']} | {s['replications']} | {s['collapses']} "
                        f"| {s['host_seconds']:.0f} |")
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")
    say("\n".join(rows))


if __name__ == "__main__":
    main()
