#!/bin/sh
# make install and make uninstall into a staging DESTDIR: programs, man
# pages and completions land where the system looks for them, the installed
# program runs, and uninstall leaves nothing behind.
. "$PD_SRC/tests/cli/lib.sh"

stage=$TMP/stage
make -s -C "$PD_SRC" O="$PD_BIN" PREFIX=/usr DESTDIR="$stage" install >"$TMP/log" 2>&1
check "make install succeeds" [ $? -eq 0 ]
for f in usr/bin/pdcollapse usr/share/man/man1/pdcollapse.1 usr/share/man/man5/pd-formats.5 \
    usr/share/bash-completion/completions/pdcollapse usr/share/zsh/site-functions/_pd \
    usr/share/fish/vendor_completions.d/pdcollapse.fish; do
	check "installs $f" [ -f "$stage/$f" ]
done
check "the installed program runs" sh -c '"$1" --version >/dev/null' sh "$stage/usr/bin/pdcollapse"
make -s -C "$PD_SRC" O="$PD_BIN" PREFIX=/usr DESTDIR="$stage" uninstall >"$TMP/log" 2>&1
left=$(find "$stage" -type f | wc -l)
check "make uninstall removes every file it installed" [ "$left" -eq 0 ]
done_testing
