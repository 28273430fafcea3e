#!/bin/sh
# make bench: time pdtop against perf report --stdio in the same mode, on the
# >= 80 MB frame-pointer recording of tests/bench/run.sh (made here when it
# is missing), with hyperfine.  Goals (issue 5): >= 5x faster than perf
# report --stdio in the same mode (children, and --no-children), and not
# slower than perf report -g none.  Also checks that the numbers agree.
#
#   BENCH_DIR        where recordings go (default: build/bench)
#   BENCH_RUNS       hyperfine runs per command (default 5)
set -eu
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
dir=${BENCH_DIR:-$bin/bench}
mkdir -p "$dir"
cd "$dir"
export LC_ALL=C

command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (make deps)" >&2; exit 2; }
command -v perf >/dev/null || { echo "bench: perf is missing (make deps)" >&2; exit 2; }

# The same recording as run.sh: -F 20000 -g of the bench workload, >= 80 MB.
if [ ! -s small.data ] || [ "$(stat -c %s small.data)" -lt 80000000 ]; then
	cc -O2 -fno-omit-frame-pointer -o work "$src/tests/bench/work.c"
	secs=6
	while :; do
		echo "bench: recording small.data (${secs}s of work, -F 20000 -g)" >&2
		perf record -q -F 20000 -g -o small.data ./work "$secs" >/dev/null 2>&1 || {
			echo "bench: perf record failed (perf_event_paranoid?)" >&2; exit 2; }
		size=$(stat -c %s small.data)
		[ "$size" -ge 80000000 ] && break
		secs=$(( secs * 80000000 / size + 1 ))
	done
fi

pt=$bin/pdtop
set -- -n 'pdtop (children)' "$pt small.data" \
       -n 'perf report --stdio (children)' "perf report --stdio -i small.data" \
       -n 'perf report --stdio -g none (children)' "perf report --stdio -g none -i small.data" \
       -n 'pdtop --no-children' "$pt --no-children small.data" \
       -n 'perf report --stdio --no-children' "perf report --stdio --no-children -i small.data" \
       -n 'perf report --stdio --no-children -g none' "perf report --stdio --no-children -g none -i small.data" \
       -n 'pdtop --sort=symbol --format=tsv' "$pt --sort=symbol --format=tsv small.data"
hyperfine --warmup 1 --runs "${BENCH_RUNS:-5}" --export-json top-hyperfine.json --output=null "$@" >&2

mean() {
	awk -v n="$1" '
		/"command":/ { c = $0; sub(/.*"command": *"/, "", c); sub(/".*/, "", c) }
		/"mean":/ && c == n { m = $2; sub(/,/, "", m); print m; exit }' top-hyperfine.json
}
ratio() { echo "$1 $2" | awk '{ printf "%.1f", $1 / $2 }'; }

# The rows must be perf's: every row of both tables, compared as text.
rows() { grep '%' | grep -v Tip | sed 's/ *$//; s/  *-  *-$//'; }
perf report --stdio -g none -i small.data 2>/dev/null | rows >perf-rows.txt
"$pt" small.data | rows >pdtop-rows.txt
same=$(awk 'FNR == 1 { f++ } f == 1 { a[$0]++; n++; next } ($0 in a) && a[$0]-- > 0 { m++ } END { printf "%d of %d", m, n }' \
    perf-rows.txt pdtop-rows.txt)

c=$(mean 'pdtop (children)')
cr=$(mean 'perf report --stdio (children)')
cg=$(mean 'perf report --stdio -g none (children)')
s=$(mean 'pdtop --no-children')
sr=$(mean 'perf report --stdio --no-children')
sg=$(mean 'perf report --stdio --no-children -g none')
{
	echo "bench: pdtop on a $(stat -c %s small.data) byte frame-pointer recording ($(uname -r), $(nproc) CPUs, $(perf --version))"
	printf '  pdtop (children)                           %7.3f s\n' "$c"
	printf '  perf report --stdio (children)             %7.3f s   (pdtop is %sx faster; goal >= 5x)\n' "$cr" "$(ratio "$cr" "$c")"
	printf '  perf report --stdio -g none (children)     %7.3f s   (%sx; goal >= 1x)\n' "$cg" "$(ratio "$cg" "$c")"
	printf '  pdtop --no-children                        %7.3f s\n' "$s"
	printf '  perf report --stdio --no-children          %7.3f s   (%sx; goal >= 5x)\n' "$sr" "$(ratio "$sr" "$s")"
	printf '  perf report --stdio --no-children -g none  %7.3f s   (%sx; goal >= 1x)\n' "$sg" "$(ratio "$sg" "$s")"
	printf '  pdtop --sort=symbol --format=tsv           %7.3f s\n' "$(mean 'pdtop --sort=symbol --format=tsv')"
	printf '  rows equal to perf report -g none: %s; peak RSS pdtop %s KB, perf report %s KB\n' "$same" \
	    "$(/usr/bin/time -f %M "$pt" small.data 2>&1 >/dev/null | tail -n 1)" \
	    "$(/usr/bin/time -f %M perf report --stdio -g none -i small.data 2>&1 >/dev/null | tail -n 1)"
} | tee top-results.txt
