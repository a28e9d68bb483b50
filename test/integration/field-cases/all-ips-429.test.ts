// Every IP gets 429 with Retry-After from the destination. The first request makes exactly
// 1 + numRetries attempts on distinct IPs and returns 429 upstream_error with the destination's
// Retry-After. Quarantine keeps minActiveIps in rotation and logs a warning about it. With
// minActiveIps 0 every IP leaves rotation, and the next request gets 503 no_ip_available with a
// Retry-After that covers the remaining quarantine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { header, json } from '../../helpers/clients.js';
import { sampleValue, type Scrape } from '../../helpers/observe/scrape.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup, sleep } from '../../helpers/processes.js';
import { startSquids, type SquidPeer } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import { scrapeUntil } from '../observe-e2e/fixture.js';
import { provider, remotes, singleTargetConfig, viaHopper } from '../proxy/fixture.js';

const PATH = '/status/429?retryAfter=30';

function quarantineEvents(result: Scrape): number {
  const samples = result.families.get('proxy_hopper_ip_quarantine_events_total')?.metrics ?? [];
  return samples.reduce((sum, sample) => sum + Number(sample.value), 0);
}

describe('every IP answered 429', () => {
  let targets: TargetServers;
  let squids: SquidPeer[];

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squids = await startSquids(3, {}, 41);
  });

  after(cleanupAll);

  async function hopperWith(settings: Record<string, unknown>): Promise<TestHopper> {
    const addresses = squids.map((squid) => squid.address());
    return startHopper(
      singleTargetConfig(
        provider('s', addresses),
        {
          numRetries: 2,
          ipFailuresUntilQuarantine: 1,
          quarantineTime: '60s',
          maxQueueWait: '2s',
          ...settings,
        },
        { metrics: true, metricsHost: '127.0.0.1', metricsPort: 0 },
      ),
    );
  }

  const metricsUrl = (hopper: TestHopper): string =>
    `http://127.0.0.1:${hopper.running.metricsPort}/metrics`;

  test('3 attempts, 429 with Retry-After, floor keeps one IP', async () => {
    const hopper = await hopperWith({});
    const floorLog = hopper.waitForLog((line) =>
      String(line.message).startsWith('quarantine skipped to keep minActiveIps in rotation'),
    );
    const path = `${PATH}&k=floor`;
    const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, path);
    assert.equal(response.status, 429);
    assert.equal(header(response, 'retry-after'), '30');
    assert.equal(header(response, 'x-proxy-hopper-error'), 'upstream_error');
    const body = json(response);
    assert.equal(body.error, 'upstream_error');
    assert.equal(body.retries_attempted, 2);
    assert.equal(body.retries_allowed, 2);
    const seen = remotes(targets.seen(path));
    assert.deepEqual([...new Set(seen)].sort(), ['127.0.0.41', '127.0.0.42', '127.0.0.43']);
    assert.equal(seen.length, 3);
    const line = await floorLog;
    assert.equal(line.level, 'WARNING');
    const result = await scrapeUntil(
      metricsUrl(hopper),
      (current) => quarantineEvents(current) >= 2,
    );
    assert.equal(quarantineEvents(result), 2);
    assert.equal(sampleValue(result, 'proxy_hopper_quarantined_ips', { target: 't' }), 2);
    assert.equal(sampleValue(result, 'proxy_hopper_ips_in_rotation', { target: 't' }), 1);
    await hopper.stop();
  });

  test('minActiveIps 0: next request 503 no_ip_available', async () => {
    const hopper = await hopperWith({ minActiveIps: 0 });
    const quarantineStartMs = Date.now();
    const first = await viaHopper(hopper.proxyPort, targets.httpOrigin, `${PATH}&k=zero`);
    assert.equal(first.status, 429);
    const before = await scrapeUntil(
      metricsUrl(hopper),
      (current) => quarantineEvents(current) >= 3,
    );
    assert.equal(quarantineEvents(before), 3);
    assert.equal(sampleValue(before, 'proxy_hopper_available_ips', { target: 't' }), 0);
    const expiredBefore =
      sampleValue(before, 'proxy_hopper_queue_expired_total', { target: 't' }) ?? 0;

    const startedMs = Date.now();
    const second = await viaHopper(hopper.proxyPort, targets.httpOrigin, '/echo/after-all-429');
    const waitedMs = Date.now() - startedMs;
    assert.equal(second.status, 503);
    assert.equal(header(second, 'x-proxy-hopper-error'), 'no_ip_available');
    assert.equal(json(second).error, 'no_ip_available');
    // The quarantine began after quarantineStartMs, so at least this much of it is left.
    const remainingSec = 60 - (Date.now() - quarantineStartMs) / 1000;
    const retryAfter = Number(header(second, 'retry-after'));
    assert.ok(
      retryAfter >= Math.floor(remainingSec) && retryAfter <= 60,
      `Retry-After ${header(second, 'retry-after')} against ${remainingSec} s of quarantine left`,
    );
    assert.ok(waitedMs < 2500, `waited ${waitedMs} ms with maxQueueWait 2s`);
    assert.equal(targets.seen('/echo/after-all-429').length, 0);
    const afterwards = await scrapeUntil(
      metricsUrl(hopper),
      (current) =>
        sampleValue(current, 'proxy_hopper_queue_expired_total', { target: 't' }) ===
        expiredBefore + 1,
    );
    assert.equal(
      sampleValue(afterwards, 'proxy_hopper_queue_expired_total', { target: 't' }),
      expiredBefore + 1,
    );
    await hopper.stop();
  });

  test('available IPs 0 during quarantine, 3 after', async () => {
    const hopper = await hopperWith({ minActiveIps: 0, quarantineTime: '2s' });
    const first = await viaHopper(hopper.proxyPort, targets.httpOrigin, `${PATH}&k=short`);
    assert.equal(first.status, 429);
    const during = await scrapeUntil(
      metricsUrl(hopper),
      (current) => quarantineEvents(current) >= 3,
    );
    assert.equal(sampleValue(during, 'proxy_hopper_available_ips', { target: 't' }), 0);
    await sleep(2200);
    const later = await scrapeUntil(
      metricsUrl(hopper),
      (current) => sampleValue(current, 'proxy_hopper_available_ips', { target: 't' }) === 3,
      3000,
    );
    assert.equal(sampleValue(later, 'proxy_hopper_available_ips', { target: 't' }), 3);
    await hopper.stop();
  });
});
