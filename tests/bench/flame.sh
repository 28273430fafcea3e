#!/bin/sh
# Benchmark pdflame (and flamegraph.pl when FLAMEGRAPH names it) on a
# synthetic folded file: 200k unique stacks, depths 5 to 40, made by a
# deterministic generator (a Park-Miller generator in awk, so every awk gives
# the same bytes).  Reports wall time (hyperfine), peak RSS (/usr/bin/time
# -f %M) and the SVG size.
#
#   tests/bench/flame.sh BUILD_DIR
#   BENCH_DIR    where the input and outputs go (default: BUILD_DIR/bench)
#   FLAMEGRAPH   path to flamegraph.pl (default: from PATH)
#   INFERNO      path to inferno-flamegraph (default: from PATH)
#   STACKS       number of unique stacks (default 200000)
set -eu
bin=$(cd "${1:?usage: flame.sh BUILD_DIR}" && pwd)
dir=${BENCH_DIR:-$bin/bench}
stacks=${STACKS:-200000}
mkdir -p "$dir"
cd "$dir"
export LC_ALL=C

in=flame-$stacks.folded
if [ ! -s "$in" ]; then
	echo "bench: generating $in" >&2
	awk -v n="$stacks" '
	function rnd(m) { seed = (seed * 16807) % 2147483647; return seed % m }
	BEGIN {
		seed = 42
		split("net io mm sched fs vfs ext4 tcp http json db cache alloc gc rt ui core", mod, " ")
		split("read write poll parse encode decode lookup insert flush open close send recv map walk hash sort scan emit load store init free", verb, " ")
		nf = 5000
		for (i = 0; i < nf; i++)
			name[i] = mod[i % 17 + 1] "::" verb[i % 23 + 1] "_" i
		while (made < n) {
			d = 5 + rnd(36)
			f = rnd(8)
			s = "app;" name[f]
			for (k = 1; k < d; k++) {
				f = (f * 31 + rnd(6) * 977 + k) % nf
				s = s ";" name[f]
			}
			if (s in seen)
				continue
			seen[s] = 1
			made++
			print s, 1 + rnd(1000) * rnd(1000) % 997
		}
	}' >"$in.tmp" && mv "$in.tmp" "$in"
fi
echo "bench: $in: $(wc -l <"$in") stacks, $(wc -c <"$in") bytes" >&2

rss() {
	/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
}

set -- -n pdflame "$bin/pdflame $in > pdflame.svg"
fg=${FLAMEGRAPH:-$(command -v flamegraph.pl || true)}
inf=${INFERNO:-$(command -v inferno-flamegraph || true)}
[ -n "$fg" ] && set -- "$@" -n flamegraph.pl "perl $fg $in > flamegraph.svg"
[ -n "$inf" ] && set -- "$@" -n inferno "$inf $in > inferno.svg"
runs=${BENCH_RUNS:-5}
[ -n "$fg" ] && runs=${BENCH_RUNS:-2}
hyperfine --warmup 1 --runs "$runs" --export-markdown flame-bench.md "$@" >&2
cat flame-bench.md
printf '\n| tool | peak RSS (KB) | SVG bytes |\n| --- | --- | --- |\n'
printf '| pdflame | %s | %s |\n' "$(rss "$bin/pdflame" "$in")" "$(wc -c <pdflame.svg)"
[ -n "$fg" ] && printf '| flamegraph.pl | %s | %s |\n' "$(rss perl "$fg" "$in")" "$(wc -c <flamegraph.svg)"
[ -n "$inf" ] && printf '| inferno | %s | %s |\n' "$(rss "$inf" "$in")" "$(wc -c <inferno.svg)"

# A real profile too: the 80 MB recording of tests/bench/run.sh, folded.
if [ -s small.data ]; then
	"$bin/pdcollapse" -q small.data >real.folded
	echo "bench: real.folded (pdcollapse of small.data): $(grep -vc '^#' real.folded) stacks" >&2
	set -- -n 'pdflame (real)' "$bin/pdflame real.folded > real-pdflame.svg"
	[ -n "$fg" ] && set -- "$@" -n 'flamegraph.pl (real)' "perl $fg real.folded > real-flamegraph.svg"
	[ -n "$inf" ] && set -- "$@" -n 'inferno (real)' "$inf real.folded > real-inferno.svg"
	hyperfine --warmup 1 --runs "$runs" --export-markdown flame-real.md "$@" >&2
	cat flame-real.md
fi
exit 0
