import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisBackend } from '../../../../src/backend/redis/redis-backend.js';
import {
  makeTestCertificates,
  removeDir,
  startRedisServer,
  type RedisServerHandle,
  type TestCertificates,
} from '../../../helpers/redis-server.js';
import { leased, poolSpec, runBackendContract } from '../contract.js';
import { captureLogger } from './support.js';

let certificates: TestCertificates;
let server: RedisServerHandle;
let ca: Buffer;
let prefixes = 0;

before(async () => {
  certificates = await makeTestCertificates();
  ca = await readFile(certificates.caFile);
  server = await startRedisServer({ password: 'tls-pw', tls: certificates });
});

after(async () => {
  await server.stop();
  await removeDir(certificates.dir);
});

describe('Redis over TLS', () => {
  test('rediss URL with private CA', async () => {
    assert.match(server.url, /^rediss:\/\/:tls-pw@127\.0\.0\.1:\d+$/);
    const backend = new RedisBackend({ url: server.url, keyPrefix: 'tls', tls: { ca } });
    await backend.start();
    await backend.syncTarget(poolSpec());
    const lease = leased(await backend.tryAcquire('shop', new Set()));
    assert.equal(lease.address, '10.0.0.1:3128');
    await backend.stop();
  });

  test('untrusted certificate is not ready', async () => {
    const { logger, lines } = captureLogger();
    const backend = new RedisBackend({
      url: server.url,
      keyPrefix: 'untrusted',
      logger,
      retryBaseDelayMs: 20,
      retryMaxDelayMs: 50,
    });
    const starting = backend.start();
    await sleep(300);
    assert.equal(backend.isReady(), false);
    await backend.stop();
    await assert.rejects(starting, /Stopped before Redis/);
    const retries = lines.filter((line) => line.msg === 'redis unreachable; reconnecting');
    assert.ok(retries.length >= 1);
  });

  test('plain redis URL to TLS port fails', async () => {
    const plain = server.url.replace('rediss://', 'redis://');
    const backend = new RedisBackend({ url: plain, keyPrefix: 'plain', retryBaseDelayMs: 20 });
    const starting = backend.start();
    await sleep(200);
    assert.equal(backend.isReady(), false);
    await backend.stop();
    await assert.rejects(starting, /Stopped before Redis/);
  });
});

runBackendContract('redis tls', async ({ leaseTtlMs, events }) => {
  prefixes += 1;
  return new RedisBackend({
    url: server.url,
    keyPrefix: `tls${prefixes}`,
    leaseTtlMs,
    events,
    tls: { ca },
  });
});
