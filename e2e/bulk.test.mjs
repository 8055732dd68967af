// Bulk changes (issue 17): select in the inventory, review (per-item plan, counts, a sample of the exact requests,
// the list downloadable, the confirmation naming the count and the operation), apply with live status, the report
// (CSV and JSON) and the identities read back.
// - On the demo tenant (dist-demo/): a selection across Uniform, Flexible and VM with no-op and refused items;
//   keyboard use and axe-core on the new page.
// - Signed in against the armsim server (dist/, the real MSAL, the local OpenID provider, ARM quotas on, strict
//   CORS): a 429 storm, 412s on some items, a dropped connection, and a reload mid-batch resumed from the offer —
//   every item ends correct, and no item is written twice without a fresh read in between (armsim's request log).
// Screenshots: e2e-artifacts/bulk-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { startStaticServer } from '../scripts/static-server.mjs';
import { demoTenant } from './lib/demo.mjs';
import { ROOT, launch, guardedPage, screenshot } from './lib/browser.mjs';
import { ARM_AUDIENCE, CLIENT_ID, PASSWORD, TENANT_A, USERS, startIdp } from './idp/idp.mjs';

const demo = demoTenant({ viewport: { width: 1300, height: 1000 } });
const AXE = path.join(ROOT, 'node_modules/axe-core/axe.min.js');
const DIST = path.resolve(process.env.DIST_DIR ?? path.join(ROOT, 'dist'));
const ARMSIM = process.env.ARMSIM_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target'), 'debug', 'armsim');
const ALICE = 'alice@contoso.test';
const SUB = '11111111-1111-4111-8111-111111111111';
const SUB2 = '22222222-2222-4222-8222-222222222222';
const ID_BATCH = `/subscriptions/${SUB}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-batch`;

const text = (page, sel) => page.locator(sel).innerText();
const num = async (page, sel) => Number(await text(page, sel));
const planRows = (page) =>
  page.$$eval('#bulk-plan tbody tr', (rows) => Object.fromEntries(rows.map((r) => [r.querySelector('th').textContent, r.dataset.plan])));
const itemRows = (page) =>
  page.$$eval('#bulk-items tbody tr', (rows) =>
    Object.fromEntries(rows.map((r) => [r.querySelector('th').textContent, { status: r.dataset.status, cells: [...r.querySelectorAll('td')].map((c) => c.textContent) }])));

async function download(page, button) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return { name: d.suggestedFilename(), text: fs.readFileSync(await d.path(), 'utf8') };
}

async function axe(page) {
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

async function inventory(page, base, query = '') {
  await page.goto(`${base}inventory${query}`);
  // (not the "Not signed in" notice: after a page load MSAL restores the sign-in after the first render, and
  // the inventory loads then)
  await page.locator('#inv-complete, #inv-partial, .inventory .error').first().waitFor({ timeout: 60_000 })
    .catch(async (e) => assert.fail(`${e.message}\n${await text(page, '.inventory')}`));
  assert.equal(await page.locator('#inv-complete').count(), 1, await text(page, '.inventory'));
}

/** Waits until the batch ends (no item running or pending, the page's scheduler stopped). */
async function finished(page, timeout = 120_000) {
  await page.waitForFunction(() => /^Finished/.test(document.querySelector('#bulk-status')?.textContent ?? ''), null, { timeout });
}

test('demo: enable system-assigned on a filtered selection (Uniform, Flexible, VM): no-op and refused items, the confirmation, apply, report, read-back', async (t) => {
    const { page } = await demo.open(t);
  const fetched = [];
  page.on('request', (r) => {
    const p = new URL(r.url()).pathname;
    if (p.endsWith('.wasm')) fetched.push(path.basename(p));
  });
  await inventory(page, demo.server.url, '?q=rg-web');
  assert.equal(await text(page, '#inv-count'), '5 of 14 scale sets and VMs shown');
  assert.equal(await text(page, '#bulk-selected'), 'No scale set or VM selected.');
  // "select all N matching this filter" counts the filter's rows, not only those in view
  assert.equal(await text(page, '#bulk-select-all'), 'Select all 5 matching this filter');
  await page.click('#bulk-select-all');
  assert.equal(await text(page, '#bulk-selected'), '5 scale sets and VMs selected.');
  // one checkbox per row, labelled with the resource's name
  assert.equal(await page.locator('#inv-resources input[aria-label="Select vmss-flex"]').isChecked(), true);
  await page.selectOption('#bulk-op', 'enable-system');
  assert.equal(await text(page, '#bulk-review'), 'Review: Enable the system-assigned identity on 5 scale sets and VMs');
    assert.ok(!fetched.some((f) => f.startsWith('split_bulk-')), `the bulk module is not part of the inventory: ${fetched}`);
  await page.click('#bulk-review');
  await page.waitForURL(/\/bulk$/);
  await page.locator('#bulk-review-counts').waitFor({ timeout: 30_000 });
  assert.equal(fetched.filter((f) => f.startsWith('split_bulk-')).length, 1, `fetched on first use: ${fetched}`);
  // per item its plan; the counts of each
  assert.deepEqual(await planRows(page), {
    'vm-jump': 'no-op', 'vm-win-admin': 'request', 'vmss-api': 'request', 'vmss-flex': 'refused', 'vmss-web': 'no-op',
  });
  assert.deepEqual([await num(page, '#bulk-r-requests'), await num(page, '#bulk-r-noop'), await num(page, '#bulk-r-refused')], [2, 2, 1]);
  assert.match(await page.locator('#bulk-plan tr[data-plan="refused"]').innerText(), /Flexible/);
  // a sample of the exact requests: PATCH with If-Match and only the identity
  const sample = await text(page, '#bulk-sample');
  assert.match(sample, /PATCH https:\/\/management\.azure\.com\/subscriptions\/.*\?api-version=/);
  assert.match(sample, /If-Match: /);
  assert.match(sample, /"type": "SystemAssigned"/);
  // the full list, downloadable
  const csv = await download(page, '#bulk-plan-csv');
  assert.equal(csv.name, 'bulk-plan.csv');
  assert.equal(csv.text.split('\r\n')[0], 'item,kind,plan,method,url,if_match,body,reason');
  assert.equal(csv.text.trim().split('\r\n').length, 1 + 5);
  const list = JSON.parse((await download(page, '#bulk-plan-json')).text);
  assert.deepEqual(list.items.map((i) => i.plan).sort(), ['no-op', 'no-op', 'refused', 'request', 'request']);
  assert.equal(list.items.find((i) => i.item.endsWith('/vmss-api')).requests[0].method, 'PATCH');
  assert.deepEqual(list.counts, { requests: 2, noOps: 2, refused: 1, grants: 0 });
  // the batch as scripts, in tabs: every item of the selection, each guarded
  const tabs = await page.$$eval('#bulk-scripts [role=tab]', (els) => els.map((e) => e.id));
  assert.deepEqual(tabs, ['bulk-tab-az-powershell', 'bulk-tab-cli-bash', 'bulk-tab-cli-powershell', 'bulk-tab-cli-rest-bash', 'bulk-tab-cli-rest-powershell']);
  const ps = await text(page, '#bulk-script-panel');
  assert.match(ps, /foreach \(\$itemId in \$items\)/);
  for (const n of ['vmss-web', 'vmss-api', 'vmss-flex', 'vm-jump', 'vm-win-admin']) assert.match(ps, new RegExp(`/${n}'`));
  await page.click('#bulk-tab-cli-bash');
  assert.match(await text(page, '#bulk-script-panel'), /change_one\(\)[\s\S]*az vmss show [^\n]*--query orchestrationMode/);
  // read-only (the default) blocks Apply; the confirmation names the count and the operation
  assert.equal(await text(page, '#bulk-apply'), 'Enable the system-assigned identity on 2 scale sets and VMs');
  assert.equal(await page.isDisabled('#bulk-apply'), true);
  assert.match(await text(page, '#bulk-read-only'), /Allow changes/);
  await screenshot(page, 'bulk-review');
  await page.check('#read-write');
  await page.click('#bulk-apply');
  await page.locator('#bulk-progress').waitFor();
  await screenshot(page, 'bulk-progress');
  await finished(page);
  assert.deepEqual(
    [await num(page, '#bulk-n-applied'), await num(page, '#bulk-n-noop'), await num(page, '#bulk-n-refused'), await num(page, '#bulk-n-failed')],
    [2, 2, 1, 0],
  );
  const rows = await itemRows(page);
  assert.equal(rows['vmss-api'].status, 'applied');
  assert.equal(rows['vmss-api'].cells[1], '200', 'the status of the PATCH');
  assert.match(rows['vmss-api'].cells[2], /^[0-9a-f]{8}-[0-9a-f]{4}-/, 'a correlation id');
  assert.equal(rows['vmss-api'].cells[4], 'system-assigned', 'read back');
  assert.equal(rows['vm-win-admin'].cells[4], 'system-assigned');
  assert.equal(rows['vmss-flex'].status, 'refused');
  assert.equal(rows['vm-jump'].status, 'no-op');
  await screenshot(page, 'bulk-report');
  // the report: item, outcome, status, correlation id, time (+ message, identities)
  const rep = await download(page, '#bulk-report-csv');
  assert.equal(rep.name, 'bulk-report.csv');
  const lines = rep.text.trim().split('\r\n');
  assert.equal(lines[0], 'item,outcome,status,correlation_id,time,message,class,hint,identities');
  const api = lines.find((l) => l.includes('/vmss-api,'));
  assert.match(api, /,applied,200,[0-9a-f-]{36},\d{4}-\d\d-\d\dT[\d:.]+Z,,,,system-assigned$/);
  const json = JSON.parse((await download(page, '#bulk-report-json')).text);
  assert.equal(json.length, 5);
  const flex = json.find((r) => r.item.endsWith('/vmss-flex'));
  assert.equal(flex.outcome, 'refused');
  assert.match(flex.message, /Flexible/);
  // the inventory agrees (in-page navigation: a page load would start a fresh demo tenant)
  await page.click('#nav-inventory');
  await page.locator('#inv-complete').waitFor({ timeout: 30_000 });
  await page.fill('#inv-text', 'vmss-api');
  assert.match(await page.locator('#inv-resources tbody tr:not(.spacer)').first().innerText(), /system-assigned/);
});

test('demo: keyboard only — select rows with Space, pick the operation and identity, review', async (t) => {
  const { page } = await demo.open(t);
  await inventory(page, demo.server.url, `?sub=${SUB2}`);
  const focusTo = async (predicate, arg = null, limit = 150) => {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(predicate, arg)) return;
    }
    throw new Error('focus never reached the target');
  };
  for (const name of ['vm-dev-1', 'vmss-dev', 'vmss-dev-flex']) {
    await focusTo((n) => document.activeElement.getAttribute('aria-label') === `Select ${n}`, name);
    await page.keyboard.press('Space');
  }
  assert.equal(await text(page, '#bulk-selected'), '3 scale sets and VMs selected.');
  await focusTo(() => document.activeElement.id === 'bulk-op');
  await page.selectOption('#bulk-op', 'assign-user'); // (a select's own keys differ per platform)
  await focusTo(() => document.activeElement.id === 'bulk-identity');
  await page.selectOption('#bulk-identity', { label: 'id-batch (rg-identity)' });
  await focusTo(() => document.activeElement.id === 'bulk-review');
  assert.equal(await text(page, '#bulk-review'), 'Review: Assign id-batch to 3 scale sets and VMs');
  await page.keyboard.press('Enter');
  await page.locator('#bulk-review-counts').waitFor({ timeout: 30_000 });
  assert.deepEqual(await planRows(page), { 'vm-dev-1': 'request', 'vmss-dev': 'request', 'vmss-dev-flex': 'request' });
  assert.equal(await text(page, '#bulk-apply'), 'Assign id-batch to 3 scale sets and VMs');
});

test('demo: axe-core finds nothing serious on the selection, the review, the progress and the report', async () => {
  // axe is injected as a script: this context alone bypasses the page's CSP to allow it
  const context = await demo.browser.newContext({ bypassCSP: true, viewport: { width: 1300, height: 1000 } });
  const page = await context.newPage();
  try {
    await inventory(page, demo.server.url, '?q=vmss-dev');
    await page.click('#bulk-select-all');
    await page.selectOption('#bulk-op', 'enable-system');
    assert.deepEqual(await axe(page), [], 'axe on the inventory with a selection');
    await page.click('#bulk-review');
    await page.locator('#bulk-review-counts').waitFor({ timeout: 30_000 });
    assert.deepEqual(await axe(page), [], 'axe on the review');
    await page.check('#read-write');
    await page.click('#bulk-apply');
    await page.locator('#bulk-progress').waitFor();
    assert.deepEqual(await axe(page), [], 'axe during the apply');
    await finished(page);
    assert.deepEqual(await axe(page), [], 'axe on the report');
  } finally {
    await context.close();
  }
});

test('demo: from an identity, remove it from every resource that uses it (each read afresh), then delete it and its role assignments', async (t) => {
  const { page } = await demo.open(t);
  await inventory(page, demo.server.url);
  const ID_WEB = await page.$eval('#inv-uses', (s) => [...s.options].find((o) => o.textContent === 'id-web').value);
  await page.selectOption('#inv-uses', ID_WEB);
  const users = await page.$$eval('#inv-resources tbody tr:not(.spacer) th a', (as) => as.map((a) => decodeURIComponent(new URL(a.href).pathname)));
  assert.ok(users.length >= 2, String(users));
  // the identity page (opened by its address: a page load, so the inventory is not at hand and each item is
  // read afresh) lists the same users and offers to remove it from every one
  await page.goto(demo.server.url + ID_WEB.slice(1));
  await page.locator('#bulk-remove-everywhere').waitFor({ timeout: 30_000 });
  const listed = await page.$$eval('#identity-users tbody tr', (rs) => rs.map((r) => r.dataset.id.toLowerCase()));
  assert.deepEqual(listed.sort(), users.map((u) => u.toLowerCase()).sort());
  assert.equal(await text(page, '#bulk-remove-everywhere'), `Remove from every resource that uses it (${users.length})`);
  await page.click('#bulk-remove-everywhere');
  await page.locator('#bulk-review-counts').waitFor({ timeout: 30_000 });
  assert.match(await page.locator('.bulk-review > p').first().innerText(), /read just now/);
  assert.equal(await num(page, '#bulk-r-requests'), users.length);
  assert.equal(await text(page, '#bulk-apply'), `Remove id-web from ${users.length} scale sets and VMs`);
  // the exact request of a fresh read: the resource's etag as If-Match, the identity removed as null
  assert.match(await text(page, '#bulk-sample'), /If-Match: "\d+"/);
  assert.match(await text(page, '#bulk-sample'), /id-web": null/);
  await page.check('#read-write');
  await page.click('#bulk-apply');
  await finished(page);
  assert.equal(await num(page, '#bulk-n-applied'), users.length);
  const rows = await itemRows(page);
  for (const r of Object.values(rows)) assert.doesNotMatch(r.cells[4], /id-web/, 'read back without id-web');
  // then delete the identity and its role assignments
  await page.click('#bulk-delete-check');
  await page.locator('#bulk-delete').waitFor({ timeout: 20_000 });
  const n = await page.locator('#bulk-delete-assignments li').count();
  assert.equal(await text(page, '#bulk-delete'), `Delete id-web and its ${n} role assignment${n === 1 ? '' : 's'}`);
  await screenshot(page, 'bulk-delete-identity');
  await page.click('#bulk-delete');
  await page.locator('#bulk-delete-done').waitFor({ timeout: 30_000 });
  assert.match(await text(page, '#bulk-delete-done'), /^Deleted id-web and its \d+ role assignments?\.$/);
  // the inventory no longer has it
  await page.click('#nav-inventory');
  await page.locator('#inv-complete').waitFor({ timeout: 30_000 });
  const ids = await page.$$eval('#inv-identities tbody th', (els) => els.map((e) => e.textContent.trim()));
  assert.ok(!ids.includes('id-web'), String(ids));
});

test('demo: pause lets the items in flight finish and starts nothing; cancel sends nothing more; the rest is offered on the start page and resumed', async (t) => {
  const { page } = await demo.open(t);
  await inventory(page, demo.server.url);
  await page.click('#bulk-select-all');
  await page.selectOption('#bulk-op', 'assign-user');
  await page.selectOption('#bulk-identity', { label: 'id-batch (rg-identity)' });
  await page.click('#bulk-review');
  await page.locator('#bulk-review-counts').waitFor({ timeout: 30_000 });
  const requests = await num(page, '#bulk-r-requests');
  assert.ok(requests > 8, `more items than run at once (8): ${requests}`);
  await page.check('#read-write');
  await page.click('#bulk-apply');
  await page.click('#bulk-pause');
  assert.match(await text(page, '#bulk-status'), /^Paused/);
  await page.waitForFunction(() => document.querySelector('#bulk-n-running')?.textContent === '0', null, { timeout: 30_000 });
  const pending = await num(page, '#bulk-n-pending');
  assert.equal(pending, requests - 8, 'the 8 in flight finished, nothing new started');
  await page.waitForTimeout(3_000);
  assert.equal(await num(page, '#bulk-n-pending'), pending, 'still nothing started while paused');
  await page.click('#bulk-cancel');
  await page.waitForFunction(() => /^Cancelled: \d+ not sent\.$/.test(document.querySelector('#bulk-status')?.textContent ?? ''), null, { timeout: 30_000 });
  assert.equal(await text(page, '#bulk-status'), `Cancelled: ${pending} not sent.`);
  assert.equal(await num(page, '#bulk-n-applied'), 8);
  const notSent = await page.$$eval('#bulk-items tr[data-status="not sent"]', (r) => r.length);
  assert.equal(notSent, pending);
  // the start page offers what is left (in-page navigation: the demo tenant lives in this page)
  await page.click('nav.crumbs >> text=Start');
  await page.locator('#bulk-offer').waitFor();
  assert.equal(await text(page, '#bulk-offer-text'), `Resume batch: ${pending} of 14 left (Assign id-batch)`);
  await page.click('#bulk-offer-resume');
  await page.click('#bulk-resume-kept');
  await finished(page);
  assert.equal(await num(page, '#bulk-n-applied'), requests);
  assert.equal(await num(page, '#bulk-n-failed'), 0);
  // finished: nothing is offered any more
  await page.click('nav.crumbs >> text=Start');
  await page.locator('#scenarios').waitFor();
  assert.equal(await page.locator('#bulk-offer').count(), 0);
});

// ---- signed in, against the armsim server ----

let idp;
let arm; // { url, proc }
let app;
let browser;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startArmsim(args) {
  const proc = spawn(ARMSIM, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: proc.stdout });
  const url = await new Promise((resolve, reject) => {
    rl.once('line', resolve);
    proc.once('exit', (c) => reject(new Error(`armsim exited ${c}`)));
  });
  return { url: url.trim(), proc };
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
const armLog = async () => (await control('GET', 'requests')).value;

before(async () => {
  idp = await startIdp();
  fs.mkdirSync(path.join(ROOT, 'target', 'e2e-tmp'), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(ROOT, 'target', 'e2e-tmp', 'bulk-'));
  const jwks = path.join(tmp, 'jwks.json');
  fs.writeFileSync(jwks, JSON.stringify(idp.jwks));
  const appPort = await freePort();
  const appOrigin = `http://127.0.0.1:${appPort}`;
  const seed = JSON.parse(fs.readFileSync(path.join(ROOT, 'crates/armsim/seeds/demo.json'), 'utf8'));
  seed.tenantId = TENANT_A;
  const seedFile = path.join(tmp, 'seed.json');
  fs.writeFileSync(seedFile, JSON.stringify(seed));
  arm = await startArmsim([
    '--port', '0', '--control', '--lro-delay-ms', '1500', '--seed', seedFile, '--arm-quota', 'on',
    '--jwks', jwks, '--auth-issuer', idp.issuer(TENANT_A), '--auth-audience', ARM_AUDIENCE,
    '--cors-origin', appOrigin, '--cors-mode', 'strict',
  ]);
  const config = { cloud: 'Custom', clientId: CLIENT_ID, tenant: TENANT_A, authority: idp.origin, armEndpoint: arm.url, armAudience: ARM_AUDIENCE };
  app = await startStaticServer({ dist: DIST, port: appPort, config });
  idp.registerApp(app.url);
  browser = await launch([`--ignore-certificate-errors-spki-list=${idp.spki}`]);
});

after(async () => {
  await browser?.close();
  arm?.proc.kill();
  await Promise.all([app?.close(), idp?.close()]);
});

async function signedIn(t) {
  const ctx = await guardedPage(browser, { viewport: { width: 1300, height: 1000 } });
  t.after(async () => {
    await control('DELETE', 'faults');
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
  await page.locator('#account-menu').waitFor({ timeout: 20_000 });
  await page.waitForFunction(() => document.querySelector('#mode')?.textContent === 'Signed in');
  return ctx;
}

/** The identities of a resource as armsim holds them (lower-case user-assigned ids, "system"). */
async function identitiesOf(id, token) {
  const r = await fetch(`${arm.url}${id}?api-version=2024-11-01`, { headers: { authorization: `Bearer ${token}` } });
  const b = await r.json();
  const s = new Set(Object.keys(b.identity?.userAssignedIdentities ?? {}).map((k) => k.toLowerCase()));
  if (/systemassigned/i.test(b.identity?.type ?? '')) s.add('system');
  return s;
}

test('armsim server, quotas on: assign id-batch to every scale set and VM through a 429 storm, 412s, a dropped connection and a reload mid-batch', async (t) => {
  const { page } = await signedIn(t);
  const token = await page.evaluate(() => {
    const k = Object.keys(sessionStorage).find((x) => x.includes('|accesstoken|'));
    return JSON.parse(sessionStorage.getItem(k)).secret;
  });
  await inventory(page, app.url);
  const ids = await page.$$eval('#inv-resources tbody tr:not(.spacer) th a', (as) => as.map((a) => decodeURIComponent(new URL(a.href).pathname)));
  assert.equal(ids.length, 14);
  const before = Object.fromEntries(await Promise.all(ids.map(async (id) => [id.toLowerCase(), await identitiesOf(id, token)])));
  await page.click('#bulk-select-all');
  await page.selectOption('#bulk-op', 'assign-user');
  await page.selectOption('#bulk-identity', { label: 'id-batch (rg-identity)' });
  await page.click('#bulk-review');
  await page.locator('#bulk-review-counts').waitFor({ timeout: 60_000 });
  const requests = await num(page, '#bulk-r-requests');
  const noop = await num(page, '#bulk-r-noop');
  const plan = await planRows(page);
  assert.equal(Object.keys(plan).length, 14);
  assert.equal(noop, Object.values(before).filter((s) => s.has(ID_BATCH.toLowerCase())).length, 'no-op where id-batch is already assigned');
  assert.equal(await text(page, '#bulk-apply'), `Assign id-batch to ${requests} scale sets and VMs`);
  const toChange = Object.entries(plan).filter(([, p]) => p === 'request').map(([n]) => n);
  const idOf = (name) => ids.find((i) => i.endsWith(`/${name}`));

  // faults: a 429 storm on the writes, 412s on two items (another writer right after our read), a dropped
  // connection on one write (applied, the answer lost), the operations slowed so that a reload lands mid-batch
  await control('DELETE', 'requests');
  await control('POST', 'faults', { kind: 'throttle', count: 6, retryAfterSeconds: 1, match: { method: 'PATCH' } });
  for (const n of toChange.slice(0, 2)) {
    await control('POST', 'faults', { kind: 'concurrentWrite', resourceId: idOf(n), change: { type: 'bumpEtag' } });
  }
  const dropped = toChange[2];
  await control('POST', 'faults', { kind: 'drop', count: 1, afterProcessing: true, match: { method: 'PATCH', pathContains: `/${dropped}` } });
  await page.check('#read-write');
  await page.click('#bulk-apply');
  await page.locator('#bulk-progress').waitFor();
  // mid-batch: some done, some not
  await page.waitForFunction(() => Number(document.querySelector('#bulk-n-applied')?.textContent) >= 2, null, { timeout: 60_000 });
  await screenshot(page, 'bulk-live-progress');
  const kept = await page.evaluate(() => JSON.parse(localStorage.getItem('identity-wizard.bulk.batch')));
  assert.ok(kept.items.some((i) => i.status === 'pending' || i.status === 'running'), 'the kept batch has items left');
  assert.ok(!JSON.stringify(kept).includes(token.slice(0, 40)), 'no token in the kept batch');
  await page.reload();
  // the start page offers the unfinished batch
  await page.goto(app.url);
  await page.locator('#bulk-offer').waitFor({ timeout: 30_000 });
  const offer = await text(page, '#bulk-offer-text');
  const m = offer.match(/^Resume batch: (\d+) of 14 left \(Assign id-batch\)$/);
  assert.ok(m, offer);
  assert.ok(Number(m[1]) > 0);
  await screenshot(page, 'bulk-live-offer');
  await page.click('#bulk-offer-resume');
  await page.locator('#bulk-resume-kept').waitFor({ timeout: 30_000 });
  assert.match(await text(page, '#bulk-resume-offer'), /^Resume batch: \d+ of 14 left$/);
  if (!(await page.isChecked('#read-write'))) await page.check('#read-write');
  await page.click('#bulk-resume-kept');
  await finished(page, 180_000);
  let rows = await itemRows(page);
  // a write whose answer was lost is not claimed: retry the failed ones (each read again first)
  if (await page.locator('#bulk-retry-failed').count()) {
    await page.click('#bulk-retry-failed');
    await finished(page, 120_000);
    rows = await itemRows(page);
  }
  await screenshot(page, 'bulk-live-report');
  assert.equal(await num(page, '#bulk-n-failed'), 0, JSON.stringify(rows));
  assert.equal(await num(page, '#bulk-n-pending'), 0);
  for (const n of toChange) assert.ok(['applied', 'no-op'].includes(rows[n].status), `${n}: ${JSON.stringify(rows[n])}`);

  // every item ends correct: id-batch added, nothing else lost, on armsim itself
  for (const id of ids) {
    const now = await identitiesOf(id, token);
    const was = before[id.toLowerCase()];
    if (plan[id.split('/').pop()] === 'refused') {
      assert.deepEqual([...now].sort(), [...was].sort(), `${id}: refused, unchanged`);
      continue;
    }
    assert.ok(now.has(ID_BATCH.toLowerCase()), `${id}: id-batch assigned`);
    for (const x of was) assert.ok(now.has(x), `${id}: ${x} kept`);
  }
  // none written twice without a fresh read: between two PATCHes of an item that took effect there is a GET of
  // it, and before the first one too (a repeat the client sends after a lost answer carries the same If-Match:
  // it cannot take effect twice, armsim answers 412)
  const log = (await armLog()).filter((e) => e.method !== 'OPTIONS');
  const throttled = log.filter((e) => e.method === 'PATCH' && e.status === 429).length;
  assert.equal(throttled, 6, 'the 429 storm reached the writes');
  assert.ok(log.some((e) => e.method === 'PATCH' && e.status === 412), 'a 412 was answered');
  // a PATCH that took effect: answered 2xx, or applied and its answer dropped (status 0: the drop injected above
  // is after processing)
  const effective = (e) => e.method === 'PATCH' && ((e.status >= 200 && e.status < 300) || e.status === 0);
  assert.equal(log.filter((e) => e.method === 'PATCH' && e.status === 0).length, 1, 'the dropped connection');
  for (const n of toChange) {
    const path = idOf(n).toLowerCase();
    const mine = log.filter((e) => e.path.toLowerCase() === path && (e.method === 'GET' || e.method === 'PATCH'));
    let readSinceWrite = false;
    for (const e of mine) {
      if (e.method === 'GET' && e.status === 200) readSinceWrite = true;
      if (effective(e)) {
        assert.ok(readSinceWrite, `${n}: a PATCH without a fresh read: ${mine.map((x) => `${x.method} ${x.status}`).join(', ')}`);
        readSinceWrite = false;
      }
    }
    const written = mine.filter(effective).length;
    assert.equal(written, 1, `${n}: written once: ${mine.map((x) => `${x.method} ${x.status}`).join(', ')}`);
  }
  // the report
  const json = JSON.parse((await download(page, '#bulk-report-json')).text);
  assert.equal(json.length, 14);
  for (const r of json) {
    assert.ok(['applied', 'no-op', 'refused'].includes(r.outcome), JSON.stringify(r));
    assert.match(r.time, /^\d{4}-\d\d-\d\dT/);
  }
  const applied = json.filter((r) => r.outcome === 'applied');
  assert.ok(applied.length >= 1);
  for (const r of applied) {
    assert.match(r.correlationId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
  // read every item back (also those done before the reload)
  await page.click('#bulk-read-back');
  await page.waitForFunction(() => [...document.querySelectorAll('#bulk-items tbody tr')].every((r) => r.querySelectorAll('td')[4].textContent !== ''), null, { timeout: 60_000 });
  rows = await itemRows(page);
  for (const n of toChange) assert.match(rows[n].cells[4], /id-batch/, `${n} read back`);
});
