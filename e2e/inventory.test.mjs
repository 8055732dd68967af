// The inventory page (/inventory) on the demo tenant (dist-demo/): it lists the tenant's scale sets, VMs and
// identities read through the in-page armsim's Resource Graph; a filter narrows the list and lands in the URL; a
// reload of that URL restores the view; the CSV and JSON exports hold exactly the rows shown; keyboard-only use
// works; axe-core finds nothing serious; and the inventory's wasm module is fetched only when the page is first
// shown (not by the start page, not by the other pages).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { demoTenant, DEMO_DIST } from './lib/demo.mjs';
import { ROOT, screenshot } from './lib/browser.mjs';

const demo = demoTenant();
const AXE = path.join(ROOT, 'node_modules/axe-core/axe.min.js');
const ROWS = '#inv-resources tbody tr:not(.spacer)';
const DEMO_COMPUTE = [
  'aks-nodepool1-12345678-vmss', 'vm-dev-1', 'vm-dev-2', 'vm-jump', 'vm-legacy-win', 'vm-win-admin', 'vmss-api',
  'vmss-batch-flex', 'vmss-dev', 'vmss-dev-flex', 'vmss-dev-win', 'vmss-flex', 'vmss-legacy', 'vmss-web',
];

const rowNames = (page) => page.$$eval(`${ROWS} th`, (els) => els.map((e) => e.textContent.trim()));

async function loaded(page) {
  await page.locator('#inv-complete').waitFor({ timeout: 30_000 });
}

async function download(page, button) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return { name: d.suggestedFilename(), text: fs.readFileSync(await d.path(), 'utf8') };
}

test('the inventory module is fetched only when /inventory is first shown', async (t) => {
  const wasm = fs.readdirSync(DEMO_DIST).filter((f) => f.endsWith('.wasm'));
  const inventoryWasm = wasm.filter((f) => /^split_inventory-[0-9a-f]{16}\.wasm$/.test(f));
  assert.equal(inventoryWasm.length, 1, `one inventory module in dist-demo: ${wasm}`);
  const { page } = await demo.open(t);
  const fetched = [];
  page.on('request', (r) => {
    const p = new URL(r.url()).pathname;
    if (p.endsWith('.wasm')) fetched.push(path.basename(p));
  });
  await page.goto(demo.server.url);
  await page.locator('#scenarios').waitFor({ timeout: 20_000 });
  // another page (the pages module) does not bring the inventory with it
  await page.goto(demo.server.url + 'subscriptions');
  await page.locator('#subscriptions').waitFor({ timeout: 20_000 });
  assert.ok(fetched.some((f) => f.startsWith('split_pages-')), String(fetched));
  assert.ok(!fetched.some((f) => f.startsWith('split_inventory-')), `not before the page is shown: ${fetched}`);
  await page.click('#nav-inventory');
  await loaded(page);
  assert.equal(new URL(page.url()).pathname, '/inventory');
  assert.deepEqual(fetched.filter((f) => f.startsWith('split_inventory-')), inventoryWasm);
  // shown again: not fetched again
  await page.goBack();
  await page.locator('#subscriptions').waitFor();
  await page.goForward();
  await loaded(page);
  assert.equal(fetched.filter((f) => f.startsWith('split_inventory-')).length, 1, String(fetched));
});

test('lists the demo tenant, filters into the URL, restores on reload, exports the view', async (t) => {
  const { page } = await demo.open(t);
  await page.goto(demo.server.url + 'inventory');
  await loaded(page);
  assert.match(await page.textContent('#inv-complete'), /Complete: 14 scale sets and VMs, 5 user-assigned identities in 2 subscriptions\./);
  assert.deepEqual(await rowNames(page), DEMO_COMPUTE, 'every scale set and VM, sorted by name');
  // a row: subscription name, group, region, kind
  const web = page.locator(ROWS, { hasText: 'vmss-web' });
  assert.match(await web.textContent(), /Contoso Production/);
  assert.match(await web.textContent(), /rg-web/);
  // identities with client / principal ids and their users
  const ids = await page.$$eval('#inv-identities tbody th', (els) => els.map((e) => e.textContent.trim()));
  assert.deepEqual([...ids].sort(), ['aks-prod-agentpool', 'id-batch', 'id-dev-ci', 'id-keyvault-reader', 'id-web']);
  const idWeb = page.locator('#inv-identities tbody tr', { hasText: 'id-web' });
  assert.match(await idWeb.textContent(), /[0-9a-f]{8}-[0-9a-f]{4}-/);
  await screenshot(page, 'inventory-all');

  // a filter narrows the list and lands in the URL
  await page.fill('#inv-text', 'dev');
  await page.check('#inv-kind-vm');
  await page.waitForFunction(() => document.querySelectorAll('#inv-resources tbody tr:not(.spacer)').length === 2);
  assert.deepEqual(await rowNames(page), ['vm-dev-1', 'vm-dev-2']);
  assert.equal(new URL(page.url()).search, '?q=dev&kind=vm');
  assert.match(await page.textContent('#inv-count'), /^2 of 14 scale sets and VMs shown$/);
  await page.selectOption('#inv-sort', 'name');
  await page.check('#inv-desc');
  await page.waitForFunction(() => location.search.includes('desc=1'));
  assert.deepEqual(await rowNames(page), ['vm-dev-2', 'vm-dev-1']);

  // reloading the URL restores the view
  const url = page.url();
  await page.reload();
  await loaded(page);
  assert.equal(page.url(), url);
  assert.deepEqual(await rowNames(page), ['vm-dev-2', 'vm-dev-1']);
  assert.equal(await page.inputValue('#inv-text'), 'dev');
  assert.ok(await page.isChecked('#inv-kind-vm'));
  assert.ok(await page.isChecked('#inv-desc'));

  // the exports hold the view: the same rows in the same order
  const csv = await download(page, '#inv-csv');
  assert.equal(csv.name, 'inventory.csv');
  const lines = csv.text.split('\r\n').filter((l) => l);
  assert.equal(lines[0].split(',')[0], 'name');
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), ['vm-dev-2', 'vm-dev-1']);
  assert.ok(lines.slice(1).every((l) => l.includes(',VM,')), csv.text);
  const json = await download(page, '#inv-json');
  assert.equal(json.name, 'inventory.json');
  const rows = JSON.parse(json.text);
  assert.deepEqual(rows.map((r) => r.name), ['vm-dev-2', 'vm-dev-1']);
  assert.ok(rows.every((r) => r.kind === 'VM' && r.subscription === 'Contoso Dev/Test'), json.text);

  // "uses identity": from an identity's row
  await page.click('#inv-clear');
  await page.waitForFunction(() => !location.search.includes('q='));
  await page.locator('#inv-identities tbody tr', { hasText: 'id-web' }).locator('button').click();
  await page.waitForFunction(() => location.search.includes('uses='));
  const users = await rowNames(page);
  assert.ok(users.length >= 1 && users.length < 14 && users.includes('vmss-web'), String(users));
  await screenshot(page, 'inventory-filtered');
});

test('keyboard only: open the inventory from the header and filter it', async (t) => {
  const { page } = await demo.open(t);
  await page.goto(demo.server.url);
  await page.locator('#scenarios').waitFor({ timeout: 20_000 });
  const focusTo = async (predicate, limit = 60) => {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(predicate)) return;
    }
    throw new Error('focus never reached the target');
  };
  await focusTo(() => document.activeElement.id === 'nav-inventory');
  await page.keyboard.press('Enter');
  await loaded(page);
  await focusTo(() => document.activeElement.id === 'inv-text');
  await page.keyboard.type('legacy');
  await page.waitForFunction(() => location.search === '?q=legacy');
  assert.deepEqual(await rowNames(page), ['vm-legacy-win', 'vmss-legacy']);
  // the scrolling table is reachable too (a region with a tab stop)
  await focusTo(() => document.activeElement.classList.contains('inv-scroll'));
});

test('axe: no serious or critical violation on the inventory', async () => {
  const context = await demo.browser.newContext({ bypassCSP: true, viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  await page.goto(demo.server.url + 'inventory?kind=uniform');
  await loaded(page);
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  assert.deepEqual(bad, []);
  await context.close();
});
