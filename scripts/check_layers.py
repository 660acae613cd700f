#!/usr/bin/env python3
"""Checks that every source under src/ includes only its own layer and the
layers below it (the order of src/meson.build). A back edge is a build
error: run by the build (target layer-check) and by the test suite.

usage: check_layers.py SRC_DIR [--stamp FILE]
"""
import pathlib
import re
import sys

# Lowest first. A layer may include any layer listed before it.
ORDER = ["frontend", "cpu", "interp", "jit", "numa-model", "devices", "board", "monitor", "debug", "cli"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def check(src: pathlib.Path) -> list[str]:
    errors = []
    folders = sorted(p.name for p in src.iterdir() if p.is_dir())
    for name in folders:
        if name not in ORDER:
            errors.append(f"src/{name}/: not a known layer (add it to scripts/check_layers.py and src/meson.build)")
    rank = {name: i for i, name in enumerate(ORDER)}
    for path in sorted(src.rglob("*")):
        if path.suffix not in (".h", ".cpp", ".inc") or not path.is_file():
            continue
        layer = path.relative_to(src).parts[0]
        if layer not in rank:
            continue
        text = path.read_text(errors="replace")
        for m in INCLUDE.finditer(text):
            target = m.group(1)
            top = target.split("/")[0]
            if "/" not in target or top not in rank:
                continue  # same-folder or system-style include
            if rank[top] > rank[layer]:
                line = text.count("\n", 0, m.start()) + 1
                errors.append(f"{path.relative_to(src.parent)}:{line}: layer '{layer}' includes "
                              f"'{target}' from the higher layer '{top}'")
    return errors


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    src = pathlib.Path(args[0])
    errors = check(src)
    for e in errors:
        print(f"layer check: {e}", file=sys.stderr)
    if errors:
        print(f"layer check: {len(errors)} back edge(s); order is {' -> '.join(ORDER)}", file=sys.stderr)
        return 1
    if "--stamp" in args:
        pathlib.Path(args[args.index("--stamp") + 1]).write_text("ok\n")
    print(f"layer check: {len(list(src.rglob('*.[hc]*')))} files, no back edges")
    return 0


if __name__ == "__main__":
    sys.exit(main())
