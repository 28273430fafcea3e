#!/bin/sh
# pdjson --format=speedscope in a real speedscope: the npm "speedscope"
# package (pinned in speedscope/package-lock.json, installed into
# BUILD/browser/speedscope) served from 127.0.0.1, driven in Debian's
# chromium through playwright-core (installed by run.sh).  Prints TAP; when
# speedscope cannot be installed (no npm registry access), the plan is a
# skip that says so.
#   tests/browser/speedscope.sh BUILD_DIR
set -eu
bin=$(cd "${1:?usage: speedscope.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$bin/browser
ss=$out/speedscope
mkdir -p "$ss"

[ -d "$out/node_modules/playwright-core" ] ||
	{ echo "1..0 # SKIP playwright-core is not installed; run tests/browser/run.sh"; exit 0; }
want=$(sed -n 's/.*"speedscope": "\(.*\)".*/\1/p' "$src/tests/browser/speedscope/package.json")
have=$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$ss/node_modules/speedscope/package.json" 2>/dev/null | head -n 1)
if [ "$have" != "$want" ]; then
	cp "$src/tests/browser/speedscope/package.json" "$src/tests/browser/speedscope/package-lock.json" "$ss/"
	if ! npm ci --prefix "$ss" --ignore-scripts --no-audit --no-fund >"$ss/npm.log" 2>&1; then
		echo "1..0 # SKIP npm could not install speedscope $want: $(tail -n 1 "$ss/npm.log")"
		exit 0
	fi
fi
release=$ss/node_modules/speedscope/dist/release
[ -f "$release/index.html" ] || { echo "not ok 1 - no index.html in speedscope $want"; echo "1..1"; exit 1; }

# A recording in the tree (per thread and per process), and hostile names.
"$bin/pdjson" -q -f speedscope "$src/tests/data/fp.data" >"$out/fp.speedscope.json"
"$bin/pdjson" -q -f speedscope --per process --weight samples "$src/tests/data/pipe-fp.data" >"$out/pipe.speedscope.json"
printf 'co"mm;ma\\in;l\001eaf\177 3\nco"mm;\377\376bad\300\257 2\ntab\tcomm;\342\202\254;x 5\n' >"$out/hostile.folded"
"$bin/pdjson" -q -f speedscope "$out/hostile.folded" >"$out/hostile.speedscope.json"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
node "$src/tests/browser/speedscope.test.js" "$out" "$release" \
    "$out/fp.speedscope.json" "$out/pipe.speedscope.json" "$out/hostile.speedscope.json"
