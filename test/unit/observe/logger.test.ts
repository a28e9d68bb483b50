import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import type { LogFormat, LogLevel } from '../../../src/config/types.js';
import { createLogger, formatLocalTimestamp } from '../../../src/observe/logger.js';
import { redactUrl } from '../../../src/observe/redact.js';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

function capture(logLevel: LogLevel = 'TRACE', logFormat: LogFormat = 'json') {
  const lines: string[] = [];
  const destination = { write: (line: string) => void lines.push(line) };
  const logger = createLogger({ logLevel, logFormat, logFile: null }, destination);
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('json format', () => {
  test('keys are timestamp level logger message', () => {
    const { logger, records } = capture();
    logger.info('hello');
    const [record] = records();
    assert.deepEqual(Object.keys(record ?? {}).sort(), ['level', 'logger', 'message', 'timestamp']);
    assert.equal(record?.level, 'INFO');
    assert.equal(record?.logger, 'proxy_hopper');
    assert.equal(record?.message, 'hello');
    assert.match(String(record?.timestamp), TIMESTAMP);
  });

  test('timestamp is local time without zone', () => {
    const date = new Date(2026, 0, 2, 3, 4, 5, 678);
    assert.equal(formatLocalTimestamp(date), '2026-01-02T03:04:05');
  });

  test('level names match the config names', () => {
    const { logger, records } = capture('TRACE');
    logger.trace('t');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    assert.deepEqual(
      records().map((record) => record.level),
      ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR'],
    );
  });

  test('WARNING threshold drops info and debug', () => {
    const { logger, records } = capture('WARNING');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    assert.deepEqual(
      records().map((record) => record.message),
      ['w'],
    );
  });

  test('child logger name and fields', () => {
    const { logger, records } = capture();
    const child = logger.child({ logger: 'proxy_hopper.handlers' }).child({ requestId: 'r-1' });
    child.info({ target: 'shop', attempts: 2 }, 'request finished');
    const [record] = records();
    assert.equal(record?.logger, 'proxy_hopper.handlers');
    assert.equal(record?.requestId, 'r-1');
    assert.equal(record?.target, 'shop');
    assert.equal(record?.attempts, 2);
    assert.equal(record?.message, 'request finished');
  });

  test('child name written once', () => {
    const { logger, lines } = capture();
    logger.child({ logger: 'proxy_hopper.pool' }).info('x');
    assert.equal(lines[0]?.split('"logger"').length, 2);
  });

  test('errors go under err with type message stack', () => {
    const { logger, records } = capture();
    const err = Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' });
    logger.error({ err }, 'attempt failed');
    const logged = records()[0]?.err as Record<string, unknown>;
    assert.equal(logged.type, 'Error');
    assert.equal(logged.message, 'connect refused');
    assert.equal(logged.code, 'ECONNREFUSED');
    assert.match(String(logged.stack), /^Error: connect refused\n/);
  });

  test('logFile receives the lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ph-log-'));
    try {
      const file = join(dir, 'nested', 'proxy-hopper.log');
      const logger = createLogger({ logLevel: 'INFO', logFormat: 'json', logFile: file });
      logger.info({ n: 1 }, 'to file');
      logger.flush();
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(lines.length, 1);
      const record = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
      assert.equal(record.message, 'to file');
      assert.equal(record.n, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('redaction', () => {
  const SECRETS = [
    'sekret-password-1',
    'Bearer tok-abc-123',
    'Basic dXNlcjpwYXNz',
    'api-key-value-9',
    'client-secret-7',
    'jwt-secret-5',
    'hash-$2b$10$xyz',
    'deep-token-4',
    'url-pass-8',
    'query-token-6',
  ];

  function logSecrets(format: LogFormat): string[] {
    const { logger, lines } = capture('TRACE', format);
    logger.info(
      {
        password: 'sekret-password-1',
        headers: {
          authorization: 'Bearer tok-abc-123',
          'proxy-authorization': 'Basic dXNlcjpwYXNz',
          'X-Proxy-Hopper-Auth': 'Bearer tok-abc-123',
        },
        auth: { apiKeys: [{ name: 'ci', key: 'api-key-value-9' }] },
        oidc: { provider: { clientSecret: 'client-secret-7' } },
        config: {
          auth: { jwtSecret: 'jwt-secret-5', users: [{ passwordHash: 'hash-$2b$10$xyz' }] },
        },
        a: { b: { c: { token: 'deep-token-4' } } },
        apiKey: 'api-key-value-9',
      },
      'config loaded',
    );
    logger.warn(
      { upstream: redactUrl('http://alice:url-pass-8@127.0.0.1:3128') },
      'upstream http://bob:url-pass-8@127.0.0.1:3128/ failed for /events?token=query-token-6',
    );
    logger.error({ err: new Error('proxy http://carol:url-pass-8@10.0.0.1:8080 refused') }, 'boom');
    return lines;
  }

  for (const format of ['json', 'text'] as const) {
    test(`no secret in ${format} output`, () => {
      const lines = logSecrets(format);
      assert.equal(lines.length, 3);
      for (const secret of SECRETS) {
        for (const line of lines) assert.ok(!line.includes(secret), `${secret} leaked: ${line}`);
      }
    });
  }

  test('censored fields keep their keys', () => {
    const { logger, records } = capture();
    logger.info({ headers: { authorization: 'Bearer x' }, password: 'p' }, 'm');
    const record = records()[0] ?? {};
    assert.equal(record.password, '[REDACTED]');
    assert.deepEqual(record.headers, { authorization: '[REDACTED]' });
  });

  test('redactUrl keeps host path and other params', () => {
    assert.equal(
      redactUrl('http://user:pw@127.0.0.1:3128/a?x=1&token=t0k&y=2'),
      'http://[REDACTED]@127.0.0.1:3128/a?x=1&token=[REDACTED]&y=2',
    );
    assert.equal(redactUrl('https://example.test/p@q'), 'https://example.test/p@q');
    assert.equal(redactUrl('no url here'), 'no url here');
    assert.equal(
      redactUrl('see redis://:pw@127.0.0.1:6379/0 now'),
      'see redis://[REDACTED]@127.0.0.1:6379/0 now',
    );
  });
});

describe('text format', () => {
  const LINE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}) \[(.{8})\] ([\w.]+): (.*)\n$/;

  test('line shape and padded level', () => {
    const { logger, lines } = capture('TRACE', 'text');
    logger
      .child({ logger: 'proxy_hopper.pool' })
      .warn({ target: 'shop', failures: 3 }, 'ip quarantined');
    assert.equal(lines.length, 1);
    const match = LINE.exec(lines[0] ?? '');
    assert.ok(match, `unexpected line: ${lines[0]}`);
    assert.equal(match[2], 'WARNING ');
    assert.equal(match[3], 'proxy_hopper.pool');
    assert.equal(match[4], 'ip quarantined target=shop failures=3');
  });

  test('values with spaces are quoted', () => {
    const { logger, lines } = capture('INFO', 'text');
    logger.info({ reason: 'connect refused', nested: { a: 1 } }, 'x');
    assert.match(
      lines[0] ?? '',
      /\[INFO {4}\] proxy_hopper: x reason="connect refused" nested=\{"a":1\}\n$/,
    );
  });

  test('error summary and stack on ERROR only', () => {
    const { logger, lines } = capture('INFO', 'text');
    logger.warn({ err: new TypeError('bad value') }, 'w');
    logger.error({ err: new TypeError('worse value') }, 'e');
    assert.match(lines[0] ?? '', / err="TypeError: bad value"\n$/);
    assert.match(lines[1] ?? '', / err="TypeError: worse value" stack="TypeError: worse value\\n/);
    assert.equal(lines.join('').split('\n').length, 3);
  });
});
