#!/bin/sh
# make install and make uninstall into a staging DESTDIR, with README's
# PREFIX=/usr/local: programs, man pages and completions land where the
# system looks for them; the staged programs run, man renders the staged
# pages (man -l) and finds them from PATH as it finds /usr/local's, bash
# completes the staged programs' options from the staged completion file,
# and bash-completion's own loader, given only its default data directories
# (/usr/local/share:/usr/share, read from bash_completion itself) under the
# stage and an empty HOME, loads the staged file by itself, as it does after
# make install in a new shell; and uninstall leaves nothing behind.  No file
# outside the stage (an earlier make install, the user's ~/.local) counts.
. "$PD_SRC/tests/cli/lib.sh"

TOOLS="pdcollapse pdflame pdrecord pdtop pdjson pddiff"
stage=$TMP/stage
P=$stage/usr/local
make -s -C "$PD_SRC" O="$PD_BIN" PREFIX=/usr/local DESTDIR="$stage" install >"$TMP/log" 2>&1
check "make install succeeds" [ $? -eq 0 ]
for t in $TOOLS; do
	for f in bin/$t share/man/man1/$t.1 share/bash-completion/completions/$t \
	    share/fish/vendor_completions.d/$t.fish; do
		[ -f "$P/$f" ] || not_ok "installs /usr/local/$f"
	done
	check "$t: the staged program runs" sh -c '"$1" --version >/dev/null' sh "$P/bin/$t"
done
for f in share/man/man5/pd-formats.5 share/man/man7/pdtools.7 share/zsh/site-functions/_pd; do
	check "installs /usr/local/$f" [ -f "$P/$f" ]
done

# man -l renders every staged page, with its NAME.
if command -v man >/dev/null 2>&1; then
	for p in "$P"/share/man/man*/*; do
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
	# every directory on PATH, which is how /usr/local/bin finds its pages
	# (MANPATH unset, HOME empty: no ~/.manpath).
	for n in pdflame pdtools; do
		got=$(env -u MANPATH PATH="$P/bin:$PATH" man -w "$n" 2>"$TMP/err")
		case $got in
		"$P"/share/man/man*/"$n".[17]) ok "man $n finds the installed page from PATH" ;;
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
. "$1/share/bash-completion/completions/pdflame"
. "$1/share/bash-completion/completions/pdtop"
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
	env -u BASH_ENV bash "$TMP/comp.bash" "$P" >"$TMP/comp" 2>"$TMP/err"
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

# "pdflame --<TAB>" in a new shell with bash-completion: its loader
# (__load_completion) looks in BASH_COMPLETION_USER_DIR or
# $XDG_DATA_HOME/bash-completion/completions (~/.local/share), then in
# DIR/bash-completion/completions for each DIR of $XDG_DATA_DIRS, by default
# /usr/local/share:/usr/share, then beside bash_completion itself.  The test
# takes that default from bash_completion, puts each directory under the
# stage, and gives an empty HOME: the staged file must be found and loaded
# by the loader alone, and the function it runs must come from that file
# (extdebug names the file that defined it), not from a copy elsewhere.
bc=/usr/share/bash-completion/bash_completion
if command -v bash >/dev/null 2>&1 && [ -f "$bc" ]; then
	dflt=$(sed -n 's/.*XDG_DATA_DIRS:-\([^}]*\)}.*/\1/p' "$bc" | head -n 1)
	case :$dflt: in
	*:/usr/local/share:*) ok "bash-completion's default data directories include /usr/local/share ($dflt)" ;;
	*) not_ok "bash-completion's default data directories include /usr/local/share" "got '$dflt' from $bc" ;;
	esac
	xdg=
	for d in $(echo "$dflt" | tr ':' ' '); do xdg=$xdg${xdg:+:}$stage$d; done
	cat >"$TMP/load.bash" <<'EOS'
. "$2"
PATH="$1/bin:$PATH"
__load_completion pdflame || exit 3
f=$(complete -p pdflame | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
[ -n "$f" ] || exit 4
shopt -s extdebug
declare -F "$f" | sed 's/^[^ ]* [0-9]* /from: /'
shopt -u extdebug
COMP_LINE="pdflame --ti" COMP_POINT=12 COMP_WORDS=(pdflame --ti) COMP_CWORD=1
"$f" pdflame --ti pdflame
printf '%s\n' "${COMPREPLY[@]}"
EOS
	env -u BASH_ENV -u BASH_COMPLETION_USER_DIR -u XDG_DATA_HOME XDG_DATA_DIRS="$xdg" \
	    bash "$TMP/load.bash" "$P" "$bc" >"$TMP/comp" 2>"$TMP/err"
	if [ "$(sed -n 1p "$TMP/comp")" = "from: $P/share/bash-completion/completions/pdflame" ] &&
	    [ "$(sed 1d "$TMP/comp")" = "--title" ]; then
		ok "bash-completion loads the installed completion by itself: pdflame --ti<TAB> gives --title"
	else
		not_ok "bash-completion loads the installed completion by itself" "got '$(head -c 300 "$TMP/comp")'" \
		    "XDG_DATA_DIRS=$xdg" "$(head -c 300 "$TMP/err")"
	fi
else
	skip "bash-completion is not installed"
	skip "bash-completion is not installed"
fi

make -s -C "$PD_SRC" O="$PD_BIN" PREFIX=/usr/local DESTDIR="$stage" uninstall >"$TMP/log" 2>&1
left=$(find "$stage" -type f | wc -l)
check "make uninstall removes every file it installed" [ "$left" -eq 0 ]
done_testing
