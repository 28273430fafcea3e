#!/bin/sh
# --help and the man pages say the same thing: for every tool, the usage
# lines of --help equal the SYNOPSIS of its man page (as mandoc renders it,
# white space folded), and every page, pdtools(7) and pd-formats(5)
# included, is clean under mandoc -Tlint.  (That every long option is in
# the man page and the completions is checked by each tool's own test,
# option_drift in lib.sh.)
. "$PD_SRC/tests/cli/lib.sh"

command -v mandoc >/dev/null 2>&1 || skip_all "mandoc is not installed"

for t in pdcollapse pdflame pdrecord pdtop pdjson pddiff; do
	run_tool "$TMP/help" "$TMP/err" "$t" --help
	# The usage: every line up to the first empty one, "usage: " dropped.
	u=$(sed -n '1,/^$/p' "$TMP/help" | sed 's/^usage: //' | tr '\n\t' '  ' | tr -s ' ' | sed 's/^ //; s/ $//')
	m=$(mandoc -Tascii -O width=1000 "$PD_SRC/man/$t.1" | col -b |
	    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr '\n\t' '  ' | tr -s ' ' | sed 's/^ //; s/ $//')
	if [ -n "$u" ] && [ "$u" = "$m" ]; then
		ok "$t: the usage of --help is the SYNOPSIS of $t(1)"
	else
		not_ok "$t: the usage of --help is the SYNOPSIS of $t(1)" "usage:    $u" "SYNOPSIS: $m"
	fi
done

for p in "$PD_SRC"/man/*.[157]; do
	if mandoc -Tlint -Wwarning "$p" >"$TMP/lint" 2>&1; then
		ok "${p##*/}: mandoc -Tlint clean"
	else
		not_ok "${p##*/}: mandoc -Tlint clean" "$(head -n 5 "$TMP/lint")"
	fi
done
[ -f "$PD_SRC/man/pdtools.7" ] && ok "pdtools(7), the overview, exists" || not_ok "pdtools(7), the overview, exists"

done_testing
