/**
 * A minimal forward proxy for the demo: accepts absolute-form HTTP requests with Basic
 * credentials and sends them on from its own loopback source address, so the demo target can
 * tell the upstream proxies apart. `failNext` makes it fail its next requests with a 502.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoUpstreamOptions {
  sourceAddress: string;
  username: string;
  password: string;
}

export class DemoUpstream {
  private readonly server: http.Server;
  private failuresLeft = 0;
  private readonly agent: http.Agent;
  port = 0;

  constructor(private readonly options: DemoUpstreamOptions) {
    this.agent = new http.Agent({ keepAlive: true, localAddress: options.sourceAddress });
    this.server = http.createServer((req, res) => this.onRequest(req, res));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Makes the next `count` requests fail with 502, as a broken upstream would. */
  failNext(count: number): void {
    this.failuresLeft = count;
  }

  /** Sends one request to the target so the keep-alive connection to it is open. */
  warmUp(targetPort: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const probe = http.get(
        { host: '127.0.0.1', port: targetPort, path: '/warm-up', agent: this.agent },
        (answer) => {
          answer.resume();
          answer.once('end', () => resolve());
        },
      );
      probe.once('error', reject);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const expected = `Basic ${Buffer.from(`${this.options.username}:${this.options.password}`).toString('base64')}`;
    if (req.headers['proxy-authorization'] !== expected) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="demo"' }).end();
      return;
    }
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      res.writeHead(502, { 'content-type': 'text/plain' }).end('demo upstream: forced failure\n');
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute-form request expected\n');
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const outbound = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: req.method,
        headers,
        agent: this.agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    outbound.on('error', () => res.writeHead(502).end('demo upstream: target unreachable\n'));
    req.pipe(outbound);
  }
}
