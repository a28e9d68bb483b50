/**
 * `X-Proxy-Hopper-<Name>` overrides whose <Name> is itself special. No header starting with
 * `x-proxy-hopper-` or `x-proxyhopper-` may reach the target, not even one spelled through an
 * override (the client's Auth token would travel on with it). X-Request-Id is managed by Proxy
 * Hopper, so an override of it is rejected and the target receives exactly one line of it.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { header, rawRequest } from '../../helpers/clients.js';
import { startChainProxy, type ChainProxy } from '../../helpers/node-proxy.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';

describe('overrides with special names', () => {
  let targets: TargetServers;
  let upstream: ChainProxy;
  let hopper: TestHopper;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    upstream = await startChainProxy('127.0.0.2', null);
    registerCleanup(() => upstream.close());
    hopper = await startHopper({
      proxyProviders: [{ name: 'chain', ipList: [upstream.address()] }],
      ipPools: [{ name: 'p', ipRequests: [{ provider: 'chain', count: 1 }] }],
      targets: [
        { name: 't', regex: '.*', ipPool: 'p', minRequestInterval: '0ms', maxQueueWait: '3s' },
      ],
    });
  });

  beforeEach(() => {
    targets.requests.length = 0;
  });

  after(cleanupAll);

  function request(extraHeaders: string): ReturnType<typeof rawRequest> {
    return rawRequest(
      hopper.proxyPort,
      `GET /o HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${targets.httpOrigin}\r\n${extraHeaders}\r\n`,
    );
  }

  function controlHeadersAtTarget(): string[] {
    return targets.requests.flatMap((seen) =>
      seen.headers
        .map(([name]) => name.toLowerCase())
        .filter((name) => name.startsWith('x-proxy-hopper-') || name.startsWith('x-proxyhopper-')),
    );
  }

  for (const line of [
    'X-Proxy-Hopper-X-Proxy-Hopper-Auth: Bearer secret-token',
    'X-Proxy-Hopper-X-Proxy-Hopper-Target: http://other.test',
    'X-Proxy-Hopper-X-ProxyHopper-Force-IP: 127.0.0.9:1',
  ]) {
    const name = line.slice(0, line.indexOf(':'));
    test(`${name} reaches the target as no control header`, async () => {
      await request(`${line}\r\n`);
      assert.deepEqual(controlHeadersAtTarget(), []);
    });
  }

  test('X-Request-Id override is rejected', async () => {
    const seenBefore = targets.requests.length;
    const response = await request('X-Proxy-Hopper-X-Request-Id: chosen-id\r\n');
    assert.equal(response.status, 400);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'bad_request');
    assert.equal(targets.requests.length, seenBefore);
  });
});
