#!/bin/sh
# pdrecord under faults: a rotation that cannot keep the previous recording
# (NAME.old a directory, or not replaceable by this user), closed standard
# descriptors (<&- >&- 2>&-), planted symlinks, SIGKILL, SIGINT, SIGTERM
# and SIGHUP.  Nothing recorded before is lost, what pdrecord writes stays
# readable by pdcollapse and perf, and no temporary file outlives a
# pdrecord that could remove it.  See pdrecord(1) FILES and DIAGNOSTICS.
. "$PD_SRC/tests/cli/lib.sh"

cd "$TMP" || exit 2
pdrecord -q -e cpu-clock -o probe.data -- true >/dev/null 2>&1 ||
	skip_all "perf_event_open is not permitted here (perf_event_paranoid or seccomp)"
# perf is the oracle of readability where it can record here itself.
have_perf=false
can_record && have_perf=true

# readable NAME FILE: pdcollapse and perf report read FILE without a word
# ($perf_force: -f for a file of another user's).
readable() {
	if ! pdcollapse "$2" >"$TMP/col.out" 2>"$TMP/col.err" || [ -s "$TMP/col.err" ]; then
		not_ok "$1: pdcollapse reads it" "$(head -c 300 "$TMP/col.err")"
	elif ! $have_perf; then
		ok "$1: pdcollapse reads it (perf cannot record here: not asked)"
	elif perf report ${perf_force:-} --stdio -i "$2" >"$TMP/rep.out" 2>"$TMP/rep.err" && [ ! -s "$TMP/rep.err" ] &&
	    grep -q '^# Samples' "$TMP/rep.out"; then
		ok "$1: pdcollapse and perf report read it"
	else
		not_ok "$1: perf report complains" "$(head -n 3 "$TMP/rep.err" | tr '\n' '|')"
	fi
}

# one_err NAME WANT-RC REGEX: exit WANT-RC and exactly one line on stderr,
# matching REGEX.
one_err() {
	if [ "$rc" -eq "$2" ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -e "$3" "$TMP/err"; then
		ok "$1"
	else
		not_ok "$1" "exit $rc, want $2" "stderr: $(cat "$TMP/err")"
	fi
}

# wait_temp NAME: wait for the temporary of NAME (in .) to appear; sets $t.
wait_temp() {
	t=
	_i=0
	while [ "$_i" -lt 300 ]; do
		for _f in ".$1.pdrecord-"??????; do
			if [ -f "$_f" ]; then
				t=$_f
				return 0
			fi
		done
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# no_temp NAME FILE: no temporary of FILE is left.
no_temp() {
	_left=
	for _f in ".$2.pdrecord-"*; do
		if [ -e "$_f" ] || [ -L "$_f" ]; then _left="$_left $_f"; fi
	done
	if [ -z "$_left" ]; then ok "$1"; else not_ok "$1" "left: $_left"; fi
}

# --- rotation: NAME.old cannot be made ---------------------------------

# NAME.old a non-empty directory: rename(2) fails (for root too).
pdrecord -q -e cpu-clock -o r.data -- true && cp r.data r.prev
mkdir r.data.old && echo kept >r.data.old/x
run_tool "$TMP/out" "$TMP/err" pdrecord -q -e cpu-clock -o r.data -- true
one_err "rotation: .old a directory: one line even under -q, exit 125 with a command" 125 \
    "^pdrecord: cannot keep 'r.data' as 'r.data.old' (Is a directory), so it is left as it was; the new recording is in 'r.data.new'$"
check "rotation: .old a directory: the previous recording is byte-identical" cmp -s r.data r.prev
check "rotation: .old a directory: the directory and its file are untouched" grep -qx kept r.data.old/x
readable "rotation: .old a directory: the new recording" r.data.new
no_temp "rotation: .old a directory: no temporary left" r.data
# Without a command: exit 2, and r.data.new is not replaced either.
cp r.data.new r.new.prev
sh -c 'while :; do :; done' & spid=$!
run_tool "$TMP/out" "$TMP/err" pdrecord -q -e cpu-clock -p "$spid" --duration 0.2 -o r.data
kill "$spid" 2>/dev/null
one_err "rotation: .old a directory, no command: exit 2, the next free name" 2 \
    "^pdrecord: cannot keep 'r.data' as 'r.data.old' (Is a directory), so it is left as it was; the new recording is in 'r.data.new.1'$"
if cmp -s r.data r.prev && cmp -s r.data.new r.new.prev; then
	ok "rotation: .old a directory, no command: both earlier recordings are byte-identical"
else
	not_ok "rotation: .old a directory, no command: an earlier recording changed"
fi
readable "rotation: .old a directory, no command: the new recording" r.data.new.1

# NAME.old not replaceable by this user: root's file in a sticky directory,
# pdrecord run as nobody (root could replace anything).
find_nobody
pdr=$(command -v pdrecord)
nb_skip=
if [ -z "$as_nobody" ]; then
	nb_skip="not root, or neither setpriv nor su can run as nobody"
elif ! head -c 4 "$pdr" | grep -q 'ELF'; then
	nb_skip="pdrecord is a wrapper script here (valgrind), nobody cannot run it"
else
	chmod 755 "$TMP"
	mkdir sd ro && chmod 1777 sd && chmod 755 ro
	# A copy nobody can run: the build may lie under a home only root enters.
	mkdir nbbin && cp "$pdr" nbbin/pdrecord && chmod 755 nbbin nbbin/pdrecord
	pdr=$TMP/nbbin/pdrecord
	rc=0
	(cd sd && $as_nobody "$pdr" -q -e cpu-clock -o u.data -- true) >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 0 ] || nb_skip="nobody cannot record even its own command here ($(head -c 200 "$TMP/err"))"
fi
if [ -n "$nb_skip" ]; then
	for n in 1 2 3 4 5 6 7 8; do skip "rotation as nobody: $nb_skip"; done
else
	echo "root's" >sd/u.data.old
	cp sd/u.data u.prev
	cp sd/u.data.old u.oldprev
	rc=0
	(cd sd && $as_nobody "$pdr" -q -e cpu-clock -o u.data -- true) >"$TMP/out" 2>"$TMP/err" || rc=$?
	one_err "rotation: .old not replaceable (sticky directory, root's file): one line, exit 125" 125 \
	    "^pdrecord: cannot keep 'u.data' as 'u.data.old' (Operation not permitted), so it is left as it was; the new recording is in 'u.data.new'$"
	if cmp -s sd/u.data u.prev && cmp -s sd/u.data.old u.oldprev; then
		ok "rotation: .old not replaceable: the recording and .old are byte-identical"
	else
		not_ok "rotation: .old not replaceable: a file changed"
	fi
	perf_force=-f
	readable "rotation: .old not replaceable: the new recording" sd/u.data.new
	perf_force=
	cd sd || exit 2
	no_temp "rotation: .old not replaceable: no temporary left" u.data
	cd "$TMP" || exit 2
	# A directory nobody cannot write: stopped before recording, nothing touched.
	cp probe.data ro/v.data && chmod 644 ro/v.data
	rc=0
	$as_nobody "$pdr" -q -e cpu-clock -o ro/v.data -- true >"$TMP/out" 2>"$TMP/err" || rc=$?
	one_err "unwritable directory: one line naming it, exit 125" 125 \
	    "^pdrecord: cannot create 'ro/v.data': the directory 'ro' is not writable (Permission denied); give another -o$"
	check "unwritable directory: the previous recording is byte-identical" cmp -s ro/v.data probe.data
	if [ "$(ls -A ro)" = v.data ]; then
		ok "unwritable directory: nothing else in it"
	else
		not_ok "unwritable directory: files appeared" "$(ls -A ro | tr '\n' ' ')"
	fi
fi

# --- closed standard descriptors -----------------------------------------

# Under make valgrind, the wrapper that runs pdrecord under memcheck opens
# its log on the lowest free descriptor, so a descriptor closed here is open
# again when pdrecord starts: this section runs the program itself.
if [ -n "${PD_VALGRIND:-}" ]; then
	pdrecord() { "$PD_BIN/pdrecord" "$@"; }
fi

# probe_fd N: what a command sees of its descriptor N, on stderr (env(1) is the oracle).
probe='if [ -e /proc/self/fd/$0 ]; then echo "fd $0 open" >&2; else echo "fd $0 closed" >&2; fi'

# -o - with standard output closed: a clear error naming it, not ESRCH.
rc=0
pdrecord -q -e cpu-clock -o - -- true >&- 2>"$TMP/err" || rc=$?
one_err "closed: -o - >&-: one line naming standard output, exit 125" 125 \
    "^pdrecord: cannot write to standard output: it is closed"
sleep 3 & spid=$!
rc=0
pdrecord -q -e cpu-clock -o - -p "$spid" --duration 0.1 >&- 2>"$TMP/err" || rc=$?
kill "$spid" 2>/dev/null
one_err "closed: -o - >&- without a command: the same, exit 2" 2 \
    "^pdrecord: cannot write to standard output: it is closed"

# -o FILE with standard output closed: records; the command gets it closed, as from env.
want=$(env sh -c "$probe" 1 2>&1 >&-)
rc=0
pdrecord -q -e cpu-clock -o c1.data -- sh -c "$probe" 1 >&- 2>"$TMP/err" || rc=$?
if [ "$rc" -eq 0 ] && [ "$(cat "$TMP/err")" = "$want" ] && [ "$want" = "fd 1 closed" ]; then
	ok "closed: -o FILE >&-: exit 0, the command's stdout is closed, as under env"
else
	not_ok "closed: -o FILE >&-" "exit $rc" "stderr: $(cat "$TMP/err")" "env: $want"
fi
readable "closed: -o FILE >&-" c1.data
# No -o and standard output closed: not a pipe, so perf.data.
rc=0
pdrecord -q -e cpu-clock -- true >&- 2>"$TMP/err" || rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$TMP/err" ] && [ -s perf.data ]; then
	ok "closed: no -o, >&-: writes perf.data"
else
	not_ok "closed: no -o, >&-" "exit $rc" "stderr: $(cat "$TMP/err")"
fi

# Standard input closed: -o - and -o FILE record; the command gets it closed.
for o in - c0.data; do
	rc=0
	pdrecord -q -e cpu-clock -o "$o" -- sh -c "$probe" 0 <&- >"c0$o.out" 2>"$TMP/err" || rc=$?
	if [ "$rc" -eq 0 ] && [ "$(cat "$TMP/err")" = "fd 0 closed" ]; then
		ok "closed: -o $o <&-: exit 0, the command's stdin is closed, as under env"
	else
		not_ok "closed: -o $o <&-" "exit $rc" "stderr: $(cat "$TMP/err")"
	fi
done
want=$(env sh -c "$probe" 0 2>&1 <&-)
if [ "$want" = "fd 0 closed" ]; then ok "closed: <&-: env agrees"; else not_ok "closed: <&-: env says" "$want"; fi
if pdcollapse - <c0-.out >/dev/null 2>"$TMP/err" && [ ! -s "$TMP/err" ]; then
	ok "closed: -o - <&-: the stream is read by pdcollapse"
else
	not_ok "closed: -o - <&-: pdcollapse" "$(head -c 300 "$TMP/err")"
fi
readable "closed: -o FILE <&-" c0.data

# Standard error closed: -o - records a clean stream; the command's output,
# which goes to stderr with -o -, is closed with it, never into the data.
rm -f fd1-closed
rc=0
pdrecord -q -e cpu-clock -o - -- sh -c 'echo LEAK$((1 + 1))ED; [ -e /proc/self/fd/1 ] || : >fd1-closed' 2>&- >c2.out || rc=$?
if [ "$rc" -eq 0 ] && [ -e fd1-closed ] && ! grep -q LEAK2ED c2.out; then
	ok "closed: -o - 2>&-: exit 0, the command's output is closed, not in the data"
else
	not_ok "closed: -o - 2>&-" "exit $rc" "$(ls fd1-closed 2>&1)"
fi
if pdcollapse - <c2.out >/dev/null 2>"$TMP/err" && [ ! -s "$TMP/err" ]; then
	ok "closed: -o - 2>&-: the stream is read by pdcollapse"
else
	not_ok "closed: -o - 2>&-: pdcollapse" "$(head -c 300 "$TMP/err")"
fi
rc=0
pdrecord -q -e cpu-clock -o c2.data -- true 2>&- || rc=$?
check "closed: -o FILE 2>&-: exit 0" [ "$rc" -eq 0 ]
readable "closed: -o FILE 2>&-" c2.data
rc=0
pdrecord -q -e cpu-clock -o nodir/x.data -- true 2>&- || rc=$?
check "closed: 2>&- and an error: exit 125 still says it" [ "$rc" -eq 125 ]

[ -z "${PD_VALGRIND:-}" ] || unset -f pdrecord

# --- temporary files ----------------------------------------------------

# The old predictable names, planted as symlinks for the very PID that
# runs pdrecord (sh execs it), and a symlink at a name of the new pattern:
# none is followed, none matters.
echo victim >victim
rc=0
sh -c 'i=0; while [ $i -lt 100 ]; do ln -s victim ".s.data.$$.$i.tmp"; i=$((i + 1)); done
	ln -s victim .s.data.pdrecord-AAAAAA
	exec "$0" -q -e cpu-clock -o s.data -- true' "$(command -v pdrecord)" >"$TMP/out" 2>"$TMP/err" || rc=$?
if [ "$rc" -eq 0 ] && [ -f s.data ] && [ ! -L s.data ] && grep -qx victim victim &&
    [ -L .s.data.pdrecord-AAAAAA ] && [ "$(find . -maxdepth 1 -name '.s.data.*.tmp' -type l | wc -l)" -eq 100 ]; then
	ok "temp: planted symlinks at the old names and the new pattern: recorded, none followed or removed"
else
	not_ok "temp: planted symlinks" "exit $rc" "stderr: $(head -c 300 "$TMP/err")"
fi
readable "temp: planted symlinks" s.data

# SIGKILL leaves a temporary (mode 0600); the next run removes it, with one warning.
pdrecord -q -e cpu-clock -o k.data -- sleep 10 >/dev/null 2>&1 & kpid=$!
if wait_temp k.data; then
	sleep 0.3
	mode=$(stat -c %a "$t")
	kill -KILL "$kpid"
	wait "$kpid" 2>/dev/null
	if [ -f "$t" ] && [ "$mode" = 600 ]; then
		ok "SIGKILL: leaves $t, mode 0600"
	else
		not_ok "SIGKILL: the temporary" "mode $mode" "$(ls -la)"
	fi
	rc=0
	pdrecord -e cpu-clock -o k.data -- true >"$TMP/out" 2>"$TMP/err" || rc=$?
	n=$(grep -c 'removed' "$TMP/err")
	if [ "$rc" -eq 0 ] && [ ! -e "$t" ] && [ "$n" -eq 1 ] &&
	    grep -qx "pdrecord: warning: removed '$t', left by a pdrecord that was killed" "$TMP/err"; then
		ok "SIGKILL: the next run removes the leftover, with one warning line naming it"
	else
		not_ok "SIGKILL: the next run" "exit $rc" "stderr: $(cat "$TMP/err")" "$(find . -maxdepth 1 -name '*pdrecord-*')"
	fi
	readable "SIGKILL: the next run" k.data
else
	kill -KILL "$kpid"
	not_ok "SIGKILL: no temporary appeared" "$(ls -A)"
	skip "SIGKILL: the next run (no temporary)"
	skip "SIGKILL: readable (no temporary)"
fi

# The temporary of a pdrecord that runs is locked: another run leaves it alone.
pdrecord -q -e cpu-clock -o l.data -- sleep 2 >/dev/null 2>&1 & lpid=$!
if wait_temp l.data; then
	rc=0
	pdrecord -e cpu-clock -o l.data -- true >"$TMP/out" 2>"$TMP/err" || rc=$?
	if [ "$rc" -eq 0 ] && [ -f "$t" ] && ! grep -q removed "$TMP/err"; then
		ok "lock: a running pdrecord's temporary is not taken for a leftover"
	else
		not_ok "lock: concurrent run" "exit $rc" "stderr: $(cat "$TMP/err")"
	fi
	rc=0
	wait "$lpid" || rc=$?
	check "lock: the first pdrecord still finishes, exit 0" [ "$rc" -eq 0 ]
	readable "lock: the first recording" l.data
	readable "lock: the second recording, kept as .old" l.data.old
else
	not_ok "lock: no temporary appeared" "$(ls -A)"
	for n in 1 2 3; do skip "lock: (no temporary)"; done
fi
no_temp "lock: no temporary left" l.data

# SIGINT, SIGTERM, SIGHUP: a complete recording (as perf keeps on Ctrl-C), no temporary.
for sig in INT TERM HUP; do
	pdrecord -q -e cpu-clock -o "sig$sig.data" -- sleep 10 >/dev/null 2>"$TMP/err" & spid=$!
	if wait_temp "sig$sig.data"; then
		sleep 0.5
		kill -"$sig" "$spid"
	fi
	rc=0
	wait "$spid" || rc=$?
	case $sig in INT) want=130 ;; TERM) want=143 ;; HUP) want=129 ;; esac
	check "SIG$sig: exit $want" [ "$rc" -eq "$want" ]
	readable "SIG$sig: the recording" "sig$sig.data"
	no_temp "SIG$sig: no temporary left" "sig$sig.data"
done

# Error exits remove the temporary too.
expect_exit 127 "error: command not found: exit 127" pdrecord -q -o e.data -- ./no-such-command
no_temp "error: command not found: no temporary left" e.data
check "error: command not found: no recording" [ ! -e e.data ]
PDRECORD_FORCE_FALLBACK=perm expect_exit 125 "error: not permitted: exit 125" pdrecord -q -o e.data -- true
no_temp "error: not permitted: no temporary left" e.data

done_testing
