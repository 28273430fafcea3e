#!/bin/sh
# make demo (tests/demo/demo.sh) end to end: it records the toy service
# before and after its regression with pdrecord, and every program's output
# is checked against the others and against perf.
. "$PD_SRC/tests/cli/lib.sh"

can_record || skip_all "perf record is not permitted here (perf_event_paranoid or no perf)"
D=$TMP/demo
rc=0
PD_DEMO_SECONDS=2 sh "$PD_SRC/tests/demo/demo.sh" "$PD_BIN" "$D" >"$TMP/out" 2>"$TMP/err" || rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$TMP/err" ]; then
	ok "demo: exit 0, nothing on stderr"
else
	not_ok "demo: exit $rc" "$(tail -n 3 "$TMP/err" | tr '\n' '|')"
fi
n=$(grep -c '^[1-6]\. ' "$TMP/out")
check "demo: explains its six steps" [ "$n" -eq 6 ]
for f in shop base.data new.data new.folded flame.svg diff.svg top.txt diff.txt summary.json; do
	[ -s "$D/$f" ] || not_ok "demo: wrote $f"
done
if [ ! -e "$D/rec.err" ] && [ ! -e "$D/diff.err" ]; then
	ok "demo: leaves no scratch files"
else
	not_ok "demo: scratch files left" "$(ls "$D")"
fi

# The folded stacks are the new recording's samples, all of them.
folded=$(awk '!/^#/ { s += $NF } END { print s + 0 }' "$D/new.folded")
json=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(e["samples"] for e in d["events"]))' "$D/summary.json" 2>&1)
if [ "$folded" -gt 0 ] && [ "$folded" = "$json" ]; then
	ok "demo: new.folded holds every sample of summary.json ($json)"
else
	not_ok "demo: folded $folded vs summary.json $json"
fi

# pdtop's five rows are perf report's first five (new.data is pipe form);
# column widths differ (pdtop sizes them for the rows it shows).
if perf report --stdio --no-children -g none -i "$D/new.data" 2>/dev/null | grep '%' | head -n 5 |
    tr -s ' ' >"$TMP/perf.top" &&
    grep '%' "$D/top.txt" | tr -s ' ' >"$TMP/pd.top" && [ "$(wc -l <"$TMP/pd.top")" -eq 5 ]; then
	if cmp -s "$TMP/perf.top" "$TMP/pd.top"; then
		ok "demo: top.txt is perf report --stdio --no-children's top 5"
	else
		not_ok "demo: top.txt differs from perf report" "$(diff "$TMP/perf.top" "$TMP/pd.top" | tr '\n' '|')"
	fi
else
	not_ok "demo: top 5" "$(tr '\n' '|' <"$D/top.txt")"
fi

# The regression is found: the gate fails on lookup_price, and the
# differential graph draws it red.
if grep -q '^   gate: failed (exit 1): pddiff: regression: self lookup_price' "$TMP/out"; then
	ok "demo: the gate fails on lookup_price"
else
	not_ok "demo: gate" "$(grep gate "$TMP/out")"
fi
check "demo: the table flags lookup_price as significant" grep -q 'SIG.*lookup_price' "$D/diff.txt"
if command -v xmllint >/dev/null 2>&1; then
	check "demo: flame.svg and diff.svg are well-formed XML" xmllint --noout "$D/flame.svg" "$D/diff.svg"
else
	skip "xmllint is not installed"
fi
check "demo: diff.svg draws lookup_price's growth in red" \
    grep -q '<title>lookup_price</title><rect [^>]*fill="#ff[0-9a-f][0-9a-f][0-9a-f][0-9a-f]"' "$D/diff.svg"
done_testing
