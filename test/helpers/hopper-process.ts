/**
 * Proxy Hopper as a separate OS process, started with the real CLI from source
 * (`node --import tsx test/helpers/cli-entry.ts run --config <file>`), for tests that need
 * several instances, a SIGKILL or a restart. The config is written as YAML to a temp file with
 * the proxy and admin ports the caller chose. JSON logs are read from stderr and parsed. The
 * process is stopped by its PID: SIGTERM, then SIGKILL after a bound.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePorts } from './ports.js';
import { makeTempDir, registerCleanup, sleep } from './processes.js';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One parsed JSON log line, or `{ raw }` for a line that is not JSON. */
export type ProcessLogLine = Record<string, unknown> & { level?: string; message?: string };

export interface HopperProcessOptions {
  /** Short label used in failure messages and the temp dir name. */
  name: string;
  /**
   * The config document (camelCase keys). `server.port`, the admin keys and `logFormat` are set
   * here; metrics are off unless `server.metrics` is true (then on a free port).
   */
  config: Record<string, unknown>;
  /** Starts the admin server on its own free port. */
  admin?: boolean;
  /** Reuse these ports (restart with the same config). */
  ports?: { proxyPort: number; adminPort: number | null };
  /** Reuse this config file instead of writing a new one. */
  configPath?: string;
  /** SIGKILL follows SIGTERM after this bound; default 8 s. */
  stopTimeoutMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface HopperProcess {
  name: string;
  pid: number;
  proxyPort: number;
  adminPort: number | null;
  configPath: string;
  logs: ProcessLogLine[];
  exited: Promise<ExitInfo>;
  readonly running: boolean;
  /** Resolves with the first log line (seen or future) that matches; rejects after the bound. */
  waitForLog(match: (line: ProcessLogLine) => boolean, timeoutMs?: number): Promise<ProcessLogLine>;
  /** Polls `/health` of the proxy port (and admin port) until both return `status` (200). */
  waitForHealth(status?: number, timeoutMs?: number): Promise<void>;
  /** Last stderr and stdout text, for failure messages. */
  outputTail(maxChars?: number): string;
  /** SIGTERM, then SIGKILL after the bound; resolves with the exit. */
  stop(): Promise<ExitInfo>;
  /** SIGKILL at once; resolves with the exit. */
  kill(): Promise<ExitInfo>;
}

const started = new Set<ChildProcessWithoutNullStreams>();

process.on('exit', () => {
  for (const child of started) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
});

/** Picks free ports, writes the config and spawns the process; does not wait for readiness. */
export async function spawnHopper(options: HopperProcessOptions): Promise<HopperProcess> {
  const ports = options.ports ?? (await pickPorts(options.admin === true));
  const configPath = options.configPath ?? writeConfig(options, ports);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.toUpperCase().startsWith('PROXY_HOPPER_')),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'run', '--config', configPath], {
    cwd: REPO_ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${options.name}: spawn returned no PID`);
  started.add(child);
  child.stdin.end();
  return track(options, child, child.pid, ports, configPath);
}

/** Spawns the process and waits until its proxy port's `/health` returns 200. */
export async function startHopperProcess(options: HopperProcessOptions): Promise<HopperProcess> {
  const hopper = await spawnHopper(options);
  try {
    await hopper.waitForHealth(200, 20_000);
  } catch (err) {
    await hopper.kill();
    throw err;
  }
  return hopper;
}

/** Starts the same config again on the same ports, for a restart after `stop()`. */
export function restartHopperProcess(
  previous: HopperProcess,
  name = previous.name,
): Promise<HopperProcess> {
  return startHopperProcess({
    name,
    config: {},
    configPath: previous.configPath,
    ports: { proxyPort: previous.proxyPort, adminPort: previous.adminPort },
  });
}

async function pickPorts(admin: boolean): Promise<{ proxyPort: number; adminPort: number | null }> {
  const [proxyPort, adminPort] = await freePorts(admin ? 2 : 1);
  return { proxyPort: proxyPort as number, adminPort: admin ? (adminPort as number) : null };
}

function writeConfig(
  options: HopperProcessOptions,
  ports: { proxyPort: number; adminPort: number | null },
): string {
  const server: Record<string, unknown> = {
    host: '127.0.0.1',
    logLevel: 'DEBUG',
    metrics: false,
    metricsHost: '127.0.0.1',
    metricsPort: 0,
    ...((options.config.server as Record<string, unknown> | undefined) ?? {}),
    port: ports.proxyPort,
    logFormat: 'json',
  };
  if (ports.adminPort !== null) {
    Object.assign(server, { admin: true, adminHost: '127.0.0.1', adminPort: ports.adminPort });
  }
  const dir = makeTempDir(`hopper-${options.name}`);
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, stringify({ ...options.config, server }));
  registerCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return configPath;
}

function track(
  options: HopperProcessOptions,
  child: ChildProcessWithoutNullStreams,
  pid: number,
  ports: { proxyPort: number; adminPort: number | null },
  configPath: string,
): HopperProcess {
  const logs: ProcessLogLine[] = [];
  const waiters = new Set<{
    match: (line: ProcessLogLine) => boolean;
    resolve: (line: ProcessLogLine) => void;
  }>();
  let stderr = '';
  let stdout = '';
  let pending = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-200_000);
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const text of lines) {
      if (text.trim() === '') continue;
      const line = parseLine(text);
      logs.push(line);
      for (const waiter of waiters) {
        if (waiter.match(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout = (stdout + chunk).slice(-50_000);
  });
  let running = true;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      started.delete(child);
      resolve({ code, signal });
    });
  });
  const outputTail = (maxChars = 4000): string =>
    `--- ${options.name} stderr\n${stderr.slice(-maxChars)}\n--- stdout\n${stdout.slice(-maxChars)}`;

  const stopTimeoutMs = options.stopTimeoutMs ?? 8000;
  const stop = async (): Promise<ExitInfo> => {
    if (running) child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (running) child.kill('SIGKILL');
    }, stopTimeoutMs);
    const info = await exited;
    clearTimeout(timer);
    return info;
  };
  registerCleanup(async () => {
    await stop();
  });

  const hopper: HopperProcess = {
    name: options.name,
    pid,
    proxyPort: ports.proxyPort,
    adminPort: ports.adminPort,
    configPath,
    logs,
    exited,
    get running() {
      return running;
    },
    waitForLog: (match, timeoutMs = 10_000) => {
      const seen = logs.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (line: ProcessLogLine) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `${options.name}: no matching log line within ${timeoutMs} ms\n${outputTail()}`,
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    waitForHealth: async (status = 200, timeoutMs = 20_000) => {
      const deadlineMs = Date.now() + timeoutMs;
      let last = 'no response';
      // The admin server starts listening after the proxy port, so both are checked.
      const healthPorts = [ports.proxyPort, ...(ports.adminPort === null ? [] : [ports.adminPort])];
      while (Date.now() < deadlineMs) {
        if (!running) {
          const info = await exited;
          throw new Error(
            `${options.name} exited (${JSON.stringify(info)}) before /health returned ${status}\n${outputTail()}`,
          );
        }
        const statuses = await Promise.all(healthPorts.map((port) => healthStatus(port)));
        if (statuses.every((answer) => answer === status)) return;
        last = statuses
          .map((answer) => (answer === null ? 'no response' : `status ${answer}`))
          .join(' and ');
        await sleep(50);
      }
      throw new Error(
        `${options.name}: /health gave ${last}, not ${status}, within ${timeoutMs} ms\n${outputTail()}`,
      );
    },
    outputTail,
    stop,
    kill: async () => {
      if (running) child.kill('SIGKILL');
      return exited;
    },
  };
  return hopper;
}

function parseLine(text: string): ProcessLogLine {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) return parsed as ProcessLogLine;
  } catch {
    // Not JSON (a stack trace or a plain error line); kept as raw text.
  }
  return { raw: text };
}

/** Status of `GET /health` on the proxy port, or null when nothing responds. */
export async function healthStatus(port: number): Promise<number | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(1000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return null;
  }
}

/** GETs a JSON document from `http://127.0.0.1:<port><path>`. */
export async function getJson<T = Record<string, unknown>>(
  port: number,
  urlPath: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: (await response.json()) as T };
}
