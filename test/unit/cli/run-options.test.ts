import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addRunOptions, toServerOverrides, type RunFlags } from '../../../src/cli/run-options.js';
import { parseConfig } from '../../../src/config/index.js';

function parseFlags(args: string[]): RunFlags {
  const command = addRunOptions(new Command('run'))
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  command.parse(args, { from: 'user' });
  return command.opts<RunFlags>();
}

describe('run flags', () => {
  test('no flags give no overrides', () => {
    assert.deepEqual(toServerOverrides(parseFlags([])), {});
  });

  test('every flag maps to its server key', () => {
    const flags = parseFlags([
      '-c',
      'x.yaml',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--log-level',
      'debug',
      '--log-format',
      'JSON',
      '--log-file',
      '/tmp/ph.log',
      '--metrics',
      '--metrics-port',
      '9191',
      '--backend',
      'Redis',
      '--redis-url',
      'redis://127.0.0.1:16379/1',
      '--no-probe',
      '--probe-interval',
      '2.5',
      '--probe-timeout',
      '1',
      '--probe-urls',
      'http://127.0.0.1:1/a,http://127.0.0.1:2/b',
      '--admin',
      '--admin-host',
      '127.0.0.1',
      '--admin-port',
      '0',
    ]);
    assert.equal(flags.config, 'x.yaml');
    assert.deepEqual(toServerOverrides(flags), {
      host: '127.0.0.1',
      port: 0,
      logLevel: 'DEBUG',
      logFormat: 'json',
      logFile: '/tmp/ph.log',
      metrics: true,
      metricsPort: 9191,
      backend: 'redis',
      redisUrl: 'redis://127.0.0.1:16379/1',
      probe: false,
      probeInterval: 2.5,
      probeTimeout: 1,
      probeUrls: ['http://127.0.0.1:1/a', 'http://127.0.0.1:2/b'],
      admin: true,
      adminHost: '127.0.0.1',
      adminPort: 0,
    });
  });

  test('--no-metrics beats metrics: true in YAML', () => {
    const yaml = `server: {metrics: true, admin: true}\ntargets: [{name: t, regex: '.*', ipList: ['127.0.0.1:1']}]`;
    const overrides = toServerOverrides(parseFlags(['--no-metrics']));
    const config = parseConfig(yaml, { env: {}, overrides });
    assert.equal(config.server.metrics, false);
    assert.equal(config.server.admin, true);
  });

  test('overrides reach the resolved config', () => {
    const overrides = toServerOverrides(parseFlags(['--probe-interval', '2.5', '--port', '9999']));
    assert.equal(toServerOverrides(parseFlags(['--probe-timeout', '500ms'])).probeTimeout, 0.5);
    const config = parseConfig(`targets: [{name: t, regex: '.*', ipList: ['127.0.0.1:1']}]`, {
      env: { PROXY_HOPPER_PORT: '9000' },
      overrides,
    });
    assert.equal(config.server.probeIntervalMs, 2500);
    assert.equal(config.server.port, 9999);
  });

  const invalid: [string[], RegExp][] = [
    [['--port', '70000'], /Expected a port number from 0 to 65535/],
    [['--port', 'abc'], /Expected a port number from 0 to 65535/],
    [['--probe-interval', '0'], /Expected a duration greater than zero/],
    [['--probe-interval', 'soon'], /Expected seconds or a duration such as 5s or 500ms, got 'soon'/],
    [['--log-level', 'loud'], /Allowed choices are TRACE, DEBUG, INFO, WARNING, ERROR/],
    [['--log-format', 'xml'], /Allowed choices are text, json/],
  ];
  for (const [args, message] of invalid) {
    test(`rejects ${args.join(' ')}`, () => {
      assert.throws(() => parseFlags(args), message);
    });
  }
});
