#!/bin/sh
# The fuzz target (tests/fuzz/reader.c) replayed over the malformed corpus
# and the good fixtures: reader, session and folding, in memory, must not
# crash, and must give every error a message with its offset.  The replayer
# prints TAP itself; a crash ends it early, which fails the plan here.
. "$PD_SRC/tests/cli/lib.sh"

R=$PD_BIN/tests/fuzz/reader-replay
[ -x "$R" ] || skip_all "no $R (run make tests)"

# timeout: a hang in the reader fails instead of blocking the test run.
rc=0
timeout 120 "$R" "$PD_SRC/tests/data/bad" "$PD_SRC"/tests/data/*.data >"$TMP/out" 2>"$TMP/err" || rc=$?
# Renumber the replayer's lines into this file's TAP stream.
while IFS= read -r line; do
	case $line in
	"ok "*) ok "${line#ok * - }" ;;
	"not ok "*) not_ok "${line#not ok * - }" ;;
	esac
done <"$TMP/out"
if [ "$rc" -eq 0 ] && grep -q '^1\.\.[1-9]' "$TMP/out"; then
	ok "replayer finished (exit 0)"
else
	not_ok "replayer finished (exit 0)" "exit $rc" "stderr: $(tail -c 600 "$TMP/err")"
fi

done_testing
