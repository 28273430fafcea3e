#!/bin/sh
# make bench: pdrecord's cost to the workload it samples, against an
# unprofiled run and against perf record at the same settings, with
# hyperfine (median of BENCH_RUNS runs); and the size of what each writes.
#
#   BENCH_DIR     where the recordings go (default: build/bench)
#   BENCH_RUNS    hyperfine runs per command (default 15)
#   RECORD_N      the workload's size (default 12000000, about 2 s)
set -eu
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
dir=${BENCH_DIR:-$bin/bench}
mkdir -p "$dir"
cd "$dir"
export LC_ALL=C

command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (make deps)" >&2; exit 2; }
command -v perf >/dev/null || { echo "bench: perf is missing (make deps)" >&2; exit 2; }
cc -O2 -g -fno-omit-frame-pointer -o burn "$src/tests/data/burn.c"
n=${RECORD_N:-12000000}
runs=${BENCH_RUNS:-15}
# Both recorders sample the same event: cycles where the machine has it.
ev=cycles
perf stat -e cycles -x, true 2>&1 | grep -q 'not supported' && ev=cpu-clock

hyperfine --warmup 2 --runs "$runs" --export-json record.json --output=null \
    -n 'unprofiled' "./burn $n" \
    -n 'pdrecord -F 99' "$bin/pdrecord -q -e $ev -F 99 -o pd99.data -- ./burn $n" \
    -n 'perf record -F 99' "perf record -q -e $ev -F 99 -o perf99.data -- ./burn $n" \
    -n 'pdrecord -F 1000 -g' "$bin/pdrecord -q -e $ev -F 1000 -g -o pd1000.data -- ./burn $n" \
    -n 'perf record -F 1000 -g' "perf record -q -e $ev -F 1000 -g -o perf1000.data -- ./burn $n" >&2

median() {
	awk -v n="$1" '
		/"command":/ { c = $0; sub(/.*"command": *"/, "", c); sub(/".*/, "", c) }
		/"median":/ && c == n { m = $2; sub(/,/, "", m); print m; exit }' record.json
}
base=$(median unprofiled)
{
	echo "bench: pdrecord overhead on burn $n, event $ev ($(uname -r), $(nproc) CPUs, $(perf --version)), median of $runs"
	printf '  %-24s %8.3f s\n' unprofiled "$base"
	for c in 'pdrecord -F 99' 'perf record -F 99' 'pdrecord -F 1000 -g' 'perf record -F 1000 -g'; do
		m=$(median "$c")
		printf '  %-24s %8.3f s   %+6.2f%%\n' "$c" "$m" "$(echo "$m $base" | awk '{ print ($1 / $2 - 1) * 100 }')"
	done
	for pair in 'pd99 perf99' 'pd1000 perf1000'; do
		set -- $pair
		a=$(stat -c %s "$1.data")
		b=$(stat -c %s "$2.data")
		printf '  size %-8s %9s bytes, %-8s %9s bytes (%+.1f%%)\n' "$1" "$a" "$2" "$b" \
		    "$(echo "$a $b" | awk '{ print ($1 / $2 - 1) * 100 }')"
	done
} | tee record-results.txt
