/**
 * Writes a response that Proxy Hopper makes itself. Every such response carries
 * `X-Proxy-Hopper-Error: <code>` so a program can tell it from the target's own response.
 * Failures of the attempt loop use the original's JSON body (`error`, `detail`, `url`,
 * `method`, `retries_attempted`, `retries_allowed`); request and auth errors are plain text.
 */
import type { ServerResponse } from 'node:http';
import type { ProxyHopperError } from '../errors/index.js';

const JSON_CODES = new Set([
  'queue_timeout',
  'no_ip_available',
  'upstream_error',
  'connection_error',
  'upstream_auth_failed',
  'proxy_error',
  'server_shutdown',
  'backend_unavailable',
]);

export function writeError(
  res: ServerResponse,
  err: ProxyHopperError,
  requestId: string,
  method: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  let body: string;
  let contentType: string;
  if (JSON_CODES.has(err.code)) {
    contentType = 'application/json';
    body = `${JSON.stringify({ error: err.code, detail: err.message, ...err.fields }, null, 2)}\n`;
  } else {
    contentType = 'text/plain; charset=utf-8';
    body = err.message;
  }
  const headers: Record<string, string | number> = {
    ...err.headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-proxy-hopper-error': err.code,
    'x-request-id': requestId,
  };
  res.writeHead(err.status, headers);
  res.end(method === 'HEAD' ? undefined : body);
}
