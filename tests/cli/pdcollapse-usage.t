#!/bin/sh
# pdcollapse's command line: help, version, exit codes for bad usage and bad
# files, the option table against the man page and the completions, and
# determinism of the output.
. "$PD_SRC/tests/cli/lib.sh"

expect_exit 0 "--help exits 0" pdcollapse --help
if grep -q '^usage: pdcollapse' "$TMP/out" && [ ! -s "$TMP/err" ]; then
	ok "--help prints the usage to stdout"
else
	not_ok "--help output" "$(head -n 2 "$TMP/out")"
fi
expect_exit 0 "-V exits 0" pdcollapse -V
if grep -Eq '^pdcollapse [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out"; then ok "-V prints the version"; else not_ok "-V output" "$(cat "$TMP/out")"; fi

# Bad usage: exit 2, usage on stderr, nothing on stdout.
while IFS="|" read -r args msg; do
	# shellcheck disable=SC2086
	expect_exit 2 "bad usage: $args" pdcollapse $args
	if grep -q -e "$msg" "$TMP/err" && grep -q '^usage: pdcollapse' "$TMP/err" && [ ! -s "$TMP/out" ]; then
		ok "bad usage: $args: says '$msg' and shows the usage"
	else
		not_ok "bad usage: $args: message" "$(cat "$TMP/err")"
	fi
done <<'ROWS'
--bogus|unknown option '--bogus'
-Z|unknown option '-Z'
--weight=bogus|--weight takes period or samples
--weight|needs an argument
--event|needs an argument
ROWS

# Inputs that are not perf.data: exit 2, one line naming the file.
printf 'hello world, not perf data at all\n' >"$TMP/text.data"
: >"$TMP/empty.data"
expect_exit 2 "missing file: exit 2" pdcollapse "$TMP/nonexistent.data"
grep -q "cannot open '.*nonexistent.data': No such file" "$TMP/err" && ok "missing file: says cannot open" || not_ok "missing file message" "$(cat "$TMP/err")"
expect_exit 2 "text file: exit 2" pdcollapse "$TMP/text.data"
if grep -q "'$TMP/text.data': text, not perf.data (folded stacks go to pdflame, pdtop, pdjson or pddiff as they are) at offset 0x0" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then
	ok "text file: one line, with the file, the offset and where text goes"
else
	not_ok "text file message" "$(cat "$TMP/err")"
fi
expect_exit 2 "empty file: exit 2" pdcollapse "$TMP/empty.data"
expect_exit 2 "a directory without data: exit 2" pdcollapse "$TMP"
expect_exit 2 "empty stdin: exit 2" pdcollapse - </dev/null

option_drift pdcollapse 15
check "bash completion parses" bash -n "$PD_BIN/completions/pd.bash"
if command -v zsh >/dev/null; then check "zsh completion parses" zsh -n "$PD_BIN/completions/_pd"; else skip "zsh is not installed"; fi
if command -v fish >/dev/null; then check "fish completion parses" fish --no-execute "$PD_BIN/completions/pd.fish"; else skip "fish is not installed"; fi

# Output is deterministic and locale-independent.
fx=$PD_SRC/tests/data/fp.data
if [ -f "$fx" ]; then
	run_tool "$TMP/a" "$TMP/ea" pdcollapse "$fx"
	LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8 pdcollapse "$fx" >"$TMP/b" 2>/dev/null
	LC_ALL=C.UTF-8 pdcollapse "$fx" >"$TMP/c" 2>/dev/null
	if [ "$rc" -eq 0 ] && cmp -s "$TMP/a" "$TMP/b" && cmp -s "$TMP/a" "$TMP/c"; then
		ok "same bytes on every run and in every locale"
	else
		not_ok "output differs between runs or locales"
	fi
	if sed 's/ [0-9]*$//' "$TMP/a" | LC_ALL=C sort -c; then
		ok "stacks are sorted bytewise"
	else
		not_ok "stacks are not sorted"
	fi
	# Several files: merged; a bad one among them gives exit 2 and the rest.
	run_tool "$TMP/two" "$TMP/e2" pdcollapse "$fx" "$fx"
	one=$(awk '!/^#/ { s += $NF } END { print s }' "$TMP/a")
	run_tool "$TMP/one" "$TMP/e1" pdcollapse "$fx"
	n1=$(awk '!/^#/ { s += $NF } END { print s }' "$TMP/one")
	n2=$(awk '!/^#/ { s += $NF } END { print s }' "$TMP/two")
	[ "$n2" -eq $((2 * n1)) ] && ok "two files are merged ($n1 + $n1 samples)" || not_ok "merge" "$n1 vs $n2"
	run_tool "$TMP/mixed" "$TMP/em" pdcollapse "$fx" "$TMP/text.data"
	nm=$(awk '!/^#/ { s += $NF } END { print s }' "$TMP/mixed")
	if [ "$rc" -eq 2 ] && [ "$nm" -eq "$n1" ]; then
		ok "a bad file among good ones: exit 2, the good one still folded"
	else
		not_ok "bad among good" "rc $rc, $nm samples"
	fi
	# Root frame options.
	run_tool "$TMP/pid" "$TMP/ep" pdcollapse --pid "$fx"
	grep -Eq '^[^;]+-[0-9]+;' "$TMP/pid" && ok "--pid: comm-PID root" || not_ok "--pid" "$(sed -n 1p "$TMP/pid")"
	run_tool "$TMP/tid" "$TMP/et" pdcollapse --tid "$fx"
	grep -Eq '^[^;]+-[0-9]+/[0-9]+;' "$TMP/tid" && ok "--tid: comm-PID/TID root" || not_ok "--tid" "$(sed -n 1p "$TMP/tid")"
	run_tool "$TMP/nc" "$TMP/en" pdcollapse --no-comm "$fx"
	if [ -s "$TMP/nc" ] && ! grep -q "^$(sed -n 1p "$TMP/a" | cut -d';' -f1);" "$TMP/nc"; then
		ok "--no-comm: no comm root"
	else
		not_ok "--no-comm" "$(head -n 2 "$TMP/nc")"
	fi
	# The metadata line: only with --header; the last of --header and --no-header wins.
	if [ -s "$TMP/a" ] && ! grep -q '^#' "$TMP/a"; then
		ok "no metadata line by default"
	else
		not_ok "default output has a # line" "$(head -n 1 "$TMP/a")"
	fi
	run_tool "$TMP/h" "$TMP/eh" pdcollapse --header "$fx"
	run_tool "$TMP/hp" "$TMP/ehp" pdcollapse --header --weight=period "$fx"
	run_tool "$TMP/hn" "$TMP/ehn" pdcollapse --header --no-header "$fx"
	if [ "$(head -n 1 "$TMP/h")" = "# pd-folded v1 weight=samples event=cpu-clock:pppH tool=pdcollapse" ] &&
	    [ "$(sed 1d "$TMP/h")" = "$(cat "$TMP/a")" ] &&
	    [ "$(head -n 1 "$TMP/hp")" = "# pd-folded v1 weight=period event=cpu-clock:pppH tool=pdcollapse" ] &&
	    cmp -s "$TMP/hn" "$TMP/a"; then
		ok "--header: the metadata line (weight, event) before the same stacks; --no-header after it wins"
	else
		not_ok "--header" "$(head -n 1 "$TMP/h")" "$(head -n 1 "$TMP/hp")" "$(head -n 1 "$TMP/hn")"
	fi
	# The default weight is one per sample; --weight=period sums the periods.
	run_tool "$TMP/p" "$TMP/epp" pdcollapse --weight=period "$fx"
	ns=$(awk '{ s += $NF } END { print s }' "$TMP/a")
	np=$(awk '{ s += $NF } END { print s }' "$TMP/p")
	ss=$(sed 's/ [0-9]*$//' "$TMP/a")
	sp=$(sed 's/ [0-9]*$//' "$TMP/p")
	if [ "$ns" = 67 ] && [ "$np" = 33500000 ] && [ "$ss" = "$sp" ]; then
		ok "default weight: 67 samples; --weight=period: their 33500000 ns, the same stacks"
	else
		not_ok "weights" "samples $ns, period $np"
	fi
	run_tool "$TMP/k" "$TMP/ek" pdcollapse --kernel "$fx"
	grep -q '_\[k\]' "$TMP/k" && ok "--kernel marks kernel frames" || skip "no kernel frames in the fixture"
	expect_exit 2 "--event with an unknown name: exit 2" pdcollapse --event=nosuchevent "$fx"
	grep -q "no event 'nosuchevent'" "$TMP/err" && ok "--event: names the missing event" || not_ok "--event message" "$(cat "$TMP/err")"
	run_tool "$TMP/v" "$TMP/ev" pdcollapse -v "$fx"
	grep -q 'samples read' "$TMP/ev" && ok "-v prints a summary to stderr" || not_ok "-v" "$(cat "$TMP/ev")"
else
	skip "tests/data/fp.data is missing"
fi
done_testing
