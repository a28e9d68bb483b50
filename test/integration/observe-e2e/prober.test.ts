// The background prober of the real server against real squids: a stopped squid turns
// proxy_hopper_ip_reachable to 0 within two probe intervals and counts probe failures, and the
// same squid started again on its port turns it back to 1. With probeQuarantine a failing IP
// gets no live traffic while another IP passes. Without probeUrls nothing is probed at all.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import type { StatusView } from '../../../src/admin/status.js';
import { labelSets, sampleValue, type Scrape } from '../../helpers/observe/scrape.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import {
  DEFAULT_PROXY_USER,
  startSquid,
  startSquids,
  type SquidPeer,
} from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import { remotes } from '../proxy/fixture.js';
import {
  Client,
  poolDocument,
  providerDocument,
  scrapeUntil,
  targetDocument,
  type ProviderSpec,
} from './fixture.js';

const PROBE_INTERVAL_MS = 300;
/** Allowance on top of two intervals: the scrape poll period, the probe itself, a busy CI host. */
const DETECTION_SLACK_MS = 300;
const REGION = 'ap-south';
const LIVE_REQUESTS = 10;

/** Starts a probe URL server that responds 503 to probes from `failingSources`, else 200. */
async function startProbeServer(
  failingSources: string[],
): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const remote = req.socket.remoteAddress ?? '';
    hits.push(remote);
    res.writeHead(failingSources.includes(remote) ? 503 : 200, { 'content-type': 'text/plain' });
    res.end('probe\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registerCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/probe`, hits };
}

describe('background prober', () => {
  let targets: TargetServers;
  let squids: SquidPeer[];
  const client = new Client();

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squids = await startSquids(2);
  });

  after(cleanupAll);

  const acmeOf = (peers: SquidPeer[]): ProviderSpec => ({
    name: 'acme',
    addresses: peers.map((squid) => squid.address()),
    user: DEFAULT_PROXY_USER,
    regionTag: REGION,
  });

  async function startProbing(server: Record<string, unknown>): Promise<TestHopper> {
    const acme = acmeOf(squids);
    return startHopper({
      server: {
        metrics: true,
        metricsHost: '127.0.0.1',
        metricsPort: 0,
        admin: true,
        adminHost: '127.0.0.1',
        adminPort: 0,
        probeInterval: `${PROBE_INTERVAL_MS}ms`,
        probeTimeout: '1s',
        ...server,
      },
      proxyProviders: [providerDocument(acme)],
      ipPools: [poolDocument('p', [acme])],
      targets: [targetDocument('t', '.*', 'p')],
    });
  }

  const probeLabels = (squid: SquidPeer) => ({
    address: squid.address(),
    provider: 'acme',
    region: REGION,
  });
  const reachable = (result: Scrape, squid: SquidPeer) =>
    sampleValue(result, 'proxy_hopper_ip_reachable', probeLabels(squid));
  const metricsUrlOf = (hopper: TestHopper) =>
    `http://127.0.0.1:${hopper.running.metricsPort}/metrics`;

  test('stopped squid becomes unreachable and recovers on restart', async (t) => {
    const hopper = await startProbing({ probeUrls: [`${targets.httpOrigin}/probe`] });
    const metricsUrl = metricsUrlOf(hopper);
    const [first, second] = squids as [SquidPeer, SquidPeer];
    const bothUp = await scrapeUntil(
      metricsUrl,
      (result) => reachable(result, first) === 1 && reachable(result, second) === 1,
    );
    assert.equal(reachable(bothUp, first), 1);
    assert.equal(reachable(bothUp, second), 1);
    assert.deepEqual([...new Set(remotes(targets.seen('/probe')))].sort(), [
      '127.0.0.2',
      '127.0.0.3',
    ]);

    const port = second.port;
    // SIGKILL closes the listening socket at once. A SIGINT shutdown closes it at some moment
    // before the process exits, so the detection time would have no known start.
    await second.peer.kill();
    const stoppedAtMs = Date.now();
    await second.stop();
    const down = await scrapeUntil(metricsUrl, (result) => reachable(result, second) === 0, 5000);
    const detectionMs = Date.now() - stoppedAtMs;
    t.diagnostic(`unreachable ${detectionMs} ms after the squid stopped`);
    assert.equal(reachable(down, second), 0);
    assert.equal(reachable(down, first), 1);
    assert.ok(
      detectionMs <= 2 * PROBE_INTERVAL_MS + DETECTION_SLACK_MS,
      `unreachable after ${detectionMs} ms, more than two ${PROBE_INTERVAL_MS} ms intervals`,
    );
    const failureLabels = { ...probeLabels(second), reason: 'proxy_unreachable' };
    const failures = (result: Scrape) =>
      sampleValue(result, 'proxy_hopper_probe_failure_total', failureLabels) ?? 0;
    const failuresBefore = failures(down);
    assert.ok(failuresBefore >= 1, `probe_failure_total is ${failuresBefore}`);
    const later = await scrapeUntil(
      metricsUrl,
      (result) => failures(result) > failuresBefore,
      5000,
    );
    assert.ok(
      failures(later) > failuresBefore,
      `probe_failure_total stayed at ${failuresBefore} in the next round`,
    );
    const failureSeries = labelSets(later, 'proxy_hopper_probe_failure_total');
    assert.deepEqual(failureSeries, [failureLabels]);

    const restarted = await startSquid({ outgoingAddresses: ['127.0.0.3'], ports: [port] });
    squids = [first, restarted];
    const restartedAtMs = Date.now();
    const up = await scrapeUntil(metricsUrl, (result) => reachable(result, restarted) === 1, 5000);
    const recoveryMs = Date.now() - restartedAtMs;
    t.diagnostic(`reachable ${recoveryMs} ms after the squid started again`);
    assert.equal(reachable(up, restarted), 1);
    assert.ok(
      recoveryMs <= 2 * PROBE_INTERVAL_MS + DETECTION_SLACK_MS,
      `reachable again after ${recoveryMs} ms, more than two ${PROBE_INTERVAL_MS} ms intervals`,
    );

    const prober = hopper.logs.filter((line) => line.logger === 'proxy_hopper.prober');
    const failed = prober.filter((line) => line.message === 'probe failed, ip marked unreachable');
    assert.deepEqual(
      failed.map((line) => [line.level, line.address, line.reason]),
      [['WARNING', restarted.address(), 'proxy_unreachable']],
    );
    const passed = prober.filter((line) => line.message === 'probe passed, ip reachable again');
    assert.deepEqual(
      passed.map((line) => [line.level, line.address]),
      [['INFO', restarted.address()]],
    );
    await hopper.stop();
  });

  for (const probeQuarantine of [true, false]) {
    test(`failing probe with probeQuarantine ${probeQuarantine}`, async () => {
      const probe = await startProbeServer(['127.0.0.3']);
      const hopper = await startProbing({ probeUrls: [probe.url], probeQuarantine });
      const [first, second] = squids as [SquidPeer, SquidPeer];
      const split = await scrapeUntil(
        metricsUrlOf(hopper),
        (result) => reachable(result, first) === 1 && reachable(result, second) === 0,
      );
      assert.equal(reachable(split, first), 1);
      assert.equal(reachable(split, second), 0);
      assert.equal(
        sampleValue(split, 'proxy_hopper_probe_failure_total', {
          ...probeLabels(second),
          reason: 'http_error',
        }) !== undefined,
        true,
      );

      const prefix = `/live/${probeQuarantine}/`;
      for (let i = 0; i < LIVE_REQUESTS; i++) {
        const response = await client.via(hopper.proxyPort, targets.httpOrigin, `${prefix}${i}`);
        assert.equal(response.status, 200);
      }
      const sources = remotes(targets.seen(prefix));
      const fromFailing = sources.filter((source) => source === '127.0.0.3').length;
      // Without probeQuarantine the pool rotates over both IPs, and with it the failing one is avoided.
      assert.equal(fromFailing, probeQuarantine ? 0 : LIVE_REQUESTS / 2);
      assert.equal(sources.length, LIVE_REQUESTS);

      const response = await request(`http://127.0.0.1:${hopper.running.adminPort}/api/v1/status`);
      const view = (await response.body.json()) as StatusView;
      const reachability = view.targets[0]?.ips?.map((ip) => [ip.address, ip.reachable]);
      assert.deepEqual(reachability, [
        [first.address(), true],
        [second.address(), false],
      ]);
      await hopper.stop();
    });
  }

  test('every IP failing probes still carries traffic', async () => {
    const probe = await startProbeServer(['127.0.0.2', '127.0.0.3']);
    const hopper = await startProbing({ probeUrls: [probe.url], probeQuarantine: true });
    const [first, second] = squids as [SquidPeer, SquidPeer];
    const down = await scrapeUntil(
      metricsUrlOf(hopper),
      (result) => reachable(result, first) === 0 && reachable(result, second) === 0,
    );
    assert.equal(reachable(down, first), 0);
    assert.equal(reachable(down, second), 0);

    // Failing probes only steer traffic away from an IP, so the pool is never emptied by them.
    const prefix = '/live/all-failing/';
    for (let i = 0; i < LIVE_REQUESTS; i++) {
      const response = await client.via(hopper.proxyPort, targets.httpOrigin, `${prefix}${i}`);
      assert.equal(response.status, 200);
    }
    const sources = remotes(targets.seen(prefix));
    assert.equal(sources.length, LIVE_REQUESTS);
    assert.equal(sources.filter((source) => source === '127.0.0.3').length, LIVE_REQUESTS / 2);
    await hopper.stop();
  });

  test('no probeUrls: prober idle and sends nothing', async () => {
    const seenBefore = targets.requests.length;
    const hopper = await startProbing({ probeInterval: '100ms' });
    const idle = await hopper.waitForLog(
      (line) => line.logger === 'proxy_hopper.prober' && line.message.startsWith('prober idle'),
    );
    assert.equal(idle.level, 'INFO');
    assert.equal(idle.message, 'prober idle: no probeUrls configured');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(targets.requests.length, seenBefore);
    const squidLines = squids.map((squid) => squid.accessLines().length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(
      squids.map((squid) => squid.accessLines().length),
      squidLines,
    );
    const result = await scrapeUntil(metricsUrlOf(hopper), () => true);
    for (const name of [
      'proxy_hopper_probe_success_total',
      'proxy_hopper_probe_failure_total',
      'proxy_hopper_ip_reachable',
      'proxy_hopper_probe_duration_seconds',
    ]) {
      assert.deepEqual(labelSets(result, name), [], name);
    }
    assert.equal(
      hopper.logs.some((line) => line.message === 'prober started'),
      false,
    );
    await hopper.stop();
  });
});
