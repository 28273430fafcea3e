#!/bin/sh
# The malformed corpus, tests/data/bad/ (one defect per file, made by
# tests/helpers/mkbad, or found by fuzzing), through every tool that reads
# perf.data: pdcollapse, pdtop, pdjson in each of its formats, and pddiff
# with the file as its BASE.  For every row "NAME EXIT SUBSTRING" of
# tests/data/bad/EXPECT, for each tool, under a time limit and a memory
# limit:
#   - the exact exit status (a signal, a timeout or running out of the
#     memory limit fails);
#   - exit 2: exactly one line on stderr, nothing else (no warning, no
#     second line with counts), of the form "TOOL: 'FILE': what at offset
#     0xN", containing SUBSTRING;
#   - exit 0: no error line and at most one warning line; SUBSTRING (unless
#     "-") in that one warning, which names the file and the offset, with
#     the salvaged samples printed;
#   - damage in the middle of the records or a file cut short (exit 2):
#     what was read before it is printed all the same.
# pddiff compares; an operand it cannot compare (no samples left: all of
# them in records of an unknown type) is an exit 2 with the one line, for
# rows whose EXIT is 0 too.
. "$PD_SRC/tests/cli/lib.sh"

BAD=$PD_SRC/tests/data/bad
[ -r "$BAD/EXPECT" ] || skip_all "no $BAD/EXPECT"
for t in pdcollapse pdtop pdjson pddiff; do
	[ -x "$PD_BIN/$t" ] || skip_all "no $PD_BIN/$t (run make)"
done
TOOLS="pdcollapse pdtop pdjson pdjson:summary pdjson:tree pdjson:speedscope pddiff"

# Exit 0, a warning, and no samples to print: the whole profile lies in
# records of an unknown type.
NOSAMPLES=" compressed-retyped pipe-compressed-retyped "

# Exit 2 with the damage after some samples: these must print what came before.
MIDDLE=" size-zero-record size-four-record record-size-past-data-end
	sample-shorter-than-sample-type callchain-nr-huge callchain-nr-plus-one
	tracing-data-size-huge auxtrace-size-huge compressed2-size-lies
	data-size-past-features feature-offset-past-eof buildid-entry-size-ffff
	buildid-entry-size-small pipe-size-zero-record pipe-buildid-short
	zstd-inner-size-zero data-size-lies truncated-mid-record
	truncated-mid-header feature-size-huge truncated-in-features
	truncated-in-feature-table pipe-truncated pipe-record-size-past-eof
	pipe-tracing-data-huge zstd-truncated "

# $memlimit and $tlimit (lib.sh).
hostile_limits

# run_bad TOOL FILE: the tool on FILE with the limits; sets $rc, output in
# $TMP/out and $TMP/err.  TOOL is pdjson:FORMAT for pdjson -f FORMAT.
run_bad() {
	rc=0
	case $1 in
	pdcollapse) set -- pdcollapse --weight=samples "$2" ;;
	pdtop) set -- pdtop -n 5 "$2" ;;
	pdjson) set -- pdjson "$2" ;;
	pdjson:*) set -- pdjson -f "${1#pdjson:}" "$2" ;;
	pddiff) set -- pddiff --no-gate "$2" "$PD_SRC/tests/data/fp.data" ;;
	esac
	(
		if [ -n "$memlimit" ]; then
			# Not POSIX, but dash, bash and busybox sh have it.
			# shellcheck disable=SC3045
			ulimit -v "$memlimit" || exit 99
		fi
		exec timeout "$tlimit" "$@"
	) >"$TMP/out" 2>"$TMP/err" || rc=$?
}

# printed TOOL: how much of the samples $TMP/out shows: folded stacks,
# rows of pdtop's table, or pdjson's sample lines.
printed() {
	case $1 in
	pdtop) grep -c '%' "$TMP/out" || true ;;
	pdjson:summary) grep -c '"samples": *[1-9]' "$TMP/out" || true ;;
	pdjson:*) grep -c '"name"' "$TMP/out" || true ;;
	pddiff) echo 1 ;;	# both sides are mixed in its output
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
	for tool in $TOOLS; do
		t=${tool%%:*}
		run_bad "$tool" "$f"
		why=
		want_t=$want
		# pddiff cannot compare an operand whose samples are all gone.
		[ "$t" = pddiff ] && [ "$want" -eq 0 ] && [ "$rc" -eq 2 ] && want_t=2
		if [ "$rc" -ne "$want_t" ]; then
			why="exit $rc, want $want"
			[ "$rc" -eq 124 ] && why="$why (timed out)"
			[ "$rc" -gt 128 ] && why="$why (killed by signal $((rc - 128)))"
		fi
		grep -v -e "^$t: warning: " -e "^$t: note: " "$TMP/err" >"$TMP/errs" || true
		grep "^$t: warning: " "$TMP/err" >"$TMP/warn" || true
		nerr=$(wc -l <"$TMP/errs")
		nwarn=$(wc -l <"$TMP/warn")
		nall=$(wc -l <"$TMP/err")
		n=$(printed "$tool")
		if [ "$want_t" -eq 2 ]; then
			line=$(head -n 1 "$TMP/errs")
			if [ "$nall" -ne 1 ] || [ "$nerr" -ne 1 ]; then
				why="$why; $nall lines on stderr ($nerr not warnings or notes), want the one error line"
			fi
			case $line in
			"$t: '$f': "*" at offset 0x"*)
				x=${line#* at offset 0x}
				is_hex "${x%%[!0-9a-f]*}" || why="$why; offset is not hex: $line"
				;;
			*)
				why="$why; not \"$t: '$f': ... at offset 0xN\": $line"
				;;
			esac
			if [ "$sub" != - ]; then
				case $line in
				*"$sub"*) ;;
				*) why="$why; no \"$sub\" in the error" ;;
				esac
			fi
			case $MIDDLE in
			*" $name "*)
				[ "$n" -gt 0 ] || why="$why; nothing printed from before the damage"
				;;
			esac
		else
			[ "$nerr" -eq 0 ] || why="$why; error lines: $(head -c 300 "$TMP/errs")"
			[ "$nwarn" -le 1 ] || why="$why; $nwarn warning lines, want at most one"
			if [ "$sub" != - ]; then
				line=$(head -n 1 "$TMP/warn")
				case $line in
				"$t: warning: '$f': "*" at offset 0x"*) ;;
				*) why="$why; no warning \"$t: warning: '$f': ... at offset 0xN\"" ;;
				esac
				grep -qF -- "$sub" "$TMP/warn" ||
					why="$why; no warning naming the file with \"$sub\""
				[ "$n" -gt 0 ] || [ "$NOSAMPLES" != "${NOSAMPLES#* $name }" ] ||
					why="$why; nothing salvaged printed"
				# pdjson's summary: the warning is its health.damage too.
				if [ "$tool" = pdjson:summary ]; then
					grep -qF -- "\"damage\":\"'$f': " "$TMP/out" && grep -qF -- "$sub" "$TMP/out" ||
						why="$why; health.damage does not hold the warning"
				fi
			elif [ "$tool" = pdjson:summary ] && ! grep -qF '"damage":null' "$TMP/out"; then
				why="$why; health.damage is not null"
			fi
		fi
		if [ -z "$why" ]; then
			ok "$tool $name: exit $want_t${sub:+, $sub}"
		else
			not_ok "$tool $name: exit $want_t${sub:+, $sub}" "${why#; }" "stderr: $(head -c 400 "$TMP/err")"
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

# DSO paths that lead to a FIFO, a device or a symlink to one (RELIABILITY.md
# R12): only regular files are opened, so nothing blocks or reads without
# end, and the stacks are folded.  fp.data's binary is
# /tmp/pdburn/burn (tests/data/README), looked up under --symfs.
mkdir -p "$TMP/symfs/tmp/pdburn" "$TMP/symfs2/tmp/pdburn"
if mkfifo "$TMP/symfs/tmp/pdburn/burn" 2>/dev/null; then
	ln -s /dev/zero "$TMP/symfs2/tmp/pdburn/burn"
	for d in symfs symfs2; do
		rc=0
		timeout "$tlimit" pdcollapse --symfs "$TMP/$d" "$PD_SRC/tests/data/fp.data" >"$TMP/out" 2>"$TMP/err" || rc=$?
		if [ "$rc" -eq 0 ] && grep -q '^burn;' "$TMP/out"; then
			ok "$d: a FIFO or /dev/zero in place of a binary is not opened (exit 0, stacks folded)"
		else
			not_ok "$d: a FIFO or /dev/zero in place of a binary is not opened" "exit $rc" \
			    "$(head -n 2 "$TMP/out")" "stderr: $(head -c 300 "$TMP/err")"
		fi
	done
else
	skip "mkfifo failed: no FIFO test"
fi

# Names that would break the folded format (RELIABILITY.md T8): a command
# named "x;y 12" must not add a frame (';') nor end in a count (" 12").
# pdcollapse writes ':' and '_' as stackcollapse-perf.pl does, and pdflame
# reads back every sample.
if can_record && b=$(burn); then
	cp "$b" "$TMP/x;y 12"
	if perf record -q -F 2000 -g -o "$TMP/semi.data" -- "$TMP/x;y 12" 20000 >/dev/null 2>&1; then
		pdcollapse --weight=samples "$TMP/semi.data" >"$TMP/semi.folded" 2>/dev/null
		n=$(awk '!/^#/ { s += $NF } END { print s + 0 }' "$TMP/semi.folded")
		pdflame -v "$TMP/semi.folded" >/dev/null 2>"$TMP/err"
		if grep -q '^x:y_12;' "$TMP/semi.folded" && ! grep -q '^x;y' "$TMP/semi.folded" &&
		    grep -q "0 unreadable; total $n;" "$TMP/err" && [ "$n" -gt 0 ]; then
			ok "a comm with ';' and ' 12' folds as x:y_12, and pdflame reads all $n samples back"
		else
			not_ok "a comm with ';' and ' 12' folds as x:y_12" "$(head -n 2 "$TMP/semi.folded")" "$(cat "$TMP/err")"
		fi
	else
		skip "perf record of a command named 'x;y 12' failed"
	fi
else
	skip "perf record does not work here: no comm with ';'"
fi

# The catalogue of defect classes (tests/data/bad/CATALOGUE): every class
# names tests that exist, and there are at least 50 classes.
nclass=0
missing=
while read -r id refs _; do
	case $id in
	'' | '#'*) continue ;;
	esac
	nclass=$((nclass + 1))
	for r in $(echo "$refs" | tr ',' ' '); do
		case $r in
		bad:*)
			n=${r#bad:}
			[ -f "$BAD/$n.data" ] && grep -q "^$n " "$BAD/EXPECT" || missing="$missing $id:$r"
			;;
		t:* | unit:*)
			d=cli
			case $r in unit:*) d=unit ;; esac
			x=${r#*:}
			file=${x%%:*}
			word=${x#*:}
			grep -qF -- "$word" "$PD_SRC/tests/$d/$file" 2>/dev/null || missing="$missing $id:$r"
			;;
		fuzz:*)
			[ -f "$PD_SRC/tests/fuzz/${r#fuzz:}.c" ] && [ -d "$PD_SRC/tests/fuzz/corpus/${r#fuzz:}" ] ||
				missing="$missing $id:$r"
			;;
		*) missing="$missing $id:$r(unknown kind)" ;;
		esac
	done
done <"$BAD/CATALOGUE"
if [ -z "$missing" ] && [ "$nclass" -ge 50 ]; then
	ok "CATALOGUE: $nclass defect classes, each with its tests"
else
	not_ok "CATALOGUE: at least 50 defect classes, each with its tests" "$nclass classes; missing:$missing"
fi

done_testing
