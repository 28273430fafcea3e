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
#   - damage in the middle of the records or a file cut short (exit 2):
#     what was read before it is printed all the same.
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
	zstd-inner-size-zero data-size-lies truncated-mid-record
	truncated-mid-header feature-size-huge truncated-in-features
	truncated-in-feature-table pipe-truncated pipe-record-size-past-eof
	pipe-tracing-data-huge zstd-truncated "

# $memlimit and $tlimit (lib.sh).
hostile_limits

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
		exec timeout "$tlimit" "$@"
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
