import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisBackend } from '../../../../src/backend/redis/redis-backend.js';
import type { Lease } from '../../../../src/backend/types.js';
import { EventBus } from '../../../../src/observe/events.js';
import { ip, leased, nextWake, poolSpec } from '../contract.js';
import {
  startRedisServer,
  stopChild,
  type RedisServerHandle,
} from '../../../helpers/redis-server.js';
import { fastBackend, recordEvents } from './support.js';

const none = new Set<string>();
const success = { result: 'success', cooldownFromRelease: false } as const;
const failure = { result: 'failure', cooldownFromRelease: false } as const;
let server: RedisServerHandle;

before(async () => {
  server = await startRedisServer({ password: 'instances-pw' });
});

after(async () => {
  await server.stop();
});

async function pair(keyPrefix: string, leaseTtlMs = 2000): Promise<[RedisBackend, RedisBackend]> {
  const first = fastBackend({ url: server.url, keyPrefix, leaseTtlMs });
  const second = fastBackend({ url: server.url, keyPrefix, leaseTtlMs });
  await Promise.all([first.start(), second.start()]);
  return [first, second];
}

describe('Redis backend across instances', () => {
  test('never lease one IP twice', async (t) => {
    const intervalMs = 30;
    const [first, second] = await pair('exclusive');
    t.after(() => Promise.all([first.stop(), second.stop()]));
    const spec = poolSpec({ minRequestIntervalMs: intervalMs });
    await Promise.all([first.syncTarget(spec), second.syncTarget(spec)]);
    // Replies teach each backend its Redis clock offset; a warm estimate keeps times steady.
    for (let i = 0; i < 50; i++)
      await Promise.all([first.snapshot('shop'), second.snapshot('shop')]);

    const holders = new Map<string, Lease>();
    const starts = new Map<string, number[]>();
    const perInstance = [0, 0];
    let overlaps = 0;
    let cycles = 0;
    const deadlineMs = Date.now() + 20_000;
    const worker = async (backend: RedisBackend, index: number) => {
      while (cycles < 200 && Date.now() < deadlineMs) {
        const result = await backend.tryAcquire('shop', none);
        if (result.kind === 'wait') {
          const waitMs = (result.readyAtMs ?? Date.now() + 5) - Date.now();
          await sleep(Math.min(Math.max(waitMs, 1), 10));
          continue;
        }
        const { lease } = result;
        if (holders.has(lease.address)) overlaps++;
        holders.set(lease.address, lease);
        starts.set(lease.address, [...(starts.get(lease.address) ?? []), lease.acquiredAtMs]);
        await sleep(2);
        holders.delete(lease.address);
        assert.equal((await backend.release(lease, success)).applied, true);
        cycles++;
        perInstance[index] = (perInstance[index] ?? 0) + 1;
      }
    };
    const workers = [first, second].flatMap((backend, index) =>
      Array.from({ length: 6 }, () => worker(backend, index)),
    );
    await Promise.all(workers);

    assert.equal(overlaps, 0);
    assert.ok(cycles >= 200, `only ${cycles} cycles within 20 s`);
    assert.ok((perInstance[0] ?? 0) > 0, 'the first instance leased IPs');
    assert.ok((perInstance[1] ?? 0) > 0, 'the second instance leased IPs');
    // acquiredAtMs is Redis time moved onto the local clock by an estimated offset.
    for (const [address, times] of starts) {
      const sorted = [...times].sort((a, b) => a - b);
      const gaps = sorted.slice(1).map((time, i) => time - (sorted[i] ?? 0));
      const smallest = Math.min(...gaps);
      assert.ok(smallest >= intervalMs - 3, `${address}: starts only ${smallest} ms apart`);
    }
  });

  test('killed holder loses the IP after TTL', async (t) => {
    const leaseTtlMs = 300;
    const fixture = fileURLToPath(new URL('./hold-lease.fixture.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fixture, server.url, 'crash', String(leaseTtlMs)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const held = JSON.parse(line.toString()) as { kind: string; lease: Lease };
      assert.equal(held.kind, 'leased');
      await stopChild(child, true);

      const survivor = fastBackend({ url: server.url, keyPrefix: 'crash', leaseTtlMs });
      t.after(() => survivor.stop());
      await survivor.start();
      await survivor.syncTarget(poolSpec({ target: 'crash', ips: [ip('10.0.0.9:3128')] }));
      const waiting = await survivor.tryAcquire('crash', none);
      if (waiting.kind !== 'wait') assert.fail('the killed holder still has the lease');
      assert.ok((waiting.readyAtMs ?? 0) <= held.lease.expiresAtMs + 15);
      const [state] = await survivor.snapshot('crash');
      assert.equal(state?.status, 'leased');

      assert.equal(await nextWake(survivor, 'crash', 2000), 'crash');
      const lease = leased(await survivor.tryAcquire('crash', none));
      assert.equal(lease.address, '10.0.0.9:3128');
      assert.ok(Date.now() >= held.lease.expiresAtMs - 15);
    } finally {
      await stopChild(child, true);
    }
  });

  test('release wakes the other instance', async (t) => {
    const [first, second] = await pair('wake');
    t.after(() => Promise.all([first.stop(), second.stop()]));
    await first.syncTarget(poolSpec());
    await second.syncTarget(poolSpec());
    await sleep(30);
    const lease = leased(await first.tryAcquire('shop', none));
    const woke = nextWake(second, 'shop', 2000);
    await first.release(lease, success);
    assert.equal(await woke, 'shop');
  });

  test('quarantine is shared, events local', async (t) => {
    const firstBus = new EventBus();
    const secondBus = new EventBus();
    const names = ['quarantine', 'ip_failure'] as const;
    const firstEvents = recordEvents(firstBus, [...names]);
    const secondEvents = recordEvents(secondBus, [...names]);
    const a = fastBackend({ url: server.url, keyPrefix: 'shared', events: firstBus });
    const b = fastBackend({ url: server.url, keyPrefix: 'shared', events: secondBus });
    t.after(() => Promise.all([a.stop(), b.stop()]));
    await Promise.all([a.start(), b.start()]);
    const spec = poolSpec({ ipFailuresUntilQuarantine: 1 });
    await Promise.all([a.syncTarget(spec), b.syncTarget(spec)]);

    await a.release(leased(await a.tryAcquire('shop', none)), failure);
    const seen = await b.snapshot('shop');
    assert.equal(seen[0]?.status, 'quarantined');
    assert.equal(seen[0]?.failures, 1);
    assert.equal(leased(await b.tryAcquire('shop', none)).address, '10.0.0.2:3128');
    assert.deepEqual(
      firstEvents.map((event) => event.name),
      ['ip_failure', 'quarantine'],
    );
    assert.deepEqual(secondEvents, []);
  });

  test('second sync keeps leases of others', async (t) => {
    const [first, second] = await pair('resync');
    t.after(() => Promise.all([first.stop(), second.stop()]));
    await first.syncTarget(poolSpec());
    const lease = leased(await first.tryAcquire('shop', none));
    await second.syncTarget(poolSpec());
    const states = await second.snapshot('shop');
    assert.equal(states.length, 3);
    assert.equal(states[0]?.status, 'leased');
    assert.equal(leased(await second.tryAcquire('shop', none)).address, '10.0.0.2:3128');
    assert.equal((await first.release(lease, success)).applied, true);
  });
});
