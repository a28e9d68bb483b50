/**
 * The attempt loop of one client request. Each attempt leases an IP and is sent through it.
 * The status line or the failure decides whether to retry on another IP. A successful
 * response goes back to the caller, and its lease stays held until the body ends.
 */
import type { Backend } from '../backend/types.js';
import type { ResolvedIp } from '../config/types.js';
import { ProxyHopperError } from '../errors/index.js';
import type { AttemptOutcome, EventBus } from '../observe/events.js';
import { classifyFailure, type ClassifiedFailure } from '../upstream/classify-failure.js';
import { isProxyAuthRejection } from '../upstream/proxy-auth-rejection.js';
import {
  sendAttempt,
  type OutboundRequest,
  type UpstreamResponse,
} from '../upstream/send-attempt.js';
import type { UpstreamClients } from '../upstream/upstream-clients.js';
import { LeaseHolder } from './lease-holder.js';
import type { RequestBody } from './request-body.js';
import { outcomeForStatus } from './status-outcome.js';
import type { TargetRuntime } from './target-runtime.js';

export interface DispatchRequest {
  requestId: string;
  tag: string;
  /** Full outbound URL, for error bodies. */
  url: string;
  outbound: OutboundRequest;
  body: RequestBody;
  target: TargetRuntime;
  numRetries: number;
  arrivalMs: number;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** Attempts started so far; updated as the loop runs, so it is right after a failure too. */
  progress: { attempts: number; address: string | null };
}

/** End state of streaming a successful response body. */
export type BodyEnd = 'complete' | 'upstream_failed' | 'client_aborted';

export interface DispatchSuccess {
  response: UpstreamResponse;
  /** Attempts made, the successful one included. */
  attempts: number;
  address: string;
  /** Must be called once when the body has been streamed or abandoned. */
  finish(end: BodyEnd, error?: unknown): void;
}

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

/** An attempt that ended in a retriable way, kept to build the final error when retries run out. */
interface FailedAttempt {
  kind: 'status' | ClassifiedFailure['kind'];
  status: number | null;
  detail: string;
  retryAfter: string | null;
}

export class Dispatcher {
  private readonly now: () => number;

  constructor(private readonly options: DispatcherOptions) {
    this.now = options.now ?? Date.now;
  }

  async dispatch(request: DispatchRequest): Promise<DispatchSuccess> {
    const { target } = request;
    const settings = target.config;
    const deadlineMs = request.arrivalMs + settings.maxQueueWaitMs;
    const tried = new Set<string>();
    let lastFailure: FailedAttempt | null = null;

    for (let attempt = 0; ; attempt += 1) {
      const lease = await this.acquire(request, tried, deadlineMs, attempt, lastFailure);
      if (attempt === 0) {
        this.options.events.emit('queue_wait', {
          requestId: request.requestId,
          target: settings.name,
          waitMs: this.now() - request.arrivalMs,
        });
      }
      const holder = new LeaseHolder(this.options.backend, lease, (operation, err) =>
        this.options.events.emit('backend_error', { operation, err }),
      );
      const ip = target.ipsByAddress.get(lease.address);
      if (ip === undefined) {
        // The pool changed under us; this address is no longer configured.
        await holder.release({ result: 'neutral', cooldownFromRelease: false });
        attempt -= 1;
        tried.add(lease.address);
        continue;
      }

      const startedMs = this.now();
      tried.add(lease.address);
      request.progress.attempts = attempt + 1;
      request.progress.address = lease.address;
      const result = await this.attempt(request, ip, holder, startedMs, attempt);
      if (result.kind === 'success') return result.success;

      lastFailure = result.failure;
      const canRetry =
        attempt < request.numRetries && request.body.replayable && !request.signal.aborted;
      if (!canRetry) throw this.exhausted(request, attempt, lastFailure);
      this.options.events.emit('retry', {
        requestId: request.requestId,
        ...labels(settings.name, ip),
        attempt: attempt + 1,
        reason: lastFailure.detail,
      });
    }
  }

  private async acquire(
    request: DispatchRequest,
    tried: ReadonlySet<string>,
    deadlineMs: number,
    attempt: number,
    lastFailure: FailedAttempt | null,
  ) {
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

  private async attempt(
    request: DispatchRequest,
    ip: ResolvedIp,
    holder: LeaseHolder,
    startedMs: number,
    attempt: number,
  ): Promise<
    { kind: 'success'; success: DispatchSuccess } | { kind: 'failed'; failure: FailedAttempt }
  > {
    const target = request.target.config;
    let response: UpstreamResponse;
    holder.markSent(startedMs);
    // Renewal starts with the attempt: waiting for response headers can take as long as the
    // lease lives (responseTimeout and leaseTtl are both 30 s by default).
    holder.keepAlive(this.options.leaseTtlMs);
    try {
      response = await sendAttempt(
        this.options.clients,
        ip,
        request.outbound,
        request.body.forAttempt(),
        request.signal,
      );
    } catch (err) {
      const failure = classifyFailure(err);
      if (failure.kind === 'aborted' || request.signal.aborted) {
        await holder.release({ result: 'neutral', cooldownFromRelease: false });
        throw new ProxyHopperError('proxy_error', 'Client closed the request', { cause: err });
      }
      if (failure.kind === 'invalid_request') {
        // Another IP would reject the same request, so this neither retries nor blames the IP.
        await holder.release({ result: 'neutral', cooldownFromRelease: false });
        throw new ProxyHopperError(
          'bad_request',
          `The request cannot be sent upstream: ${failure.detail}`,
          { cause: err },
        );
      }
      await this.recordFailure(
        request,
        ip,
        holder,
        startedMs,
        attempt,
        outcomeForFailure(failure),
        null,
        failure.detail,
        true,
      );
      return {
        kind: 'failed',
        failure: { kind: failure.kind, status: null, detail: failure.detail, retryAfter: null },
      };
    }

    if (
      request.outbound.scheme === 'http' &&
      isProxyAuthRejection(response.statusCode, response.headers)
    ) {
      // Our credentials for this upstream proxy are wrong: an IP failure, never passed on.
      response.body.dump().catch(() => {});
      const detail = `UpstreamAuthError: upstream proxy rejected the credentials (${response.statusCode})`;
      await this.recordFailure(
        request,
        ip,
        holder,
        startedMs,
        attempt,
        'connection_error',
        response.statusCode,
        detail,
        false,
      );
      return {
        kind: 'failed',
        failure: {
          kind: 'upstream_auth_failed',
          status: response.statusCode,
          detail,
          retryAfter: null,
        },
      };
    }

    const outcome = outcomeForStatus(response.statusCode, target.retryOnStatus);
    if (outcome !== 'success') {
      const retryAfter = headerValue(response.headers['retry-after']);
      response.body.dump().catch(() => {});
      const detail = `Upstream returned ${response.statusCode}`;
      await this.recordFailure(
        request,
        ip,
        holder,
        startedMs,
        attempt,
        outcome,
        response.statusCode,
        detail,
        false,
      );
      return {
        kind: 'failed',
        failure: { kind: 'status', status: response.statusCode, detail, retryAfter },
      };
    }

    const finish = (end: BodyEnd, error?: unknown): void => {
      void this.finishBody(
        request,
        ip,
        holder,
        startedMs,
        attempt,
        response.statusCode,
        end,
        error,
      );
    };
    return {
      kind: 'success',
      success: { response, attempts: attempt + 1, address: ip.address, finish },
    };
  }

  private async finishBody(
    request: DispatchRequest,
    ip: ResolvedIp,
    holder: LeaseHolder,
    startedMs: number,
    attempt: number,
    status: number,
    end: BodyEnd,
    error: unknown,
  ): Promise<void> {
    if (end === 'complete') {
      await holder.release({ result: 'success', cooldownFromRelease: false });
      this.publishAttempt(request, ip, startedMs, attempt, 'success', status, null);
      return;
    }
    if (end === 'client_aborted') {
      await holder.release({ result: 'neutral', cooldownFromRelease: false });
      this.publishAttempt(
        request,
        ip,
        startedMs,
        attempt,
        'success',
        status,
        'client closed the connection mid-body',
      );
      return;
    }
    const detail = classifyFailure(error).detail;
    await this.recordFailure(
      request,
      ip,
      holder,
      startedMs,
      attempt,
      'connection_error',
      status,
      `failed mid-body: ${detail}`,
      true,
    );
  }

  private async recordFailure(
    request: DispatchRequest,
    ip: ResolvedIp,
    holder: LeaseHolder,
    startedMs: number,
    attempt: number,
    outcome: AttemptOutcome,
    status: number | null,
    detail: string,
    cooldownFromRelease: boolean,
  ): Promise<void> {
    await holder.release({ result: 'failure', cooldownFromRelease });
    this.publishAttempt(request, ip, startedMs, attempt, outcome, status, detail);
  }

  private publishAttempt(
    request: DispatchRequest,
    ip: ResolvedIp,
    startedMs: number,
    attempt: number,
    outcome: AttemptOutcome,
    status: number | null,
    error: string | null,
  ): void {
    this.options.events.emit('attempt_end', {
      requestId: request.requestId,
      tag: request.tag,
      ...labels(request.target.config.name, ip),
      attempt,
      outcome,
      status,
      startedAtMs: startedMs,
      durationMs: this.now() - startedMs,
      error,
    });
  }

  private exhausted(
    request: DispatchRequest,
    attempt: number,
    failure: FailedAttempt,
  ): ProxyHopperError {
    const target = request.target.config.name;
    this.options.events.emit('retry_exhausted', {
      requestId: request.requestId,
      target,
      attempts: attempt + 1,
      lastError: failure.detail,
    });
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
      return new ProxyHopperError(
        'upstream_error',
        `Upstream returned ${failure.status} after exhausting retries${reason}`,
        {
          status: failure.status,
          headers,
          fields,
        },
      );
    }
    if (failure.kind === 'upstream_auth_failed') {
      return new ProxyHopperError(
        'upstream_auth_failed',
        `Upstream proxy authentication failed: every upstream proxy tried for target '${request.target.config.name}' rejected its credentials; check auth.username and auth.password of the provider (inline ipList entries send no credentials)${reason}`,
        { fields: { ...fields, last_failure: failure.detail } },
      );
    }
    const code = failure.kind === 'proxy_error' ? 'proxy_error' : 'connection_error';
    return new ProxyHopperError(code, `${failure.detail}${reason}`, { fields });
  }
}

function outcomeForFailure(failure: ClassifiedFailure): AttemptOutcome {
  return failure.kind === 'proxy_error' ? 'error' : 'connection_error';
}

function labels(target: string, ip: ResolvedIp) {
  return { target, address: ip.address, provider: ip.provider, region: ip.region };
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
