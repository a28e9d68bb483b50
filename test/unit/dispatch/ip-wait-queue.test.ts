import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryBackend } from '../../../src/backend/memory-backend.js';
import type { ResolvedIp } from '../../../src/config/types.js';
import { IpWaitQueue } from '../../../src/dispatch/ip-wait-queue.js';
import { ProxyHopperError } from '../../../src/errors/index.js';
import { EventBus, type EventMap } from '../../../src/observe/events.js';

function ip(port: number): ResolvedIp {
  return {
    address: `127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    provider: 'p',
    region: '',
    credentials: null,
  };
}

async function setup(
  ports: number[],
  intervalMs: number,
  quarantine = { threshold: 1, ms: 60_000, minActive: 0 },
) {
  const events = new EventBus();
  const backend = new MemoryBackend({ events, leaseTtlMs: 5_000 });
  await backend.start();
  await backend.syncTarget({
    target: 't',
    ips: ports.map(ip),
    minRequestIntervalMs: intervalMs,
    ipFailuresUntilQuarantine: quarantine.threshold,
    quarantineMs: quarantine.ms,
    minActiveIps: quarantine.minActive,
  });
  const queue = new IpWaitQueue('t', backend, events);
  backend.onWake((target) => target === 't' && queue.pump());
  return { backend, queue, events };
}

function codeOf(err: unknown): string {
  return err instanceof ProxyHopperError ? err.code : String(err);
}

describe('IpWaitQueue', () => {
  test('serves waiters in arrival order', async () => {
    const { backend, queue } = await setup([1], 0);
    const first = await queue.acquire('r0', new Set(), Date.now() + 2000, null);
    const order: string[] = [];
    const waiting = ['r1', 'r2', 'r3'].map((id) =>
      queue.acquire(id, new Set(), Date.now() + 2000, null).then(async (lease) => {
        order.push(id);
        await backend.release(lease, { result: 'success', cooldownFromRelease: false });
      }),
    );
    assert.equal(queue.depth, 3);
    await backend.release(first, { result: 'success', cooldownFromRelease: false });
    await Promise.all(waiting);
    assert.deepEqual(order, ['r1', 'r2', 'r3']);
    await backend.stop();
  });

  test('spacing starts at least minRequestInterval apart', async () => {
    const { backend, queue } = await setup([1], 120);
    const starts: number[] = [];
    await Promise.all(
      [0, 1, 2].map(async (i) => {
        const lease = await queue.acquire(`r${i}`, new Set(), Date.now() + 3000, null);
        starts.push(lease.acquiredAtMs);
        await backend.release(lease, { result: 'success', cooldownFromRelease: false });
      }),
    );
    assert.equal(starts.length, 3);
    assert.ok(starts[1]! - starts[0]! >= 120, `gap ${starts[1]! - starts[0]!}`);
    assert.ok(starts[2]! - starts[1]! >= 120, `gap ${starts[2]! - starts[1]!}`);
    await backend.stop();
  });

  test('queue_timeout with Retry-After when IPs are busy', async () => {
    const { backend, queue, events } = await setup([1], 0);
    const expired: EventMap['queue_expired'][] = [];
    events.on('queue_expired', (event) => expired.push(event));
    await queue.acquire('r0', new Set(), Date.now() + 1000, null);
    const err = await queue
      .acquire('r1', new Set(), Date.now() + 80, null)
      .catch((e: unknown) => e);
    assert.equal(codeOf(err), 'queue_timeout');
    assert.equal((err as ProxyHopperError).status, 503);
    assert.match((err as ProxyHopperError).headers['retry-after'] ?? '', /^\d+$/);
    assert.deepEqual(expired, [{ requestId: 'r1', target: 't', code: 'queue_timeout' }]);
    assert.equal(queue.depth, 0);
    await backend.stop();
  });

  test('no_ip_available when every IP is quarantined', async () => {
    const { backend, queue } = await setup([1], 0, { threshold: 1, ms: 30_000, minActive: 0 });
    const lease = await queue.acquire('r0', new Set(), Date.now() + 1000, null);
    const released = await backend.release(lease, {
      result: 'failure',
      cooldownFromRelease: false,
    });
    assert.equal(released.quarantined, true);
    const err = (await queue
      .acquire('r1', new Set(), Date.now() + 60, null)
      .catch((e: unknown) => e)) as ProxyHopperError;
    assert.equal(codeOf(err), 'no_ip_available');
    const retryAfter = Number(err.headers['retry-after']);
    assert.ok(retryAfter >= 29, `retry-after ${retryAfter}`);
    assert.ok(retryAfter <= 30, `retry-after ${retryAfter}`);
    await backend.stop();
  });

  test('prefers an IP not tried yet', async () => {
    const { backend, queue } = await setup([1, 2], 0);
    const first = await queue.acquire('r0', new Set(), Date.now() + 1000, null);
    await backend.release(first, { result: 'failure', cooldownFromRelease: false });
    const second = await queue.acquire('r0', new Set([first.address]), Date.now() + 1000, null);
    assert.notEqual(second.address, first.address);
    await backend.stop();
  });

  test('abort rejects and leaves the queue', async () => {
    const { backend, queue } = await setup([1], 0);
    await queue.acquire('r0', new Set(), Date.now() + 1000, null);
    const controller = new AbortController();
    const pending = queue
      .acquire('r1', new Set(), Date.now() + 1000, controller.signal)
      .catch((e: unknown) => e);
    controller.abort(new Error('client gone'));
    assert.equal(((await pending) as Error).message, 'client gone');
    assert.equal(queue.depth, 0);
    await backend.stop();
  });

  test('close rejects waiters with server_shutdown', async () => {
    const { backend, queue } = await setup([1], 0);
    await queue.acquire('r0', new Set(), Date.now() + 1000, null);
    const pending = queue
      .acquire('r1', new Set(), Date.now() + 1000, null)
      .catch((e: unknown) => e);
    queue.close();
    assert.equal(codeOf(await pending), 'server_shutdown');
    assert.equal(
      codeOf(
        await queue.acquire('r2', new Set(), Date.now() + 1000, null).catch((e: unknown) => e),
      ),
      'server_shutdown',
    );
    await backend.stop();
  });
});

describe('IpWaitQueue fast answers', () => {
  test('no_ip_available at once when quarantine outlasts the deadline', async () => {
    const { backend, queue } = await setup([1], 0, { threshold: 1, ms: 30_000, minActive: 0 });
    const lease = await queue.acquire('r0', new Set(), Date.now() + 1000, null);
    await backend.release(lease, { result: 'failure', cooldownFromRelease: false });
    const startedMs = Date.now();
    const err = await queue
      .acquire('r1', new Set(), Date.now() + 5_000, null)
      .catch((e: unknown) => e);
    assert.equal(codeOf(err), 'no_ip_available');
    assert.ok(Date.now() - startedMs < 1000, `waited ${Date.now() - startedMs} ms`);
    await backend.stop();
  });

  test('queue_timeout Retry-After is capped', async () => {
    const events = new EventBus();
    const backend = new MemoryBackend({ events, leaseTtlMs: 60_000 });
    await backend.start();
    await backend.syncTarget({
      target: 't',
      ips: [ip(1)],
      minRequestIntervalMs: 0,
      ipFailuresUntilQuarantine: 5,
      quarantineMs: 1000,
      minActiveIps: 1,
    });
    const queue = new IpWaitQueue('t', backend, events, Date.now, 2000);
    await queue.acquire('r0', new Set(), Date.now() + 1000, null);
    const err = (await queue
      .acquire('r1', new Set(), Date.now() + 50, null)
      .catch((e: unknown) => e)) as ProxyHopperError;
    assert.equal(codeOf(err), 'queue_timeout');
    assert.equal(err.headers['retry-after'], '2');
    await backend.stop();
  });
});
