#!/bin/sh
# make demo: profile the bundled toy service (tests/demo/shop.c) before and
# after a change that made its price lookup slower, with every pdtools
# program, and explain what came out.  Everything lands in OUT:
#   base.data new.data   pdrecord's recordings (new.data through a pipe)
#   shop                 the workload binary, which the recordings name
#   new.folded           pdcollapse's folded stacks
#   flame.svg diff.svg   pdflame: the profile, and pddiff's differential stream
#   top.txt diff.txt     pdtop's top 5, pddiff's table and its gate verdict
#   summary.json         pdjson's summary
#
#   tests/demo/demo.sh BUILD_DIR [OUT]      (OUT: BUILD_DIR/demo)
#
# SECONDS of each recording: $PD_DEMO_SECONDS (default 2).
set -eu
bin=$(cd "${1:?usage: demo.sh BUILD_DIR [OUT]}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$bin/demo}
secs=${PD_DEMO_SECONDS:-2}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$out"
PATH=$bin:$PATH
export LC_ALL=C

fail() {
	echo "demo: $*" >&2
	exit 2
}

${CC:-cc} -O2 -g -fno-omit-frame-pointer -o shop "$src/tests/demo/shop.c" ||
	fail "cannot build tests/demo/shop.c"

cat <<EOF
pdtools demo: a toy order service (tests/demo/shop.c) before and after a
change that made its price lookup probe 32 slots instead of 2.  Output in
$out/

1. pdrecord -F 999 -g -o base.data -- ./shop base $secs
   samples the old version at 999 Hz with call chains, into a perf.data file
   that perf report reads too.
EOF
pdrecord -q -F 999 -g -o base.data -- ./shop base "$secs" 2>rec.err ||
	fail "pdrecord failed: $(tail -n 1 rec.err) (is perf_event_open allowed? see perf_event_paranoid)"

cat <<EOF

2. pdrecord -F 999 -g -- ./shop new $secs | tee new.data | pdcollapse > new.folded
   the new version, streamed in perf's pipe format and folded on the fly:
   one line per distinct stack, "comm;root;...;leaf samples".
EOF
# No pipefail in sh: the recorder's status is checked through its stderr.
pdrecord -v -F 999 -g -- ./shop new "$secs" 2>rec.err | tee new.data | pdcollapse >new.folded ||
	fail "pdcollapse failed"
grep -q ' samples, ' rec.err || fail "pdrecord failed: $(tail -n 1 rec.err)"
echo "   $(grep -c . new.folded) distinct stacks, the heaviest:"
awk '{ n = $NF; sub(/ [0-9]+$/, ""); printf "%d\t%s\n", n, $0 }' new.folded |
	sort -t "$(printf '\t')" -k1,1nr -k2,2 | head -n 3 | awk -F '\t' '{ printf "     %6d  %s\n", $1, $2 }'

cat <<EOF

3. pdflame --title ... new.folded > flame.svg
   an interactive flame graph: click to zoom, Ctrl-F to search.
EOF
pdflame --title "make demo: shop new" --colors=kind new.folded >flame.svg || fail "pdflame failed"

cat <<EOF

4. pdtop -n 5 --no-children new.data
   the five functions that spend the most time themselves, as perf report
   --stdio --no-children counts them:
EOF
pdtop -n 5 --no-children new.data >top.txt || fail "pdtop failed"
grep '%' top.txt | sed 's/^/   /'

cat <<EOF

5. pddiff --format table base.data new.data
   pddiff base.data new.data | pdflame > diff.svg
   what changed: symbols whose share grew significantly fail the gate (exit 1
   in CI); the differential flame graph is red where time grew, blue where
   it shrank.
EOF
rc=0
pddiff --format table base.data new.data >diff.txt 2>diff.err || rc=$?
case $rc in
0) echo "   gate: passed (exit 0): no significant regression this time" ;;
1) echo "   gate: failed (exit 1): $(cut -c1-100 diff.err | head -n 1)" ;;
*) fail "pddiff failed: $(tail -n 1 diff.err)" ;;
esac
pddiff base.data new.data 2>/dev/null | pdflame --title "make demo: shop base -> new" >diff.svg ||
	fail "pddiff | pdflame failed"

cat <<EOF

6. pdjson -f summary -n 5 new.data > summary.json
   the same numbers for machines: events, sample counts, lost samples,
   derived metrics where the hardware counts them, top tables.
EOF
pdjson -f summary -n 5 new.data >summary.json || fail "pdjson failed"
sed -n 's/.*"events":\(\[[^]]*\]\).*/   events: \1/p' summary.json | head -n 1

rm -f rec.err diff.err
cat <<EOF

Open $out/flame.svg and $out/diff.svg in a browser.
EOF
