/**
 * In-process upstream proxies: real ones built on proxy-chain (basic auth and a per-proxy
 * outgoing address), and fake ones on `node:net` that misbehave in one specific way for fault
 * injection. Fakes record each connection (first request line, open and close times) so tests
 * can check that Proxy Hopper closed a socket itself and did not wait for the proxy.
 */
import net from 'node:net';
import { Server as ChainServer } from 'proxy-chain';
import type { ProxyUser } from './squid.js';

export interface ChainProxy {
  server: ChainServer;
  port: number;
  /** Source address the proxy uses towards the target. */
  localAddress: string;
  user: ProxyUser | null;
  address(): string;
  close(): Promise<void>;
}

/**
 * Starts a proxy-chain proxy on `host` that requires `user` (null: no auth) and sends from
 * `localAddress`.
 */
export async function startChainProxy(
  localAddress: string,
  user: ProxyUser | null,
  host = '127.0.0.1',
): Promise<ChainProxy> {
  const server = new ChainServer({
    host,
    port: 0,
    prepareRequestFunction: ({ username, password }) => {
      if (user !== null && (username !== user.username || password !== user.password)) {
        return { requestAuthentication: true, failMsg: 'invalid proxy credentials' };
      }
      return { localAddress };
    },
  });
  await server.listen();
  return {
    server,
    port: server.port,
    localAddress,
    user,
    address: () => (host.includes(':') ? `[${host}]:${server.port}` : `${host}:${server.port}`),
    close: () => server.close(true),
  };
}

/** How a fake proxy misbehaves. */
export type FakeBehaviour =
  /** Responds to CONNECT with a 200 head split over two writes 50 ms apart, then tunnels. */
  | 'split-connect-head'
  /** Responds to CONNECT with `403 Forbidden` and a body, then keeps the socket open. */
  | 'connect-403-keep-open'
  /** Closes every connection before sending any byte. */
  | 'close-before-reply'
  /** Responds to every request (CONNECT or absolute-form) with 407 and keeps the socket open. */
  | 'always-407'
  /** Responds to every request with 503 and keeps the socket open. */
  | 'always-503';

export interface FakeConnection {
  openedAtMs: number;
  closedAtMs: number | null;
  /** First line of each request head received on this connection. */
  requestLines: string[];
  /** `Proxy-Authorization` of each request head, or null when absent. */
  proxyAuthorizations: (string | null)[];
}

export interface FakeProxy {
  behaviour: FakeBehaviour;
  port: number;
  connections: FakeConnection[];
  address(): string;
  /** Connections not yet closed by either side. */
  openConnections(): number;
  close(): Promise<void>;
}

/** Starts a fake upstream proxy; tunnels of `split-connect-head` leave from `localAddress`. */
export async function startFakeProxy(
  behaviour: FakeBehaviour,
  localAddress = '127.0.0.1',
): Promise<FakeProxy> {
  const connections: FakeConnection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const record: FakeConnection = {
      openedAtMs: Date.now(),
      closedAtMs: null,
      requestLines: [],
      proxyAuthorizations: [],
    };
    connections.push(record);
    sockets.add(socket);
    socket.on('error', () => {
      // A peer reset is expected in fault tests; the close handler records it.
    });
    socket.once('close', () => {
      record.closedAtMs = Date.now();
      sockets.delete(socket);
    });
    if (behaviour === 'close-before-reply') {
      socket.destroy();
      return;
    }
    readHeads(socket, (head, rest) => {
      const lines = head.split('\r\n');
      record.requestLines.push(lines[0] ?? '');
      record.proxyAuthorizations.push(headerOf(lines, 'proxy-authorization'));
      return answer(behaviour, socket, lines, rest, localAddress);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    behaviour,
    port,
    connections,
    address: () => `127.0.0.1:${port}`,
    openConnections: () => connections.filter((c) => c.closedAtMs === null).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Calls `onHead` for every request head; `onHead` returns false to stop reading heads. */
function readHeads(socket: net.Socket, onHead: (head: string, rest: Buffer) => boolean): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      const rest = buffered.subarray(end + 4);
      buffered = Buffer.alloc(0);
      socket.pause();
      const more = onHead(head, rest);
      if (!more) {
        // Later bytes stay buffered in the paused socket until the caller pipes it.
        socket.off('data', onData);
        return;
      }
      socket.resume();
      buffered = rest;
    }
  };
  socket.on('data', onData);
}

function answer(
  behaviour: FakeBehaviour,
  socket: net.Socket,
  lines: string[],
  rest: Buffer,
  localAddress: string,
): boolean {
  const isConnect = (lines[0] ?? '').startsWith('CONNECT ');
  switch (behaviour) {
    case 'split-connect-head':
      if (!isConnect) {
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return false;
      }
      tunnelWithSplitHead(socket, lines[0] as string, rest, localAddress);
      return false;
    case 'connect-403-keep-open':
      socket.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden');
      return true;
    case 'always-407':
      socket.write(
        'HTTP/1.1 407 Proxy Authentication Required\r\n' +
          'Proxy-Authenticate: Basic realm="fake"\r\nContent-Length: 0\r\n\r\n',
      );
      return true;
    case 'always-503':
      socket.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
      return true;
    case 'close-before-reply':
      socket.destroy();
      return false;
  }
}

function tunnelWithSplitHead(
  socket: net.Socket,
  requestLine: string,
  rest: Buffer,
  localAddress: string,
): void {
  const authority = requestLine.split(' ')[1] ?? '';
  const colon = authority.lastIndexOf(':');
  const host = authority.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(authority.slice(colon + 1));
  const upstream = net.connect({ host, port, localAddress });
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
  upstream.once('connect', () => {
    socket.write('HTTP/1.1 200 Connection established\r\n');
    setTimeout(() => {
      socket.write('Via: 1.1 upS\r\n\r\n');
      if (rest.length > 0) upstream.write(rest);
      socket.pipe(upstream);
      upstream.pipe(socket);
    }, 50);
  });
}

function headerOf(lines: string[], name: string): string | null {
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name)
      return line.slice(colon + 1).trim();
  }
  return null;
}
