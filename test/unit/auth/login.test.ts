import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, describe, test } from 'node:test';

import bcrypt from 'bcryptjs';
import { decodeJwt } from 'jose';

import { createAuth } from '../../../src/auth/authorizer.js';
import { hashPassword, verifyPassword } from '../../../src/auth/passwords.js';
import type { LocalUserConfig } from '../../../src/config/types.js';
import { configWithAuth } from '../../helpers/auth-config.js';
import { captureLogger } from '../../helpers/log-capture.js';

const T0 = Date.parse('2026-02-01T00:00:00Z');
const FORM = 'application/x-www-form-urlencoded';

let users: LocalUserConfig[];

before(async () => {
  users = [
    { username: 'admin', passwordHash: await bcrypt.hash('correct horse', 4), role: 'admin' },
    { username: 'ops', passwordHash: await bcrypt.hash('ops-pass', 4), role: 'operator' },
  ];
});

function setup(options: { nowMs?: () => number; enabled?: boolean; withUsers?: boolean } = {}) {
  const capture = captureLogger();
  const config = configWithAuth({
    enabled: options.enabled ?? true,
    jwtExpiryMinutes: 30,
    users: options.withUsers === false ? [] : users,
  });
  const auth = createAuth(config, { logger: capture.logger, now: options.nowMs ?? (() => T0) });
  return { ...auth, capture };
}

function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

describe('POST /auth/login', () => {
  test('JSON body returns the token superset', async () => {
    const { login, authorizer } = setup();
    const response = await login({
      body: jsonBody({ username: 'admin', password: 'correct horse' }),
      contentType: 'application/json',
      clientAddress: '127.0.0.1',
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers['Content-Type'], 'application/json');
    const body = JSON.parse(response.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), [
      'access_token',
      'expires_in',
      'token',
      'token_type',
    ]);
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.expires_in, 1800);
    assert.equal(body.token, body.access_token);
    assert.deepEqual(decodeJwt(String(body.token)), {
      sub: 'admin',
      role: 'admin',
      iat: T0 / 1000,
      exp: T0 / 1000 + 1800,
    });
    const principal = await authorizer.authorizeProxy(`Bearer ${String(body.token)}`, 'any');
    assert.equal(principal.subject, 'admin');
  });

  test('form body with OAuth2 fields works', async () => {
    const { login } = setup();
    const response = await login({
      body: Buffer.from('grant_type=password&username=ops&password=ops-pass&scope=&client_id=x'),
      contentType: `${FORM}; charset=utf-8`,
      clientAddress: '127.0.0.1',
    });
    assert.equal(response.status, 200);
    assert.equal(decodeJwt(JSON.parse(response.body).access_token).role, 'operator');
  });

  test('wrong password and unknown user are 401', async () => {
    const { login } = setup();
    for (const [username, password] of [
      ['admin', 'wrong'],
      ['nobody', 'correct horse'],
    ]) {
      const response = await login({
        body: jsonBody({ username, password }),
        contentType: 'application/json',
        clientAddress: `127.0.0.${username === 'admin' ? 2 : 3}`,
      });
      assert.equal(response.status, 401);
      assert.deepEqual(JSON.parse(response.body), { detail: 'Incorrect username or password' });
      assert.equal(response.headers['WWW-Authenticate'], 'Bearer');
    }
  });

  test('not configured is 404', async () => {
    for (const options of [{ enabled: false }, { withUsers: false }]) {
      const { login } = setup(options);
      const response = await login({
        body: jsonBody({ username: 'admin', password: 'correct horse' }),
        contentType: 'application/json',
        clientAddress: '127.0.0.1',
      });
      assert.equal(response.status, 404);
      assert.deepEqual(JSON.parse(response.body), {
        detail: 'Local authentication is not configured',
      });
    }
  });

  test('malformed bodies are 400 naming the gap', async () => {
    const { login } = setup();
    const cases: [string, string | undefined, RegExp][] = [
      ['{"username":"admin"}', 'application/json', /^Missing 'password' in the login body/],
      ['password=x', FORM, /^Missing 'username' in the login body/],
      ['', FORM, /^Missing 'username' and 'password'/],
      ['{"username":', 'application/json', /^Login body is not valid JSON/],
      ['["admin"]', 'application/json', /must be a JSON object/],
      ['{"username":"admin","password":5}', undefined, /^Missing 'password'/],
    ];
    for (const [text, contentType, detail] of cases) {
      const response = await login({ body: Buffer.from(text), contentType, clientAddress: '::1' });
      assert.equal(response.status, 400, text);
      assert.match(JSON.parse(response.body).detail, detail, text);
    }
  });

  test('five failures per minute then 429', async () => {
    let nowMs = T0;
    const { login } = setup({ nowMs: () => nowMs });
    const attempt = (password: string, clientAddress = '127.0.0.9') =>
      login({
        body: jsonBody({ username: 'admin', password }),
        contentType: 'application/json',
        clientAddress,
      });

    for (let i = 0; i < 5; i += 1) {
      nowMs = T0 + i * 1000;
      assert.equal((await attempt('wrong')).status, 401);
    }
    nowMs = T0 + 10_000;
    const limited = await attempt('correct horse');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['Retry-After'], '50');
    assert.match(JSON.parse(limited.body).detail, /Too many failed logins; retry in 50 seconds/);

    assert.equal((await attempt('correct horse', '127.0.0.10')).status, 200);
    nowMs = T0 + 60_001;
    assert.equal((await attempt('correct horse')).status, 200);
  });

  test('login logs never contain the password', async () => {
    const { login, capture } = setup();
    await login({
      body: jsonBody({ username: 'admin', password: 'hunter2-secret' }),
      contentType: 'application/json',
      clientAddress: '127.0.0.7',
    });
    const failed = capture.records.find((record) => record.msg === 'login failed');
    assert.equal(failed?.username, 'admin');
    assert.equal(failed?.clientAddress, '127.0.0.7');
    assert.equal(capture.text().includes('hunter2-secret'), false);
  });
});

describe('password hashes', () => {
  test('$2y$ hash from htpasswd verifies', async () => {
    const line = execFileSync('htpasswd', ['-bnBC', '10', '', 'pass'], { encoding: 'utf8' });
    const hash = line.trim().replace(/^:/, '');
    assert.match(hash, /^\$2y\$10\$/);
    assert.equal(await verifyPassword('pass', hash), true);
    assert.equal(await verifyPassword('pass2', hash), false);
  });

  test('hashPassword makes cost 12 $2b$ hashes', async () => {
    const hash = await hashPassword('s3cret');
    assert.match(hash, /^\$2b\$12\$/);
    assert.equal(await verifyPassword('s3cret', hash), true);
    assert.equal(
      await verifyPassword('s3cret', `${hash.slice(0, 7).replace('2b', '2a')}${hash.slice(7)}`),
      true,
    );
  });

  test('malformed hash never matches', async () => {
    assert.equal(await verifyPassword('x', 'not-a-hash'), false);
  });
});
