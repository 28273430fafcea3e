#!/bin/sh
# The first messages a newcomer meets: each is one line that says what
# happened and what to do, with exit status 2 (pdrecord with a command:
# 125, as env(1)).  A directory that is not a --threads recording, folded
# text given to pdcollapse or to pdjson's default --format=samples, a 0-byte
# perf.data, a redirected file that is not read, pdrecord's missing output
# directory (named as given, not by its temporary name), and -p on another
# user's process (not perf_event_paranoid's fault).  pdrecord's fallback
# from cycles to cpu-clock is in pdrecord.t.
. "$PD_SRC/tests/cli/lib.sh"

cd "$TMP" || exit 2
printf 'app;main;work 100\napp;main;parse 30\n' >stacks.folded

# one_line TOOL PATTERN NAME: $TMP/err is exactly one line, "TOOL: ..." matching PATTERN.
one_line() {
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -e "^$1: $2" "$TMP/err" &&
	    [ ! -s "$TMP/out" ]; then
		ok "$3"
	else
		not_ok "$3" "exit $rc" "stderr: $(cat "$TMP/err")" "stdout: $(head -c 200 "$TMP/out")"
	fi
}

# A directory that is not a perf record --threads recording.
mkdir notthreads
for t in pdcollapse pdtop pdjson; do
	run_tool "$TMP/out" "$TMP/err" "$t" notthreads
	one_line "$t" "'notthreads': a directory, but not one of 'perf record --threads' (it has no 'data' file); give a perf.data file or such a directory$" \
	    "$t DIR: says a --threads directory was expected, exit 2"
done

# Folded text given to pdcollapse: where it goes instead.
run_tool "$TMP/out" "$TMP/err" pdcollapse stacks.folded
one_line pdcollapse "'stacks.folded': text, not perf.data (folded stacks go to pdflame, pdtop, pdjson or pddiff as they are) at offset 0x0$" \
    "pdcollapse FOLDED: names the file, the offset and the tools that read folded stacks"
rc=$({ { cat stacks.folded | pdcollapse >"$TMP/out" 2>"$TMP/err"; echo $? >&3; }; } 3>&1)
one_line pdcollapse "'<stdin>': text, not perf.data (folded stacks go to pdflame, pdtop, pdjson or pddiff as they are) at offset 0x0$" "... from a pipe too"
printf 'a;b 1\n' >short.folded
run_tool "$TMP/out" "$TMP/err" pdcollapse short.folded
one_line pdcollapse "'short.folded': text, not perf.data (folded stacks go to .*) at offset 0x0$" "... and a file shorter than a header"
# Binary that is not perf.data keeps the reader's bad-magic message.
printf 'PERFDATA\000\000\000\000\000\000\000\000\001\002' >bin.data
run_tool "$TMP/out" "$TMP/err" pdcollapse bin.data
one_line pdcollapse "'bin.data': not a perf.data file (bad magic) at offset 0x0$" "binary input: still 'bad magic'"

# Folded text given to pdjson (--format=samples by default): one line, no usage text.
run_tool "$TMP/out" "$TMP/err" pdjson stacks.folded
one_line pdjson "'stacks.folded': folded stacks (text), not perf.data: they hold no samples for --format=samples (the default); use --format=summary, speedscope or tree$" \
    "pdjson FOLDED: one line without the usage text, exit 2"
expect_exit 0 "pdjson -f summary FOLDED reads it" pdjson -f summary stacks.folded

# A 0-byte perf.data, as a recorder that failed leaves it.
: >perf.data
for t in pdcollapse pdtop pdjson; do
	run_tool "$TMP/out" "$TMP/err" "$t" </dev/null
	one_line "$t" "'perf.data': empty file, 0 bytes (left by a recorder that failed? record again) at offset 0x0$" \
	    "$t on a 0-byte perf.data: says the file is empty and why it may be"
done
run_tool "$TMP/out" "$TMP/err" pddiff perf.data stacks.folded
one_line pddiff "'perf.data': empty file, 0 bytes (left by a recorder that failed? record again) at offset 0x0$" "pddiff on a 0-byte perf.data: the same"
# An empty pipe is still "empty input".
rc=$({ { printf '' | pdtop >"$TMP/out" 2>"$TMP/err"; echo $? >&3; }; } 3>&1)
one_line pdtop "'<stdin>': empty input at offset 0x0$" "an empty pipe: empty input"
rm perf.data

# A file on standard input is not read (as perf): say so when ./perf.data is missing.
cp "$PD_SRC/tests/data/fp.data" rec.data
run_tool "$TMP/out" "$TMP/err" pdtop <rec.data
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 2 ] &&
    grep -q "^pdtop: note: standard input is a file, not a pipe: with no file operand the input is ./perf.data, as in perf; give the file's name, or '-' to read standard input$" "$TMP/err" &&
    grep -q "^pdtop: cannot open 'perf.data': No such file or directory$" "$TMP/err"; then
	ok "pdtop < FILE without ./perf.data: a note says why FILE is not read"
else
	not_ok "pdtop < FILE: the note" "exit $rc" "$(cat "$TMP/err")"
fi
expect_exit 0 "pdtop - < FILE reads it" pdtop - <rec.data

# pdrecord: a missing output directory, named as given (the file is created
# before any event is opened, so no sampling is needed).
sleep 30 &
sleeper=$!
run_tool "$TMP/out" "$TMP/err" pdrecord -p "$sleeper" --duration 0.1 -o nodir/x.data
one_line pdrecord "cannot create 'nodir/x.data': the directory 'nodir' does not exist; create it first, or give another -o$" \
    "pdrecord -o nodir/x.data: names the path given and the missing directory, exit 2"
run_tool "$TMP/out" "$TMP/err" pdrecord -o nodir/sub/x.data -- true
if [ "$rc" -eq 125 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "^pdrecord: cannot create 'nodir/sub/x.data': the directory 'nodir/sub' does not exist" "$TMP/err" &&
    ! grep -q 'tmp' "$TMP/err"; then
	ok "pdrecord -o nodir/sub/x.data -- cmd: the same, exit 125 (pdrecord failed, as env(1))"
else
	not_ok "pdrecord missing directory with a command" "exit $rc" "$(cat "$TMP/err")"
fi
run_tool "$TMP/out" "$TMP/err" pdrecord -p "$sleeper" --duration 0.1 -o stacks.folded/x.data
one_line pdrecord "cannot create 'stacks.folded/x.data': 'stacks.folded' is not a directory; give another -o$" \
    "pdrecord -o FILE/x.data: says FILE is not a directory"
kill "$sleeper" 2>/dev/null

# -p on another user's process, as an unprivileged user: the cause is the
# owner, not perf_event_paranoid.
find_nobody
par=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 3)
if [ -z "$as_nobody" ]; then
	skip "-p of another user's process: not root, or neither setpriv nor su can run as nobody"
	skip "-p of another user's process: (the same)"
elif [ "$par" -gt 2 ]; then
	skip "-p of another user's process: perf_event_paranoid is $par, nobody may not profile anything"
	skip "-p of another user's process: (the same)"
else
	mkdir nb && chmod 777 nb && chmod 755 "$TMP"
	pdr=$(command -v pdrecord)
	# A copy nobody can run: the build may lie under a home only root
	# enters (/root on a fresh machine).  Not a valgrind wrapper script.
	if head -c 4 "$pdr" | grep -q 'ELF'; then
		cp "$pdr" nb/pdrecord && chmod 755 nb/pdrecord && pdr=$TMP/nb/pdrecord
	fi
	# What nobody may do: its own process (user space), unless the kernel forbids it.
	rc=0
	(cd nb && $as_nobody sh -c 'sleep 2 & exec "$0" -q -p $! --duration 0.1 -o own.data' "$pdr") \
	    >"$TMP/out" 2>"$TMP/err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		skip "-p of another user's process: nobody cannot profile even its own process here ($(head -c 200 "$TMP/err"))"
		skip "-p of another user's process: (the same)"
	else
		rc=0
		(cd nb && $as_nobody "$pdr" -p 1 --duration 0.1 -o x.data) >"$TMP/out" 2>"$TMP/err" || rc=$?
		# Only the error line counts (a kptr_restrict note may come before it).
		grep -v ': note: ' "$TMP/err" >"$TMP/err.1"
		if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err.1")" -eq 1 ] &&
		    grep -q "^pdrecord: cannot attach to pid 1: it belongs to another user (uid 0), and only its owner or root may profile it (Permission denied); run pdrecord as that user, or as root$" "$TMP/err.1"; then
			ok "-p 1 as nobody: says pid 1 is another user's, exit 2"
		else
			not_ok "-p 1 as nobody: message" "exit $rc" "$(cat "$TMP/err")"
		fi
		if ! grep -q paranoid "$TMP/err"; then
			ok "-p 1 as nobody: perf_event_paranoid is not blamed"
		else
			not_ok "-p 1 as nobody: blames perf_event_paranoid" "$(cat "$TMP/err")"
		fi
	fi
fi

done_testing
