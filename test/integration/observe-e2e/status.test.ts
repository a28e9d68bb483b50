// GET /api/v1/status of the real server while an IP is quarantined and after its quarantine
// ends, and /health on the proxy port and the admin port. The quarantined IP is a closed port
// listed first, so the first request tries it, quarantines it and is retried on a squid.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import type { StatusView, TargetStatusView } from '../../../src/admin/status.js';
import { freePort } from '../../helpers/ports.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { DEFAULT_PROXY_USER, startSquids, type SquidPeer } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import { nextEvent } from '../proxy/fixture.js';
import {
  Client,
  poolDocument,
  providerDocument,
  targetDocument,
  waitFor,
  type ProviderSpec,
} from './fixture.js';

/** Slack for the time between the quarantine and the moments the test reads the clock. */
const CLOCK_SLACK_MS = 250;

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await request(url);
  return { status: response.statusCode, body: await response.body.json() };
}

describe('status endpoint and health', () => {
  let targets: TargetServers;
  let squids: SquidPeer[];
  let deadAddress: string;
  const client = new Client();

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squids = await startSquids(2);
    deadAddress = `127.0.0.1:${await freePort()}`;
  });

  after(cleanupAll);

  async function startWithQuarantine(quarantineTime: string): Promise<TestHopper> {
    const closed: ProviderSpec = { name: 'closed', addresses: [deadAddress], regionTag: 'nowhere' };
    const acme: ProviderSpec = {
      name: 'acme',
      addresses: squids.map((squid) => squid.address()),
      user: DEFAULT_PROXY_USER,
      regionTag: 'eu',
    };
    return startHopper({
      server: { admin: true, adminHost: '127.0.0.1', adminPort: 0 },
      proxyProviders: [providerDocument(closed), providerDocument(acme)],
      ipPools: [poolDocument('p', [closed, acme])],
      targets: [
        targetDocument('st', '.*', 'p', {
          numRetries: 1,
          ipFailuresUntilQuarantine: 1,
          quarantineTime,
        }),
      ],
    });
  }

  /** Sends one request that quarantines the closed port; returns the quarantine time window. */
  async function quarantineDeadIp(hopper: TestHopper): Promise<{ fromMs: number; toMs: number }> {
    const quarantined = nextEvent(hopper, 'quarantine', (event) => event.address === deadAddress);
    const fromMs = Date.now();
    const response = await client.via(hopper.proxyPort, targets.httpOrigin, '/echo/status');
    assert.equal(response.status, 200);
    await quarantined;
    return { fromMs, toMs: Date.now() };
  }

  async function targetStatus(hopper: TestHopper): Promise<TargetStatusView> {
    const { status, body } = await getJson(
      `http://127.0.0.1:${hopper.running.adminPort}/api/v1/status`,
    );
    assert.equal(status, 200);
    const view = body as StatusView;
    assert.equal(view.targets.length, 1);
    return view.targets[0] as TargetStatusView;
  }

  test('quarantined IP shows its end time and failures', async () => {
    const quarantineMs = 60_000;
    const hopper = await startWithQuarantine('60s');
    const window = await quarantineDeadIp(hopper);
    const view = await targetStatus(hopper);

    assert.equal(view.name, 'st');
    assert.equal(view.ip_count, 3);
    assert.equal(view.quarantined, 1);
    assert.equal(view.available, 2);
    assert.equal(view.leased, 0);
    const ips = view.ips ?? [];
    assert.deepEqual(
      ips.map((ip) => ip.address),
      [deadAddress, ...squids.map((squid) => squid.address())],
    );
    const dead = ips[0];
    assert.ok(dead !== undefined);
    assert.equal(dead.status, 'quarantined');
    assert.equal(dead.failures, 1);
    assert.equal(dead.provider, 'closed');
    assert.equal(dead.region, 'nowhere');
    assert.equal(dead.reachable, null);
    const untilMs = Date.parse(dead.quarantined_until ?? '');
    assert.ok(
      untilMs >= window.fromMs + quarantineMs - CLOCK_SLACK_MS &&
        untilMs <= window.toMs + quarantineMs + CLOCK_SLACK_MS,
      `quarantined_until ${dead.quarantined_until} is not ${quarantineMs} ms after the quarantine`,
    );
    for (const ip of ips.slice(1)) {
      assert.equal(ip.status, 'available', ip.address);
      assert.equal(ip.failures, 0, ip.address);
      assert.equal(ip.quarantined_until, null, ip.address);
      assert.equal(ip.provider, 'acme');
      assert.equal(ip.region, 'eu');
    }
    await hopper.stop();
  });

  test('IP is available again after a short quarantine', async () => {
    const quarantineMs = 600;
    const hopper = await startWithQuarantine('600ms');
    const released = nextEvent(hopper, 'quarantine_release', (e) => e.address === deadAddress);
    const window = await quarantineDeadIp(hopper);

    const during = await targetStatus(hopper);
    assert.equal(during.ips?.[0]?.status, 'quarantined');
    assert.equal(during.ips?.[0]?.failures, 1);

    await released;
    const releasedAtMs = Date.now();
    assert.ok(
      releasedAtMs >= window.fromMs + quarantineMs - CLOCK_SLACK_MS,
      `released ${releasedAtMs - window.fromMs} ms after the request, before ${quarantineMs} ms`,
    );
    const afterRelease = await targetStatus(hopper);
    assert.equal(afterRelease.quarantined, 0);
    assert.equal(afterRelease.available, 3);
    const dead = afterRelease.ips?.[0];
    assert.equal(dead?.address, deadAddress);
    assert.equal(dead?.status, 'available');
    assert.equal(dead?.failures, 0);
    assert.equal(dead?.quarantined_until, null);
    const releaseLogged = await waitFor(
      () =>
        hopper.logs.some(
          (line) =>
            line.message === 'ip released from quarantine' &&
            line.address === deadAddress &&
            line.level === 'INFO',
        ),
      2000,
    );
    assert.ok(releaseLogged, 'no ip released from quarantine line');
    await hopper.stop();
  });

  test('health on the proxy port and the admin port', async () => {
    const hopper = await startWithQuarantine('60s');
    const proxy = await getJson(`${hopper.origin}/health`);
    assert.equal(proxy.status, 200);
    assert.deepEqual(proxy.body, { status: 'ok' });
    const admin = await getJson(`http://127.0.0.1:${hopper.running.adminPort}/health`);
    assert.equal(admin.status, 200);
    assert.deepEqual(admin.body, { status: 'ok' });
    await hopper.stop();
  });
});
