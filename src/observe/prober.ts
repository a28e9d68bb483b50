/**
 * The background IP prober: every `probeInterval`, after the previous round has finished, each
 * unique upstream address of the configured targets is probed through its proxy with one of
 * the `probeUrls` (round-robin per address). It is idle when no probe URL is configured. Probes
 * open their own connections and run at most `concurrency` at a time, so live traffic never
 * queues behind them for a socket or an IP lease.
 */
import type { Logger } from 'pino';
import type { ResolvedIp, ServerConfig, TargetConfig } from '../config/types.js';
import type { EventBus } from './events.js';
import { ProbeHealth } from './probe-health.js';
import { probeThroughProxy, type ProbeOutcome } from './probe-request.js';
import { redactUrl } from './redact.js';

export type ProberSettings = Pick<
  ServerConfig,
  'probe' | 'probeIntervalMs' | 'probeTimeoutMs' | 'probeUrls' | 'probeQuarantine' | 'debugProbes'
>;

export interface ProberOptions {
  settings: ProberSettings;
  /** Current targets; read at the start of every round, so reloads change the probe set. */
  targets: () => readonly TargetConfig[];
  events: EventBus;
  logger: Logger;
  /** Probes in flight at once; default 8. */
  concurrency?: number;
}

export interface Prober {
  readonly health: ProbeHealth;
  /** True when probing is on and probe URLs are configured. */
  readonly active: boolean;
  /** False when the latest probe through `address` failed (see ProbeHealth.isReachable). */
  isReachable(address: string): boolean;
  /** Starts the round loop (no-op when inactive). */
  start(): void;
  /** Runs one round now and resolves when every probe of it has finished. */
  probeRound(): Promise<void>;
  /** Stops the loop, cancels probes in flight and waits for the running round to end. */
  stop(): Promise<void>;
}

export const DEFAULT_PROBE_CONCURRENCY = 8;

export function createProber(options: ProberOptions): Prober {
  const { settings, events } = options;
  const logger = options.logger.child({ logger: 'proxy_hopper.prober' });
  const health = new ProbeHealth(settings.probeQuarantine);
  const concurrency = options.concurrency ?? DEFAULT_PROBE_CONCURRENCY;
  const active = settings.probe && settings.probeUrls.length > 0;
  const urlIndex = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let round: Promise<void> | null = null;
  let stopped = false;
  let cancel = new AbortController();

  const probeAddress = async (ip: ResolvedIp): Promise<void> => {
    const index = urlIndex.get(ip.address) ?? 0;
    urlIndex.set(ip.address, index + 1);
    const url = settings.probeUrls[index % settings.probeUrls.length] ?? '';
    const outcome = await probeThroughProxy(ip, url, settings.probeTimeoutMs, cancel.signal);
    if (stopped) return;
    publish(ip, url, outcome);
  };

  const publish = (ip: ResolvedIp, url: string, outcome: ProbeOutcome): void => {
    const changed = health.record(ip.address, outcome.ok);
    const { address, provider, region } = ip;
    const { ok, reason, durationMs, status } = outcome;
    events.emit('probe_result', { address, provider, region, ok, reason, durationMs, url, status });
    logOutcome(logger, ip, redactUrl(url), outcome, changed, settings.debugProbes);
  };

  const probeRound = (): Promise<void> => {
    round ??= (async () => {
      const ips = uniqueAddresses(options.targets());
      health.retain(new Set(ips.map((ip) => ip.address)));
      await runBounded(ips, concurrency, probeAddress);
    })().finally(() => {
      round = null;
    });
    return round;
  };

  const scheduleNext = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void probeRound().finally(scheduleNext);
    }, settings.probeIntervalMs);
    timer.unref();
  };

  return {
    health,
    active,
    isReachable: (address) => health.isReachable(address),
    start() {
      if (!settings.probe) return;
      if (!active) {
        logger.info('prober idle: no probeUrls configured');
        return;
      }
      const intervalMs = settings.probeIntervalMs;
      logger.info({ intervalMs, urls: settings.probeUrls.map(redactUrl) }, 'prober started');
      stopped = false;
      cancel = new AbortController();
      void probeRound().finally(scheduleNext);
    },
    probeRound,
    async stop() {
      stopped = true;
      cancel.abort();
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await round;
    },
  };
}

/** Lists each address once, in config order, with the credentials of the first target naming it. */
export function uniqueAddresses(targets: readonly TargetConfig[]): ResolvedIp[] {
  const seen = new Map<string, ResolvedIp>();
  for (const target of targets) {
    for (const ip of target.ips) if (!seen.has(ip.address)) seen.set(ip.address, ip);
  }
  return [...seen.values()];
}

async function runBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** WARNING when an address starts failing, INFO when it recovers, DEBUG otherwise. */
function logOutcome(
  logger: Logger,
  ip: ResolvedIp,
  url: string,
  outcome: ProbeOutcome,
  changed: boolean,
  debugProbes: boolean,
): void {
  const fields = {
    address: ip.address,
    provider: ip.provider,
    url,
    status: outcome.status,
    durationMs: Math.round(outcome.durationMs),
  };
  if (!outcome.ok) {
    const failure = { ...fields, reason: outcome.reason, detail: outcome.detail };
    if (changed) logger.warn(failure, 'probe failed, ip marked unreachable');
    else if (debugProbes) logger.debug(failure, 'probe failed');
  } else if (changed) {
    logger.info(fields, 'probe passed, ip reachable again');
  } else if (debugProbes) {
    logger.debug(fields, 'probe passed');
  }
}
