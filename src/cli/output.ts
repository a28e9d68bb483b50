/** Writers for the CLI's own output; tests capture them through the child process's streams. */
import { ConfigError } from '../errors/index.js';

export function printOut(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function printErr(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Prints each config problem as `Config error: <path>: <message>`, or the error itself. */
export function printConfigError(err: unknown): void {
  if (err instanceof ConfigError) {
    for (const issue of err.issues) {
      printErr(
        issue.path
          ? `Config error: ${issue.path}: ${issue.message}`
          : `Config error: ${issue.message}`,
      );
    }
    return;
  }
  printErr(`Error: ${err instanceof Error ? err.message : String(err)}`);
}

export function printWarnings(warnings: readonly string[]): void {
  for (const warning of warnings) printErr(`Warning: ${warning}`);
}
