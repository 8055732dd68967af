// Shared e2e plumbing: Debian's Chromium via playwright-core (headless, fresh profile, temp files
// inside the project), a loopback guard that fails any test whose page requests anything off
// loopback, console-problem capture, and a screenshot per test (e2e-artifacts/, git-ignored).
//
// The guard intercepts nothing: Playwright's request routing (page.route / context.route) would
// answer every CORS preflight itself, so a server's own CORS answers would never be tested. Instead
// Chromium resolves no name but loopback (--host-resolver-rules, which also catches IP literals), uses
// no proxy, and every request of the context (pages, pop-ups, frames) is recorded: one off loopback
// fails the test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = path.resolve(process.env.ARTIFACTS_DIR ?? path.join(ROOT, 'e2e-artifacts'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TMP = path.join(ROOT, 'target', 'e2e-tmp');

// Known, benign: trunk puts SRI `integrity` on <link rel="preload" as="fetch"> for the wasm,
// which Chromium ignores (crbug.com/981419). Everything else is a problem.
const ALLOWED_CONSOLE = [/The `integrity` attribute is currently ignored for preload destinations/];

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // no DNS at all: anything that is not loopback fails to resolve (IP literals included)
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1',
  // and no proxy from the environment, which would receive the requests unresolved
  '--no-proxy-server',
];

export async function launch(extraArgs = []) {
  fs.mkdirSync(TMP, { recursive: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    env: { ...process.env, TMPDIR: TMP },
  });
}

/** Whether a request URL stays on this machine (data:, blob:, about: never leave it). */
export function isLoopback(url) {
  if (!/^(https?|wss?):$/.test(url.protocol)) return true;
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

/**
 * A fresh context + page with the guard installed. Returns { context, page, problems, external, requests }:
 * `external` lists every request that tried to leave loopback (the browser could not resolve it),
 * `requests` every request of the context as `METHOD url`, `problems` console errors, page errors
 * and failed requests.
 */
export async function guardedPage(browser, { viewport = { width: 1100, height: 800 } } = {}) {
  const context = await browser.newContext({ viewport });
  const external = [];
  const problems = [];
  const requests = [];
  context.on('request', (r) => {
    requests.push(`${r.method()} ${r.url()}`);
    if (!isLoopback(new URL(r.url()))) external.push(r.url());
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    if (ALLOWED_CONSOLE.some((re) => re.test(m.text()))) return;
    problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // net::ERR_ABORTED is a request cut short by the test's own navigation or close (e.g. the MSAL
  // bundle still loading when the test moves on); anything else is a problem.
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText ?? '';
    if (why !== 'net::ERR_ABORTED') problems.push(`requestfailed: ${r.url()} ${why}`);
  });
  return { context, page, problems, external, requests };
}

/** Save a full-page screenshot as e2e-artifacts/<name>.png. */
export async function screenshot(page, name) {
  const file = path.join(ARTIFACTS, `${name.replace(/[^a-z0-9._-]+/gi, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
