/**
 * An origin with HTTPS on the default port 443 and HTTP on 8081, on a loopback address of its
 * own. The address (127.x.y.z) is picked at random, so parallel test processes do not collide,
 * and binding 443 needs root. Its certificate, signed by the test CA, covers `ORIGIN_NAMES`, and a squid
 * hosts file maps those names to the address. Every request is recorded with the Host header,
 * the TLS server name (SNI) and the client's port, so tests can tell when a connection was
 * reused. Routes: `/file.bin` (HEAD and GET: 1 MiB declared), `/many-headers` (repeated
 * response headers), `/gzip`, and an echo of everything else.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import type tls from 'node:tls';
import { isAddressInUse } from '../../helpers/ports.js';
import { makeTempDir, runChecked } from '../../helpers/processes.js';
import { COOKIE_LINES, GZIP_BODY } from '../../helpers/targets.js';
import { testTls } from '../../helpers/tls.js';

export const ORIGIN_NAMES = ['api.example.test', 'mq.test', 'files.test'];
export const FILE_BYTES = 1024 * 1024;

/** Repeated response headers of `/many-headers`, in order. */
export const REPEATED_HEADERS: [string, string][] = [
  ['Set-Cookie', COOKIE_LINES[0] as string],
  ['Vary', 'Accept-Encoding'],
  ['Link', '</a.css>; rel=preload'],
  ['Set-Cookie', COOKIE_LINES[1] as string],
  ['WWW-Authenticate', 'Basic realm="one"'],
  ['Vary', 'Origin'],
  ['Link', '</b.js>; rel=preload'],
  ['WWW-Authenticate', 'Bearer realm="two"'],
  ['Set-Cookie', COOKIE_LINES[2] as string],
];

export interface OriginRequest {
  scheme: 'http' | 'https';
  method: string;
  url: string;
  host: string | null;
  /** TLS server name the client sent, `false` when it sent none, null for plain http. */
  servername: string | false | null;
  remoteAddress: string;
  remotePort: number;
  headers: [string, string][];
}

export interface NamedOrigin {
  address: string;
  requests: OriginRequest[];
  /** Writes a squid hosts file that maps `ORIGIN_NAMES` to `address` and returns its path. */
  hostsFile(dir: string): string;
  close(): Promise<void>;
}

export async function startNamedOrigin(): Promise<NamedOrigin> {
  const { key, cert } = namedCertificate();
  const requests: OriginRequest[] = [];
  const sockets = new Set<net.Socket>();
  const handler =
    (scheme: 'http' | 'https') =>
    (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const socket = req.socket as tls.TLSSocket;
      const servername = scheme === 'https' ? socket.servername : null;
      requests.push({
        scheme,
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host ?? null,
        servername: servername ?? null,
        remoteAddress: socket.remoteAddress ?? '',
        remotePort: socket.remotePort ?? 0,
        headers: pairs(req.rawHeaders),
      });
      route(req, res);
    };
  const httpsServer = https.createServer({ key, cert }, handler('https'));
  const httpServer = http.createServer(handler('http'));
  for (const server of [httpsServer, httpServer]) {
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
  }
  const address = await bindDefaultPorts(httpsServer, httpServer);
  return {
    address,
    requests,
    hostsFile: (dir) => {
      const file = path.join(dir, 'named-hosts');
      fs.writeFileSync(file, `${address} ${ORIGIN_NAMES.join(' ')}\n127.0.0.1 localhost\n`, {
        mode: 0o644,
      });
      return file;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([httpsServer, httpServer].map((server) => closeServer(server)));
    },
  };
}

function route(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  const pathname = (req.url ?? '/').split('?')[0];
  if (pathname === '/file.bin') {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': FILE_BYTES,
    });
    res.end(req.method === 'HEAD' ? undefined : Buffer.alloc(FILE_BYTES, 7));
    return;
  }
  if (pathname === '/many-headers') {
    res.writeHead(200, [...REPEATED_HEADERS, ['Content-Length', '3']].flat());
    res.end('ok\n');
    return;
  }
  if (pathname === '/gzip') {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'content-length': GZIP_BODY.length,
    });
    res.end(GZIP_BODY);
    return;
  }
  const text = JSON.stringify({ url: req.url, headers: pairs(req.rawHeaders) });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length });
  res.end(text);
}

async function bindDefaultPorts(httpsServer: net.Server, httpServer: net.Server): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const address = `127.${100 + rand(150)}.${rand(256)}.${1 + rand(253)}`;
    try {
      await listen(httpsServer, 443, address);
    } catch (err) {
      if (isAddressInUse(err)) continue;
      throw new Error(`cannot bind ${address}:443 (run the tests as root): ${String(err)}`);
    }
    try {
      await listen(httpServer, 8081, address);
      return address;
    } catch (err) {
      await closeServer(httpsServer);
      if (!isAddressInUse(err)) throw err;
    }
  }
  throw new Error('no free loopback address for ports 443 and 8081 after 20 tries');
}

function namedCertificate(): { key: Buffer; cert: Buffer } {
  const ca = testTls();
  const dir = makeTempDir('named-tls');
  const openssl = (args: string[]): void => void runChecked('openssl', args, dir);
  openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.csr'].concat([
      '-subj',
      '/CN=api.example.test',
    ]),
  );
  const san = ORIGIN_NAMES.map((name) => `DNS:${name}`).join(',');
  fs.writeFileSync(
    path.join(dir, 'san.ext'),
    `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(
    ['x509', '-req', '-in', 'c.csr', '-CA', ca.caPath, '-CAkey', path.join(ca.dir, 'ca.key')]
      .concat(['-CAcreateserial', '-CAserial', path.join(dir, 'ca.srl'), '-out', 'c.pem'])
      .concat(['-days', '2', '-extfile', 'san.ext']),
  );
  const result = {
    key: fs.readFileSync(path.join(dir, 'k.pem')),
    cert: fs.readFileSync(path.join(dir, 'c.pem')),
  };
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

function rand(limit: number): number {
  return Math.floor(Math.random() * limit);
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function pairs(raw: string[]): [string, string][] {
  const result: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) result.push([raw[i] as string, raw[i + 1] as string]);
  return result;
}
