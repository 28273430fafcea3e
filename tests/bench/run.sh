#!/bin/sh
# make bench: time pdcollapse against perf script (and the anchors when they
# are on PATH or named by env vars) on frame-pointer recordings of >= 80 MB
# and >= 500 MB made here, with hyperfine; report peak RSS for both sizes.
#
#   BENCH_DIR        where recordings go (default: build/bench)
#   BENCH_QUICK=1    skip the 500 MB recording
#   BENCH_RUNS       hyperfine runs per command (default 5)
#   STACKCOLLAPSE    path to stackcollapse-perf.pl (default: from PATH)
#   INFERNO_COLLAPSE path to inferno-collapse-perf (default: from PATH)
set -eu
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
dir=${BENCH_DIR:-$bin/bench}
mkdir -p "$dir"
cd "$dir"
export LC_ALL=C

command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (make deps)" >&2; exit 2; }
command -v perf >/dev/null || { echo "bench: perf is missing (make deps)" >&2; exit 2; }
cc -O2 -fno-omit-frame-pointer -o work "$src/tests/bench/work.c"

# record NAME MB [perf record options]: a -g recording of at least MB megabytes.
record() {
	name=$1
	mb=$2
	shift 2
	if [ -s "$name.data" ] && [ "$(stat -c %s "$name.data")" -ge $((mb * 1000000)) ]; then
		return
	fi
	secs=$(( mb / 14 + 1 ))
	while :; do
		echo "bench: recording $name.data (${secs}s of work, -F 20000 -g)" >&2
		perf record -q -F 20000 -g "$@" -o "$name.data" ./work "$secs" >/dev/null 2>&1 || {
			echo "bench: perf record failed (perf_event_paranoid?)" >&2; exit 2; }
		size=$(stat -c %s "$name.data")
		[ "$size" -ge $((mb * 1000000)) ] && break
		secs=$(( secs * mb * 1000000 / size + 1 ))
	done
}

# rss CMD...: peak resident set size in KB.
rss() {
	/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
}

record small 80
[ "${BENCH_QUICK:-0}" = 1 ] || record big 500
# User space only: the distinct stacks stop growing once every call path
# has been seen, so these two show memory against file size alone.
[ "${BENCH_QUICK:-0}" = 1 ] || { record small_u 80 -e cpu-clock:u; record big_u 500 -e cpu-clock:u; }

sc=${STACKCOLLAPSE:-$(command -v stackcollapse-perf.pl || true)}
ic=${INFERNO_COLLAPSE:-$(command -v inferno-collapse-perf || true)}
set -- -n pdcollapse "$bin/pdcollapse small.data" \
       -n 'perf script' "perf script -i small.data"
[ -n "$sc" ] && set -- "$@" -n 'perf script | stackcollapse-perf.pl' "perf script -i small.data | $sc"
[ -n "$ic" ] && set -- "$@" -n 'perf script | inferno-collapse-perf' "perf script -i small.data | $ic"
hyperfine --warmup 1 --runs "${BENCH_RUNS:-5}" --export-json hyperfine.json --output=null "$@" >&2

mean() {
	awk -v n="$1" '
		/"command":/ { c = $0; sub(/.*"command": *"/, "", c); sub(/".*/, "", c) }
		/"mean":/ && c == n { m = $2; sub(/,/, "", m); print m; exit }' hyperfine.json
}
pd=$(mean pdcollapse)
ps=$(mean 'perf script')
{
	echo "bench: $(stat -c %s small.data) byte frame-pointer recording ($(uname -r), $(nproc) CPUs, $(perf --version))"
	printf '  pdcollapse           %8.3f s\n' "$pd"
	printf '  perf script          %8.3f s   (pdcollapse is %.1fx faster)\n' "$ps" "$(echo "$ps $pd" | awk '{ print $1 / $2 }')"
	if [ -n "$sc" ]; then
		m=$(mean 'perf script | stackcollapse-perf.pl')
		printf '  perf script | stackcollapse-perf.pl %8.3f s   (%.1fx)\n' "$m" "$(echo "$m $pd" | awk '{ print $1 / $2 }')"
	fi
	if [ -n "$ic" ]; then
		m=$(mean 'perf script | inferno-collapse-perf')
		printf '  perf script | inferno-collapse-perf %8.3f s   (%.1fx)\n' "$m" "$(echo "$m $pd" | awk '{ print $1 / $2 }')"
	fi
	for f in small big small_u big_u; do
		[ -s "$f.data" ] || continue
		printf '  %-8s %4s MB: peak RSS %6s KB, %6s distinct stacks out, %5s s\n' "$f" \
		    "$(( $(stat -c %s "$f.data") / 1000000 ))" "$(rss "$bin/pdcollapse" "$f.data")" \
		    "$("$bin/pdcollapse" -q "$f.data" | grep -vc '^#')" \
		    "$(/usr/bin/time -f %e "$bin/pdcollapse" "$f.data" 2>&1 >/dev/null | tail -n 1)"
	done
} | tee results.txt
