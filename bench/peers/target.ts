/**
 * The origin server behind every case: node:http on 127.0.0.1 that returns 1 KiB of fixed
 * bytes for `GET /small` and 1 MiB for `GET /large`, with Content-Length and keep-alive.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type BodySize = 'small' | 'large';

export const BODY_BYTES: Record<BodySize, number> = { small: 1024, large: 1024 * 1024 };

export interface TargetServer {
  port: number;
  /** `http://127.0.0.1:<port>`, the value of `X-Proxy-Hopper-Target`. */
  origin: string;
  close(): Promise<void>;
}

const SIZE_BY_PATH = new Map<string, BodySize>([
  ['/small', 'small'],
  ['/large', 'large'],
]);

export async function startTarget(): Promise<TargetServer> {
  const bodies: Record<BodySize, Buffer> = {
    small: Buffer.alloc(BODY_BYTES.small, 'a'),
    large: Buffer.alloc(BODY_BYTES.large, 'b'),
  };
  const server = http.createServer((req, res) => {
    const size = SIZE_BY_PATH.get(req.url ?? '');
    if (size === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 9 });
      res.end('not found');
      return;
    }
    const body = bodies[size];
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
    });
    res.end(body);
  });
  // The default of 5 s would close idle upstream connections of a proxy between cases.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
