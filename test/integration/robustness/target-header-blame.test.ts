/**
 * A malformed X-Proxy-Hopper-Target is the client's fault, so Proxy Hopper must reject it with
 * 400 invalid_target before any IP is leased. An attempt that fails on the client's own bytes
 * must never count as an IP failure, or a single client could quarantine a whole pool.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { header, rawRequest } from '../../helpers/clients.js';
import { startChainProxy, type ChainProxy } from '../../helpers/node-proxy.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';

describe('malformed target base paths', () => {
  let targets: TargetServers;
  let upstreams: ChainProxy[];
  let hopper: TestHopper;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    upstreams = await Promise.all([
      startChainProxy('127.0.0.2', null),
      startChainProxy('127.0.0.3', null),
    ]);
    for (const upstream of upstreams) registerCleanup(() => upstream.close());
  });

  // A fresh instance per test, so a pool quarantined by one case cannot fail the next.
  beforeEach(async () => {
    targets.requests.length = 0;
    hopper = await startHopper({
      proxyProviders: [{ name: 'chain', ipList: upstreams.map((upstream) => upstream.address()) }],
      ipPools: [{ name: 'p', ipRequests: [{ provider: 'chain', count: 2 }] }],
      targets: [
        {
          name: 't',
          regex: '.*',
          ipPool: 'p',
          minRequestInterval: '0ms',
          maxQueueWait: '3s',
          numRetries: 1,
          ipFailuresUntilQuarantine: 2,
          minActiveIps: 0,
          quarantineTime: '60s',
        },
      ],
    });
  });

  afterEach(() => hopper.stop());

  after(cleanupAll);

  function request(targetValue: string): ReturnType<typeof rawRequest> {
    return rawRequest(
      hopper.proxyPort,
      `GET /x HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${targetValue}\r\n\r\n`,
    );
  }

  async function assertPoolUntouched(): Promise<void> {
    const states = await hopper.running.backend.snapshot('t');
    assert.deepEqual(
      states.map((state) => [state.status, state.failures]),
      [
        ['available', 0],
        ['available', 0],
      ],
    );
  }

  // A space or a tab passes URL parsing (which encodes or drops them) but not the request line.
  for (const [label, basePath] of [
    ['a space', '/b c'],
    ['a tab', '/b\tc'],
  ] as const) {
    test(`base path with ${label}`, async () => {
      const response = await request(`http://127.0.0.1:${targets.httpPort}${basePath}`);
      assert.equal(response.status, 400, response.body.toString());
      assert.equal(header(response, 'x-proxy-hopper-error'), 'invalid_target');
      assert.equal(targets.requests.length, 0);
      await assertPoolUntouched();
    });
  }

  test('bad paths quarantine nothing', async () => {
    await request(`http://127.0.0.1:${targets.httpPort}/b c`);
    await request(`http://127.0.0.1:${targets.httpPort}/b c`);
    const response = await request(targets.httpOrigin);
    assert.equal(response.status, 200, response.body.toString());
    await assertPoolUntouched();
  });

  // An empty query or fragment is still a query or fragment, and accepting it rewrites the
  // request. `/a?` turns the client's path into a query, and `/a#` makes the proxy drop the path.
  for (const [label, suffix] of [
    ['an empty query', '/a?'],
    ['an empty fragment', '/a#'],
  ] as const) {
    test(`target with ${label}`, async () => {
      const response = await request(`http://127.0.0.1:${targets.httpPort}${suffix}`);
      assert.equal(response.status, 400, response.body.toString());
      assert.equal(header(response, 'x-proxy-hopper-error'), 'invalid_target');
      assert.equal(targets.requests.length, 0);
    });
  }
});
