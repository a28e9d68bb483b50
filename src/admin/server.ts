/**
 * The admin HTTP server on `adminHost:adminPort`: `/health` (public), `/auth/login` (public),
 * `/api/v1/status` and `/metrics` (permission `read`). Errors are JSON `{"detail": ...}` and
 * 401s carry a `WWW-Authenticate: Bearer` challenge.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Principal, ProxyAuthorizer } from '../auth/types.js';
import type { Backend } from '../backend/types.js';
import type { Config, Permission } from '../config/types.js';
import { isProxyHopperError } from '../errors/index.js';
import { writeMetrics } from '../observe/metrics-server.js';
import { applyCors, isPreflight } from './cors.js';
import { healthReport } from './health.js';
import { BodyTooLargeError, MAX_BODY_BYTES, readBody, sendDetail, sendJson } from './http-json.js';
import { buildStatus, type StatusSources } from './status.js';

export interface AdminLoginRequest {
  body: Buffer;
  contentType: string | undefined;
  clientAddress: string;
}

export interface AdminLoginResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON text, or a value to serialize as JSON. */
  body: unknown;
}

export interface AdminServerOptions {
  /** The config, or a getter for the current one when it can be reloaded. */
  config: Config | (() => Config);
  backend: Pick<Backend, 'kind' | 'isReady' | 'snapshot'>;
  authorizer: ProxyAuthorizer;
  login: (request: AdminLoginRequest) => Promise<AdminLoginResponse>;
  /** The metrics registry; null when `server.metrics` is off (`/metrics` then returns 404). */
  registry: Registry | null;
  /** Runs before each `/metrics` scrape, such as `Metrics.refresh`. */
  beforeScrape?: () => Promise<void>;
  logger: Logger;
  probes?: StatusSources['probes'];
  /** Overrides `server.adminHost` / `server.adminPort` (port 0 picks a free port). */
  host?: string;
  port?: number;
}

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

/** Starts the admin server; resolves once it listens. */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const logger = options.logger.child({ logger: 'proxy_hopper.admin' });
  const routes = buildRoutes(options);
  const server = createServer((request, response) => {
    void dispatch(routes, request, response).catch((err: unknown) => {
      logger.error({ err, method: request.method, path: pathOf(request) }, 'admin request failed');
      if (!response.headersSent) sendDetail(response, 500, 'Internal server error');
      else response.destroy();
    });
  });

  const current = currentConfig(options.config);
  const host = options.host ?? current.server.adminHost;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? current.server.adminPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ host, port }, `Admin API listening on ${host}:${port}`);

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function currentConfig(config: AdminServerOptions['config']): Config {
  return typeof config === 'function' ? config() : config;
}

function pathOf(request: IncomingMessage): string {
  return (request.url ?? '/').split('?')[0] ?? '/';
}

/** Method -> handler, per path. */
function buildRoutes(options: AdminServerOptions): Map<string, Map<string, Handler>> {
  const authorize = (request: IncomingMessage, permission: Permission): Promise<Principal> => {
    const header = request.headers.authorization ?? request.headers['x-proxy-hopper-auth'];
    return options.authorizer.authorizeAdmin(asSingle(header), permission);
  };

  const health: Handler = async (_request, response) => {
    const report = healthReport(options.backend);
    sendJson(response, report.statusCode, report.body);
  };

  const status: Handler = async (request, response) => {
    const principal = await authorize(request, 'read');
    const sources = { config: currentConfig(options.config), backend: options.backend };
    const view = await buildStatus({ ...sources, probes: options.probes }, principal);
    sendJson(response, 200, view);
  };

  const metrics: Handler = async (request, response) => {
    await authorize(request, 'read');
    if (options.registry === null) {
      return sendDetail(response, 404, 'Metrics are disabled: set server.metrics: true');
    }
    await writeMetrics(response, options.registry, options.beforeScrape);
  };

  const login: Handler = async (request, response) => {
    const body = await readBody(request);
    const result = await options.login({
      body,
      contentType: request.headers['content-type'],
      clientAddress: request.socket.remoteAddress ?? '',
    });
    sendJson(response, result.status, result.body, result.headers);
  };

  return new Map([
    [
      '/health',
      new Map([
        ['GET', health],
        ['HEAD', health],
      ]),
    ],
    ['/api/v1/status', new Map([['GET', status]])],
    ['/metrics', new Map([['GET', metrics]])],
    ['/auth/login', new Map([['POST', login]])],
  ]);
}

function asSingle(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}

async function dispatch(
  routes: Map<string, Map<string, Handler>>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  applyCors(request, response);
  if (isPreflight(request)) {
    response.writeHead(204);
    response.end();
    return;
  }

  const path = pathOf(request);
  const methods = routes.get(path);
  if (methods === undefined) return sendDetail(response, 404, `Not found: ${path}`);
  const handler = methods.get(request.method ?? '');
  if (handler === undefined) {
    const allow = [...methods.keys()].join(', ');
    const detail = `Method ${request.method ?? ''} is not allowed on ${path}; use ${allow}`;
    return sendDetail(response, 405, detail, { allow });
  }

  try {
    await handler(request, response);
  } catch (err) {
    if (isProxyHopperError(err)) return sendAuthError(response, err);
    if (err instanceof BodyTooLargeError) {
      return sendDetail(response, 413, `Request body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    throw err;
  }
}

/** 401/403 from the authorizer: its message as `detail`, its headers, and a Bearer challenge. */
function sendAuthError(
  response: ServerResponse,
  err: { status: number; message: string; headers: Record<string, string> },
): void {
  const headers = { ...err.headers };
  const hasChallenge = Object.keys(headers).some(
    (name) => name.toLowerCase() === 'www-authenticate',
  );
  if (err.status === 401 && !hasChallenge) headers['WWW-Authenticate'] = 'Bearer';
  sendDetail(response, err.status, err.message, headers);
}
