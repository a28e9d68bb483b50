import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { ResolvedIp } from '../../../src/config/types.js';
import { MemoryBackend } from '../../../src/backend/memory-backend.js';
import type { AcquireResult, Lease, TargetPoolSpec } from '../../../src/backend/types.js';
import { EventBus, type EventMap } from '../../../src/observe/events.js';

function ip(address: string, provider = 'prov', region = 'eu'): ResolvedIp {
  const [host = '', port = '0'] = address.split(':');
  return { address, host, port: Number(port), provider, region, credentials: null };
}

function spec(overrides: Partial<TargetPoolSpec> = {}): TargetPoolSpec {
  return {
    target: 't1',
    ips: [ip('10.0.0.1:3128'), ip('10.0.0.2:3128'), ip('10.0.0.3:3128')],
    minRequestIntervalMs: 1000,
    ipFailuresUntilQuarantine: 2,
    quarantineMs: 60_000,
    minActiveIps: 1,
    ...overrides,
  };
}

interface Harness {
  backend: MemoryBackend;
  clock: { nowMs: number };
  events: { name: keyof EventMap; payload: unknown }[];
}

async function setup(overrides: Partial<TargetPoolSpec> = {}, leaseTtlMs = 30_000) {
  const clock = { nowMs: 1_000_000 };
  const bus = new EventBus();
  const events: Harness['events'] = [];
  const names: (keyof EventMap)[] = [
    'ip_success',
    'ip_failure',
    'quarantine',
    'quarantine_floor',
    'quarantine_release',
  ];
  for (const name of names) bus.on(name, (payload) => events.push({ name, payload }));
  const backend = new MemoryBackend({ events: bus, now: () => clock.nowMs, leaseTtlMs });
  await backend.start();
  await backend.syncTarget(spec(overrides));
  return { backend, clock, events };
}

function leased(result: AcquireResult): Lease {
  assert.equal(result.kind, 'leased', `expected a lease, got ${JSON.stringify(result)}`);
  if (result.kind !== 'leased') throw new Error('unreachable');
  return result.lease;
}

const none = new Set<string>();

/** Waits for the next wake-up; the backend's timers are unref'd, so this keeps the loop alive. */
async function nextWake(backend: MemoryBackend): Promise<string> {
  const keepAlive = setTimeout(() => {}, 5000);
  try {
    return await new Promise<string>((resolve) => {
      const unsubscribe = backend.onWake((target) => {
        unsubscribe();
        resolve(target);
      });
    });
  } finally {
    clearTimeout(keepAlive);
  }
}
const success = { result: 'success', cooldownFromRelease: false } as const;
const failure = { result: 'failure', cooldownFromRelease: false } as const;

describe('MemoryBackend', () => {
  test('leases IPs in config order first', async () => {
    const { backend, clock } = await setup();
    const first = leased(await backend.tryAcquire('t1', none));
    const second = leased(await backend.tryAcquire('t1', none));
    assert.equal(first.address, '10.0.0.1:3128');
    assert.equal(second.address, '10.0.0.2:3128');
    assert.equal(first.acquiredAtMs, clock.nowMs);
    assert.equal(first.expiresAtMs, clock.nowMs + 30_000);
    assert.notEqual(first.leaseId, second.leaseId);
    await backend.stop();
  });

  test('rotation picks the IP that waited longest', async () => {
    const { backend, clock } = await setup({ minRequestIntervalMs: 0 });
    const a = leased(await backend.tryAcquire('t1', none));
    await backend.release(a, success);
    clock.nowMs += 10;
    const b = leased(await backend.tryAcquire('t1', none));
    assert.equal(b.address, '10.0.0.2:3128');
    await backend.release(b, success);
    clock.nowMs += 10;
    const c = leased(await backend.tryAcquire('t1', none));
    assert.equal(c.address, '10.0.0.3:3128');
    await backend.release(c, success);
    clock.nowMs += 10;
    const d = leased(await backend.tryAcquire('t1', none));
    assert.equal(d.address, '10.0.0.1:3128');
    await backend.stop();
  });

  test('spacing is measured start to start', async () => {
    const { backend, clock } = await setup({ ips: [ip('10.0.0.1:3128')] });
    const start = clock.nowMs;
    const lease = leased(await backend.tryAcquire('t1', none));
    clock.nowMs += 400;
    await backend.release(lease, success);

    const waiting = await backend.tryAcquire('t1', none);
    assert.deepEqual(waiting, {
      kind: 'wait',
      readyAtMs: start + 1000,
      inRotation: 1,
      nextQuarantineEndMs: null,
    });
    const [state] = await backend.snapshot('t1');
    assert.equal(state?.status, 'cooling_down');
    assert.equal(state?.nextReadyAtMs, start + 1000);

    clock.nowMs = start + 999;
    assert.equal((await backend.tryAcquire('t1', none)).kind, 'wait');
    clock.nowMs = start + 1000;
    assert.equal(leased(await backend.tryAcquire('t1', none)).address, '10.0.0.1:3128');
    await backend.stop();
  });

  test('cooldownFromRelease restarts spacing at release', async () => {
    const { backend, clock } = await setup({ ips: [ip('10.0.0.1:3128')] });
    const lease = leased(await backend.tryAcquire('t1', none));
    clock.nowMs += 400;
    const releasedAt = clock.nowMs;
    await backend.release(lease, { result: 'failure', cooldownFromRelease: true });
    const [state] = await backend.snapshot('t1');
    assert.equal(state?.nextReadyAtMs, releasedAt + 1000);
    const waiting = await backend.tryAcquire('t1', none);
    assert.equal(waiting.kind === 'wait' && waiting.readyAtMs, releasedAt + 1000);
    await backend.stop();
  });

  test('leased IP waits for release or expiry', async () => {
    const { backend, clock } = await setup({ ips: [ip('10.0.0.1:3128')] }, 5000);
    const lease = leased(await backend.tryAcquire('t1', none));
    const waiting = await backend.tryAcquire('t1', none);
    assert.equal(waiting.kind, 'wait');
    assert.equal(waiting.kind === 'wait' && waiting.readyAtMs, lease.expiresAtMs);
    const [state] = await backend.snapshot('t1');
    assert.equal(state?.status, 'leased');
    assert.equal(state?.leaseExpiresAtMs, lease.expiresAtMs);
    void clock;
    await backend.stop();
  });

  test('expired lease frees the IP and stale release is ignored', async () => {
    const { backend, clock, events } = await setup({ ips: [ip('10.0.0.1:3128')] }, 5000);
    const stale = leased(await backend.tryAcquire('t1', none));
    clock.nowMs += 5000;
    const fresh = leased(await backend.tryAcquire('t1', none));
    assert.equal(fresh.address, stale.address);
    assert.notEqual(fresh.leaseId, stale.leaseId);

    const result = await backend.release(stale, failure);
    assert.deepEqual(result, {
      failures: 0,
      quarantined: false,
      floorHeld: false,
      activeIps: 1,
      applied: false,
    });
    assert.equal(events.length, 0);
    assert.equal(await backend.renew(stale), false);
    const [state] = await backend.snapshot('t1');
    assert.equal(state?.status, 'leased');
    assert.equal(state?.leaseExpiresAtMs, fresh.expiresAtMs);
    await backend.stop();
  });

  test('double release applies once', async () => {
    const { backend } = await setup();
    const lease = leased(await backend.tryAcquire('t1', none));
    assert.equal((await backend.release(lease, failure)).applied, true);
    const again = await backend.release(lease, failure);
    assert.equal(again.applied, false);
    assert.equal(again.failures, 1);
    await backend.stop();
  });

  test('renew extends the lease', async () => {
    const { backend, clock } = await setup({ ips: [ip('10.0.0.1:3128')] }, 5000);
    const lease = leased(await backend.tryAcquire('t1', none));
    clock.nowMs += 4000;
    assert.equal(await backend.renew(lease), true);
    clock.nowMs += 4000;
    assert.equal((await backend.tryAcquire('t1', none)).kind, 'wait');
    const [state] = await backend.snapshot('t1');
    assert.equal(state?.leaseExpiresAtMs, clock.nowMs + 1000);
    assert.equal((await backend.release(lease, success)).applied, true);
    await backend.stop();
  });

  test('quarantine at the failure threshold', async () => {
    const { backend, clock, events } = await setup({ minRequestIntervalMs: 0 });
    const avoidOthers = new Set(['10.0.0.2:3128', '10.0.0.3:3128']);
    const first = leased(await backend.tryAcquire('t1', avoidOthers));
    const r1 = await backend.release(first, failure);
    assert.deepEqual(r1, {
      failures: 1,
      quarantined: false,
      floorHeld: false,
      activeIps: 3,
      applied: true,
    });
    const second = leased(await backend.tryAcquire('t1', avoidOthers));
    assert.equal(second.address, '10.0.0.1:3128');
    const r2 = await backend.release(second, failure);
    assert.deepEqual(r2, {
      failures: 2,
      quarantined: true,
      floorHeld: false,
      activeIps: 2,
      applied: true,
    });
    const labels = { target: 't1', address: '10.0.0.1:3128', provider: 'prov', region: 'eu' };
    assert.deepEqual(events, [
      { name: 'ip_failure', payload: { ...labels, failures: 1 } },
      { name: 'ip_failure', payload: { ...labels, failures: 2 } },
      { name: 'quarantine', payload: { ...labels, failures: 2, quarantineMs: 60_000 } },
    ]);
    const states = await backend.snapshot('t1');
    assert.equal(states[0]?.status, 'quarantined');
    assert.equal(states[0]?.quarantinedUntilMs, clock.nowMs + 60_000);
    await backend.stop();
  });

  test('success resets failures', async () => {
    const { backend, events } = await setup({ minRequestIntervalMs: 0 });
    const avoid = new Set(['10.0.0.2:3128', '10.0.0.3:3128']);
    await backend.release(leased(await backend.tryAcquire('t1', avoid)), failure);
    const result = await backend.release(leased(await backend.tryAcquire('t1', avoid)), success);
    assert.equal(result.failures, 0);
    assert.equal(events.at(-1)?.name, 'ip_success');
    const third = await backend.release(leased(await backend.tryAcquire('t1', avoid)), failure);
    assert.equal(third.failures, 1);
    assert.equal(third.quarantined, false);
    await backend.stop();
  });

  test('floor keeps the last IP with minActiveIps 1', async () => {
    const { backend, events } = await setup({
      ips: [ip('10.0.0.1:3128'), ip('10.0.0.2:3128')],
      minRequestIntervalMs: 0,
      ipFailuresUntilQuarantine: 1,
    });
    const a = leased(await backend.tryAcquire('t1', none));
    const b = leased(await backend.tryAcquire('t1', none));
    assert.equal((await backend.release(a, failure)).quarantined, true);
    const rb = await backend.release(b, failure);
    assert.deepEqual(rb, {
      failures: 1,
      quarantined: false,
      floorHeld: true,
      activeIps: 1,
      applied: true,
    });
    assert.deepEqual(events.at(-1), {
      name: 'quarantine_floor',
      payload: {
        target: 't1',
        address: '10.0.0.2:3128',
        provider: 'prov',
        region: 'eu',
        failures: 1,
        activeIps: 1,
        minActiveIps: 1,
      },
    });
    const c = leased(await backend.tryAcquire('t1', new Set(['10.0.0.2:3128'])));
    assert.equal(c.address, '10.0.0.2:3128');
    const rc = await backend.release(c, failure);
    assert.equal(rc.failures, 2);
    assert.equal(rc.floorHeld, true);
    await backend.stop();
  });

  test('minActiveIps 0 quarantines every IP', async () => {
    const { backend, clock } = await setup({
      ips: [ip('10.0.0.1:3128'), ip('10.0.0.2:3128')],
      minRequestIntervalMs: 0,
      ipFailuresUntilQuarantine: 1,
      minActiveIps: 0,
    });
    const a = leased(await backend.tryAcquire('t1', none));
    await backend.release(a, failure);
    clock.nowMs += 100;
    const b = leased(await backend.tryAcquire('t1', none));
    const rb = await backend.release(b, failure);
    assert.equal(rb.quarantined, true);
    assert.equal(rb.activeIps, 0);
    const waiting = await backend.tryAcquire('t1', none);
    assert.deepEqual(waiting, {
      kind: 'wait',
      readyAtMs: null,
      inRotation: 0,
      nextQuarantineEndMs: clock.nowMs - 100 + 60_000,
    });
    await backend.stop();
  });

  test('quarantine end resets failures', async () => {
    const { backend, clock, events } = await setup({
      minRequestIntervalMs: 0,
      ipFailuresUntilQuarantine: 1,
    });
    const a = leased(await backend.tryAcquire('t1', none));
    await backend.release(a, failure);
    clock.nowMs += 59_999;
    assert.equal((await backend.snapshot('t1'))[0]?.status, 'quarantined');
    clock.nowMs += 1;
    const woke: string[] = [];
    backend.onWake((target) => woke.push(target));
    const [state] = await backend.snapshot('t1');
    assert.equal(state?.status, 'available');
    assert.equal(state?.failures, 0);
    assert.equal(state?.quarantinedUntilMs, null);
    await backend.snapshot('t1');
    const releases = events.filter((event) => event.name === 'quarantine_release');
    assert.equal(releases.length, 1);
    await Promise.resolve();
    assert.deepEqual(woke, ['t1']);
    const others = new Set(['10.0.0.2:3128', '10.0.0.3:3128']);
    const back = leased(await backend.tryAcquire('t1', others));
    assert.equal(back.address, '10.0.0.1:3128');
    const again = await backend.release(back, failure);
    assert.equal(again.failures, 1);
    await backend.stop();
  });

  test('avoid set is honoured until nothing else is in rotation', async () => {
    const { backend } = await setup({ ips: [ip('10.0.0.1:3128'), ip('10.0.0.2:3128')] });
    const avoidFirst = new Set(['10.0.0.1:3128']);
    assert.equal(leased(await backend.tryAcquire('t1', avoidFirst)).address, '10.0.0.2:3128');
    const waiting = await backend.tryAcquire('t1', avoidFirst);
    assert.equal(waiting.kind, 'wait');
    const both = new Set(['10.0.0.1:3128', '10.0.0.2:3128']);
    assert.equal(leased(await backend.tryAcquire('t1', both)).address, '10.0.0.1:3128');
    await backend.stop();
  });

  test('avoid falls back to the quarantine floor IP', async () => {
    const { backend } = await setup({
      ips: [ip('10.0.0.1:3128'), ip('10.0.0.2:3128')],
      minRequestIntervalMs: 0,
      ipFailuresUntilQuarantine: 1,
    });
    await backend.release(leased(await backend.tryAcquire('t1', none)), failure);
    const tried = new Set(['10.0.0.2:3128']);
    assert.equal(leased(await backend.tryAcquire('t1', tried)).address, '10.0.0.2:3128');
    await backend.stop();
  });

  test('wait result reports cooldown and quarantine', async () => {
    const { backend, clock } = await setup({ ipFailuresUntilQuarantine: 1 });
    const t0 = clock.nowMs;
    const a = leased(await backend.tryAcquire('t1', none));
    await backend.release(a, failure);
    clock.nowMs += 100;
    leased(await backend.tryAcquire('t1', none));
    clock.nowMs += 100;
    const c = leased(await backend.tryAcquire('t1', none));
    await backend.release(c, success);
    const waiting = await backend.tryAcquire('t1', none);
    assert.deepEqual(waiting, {
      kind: 'wait',
      readyAtMs: t0 + 200 + 1000,
      inRotation: 2,
      nextQuarantineEndMs: t0 + 60_000,
    });
    await backend.stop();
  });

  test('syncTarget keeps state of kept addresses', async () => {
    const { backend, clock } = await setup({ ipFailuresUntilQuarantine: 3 });
    const a = leased(await backend.tryAcquire('t1', none));
    await backend.release(a, failure);
    const b = leased(await backend.tryAcquire('t1', none));
    assert.equal(b.address, '10.0.0.2:3128');

    await backend.syncTarget(
      spec({
        ips: [ip('10.0.0.4:3128', 'other', ''), ip('10.0.0.1:3128'), ip('10.0.0.2:3128')],
        ipFailuresUntilQuarantine: 3,
        minRequestIntervalMs: 2000,
      }),
    );
    const states = await backend.snapshot('t1');
    assert.deepEqual(
      states.map((state) => [state.address, state.status, state.failures]),
      [
        ['10.0.0.4:3128', 'available', 0],
        ['10.0.0.1:3128', 'cooling_down', 1],
        ['10.0.0.2:3128', 'leased', 0],
      ],
    );
    assert.equal(states[0]?.provider, 'other');
    assert.equal(states[1]?.nextReadyAtMs, clock.nowMs + 1000);
    assert.equal((await backend.release(b, success)).applied, true);

    const next = leased(await backend.tryAcquire('t1', none));
    assert.equal(next.address, '10.0.0.4:3128');
    const [newState] = await backend.snapshot('t1');
    assert.equal(newState?.nextReadyAtMs, clock.nowMs + 2000);
    await backend.stop();
  });

  test('syncTarget drops removed addresses', async () => {
    const { backend } = await setup();
    const a = leased(await backend.tryAcquire('t1', none));
    await backend.syncTarget(spec({ ips: [ip('10.0.0.2:3128'), ip('10.0.0.3:3128')] }));
    const result = await backend.release(a, failure);
    assert.equal(result.applied, false);
    assert.equal(result.activeIps, 2);
    const addresses = (await backend.snapshot('t1')).map((state) => state.address);
    assert.deepEqual(addresses, ['10.0.0.2:3128', '10.0.0.3:3128']);
    await backend.stop();
  });

  test('onWake fires on release and sync', async () => {
    const { backend } = await setup();
    const woke: string[] = [];
    const unsubscribe = backend.onWake((target) => woke.push(target));
    const lease = leased(await backend.tryAcquire('t1', none));
    await Promise.resolve();
    assert.deepEqual(woke, []);
    await backend.release(lease, success);
    await Promise.resolve();
    assert.deepEqual(woke, ['t1']);
    await backend.syncTarget(spec());
    await Promise.resolve();
    assert.deepEqual(woke, ['t1', 't1']);
    unsubscribe();
    await backend.release(leased(await backend.tryAcquire('t1', none)), success);
    await Promise.resolve();
    assert.deepEqual(woke, ['t1', 't1']);
    await backend.stop();
  });

  test('timer wakes on lease expiry', async () => {
    const backend = new MemoryBackend({ leaseTtlMs: 50 });
    await backend.start();
    await backend.syncTarget(spec({ ips: [ip('10.0.0.1:3128')] }));
    leased(await backend.tryAcquire('t1', none));
    assert.equal(await nextWake(backend), 't1');
    assert.equal((await backend.snapshot('t1'))[0]?.status, 'cooling_down');
    await backend.stop();
  });

  test('timer wakes on quarantine end', async () => {
    const backend = new MemoryBackend();
    await backend.start();
    await backend.syncTarget(
      spec({ minRequestIntervalMs: 0, ipFailuresUntilQuarantine: 1, quarantineMs: 60 }),
    );
    await backend.release(leased(await backend.tryAcquire('t1', none)), failure);
    assert.equal(await nextWake(backend), 't1');
    assert.equal((await backend.snapshot('t1'))[0]?.status, 'available');
    await backend.stop();
  });

  test('unknown target is rejected', async () => {
    const { backend } = await setup();
    await assert.rejects(backend.tryAcquire('nope', none), /Target 'nope' is not registered/);
    assert.deepEqual(await backend.snapshot('nope'), []);
    await backend.stop();
  });
});

describe('MemoryBackend wake listeners', () => {
  test('throwing listener is reported', async () => {
    const bus = new EventBus();
    const errors: EventMap['listener_error'][] = [];
    bus.on('listener_error', (payload) => errors.push(payload));
    const backend = new MemoryBackend({ events: bus });
    await backend.syncTarget(spec());
    const woke: string[] = [];
    backend.onWake(() => {
      throw new Error('listener bug');
    });
    backend.onWake((target) => woke.push(target));
    await backend.release(leased(await backend.tryAcquire('t1', none)), success);
    await Promise.resolve();
    assert.deepEqual(woke, ['t1']);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.event, 'wake');
    assert.equal((errors[0]?.err as Error).message, 'listener bug');
    await backend.stop();
  });
});
