#!/bin/sh
# --inline and --lines: inlined functions and source lines from DWARF.
# A program with always_inline helpers is built at test time, recorded with
# the real perf (frame pointers), and pdcollapse's stacks are compared with
# what eu-addr2line -i says of the same addresses: for every sample, the
# frames in the program are expanded by eu-addr2line (return addresses
# looked up at address - 1, the sample IP as it is) and the folded result
# must agree with pdcollapse's on >= 99% of the samples.
. "$PD_SRC/tests/cli/lib.sh"

can_record || skip_all "perf record is not permitted here (perf_event_paranoid or no perf)"
cd "$TMP" || exit 2

# Line numbers matter below only through eu-addr2line, never by value.
cat >inl.c <<'EOF'
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

__attribute__((noinline)) void
store(unsigned long x)
{
	sink = x;
}

/* Not a leaf, so that it keeps a frame pointer and its caller shows. */
__attribute__((noinline)) unsigned long
leaf_work(unsigned long x)
{
	for (int k = 0; k < 64; k++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	store(x);
	return x;
}

/* The call is the last thing of the inlined body: its return address may lie past it. */
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

int
main(int argc, char **argv)
{
	sink = hot_loop(argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000);
	return 0;
}
EOF
${CC:-cc} -O2 -g -fno-omit-frame-pointer -o inl inl.c || skip_all "cannot compile the test program"
perf record -q -g -o inl.data ./inl 3000000 >/dev/null 2>&1
run_tool plain plain.err pdcollapse inl.data
grep -q ';main;hot_loop' plain || skip_all "no samples of the test program recorded"

# The frames of the program only: from main down (libc above it may or may
# not have debug information, which is not what is tested here).
from_main() {
	grep -E ';main[ ;]' "$1" | sed -E 's/^.*;(main[ ;])/\1/' | LC_ALL=C sort
}

expect_exit 0 "--inline: exit 0" pdcollapse --inline inl.data
cp "$TMP/out" inline
if grep -q ';hot_loop;middle_step;inner_mix ' inline; then
	ok "--inline: inlined functions are frames, outermost first"
else
	not_ok "--inline: no hot_loop;middle_step;inner_mix stack" "$(from_main inline | head -n 5 | tr '\n' '|')"
fi
# The call to leaf_work ends via_inline's body: only at return address - 1
# is it inside via_inline.
if grep -q ';hot_loop;via_inline;leaf_work ' inline; then
	ok "--inline: a return address is looked up at address - 1"
else
	not_ok "--inline: no hot_loop;via_inline;leaf_work stack" "$(from_main inline | head -n 5 | tr '\n' '|')"
fi
if ! grep -Eq 'middle_step|inner_mix|via_inline' plain && ! grep -q ' (/' plain; then
	ok "without the options, frames are as before"
else
	not_ok "plain output has inline frames or lines" "$(grep -E 'middle_step|inner_mix| \(/' plain | head -n 2)"
fi

if ! command -v eu-addr2line >/dev/null 2>&1; then
	skip "eu-addr2line (elfutils) is not installed: no comparison"
	done_testing
	exit $?
fi

# The reference.  From perf script, one line per sample, root first: the
# program's frames as eu-addr2line queries "@sym+OFFSET" (OFFSET - 1 for
# return addresses: any frame but the first, or the first user frame under
# kernel frames), other frames as perf names them.
perf script -i inl.data --no-inline -F comm,tid,ip,sym,symoff,dso 2>/dev/null | awk -v bin="$TMP/inl" '
function hex(s,    i, c, v) {
	v = 0
	s = tolower(s)
	for (i = 1; i <= length(s); i++) {
		c = index("0123456789abcdef", substr(s, i, 1))
		v = v * 16 + c - 1
	}
	return v
}
function flush(    i, line) {
	if (nf) {
		line = comm
		for (i = nf; i >= 1; i--)
			line = line ";" fr[i]
		print line
	}
	nf = 0
	prevk = 0
}
/^[^\t]/ { flush(); comm = $1; next }
/^\t/ {
	dso = $NF
	gsub(/[()]/, "", dso)
	sym = $2
	k = dso ~ /kernel/
	if (dso == bin && sym ~ /\+0x[0-9a-f]+$/) {
		off = hex(substr(sym, index(sym, "+0x") + 3))
		name = substr(sym, 1, index(sym, "+0x") - 1)
		if (nf > 0 && !prevk)
			off--
		fr[++nf] = "@" name "+" off
	} else {
		sub(/\+0x[0-9a-f]+$/, "", sym)
		fr[++nf] = sym
	}
	prevk = k
	next
}
END { flush() }' >samples
tr ';' '\n' <samples | grep '^@' | sort -u >queries
sed 's/^@//' queries | eu-addr2line -f -i --pretty-print -e inl >answers 2>/dev/null

# ref MODE: the samples folded with eu-addr2line's answers.  MODE inline:
# every level named; lines: the outermost function with the line of the
# address; both: every level "func (file:line)".
ref() {
	awk -v mode="$1" '
	function loc(s) {
		if (s == "??:0" || s == "")
			return ""
		if (s ~ /:[0-9]+:[0-9]+$/)
			sub(/:[0-9]+$/, "", s)
		return " (" s ")"
	}
	function level(l,    p) {
		p = index(l, " at ")
		fn[n] = substr(l, 1, p - 1)
		at[n] = loc(substr(l, p + 4))
	}
	function done(    i, s) {
		if (!n)
			return
		s = ""
		if (mode == "lines") {
			s = fn[n] at[1]
		} else {
			for (i = n; i >= 1; i--)
				s = s (i < n ? ";" : "") fn[i] (mode == "both" ? at[i] : "")
		}
		chain[q[++nq]] = s
		n = 0
	}
	FILENAME == ARGV[1] { q[++nqueries] = $0; next }
	FILENAME == ARGV[2] {
		if (substr($0, 1, 14) == " (inlined by) ") {
			n++
			level(substr($0, 15))
		} else {
			done()
			n = 1
			level($0)
		}
		next
	}
	FNR == 1 { done() }
	{
		m = split($0, f, ";")
		s = f[1]
		for (i = 2; i <= m; i++)
			s = s ";" ((f[i] in chain) ? chain[f[i]] : f[i])
		print s " 1"
	}' queries answers samples
}

# agree NAME REFMODE [pdcollapse options]
agree() {
	n=$1
	m=$2
	shift 2
	run_tool ours ours.err pdcollapse -q --weight=samples "$@" inl.data
	ref "$m" >ref.all
	from_main ours >ours.main
	from_main ref.all >ref.main
	a=$(agreement ours.main ref.main)
	if [ "$rc" -eq 0 ] && [ "$a" -ge 990 ]; then
		ok "$n: agrees with eu-addr2line on $a per mille of samples"
	else
		not_ok "$n: agrees with eu-addr2line on only $a per mille (exit $rc)" \
		    "$(diff ours.main ref.main | head -n 12 | tr '\n' '|')"
	fi
}

if [ "$(wc -l <queries)" -gt 3 ] && [ "$(grep -c ' (inlined by) ' answers)" -gt 0 ]; then
	agree "--inline" inline --inline
	agree "--lines" lines --lines
	agree "--inline --lines" both --inline --lines
	# Line numbers really are there, and differ between the levels.
	if grep -Eq ';hot_loop \(/[^)]*/inl\.c:[0-9]+\);middle_step \(/[^)]*/inl\.c:[0-9]+\);inner_mix \(/[^)]*/inl\.c:[0-9]+\) ' ours; then
		ok "--inline --lines: each level has its own file:line"
	else
		not_ok "--inline --lines: no hot_loop (file:line);middle_step (...);inner_mix (...)" \
		    "$(grep inner_mix ours | head -n 2 | tr '\n' '|')"
	fi
else
	not_ok "eu-addr2line gave no inline chains for the program" "$(head -n 4 answers | tr '\n' '|')"
fi

# A stripped program whose DWARF is in a separate file found by build-id.
if command -v objcopy >/dev/null 2>&1 && ${CC:-cc} -O2 -g -fno-omit-frame-pointer -Wl,--build-id -o sep inl.c; then
	bid=$(readelf -n sep 2>/dev/null | awk '/Build ID/ { print $3 }')
	mkdir -p "root/usr/lib/debug/.build-id/$(echo "$bid" | cut -c1-2)" "root$TMP"
	objcopy --only-keep-debug sep "root/usr/lib/debug/.build-id/$(echo "$bid" | cut -c1-2)/$(echo "$bid" | cut -c3-).debug"
	strip -g sep
	perf record -q -N -g -o sep.data ./sep 2000000 >/dev/null 2>&1
	cp sep "root$TMP/sep"
	run_tool sep.none sep.err pdcollapse --inline sep.data
	run_tool sep.out sep.err pdcollapse --inline --symfs "$TMP/root" sep.data
	if ! grep -q ';middle_step;inner_mix ' sep.none && grep -q ';hot_loop;middle_step;inner_mix ' sep.out; then
		ok "--inline: DWARF of a stripped binary from a build-id debug file"
	else
		not_ok "--inline with a separate debug file" \
		    "without: $(grep -c inner_mix sep.none), with: $(grep -c inner_mix sep.out); $(head -c 200 sep.err)"
	fi
else
	skip "objcopy or --build-id missing"
fi

# Compressed DWARF (gcc -gz, or objcopy --compress-debug-sections as in
# Debian's debug packages) is read with only the sections that names and
# lines need inflated (lib/dwimage.c): the frames and lines must be those
# that the same DWARF gives uncompressed, from the binary itself and from a
# separate, compressed debug file found by build-id.
if command -v objcopy >/dev/null 2>&1 && command -v strip >/dev/null 2>&1 &&
    ${CC:-cc} -O2 -g -gz=zlib -fno-omit-frame-pointer -Wl,--build-id -o inlz inl.c 2>/dev/null &&
    readelf -SW inlz 2>/dev/null | grep -E '\.debug_info ' | grep -Eq ' C +[0-9]'; then
	perf record -q -N -g -o inlz.data ./inlz 2000000 >/dev/null 2>&1
	cp inlz inlz.orig
	run_tool z.out z.err pdcollapse -q --weight=samples --inline --lines inlz.data
	objcopy --decompress-debug-sections inlz
	run_tool u.out u.err pdcollapse -q --weight=samples --inline --lines inlz.data
	from_main z.out >z.main
	from_main u.out >u.main
	if grep -Eq '^main \(/[^)]*\);hot_loop \(/[^)]*/inl\.c:[0-9]+\);middle_step \(/[^)]*\);inner_mix \(/' z.main &&
	    cmp -s z.main u.main; then
		ok "compressed DWARF in the binary: the frames and lines of the same DWARF uncompressed"
	else
		not_ok "compressed DWARF in the binary differs from uncompressed" \
		    "$(diff z.main u.main | head -n 6 | tr '\n' '|') $(head -c 200 z.err)"
	fi
	bid=$(readelf -n inlz.orig 2>/dev/null | awk '/Build ID/ { print $3 }')
	d=rootz/usr/lib/debug/.build-id/$(echo "$bid" | cut -c1-2)
	mkdir -p "$d" "rootz$TMP"
	objcopy --only-keep-debug --compress-debug-sections=zlib inlz.orig "$d/$(echo "$bid" | cut -c3-).debug"
	cp inlz.orig "rootz$TMP/inlz"
	strip "rootz$TMP/inlz"	# no .symtab either: both come from the debug file
	run_tool zs.out zs.err pdcollapse -q --weight=samples --inline --lines --symfs "$TMP/rootz" inlz.data
	from_main zs.out >zs.main
	if readelf -SW "$d/$(echo "$bid" | cut -c3-).debug" 2>/dev/null | grep -E '\.debug_info ' | grep -Eq ' C +[0-9]' &&
	    [ -s zs.main ] && cmp -s zs.main u.main; then
		ok "compressed separate debug file: the frames and lines of the same DWARF uncompressed"
	else
		not_ok "compressed separate debug file differs from uncompressed" \
		    "$(diff zs.main u.main | head -n 6 | tr '\n' '|') $(head -c 200 zs.err)"
	fi
else
	skip "gcc -gz=zlib or objcopy missing: no compressed DWARF in the binary"
	skip "gcc -gz=zlib or objcopy missing: no compressed separate debug file"
fi
done_testing
