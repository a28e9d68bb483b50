import type { AttemptOutcome } from '../observe/events.js';

/**
 * Outcome of an attempt that got a response: statuses in the target's `retryOnStatus` (429,
 * 502, 503 and 504 by default) are IP failures and retried; anything else, 500 included, is
 * the target's response and passes through, as the original does.
 */
export function outcomeForStatus(status: number, retryOnStatus: readonly number[]): AttemptOutcome {
  if (!retryOnStatus.includes(status)) return 'success';
  return status === 429 ? 'rate_limited' : 'server_error';
}
