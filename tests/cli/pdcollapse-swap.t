#!/bin/sh
# pdcollapse on big-endian perf.data.  Each variant is recorded here by the
# real perf, then rewritten by tests/helpers/gen-swap as a big-endian perf
# would have written it.  pdcollapse must fold the swapped copy exactly as
# it folds the original.  gen-swap must be its own inverse on files without
# COMPRESSED records.  perf itself must read a swapped file-mode copy as it
# reads the original, which checks gen-swap independently of our reader.
. "$PD_SRC/tests/cli/lib.sh"

can_record || skip_all "perf record is not permitted here (perf_event_paranoid or no perf)"
B=$(burn) || skip_all "cannot build the workload"
GS=${PD_VALGRIND:-$PD_BIN}/tests/helpers/gen-swap
cd "$TMP" || exit 2
N=200000

if [ ! -x "$GS" ]; then
	not_ok "gen-swap is built" "no $GS: run make tests"
	done_testing
	exit
fi

# fold_same V LABEL [OPTION...]: pdcollapse exits 0 on both copies of V and
# prints the same stacks, at least one of them.
fold_same() {
	v=$1
	label=$2
	shift 2
	run_tool "$TMP/a.folded" "$TMP/a.err" pdcollapse "$@" "v_$v.data"
	ra=$rc
	run_tool "$TMP/b.folded" "$TMP/b.err" pdcollapse "$@" "v_$v.swapped"
	if [ "$ra" -ne 0 ]; then
		not_ok "$v: pdcollapse $label on the original exits $ra" "$(head -c 300 "$TMP/a.err")"
	elif [ "$rc" -ne 0 ]; then
		not_ok "$v: pdcollapse $label on the swapped copy exits $rc" "$(head -c 300 "$TMP/b.err")"
	elif ! grep -qv '^#' "$TMP/a.folded"; then
		not_ok "$v: pdcollapse $label folds no stacks from the original"
	elif ! cmp -s "$TMP/a.folded" "$TMP/b.folded"; then
		not_ok "$v: pdcollapse $label folds the swapped copy differently" \
		    "$(diff "$TMP/a.folded" "$TMP/b.folded" | head -n 10 | tr '\n' '|')"
	else
		ok "$v: pdcollapse $label folds the swapped copy as the original"
	fi
}

# variant V MODE CMD...: record v_V.data with CMD, swap it and compare.
# MODE: file or pipe (perf record -o -, saved), each with -z for COMPRESSED
# records, whose round trip only has to fold the same: they are compressed
# again.
variant() {
	v=$1
	mode=$2
	shift 2
	if ! "$@" >"$TMP/rec.log" 2>&1 || [ ! -s "v_$v.data" ]; then
		skip "$v: perf cannot record this variant here ($(tail -n 1 "$TMP/rec.log"))"
		return
	fi
	run_tool "$TMP/gs.out" "$TMP/gs.err" "$GS" "v_$v.data" "v_$v.swapped"
	if [ "$rc" -ne 0 ] || [ -s "$TMP/gs.err" ]; then
		not_ok "$v: gen-swap exits $rc" "$(head -c 300 "$TMP/gs.err")"
		return
	fi
	ok "$v: gen-swap converts it"
	if cmp -s "v_$v.data" "v_$v.swapped"; then
		not_ok "$v: the swapped copy is the original"
	elif [ "$(head -c 8 "v_$v.swapped")" != 2ELIFREP ]; then
		not_ok "$v: the swapped copy has no big-endian magic"
	else
		ok "$v: the swapped copy differs and has the big-endian magic"
	fi
	fold_same "$v" "(default)"
	fold_same "$v" "--weight=samples --event=all" --weight=samples --event=all

	run_tool "$TMP/gs.out" "$TMP/gs.err" "$GS" "v_$v.swapped" "v_$v.back"
	if [ "$rc" -ne 0 ]; then
		not_ok "$v: gen-swap of the swapped copy exits $rc" "$(head -c 300 "$TMP/gs.err")"
	elif [ "$mode" = file ] || [ "$mode" = pipe ]; then
		if cmp -s "v_$v.data" "v_$v.back"; then
			ok "$v: swapping twice gives the original bytes"
		else
			not_ok "$v: swapping twice changes the file" "$(cmp "v_$v.data" "v_$v.back")"
		fi
	else
		run_tool "$TMP/a.folded" "$TMP/a.err" pdcollapse "v_$v.data"
		run_tool "$TMP/c.folded" "$TMP/c.err" pdcollapse "v_$v.back"
		if [ "$rc" -eq 0 ] && cmp -s "$TMP/a.folded" "$TMP/c.folded"; then
			ok "$v: swapped twice, it folds as the original"
		else
			not_ok "$v: swapped twice, pdcollapse exits $rc or folds differently" \
			    "$(head -c 300 "$TMP/c.err")"
		fi
	fi

	# perf 6.1 does not read swapped pipes (seen here: "Can't parse sample"
	# with tracepoints, and -z fails as if the COMPRESSED feature were
	# missing), so perf is the oracle in file mode only.
	case $mode in
	pipe*) return ;;
	esac
	# perf 6.1 looks up /tmp/perf-PID.map for anonymous executable maps
	# (JITs, valgrind) of a native file but not of a swapped one: those
	# frames are named alike on both sides before comparing.
	perf script -i "v_$v.data" -F comm,pid,tid,time,ip,sym,dso 2>/dev/null |
		sed 's|(/tmp/perf-[0-9]*\.map)|(//anon)|' >"$TMP/p1"
	perf script -i "v_$v.swapped" -F comm,pid,tid,time,ip,sym,dso 2>/dev/null |
		sed 's|(/tmp/perf-[0-9]*\.map)|(//anon)|' >"$TMP/p2"
	if [ -s "$TMP/p1" ] && cmp -s "$TMP/p1" "$TMP/p2"; then
		ok "$v: perf script reads the swapped copy as the original"
	else
		not_ok "$v: perf script reads the swapped copy differently" \
		    "$(diff "$TMP/p1" "$TMP/p2" | head -n 6 | tr '\n' '|')"
	fi
}

pr() { perf record -q "$@"; }
prp() {
	_o=$1
	shift
	perf record -q -o - "$@" >"$_o"
}

variant plain file pr -o v_plain.data "$B" $N
variant fp file pr -g -o v_fp.data "$B" $N
variant syswide file pr -e cpu-clock -a -g -o v_syswide.data sleep 0.2
variant z file-z pr -z -g -o v_z.data "$B" $N
variant dwarf file pr --call-graph dwarf,4096 -o v_dwarf.data "$B" 50000
variant sampleid file pr --sample-identifier --sample-cpu -g -o v_sampleid.data "$B" $N
variant pipe pipe prp v_pipe.data -g "$B" $N
variant pipe_z pipe-z prp v_pipe_z.data -z -g "$B" $N

# Refusals: one line and exit 2, never a crash.
expect_exit 2 "gen-swap refuses a file that is not perf.data" \
    "$GS" "$PD_SRC/tests/data/burn.c" out.swapped
expect_exit 2 "gen-swap refuses a wrong number of arguments" "$GS" v_plain.data
if [ -s v_plain.data ]; then
	head -c 300 v_plain.data >short.data
	expect_exit 2 "gen-swap refuses a truncated file" "$GS" short.data out.swapped
fi

done_testing
