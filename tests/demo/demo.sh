#!/bin/sh
# make demo: record the bundled workload with pdrecord, fold it with
# pdcollapse and draw it with pdflame: demo.folded and demo.svg.
set -eu
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pddemo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cc -O2 -g -fno-omit-frame-pointer -o "$tmp/work" "$src/tests/bench/work.c"
if ! "$bin/pdrecord" -q -F 999 -g -o "$tmp/perf.data" -- "$tmp/work" 1 2>"$tmp/err"; then
	echo "demo: pdrecord failed: $(tail -n 1 "$tmp/err")" >&2
	exit 2
fi
"$bin/pdcollapse" "$tmp/perf.data" >demo.folded
"$bin/pdflame" --title "pdtools demo: tests/bench/work.c" --colors=kind demo.folded >demo.svg
echo "demo: wrote demo.folded ($(grep -vc '^#' demo.folded) stacks) and demo.svg" >&2
