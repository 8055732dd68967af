// A tiny ARM stand-in for the sign-in tests: `GET /subscriptions` with a bearer token, verified as
// ARM does (signature against the provider's JWKS, issuer of a known tenant, audience, expiry,
// scp user_impersonation), answering with ARM's error codes (AuthenticationFailed,
// InvalidAuthenticationToken, ExpiredAuthenticationToken, InvalidAuthenticationTokenAudience) and
// CORS for the app's origin. The real check lives in armsim (issue 6); this one keeps the sign-in
// tests independent of it.
import http from 'node:http';
import { createLocalJWKSet, decodeJwt, errors, jwtVerify } from 'jose';

/**
 * Start on 127.0.0.1 (ephemeral port). `jwks`: the provider's public JWKS; `issuers`: tenant id ->
 * issuer; `audiences`: accepted `aud` values; `subscriptions`: tenant id -> subscription names.
 * CORS is granted to any http://127.0.0.1 origin (the test apps run on ephemeral ports).
 * Returns { url, received, close() }: `received` lists {status, code, claims} per request.
 */
export async function startArmCheck({ jwks, issuers, audiences, subscriptions }) {
  const keys = createLocalJWKSet(jwks);
  const received = [];
  const accepted = [...audiences].flatMap((a) => [a.replace(/\/$/, ''), `${a.replace(/\/$/, '')}/`]);
  let n = 0;
  const server = http.createServer(async (req, res) => {
    const o = req.headers.origin ?? '';
    const cors = {
      'access-control-allow-origin': /^http:\/\/127\.0\.0\.1:\d+$/.test(o) ? o : 'null',
      vary: 'Origin',
      'access-control-allow-methods': 'GET, PUT, PATCH, POST, DELETE, OPTIONS',
      'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization, content-type',
      'access-control-expose-headers': 'WWW-Authenticate, x-ms-request-id, x-ms-correlation-request-id',
      'access-control-max-age': '600',
    };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    const send = (status, body, extra = {}) => {
      res.writeHead(status, { ...cors, 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': `check-${++n}`, ...extra });
      res.end(JSON.stringify(body));
    };
    const fail = (status, code, message, claims) => {
      received.push({ status, code, claims });
      send(status, { error: { code, message } }, {
        'www-authenticate': `Bearer authorization_uri="${Object.values(issuers)[0]}", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`,
      });
    };
    const url = new URL(req.url, 'http://127.0.0.1');
    const m = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return fail(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
    let claims;
    try {
      claims = decodeJwt(m[1]);
    } catch {
      return fail(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    }
    const aud = [claims.aud].flat();
    if (!aud.some((a) => accepted.includes(a))) {
      return fail(401, 'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${aud.join(',')}'. It should exactly match with one of the allowed audiences ${accepted.map((a) => `'${a}'`).join(',')}.`, claims);
    }
    try {
      await jwtVerify(m[1], keys, { issuer: Object.values(issuers), audience: accepted, algorithms: ['RS256'] });
    } catch (e) {
      if (e instanceof errors.JWTExpired) return fail(401, 'ExpiredAuthenticationToken', 'The access token expiry UTC time is earlier than current UTC time.', claims);
      return fail(401, 'InvalidAuthenticationToken', `The access token is invalid (${e.code ?? e.message}).`, claims);
    }
    if (issuers[claims.tid] !== claims.iss) return fail(401, 'InvalidAuthenticationTokenTenant', `The access token is from the wrong issuer '${claims.iss}'.`, claims);
    if (!String(claims.scp ?? '').split(' ').includes('user_impersonation')) return fail(403, 'AuthorizationFailed', 'The token lacks the user_impersonation scope.', claims);
    received.push({ status: 200, claims });
    if (req.method === 'GET' && url.pathname === '/subscriptions') {
      const names = subscriptions[claims.tid] ?? [];
      return send(200, {
        value: names.map((displayName, i) => {
          const subscriptionId = `${claims.tid.slice(0, 8)}-0000-0000-0000-00000000000${i}`;
          return { id: `/subscriptions/${subscriptionId}`, subscriptionId, tenantId: claims.tid, displayName, state: 'Enabled' };
        }),
      });
    }
    return send(404, { error: { code: 'NotFound', message: `no route ${req.method} ${url.pathname}` } });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}
