/**
 * A small real forward proxy on `node:http` that records, per client connection, the request
 * line and `Proxy-Authorization` of every request it gets: absolute-form requests are
 * forwarded to the origin, CONNECT requests are tunnelled. It checks basic auth when given a
 * user, and sends from `localAddress`, so the target can tell it apart from other proxies.
 */
import http from 'node:http';
import net from 'node:net';
import type { ProxyUser } from '../../helpers/squid.js';

/** One request as the proxy saw it. */
export interface RecordedRequest {
  /** `METHOD request-target HTTP/x.y`, exactly as parsed. */
  line: string;
  proxyAuthorization: string | null;
  host: string | null;
}

export interface RecordedConnection {
  id: number;
  requests: RecordedRequest[];
}

export interface RecordingProxy {
  port: number;
  connections: RecordedConnection[];
  address(): string;
  /** Every recorded request, in arrival order over all connections. */
  requests(): RecordedRequest[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['proxy-authorization', 'proxy-connection', 'connection', 'keep-alive']);

/**
 * Starts the proxy on 127.0.0.1. `hosts` maps names to addresses (like squid's hosts_file);
 * other names are connected to as given, so tests should only use IP literals or mapped names.
 */
export async function startRecordingProxy(
  localAddress: string,
  user: ProxyUser | null,
  hosts: Record<string, string> = {},
): Promise<RecordingProxy> {
  const connections: RecordedConnection[] = [];
  const bySocket = new WeakMap<net.Socket, RecordedConnection>();
  const sockets = new Set<net.Socket>();
  const expected =
    user === null
      ? null
      : `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;

  const record = (req: http.IncomingMessage): RecordedRequest => {
    const entry: RecordedRequest = {
      line: `${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}`,
      proxyAuthorization: req.headers['proxy-authorization'] ?? null,
      host: req.headers.host ?? null,
    };
    bySocket.get(req.socket)?.requests.push(entry);
    return entry;
  };

  const server = http.createServer((req, res) => {
    const entry = record(req);
    if (expected !== null && entry.proxyAuthorization !== expected) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="rec"', 'content-length': 0 });
      res.end();
      return;
    }
    forward(req, res, localAddress, hosts);
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: net.Socket) => {
    const connection = { id: connections.length + 1, requests: [] };
    connections.push(connection);
    bySocket.set(socket, connection);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const entry = record(req);
    socket.on('error', () => socket.destroy());
    if (expected !== null && entry.proxyAuthorization !== expected) {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host = '', port = '443'] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = net.connect({ host: hosts[host] ?? host, port: Number(port), localAddress });
    upstream.on('error', () => socket.destroy());
    upstream.once('connect', () => {
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections,
    address: () => `127.0.0.1:${port}`,
    requests: () => connections.flatMap((connection) => connection.requests),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  localAddress: string,
  hosts: Record<string, string>,
): void {
  const target = req.url ?? '/';
  const url = new URL(target);
  // The raw path and query after the authority, not the URL parser's normalised form.
  const rawPath = target.replace(/^[a-z]+:\/\/[^/?]+/i, '') || '/';
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    if (!HOP_BY_HOP.has(name.toLowerCase())) headers.push([name, req.rawHeaders[i + 1] as string]);
  }
  const outbound = http.request({
    host: hosts[url.hostname] ?? url.hostname,
    port: Number(url.port || 80),
    method: req.method,
    path: rawPath,
    headers: headers.flat(),
    localAddress,
  });
  outbound.on('response', (answer) => {
    const raw = answer.rawHeaders.filter((_, i, all) => {
      const name = (i % 2 === 0 ? all[i] : all[i - 1]) as string;
      return !HOP_BY_HOP.has(name.toLowerCase());
    });
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, raw);
    answer.pipe(res);
  });
  outbound.on('error', () => res.destroy());
  req.pipe(outbound);
}
