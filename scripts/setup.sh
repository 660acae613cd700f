#!/usr/bin/env bash
# Installs what disco needs from Debian packages (when missing) and
# configures + builds it. Safe to run again; used by ./run.sh, ./test.sh
# and CI. Needs root (or sudo) only when a package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential meson ninja-build pkg-config cmake
  libasmjit-dev liburing-dev libfdt-dev libgtest-dev libxxhash-dev libtomlplusplus-dev
  libcli11-dev nlohmann-json3-dev
  gcc-mips64el-linux-gnuabi64 libc6-dev-mips64el-cross qemu-user python3 gdb-multiarch
  python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build=${BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" ${MESON_ARGS:-} >/dev/null
fi
ninja -C "$build"
