/** Runs the real `proxy-hopper` CLI from source in a child process and captures its output. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Extra environment; PROXY_HOPPER_* variables of the test runner are removed first. */
  env?: Record<string, string>;
  /** Text written to the child's stdin, which is then closed. */
  stdin?: string;
  cwd?: string;
  timeoutMs?: number;
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** Resolves when stderr or stdout contains `text`; rejects after `timeoutMs`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  result: Promise<CliResult>;
}

/** Starts the CLI and returns at once, for long-running commands such as `run`. */
export function startCli(args: string[], options: CliOptions = {}): RunningCli {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.toUpperCase().startsWith('PROXY_HOPPER_')),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    env: { ...env, ...options.env },
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const onData = () => listeners.forEach((listener) => listener());
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    onData();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    onData();
  });
  child.stdin.end(options.stdin ?? '');
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  const waitForOutput = (text: string, timeoutMs = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!stdout.includes(text) && !stderr.includes(text)) return;
        listeners.delete(check);
        clearTimeout(timeout);
        resolve();
      };
      const timeout = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no '${text}' in output after ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return { child, waitForOutput, result };
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}
