#!/bin/sh
# run.sh FUZZ_DIR SECONDS TARGET... - run libFuzzer targets built by
# make fuzz (FUZZ_DIR/TARGET-fuzz), each for SECONDS of wall time, two at a
# time, starting from the committed corpus tests/fuzz/corpus/TARGET/ (read
# only: new inputs go to a scratch directory).  Any crash, leak, timeout,
# allocation past the cap or broken invariant fails, and its input is kept
# in $FUZZ_ARTIFACTS (default: a temporary directory, printed).
#
# The flags are those of RELIABILITY.md 6.1: one input may take at most
# 10 s, one allocation at most 256 MB, the process at most 2 GB.
set -u
dir=$1
secs=$2
shift 2
src=$(cd "$(dirname "$0")/../.." && pwd)
art=${FUZZ_ARTIFACTS:-$(mktemp -d "${TMPDIR:-/tmp}/pd-fuzz.XXXXXX")}
mkdir -p "$art"
jobs=${FUZZ_JOBS:-2}

# run_one TARGET: one libFuzzer run; the log is $art/TARGET.log.
run_one() {
	t=$1
	bin=$dir/$t-fuzz
	scratch=$art/$t-new
	mkdir -p "$scratch"
	set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 \
	    -print_final_stats=1 -artifact_prefix="$art/$t-"
	case $t in
	reader | pipe) set -- "$@" -dict="$src/tests/fuzz/perf.dict" -max_len=262144 ;;
	*) set -- "$@" -max_len=65536 ;;
	esac
	if [ ! -x "$bin" ]; then
		echo "fuzz $t: no $bin (run make fuzz)" >"$art/$t.log"
		return 2
	fi
	set -- "$@" "$scratch" "$src/tests/fuzz/corpus/$t"
	# The reader also starts from the recorded fixtures and the malformed corpus.
	if [ "$t" = reader ]; then
		mkdir -p "$art/seeds"
		cp "$src"/tests/data/*.data "$src"/tests/data/bad/*.data "$art/seeds/"
		set -- "$@" "$art/seeds"
	fi
	"$bin" "$@" >"$art/$t.log" 2>&1
}

status=0
set -- "$@"
while [ $# -gt 0 ]; do
	pids=
	names=
	n=0
	while [ $# -gt 0 ] && [ $n -lt "$jobs" ]; do
		run_one "$1" &
		pids="$pids $!"
		names="$names $1"
		n=$((n + 1))
		shift
	done
	set -- "$@"
	i=0
	for p in $pids; do
		i=$((i + 1))
		t=$(echo $names | cut -d' ' -f$i)
		if wait "$p"; then
			stats=$(grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|#[0-9]+[[:space:]]+DONE)' "$art/$t.log" |
			    tr -s ' ' | tr '\n' ' ')
			echo "fuzz $t: ok, ${secs}s: $stats"
		else
			status=1
			echo "fuzz $t: FAILED; log $art/$t.log; inputs: $(ls "$art" | grep "^$t-[a-z]*-" | tr '\n' ' ')"
			grep -E 'ERROR|fuzz invariant|SUMMARY|runtime error' "$art/$t.log" | head -n 5
		fi
	done
done
[ $status -eq 0 ] && [ -z "${FUZZ_ARTIFACTS:-}" ] && rm -rf "$art"
exit $status
