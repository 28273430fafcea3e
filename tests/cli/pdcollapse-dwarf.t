#!/bin/sh
# DWARF unwinding against the real perf: programs built without frame
# pointers (C through libc's qsort, C++ templates, Rust) are recorded with
# --call-graph dwarf by perf record and by pdrecord, and pdcollapse's
# stacks must agree with perf script's own unwinding of the same files on
# >= 95% of the samples (perf script's default frames, inlined functions
# included).  The cached walk must give what libdwfl's unwinder gives, and
# -v must account for every DWARF sample.
. "$PD_SRC/tests/cli/lib.sh"

can_record || skip_all "perf record is not permitted here (perf_event_paranoid or no perf)"
command -v "${CC:-cc}" >/dev/null || skip_all "no C compiler"
cd "$TMP" || exit 2

# check_file NAME FILE: agreement with perf, the two unwinders, -v.
check_file() {
	name=$1
	f=$2
	run_tool ours.folded ours.err pdcollapse -q --weight=samples "$f"
	# perf script's default frames: inlined functions included, every
	# frame of a DWARF chain named from DWARF (names-dwarf.t tests those).
	fold_ref "$f" >ref.folded
	a=$(agreement ours.folded ref.folded)
	if [ "$a" -ge 950 ]; then
		ok "$name: stacks agree with perf script's unwinding on $a per mille of samples"
	else
		not_ok "$name: only $a per mille agree with perf script" \
			"ours: $(sort -k2 -n ours.folded | tail -n 2 | cut -c1-300 | tr '\n' '|')" \
			"perf: $(sort ref.folded | uniq -c | sort -n | tail -n 2 | cut -c1-300 | tr '\n' '|')"
	fi
	if ! grep -q ';main;' ours.folded; then
		not_ok "$name: no stack reaches main" "$(head -n 3 ours.folded | cut -c1-200)"
	else
		ok "$name: stacks are unwound to main"
	fi
	PD_UNWIND=dwfl run_tool slow.folded slow.err pdcollapse -q --weight=samples "$f"
	a=$(agreement ours.folded slow.folded)
	if [ "$a" -eq 1000 ]; then
		ok "$name: the cached walk gives what libdwfl's unwinder gives"
	else
		not_ok "$name: cached walk and libdwfl differ ($a per mille)"
	fi
	run_tool v.folded v.err pdcollapse -v --weight=samples --event=all "$f"
	n=$(awk '!/^#/ { s += $NF } END { print s + 0 }' v.folded)
	line=$(grep 'DWARF samples' v.err)
	PD_UNWIND=dwfl run_tool vs.folded vs.err pdcollapse -v --weight=samples --event=all "$f"
	if [ -n "$line" ] && [ "$line" = "$(grep 'DWARF samples' vs.err)" ]; then
		ok "$name: the cached walk counts full, truncated and failed unwinds as libdwfl does"
	else
		not_ok "$name: unwinding counts differ" "cached: $line" "libdwfl: $(grep 'DWARF samples' vs.err)"
	fi
	d=$(echo "$line" | sed -n 's/.*: \([0-9]*\) DWARF samples: \([0-9]*\) unwound fully, \([0-9]*\) truncated, \([0-9]*\) not unwound/\1 \2 \3 \4/p')
	set -- $d
	# Samples without user registers (taken while the process exits, its
	# memory gone) are folded but are not DWARF samples.
	if [ $# -eq 4 ] && [ "$1" -le "$n" ] && [ $(($1 * 10)) -ge $((n * 9)) ] &&
	    [ $(($2 + $3 + $4)) -eq "$1" ] && [ "$2" -gt 0 ]; then
		ok "$name: -v accounts for the $1 DWARF samples of $n ($2 full, $3 truncated, $4 not)"
	else
		not_ok "$name: -v unwinding counts" "$line" "folded $n"
	fi
}

${CC:-cc} -O2 -g -fomit-frame-pointer -o nofp "$PD_SRC/tests/data/nofp.c" || skip_all "cannot build nofp.c"
if perf record -q --call-graph dwarf -o c.data ./nofp 800 >/dev/null 2>&1; then
	check_file "C -O2 without frame pointers" c.data
else
	for t in 1 2 3 4; do skip "perf record --call-graph dwarf failed"; done
fi
# The DWARF (for the names of the frames) is read for the files that frames
# are in, not for every file the process maps: libm, mapped but never
# called, keeps its debug file closed, while libc's is read.
lm=$(ldconfig -p 2>/dev/null | awk '$1 == "libm.so.6" && /x86-64|x86_64|64bit/ { print $NF; exit }')
lc=$(ldconfig -p 2>/dev/null | awk '$1 == "libc.so.6" && /x86-64|x86_64|64bit/ { print $NF; exit }')
mb=$(readelf -n "$lm" 2>/dev/null | awk '/Build ID/ { print $3 }')
cb=$(readelf -n "$lc" 2>/dev/null | awk '/Build ID/ { print $3 }')
if command -v strace >/dev/null && [ -n "$mb" ] && [ -n "$cb" ] &&
    [ -e "/usr/lib/debug/.build-id/$(echo "$mb" | cut -c1-2)/$(echo "$mb" | cut -c3-).debug" ] &&
    ${CC:-cc} -O2 -g -fomit-frame-pointer -o nofpm "$PD_SRC/tests/data/nofp.c" -Wl,--no-as-needed -lm &&
    perf record -q -N --call-graph dwarf -o m.data ./nofpm 300 >/dev/null 2>&1 &&
    perf script -i m.data -F ip,dso --no-inline 2>/dev/null | grep -q '/libc\.so' &&
    ! perf script -i m.data -F ip,dso --no-inline 2>/dev/null | grep -q '/libm\.so'; then
	strace -f -e trace=openat -o m.trace pdcollapse m.data >/dev/null 2>&1
	if grep -v ENOENT m.trace | grep -q "$(echo "$cb" | cut -c3-)" &&
	    ! grep -v ENOENT m.trace | grep -q "$(echo "$mb" | cut -c3-)"; then
		ok "DWARF is read for the files with frames (libc), not every file mapped (libm)"
	else
		not_ok "debug files opened" "libc: $(grep -c "$(echo "$cb" | cut -c3-)" m.trace)," \
		    "libm: $(grep -v ENOENT m.trace | grep "$(echo "$mb" | cut -c3-)" | head -n 2 | tr '\n' '|')"
	fi
else
	skip "needs strace, libc6-dbg's libm debug file, and a recording with libc frames and no libm frame"
fi
if pdrecord -q --call-graph dwarf -o pdc.data -- ./nofp 800 >/dev/null 2>&1; then
	check_file "C, recorded by pdrecord" pdc.data
else
	for t in 1 2 3 4; do skip "pdrecord --call-graph dwarf failed"; done
fi

if command -v "${CXX:-c++}" >/dev/null &&
    ${CXX:-c++} -O2 -g -fomit-frame-pointer -o cxx "$PD_SRC/tests/data/cxx.cc"; then
	perf record -q --call-graph dwarf -o cxx.data ./cxx 3000000 >/dev/null 2>&1
	check_file "C++ templates" cxx.data
	if grep -q ';main;.*shapes::Area<long>::operator [0-9]' ours.folded; then
		ok "C++: the template operator() is named"
	else
		not_ok "C++: names" "$(head -n 3 ours.folded | cut -c1-200)"
	fi
else
	for t in 1 2 3 4 5; do skip "no C++ compiler"; done
fi

# std::hint::black_box is Rust 1.66; Debian 12's rustc is 1.63, so the
# workload keeps its values opaque with a volatile read of its own.
cat >rs.rs <<'RS'
#[inline(always)]
fn black_box(x: u64) -> u64 { unsafe { std::ptr::read_volatile(&x) } }
#[inline(never)]
fn leaf(n: u64) -> u64 { let mut s = 0u64; for i in 0..n { s = s.wrapping_add(black_box(i * i)); } s }
#[inline(never)]
fn middle(n: u64) -> u64 { let v: Vec<u64> = (0..64).map(|i| leaf(n + i)).collect(); v.iter().sum() }
#[inline(never)]
fn outer(n: u64) -> u64 { middle(n) ^ leaf(n / 2) }
fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20000);
    let mut s = 0u64;
    for _ in 0..40 { s ^= outer(black_box(n)); }
    println!("{}", s);
}
RS
if ! command -v rustc >/dev/null; then
	for _ in 1 2 3 4 5; do skip "no Rust compiler (rustc)"; done
elif ! rustc -O -g -C force-frame-pointers=no -o rs rs.rs 2>rustc.err; then
	not_ok "Rust: $(rustc --version) builds the workload" "$(grep -m 3 . rustc.err)"
	for _ in 1 2 3 4; do skip "Rust: the workload did not build"; done
else
	perf record -q --call-graph dwarf -o rs.data ./rs 200000 >/dev/null 2>&1
	check_file "Rust" rs.data
	if grep -q 'rs::outer;rs::middle' ours.folded; then
		ok "Rust: demangled paths rs::outer -> rs::middle"
	else
		not_ok "Rust: names" "$(sort -k2 -n ours.folded | tail -n 1 | cut -c1-300)"
	fi
fi

# debuginfod only when asked: a stripped program has no local debug file, so
# --inline looks for one, and must not talk to DEBUGINFOD_URLS unless
# --debuginfod is given.
if command -v strace >/dev/null && ls /usr/lib/*/libdebuginfod.so.1 >/dev/null 2>&1 &&
    ${CC:-cc} -O2 -g -fno-omit-frame-pointer -Wl,--build-id -o stripped "$PD_SRC/tests/data/nofp.c" &&
    strip -g stripped && perf record -q -g -o st.data ./stripped 300 >/dev/null 2>&1; then
	DEBUGINFOD_URLS=http://127.0.0.1:9/ strace -f -e trace=connect -o no.trace \
		pdcollapse --inline st.data >/dev/null 2>&1
	DEBUGINFOD_URLS=http://127.0.0.1:9/ strace -f -e trace=connect -o yes.trace \
		pdcollapse --inline --debuginfod st.data >/dev/null 2>&1
	if ! grep -q 'sin_port=htons(9)' no.trace; then
		ok "debuginfod: DEBUGINFOD_URLS is not used without --debuginfod"
	else
		not_ok "debuginfod: a connection without --debuginfod" "$(grep htons no.trace | head -n 2)"
	fi
	if grep -q 'sin_port=htons(9)' yes.trace; then
		ok "debuginfod: --debuginfod asks the DEBUGINFOD_URLS server"
	else
		not_ok "debuginfod: no request with --debuginfod" "$(tail -n 3 yes.trace)"
	fi
else
	skip "debuginfod: needs strace, libdebuginfod and perf record -g"
	skip "debuginfod: needs strace, libdebuginfod and perf record -g"
fi

done_testing
