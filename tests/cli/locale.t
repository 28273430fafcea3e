#!/bin/sh
# Output is locale-independent: every format of every reader gives the same
# bytes (stdout, stderr and exit status) under LC_ALL=C, C.UTF-8,
# de_DE.UTF-8 (a decimal comma) and tr_TR.UTF-8 (the dotless i), set as
# LC_ALL, as LANG alone and as LC_NUMERIC alone, on the committed perf.data
# fixtures and on folded text with non-ASCII names.  A locale that is not
# generated here is skipped with the reason; at least C and C.UTF-8 run.
. "$PD_SRC/tests/cli/lib.sh"

D=$PD_SRC/tests/data
locales=
for l in C C.UTF-8 de_DE.UTF-8 tr_TR.UTF-8; do
	n=$(echo "$l" | tr 'A-Z' 'a-z' | sed 's/utf-8/utf8/')
	if [ "$l" = C ] || locale -a 2>/dev/null | tr 'A-Z' 'a-z' | grep -qx "$n"; then
		locales="$locales $l"
	else
		skip "locale $l is not generated here (locale-gen; make deps does it)"
	fi
done
diag "locales:$locales"
# The locales change what printf does here, so the comparison means something.
if echo "$locales" | grep -q de_DE && [ "$(LC_ALL=de_DE.UTF-8 awk 'BEGIN { printf "%.1f", 1.5 }' 2>/dev/null)" != "1,5" ] &&
	[ "$(LC_ALL=de_DE.UTF-8 /usr/bin/printf '%.1f' 1.5)" != "1,5" ]; then
	diag "de_DE.UTF-8 does not write a decimal comma in awk or printf here"
fi

# Folded input: pdcollapse's, and names with a Turkish I/i, UTF-8 and a byte that is not.
pdcollapse "$D/fp.data" >"$TMP/fp.folded" 2>/dev/null
printf '%s\n' '# pd-folded v1 weight=samples event=cpu-clock tool=pdcollapse' \
    'app;main;Istanbul::iI;leaf 6' 'app;main;rec 2' 'app;main;caf'"$(printf '\303\251')"' 1' \
    'app;main;bad'"$(printf '\377')"' 1' 'tool;main;other_[k] 1' 'TOOL;Main;LEAF 3' >"$TMP/names.folded"
sed 's/ 6$/ 9/; s/ 2$/ 1/' "$TMP/names.folded" >"$TMP/names2.folded"
pddiff --no-gate "$D/fp.data" "$D/z-fp.data" >"$TMP/d.folded" 2>/dev/null

# One case a line: a name, then the command (word-split; $TMP and $D expanded).
cat >"$TMP/cases" <<'CASES'
pdcollapse|pdcollapse $D/fp.data
pdcollapse pipe|pdcollapse $D/pipe-fp.data
pdcollapse zstd|pdcollapse $D/z-fp.data
pdcollapse --pid --kernel|pdcollapse --pid --kernel $D/fp.data
pdcollapse --tid --addrs|pdcollapse --tid --addrs $D/fp.data
pdcollapse --all --weight=samples|pdcollapse --all --weight=samples --event=all $D/fp.data $D/z-fp.data
pdcollapse --no-comm --no-header|pdcollapse --no-comm --no-header $D/fp.data
pdcollapse --inline --lines|pdcollapse --inline --lines $D/fp.data
pdcollapse -v|pdcollapse -v $D/fp.data
pdtop text|pdtop $D/fp.data
pdtop tsv|pdtop --format=tsv $D/fp.data
pdtop json|pdtop --format=json $D/fp.data
pdtop --no-children text|pdtop --no-children $D/fp.data
pdtop --no-children json|pdtop --no-children --format=json $D/fp.data
pdtop -s symbol|pdtop -s symbol $D/fp.data
pdtop -s dso tsv|pdtop -s dso --format=tsv $D/fp.data
pdtop -s comm json|pdtop -s comm --format=json $D/fp.data
pdtop -s pid|pdtop -s pid $D/fp.data
pdtop -s tid tsv|pdtop -s tid --format=tsv $D/fp.data
pdtop -s dso,symbol json|pdtop -s dso,symbol --format=json $D/fp.data
pdtop --percent-limit --relative|pdtop --percent-limit 1.5 --percentage relative --comm burn $D/fp.data
pdtop --weight=samples -n 3|pdtop --weight=samples -n 3 --format=tsv $D/pipe-fp.data
pdtop --health|pdtop --health $D/fp.data
pdtop --inline --lines|pdtop --inline --lines $D/fp.data
pdtop folded text|pdtop $TMP/fp.folded
pdtop folded tsv|pdtop --format=tsv $TMP/names.folded
pdtop folded json|pdtop --format=json -s comm,symbol $TMP/names.folded
pdtop folded --symbol|pdtop --symbol Istanbul::iI,leaf $TMP/names.folded
pdtop -v|pdtop -v $D/z-fp.data
pdjson samples|pdjson -f samples $D/fp.data
pdjson samples --inline --lines|pdjson -f samples --inline --lines $D/fp.data
pdjson summary|pdjson -f summary $D/fp.data
pdjson summary pipe|pdjson -f summary $D/pipe-fp.data
pdjson summary folded|pdjson -f summary $TMP/names.folded
pdjson speedscope|pdjson -f speedscope $D/fp.data
pdjson speedscope --per=process|pdjson -f speedscope --per process $D/fp.data
pdjson speedscope folded|pdjson -f speedscope $TMP/names.folded
pdjson tree|pdjson -f tree $D/fp.data
pdjson tree folded --weight|pdjson -f tree --weight samples $TMP/names.folded
pdflame|pdflame $TMP/fp.folded
pdflame names|pdflame --title Ünïcode $TMP/names.folded
pdflame sizes|pdflame --fontsize 11.5 --minwidth 0.5 --width 900 --height 17 $TMP/names.folded
pdflame --minwidth %|pdflame --minwidth 1.5% --factor 0.001 --countname ns $TMP/fp.folded
pdflame --inverted --hash|pdflame --inverted --hash --colors mem $TMP/fp.folded
pdflame --reverse --flamechart|pdflame --reverse --flamechart $TMP/names.folded
pdflame diff|pdflame $TMP/d.folded
pdflame diff --negate|pdflame --negate --total 1000000000 $TMP/d.folded
pdflame -v|pdflame -v $TMP/names.folded
pddiff folded|pddiff --no-gate $D/fp.data $D/z-fp.data
pddiff table|pddiff --format=table $D/fp.data $D/pipe-fp.data
pddiff json|pddiff --format=json $D/fp.data $D/pipe-fp.data
pddiff -n --swap|pddiff -n --swap --no-gate $TMP/names.folded $TMP/names2.folded
pddiff gate table|pddiff --format=table --threshold 0.5 --confidence 95.5 $TMP/names.folded $TMP/names2.folded
pddiff gate json|pddiff --format=json --fail-on sym:Istanbul::iI>+1.5 --fail-on total>+2.5% $TMP/names.folded $TMP/names2.folded
pddiff --weight=samples|pddiff --weight=samples --no-marks --no-header --format=folded $TMP/names.folded $TMP/names2.folded
CASES

# run_case VARS... -- CMD...: stdout, stderr and the exit status as one file, $TMP/got.
run_case() {
	_vars=
	while [ "$1" != -- ]; do _vars="$_vars $1"; shift; done
	shift
	# shellcheck disable=SC2086
	rc=0
	env -u LC_ALL -u LANG -u LC_NUMERIC -u LC_CTYPE -u LC_COLLATE -u LANGUAGE $_vars "$@" \
	    >"$TMP/got.out" 2>"$TMP/got.err" </dev/null || rc=$?
	{ cat "$TMP/got.out"; echo "--- stderr"; cat "$TMP/got.err"; echo "--- exit $rc"; } >"$TMP/got"
}

while IFS="|" read -r name cmd; do
	# shellcheck disable=SC2086
	set -- $(echo "$cmd" | sed "s|\\\$D|$D|g; s|\\\$TMP|$TMP|g")
	run_case LC_ALL=C -- "$@"
	mv "$TMP/got" "$TMP/ref"
	bad=
	for l in $locales; do
		# LANG and LC_NUMERIC alone where they change numbers, LC_CTYPE alone for the dotless i.
		case $l in
		de_DE*) hows="LC_ALL LANG LC_NUMERIC" ;;
		tr_TR*) hows="LC_ALL LANG LC_NUMERIC LC_CTYPE" ;;
		*) hows=LC_ALL ;;
		esac
		for how in $hows; do
			run_case "$how=$l" -- "$@"
			cmp -s "$TMP/got" "$TMP/ref" || bad="$bad $how=$l"
		done
	done
	if [ -n "$bad" ]; then
		not_ok "$name: the same bytes in every locale" "differs under:$bad" \
		    "$(diff "$TMP/ref" "$TMP/got" | head -4)"
	elif grep -q "^--- exit 0$" "$TMP/ref" || grep -q "^--- exit 1$" "$TMP/ref"; then
		ok "$name: the same bytes in every locale"
	else
		not_ok "$name: failed in the C locale too" "$(tail -c 300 "$TMP/ref")"
	fi
done <"$TMP/cases"

done_testing
