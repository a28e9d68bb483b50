/**
 * A quarantine that one Proxy Hopper process decides is shared through Redis: another process
 * on the same Redis stops using that IP at once and reports it quarantined in its own admin
 * status, with the same end time.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHopperProcess, type HopperProcess } from '../../helpers/hopper-process.js';
import { cleanupAll } from '../../helpers/processes.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import { headerValues, startTargets, type TargetServers } from '../../helpers/targets.js';
import {
  INSTANCE_HEADER,
  assertSameStoredTime,
  finishedRequests,
  ipRowsOf,
  pollUntil,
  redisConfig,
  sourceOf,
  viaInstance,
} from './fixture.js';

const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const QUARANTINE_MS = 600_000;
const B_REQUESTS = 12;

let redis: RedisServerHandle;
let squid: SquidPeer;
let targets: TargetServers;
let first: HopperProcess;
let second: HopperProcess;

before(async () => {
  [redis, squid, targets] = await Promise.all([
    startRedisServer({ password: 'quarantine-pw' }),
    startSquid({ outgoingAddresses: SOURCES }),
    startTargets(),
  ]);
  const config = redisConfig(
    squid,
    { url: redis.url, keyPrefix: 'quarantine' },
    {
      minRequestInterval: '0ms',
      maxQueueWait: '5s',
      numRetries: 2,
      ipFailuresUntilQuarantine: 1,
      quarantineTime: `${QUARANTINE_MS}ms`,
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

describe('quarantine across instances', () => {
  test('B never uses the IP A quarantined', async () => {
    // The first request with this key gets 503 from the target, whichever IP carried it. With
    // ipFailuresUntilQuarantine 1 that IP is quarantined, and A retries on another one.
    const tripped = await viaInstance(first, targets.httpOrigin, '/fail-first/1/shared');
    assert.equal(tripped.status, 200);
    const tripArrivals = targets.seen('/fail-first/1/shared');
    assert.equal(tripArrivals.length, 2);
    const badSource = tripArrivals[0]?.remote as string;
    assert.notEqual(tripArrivals[1]?.remote, badSource);
    const badAddress = [...sourceOf(squid)].find(([, source]) => source === badSource)?.[0];
    assert.ok(badAddress, `no squid port sends from ${badSource}`);

    const quarantineLine = await first.waitForLog((line) => line.message === 'ip quarantined');
    assert.equal(quarantineLine.address, badAddress);
    assert.equal(quarantineLine.failures, 1);
    assert.equal(quarantineLine.quarantineMs, QUARANTINE_MS);

    const rowsA = await ipRowsOf(first);
    const rowsB = await ipRowsOf(second);
    const badRowA = rowsA.find((row) => row.address === badAddress);
    const badRowB = rowsB.find((row) => row.address === badAddress);
    assert.equal(badRowB?.status, 'quarantined');
    assert.equal(badRowB?.failures, 1);
    assert.ok(badRowB?.quarantined_until, 'B shows no quarantine end');
    assert.ok(badRowA?.quarantined_until, 'A shows no quarantine end');
    assertSameStoredTime(
      badRowB.quarantined_until,
      badRowA.quarantined_until,
      'quarantine end in B',
    );
    const untilMs = Date.parse(badRowB.quarantined_until);
    const expectedUntilMs = (tripArrivals[0]?.arrivedAtMs as number) + QUARANTINE_MS;
    // The quarantine starts when A releases the failed lease, a few ms after the arrival.
    assert.ok(
      Math.abs(untilMs - expectedUntilMs) < 2000,
      `quarantined until ${badRowB.quarantined_until}`,
    );
    assert.deepEqual(
      rowsB.filter((row) => row.address !== badAddress).map((row) => row.status),
      ['available', 'available'],
    );

    const responses = await Promise.all(
      Array.from({ length: B_REQUESTS }, (_, i) =>
        viaInstance(second, targets.httpOrigin, `/after/${i}`),
      ),
    );
    assert.deepEqual(
      responses.map((response) => response.status),
      Array.from({ length: B_REQUESTS }, () => 200),
    );
    const fromB = targets.seen('/after/');
    assert.equal(fromB.length, B_REQUESTS);
    assert.deepEqual(
      [...new Set(fromB.map((request) => headerValues(request.headers, INSTANCE_HEADER)[0]))],
      ['B'],
    );
    const goodSources = SOURCES.filter((source) => source !== badSource);
    assert.deepEqual([...new Set(fromB.map((request) => request.remote))].sort(), goodSources);

    // The log line is written when the request ends, which can be just after the client read it.
    const finishedAfter = () =>
      finishedRequests(second).filter((entry) => String(entry.url).includes('/after/'));
    await pollUntil(() => finishedAfter().length >= B_REQUESTS, 5000, 'B request logs');
    const addressesB = finishedAfter().map((entry) => entry.address);
    assert.equal(addressesB.length, B_REQUESTS);
    assert.equal(addressesB.filter((address) => address === badAddress).length, 0);
    assert.equal(second.logs.filter((line) => line.message === 'retrying on another ip').length, 0);

    const after = (await ipRowsOf(second)).find((row) => row.address === badAddress);
    assert.equal(after?.status, 'quarantined');
  });
});
