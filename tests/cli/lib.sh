# lib.sh - shell helpers for the CLI tests: TAP output, exit-code checks
# that reject crashes, and fixtures recorded by the real perf at test time.
# Sourced by tests/cli/*.t; POSIX sh.

: "${PD_BIN:?PD_BIN must point at the build directory (make check sets it)}"
: "${PD_SRC:?PD_SRC must point at the source tree}"
PATH=$PD_BIN:$PATH
# make valgrind: $PD_VALGRIND mirrors $PD_BIN with wrappers that run each
# program under memcheck (tests/valgrind/run.sh); found first by name.
[ -z "${PD_VALGRIND:-}" ] || PATH=$PD_VALGRIND:$PATH
export LC_ALL=C

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pdtest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
# Nothing of the developer's home or of earlier runs: each test file gets an
# empty HOME of its own, so perf's build-id cache (~/.debug, which perf
# record fills and pdcollapse reads), ~/.perfconfig, ~/.local/share and
# man-db's ~/.manpath start empty; the loaders read their system defaults,
# not a user's settings.  Standard input is /dev/null, as under CI and cron
# (a test that wants a terminal or a pipe makes one).
# Toolchains kept in the home (rustup's ~/.rustup and ~/.cargo, found
# through PATH) are tools, not leftovers: their homes are named so that
# they keep working.
if [ -z "${RUSTUP_HOME:-}" ] && [ -d "$HOME/.rustup" ]; then export RUSTUP_HOME="$HOME/.rustup"; fi
if [ -z "${CARGO_HOME:-}" ] && [ -d "$HOME/.cargo" ]; then export CARGO_HOME="$HOME/.cargo"; fi
HOME=$TMP/home
mkdir "$HOME"
export HOME
unset XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_DIRS XDG_CONFIG_DIRS BASH_COMPLETION_USER_DIR MANPATH
exec </dev/null
tap_n=0
tap_fail=0

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

# not_ok NAME [DIAGNOSTIC...]: the diagnostics go to stdout with the TAP
# line and, as Test::More does, to stderr too, where prove shows them (and
# CI logs keep them) even without -v.
not_ok() {
	tap_n=$((tap_n + 1))
	tap_fail=$((tap_fail + 1))
	echo "not ok $tap_n - $1"
	echo "#   Failed test $tap_n - $1" >&2
	shift
	for l in "$@"; do
		echo "#   $l"
		echo "#   $l" >&2
	done
}

# check NAME CMD...: ok when CMD succeeds.
check() {
	_name=$1
	shift
	if "$@"; then ok "$_name"; else not_ok "$_name" "command failed: $*"; fi
}

skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # SKIP $1"
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

diag() {
	echo "# $*"
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_fail" -eq 0 ]
}

# run_tool OUT ERR CMD...: run the tool under test with output to files, and
# set $rc to its exit status.  Never pipe the program under test.
run_tool() {
	_out=$1
	_err=$2
	shift 2
	rc=0
	"$@" >"$_out" 2>"$_err" || rc=$?
}

# run_piped OUT ERR CMD...: run_tool with standard output into a pipe
# (then into OUT); rc is CMD's exit status.
run_piped() {
	_out=$1
	_err=$2
	shift 2
	rc=$({ { "$@" 2>"$_err"; echo $? >&3; } | cat >"$_out"; } 3>&1)
}

# expect_exit WANT NAME CMD...: the exact exit status; a signal (>= 128)
# always fails.
expect_exit() {
	_want=$1
	_name=$2
	shift 2
	run_tool "$TMP/out" "$TMP/err" "$@"
	if [ "$rc" -eq "$_want" ]; then
		ok "$_name"
	else
		not_ok "$_name" "exit $rc, want $_want: $*" "stderr: $(head -c 400 "$TMP/err")"
	fi
}

# can_record: whether perf record works here (kernel and permissions).
can_record() {
	command -v perf >/dev/null 2>&1 || return 1
	perf record -q -o "$TMP/probe.data" -- true >/dev/null 2>&1
}

# Limits of the runs on hostile input (bad-input.t, truncation.t): sets
# $memlimit, KiB for ulimit -v, and $tlimit, seconds before a run counts as
# hung.  ASan reserves terabytes of address space, so ulimit -v would kill it
# at start: no memory limit for sanitizer builds, nor under make valgrind
# (memcheck needs far more address space than the tool); and a run under
# memcheck takes seconds.
# shellcheck disable=SC2034 # both are used by the callers
hostile_limits() {
	memlimit=1048576
	case $PD_BIN in
	*-asan | *-asan/) memlimit= ;;
	esac
	if [ -n "${PD_ASAN:-}" ] || [ -n "${PD_VALGRIND:-}" ] || grep -q __asan_init "$PD_BIN/pdcollapse" 2>/dev/null; then
		memlimit=
	fi
	[ -n "$memlimit" ] || diag "sanitizer build or valgrind: no ulimit -v"
	tlimit=10
	[ -z "${PD_VALGRIND:-}" ] || tlimit=120
}

# The bundled workload, built once per test file.
burn() {
	if [ ! -x "$TMP/burn" ]; then
		${CC:-cc} -O2 -g -fno-omit-frame-pointer -o "$TMP/burn" "$PD_SRC/tests/data/burn.c" ||
			return 1
	fi
	echo "$TMP/burn"
}

# fold_ref FILE [perf script options]: folded stacks from perf script's
# reading of FILE, with weight 1 per sample, by our own implementation of
# stackcollapse-perf.pl's conventions (tests/cli/ref-collapse.awk).
fold_ref() {
	_f=$1
	shift
	perf script -i "$_f" -F comm,pid,tid,event,ip,sym,dso "$@" 2>/dev/null |
		awk -f "$PD_SRC/tests/cli/ref-collapse.awk" | LC_ALL=C sort
}

# agreement A B: the share of samples (weighted by count) on which two folded
# files agree, in per mille: sum(min(a,b)) / max(sum a, sum b).
agreement() {
	awk '
	FNR == 1 { f++ }
	/^#/ { next }
	{
		n = $NF; s = $0; sub(/ [0-9]+$/, "", s)
		if (f == 1) { a[s] += n; ta += n } else { b[s] += n; tb += n }
	}
	END {
		for (s in a) if (s in b) m += (a[s] < b[s] ? a[s] : b[s])
		t = ta > tb ? ta : tb
		if (t == 0) { print 0; exit }
		printf "%d\n", int(1000 * m / t)
	}' "$1" "$2"
}

# option_drift TOOL MIN: the option table is the one source of truth.
# --list-options lists at least MIN options, every long option is in
# man/TOOL.1 and in the bash, zsh and fish completions, and the man pages
# are lint-clean.
option_drift() {
	_tool=$1
	run_tool "$TMP/opts" "$TMP/err" "$_tool" --list-options
	if [ "$rc" -eq 0 ] && [ "$(wc -l <"$TMP/opts")" -ge "$2" ]; then
		ok "$_tool --list-options lists the options"
	else
		not_ok "$_tool --list-options" "rc $rc"
	fi
	_missing=
	while IFS='	' read -r _long _short _kind _help; do
		grep -q -- "Fl \\\\-$(echo "$_long" | sed 's/-/\\\\-/g')" "$PD_SRC/man/$_tool.1" ||
			_missing="$_missing man:--$_long"
		grep -q -- "--$_long" "$PD_BIN/completions/pd.bash" || _missing="$_missing bash:--$_long"
		grep -q -- "--$_long" "$PD_BIN/completions/_pd" || _missing="$_missing zsh:--$_long"
		grep -q -- "-c $_tool -l $_long" "$PD_BIN/completions/pd.fish" || _missing="$_missing fish:--$_long"
	done <"$TMP/opts"
	if [ -z "$_missing" ]; then
		ok "$_tool: every option is in the man page and the completions"
	else
		not_ok "$_tool: options missing" "$_missing"
	fi
	if command -v mandoc >/dev/null; then
		check "$_tool.1 and pd-formats.5 are lint-clean" \
		    mandoc -Tlint -Wwarning "$PD_SRC/man/$_tool.1" "$PD_SRC/man/pd-formats.5"
	else
		skip "mandoc is not installed"
	fi
}

# find_nobody: as root, set $as_nobody to a command prefix that runs a
# command as the user nobody (setpriv, else su); empty when not root or
# when neither works.  The caller skips with a reason when it is empty.
su_nobody() {
	su nobody -s /bin/sh -c 'exec "$0" "$@"' -- "$@"
}
find_nobody() {
	as_nobody=
	if [ "$(id -u)" -eq 0 ]; then
		if setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
			as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
		elif su nobody -s /bin/sh -c true 2>/dev/null; then
			as_nobody=su_nobody
		fi
	fi
}
