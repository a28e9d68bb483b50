/**
 * CORS for the admin API: any origin may call it from a browser. The origin is echoed rather
 * than `*` so that `Access-Control-Allow-Credentials` stays valid. Tokens travel in the
 * `Authorization` header, so a foreign page gains no access through cookies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOWED_METHODS = 'GET, HEAD, POST, OPTIONS';
const DEFAULT_ALLOWED_HEADERS = 'Authorization, Content-Type, X-Proxy-Hopper-Auth';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

export function applyCors(request: IncomingMessage, response: ServerResponse): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  response.setHeader('access-control-allow-origin', origin);
  response.setHeader('access-control-allow-credentials', 'true');
  response.setHeader('vary', 'Origin');
  if (!isPreflight(request)) return;

  const requested = request.headers['access-control-request-headers'];
  response.setHeader('access-control-allow-methods', ALLOWED_METHODS);
  response.setHeader('access-control-allow-headers', requested ?? DEFAULT_ALLOWED_HEADERS);
  response.setHeader('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS);
}

/** Checks for a CORS preflight: OPTIONS with `Origin` and `Access-Control-Request-Method`. */
export function isPreflight(request: IncomingMessage): boolean {
  return (
    request.method === 'OPTIONS' &&
    request.headers.origin !== undefined &&
    request.headers['access-control-request-method'] !== undefined
  );
}
