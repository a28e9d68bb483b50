// Requests that Proxy Hopper responds to itself before any upstream is used: missing, malformed or
// non-HTTP X-Proxy-Hopper-Target, and a URL that no target regex matches.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { curlHopper, header, json, send } from '../../helpers/clients.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import { pool, provider, target } from './fixture.js';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('requests answered by Proxy Hopper itself', () => {
  let targets: TargetServers;
  let squid: SquidPeer;
  let hopper: TestHopper;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squid = await startSquid();
    const squids = provider('s', [squid.address()]);
    hopper = await startHopper({
      proxyProviders: [squids],
      ipPools: [pool('p', [squids])],
      targets: [target('only-matched', 'p', { regex: '^http://matched\\.test(:\\d+)?/' })],
    });
  });

  after(async () => {
    assert.equal(targets.requests.length, 0, 'a request reached the target');
    assert.deepEqual(squid.accessLines(), [], 'a request reached squid');
    await cleanupAll();
  });

  test('missing target header is unsupported_request', async () => {
    const response = await send(hopper.proxyPort, { path: '/no/target/header' });
    assert.equal(response.status, 400);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'unsupported_request');
    assert.match(response.body.toString(), /^Request format not supported by any enabled mode/);
    assert.match(header(response, 'content-type') ?? '', /^text\/plain/);
  });

  test('empty target header is invalid_target', async () => {
    const response = await send(hopper.proxyPort, {
      path: '/x',
      headers: { 'x-proxy-hopper-target': '' },
    });
    assert.equal(response.status, 400);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'invalid_target');
    assert.match(response.body.toString(), /X-Proxy-Hopper-Target is empty/);
  });

  test('malformed target header is invalid_target', async () => {
    const response = await curlHopper(hopper.proxyPort, '/x', {
      'X-Proxy-Hopper-Target': 'not a url',
    });
    assert.equal(response.status, 400);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'invalid_target');
    assert.match(response.body.toString(), /'not a url'/);
  });

  test('non-HTTP target scheme is invalid_target', async () => {
    const response = await curlHopper(hopper.proxyPort, '/x', {
      'X-Proxy-Hopper-Target': 'ftp://127.0.0.1:21',
    });
    assert.equal(response.status, 400);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'invalid_target');
    assert.match(response.body.toString(), /scheme 'ftp'/);
  });

  test('unmatched URL is 503 no_target_match', async () => {
    const response = await curlHopper(hopper.proxyPort, '/nomatch?q=1', {
      'X-Proxy-Hopper-Target': targets.httpOrigin,
    });
    assert.equal(response.status, 503);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'no_target_match');
    const url = `${targets.httpOrigin}/nomatch?q=1`;
    assert.match(
      response.body.toString(),
      new RegExp(`^No target matched for URL: ${escapeRegExp(url)}(\\.|$)`),
    );
    assert.match(header(response, 'content-type') ?? '', /^text\/plain/);
  });

  test('health answers without a target header', async () => {
    const response = await send(hopper.proxyPort, { path: '/health' });
    assert.equal(response.status, 200);
    assert.deepEqual(json(response), { status: 'ok' });
  });
});
