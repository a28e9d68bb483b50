import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  type CryptoKey,
  type JWK,
  SignJWT,
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  importJWK,
} from 'jose';

import { type Auth, createAuth } from '../../../src/auth/authorizer.js';
import type { OidcProviderConfig, RoleConfig } from '../../../src/config/types.js';
import { ProxyHopperError } from '../../../src/errors/index.js';
import { configWithAuth, oidcProvider } from '../../helpers/auth-config.js';
import { type CapturedLogger, type LogRecord, captureLogger } from '../../helpers/log-capture.js';
import { type OidcIssuer, startOidcIssuer } from '../../helpers/oidc-issuer.js';

const ROLES: RoleConfig[] = [
  { name: 'data-team', permissions: ['read'], targets: ['data-api'] },
  { name: 'maps-team', permissions: ['read'], targets: ['maps'] },
];
const SCOPE = 'openid proxy_hopper';

interface Harness {
  auth: Auth;
  capture: CapturedLogger;
}

const harnesses: Harness[] = [];

function authFor(
  providers: OidcProviderConfig[],
  options: { now?: () => number; cooldownMs?: number } = {},
): Harness {
  const capture = captureLogger();
  const auth = createAuth(configWithAuth({ oidc: providers, roles: ROLES }), {
    logger: capture.logger,
    now: options.now,
    oidcRefetchCooldownMs: options.cooldownMs,
  });
  harnesses.push({ auth, capture });
  return { auth, capture };
}

function authentikProvider(issuer: string, overrides: Partial<OidcProviderConfig> = {}) {
  return oidcProvider(issuer, {
    name: 'authentik',
    audience: ['proxy-hopper'],
    rolesClaim: 'proxy_hopper_role',
    ...overrides,
  });
}

async function rejection(promise: Promise<unknown>): Promise<ProxyHopperError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProxyHopperError, `expected ProxyHopperError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

async function waitForRecord(capture: CapturedLogger, msg: string): Promise<LogRecord> {
  for (let i = 0; i < 100; i += 1) {
    const record = capture.records.find((entry) => entry.msg === msg);
    if (record !== undefined) return record;
    await sleep(20);
  }
  assert.fail(`no log record "${msg}"; got ${JSON.stringify(capture.records.map((r) => r.msg))}`);
}

after(() => {
  for (const { auth } of harnesses) auth.close();
});

describe('Authentik-shaped issuer', () => {
  let idp: OidcIssuer;

  before(async () => {
    idp = await startOidcIssuer('authentik');
  });
  after(async () => {
    await idp.stop();
  });

  test('issuer keeps its trailing slash', () => {
    assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+\/application\/o\/proxy-hopper\/$/);
  });

  test('data-team token reaches only its target', async () => {
    const { auth } = authFor([authentikProvider(idp.issuer)]);
    const token = await idp.fetchToken({ clientId: 'svc-data', scope: SCOPE });
    assert.equal(decodeJwt(token).proxy_hopper_role, 'data-team');

    const principal = await auth.authorizer.authorizeProxy(`Bearer ${token}`, 'data-api');
    assert.equal(principal.kind, 'oidc');
    assert.equal(principal.subject, 'svc-data');
    assert.deepEqual(principal.roles, ['data-team']);

    const error = await rejection(auth.authorizer.authorizeProxy(`Bearer ${token}`, 'maps'));
    assert.equal(error.status, 403);
    assert.equal(error.message, "Role 'data-team' cannot access target 'maps'");
  });

  test('admin token from curl reaches every target', async () => {
    const { auth } = authFor([authentikProvider(idp.issuer)]);
    const token = await idp.fetchTokenWithCurl({ clientId: 'svc-admin', scope: SCOPE });
    for (const target of ['data-api', 'maps', 'billing']) {
      const principal = await auth.authorizer.authorizeProxy(`Bearer ${token}`, target);
      assert.deepEqual(principal.roles, ['admin'], target);
    }
    const admin = await auth.authorizer.authorizeAdmin(`Bearer ${token}`, 'admin');
    assert.equal(admin.subject, 'svc-admin');
  });

  test('other groups map to viewer without proxy access', async () => {
    const { auth } = authFor([authentikProvider(idp.issuer)]);
    const token = await idp.fetchToken({ clientId: 'svc-other', scope: SCOPE });
    assert.equal(decodeJwt(token).proxy_hopper_role, 'viewer');
    const error = await rejection(auth.authorizer.authorizeProxy(`Bearer ${token}`, 'maps'));
    assert.equal(error.code, 'forbidden');
    assert.equal(error.message, "Role 'viewer' does not have proxy access");
  });

  test('token without the proxy_hopper scope is viewer', async () => {
    const { auth } = authFor([authentikProvider(idp.issuer)]);
    const token = await idp.fetchToken({ clientId: 'svc-admin', scope: 'openid' });
    assert.equal(decodeJwt(token).proxy_hopper_role, undefined);
    const error = await rejection(auth.authorizer.authorizeProxy(`Bearer ${token}`, 'maps'));
    assert.equal(error.message, "Role 'viewer' does not have proxy access");
  });

  test('issuer without trailing slash is explained', async () => {
    const configured = idp.issuer.replace(/\/$/, '');
    const { auth, capture } = authFor([authentikProvider(configured)]);
    const token = await idp.fetchToken({ clientId: 'svc-admin', scope: SCOPE });

    const error = await rejection(auth.authorizer.authorizeProxy(`Bearer ${token}`, 'maps'));
    assert.equal(error.status, 401);
    assert.equal(error.message, 'Invalid or expired token');

    const rejected = await waitForRecord(
      capture,
      'OIDC token rejected: its issuer matches no configured issuer',
    );
    assert.equal(rejected.tokenIssuer, idp.issuer);
    assert.deepEqual(rejected.configuredIssuers, [configured]);
    assert.match(String(rejected.hint), /differ only by a trailing slash/);

    const discovery = await waitForRecord(
      capture,
      'OIDC signing keys could not be loaded; tokens of this provider are rejected',
    );
    const message = String((discovery.err as { message: string }).message);
    assert.match(message, /discovery document issuer .* differs from the configured issuer/);
    assert.ok(message.includes(JSON.stringify(idp.issuer)));
    assert.ok(message.includes(JSON.stringify(configured)));
    assert.equal(discovery.discoveryUrl, `${idp.issuer}.well-known/openid-configuration`);
  });

  test('token for another audience is rejected', async () => {
    const { auth } = authFor([authentikProvider(idp.issuer)]);
    const token = await idp.fetchToken({
      clientId: 'svc-admin',
      scope: SCOPE,
      resource: 'urn:other-api',
    });
    assert.equal(decodeJwt(token).aud, 'urn:other-api');
    const error = await rejection(auth.authorizer.authorizeProxy(`Bearer ${token}`, 'maps'));
    assert.equal(error.code, 'invalid_token');
  });

  test('expired token says token expired', async () => {
    const token = await idp.fetchToken({ clientId: 'svc-admin', scope: SCOPE });
    const ttlSec = (decodeJwt(token).exp ?? 0) - (decodeJwt(token).iat ?? 0);
    assert.equal(ttlSec, 300);
    const { auth } = authFor([authentikProvider(idp.issuer)], { now: () => Date.now() + 400_000 });
    const error = await rejection(auth.authorizer.authorizeProxy(`Bearer ${token}`, 'maps'));
    assert.equal(error.code, 'invalid_token');
    assert.deepEqual(error.headers, {
      'WWW-Authenticate': 'Bearer error="invalid_token", error_description="token expired"',
    });
  });

  test('alg none token is rejected', async () => {
    const { auth, capture } = authFor([authentikProvider(idp.issuer)]);
    const real = await idp.fetchToken({ clientId: 'svc-admin', scope: SCOPE });
    const payload = real.split('.')[1];
    for (const alg of ['none', 'None', 'NONE']) {
      const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT', kid: 'key-1' })).toString(
        'base64url',
      );
      const error = await rejection(
        auth.authorizer.authorizeProxy(`Bearer ${header}.${payload}.`, 'maps'),
      );
      assert.equal(error.code, 'invalid_token', alg);
    }
    const reasons = capture.records.filter((record) => record.msg === 'OIDC token rejected');
    assert.deepEqual(
      reasons.map((record) => record.reason),
      ['alg_not_allowed', 'alg_not_allowed', 'alg_not_allowed'],
    );
  });

  test('HS256 signed with the RSA public key is rejected', async () => {
    const { auth } = authFor([authentikProvider(idp.issuer)]);
    const jwks = (await (await fetch(`${idp.issuer}jwks`)).json()) as { keys: JWK[] };
    const jwk = jwks.keys[0];
    assert.ok(jwk !== undefined);
    const publicKey = (await importJWK(jwk, 'RS256', { extractable: true })) as CryptoKey;
    const pem = await exportSPKI(publicKey);
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----/);
    const claims = decodeJwt(await idp.fetchToken({ clientId: 'svc-admin', scope: SCOPE }));
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: jwk.kid })
      .sign(new TextEncoder().encode(pem));
    const error = await rejection(auth.authorizer.authorizeProxy(`Bearer ${forged}`, 'maps'));
    assert.equal(error.code, 'invalid_token');
  });
});

describe('signing keys over time', () => {
  test('rotated key is accepted without restart', async () => {
    const idp = await startOidcIssuer('authentik');
    try {
      const { auth, capture } = authFor([authentikProvider(idp.issuer)]);
      const before = await idp.fetchToken({ clientId: 'svc-data', scope: SCOPE });
      const unverifiedOld = await idp.fetchToken({ clientId: 'svc-maps', scope: SCOPE });
      assert.equal(decodeProtectedHeader(before).kid, 'key-1');
      assert.equal(
        (await auth.authorizer.authorizeProxy(`Bearer ${before}`, 'data-api')).subject,
        'svc-data',
      );

      assert.equal(await idp.rotateKey(), 'key-2');
      const rotated = await idp.fetchToken({ clientId: 'svc-data', scope: SCOPE });
      assert.equal(decodeProtectedHeader(rotated).kid, 'key-2');
      const principal = await auth.authorizer.authorizeProxy(`Bearer ${rotated}`, 'data-api');
      assert.equal(principal.subject, 'svc-data');
      assert.equal(
        (await auth.authorizer.authorizeProxy(`Bearer ${unverifiedOld}`, 'maps')).subject,
        'svc-maps',
      );

      const loads = capture.records.filter((record) => record.msg === 'OIDC signing keys loaded');
      assert.deepEqual(
        loads.map((record) => record.kids),
        [['key-1'], ['key-2', 'key-1']],
      );
    } finally {
      await idp.stop();
    }
  });

  test('cached keys work while the provider is down', async () => {
    const idp = await startOidcIssuer('authentik');
    let offsetMs = 0;
    const { auth, capture } = authFor([authentikProvider(idp.issuer, { jwksCacheTtlMs: 1_000 })], {
      now: () => Date.now() + offsetMs,
    });
    const first = await idp.fetchToken({ clientId: 'svc-data', scope: SCOPE });
    const second = await idp.fetchToken({ clientId: 'svc-admin', scope: SCOPE });
    assert.equal(
      (await auth.authorizer.authorizeProxy(`Bearer ${first}`, 'data-api')).subject,
      'svc-data',
    );

    await idp.stop();
    offsetMs = 5_000;
    const principal = await auth.authorizer.authorizeProxy(`Bearer ${second}`, 'maps');
    assert.equal(principal.subject, 'svc-admin');

    const warning = await waitForRecord(
      capture,
      'OIDC signing key refresh failed; cached keys stay in use',
    );
    assert.equal(warning.level, 40);
    assert.equal(warning.provider, 'authentik');
    assert.equal(warning.issuer, idp.issuer);
  });
});

describe('Azure AD and Keycloak shaped issuers', () => {
  let azure: OidcIssuer;
  let keycloak: OidcIssuer;
  let authentik: OidcIssuer;

  before(async () => {
    [azure, keycloak, authentik] = await Promise.all([
      startOidcIssuer('azure'),
      startOidcIssuer('keycloak'),
      startOidcIssuer('authentik'),
    ]);
  });
  after(async () => {
    await Promise.all([azure.stop(), keycloak.stop(), authentik.stop()]);
  });

  function providers(): OidcProviderConfig[] {
    return [
      oidcProvider(azure.issuer, {
        name: 'azure',
        audience: ['api://proxy-hopper'],
        rolesClaim: 'roles',
      }),
      oidcProvider(keycloak.issuer, {
        name: 'keycloak',
        audience: ['proxy-hopper', 'account'],
        rolesClaim: 'realm_access.roles',
      }),
      authentikProvider(authentik.issuer),
    ];
  }

  test('issuers have the vendor shapes', () => {
    assert.match(azure.issuer, /\/tenant-1\/v2\.0$/);
    assert.match(keycloak.issuer, /\/realms\/r1$/);
  });

  test('Azure roles array gives the union', async () => {
    const { auth } = authFor(providers());
    const token = await azure.fetchToken({ clientId: 'svc-both', scope: SCOPE });
    assert.deepEqual(decodeJwt(token).roles, ['data-team', 'maps-team']);
    for (const target of ['data-api', 'maps']) {
      const principal = await auth.authorizer.authorizeProxy(`Bearer ${token}`, target);
      assert.deepEqual(principal.roles, ['data-team', 'maps-team'], target);
    }
    const error = await rejection(auth.authorizer.authorizeProxy(`Bearer ${token}`, 'billing'));
    assert.equal(error.message, "Role 'data-team, maps-team' cannot access target 'billing'");
  });

  test('Keycloak realm roles by dotted path', async () => {
    const { auth } = authFor(providers());
    const token = await keycloak.fetchToken({ clientId: 'svc-data', scope: SCOPE });
    assert.equal(decodeJwt(token).aud, 'account');
    const principal = await auth.authorizer.authorizeProxy(`Bearer ${token}`, 'data-api');
    assert.deepEqual(principal.roles, ['offline_access', 'data-team']);
    const error = await rejection(auth.authorizer.authorizeProxy(`Bearer ${token}`, 'maps'));
    assert.equal(error.message, "Role 'data-team' cannot access target 'maps'");
  });

  test('Keycloak token without known roles has no proxy access', async () => {
    const { auth } = authFor(providers());
    const token = await keycloak.fetchToken({ clientId: 'svc-other', scope: SCOPE });
    const error = await rejection(auth.authorizer.authorizeProxy(`Bearer ${token}`, 'maps'));
    assert.equal(error.status, 403);
    assert.equal(error.message, "Role 'offline_access' does not have proxy access");
  });

  test('each token goes to the provider of its iss', async () => {
    const { auth } = authFor(providers());
    const tokens = await Promise.all([
      azure.fetchToken({ clientId: 'svc-admin', scope: SCOPE }),
      keycloak.fetchToken({ clientId: 'svc-admin', scope: SCOPE }),
      authentik.fetchToken({ clientId: 'svc-admin', scope: SCOPE }),
    ]);
    for (const token of tokens) {
      const principal = await auth.authorizer.authorizeProxy(`Bearer ${token}`, 'billing');
      assert.equal(principal.subject, 'svc-admin');
    }
  });
});
