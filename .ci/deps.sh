#!/bin/sh
# Install the Debian packages that pdtools needs to build and test, when they
# are missing.  As root it runs apt-get; otherwise it prints the command.
missing=
for p in "$@"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
# The locale tests need these two besides C and C.UTF-8.
LOCALES="de_DE.UTF-8 tr_TR.UTF-8"
need_locales() {
	for l in $LOCALES; do
		locale -a 2>/dev/null | grep -qix "$(echo "$l" | sed 's/UTF-8/utf8/')" || return 0
	done
	return 1
}
gen_locales() {
	need_locales || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "pdtools: missing locales $LOCALES; as root: add them to /etc/locale.gen and run locale-gen" >&2
		return 0
	fi
	for l in $LOCALES; do
		grep -q "^$l UTF-8" /etc/locale.gen 2>/dev/null || echo "$l UTF-8" >>/etc/locale.gen
	done
	locale-gen >&2
}
if [ -z "$missing" ]; then
	gen_locales
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "pdtools: missing packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 2
fi
echo "pdtools: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >&2 && gen_locales
