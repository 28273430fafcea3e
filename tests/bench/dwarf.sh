#!/bin/sh
# make bench: pdcollapse against perf script on a --call-graph dwarf
# recording of at least 100 MB (a program without frame pointers, through
# libc), with hyperfine; and the peak RSS of both.
#
#   BENCH_DIR     where the recording goes (default: build/bench)
#   BENCH_RUNS    hyperfine runs per command (default 5)
set -eu
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
dir=${BENCH_DIR:-$bin/bench}
mkdir -p "$dir"
cd "$dir"
export LC_ALL=C

command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (make deps)" >&2; exit 2; }
command -v perf >/dev/null || { echo "bench: perf is missing (make deps)" >&2; exit 2; }
cc -O2 -g -fomit-frame-pointer -o nofp "$src/tests/data/nofp.c"
if [ ! -s dwarf.data ] || [ "$(stat -c %s dwarf.data)" -lt 100000000 ]; then
	n=8000
	while :; do
		echo "bench: recording dwarf.data (nofp $n, --call-graph dwarf)" >&2
		perf record -q --call-graph dwarf -o dwarf.data ./nofp "$n" >/dev/null 2>&1 || {
			echo "bench: perf record failed (perf_event_paranoid?)" >&2; exit 2; }
		size=$(stat -c %s dwarf.data)
		[ "$size" -ge 100000000 ] && break
		n=$(( n * 110000000 / size + 1 ))
	done
fi

hyperfine --warmup 1 --runs "${BENCH_RUNS:-5}" --export-json dwarf.json --output=null \
    -n pdcollapse "$bin/pdcollapse dwarf.data" \
    -n 'pdcollapse --no-inline' "$bin/pdcollapse --no-inline dwarf.data" \
    -n 'perf script' "perf script -i dwarf.data" >&2

mean() {
	awk -v n="$1" '
		/"command":/ { c = $0; sub(/.*"command": *"/, "", c); sub(/".*/, "", c) }
		/"mean":/ && c == n { m = $2; sub(/,/, "", m); print m; exit }' dwarf.json
}
rss() {
	/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
}
pd=$(mean pdcollapse)
pn=$(mean 'pdcollapse --no-inline')
ps=$(mean 'perf script')
{
	echo "bench: $(stat -c %s dwarf.data) byte --call-graph dwarf recording ($(perf report --stats -i dwarf.data 2>/dev/null | awk '/ SAMPLE events:/ { print $3; exit }') samples)"
	printf '  pdcollapse      %8.3f s   peak RSS %7s KB   (inlined frames, as perf script)\n' "$pd" \
	    "$(rss "$bin/pdcollapse" dwarf.data)"
	printf '    --no-inline   %8.3f s   peak RSS %7s KB\n' "$pn" "$(rss "$bin/pdcollapse" --no-inline dwarf.data)"
	printf '  perf script     %8.3f s   peak RSS %7s KB   (pdcollapse is %.1fx faster)\n' "$ps" \
	    "$(rss perf script -i dwarf.data)" "$(echo "$ps $pd" | awk '{ print $1 / $2 }')"
	"$bin/pdcollapse" -v dwarf.data 2>&1 >/dev/null | grep 'DWARF samples' | sed 's/^/  /'
} | tee dwarf-results.txt
