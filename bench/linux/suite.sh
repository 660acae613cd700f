#!/bin/sh
# Guest side of the Linux guest benchmark (bench/linux/run.py).
#
# run.py appends this file (as /bench/suite.sh) and a /root/.profile that
# starts it to the default initramfs; the login shell that /init starts on
# the console runs it when the kernel command line has the word
# disco.bench or disco.bench=W1,W2,... (the workloads to run; default all).
#
# Every workload prints "BENCH-START name" and "BENCH-END name" on the
# console; the host times the interval between the two lines' arrival.
# Inputs are generated in tmpfs (/tmp) before the START marker, so data
# generation is never timed.  After each END the result (a checksum) is
# printed as "BENCH-RESULT name ..." for the host to check.
#
# Keep the generator in step with expected_data() in run.py, which
# recomputes the same bytes on the host.

only=all
for word in $(cat /proc/cmdline); do
	case $word in
	disco.bench=*) only=${word#disco.bench=} ;;
	esac
done
want() {
	case ",$only," in
	*,all,* | *",$1,"*) return 0 ;;
	esac
	return 1
}

cd /tmp || exit 1
echo "BENCH-BEGIN $(uname -r) $(nproc) cpu"

# 16 MiB of text: a 128 KiB chunk of numbered lines of pseudo-random words
# (an LCG, integers below 2^23 so that awk's doubles stay exact), doubled
# 7 times.  Repeats are 128 KiB apart, beyond gzip's 32 KiB window, so
# gzip does full work on every copy; the text compresses about 2.9:1.
gen_data16() {
	awk 'BEGIN {
		n = split("the of and to in is that for it as with was on be by at this from or an are not have which but had they you were his her their disco mips", w, " ")
		x = 1
		for (i = 0; i < 4800; i++) {
			x = (x * 75 + 74) % 65537
			y = (x * 75 + 74) % 65537
			printf "%06d %s %s %s %s %05d\n", i, w[x % n + 1], w[int(x / n) % n + 1], w[y % n + 1], w[int(y / 7) % n + 1], y
			x = y
		}
	}' | head -c 131072 >data16
	for _ in 1 2 3 4 5 6 7; do
		cat data16 data16 >data.tmp && mv data.tmp data16
	done
}

if want sha256 || want gzip; then
	gen_data16
	echo "BENCH-DATA data16 $(wc -c <data16) bytes"
fi

if want sha256; then
	cat data16 data16 >data32
	echo "BENCH-START sha256"
	sha256sum data32 >sha256.out
	echo "BENCH-END sha256"
	read -r sum _ <sha256.out
	echo "BENCH-RESULT sha256 $sum"
	rm -f data32 sha256.out
fi

if want gzip; then
	echo "BENCH-START gzip"
	gzip -9 -c data16 >data16.gz
	echo "BENCH-END gzip"
	size=$(wc -c <data16.gz)
	read -r gzsum _ <<EOF
$(sha256sum data16.gz)
EOF
	read -r rtsum _ <<EOF
$(gzip -dc data16.gz | sha256sum)
EOF
	echo "BENCH-RESULT gzip $size $gzsum $rtsum"
	rm -f data16.gz
fi
rm -f data16

if want fork; then
	# 2000 fork+exec of busybox: ash (built with FEATURE_SH_STANDALONE)
	# forks and execs /proc/self/exe, i.e. /bin/busybox, every time;
	# "true" alone would be a shell builtin, with no fork.
	echo "BENCH-START fork"
	i=0
	while [ "$i" -lt 2000 ]; do
		busybox true
		i=$((i + 1))
	done
	echo "BENCH-END fork"
	echo "BENCH-RESULT fork $i"
fi

echo "BENCH-DONE"
