import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProxyHopperError } from '../../../../src/errors/index.js';
import { EventBus } from '../../../../src/observe/events.js';
import { ip, leased, nextWake, poolSpec } from '../contract.js';
import { freePort, redisCli, startRedisServer } from '../../../helpers/redis-server.js';
import { captureLogger, fastBackend, recordEvents, waitFor } from './support.js';

const none = new Set<string>();
const success = { result: 'success', cooldownFromRelease: false } as const;
const PASSWORD = 'outage-pw';
const UNAVAILABLE =
  /^State backend \(Redis at 127\.0\.0\.1:\d+\) is unavailable: .+\. Requests resume when it is back\.$/;

function assertUnavailable(err: unknown): true {
  assert.ok(isProxyHopperError(err), `expected a ProxyHopperError, got ${String(err)}`);
  assert.equal(err.code, 'backend_unavailable');
  assert.equal(err.status, 503);
  assert.match(err.message, UNAVAILABLE);
  assert.ok(!err.message.includes(PASSWORD), 'the message must not contain the password');
  return true;
}

describe('Redis outage', () => {
  test('restart without persistence recovers', async () => {
    let server = await startRedisServer({ password: PASSWORD });
    const bus = new EventBus();
    const states = recordEvents(bus, ['backend_state']);
    const { logger, lines } = captureLogger();
    const backend = fastBackend({ url: server.url, keyPrefix: 'outage', events: bus, logger });
    try {
      await backend.start();
      await backend.syncTarget(poolSpec());
      const held = leased(await backend.tryAcquire('shop', none));

      await server.stop({ kill: true });
      await waitFor(() => !backend.isReady(), 3000, 'isReady() to turn false');
      await assert.rejects(backend.tryAcquire('shop', none), assertUnavailable);
      await assert.rejects(backend.release(held, success), assertUnavailable);
      await assert.rejects(backend.snapshot('shop'), assertUnavailable);
      await assert.rejects(backend.syncTarget(poolSpec()), assertUnavailable);

      let readyAtWake: boolean | null = null;
      const woke = new Promise<void>((resolve) => {
        const unsubscribe = backend.onWake(() => {
          readyAtWake = backend.isReady();
          unsubscribe();
          resolve();
        });
      });
      server = await startRedisServer({ password: PASSWORD, port: server.port });
      await waitFor(() => backend.isReady(), 5000, 'isReady() to turn true');
      await woke;
      assert.equal(readyAtWake, true, 'queues are woken once operations work again');
      const snapshot = await backend.snapshot('shop');
      const addresses = snapshot.map((state) => state.address);
      assert.deepEqual(addresses, ['10.0.0.1:3128', '10.0.0.2:3128', '10.0.0.3:3128']);
      assert.deepEqual(
        snapshot.map((state) => state.status),
        ['available', 'available', 'available'],
      );
      assert.equal((await backend.release(held, success)).applied, false);
      const leases = [];
      for (let i = 0; i < 3; i++) leases.push(leased(await backend.tryAcquire('shop', none)));
      assert.equal(new Set(leases.map((lease) => lease.address)).size, 3);
      assert.equal((await backend.tryAcquire('shop', none)).kind, 'wait');

      assert.deepEqual(states.at(0)?.payload.ready, true);
      assert.equal(states.at(1)?.payload.ready, false);
      assert.equal(typeof states.at(1)?.payload.reason, 'string');
      assert.equal(states.at(-1)?.payload.ready, true);
      const retries = lines.filter((line) => line.msg === 'redis unreachable; reconnecting');
      assert.ok(retries.length >= 1, 'each reconnect attempt is logged');
      assert.equal(retries[0]?.redis, `127.0.0.1:${server.port}`);
      assert.ok(!JSON.stringify(lines).includes(PASSWORD), 'logs must not contain the password');
    } finally {
      await backend.stop();
      await server.stop();
    }
  });

  test('wake subscription survives restart', async (t) => {
    let server = await startRedisServer({ password: PASSWORD });
    t.after(() => server.stop());
    const releaser = fastBackend({ url: server.url, keyPrefix: 'resubscribe' });
    const listener = fastBackend({ url: server.url, keyPrefix: 'resubscribe' });
    t.after(() => Promise.all([releaser.stop(), listener.stop()]));
    await Promise.all([releaser.start(), listener.start()]);
    await releaser.syncTarget(poolSpec());
    await listener.syncTarget(poolSpec());

    await server.stop({ kill: true });
    await waitFor(() => !releaser.isReady() && !listener.isReady(), 3000, 'both not ready');
    server = await startRedisServer({ password: PASSWORD, port: server.port });
    await waitFor(() => releaser.isReady() && listener.isReady(), 5000, 'both ready');
    await sleep(200);

    const lease = leased(await releaser.tryAcquire('shop', none));
    const woke = nextWake(listener, 'shop', 2000);
    await releaser.release(lease, success);
    assert.equal(await woke, 'shop');
  });

  test('stalled Redis frees orphaned leases', async (t) => {
    const server = await startRedisServer({ password: PASSWORD });
    const resume = () => process.kill(server.pid, 'SIGCONT');
    t.after(async () => {
      resume();
      await server.stop();
    });
    const bus = new EventBus();
    const states = recordEvents(bus, ['backend_state']);
    const { logger, lines } = captureLogger();
    const options = { url: server.url, keyPrefix: 'stall', events: bus, logger };
    const backend = fastBackend({ ...options, commandTimeoutMs: 300 });
    t.after(() => backend.stop());
    await backend.start();
    await backend.syncTarget(poolSpec({ ips: [ip('10.0.0.1:3128')] }));

    process.kill(server.pid, 'SIGSTOP');
    try {
      await assert.rejects(backend.tryAcquire('shop', none), (err: unknown) => {
        assertUnavailable(err);
        assert.match(String((err as Error).message), /Command timed out/);
        return true;
      });
      assert.equal(backend.isReady(), false);
      assert.deepEqual(states.at(-1)?.payload, { ready: false, reason: 'no reply within 300 ms' });
      // A stalled Redis still gets each operation, bounded by the command timeout.
      await assert.rejects(backend.snapshot('shop'), assertUnavailable);
      assert.equal(backend.isReady(), false);
    } finally {
      resume();
    }

    const [first] = await backend.snapshot('shop');
    assert.equal(first?.address, '10.0.0.1:3128');
    assert.equal(backend.isReady(), true, 'the first reply after the stall ends the outage');
    await waitFor(
      () => lines.some((line) => line.msg === 'freed leases of failed acquires'),
      2000,
      'the orphaned lease to be freed',
    );
    const [state] = await backend.snapshot('shop');
    assert.equal(state?.status, 'available');
    assert.equal(state?.leaseExpiresAtMs, null);
    const freed = lines.find((line) => line.msg === 'freed leases of failed acquires');
    assert.equal(freed?.cancelled, 1);
  });

  test('FLUSHALL while connected reseeds', async () => {
    const server = await startRedisServer({ password: PASSWORD });
    const backend = fastBackend({ url: server.url, keyPrefix: 'flushall' });
    try {
      await backend.start();
      await backend.syncTarget(poolSpec());
      const held = leased(await backend.tryAcquire('shop', none));
      assert.equal((await redisCli(server, ['FLUSHALL'])).trim(), 'OK');

      const lease = leased(await backend.tryAcquire('shop', none));
      assert.equal(lease.address, '10.0.0.1:3128');
      const snapshot = await backend.snapshot('shop');
      assert.equal(snapshot.length, 3);
      assert.equal(new Set(snapshot.map((state) => state.address)).size, 3);
      assert.equal((await backend.release(held, success)).applied, false);
      assert.equal((await backend.release(lease, success)).applied, true);
    } finally {
      await backend.stop();
      await server.stop();
    }
  });

  test('start waits for Redis', async () => {
    const port = await freePort();
    const { logger, lines } = captureLogger();
    const url = `redis://:${PASSWORD}@127.0.0.1:${port}`;
    const backend = fastBackend({ url, keyPrefix: 'late', logger });
    let started = false;
    const starting = backend.start().then(() => (started = true));
    await sleep(300);
    assert.equal(started, false);
    assert.equal(backend.isReady(), false);
    await assert.rejects(backend.syncTarget(poolSpec()), assertUnavailable);

    const server = await startRedisServer({ password: PASSWORD, port });
    try {
      await starting;
      assert.equal(backend.isReady(), true);
      const retries = lines.filter((line) => line.msg === 'redis unreachable; reconnecting');
      assert.ok(retries.length >= 2, `expected retries to be logged, got ${retries.length}`);
      assert.deepEqual(
        retries.slice(0, 3).map((line) => line.delayMs),
        [20, 40, 80],
      );
      await backend.syncTarget(poolSpec());
      assert.equal(leased(await backend.tryAcquire('shop', none)).address, '10.0.0.1:3128');
    } finally {
      await backend.stop();
      await server.stop();
    }
  });

  test('stop rejects a pending start', async () => {
    const port = await freePort();
    const backend = fastBackend({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'never' });
    const starting = backend.start();
    await sleep(50);
    await backend.stop();
    await assert.rejects(starting, /Stopped before Redis at 127\.0\.0\.1:\d+ became reachable/);
  });
});
