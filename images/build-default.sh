#!/usr/bin/env bash
# Build the default disco guest image from Debian 12 (bookworm) mips64el
# packages, and nothing else:
#
#   OUTDIR/vmlinuz      the kernel ELF (linux-image-6.1.0-NN-mips64r2el)
#   OUTDIR/config       that kernel's config
#   OUTDIR/initrd.gz    gzip'd newc initramfs: busybox-static + /init +
#                       the virtio modules
#   OUTDIR/versions.txt packages, versions, .deb sha256s
#   OUTDIR/.complete    written last; the image is usable only with it
#
# Usage: images/build-default.sh [OUTDIR]     (default: <repo>/cache/default)
#
# Does nothing when OUTDIR/.complete exists and the packages apt would
# pick now (and the build recipe in images/) are the ones recorded in
# OUTDIR/versions.txt.  Rebuild by hand with: rm -rf cache/default
# See images/README.md.
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
OUT=${1:-$REPO/cache/default}
ARCH=mips64el
KMETA=linux-image-mips64r2el   # metapackage; depends on the current ABI
BBPKG=busybox-static
MODULES="virtio_mmio virtio_blk virtio_net virtio_console"
export LC_ALL=C

START=$(date +%s)
say() { printf '%s\n' "$*" >&2; }
die() { printf 'build-default: error: %s\n' "$*" >&2; exit 1; }
step() { say "[$1/5] $2"; }
is_root() { [ "$(id -u)" = 0 ]; }

for tool in apt-get apt-cache dpkg dpkg-deb python3 sha256sum; do
	command -v "$tool" >/dev/null || die "$tool not found (this script needs a Debian/Ubuntu host)"
done

mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/disco-image.XXXXXX")
chmod 755 "$WORK"  # apt's _apt user must reach $WORK/debs
trap 'rm -rf "$WORK"' EXIT

# One build at a time per OUTDIR.
if command -v flock >/dev/null && [ -w "$OUT" ]; then
	exec 9>>"$OUT/.lock"
	flock 9
fi

# --- package lists -------------------------------------------------------

# apt-cache takes about a second per call here, so ask it twice in all.
resolve() {  # sets KPKG KVER BBVER; fails if the lists lack any of them
	KVER='' BBVER=''
	KPKG=$(apt-cache depends --important "$KMETA:$ARCH" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { sub(/:.*/, "", $2); print $2; exit }')
	[ -n "$KPKG" ] || KPKG=linux-image-UNKNOWN
	eval "$(apt-cache policy "$KPKG:$ARCH" "$BBPKG:$ARCH" 2>/dev/null | awk -v k="$KPKG:$ARCH" -v b="$BBPKG:$ARCH" '
		/^[^ ]/ { pkg = $1; sub(/:$/, "", pkg) }
		$1 == "Candidate:" && $2 != "(none)" {
			if (pkg == k) print "KVER=\047" $2 "\047"
			if (pkg == b) print "BBVER=\047" $2 "\047"
		}')"
	[ "$KPKG" != linux-image-UNKNOWN ] && [ -n "${KVER:-}" ] && [ -n "${BBVER:-}" ]
}

apt_update() {
	is_root || die "the $ARCH package lists are missing or stale and updating them needs root: run 'apt-get update' as root"
	say "updating package lists (apt-get update)..."
	if ! apt-get -q update >"$WORK/update.log" 2>&1; then
		tail -n 5 "$WORK/update.log" >&2
		return 1
	fi
	if grep -E '^(W|E): ' "$WORK/update.log" >&2; then
		say "(apt-get update warnings above)"
	fi
}

# Used when the lists cannot be had: keep a finished image rather than fail.
offline_fallback() {
	if [ -f "$OUT/.complete" ]; then
		say "warning: cannot check the Debian package lists ($1); using the existing image in $OUT"
		exit 0
	fi
	die "$1"
}

if [ "$(dpkg --print-architecture)" != "$ARCH" ] &&
	! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
	is_root || die "dpkg does not know the $ARCH architecture; as root run: dpkg --add-architecture $ARCH && apt-get update"
	say "adding the $ARCH architecture to dpkg"
	dpkg --add-architecture "$ARCH"
fi

if ! resolve; then
	if [ -z "$BBVER" ]; then
		why="the $ARCH package lists are missing"
	else
		why="no candidate for $KMETA:$ARCH's kernel ($KPKG)"
	fi
	say "$why"
	apt_update || offline_fallback "apt-get update failed (no network?)"
	if ! resolve; then
		if grep -q 'Failed to fetch' "$WORK/update.log"; then
			offline_fallback "apt-get update could not fetch the Debian package lists (no network?)"
		fi
		offline_fallback "after apt-get update: $BBPKG:$ARCH=${BBVER:-none}, $KMETA:$ARCH -> $KPKG=${KVER:-none} (is Debian bookworm main in /etc/apt/sources.list*?)"
	fi
fi

# Everything in images/ that shapes the image (not the README).
recipe_hash() {
	(cd "$HERE" && find build-default.sh ./*.py rootfs \( -type f -o -type l \) -print |
		sort | while read -r f; do
			if [ -L "$f" ]; then printf 'link %s %s\n' "$f" "$(readlink "$f")"
			else printf 'file %s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"
			fi
		done
		printf 'modules %s\n' "$MODULES") | sha256sum | cut -d' ' -f1
}
RECIPE=$(recipe_hash)

want_key() {
	printf 'package %s %s\npackage %s %s\nrecipe %s\n' "$KPKG" "$KVER" "$BBPKG" "$BBVER" "$RECIPE"
}
have_key() {
	awk '$1 == "package" { print $1, $2, $3 } $1 == "recipe" { print $1, $2 }' "$OUT/versions.txt" 2>/dev/null
}

if [ -f "$OUT/.complete" ] && [ "$(want_key)" = "$(have_key)" ] &&
	[ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.gz" ] && [ -s "$OUT/config" ]; then
	say "image up to date: $OUT ($KPKG $KVER, $BBPKG $BBVER)"
	exit 0
fi

[ -w "$OUT" ] || die "cannot write to $OUT"
# From here on OUT holds no usable image until .complete is written again.
rm -f "$OUT/.complete"
if [ -f "$OUT/versions.txt" ]; then
	say "rebuilding $OUT (packages or recipe changed)"
else
	say "building the default guest image in $OUT"
fi

# --- download ------------------------------------------------------------

DEBS=$WORK/debs
mkdir -p "$DEBS"
# apt drops privileges to _apt for downloads; let it write here.
if is_root && id _apt >/dev/null 2>&1; then
	chown _apt "$DEBS"
fi

deb_size() {  # PKG VER -> "43.8 MB"
	apt-cache show "$1:$ARCH=$2" 2>/dev/null |
		awk '$1 == "Size:" { printf "%.1f MB", $2 / 1e6; exit }'
}

download() {  # STEP PKG VER
	local n=$1 pkg=$2 ver=$3 deb
	step "$n" "downloading $pkg $ver ($(deb_size "$pkg" "$ver"))..."
	if ! (cd "$DEBS" && apt-get -q download "$pkg:$ARCH=$ver") >"$WORK/dl.log" 2>&1; then
		# A stale list may name a version the mirror has dropped.
		local oldk=$KPKG=$KVER oldb=$BBVER
		if apt_update && resolve && [ "$KPKG=$KVER $BBVER" != "$oldk $oldb" ]; then
			die "$pkg $ver is no longer in the archive; the package lists were stale and are now updated: run this script again"
		fi
		tail -n 5 "$WORK/dl.log" >&2
		die "cannot download $pkg:$ARCH=$ver (no network, or the package is missing from the mirror)"
	fi
	set -- "$DEBS/${pkg}_"*"_$ARCH.deb"
	deb=$1
	[ -f "$deb" ] || die "apt-get download of $pkg reported success but no .deb appeared"
	[ "$(dpkg-deb -f "$deb" Package)" = "$pkg" ] && [ "$(dpkg-deb -f "$deb" Version)" = "$ver" ] ||
		die "$deb is not $pkg $ver"
	printf '%s\n' "$deb"
}

KDEB=$(download 1 "$KPKG" "$KVER")
BBDEB=$(download 2 "$BBPKG" "$BBVER")

# --- extract -------------------------------------------------------------

step 3 "extracting packages..."
KROOT=$WORK/kernel
BBROOT=$WORK/busybox
dpkg-deb -x "$KDEB" "$KROOT" || die "cannot extract $KDEB"
dpkg-deb -x "$BBDEB" "$BBROOT" || die "cannot extract $BBDEB"

set -- "$KROOT"/boot/vmlinuz-*
[ $# = 1 ] && [ -f "$1" ] || die "$KPKG: expected exactly one /boot/vmlinuz-*, found: $*"
VMLINUZ=$1
KREL=${VMLINUZ##*/vmlinuz-}
KCONFIG=$KROOT/boot/config-$KREL
KMODDIR=$KROOT/lib/modules/$KREL
[ -f "$KCONFIG" ] || die "$KPKG: no /boot/config-$KREL"
[ -d "$KMODDIR" ] || die "$KPKG: no /lib/modules/$KREL"
python3 - "$VMLINUZ" <<'EOF' || die "$KPKG: /boot/vmlinuz-$KREL is not a little-endian MIPS ELF"
import struct, sys
h = open(sys.argv[1], "rb").read(20)
ok = h[:4] == b"\x7fELF" and h[5] == 1 and struct.unpack_from("<H", h, 18)[0] == 8
sys.exit(0 if ok else 1)
EOF
for opt in CONFIG_BLK_DEV_INITRD CONFIG_RD_GZIP CONFIG_DEVTMPFS; do
	grep -qx "$opt=y" "$KCONFIG" || die "$KPKG: $opt is not =y; this initramfs needs it"
done
BUSYBOX=$BBROOT/bin/busybox
[ -x "$BUSYBOX" ] || die "$BBPKG: no /bin/busybox"

# --- stage the initramfs -------------------------------------------------

step 4 "staging the initramfs (busybox applets, /init, modules for $KREL)..."
ROOT=$WORK/root
mkdir -p "$ROOT"
(
	cd "$ROOT"
	mkdir -p bin dev etc lib mnt proc root run sys tmp usr/local/bin usr/local/sbin \
		usr/share/udhcpc var/log var/tmp
	# merged /usr: everything busybox provides lives in /bin
	ln -s bin sbin
	ln -s ../bin usr/bin
	ln -s ../bin usr/sbin
	ln -s ../run var/run
	ln -s /proc/mounts etc/mtab
	chmod 1777 tmp var/tmp
	chmod 700 root
)
install -m 755 "$BUSYBOX" "$ROOT/bin/busybox"
python3 "$HERE/bbapplets.py" "$BUSYBOX" >"$WORK/applets" || die "cannot read the applet list of $BUSYBOX"
if command -v qemu-mips64el >/dev/null; then
	# Cross-check against the binary itself when qemu-user is here.
	if qemu-mips64el "$BUSYBOX" --list >"$WORK/applets.qemu" 2>/dev/null; then
		cmp -s "$WORK/applets" "$WORK/applets.qemu" ||
			die "busybox applet list read from the binary differs from 'busybox --list' under qemu-mips64el"
	else
		say "warning: qemu-mips64el could not run $BBPKG's busybox; using the applet table read from the file"
	fi
fi
napplets=0
while read -r applet; do
	case $applet in busybox | */*) continue ;; esac
	ln -s busybox "$ROOT/bin/$applet"
	napplets=$((napplets + 1))
done <"$WORK/applets"
[ "$napplets" -gt 100 ] || die "only $napplets busybox applets found"

cp -a "$HERE/rootfs/." "$ROOT/"
chmod 755 "$ROOT/init"
chmod 600 "$ROOT/etc/shadow"
udhcpc_script=$BBROOT/usr/share/doc/$BBPKG/examples/udhcp/simple.script
if [ -f "$udhcpc_script" ]; then
	install -m 755 "$udhcpc_script" "$ROOT/usr/share/udhcpc/default.script"
fi

# shellcheck disable=SC2086 # MODULES is a word list
python3 "$HERE/kmods.py" "$KMODDIR" "$ROOT/lib/modules/$KREL" $MODULES ||
	die "cannot collect the kernel modules ($MODULES)"

# --- write the image -----------------------------------------------------

step 5 "writing initrd.gz and the image files..."
# Reproducible: every archive mtime is the kernel's (from the .deb).
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(stat -c %Y "$VMLINUZ")}
export SOURCE_DATE_EPOCH
python3 "$HERE/mkcpio.py" "$ROOT" "$WORK/initrd.gz" \
	--dev dev/console:c:5:1:600 \
	--dev dev/null:c:1:3:666 || die "cannot write the initramfs"
python3 "$HERE/mkcpio.py" --list "$WORK/initrd.gz" >"$WORK/initrd.list" 2>/dev/null ||
	die "the initramfs just written does not read back"
for must in init bin/busybox bin/sh bin/cttyhack bin/setsid dev/console dev/null etc/profile \
	"lib/modules/$KREL/modules.dep"; do
	grep -q " $must\( \|$\)" "$WORK/initrd.list" || die "initramfs lacks /$must"
done

sha() { sha256sum <"$1" | cut -d' ' -f1; }
{
	printf '# disco default guest image, written by images/build-default.sh\n'
	printf '# package NAME VERSION ARCH sha256=OF-THE-.DEB\n'
	printf 'package %s %s %s sha256=%s\n' "$KPKG" "$KVER" "$ARCH" "$(sha "$KDEB")"
	printf 'package %s %s %s sha256=%s\n' "$BBPKG" "$BBVER" "$ARCH" "$(sha "$BBDEB")"
	printf 'recipe %s\n' "$RECIPE"
	printf 'kernel-release %s\n' "$KREL"
	printf 'modules %s\n' "$(tr '\n' ' ' <"$ROOT/lib/modules/$KREL/modules.load" |
		sed -e 's|[^ ]*/||g' -e 's|\.ko||g' -e 's| $||')"
	printf 'vmlinuz sha256=%s\n' "$(sha "$VMLINUZ")"
	printf 'initrd.gz sha256=%s\n' "$(sha "$WORK/initrd.gz")"
} >"$WORK/versions.txt"

put() {  # SRC NAME: atomic replace inside OUT
	cp "$1" "$OUT/.$2.tmp" && mv -f "$OUT/.$2.tmp" "$OUT/$2" || die "cannot write $OUT/$2"
}
put "$VMLINUZ" vmlinuz
put "$KCONFIG" config
put "$WORK/initrd.gz" initrd.gz
put "$WORK/versions.txt" versions.txt
date -u +%Y-%m-%dT%H:%M:%SZ >"$OUT/.complete"

kb() { echo "$(($(stat -c %s "$1") / 1024)) KiB"; }
say "done in $(($(date +%s) - START)) s: $OUT"
say "  vmlinuz   $(kb "$OUT/vmlinuz")  ($KREL)"
say "  initrd.gz $(kb "$OUT/initrd.gz")  ($(wc -l <"$WORK/initrd.list") entries)"
