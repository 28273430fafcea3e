/*
 * tap.js - what the browser tests share: TAP output, and Debian's chromium
 * through playwright-core (installed into OUTDIR/node_modules by run.sh)
 * with a throwaway profile.
 */
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");

let n = 0, failed = 0;

/* One test: "ok N - NAME", or "not ok" with DIAG as a comment. */
function ok(cond, name, diag) {
	n++;
	console.log(`${cond ? "ok" : "not ok"} ${n} - ${name}`);
	if (!cond) {
		failed++;
		if (diag !== undefined)
			console.log("#   " + JSON.stringify(diag));
	}
}

/* The plan and a summary (with NOTE), then exit 1 when a test failed. */
function finish(note) {
	console.log(`1..${n}`);
	console.log(`# ${n - failed} passed, ${failed} failed${note ? "; " + note : ""}`);
	process.exit(failed ? 1 : 0);
}

/*
 * Headless chromium over a new profile directory named PREFIX...;
 * close() ends the browser and removes the directory.
 */
async function launch(out, prefix) {
	const { chromium } = require(path.join(out, "node_modules", "playwright-core"));
	const udd = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	const ctx = await chromium.launchPersistentContext(udd, {
		executablePath: "/usr/bin/chromium",
		headless: true,
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
	});
	ctx.closeAndClean = async () => {
		await ctx.close();
		fs.rmSync(udd, { recursive: true, force: true });
	};
	return ctx;
}

module.exports = { ok, finish, launch, count: () => n };
