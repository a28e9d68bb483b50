import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { issuesOf, parse } from './helpers.js';

const PROVIDERS = `
proxyProviders:
  - name: alpha
    ipList: ['127.0.0.1:3128', '127.0.0.2', 'http://127.0.0.3:3129', '[::1]:3130', '127.0.0.5:3128']
    regionTag: eu
    auth: {username: au, password: ap}
  - name: beta
    ipList: ['127.0.0.2:3128', '127.0.0.9:3128']
`;

describe('pool resolution', () => {
  test('first N of each provider, in order, with credentials per IP', () => {
    const config = parse(`${PROVIDERS}
ipPools:
  - name: mixed
    ipRequests:
      - {provider: alpha, count: 4}
      - {provider: beta, count: 2}
targets:
  - {name: t, regex: '.*', ipPool: mixed, defaultProxyPort: 3000}
`);
    const alphaCredentials = { username: 'au', password: 'ap' };
    assert.deepEqual(config.targets[0]?.ips, [
      {
        host: '127.0.0.1',
        port: 3128,
        address: '127.0.0.1:3128',
        provider: 'alpha',
        region: 'eu',
        credentials: alphaCredentials,
      },
      {
        host: '127.0.0.2',
        port: 3000,
        address: '127.0.0.2:3000',
        provider: 'alpha',
        region: 'eu',
        credentials: alphaCredentials,
      },
      {
        host: '127.0.0.3',
        port: 3129,
        address: '127.0.0.3:3129',
        provider: 'alpha',
        region: 'eu',
        credentials: alphaCredentials,
      },
      {
        host: '::1',
        port: 3130,
        address: '[::1]:3130',
        provider: 'alpha',
        region: 'eu',
        credentials: alphaCredentials,
      },
      {
        host: '127.0.0.2',
        port: 3128,
        address: '127.0.0.2:3128',
        provider: 'beta',
        region: '',
        credentials: null,
      },
      {
        host: '127.0.0.9',
        port: 3128,
        address: '127.0.0.9:3128',
        provider: 'beta',
        region: '',
        credentials: null,
      },
    ]);
  });

  test('count above the list size takes all without error', () => {
    const config = parse(`${PROVIDERS}
ipPools:
  - {name: p, ipRequests: [{provider: beta, count: 10}]}
targets:
  - {name: t, regex: '.*', ipPool: p}
`);
    assert.deepEqual(
      config.targets[0]?.ips.map((ip) => ip.address),
      ['127.0.0.2:3128', '127.0.0.9:3128'],
    );
  });

  test('duplicates keep the first occurrence', () => {
    const config = parse(`
proxyProviders:
  - {name: a, ipList: ['127.0.0.1:1', '127.0.0.2:1'], regionTag: first}
  - {name: b, ipList: ['127.0.0.2:1', 'http://127.0.0.1:1'], regionTag: second}
ipPools:
  - {name: p, ipRequests: [{provider: a, count: 2}, {provider: b, count: 2}], ipList: ['127.0.0.1:1', '127.0.0.7:1']}
targets:
  - {name: t, regex: '.*', ipPool: p}
`);
    assert.deepEqual(
      config.targets[0]?.ips.map((ip) => [ip.address, ip.provider, ip.region]),
      [
        ['127.0.0.1:1', 'a', 'first'],
        ['127.0.0.2:1', 'a', 'first'],
        ['127.0.0.7:1', '', ''],
      ],
    );
  });

  test('bare hosts of one provider take each target default port', () => {
    const config = parse(`
proxyProviders:
  - {name: a, ipList: ['127.0.0.1']}
ipPools:
  - {name: p, ipRequests: [{provider: a, count: 1}]}
targets:
  - {name: t1, regex: 'one', ipPool: p}
  - {name: t2, regex: 'two', ipPool: p, defaultProxyPort: 3128}
`);
    assert.equal(config.targets[0]?.ips[0]?.address, '127.0.0.1:8080');
    assert.equal(config.targets[1]?.ips[0]?.address, '127.0.0.1:3128');
  });

  test('inline ipList on a target', () => {
    const config = parse(`
targets:
  - {name: t, regex: '.*', ipList: ['127.0.0.1:3128', '127.0.0.1:3128', '127.0.0.4'], defaultProxyPort: 81}
`);
    const target = config.targets[0];
    assert.equal(target?.poolName, '');
    assert.deepEqual(target?.ips, [
      {
        host: '127.0.0.1',
        port: 3128,
        address: '127.0.0.1:3128',
        provider: '',
        region: '',
        credentials: null,
      },
      {
        host: '127.0.0.4',
        port: 81,
        address: '127.0.0.4:81',
        provider: '',
        region: '',
        credentials: null,
      },
    ]);
  });

  test('resolved providers and pools', () => {
    const config = parse(`${PROVIDERS}
ipPools:
  - {name: p, ipRequests: [{provider: beta, count: 1}]}
targets:
  - {name: t, regex: '.*', ipPool: p}
`);
    assert.deepEqual(config.providers, [
      {
        name: 'alpha',
        ipList: [
          '127.0.0.1:3128',
          '127.0.0.2',
          'http://127.0.0.3:3129',
          '[::1]:3130',
          '127.0.0.5:3128',
        ],
        credentials: { username: 'au', password: 'ap' },
        regionTag: 'eu',
      },
      {
        name: 'beta',
        ipList: ['127.0.0.2:3128', '127.0.0.9:3128'],
        credentials: null,
        regionTag: '',
      },
    ]);
    assert.deepEqual(config.pools, [{ name: 'p', ipRequests: [{ provider: 'beta', count: 1 }] }]);
  });

  test('target defaults', () => {
    const target = parse(`targets: [{name: t, regex: 'x', ipList: ['127.0.0.1:1']}]`).targets[0];
    assert.ok(target);
    const { regex, ips: _ips, ...rest } = target;
    assert.equal(regex.test('axb'), true);
    assert.deepEqual(rest, {
      name: 't',
      regexSource: 'x',
      poolName: '',
      defaultProxyPort: 8080,
      minRequestIntervalMs: 1000,
      maxQueueWaitMs: 30_000,
      numRetries: 3,
      ipFailuresUntilQuarantine: 5,
      quarantineMs: 120_000,
      minActiveIps: 1,
      spoofUserAgent: true,
      retryOnStatus: [429, 502, 503, 504],
    });
  });

  test('unknown provider message lists the defined ones', () => {
    assert.deepEqual(
      issuesOf(`${PROVIDERS}
ipPools:
  - {name: p, ipRequests: [{provider: gamma, count: 1}]}
targets:
  - {name: t, regex: '.*', ipPool: p}
`),
      [
        "ipPools[0].ipRequests[0].provider: ipPool 'p' references unknown provider 'gamma'. Defined providers: ['alpha', 'beta']",
      ],
    );
  });
});
