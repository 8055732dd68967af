// The inventory signed in, against the armsim server: the production build (dist/) in Chromium, MSAL signing in
// against the local OpenID provider (e2e/idp), armsim as ARM with a generated tenant (armsim's generator: 20
// subscriptions, 2,000 scale sets, 200 VMs, 100 identities — several Resource Graph pages per query), its per-user
// Resource Graph quota on and strict CORS (no response header readable: the quota headers and Retry-After are
// not, as in e2e/live.test.mjs). What armsim received is read from its request log; nothing is intercepted.
//
// - the caller's quota is spent (other queries of the same user just before): armsim answers the page's query
//   429 with Retry-After, the page shows the wait, then completes with exactly the rows the seed has;
// - an export of a filtered view holds exactly that filter's rows;
// - a cancel while the list is read leaves a partial result with its reason, never "complete".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { startStaticServer } from '../scripts/static-server.mjs';
import { ROOT, launch, guardedPage, screenshot } from './lib/browser.mjs';
import { ARM_AUDIENCE, CLIENT_ID, PASSWORD, TENANT_A, startIdp } from './idp/idp.mjs';

const DIST = path.resolve(process.env.DIST_DIR ?? path.join(ROOT, 'dist'));
const ARMSIM = process.env.ARMSIM_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target'), 'debug', 'armsim');
const ALICE = 'alice@contoso.test';
const SPEC = { subscriptions: 20, scaleSets: 2_000, vms: 200, identities: 100 };
const GRAPH = '/providers/Microsoft.ResourceGraph/resources';

let idp;
let arm;
let app;
let browser;
let seed;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const control = async (method, p, body) => {
  const r = await fetch(`${arm.url}/_armsim/${p}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const t = await r.text();
  return t ? JSON.parse(t) : null;
};
const graphLog = async () => (await control('GET', 'requests')).value.filter((e) => e.path === GRAPH && e.method === 'POST');

/** What the seed holds (what armsim serves): names of the scale sets, VMs and identities, per subscription. */
function seedCounts(s) {
  const groups = (sub) => sub.resourceGroups;
  const names = (sub, k) => groups(sub).flatMap((g) => (g[k] ?? []).map((x) => x.name));
  return {
    compute: s.subscriptions.reduce((n, sub) => n + names(sub, 'virtualMachineScaleSets').length + names(sub, 'virtualMachines').length, 0),
    identities: s.subscriptions.reduce((n, sub) => n + names(sub, 'userAssignedIdentities').length, 0),
    vmsOf: (i) => names(s.subscriptions[i], 'virtualMachines'),
  };
}

before(async () => {
  idp = await startIdp();
  const tmp = fs.mkdtempSync(path.join(ROOT, 'target', 'e2e-tmp', 'inv-live-'));
  const jwks = path.join(tmp, 'jwks.json');
  fs.writeFileSync(jwks, JSON.stringify(idp.jwks));
  // armsim's own generator, as the provider's tenant A
  const seedFile = path.join(tmp, 'seed.json');
  execFileSync(ARMSIM, ['--generate-scale', String(SPEC.scaleSets), '--subscriptions', String(SPEC.subscriptions), '--vms', String(SPEC.vms), '--identities', String(SPEC.identities), '--out', seedFile]);
  seed = JSON.parse(fs.readFileSync(seedFile, 'utf8'));
  seed.tenantId = TENANT_A;
  fs.writeFileSync(seedFile, JSON.stringify(seed));
  const appPort = await freePort();
  const proc = spawn(ARMSIM, [
    '--port', '0', '--control', '--seed', seedFile, '--graph-quota', 'on',
    '--jwks', jwks, '--auth-issuer', idp.issuer(TENANT_A), '--auth-audience', ARM_AUDIENCE,
    '--cors-origin', `http://127.0.0.1:${appPort}`, '--cors-mode', 'strict',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    readline.createInterface({ input: proc.stdout }).once('line', resolve);
    proc.once('exit', (c) => reject(new Error(`armsim exited ${c}`)));
  });
  arm = { url: url.trim(), proc };
  app = await startStaticServer({ dist: DIST, port: appPort, config: { cloud: 'Custom', clientId: CLIENT_ID, tenant: TENANT_A, authority: idp.origin, armEndpoint: arm.url, armAudience: ARM_AUDIENCE } });
  idp.registerApp(app.url);
  browser = await launch([`--ignore-certificate-errors-spki-list=${idp.spki}`]);
});

after(async () => {
  await browser?.close();
  arm?.proc.kill();
  await Promise.all([app?.close(), idp?.close()]);
});

async function signedIn(t) {
  const ctx = await guardedPage(browser, { viewport: { width: 1200, height: 900 } });
  t.after(async () => {
    assert.deepEqual(ctx.external, [], 'requests off loopback');
    await ctx.context.close();
  });
  const { page } = ctx;
  await page.goto(app.url);
  await page.locator('#sign-in').waitFor({ timeout: 30_000 });
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#sign-in')]);
  await popup.locator('#username').waitFor({ timeout: 15_000 });
  await popup.fill('#username', ALICE);
  await popup.fill('#password', PASSWORD);
  await popup.click('#submit');
  await page.waitForFunction(() => document.querySelector('#mode')?.textContent === 'Signed in', null, { timeout: 30_000 });
  return ctx;
}

/** Records what the page showed while it loads: every wait text, and whether "complete" was ever shown. */
async function watch(page, { cancelAtFirstPage = false } = {}) {
  await page.evaluate((cancel) => {
    window.__seen = { waits: [], complete: false, cancelled: false, progress: [] };
    const obs = new MutationObserver(() => {
      const w = document.querySelector('#retry-wait')?.textContent;
      if (w && !window.__seen.waits.includes(w)) window.__seen.waits.push(w);
      const p = document.querySelector('#inv-progress-label')?.textContent;
      if (p && !window.__seen.progress.includes(p)) window.__seen.progress.push(p);
      if (p && /waiting \d+ s/.test(p) && !window.__seen.waits.includes(p)) window.__seen.waits.push(p);
      if (document.querySelector('#inv-complete')) window.__seen.complete = true;
      // the first page is in: cancel at once (synchronously, before the loader's next query)
      if (cancel && !window.__seen.cancelled && p && /^Loaded [1-9]/.test(p)) {
        window.__seen.cancelled = true;
        document.querySelector('#inv-cancel').click();
      }
    });
    obs.observe(document, { childList: true, subtree: true, characterData: true });
  }, cancelAtFirstPage);
}

async function download(page, button) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return fs.readFileSync(await d.path(), 'utf8');
}

test('a generated tenant over several pages: the spent quota\'s 429 waited out visibly, then complete with exactly the seed\'s rows; a filtered view\'s CSV holds that filter\'s rows', async (t) => {
  const { page, problems } = await signedIn(t);
  const want = seedCounts(seed);
  assert.equal(want.compute, SPEC.scaleSets + SPEC.vms);
  assert.equal(want.identities, SPEC.identities);
  await control('DELETE', 'requests');
  // the same user's other queries (another tab, a script) spent 13 of the window's 15
  const token = await page.evaluate(() => {
    const k = Object.keys(sessionStorage).find((x) => x.includes('|accesstoken|'));
    return JSON.parse(sessionStorage.getItem(k)).secret;
  });
  for (let i = 0; i < 13; i++) {
    const r = await fetch(`${arm.url}${GRAPH}?api-version=2022-10-01`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'resources | project id', options: { $top: 1 } }),
    });
    assert.equal(r.status, 200);
  }
  await watch(page);
  await page.click('#nav-inventory');
  await page.locator('#inv-complete').waitFor({ timeout: 90_000 });
  // and the role assignments after it
  await page.waitForFunction(() => !document.querySelector('#inv-roles') && (document.querySelector('#inv-complete') || document.querySelector('#inv-partial')), null, { timeout: 90_000 });
  const seen = await page.evaluate(() => window.__seen);
  assert.ok(seen.waits.some((w) => /throttling requests \(429\)|waiting \d+ s/.test(w)), `a wait shown: ${JSON.stringify(seen)}`);
  await screenshot(page, 'inventory-live-complete');

  const log = (await graphLog()).slice(13);
  const statuses = log.map((e) => e.status);
  assert.ok(statuses.includes(429), `armsim answered 429: ${statuses}`);
  assert.equal(statuses.at(-1), 200);
  assert.ok(statuses.every((s) => s === 200 || s === 429), String(statuses));
  // several pages: queries that went on with a $skipToken
  const bodies = log.filter((e) => e.status === 200).map((e) => (typeof e.body === 'string' ? JSON.parse(e.body) : e.body));
  assert.ok(bodies.filter((b) => b.options?.$skipToken).length >= 2, 'paged with $skipToken');
  assert.ok(bodies.every((b) => b.options.$top === 1000 && b.subscriptions.length === SPEC.subscriptions));

  // exactly the seed's rows
  assert.equal(await page.textContent('#inv-complete').then((x) => x.replace(/\s*Load again$/, '').trim()),
    `Complete: ${want.compute} scale sets and VMs, ${want.identities} user-assigned identities in ${SPEC.subscriptions} subscriptions.`);
  assert.equal((await page.textContent('#inv-count')).trim(), `${want.compute} of ${want.compute} scale sets and VMs shown`);
  assert.equal(await page.locator('#inv-identities tbody tr').count(), want.identities);
  assert.equal(await page.locator('#inv-partial').count(), 0);

  // a filtered view (one subscription's VMs) exported as CSV: exactly that filter's rows
  const sub = seed.subscriptions[3];
  await page.selectOption('#inv-sub', sub.subscriptionId);
  await page.check('#inv-kind-vm');
  const vms = want.vmsOf(3);
  assert.ok(vms.length >= 5, String(vms));
  await page.waitForFunction((n) => document.querySelector('#inv-count')?.textContent.startsWith(`${n} of `), vms.length);
  const q = new URLSearchParams(new URL(page.url()).search);
  assert.equal(q.get('kind'), 'vm');
  assert.equal(q.get('sub')?.toLowerCase(), sub.subscriptionId.toLowerCase());
  const csv = (await download(page, '#inv-csv')).split('\r\n').filter((l) => l);
  assert.equal(csv[0].split(',')[0], 'name');
  assert.deepEqual(csv.slice(1).map((l) => l.split(',')[0]).sort(), [...vms].sort());
  assert.ok(csv.slice(1).every((l) => l.includes(',VM,') && l.includes(sub.displayName)), csv.join('\n'));
  assert.deepEqual(problems.filter((x) => !/status of 429/.test(x)), []);
});

test('cancel while the list is read: a partial result with the reason, never "complete"', async (t) => {
  const { page } = await signedIn(t);
  // a fresh quota window, so that the load runs without waiting until the cancel
  await page.waitForTimeout(5_500);
  await control('DELETE', 'requests');
  await watch(page, { cancelAtFirstPage: true });
  await page.click('#nav-inventory');
  await page.locator('#inv-partial').waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1_000); // nothing turns it into "complete" afterwards
  const seen = await page.evaluate(() => window.__seen);
  assert.ok(seen.cancelled, JSON.stringify(seen));
  assert.equal(seen.complete, false, 'never shown as complete');
  assert.equal(await page.locator('#inv-complete').count(), 0);
  const text = await page.textContent('#inv-partial');
  assert.match(text, /Partial result: not every row was read, so this list is incomplete\./);
  assert.match(text, /you cancelled the load; Load again reads everything/);
  // it stopped: at most the query in flight when the cancel came, of the list's 4
  const log = await graphLog();
  assert.ok(log.length >= 1 && log.length <= 2, `${log.length} queries`);
  await screenshot(page, 'inventory-live-cancelled');
});
