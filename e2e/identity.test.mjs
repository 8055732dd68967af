// The identity page (/subscriptions/…/userAssignedIdentities/{name}) on the demo tenant (dist-demo/): reached from
// the inventory (an identity's row, a resource row's identity) and from a resource page; its facts, users and role
// assignments checked against the demo seed (crates/armsim/seeds/demo.json) — from the inventory this session loaded,
// and read again with the focused queries, for every identity of the tenant; keyboard-only use; axe-core; and the
// Scripts tabs (here and on the inventory) equal to identity-core's output (`identity-plan --inventory-script`).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { demoTenant } from './lib/demo.mjs';
import { ROOT, screenshot } from './lib/browser.mjs';

const demo = demoTenant();
const AXE = path.join(ROOT, 'node_modules/axe-core/axe.min.js');
const TARGET = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target');
const IDENTITY_PLAN = process.env.IDENTITY_PLAN_BIN ?? path.join(TARGET, 'debug', 'identity-plan');
const SEED = JSON.parse(fs.readFileSync(path.join(ROOT, 'crates/armsim/seeds/demo.json'), 'utf8'));
const SUB1 = '11111111-1111-4111-8111-111111111111';
const VMSS_WEB = `/subscriptions/${SUB1}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web`;

// ---- the demo seed: identities, who uses them, role assignments ----

const uaId = (sub, rg, name) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

/** Every user-assigned identity of the seed: { id, name, rg, sub, subName, location, principalId, users: [{ name, kind, subName }] }. */
function seedIdentities() {
  const ids = new Map();
  const refs = [];
  for (const s of SEED.subscriptions) {
    for (const g of s.resourceGroups) {
      for (const u of g.userAssignedIdentities ?? []) {
        const id = uaId(s.subscriptionId, g.name, u.name);
        ids.set(id.toLowerCase(), {
          id, name: u.name, rg: g.name, sub: s.subscriptionId, subName: s.displayName,
          location: u.location ?? g.location, principalId: u.principalId ?? null, users: [],
        });
      }
      const compute = [
        ...(g.virtualMachineScaleSets ?? []).map((r) => ({ r, kind: r.orchestrationMode === 'Flexible' ? 'Flexible' : 'Uniform' })),
        ...(g.virtualMachines ?? []).map((r) => ({ r, kind: 'VM' })),
      ];
      for (const { r, kind } of compute) {
        for (const ref of r.identity?.userAssigned ?? []) {
          // a seed names an identity by name (same group), group/name (same subscription) or full id
          const id = ref.startsWith('/') ? ref
            : ref.includes('/') ? uaId(s.subscriptionId, ref.split('/')[0], ref.split('/')[1])
              : uaId(s.subscriptionId, g.name, ref);
          refs.push({ id: id.toLowerCase(), user: { name: r.name, kind, subName: s.displayName } });
        }
      }
    }
  }
  for (const { id, user } of refs) ids.get(id)?.users.push(user);
  return [...ids.values()];
}

const IDENTITIES = seedIdentities();
const ID_WEB = IDENTITIES.find((i) => i.name === 'id-web');
const ROLE_NAMES = { Reader: 'Reader', 'Storage Blob Data Reader': 'Storage Blob Data Reader' };

/** The seed's role assignments of a principal: [role, scope, condition] sorted as the page sorts them. */
const seedRoles = (principalId) => (SEED.roleAssignments ?? [])
  .filter((a) => principalId && a.principalId.toLowerCase() === principalId.toLowerCase())
  .map((a) => [ROLE_NAMES[a.role] ?? a.role, a.scope, a.condition ?? 'none'])
  .sort((a, b) => cmp([a[0], a[1]], [b[0], b[1]]));

/** Orders as the page does (Rust's string order: by code unit, not by locale). */
function cmp(a, b) {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}
const byName = (a, b) => cmp([a.name.toLowerCase()], [b.name.toLowerCase()]);

// ---- the page ----

async function shown(page) {
  await page.locator('#identity-complete, #identity-partial').first().waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('#identity-partial').count(), 0, 'a complete load');
}

const cellTexts = (page, sel) => page.$$eval(`${sel} tbody tr`, (rows) => rows.map((r) => [...r.children].map((c) => c.textContent.trim())));
const fact = (page, label) => page.$eval('#identity-facts', (dl, l) => {
  const dt = [...dl.querySelectorAll('dt')].find((d) => d.textContent.trim() === l);
  return dt?.nextElementSibling?.textContent.trim();
}, label);

/** The page shows `ident` as the seed has it: facts, users (name, kind, subscription) and role assignments. */
async function assertShowsSeed(page, ident) {
  assert.equal(await page.textContent('#identity-name'), ident.name);
  assert.equal(await fact(page, 'Name'), ident.name);
  assert.equal(await fact(page, 'Resource group'), ident.rg);
  assert.equal(await fact(page, 'Subscription'), ident.subName);
  assert.equal(await fact(page, 'Region'), ident.location);
  assert.match(await fact(page, 'Client id'), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const principal = await fact(page, 'Principal id');
  if (ident.principalId) assert.equal(principal, ident.principalId);
  assert.match(await page.textContent('#identity-users-h'), new RegExp(`^Used by \\(${ident.users.length}\\)$`));
  if (ident.users.length === 0) {
    assert.equal(await page.textContent('#identity-users'), 'No scale set or VM uses it.');
  } else {
    const rows = await cellTexts(page, '#identity-users');
    assert.deepEqual(rows.map(([name, kind, subName]) => ({ name, kind, subName })), [...ident.users].sort(byName), ident.name);
  }
  const roles = seedRoles(principal);
  assert.match(await page.textContent('#identity-roles-h'), new RegExp(`^Role assignments \\(${roles.length}\\)$`));
  if (roles.length === 0) {
    assert.match(await page.textContent('#identity-roles'), /holds no role assignment/);
  } else {
    assert.deepEqual(await cellTexts(page, '#identity-roles'), roles);
  }
}

before(() => {
  // identity-core's own scripts, to compare the tabs with (scripts/test builds it; a lone run builds it here)
  if (!process.env.IDENTITY_PLAN_BIN && !fs.existsSync(IDENTITY_PLAN)) {
    execFileSync('cargo', ['build', '-q', '-p', 'identity-core', '--bin', 'identity-plan'], { cwd: ROOT, stdio: 'inherit' });
  }
});

const identityPlan = (...args) => execFileSync(IDENTITY_PLAN, ['--inventory-script', ...args], { encoding: 'utf8' });

test('the demo seed has what these tests need', () => {
  assert.equal(IDENTITIES.length, 5);
  assert.ok(ID_WEB.principalId && ID_WEB.users.length === 2, JSON.stringify(ID_WEB));
  assert.equal(seedRoles(ID_WEB.principalId).length, 2);
  assert.ok(IDENTITIES.some((i) => i.users.some((u) => u.subName !== i.subName)), 'one used across subscriptions');
});

test('from the inventory: id-web from the loaded inventory, then read again with the focused queries', async (t) => {
  const { page } = await demo.open(t);
  await page.goto(demo.server.url + 'inventory');
  await page.locator('#inv-complete').waitFor({ timeout: 30_000 });
  const row = page.locator('#inv-identities tbody tr', { hasText: 'id-web' });
  const [clientId, principalId] = [await row.locator('td').nth(2).textContent(), await row.locator('td').nth(3).textContent()];
  await row.locator('th a').click();
  await shown(page);
  // (the address is the id as Resource Graph gives it: Microsoft.ManagedIdentity writes `resourcegroups`)
  assert.equal(decodeURIComponent(new URL(page.url()).pathname).toLowerCase(), ID_WEB.id.toLowerCase());
  assert.match(await page.textContent('#identity-complete'), /^From the inventory loaded in this session\./);
  await assertShowsSeed(page, ID_WEB);
  assert.equal(await fact(page, 'Client id'), clientId.trim());
  assert.equal(await fact(page, 'Principal id'), principalId.trim());
  // the ABAC condition is shown as text, exactly
  const cond = SEED.roleAssignments.find((a) => a.condition).condition;
  assert.ok((await page.textContent('#identity-roles')).includes(cond));
  await screenshot(page, 'identity-id-web');

  await page.click('#identity-reload');
  await page.locator('#identity-complete', { hasText: 'Read from Azure Resource Graph just now.' }).waitFor({ timeout: 30_000 });
  await assertShowsSeed(page, ID_WEB);

  // a user's link opens its resource page, whose identity links back
  await page.locator('#identity-users a', { hasText: 'vmss-flex' }).click();
  await page.locator('#resource-name', { hasText: 'vmss-flex' }).waitFor({ timeout: 20_000 });
  await page.locator('#user-assigned a', { hasText: 'id-web' }).click();
  await shown(page);
  assert.equal(await page.textContent('#identity-name'), 'id-web');

  // back to the inventory: a resource row's identity links to its page too
  await page.goto(demo.server.url + 'inventory?q=vm-dev-2');
  await page.locator('#inv-complete').waitFor({ timeout: 30_000 });
  await page.locator('#inv-resources tbody tr', { hasText: 'vm-dev-2' }).locator('a', { hasText: 'id-batch' }).click();
  await shown(page);
  await assertShowsSeed(page, IDENTITIES.find((i) => i.name === 'id-batch'));
});

test('from a resource page: vmss-web lists id-web and id-keyvault-reader as links to their pages', async (t) => {
  const { page } = await demo.open(t);
  await page.goto(demo.server.url + VMSS_WEB.slice(1));
  await page.locator('#user-assigned').waitFor({ timeout: 20_000 });
  const links = await page.$$eval('#user-assigned tbody th a', (as) => as.map((a) => [a.textContent, decodeURIComponent(new URL(a.href).pathname).toLowerCase()]));
  assert.deepEqual(links.sort(), [
    ['id-keyvault-reader', uaId(SUB1, 'rg-identity', 'id-keyvault-reader').toLowerCase()],
    ['id-web', uaId(SUB1, 'rg-identity', 'id-web').toLowerCase()],
  ]);
  await page.locator('#user-assigned a', { hasText: 'id-keyvault-reader' }).click();
  await shown(page);
  // not loaded by the inventory in this session: read with the focused queries
  assert.match(await page.textContent('#identity-complete'), /^Read from Azure Resource Graph just now\./);
  await assertShowsSeed(page, IDENTITIES.find((i) => i.name === 'id-keyvault-reader'));
});

test('every identity of the demo tenant, opened by its address, shows its users and role assignments', async (t) => {
  const { page } = await demo.open(t);
  for (const ident of IDENTITIES) {
    await page.goto(demo.server.url + ident.id.slice(1));
    await shown(page);
    await assertShowsSeed(page, ident);
  }
  // an address whose identity does not exist: said as such, nothing invented
  await page.goto(demo.server.url + uaId(SUB1, 'rg-identity', 'id-gone').slice(1));
  await shown(page);
  assert.match(await page.textContent('#identity-missing'), /did not return this identity/);
  assert.equal(await page.textContent('#identity-users'), 'No scale set or VM uses it.');
});

test('keyboard only: from the inventory to an identity, to a user, and through the script tabs', async (t) => {
  const { page } = await demo.open(t);
  await page.goto(demo.server.url + 'inventory');
  await page.locator('#inv-complete').waitFor({ timeout: 30_000 });
  const focusTo = async (predicate, key = 'Tab', limit = 120) => {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press(key);
      if (await page.evaluate(predicate)) return;
    }
    throw new Error('focus never reached the target');
  };
  const onUser = () => document.activeElement.closest('#identity-users') !== null && document.activeElement.tagName === 'A';
  await focusTo(() => document.activeElement.closest('#inv-identities') !== null && document.activeElement.textContent === 'id-web');
  await page.keyboard.press('Enter');
  await shown(page);
  assert.equal(await page.textContent('#identity-name'), 'id-web');
  await focusTo(onUser);
  const first = await page.evaluate(() => document.activeElement.textContent);
  assert.equal(first, [...ID_WEB.users].sort(byName)[0].name);
  // the script tabs: the selected tab is the tab stop, arrows move between tabs
  await focusTo(() => document.activeElement.id === 'identity-tab-az-powershell');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'identity-tab-cli-bash');
  assert.equal(await page.getAttribute('#identity-tab-cli-bash', 'aria-selected'), 'true');
  assert.equal(await page.getAttribute('#identity-script-panel', 'data-flavour'), 'cli-bash');
  await page.keyboard.press('ArrowRight'); // wraps
  assert.equal(await page.evaluate(() => document.activeElement.id), 'identity-tab-az-powershell');
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'identity-tab-cli-bash');
  // back (Shift+Tab) to a user and open it
  await focusTo(onUser, 'Shift+Tab');
  const user = await page.evaluate(() => document.activeElement.textContent);
  assert.ok(ID_WEB.users.some((u) => u.name === user), user);
  await page.keyboard.press('Enter');
  await page.locator('#resource-name', { hasText: user }).waitFor({ timeout: 20_000 });
});

test('axe: no serious or critical violation on the identity page', async () => {
  const context = await demo.browser.newContext({ bypassCSP: true, viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  await page.goto(demo.server.url + ID_WEB.id.slice(1));
  await shown(page);
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  assert.deepEqual(bad, []);
  await context.close();
});

test("the script tabs hold identity-core's scripts, here and on the inventory", async (t) => {
  const { page } = await demo.open(t);
  const panel = async (prefix) => page.$eval(`#${prefix}script-panel pre code`, (c) => c.textContent);
  await page.goto(demo.server.url + ID_WEB.id.slice(1));
  await shown(page);
  assert.equal(await page.textContent('#identity-tab-az-powershell'), 'Az PowerShell');
  assert.equal(await page.textContent('#identity-tab-cli-bash'), 'Azure CLI (bash)');
  assert.equal(await panel('identity-'), identityPlan('powershell', '--identity', ID_WEB.id));
  await page.click('#identity-tab-cli-bash');
  assert.equal(await panel('identity-'), identityPlan('bash', '--identity', ID_WEB.id));
  assert.match(await panel('identity-'), /az graph query --graph-query "\$query" --subscriptions "\$\{batch\[@\]\}" --first 1000 --skip-token "\$token"/);

  await page.goto(demo.server.url + 'inventory');
  await page.locator('#inv-scripts').waitFor({ timeout: 30_000 });
  assert.equal(await panel('inv-'), identityPlan('powershell'));
  assert.match(await panel('inv-'), /Search-AzGraph -Query \$Query -Subscription \$batch -First 1000 -SkipToken \$skipToken/);
  await page.click('#inv-tab-cli-bash');
  assert.equal(await panel('inv-'), identityPlan('bash'));
  await screenshot(page, 'inventory-scripts');
});

test('after a change in the session the identity page reads Resource Graph again, not the older inventory', async (t) => {
  const { page } = await demo.open(t);
  await page.goto(demo.server.url + 'inventory?q=vmss-api');
  await page.locator('#inv-complete').waitFor({ timeout: 30_000 });
  // assign id-web to vmss-api (it has no identity yet)
  await page.locator('#inv-resources a', { hasText: 'vmss-api' }).click();
  await page.locator('#wizards').waitFor({ timeout: 20_000 });
  await page.click('li[data-wizard="assign-user-assigned"] a');
  await page.locator('#choices .choice').first().waitFor();
  await page.fill('#identity-filter', 'id-web');
  await page.check('#choices .choice[data-id$="/id-web"] input[type=checkbox]');
  await page.click('#to-review');
  await page.check('#read-write');
  await page.click('#apply');
  await page.locator('#result').waitFor({ timeout: 30_000 });
  assert.match(await page.locator('#result').innerText(), /^Succeeded/);
  await page.locator('#user-assigned a', { hasText: 'id-web' }).click();
  await shown(page);
  assert.match(await page.textContent('#identity-complete'), /^Read from Azure Resource Graph just now\./);
  const users = await cellTexts(page, '#identity-users');
  assert.deepEqual(users.map((r) => r[0]), ['vmss-api', 'vmss-flex', 'vmss-web']);
});
