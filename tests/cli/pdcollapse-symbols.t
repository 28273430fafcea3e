#!/bin/sh
# Where names come from: C++ demangling and tidying, JIT maps, the vDSO,
# --symfs, build-id checks and kallsyms.  Each recorded with the real perf
# and compared with perf script's names where perf has them.
. "$PD_SRC/tests/cli/lib.sh"

can_record || skip_all "perf record is not permitted here (perf_event_paranoid or no perf)"
cd "$TMP" || exit 2
D=$PD_SRC/tests/data

# agree NAME FILE [pdcollapse options]: >= 99% of samples agree with perf script.
agree() {
	n=$1
	f=$2
	shift 2
	run_tool "$TMP/ours" "$TMP/ours.err" pdcollapse -q --weight=samples "$@" "$f"
	fold_ref "$f" >"$TMP/ref"
	a=$(agreement "$TMP/ours" "$TMP/ref")
	if [ "$rc" -eq 0 ] && [ "$a" -ge 990 ]; then
		ok "$n: agrees with perf script on $a per mille of samples"
	else
		not_ok "$n: agrees with perf script on only $a per mille (exit $rc)" \
		    "$(diff "$TMP/ours" "$TMP/ref" | head -n 12 | tr '\n' '|')"
	fi
}

# C++: demangled, then argument lists cut as stackcollapse-perf.pl does.
if ${CXX:-c++} -O2 -g -fno-omit-frame-pointer -o cxx "$D/cxx.cc" 2>/dev/null; then
	perf record -q -g -o cxx.data ./cxx 3000000 >/dev/null 2>&1
	agree "C++" cxx.data
	grep -q 'shapes::Area<long>::operator[; ]' "$TMP/ours" && ok "C++: names demangled and tidied" ||
		not_ok "C++: no 'shapes::Area<long>::operator' frame" "$(sed -n 2p "$TMP/ours")"
	# stackcollapse-perf.pl drops frames in an anonymous namespace; perf
	# report and pdtop show them.  At -O0 every call is a frame.
	if ${CXX:-c++} -O0 -g -fno-omit-frame-pointer -o cxx0 "$D/cxx.cc" 2>/dev/null &&
	    perf record -q -g -o cxx0.data ./cxx0 3000000 >/dev/null 2>&1; then
		run_tool "$TMP/o0" "$TMP/e" pdcollapse cxx0.data
		if grep -q ';main;(anonymous namespace)::hidden;shapes::Circle::draw;' "$TMP/o0"; then
			ok "C++: the anonymous-namespace frame is kept, between main and its callee"
		else
			not_ok "C++: no 'main;(anonymous namespace)::hidden;shapes::Circle::draw;'" \
			    "$(grep -m 2 main "$TMP/o0")"
		fi
	else
		skip "C++ at -O0: perf record cannot record it here"
	fi
	run_tool "$TMP/raw" "$TMP/e" pdcollapse --no-demangle cxx.data
	grep -q '_ZNK6shapes4AreaIlEclEl' "$TMP/raw" && ok "--no-demangle keeps mangled names" ||
		not_ok "--no-demangle" "$(sed -n 2p "$TMP/raw")"
else
	skip "no C++ compiler"
fi

# JIT code described in /tmp/perf-PID.map.
if [ "$(uname -m)" = x86_64 ] && ${CC:-cc} -O2 -o jit "$D/jit.c"; then
	perf record -q -g -o jit.data ./jit 400000000 >/dev/null 2>&1
	agree "JIT" jit.data
	run_tool "$TMP/j" "$TMP/e" pdcollapse --jit jit.data
	grep -q ';jitted_loop_\[j\]' "$TMP/j" && ok "--jit: JIT frames named from perf-PID.map and marked _[j]" ||
		not_ok "--jit" "$(grep -v '^#' "$TMP/j" | head -n 3 | tr '\n' '|')"
	run_tool "$TMP/jp" "$TMP/e" pdcollapse --pid jit.data
	for p in $(grep -o '^jit-[0-9]*' "$TMP/jp" | sort -u | cut -d- -f2); do
		rm -f "/tmp/perf-$p.map"
	done
else
	skip "JIT test needs x86-64"
fi

# The vDSO: perf record copies it into ~/.debug; we read that copy or our own.
if ${CC:-cc} -O2 -g -fno-omit-frame-pointer -o vdso "$D/vdso.c"; then
	perf record -q -g -o vdso.data ./vdso 20000000 >/dev/null 2>&1
	agree "vDSO" vdso.data
	run_tool "$TMP/v" "$TMP/e" pdcollapse vdso.data
	if grep -q 'clock_gettime' "$TMP/ref"; then
		grep -Eq ';(__vdso_)?clock_gettime' "$TMP/v" && ok "vDSO: symbols found" ||
			not_ok "vDSO: no clock_gettime frame" "$(grep -v '^#' "$TMP/v" | head -n 3 | tr '\n' '|')"
	else
		skip "perf itself shows no vDSO symbols here"
	fi
fi

# --symfs: the binary moved away; found again under the symfs root.
# perf record caches binaries in ~/.debug, where we would find them too:
# keep that cache out of these checks (-N).
B=$(burn)
perf record -q -N -g -o symfs.data "$B" 300000 >/dev/null 2>&1
mkdir -p "root$(dirname "$B")"
mv "$B" "root$B"
run_tool "$TMP/nosym" "$TMP/e" pdcollapse symfs.data
run_tool "$TMP/sym" "$TMP/e" pdcollapse --symfs "$TMP/root" symfs.data
if ! grep -q ';leaf' "$TMP/nosym" && grep -q '\[burn\]' "$TMP/nosym" && grep -q ';leaf' "$TMP/sym"; then
	ok "--symfs: a moved binary is found under the symfs root"
else
	not_ok "--symfs" "without: $(grep -c ';leaf' "$TMP/nosym"), with: $(grep -c ';leaf' "$TMP/sym")"
fi
# A different binary at the recorded path: its build-id does not match.
sed 's/sink += i \* i/sink += i * i + 1/' "$D/burn.c" >burn2.c
${CC:-cc} -O2 -g -fno-omit-frame-pointer -o "$B" burn2.c
run_tool "$TMP/other" "$TMP/e" pdcollapse symfs.data
if grep -q '\[burn\]' "$TMP/other" && ! grep -q ';leaf' "$TMP/other"; then
	ok "build-id: a rebuilt binary at the same path is not used"
else
	not_ok "build-id: rebuilt binary was used" "$(grep -v '^#' "$TMP/other" | head -n 2 | tr '\n' '|')"
fi
rm -f "$B"

# MiniDebugInfo: a stripped binary whose function symbols sit xz-compressed
# in .gnu_debugdata (as Fedora ships them).  perf 6.1 cannot read them.
if command -v xz >/dev/null && command -v objcopy >/dev/null; then
	mkdir mdi
	${CC:-cc} -O2 -g -fno-omit-frame-pointer -o mdi/burn "$D/burn.c"
	(
		cd mdi &&
		nm -D burn --format=posix --defined-only | awk '{ print $1 }' | sort >dyn &&
		nm burn --format=posix --defined-only | awk '$2 == "T" || $2 == "t" { print $1 }' | sort >funcs &&
		comm -13 dyn funcs >keep &&
		objcopy --only-keep-debug burn mini &&
		objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols=keep mini mini2 &&
		strip --strip-all burn && xz -f mini2 &&
		objcopy --add-section .gnu_debugdata=mini2.xz burn
	) >/dev/null 2>&1
	perf record -q -N -g -o mdi.data mdi/burn 300000 >/dev/null 2>&1
	run_tool "$TMP/m" "$TMP/e" pdcollapse mdi.data
	if [ -z "$(nm mdi/burn 2>/dev/null)" ] && grep -q ';main;top;leaf ' "$TMP/m"; then
		ok ".gnu_debugdata: symbols of a stripped binary from its MiniDebugInfo"
	else
		not_ok ".gnu_debugdata" "$(grep -v '^#' "$TMP/m" | head -n 3 | tr '\n' '|')"
	fi
else
	skip "xz or objcopy missing"
fi

# Kernel symbols: from kallsyms of the same kernel, or not at all.
perf record -q -g -o k.data -a sleep 0.2 >/dev/null 2>&1
run_tool "$TMP/k" "$TMP/e" pdcollapse --kernel k.data
if grep -q '_\[k\]' "$TMP/k"; then
	grep -Eq ';[a-z_][a-z0-9_.]*_\[k\]' "$TMP/k" && ok "kernel frames are named from kallsyms" ||
		not_ok "kernel names" "$(grep '_\[k\]' "$TMP/k" | head -n 2 | tr '\n' '|')"
	run_tool "$TMP/k0" "$TMP/e" pdcollapse --kernel --kallsyms /dev/null k.data
	if grep -q '\[\[kernel.kallsyms\]\]_\[k\]' "$TMP/k0" && ! grep -Eq ';[a-z_][a-z0-9_.]*_\[k\]' "$TMP/k0"; then
		ok "--kallsyms with no symbols: kernel frames are [[kernel.kallsyms]]"
	else
		not_ok "--kallsyms /dev/null" "$(grep '_\[k\]' "$TMP/k0" | head -n 2 | tr '\n' '|')"
	fi
	# perf record's copy of the recorded kernel's kallsyms, in its build-id
	# cache, is read before /proc/kallsyms (a plain file: no formatting by
	# the kernel).  One function renamed in the copy shows it is the one read.
	kbid=$(perf buildid-list -i k.data 2>/dev/null | awk '$2 == "[kernel.kallsyms]" { print $1; exit }')
	f=$(sed -n 's/.*;\([a-z_][a-z0-9_]*\)_\[k\] [0-9]*$/\1/p' "$TMP/k" | sort | uniq -c | sort -rn |
	    awk '{ print $2 }' | while read -r n; do
		awk -v n="$n" '$3 == n && NF == 3 { f = 1 } END { exit !f }' /proc/kallsyms && { echo "$n"; break; }
	done)
	kc="$TMP/kh/.debug/[kernel.kallsyms]/$kbid"
	if [ -n "$kbid" ] && [ -n "$f" ] && mkdir -p "$kc" &&
	    awk -v n="$f" '$3 == n && NF == 3 { $3 = "pd_cached_" n } { print }' /proc/kallsyms >"$kc/kallsyms"; then
		run_tool "$TMP/kc" "$TMP/e" env HOME="$TMP/kh" pdcollapse --kernel k.data
		if grep -q ";pd_cached_${f}_\[k\]" "$TMP/kc" && ! grep -q ";${f}_\[k\]" "$TMP/kc"; then
			ok "kernel frames are named from perf's copy of the recorded kernel's kallsyms"
		else
			not_ok "kallsyms from ~/.debug/[kernel.kallsyms]/$kbid ($f)" \
			    "$(grep -c "pd_cached_$f" "$TMP/kc") renamed, $(grep -c ";${f}_\[k\]" "$TMP/kc") not"
		fi
		# A copy made without the right to see addresses (all 0) is passed over.
		sed 's/^[0-9a-f]*/0000000000000000/' /proc/kallsyms >"$kc/kallsyms"
		run_tool "$TMP/kz" "$TMP/e" env HOME="$TMP/kh" pdcollapse --kernel k.data
		run_tool "$TMP/kp" "$TMP/e" pdcollapse --kernel --kallsyms /proc/kallsyms k.data
		if grep -q "_\[k\]" "$TMP/kz" && cmp -s "$TMP/kz" "$TMP/kp"; then
			ok "a copy of kallsyms without addresses: /proc/kallsyms instead"
		else
			not_ok "kallsyms copy without addresses" "$(diff "$TMP/kz" "$TMP/kp" | head -n 4 | tr '\n' '|')"
		fi
	else
		skip "no kernel build-id recorded, or no kernel function sampled"
		skip "no kernel build-id recorded, or no kernel function sampled"
	fi
else
	skip "no kernel samples recorded"
fi
done_testing
