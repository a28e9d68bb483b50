// An upstream proxy that responds 407 to everything is an IP failure: the request is retried on
// a healthy IP, the client never sees the 407 or its Proxy-Authenticate, and the rejecting IP
// is quarantined after ipFailuresUntilQuarantine failures. When every IP responds 407 the
// client gets 502 upstream_auth_failed, never 407.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { header, headerAll, json } from '../../helpers/clients.js';
import { startFakeProxy, type FakeProxy } from '../../helpers/node-proxy.js';
import type { Scrape } from '../../helpers/observe/scrape.js';
import { startHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import { startTargets, type EchoBody, type TargetServers } from '../../helpers/targets.js';
import { testTls } from '../../helpers/tls.js';
import { scrapeUntil } from '../observe-e2e/fixture.js';
import { nextEvent, pool, provider, target, viaHopper } from '../proxy/fixture.js';

const CREDENTIALS = { username: 'u1', password: 'p1' };

/** Sum of the samples of `name` whose `address` label is `address`. */
function byAddress(result: Scrape, name: string, address: string): number {
  const samples = result.families.get(name)?.metrics ?? [];
  return samples
    .filter((sample) => sample.labels?.address === address)
    .reduce((sum, sample) => sum + Number(sample.value), 0);
}

describe('upstream proxy responding 407', () => {
  let targets: TargetServers;
  let squid: SquidPeer;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squid = await startSquid({ outgoingAddresses: ['127.0.0.34'] });
  });

  after(cleanupAll);

  async function rejectingProxy(): Promise<FakeProxy> {
    const proxy = await startFakeProxy('always-407');
    registerCleanup(() => proxy.close());
    return proxy;
  }

  test('requests 200 via healthy IP, 407 IP quarantined', async () => {
    const rejecting = await rejectingProxy();
    const bad = provider('bad', [rejecting.address()], CREDENTIALS);
    const good = provider('good', [squid.address()]);
    const hopper = await startHopper({
      server: { caFile: testTls().caPath, metrics: true, metricsHost: '127.0.0.1', metricsPort: 0 },
      proxyProviders: [bad, good],
      ipPools: [pool('p', [bad, good])],
      targets: [target('t', 'p', { numRetries: 1, ipFailuresUntilQuarantine: 2 })],
    });

    const quarantined = nextEvent(
      hopper,
      'quarantine',
      (event) => event.address === rejecting.address(),
      10_000,
    );
    for (let i = 0; i < 3; i++) {
      const response = await viaHopper(hopper.proxyPort, targets.httpsOrigin, `/echo/r407/${i}`);
      assert.equal(response.status, 200, response.body.toString());
      assert.equal(json<EchoBody>(response).remote, '127.0.0.34');
      assert.deepEqual(headerAll(response, 'proxy-authenticate'), []);
    }
    await quarantined;
    assert.equal(rejecting.connections.flatMap((c) => c.requestLines).length, 2);

    const metricsUrl = `http://127.0.0.1:${hopper.running.metricsPort}/metrics`;
    const name = 'proxy_hopper_ip_quarantine_events_total';
    const result = await scrapeUntil(
      metricsUrl,
      (current) => byAddress(current, name, rejecting.address()) > 0,
    );
    assert.equal(byAddress(result, name, rejecting.address()), 1);
    assert.equal(byAddress(result, name, squid.address()), 0);
    await hopper.stop();
  });

  test('407 on every IP is 502 upstream_auth_failed', async () => {
    const first = await rejectingProxy();
    const second = await rejectingProxy();
    const bad = provider('bad', [first.address(), second.address()], CREDENTIALS);
    const hopper = await startHopper({
      server: { caFile: testTls().caPath },
      proxyProviders: [bad],
      ipPools: [pool('p', [bad])],
      targets: [target('t', 'p', { numRetries: 1, ipFailuresUntilQuarantine: 2 })],
    });
    const response = await viaHopper(hopper.proxyPort, targets.httpsOrigin, '/echo/all407');
    assert.equal(response.status, 502);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'upstream_auth_failed');
    assert.deepEqual(headerAll(response, 'proxy-authenticate'), []);
    assert.match(String(json(response).detail), /^Upstream proxy authentication failed/);
    assert.equal(targets.seen('/echo/all407').length, 0);
    await hopper.stop();
  });
});
