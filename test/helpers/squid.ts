/**
 * Squid (Debian package `squid`, 5.7 tested) as a real upstream proxy. Each instance runs in
 * the foreground (`-N`) from its own temp dir with basic auth from an htpasswd file, no disk
 * cache and `shutdown_lifetime 0`. Each listening port can have its own outgoing address
 * (`acl <name> myportname` + `tcp_outgoing_address <ip> <name>`), so one process can act as
 * many upstream "IPs". The target distinguishes them by source address.
 *
 * Started as root, squid drops to user `proxy`, which must be able to read the htpasswd file
 * and write the logs. For that reason the temp dir is made 0777 and the files world-readable.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { withFreePorts } from './ports.js';
import { makeTempDir, registerCleanup, requireBinary, startPeer, type Peer } from './processes.js';
import { TEST_TLS_NAMES } from './tls.js';

export interface ProxyUser {
  username: string;
  password: string;
}

export interface SquidOptions {
  /** Users allowed through; an empty list turns auth off. Default: alice / s3cret. */
  users?: ProxyUser[];
  /** Outgoing address of each listening port; its length is the number of ports. */
  outgoingAddresses?: string[];
  /** Keep squid's own Via and X-Forwarded-For headers (default: removed). */
  addForwardingHeaders?: boolean;
  /** Extra squid.conf lines, appended at the end. */
  extraConfig?: string[];
  /**
   * Ports to listen on, one per outgoing address, such as the ports of a stopped squid that a
   * test starts again. Default: free ports, picked again when one is taken before the bind.
   */
  ports?: number[];
}

export const DEFAULT_PROXY_USER: ProxyUser = { username: 'alice', password: 's3cret' };

/** One running squid process and its ports. */
export interface SquidPeer {
  peer: Peer;
  dir: string;
  /** Listening ports, in the order of `outgoingAddresses`. */
  ports: number[];
  /** First listening port. */
  port: number;
  outgoingAddresses: string[];
  users: ProxyUser[];
  /** `host:port` of the port with index `index`, as ipList entries spell it. */
  address(index?: number): string;
  /** `http://user:pass@127.0.0.1:port` for clients such as curl `-x`. */
  proxyUrl(index?: number, user?: ProxyUser): string;
  accessLog(): string;
  /** access.log lines of real requests (readiness probes that send nothing are left out). */
  accessLines(): string[];
  stop(): Promise<void>;
}

/** Starts one squid with one port per outgoing address (default: one port, 127.0.0.2). */
export function startSquid(options: SquidOptions = {}): Promise<SquidPeer> {
  const outgoing = options.outgoingAddresses ?? ['127.0.0.2'];
  if (options.ports !== undefined) {
    if (options.ports.length !== outgoing.length) {
      const counts = `${options.ports.length} ports for ${outgoing.length} addresses`;
      return Promise.reject(new Error(`squid needs one port per outgoing address: got ${counts}`));
    }
    return launch(options, outgoing, options.ports);
  }
  return withFreePorts(outgoing.length, (ports) => launch(options, outgoing, ports));
}

/** Starts `count` squids, one port each, with outgoing addresses 127.0.0.(first + i). */
export function startSquids(
  count: number,
  options: SquidOptions = {},
  first = 2,
): Promise<SquidPeer[]> {
  const starts = Array.from({ length: count }, (_, i) =>
    startSquid({ ...options, outgoingAddresses: [`127.0.0.${first + i}`] }),
  );
  return Promise.all(starts);
}

async function launch(
  options: SquidOptions,
  outgoing: string[],
  ports: number[],
): Promise<SquidPeer> {
  const squid = requireBinary('squid', 'squid');
  const users = options.users ?? [DEFAULT_PROXY_USER];
  const dir = makeTempDir('squid', true);
  if (users.length > 0) writeHtpasswd(dir, users);
  writeHosts(dir);
  const confPath = path.join(dir, 'squid.conf');
  fs.writeFileSync(confPath, squidConfig(dir, options, users, outgoing, ports), { mode: 0o644 });
  const cacheLog = path.join(dir, 'cache.log');
  let peer: Peer;
  try {
    peer = await startPeer(
      {
        name: 'squid',
        command: squid,
        args: ['-N', '-f', confPath],
        ready: { logLine: /Accepting HTTP Socket connections/, logFile: cacheLog, ports },
        stopSignal: 'SIGINT',
        stopTimeoutMs: 4000,
        extraLogs: [cacheLog],
      },
      dir,
    );
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const stop = async (): Promise<void> => {
    await peer.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // cleanupAll stops the peer through this, so its temp dir goes too.
  registerCleanup(stop);
  const address = (index = 0): string => `127.0.0.1:${ports[index]}`;
  return {
    peer,
    dir,
    ports,
    port: ports[0] as number,
    outgoingAddresses: outgoing,
    users,
    address,
    proxyUrl: (index = 0, user = users[0]) => {
      const auth = user === undefined ? '' : `${user.username}:${user.password}@`;
      return `http://${auth}${address(index)}`;
    },
    accessLog: () => readOr(path.join(dir, 'access.log')),
    accessLines: () =>
      readOr(path.join(dir, 'access.log'))
        .split('\n')
        .filter((line) => line !== '' && !line.includes('transaction-end-before-headers')),
    stop,
  };
}

function squidConfig(
  dir: string,
  options: SquidOptions,
  users: ProxyUser[],
  outgoing: string[],
  ports: number[],
): string {
  const lines = [
    ...ports.map((port, i) => `http_port 127.0.0.1:${port} name=p${i}`),
    `pid_filename ${dir}/squid.pid`,
    `cache_log ${dir}/cache.log`,
    `access_log stdio:${dir}/access.log`,
    `coredump_dir ${dir}`,
    `hosts_file ${dir}/hosts`,
    // Names missing from the hosts file must not be looked up on a real DNS server.
    'dns_nameservers 127.0.0.1',
    'dns_timeout 2 seconds',
    'cache deny all',
    'cache_mem 8 MB',
    'netdb_filename none',
    'pinger_enable off',
    'shutdown_lifetime 0 seconds',
    'client_lifetime 5 minutes',
    // Log whole URLs so tests can check the query that reached squid.
    'strip_query_terms off',
    // With the default 512 KB, squid 5.7 sometimes takes a full request buffer for a client
    // EOF and drops fast large uploads (seen with Node clients and 20 MiB bodies).
    'client_request_buffer_max_size 64 MB',
  ];
  if (users.length > 0) {
    lines.push(
      `auth_param basic program /usr/lib/squid/basic_ncsa_auth ${dir}/htpasswd`,
      'auth_param basic children 4 startup=1 idle=1',
      'auth_param basic credentialsttl 1 minute',
      'acl authed proxy_auth REQUIRED',
      'http_access allow authed',
      'http_access deny all',
    );
  } else {
    lines.push('http_access allow all');
  }
  if (options.addForwardingHeaders !== true) lines.push('via off', 'forwarded_for delete');
  outgoing.forEach((address, i) => {
    lines.push(`acl p${i} myportname p${i}`, `tcp_outgoing_address ${address} p${i}`);
  });
  lines.push(...(options.extraConfig ?? []));
  return `${lines.join('\n')}\n`;
}

function writeHtpasswd(dir: string, users: ProxyUser[]): void {
  const htpasswd = requireBinary('htpasswd', 'apache2-utils');
  const file = path.join(dir, 'htpasswd');
  users.forEach((user, i) => {
    const flags = i === 0 ? '-bc' : '-b';
    const result = spawnHtpasswd(htpasswd, [flags, file, user.username, user.password]);
    if (result !== 0) throw new Error(`htpasswd failed for user ${user.username} (exit ${result})`);
  });
  fs.chmodSync(file, 0o644);
}

function spawnHtpasswd(binary: string, args: string[]): number | null {
  return spawnSync(binary, args, { stdio: 'ignore' }).status;
}

function writeHosts(dir: string): void {
  const names = ['localhost', ...TEST_TLS_NAMES].join(' ');
  fs.writeFileSync(path.join(dir, 'hosts'), `127.0.0.1 ${names}\n::1 ip6-localhost\n`, {
    mode: 0o644,
  });
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
