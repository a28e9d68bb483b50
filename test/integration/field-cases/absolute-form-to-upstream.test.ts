// Request form towards the upstream proxy. Plain http targets go out as absolute-form requests,
// and each request on a reused keep-alive socket carries the provider's Proxy-Authorization.
// https targets go out as CONNECT with the credentials, with origin-form inside the tunnel.
// Path and query bytes stay as the client sent them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { DEFAULT_PROXY_USER } from '../../helpers/squid.js';
import { headerValues, startTargets, type TargetServers } from '../../helpers/targets.js';
import { testTls } from '../../helpers/tls.js';
import { pool, provider, target, viaHopper } from '../proxy/fixture.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';

const ALICE_BASIC = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
const RAW_QUERY = '?q=1&b=%2F%3F&c=a+b&&d';

describe('request form towards the upstream proxy', () => {
  let targets: TargetServers;
  let proxy: RecordingProxy;
  let hopper: TestHopper;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    proxy = await startRecordingProxy('127.0.0.31', DEFAULT_PROXY_USER);
    registerCleanup(() => proxy.close());
    const recorded = provider('rec', [proxy.address()]);
    hopper = await startHopper({
      server: { caFile: testTls().caPath },
      proxyProviders: [recorded],
      ipPools: [pool('p', [recorded])],
      targets: [target('t', 'p', { numRetries: 0 })],
    });
  });

  after(cleanupAll);

  test('http target: absolute-form request line and Proxy-Authorization on a reused socket', async () => {
    const paths = [0, 1, 2, 3].map((i) => `/p/${i}${RAW_QUERY}`);
    for (const path of paths) {
      const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, path);
      assert.equal(response.status, 200, response.body.toString());
    }
    const seen = proxy.requests().filter((request) => request.line.includes('/p/'));
    assert.deepEqual(
      seen.map((request) => request.line),
      paths.map((path) => `GET ${targets.httpOrigin}${path} HTTP/1.1`),
    );
    for (const request of seen) {
      assert.equal(request.proxyAuthorization, ALICE_BASIC);
      assert.equal(request.host, `127.0.0.1:${targets.httpPort}`);
    }
    const carrying = proxy.connections.filter((connection) =>
      connection.requests.some((request) => request.line.includes('/p/')),
    );
    assert.equal(carrying.length, 1, 'the four requests did not share one upstream socket');
    assert.deepEqual(
      targets.seen('/p/').map((request) => request.url),
      paths,
    );
  });

  test('https target: CONNECT with credentials, origin-form inside the tunnel', async () => {
    const paths = [0, 1, 2].map((i) => `/s/${i}${RAW_QUERY}`);
    for (const path of paths) {
      const response = await viaHopper(hopper.proxyPort, targets.httpsOrigin, path);
      assert.equal(response.status, 200, response.body.toString());
    }
    const connects = proxy.requests().filter((request) => request.line.startsWith('CONNECT '));
    assert.ok(connects.length >= 1, 'no CONNECT reached the proxy');
    for (const request of connects) {
      assert.equal(request.line, `CONNECT 127.0.0.1:${targets.httpsPort} HTTP/1.1`);
      assert.equal(request.proxyAuthorization, ALICE_BASIC);
    }
    assert.deepEqual(
      proxy.requests().filter((request) => request.line.includes('/s/')),
      [],
      'an https request went to the proxy outside a tunnel',
    );
    const inside = targets.seen('/s/');
    assert.deepEqual(
      inside.map((request) => [request.scheme, request.method, request.url]),
      paths.map((path) => ['https', 'GET', path]),
    );
    for (const request of inside) {
      assert.deepEqual(headerValues(request.headers, 'proxy-authorization'), []);
      assert.deepEqual(headerValues(request.headers, 'host'), [`127.0.0.1:${targets.httpsPort}`]);
      assert.equal(request.remote, '127.0.0.31');
    }
  });
});
