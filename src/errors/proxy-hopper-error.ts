import { ERROR_CODES, type ErrorCode } from './codes.js';

export interface ProxyHopperErrorOptions {
  /** HTTP status of the response; defaults to the code's status in ERROR_CODES. */
  status?: number;
  /** Extra response headers, such as `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
  /** Extra fields for the JSON body (`url`, `method`, `retries_attempted`, ...). */
  fields?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * A response that Proxy Hopper makes itself. The listener turns it into a response whose
 * `X-Proxy-Hopper-Error` header carries `code`; `message` is safe to show to the client and
 * never contains secrets.
 */
export class ProxyHopperError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly fields: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ProxyHopperErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProxyHopperError';
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code];
    this.headers = options.headers ?? {};
    this.fields = options.fields ?? {};
  }
}

export function isProxyHopperError(value: unknown): value is ProxyHopperError {
  return value instanceof ProxyHopperError;
}
