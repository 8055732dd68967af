// The wizards signed in, end to end: the production build (dist/) in Chromium, the real MSAL signing
// in against the local Entra-shaped OpenID provider (e2e/idp), and the armsim server as ARM — it
// verifies every token against the provider's JWKS and answers CORS in STRICT mode (no response
// header readable by the page: no ETag, Azure-AsyncOperation or Retry-After). What armsim received
// is read from its request log; faults (412, 409, 429, 403, a dropped connection while polling) are
// injected through its control endpoint. The harness intercepts no request, so the browser's CORS
// preflights are answered by armsim itself (its log shows them). Nothing leaves loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { startStaticServer } from '../scripts/static-server.mjs';
import { ROOT, launch, guardedPage, screenshot } from './lib/browser.mjs';
import { ARM_AUDIENCE, CLIENT_ID, PASSWORD, TENANT_A, TENANT_B, USERS, startIdp } from './idp/idp.mjs';

const DIST = path.resolve(process.env.DIST_DIR ?? path.join(ROOT, 'dist'));
const ARMSIM = process.env.ARMSIM_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target'), 'debug', 'armsim');
const ALICE = 'alice@contoso.test';
const SUB = '11111111-1111-4111-8111-111111111111';
const SUB2 = '22222222-2222-4222-8222-222222222222';
const VMSS_WEB = `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web`;
const VMSS_API = `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api`;
const VMSS_FLEX = `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-flex`;
const VM_DEV1 = `/subscriptions/${SUB2}/resourceGroups/rg-dev/providers/Microsoft.Compute/virtualMachines/vm-dev-1`;

let idp;
let arm; // { url, proc }
let app;
let appWrong;
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
  const tmp = fs.mkdtempSync(path.join(ROOT, 'target', 'e2e-tmp', 'live-'));
  const jwks = path.join(tmp, 'jwks.json');
  fs.writeFileSync(jwks, JSON.stringify(idp.jwks));
  const appPort = await freePort();
  const appOrigin = `http://127.0.0.1:${appPort}`;
  const wrongPort = await freePort();
  // the demo tenant, as the provider's tenant A, with tenant B listed as a guest directory
  const seed = JSON.parse(fs.readFileSync(path.join(ROOT, 'crates/armsim/seeds/demo.json'), 'utf8'));
  seed.tenantId = TENANT_A;
  seed.guestTenants = [{ tenantId: TENANT_B, displayName: 'Fabrikam' }];
  const seedFile = path.join(tmp, 'seed.json');
  fs.writeFileSync(seedFile, JSON.stringify(seed));
  arm = await startArmsim([
    '--port', '0', '--control', '--lro-delay-ms', '1500', '--seed', seedFile,
    '--jwks', jwks, '--auth-issuer', idp.issuer(TENANT_A), '--auth-issuer', idp.issuer(TENANT_B),
    '--auth-audience', ARM_AUDIENCE,
    '--cors-origin', appOrigin, '--cors-origin', `http://127.0.0.1:${wrongPort}`, '--cors-mode', 'strict',
  ]);
  const config = { cloud: 'Custom', clientId: CLIENT_ID, tenant: TENANT_A, authority: idp.origin, armEndpoint: arm.url, armAudience: ARM_AUDIENCE };
  app = await startStaticServer({ dist: DIST, port: appPort, config });
  // the same app configured for another cloud's ARM audience: armsim refuses its tokens
  appWrong = await startStaticServer({ dist: DIST, port: wrongPort, config: { ...config, armAudience: 'https://management.usgovcloudapi.net' } });
  idp.registerApp(app.url, appWrong.url);
  browser = await launch([`--ignore-certificate-errors-spki-list=${idp.spki}`]);
});

after(async () => {
  await browser?.close();
  arm?.proc.kill();
  await Promise.all([app?.close(), appWrong?.close(), idp?.close()]);
});

async function signedIn(t, url = app.url) {
  const ctx = await guardedPage(browser, { viewport: { width: 1200, height: 900 } });
  t.after(async () => {
    await control('DELETE', 'faults');
    assert.deepEqual(ctx.external, [], 'requests off loopback');
    await ctx.context.close();
  });
  const { page } = ctx;
  await page.goto(url);
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

const text = (page, sel) => page.locator(sel).innerText();
const diffRows = (page) => page.$$eval('#diff tbody tr', (rows) => rows.map((r) => `${r.querySelector('th').textContent}:${r.dataset.change}`));
const accessToken = (page) =>
  page.evaluate(() => {
    const k = Object.keys(sessionStorage).find((x) => x.includes('|accesstoken|'));
    return JSON.parse(sessionStorage.getItem(k)).secret;
  });

/** Alice holds exactly `role` on both subscriptions. */
async function setRole(role) {
  await control('DELETE', `roles?principalId=${USERS[ALICE].oid}`);
  await control('POST', 'roles', [SUB, SUB2].map((s) => ({ principalId: USERS[ALICE].oid, role, scope: `/subscriptions/${s}` })));
}

/** Alice holds only `role` for this test; afterwards Owner again (authorization stays on in armsim once used). */
async function onlyRole(t, role) {
  await setRole(role);
  t.after(() => setRole('Owner'));
}

async function openWizard(page, id, slug) {
  await page.goto(`${app.url}${id.slice(1)}?wizard=${slug}`);
  await page.locator('#wizard').waitFor({ timeout: 20_000 });
}

test('signed in, strict CORS: pick through the pickers, assign a user-assigned identity, armsim received exactly the lossless PATCH', async (t) => {
  const { page, problems } = await signedIn(t);
  await control('DELETE', 'requests');
  await page.click('li[data-slug="assign-user-assigned"] >> text=Pick a scale set or VM');
  await page.click('#subscriptions >> text=Contoso Production');
  await page.click('#groups >> text=rg-web');
  await page.click('#resources >> text=vmss-web');
  await page.click('li[data-wizard="assign-user-assigned"] a');
  await page.locator('#choices .choice').first().waitFor({ timeout: 20_000 });
  await page.fill('#identity-filter', 'id-batch');
  await page.check('#choices input[type=checkbox]');
  await page.click('#to-review');
  assert.deepEqual((await diffRows(page)).filter((r) => r.endsWith(':added')), ['id-batch:added']);
  assert.equal((await diffRows(page)).filter((r) => r.endsWith(':kept')).length, 3, 'system-assigned and both user-assigned kept');
  await screenshot(page, 'live-1-review');
  await page.check('#read-write');
  await page.click('#apply');
  await page.locator('#result').waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector('#identity-summary')?.textContent === 'system-assigned + 3 user-assigned');
  await screenshot(page, 'live-2-done');

  const log = await armLog();
  const patches = log.filter((e) => e.method === 'PATCH');
  assert.equal(patches.length, 1, JSON.stringify(log.map((e) => `${e.method} ${e.path} ${e.status}`)));
  const p = patches[0];
  assert.equal(p.path, VMSS_WEB);
  assert.equal(p.status, 200);
  const h = Object.fromEntries(p.headers.map(([k, v]) => [k.toLowerCase(), v]));
  assert.equal(h['if-match'], '"1"', 'the etag from the body (the ETag header is unreadable in strict CORS)');
  assert.equal(h.authorization, '<redacted>');
  const body = typeof p.body === 'string' ? JSON.parse(p.body) : p.body;
  assert.deepEqual(Object.keys(body), ['identity']);
  assert.equal(body.identity.type, 'SystemAssigned, UserAssigned');
  assert.deepEqual(Object.values(body.identity.userAssignedIdentities), [{}, {}, {}]);
  // every request carried the signed-in user's token and got past armsim's JWKS check
  assert.ok(log.every((e) => e.status !== 401), 'no 401');
  // the browser's CORS preflights reached armsim (nothing in the harness answers them) before the requests they cleared
  const origin = new URL(app.url).origin;
  const preflights = log.filter((e) => e.method === 'OPTIONS');
  assert.ok(preflights.length >= 1, 'preflights in the log');
  for (const e of preflights) {
    const ph = Object.fromEntries(e.headers.map(([k, v]) => [k.toLowerCase(), v]));
    assert.equal(ph.origin, origin);
    // POST: the resource page's Resource Graph queries (what its identities can access)
    assert.ok(['GET', 'PATCH', 'POST'].includes(ph['access-control-request-method']), JSON.stringify(ph));
    assert.equal(ph.authorization, undefined, 'a preflight carries no token');
  }
  const firstTo = (path, pred) => log.find((e) => e.path === path && pred(e))?.seq;
  assert.ok(firstTo(VMSS_WEB, (e) => e.method === 'OPTIONS') < firstTo(VMSS_WEB, (e) => e.method !== 'OPTIONS'), 'the scale set\'s preflight came first');
  // the PATCH (If-Match, Content-Type: not allowed by the GET's preflight) had its own, right before it
  const patchPreflight = log.filter((e) => e.path === VMSS_WEB && e.method === 'OPTIONS' && e.headers.some(([k, v]) => k.toLowerCase() === 'access-control-request-method' && v === 'PATCH'));
  assert.equal(patchPreflight.length, 1, 'one preflight for the PATCH');
  assert.ok(patchPreflight[0].seq < p.seq);
  // strict CORS: the operation was followed by reading the resource (provisioningState), not the unreadable header
  assert.ok(log.filter((e) => e.method === 'GET' && e.path === VMSS_WEB).length >= 2);
  assert.deepEqual(problems.filter((x) => !/status of 4\d\d|409|412/.test(x)), []);
});

test('412: a concurrent writer between review and apply → re-read, re-planned with the choice kept, then applied', async (t) => {
  const { page } = await signedIn(t);
  await openWizard(page, VMSS_API, 'enable-system-assigned');
  await page.locator('#requests').waitFor();
  assert.match(await text(page, '#requests pre'), /^If-Match: "1"$/m);
  await control('POST', 'faults', { kind: 'concurrentWrite', resourceId: VMSS_API, change: { type: 'bumpEtag' }, trigger: 'now' });
  await page.check('#read-write');
  await page.click('#apply');
  await page.locator('#wizard-notice').waitFor({ timeout: 20_000 });
  assert.match(await text(page, '#wizard-notice'), /412/);
  await page.waitForFunction(() => /If-Match: "2"/.test(document.querySelector('#requests pre')?.textContent ?? ''));
  assert.deepEqual(await diffRows(page), ['System-assigned:added'], 'the same choice, re-planned');
  await screenshot(page, 'live-412-replanned');
  await page.click('#apply');
  await page.locator('#result').waitFor({ timeout: 30_000 });
  const statuses = (await armLog()).filter((e) => e.method === 'PATCH' && e.path === VMSS_API).map((e) => e.status);
  assert.deepEqual(statuses.slice(-2), [412, 200]);
});

test('409: another operation is running → the reason and a retry that works once it ends', async (t) => {
  const { page } = await signedIn(t);
  // someone else starts a long change on the VM (with the user's own token, outside the app) just
  // before the app reads it: the app's PATCH then arrives while that operation still runs
  await control('POST', 'config', { lroDelayMs: 5000 });
  t.after(() => control('POST', 'config', { lroDelayMs: 1500 }));
  const token = await accessToken(page);
  const started = await page.evaluate(async ({ url, token }) => {
    const r = await fetch(url, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ identity: { type: 'UserAssigned', userAssignedIdentities: { '/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-dev/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-dev-ci': {} } } }) });
    return r.status;
  }, { url: `${arm.url}${VM_DEV1}?api-version=2024-11-01`, token });
  assert.equal(started, 200);
  const t0 = Date.now();
  await openWizard(page, VM_DEV1, 'enable-system-assigned');
  await page.locator('#requests').waitFor();
  await page.check('#read-write');
  await page.click('#apply');
  await page.locator('#wizard .error').waitFor({ timeout: 20_000 });
  assert.equal(await page.getAttribute('#wizard .error', 'data-status'), '409');
  assert.match(await text(page, '#wizard .error'), /Another operation is running/);
  await screenshot(page, 'live-409');
  await page.waitForTimeout(Math.max(0, 5500 - (Date.now() - t0))); // the other operation ends
  await page.click('#retry');
  // re-read: the other change added a user-assigned identity; enabling system-assigned keeps it
  await page.waitForFunction(() => [...document.querySelectorAll('#diff tbody tr')].some((r) => r.dataset.change === 'kept'));
  await page.click('#apply');
  await page.locator('#result').waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector('#identity-summary')?.textContent === 'system-assigned + 1 user-assigned');
});

test('429: throttled PATCH → a visible wait, then the change goes through', async (t) => {
  const { page } = await signedIn(t);
  await openWizard(page, VMSS_FLEX, 'remove-user-assigned');
  await page.locator('#choices .choice').first().waitFor();
  await page.check('#choices .choice >> nth=0 >> input');
  await page.click('#to-review');
  await control('POST', 'faults', { kind: 'throttle', count: 2, retryAfterSeconds: 1, match: { method: 'PATCH' } });
  await page.check('#read-write');
  await page.click('#apply');
  await page.locator('#retry-wait').waitFor({ timeout: 10_000 });
  assert.match(await text(page, '#retry-wait'), /throttling requests \(429\).*retried in \d+ s/);
  await screenshot(page, 'live-429-wait');
  await page.locator('#result').waitFor({ timeout: 40_000 });
  const statuses = (await armLog()).filter((e) => e.method === 'PATCH' && e.path === VMSS_FLEX).map((e) => e.status);
  assert.deepEqual(statuses.slice(-3), [429, 429, 200]);
});

test('403: without write permission the error names the missing authorization and the scope', async (t) => {
  const { page } = await signedIn(t);
  await onlyRole(t, 'Reader');
  await openWizard(page, VMSS_API, 'assign-user-assigned');
  await page.locator('#choices .choice').first().waitFor({ timeout: 20_000 });
  await page.check('#choices .choice >> nth=0 >> input');
  await page.click('#to-review');
  await page.check('#read-write');
  await page.click('#apply');
  await page.locator('#wizard .error').waitFor({ timeout: 20_000 });
  assert.equal(await page.getAttribute('#wizard .error', 'data-code'), 'AuthorizationFailed');
  const err = await text(page, '#wizard .error');
  assert.match(err, /Microsoft\.Compute\/virtualMachineScaleSets\/write/);
  assert.match(err, /vmss-api/);
  await screenshot(page, 'live-403');
});

test('a dropped connection while following the operation is resumed by reading the resource', async (t) => {
  const { page } = await signedIn(t);
  await openWizard(page, VMSS_WEB, 'remove-system-assigned');
  await page.locator('#requests').waitFor();
  const before = await text(page, '#identity-summary');
  // every poll of the resource drops for a while: more than the client's own retries
  await control('POST', 'faults', { kind: 'drop', count: 9, match: { method: 'GET', pathContains: 'vmss-web' } });
  await page.check('#read-write');
  await page.click('#apply');
  await page.locator('#result').waitFor({ timeout: 60_000 });
  assert.match(await text(page, '#result'), /resumed after a dropped connection/);
  await page.waitForFunction((b) => document.querySelector('#identity-summary')?.textContent !== b, before, { timeout: 20_000 });
  const drops = (await armLog()).filter((e) => e.method === 'GET' && e.path === VMSS_WEB && e.status === 0).length;
  assert.equal(drops, 9);
  // removal without orphans, signed in: vmss-web's system-assigned principal held two role assignments (the demo
  // seed's), listed through Resource Graph before the change and deleted after it
  assert.equal(await page.locator('#deletions li[data-deleted="true"]').count(), 2);
  const log = await armLog();
  const patch = log.findIndex((e) => e.method === 'PATCH' && e.path === VMSS_WEB);
  const dels = log.map((e, i) => ({ ...e, i })).filter((e) => e.method === 'DELETE' && e.path.includes('/providers/Microsoft.Authorization/roleAssignments/'));
  assert.deepEqual(dels.map((e) => e.status), [200, 200]);
  assert.ok(patch >= 0 && dels.every((e) => e.i > patch), 'deleted after the identity change');
  await screenshot(page, 'live-dropped');
});

test('directories from ARM /tenants: a guest switches to the other tenant and the lists follow with its token', async (t) => {
  const { page } = await signedIn(t);
  await control('DELETE', 'requests');
  await page.goto(`${app.url}subscriptions`);
  await page.locator('#tenants li').first().waitFor({ timeout: 20_000 });
  const rows = await page.$$eval('#tenants li', (els) => els.map((e) => [e.dataset.tenant, !!e.querySelector('.badge'), !!e.querySelector('button')]));
  assert.deepEqual(rows, [[TENANT_A, true, false], [TENANT_B, false, true]]);
  await screenshot(page, 'live-tenants');
  await page.click(`#tenants li[data-tenant="${TENANT_B}"] button`);
  await page.waitForFunction((b) => document.querySelector(`#tenants li[data-tenant="${b}"] .badge`), TENANT_B, { timeout: 20_000 });
  await page.locator('#subscriptions').waitFor({ timeout: 20_000 });
  // the lists were read again, with a token for tenant B (tid), which armsim accepted
  const gets = (await armLog()).filter((e) => e.method === 'GET' && e.path === '/subscriptions' && e.status === 200);
  assert.ok(gets.length >= 2, 'listed once per tenant');
  const tokens = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.includes('|accesstoken|')).map((k) => JSON.parse(sessionStorage.getItem(k)).realm));
  assert.ok(tokens.includes(TENANT_B), String(tokens));
  await screenshot(page, 'live-tenant-switched');
});

test('a token for another audience: armsim answers 401 and the page says what to fix', async (t) => {
  const { page } = await signedIn(t, appWrong.url);
  await control('DELETE', 'requests');
  await page.goto(`${appWrong.url}subscriptions`);
  const box = page.locator('[data-code="InvalidAuthenticationTokenAudience"]').first();
  await box.waitFor({ timeout: 20_000 });
  assert.equal(await box.getAttribute('data-status'), '401');
  assert.match(await box.innerText(), /another ARM endpoint \(audience\).*cloud \(and armAudience\)/s);
  assert.equal(await page.locator('[data-code]').count(), 1, 'one error box');
  const statuses = (await armLog()).filter((e) => e.method !== 'OPTIONS' && (e.path === '/subscriptions' || e.path === '/tenants')).map((e) => e.status);
  assert.ok(statuses.length >= 2 && statuses.every((s) => s === 401), `refused with a fresh token too: ${statuses}`);
  await screenshot(page, 'live-wrong-audience');
});

test('strict CORS is armsim\'s own: the app\'s origin is let through, an origin armsim does not list is refused at the preflight', async (t) => {
  // the same build and config on an origin missing from armsim's --cors-origin list
  const stranger = await startStaticServer({ dist: DIST, config: { cloud: 'Custom', clientId: CLIENT_ID, tenant: TENANT_A, authority: idp.origin, armEndpoint: arm.url, armAudience: ARM_AUDIENCE } });
  t.after(() => stranger.close());
  await control('DELETE', 'requests');
  const probe = (page) =>
    page.evaluate(
      (u) => fetch(`${u}/subscriptions?api-version=2022-12-01`, { headers: { authorization: 'Bearer not-a-token' } }).then((r) => r.status, (e) => `refused: ${e.name}`),
      arm.url,
    );
  const results = {};
  for (const [name, url] of [['app', app.url], ['stranger', stranger.url]]) {
    const ctx = await guardedPage(browser);
    await ctx.page.goto(url);
    await ctx.page.locator('#app *').first().waitFor({ timeout: 20_000 });
    results[name] = await probe(ctx.page);
    assert.deepEqual(ctx.external, [], 'requests off loopback');
    await ctx.context.close();
  }
  // the app's origin: preflight allowed, then armsim refused the token (401, readable: ACAO is on errors too)
  assert.deepEqual(results, { app: 401, stranger: 'refused: TypeError' });
  const log = (await armLog()).filter((e) => e.path === '/subscriptions');
  const seen = log.map((e) => {
    const h = Object.fromEntries(e.headers.map(([k, v]) => [k.toLowerCase(), v]));
    return `${e.method} ${h.origin === new URL(app.url).origin ? 'app' : h.origin === new URL(stranger.url).origin ? 'stranger' : h.origin} ${e.status}`;
  });
  // armsim answered both preflights; the stranger's GET was never sent
  assert.ok(seen.includes('OPTIONS app 200') && seen.includes('GET app 401'), seen.join(', '));
  assert.ok(seen.includes('OPTIONS stranger 200'), seen.join(', '));
  assert.ok(!seen.some((x) => x.startsWith('GET stranger')), seen.join(', '));
});

/** The create wizard's form, filled without detours (create.test.mjs checks its validation);
 * `target` is `scale-set` or `vm` (a VM's Instances step has no count or orchestration). */
async function createForm(page, name, target = 'scale-set') {
  await page.goto(`${app.url}create/${target}`);
  const pick = async (sel, value) => {
    await page.locator(`${sel} option[value="${value}"]`).waitFor({ state: 'attached', timeout: 20_000 });
    await page.selectOption(sel, value);
  };
  await pick('#create-subscription', SUB);
  await pick('#create-group', 'rg-web');
  await page.fill('#create-name', name);
  await pick('#create-location', 'westeurope');
  await page.click('#create-next');
  if (target === 'scale-set') await page.check('#orchestration-uniform');
  await page.check('#image-ubuntu');
  await pick('#create-size', 'Standard_B2s');
  if (target === 'scale-set') await page.fill('#create-capacity', '1');
  await page.click('#create-next');
  const subnets = await page.$$eval('#create-subnet option', (o) => o.map((x) => x.value).filter(Boolean));
  await page.selectOption('#create-subnet', subnets.find((s) => s.endsWith('/subnets/snet-web')));
  await page.click('#create-next');
  await page.fill('#create-admin', 'azureuser');
  await page.fill('#create-ssh', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheLiveTestsOnly e2e@test');
  await page.click('#create-next');
  await page.click('#create-next'); // identity: system-assigned (the default)
  assert.equal(await page.getAttribute('#create', 'data-step'), 'review');
  await page.check('#read-write');
}

test('create, signed in: 403 without write permission, then a throttled PUT waits visibly and the scale set is created', async (t) => {
  const { page } = await signedIn(t);
  await onlyRole(t, 'Reader');
  const name = 'vmss-live-created';
  await createForm(page, name);
  await page.click('#apply');
  await page.locator('#create [data-code="AuthorizationFailed"]').waitFor({ timeout: 20_000 });
  assert.match(await text(page, '#create [data-code="AuthorizationFailed"]'), /Microsoft\.Compute\/virtualMachineScaleSets\/write/);
  await screenshot(page, 'live-create-403');

  // the permission is granted; Azure then throttles the PUT twice
  await setRole('Owner');
  await control('POST', 'faults', { kind: 'throttle', count: 2, retryAfterSeconds: 1, match: { method: 'PUT' } });
  await page.click('#apply');
  await page.locator('#retry-wait').waitFor({ timeout: 10_000 });
  assert.match(await text(page, '#retry-wait'), /throttling requests \(429\)/);
  await page.locator('#result').waitFor({ timeout: 60_000 });
  assert.match(await text(page, '#result'), new RegExp(`Created in \\d+\\.\\d s: ${name}`));
  const puts = (await armLog()).filter((e) => e.method === 'PUT' && e.path.endsWith(`/virtualMachineScaleSets/${name}`)).map((e) => e.status);
  assert.deepEqual(puts, [403, 429, 429, 201]);
  await screenshot(page, 'live-create-done');
});

test('create a VM, signed in: 403 without write permission, a throttled PUT waits visibly, the VM is created with its identity, a second create is refused by If-None-Match', async (t) => {
  const { page } = await signedIn(t);
  await onlyRole(t, 'Reader');
  const name = 'vm-live-created';
  await createForm(page, name, 'vm');
  const req = await page.locator('#requests pre').innerText();
  assert.match(req, new RegExp(`^PUT \\S+/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft\\.Compute/virtualMachines/${name}\\?api-version=`));
  assert.match(req, /^If-None-Match: \*$/m);
  assert.equal(JSON.parse(req.slice(req.indexOf('\n{'))).identity.type, 'SystemAssigned');
  await page.click('#apply');
  await page.locator('#create [data-code="AuthorizationFailed"]').waitFor({ timeout: 20_000 });
  assert.match(await text(page, '#create [data-code="AuthorizationFailed"]'), /Microsoft\.Compute\/virtualMachines\/write/);
  await screenshot(page, 'live-create-vm-403');

  await setRole('Owner');
  await control('POST', 'faults', { kind: 'throttle', count: 2, retryAfterSeconds: 1, match: { method: 'PUT' } });
  await page.click('#apply');
  await page.locator('#retry-wait').waitFor({ timeout: 10_000 });
  await page.locator('#result').waitFor({ timeout: 60_000 });
  assert.match(await text(page, '#result'), new RegExp(`Created in \\d+\\.\\d s: ${name} with system-assigned`));
  const log = (await armLog()).filter((e) => e.method === 'PUT' && e.path.endsWith(`/virtualMachines/${name}`));
  assert.deepEqual(log.map((e) => e.status), [403, 429, 429, 201]);
  const h = Object.fromEntries(log[3].headers.map(([k, v]) => [k.toLowerCase(), v]));
  assert.equal(h['if-none-match'], '*');
  await screenshot(page, 'live-create-vm-done');

  // the VM's page shows its identity, read from armsim
  await page.click('#open-created');
  await page.locator('#facts').waitFor({ timeout: 20_000 });
  assert.equal(await text(page, '#identity-summary'), 'system-assigned');
  assert.match(await text(page, '#system-assigned'), /^Enabled\. Principal id [0-9a-f-]{36}/);

  // the same name again: 412, nothing replaced
  await createForm(page, name, 'vm');
  await page.click('#apply');
  await page.locator('#exists').waitFor({ timeout: 20_000 });
  assert.match(await text(page, '#exists'), /exists already: nothing was replaced/);
  const again = (await armLog()).filter((e) => e.method === 'PUT' && e.path.endsWith(`/virtualMachines/${name}`)).map((e) => e.status);
  assert.deepEqual(again.slice(-1), [412]);
});

test('identity page, signed in: id-web\'s users and role assignments from focused Resource Graph queries, a 429 waited out', async (t) => {
  const { page } = await signedIn(t);
  const token = await accessToken(page);
  const armGet = async (p) => (await (await fetch(`${arm.url}${p}`, { headers: { authorization: `Bearer ${token}` } })).json()).value;
  const ID_WEB = `/subscriptions/${SUB}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web`;
  // the oracle: ARM's own lists (other tests change the tenant), not Resource Graph
  const users = [];
  for (const s of [SUB, SUB2]) {
    for (const ty of ['virtualMachineScaleSets', 'virtualMachines']) {
      for (const r of await armGet(`/subscriptions/${s}/providers/Microsoft.Compute/${ty}?api-version=2024-11-01`)) {
        if (Object.keys(r.identity?.userAssignedIdentities ?? {}).some((k) => k.toLowerCase() === ID_WEB.toLowerCase())) users.push(r.name);
      }
    }
  }
  const principal = (await (await fetch(`${arm.url}${ID_WEB}?api-version=2023-01-31`, { headers: { authorization: `Bearer ${token}` } })).json()).properties.principalId;
  const roles = await armGet(`/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=${encodeURIComponent(`principalId eq '${principal}'`)}`);
  assert.ok(users.length >= 1 && roles.length >= 1, `${users} ${roles.length}`);
  const before = (await armLog()).length;
  await control('POST', 'faults', { kind: 'throttle', count: 1, retryAfterSeconds: 1, match: { pathContains: 'Microsoft.ResourceGraph' } });
  // a reload of the address: the page loads once the sign-in (restored by MSAL after the first render) is back
  await page.goto(`${app.url}${ID_WEB.slice(1)}`);
  await page.locator('#identity-complete').waitFor({ timeout: 30_000 });
  assert.match(await text(page, '#identity-complete'), /^Read from Azure Resource Graph just now\./);
  const shown = await page.$$eval('#identity-users tbody th', (th) => th.map((x) => x.textContent));
  assert.deepEqual(shown.sort(), users.sort());
  assert.equal(await page.textContent('#identity-principal-id'), principal);
  assert.equal(await page.locator('#identity-roles tbody tr').count(), roles.length);
  await screenshot(page, 'live-identity');
  // focused queries only (identity, users, role assignments, role names) and the 429 asked again
  const graph = (await armLog()).slice(before).filter((e) => e.method === 'POST' && e.path.includes('Microsoft.ResourceGraph'));
  assert.deepEqual(graph.map((e) => e.status), [429, 200, 200, 200, 200]);
  assert.ok(graph.some((e) => (e.body ?? '').includes('mv-expand ua = identity.userAssignedIdentities')), 'the users query');
  // the inventory, also opened by its address, loads once signed in; its id-web row leads to the same page
  await page.goto(`${app.url}inventory`);
  await page.locator('#inv-complete').waitFor({ timeout: 30_000 });
  await page.locator('#inv-identities tbody tr', { hasText: 'id-web' }).locator('th a').click();
  await page.locator('#identity-complete', { hasText: 'From the inventory loaded in this session.' }).waitFor({ timeout: 30_000 });
  assert.deepEqual((await page.$$eval('#identity-users tbody th', (th) => th.map((x) => x.textContent))).sort(), users.sort());
});
