#!/bin/sh
# The progress line of the tools that read perf.data (pdcollapse, pdtop,
# pdjson, pddiff), watched on a pseudo-terminal made by script(1): shown
# when stderr is a terminal and the input is at least 8 MiB, not with -q,
# not for small inputs, not when stderr is a file, not from the background;
# always with --progress; cut to the terminal's width; erased before
# messages and before output to the same terminal; never a byte of it on
# stdout.
# shellcheck disable=SC2086
. "$PD_SRC/tests/cli/lib.sh"

command -v script >/dev/null 2>&1 || skip_all "script(1) (util-linux) is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed (it plays the terminal's bytes)"
GS=${PD_VALGRIND:-$PD_BIN}/tests/helpers/gen-synth
cd "$TMP" || exit 2
# Synthetic recordings: about 22 MB (file and pipe form) and 1.5 MB.
if ! "$GS" -o big.data -n 120000 >/dev/null 2>&1 || ! "$GS" --pipe -o bigp.data -n 120000 >/dev/null 2>&1 ||
    ! "$GS" -o mid.data -n 8000 >/dev/null 2>&1; then
	skip_all "gen-synth cannot write the recordings (run make tests)"
fi
size=$(wc -c <big.data)
diag "big.data: $size bytes"
[ "$size" -ge 8388608 ] || not_ok "the recording is at least 8 MiB" "$size bytes"
# A small recording under a short name (the line shows the tail of a long one).
cp "$PD_SRC/tests/data/fp.data" small.data || exit 2
# $R: options, split on purpose (SC2086 off for the file).
R="--kallsyms /dev/null --symfs $TMP/nosymfs"

# on_tty NAME COMMAND: COMMAND (a shell line, stdout redirected by the
# caller or not) with stdin, stdout and stderr on a pseudo-terminal; the
# terminal's bytes in NAME.tty, the exit status in $rc.
on_tty() {
	rc=0
	script -qfec "$2" /dev/null </dev/null >"$1.tty" 2>&1 || rc=$?
}

# has_line FILE TOOL INPUT: FILE holds a line "\rTOOL: INPUT  ...";
# at_100: one "\rTOOL: INPUT  100%  N of N MB".
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

for t in pdcollapse pdtop; do
	on_tty "$t" "$t $R big.data >$t.out"
	if [ "$rc" -eq 0 ] && has_line "$t.tty" "$t" big.data && at_100 "$t.tty" "$t" big.data; then
		ok "$t: a progress line on a terminal for a 22 MB input, up to 100%"
	else
		not_ok "$t: progress on a terminal (exit $rc)" "$(od -c "$t.tty" | head -n 4 | tr '\n' '|')"
	fi
done
on_tty pdjson "pdjson -f summary $R big.data >pdjson.out"
if [ "$rc" -eq 0 ] && has_line pdjson.tty pdjson big.data && at_100 pdjson.tty pdjson big.data; then
	ok "pdjson: a progress line on a terminal for a 22 MB input, up to 100%"
else
	not_ok "pdjson: progress on a terminal (exit $rc)" "$(od -c pdjson.tty | head -n 4 | tr '\n' '|')"
fi
on_tty pddiff "pddiff --no-gate $R big.data big.data >pddiff.out"
n100=$(tr '\r' '\n' <pddiff.tty | LC_ALL=C grep -c '^pddiff: big.data  100%')
if [ "$rc" -eq 0 ] && [ "$n100" -eq 2 ]; then
	ok "pddiff: a progress line for each input"
else
	not_ok "pddiff: progress (exit $rc, $n100 lines at 100%)" "$(od -c pddiff.tty | head -n 4 | tr '\n' '|')"
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
on_tty small "pdcollapse $R small.data >small.out"
if [ "$rc" -eq 0 ] && ! grep -q "small.data  " small.tty && ! grep -q '%' small.tty; then
	ok "a small input: no progress line"
else
	not_ok "a small input: the terminal shows" "$(od -c small.tty | head -n 4 | tr '\n' '|')"
fi

# A pipe: bytes read, no share, once 8 MiB are read.
on_tty pipe "cat bigp.data | pdcollapse $R >pipe.out"
if [ "$rc" -eq 0 ] && LC_ALL=C grep -q "$(printf '\r')pdcollapse: <stdin>  [0-9.]* MB" pipe.tty &&
    ! LC_ALL=C grep -q "<stdin>  *[0-9]*%" pipe.tty &&
    ! LC_ALL=C grep -q "<stdin>  [0-7]\.[0-9] MB" pipe.tty; then
	ok "a pipe: the bytes read, without a share, from 8 MiB on"
else
	not_ok "a pipe: the terminal shows" "$(od -c pipe.tty | head -n 4 | tr '\n' '|')"
fi

# A narrow terminal: the line fits (no wrap), the tail of a long name kept.
mkdir -p a-directory-with-a-long-name/and-another-one || exit 2
ln -s ../../big.data a-directory-with-a-long-name/and-another-one/big.data
on_tty narrow "stty cols 40 && pdcollapse $R a-directory-with-a-long-name/and-another-one/big.data >/dev/null"
tr '\r' '\n' <narrow.tty | LC_ALL=C grep '^pdcollapse: .*%' >narrow.lines
long=$(awk 'length($0) > 39' narrow.lines | head -n 1)
if [ "$rc" -eq 0 ] && [ -s narrow.lines ] && [ -z "$long" ] &&
    grep -q '^pdcollapse: \.\.\..*/big.data  100%' narrow.lines; then
	ok "a terminal of 40 columns: lines of 39 at most, with the tail of the name"
else
	not_ok "a narrow terminal (exit $rc)" "${long:-$(head -n 3 narrow.lines | tr '\n' '|')}"
fi

# In the background of a shell with job control: no line, as pv.
on_tty bg "set -m && { pdcollapse $R big.data >bg.out & wait; }"
if [ "$rc" -eq 0 ] && [ -s bg.out ] && ! grep -q '%' bg.tty && grep -q "note: 'big.data'" bg.tty; then
	ok "in the background: no progress line, messages still shown"
else
	not_ok "in the background (exit $rc)" "$(od -c bg.tty | head -n 4 | tr '\n' '|')"
fi

# stdout on the same terminal: pdjson writes samples while it reads; each
# line drawn starts a screen line and is erased before the next output, so
# the terminal holds exactly stdout and the warning once the lines are
# taken out.
pdjson -f samples $R mid.data >mid.json 2>mid.err || not_ok "pdjson -f samples mid.data"
on_tty stream "pdjson --progress -f samples $R mid.data"
verdict=$(python3 -c '
import re, sys
d = open(sys.argv[1], "rb").read()
pat = re.compile(rb"\r([^\r\n]*%[^\r\n]*)\r *\r")
segs = list(pat.finditer(d))
want = open(sys.argv[2], "rb").read() + open(sys.argv[3], "rb").read()
if len(segs) < 2:
    print("%d progress lines erased, want 2 or more" % len(segs))
elif any(m.start() and d[m.start() - 1] != 10 for m in segs):
    print("a progress line drawn after a partial line of output")
elif pat.sub(b"", d).replace(b"\r\n", b"\n") != want:
    print("the terminal, without the progress lines, is not stdout and stderr")
else:
    print("ok")
' stream.tty mid.json mid.err 2>&1)
if [ "$rc" -eq 0 ] && [ "$verdict" = ok ]; then
	ok "stdout on the terminal: progress erased before each output, nothing mixed"
else
	not_ok "stdout on the terminal (exit $rc)" "$verdict"
fi

# stderr to a file: no line; with --progress: the line, even with -q.
rc=0
pdcollapse $R big.data >plain.out 2>plain.err || rc=$?
if [ "$rc" -eq 0 ] && ! LC_ALL=C grep -q "$(printf '\r')" plain.err && [ -s plain.err ]; then
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
pdcollapse --progress $R small.data >/dev/null 2>forced-small.err || rc=$?
if [ "$rc" -eq 0 ] && at_100 forced-small.err pdcollapse small.data; then
	ok "--progress: the line for a small input too"
else
	not_ok "--progress, small input" "$(od -c forced-small.err | head -n 3 | tr '\n' '|')"
fi

# stdout is the same bytes with and without the line.
if cmp -s pdcollapse.out plain.out && cmp -s forced.out plain.out && cmp -s pipe.out plain.out &&
    cmp -s bg.out plain.out && [ -s plain.out ]; then
	ok "stdout is the same with a progress line, without one, and forced"
else
	not_ok "stdout differs with progress"
fi
rc=0
pdtop $R big.data >top-plain.out 2>/dev/null || rc=$?
pdjson -f summary $R big.data >json-plain.out 2>/dev/null || rc=$?
pdjson --progress -f samples $R mid.data >mid-forced.json 2>/dev/null || rc=$?
if [ "$rc" -eq 0 ] && cmp -s pdtop.out top-plain.out && cmp -s pdjson.out json-plain.out &&
    cmp -s mid-forced.json mid.json; then
	ok "pdtop, pdjson: stdout is the same with a progress line"
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
