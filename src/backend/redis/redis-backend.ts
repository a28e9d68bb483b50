/**
 * The shared backend: every instance with the same Redis and key prefix reads and writes one
 * rotation state per target, changed only by atomic Lua scripts (see the lua-*.ts files). Leases carry
 * their own expiry in Redis, so an instance that dies loses no IP for longer than the lease
 * TTL. Wake-ups travel over pub/sub; nothing blocks on Redis.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { ProxyHopperError } from '../../errors/index.js';
import type { EventBus } from '../../observe/events.js';
import type {
  AcquireResult,
  Backend,
  IpState,
  Lease,
  ReleaseOptions,
  ReleaseResult,
  TargetPoolSpec,
} from '../types.js';
import { WakeHub } from '../wake-hub.js';
import { createRedisClient, type RedisClient } from './connection.js';
import { parseRedisUrl, type RedisConnectionPlan } from './connection-options.js';
import { targetKeys, wakeChannel } from './keys.js';
import { POOL_SCRIPTS } from './pool-scripts.js';
import { OrphanedLeases } from './orphaned-leases.js';
import { emitReleaseEvents, ipLabels } from './outcome-events.js';
import { ReadinessTracker } from './readiness.js';
import { ScriptRunner } from './script-runner.js';
import * as replies from './script-results.js';
import { TargetTimers } from './target-timers.js';
import { WakeSubscriber } from './wake-subscriber.js';

export interface RedisBackendOptions {
  /** `redis://`, `rediss://`, `redis+sentinel://` or `redis+cluster://` URL. */
  url: string;
  keyPrefix: string;
  /** How long a lease lives without renewal; default 30 s. */
  leaseTtlMs?: number;
  events?: EventBus;
  logger?: Logger;
  /** Extra TLS options, such as a private CA, for `rediss` URLs. */
  tls?: ConnectionOptions;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** First reconnect delay; it doubles on each attempt up to `retryMaxDelayMs`. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Local clock; times from Redis are moved onto it. Default Date.now. */
  now?: () => number;
}

export class RedisBackend implements Backend {
  readonly kind = 'redis' as const;
  private readonly plan: RedisConnectionPlan;
  private readonly client: RedisClient;
  private readonly subscriber: WakeSubscriber;
  private readonly runner: ScriptRunner;
  private readonly readiness: ReadinessTracker;
  private readonly timers: TargetTimers;
  private readonly wakes: WakeHub;
  private readonly specs = new Map<string, TargetPoolSpec>();
  private readonly orphans = new OrphanedLeases();
  private readonly leaseTtlMs: number;
  private readonly now: () => number;
  private readonly commandTimeoutMs: number;
  private readonly clockOffset = new replies.ClockOffsetEstimator();

  constructor(private readonly options: RedisBackendOptions) {
    if (/[{}]/.test(options.keyPrefix)) {
      throw new Error(
        `Invalid redisKeyPrefix '${options.keyPrefix}': it must not contain '{' or '}', ` +
          'because the target name is the Redis Cluster hash tag',
      );
    }
    this.plan = parseRedisUrl(options.url);
    this.wakes = new WakeHub((err) =>
      options.events?.emit('listener_error', { event: 'wake', err }),
    );
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    this.client = this.connect('commands');
    const channel = wakeChannel(options.keyPrefix);
    const onWake = (target: string) => {
      if (this.specs.has(target)) this.wakes.schedule(target);
    };
    this.subscriber = new WakeSubscriber(
      this.connect('subscriber'),
      channel,
      onWake,
      options.logger,
    );
    this.runner = new ScriptRunner(this.client, options.logger, (script) =>
      options.events?.emit('backend_script_reload', { script }),
    );
    this.readiness = new ReadinessTracker(this.client, this.plan.display, options, {
      beforeReady: () => this.onReconnected(),
      afterReady: () => {
        this.wakeAll();
        void this.cancelOrphans();
      },
    });
    this.timers = new TargetTimers((target) => this.refreshFromTimer(target));
  }

  /** Number of NOSCRIPT errors recovered by sending a script again. */
  get scriptReloads(): number {
    return this.runner.reloads;
  }

  async start(): Promise<void> {
    this.subscriber.start();
    await this.readiness.waitUntilReady();
  }

  async stop(): Promise<void> {
    this.timers.clear();
    this.wakes.clear();
    this.readiness.stop();
    this.subscriber.stop();
    this.client.disconnect();
  }

  isReady(): boolean {
    return this.readiness.ready;
  }

  async syncTarget(spec: TargetPoolSpec): Promise<void> {
    this.specs.set(spec.target, spec);
    await this.guard('syncTarget', () => this.runSync(spec));
  }

  async tryAcquire(target: string, avoid: ReadonlySet<string>): Promise<AcquireResult> {
    const spec = this.requireSpec(target);
    const leaseId = randomUUID();
    const args = [this.leaseTtlMs, leaseId, ...avoid];
    const reply = await this.guard('tryAcquire', async () => {
      try {
        return await this.runPool<replies.AcquireReply>(spec, POOL_SCRIPTS.acquire, args, true);
      } catch (err) {
        this.orphans.add(target, leaseId);
        throw err;
      }
    });
    const clock = this.afterReply(spec, reply);
    if (reply.kind === 'leased' && reply.address !== undefined && reply.expiresAt !== undefined) {
      const lease: Lease = {
        target,
        address: reply.address,
        leaseId,
        acquiredAtMs: clock.toLocal(reply.now),
        expiresAtMs: clock.toLocal(reply.expiresAt),
      };
      return { kind: 'leased', lease };
    }
    return {
      kind: 'wait',
      readyAtMs: clock.toLocalOrNull(reply.readyAt),
      inRotation: reply.inRotation,
      nextQuarantineEndMs: clock.toLocalOrNull(reply.quarantineEnd),
    };
  }

  async renew(lease: Lease): Promise<boolean> {
    const spec = this.specs.get(lease.target);
    if (!spec) return false;
    const args = [lease.address, lease.leaseId, this.leaseTtlMs];
    const reply = await this.guard('renew', () =>
      this.runPool<replies.RenewReply>(spec, POOL_SCRIPTS.renew, args, false),
    );
    if (reply.renewed) this.afterReply(spec, reply);
    return reply.renewed;
  }

  async release(lease: Lease, options: ReleaseOptions): Promise<ReleaseResult> {
    const spec = this.specs.get(lease.target);
    if (!spec) {
      return { failures: 0, quarantined: false, floorHeld: false, activeIps: 0, applied: false };
    }
    const cooldown = options.cooldownFromRelease ? '1' : '0';
    const sendDelayMs = String(Math.max(0, Math.round(options.sendDelayMs ?? 0)));
    const args = [lease.address, lease.leaseId, options.result, cooldown, sendDelayMs];
    const reply = await this.guard('release', () =>
      this.runPool<replies.ReleaseReply>(spec, POOL_SCRIPTS.release, args, false),
    );
    if (reply.missing) {
      return { failures: 0, quarantined: false, floorHeld: false, activeIps: 0, applied: false };
    }
    this.afterReply(spec, reply);
    if (reply.applied) {
      emitReleaseEvents(this.options.events, spec, lease.address, options.result, reply);
      this.wakes.schedule(spec.target);
    }
    const { failures, quarantined, floorHeld, activeIps, applied } = reply;
    return { failures, quarantined, floorHeld, activeIps, applied };
  }

  async snapshot(target: string): Promise<IpState[]> {
    const spec = this.specs.get(target);
    if (!spec) return [];
    const reply = await this.guard('snapshot', () =>
      this.runPool<replies.SnapshotReply>(spec, POOL_SCRIPTS.snapshot, [], true),
    );
    const clock = this.afterReply(spec, reply);
    return replies.toIpStates(reply, clock);
  }

  onWake(listener: (target: string) => void): () => void {
    return this.wakes.add(listener);
  }

  private connect(role: 'commands' | 'subscriber'): RedisClient {
    const baseMs = this.options.retryBaseDelayMs ?? 100;
    const maxMs = this.options.retryMaxDelayMs ?? 2000;
    return createRedisClient(this.plan, {
      tls: this.options.tls,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 5000,
      commandTimeoutMs: this.commandTimeoutMs,
      retryDelayMs: (attempt) => {
        const delayMs = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 16));
        if (role === 'commands') {
          this.options.logger?.warn(
            { redis: this.plan.display, attempt, delayMs },
            'redis unreachable; reconnecting',
          );
        }
        return delayMs;
      },
    });
  }

  /**
   * Runs a pool script. When Redis has lost the target (restart without persistence), the
   * target is registered again from the local spec and, if `retry`, the script runs again.
   */
  private async runPool<T extends { missing?: boolean; now: number }>(
    spec: TargetPoolSpec,
    script: (typeof POOL_SCRIPTS)[keyof typeof POOL_SCRIPTS],
    args: (string | number)[],
    retry: boolean,
  ): Promise<T> {
    const keys = this.keysOf(spec.target);
    const fullArgs = [wakeChannel(this.options.keyPrefix), spec.target, ...args];
    const reply = replies.parseReply<T>(await this.runner.run(script, keys, fullArgs));
    if (!reply.missing) return reply;
    this.options.logger?.warn(
      { target: spec.target, redis: this.plan.display },
      'redis lost the pool state of this target; registering it again',
    );
    await this.runSync(spec);
    if (!retry) return reply;
    const second = replies.parseReply<T>(await this.runner.run(script, keys, fullArgs));
    if (second.missing) throw new Error(`pool state of target '${spec.target}' vanished again`);
    return second;
  }

  private async runSync(spec: TargetPoolSpec): Promise<void> {
    const settings = [
      spec.minRequestIntervalMs,
      spec.ipFailuresUntilQuarantine,
      spec.quarantineMs,
      spec.minActiveIps,
    ];
    const ips = spec.ips.flatMap((ip) => [ip.address, ip.provider, ip.region]);
    const args = [wakeChannel(this.options.keyPrefix), spec.target, ...settings, ...ips];
    await this.runner.run(POOL_SCRIPTS.sync, this.keysOf(spec.target), args);
  }

  private keysOf(target: string): string[] {
    const keys = targetKeys(this.options.keyPrefix, target);
    return [keys.meta, keys.ips, keys.state];
  }

  /** Publishes quarantine releases, arms the target's timer and returns the clock offset. */
  private afterReply(
    spec: TargetPoolSpec,
    reply: {
      now: number;
      released?: replies.ReleasedIp[] | Record<string, never>;
      deadline?: number;
    },
  ): replies.ClockTranslation {
    const clock = this.clockOffset.observe(reply.now, this.now());
    for (const released of replies.listOf(reply.released)) {
      this.options.events?.emit('quarantine_release', ipLabels(spec, released.a));
    }
    if (reply.deadline !== undefined && reply.deadline >= 0) {
      this.timers.arm(spec.target, Math.max(1, reply.deadline - reply.now));
    }
    return clock;
  }

  private requireSpec(target: string): TargetPoolSpec {
    const spec = this.specs.get(target);
    if (spec) return spec;
    throw new ProxyHopperError(
      'proxy_error',
      `Target '${target}' is not registered with the Redis backend: call syncTarget first.`,
    );
  }

  /** Runs one backend operation, turning any Redis failure into backend_unavailable. */
  private async guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (!this.readiness.canTry()) throw this.readiness.unavailableError();
    try {
      const result = await run();
      this.readiness.noteReply();
      return result;
    } catch (err) {
      this.options.events?.emit('backend_error', { operation, err });
      if (err instanceof Error && err.message === 'Command timed out') {
        this.readiness.markStalled(`no reply within ${this.commandTimeoutMs} ms`);
      }
      throw this.readiness.unavailableError(err);
    }
  }

  /**
   * Loads the scripts, samples the server clock and registers every known target again after a
   * reconnect, because Redis may have restarted empty.
   */
  private async onReconnected(): Promise<void> {
    await this.runner.preload(Object.values(POOL_SCRIPTS));
    await this.sampleServerClock();
    for (const spec of this.specs.values()) await this.runSync(spec);
  }

  /** Frees the leases of acquires that failed here but may have run in Redis. */
  private async cancelOrphans(): Promise<void> {
    for (const [target, leaseIds] of this.orphans.takeAll()) {
      const spec = this.specs.get(target);
      if (!spec || leaseIds.length === 0) continue;
      try {
        const raw = await this.runner.run(POOL_SCRIPTS.cancel, this.keysOf(target), [
          wakeChannel(this.options.keyPrefix),
          target,
          ...leaseIds,
        ]);
        const { cancelled } = replies.parseReply<{ now: number; cancelled: number }>(raw);
        if (cancelled > 0) {
          this.options.logger?.info({ target, cancelled }, 'freed leases of failed acquires');
        }
      } catch (err) {
        this.orphans.restore(target, leaseIds);
        this.options.logger?.warn({ err, target }, 'could not free leases of failed acquires');
      }
    }
  }

  /** Wakes every local queue, so requests that failed during an outage try again. */
  private wakeAll(): void {
    for (const target of this.specs.keys()) this.wakes.schedule(target);
  }

  /** Feeds a few TIME replies to the clock offset estimate before the first pool reply. */
  private async sampleServerClock(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const [seconds, micros] = await this.client.time();
      this.clockOffset.observe(
        Number(seconds) * 1000 + Math.floor(Number(micros) / 1000),
        this.now(),
      );
    }
  }

  private async refreshFromTimer(target: string): Promise<void> {
    const spec = this.specs.get(target);
    if (!spec || !this.readiness.ready) return;
    try {
      const script = POOL_SCRIPTS.snapshot;
      const reply = await this.runPool<replies.SnapshotReply>(spec, script, [], false);
      if (reply.missing) return;
      this.afterReply(spec, reply);
      if (reply.changed) this.wakes.schedule(target);
    } catch (err) {
      this.options.logger?.debug({ err, target }, 'redis timer refresh failed');
    }
  }
}
