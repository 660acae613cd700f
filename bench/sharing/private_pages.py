#!/usr/bin/env python3
"""Classify the private (unshared) machine pages of two VMs by what the
Linux guest uses them for.  Debugging aid for bench/sharing (see README).

Input: the directory written by a disco run with --dump-pages DIR, e.g.

  build/src/disco run --vms 2 --engine jit --dump-pages /tmp/d \\
      --until "disco# " --console none --console-dir /tmp/d/con --settle

which holds, per VM i, i.map ("paddr kind machine_page"; kind P private,
S shared, Z zero page, D patched: stored as another page plus a patch, which
this script does not count as private; run disco with --no-patching to see
every page that is not shared whole) and i.mem (the VM's pages at their guest-physical
addresses, sparse).  The class of a page comes from the guest's own
struct page array (FLATMEM mem_map, Linux 6.1 layout, 64 bytes per page),
which is found in the dump: the 256 MiB hole of the board (pfns
0x10000-0x1ffff) is a run of 65536 reserved struct pages.

Usage: private_pages.py DIR [--iomem FILE]   (FILE: the guest's /proc/iomem,
to tell kernel text, data and bss apart from other reserved memory)
"""

import argparse
import collections
import re
import struct
import sys

PAGE = 4096
HOLE_FIRST, HOLE_PAGES = 0x10000, 0x10000


def xphys(a):
    """Physical address behind a kernel pointer (xkphys or ckseg0), or None."""
    if a >> 40 == 0x980000:
        return a & 0xFFFFFFFFFF
    if a >> 32 == 0xFFFFFFFF and (a & 0xFFFFFFFF) >= 0x80000000:
        return (a & 0xFFFFFFFF) - 0x80000000
    return None


class Dump:
    def __init__(self, d, i):
        self.map = {}
        with open("%s/%d.map" % (d, i)) as f:
            for line in f:
                a, k, _ = line.split()
                self.map[int(a, 16)] = k
        self.f = open("%s/%d.mem" % (d, i), "rb")

    def read(self, pa, n):
        self.f.seek(pa)
        b = self.f.read(n)
        return b + bytes(n - len(b))

    def q(self, pa):
        return struct.unpack("<Q", self.read(pa, 8))[0]

    def cstr(self, ptr, n=32):
        pa = xphys(ptr)
        if pa is None:
            return None
        s = self.read(pa, n).split(b"\0")[0]
        return s.decode() if len(s) > 2 and all(32 < c < 127 for c in s) else None


def find_mem_map(dump, low_bytes):
    """Address of struct page for pfn 0: the hole's run of reserved pages."""
    buf = dump.read(0, low_bytes)
    run = 0
    for off in range(0, len(buf) - 64, 64):
        flags, = struct.unpack_from("<Q", buf, off)
        refs = struct.unpack_from("<I", buf, off + 52)[0]
        if flags >> 12 & 1 and refs == 1:
            run += 1
            if run == HOLE_PAGES:
                return off + 64 - HOLE_PAGES * 64 - HOLE_FIRST * 64
        else:
            run = 0
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--iomem")
    a = ap.parse_args()
    vms = [Dump(a.dir, 0), Dump(a.dir, 1)]
    low = max(vms[0].map) + PAGE
    mem_map = find_mem_map(vms[0], min(low, 0x10000000))
    if mem_map is None:
        sys.exit("mem_map not found (needs a guest with RAM above 256 MiB)")
    ranges = []  # (lo, hi, name) of the kernel image
    if a.iomem:
        for line in open(a.iomem):
            m = re.match(r"\s*([0-9a-f]+)-([0-9a-f]+) : Kernel (code|data|bss)", line)
            if m:
                ranges.append((int(m.group(1), 16), int(m.group(2), 16) + 1, "kernel " + m.group(3)))
    mm_end = mem_map + 0x30000 * 64

    def classify(d, pa, names):
        for lo, hi, name in ranges:
            if lo <= pa < hi:
                return name, None
        if mem_map <= pa < mm_end:
            return "mem_map (struct pages)", None
        sp = mem_map + 64 * (pa // PAGE)
        w = struct.unpack("<8Q", d.read(sp, 64))
        if w[1] & 1 and xphys(w[1] - 1) is not None:  # compound tail
            w = struct.unpack("<8Q", d.read(xphys(w[1] - 1), 64))
        flags, mapcount, refs = w[0], w[6] & 0xFFFFFFFF, w[6] >> 32
        if flags >> 12 & 1:
            return "reserved (memblock: hash tables, percpu, ...)", None
        if flags >> 9 & 1:
            kc = w[3]
            if kc not in names:
                names[kc] = "?"
                p = xphys(kc)
                for off in range(0, 160, 8) if p is not None else ():
                    s = d.cstr(d.q(p + off))
                    if s:
                        names[kc] = s
                        break
            return "slab", names[kc]
        if mapcount & 0xF0000080 == 0xF0000000:
            return "free (buddy)", None
        if mapcount & 0xF0000200 == 0xF0000000:
            return "page table", None
        if w[3] & 1 and w[3] > 0x1000:
            return "anonymous (user)", None
        if w[3]:
            return "page cache / shmem", None
        if refs == 0:
            return "free (buddy)", None
        return "other kernel pages (stacks, vmalloc, ...)", None

    table = [collections.Counter(), collections.Counter()]
    small = [collections.Counter(), collections.Counter()]
    caches = [collections.Counter(), collections.Counter()]
    for i, d in enumerate(vms):
        names = {}
        for pa, k in d.map.items():
            if k != "P":
                continue
            c, cache = classify(d, pa, names)
            table[i][c] += 1
            if cache:
                caches[i][cache] += 1
            x, y = d.read(pa, PAGE), vms[1 - i].read(pa, PAGE) if vms[1 - i].map.get(pa, "Z") != "Z" else bytes(PAGE)
            if sum(p != q for p, q in zip(x, y)) < 256:
                small[i][c] += 1
    print("mem_map at guest-physical %#x" % mem_map)
    print("%-48s %6s %6s %8s  %s" % ("private pages", "vm0", "vm1", "MiB/VM", "differ <256 B from the other VM"))
    for c in sorted(set(table[0]) | set(table[1]), key=lambda c: -(table[0][c] + table[1][c])):
        print("%-48s %6d %6d %8.2f  %d/%d" % (c, table[0][c], table[1][c], (table[0][c] + table[1][c]) / 512,
                                               small[0][c], small[1][c]))
    t0, t1 = sum(table[0].values()), sum(table[1].values())
    print("%-48s %6d %6d %8.2f" % ("total", t0, t1, (t0 + t1) / 512))
    print("slab pages by cache:")
    for c in sorted(set(caches[0]) | set(caches[1]), key=lambda c: -(caches[0][c] + caches[1][c]))[:15]:
        print("  %-46s %6d %6d %8.2f" % (c, caches[0][c], caches[1][c], (caches[0][c] + caches[1][c]) / 512))


if __name__ == "__main__":
    main()
