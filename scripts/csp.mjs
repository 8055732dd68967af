// The page's Content-Security-Policy, from the built index.html and the app configuration.
//
//   node scripts/csp.mjs [dist/index.html] [static/config.json]
// rewrites dist/index.html in place: the IW-CSP comment becomes a <meta http-equiv> with
// script-src 'self' + the sha256 of every inline script trunk wrote (+ 'wasm-unsafe-eval' for the
// module), and connect-src 'self' + the configured authority and ARM endpoint only.
// Also used as a module by the serve and e2e servers (cspFor / injectCsp).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLOUDS = JSON.parse(fs.readFileSync(path.join(ROOT, 'crates/identity-core/clouds.json'), 'utf8')).clouds;

/** Origins the page may connect to, from a config ({cloud, authority?, armEndpoint?}). */
export function connectOrigins(config) {
  const cloud = CLOUDS.find((c) => c.name.toLowerCase() === String(config.cloud ?? 'AzureCloud').toLowerCase());
  const authority = config.authority ?? cloud?.authority;
  const arm = config.armEndpoint ?? cloud?.armEndpoint;
  if (!authority || !arm) throw new Error(`unknown cloud ${config.cloud} and no authority/armEndpoint given`);
  return { authority: new URL(authority).origin, arm: new URL(arm).origin };
}

/** sha256 source expressions of the inline <script> elements of an HTML document. */
export function inlineScriptHashes(html) {
  const hashes = [];
  for (const m of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
    hashes.push(`'sha256-${crypto.createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
  }
  return hashes;
}

/** The policy text. */
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

/** index.html with the IW-CSP placeholder (or a previous CSP meta) replaced by the policy. */
export function injectCsp(html, config) {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${cspFor(html, config)}" />`;
  const placeholder = /<!-- IW-CSP:[\s\S]*?-->|<meta http-equiv="Content-Security-Policy"[^>]*>/;
  if (!placeholder.test(html)) throw new Error('index.html has no IW-CSP placeholder');
  return html.replace(placeholder, meta);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist/index.html'));
  const config = JSON.parse(fs.readFileSync(path.resolve(process.argv[3] ?? path.join(ROOT, 'static/config.json')), 'utf8'));
  const html = injectCsp(fs.readFileSync(file, 'utf8'), config);
  fs.writeFileSync(file, html);
  console.log(`csp: ${file}: ${html.match(/Content-Security-Policy" content="([^"]*)"/)[1]}`);
}
