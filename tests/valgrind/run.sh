#!/bin/sh
# make valgrind: the unit tests, the CLI tests, the fuzz replayers and a
# truncation sweep with every program of the tree under valgrind's memcheck.
# No memcheck error, no leak definitely lost.
#
#   sh tests/valgrind/run.sh O TOOL...     (O: the absolute build directory)
#
# Under O/valgrind/bin, a wrapper script stands for each tool, test helper,
# fuzz replayer and unit test, at the same relative path as the program in O.
# tests/cli/lib.sh puts $PD_VALGRIND (that directory) first in PATH, so
# tools called by name run under memcheck; the few tests that call a
# program by its path in the tree use ${PD_VALGRIND:-$PD_BIN}/....  Each run
# writes its own log, O/valgrind/log/NAME.PID.log (and its command line in
# NAME.PID.cmd), so the tools' stderr, which the tests check, stays clean.
# An error or a definite leak also makes the program exit 99, which the test
# sees; and a log that is not empty after the run fails the target all the
# same, listed with its command line and first lines.
#
# Memcheck options:
#   --trace-children=no   programs the tools start (pdrecord's workload)
#                         run natively;
#   --run-libc-freeres=no glibc's freeres at exit flushes stdio: in a
#                         forked child that then calls _exit (lib/trace.c's
#                         probe) it would write the parent's buffered output
#                         a second time, which never happens natively.
#
# The tests see PD_VALGRIND and adapt where memcheck's slowness makes a
# check meaningless: no ulimit -v, longer hang limits, a few skips "under
# valgrind" (tests/cli/pdrecord.t).  The truncation sweep of
# tests/cli/truncation.t (about 2700 runs) is cut down to the zstd recording
# (PD_TRUNC_ONLY, PD_TRUNC_RANDOM: set them to choose); instead, the
# fuzz replayer reads every third prefix of the committed fixtures in one
# process below.  PROVE and PROVE_OPTS come from make, as for make check;
# without PROVE_OPTS the test files run one per CPU.
set -u
O=$1
shift
: "${PD_SRC:?PD_SRC must point at the source tree}"
command -v valgrind >/dev/null 2>&1 || { echo "valgrind: not installed (make deps)" >&2; exit 2; }

W=$O/valgrind/bin
L=$O/valgrind/log
rm -rf "$W" "$L" "$O/valgrind/cuts"
mkdir -p "$W" "$L" "$O/valgrind/cuts" || exit 2

supp=
for s in "$PD_SRC"/tests/valgrind/*.supp; do
	[ -f "$s" ] && supp="$supp --suppressions=$s"
done

# wrap REL: O/valgrind/bin/REL runs O/REL under memcheck.  valgrind's pid
# is the shell's (exec), so NAME.PID.cmd goes with NAME.PID.log.
wrap() {
	mkdir -p "$W/$(dirname "$1")" || exit 2
	cat >"$W/$1" <<WRAPPER || exit 2
#!/bin/sh
printf '%s\\n' "cd \$PWD" "\$*" >'$L/${1##*/}.'\$\$.cmd
exec valgrind --tool=memcheck -q --error-exitcode=99 --leak-check=full \\
    --errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=40 \\
    --track-fds=no --trace-children=no --run-libc-freeres=no$supp \\
    --log-file='$L/${1##*/}.%p.log' '$O/$1' "\$@"
WRAPPER
	chmod 755 "$W/$1" || exit 2
}

units=
for t in "$@"; do
	wrap "$t"
done
for f in "$O"/tests/helpers/* "$O"/tests/fuzz/*-replay "$O"/tests/unit/*.test; do
	case $f in
	*.o | *.d) continue ;;
	esac
	if [ ! -f "$f" ] || [ ! -x "$f" ]; then continue; fi
	wrap "${f#"$O"/}"
	case $f in
	*.test) units="$units $W/${f#"$O"/}" ;;
	esac
done

rc=0
export PD_TRUNC_ONLY="${PD_TRUNC_ONLY-z}" PD_TRUNC_RANDOM="${PD_TRUNC_RANDOM-20}"
# shellcheck disable=SC2086
PD_VALGRIND=$W ${PROVE:-prove} ${PROVE_OPTS:--j$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)} \
    --exec '' $units "$PD_SRC"/tests/cli/*.t || rc=$?

# Truncation in process: every third prefix of each committed recording
# (file, pipe and zstd form), read by the reader's fuzz target, whose
# invariants (an error names its offset, every sample is counted) hold too.
R=$W/tests/fuzz/reader-replay
if [ -x "$R" ]; then
	for f in "$PD_SRC"/tests/data/*.data; do
		b=${f##*/}
		n=$(wc -c <"$f")
		i=0
		while [ "$i" -le "$n" ]; do
			head -c "$i" "$f" >"$O/valgrind/cuts/$b.$i"
			i=$((i + 3))
		done
	done
	n=$(find "$O/valgrind/cuts" -type f | wc -l)
	r=0
	"$R" "$O/valgrind/cuts" >"$O/valgrind/cuts.tap" 2>&1 || r=$?
	if [ "$r" -eq 0 ] && ! grep -q '^not ok' "$O/valgrind/cuts.tap" &&
	    grep -qx "1\\.\\.$n" "$O/valgrind/cuts.tap"; then
		echo "valgrind: reader-replay read $n prefixes of tests/data/*.data"
	else
		echo "valgrind: reader-replay on $n prefixes of tests/data/*.data: exit $r" >&2
		grep '^not ok' "$O/valgrind/cuts.tap" | head -n 10 >&2
		rc=1
	fi
	rm -rf "$O/valgrind/cuts"
fi

# Keep the logs that say something, with the command line of each run.
n=0
for f in "$L"/*.log; do
	[ -f "$f" ] || continue
	if [ -s "$f" ]; then
		n=$((n + 1))
		echo "==== $f: $(tr '\n' ' ' <"${f%.log}.cmd" 2>/dev/null)" >&2
		head -n 40 "$f" >&2
	else
		rm -f "$f" "${f%.log}.cmd"
	fi
done
for f in "$L"/*.cmd; do
	[ -f "${f%.cmd}.log" ] || rm -f "$f"
done
if [ "$n" -gt 0 ]; then
	echo "valgrind: $n runs with memcheck errors or definite leaks, logs in $L" >&2
	rc=1
else
	echo "valgrind: no memcheck error, no leak definitely lost"
fi
exit "$rc"
