// The benchmark: prints figures, asserts nothing (budgets are compared and reported, not enforced).
//
//   node scripts/bench.mjs [--runs 11] [--dist dist] [--sizes-only]      (scripts/bench builds first)
//   (--sizes-only: the sizes and budgets, without the timed loads)
//
// 1. Every file in dist/: raw, gzip -9 and brotli q11 bytes, and when the page loads it (first load:
//    what a cold load of the start page fetched until MSAL had loaded, as recorded in the browser;
//    on first use: a split-off module (src/lazy.rs) and the shared chunks its loader fetches with it,
//    read from the loader, scripts/split-modules.mjs); the first-load transfer is the sum of the files
//    the browser fetched. Each split-off module with its chunks is compared with the 260 KB budget.
// 2. First render: navigation start -> first node inside #app, over N cold loads (fresh browser
//    context each) in headless Chromium at 1x and 4x CPU (CDP throttling), with an empty page (a
//    module script that adds a div) measured in the same run as the baseline; also when the sign-in
//    library (MSAL) finished loading, to show it does not delay the first paint. Once more at 1x over
//    an emulated 10 Mbit/s network with 40 ms round trips (the server gzips, as a web server would).
// 3. The first page after the start page (click -> its form: the pages module fetched, compiled, run).
// 4. The inventory (issue 16) signed in against the armsim server with a generated tenant of 100 subscriptions,
//    10,000 scale sets, 2,000 VMs and 500 identities (scripts/bench-inventory.mjs says how each figure is taken):
//    `inventory: R rows, Q requests, T ms to full list, K ms per filter keystroke, H MB JS heap`.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { startStaticServer } from './static-server.mjs';
import { splitModules } from './split-modules.mjs';
import { launch, guardedPage, ROOT } from '../e2e/lib/browser.mjs';
import { inventoryBench } from './bench-inventory.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('--runs', 11));
const SIZES_ONLY = process.argv.includes('--sizes-only');
const DIST = path.resolve(arg('--dist', path.join(ROOT, 'dist')));
const BUDGET = { wasmGzip: 130_000, firstLoadGzip: 230_000, pagesGzip: 260_000, render1x: 200, render4x: 600 };

// ---- sizes ----
function sizesOf(dir) {
  const files = fs.readdirSync(dir).filter((f) => !f.startsWith('.') && fs.statSync(path.join(dir, f)).isFile()).sort();
  return files.map((f) => {
    const buf = fs.readFileSync(path.join(dir, f));
    return {
      file: f,
      raw: buf.length,
      gzip: zlib.gzipSync(buf, { level: 9 }).length,
      brotli: zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    };
  });
}
const fmt = (n) => n.toLocaleString('en-US');
const total = (sz, k) => sz.reduce((a, s) => a + s[k], 0);
const unhash = (f) => f.replace(/-[0-9a-f]{12,16}(?=[._])/, '-<hash>');
// when the page loads a file: at first, with a split-off module (on first use), or never
function when(file, fetched, modules) {
  if (fetched.has(file)) return 'first load';
  const own = modules.find((m) => m.file === file);
  if (own) return `on first use: module \`${own.name}\``;
  const users = modules.filter((m) => m.chunks.includes(file)).map((m) => m.name);
  return users.length ? `shared chunk, with the first of: ${users.join(', ')}` : 'not by the app page';
}
function printSizes(title, sz, fetched, modules) {
  console.log(`\n## ${title} (bytes)\n`);
  console.log('| file | raw | gzip -9 | brotli 11 | loaded |\n|---|---:|---:|---:|---|');
  for (const s of sz) console.log(`| ${unhash(s.file)} | ${fmt(s.raw)} | ${fmt(s.gzip)} | ${fmt(s.brotli)} | ${when(s.file, fetched, modules)} |`);
  const first = sz.filter((s) => fetched.has(s.file));
  console.log(`| **first load (the files the start page fetched)** | ${fmt(total(first, 'raw'))} | ${fmt(total(first, 'gzip'))} | ${fmt(total(first, 'brotli'))} | |`);
  const wasm = sz.filter((s) => s.file.endsWith('.wasm'));
  console.log(`| all wasm (first load + on first use) | ${fmt(total(wasm, 'raw'))} | ${fmt(total(wasm, 'gzip'))} | ${fmt(total(wasm, 'brotli'))} | |`);
}
const sizes = sizesOf(DIST);
const modules = splitModules(DIST);
const DEMO = path.join(path.dirname(DIST), 'dist-demo');
const demoSizes = fs.existsSync(DEMO) ? sizesOf(DEMO) : [];
const demoModules = demoSizes.length ? splitModules(DEMO) : [];

// ---- first render ----
const baselineHtml = `<!doctype html><html><head><meta charset="utf-8"><title>baseline</title>
<script type="module">const d = document.createElement('div'); d.textContent = 'baseline'; document.getElementById('app').appendChild(d);</script>
</head><body><div id="app"></div></body></html>`;
const baseline = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(baselineHtml));
await new Promise((r) => baseline.listen(0, '127.0.0.1', r));
const baselineUrl = `http://127.0.0.1:${baseline.address().port}/`;
const app = await startStaticServer({ dist: DIST, compress: true });
// a network to measure on besides loopback: 10 Mbit/s down, 5 up, 40 ms round trips
const NET = { offline: false, latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 5e6 / 8 };

const browser = await launch();
async function throttle(context, page, rate, net) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  if (net) {
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', net);
  }
}
async function measure(url, rate, withMsal, fetched = new Set(), net = null) {
  const { context, page } = await guardedPage(browser);
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin === new URL(url).origin) fetched.add(decodeURIComponent(u.pathname.slice(1)) || 'index.html');
  });
  await throttle(context, page, rate, net);
  await page.addInitScript(() => {
    new MutationObserver((_, obs) => {
      if (document.querySelector('#app > *') && !window.__firstApp) {
        window.__firstApp = performance.now();
        obs.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto(url);
  await page.waitForFunction(() => window.__firstApp !== undefined, null, { timeout: 30_000 });
  const first = await page.evaluate(() => window.__firstApp);
  let msal = null;
  if (withMsal) {
    await page.waitForFunction(() => /MSAL|could not/.test(document.querySelector('#msal-status')?.textContent ?? ''), null, { timeout: 30_000 });
    msal = await page.evaluate(() => {
      const e = performance.getEntriesByType('resource').find((r) => r.name.includes('msal-browser'));
      return e ? e.responseEnd : null;
    });
    await page.waitForLoadState('networkidle');
  }
  await context.close();
  return { first, msal };
}
// The first page after the start page: click "Scripts only" on the start page (MSAL loaded, the
// network idle) -> the page's form is in the DOM; the pages module is fetched, compiled and run.
async function measureFirstPage(url, rate, net = null) {
  const { context, page } = await guardedPage(browser);
  await throttle(context, page, rate, net);
  await page.goto(url);
  await page.waitForFunction(() => /MSAL|could not/.test(document.querySelector('#msal-status')?.textContent ?? ''), null, { timeout: 30_000 });
  await page.waitForLoadState('networkidle');
  const t = await page.evaluate(() => new Promise((resolve) => {
    const link = [...document.querySelectorAll('#scenarios li.scenario[data-slug="enable-system-assigned"] a')].find((a) => a.textContent === 'Scripts only');
    const t0 = performance.now();
    new MutationObserver((_, obs) => {
      if (document.querySelector('#wizard #sn-sub')) {
        obs.disconnect();
        resolve(performance.now() - t0);
      }
    }).observe(document, { childList: true, subtree: true });
    link.click();
  }));
  await context.close();
  return t;
}
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};
// what a cold load of the start page fetches (until MSAL has loaded and the network is idle)
const fetched = new Set();
// (the browser's HTTP cache is per context: every measured load is cold)
await measure(app.url, 1, true, fetched);
const demoApp = demoSizes.length ? await startStaticServer({ dist: DEMO }) : null;
const demoFetched = new Set();
if (demoApp) {
  await measure(demoApp.url, 1, true, demoFetched);
  await demoApp.close();
}
const rows = [];
for (const { rate, net, label } of SIZES_ONLY ? [] : [
  { rate: 1, net: null, label: '1x CPU, loopback' },
  { rate: 4, net: null, label: '4x CPU, loopback' },
  { rate: 1, net: NET, label: '1x CPU, 10 Mbit/s + 40 ms RTT' },
]) {
  const base = [];
  const appT = [];
  const msalT = [];
  await measure(app.url, rate, true); // warm the server and the OS page cache, not the browser cache
  for (let i = 0; i < RUNS; i++) {
    base.push((await measure(baselineUrl, rate, false, new Set(), net)).first);
    const r = await measure(app.url, rate, true, new Set(), net);
    appT.push(r.first);
    if (r.msal !== null) msalT.push(r.msal);
  }
  const pageT = [];
  for (let i = 0; i < RUNS; i++) pageT.push(await measureFirstPage(app.url, rate, net));
  rows.push({ rate, label, baseline: stats(base), app: stats(appT), msal: msalT.length ? stats(msalT) : null, firstPage: stats(pageT) });
}
await browser.close();
await app.close();
baseline.close();

const ms = (x) => `${x.toFixed(0)} ms`;
if (rows.length) {
  console.log(`\n## First render (navigation start -> first node in #app), ${RUNS} cold loads each\n`);
  console.log('| CPU, network | empty page (baseline) median [min–max] | app median [min–max] | app − baseline (median) | MSAL loaded at (median) |\n|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.label} | ${ms(r.baseline.median)} [${ms(r.baseline.min)}–${ms(r.baseline.max)}] | ${ms(r.app.median)} [${ms(r.app.min)}–${ms(r.app.max)}] | ${ms(r.app.median - r.baseline.median)} | ${r.msal ? ms(r.msal.median) : 'n/a'} |`);
  }
  console.log(`\n## First page after the start page (click -> the page's form; the pages module is fetched, compiled and run), ${RUNS} runs each\n`);
  console.log('| CPU, network | median [min–max] |\n|---|---|');
  for (const r of rows) console.log(`| ${r.label} | ${ms(r.firstPage.median)} [${ms(r.firstPage.min)}–${ms(r.firstPage.max)}] |`);
}
printSizes('Production build, dist/', sizes, fetched, modules);
if (demoSizes.length) printSizes('Demo-tenant build, dist-demo/ (served by scripts/serve; not what a deployment ships)', demoSizes, demoFetched, demoModules);
const firstLoad = sizes.filter((s) => fetched.has(s.file));
const firstLoadGzip = total(firstLoad, 'gzip');
const wasmGzip = total(firstLoad.filter((s) => s.file.endsWith('.wasm')), 'gzip');
// what first use of a split-off module fetches: the module and the shared chunks its loader names
const sizeOf = (file) => sizes.find((s) => s.file === file);
const onFirstUse = (...names) => {
  const files = new Set();
  for (const n of names) {
    const m = modules.find((x) => x.name === n);
    if (m) [m.file, ...m.chunks].forEach((f) => files.add(f));
  }
  return { files: [...files], gzip: total([...files].map(sizeOf), 'gzip'), raw: total([...files].map(sizeOf), 'raw') };
};
console.log('\n## Budgets (production build)\n');
const verdict = (ok) => (ok ? 'within' : 'OVER');
console.log(`- wasm of the first load, gzip ${fmt(wasmGzip)} B vs ${fmt(BUDGET.wasmGzip)}: ${verdict(wasmGzip <= BUDGET.wasmGzip)}`);
// each split-off module on first use (from a cold start: with every chunk it needs), against the
// pages budget (issue 16: what a user downloads on first use of a page)
for (const m of modules) {
  const u = onFirstUse(m.name);
  const own = sizeOf(m.file).gzip;
  console.log(`- module \`${m.name}\` on first use: ${fmt(own)} B + ${m.chunks.length} shared chunk(s) ${fmt(u.gzip - own)} B = gzip ${fmt(u.gzip)} B vs ${fmt(BUDGET.pagesGzip)}: ${verdict(u.gzip <= BUDGET.pagesGzip)}`);
}
if (modules.some((m) => m.name === 'pages') && modules.some((m) => m.name === 'scripts')) {
  const u = onFirstUse('pages', 'scripts');
  console.log(`  (a page, then the scripts of its review: modules \`pages\` + \`scripts\` and their chunks, gzip ${fmt(u.gzip)} B)`);
}
console.log(`- first load gzip ${fmt(firstLoadGzip)} B vs ${fmt(BUDGET.firstLoadGzip)}: ${verdict(firstLoadGzip <= BUDGET.firstLoadGzip)}`);
if (rows.length) {
  console.log(`- first render 1x ${ms(rows[0].app.median)} vs ${BUDGET.render1x} ms: ${verdict(rows[0].app.median <= BUDGET.render1x)}`);
  console.log(`- first render 4x ${ms(rows[1].app.median)} vs ${BUDGET.render4x} ms: ${verdict(rows[1].app.median <= BUDGET.render4x)}`);
}

// ---- the inventory ----
let inventory = null;
if (rows.length) {
  console.log('\n## Inventory (issue 16): generated tenant 100 subscriptions / 10,000 scale sets / 2,000 VMs / 500 identities on the armsim server, 1x CPU\n');
  inventory = await inventoryBench({ runs: Number(arg('--inventory-runs', 3)), dist: DIST, log: (l) => console.log(l) });
  console.log(`\n${inventory.line}`);
  console.log('(goals: requests <= 1 per 1,000 rows + 1 per shape, <= 3000 ms to full list, <= 100 ms per keystroke, <= 150 MB JS heap)');
}

fs.mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'bench-results', 'bench.json'), JSON.stringify({ sizes, demoSizes, modules, demoModules, fetched: [...fetched], demoFetched: [...demoFetched], rows, runs: RUNS, inventory }, null, 2));
