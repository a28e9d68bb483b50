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
  // Listening before the start, so a signal that arrives while starting still stops cleanly.
  const stopSignal = waitForStopSignal();
  let running: Awaited<ReturnType<typeof startProxyHopper>>;
  try {
    running = await startProxyHopper(config);
  } catch (err) {
    stopSignal.cancel();
    printErr(`Error: Proxy Hopper failed to start: ${messageOf(err)}`);
    return 1;
  }
  await stopSignal.received;
  try {
    await running.stop();
    return 0;
  } catch (err) {
    printErr(`Error: shutdown failed: ${messageOf(err)}`);
    return 1;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface StopSignal {
  received: Promise<NodeJS.Signals>;
  cancel(): void;
}

function waitForStopSignal(): StopSignal {
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const cancel = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const received = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (signal) => {
      cancel();
      resolve(signal);
    };
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { received, cancel };
}
