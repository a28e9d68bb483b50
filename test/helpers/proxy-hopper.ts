/**
 * Proxy Hopper itself, started in-process from YAML text or a plain config document through the
 * real config loader, on a free loopback port. Its JSON log lines are parsed and collected so
 * tests can assert on them as data.
 */
import type { DestinationStream } from 'pino';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import type { Config } from '../../src/config/types.js';
import { createLogger } from '../../src/observe/logger.js';
import { startProxyHopper, type RunningProxyHopper } from '../../src/server/index.js';
import { registerCleanup } from './processes.js';

/** One parsed JSON log line. */
export type LogLine = Record<string, unknown> & { level: string; message: string };

export interface TestHopper {
  running: RunningProxyHopper;
  config: Config;
  proxyPort: number;
  /** `http://127.0.0.1:<proxyPort>`. */
  origin: string;
  logs: LogLine[];
  /** Every log line exactly as written (newline removed), for checking that no secret leaks. */
  rawLogLines: string[];
  /** Resolves with the first log line (already seen or future) that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  stop(): Promise<void>;
}

/** A config document as it would appear in YAML (camelCase keys). */
export type ConfigDocument = Record<string, unknown>;

/** Server settings every test hopper gets unless the document sets them. */
const TEST_SERVER_DEFAULTS = { host: '127.0.0.1', port: 0, logLevel: 'DEBUG', logFormat: 'json' };

/**
 * Starts Proxy Hopper. A document gets the test server defaults merged under its own `server`
 * block; YAML text is used as written. The environment is empty, so `PROXY_HOPPER_*`
 * variables of the test runner cannot change the config.
 */
export async function startHopper(source: string | ConfigDocument): Promise<TestHopper> {
  const text = typeof source === 'string' ? source : documentToYaml(source);
  const config = parseConfig(text, { env: {}, source: null });
  return startHopperWithConfig(config);
}

export function documentToYaml(document: ConfigDocument): string {
  const server = { ...TEST_SERVER_DEFAULTS, ...((document.server as object | undefined) ?? {}) };
  return stringify({ ...document, server });
}

export async function startHopperWithConfig(config: Config): Promise<TestHopper> {
  const logs: LogLine[] = [];
  const rawLogLines: string[] = [];
  const waiters = new Set<{
    match: (line: LogLine) => boolean;
    resolve: (line: LogLine) => void;
  }>();
  const destination: DestinationStream = {
    write(line: string): void {
      rawLogLines.push(line.replace(/\n$/, ''));
      const parsed = JSON.parse(line) as LogLine;
      logs.push(parsed);
      for (const waiter of waiters) {
        if (waiter.match(parsed)) {
          waiters.delete(waiter);
          waiter.resolve(parsed);
        }
      }
    },
  };
  const logger = createLogger({ ...config.server, logFormat: 'json' }, destination);
  const running = await startProxyHopper(config, { logger, shutdownGraceMs: 1000 });
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => (stopped ??= running.stop());
  registerCleanup(stop);
  return {
    running,
    config,
    proxyPort: running.proxyPort,
    origin: `http://127.0.0.1:${running.proxyPort}`,
    logs,
    rawLogLines,
    waitForLog: (match, timeoutMs = 5000) => {
      const seen = logs.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<LogLine>((resolve, reject) => {
        const waiter = { match, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(`no matching log line within ${timeoutMs} ms; last lines:\n${tail(logs)}`),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    stop,
  };
}

function tail(logs: LogLine[]): string {
  return logs
    .slice(-15)
    .map((line) => JSON.stringify(line))
    .join('\n');
}
