#!/bin/sh
# Builds the MIPS64 (n64, little-endian) oracle runner as a static binary.
# Usage: build.sh [OUTPUT]   (default: ./oracle_runner)
# Environment: CC overrides the cross compiler.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-./oracle_runner}
cc=${CC:-mips64el-linux-gnuabi64-gcc}
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "build.sh: cross compiler '$cc' not found." >&2
  echo "  install it with: apt-get install -y gcc-mips64el-linux-gnuabi64" >&2
  exit 1
fi
"$cc" -static -O2 -march=mips64r2 -mabi=64 -Wall -Wextra \
  -I"$here/.." "$here/oracle_runner.c" -o "$out"
echo "built $out"
