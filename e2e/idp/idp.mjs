// A local OpenID provider shaped like Microsoft Entra ID, for the end-to-end tests and local
// development: panva's oidc-provider over HTTPS on 127.0.0.1 with a throw-away CA made at start
// (openssl, in a temp dir under target/ that is removed on close; no key is ever committed).
//
//   const idp = await startIdp();                 // HTTPS server up, port known
//   const app = await startStaticServer({ config: { authority: idp.origin, ... } });
//   idp.registerApp(app.url);                     // the SPA client: redirect URIs on that origin
//   ... idp.close();
//
// Entra shape: one host, one path per tenant — issuer https://127.0.0.1:<port>/<tenant>/v2.0,
// discovery <issuer>/.well-known/openid-configuration — and tokens MSAL and ARM expect: a JWT
// access token with aud = the ARM resource asked for (scope "<resource>/user_impersonation"),
// scp "user_impersonation", tid (the tenant of the path), oid, upn, name; client_info {uid, utid}
// with the user's home tenant, so a guest user's tenants share one MSAL account. One signing key
// (JWKS at <issuer>/jwks) for every tenant, as Entra has.
//
// The adaptations oidc-provider needs to behave like Entra for MSAL (see
// ../shared/auth/MSAL-LOCAL-IDP.md §5): refresh tokens without prompt=consent (A1), offline_access
// dropped from refresh grants (A2), client_info (A3), client_id injected into end-session (A4),
// JWT access tokens for the resource named by the scope (A5).
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Provider from 'oidc-provider';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const CLIENT_ID = '22222222-2222-2222-2222-222222222222';
export const TENANT_A = '11111111-1111-1111-1111-111111111111';
export const TENANT_B = '33333333-3333-3333-3333-333333333333';
export const ARM_AUDIENCE = 'https://management.azure.com';
/** Resources the provider issues tokens for (one per cloud, so a wrong-cloud token can be made). */
export const RESOURCES = [ARM_AUDIENCE, 'https://management.usgovcloudapi.net', 'https://management.chinacloudapi.cn'];
export const PASSWORD = 'Passw0rd!';
/** Test users: alice lives in tenant A and is a guest in B; bob is only in A. */
export const USERS = {
  'alice@contoso.test': { oid: 'aaaaaaaa-0000-0000-0000-000000000001', name: 'Alice Example', home: TENANT_A, tenants: [TENANT_A, TENANT_B] },
  'bob@contoso.test': { oid: 'bbbbbbbb-0000-0000-0000-000000000002', name: 'Bob Example', home: TENANT_A, tenants: [TENANT_A] },
};
const byOid = Object.fromEntries(Object.entries(USERS).map(([upn, u]) => [u.oid, { upn, ...u }]));

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A CA and a leaf certificate for 127.0.0.1 / localhost in `dir`; returns PEMs and the leaf SPKI hash. */
export function makeCertificates(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const f = (n) => path.join(dir, n);
  const ossl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-keyout', f('ca-key.pem'), '-out', f('ca.pem'),
    '-subj', '/CN=identity-wizard e2e throw-away CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', f('key.pem'), '-out', f('leaf.csr'), '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(f('leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ossl('x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial', '-days', '2', '-sha256', '-extfile', f('leaf.ext'), '-out', f('cert.pem'));
  const cert = fs.readFileSync(f('cert.pem'));
  const spki = createHash('sha256').update(createPublicKey(cert).export({ type: 'spki', format: 'der' })).digest('base64');
  return { ca: fs.readFileSync(f('ca.pem')), cert, key: fs.readFileSync(f('key.pem')), spki };
}

const readForm = (req) =>
  new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(body))));
    req.on('error', reject);
  });

/**
 * Start the provider's HTTPS server on 127.0.0.1 (`port` 0 = any). Options: `tenants`,
 * `accessTokenTtl` (seconds), `log` (print requests). Returns
 * { origin, spki, ca, jwks, issuer(tenant), authority(tenant), registerApp(appOrigin), requests, close() }.
 */
export async function startIdp({ port = 0, tenants = [TENANT_A, TENANT_B], accessTokenTtl = 3600, log = !!process.env.IDP_LOG } = {}) {
  const tmpRoot = path.join(ROOT, 'target', 'e2e-tmp');
  fs.mkdirSync(tmpRoot, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(tmpRoot, 'idp-'));
  const certs = makeCertificates(tmp);
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const priv = await exportJWK(privateKey);
  const jwk = { ...priv, kid: await calculateJwkThumbprint(priv), use: 'sig', alg: 'RS256' };
  const publicJwk = { kty: jwk.kty, n: jwk.n, e: jwk.e, kid: jwk.kid, use: 'sig', alg: 'RS256' };

  let provider;
  let callback;
  const requests = [];
  const server = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => handle(req, res).catch((e) => {
    console.error('[idp] error', e);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('idp error');
  }));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const origin = `https://127.0.0.1:${server.address().port}`;
  const issuer = (t) => `${origin}/${t}/v2.0`;
  const prefixRe = new RegExp(`^/(${tenants.map((t) => t.replace(/[.-]/g, '\\$&')).join('|')})/v2\\.0(?=/|$)`);
  const tenantOf = (url) => prefixRe.exec(url ?? '')?.[1];
  const ctxTenant = (ctx) => tenantOf(ctx?.req?.originalUrl) ?? tenants[0];

  function build(appOrigins) {
    const resourceFromScope = (scope) =>
      String(scope ?? '')
        .split(' ')
        .map((s) => s.replace(/\/user_impersonation$/, ''))
        .find((r) => RESOURCES.includes(r));
    const p = new Provider(issuer(tenants[0]), {
      clients: [{
        client_id: CLIENT_ID,
        client_name: 'identity-wizard (local e2e)',
        application_type: 'web',
        token_endpoint_auth_method: 'none', // a public SPA client: PKCE, CORS at the token endpoint
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: appOrigins.flatMap((o) => [`${o}/redirect.html`, `${o}/`]),
        post_logout_redirect_uris: appOrigins.map((o) => `${o}/`),
      }],
      jwks: { keys: [jwk] },
      clientBasedCORS: (ctx, o, client) => client.redirectUris.some((u) => new URL(u).origin === o),
      cookies: {
        keys: [createHash('sha256').update(jwk.n).digest('hex')],
        long: { httpOnly: true, sameSite: 'none' },
        short: { httpOnly: true, sameSite: 'none' },
      },
      claims: { openid: ['sub', 'oid', 'tid'], profile: ['name', 'preferred_username'], email: ['email'] },
      conformIdTokenClaims: false, // name / preferred_username in the id_token (MSAL builds the account from it)
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      responseTypes: ['code'],
      pkce: { required: () => true },
      ttl: { AccessToken: () => accessTokenTtl, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 24 * 3600, Grant: 24 * 3600, Interaction: 600, Session: 24 * 3600 },
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: {
          enabled: true,
          // the default page asks for confirmation and loads a web font from the internet
          logoutSource: async (ctx, form) => {
            ctx.type = 'html';
            ctx.body = `<!doctype html><html><head><title>Signing out</title></head><body>${form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>')}<script>document.forms[0].submit()</script></body></html>`;
          },
          postLogoutSuccessSource: async (ctx) => {
            ctx.type = 'html';
            ctx.body = '<!doctype html><title>Signed out</title><h1 id="signed-out">Signed out</h1>';
          },
        },
        resourceIndicators: {
          enabled: true,
          // MSAL, like Entra, never sends resource=: the resource is named by the scope (A5)
          defaultResource: async (ctx, client, oneOf) => oneOf ?? resourceFromScope(ctx.oidc.params?.scope) ?? ARM_AUDIENCE,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (ctx, resource) => {
            if (!RESOURCES.includes(resource)) throw new Provider.errors.InvalidTarget();
            return { scope: `${resource}/user_impersonation`, audience: resource, accessTokenTTL: accessTokenTtl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
          },
        },
      },
      formats: {
        customizers: {
          // Entra: the issuer names the tenant the token is for
          jwt: async (ctx, token, jwt) => {
            jwt.payload.iss = issuer(ctxTenant(ctx));
          },
        },
      },
      issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'), // A1
      extraTokenClaims: async (ctx, token) => {
        const u = byOid[token.accountId];
        return u ? { tid: ctxTenant(ctx), oid: u.oid, upn: u.upn, name: u.name, scp: 'user_impersonation', azp: CLIENT_ID, ver: '2.0' } : undefined;
      },
      findAccount: async (ctx, sub) => {
        const u = byOid[sub];
        if (!u) return undefined;
        const tid = ctxTenant(ctx);
        return { accountId: sub, claims: async () => ({ sub, oid: u.oid, tid, name: u.name, preferred_username: u.upn, email: u.upn }) };
      },
      // first-party client: everything granted, no consent screen
      loadExistingGrant: async (ctx) => {
        const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
        let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
        if (!grant) grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
        grant.addOIDCScope('openid profile email offline_access');
        for (const r of RESOURCES) grant.addResourceScope(r, `${r}/user_impersonation`);
        await grant.save();
        return grant;
      },
      interactions: { url: (ctx, interaction) => `/${ctxTenant(ctx)}/v2.0/interaction/${interaction.uid}` },
      renderError: async (ctx, out) => {
        ctx.type = 'html';
        ctx.body = `<!doctype html><title>Sign-in error</title><h1 id="idp-error">${esc(out.error)}</h1><p>${esc(out.error_description ?? '')}</p>`;
      },
    });
    p.proxy = false;
    p.use(async (ctx, next) => {
      await next();
      const tid = ctxTenant(ctx);
      // discovery names the tenant's own issuer
      if (ctx.oidc?.route === 'discovery' && ctx.body) ctx.body = { ...ctx.body, issuer: issuer(tid) };
      // Entra refuses tokens for a tenant the user is neither member nor guest of (AADSTS50020).
      // Simplified here: the token endpoint refuses, whatever grant led to it.
      if (ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.oidc.entities?.Account) {
        const u = byOid[ctx.oidc.entities.Account.accountId];
        if (u && !u.tenants.includes(tid)) {
          ctx.status = 400;
          ctx.body = { error: 'invalid_grant', error_description: `AADSTS50020: User account '${u.upn}' from identity provider does not exist in tenant '${tid}' and cannot access the application '${CLIENT_ID}' in that tenant.`, error_codes: [50020] };
          return;
        }
      }
      // A3: client_info = {uid, utid} with the user's HOME tenant -> MSAL homeAccountId "<oid>.<home>"
      if (ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.body?.access_token && ctx.oidc.entities?.Account) {
        const u = byOid[ctx.oidc.entities.Account.accountId];
        ctx.body = { ...ctx.body, client_info: Buffer.from(JSON.stringify({ uid: u.oid, utid: u.home })).toString('base64url') };
      }
    });
    if (log) {
      p.on('grant.success', (ctx) => console.log('[idp] grant.success', ctx.oidc.params.grant_type));
      p.on('grant.error', (ctx, err) => console.log('[idp] grant.error', err.message, err.error_description ?? ''));
    }
    p.on('server_error', (ctx, err) => console.error('[idp] server_error', err));
    return p;
  }

  const loginPage = (prefix, uid, err = '', hint = '') => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in - local test provider</title></head><body>
<h1>Local test sign-in</h1>${err ? `<p id="login-error" role="alert">${esc(err)}</p>` : ''}
<form method="post" action="${prefix}/interaction/${esc(uid)}/login" autocomplete="off">
 <label>Username <input id="username" name="username" type="email" value="${esc(hint || '')}" required></label>
 <label>Password <input id="password" name="password" type="password" required></label>
 <button id="submit" type="submit">Sign in</button>
</form></body></html>`;

  async function interaction(req, res, tenant, rest) {
    const m = rest.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (!m) return false;
    const prefix = `/${tenant}/v2.0`;
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET' && !m[2]) {
      if (details.prompt.name === 'login') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(prefix, details.uid, '', details.params.login_hint));
      } else {
        await provider.interactionFinished(req, res, { consent: {} }, { mergeWithLastSubmission: true });
      }
      return true;
    }
    if (req.method === 'POST' && m[2]) {
      const { username = '', password = '' } = await readForm(req);
      const u = USERS[username.toLowerCase()];
      if (!u || password !== PASSWORD) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(prefix, details.uid, 'Your account or password is incorrect.', username));
        return true;
      }
      if (!u.tenants.includes(tenant)) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(prefix, details.uid, `AADSTS50020: User account '${username}' does not exist in tenant '${tenant}'.`, username));
        return true;
      }
      await provider.interactionFinished(req, res, { login: { accountId: u.oid } }, { mergeWithLastSubmission: false });
      return true;
    }
    return false;
  }

  async function handle(req, res) {
    const url = new URL(req.url, origin);
    requests.push({ method: req.method, path: url.pathname, search: url.search, origin: req.headers.origin ?? '' });
    if (log) console.log('[idp]', req.method, url.pathname);
    if (url.pathname === '/health') return void res.writeHead(200).end('ok');
    const tenant = tenantOf(url.pathname);
    if (!provider || !tenant) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    const prefix = `/${tenant}/v2.0`;
    // mount under /<tenant>/v2.0: originalUrl keeps the prefix (oidc-provider builds its URLs from it)
    req.originalUrl = req.url;
    req.url = req.url.slice(prefix.length) || '/';
    const rest = url.pathname.slice(prefix.length);
    if (req.method === 'GET' && rest === '/session/end' && !url.searchParams.has('client_id') && !url.searchParams.has('id_token_hint')) {
      // A4: MSAL sends neither id_token_hint nor client_id; single-client provider: assume ours
      url.searchParams.set('client_id', CLIENT_ID);
      req.originalUrl = url.pathname + url.search;
      req.url = rest + url.search;
    }
    if (req.method === 'POST' && rest === '/token') {
      // A2: MSAL asks for offline_access on refresh; oidc-provider rejects that (scope not in the RT)
      const form = await readForm(req);
      if (form.grant_type === 'refresh_token' && form.scope) {
        form.scope = form.scope.split(' ').filter((s) => s && s !== 'offline_access').join(' ');
      }
      requests.at(-1).grantType = form.grant_type;
      requests.at(-1).scope = form.scope;
      req.body = form;
    }
    if (await interaction(req, res, tenant, rest)) return;
    callback(req, res);
  }

  return {
    origin,
    spki: certs.spki,
    ca: certs.ca,
    jwks: { keys: [publicJwk] },
    requests,
    issuer,
    authority: (t = tenants[0]) => `${origin}/${t}`,
    /** Create the provider with the SPA client whose redirect URIs live on the given app origins. */
    registerApp(...appOrigins) {
      provider = build(appOrigins.map((o) => o.replace(/\/$/, '')));
      callback = provider.callback();
    },
    /** Grant types seen at the token endpoint, in order. */
    grants: () => requests.filter((r) => r.grantType).map((r) => r.grantType),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => {
          fs.rmSync(tmp, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
