/**
 * Proxy Hopper cases: the real CLI (`node bin/proxy-hopper.js run --config <yaml>`) in a child
 * process, in front of the same squid ports and target as the baseline. One target matches the
 * bench origin and its pool contains every squid port. `minRequestInterval: 0` lets every IP
 * take requests back to back, so the measured cost is Proxy Hopper's own.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { stringify } from 'yaml';
import { OIDC_AUDIENCE } from '../peers/jwks.js';
import { SQUID_PASSWORD, SQUID_USER } from '../peers/squid.js';
import { freePort } from '../peers/ports.js';
import { spawnChild, waitUntil } from '../peers/process.js';
import { startRedis, type RedisPeer } from '../peers/redis.js';
import type { BenchCase, BenchEnv, RunningCase } from './types.js';

const API_KEY = 'bench-api-key-0123456789abcdef';

type Variant = 'memory' | 'api-key' | 'oidc' | 'redis';

function buildConfig(env: BenchEnv, port: number, variant: Variant, redisUrl: string | null) {
  const server: Record<string, unknown> = {
    host: '127.0.0.1',
    port,
    logLevel: 'WARNING',
    backend: redisUrl ? 'redis' : 'memory',
    metrics: false,
    probe: false,
  };
  if (redisUrl) server.redisUrl = redisUrl;
  const config: Record<string, unknown> = {
    server,
    proxyProviders: [
      {
        name: 'bench-squid',
        ipList: env.squid.ports.map((squidPort) => `127.0.0.1:${squidPort}`),
        auth: { type: 'basic', username: SQUID_USER, password: SQUID_PASSWORD },
      },
    ],
    ipPools: [
      {
        name: 'bench-pool',
        ipRequests: [{ provider: 'bench-squid', count: env.squid.ports.length }],
      },
    ],
    targets: [
      {
        name: 'bench-target',
        regex: `^http://127[.]0[.]0[.]1:${env.target.port}/`,
        ipPool: 'bench-pool',
        minRequestInterval: 0,
        maxQueueWait: '30s',
      },
    ],
  };
  if (variant === 'api-key' || variant === 'oidc') {
    config.auth = {
      enabled: true,
      apiKeys: [{ name: 'bench', key: API_KEY, targets: ['*'] }],
      oidc: { issuer: env.jwks.issuer, audience: OIDC_AUDIENCE },
    };
  }
  return config;
}

function authHeader(env: BenchEnv, variant: Variant): Record<string, string> {
  if (variant === 'api-key') return { 'X-Proxy-Hopper-Auth': `Bearer ${API_KEY}` };
  if (variant === 'oidc') return { 'X-Proxy-Hopper-Auth': `Bearer ${env.jwks.token}` };
  return {};
}

/** Resolves true when one request through Proxy Hopper returns 200. */
function requestSucceeds(port: number, headers: Record<string, string>): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/small', headers, agent: false },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode === 200));
      },
    );
    req.setTimeout(2000, () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

async function startProxyHopper(env: BenchEnv, variant: Variant): Promise<RunningCase> {
  const cli = path.join(env.repoRoot, 'bin', 'proxy-hopper.js');
  if (!fs.existsSync(path.join(env.repoRoot, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js not found: run `npm run build` first');
  }
  let redis: RedisPeer | null = null;
  if (variant === 'redis') redis = await startRedis(env.dir);
  const port = await freePort();
  const configPath = path.join(env.dir, `proxy-hopper-${variant}.yaml`);
  fs.writeFileSync(configPath, stringify(buildConfig(env, port, variant, redis?.url ?? null)));

  const profileArgs = env.cpuProfileDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${env.cpuProfileDir}`,
        `--cpu-prof-name=proxy-hopper-${variant}.cpuprofile`,
      ]
    : [];
  const child = await spawnChild({
    name: `proxy-hopper (${variant})`,
    command: process.execPath,
    args: [...profileArgs, cli, 'run', '--config', configPath],
    cwd: env.repoRoot,
    logPath: path.join(env.dir, `proxy-hopper-${variant}.log`),
  });
  const headers = { 'X-Proxy-Hopper-Target': env.target.origin, ...authHeader(env, variant) };
  const stop = async (): Promise<void> => {
    await child.stop('SIGTERM', 10_000);
    await redis?.stop();
  };
  try {
    await waitUntil(`proxy-hopper (${variant})`, () => requestSucceeds(port, headers), {
      timeoutMs: 20_000,
      intervalMs: 100,
      child,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    pid: child.pid,
    request: (size) => ({ port, path: `/${size}`, headers }),
    stop,
  };
}

function proxyHopperCase(variant: Variant, label: string, description: string): BenchCase {
  return {
    id: `proxy-hopper-${variant}`,
    label,
    description,
    start: (env) => startProxyHopper(env, variant),
  };
}

export const memoryCase = proxyHopperCase(
  'memory',
  'Proxy Hopper, memory',
  'Memory backend, auth off.',
);
export const apiKeyCase = proxyHopperCase(
  'api-key',
  'Proxy Hopper, memory, API key',
  'Memory backend, auth on, every request carries an API key.',
);
export const oidcCase = proxyHopperCase(
  'oidc',
  'Proxy Hopper, memory, OIDC JWT',
  'Memory backend, auth on, every request carries an RS256 JWT checked against a local JWKS.',
);
export const redisCase = proxyHopperCase(
  'redis',
  'Proxy Hopper, Redis',
  'Redis backend on a local redis-server, auth off.',
);
