#!/bin/sh
# make demo: record the bundled workload and fold it into demo.folded.
# perf record does the recording until pdrecord exists (issue 4).
set -eu
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pddemo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cc -O2 -g -fno-omit-frame-pointer -o "$tmp/work" "$src/tests/bench/work.c"
if ! perf record -q -F 999 -g -o "$tmp/perf.data" "$tmp/work" 1 >/dev/null 2>"$tmp/err"; then
	echo "demo: perf record failed: $(tail -n 1 "$tmp/err")" >&2
	echo "demo: is perf installed and /proc/sys/kernel/perf_event_paranoid <= 2?" >&2
	exit 2
fi
"$bin/pdcollapse" "$tmp/perf.data" > demo.folded
echo "demo: wrote demo.folded ($(grep -vc '^#' demo.folded) stacks); draw it with: flamegraph.pl demo.folded > demo.svg" >&2
