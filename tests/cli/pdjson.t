#!/bin/sh
# pdjson: every output parses with a strict JSON parser, whatever bytes the
# names hold; the samples stream has perf's sample count (file and pipe,
# recorded here and now), its leaf symbols and tracepoint fields are perf
# script's; the summary's event counts are perf report's "Event count" and
# the derived metrics their ratios; speedscope files keep speedscope's
# schema rules; output does not depend on the locale.
. "$PD_SRC/tests/cli/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 is needed for the strict JSON checks"
cd "$TMP" || exit 2

# The checker: strict JSON (UTF-8 only, no NaN/Infinity, no duplicate keys),
# and the rules of each format.  Prints "ok" or the reason.
cat >check.py <<'EOF'
import json, sys

def const(x):
    raise ValueError("non-JSON constant " + x)

def pairs(p):
    keys = [k for k, _ in p]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(p)

def load(text):
    return json.loads(text, parse_constant=const, object_pairs_hook=pairs)

def docs(path, ndjson):
    raw = open(path, "rb").read().decode("utf-8")   # strict: invalid UTF-8 raises
    if ndjson:
        if raw and not raw.endswith("\n"):
            raise ValueError("last line not ended")
        return [load(l) for l in raw.split("\n")[:-1]]
    return [load(raw)]

def speedscope(d):
    assert d["$schema"] == "https://www.speedscope.app/file-format-schema.json", "$schema"
    frames = d["shared"]["frames"]
    assert isinstance(frames, list)
    for f in frames:
        assert isinstance(f["name"], str), "frame name"
        assert set(f) <= {"name", "file", "line", "col"}, "frame keys"
        if "file" in f:
            assert isinstance(f["file"], str)
    assert isinstance(d["profiles"], list)
    for p in d["profiles"]:
        assert p["type"] == "sampled", "type"
        assert isinstance(p["name"], str)
        assert p["unit"] in ("none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"), "unit"
        assert len(p["samples"]) == len(p["weights"]), "samples and weights differ in length"
        for s in p["samples"]:
            for i in s:
                assert isinstance(i, int) and 0 <= i < len(frames), "frame index out of range: %r" % i
        for w in p["weights"]:
            assert isinstance(w, (int, float)) and w >= 0, "weight"
        assert p["startValue"] <= p["endValue"], "start after end"
        assert p["endValue"] - p["startValue"] == sum(p["weights"]), "endValue is not the sum of weights"

def tree(n, top=True):
    assert set(n) <= {"name", "value", "children", "dso"}, "tree keys"
    assert isinstance(n["name"], str) and isinstance(n["value"], int)
    kids = n["children"]
    assert sum(k["value"] for k in kids) <= n["value"], "children exceed their parent"
    names = [(k["name"], k.get("dso", "")) for k in kids]
    assert names == sorted(names, key=lambda t: (t[0].encode("utf-8"), t[1].encode("utf-8"))), "children not sorted"
    for k in kids:
        tree(k, False)

mode, path = sys.argv[1], sys.argv[2]
try:
    ds = docs(path, mode == "samples")
    if mode == "speedscope":
        speedscope(ds[0])
    elif mode == "tree":
        tree(ds[0])
    elif mode == "summary":
        d = ds[0]
        assert d["schema"] == "pdjson-summary" and d["schema_version"] == 1
        for k in ("input", "metadata", "events", "derived_metrics", "top", "health"):
            assert k in d, "no " + k
    elif mode == "samples":
        for d in ds:
            for k in ("time", "pid", "tid", "comm", "cpu", "event", "period", "frames"):
                assert k in d, "no " + k
            for f in d["frames"]:
                assert f["address"].startswith("0x")
    print("ok")
except Exception as e:
    print("%s: %s" % (type(e).__name__, e))
EOF

# valid MODE FILE NAME: FILE passes the checker for MODE.
valid() {
	_r=$(python3 check.py "$1" "$2" 2>&1)
	if [ "$_r" = ok ]; then ok "$3"; else not_ok "$3" "$_r"; fi
}

# py EXPR FILE: evaluate a Python expression over the JSON document d of
# FILE; a string prints as it is, anything else as its repr.
py() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); v=($1); print(v if isinstance(v, str) else repr(v))" "$2"
}

option_drift pdjson 12

# ---------------------------------------------------------------- usage
expect_exit 2 "bad --format is bad usage" pdjson --format=xml "$PD_SRC/tests/data/fp.data"
expect_exit 2 "--inline with summary is bad usage" pdjson -f summary --inline "$PD_SRC/tests/data/fp.data"
printf 'a;b 1\n' >one.folded
expect_exit 2 "samples of folded stacks is bad usage" pdjson one.folded
expect_exit 2 "two inputs are bad usage" pdjson one.folded one.folded

# ---------------------------------------------------------------- hostile names
# Control characters, quotes, backslashes, DEL, invalid UTF-8 (bytes,
# overlong, surrogate, truncated), a CR line end, a valid euro sign.
{
	printf '# pd-folded v1 weight=samples event=cycles tool=pdcollapse\n'
	printf 'co"mm;ma\\in;l\001eaf\177 3\n'
	printf 'co"mm;ma\\in;\377\376bad\300\257 2\r\n'
	printf 'tab\tcomm;\342\202\254;\355\240\200x;\033[31mred 5\n\n'
	printf 'solo 1\n'
	printf 'tr;unc\342\202 4\n'
} >hostile.folded
for f in summary speedscope tree; do
	run_tool "h.$f" "h.$f.err" pdjson -f "$f" hostile.folded
	if [ "$rc" -eq 0 ]; then
		valid "$f" "h.$f" "hostile folded names: $f parses strictly and keeps the $f rules"
	else
		not_ok "hostile folded names: $f exits $rc" "$(head -c 300 "h.$f.err")"
	fi
done
got=$(py 'd["value"], len(d["children"])' h.tree)
check "tree: the root holds every count (15), one child per command (4)" test "$got" = "(15, 4)"
got=$(py 'd["events"][0]["name"], d["events"][0]["samples"], d["events"][0]["period"], d["input"]["weight"]' h.summary)
check "summary of folded: event and weight from the pd-folded header" \
    test "$got" = "('cycles', 15, None, 'samples')"
got=$(py '[p["name"] for p in d["profiles"]]' h.speedscope)
check "speedscope of folded: one profile per command, sorted" \
    test "$got" = "['co\"mm', 'solo', 'tab\\tcomm', 'tr']"
got=$(py 'd["shared"]["frames"][[f["name"] for f in d["shared"]["frames"]].index("\u20ac")]["name"]' h.speedscope)
check "valid UTF-8 is kept as it is" test "$got" = "€"
if grep -q 'ufffd' h.tree && ! LC_ALL=C grep -q "$(printf '\377')" h.tree; then
	ok "invalid UTF-8 becomes U+FFFD, no raw byte survives"
else
	not_ok "invalid UTF-8 escaping"
fi

printf 'a;b 1\nthis line has no count\n' >bad.folded
expect_exit 2 "a folded line without a count: exit 2" pdjson -f tree bad.folded
if grep -q "bad.folded': line 2" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then
	ok "one line naming the file and the line"
else
	not_ok "folded error message" "$(cat "$TMP/err")"
fi

# Without a metadata line folded counts are samples; with weight=period, periods.
pdcollapse -q "$PD_SRC/tests/data/fp.data" >plain.folded
pdcollapse -q --weight=period --header "$PD_SRC/tests/data/fp.data" >period.folded
run_tool p.summary p.err pdjson -f summary plain.folded
got=$(py 'd["events"][0]["name"], d["events"][0]["samples"], d["events"][0]["period"], d["input"]["weight"]' p.summary)
check "summary of pdcollapse's default output: 67 samples, no period" \
    test "$got" = "('folded', 67, None, 'samples')"
run_tool q.summary q.err pdjson -f summary period.folded
got=$(py 'd["events"][0]["name"], d["events"][0]["samples"], d["events"][0]["period"], d["input"]["weight"], d["top"]["self"]["events"][0]["samples"], d["top"]["self"]["events"][0]["period"]' q.summary)
check "summary of --weight=period --header output: the event, its period, no samples (top too)" \
    test "$got" = "('cpu-clock:pppH', None, 33500000, 'period', None, 33500000)"
run_tool q.ss q.err pdjson -f speedscope period.folded
run_tool p.ss p.err pdjson -f speedscope plain.folded
got=$(py 'd["profiles"][0]["unit"], d["profiles"][0]["endValue"]' q.ss)$(py 'd["profiles"][0]["unit"], d["profiles"][0]["endValue"]' p.ss)
check "speedscope of folded: nanoseconds for cpu-clock periods, none for samples" \
    test "$got" = "('nanoseconds', 33500000)('none', 67)"

# Derived metrics are computed from folded input too (one event, so none apply).
got=$(py 'd["derived_metrics"]' h.summary)
check "no derived metric without both events" test "$got" = "{}"

# ---------------------------------------------------------------- stored fixtures
# Their sample counts as perf script -G -F event counts them.
for f in fp.data:67 pipe-fp.data:66 z-fp.data:66; do
	want=${f#*:}
	f=${f%:*}
	run_tool "s.$f" "s.$f.err" pdjson -q "$PD_SRC/tests/data/$f"
	n=$(wc -l <"s.$f")
	if [ "$rc" -eq 0 ] && [ "$n" -eq "$want" ]; then
		valid samples "s.$f" "$f: $want sample lines, as perf counts, each strict JSON"
	else
		not_ok "$f: samples" "exit $rc, $n lines, want $want"
	fi
done
expect_exit 2 "a damaged file: exit 2" pdjson -f summary "$PD_SRC/tests/data/bad/record-size-past-data-end.data"
# The summary of what came before the damage is still written, and names it.
cp "$TMP/out" dmg.json
dmg=$(py "d['health']['damage']" dmg.json 2>&1)
if grep -q "record-size-past-data-end.data': .* at offset 0x" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    [ "pdjson: $dmg" = "$(cat "$TMP/err")" ] && [ "$(py "d['health']['samples']" dmg.json)" = 67 ]; then
	ok "one line with the file and the byte offset; the summary of the 67 samples before it, with it as health.damage"
else
	not_ok "damaged file: message and summary" "$(cat "$TMP/err")" "damage: $dmg"
fi
run_tool ok.json ok.err pdjson -f summary "$PD_SRC/tests/data/fp.data"
check "an undamaged file: health.damage is null" test "$(py "d['health']['damage']" ok.json)" = None
expect_exit 2 "an empty input: exit 2" pdjson -f tree "$PD_SRC/tests/data/bad/empty.data"

# Locale-independent and deterministic.
run_tool a.json a.err env LC_ALL=C pdjson -f summary "$PD_SRC/tests/data/fp.data"
loc=$(locale -a 2>/dev/null | grep -i -m 1 -E '^(de_DE|fr_FR|ru_RU).*utf-?8$')
run_tool b.json b.err env LC_ALL="${loc:-C.UTF-8}" LANG="${loc:-C.UTF-8}" pdjson -f summary "$PD_SRC/tests/data/fp.data"
if cmp -s a.json b.json && [ -s a.json ]; then
	ok "summary is byte-identical under LC_ALL=C and LC_ALL=${loc:-C.UTF-8}"
else
	not_ok "summary depends on the locale"
fi
for f in summary speedscope tree; do
	run_tool "x1.$f" x.err pdjson -f "$f" "$PD_SRC/tests/data/pipe-fp.data"
	run_tool "x2.$f" x.err pdjson -f "$f" "$PD_SRC/tests/data/pipe-fp.data"
	if cmp -s "x1.$f" "x2.$f"; then ok "$f: same input, same bytes"; else not_ok "$f: not deterministic"; fi
done

# ---------------------------------------------------------------- against perf
if ! can_record; then
	skip "perf record is not permitted here (perf_event_paranoid or no perf)"
	done_testing
	exit $?
fi
B=$(burn) || { skip "cannot build the workload"; done_testing; exit $?; }

# perf's own sample count: one line per sample with -G -F event.
perf_count() {
	perf script -i "$1" -G -F event 2>/dev/null | wc -l
}

# samples lines == perf's count, for a file and a pipe recording.
perf record -q -g -o fp.data "$B" 300000 >/dev/null 2>&1
perf record -q -g -o - "$B" 300000 >pipe.data 2>/dev/null
for f in fp.data pipe.data; do
	want=$(perf_count "$f")
	run_tool "$f.nd" "$f.err" pdjson "$f"
	got=$(wc -l <"$f.nd")
	if [ "$rc" -eq 0 ] && [ "$want" -gt 0 ] && [ "$got" -eq "$want" ]; then
		ok "$f: $got sample lines, perf script counts $want"
	else
		not_ok "$f: sample lines" "exit $rc, $got lines, perf $want" "$(head -c 200 "$f.err")"
	fi
	valid samples "$f.nd" "$f: every line is strict JSON with the documented keys"
done
run_tool stdin.nd stdin.err sh -c 'cat pipe.data | pdjson'
if cmp -s stdin.nd pipe.data.nd; then ok "a pipe recording on standard input gives the same lines"; else not_ok "stdin"; fi

# Leaf first, as perf script: the leaf symbols agree with perf's, in order.
perf script -i fp.data -G -F ip,sym 2>/dev/null | sed 's/^ *[0-9a-f]* //' >perf.leaf
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    f = json.loads(l)["frames"][0]
    print(f["symbol"] or "[unknown]")' fp.data.nd >ours.leaf
total=$(wc -l <perf.leaf)
same=$(paste -d '\n' perf.leaf ours.leaf | paste - - | awk -F '\t' '$1 == $2' | wc -l)
if [ "$total" -gt 0 ] && [ $((same * 100)) -ge $((total * 99)) ]; then
	ok "leaf symbols equal perf script's on $same of $total samples, in perf's order"
else
	not_ok "leaf symbols agree on $same of $total" "$(paste perf.leaf ours.leaf | awk -F '\t' '$1 != $2' | head -n 5)"
fi

# --lines: user frames carry file:line from DWARF (burn is built with -g).
run_tool lines.nd lines.err pdjson --lines fp.data
r=$(python3 -c '
import json, sys
n = 0
for l in open(sys.argv[1]):
    for f in json.loads(l)["frames"]:
        if f["symbol"] == "leaf":
            s = f["src"]
            assert len(s) == 1 and s[0]["function"] == "leaf" and s[0]["file"].endswith("burn.c") and isinstance(s[0]["line"], int), s
            n += 1
print(n)' lines.nd 2>&1)
case $r in
''|0|*[!0-9]*) not_ok "--lines gives leaf frames their source" "$r" ;;
*) ok "--lines: $r leaf frames name burn.c and a line number" ;;
esac

# summary: per-event samples and periods == perf report, exactly.
# report_counts FILE: "event samples count" lines from perf report's headers.
report_counts() {
	perf report -i "$1" --stdio 2>/dev/null | awk '
		/^# Samples:/ { n = $3; ev = $0; sub(/.*of event .?/, "", ev); sub(/.$/, "", ev) }
		/^# Event count \(approx.\):/ { print ev, n, $NF }' | LC_ALL=C sort
}
ours_counts() {
	py '"\n".join("%s %d %d" % (e["name"], e["samples"], e["period"]) for e in d["events"])' "$1" | LC_ALL=C sort
}
perf record -q -e cpu-clock,task-clock -g -o ct.data "$B" 300000 >/dev/null 2>&1
perf record -q -e cpu-clock,task-clock -o - "$B" 300000 >ctp.data 2>/dev/null
for f in ct.data ctp.data fp.data; do
	run_tool "$f.sum" "$f.err" pdjson -f summary "$f"
	valid summary "$f.sum" "$f: summary parses strictly"
	report_counts "$f" >want.counts
	ours_counts "$f.sum" >got.counts
	if [ -s want.counts ] && cmp -s want.counts got.counts; then
		ok "$f: per-event samples and Event count equal perf report's ($(tr '\n' ' ' <got.counts))"
	else
		not_ok "$f: event counts" "perf: $(tr '\n' ' ' <want.counts)" "ours: $(tr '\n' ' ' <got.counts)"
	fi
done
got=$(py 'd["metadata"]["cmdline"].split()[1:3], d["metadata"]["nrcpus_online"] > 0, d["health"]["samples"]' ct.data.sum)
check "summary metadata: the recording command, the CPUs, all samples" \
    test "$got" = "(['record', '-q'], True, $(perf_count ct.data))"

# Derived metrics on a recording whose events perf itself reads as
# cycles/instructions (this VM has no hardware counters): the event names
# of a cpu-clock,page-faults recording renamed in EVENT_DESC, where each is
# a NUL-padded 64-byte string.  perf report then prints the counts under
# the new names.
cat >rename.pl <<'EOF'
my ($from, $to) = @ARGV;
local $/; binmode STDIN; binmode STDOUT;
my $d = <STDIN>;
my $len = (length($from) > length($to) ? length($from) : length($to)) + 1;
my $pat = quotemeta($from) . "\0" x ($len - length($from));
my $rep = $to . "\0" x ($len - length($to));
$d =~ s/$pat/$rep/g or die "no '$from'\n";
print $d;
EOF
perf record -q -e cpu-clock:u,page-faults:u -o cp.data "$B" 300000 >/dev/null 2>&1
# metric NAME NUM DEN: rename cpu-clock:u to NUM and page-faults:u to DEN
# (a ratio of some 10^5 with six decimals that matter).
metric() {
	perl rename.pl cpu-clock:u "$2:u" <cp.data | perl rename.pl page-faults:u "$3:u" >"m_$1.data" || {
		not_ok "$1: cannot make the renamed recording"
		return
	}
	run_tool "m_$1.sum" "m_$1.err" pdjson -f summary "m_$1.data"
	report_counts "m_$1.data" >want.counts
	ours_counts "m_$1.sum" >got.counts
	if grep -q "^$3:u " want.counts && cmp -s want.counts got.counts; then
		ok "$1: perf report reads $2:u and $3:u; our counts equal its ($(tr '\n' ' ' <got.counts))"
	else
		not_ok "$1: counts" "perf: $(tr '\n' ' ' <want.counts)" "ours: $(tr '\n' ' ' <got.counts)"
	fi
	num=$(awk -v e="$2:u" '$1 == e { print $3 }' want.counts)
	den=$(awk -v e="$3:u" '$1 == e { print $3 }' want.counts)
	got=$(py "d['derived_metrics']['$1']['value'], d['derived_metrics']['$1']['numerator_count'], d['derived_metrics']['$1']['denominator_count']" "m_$1.sum" 2>&1)
	want=$(python3 -c "from fractions import Fraction as F; import sys
n, d = int(sys.argv[1]), int(sys.argv[2])
q = (F(n, d) * 10**6 + F(1, 2)).__floor__()
print((float('%d.%06d' % (q // 10**6, q % 10**6)), n, d))" "$num" "$den" 2>&1)
	if [ -n "$num" ] && [ "$num" != "$den" ] && [ "$got" = "$want" ]; then
		ok "$1 = $2/$3 = $num/$den, rounded to 6 places: $got"
	else
		not_ok "$1" "got $got, want $want"
	fi
}
metric ipc instructions cycles
metric cache_miss_rate cache-misses cache-references
metric branch_miss_rate branch-misses branches
got=$(py 'sorted(d["derived_metrics"])' ct.data.sum)
check "no derived metric for cpu-clock,task-clock" test "$got" = "[]"
if perf record -q -e cycles,instructions -o hw.data "$B" 300000 >hw.log 2>&1 &&
    perf evlist -i hw.data 2>/dev/null | grep -q '^instructions'; then
	run_tool hw.sum hw.err pdjson -f summary hw.data
	report_counts hw.data >want.counts
	ours_counts hw.sum >got.counts
	if cmp -s want.counts got.counts; then ok "cycles,instructions: counts equal perf report's"; else not_ok "hw counts"; fi
else
	skip "no hardware counters here (perf record -e cycles,instructions fails); ipc is checked on renamed software events above"
fi

# Tracepoints: decoded fields equal perf script's values.
if perf record -q -e sched:sched_switch -o tp.data -- sh -c 'sleep 0.05; sleep 0.05' >/dev/null 2>&1; then
	perf record -q -e sched:sched_switch -o - -- sh -c 'sleep 0.05; sleep 0.05' >tpp.data 2>/dev/null
	for f in tp.data tpp.data; do
		run_tool "$f.nd" "$f.err" pdjson "$f"
		want=$(perf_count "$f")
		got=$(wc -l <"$f.nd")
		if [ "$rc" -eq 0 ] && [ "$want" -gt 0 ] && [ "$got" -eq "$want" ]; then
			ok "$f: $got sample lines, as perf"
		else
			not_ok "$f: sample lines" "exit $rc, $got, perf $want" "$(head -c 200 "$f.err")"
		fi
		perf script -i "$f" -F trace 2>/dev/null | sed 's/^ *//; s/ *$//' >perf.trace
		r=$(python3 -c '
import json, sys
perf = [l.rstrip("\n") for l in open(sys.argv[2])]
ours = [json.loads(l) for l in open(sys.argv[1])]
if len(perf) != len(ours):
    sys.exit("%d lines, perf %d" % (len(ours), len(perf)))
checked = 0
for o, p in zip(ours, perf):
    if o["trace"] != p:
        sys.exit("trace text %r != perf %r" % (o["trace"], p))
    f = o["fields"]
    for tok in p.split():
        if "=" not in tok:
            continue
        k, v = tok.split("=", 1)
        if not k.isidentifier():
            continue        # "==>"
        if k not in f:
            sys.exit("no field " + k)
        if k == "prev_state":
            # perf prints the state as letters (print fmt); ours is the number.
            if not isinstance(f[k], int):
                sys.exit("prev_state not a number")
            continue
        want = int(v) if v.lstrip("-").isdigit() else v
        if f[k] != want or type(f[k]) != type(want):
            sys.exit("%s: %r != perf %r" % (k, f[k], want))
        checked += 1
print("ok %d" % checked)' "$f.nd" perf.trace 2>&1)
		case $r in
		"ok "*) ok "$f: every field perf script prints has its value (${r#ok } values), and the trace text is perf's" ;;
		*) not_ok "$f: tracepoint fields" "$r" ;;
		esac
	done
else
	skip "cannot record sched:sched_switch here"
	skip "cannot record sched:sched_switch here"
fi

# speedscope and tree of real recordings.
for f in fp.data pipe.data ct.data; do
	run_tool "$f.ss" "$f.ss.err" pdjson -f speedscope "$f"
	valid speedscope "$f.ss" "$f: speedscope keeps the schema's rules (lengths, index ranges, endValue)"
	run_tool "$f.tree" "$f.tree.err" pdjson -f tree "$f"
	valid tree "$f.tree" "$f: tree values nest and children are sorted"
done
want=$(report_counts fp.data | awk '{ print $3; exit }')
got=$(py 'sum(p["endValue"] for p in d["profiles"])' fp.data.ss)
got2=$(py 'd["value"]' fp.data.tree)
check "speedscope and tree weigh the event count of perf report ($want)" test "$got" = "$want" -a "$got2" = "$want"
got=$(py 'd["profiles"][0]["unit"], sorted(set(p["name"].split(" (")[0] for p in d["profiles"]))' fp.data.ss)
check "a cpu-clock profile is in nanoseconds, one profile per thread of burn" test "$got" = "('nanoseconds', ['burn'])"
run_tool ct.ss2 ct.err pdjson -f speedscope --weight=samples --event=task-clock ct.data
got=$(py 'sum(p["endValue"] for p in d["profiles"]), d["profiles"][0]["unit"]' ct.ss2)
want=$(report_counts ct.data | awk '$1 == "task-clock" { print $2 }')
check "--event and --weight=samples: $want samples of task-clock, unit none" test "$got" = "($want, 'none')"
expect_exit 2 "--event naming no event: exit 2" pdjson -f tree --event=nosuch ct.data

done_testing
