// The inventory benchmark (issue 16): the production build (dist/) signed in with MSAL against the local
// OpenID provider (e2e/idp), the armsim server as ARM on loopback (optimised build, a generated tenant, the
// per-user Resource Graph quota on, strict CORS as in e2e/live.test.mjs), in headless Chromium at 1x CPU.
// Prints one line:
//
//   inventory: R rows, Q requests, T ms to full list, K ms per filter keystroke, H MB JS heap
//
// R  the rows the page shows when complete: its scale sets and VMs ("… of N scale sets and VMs shown") plus the
//    rows of its identity table, read from the page;
// Q  the requests the page sent to ARM (the armsim origin) for the list: from the click on, counted in the
//    browser, without CORS preflights (Playwright does not report them; armsim's log, printed beside, has
//    them) and without the role-assignment queries the page sends after the list is shown (printed beside);
// T  click on the header's Inventory link -> the first animation frame with "Complete" in the page (median of
//    --inventory-runs loads, each in a fresh Resource Graph quota window);
// K  median over the keystrokes of typing into the text filter: keydown -> the page's handlers, the filter and
//    Yew's render done and the table laid out (a task queued by the input event runs after them; the layout is
//    forced there);
// H  V8's used heap (CDP Runtime.getHeapUsage) after the last load, after a garbage collection; the wasm linear
//    memory is reported beside it (not part of H).
//
// Used by scripts/bench.mjs; alone: `node scripts/bench-inventory.mjs [--tenant 100,10000,2000,500]
// [--inventory-runs 3] [--armsim target/release/armsim] [--dist dist]` (after scripts/build and
// `cargo build --release -p armsim`). Prints figures, asserts nothing.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startStaticServer } from './static-server.mjs';
import { ROOT, launch, guardedPage } from '../e2e/lib/browser.mjs';
import { ARM_AUDIENCE, CLIENT_ID, PASSWORD, TENANT_A, startIdp } from '../e2e/idp/idp.mjs';

const ALICE = 'alice@contoso.test';
/** Typed into the text filter, one keystroke at a time (a scale set's name in the generated tenant). */
const TYPED = 'vmss-042-000';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Stops the CDP profiler and prints the functions with the most self time (a debugging aid: BENCH_PROFILE=1
 * profiles the keystrokes, BENCH_PROFILE_LOAD=1 the last load). */
async function printProfile(cdp, log) {
  const { profile } = await cdp.send('Profiler.stop');
  const self = new Map();
  const dt = profile.timeDeltas;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const n = byId.get(id);
    const k = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop()}`;
    self.set(k, (self.get(k) ?? 0) + (dt[i] ?? 0) / 1000);
  });
  for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) log(`    ${ms.toFixed(1)} ms  ${k}`);
}

/** Starts the armsim server (first stdout line: its URL). */
async function startArmsim(bin, args) {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: proc.stdout });
  const url = await new Promise((resolve, reject) => {
    rl.once('line', resolve);
    proc.once('exit', (c) => reject(new Error(`armsim exited ${c}`)));
  });
  return { url: url.trim(), proc };
}

/**
 * Runs the benchmark; returns { rows, requests, fullListMs, keystrokeMs, heapMb, wasmMb, runs, line }.
 * `tenant`: SUBS,SCALE_SETS,VMS,IDENTITIES.
 */
export async function inventoryBench({
  tenant = '100,10000,2000,500',
  runs = 3,
  armsimBin = path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target'), 'release', 'armsim'),
  dist = path.join(ROOT, 'dist'),
  log = () => {},
} = {}) {
  const [subs, sets, vms, ids] = tenant.split(',').map(Number);
  const tmp = fs.mkdtempSync(path.join(ROOT, 'target', 'e2e-tmp', 'bench-inv-'));
  const idp = await startIdp();
  let arm;
  let app;
  let browser;
  try {
    const jwks = path.join(tmp, 'jwks.json');
    fs.writeFileSync(jwks, JSON.stringify(idp.jwks));
    // the generated tenant (armsim --tenant's generator), as the provider's tenant
    const seedFile = path.join(tmp, 'seed.json');
    execFileSync(armsimBin, ['--generate-scale', String(sets), '--subscriptions', String(subs), '--vms', String(vms), '--identities', String(ids), '--out', seedFile]);
    const seed = JSON.parse(fs.readFileSync(seedFile, 'utf8'));
    seed.tenantId = TENANT_A;
    fs.writeFileSync(seedFile, JSON.stringify(seed));
    // armsim needs the app's origin for CORS, the app armsim's URL: take a port for the app first
    const appPort = await freePort();
    arm = await startArmsim(armsimBin, [
      '--port', '0', '--control', '--seed', seedFile,
      '--jwks', jwks, '--auth-issuer', idp.issuer(TENANT_A), '--auth-audience', ARM_AUDIENCE,
      '--cors-origin', `http://127.0.0.1:${appPort}`, '--cors-mode', 'strict',
    ]);
    app = await startStaticServer({ dist, port: appPort, config: { cloud: 'Custom', clientId: CLIENT_ID, tenant: TENANT_A, authority: idp.origin, armEndpoint: arm.url, armAudience: ARM_AUDIENCE } });
    idp.registerApp(app.url);
    browser = await launch([`--ignore-certificate-errors-spki-list=${idp.spki}`]);
    const { context, page } = await guardedPage(browser, { viewport: { width: 1200, height: 900 } });
    // what the page sent to ARM: counted in the browser (Playwright reports no CORS preflight), checked
    // against armsim's request log (which has the preflights too)
    const armOrigin = new URL(arm.url).origin;
    let counting = false;
    let requests = 0;
    let roleQueries = 0;
    context.on('request', (r) => {
      if (!counting || new URL(r.url()).origin !== armOrigin || r.method() === 'OPTIONS') return;
      // the role assignments (and their definitions) are read after the list is shown: not the list's requests
      if ((r.postData() ?? '').includes('authorizationresources')) roleQueries++;
      else requests++;
    });
    const armLog = async (method = 'GET') => {
      const r = await fetch(`${arm.url}/_armsim/requests`, { method });
      return method === 'GET' ? (await r.json()).value : null;
    };
    // the app's wasm memory (trunk's start event carries the instance's exports)
    await page.addInitScript(() => addEventListener('TrunkApplicationStarted', (e) => { window.__wasmMemory = e.detail?.wasm?.memory; }));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });

    // sign in (MSAL, the provider's pop-up)
    await page.goto(app.url);
    await page.locator('#sign-in').waitFor({ timeout: 30_000 });
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#sign-in')]);
    await popup.locator('#username').waitFor({ timeout: 15_000 });
    await popup.fill('#username', ALICE);
    await popup.fill('#password', PASSWORD);
    await popup.click('#submit');
    await page.waitForFunction(() => document.querySelector('#mode')?.textContent === 'Signed in', null, { timeout: 30_000 });

    const times = [];
    const counts = [];
    for (let i = 0; i < runs; i++) {
      if (i > 0) {
        // the previous load's role assignments read, then a fresh Resource Graph quota window (5 s)
        await page.waitForFunction(() => !document.querySelector('#inv-roles'), null, { timeout: 60_000 });
        await page.waitForTimeout(5_500);
        await page.goto(app.url);
        await page.waitForFunction(() => document.querySelector('#mode')?.textContent === 'Signed in', null, { timeout: 30_000 });
      }
      await page.waitForLoadState('networkidle');
      requests = 0;
      roleQueries = 0;
      await armLog('DELETE');
      counting = true;
      if (process.env.BENCH_PROFILE_LOAD && i === runs - 1) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
        await cdp.send('Profiler.start');
      }
      const t = await page.evaluate(() => new Promise((resolve, reject) => {
        // checked once per frame (a MutationObserver over the whole document would itself cost time while
        // thousands of rows are inserted): the first frame with "Complete" (or "Partial") in it
        const t0 = performance.now();
        const timer = setTimeout(() => reject(new Error(`no complete list after 120 s: ${document.querySelector('.inventory')?.innerText}`)), 120_000);
        const frame = () => {
          if (document.getElementById('inv-complete') || document.getElementById('inv-partial')) {
            clearTimeout(timer);
            resolve({ ms: performance.now() - t0, complete: !!document.getElementById('inv-complete'), text: document.querySelector('.inventory')?.innerText.slice(0, 600) });
          } else requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
        document.querySelector('#nav-inventory').click();
      }));
      const listRequests = requests;
      if (process.env.BENCH_PROFILE_LOAD && i === runs - 1) await printProfile(cdp, log);
      if (!t.complete) throw new Error(`the load ended partial: ${t.text}`);
      times.push(t.ms);
      await page.waitForFunction(() => !document.querySelector('#inv-roles'), null, { timeout: 60_000 });
      counting = false;
      const seen = await armLog();
      const byArmsim = seen.filter((e) => e.method !== 'OPTIONS');
      const statuses = {};
      for (const e of byArmsim) statuses[e.status] = (statuses[e.status] ?? 0) + 1;
      counts.push({ requests: listRequests, after: requests - listRequests, roleQueries, armsim: byArmsim.length, preflights: seen.length - byArmsim.length, statuses });
      if (process.env.BENCH_TRACE) for (const e of seen) log(`    +${e.timeMs - seen[0].timeMs} ms ${e.method} ${e.path} ${e.status}`);
      log(`  load ${i + 1}: ${t.ms.toFixed(0)} ms to the full list, ${listRequests} requests for it (${requests - listRequests} after it), then ${roleQueries} for the role assignments; armsim received ${byArmsim.length} in all (statuses ${JSON.stringify(statuses)}) and ${seen.length - byArmsim.length} preflights`);
    }
    // the role assignments are read after the list is shown: let them finish before the keystrokes
    await page.waitForFunction(() => !document.querySelector('#inv-roles'), null, { timeout: 60_000 });
    const rows = await page.evaluate(() => {
      const m = /of ([\d,]+) scale sets and VMs shown/.exec(document.querySelector('#inv-count')?.textContent ?? '');
      const compute = m ? Number(m[1].replace(/,/g, '')) : NaN;
      return compute + document.querySelectorAll('#inv-identities tbody tr').length;
    });

    // keystrokes in the text filter
    await page.evaluate(() => {
      window.__keys = [];
      const input = document.querySelector('#inv-text');
      let t0 = null;
      input.addEventListener('keydown', (e) => { t0 = e.timeStamp; }, { capture: true });
      input.addEventListener('input', () => {
        const start = t0;
        // a task: runs after the input handlers and the microtasks (Yew's render)
        const ch = new MessageChannel();
        ch.port1.onmessage = () => {
          void document.querySelector('#inv-resources').offsetHeight; // style and layout of the new rows
          window.__keys.push({ ms: performance.now() - start, count: document.querySelector('#inv-count')?.textContent });
        };
        ch.port2.postMessage(null);
      });
    });
    await page.click('#inv-text');
    // BENCH_PROFILE=1: a CPU profile of the keystrokes, the functions with the most self time printed
    if (process.env.BENCH_PROFILE) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    for (const [n, ch] of [...TYPED].entries()) {
      await page.keyboard.press(ch);
      await page.waitForFunction((k) => window.__keys.length > k, n);
      await page.waitForTimeout(50);
    }
    const keys = await page.evaluate(() => window.__keys);
    if (process.env.BENCH_PROFILE) await printProfile(cdp, log);
    log(`  keystrokes: ${keys.map((k) => `${k.ms.toFixed(1)} ms (${k.count})`).join(', ')}`);

    await cdp.send('HeapProfiler.collectGarbage');
    const heap = await cdp.send('Runtime.getHeapUsage');
    const wasmBytes = await page.evaluate(() => window.__wasmMemory?.buffer?.byteLength ?? null);
    log(`  JS heap ${(heap.usedSize / 1e6).toFixed(1)} MB used of ${(heap.totalSize / 1e6).toFixed(1)} MB; wasm memory ${wasmBytes === null ? 'n/a' : (wasmBytes / 1e6).toFixed(0) + ' MB'}`);
    await context.close();
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const fullListMs = median(times);
    const keystrokeMs = median(keys.map((k) => k.ms));
    const heapMb = heap.usedSize / 1e6;
    const q = counts[times.indexOf(fullListMs)].requests;
    const line = `inventory: ${rows} rows, ${q} requests, ${fullListMs.toFixed(0)} ms to full list, ${keystrokeMs.toFixed(0)} ms per filter keystroke, ${heapMb.toFixed(0)} MB JS heap`;
    return { rows, requests: q, counts, times, fullListMs, keystrokeMs, keys, heapMb, wasmMb: wasmBytes === null ? null : wasmBytes / 1e6, line };
  } finally {
    await browser?.close();
    arm?.proc.kill();
    await app?.close();
    await idp.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : dflt;
  };
  const r = await inventoryBench({
    tenant: arg('--tenant', undefined),
    runs: Number(arg('--inventory-runs', 3)),
    armsimBin: arg('--armsim', undefined),
    dist: arg('--dist', undefined),
    log: (s) => console.log(s),
  });
  console.log(r.line);
}
