/**
 * Child processes of the benchmark: peers (squid, redis) and the systems under test. Output goes
 * to a log file so a failed start can show what the child printed. Children are stopped by the
 * PID saved at spawn, never by name, and every child still running when the benchmark exits is
 * sent SIGKILL by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  logPath: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A started child process with its PID and log file. */
export class BenchChild {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private hasExited = false;

  constructor(
    spec: ChildSpec,
    private readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`${spec.name}: spawn returned no PID`);
    this.name = spec.name;
    this.pid = child.pid;
    this.logPath = spec.logPath;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.hasExited = true;
        running.delete(child);
        resolve({ code, signal });
      });
    });
  }

  get isRunning(): boolean {
    return !this.hasExited;
  }

  /** Returns the last `maxBytes` of the child's log, for error messages. */
  logTail(maxBytes = 2000): string {
    try {
      const text = fs.readFileSync(this.logPath, 'utf8');
      return text.slice(-maxBytes);
    } catch {
      return '(no log)';
    }
  }

  /** Sends `signal`, then SIGKILL when the child has not exited after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<void> {
    if (!this.isRunning) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Spawns a child whose stdout and stderr go to `spec.logPath`. */
export async function spawnChild(spec: ChildSpec): Promise<BenchChild> {
  const log = fs.openSync(spec.logPath, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', log, log],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`${spec.name}: spawn failed: ${err.message}`)));
    });
    running.add(child);
    return new BenchChild(spec, child);
  } finally {
    fs.closeSync(log);
  }
}

/**
 * Polls `check` every `intervalMs` until it returns true. Throws after `timeoutMs`, or at once
 * when `child` exits, with the child's log tail in the message.
 */
export async function waitUntil(
  name: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; child?: BenchChild },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (options.child && !options.child.isRunning) {
      throw new Error(`${name}: process exited during start. Log:\n${options.child.logTail()}`);
    }
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
  const log = options.child ? ` Log:\n${options.child.logTail()}` : '';
  throw new Error(`${name}: not ready after ${options.timeoutMs} ms.${log}`);
}
