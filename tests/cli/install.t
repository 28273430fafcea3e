#!/bin/sh
# make install and make uninstall into a staging DESTDIR: programs, man
# pages and completions land where the system looks for them; the staged
# programs run, man renders the staged pages (man -l) and finds them from
# PATH as it finds /usr/local's, bash completes the staged programs' options
# from the staged completion file, and bash-completion's loader finds that
# file on its own from the program's place, as it does after make install
# to /usr/local; and uninstall leaves nothing behind.
. "$PD_SRC/tests/cli/lib.sh"

TOOLS="pdcollapse pdflame pdrecord pdtop pdjson pddiff"
stage=$TMP/stage
make -s -C "$PD_SRC" O="$PD_BIN" PREFIX=/usr DESTDIR="$stage" install >"$TMP/log" 2>&1
check "make install succeeds" [ $? -eq 0 ]
for t in $TOOLS; do
	for f in usr/bin/$t usr/share/man/man1/$t.1 usr/share/bash-completion/completions/$t \
	    usr/share/fish/vendor_completions.d/$t.fish; do
		[ -f "$stage/$f" ] || not_ok "installs $f"
	done
	check "$t: the staged program runs" sh -c '"$1" --version >/dev/null' sh "$stage/usr/bin/$t"
done
for f in usr/share/man/man5/pd-formats.5 usr/share/man/man7/pdtools.7 usr/share/zsh/site-functions/_pd; do
	check "installs $f" [ -f "$stage/$f" ]
done

# man -l renders every staged page, with its NAME.
if command -v man >/dev/null 2>&1; then
	for p in "$stage"/usr/share/man/man*/*; do
		n=${p##*/}
		n=${n%.*}
		if MANWIDTH=80 man -l "$p" 2>"$TMP/err" | grep -q "^NAME" &&
		    MANWIDTH=80 man -l "$p" 2>/dev/null | grep -A1 '^NAME' | grep -q "$n"; then
			ok "man -l renders ${p#"$stage"/}"
		else
			not_ok "man -l renders ${p#"$stage"/}" "$(head -c 300 "$TMP/err")"
		fi
	done
	# "man pdflame" after make install: man-db looks in ../share/man of
	# every directory on PATH, which is how /usr/local/bin finds its pages.
	for n in pdflame pdtools; do
		got=$(env -u MANPATH PATH="$stage/usr/bin:$PATH" man -w "$n" 2>"$TMP/err")
		case $got in
		"$stage"/usr/share/man/man*/"$n".[17]) ok "man $n finds the installed page from PATH" ;;
		*) not_ok "man $n finds the installed page from PATH" "got '$got'" "$(head -c 300 "$TMP/err")" ;;
		esac
	done
else
	skip "man is not installed"
	skip "man is not installed"
	skip "man is not installed"
fi

# The staged bash completion: "pdflame --<TAB>" offers pdflame's options,
# "pdtop --sort <TAB>" its sort keys.
if command -v bash >/dev/null 2>&1; then
	cat >"$TMP/comp.bash" <<'EOS'
. "$1/usr/share/bash-completion/completions/pdflame"
. "$1/usr/share/bash-completion/completions/pdtop"
complete -p pdflame >/dev/null || exit 3
COMP_WORDS=(pdflame --)
COMP_CWORD=1
_pdflame
printf '%s\n' "${COMPREPLY[@]}"
echo ---
COMP_WORDS=(pdtop --sort "")
COMP_CWORD=2
_pdtop
printf '%s\n' "${COMPREPLY[@]}"
EOS
	bash "$TMP/comp.bash" "$stage" >"$TMP/comp" 2>"$TMP/err"
	if grep -qx -- '--title' "$TMP/comp" && grep -qx -- '--colors' "$TMP/comp" &&
	    ! sed -n '1,/^---$/p' "$TMP/comp" | grep -qv -- '^--\|^---$'; then
		ok "bash: pdflame --<TAB> offers pdflame's long options"
	else
		not_ok "bash: pdflame --<TAB> offers pdflame's long options" "$(head -c 300 "$TMP/comp")" "$(cat "$TMP/err")"
	fi
	if sed -n '/^---$/,$p' "$TMP/comp" | grep -qx comm && sed -n '/^---$/,$p' "$TMP/comp" | grep -qx symbol; then
		ok "bash: pdtop --sort <TAB> offers the sort keys"
	else
		not_ok "bash: pdtop --sort <TAB> offers the sort keys" "$(cat "$TMP/comp")"
	fi
else
	skip "bash is not installed"
fi

# "pdflame --<TAB>" in a shell with bash-completion: its loader finds the
# completion from where the program is (../share/bash-completion/completions),
# with nothing sourced by hand.
bc=/usr/share/bash-completion/bash_completion
if command -v bash >/dev/null 2>&1 && [ -f "$bc" ]; then
	cat >"$TMP/load.bash" <<'EOS'
. "$2"
PATH="$1/usr/bin:$PATH"
__load_completion pdflame || exit 3
f=$(complete -p pdflame | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
[ -n "$f" ] || exit 4
COMP_LINE="pdflame --ti" COMP_POINT=12 COMP_WORDS=(pdflame --ti) COMP_CWORD=1
"$f" pdflame --ti pdflame
printf '%s\n' "${COMPREPLY[@]}"
EOS
	bash "$TMP/load.bash" "$stage" "$bc" >"$TMP/comp" 2>"$TMP/err"
	if [ "$(cat "$TMP/comp")" = "--title" ]; then
		ok "bash-completion loads pdflame's completion by itself: pdflame --ti<TAB> gives --title"
	else
		not_ok "bash-completion loads pdflame's completion by itself" "got '$(head -c 300 "$TMP/comp")'" \
		    "$(head -c 300 "$TMP/err")"
	fi
else
	skip "bash-completion is not installed"
fi

make -s -C "$PD_SRC" O="$PD_BIN" PREFIX=/usr DESTDIR="$stage" uninstall >"$TMP/log" 2>&1
left=$(find "$stage" -type f | wc -l)
check "make uninstall removes every file it installed" [ "$left" -eq 0 ]
done_testing
