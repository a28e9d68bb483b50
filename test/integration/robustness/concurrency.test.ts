/**
 * 200 concurrent requests over 3 IPs. Every request gets a response (200, or the documented
 * 503 queue_timeout when maxQueueWait runs out), and an IP never carries two requests at once.
 * With minRequestInterval, the starts through one IP stay at least that far apart.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { header, send } from '../../helpers/clients.js';
import { startChainProxy, type ChainProxy } from '../../helpers/node-proxy.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import type { Lease } from '../../../src/backend/types.js';

const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const REQUESTS = 200;
/** Delay before the target responds, so overlapping requests would show. */
const HOLD_MS = 10;

interface CountingTarget {
  origin: string;
  /** Highest number of requests in flight at once from one source address. */
  maxInFlightPerSource(): number;
  /** Arrival times (performance.now ms) per source address. */
  arrivals: Map<string, number[]>;
  reset(): void;
}

async function startCountingTarget(): Promise<CountingTarget> {
  const inFlight = new Map<string, number>();
  const arrivals = new Map<string, number[]>();
  let highest = 0;
  const server = http.createServer((req, res) => {
    const source = req.socket.remoteAddress ?? '';
    const now = (inFlight.get(source) ?? 0) + 1;
    inFlight.set(source, now);
    highest = Math.max(highest, now);
    arrivals.set(source, [...(arrivals.get(source) ?? []), performance.now()]);
    req.resume();
    setTimeout(() => {
      inFlight.set(source, (inFlight.get(source) ?? 1) - 1);
      res.end('ok');
    }, HOLD_MS);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registerCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as net.AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    maxInFlightPerSource: () => highest,
    arrivals,
    reset: () => {
      highest = 0;
      arrivals.clear();
      inFlight.clear();
    },
  };
}

function startsByAddress(leases: Pick<Lease, 'address' | 'acquiredAtMs'>[]): Map<string, number[]> {
  const starts = new Map<string, number[]>();
  for (const lease of leases) {
    starts.set(lease.address, [...(starts.get(lease.address) ?? []), lease.acquiredAtMs]);
  }
  for (const list of starts.values()) list.sort((a, b) => a - b);
  return starts;
}

function smallestGapMs(arrivals: Map<string, number[]>): number {
  let smallest = Infinity;
  for (const list of arrivals.values()) {
    for (let i = 1; i < list.length; i++)
      smallest = Math.min(smallest, (list[i] as number) - (list[i - 1] as number));
  }
  return smallest;
}

describe('200 concurrent requests over 3 IPs', () => {
  let target: CountingTarget;
  let upstreams: ChainProxy[];
  let hopper: TestHopper;

  before(async () => {
    target = await startCountingTarget();
    upstreams = await Promise.all(SOURCES.map((source) => startChainProxy(source, null)));
    for (const upstream of upstreams) registerCleanup(() => upstream.close());
  });

  afterEach(async () => {
    target.reset();
    await hopper.stop();
  });

  after(cleanupAll);

  async function run(
    settings: Record<string, unknown>,
    leases: Lease[] = [],
    sends: Pick<Lease, 'address' | 'acquiredAtMs'>[] = [],
  ): Promise<Map<string, number>> {
    hopper = await startHopper({
      proxyProviders: [{ name: 'chain', ipList: upstreams.map((upstream) => upstream.address()) }],
      ipPools: [{ name: 'p', ipRequests: [{ provider: 'chain', count: SOURCES.length }] }],
      targets: [{ name: 't', regex: '.*', ipPool: 'p', numRetries: 1, ...settings }],
    });
    // Records every lease the backend hands out. The backend itself runs unchanged.
    const backend = hopper.running.backend;
    const tryAcquire = backend.tryAcquire.bind(backend);
    backend.tryAcquire = async (name, avoid) => {
      const result = await tryAcquire(name, avoid);
      if (result.kind === 'leased') leases.push(result.lease);
      return result;
    };
    hopper.running.events.on('attempt_end', (attempt) => {
      sends.push({ address: attempt.address, acquiredAtMs: attempt.startedAtMs });
    });
    const outcomes = new Map<string, number>();
    await Promise.all(
      Array.from({ length: REQUESTS }, async (_, i) => {
        const response = await send(hopper.proxyPort, {
          path: `/c/${i}`,
          headers: { 'x-proxy-hopper-target': target.origin },
        });
        const key = `${response.status} ${header(response, 'x-proxy-hopper-error') ?? ''}`.trim();
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }),
    );
    return outcomes;
  }

  async function assertPoolIdle(): Promise<void> {
    const states = await hopper.running.backend.snapshot('t');
    assert.deepEqual(
      states.map((state) => [state.leaseExpiresAtMs, state.failures]),
      SOURCES.map(() => [null, 0]),
    );
  }

  test('interval 0: one request per IP', async () => {
    const outcomes = await run({ minRequestInterval: '0ms', maxQueueWait: '20s' });
    assert.deepEqual([...outcomes], [['200', REQUESTS]]);
    assert.equal(target.maxInFlightPerSource(), 1);
    assert.deepEqual([...target.arrivals.keys()].sort(), SOURCES);
    await assertPoolIdle();
  });

  test('interval 50ms: starts 50 ms apart', async () => {
    const leases: Lease[] = [];
    const sends: { address: string; acquiredAtMs: number }[] = [];
    const outcomes = await run({ minRequestInterval: '50ms', maxQueueWait: '20s' }, leases, sends);
    assert.deepEqual([...outcomes], [['200', REQUESTS]]);
    assert.equal(target.maxInFlightPerSource(), 1);
    const gapMs = smallestGapMs(startsByAddress(leases));
    assert.equal(leases.length, REQUESTS);
    // The attempt's own start (just before the send) keeps the spacing too, even when the
    // busy event loop delayed it after the lease.
    const sendGapMs = smallestGapMs(startsByAddress(sends));
    assert.equal(sends.length, REQUESTS);
    assert.ok(sendGapMs >= 50, `send gap ${sendGapMs} ms`);
    // Measured at the lease: the target's clock adds the jitter of this busy test process and
    // of the proxy hop, which can make two spaced starts arrive closer together.
    assert.ok(gapMs >= 50, `gap ${gapMs} ms`);
    await assertPoolIdle();
  });

  test('maxQueueWait 1s: only 200 or queue_timeout', async () => {
    const outcomes = await run({ minRequestInterval: '50ms', maxQueueWait: '1s' });
    const total = [...outcomes.values()].reduce((sum, count) => sum + count, 0);
    assert.equal(total, REQUESTS);
    assert.deepEqual([...outcomes.keys()].sort(), ['200', '503 queue_timeout']);
    assert.equal(target.maxInFlightPerSource(), 1);
    await assertPoolIdle();
  });
});
