// Every wizard × {scale set Uniform, scale set Flexible, VM} on the demo tenant (dist-demo/: armsim's
// core runs in the page, so each fresh browser context starts from the seed again), table-driven.
//
// The expectations are computed here, not read from the app: the starting identities come from the
// demo seed (crates/armsim/seeds/demo.json, resolved the way the seed format documents), the wizard's
// effect on them is applied to that set, and from the before/after sets the test derives the diff
// rows, the exact PATCH body (kept user-assigned ids as {}, removed as null, `type` from what
// remains; `None` / `SystemAssigned` without a dictionary when no user-assigned identity remains),
// the Az PowerShell `-IdentityType` value, the `az … identity assign|remove` lines, the identities
// read back after the change and the change log. Where a wizard does not apply, the reason is
// asserted on the menu and on a deep link to it. Screenshots: e2e-artifacts/matrix-<cell>-<step>.png.
//
//   node --test --test-reporter=spec e2e/matrix.test.mjs      (MATRIX_CONCURRENCY=n, default 3)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { demoTenant } from './lib/demo.mjs';
import { ROOT, screenshot } from './lib/browser.mjs';

const SEED = JSON.parse(fs.readFileSync(path.join(ROOT, 'crates/armsim/seeds/demo.json'), 'utf8'));
const CONCURRENCY = Number(process.env.MATRIX_CONCURRENCY ?? 3);
const ARM = 'https://management.azure.com';
const SUB = '11111111-1111-4111-8111-111111111111';
const SUB2 = '22222222-2222-4222-8222-222222222222';

// ---------------------------------------------------------------------------------------------
// The seed, read independently of the app

const uaId = (sub, rg, name) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
const lc = (s) => s.toLowerCase();
const nameOf = (id) => id.split('/').pop();

/** A seeded scale set or VM: its id, kind and starting identities (user-assigned refs resolved). */
function seeded(sub, rg, name) {
  const s = SEED.subscriptions.find((x) => x.subscriptionId === sub);
  const g = s?.resourceGroups.find((x) => x.name === rg);
  assert.ok(g, `seed has ${sub}/${rg}`);
  const ss = (g.virtualMachineScaleSets ?? []).find((x) => x.name === name);
  const v = (g.virtualMachines ?? []).find((x) => x.name === name);
  const r = ss ?? v;
  assert.ok(r, `seed has ${name} in ${rg}`);
  const type = r.identity?.type ?? 'None';
  // seed format: a name in the same group, `group/name` in the same subscription, or a full id
  const resolve = (ref) => {
    if (ref.startsWith('/')) return ref;
    const [gg, n] = ref.includes('/') ? ref.split('/') : [rg, ref];
    return uaId(sub, gg, n);
  };
  return {
    id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/${ss ? 'virtualMachineScaleSets' : 'virtualMachines'}/${name}`,
    kind: ss ? (r.orchestrationMode === 'Flexible' ? 'Flexible' : 'Uniform') : 'VM',
    upgradePolicy: ss ? (r.upgradePolicy ?? 'Manual') : undefined,
    extensions: r.extensions ?? [],
    identity: { sa: /SystemAssigned/i.test(type), ua: (r.identity?.userAssigned ?? []).map(resolve) },
  };
}

// ---------------------------------------------------------------------------------------------
// The rules, written from the ARM contract (not from the app)

/** Why `wizard` does not apply to the resource, as a pattern the shown reason must match; null if it applies. */
function refusal(wizard, r) {
  switch (wizard) {
    case 'enable-system-assigned':
      if (r.kind === 'Flexible') return /Flexible.*user-assigned/is;
      if (r.identity.sa) return /already enabled/i;
      return null;
    case 'remove-system-assigned':
      return r.identity.sa ? null : /no system-assigned identity/i;
    case 'remove-user-assigned':
      return r.identity.ua.length ? null : /no user-assigned identit/i;
    case 'remove-legacy-extension':
      return r.extensions.some((e) => e.publisher === 'Microsoft.ManagedIdentity') ? null : /not installed/i;
    default:
      return null;
  }
}

/** The identities after the wizard, from the starting set and the picked ids. */
function afterOf(wizard, start, picks) {
  const has = (list, id) => list.some((x) => lc(x) === lc(id));
  switch (wizard) {
    case 'enable-system-assigned':
      return { sa: true, ua: [...start.ua] };
    case 'remove-system-assigned':
      return { sa: false, ua: [...start.ua] };
    case 'assign-user-assigned':
      return { sa: start.sa, ua: [...start.ua, ...picks.filter((p) => !has(start.ua, p))] };
    case 'remove-user-assigned':
      return { sa: start.sa, ua: start.ua.filter((u) => !has(picks, u)) };
    default:
      return { sa: start.sa, ua: [...start.ua] };
  }
}

const typeOf = ({ sa, ua }) => (sa && ua.length ? 'SystemAssigned, UserAssigned' : sa ? 'SystemAssigned' : ua.length ? 'UserAssigned' : 'None');
const psEnum = ({ sa, ua }) => (sa && ua.length ? 'SystemAssignedUserAssigned' : sa ? 'SystemAssigned' : ua.length ? 'UserAssigned' : 'None');

/** The PATCH body, normalised for comparison (ids lower-cased, entries sorted). */
function expectedBody(before, after) {
  if (!after.ua.length) return { identity: { type: typeOf(after) } };
  const map = {};
  for (const u of after.ua) map[lc(u)] = {};
  for (const u of before.ua) if (!after.ua.some((a) => lc(a) === lc(u))) map[lc(u)] = null;
  return { identity: { type: typeOf(after), userAssignedIdentities: sortKeys(map) } };
}
function normaliseBody(body) {
  const out = structuredClone(body);
  const m = out.identity?.userAssignedIdentities;
  if (m && typeof m === 'object') out.identity.userAssignedIdentities = sortKeys(Object.fromEntries(Object.entries(m).map(([k, v]) => [lc(k), v])));
  return out;
}
function sortKeys(o) {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** Diff rows `label:change`, sorted. */
function expectedDiff(before, after) {
  const rows = [];
  if (before.sa || after.sa) rows.push(`System-assigned:${before.sa && after.sa ? 'kept' : after.sa ? 'added' : 'removed'}`);
  for (const u of before.ua) rows.push(`${nameOf(u)}:${after.ua.some((a) => lc(a) === lc(u)) ? 'kept' : 'removed'}`);
  for (const u of after.ua) if (!before.ua.some((b) => lc(b) === lc(u))) rows.push(`${nameOf(u)}:added`);
  return rows.sort();
}

const added = (before, after) => [...(after.sa && !before.sa ? ['[system]'] : []), ...after.ua.filter((u) => !before.ua.some((b) => lc(b) === lc(u)))];
const removed = (before, after) => [...(before.sa && !after.sa ? ['[system]'] : []), ...before.ua.filter((u) => !after.ua.some((a) => lc(a) === lc(u)))];

// ---------------------------------------------------------------------------------------------
// The table

const R = {
  vmssWeb: seeded(SUB, 'rg-web', 'vmss-web'), // Uniform, SA + 2 UA
  vmssDevWin: seeded(SUB2, 'rg-dev', 'vmss-dev-win'), // Uniform, 1 UA
  vmssDev: seeded(SUB2, 'rg-dev', 'vmss-dev'), // Uniform, none (Rolling)
  vmssFlex: seeded(SUB, 'rg-web', 'vmss-flex'), // Flexible, 1 UA
  vmssBatchFlex: seeded(SUB, 'rg-batch', 'vmss-batch-flex'), // Flexible, none
  vmJump: seeded(SUB, 'rg-web', 'vm-jump'), // VM, SA
  vmDev1: seeded(SUB2, 'rg-dev', 'vm-dev-1'), // VM, none
  vmDev2: seeded(SUB2, 'rg-dev', 'vm-dev-2'), // VM, SA + 2 UA (one from another subscription)
  vmLegacyWin: seeded(SUB, 'rg-batch', 'vm-legacy-win'), // VM, SA + legacy Windows extension
};

const CELLS = [
  // enable system-assigned
  { wizard: 'enable-system-assigned', r: R.vmssDevWin }, // kept user-assigned one stays
  { wizard: 'enable-system-assigned', r: R.vmssFlex }, // refused: Flexible
  { wizard: 'enable-system-assigned', r: R.vmDev1 },
  { wizard: 'enable-system-assigned', r: R.vmssWeb, variant: 'already' }, // refused: already enabled
  // remove system-assigned
  { wizard: 'remove-system-assigned', r: R.vmssWeb }, // both user-assigned kept
  { wizard: 'remove-system-assigned', r: R.vmssFlex }, // nothing to remove
  { wizard: 'remove-system-assigned', r: R.vmDev2 },
  // assign user-assigned (several at once, across subscriptions)
  { wizard: 'assign-user-assigned', r: R.vmssDev, picks: [uaId(SUB2, 'rg-dev', 'id-dev-ci'), uaId(SUB, 'rg-identity', 'id-web')] },
  { wizard: 'assign-user-assigned', r: R.vmssFlex, picks: [uaId(SUB, 'rg-identity', 'id-batch')] },
  { wizard: 'assign-user-assigned', r: R.vmJump, picks: [uaId(SUB, 'rg-identity', 'id-keyvault-reader')] },
  // remove user-assigned
  { wizard: 'remove-user-assigned', r: R.vmssDevWin, picks: [uaId(SUB2, 'rg-dev', 'id-dev-ci')] }, // the last one → None
  { wizard: 'remove-user-assigned', r: R.vmssWeb, picks: [uaId(SUB, 'rg-identity', 'id-web')], variant: 'one-of-two' }, // null + kept {}
  { wizard: 'remove-user-assigned', r: R.vmssFlex, picks: [uaId(SUB, 'rg-identity', 'id-web')] },
  { wizard: 'remove-user-assigned', r: R.vmssBatchFlex, variant: 'none' }, // nothing to remove
  { wizard: 'remove-user-assigned', r: R.vmDev2, picks: [uaId(SUB, 'rg-identity', 'id-batch')] },
];

const cellName = (c) => `${c.wizard}-${c.r.kind.toLowerCase()}${c.variant ? `-${c.variant}` : ''}`;

// ---------------------------------------------------------------------------------------------
// Browser plumbing

const demo = demoTenant();
const open = (t) => demo.open(t);

const text = (page, sel) => page.locator(sel).first().innerText();
const rowsOf = (page, sel) =>
  page.$$eval(`${sel} tbody tr`, (rows) => rows.map((r) => `${r.querySelector('th').textContent}:${r.dataset.change}`).sort());
const etagShown = (page) =>
  page.$$eval('#facts dt', (dts) => dts.find((d) => d.textContent === 'ETag')?.nextElementSibling?.textContent ?? null);

/** What the resource page shows: system-assigned on/off and the user-assigned ids (lower-cased, sorted). */
async function shownIdentities(page) {
  const summary = await text(page, '#identity-summary');
  const sa = /^Enabled/.test(await text(page, '#system-assigned'));
  const ua = (await page.$$eval('#user-assigned tbody tr', (rows) => rows.map((r) => r.dataset.id))).map(lc).sort();
  return { summary, sa, ua };
}

/** The summary line says the same thing as the set (parsed, not compared to a copied string). */
function assertSummary(summary, { sa, ua }) {
  if (!sa && !ua.length) return assert.match(summary, /^no managed identity$/i);
  assert.equal(/system-assigned/i.test(summary), sa, `summary ${JSON.stringify(summary)} vs system-assigned ${sa}`);
  const n = summary.match(/(\d+) user-assigned/);
  assert.equal(n ? Number(n[1]) : 0, ua.length, `summary ${JSON.stringify(summary)} vs ${ua.length} user-assigned`);
}

async function assertIdentities(page, want) {
  const got = await shownIdentities(page);
  assert.equal(got.sa, want.sa, '#system-assigned');
  assert.deepEqual(got.ua, want.ua.map(lc).sort(), '#user-assigned rows');
  assertSummary(got.summary, want);
}

/** The exact request(s) shown in the review: [{ method, url, headers, body }]. */
async function shownRequests(page) {
  const texts = await page.$$eval('#requests pre', (els) => els.map((e) => e.textContent));
  return texts.map((t) => {
    const [head, body] = t.split(/\n\n/);
    const [line, ...hs] = head.trim().split('\n');
    const [method, url] = line.split(' ');
    return {
      method,
      url: new URL(url),
      headers: Object.fromEntries(hs.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()])),
      body: body?.trim() ? JSON.parse(body) : undefined,
    };
  });
}

async function scriptTab(page, tab) {
  await page.click(`#tab-${tab}`);
  await page.waitForFunction((f) => document.querySelector('#script-panel')?.dataset.flavour === f, tab);
  return text(page, '#script-panel pre');
}

/** The change log (client-side navigation, so the in-page tenant is kept): [{ method, path, status }]. */
async function changeLog(page) {
  await page.click('a:text-is("Change log")');
  await page.locator('#log').waitFor();
  return page.$$eval('#log tbody tr', (rows) =>
    rows.map((r) => {
      const td = [...r.querySelectorAll('td')].map((d) => d.textContent);
      return { method: td[1], path: td[2], status: td[3] };
    }),
  );
}

// a Resource Graph query is a POST that reads (what the identities can access, the removal's role assignments)
const writes = (log) => log.filter((e) => e.method !== 'GET' && !e.path.startsWith('/providers/Microsoft.ResourceGraph/'));
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------------------------------------------------------------------------------------------
// The tests

describe('wizard matrix on the demo tenant', { concurrency: CONCURRENCY }, () => {
  it('the table covers every wizard × {Uniform, Flexible, VM}', () => {
    for (const w of ['enable-system-assigned', 'remove-system-assigned', 'assign-user-assigned', 'remove-user-assigned']) {
      for (const k of ['Uniform', 'Flexible', 'VM']) {
        assert.ok(CELLS.some((c) => c.wizard === w && c.r.kind === k && !c.variant), `${w} × ${k}`);
      }
    }
    const names = CELLS.map(cellName);
    assert.equal(new Set(names).size, names.length, 'cell names are unique (screenshot files)');
  });

  for (const cell of CELLS) {
    const { wizard, r } = cell;
    const name = cellName(cell);
    const why = refusal(wizard, r);
    const shot = (page, step) => screenshot(page, `matrix-${name}-${step}`);

    if (why) {
      it(`${name}: refused with the reason`, { timeout: 90_000 }, async (t) => {
        const { page } = await open(t);
        await page.goto(demo.server.url + r.id.slice(1));
        await page.locator('#wizards').waitFor();
        await assertIdentities(page, r.identity);
        const item = page.locator(`#wizards li[data-wizard="${wizard}"]`);
        assert.match(await item.locator('.why').innerText(), why);
        assert.equal(await item.locator('a').count(), 0, 'no link to a wizard that does not apply');
        await shot(page, '1-menu');
        // a deep link explains instead of planning
        await page.goto(`${demo.server.url}${r.id.slice(1)}?wizard=${wizard}`);
        await page.locator('#wizard .refusal').waitFor();
        assert.equal(await page.getAttribute('#wizard', 'data-step'), 'unavailable');
        assert.match(await text(page, '#wizard .refusal'), why);
        assert.equal(await page.locator('#requests, #apply, #choices').count(), 0, 'nothing to review or send');
        await shot(page, '2-refused');
      });
      continue;
    }

    it(`${name}: review, exact request, scripts, apply, read back`, { timeout: 90_000 }, async (t) => {
      const { page } = await open(t);
      const start = r.identity;
      const picks = cell.picks ?? [];
      const want = afterOf(wizard, start, picks);
      const isSet = r.kind !== 'VM';

      await page.goto(`${demo.server.url}${r.id.slice(1)}?wizard=${wizard}`);
      await page.locator('#facts').waitFor();
      await page.locator('#wizard').waitFor();
      await assertIdentities(page, start);
      const etag = await etagShown(page);
      assert.ok(etag && !/none/i.test(etag), `an etag was read: ${etag}`);
      assert.equal(await page.locator(`#wizards li[data-wizard="${wizard}"] a`).count(), 1, 'the wizard is offered');
      await shot(page, '1-open');

      // choose (the user-assigned wizards)
      if (picks.length) {
        await page.locator('#choices .choice').first().waitFor({ timeout: 30_000 });
        const offered = await page.$$eval('#choices .choice', (els) => els.map((e) => e.dataset.id));
        if (wizard === 'remove-user-assigned') {
          assert.deepEqual(offered.map(lc).sort(), start.ua.map(lc).sort(), 'exactly the assigned ones are offered for removal');
        } else {
          for (const u of start.ua) assert.ok(!offered.some((o) => lc(o) === lc(u)), `already assigned ${nameOf(u)} is not offered`);
        }
        for (const p of picks) {
          const exact = offered.find((o) => lc(o) === lc(p));
          assert.ok(exact, `${p} is offered: ${offered.join(', ')}`);
          await page.check(`#choices .choice[data-id="${exact}"] input[type=checkbox]`);
        }
        assert.match(await text(page, '#to-review'), new RegExp(`\\(${picks.length} selected\\)`));
        await shot(page, '2-choose');
        await page.click('#to-review');
      }

      // review: diff with kept identities visible
      await page.locator('#wizard[data-step="review"] #requests').waitFor();
      assert.deepEqual(await rowsOf(page, '.review > #diff'), expectedDiff(start, want));

      // removal without orphans is covered in wizards.test.mjs: here only the identity change is sent
      if (wizard.startsWith('remove-')) {
        await page.waitForFunction(() => !document.querySelector('#cleanup-loading'));
        const offer = page.locator('#delete-role-assignments');
        if ((await offer.count()) > 0 && (await offer.isChecked())) await offer.uncheck();
      }

      // the exact request
      const reqs = await shownRequests(page);
      assert.equal(reqs.length, 1, 'one request');
      const [req] = reqs;
      assert.equal(req.method, 'PATCH');
      assert.equal(req.url.origin, ARM);
      assert.equal(req.url.pathname, r.id);
      assert.deepEqual([...req.url.searchParams.keys()], ['api-version']);
      assert.match(req.url.searchParams.get('api-version'), /^\d{4}-\d{2}-\d{2}$/);
      assert.equal(req.headers['if-match'], etag, 'If-Match carries the etag read');
      assert.equal(req.headers['content-type'], 'application/json');
      assert.ok(!('authorization' in req.headers), 'no token shown');
      assert.deepEqual(Object.keys(req.body), ['identity'], 'the PATCH carries only identity');
      assert.deepEqual(normaliseBody(req.body), expectedBody(start, want));
      assert.match(await text(page, '#outcome'), /^1 request will be sent/);
      await shot(page, '3-review');

      // scripts: Az PowerShell (default tab), then Azure CLI (bash)
      assert.equal(await page.getAttribute('#script-panel', 'data-flavour'), 'az-powershell');
      const ps = await text(page, '#script-panel pre');
      const psLc = lc(ps); // ARM ids compare case-insensitively (listed ids may say `resourcegroups`)
      const gone = removed(start, want).filter((x) => x !== '[system]');
      if (!isSet) {
        const m = ps.match(/^Update-AzVM\b.*-IdentityType (\S+).*$/m);
        assert.ok(m, `Update-AzVM -IdentityType in:\n${ps}`);
        assert.equal(m[1], psEnum(want));
        // Update-AzVM replaces the identity: every remaining one listed, no removed one
        for (const u of want.ua) assert.ok(psLc.includes(lc(u)), `${u} listed in:\n${ps}`);
        for (const u of gone) assert.ok(!psLc.includes(lc(u)), `${u} not listed`);
        if (want.ua.length) assert.match(m[0], /-IdentityId /);
      } else if (gone.length && want.ua.length) {
        // no Az cmdlet can send a removed user-assigned id as null in a PATCH: the exact PATCH instead
        assert.doesNotMatch(ps, /^Update-AzVmss\b.*-IdentityType/m);
        assert.match(ps, /Invoke-RestMethod\b.*-Method Patch/i);
        assert.ok(ps.includes(r.id), 'the exact path');
        assert.ok(psLc.includes(`"${lc(gone[0])}": null`), 'the removed id as null');
      } else {
        const m = ps.match(/^Update-AzVmss\b.*-IdentityType (\S+).*$/m);
        assert.ok(m, `Update-AzVmss -IdentityType in:\n${ps}`);
        assert.equal(m[1], psEnum(want));
        for (const u of want.ua) assert.ok(psLc.includes(lc(u)), `${u} listed in:\n${ps}`);
      }
      assert.match(ps, /-IfMatch/);

      const bash = await scriptTab(page, 'cli-bash');
      const g = isSet ? 'vmss' : 'vm';
      const line = (verb) => bash.split('\n').find((l) => l.startsWith(`az ${g} identity ${verb} `));
      for (const [verb, ids] of [['assign', added(start, want)], ['remove', removed(start, want)]]) {
        const l = line(verb);
        if (!ids.length) {
          assert.equal(l, undefined, `no az ${g} identity ${verb}`);
          continue;
        }
        assert.ok(l, `az ${g} identity ${verb} in:\n${bash}`);
        assert.match(l, new RegExp(`--resource-group '?${escapeRe(r.id.split('/')[4])}'? `));
        assert.match(l, new RegExp(`--name '?${escapeRe(nameOf(r.id))}'? `));
        for (const id of ids) assert.ok(lc(l).includes(lc(id)), `${id} in ${l}`);
      }
      await shot(page, '4-scripts');

      // apply: read-only by default, then read-write
      assert.equal(await page.isDisabled('#apply'), true, 'read-only by default');
      await page.check('#read-write');
      await page.click('#apply');
      await page.locator('#result').waitFor({ timeout: 60_000 });
      assert.match(await text(page, '#result'), /^Succeeded in \d+\.\d s/);
      assert.deepEqual(await rowsOf(page, '#result #diff'), expectedDiff(start, want), 'the identities the operation returned');
      // the resource read again
      await page.waitForFunction(
        ({ sa, ua }) => {
          const rows = [...document.querySelectorAll('#user-assigned tbody tr')].map((r) => r.dataset.id.toLowerCase()).sort();
          const saOn = /^Enabled/.test(document.querySelector('#system-assigned')?.textContent ?? '');
          return saOn === sa && JSON.stringify(rows) === JSON.stringify(ua);
        },
        { sa: want.sa, ua: want.ua.map(lc).sort() },
        { timeout: 30_000 },
      );
      await assertIdentities(page, want);
      assert.notEqual(await etagShown(page), etag, 'a new etag after the change');
      // the wizard, re-planned against what was read back, has nothing left to send
      await page.locator('.review > #outcome[data-outcome="noop"]').waitFor();
      assert.equal(await page.locator('#apply').count(), 0, 'no second apply');
      await shot(page, '5-applied');

      // what was sent: one PATCH of this resource, answered 200
      const log = await changeLog(page);
      assert.deepEqual(
        writes(log).map((e) => `${e.method} ${e.path.split('?')[0]} ${e.status}`),
        [`PATCH ${r.id} 200`],
      );
      await shot(page, '6-log');
    });
  }

  it('remove-legacy-extension-vm: DELETE only (no manualupgrade for a VM), identities untouched', { timeout: 90_000 }, async (t) => {
    const r = R.vmLegacyWin;
    const ext = r.extensions.find((e) => e.publisher === 'Microsoft.ManagedIdentity');
    assert.ok(ext && r.kind === 'VM');
    const shot = (page, step) => screenshot(page, `matrix-remove-legacy-extension-vm-${step}`);
    const { page } = await open(t);
    await page.goto(`${demo.server.url}${r.id.slice(1)}?wizard=remove-legacy-extension`);
    await page.locator('#legacy-extension').waitFor();
    assert.ok((await text(page, '#legacy-extension')).includes(ext.name));
    await assertIdentities(page, r.identity);
    await shot(page, '1-open');

    await page.locator('#wizard[data-step="review"] #requests').waitFor();
    assert.equal(await page.locator('#upgrade-instances').count(), 0, 'no instance upgrade option on a VM');
    assert.deepEqual(await rowsOf(page, '.review > #diff'), expectedDiff(r.identity, r.identity), 'identities kept');
    const reqs = await shownRequests(page);
    assert.equal(reqs.length, 1, 'DELETE only');
    assert.equal(reqs[0].method, 'DELETE');
    assert.equal(reqs[0].url.origin, ARM);
    assert.equal(reqs[0].url.pathname, `${r.id}/extensions/${ext.name}`);
    assert.match(reqs[0].url.searchParams.get('api-version'), /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(reqs[0].body, undefined);
    await shot(page, '2-review');

    const ps = await text(page, '#script-panel pre');
    assert.match(ps, new RegExp(`^Remove-AzVMExtension\\b.*-Name '${escapeRe(ext.name)}'`, 'm'));
    assert.doesNotMatch(ps, /Update-AzVmssInstance|manualupgrade/i);
    const bash = await scriptTab(page, 'cli-bash');
    assert.match(bash, new RegExp(`^az vm extension delete .*--name '?${escapeRe(ext.name)}'?`, 'm'));
    assert.doesNotMatch(bash, /manualupgrade|update-instances/i);
    await shot(page, '3-scripts');

    await page.check('#read-write');
    await page.click('#apply');
    await page.locator('#result').waitFor({ timeout: 60_000 });
    assert.match(await text(page, '#result'), /^Succeeded/);
    await page.locator('#legacy-extension').waitFor({ state: 'detached', timeout: 30_000 });
    await assertIdentities(page, r.identity);
    await shot(page, '4-applied');

    const log = await changeLog(page);
    assert.deepEqual(
      writes(log).map((e) => `${e.method} ${e.path.split('?')[0]} ${e.status}`),
      [`DELETE ${r.id}/extensions/${ext.name} ${log.find((e) => e.method === 'DELETE')?.status}`],
    );
    assert.match(log.find((e) => e.method === 'DELETE').status, /^20[02]$/);
    await shot(page, '5-log');
  });
});
