#!/bin/sh
# Build every disco bare-metal guest program into OUTDIR/<name>.elf.
#
# usage: tests/guest/build.sh OUTDIR
# The cross compiler defaults to mips64el-linux-gnuabi64-gcc; override the
# prefix with CROSS_COMPILE (e.g. CROSS_COMPILE=/opt/x/bin/mips64el-linux-gnuabi64-).
# EXTRA_CFLAGS is appended to the flags from cflags.txt.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi

SRCDIR=$(cd "$(dirname "$0")" && pwd)
OUTDIR=$1
CROSS_COMPILE=${CROSS_COMPILE:-mips64el-linux-gnuabi64-}
CC=${CROSS_COMPILE}gcc

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "error: cross compiler '$CC' not found." >&2
	echo "       Install it with: apt-get install gcc-mips64el-linux-gnuabi64" >&2
	echo "       (or set CROSS_COMPILE to the prefix of another mips64el toolchain)" >&2
	exit 1
fi

mkdir -p "$OUTDIR"

# Flags: non-empty, non-comment lines of cflags.txt.
CFLAGS="$(grep -v '^[[:space:]]*#' "$SRCDIR/cflags.txt" | tr '\n' ' ') ${EXTRA_CFLAGS:-}"
COMMON="$SRCDIR/common/crt0.S $SRCDIR/common/vectors.S $SRCDIR/common/memops.S $SRCDIR/common/runtime.c"

status=0
for name in $(grep -v '^[[:space:]]*#' "$SRCDIR/programs.txt"); do
	srcs="$SRCDIR/$name.c"
	if [ -f "$SRCDIR/${name}_asm.S" ]; then
		srcs="$srcs $SRCDIR/${name}_asm.S"
	fi
	echo "  GUEST   $OUTDIR/$name.elf"
	# shellcheck disable=SC2086 # word splitting of flag/source lists is intended
	if ! "$CC" $CFLAGS -I"$SRCDIR/common" -T "$SRCDIR/common/link.ld" \
		-o "$OUTDIR/$name.elf" $COMMON $srcs -lgcc; then
		echo "error: building $name failed" >&2
		status=1
	fi
done
exit $status
