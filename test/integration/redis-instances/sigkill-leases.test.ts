/**
 * An instance killed with SIGKILL while it holds leases loses no IP for longer than the lease
 * TTL: its leases stop being renewed, expire in Redis, and the other instances take the IPs
 * over. While they stream responses that last longer than the TTL, their own renewals keep each
 * IP exclusive, so the target never sees two open requests from one upstream address.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHopperProcess, type HopperProcess } from '../../helpers/hopper-process.js';
import { cleanupAll } from '../../helpers/processes.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import { STREAM_BODY, startStreamTarget, type StreamTarget } from '../../helpers/stream-target.js';
import { ipRowsOf, pollUntil, redisConfig, sourceOf, viaInstance } from './fixture.js';

const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const LEASE_TTL_MS = 1000;
/** Responses that outlast the lease TTL, so a lease survives only by being renewed. */
const STREAM_MS = 1500;
const REQUESTS_PER_SURVIVOR = 6;
// Time from a lease's expiry in Redis until a waiting request of another instance arrives at
// the target: the waiting instance's timer fires at the expiry that its last acquire returned, then one acquire
// round trip and squid's forwarding. 750 ms leaves room for a loaded machine.
const TAKEOVER_MARGIN_MS = 750;

// A renewal that C wrote just before the SIGKILL still runs in Redis afterwards, a few ms
// later (tens of ms on a loaded machine), and its lease expiry counts from then.
const KILL_SLACK_MS = 100;

let redis: RedisServerHandle;
let squid: SquidPeer;
let target: StreamTarget;
let first: HopperProcess;
let second: HopperProcess;
let victim: HopperProcess;

before(async () => {
  [redis, squid, target] = await Promise.all([
    startRedisServer({ password: 'sigkill-pw' }),
    startSquid({ outgoingAddresses: SOURCES }),
    startStreamTarget(),
  ]);
  const config = redisConfig(
    squid,
    { url: redis.url, keyPrefix: 'sigkill' },
    { minRequestInterval: '0ms', maxQueueWait: '20s', numRetries: 0 },
    { leaseTtl: `${LEASE_TTL_MS}ms` },
  );
  [first, second, victim] = await Promise.all([
    startHopperProcess({ name: 'A', config, admin: true }),
    startHopperProcess({ name: 'B', config, admin: true }),
    startHopperProcess({ name: 'C', config }),
  ]);
});

after(async () => {
  await cleanupAll();
  await Promise.all([target?.close(), redis?.stop()]);
});

describe('SIGKILL of an instance that holds leases', () => {
  test('survivors get every IP back', async () => {
    // C takes all three IPs with responses that would stream for 20 s.
    const held = SOURCES.map((_, i) =>
      viaInstance(victim, target.origin, `/stream?ms=20000&held=${i}`).then(
        () => 'answered',
        () => 'failed',
      ),
    );
    const fromVictim = () => target.records.filter((record) => record.instance === 'C');
    await pollUntil(
      () => fromVictim().length === SOURCES.length,
      10_000,
      'C holding all three IPs',
    );
    assert.deepEqual(
      fromVictim()
        .map((record) => record.remote)
        .sort(),
      SOURCES,
    );

    // A and B queue their requests while every IP is leased to C, then C dies.
    const load = [first, second].flatMap((hopper) =>
      Array.from({ length: REQUESTS_PER_SURVIVOR }, (_, i) =>
        viaInstance(hopper, target.origin, `/stream?ms=${STREAM_MS}&load=${hopper.name}${i}`),
      ),
    );
    const killedAtMs = Date.now();
    const exit = await victim.kill();
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL' });
    assert.deepEqual(await Promise.all(held), ['failed', 'failed', 'failed']);

    // C's leases are still in Redis: no instance renews them, and they end within one TTL.
    const leasedRows = await ipRowsOf(first);
    assert.deepEqual(
      leasedRows.map((row) => row.status),
      ['leased', 'leased', 'leased'],
    );
    const expiryBySource = new Map<string, number>();
    const sources = sourceOf(squid);
    for (const row of leasedRows) {
      const expiresAtMs = Date.parse(row.lease_expires_at ?? '');
      const lateMs = expiresAtMs - (killedAtMs + LEASE_TTL_MS);
      assert.ok(
        lateMs <= KILL_SLACK_MS,
        `${row.address} leased until ${lateMs} ms after kill + TTL`,
      );
      expiryBySource.set(sources.get(row.address) as string, expiresAtMs);
    }

    const responses = await Promise.all(load);
    assert.deepEqual(
      responses.map((response) => response.status),
      Array.from({ length: 2 * REQUESTS_PER_SURVIVOR }, () => 200),
    );
    assert.deepEqual(
      responses.map((response) => response.body.toString('utf8')),
      Array.from({ length: 2 * REQUESTS_PER_SURVIVOR }, () => STREAM_BODY),
    );

    const survivors = target.records.filter(
      (record) => record.instance === 'A' || record.instance === 'B',
    );
    assert.equal(survivors.length, 2 * REQUESTS_PER_SURVIVOR);
    for (const source of SOURCES) {
      const arrivals = survivors
        .filter((record) => record.remote === source)
        .map((record) => record.arrivedAtMs);
      // Twelve responses of equal length over three IPs: four rounds, one request per IP each.
      assert.equal(arrivals.length, 4, `requests through ${source}`);
      const firstArrivalMs = Math.min(...arrivals);
      const expiresAtMs = expiryBySource.get(source) as number;
      assert.ok(
        firstArrivalMs >= expiresAtMs - 5,
        `${source} reused ${expiresAtMs - firstArrivalMs} ms before C's lease ended`,
      );
      assert.ok(
        firstArrivalMs <= expiresAtMs + TAKEOVER_MARGIN_MS,
        `${source} taken over ${firstArrivalMs - expiresAtMs} ms after C's lease ended`,
      );
    }

    // C's responses were cut when its connections to squid closed, so at no time did an
    // upstream address carry two open requests, C's included.
    for (const record of fromVictim()) {
      assert.equal(record.completed, false);
      assert.ok(record.closedAtMs !== null, `C's request through ${record.remote} is still open`);
    }
    assert.deepEqual(
      SOURCES.map((source) => target.maxOpenBySource.get(source)),
      [1, 1, 1],
    );

    for (const hopper of [first, second]) {
      const rows = await ipRowsOf(hopper);
      assert.deepEqual(
        rows.map((row) => [row.address, row.status, row.lease_expires_at]),
        squid.ports.map((_, i) => [squid.address(i), 'available', null]),
        `${hopper.name} status after the load`,
      );
    }
  });
});
