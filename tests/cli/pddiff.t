#!/bin/sh
# pddiff: usage and exit codes, the option table against the man page and
# the completions, folded input (normalization rules, --strip-hex, exact -n
# scaling, NEW/GONE marks, the gate and --fail-on), then real recordings
# made here and now: two runs of one build pass the gate, a build whose
# hotspot() does three times the work fails it naming hotspot, the stream
# draws as a valid SVG, output is deterministic, and 20 same-build pairs
# at about 500 samples fire the default gate at most once.
. "$PD_SRC/tests/cli/lib.sh"

expect_exit 0 "--help exits 0" pddiff --help
grep -q '^usage: pddiff' "$TMP/out" && ok "--help prints the usage" || not_ok "--help output"

while IFS="|" read -r args msg; do
	# shellcheck disable=SC2086
	expect_exit 2 "bad usage: $args" pddiff $args
	if grep -q -e "$msg" "$TMP/err" && grep -q '^usage: pddiff' "$TMP/err" && [ ! -s "$TMP/out" ]; then
		ok "bad usage: $args: says '$msg'"
	else
		not_ok "bad usage: $args: message" "$(cat "$TMP/err")"
	fi
done <<'ROWS'
a b c|two inputs at most
--base-runs 2 a b|leaves no NEW input
--format=svg a b|--format takes
--threshold=x a b|--threshold takes
--confidence=20 a b|--confidence takes
--weight=cycles a b|--weight takes
--fail-on=bogus a b|a rule is
--fail-on=sym:x>abc a b|is not a growth
- -|standard input
ROWS

option_drift pddiff 17

# ---- Folded input: what can be checked without a kernel. ----
cat >"$TMP/base.folded" <<'EOF'
# pd-folded v1 weight=samples event=cpu-clock tool=pdcollapse
app;main;work;memcpy 300
app;main;work 300
app;main;parse::h0123456789abcdef 200
app;main;old_path 200
ksoftirqd/3;run_ksoftirqd;__do_softirq_[k] 0
EOF
cat >"$TMP/new.folded" <<'EOF'
# pd-folded v1 weight=samples event=cpu-clock tool=pdcollapse
app;main;work;memcpy 300
app;main;work 300
app;main;parse::hfedcba9876543210 200
app;main;new_path;0x7f00aa 400
ksoftirqd/7;run_ksoftirqd;__do_softirq_[k] 0
EOF
printf '# Rust hashes and kernel thread numbers\ns/::h[0-9a-f]{16}$//\ns|^(ksoftirqd)/[0-9]+$|\\1/N|\n' >"$TMP/rules"

expect_exit 1 "a new path of 33 points: exit 1" pddiff -s --normalize "$TMP/rules" "$TMP/base.folded" "$TMP/new.folded"
cp "$TMP/out" "$TMP/d.folded"
grep -q 'regression: self 0x\.\.\.: 0\.00% -> 33\.33%' "$TMP/err" &&
	ok "the offending row names the symbol, on stderr" || not_ok "gate row" "$(cat "$TMP/err")"
grep -q '^app;main;parse 200 200$' "$TMP/d.folded" &&
	ok "--normalize: Rust hash suffixes stripped, both builds line up" || not_ok "rules" "$(cat "$TMP/d.folded")"
grep -q '^app;main;new_path \[NEW\];0x\.\.\. 0 400$' "$TMP/d.folded" &&
	ok "NEW marks the outermost new frame; --strip-hex turns addresses into 0x..." ||
	not_ok "NEW mark" "$(cat "$TMP/d.folded")"
grep -q '^app;main;old_path \[GONE\] 200 0$' "$TMP/d.folded" &&
	ok "GONE marks a frame found in BASE only" || not_ok "GONE mark" "$(cat "$TMP/d.folded")"
grep -q '^app;main;work;memcpy 300 300$' "$TMP/d.folded" && ! grep -q 'memcpy \[' "$TMP/d.folded" &&
	ok "frames on both sides are not marked" || not_ok "unmarked"
grep -q '^#' "$TMP/d.folded" && not_ok "no metadata line by default" "$(head -n 1 "$TMP/d.folded")" ||
	ok "no metadata line by default: every line is 'stack BASE NEW'"
run_tool "$TMP/h.folded" "$TMP/err" pddiff --header --no-gate -s --normalize "$TMP/rules" "$TMP/base.folded" "$TMP/new.folded"
if [ "$(head -n 1 "$TMP/h.folded")" = "# pd-diff v1 weight=samples event=cpu-clock base_runs=1 new_runs=1 scaled=no columns=base,new tool=pddiff" ] &&
    [ "$(sed 1d "$TMP/h.folded")" = "$(cat "$TMP/d.folded")" ]; then
	ok "--header: the metadata line with the runs' event first, then the same stream"
else
	not_ok "--header" "$(head -n 2 "$TMP/h.folded" | tr '\n' '|')"
fi
# Without a metadata line, folded counts are sample counts: the same verdict.
sed 1d "$TMP/base.folded" >"$TMP/bare-base.folded"
sed 1d "$TMP/new.folded" >"$TMP/bare-new.folded"
expect_exit 1 "folded stacks without a metadata line: compared as samples, the same verdict" \
	pddiff -s --normalize "$TMP/rules" "$TMP/bare-base.folded" "$TMP/bare-new.folded"
cmp -s "$TMP/out" "$TMP/d.folded" && ok "and the same stream" || not_ok "bare stream" "$(diff "$TMP/out" "$TMP/d.folded" | head -n 4 | tr '\n' '|')"

expect_exit 0 "--no-gate: exit 0" pddiff --no-gate "$TMP/base.folded" "$TMP/new.folded"
expect_exit 0 "the same profile twice: exit 0" pddiff "$TMP/base.folded" "$TMP/base.folded"
# 1000 against 1200: -n scales BASE exactly, by largest remainder.
run_tool "$TMP/n.folded" "$TMP/err" pddiff -n --no-gate "$TMP/base.folded" "$TMP/new.folded"
sums=$(awk '!/^#/ { a += $(NF - 1); b += $NF } END { print a, b }' "$TMP/n.folded")
[ "$sums" = "1200 1200" ] && ok "-n: BASE's total equals NEW's, no truncation loss" ||
	not_ok "-n totals" "$sums"
grep -q '^app;main;work;memcpy 360 300$' "$TMP/n.folded" && ok "-n: 300 of 1000 becomes 360 of 1200" ||
	not_ok "-n scaling" "$(cat "$TMP/n.folded")"
printf 'x;a 1\nx;b 1\nx;c 1\n' >"$TMP/three"
printf 'x;a 1\nx;b 1\nx;c 1\nx;d 1\n' >"$TMP/four"
run_tool "$TMP/out" "$TMP/err" pddiff -n --no-gate --no-header "$TMP/three" "$TMP/four"
awk '{ s += $(NF - 1) } END { exit s != 4 }' "$TMP/out" && ok "-n: thirds of 4 still add up to 4" ||
	not_ok "-n remainders" "$(cat "$TMP/out")"

# --fail-on: a named symbol, relative or in points; the total.
expect_exit 0 "--threshold 50: nothing grew that much" pddiff --threshold 50 "$TMP/base.folded" "$TMP/new.folded"
expect_exit 1 "--fail-on total>+10%: exit 1" \
	pddiff --threshold 50 --fail-on 'total>+10%' "$TMP/base.folded" "$TMP/new.folded"
grep -q 'total weight (period) per run 1000 -> 1200' "$TMP/err" && ok "--fail-on total>+10%: reported" ||
	not_ok "total rule" "$(cat "$TMP/err")"
expect_exit 0 "--fail-on sym:memcpy>+1: memcpy's share fell" \
	pddiff --threshold 50 --fail-on 'sym:memcpy>+1' "$TMP/base.folded" "$TMP/new.folded"

# The table and JSON.
expect_exit 1 "--format=table" pddiff --format=table -s "$TMP/base.folded" "$TMP/new.folded"
grep -Eq '^ +0\.00 +33\.33 +\+33\.33 +inf .*NEW,SIG,FAIL +\[\.\] 0x\.\.\.$' "$TMP/out" &&
	ok "table: base%, new%, delta, ratio, NEW and the significance" || not_ok "table row" "$(cat "$TMP/out")"
grep -Eq 'GONE.*old_path$' "$TMP/out" && ok "table: GONE flag" || not_ok "table GONE"
grep -q '^# Inclusive (children)' "$TMP/out" && ok "table: an inclusive section" || not_ok "table incl"
expect_exit 1 "--format=json" pddiff --format=json "$TMP/base.folded" "$TMP/new.folded"
if command -v python3 >/dev/null 2>&1; then
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "pd-diff-v1"
r = [x for x in d["rows"] if x["symbol"] == "new_path" and x["kind"] == "inclusive"][0]
assert r["new"] and r["base_samples"] == 0 and r["new_samples"] == 400
assert d["regressions"] >= 1
' "$TMP/out" && ok "json: valid, with counts and flags" || not_ok "json content" "$(head -c 300 "$TMP/out")"
else
	skip "python3 is not installed"
fi

# Periods in a folded file: no test, a warning, the threshold alone.
sed 's/weight=samples/weight=period/' "$TMP/base.folded" >"$TMP/pb.folded"
expect_exit 0 "weight=period folded: still compares" pddiff "$TMP/pb.folded" "$TMP/base.folded"
grep -q 'no significance test' "$TMP/err" && ok "weight=period folded: says there is no test" ||
	not_ok "period warning" "$(cat "$TMP/err")"

printf 'a;b 3\nnot a stack\n' >"$TMP/bad.folded"
expect_exit 2 "a line that does not parse: exit 2" pddiff "$TMP/bad.folded" "$TMP/base.folded"
grep -q 'line 2' "$TMP/err" && ok "names the line" || not_ok "bad line msg" "$(cat "$TMP/err")"
expect_exit 2 "a missing input: exit 2" pddiff "$TMP/nope" "$TMP/base.folded"
printf '# nothing\n' >"$TMP/empty.folded"
expect_exit 2 "an empty side: exit 2" pddiff "$TMP/empty.folded" "$TMP/base.folded"
printf 's/(/x/\n' >"$TMP/badrule"
expect_exit 2 "a bad regex rule: exit 2" pddiff --normalize "$TMP/badrule" "$TMP/base.folded" "$TMP/new.folded"
expect_exit 1 "standard input as NEW" sh -c 'pddiff "$1" - <"$2"' sh "$TMP/base.folded" "$TMP/new.folded"
# A differential line whose stack ends in a blank and digits: "   5 5 6" is
# the stack "   5" (as flamegraph.pl reads it), in the stream and in the
# table alike; pddiff's table once re-read it as the empty stack "  ".
printf '   5 5 6\nx;y 2\n' >"$TMP/odd.folded"
run_tool "$TMP/out" "$TMP/err" pddiff "$TMP/odd.folded" "$TMP/odd.folded"
if [ "$rc" -eq 0 ] && [ "$(cat "$TMP/out")" = "$(printf '   5 6 6\nx;y 2 2')" ] && [ ! -s "$TMP/err" ]; then
	ok "a stack ending in a blank and digits: read as pdtop reads it"
else
	not_ok "a stack ending in a blank and digits" "exit $rc" "$(cat "$TMP/out" "$TMP/err")"
fi
run_tool "$TMP/out" "$TMP/err" pddiff --format=table "$TMP/odd.folded" "$TMP/odd.folded"
[ "$rc" -eq 0 ] && grep -q '75.00   75.00' "$TMP/out" && ok "... and in the table (75% against 75%)" ||
	not_ok "odd stack table" "exit $rc" "$(cat "$TMP/out" "$TMP/err")"

# Merged baseline: three runs of BASE, -n.
run_tool "$TMP/out" "$TMP/err" pddiff --header -n --base-runs 3 --no-gate "$TMP/base.folded" "$TMP/base.folded" \
	"$TMP/base.folded" "$TMP/base.folded"
grep -q '^app;main;work 300 300$' "$TMP/out" && grep -q 'base_runs=3 new_runs=1' "$TMP/out" &&
	ok "--base-runs 3: a merged baseline, scaled to NEW" || not_ok "base-runs" "$(cat "$TMP/out")"

# ---- Real recordings. ----
if ! can_record; then
	skip "perf record is not permitted here (perf_event_paranoid or no perf)"
	done_testing
	exit
fi
mkdir -p "$TMP/a" "$TMP/b"
if ! ${CC:-cc} -O1 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -DFACTOR=1 \
	-o "$TMP/a/diffwork" "$PD_SRC/tests/data/diffwork.c" ||
    ! ${CC:-cc} -O1 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -DFACTOR=3 \
	-o "$TMP/b/diffwork" "$PD_SRC/tests/data/diffwork.c"; then
	skip "cannot build the workload"
	done_testing
	exit
fi
# rec OUT DIR: about 500 samples (0.5 s of CPU at 1000 Hz) of DIR's build.
rec() {
	perf record -q -e cpu-clock -F 1000 -g -o "$1" -- "$2/diffwork" 6500000 >/dev/null 2>&1
}
if ! rec "$TMP/base1.data" "$TMP/a" || ! rec "$TMP/base2.data" "$TMP/a" || ! rec "$TMP/new.data" "$TMP/b"; then
	skip "perf record -e cpu-clock fails here"
	done_testing
	exit
fi
nb=$(pdcollapse "$TMP/base1.data" 2>/dev/null | awk '{ s += $NF } END { print s + 0 }')
if [ "$nb" -lt 100 ]; then
	skip "sampling gives too few samples here ($nb)"
	done_testing
	exit
fi
diag "base1.data holds $nb samples"

expect_exit 0 "two runs of the same build: exit 0" pddiff "$TMP/base1.data" "$TMP/base2.data"
[ ! -s "$TMP/err" ] && ok "... and nothing on stderr" || not_ok "same build stderr" "$(cat "$TMP/err")"
expect_exit 1 "hotspot() three times the work: exit 1" pddiff "$TMP/base1.data" "$TMP/new.data"
cp "$TMP/out" "$TMP/real.folded"
grep -q '^pddiff: regression: self hotspot: ' "$TMP/err" && ok "the offending row names hotspot" ||
	not_ok "names hotspot" "$(cat "$TMP/err")"
[ "$(grep -c 'regression:' "$TMP/err")" -eq 1 ] && ok "and only hotspot" || not_ok "other rows" "$(cat "$TMP/err")"
grep -Eq '^diffwork;.*gamma_;hotspot [0-9]+ [0-9]+$' "$TMP/real.folded" &&
	ok "the stream has hotspot under gamma_, two counts" || not_ok "stream" "$(head -n 5 "$TMP/real.folded")"
awk '/;hotspot / && !/^#/ { if ($NF <= $(NF - 1)) bad = 1; n++ } END { exit bad || !n }' "$TMP/real.folded" &&
	ok "hotspot's stacks grew" || not_ok "hotspot counts" "$(grep hotspot "$TMP/real.folded")"

# Table: hotspot first, with a z and SIG; the same file twice is all zero.
expect_exit 1 "--format=table on the recordings" pddiff --format=table "$TMP/base1.data" "$TMP/new.data"
awk '/^# Self/ { getline; getline; print; exit }' "$TMP/out" | grep -Eq 'SIG,FAIL +\[\.\] hotspot$' &&
	ok "table: hotspot is the first self row, significant" || not_ok "table order" "$(head -n 6 "$TMP/out")"

# Deterministic: the same inputs give the same bytes, in any locale.
run_tool "$TMP/again.folded" "$TMP/err" pddiff "$TMP/base1.data" "$TMP/new.data"
LC_ALL=C.UTF-8 pddiff --format=json "$TMP/base1.data" "$TMP/new.data" >"$TMP/j1" 2>/dev/null
pddiff --format=json "$TMP/base1.data" "$TMP/new.data" >"$TMP/j2" 2>/dev/null
cmp -s "$TMP/real.folded" "$TMP/again.folded" && cmp -s "$TMP/j1" "$TMP/j2" &&
	ok "two runs give identical bytes (folded, json)" || not_ok "output differs between runs"

# pddiff | pdflame: a valid SVG with deltas.
pdflame "$TMP/real.folded" >"$TMP/diff.svg" 2>"$TMP/flame.err"
if command -v xmllint >/dev/null 2>&1; then
	xmllint --noout "$TMP/diff.svg" 2>"$TMP/xmlerr" && ok "pdflame draws the stream: well-formed SVG" ||
		not_ok "SVG not well-formed" "$(head -c 300 "$TMP/xmlerr")"
else
	skip "xmllint is not installed"
fi
grep -q 'df="1"' "$TMP/diff.svg" && grep -Eq '<g [^>]* b="[0-9]+"[^>]*><title>hotspot</title>' "$TMP/diff.svg" &&
	ok "a differential graph, hotspot with its base count" || not_ok "differential SVG"
# gamma_ is the parent: its inclusive width grew though its own code did not.
w=$(grep -Eo '<g o="[0-9]+" w="[0-9]+"[^>]* b="[0-9]+"[^>]*><title>gamma_</title>' "$TMP/diff.svg" | head -n 1)
gw=$(echo "$w" | sed 's/.* w="\([0-9]*\)".*/\1/')
gb=$(echo "$w" | sed 's/.* b="\([0-9]*\)".*/\1/')
[ -n "$gw" ] && [ -n "$gb" ] && [ "$gw" -gt "$gb" ] &&
	ok "the parent gamma_ carries the inclusive delta ($gb -> $gw)" || not_ok "parent delta" "$w"

# Merged baseline of two runs against one new run, -n: still exit 1 for hotspot.
expect_exit 1 "--base-runs 2 -n: hotspot still fails" pddiff -n --base-runs 2 "$TMP/base1.data" "$TMP/base2.data" "$TMP/new.data"
# The folded stream of perf.data inputs counts samples unless --weight says
# otherwise, as a stream without a metadata line must (pd-formats(5)); the
# shares of the table and the gate still count periods, as perf diff does.
run_tool "$TMP/ds.folded" "$TMP/err" pddiff --no-gate "$TMP/base1.data" "$TMP/new.data"
run_tool "$TMP/dss.folded" "$TMP/err" pddiff --no-gate --weight=samples "$TMP/base1.data" "$TMP/new.data"
run_tool "$TMP/dsp.folded" "$TMP/err" pddiff --no-gate --weight=period "$TMP/base1.data" "$TMP/new.data"
if [ -s "$TMP/ds.folded" ] && cmp -s "$TMP/ds.folded" "$TMP/dss.folded" && ! cmp -s "$TMP/ds.folded" "$TMP/dsp.folded"; then
	ok "perf.data inputs: the folded stream counts samples by default, periods with --weight=period"
else
	not_ok "folded stream weight" "$(head -n 2 "$TMP/ds.folded")" "$(head -n 2 "$TMP/dsp.folded")"
fi
run_tool "$TMP/tp" "$TMP/err" pddiff --no-gate --format=table "$TMP/base1.data" "$TMP/new.data"
run_tool "$TMP/tpp" "$TMP/err" pddiff --no-gate --format=table --weight=period "$TMP/base1.data" "$TMP/new.data"
cmp -s "$TMP/tp" "$TMP/tpp" && ok "... while the table's shares count periods by default" ||
	not_ok "table shares default" "$(diff "$TMP/tp" "$TMP/tpp" | head -n 4)"
# Folded input made by pdcollapse (sample counts by default) gives the same verdict.
pdcollapse "$TMP/base1.data" >"$TMP/b1.folded" 2>/dev/null
pdcollapse "$TMP/new.data" >"$TMP/n.folded" 2>/dev/null
expect_exit 1 "folded input (pdcollapse's default, samples): the same verdict" pddiff "$TMP/b1.folded" "$TMP/n.folded"
grep -q 'regression: self hotspot' "$TMP/err" && ok "... naming hotspot" || not_ok "folded verdict" "$(cat "$TMP/err")"
# Periods with the metadata line: pddiff knows they are no sample counts.
pdcollapse --weight=period --header "$TMP/base1.data" >"$TMP/b1p.folded" 2>/dev/null
pdcollapse --weight=period --header "$TMP/new.data" >"$TMP/n1p.folded" 2>/dev/null
run_tool "$TMP/out" "$TMP/err" pddiff --no-gate "$TMP/b1p.folded" "$TMP/n1p.folded"
grep -q 'BASE holds periods, not sample counts' "$TMP/err" && ok "pdcollapse --weight=period --header: no significance test on periods, said" ||
	not_ok "period header" "$(cat "$TMP/err")"

# False positives: 20 pairs of same-build runs, about 500 samples each.
if [ "${PD_DIFF_FP_PAIRS:-20}" -gt 0 ]; then
	pairs=${PD_DIFF_FP_PAIRS:-20}
	fired=0
	i=0
	while [ "$i" -lt "$pairs" ]; do
		rec "$TMP/p1.data" "$TMP/a" && rec "$TMP/p2.data" "$TMP/a" || break
		run_tool "$TMP/out" "$TMP/err" pddiff "$TMP/p1.data" "$TMP/p2.data"
		# shellcheck disable=SC2154 # rc is set by run_tool (lib.sh)
		[ "$rc" -eq 1 ] && { fired=$((fired + 1)); diag "pair $i fired: $(head -n 1 "$TMP/err")"; }
		[ "$rc" -gt 1 ] && { fired=99; diag "pair $i: exit $rc"; }
		i=$((i + 1))
	done
	diag "the default gate fired on $fired of $i same-build pairs"
	[ "$i" -eq "$pairs" ] && [ "$fired" -le 1 ] &&
		ok "$pairs same-build pairs: the gate fired $fired times (at most 1)" ||
		not_ok "false positives: $fired of $i pairs"
fi
done_testing
