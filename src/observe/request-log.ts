/**
 * Log lines for request-path and backend events, so the hot path never formats one itself:
 * DEBUG per finished request, WARNING for retries, quarantine and failures, INFO when a
 * quarantine ends. Lines that can repeat once per request are rate-limited per key.
 */
import type { Logger } from 'pino';
import type { EventBus } from './events.js';
import { redactUrl } from './redact.js';
import { createRepeatLimiter } from './repeat-limiter.js';

export interface RequestLogOptions {
  /** Extra DEBUG lines for IP failures and successes (`server.debugQuarantine`). */
  debugQuarantine?: boolean;
  /** Minimum time between two lines of one repeating kind; default 10 s. */
  repeatIntervalMs?: number;
  nowMs?: () => number;
}

/** Subscribes the log lines to `events`. Returns a function that removes the subscriptions. */
export function subscribeRequestLog(
  events: EventBus,
  parent: Logger,
  options: RequestLogOptions = {},
): () => void {
  const logger = parent.child({ logger: 'proxy_hopper.requests' });
  const pool = parent.child({ logger: 'proxy_hopper.pool' });
  const backend = parent.child({ logger: 'proxy_hopper.backend' });
  const limiter = createRepeatLimiter({
    intervalMs: options.repeatIntervalMs ?? 10_000,
    ...(options.nowMs ? { nowMs: options.nowMs } : {}),
  });
  const repeatField = (repeated: number) => (repeated > 0 ? { repeated } : {});

  const unsubscribers = [
    events.on('request_end', (event) => {
      if (!logger.isLevelEnabled('debug')) return;
      const { requestId, method, target, address, attempts, status, durationMs } = event;
      const url = redactUrl(event.url);
      const fields = { requestId, method, url, target, address, attempts, status, durationMs };
      logger.debug(
        { ...fields, errorCode: event.errorCode, aborted: event.aborted },
        'request finished',
      );
    }),
    events.on('attempt_end', (event) => {
      if (!logger.isLevelEnabled('trace')) return;
      logger.trace({ ...event }, 'attempt finished');
    }),
    events.on('request_unmatched', (event) => {
      limiter.run('request_unmatched', (repeated) => {
        const url = redactUrl(event.url);
        const fields = { requestId: event.requestId, method: event.method, url };
        logger.warn({ ...fields, ...repeatField(repeated) }, 'no target matched');
      });
    }),
    events.on('retry', (event) => {
      limiter.run(`retry:${event.target}:${event.address}:${event.reason}`, (repeated) => {
        logger.warn({ ...event, ...repeatField(repeated) }, 'retrying on another ip');
      });
    }),
    events.on('retry_exhausted', (event) => {
      limiter.run(`retry_exhausted:${event.target}`, (repeated) => {
        logger.warn({ ...event, ...repeatField(repeated) }, 'retries exhausted');
      });
    }),
    events.on('queue_expired', (event) => {
      limiter.run(`queue_expired:${event.target}:${event.code}`, (repeated) => {
        logger.warn({ ...event, ...repeatField(repeated) }, 'queue wait expired');
      });
    }),
    events.on('quarantine', (event) => {
      pool.warn({ ...event }, 'ip quarantined');
    }),
    events.on('quarantine_floor', (event) => {
      limiter.run(`quarantine_floor:${event.target}`, (repeated) => {
        // Every IP in rotation is failing alike, which points at the target rather than the IPs.
        pool.warn(
          { ...event, ...repeatField(repeated) },
          'quarantine skipped to keep minActiveIps in rotation: the failures look like the target is down, not the IPs',
        );
      });
    }),
    events.on('quarantine_release', (event) => {
      pool.info({ ...event }, 'ip released from quarantine');
    }),
    events.on('ip_failure', (event) => {
      if (options.debugQuarantine) pool.debug({ ...event }, 'ip failure counted');
    }),
    events.on('ip_success', (event) => {
      if (options.debugQuarantine) pool.debug({ ...event }, 'ip failure count reset');
    }),
    events.on('backend_error', (event) => {
      limiter.run(`backend_error:${event.operation}`, (repeated) => {
        backend.warn(
          { operation: event.operation, err: event.err, ...repeatField(repeated) },
          'backend operation failed',
        );
      });
    }),
    events.on('backend_state', (event) => {
      if (event.ready) backend.info({ reason: event.reason }, 'backend ready');
      else backend.error({ reason: event.reason }, 'backend unavailable');
    }),
    events.on('listener_error', (event) => {
      logger.error({ event: event.event, err: event.err }, 'event listener threw');
    }),
  ];
  return () => unsubscribers.forEach((unsubscribe) => unsubscribe());
}
