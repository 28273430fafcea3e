#!/bin/sh
# No tool writes raw control bytes from its input to a terminal
# (RELIABILITY.md 5: perf prints an ESC sequence from a comm or a DSO path
# as it is, and the terminal runs it).  Under a pseudo-terminal (script(1)),
# names holding C0 controls, ESC sequences, DEL, C1 controls, a right-to-left
# override and bytes that are not UTF-8 come out as visible escapes, valid
# UTF-8 stays as it is; and into a pipe or a file the bytes are unchanged.
. "$PD_SRC/tests/cli/lib.sh"

command -v script >/dev/null 2>&1 || skip_all "no script(1) (util-linux) for a pseudo-terminal"

ESC=$(printf '\033')
# Hostile frame names, and a plain UTF-8 one (été).
printf 'main;ctl\001\033[31mred\302\205c1\342\200\256rtl\377bad;\303\251t\303\251 3\nmain;leaf\033]0;title\007 2\n' >"$TMP/esc.folded"
printf 'main;ctl\001\033[31mred\302\205c1\342\200\256rtl\377bad;\303\251t\303\251 9\nmain;leaf\033]0;title\007 2\n' >"$TMP/esc2.folded"

# on_tty NAME CMD: run the shell command CMD with stdout and stderr on a
# pseudo-terminal; what the terminal received goes to $TMP/tty.
on_tty() {
	script -qec "$2" /dev/null >"$TMP/tty" 2>&1 </dev/null || true
}

# tty_clean NAME [WANT]: no control byte but CR, LF and tab in $TMP/tty, no
# byte that is not UTF-8, and (when given) the visible escape WANT.
tty_clean() {
	_why=
	if tr -d '\r\n\t' <"$TMP/tty" | LC_ALL=C grep -q '[[:cntrl:]]'; then
		_why="raw control bytes reached the terminal: $(tr -d '\r\n\t' <"$TMP/tty" | LC_ALL=C grep -o '.[[:cntrl:]].' | head -n 3 | od -c | head -n 2 | tr '\n' ' ')"
	fi
	if ! iconv -f UTF-8 -t UTF-8 <"$TMP/tty" >/dev/null 2>&1; then
		_why="$_why; bytes that are not UTF-8 reached the terminal"
	fi
	if [ -n "${2:-}" ] && ! grep -qF -- "$2" "$TMP/tty"; then
		_why="$_why; no \"$2\" on the terminal"
	fi
	if [ ! -s "$TMP/tty" ]; then
		_why="$_why; nothing reached the terminal"
	fi
	if [ -z "$_why" ]; then
		ok "$1"
	else
		not_ok "$1" "${_why#; }" "terminal: $(head -c 300 "$TMP/tty" | od -c | head -n 4 | tr '\n' ' ')"
	fi
}

# Under make valgrind, the memcheck wrappers (tests/valgrind/run.sh).
B=${PD_VALGRIND:-$PD_BIN}
on_tty pdtop "$B/pdtop -n 5 '$TMP/esc.folded'"
tty_clean "pdtop: table on a terminal escapes the names" '\x01\x1b[31mred\u0085c1\u202ertl\xffbad'
grep -q 'été' "$TMP/tty" && ok "pdtop: valid UTF-8 stays as it is" || not_ok "pdtop: valid UTF-8 stays as it is"

on_tty pddiff-table "$B/pddiff --format table '$TMP/esc.folded' '$TMP/esc2.folded'"
tty_clean "pddiff --format table on a terminal escapes the names" '\x1b[31mred'
on_tty pddiff-folded "$B/pddiff '$TMP/esc.folded' '$TMP/esc2.folded'"
tty_clean "pddiff's folded stream on a terminal escapes the names" '\x1b]0;title\x07'
on_tty pdflame "$B/pdflame '$TMP/esc.folded'"
tty_clean "pdflame: the SVG on a terminal has no raw control bytes"
on_tty pdjson "$B/pdjson -f summary '$TMP/esc.folded'"
tty_clean "pdjson on a terminal has no raw control bytes"
on_tty pdcollapse-err "$B/pdcollapse '$TMP/no${ESC}[31msuch'"
tty_clean "pdcollapse: an error naming a hostile file name is escaped on the terminal" "no\\x1b[31msuch"
on_tty pdtop-err "$B/pdtop '$TMP/no${ESC}[31msuch'"
tty_clean "pdtop: an error naming a hostile file name is escaped on the terminal" "no\\x1b[31msuch"

# A recorded comm with an ESC sequence: the command is named with one.
if can_record && b=$(burn); then
	cp "$b" "$TMP/b${ESC}[7mx"
	if perf record -q -F 2000 -g -o "$TMP/esc.data" -- "$TMP/b${ESC}[7mx" 20000 >/dev/null 2>&1; then
		on_tty pdcollapse "$B/pdcollapse '$TMP/esc.data'"
		tty_clean "pdcollapse: a comm with an ESC sequence is escaped on the terminal" 'b\x1b[7mx'
		on_tty pdtop-data "$B/pdtop -n 3 --sort comm '$TMP/esc.data'"
		tty_clean "pdtop --sort comm: the comm is escaped on the terminal" 'b\x1b[7mx'
		pdcollapse "$TMP/esc.data" >"$TMP/pipe.folded" 2>/dev/null
		if grep -q "^b${ESC}\[7mx;" "$TMP/pipe.folded"; then
			ok "pdcollapse into a file: the comm's bytes are unchanged"
		else
			not_ok "pdcollapse into a file: the comm's bytes are unchanged" "$(head -c 200 "$TMP/pipe.folded" | od -c | head -n 3)"
		fi
	else
		skip "perf record of a command named with ESC failed"
	fi
else
	skip "perf record does not work here: no recorded comm with ESC"
fi

# Into a file, nothing is rewritten: pipelines get the input's bytes.
pdtop -n 5 "$TMP/esc.folded" >"$TMP/top.out" 2>&1
if grep -q "ctl$(printf '\001')${ESC}\[31mred" "$TMP/top.out"; then
	ok "pdtop into a file: the bytes are unchanged"
else
	not_ok "pdtop into a file: the bytes are unchanged" "$(grep ctl "$TMP/top.out" | od -c | head -n 3)"
fi

done_testing
