#!/bin/sh
# Shell completions (completions/gen.sh): a real bash loads the generated
# build/completions/pd.bash and completes command lines, set up as bash sets
# them up for a completion function (COMP_WORDS split at blanks and at the
# COMP_WORDBREAKS characters = and :, COMP_CWORD, COMP_LINE, COMP_POINT);
# the candidates must be exactly the options, sort keys, palettes, events
# and processes the tools themselves list.  pdrecord's hidden --list-events
# and --list-pids, which the completions run, are checked against the
# library's event table, tracefs and /proc, and stay out of --help and
# --list-options.  zsh and fish check the syntax of their files, and fish
# completes a few lines itself (complete -C), when they are installed.
. "$PD_SRC/tests/cli/lib.sh"

command -v bash >/dev/null 2>&1 || skip_all "bash is not installed"
PD_BASH=$PD_BIN/completions/pd.bash
[ -f "$PD_BASH" ] || skip_all "no $PD_BASH: run make first"

# A process of our own for -p to find, alive however slow the test runs
# (under make valgrind it takes minutes); killed at exit.
sleep 3600 &
spid=$!
trap 'kill "$spid" 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM
prefix=${spid%?}
[ -n "$prefix" ] || prefix=$spid

# drive.bash PD_BASH LINE: the candidates that the completion of PD_BASH
# offers for LINE, the cursor at its end, sorted, one a line: what bash
# would put in place of the text readline completes.
cat >"$TMP/drive.bash" <<'EOS'
. "$1" || exit 3
line=$2
COMP_WORDS=()
w=
for ((i = 0; i < ${#line}; i++)); do
	c=${line:i:1}
	case $c in
	' ') [[ -z $w ]] || COMP_WORDS+=("$w"); w= ;;
	[=:]) if [[ -n $w && $w != [=:]* ]]; then COMP_WORDS+=("$w"); w=; fi; w+=$c ;;
	*) if [[ $w == [=:]* ]]; then COMP_WORDS+=("$w"); w=; fi; w+=$c ;;
	esac
done
COMP_WORDS+=("$w")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$line
COMP_POINT=${#line}
tool=${COMP_WORDS[0]##*/}
spec=$(complete -p "$tool") || exit 4
fn=${spec#*-F }
fn=${fn%% *}
"$fn" "$tool" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
EOS

# comp LINE: the candidates, into $TMP/c.
comp() {
	bash "$TMP/drive.bash" "$PD_BASH" "$1" >"$TMP/c" 2>"$TMP/cerr" ||
		echo "drive.bash failed: $?" >>"$TMP/cerr"
}

# comp_is LINE WANT [WHAT]: the candidates are exactly the lines of WANT
# (sorted; none when WANT is empty), named WHAT in the test's name.
comp_is() {
	comp "$1"
	if [ -n "$2" ]; then
		printf '%s\n' "$2" | LC_ALL=C sort >"$TMP/want"
	else
		: >"$TMP/want"
	fi
	_what=${3:-$(printf '%s' "$2" | tr '\n' ' ')}
	if cmp -s "$TMP/c" "$TMP/want" && [ ! -s "$TMP/cerr" ]; then
		ok "bash: '$1<TAB>' offers exactly: ${_what:-nothing}"
	else
		not_ok "bash: '$1<TAB>' offers exactly: ${_what:-nothing}" "got: $(head -c 300 "$TMP/c" | tr '\n' ' ')" \
		    "$(head -c 300 "$TMP/cerr")"
	fi
}

# comp_has LINE WORD...: the candidates include each WORD.
comp_has() {
	_line=$1
	shift
	comp "$_line"
	_missing=
	for _w in "$@"; do
		grep -qxF -- "$_w" "$TMP/c" || _missing="$_missing $_w"
	done
	if [ -z "$_missing" ] && [ ! -s "$TMP/cerr" ]; then
		ok "bash: '$_line<TAB>' offers $*"
	else
		not_ok "bash: '$_line<TAB>' offers $*" "missing:$_missing" \
		    "got: $(head -c 200 "$TMP/c" | tr '\n' ' ')" "$(head -c 300 "$TMP/cerr")"
	fi
}

# ---- The hidden options of pdrecord.

expect_exit 0 "pdrecord --list-events exits 0" pdrecord --list-events
cp "$TMP/out" "$TMP/events"
if [ -s "$TMP/events" ] && LC_ALL=C sort -u -c "$TMP/events" 2>/dev/null; then
	ok "--list-events: sorted, each name once"
else
	not_ok "--list-events: sorted, each name once" "$(head -n 5 "$TMP/events")"
fi
pdrecord --list-events >"$TMP/events2" 2>&1
check "--list-events: the same twice" cmp -s "$TMP/events" "$TMP/events2"

# The names without a colon are those of the library's event table.
sed -n '/event_names\[\] = {/,/^};/p' "$PD_SRC/lib/record.c" | grep -o '{ "[^"]*"' |
    sed 's/^{ "//; s/"$//' | LC_ALL=C sort >"$TMP/table"
grep -v : "$TMP/events" >"$TMP/aliases"
if [ "$(wc -l <"$TMP/table")" -ge 10 ] && cmp -s "$TMP/table" "$TMP/aliases"; then
	ok "--list-events: the event names are lib/record.c's event table"
else
	not_ok "--list-events: the event names are lib/record.c's event table" \
	    "table: $(tr '\n' ' ' <"$TMP/table")" "listed: $(tr '\n' ' ' <"$TMP/aliases")"
fi

rc=0
# Every listed name is one -e takes: without a command or -p, pdrecord then
# complains of nothing to record, not of an unknown event.
ev_taken() {
	run_tool "$TMP/out" "$TMP/err" pdrecord -e "$2"
	if [ "$rc" -eq 2 ] && grep -q 'nothing to record' "$TMP/err" && ! grep -q 'unknown event' "$TMP/err"; then
		ok "$1"
	else
		not_ok "$1" "rc $rc: $(head -c 300 "$TMP/err")"
	fi
}
ev_taken "pdrecord -e takes every listed event name" "$(paste -sd, "$TMP/aliases")"

tracefs=
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	if [ -r "$d/events/header_page" ]; then
		tracefs=$d
		break
	fi
done
if [ -n "$tracefs" ] && [ -r "$tracefs/events/sched/sched_switch/id" ]; then
	check "--list-events: tracepoints of tracefs, sched:sched_switch among them" \
	    grep -qx 'sched:sched_switch' "$TMP/events"
	grep : "$TMP/events" | sed -n '1p; 100p; $p' >"$TMP/tps"
	ev_taken "pdrecord -e takes listed tracepoints ($(paste -sd' ' "$TMP/tps"))" "$(paste -sd, "$TMP/tps")"
	tracefs_ok=1
else
	skip "tracefs is not readable here (no $tracefs/events/sched/sched_switch/id): no tracepoints to list"
	skip "tracefs is not readable here: no tracepoints for -e"
	tracefs_ok=
fi

expect_exit 0 "pdrecord --list-pids exits 0" pdrecord --list-pids
cp "$TMP/out" "$TMP/pids"
if [ -s "$TMP/pids" ] && ! grep -qv '^[0-9][0-9]*	' "$TMP/pids" &&
    cut -f1 "$TMP/pids" | sort -n -u -c 2>/dev/null; then
	ok "--list-pids: PID<TAB>comm lines, by PID"
else
	not_ok "--list-pids: PID<TAB>comm lines, by PID" "$(head -n 5 "$TMP/pids")"
fi
check "--list-pids: our sleep, as $spid<TAB>sleep" grep -qx "$spid	sleep" "$TMP/pids"
check "--list-pids: the test's shell, $$" grep -q "^$$	" "$TMP/pids"

pdrecord --help >"$TMP/help" 2>&1
pdrecord --list-options >"$TMP/opts" 2>&1
if grep -q 'list-events\|list-pids' "$TMP/help" "$TMP/opts"; then
	not_ok "the hidden options are in neither --help nor --list-options" "$(grep 'list-' "$TMP/help" "$TMP/opts")"
else
	ok "the hidden options are in neither --help nor --list-options"
fi

# ---- bash.

# Every tool's long options, exactly those of --list-options.
for t in pdcollapse pdflame pdrecord pdtop pdjson pddiff; do
	comp_is "$t --" "$("$t" --list-options | cut -f1 | sed 's/^/--/')"
done
comp_has "pdtop -" -s --sort -n -h --help

keys=$(pdtop --list-options | awk -F '\t' '$1 == "sort" { print $3 }' | tr '|' '\n')
if [ "$(echo "$keys" | wc -l)" -ge 5 ]; then
	ok "pdtop --list-options: the sort keys ($(printf '%s' "$keys" | tr '\n' ' '))"
else
	not_ok "pdtop --list-options: the sort keys" "$keys"
fi
comp_is "pdtop --sort " "$keys"
comp_is "pdtop -s " "$keys"
comp_is "pdtop --sort comm,d" "comm,dso"
comp_is "pdtop --sort comm," "$(echo "$keys" | grep -vx comm | sed 's/^/comm,/')"
comp_is "pdtop --sort=s" "symbol"
comp_is "pdtop --sort=" "$keys"
comp_is "pdtop --sort=comm,p" "comm,pid"
comp_is "pdtop -sd" "-sdso"
comp_is "pdtop --weight " "period
samples"
comp_is "pdtop --percent-limit " ""

# Events, from the pdrecord being completed.
comp_is "pdrecord -e " "$(cat "$TMP/events")" "the names of --list-events ($(wc -l <"$TMP/events"))"
comp_has "pdrecord --event " cycles
comp_is "pdrecord -e cycles,cpu-c" "cycles,cpu-clock
cycles,cpu-cycles"
comp_is "pdrecord --event=cyc" "cycles"
comp_is "pdrecord -ecyc" "-ecycles"
comp "pdrecord -e cycles,"
if grep -qx 'cycles,instructions' "$TMP/c" && ! grep -qx 'cycles,cycles' "$TMP/c" &&
    ! grep -qv '^cycles,' "$TMP/c"; then
	ok "bash: 'pdrecord -e cycles,<TAB>' offers the other events after cycles,"
else
	not_ok "bash: 'pdrecord -e cycles,<TAB>' offers the other events after cycles," "$(head -n 5 "$TMP/c")"
fi
if [ -n "$tracefs_ok" ]; then
	comp_is "pdrecord -e sched:sched_sw" "$(sed -n 's/^sched:\(sched_sw.*\)/\1/p' "$TMP/events")"
	comp_has "pdrecord -e sched:sched_sw" sched_switch
	comp_has "pdrecord -e cycles,sched:" sched_switch
else
	skip "tracefs is not readable here: no tracepoints to complete"
	skip "tracefs is not readable here: no tracepoints to complete"
	skip "tracefs is not readable here: no tracepoints to complete"
fi

# The command word as typed is the one that lists.
mkdir "$TMP/fake"
cat >"$TMP/fake/pdrecord" <<'EOS'
#!/bin/sh
[ "$1" = --list-events ] && echo fake-event
EOS
chmod +x "$TMP/fake/pdrecord"
comp_is "$TMP/fake/pdrecord -e " "fake-event"

# Processes.
comp_has "pdrecord -p " "$spid"
comp "pdrecord -p $prefix"
if grep -qx "$spid" "$TMP/c" && ! grep -qv "^$prefix" "$TMP/c"; then
	ok "bash: 'pdrecord -p $prefix<TAB>' offers $spid, and only pids that begin with $prefix"
else
	not_ok "bash: 'pdrecord -p $prefix<TAB>' offers $spid, and only pids that begin with $prefix" \
	    "$(head -n 5 "$TMP/c")"
fi
comp "pdrecord -p 1,$prefix"
if grep -qx "1,$spid" "$TMP/c" && ! grep -qv "^1,$prefix" "$TMP/c"; then
	ok "bash: 'pdrecord -p 1,$prefix<TAB>' offers 1,$spid"
else
	not_ok "bash: 'pdrecord -p 1,$prefix<TAB>' offers 1,$spid" "$(head -n 5 "$TMP/c")"
fi
comp_has "pdrecord --pid=$prefix" "$spid"

# pdflame's palettes, as its option table lists them, each one it takes.
palettes=$(pdflame --list-options | awk -F '\t' '$1 == "colors" { print $4 }' | tr ' ' '\n')
comp_is "pdflame --colors " "$palettes"
bad=
for p in $palettes; do
	printf 'a;b 1\n' | pdflame --colors "$p" >/dev/null 2>&1 || bad="$bad $p"
done
if [ "$(echo "$palettes" | wc -l)" -ge 10 ] && [ -z "$bad" ]; then
	ok "pdflame takes every palette offered"
else
	not_ok "pdflame takes every palette offered" "refused:$bad"
fi

# Operands: files (and directories for a directory), for pdrecord a command
# and then its arguments.
mkdir "$TMP/files" "$TMP/files/sub"
: >"$TMP/files/perf.data"
: >"$TMP/files/perf.data.old"
cd "$TMP/files" || exit 2
comp_is "pdtop perf" "perf.data
perf.data.old"
comp_is "pdtop --sort comm perf" "perf.data
perf.data.old"
comp_is "pdcollapse --kallsyms perf" "perf.data
perf.data.old"
comp_is "pdcollapse --symfs " "sub"
comp_is "pdrecord -o perf.data." "perf.data.old"
comp_has "pdrecord ech" echo
comp_has "pdrecord -g -- ech" echo
comp_is "pdrecord -- --ev" ""
comp_is "pdrecord sleep perf" "perf.data
perf.data.old"
comp_is "pdrecord sleep --ev" ""
cd "$PD_SRC" || exit 2

# Without COMP_LINE (as tests/cli/install.t calls it): COMP_WORDS alone.
cat >"$TMP/nl.bash" <<'EOS'
. "$1" || exit 3
COMP_WORDS=(pdtop --sort "")
COMP_CWORD=2
_pdtop
printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
EOS
bash "$TMP/nl.bash" "$PD_BASH" >"$TMP/c" 2>&1
echo "$keys" | LC_ALL=C sort >"$TMP/want"
check "bash: without COMP_LINE, COMP_WORDS are enough" cmp -s "$TMP/c" "$TMP/want"

# ---- zsh and fish.

if command -v zsh >/dev/null 2>&1; then
	check "zsh -n: _pd is valid zsh" zsh -n "$PD_BIN/completions/_pd"
else
	skip "zsh is not installed (apt-get install zsh): _pd not checked"
fi
if command -v fish >/dev/null 2>&1; then
	check "fish -n: pd.fish is valid fish" fish -n "$PD_BIN/completions/pd.fish"
	# fish_comp LINE WANT: complete -C LINE includes the line WANT (fish
	# drops an empty description, keeps a tab before another).
	# shellcheck disable=SC2016
	fish_comp() {
		fish -c 'source $argv[1]; complete -C $argv[2]' "$PD_BIN/completions/pd.fish" "$1" >"$TMP/c" 2>&1
		if grep -qxF -- "$2" "$TMP/c"; then
			ok "fish: '$1<TAB>' offers $2"
		else
			not_ok "fish: '$1<TAB>' offers $2" "got: $(head -c 300 "$TMP/c" | tr '\n' ' ')"
		fi
	}
	fish_comp "pdtop --sort comm,d" "comm,dso"
	fish_comp "pdrecord -e cycles,cpu-c" "cycles,cpu-clock"
	fish_comp "pdrecord -p 1,$prefix" "1,$spid	sleep"
	fish_comp "pdflame --colors h" "hot"
else
	skip "fish is not installed (apt-get install fish): pd.fish not checked"
fi

done_testing
