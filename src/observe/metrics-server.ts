/**
 * The Prometheus scrape endpoint: `GET /metrics` on `metricsHost:metricsPort`, open without
 * authentication like most exporters (bind it to an internal address).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  registry: Registry;
  logger: Logger;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** Starts the scrape listener; resolves once it listens. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<RunningServer> {
  const logger = options.logger.child({ logger: 'proxy_hopper.metrics' });
  const server = createServer((request, response) => {
    void serveScrape(request, response, options.registry).catch((err: unknown) => {
      logger.error({ err }, 'metrics scrape failed');
      if (!response.headersSent) sendText(response, 500, 'metrics collection failed\n');
      else response.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ host: options.host, port }, `Prometheus metrics available on :${port}/metrics`);

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Answers one scrape request; shared with the admin server's `/metrics`. */
export async function writeMetrics(response: ServerResponse, registry: Registry): Promise<void> {
  const body = await registry.metrics();
  response.writeHead(200, {
    'content-type': registry.contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(body);
}

async function serveScrape(
  request: IncomingMessage,
  response: ServerResponse,
  registry: Registry,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (path !== '/metrics') return sendText(response, 404, `not found: ${path}; use /metrics\n`);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return sendText(response, 405, `method ${request.method ?? ''} not allowed; use GET\n`);
  }
  await writeMetrics(response, registry);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
