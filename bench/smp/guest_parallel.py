#!/usr/bin/env python3
"""An SMP guest's parallel speed-up: one boot of the default Debian guest
with --smp 2 (or --smp N) runs two sha256sum one after the other and the
same two at once, alternating, several rounds. The host stamps the
guest's PAR-START / PAR-END console lines as they arrive and reports the
median of each, and parallel/sequential (issue 14's benchmark (b): the
target is <= 0.6, i.e. near two vCPUs' worth of work at once). The two
files are 64 MiB each, made in tmpfs before the first round (not timed);
every round's sums must agree.

Usage: bench/smp/guest_parallel.py [--smp N] [--rounds R] [--engine jit|interp]
                                   [--disco PATH] [--json FILE]
Standard library only; reuses tests/linux/smp_stress.py for the image,
the initramfs member and the stamped boot.
"""

import argparse
import importlib.util
import json
import os
import re
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
_spec = importlib.util.spec_from_file_location("smp_stress", os.path.join(REPO, "tests", "linux", "smp_stress.py"))
st = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(st)

PROFILE = """\
# /root/.profile added by bench/smp/guest_parallel.py (kernel command line
# word disco.parbench): N files, then rounds of sha256sum one after the
# other ("seq") and all at once ("par"), then power off.
case " $(cat /proc/cmdline) " in
*" disco.parbench "*)
	if [ ! -e /run/par-started ]; then
		: >/run/par-started
		cd /tmp || exit 1
		echo "PAR-NPROC $(nproc)"
		head -c 1048576 /dev/urandom >seed
		i=1
		while [ "$i" -le {files} ]; do
			cp seed f$i
			for _ in 1 2 3 4 5 6; do cat f$i f$i >t && mv t f$i; done
			echo "$i" >>f$i
			i=$((i + 1))
		done
		r=1
		while [ "$r" -le {rounds} ]; do
			for mode in seq par; do
				[ $((r % 2)) -eq 0 ] && mode=$([ "$mode" = seq ] && echo par || echo seq)
				echo "PAR-START $mode $r"
				i=1
				while [ "$i" -le {files} ]; do
					if [ "$mode" = par ]; then sha256sum f$i >s$i & else sha256sum f$i >s$i; fi
					i=$((i + 1))
				done
				wait
				echo "PAR-END $mode $r"
				echo "PAR-SUMS $mode $r $(cat s* | sha256sum)"
			done
			r=$((r + 1))
		done
		echo "PAR-DONE"
		sleep 1
		poweroff -f
	fi
	;;
esac
"""


def make_initrd(img, cache, files, rounds):
    sys.path.insert(0, os.path.join(REPO, "images"))
    import mkcpio
    profile = PROFILE.replace("{files}", str(files)).replace("{rounds}", str(rounds))
    return mkcpio.overlay_initrd(os.path.join(img, "initrd.gz"), os.path.join(cache, "initrd-parbench.gz"),
                                 [("root", 0o040700, b""), ("root/.profile", 0o100644, profile.encode())])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smp", type=int, default=2, help="vCPUs, and files hashed at once (default 2)")
    ap.add_argument("--rounds", type=int, default=4, help="rounds of seq + par (default 4)")
    ap.add_argument("--engine", default="jit")
    ap.add_argument("--disco", default=os.path.join(REPO, "build", "src", "disco"))
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()

    img = st.build_image(REPO)
    cache = os.path.join(REPO, "cache", "smp-bench")
    os.makedirs(cache, exist_ok=True)
    initrd = make_initrd(img, cache, args.smp, args.rounds)
    cmd = [args.disco, "run", "--kernel", os.path.join(img, "vmlinuz"), "--initrd", initrd,
           "--append", "disco.parbench", "--timeout", "900", "--engine", args.engine]
    if args.smp > 1:
        cmd += ["--smp", str(args.smp)]
    st.say("$ " + " ".join(cmd))
    log = os.path.join(cache, f"smp{args.smp}-{args.engine}.log")
    rc, out, secs, _ = st.boot(cmd, 960, log)
    if rc != 0 or "PAR-DONE" not in out:
        st.fail(f"the guest did not finish (exit {rc})", out, log)
    m = re.search(r"PAR-NPROC (\d+)", out)
    if not m or int(m.group(1)) != args.smp:
        st.fail(f"nproc is not {args.smp}", out, log)
    sums = set(re.findall(r"PAR-SUMS \w+ \d+ (\w+)", out))
    if len(sums) != 1:
        st.fail(f"the rounds' sha256 sums differ: {sorted(sums)}", out, log)

    starts, times = {}, {"seq": [], "par": []}
    with open(os.path.splitext(log)[0] + ".timeline") as f:
        for line in f:
            t, _, text = line.strip().partition(" ")
            m = re.search(r"PAR-(START|END) (seq|par) (\d+)", text)
            if not m:
                continue
            key = (m.group(2), m.group(3))
            if m.group(1) == "START":
                starts[key] = float(t)
            elif key in starts:
                times[m.group(2)].append(float(t) - starts[key])
    if len(times["seq"]) != args.rounds or len(times["par"]) != args.rounds:
        st.fail(f"expected {args.rounds} timed rounds of each, got {times}", out, log)
    seq, par = statistics.median(times["seq"]), statistics.median(times["par"])
    print(f"--smp {args.smp}, {args.engine}: {args.smp} x sha256sum of 64 MiB, medians of {args.rounds} rounds")
    print(f"  one after the other  {seq:7.2f} s   ({', '.join('%.2f' % x for x in times['seq'])})")
    print(f"  at once              {par:7.2f} s   ({', '.join('%.2f' % x for x in times['par'])})")
    print(f"  parallel/sequential  {par / seq:7.2f}   (target <= 0.6)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"smp": args.smp, "engine": args.engine, "seq": times["seq"], "par": times["par"],
                       "ratio": par / seq}, f, indent=1)


if __name__ == "__main__":
    main()
