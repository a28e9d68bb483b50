/**
 * parseConfig under hostile input: every field of a valid document replaced by values of the
 * wrong type or range, prototype keys, deep nesting and YAML resource bombs. Whatever the input,
 * the loader must either return a Config or throw a ConfigError. Any other exception reaches
 * the caller without the path of the bad value.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/index.js';

const VALID = {
  server: {
    host: '127.0.0.1',
    port: 0,
    logLevel: 'INFO',
    responseTimeout: '5s',
    retryBodyLimit: '1MiB',
    probeUrls: ['http://127.0.0.1:1/'],
  },
  auth: { enabled: false },
  proxyProviders: [
    {
      name: 's',
      ipList: ['127.0.0.1:3128', 'proxy.test:8080'],
      auth: { type: 'basic', username: 'u', password: 'p' },
      regionTag: 'eu',
    },
  ],
  ipPools: [{ name: 'p', ipRequests: [{ provider: 's', count: 2 }] }],
  targets: [
    {
      name: 't',
      regex: '.*',
      ipPool: 'p',
      minRequestInterval: '1s',
      maxQueueWait: '5s',
      numRetries: 2,
      ipFailuresUntilQuarantine: 3,
      quarantineTime: '30s',
      minActiveIps: 1,
      retryOnStatus: [429, 503],
    },
  ],
};

const ODD_VALUES: unknown[] = [
  null,
  [],
  {},
  [[]],
  0,
  -1,
  1.5,
  1e308,
  '',
  'x'.repeat(100_000),
  true,
  '-5s',
  '1e999s',
  'NaN',
  '9999999999999999999999',
  ['a', 1, null],
  '\u0000',
  '(?P<x',
];

/** Runs parseConfig and returns the name of anything thrown that is not a ConfigError. */
function unexpectedError(text: string): string | null {
  try {
    parseConfig(text, { env: {}, source: null });
    return null;
  } catch (err) {
    if (err instanceof Error && err.name === 'ConfigError') return null;
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
}

function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const found = [prefix];
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      found.push(...paths(child, [...prefix, Array.isArray(value) ? Number(key) : key]));
    }
  }
  return found;
}

function withValue(path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(VALID) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1) as string | number] = value;
  return copy;
}

describe('parseConfig under hostile input', () => {
  test('odd field values', () => {
    const failures: string[] = [];
    for (const path of paths(VALID)) {
      for (const value of ODD_VALUES) {
        const problem = unexpectedError(stringify(withValue(path, value)));
        if (problem !== null)
          failures.push(`${path.join('.')} = ${JSON.stringify(value)}: ${problem}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  test('prototype keys pollute nothing', () => {
    for (const text of [
      '__proto__: {polluted: 1}\n',
      'server:\n  __proto__: {polluted: 1}\n',
      'targets:\n  - {name: t, regex: ".*", ipList: ["127.0.0.1:1"], __proto__: {polluted: 1}}\n',
    ]) {
      assert.equal(unexpectedError(text), null);
    }
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  });

  test('deep nesting', () => {
    assert.equal(unexpectedError(`x-deep: ${'['.repeat(5000)}${']'.repeat(5000)}\n`), null);
    assert.equal(unexpectedError(`server: ${'{a: '.repeat(3000)}1${'}'.repeat(3000)}\n`), null);
  });

  test('alias bomb is a ConfigError', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      '',
    ].join('\n');
    assert.equal(unexpectedError(bomb), null);
  });

  test('odd environment values', () => {
    const failures: string[] = [];
    const names = [
      'PROXY_HOPPER_PORT',
      'PROXY_HOPPER_LOG_LEVEL',
      'PROXY_HOPPER_PROBE_URLS',
      'PROXY_HOPPER_RESPONSE_TIMEOUT',
      'PROXY_HOPPER_METRICS',
      'PROXY_HOPPER_BACKEND',
      'PROXY_HOPPER_RETRY_BODY_LIMIT',
      'PROXY_HOPPER_AUTH_ENABLED',
      'PROXY_HOPPER_AUTH_JWT_EXPIRY_MINUTES',
    ];
    for (const name of names) {
      for (const value of ['tcp://10.0.0.1:8080', '-1', 'NaN', '1e999', ',,,', '\u0000', ' ']) {
        try {
          parseConfig(stringify(VALID), { env: { [name]: value }, source: null });
        } catch (err) {
          if (!(err instanceof Error && err.name === 'ConfigError'))
            failures.push(`${name}=${value}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });
});
