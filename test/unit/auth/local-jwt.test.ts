import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';

import { LocalJwt } from '../../../src/auth/local-jwt.js';

const SECRET = 'local-jwt-test-secret-0123456789abcdef';
const T0 = Date.parse('2026-01-01T00:00:00Z');

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('local JWT', () => {
  test('issued token has sub, role, iat and exp', async () => {
    const jwt = new LocalJwt({ secret: SECRET, expiryMinutes: 60, now: () => T0 });
    const issued = await jwt.issue('alice', 'operator');
    assert.equal(issued.expiresInSec, 3600);
    assert.deepEqual(decodeProtectedHeader(issued.token), { alg: 'HS256', typ: 'JWT' });
    assert.deepEqual(decodeJwt(issued.token), {
      sub: 'alice',
      role: 'operator',
      iat: T0 / 1000,
      exp: T0 / 1000 + 3600,
    });
  });

  test('verify returns the claims', async () => {
    const jwt = new LocalJwt({ secret: SECRET, expiryMinutes: 60, now: () => T0 });
    const { token } = await jwt.issue('alice', 'operator');
    const result = await jwt.verify(token);
    assert.deepEqual(result, {
      ok: true,
      claims: { subject: 'alice', role: 'operator', expiresAtMs: T0 + 3_600_000 },
    });
  });

  test('expired token is reported as expired', async () => {
    let nowMs = T0;
    const jwt = new LocalJwt({ secret: SECRET, expiryMinutes: 1, now: () => nowMs });
    const { token } = await jwt.issue('alice', 'admin');
    nowMs = T0 + 59_000;
    assert.equal((await jwt.verify(token)).ok, true);
    nowMs = T0 + 61_000;
    assert.deepEqual(await jwt.verify(token), { ok: false, reason: 'expired' });
  });

  test('tampered payload is invalid', async () => {
    const jwt = new LocalJwt({ secret: SECRET, expiryMinutes: 60, now: () => T0 });
    const { token } = await jwt.issue('alice', 'viewer');
    const [header, , signature] = token.split('.');
    const forged = base64url({
      sub: 'alice',
      role: 'admin',
      iat: T0 / 1000,
      exp: T0 / 1000 + 3600,
    });
    assert.deepEqual(await jwt.verify(`${header}.${forged}.${signature}`), {
      ok: false,
      reason: 'invalid',
    });
  });

  test('token of another secret is invalid', async () => {
    const other = new LocalJwt({
      secret: 'another-secret-0123456789abcdef',
      expiryMinutes: 60,
      now: () => T0,
    });
    const jwt = new LocalJwt({ secret: SECRET, expiryMinutes: 60, now: () => T0 });
    const { token } = await other.issue('alice', 'admin');
    assert.deepEqual(await jwt.verify(token), { ok: false, reason: 'invalid' });
  });

  test('alg none is rejected in every casing', async () => {
    const jwt = new LocalJwt({ secret: SECRET, expiryMinutes: 60, now: () => T0 });
    const payload = base64url({
      sub: 'mallory',
      role: 'admin',
      iat: T0 / 1000,
      exp: T0 / 1000 + 60,
    });
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const token = `${base64url({ alg, typ: 'JWT' })}.${payload}.`;
      assert.deepEqual(await jwt.verify(token), { ok: false, reason: 'invalid' }, alg);
    }
  });

  test('missing role claim means viewer', async () => {
    const jwt = new LocalJwt({ secret: SECRET, expiryMinutes: 60, now: () => T0 });
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bob')
      .setIssuedAt(T0 / 1000)
      .setExpirationTime(T0 / 1000 + 60)
      .sign(new TextEncoder().encode(SECRET));
    const result = await jwt.verify(token);
    assert.equal(result.ok && result.claims.role, 'viewer');
  });

  test('token without exp is invalid', async () => {
    const jwt = new LocalJwt({ secret: SECRET, expiryMinutes: 60, now: () => T0 });
    const token = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bob')
      .sign(new TextEncoder().encode(SECRET));
    assert.deepEqual(await jwt.verify(token), { ok: false, reason: 'invalid' });
  });

  test('empty secret makes a random one', async () => {
    const first = new LocalJwt({ secret: '', expiryMinutes: 60, now: () => T0 });
    const second = new LocalJwt({ secret: '', expiryMinutes: 60, now: () => T0 });
    assert.equal(first.secretGenerated, true);
    const { token } = await first.issue('alice', 'admin');
    assert.equal((await first.verify(token)).ok, true);
    assert.deepEqual(await second.verify(token), { ok: false, reason: 'invalid' });
  });
});
