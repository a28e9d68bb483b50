import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { RateLimitedLog } from '../../../src/auth/rate-limited-log.js';
import { TokenCache } from '../../../src/auth/token-cache.js';

describe('token cache', () => {
  test('entry lives until its expiry', () => {
    const cache = new TokenCache<string>(10);
    cache.set('token-a', 'alice', 1_000);
    assert.equal(cache.get('token-a', 999), 'alice');
    assert.equal(cache.get('token-a', 1_000), null);
    assert.equal(cache.size, 0);
  });

  test('least recently used entry goes first', () => {
    const cache = new TokenCache<string>(2);
    cache.set('token-a', 'a', 10_000);
    cache.set('token-b', 'b', 10_000);
    assert.equal(cache.get('token-a', 0), 'a');
    cache.set('token-c', 'c', 10_000);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('token-b', 0), null);
    assert.equal(cache.get('token-a', 0), 'a');
    assert.equal(cache.get('token-c', 0), 'c');
  });

  test('unknown token is a miss', () => {
    const cache = new TokenCache<string>(2);
    assert.equal(cache.get('never-set', 0), null);
  });
});

describe('rate-limited log', () => {
  test('one message per key and interval', () => {
    let nowMs = 0;
    const gate = new RateLimitedLog(() => nowMs, 60_000);
    assert.equal(gate.allow('provider-a'), 0);
    assert.equal(gate.allow('provider-a'), null);
    assert.equal(gate.allow('provider-a'), null);
    assert.equal(gate.allow('provider-b'), 0);
    nowMs = 60_000;
    assert.equal(gate.allow('provider-a'), 2);
    assert.equal(gate.allow('provider-a'), null);
  });
});
