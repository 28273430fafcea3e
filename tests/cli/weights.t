#!/bin/sh
# weights.t - weights are unsigned 64-bit in every tool, and no sum wraps
# (issue 18, finding 3).  Recordings whose every period is 2^63 or 2^64-1,
# in file and pipe form (tests/helpers/gen-synth --period), go through every
# tool: each gives exact sums or exactly one error line naming the file and
# the byte offset of the sample record whose weight would take a sum past
# 2^64-1, and exit 2.  The offsets are checked against perf report -D (perf
# counts a pipe's offsets from after its 16-byte header; pdtools from the
# first byte of the input) and perf script's event names.  Folded text: a
# count of 18446744073709551615 alone is read back by every reader; two
# lines that sum past it give one error line with the second line's offset.
. "${PD_SRC:?}/tests/cli/lib.sh"

GS=${PD_VALGRIND:-$PD_BIN}/tests/helpers/gen-synth
P63=9223372036854775808
PMAX=18446744073709551615
OVER="the weights add up past 2^64-1"

# one_error NAME TOOL FILE OFFSET [LINE]: rc 2, empty stdout unless $KEEP_OUT,
# stderr exactly one line "TOOL: 'FILE': [line N: ]the weights add up past
# 2^64-1 at offset OFFSET".
one_error() {
	_n=$1 _t=$2 _f=$3 _o=$4
	if [ -n "${5:-}" ]; then _want="$_t: '$_f': line $5: $OVER at offset $_o"
	else _want="$_t: '$_f': $OVER at offset $_o"; fi
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && [ "$(cat "$TMP/err")" = "$_want" ] &&
	    { [ -n "${KEEP_OUT:-}" ] || [ ! -s "$TMP/out" ]; }; then
		ok "$_n"
	else
		not_ok "$_n" "exit $rc (want 2), want one line: $_want" "stderr: $(head -c 600 "$TMP/err")" \
		    "stdout bytes: $(wc -c <"$TMP/out")"
	fi
}

# exact_ok NAME: rc 0, nothing on stderr, no percentage above 100 on stdout.
exact_ok() {
	if [ "$rc" -eq 0 ] && [ ! -s "$TMP/err" ] &&
	    ! grep -Eq '(^|[^0-9.])(1[0-9][0-9]\.[0-9]*[1-9]|[2-9][0-9][0-9]|[0-9]{4,})\.[0-9]+%' "$TMP/out"; then
		ok "$1"
	else
		not_ok "$1" "exit $rc, want 0, no stderr, no share past 100%" "stderr: $(head -c 400 "$TMP/err")"
	fi
}

command -v perf >/dev/null 2>&1 || skip_all "no perf to read the offsets of the sample records"

for P in $P63 $PMAX; do
	for form in file pipe; do
		f=$TMP/p$P.$form
		if [ $form = pipe ]; then
			"$GS" -n 40 --period "$P" --pipe -o "$f" || skip_all "gen-synth failed"
			adj=16
		else
			"$GS" -n 40 --period "$P" -o "$f" || skip_all "gen-synth failed"
			adj=0
		fi
		# Each sample's time (microseconds), offset and event, in time order.
		perf report -D -i "$f" 2>/dev/null |
		    awk '$5 ~ /^PERF_RECORD_SAMPLE/ { print $2 / 1000, $3 }' | sort -n >"$TMP/offs"
		perf script -i "$f" -F time,event 2>/dev/null |
		    awk '/^ *[0-9]+\.[0-9]+: / { t = $1; sub(/:$/, "", t); sub(/\./, "", t); ev = $2; sub(/:$/, "", ev);
			print t + 0, ev }' | sort -n >"$TMP/evs"
		join "$TMP/offs" "$TMP/evs" >"$TMP/samples"
		nsmp=$(wc -l <"$TMP/samples")
		ncyc=$(awk '$3 == "cycles"' "$TMP/samples" | wc -l)
		if [ "$nsmp" -ne 40 ] || [ "$ncyc" -lt 2 ]; then
			not_ok "$form $P: perf reads the 40 samples ($nsmp, $ncyc of cycles)"
			continue
		fi
		# The second cycles sample (pdcollapse, pddiff, pdjson tree and
		# speedscope sum the first event's), and the first sample that is
		# the second of its event (pdtop and pdjson's summary total every
		# event): both sums pass 2^64-1 there, 2 * P > 2^64-1.
		sel=$(awk '$3 == "cycles" && ++n == 2 { print $2; exit }' "$TMP/samples")
		any=$(awk '++n[$3] == 2 { print $2; exit }' "$TMP/samples")
		sel=$(printf '0x%x' $((sel + adj)))
		any=$(printf '0x%x' $((any + adj)))
		name="$form, periods $P"

		run_tool "$TMP/out" "$TMP/err" pdcollapse --event=cycles "$f"
		sum=$(awk '{ s += $NF } END { print s + 0 }' "$TMP/out")
		if [ "$rc" -eq 0 ] && [ ! -s "$TMP/err" ] && [ "$sum" -eq "$ncyc" ]; then
			ok "$name: pdcollapse counts samples exactly ($ncyc)"
		else
			not_ok "$name: pdcollapse counts samples exactly" "exit $rc, sum $sum, want $ncyc" \
			    "stderr: $(head -c 300 "$TMP/err")"
		fi
		cp "$TMP/out" "$TMP/samples.folded"
		run_tool "$TMP/out" "$TMP/err" pdflame "$TMP/samples.folded"
		if [ "$rc" -eq 0 ] && grep -q "<g o=\"0\" w=\"$ncyc\" d=\"0\">" "$TMP/out"; then
			ok "$name: pdflame draws pdcollapse's sample counts"
		else
			not_ok "$name: pdflame draws pdcollapse's sample counts" "exit $rc" "$(head -c 300 "$TMP/err")"
		fi
		KEEP_OUT=1
		run_tool "$TMP/out" "$TMP/err" pdcollapse --weight=period "$f"
		one_error "$name: pdcollapse --weight=period: one error at the second cycles sample" pdcollapse \
		    "$f" "$sel"
		if [ "$(cat "$TMP/out")" = "$(awk '{ $NF = "'"$P"'" } 1' "$TMP/out" | head -n 1)" ]; then
			ok "$name: pdcollapse --weight=period: the sample before it, exactly"
		else
			not_ok "$name: pdcollapse --weight=period: the sample before it, exactly" "$(cat "$TMP/out")"
		fi
		# A pipe on standard input: the same offset, the reader's name for it.
		if [ $form = pipe ]; then
			run_tool "$TMP/out" "$TMP/err" sh -c 'cat "$1" | pdcollapse --weight=period -' sh "$f"
			one_error "$name: pdcollapse --weight=period from a pipe" pdcollapse "<stdin>" "$sel"
		fi
		unset KEEP_OUT

		for mode in --children --no-children; do
			for sort in symbol dso comm pid tid comm,dso,symbol; do
				for fmt in text tsv json; do
					run_tool "$TMP/out" "$TMP/err" pdtop $mode --sort=$sort --format=$fmt "$f"
					one_error "$name: pdtop $mode --sort=$sort --format=$fmt" pdtop "$f" "$any"
				done
			done
		done
		run_tool "$TMP/out" "$TMP/err" pdtop --weight=samples "$f"
		one_error "$name: pdtop --weight=samples (the tables have period columns too)" pdtop "$f" "$any"

		run_tool "$TMP/out" "$TMP/err" pdjson -f summary "$f"
		one_error "$name: pdjson -f summary" pdjson "$f" "$any"
		for fmt in speedscope tree; do
			run_tool "$TMP/out" "$TMP/err" pdjson -f $fmt "$f"
			one_error "$name: pdjson -f $fmt" pdjson "$f" "$sel"
		done
		run_tool "$TMP/out" "$TMP/err" pdjson -f samples "$f"
		n=$(grep -o "\"period\":$P[,}]" "$TMP/out" | wc -l)
		if [ "$rc" -eq 0 ] && [ "$n" -eq 40 ]; then
			ok "$name: pdjson -f samples: every period exactly, nothing summed"
		else
			not_ok "$name: pdjson -f samples: every period exactly" "exit $rc, $n of 40"
		fi
		for fmt in folded table; do
			run_tool "$TMP/out" "$TMP/err" pddiff --format=$fmt "$f" "$f"
			one_error "$name: pddiff --format=$fmt" pddiff "$f" "$sel"
			if grep -q "does not parse" "$TMP/err"; then
				not_ok "$name: pddiff --format=$fmt never says a folded line does not parse"
			fi
		done
	done
done

# One sample of period 2^64-1: every sum is exactly representable.
for form in file pipe; do
	f=$TMP/one.$form
	"$GS" -n 1 --period $PMAX $([ $form = pipe ] && echo --pipe) -o "$f" || skip_all "gen-synth failed"
	run_tool "$TMP/out" "$TMP/err" pdcollapse --weight=period --header "$f"
	if [ "$rc" -eq 0 ] && [ "$(grep -vc '^#' "$TMP/out")" -eq 1 ] && grep -q " $PMAX\$" "$TMP/out"; then
		ok "$form, one sample of 2^64-1: pdcollapse --weight=period writes $PMAX"
	else
		not_ok "$form, one sample of 2^64-1: pdcollapse --weight=period" "exit $rc" "$(cat "$TMP/out" "$TMP/err")"
	fi
	cp "$TMP/out" "$TMP/one.folded"
	for mode in --children --no-children; do
		run_tool "$TMP/out" "$TMP/err" pdtop $mode "$f"
		exact_ok "$form, one sample of 2^64-1: pdtop $mode"
		if grep -q "^# Event count (approx.): $PMAX\$" "$TMP/out" && grep -q '^ *100\.00%' "$TMP/out"; then
			ok "$form: pdtop $mode: the total is $PMAX, the row 100.00%"
		else
			not_ok "$form: pdtop $mode: the total is $PMAX, the row 100.00%" "$(head -12 "$TMP/out")"
		fi
	done
	run_tool "$TMP/out" "$TMP/err" pdjson -f tree "$f"
	exact_ok "$form, one sample of 2^64-1: pdjson -f tree"
	if grep -q "^{\"name\":\"root\",\"value\":$PMAX," "$TMP/out"; then
		ok "$form: pdjson -f tree: the root weighs $PMAX"
	else
		not_ok "$form: pdjson -f tree: the root weighs $PMAX" "$(head -c 200 "$TMP/out")"
	fi
	run_tool "$TMP/out" "$TMP/err" pdjson -f speedscope "$f"
	exact_ok "$form, one sample of 2^64-1: pdjson -f speedscope"
	if grep -q "\"weights\":\[$PMAX\]" "$TMP/out" && grep -q "\"endValue\":$PMAX" "$TMP/out"; then
		ok "$form: pdjson -f speedscope: the weight and the end value are $PMAX"
	else
		not_ok "$form: pdjson -f speedscope: the weight and the end value are $PMAX" "$(head -c 400 "$TMP/out")"
	fi
	run_tool "$TMP/out" "$TMP/err" pdjson -f summary "$f"
	exact_ok "$form, one sample of 2^64-1: pdjson -f summary"
	check "$form: pdjson -f summary: the event's period is $PMAX" grep -q "\"period\":$PMAX" "$TMP/out"
	run_tool "$TMP/out" "$TMP/err" pddiff --no-gate --format=table "$f" "$f"
	exact_ok "$form, one sample of 2^64-1: pddiff --format=table"
	check "$form: pddiff: both totals $PMAX" grep -q " base_weight=$PMAX new_weight=$PMAX " "$TMP/out"
done

# pdcollapse's count of 2^64-1 read back by every reader of folded text.
fo=$TMP/one.folded
run_tool "$TMP/out" "$TMP/err" pdtop "$fo"
exact_ok "folded $PMAX: pdtop reads it"
check "folded $PMAX: pdtop: 100.00%" grep -q '^ *100\.00%' "$TMP/out"
run_tool "$TMP/out" "$TMP/err" pdtop --format=tsv "$fo"
exact_ok "folded $PMAX: pdtop --format=tsv"
check "folded $PMAX: pdtop --format=tsv: the period $PMAX" grep -q "	$PMAX" "$TMP/out"
# (pddiff warns that periods allow no significance test: -q.)
run_tool "$TMP/out" "$TMP/err" pddiff -q --no-gate "$fo" "$fo"
exact_ok "folded $PMAX: pddiff reads it"
check "folded $PMAX: pddiff: both counts" grep -q " $PMAX $PMAX\$" "$TMP/out"
run_tool "$TMP/out" "$TMP/err" pddiff -q --no-gate --format=table "$fo" "$fo"
exact_ok "folded $PMAX: pddiff --format=table"
check "folded $PMAX: pddiff --format=table: both totals" grep -q " base_weight=$PMAX new_weight=$PMAX " "$TMP/out"
run_tool "$TMP/out" "$TMP/err" pdflame "$fo"
exact_ok "folded $PMAX: pdflame draws it"
check "folded $PMAX: pdflame: the root weighs $PMAX" grep -q "<g o=\"0\" w=\"$PMAX\" d=\"0\">" "$TMP/out"
for fmt in summary speedscope tree; do
	run_tool "$TMP/out" "$TMP/err" pdjson -f $fmt "$fo"
	exact_ok "folded $PMAX: pdjson -f $fmt reads it"
	check "folded $PMAX: pdjson -f $fmt: $PMAX in it" grep -q "$PMAX" "$TMP/out"
done

# Two lines past it: one error at the second line, its byte offset.
printf 'a;b %s\na;c 1\n' $PMAX >"$TMP/two.folded"
off=$(printf '0x%x' $(($(printf 'a;b %s\n' $PMAX | wc -c))))
two=$TMP/two.folded
for args in "" "--no-children" "--children --sort=symbol" "--format=json"; do
	# shellcheck disable=SC2086
	run_tool "$TMP/out" "$TMP/err" pdtop $args "$two"
	one_error "two folded lines past 2^64-1: pdtop $args" pdtop "$two" "$off" 2
done
for fmt in folded table; do
	run_tool "$TMP/out" "$TMP/err" pddiff --format=$fmt "$two" "$fo"
	one_error "two folded lines past 2^64-1: pddiff --format=$fmt (BASE)" pddiff "$two" "$off" 2
	run_tool "$TMP/out" "$TMP/err" pddiff --format=$fmt "$fo" "$two"
	one_error "two folded lines past 2^64-1: pddiff --format=$fmt (NEW)" pddiff "$two" "$off" 2
done
for fmt in summary speedscope tree; do
	run_tool "$TMP/out" "$TMP/err" pdjson -f $fmt "$two"
	one_error "two folded lines past 2^64-1: pdjson -f $fmt" pdjson "$two" "$off" 2
done
KEEP_OUT=1
run_tool "$TMP/out" "$TMP/err" pdflame "$two" "$fo"
one_error "two folded lines past 2^64-1: pdflame (and no file after it)" pdflame "$two" "$off" 2
unset KEEP_OUT
# Standard input: the same offset.
run_tool "$TMP/out" "$TMP/err" sh -c 'cat "$1" | pdtop -' sh "$two"
one_error "two folded lines past 2^64-1: pdtop on standard input" pdtop "<stdin>" "$off" 2
# A differential line's NEW counts add up the same way.
printf 'a;b 1 %s\na;c 0 1\n' $PMAX >"$TMP/diff.folded"
off=$(printf '0x%x' $(($(printf 'a;b 1 %s\n' $PMAX | wc -c))))
KEEP_OUT=1
run_tool "$TMP/out" "$TMP/err" pdflame "$TMP/diff.folded"
one_error "two differential lines past 2^64-1: pdflame" pdflame "$TMP/diff.folded" "$off" 2
unset KEEP_OUT
# One past 2^64-1 is not a count.
printf 'a;b 18446744073709551616\n' >"$TMP/big.folded"
run_tool "$TMP/out" "$TMP/err" pdtop "$TMP/big.folded"
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "line 1: bad count '18446744073709551616' at offset 0x0\$" "$TMP/err"; then
	ok "2^64 is not a count: pdtop"
else
	not_ok "2^64 is not a count: pdtop" "exit $rc" "$(cat "$TMP/err")"
fi
run_tool "$TMP/out" "$TMP/err" pddiff "$TMP/big.folded" "$fo"
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "line 1: .* at offset 0x0\$" "$TMP/err"; then
	ok "2^64 is not a count: pddiff"
else
	not_ok "2^64 is not a count: pddiff" "exit $rc" "$(cat "$TMP/err")"
fi

# pddiff's other exit-2 message names the file too (issue 18, finding 7).
printf '# nothing\n' >"$TMP/empty.folded"
run_tool "$TMP/out" "$TMP/err" pddiff "$fo" "$TMP/empty.folded"
if [ "$rc" -eq 2 ] && [ "$(cat "$TMP/err")" = "pddiff: '$TMP/empty.folded': NEW has no samples: none up to its end at offset 0xa" ]; then
	ok "pddiff: a side without samples: one line naming its file and its end"
else
	not_ok "pddiff: a side without samples: one line naming its file and its end" "exit $rc" "$(cat "$TMP/err")"
fi
run_tool "$TMP/out" "$TMP/err" pddiff "$TMP/empty.folded" "$fo"
if [ "$rc" -eq 2 ] && [ "$(cat "$TMP/err")" = "pddiff: '$TMP/empty.folded': BASE has no samples: none up to its end at offset 0xa" ]; then
	ok "pddiff: BASE without samples: one line naming its file and its end"
else
	not_ok "pddiff: BASE without samples: one line naming its file and its end" "exit $rc" "$(cat "$TMP/err")"
fi

done_testing
