#!/usr/bin/env python3
"""Copy a few kernel modules and everything they depend on into an
initramfs staging tree, and write the modules.dep that busybox modprobe
reads.

    kmods.py SRC_MODDIR DST_MODDIR MODULE...

SRC_MODDIR is the extracted package's lib/modules/<version>.  The Debian
package ships no modules.dep (depmod makes it at install time), so the
dependencies are read from each module's ELF ".modinfo" section
("depends=a,b").  Compressed modules (.ko.xz, .ko.gz) are decompressed
here, since busybox insmod/modprobe may not handle them.  A requested
module that is built into the kernel (modules.builtin) is skipped.

Writes, under DST_MODDIR: the .ko files (same relative paths), modules.dep
(depmod's format: deps listed so that loading them last-to-first works),
modules.alias, modules.builtin (copied), and modules.load: every module,
one per line, dependencies first -- /init insmods them in that order.
"""

import gzip
import lzma
import os
import shutil
import struct
import sys

SUFFIXES = (".ko", ".ko.xz", ".ko.gz")


def die(msg):
    sys.exit("kmods: " + msg)


def modname(filename):
    base = os.path.basename(filename)
    for suf in SUFFIXES:
        if base.endswith(suf):
            base = base[: -len(suf)]
            break
    return base.replace("-", "_")


def read_module(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        data = lzma.decompress(data)
    elif path.endswith(".gz"):
        data = gzip.decompress(data)
    return data


def modinfo(elf, path):
    """Return the key=value pairs of an ELF module's .modinfo section."""
    if elf[:4] != b"\x7fELF":
        die("%s: not an ELF file" % path)
    is64 = elf[4] == 2
    end = "<" if elf[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", elf, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", elf, 0x3A)
        fmt = end + "IIQQQQ"
    else:
        shoff, = struct.unpack_from(end + "I", elf, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", elf, 0x2E)
        fmt = end + "IIIIII"
    secs = [struct.unpack_from(fmt, elf, shoff + i * shentsize)
            for i in range(shnum)]
    strtab = secs[shstrndx][4]
    for name_off, _type, _flags, _addr, off, size in secs:
        start = strtab + name_off
        if elf[start:elf.index(b"\0", start)] == b".modinfo":
            info = []
            for item in elf[off:off + size].split(b"\0"):
                if b"=" in item:
                    k, v = item.decode(errors="replace").split("=", 1)
                    info.append((k, v))
            return info
    die("%s: no .modinfo section" % path)


def main():
    if len(sys.argv) < 4:
        die("usage: kmods.py SRC_MODDIR DST_MODDIR MODULE...")
    src, dst, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]

    index = {}  # module name -> path relative to src
    for root, _dirs, files in os.walk(os.path.join(src, "kernel")):
        for fn in files:
            if fn.endswith(SUFFIXES):
                rel = os.path.relpath(os.path.join(root, fn), src)
                index[modname(fn)] = rel
    if not index:
        die("no modules found under %s/kernel" % src)

    builtin = set()
    bpath = os.path.join(src, "modules.builtin")
    if os.path.exists(bpath):
        with open(bpath) as f:
            builtin = {modname(line.strip()) for line in f if line.strip()}

    info = {}   # name -> modinfo pairs
    blobs = {}  # name -> decompressed ELF
    order = []  # load order, dependencies first

    def visit(name, chain):
        if name in info:
            return
        if name in chain:
            die("dependency loop: " + " -> ".join(chain + [name]))
        if name not in index:
            die("module %s (needed by %s) not found in %s"
                % (name, chain[-1] if chain else "request", src))
        path = os.path.join(src, index[name])
        elf = read_module(path)
        pairs = modinfo(elf, path)
        for k, v in pairs:
            if k == "depends" and v:
                for dep in v.split(","):
                    visit(dep.replace("-", "_"), chain + [name])
        info[name] = pairs
        blobs[name] = elf
        order.append(name)

    for w in wanted:
        w = w.replace("-", "_")
        if w in index:
            visit(w, [])
        elif w in builtin:
            print("kmods: %s is built into the kernel" % w, file=sys.stderr)
        else:
            die("module %s not found in %s" % (w, src))

    def relko(name):
        rel = index[name]
        for suf in SUFFIXES[1:]:
            if rel.endswith(suf):
                return rel[: -len(suf) + len(".ko")]
        return rel

    def closure(name):
        """Transitive deps of name in load order (deps first), excl. name."""
        out = []

        def rec(n):
            for k, v in info[n]:
                if k == "depends" and v:
                    for d in v.split(","):
                        d = d.replace("-", "_")
                        rec(d)
                        if d not in out:
                            out.append(d)
        rec(name)
        return out

    os.makedirs(dst, exist_ok=True)
    for name in order:
        out = os.path.join(dst, relko(name))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(blobs[name])
        os.chmod(out, 0o644)

    with open(os.path.join(dst, "modules.dep"), "w") as f:
        for name in order:
            deps = [relko(d) for d in reversed(closure(name))]
            f.write("%s:%s\n" % (relko(name),
                                 "".join(" " + d for d in deps)))
    with open(os.path.join(dst, "modules.alias"), "w") as f:
        f.write("# Aliases extracted from modules information\n")
        for name in order:
            for k, v in info[name]:
                if k == "alias":
                    f.write("alias %s %s\n" % (v, name))
    with open(os.path.join(dst, "modules.load"), "w") as f:
        for name in order:
            f.write(relko(name) + "\n")
    if os.path.exists(bpath):
        shutil.copyfile(bpath, os.path.join(dst, "modules.builtin"))

    total = sum(len(b) for b in blobs.values())
    print("kmods: %d modules (%d KiB): %s"
          % (len(order), total // 1024, " ".join(order)), file=sys.stderr)


if __name__ == "__main__":
    main()
