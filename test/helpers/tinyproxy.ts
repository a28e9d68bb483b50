/**
 * tinyproxy (Debian package `tinyproxy`, 1.11.1 tested) as a second kind of real upstream
 * proxy, in the foreground (`-d`) from its own temp dir. It rejects *wrong* credentials with
 * `401 Unauthorized` (missing ones with 407), and always talks HTTP/1.0 with
 * `Connection: close` to the target.
 */
import fs from 'node:fs';
import path from 'node:path';
import { withFreePort } from './ports.js';
import { makeTempDir, registerCleanup, requireBinary, startPeer, type Peer } from './processes.js';
import type { ProxyUser } from './squid.js';

export interface TinyproxyOptions {
  /** BasicAuth user; null turns auth off. Default: carol / pw3. */
  user?: ProxyUser | null;
  /** Outgoing source address (`Bind`). Default 127.0.0.5. */
  bindAddress?: string;
  /** Keep tinyproxy's Via header (default: removed). */
  addViaHeader?: boolean;
}

export const DEFAULT_TINYPROXY_USER: ProxyUser = { username: 'carol', password: 'pw3' };

export interface TinyproxyPeer {
  peer: Peer;
  dir: string;
  port: number;
  bindAddress: string;
  user: ProxyUser | null;
  address(): string;
  proxyUrl(user?: ProxyUser | null): string;
  stop(): Promise<void>;
}

export function startTinyproxy(options: TinyproxyOptions = {}): Promise<TinyproxyPeer> {
  return withFreePort((port) => launch(options, port));
}

async function launch(options: TinyproxyOptions, port: number): Promise<TinyproxyPeer> {
  const tinyproxy = requireBinary('tinyproxy', 'tinyproxy');
  const user = options.user === undefined ? DEFAULT_TINYPROXY_USER : options.user;
  const bindAddress = options.bindAddress ?? '127.0.0.5';
  const dir = makeTempDir('tinyproxy', true);
  const lines = [
    'Listen 127.0.0.1',
    `Port ${port}`,
    'Timeout 60',
    'MaxClients 200',
    'LogLevel Info',
    `PidFile "${dir}/tinyproxy.pid"`,
    `Bind ${bindAddress}`,
  ];
  if (user !== null) lines.push(`BasicAuth ${user.username} ${user.password}`);
  if (options.addViaHeader !== true) lines.push('DisableViaHeader Yes');
  const confPath = path.join(dir, 'tinyproxy.conf');
  fs.writeFileSync(confPath, `${lines.join('\n')}\n`, { mode: 0o644 });
  let peer: Peer;
  try {
    peer = await startPeer(
      {
        name: 'tinyproxy',
        command: tinyproxy,
        args: ['-d', '-c', confPath],
        ready: { ports: [port] },
        stopTimeoutMs: 4000,
      },
      dir,
    );
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    // tinyproxy reports a taken port only as "Could not create listening sockets".
    if (err instanceof Error && err.message.includes('Could not create listening sockets')) {
      throw Object.assign(new Error(err.message), { code: 'EADDRINUSE' });
    }
    throw err;
  }
  const stop = async (): Promise<void> => {
    await peer.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // cleanupAll stops the peer through this, so its temp dir goes too.
  registerCleanup(stop);
  const address = (): string => `127.0.0.1:${port}`;
  return {
    peer,
    dir,
    port,
    bindAddress,
    user,
    address,
    proxyUrl: (who = user) => {
      const auth = who === null ? '' : `${who.username}:${who.password}@`;
      return `http://${auth}${address()}`;
    },
    stop,
  };
}
