// Metrics of the real server after a known mix of traffic through real squids. Counters,
// histograms and pool gauges scraped over HTTP must match the traffic exactly. The admin
// server's /metrics is checked with auth on (a viewer token reads it, an API key is rejected)
// and with metrics off. Queue metrics are checked with one IP whose spacing makes requests wait.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { hashPassword } from '../../../src/auth/index.js';
import {
  QUEUE_WAIT_BUCKETS,
  REQUEST_DURATION_BUCKETS,
} from '../../../src/observe/metric-definitions.js';
import { labelSets, sampleValue, scrape, type Scrape } from '../../helpers/observe/scrape.js';
import { freePort } from '../../helpers/ports.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { DEFAULT_PROXY_USER, startSquids, type SquidPeer } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import {
  bucketBounds,
  bucketCounts,
  Client,
  escapeRegex,
  expectedBounds,
  histogramCount,
  poolDocument,
  providerDocument,
  scrapeUntil,
  seriesWhere,
  targetDocument,
  type ProviderSpec,
} from './fixture.js';

const API_KEY = 'ph-e2e-metrics-key-7f3a91';
const QT_ONLY_KEY = 'ph-e2e-qt-only-key-52b8';
const VIEWER = { username: 'watcher', password: 'viewer-pass-4821' };
const SUCCESSES = 5;
const EXHAUSTED = 3;
const UNMATCHED = 4;
const NUM_RETRIES = 1;

describe('metrics after known traffic', () => {
  let targets: TargetServers;
  let squids: SquidPeer[];
  let hopper: TestHopper;
  let acme: ProviderSpec;
  let dead: ProviderSpec;
  let metricsUrl: string;
  let adminOrigin: string;
  const client = new Client();
  const auth = { 'x-proxy-hopper-auth': `Bearer ${API_KEY}` };

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squids = await startSquids(3);
    acme = {
      name: 'acme',
      addresses: squids.map((squid) => squid.address()),
      user: DEFAULT_PROXY_USER,
      regionTag: 'eu-west',
    };
    dead = { name: 'void', addresses: [`127.0.0.1:${await freePort()}`], regionTag: 'us-east' };
    const origin = escapeRegex(targets.httpOrigin);
    const quarantinePool = {
      name: 'q-pool',
      ipRequests: [
        { provider: 'void', count: 1 },
        { provider: 'acme', count: 1 },
      ],
    };
    hopper = await startHopper({
      server: {
        metrics: true,
        metricsHost: '127.0.0.1',
        metricsPort: 0,
        admin: true,
        adminHost: '127.0.0.1',
        adminPort: 0,
      },
      auth: {
        enabled: true,
        jwtSecret: 'e2e-metrics-jwt-secret-with-enough-length',
        users: [
          {
            username: VIEWER.username,
            passwordHash: await hashPassword(VIEWER.password),
            role: 'viewer',
          },
        ],
        apiKeys: [
          { name: 'metrics-client', key: API_KEY },
          { name: 'qt-only', key: QT_ONLY_KEY, targets: ['qt'] },
        ],
      },
      proxyProviders: [providerDocument(acme), providerDocument(dead)],
      ipPools: [poolDocument('shop-pool', [acme]), quarantinePool],
      targets: [
        targetDocument('shop', `^${origin}/(echo|status)/`, 'shop-pool', {
          numRetries: NUM_RETRIES,
        }),
        targetDocument('qt', `^${origin}/q/`, 'q-pool', {
          numRetries: 1,
          ipFailuresUntilQuarantine: 1,
          quarantineTime: '60s',
        }),
      ],
    });
    metricsUrl = `http://127.0.0.1:${hopper.running.metricsPort}/metrics`;
    adminOrigin = `http://127.0.0.1:${hopper.running.adminPort}`;

    for (let i = 0; i < SUCCESSES; i++) {
      const response = await client.via(hopper.proxyPort, targets.httpOrigin, `/echo/ok/${i}`, {
        ...auth,
        'x-proxy-hopper-tag': 'alpha',
      });
      assert.equal(response.status, 200);
    }
    for (let i = 0; i < EXHAUSTED; i++) {
      const response = await client.via(hopper.proxyPort, targets.httpOrigin, '/status/503', {
        ...auth,
        'x-proxy-hopper-tag': 'beta',
      });
      assert.equal(response.status, 503);
    }
    for (let i = 0; i < UNMATCHED; i++) {
      const response = await client.via(
        hopper.proxyPort,
        targets.httpOrigin,
        `/nomatch/${i}`,
        auth,
      );
      assert.equal(response.status, 503);
    }
    // The first IP of q-pool is the dead one: connection refused, quarantine, retry on acme.
    const quarantined = await client.via(hopper.proxyPort, targets.httpOrigin, '/q/1', auth);
    assert.equal(quarantined.status, 200);
  });

  after(cleanupAll);

  const settled = (): Promise<Scrape> =>
    scrapeUntil(
      metricsUrl,
      (result) =>
        sampleValue(result, 'proxy_hopper_requests_total', {
          target: 'shop',
          outcome: 'success',
          tag: 'alpha',
        }) === SUCCESSES &&
        sampleValue(result, 'proxy_hopper_requests_total', {
          target: 'qt',
          outcome: 'success',
          tag: '',
        }) === 1,
    );

  test('requests_total counts attempts by outcome and tag', async () => {
    const result = await settled();
    const requests = 'proxy_hopper_requests_total';
    const shop = { target: 'shop' };
    assert.equal(sampleValue(result, requests, { ...shop, outcome: 'success', tag: 'alpha' }), 5);
    const failedAttempts = EXHAUSTED * (NUM_RETRIES + 1);
    assert.equal(
      sampleValue(result, requests, { ...shop, outcome: 'server_error', tag: 'beta' }),
      failedAttempts,
    );
    assert.equal(
      sampleValue(result, requests, { target: 'unmatched', outcome: 'no_match', tag: '' }),
      UNMATCHED,
    );
    assert.equal(
      sampleValue(result, requests, { target: 'qt', outcome: 'connection_error', tag: '' }),
      1,
    );
    assert.equal(sampleValue(result, requests, { target: 'qt', outcome: 'success', tag: '' }), 1);
    const series = labelSets(result, requests).map((labels) => JSON.stringify(labels));
    assert.deepEqual(
      series.sort(),
      [
        JSON.stringify({ target: 'qt', outcome: 'connection_error', tag: '' }),
        JSON.stringify({ target: 'qt', outcome: 'success', tag: '' }),
        JSON.stringify({ target: 'shop', outcome: 'server_error', tag: 'beta' }),
        JSON.stringify({ target: 'shop', outcome: 'success', tag: 'alpha' }),
        JSON.stringify({ target: 'unmatched', outcome: 'no_match', tag: '' }),
      ].sort(),
    );
  });

  test('responses_total counts one response per request', async () => {
    const result = await settled();
    const responses = 'proxy_hopper_responses_total';
    assert.equal(
      sampleValue(result, responses, { target: 'shop', status_code: '200', tag: 'alpha' }),
      SUCCESSES,
    );
    assert.equal(
      sampleValue(result, responses, { target: 'shop', status_code: '503', tag: 'beta' }),
      EXHAUSTED,
    );
    assert.equal(
      sampleValue(result, responses, { target: 'unmatched', status_code: '503', tag: '' }),
      UNMATCHED,
    );
    assert.equal(sampleValue(result, responses, { target: 'qt', status_code: '200', tag: '' }), 1);
    assert.equal(labelSets(result, responses).length, 4);
  });

  test('retries and exhaustions per target', async () => {
    const result = await settled();
    assert.equal(
      sampleValue(result, 'proxy_hopper_retries_total', { target: 'shop' }),
      EXHAUSTED * NUM_RETRIES,
    );
    assert.equal(sampleValue(result, 'proxy_hopper_retries_total', { target: 'qt' }), 1);
    assert.equal(
      sampleValue(result, 'proxy_hopper_retry_exhaustions_total', { target: 'shop' }),
      EXHAUSTED,
    );
    assert.equal(
      sampleValue(result, 'proxy_hopper_retry_exhaustions_total', { target: 'qt' }),
      undefined,
    );
  });

  test('request duration histogram counts every attempt', async () => {
    const result = await settled();
    const name = 'proxy_hopper_request_duration_seconds';
    const attempts = SUCCESSES + EXHAUSTED * (NUM_RETRIES + 1);
    assert.equal(histogramCount(result, name, { target: 'shop' }), attempts);
    assert.equal(histogramCount(result, name, { target: 'qt' }), 2);
    assert.deepEqual(bucketBounds(result, name, { target: 'shop' }), [
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '10',
      '30',
      '+Inf',
    ]);
    assert.deepEqual(
      bucketBounds(result, name, { target: 'shop' }),
      expectedBounds(REQUEST_DURATION_BUCKETS),
    );
    const counts = bucketCounts(result, name, { target: 'shop' });
    assert.equal(counts.at(-1), attempts);
    for (let i = 1; i < counts.length; i++) {
      assert.ok((counts[i] as number) >= (counts[i - 1] as number), `bucket ${i} not cumulative`);
    }
    assert.deepEqual(
      labelSets(result, `${name}`)
        .map((labels) => labels.target)
        .sort(),
      ['qt', 'shop'],
    );
  });

  test('queue wait histogram counts first leases', async () => {
    const result = await settled();
    const name = 'proxy_hopper_queue_wait_seconds';
    assert.deepEqual(bucketBounds(result, name, { target: 'shop' }), [
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '+Inf',
    ]);
    assert.deepEqual(
      bucketBounds(result, name, { target: 'shop' }),
      expectedBounds(QUEUE_WAIT_BUCKETS),
    );
    assert.equal(histogramCount(result, name, { target: 'shop' }), SUCCESSES + EXHAUSTED);
    assert.equal(histogramCount(result, name, { target: 'qt' }), 1);
    assert.equal(bucketCounts(result, name, { target: 'shop' }).at(-1), SUCCESSES + EXHAUSTED);
  });

  test('pool gauges and quarantine events after a quarantine', async () => {
    const result = await settled();
    const deadAddress = dead.addresses[0] as string;
    const deadLabels = { target: 'qt', address: deadAddress, provider: 'void', region: 'us-east' };
    assert.equal(sampleValue(result, 'proxy_hopper_ip_quarantine_events_total', deadLabels), 1);
    assert.deepEqual(labelSets(result, 'proxy_hopper_ip_quarantine_events_total'), [deadLabels]);
    assert.equal(sampleValue(result, 'proxy_hopper_ip_quarantined', deadLabels), 1);
    assert.equal(sampleValue(result, 'proxy_hopper_quarantined_ips', { target: 'qt' }), 1);
    assert.equal(sampleValue(result, 'proxy_hopper_available_ips', { target: 'qt' }), 1);
    assert.equal(sampleValue(result, 'proxy_hopper_ips_in_rotation', { target: 'qt' }), 1);
    assert.equal(sampleValue(result, 'proxy_hopper_quarantined_ips', { target: 'shop' }), 0);
    assert.equal(sampleValue(result, 'proxy_hopper_available_ips', { target: 'shop' }), 3);
    assert.equal(sampleValue(result, 'proxy_hopper_ips_in_rotation', { target: 'shop' }), 3);

    const shopIps = seriesWhere(result, 'proxy_hopper_ip_quarantined', 'target', 'shop');
    assert.deepEqual(
      shopIps.map((labels) => [labels.address, labels.provider, labels.region]),
      acme.addresses.map((address) => [address, 'acme', 'eu-west']),
    );
    for (const labels of shopIps) {
      assert.equal(sampleValue(result, 'proxy_hopper_ip_quarantined', labels), 0);
    }
    // The pool leases the least recently used IP, so the six failed attempts after the five
    // successes land twice on each IP with no success in between.
    for (const labels of shopIps) {
      assert.equal(sampleValue(result, 'proxy_hopper_ip_failure_count', labels), 2);
    }
    assert.equal(sampleValue(result, 'proxy_hopper_ip_failure_count', deadLabels), 1);
    const liveQtLabels = { ...(shopIps[0] as Record<string, string>), target: 'qt' };
    assert.equal(sampleValue(result, 'proxy_hopper_ip_failure_count', liveQtLabels), 0);
  });

  test('active connections return to 0 after clients close', async () => {
    await client.close();
    let result = await scrapeUntil(
      metricsUrl,
      (current) => sampleValue(current, 'proxy_hopper_active_connections') === 0,
    );
    assert.equal(sampleValue(result, 'proxy_hopper_active_connections'), 0);

    const sockets = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const socket = net.connect({ host: '127.0.0.1', port: hopper.proxyPort });
            socket.once('connect', () => resolve(socket));
            socket.once('error', reject);
          }),
      ),
    );
    result = await scrapeUntil(
      metricsUrl,
      (current) => sampleValue(current, 'proxy_hopper_active_connections') === 3,
    );
    assert.equal(sampleValue(result, 'proxy_hopper_active_connections'), 3);
    for (const socket of sockets) socket.destroy();
    result = await scrapeUntil(
      metricsUrl,
      (current) => sampleValue(current, 'proxy_hopper_active_connections') === 0,
    );
    assert.equal(sampleValue(result, 'proxy_hopper_active_connections'), 0);
  });

  test('admin /metrics: viewer 200, API key 403, no token 401', async () => {
    const login = await request(`${adminOrigin}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(VIEWER),
    });
    assert.equal(login.statusCode, 200);
    const { access_token: token } = (await login.body.json()) as { access_token: string };

    const viewer = await scrape(`${adminOrigin}/metrics`, { authorization: `Bearer ${token}` });
    assert.equal(viewer.status, 200);
    assert.equal(
      sampleValue(viewer, 'proxy_hopper_requests_total', {
        target: 'shop',
        outcome: 'server_error',
        tag: 'beta',
      }),
      EXHAUSTED * (NUM_RETRIES + 1),
    );

    const withKey = await scrape(`${adminOrigin}/metrics`, { authorization: `Bearer ${API_KEY}` });
    assert.equal(withKey.status, 403);
    assert.deepEqual(JSON.parse(withKey.text), { detail: 'API keys cannot use the admin API' });

    const anonymous = await request(`${adminOrigin}/metrics`);
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.headers['www-authenticate'], 'Bearer');
    assert.deepEqual(await anonymous.body.json(), {
      detail: 'Authentication required — set Authorization: Bearer <token>',
    });

    // The metrics port has no auth.
    const open = await scrape(metricsUrl);
    assert.equal(open.status, 200);
  });
  test('auth rejections count under the matched target', async () => {
    const before = await settled();
    const attemptsBefore = labelSets(before, 'proxy_hopper_requests_total').length;
    const missing = await client.via(hopper.proxyPort, targets.httpOrigin, '/echo/no-token');
    assert.equal(missing.status, 401);
    const forbidden = await client.via(hopper.proxyPort, targets.httpOrigin, '/echo/qt-only', {
      'x-proxy-hopper-auth': `Bearer ${QT_ONLY_KEY}`,
    });
    assert.equal(forbidden.status, 403);
    assert.equal(
      forbidden.body.toString(),
      "API key 'qt-only' is not permitted to access target 'shop'",
    );

    const responses = 'proxy_hopper_responses_total';
    const result = await scrapeUntil(
      metricsUrl,
      (current) =>
        labelSets(current, responses).filter((labels) =>
          ['401', '403'].includes(labels.status_code ?? ''),
        ).length === 2,
    );
    const rejected = labelSets(result, responses).filter((labels) =>
      ['401', '403'].includes(labels.status_code ?? ''),
    );
    // Both requests matched target shop (the 403 message names it), so they are not unmatched.
    assert.deepEqual(
      rejected
        .map((labels) => [
          labels.target,
          labels.status_code,
          sampleValue(result, responses, labels),
        ])
        .sort(),
      [
        ['shop', '401', 1],
        ['shop', '403', 1],
      ],
    );
    // No upstream attempt was made for them.
    assert.equal(labelSets(result, 'proxy_hopper_requests_total').length, attemptsBefore);
  });
});

describe('metrics disabled with admin on', () => {
  after(cleanupAll);

  test('admin /metrics returns 404', async () => {
    const targets = await startTargets();
    registerCleanup(() => targets.close());
    const [squid] = (await startSquids(1)) as [SquidPeer];
    const acme = { name: 'acme', addresses: [squid.address()], user: DEFAULT_PROXY_USER };
    const hopper = await startHopper({
      server: { metrics: false, admin: true, adminHost: '127.0.0.1', adminPort: 0 },
      proxyProviders: [providerDocument(acme)],
      ipPools: [poolDocument('p', [acme])],
      targets: [targetDocument('t', '.*', 'p')],
    });
    assert.equal(hopper.running.metricsPort, null);
    const client = new Client();
    const response = await client.via(hopper.proxyPort, targets.httpOrigin, '/echo/off');
    assert.equal(response.status, 200);

    const metrics = await request(`http://127.0.0.1:${hopper.running.adminPort}/metrics`);
    const body = await metrics.body.text();
    assert.equal(metrics.statusCode, 404, body.slice(0, 200));
    assert.deepEqual(JSON.parse(body), {
      detail: 'Metrics are disabled: set server.metrics: true',
    });
    await hopper.stop();
  });
});

describe('queue metrics under contention', () => {
  after(cleanupAll);

  test('queue wait, depth and expiry with one spaced IP', async () => {
    const targets = await startTargets();
    registerCleanup(() => targets.close());
    const [squid] = (await startSquids(1)) as [SquidPeer];
    const acme = { name: 'acme', addresses: [squid.address()], user: DEFAULT_PROXY_USER };
    const hopper = await startHopper({
      server: { metrics: true, metricsHost: '127.0.0.1', metricsPort: 0 },
      proxyProviders: [providerDocument(acme)],
      ipPools: [poolDocument('p', [acme])],
      // Leases start 0, 400 and 800 ms after arrival. The fourth would start at 1200 ms, after
      // its 1000 ms maxQueueWait, so it expires.
      targets: [
        targetDocument('t', '.*', 'p', { minRequestInterval: '400ms', maxQueueWait: '1s' }),
      ],
    });
    const depths: number[] = [];
    hopper.running.events.on('queue_depth', (event) => depths.push(event.depth));
    const client = new Client();
    const responses = await Promise.all(
      [0, 1, 2, 3].map((i) => client.via(hopper.proxyPort, targets.httpOrigin, `/echo/queue/${i}`)),
    );
    assert.deepEqual(responses.map((response) => response.status).sort(), [200, 200, 200, 503]);

    const metricsUrl = `http://127.0.0.1:${hopper.running.metricsPort}/metrics`;
    const result = await scrapeUntil(
      metricsUrl,
      (current) =>
        sampleValue(current, 'proxy_hopper_requests_total', {
          target: 't',
          outcome: 'success',
          tag: '',
        }) === 3,
    );
    const wait = 'proxy_hopper_queue_wait_seconds';
    assert.equal(histogramCount(result, wait, { target: 't' }), 3);
    const counts = Object.fromEntries(
      bucketBounds(result, wait, { target: 't' }).map((le, i) => [
        le,
        bucketCounts(result, wait, { target: 't' })[i],
      ]),
    );
    assert.equal(counts['0.25'], 1);
    assert.equal(counts['0.5'], 2);
    assert.equal(counts['1'], 3);
    assert.equal(sampleValue(result, 'proxy_hopper_queue_expired_total', { target: 't' }), 1);
    assert.equal(sampleValue(result, 'proxy_hopper_queue_depth', { target: 't' }), 0);
    assert.ok(Math.max(...depths) >= 2, `queue depth events: ${depths.join(',')}`);
    assert.equal(depths.at(-1), 0);
    assert.equal(
      sampleValue(result, 'proxy_hopper_responses_total', {
        target: 't',
        status_code: '503',
        tag: '',
      }),
      1,
    );
    await hopper.stop();
  });
});
