/**
 * Starts real redis-server processes for tests: one server on a free loopback port in its own
 * temp dir, without persistence, stopped by its PID. Also makes TLS test certificates.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface RedisServerOptions {
  password?: string;
  /** Reuse a port, such as when restarting a stopped server on the same address. */
  port?: number;
  dir?: string;
  tls?: { certFile: string; keyFile: string; caFile: string };
  extraArgs?: string[];
}

export interface RedisServerHandle {
  host: string;
  port: number;
  pid: number;
  dir: string;
  password: string | undefined;
  /** `redis://` or `rediss://` URL with the password. */
  url: string;
  /**
   * Stops the server by its PID (SIGTERM, or SIGKILL when `kill`), waiting for the exit, and
   * removes its dir unless the caller passed one.
   */
  stop(options?: { kill?: boolean }): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `ph-${label}-`));
}

/**
 * Starts redis-server. Another process may take a probed free port before Redis binds it,
 * so a bind failure is retried on a new port (or, for a fixed port, after a short pause).
 */
export async function startRedisServer(
  options: RedisServerOptions = {},
): Promise<RedisServerHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, options.port ?? (await freePort()));
    } catch (err) {
      const inUse = err instanceof Error && err.message.includes('Address already in use');
      if (!inUse || attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function startOnce(options: RedisServerOptions, port: number): Promise<RedisServerHandle> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await makeTempDir('redis'));
  const logFile = join(dir, `redis-${port}.log`);
  const args = [
    ...(options.tls ? tlsArgs(port, options.tls) : ['--port', String(port)]),
    ...['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    ...['--dir', dir, '--logfile', logFile],
    ...(options.password ? ['--requirepass', options.password] : []),
    ...(options.extraArgs ?? []),
  ];
  const child = await spawnBinary('redis-server', args);
  try {
    await waitForLog(child, logFile, 'Ready to accept connections');
  } catch (err) {
    if (ownDir) await removeDir(dir);
    throw err;
  }
  const scheme = options.tls ? 'rediss' : 'redis';
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    host: '127.0.0.1',
    port,
    pid: child.pid ?? 0,
    dir,
    password: options.password,
    url: `${scheme}://${auth}127.0.0.1:${port}`,
    stop: async (stopOptions) => {
      await stopChild(child, stopOptions?.kill === true);
      if (ownDir) await removeDir(dir);
    },
  };
}

function tlsArgs(port: number, tls: NonNullable<RedisServerOptions['tls']>): string[] {
  return [
    ...['--port', '0', '--tls-port', String(port)],
    ...['--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile],
    ...['--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no'],
  ];
}

export async function spawnBinary(binary: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(
          new Error(`${binary} not found: install the Debian package ${debianPackage(binary)}`),
        );
      } else reject(err);
    });
  });
  return child;
}

function debianPackage(binary: string): string {
  return binary === 'redis-sentinel'
    ? 'redis-sentinel'
    : binary === 'redis-cli'
      ? 'redis-tools'
      : 'redis-server';
}

async function waitForLog(child: ChildProcess, logFile: string, text: string): Promise<void> {
  const deadlineMs = Date.now() + 10_000;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  while (Date.now() < deadlineMs) {
    if (child.exitCode !== null) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(`redis-server exited with ${child.exitCode}: ${stderr}${log.slice(-2000)}`);
    }
    const log = await readFile(logFile, 'utf8').catch(() => '');
    if (log.includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await stopChild(child, true);
  throw new Error(`redis-server did not log '${text}' within 10 s (log: ${logFile})`);
}

export async function stopChild(child: ChildProcess, kill: boolean): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, kill ? 'SIGKILL' : 'SIGTERM');
  const timeout = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, 5000);
  await exited;
  clearTimeout(timeout);
}

/** Runs redis-cli against one server and returns its output. */
export async function redisCli(
  server: { port: number; password?: string },
  args: string[],
): Promise<string> {
  const auth = server.password ? ['-a', server.password, '--no-auth-warning'] : [];
  const { stdout } = await execFileAsync('redis-cli', [
    '-h',
    '127.0.0.1',
    '-p',
    String(server.port),
    ...auth,
    ...args,
  ]);
  return stdout;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface TestCertificates {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** Makes a throwaway CA and a server certificate for 127.0.0.1 with openssl. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await makeTempDir('tls');
  const path = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileAsync('openssl', args, { cwd: dir });
  await openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'].concat([
      '-keyout',
      path('ca.key'),
      '-out',
      path('ca.crt'),
      '-subj',
      '/CN=Proxy Hopper test CA',
    ]),
  );
  await openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', path('server.key')].concat([
      '-out',
      path('server.csr'),
      '-subj',
      '/CN=127.0.0.1',
    ]),
  );
  await writeFile(path('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl(
    ['x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt')]
      .concat(['-CAkey', path('ca.key'), '-CAcreateserial', '-days', '1'])
      .concat(['-out', path('server.crt'), '-extfile', path('san.ext')]),
  );
  return { dir, caFile: path('ca.crt'), certFile: path('server.crt'), keyFile: path('server.key') };
}
