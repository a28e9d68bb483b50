// Token checks as a client sees them on the proxy port. Keycloak access tokens whose aud is
// "account" or another listed audience pass, an unlisted aud is 401, a token without a known
// role is 403 (never 500). A local token expired past the leeway is 401 with the exact
// WWW-Authenticate, one within it passes, and an unsigned alg none token is 401.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, SignJWT } from 'jose';
import { header } from '../../helpers/clients.js';
import { startOidcIssuer, type OidcIssuer } from '../../helpers/oidc-issuer.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startSquid } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import { pool, provider, target, viaHopper } from '../proxy/fixture.js';

const JWT_SECRET = 'field-case-local-jwt-secret-0123456789abcdef';
const SCOPE = 'openid';

describe('token checks on the proxy port', () => {
  let targets: TargetServers;
  let keycloak: OidcIssuer;
  let hopper: TestHopper;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    keycloak = await startOidcIssuer('keycloak');
    registerCleanup(() => keycloak.stop());
    const squid = await startSquid({ outgoingAddresses: ['127.0.0.35'] });
    const squids = provider('s', [squid.address()]);
    hopper = await startHopper({
      auth: {
        enabled: true,
        jwtSecret: JWT_SECRET,
        oidc: {
          issuerUrl: keycloak.issuer,
          audience: ['urn:ph-api', 'account'],
          roleClaimPath: 'realm_access.roles',
          clockTolerance: '30s',
        },
        roles: { 'data-team': { targets: ['data-api'] } },
      },
      proxyProviders: [squids],
      ipPools: [pool('p', [squids])],
      targets: [target('data-api', 'p', { numRetries: 0 })],
    });
  });

  after(cleanupAll);

  const withToken = (token: string, path: string) =>
    viaHopper(hopper.proxyPort, targets.httpOrigin, path, {
      headers: { 'x-proxy-hopper-auth': `Bearer ${token}` },
    });

  test('Keycloak token with aud "account" reaches the target', async () => {
    const token = await keycloak.fetchToken({ clientId: 'svc-data', scope: SCOPE });
    assert.equal(decodeJwt(token).aud, 'account');
    const response = await withToken(token, '/echo/kc-account');
    assert.equal(response.status, 200, response.body.toString());
  });

  test('Keycloak token with aud "urn:ph-api" reaches the target', async () => {
    const token = await keycloak.fetchToken({
      clientId: 'svc-data',
      scope: SCOPE,
      resource: 'urn:ph-api',
    });
    assert.equal(decodeJwt(token).aud, 'urn:ph-api');
    assert.equal((await withToken(token, '/echo/kc-ph-api')).status, 200);
  });

  test('Keycloak token with an unlisted aud is 401 invalid_token', async () => {
    const token = await keycloak.fetchToken({
      clientId: 'svc-data',
      scope: SCOPE,
      resource: 'urn:other',
    });
    assert.equal(decodeJwt(token).aud, 'urn:other');
    const response = await withToken(token, '/echo/kc-other');
    assert.equal(response.status, 401);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'invalid_token');
    assert.match(header(response, 'www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    assert.equal(targets.seen('/echo/kc-other').length, 0);
  });

  test('Keycloak token without a known role is 403, not 500', async () => {
    const token = await keycloak.fetchToken({ clientId: 'svc-other', scope: SCOPE });
    const response = await withToken(token, '/echo/kc-norole');
    assert.equal(response.status, 403);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'forbidden');
  });

  const localToken = (expOffsetSec: number, nbfOffsetSec?: number): Promise<string> => {
    const nowSec = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('svc')
      .setIssuedAt(nowSec - 600)
      .setExpirationTime(nowSec + expOffsetSec);
    if (nbfOffsetSec !== undefined) jwt.setNotBefore(nowSec + nbfOffsetSec);
    return jwt.sign(new TextEncoder().encode(JWT_SECRET));
  };

  test('local token expired 120 s ago is 401 with error_description "token expired"', async () => {
    const response = await withToken(await localToken(-120), '/echo/local-expired');
    assert.equal(response.status, 401);
    assert.equal(
      header(response, 'www-authenticate'),
      'Bearer error="invalid_token", error_description="token expired"',
    );
    assert.equal(targets.seen('/echo/local-expired').length, 0);
  });

  test('local token valid for another 300 s reaches the target', async () => {
    assert.equal((await withToken(await localToken(300), '/echo/local-valid')).status, 200);
  });

  test('unsigned alg none token is 401 for every casing', async () => {
    const nowSec = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(
      JSON.stringify({ sub: 'svc', role: 'admin', iat: nowSec, exp: nowSec + 300 }),
    ).toString('base64url');
    for (const alg of ['none', 'None', 'NONE']) {
      const head = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
      const response = await withToken(`${head}.${payload}.`, `/echo/none-${alg}`);
      assert.equal(response.status, 401, alg);
      assert.equal(header(response, 'x-proxy-hopper-error'), 'invalid_token', alg);
    }
    assert.equal(targets.seen('/echo/none-').length, 0);
  });
});
