#!/bin/sh
# The progress line of the tools that read perf.data (pdcollapse, pdtop,
# pdjson, pddiff), watched on a pseudo-terminal made by script(1): shown
# when stderr is a terminal and the input is at least 8 MiB, not with -q,
# not for small inputs, not when stderr is a file; always with --progress;
# erased before messages; never a byte of it on stdout.
# shellcheck disable=SC2086
. "$PD_SRC/tests/cli/lib.sh"

command -v script >/dev/null 2>&1 || skip_all "script(1) (util-linux) is not installed"
GS=${PD_VALGRIND:-$PD_BIN}/tests/helpers/gen-synth
cd "$TMP" || exit 2
# Synthetic recordings of about 22 MB, file and pipe form.
if ! "$GS" -o big.data -n 120000 >/dev/null 2>&1 || ! "$GS" --pipe -o bigp.data -n 120000 >/dev/null 2>&1; then
	skip_all "gen-synth cannot write the recordings (run make tests)"
fi
size=$(wc -c <big.data)
diag "big.data: $size bytes"
[ "$size" -ge 8388608 ] || not_ok "the recording is at least 8 MiB" "$size bytes"
# $R: options, split on purpose (SC2086 off for the file).
R="--kallsyms /dev/null --symfs $TMP/nosymfs"

# on_tty NAME COMMAND: COMMAND (a shell line, stdout redirected by the
# caller) with stdin, stdout and stderr on a pseudo-terminal; the terminal's
# bytes in NAME.tty, the exit status in $rc.
on_tty() {
	rc=0
	script -qfec "$2" /dev/null </dev/null >"$1.tty" 2>&1 || rc=$?
}

# has_progress FILE TOOL INPUT: FILE holds a line "\rTOOL: INPUT  N%  ..."
# (or "... N MB" for a pipe) that ends at 100% for a file.
has_line() {
	LC_ALL=C grep -q "$(printf '\r')$2: $3  " "$1"
}
at_100() {
	LC_ALL=C grep -q "$(printf '\r')$2: $3  100%  [0-9.]* of [0-9.]* MB" "$1"
}

# What the terminal shows at the end: the bytes played on a screen where
# \r returns to the start of the line and characters overwrite.
screen() {
	python3 -c '
import sys
lines, cur, pos = [], [], 0
for ch in open(sys.argv[1], "rb").read().decode("latin-1"):
    if ch == "\r":
        pos = 0
    elif ch == "\n":
        lines.append("".join(cur).rstrip())
        cur, pos = [], 0
    else:
        if pos < len(cur):
            cur[pos] = ch
        else:
            cur.append(ch)
        pos += 1
if "".join(cur).strip():
    lines.append("".join(cur).rstrip())
print("\n".join(l for l in lines if l))
' "$1"
}

for t in pdcollapse pdtop pdjson; do
	on_tty "$t" "$t $R big.data >$t.out"
	if [ "$rc" -eq 0 ] && has_line "$t.tty" "$t" big.data && at_100 "$t.tty" "$t" big.data; then
		ok "$t: a progress line on a terminal for a 22 MB input, up to 100%"
	else
		not_ok "$t: progress on a terminal (exit $rc)" "$(od -c "$t.tty" | head -n 4 | tr '\n' '|')"
	fi
done
on_tty pddiff "pddiff --no-gate $R big.data big.data >pddiff.out"
if [ "$rc" -eq 0 ] && at_100 pddiff.tty pddiff big.data; then
	ok "pddiff: a progress line for each input"
else
	not_ok "pddiff: progress (exit $rc)" "$(od -c pddiff.tty | head -n 4 | tr '\n' '|')"
fi

# The line is erased before a message: the note that big.data has three
# events, and the warning about lost events, are whole lines on the screen,
# and no progress text is left.
screen pdcollapse.tty >pdcollapse.screen
if grep -q "^pdcollapse: note: 'big.data' has events" pdcollapse.screen &&
    grep -q "^pdcollapse: warning: 'big.data': " pdcollapse.screen &&
    ! grep -q '%  ' pdcollapse.screen; then
	ok "pdcollapse: messages are whole lines, and no progress is left on the screen"
else
	not_ok "pdcollapse: the screen" "$(tr '\n' '|' <pdcollapse.screen)"
fi

# -q: no line.
on_tty q "pdcollapse -q $R big.data >q.out"
if [ "$rc" -eq 0 ] && ! grep -q "pdcollapse: big.data" q.tty && [ ! -s q.tty ]; then
	ok "-q: no progress line on a terminal (nothing on stderr at all)"
else
	not_ok "-q: the terminal shows" "$(od -c q.tty | head -n 4 | tr '\n' '|')"
fi

# A small input: no line.
on_tty small "pdcollapse $R $PD_SRC/tests/data/fp.data >small.out"
if [ "$rc" -eq 0 ] && ! grep -q "pdcollapse: .*fp.data  " small.tty; then
	ok "a small input: no progress line"
else
	not_ok "a small input: the terminal shows" "$(od -c small.tty | head -n 4 | tr '\n' '|')"
fi

# A pipe: bytes read, no share, once 8 MiB are read.
on_tty pipe "cat bigp.data | pdcollapse $R >pipe.out"
if [ "$rc" -eq 0 ] && LC_ALL=C grep -q "$(printf '\r')pdcollapse: <stdin>  [0-9.]* MB" pipe.tty &&
    ! LC_ALL=C grep -q "<stdin>  *[0-9]*%" pipe.tty; then
	ok "a pipe: the bytes read, without a share"
else
	not_ok "a pipe: the terminal shows" "$(od -c pipe.tty | head -n 4 | tr '\n' '|')"
fi

# stderr to a file: no line; with --progress: the line, even with -q.
rc=0
pdcollapse $R big.data >plain.out 2>plain.err || rc=$?
if [ "$rc" -eq 0 ] && ! LC_ALL=C grep -q "$(printf '\r')" plain.err; then
	ok "stderr to a file: no progress line"
else
	not_ok "stderr to a file: progress written" "$(od -c plain.err | head -n 3 | tr '\n' '|')"
fi
rc=0
pdcollapse --progress -q $R big.data >forced.out 2>forced.err || rc=$?
if [ "$rc" -eq 0 ] && at_100 forced.err pdcollapse big.data; then
	ok "--progress: the line on a file, even with -q"
else
	not_ok "--progress -q: stderr" "$(od -c forced.err | head -n 3 | tr '\n' '|')"
fi
rc=0
pdcollapse --progress $R "$PD_SRC/tests/data/fp.data" >/dev/null 2>forced-small.err || rc=$?
if [ "$rc" -eq 0 ] && at_100 forced-small.err pdcollapse "$PD_SRC/tests/data/fp.data"; then
	ok "--progress: the line for a small input too"
else
	not_ok "--progress, small input" "$(od -c forced-small.err | head -n 3 | tr '\n' '|')"
fi

# stdout is the same bytes with and without the line.
if cmp -s pdcollapse.out plain.out && cmp -s forced.out plain.out && cmp -s pipe.out plain.out &&
    [ -s plain.out ]; then
	ok "stdout is the same with a progress line, without one, and forced"
else
	not_ok "stdout differs with progress"
fi
rc=0
pdtop $R big.data >top-plain.out 2>/dev/null || rc=$?
pdjson $R big.data >json-plain.out 2>/dev/null || rc=$?
if [ "$rc" -eq 0 ] && cmp -s pdtop.out top-plain.out && cmp -s pdjson.out json-plain.out; then
	ok "pdtop, pdjson: stdout is the same on a terminal"
else
	not_ok "pdtop or pdjson: stdout differs with progress"
fi

# A hostile name is printed harmlessly.
ln -s big.data "$(printf 'x\033[31my.data')"
rc=0
pdcollapse --progress $R "$(printf 'x\033[31my.data')" >/dev/null 2>esc.err || rc=$?
if at_100 esc.err pdcollapse 'x?\[31my.data' &&
    ! tr '\r' '\n' <esc.err | grep '%  ' | LC_ALL=C grep -q "$(printf '\033')"; then
	ok "a control character in the name is shown as ?"
else
	not_ok "escape in the name" "$(od -c esc.err | head -n 3 | tr '\n' '|')"
fi
done_testing
