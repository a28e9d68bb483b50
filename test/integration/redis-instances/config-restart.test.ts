/**
 * Restarting one Proxy Hopper process with the same config registers its targets with Redis
 * again, and that registration keeps the shared state: an IP that another instance
 * quarantined stays quarantined, with the same end time, for the restarted instance.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  restartHopperProcess,
  startHopperProcess,
  type HopperProcess,
} from '../../helpers/hopper-process.js';
import { cleanupAll } from '../../helpers/processes.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import { assertSameStoredTime, ipRowsOf, redisConfig, sourceOf, viaInstance } from './fixture.js';

const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const REQUESTS = 8;

let redis: RedisServerHandle;
let squid: SquidPeer;
let targets: TargetServers;
let first: HopperProcess;
let second: HopperProcess;

before(async () => {
  [redis, squid, targets] = await Promise.all([
    startRedisServer({ password: 'restart-pw' }),
    startSquid({ outgoingAddresses: SOURCES }),
    startTargets(),
  ]);
  const config = redisConfig(
    squid,
    { url: redis.url, keyPrefix: 'restart' },
    {
      minRequestInterval: '0ms',
      maxQueueWait: '5s',
      numRetries: 2,
      ipFailuresUntilQuarantine: 1,
      quarantineTime: '10m',
    },
  );
  [first, second] = await Promise.all([
    startHopperProcess({ name: 'A', config, admin: true }),
    startHopperProcess({ name: 'B', config, admin: true }),
  ]);
});

after(async () => {
  await cleanupAll();
  await Promise.all([targets?.close(), redis?.stop()]);
});

describe('instance restart with the same config', () => {
  test('quarantine survives a restart of B', async () => {
    const tripped = await viaInstance(first, targets.httpOrigin, '/fail-first/1/restart');
    assert.equal(tripped.status, 200);
    const badSource = targets.seen('/fail-first/1/restart')[0]?.remote as string;
    const badAddress = [...sourceOf(squid)].find(([, source]) => source === badSource)?.[0];
    assert.ok(badAddress, `no squid port sends from ${badSource}`);
    const before = (await ipRowsOf(second)).find((row) => row.address === badAddress);
    assert.equal(before?.status, 'quarantined');
    assert.ok(before?.quarantined_until, 'B shows no quarantine end before the restart');

    const exit = await second.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
    second = await restartHopperProcess(second);
    const registered = await second.waitForLog((line) =>
      String(line.message).startsWith('Proxy Hopper running on'),
    );
    assert.equal(registered.backend, 'redis');

    const rows = await ipRowsOf(second);
    assert.deepEqual(
      rows.map((row) => row.address),
      squid.ports.map((_, i) => squid.address(i)),
    );
    const afterRestart = rows.find((row) => row.address === badAddress);
    assert.equal(afterRestart?.status, 'quarantined');
    assert.equal(afterRestart?.failures, 1);
    assertSameStoredTime(
      afterRestart?.quarantined_until,
      before.quarantined_until,
      'quarantine end',
    );

    const responses = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) =>
        viaInstance(second, targets.httpOrigin, `/restarted/${i}`),
      ),
    );
    assert.deepEqual(
      responses.map((response) => response.status),
      Array.from({ length: REQUESTS }, () => 200),
    );
    const seen = targets.seen('/restarted/');
    assert.equal(seen.length, REQUESTS);
    const goodSources = SOURCES.filter((source) => source !== badSource);
    assert.deepEqual([...new Set(seen.map((request) => request.remote))].sort(), goodSources);
  });
});
