#!/bin/sh
# Which input a reader takes with no file operand, as perf decides: standard
# input when it is a pipe or a socket (or '-' is given), ./perf.data
# otherwise - also when standard input is /dev/null, a regular file, or
# closed, as in cron jobs and CI steps.  pddiff: perf.data.old against that
# default, or against its one operand, as perf diff.
. "$PD_SRC/tests/cli/lib.sh"

D=$PD_SRC/tests/data
mkdir "$TMP/cwd"
cp "$D/fp.data" "$TMP/cwd/perf.data"
cp "$D/fp.data" "$TMP/cwd/perf.data.old"
cd "$TMP/cwd" || exit 2

# The references: each tool on the file by name.
pdcollapse perf.data >"$TMP/ref.pdcollapse" 2>/dev/null
pdtop perf.data >"$TMP/ref.pdtop" 2>/dev/null
pdjson -f summary perf.data >"$TMP/ref.pdjson" 2>/dev/null
pddiff --format=table perf.data.old perf.data >"$TMP/ref.pddiff" 2>/dev/null
for t in pdcollapse pdtop pdjson pddiff; do
	[ -s "$TMP/ref.$t" ] || not_ok "$t perf.data gives output" "empty $TMP/ref.$t"
done

# same NAME TOOL: the last run ($TMP/out, $rc) equals the reference, exit 0.
same() {
	if [ "$rc" -eq 0 ] && cmp -s "$TMP/out" "$TMP/ref.$2" && ! grep -q "stdin\|empty" "$TMP/err"; then
		ok "$1"
	else
		not_ok "$1" "exit $rc" "stderr: $(head -c 300 "$TMP/err")" "$(diff "$TMP/ref.$2" "$TMP/out" | head -5)"
	fi
}

# norm FILE: pdjson names its input ("<stdin>" or the path); not the point here.
norm() {
	sed 's/"file":"[^"]*"/"file":"INPUT"/' "$1" >"$1.n" && mv "$1.n" "$1"
}

for t in pdcollapse pdtop pdjson pddiff; do
	case $t in
	pdjson) set -- pdjson -f summary ;;
	pddiff) set -- pddiff --format=table ;;
	*) set -- "$t" ;;
	esac
	run_tool "$TMP/out" "$TMP/err" "$@" </dev/null
	same "$t </dev/null reads ./perf.data" "$t"
	rc=0
	"$@" >"$TMP/out" 2>"$TMP/err" <&- || rc=$?
	same "$t with standard input closed reads ./perf.data" "$t"
	run_tool "$TMP/out" "$TMP/err" "$@" <"$D/README"
	same "$t with a regular file as standard input reads ./perf.data" "$t"
	# From a pipe: another recording, so that the bytes tell which was read.
	rc=$({ { cat "$D/pipe-fp.data" | "$@" >"$TMP/out" 2>"$TMP/err"; echo $? >&3; }; } 3>&1)
	if [ "$t" = pddiff ]; then
		# NEW from the pipe, BASE perf.data.old: compare with the named form.
		run_tool "$TMP/out2" "$TMP/err2" pddiff --format=table perf.data.old "$D/pipe-fp.data"
	else
		run_tool "$TMP/out2" "$TMP/err2" "$@" "$D/pipe-fp.data"
	fi
	norm "$TMP/out"
	norm "$TMP/out2"
	if [ "$rc" -eq 0 ] && cmp -s "$TMP/out" "$TMP/out2" && ! cmp -s "$TMP/out" "$TMP/ref.$t"; then
		ok "$t from a pipe reads the pipe"
	else
		not_ok "$t from a pipe" "exit $rc" "stderr: $(head -c 300 "$TMP/err")"
	fi
	# '-' explicit: standard input even when it is a regular file.
	if [ "$t" = pddiff ]; then
		run_tool "$TMP/out" "$TMP/err" "$@" perf.data.old - <"$D/pipe-fp.data"
	else
		run_tool "$TMP/out" "$TMP/err" "$@" - <"$D/pipe-fp.data"
	fi
	norm "$TMP/out"
	if [ "$rc" -eq 0 ] && cmp -s "$TMP/out" "$TMP/out2"; then
		ok "$t - reads standard input (a regular file)"
	else
		not_ok "$t -" "exit $rc" "stderr: $(head -c 300 "$TMP/err")"
	fi
done

# From a socket: pdtop reads it (a UNIX socket pair made by the shell is not
# portable; python's socketpair gives one).
if command -v python3 >/dev/null 2>&1; then
	python3 - "$D/pipe-fp.data" "$TMP/out" "$TMP/err" <<'PY'
import os, socket, subprocess, sys
a, b = socket.socketpair()
p = subprocess.Popen(["pdtop"], stdin=b.fileno(), stdout=open(sys.argv[2], "wb"), stderr=open(sys.argv[3], "wb"))
b.close()
a.sendall(open(sys.argv[1], "rb").read())
a.shutdown(socket.SHUT_WR)
sys.exit(p.wait())
PY
	rc=$?
	run_tool "$TMP/out2" "$TMP/err2" pdtop "$D/pipe-fp.data"
	if [ "$rc" -eq 0 ] && cmp -s "$TMP/out" "$TMP/out2"; then
		ok "pdtop reads standard input when it is a socket"
	else
		not_ok "pdtop from a socket" "exit $rc" "stderr: $(head -c 300 "$TMP/err")"
	fi
else
	skip "python3 is not installed (socket test)"
fi

# pddiff with one operand: perf.data.old against it, as perf diff.
run_tool "$TMP/out" "$TMP/err" pddiff --format=table perf.data </dev/null
same "pddiff NEW compares perf.data.old with NEW" pddiff
# Without ./perf.data.old the message names it.
rm perf.data.old
expect_exit 2 "pddiff without perf.data.old: exit 2" pddiff perf.data </dev/null
grep -q "perf.data.old" "$TMP/err" && ok "... and the message names perf.data.old" ||
	not_ok "message names perf.data.old" "$(cat "$TMP/err")"
# Without ./perf.data, the closed stdin is not read: the message names perf.data.
rm perf.data
for t in pdcollapse pdtop pdjson; do
	expect_exit 2 "$t </dev/null without ./perf.data: exit 2" "$t" </dev/null
	grep -q "'perf.data'" "$TMP/err" && ok "... and $t names perf.data" ||
		not_ok "$t names perf.data" "$(cat "$TMP/err")"
done

done_testing
