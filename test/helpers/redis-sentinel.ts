/**
 * Starts a primary, one replica and one or more Sentinels (quorum: a majority of them) on free
 * loopback ports, for failover tests. Every process runs in a temp dir and is stopped by its PID.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  freePort,
  makeTempDir,
  redisCli,
  removeDir,
  spawnBinary,
  startRedisServer,
  stopChild,
  type RedisServerHandle,
} from './redis-server.js';

export interface SentinelOptions {
  /** Number of Sentinels; default 1. */
  sentinels?: number;
  /** Password the Sentinels require from clients and from each other (`requirepass`). */
  sentinelPassword?: string;
}

export interface SentinelSetup {
  primary: RedisServerHandle;
  replica: RedisServerHandle;
  /** Port of the first Sentinel. */
  sentinelPort: number;
  sentinelPorts: number[];
  masterName: string;
  /**
   * `redis+sentinel://` URL with the data password and every Sentinel, plus
   * `?sentinelPassword=` when the Sentinels have their own password.
   */
  url: string;
  /** Resolves once the log of any Sentinel contains `text`, such as `+switch-master`. */
  waitForSentinelLog(text: string, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

async function waitForReplicaLink(replica: RedisServerHandle): Promise<void> {
  const deadlineMs = Date.now() + 10_000;
  while (Date.now() < deadlineMs) {
    const info = await redisCli(replica, ['INFO', 'replication']);
    if (info.includes('master_link_status:up')) return;
    await sleep(20);
  }
  throw new Error(`replica on port ${replica.port} did not sync with its primary within 10 s`);
}

export async function startSentinelSetup(
  password: string,
  options: SentinelOptions = {},
): Promise<SentinelSetup> {
  const masterName = 'phmaster';
  const count = options.sentinels ?? 1;
  const quorum = Math.floor(count / 2) + 1;
  // Without the delay, a replica syncs at once instead of after the default 5 s.
  const auth = ['--masterauth', password, '--repl-diskless-sync-delay', '0'];
  const primary = await startRedisServer({ password, extraArgs: auth });
  const replicaOf = ['--replicaof', '127.0.0.1', String(primary.port)];
  const replica = await startRedisServer({ password, extraArgs: [...auth, ...replicaOf] });

  const dir = await makeTempDir('sentinel');
  const sentinelPorts: number[] = [];
  const logFiles: string[] = [];
  const sentinels: ChildProcess[] = [];
  /** Waits until `text` occurs `times` times in every Sentinel's log if `all`, else in one. */
  const waitForLogs = async (text: string, timeoutMs: number, all: boolean, times = 1) => {
    const deadlineMs = Date.now() + timeoutMs;
    const logged = (log: string) => log.split(text).length > times;
    while (Date.now() < deadlineMs) {
      const logs = await Promise.all(
        logFiles.map((file) => readFile(file, 'utf8').catch(() => '')),
      );
      if (all ? logs.every(logged) : logs.some(logged)) return;
      await sleep(20);
    }
    const where = logFiles.join(', ');
    throw new Error(`Sentinel did not log '${text}' within ${timeoutMs} ms (logs: ${where})`);
  };
  const waitForSentinelLog = (text: string, timeoutMs: number) =>
    waitForLogs(text, timeoutMs, false);
  // Also stops the Sentinels started so far when a start fails.
  const stop = async () => {
    await Promise.all(sentinels.map((sentinel) => stopChild(sentinel, false)));
    await primary.stop();
    await replica.stop();
    await removeDir(dir);
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const logFile = join(dir, `sentinel-${i}.log`);
      const config = [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `logfile ${logFile}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} ${quorum}`,
        `sentinel auth-pass ${masterName} ${password}`,
        `sentinel down-after-milliseconds ${masterName} 300`,
        `sentinel failover-timeout ${masterName} 3000`,
      ];
      if (options.sentinelPassword !== undefined) {
        config.push(
          `requirepass ${options.sentinelPassword}`,
          `sentinel sentinel-pass ${options.sentinelPassword}`,
        );
      }
      // Each Sentinel rewrites its own config file, so every Sentinel gets one.
      const configFile = join(dir, `sentinel-${i}.conf`);
      await writeFile(configFile, `${config.join('\n')}\n`);
      sentinels.push(await spawnBinary('redis-sentinel', [configFile]));
      sentinelPorts.push(port);
      logFiles.push(logFile);
    }
    await waitForReplicaLink(replica);
    await waitForLogs('+monitor master', 5000, true);
    await waitForLogs('+slave slave', 15_000, true);
    // Sentinels find each other through hello messages on the primary every 2 s. A failover
    // needs a majority of them to know each other.
    if (count > 1) await waitForLogs('+sentinel sentinel', 15_000, true, count - 1);
  } catch (err) {
    await stop();
    throw err;
  }
  const hosts = sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',');
  const query =
    options.sentinelPassword === undefined
      ? ''
      : `?sentinelPassword=${encodeURIComponent(options.sentinelPassword)}`;
  return {
    primary,
    replica,
    sentinelPort: sentinelPorts[0] as number,
    sentinelPorts,
    masterName,
    url: `redis+sentinel://:${encodeURIComponent(password)}@${hosts}/${masterName}${query}`,
    waitForSentinelLog,
    stop,
  };
}
