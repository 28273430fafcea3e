# man-examples.awk: does every example of an mdoc page render as written?
#
#   awk -v q1=OPEN -v q2=CLOSE -f man-examples.awk RENDERED PAGE
#
# RENDERED is the page as man(1) renders it (plain text: col -bx), PAGE its
# source.  The examples are taken from the source: each .Bd -literal block,
# each .Dl line, and each .Ql quotation (its words up to the next callable
# macro, or to the end of the line less trailing punctuation: what the
# writer meant to quote).  Their text is the source with roff's escapes that
# stand for a plain character undone (\e \- \& \(aq ...); any other escape
# (\| or \^, which print nothing) means the example cannot render as
# written.  Then a block (tabs set every 8 columns) must appear as consecutive lines, all at one
# indentation; a .Dl line as a line of its own; a quotation between Q1 and
# Q2 (the quotes .Ql renders in the locale), white space folded.  One line
# out per example: "ok<TAB>what" or "fail<TAB>what<TAB>why".
BEGIN {
	split("Ac Ad An Ao Ap Aq Ar At Bc Bo Bq Brc Bro Brq Bsx Bx Cd Cm Dc Do Dq Dv Dx Ec Em En Eo Er Es Ev " \
	    "Fa Fc Fl Fn Fo Fr Ft Fx Ic In Li Lk Ms Mt Nm No Ns Nx Oc Oo Op Ot Ox Pa Pc Pf Po Pq Qc Ql Qo Qq " \
	    "Sc So Sq St Sx Sy Ta Tn Ux Va Vt Xc Xo Xr", m, " ")
	for (i in m) callable[m[i]] = 1
	ne = split("aq ' dq \" ga ` ti ~ ha ^ rs \\ ba | at @ sh #", e, " ")
	for (i = 1; i < ne; i += 2) named[e[i]] = e[i + 1]
	closing = ".,:;)]?!"
}

function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function squeeze(s) { gsub(/[ \t]+/, " ", s); return s }
function fold(s) { return trim(squeeze(s)) }
# untab(S): tabs expanded to every 8th column, as roff sets them in a block.
function untab(s,    out, n) {
	out = ""
	while ((n = index(s, "\t")) > 0) {
		out = out substr(s, 1, n - 1)
		s = substr(s, n + 1)
		do out = out " "; while (length(out) % 8)
	}
	return out s
}

# unescape(S): S with roff's escapes for plain characters undone; sets
# bad to the first escape that does not stand for its character.
function unescape(s,    out, c, n, name) {
	out = ""
	while ((n = index(s, "\\")) > 0) {
		out = out substr(s, 1, n - 1)
		c = substr(s, n + 1, 1)
		s = substr(s, n + 2)
		if (c == "e") out = out "\\"
		else if (c == "-") out = out "-"
		else if (c == "&") out = out ""
		else if (c == " ") out = out " "
		else if (c == "(" && substr(s, 1, 2) in named) { out = out named[substr(s, 1, 2)]; s = substr(s, 3) }
		else if (c == "[" && match(s, /^[a-z][a-z]\]/) && substr(s, 1, 2) in named) {
			out = out named[substr(s, 1, 2)]; s = substr(s, 4)
		} else {
			name = c
			if (c == "(") name = c substr(s, 1, 2)
			if (bad == "") bad = "\\" name
			out = out "\\" name
		}
	}
	return out s
}

# args(LINE): split a macro line's arguments as mdoc does (blanks, "quoted
# arguments" with "" for a quote, "\ " not a break) into a[1..na].
function args(line,    i, c, w, inq, have) {
	na = 0
	w = ""
	inq = 0
	have = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (inq) {
			if (c == "\"" && substr(line, i + 1, 1) == "\"") { w = w "\""; i++ }
			else if (c == "\"") inq = 0
			else w = w c
		} else if (c == "\\" && i < length(line)) {
			w = w c substr(line, i + 1, 1); i++; have = 1
		} else if (c == " " || c == "\t") {
			if (have) { a[++na] = w; w = ""; have = 0 }
		} else if (c == "\"" && !have) {
			inq = 1; have = 1
		} else {
			w = w c; have = 1
		}
	}
	if (have) a[++na] = w
}

function report(what, why) {
	if (why == "") print "ok\t" what
	else print "fail\t" what "\t" why
}

# The rendered page.
FNR == NR {
	sub(/[ \t]+$/, "")
	r[++nr] = $0
	flat = flat " " $0
	next
}
FNR == 1 { flat = fold(flat) " " }

# Literal blocks.
/^\.Bd/ { if ($0 ~ /-literal/) { inbd = 1; nb = 0; bd_at = FNR; bd_bad = "" } next }
inbd && /^\.Ed/ {
	inbd = 0
	what = FILENAME ":" bd_at ": block \"" trim(b[1]) (nb > 1 ? " ..." : "") "\""
	if (bd_bad != "") { report(what, bd_bad); next }
	found = 0
	for (k = 1; k + nb - 1 <= nr && !found; k++) {
		if (b[1] == "" || length(r[k]) < length(b[1])) continue
		p = substr(r[k], 1, length(r[k]) - length(b[1]))
		if (p b[1] != r[k] || p !~ /^ *$/) continue
		found = 1
		for (j = 2; j <= nb; j++) {
			want = b[j] == "" ? "" : p b[j]
			if (r[k + j - 1] != want) { found = 0; break }
		}
	}
	report(what, found ? "" : "not in the rendered page as written, line for line")
	next
}
inbd {
	if (/^\.\\"/) next
	if (/^[.']/) { if (bd_bad == "") bd_bad = "line " FNR " is a roff request or macro, not text"; next }
	bad = ""
	b[++nb] = untab(unescape($0))
	sub(/[ \t]+$/, "", b[nb])
	if (bad != "" && bd_bad == "") bd_bad = "line " FNR ": escape " bad " does not print itself"
	next
}

# Macro lines: .Dl, and every Ql among the arguments.
/^\.[A-Z][a-z]/ {
	args(substr($0, 2))
	if (a[1] == "Dl") {
		bad = ""
		t = ""
		why = ""
		for (i = 2; i <= na; i++) {
			if (a[i] in callable) why = "word '" a[i] "' is an mdoc macro"
			t = t (i > 2 ? " " : "") a[i]
		}
		t = unescape(t)
		what = FILENAME ":" FNR ": .Dl \"" t "\""
		if (bad != "") why = "escape " bad " does not print itself"
		if (why == "") {
			why = "not a line of the rendered page"
			for (k = 1; k <= nr; k++) if (trim(r[k]) == t) { why = ""; break }
		}
		report(what, why)
		next
	}
	for (i = 1; i <= na; i++) {
		if (a[i] != "Ql") continue
		for (j = i + 1; j <= na && !(a[j] in callable); j++) ;
		last = j - 1
		while (last > i && length(a[last]) == 1 && index(closing, a[last])) last--
		t = ""
		for (k = i + 1; k <= last; k++) t = t (k > i + 1 ? " " : "") a[k]
		bad = ""
		t = unescape(t)
		what = FILENAME ":" FNR ": .Ql \"" t "\""
		if (bad != "") report(what, "escape " bad " does not print itself")
		else if (index(flat, q1 squeeze(t) q2) == 0) report(what, "not quoted as " q1 squeeze(t) q2 " in the rendered page")
		else report(what, "")
	}
}
