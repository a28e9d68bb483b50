import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationMs } from '../../../src/config/duration.js';

describe('parseDurationMs', () => {
  const valid: [unknown, number][] = [
    [2, 2000],
    [0, 0],
    [0.5, 500],
    ['3', 3000],
    ['1.5', 1500],
    ['250ms', 250],
    ['0.5ms', 0.5],
    ['2s', 2000],
    ['0.5s', 500],
    ['.5s', 500],
    ['5m', 300_000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
    ['0.25h', 900_000],
    ['  2s  ', 2000],
    ['10 s', 10_000],
    ['200MS', 200],
  ];
  for (const [input, expectedMs] of valid) {
    test(`converts ${JSON.stringify(input)}`, () => {
      assert.equal(parseDurationMs(input), expectedMs);
    });
  }

  test('ms is not read as minutes', () => {
    assert.equal(parseDurationMs('500ms'), 500);
    assert.equal(parseDurationMs('500m'), 30_000_000);
  });

  const hint = "use seconds as a number or a string such as '250ms', '2s', '5m' or '1h'";
  const invalid: [unknown, string][] = [
    ['-1s', "Invalid duration '-1s': must not be negative"],
    [-2, "Invalid duration '-2': must not be negative"],
    ['-250ms', "Invalid duration '-250ms': must not be negative"],
    ['5x', `Invalid duration '5x': ${hint}`],
    ['', `Invalid duration '': ${hint}`],
    ['ms', `Invalid duration 'ms': ${hint}`],
    ['1d', `Invalid duration '1d': ${hint}`],
    ['1m30s', `Invalid duration '1m30s': ${hint}`],
    ['abc', `Invalid duration 'abc': ${hint}`],
    [true, `Invalid duration 'true': ${hint}`],
    [null, `Invalid duration null: ${hint}`],
    [[1], `Invalid duration of type list: ${hint}`],
    [Number.NaN, `Invalid duration 'NaN': ${hint}`],
    [Number.POSITIVE_INFINITY, `Invalid duration 'Infinity': ${hint}`],
  ];
  for (const [input, message] of invalid) {
    test(`rejects ${JSON.stringify(input) ?? String(input)}`, () => {
      assert.deepEqual(parseDurationMs(input), { error: message });
    });
  }
});
