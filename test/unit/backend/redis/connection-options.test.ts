import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRedisUrl, redactUrl } from '../../../../src/backend/redis/connection-options.js';

describe('parseRedisUrl', () => {
  test('standalone with password and db', () => {
    const plan = parseRedisUrl('redis://:s3cret@127.0.0.1:6380/2');
    assert.equal(plan.mode, 'standalone');
    assert.equal(plan.tls, false);
    assert.deepEqual(plan.endpoints, [{ host: '127.0.0.1', port: 6380 }]);
    assert.equal(plan.username, undefined);
    assert.equal(plan.password, 's3cret');
    assert.equal(plan.db, 2);
    assert.equal(plan.display, '127.0.0.1:6380');
  });

  test('defaults port and db', () => {
    const plan = parseRedisUrl('redis://localhost');
    assert.deepEqual(plan.endpoints, [{ host: 'localhost', port: 6379 }]);
    assert.equal(plan.db, 0);
    assert.equal(plan.password, undefined);
  });

  test('rediss with user and encoded password', () => {
    const plan = parseRedisUrl('rediss://app:p%40ss%3Aword@[::1]:6390/0');
    assert.equal(plan.tls, true);
    assert.equal(plan.username, 'app');
    assert.equal(plan.password, 'p@ss:word');
    assert.deepEqual(plan.endpoints, [{ host: '::1', port: 6390 }]);
    assert.equal(plan.display, '[::1]:6390');
  });

  test('sentinel with master name', () => {
    const plan = parseRedisUrl(
      'redis+sentinel://:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster/3?sentinelPassword=sp',
    );
    assert.equal(plan.mode, 'sentinel');
    assert.equal(plan.masterName, 'mymaster');
    assert.equal(plan.db, 3);
    assert.equal(plan.sentinelPassword, 'sp');
    assert.equal(plan.password, 'pw');
    assert.deepEqual(plan.endpoints, [
      { host: '127.0.0.1', port: 26379 },
      { host: '127.0.0.1', port: 26380 },
    ]);
    assert.equal(plan.display, '127.0.0.1:26379,127.0.0.1:26380');
  });

  test('sentinel default port', () => {
    const plan = parseRedisUrl('rediss+sentinel://10.1.1.1/primary');
    assert.equal(plan.tls, true);
    assert.deepEqual(plan.endpoints, [{ host: '10.1.1.1', port: 26379 }]);
  });

  test('cluster seed nodes', () => {
    const plan = parseRedisUrl('redis+cluster://:pw@127.0.0.1:7000,127.0.0.1:7001');
    assert.equal(plan.mode, 'cluster');
    assert.equal(plan.endpoints.length, 2);
    assert.equal(plan.db, 0);
  });

  test('invalid URLs name the problem', () => {
    const cases: [string, RegExp][] = [
      ['http://127.0.0.1:6379', /expected redis:\/\/host:port\/db/],
      ['redis+sentinel://127.0.0.1:26379', /needs the master name/],
      ['redis+cluster://127.0.0.1:7000/1', /only database 0/],
      ['redis://127.0.0.1:6379/x', /expected \/<db number>/],
      ['redis://127.0.0.1:99999', /'127.0.0.1:99999' is not a host or host:port/],
      ['redis://:topsecret@127.0.0.1:6379/a', /redis:\/\/:\*\*\*@127.0.0.1:6379\/a/],
    ];
    for (const [url, pattern] of cases) {
      assert.throws(() => parseRedisUrl(url), pattern, url);
    }
  });

  test('errors never contain the password', () => {
    assert.throws(
      () => parseRedisUrl('redis://user:topsecret@127.0.0.1:6379/a'),
      (err: Error) => !err.message.includes('topsecret'),
    );
  });
});

describe('redactUrl', () => {
  test('hides the password only', () => {
    assert.equal(redactUrl('redis://u:pw@h:1/0'), 'redis://u:***@h:1/0');
    assert.equal(redactUrl('redis://:pw@h:1'), 'redis://:***@h:1');
    assert.equal(redactUrl('redis://h:1'), 'redis://h:1');
  });
});
