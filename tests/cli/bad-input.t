#!/bin/sh
# The malformed corpus, tests/data/bad/ (one defect per file, made by
# tests/helpers/mkbad, or found by fuzzing), through every tool that reads
# perf.data: pdcollapse, pdtop and pdjson.  For every row "NAME EXIT
# SUBSTRING" of tests/data/bad/EXPECT, for each tool, under a time limit and
# a memory limit:
#   - the exact exit status (a signal, a timeout or running out of the
#     memory limit fails);
#   - exit 2: exactly one error line (warnings and notes aside), of the form
#     "TOOL: 'FILE': what at offset 0xN", containing SUBSTRING;
#   - exit 0: no error line, and SUBSTRING (unless "-") in a warning that
#     names the file, with the salvaged samples printed;
#   - damage in the middle of the records (exit 2): what was read before it
#     is printed all the same.
. "$PD_SRC/tests/cli/lib.sh"

BAD=$PD_SRC/tests/data/bad
[ -r "$BAD/EXPECT" ] || skip_all "no $BAD/EXPECT"
for t in pdcollapse pdtop pdjson; do
	[ -x "$PD_BIN/$t" ] || skip_all "no $PD_BIN/$t (run make)"
done

# Exit 2 with the damage after some samples: these must print what came before.
MIDDLE=" size-zero-record size-four-record record-size-past-data-end
	sample-shorter-than-sample-type callchain-nr-huge callchain-nr-plus-one
	tracing-data-size-huge auxtrace-size-huge compressed2-size-lies
	data-size-past-features feature-offset-past-eof buildid-entry-size-ffff
	buildid-entry-size-small pipe-size-zero-record pipe-buildid-short
	zstd-inner-size-zero "

# ASan reserves terabytes of address space, so ulimit -v would kill it at
# start: no memory limit for sanitizer builds.
memlimit=1048576
case $PD_BIN in
*-asan | *-asan/) memlimit= ;;
esac
if [ -n "${PD_ASAN:-}" ] || grep -q __asan_init "$PD_BIN/pdcollapse" 2>/dev/null; then
	memlimit=
fi
[ -n "$memlimit" ] || diag "sanitizer build: no ulimit -v"

# run_bad TOOL FILE: the tool on FILE with the limits; sets $rc, output in
# $TMP/out and $TMP/err.
run_bad() {
	rc=0
	case $1 in
	pdcollapse) set -- pdcollapse --weight=samples "$2" ;;
	pdtop) set -- pdtop -n 5 "$2" ;;
	pdjson) set -- pdjson "$2" ;;
	esac
	(
		if [ -n "$memlimit" ]; then
			# Not POSIX, but dash, bash and busybox sh have it.
			# shellcheck disable=SC3045
			ulimit -v "$memlimit" || exit 99
		fi
		exec timeout 10 "$@"
	) >"$TMP/out" 2>"$TMP/err" || rc=$?
}

# printed TOOL: how much of the samples $TMP/out shows: folded stacks,
# rows of pdtop's table, or pdjson's sample lines.
printed() {
	case $1 in
	pdtop) grep -c '%' "$TMP/out" || true ;;
	*) grep -vc '^#' "$TMP/out" || true ;;
	esac
}

# is_hex S: S is a non-empty run of lower-case hex digits.
is_hex() {
	case $1 in
	'' | *[!0-9a-f]*) return 1 ;;
	esac
	return 0
}

seen=" "
while read -r name want sub; do
	case $name in
	'' | '#'*) continue ;;
	esac
	f=$BAD/$name.data
	seen="$seen$name "
	if [ ! -f "$f" ]; then
		not_ok "$name: listed in EXPECT" "no file $f"
		continue
	fi
	for tool in pdcollapse pdtop pdjson; do
		run_bad "$tool" "$f"
		why=
		if [ "$rc" -ne "$want" ]; then
			why="exit $rc, want $want"
			[ "$rc" -eq 124 ] && why="$why (timed out)"
			[ "$rc" -gt 128 ] && why="$why (killed by signal $((rc - 128)))"
		fi
		grep -v -e "^$tool: warning: " -e "^$tool: note: " "$TMP/err" >"$TMP/errs" || true
		nerr=$(wc -l <"$TMP/errs")
		n=$(printed "$tool")
		if [ "$want" -eq 2 ]; then
			line=$(head -n 1 "$TMP/errs")
			if [ "$nerr" -ne 1 ]; then
				why="$why; $nerr error lines, want 1"
			fi
			case $line in
			"$tool: '$f': "*" at offset 0x"*)
				is_hex "${line##* at offset 0x}" || why="$why; offset is not hex: $line"
				;;
			*)
				why="$why; not \"$tool: '$f': ... at offset 0xN\": $line"
				;;
			esac
			case $line in
			*"$sub"*) ;;
			*) why="$why; no \"$sub\" in the error" ;;
			esac
			case $MIDDLE in
			*" $name "*)
				[ "$n" -gt 0 ] || why="$why; nothing printed from before the damage"
				;;
			esac
		else
			[ "$nerr" -eq 0 ] || why="$why; error lines: $(head -c 300 "$TMP/errs")"
			if [ "$sub" != - ]; then
				grep "^$tool: warning: .*'$f'" "$TMP/err" >"$TMP/warn" || true
				grep -qF -- "$sub" "$TMP/warn" ||
					why="$why; no warning naming the file with \"$sub\""
				[ "$n" -gt 0 ] || why="$why; nothing salvaged printed"
			fi
		fi
		if [ -z "$why" ]; then
			ok "$tool $name: exit $want${sub:+, $sub}"
		else
			not_ok "$tool $name: exit $want${sub:+, $sub}" "${why#; }" "stderr: $(head -c 400 "$TMP/err")"
		fi
	done
done <"$BAD/EXPECT"

# Every file of the corpus has its row.
missing=
for f in "$BAD"/*.data; do
	name=${f##*/}
	name=${name%.data}
	case $seen in
	*" $name "*) ;;
	*) missing="$missing $name" ;;
	esac
done
if [ -z "$missing" ]; then
	ok "every file of tests/data/bad has an EXPECT row"
else
	not_ok "every file of tests/data/bad has an EXPECT row" "missing:$missing"
fi

# Damage in the middle: the stacks before it are those of the whole file,
# cut short, not something else.  Each stack of the damaged file occurs in
# the whole one with at least its count, and some samples are missing.
run_bad pdcollapse "$PD_SRC/tests/data/fp.data"
if [ "$rc" -eq 0 ]; then
	cp "$TMP/out" "$TMP/whole"
	run_bad pdcollapse "$BAD/sample-shorter-than-sample-type.data"
	cp "$TMP/out" "$TMP/part"
	awk '
		/^#/ { next }
		{ n = $NF; s = $0; sub(/ [0-9]+$/, "", s) }
		FNR == NR { whole[s] = n; tw += n; next }
		{ tp += n; if (!(s in whole) || n > whole[s]) bad++ }
		END { printf "%d %d %d\n", bad + 0, tp + 0, tw + 0 }' "$TMP/whole" "$TMP/part" >"$TMP/cmp"
	read -r foreign part whole <"$TMP/cmp"
	if [ "$rc" -eq 2 ] && [ "$foreign" -eq 0 ] && [ "$part" -gt 0 ] && [ "$part" -lt "$whole" ]; then
		ok "sample-shorter-than-sample-type: exit 2, and the $part of $whole samples before the damage are folded"
	else
		not_ok "sample-shorter-than-sample-type: stacks before the damage" \
		    "exit $rc; $foreign stacks not in the whole file; $part of $whole samples"
	fi
else
	not_ok "fp.data reads cleanly (exit $rc)" "stderr: $(head -c 400 "$TMP/err")"
fi

done_testing
