// A small static server for the built app (dist/) on 127.0.0.1, as a deployment's web server would
// serve it: correct MIME types (application/wasm), the SPA fallback to index.html for every path that
// is not a file (a missing asset — .js, .wasm, … — is a 404), the Content-Security-Policy from the
// given config injected into index.html, and the security headers (CSP with frame-ancestors,
// nosniff, Referrer-Policy) from scripts/csp.mjs, the same the generated nginx and Static Web Apps
// configs send. Used by scripts/serve, the e2e tests and the benchmark.
//
//   node scripts/static-server.mjs [--port N] [--dist DIR] [--config FILE]
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { ASSET_EXTENSIONS, headersFor, injectCsp, securityHeaders } from './csp.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Start serving `dist` on 127.0.0.1:`port` (0 = ephemeral). `config` (object) is served as
 * /config.json and decides the CSP. `compress`: gzip (level 9) what the browser accepts gzipped, as a
 * deployment's web server would (the benchmark's throttled network). Returns { url, close() }.
 */
export async function startStaticServer({ dist = path.join(ROOT, 'dist'), port = 0, config, compress = false } = {}) {
  const gzipped = new Map();
  dist = path.resolve(dist);
  const cfg = config ?? JSON.parse(await fs.readFile(path.join(dist, 'config.json'), 'utf8'));
  const index = injectCsp(await fs.readFile(path.join(dist, 'index.html'), 'utf8'), cfg);
  const policy = securityHeaders(index, cfg);
  const server = http.createServer(async (req, res) => {
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const send = (status, type, body) => {
      const headers = Object.fromEntries(Object.entries(headersFor(policy, rel)).map(([k, v]) => [k.toLowerCase(), v]));
      headers['content-type'] = type;
      headers['cache-control'] = 'no-store'; // a development server: always the latest build
      if (compress && status === 200 && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
        const key = `${rel}\0${body.length}`;
        if (!gzipped.has(key)) gzipped.set(key, zlib.gzipSync(body, { level: 9 }));
        body = gzipped.get(key);
        headers['content-encoding'] = 'gzip';
        headers.vary = 'accept-encoding';
      }
      res.writeHead(status, headers);
      res.end(body);
    };
    if (rel === '/' || rel === '/index.html') {
      send(200, TYPES['.html'], index);
      return;
    }
    if (rel === '/config.json') {
      send(200, TYPES['.json'], JSON.stringify(cfg));
      return;
    }
    // no dot-files or dot-segments, and not the Static Web Apps config (as Static Web Apps itself)
    if (rel.split('/').some((seg) => seg.startsWith('.')) || rel === '/staticwebapp.config.json') {
      send(404, 'text/plain', 'not found');
      return;
    }
    const file = path.join(dist, path.normalize(rel));
    if (!file.startsWith(dist + path.sep)) {
      send(403, 'text/plain', 'forbidden');
      return;
    }
    let body;
    try {
      body = await fs.readFile(file);
    } catch {
      const ext = path.extname(rel).slice(1).toLowerCase();
      // a route of the app (deep links may end in ".something": a resource group "rg.prod")
      if (!ASSET_EXTENSIONS.includes(ext)) send(200, TYPES['.html'], index);
      else send(404, 'text/plain', 'not found');
      return;
    }
    send(200, TYPES[path.extname(file)] ?? 'application/octet-stream', body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}/`;
  return { url, server, close: () => new Promise((resolve) => server.close(resolve)) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : dflt;
  };
  const configFile = arg('--config');
  const config = configFile ? JSON.parse(await fs.readFile(configFile, 'utf8')) : undefined;
  const { url } = await startStaticServer({ dist: arg('--dist', path.join(ROOT, 'dist')), port: Number(arg('--port', 8080)), config });
  console.log(`identity-wizard is served at ${url}  (Ctrl-C to stop)`);
}
