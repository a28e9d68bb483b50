/** The demo's destination, which returns the address that called it and records each arrival. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Arrival {
  remoteAddress: string;
  atMs: number;
}

export class DemoTarget {
  readonly arrivals: Arrival[] = [];
  private readonly server = http.createServer((req, res) => {
    const remoteAddress = req.socket.remoteAddress ?? '';
    this.arrivals.push({ remoteAddress, atMs: performance.now() });
    const body = JSON.stringify({ calledFrom: remoteAddress, path: req.url });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  port = 0;

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
