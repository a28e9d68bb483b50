import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { runCli, startCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ph-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, yaml: string): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

const VALID = writeConfig(
  'valid.yaml',
  `
server:
  host: 127.0.0.1
  port: 9100
proxyProviders:
  - name: eu-proxies
    ipList: ['127.0.0.1:3128', '127.0.0.2:3128', '127.0.0.3']
    regionTag: eu
    auth: {username: u, password: p}
  - name: plain
    ipList: ['127.0.0.4:3128']
ipPools:
  - name: main
    ipRequests:
      - {provider: eu-proxies, count: 2}
      - {provider: plain, count: 1}
targets:
  - name: api
    regex: 'api\\.example\\.test'
    ipPool: main
  - name: inline
    regex: "it's"
    ipList: ['127.0.0.9:1']
`,
);

const VALID_SUMMARY = [
  'Providers: 2 defined.',
  "  'eu-proxies': 3 IP(s), region='eu', auth=basic",
  "  'plain': 1 IP(s), auth=none",
  'Pools: 1 defined.',
  "  'main': 2 request(s), providers=['eu-proxies', 'plain']",
  'Config OK — 2 target(s) defined.',
  "  'api': 3 IP(s), pool='main', regex='api\\\\.example\\\\.test'",
  `  'inline': 1 IP(s), pool=None, regex="it's"`,
  'Server defaults: host=127.0.0.1, port=9100, backend=memory',
  '',
].join('\n');

describe('validate', () => {
  test('valid file as argument', async () => {
    const result = await runCli(['validate', VALID]);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, VALID_SUMMARY);
    assert.equal(result.code, 0);
  });

  test('valid file with --config and -c', async () => {
    for (const flag of ['--config', '-c']) {
      const result = await runCli(['validate', flag, VALID]);
      assert.equal(result.stdout, VALID_SUMMARY);
      assert.equal(result.code, 0);
    }
  });

  test('valid file from PROXY_HOPPER_CONFIG', async () => {
    const result = await runCli(['validate'], { env: { PROXY_HOPPER_CONFIG: VALID } });
    assert.equal(result.stdout, VALID_SUMMARY);
    assert.equal(result.code, 0);
  });

  test('env settings show in the server line', async () => {
    const yaml = writeConfig(
      'env.yaml',
      `targets: [{name: t, regex: '.*', ipList: ['127.0.0.1:1']}]`,
    );
    const result = await runCli(['validate', yaml], {
      env: { PROXY_HOPPER_PORT: '9555', PROXY_HOPPER_BACKEND: 'redis' },
    });
    assert.equal(
      result.stdout.split('\n').at(-2),
      'Server defaults: host=0.0.0.0, port=9555, backend=redis',
    );
    assert.equal(result.code, 0);
  });

  test('missing config', async () => {
    const result = await runCli(['validate']);
    assert.equal(result.stderr, 'Error: --config / PROXY_HOPPER_CONFIG is required.\n');
    assert.equal(result.stdout, '');
    assert.equal(result.code, 1);
  });

  test('file not found', async () => {
    const path = join(dir, 'absent.yaml');
    const result = await runCli(['validate', path]);
    assert.equal(result.stderr, `Config error: Config file '${path}' not found\n`);
    assert.equal(result.code, 1);
  });

  test('every error with its path', async () => {
    const path = writeConfig(
      'broken.yaml',
      `
server: {port: abc, prot: 1}
ipPools:
  - {name: a, ipRequests: [{provider: nope, count: 1}]}
targets:
  - {name: x, regex: '(', ipPool: p}
  - {name: x, regex: '.*', ipList: ['::1'], minRequestInterval: -1s}
auth:
  apiKeys: [{name: k, key: s, targets: [zz]}]
`,
    );
    const result = await runCli(['validate', path]);
    assert.equal(
      result.stderr,
      [
        "Config error: server.prot: Unknown key 'prot'. Did you mean 'port'?",
        "Config error: server.port: Invalid integer 'abc'",
        "Config error: ipPools[0].ipRequests[0].provider: ipPool 'a' references unknown provider 'nope'. Defined providers: []",
        "Config error: targets[0].regex: Invalid regex '(': Unterminated group",
        "Config error: targets[0].ipPool: Target 'x' references unknown ipPool 'p'. Defined pools: ['a']",
        "Config error: targets[1].minRequestInterval: Invalid duration '-1s': must not be negative",
        "Config error: targets[1].name: Duplicate target name: 'x'",
        "Config error: auth.apiKeys[0].targets[0]: API key 'k' names unknown target 'zz'. Defined targets: ['x']",
        '',
      ].join('\n'),
    );
    assert.equal(result.stdout, '');
    assert.equal(result.code, 1);
  });

  test('no targets is an error', async () => {
    const path = writeConfig('empty.yaml', '');
    const result = await runCli(['validate', path]);
    assert.equal(result.stderr, 'Config error: targets: At least one target is required\n');
    assert.equal(result.code, 1);
  });

  test('YAML syntax error', async () => {
    const path = writeConfig('syntax.yaml', 'targets: [\n');
    const result = await runCli(['validate', path]);
    assert.match(result.stderr, /^Config error: Invalid YAML: /);
    assert.equal(result.code, 1);
  });

  test('warnings go to stderr, summary to stdout', async () => {
    const path = writeConfig(
      'warn.yaml',
      `extra: 1\nserver: {logLevel: loud}\ntargets: [{name: t, regex: '.*', ipList: ['127.0.0.1:1']}]\n`,
    );
    const result = await runCli(['validate', path]);
    assert.equal(
      result.stderr,
      "Warning: Ignoring unknown top-level key 'extra'\nWarning: Unknown log level 'loud', so INFO is used. Valid levels: TRACE, DEBUG, INFO, WARNING, ERROR\n",
    );
    assert.match(
      result.stdout,
      /^Providers: 0 defined\.\nPools: 0 defined\.\nConfig OK — 1 target\(s\) defined\.\n/,
    );
    assert.equal(result.code, 0);
  });
});

describe('hash commands', () => {
  test('hash-password from argument verifies', async () => {
    const result = await runCli(['hash-password', 'correct horse']);
    const hash = result.stdout.trim();
    assert.equal(result.code, 0);
    assert.match(hash, /^\$2b\$12\$[./A-Za-z0-9]{53}$/);
    assert.equal(await bcrypt.compare('correct horse', hash), true);
    assert.equal(await bcrypt.compare('wrong', hash), false);
  });

  test('hash-password from stdin drops only the final newline', async () => {
    const result = await runCli(['hash-password'], { stdin: ' pass word \n' });
    assert.equal(result.code, 0);
    assert.equal(await bcrypt.compare(' pass word ', result.stdout.trim()), true);
  });

  test('hash-password rejects an empty password', async () => {
    const result = await runCli(['hash-password'], { stdin: '\n' });
    assert.equal(
      result.stderr,
      'Error: the password is empty. Pass it as an argument or on stdin.\n',
    );
    assert.equal(result.stdout, '');
    assert.equal(result.code, 1);
  });

  test('hash-key from argument and stdin', async () => {
    const expected = `sha256:${createHash('sha256').update('my-api-key').digest('hex')}\n`;
    const fromArgument = await runCli(['hash-key', 'my-api-key']);
    assert.equal(fromArgument.stdout, expected);
    assert.equal(fromArgument.code, 0);
    const fromStdin = await runCli(['hash-key'], { stdin: 'my-api-key\r\n' });
    assert.equal(fromStdin.stdout, expected);
    assert.equal(fromStdin.code, 0);
  });

  test('hash-key output is accepted as keyHash', async () => {
    const hashed = (await runCli(['hash-key', 'k-secret'])).stdout.trim();
    const path = writeConfig(
      'keyhash.yaml',
      `auth: {apiKeys: [{name: k, keyHash: '${hashed}'}]}\ntargets: [{name: t, regex: '.*', ipList: ['127.0.0.1:1']}]\n`,
    );
    const result = await runCli(['validate', path]);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
  });
});

describe('program', () => {
  test('--version prints the package version', async () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    const result = await runCli(['--version']);
    assert.equal(result.stdout, `${pkg.version}\n`);
    assert.equal(result.code, 0);
  });

  test('--help lists the commands', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0);
    for (const command of ['run', 'validate', 'hash-password', 'hash-key', 'demo']) {
      assert.match(result.stdout, new RegExp(`^  ${command} `, 'm'));
    }
  });

  test('unknown command fails', async () => {
    const result = await runCli(['frobnicate']);
    assert.match(result.stderr, /^error: unknown command 'frobnicate'/);
    assert.equal(result.code, 1);
  });
});

describe('run', () => {
  test('missing config', async () => {
    const result = await runCli(['run']);
    assert.equal(result.stderr, 'Error: --config / PROXY_HOPPER_CONFIG is required.\n');
    assert.equal(result.code, 1);
  });

  test('bad config prints every error and starts nothing', async () => {
    const path = writeConfig('run-bad.yaml', `targets: [{name: t, regex: '(', ipPool: p}]\n`);
    const result = await runCli(['run', '-c', path, '--port', '0']);
    assert.equal(
      result.stderr,
      "Config error: targets[0].regex: Invalid regex '(': Unterminated group\nConfig error: targets[0].ipPool: Target 't' references unknown ipPool 'p'. Defined pools: []\n",
    );
    assert.equal(result.code, 1);
  });

  test('invalid flag value', async () => {
    const result = await runCli(['run', '-c', VALID, '--backend', 'etcd']);
    assert.match(
      result.stderr,
      /^error: option '--backend <backend>' argument 'etcd' is invalid\. Allowed choices are memory, redis\./,
    );
    assert.equal(result.code, 1);
  });

  test('flags override the config and SIGTERM stops cleanly', async () => {
    const path = writeConfig(
      'run-ok.yaml',
      `server: {host: 0.0.0.0, port: 9100}\ntargets: [{name: t, regex: '.*', ipList: ['127.0.0.1:9']}]\n`,
    );
    const cli = startCli(
      [
        'run',
        '--config',
        path,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--log-level',
        'info',
        '--backend',
        'MEMORY',
      ],
      {
        timeoutMs: 30_000,
      },
    );
    await cli.waitForOutput('Proxy Hopper running on 127.0.0.1:');
    cli.child.kill('SIGTERM');
    const result = await cli.result;
    assert.match(
      result.stderr,
      /Proxy Hopper running on 127\.0\.0\.1:\d+ \(backend=memory, auth=disabled\)/,
    );
    assert.doesNotMatch(result.stderr, /:9100 /);
    assert.equal(result.code, 0);
  });
});
