#!/bin/sh
# Conservation: every sample of a recording is counted once, for its own
# event, with its own period, and nothing else is.  tests/helpers/gen-synth
# writes 10^5 samples of known stacks (three events, several processes and
# threads, comm changes, an exec, a late library, kernel and unmapped
# frames, varying periods and depths, LOST and LOST_SAMPLES records) in
# file and pipe mode, each plain and zstd-compressed, and the exact results
# in expect.tsv (gen-synth.c says what it holds).  pdcollapse's folded
# stacks per event (by samples and by period, and address by address),
# pdtop's tables and totals, and pdjson's summary must equal them exactly,
# and the losses must show in the lost counters only.  perf itself, when
# present, must read the same counts from every variant: it checks the
# generator.
. "$PD_SRC/tests/cli/lib.sh"

GS=${PD_VALGRIND:-$PD_BIN}/tests/helpers/gen-synth
N=100000
SEED=7
EVENTS="cycles instructions page-faults"
cd "$TMP" || exit 2

if [ ! -x "$GS" ]; then
	not_ok "gen-synth is built" "no $GS: run make tests"
	done_testing
	exit
fi

# The expectation, and the recording in four forms, from one seed.
run_tool gen.out gen.err "$GS" -n $N --seed $SEED -o file.data --expect expect.tsv
if [ "$rc" -ne 0 ] || [ ! -s file.data ] || [ ! -s expect.tsv ]; then
	not_ok "gen-synth writes a recording and its expectation" "exit $rc: $(head -c 300 gen.err)"
	done_testing
	exit
fi
ok "gen-synth writes $N samples and their expectation"
run_tool pipe.data gen.err "$GS" -n $N --seed $SEED --pipe -o -
run_tool gen.out gen.err "$GS" -n $N --seed $SEED -z -o z.data
run_tool gen.out gen.err "$GS" -n $N --seed $SEED --pipe -z -o pipe-z.data
run_tool gen.out gen.err "$GS" -n $N --seed $SEED -o again.data
if cmp -s file.data again.data && [ -s pipe.data ] && [ -s z.data ] && [ -s pipe-z.data ]; then
	ok "gen-synth is deterministic, and writes the pipe and compressed variants"
else
	not_ok "gen-synth variants" "$(head -c 300 gen.err)"
fi
rm -f again.data
VARIANTS="file pipe z pipe-z"

# The folded stacks, the bulk of expect.tsv, go to one file per kind, event
# and weight (fold.cycles.samples: pdcollapse --event=cycles
# --weight=samples), the rest to facts.tsv.
awk -F'\t' '
$1 == "fold" || $1 == "addrs" { print $4 >($1 "." $2 "." $3); next }
{ print >"facts.tsv" }' expect.tsv

# want KIND EVENT: the expected lines of that kind and event, without them.
want() {
	awk -F'\t' -v k="$1" -v e="$2" '$1 == k && $2 == e' facts.tsv | cut -f 3-
}
# total NAME, ev_samples EVENT, ev_period EVENT: expected numbers.
total() { awk -F'\t' -v n="$1" '$1 == "total" && $2 == n { print $3 }' facts.tsv; }
ev_samples() { awk -F'\t' -v e="$1" '$1 == "event" && $2 == e { print $3 }' facts.tsv; }
ev_period() { awk -F'\t' -v e="$1" '$1 == "event" && $2 == e { print $4 }' facts.tsv; }
# sum FILE: the sum of the last fields of the lines that are not comments.
sum() { awk '!/^#/ { s += $NF } END { printf "%.0f\n", s }' "$1"; }

LOST_EVENTS=$(total lost_events)
LOST_RECORDS=$(total lost_records)
LOST_SAMPLES=$(total lost_samples)
FRAMES=$(total frames)
if [ "$(total samples)" = $N ] && [ "$LOST_RECORDS" -gt 0 ] && [ "$LOST_SAMPLES" -gt 0 ] &&
    [ "$(($(ev_samples cycles) + $(ev_samples instructions) + $(ev_samples page-faults)))" = $N ]; then
	ok "the expectation: $N samples over three events, $LOST_RECORDS LOST records ($LOST_EVENTS events), $LOST_SAMPLES lost samples"
else
	not_ok "the expectation is inconsistent" "$(head -n 10 expect.tsv | tr '\t\n' ' |')"
fi

# same NAME GOT WANT: the files are equal.
same() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1" "$(diff "$3" "$2" | head -n 6 | cut -c 1-200 | tr '\n' '|')"
	fi
}

# equal NAME GOT WANT: the strings are equal.
equal() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got '$2', want '$3'"; fi
}

# ---------------------------------------------------------------- pdcollapse
# fold_check V EVENT WEIGHT [OPTION...]: pdcollapse folds EVENT of V.data with
# that weight exactly as expected, and its counts add up to the event's.
fold_check() {
	_v=$1
	_e=$2
	_w=$3
	shift 3
	_k="fold"
	case " $* " in *" --addrs "*) _k=addrs ;; esac
	run_tool c.folded c.err pdcollapse "$@" --header --event="$_e" --weight="$_w" "$_v.data"
	head -n 1 c.folded >c.head
	sed 1d c.folded >c.body
	if [ "$rc" -ne 0 ] || [ "$(cat c.head)" != "# pd-folded v1 weight=$_w event=$_e tool=pdcollapse" ]; then
		not_ok "$_v: pdcollapse $* --header --event=$_e --weight=$_w: exit 0 and the metadata line" \
		    "exit $rc, header '$(cat c.head)'" "$(head -c 300 c.err)"
		return
	fi
	same "$_v: pdcollapse $* --event=$_e --weight=$_w: the expected stacks" c.body "$_k.$_e.$_w"
	if [ "$_w" = samples ]; then _n=$(ev_samples "$_e"); else _n=$(ev_period "$_e"); fi
	equal "$_v: pdcollapse $* --event=$_e --weight=$_w: the counts sum to the event's $_w" \
	    "$(sum c.body)" "$_n"
}

for v in $VARIANTS; do
	# Every sample read, those of the event folded once, the losses apart.
	fold_check "$v" cycles samples -v
	got=$(sed -n 's/.*: \([0-9]*\) samples read, \([0-9]*\) folded; not folded: \([0-9]*\) of other events, \([0-9]*\) with unknown event id, \([0-9]*\) undecodable; lost: \([0-9]*\) events in \([0-9]*\) LOST records, \([0-9]*\) samples (LOST_SAMPLES).*, \([0-9]*\) out of order.*/\1 \2 \3 \4 \5 \6 \7 \8 \9/p' c.err)
	equal "$v: pdcollapse -v: samples read, folded, of other events, unknown, bad; lost events, LOST records, lost samples; out of order" \
	    "$got" "$N $(ev_samples cycles) $((N - $(ev_samples cycles))) 0 0 $LOST_EVENTS $LOST_RECORDS $LOST_SAMPLES 0"
	# The default: sample counts, no metadata line.
	run_tool c.folded c.err pdcollapse --event=cycles "$v.data"
	same "$v: pdcollapse --event=cycles: sample counts by default, and no metadata line" c.folded fold.cycles.samples
	for e in $EVENTS; do
		[ "$e" = cycles ] || fold_check "$v" "$e" samples
		# Every address (DSO-relative, as perf script prints them) and period.
		fold_check "$v" "$e" period --addrs
		# The reading is the same in every variant: names once suffice.
		[ "$v" = file ] && fold_check "$v" "$e" period
	done
done

# ---------------------------------------------------------------- pdtop
# tsv_facts KIND FILE: pdtop's tsv as facts.tsv lines (KIND EVENT KEY SAMPLES
# PERIOD), sorted; "meta" lines for the totals of each event, from the json
# of the same options (the pdtop command line follows FILE).
tsv_facts() {
	_kind=$1
	_tsv=$2
	shift 2
	"$@" --format=json >t.json 2>/dev/null
	_lost=$(sed -n 's/.*"lost_samples":\([0-9]*\),"events".*/\1/p' t.json)
	{
		sed -n 's/^,*{"event":"\([^"]*\)","samples":\([0-9]*\),"period":\([0-9]*\),"kept_samples":\([0-9]*\),"kept_period":\([0-9]*\),.*/meta\t\1\tsamples=\2 period=\3 kept_samples=\4 kept_period=\5 lost_samples='"$_lost"'/p' t.json
		awk -F'\t' -v kind="$_kind" '
		NR == 1 { if ($1 != "overhead" || $NF != "event") print "bad header row: " $0; next }
		{ ev = $NF }
		kind == "sym" { print kind "\t" ev "\t" $4 "\t" $5 "\t" $2 "\t" $3; next }
		{ print kind "\t" ev "\t" $4 "\t" $2 "\t" $3 }
		kind == "child" { print "self\t" ev "\t" $4 "\t" $6 "\t" $7 }' "$_tsv"
	} | LC_ALL=C sort
}

# expect_facts KIND...: the same from expect.tsv, with the metadata pdtop must print.
expect_facts() {
	{
		for e in $EVENTS; do
			n=$(ev_samples "$e")
			p=$(ev_period "$e")
			printf 'meta\t%s\tsamples=%s period=%s kept_samples=%s kept_period=%s lost_samples=%s\n' \
			    "$e" "$n" "$p" "$n" "$p" "$LOST_SAMPLES"
		done
		for k in "$@"; do
			awk -F'\t' -v k="$k" '$1 == k' facts.tsv
		done
	} | LC_ALL=C sort
}

MAX_STACK=$(cat /proc/sys/kernel/perf_event_max_stack 2>/dev/null || echo 127)
expect_facts comm >want.comm
expect_facts self >want.self
expect_facts sym >want.sym
expect_facts child self >want.child
for v in $VARIANTS; do
	run_tool t.tsv t.err pdtop --format=tsv --no-children -s comm "$v.data"
	tsv_facts comm t.tsv pdtop --no-children -s comm "$v.data" >got.comm
	same "$v: pdtop -s comm: the samples and period of each event and command, the lost samples (exit $rc)" \
	    got.comm want.comm

	run_tool t.tsv t.err pdtop --format=tsv --no-children -s dso,symbol "$v.data"
	tsv_facts sym t.tsv pdtop --no-children -s dso,symbol "$v.data" >got.sym
	same "$v: pdtop -s dso,symbol: every address of the samples, in its DSO (exit $rc)" got.sym want.sym

	# Children count at most perf_event_max_stack frames (pdtop(1)).
	if [ "$MAX_STACK" -lt "$(total max_frames)" ]; then
		skip "$v: pdtop --children: perf_event_max_stack is $MAX_STACK, under the deepest stack"
	else
		run_tool t.tsv t.err pdtop --format=tsv --children -s dso "$v.data"
		tsv_facts child t.tsv pdtop --children -s dso "$v.data" >got.child
		same "$v: pdtop --children -s dso: each DSO once per sample on whose stack it is, and self (exit $rc)" \
		    got.child want.child
	fi

	# The same reading in every variant: -s dso and the text once suffice.
	if [ "$v" = file ]; then
		run_tool t.tsv t.err pdtop --format=tsv --no-children -s dso "$v.data"
		tsv_facts self t.tsv pdtop --no-children -s dso "$v.data" >got.self
		same "$v: pdtop -s dso: the samples and period of each DSO (exit $rc)" got.self want.self

		# The header lines of perf report --stdio.
		run_tool t.txt t.err pdtop --no-children -s comm "$v.data"
		got=$(awk '/^# Total Lost Samples:/ { printf "lost=%s ", $NF } /^# Event count/ { printf "%s ", $NF }' t.txt)
		equal "$v: pdtop text: the lost samples and each event's Event count" "$got" \
		    "lost=$LOST_SAMPLES $(ev_period cycles) $(ev_period instructions) $(ev_period page-faults) "
	fi
	run_tool t.txt t.err pdtop --health "$v.data"
	got=$(sed -n 's/^lost: *\([0-9]*\) samples ([^)]*), \([0-9]*\) events in \([0-9]*\) LOST records; \([0-9]*\) samples unreadable$/\1 \2 \3 \4/p' t.txt)
	got="$got $(sed -n 's/^samples: *\([0-9]*\) read$/\1/p' t.txt)"
	equal "$v: pdtop --health: the lost samples, events and records, and the samples read" "$got" \
	    "$LOST_SAMPLES $LOST_EVENTS $LOST_RECORDS 0 $N"
	awk '/^threads:/ { t = 1; next } t && /^    / { printf "%s\t%s\n", $NF, $2 } t && !/^    / { t = 0 }' t.txt |
	    LC_ALL=C sort >got.threads
	want thread all | cut -f 1-2 | LC_ALL=C sort >want.threads
	same "$v: pdtop --health: the samples of every thread" got.threads want.threads
done

# ---------------------------------------------------------------- pdjson
# json_tsv FILE: the summary's events (name, samples, period, lost), then a
# line of health figures, tab-separated.
json_tsv() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for e in d["events"]:
    print("%s\t%s\t%s\t%s" % (e["name"], e["samples"], e["period"], json.dumps(e["lost"])))
h = d["health"]
print("\t".join(str(h[k]) for k in ("samples", "lost_events", "lost_records", "lost_samples",
    "samples_undecodable", "samples_unknown_event", "out_of_order", "callchains_dropped",
    "frames", "samples_with_unresolved_frames", "unresolved_frames")))' "$1"
}

if command -v python3 >/dev/null 2>&1; then
	for e in $EVENTS; do
		printf '%s\t%s\t%s\tnull\n' "$e" "$(ev_samples "$e")" "$(ev_period "$e")"
	done >want.events
	for v in $VARIANTS; do
		run_tool s.json s.err pdjson -f summary "$v.data"
		json_tsv s.json >s.tsv 2>s.err
		sed '$d' s.tsv >got.events
		same "$v: pdjson summary: each event's samples and period, lost null for several events (exit $rc)" \
		    got.events want.events
		got=$(tail -n 1 s.tsv | cut -f 1-9)
		equal "$v: pdjson summary health: samples, lost events, LOST records, lost samples, undecodable, unknown event, out of order, dropped chains, frames" \
		    "$got" "$(printf '%s\t' $N "$LOST_EVENTS" "$LOST_RECORDS" "$LOST_SAMPLES" 0 0 0 0)$FRAMES"
		# No frame of the recording has a symbol: its DSOs exist nowhere,
		# and its kernel (OSRELEASE 0.0.0-pdsynth) runs nowhere, so this
		# machine's kallsyms must not be used (pdcollapse(1)).
		got=$(tail -n 1 s.tsv | cut -f 10-11)
		equal "$v: pdjson summary health: every sample and frame unresolved, as pdtop --health says" \
		    "$got" "$(printf '%s\t%s' $N "$FRAMES")"
	done
else
	skip "python3 is not installed: pdjson's summary is not checked"
fi

# ---------------------------------------------------------------- perf
# perf, which nobody here wrote, must count the same: it checks gen-synth.
if ! command -v perf >/dev/null 2>&1; then
	skip "perf is not installed: gen-synth's output is not checked against it"
	done_testing
	exit
fi
# perf_facts FILE: perf report's per-event per-command samples and period as
# expect.tsv's comm lines, the Event count lines as event lines.
perf_facts() {
	awk '
	/^# Samples: / { ev = $NF; gsub(/'\''/, "", ev); next }
	/^# Event count/ { print "count\t" ev "\t" $NF; next }
	/^# Total Lost Samples:/ { print "lost_samples\t" $NF; next }
	/^#/ || NF < 3 { next }
	{
		c = $0; sub(/^ +/, "", c); sub(/ +[0-9]+ +[0-9]+ *$/, "", c)
		print "comm\t" ev "\t" c "\t" $(NF - 1) "\t" $NF
	}' "$1" | LC_ALL=C sort
}
{
	printf 'lost_samples\t%s\n' "$LOST_SAMPLES"
	for e in $EVENTS; do
		printf 'count\t%s\t%s\n' "$e" "$(ev_period "$e")"
	done
	awk -F'\t' '$1 == "comm"' facts.tsv
} | LC_ALL=C sort >want.perf
for v in $VARIANTS; do
	perf report --stdio -i "$v.data" --no-children -g none --sort comm -F comm,sample,period \
	    >p.txt 2>p.err
	perf_facts p.txt >got.perf
	same "$v: perf report: each event's Event count and the samples and period of each command, the lost samples" \
	    got.perf want.perf
	got=$(sed -n 's/^Processed \([0-9]*\) events and lost \([0-9]*\) chunks!$/\2/p' p.err)
	equal "$v: perf report: the LOST records" "$got" "$LOST_RECORDS"
	if grep -qi 'out of order\|failed\|error\|unexpected' p.err; then
		not_ok "$v: perf report reads it without complaint" "$(tr '\n' '|' <p.err | head -c 300)"
	else
		ok "$v: perf report reads it without complaint"
	fi
done
# perf report --stats counts records per event; 6.1 cannot inflate pipe-mode
# COMPRESSED records in that mode (its own recordings neither), so files only.
for v in file z; do
	perf report --stats -i "$v.data" >p.txt 2>p.err
	got=$(awk '/ stats:$/ { ev = $1 == "Aggregated" ? "" : $1 } ev != "" && /SAMPLE events:/ { printf "%s=%s ", ev, $NF }' p.txt)
	equal "$v: perf report --stats: the samples of each event" "$got" \
	    "cycles=$(ev_samples cycles) instructions=$(ev_samples instructions) page-faults=$(ev_samples page-faults) "
done

done_testing
