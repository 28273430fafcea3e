#!/bin/sh
# Names of --call-graph dwarf chains: perf script names each frame of such a
# chain from DWARF (through binutils' addr2line) and adds the inlined
# functions, so pdcollapse does too.  Workloads in C (clones such as
# copy_churn.constprop.0, static inline helpers, libc's qsort and memcpy),
# C++ (std::sort over a lambda, templates) and Rust (closures, iterators,
# std's generic code) are built at test time from tests/data/dwnames.*,
# recorded by the real perf, and for each:
#   - pdcollapse agrees with perf script's default frames, folded by the
#     reference (inlined frames included), on >= 99% of the samples;
#   - pdcollapse --no-inline agrees with perf script --no-inline;
#   - the same holds with libc6-dbg and the program's debug files hidden
#     from the symbol tables (--symfs with copies of the binaries, an empty
#     HOME), where DWARF is still found by build-id, as addr2line finds it;
#   - pdjson gives the frames of DWARF chains their inlined functions;
#   - for C++ and Rust, the functions named at each address of the program
#     equal binutils' addr2line -i -f (the oracle perf runs), and the
#     inlined ones (as --inline gives them) those of eu-addr2line -i -f
#     for C++; for Rust, where libdw 0.188's eu-addr2line finds none,
#     those of addr2line -i.
. "$PD_SRC/tests/cli/lib.sh"

can_record || skip_all "perf record is not permitted here (perf_event_paranoid or no perf)"
command -v "${CC:-cc}" >/dev/null || skip_all "no C compiler"
cd "$TMP" || exit 2
mkdir -p home
srcview=$PD_BIN/tests/helpers/srcview

# agree NAME OURS REF: >= 990 per mille.
agree() {
	a=$(agreement "$2" "$3")
	if [ "$a" -ge 990 ]; then
		ok "$1: agrees with perf script on $a per mille of samples"
	else
		not_ok "$1: agrees with perf script on only $a per mille" \
		    "ours: $(sort -k2 -n "$2" | tail -n 2 | cut -c1-400 | tr '\n' '|')" \
		    "perf: $(sort "$3" | uniq -c | sort -n | tail -n 2 | cut -c1-400 | tr '\n' '|')"
	fi
}

# hex S: the value of hex digits S (mawk has no strtonum).
hexfn='function hex(s,    i, v) { v = 0; s = tolower(s); sub(/^0x/, "", s)
	for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v }'

# a2l_chains TOOL BIN OFFSETS: TOOL (addr2line or eu-addr2line) asked, in
# the order of the file, for the addresses of BIN at the file offsets in
# OFFSETS; one line per offset, "OFFSET NAME;NAME;..." innermost first,
# "?" where it knows no source line (then perf keeps the symbol's name).
# (eu-addr2line adds " inlined at FILE:LINE in CALLER" to the first name.)
a2l_chains() {
	readelf -lW "$2" | awk '$1 == "LOAD" { print $2, $3, $5 }' >loads
	awk "$hexfn"'
	FILENAME == ARGV[1] { lo[++n] = hex($1); va[n] = hex($2); sz[n] = hex($3); next }
	{ o = hex($1); for (i = 1; i <= n; i++) if (o >= lo[i] && o < lo[i] + sz[i]) { printf "%s %x\n", $1, o - lo[i] + va[i]; break } }' \
	    loads "$3" >pairs
	awk '{ print "0x" $2 }' pairs | "$1" -a -f -i -e "$2" >a2l.out 2>/dev/null
	awk 'FILENAME == ARGV[1] { off[++n] = $1; next }
	function done() { if (k) print off[k], (bad ? "?" : s) }
	/^0x[0-9a-f]+$/ { done(); k++; s = ""; bad = 0; fn = 1; levels = 0; next }
	fn { f = $0; sub(/ inlined at .*/, "", f); s = s (s == "" ? "" : ";") f; fn = 0; levels++; next }
	{ if (levels == 1 && $0 ~ /^\?\?:/) bad = 1; fn = 1 }
	END { done() }' pairs a2l.out
}

# names NAME BIN DATA NEED_EU: names of BIN's addresses against addr2line
# and eu-addr2line (which must report inlined functions when NEED_EU is 1).
names() {
	nm=$1 bin=$2 need_eu=$4
	perf script -i "$3" --no-inline -F ip,dso 2>/dev/null |
	    awk -v bin="($bin)" '$2 == bin && !seen[$1]++ { print $1 }' >offs
	if [ ! -s offs ] || ! command -v addr2line >/dev/null; then
		skip "$nm: no addresses of the program, or no addr2line (binutils)"
	else
		"$srcview" perf "$bin" <offs >ours.names
		a2l_chains addr2line "$bin" offs >bin.names
		# Addresses without a symbol, or without a line, perf names from the symbol table.
		res=$(awk 'FILENAME == ARGV[1] { want[$1] = $2; next }
		    $2 != "-" && want[$1] != "?" { n++; if (want[$1] == $2) same++; else if (!bad) bad = $0 " | addr2line: " want[$1] }
		    END { printf "%d %d %s\n", n, same, bad }' bin.names ours.names)
		set -- $res
		if [ "$1" -gt 10 ] && [ $(($2 * 1000)) -ge $(($1 * 990)) ]; then
			ok "$nm: the functions at $2 of $1 addresses equal binutils' addr2line -i"
		else
			shift 2
			not_ok "$nm: functions differ from addr2line -i at some addresses ($res)" "$(echo "$*" | cut -c1-600)"
		fi
	fi
	if [ ! -s offs ] || ! command -v eu-addr2line >/dev/null; then
		skip "$nm: no addresses of the program, or no eu-addr2line (elfutils)"
		return
	fi
	# --inline's view (the outermost from the symbol table) without it:
	# the functions inlined at each address.
	"$srcview" inline "$bin" <offs | sed -E 's/;?[^;]*$//' >ours.inl
	a2l_chains eu-addr2line "$bin" offs | sed -E 's/;?[^;]*$//' >eu.names
	res=$(awk 'FILENAME == ARGV[1] { want[$1] = $2; next }
	    want[$1] != "" && want[$1] != "?" { n++; if (want[$1] == $2) same++; else if (!bad) bad = $0 " | eu-addr2line: " want[$1] }
	    $2 != "" && want[$1] == "" { more++ }
	    END { printf "%d %d %d %s\n", n, same, more, bad }' eu.names ours.inl)
	set -- $res
	diag "$nm: $3 addresses with inlined functions that eu-addr2line ($(eu-addr2line --version | awk 'NR == 1 { print $NF }')) does not report"
	if [ "$1" -eq 0 ] && [ "$need_eu" = 0 ]; then
		skip "$nm: eu-addr2line reports no inlined functions here (libdw's dwarf_getscopes does not look inside DW_TAG_namespace)"
		# Then --inline (frame-pointer chains) against binutils.
		sed -E 's/;?[^;]*$//' bin.names >bin.inl
		res=$(awk 'FILENAME == ARGV[1] { want[$1] = $2; next }
		    want[$1] != "" && want[$1] !~ /^\?/ { n++; if (want[$1] == $2) same++; else if (!bad) bad = $0 " | addr2line: " want[$1] }
		    END { printf "%d %d %s\n", n, same, bad }' bin.inl ours.inl)
		set -- $res
		if [ "$1" -gt 10 ] && [ $(($2 * 1000)) -ge $(($1 * 990)) ]; then
			ok "$nm: --inline's inlined functions equal addr2line -i's at $2 of the $1 addresses that have some"
		else
			shift 2
			not_ok "$nm: --inline's inlined functions differ from addr2line -i ($res)" "$(echo "$*" | cut -c1-600)"
		fi
	elif [ "$1" -gt 10 ] && [ $(($2 * 1000)) -ge $(($1 * 990)) ]; then
		ok "$nm: the inlined functions equal eu-addr2line -i's at $2 of the $1 addresses it has them for"
	else
		shift 3
		not_ok "$nm: inlined functions differ from eu-addr2line -i ($res)" "$(echo "$*" | cut -c1-600)"
	fi
}

# check NAME BIN DATA: the three agreements, and the names.
check() {
	run_tool ours.folded ours.err pdcollapse -q --weight=samples "$3"
	fold_ref "$3" >ref.folded
	agree "$1" ours.folded ref.folded
	run_tool noi.folded noi.err pdcollapse -q --weight=samples --no-inline "$3"
	fold_ref "$3" --no-inline >refnoi.folded
	agree "$1 --no-inline" noi.folded refnoi.folded
	# Hidden debug files: copies of every mapped binary under a --symfs.
	rm -rf symfs && mkdir symfs
	for f in $(perf script -i "$3" --show-mmap-events 2>/dev/null | sed -n 's/.*PERF_RECORD_MMAP2.* \(\/[^ ]*\)$/\1/p' | sort -u); do
		[ -f "$f" ] && mkdir -p "symfs$(dirname "$f")" && cp "$f" "symfs$f"
	done
	HOME=$TMP/home run_tool sf.folded sf.err pdcollapse -q --weight=samples --symfs "$TMP/symfs" \
	    --kallsyms /proc/kallsyms "$3"
	HOME=$TMP/home perf script -i "$3" --symfs "$TMP/symfs" --kallsyms /proc/kallsyms \
	    -F comm,pid,tid,event,ip,sym,dso 2>/dev/null |
	    awk -f "$PD_SRC/tests/cli/ref-collapse.awk" | LC_ALL=C sort >refsf.folded
	agree "$1, debug files hidden (--symfs)" sf.folded refsf.folded
	cp ours.folded "$1.folded"
}

${CC:-cc} -O2 -g -fomit-frame-pointer -o dwc "$PD_SRC/tests/data/dwnames.c" || skip_all "cannot build dwnames.c"
if perf record -q --call-graph dwarf -o c.data ./dwc 4000 >/dev/null 2>&1; then
	check C "$TMP/dwc" c.data
	# The names below are gcc's (clone suffixes, inlining of mix).
	if ! nm dwc 2>/dev/null | grep -q ' copy_churn\.constprop'; then
		skip "C: the compiler made no copy_churn.constprop clone (not gcc?)"
		skip "C: the compiler made no copy_churn.constprop clone (not gcc?)"
	else
		if grep -Eq ';main;copy_churn[; ]' C.folded && ! grep -q 'copy_churn\.constprop' C.folded; then
			ok "C: the clone is named copy_churn, from DWARF"
		else
			not_ok "C: no ;main;copy_churn; frame, or a clone suffix" "$(grep copy_churn C.folded | head -n 2 | cut -c1-300)"
		fi
		if grep -q ';cmp;mix ' C.folded && grep -q 'copy_churn\.constprop' noi.folded && ! grep -q ';mix ' noi.folded; then
			ok "C: the inlined helper is a frame (cmp;mix), and --no-inline names the symbol table's clone"
		else
			not_ok "C: inline frames" "$(grep ';cmp' C.folded | head -n 2 | cut -c1-300)" \
			    "$(grep constprop noi.folded | head -n 1 | cut -c1-300)"
		fi
	fi
else
	for t in 1 2 3 4 5; do skip "perf record --call-graph dwarf failed"; done
fi

# Only g++'s DWARF: binutils 2.40's addr2line, and so perf, reports no
# inlined functions in clang++'s DWARF 5 (ranges as DW_FORM_rnglistx),
# where pdcollapse does.
if ! ${CXX:-c++} --version 2>/dev/null | grep -q 'Free Software'; then
	for t in 1 2 3 4 5 6; do skip "C++: ${CXX:-c++} is not g++ (perf's addr2line misses clang's inlined functions)"; done
elif ${CXX:-c++} -O2 -g -fomit-frame-pointer -o dwcxx "$PD_SRC/tests/data/dwnames.cc" &&
    perf record -q --call-graph dwarf -o cxx.data ./dwcxx 800 >/dev/null 2>&1; then
	check C++ "$TMP/dwcxx" cxx.data
	if grep -q ';sort_round;sort<' C++.folded; then
		ok "C++: std::sort is an inline frame of sort_round, named from DWARF"
	else
		not_ok "C++: no sort_round;sort<...> frames" "$(grep sort_round C++.folded | head -n 2 | cut -c1-300)"
	fi
	names C++ "$TMP/dwcxx" cxx.data 1
else
	for t in 1 2 3 4 5 6; do skip "no C++ compiler, or perf record failed"; done
fi

# A rustc that cannot build the workload is a failure, not a skip: it must
# build with Debian 12's rustc 1.63 as with a newer one.
rs_ok=
if ! command -v rustc >/dev/null; then
	rs_why="no Rust compiler (rustc)"
elif ! rustc -O -g -o dwrs "$PD_SRC/tests/data/dwnames.rs" 2>rustc.err; then
	not_ok "Rust: $(rustc --version) cannot build tests/data/dwnames.rs" "$(head -n 5 rustc.err)"
	rs_why="the workload did not build"
elif ! perf record -q --call-graph dwarf -o rs.data ./dwrs 3000 >/dev/null 2>&1; then
	rs_why="perf record --call-graph dwarf failed"
else
	rs_ok=1
fi
if [ -n "$rs_ok" ]; then
	check Rust "$TMP/dwrs" rs.data
	if grep -q ';dwnames::main;dwnames::main::{{closure}};dwnames::churn;' Rust.folded &&
	    grep -Eq 'std::panic(king)?::catch_unwind' Rust.folded; then
		ok "Rust: closures and std's generic code are inline frames (dwnames::main::{{closure}})"
	else
		not_ok "Rust: no inline frames" "$(grep churn Rust.folded | head -n 2 | cut -c1-300)"
	fi
	names Rust "$TMP/dwrs" rs.data 0
	# pdjson: the frames of DWARF chains carry their inlined functions.
	run_tool rs.json rs.jerr pdjson rs.data
	run_tool rsn.json rsn.jerr pdjson --no-inline rs.data
	if grep -q '"src":\[[^]]*"function":"dwnames::main::{{closure}}"' rs.json && ! grep -q '"src"' rsn.json; then
		ok "pdjson: DWARF frames have src arrays with the inlined functions; none with --no-inline"
	else
		not_ok "pdjson: src arrays of DWARF frames" "$(grep -o '"src":[^]]*]' rs.json | head -n 2 | cut -c1-300)"
	fi
else
	for t in 1 2 3 4 5 6 7 8; do skip "$rs_why"; done
fi
done_testing
