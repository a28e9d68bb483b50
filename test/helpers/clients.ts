/**
 * Real clients for requests to Proxy Hopper: undici (in-process), curl and python3 requests
 * (child processes, run asynchronously so in-process target servers keep serving), and a raw
 * socket client for exact request lines and exact response header lines.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Agent } from 'undici';
import { makeTempDir, registerCleanup, requireBinary } from './processes.js';

const execFileAsync = promisify(execFile);

export interface ClientResponse {
  status: number;
  /** Header pairs in the order received, names as sent (undici gives them lower-case). */
  headers: [string, string][];
  body: Buffer;
}

export interface SendOptions {
  method?: string;
  /** Raw request target, sent exactly as given. */
  path?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string | AsyncIterable<Buffer>;
  signal?: AbortSignal;
}

/** First value of header `name` (case-insensitive), or undefined. */
export function header(
  response: { headers: [string, string][] },
  name: string,
): string | undefined {
  const lower = name.toLowerCase();
  return response.headers.find(([key]) => key.toLowerCase() === lower)?.[1];
}

/** Returns every value of header `name` (case-insensitive), in order. */
export function headerAll(response: { headers: [string, string][] }, name: string): string[] {
  const lower = name.toLowerCase();
  return response.headers.filter(([key]) => key.toLowerCase() === lower).map(([, value]) => value);
}

export function json<T = Record<string, unknown>>(response: { body: Buffer }): T {
  return JSON.parse(response.body.toString('utf8')) as T;
}

let agent: Agent | null = null;

/** Returns the undici Agent shared by this test process, which `cleanupAll` closes. */
export function undiciAgent(): Agent {
  if (agent === null) {
    const created = new Agent({ keepAliveTimeout: 2000, connections: 256 });
    agent = created;
    registerCleanup(async () => {
      agent = null;
      await created.close();
    });
  }
  return agent;
}

/** Sends one request to `127.0.0.1:port` with undici and reads the whole body. */
export async function send(port: number, options: SendOptions = {}): Promise<ClientResponse> {
  // Dispatcher.request sends `path` as given; the top-level request() would parse it as a URL.
  const response = await undiciAgent().request({
    origin: `http://127.0.0.1:${port}`,
    path: options.path ?? '/',
    method: (options.method ?? 'GET') as 'GET',
    headers: options.headers,
    body: options.body as Buffer | string | undefined,
    signal: options.signal,
  });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: headerPairs(response.headers), body };
}

function headerPairs(headers: Record<string, string | string[] | undefined>): [string, string][] {
  const result: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) result.push([name, item]);
  }
  return result;
}

export interface CurlResponse extends ClientResponse {
  exitCode: number;
  stderr: string;
  /** Raw header lines of the final response, including the status line. */
  headerLines: string[];
  /** Status lines of every response head received, interim ones (100 Continue) included. */
  statusLines: string[];
}

/**
 * Runs curl with `args` (URL included) and returns the final response. `-s -S` and output
 * files are added; a non-zero curl exit is returned, not thrown.
 */
export async function curl(args: string[], timeoutMs = 30_000): Promise<CurlResponse> {
  const binary = requireBinary('curl', 'curl');
  const dir = makeTempDir('curl');
  const headerFile = path.join(dir, 'headers');
  const bodyFile = path.join(dir, 'body');
  let exitCode = 0;
  let stderr = '';
  try {
    const result = await execFileAsync(
      binary,
      ['-s', '-S', '-D', headerFile, '-o', bodyFile, ...args],
      { timeout: timeoutMs, maxBuffer: 1 << 20 },
    );
    stderr = result.stderr;
  } catch (err) {
    const failure = err as { code?: number; stderr?: string };
    exitCode = typeof failure.code === 'number' ? failure.code : -1;
    stderr = failure.stderr ?? String(err);
  }
  const rawHeaders = readOr(headerFile).toString('latin1');
  const body = readOr(bodyFile);
  fs.rmSync(dir, { recursive: true, force: true });
  const blocks = rawHeaders.split('\r\n\r\n').filter((block) => block.length > 0);
  const headerLines = (blocks.at(-1) ?? '').split('\r\n');
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(headerLines[0] ?? '')?.[1] ?? 0);
  const statusLines = blocks.map((block) => block.split('\r\n')[0] ?? '');
  const headers = parseHeaderLines(headerLines.slice(1));
  return { status, headers, headerLines, statusLines, body, exitCode, stderr };
}

/** curl to Proxy Hopper on `port` with a target header and extra headers. */
export function curlHopper(
  port: number,
  requestPath: string,
  headers: Record<string, string>,
  extraArgs: string[] = [],
): Promise<CurlResponse> {
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => [
    '-H',
    `${name}: ${value}`,
  ]);
  return curl([...headerArgs, ...extraArgs, `http://127.0.0.1:${port}${requestPath}`]);
}

function readOr(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch {
    return Buffer.alloc(0);
  }
}

function parseHeaderLines(lines: string[]): [string, string][] {
  const result: [string, string][] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) result.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return result;
}

const PYTHON_CLIENT = `
import base64, json, sys
import requests
spec = json.loads(sys.argv[1])
body = base64.b64decode(spec['body']) if spec.get('body') else None
r = requests.request(spec['method'], spec['url'], headers=spec['headers'], data=body,
                     timeout=spec['timeout'], allow_redirects=False)
print(json.dumps({'status': r.status_code, 'headers': list(r.headers.items()),
                  'body': base64.b64encode(r.content).decode()}))
`;

let pythonPath: string | null = null;

/**
 * Returns a python3 that can import requests: `PH_PYTHON`, else `python3` on PATH (a pyenv
 * python may carry its own requests), else /usr/bin/python3 (the Debian package's home).
 */
function pythonWithRequests(): string {
  if (pythonPath !== null) return pythonPath;
  const candidates = [process.env.PH_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (candidate): candidate is string => candidate !== undefined && candidate !== '',
  );
  for (const candidate of candidates) {
    if (spawnSync(candidate, ['-c', 'import requests'], { stdio: 'ignore' }).status === 0) {
      pythonPath = candidate;
      return candidate;
    }
  }
  throw new Error(
    `no python3 with the requests module (tried ${candidates.join(', ')}): install the Debian ` +
      'package python3-requests (apt-get install python3-requests)',
  );
}

/** Sends one request with python3 requests (headers come back merged by name). */
export async function pythonRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<ClientResponse> {
  const spec = {
    method: options.method ?? 'GET',
    url,
    headers: options.headers ?? {},
    body: options.body?.toString('base64') ?? null,
    timeout: 30,
  };
  const python = pythonWithRequests();
  const { stdout } = await execFileAsync(python, ['-c', PYTHON_CLIENT, JSON.stringify(spec)], {
    maxBuffer: 64 << 20,
  });
  const parsed = JSON.parse(stdout) as {
    status: number;
    headers: [string, string][];
    body: string;
  };
  return {
    status: parsed.status,
    headers: parsed.headers,
    body: Buffer.from(parsed.body, 'base64'),
  };
}

export interface RawResponse extends ClientResponse {
  statusLine: string;
  /** The whole response as received, head and body. */
  raw: Buffer;
}

/**
 * Writes `requestText` as is to `127.0.0.1:port` and reads one response (Content-Length,
 * chunked or until close; no body for HEAD, 1xx, 204 and 304), then closes the socket. With
 * `untilClose` it reads until the server closes, so bytes after the response stay in `raw`.
 */
export function rawRequest(
  port: number,
  requestText: string | Buffer,
  { timeoutMs = 10_000, untilClose = false }: { timeoutMs?: number; untilClose?: boolean } = {},
): Promise<RawResponse> {
  const isHead = requestText.toString('latin1').startsWith('HEAD ');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let received = Buffer.alloc(0);
    const finish = (err: Error | null): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err !== null) {
        reject(err);
        return;
      }
      const parsed = parseRawResponse(received, isHead, true);
      if (parsed === null)
        reject(new Error(`incomplete response: ${JSON.stringify(received.toString('latin1'))}`));
      else resolve(parsed);
    };
    const timer = setTimeout(
      () => finish(new Error(`no complete response within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!untilClose && parseRawResponse(received, isHead, false) !== null) finish(null);
    });
    socket.on('end', () => finish(null));
    socket.on('error', (err) => finish(err));
    socket.write(requestText);
  });
}

function parseRawResponse(data: Buffer, isHead: boolean, closed: boolean): RawResponse | null {
  let start = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', start);
    if (end < 0) return null;
    const lines = data.subarray(start, end).toString('latin1').split('\r\n');
    const statusLine = lines[0] ?? '';
    const status = Number(statusLine.split(' ')[1]);
    const headers = parseHeaderLines(lines.slice(1));
    const bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      start = bodyStart;
      continue;
    }
    const body = readBody(
      data.subarray(bodyStart),
      headers,
      isHead || status === 204 || status === 304,
      closed,
    );
    if (body === null) return null;
    return { status, statusLine, headers, body, raw: data };
  }
}

function readBody(
  data: Buffer,
  headers: [string, string][],
  noBody: boolean,
  closed: boolean,
): Buffer | null {
  if (noBody) return Buffer.alloc(0);
  const lengthValue = header({ headers }, 'content-length');
  if (lengthValue !== undefined) {
    const length = Number(lengthValue);
    return data.length >= length ? data.subarray(0, length) : closed ? data : null;
  }
  if ((header({ headers }, 'transfer-encoding') ?? '').toLowerCase().includes('chunked')) {
    return dechunk(data) ?? (closed ? data : null);
  }
  return closed ? data : null;
}

function dechunk(data: Buffer): Buffer | null {
  const pieces: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) return null;
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return null;
    if (size === 0)
      return data.indexOf('\r\n\r\n', lineEnd) >= 0 || data.length >= lineEnd + 4
        ? Buffer.concat(pieces)
        : null;
    if (data.length < lineEnd + 2 + size + 2) return null;
    pieces.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}
