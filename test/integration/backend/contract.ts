/**
 * The Backend contract: one suite that every backend implementation runs unchanged. Redis
 * keeps its own clock, so the suite uses small real durations (80 ms to 1 s) instead of a
 * frozen clock. It checks times against the local window of the call that set them, or
 * against each other within a tolerance.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResolvedIp } from '../../../src/config/types.js';
import type { AcquireResult, Backend, Lease, TargetPoolSpec } from '../../../src/backend/types.js';
import { EventBus, type EventMap } from '../../../src/observe/events.js';

export interface ContractFactoryOptions {
  leaseTtlMs: number;
  events: EventBus;
}

/** Builds a fresh, not yet started backend whose state no other test shares. */
export type BackendFactory = (options: ContractFactoryOptions) => Promise<Backend>;

/** Allowed difference between two reported times (Redis times are moved onto the local clock). */
const TOLERANCE_MS = 50;
/** Allowed error of the local-clock estimate of a Redis time, on top of the call's duration. */
const CLOCK_SLACK_MS = 3;
const none = new Set<string>();
const success = { result: 'success', cooldownFromRelease: false } as const;
const failure = { result: 'failure', cooldownFromRelease: false } as const;

export function ip(address: string, provider = 'prov', region = 'eu'): ResolvedIp {
  const [host = '', port = '0'] = address.split(':');
  return { address, host, port: Number(port), provider, region, credentials: null };
}

export const A = '10.0.0.1:3128';
export const B = '10.0.0.2:3128';
export const C = '10.0.0.3:3128';

export function poolSpec(overrides: Partial<TargetPoolSpec> = {}): TargetPoolSpec {
  return {
    target: 'shop',
    ips: [ip(A), ip(B), ip(C)],
    minRequestIntervalMs: 0,
    ipFailuresUntilQuarantine: 2,
    quarantineMs: 60_000,
    minActiveIps: 1,
    ...overrides,
  };
}

export function leased(result: AcquireResult): Lease {
  if (result.kind !== 'leased') assert.fail(`expected a lease, got ${JSON.stringify(result)}`);
  return result.lease;
}

type Recorded = { name: keyof EventMap; payload: unknown };

interface Started {
  backend: Backend;
  events: Recorded[];
}

const RECORDED: (keyof EventMap)[] = [
  'ip_success',
  'ip_failure',
  'quarantine',
  'quarantine_floor',
  'quarantine_release',
];

/** Runs `call` and returns its result with the local times just before and after it. */
async function timed<T>(
  call: () => Promise<T>,
): Promise<{ value: T; beforeMs: number; afterMs: number }> {
  const beforeMs = Date.now();
  const value = await call();
  return { value, beforeMs, afterMs: Date.now() };
}

/** Asserts a time set during a call: within the call's window moved by `plusMs`. */
export function assertDuring(
  actual: number | null | undefined,
  window: { beforeMs: number; afterMs: number },
  plusMs: number,
  label: string,
) {
  assert.ok(typeof actual === 'number', `${label}: expected a number, got ${actual}`);
  const low = window.beforeMs + plusMs - CLOCK_SLACK_MS;
  const high = window.afterMs + plusMs + CLOCK_SLACK_MS;
  assert.ok(actual >= low, `${label}: ${actual} is before ${low}`);
  assert.ok(actual <= high, `${label}: ${actual} is after ${high}`);
}

export function assertNear(actual: number | null | undefined, expected: number, label: string) {
  assert.ok(typeof actual === 'number', `${label}: expected a number, got ${actual}`);
  const delta = Math.abs(actual - expected);
  assert.ok(delta <= TOLERANCE_MS, `${label}: ${actual} is ${delta} ms away from ${expected}`);
}

export function runBackendContract(name: string, factory: BackendFactory): void {
  async function start(spec: Partial<TargetPoolSpec> = {}, leaseTtlMs = 30_000) {
    const bus = new EventBus();
    const events: Recorded[] = [];
    for (const event of RECORDED) bus.on(event, (payload) => events.push({ name: event, payload }));
    const backend = await factory({ leaseTtlMs, events: bus });
    await backend.start();
    await backend.syncTarget(poolSpec(spec));
    // Wake-ups may travel over pub/sub; let the one from syncTarget pass before the test.
    await sleep(20);
    return { backend, events } satisfies Started;
  }

  async function withBackend(
    spec: Partial<TargetPoolSpec>,
    run: (started: Started) => Promise<void>,
    leaseTtlMs?: number,
  ) {
    const started = await start(spec, leaseTtlMs);
    try {
      await run(started);
    } finally {
      await started.backend.stop();
    }
  }

  const labelsOf = (address: string) => ({
    target: 'shop',
    address,
    provider: 'prov',
    region: 'eu',
  });

  describe(`${name} backend contract`, () => {
    test('ready after start', async () => {
      await withBackend({}, async ({ backend }) => {
        assert.equal(backend.isReady(), true);
      });
    });

    test('leases in config order with TTL', async () => {
      await withBackend(
        {},
        async ({ backend }) => {
          const call = await timed(() => backend.tryAcquire('shop', none));
          const first = leased(call.value);
          const second = leased(await backend.tryAcquire('shop', none));
          const third = leased(await backend.tryAcquire('shop', none));
          assert.deepEqual([first.address, second.address, third.address], [A, B, C]);
          assert.equal(first.target, 'shop');
          assertDuring(first.acquiredAtMs, call, 0, 'acquiredAtMs');
          assert.equal(first.expiresAtMs - first.acquiredAtMs, 5000);
          assert.equal(new Set([first.leaseId, second.leaseId, third.leaseId]).size, 3);
          const waiting = await backend.tryAcquire('shop', none);
          assert.equal(waiting.kind, 'wait');
          assert.equal(waiting.kind === 'wait' && waiting.inRotation, 3);
          assert.equal(waiting.kind === 'wait' && waiting.nextQuarantineEndMs, null);
          assertNear(
            waiting.kind === 'wait' ? waiting.readyAtMs : null,
            first.expiresAtMs,
            'ready',
          );
        },
        5000,
      );
    });

    test('rotation prefers longest-waiting IP', async () => {
      await withBackend({}, async ({ backend }) => {
        const order: string[] = [];
        for (let i = 0; i < 6; i++) {
          const lease = leased(await backend.tryAcquire('shop', none));
          order.push(lease.address);
          await backend.release(lease, success);
          await sleep(3);
        }
        assert.deepEqual(order, [A, B, C, A, B, C]);
      });
    });

    test('spacing is start to start', async () => {
      await withBackend({ ips: [ip(A)], minRequestIntervalMs: 600 }, async ({ backend }) => {
        const first = leased(await backend.tryAcquire('shop', none));
        await sleep(50);
        await backend.release(first, success);
        const waiting = await backend.tryAcquire('shop', none);
        if (waiting.kind !== 'wait') assert.fail('IP must cool down');
        assertNear(waiting.readyAtMs, first.acquiredAtMs + 600, 'readyAtMs');
        const [state] = await backend.snapshot('shop');
        assert.equal(state?.status, 'cooling_down');
        assertNear(state?.nextReadyAtMs, first.acquiredAtMs + 600, 'nextReadyAtMs');

        await sleep(Math.max(0, (waiting.readyAtMs ?? 0) - Date.now()) + TOLERANCE_MS);
        const second = leased(await backend.tryAcquire('shop', none));
        const gapMs = second.acquiredAtMs - first.acquiredAtMs;
        assert.ok(gapMs >= 600 - CLOCK_SLACK_MS, `starts only ${gapMs} ms apart`);
      });
    });

    test('cooldownFromRelease restarts spacing', async () => {
      await withBackend({ ips: [ip(A)], minRequestIntervalMs: 600 }, async ({ backend }) => {
        const lease = leased(await backend.tryAcquire('shop', none));
        await sleep(100);
        const cooldown = { result: 'failure', cooldownFromRelease: true } as const;
        const call = await timed(() => backend.release(lease, cooldown));
        const waiting = await backend.tryAcquire('shop', none);
        if (waiting.kind !== 'wait') assert.fail('IP must cool down');
        assertDuring(waiting.readyAtMs, call, 600, 'readyAtMs');
      });
    });

    test('expired lease frees IP, stale release ignored', async () => {
      await withBackend(
        { ips: [ip(A)] },
        async ({ backend, events }) => {
          const stale = leased(await backend.tryAcquire('shop', none));
          assert.equal((await backend.tryAcquire('shop', none)).kind, 'wait');
          await sleep(150);
          const fresh = leased(await backend.tryAcquire('shop', none));
          assert.equal(fresh.address, A);
          assert.notEqual(fresh.leaseId, stale.leaseId);
          const result = await backend.release(stale, failure);
          assert.deepEqual(result, {
            failures: 0,
            quarantined: false,
            floorHeld: false,
            activeIps: 1,
            applied: false,
          });
          assert.deepEqual(events, []);
          assert.equal(await backend.renew(stale), false);
          const [state] = await backend.snapshot('shop');
          assert.equal(state?.status, 'leased');
          assert.equal(state?.failures, 0);
          assertNear(state?.leaseExpiresAtMs, fresh.expiresAtMs, 'leaseExpiresAtMs');
          assert.equal((await backend.release(fresh, success)).applied, true);
        },
        100,
      );
    });

    test('renew keeps the lease alive', async () => {
      await withBackend(
        { ips: [ip(A)] },
        async ({ backend }) => {
          const lease = leased(await backend.tryAcquire('shop', none));
          let call = await timed(() => backend.renew(lease));
          for (let i = 0; i < 3; i++) {
            await sleep(150);
            call = await timed(() => backend.renew(lease));
            assert.equal(call.value, true);
          }
          assert.equal((await backend.tryAcquire('shop', none)).kind, 'wait');
          const [state] = await backend.snapshot('shop');
          assertDuring(state?.leaseExpiresAtMs, call, 400, 'renewed expiry');
          assert.equal((await backend.release(lease, success)).applied, true);
        },
        400,
      );
    });

    test('double release applies once', async () => {
      await withBackend({}, async ({ backend }) => {
        const lease = leased(await backend.tryAcquire('shop', none));
        assert.equal((await backend.release(lease, failure)).applied, true);
        const again = await backend.release(lease, failure);
        assert.equal(again.applied, false);
        assert.equal(again.failures, 1);
      });
    });

    test('quarantine at failure threshold', async () => {
      await withBackend({}, async ({ backend, events }) => {
        const others = new Set([B, C]);
        const first = leased(await backend.tryAcquire('shop', others));
        assert.deepEqual(await backend.release(first, failure), {
          failures: 1,
          quarantined: false,
          floorHeld: false,
          activeIps: 3,
          applied: true,
        });
        const second = leased(await backend.tryAcquire('shop', others));
        assert.equal(second.address, A);
        const call = await timed(() => backend.release(second, failure));
        assert.deepEqual(call.value, {
          failures: 2,
          quarantined: true,
          floorHeld: false,
          activeIps: 2,
          applied: true,
        });
        assert.deepEqual(events, [
          { name: 'ip_failure', payload: { ...labelsOf(A), failures: 1 } },
          { name: 'ip_failure', payload: { ...labelsOf(A), failures: 2 } },
          { name: 'quarantine', payload: { ...labelsOf(A), failures: 2, quarantineMs: 60_000 } },
        ]);
        const states = await backend.snapshot('shop');
        assert.equal(states[0]?.status, 'quarantined');
        assert.equal(states[0]?.failures, 2);
        assertDuring(states[0]?.quarantinedUntilMs, call, 60_000, 'quarantinedUntilMs');
        const next = leased(await backend.tryAcquire('shop', new Set([B, C])));
        assert.notEqual(next.address, A);
      });
    });

    test('success resets failure count', async () => {
      await withBackend({}, async ({ backend, events }) => {
        const others = new Set([B, C]);
        await backend.release(leased(await backend.tryAcquire('shop', others)), failure);
        const ok = await backend.release(leased(await backend.tryAcquire('shop', others)), success);
        assert.equal(ok.failures, 0);
        assert.deepEqual(events.at(-1), { name: 'ip_success', payload: labelsOf(A) });
        const again = await backend.release(
          leased(await backend.tryAcquire('shop', others)),
          failure,
        );
        assert.equal(again.failures, 1);
        assert.equal(again.quarantined, false);
      });
    });

    test('neutral release keeps failure count', async () => {
      await withBackend(
        { ips: [ip(A)], minRequestIntervalMs: 500 },
        async ({ backend, events }) => {
          await backend.release(leased(await backend.tryAcquire('shop', none)), failure);
          await sleep(520);
          const lease = leased(await backend.tryAcquire('shop', none));
          const neutral = { result: 'neutral', cooldownFromRelease: false } as const;
          assert.deepEqual(await backend.release(lease, neutral), {
            failures: 1,
            quarantined: false,
            floorHeld: false,
            activeIps: 1,
            applied: true,
          });
          assert.deepEqual(
            events.map((event) => event.name),
            ['ip_failure'],
          );
          const [state] = await backend.snapshot('shop');
          assert.equal(state?.status, 'cooling_down');
          assert.equal(state?.failures, 1);
          assertNear(state?.nextReadyAtMs, lease.acquiredAtMs + 500, 'nextReadyAtMs');
        },
      );
    });

    test('floor holds last IP at minActiveIps 1', async () => {
      const spec = { ips: [ip(A), ip(B)], ipFailuresUntilQuarantine: 1 };
      await withBackend(spec, async ({ backend, events }) => {
        const a = leased(await backend.tryAcquire('shop', none));
        const b = leased(await backend.tryAcquire('shop', none));
        assert.equal((await backend.release(a, failure)).quarantined, true);
        assert.deepEqual(await backend.release(b, failure), {
          failures: 1,
          quarantined: false,
          floorHeld: true,
          activeIps: 1,
          applied: true,
        });
        assert.deepEqual(events.at(-1), {
          name: 'quarantine_floor',
          payload: { ...labelsOf(B), failures: 1, activeIps: 1, minActiveIps: 1 },
        });
        const fallback = leased(await backend.tryAcquire('shop', new Set([B])));
        assert.equal(fallback.address, B);
        const held = await backend.release(fallback, failure);
        assert.equal(held.failures, 2);
        assert.equal(held.floorHeld, true);
        const statuses = (await backend.snapshot('shop')).map((state) => state.status);
        assert.deepEqual(statuses, ['quarantined', 'available']);
      });
    });

    test('minActiveIps 0 quarantines all', async () => {
      const spec = { ips: [ip(A), ip(B)], ipFailuresUntilQuarantine: 1, minActiveIps: 0 };
      await withBackend(spec, async ({ backend }) => {
        const a = leased(await backend.tryAcquire('shop', none));
        const call = await timed(() => backend.release(a, failure));
        const b = leased(await backend.tryAcquire('shop', none));
        const result = await backend.release(b, failure);
        assert.equal(result.quarantined, true);
        assert.equal(result.activeIps, 0);
        const waiting = await backend.tryAcquire('shop', none);
        if (waiting.kind !== 'wait') assert.fail('no IP may be leased');
        assert.equal(waiting.readyAtMs, null);
        assert.equal(waiting.inRotation, 0);
        assertDuring(waiting.nextQuarantineEndMs, call, 60_000, 'nextQuarantineEndMs');
      });
    });

    test('quarantine end resets failures once', async () => {
      const spec = { ips: [ip(A), ip(B)], ipFailuresUntilQuarantine: 1, quarantineMs: 150 };
      await withBackend(spec, async ({ backend, events }) => {
        await backend.release(leased(await backend.tryAcquire('shop', new Set([B]))), failure);
        assert.equal((await backend.snapshot('shop'))[0]?.status, 'quarantined');
        await sleep(30);
        const woke = nextWake(backend, 'shop', 2000);
        assert.equal(await woke, 'shop');
        const [state] = await backend.snapshot('shop');
        assert.equal(state?.status, 'available');
        assert.equal(state?.failures, 0);
        assert.equal(state?.quarantinedUntilMs, null);
        await backend.snapshot('shop');
        const releases = events.filter((event) => event.name === 'quarantine_release');
        assert.deepEqual(releases, [{ name: 'quarantine_release', payload: labelsOf(A) }]);
        const back = leased(await backend.tryAcquire('shop', new Set([B])));
        assert.equal(back.address, A);
        assert.equal((await backend.release(back, failure)).failures, 1);
      });
    });

    test('avoid set until nothing else rotates', async () => {
      await withBackend({ ips: [ip(A), ip(B)] }, async ({ backend }) => {
        assert.equal(leased(await backend.tryAcquire('shop', new Set([A]))).address, B);
        assert.equal((await backend.tryAcquire('shop', new Set([A]))).kind, 'wait');
        assert.equal(leased(await backend.tryAcquire('shop', new Set([A, B]))).address, A);
      });
    });

    test('wait reports cooldown and quarantine', async () => {
      const spec = { ipFailuresUntilQuarantine: 1, minRequestIntervalMs: 600 };
      await withBackend(spec, async ({ backend }) => {
        const a = leased(await backend.tryAcquire('shop', none));
        const call = await timed(() => backend.release(a, failure));
        leased(await backend.tryAcquire('shop', none));
        const c = leased(await backend.tryAcquire('shop', none));
        await backend.release(c, success);
        const waiting = await backend.tryAcquire('shop', none);
        if (waiting.kind !== 'wait') assert.fail('every IP is busy');
        assertNear(waiting.readyAtMs, c.acquiredAtMs + 600, 'readyAtMs');
        assert.equal(waiting.inRotation, 2);
        assertDuring(waiting.nextQuarantineEndMs, call, 60_000, 'quarantine end');
      });
    });

    test('syncTarget keeps state of kept IPs', async () => {
      const spec = { ipFailuresUntilQuarantine: 3, minRequestIntervalMs: 1000 };
      await withBackend(spec, async ({ backend }) => {
        const a = leased(await backend.tryAcquire('shop', none));
        await backend.release(a, failure);
        const b = leased(await backend.tryAcquire('shop', none));
        const D = '10.0.0.4:3128';
        await backend.syncTarget(
          poolSpec({
            ips: [ip(D, 'other', ''), ip(A), ip(B)],
            ipFailuresUntilQuarantine: 3,
            minRequestIntervalMs: 100,
          }),
        );
        const states = await backend.snapshot('shop');
        assert.deepEqual(
          states.map((state) => [state.address, state.status, state.failures]),
          [
            [D, 'available', 0],
            [A, 'cooling_down', 1],
            [B, 'leased', 0],
          ],
        );
        assert.equal(states[0]?.provider, 'other');
        assertNear(states[1]?.nextReadyAtMs, a.acquiredAtMs + 1000, 'kept nextReadyAtMs');
        assert.equal((await backend.release(b, success)).applied, true);
        const next = leased(await backend.tryAcquire('shop', none));
        assert.equal(next.address, D);
        const [added] = await backend.snapshot('shop');
        assertNear(added?.nextReadyAtMs, next.acquiredAtMs + 100, 'new interval');
      });
    });

    test('syncTarget drops removed IPs', async () => {
      await withBackend({}, async ({ backend }) => {
        const a = leased(await backend.tryAcquire('shop', none));
        await backend.syncTarget(poolSpec({ ips: [ip(B), ip(C)] }));
        const result = await backend.release(a, failure);
        assert.equal(result.applied, false);
        assert.equal(result.activeIps, 2);
        const addresses = (await backend.snapshot('shop')).map((state) => state.address);
        assert.deepEqual(addresses, [B, C]);
        assert.equal(leased(await backend.tryAcquire('shop', none)).address, B);
      });
    });

    test('onWake fires on release', async () => {
      await withBackend({}, async ({ backend }) => {
        const lease = leased(await backend.tryAcquire('shop', none));
        const woke = nextWake(backend, 'shop', 2000);
        await backend.release(lease, success);
        assert.equal(await woke, 'shop');
      });
    });

    test('onWake fires on lease expiry', async () => {
      await withBackend(
        { ips: [ip(A)] },
        async ({ backend }) => {
          const lease = leased(await backend.tryAcquire('shop', none));
          assert.equal(await nextWake(backend, 'shop', 2000), 'shop');
          const earlyMs = lease.expiresAtMs - Date.now();
          assert.ok(earlyMs <= CLOCK_SLACK_MS, `woke ${earlyMs} ms before the lease expired`);
          assert.equal((await backend.snapshot('shop'))[0]?.status, 'available');
        },
        80,
      );
    });

    test('unsubscribed listener is not called', async () => {
      await withBackend({}, async ({ backend }) => {
        const woke: string[] = [];
        const unsubscribe = backend.onWake((target) => woke.push(target));
        unsubscribe();
        await backend.release(leased(await backend.tryAcquire('shop', none)), success);
        await sleep(50);
        assert.deepEqual(woke, []);
      });
    });

    test('concurrent acquires never share an IP', async () => {
      await withBackend({ minRequestIntervalMs: 5 }, async ({ backend }) => {
        const holders = new Map<string, string>();
        let overlaps = 0;
        let cycles = 0;
        const worker = async () => {
          for (let i = 0; i < 20; i++) {
            const result = await backend.tryAcquire('shop', none);
            if (result.kind !== 'leased') {
              await sleep(2);
              continue;
            }
            if (holders.has(result.lease.address)) overlaps++;
            holders.set(result.lease.address, result.lease.leaseId);
            await sleep(1);
            holders.delete(result.lease.address);
            await backend.release(result.lease, success);
            cycles++;
          }
        };
        await Promise.all(Array.from({ length: 10 }, worker));
        assert.equal(overlaps, 0);
        assert.ok(cycles > 0, 'some cycles must lease an IP');
        const statuses = (await backend.snapshot('shop')).map((state) => state.status);
        assert.ok(statuses.every((status) => status !== 'leased'));
      });
    });

    test('unknown target is rejected', async () => {
      await withBackend({}, async ({ backend }) => {
        await assert.rejects(backend.tryAcquire('nope', none), /Target 'nope' is not registered/);
        assert.deepEqual(await backend.snapshot('nope'), []);
      });
    });
  });
}

/** Resolves with the next woken target; rejects after `timeoutMs`. */
export function nextWake(backend: Backend, target: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no wake-up for '${target}' within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = backend.onWake((woken) => {
      if (woken !== target) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(woken);
    });
  });
}
