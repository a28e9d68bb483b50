import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { TargetConfig } from '../../../src/config/types.js';
import {
  BoundedLabel,
  ConfiguredLabels,
  OVERFLOW_LABEL,
} from '../../../src/observe/label-guard.js';
import { ProbeHealth } from '../../../src/observe/probe-health.js';
import { ip, target } from '../../helpers/observe/fixtures.js';

describe('bounded label', () => {
  test('truncates by code point', () => {
    const label = new BoundedLabel(10, 3);
    assert.equal(label.value('ab😀cd'), 'ab😀');
    assert.equal(label.value('abc'), 'abc');
  });

  test('caps distinct values', () => {
    const label = new BoundedLabel(2, 64);
    assert.equal(label.value('a'), 'a');
    assert.equal(label.value('b'), 'b');
    assert.equal(label.value('c'), OVERFLOW_LABEL);
    assert.equal(label.value('a'), 'a');
    assert.equal(label.size, 2);
  });
});

describe('configured labels', () => {
  test('follows a new targets array', () => {
    let targets: TargetConfig[] = [target('shop', [ip('127.0.0.2:1'), ip('127.0.0.3:1')])];
    let changes = 0;
    const labels = new ConfiguredLabels(
      () => targets,
      () => (changes += 1),
    );
    assert.equal(labels.hasIp('shop', '127.0.0.2:1'), true);
    assert.equal(labels.hasIp('shop', '10.0.0.1:1'), false);
    assert.equal(labels.responseTarget('h1.nomatch.test'), 'unmatched');
    assert.equal(changes, 1);

    targets = [target('shop', [ip('127.0.0.2:1'), ip('127.0.0.3:1')])];
    assert.equal(labels.hasTarget('shop'), true);
    assert.equal(changes, 1, 'same content must not count as a change');

    targets = [target('api', [ip('127.0.0.3:1')])];
    assert.equal(labels.hasTarget('shop'), false);
    assert.equal(labels.hasAddress('127.0.0.2:1'), false);
    assert.equal(labels.hasAddress('127.0.0.3:1'), true);
    assert.equal(changes, 2);
  });
});

describe('probe health', () => {
  test('records transitions', () => {
    const health = new ProbeHealth(true);
    assert.equal(health.record('a', true), false);
    assert.equal(health.record('a', false), true);
    assert.equal(health.record('a', false), false);
    assert.equal(health.isReachable('a'), false);
    assert.equal(health.record('a', true), true);
    assert.equal(health.isReachable('a'), true);
  });

  test('avoid set adds failing addresses', () => {
    const health = new ProbeHealth(true);
    const tried = new Set(['t']);
    assert.equal(health.avoidSet(tried), tried);
    health.record('a', false);
    assert.deepEqual([...health.avoidSet(tried)].sort(), ['a', 't']);
    health.retain(new Set(['b']));
    assert.equal(health.avoidSet(tried), tried);
  });

  test('quarantine off never avoids', () => {
    const health = new ProbeHealth(false);
    health.record('a', false);
    const tried = new Set<string>();
    assert.equal(health.avoidSet(tried), tried);
    assert.equal(health.isReachable('a'), false);
  });
});
