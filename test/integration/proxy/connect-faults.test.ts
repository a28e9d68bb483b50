// Upstream proxies that misbehave on CONNECT or on every request. The fakes split a CONNECT
// reply over two writes, reply 403 and keep the socket open, close before any byte, or always
// respond 407 or 503.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { header, headerAll, json } from '../../helpers/clients.js';
import { startFakeProxy, type FakeProxy } from '../../helpers/node-proxy.js';
import { startHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import { startTargets, type EchoBody, type TargetServers } from '../../helpers/targets.js';
import { testTls } from '../../helpers/tls.js';
import {
  nextEvent,
  pool,
  provider,
  recordEvents,
  target,
  viaHopper,
  waitUntil,
} from './fixture.js';

describe('misbehaving upstream proxies', () => {
  let targets: TargetServers;
  let squid: SquidPeer;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squid = await startSquid({ outgoingAddresses: ['127.0.0.7'] });
  });

  after(cleanupAll);

  async function fake(
    behaviour: Parameters<typeof startFakeProxy>[0],
    localAddress?: string,
  ): Promise<FakeProxy> {
    const proxy = await startFakeProxy(behaviour, localAddress);
    registerCleanup(() => proxy.close());
    return proxy;
  }

  function configFor(
    addresses: string[],
    settings: Record<string, unknown>,
  ): Record<string, unknown> {
    const fakes = provider('fakes', addresses, null);
    return {
      server: { caFile: testTls().caPath },
      proxyProviders: [fakes],
      ipPools: [pool('p', [fakes])],
      targets: [target('t', 'p', settings)],
    };
  }

  test('split, refused and closed CONNECT replies', async () => {
    const split = await fake('split-connect-head', '127.0.0.21');
    const refused = await fake('connect-403-keep-open');
    const closed = await fake('close-before-reply');
    const hopper = await startHopper(
      configFor([split.address(), refused.address(), closed.address()], {
        numRetries: 2,
        ipFailuresUntilQuarantine: 100,
      }),
    );
    const attempts = recordEvents(hopper, 'attempt_end');
    for (let i = 0; i < 6; i++) {
      const response = await viaHopper(hopper.proxyPort, targets.httpsOrigin, `/echo/connect-split/${i}`);
      assert.equal(response.status, 200, response.body.toString());
      assert.equal(json<EchoBody>(response).remote, '127.0.0.21');
    }
    const byAddress = (address: string) =>
      attempts.filter((attempt) => attempt.address === address);
    assert.ok(byAddress(refused.address()).length >= 1, 'the 403 proxy was never tried');
    assert.ok(byAddress(closed.address()).length >= 1, 'the closing proxy was never tried');
    for (const attempt of [...byAddress(refused.address()), ...byAddress(closed.address())]) {
      assert.notEqual(attempt.outcome, 'success');
      assert.ok(attempt.durationMs < 1000, `failure took ${attempt.durationMs} ms`);
    }
    for (const attempt of byAddress(split.address())) assert.equal(attempt.outcome, 'success');
    // The 403 proxy keeps its sockets open, so a closed one was closed by Proxy Hopper.
    for (const connection of refused.connections) {
      assert.notEqual(connection.closedAtMs, null, 'socket to the 403 proxy left open');
      assert.ok((connection.closedAtMs as number) - connection.openedAtMs < 1000);
    }
    await hopper.stop();
  });

  test('403 CONNECT without retries is 502', async () => {
    const refused = await fake('connect-403-keep-open');
    const hopper = await startHopper(configFor([refused.address()], { numRetries: 0 }));
    const response = await viaHopper(hopper.proxyPort, targets.httpsOrigin, '/echo/connect-403');
    assert.equal(response.status, 502);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'connection_error');
    const detail = String(json(response).detail);
    assert.doesNotMatch(detail, /SSL|TLS|wrong version/i);
    assert.match(detail, /403/);
    // The proxy never closes; Proxy Hopper must, without waiting for a timeout.
    assert.ok(
      await waitUntil(() => refused.openConnections() === 0, 1000),
      'socket to the 403 proxy left open',
    );
    await hopper.stop();
  });

  test('always-407 proxy is quarantined and never reaches the client', async () => {
    const rejecting = await fake('always-407');
    const fakes = provider('fakes', [rejecting.address()], { username: 'u', password: 'p' });
    const squids = provider('squids', [squid.address()]);
    const hopper = await startHopper({
      server: { caFile: testTls().caPath },
      proxyProviders: [fakes, squids],
      ipPools: [pool('p', [fakes, squids])],
      targets: [target('t', 'p', { numRetries: 1, ipFailuresUntilQuarantine: 2, minActiveIps: 1 })],
    });
    const quarantined = nextEvent(
      hopper,
      'quarantine',
      (event) => event.address === rejecting.address(),
      10_000,
    );
    for (let i = 0; i < 3; i++) {
      const response = await viaHopper(hopper.proxyPort, targets.httpsOrigin, `/echo/auth-407/${i}`);
      assert.equal(response.status, 200);
      assert.equal(json<EchoBody>(response).remote, '127.0.0.7');
      assert.deepEqual(headerAll(response, 'proxy-authenticate'), []);
    }
    await quarantined;
    assert.equal(rejecting.connections.flatMap((c) => c.requestLines).length, 2);
    await hopper.stop();
  });

  test('always-503 proxy gives 503 upstream_error after retries', async () => {
    const unavailable = await fake('always-503');
    const second = await fake('always-503');
    const hopper = await startHopper(
      configFor([unavailable.address(), second.address()], { numRetries: 1 }),
    );
    const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, '/echo/always503');
    assert.equal(response.status, 503);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'upstream_error');
    const body = json(response);
    assert.equal(body.retries_attempted, 1);
    assert.equal(body.retries_allowed, 1);
    const lines = [...unavailable.connections, ...second.connections].flatMap(
      (c) => c.requestLines,
    );
    assert.deepEqual(lines, Array(2).fill(`GET ${targets.httpOrigin}/echo/always503 HTTP/1.1`));
    await hopper.stop();
  });
});
