import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackend } from '../../../src/backend/create-backend.js';
import type { Config, ServerConfig } from '../../../src/config/types.js';

function configWith(server: Partial<ServerConfig>): Config {
  const defaults = {
    backend: 'memory',
    redisUrl: 'redis://127.0.0.1:6379/0',
    redisKeyPrefix: 'ph',
    leaseTtlMs: 30_000,
  };
  return { server: { ...defaults, ...server } } as unknown as Config;
}

describe('createBackend', () => {
  test('memory when configured', async () => {
    const backend = createBackend(configWith({ leaseTtlMs: 1234 }), { now: () => 5000 });
    assert.equal(backend.kind, 'memory');
    await backend.start();
    const ip = { address: 'a:1', host: 'a', port: 1, provider: '', region: '', credentials: null };
    await backend.syncTarget({
      target: 't',
      ips: [ip],
      minRequestIntervalMs: 0,
      ipFailuresUntilQuarantine: 1,
      quarantineMs: 1,
      minActiveIps: 0,
    });
    const result = await backend.tryAcquire('t', new Set());
    assert.equal(result.kind === 'leased' && result.lease.expiresAtMs, 5000 + 1234);
    await backend.stop();
  });

  test('redis when configured', async () => {
    const backend = createBackend(configWith({ backend: 'redis' }));
    assert.equal(backend.kind, 'redis');
    assert.equal(backend.isReady(), false);
    await backend.stop();
  });

  test('invalid redis URL fails at build', () => {
    assert.throws(
      () => createBackend(configWith({ backend: 'redis', redisUrl: 'http://x' })),
      /Invalid Redis URL 'http:\/\/x'/,
    );
  });

  test('braces in key prefix rejected', () => {
    assert.throws(
      () => createBackend(configWith({ backend: 'redis', redisKeyPrefix: 'ph{x}' })),
      /Invalid redisKeyPrefix 'ph\{x\}'/,
    );
  });
});
