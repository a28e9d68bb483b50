/** Finds the config file for `run` and `validate`: the flag or argument, else PROXY_HOPPER_CONFIG. */
import { printErr } from './output.js';

export const MISSING_CONFIG_MESSAGE = 'Error: --config / PROXY_HOPPER_CONFIG is required.';

/** Returns the config path, or undefined after printing the missing-config error. */
export function resolveConfigPath(...candidates: (string | undefined)[]): string | undefined {
  const fromEnv = process.env.PROXY_HOPPER_CONFIG;
  const path = [...candidates, fromEnv].find((value) => value !== undefined && value.trim() !== '');
  if (path === undefined) printErr(MISSING_CONFIG_MESSAGE);
  return path;
}
