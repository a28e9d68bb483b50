/**
 * Prometheus metrics on a registry of their own: the metric set of metric-definitions.ts fed by
 * events, pool gauges refreshed from backend snapshots every few seconds, and Node's default
 * process metrics. Series of targets and IPs that leave the config are deleted.
 */
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Backend } from '../backend/types.js';
import type { TargetConfig } from '../config/types.js';
import type { EventBus } from './events.js';
import { ConfiguredLabels, UNMATCHED_TARGET } from './label-guard.js';
import { defineMetrics, type MetricSet } from './metric-definitions.js';
import { subscribeMetrics } from './metrics-subscriber.js';

export interface MetricsOptions {
  events: EventBus;
  backend: Pick<Backend, 'kind' | 'isReady' | 'snapshot'>;
  /** Current targets; read again on every refresh and lookup, so reloads are picked up. */
  targets: () => readonly TargetConfig[];
  /** Defaults to a new Registry; the global prom-client registry is never used. */
  registry?: Registry;
  /** Period of the pool gauge refresh; 0 disables the timer (call `refresh` yourself). */
  refreshIntervalMs?: number;
  maxTagValues?: number;
  maxTagLength?: number;
  /** Node process metrics (`process_*`, `nodejs_*`); default true. */
  defaultMetrics?: boolean;
  logger?: Logger;
}

export interface Metrics {
  readonly registry: Registry;
  /** Sets pool gauges from backend snapshots and deletes series of removed targets and IPs. */
  refresh(): Promise<void>;
  /** Unsubscribes from events and stops the refresh timer; the registry keeps its values. */
  stop(): void;
}

export const DEFAULT_REFRESH_INTERVAL_MS = 5000;

/** Creates the metric set and starts recording. Call only when `server.metrics` is on. */
export function createMetrics(options: MetricsOptions): Metrics {
  const registry = options.registry ?? new Registry();
  const metrics = defineMetrics(registry);
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  let pruneNeeded = false;
  const labels = new ConfiguredLabels(options.targets, () => {
    pruneNeeded = true;
  });
  labels.sync();
  pruneNeeded = false;

  const unsubscribe = subscribeMetrics(options.events, metrics, labels, {
    maxTagValues: options.maxTagValues ?? 1000,
    maxTagLength: options.maxTagLength ?? 64,
  });
  const unsubscribeState = options.events.on('backend_state', (event) => {
    metrics.backendUp.set({ backend: options.backend.kind }, event.ready ? 1 : 0);
  });
  metrics.backendUp.set({ backend: options.backend.kind }, options.backend.isReady() ? 1 : 0);

  let running: Promise<void> | null = null;
  const refresh = (): Promise<void> => {
    running ??= (async () => {
      labels.sync();
      if (pruneNeeded) {
        pruneNeeded = false;
        await pruneSeries(metrics, labels);
      }
      await refreshPools(metrics, options, labels.targetNames());
    })().finally(() => {
      running = null;
    });
    return running;
  };

  const intervalMs = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
  const timer = intervalMs > 0 ? setInterval(() => void refresh(), intervalMs) : null;
  timer?.unref();

  return {
    registry,
    refresh,
    stop() {
      if (timer !== null) clearInterval(timer);
      unsubscribe();
      unsubscribeState();
    },
  };
}

async function refreshPools(
  metrics: MetricSet,
  options: MetricsOptions,
  targets: string[],
): Promise<void> {
  const backendLabels = { backend: options.backend.kind };
  metrics.backendUp.set(backendLabels, options.backend.isReady() ? 1 : 0);
  if (!options.backend.isReady()) return;

  for (const target of targets) {
    try {
      const states = await options.backend.snapshot(target);
      const quarantined = states.filter((state) => state.status === 'quarantined').length;
      const available = states.filter((state) => state.status === 'available').length;
      metrics.availableIps.set({ target }, available);
      metrics.quarantinedIps.set({ target }, quarantined);
      metrics.ipsInRotation.set({ target }, states.length - quarantined);
      for (const state of states) {
        const ip = {
          target,
          address: state.address,
          provider: state.provider,
          region: state.region,
        };
        metrics.ipQuarantined.set(ip, state.status === 'quarantined' ? 1 : 0);
        metrics.ipFailureCount.set(ip, state.failures);
      }
    } catch (err) {
      // The backend publishes backend_error itself; gauges keep their last values meanwhile.
      options.logger?.debug({ err, target }, 'pool gauge refresh failed');
    }
  }
}

/** Deletes every series whose target or address is no longer configured. */
async function pruneSeries(metrics: MetricSet, labels: ConfiguredLabels): Promise<void> {
  for (const metric of Object.values(metrics)) {
    const { values } = await metric.get();
    const stale = new Map<string, Record<string, string>>();
    for (const sample of values) {
      const { le: _bucket, ...series } = sample.labels as Record<string, string>;
      if (isConfigured(series, labels)) continue;
      stale.set(JSON.stringify(series), series);
    }
    for (const series of stale.values())
      (metric as { remove(labels: object): void }).remove(series);
  }
}

function isConfigured(series: Record<string, string>, labels: ConfiguredLabels): boolean {
  const { target, address } = series;
  if (target !== undefined && address !== undefined) return labels.hasIp(target, address);
  if (target !== undefined) return target === UNMATCHED_TARGET || labels.hasTarget(target);
  if (address !== undefined) return labels.hasAddress(address);
  return true;
}
