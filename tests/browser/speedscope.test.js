/*
 * speedscope.test.js - load files written by pdjson --format=speedscope
 * into a speedscope build from npm (pinned in speedscope/package-lock.json),
 * served from 127.0.0.1 only, in Debian's chromium through playwright-core,
 * through speedscope's own #profileURL= import.  Each must import without
 * speedscope's error screen or a page error, set the title speedscope sets
 * after an import, and draw its profile.  Prints TAP.
 *
 *   node speedscope.test.js OUTDIR RELEASE_DIR PROFILE.json...
 */
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");

const out = path.resolve(process.argv[2]);
const release = path.resolve(process.argv[3]);
const profiles = process.argv.slice(4).map((p) => path.resolve(p));
const { ok, finish, launch } = require("./tap.js");


const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css",
    ".json": "application/json", ".wasm": "application/wasm", ".png": "image/png",
    ".woff2": "font/woff2", ".ico": "image/x-icon", ".txt": "text/plain" };

/* The release directory, and /profiles/N for the Nth profile. */
const server = http.createServer((req, res) => {
	const url = decodeURIComponent(req.url.split(/[?#]/)[0]);
	let file;
	const m = /^\/profiles\/(\d+)$/.exec(url);
	if (m && +m[1] < profiles.length)
		file = profiles[+m[1]];
	else
		file = path.join(release, path.normalize(url === "/" ? "/index.html" : url));
	if (!file.startsWith(release) && !profiles.includes(file)) {
		res.writeHead(403).end();
		return;
	}
	fs.readFile(file, (err, data) => {
		if (err) {
			res.writeHead(404).end();
			return;
		}
		res.writeHead(200, { "Content-Type": types[path.extname(file)] || "application/json" });
		res.end(data);
	});
});

(async () => {
	await new Promise((r) => server.listen(0, "127.0.0.1", r));
	const base = `http://127.0.0.1:${server.address().port}`;
	const ctx = await launch(out, "pdjson-chromium-");
	try {
		for (let i = 0; i < profiles.length; i++) {
			const doc = JSON.parse(fs.readFileSync(profiles[i], "utf8"));
			const label = path.basename(profiles[i]);
			const page = await ctx.newPage();
			const errors = [], outside = [];
			page.on("pageerror", (e) => errors.push(String(e)));
			page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
			page.on("request", (r) => { if (!r.url().startsWith(base) && !r.url().startsWith("data:")) outside.push(r.url()); });
			const url = `${base}/index.html#profileURL=${encodeURIComponent(base + "/profiles/" + i)}`;
			await page.goto(url, { waitUntil: "load" });
			const want = `${doc.name} - speedscope`;
			let title = "";
			try {
				await page.waitForFunction((t) => document.title === t, want, { timeout: 20000 });
				title = await page.title();
			} catch (e) {
				title = await page.title();
			}
			ok(title === want, `${label}: speedscope imports it (title "${want}")`, title);
			const body = await page.evaluate(() => document.body.innerText);
			ok(!/Something went wrong/.test(body), `${label}: no import error screen`, body.slice(0, 200));
			ok(errors.length === 0, `${label}: no page or console errors`, errors);
			/* The toolbar names the active profile (the first one). */
			const first = doc.profiles.length ? doc.profiles[0].name : "";
			ok(first === "" || body.includes(first), `${label}: the first profile "${first}" is shown`, body.slice(0, 300));
			const drawn = await page.evaluate(() => {
				for (const c of document.querySelectorAll("canvas"))
					if (c.width > 0 && c.height > 0) return true;
				return false;
			});
			ok(drawn, `${label}: a flame chart canvas is drawn`);
			ok(outside.length === 0, `${label}: nothing is fetched from outside 127.0.0.1`, outside);
			await page.screenshot({ path: path.join(out, label.replace(/\.json$/, "") + ".png") });
			await page.close();
		}
	} finally {
		await ctx.closeAndClean();
		server.close();
	}
	finish();
})().catch((e) => {
	ok(false, String(e && e.stack ? e.stack.split("\n")[0] : e));
	finish();
});
