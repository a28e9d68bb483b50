/**
 * The one map from transport failures to what Proxy Hopper does about them. Every failure of
 * an attempt ends up here, so the client-facing code and status come from one table.
 */
import { TunnelError } from './tunnel-error.js';

export type FailureKind =
  /** Our proxy credentials were rejected (407, or 401 from tinyproxy). */
  | 'upstream_auth_failed'
  /** Could not reach the proxy or the target, or a timeout passed. */
  | 'connection_error'
  /** The client went away, which tells nothing about the IP. */
  | 'aborted'
  /** undici rejected the request we built from the client's input; not the IP's fault. */
  | 'invalid_request'
  /** Anything unexpected. */
  | 'proxy_error';

export interface ClassifiedFailure {
  kind: FailureKind;
  /** `<ErrorName>: <message>`, safe to show to the client (no credentials). */
  detail: string;
  timeout: boolean;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RESPONSE_STATUS_CODE',
  'HPE_INVALID_CONSTANT',
  'HPE_INVALID_STATUS',
  'HPE_INVALID_HEADER_TOKEN',
  'HPE_UNEXPECTED_CONTENT_LENGTH',
  'HPE_INVALID_CHUNK_SIZE',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
]);
const PROXY_UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const TIMEOUT_NAMES: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'connecting to the upstream proxy timed out (server.connectTimeout)',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers within server.responseTimeout',
  UND_ERR_BODY_TIMEOUT: 'the response body stalled longer than server.proxyReadTimeout',
};

export function classifyFailure(err: unknown): ClassifiedFailure {
  if (err instanceof TunnelError) {
    const kind = err.code === 'tunnel_auth_failed' ? 'upstream_auth_failed' : 'connection_error';
    return { kind, detail: `TunnelError: ${err.message}`, timeout: err.code === 'tunnel_timeout' };
  }
  if (!(err instanceof Error))
    return { kind: 'proxy_error', detail: `Error: ${String(err)}`, timeout: false };

  const code = (err as { code?: unknown }).code;
  if (err.name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') {
    return { kind: 'aborted', detail: `${err.name}: ${err.message}`, timeout: false };
  }
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') {
    return { kind: 'invalid_request', detail: `InvalidRequest: ${err.message}`, timeout: false };
  }
  // undici's parser errors carry no code (its lookup table is keyed the other way round), so
  // they are recognised by name: the upstream sent something that is not valid HTTP/1.1.
  if (err.name === 'HTTPParserError' || err.name === 'AssertionError') {
    return {
      kind: 'connection_error',
      detail: `ProtocolError: invalid HTTP response from upstream: ${err.message}`,
      timeout: false,
    };
  }
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return {
      kind: 'connection_error',
      detail: `TimeoutError: ${TIMEOUT_NAMES[code] ?? err.message}`,
      timeout: true,
    };
  }
  if (typeof code === 'string' && PROXY_UNREACHABLE_CODES.has(code)) {
    // Proxy Hopper only ever connects to upstream proxies; the proxy connects to the target.
    return {
      kind: 'connection_error',
      detail: `ConnectionError: upstream proxy unreachable (${err.message}); check that it is running, or remove it from the provider's ipList`,
      timeout: false,
    };
  }
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('HPE_'))) {
    return { kind: 'connection_error', detail: `${err.name}: ${err.message}`, timeout: false };
  }
  if (typeof code === 'string' && isTlsCode(code)) {
    return {
      kind: 'connection_error',
      detail: `TLSError: ${err.message} (to trust a private CA for targets, set server.caFile)`,
      timeout: false,
    };
  }
  return { kind: 'proxy_error', detail: `${err.name}: ${err.message}`, timeout: false };
}

function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.includes('CERT') ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN'
  );
}
