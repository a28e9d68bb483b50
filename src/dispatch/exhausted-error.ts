import { ProxyHopperError } from '../errors/index.js';
import type { DispatchRequest, FailedAttempt } from './dispatch-types.js';

/**
 * Builds the error response for a request whose retries ran out, from its last failed attempt: the
 * upstream's status with `upstream_error` (its Retry-After copied), `upstream_auth_failed`, or
 * `connection_error` / `proxy_error`, each with the original's JSON fields.
 */
export function exhaustedError(
  request: DispatchRequest,
  attempt: number,
  failure: FailedAttempt,
): ProxyHopperError {
  const fields = {
    url: request.url,
    method: request.outbound.method,
    retries_attempted: attempt,
    retries_allowed: request.numRetries,
  };
  const reason = request.body.replayable
    ? ''
    : ' (the request body was too large to replay, so it was not retried)';

  if (failure.kind === 'status' && failure.status !== null) {
    const headers: Record<string, string> =
      failure.retryAfter === null ? {} : { 'retry-after': failure.retryAfter };
    const message = `Upstream returned ${failure.status} after exhausting retries${reason}`;
    return new ProxyHopperError('upstream_error', message, {
      status: failure.status,
      headers,
      fields,
    });
  }
  if (failure.kind === 'upstream_auth_failed') {
    const target = request.target.config.name;
    const message =
      `Upstream proxy authentication failed: every upstream proxy tried for target '${target}' rejected its credentials; ` +
      `check auth.username and auth.password of the provider (inline ipList entries send no credentials)${reason}`;
    return new ProxyHopperError('upstream_auth_failed', message, {
      fields: { ...fields, last_failure: failure.detail },
    });
  }
  const code = failure.kind === 'proxy_error' ? 'proxy_error' : 'connection_error';
  return new ProxyHopperError(code, `${failure.detail}${reason}`, { fields });
}
