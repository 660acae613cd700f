#!/usr/bin/env bash
# Set up (install, configure, build) and run the whole test suite:
# unit tests, bare-metal guests on the board, and the differential test
# against qemu-mips64el (100,000 random sequences, integer and FPU).
set -uo pipefail
cd "$(dirname "$0")"
scripts/setup.sh || exit 1
build=${BUILD_DIR:-build}
meson test -C "$build" --print-errorlogs --num-processes "$(nproc)" "$@"
status=$?
# One closing line that any CI reads: counts of meson tests.
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result", "")
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r == "SKIP": skip += 1
    else: bad += 1
print(f"{ok} passed, {bad} failed" + (f", {skip} skipped" if skip else ""))
PY
exit $status
