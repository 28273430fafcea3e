#!/bin/sh
# --help and the man pages say the same thing: for every tool, the usage
# lines of --help equal the SYNOPSIS of its man page (as mandoc renders it,
# white space folded), and every page, pdtools(7) and pd-formats(5)
# included, is clean under mandoc -Tlint, and every example of every page
# renders as written under man(1).  (That every long option is in
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
# Every example renders as written: each .Bd -literal block, .Dl line and
# .Ql quotation of each page, taken from its source, must appear verbatim in
# what man-db shows a reader (man -l, plain text through col -b, 80 columns,
# no hyphenation or justification to split words), in the C locale (ASCII
# quotes) and in C.UTF-8 (typographic quotes).  Roff escapes that print
# nothing, such as \| (which once turned pddiff(1)'s --normalize example into
# "(ksoftirqdkworkermigration)"), a quotation that runs on to the next one,
# and a one-line command that wraps, all fail here (tests/cli/man-examples.awk).
if command -v man >/dev/null 2>&1 && command -v col >/dev/null 2>&1; then
	for p in "$PD_SRC"/man/*.[157]; do
		for loc in C C.UTF-8; do
			if [ "$loc" = C ]; then q1="'" q2="'"; else q1=$(printf '\342\200\230') q2=$(printf '\342\200\231'); fi
			env -u MAN_KEEP_FORMATTING -u MANROFFOPT -u GROFF_SGR LC_ALL=$loc MANWIDTH=80 \
			    man --no-hyphenation --no-justification -l "$p" 2>"$TMP/err" | LC_ALL=$loc col -bx >"$TMP/rendered"
			if [ ! -s "$TMP/rendered" ]; then
				not_ok "${p##*/} ($loc): every example renders as written" "man -l printed nothing: $(head -c 300 "$TMP/err")"
				continue
			fi
			LC_ALL=$loc awk -v q1="$q1" -v q2="$q2" -f "$PD_SRC/tests/cli/man-examples.awk" \
			    "$TMP/rendered" "$p" >"$TMP/examples"
			n=$(grep -c '^ok' "$TMP/examples")
			if [ "$n" -gt 0 ] && ! grep -q '^fail' "$TMP/examples"; then
				ok "${p##*/} ($loc): every example ($n) renders as written"
			else
				not_ok "${p##*/} ($loc): every example renders as written" \
				    "$(grep '^fail' "$TMP/examples" | cut -f2- | sed "s|$PD_SRC/||" | head -n 10)"
			fi
		done
	done
else
	skip "man or col is not installed"
fi
[ -f "$PD_SRC/man/pdtools.7" ] && ok "pdtools(7), the overview, exists" || not_ok "pdtools(7), the overview, exists"

done_testing
