#!/usr/bin/env python3
"""The layer rule: scripts/check_layers.py passes on the real tree and
fails, naming the file and line, on a tree with a back edge or an unknown
folder."""
import pathlib
import subprocess
import sys
import tempfile

script, src = sys.argv[1], sys.argv[2]


def run(tree):
    return subprocess.run([sys.executable, script, str(tree)], capture_output=True, text=True)


fails = 0
r = run(src)
if r.returncode != 0:
    print("the real tree has back edges:\n" + r.stderr)
    fails += 1

with tempfile.TemporaryDirectory() as d:
    t = pathlib.Path(d)
    for layer in ("frontend", "cpu", "monitor"):
        (t / layer).mkdir()
    (t / "frontend" / "a.h").write_text('#pragma once\n#include <cstdint>\n')
    (t / "monitor" / "m.h").write_text('#include "cpu/c.h"\n#include "frontend/a.h"\n')  # downward: fine
    (t / "cpu" / "c.h").write_text('#pragma once\n\n#include "frontend/a.h"\n#include "monitor/m.h"\n')
    r = run(t)
    if r.returncode == 0 or "cpu/c.h:4" not in r.stderr or "'monitor'" not in r.stderr:
        print("a back edge cpu -> monitor was not reported:\n" + r.stdout + r.stderr)
        fails += 1
    (t / "cpu" / "c.h").write_text('#pragma once\n#include "frontend/a.h"\n')
    if run(t).returncode != 0:
        print("a tree without back edges was refused")
        fails += 1
    (t / "gadgets").mkdir()
    r = run(t)
    if r.returncode == 0 or "gadgets" not in r.stderr:
        print("an unknown folder under src/ was not reported")
        fails += 1

print("layer check test: " + ("FAILED" if fails else "ok"))
sys.exit(1 if fails else 0)
