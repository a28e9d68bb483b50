/**
 * Every Prometheus metric Proxy Hopper exports, with its name, type, labels and buckets, created
 * on one registry. docs/metrics.md lists the same set; keep both in step.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export const REQUEST_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const QUEUE_WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
export const PROBE_DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const IP_LABELS = ['target', 'address', 'provider', 'region'] as const;
const PROBE_LABELS = ['address', 'provider', 'region'] as const;

/** Builds the metric set on `registry`. */
export function defineMetrics(registry: Registry) {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'proxy_hopper_requests_total',
      help: 'Upstream attempts by outcome, plus requests that matched no target (outcome no_match)',
      labelNames: ['target', 'outcome', 'tag'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'proxy_hopper_request_duration_seconds',
      help: 'Duration of one upstream attempt until its response headers or failure, in seconds',
      labelNames: ['target'] as const,
      buckets: REQUEST_DURATION_BUCKETS,
      registers,
    }),
    responses: new Counter({
      name: 'proxy_hopper_responses_total',
      help: 'Responses sent to clients, including the error responses Proxy Hopper makes itself',
      labelNames: ['target', 'status_code', 'tag'] as const,
      registers,
    }),
    retries: new Counter({
      name: 'proxy_hopper_retries_total',
      help: 'Attempts retried on another IP',
      labelNames: ['target'] as const,
      registers,
    }),
    retryExhaustions: new Counter({
      name: 'proxy_hopper_retry_exhaustions_total',
      help: 'Requests that failed after using every allowed retry',
      labelNames: ['target'] as const,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'proxy_hopper_queue_depth',
      help: 'Requests waiting for an IP of the target on this instance',
      labelNames: ['target'] as const,
      registers,
    }),
    queueWait: new Histogram({
      name: 'proxy_hopper_queue_wait_seconds',
      help: 'Time from arrival until the first IP lease, in seconds',
      labelNames: ['target'] as const,
      buckets: QUEUE_WAIT_BUCKETS,
      registers,
    }),
    queueExpired: new Counter({
      name: 'proxy_hopper_queue_expired_total',
      help: 'Requests that waited maxQueueWait without an IP (queue_timeout or no_ip_available)',
      labelNames: ['target'] as const,
      registers,
    }),
    activeConnections: new Gauge({
      name: 'proxy_hopper_active_connections',
      help: 'Client TCP connections open on the proxy port',
      registers,
    }),
    availableIps: new Gauge({
      name: 'proxy_hopper_available_ips',
      help: 'IPs of the target ready for an attempt now (not cooling down, leased or quarantined)',
      labelNames: ['target'] as const,
      registers,
    }),
    quarantinedIps: new Gauge({
      name: 'proxy_hopper_quarantined_ips',
      help: 'IPs of the target in quarantine',
      labelNames: ['target'] as const,
      registers,
    }),
    ipsInRotation: new Gauge({
      name: 'proxy_hopper_ips_in_rotation',
      help: 'IPs of the target not in quarantine (available, cooling down or leased)',
      labelNames: ['target'] as const,
      registers,
    }),
    ipQuarantined: new Gauge({
      name: 'proxy_hopper_ip_quarantined',
      help: '1 while the IP is quarantined for the target, else 0',
      labelNames: IP_LABELS,
      registers,
    }),
    ipQuarantineEvents: new Counter({
      name: 'proxy_hopper_ip_quarantine_events_total',
      help: 'Times the IP was quarantined for the target',
      labelNames: IP_LABELS,
      registers,
    }),
    quarantineFloorHolds: new Counter({
      name: 'proxy_hopper_quarantine_floor_holds_total',
      help: 'Quarantines skipped because minActiveIps would not have been left in rotation',
      labelNames: ['target'] as const,
      registers,
    }),
    ipFailureCount: new Gauge({
      name: 'proxy_hopper_ip_failure_count',
      help: 'Consecutive failures of the IP for the target (0 after a success)',
      labelNames: IP_LABELS,
      registers,
    }),
    probeSuccess: new Counter({
      name: 'proxy_hopper_probe_success_total',
      help: 'Background probes through the IP that got a response below 500',
      labelNames: PROBE_LABELS,
      registers,
    }),
    probeFailure: new Counter({
      name: 'proxy_hopper_probe_failure_total',
      help: 'Background probes through the IP that failed, by reason',
      labelNames: [...PROBE_LABELS, 'reason'] as const,
      registers,
    }),
    probeDuration: new Histogram({
      name: 'proxy_hopper_probe_duration_seconds',
      help: 'Duration of one background probe, in seconds',
      labelNames: PROBE_LABELS,
      buckets: PROBE_DURATION_BUCKETS,
      registers,
    }),
    ipReachable: new Gauge({
      name: 'proxy_hopper_ip_reachable',
      help: '1 after the latest probe through the IP succeeded, 0 after it failed',
      labelNames: PROBE_LABELS,
      registers,
    }),
    backendUp: new Gauge({
      name: 'proxy_hopper_backend_up',
      help: '1 while the state backend can serve requests, else 0',
      labelNames: ['backend'] as const,
      registers,
    }),
    backendErrors: new Counter({
      name: 'proxy_hopper_backend_errors_total',
      help: 'Failed state backend operations, by operation',
      labelNames: ['operation'] as const,
      registers,
    }),
    scriptReloads: new Counter({
      name: 'proxy_hopper_backend_script_reloads_total',
      help: 'Lua scripts sent to Redis again after a NOSCRIPT reply (Redis restart, failover or SCRIPT FLUSH)',
      registers,
    }),
    listenerErrors: new Counter({
      name: 'proxy_hopper_event_listener_errors_total',
      help: 'Exceptions thrown by event subscribers (metrics, logs); each one is a bug',
      labelNames: ['event'] as const,
      registers,
    }),
  };
}

export type MetricSet = ReturnType<typeof defineMetrics>;
