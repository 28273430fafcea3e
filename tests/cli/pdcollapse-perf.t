#!/bin/sh
# pdcollapse against the real perf: every perf.data variant of
# FORMAT-NOTES.md section 9 that perf records on this machine is recorded
# here and now, and pdcollapse must read it (exit 0), conserve its samples,
# and, for frame-pointer and no-call-graph files, agree with perf script's
# reading of the same file on >= 99% of the samples.
. "$PD_SRC/tests/cli/lib.sh"

can_record || skip_all "perf record is not permitted here (perf_event_paranoid or no perf)"
B=$(burn) || skip_all "cannot build the workload"
cd "$TMP" || exit 2
N=400000

# samples FILE: the number of SAMPLE records, as perf counts them; empty when
# perf cannot read the file itself.
samples() {
	perf report --stats -i "$1" 2>/dev/null | awk '
		/TOTAL events:/ { total = 1 }
		/ SAMPLE events:/ { n = $3 }
		END { if (total) print n + 0 }'
}

# variant NAME MODE CMD...: record with CMD (output v_NAME.data), then check.
# MODE: agree (compare with perf script), read (exit 0 and conservation).
variant() {
	v=$1
	mode=$2
	shift 2
	if ! "$@" >"$TMP/rec.log" 2>&1 || [ ! -e "v_$v.data" ]; then
		skip "$v: perf cannot record this variant here ($(tail -n 1 "$TMP/rec.log"))"
		return
	fi
	n=$(samples "v_$v.data")
	if [ -z "$n" ]; then
		# perf 6.1 fails on some of its own outputs (pipe + zstd read back
		# from a file, inject -b of a pipe file).  No crash, then; no oracle.
		run_tool "$TMP/out" "$TMP/err" pdcollapse -q "v_$v.data"
		if [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]; then
			ok "$v: perf cannot read this file; pdcollapse ends cleanly (exit $rc)"
		else
			not_ok "$v: pdcollapse exit $rc" "$(head -c 300 "$TMP/err")"
		fi
		return
	fi
	expect_exit 0 "$v: pdcollapse reads it" pdcollapse -q "v_$v.data"
	run_tool "$TMP/all.folded" "$TMP/all.err" pdcollapse -q --weight=samples --event=all "v_$v.data"
	got=$(awk '!/^#/ { s += $NF } END { print s + 0 }' "$TMP/all.folded")
	if [ -n "$n" ] && [ "$got" -eq "$n" ]; then
		ok "$v: --weight=samples --event=all adds up to the $n samples in the file"
	else
		not_ok "$v: sample conservation" "folded $got, perf counts '${n:-?}' samples"
	fi
	[ "$mode" = agree ] || return 0
	run_tool "$TMP/ours.folded" "$TMP/ours.err" pdcollapse -q --weight=samples "v_$v.data"
	fold_ref "v_$v.data" >"$TMP/ref.folded"
	a=$(agreement "$TMP/ours.folded" "$TMP/ref.folded")
	if [ "$a" -ge 990 ]; then
		ok "$v: stacks agree with perf script on $a per mille of samples"
	else
		not_ok "$v: stacks agree with perf script on only $a per mille of samples" \
		    "$(diff "$TMP/ours.folded" "$TMP/ref.folded" | head -n 20 | tr '\n' '|')"
	fi
}

pr() { perf record -q "$@"; }

variant plain agree pr -o v_plain.data "$B" $N
variant fp agree pr -g -o v_fp.data "$B" $N
variant dwarf read pr --call-graph dwarf -o v_dwarf.data "$B" 100000
variant dwarf4k read pr --call-graph dwarf,4096 -o v_dwarf4k.data "$B" 100000
variant multi read pr -e cycles,instructions -o v_multi.data "$B" $N
variant group read pr -e '{cycles,instructions}:S' -o v_group.data "$B" $N
variant swevent agree pr -e cpu-clock -g -o v_swevent.data "$B" $N
variant user agree pr -e cpu-clock:u -g -o v_user.data "$B" $N
variant tp read pr -e sched:sched_switch -a -o v_tp.data sleep 0.2
variant syswide agree pr -a -o v_syswide.data sleep 0.2
variant syswide_g agree pr -a -g -o v_syswide_g.data sleep 0.2
variant z agree pr -z -o v_z.data "$B" $N
variant z_g agree pr -z -g -o v_z_g.data "$B" $N
variant nobuildid agree pr --no-buildid -g -o v_nobuildid.data "$B" $N
variant switch agree pr --switch-events -g -o v_switch.data "$B" $N
variant data agree pr -d -o v_data.data "$B" $N
variant sampleid agree pr --sample-identifier --sample-cpu -g -o v_sampleid.data "$B" $N
variant period agree pr -c 100000 -g -o v_period.data "$B" $N
variant clockid agree pr -k mono -g -o v_clockid.data "$B" $N
variant buildidmmap agree pr --buildid-mmap -g -o v_buildidmmap.data "$B" $N
variant namespaces agree pr --namespaces -o v_namespaces.data "$B" $N
variant cgroups agree pr --all-cgroups -o v_cgroups.data "$B" $N
variant pagesize agree pr -d --data-page-size --code-page-size -o v_pagesize.data "$B" $N
variant physaddr agree pr -d --phys-data -o v_physaddr.data "$B" $N
variant intrregs agree pr -I -o v_intrregs.data "$B" $N
variant userregs agree pr --user-regs=ip,sp -o v_userregs.data "$B" $N
variant weight agree pr -W -d -o v_weight.data "$B" $N
variant threads read pr --threads -g -o v_threads.data "$B" $N
variant perthread agree pr --per-thread -g -o v_perthread.data "$B" $N
variant noinherit agree pr -i -g -o v_noinherit.data "$B" $N

# perf record -p PID -- CMD exits 143 when CMD ends; the file is complete.
attach() { perf record -q "$@"; [ -s v_attach.data ]; }
"$B" 3000000 & bpid=$!
sleep 0.1
variant attach agree attach -g -p "$bpid" -o v_attach.data -- sleep 0.3
kill "$bpid" 2>/dev/null; wait "$bpid" 2>/dev/null

# A recorder that was killed: data.size 0 and no feature table.
( perf record -q -g -o v_killed.data "$B" 30000000 >/dev/null 2>&1 & echo $! >"$TMP/perf.pid"; wait ) &
sleep 0.5
kill -9 "$(cat "$TMP/perf.pid")" 2>/dev/null
wait
pkill -f "$B 30000000" 2>/dev/null
if [ -s v_killed.data ]; then
	expect_exit 0 "killed: pdcollapse salvages a killed recording" pdcollapse v_killed.data
	if grep -q 'data size is 0' "$TMP/err"; then
		ok "killed: it warns that the recording was cut short"
	else
		not_ok "killed: no salvage warning" "$(cat "$TMP/err")"
	fi
else
	skip "killed: perf left no file"
fi

precp() { out=$1; shift; perf record -q -o - "$@" > "$out"; }
variant pipe agree precp v_pipe.data "$B" $N
variant pipe_g agree precp v_pipe_g.data -g "$B" $N
variant pipe_z agree precp v_pipe_z.data -z -g "$B" $N
variant pipe_tp read precp v_pipe_tp.data -e sched:sched_switch -a sleep 0.2
variant statrec read perf stat record -o v_statrec.data "$B" 100000
if [ -e v_pipe.data ]; then
	variant inject_b agree perf inject -b -i v_pipe.data -o v_inject_b.data
fi
if [ -e v_plain.data ]; then
	variant inject_fb agree perf inject -b -i v_plain.data -o v_inject_fb.data
	variant inject_all agree perf inject --buildid-all -i v_plain.data -o v_inject_all.data
fi

# Pipe mode from standard input, and the same stacks as the file.
if [ -e v_pipe_g.data ]; then
	run_tool "$TMP/a" "$TMP/e" pdcollapse v_pipe_g.data
	pdcollapse - <v_pipe_g.data >"$TMP/b" 2>"$TMP/e2"; rc=$?
	if [ "$rc" -eq 0 ] && cmp -s "$TMP/a" "$TMP/b"; then
		ok "pipe: '-' reads standard input, same output as the file"
	else
		not_ok "pipe: stdin differs" "rc $rc"
	fi
fi
done_testing
