/**
 * One squid process listening on many loopback ports, with basic auth. Each port stands for
 * one upstream proxy "IP" of a pool: Proxy Hopper and proxy-chain see `portCount` distinct
 * upstream addresses while all traffic goes through the same squid, which keeps the upstream
 * cost equal across cases.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePorts, portAccepts } from './ports.js';
import { spawnChild, waitUntil, type BenchChild } from './process.js';

export const SQUID_USER = 'bench';
export const SQUID_PASSWORD = 'bench-pw';

export interface SquidPeer {
  ports: number[];
  /** `Basic ...` value for `Proxy-Authorization`. */
  proxyAuthorization: string;
  child: BenchChild;
  stop(): Promise<void>;
}

function writeConfig(dir: string, ports: number[]): string {
  const lines = [
    ...ports.map((port) => `http_port 127.0.0.1:${port}`),
    `pid_filename ${dir}/squid.pid`,
    `cache_log ${dir}/cache.log`,
    'access_log none',
    'cache deny all',
    'cache_mem 8 MB',
    `coredump_dir ${dir}`,
    'netdb_filename none',
    'pinger_enable off',
    'shutdown_lifetime 0 seconds',
    `auth_param basic program /usr/lib/squid/basic_ncsa_auth ${dir}/htpasswd`,
    'auth_param basic children 2 startup=1 idle=1',
    'acl authed proxy_auth REQUIRED',
    'http_access allow authed',
    'http_access deny all',
  ];
  const configPath = path.join(dir, 'squid.conf');
  fs.writeFileSync(configPath, lines.join('\n') + '\n');
  return configPath;
}

function writePasswordFile(dir: string): void {
  const result = spawnSync('htpasswd', [
    '-bc',
    path.join(dir, 'htpasswd'),
    SQUID_USER,
    SQUID_PASSWORD,
  ]);
  if (result.error || result.status !== 0) {
    const reason = result.error?.message ?? result.stderr.toString();
    throw new Error(`htpasswd failed (install apache2-utils): ${reason}`);
  }
}

/**
 * Starts squid on `portCount` free ports inside `parentDir`. Squid started as root drops to
 * the user `proxy`, so the work dir is made world-writable and its parent world-readable.
 */
export async function startSquid(parentDir: string, portCount: number): Promise<SquidPeer> {
  const dir = path.join(parentDir, 'squid');
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(parentDir, 0o755);
  fs.chmodSync(dir, 0o777);
  writePasswordFile(dir);
  fs.chmodSync(path.join(dir, 'htpasswd'), 0o644);

  const ports = await freePorts(portCount);
  const configPath = writeConfig(dir, ports);
  const child = await spawnChild({
    name: 'squid',
    command: 'squid',
    args: ['-N', '-f', configPath],
    logPath: path.join(dir, 'stdout.log'),
  });
  const logTail = (): string => fs.readFileSync(path.join(dir, 'cache.log'), 'utf8').slice(-1500);
  try {
    await waitUntil(
      'squid',
      async () => (await Promise.all(ports.map((port) => portAccepts(port)))).every(Boolean),
      { timeoutMs: 10_000, child },
    );
  } catch (err) {
    await child.stop('SIGKILL');
    throw new Error(`${(err as Error).message}\ncache.log:\n${logTail()}`);
  }
  const credentials = Buffer.from(`${SQUID_USER}:${SQUID_PASSWORD}`).toString('base64');
  return {
    ports,
    proxyAuthorization: `Basic ${credentials}`,
    child,
    // Squid 5.7 was seen to exit about 2 s after SIGINT. SIGKILL after 5 s bounds the wait.
    stop: () => child.stop('SIGINT', 5000),
  };
}
