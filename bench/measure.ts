/**
 * Load generation and process figures. Load comes from wrk with a generated Lua script,
 * because wrk reports latency percentiles in microseconds. autocannon 9 rounds them to whole
 * milliseconds, which is too coarse for sub-millisecond overhead. Being C, wrk also leaves
 * more CPU to the processes under test. CPU time and peak RSS come from /proc of the
 * measured process.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One HTTP request that wrk sends over and over. */
export interface LoadRequest {
  /** Port on 127.0.0.1 that wrk connects to. */
  port: number;
  /** Request target: origin-form (`/small`) or absolute-form (`http://host/small`). */
  path: string;
  headers: Record<string, string>;
}

export interface LoadErrors {
  connect: number;
  read: number;
  write: number;
  timeout: number;
  /** Responses with a status outside 2xx and 3xx. */
  status: number;
}

export interface LoadFigures {
  requests: number;
  durationSec: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  bytes: number;
  errors: LoadErrors;
}

const RESULT_MARKER = 'BENCH_RESULT ';

function luaString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) {
    throw new Error(`wrk script value must be printable ASCII: ${JSON.stringify(value)}`);
  }
  // For printable ASCII, a JSON string literal is also a valid Lua string literal.
  return JSON.stringify(value);
}

function wrkScript(request: LoadRequest): string {
  const headerLines = Object.entries(request.headers).map(
    ([name, value]) => `wrk.headers[${luaString(name)}] = ${luaString(value)}`,
  );
  return [
    'wrk.method = "GET"',
    `wrk.path = ${luaString(request.path)}`,
    ...headerLines,
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    `  io.write(string.format('${RESULT_MARKER}{"requests":%d,"durationUs":%d,"bytes":%d,' ..`,
    `    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..`,
    `    '"p50Us":%d,"p99Us":%d,"meanUs":%.3f}\\n',`,
    '    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,',
    '    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.mean))',
    'end',
    '',
  ].join('\n');
}

interface WrkResult {
  requests: number;
  durationUs: number;
  bytes: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
}

function parseWrkOutput(stdout: string): LoadFigures {
  const line = stdout.split('\n').find((text) => text.startsWith(RESULT_MARKER));
  if (line === undefined) throw new Error(`wrk printed no result line:\n${stdout.slice(-1500)}`);
  const result = JSON.parse(line.slice(RESULT_MARKER.length)) as WrkResult;
  const durationSec = result.durationUs / 1e6;
  return {
    requests: result.requests,
    durationSec,
    requestsPerSec: durationSec > 0 ? result.requests / durationSec : 0,
    p50Ms: result.p50Us / 1000,
    p99Ms: result.p99Us / 1000,
    meanMs: result.meanUs / 1000,
    bytes: result.bytes,
    errors: {
      connect: result.connect,
      read: result.read,
      write: result.write,
      timeout: result.timeout,
      status: result.status,
    },
  };
}

/** Total of all error counters of a load run. */
export function errorCount(errors: LoadErrors): number {
  return errors.connect + errors.read + errors.write + errors.timeout + errors.status;
}

/**
 * Runs wrk against `request` with `connections` connections for `durationSec` seconds and
 * returns its figures. wrk stops by itself after the duration; a kill timer 30 s later bounds
 * the wait if it hangs.
 */
export async function runLoad(options: {
  request: LoadRequest;
  connections: number;
  durationSec: number;
  scriptDir: string;
}): Promise<LoadFigures> {
  const { request, connections, durationSec } = options;
  const scriptPath = path.join(options.scriptDir, `wrk-${process.pid}-${Date.now()}.lua`);
  fs.writeFileSync(scriptPath, wrkScript(request));
  const threads = Math.max(1, Math.min(connections, os.availableParallelism()));
  const args = [
    `-t${threads}`,
    `-c${connections}`,
    `-d${durationSec}s`,
    '--timeout',
    '10s',
    '-s',
    scriptPath,
    `http://127.0.0.1:${request.port}`,
  ];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killTimer = setTimeout(() => child.kill('SIGKILL'), (durationSec + 30) * 1000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) =>
      reject(new Error(`wrk failed to start (install wrk): ${err.message}`)),
    );
    child.once('exit', resolve);
  });
  clearTimeout(killTimer);
  fs.rmSync(scriptPath, { force: true });
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${stderr.slice(-1500)}`);
  return parseWrkOutput(stdout);
}

let clockTicksPerSec: number | null = null;

/** Returns USER_HZ from `getconf CLK_TCK`, or 100 (its value on Linux x86-64 and arm64). */
function clockTicks(): number {
  if (clockTicksPerSec === null) {
    const output = spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() ?? '';
    clockTicksPerSec = Number(output) > 0 ? Number(output) : 100;
  }
  return clockTicksPerSec;
}

/**
 * Returns user + system CPU time of process `pid` (all its threads) in milliseconds, from
 * /proc/<pid>/stat, at the kernel's clock-tick resolution (10 ms for USER_HZ 100).
 */
export function readCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in brackets may contain spaces, so fields are counted after its `)`.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  return ((userTicks + systemTicks) * 1000) / clockTicks();
}

/** Returns the peak resident set size (VmHWM) of process `pid` in bytes. */
export function readPeakRssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`/proc/${pid}/status has no VmHWM line`);
  return Number(match[1]) * 1024;
}

/**
 * Resets the peak RSS of process `pid` to its current RSS (writing 5 to clear_refs, Linux 4.0
 * and later), so the next reading covers only what follows. Returns false when the kernel
 * refuses, and the peak then covers the whole life of the process.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
