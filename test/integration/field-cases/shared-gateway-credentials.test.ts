// Two providers that share one gateway (one squid) with different credentials, used in turn
// on one client keep-alive connection. Each request goes out with the credentials of the
// provider that owns its target's pool, also on reused upstream sockets, and a tunnel opened
// for one destination host is never used for another.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup, sleep } from '../../helpers/processes.js';
import { DEFAULT_PROXY_USER, startSquid, type SquidPeer } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import { testTls } from '../../helpers/tls.js';
import { pool, provider, target } from '../proxy/fixture.js';
import { sendSequentially } from './keep-alive-client.js';

const BOB = { username: 'bob', password: 'b0b-pass' };
const SEQUENCE: ['x' | 'y', string][] = [
  ['x', '/a'],
  ['y', '/b'],
  ['x', '/c'],
  ['y', '/d'],
];

/** squid's native access.log fields: time elapsed client code/status bytes method URL user. */
function accessFields(squid: SquidPeer): string[][] {
  return squid.accessLines().map((line) => line.trim().split(/\s+/));
}

describe('providers sharing one gateway with different credentials', () => {
  let targets: TargetServers;
  let gateway: SquidPeer;
  let hopper: TestHopper;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    gateway = await startSquid({
      users: [DEFAULT_PROXY_USER, BOB],
      outgoingAddresses: ['127.0.0.33'],
    });
    const provA = provider('prov-a', [gateway.address()], DEFAULT_PROXY_USER);
    const provB = provider('prov-b', [gateway.address()], BOB);
    hopper = await startHopper({
      server: { caFile: testTls().caPath },
      proxyProviders: [provA, provB],
      ipPools: [pool('pool-a', [provA]), pool('pool-b', [provB])],
      targets: [
        target('t1', 'pool-a', { regex: '^https?://x\\.test:', numRetries: 0 }),
        target('t2', 'pool-b', { regex: '^https?://y\\.test:', numRetries: 0 }),
      ],
    });
  });

  after(cleanupAll);

  const requestsFor = (scheme: 'http' | 'https', port: number): string[] =>
    SEQUENCE.map(
      ([host, path]) =>
        `GET /shared-gateway${path}?s=${scheme} HTTP/1.1\r\nHost: ph.local\r\n` +
        `X-Proxy-Hopper-Target: ${scheme}://${host}.test:${port}\r\n\r\n`,
    );

  test('http: each request carries its own provider credentials, none is refused', async () => {
    const responses = await sendSequentially(
      hopper.proxyPort,
      requestsFor('http', targets.httpPort),
    );
    assert.deepEqual(
      responses.map((response) => response.status),
      [200, 200, 200, 200],
    );
    const gets = accessFields(gateway).filter(
      (fields) => fields[5] === 'GET' && (fields[6] ?? '').includes('s=http'),
    );
    assert.deepEqual(
      gets.map((fields) => [fields[6], fields[7], fields[3]]),
      SEQUENCE.map(([host, path]) => [
        `http://${host}.test:${targets.httpPort}/shared-gateway${path}?s=http`,
        host === 'x' ? 'alice' : 'bob',
        'TCP_MISS/200',
      ]),
    );
    const refused = accessFields(gateway).filter((fields) => (fields[3] ?? '').endsWith('/407'));
    assert.deepEqual(refused, []);
  });

  test('https: one tunnel per destination host and credentials, none is refused', async () => {
    const responses = await sendSequentially(
      hopper.proxyPort,
      requestsFor('https', targets.httpsPort),
    );
    assert.deepEqual(
      responses.map((response) => response.status),
      [200, 200, 200, 200],
    );
    const hosts = targets
      .seen('/shared-gateway/')
      .filter((request) => request.url.endsWith('s=https'))
      .map((request) => request.headers.find(([name]) => name.toLowerCase() === 'host')?.[1]);
    assert.deepEqual(
      hosts,
      SEQUENCE.map(([host]) => `${host}.test:${targets.httpsPort}`),
    );
    // squid writes a CONNECT line when the tunnel closes, so close Proxy Hopper's tunnels.
    await hopper.stop();
    const deadlineMs = Date.now() + 3000;
    const connects = (): string[][] => accessFields(gateway).filter((f) => f[5] === 'CONNECT');
    while (connects().length < 2 && Date.now() < deadlineMs) await sleep(50);
    const pairs = new Set(connects().map((fields) => `${fields[6]} ${fields[7]} ${fields[3]}`));
    assert.deepEqual([...pairs].sort(), [
      `x.test:${targets.httpsPort} alice TCP_TUNNEL/200`,
      `y.test:${targets.httpsPort} bob TCP_TUNNEL/200`,
    ]);
    const refused = accessFields(gateway).filter((fields) => (fields[3] ?? '').endsWith('/407'));
    assert.deepEqual(refused, []);
  });
});
