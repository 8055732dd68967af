// The wizards end to end in Chromium, against the demo-tenant build (dist-demo/: armsim's core runs
// in the page, so what the app shows after a change is what the simulator merged). For each
// scenario: pick the resource through the pickers, review (diff with kept identities, the exact
// request, scripts), switch to read-write, apply, follow the operation, and read the result back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { demoTenant } from './lib/demo.mjs';
import { screenshot } from './lib/browser.mjs';

const SUB = '11111111-1111-4111-8111-111111111111';
const SUB2 = '22222222-2222-4222-8222-222222222222';
const vmss = (sub, rg, name) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`;
const vm = (sub, rg, name) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
const demo = demoTenant();
const open = (t) => demo.open(t);

const text = (page, sel) => page.locator(sel).innerText();
const diffRows = (page) =>
  page.$$eval('#diff tbody tr', (rows) => rows.map((r) => `${r.querySelector('th').textContent}:${r.dataset.change}`));

async function applyAndWait(page) {
  await page.check('#read-write');
  await page.click('#apply');
  await page.locator('#result').waitFor({ timeout: 30_000 });
  return text(page, '#result');
}

test('assign a user-assigned identity through the pickers: lossless, reviewed, applied, read back', async (t) => {
  const { page } = await open(t);
  // record the object URLs the page makes and revokes (the change log's download)
  await page.addInitScript(() => {
    const made = [];
    const revoked = [];
    window.__blobUrls = { made, revoked };
    const create = URL.createObjectURL.bind(URL);
    const revoke = URL.revokeObjectURL.bind(URL);
    URL.createObjectURL = (b) => { const u = create(b); made.push(u); return u; };
    URL.revokeObjectURL = (u) => { revoked.push(u); revoke(u); };
  });
  await page.goto(demo.server.url);
  await page.locator('#banner').waitFor();
  assert.match(await text(page, '#mode'), /Demo tenant/);
  await page.click('li[data-slug="assign-user-assigned"] >> text=Pick a scale set or VM');
  await page.click('#subscriptions >> text=Contoso Production');
  await page.fill('#filter-groups', 'web');
  assert.match(await text(page, '#groups .count'), /^1 of \d+ resource groups$/);
  await page.click('#groups >> text=rg-web');
  assert.equal(await text(page, '.crumbs'), 'Start / Subscriptions / Contoso Production / rg-web', 'the subscription by its name');
  await page.click('#resources >> text=vmss-web');
  await page.locator('#facts').waitFor();
  assert.equal(await text(page, '#identity-summary'), 'system-assigned + 2 user-assigned');
  await screenshot(page, 'assign-1-resource');

  await page.click('li[data-wizard="assign-user-assigned"] a');
  assert.match(page.url(), /\?wizard=assign-user-assigned$/);
  await page.locator('#choices .choice').first().waitFor();
  const offered = await page.$$eval('#choices .choice', (els) => els.map((e) => e.dataset.id.split('/').pop()));
  assert.ok(!offered.includes('id-web') && !offered.includes('id-keyvault-reader'), `already assigned ones are not offered: ${offered}`);
  await page.click('#to-review');
  assert.match(await text(page, '#wizard-error'), /Pick at least one/);
  await page.fill('#identity-filter', 'batch');
  await page.check('#choices input[type=checkbox]');
  await screenshot(page, 'assign-2-choose');
  await page.click('#to-review');

  assert.deepEqual(await diffRows(page), [
    'System-assigned:kept',
    'id-keyvault-reader:kept',
    'id-web:kept',
    'id-batch:added',
  ]);
  const req = await text(page, '#requests pre');
  assert.match(req, new RegExp(`^PATCH https://management\\.azure\\.com${vmss(SUB, 'rg-web', 'vmss-web')}\\?api-version=2024-11-01\\n`));
  assert.match(req, /^If-Match: "1"$/m);
  const body = JSON.parse(req.slice(req.indexOf('\n{')));
  assert.equal(body.identity.type, 'SystemAssigned, UserAssigned');
  const uas = Object.entries(body.identity.userAssignedIdentities).map(([k, v]) => `${k.split('/').pop()}=${JSON.stringify(v)}`).sort();
  assert.deepEqual(uas, ['id-batch={}', 'id-keyvault-reader={}', 'id-web={}']);
  assert.deepEqual(Object.keys(body), ['identity'], 'PATCH carries only identity');

  // scripts: Az PowerShell first, every flavour present
  assert.equal(await page.getAttribute('#script-panel', 'data-flavour'), 'az-powershell');
  const ps = await text(page, '#script-panel pre');
  assert.match(ps, /Update-AzVmss/);
  assert.match(ps, /-IfMatch/);
  const tabs = await page.$$eval('[role=tab]', (els) => els.map((e) => e.textContent));
  assert.ok(tabs.length >= 5, `tabs: ${tabs}`);
  await page.click('#tab-cli-bash');
  assert.match(await text(page, '#script-panel pre'), /az vmss identity assign/);

  // read-only by default, said in words by the header's switch
  assert.equal(await page.isDisabled('#apply'), true);
  assert.match(await text(page, '#read-only-note'), /read-write/);
  assert.equal(await page.getAttribute('#read-write', 'role'), 'switch');
  assert.equal(await page.getAttribute('#read-write', 'aria-checked'), 'false');
  assert.equal(await text(page, '#read-write-state'), 'Read-only');
  await page.getByRole('switch', { name: 'Allow changes' }).check();
  assert.equal(await page.getAttribute('#read-write', 'aria-checked'), 'true');
  assert.equal(await text(page, '#read-write-state'), 'Read-write: changes will be sent');
  assert.equal(await page.isDisabled('#apply'), false);
  await screenshot(page, 'assign-3-review');
  const result = await applyAndWait(page);
  assert.match(result, /^Succeeded in \d+\.\d s/);
  await page.waitForFunction(() => document.querySelector('#identity-summary')?.textContent === 'system-assigned + 3 user-assigned');
  const ids = await page.$$eval('#user-assigned tbody tr', (rows) => rows.map((r) => r.querySelector('th').textContent).sort());
  assert.deepEqual(ids, ['id-batch', 'id-keyvault-reader', 'id-web']);
  assert.match(await text(page, '#system-assigned'), /^Enabled/);
  await screenshot(page, 'assign-4-done');

  // the change log: one GET before, the PATCH, then polls of the operation
  await page.click('text=Change log');
  const log = await page.$$eval('#log tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((d) => d.textContent)));
  const patches = log.filter((r) => r[1] === 'PATCH');
  assert.equal(patches.length, 1);
  assert.equal(patches[0][3], '200');
  assert.ok(log.some((r) => r[1] === 'GET' && r[2].includes('/operations/')), 'the operation was polled');
  // the download is the log as JSON, and its object URL does not outlive it
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-log')]);
  assert.equal(download.suggestedFilename(), 'identity-wizard-requests.json');
  const saved = JSON.parse(await fs.readFile(await download.path(), 'utf8'));
  assert.equal(saved.filter((e) => e.method === 'PATCH').length, 1);
  assert.equal(saved.length, log.length);
  await page.waitForFunction(() => {
    const { made, revoked } = window.__blobUrls;
    return made.length === 1 && made.every((u) => revoked.includes(u));
  });
  await screenshot(page, 'assign-5-log');
});

test('assign an identity by its pasted resource id: validated, shown in the selection, planned like a listed one', async (t) => {
  const { page } = await open(t);
  await page.goto(demo.server.url + vmss(SUB, 'rg-web', 'vmss-web').slice(1) + '?wizard=assign-user-assigned');
  await page.locator('#choices .choice').first().waitFor();
  const paste = async (value) => {
    await page.fill('#paste-id', value);
    await page.press('#paste-id', 'Enter');
  };
  await paste('id-shared');
  assert.match(await text(page, '#paste-id-error'), /^Not a resource id/);
  assert.equal(await page.getAttribute('#paste-id', 'aria-invalid'), 'true');
  await paste(vm(SUB, 'rg-web', 'vm-jump'));
  assert.match(await text(page, '#paste-id-error'), /Microsoft\.Compute\/virtualMachines, not a user-assigned identity/);
  // an identity in a subscription the lists do not show
  const other = '/subscriptions/99999999-9999-4999-8999-999999999999/resourceGroups/rg-shared/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-shared';
  await paste(`  ${other}  `);
  assert.equal(await page.locator('#paste-id-error').count(), 0);
  assert.equal(await page.inputValue('#paste-id'), '', 'the box is emptied once added');
  assert.deepEqual(await page.$$eval('#pasted .choice', (els) => els.map((e) => e.dataset.id)), [other]);
  assert.match(await text(page, '#pasted .choice'), /id-shared · rg-shared · 99999999-9999-4999-8999-999999999999/);
  assert.equal(await page.isChecked('#pasted input[type=checkbox]'), true);
  // and one from the list, pasted (other casing): selected in the list, with the list's casing
  await paste(`/subscriptions/${SUB2}/resourceGroups/rg-dev/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID-DEV-CI`);
  assert.equal(await page.locator('#pasted .choice').count(), 1);
  assert.equal(await page.isChecked(`#choices .choice[data-id$="/id-dev-ci"] input`), true);
  assert.match(await text(page, '#to-review'), /\(2 selected\)/);
  await screenshot(page, 'paste-1-choose');
  await page.click('#to-review');
  assert.deepEqual(await diffRows(page), [
    'System-assigned:kept',
    'id-keyvault-reader:kept',
    'id-web:kept',
    'id-shared:added',
    'id-dev-ci:added',
  ]);
  const req = await text(page, '#requests pre');
  const body = JSON.parse(req.slice(req.indexOf('\n{')));
  assert.deepEqual(body.identity.userAssignedIdentities[other], {}, 'sent as pasted');
  assert.equal(Object.keys(body.identity.userAssignedIdentities).length, 4);
  await screenshot(page, 'paste-2-review');
  // back: unchecking the pasted one takes it out of the selection
  await page.click('#wizard button:text-is("Back")');
  // (click, not uncheck: the box leaves the page with the selection)
  await page.click('#pasted input[type=checkbox]');
  await page.locator('#pasted').waitFor({ state: 'detached' });
  assert.match(await text(page, '#to-review'), /\(1 selected\)/);
});

test('Flexible scale set: system-assigned is refused with the reason, user-assigned still offered', async (t) => {
  const { page } = await open(t);
  await page.goto(demo.server.url + vmss(SUB, 'rg-web', 'vmss-flex').slice(1));
  await page.locator('#wizards').waitFor();
  const why = await text(page, 'li[data-wizard="enable-system-assigned"] .why');
  assert.match(why, /Flexible scale set accepts only user-assigned/);
  assert.equal(await page.locator('li[data-wizard="enable-system-assigned"] a').count(), 0);
  assert.equal(await page.locator('li[data-wizard="assign-user-assigned"] a').count(), 1);
  // a deep link to the refused wizard explains instead of planning
  await page.goto(demo.server.url + vmss(SUB, 'rg-web', 'vmss-flex').slice(1) + '?wizard=enable-system-assigned');
  await page.locator('#wizard .refusal').waitFor();
  await screenshot(page, 'flex-refused');
});

test('VM: remove one user-assigned identity, keep the system-assigned one', async (t) => {
  const { page } = await open(t);
  await page.goto(demo.server.url + vm(SUB2, 'rg-dev', 'vm-dev-2').slice(1) + '?wizard=remove-user-assigned');
  await page.locator('#choices .choice').first().waitFor();
  const before = await text(page, '#identity-summary');
  const choices = await page.$$eval('#choices .choice', (els) => els.map((e) => e.dataset.id));
  assert.ok(choices.length >= 1);
  await page.check('#choices .choice >> nth=0 >> input');
  await page.click('#to-review');
  const rows = await diffRows(page);
  assert.ok(rows.some((r) => r.endsWith(':removed')), String(rows));
  const req = await text(page, '#requests pre');
  assert.match(req, /^PATCH https:\/\/management\.azure\.com\/subscriptions\/.*\/virtualMachines\/vm-dev-2\?api-version=2024-11-01/);
  const body = JSON.parse(req.slice(req.indexOf('\n{')));
  assert.equal(body.identity.userAssignedIdentities[choices[0]], null, 'the removed one is sent as null');
  await applyAndWait(page);
  await page.waitForFunction((b) => document.querySelector('#identity-summary')?.textContent !== b, before);
  const left = await page.$$eval('#user-assigned tbody tr', (rows) => rows.map((r) => r.dataset.id));
  assert.ok(!left.some((id) => id.toLowerCase() === choices[0].toLowerCase()), 'removed');
  await screenshot(page, 'vm-remove-ua');
});

test('remove the system-assigned identity of a VM, then the wizard says there is nothing left to remove', async (t) => {
  const { page } = await open(t);
  await page.goto(demo.server.url + vm(SUB, 'rg-web', 'vm-jump').slice(1) + '?wizard=remove-system-assigned');
  await page.locator('#diff').waitFor();
  assert.deepEqual(await diffRows(page), ['System-assigned:removed']);
  assert.match(await text(page, '#warnings'), /role assignments/i);
  const body = JSON.parse((await text(page, '#requests pre')).split('\n\n')[1]);
  assert.deepEqual(body, { identity: { type: 'None' } });
  await applyAndWait(page);
  await page.waitForFunction(() => document.querySelector('#identity-summary')?.textContent === 'no managed identity');
  assert.equal(await page.locator('#grant-open').count(), 0, 'no "Grant access" in the result: no identity is left');
  await screenshot(page, 'vm-remove-sa');
  // nor on the resource page, which names the subscription in its breadcrumb (read for this deep link)
  await page.click('#wizard .close');
  await page.locator('#wizards').waitFor();
  await page.waitForFunction(() => document.querySelector('.crumbs')?.textContent.includes('Contoso Production'));
  assert.equal(await page.locator('#grant-open').count(), 0);
});

test('remove the legacy managed-identity extension (DELETE, then manualupgrade on a Manual scale set)', async (t) => {
  const { page } = await open(t);
  await page.goto(demo.server.url + vmss(SUB, 'rg-batch', 'vmss-legacy').slice(1));
  await page.locator('#legacy-extension').waitFor();
  assert.match(await text(page, '#legacy-extension'), /retired/);
  await page.click('li[data-wizard="remove-legacy-extension"] a');
  await page.locator('#requests').waitFor();
  const reqs = await page.$$eval('#requests pre', (els) => els.map((e) => e.textContent.split('\n')[0]));
  assert.equal(reqs.length, 2, String(reqs));
  assert.match(reqs[0], /^DELETE .*\/virtualMachineScaleSets\/vmss-legacy\/extensions\/ManagedIdentityExtensionFor(Linux|Windows)\?api-version=/);
  assert.match(reqs[1], /^POST .*\/virtualMachineScaleSets\/vmss-legacy\/manualupgrade\?api-version=/);
  await applyAndWait(page);
  await page.waitForFunction(() => !document.querySelector('#legacy-extension'));
  await screenshot(page, 'legacy-removed');
});

test('snippet-only mode: typed names become quoted scripts that read the state at run time', async (t) => {
  const { page } = await open(t);
  await page.goto(demo.server.url + 'snippets/assign-user-assigned');
  await page.fill('#sn-sub', SUB);
  await page.fill('#sn-rg', "rg-o'brien");
  await page.fill('#sn-name', 'vmss1');
  assert.match(await text(page, '#snippet-error'), /at least one user-assigned identity/);
  await page.fill('#sn-ids', `/subscriptions/${SUB}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web`);
  await page.locator('#script-panel pre').waitFor();
  const ps = await text(page, '#script-panel pre');
  assert.match(ps, /Get-AzVmss/, 'reads the current state when it runs');
  assert.match(ps, /'rg-o''brien'/, 'single quote doubled inside a PowerShell literal');
  await page.click('#tab-cli-bash');
  assert.match(await text(page, '#script-panel pre'), /'rg-o'\\''brien'/);
  await screenshot(page, 'snippets');
});
