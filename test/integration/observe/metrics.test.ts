import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';

import { MemoryBackend } from '../../../src/backend/memory-backend.js';
import type { TargetConfig } from '../../../src/config/types.js';
import { EventBus } from '../../../src/observe/events.js';
import {
  PROBE_DURATION_BUCKETS,
  QUEUE_WAIT_BUCKETS,
  REQUEST_DURATION_BUCKETS,
} from '../../../src/observe/metric-definitions.js';
import { createMetrics, type Metrics } from '../../../src/observe/metrics.js';
import { startMetricsServer, type RunningServer } from '../../../src/observe/metrics-server.js';
import { ip, poolSpec, target } from '../../helpers/observe/fixtures.js';
import { findSample, labelSets, sampleValue, scrape } from '../../helpers/observe/scrape.js';

const A = ip('127.0.0.2:3128', 'acme', 'eu');
const B = ip('127.0.0.3:3128', 'acme', 'us');
const C = ip('127.0.0.4:3128', '', '');
const silent = pino({ level: 'silent' });

interface Rig {
  events: EventBus;
  backend: MemoryBackend;
  metrics: Metrics;
  server: RunningServer;
  setTargets(targets: TargetConfig[]): void;
  scrape(): ReturnType<typeof scrape>;
  close(): Promise<void>;
}

async function startRig(
  targets: TargetConfig[],
  maxTagValues?: number,
  refreshOnScrape = false,
): Promise<Rig> {
  const events = new EventBus();
  const backend = new MemoryBackend({ events });
  await backend.start();
  for (const config of targets) await backend.syncTarget(poolSpec(config));
  let current = targets;
  const metrics = createMetrics({
    events,
    backend,
    targets: () => current,
    refreshIntervalMs: 0,
    ...(maxTagValues === undefined ? {} : { maxTagValues }),
  });
  const server = await startMetricsServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    logger: silent,
    ...(refreshOnScrape ? { beforeScrape: metrics.refresh } : {}),
  });
  return {
    events,
    backend,
    metrics,
    server,
    setTargets: (next) => {
      current = next;
    },
    scrape: () => scrape(`http://127.0.0.1:${server.port}/metrics`),
    async close() {
      metrics.stop();
      await server.close();
      await backend.stop();
    },
  };
}

const labelsOf = (config: { address: string; provider: string; region: string }, name: string) => ({
  target: name,
  address: config.address,
  provider: config.provider,
  region: config.region,
});

function attempt(
  targetName: string,
  via: typeof A,
  outcome: 'success' | 'rate_limited',
  durationMs: number,
) {
  return {
    ...labelsOf(via, targetName),
    requestId: 'r',
    tag: 'batch',
    attempt: 0,
    outcome,
    status: outcome === 'success' ? 200 : 429,
    startedAtMs: 0,
    durationMs,
    error: null,
  };
}

function requestEnd(targetName: string, status: number, tag = '') {
  return {
    requestId: 'r',
    method: 'GET',
    url: 'http://x.test/',
    target: targetName,
    tag,
    status,
    errorCode: null,
    attempts: 1,
    address: null,
    durationMs: 5,
    aborted: false,
  };
}

describe('metrics from a known event sequence', () => {
  let rig: Rig;
  let result: Awaited<ReturnType<typeof scrape>>;

  before(async () => {
    rig = await startRig([target('shop', [A, B]), target('api', [C])]);
    const { events } = rig;
    for (let i = 0; i < 3; i += 1) events.emit('connection_open', { remoteAddress: '127.0.0.1' });
    events.emit('connection_close', { remoteAddress: '127.0.0.1' });
    const unmatched = { requestId: 'u', method: 'GET', url: 'https://h1.nomatch.test/p/1' };
    events.emit('request_unmatched', { ...unmatched, tag: '' });
    events.emit('request_unmatched', { ...unmatched, tag: 'x' });
    events.emit('attempt_end', attempt('shop', A, 'rate_limited', 30));
    events.emit('attempt_end', attempt('shop', B, 'success', 700));
    events.emit('request_end', requestEnd('shop', 200, 'batch'));
    events.emit('request_end', requestEnd('h1.nomatch.test', 503));
    events.emit('retry', {
      ...labelsOf(A, 'shop'),
      requestId: 'r',
      attempt: 0,
      reason: 'status 429',
    });
    events.emit('retry_exhausted', { requestId: 'r', target: 'api', attempts: 3, lastError: 'x' });
    events.emit('queue_depth', { target: 'shop', depth: 4 });
    events.emit('queue_depth', { target: 'shop', depth: 2 });
    events.emit('queue_wait', { requestId: 'r', target: 'shop', waitMs: 12 });
    events.emit('queue_expired', { requestId: 'r', target: 'api', code: 'queue_timeout' });
    events.emit('queue_expired', { requestId: 'r', target: 'api', code: 'no_ip_available' });
    events.emit('ip_failure', { ...labelsOf(A, 'shop'), failures: 2 });
    events.emit('ip_success', labelsOf(B, 'shop'));
    events.emit('quarantine', { ...labelsOf(A, 'shop'), failures: 3, quarantineMs: 60_000 });
    events.emit('ip_failure', { ...labelsOf(ip('10.9.9.9:1'), 'shop'), failures: 1 });
    events.emit('quarantine', {
      ...labelsOf(ip('10.9.9.9:1'), 'shop'),
      failures: 3,
      quarantineMs: 1,
    });
    const probe = { url: 'http://127.0.0.1/', status: 200 };
    events.emit('probe_result', { ...A, ...probe, ok: true, reason: null, durationMs: 120 });
    events.emit('probe_result', {
      ...C,
      ...probe,
      ok: false,
      reason: 'timeout',
      durationMs: 10_000,
    });
    events.emit('probe_result', {
      ...ip('10.9.9.9:1'),
      ...probe,
      ok: true,
      reason: null,
      durationMs: 1,
    });
    result = await rig.scrape();
  });

  after(() => rig.close());

  test('served as prometheus text', () => {
    assert.equal(result.status, 200);
    assert.match(result.contentType, /^text\/plain; version=0\.0\.4/);
  });

  test('requests_total per attempt and unmatched', () => {
    const name = 'proxy_hopper_requests_total';
    assert.equal(result.families.get(name)?.type, 'COUNTER');
    assert.equal(
      sampleValue(result, name, { target: 'unmatched', outcome: 'no_match', tag: '' }),
      1,
    );
    assert.equal(
      sampleValue(result, name, { target: 'unmatched', outcome: 'no_match', tag: 'x' }),
      1,
    );
    assert.equal(
      sampleValue(result, name, { target: 'shop', outcome: 'rate_limited', tag: 'batch' }),
      1,
    );
    assert.equal(
      sampleValue(result, name, { target: 'shop', outcome: 'success', tag: 'batch' }),
      1,
    );
    assert.equal(labelSets(result, name).length, 4);
  });

  test('request duration histogram buckets', () => {
    const family = result.families.get('proxy_hopper_request_duration_seconds');
    assert.equal(family?.type, 'HISTOGRAM');
    const sample = findSample(result, 'proxy_hopper_request_duration_seconds', { target: 'shop' });
    const expectedBounds = [...REQUEST_DURATION_BUCKETS.map(String), '+Inf'].sort();
    assert.deepEqual(Object.keys(sample?.buckets ?? {}).sort(), expectedBounds);
    assert.equal(sample?.buckets?.['0.05'], '1');
    assert.equal(sample?.buckets?.['0.25'], '1');
    assert.equal(sample?.buckets?.['0.5'], '1');
    assert.equal(sample?.buckets?.['1'], '2');
    assert.equal(sample?.count, '2');
    assert.equal(Number(sample?.sum), 0.73);
  });

  test('responses_total labels unknown targets unmatched', () => {
    const name = 'proxy_hopper_responses_total';
    assert.equal(
      sampleValue(result, name, { target: 'shop', status_code: '200', tag: 'batch' }),
      1,
    );
    assert.equal(
      sampleValue(result, name, { target: 'unmatched', status_code: '503', tag: '' }),
      1,
    );
    assert.equal(labelSets(result, name).length, 2);
    assert.ok(!result.text.includes('nomatch.test'));
  });

  test('retry and queue metrics', () => {
    assert.equal(sampleValue(result, 'proxy_hopper_retries_total', { target: 'shop' }), 1);
    assert.equal(sampleValue(result, 'proxy_hopper_retry_exhaustions_total', { target: 'api' }), 1);
    assert.equal(sampleValue(result, 'proxy_hopper_queue_depth', { target: 'shop' }), 2);
    assert.equal(sampleValue(result, 'proxy_hopper_queue_expired_total', { target: 'api' }), 2);
    const wait = findSample(result, 'proxy_hopper_queue_wait_seconds', { target: 'shop' });
    const expectedBounds = [...QUEUE_WAIT_BUCKETS.map(String), '+Inf'].sort();
    assert.deepEqual(Object.keys(wait?.buckets ?? {}).sort(), expectedBounds);
    assert.equal(wait?.buckets?.['0.01'], '0');
    assert.equal(wait?.buckets?.['0.025'], '1');
    assert.equal(Number(wait?.sum), 0.012);
  });

  test('active connections gauge', () => {
    assert.equal(sampleValue(result, 'proxy_hopper_active_connections'), 2);
  });

  test('per-ip series for configured ips only', () => {
    assert.equal(sampleValue(result, 'proxy_hopper_ip_failure_count', labelsOf(A, 'shop')), 3);
    assert.equal(sampleValue(result, 'proxy_hopper_ip_failure_count', labelsOf(B, 'shop')), 0);
    assert.equal(
      sampleValue(result, 'proxy_hopper_ip_quarantine_events_total', labelsOf(A, 'shop')),
      1,
    );
    assert.equal(labelSets(result, 'proxy_hopper_ip_quarantine_events_total').length, 1);
    assert.ok(!result.text.includes('10.9.9.9'));
  });

  test('probe metrics', () => {
    const a = { address: A.address, provider: 'acme', region: 'eu' };
    const c = { address: C.address, provider: '', region: '' };
    assert.equal(sampleValue(result, 'proxy_hopper_probe_success_total', a), 1);
    assert.equal(
      sampleValue(result, 'proxy_hopper_probe_failure_total', { ...c, reason: 'timeout' }),
      1,
    );
    assert.equal(sampleValue(result, 'proxy_hopper_ip_reachable', a), 1);
    assert.equal(sampleValue(result, 'proxy_hopper_ip_reachable', c), 0);
    const duration = findSample(result, 'proxy_hopper_probe_duration_seconds', a);
    const expectedBounds = [...PROBE_DURATION_BUCKETS.map(String), '+Inf'].sort();
    assert.deepEqual(Object.keys(duration?.buckets ?? {}).sort(), expectedBounds);
    assert.equal(duration?.buckets?.['0.1'], '0');
    assert.equal(duration?.buckets?.['0.25'], '1');
  });

  test('node default metrics and backend_up', () => {
    assert.ok(result.families.has('process_cpu_user_seconds_total'));
    assert.ok(result.families.has('nodejs_heap_size_total_bytes'));
    assert.equal(sampleValue(result, 'proxy_hopper_backend_up', { backend: 'memory' }), 1);
  });
});

describe('tag label bounds', () => {
  test('truncated to 64 and capped', async () => {
    const rig = await startRig([target('shop', [A])], 3);
    try {
      const base = { requestId: 'u', method: 'GET', url: 'http://x.test/' };
      for (const tag of ['t1', 't2', 'x'.repeat(100), 't4', 't5', 't1']) {
        rig.events.emit('request_unmatched', { ...base, tag });
      }
      const result = await rig.scrape();
      const tags = labelSets(result, 'proxy_hopper_requests_total').map((labels) => labels.tag);
      assert.deepEqual(tags.sort(), ['__other__', 't1', 't2', 'x'.repeat(64)].sort());
      const other = { target: 'unmatched', outcome: 'no_match', tag: '__other__' };
      assert.equal(sampleValue(result, 'proxy_hopper_requests_total', other), 2);
      assert.equal(sampleValue(result, 'proxy_hopper_requests_total', { ...other, tag: 't1' }), 2);
    } finally {
      await rig.close();
    }
  });

  test('random urls and tags keep series bounded', async () => {
    const rig = await startRig([target('shop', [A])]);
    try {
      const before = await rig.scrape();
      const seriesBefore = labelSets(before, 'proxy_hopper_requests_total').length;
      assert.equal(seriesBefore, 0);
      for (let i = 0; i < 10_000; i += 1) {
        const url = `https://h${i}.nomatch.test/p/${i}`;
        rig.events.emit('request_unmatched', {
          requestId: `u${i}`,
          method: 'GET',
          url,
          tag: `s${i}`,
        });
        rig.events.emit('request_end', { ...requestEnd(`h${i}.nomatch.test`, 503), tag: `s${i}` });
      }
      const result = await rig.scrape();
      assert.equal(labelSets(result, 'proxy_hopper_requests_total').length, 1001);
      assert.equal(labelSets(result, 'proxy_hopper_responses_total').length, 1001);
      const other = { target: 'unmatched', outcome: 'no_match', tag: '__other__' };
      assert.equal(sampleValue(result, 'proxy_hopper_requests_total', other), 9000);
      assert.ok(!result.text.includes('nomatch.test'));
      assert.ok(
        Buffer.byteLength(result.text) < 400 * 1024,
        `body ${Buffer.byteLength(result.text)} bytes`,
      );
    } finally {
      await rig.close();
    }
  });
});

describe('pool gauges from snapshots', () => {
  test('available quarantined and in rotation', async () => {
    const shop = target('shop', [A, B], { ipFailuresUntilQuarantine: 1 });
    const rig = await startRig([shop]);
    try {
      const first = await rig.backend.tryAcquire('shop', new Set());
      assert.equal(first.kind, 'leased');
      if (first.kind !== 'leased') return;
      await rig.backend.release(first.lease, { result: 'failure', cooldownFromRelease: false });
      const second = await rig.backend.tryAcquire('shop', new Set());
      assert.equal(second.kind, 'leased');
      await rig.metrics.refresh();

      const result = await rig.scrape();
      assert.equal(sampleValue(result, 'proxy_hopper_available_ips', { target: 'shop' }), 0);
      assert.equal(sampleValue(result, 'proxy_hopper_quarantined_ips', { target: 'shop' }), 1);
      assert.equal(sampleValue(result, 'proxy_hopper_ips_in_rotation', { target: 'shop' }), 1);
      const quarantined = first.lease.address === A.address ? A : B;
      const leased = quarantined === A ? B : A;
      assert.equal(
        sampleValue(result, 'proxy_hopper_ip_quarantined', labelsOf(quarantined, 'shop')),
        1,
      );
      assert.equal(sampleValue(result, 'proxy_hopper_ip_quarantined', labelsOf(leased, 'shop')), 0);
      assert.equal(
        sampleValue(result, 'proxy_hopper_ip_failure_count', labelsOf(quarantined, 'shop')),
        1,
      );
    } finally {
      await rig.close();
    }
  });

  test('removed ips and targets lose their series', async () => {
    const shopFull = target('shop', [A, B, C]);
    const other = target('other', [A, B, C]);
    const rig = await startRig([shopFull, other]);
    try {
      rig.events.emit('quarantine', { ...labelsOf(C, 'shop'), failures: 1, quarantineMs: 60_000 });
      rig.events.emit('attempt_end', attempt('other', A, 'success', 10));
      rig.events.emit('probe_result', {
        ...C,
        url: 'http://p/',
        status: 200,
        ok: true,
        reason: null,
        durationMs: 5,
      });
      await rig.metrics.refresh();
      const before = await rig.scrape();
      assert.equal(sampleValue(before, 'proxy_hopper_available_ips', { target: 'other' }), 3);
      assert.equal(
        sampleValue(before, 'proxy_hopper_ip_quarantine_events_total', labelsOf(C, 'shop')),
        1,
      );

      const shopSmaller = target('shop', [A, B]);
      await rig.backend.syncTarget(poolSpec(shopSmaller));
      rig.setTargets([shopSmaller]);
      await rig.metrics.refresh();
      const after = await rig.scrape();

      for (const [name, family] of after.families) {
        if (!name.startsWith('proxy_hopper_')) continue;
        for (const sample of family.metrics) {
          assert.notEqual(sample.labels?.target, 'other', `${name} still has target other`);
          assert.notEqual(sample.labels?.address, C.address, `${name} still has ${C.address}`);
        }
      }
      assert.equal(sampleValue(after, 'proxy_hopper_available_ips', { target: 'shop' }), 2);
      assert.equal(labelSets(after, 'proxy_hopper_ip_quarantined').length, 2);

      rig.setTargets([shopFull]);
      await rig.backend.syncTarget(poolSpec(shopFull));
      await rig.metrics.refresh();
      const readded = await rig.scrape();
      assert.equal(
        sampleValue(readded, 'proxy_hopper_ip_quarantine_events_total', labelsOf(C, 'shop')),
        undefined,
      );
      assert.equal(sampleValue(readded, 'proxy_hopper_ip_quarantined', labelsOf(C, 'shop')), 0);
      assert.equal(sampleValue(readded, 'proxy_hopper_available_ips', { target: 'shop' }), 3);
    } finally {
      await rig.close();
    }
  });
});

describe('refresh on scrape', () => {
  test('scrape sees a removed target gone', async () => {
    const shop = target('shop', [A]);
    const api = target('api', [B]);
    const rig = await startRig([shop, api], undefined, true);
    try {
      const first = await rig.scrape();
      assert.equal(sampleValue(first, 'proxy_hopper_available_ips', { target: 'api' }), 1);
      assert.equal(sampleValue(first, 'proxy_hopper_available_ips', { target: 'shop' }), 1);
      rig.setTargets([shop]);
      const second = await rig.scrape();
      assert.equal(sampleValue(second, 'proxy_hopper_available_ips', { target: 'api' }), undefined);
      assert.equal(sampleValue(second, 'proxy_hopper_available_ips', { target: 'shop' }), 1);
    } finally {
      await rig.close();
    }
  });
});

describe('metrics server routes', () => {
  test('unknown path 404 and POST 405', async () => {
    const rig = await startRig([]);
    try {
      const base = `http://127.0.0.1:${rig.server.port}`;
      const missing = await fetch(`${base}/other`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
      const post = await fetch(`${base}/metrics`, { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
      await post.body?.cancel();
    } finally {
      await rig.close();
    }
  });
});
