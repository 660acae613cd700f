#!/usr/bin/env bash
# Set up (install, configure, build) and boot the default guest with its
# console on this terminal. Extra arguments go to `disco run`.
#
# Until the Debian Linux image exists (next milestone), the default guest
# is the bare-metal `hello` program of tests/guest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh >/dev/null
build=${BUILD_DIR:-build}
if [ "$#" -eq 0 ] || [[ "$*" != *--kernel* ]]; then
  set -- --kernel "$build/tests/guest/hello.elf" "$@"
fi
exec "$build/src/disco" run "$@"
