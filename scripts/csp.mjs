// The one source of the app's security policy: the Content-Security-Policy, the other security
// headers, the Subresource Integrity of every script, and the server configs that send them.
//
//   node scripts/csp.mjs [dist] [static/config.json]
// finishes a trunk build in place (scripts/build runs it for dist/ and dist-demo/):
//   - dist/index.html: the IW-CSP comment becomes a <meta http-equiv> policy: script-src 'self' + the
//     sha256 of every inline script trunk wrote (+ 'wasm-unsafe-eval' for the modules), connect-src
//     'self' + the configured authority and ARM endpoint only; the IW-SRI comment becomes the sha384 of
//     the scripts the app loads later (MSAL, read by src/loader.rs) and an import map with the sha384 of
//     the JS modules; trunk's module loader fetches the shell's wasm with its sha384;
//   - dist/redirect.html: its policy, and integrity="sha384-…" on both its scripts;
//   - dist/staticwebapp.config.json: the headers and the SPA fallback for Azure Static Web Apps;
//   - <dist>.nginx.conf (beside dist/, never served): the same for nginx, to include in a server block.
// The serve and e2e servers use it as a module (injectCsp, headersFor) with their own config.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLOUDS = JSON.parse(fs.readFileSync(path.join(ROOT, 'crates/identity-core/clouds.json'), 'utf8')).clouds;

/** Scripts the app adds itself after the first paint (src/lib.rs MSAL_SRC), pinned through index.html. */
export const LATE_SCRIPTS = ['/msal-browser.min.js'];
/** Never followed: the page's URLs (deep links name subscriptions and resources) stay on this origin. */
export const REFERRER_POLICY = 'no-referrer';
/** The redirect-bridge page: scripts from this origin only (both pinned by integrity), nothing else. */
export const BRIDGE_CSP = "default-src 'none'; script-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'";
/** Paths that are files, never the SPA's routes: a missing one is a 404, not index.html. */
export const ASSET_EXTENSIONS = ['js', 'mjs', 'wasm', 'css', 'json', 'map', 'png', 'svg', 'ico', 'txt', 'webmanifest'];

/**
 * Whether `hostPort` (`host[:port]` as written in a URL) is this machine: localhost, an IPv4 address
 * in 127.0.0.0/8 or [::1] — spelled exactly so, as the app checks it (src/auth/config.rs `is_loopback`).
 */
export function isLoopback(hostPort) {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(hostPort.toLowerCase());
  if (!m) return false;
  const host = m[1];
  return host === 'localhost' || host === '[::1]' || host === '[0:0:0:0:0:0:0:1]' || /^127(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(host);
}

/** The origin of a configured endpoint: https, or http on this machine only (as the app itself checks). */
export function endpointOrigin(field, value) {
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${field} '${value}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${field} '${value}' is not an http(s) URL`);
  // the host as written (the URL parser would turn 127.1 into 127.0.0.1; the app does not)
  const written = String(value).trim().replace(/^[a-z]+:\/\//i, '').split(/[/?#\\]/)[0];
  if (url.protocol === 'http:' && !isLoopback(written)) {
    throw new Error(`${field} '${value}' uses http, which is allowed only on this machine (localhost, 127.0.0.0/8, [::1]); use https`);
  }
  return url.origin;
}

/** Origins the page may connect to, from a config ({cloud, authority?, armEndpoint?}). */
export function connectOrigins(config) {
  const cloud = CLOUDS.find((c) => c.name.toLowerCase() === String(config.cloud ?? 'AzureCloud').toLowerCase());
  const authority = config.authority || cloud?.authority;
  const arm = config.armEndpoint || cloud?.armEndpoint;
  if (!authority || !arm) throw new Error(`unknown cloud ${config.cloud} and no authority/armEndpoint given`);
  return { authority: endpointOrigin('authority', authority), arm: endpointOrigin('armEndpoint', arm) };
}

/** sha256 source expressions of the inline <script> elements of an HTML document. */
export function inlineScriptHashes(html) {
  const hashes = [];
  for (const m of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
    hashes.push(`'sha256-${crypto.createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
  }
  return hashes;
}

/** The page's policy text (as in the <meta>; headersFor adds frame-ancestors, which a <meta> cannot carry). */
export function cspFor(html, config) {
  const { authority, arm } = connectOrigins(config);
  return [
    "default-src 'none'",
    `script-src 'self' 'wasm-unsafe-eval' ${inlineScriptHashes(html).join(' ')}`.trim(),
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${authority} ${arm}`,
    // the hidden-iframe token renewal: the authority, and the redirect-bridge page it returns to
    `frame-src 'self' ${authority}`,
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
  ].join('; ');
}

/**
 * The HTTP response headers, by kind: `page` (index.html, every SPA route and every asset) and
 * `bridge` (/redirect.html, which MSAL's hidden-iframe renewal loads in a frame of the page itself).
 * `html` is the built index.html (its inline script hashes), `config` decides connect-src.
 */
export function securityHeaders(html, config) {
  const common = {
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': REFERRER_POLICY,
    // not-hashed files (index.html, MSAL, the bridge) are revalidated: a stale cached copy would
    // fail its integrity after an upgrade
    'Cache-Control': 'no-cache',
  };
  return {
    page: { 'Content-Security-Policy': `${cspFor(html, config)}; frame-ancestors 'none'`, ...common },
    bridge: { 'Content-Security-Policy': `${BRIDGE_CSP}; frame-ancestors 'self'`, ...common },
  };
}

/** Which set of `securityHeaders` a request path gets. */
export function headersFor(headers, pathname) {
  return pathname === '/redirect.html' ? headers.bridge : headers.page;
}

/** index.html with the IW-CSP placeholder (or a previous CSP meta) replaced by the policy. */
export function injectCsp(html, config) {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${cspFor(html, config)}" />`;
  const placeholder = /<!-- IW-CSP:[\s\S]*?-->|<meta http-equiv="Content-Security-Policy"[^>]*>/;
  if (!placeholder.test(html)) throw new Error('index.html has no IW-CSP placeholder');
  return html.replace(placeholder, meta);
}

/** `sha384-…` of a file's bytes. */
export function sri(bytes) {
  return `sha384-${crypto.createHash('sha384').update(bytes).digest('base64')}`;
}

/**
 * index.html with the IW-SRI placeholder (or what it became before) replaced by the integrity of
 * the late-loaded scripts and an import map with the integrity of the JS modules, from the files in
 * `dist`.
 */
export function pinIndex(html, dist) {
  const tags = [];
  for (const src of LATE_SCRIPTS) {
    tags.push(`<meta name="iw-integrity" data-src="${src}" content="${sri(fs.readFileSync(path.join(dist, src)))}" />`);
  }
  // The JS modules — trunk's wasm-bindgen JS and the split-off modules' loader it imports — are
  // pinned by an import map's integrity, which holds for every import of them (a modulepreload's
  // integrity alone does not: an import that wins the race fetches the module unchecked).
  const modules = fs.readdirSync(dist).filter((n) => /^(__wasm_split|identity-wizard)-[0-9a-f]+\.js$/.test(n)).sort();
  const integrity = Object.fromEntries(modules.map((f) => [`/${f}`, sri(fs.readFileSync(path.join(dist, f)))]));
  if (modules.length) tags.push(`<script type="importmap">${JSON.stringify({ integrity })}</script>`);
  const block = `<!-- IW-SRI -->${tags.join('')}<!-- /IW-SRI -->`;
  const placeholder = /<!-- IW-SRI:[\s\S]*?-->|<!-- IW-SRI -->[\s\S]*?<!-- \/IW-SRI -->/;
  if (!placeholder.test(html)) throw new Error('index.html has no IW-SRI placeholder');
  return html.replace(placeholder, block);
}

/**
 * index.html with trunk's module loader fetching the shell's wasm with its integrity: trunk only
 * puts it on a <link rel=preload as=fetch>, which Chromium ignores for verification (crbug.com/981419),
 * and wasm-bindgen's init then fetches the module unchecked. The loader is an inline script, so its
 * CSP hash is computed after this.
 */
export function pinShell(html, dist) {
  const init = /module_or_path: (?:'(\/[^']+_bg\.wasm)'|fetch\('(\/[^']+_bg\.wasm)', \{ integrity: '[^']*' \}\))/;
  const m = html.match(init);
  if (!m) throw new Error("index.html: no trunk loader with module_or_path: '/…_bg.wasm'");
  const src = m[1] ?? m[2];
  const integrity = sri(fs.readFileSync(path.join(dist, src)));
  return html.replace(init, `module_or_path: fetch('${src}', { integrity: '${integrity}' })`);
}

/** redirect.html with its policy and integrity="…" on each same-origin <script src>, from the files in `dist`. */
export function pinBridge(html, dist) {
  let n = 0;
  const out = html
    .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, `<meta http-equiv="Content-Security-Policy" content="${BRIDGE_CSP}" />`)
    .replace(/<script src="(\/[^"]+)"[^>]*><\/script>/g, (_, src) => {
      n++;
      return `<script src="${src}" integrity="${sri(fs.readFileSync(path.join(dist, src)))}"></script>`;
    });
  if (n === 0) throw new Error('redirect.html has no <script src="/…"> to pin');
  return out;
}

function nginxValue(v) {
  if (/["$\\\n]/.test(v)) throw new Error(`a header value nginx cannot carry as is: ${v}`);
  return `"${v}"`;
}

/** An nginx snippet for a server block whose root is the build: the headers and the SPA fallback. */
export function nginxConf(headers, { source = 'static/config.json' } = {}) {
  const add = (set) => Object.entries(set).map(([k, v]) => `    add_header ${k} ${nginxValue(v)} always;`).join('\n');
  const exts = ASSET_EXTENSIONS.filter((e) => e !== 'wasm').join('|');
  return `# identity-wizard: security headers and SPA fallback for nginx. Generated by scripts/build
# (scripts/csp.mjs) from ${source}: build again rather than edit. Include it inside the server
# block that serves the build, after its root, e.g.
#   server { listen 443 ssl; server_name …; root /srv/identity-wizard/dist; include /etc/nginx/identity-wizard.conf; }
# (nginx does not merge add_header into a location that has its own, so every location lists them all.)
index index.html;

# MSAL v5's redirect bridge: framed by the page itself for the hidden-iframe token renewal
location = /redirect.html {
    try_files $uri =404;
${add(headers.bridge)}
}
location = /staticwebapp.config.json {
    return 404;
${add(headers.page)}
}
# no dot-files (nothing of the build is one)
location ~ /\\. {
    return 404;
${add(headers.page)}
}
# files: a missing one is a 404, never the app
location ~ \\.wasm$ {
    types { }
    default_type application/wasm;
    try_files $uri =404;
${add(headers.page)}
}
location ~ \\.(?:${exts})$ {
    try_files $uri =404;
${add(headers.page)}
}
# everything else is a route of the app (deep links such as /subscriptions/…): index.html
location / {
    try_files $uri /index.html;
${add(headers.page)}
}
`;
}

/** staticwebapp.config.json for Azure Static Web Apps: the same headers and fallback. */
export function swaConfig(headers) {
  return {
    globalHeaders: headers.page,
    // route headers replace the global header of the same name
    routes: [{ route: '/redirect.html', headers: headers.bridge }],
    navigationFallback: { rewrite: '/index.html', exclude: [`/*.{${ASSET_EXTENSIONS.join(',')}}`] },
    mimeTypes: { '.wasm': 'application/wasm' },
  };
}

/** Finish a build in `dist` for `config` (see the top of this file). Returns what was written. */
export function finishBuild(dist, config, { source } = {}) {
  dist = path.resolve(dist);
  const indexFile = path.join(dist, 'index.html');
  const index = injectCsp(pinShell(pinIndex(fs.readFileSync(indexFile, 'utf8'), dist), dist), config);
  fs.writeFileSync(indexFile, index);
  const bridgeFile = path.join(dist, 'redirect.html');
  fs.writeFileSync(bridgeFile, pinBridge(fs.readFileSync(bridgeFile, 'utf8'), dist));
  const headers = securityHeaders(index, config);
  const swa = path.join(dist, 'staticwebapp.config.json');
  fs.writeFileSync(swa, `${JSON.stringify(swaConfig(headers), null, 2)}\n`);
  const nginx = `${dist}.nginx.conf`;
  fs.writeFileSync(nginx, nginxConf(headers, { source }));
  return { index: indexFile, bridge: bridgeFile, swa, nginx, headers };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let dist = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist'));
  if (dist.endsWith('.html')) dist = path.dirname(dist);
  const configFile = process.argv[3] ?? path.join(ROOT, 'static/config.json');
  const config = JSON.parse(fs.readFileSync(path.resolve(configFile), 'utf8'));
  const out = finishBuild(dist, config, { source: path.relative(ROOT, path.resolve(configFile)) });
  console.log(`csp: ${out.index}: ${out.headers.page['Content-Security-Policy']}`);
  console.log(`csp: ${out.bridge} pinned; wrote ${out.swa} and ${out.nginx}`);
}
