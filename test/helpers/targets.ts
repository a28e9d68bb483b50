/**
 * In-process loopback target servers (the "real destination" behind the upstream proxies),
 * on HTTP and HTTPS with the test certificate. Every request is recorded with its source
 * address and arrival time, so tests can tell which upstream proxy carried it and measure
 * per-source spacing. Routes (anything else is echoed):
 *
 * - `/status/<n>[?retryAfter=<s>]`: status n with a JSON body (none for 204 and 304).
 * - `/fail-first/<count>/<key>[?status=<n>]`: status n (default 503) for the first `count`
 *   requests with that key, then the echo response.
 * - `/bytes/<n>[?chunked=1]`: n bytes of `patternBytes(n)`, Content-Length or chunked.
 * - `/slow?gate=<id>`: a chunked body whose first chunk is sent at once and whose rest is
 *   sent after the test calls `releaseGate(id)`.
 * - `/cookies`: three Set-Cookie lines, `/hop-by-hop`: hop-by-hop and Connection-listed
 *   headers, `/gzip`: fixed gzip bytes, `/hang`: never responds, `/abort`: cuts the body.
 * - `/both-framings`: a chunked 172-byte body that also carries `Content-Length: 999`.
 * - `/upload` and the echo route hash the request body.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import zlib from 'node:zlib';
import { testTls } from './tls.js';

/** One request as the target saw it. */
export interface SeenRequest {
  scheme: 'http' | 'https';
  remote: string;
  method: string;
  /** Raw request target from the request line. */
  url: string;
  /** Raw header pairs in arrival order. */
  headers: [string, string][];
  /** Arrival time in ms since the epoch, sub-millisecond precision. */
  arrivedAtMs: number;
}

/** The echo route's JSON body. */
export interface EchoBody {
  remote: string;
  method: string;
  url: string;
  headers: [string, string][];
  bodySha256: string;
  bodyBytes: number;
}

/** The gzip route's body: gzip of a 120-byte JSON document. */
export const GZIP_PLAIN = Buffer.from(JSON.stringify({ ok: true, pad: 'x'.repeat(98) }));
export const GZIP_BODY = zlib.gzipSync(GZIP_PLAIN, { level: 9 });

/** Body of the both-framings route. */
export const BOTH_FRAMINGS_BODY = Buffer.from('x'.repeat(171) + '\n');

/** Set-Cookie lines of the cookies route, in order. */
export const COOKIE_LINES = [
  'sid=abc; Path=/; HttpOnly',
  'logout=deleted; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; Path=/',
  'pref=a,b; Path=/',
];

const patternCache = new Map<number, Buffer>();

/** Deterministic, non-repeating bytes: each 32-bit word is its index times a large odd number. */
export function patternBytes(sizeBytes: number): Buffer {
  const cached = patternCache.get(sizeBytes);
  if (cached !== undefined) return cached;
  const words = Buffer.alloc(Math.ceil(sizeBytes / 4) * 4);
  for (let i = 0; i < words.length / 4; i++)
    words.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i * 4);
  const bytes = words.subarray(0, sizeBytes);
  patternCache.set(sizeBytes, bytes);
  return bytes;
}

export function sha256(data: Buffer | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

interface Gate {
  promise: Promise<void>;
  release: () => void;
}

/** A running pair of target servers. */
export class TargetServers {
  readonly requests: SeenRequest[] = [];
  httpPort = 0;
  httpsPort = 0;
  private readonly gates = new Map<string, Gate>();
  private readonly failCounts = new Map<string, number>();
  private readonly sockets = new Set<net.Socket>();
  private readonly httpServer: http.Server;
  private readonly httpsServer: https.Server;

  constructor() {
    const tls = testTls();
    this.httpServer = http.createServer((req, res) => this.handle('http', req, res));
    this.httpsServer = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) =>
      this.handle('https', req, res),
    );
    for (const server of [this.httpServer, this.httpsServer]) {
      server.keepAliveTimeout = 5000;
      server.on('connection', (socket: net.Socket) => {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
      });
    }
  }

  get httpOrigin(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get httpsOrigin(): string {
    return `https://127.0.0.1:${this.httpsPort}`;
  }

  async listen(host = '127.0.0.1'): Promise<this> {
    this.httpPort = await listen(this.httpServer, host);
    this.httpsPort = await listen(this.httpsServer, host);
    return this;
  }

  /** Open TCP connections to both servers. */
  openConnections(): number {
    return [...this.sockets].filter((socket) => !socket.destroyed).length;
  }

  /** Requests whose raw URL starts with `prefix`. */
  seen(prefix: string): SeenRequest[] {
    return this.requests.filter((request) => request.url.startsWith(prefix));
  }

  /** Lets the held part of a `/slow?gate=<id>` response go out (also before it arrives). */
  releaseGate(id: string): void {
    this.gate(id).release();
  }

  async close(): Promise<void> {
    for (const gate of this.gates.values()) gate.release();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([close(this.httpServer), close(this.httpsServer)]);
  }

  private gate(id: string): Gate {
    let gate = this.gates.get(id);
    if (gate === undefined) {
      let release = (): void => {};
      const promise = new Promise<void>((resolve) => (release = resolve));
      gate = { promise, release };
      this.gates.set(id, gate);
    }
    return gate;
  }

  private handle(
    scheme: 'http' | 'https',
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): void {
    const seen: SeenRequest = {
      scheme,
      remote: req.socket.remoteAddress ?? '',
      method: req.method ?? '',
      url: req.url ?? '',
      headers: pairs(req.rawHeaders),
      arrivedAtMs: performance.timeOrigin + performance.now(),
    };
    this.requests.push(seen);
    const url = new URL(seen.url, 'http://target.invalid');
    const route = url.pathname.split('/')[1] ?? '';
    const handler = this.routes[route] ?? this.routes.echo;
    void Promise.resolve((handler as RouteHandler)(req, res, url, seen)).catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  }

  private readonly routes: Record<string, RouteHandler> = {
    echo: (req, res, _url, seen) => echo(req, res, seen),
    upload: (req, res, _url, seen) => echo(req, res, seen),
    status: (req, res, url) => status(req, res, url),
    'fail-first': (req, res, url, seen) => {
      const [, , count = '0', key = ''] = url.pathname.split('/');
      const failed = this.failCounts.get(key) ?? 0;
      if (failed >= Number(count)) return echo(req, res, seen);
      this.failCounts.set(key, failed + 1);
      const code = url.searchParams.get('status') ?? '503';
      return status(req, res, new URL(`/status/${code}`, url));
    },
    bytes: (_req, res, url) => bytes(res, url),
    slow: async (_req, res, url) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first\n');
      await this.gate(url.searchParams.get('gate') ?? 'default').promise;
      res.end('last\n');
    },
    cookies: (_req, res) => {
      res.setHeader('set-cookie', COOKIE_LINES);
      res.setHeader('content-type', 'text/plain');
      res.end('cookies\n');
    },
    'hop-by-hop': (_req, res) => {
      res.writeHead(200, [
        ['Connection', 'X-Internal'],
        ['X-Internal', '1'],
        ['Keep-Alive', 'timeout=7, max=9'],
        ['X-Keep', 'yes'],
        ['Content-Type', 'text/plain'],
        ['Content-Length', '4'],
      ]);
      res.end('hop\n');
    },
    gzip: (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': GZIP_BODY.length,
      });
      res.end(GZIP_BODY);
    },
    'both-framings': (_req, res) => {
      // Node sends both headers as given and frames the body as chunked.
      res.writeHead(200, {
        'transfer-encoding': 'chunked',
        'content-length': '999',
        'content-type': 'text/plain',
      });
      res.write(BOTH_FRAMINGS_BODY.subarray(0, 100));
      res.end(BOTH_FRAMINGS_BODY.subarray(100));
    },
    hang: () => {
      // Never responds; close() destroys the socket.
    },
    abort: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1000 });
      res.write(Buffer.alloc(100, 1), () => setTimeout(() => res.socket?.destroy(), 20));
    },
  };
}

type RouteHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  seen: SeenRequest,
) => void | Promise<void>;

async function echo(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  seen: SeenRequest,
): Promise<void> {
  const hash = crypto.createHash('sha256');
  let bodyBytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bodyBytes += chunk.length;
  }
  const body: EchoBody = {
    remote: seen.remote,
    method: seen.method,
    url: seen.url,
    headers: seen.headers,
    bodySha256: hash.digest('hex'),
    bodyBytes,
  };
  const text = JSON.stringify(body);
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function status(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  req.resume();
  const code = Number(url.pathname.split('/')[2] ?? '200');
  const retryAfter = url.searchParams.get('retryAfter');
  if (retryAfter !== null) res.setHeader('retry-after', retryAfter);
  if (code === 204 || code === 304) {
    res.writeHead(code);
    res.end();
    return;
  }
  const text = JSON.stringify({ status: code });
  res.writeHead(code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function bytes(res: http.ServerResponse, url: URL): void {
  const sizeBytes = Number(url.pathname.split('/')[2] ?? '0');
  const data = patternBytes(sizeBytes);
  const chunked = url.searchParams.get('chunked') === '1';
  res.setHeader('content-type', 'application/octet-stream');
  if (!chunked) res.setHeader('content-length', sizeBytes);
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  writeInPieces(res, data, 64 * 1024);
}

function writeInPieces(res: http.ServerResponse, data: Buffer, pieceBytes: number): void {
  let offset = 0;
  const writeMore = (): void => {
    while (offset < data.length) {
      const piece = data.subarray(offset, offset + pieceBytes);
      offset += piece.length;
      if (!res.write(piece)) {
        res.once('drain', writeMore);
        return;
      }
    }
    res.end();
  };
  writeMore();
}

function pairs(raw: string[]): [string, string][] {
  const result: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) result.push([raw[i] as string, raw[i + 1] as string]);
  return result;
}

function listen(server: http.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no port'));
      else resolve(address.port);
    });
  });
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Starts HTTP and HTTPS target servers on loopback ports. */
export function startTargets(): Promise<TargetServers> {
  return new TargetServers().listen();
}

/** Header values named `name` (case-insensitive) in raw pairs, in order. */
export function headerValues(headers: [string, string][], name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter(([key]) => key.toLowerCase() === lower).map(([, value]) => value);
}
