/**
 * Stable error codes that Proxy Hopper sends in the `X-Proxy-Hopper-Error` header and in the
 * `error` field of its JSON error bodies. Codes are snake_case and are never reused for a
 * different meaning; a retired code stays listed here with a comment.
 */
export const ERROR_CODES = {
  /** No `X-Proxy-Hopper-Target` header and the request is not the proxy port's /health. */
  unsupported_request: 400,
  /** `X-Proxy-Hopper-Target` is empty, not an absolute URL, or not http/https. */
  invalid_target: 400,
  /** The request itself is malformed (framing, header values). */
  bad_request: 400,
  /** Proxy auth is on and no token was sent. */
  auth_required: 401,
  /** The token is not a known API key and not a valid local or OIDC JWT. */
  invalid_token: 401,
  /** The caller is authenticated but may not use the matched target. */
  forbidden: 403,
  /** The request body is larger than the configured maximum. */
  payload_too_large: 413,
  /** Request headers (or one control header) exceed the size limit. */
  headers_too_large: 431,
  /** Upstream proxies responded with a retriable status until retries ran out (status copied). */
  upstream_error: 502,
  /** Connecting to the upstream proxy or reading its response failed until retries ran out. */
  connection_error: 502,
  /** An upstream proxy rejected our proxy credentials (407, or 401 from tinyproxy). */
  upstream_auth_failed: 502,
  /** An unexpected internal failure while handling an attempt. */
  proxy_error: 502,
  /** The request waited `maxQueueWait` without getting an IP while IPs were in rotation. */
  queue_timeout: 503,
  /** The request waited `maxQueueWait` and the target had no IP in rotation at all. */
  no_ip_available: 503,
  /** No configured target regex matched the outbound URL. */
  no_target_match: 503,
  /** The state backend (Redis) cannot be reached. */
  backend_unavailable: 503,
  /** The request was still queued when the server shut down. */
  server_shutdown: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
