#!/bin/sh
# The fuzz targets (tests/fuzz/*.c) without libFuzzer: each replayer runs
# its target over the committed corpus tests/fuzz/corpus/TARGET/ (minimized
# campaigns, and every input that ever crashed), and the perf.data targets
# also over the malformed fixtures and the good recordings.  No crash, no
# sanitizer report (under make asan), no broken harness invariant (errors
# carry offsets, samples are conserved, output is bounded, reading a pipe in
# pieces equals reading it at once, the SVG and the JSON are well-formed).
# The replayer prints TAP itself; a crash ends it early and fails the plan.
. "$PD_SRC/tests/cli/lib.sh"

targets=
for f in "$PD_SRC"/tests/fuzz/*.c; do
	t=${f##*/}
	t=${t%.c}
	[ "$t" = replay ] || targets="$targets $t"
done
[ -n "$targets" ] || skip_all "no fuzz targets"

for t in $targets; do
	# Under make valgrind, the memcheck wrapper (tests/valgrind/run.sh).
	R=${PD_VALGRIND:-$PD_BIN}/tests/fuzz/$t-replay
	if [ ! -x "$R" ]; then
		not_ok "$t: replayer built" "no $R (run make tests)"
		continue
	fi
	set -- "$PD_SRC/tests/fuzz/corpus/$t"
	[ "$t" = reader ] && set -- "$@" "$PD_SRC/tests/data/bad" "$PD_SRC"/tests/data/*.data
	# timeout: a hang fails instead of blocking the test run.
	rc=0
	timeout 300 "$R" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	n=$(grep -c '^ok ' "$TMP/out" || true)
	grep '^not ok ' "$TMP/out" >"$TMP/bad" || true
	if [ "$rc" -eq 0 ] && [ ! -s "$TMP/bad" ] && grep -q "^1\.\.$n\$" "$TMP/out" && [ "$n" -gt 0 ]; then
		ok "$t: $n inputs replayed, no crash, invariants hold"
	else
		not_ok "$t: corpus replayed" "exit $rc after $n inputs" "$(head -c 300 "$TMP/bad")" \
		    "last: $(grep '^ok ' "$TMP/out" | tail -n 1)" "stderr: $(tail -c 600 "$TMP/err")"
	fi
done

done_testing
