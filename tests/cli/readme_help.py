#!/usr/bin/env python3
"""README.md quotes `disco run --help` (the fenced block after the line
`<!-- disco run --help -->`); this checks that the quote is the command's
output, exactly. With --update, rewrites the quote instead.

usage: readme_help.py DISCO_EXE README [--update]
"""
import difflib
import re
import subprocess
import sys

MARKER = "<!-- disco run --help -->"
BLOCK = re.compile(re.escape(MARKER) + r"\n```text\n(.*?)```\n", re.S)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    disco, readme = sys.argv[1], sys.argv[2]
    r = subprocess.run([disco, "run", "--help"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        print(f"disco run --help exited with {r.returncode}:\n{r.stderr}")
        return 1
    help_text = r.stdout.rstrip("\n") + "\n"
    text = open(readme, encoding="utf-8").read()
    m = BLOCK.search(text)
    if not m:
        print(f"{readme}: no ```text block after {MARKER!r}")
        return 1
    if "--update" in sys.argv[3:]:
        text = text[:m.start(1)] + help_text + text[m.end(1):]
        open(readme, "w", encoding="utf-8").write(text)
        print(f"{readme}: synopsis updated")
        return 0
    if m.group(1) == help_text:
        print("README.md quotes `disco run --help` exactly")
        return 0
    sys.stdout.writelines(difflib.unified_diff(m.group(1).splitlines(True), help_text.splitlines(True),
                                               "README.md", "disco run --help"))
    print(f"\nREADME.md's synopsis differs from `disco run --help`; to update it:\n"
          f"  python3 tests/cli/readme_help.py {disco} {readme} --update")
    return 1


if __name__ == "__main__":
    sys.exit(main())
