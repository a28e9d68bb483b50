/** `validate`: loads a config like `run` does, then prints a summary or every problem. */
import { loadConfigFile } from '../config/index.js';
import { resolveConfigPath } from './config-path.js';
import { printConfigError, printOut, printWarnings } from './output.js';
import { formatSummary } from './summary.js';

export function validateConfig(file: string | undefined, configFlag: string | undefined): number {
  const path = resolveConfigPath(file, configFlag);
  if (path === undefined) return 1;
  try {
    const config = loadConfigFile(path, { requireTargets: true });
    printWarnings(config.warnings);
    for (const line of formatSummary(config)) printOut(line);
    return 0;
  } catch (err) {
    printConfigError(err);
    return 1;
  }
}
