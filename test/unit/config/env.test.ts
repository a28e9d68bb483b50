import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { envName } from '../../../src/config/env.js';
import { issuesOf, MINIMAL_TARGETS, parse } from './helpers.js';

const WITH_PORT = `
server:
  port: 9001
${MINIMAL_TARGETS}`;

describe('server env priority', () => {
  test('env var names', () => {
    assert.equal(envName('port'), 'PROXY_HOPPER_PORT');
    assert.equal(envName('logLevel'), 'PROXY_HOPPER_LOG_LEVEL');
    assert.equal(envName('redisUrl'), 'PROXY_HOPPER_REDIS_URL');
    assert.equal(envName('probeUrls'), 'PROXY_HOPPER_PROBE_URLS');
  });

  test('default when nothing is set', () => {
    assert.equal(parse(MINIMAL_TARGETS).server.port, 8080);
  });

  test('env beats default', () => {
    assert.equal(parse(MINIMAL_TARGETS, { env: { PROXY_HOPPER_PORT: '9002' } }).server.port, 9002);
  });

  test('YAML beats env', () => {
    assert.equal(parse(WITH_PORT, { env: { PROXY_HOPPER_PORT: '9002' } }).server.port, 9001);
  });

  test('CLI override beats YAML and env', () => {
    const config = parse(WITH_PORT, {
      env: { PROXY_HOPPER_PORT: '9002' },
      overrides: { port: 9003 },
    });
    assert.equal(config.server.port, 9003);
  });

  test('undefined override is ignored', () => {
    assert.equal(parse(WITH_PORT, { overrides: { port: undefined } }).server.port, 9001);
  });

  test('env names are case-insensitive', () => {
    assert.equal(parse(MINIMAL_TARGETS, { env: { proxy_hopper_port: '9004' } }).server.port, 9004);
  });

  test('empty env value is ignored', () => {
    const config = parse(MINIMAL_TARGETS, {
      env: { PROXY_HOPPER_PORT: '', PROXY_HOPPER_BACKEND: '  ' },
    });
    assert.equal(config.server.port, 8080);
    assert.equal(config.server.backend, 'memory');
  });

  test('every env kind converts', () => {
    const config = parse(MINIMAL_TARGETS, {
      env: {
        PROXY_HOPPER_HOST: '127.0.0.2',
        PROXY_HOPPER_LOG_LEVEL: 'warning',
        PROXY_HOPPER_LOG_FORMAT: 'JSON',
        PROXY_HOPPER_BACKEND: 'redis',
        PROXY_HOPPER_REDIS_URL: 'redis://127.0.0.1:16379/2',
        PROXY_HOPPER_METRICS: 'yes',
        PROXY_HOPPER_ADMIN: 'on',
        PROXY_HOPPER_PROBE: '0',
        PROXY_HOPPER_PROBE_INTERVAL: '2.5',
        PROXY_HOPPER_PROBE_TIMEOUT: '500ms',
        PROXY_HOPPER_PROBE_URLS: 'http://127.0.0.1:1/a, http://127.0.0.1:2/b',
        PROXY_HOPPER_RETRY_BODY_LIMIT: '1MB',
        PROXY_HOPPER_LEASE_TTL: '1m',
        PROXY_HOPPER_DEBUG_BACKEND: 'true',
      },
    });

    assert.equal(config.server.host, '127.0.0.2');
    assert.equal(config.server.logLevel, 'WARNING');
    assert.equal(config.server.logFormat, 'json');
    assert.equal(config.server.backend, 'redis');
    assert.equal(config.server.redisUrl, 'redis://127.0.0.1:16379/2');
    assert.equal(config.server.metrics, true);
    assert.equal(config.server.admin, true);
    assert.equal(config.server.probe, false);

    assert.equal(config.server.probeIntervalMs, 2500);
    assert.equal(config.server.probeTimeoutMs, 500);
    assert.deepEqual(config.server.probeUrls, ['http://127.0.0.1:1/a', 'http://127.0.0.1:2/b']);
    assert.equal(config.server.retryBodyLimitBytes, 1_000_000);
    assert.equal(config.server.leaseTtlMs, 60_000);
    assert.equal(config.server.debugBackend, true);
    assert.deepEqual(config.warnings, []);
  });

  test('service-link value for a numeric setting is ignored with a warning', () => {
    const config = parse(MINIMAL_TARGETS, {
      env: {
        PROXY_HOPPER_PORT: 'tcp://10.0.0.1:8080',
        PROXY_HOPPER_METRICS_PORT: 'tcp://10.0.0.1:9090',
      },
    });
    assert.equal(config.server.port, 8080);
    assert.equal(config.server.metricsPort, 9090);
    assert.deepEqual(config.warnings, [
      "Ignoring PROXY_HOPPER_PORT='tcp://10.0.0.1:8080': not a valid value for server.port. Kubernetes service links set such variables; set enableServiceLinks: false on the pod",
      "Ignoring PROXY_HOPPER_METRICS_PORT='tcp://10.0.0.1:9090': not a valid value for server.metricsPort. Kubernetes service links set such variables; set enableServiceLinks: false on the pod",
    ]);
  });

  test('invalid non-numeric env value is an error naming the variable', () => {
    assert.deepEqual(issuesOf(MINIMAL_TARGETS, { env: { PROXY_HOPPER_BACKEND: 'etcd' } }), [
      "PROXY_HOPPER_BACKEND: Invalid value 'etcd': use one of 'memory', 'redis'",
    ]);
  });
});

describe('auth env vars', () => {
  const HASH = '$2b$12$' + 'a'.repeat(53);
  const OTHER_HASH = '$2b$12$' + 'b'.repeat(53);
  const AUTH = `
auth:
  enabled: false
  jwtSecret: from-yaml
  jwtExpiryMinutes: 60
  admin:
    username: root
    passwordHash: '${HASH}'
${MINIMAL_TARGETS}`;

  test('auth env vars beat YAML', () => {
    const config = parse(AUTH, {
      env: {
        PROXY_HOPPER_AUTH_ENABLED: 'true',
        PROXY_HOPPER_AUTH_JWT_SECRET: 'from-env',
        PROXY_HOPPER_AUTH_JWT_EXPIRY_MINUTES: '5',
        PROXY_HOPPER_AUTH_ADMIN_PASSWORD_HASH: OTHER_HASH,
      },
    });
    assert.equal(config.auth.enabled, true);
    assert.equal(config.auth.jwtSecret, 'from-env');
    assert.equal(config.auth.jwtExpiryMinutes, 5);
    assert.deepEqual(config.auth.users, [
      { username: 'root', passwordHash: OTHER_HASH, role: 'admin' },
    ]);
  });

  test('admin hash env without auth.admin is ignored with a warning', () => {
    const config = parse(MINIMAL_TARGETS, { env: { PROXY_HOPPER_AUTH_ADMIN_PASSWORD_HASH: HASH } });
    assert.deepEqual(config.auth.users, []);
    assert.deepEqual(config.warnings, [
      'Ignoring PROXY_HOPPER_AUTH_ADMIN_PASSWORD_HASH: the config has no auth.admin block',
    ]);
  });

  test('OIDC issuer and audience from env create a provider', () => {
    const config = parse(MINIMAL_TARGETS, {
      env: {
        PROXY_HOPPER_AUTH_OIDC_ISSUER: 'https://idp.test/realms/r1',
        PROXY_HOPPER_AUTH_OIDC_AUDIENCE: 'ph,account',
      },
    });
    assert.deepEqual(config.auth.oidc, [
      {
        name: 'https://idp.test/realms/r1',
        issuer: 'https://idp.test/realms/r1',
        audience: ['ph', 'account'],
        rolesClaim: 'proxy_hopper_role',
        clockToleranceSec: 60,
        jwksCacheTtlMs: 300_000,
        clientId: null,
        clientSecret: null,
      },
    ]);
  });

  test('OIDC env replaces the first configured provider fields', () => {
    const yaml = `
auth:
  oidc:
    - {issuer: 'https://a.test/', audience: x, rolesClaim: groups}
    - {issuer: 'https://b.test/', audience: y}
${MINIMAL_TARGETS}`;
    const config = parse(yaml, { env: { PROXY_HOPPER_AUTH_OIDC_AUDIENCE: 'z' } });
    assert.deepEqual(
      config.auth.oidc.map((p) => [p.issuer, p.audience, p.rolesClaim]),
      [
        ['https://a.test/', ['z'], 'groups'],
        ['https://b.test/', ['y'], 'proxy_hopper_role'],
      ],
    );
  });

  test('non-numeric expiry env is ignored with a warning', () => {
    const config = parse(MINIMAL_TARGETS, {
      env: { PROXY_HOPPER_AUTH_JWT_EXPIRY_MINUTES: 'soon' },
    });
    assert.equal(config.auth.jwtExpiryMinutes, 60);
    assert.deepEqual(config.warnings, [
      "Ignoring PROXY_HOPPER_AUTH_JWT_EXPIRY_MINUTES='soon': not a whole number",
    ]);
  });
});
