#!/bin/sh
# pdtop against the real perf: recordings made here and now (C with frame
# pointers, C++, C and C++ through the PLT and python3 with libc's debug
# file when libc6-dbg is installed, threads with recursion, fork/exec, two
# events, pipe mode, and --call-graph dwarf recordings of C, C++ and Rust,
# whose children include perf's "func (inlined)" rows), and for each of
# them pdtop's top-10 rows and percentages must equal those of perf report
# --stdio on the same file, within 0.01 points, for
# --no-children and --children by symbol, and by dso and by comm.  perf is
# the reference: its output is parsed here, never hard-coded.  Also: the tsv
# and json layouts (read back by parsers), byte-identical output across runs
# and locales, folded input, --health, usage and bad input.
. "$PD_SRC/tests/cli/lib.sh"

can_record || skip_all "perf record is not permitted here (perf_event_paranoid or no perf)"
B=$(burn) || skip_all "cannot build the workload"
cd "$TMP" || exit 2
CC=${CC:-cc}
CXX=${CXX:-c++}

# Workloads: threads with a recursive function, and a process that forks
# children which exec the burn workload.
cat >threads.c <<'SRC'
#include <pthread.h>
#include <stdlib.h>
static volatile unsigned long sink;
__attribute__((noinline)) void spin(long n) { for (long i = 0; i < n; i++) sink += i; }
__attribute__((noinline)) long rec(int d, long n)
{
	spin(n);
	if (d > 0)
		sink += rec(d - 1, n);
	return (long)sink;
}
__attribute__((noinline)) void *alpha(void *a) { (void)a; for (int i = 0; i < 40; i++) rec(4, 60000); return NULL; }
__attribute__((noinline)) void *beta(void *a) { (void)a; for (int i = 0; i < 40; i++) spin(150000); return NULL; }
int main(void)
{
	pthread_t t[3];
	pthread_create(&t[0], NULL, alpha, NULL);
	pthread_create(&t[1], NULL, beta, NULL);
	pthread_create(&t[2], NULL, alpha, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	return 0;
}
SRC
cat >forker.c <<'SRC'
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static volatile unsigned long sink;
__attribute__((noinline)) void spin(long n) { for (long i = 0; i < n; i++) sink += i; }
int main(int argc, char **argv)
{
	for (int k = 0; argc > 1 && k < 3; k++) {
		pid_t p = fork();
		if (p == 0) {
			if (k == 2) {
				spin(30000000);
				_exit(0);
			}
			execl(argv[1], argv[1], "300000", (char *)0);
			_exit(127);
		}
	}
	spin(60000000);
	while (wait(NULL) > 0)
		;
	return 0;
}
SRC
$CC -O2 -g -fno-omit-frame-pointer -pthread -o threads threads.c || skip_all "cannot build the threads workload"
$CC -O2 -g -fno-omit-frame-pointer -o forker forker.c || skip_all "cannot build the fork workload"
have_cxx=0
$CXX -O2 -g -fno-omit-frame-pointer -o cxx "$PD_SRC/tests/data/cxx.cc" 2>/dev/null && have_cxx=1

rec() { out=$1; shift; perf record -q -o "$out" "$@" >/dev/null 2>&1 && [ -s "$out" ]; }

# perf_rows FILE [perf report options]: perf report's tables as
# "event<TAB>key|key...<TAB>first%<TAB>self%" lines, in perf's order.
# Columns are cut where the dotted line under the header puts them.
perf_rows() {
	_f=$1
	shift
	perf report --stdio -g none -i "$_f" "$@" 2>/dev/null | awk '
	/^# Samples: / { ev = $0; sub(/^[^'\'']*'\''/, "", ev); sub(/'\''[^'\'']*$/, "", ev); cols = 0 }
	/^# \.+/ && ev != "" {
		hdr = prev
		n = 0; line = $0
		for (i = 1; i <= length(line); i++) {
			c = substr(line, i, 1)
			if (c == "." && (i == 1 || substr(line, i - 1, 1) != ".")) { n++; st[n] = i }
		}
		for (k = 1; k <= n; k++) {
			e = (k < n) ? st[k + 1] - st[k] : 1000
			name[k] = substr(hdr, st[k], e); sub(/ +$/, "", name[k]); sub(/^ +/, "", name[k])
		}
		cols = n; prev = $0; next
	}
	{ prev = $0 }
	/^ +[0-9]+\.[0-9]+%/ && cols {
		keys = ""; first = ""; self = ""
		for (k = 1; k <= cols; k++) {
			e = (k < cols) ? st[k + 1] - st[k] : 1000
			v = substr($0, st[k], e); sub(/ +$/, "", v); sub(/^ +/, "", v)
			if (name[k] == "IPC" || name[k] ~ /IPC Coverage/) continue
			if (name[k] == "Children" || name[k] == "Overhead") { first = v; sub(/%/, "", first); continue }
			if (name[k] == "Self") { self = v; sub(/%/, "", self); continue }
			if (name[k] == "Pid:Command") sub(/:.*/, "", v)
			keys = keys (keys == "" ? "" : "|") v
		}
		if (self == "") self = first
		printf "%s\t%s\t%s\t%s\n", ev, keys, first, self
	}'
}

# our_rows: the same lines from pdtop's tsv output on stdin.
our_rows() {
	awk -F '\t' '
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{
		keys = ""; ev = $(col["event"])
		for (i = 4; i <= NF; i++) {
			if (i == col["self"] || i == col["self_samples"] || i == col["self_period"] || i == col["event"]) continue
			keys = keys (keys == "" ? "" : "|") $i
		}
		self = ("self" in col) ? $(col["self"]) : $1
		printf "%s\t%s\t%s\t%s\n", ev, keys, $1, self
	}'
}

# same(PERF_KEYS, OUR_KEYS): equal, but for perf cutting a row short.
# perf report --stdio sizes its line buffer by the longest symbol name and
# forgets the " (inlined)" it adds to some: of the longest such names it
# prints "name (" or "name (inl".  So a perf key that is one of ours with
# part of a final " (inlined)" missing is the same.
same_keys='function same(k, o) { return k == o || (o ~ / \(inlined\)$/ && length(k) >= length(o) - 10 && substr(o, 1, length(k)) == k) }'

# agree_top10 REF OURS: for every event, each of perf'"'"'s top-10 rows is a row of
# ours with the same keys and both percentages within 0.01, and the top-10
# first-column percentages are the same sequence (ties compare as sets).
agree_top10() {
	awk -F '\t' '
	FNR == 1 { f++ }
	f == 1 { nr[$1]++; if (nr[$1] <= 10) { r[$1, nr[$1]] = $0 }; evs[$1] = 1; next }
	{ no[$1]++; o[$1, no[$1]] = $0; used[$1, no[$1]] = 0 }
	function d(a, b) { return a > b ? a - b : b - a }
	'"$same_keys"'

	END {
		bad = 0
		for (ev in evs) {
			if (!(ev in no)) { print "no table for event " ev; bad++; continue }
			for (i = 1; i <= 10 && i <= nr[ev]; i++) {
				split(r[ev, i], a, "\t"); found = 0
				for (j = 1; j <= no[ev]; j++) {
					if (used[ev, j]) continue
					split(o[ev, j], b, "\t")
					if (same(a[2], b[2]) && d(a[3], b[3]) <= 0.0100001 && d(a[4], b[4]) <= 0.0100001) { used[ev, j] = 1; found = 1; break }
				}
				if (!found) { print "perf row not in pdtop: " r[ev, i]; bad++ }
				if (i <= no[ev]) { split(o[ev, i], b, "\t"); if (d(a[3], b[3]) > 0.0100001) { print "rank " i ": perf " a[3] "% pdtop " b[3] "%"; bad++ } }
				else { print "pdtop has fewer rows than perf for " ev; bad++ }
			}
		}
		exit bad > 0
	}' "$1" "$2" >"$TMP/agree.log"
}

# compare FILE NAME PDTOP_OPTS -- PERF_OPTS
compare() {
	_f=$1
	_name=$2
	shift 2
	_ours=
	while [ "$1" != -- ]; do _ours="$_ours $1"; shift; done
	shift
	perf_rows "$_f" "$@" >"$TMP/ref.rows"
	# shellcheck disable=SC2086
	run_tool "$TMP/ours.tsv" "$TMP/ours.err" pdtop --format=tsv $_ours "$_f"
	our_rows <"$TMP/ours.tsv" >"$TMP/ours.rows"
	if [ ! -s "$TMP/ref.rows" ]; then
		not_ok "$_name: perf report printed no rows" "$(head -c 300 "$TMP/ours.err")"
	elif [ "$rc" -ne 0 ]; then
		not_ok "$_name: pdtop exit $rc" "$(head -c 300 "$TMP/ours.err")"
	elif agree_top10 "$TMP/ref.rows" "$TMP/ours.rows"; then
		ok "$_name: top-10 equal perf report's ($(wc -l <"$TMP/ref.rows") rows)"
	else
		not_ok "$_name: top-10 differ from perf report's" "$(head -n 8 "$TMP/agree.log" | tr '\n' '|')" \
		    "perf: $(head -n 5 "$TMP/ref.rows" | tr '\t\n' ' |')" "pdtop: $(head -n 5 "$TMP/ours.rows" | tr '\t\n' ' |')"
	fi
}

# json_events: "event<TAB>samples<TAB>period" of each table of pdtop's json on stdin.
json_events() {
	python3 -c '
import json, sys
for e in json.load(sys.stdin)["events"]:
    print("%s\t%s\t%s" % (e["event"], e["samples"], e["period"]))'
}

# The totals: perf's "Event count" equals pdtop's period per event.
totals() {
	perf report --stdio -g none -i "$1" 2>/dev/null |
		awk '/^# Samples: / { ev = $0; sub(/^[^'\'']*'\''/, "", ev); sub(/'\''.*/, "", ev) }
		     /^# Event count/ { print ev, $NF }' | sort >"$TMP/ref.tot"
	pdtop --format=json "$1" 2>/dev/null | json_events | awk -F '\t' '{ print $1, $3 }' | sort >"$TMP/our.tot"
	if [ -s "$TMP/ref.tot" ] && cmp -s "$TMP/ref.tot" "$TMP/our.tot"; then
		ok "$2: event counts equal perf report's ($(tr '\n' ' ' <"$TMP/ref.tot"))"
	else
		not_ok "$2: event counts" "perf: $(tr '\n' ' ' <"$TMP/ref.tot")" "pdtop: $(tr '\n' ' ' <"$TMP/our.tot")"
	fi
}

modes() {
	_f=$1
	_n=$2
	compare "$_f" "$_n: --no-children --sort=symbol" --no-children --sort=symbol -- --no-children --sort=symbol
	compare "$_f" "$_n: --children --sort=symbol" --children --sort=symbol -- --children --sort=symbol
	compare "$_f" "$_n: --sort=dso" --sort=dso -- --sort=dso
	compare "$_f" "$_n: --sort=comm" --sort=comm -- --sort=comm
	compare "$_f" "$_n: default keys (comm,dso,symbol)" -- 
	totals "$_f" "$_n"
}

if rec fp.data -e cpu-clock -g "$B" 2000000; then modes fp.data "C, frame pointers"; else skip "perf cannot record -g here"; fi
if [ "$have_cxx" = 1 ] && rec cxx.data -e cpu-clock -g ./cxx 3000000; then
	modes cxx.data "C++"
	run_tool "$TMP/cxx.out" "$TMP/e" pdtop --no-children --sort=symbol cxx.data
	if grep -q 'shapes::' "$TMP/cxx.out"; then ok "C++: names are demangled"; else not_ok "C++: no demangled names" "$(head -n 15 "$TMP/cxx.out" | tr '\n' '|')"; fi
else
	skip "C++: no C++ compiler or perf cannot record it"
fi
# PLT-heavy code, with libc's debug file when libc6-dbg is installed (its
# aliases and versioned names): C calling libc through a lazy .plt and
# .plt.got, C++ std::string through .plt.sec and libstdc++'s PLT, python3.
if $CC -O2 -g -fno-omit-frame-pointer -Wl,-z,lazy -o names "$PD_SRC/tests/data/names.c" &&
    rec names.data -e cpu-clock -g ./names 4000000; then
	compare names.data "C through the PLT: --no-children --sort=symbol" --no-children --sort=symbol -- --no-children --sort=symbol
	compare names.data "C through the PLT: --children --sort=symbol" --children --sort=symbol -- --children --sort=symbol
else
	skip "C through the PLT: cannot build or record it"
fi
if $CXX -O2 -g -fno-omit-frame-pointer -fcf-protection -Wl,-z,ibtplt -o strs "$PD_SRC/tests/data/strs.cc" 2>/dev/null &&
    rec strs.data -e cpu-clock -g ./strs 4000000; then
	compare strs.data "C++ std::string: --no-children --sort=symbol" --no-children --sort=symbol -- --no-children --sort=symbol
	compare strs.data "C++ std::string: --children --sort=symbol" --children --sort=symbol -- --children --sort=symbol
else
	skip "C++ std::string: no C++ compiler with -fcf-protection, or perf cannot record it"
fi
if [ -x /usr/bin/python3 ] && rec py.data -e cpu-clock -g /usr/bin/python3 -c '
d = {}
for i in range(600000):
    s = "k%d" % (i % 1000)
    d[s] = d.get(s, 0) + len(s.upper())
'; then
	compare py.data "python3: --no-children --sort=symbol" --no-children --sort=symbol -- --no-children --sort=symbol
	compare py.data "python3: --children --sort=symbol" --children --sort=symbol -- --children --sort=symbol
else
	skip "python3: no /usr/bin/python3 or perf cannot record it"
fi
if rec threads.data -e cpu-clock -g ./threads; then
	modes threads.data "threads"
	compare threads.data "threads: --sort=pid,tid vs perf's pid (thread) key" --sort=tid -- --sort=pid
	# Recursion: rec() is on the stack several times per sample; children
	# count it once, so it can never exceed 100%, and it equals perf's.
	run_tool "$TMP/rec.tsv" "$TMP/e" pdtop --format=tsv --children --sort=symbol threads.data
	r=$(awk -F '\t' '$4 == "[.] rec" { print $1 }' "$TMP/rec.tsv")
	if [ -n "$r" ] && awk -v r="$r" 'BEGIN { exit !(r > 0 && r <= 100) }'; then
		ok "threads: the recursive rec() counts once per sample ($r%)"
	else
		not_ok "threads: recursive rec() children '$r'"
	fi
	compare threads.data "threads: --comm filter, absolute" --comm=threads --sort=symbol -- --comms=threads --sort=symbol
	compare threads.data "threads: --symbol filter, relative" --symbol=spin --percentage=relative --sort=dso -- --symbols=spin --percentage=relative --sort=dso
	compare threads.data "threads: --dso filter, relative" --dso=threads --percentage=relative --no-children --sort=symbol -- --dsos=threads --percentage=relative --no-children --sort=symbol
else
	skip "threads: perf cannot record it"
fi
if rec fork.data -e cpu-clock -g ./forker "$B"; then
	modes fork.data "fork/exec"
	run_tool "$TMP/fc.tsv" "$TMP/e" pdtop --format=tsv --sort=comm fork.data
	if grep -q '	burn' "$TMP/fc.tsv" && grep -q '	forker' "$TMP/fc.tsv"; then
		ok "fork/exec: the exec'd child has its own comm"
	else
		not_ok "fork/exec: comms" "$(tr '\n' '|' <"$TMP/fc.tsv")"
	fi
else
	skip "fork/exec: perf cannot record it"
fi
if rec multi.data -e cpu-clock,task-clock -g ./threads; then
	modes multi.data "two events"
	run_tool "$TMP/one.tsv" "$TMP/e" pdtop --format=tsv --event=task-clock multi.data
	if [ "$(awk -F '\t' 'NR > 1 { print $NF }' "$TMP/one.tsv" | sort -u)" = task-clock ]; then
		ok "two events: --event picks one table"
	else
		not_ok "two events: --event" "$(awk -F '\t' '{ print $1, $NF }' "$TMP/one.tsv" | head -n 5 | tr '\n' '|')"
	fi
	run_tool "$TMP/two.tsv" "$TMP/e" pdtop --format=tsv --event=all multi.data
	if [ "$(awk -F '\t' 'NR > 1 { print $NF }' "$TMP/two.tsv" | sort -u | tr '\n' ' ')" = "cpu-clock task-clock " ] &&
	    [ "$(grep -c '^overhead' "$TMP/two.tsv")" -eq 1 ] && [ "$(head -c 9 "$TMP/two.tsv")" = "$(printf 'overhead\t')" ]; then
		ok "two events: one header row, then the rows of both, the event in the last column"
	else
		not_ok "two events: tsv" "$(awk -F '\t' '{ print $1, $NF }' "$TMP/two.tsv" | head -n 5 | tr '\n' '|')"
	fi
	expect_exit 2 "two events: --event with an unknown event exits 2" pdtop --event=bogus multi.data
	grep -q "no event 'bogus' (events: cpu-clock, task-clock)" "$TMP/err" && ok "two events: and names the events" ||
		not_ok "unknown event message" "$(cat "$TMP/err")"
else
	skip "two events: perf cannot record them"
fi
if perf record -q -e cpu-clock -g -o - "$B" 2000000 >pipe.data 2>/dev/null && [ -s pipe.data ]; then
	# perf 6.1 shows no children for pipe input (it decides before the
	# events arrive); pdtop's default follows it.
	compare pipe.data "pipe mode: default mode and keys, as perf" -- 
	compare pipe.data "pipe mode: --no-children --sort=symbol" --no-children --sort=symbol -- --no-children --sort=symbol
	compare pipe.data "pipe mode: --sort=dso" --sort=dso -- --sort=dso
	run_tool "$TMP/p1" "$TMP/e" pdtop pipe.data
	pdtop - <pipe.data >"$TMP/p2" 2>"$TMP/e2"; prc=$?
	cat pipe.data | pdtop >"$TMP/p3" 2>"$TMP/e3"; prc3=$?
	if [ "$prc" -eq 0 ] && [ "$prc3" -eq 0 ] && cmp -s "$TMP/p1" "$TMP/p2" && cmp -s "$TMP/p1" "$TMP/p3"; then
		ok "pipe mode: a file, '-' and a pipe on stdin give the same table"
	else
		not_ok "pipe mode: stdin" "rc $prc/$prc3 $(head -c 200 "$TMP/e3")"
	fi
else
	skip "pipe mode: perf cannot record to a pipe"
fi
if rec nog.data -e cpu-clock "$B" 2000000; then
	compare nog.data "no call chains: the default is self" -- 
	run_tool "$TMP/nog" "$TMP/e" pdtop nog.data
	grep -q '^# Overhead' "$TMP/nog" && ok "no call chains: one Overhead column, as perf" || not_ok "no call chains header" "$(grep '^# [A-Z]' "$TMP/nog")"
fi

# --- --call-graph dwarf: perf report's "(inlined)" rows. ----------------
# perf report expands each frame of a DWARF chain into the functions
# inlined at it, named from DWARF, and makes "func (inlined)" rows of the
# names that differ from the symbol table's (copy_churn (inlined) for
# copy_churn.constprop.0); it finds rows in a tree where such a row can miss
# an equal one.  The programs of names-dwarf.t in C, C++ (g++ only: perf's
# addr2line finds no inlined functions in clang's DWARF 5) and Rust.
# agree_all REF OURS: every row of perf's is one of ours (the same keys and
# percentages), and there are no more.
agree_all() {
	awk -F '\t' 'FNR == 1 { f++ }
	f == 1 { n++; r[n] = $0; next }
	{ m++; o[m] = $0 }
	function d(a, b) { return a > b ? a - b : b - a }
	'"$same_keys"'
	END {
		bad = 0
		for (i = 1; i <= n; i++) {
			split(r[i], a, "\t"); found = 0
			for (j = 1; j <= m && !found; j++) {
				if (used[j]) continue
				split(o[j], b, "\t")
				if (a[1] == b[1] && same(a[2], b[2]) && d(a[3], b[3]) <= 0.0100001 && d(a[4], b[4]) <= 0.0100001) { used[j] = 1; found = 1 }
			}
			if (!found) { print "perf row not in pdtop: " r[i]; bad++ }
		}
		if (m != n) { print "perf has " n " rows, pdtop " m; bad++ }
		exit bad > 0
	}' "$1" "$2" >"$TMP/agree.log"
}
dwarf_modes() {
	_f=$1
	_n=$2
	perf_rows "$_f" --children --sort=symbol >"$TMP/dw.rows"
	ninl=$(head -n 10 "$TMP/dw.rows" | grep -c ' (inlined)	')
	if [ "$ninl" -gt 0 ]; then
		ok "$_n: perf report's top-10 has $ninl (inlined) rows"
	else
		not_ok "$_n: no (inlined) row in perf report's top-10" "$(head -n 10 "$TMP/dw.rows" | cut -f 2 | tr '\n' '|')"
	fi
	compare "$_f" "$_n: --children --sort=symbol" --children --sort=symbol -- --children --sort=symbol
	run_tool "$TMP/dw.tsv" "$TMP/e" pdtop --format=tsv --children --sort=symbol "$_f"
	our_rows <"$TMP/dw.tsv" >"$TMP/dw.ours"
	if agree_all "$TMP/dw.rows" "$TMP/dw.ours"; then
		ok "$_n: --children --sort=symbol: all $(wc -l <"$TMP/dw.rows") rows equal perf report's, the (inlined) ones too"
	else
		not_ok "$_n: rows differ from perf report's" "$(head -n 6 "$TMP/agree.log" | cut -c1-300 | tr '\n' '|')"
	fi
	compare "$_f" "$_n: --no-children --sort=symbol" --no-children --sort=symbol -- --no-children --sort=symbol
	compare "$_f" "$_n: --children --sort=dso,symbol" --children --sort=dso,symbol -- --children --sort=dso,symbol
	compare "$_f" "$_n: default keys (comm,dso,symbol)" --
	compare "$_f" "$_n: --no-inline, as perf report --no-inline" --no-inline --children --sort=symbol -- \
	    --no-inline --children --sort=symbol
	# pdjson's summary: pdtop's tables, so perf report's rows.
	if run_tool "$TMP/dw.json" "$TMP/e" pdjson -f summary "$_f" && python3 -c '
import json, sys
for e in json.load(open(sys.argv[1]))["top"]["children"]["events"]:
    for r in e["rows"]:
        print("%s\t%s\t%.2f\t%.2f" % (e["event"], r["symbol"], r["overhead"], r["self"]))' "$TMP/dw.json" >"$TMP/dw.jrows" &&
	    agree_top10 "$TMP/dw.rows" "$TMP/dw.jrows"; then
		ok "$_n: pdjson -f summary: the children table equals perf report's top-10"
	else
		not_ok "$_n: pdjson summary children" "$(head -n 4 "$TMP/agree.log" | tr '\n' '|')" "$(head -n 3 "$TMP/dw.jrows" | tr '\t\n' ' |')"
	fi
}
dwarf_skip() { for _i in 1 2 3 4 5 6 7 8; do skip "$1"; done; }
if $CC -O2 -g -fomit-frame-pointer -o dwc "$PD_SRC/tests/data/dwnames.c" &&
    rec dw-c.data --call-graph dwarf ./dwc 4000; then
	dwarf_modes dw-c.data "C, --call-graph dwarf"
else
	dwarf_skip "C, --call-graph dwarf: cannot build dwnames.c or record it"
fi
if ! $CXX --version 2>/dev/null | grep -q 'Free Software'; then
	dwarf_skip "C++, --call-graph dwarf: $CXX is not g++ (perf's addr2line misses clang's inlined functions)"
elif $CXX -O2 -g -fomit-frame-pointer -o dwcxx "$PD_SRC/tests/data/dwnames.cc" &&
    rec dw-cxx.data --call-graph dwarf ./dwcxx 800; then
	dwarf_modes dw-cxx.data "C++, --call-graph dwarf"
else
	dwarf_skip "C++, --call-graph dwarf: cannot build dwnames.cc or record it"
fi
if command -v rustc >/dev/null && rustc -O -g -o dwrs "$PD_SRC/tests/data/dwnames.rs" 2>/dev/null &&
    rec dw-rs.data --call-graph dwarf ./dwrs 3000; then
	dwarf_modes dw-rs.data "Rust, --call-graph dwarf"
else
	dwarf_skip "Rust, --call-graph dwarf: no rustc, or perf cannot record it"
fi

[ -s fp.data ] || { done_testing; exit; }

# --- tsv and json: read back by parsers; totals add up. ---------------
run_tool "$TMP/self.tsv" "$TMP/e" pdtop --format=tsv --no-children --sort=symbol fp.data
tot=$(pdtop --format=json --no-children --sort=symbol fp.data 2>/dev/null | json_events)
if awk -F '\t' -v want="$(echo "$tot" | cut -f 2)" -v wantp="$(echo "$tot" | cut -f 3)" '
	!h { if ($1 != "overhead" || $2 != "samples" || $3 != "period" || $4 != "symbol" || $5 != "event" || NF != 5) exit 1; h = 1; next }
	{ if (NF != 5 || $2 !~ /^[0-9]+$/ || $3 !~ /^[0-9]+$/ || $1 !~ /^[0-9]+\.[0-9][0-9]$/) exit 1
	  if (($1 - 100 * $3 / wantp) > 0.0051 || (100 * $3 / wantp - $1) > 0.0051) exit 1
	  n += $2; sp += $3 }
	END { exit !(h && n == want && sp == wantp) }' "$TMP/self.tsv"; then
	ok "tsv: the header row first, raw integers, self samples and periods add up to the json totals"
else
	not_ok "tsv layout" "$(head -n 4 "$TMP/self.tsv" | tr '\t\n' '^|')"
fi
run_tool "$TMP/ch.tsv" "$TMP/e" pdtop --format=tsv --children --sort=comm,dso,symbol fp.data
if [ "$(sed -n 1p "$TMP/ch.tsv")" = "$(printf 'overhead\tsamples\tperiod\tcomm\tdso\tsymbol\tself\tself_samples\tself_period\tevent')" ]; then
	ok "tsv: children columns follow the keys, the event last"
else
	not_ok "tsv children header" "$(sed -n 1p "$TMP/ch.tsv")"
fi
if command -v python3 >/dev/null; then
	run_tool "$TMP/t.json" "$TMP/e" pdtop --format=json --children --sort=symbol,dso fp.data
	if python3 - "$TMP/t.json" "$TMP/ch.tsv" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "pd-top-v1" and d["mode"] == "children" and d["weight"] == "period"
assert d["sort"] == ["symbol", "dso"]
ev = d["events"][0]
assert ev["columns"] == ["overhead", "samples", "period", "symbol", "dso", "self", "self_samples", "self_period"]
tot = ev["period"]
assert sum(r["self_period"] for r in ev["rows"]) == tot
assert sum(r["self_samples"] for r in ev["rows"]) == ev["samples"]
for r in ev["rows"]:
    assert list(r.keys()) == ev["columns"]
    assert isinstance(r["samples"], int) and isinstance(r["period"], int)
    assert abs(r["overhead"] - 100.0 * r["period"] / tot) < 0.0051
    assert r["period"] >= r["self_period"]
rows = [r["overhead"] for r in ev["rows"]]
assert rows == sorted(rows, reverse=True)
PY
	then ok "json: parses, fixed columns, raw integers that add up, sorted"
	else not_ok "json layout" "$(head -c 300 "$TMP/t.json")"
	fi
else
	skip "json: python3 is not installed"
fi

# --- byte-identical across runs and locales. --------------------------
loc=C.UTF-8
if command -v localedef >/dev/null && mkdir -p "$TMP/loc" &&
    localedef -i de_DE -f UTF-8 "$TMP/loc/de_DE.UTF-8" >/dev/null 2>&1; then
	loc=de_DE.UTF-8
	export LOCPATH="$TMP/loc"
	[ "$(LC_ALL=de_DE.UTF-8 printf '%.2f' 1.5 2>/dev/null)" = "1,50" ] && diag "de_DE.UTF-8 prints 1,50"
fi
for fmt in text tsv json; do
	pdtop --format=$fmt --sort=dso,symbol fp.data >"$TMP/r1" 2>/dev/null
	pdtop --format=$fmt --sort=dso,symbol fp.data >"$TMP/r2" 2>/dev/null
	LC_ALL=$loc LANG=$loc pdtop --format=$fmt --sort=dso,symbol fp.data >"$TMP/r3" 2>/dev/null
	if [ -s "$TMP/r1" ] && cmp -s "$TMP/r1" "$TMP/r2" && cmp -s "$TMP/r1" "$TMP/r3"; then
		ok "$fmt: the same bytes on every run and in $loc"
	else
		not_ok "$fmt: output differs between runs or locales"
	fi
done
unset LOCPATH

# --- --weight, -n, --percent-limit. ------------------------------------
run_tool "$TMP/w.tsv" "$TMP/e" pdtop --format=tsv --weight=samples --no-children --sort=symbol fp.data
if awk -F '\t' -v n="$(echo "$tot" | cut -f 2)" '/^overhead/ { next }
	{ if (($1 - 100 * $2 / n) > 0.0051 || (100 * $2 / n - $1) > 0.0051) exit 1 } END { exit !n }' "$TMP/w.tsv"; then
	ok "--weight=samples: percentages of sample counts"
else
	not_ok "--weight=samples" "$(head -n 3 "$TMP/w.tsv" | tr '\n' '|')"
fi
run_tool "$TMP/n.tsv" "$TMP/e" pdtop --format=tsv -n 3 --sort=symbol fp.data
[ "$(grep -vc '^#\|^overhead' "$TMP/n.tsv")" -eq 3 ] && ok "-n 3 prints three rows" || not_ok "-n 3" "$(cat "$TMP/n.tsv")"
run_tool "$TMP/pl.tsv" "$TMP/e" pdtop --format=tsv --percent-limit 5 --sort=symbol fp.data
if awk -F '\t' '/^#|^overhead/ { next } { n++; if ($1 < 5) exit 1 } END { exit !n }' "$TMP/pl.tsv"; then
	ok "--percent-limit 5 hides rows under 5%"
else
	not_ok "--percent-limit" "$(cat "$TMP/pl.tsv" | tr '\n' '|')"
fi

# --- folded input: detected by content; symbol and comm keys. ---------
run_tool "$TMP/f.folded" "$TMP/e" pdcollapse --weight=samples fp.data
run_tool "$TMP/fs.tsv" "$TMP/e" pdtop --format=tsv --no-children --sort=symbol "$TMP/f.folded"
run_tool "$TMP/fs.json" "$TMP/e" pdtop --format=json --no-children --sort=symbol "$TMP/f.folded"
if [ "$rc" -eq 0 ] && grep -q '"input":"folded"' "$TMP/fs.json"; then ok "folded: recognised by content"; else not_ok "folded input" "rc $rc $(cat "$TMP/e")"; fi
# Self of each leaf and children of each frame, from the folded text itself.
awk '!/^#/ { n = $NF; s = $0; sub(/ [0-9]+$/, "", s); k = split(s, f, ";"); leaf = f[k]; sub(/_\[[kji]\]$/, "", leaf); self[leaf] += n; tot += n
	delete seen; for (i = 2; i <= k; i++) { x = f[i]; sub(/_\[[kji]\]$/, "", x); if (!(x in seen)) { seen[x] = 1; ch[x] += n } } }
	END { for (x in self) printf "S %s %d\n", x, self[x]; for (x in ch) printf "C %s %d\n", x, ch[x] }' "$TMP/f.folded" | sort >"$TMP/f.want"
pdtop --format=tsv --no-children --sort=symbol "$TMP/f.folded" 2>/dev/null |
	awk -F '\t' '/^#|^overhead/ { next } { s = $4; sub(/^\[.\] /, "", s); printf "S %s %d\n", s, $2 }' >"$TMP/f.got"
pdtop --format=tsv --children --sort=symbol "$TMP/f.folded" 2>/dev/null |
	awk -F '\t' '/^#|^overhead/ { next } { s = $4; sub(/^\[.\] /, "", s); printf "C %s %d\n", s, $2 }' >>"$TMP/f.got"
sort -o "$TMP/f.got" "$TMP/f.got"
if [ -s "$TMP/f.want" ] && cmp -s "$TMP/f.want" "$TMP/f.got"; then
	ok "folded: self of every leaf and children of every frame, each once per stack"
else
	not_ok "folded: counts" "$(diff "$TMP/f.want" "$TMP/f.got" | head -n 6 | tr '\n' '|')"
fi
pdtop --format=tsv --no-children --sort=symbol - <"$TMP/f.folded" >"$TMP/fs2.tsv" 2>/dev/null
cat "$TMP/f.folded" | pdtop --format=tsv --no-children --sort=symbol >"$TMP/fs3.tsv" 2>/dev/null
if cmp -s "$TMP/fs.tsv" "$TMP/fs2.tsv" && cmp -s "$TMP/fs.tsv" "$TMP/fs3.tsv"; then
	ok "folded: the same from standard input and a pipe"
else
	not_ok "folded from stdin" "$(diff "$TMP/fs.tsv" "$TMP/fs3.tsv" | head -n 4 | tr '\n' '|')"
fi
run_tool "$TMP/fc.tsv" "$TMP/e" pdtop --format=tsv --sort=comm "$TMP/f.folded"
[ "$rc" -eq 0 ] && grep -q '	burn' "$TMP/fc.tsv" && ok "folded: --sort=comm" || not_ok "folded --sort=comm" "$(cat "$TMP/e")"
expect_exit 2 "folded: --sort=dso exits 2" pdtop --sort=dso "$TMP/f.folded"
grep -q "folded stacks have no dso" "$TMP/err" && ok "folded: and says why" || not_ok "folded dso message" "$(cat "$TMP/err")"
printf 'burn;main;leaf 10\nburn;main notanumber\n' >"$TMP/bad.folded"
expect_exit 2 "folded: a bad line exits 2" pdtop "$TMP/bad.folded"
if grep -q "'$TMP/bad.folded': line 2: bad count" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then
	ok "folded: one line naming the file and the line"
else
	not_ok "folded bad line message" "$(cat "$TMP/err")"
fi

# --- --health. ---------------------------------------------------------
run_tool "$TMP/h" "$TMP/e" pdtop --health fp.data
if [ "$rc" -eq 0 ] && grep -q '^unresolved: ' "$TMP/h" && grep -q '^lost: ' "$TMP/h" &&
    grep -q '^events: .*cpu-clock' "$TMP/h" && grep -q '^threads: ' "$TMP/h" && grep -q '^verdict: ' "$TMP/h"; then
	ok "--health: unresolved, lost, events, threads, verdict"
else
	not_ok "--health" "$(cat "$TMP/h" "$TMP/e" | tr '\n' '|')"
fi
if [ -s nog.data ]; then
	run_tool "$TMP/h2" "$TMP/e" pdtop --health nog.data
	grep -q '^verdict: a flame graph from this profile would mislead: no call chains' "$TMP/h2" &&
		ok "--health: no call chains: the verdict says a flame graph would mislead" ||
		not_ok "--health without call chains" "$(grep verdict "$TMP/h2")"
fi
# Built differently from $B, so that no build-id cache entry of $B has its symbols.
$CC -O1 -fno-omit-frame-pointer -o burn-stripped "$PD_SRC/tests/data/burn.c" && strip burn-stripped
if rec strip.data --no-buildid-cache -e cpu-clock -g ./burn-stripped 2000000; then
	run_tool "$TMP/h3" "$TMP/e" pdtop --health strip.data
	grep -q '^verdict: .*mislead: .*without a symbol' "$TMP/h3" &&
		ok "--health: a stripped binary: the verdict names the unresolved samples" ||
		not_ok "--health stripped" "$(cat "$TMP/h3" | tr '\n' '|')"
	compare strip.data "stripped: --children --sort=symbol (unresolved frames)" --children --sort=symbol -- --children --sort=symbol
	compare strip.data "stripped: --no-children --sort=symbol" --no-children --sort=symbol -- --no-children --sort=symbol
fi
threads_n=$(pdtop --health threads.data 2>/dev/null | awk '/^threads:/ { print $2 }')
[ "${threads_n:-0}" -ge 4 ] && ok "--health: samples per thread ($threads_n threads)" || not_ok "--health threads" "$threads_n"

# --- usage and bad input: exit 2, one line. -----------------------------
expect_exit 0 "--help exits 0" pdtop --help
grep -q '^usage: pdtop' "$TMP/out" && ok "--help prints the usage" || not_ok "--help"
while IFS="|" read -r args msg; do
	# shellcheck disable=SC2086
	expect_exit 2 "bad usage: $args" pdtop $args fp.data
	if grep -q -e "$msg" "$TMP/err" && grep -q '^usage: pdtop' "$TMP/err" && [ ! -s "$TMP/out" ]; then
		ok "bad usage: $args: says '$msg'"
	else
		not_ok "bad usage: $args: message" "$(cat "$TMP/err")"
	fi
done <<'ROWS'
--sort=bogus|unknown key 'bogus'
--sort=symbol,symbol|given twice
--weight=x|--weight takes period or samples
--percentage=x|--percentage takes relative or absolute
--format=xml|--format takes text, tsv or json
-n 0|-n takes a positive number
--percent-limit=abc|--percent-limit takes a number
--pid=abc|'abc' is not a pid
--bogus|unknown option '--bogus'
ROWS
expect_exit 2 "missing file: exit 2" pdtop "$TMP/nonexistent.data"
grep -q "cannot open '.*nonexistent.data'" "$TMP/err" && ok "missing file: says cannot open" || not_ok "missing file message" "$(cat "$TMP/err")"
# The malformed corpus: pdtop reads perf.data through the same library, so
# it must give pdcollapse's exit status and message for every file.
bad=0
while read -r name want msg; do
	case $name in '#'*|'') continue ;; esac
	f=$PD_SRC/tests/data/bad/$name.data
	[ -f "$f" ] || continue
	run_tool "$TMP/out" "$TMP/err" pdtop "$f"
	if [ "$rc" -ne "$want" ]; then
		bad=$((bad + 1)); diag "$name: exit $rc, want $want: $(head -c 200 "$TMP/err")"
	elif [ "$msg" != - ] && ! grep -qF -- "$msg" "$TMP/err"; then
		bad=$((bad + 1)); diag "$name: no '$msg' in: $(head -c 200 "$TMP/err")"
	elif [ "$want" -eq 2 ] && { [ "$(wc -l <"$TMP/err")" -ne 1 ] || ! grep -q "^pdtop: '$f'" "$TMP/err"; }; then
		bad=$((bad + 1)); diag "$name: not one line naming the file: $(head -c 200 "$TMP/err")"
	fi
done <"$PD_SRC/tests/data/bad/EXPECT"
[ "$bad" -eq 0 ] && ok "malformed corpus: every file gives its exit status and a one-line message with the offset" ||
	not_ok "malformed corpus: $bad files differ"
printf '\001\002\000not perf data, but binary\n' >bin.data
expect_exit 2 "binary that is not perf.data: exit 2" pdtop bin.data
grep -q "bin.data': not a perf.data file (bad magic) at offset 0x0" "$TMP/err" && ok "binary: the reader's message" || not_ok "binary message" "$(cat "$TMP/err")"

# --- --inline and --lines: inlined functions as rows, from DWARF. -------
# The program of pdcollapse-inline.t (always_inline helpers), recorded with
# frame pointers; pdcollapse --inline is the reference for the names and the
# counts, since perf 6.1 expands inlined functions only in DWARF call chains.
cat >inl.c <<'SRC'
#include <stdlib.h>
static volatile unsigned long sink;
static inline __attribute__((always_inline)) unsigned long
inner_mix(unsigned long x)
{
	for (int k = 0; k < 64; k++)
		x = (x ^ (x >> 13)) * 0x9e3779b97f4a7c15ul + (unsigned long)k;
	return x;
}
static inline __attribute__((always_inline)) unsigned long
middle_step(unsigned long x)
{
	unsigned long y = inner_mix(x + 1);

	return y ^ (y >> 17);
}
__attribute__((noinline)) void store(unsigned long x) { sink = x; }
__attribute__((noinline)) unsigned long
leaf_work(unsigned long x)
{
	for (int k = 0; k < 64; k++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	store(x);
	return x;
}
static inline __attribute__((always_inline)) unsigned long
via_inline(unsigned long x)
{
	return leaf_work(x ^ 0x55);
}
__attribute__((noinline)) unsigned long
hot_loop(unsigned long n)
{
	unsigned long acc = 0;

	for (unsigned long i = 0; i < n; i++) {
		acc += middle_step(acc + i);
		acc ^= via_inline(acc);
	}
	return acc;
}
int main(int argc, char **argv)
{
	sink = hot_loop(argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000);
	return 0;
}
SRC
INL_FUNCS='hot_loop middle_step inner_mix via_inline leaf_work store main'
# skip_n N REASON: N tests skipped.
skip_n() {
	_k=$1
	while [ "$_k" -gt 0 ]; do skip "$2"; _k=$((_k - 1)); done
}
# self_of FOLDED: "name count" for the leaf of every stack (suffixes _[k] and
# the like dropped), summed; children_of FOLDED: for every frame name, the
# count of the stacks it is on, once per stack.
self_of() {
	awk '!/^#/ { n = $NF; s = $0; sub(/ [0-9]+$/, "", s); k = split(s, f, ";"); x = f[k]; sub(/_\[[kji]\]$/, "", x); c[x] += n }
	    END { for (x in c) print x "\t" c[x] }' "$1" | LC_ALL=C sort
}
children_of() {
	awk '!/^#/ { n = $NF; s = $0; sub(/ [0-9]+$/, "", s); k = split(s, f, ";"); delete seen
		for (i = 2; i <= k; i++) { x = f[i]; sub(/_\[[kji]\]$/, "", x); if (!(x in seen)) { seen[x] = 1; c[x] += n } } }
	    END { for (x in c) print x "\t" c[x] }' "$1" | LC_ALL=C sort
}
# rows_of TSV: "name samples" of pdtop's symbol rows, "[.] " dropped.
rows_of() {
	awk -F '\t' '/^#|^overhead/ { next } { s = $4; sub(/^\[.\] /, "", s); print s "\t" $2 }' "$1" | LC_ALL=C sort
}
# only_funcs: the lines of the program's functions (with or without " (file:line)").
only_funcs() {
	awk -F '\t' -v fs="$INL_FUNCS" 'BEGIN { n = split(fs, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
	    { x = $1; sub(/ \(.*\)$/, "", x); if (x in want) print }'
}
if $CC -O2 -g -fno-omit-frame-pointer -o inl inl.c && rec inl.data -e cpu-clock -g ./inl 2000000; then
	run_tool "$TMP/inl.plain" "$TMP/e" pdtop --no-children -s symbol inl.data
	if ! grep -Eq 'inner_mix|middle_step' "$TMP/inl.plain"; then
		ok "--inline: without it, no inlined functions"
	else
		not_ok "inlined functions without --inline" "$(grep -E 'inner_mix|middle_step' "$TMP/inl.plain" | tr '\n' '|')"
	fi
	run_tool "$TMP/inl.folded" "$TMP/e" pdcollapse --inline --weight=samples inl.data
	run_tool "$TMP/inl.self" "$TMP/e" pdtop --inline --no-children -s symbol --format=tsv --weight=samples inl.data
	self_of "$TMP/inl.folded" | only_funcs >"$TMP/inl.want"
	rows_of "$TMP/inl.self" | only_funcs >"$TMP/inl.got"
	if [ "$rc" -eq 0 ] && grep -q '^inner_mix	[1-9]' "$TMP/inl.got" && cmp -s "$TMP/inl.want" "$TMP/inl.got"; then
		ok "--inline --no-children: the innermost inlined function is self, with pdcollapse --inline's leaf counts ($(grep '^inner_mix' "$TMP/inl.got" | tr '\t' ' '))"
	else
		not_ok "--inline self rows differ from pdcollapse --inline's leaves (rc $rc)" \
		    "$(diff "$TMP/inl.want" "$TMP/inl.got" | head -n 8 | tr '\t\n' ' |')"
	fi
	run_tool "$TMP/inl.ch" "$TMP/e" pdtop --inline --children -s symbol --format=tsv --weight=samples inl.data
	children_of "$TMP/inl.folded" | only_funcs >"$TMP/inl.want"
	rows_of "$TMP/inl.ch" | only_funcs >"$TMP/inl.got"
	if [ "$rc" -eq 0 ] && grep -q '^middle_step	[1-9]' "$TMP/inl.got" && grep -q '^via_inline	[1-9]' "$TMP/inl.got" &&
	    cmp -s "$TMP/inl.want" "$TMP/inl.got"; then
		ok "--inline --children: inlined callers are rows, each counted once per stack it is on"
	else
		not_ok "--inline children rows differ from pdcollapse --inline's stacks (rc $rc)" \
		    "$(diff "$TMP/inl.want" "$TMP/inl.got" | head -n 8 | tr '\t\n' ' |')"
	fi
	run_tool "$TMP/inl.lf" "$TMP/e" pdcollapse --inline --lines --weight=samples inl.data
	run_tool "$TMP/inl.ls" "$TMP/e" pdtop --inline --lines --no-children -s symbol --format=tsv --weight=samples inl.data
	self_of "$TMP/inl.lf" | only_funcs >"$TMP/inl.want"
	rows_of "$TMP/inl.ls" | only_funcs >"$TMP/inl.got"
	if [ "$rc" -eq 0 ] && grep -Eq '^inner_mix \(/[^)]*/inl\.c:[0-9]+\)	' "$TMP/inl.got" && cmp -s "$TMP/inl.want" "$TMP/inl.got"; then
		ok "--inline --lines: rows are named func (file:line) as pdcollapse's leaves, with their counts"
	else
		not_ok "--inline --lines rows differ from pdcollapse's leaves (rc $rc)" \
		    "$(diff "$TMP/inl.want" "$TMP/inl.got" | head -n 8 | tr '\t\n' ' |')"
	fi
	# --lines alone: the function of the symbol table with the line of the
	# address, which is perf report's symbol,srcline pair (as a basename).
	run_tool "$TMP/inl.l1" "$TMP/e" pdtop --lines --no-children -s symbol --format=tsv inl.data
	perf report --stdio -g none --no-children -s symbol,srcline -i inl.data 2>/dev/null |
		awk '/^ +[0-9.]+%/ && $2 == "[.]" { p = $1; sub(/%/, "", p); print $3 " (" $4 ")\t" p }' | only_funcs | LC_ALL=C sort >"$TMP/inl.want"
	awk -F '\t' '/^#|^overhead/ { next } { s = $4; sub(/^\[.\] /, "", s); sub(/\(\/.*\//, "(", s); print s "\t" $1 }' "$TMP/inl.l1" |
		only_funcs | LC_ALL=C sort >"$TMP/inl.got"
	if [ -s "$TMP/inl.want" ] && awk -F '\t' 'FNR == 1 { f++ } f == 1 { w[$1] = $2; next } { g[$1] = $2 }
	    END { for (x in w) { if (!(x in g) || w[x] - g[x] > 0.0100001 || g[x] - w[x] > 0.0100001) exit 1 } }' "$TMP/inl.want" "$TMP/inl.got"; then
		ok "--lines: func (file:line) rows have perf report -s symbol,srcline's percentages"
	else
		not_ok "--lines against perf's symbol,srcline" "perf: $(head -n 4 "$TMP/inl.want" | tr '\t\n' ' |')" \
		    "pdtop: $(head -n 4 "$TMP/inl.got" | tr '\t\n' ' |')"
	fi
	# perf 6.1 expands inlined functions in DWARF call chains: there, the
	# children of "func (inlined)" rows must equal ours.
	if rec inld.data -e cpu-clock --call-graph dwarf ./inl 600000; then
		perf_rows inld.data --children --inline -s symbol | sed 's/ (inlined)	/	/' |
			awk -F '\t' '{ s = $2; sub(/^\[.\] /, "", s); print s "\t" $3 }' | only_funcs | LC_ALL=C sort >"$TMP/inl.want"
		run_tool "$TMP/inld.tsv" "$TMP/e" pdtop --inline --children -s symbol --format=tsv inld.data
		awk -F '\t' '/^#|^overhead/ { next } { s = $4; sub(/^\[.\] /, "", s); print s "\t" $1 }' "$TMP/inld.tsv" |
			only_funcs | LC_ALL=C sort >"$TMP/inl.got"
		if grep -q '^inner_mix	' "$TMP/inl.want" && awk -F '\t' 'FNR == 1 { f++ } f == 1 { w[$1] = $2; next } { g[$1] = $2 }
		    END { for (x in w) { if (!(x in g) || w[x] - g[x] > 0.0100001 || g[x] - w[x] > 0.0100001) exit 1 } }' \
		    "$TMP/inl.want" "$TMP/inl.got"; then
			ok "--inline --children, DWARF chains: children equal perf report --inline's (inlined) rows"
		else
			not_ok "--inline children against perf's (inlined) rows" "perf: $(tr '\t\n' ' |' <"$TMP/inl.want")" \
			    "pdtop: $(tr '\t\n' ' |' <"$TMP/inl.got")"
		fi
	else
		skip "perf cannot record --call-graph dwarf here"
	fi
	run_tool "$TMP/f.folded" "$TMP/e" pdcollapse fp.data
	expect_exit 2 "--inline with folded input exits 2" pdtop --inline "$TMP/f.folded"
	if grep -q "'.*f.folded': --inline and --lines read perf.data, not folded stacks" "$TMP/err"; then
		ok "--inline with folded input: says why"
	else
		not_ok "--inline folded message" "$(cat "$TMP/err")"
	fi
else
	skip_n 8 "cannot build or record the inline program"
fi

# --- --health of a DWARF recording: the unwinding shares. --------------
if $CC -O2 -g -fomit-frame-pointer -o nofp "$PD_SRC/tests/data/nofp.c" &&
    rec nofp.data -e cpu-clock --call-graph dwarf ./nofp 600; then
	run_tool "$TMP/hd" "$TMP/e" pdtop --health nofp.data
	if [ "$rc" -eq 0 ] && awk '
	    /^samples: / { all = $2 }
	    /^unwinding: / { n = $2; full = $0; sub(/.*: /, "", full); split(full, a, " ")
		f = a[1]; t = $0; sub(/.* unwound fully, /, "", t); split(t, b, " "); z = $0; sub(/.* truncated, /, "", z); split(z, c, " ")
		tr = b[1]; no = c[1]; seen = 1 }
	    END { exit !(seen && n > 0 && f + tr + no == n && n <= all) }' "$TMP/hd"; then
		ok "--health, DWARF: fully, truncated and not unwound add up ($(grep '^unwinding' "$TMP/hd" | cut -c14-))"
	else
		not_ok "--health, DWARF: unwinding line" "$(cat "$TMP/hd" "$TMP/e" | tr '\n' '|')"
	fi
	if ! grep -q '^unwinding: ' "$TMP/h"; then
		ok "--health: no unwinding line without DWARF call chains"
	else
		not_ok "--health: an unwinding line for frame pointers" "$(grep '^unwinding' "$TMP/h")"
	fi
	# A stack copy of 64 bytes cuts nearly every unwind short.
	if rec nofp64.data -e cpu-clock --call-graph dwarf,64 ./nofp 300; then
		run_tool "$TMP/hd64" "$TMP/e" pdtop --health nofp64.data
		if grep -q '^verdict: .*mislead: .*of the DWARF stacks were unwound part of the way or not at all' "$TMP/hd64"; then
			ok "--health, DWARF: mostly truncated unwinds make the verdict say mislead"
		else
			not_ok "--health, DWARF truncated" "$(grep -E '^unwinding|^verdict' "$TMP/hd64" | tr '\n' '|')"
		fi
	else
		skip "perf cannot record --call-graph dwarf,64"
	fi
else
	skip_n 3 "cannot build nofp.c or record it with --call-graph dwarf"
fi

option_drift pdtop 20
done_testing
