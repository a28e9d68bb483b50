/**
 * The proxy port, a node:http server. Requests carrying `X-Proxy-Hopper-Target` go to
 * forwarding mode and `GET /health` is served here. Everything else is rejected with a message
 * that shows how to send a request. Client connections are tracked for metrics and shutdown.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { ProxyHopperError } from '../errors/index.js';
import type { EventBus } from '../observe/events.js';
import { writeError } from './error-response.js';
import type { ForwardingHandler } from './forwarding-handler.js';

export interface HealthReport {
  status: number;
  body: Record<string, unknown>;
}

export interface ProxyListenerOptions {
  host: string;
  port: number;
  forwarding: ForwardingHandler;
  events: EventBus;
  logger: Logger;
  health: () => HealthReport;
}

const HEALTH_PATHS = new Set(['/health', '/healthz', '/ready', '/readyz']);

export class ProxyListener {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: ProxyListenerOptions) {
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('connection', (socket: Socket) => this.onConnection(socket));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
      onClientError(err, socket),
    );
    // CONNECT and protocol upgrades (WebSocket) are not forwarded, so they get an error response instead of a closed socket.
    this.server.on('connect', (req: IncomingMessage, socket: Socket) =>
      rejectRaw(
        socket,
        req,
        'CONNECT is not supported: Proxy Hopper is not a standard HTTP proxy. Send the request to Proxy Hopper itself with the destination in X-Proxy-Hopper-Target.',
      ),
    );
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket) =>
      rejectRaw(
        socket,
        req,
        `Protocol upgrades (${String(req.headers.upgrade ?? 'unknown')}) are not supported; WebSocket traffic cannot go through Proxy Hopper.`,
      ),
    );
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.removeListener('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops accepting, lets in-flight requests finish for `graceMs`, then cuts the rest. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, graceMs);
    timer.unref();
    await closed;
    clearTimeout(timer);
  }

  private onConnection(socket: Socket): void {
    const remoteAddress = socket.remoteAddress ?? '';
    this.sockets.add(socket);
    this.options.events.emit('connection_open', { remoteAddress });
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.options.events.emit('connection_close', { remoteAddress });
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    // Errors on a client socket end that request only; they must never reach the process.
    res.on('error', () => {});
    req.on('error', () => {});
    if (this.options.forwarding.claims(req)) {
      this.options.forwarding.handle(req, res).catch((err: unknown) => {
        this.options.logger.error({ err }, 'forwarding handler failed');
        if (!res.headersSent) res.destroy();
      });
      return;
    }
    const path = (req.url ?? '').split('?')[0] ?? '';
    if ((req.method === 'GET' || req.method === 'HEAD') && HEALTH_PATHS.has(path)) {
      const report = this.options.health();
      const body = JSON.stringify(report.body);
      res.writeHead(report.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const standardProxyRequest = /^[a-z][a-z0-9+.-]*:\/\//i.test(req.url ?? '');
    const hint = standardProxyRequest
      ? ' (this looks like a request for a standard HTTP proxy, which Proxy Hopper is not: send it to Proxy Hopper directly)'
      : '';
    const error = new ProxyHopperError(
      'unsupported_request',
      `Request format not supported by any enabled mode${hint}: send the destination in the X-Proxy-Hopper-Target header, for example X-Proxy-Hopper-Target: https://api.example.com`,
    );
    const clientId = req.headers['x-request-id'];
    writeError(
      res,
      error,
      typeof clientId === 'string' && clientId !== '' ? clientId : randomUUID(),
      req.method ?? 'GET',
    );
  }
}

/** Responds to HTTP parse failures (oversized headers, bad framing) before a request exists. */
function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (err.code === 'ECONNRESET' && socket.bytesWritten === 0)) {
    socket.destroy();
    return;
  }
  let status = 400;
  let code = 'bad_request';
  let message = `Malformed HTTP request (${err.code ?? 'parse error'}); check the request line, headers and body framing`;
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    code = 'headers_too_large';
    message =
      'Request headers are larger than the 16 KiB limit; send smaller headers (large cookies are the usual cause)';
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    message = 'The request headers timed out before they were complete';
  }
  const reason = http.STATUS_CODES[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(message)}\r\nX-Proxy-Hopper-Error: ${code}\r\nConnection: close\r\n\r\n${message}`,
  );
}

/** Writes a 400 with `X-Proxy-Hopper-Error: unsupported_request` on a raw socket and closes it. */
function rejectRaw(socket: Socket, req: IncomingMessage, message: string): void {
  socket.on('error', () => {});
  const requestId =
    typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : randomUUID();
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(message)}\r\nX-Proxy-Hopper-Error: unsupported_request\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${message}`,
  );
}
