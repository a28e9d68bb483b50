/** The summary that `validate` prints for a valid config, in the original's Python-repr style. */
import { pyListRepr, pyRepr } from '../config/index.js';
import type { Config } from '../config/types.js';

export function formatSummary(config: Config): string[] {
  const lines = [`Providers: ${config.providers.length} defined.`];
  for (const provider of config.providers) {
    const region = provider.regionTag ? `, region=${pyRepr(provider.regionTag)}` : '';
    const auth = provider.credentials ? 'auth=basic' : 'auth=none';
    lines.push(`  ${pyRepr(provider.name)}: ${provider.ipList.length} IP(s)${region}, ${auth}`);
  }
  lines.push(`Pools: ${config.pools.length} defined.`);
  for (const pool of config.pools) {
    const providers = [...new Set(pool.ipRequests.map((request) => request.provider))];
    lines.push(
      `  ${pyRepr(pool.name)}: ${pool.ipRequests.length} request(s), providers=${pyListRepr(providers)}`,
    );
  }
  lines.push(`Config OK — ${config.targets.length} target(s) defined.`);
  for (const target of config.targets) {
    // Python prints None for a target without a pool; here that is a target with an inline ipList.
    const pool = target.poolName ? pyRepr(target.poolName) : 'None';
    lines.push(
      `  ${pyRepr(target.name)}: ${target.ips.length} IP(s), pool=${pool}, regex=${pyRepr(target.regexSource)}`,
    );
  }
  const { host, port, backend } = config.server;
  lines.push(`Server defaults: host=${host}, port=${port}, backend=${backend}`);
  return lines;
}
