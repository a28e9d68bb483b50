/** `run`: loads the config, starts Proxy Hopper and stops it on SIGINT or SIGTERM. */
import { loadConfigFile } from '../config/index.js';
import type { Config } from '../config/types.js';
import { resolveConfigPath } from './config-path.js';
import { printConfigError, printErr } from './output.js';
import { toServerOverrides, type RunFlags } from './run-options.js';

export async function runProxyHopper(flags: RunFlags): Promise<number> {
  const path = resolveConfigPath(flags.config);
  if (path === undefined) return 1;
  let config: Config;
  try {
    config = loadConfigFile(path, { overrides: toServerOverrides(flags) });
  } catch (err) {
    printConfigError(err);
    return 1;
  }
  // Imported here so that validate and the hash commands do not load the whole server.
  const { startProxyHopper } = await import('../server/index.js');
  let running: Awaited<ReturnType<typeof startProxyHopper>>;
  try {
    running = await startProxyHopper(config);
  } catch (err) {
    printErr(
      `Error: Proxy Hopper failed to start: ${err instanceof Error ? err.message : String(err)}`,
    );
    return 1;
  }
  await waitForStopSignal();
  try {
    await running.stop();
    return 0;
  } catch (err) {
    printErr(`Error: shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
