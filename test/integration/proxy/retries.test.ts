// Retries on another IP, quarantine and its release, the minActiveIps floor, and the statuses
// that are passed through without a retry. All upstreams are real squids with basic auth.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IpState } from '../../../src/backend/types.js';
import { header, json } from '../../helpers/clients.js';
import { freePort } from '../../helpers/ports.js';
import { startHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startSquids, type SquidPeer } from '../../helpers/squid.js';
import {
  patternBytes,
  sha256,
  startTargets,
  type EchoBody,
  type TargetServers,
} from '../../helpers/targets.js';
import {
  nextEvent,
  provider,
  recordEvents,
  remotes,
  singleTargetConfig,
  viaHopper,
} from './fixture.js';

describe('retries and quarantine', () => {
  let targets: TargetServers;
  let squids: SquidPeer[];
  let deadAddress: string;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squids = await startSquids(3);
    deadAddress = `127.0.0.1:${await freePort()}`;
  });

  after(cleanupAll);

  const squidAddresses = (): string[] => squids.map((squid) => squid.address());

  test('retries a 503 on another IP', async () => {
    const hopper = await startHopper(singleTargetConfig(provider('s', squidAddresses())));
    const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, '/fail-first/1/r503');
    assert.equal(response.status, 200);
    const seen = remotes(targets.seen('/fail-first/1/r503'));
    assert.equal(seen.length, 2);
    assert.notEqual(seen[0], seen[1]);
    assert.equal(json<EchoBody>(response).remote, seen[1]);
    await hopper.stop();
  });

  test('replays a small request body on retry', async () => {
    const hopper = await startHopper(singleTargetConfig(provider('s', squidAddresses())));
    const data = patternBytes(256 * 1024);
    const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, '/fail-first/1/replay', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: data,
    });
    assert.equal(response.status, 200);
    const echo = json<EchoBody>(response);
    assert.equal(echo.bodyBytes, data.length);
    assert.equal(echo.bodySha256, sha256(data));
    const seen = remotes(targets.seen('/fail-first/1/replay'));
    assert.equal(seen.length, 2);
    assert.notEqual(seen[0], seen[1]);
    await hopper.stop();
  });

  // NOTE: when the upstream closes while a streamed body is still being written, undici reports
  // the write error (EPIPE) instead of the response that arrived first, so the client gets 502.
  test(
    'passes an early 503 for a body above retryBodyLimit',
    { todo: 'undici drops early responses on EPIPE' },
    async () => {
      // The fail-first route responds 503 before reading the body, and curl and a bare undici
      // Pool through the same squid both receive that 503. The body cannot be replayed.
      const hopper = await startHopper(
        singleTargetConfig(provider('s', squidAddresses()), {}, { retryBodyLimit: '1MiB' }),
      );
      const data = patternBytes(2 * 1024 * 1024);
      const response = await viaHopper(
        hopper.proxyPort,
        targets.httpOrigin,
        '/fail-first/1/too-big',
        {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: data,
        },
      );
      assert.equal(response.status, 503);
      assert.equal(targets.seen('/fail-first/1/too-big').length, 1);
      await hopper.stop();
    },
  );

  test('retries an upstream response timeout on another IP', async () => {
    const hopper = await startHopper(
      singleTargetConfig(
        provider('s', squidAddresses()),
        { numRetries: 1 },
        { responseTimeout: '400ms' },
      ),
    );
    const startedMs = Date.now();
    const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, '/hang?k=timeout');
    const tookMs = Date.now() - startedMs;
    assert.equal(response.status, 502);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'connection_error');
    assert.equal(json(response).retries_attempted, 1);
    const seen = remotes(targets.seen('/hang?k=timeout'));
    assert.equal(seen.length, 2);
    assert.notEqual(seen[0], seen[1]);
    assert.ok(tookMs >= 700 && tookMs < 5000, `answered after ${tookMs} ms`);
    await hopper.stop();
  });

  test('retries a dead upstream on another IP', async () => {
    const config = singleTargetConfig(
      provider('s', [deadAddress, (squids[0] as SquidPeer).address()]),
      {
        ipFailuresUntilQuarantine: 100,
      },
    );
    const hopper = await startHopper(config);
    const attempts = recordEvents(hopper, 'attempt_end');
    for (let i = 0; i < 4; i++) {
      const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, `/echo/dead/${i}`);
      assert.equal(response.status, 200);
      assert.equal(json<EchoBody>(response).remote, '127.0.0.2');
    }
    const deadAttempts = attempts.filter((attempt) => attempt.address === deadAddress);
    assert.ok(deadAttempts.length >= 1, 'no attempt went to the dead upstream');
    for (const attempt of deadAttempts) assert.equal(attempt.outcome, 'connection_error');
    // Every request that first hit the dead IP was retried on the live one.
    for (const attempt of deadAttempts) {
      const later = attempts.filter(
        (other) => other.requestId === attempt.requestId && other.attempt > attempt.attempt,
      );
      assert.deepEqual(
        later.map((other) => [other.address, other.outcome]),
        [[(squids[0] as SquidPeer).address(), 'success']],
      );
    }
    await hopper.stop();
  });

  test('quarantines after the failure threshold and releases later', async () => {
    const config = singleTargetConfig(
      provider('s', [deadAddress, (squids[0] as SquidPeer).address()]),
      {
        ipFailuresUntilQuarantine: 2,
        quarantineTime: '300ms',
        minActiveIps: 1,
      },
    );
    const hopper = await startHopper(config);
    const attempts = recordEvents(hopper, 'attempt_end');
    // Times and state are taken when the events fire, because the loop below may run longer
    // than the quarantine on a busy machine.
    let quarantinedAtMs = 0;
    let stateAtQuarantine: Promise<IpState[]> | null = null;
    hopper.running.events.on('quarantine', (event) => {
      if (event.address !== deadAddress) return;
      quarantinedAtMs = performance.now();
      stateAtQuarantine = hopper.running.backend.snapshot('t');
    });
    const quarantined = nextEvent(hopper, 'quarantine', (event) => event.address === deadAddress);
    const released = nextEvent(
      hopper,
      'quarantine_release',
      (e) => e.address === deadAddress,
      8000,
    );
    for (let i = 0; i < 6 && attempts.filter((a) => a.address === deadAddress).length < 2; i++) {
      const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, `/echo/q/${i}`);
      assert.equal(response.status, 200);
    }
    const event = await quarantined;
    assert.equal(event.failures, 2);
    assert.equal(event.quarantineMs, 300);
    assert.equal(attempts.filter((a) => a.address === deadAddress).length, 2);
    const states = await (stateAtQuarantine as Promise<IpState[]> | null);
    assert.equal(states?.find((state) => state.address === deadAddress)?.status, 'quarantined');

    const release = await released;
    const heldMs = performance.now() - quarantinedAtMs;
    assert.equal(release.target, 't');
    assert.ok(heldMs >= 280, `released after ${heldMs.toFixed(0)} ms`);
    const after = await hopper.running.backend.snapshot('t');
    assert.notEqual(after.find((state) => state.address === deadAddress)?.status, 'quarantined');
    await hopper.stop();
  });

  test('keeps minActiveIps in rotation when the target is down', async () => {
    const downOrigin = `http://127.0.0.1:${await freePort()}`;
    const config = singleTargetConfig(provider('s', squidAddresses()), {
      ipFailuresUntilQuarantine: 1,
      quarantineTime: '30s',
      minActiveIps: 1,
      numRetries: 2,
    });
    const hopper = await startHopper(config);
    const ends = recordEvents(hopper, 'request_end');
    const floor = hopper.waitForLog((line) =>
      String(line.message).startsWith('quarantine skipped to keep minActiveIps in rotation'),
    );
    const response = await viaHopper(hopper.proxyPort, downOrigin, '/down');
    // squid responds 503 when it cannot reach the target, and 503 is retriable.
    assert.equal(response.status, 503);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'upstream_error');
    assert.equal(json(response).retries_attempted, 2);
    assert.equal(ends.length, 1);
    assert.equal(ends[0]?.attempts, 3);
    assert.equal(ends[0]?.errorCode, 'upstream_error');
    const line = await floor;
    assert.equal(line.level, 'WARNING');
    assert.equal(line.minActiveIps, 1);
    assert.equal(line.activeIps, 1);
    const states = await hopper.running.backend.snapshot('t');
    assert.deepEqual(states.map((state) => state.status === 'quarantined').sort(), [
      false,
      true,
      true,
    ]);
    await hopper.stop();
  });

  test('429 on every IP keeps the target Retry-After', async () => {
    const config = singleTargetConfig(provider('s', squidAddresses()), {
      numRetries: 2,
      ipFailuresUntilQuarantine: 1,
      quarantineTime: '60s',
      minActiveIps: 1,
      maxQueueWait: '2s',
    });
    const hopper = await startHopper(config);
    const quarantines = recordEvents(hopper, 'quarantine');
    const path = '/status/429?retryAfter=30&k=all-429';
    const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, path);
    assert.equal(response.status, 429);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'upstream_error');
    assert.equal(header(response, 'retry-after'), '30');
    const body = json(response);
    assert.equal(body.error, 'upstream_error');
    assert.equal(body.retries_attempted, 2);
    assert.equal(body.retries_allowed, 2);
    const seen = remotes(targets.seen(path));
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen).size, 3);
    assert.equal(quarantines.length, 2);
    const states = await hopper.running.backend.snapshot('t');
    assert.equal(states.filter((state) => state.status === 'quarantined').length, 2);
    await hopper.stop();
  });

  test('all IPs quarantined gives 503 no_ip_available', async () => {
    const otherDead = `127.0.0.1:${await freePort()}`;
    const config = singleTargetConfig(provider('s', [deadAddress, otherDead]), {
      ipFailuresUntilQuarantine: 1,
      quarantineTime: '60s',
      minActiveIps: 0,
      numRetries: 1,
      maxQueueWait: '500ms',
    });
    const hopper = await startHopper(config);
    const first = await viaHopper(hopper.proxyPort, targets.httpOrigin, '/echo/all-dead/1');
    assert.equal(first.status, 502);
    assert.equal(header(first, 'x-proxy-hopper-error'), 'connection_error');
    const states = await hopper.running.backend.snapshot('t');
    assert.deepEqual(
      states.map((state) => state.status),
      ['quarantined', 'quarantined'],
    );

    const startedMs = Date.now();
    const second = await viaHopper(hopper.proxyPort, targets.httpOrigin, '/echo/all-dead/2');
    const waitedMs = Date.now() - startedMs;
    assert.equal(second.status, 503);
    assert.equal(header(second, 'x-proxy-hopper-error'), 'no_ip_available');
    assert.equal(json(second).error, 'no_ip_available');
    const retryAfter = Number(header(second, 'retry-after'));
    // The quarantine has about 59 s left; Retry-After must not promise an IP sooner.
    assert.ok(retryAfter >= 55 && retryAfter <= 60, `Retry-After ${header(second, 'retry-after')}`);
    assert.ok(waitedMs <= 2000, `waited ${waitedMs} ms`);
    await hopper.stop();
  });

  test('passes a 500 through without retry', async () => {
    const hopper = await startHopper(singleTargetConfig(provider('s', squidAddresses())));
    const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, '/status/500?k=pass500');
    assert.equal(response.status, 500);
    assert.deepEqual(json(response), { status: 500 });
    assert.equal(header(response, 'x-proxy-hopper-error'), undefined);
    assert.equal(targets.seen('/status/500?k=pass500').length, 1);
    await hopper.stop();
  });

  test('X-Proxy-Hopper-Retries 0 disables retries', async () => {
    const hopper = await startHopper(
      singleTargetConfig(provider('s', squidAddresses()), { numRetries: 2 }),
    );
    const response = await viaHopper(
      hopper.proxyPort,
      targets.httpOrigin,
      '/status/503?k=noretry',
      {
        headers: { 'x-proxy-hopper-retries': '0' },
      },
    );
    assert.equal(response.status, 503);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'upstream_error');
    const body = json(response);
    assert.equal(body.error, 'upstream_error');
    assert.equal(body.retries_attempted, 0);
    assert.equal(body.retries_allowed, 0);
    assert.equal(targets.seen('/status/503?k=noretry').length, 1);
    await hopper.stop();
  });

  test('invalid X-Proxy-Hopper-Retries values are ignored', async () => {
    const hopper = await startHopper(
      singleTargetConfig(provider('s', squidAddresses()), { numRetries: 2 }),
    );
    for (const value of ['-1', 'abc']) {
      const path = `/status/503?k=ignored${value}`;
      const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, path, {
        headers: { 'x-proxy-hopper-retries': value },
      });
      assert.equal(response.status, 503);
      assert.equal(json(response).retries_allowed, 2);
      assert.equal(targets.seen(path).length, 3);
      assert.equal(new Set(remotes(targets.seen(path))).size, 3);
    }
    await hopper.stop();
  });
});
