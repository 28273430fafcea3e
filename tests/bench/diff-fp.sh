#!/bin/sh
# diff-fp.sh BUILD [PAIRS] - how often pddiff's default gate fires on pairs
# of recordings of the same build (false positives).  Records 2*PAIRS runs
# of tests/data/diffwork.c (FACTOR=1) at 1000 Hz on cpu-clock, about 500
# samples each, and runs "pddiff run_2i run_2i+1" on each pair.
set -u
B=${1:?usage: diff-fp.sh BUILD [PAIRS]}
PAIRS=${2:-20}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/pddiff-fp.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
mkdir -p "$T/a"
${CC:-cc} -O1 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -DFACTOR=1 \
    -o "$T/a/diffwork" "$SRC/tests/data/diffwork.c" || exit 2
i=0
while [ "$i" -lt $((2 * PAIRS)) ]; do
	perf record -q -e cpu-clock -F 1000 -g -o "$T/r$i.data" -- "$T/a/diffwork" 6500000 \
	    >/dev/null 2>&1 || { echo "perf record failed" >&2; exit 2; }
	i=$((i + 1))
done
fired=0
thr=0
i=0
while [ "$i" -lt "$PAIRS" ]; do
	a=$((2 * i))
	b=$((2 * i + 1))
	rc=0
	"$B/pddiff" --format=table "$T/r$a.data" "$T/r$b.data" >"$T/table" 2>"$T/err" || rc=$?
	# Would a threshold of 1 point alone (no test) have fired?
	awk '/^# Inclusive/ { exit } !/^#/ && NF && $3 + 0 > 1 { f = 1 } END { exit !f }' "$T/table" &&
		thr=$((thr + 1))
	n=$(awk '/^# pd-diff/ { for (k = 1; k <= NF; k++) if ($k ~ /_samples=/) printf "%s ", $k }' "$T/table")
	if [ "$rc" -eq 1 ]; then
		fired=$((fired + 1))
		echo "pair $i: FIRED ($n) $(head -n 1 "$T/err")"
	elif [ "$rc" -ne 0 ]; then
		echo "pair $i: trouble (exit $rc): $(head -n 1 "$T/err")" >&2
		exit 2
	else
		echo "pair $i: ok ($n)"
	fi
	i=$((i + 1))
done
echo "pddiff default gate: fired on $fired of $PAIRS same-build pairs"
echo "(a 1-point threshold without the test would have fired on $thr)"
