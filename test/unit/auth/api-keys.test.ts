import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';

import { apiKeyPrincipal, createApiKeyMatcher, hashApiKey } from '../../../src/auth/api-keys.js';
import type { ApiKeyConfig } from '../../../src/config/types.js';
import { apiKey } from '../../helpers/auth-config.js';

describe('API key matcher', () => {
  const scraper = apiKey('scraper', 'sk-scraper-0123456789', ['data-api']);
  const reporting = apiKey('reporting', 'sk-reporting-abcdef');

  test('matches the configured key', () => {
    const matcher = createApiKeyMatcher([scraper, reporting]);
    assert.equal(matcher.match('sk-reporting-abcdef')?.name, 'reporting');
    assert.equal(matcher.match('sk-scraper-0123456789')?.name, 'scraper');
  });

  test('rejects near misses', () => {
    const matcher = createApiKeyMatcher([scraper]);
    assert.equal(matcher.match('sk-scraper-012345678'), null);
    assert.equal(matcher.match('sk-scraper-0123456789 '), null);
    assert.equal(matcher.match('SK-SCRAPER-0123456789'), null);
    assert.equal(matcher.match(''), null);
  });

  test('matches a key configured only by hash', () => {
    const hashed: ApiKeyConfig = {
      name: 'hashed',
      key: null,
      keySha256: hashApiKey('sk-hashed-secret').slice('sha256:'.length),
      targets: ['*'],
    };
    const matcher = createApiKeyMatcher([hashed]);
    assert.equal(matcher.match('sk-hashed-secret')?.name, 'hashed');
    assert.equal(matcher.match('sk-hashed-secreT'), null);
  });

  test('hashApiKey gives sha256:<hex>', () => {
    const hex = createHash('sha256').update('abc').digest('hex');
    assert.equal(hashApiKey('abc'), `sha256:${hex}`);
    assert.equal(hex, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('principal has no permissions and the key targets', () => {
    const principal = apiKeyPrincipal(scraper);
    assert.equal(principal.kind, 'api_key');
    assert.equal(principal.subject, 'scraper');
    assert.equal(principal.permissions.size, 0);
    assert.deepEqual(principal.targets, new Set(['data-api']));
    assert.equal(apiKeyPrincipal(reporting).targets, '*');
  });
});
