import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { ConfigError } from '../../../src/errors/index.js';
import { loadConfigFile } from '../../../src/config/index.js';
import { issuesOf, MINIMAL_TARGETS, parse } from './helpers.js';

const PROVIDER = `
proxyProviders:
  - {name: prov, ipList: ['127.0.0.1:3128']}
ipPools:
  - {name: a, ipRequests: [{provider: prov, count: 1}]}
`;

describe('validation messages', () => {
  const cases: [string, string, string[]][] = [
    [
      'invalid regex',
      `targets:\n  - {name: ok, regex: '.*', ipList: ['127.0.0.1:1']}\n  - {name: bad, regex: '(', ipList: ['127.0.0.1:1']}`,
      ["targets[1].regex: Invalid regex '(': Unterminated group"],
    ],
    [
      'unknown ipPool',
      `${PROVIDER}targets:\n  - {name: x, regex: '.*', ipPool: p}`,
      ["targets[0].ipPool: Target 'x' references unknown ipPool 'p'. Defined pools: ['a']"],
    ],
    [
      'duplicate target name',
      `targets:\n  - {name: x, regex: 'a', ipList: ['127.0.0.1:1']}\n  - {name: x, regex: 'b', ipList: ['127.0.0.1:1']}`,
      ["targets[1].name: Duplicate target name: 'x'"],
    ],
    [
      'duplicate provider name',
      `proxyProviders:\n  - {name: p, ipList: ['127.0.0.1:1']}\n  - {name: p, ipList: ['127.0.0.1:2']}\n${MINIMAL_TARGETS}`,
      ["proxyProviders[1].name: Duplicate proxyProvider name: 'p'"],
    ],
    [
      'duplicate pool name',
      `${PROVIDER}  - {name: a, ipList: ['127.0.0.1:2']}\n${MINIMAL_TARGETS}`,
      ["ipPools[1].name: Duplicate ipPool name: 'a'"],
    ],
    [
      'pool without name',
      `ipPools:\n  - {ipList: ['127.0.0.1:1']}\n${MINIMAL_TARGETS}`,
      ["ipPools[0]: ipPool entry is missing a 'name' field"],
    ],
    [
      'provider without name',
      `proxyProviders:\n  - {ipList: ['127.0.0.1:1']}\n${MINIMAL_TARGETS}`,
      ["proxyProviders[0]: proxyProvider entry is missing a 'name' field"],
    ],
    [
      'target without name',
      `targets:\n  - {regex: '.*', ipList: ['127.0.0.1:1']}`,
      ["targets[0]: target entry is missing a 'name' field"],
    ],
    [
      'target without regex',
      `targets:\n  - {name: t, ipList: ['127.0.0.1:1']}`,
      ['targets[0].regex: is required'],
    ],
    [
      'pool with zero IPs',
      `ipPools:\n  - {name: empty}\n${MINIMAL_TARGETS}`,
      ["ipPools[0]: ipPool 'empty' has no IPs: add ipRequests or an ipList"],
    ],
    [
      'provider with empty ipList',
      `proxyProviders:\n  - {name: p, ipList: []}\n${MINIMAL_TARGETS}`,
      ['proxyProviders[0].ipList: must list at least one address'],
    ],
    [
      'target with neither ipPool nor ipList',
      `targets:\n  - {name: t, regex: '.*'}`,
      ["targets[0]: Target 't' must set 'ipPool' (the name of an ipPool) or an inline 'ipList'"],
    ],
    [
      'target with both ipPool and ipList',
      `${PROVIDER}targets:\n  - {name: t, regex: '.*', ipPool: a, ipList: ['127.0.0.1:1']}`,
      ["targets[0]: Target 't' sets both 'ipPool' and 'ipList'. Keep only one of them"],
    ],
    [
      'target with an empty inline ipList',
      `targets:\n  - {name: t, regex: '.*', ipList: []}`,
      [
        "targets[0]: Target 't' resolves to zero IPs. Give it at least one address through its ipPool or ipList",
      ],
    ],
    [
      'bad address in a provider',
      `proxyProviders:\n  - {name: p, ipList: ['127.0.0.1:1', '::1']}\n${MINIMAL_TARGETS}`,
      [
        "proxyProviders[0].ipList[1]: Invalid proxy address '::1': write IPv6 addresses in brackets, such as '[::1]:3128'",
      ],
    ],
    [
      'unsupported provider auth type',
      `proxyProviders:\n  - {name: p, ipList: ['127.0.0.1:1'], auth: {type: digest, username: u}}\n${MINIMAL_TARGETS}`,
      ["proxyProviders[0].auth.type: Invalid value 'digest': use one of 'basic'"],
    ],
    [
      'typo in a target key',
      `targets:\n  - {name: t, regex: '.*', ipList: ['127.0.0.1:1'], numRetires: 2}`,
      ["targets[0].numRetires: Unknown key 'numRetires'. Did you mean 'numRetries'?"],
    ],
    [
      'typo in an ipRequest key',
      `proxyProviders:\n  - {name: p, ipList: ['127.0.0.1:1']}\nipPools:\n  - {name: a, ipRequests: [{provider: p, cout: 1}]}\n${MINIMAL_TARGETS}`,
      [
        "ipPools[0].ipRequests[0].cout: Unknown key 'cout'. Did you mean 'count'?",
        'ipPools[0].ipRequests[0].count: is required',
      ],
    ],
    [
      'out-of-range target numbers',
      `targets:\n  - {name: t, regex: '.*', ipList: ['127.0.0.1:1'], numRetries: -1, ipFailuresUntilQuarantine: 0, minActiveIps: -2, retryOnStatus: [429, 99]}`,
      [
        'targets[0].numRetries: Invalid value -1: must be >= 0',
        'targets[0].ipFailuresUntilQuarantine: Invalid value 0: must be >= 1',
        'targets[0].minActiveIps: Invalid value -2: must be >= 0',
        'targets[0].retryOnStatus[1]: Invalid value 99: must be from 100 to 599',
      ],
    ],
    [
      'wrong types',
      `targets:\n  - {name: t, regex: 5, ipList: '127.0.0.1:1', spoofUserAgent: sometimes, retryOnStatus: 429}`,
      [
        'targets[0].regex: Expected a string, got 5. Put quotes around the value',
        "targets[0].spoofUserAgent: Invalid boolean 'sometimes': use true or false",
        'targets[0].retryOnStatus: Expected a list, got 429',
      ],
    ],
    [
      'targets not a list',
      'targets: {name: t}',
      ["targets: Expected a list of entries under 'targets'"],
    ],
    ['YAML syntax error', 'targets: [', []],
    [
      'YAML that is not a mapping',
      '- a\n- b',
      ['The config file must be a YAML mapping with keys such as server and targets'],
    ],
  ];
  for (const [name, yaml, expected] of cases) {
    test(name, () => {
      const issues = issuesOf(yaml);
      if (name === 'YAML syntax error') {
        assert.equal(issues.length, 1);
        assert.match(issues[0] ?? '', /^Invalid YAML: /);
        return;
      }
      assert.deepEqual(issues, expected);
    });
  }

  test('every problem is reported at once', () => {
    const issues = issuesOf(`
server: {port: abc}
${PROVIDER}targets:
  - {name: x, regex: '(', ipPool: nope}
  - {name: y, regex: '.*', ipPool: a, minRequestInterval: 5x}
`);
    assert.deepEqual(issues, [
      "server.port: Invalid integer 'abc'",
      "targets[0].regex: Invalid regex '(': Unterminated group",
      "targets[0].ipPool: Target 'x' references unknown ipPool 'nope'. Defined pools: ['a']",
      "targets[1].minRequestInterval: Invalid duration '5x': use seconds as a number or a string such as '250ms', '2s', '5m' or '1h'",
    ]);
  });

  test('zero targets: error when required, warning otherwise', () => {
    assert.deepEqual(issuesOf('', { requireTargets: true }), [
      'targets: At least one target is required',
    ]);
    const config = parse('');
    assert.deepEqual(config.targets, []);
    assert.deepEqual(config.warnings, [
      'No targets are defined, so every request is answered with no_target_match',
    ]);
  });

  test('minActiveIps above the IP count warns', () => {
    const config = parse(
      `targets: [{name: t, regex: '.*', ipList: ['127.0.0.1:1'], minActiveIps: 2}]`,
    );
    assert.deepEqual(config.warnings, [
      "Target 't': minActiveIps 2 is more than its 1 IP(s), so quarantine never takes an IP out of rotation",
    ]);
  });

  test('identity and authManaged are accepted with a warning', () => {
    const config = parse(`
targets:
  - name: t
    regex: '.*'
    ipList: ['127.0.0.1:1']
    identity: {enabled: true, rotateAfterRequests: 10, warmup: {path: /home}}
    authManaged: true
    mutable: false
    static: true
`);
    assert.deepEqual(config.warnings, [
      "Target 't': identity is not supported by this version and is ignored",
      "Target 't': authManaged is not supported by this version and is ignored",
    ]);
  });

  test('missing file', () => {
    assert.throws(
      () => loadConfigFile('/nonexistent/ph-config.yaml', { env: {} }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message === "Config file '/nonexistent/ph-config.yaml' not found",
    );
  });

  test('YAML merge keys share target defaults', () => {
    const config = parse(`
x-defaults: &defaults
  minRequestInterval: 2s
  numRetries: 1
targets:
  - <<: *defaults
    name: a
    regex: 'a'
    ipList: ['127.0.0.1:1']
`);
    assert.equal(config.targets[0]?.minRequestIntervalMs, 2000);
    assert.equal(config.targets[0]?.numRetries, 1);
    assert.deepEqual(config.warnings, []);
  });

  test('duplicate YAML key is an error', () => {
    assert.deepEqual(issuesOf('targets:\n  - name: a\n    name: b\n'), [
      'Invalid YAML: Map keys must be unique at line 3, column 5:\n\n  - name: a\n    name: b\n    ^\n',
    ]);
  });

  test('directory path', () => {
    const dir = tmpdir();
    assert.throws(
      () => loadConfigFile(dir, { env: {} }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message === `Config path '${dir}' is a directory. Pass a YAML file`,
    );
  });

  test('source is kept', () => {
    assert.equal(parse(MINIMAL_TARGETS, { source: 'x.yaml' }).source, 'x.yaml');
    assert.equal(parse(MINIMAL_TARGETS).source, null);
  });
});
