/**
 * The peer: Apify's proxy-chain 3 as a chaining proxy that picks the next squid port for each
 * request (prepareRequestFunction returning upstreamProxyUrl), run in its own process.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SQUID_PASSWORD, SQUID_USER } from '../peers/squid.js';
import { freePort, portAccepts } from '../peers/ports.js';
import { spawnChild, waitUntil } from '../peers/process.js';
import type { BenchCase } from './types.js';

const childScript = fileURLToPath(new URL('../peers/proxy-chain-child.mjs', import.meta.url));

export const proxyChainCase: BenchCase = {
  id: 'proxy-chain',
  label: 'proxy-chain 3 (round-robin)',
  description:
    'wrk sends absolute-form requests to proxy-chain, which forwards each to the next squid port.',
  async start(env) {
    const port = await freePort();
    const upstreams = env.squid.ports.map(
      (squidPort) => `http://${SQUID_USER}:${SQUID_PASSWORD}@127.0.0.1:${squidPort}`,
    );
    const profileArgs = env.cpuProfileDir
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${env.cpuProfileDir}`,
          '--cpu-prof-name=proxy-chain.cpuprofile',
        ]
      : [];
    const child = await spawnChild({
      name: 'proxy-chain',
      command: process.execPath,
      args: [...profileArgs, childScript, String(port), ...upstreams],
      cwd: env.repoRoot,
      logPath: path.join(env.dir, 'proxy-chain.log'),
    });
    await waitUntil('proxy-chain', () => portAccepts(port), { timeoutMs: 10_000, child });
    return {
      pid: child.pid,
      request: (size) => ({
        port,
        path: `${env.target.origin}/${size}`,
        headers: { Host: `127.0.0.1:${env.target.port}` },
      }),
      stop: () => child.stop('SIGTERM', 5000),
    };
  },
};
