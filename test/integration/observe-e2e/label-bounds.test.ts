// Label bounds of the real server: thousands of distinct client URLs must not add a single
// series, and distinct X-Proxy-Hopper-Tag values stop at the cap, after which they count as
// __other__. A scraper must never see a raw URL in a label.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { OVERFLOW_LABEL } from '../../../src/observe/label-guard.js';
import { sampleValue, type Scrape } from '../../helpers/observe/scrape.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { DEFAULT_PROXY_USER, startSquids, type SquidPeer } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import {
  Client,
  escapeRegex,
  forEachLimited,
  poolDocument,
  providerDocument,
  scrapeUntil,
  seriesWhere,
  targetDocument,
} from './fixture.js';

/** Distinct tag values the metrics keep for the life of the process. */
const TAG_CAP = 1000;
const MAX_TAG_LENGTH = 64;
const UNMATCHED_URLS = 2000;
const MATCHED_URLS = 200;
const DISTINCT_TAGS = 1500;
const FIXED_TAG = 'fixed';
const LONG_TAG = `${'L'.repeat(70)}-tail`;

/** Lists every proxy_hopper_* series as `name{labels}`, one entry per label set. */
function seriesKeys(result: Scrape): Set<string> {
  const keys = new Set<string>();
  for (const [name, family] of result.families) {
    if (!name.startsWith('proxy_hopper_')) continue;
    for (const sample of family.metrics) keys.add(`${name}${JSON.stringify(sample.labels ?? {})}`);
  }
  return keys;
}

/** Collects every label value of every family, the process metrics included. */
function allLabelValues(result: Scrape): string[] {
  const values: string[] = [];
  for (const family of result.families.values()) {
    for (const sample of family.metrics) values.push(...Object.values(sample.labels ?? {}));
  }
  return values;
}

describe('metric label bounds', () => {
  let targets: TargetServers;
  let squids: SquidPeer[];
  let hopper: TestHopper;
  let metricsUrl: string;
  const client = new Client();
  /** Unique text in every URL of the run, so a leaked URL is easy to spot in label values. */
  const marker = `zz${randomUUID().slice(0, 8)}`;

  const unmatched = (path: string, tag: string) =>
    client.via(hopper.proxyPort, targets.httpOrigin, path, { 'x-proxy-hopper-tag': tag });

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squids = await startSquids(2);
    const acme = {
      name: 'acme',
      addresses: squids.map((squid) => squid.address()),
      user: DEFAULT_PROXY_USER,
      regionTag: 'eu',
    };
    hopper = await startHopper({
      server: { metrics: true, metricsHost: '127.0.0.1', metricsPort: 0 },
      proxyProviders: [providerDocument(acme)],
      ipPools: [poolDocument('p', [acme])],
      targets: [
        targetDocument('t', `^${escapeRegex(targets.httpOrigin)}/matched/`, 'p', {
          minRequestInterval: '0ms',
        }),
      ],
    });
    metricsUrl = `http://127.0.0.1:${hopper.running.metricsPort}/metrics`;
    // Warm-up: one request of each kind creates the series the bulk run will reuse.
    assert.equal((await unmatched(`/u/${marker}/warm`, FIXED_TAG)).status, 503);
    assert.equal((await unmatched(`/u/${marker}/long`, LONG_TAG)).status, 503);
    const matched = await client.via(hopper.proxyPort, targets.httpOrigin, `/matched/${marker}`, {
      'x-proxy-hopper-tag': FIXED_TAG,
    });
    assert.equal(matched.status, 200);
  });

  after(cleanupAll);

  test('distinct URLs add no series', async () => {
    const isWarm = (result: Scrape) =>
      sampleValue(result, 'proxy_hopper_requests_total', {
        target: 't',
        outcome: 'success',
        tag: FIXED_TAG,
      }) === 1;
    const before = await scrapeUntil(metricsUrl, isWarm);
    assert.ok(isWarm(before), 'the warm-up success was never counted');
    const baseline = seriesKeys(before);

    const paths = Array.from({ length: UNMATCHED_URLS }, (_, i) => `/u/${marker}/${i}?id=${i}`);
    await forEachLimited(paths, 16, async (path) => {
      assert.equal((await unmatched(path, FIXED_TAG)).status, 503);
    });
    const matchedPaths = Array.from({ length: MATCHED_URLS }, (_, i) => `/matched/${marker}/${i}`);
    await forEachLimited(matchedPaths, 4, async (path) => {
      const response = await client.via(hopper.proxyPort, targets.httpOrigin, path, {
        'x-proxy-hopper-tag': FIXED_TAG,
      });
      assert.equal(response.status, 200);
    });

    const successLabels = { target: 't', outcome: 'success', tag: FIXED_TAG };
    const afterRun = await scrapeUntil(
      metricsUrl,
      (result) =>
        sampleValue(result, 'proxy_hopper_requests_total', successLabels) === MATCHED_URLS + 1,
    );
    assert.equal(
      sampleValue(afterRun, 'proxy_hopper_requests_total', successLabels),
      MATCHED_URLS + 1,
    );
    assert.equal(
      sampleValue(afterRun, 'proxy_hopper_requests_total', {
        target: 'unmatched',
        outcome: 'no_match',
        tag: FIXED_TAG,
      }),
      UNMATCHED_URLS + 1,
    );
    const added = [...seriesKeys(afterRun)].filter((key) => !baseline.has(key));
    assert.deepEqual(added, []);
    const leaked = allLabelValues(afterRun).filter((value) => value.includes(marker));
    assert.deepEqual(leaked, []);
  });

  test('tag values stop at the cap and overflow to __other__', async () => {
    const tags = Array.from({ length: DISTINCT_TAGS }, (_, i) => `t-${String(i).padStart(4, '0')}`);
    await forEachLimited(tags, 16, async (tag, i) => {
      assert.equal((await unmatched(`/u/${marker}/tag/${i}`, tag)).status, 503);
    });

    // The warm-up used two tag values, so the cap leaves room for TAG_CAP - 2 of the new ones.
    const admitted = tags.slice(0, TAG_CAP - 2);
    const overflowCount = DISTINCT_TAGS - admitted.length;
    const unmatchedLabels = { target: 'unmatched', outcome: 'no_match', tag: OVERFLOW_LABEL };
    const result = await scrapeUntil(
      metricsUrl,
      (current) =>
        sampleValue(current, 'proxy_hopper_requests_total', unmatchedLabels) === overflowCount,
    );
    assert.equal(
      sampleValue(result, 'proxy_hopper_requests_total', unmatchedLabels),
      overflowCount,
    );
    assert.equal(
      sampleValue(result, 'proxy_hopper_responses_total', {
        target: 'unmatched',
        status_code: '503',
        tag: OVERFLOW_LABEL,
      }),
      overflowCount,
    );

    const expectedTags = [
      FIXED_TAG,
      'L'.repeat(MAX_TAG_LENGTH),
      ...admitted,
      OVERFLOW_LABEL,
    ].sort();
    for (const name of ['proxy_hopper_requests_total', 'proxy_hopper_responses_total']) {
      const seen = seriesWhere(result, name, 'target', 'unmatched').map((labels) => labels.tag);
      assert.equal(new Set(seen).size, TAG_CAP + 1, name);
      assert.deepEqual([...new Set(seen)].sort(), expectedTags, name);
    }
    for (const tag of admitted.slice(0, 3)) {
      assert.equal(
        sampleValue(result, 'proxy_hopper_requests_total', { ...unmatchedLabels, tag }),
        1,
      );
    }
    assert.equal(
      sampleValue(result, 'proxy_hopper_requests_total', {
        ...unmatchedLabels,
        tag: tags[TAG_CAP - 2] as string,
      }),
      undefined,
    );
    const leaked = allLabelValues(result).filter((value) => value.includes(marker));
    assert.deepEqual(leaked, []);
  });
});
