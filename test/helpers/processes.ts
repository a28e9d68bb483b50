/**
 * Child processes for test peers (squid, tinyproxy, redis, ...). Each peer's stdout and stderr
 * go to a log file in its own temp dir, so a failed start or a failed test can show what the
 * peer printed. Every started peer is registered, and `stopAllPeers` stops those still running.
 * An exit hook SIGKILLs leftovers by PID if a test file dies without running its hooks.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { portAccepts } from './ports.js';

/** Ways to tell that a peer is ready; all given checks must pass. */
export interface ReadyCheck {
  /** TCP ports on 127.0.0.1 that must accept connections. */
  ports?: number[];
  /** A line matching this must appear in the log file (`logFile`, or the peer's own log). */
  logLine?: RegExp;
  logFile?: string;
  /** An HTTP URL that must return a response, with any status. */
  httpUrl?: string;
}

export interface PeerSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  ready: ReadyCheck;
  readyTimeoutMs?: number;
  /** Signal that stops the peer. SIGKILL follows after `stopTimeoutMs`. */
  stopSignal?: NodeJS.Signals;
  stopTimeoutMs?: number;
  /** Extra files whose tail goes into failure messages (such as squid's cache.log). */
  extraLogs?: string[];
}

const registry = new Set<Peer>();

/** A running peer process. */
export class Peer {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  private readonly child: ChildProcess;
  private readonly spec: PeerSpec;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitedNow = false;

  constructor(spec: PeerSpec, child: ChildProcess, logPath: string) {
    if (child.pid === undefined) throw new Error(`${spec.name}: spawn returned no PID`);
    this.name = spec.name;
    this.pid = child.pid;
    this.logPath = logPath;
    this.child = child;
    this.spec = spec;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitedNow = true;
        registry.delete(this);
        resolve({ code, signal });
      });
    });
  }

  get running(): boolean {
    return !this.exitedNow;
  }

  /** Last `maxBytes` of the peer's output and extra logs, for failure messages. */
  logTail(maxBytes = 4000): string {
    const files = [this.logPath, ...(this.spec.extraLogs ?? [])];
    return files.map((file) => `--- ${file}\n${readTail(file, maxBytes)}`).join('\n');
  }

  /** Sends the stop signal, then SIGKILL after the bound; resolves when the process is gone. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill(this.spec.stopSignal ?? 'SIGTERM');
    const timeoutMs = this.spec.stopTimeoutMs ?? 5000;
    const timer = setTimeout(() => {
      if (this.running) this.child.kill('SIGKILL');
    }, timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills the peer at once with SIGKILL (for fault injection). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

function readTail(file: string, maxBytes: number): string {
  try {
    const data = fs.readFileSync(file);
    return data.subarray(Math.max(0, data.length - maxBytes)).toString('utf8');
  } catch {
    return '(no log file)';
  }
}

/** Makes a temp dir for one peer; `world` makes it usable by a peer that drops root. */
export function makeTempDir(prefix: string, world = false): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ph-${prefix}-`));
  // mkdtemp makes 0700; squid started as root drops to user `proxy`, which must reach
  // and write this dir, so such peers get 0777.
  if (world) fs.chmodSync(dir, 0o777);
  return dir;
}

/** Spawns a peer and waits until it is ready; throws with the peer's log tail otherwise. */
export async function startPeer(spec: PeerSpec, logDir: string): Promise<Peer> {
  const logPath = path.join(logDir, `${spec.name}.out.log`);
  const fd = fs.openSync(logPath, 'a');
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd ?? logDir,
    env: spec.env ?? process.env,
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const peer = new Peer(spec, child, logPath);
  registry.add(peer);
  try {
    await waitReady(peer, spec, spawnError);
  } catch (err) {
    await peer.stop();
    throw err;
  }
  return peer;
}

async function waitReady(peer: Peer, spec: PeerSpec, spawnError: Promise<Error>): Promise<void> {
  const timeoutMs = spec.readyTimeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let failed: Error | null = null;
  void spawnError.then((err) => (failed = err));
  while (Date.now() < deadline) {
    if (failed !== null)
      throw new Error(`${spec.name}: spawn failed: ${(failed as Error).message}`);
    if (!peer.running) {
      const { code, signal } = await peer.exited;
      throw new Error(
        `${spec.name} exited before it was ready (code ${code}, signal ${signal})\n${peer.logTail()}`,
      );
    }
    if (await isReady(peer, spec.ready)) return;
    await sleep(25);
  }
  throw new Error(`${spec.name} not ready after ${timeoutMs} ms\n${peer.logTail()}`);
}

async function isReady(peer: Peer, check: ReadyCheck): Promise<boolean> {
  if (check.logLine !== undefined) {
    const text = readTail(check.logFile ?? peer.logPath, 1_000_000);
    if (!check.logLine.test(text)) return false;
  }
  for (const port of check.ports ?? []) {
    if (!(await portAccepts(port))) return false;
  }
  if (check.httpUrl !== undefined) {
    try {
      await fetch(check.httpUrl, { signal: AbortSignal.timeout(1000) });
    } catch {
      return false;
    }
  }
  return true;
}

/** Stops every registered peer that is still running. */
export async function stopAllPeers(): Promise<void> {
  await Promise.all([...registry].map((peer) => peer.stop()));
}

const cleanups: (() => Promise<void> | void)[] = [];

/** Registers an in-process resource (server, proxy, Proxy Hopper) for `cleanupAll`. */
export function registerCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

/**
 * Stops everything this test process started: registered in-process resources (newest first,
 * each one even if an earlier one failed) and then the peer processes. Use in `after()` hooks.
 */
export async function cleanupAll(): Promise<void> {
  const errors: unknown[] = [];
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop() as () => Promise<void> | void;
    try {
      await cleanup();
    } catch (err) {
      errors.push(err);
    }
  }
  await stopAllPeers();
  if (errors.length > 0)
    throw new AggregateError(errors, `${errors.length} cleanup step(s) failed`);
}

process.on('exit', () => {
  for (const peer of registry) {
    try {
      process.kill(peer.pid, 'SIGKILL');
    } catch {
      // The process is already gone; nothing left to stop.
    }
  }
});

/**
 * Returns the absolute path of `name` on PATH (plus the sbin dirs that non-root PATHs miss),
 * or throws naming the Debian package to install.
 */
export function requireBinary(name: string, aptPackage: string): string {
  const dirs = (process.env.PATH ?? '')
    .split(':')
    .concat(['/usr/sbin', '/sbin', '/usr/local/sbin']);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not in this dir; try the next one.
    }
  }
  throw new Error(
    `${name} not found on PATH: install the Debian package ${aptPackage} (apt-get install ${aptPackage})`,
  );
}

/** Runs a short command to completion; throws with its output when it fails. */
export function runChecked(command: string, args: string[], cwd?: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  }
  return result.stdout;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
