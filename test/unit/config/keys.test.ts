import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalKey, normalizeKeys, snakeToCamel } from '../../../src/config/keys.js';
import type { ConfigIssue } from '../../../src/errors/index.js';
import { comparable, issuesOf, parse } from './helpers.js';

const CAMEL = `
server:
  host: 127.0.0.1
  port: 9000
  logLevel: debug
  logFormat: json
  metricsPort: 9100
  probeInterval: 30s
  probeUrls: ['http://127.0.0.1:1/']
  redisKeyPrefix: tst
  retryBodyLimit: 512KiB
  debugQuarantine: true
auth:
  enabled: true
  jwtSecret: s3cret
  jwtExpiryMinutes: 15
  apiKeys:
    - name: k1
      key: key-one
      targets: [general]
  oidc:
    issuerUrl: 'https://idp.test/app/'
    roleClaimPath: realm_access.roles
    jwksCacheTtl: 2m
    clockTolerance: 5s
  roles:
    maps_team:
      targets: [general]
proxyProviders:
  - name: prov
    ipList: ['127.0.0.1:3128', '127.0.0.2:3128']
    regionTag: eu-west
    auth:
      type: basic
      username: u
      password: p
ipPools:
  - name: pool
    ipRequests:
      - provider: prov
        count: 2
targets:
  - name: general
    regex: '.*'
    poolName: pool
    defaultProxyPort: 3128
    minRequestInterval: 250ms
    maxRequestTimeInQueue: 5s
    numRetries: 2
    ipFailuresUntilQuarantine: 3
    quarantineTime: 1m
    minActiveIps: 0
    spoofUserAgent: false
    retryOnStatus: [429, 503]
`;

const SNAKE = `
server:
  host: 127.0.0.1
  port: 9000
  log_level: debug
  log_format: json
  metrics_port: 9100
  probe_interval: 30s
  probe_urls: ['http://127.0.0.1:1/']
  redis_key_prefix: tst
  retry_body_limit: 512KiB
  debug_quarantine: true
auth:
  enabled: true
  jwt_secret: s3cret
  jwt_expiry_minutes: 15
  api_keys:
    - name: k1
      key: key-one
      targets: [general]
  oidc:
    issuer: 'https://idp.test/app/'
    roles_claim: realm_access.roles
    jwks_cache_ttl: 2m
    clock_tolerance: 5s
  roles:
    maps_team:
      targets: [general]
proxy_providers:
  - name: prov
    ip_list: ['127.0.0.1:3128', '127.0.0.2:3128']
    region_tag: eu-west
    auth:
      type: basic
      username: u
      password: p
ip_pools:
  - name: pool
    ip_requests:
      - provider: prov
        count: 2
targets:
  - name: general
    regex: '.*'
    ip_pool: pool
    default_proxy_port: 3128
    min_request_interval: 250ms
    max_queue_wait: 5s
    num_retries: 2
    ip_failures_until_quarantine: 3
    quarantine_time: 1m
    min_active_ips: 0
    spoof_user_agent: false
    retry_on_status: [429, 503]
`;

describe('key normalization', () => {
  test('snake_case file equals camelCase file', () => {
    assert.deepEqual(comparable(parse(SNAKE)), comparable(parse(CAMEL)));
  });

  test('aliases land on canonical fields', () => {
    const config = parse(CAMEL);
    const target = config.targets[0];
    assert.equal(target?.poolName, 'pool');
    assert.equal(target?.maxQueueWaitMs, 5000);
    assert.equal(config.auth.oidc[0]?.issuer, 'https://idp.test/app/');
    assert.equal(config.auth.oidc[0]?.rolesClaim, 'realm_access.roles');
  });

  test('role names keep their spelling', () => {
    assert.deepEqual(parse(SNAKE).auth.roles, [
      { name: 'maps_team', permissions: ['read'], targets: ['general'] },
    ]);
  });

  test('snakeToCamel and canonicalKey', () => {
    assert.equal(snakeToCamel('ip_failures_until_quarantine'), 'ipFailuresUntilQuarantine');
    assert.equal(snakeToCamel('rotate_on_429'), 'rotateOn429');
    assert.equal(snakeToCamel('minRequestInterval'), 'minRequestInterval');
    assert.equal(canonicalKey('max_request_time_in_queue'), 'maxQueueWait');
    assert.equal(canonicalKey('pool_name'), 'ipPool');
    assert.equal(canonicalKey('issuer_url'), 'issuer');
    assert.equal(canonicalKey('role_claim_path'), 'rolesClaim');
  });

  test('two spellings of one key are an issue', () => {
    const issues: ConfigIssue[] = [];
    const result = normalizeKeys(
      { targets: [{ min_request_interval: 1, minRequestInterval: 2 }] },
      issues,
    );
    assert.deepEqual(result, { targets: [{ minRequestInterval: 1 }] });
    assert.deepEqual(issues, [
      {
        path: 'targets[0].minRequestInterval',
        message:
          "'min_request_interval' and 'minRequestInterval' are the same setting. Keep only one of them",
      },
    ]);
  });

  test('alias and canonical name together are an issue', () => {
    const yaml = `
targets:
  - name: t
    regex: '.*'
    ipList: ['127.0.0.1:1']
    maxQueueWait: 1s
    maxRequestTimeInQueue: 2s
`;
    assert.deepEqual(issuesOf(yaml), [
      "targets[0].maxQueueWait: 'maxQueueWait' and 'maxRequestTimeInQueue' are the same setting. Keep only one of them",
    ]);
  });
});
