import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { Server as ChainServer } from 'proxy-chain';

import type { ResolvedIp } from '../../../src/config/types.js';
import { EventBus, type EventMap } from '../../../src/observe/events.js';
import { createLogger } from '../../../src/observe/logger.js';
import { createProber, type ProberSettings } from '../../../src/observe/prober.js';
import { target } from '../../helpers/observe/fixtures.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';

const USER = { username: 'probe-user', password: 'probe-pass' };
const silent = pino({ level: 'silent' });
type ProbeEvent = EventMap['probe_result'];

async function startProxy(port = 0): Promise<ChainServer> {
  const server = new ChainServer({
    host: '127.0.0.1',
    port,
    prepareRequestFunction: ({ username, password }) =>
      username === USER.username && password === USER.password
        ? {}
        : { requestAuthentication: true, failMsg: 'invalid proxy credentials' },
  });
  await server.listen();
  return server;
}

function proxyIp(port: number, password = USER.password): ResolvedIp {
  const address = `127.0.0.1:${port}`;
  const credentials = { username: USER.username, password };
  return { address, host: '127.0.0.1', port, provider: 'chain', region: 'lo', credentials };
}

function settings(probeUrls: string[], overrides: Partial<ProberSettings> = {}): ProberSettings {
  const base = { probe: true, probeIntervalMs: 200, probeTimeoutMs: 1000, probeUrls };
  return { ...base, probeQuarantine: true, debugProbes: false, ...overrides };
}

function collect(events: EventBus): ProbeEvent[] {
  const results: ProbeEvent[] = [];
  events.on('probe_result', (event) => results.push(event));
  return results;
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<number> {
  const startedAt = Date.now();
  while (!check()) {
    if (Date.now() - startedAt > timeoutMs) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - startedAt;
}

describe('prober against real upstream proxies', () => {
  let targets: TargetServers;
  before(async () => {
    targets = await startTargets();
  });
  after(() => targets.close());

  test('classifies success and each failure reason', async () => {
    const good = await startProxy();
    const deadPort = (await startProxy().then(async (server) => {
      const port = server.port;
      await server.close(true);
      return port;
    })) as number;
    try {
      const events = new EventBus();
      const results = collect(events);
      const cases: [string, ResolvedIp, string][] = [
        ['ok', proxyIp(good.port), '/status/204'],
        ['404 still reachable', proxyIp(good.port), '/status/404'],
        ['server error', proxyIp(good.port), '/status/503'],
        ['bad credentials', proxyIp(good.port, 'wrong'), '/status/204'],
        ['dead proxy', proxyIp(deadPort), '/status/204'],
        ['hanging target', proxyIp(good.port), '/hang'],
      ];
      for (const [, ip, path] of cases) {
        const prober = createProber({
          settings: settings([`${targets.httpOrigin}${path}`], { probeTimeoutMs: 500 }),
          targets: () => [target('t', [ip])],
          events,
          logger: silent,
        });
        await prober.probeRound();
      }
      const got = results.map((event) => [event.ok, event.reason, event.status]);
      assert.deepEqual(got, [
        [true, null, 204],
        [true, null, 404],
        [false, 'http_error', 503],
        [false, 'http_error', 407],
        [false, 'proxy_unreachable', null],
        [false, 'timeout', null],
      ]);
      const hang = results[5];
      assert.ok(
        hang && hang.durationMs >= 450 && hang.durationMs < 2000,
        `took ${hang?.durationMs}`,
      );
      assert.equal(results[0]?.provider, 'chain');
      assert.equal(results[0]?.region, 'lo');
      assert.equal(results[0]?.address, `127.0.0.1:${good.port}`);
    } finally {
      await good.close(true);
    }
  });

  test('dead upstream marked then restored', async () => {
    let proxy = await startProxy();
    const port = proxy.port;
    const events = new EventBus();
    const results = collect(events);
    const intervalMs = 200;
    const prober = createProber({
      settings: settings([`${targets.httpOrigin}/status/204`], { probeIntervalMs: intervalMs }),
      targets: () => [target('t', [proxyIp(port)])],
      events,
      logger: silent,
    });
    const address = `127.0.0.1:${port}`;
    try {
      prober.start();
      await waitFor(() => results.length >= 1, 2000);
      assert.equal(results[0]?.ok, true);
      assert.equal(prober.health.isReachable(address), true);

      await proxy.close(true);
      const downAfterMs = await waitFor(() => !prober.health.isReachable(address), 3000);
      assert.ok(downAfterMs <= 2 * intervalMs + 300, `marked after ${downAfterMs} ms`);
      assert.equal(results.at(-1)?.reason, 'proxy_unreachable');
      assert.deepEqual([...prober.health.avoidSet(new Set(['x']))].sort(), [address, 'x'].sort());

      proxy = await startProxy(port);
      const upAfterMs = await waitFor(() => prober.health.isReachable(address), 3000);
      assert.ok(upAfterMs <= 2 * intervalMs + 300, `restored after ${upAfterMs} ms`);
      assert.equal(results.at(-1)?.ok, true);
      const tried = new Set(['x']);
      assert.equal(prober.health.avoidSet(tried), tried);
    } finally {
      await prober.stop();
      await proxy.close(true);
    }
  });

  test('urls rotate per address', async () => {
    const proxy = await startProxy();
    try {
      const events = new EventBus();
      const results = collect(events);
      const urls = [`${targets.httpOrigin}/status/200`, `${targets.httpOrigin}/status/201`];
      const prober = createProber({
        settings: settings(urls),
        targets: () => [target('t', [proxyIp(proxy.port)])],
        events,
        logger: silent,
      });
      for (let round = 0; round < 3; round += 1) await prober.probeRound();
      assert.deepEqual(
        results.map((event) => event.status),
        [200, 201, 200],
      );
    } finally {
      await proxy.close(true);
    }
  });

  test('stop cancels a hanging probe', async () => {
    const proxy = await startProxy();
    try {
      const events = new EventBus();
      const results = collect(events);
      const prober = createProber({
        settings: settings([`${targets.httpOrigin}/hang`], { probeTimeoutMs: 20_000 }),
        targets: () => [target('t', [proxyIp(proxy.port)])],
        events,
        logger: silent,
      });
      prober.start();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const startedAt = Date.now();
      await prober.stop();
      const stopMs = Date.now() - startedAt;
      assert.ok(stopMs < 2000, `stop took ${stopMs} ms`);
      assert.equal(results.length, 0);
    } finally {
      await proxy.close(true);
    }
  });

  test('without probe quarantine nothing is avoided', async () => {
    const proxy = await startProxy();
    try {
      const prober = createProber({
        settings: settings([`${targets.httpOrigin}/status/503`], { probeQuarantine: false }),
        targets: () => [target('t', [proxyIp(proxy.port)])],
        events: new EventBus(),
        logger: silent,
      });
      await prober.probeRound();
      assert.equal(prober.health.isReachable(`127.0.0.1:${proxy.port}`), false);
      const tried = new Set<string>();
      assert.equal(prober.health.avoidSet(tried), tried);
    } finally {
      await proxy.close(true);
    }
  });
});

describe('prober scheduling', () => {
  test('idle without probe urls', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      { logLevel: 'INFO', logFormat: 'json', logFile: null },
      { write: (line: string) => void lines.push(line) },
    );
    const events = new EventBus();
    const results = collect(events);
    const prober = createProber({
      settings: settings([]),
      targets: () => [target('t', [proxyIp(1)])],
      events,
      logger,
    });
    prober.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await prober.stop();
    assert.equal(prober.active, false);
    assert.equal(results.length, 0);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      records.map((record) => [record.level, record.logger, record.message]),
      [['INFO', 'proxy_hopper.prober', 'prober idle: no probeUrls configured']],
    );
  });

  test('concurrency stays bounded', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: string[] = [];
    // Plain HTTP servers act as upstream proxies: an absolute-form GET arrives as a request.
    const fakes = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const server = http.createServer((request, response) => {
          seen.push(request.url ?? '');
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          setTimeout(() => {
            inFlight -= 1;
            response.end('ok');
          }, 80);
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return server;
      }),
    );
    try {
      const ips = fakes.map((server) => proxyIp((server.address() as AddressInfo).port));
      const events = new EventBus();
      const results = collect(events);
      const prober = createProber({
        settings: settings(['http://probe.invalid/check']),
        targets: () => [target('a', ips.slice(0, 4)), target('b', ips.slice(2))],
        events,
        logger: silent,
        concurrency: 2,
      });
      await prober.probeRound();
      assert.equal(results.length, 6);
      assert.ok(results.every((event) => event.ok));
      assert.equal(maxInFlight, 2);
      assert.deepEqual(seen, Array(6).fill('http://probe.invalid/check'));
    } finally {
      for (const server of fakes) server.close();
    }
  });
});
