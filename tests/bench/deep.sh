#!/bin/sh
# make bench: deep stacks (issue 18).  Times every tool and format that
# reads folded text on one folded line of 10^6 frames (2 MB), and pddiff on
# identical stacks of 10^5 frames, with hyperfine, each run with a 1 MiB
# stack (ulimit -s 1024) as tests/cli/deep.t does.  Goals: under 2 s per
# tool and format at 10^6 frames (also in the ASan build: make O=build-asan
# SANITIZE=address,undefined OPT='-O1 -g' all, then this script on it), and
# pddiff on identical 10^5-frame stacks under 1 s.
#
#   tests/bench/deep.sh BUILD_DIR
#   BENCH_DIR    where the inputs go (default: BUILD_DIR/bench)
#   BENCH_RUNS   hyperfine runs per command (default 3)
set -eu
bin=$(cd "${1:?usage: deep.sh BUILD_DIR}" && pwd)
dir=${BENCH_DIR:-$bin/bench}
mkdir -p "$dir"
cd "$dir"
export LC_ALL=C

command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (make deps)" >&2; exit 2; }

# deep N LEAF COUNT: one folded line of N frames a;b;...;z;a;... then LEAF.
deep() {
	awk -v n="$1" -v leaf="$2" -v c="$3" 'BEGIN {
		for (i = 0; i < n - 1; i++) printf "%c;", 97 + i % 26
		print leaf " " c }'
}
deep 1000000 leaf 7 >deep-1e6.folded
deep 1000000 other 4 >deep-1e6-new.folded
deep 1000000 leaf "3 5" >deep-1e6-diff.folded
# 10^5 distinct frames: the names differ, as in a real deep recursion-free chain.
awk 'BEGIN { for (i = 0; i < 99999; i++) printf "f%d;", i; print "leaf 7" }' >deep-1e5.folded

s="ulimit -s 1024 &&"
set -- \
    -n 'pdflame' "$s $bin/pdflame deep-1e6.folded" \
    -n 'pdflame --reverse' "$s $bin/pdflame --reverse deep-1e6.folded" \
    -n 'pdflame --inverted' "$s $bin/pdflame --inverted deep-1e6.folded" \
    -n 'pdflame differential' "$s $bin/pdflame deep-1e6-diff.folded" \
    -n 'pdtop' "$s $bin/pdtop deep-1e6.folded" \
    -n 'pdtop --no-children' "$s $bin/pdtop --no-children deep-1e6.folded" \
    -n 'pdjson -f tree' "$s $bin/pdjson -f tree deep-1e6.folded" \
    -n 'pdjson -f speedscope' "$s $bin/pdjson -f speedscope deep-1e6.folded" \
    -n 'pdjson -f summary' "$s $bin/pdjson -f summary deep-1e6.folded" \
    -n 'pddiff identical 1e6' "$s $bin/pddiff deep-1e6.folded deep-1e6.folded" \
    -n 'pddiff differing 1e6' "$s $bin/pddiff --no-gate deep-1e6.folded deep-1e6-new.folded" \
    -n 'pddiff --format=table 1e6' "$s $bin/pddiff --no-gate --format=table deep-1e6.folded deep-1e6-new.folded" \
    -n 'pddiff identical 1e5 distinct' "$s $bin/pddiff deep-1e5.folded deep-1e5.folded"
hyperfine --warmup 1 --runs "${BENCH_RUNS:-3}" --export-json deep-hyperfine.json --output=null "$@" >&2

awk -v bin="$bin" '
	BEGIN { print "bench: deep stacks (" bin "), one folded line of 10^6 frames, ulimit -s 1024" }
	/"command":/ { c = $0; sub(/.*"command": *"/, "", c); sub(/".*/, "", c) }
	/"mean":/ { m = $2; sub(/,/, "", m)
		goal = c ~ /1e5/ ? 1 : 2
		printf "  %-32s %7.3f s   (goal < %d s%s)\n", c, m, goal, m < goal ? "" : ": MISSED" }
' deep-hyperfine.json | tee deep-results.txt
