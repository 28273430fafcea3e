#!/bin/sh
# consumers.t - pdtools' text taken by other programs as they are.
#
# The folded stream (pdcollapse, by default and with --weight=period, and
# pddiff's differential stream) goes to FlameGraph's flamegraph.pl and
# difffolded.pl (run here when found: $FLAMEGRAPH_DIR, default
# /opt/FlameGraph, or PATH): no warning on stderr, and no stack they make up
# (their stacks and frames are ours).  The line rules of the consumers that
# are not installed here are checked line by line, as their sources state
# them (read for facts, not copied):
#   - inferno-flamegraph (jonhoo/inferno src/flamegraph/merge.rs: the line is
#     trimmed; the text after the last ' ' is the count, ASCII digits, a
#     u64; a second such token before it makes the line differential; an
#     empty stack is ignored);
#   - inferno-diff-folded (src/differential/mod.rs parse_line: a ' ', then
#     a usize; otherwise "Unable to parse line");
#   - inferno-collapse-recursive (src/collapse/recursive.rs line_parts:
#     rsplit_once(' ') and a u64, otherwise the whole input fails);
#   - speedscope's collapsed-stack importer (jlfwong/speedscope
#     src/import/bg-flamegraph.ts: /^(.*) (\d+)$/ per line, other lines
#     dropped silently, counts through parseInt, so exact up to 2^53 - 1) and
#     its format guess (src/import/index.ts: not JSON, no "# callgrind
#     format" first line, not "events:" and "fn=" lines, no "\tSymbol Name"
#     first line, no perf script event line with a time, before it tries the
#     collapsed stacks);
#   - Pyroscope's format=folded ingest (grafana/pyroscope
#     pkg/og/convert/parser.go ParseGroups: a bufio.Scanner, so lines of at
#     most 65535 bytes; the text after the last ' ' through strconv.Atoi,
#     an int64, else the whole request fails).
# The same checks on "pdcollapse --header" output must fail: they can.
# pdflame names the unit of the counts from the metadata line; pdtop names
# them in its text header, and its tsv is read by Python's csv module and
# pandas with the documented column names.
. "$PD_SRC/tests/cli/lib.sh"

cd "$TMP" || exit 2
GS=$PD_BIN/tests/helpers/gen-synth
[ -x "$GS" ] || skip_all "no $GS (run make tests)"
FP=$PD_SRC/tests/data/fp.data

# ---------------------------------------------------------------- inputs
# A synthetic recording (no kernel needed): 3000 samples of three events,
# frames without symbols, so the names carry spaces and <addresses>.
run_tool gen.out gen.err "$GS" -n 3000 --seed 17 -o synth.data
[ "$rc" -eq 0 ] && [ -s synth.data ] || skip_all "gen-synth failed: $(head -c 200 gen.err)"
: >empty.ksyms
mkdir nosymfs
SO="--kallsyms empty.ksyms --symfs nosymfs"
# shellcheck disable=SC2086
{
	pdcollapse -q $SO synth.data >synth.samples
	pdcollapse -q $SO --weight=period synth.data >synth.period
	pdcollapse -q $SO --addrs --event=all --pid --kernel synth.data >synth.addrs
	pdcollapse -q $SO --weight=period --header synth.data >synth.header
}
STREAMS="synth.samples synth.period synth.addrs"
if can_record && b=$(burn) && perf record -q -e cpu-clock -g -o rec.data -- "$b" 3000000 >/dev/null 2>&1 &&
    [ -s rec.data ]; then
	pdcollapse -q rec.data >rec.samples
	pdcollapse -q --weight=period rec.data >rec.period
	STREAMS="$STREAMS rec.samples rec.period"
else
	diag "perf record is not permitted here: the synthetic recording only"
fi
for f in $STREAMS; do
	n=$(awk '{ s += $NF } END { print s + 0 }' "$f")
	diag "$f: $(wc -l <"$f") stacks, total $n"
done

# ---------------------------------------------------------------- the rules
# Each rule prints the first line that breaks it (and exits 1), or nothing.
rule_plain() {
	# No metadata, comment or blank line; a final newline; no CR.
	awk '/^#/ || /^[ \t]*$/ || /\r/ { print "line " NR ": " $0; exit 1 }' "$1" &&
		[ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ]
}
rule_flamegraph_pl() {
	# flamegraph.pl and difffolded.pl: /^(.*)\s+?(\d+(?:\.\d*)?)$/, and the
	# stack itself does not end in blank-digits (a second count).
	awk '{
		if ($0 !~ /[[:space:]][0-9]+(\.[0-9]*)?$/) { print "line " NR ": no count: " $0; exit 1 }
		s = $0; sub(/[[:space:]]+[0-9]+(\.[0-9]*)?$/, "", s)
		if (s ~ /[[:space:]][0-9]+(\.[0-9]*)?$/) { print "line " NR ": read as differential: " $0; exit 1 }
	}' "$1"
}
rule_inferno_flamegraph() {
	awk '{
		if ($0 ~ /^[[:space:]]/ || $0 ~ /[[:space:]]$/) { print "line " NR ": trimmed differently: " $0; exit 1 }
		i = match($0, / [^ ]*$/); c = substr($0, i + 1); s = substr($0, 1, i - 1)
		if (!i || c !~ /^[0-9]+$/ || length(c) > 20 || (length(c) == 20 && c > "18446744073709551615")) { print "line " NR ": count not a u64: " $0; exit 1 }
		sub(/[[:space:]]+$/, "", s)
		if (s == "") { print "line " NR ": empty stack: " $0; exit 1 }
		if (match(s, / [^ ]*$/) && substr(s, RSTART + 1) ~ /^[0-9]+(\.[0-9]*)?$/) { print "line " NR ": read as differential: " $0; exit 1 }
	}' "$1"
}
rule_inferno_diff_folded() {
	awk '{
		i = match($0, / [^ ]*$/); c = substr($0, i + 1); sub(/[[:space:]]+$/, "", c)
		if (!i || c !~ /^\+?[0-9]+$/ || length(c) > 20) { print "line " NR ": Unable to parse line: " $0; exit 1 }
	}' "$1"
}
rule_inferno_recursive() {
	awk '{
		i = match($0, / [^ ]*$/); c = substr($0, i + 1)
		if (!i || c !~ /^\+?[0-9]+$/ || length(c) > 20) { print "line " NR ": InvalidData: " $0; exit 1 }
	}' "$1"
}
rule_speedscope() {
	awk '
	NR == 1 && (/^# callgrind format/ || /^[A-Za-z0-9_ \t()]*\tSymbol Name/) { print "line 1 guessed as another format: " $0; bad = 1; exit 1 }
	/^events:/ { ev = 1 } /^fn=/ { fn = 1 }
	/^$/ { print "line " NR ": a blank line splits perf script blocks"; bad = 1; exit 1 }
	# A perf script event line: command, pid, a time "N.N:".
	NR == 1 && /^[^ \t].*[ \t]+[0-9]+(\/?[0-9]+)?[ \t]/ && /[ \t][0-9]+\.[0-9]+:[ \t]/ { print "line 1 is a perf script event: " $0; bad = 1; exit 1 }
	{
		if ($0 !~ / [0-9]+$/) { print "line " NR ": dropped by /^(.*) (\\d+)$/: " $0; bad = 1; exit 1 }
		c = $NF; sub(/^0+/, "", c)
		if (length(c) > 16 || (length(c) == 16 && c > "9007199254740991")) { print "line " NR ": count past 2^53: " $0; bad = 1; exit 1 }
	}
	END { if (bad) exit 1; if (ev && fn) { print "events: and fn= lines: read as callgrind"; exit 1 } }' "$1"
}
rule_pyroscope() {
	awk '{
		if (length($0) > 65535) { print "line " NR ": longer than bufio.Scanner takes"; bad = 1; exit 1 }
		i = match($0, / [^ ]*$/); c = substr($0, i + 1)
		if (!i) next	# skipped: no space
		if (c !~ /^[+-]?[0-9]+$/) { print "line " NR ": strconv.Atoi fails, the request fails: " $0; bad = 1; exit 1 }
		sub(/^[+-]/, "", c); sub(/^0+/, "", c)
		if (length(c) > 19 || (length(c) == 19 && c > "9223372036854775807")) { print "line " NR ": past int64: " $0; bad = 1; exit 1 }
		n++
	}
	END { if (bad) exit 1; if (!n) { print "no stack"; exit 1 } }' "$1"
}
RULES="plain flamegraph_pl inferno_flamegraph inferno_diff_folded inferno_recursive speedscope pyroscope"

for f in $STREAMS; do
	for r in $RULES; do
		if out=$("rule_$r" "$f"); then
			ok "$f: every line meets $r's rules"
		else
			not_ok "$f: $r" "$out"
		fi
	done
done
# The checks can fail: the metadata line breaks them (pdcollapse --header).
for r in plain flamegraph_pl inferno_flamegraph inferno_diff_folded inferno_recursive pyroscope; do
	if out=$("rule_$r" synth.header); then
		not_ok "--header output: $r's rules must reject the metadata line"
	else
		ok "--header output: $r's rules reject the metadata line ($out)"
	fi
done
# speedscope drops it silently, but counts it in no stack.
sed 1d synth.header >synth.header.body
if cmp -s synth.header.body synth.period; then
	ok "--header adds the metadata line only"
else
	not_ok "--header changes the stream" "$(diff synth.header.body synth.period | head -n 3 | tr '\n' '|')"
fi
if [ "$(head -n 1 synth.header)" = "# pd-folded v1 weight=period event=cycles tool=pdcollapse" ]; then
	ok "--header: the metadata line names the weight and the event"
else
	not_ok "--header line" "$(head -n 1 synth.header)"
fi

# ---------------------------------------------------------------- FlameGraph
FG=
for d in "${FLAMEGRAPH_DIR:-/opt/FlameGraph}" $(command -v flamegraph.pl 2>/dev/null | sed 's|/[^/]*$||'); do
	if [ -n "$d" ] && [ -f "$d/flamegraph.pl" ] && [ -f "$d/difffolded.pl" ]; then FG=$d; break; fi
done

# stacks FILE: the stacks of a folded file, sorted, unique.
stacks() { sed 's/ [0-9]*$//' "$1" | LC_ALL=C sort -u; }
# frames FILE: the frame names of a folded file as flamegraph.pl titles them
# (annotation dropped), sorted, unique, with "all".
frames() {
	{ echo all; sed 's/ [0-9]*$//' "$1" | tr ';' '\n' | sed 's/_\[[kwij]\]$//'; } | LC_ALL=C sort -u
}
# svg_frames SVG: the names of flamegraph.pl's frames, sorted, unique.
svg_frames() {
	sed -n 's/^<title>\(.*\) ([0-9,]* [a-z]*, [0-9.]*%)<\/title>.*/\1/p' "$1" |
		sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&amp;/\&/g' | LC_ALL=C sort -u
}

if [ -z "$FG" ]; then
	skip "flamegraph.pl and difffolded.pl not found (FLAMEGRAPH_DIR, /opt/FlameGraph, PATH)"
else
	diag "FlameGraph from $FG"
	for f in $STREAMS; do
		perl "$FG/flamegraph.pl" --minwidth 0 "$f" >"$f.svg" 2>"$f.fgerr"
		total=$(awk '{ s += $NF } END { print s }' "$f")
		got=$(sed -n 's/^<title>all (\([0-9,]*\) samples, 100%)<\/title>.*/\1/p' "$f.svg" | tr -d ,)
		if [ ! -s "$f.fgerr" ] && [ "$got" = "$total" ]; then
			ok "$f | flamegraph.pl: no warning, total $total"
		else
			not_ok "$f | flamegraph.pl" "stderr: $(head -c 300 "$f.fgerr")" "total $got, want $total"
		fi
		frames "$f" >"$f.frames"
		svg_frames "$f.svg" >"$f.svgframes"
		if cmp -s "$f.frames" "$f.svgframes"; then
			ok "$f | flamegraph.pl: its frames are ours ($(wc -l <"$f.frames")), none made up"
		else
			not_ok "$f | flamegraph.pl: frames differ" "$(diff "$f.frames" "$f.svgframes" | head -n 4 | tr '\n' '|')"
		fi

		perl "$FG/difffolded.pl" "$f" "$f" >"$f.diff" 2>"$f.dferr"
		stacks "$f" >"$f.stacks"
		sed 's/ [0-9]* [0-9]*$//' "$f.diff" | LC_ALL=C sort -u >"$f.diffstacks"
		if [ ! -s "$f.dferr" ] && cmp -s "$f.stacks" "$f.diffstacks" &&
		    awk '{ if ($(NF - 1) != $NF) exit 1 }' "$f.diff"; then
			ok "difffolded.pl $f $f: no warning, the same stacks ($(wc -l <"$f.stacks")), no made-up one"
		else
			not_ok "difffolded.pl $f" "stderr: $(head -c 300 "$f.dferr")" \
			    "$(diff "$f.stacks" "$f.diffstacks" | head -n 4 | tr '\n' '|')"
		fi
		perl "$FG/flamegraph.pl" --minwidth 0 "$f.diff" >"$f.diff.svg" 2>"$f.dfgerr"
		[ ! -s "$f.dfgerr" ] && ok "difffolded.pl $f $f | flamegraph.pl: no warning" ||
			not_ok "difffolded | flamegraph.pl" "$(head -c 300 "$f.dfgerr")"
	done
	# What the issue saw, as a control: the metadata line makes them complain.
	perl "$FG/difffolded.pl" synth.header synth.header >hd.out 2>hd.err
	if [ -s hd.err ] && grep -q '^ 0 0$' hd.out; then
		ok "control: difffolded.pl warns on a --header stream and makes up the ' 0 0' stack"
	else
		not_ok "control: difffolded.pl on --header output" "$(head -c 200 hd.err)"
	fi
	# pddiff's differential stream, without its metadata line by default.
	# (Both sides large: flamegraph.pl warns of a low stack count under 100.)
	run_tool pd.diff pd.err pddiff --no-gate synth.samples synth.data
	perl "$FG/flamegraph.pl" --minwidth 0 pd.diff >pd.svg 2>pd.fgerr
	if [ "$rc" -eq 0 ] && ! grep -q '^#' pd.diff && [ ! -s pd.fgerr ]; then
		ok "pddiff | flamegraph.pl: no metadata line, no warning"
	else
		not_ok "pddiff | flamegraph.pl" "rc $rc $(head -n 1 pd.diff)" "$(head -c 200 pd.fgerr)"
	fi
fi
# pddiff's stream meets the differential rules of the others too.
run_tool pd.diff pd.err pddiff --no-gate synth.samples "$FP"
if [ "$rc" -eq 0 ] && out=$(rule_plain pd.diff) && out=$(rule_inferno_diff_folded pd.diff) &&
    out=$(awk '$0 !~ /[^ ] [0-9]+ [0-9]+$/ { print "line " NR ": " $0; exit 1 }' pd.diff); then
	ok "pddiff: every line is 'stack BASE NEW', no metadata line"
else
	not_ok "pddiff stream" "rc $rc $out"
fi

# ---------------------------------------------------------------- pdflame's unit
# cn is the unit the tooltips and the details line show ("NAME (N UNIT, P%").
unit() { sed -n 's/.*<g id="frames" cn="\([^"]*\)".*/\1/p' "$1"; }
pdcollapse -q "$FP" | pdflame >u1.svg 2>/dev/null
pdcollapse -q --weight=period --header "$FP" | pdflame >u2.svg 2>/dev/null
# shellcheck disable=SC2086
pdcollapse -q $SO --weight=period --header --event=cycles synth.data | pdflame >u3.svg 2>/dev/null
pdcollapse -q --weight=period --header "$FP" | pdflame --countname bytes >u4.svg 2>/dev/null
pdcollapse -q --weight=period "$FP" | pdflame >u5.svg 2>/dev/null
got="$(unit u1.svg) $(unit u2.svg) $(unit u3.svg) $(unit u4.svg) $(unit u5.svg)"
if [ "$got" = "samples ns cycles bytes samples" ]; then
	ok "pdflame's unit: samples; ns for cpu-clock periods; cycles for cycles periods; --countname wins; no metadata line: samples"
else
	not_ok "pdflame's unit" "got '$got'"
fi
run_tool pdd.svg pdd.err sh -c 'pddiff --header --weight=period --no-gate "$1" "$1" | pdflame' sh "$FP"
run_tool pds.svg pds.err sh -c 'pddiff --header --no-gate "$1" "$1" | pdflame' sh "$FP"
run_tool pdn.svg pdn.err sh -c 'pddiff --no-gate "$1" "$1" | pdflame' sh "$FP"
got="$(unit pdd.svg) $(unit pds.svg) $(unit pdn.svg)"
[ "$got" = "ns samples samples" ] &&
	ok "pddiff | pdflame: ns for --weight=period cpu-clock periods (--header), else samples, which the stream then counts" ||
	not_ok "pddiff | pdflame unit" "got '$got'"

# ---------------------------------------------------------------- pdtop's count
# perf report's own header lines for the same file are the oracle.
pdcollapse -q --weight=period --header "$FP" | pdtop >tp.txt 2>/dev/null
pdcollapse -q "$FP" | pdtop >ts.txt 2>/dev/null
if command -v perf >/dev/null 2>&1 && perf report --stdio -g none -i "$FP" >pr.txt 2>/dev/null; then
	want_p=$(sed -n 's/^# Event count (approx.): \([0-9]*\)$/\1/p' pr.txt | head -n 1)
	want_s=$(sed -n "s/^# Samples: \([0-9]*[KMG]*\) .*of event.*/\1/p" pr.txt | head -n 1)
else
	want_p=33500000
	want_s=67
	diag "perf report is not available: the counts of $FP as recorded"
fi
if ! grep -q 'Samples' tp.txt && grep -q "^# Event count (approx.): $want_p of event 'cpu-clock:pppH'$" tp.txt; then
	ok "pdcollapse --weight=period --header | pdtop: the event count ($want_p, as perf report), no samples line"
else
	not_ok "pdtop on periods" "$(grep '^# [SE]' tp.txt | tr '\n' '|')"
fi
if grep -q "^# Samples: $want_s  *of event 'folded'$" ts.txt && ! grep -q 'Event count' ts.txt; then
	ok "pdcollapse | pdtop: the samples ($want_s, as perf report), no event count"
else
	not_ok "pdtop on samples" "$(grep '^# [SE]' ts.txt | tr '\n' '|')"
fi

# ---------------------------------------------------------------- pdtop's tsv
PY=/usr/bin/python3
run_tool t.tsv t.err pdtop --format=tsv --children -s comm,dso,symbol "$FP"
run_tool t.json t.err pdtop --format=json --children -s comm,dso,symbol "$FP"
cols="overhead samples period comm dso symbol self self_samples self_period event"
if [ "$(head -n 1 t.tsv | tr '\t' ' ')" = "$cols" ] && ! grep -q '^#' t.tsv; then
	ok "tsv: the header row first, the documented columns, no # line"
else
	not_ok "tsv header row" "$(head -n 2 t.tsv | tr '\t\n' '^|')"
fi
if [ -x "$PY" ] && out=$("$PY" - t.tsv t.json "$cols" <<'EOF' 2>&1
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline=""), delimiter="\t"))
want = json.load(open(sys.argv[2]))["events"][0]
assert list(rows[0].keys()) == sys.argv[3].split(), rows[0].keys()
assert len(rows) == len(want["rows"]), (len(rows), len(want["rows"]))
for r, w in zip(rows, want["rows"]):
    assert r["symbol"] == w["symbol"] and int(r["samples"]) == w["samples"] and int(r["self_period"]) == w["self_period"], (r, w)
    assert r["event"] == want["event"], r
print(len(rows))
EOF
); then
	ok "tsv: csv.DictReader reads the columns by name; every row equals the json's ($out rows)"
else
	not_ok "tsv with csv.DictReader" "$out"
fi
if [ -x "$PY" ] && "$PY" -c 'import pandas' 2>/dev/null; then
	if out=$("$PY" - t.tsv t.json "$cols" <<'EOF' 2>&1
import json, sys, pandas
d = pandas.read_csv(sys.argv[1], sep="\t")
want = json.load(open(sys.argv[2]))["events"][0]
assert list(d.columns) == sys.argv[3].split(), list(d.columns)
assert len(d) == len(want["rows"])
assert int(d["samples"].sum()) == sum(r["samples"] for r in want["rows"])
assert int(d["self_samples"].sum()) == want["samples"], (int(d["self_samples"].sum()), want["samples"])
assert int(d["self_period"].sum()) == want["period"]
assert d["symbol"][0] == want["rows"][0]["symbol"] and (d["event"] == want["event"]).all()
print(int(d["self_samples"].sum()))
EOF
); then
		ok "tsv: pandas.read_csv(sep=TAB) has the columns; self samples add up to the event's $out"
	else
		not_ok "tsv with pandas" "$out"
	fi
	# Folded periods: the sample counts are unknown, empty cells (NaN).
	pdcollapse -q --weight=period --header "$FP" >fp.period
	run_tool tp.tsv tp.err pdtop --format=tsv --no-children -s symbol fp.period
	if out=$("$PY" - tp.tsv <<'EOF' 2>&1
import sys, pandas
d = pandas.read_csv(sys.argv[1], sep="\t")
assert list(d.columns) == ["overhead", "samples", "period", "symbol", "event"], list(d.columns)
assert d["samples"].isna().all() and int(d["period"].sum()) == 33500000, d
assert (d["event"] == "cpu-clock:pppH").all()
EOF
	); then
		ok "tsv of folded periods: pandas reads empty sample counts as NaN, the periods add up"
	else
		not_ok "tsv folded periods" "$out"
	fi
else
	skip "$PY with pandas is not installed (make deps)"
fi

done_testing
