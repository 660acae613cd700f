#!/usr/bin/env bash
# Interpreter throughput on CPU-bound guests, in guest instructions per host
# second (median of several runs). Usage: bench/run.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-5}
disco="$build/src/disco"
[ -x "$disco" ] || { echo "bench: $disco not built (run ./test.sh or ninja -C $build)" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

measure() {  # name, elf, extra args
  local name=$1 elf=$2; shift 2
  [ -f "$elf" ] || { echo "bench: $elf missing (cross compiler not installed?)" >&2; return; }
  local rates=() out insns
  for _ in $(seq "$runs"); do
    out=$("$disco" run --engine interp --kernel "$elf" --stats --timeout 300 "$@" 2>&1 >/dev/null)
    rates+=("$(sed -n 's/.*= \([0-9.]*\) M instructions\/s.*/\1/p' <<<"$out")")
    insns=$(sed -n 's/^disco: \([0-9]*\) instructions.*/\1/p' <<<"$out")
  done
  printf '%-10s %-8s %14s instr   median %8.1f M instr/s   (runs: %s)\n' "$name" interp "$insns" \
    "$(printf '%s\n' "${rates[@]}" | median)" "${rates[*]}"
}

echo "disco interpreter throughput ($(uname -m), $(nproc) cores, $runs runs each)"
measure intloop "$build/bench/intloop.elf"
measure fploop "$build/bench/fploop.elf" --fpu
