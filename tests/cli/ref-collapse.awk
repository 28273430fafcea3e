# ref-collapse.awk - a reference folder for tests: reads the output of
#   perf script -F comm,pid,tid,event,ip,sym,dso
# and prints "comm;root;...;leaf 1" per sample, applying the naming
# conventions stackcollapse-perf.pl documents (comm root with spaces as '_',
# "[unknown]" replaced by "[dso basename]", ';' as ':', argument lists and
# quotes removed, frames whose name begins with '(' dropped except C++'s
# "(anonymous namespace)::", which pdcollapse keeps).  Written for pdtools' tests; it shares no code with
# FlameGraph.  Without a call chain perf script prints the frame on the
# header line; it is taken as the only frame.
function flush() {
	if (have) {
		line = comm
		for (i = nf; i >= 1; i--)
			if (fr[i] !~ /^\(/ || fr[i] ~ /^\(anonymous namespace\)/)
				line = line ";" fr[i]
		print line " 1"
	}
	have = 0
	nf = 0
}
function tidy(f,    p, q) {
	gsub(/;/, ":", f)
	if (f !~ /\.\(.*\)\./) {
		q = f
		p = 0
		while ((i2 = index(q, "(")) > 0) {
			if (substr(q, i2, 21) != "(anonymous namespace)") { p += i2; break }
			p += i2
			q = substr(q, i2 + 1)
		}
		if (i2 > 0) f = substr(f, 1, p - 1)
	}
	gsub(/["']/, "", f)
	return f
}
# The DSO is the last balanced (...) group of a frame line; " (deleted)" is
# dropped from it, as pdcollapse does.
function split_frame(l,    i, depth, c) {
	depth = 0
	for (i = length(l); i > 0; i--) {
		c = substr(l, i, 1)
		if (c == ")") depth++
		else if (c == "(" && --depth == 0) break
	}
	fsym = substr(l, 1, i - 2)
	fdso = substr(l, i + 1, length(l) - i - 1)
	sub(/ \(deleted\)$/, "", fdso)
}
function name(sym, dso,    b) {
	sub(/\+0x[0-9a-f]+$/, "", sym)
	if (sym == "[unknown]") {
		if (dso != "[unknown]") { b = dso; sub(/.*\//, "", b); sym = "[" b "]" }
		else sym = "[unknown]"
	}
	return tidy(sym)
}
/^[^\t]/ && /-?[0-9]+\/-?[0-9]+/ {
	flush()
	# "comm pid/tid event: [ip sym (dso)]"; the comm may contain spaces.
	if (match($0, / +-?[0-9]+\/-?[0-9]+ +/) == 0) next
	comm = substr($0, 1, RSTART - 1)
	sub(/^ +/, "", comm)
	gsub(/ /, "_", comm)
	rest = substr($0, RSTART + RLENGTH)
	have = 1
	if (match(rest, /: +[0-9a-f]+ .* \(.*\)$/)) {
		fl = substr(rest, RSTART + 1)
		sub(/^ +/, "", fl)
		ip = fl; sub(/ .*/, "", ip)
		fl = substr(fl, length(ip) + 2)
		split_frame(fl)
		fr[++nf] = name(fsym, fdso)
	}
	next
}
/^\t+ *[0-9a-f]+ / {
	l = $0
	sub(/^\t+ *[0-9a-f]+ /, "", l)
	split_frame(l)
	fr[++nf] = name(fsym, fdso)
	next
}
/^$/ { flush() }
END { flush() }
