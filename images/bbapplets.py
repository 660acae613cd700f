#!/usr/bin/env python3
"""Print the applet names of a busybox binary, one a line, without running it.

    bbapplets.py BUSYBOX

busybox keeps its applet names as one sorted, NUL-separated string table
("[", "[[", "acpid", ...), which is what `busybox --list` prints.  Reading
it from the file works for any target architecture, so the guest image
does not depend on qemu-user being installed on the host.
"""

import re
import sys

NAME = re.compile(rb"^[a-z0-9_.+\[\]-]+$")


def applets(blob):
    # The table starts with "[" (test) followed by "[[" in every
    # configuration that has the test applet with bash-style [[ ]];
    # fall back to a table starting at "[" alone.
    for start in (b"\0[\0[[\0", b"\0[\0"):
        pos = blob.find(start)
        while pos >= 0:
            names = []
            for item in blob[pos + 1:].split(b"\0"):
                if not item:
                    break
                names.append(item)
                if len(names) > 2000:
                    break
            if (len(names) >= 20 and all(NAME.match(n) for n in names)
                    and names == sorted(names)):
                return [n.decode() for n in names]
            pos = blob.find(start, pos + 1)
    return None


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bbapplets.py BUSYBOX")
    with open(sys.argv[1], "rb") as f:
        names = applets(f.read())
    if not names:
        sys.exit("bbapplets: no applet table found in %s" % sys.argv[1])
    sys.stdout.write("".join(n + "\n" for n in names))


if __name__ == "__main__":
    main()
