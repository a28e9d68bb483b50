import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { MemoryBackend } from '../../../src/backend/memory-backend.js';
import { EventBus } from '../../../src/observe/events.js';
import { createMetrics } from '../../../src/observe/metrics.js';

const DASHBOARD = new URL('../../../deploy/grafana/proxy-hopper.json', import.meta.url);
const METRIC_NAME = /\b(?:proxy_hopper|process|nodejs)_[a-z0-9_]+\b/g;

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

/** Collects every series name the registry exposes, with the suffixes a histogram adds. */
async function exportedNames(): Promise<Set<string>> {
  const metrics = createMetrics({
    events: new EventBus(),
    backend: new MemoryBackend(),
    targets: () => [],
    refreshIntervalMs: 0,
  });
  const names = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    }
  }
  metrics.stop();
  return names;
}

test('dashboard uses only exported metrics', async () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: Panel[];
    templating: { list: { definition?: string }[] };
  };
  const names = await exportedNames();
  const expressions = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ title: panel.title, expr: target.expr })),
  );
  for (const variable of dashboard.templating.list) {
    if (variable.definition) expressions.push({ title: 'variable', expr: variable.definition });
  }
  assert.ok(expressions.length >= 25, `only ${expressions.length} expressions`);

  const used = new Set<string>();
  for (const { title, expr } of expressions) {
    const found = expr.match(METRIC_NAME) ?? [];
    assert.ok(found.length > 0, `panel "${title}" names no metric: ${expr}`);
    for (const name of found) {
      assert.ok(names.has(name), `panel "${title}" uses ${name}, which is not exported`);
      used.add(name);
    }
  }
  assert.ok(used.has('proxy_hopper_requests_total'));
  assert.ok(used.has('proxy_hopper_request_duration_seconds_bucket'));
});
