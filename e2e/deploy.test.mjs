// The security headers as a deployment sends them, from the one policy (scripts/csp.mjs) that
// scripts/build turned into dist.nginx.conf and dist/staticwebapp.config.json: the production build
// (dist/) served by Debian's real nginx (an unprivileged process on a loopback port, with a temporary
// prefix whose server block includes the generated snippet) in Chromium; the serve command's own
// server; and the Static Web Apps config checked against its documented fields and fallback rules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { securityHeaders, ASSET_EXTENSIONS } from '../scripts/csp.mjs';
import { startStaticServer } from '../scripts/static-server.mjs';
import { ROOT, launch, guardedPage, screenshot } from './lib/browser.mjs';

const DIST = path.resolve(process.env.DIST_DIR ?? path.join(ROOT, 'dist'));
const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const SOURCE_CONFIG = JSON.parse(fs.readFileSync(path.join(ROOT, 'static/config.json'), 'utf8'));
const SUB = '11111111-1111-4111-8111-111111111111';
// a deep link whose last segment looks like a file name: it is a route all the same
const DEEP = `/subscriptions/${SUB}/resourceGroups/rg.prod`;
// what scripts/build wrote must be exactly the policy for the build and its source config
const EXPECTED = securityHeaders(fs.readFileSync(path.join(DIST, 'index.html'), 'utf8'), SOURCE_CONFIG);

let nginx; // { url, proc, tmp }
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

async function startNginx() {
  const tmp = fs.mkdtempSync(path.join(ROOT, 'target', 'e2e-tmp', 'nginx-'));
  const port = await freePort();
  const conf = path.join(tmp, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${tmp}/nginx.pid;
error_log ${tmp}/error.log warn;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log ${tmp}/access.log;
    client_body_temp_path ${tmp}/body;
    proxy_temp_path ${tmp}/proxy;
    fastcgi_temp_path ${tmp}/fastcgi;
    uwsgi_temp_path ${tmp}/uwsgi;
    scgi_temp_path ${tmp}/scgi;
    server {
        listen 127.0.0.1:${port};
        server_name localhost;
        root ${DIST};
        include ${DIST}.nginx.conf;
    }
}
`,
  );
  // never as root: as nobody when the tests run as root (it reads the build and writes only in tmp)
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  if (asNobody.uid) {
    fs.chmodSync(tmp, 0o755);
    fs.chownSync(tmp, asNobody.uid, asNobody.gid);
  }
  const proc = spawn(NGINX, ['-p', tmp, '-c', conf, '-e', `${tmp}/error.log`], { stdio: ['ignore', 'inherit', 'inherit'], ...asNobody });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.end(() => resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) break;
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 100))]);
    if (code !== undefined || Date.now() > deadline) {
      const log = fs.existsSync(`${tmp}/error.log`) ? fs.readFileSync(`${tmp}/error.log`, 'utf8') : '';
      throw new Error(`nginx did not start (exit ${code}): ${log}`);
    }
  }
  return { url: `http://127.0.0.1:${port}`, proc, tmp, exited, asNobody };
}

before(async () => {
  assert.ok(fs.existsSync(`${DIST}.nginx.conf`), `${DIST}.nginx.conf: run scripts/build`);
  nginx = await startNginx();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  if (nginx) {
    nginx.proc.kill('SIGQUIT');
    await nginx.exited;
    fs.rmSync(nginx.tmp, { recursive: true, force: true });
  }
});

/** The headers of `set` as a response carries them. */
function assertHeaders(res, set, what) {
  for (const [k, v] of Object.entries(set)) assert.equal(res.headers.get(k), v, `${what}: ${k}`);
}

test('nginx with the generated snippet: the headers on every kind of response, the SPA fallback, 404 for missing files', async () => {
  const index = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
  assert.match(EXPECTED.page['Content-Security-Policy'], /; frame-ancestors 'none'$/);
  assert.match(EXPECTED.bridge['Content-Security-Policy'], /; frame-ancestors 'self'$/);
  for (const p of ['/', '/index.html', DEEP, '/snippets/enable-system-assigned', '/create/scale-set']) {
    const res = await fetch(nginx.url + p);
    assert.equal(res.status, 200, p);
    assert.match(res.headers.get('content-type'), /^text\/html/, p);
    assert.equal(await res.text(), index, `${p} is index.html`);
    assertHeaders(res, EXPECTED.page, p);
  }
  const bridge = await fetch(`${nginx.url}/redirect.html`);
  assert.equal(bridge.status, 200);
  assert.match(await bridge.text(), /<script src="\/msal-redirect-bridge\.min\.js" integrity="sha384-/);
  assertHeaders(bridge, EXPECTED.bridge, '/redirect.html');
  const wasm = fs.readdirSync(DIST).find((f) => f.endsWith('.wasm'));
  for (const [file, type] of [[wasm, 'application/wasm'], ['msal-browser.min.js', /javascript/], ['config.json', 'application/json']]) {
    const res = await fetch(`${nginx.url}/${file}`);
    assert.equal(res.status, 200, file);
    if (typeof type === 'string') assert.equal(res.headers.get('content-type'), type, file);
    else assert.match(res.headers.get('content-type'), type, file);
    assertHeaders(res, EXPECTED.page, file);
  }
  for (const p of ['/missing.js', '/split_pages-0000.wasm', '/style-0.css', '/staticwebapp.config.json', '/.trunk-lock']) {
    const res = await fetch(nginx.url + p);
    assert.equal(res.status, 404, p);
    assertHeaders(res, EXPECTED.page, `${p} (404)`);
  }
  assert.equal(fs.readFileSync(`${nginx.tmp}/access.log`, 'utf8').split('\n').filter(Boolean).length, 14, 'nginx answered them');
});

test('nginx: the app runs under the header policy; a deep link falls back to the app; only the bridge may be framed, and only by the page', async (t) => {
  const ctx = await guardedPage(browser);
  t.after(() => ctx.context.close());
  const { page, problems, external } = ctx;
  const violations = [];
  await page.exposeFunction('__cspViolation', (v) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolation(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${nginx.url}/`);
  await page.locator('#scenarios li.scenario').first().waitFor({ timeout: 20_000 });
  await page.waitForFunction(() => /MSAL \d/.test(document.querySelector('#msal-status')?.textContent ?? ''), null, { timeout: 15_000 });
  // the late-loaded MSAL carried its integrity
  assert.match(await page.getAttribute('script[data-loaded-src="/msal-browser.min.js"]', 'integrity'), /^sha384-[A-Za-z0-9+/]+=*$/);

  const res = await page.goto(`${nginx.url}/snippets/enable-system-assigned`);
  assert.equal(res.status(), 200);
  await page.locator('#wizard[data-step="snippets"] #sn-sub').waitFor({ timeout: 20_000 });
  await page.goto(nginx.url + DEEP);
  await page.locator('#app *').first().waitFor({ timeout: 20_000 });
  assert.equal(new URL(page.url()).pathname, DEEP, 'the app took the deep link');
  await screenshot(page, 'nginx-deep-link');
  assert.deepEqual(violations, [], 'CSP violations');
  assert.deepEqual(problems, [], 'console errors or failed requests');

  // frame-ancestors (a header, never a <meta>): the page itself may frame the bridge, nothing may frame the page
  const framed = await page.evaluate(async () => {
    const load = (src) =>
      new Promise((resolve) => {
        const f = document.createElement('iframe');
        f.src = src;
        f.onload = () => {
          let doc = null;
          try {
            doc = f.contentDocument;
          } catch {
            /* an error page is cross-origin */
          }
          resolve(doc?.querySelector('#bridge-status') ? 'bridge' : doc?.querySelector('#app') ? 'app' : 'blocked');
        };
        document.body.append(f);
      });
    return { bridge: await load('/redirect.html'), page: await load('/') };
  });
  assert.deepEqual(framed, { bridge: 'bridge', page: 'blocked' });
  assert.ok(problems.some((p) => /frame-ancestors 'none'/.test(p)), problems.join('\n'));
  assert.deepEqual(external, [], 'requests off loopback');
});

test("the serve command's server sends the same headers and fallback", async () => {
  const server = await startStaticServer({ dist: DIST, config: SOURCE_CONFIG });
  try {
    const index = await fetch(server.url);
    const { 'Cache-Control': _, ...page } = EXPECTED.page; // it never caches (a development server)
    assertHeaders(index, page, '/');
    assert.equal(index.headers.get('cache-control'), 'no-store');
    const deep = await fetch(server.url + DEEP.slice(1));
    assert.equal(deep.status, 200);
    assert.equal(await deep.text(), await (await fetch(server.url)).text());
    const { 'Cache-Control': __, ...bridge } = EXPECTED.bridge;
    assertHeaders(await fetch(`${server.url}redirect.html`), bridge, '/redirect.html');
    for (const p of ['missing.js', 'x.wasm', 'staticwebapp.config.json', '.hidden']) assert.equal((await fetch(server.url + p)).status, 404, p);
  } finally {
    await server.close();
  }
});

// The documented shape of staticwebapp.config.json (learn.microsoft.com "Configure Azure Static Web
// Apps", and the schema it links, aka.ms/swa/config-schema): the members and their types.
const SWA_TOP = new Set(['routes', 'navigationFallback', 'responseOverrides', 'globalHeaders', 'mimeTypes', 'networking', 'forwardingGateway', 'auth', 'platform', 'trailingSlash']);
const SWA_ROUTE = new Set(['route', 'methods', 'rewrite', 'redirect', 'statusCode', 'headers', 'allowedRoles']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

function checkSwaShape(c) {
  const errors = [];
  const strings = (o, where) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) errors.push(`${where}: not an object`);
    else for (const [k, v] of Object.entries(o)) if (typeof v !== 'string') errors.push(`${where}.${k}: not a string`);
  };
  for (const k of Object.keys(c)) if (!SWA_TOP.has(k)) errors.push(`unknown member ${k}`);
  if ('globalHeaders' in c) strings(c.globalHeaders, 'globalHeaders');
  if ('mimeTypes' in c) {
    strings(c.mimeTypes, 'mimeTypes');
    for (const k of Object.keys(c.mimeTypes)) if (!k.startsWith('.')) errors.push(`mimeTypes.${k}: not an extension`);
  }
  for (const [i, r] of (c.routes ?? []).entries()) {
    for (const k of Object.keys(r)) if (!SWA_ROUTE.has(k)) errors.push(`routes[${i}]: unknown member ${k}`);
    if (typeof r.route !== 'string' || !r.route.startsWith('/')) errors.push(`routes[${i}].route: a path is required`);
    if ('rewrite' in r && 'redirect' in r) errors.push(`routes[${i}]: rewrite and redirect exclude each other`);
    if ('headers' in r) strings(r.headers, `routes[${i}].headers`);
    for (const m of r.methods ?? []) if (!METHODS.has(m)) errors.push(`routes[${i}].methods: ${m}`);
  }
  const nf = c.navigationFallback;
  if (nf) {
    for (const k of Object.keys(nf)) if (k !== 'rewrite' && k !== 'exclude') errors.push(`navigationFallback: unknown member ${k}`);
    if (typeof nf.rewrite !== 'string') errors.push('navigationFallback.rewrite is required');
    if (!Array.isArray(nf.exclude ?? []) || (nf.exclude ?? []).some((e) => typeof e !== 'string')) errors.push('navigationFallback.exclude: strings');
  }
  return errors;
}

/** A Static Web Apps route pattern as documented: `*` wildcards, `{a,b}` extension lists. */
function swaPattern(p) {
  const re = p.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\{([^}]*)\}/g, (_, alts) => `(?:${alts.split(',').join('|')})`);
  return new RegExp(`^${re}$`);
}

test('staticwebapp.config.json: the documented shape, the same headers, the fallback for routes only', () => {
  const c = JSON.parse(fs.readFileSync(path.join(DIST, 'staticwebapp.config.json'), 'utf8'));
  assert.deepEqual(checkSwaShape(c), []);
  // the checker itself refuses what the documentation does not allow
  assert.deepEqual(checkSwaShape({ navigationFallback: { exclude: 1, fallback: 'x' }, routes: [{ rewrite: '/a', redirect: '/b' }], globalHeader: {} }).length, 6);
  assert.deepEqual(c.globalHeaders, EXPECTED.page);
  const bridgeRoute = c.routes.find((r) => r.route === '/redirect.html');
  // route headers replace the global ones of the same name
  assert.deepEqual({ ...c.globalHeaders, ...bridgeRoute.headers }, EXPECTED.bridge);
  assert.equal(c.navigationFallback.rewrite, '/index.html');
  const excluded = (p) => c.navigationFallback.exclude.some((e) => swaPattern(e).test(p));
  for (const f of fs.readdirSync(DIST).filter((n) => !n.endsWith('.html'))) {
    assert.ok(ASSET_EXTENSIONS.includes(path.extname(f).slice(1)), `${f}: an asset type`);
    assert.ok(excluded(`/${f}`), `/${f} is excluded from the fallback (a missing copy is a 404)`);
  }
  for (const p of ['/', DEEP, '/snippets/enable-system-assigned', '/log']) assert.ok(!excluded(p), `${p} falls back to the app`);
  assert.equal(c.mimeTypes['.wasm'], 'application/wasm');
});
