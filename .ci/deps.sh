#!/bin/sh
# Install the Debian packages that pdtools needs to build and test, when they
# are missing.  As root it runs apt-get; otherwise it prints the command.
missing=
for p in "$@"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "pdtools: missing packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 2
fi
echo "pdtools: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >&2
