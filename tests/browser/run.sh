#!/bin/sh
# make browser-test: draw a graph with pdflame and drive it in Debian's
# chromium through playwright-core (pinned in package.json and
# package-lock.json, installed into BUILD/browser/node_modules).
#   tests/browser/run.sh BUILD_DIR
set -eu
bin=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$bin/browser
mkdir -p "$out"

if [ ! -x /usr/bin/chromium ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "browser-test: chromium is missing; run as root: apt-get install -y chromium" >&2
		exit 2
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 && apt-get install -y -qq chromium >&2
fi
command -v node >/dev/null && command -v npm >/dev/null ||
	{ echo "browser-test: node and npm are needed (apt-get install -y nodejs npm)" >&2; exit 2; }
want=$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' "$src/tests/browser/package.json")
have=$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$out/node_modules/playwright-core/package.json" 2>/dev/null | head -n 1)
if [ "$have" != "$want" ]; then
	cp "$src/tests/browser/package.json" "$src/tests/browser/package-lock.json" "$out/"
	npm install --prefix "$out" --ignore-scripts --no-audit --no-fund >&2
fi
# No browser download: playwright-core drives the system chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

"$bin/pdflame" --title 'pdflame browser test' "$src/tests/data/flame/simple.folded" >"$out/flame.svg"
node "$src/tests/browser/flame.test.js" "$out" "$out/flame.svg"

# pdjson's speedscope files in speedscope from npm.
sh "$src/tests/browser/speedscope.sh" "$bin"

# The README gallery from make demo's output: the demo records with
# pdrecord, so where the kernel forbids sampling the pictures are skipped.
if PD_DEMO_SECONDS=2 sh "$src/tests/demo/demo.sh" "$bin" "$out/demo" >"$out/demo.log" 2>&1; then
	node "$src/tests/browser/gallery.test.js" "$out" "$out/demo"
elif ! "$bin/pdrecord" -q -o "$out/probe.data" -- true >/dev/null 2>&1; then
	echo "1..0 # SKIP gallery: the kernel forbids sampling here: $(tail -n 1 "$out/demo.log")"
else
	echo "not ok 1 - make demo: $(tail -n 1 "$out/demo.log")"
	echo "1..1"
	exit 1
fi
