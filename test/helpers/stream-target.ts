/**
 * A loopback HTTP target whose responses take a set time to stream, and which counts how many
 * requests from one source address are open at once. Behind upstream proxies that each send
 * from their own 127.0.0.N, a count above 1 means one upstream IP carried two requests at the
 * same time. `GET /stream?ms=<n>[&headerMs=<h>]` sends the status line and a first chunk
 * after `h` ms (default 0), and the last chunk `n` ms after that. A request counts as open
 * from its arrival until its socket closes or its response ends.
 */
import http from 'node:http';
import type net from 'node:net';

/** One request as the target saw it. */
export interface StreamRecord {
  remote: string;
  url: string;
  /** Value of the `x-test-instance` request header, `''` when absent. */
  instance: string;
  arrivedAtMs: number;
  /** When the response ended or the connection closed; null while open. */
  closedAtMs: number | null;
  /** True when the full body was written before the connection closed. */
  completed: boolean;
}

/** The body of a `/stream` response that ran to its end. */
export const STREAM_BODY = 'first\nlast\n';

export class StreamTarget {
  readonly records: StreamRecord[] = [];
  /** Highest number of open requests per source address seen so far. */
  readonly maxOpenBySource = new Map<string, number>();
  port = 0;
  private readonly openBySource = new Map<string, number>();
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: http.Server;

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string')
      throw new Error('stream target has no port');
    this.port = address.port;
    return this;
  }

  /** Requests open right now from `remote`. */
  openFrom(remote: string): number {
    return this.openBySource.get(remote) ?? 0;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const instance = req.headers['x-test-instance'];
    const record: StreamRecord = {
      remote: req.socket.remoteAddress ?? '',
      url: req.url ?? '',
      instance: typeof instance === 'string' ? instance : '',
      arrivedAtMs: performance.timeOrigin + performance.now(),
      closedAtMs: null,
      completed: false,
    };
    this.records.push(record);
    const open = this.openFrom(record.remote) + 1;
    this.openBySource.set(record.remote, open);
    this.maxOpenBySource.set(
      record.remote,
      Math.max(open, this.maxOpenBySource.get(record.remote) ?? 0),
    );
    res.once('close', () => {
      record.closedAtMs = performance.timeOrigin + performance.now();
      this.openBySource.set(record.remote, this.openFrom(record.remote) - 1);
    });
    req.resume();

    const url = new URL(record.url, 'http://target.invalid');
    if (url.pathname !== '/stream') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('only /stream?ms=<n> is served\n');
      return;
    }
    const durationMs = Number(url.searchParams.get('ms') ?? '0');
    const headerDelayMs = Number(url.searchParams.get('headerMs') ?? '0');
    this.after(headerDelayMs, () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first\n');
      this.after(durationMs, () => {
        res.end('last\n', () => {
          record.completed = true;
        });
      });
    });
  }

  private after(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    this.timers.add(timer);
  }
}

export function startStreamTarget(): Promise<StreamTarget> {
  return new StreamTarget().listen();
}
