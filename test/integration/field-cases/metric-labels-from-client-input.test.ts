// Untrusted request input never becomes a metric label: thousands of distinct unmatched target
// hosts, matched URLs, session headers and 50 API keys add no series after the first request
// of each kind. Labels carry the configured target name and the fixed unmatched bucket only.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Scrape } from '../../helpers/observe/scrape.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { DEFAULT_PROXY_USER, startSquids } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import {
  Client,
  escapeRegex,
  forEachLimited,
  poolDocument,
  providerDocument,
  scrapeUntil,
  targetDocument,
} from '../observe-e2e/fixture.js';

const UNMATCHED = 10_000;
const MATCHED = 2000;
const KEYS = 50;
const METRICS_BODY_LIMIT_BYTES = 200 * 1024;

function seriesKeys(result: Scrape): Set<string> {
  const keys = new Set<string>();
  for (const [name, family] of result.families) {
    if (!name.startsWith('proxy_hopper_')) continue;
    for (const sample of family.metrics) keys.add(`${name}${JSON.stringify(sample.labels ?? {})}`);
  }
  return keys;
}

function labelValues(result: Scrape): string[] {
  return [...result.families.values()].flatMap((family) =>
    family.metrics.flatMap((sample) => Object.values(sample.labels ?? {})),
  );
}

function countOf(result: Scrape, target: string): number {
  const samples = result.families.get('proxy_hopper_responses_total')?.metrics ?? [];
  return samples
    .filter((sample) => sample.labels?.target === target)
    .reduce((sum, sample) => sum + Number(sample.value), 0);
}

describe('metric labels under untrusted input', () => {
  let targets: TargetServers;
  let hopper: TestHopper;
  let metricsUrl: string;
  const client = new Client();
  const marker = `m${randomUUID().slice(0, 8)}`;
  const keys = Array.from({ length: KEYS }, (_, i) => `sk-${marker}-${i}-${randomUUID()}`);

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    const squids = await startSquids(2, {}, 51);
    const acme = {
      name: 'acme',
      addresses: squids.map((squid) => squid.address()),
      user: DEFAULT_PROXY_USER,
      regionTag: 'eu',
    };
    hopper = await startHopper({
      server: { metrics: true, metricsHost: '127.0.0.1', metricsPort: 0 },
      auth: {
        enabled: true,
        jwtSecret: 'field-case-jwt-secret-long-enough-0123456789',
        apiKeys: keys.map((key, i) => ({ name: `client-${i}`, key, targets: ['*'] })),
      },
      proxyProviders: [providerDocument(acme)],
      ipPools: [poolDocument('p', [acme])],
      targets: [
        targetDocument('shop', `^${escapeRegex(targets.httpOrigin)}/item/`, 'p', {
          minRequestInterval: '0ms',
        }),
      ],
    });
    metricsUrl = `http://127.0.0.1:${hopper.running.metricsPort}/metrics`;
  });

  after(cleanupAll);

  const unmatched = (i: number) =>
    client.via(hopper.proxyPort, `https://h${i}.${marker}.nomatch.test`, `/p/${i}`, {
      'x-proxy-hopper-auth': `Bearer ${keys[Math.abs(i) % KEYS] as string}`,
      'x-proxy-hopper-session': `s${marker}${i}`,
    });
  const matched = (i: number) =>
    client.via(hopper.proxyPort, targets.httpOrigin, `/item/${marker}/${i}`, {
      'x-proxy-hopper-auth': `Bearer ${keys[Math.abs(i) % KEYS] as string}`,
      'x-proxy-hopper-session': `s${marker}x${i}`,
    });

  test('distinct hosts, paths, sessions and API keys add no series', async () => {
    assert.equal((await unmatched(-1)).status, 503);
    assert.equal((await matched(-1)).status, 200);
    const before = await scrapeUntil(metricsUrl, (result) => countOf(result, 'shop') === 1);
    const baseline = seriesKeys(before);

    await forEachLimited(
      Array.from({ length: UNMATCHED }, (_, i) => i),
      16,
      async (i) => assert.equal((await unmatched(i)).status, 503),
    );
    await forEachLimited(
      Array.from({ length: MATCHED }, (_, i) => i),
      8,
      async (i) => assert.equal((await matched(i)).status, 200),
    );

    const afterRun = await scrapeUntil(
      metricsUrl,
      (result) => countOf(result, 'shop') === MATCHED + 1,
    );
    assert.equal(countOf(afterRun, 'shop'), MATCHED + 1);
    assert.equal(countOf(afterRun, 'unmatched'), UNMATCHED + 1);
    assert.deepEqual(
      [...seriesKeys(afterRun)].filter((key) => !baseline.has(key)),
      [],
    );
    const leaked = labelValues(afterRun).filter(
      (value) => value.includes(marker) || value.includes('nomatch') || value.startsWith('sk-'),
    );
    assert.deepEqual(leaked, []);
    const targetLabels = new Set(
      (afterRun.families.get('proxy_hopper_responses_total')?.metrics ?? []).map(
        (sample) => sample.labels?.target,
      ),
    );
    assert.deepEqual([...targetLabels].sort(), ['shop', 'unmatched']);
    assert.ok(
      Buffer.byteLength(afterRun.text) < METRICS_BODY_LIMIT_BYTES,
      `/metrics is ${Buffer.byteLength(afterRun.text)} bytes`,
    );
  });
});
