/** A throwaway redis-server on a free loopback port, with persistence off. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './ports.js';
import { spawnChild, waitUntil, type BenchChild } from './process.js';

export interface RedisPeer {
  url: string;
  child: BenchChild;
  stop(): Promise<void>;
}

/** Resolves true when the server at `port` replies to PING with PONG. */
function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.once('error', () => done(false));
  });
}

export async function startRedis(parentDir: string): Promise<RedisPeer> {
  const dir = path.join(parentDir, 'redis');
  fs.mkdirSync(dir, { recursive: true });
  // Redis treats `--port 0` as "no TCP listener", so the port is probed first.
  const port = await freePort();
  const child = await spawnChild({
    name: 'redis-server',
    command: 'redis-server',
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--dir',
      dir,
    ],
    logPath: path.join(dir, 'redis.log'),
  });
  await waitUntil('redis-server', () => pingRedis(port), { timeoutMs: 10_000, child });
  return {
    url: `redis://127.0.0.1:${port}/0`,
    child,
    stop: () => child.stop('SIGTERM', 5000),
  };
}
