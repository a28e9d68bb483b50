/**
 * The attempt loop of one client request. Each attempt leases an IP and is sent through it.
 * The status line or the failure decides whether to retry on another IP. A successful
 * response goes back to the caller, and its lease stays held until the body ends.
 */
import type { Backend, Lease } from '../backend/types.js';
import { ProxyHopperError } from '../errors/index.js';
import type { EventBus } from '../observe/events.js';
import type { UpstreamClients } from '../upstream/upstream-clients.js';
import { Attempt, ipLabels } from './attempt.js';
import type { DispatchRequest, DispatchSuccess, FailedAttempt } from './dispatch-types.js';
import { exhaustedError } from './exhausted-error.js';
import { LeaseHolder } from './lease-holder.js';

export type { BodyEnd, DispatchRequest, DispatchSuccess } from './dispatch-types.js';

export interface DispatcherOptions {
  backend: Backend;
  clients: UpstreamClients;
  events: EventBus;
  leaseTtlMs: number;
  /**
   * Widens the set of IPs a request avoids, e.g. with IPs failing their probes. Avoided IPs are
   * still used when no other IP of the target is in rotation.
   */
  avoid?: (tried: ReadonlySet<string>) => ReadonlySet<string>;
  now?: () => number;
}

export class Dispatcher {
  private readonly now: () => number;

  constructor(private readonly options: DispatcherOptions) {
    this.now = options.now ?? Date.now;
  }

  async dispatch(request: DispatchRequest): Promise<DispatchSuccess> {
    const { target } = request;
    const { events } = this.options;
    const deadlineMs = request.arrivalMs + target.config.maxQueueWaitMs;
    const tried = new Set<string>();
    let lastFailure: FailedAttempt | null = null;

    for (let attempt = 0; ; attempt += 1) {
      const lease = await this.acquire(request, tried, deadlineMs, attempt, lastFailure);
      if (attempt === 0) {
        const waitMs = this.now() - request.arrivalMs;
        events.emit('queue_wait', {
          requestId: request.requestId,
          target: target.config.name,
          waitMs,
        });
      }
      const holder = new LeaseHolder(this.options.backend, lease, (operation, err) =>
        events.emit('backend_error', { operation, err }),
      );
      const ip = target.ipsByAddress.get(lease.address);
      if (ip === undefined) {
        // The pool changed under us; this address is no longer configured.
        await holder.release({ result: 'neutral', cooldownFromRelease: false });
        attempt -= 1;
        tried.add(lease.address);
        continue;
      }

      tried.add(lease.address);
      request.progress.attempts = attempt + 1;
      request.progress.address = lease.address;
      const deps = { ...this.options, now: this.now };
      const result = await new Attempt(deps, request, ip, holder, attempt).run();
      if (result.kind === 'success') return result.success;

      lastFailure = result.failure;
      const canRetry =
        attempt < request.numRetries && request.body.replayable && !request.signal.aborted;
      if (!canRetry) {
        events.emit('retry_exhausted', {
          requestId: request.requestId,
          target: target.config.name,
          attempts: attempt + 1,
          lastError: lastFailure.detail,
        });
        throw exhaustedError(request, attempt, lastFailure);
      }
      events.emit('retry', {
        requestId: request.requestId,
        ...ipLabels(target.config.name, ip),
        attempt: attempt + 1,
        reason: lastFailure.detail,
      });
    }
  }

  /** Waits for a lease; a timeout gets the original's JSON fields for the error body. */
  private async acquire(
    request: DispatchRequest,
    tried: ReadonlySet<string>,
    deadlineMs: number,
    attempt: number,
    lastFailure: FailedAttempt | null,
  ): Promise<Lease> {
    try {
      const avoid = this.options.avoid?.(tried) ?? tried;
      return await request.target.queue.acquire(
        request.requestId,
        avoid,
        deadlineMs,
        request.signal,
      );
    } catch (err) {
      if (err instanceof ProxyHopperError) {
        err.fields.url = request.url;
        err.fields.method = request.outbound.method;
        err.fields.retries_attempted = attempt;
        err.fields.retries_allowed = request.numRetries;
        if (lastFailure !== null) err.fields.last_failure = lastFailure.detail;
      }
      throw err;
    }
  }
}
