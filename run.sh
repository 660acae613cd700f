#!/usr/bin/env bash
# Set up (install, configure, build) and boot the default guest — stock
# Debian mips64el Linux with a busybox initramfs, built from Debian packages
# on first use — with its console on this terminal (Ctrl-A x quits).
# Extra arguments go to `disco run` (e.g. --kernel, --append, --mem).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh >/dev/null
exec "${BUILD_DIR:-build}/src/disco" run "$@"
