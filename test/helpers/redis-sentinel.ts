/**
 * Starts a primary, one replica and one Sentinel (quorum 1) on free loopback ports, for
 * failover tests. Every process runs in its own temp dir and is stopped by its PID.
 */
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

export interface SentinelSetup {
  primary: RedisServerHandle;
  replica: RedisServerHandle;
  sentinelPort: number;
  masterName: string;
  /** `redis+sentinel://` URL with the data password. */
  url: string;
  /** Resolves once the Sentinel log contains `text`, such as `+switch-master`. */
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

export async function startSentinelSetup(password: string): Promise<SentinelSetup> {
  const masterName = 'phmaster';
  // Without the delay, a replica syncs at once instead of after the default 5 s.
  const auth = ['--masterauth', password, '--repl-diskless-sync-delay', '0'];
  const primary = await startRedisServer({ password, extraArgs: auth });
  const replicaOf = ['--replicaof', '127.0.0.1', String(primary.port)];
  const replica = await startRedisServer({ password, extraArgs: [...auth, ...replicaOf] });

  const dir = await makeTempDir('sentinel');
  const sentinelPort = await freePort();
  const logFile = join(dir, 'sentinel.log');
  const config = [
    `port ${sentinelPort}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    `logfile ${logFile}`,
    `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} 1`,
    `sentinel auth-pass ${masterName} ${password}`,
    `sentinel down-after-milliseconds ${masterName} 300`,
    `sentinel failover-timeout ${masterName} 3000`,
  ];
  const configFile = join(dir, 'sentinel.conf');
  await writeFile(configFile, `${config.join('\n')}\n`);
  const sentinel = await spawnBinary('redis-sentinel', [configFile]);

  const waitForSentinelLog = async (text: string, timeoutMs: number) => {
    const deadlineMs = Date.now() + timeoutMs;
    while (Date.now() < deadlineMs) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      if (log.includes(text)) return;
      await sleep(20);
    }
    throw new Error(`Sentinel did not log '${text}' within ${timeoutMs} ms (log: ${logFile})`);
  };
  const stop = async () => {
    await stopChild(sentinel, false);
    await primary.stop();
    await replica.stop();
    await removeDir(dir);
  };
  try {
    await waitForReplicaLink(replica);
    await waitForSentinelLog('+monitor master', 5000);
    await waitForSentinelLog('+slave slave', 15_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    primary,
    replica,
    sentinelPort,
    masterName,
    url: `redis+sentinel://:${encodeURIComponent(password)}@127.0.0.1:${sentinelPort}/${masterName}`,
    waitForSentinelLog,
    stop,
  };
}
