#!/usr/bin/env bash
# Set up (install, configure, build) and run the whole test suite:
# unit tests, bare-metal guests on the board, and the differential test
# against qemu-mips64el (100,000 random sequences).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
meson test -C "${BUILD_DIR:-build}" --print-errorlogs --num-processes "$(nproc)" "$@"
