// The app shell in real Chromium against the release build in dist/: the optimised module loads under
// the strict CSP, the scenario catalogue renders, MSAL loads after the first paint, nothing leaves
// loopback, no console errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startStaticServer } from '../scripts/static-server.mjs';
import { splitModules } from '../scripts/split-modules.mjs';
import { ROOT, launch, guardedPage, screenshot } from './lib/browser.mjs';

const DIST = path.resolve(process.env.DIST_DIR ?? path.join(ROOT, 'dist'));
const CONFIG = { cloud: 'AzureCloud', clientId: '', tenant: 'organizations', demo: true };
let server;
let browser;

before(async () => {
  server = await startStaticServer({ dist: DIST, config: CONFIG });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('the optimised build loads under the CSP and shows the shell; the pages load on first use', async () => {
  const all = fs.readdirSync(DIST).filter((f) => f.endsWith('.wasm')).sort();
  const shell = all.filter((f) => /^identity-wizard-[0-9a-f]+_bg\.wasm$/.test(f));
  // the split-off modules (src/lazy.rs) and the shared chunks their loader fetches with each
  const modules = splitModules(DIST);
  assert.deepEqual(modules.map((m) => m.name), ['bulk', 'create', 'inventory', 'pages', 'scripts']);
  for (const m of modules) assert.match(m.file, new RegExp(`^split_${m.name}-[0-9a-f]{16}\\.wasm$`));
  const chunks = all.filter((f) => /^chunk_\d+-[0-9a-f]{16}\.wasm$/.test(f));
  assert.equal(shell.length, 1, String(all));
  assert.deepEqual([...new Set(modules.flatMap((m) => m.chunks))].sort(), chunks, 'every chunk is fetched with some module');
  assert.deepEqual([...shell, ...modules.map((m) => m.file), ...chunks].sort(), all, 'nothing else');
  // what showing a page fetches: the shell first, then the pages module and its shared chunks
  const pages = modules.find((m) => m.name === 'pages');
  const wasm = [shell[0], ...[pages.file, ...pages.chunks].sort()];
  const { context, page, problems, external } = await guardedPage(browser);
  const fetchedWasm = [];
  let configFetches = 0;
  page.on('request', (r) => {
    const { pathname } = new URL(r.url());
    if (pathname.endsWith('.wasm')) fetchedWasm.push(path.basename(pathname));
    if (pathname === '/config.json') configFetches++;
  });
  const violations = [];
  await page.exposeFunction('__cspViolation', (v) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolation(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const response = await page.goto(server.url);
  const html = await response.text();
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  assert.match(html, /connect-src 'self' https:\/\/login\.microsoftonline\.com https:\/\/management\.azure\.com;/);

  await page.locator('#scenarios li.scenario').first().waitFor({ timeout: 20_000 });
  const slugs = await page.$$eval('#scenarios li.scenario', (els) => els.map((e) => e.dataset.slug));
  assert.ok(slugs.includes('enable-system-assigned') && slugs.includes('remove-legacy-extension'), String(slugs));
  assert.match(await page.textContent('#version'), /^identity-wizard v\d+\.\d+\.\d+$/);
  assert.equal(await page.textContent('h1'), 'identity-wizard');

  await page.waitForFunction(() => document.querySelector('#msal-status')?.textContent.includes('MSAL'), null, { timeout: 15_000 });
  assert.match(await page.textContent('#msal-status'), /^sign-in library: MSAL 5\.\d+\.\d+$/);
  await screenshot(page, 'shell');
  assert.deepEqual(fetchedWasm, [shell[0]], 'the start page loads the shell module only');
  assert.equal(configFetches, 1, 'config.json is read once (app and sign-in settings)');

  // pointing at a link to a page starts fetching the pages module (before any click); it is
  // fetched once however often pages are shown
  const link = page.locator('#scenarios li.scenario[data-slug="enable-system-assigned"] a', { hasText: 'Scripts only' });
  await link.hover();
  const deadline = Date.now() + 10_000;
  while (fetchedWasm.length < wasm.length && Date.now() < deadline) await page.waitForTimeout(50);
  assert.deepEqual([fetchedWasm[0], ...fetchedWasm.slice(1).sort()], wasm, 'hovering a link to a page fetches the pages module (not the inventory or bulk one)');
  assert.equal(new URL(page.url()).pathname, '/');
  await link.click();
  await page.locator('#wizard[data-step="snippets"] #sn-sub').waitFor({ timeout: 20_000 });
  assert.equal(new URL(page.url()).pathname, '/snippets/enable-system-assigned');
  await page.goBack();
  await page.locator('#scenarios li.scenario[data-slug="assign-user-assigned"] a', { hasText: 'Scripts only' }).click();
  await page.locator('#wizard[data-step="snippets"] #sn-sub').waitFor({ timeout: 20_000 });
  assert.deepEqual([fetchedWasm[0], ...fetchedWasm.slice(1).sort()], wasm, 'the pages module is fetched once, on first use');
  // the script generators come when scripts are first shown: the scripts module and the chunks
  // it needs that the pages module did not bring
  const scripts = modules.find((m) => m.name === 'scripts');
  const withScripts = [...new Set([...wasm, scripts.file, ...scripts.chunks])];
  await page.fill('#sn-sub', '11111111-1111-4111-8111-111111111111');
  await page.fill('#sn-rg', 'rg-web');
  await page.fill('#sn-name', 'vmss-web');
  await page.fill('#sn-ids', '/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web');
  await page.locator('#scripts #script-panel pre').waitFor({ timeout: 20_000 });
  assert.deepEqual([fetchedWasm[0], ...fetchedWasm.slice(1).sort()], [withScripts[0], ...withScripts.slice(1).sort()], 'the scripts module, once scripts are shown');
  assert.match(await page.textContent('#script-panel pre'), /Update-AzVmss/);
  assert.equal(fetchedWasm.filter((f) => f === scripts.file).length, 1);
  assert.deepEqual(violations, [], 'CSP violations');
  assert.deepEqual(problems, [], 'console errors or failed requests');
  assert.deepEqual(external, [], 'requests off loopback');
  await context.close();
});

test('the loopback guard and CSP really block: an off-loopback fetch is stopped and reported', async () => {
  const { context, page, external } = await guardedPage(browser);
  await page.goto(server.url);
  await page.locator('#scenarios').waitFor({ timeout: 20_000 });
  const outcome = await page.evaluate(() => fetch('https://example.com/x').then(() => 'sent', (e) => `blocked: ${e.message}`));
  assert.match(outcome, /^blocked/);
  // CSP blocks it before it reaches the network, so the guard may see nothing; an allowed origin
  // (management.azure.com) passes the CSP and must be stopped by the browser's resolver and recorded.
  const arm = await page.evaluate(() => fetch('https://management.azure.com/subscriptions').then(() => 'sent', (e) => `blocked: ${e.message}`));
  assert.match(arm, /^blocked/);
  assert.deepEqual(external, ['https://management.azure.com/subscriptions']);
  await context.close();
});

test('the guard intercepts nothing: a CORS preflight reaches the server, which decides', async () => {
  // two loopback origins without a policy: a page on A fetches from B, which answers preflights
  // itself (allowing A for /allowed only) and records what reached it
  const http = await import('node:http');
  const seen = [];
  const listen = (handler) => new Promise((r) => { const s = http.createServer(handler); s.listen(0, '127.0.0.1', () => r(s)); });
  const a = await listen((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>a</title>'));
  const aOrigin = `http://127.0.0.1:${a.address().port}`;
  const b = await listen((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers['access-control-request-method'] ?? ''}`.trim());
    const allow = req.headers.origin === aOrigin && req.url === '/allowed';
    res.writeHead(200, allow ? { 'access-control-allow-origin': aOrigin, 'access-control-allow-headers': 'x-test', 'access-control-allow-methods': 'PUT' } : {});
    res.end('ok');
  });
  const { context, page, external } = await guardedPage(browser);
  await page.goto(`${aOrigin}/`);
  const outcome = await page.evaluate(async (o) => {
    const put = (p) => fetch(o + p, { method: 'PUT', headers: { 'x-test': '1' } }).then((r) => r.status, () => 'refused');
    return [await put('/allowed'), await put('/refused')];
  }, `http://127.0.0.1:${b.address().port}`);
  a.close();
  b.close();
  assert.deepEqual(outcome, [200, 'refused']);
  assert.deepEqual(seen, ['OPTIONS /allowed PUT', 'PUT /allowed', 'OPTIONS /refused PUT'], 'both preflights reached the server; the refused PUT was never sent');
  assert.deepEqual(external, []);
  await context.close();
});

test('MSAL is pinned by its integrity: a tampered bundle is refused and sign-in says it is unavailable', async () => {
  const html = await (await fetch(server.url)).text();
  const [, integrity] = html.match(/<meta name="iw-integrity" data-src="\/msal-browser\.min\.js" content="(sha384-[^"]+)"/) ?? [];
  const expected = `sha384-${crypto.createHash('sha384').update(fs.readFileSync(path.join(DIST, 'msal-browser.min.js'))).digest('base64')}`;
  assert.equal(integrity, expected, 'index.html carries the sha384 of the copied bundle');
  const { context, page, problems } = await guardedPage(browser);
  await page.route('**/msal-browser.min.js', async (route) => {
    const response = await route.fetch();
    const body = Buffer.from(await response.body());
    body[body.length - 2] ^= 0x01; // one byte of the bundle changed on the way
    return route.fulfill({ response, body });
  });
  await page.goto(server.url);
  await page.waitForFunction(() => /could not be loaded/.test(document.querySelector('#msal-status')?.textContent ?? ''), null, { timeout: 20_000 });
  assert.equal(await page.getAttribute('script[data-loaded-src="/msal-browser.min.js"]', 'integrity'), expected);
  assert.equal(await page.evaluate(() => typeof window.msal), 'undefined', 'nothing of the tampered bundle ran');
  assert.ok(problems.some((p) => /integrity/i.test(p) && /msal-browser\.min\.js/.test(p)), problems.join('\n'));
  await context.close();
});

for (const file of ['msal-redirect-bridge.min.js', 'redirect-bridge.js']) {
  test(`the redirect bridge pins its scripts: a tampered ${file} is refused`, async () => {
    const bridge = await (await fetch(`${server.url}redirect.html`)).text();
    const expected = `sha384-${crypto.createHash('sha384').update(fs.readFileSync(path.join(DIST, file))).digest('base64')}`;
    assert.ok(bridge.includes(`<script src="/${file}" integrity="${expected}"></script>`), bridge);
    // untampered, the bridge runs: opened without a sign-in response, it says so
    const ok = await guardedPage(browser);
    await ok.page.goto(`${server.url}redirect.html`);
    await ok.page.waitForFunction(() => /could not be completed/.test(document.querySelector('#bridge-status')?.textContent ?? ''), null, { timeout: 15_000 });
    await ok.context.close();
    const { context, page, problems } = await guardedPage(browser);
    await page.route(`**/${file}`, async (route) => {
      const response = await route.fetch();
      const body = Buffer.from(await response.body());
      body[0] ^= 0x01;
      return route.fulfill({ response, body });
    });
    await page.goto(`${server.url}redirect.html`);
    await page.waitForTimeout(1500);
    assert.equal(await page.textContent('#bridge-status'), 'Completing sign-in…', 'the bridge did not run');
    assert.ok(problems.some((p) => /integrity/i.test(p) && p.includes(file)), problems.join('\n'));
    await context.close();
  });
}

// each page's module (and a part of a page loaded on its own: the scripts) fails once, then arrives
for (const [module, url, heading, fill, shown] of [
  ['pages', 'snippets/enable-system-assigned', 'This page could not be loaded', null, '#wizard[data-step="snippets"] #sn-sub'],
  ['create', 'create/scale-set', 'This page could not be loaded', null, '#create-title'],
  ['scripts', 'snippets/enable-system-assigned', 'The scripts could not be loaded', true, '#scripts #script-panel pre'],
]) {
  test(`the ${module} module fails to arrive: the page says so, and Try again loads it`, async () => {
    const { context, page, problems, external } = await guardedPage(browser);
    let refused = 0;
    await page.route(`**/split_${module}-*.wasm`, (route) => {
      if (refused++ === 0) return route.abort('connectionreset');
      return route.continue();
    });
    await page.goto(`${server.url}${url}`);
    if (fill) {
      await page.fill('#sn-sub', '11111111-1111-4111-8111-111111111111');
      await page.fill('#sn-rg', 'rg-web');
      await page.fill('#sn-name', 'vmss-web');
    }
    const alert = page.locator('section.error[role="alert"]');
    await alert.waitFor({ timeout: 20_000 });
    assert.equal(await alert.locator('h2').textContent(), heading);
    assert.match(await alert.textContent(), /Check the connection, then try again\./);
    await screenshot(page, `${module}-module-failed`);
    await alert.getByRole('button', { name: 'Try again' }).click();
    await page.locator(shown).waitFor({ timeout: 20_000 });
    assert.equal(await alert.count(), 0, 'the message is gone');
    assert.equal(refused, 2, 'one refused fetch, then one that arrived');
    assert.ok(problems.some((p) => new RegExp(`split_${module}-.*ERR_CONNECTION_RESET`).test(p)), problems.join('\n'));
    assert.deepEqual(external, []);
    await context.close();
  });
}

test('the pages module is pinned by its integrity: a tampered copy is refused', async () => {
  const { context, page, problems } = await guardedPage(browser);
  await page.route('**/split_pages-*.wasm', async (route) => {
    const response = await route.fetch();
    const body = Buffer.from(await response.body());
    body[body.length - 1] ^= 0xff; // one byte of the module changed on the way
    return route.fulfill({ response, body });
  });
  await page.goto(`${server.url}snippets/enable-system-assigned`);
  const alert = page.locator('section.error[role="alert"]');
  await alert.waitFor({ timeout: 20_000 });
  assert.equal(await alert.locator('h2').textContent(), 'This page could not be loaded');
  assert.equal(await page.locator('#wizard').count(), 0, 'nothing of the tampered module ran');
  assert.ok(problems.some((p) => /integrity/i.test(p)), problems.join('\n'));
  await context.close();
});

for (const [what, re] of [
  ['the shell module', /\/identity-wizard-[0-9a-f]+_bg\.wasm$/],
  ["the shell's JS", /\/identity-wizard-[0-9a-f]+\.js$/],
  ["the split-off modules' loader", /\/__wasm_split-[0-9a-f]+\.js$/],
]) {
  test(`${what} is pinned by its integrity too: a tampered copy never runs`, async () => {
    const { context, page, problems } = await guardedPage(browser);
    let tampered = 0;
    await page.route(re, async (route) => {
      const response = await route.fetch();
      const body = Buffer.from(await response.body());
      body[body.length - 1] ^= 0x01; // the last byte (a newline or the module's end)
      tampered++;
      return route.fulfill({ response, body });
    });
    await page.goto(server.url);
    await page.waitForTimeout(3000);
    assert.ok(tampered >= 1, 'the file was fetched');
    assert.equal(await page.locator('#scenarios').count(), 0, 'nothing of the tampered file ran');
    assert.ok(problems.some((p) => /integrity/i.test(p) && re.test(p.match(/https?:\/\/[^\s'"]+/g)?.find((u) => re.test(u)) ?? '')), problems.join('\n'));
    await context.close();
  });
}
