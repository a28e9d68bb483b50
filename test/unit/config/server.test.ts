import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSizeBytes } from '../../../src/config/size.js';
import { issuesOf, MINIMAL_TARGETS, parse } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ph-config-server-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function withServer(lines: string): string {
  return `server:\n${lines
    .trim()
    .split('\n')
    .map((line) => `  ${line.trim()}`)
    .join('\n')}\n${MINIMAL_TARGETS}`;
}

describe('server block', () => {
  test('defaults', () => {
    assert.deepEqual(parse(MINIMAL_TARGETS).server, {
      host: '0.0.0.0',
      port: 8080,
      logLevel: 'INFO',
      logFormat: 'text',
      logFile: null,
      backend: 'memory',
      redisUrl: 'redis://localhost:6379/0',
      redisKeyPrefix: 'ph',
      metrics: false,
      metricsHost: '0.0.0.0',
      metricsPort: 9090,
      admin: false,
      adminHost: '0.0.0.0',
      adminPort: 8081,
      probe: true,
      probeIntervalMs: 60_000,
      probeTimeoutMs: 10_000,
      probeUrls: [],
      probeQuarantine: false,
      connectTimeoutMs: 10_000,
      responseTimeoutMs: 30_000,
      proxyReadTimeoutMs: 60_000,
      retryBodyLimitBytes: 10_485_760,
      caFile: null,
      leaseTtlMs: 30_000,
      debugBackend: false,
      debugQuarantine: false,
      debugProbes: false,
    });
  });

  test('port 0 is allowed', () => {
    assert.equal(parse(withServer('port: 0')).server.port, 0);
  });

  test('log level is case-insensitive', () => {
    assert.equal(parse(withServer('logLevel: trace')).server.logLevel, 'TRACE');
    assert.equal(parse(withServer('logLevel: warn')).server.logLevel, 'WARNING');
  });

  test('unknown log level falls back to INFO with a warning', () => {
    const config = parse(withServer('logLevel: verbose'));
    assert.equal(config.server.logLevel, 'INFO');
    assert.deepEqual(config.warnings, [
      "Unknown log level 'verbose', so INFO is used. Valid levels: TRACE, DEBUG, INFO, WARNING, ERROR",
    ]);
  });

  test('timeouts and lease TTL accept durations', () => {
    const server = parse(
      withServer('connectTimeout: 2s\nresponseTimeout: 1m\nproxyReadTimeout: 90\nleaseTtl: 1500ms'),
    ).server;
    assert.equal(server.connectTimeoutMs, 2000);
    assert.equal(server.responseTimeoutMs, 60_000);
    assert.equal(server.proxyReadTimeoutMs, 90_000);
    assert.equal(server.leaseTtlMs, 1500);
  });

  test('zero timeout is rejected', () => {
    assert.deepEqual(issuesOf(withServer('connectTimeout: 0')), [
      'server.connectTimeout: must be greater than zero',
    ]);
  });

  test('retryBodyLimit units', () => {
    assert.equal(parse(withServer('retryBodyLimit: 512KiB')).server.retryBodyLimitBytes, 524_288);
    assert.equal(parse(withServer('retryBodyLimit: 10MiB')).server.retryBodyLimitBytes, 10_485_760);
    assert.equal(parse(withServer('retryBodyLimit: 1MB')).server.retryBodyLimitBytes, 1_000_000);
    assert.equal(parse(withServer('retryBodyLimit: 2048')).server.retryBodyLimitBytes, 2048);
    assert.equal(parse(withServer('retryBodyLimit: 0')).server.retryBodyLimitBytes, 0);
  });

  test('sizes', () => {
    assert.equal(parseSizeBytes('1.5KiB'), 1536);
    assert.equal(parseSizeBytes('1 GiB'), 1024 ** 3);
    assert.equal(parseSizeBytes('3kb'), 3000);
    assert.equal(parseSizeBytes('100B'), 100);
    assert.deepEqual(parseSizeBytes('10 parsecs'), {
      error:
        "Invalid size '10 parsecs': use a number of bytes or a string such as '512KiB', '10MiB' or '1MB'",
    });
    assert.deepEqual(parseSizeBytes(-1), {
      error: "Invalid size '-1': must be a number of bytes >= 0",
    });
  });

  test('caFile must exist and hold a PEM certificate', () => {
    const good = join(dir, 'ca.pem');
    writeFileSync(good, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const bad = join(dir, 'not-pem.txt');
    writeFileSync(bad, 'hello');
    assert.equal(parse(withServer(`caFile: '${good}'`)).server.caFile, good);
    assert.deepEqual(issuesOf(withServer(`caFile: '${bad}'`)), [
      `server.caFile: CA file '${bad}' contains no PEM certificate`,
    ]);
    const missing = join(dir, 'missing.pem');
    assert.deepEqual(issuesOf(withServer(`caFile: '${missing}'`)), [
      `server.caFile: CA file '${missing}' not found`,
    ]);
  });

  test('invalid values name the key and value', () => {
    const yaml = withServer(`
      port: 70000
      metricsPort: abc
      logFormat: xml
      backend: etcd
      redisUrl: 'http://127.0.0.1:6379'
      metrics: maybe
      probeInterval: 5x
      probeUrls: ['ftp://127.0.0.1/']
      host: ''
    `);
    assert.deepEqual(issuesOf(yaml), [
      'server.host: must not be empty',
      'server.port: Invalid value 70000: must be from 0 to 65535',
      "server.logFormat: Invalid value 'xml': use one of 'text', 'json'",
      "server.backend: Invalid value 'etcd': use one of 'memory', 'redis'",
      "server.redisUrl: Invalid Redis URL 'http://127.0.0.1:6379': expected redis://, rediss://, redis+sentinel://host:port,.../<master name> or redis+cluster://host:port,...",
      "server.metrics: Invalid boolean 'maybe': use true or false",
      "server.metricsPort: Invalid integer 'abc'",
      "server.probeInterval: Invalid duration '5x': use seconds as a number or a string such as '250ms', '2s', '5m' or '1h'",
      "server.probeUrls: Invalid probe URL 'ftp://127.0.0.1/': expected an absolute URL starting with http:// or https://",
    ]);
  });

  test('unknown server key suggests close names', () => {
    assert.deepEqual(issuesOf(withServer('metricPort: 1')), [
      "server.metricPort: Unknown key 'metricPort'. Did you mean 'metricsPort'?",
    ]);
    assert.deepEqual(
      issuesOf(withServer('zzzzzzzzzzzzzzzzzzz: 1'))[0]?.startsWith(
        "server.zzzzzzzzzzzzzzzzzzz: Unknown key 'zzzzzzzzzzzzzzzzzzz'. Valid keys: 'host', 'port', 'logLevel'",
      ),
      true,
    );
  });

  test('known but unsupported server keys warn', () => {
    const config = parse(withServer("prometheusUrl: 'http://127.0.0.1:9090'"));
    assert.deepEqual(config.warnings, [
      'server.prometheusUrl is not supported by this version and is ignored',
    ]);
  });

  test('unknown top-level key warns', () => {
    const config = parse(`extra: 1\n${MINIMAL_TARGETS}`);
    assert.deepEqual(config.warnings, ["Ignoring unknown top-level key 'extra'"]);
  });
});

describe('redisUrl forms', () => {
  for (const url of [
    'redis://:pw@127.0.0.1:6379/0',
    'rediss://127.0.0.1:6380',
    'redis+sentinel://:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster',
    'rediss+cluster://127.0.0.1:7000,127.0.0.1:7001',
  ]) {
    test(`accepts ${url.split('://')[0]}`, () => {
      assert.equal(parse(withServer(`redisUrl: "${url}"`)).server.redisUrl, url);
    });
  }

  test('error hides the password', () => {
    const err = issuesOf(withServer('redisUrl: "mongodb://user:topsecret@127.0.0.1"')).join('\n');
    assert.match(err, /mongodb:\/\/user:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(err, /topsecret/);
  });
});
