/**
 * A bounded soak: 2 000 requests, 50 at a time, through one in-process Proxy Hopper. The
 * memory numbers before and after are reported as diagnostics, never asserted (they depend on
 * the machine and the GC). What is asserted: every request gets 200, no lease is left,
 * and upstream connections stay bounded by the concurrency instead of growing with the count.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { send } from '../../helpers/clients.js';
import { startChainProxy, type ChainProxy } from '../../helpers/node-proxy.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { establishedTo } from '../../helpers/sockets.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';

const TOTAL = 2000;
const CONCURRENCY = 50;

/** Runs a full GC when the runtime allows one, so before and after compare live memory. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (() => void) | undefined;
  gc?.();
}

function megabytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

describe('memory over a bounded soak', () => {
  let targets: TargetServers;
  let upstream: ChainProxy;
  let hopper: TestHopper;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    upstream = await startChainProxy('127.0.0.2', null);
    registerCleanup(() => upstream.close());
    hopper = await startHopper({
      server: { logLevel: 'INFO' },
      proxyProviders: [{ name: 'chain', ipList: [upstream.address()] }],
      ipPools: [{ name: 'p', ipRequests: [{ provider: 'chain', count: 1 }] }],
      targets: [
        { name: 't', regex: '.*', ipPool: 'p', minRequestInterval: '0ms', maxQueueWait: '30s' },
      ],
    });
  });

  after(cleanupAll);

  async function batch(from: number, count: number): Promise<number[]> {
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const response = await send(hopper.proxyPort, {
          path: `/soak/${from + i}`,
          headers: { 'x-proxy-hopper-target': targets.httpOrigin },
        });
        return response.status;
      }),
    );
  }

  test(`soak of ${TOTAL} requests`, async (t) => {
    await batch(0, 200);
    targets.requests.length = 0;
    hopper.logs.length = 0;
    collectGarbage();
    const start = process.memoryUsage();

    const failures: number[] = [];
    let maxUpstreamSockets = 0;
    for (let done = 0; done < TOTAL; done += CONCURRENCY) {
      const statuses = await batch(done, CONCURRENCY);
      failures.push(...statuses.filter((status) => status !== 200));
      maxUpstreamSockets = Math.max(maxUpstreamSockets, establishedTo(upstream.port));
      // The test's own records would otherwise grow with the count.
      targets.requests.length = 0;
      hopper.logs.length = 0;
    }
    collectGarbage();
    const end = process.memoryUsage();

    t.diagnostic(
      `heapUsed ${megabytes(start.heapUsed)} -> ${megabytes(end.heapUsed)} MB, ` +
        `rss ${megabytes(start.rss)} -> ${megabytes(end.rss)} MB, ` +
        `external ${megabytes(start.external)} -> ${megabytes(end.external)} MB, ` +
        `max upstream sockets ${maxUpstreamSockets}`,
    );
    assert.deepEqual(failures, []);
    assert.ok(maxUpstreamSockets <= CONCURRENCY, `${maxUpstreamSockets} upstream sockets`);
    const states = await hopper.running.backend.snapshot('t');
    assert.deepEqual(
      states.map((state) => [state.status, state.failures, state.leaseExpiresAtMs]),
      [['available', 0, null]],
    );
  });
});
