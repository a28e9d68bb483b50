/**
 * Starts a three-primary Redis Cluster on free loopback ports (no replicas, no persistence),
 * each node in its own temp dir, joined with `redis-cli --cluster create`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisCli, startRedisServer, type RedisServerHandle } from './redis-server.js';

const execFileAsync = promisify(execFile);

export interface RedisClusterHandle {
  nodes: RedisServerHandle[];
  /** `redis+cluster://` URL with every node as a seed. */
  url: string;
  stop(): Promise<void>;
}

export async function startRedisCluster(password: string): Promise<RedisClusterHandle> {
  const nodes: RedisServerHandle[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const clusterArgs = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];
      const authArgs = ['--masterauth', password];
      nodes.push(await startRedisServer({ password, extraArgs: [...clusterArgs, ...authArgs] }));
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await execFileAsync('redis-cli', [
      ...['-a', password, '--no-auth-warning', '--cluster', 'create', ...addresses],
      ...['--cluster-replicas', '0', '--cluster-yes'],
    ]);
    await waitForClusterOk(nodes);
  } catch (err) {
    await stopNodes(nodes);
    throw err;
  }
  const seeds = nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  return {
    nodes,
    url: `redis+cluster://:${encodeURIComponent(password)}@${seeds}`,
    stop: () => stopNodes(nodes),
  };
}

async function waitForClusterOk(nodes: RedisServerHandle[]): Promise<void> {
  const deadlineMs = Date.now() + 15_000;
  while (Date.now() < deadlineMs) {
    const infos = await Promise.all(nodes.map((node) => redisCli(node, ['CLUSTER', 'INFO'])));
    if (infos.every((info) => info.includes('cluster_state:ok'))) return;
    await sleep(50);
  }
  throw new Error('Redis Cluster did not reach cluster_state:ok within 15 s');
}

async function stopNodes(nodes: RedisServerHandle[]): Promise<void> {
  for (const node of nodes) {
    await node.stop();
  }
}
