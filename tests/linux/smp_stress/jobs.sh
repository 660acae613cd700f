#!/bin/sh
# jobs.sh: a "make -j"-like parallel shell workload for the disco SMP
# stress test (tests/linux/smp_stress.py); busybox ash / POSIX sh.
#
#     sh jobs.sh [ROUNDS [JOBS [LINES]]]     (defaults 3 8 600)
#
# A job is a pipeline of four processes (awk writes LINES deterministic
# lines, an LCG seeded by the job's number; sort orders them; gzip and
# gunzip round-trip them into a file), then wc -l checks the line count
# and sha256sum hashes the file.  The script runs the JOBS jobs one after
# another once (the reference), then ROUNDS times starts all of them at
# once in the background, waits for each, and combines their hashes in
# job order into one sha256.  Every round must give the reference hash.
# Output:
#
#     JOBS-EXPECT <sha256>                      the sequential reference
#     JOBS-ROUND <r> <sha256> ok|BAD            each parallel round
#     JOBS-OK rounds=R jobs=J lines=L sum=<sha256>
#  or JOBS-BAD <what went wrong>
#
# The host recomputes the sum (smp_stress.py: jobs_expected()); keep the
# generator in step with it.  Exit status 0 for JOBS-OK, 1 otherwise.

rounds=${1:-3}
njobs=${2:-8}
lines=${3:-600}
work=/tmp/smp-jobs.$$

job() { # job NUMBER DIR: DIR/NUMBER.txt (the data), DIR/NUMBER.sum (its sha256)
	awk -v s="$1" -v n="$lines" 'BEGIN {
		x = s * 7919 + 1
		for (i = 0; i < n; i++) {
			x = (x * 75 + 74) % 65537
			printf "%05d %d %d\n", x, i, s
		}
	}' | sort | gzip -1 | gunzip >"$2/$1.txt" || return 1
	# No pipefail in sh: a stage that died shows as short output.
	n=$(wc -l <"$2/$1.txt")
	if [ "$n" -ne "$lines" ]; then
		echo "JOBS-SHORT job $1: $n lines, not $lines"
		return 1
	fi
	sha256sum <"$2/$1.txt" >"$2/$1.sum"
}

combine() { # combine DIR: one sha256 of "NUMBER HASH" lines in job order
	i=1
	while [ "$i" -le "$njobs" ]; do
		h=
		read -r h _ <"$1/$i.sum" 2>/dev/null
		echo "$i ${h:-missing}"
		i=$((i + 1))
	done | sha256sum | cut -d' ' -f1
}

bad() {
	echo "JOBS-BAD $*"
	rm -rf "$work"
	exit 1
}

rm -rf "$work"
mkdir -p "$work/seq" || bad "cannot make $work"

i=1
while [ "$i" -le "$njobs" ]; do
	job "$i" "$work/seq" || bad "sequential job $i failed"
	i=$((i + 1))
done
expect=$(combine "$work/seq")
echo "JOBS-EXPECT $expect"

r=1
while [ "$r" -le "$rounds" ]; do
	dir=$work/par$r
	mkdir -p "$dir" || bad "cannot make $dir"
	pids=
	i=1
	while [ "$i" -le "$njobs" ]; do
		job "$i" "$dir" &
		pids="$pids $!"
		i=$((i + 1))
	done
	failed=
	i=1
	for p in $pids; do
		wait "$p" || failed="$failed $i"
		i=$((i + 1))
	done
	got=$(combine "$dir")
	if [ -n "$failed" ]; then
		echo "JOBS-ROUND $r $got BAD"
		bad "round $r: jobs$failed exited non-zero"
	fi
	if [ "$got" != "$expect" ]; then
		echo "JOBS-ROUND $r $got BAD"
		for f in "$dir"/*.sum; do
			n=${f##*/}
			cmp -s "$f" "$work/seq/$n" || echo "JOBS-DIFF job ${n%.sum}: $(cat "$f" 2>/dev/null) vs $(cat "$work/seq/$n")"
		done
		bad "round $r: sum $got, expected $expect"
	fi
	echo "JOBS-ROUND $r $got ok"
	r=$((r + 1))
done

rm -rf "$work"
echo "JOBS-OK rounds=$rounds jobs=$njobs lines=$lines sum=$expect"
exit 0
