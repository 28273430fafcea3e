/*
 * flame.test.js - open an SVG written by pdflame in a real browser
 * (Debian's chromium through playwright-core), click a frame and check the
 * zoom, search and check the matched share, check that the state survives
 * a reload through the URL, and save a screenshot.  Prints TAP.
 *
 *   node flame.test.js OUTDIR SVG
 */
"use strict";
const fs = require("fs");
const path = require("path");

const out = path.resolve(process.argv[2]);
const svg = path.resolve(process.argv[3]);
const { ok, finish, launch } = require("./tap.js");


/* Geometry and state of the frame whose name is NAME. */
function frame(page, name) {
	return page.evaluate((nm) => {
		for (const g of document.querySelectorAll("#frames > g")) {
			if (g.fi === undefined) continue;
			const r = g.querySelector("rect");
			const t = g.querySelector("title").textContent;
			if (t === nm || t.startsWith(nm + " (")) {
				const b = r.getBoundingClientRect();
				return { width: +r.getAttribute("width"), hide: g.classList.contains("hide"),
				    par: g.classList.contains("par"), x: b.x + b.width / 2, y: b.y + b.height / 2,
				    fill: getComputedStyle(r).fill };
			}
		}
		return null;
	}, name);
}

function text(page, id) {
	return page.evaluate((i) => document.getElementById(i).textContent, id);
}

(async () => {
	const ctx = await launch(out, "pdflame-chromium-");
	const errors = [], requests = [];
	try {
		const page = await ctx.newPage();
		page.on("pageerror", (e) => errors.push(String(e)));
		page.on("request", (r) => { if (!r.url().startsWith("file:")) requests.push(r.url()); });
		await page.goto("file://" + svg);

		let root = await frame(page, "all");
		ok(root && root.width === 1180, "the root frame spans the graph", root);
		let compute = await frame(page, "compute");
		ok(compute && Math.abs(compute.width - 295) < 0.2, "compute is 25% wide before zooming", compute);

		/* Click to zoom. */
		await page.mouse.click(compute.x, compute.y);
		compute = await frame(page, "compute");
		ok(Math.abs(compute.width - 1180) < 0.2, "after a click, compute fills the width", compute);
		const io = await frame(page, "io"), run = await frame(page, "run");
		ok(io.hide && run.par, "siblings are hidden, parents faded", { io, run });
		ok(!(await page.evaluate(() => document.getElementById("unzoom").classList.contains("hide"))),
		    "Reset Zoom is shown");
		const kfn = await frame(page, "kernel_fn");
		await page.mouse.move(kfn.x, kfn.y);
		const det = await text(page, "details");
		ok(det.includes("kernel_fn (20 samples, 20.00% of total, 80.00% of zoomed frame; self 20)"),
		    "hover details: % of total and % of the zoomed frame", det);
		const tip = await page.evaluate(() => {
			for (const g of document.querySelectorAll("#frames > g"))
				if (g.querySelector("title").textContent.startsWith("kernel_fn"))
					return g.querySelector("title").textContent;
		});
		ok(tip.includes("self 20"), "the tooltip has self and total counts", tip);
		ok(page.url().includes("#z="), "zoom is kept in the URL", page.url());

		/* Search, with nested matches counted once. */
		let answer = "io|read";
		page.on("dialog", (d) => d.accept(answer));
		await page.keyboard.press("Control+f");
		let m = await text(page, "matched");
		ok(m === "Matched: 25.00%", "search io|read: 25% (read inside io counted once)", m);
		const read = await frame(page, "read");
		ok(read.fill === "rgb(230, 0, 230)", "matched frames are highlighted", read.fill);
		answer = "run|compute";
		await page.click("#search");
		m = await text(page, "matched");
		ok(m === "Matched: 57.00%", "search run|compute: 57%", m);
		answer = "READ";
		await page.keyboard.press("Control+f");
		m = await text(page, "matched");
		ok(m === "Matched: 0.00%", "search READ is case-sensitive: 0%", m);
		await page.click("#ic");
		m = await text(page, "matched");
		ok(m === "Matched: 10.00%", "ic toggles case: READ matches read, 10%", m);
		const url = page.url();
		ok(/#z=\d+\.3&s=READ&i=1$/.test(url), "zoom, search and case are in the URL", url);
		await page.screenshot({ path: path.join(out, "pdflame.png") });
		ok(fs.statSync(path.join(out, "pdflame.png")).size > 1000, "screenshot saved in " + out);

		/* The URL restores the state. */
		const p2 = await ctx.newPage();
		p2.on("pageerror", (e) => errors.push(String(e)));
		await p2.goto(url);
		compute = await frame(p2, "compute");
		m = await text(p2, "matched");
		ok(Math.abs(compute.width - 1180) < 0.2 && m === "Matched: 10.00%",
		    "reloading the URL restores zoom and search", { compute, m });

		/* Reset. */
		await page.click("#unzoom");
		compute = await frame(page, "compute");
		root = await frame(page, "all");
		ok(Math.abs(compute.width - 295) < 0.2 && !compute.par && root.width === 1180,
		    "Reset Zoom restores the graph", compute);
		await page.keyboard.press("Escape");
		m = await text(page, "matched");
		ok(m.trim() === "" && !page.url().includes("s="), "Escape clears the search", m);
	} catch (e) {
		ok(false, "browser session", String(e && e.stack || e));
	} finally {
		await ctx.closeAndClean();
	}
	ok(errors.length === 0, "no script errors", errors);
	ok(requests.length === 0, "no network requests", requests);
	finish();
})();
