/**
 * A lease must stay held for the whole attempt, not only while the body streams. An upstream
 * may take longer than the lease TTL to send its response headers, because connectTimeout plus
 * responseTimeout (10 s + 30 s by default) exceed the default 30 s leaseTtl. Another instance
 * must not get the IP while the first attempt still waits for those headers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHopperProcess, type HopperProcess } from '../../helpers/hopper-process.js';
import { cleanupAll } from '../../helpers/processes.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import { STREAM_BODY, startStreamTarget, type StreamTarget } from '../../helpers/stream-target.js';
import { pollUntil, redisConfig, viaInstance } from './fixture.js';

const SOURCE = '127.0.0.2';
const LEASE_TTL_MS = 1000;
/** Time the target waits before the response headers: longer than the lease TTL. */
const HEADER_DELAY_MS = 2500;

let redis: RedisServerHandle;
let squid: SquidPeer;
let target: StreamTarget;
let first: HopperProcess;
let second: HopperProcess;

before(async () => {
  [redis, squid, target] = await Promise.all([
    startRedisServer({ password: 'renewal-pw' }),
    startSquid({ outgoingAddresses: [SOURCE] }),
    startStreamTarget(),
  ]);
  const config = redisConfig(
    squid,
    { url: redis.url, keyPrefix: 'renewal' },
    { minRequestInterval: '0ms', maxQueueWait: '10s', numRetries: 0 },
    { leaseTtl: `${LEASE_TTL_MS}ms` },
  );
  [first, second] = await Promise.all([
    startHopperProcess({ name: 'A', config }),
    startHopperProcess({ name: 'B', config }),
  ]);
});

after(async () => {
  await cleanupAll();
  await Promise.all([target?.close(), redis?.stop()]);
});

describe('lease renewal', () => {
  test('lease held while headers are slow', async () => {
    const slow = viaInstance(first, target.origin, `/stream?ms=0&headerMs=${HEADER_DELAY_MS}`);
    await pollUntil(() => target.records.length === 1, 5000, "A's request at the target");

    const quick = await viaInstance(second, target.origin, '/stream?ms=0');
    const slowResponse = await slow;
    assert.equal(slowResponse.status, 200);
    assert.equal(slowResponse.body.toString('utf8'), STREAM_BODY);
    assert.equal(quick.status, 200);

    const [slowRecord, quickRecord] = target.records;
    assert.equal(slowRecord?.instance, 'A');
    assert.equal(quickRecord?.instance, 'B');
    assert.equal(target.maxOpenBySource.get(SOURCE), 1);
    assert.ok(
      (quickRecord?.arrivedAtMs as number) >= (slowRecord?.closedAtMs as number),
      `B's request arrived ${(quickRecord?.arrivedAtMs as number) - (slowRecord?.arrivedAtMs as number)} ms after A's, before A's response ended`,
    );
  });
});
