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

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const accessRows = (page, sel) =>
  page.$$eval(`${sel} tbody tr`, (rows) => rows.map((r) => `${r.querySelector('th').textContent} @ ${r.querySelector('td code').textContent}`).sort());
const firstLines = (page) => page.$$eval('#requests pre', (els) => els.map((e) => e.textContent.split('\n')[0]));
async function scriptTab(page, tab) {
  await page.click(`#tab-${tab}`);
  await page.waitForFunction((f) => document.querySelector('#script-panel')?.dataset.flavour === f, tab);
  return text(page, '#script-panel pre');
}

test('what a VM\'s identity can access; removing its system-assigned identity deletes its role assignments too (no orphan)', async (t) => {
  const { page } = await open(t);
  await page.goto(demo.server.url + vm(SUB, 'rg-web', 'vm-jump').slice(1));
  // the resource page: what the system-assigned principal can access (Resource Graph's authorizationresources)
  await page.locator('#access .access-principal').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('#access-loading'));
  const principal = await page.getAttribute('#access .access-principal', 'data-principal');
  assert.match(principal, GUID);
  const held = [`Reader @ /subscriptions/${SUB}`, `Virtual Machine Contributor @ /subscriptions/${SUB}/resourceGroups/rg-web`];
  assert.deepEqual(await accessRows(page, '#access'), held);
  await screenshot(page, 'orphans-1-access');

  // the remove wizard lists them while the principal exists, and offers to delete them (on by default)
  await page.click('li[data-wizard="remove-system-assigned"] a');
  await page.locator('#cleanup table').waitFor();
  assert.deepEqual(await diffRows(page), ['System-assigned:removed']);
  assert.match(await text(page, '#warnings'), /role assignments/i);
  assert.deepEqual(await accessRows(page, '#cleanup'), held);
  assert.equal(await page.isChecked('#delete-role-assignments'), true);
  // the review: the identity PATCH, then one DELETE per assignment, by id
  let reqs = await firstLines(page);
  assert.equal(reqs.length, 3, String(reqs));
  assert.match(reqs[0], new RegExp(`^PATCH https://management\\.azure\\.com${vm(SUB, 'rg-web', 'vm-jump')}\\?api-version=2024-11-01$`));
  const ids = await page.$$eval('#cleanup tbody tr', (rows) => rows.map((r) => r.dataset.assignment).sort());
  assert.deepEqual(
    reqs.slice(1).map((r) => r.replace(/^DELETE https:\/\/management\.azure\.com/, '').replace(/\?api-version=2022-04-01$/, '')).sort(),
    ids,
  );
  const body = JSON.parse((await page.locator('#requests pre').first().innerText()).split('\n\n')[1]);
  assert.deepEqual(body, { identity: { type: 'None' } });
  assert.match(await text(page, '#outcome'), /^3 requests will be sent/);
  // every script flavour deletes them after the identity change
  const ps = await text(page, '#script-panel pre');
  assert.match(ps, new RegExp(`Update-AzVM [\\s\\S]*Remove-AzRoleAssignment -ObjectId '${principal}' -RoleDefinitionId 'acdd72a7-3385-48ef-bd42-f606fba81ae7' -Scope '/subscriptions/${SUB}'`));
  assert.equal((ps.match(/^Remove-AzRoleAssignment /gm) ?? []).length, 2);
  assert.equal((await scriptTab(page, 'azurerm')).match(/^Remove-AzureRmRoleAssignment /gm)?.length, 2);
  const exact = await scriptTab(page, 'az-powershell-exact');
  assert.match(exact, /-Method Patch[\s\S]*-Method Delete[\s\S]*-Method Delete/);
  for (const id of ids) assert.ok(exact.includes(`'${id}?api-version=2022-04-01'`), id);
  for (const tab of ['cli-bash', 'cli-powershell']) {
    const cli = await scriptTab(page, tab);
    assert.match(cli, /az vm identity remove [\s\S]*az role assignment delete --ids/);
    for (const id of ids) assert.ok(cli.includes(`az role assignment delete --ids '${id}'`), `${tab}: ${id}`);
  }
  for (const tab of ['cli-rest-bash', 'cli-rest-powershell']) {
    const rest = await scriptTab(page, tab);
    assert.equal((rest.match(/^az rest --method delete --url '\/subscriptions\/.*\/roleAssignments\/.*\?api-version=2022-04-01'$/gm) ?? []).length, 2, tab);
    assert.ok(rest.indexOf('az rest --method patch') < rest.indexOf('az rest --method delete'), tab);
  }
  await screenshot(page, 'orphans-2-review');
  // unchecked: only the PATCH is left, and the page says they stay
  await page.uncheck('#delete-role-assignments');
  assert.equal((await firstLines(page)).length, 1);
  assert.match(await text(page, '#cleanup-kept'), /Identity not found/);
  assert.doesNotMatch(await scriptTab(page, 'az-powershell'), /Remove-AzRoleAssignment/);
  await page.check('#delete-role-assignments');
  assert.equal((await firstLines(page)).length, 3);

  // apply: the change, then both deletions; the removed principal is read again: nothing left behind
  const result = await applyAndWait(page);
  assert.match(result, /^Succeeded in/);
  assert.equal(await page.locator('#deletions li[data-deleted="true"]').count(), 2);
  assert.equal(await page.locator('#deletions li[data-deleted="false"]').count(), 0);
  await page.locator('#orphans .none').waitFor();
  assert.match(await text(page, '#orphans'), /None: nothing is left behind/);
  await page.waitForFunction(() => document.querySelector('#identity-summary')?.textContent === 'no managed identity');
  assert.equal(await page.locator('#grant-open').count(), 0, 'no "Grant access" in the result: no identity is left');
  await screenshot(page, 'orphans-3-done');
  // the change log: the PATCH first, then the two DELETEs, each acknowledged
  await page.click('text=Change log');
  const log = await page.$$eval('#log tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((d) => d.textContent)));
  const writes = log.filter((r) => r[1] !== 'GET' && r[1] !== 'POST');
  assert.deepEqual(writes.map((r) => r[1]), ['PATCH', 'DELETE', 'DELETE']);
  assert.ok(writes.slice(1).every((r) => r[2].includes('/providers/Microsoft.Authorization/roleAssignments/') && r[3] === '200'), JSON.stringify(writes));
  // and the resource page shows no identity left to list access for
  await page.goBack();
  await page.locator('#wizards').waitFor();
  assert.equal(await page.locator('#grant-open').count(), 0);
  assert.equal(await page.locator('#access').count(), 0);
});

test('removing a user-assigned identity from its last user offers its role assignments (off by default)', async (t) => {
  const { page } = await open(t);
  await page.goto(demo.server.url + vm(SUB2, 'rg-dev', 'vm-dev-2').slice(1) + '?wizard=remove-user-assigned');
  await page.locator('#choices .choice').first().waitFor();
  await page.check('#choices .choice[data-id$="/id-batch"] input');
  await page.click('#to-review');
  await page.locator('#cleanup .cleanup-principal').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('#cleanup-loading'));
  assert.equal(await page.getAttribute('#cleanup .cleanup-principal', 'data-orphan'), 'true');
  assert.match(await text(page, '#cleanup'), /last user/);
  assert.deepEqual(await accessRows(page, '#cleanup'), [`Storage Blob Data Reader @ /subscriptions/${SUB}/resourceGroups/rg-batch`]);
  assert.equal(await page.isChecked('#delete-role-assignments'), false, 'the identity lives on: its access is kept unless asked');
  assert.equal((await firstLines(page)).length, 1);
  await page.check('#delete-role-assignments');
  const reqs = await firstLines(page);
  assert.equal(reqs.length, 2);
  assert.match(reqs[1], /^DELETE .*\/resourceGroups\/rg-batch\/providers\/Microsoft\.Authorization\/roleAssignments\/9a1d0001-0000-4000-8000-000000000006\?api-version=2022-04-01$/);
  await screenshot(page, 'orphans-4-last-user');
  // id-dev-ci is also used by vmss-dev-win: not an orphan, nothing offered
  await page.click('#wizard button:text-is("Back")');
  await page.uncheck('#choices .choice[data-id$="/id-batch"] input');
  await page.check('#choices .choice[data-id$="/id-dev-ci"] input');
  await page.click('#to-review');
  await page.locator('#cleanup .cleanup-principal').first().waitFor();
  assert.equal(await page.getAttribute('#cleanup .cleanup-principal', 'data-orphan'), 'false');
  assert.match(await text(page, '#cleanup'), /Still used by 1 other resource \(vmss-dev-win\)/);
  assert.equal(await page.locator('#delete-role-assignments').count(), 0);
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
