import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import {
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  SignJWT,
  createLocalJWKSet,
  exportJWK,
  exportSPKI,
  generateKeyPair,
} from 'jose';

import { type TokenRules, verifyToken } from '../../../src/auth/oidc/verify-token.js';

const ISSUER = 'https://kc.test/realms/r1';
const NOW_SEC = Date.parse('2026-03-01T12:00:00Z') / 1000;

interface SigningKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function signingKey(alg: string, kid: string | undefined): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), alg, use: 'sig' };
  if (kid !== undefined) publicJwk.kid = kid;
  return { privateKey, publicJwk };
}

async function sign(key: SigningKey, alg: string, claims: JWTPayload): Promise<string> {
  const header = key.publicJwk.kid === undefined ? { alg } : { alg, kid: key.publicJwk.kid };
  return new SignJWT(claims).setProtectedHeader(header).sign(key.privateKey);
}

function rules(overrides: Partial<TokenRules> = {}): TokenRules {
  return {
    issuer: ISSUER,
    audience: [],
    clockToleranceSec: 30,
    nowMs: NOW_SEC * 1000,
    ...overrides,
  };
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Wraps a key set and counts how often a key was looked up. */
function countingKeys(keys: JWTVerifyGetKey): { keys: JWTVerifyGetKey; lookups: () => number } {
  let lookups = 0;
  const counted: JWTVerifyGetKey = (header, token) => {
    lookups += 1;
    return keys(header, token);
  };
  return { keys: counted, lookups: () => lookups };
}

describe('OIDC token verification', () => {
  let rsa: SigningKey;
  let keys: JWTVerifyGetKey;
  const valid = { iss: ISSUER, sub: 'svc', iat: NOW_SEC, exp: NOW_SEC + 300 };

  before(async () => {
    rsa = await signingKey('RS256', 'rsa-1');
    keys = createLocalJWKSet({ keys: [rsa.publicJwk] });
  });

  test('valid RS256 token passes', async () => {
    const result = await verifyToken(await sign(rsa, 'RS256', valid), keys, rules());
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.payload.sub, 'svc');
  });

  test('ES256, PS256 and EdDSA tokens pass', async () => {
    for (const alg of ['ES256', 'PS256', 'EdDSA']) {
      const key = await signingKey(alg, `${alg}-1`);
      const set = createLocalJWKSet({ keys: [key.publicJwk] });
      const result = await verifyToken(await sign(key, alg, valid), set, rules());
      assert.equal(result.ok, true, alg);
    }
  });

  test('alg none is rejected without key lookup', async () => {
    const counted = countingKeys(keys);
    for (const alg of ['none', 'None', 'NONE', 'nOne']) {
      const token = `${base64url({ alg, typ: 'JWT' })}.${base64url({ ...valid, roles: ['admin'] })}.`;
      const result = await verifyToken(token, counted.keys, rules());
      assert.equal(result.ok === false && result.reason, 'alg_not_allowed', alg);
    }
    assert.equal(counted.lookups(), 0);
  });

  test('HS256 with the public key as secret is rejected', async () => {
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    const token = await new SignJWT(valid)
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .sign(new TextEncoder().encode(pem));
    const counted = countingKeys(keys);
    const result = await verifyToken(token, counted.keys, rules());
    assert.equal(result.ok === false && result.reason, 'alg_not_allowed');
    assert.equal(counted.lookups(), 0);
  });

  test('issuer must match byte for byte', async () => {
    const token = await sign(rsa, 'RS256', { ...valid, iss: `${ISSUER}/` });
    const result = await verifyToken(token, keys, rules());
    assert.equal(result.ok === false && result.reason, 'issuer');
  });

  test('signature of another key fails', async () => {
    const impostor = await signingKey('RS256', 'rsa-1');
    const result = await verifyToken(await sign(impostor, 'RS256', valid), keys, rules());
    assert.equal(result.ok === false && result.reason, 'signature');
  });

  test('unknown kid is reported as such', async () => {
    const other = await signingKey('RS256', 'rsa-2');
    const result = await verifyToken(await sign(other, 'RS256', valid), keys, rules());
    assert.equal(result.ok === false && result.reason, 'no_matching_key');
  });

  test('token without kid tries every key', async () => {
    const first = await signingKey('RS256', undefined);
    const second = await signingKey('RS256', undefined);
    const set = createLocalJWKSet({ keys: [first.publicJwk, second.publicJwk] });
    assert.equal((await verifyToken(await sign(second, 'RS256', valid), set, rules())).ok, true);
    assert.equal((await verifyToken(await sign(first, 'RS256', valid), set, rules())).ok, true);
  });

  describe('audience arrays', () => {
    const cases: [string, string | string[] | undefined, readonly string[], boolean][] = [
      ['array naming ours', ['account', 'ph'], ['ph'], true],
      ['array without ours', ['account'], ['ph'], false],
      ['string equal to ours', 'ph', ['ph'], true],
      ['string of another', 'other', ['ph'], false],
      ['extra accepted audience', ['account'], ['ph-api', 'account'], true],
      ['primary of several', 'ph-api', ['ph-api', 'account'], true],
      ['other with several', 'other', ['ph-api', 'account'], false],
      ['missing aud', undefined, ['ph-api', 'account'], false],
      ['no audience configured', 'anything', [], true],
    ];
    for (const [name, aud, audience, accepted] of cases) {
      test(name, async () => {
        const claims = aud === undefined ? { ...valid, azp: 'ph-api' } : { ...valid, aud };
        const result = await verifyToken(
          await sign(rsa, 'RS256', claims),
          keys,
          rules({ audience }),
        );
        assert.equal(result.ok, accepted);
        if (!result.ok) assert.equal(result.reason, 'audience');
      });
    }
  });

  describe('clock skew with 30 s tolerance', () => {
    const cases: [string, JWTPayload, string | null][] = [
      ['iat and nbf 5 s ahead', { iat: NOW_SEC + 5, nbf: NOW_SEC + 5, exp: NOW_SEC + 300 }, null],
      ['expired 10 s ago', { iat: NOW_SEC - 310, exp: NOW_SEC - 10 }, null],
      ['expired 120 s ago', { iat: NOW_SEC - 420, exp: NOW_SEC - 120 }, 'expired'],
      [
        'nbf 120 s ahead',
        { iat: NOW_SEC, nbf: NOW_SEC + 120, exp: NOW_SEC + 300 },
        'not_yet_valid',
      ],
      ['iat 120 s ahead', { iat: NOW_SEC + 120, exp: NOW_SEC + 300 }, 'not_yet_valid'],
      ['no exp', { iat: NOW_SEC }, 'claims'],
    ];
    for (const [name, times, reason] of cases) {
      test(name, async () => {
        const claims = { iss: ISSUER, sub: 'svc', ...times };
        const result = await verifyToken(await sign(rsa, 'RS256', claims), keys, rules());
        assert.equal(result.ok ? null : result.reason, reason);
      });
    }
  });
});
