#!/bin/sh
# The truncation sweep: real recordings cut at every boundary of their
# layout and at pseudo-random offsets, each cut read by every tool that
# reads perf.data (pdcollapse, pdtop, pdjson), under a time limit and a
# memory limit.
#
# Recordings, made here with the real perf (or, without it, the committed
# fixtures tests/data/fp.data, pipe-fp.data and z-fp.data): file mode with
# -g, pipe mode with -g, file mode -z -g (zstd), and file mode
# --call-graph dwarf.
#
# Cut points: tests/helpers/recbounds prints where every region (header, id
# lists, attrs, data section, feature table, feature sections) and every
# record starts and ends (COMPRESSED records themselves for -z: the reader
# never returns them, and the records it inflates from them carry their
# offset).  The cuts are all those offsets; the boundaries of the header,
# id lists, attrs, data section and feature table -1 and +1, and those of
# the feature sections as a whole; 7, 8, 15 and 16 (around the end of the
# magic and of the header size); every fourth record's start -1 and +1;
# and pseudo-random offsets (awk, srand(1)): 200 in the file -g recording,
# 50 in each of the others (PD_TRUNC_RANDOM=N: N and N/4; half as many
# in sanitizer builds), to keep the runtime within a minute on a busy
# machine.  A cut at N is `head -c N`; N = 0 and N = the whole file are
# among them.  Every run reads no kernel symbols and looks for binaries in
# an empty --symfs: a run then costs a few milliseconds, and the counts do
# not depend on symbols.  PD_TRUNC_ONLY="file pipe z dwarf" (any of them)
# limits the sweep to those recordings.
#
# For each recording and tool:
#   - the exit status is 0 or 2 at every cut: never a signal, a timeout
#     (124) or the memory limit;
#   - exit 2 comes with exactly one error line (warnings and notes aside),
#     "TOOL: 'FILE': what at offset 0xN"; exit 0 with none;
#   - a cut file is damage: exit 2 at every cut of a file-mode recording
#     but the full length; a pipe stream has no end marker, so there exit 0
#     exactly where the cut falls between records (or after the header);
#   - the salvaged sample count the tool reports (pdcollapse
#     --event=all: the sum of the counts; pdtop --format json: the
#     samples of each event; pdjson -f summary: the
#     samples of each event, written with exit 2 too) never decreases as
#     the cut moves later, and at the full length equals that of the
#     untruncated file;
#   - it is exactly the number of SAMPLE records that lie whole before the
#     cut (for -z: the samples inflated from the COMPRESSED records that lie
#     whole before it), as recbounds counts them through the library.
# And the three tools report the same count at every cut.
. "$PD_SRC/tests/cli/lib.sh"

RB=${PD_VALGRIND:-$PD_BIN}/tests/helpers/recbounds
TOOLS="pdcollapse pdtop pdjson"
# Random cuts of the file -g recording; a quarter of that in the others.
NRAND=${PD_TRUNC_RANDOM:-200}
[ -x "$RB" ] || skip_all "no $RB (run make tests)"
for t in $TOOLS; do
	[ -x "$PD_BIN/$t" ] || skip_all "no $PD_BIN/$t (run make)"
done

# $memlimit and $tlimit (lib.sh).
hostile_limits
# A sanitizer build starts each run ten times slower: half the random cuts
# (every boundary is still cut).
if [ -z "$memlimit" ] && [ -z "${PD_TRUNC_RANDOM:-}" ]; then
	NRAND=100
	diag "sanitizer build: $NRAND random cuts of the file -g recording"
fi

cd "$TMP" || exit 2
# No symbols: reading /proc/kallsyms costs more than the rest of a run,
# reading the binaries' symbols about half of it, and the counts do not
# depend on symbols.
: >empty.ksyms
mkdir nosymfs

# opts TOOL: the options that make TOOL print a sample count cheaply.
opts() {
	case $1 in
	pdcollapse) echo "--event=all" ;;
	pdtop) echo "--format json -n 1" ;;
	pdjson) echo "-f summary -n 1" ;;
	esac
}

# run_one TOOL FILE: the tool as the sweep runs it, output to stdout/stderr.
run_one() {
	# shellcheck disable=SC2046
	timeout "$tlimit" "$1" $(opts "$1") --kallsyms empty.ksyms --symfs nosymfs "$2"
}

# awk functions over one run of tool T: count(T, OUT), the salvaged sample
# count as the tool reports it on its standard output OUT; errors(T, ERR),
# the number of error lines (not warnings or notes) in its standard error
# ERR, the first of them in the global "first".
ANALYZE='
function count(t, file,   line, s, n, a, i, x) {
	s = 0
	while ((getline line <file) > 0) {
		if (t == "pdcollapse") {
			if (line !~ /^#/ && line ~ / [0-9]+$/) {
				n = split(line, a, " ")
				s += a[n]
			}
		} else if (t == "pdtop") {
			# Each event object starts a line: {"event":"...","samples":N,
			if (line ~ /^\{"event":/ && match(line, /,"samples":[0-9]+/))
				s += substr(line, RSTART + 11, RLENGTH - 11)
		} else {
			i = index(line, "\"events\":[")
			if (i) {
				x = substr(line, i + 10)
				x = substr(x, 1, index(x, "]"))
				while (match(x, /"samples":[0-9]+/)) {
					s += substr(x, RSTART + 10, RLENGTH - 10)
					x = substr(x, RSTART + RLENGTH)
				}
			}
		}
	}
	close(file)
	return s
}
function errors(t, file,   line, n) {
	n = 0
	first = ""
	while ((getline line <file) > 0) {
		if (index(line, t ": warning: ") == 1 || index(line, t ": note: ") == 1)
			continue
		if (++n == 1)
			first = line
	}
	close(file)
	return n
}
'

# listed AWK: the cuts of tool $t (in $name.table) for which AWK prints
# something, the first 12, on one line.
listed() {
	awk -v t="$t" "\$2 == t { $1 }" "$name.table" | head -n 12 | tr '\n' ' '
}

# sweep NAME LABEL NRAND: the whole sweep over $NAME.data, with NRAND random cuts.
sweep() {
	name=$1
	label=$2
	f=$name.data
	if ! "$RB" "$f" >"$name.bounds" 2>rb.err; then
		not_ok "$label: recbounds reads the recording" "$(head -c 400 rb.err)"
		return
	fi
	size=$(wc -c <"$f" | tr -d ' ')
	# The expected count at each cut: the samples of the records and
	# COMPRESSED records that end at or before it.
	awk '$2 == "record" && $4 == 9 { print $1 + $3, 1 }
	     $2 == "compressed" { print $1 + $3, $5 }' "$name.bounds" >"$name.samples"
	awk -v size="$size" -v nrand="$3" '
	{
		off = $1; end = $1 + $3
		print off; print end
		if ($2 == "record" || $2 == "compressed") {
			if (nrec++ % 4 == 0) { print off - 1; print off + 1 }
		} else if ($2 == "feature") {
			if (!nfeat++) { print off - 1; print off + 1 }
			lastend = end
		} else if ($2 != "eof") {
			print off - 1; print off + 1; print end - 1; print end + 1
		}
	}
	END {
		if (nfeat) print lastend - 1
		# The ends of the magic and of the size field after it.
		print 7; print 8; print 15; print 16
		srand(1)
		for (i = 0; i < nrand; i++) print int(rand() * (size + 1))
	}' "$name.bounds" |
		awk -v size="$size" '$1 >= 0 && $1 <= size' | sort -n -u >"$name.cuts"
	ncuts=$(wc -l <"$name.cuts" | tr -d ' ')
	# The cuts that read with exit 0: the full length; in a pipe stream
	# (a 16-byte header) also the end of the header and of every record.
	awk -v size="$size" 'BEGIN { print size }
	     $2 == "header" && $3 == 16 { pipe = 1; print 16 }
	     pipe && ($2 == "record" || $2 == "compressed") { print $1 + $3 }' "$name.bounds" |
		sort -n -u >"$name.okcuts"
	nrec=$(awk '$2 == "record" { n++ } END { print n + 0 }' "$name.bounds")
	ncomp=$(awk '$2 == "compressed" { n++ } END { print n + 0 }' "$name.bounds")
	nsamp=$(awk '{ n += $2 } END { print n + 0 }' "$name.samples")
	ok "$label: recbounds: $size bytes, $nrec records, $ncomp COMPRESSED, $nsamp samples; $ncuts cut points"

	# The untruncated file, as each tool reads it.
	for t in $TOOLS; do
		rc=0
		run_one "$t" "$f" >"whole.$t.out" 2>"whole.$t.err" || rc=$?
		echo "$t $rc"
	done >"$name.whole"

	# The sweep, in one subshell under the memory limit; one line per
	# run: "CUT TOOL RC".
	rm -rf out err
	mkdir out err
	(
		if [ -n "$memlimit" ]; then
			# Not POSIX, but dash, bash and busybox sh have it.
			# shellcheck disable=SC3045
			ulimit -v "$memlimit" || exit 99
		fi
		while read -r c; do
			head -c "$c" "$f" >cut.data
			for t in $TOOLS; do
				rc=0
				run_one "$t" cut.data >"out/$t.$c" 2>"err/$t.$c" || rc=$?
				echo "$c $t $rc"
			done
		done <"$name.cuts"
	) >"$name.runs"
	if [ "$(wc -l <"$name.runs")" -ne $((ncuts * 3)) ]; then
		not_ok "$label: the sweep ran" "$(wc -l <"$name.runs") runs of $((ncuts * 3))"
		return
	fi

	# One table: "CUT TOOL RC COUNT NERR FORMAT_OK EXPECTED WANT_RC ERRLINE".
	awk "$ANALYZE"'
	FILENAME == ARGV[1] { end[++ns] = $1; n[ns] = $2; next }
	FILENAME == ARGV[2] { okc[$1] = 1; next }
	{
		c = $1; t = $2
		while (k < ns && end[k + 1] <= c) { k++; want += n[k] }
		cnt = count(t, "out/" t "." c)
		ne = errors(t, "err/" t "." c)
		fmt = first ~ ("^" t ": \047cut\\.data\047: .* at offset 0x[0-9a-f]+$") ? 1 : 0
		printf "%s %s %s %d %d %d %d %d %s\n", c, t, $3, cnt, ne, fmt, want, (c in okc) ? 0 : 2, first
	}' "$name.samples" "$name.okcuts" "$name.runs" >"$name.table"
	# The whole file: "TOOL RC COUNT".
	while read -r t rc; do
		echo "$t $rc $(awk -v t="$t" "$ANALYZE"' BEGIN { print count(t, "whole." t ".out") }')"
	done <"$name.whole" >"$name.wholecount"

	# The awk programs given to listed are in single quotes on purpose.
	# shellcheck disable=SC2016
	for t in $TOOLS; do
		bad=$(listed 'if ($3 != 0 && $3 != 2) print $1 ":exit" $3')
		if [ -z "$bad" ]; then
			ok "$label: $t on $ncuts cuts: exits 0 or 2 only (no signal, timeout or memory limit)"
		else
			not_ok "$label: $t on $ncuts cuts: exits 0 or 2 only" "cut:exit (first 12): $bad" \
			    "repeat: head -c CUT $name.data >cut.data; $t $(opts "$t") cut.data"
		fi
		bad=$(listed 'if ($3 == 2 && ($5 != 1 || $6 != 1)) print $1 ":" $5 "-errors"; else if ($3 == 0 && $5 != 0) print $1 ":exit0-with-" $5 "-errors"')
		if [ -z "$bad" ]; then
			ok "$label: $t: every exit 2 has one error line \"$t: 'FILE': ... at offset 0xN\", exit 0 none"
		else
			c1=${bad%%:*}
			not_ok "$label: $t: error lines" "cut:problem (first 12): $bad" \
			    "at cut $c1: $(head -n 3 "err/$t.$c1" | tr '\n' '|')"
		fi
		# Monotone, and the full length reads as the untruncated file does.
		bad=$(awk -v t="$t" '$2 == t {
			if (seen && $4 < last) print lastc ":" last ">" $1 ":" $4
			seen = 1; last = $4; lastc = $1 }' "$name.table" | head -n 12 | tr '\n' ' ')
		full=$(awk -v t="$t" -v s="$size" '$2 == t && $1 == s { print $4 }' "$name.table")
		whole=$(awk -v t="$t" '$1 == t { print $3 }' "$name.wholecount")
		wrc=$(awk -v t="$t" '$1 == t { print $2 }' "$name.wholecount")
		if [ -z "$bad" ] && [ "$wrc" = 0 ] && [ -n "$full" ] && [ "$full" = "$whole" ]; then
			ok "$label: $t: the salvaged count never decreases as the cut moves later; $full at the full length, as untruncated"
		else
			not_ok "$label: $t: the salvaged count never decreases, and is the untruncated one at the full length" \
			    "decreases (cut:count>cut:count): ${bad:-none}" \
			    "full length: '$full'; untruncated: '$whole' (exit $wrc)"
		fi
		bad=$(listed 'if ($3 != $8) print $1 ":exit" $3 "-want-" $8')
		if [ -z "$bad" ]; then
			ok "$label: $t: exit 2 at every cut but the full length$([ "$(wc -l <"$name.okcuts")" -gt 1 ] && echo " and the record boundaries of the stream")"
		else
			c1=${bad%%:*}
			not_ok "$label: $t: a cut is an error" "cut:exit (first 12): $bad" \
			    "at cut $c1: $(head -n 3 "err/$t.$c1" | tr '\n' '|')"
		fi
		bad=$(listed 'if ($4 != $7) print $1 ":" $4 "/" $7')
		if [ -z "$bad" ]; then
			ok "$label: $t: the count is that of the whole SAMPLE records before the cut"
		else
			c1=${bad%%:*}
			not_ok "$label: $t: the count is that of the whole SAMPLE records before the cut" \
			    "cut:count/expected (first 12): $bad" \
			    "at cut $c1: $(head -n 3 "err/$t.$c1" | tr '\n' '|')"
		fi
	done
	bad=$(awk '{ k = $1; v[k] = v[k] " " $4; if (!(k in ref)) ref[k] = $4; else if ($4 != ref[k]) diff[k] = 1 }
		END { for (k in diff) print k ":" v[k] }' "$name.table" | sort -n | head -n 12 | tr '\n' ' ')
	if [ -z "$bad" ]; then
		ok "$label: pdcollapse, pdtop and pdjson report the same count at every cut"
	else
		not_ok "$label: pdcollapse, pdtop and pdjson report the same count at every cut" \
		    "cut: pdcollapse pdtop pdjson (first 12): $bad"
	fi
}

# The recordings.
if can_record && B=$(burn); then
	# rec NAME CMD...: record NAME.data with CMD.
	rec() {
		_n=$1
		shift
		if "$@" >rec.log 2>&1 && [ -s "$_n.data" ]; then
			RECS="$RECS $_n"
		else
			skip "$_n: perf cannot record it here ($(tail -n 1 rec.log))"
		fi
	}
	pipe_rec() { perf record -q -F 2000 -g -o - "$B" 200000 >pipe.data; }
	RECS=
	rec file perf record -q -F 2000 -g -o file.data "$B" 200000
	rec pipe pipe_rec
	rec z perf record -q -z -F 2000 -g -o z.data "$B" 200000
	rec dwarf perf record -q -F 2000 --call-graph dwarf,4096 -o dwarf.data "$B" 100000
else
	diag "perf record does not work here: the committed fixtures instead"
	cp "$PD_SRC/tests/data/fp.data" file.data
	cp "$PD_SRC/tests/data/pipe-fp.data" pipe.data
	cp "$PD_SRC/tests/data/z-fp.data" z.data
	RECS="file pipe z"
	skip "dwarf: no DWARF fixture without perf record"
fi

for r in $RECS; do
	case " ${PD_TRUNC_ONLY:-$RECS} " in
	*" $r "*) ;;
	*) continue ;;
	esac
	case $r in
	file) sweep file "file -g" "$NRAND" ;;
	pipe) sweep pipe "pipe -g" $((NRAND / 4)) ;;
	z) sweep z "file -z -g" $((NRAND / 4)) ;;
	dwarf) sweep dwarf "file dwarf" $((NRAND / 4)) ;;
	esac
done

done_testing
