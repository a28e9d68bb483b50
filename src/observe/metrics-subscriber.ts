/**
 * Turns request-path and backend events into metric updates. Every label value passes the
 * label guard first: tags are truncated and capped, targets and addresses must be configured.
 */
import type { EventBus, IpLabels } from './events.js';
import { BoundedLabel, ConfiguredLabels, UNMATCHED_TARGET } from './label-guard.js';
import type { MetricSet } from './metric-definitions.js';

export interface SubscriberLimits {
  maxTagValues: number;
  maxTagLength: number;
}

/** Subscribes `metrics` to `events`. Returns a function that removes every subscription. */
export function subscribeMetrics(
  events: EventBus,
  metrics: MetricSet,
  labels: ConfiguredLabels,
  limits: SubscriberLimits,
): () => void {
  const tags = new BoundedLabel(limits.maxTagValues, limits.maxTagLength);
  const operations = new BoundedLabel(50, 64);
  const ipLabels = (event: IpLabels) => ({
    target: event.target,
    address: event.address,
    provider: event.provider,
    region: event.region,
  });

  const unsubscribers = [
    events.on('connection_open', () => metrics.activeConnections.inc()),
    events.on('connection_close', () => metrics.activeConnections.dec()),
    events.on('request_unmatched', (event) => {
      const tag = tags.value(event.tag);
      metrics.requests.inc({ target: UNMATCHED_TARGET, outcome: 'no_match', tag });
    }),
    events.on('attempt_end', (event) => {
      if (!labels.hasTarget(event.target)) return;
      const tag = tags.value(event.tag);
      metrics.requests.inc({ target: event.target, outcome: event.outcome, tag });
      metrics.requestDuration.observe({ target: event.target }, event.durationMs / 1000);
    }),
    events.on('request_end', (event) => {
      const target = labels.responseTarget(event.target);
      const tag = tags.value(event.tag);
      metrics.responses.inc({ target, status_code: String(event.status), tag });
    }),
    events.on('retry', (event) => {
      if (labels.hasTarget(event.target)) metrics.retries.inc({ target: event.target });
    }),
    events.on('retry_exhausted', (event) => {
      if (labels.hasTarget(event.target)) metrics.retryExhaustions.inc({ target: event.target });
    }),
    events.on('queue_depth', (event) => {
      if (labels.hasTarget(event.target))
        metrics.queueDepth.set({ target: event.target }, event.depth);
    }),
    events.on('queue_wait', (event) => {
      if (!labels.hasTarget(event.target)) return;
      metrics.queueWait.observe({ target: event.target }, event.waitMs / 1000);
    }),
    events.on('queue_expired', (event) => {
      if (labels.hasTarget(event.target)) metrics.queueExpired.inc({ target: event.target });
    }),
    events.on('ip_failure', (event) => {
      if (labels.hasIp(event.target, event.address)) {
        metrics.ipFailureCount.set(ipLabels(event), event.failures);
      }
    }),
    events.on('ip_success', (event) => {
      if (labels.hasIp(event.target, event.address)) metrics.ipFailureCount.set(ipLabels(event), 0);
    }),
    events.on('quarantine', (event) => {
      if (!labels.hasIp(event.target, event.address)) return;
      metrics.ipQuarantineEvents.inc(ipLabels(event));
      metrics.ipQuarantined.set(ipLabels(event), 1);
      metrics.ipFailureCount.set(ipLabels(event), event.failures);
    }),
    events.on('quarantine_release', (event) => {
      if (!labels.hasIp(event.target, event.address)) return;
      metrics.ipQuarantined.set(ipLabels(event), 0);
      metrics.ipFailureCount.set(ipLabels(event), 0);
    }),
    events.on('quarantine_floor', (event) => {
      if (labels.hasTarget(event.target))
        metrics.quarantineFloorHolds.inc({ target: event.target });
    }),
    events.on('probe_result', (event) => {
      if (!labels.hasAddress(event.address)) return;
      const probe = { address: event.address, provider: event.provider, region: event.region };
      metrics.probeDuration.observe(probe, event.durationMs / 1000);
      metrics.ipReachable.set(probe, event.ok ? 1 : 0);
      if (event.ok) metrics.probeSuccess.inc(probe);
      else metrics.probeFailure.inc({ ...probe, reason: event.reason ?? 'connection_error' });
    }),
    events.on('backend_error', (event) => {
      metrics.backendErrors.inc({ operation: operations.value(event.operation) });
    }),
    events.on('backend_script_reload', () => metrics.scriptReloads.inc()),
    events.on('listener_error', (event) => metrics.listenerErrors.inc({ event: event.event })),
  ];
  return () => unsubscribers.forEach((unsubscribe) => unsubscribe());
}
