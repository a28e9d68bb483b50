/**
 * Tracks whether the command connection can serve, publishes `backend_state` on each change
 * and builds the backend_unavailable error that operations raise while Redis is down. Redis
 * counts as down while disconnected and also while it stops replying on an open connection.
 */
import type { Logger } from 'pino';
import { ProxyHopperError } from '../../errors/index.js';
import type { EventBus } from '../../observe/events.js';
import type { RedisClient } from './connection.js';

const STALL_PROBE_INTERVAL_MS = 200;

export interface ReadinessHooks {
  /** Runs after each (re)connect, before operations are allowed again. */
  beforeReady: () => Promise<void>;
  /** Runs once operations are allowed again. */
  afterReady: () => void;
}

export class ReadinessTracker {
  ready = false;
  /** True while the connection is open but Redis stopped replying. */
  private stalled = false;
  private reason: string | null = 'not connected yet';
  private stopped = false;
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(
    private readonly client: RedisClient,
    private readonly display: string,
    private readonly options: { events?: EventBus; logger?: Logger },
    private readonly hooks: ReadinessHooks,
  ) {
    client.on('ready', () => void this.handleReady());
    client.on('error', (err: Error) => {
      this.reason = err.message;
    });
    client.on('close', () => this.markDown('connection closed'));
    client.on('end', () => this.markDown('connection ended'));
  }

  /** Connects and resolves once Redis serves; ioredis keeps retrying until then. */
  waitUntilReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    const promise = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.client.connect().catch((err: unknown) => {
      this.options.logger?.warn(
        { err, redis: this.display },
        'redis not reachable at start; retrying',
      );
    });
    return promise;
  }

  stop(): void {
    this.stopped = true;
    this.ready = false;
    const error = new Error(`Stopped before Redis at ${this.display} became reachable`);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  unavailableError(cause?: unknown): ProxyHopperError {
    const reason = cause instanceof Error ? cause.message : (this.reason ?? 'not connected');
    return new ProxyHopperError(
      'backend_unavailable',
      `State backend (Redis at ${this.display}) is unavailable: ${reason}. ` +
        'Requests resume when it is back.',
      { cause },
    );
  }

  private async handleReady(): Promise<void> {
    try {
      await this.hooks.beforeReady();
    } catch (err) {
      this.options.logger?.warn({ err, redis: this.display }, 'redis re-registration failed');
    }
    // The connection may have dropped again while the targets were being registered.
    if (this.stopped || this.client.status !== 'ready') return;
    this.markReady();
  }

  /**
   * Marks Redis down after a command timed out on an open connection (a stopped or stuck
   * server), and pings it until it replies again.
   */
  markStalled(reason: string): void {
    if (!this.ready || this.stopped) return;
    this.ready = false;
    this.stalled = true;
    this.reason = reason;
    this.options.logger?.warn({ redis: this.display, reason }, 'redis backend unavailable');
    this.options.events?.emit('backend_state', { ready: false, reason });
    this.probeStalled();
  }

  private probeStalled(): void {
    const timer = setTimeout(() => void this.pingStalled(), STALL_PROBE_INTERVAL_MS);
    timer.unref();
  }

  private async pingStalled(): Promise<void> {
    // After a reconnect the 'ready' handler takes over.
    if (this.stopped || !this.stalled || this.client.status !== 'ready') return;
    try {
      await this.client.ping();
    } catch (err) {
      this.options.logger?.debug({ err, redis: this.display }, 'redis still not replying');
      this.probeStalled();
      return;
    }
    this.noteReply();
  }

  /**
   * True when an operation may be sent: Redis serves, or it stalled on an open connection. A
   * stalled Redis gets each operation anyway, bounded by the command timeout, so the first
   * reply after it resumes ends the outage at once.
   */
  canTry(): boolean {
    return this.ready || (this.stalled && this.client.status === 'ready');
  }

  /** Records a reply; after a stall it marks Redis ready again. */
  noteReply(): void {
    if (this.stalled && !this.ready && !this.stopped) this.markReady();
  }

  private markReady(): void {
    this.stalled = false;
    this.ready = true;
    this.reason = null;
    this.options.logger?.info({ redis: this.display }, 'redis backend ready');
    this.options.events?.emit('backend_state', { ready: true, reason: null });
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
    this.hooks.afterReady();
  }

  private markDown(reason: string): void {
    if (this.stopped) return;
    const detail = this.reason && this.reason !== reason ? `${reason} (${this.reason})` : reason;
    this.stalled = false;
    if (!this.ready) {
      this.reason = detail;
      return;
    }
    this.ready = false;
    this.reason = detail;
    this.options.logger?.warn({ redis: this.display, reason: detail }, 'redis backend unavailable');
    this.options.events?.emit('backend_state', { ready: false, reason: detail });
  }
}
