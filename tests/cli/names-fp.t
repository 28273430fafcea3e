#!/bin/sh
# names-fp.t - frame names of frame-pointer recordings against the real
# perf 6.1: recordings made here and now of C (lazy binding, .plt.sec and
# .plt.got, immediate binding), C++ (std::string, calls through the PLT of
# the executable and of libstdc++), Rust and python3, each folded by
# 'perf script | ref-collapse.awk' and by pdcollapse --weight=samples.
# Stack agreement must be >= 995 per mille in two cases:
#   installed: the debug files this machine has (libc6-dbg: libc's .symtab
#              with its aliases and versioned names);
#   hidden:    perf and pdcollapse both given --symfs with copies of the
#              binaries, the workloads stripped, and no debug files, so
#              the names come from .dynsym.  perf reads no kallsyms under
#              --symfs, so pdcollapse gets an empty --kallsyms.
# Also: a versioned name (free's alias cfree@GLIBC_2.2.5 in libc's .symtab)
# appears where perf prints it and nowhere else, none without debug files,
# and PLT stubs are named NAME@plt where perf names them so.
# shellcheck disable=SC2154 # $rc is set by run_tool (lib.sh)
. "$PD_SRC/tests/cli/lib.sh"

can_record || skip_all "perf record is not permitted here (perf_event_paranoid or no perf)"
cd "$TMP" || exit 2
# perf's and pdtools' build-id caches (~/.debug) start empty, and perf
# record -N adds nothing to them.
# (rustup finds its toolchains under the real home.)
ohome=${HOME:-}
HOME=$TMP/home
export HOME
mkdir -p "$HOME"
CC=${CC:-cc}
CXX=${CXX:-c++}
D=$PD_SRC/tests/data

rec() { _o=$1; shift; perf record -q -N -e cpu-clock -F 2000 -g -o "$_o" "$@" >/dev/null 2>&1 && [ -s "$_o" ]; }

# Workloads: NAME the recording's stem, built or skipped with a reason.
names=
# try NAME CMD...: record CMD as NAME.data, or skip NAME with the reason.
try() {
	_n=$1
	shift
	if rec "$_n.data" "$@"; then names="$names $_n"; else skip "$_n: perf cannot record it"; fi
}
skipped() { skip "$1: $2"; }

if $CC -O2 -g -fno-omit-frame-pointer -Wl,-z,lazy -o c-lazy "$D/names.c" 2>/dev/null; then
	try c-lazy ./c-lazy 3000000
else
	skipped c-lazy "cannot build names.c"
fi
if $CC -O2 -g -fno-omit-frame-pointer -fcf-protection -Wl,-z,ibtplt -o c-ibt "$D/names.c" 2>/dev/null; then
	try c-ibt ./c-ibt 3000000
	if command -v readelf >/dev/null 2>&1; then
		if readelf -SW c-ibt | grep -q '\.plt\.sec'; then ok "c-ibt has .plt.sec"; else not_ok "c-ibt has no .plt.sec"; fi
	fi
else
	skipped c-ibt "the compiler or linker has no -fcf-protection / -z ibtplt"
fi
if $CC -O2 -g -fno-omit-frame-pointer -fcf-protection -Wl,-z,ibtplt -Wl,-z,now -o c-now "$D/names.c" 2>/dev/null; then
	try c-now ./c-now 3000000
else
	skipped c-now "the compiler or linker has no -fcf-protection / -z ibtplt"
fi
if $CXX -O2 -g -fno-omit-frame-pointer -fcf-protection -Wl,-z,ibtplt -o cxx "$D/strs.cc" 2>/dev/null; then
	try cxx ./cxx 4000000
else
	skipped cxx "no C++ compiler"
fi
if command -v rustc >/dev/null 2>&1 &&
    HOME=$ohome rustc -O -g -C force-frame-pointers=yes -o rust "$D/names.rs" >/dev/null 2>&1; then
	try rust ./rust 1000000
else
	skipped rust "no rustc"
fi
if [ -x /usr/bin/python3 ]; then
	try python /usr/bin/python3 -c '
import re
d = {}
for i in range(300000):
    s = "k%d" % (i % 1000)
    d[s] = d.get(s, 0) + len(re.sub("[0-9]", "x", s))
'
else
	skipped python "no /usr/bin/python3"
fi
[ -n "$names" ] || skip_all "no workload could be recorded"

# Debug files: is libc's there (libc6-dbg), by build-id?
libc=$(ldd ./c-lazy 2>/dev/null | awk '$1 ~ /^libc\.so/ { print $3 }')
bid=$(readelf -n "$libc" 2>/dev/null | awk '/Build ID/ { print $3 }')
have_dbg=0
[ -n "$bid" ] && [ -f "/usr/lib/debug/.build-id/$(echo "$bid" | cut -c1-2)/$(echo "$bid" | cut -c3-).debug" ] && have_dbg=1
[ "$have_dbg" = 1 ] || diag "libc's debug file is not installed (libc6-dbg): both cases read .dynsym"

# The hidden case's --symfs: every DSO the recordings name, copied, the
# workloads stripped; no /usr/lib/debug.
S=$TMP/symfs
mkdir -p "$S"
: >"$TMP/nokallsyms"
for n in $names; do
	perf script -i "$n.data" -F ip,dso 2>/dev/null | sed -n 's/.*(\(\/[^)]*\))$/\1/p'
done | LC_ALL=C sort -u >dsos
while read -r f; do
	[ -f "$f" ] || continue
	mkdir -p "$S${f%/*}"
	case $f in
	"$TMP"/*) strip -o "$S$f" "$f" 2>/dev/null || cp "$f" "$S$f" ;;
	*) cp "$f" "$S$f" ;;
	esac
done <dsos
[ -d "$S/usr/lib/debug" ] && not_ok "the --symfs copy holds no debug files"

# fold NAME CASE: $NAME.CASE.ref (perf) and $NAME.CASE.pd (pdcollapse),
# and $rc, pdcollapse's exit status (run_tool sets it).
fold() {
	_n=$1
	if [ "$2" = installed ]; then
		fold_ref "$_n.data" >"$_n.$2.ref"
		run_tool "$_n.$2.out" "$_n.$2.err" pdcollapse --weight=samples "$_n.data"
	else
		fold_ref "$_n.data" --symfs="$S" >"$_n.$2.ref"
		run_tool "$_n.$2.out" "$_n.$2.err" pdcollapse --weight=samples --symfs="$S" \
		    --kallsyms="$TMP/nokallsyms" "$_n.data"
	fi
	LC_ALL=C sort "$_n.$2.out" >"$_n.$2.pd"
}

# frames FILE PATTERN: the distinct frame names matching PATTERN (ERE).
frames() {
	grep -v '^#' "$1" | sed 's/ [0-9]*$//' | tr ';' '\n' | grep -E "$2" | LC_ALL=C sort -u
}

# same_frames KEY PATTERN WHAT: the frames matching PATTERN are the same in
# perf's folding of $n and ours (kept in $n.$c.KEYref and $n.$c.KEYpd).
same_frames() {
	frames "$n.$c.ref" "$2" >"$n.$c.$1ref"
	frames "$n.$c.pd" "$2" >"$n.$c.$1pd"
	if cmp -s "$n.$c.$1ref" "$n.$c.$1pd"; then
		ok "$n, debug files $c: $3 exactly where perf prints them ($(tr '\n' ' ' <"$n.$c.$1pd" | cut -c1-150))"
	else
		not_ok "$n, debug files $c: $3" "perf: $(tr '\n' ' ' <"$n.$c.$1ref")" \
		    "pdcollapse: $(tr '\n' ' ' <"$n.$c.$1pd")"
	fi
}

version_re='@@?[A-Za-z]+_[0-9][0-9.]*$'
for c in installed hidden; do
	plt_seen=
	for n in $names; do
		fold "$n" "$c"
		a=$(agreement "$n.$c.ref" "$n.$c.pd")
		diag "$n, debug files $c: stack agreement $a per mille ($(wc -l <"$n.$c.ref") samples)"
		if [ "$a" -lt 1000 ]; then
			sed 's/ [0-9]*$//' "$n.$c.ref" | LC_ALL=C sort -u >"$n.$c.sref"
			grep -v '^#' "$n.$c.pd" | sed 's/ [0-9]*$//' | LC_ALL=C sort -u >"$n.$c.spd"
			diag "  only perf's: $(LC_ALL=C comm -23 "$n.$c.sref" "$n.$c.spd" | head -n 3 | cut -c1-300 | tr '\n' '|')"
			diag "  only ours: $(LC_ALL=C comm -13 "$n.$c.sref" "$n.$c.spd" | head -n 3 | cut -c1-300 | tr '\n' '|')"
		fi
		if [ "$rc" -ne 0 ]; then
			not_ok "$n, debug files $c: pdcollapse exit $rc" "$(head -c 300 "$n.$c.err")"
		elif [ -s "$n.$c.ref" ] && [ "$a" -ge 995 ]; then
			ok "$n, debug files $c: stacks agree with perf script's ($a per mille)"
		else
			not_ok "$n, debug files $c: stack agreement $a per mille" \
			    "$(diff "$n.$c.ref" "$n.$c.pd" | head -n 6 | cut -c1-200 | tr '\n' '|')"
		fi
		same_frames v "$version_re" "versioned names"
		if [ "$c" = hidden ] && [ -s "$n.$c.vpd" ]; then
			not_ok "$n: a versioned name without debug files" "$(tr '\n' ' ' <"$n.$c.vpd")"
		fi
		same_frames p '@plt$' "NAME@plt stubs"
		[ -s "$n.$c.ppd" ] && plt_seen="$plt_seen $n"
	done
	# std::string's appends call memcpy through libstdc++'s PLT all the time.
	case " $names " in
	*" cxx "*)
		if [ -n "$plt_seen" ]; then
			ok "debug files $c: PLT samples are named NAME@plt (in:$plt_seen)"
		else
			not_ok "debug files $c: no NAME@plt frame in any recording"
		fi ;;
	esac
done

# With libc's .symtab, free is one of five names at one address; perf 6.1
# prints the one its choose_best_symbol picks, and so must pdcollapse.
if [ "$have_dbg" = 1 ]; then
	f=$(grep -v '^#' c-lazy.installed.ref 2>/dev/null | sed 's/ [0-9]*$//' | awk -F ';' '$NF ~ /free/ && $NF !~ /_int_free/ { print $NF; exit }')
	if [ -n "$f" ] && grep -q ";$f [0-9]*\$" c-lazy.installed.pd; then
		ok "with libc6-dbg, free's samples are named as perf names them ($f)"
	elif [ -z "$f" ]; then
		skip "no sample in free in c-lazy.data"
	else
		not_ok "free's samples are not named $f" "$(grep free c-lazy.installed.pd | head -n 3 | tr '\n' '|')"
	fi
else
	skip "libc6-dbg is not installed"
fi
done_testing
