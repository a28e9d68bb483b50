/** Sends one attempt of a request through one upstream proxy and returns the response head. */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { ResolvedIp } from '../config/types.js';
import type { UpstreamClients } from './upstream-clients.js';

export interface OutboundRequest {
  scheme: 'http' | 'https';
  /** `scheme://host[:port]` of the destination. */
  origin: string;
  /** Raw path and query as the client sent them, always starting with `/`. */
  pathAndQuery: string;
  method: string;
  /** Flat list of header names and values, without hop-by-hop and proxy headers. */
  headers: string[];
}

export interface UpstreamResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export function sendAttempt(
  clients: UpstreamClients,
  ip: ResolvedIp,
  request: OutboundRequest,
  body: Buffer | Readable | null,
  signal: AbortSignal,
): Promise<UpstreamResponse> {
  const { dispatcher, proxyAuthorization } = clients.dispatcherFor(ip, request.scheme);
  if (request.scheme === 'http') {
    // Absolute-form request line to the proxy (RFC 9112 section 3.2.2); the proxy credentials
    // go on every request because the kept-alive socket may be reused for the next one.
    const headers =
      proxyAuthorization === null
        ? request.headers
        : [...request.headers, 'proxy-authorization', proxyAuthorization];
    return dispatcher.request({
      path: request.origin + request.pathAndQuery,
      method: request.method as Dispatcher.HttpMethod,
      headers,
      body,
      signal,
    });
  }
  return dispatcher.request({
    origin: request.origin,
    path: request.pathAndQuery,
    method: request.method as Dispatcher.HttpMethod,
    headers: request.headers,
    body,
    signal,
  });
}
