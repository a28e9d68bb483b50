import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { targetKeys, wakeChannel } from '../../../../src/backend/redis/keys.js';

describe('targetKeys', () => {
  test('share one hash tag per target', () => {
    assert.deepEqual(targetKeys('ph', 'shop'), {
      meta: 'ph:{shop}:meta',
      ips: 'ph:{shop}:ips',
      state: 'ph:{shop}:state',
    });
  });

  test('escape braces in target names', () => {
    assert.equal(targetKeys('ph', 'a}b{c%').meta, 'ph:{a%7Db%7Bc%25}:meta');
    assert.notEqual(targetKeys('ph', 'a}b').meta, targetKeys('ph', 'a%7Db').meta);
  });

  test('wake channel per prefix', () => {
    assert.equal(wakeChannel('ph'), 'ph:wake');
  });
});
