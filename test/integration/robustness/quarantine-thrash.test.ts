/**
 * Quarantine thrash: two of three IPs return 503 for everything, with a failure threshold of 1
 * and a 200 ms quarantine, so they go in and out of quarantine all the time while 300
 * requests run 20 at a time. With two retries every request still ends on the healthy IP,
 * and when the load stops no lease is left and every IP comes back with a clean count.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { header, send } from '../../helpers/clients.js';
import { startChainProxy, startFakeProxy } from '../../helpers/node-proxy.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup, sleep } from '../../helpers/processes.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import { recordEvents } from '../proxy/fixture.js';

const BATCHES = 15;
const BATCH_SIZE = 20;

describe('quarantine thrash', () => {
  let targets: TargetServers;
  let hopper: TestHopper;
  let healthyAddress: string;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    const healthy = await startChainProxy('127.0.0.2', null);
    registerCleanup(() => healthy.close());
    const failing = await Promise.all([startFakeProxy('always-503'), startFakeProxy('always-503')]);
    for (const proxy of failing) registerCleanup(() => proxy.close());
    healthyAddress = healthy.address();
    hopper = await startHopper({
      proxyProviders: [
        { name: 'mixed', ipList: [healthy.address(), ...failing.map((proxy) => proxy.address())] },
      ],
      ipPools: [{ name: 'p', ipRequests: [{ provider: 'mixed', count: 3 }] }],
      targets: [
        {
          name: 't',
          regex: '.*',
          ipPool: 'p',
          minRequestInterval: '0ms',
          maxQueueWait: '10s',
          numRetries: 2,
          ipFailuresUntilQuarantine: 1,
          quarantineTime: '200ms',
          minActiveIps: 0,
        },
      ],
    });
  });

  after(cleanupAll);

  test('flapping IPs, all requests 200', async (t) => {
    const quarantines = recordEvents(hopper, 'quarantine');
    const releases = recordEvents(hopper, 'quarantine_release');
    const outcomes = new Map<string, number>();
    for (let batch = 0; batch < BATCHES; batch++) {
      await Promise.all(
        Array.from({ length: BATCH_SIZE }, async (_, i) => {
          const response = await send(hopper.proxyPort, {
            path: `/thrash/${batch}/${i}`,
            headers: { 'x-proxy-hopper-target': targets.httpOrigin },
          });
          const key = `${response.status} ${header(response, 'x-proxy-hopper-error') ?? ''}`.trim();
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        }),
      );
      await sleep(50);
    }
    assert.deepEqual([...outcomes], [['200', BATCHES * BATCH_SIZE]]);
    assert.equal(targets.seen('/thrash/').length, BATCHES * BATCH_SIZE);
    assert.ok(quarantines.length >= 4, `${quarantines.length} quarantines`);
    assert.ok(
      quarantines.every((event) => event.address !== healthyAddress),
      'the healthy IP was quarantined',
    );

    // After the last quarantine ends, every IP is back with no lease and no failures.
    await sleep(400);
    const states = await hopper.running.backend.snapshot('t');
    assert.deepEqual(
      states.map((state) => [state.status, state.failures, state.leaseExpiresAtMs]),
      [
        ['available', 0, null],
        ['available', 0, null],
        ['available', 0, null],
      ],
    );
    assert.equal(releases.length, quarantines.length);
    t.diagnostic(
      `${quarantines.length} quarantines and releases over ${BATCHES * BATCH_SIZE} requests`,
    );
  });
});
