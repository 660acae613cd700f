#!/usr/bin/env python3
"""Write (or list) a gzip'd "newc" cpio archive, as the Linux initramfs wants.

Python standard library only, so building the guest image needs no host
package beyond python3.

    mkcpio.py STAGING OUT.cpio.gz [--dev PATH:c|b:MAJOR:MINOR:MODE]...
    mkcpio.py --list ARCHIVE[.gz]

Every entry is owned by root (uid 0, gid 0) whatever owns the staging
files, and every mtime is SOURCE_DATE_EPOCH (0 if unset), so the same
staging tree always gives the same bytes.  Device nodes are written as
archive entries (--dev), so no mknod (and no privilege) is needed.
Hard links are stored as separate copies.
"""

import argparse
import gzip
import io
import os
import stat
import sys

MAGIC = b"070701"
TRAILER = "TRAILER!!!"


def _pad4(n):
    return (4 - n % 4) % 4


class NewcWriter:
    def __init__(self, fp, mtime):
        self.fp = fp
        self.mtime = mtime
        self.ino = 0
        self.count = 0

    def entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        self.ino += 1
        namebytes = name.encode() + b"\0"
        fields = (
            self.ino, mode, 0, 0, nlink, self.mtime, len(data),
            0, 0, rdev[0], rdev[1], len(namebytes), 0,
        )
        hdr = MAGIC + b"".join(b"%08X" % f for f in fields)
        assert len(hdr) == 110
        self.fp.write(hdr)
        self.fp.write(namebytes)
        self.fp.write(b"\0" * _pad4(110 + len(namebytes)))
        self.fp.write(data)
        self.fp.write(b"\0" * _pad4(len(data)))
        if name != TRAILER:
            self.count += 1

    def finish(self):
        self.ino = -1  # trailer: inode 0
        self.entry(TRAILER, 0)


def walk(staging):
    """Yield (archive name, lstat) for everything under staging, parents
    first, in a stable (sorted) order."""
    for root, dirs, files in os.walk(staging):
        dirs.sort()
        rel = os.path.relpath(root, staging)
        for name in sorted(dirs + files):
            path = os.path.join(root, name)
            arc = name if rel == "." else os.path.join(rel, name)
            yield arc, path, os.lstat(path)


def parse_dev(spec):
    try:
        path, kind, major, minor, mode = spec.split(":")
        kind_bits = {"c": stat.S_IFCHR, "b": stat.S_IFBLK}[kind]
        return path.strip("/"), kind_bits | int(mode, 8), (int(major), int(minor))
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(
            "bad --dev %r (want PATH:c|b:MAJOR:MINOR:OCTALMODE)" % spec)


def build(staging, out, devs, mtime):
    if not os.path.isdir(staging):
        sys.exit("mkcpio: %s is not a directory" % staging)
    tmp = out + ".tmp"
    dev_names = {d[0] for d in devs}
    with open(tmp, "wb") as raw:
        # mtime=0 in the gzip header too, for reproducible output.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                           compresslevel=9, mtime=0) as gz:
            w = NewcWriter(gz, mtime)
            seen_dirs = set()
            for arc, path, st in walk(staging):
                if arc in dev_names:
                    continue  # the --dev entry wins
                perm = stat.S_IMODE(st.st_mode)
                if stat.S_ISDIR(st.st_mode):
                    w.entry(arc, stat.S_IFDIR | perm, nlink=2)
                    seen_dirs.add(arc)
                elif stat.S_ISLNK(st.st_mode):
                    w.entry(arc, stat.S_IFLNK | 0o777,
                            os.readlink(path).encode())
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        w.entry(arc, stat.S_IFREG | perm, f.read())
                else:
                    sys.exit("mkcpio: %s: unsupported file type "
                             "(use --dev for device nodes)" % path)
            for name, mode, rdev in devs:
                parent = os.path.dirname(name)
                if parent and parent not in seen_dirs:
                    sys.exit("mkcpio: --dev %s: directory %s is not in the "
                             "staging tree" % (name, parent))
                w.entry(name, mode, rdev=rdev)
            w.finish()
    os.replace(tmp, out)
    return w.count


def overlay_initrd(base, out, entries):
    """Writes `out`: the gzip'd initramfs `base` followed by a second
    gzip'd newc archive of `entries`, (name, mode, data) in order (Linux
    unpacks concatenated archives in turn, so these add to or replace the
    base's files). Through out.tmp; returns out."""
    buf = io.BytesIO()
    w = NewcWriter(buf, 0)
    for name, mode, data in entries:
        w.entry(name, mode, data, nlink=2 if stat.S_ISDIR(mode) else 1)
    w.finish()
    with open(base, "rb") as f:
        data = f.read() + gzip.compress(buf.getvalue(), 9, mtime=0)
    with open(out + ".tmp", "wb") as f:
        f.write(data)
    os.replace(out + ".tmp", out)
    return out


def read_entries(path):
    """Parse a newc archive (optionally gzip'd); yield dicts."""
    with open(path, "rb") as f:
        magic = f.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        blob = f.read()
    pos = 0
    while True:
        hdr = blob[pos:pos + 110]
        if len(hdr) < 110 or hdr[:6] != MAGIC:
            raise ValueError("bad newc header at offset %d" % pos)
        v = [int(hdr[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = v[11], v[6]
        pos += 110
        name = blob[pos:pos + namesize - 1].decode()
        pos += namesize + _pad4(110 + namesize)
        data = blob[pos:pos + filesize]
        if len(data) != filesize:
            raise ValueError("truncated data for %s" % name)
        pos += filesize + _pad4(filesize)
        if name == TRAILER:
            return
        yield {"name": name, "mode": v[1], "uid": v[2], "gid": v[3],
               "nlink": v[4], "mtime": v[5], "size": filesize,
               "rdev": (v[9], v[10]), "data": data}


def list_archive(path):
    n = 0
    for e in read_entries(path):
        mode = e["mode"]
        extra = ""
        if stat.S_ISLNK(mode):
            extra = " -> " + e["data"].decode()
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            extra = " (%d, %d)" % e["rdev"]
        print("%s %d/%d %9d %s%s" % (stat.filemode(mode), e["uid"], e["gid"],
                                     e["size"], e["name"], extra))
        n += 1
    print("%d entries" % n, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", metavar="ARCHIVE",
                    help="list a newc archive (gzip'd or not) and exit")
    ap.add_argument("--dev", action="append", default=[], type=parse_dev,
                    metavar="PATH:c|b:MAJOR:MINOR:MODE",
                    help="add a device node entry")
    ap.add_argument("staging", nargs="?")
    ap.add_argument("out", nargs="?")
    a = ap.parse_args()
    if a.list:
        list_archive(a.list)
        return
    if not a.staging or not a.out:
        ap.error("STAGING and OUT are required (or --list ARCHIVE)")
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    n = build(a.staging, a.out, a.dev, mtime)
    print("mkcpio: %d entries, %d bytes -> %s"
          % (n, os.path.getsize(a.out), a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
