import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { SignJWT } from 'jose';

import { createAuth } from '../../../src/auth/authorizer.js';
import { ProxyHopperError } from '../../../src/errors/index.js';
import { apiKey, configWithAuth } from '../../helpers/auth-config.js';
import { captureLogger } from '../../helpers/log-capture.js';

const SECRET = 'authorizer-test-secret-0123456789abcdef';
const T0 = Date.parse('2026-02-01T00:00:00Z');
const MISSING = 'Authentication required — set X-Proxy-Hopper-Auth: Bearer <token>';

const config = configWithAuth({
  jwtSecret: SECRET,
  apiKeys: [apiKey('scraper', 'sk-scraper-1', ['data-api']), apiKey('all', 'sk-all-1')],
  roles: [
    { name: 'data-team', permissions: ['read'], targets: ['data-api'] },
    { name: 'maps-team', permissions: ['read'], targets: ['maps'] },
  ],
});

async function localToken(role: unknown, expSec = T0 / 1000 + 600): Promise<string> {
  return new SignJWT(role === undefined ? {} : { role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .setIssuedAt(T0 / 1000)
    .setExpirationTime(expSec)
    .sign(new TextEncoder().encode(SECRET));
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

function setup(now = () => T0) {
  const capture = captureLogger();
  const auth = createAuth(config, { logger: capture.logger, now });
  return { ...auth, capture };
}

describe('proxy authorization', () => {
  test('missing header is 401 auth_required', async () => {
    const { authorizer } = setup();
    for (const header of [undefined, '', 'Bearer ', 'Bearer', '   ']) {
      const error = await rejection(authorizer.authorizeProxy(header, 'data-api'));
      assert.equal(error.code, 'auth_required', String(header));
      assert.equal(error.status, 401);
      assert.equal(error.message, MISSING);
      assert.deepEqual(error.headers, { 'WWW-Authenticate': 'Bearer' });
    }
  });

  test('unknown token is 401 invalid_token', async () => {
    const { authorizer } = setup();
    const error = await rejection(authorizer.authorizeProxy('Bearer sk-nope', 'data-api'));
    assert.equal(error.code, 'invalid_token');
    assert.equal(error.status, 401);
    assert.equal(error.message, 'Invalid or expired token');
    assert.deepEqual(error.headers, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  });

  test('expired local token says token expired', async () => {
    const { authorizer } = setup();
    const token = await localToken('admin', T0 / 1000 - 1);
    const error = await rejection(authorizer.authorizeProxy(`Bearer ${token}`, 'data-api'));
    assert.equal(error.code, 'invalid_token');
    assert.deepEqual(error.headers, {
      'WWW-Authenticate': 'Bearer error="invalid_token", error_description="token expired"',
    });
  });

  test('header over 8 KiB is rejected', async () => {
    const { authorizer } = setup();
    const error = await rejection(authorizer.authorizeProxy(`Bearer ${'a'.repeat(8192)}`, null));
    assert.equal(error.code, 'invalid_token');
    const justFits = `Bearer ${'a'.repeat(8192 - 7)}`;
    const second = await rejection(authorizer.authorizeProxy(justFits, null));
    assert.equal(second.code, 'invalid_token');
  });

  test('API key with and without prefix', async () => {
    const { authorizer } = setup();
    for (const header of [
      'Bearer sk-scraper-1',
      'bearer sk-scraper-1',
      'sk-scraper-1',
      'Bearer  sk-scraper-1 ',
    ]) {
      const principal = await authorizer.authorizeProxy(header, 'data-api');
      assert.equal(principal.subject, 'scraper', header);
      assert.equal(principal.kind, 'api_key');
    }
  });

  test('API key outside its targets is 403', async () => {
    const { authorizer } = setup();
    const error = await rejection(authorizer.authorizeProxy('Bearer sk-scraper-1', 'maps'));
    assert.equal(error.code, 'forbidden');
    assert.equal(error.status, 403);
    assert.equal(error.message, "API key 'scraper' is not permitted to access target 'maps'");
    assert.equal((await authorizer.authorizeProxy('Bearer sk-all-1', 'maps')).subject, 'all');
  });

  test('local admin token reaches every target', async () => {
    const { authorizer } = setup();
    const principal = await authorizer.authorizeProxy(
      `Bearer ${await localToken('admin')}`,
      'maps',
    );
    assert.equal(principal.kind, 'local');
    assert.equal(principal.subject, 'alice');
    assert.deepEqual(principal.roles, ['admin']);
    assert.equal(principal.targets, '*');
    assert.equal(principal.expiresAtMs, T0 + 600_000);
  });

  test('custom role is limited to its targets', async () => {
    const { authorizer } = setup();
    const header = `Bearer ${await localToken('data-team')}`;
    assert.equal((await authorizer.authorizeProxy(header, 'data-api')).subject, 'alice');
    const error = await rejection(authorizer.authorizeProxy(header, 'maps'));
    assert.equal(error.code, 'forbidden');
    assert.equal(error.message, "Role 'data-team' cannot access target 'maps'");
  });

  test('viewer and unknown roles have no proxy access', async () => {
    const { authorizer } = setup();
    for (const role of ['viewer', 'nobody', undefined]) {
      const error = await rejection(
        authorizer.authorizeProxy(`Bearer ${await localToken(role)}`, 'data-api'),
      );
      assert.equal(error.code, 'forbidden');
      assert.equal(error.message, `Role '${role ?? 'viewer'}' does not have proxy access`);
    }
  });

  test('no matched target needs only proxy access', async () => {
    const { authorizer } = setup();
    const header = `Bearer ${await localToken('data-team')}`;
    assert.equal((await authorizer.authorizeProxy(header, null)).subject, 'alice');
    assert.equal((await authorizer.authorizeProxy('sk-scraper-1', null)).subject, 'scraper');
  });

  test('verified token is served from cache until expiry', async () => {
    let nowMs = T0;
    const { authorizer } = setup(() => nowMs);
    const header = `Bearer ${await localToken('admin', T0 / 1000 + 10)}`;
    const first = await authorizer.authorizeProxy(header, 'maps');
    assert.equal(await authorizer.authorizeProxy(header, 'maps'), first);
    nowMs = T0 + 11_000;
    const error = await rejection(authorizer.authorizeProxy(header, 'maps'));
    assert.equal(error.code, 'invalid_token');
  });

  test('auth disabled allows everything', async () => {
    const auth = createAuth(configWithAuth({ enabled: false }), { logger: captureLogger().logger });
    const principal = await auth.authorizer.authorizeProxy(undefined, 'maps');
    assert.equal(auth.authorizer.enabled, false);
    assert.equal(principal.subject, 'anonymous');
    assert.equal(principal.kind, 'anonymous');
    assert.equal(principal.targets, '*');
    assert.equal((await auth.authorizer.authorizeAdmin(undefined, 'admin')).subject, 'anonymous');
  });

  test('tokens never reach the logs', async () => {
    const { authorizer, capture } = setup();
    const token = await localToken('viewer');
    await rejection(authorizer.authorizeProxy(`Bearer ${token}`, 'maps'));
    await rejection(authorizer.authorizeProxy('Bearer sk-wrong-secret', 'maps'));
    await authorizer.authorizeProxy('Bearer sk-scraper-1', 'data-api');
    const logs = capture.text();
    for (const secret of [token, 'sk-wrong-secret', 'sk-scraper-1', SECRET]) {
      assert.equal(logs.includes(secret), false);
    }
  });

  test('random secret logs a warning', () => {
    const capture = captureLogger();
    createAuth(configWithAuth({ jwtSecret: '' }), { logger: capture.logger });
    const warning = capture.records.find((record) => record.level === 40);
    assert.match(String(warning?.msg), /auth\.jwtSecret is not set.*stop working at restart/);
  });
});

describe('admin authorization', () => {
  test('API keys cannot use the admin API', async () => {
    const { authorizer } = setup();
    const error = await rejection(authorizer.authorizeAdmin('Bearer sk-all-1', 'read'));
    assert.equal(error.code, 'forbidden');
    assert.equal(error.message, 'API keys cannot use the admin API');
  });

  test('missing permission names role and permissions', async () => {
    const { authorizer } = setup();
    const viewer = `Bearer ${await localToken('viewer')}`;
    assert.equal((await authorizer.authorizeAdmin(viewer, 'read')).subject, 'alice');
    const error = await rejection(authorizer.authorizeAdmin(viewer, 'write'));
    assert.equal(error.message, "Permission denied: 'write' required, role 'viewer' has [read]");
    const operator = `Bearer ${await localToken('operator')}`;
    const denied = await rejection(authorizer.authorizeAdmin(operator, 'admin'));
    assert.equal(
      denied.message,
      "Permission denied: 'admin' required, role 'operator' has [read, write]",
    );
  });

  test('admin token has every permission', async () => {
    const { authorizer } = setup();
    const principal = await authorizer.authorizeAdmin(
      `Bearer ${await localToken('admin')}`,
      'admin',
    );
    assert.deepEqual(principal.permissions, new Set(['read', 'write', 'admin']));
  });

  test('missing admin token names Authorization', async () => {
    const { authorizer } = setup();
    const error = await rejection(authorizer.authorizeAdmin(undefined, 'read'));
    assert.equal(error.code, 'auth_required');
    assert.equal(error.message, 'Authentication required — set Authorization: Bearer <token>');
  });
});
