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
  /** Runs before each scrape, such as `Metrics.refresh`, so pool gauges are current. */
  beforeScrape?: () => Promise<void>;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** Starts the scrape listener; resolves once it listens. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<RunningServer> {
  const logger = options.logger.child({ logger: 'proxy_hopper.metrics' });
  const server = createServer((request, response) => {
    void serveScrape(request, response, options).catch((err: unknown) => {
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

/** Maximum wait for `beforeScrape`, after which the scrape serves the values it has. */
const BEFORE_SCRAPE_TIMEOUT_MS = 2000;

/** Writes the registry as one scrape response; the admin server's `/metrics` uses it too. */
export async function writeMetrics(
  response: ServerResponse,
  registry: Registry,
  beforeScrape?: () => Promise<void>,
): Promise<void> {
  if (beforeScrape) await withTimeout(beforeScrape(), BEFORE_SCRAPE_TIMEOUT_MS);
  const body = await registry.metrics();
  response.writeHead(200, {
    'content-type': registry.contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(body);
}

async function withTimeout(work: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function serveScrape(
  request: IncomingMessage,
  response: ServerResponse,
  options: MetricsServerOptions,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (path !== '/metrics') return sendText(response, 404, `not found: ${path}; use /metrics\n`);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return sendText(response, 405, `method ${request.method ?? ''} not allowed; use GET\n`);
  }
  await writeMetrics(response, options.registry, options.beforeScrape);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
