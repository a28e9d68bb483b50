/**
 * Opens CONNECT tunnels through an upstream HTTP proxy for https targets, then TLS to the
 * target inside the tunnel. undici calls the connector once per new connection, and its Agent
 * keeps one pool per destination origin, so a tunnel opened for one destination is never
 * reused for another.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { buildConnector } from 'undici';
import { TunnelError } from './tunnel-error.js';

export interface TunnelOptions {
  proxyHost: string;
  proxyPort: number;
  /** Full `Proxy-Authorization` value, or null when the proxy needs no credentials. */
  proxyAuthorization: string | null;
  /** Bounds the TCP connect plus the proxy's CONNECT response. */
  connectTimeoutMs: number;
  /** CA certificates trusted for the target's TLS certificate. */
  ca: string[];
}

/** Largest CONNECT response head we accept before calling the proxy broken. */
const MAX_CONNECT_HEAD_BYTES = 16 * 1024;

export function createTunnelConnector(options: TunnelOptions): buildConnector.connector {
  return (connectOptions, callback) => {
    const { hostname, port, protocol, servername } = connectOptions;
    const targetPort = port || (protocol === 'https:' ? '443' : '80');
    const authority = hostname.includes(':')
      ? `[${hostname}]:${targetPort}`
      : `${hostname}:${targetPort}`;

    openTunnel(options, authority).then(
      (socket) => {
        if (protocol !== 'https:') {
          callback(null, socket);
          return;
        }
        startTls(socket, hostname, servername ?? null, options, callback);
      },
      (err: Error) => callback(err, null),
    );
  };
}

function startTls(
  socket: net.Socket,
  hostname: string,
  servername: string | null,
  options: TunnelOptions,
  callback: buildConnector.Callback,
): void {
  // SNI must not be an IP literal (RFC 6066 section 3).
  const sni = servername || (net.isIP(hostname) ? undefined : hostname);
  const secure = tls.connect({ socket, servername: sni, host: hostname, ca: options.ca });
  const timer = setTimeout(() => {
    secure.destroy(new TunnelError('tunnel_timeout', `TLS handshake with ${hostname} timed out`));
  }, options.connectTimeoutMs);
  secure.once('secureConnect', () => {
    clearTimeout(timer);
    secure.removeListener('error', onError);
    callback(null, secure);
  });
  const onError = (err: Error): void => {
    clearTimeout(timer);
    socket.destroy();
    callback(err, null);
  };
  secure.once('error', onError);
}

/** Connects to the proxy and sends CONNECT; resolves once a complete 2xx head arrived. */
function openTunnel(options: TunnelOptions, authority: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: options.proxyHost, port: options.proxyPort });
    let head = Buffer.alloc(0);
    let settled = false;

    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };

    const timer = setTimeout(() => {
      fail(
        new TunnelError(
          'tunnel_timeout',
          `upstream proxy ${options.proxyHost}:${options.proxyPort} did not answer CONNECT within ${options.connectTimeoutMs} ms`,
        ),
      );
    }, options.connectTimeoutMs);

    socket.once('connect', () => {
      const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
      if (options.proxyAuthorization)
        lines.push(`Proxy-Authorization: ${options.proxyAuthorization}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });

    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_CONNECT_HEAD_BYTES) {
          fail(
            new TunnelError(
              'tunnel_failed',
              'upstream proxy sent an oversized CONNECT response head',
            ),
          );
        }
        return;
      }
      const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      const status = match ? Number(match[1]) : 0;
      if (status < 200 || status > 299) {
        // Destroy at once: a proxy that refused the tunnel may keep the socket open.
        fail(TunnelError.forStatus(status, statusLine));
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', fail);
      socket.removeListener('close', onClose);
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    const onClose = (): void => {
      fail(
        new TunnelError(
          'tunnel_failed',
          'upstream proxy closed the connection before answering CONNECT',
        ),
      );
    };

    socket.on('data', onData);
    socket.once('error', fail);
    socket.once('close', onClose);
  });
}
