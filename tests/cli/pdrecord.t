#!/bin/sh
# pdrecord against the real perf: what pdrecord writes (file and pipe form,
# -g, --call-graph dwarf, -z, several events, tracepoints, -a, -p) must be
# read by perf report and perf script 6.1 without a word on stderr, give the
# same top symbols as perf record of the same workload, and the same sample
# count to pdcollapse as to perf.  Then exit statuses (env(1) style),
# SIGINT, forced fallbacks and write errors.
. "$PD_SRC/tests/cli/lib.sh"

command -v cc >/dev/null || skip_all "no C compiler for the workloads"
B=$(burn) || skip_all "cannot build the workload"
cd "$TMP" || exit 2
pdrecord -q -e cpu-clock -o probe.data -- true >/dev/null 2>&1 ||
	skip_all "perf_event_open is not permitted here (perf_event_paranoid or seccomp)"
have_perf=false
command -v perf >/dev/null && perf report --stdio -i probe.data >/dev/null 2>&1 && have_perf=true
N=400000

option_drift pdrecord 14

# quiet_perf NAME FILE: perf report and perf script read FILE and say
# nothing on stderr (perf 6.1 prints nothing there for a clean file).
quiet_perf() {
	if ! $have_perf; then
		skip "$1: perf is not available"
		return
	fi
	perf report --stdio -i "$2" >"$TMP/rep.out" 2>"$TMP/rep.err"
	perf script -i "$2" >"$TMP/scr.out" 2>"$TMP/scr.err"
	if [ ! -s "$TMP/rep.err" ] && [ ! -s "$TMP/scr.err" ] &&
	    grep -q '^# Samples' "$TMP/rep.out" && [ -s "$TMP/scr.out" ]; then
		ok "$1: perf report and perf script read it without a warning"
	elif [ -n "${PD_VALGRIND:-}" ] && grep -q 'lost [0-9]* chunks' "$TMP/rep.err" &&
	    ! cat "$TMP/rep.err" "$TMP/scr.err" | grep -v -e '^Warning:$' -e '^Processed [0-9]* events and lost [0-9]* chunks!$' \
	        -e '^Check IO/CPU overload!$' -e '^$' | grep -q .; then
		# perf's only word is about LOST records: the ring buffer overflowed.
		skip "under valgrind: $1: pdrecord drains the ring buffer too slowly under memcheck, perf counts lost chunks"
	else
		not_ok "$1: perf complains" "$(cat "$TMP/rep.err" "$TMP/scr.err" | head -n 5 | tr '\n' '|')"
	fi
}

# samples FILE: the samples perf script prints, one line each with -F event
# (perf report --stats cannot decompress a pipe, and --stdio rounds to 1K).
samples() {
	perf script -G -F event -i "$1" 2>/dev/null | grep -c .
}

# top3 FILE: the three symbols with most self samples, sorted.
top3() {
	perf report --stdio --no-children --sort=sym -i "$1" 2>/dev/null |
		awk '/^ +[0-9.]+%/ { print $3 }' | head -n 3 | sort
}

# File mode, call chains.
expect_exit 0 "file: pdrecord -g -- burn" pdrecord -q -g -o f.data -- "$B" $N
if [ -s f.data ] && [ "$(stat -c %a f.data)" = 600 ]; then
	ok "file: perf.data is written with mode 0600"
else
	not_ok "file: mode" "$(ls -l f.data 2>&1)"
fi
quiet_perf "file -g" f.data

# BUILD_ID: the DSOs that samples or their call chains hit, no others.
if $have_perf; then
	perf report --stdio --children --sort dso -g none -i f.data 2>/dev/null |
		awk '/%/ && $3 != "[vdso]" && $3 != "[unknown]" { print $3 }' | sort >hit.dsos
	perf buildid-list -i f.data 2>/dev/null | awk '{ n = $2; sub(/.*\//, "", n); print n }' | sort >bid.dsos
	if [ -s hit.dsos ] && cmp -s hit.dsos bid.dsos; then
		ok "file: build-ids for exactly the DSOs hit ($(tr '\n' ' ' <bid.dsos))"
	else
		not_ok "file: build-ids" "hit: $(tr '\n' ' ' <hit.dsos)" "written: $(tr '\n' ' ' <bid.dsos)"
	fi
else
	skip "file: perf is not available"
fi

# Pipe mode: stdout is a pipe (as perf record decides).
run_piped p.data p.err pdrecord -q -g -- "$B" $N
if [ "$rc" -eq 0 ] && [ "$(head -c 8 p.data)" = PERFILE2 ] && [ ! -e perf.data ]; then
	ok "pipe: stdout that is a pipe gets the pipe format"
else
	not_ok "pipe: rc $rc" "$(head -c 300 p.err)"
fi
# Redirected to a file, stdout keeps the command's output; the recording
# goes to perf.data.
mkdir redir
(cd redir && pdrecord -q -- sh -c 'echo hello' >log.txt 2>err.txt)
if [ "$(cat redir/log.txt)" = hello ] && [ "$(head -c 8 redir/perf.data)" = PERFILE2 ] &&
    [ "$(od -An -tu8 -j 48 -N 8 redir/perf.data | tr -d ' ')" != 0 ]; then
	ok "redirected to a file: the command's output stays on stdout, the recording goes to perf.data"
else
	not_ok "redirected to a file" "log: $(head -c 100 redir/log.txt | od -c | head -n 2)" \
	    "$(cat redir/err.txt)"
fi
quiet_perf "pipe -g" p.data
if $have_perf; then
	perf script -i - <p.data >p.script 2>p.script.err
	if grep -q 'leaf' p.script && [ ! -s p.script.err ]; then
		ok "pipe: perf script -i - reads it from standard input"
	else
		not_ok "pipe: perf script -i -" "$(head -n 3 p.script.err)"
	fi
else
	skip "pipe: perf is not available"
fi

# The old file is kept.
expect_exit 0 "file: a first recording" pdrecord -q -o o.data -- "$B" 100000
expect_exit 0 "file: a second recording" pdrecord -q -o o.data -- "$B" 100000
check "file: the previous file is kept as .old" test -s o.data.old

# Two events.
expect_exit 0 "events: -e cpu-clock,task-clock" pdrecord -q -e cpu-clock,task-clock -g -o e.data -- "$B" $N
quiet_perf "events" e.data
if $have_perf; then
	perf script -F event -i e.data 2>/dev/null | sort -u | tr -d ' ' >e.names
	if grep -qx 'cpu-clock:' e.names && grep -qx 'task-clock:' e.names; then
		ok "events: perf names both events"
	else
		not_ok "events: names" "$(tr '\n' ' ' <e.names)"
	fi
else
	skip "events: perf is not available"
fi

# System-wide.
expect_exit 0 "-a: system-wide with -g" pdrecord -q -a -g -o a.data -- sleep 0.2
quiet_perf "-a" a.data

# DWARF call graphs: perf unwinds pdrecord's register and stack copies.
expect_exit 0 "dwarf: --call-graph dwarf" pdrecord -q --call-graph dwarf -o d.data -- "$B" $N
quiet_perf "dwarf" d.data
run_piped dp.data dp.err pdrecord -q --call-graph dwarf,4096 -- "$B" $N
quiet_perf "dwarf, pipe" dp.data
if $have_perf; then
	perf script -i d.data 2>/dev/null | grep -A 2 'leaf+' | head -n 3 | tr -d '\t' >d.chain
	if grep -q '^ *[0-9a-f]* mid+' d.chain && grep -q '^ *[0-9a-f]* top+' d.chain; then
		ok "dwarf: perf unwinds leaf <- mid <- top"
	else
		not_ok "dwarf: perf did not unwind" "$(tr '\n' '|' <d.chain)"
	fi
	perf evlist -v -i d.data 2>/dev/null >d.evlist
	if grep -q 'REGS_USER|STACK_USER' d.evlist && grep -q 'sample_stack_user: 8192' d.evlist &&
	    grep -q 'exclude_callchain_user: 1' d.evlist; then
		ok "dwarf: the attr asks for registers and 8192 bytes of stack"
	else
		not_ok "dwarf: attr" "$(head -c 400 d.evlist)"
	fi
else
	skip "dwarf: perf is not available"
	skip "dwarf: perf is not available"
fi
expect_exit 2 "dwarf: a stack size above 65528 is bad usage" pdrecord --call-graph dwarf,70000 -a

# zstd-compressed records.
expect_exit 0 "-z: compressed file" pdrecord -q -z -g -o z.data -- "$B" $N
quiet_perf "-z" z.data
run_piped zp.data zp.err pdrecord -q --compression-level 3 -g -- "$B" $N
quiet_perf "-z, pipe" zp.data
if $have_perf; then
	perf report --stats -i z.data 2>/dev/null >z.stats
	perf report --header-only -i z.data 2>/dev/null >z.head
	if grep -q 'COMPRESSED events: *[1-9]' z.stats && grep -q 'compressed : Zstd, level = 1' z.head; then
		ok "-z: the data is in COMPRESSED records, and the feature says zstd level 1"
	else
		not_ok "-z: no COMPRESSED records" "$(grep -i compress z.stats z.head | tr '\n' '|')"
	fi
else
	skip "-z: perf is not available"
fi

# Tracepoints, with their formats (TRACING_DATA).
if [ -r /sys/kernel/tracing/events/sched/sched_switch/id ] ||
    [ -r /sys/kernel/debug/tracing/events/sched/sched_switch/id ]; then
	expect_exit 0 "tracepoint: -e sched:sched_switch" pdrecord -q -e sched:sched_switch -o tp.data \
		-- sh -c 'sleep 0.05; sleep 0.05'
	quiet_perf "tracepoint" tp.data
	run_piped tpp.data tpp.err pdrecord -q -e sched:sched_switch,cpu-clock -- sh -c 'sleep 0.05; sleep 0.05'
	quiet_perf "tracepoint, pipe" tpp.data
	if $have_perf; then
		perf script -i tp.data 2>/dev/null | grep -m 1 'sched:sched_switch:' >tp.line
		perf script -i - <tpp.data 2>/dev/null | grep -m 1 'sched:sched_switch:' >tpp.line
		if grep -q 'prev_comm=.*==> next_comm=' tp.line && grep -q 'prev_comm=' tpp.line; then
			ok "tracepoint: perf script decodes the fields (file and pipe)"
		else
			not_ok "tracepoint: fields" "$(cat tp.line tpp.line)"
		fi
	else
		skip "tracepoint: perf is not available"
	fi
else
	for t in 1 2 3 4 5; do skip "no sched:sched_switch tracepoint in tracefs"; done
fi
expect_exit 2 "tracepoint: an unknown one is bad usage" pdrecord -e sched:no_such_tracepoint -a

# Two busy CPUs at 1000 Hz with call chains: nothing lost.
expect_exit 0 "1000 Hz on 2 CPUs: records" pdrecord -v -F 1000 -g -o two.data -- \
	sh -c "'$B' $N & '$B' $N; wait"
if grep -q ' samples, [0-9]* rounds, 0 lost events' "$TMP/err" &&
    ! grep -q 'samples, 0 rounds' "$TMP/err"; then
	ok "1000 Hz on 2 CPUs: no event lost ($(grep -o '[0-9]* samples' "$TMP/err"))"
elif [ -n "${PD_VALGRIND:-}" ] && grep -q ' samples, [1-9][0-9]* rounds, [1-9][0-9]* lost events' "$TMP/err"; then
	skip "under valgrind: 1000 Hz on 2 CPUs: pdrecord drains the ring buffer too slowly under memcheck to lose nothing"
else
	not_ok "1000 Hz on 2 CPUs: losses" "$(cat "$TMP/err")"
fi

# Hardware events (cpu-clock where the machine has none).
expect_exit 0 "-e cycles,instructions" pdrecord -q -e cycles,instructions -o ci.data -- "$B" $N
quiet_perf "-e cycles,instructions" ci.data

# Attach to a process with two named threads.
cat >thr.c <<'EOF'
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
static volatile unsigned long sink;
static void *spin(void *name)
{
	pthread_setname_np(pthread_self(), name);
	for (;;)
		for (long i = 0; i < 1000000; i++)
			sink += i;
	return NULL;
}
int main(int argc, char **argv)
{
	pthread_t a, b;
	if (argc > 2) {
		/* "late": start one thread after half a second */
		usleep(500000);
		pthread_create(&a, NULL, spin, "late");
		sleep(atoi(argv[1]));
		return 0;
	}
	pthread_create(&a, NULL, spin, "worker-a");
	pthread_create(&b, NULL, spin, "worker-b");
	sleep(argc > 1 ? atoi(argv[1]) : 5);
	return 0;
}
EOF
# Under make valgrind pdrecord needs seconds to attach (both CPUs busy with
# thr): the workload lives long enough for it, and is killed at the end.
life=5
[ -z "${PD_VALGRIND:-}" ] || life=60
if ${CC:-cc} -O2 -g -fno-omit-frame-pointer -pthread -o thr thr.c; then
	./thr $life & tpid=$!
	sleep 0.3
	expect_exit 0 "-p: attach with --duration" pdrecord -q -g -p "$tpid" --duration 0.5 -o t.data
	quiet_perf "-p" t.data
	run_tool t.folded t.err pdcollapse --tid t.data
	if grep -q "^worker-a-$tpid/" t.folded && grep -q "^worker-b-$tpid/" t.folded; then
		ok "-p: the thread names appear in pdcollapse --tid"
	else
		not_ok "-p: thread names" "$(cut -c1-60 t.folded | head -n 5 | tr '\n' '|')"
	fi
	expect_exit 0 "-p: until a command ends" pdrecord -q -p "$tpid" -o t2.data -- sleep 0.2
	kill "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	# A thread created after pdrecord attached is followed.
	./thr $((life - 2)) late & tpid=$!
	sleep 0.2
	expect_exit 0 "-p: attach before a thread starts" pdrecord -q -g -p "$tpid" --duration 1 -o late.data
	run_tool late.folded late.err pdcollapse --tid late.data
	if [ -n "${PD_VALGRIND:-}" ]; then
		skip "under valgrind: pdrecord attaches after the 0.5 s the thread waits, so the thread is not created after attaching"
	elif grep -q "^late-$tpid/" late.folded; then
		ok "-p: a thread created after attaching is sampled"
	else
		not_ok "-p: the late thread is missing" "$(cut -c1-60 late.folded | head -n 5 | tr '\n' '|')"
	fi
	kill "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
else
	for t in 1 2 3 4 5 6 7; do skip "-p: cannot build the threaded workload"; done
fi

# Same top symbols and sample counts as perf.
if $have_perf && perf record -q -g -o ref.data "$B" $N >/dev/null 2>&1; then
	ours=$(top3 f.data | tr '\n' ' ')
	theirs=$(top3 ref.data | tr '\n' ' ')
	common=$(top3 f.data | grep -cxF "$(top3 ref.data)")
	if [ "$common" -ge 2 ] && echo "$ours" | grep -q leaf && echo "$theirs" | grep -q leaf; then
		ok "top symbols agree with perf record ($ours / $theirs)"
	else
		not_ok "top symbols differ" "pdrecord: $ours" "perf record: $theirs"
	fi
	for f in f.data p.data e.data d.data dp.data z.data zp.data ci.data a.data; do
		n=$(samples $f)
		run_tool c.folded c.err pdcollapse -q --weight=samples --event=all $f
		got=$(awk '!/^#/ { s += $NF } END { print s + 0 }' c.folded)
		if [ "$n" -gt 0 ] && [ "$got" -eq "$n" ]; then
			ok "$f: pdcollapse counts the $n samples perf counts"
		else
			not_ok "$f: sample counts" "pdcollapse $got, perf $n"
		fi
	done
else
	for t in 1 2 3 4 5 6 7 8 9 10; do skip "perf record is not available"; done
fi

# Top-5 self symbols on a workload with more of them (through libc's qsort):
# the same hottest symbol, and every symbol with at least 2% self in either
# recording is among the other's top 5.  Below that, one or two samples
# decide the rank, for perf against itself as well.
top5() {
	perf report --stdio --no-children --sort=sym -i "$1" 2>/dev/null |
		awk '/^ +[0-9.]+%/ { print $1, $3 }' | head -n 5
}
missing() { # symbols at >= 2% in $1 that are not in $2
	awk 'NR == FNR { top[$2] = 1; next } $1 + 0 >= 2 && !($2 in top) { print $2 }' "$2" "$1"
}
if $have_perf && ${CC:-cc} -O2 -g -fno-omit-frame-pointer -o nofp "$PD_SRC/tests/data/nofp.c" &&
    pdrecord -q -g -o t5.data -- ./nofp 3000 >/dev/null 2>&1 &&
    perf record -q -g -o t5ref.data ./nofp 3000 >/dev/null 2>&1; then
	top5 t5.data >t5.a
	top5 t5ref.data >t5.b
	gone="$(missing t5.a t5.b) $(missing t5.b t5.a)"
	if [ -z "$(echo $gone)" ] && [ "$(awk 'NR == 1 { print $2 }' t5.a)" = cmp ] &&
	    [ "$(awk 'NR == 1 { print $2 }' t5.b)" = cmp ] && [ "$(grep -c . t5.a)" -eq 5 ]; then
		ok "top-5: the same hottest symbol as perf record's file, and each symbol at >= 2% in both top-5s"
	else
		not_ok "top-5 differ (missing: $(echo $gone))" "pdrecord: $(tr '\n' ' ' <t5.a)" \
		    "perf record: $(tr '\n' ' ' <t5.b)"
	fi
else
	skip "top-5: perf record is not available"
fi

# The pipeline of the manual.
sh -c "pdrecord -q -F 99 -g -- '$B' 2000000 | pdcollapse | pdflame > out.svg" 2>pl.err
if [ -s out.svg ] && grep -q '</svg>' out.svg && grep -q 'leaf' out.svg; then
	ok "pdrecord -F 99 -g -- cmd | pdcollapse | pdflame > out.svg"
else
	not_ok "pipeline" "$(head -c 300 pl.err)"
fi

# Exit status as env(1) and timeout(1).
expect_exit 3 "exit: the command's status" pdrecord -q -o x.data sh -c 'exit 3'
expect_exit 139 "exit: 128+N for a command killed by signal N" pdrecord -q -o x.data -- sh -c 'kill -SEGV $$'
expect_exit 127 "exit: 127 for a command not found" pdrecord -q -o x.data -- ./no-such-command
chmod 644 thr.c
expect_exit 126 "exit: 126 for a command that cannot run" pdrecord -q -o x.data -- ./thr.c
expect_exit 125 "exit: 125 for bad usage with a command, as env(1)" pdrecord -e no-such-event -- true
expect_exit 125 "exit: 125 for a bad option before a command" pdrecord --no-such-option true
expect_exit 2 "exit: 2 for bad usage without a command" pdrecord -e no-such-event -a
expect_exit 2 "exit: 2 for nothing to record" pdrecord

# SIGINT ends the recording with a complete file.
pdrecord -q -o int.data -- sleep 5 >/dev/null 2>int.err & rpid=$!
if [ -n "${PD_VALGRIND:-}" ]; then
	# Under memcheck pdrecord starts in seconds, and SIGINT is ignored
	# (background job) until it sets its handler: wait for its command,
	# spawned after that.
	i=0
	while [ "$i" -lt 300 ] && ! pgrep -P "$rpid" >/dev/null 2>&1; do
		sleep 0.1
		i=$((i + 1))
	done
fi
sleep 0.5
kill -INT "$rpid"
rc=0
wait "$rpid" || rc=$?
if [ "$rc" -eq 130 ] && [ -s int.data ]; then
	ok "SIGINT: pdrecord stops, exit 130"
else
	not_ok "SIGINT: exit $rc" "$(head -c 300 int.err)"
fi
expect_exit 0 "SIGINT: the file is complete for pdcollapse" pdcollapse int.data
if $have_perf; then
	perf report --stdio -i int.data >/dev/null 2>int.rep.err
	if [ ! -s int.rep.err ]; then
		ok "SIGINT: perf reads the file without a warning"
	else
		not_ok "SIGINT: perf" "$(head -n 3 int.rep.err)"
	fi
else
	skip "SIGINT: perf is not available"
fi

# Fallbacks, forced.
PDRECORD_FORCE_FALLBACK=hw expect_exit 0 "fallback hw: records" pdrecord -e cycles -o h.data -- "$B" 100000
if [ "$(grep -c "pdrecord: note: event 'cycles' needs a hardware counter that this machine (or VM) does not offer; sampling 'cpu-clock' instead" "$TMP/err")" = 1 ] &&
	[ "$(wc -l <"$TMP/err")" = 1 ]; then
	ok "fallback hw, -e cycles: one note says cycles became cpu-clock, and why"
else
	not_ok "fallback hw: the note" "$(cat "$TMP/err")"
fi
# The default event falls back silently, as perf record's; -v notes it.
PDRECORD_FORCE_FALLBACK=hw expect_exit 0 "fallback hw, default event: records" pdrecord -o h2.data -- "$B" 100000
if [ ! -s "$TMP/err" ] && pdjson -f summary h2.data | grep -q '"events":\[{"name":"cpu-clock"'; then
	ok "fallback hw, default event: nothing on stderr; the file names cpu-clock"
else
	not_ok "fallback hw, default event: silent" "$(cat "$TMP/err")" "$(pdjson -f summary h2.data | head -c 300)"
fi
PDRECORD_FORCE_FALLBACK=hw expect_exit 0 "fallback hw, default event, -v: records" pdrecord -v -o h3.data -- "$B" 100000
if [ "$(grep -c "note: event 'cycles' needs a hardware counter" "$TMP/err")" = 1 ]; then
	ok "fallback hw, default event, -v: one note"
else
	not_ok "fallback hw, default event, -v: the note" "$(cat "$TMP/err")"
fi
PDRECORD_FORCE_FALLBACK=kernel expect_exit 0 "fallback kernel: records" pdrecord -e cpu-clock -g -o k.data -- "$B" 100000
if grep -q "user space only ('cpu-clock:u')" "$TMP/err"; then
	ok "fallback kernel: a note says it records user space only"
else
	not_ok "fallback kernel: no note" "$(cat "$TMP/err")"
fi
quiet_perf "fallback kernel" k.data
PDRECORD_FORCE_FALLBACK=perm expect_exit 125 "fallback perm: not permitted is exit 125" pdrecord -o k2.data -- true
if grep -q 'perf_event_paranoid' "$TMP/err" && grep -q CAP_PERFMON "$TMP/err" && [ ! -e k2.data ]; then
	ok "not permitted: the error names perf_event_paranoid and CAP_PERFMON"
else
	not_ok "not permitted: message" "$(cat "$TMP/err")"
fi

# Write errors.
if [ -c /dev/full ]; then
	expect_exit 125 "-o /dev/full: a write error is exit 125" pdrecord -q -o /dev/full -- true
	check "-o /dev/full: the error is reported" grep -q 'No space left' "$TMP/err"
else
	skip "no /dev/full"
	skip "no /dev/full"
fi

done_testing
