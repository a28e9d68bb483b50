// Checks the test peers on their own, without Proxy Hopper: squid, tinyproxy, proxy-chain and
// the fake proxies all reach the loopback targets from the source address they were given.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { curl, json } from '../helpers/clients.js';
import { startChainProxy, startFakeProxy } from '../helpers/node-proxy.js';
import { cleanupAll, registerCleanup, requireBinary } from '../helpers/processes.js';
import { startSquid, startSquids, type SquidPeer } from '../helpers/squid.js';
import {
  patternBytes,
  sha256,
  startTargets,
  type EchoBody,
  type TargetServers,
} from '../helpers/targets.js';
import { startTinyproxy, type TinyproxyPeer } from '../helpers/tinyproxy.js';
import { testTls } from '../helpers/tls.js';

describe('test harness peers', () => {
  let targets: TargetServers;
  let squids: SquidPeer[];
  let tinyproxy: TinyproxyPeer;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    [squids, tinyproxy] = await Promise.all([startSquids(3), startTinyproxy()]);
  });

  after(cleanupAll);

  test('requireBinary names the package', () => {
    assert.throws(() => requireBinary('no-such-binary-ph', 'no-such-package'), {
      message:
        'no-such-binary-ph not found on PATH: install the Debian package no-such-package ' +
        '(apt-get install no-such-package)',
    });
  });

  test('each squid sends from its own address', async () => {
    const expected = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    for (const [i, squid] of squids.entries()) {
      const plain = await curl(['-x', squid.proxyUrl(), `${targets.httpOrigin}/echo?i=${i}`]);
      assert.equal(plain.status, 200, plain.stderr);
      assert.equal(json<EchoBody>(plain).remote, expected[i]);
      const tls = await curl([
        '--cacert',
        testTls().caPath,
        '-x',
        squid.proxyUrl(),
        `${targets.httpsOrigin}/echo`,
      ]);
      assert.equal(tls.status, 200, tls.stderr);
      assert.equal(json<EchoBody>(tls).remote, expected[i]);
    }
  });

  test('squid answers 407 to a wrong password', async () => {
    const squid = squids[0] as SquidPeer;
    const proxy = `http://alice:wrong@${squid.address()}`;
    const response = await curl(['-x', proxy, `${targets.httpOrigin}/echo`]);
    assert.equal(response.status, 407);
  });

  test('tinyproxy sends from its Bind address', async () => {
    const response = await curl(['-x', tinyproxy.proxyUrl(), `${targets.httpOrigin}/echo`]);
    assert.equal(response.status, 200, response.stderr);
    assert.equal(json<EchoBody>(response).remote, '127.0.0.5');
    const tls = await curl([
      '--cacert',
      testTls().caPath,
      '-x',
      tinyproxy.proxyUrl(),
      `${targets.httpsOrigin}/echo`,
    ]);
    assert.equal(json<EchoBody>(tls).remote, '127.0.0.5');
  });

  test('tinyproxy answers 401 to a wrong password', async () => {
    const proxy = `http://carol:wrong@${tinyproxy.address()}`;
    const response = await curl(['-x', proxy, `${targets.httpOrigin}/echo`]);
    assert.equal(response.status, 401);
  });

  test('one squid maps 64 ports to 64 addresses', async () => {
    const addresses = Array.from({ length: 64 }, (_, i) => `127.0.0.${100 + i}`);
    const squid = await startSquid({ outgoingAddresses: addresses });
    const seen: string[] = [];
    for (let i = 0; i < addresses.length; i++) {
      const response = await curl(['-x', squid.proxyUrl(i), `${targets.httpOrigin}/echo`]);
      seen.push(json<EchoBody>(response).remote);
    }
    assert.deepEqual(seen, addresses);
    await squid.stop();
  });

  test('proxy-chain proxy uses its local address', async () => {
    const proxy = await startChainProxy('127.0.0.20', { username: 'u1', password: 'p1' });
    registerCleanup(() => proxy.close());
    const response = await curl([
      '-x',
      `http://u1:p1@${proxy.address()}`,
      `${targets.httpOrigin}/echo`,
    ]);
    assert.equal(json<EchoBody>(response).remote, '127.0.0.20');
    const refused = await curl([
      '-x',
      `http://u1:bad@${proxy.address()}`,
      `${targets.httpOrigin}/echo`,
    ]);
    assert.equal(refused.status, 407);
  });

  test('fake proxy with a split CONNECT head tunnels', async () => {
    const proxy = await startFakeProxy('split-connect-head', '127.0.0.21');
    registerCleanup(() => proxy.close());
    const response = await curl([
      '--cacert',
      testTls().caPath,
      '-x',
      `http://${proxy.address()}`,
      `${targets.httpsOrigin}/echo`,
    ]);
    assert.equal(response.status, 200, response.stderr);
    assert.equal(json<EchoBody>(response).remote, '127.0.0.21');
  });

  test('download route hash matches pattern', async () => {
    const sizeBytes = 1_000_003;
    for (const query of ['', '?chunked=1']) {
      const response = await curl([`${targets.httpOrigin}/bytes/${sizeBytes}${query}`]);
      assert.equal(response.body.length, sizeBytes);
      assert.equal(sha256(response.body), sha256(patternBytes(sizeBytes)));
    }
  });
});
