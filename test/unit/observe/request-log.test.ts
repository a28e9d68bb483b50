import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { LogLevel } from '../../../src/config/types.js';
import { EventBus } from '../../../src/observe/events.js';
import { createLogger } from '../../../src/observe/logger.js';
import { createRepeatLimiter } from '../../../src/observe/repeat-limiter.js';
import { subscribeRequestLog } from '../../../src/observe/request-log.js';

const IP = { target: 'shop', address: '127.0.0.1:3128', provider: 'acme', region: 'eu' };

function setup(level: LogLevel, clock = { now: 0 }) {
  const lines: string[] = [];
  const logger = createLogger(
    { logLevel: level, logFormat: 'json', logFile: null },
    { write: (line: string) => void lines.push(line) },
  );
  const events = new EventBus();
  const unsubscribe = subscribeRequestLog(events, logger, {
    repeatIntervalMs: 1000,
    nowMs: () => clock.now,
  });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { events, records, unsubscribe, clock };
}

function requestEnd(requestId: string) {
  return {
    requestId,
    method: 'GET',
    url: 'http://u:p@shop.test/item?token=abc',
    target: 'shop',
    tag: '',
    status: 502,
    errorCode: 'connection_error',
    attempts: 3,
    address: '127.0.0.1:3128',
    durationMs: 41,
    aborted: false,
  };
}

describe('request log', () => {
  test('request_end is one DEBUG line', () => {
    const { events, records } = setup('DEBUG');
    events.emit('request_end', requestEnd('r-1'));
    const [record, ...rest] = records();
    assert.equal(rest.length, 0);
    assert.equal(record?.level, 'DEBUG');
    assert.equal(record?.logger, 'proxy_hopper.requests');
    assert.equal(record?.message, 'request finished');
    assert.equal(record?.requestId, 'r-1');
    assert.equal(record?.target, 'shop');
    assert.equal(record?.address, '127.0.0.1:3128');
    assert.equal(record?.attempts, 3);
    assert.equal(record?.status, 502);
    assert.equal(record?.durationMs, 41);
    assert.equal(record?.errorCode, 'connection_error');
    assert.equal(record?.url, 'http://[REDACTED]@shop.test/item?token=[REDACTED]');
  });

  test('request_end silent at INFO', () => {
    const { events, records } = setup('INFO');
    events.emit('request_end', requestEnd('r-1'));
    assert.equal(records().length, 0);
  });

  test('warnings carry the request id', () => {
    const { events, records } = setup('INFO');
    events.emit('retry', { ...IP, requestId: 'r-2', attempt: 1, reason: 'status 503' });
    events.emit('retry_exhausted', {
      requestId: 'r-2',
      target: 'shop',
      attempts: 3,
      lastError: 'x',
    });
    events.emit('quarantine', { ...IP, failures: 3, quarantineMs: 60_000 });
    events.emit('quarantine_floor', { ...IP, failures: 3, activeIps: 1, minActiveIps: 1 });
    events.emit('quarantine_release', IP);
    const got = records().map((record) => [record.level, record.message, record.requestId]);
    assert.deepEqual(got, [
      ['WARNING', 'retrying on another ip', 'r-2'],
      ['WARNING', 'retries exhausted', 'r-2'],
      ['WARNING', 'ip quarantined', undefined],
      [
        'WARNING',
        'quarantine skipped to keep minActiveIps in rotation: the failures look like the target is down, not the IPs',
        undefined,
      ],
      ['INFO', 'ip released from quarantine', undefined],
    ]);
    assert.equal(records()[2]?.logger, 'proxy_hopper.pool');
    assert.equal(records()[2]?.address, '127.0.0.1:3128');
  });

  test('backend errors are rate-limited', () => {
    const { events, records, clock } = setup('INFO');
    const err = new Error('connection is closed');
    for (let i = 0; i < 5; i += 1) events.emit('backend_error', { operation: 'acquire', err });
    clock.now = 1500;
    events.emit('backend_error', { operation: 'acquire', err });
    const got = records();
    assert.equal(got.length, 2);
    assert.equal(got[0]?.repeated, undefined);
    assert.equal(got[1]?.repeated, 4);
    assert.equal((got[1]?.err as Record<string, unknown>).message, 'connection is closed');
  });

  test('unsubscribe stops logging', () => {
    const { events, records, unsubscribe } = setup('INFO');
    unsubscribe();
    events.emit('quarantine_release', IP);
    assert.equal(records().length, 0);
  });
});

describe('repeat limiter', () => {
  test('first then once per interval with count', () => {
    let now = 0;
    const limiter = createRepeatLimiter({ intervalMs: 100, nowMs: () => now });
    const written: [string, number][] = [];
    const hit = (key: string) => limiter.run(key, (repeated) => written.push([key, repeated]));
    hit('a');
    hit('a');
    hit('b');
    now = 50;
    hit('a');
    now = 100;
    hit('a');
    hit('a');
    now = 250;
    hit('a');
    assert.deepEqual(written, [
      ['a', 0],
      ['b', 0],
      ['a', 2],
      ['a', 1],
    ]);
  });

  test('forgets the oldest key past maxKeys', () => {
    const limiter = createRepeatLimiter({ intervalMs: 1000, maxKeys: 2, nowMs: () => 0 });
    const written: string[] = [];
    for (const key of ['a', 'b', 'c', 'a']) limiter.run(key, () => written.push(key));
    assert.deepEqual(written, ['a', 'b', 'c', 'a']);
  });
});
