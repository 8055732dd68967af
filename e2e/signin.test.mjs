// Sign-in end to end: the real MSAL (loaded by the Rust app through its wasm-bindgen bindings) in
// headless Chromium against the local Entra-shaped OpenID provider (e2e/idp/idp.mjs, HTTPS with a
// throw-away CA made here) and a small ARM stand-in that verifies the token (e2e/idp/arm-check.mjs).
// Everything is started and stopped by this file. Every test fails on any request that leaves
// loopback, on console errors, and saves a screenshot per step into e2e-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startStaticServer } from '../scripts/static-server.mjs';
import { ROOT, launch, guardedPage, screenshot } from './lib/browser.mjs';
import { ARM_AUDIENCE, CLIENT_ID, PASSWORD, TENANT_A, TENANT_B, USERS, startIdp } from './idp/idp.mjs';
import { startArmCheck } from './idp/arm-check.mjs';

const DIST = path.resolve(process.env.DIST_DIR ?? path.join(ROOT, 'dist'));
const ALICE = 'alice@contoso.test';
let idp;
let check;
let app;
let appWrongAudience;
let appUnconfigured;
let browser;

before(async () => {
  idp = await startIdp();
  check = await startArmCheck({
    jwks: idp.jwks,
    issuers: { [TENANT_A]: idp.issuer(TENANT_A), [TENANT_B]: idp.issuer(TENANT_B) },
    audiences: [ARM_AUDIENCE],
    subscriptions: { [TENANT_A]: ['Contoso Production', 'Contoso Dev'], [TENANT_B]: ['Fabrikam Shared'] },
  });
  const config = { cloud: 'Custom', clientId: CLIENT_ID, tenant: TENANT_A, authority: idp.origin, armEndpoint: check.url, armAudience: ARM_AUDIENCE };
  app = await startStaticServer({ dist: DIST, config });
  // the same app configured for another cloud's ARM audience: its tokens are refused by this ARM
  appWrongAudience = await startStaticServer({ dist: DIST, config: { ...config, armAudience: 'https://management.usgovcloudapi.net' } });
  // no client id in config.json: the user sets it (and the tenant) in the settings panel
  appUnconfigured = await startStaticServer({ dist: DIST, config: { ...config, clientId: '' } });
  idp.registerApp(app.url, appWrongAudience.url, appUnconfigured.url);
  // trust exactly the provider's leaf key (narrower than ignoring every certificate error)
  browser = await launch([`--ignore-certificate-errors-spki-list=${idp.spki}`]);
});

after(async () => {
  await browser?.close();
  await Promise.all([app?.close(), appWrongAudience?.close(), appUnconfigured?.close(), check?.close(), idp?.close()]);
});

const re = (s) => new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`);

async function until(cond, ms = 20_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function open(b, url = app.url) {
  await b.page.goto(url);
  await b.page.locator('#sign-in, #account-menu').first().waitFor({ timeout: 30_000 });
}

async function fillLogin(p, username = ALICE, password = PASSWORD) {
  await p.locator('#username').waitFor({ timeout: 15_000 });
  await p.fill('#username', username);
  await p.fill('#password', password);
  await p.click('#submit');
}

async function popupSignIn(b, shot) {
  const [popup] = await Promise.all([b.page.waitForEvent('popup'), b.page.click('#sign-in')]);
  await popup.waitForURL(re(idp.origin));
  if (shot) await screenshot(popup, shot);
  await fillLogin(popup);
  await b.page.locator('#account-menu').waitFor({ timeout: 20_000 });
  if (!popup.isClosed()) await popup.waitForEvent('close', { timeout: 5_000 }).catch(() => {});
  assert.equal(popup.isClosed(), true, 'the bridge closes the pop-up');
}

async function openMenu(page) {
  if (!(await page.$eval('#account-menu', (d) => d.open))) await page.click('#account-summary');
}

async function checkArm(page) {
  await openMenu(page);
  await page.click('#check-arm');
  await page.locator('#auth-notice, #auth-error').first().waitFor({ timeout: 20_000 });
  return page.evaluate(() => ({
    notice: document.querySelector('#auth-notice')?.textContent ?? null,
    error: document.querySelector('#auth-error')?.textContent ?? null,
  }));
}

/** The access tokens in MSAL's cache (sessionStorage), and whether anything token-like is in localStorage. */
async function cachedTokens(page) {
  return page.evaluate(() => {
    const at = Object.keys(sessionStorage).filter((k) => k.includes('|accesstoken|')).map((k) => JSON.parse(sessionStorage.getItem(k)));
    const local = Object.keys(localStorage).filter((k) => /token|msal/i.test(k));
    return { at, local };
  });
}

function getJson(url) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca: idp.ca }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

/** Verify an access token with jose against the JWKS the provider publishes (fetched over TLS with its CA). */
async function verify(token, tenant) {
  const disco = await getJson(`${idp.issuer(tenant)}/.well-known/openid-configuration`);
  assert.equal(disco.issuer, idp.issuer(tenant));
  const jwks = await getJson(disco.jwks_uri);
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: idp.issuer(tenant), audience: ARM_AUDIENCE, algorithms: ['RS256'] });
  return { payload, header: decodeProtectedHeader(token) };
}

async function session(fn, { expectedProblems = [] } = {}) {
  const b = await guardedPage(browser);
  try {
    await fn(b);
    assert.deepEqual(b.external, [], 'requests off loopback');
    assert.deepEqual([...b.problems].sort(), [...expectedProblems].sort(), 'console errors or failed requests');
  } finally {
    await b.context.close();
  }
}

test('popup sign-in: account in the header, an ARM token verified against the JWKS, ARM access', async () => {
  await session(async (b) => {
    await open(b);
    assert.match(await b.page.textContent('#auth-status'), /^Signed out · Custom \(127\.0\.0\.1:\d+\)$/);
    await screenshot(b.page, 'signin-popup-1-signed-out');
    await popupSignIn(b, 'signin-popup-2-provider');
    await screenshot(b.page, 'signin-popup-3-signed-in');
    assert.equal(await b.page.textContent('#account-name'), USERS[ALICE].name);
    assert.match(await b.page.textContent('#account-cloud'), /^Custom \(127\.0\.0\.1:\d+\)$/);
    assert.equal(await b.page.getAttribute('#account-tenant', 'title'), TENANT_A);

    const { at, local } = await cachedTokens(b.page);
    assert.deepEqual(local, [], 'nothing token-like in localStorage');
    assert.equal(at.length, 1);
    assert.equal(at[0].target.toLowerCase(), `${ARM_AUDIENCE}/user_impersonation`);
    const { payload, header } = await verify(at[0].secret, TENANT_A);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(payload.scp, 'user_impersonation');
    assert.equal(payload.tid, TENANT_A);
    assert.equal(payload.oid, USERS[ALICE].oid);
    assert.equal(payload.azp, CLIENT_ID);

    const r = await checkArm(b.page);
    assert.equal(r.error, null);
    assert.equal(r.notice, `ARM access works: 2 subscription(s) visible in tenant ${TENANT_A}.`);
    assert.equal(check.received.at(-1).status, 200);
    assert.equal(check.received.at(-1).claims.jti, payload.jti, 'the app sent the cached token');
    await screenshot(b.page, 'signin-popup-4-arm-check');
    // PKCE S256 and the bridge page as redirect URI on the authorize request
    const authz = idp.requests.filter((q) => q.path.endsWith('/auth')).at(-1);
    const params = new URLSearchParams(authz.search);
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.equal(params.get('redirect_uri'), `${app.url}redirect.html`);
  });
});

test('redirect sign-in returns to the deep link it started from', async () => {
  await session(async (b) => {
    const deep = `${app.url}vmss/contoso-rg/web-01?tab=review#identities`;
    await open(b, deep);
    await b.page.click('#sign-in-redirect');
    await b.page.waitForURL(re(idp.origin));
    await screenshot(b.page, 'signin-redirect-1-provider');
    await fillLogin(b.page);
    await b.page.locator('#account-menu').waitFor({ timeout: 30_000 });
    await b.page.waitForURL(deep);
    assert.equal(b.page.url(), deep);
    assert.equal(await b.page.textContent('#account-name'), USERS[ALICE].name);
    assert.equal(await b.page.evaluate(() => sessionStorage.getItem('identity-wizard.return-to')), null, 'the stored deep link is consumed');
    await screenshot(b.page, 'signin-redirect-2-back-at-deep-link');
    const r = await checkArm(b.page);
    assert.match(r.notice ?? r.error, /^ARM access works: 2 subscription/);
  });
});

test('a wrong password stays on the provider page with its error', async () => {
  await session(async (b) => {
    await open(b);
    const grants = idp.grants().length;
    await b.page.click('#sign-in-redirect');
    await b.page.waitForURL(re(idp.origin));
    await fillLogin(b.page, ALICE, 'not-the-password');
    await b.page.locator('#login-error').waitFor();
    assert.match(await b.page.textContent('#login-error'), /account or password is incorrect/);
    assert.match(b.page.url(), new RegExp(`^${idp.origin.replace(/\./g, '\\.')}/${TENANT_A}/v2\\.0/interaction/`));
    assert.equal(idp.grants().length, grants, 'no token was issued');
    await screenshot(b.page, 'signin-wrong-password');
  });
});

test('silent renewal after the access token expired (browser clock moved 2 h): refresh-token grant, no pop-up', async () => {
  await session(async (b) => {
    await b.page.clock.install();
    await open(b);
    await popupSignIn(b);
    let popups = 0;
    b.context.on('page', () => popups++);
    const first = await checkArm(b.page);
    assert.match(first.notice, /^ARM access works/);
    const firstJti = check.received.at(-1).claims.jti;
    const grantsBefore = idp.grants().length;
    await b.page.clock.fastForward('02:00:00');
    const seen = check.received.length;
    await b.page.click('#check-arm');
    await until(() => check.received.length > seen);
    await b.page.locator('#auth-notice').waitFor();
    assert.match(await b.page.textContent('#auth-notice'), /^ARM access works: 2 subscription/);
    const last = check.received.at(-1);
    assert.equal(last.status, 200);
    assert.notEqual(last.claims.jti, firstJti, 'a new access token was used');
    assert.deepEqual(idp.grants().slice(grantsBefore), ['refresh_token']);
    assert.equal(popups, 0, 'renewed without user interaction');
    await screenshot(b.page, 'signin-silent-renewal');
  });
});

test('sign-out clears the cache, ends the provider session and returns to the app', async () => {
  await session(async (b) => {
    await open(b);
    await popupSignIn(b);
    await openMenu(b.page);
    await b.page.click('#sign-out');
    await b.page.waitForURL(re(app.url), { timeout: 20_000 });
    await b.page.locator('#sign-in').waitFor({ timeout: 30_000 });
    await screenshot(b.page, 'signin-signed-out');
    const left = await b.page.evaluate(() => Object.keys(sessionStorage).filter((k) => /\|(accesstoken|refreshtoken|idtoken)\|/.test(k)));
    assert.deepEqual(left, []);
    assert.ok(idp.requests.some((q) => q.path === `/${TENANT_A}/v2.0/session/end`), 'end-session endpoint called');
    // the provider session is gone: signing in again asks for the password
    await b.page.click('#sign-in-redirect');
    await b.page.waitForURL(re(idp.origin));
    await b.page.locator('#password').waitFor();
  });
});

test('tenant switch for a guest: a token for the other tenant, silently, kept across a reload', async () => {
  await session(async (b) => {
    await open(b);
    await popupSignIn(b);
    let popups = 0;
    b.context.on('page', () => popups++);
    await openMenu(b.page);
    await b.page.fill('#tenant-input', TENANT_B);
    await b.page.click('#switch-tenant');
    await b.page.waitForFunction((t) => document.querySelector('#account-tenant-full')?.textContent === t, TENANT_B, { timeout: 20_000 });
    assert.equal(await b.page.textContent('#auth-notice'), `Switched to tenant ${TENANT_B}.`);
    assert.equal(popups, 0, 'switched silently (refresh token at the other tenant)');
    await screenshot(b.page, 'signin-tenant-switched');
    const r = await checkArm(b.page);
    assert.equal(r.notice, `ARM access works: 1 subscription(s) visible in tenant ${TENANT_B}.`);
    const claims = check.received.at(-1).claims;
    assert.equal(claims.tid, TENANT_B);
    assert.equal(claims.iss, idp.issuer(TENANT_B));
    const tokenB = (await cachedTokens(b.page)).at.find((t) => t.realm === TENANT_B);
    assert.ok(tokenB, 'a cached token for tenant B');
    assert.equal((await verify(tokenB.secret, TENANT_B)).payload.oid, USERS[ALICE].oid);
    await b.page.reload();
    await b.page.locator('#account-menu').waitFor({ timeout: 30_000 });
    assert.equal(await b.page.getAttribute('#account-tenant', 'title'), TENANT_B);
    const again = await checkArm(b.page);
    assert.equal(again.notice, `ARM access works: 1 subscription(s) visible in tenant ${TENANT_B}.`);
    await screenshot(b.page, 'signin-tenant-after-reload');
  });
});

test('a token for the wrong audience: ARM answers 401 and the app says what to fix', async () => {
  await session(async (b) => {
    await open(b, appWrongAudience.url);
    await popupSignIn(b);
    const r = await checkArm(b.page);
    assert.equal(r.notice, null);
    assert.match(r.error, /^ARM refused the request \(401 InvalidAuthenticationTokenAudience\): The access token has been obtained for wrong audience or resource 'https:\/\/management\.usgovcloudapi\.net'/);
    // the one wording (arm-client's hint): what is wrong, what to change, the endpoint and the scope asked for
    assert.match(r.error, /issued for another ARM endpoint \(audience\) than this one accepts: check the cloud \(and armAudience\) in the app's configuration \(config\.json\), then sign in again\. This ARM endpoint is http:\/\/127\.0\.0\.1:\d+; the app asked for the scope https:\/\/management\.usgovcloudapi\.net\/user_impersonation\./);
    const last = check.received.slice(-2);
    assert.deepEqual(last.map((x) => x.code), ['InvalidAuthenticationTokenAudience', 'InvalidAuthenticationTokenAudience'], 'one retry with a fresh token, then the error');
    await screenshot(b.page, 'signin-wrong-audience');
  }, { expectedProblems: Array(2).fill('error: Failed to load resource: the server responded with a status of 401 (Unauthorized)') });
});

test('sign-in settings: a client id and tenant saved in the panel (localStorage) configure sign-in', async () => {
  await session(async (b) => {
    await b.page.goto(appUnconfigured.url);
    await b.page.waitForFunction(() => document.querySelector('#auth-status')?.textContent === 'Sign-in not configured', null, { timeout: 30_000 });
    assert.match(await b.page.textContent('#auth-notice'), /^Sign-in is not configured: set the application \(client\) id/);
    assert.equal(await b.page.$('#auth-error'), null, 'not configured is not an error');
    assert.equal(await b.page.$('#sign-in'), null);
    await b.page.click('#signin-settings summary');
    await b.page.fill('#settings-client-id', CLIENT_ID);
    await b.page.fill('#settings-tenant', TENANT_B);
    await screenshot(b.page, 'signin-settings-1-panel');
    await Promise.all([b.page.waitForEvent('load'), b.page.click('#settings-save')]);
    await b.page.locator('#sign-in').waitFor({ timeout: 30_000 });
    assert.deepEqual(JSON.parse(await b.page.evaluate(() => localStorage.getItem('identity-wizard.signin'))), { clientId: CLIENT_ID, tenant: TENANT_B });
    await popupSignIn(b);
    assert.equal(await b.page.getAttribute('#account-tenant', 'title'), TENANT_B, 'signed in to the tenant from the settings');
    const r = await checkArm(b.page);
    assert.equal(r.notice, `ARM access works: 1 subscription(s) visible in tenant ${TENANT_B}.`);
    await screenshot(b.page, 'signin-settings-2-signed-in');
  });
});

test('closing the sign-in pop-up: after MSAL\'s bridge timeout (clock moved 65 s) a text message, and sign-in works after', async () => {
  await session(async (b) => {
    await b.page.clock.install();
    await open(b);
    const [popup] = await Promise.all([b.page.waitForEvent('popup'), b.page.click('#sign-in')]);
    await popup.waitForURL(re(idp.origin));
    await popup.close();
    assert.equal(await b.page.$eval('#sign-in', (e) => e.disabled), true, 'busy while MSAL waits for the bridge');
    // MSAL v5 does not poll a closed pop-up on the bridge path: it gives up after popupBridgeTimeout (60 s)
    await b.page.clock.fastForward('01:05');
    await b.page.locator('#auth-error').waitFor({ timeout: 20_000 });
    assert.equal(await b.page.textContent('#auth-error'), 'The sign-in did not finish in time, or its window was closed. Try again.');
    assert.equal(await b.page.getAttribute('#auth-error', 'role'), 'alert');
    await screenshot(b.page, 'signin-popup-closed');
    await popupSignIn(b);
    assert.equal(await b.page.$('#auth-error'), null, 'the error is cleared by the next action');
  });
});

test('tenant switch to a tenant the user does not belong to: the provider refuses, the app says why and keeps the tenant', async () => {
  await session(async (b) => {
    await open(b);
    const [popup] = await Promise.all([b.page.waitForEvent('popup'), b.page.click('#sign-in')]);
    await fillLogin(popup, 'bob@contoso.test');
    await b.page.locator('#account-menu').waitFor({ timeout: 20_000 });
    await openMenu(b.page);
    await b.page.fill('#tenant-input', TENANT_B);
    await b.page.click('#switch-tenant');
    await b.page.locator('#auth-error').waitFor({ timeout: 30_000 });
    const text = await b.page.textContent('#auth-error');
    assert.match(text, /^Sign-in was refused \(invalid_grant\): This account is not a member or guest of that tenant\. \[AADSTS50020: User account 'bob@contoso\.test' from identity provider does not exist in tenant '33333333-3333-3333-3333-333333333333' and cannot access the application '22222222-2222-2222-2222-222222222222' in that tenant\.\]$/);
    assert.equal(await b.page.getAttribute('#account-tenant', 'title'), TENANT_A, 'still in the tenant it was in');
    await screenshot(b.page, 'signin-tenant-switch-refused');
    const r = await checkArm(b.page);
    assert.equal(r.notice, `ARM access works: 2 subscription(s) visible in tenant ${TENANT_A}.`);
    assert.equal(check.received.at(-1).claims.upn, 'bob@contoso.test');
  }, {
    expectedProblems: [
      // the provider's two refusals (refresh-token grant, then the code from the pop-up)
      ...Array(2).fill('error: Failed to load resource: the server responded with a status of 400 (Bad Request)'),
      // MSAL's hidden renewal iframe (tried between the two) is sandboxed with allow-scripts + allow-same-origin
      ...Array(2).fill('warning: An iframe which has both allow-scripts and allow-same-origin for its sandbox attribute can escape its sandboxing.'),
    ],
  });
});

test('keyboard only: sign in, open the account menu and check ARM access; axe finds no serious issue in the sign-in area', async () => {
  const axeSource = fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
  const axe = async (page) => {
    await page.evaluate(axeSource); // DevTools evaluation: not an inline script, so the page's CSP stays as it is
    const r = await page.evaluate(() => window.axe.run('#signin', { resultTypes: ['violations'] }));
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`);
  };
  const tabTo = async (page, id, max = 15) => {
    for (let i = 0; i < max; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate((x) => document.activeElement?.id === x, id)) return;
    }
    throw new Error(`#${id} not reached with Tab`);
  };
  await session(async (b) => {
    await open(b);
    assert.deepEqual(await axe(b.page), [], 'signed out');
    await tabTo(b.page, 'sign-in');
    const [popup] = await Promise.all([b.page.waitForEvent('popup'), b.page.keyboard.press('Enter')]);
    await fillLogin(popup);
    await b.page.locator('#account-menu').waitFor({ timeout: 20_000 });
    await tabTo(b.page, 'account-summary');
    await b.page.keyboard.press('Enter');
    assert.equal(await b.page.$eval('#account-menu', (d) => d.open), true, 'Enter opens the menu');
    await tabTo(b.page, 'check-arm');
    await b.page.keyboard.press('Enter');
    await b.page.locator('#auth-notice').waitFor({ timeout: 20_000 });
    assert.match(await b.page.textContent('#auth-notice'), /^ARM access works/);
    assert.deepEqual(await axe(b.page), [], 'signed in, menu open');
    await screenshot(b.page, 'signin-keyboard');
  });
});
