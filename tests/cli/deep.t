#!/bin/sh
# Deep stacks and empty input (issue 18): a folded line of a million frames
# (2 MB) goes through every tool and format that reads folded text with a
# 1 MiB C stack (ulimit -s 1024: no walk recurses per frame), with its count
# conserved and its depth kept; pddiff's output of identical and differing
# deep stacks is exact; the deepest call chain a perf.data record holds goes
# through every reader; and every format of every tool takes input without
# samples (folded text with only a comment, a pipe recording without SAMPLE
# records) without a sanitizer report under make asan.  Timings are in
# tests/bench/deep.sh, not here.
. "$PD_SRC/tests/cli/lib.sh"

cd "$TMP" || exit 2
# UBSan reports are fatal here, so that make asan cannot pass over one.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS

N=1000000
# deep N LEAF COUNT...: one folded line of N frames a;b;...;z;a;... then LEAF.
deep() {
	awk -v n="$1" -v leaf="$2" -v c="$3" 'BEGIN {
		for (i = 0; i < n - 1; i++) printf "%c;", 97 + i % 26
		print leaf " " c }'
}
deep $N leaf 7 >deep.txt
deep $N leaf "3 5" >deep-diff.txt
deep $N other 4 >deep-new.txt
[ "$(wc -c <deep.txt)" -gt 2000000 ] || not_ok "the deep input is generated" "$(wc -c <deep.txt) bytes"

# small OUT ERR CMD...: run CMD with a 1 MiB stack; rc is its exit status.
small() {
	_o=$1
	_e=$2
	shift 2
	rc=0
	# ulimit -s is not POSIX, but dash, bash, busybox and ksh have it.
	# shellcheck disable=SC3045
	( ulimit -s 1024 && exec "$@" ) >"$_o" 2>"$_e" || rc=$?
}

# clean NAME: rc 0 and nothing on stderr.
clean() {
	if [ "$rc" -eq 0 ] && [ ! -s err ]; then
		return 0
	fi
	not_ok "$1" "exit $rc" "stderr: $(head -c 400 err)"
	return 1
}

# --- pdflame: every frame drawn, the SVG closed. ---
for opt in "" --reverse --inverted --flamechart; do
	# shellcheck disable=SC2086
	small out err pdflame $opt deep.txt
	name="pdflame $opt: $N frames with a 1 MiB stack"
	if clean "$name"; then
		# Every frame, all as wide as the root (w: its count), the deepest at depth N.
		titles=$(grep -c '<title>' out)
		wide=$(grep -c ' w="7" ' out)
		if [ "$titles" -eq $((N + 1)) ] && [ "$wide" -eq $((N + 1)) ] && grep -q " d=\"$N\" " out &&
		    [ "$(tail -n 1 out)" = "</svg>" ]; then
			ok "$name"
		else
			not_ok "$name" "$titles titles, $wide of width 7 (want $((N + 1))), last line $(tail -n 1 out | head -c 80)"
		fi
	fi
done
small out err pdflame deep-diff.txt
if clean "pdflame: a differential line of $N frames"; then
	if [ "$(grep -c ' w="5" ' out)" -eq $((N + 1)) ] && [ "$(grep -c ' b="3"' out)" -eq $((N + 1)) ] &&
	    grep -q " d=\"$N\" s=\"5\" b=\"3\" sb=\"3\"" out && [ "$(tail -n 1 out)" = "</svg>" ]; then
		ok "pdflame: a differential line of $N frames"
	else
		not_ok "pdflame: a differential line of $N frames" "$(grep -c '<title>' out) titles"
	fi
fi

# --- pdtop: the leaf has all of it self, every frame all of it with children. ---
for opt in "" --children; do
	# shellcheck disable=SC2086
	small out err pdtop $opt --format=tsv -s symbol deep.txt
	if clean "pdtop $opt: $N frames"; then
		if grep -q "^100.00	7		\[\.\] a	0.00	0	" out && grep -q "^100.00	7		\[\.\] leaf	100.00	7	" out &&
		    [ "$(grep -vc '^#' out)" -eq 28 ]; then
			ok "pdtop $opt: $N frames, every symbol inclusive 100%"
		else
			not_ok "pdtop $opt: $N frames" "$(head -c 400 out)"
		fi
	fi
done
for sort in symbol comm comm,symbol; do
	small out err pdtop --no-children -s $sort --format=tsv deep.txt
	if clean "pdtop --no-children -s $sort: $N frames"; then
		if [ "$(grep -vc '^#' out)" -eq 2 ] && grep -q "^100.00	" out; then
			ok "pdtop --no-children -s $sort: $N frames, one row of 100%"
		else
			not_ok "pdtop --no-children -s $sort: $N frames" "$(head -c 400 out)"
		fi
	fi
done

# --- pddiff: identical stacks meet, differing ones are marked at the leaf. ---
small out err pddiff deep.txt deep.txt
if clean "pddiff: identical stacks of $N frames"; then
	sed 's/ 7$/ 7 7/' deep.txt >want
	if cmp -s out want; then
		ok "pddiff: identical stacks of $N frames, one line, both counts"
	else
		not_ok "pddiff: identical stacks of $N frames" "$(wc -lc <out)"
	fi
fi
small out err pddiff --no-gate deep.txt deep-new.txt
if clean "pddiff: differing stacks of $N frames"; then
	{ sed 's/;leaf 7$/;leaf [GONE] 7 0/' deep.txt; sed 's/;other 4$/;other [NEW] 0 4/' deep-new.txt; } >want
	if cmp -s out want; then
		ok "pddiff: differing stacks of $N frames, marked at the leaf"
	else
		not_ok "pddiff: differing stacks of $N frames" "$(wc -lc <out)" "$(tail -c 120 out)"
	fi
fi
for fmt in table json; do
	small out err pddiff --no-gate --format=$fmt deep.txt deep-new.txt
	if clean "pddiff --format=$fmt: $N frames"; then
		if grep -q leaf out && grep -q other out; then
			ok "pddiff --format=$fmt: $N frames, both leaves"
		else
			not_ok "pddiff --format=$fmt: $N frames" "$(head -c 400 out)"
		fi
	fi
done

# --- pdjson: the tree is N + 1 deep (root, then one node a frame). ---
small out err pdjson -f tree deep.txt
if clean "pdjson -f tree: $N frames"; then
	opens=$(grep -o '"children":\[' out | wc -l)
	closes=$(tr -cd ']' <out | wc -c)
	if [ "$opens" -eq $((N + 1)) ] && [ "$closes" -eq $((N + 1)) ] &&
	    [ "$(head -c 40 out)" = '{"name":"root","value":7,"children":[{"n' ] &&
	    [ "$(grep -o '"value":7' out | wc -l)" -eq $((N + 1)) ]; then
		ok "pdjson -f tree: $N frames, $((N + 1)) nodes nested, each of value 7"
	else
		not_ok "pdjson -f tree: $N frames" "$opens children, $closes ]" "$(head -c 80 out)"
	fi
fi
small out err pdjson -f speedscope deep.txt
if clean "pdjson -f speedscope: $N frames"; then
	# The first frame is the profile; a sample lists the other N - 1.
	if grep -q '"endValue":7,"samples":\[\[' out &&
	    [ "$(sed 's/.*"samples":\[\[//; s/\]\].*//' out | tr ',' '\n' | wc -l)" -eq $((N - 1)) ]; then
		ok "pdjson -f speedscope: $N frames, one sample of $((N - 1))"
	else
		not_ok "pdjson -f speedscope: $N frames" "$(head -c 400 out)"
	fi
fi
small out err pdjson -f summary deep.txt
if clean "pdjson -f summary: $N frames"; then
	if grep -q '"samples":7,' out && grep -q '"stacks":1}' out; then
		ok "pdjson -f summary: $N frames, 7 samples"
	else
		not_ok "pdjson -f summary: $N frames" "$(head -c 400 out)"
	fi
fi

# --- The deepest call chain of a perf.data record, through every reader. ---
bad=$PD_SRC/tests/data/bad/callchain-deep.data
small out err pdcollapse "$bad"
if clean "pdcollapse: the deepest call chain"; then
	depth=$(awk '{ n = gsub(/;/, ";"); if (n > m) m = n } END { print m + 0 }' out)
	if [ "$depth" -ge 4000 ]; then
		ok "pdcollapse: the deepest call chain, $depth frames"
	else
		not_ok "pdcollapse: the deepest call chain" "deepest stack $depth frames"
	fi
	cp out chain.folded
fi
for cmd in "pdtop" "pdtop --no-children" "pdjson" "pdjson -f tree" "pdjson -f speedscope" "pdjson -f summary"; do
	# shellcheck disable=SC2086
	small out err $cmd "$bad"
	if clean "$cmd: the deepest call chain" && [ -s out ]; then
		ok "$cmd: the deepest call chain"
	elif [ "$rc" -eq 0 ]; then
		not_ok "$cmd: the deepest call chain" "no output"
	fi
done
if [ -s chain.folded ]; then
	small out err pdflame chain.folded
	if clean "pdflame: the deepest call chain, folded" && [ "$(tail -n 1 out)" = "</svg>" ]; then
		ok "pdflame: the deepest call chain, folded"
	elif [ "$rc" -eq 0 ]; then
		not_ok "pdflame: the deepest call chain, folded" "SVG not closed"
	fi
	small out err pddiff chain.folded chain.folded
	if clean "pddiff: the deepest call chain, folded" && [ "$(wc -l <out)" -eq "$(grep -vc '^#' chain.folded)" ]; then
		ok "pddiff: the deepest call chain, folded"
	elif [ "$rc" -eq 0 ]; then
		not_ok "pddiff: the deepest call chain, folded" "$(wc -l <out) lines"
	fi
fi

# --- No samples: folded text with only a comment. ---
printf '# x\n' >empty.txt
# none WANT-RC NAME CMD...: the exit status, at most one line on stderr, no sanitizer report.
none() {
	_want=$1
	_name=$2
	shift 2
	run_tool out err "$@"
	if [ "$rc" -eq "$_want" ] && [ "$(wc -l <err)" -le 1 ] && ! grep -q -e 'runtime error' -e Sanitizer err; then
		ok "$_name"
	else
		not_ok "$_name" "exit $rc, want $_want" "stderr: $(head -c 400 err)"
	fi
}
for f in tree speedscope summary; do
	none 0 "pdjson -f $f: folded input without samples" pdjson -f $f empty.txt
done
run_tool out err pdjson -f tree empty.txt
if [ "$rc" -eq 0 ] && [ "$(cat out)" = '{"name":"root","value":0,"children":[]}' ]; then
	ok "pdjson -f tree: no samples, an empty root"
else
	not_ok "pdjson -f tree: no samples, an empty root" "exit $rc: $(head -c 200 out)"
fi
none 2 "pdjson -f samples: folded input is refused" pdjson -f samples empty.txt
for opt in "" --reverse --inverted --flamechart --negate; do
	# shellcheck disable=SC2086
	none 2 "pdflame $opt: no stack counts" pdflame $opt empty.txt
done
for opt in "" --children --no-children "-s comm" "--format=tsv" "--format=json"; do
	# shellcheck disable=SC2086
	none 0 "pdtop $opt: folded input without samples" pdtop $opt empty.txt
done
none 2 "pdtop --health: folded input is refused" pdtop --health empty.txt
for fmt in folded table json; do
	none 2 "pddiff --format=$fmt: no samples" pddiff --format=$fmt empty.txt empty.txt
done

: >zero.txt
for cmd in pdflame pdtop "pdjson -f tree" "pdjson -f speedscope" "pdjson -f summary" pdcollapse; do
	# shellcheck disable=SC2086
	none 2 "$cmd: a file of 0 bytes" $cmd zero.txt
done
printf 'a;b 1\n' >one.txt
none 2 "pddiff: a file of 0 bytes" pddiff zero.txt one.txt

# --- No samples: a pipe recording without its SAMPLE records. ---
# Walk the records of pipe-fp.data (16-byte header, then type u32, misc u16,
# size u16, little-endian) and keep every one but PERF_RECORD_SAMPLE (9).
od -An -v -tu1 "$PD_SRC/tests/data/pipe-fp.data" | awk '
	{ for (i = 1; i <= NF; i++) b[n++] = $i }
	END {
		print 0, 16
		for (o = 16; o + 8 <= n; o += sz) {
			sz = b[o + 6] + 256 * b[o + 7]
			if (sz < 8) exit 1
			if (b[o] + 256 * b[o + 1] != 9) print o, sz
		}
	}' >keep || not_ok "pipe-fp.data has records"
: >nosamples.data
while read -r off len; do
	dd if="$PD_SRC/tests/data/pipe-fp.data" bs=1 skip="$off" count="$len" 2>/dev/null >>nosamples.data
done <keep
if [ -s nosamples.data ]; then
	none 0 "pdcollapse: a recording without samples" pdcollapse nosamples.data
	[ ! -s out ] || not_ok "pdcollapse: no samples, no stacks" "$(head -c 200 out)"
	for cmd in "pdtop" "pdtop --no-children" "pdtop --format=json" "pdtop --health" "pdjson" \
	    "pdjson -f tree" "pdjson -f speedscope" "pdjson -f summary" "pdjson -f speedscope --per process"; do
		# shellcheck disable=SC2086
		none 0 "$cmd: a recording without samples" $cmd nosamples.data
	done
	none 2 "pddiff: a recording without samples" pddiff nosamples.data nosamples.data
else
	not_ok "a recording without samples is made" "$(wc -c <nosamples.data) bytes"
fi

done_testing
