/*
 * gallery.test.js - the README gallery: screenshots of make demo's flame
 * graph, differential flame graph and pdtop table, taken in Debian's
 * chromium through playwright-core, each with a hover on the regressed
 * function.  Checks what each picture must show, then writes
 * OUTDIR/gallery/{flame,diff,top}.png.  Prints TAP.
 *
 *   node gallery.test.js OUTDIR DEMODIR
 *
 * To refresh the README's pictures: make browser-test, then copy
 * build/browser/gallery/*.png to doc/gallery/.
 */
"use strict";
const fs = require("fs");
const path = require("path");

const out = path.resolve(process.argv[2]);
const demo = path.resolve(process.argv[3]);
const { ok, finish, launch } = require("./tap.js");
const gal = path.join(out, "gallery");
fs.mkdirSync(gal, { recursive: true });


/* Width and height of a PNG file, from its IHDR chunk. */
function pngSize(file) {
	const b = fs.readFileSync(file);
	if (b.length < 24 || b.toString("latin1", 1, 4) !== "PNG" || b.toString("latin1", 12, 16) !== "IHDR")
		return null;
	return { w: b.readUInt32BE(16), h: b.readUInt32BE(20), bytes: b.length };
}

/* The widest frame named NAME: its box centre, width and fill. */
function widest(page, name) {
	return page.evaluate((nm) => {
		let best = null;
		for (const g of document.querySelectorAll("#frames > g")) {
			const t = g.querySelector("title");
			if (!t || !(t.textContent === nm || t.textContent.startsWith(nm + " ")))
				continue;
			const r = g.querySelector("rect"), b = r.getBoundingClientRect();
			if (!best || b.width > best.width)
				best = { width: b.width, x: b.x + b.width / 2, y: b.y + b.height / 2,
				    fill: getComputedStyle(r).fill };
		}
		return best;
	}, name);
}

function rgb(fill) {
	const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(fill || "");
	return m ? { r: +m[1], g: +m[2], b: +m[3] } : null;
}

function escapeHtml(s) {
	return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/* Open an SVG, hover the widest NAME frame, screenshot the whole graph. */
async function shoot(ctx, svg, name, png) {
	const page = await ctx.newPage();
	const errors = [];
	page.on("pageerror", (e) => errors.push(String(e)));
	await page.setViewportSize({ width: 1200, height: 400 });
	await page.goto("file://" + svg);
	const h = await page.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));
	await page.setViewportSize({ width: 1200, height: h });
	const f = await widest(page, name);
	if (f)
		await page.mouse.move(f.x, f.y);
	const det = await page.evaluate(() => document.getElementById("details").textContent);
	await page.screenshot({ path: png });
	await page.close();
	return { f, det, errors, h };
}

(async () => {
	const ctx = await launch(out, "pdgallery-chromium-");
	try {
		/* The profile of the new version: lookup_price is a wide frame. */
		let png = path.join(gal, "flame.png");
		let s = await shoot(ctx, path.join(demo, "flame.svg"), "lookup_price", png);
		ok(s.f && s.f.width > 100, "flame.svg: lookup_price is a frame wider than 100 px", s.f);
		ok(/^Function: lookup_price \([\d,]+ samples, [\d.]+% of total/.test(s.det), "flame.svg: hovering it names it with its share", s.det);
		let sz = pngSize(png);
		ok(sz && sz.w === 1200 && sz.h === s.h && sz.bytes > 10000, "flame.png: 1200 px wide, the graph's height", sz);
		ok(s.errors.length === 0, "flame.svg: no script errors", s.errors);

		/* The differential graph: lookup_price grew, so it is red. */
		png = path.join(gal, "diff.png");
		s = await shoot(ctx, path.join(demo, "diff.svg"), "lookup_price", png);
		const c = rgb(s.f && s.f.fill);
		ok(c && c.r > 200 && c.b < c.r - 60, "diff.svg: the grown lookup_price is red", s.f);
		ok(/^Function: lookup_price .*delta self [+]/.test(s.det), "diff.svg: hovering it shows its growth", s.det);
		sz = pngSize(png);
		ok(sz && sz.w === 1200 && sz.bytes > 10000, "diff.png: 1200 px wide", sz);
		ok(s.errors.length === 0, "diff.svg: no script errors", s.errors);

		/* pdtop's table as a terminal shows it. */
		const top = fs.readFileSync(path.join(demo, "top.txt"), "utf8").replace(/\n+$/, "");
		const cmd = "$ pdtop -n 5 --no-children new.data";
		const page = await ctx.newPage();
		await page.setViewportSize({ width: 900, height: 200 });
		await page.setContent(`<!DOCTYPE html><html><body style="margin:0;background:#fff">
<pre id="term" style="display:inline-block;margin:0;padding:14px 18px;background:#1e1e1e;color:#e0e0e0;
font:14px/1.35 'DejaVu Sans Mono',monospace"><span style="color:#8ae234">${escapeHtml(cmd)}</span>
${escapeHtml(top)}</pre></body></html>`);
		const txt = await page.evaluate(() => document.getElementById("term").textContent);
		ok(/\d+\.\d\d%\s+shop\s+shop\s+\[\.\] lookup_price/.test(txt), "top: the table lists lookup_price", txt);
		png = path.join(gal, "top.png");
		await page.locator("#term").screenshot({ path: png });
		sz = pngSize(png);
		ok(sz && sz.w > 400 && sz.h > 100 && sz.bytes > 5000, "top.png: the table's picture", sz);
		await page.close();
	} catch (e) {
		ok(false, "browser session", String(e && e.stack || e));
	} finally {
		await ctx.closeAndClean();
	}
	finish(`pictures in ${gal}`);
})();
