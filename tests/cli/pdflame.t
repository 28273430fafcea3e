#!/bin/sh
# pdflame: usage and exit codes, the option table against the man page and
# the completions, hostile names and titles (well-formed XML, nothing
# unescaped), determinism, differential input, pruning into an "omitted"
# element, CRLF/comment/blank lines, unreadable lines, empty input.
. "$PD_SRC/tests/cli/lib.sh"

D=$PD_SRC/tests/data/flame
have_xmllint=0
command -v xmllint >/dev/null 2>&1 && have_xmllint=1

# wellformed NAME FILE: xmllint --noout, or a skip with the reason.
wellformed() {
	if [ "$have_xmllint" = 0 ]; then
		skip "$1: xmllint is not installed (apt-get install libxml2-utils)"
	elif xmllint --noout "$2" 2>"$TMP/xmlerr"; then
		ok "$1: well-formed XML"
	else
		not_ok "$1: not well-formed" "$(head -c 400 "$TMP/xmlerr")"
	fi
}

expect_exit 0 "--help exits 0" pdflame --help
if grep -q '^usage: pdflame' "$TMP/out" && [ ! -s "$TMP/err" ]; then
	ok "--help prints the usage to stdout"
else
	not_ok "--help output" "$(head -n 2 "$TMP/out")"
fi
expect_exit 0 "-V exits 0" pdflame -V
grep -Eq '^pdflame [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out" && ok "-V prints the version" || not_ok "-V output" "$(cat "$TMP/out")"

# Bad usage: exit 2, the reason and the usage on stderr, nothing on stdout.
while IFS="|" read -r args msg; do
	# shellcheck disable=SC2086
	expect_exit 2 "bad usage: $args" pdflame $args "$D/simple.folded"
	if grep -q -e "$msg" "$TMP/err" && grep -q '^usage: pdflame' "$TMP/err" && [ ! -s "$TMP/out" ]; then
		ok "bad usage: $args: says '$msg' and shows the usage"
	else
		not_ok "bad usage: $args: message" "$(cat "$TMP/err")"
	fi
done <<'ROWS'
--bogus|unknown option '--bogus'
-Z|unknown option '-Z'
--colors=nope|no palette 'nope'
--bgcolors=pink|--bgcolors takes
--width=abc|--width takes a whole number
--width=0|--width takes a whole number
--height=-3|--height takes a whole number
--minwidth=x|--minwidth takes a number
--minwidth=200%|--minwidth takes a number
--fontsize=0|--fontsize takes a number
--factor=0|--factor takes a number
--total=-1|--total takes a whole number
ROWS
expect_exit 2 "an option without its argument: exit 2" pdflame --title
grep -q 'needs an argument' "$TMP/err" && ok "says the option needs an argument" || not_ok "needs an argument" "$(cat "$TMP/err")"

option_drift pdflame 21

# A plain graph.
expect_exit 0 "simple input: exit 0" pdflame "$D/simple.folded"
cp "$TMP/out" "$TMP/simple.svg"
wellformed "simple input" "$TMP/simple.svg"
if grep -q '<title>parse_args</title>' "$TMP/simple.svg" && grep -q '<title>kernel_fn</title>' "$TMP/simple.svg" &&
    [ "$(grep -c '<script' "$TMP/simple.svg")" -eq 1 ]; then
	ok "frames drawn, annotations stripped from the names, one script"
else
	not_ok "simple graph content"
fi
grep -q 'o="0" w="100" d="0"' "$TMP/simple.svg" && ok "root frame holds the total (100)" || not_ok "root total" "$(grep -m1 '<g o=' "$TMP/simple.svg")"

# Same input, same bytes; in any locale; stdin or file alike.
LC_ALL=C.UTF-8 pdflame "$D/simple.folded" >"$TMP/s2.svg" 2>/dev/null
pdflame <"$D/simple.folded" >"$TMP/s3.svg" 2>/dev/null
cmp -s "$TMP/simple.svg" "$TMP/s2.svg" && cmp -s "$TMP/simple.svg" "$TMP/s3.svg" &&
	ok "two runs give identical bytes" || not_ok "output differs between runs"
# Same name, same colour, in another graph.
printf 'x;y;read 1\nz 5\n' >"$TMP/other.folded"
run_tool "$TMP/other.svg" "$TMP/err" pdflame "$TMP/other.folded"
c1=$(grep -o '<title>read</title><rect[^>]*fill="#[0-9a-f]*"' "$TMP/simple.svg" | grep -o '#[0-9a-f]*')
c2=$(grep -o '<title>read</title><rect[^>]*fill="#[0-9a-f]*"' "$TMP/other.svg" | grep -o '#[0-9a-f]*')
[ -n "$c1" ] && [ "$c1" = "$c2" ] && ok "a name has the same colour in every graph ($c1)" || not_ok "colour differs" "$c1 vs $c2"

# Hostile names and title.
long=$(awk 'BEGIN { while (n++ < 10000) printf "x"; }')
{
	printf 'main;a<b>&c"d'"'"'e 5\n'
	printf 'main;]]>;</script><script>alert(1)</script> 7\n'
	printf 'main;ctl\001\002\033[31m\177x 3\n'
	printf 'main;nul\000byte 2\n'
	printf 'main;bad\377\376utf8\300\200\355\240\200end 4\n'
	printf 'main;cut\342\202 6\n'
	printf 'main;%s 9\n' "$long"
	printf 'main;tab\there;&amp;&#0; 1\n'
} >"$TMP/hostile.folded"
expect_exit 0 "hostile input: exit 0" pdflame --title '<b onload="x">T</b>&]]></script>' \
    --subtitle '<i>s' --nametype '"><x' --countname "<'>" --fonttype 'V"}<x' --notes 'a--b-' \
    "$TMP/hostile.folded"
cp "$TMP/out" "$TMP/hostile.svg"
wellformed "hostile input" "$TMP/hostile.svg"
if [ "$(grep -c '<script' "$TMP/hostile.svg")" -eq 1 ] && [ "$(grep -c '</script>' "$TMP/hostile.svg")" -eq 1 ] &&
    [ "$(grep -c ']]>' "$TMP/hostile.svg")" -eq 1 ] && ! grep -q '<b \|<i>\|<x\|alert(1)</' "$TMP/hostile.svg"; then
	ok "no markup from the input or the options reaches the SVG unescaped"
else
	not_ok "unescaped markup" "$(grep -n '<script\|]]>\|<b \|<i>\|<x' "$TMP/hostile.svg" | cut -c1-200 | head -5)"
fi
grep -q '&lt;b onload=&quot;x&quot;&gt;T&lt;/b&gt;&amp;]]&gt;&lt;/script&gt;' "$TMP/hostile.svg" &&
	ok "--title is escaped" || not_ok "--title escaping" "$(grep -m1 'id="title"' "$TMP/hostile.svg")"
if LC_ALL=C tr -d '\t\n' <"$TMP/hostile.svg" | LC_ALL=C grep -q '[[:cntrl:]]'; then
	not_ok "C0 control characters left in the SVG"
else
	ok "C0 control characters replaced"
fi
if command -v iconv >/dev/null; then
	iconv -f UTF-8 -t UTF-8 <"$TMP/hostile.svg" >/dev/null 2>&1 && ok "the SVG is valid UTF-8" || not_ok "invalid UTF-8 in the SVG"
else
	skip "iconv is not installed"
fi
grep -q 'bad��utf8��' "$TMP/hostile.svg" && ok "invalid UTF-8 bytes become U+FFFD" || not_ok "U+FFFD replacement" "$(grep -o 'bad[^<]*' "$TMP/hostile.svg" | head -1)"
grep -q "<title>$long</title>" "$TMP/hostile.svg" && ok "a 10k-character name is kept whole in its title" || not_ok "long name"
grep -q '<!-- NOTES: a- -b-  -->' "$TMP/hostile.svg" && ok "--notes cannot close the comment" || not_ok "notes" "$(grep NOTES "$TMP/hostile.svg")"
# Labels are cut by characters, never inside an escape or a UTF-8 sequence.
printf 'main;&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&& 1\nmain;éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé 1\n' >"$TMP/cut.folded"
run_tool "$TMP/cut.svg" "$TMP/err" pdflame --width 600 "$TMP/cut.folded"
wellformed "labels cut in escapes and UTF-8" "$TMP/cut.svg"
grep -q '>\(&amp;\)*\.\.</text>' "$TMP/cut.svg" && grep -q '>\(é\)*\.\.</text>' "$TMP/cut.svg" &&
	ok "labels end in '..' after whole characters" || not_ok "label truncation" "$(grep -o '<text[^/]*</text>' "$TMP/cut.svg" | tail -2)"

# Differential input: red grew, blue shrank, deltas on parents too.
expect_exit 0 "differential input: exit 0" pdflame "$D/diff.folded"
cp "$TMP/out" "$TMP/diff.svg"
wellformed "differential" "$TMP/diff.svg"
grep -q 'df="1"' "$TMP/diff.svg" && grep -q '<g o="[0-9]*" w="30" d="3" s="30" b="10" sb="10"><title>compute</title><rect[^>]*fill="#ff' "$TMP/diff.svg" &&
	ok "a frame that grew is red, with its first count" || not_ok "grew" "$(grep compute "$TMP/diff.svg")"
grep -q '<title>io</title><rect[^>]*fill="#[0-9a-f]\{4\}ff"' "$TMP/diff.svg" && ok "a frame that shrank is blue" || not_ok "shrank" "$(grep '>io<' "$TMP/diff.svg")"
grep -q 'w="35" d="2" b="30"><title>run</title>' "$TMP/diff.svg" && ok "parents carry inclusive first counts (run: 30 -> 35)" || not_ok "inclusive" "$(grep '>run<' "$TMP/diff.svg")"
run_tool "$TMP/neg.svg" "$TMP/err" pdflame --negate "$D/diff.folded"
grep -q '<title>compute</title><rect[^>]*fill="#[0-9a-f]\{4\}ff"' "$TMP/neg.svg" && grep -q 'ng="1"' "$TMP/neg.svg" &&
	ok "--negate swaps the hues" || not_ok "--negate" "$(grep compute "$TMP/neg.svg")"

# Pruning: narrow frames become one visible "N frames omitted" element.
awk 'BEGIN { print "main;big 100000"; for (i = 1; i <= 200; i++) printf "main;tiny_%d;leaf 1\n", i }' >"$TMP/prune.folded"
expect_exit 0 "pruning: exit 0" pdflame -v "$TMP/prune.folded"
cp "$TMP/out" "$TMP/prune.svg"
if grep -q '<g class="om" o="100000" w="200" d="2"><title>400 frames omitted (0.20%)</title>' "$TMP/prune.svg" &&
    ! grep -q 'tiny_' "$TMP/prune.svg" && grep -q '402 frames: 2 drawn, 400 omitted in 1 elements and on 0 tooltips' "$TMP/err"; then
	ok "200 narrow stacks (400 frames) merged into one 'omitted' element, and counted by -v"
else
	not_ok "omitted element" "$(grep 'class="om"' "$TMP/prune.svg")" "$(cat "$TMP/err")"
fi
# Narrower than a pixel even together: counted on the parent's tooltip.
awk 'BEGIN { print "main;big 100000"; for (i = 1; i <= 5; i++) printf "main;tiny_%d;leaf 1\n", i }' >"$TMP/prune5.folded"
run_tool "$TMP/prune5.svg" "$TMP/err" pdflame -v "$TMP/prune5.folded"
grep -q 'd="1" m="10"><title>main</title>' "$TMP/prune5.svg" && grep -q '10 omitted in 0 elements and on 1 tooltips' "$TMP/err" &&
	ok "a sub-pixel group of omitted frames is counted on its parent (m=10)" || not_ok "m= count" "$(grep '>main<' "$TMP/prune5.svg")"
run_tool "$TMP/noprune.svg" "$TMP/err" pdflame --minwidth 0 "$TMP/prune.folded"
[ "$(grep -c 'tiny_' "$TMP/noprune.svg")" -eq 200 ] && ! grep -q 'class="om"' "$TMP/noprune.svg" &&
	ok "--minwidth 0 draws every frame" || not_ok "--minwidth 0"
run_tool "$TMP/pct.svg" "$TMP/err" pdflame --minwidth 50% "$D/simple.folded"
grep -q 'class="om"' "$TMP/pct.svg" && ok "--minwidth N% prunes by share of the total" || not_ok "--minwidth %"

# CRLF, comments and blank lines change nothing.
{
	printf '# a comment\r\n\r\n'
	grep -v '^#' "$D/simple.folded" | sed 's/$/\r/'
	printf '   \n\t\n# 12\n'
} >"$TMP/crlf.folded"
grep -v '^#' "$D/simple.folded" >"$TMP/plain.folded"
run_tool "$TMP/crlf.svg" "$TMP/e1" pdflame -v "$TMP/crlf.folded"
run_tool "$TMP/plain.svg" "$TMP/e2" pdflame "$TMP/plain.folded"
cmp -s "$TMP/crlf.svg" "$TMP/plain.svg" && grep -q ': 7 stacks, 2 comments, 3 blank, 0 unreadable' "$TMP/e1" &&
	ok "CRLF, comments and blank lines: same SVG, counted by -v" || not_ok "CRLF/comments" "$(cat "$TMP/e1")"
# The last line counts without its newline.
printf 'a;b 3\na;c 4' >"$TMP/nonl.folded"
run_tool "$TMP/nonl.svg" "$TMP/err" pdflame "$TMP/nonl.folded"
grep -q 'w="7" d="0"' "$TMP/nonl.svg" && ok "a last line without a newline is read" || not_ok "last line"

# Unreadable lines are counted and reported, never dropped silently.
printf 'a;b 3\nno count here\na;c 1.5\na;d -4\na;e 99999999999999999999999\na;f 2\n' >"$TMP/bad.folded"
expect_exit 0 "unreadable lines: exit 0" pdflame -v "$TMP/bad.folded"
if grep -q "ignored 4 lines that are not 'stack count' (first: line 2)" "$TMP/err" &&
    grep -q '4 unreadable' "$TMP/err" && grep -q 'line 5 is not' "$TMP/err" && grep -q 'w="5" d="0"' "$TMP/out"; then
	ok "-v counts 4 unreadable lines and names them"
else
	not_ok "unreadable lines" "$(cat "$TMP/err")"
fi
run_tool "$TMP/q.svg" "$TMP/err" pdflame -q "$TMP/bad.folded"
[ ! -s "$TMP/err" ] && ok "-q silences the warning" || not_ok "-q" "$(cat "$TMP/err")"

# Empty or unreadable input: a message, flamegraph.pl's error SVG, exit 2.
: >"$TMP/empty.folded"
expect_exit 2 "empty input: exit 2" pdflame "$TMP/empty.folded"
grep -q 'no stack counts found' "$TMP/err" && ok "empty input: says so" || not_ok "empty message" "$(cat "$TMP/err")"
cp "$TMP/out" "$TMP/empty.svg"
wellformed "error SVG" "$TMP/empty.svg"
printf '# only\n\n# comments\n' >"$TMP/comments.folded"
expect_exit 2 "comments only: exit 2" pdflame "$TMP/comments.folded"
expect_exit 2 "empty stdin: exit 2" pdflame </dev/null
expect_exit 2 "missing file: exit 2" pdflame "$TMP/nonexistent.folded"
grep -q "cannot open '.*nonexistent.folded'" "$TMP/err" && ok "missing file: names it" || not_ok "missing message" "$(cat "$TMP/err")"
# perf.data where folded stacks belong: one line that says so.
expect_exit 2 "perf.data instead of folded stacks: exit 2" pdflame "$PD_SRC/tests/data/fp.data"
if [ "$(cat "$TMP/err")" = "pdflame: '$PD_SRC/tests/data/fp.data': perf.data, not folded stacks, at offset 0x0 (fold it with pdcollapse first)" ]; then
	ok "perf.data instead of folded stacks: one line that names the file and says to fold it"
else
	not_ok "perf.data instead of folded stacks: the message" "$(cat "$TMP/err")"
fi
# ... and through a pipe, as in "pdrecord | pdflame" (pdcollapse forgotten).
cat "$PD_SRC/tests/data/pipe-fp.data" | pdflame >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(cat "$TMP/err")" = "pdflame: '-': perf.data, not folded stacks, at offset 0x0 (fold it with pdcollapse first)" ]; then
	ok "perf.data through a pipe: exit 2, the same one line"
else
	not_ok "perf.data through a pipe" "exit $rc" "$(cat "$TMP/err")"
fi
expect_exit 2 "a bad file among good ones: exit 2" pdflame "$D/simple.folded" "$TMP/nonexistent.folded"
grep -q '<title>parse_args</title>' "$TMP/out" && ok "the good file is still drawn" || not_ok "good file drawn"
expect_exit 2 "a directory: exit 2" pdflame "$TMP"

# Every option draws well-formed XML.
for args in --inverted --reverse --flamechart --hash --negate '--bgcolors=#123abc' '--bgcolors=blue' \
    '--total=1000' '--factor=2.5' '--width=300' '--height=24' '--fontsize=9.5' '--fonttype=monospace' \
    '--colors=mem' '--colors=io' '--colors=wakeup' '--colors=java' '--colors=js' '--colors=perl' \
    '--colors=red' '--colors=green' '--colors=blue' '--colors=aqua' '--colors=yellow' \
    '--colors=purple' '--colors=orange' '--colors=kind'; do
	run_tool "$TMP/o.svg" "$TMP/err" pdflame "$args" "$D/simple.folded"
	if [ "$rc" -ne 0 ]; then
		not_ok "$args: exit $rc" "$(cat "$TMP/err")"
	elif [ "$have_xmllint" = 1 ] && ! xmllint --noout "$TMP/o.svg" 2>/dev/null; then
		not_ok "$args: not well-formed"
	else
		ok "$args: exit 0, well-formed"
	fi
done
run_tool "$TMP/inv.svg" "$TMP/err" pdflame --inverted "$D/simple.folded"
grep -q '>Icicle Graph<' "$TMP/inv.svg" && ok "--inverted: Icicle Graph" || not_ok "--inverted title"
run_tool "$TMP/rev.svg" "$TMP/err" pdflame --reverse "$D/simple.folded"
grep -q 'd="1"><title>parse_args</title>' "$TMP/rev.svg" && ok "--reverse: leaves at the root" || not_ok "--reverse"
printf 'a;b 1\na;c 1\na;b 1\n' >"$TMP/chart.folded"
run_tool "$TMP/chart.svg" "$TMP/err" pdflame --flamechart "$TMP/chart.folded"
[ "$(grep -c '<title>b</title>' "$TMP/chart.svg")" -eq 2 ] && grep -q '>Flame Chart<' "$TMP/chart.svg" &&
	ok "--flamechart keeps input order and does not merge" || not_ok "--flamechart"
run_tool "$TMP/tot.svg" "$TMP/err" pdflame --total 10 "$D/simple.folded"
grep -q 'less than the sum' "$TMP/err" && ok "--total below the sum: warned and ignored" || not_ok "--total warning"
kind=$(grep -o '<title>kernel_fn</title><rect[^>]*fill="#[0-9a-f]*"' "$TMP/o.svg" | sed 's/.*fill="//; s/"$//')
case $kind in
'#'[5-8]?[5-8]?[c-f]?) ok "--colors=kind: kernel frames are blue ($kind)" ;;
*) not_ok "--colors=kind kernel colour" "$kind" ;;
esac

# Consistent palette file: written, then read back and used.
printf 'read->rgb(1,2,3)\n' >"$TMP/pal.map"
run_tool "$TMP/p1.svg" "$TMP/err" pdflame --palette-file "$TMP/pal.map" "$D/simple.folded"
if [ "$rc" -eq 0 ] && grep -q '<title>read</title><rect[^>]*fill="#010203"' "$TMP/p1.svg" &&
    grep -q '^write->rgb(' "$TMP/pal.map" && grep -q '^read->rgb(1,2,3)$' "$TMP/pal.map"; then
	ok "--palette-file: colours read, new ones added"
else
	not_ok "--palette-file" "$(cat "$TMP/err")"
fi
(cd "$TMP" && pdflame --cp "$D/simple.folded" >"$TMP/cp.svg" 2>/dev/null) && [ -s "$TMP/palette.map" ] &&
	ok "--cp writes palette.map" || not_ok "--cp"
# Frames too narrow even for an "omitted" element are owned up to in a
# visible line under the graph.
awk 'BEGIN { print "a;big 10000000"; for (i = 0; i < 5; i++) print "a;big;t" i " 1" }' >"$TMP/thin.folded"
run_tool "$TMP/thin.svg" "$TMP/thin.err" pdflame "$TMP/thin.folded"
if [ "$rc" -eq 0 ] && grep -q '<text id="omitted"[^>]*>5 frames omitted (0.00%)' "$TMP/thin.svg"; then
	ok "sub-pixel omitted frames are counted in a visible line"
else
	not_ok "no visible line for sub-pixel omitted frames" "rc $rc"
fi

# Empty stacks and empty frames (RELIABILITY.md T9): kept and counted, an
# empty frame is drawn with an empty name; nothing is lost from the total.
printf ' 5\na;;b 3\n;a 2\n' >"$TMP/empty-frames.folded"
run_tool "$TMP/ef.svg" "$TMP/err" pdflame -v "$TMP/empty-frames.folded"
if [ "$rc" -eq 0 ] && grep -q '3 stacks, 0 comments, 0 blank, 0 unreadable; total 10;' "$TMP/err" &&
    grep -q 'w="10" d="0"' "$TMP/ef.svg"; then
	ok "empty stacks and empty frames: kept, all 10 counted"
else
	not_ok "empty stacks and empty frames: kept, all 10 counted" "rc $rc" "$(cat "$TMP/err")"
fi
wellformed "empty stacks and frames" "$TMP/ef.svg"

# The first counts of a differential add up without wrapping around: after
# a line of 2^64-1, a two-count line whose first count would overflow the
# first total is an error at that line, as one whose second count would
# (tests/cli/weights.t has the rest of the rule).
printf 'a 18446744073709551615\nb 1 0\n' >"$TMP/wrap.folded"
run_tool "$TMP/wrap.svg" "$TMP/err" pdflame "$TMP/wrap.folded"
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "^pdflame: '$TMP/wrap.folded': line 2: the weights add up past 2^64-1 at offset 0x17\$" "$TMP/err"; then
	ok "a first count that would wrap the first total is an error at its line"
else
	not_ok "a first count that would wrap the first total is an error at its line" "rc $rc" "$(cat "$TMP/err")"
fi

# The unit of the counts, from the first line's metadata (pd-formats(5)).
printf '# pd-folded v1 weight=period event=cycles:u tool=pdcollapse\na;b 1000\n' >"$TMP/cyc.folded"
printf '# pd-folded v1 weight=period event=instructions tool=pdcollapse\na;c 3000\n' >"$TMP/ins.folded"
printf '# pd-folded v1 weight=period event=task-clock tool=pdcollapse\na;d 250000\n' >"$TMP/tc.folded"
printf 'a;e 5\n# pd-folded v1 weight=period event=cycles tool=pdcollapse\n' >"$TMP/late.folded"
unit_of() { pdflame "$@" 2>/dev/null | sed -n 's/.*<g id="frames" cn="\([^"]*\)".*/\1/p'; }
got="$(unit_of "$TMP/cyc.folded")|$(unit_of "$TMP/tc.folded")|$(unit_of "$TMP/cyc.folded" "$TMP/ins.folded")|$(unit_of "$TMP/late.folded")|$(unit_of --countname=ms "$TMP/tc.folded")"
if [ "$got" = "cycles:u|ns|periods|samples|ms" ]; then
	ok "unit: the event of periods, ns for a clock, periods for two events, samples without a first metadata line, --countname first"
else
	not_ok "unit from the metadata line" "$got"
fi
done_testing
