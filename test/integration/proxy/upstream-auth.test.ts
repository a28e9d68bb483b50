// Upstream proxies that reject Proxy Hopper's credentials (squid 407, tinyproxy 401), and two
// providers that share one squid with different credentials.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { header, headerAll, json, send } from '../../helpers/clients.js';
import { startHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup, sleep } from '../../helpers/processes.js';
import {
  DEFAULT_PROXY_USER,
  startSquid,
  startSquids,
  type SquidPeer,
} from '../../helpers/squid.js';
import { startTargets, type EchoBody, type TargetServers } from '../../helpers/targets.js';
import { startTinyproxy, type TinyproxyPeer } from '../../helpers/tinyproxy.js';
import { testTls } from '../../helpers/tls.js';
import { pool, provider, recordEvents, target, viaHopper } from './fixture.js';

const WRONG = { username: DEFAULT_PROXY_USER.username, password: 'wrong-password' };

describe('upstream proxy authentication', () => {
  let targets: TargetServers;
  let squids: SquidPeer[];
  let tinyproxy: TinyproxyPeer;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    [squids, tinyproxy] = await Promise.all([startSquids(2), startTinyproxy()]);
  });

  after(cleanupAll);

  function mixedConfig(badAddress: string, badUser: typeof WRONG): Record<string, unknown> {
    const bad = provider('bad', [badAddress], badUser);
    const good = provider('good', [(squids[1] as SquidPeer).address()]);
    return {
      server: { caFile: testTls().caPath },
      proxyProviders: [bad, good],
      ipPools: [pool('p', [bad, good])],
      targets: [target('t', 'p', { numRetries: 1, ipFailuresUntilQuarantine: 100 })],
    };
  }

  for (const scheme of ['http', 'https'] as const) {
    test(`squid 407 is retried on another IP (${scheme})`, async () => {
      const hopper = await startHopper(mixedConfig((squids[0] as SquidPeer).address(), WRONG));
      const attempts = recordEvents(hopper, 'attempt_end');
      const origin = scheme === 'http' ? targets.httpOrigin : targets.httpsOrigin;
      for (let i = 0; i < 4; i++) {
        const response = await viaHopper(hopper.proxyPort, origin, `/echo/auth407/${scheme}/${i}`);
        assert.equal(response.status, 200);
        assert.equal(json<EchoBody>(response).remote, '127.0.0.3');
        assert.deepEqual(headerAll(response, 'proxy-authenticate'), []);
      }
      const rejected = attempts.filter(
        (attempt) => attempt.address === (squids[0] as SquidPeer).address(),
      );
      assert.ok(rejected.length >= 1, 'no attempt used the squid with the wrong password');
      for (const attempt of rejected) assert.notEqual(attempt.outcome, 'success');
      await hopper.stop();
    });

    test(`all IPs rejecting credentials give 502 (${scheme})`, async () => {
      const bad = provider(
        'bad',
        squids.map((squid) => squid.address()),
        WRONG,
      );
      const hopper = await startHopper({
        server: { caFile: testTls().caPath },
        proxyProviders: [bad],
        ipPools: [pool('p', [bad])],
        targets: [target('t', 'p', { numRetries: 1 })],
      });
      const origin = scheme === 'http' ? targets.httpOrigin : targets.httpsOrigin;
      const response = await viaHopper(hopper.proxyPort, origin, `/echo/allbad/${scheme}`);
      assert.equal(response.status, 502);
      assert.equal(header(response, 'x-proxy-hopper-error'), 'upstream_auth_failed');
      assert.deepEqual(headerAll(response, 'proxy-authenticate'), []);
      const body = json(response);
      assert.equal(body.error, 'upstream_auth_failed');
      assert.match(String(body.detail), /authentication failed/i);
      assert.doesNotMatch(response.body.toString(), /wrong-password/);
      assert.equal(targets.seen(`/echo/allbad/${scheme}`).length, 0);
      await hopper.stop();
    });
  }

  test('tinyproxy 401 is retried on another IP', async () => {
    const hopper = await startHopper(
      mixedConfig(tinyproxy.address(), { username: 'carol', password: 'nope' }),
    );
    const attempts = recordEvents(hopper, 'attempt_end');
    for (let i = 0; i < 4; i++) {
      const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, `/echo/tiny401/${i}`);
      assert.equal(response.status, 200);
      assert.equal(json<EchoBody>(response).remote, '127.0.0.3');
      assert.deepEqual(headerAll(response, 'www-authenticate'), []);
    }
    const rejected = attempts.filter((attempt) => attempt.address === tinyproxy.address());
    assert.ok(rejected.length >= 1, 'no attempt used tinyproxy');
    for (const attempt of rejected) assert.notEqual(attempt.outcome, 'success');
    await hopper.stop();
  });

  test('tinyproxy 401 on every IP gives 502 upstream_auth_failed', async () => {
    const bad = provider('bad', [tinyproxy.address()], { username: 'carol', password: 'nope' });
    const hopper = await startHopper({
      proxyProviders: [bad],
      ipPools: [pool('p', [bad])],
      targets: [target('t', 'p', { numRetries: 0 })],
    });
    const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, '/echo/tiny-all-bad');
    assert.equal(response.status, 502);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'upstream_auth_failed');
    assert.deepEqual(headerAll(response, 'www-authenticate'), []);
    await hopper.stop();
  });

  test('providers sharing one squid keep their own credentials', async () => {
    const bob = { username: 'bob', password: 'b0b-pass' };
    const shared = await startSquid({
      users: [DEFAULT_PROXY_USER, bob],
      outgoingAddresses: ['127.0.0.9'],
    });
    const provA = provider('prov-a', [shared.address()], DEFAULT_PROXY_USER);
    const provB = provider('prov-b', [shared.address()], bob);
    const hopper = await startHopper({
      server: { caFile: testTls().caPath },
      proxyProviders: [provA, provB],
      ipPools: [pool('pool-a', [provA]), pool('pool-b', [provB])],
      targets: [
        target('t1', 'pool-a', { regex: '/shared-gateway/a/' }),
        target('t2', 'pool-b', { regex: '/shared-gateway/b/' }),
      ],
    });
    const sequence = ['a', 'b', 'a', 'b', 'a', 'b'];
    for (const origin of [targets.httpOrigin, targets.httpsOrigin]) {
      for (const [i, which] of sequence.entries()) {
        const response = await viaHopper(hopper.proxyPort, origin, `/shared-gateway/${which}/${i}`);
        assert.equal(response.status, 200);
      }
    }
    // squid logs a CONNECT when the tunnel closes, so stop Proxy Hopper's pooled tunnels first.
    await hopper.stop();
    const deadlineMs = Date.now() + 3000;
    // Each tunnel is logged when it closes, so wait for both providers' lines.
    const tunnelLines = (): number =>
      shared.accessLines().filter((line) => line.includes(' CONNECT ')).length;
    while (tunnelLines() < 2 && Date.now() < deadlineMs) {
      await sleep(50);
    }
    // squid's native access.log: time elapsed client code/status bytes method URL user ...
    const users = shared.accessLines().map((line) => {
      const fields = line.trim().split(/\s+/);
      return `${fields[5]} ${fields[7]}`;
    });
    const httpUsers = users.filter((entry) => entry.startsWith('GET '));
    assert.deepEqual(
      httpUsers,
      sequence.map((which) => `GET ${which === 'a' ? 'alice' : 'bob'}`),
    );
    const tunnelUsers = users.filter((entry) => entry.startsWith('CONNECT '));
    assert.ok(tunnelUsers.length >= 2, `tunnels: ${JSON.stringify(tunnelUsers)}`);
    assert.deepEqual([...new Set(tunnelUsers)].sort(), ['CONNECT alice', 'CONNECT bob']);
    for (const seen of targets.seen('/shared-gateway/')) assert.equal(seen.remote, '127.0.0.9');
    await shared.stop();
  });

  test('direct request to squid without credentials is 407', async () => {
    // Guards the premise of the tests above: this squid really checks credentials.
    const response = await send((squids[0] as SquidPeer).port, {
      path: `${targets.httpOrigin}/echo/direct`,
    });
    assert.equal(response.status, 407);
  });
});
