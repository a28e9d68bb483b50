/** Flags of `run` and their mapping onto `server:` keys, which they override. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseDurationMs, type ServerOverrides } from '../config/index.js';

export interface RunFlags {
  config?: string;
  host?: string;
  port?: number;
  logLevel?: string;
  logFormat?: string;
  logFile?: string;
  metrics?: boolean;
  metricsPort?: number;
  backend?: string;
  redisUrl?: string;
  probe?: boolean;
  probeInterval?: number;
  probeTimeout?: number;
  probeUrls?: string[];
  admin?: boolean;
  adminHost?: string;
  adminPort?: number;
  prometheusUrl?: string;
}

/** Flag names (camelCase, as commander stores them) that map one to one onto `server:` keys. */
const SERVER_FLAG_KEYS = [
  'host',
  'port',
  'logLevel',
  'logFormat',
  'logFile',
  'metrics',
  'metricsPort',
  'backend',
  'redisUrl',
  'probe',
  'probeInterval',
  'probeTimeout',
  'probeUrls',
  'admin',
  'adminHost',
  'adminPort',
  'prometheusUrl',
] as const;

function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new InvalidArgumentError('Expected a port number from 0 to 65535.');
  }
  return Number(value);
}

/** Parses a number of seconds or a duration such as `500ms`, `5s` or `1m`, into seconds. */
function parseSeconds(value: string): number {
  const milliseconds = parseDurationMs(value.trim());
  if (typeof milliseconds !== 'number') {
    throw new InvalidArgumentError(
      `Expected seconds or a duration such as 5s or 500ms, got '${value}'.`,
    );
  }
  if (!(milliseconds > 0)) throw new InvalidArgumentError('Expected a duration greater than zero.');
  return milliseconds / 1000;
}

function parseList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A parser that matches one of `choices` case-insensitively and returns it as listed. */
function choice(choices: readonly string[]) {
  return (value: string): string => {
    const found = choices.find((item) => item.toLowerCase() === value.trim().toLowerCase());
    if (found === undefined)
      throw new InvalidArgumentError(`Allowed choices are ${choices.join(', ')}.`);
    return found;
  };
}

export function addRunOptions(command: Command): Command {
  return command
    .addOption(new Option('-c, --config <path>', 'config file (YAML)').env('PROXY_HOPPER_CONFIG'))
    .option('--host <host>', 'proxy bind address (default 0.0.0.0)')
    .option('--port <port>', 'proxy port; 0 picks a free port (default 8080)', parsePort)
    .option(
      '--log-level <level>',
      'TRACE, DEBUG, INFO, WARNING or ERROR (default INFO)',
      choice(['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR']),
    )
    .option('--log-format <format>', 'text or json (default text)', choice(['text', 'json']))
    .option('--log-file <path>', 'write logs to this file instead of stderr')
    .option('--metrics', 'serve Prometheus /metrics')
    .option('--no-metrics', 'do not serve /metrics')
    .option('--metrics-port <port>', 'port of /metrics (default 9090)', parsePort)
    .option('--backend <backend>', 'memory or redis (default memory)', choice(['memory', 'redis']))
    .option(
      '--redis-url <url>',
      'Redis URL for the redis backend (default redis://localhost:6379/0)',
    )
    .option('--probe', 'probe upstream IPs in the background (needs --probe-urls)')
    .option('--no-probe', 'do not probe upstream IPs')
    .option('--probe-interval <seconds>', 'seconds between probe rounds (default 60)', parseSeconds)
    .option(
      '--probe-timeout <seconds>',
      'timeout of one probe in seconds (default 10)',
      parseSeconds,
    )
    .option('--probe-urls <urls>', 'comma-separated URLs that probes fetch', parseList)
    .option('--admin', 'serve the admin API')
    .option('--no-admin', 'do not serve the admin API')
    .option('--admin-host <host>', 'admin API bind address (default 0.0.0.0)')
    .option('--admin-port <port>', 'admin API port (default 8081)', parsePort)
    .option(
      '--prometheus-url <url>',
      'Prometheus server for admin metrics queries (not supported yet)',
    );
}

/** Keeps the flags that were given, keyed by the `server:` key each one sets. */
export function toServerOverrides(flags: RunFlags): ServerOverrides {
  const overrides: Record<string, unknown> = {};
  for (const key of SERVER_FLAG_KEYS) {
    if (flags[key] !== undefined) overrides[key] = flags[key];
  }
  return overrides;
}
