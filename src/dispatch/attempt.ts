/**
 * One attempt of a request through one leased IP: sends it, turns the status line or the
 * failure into an outcome, releases the lease with it, and publishes `attempt_end`.
 */
import type { ResolvedIp } from '../config/types.js';
import { ProxyHopperError } from '../errors/index.js';
import type { AttemptOutcome, EventBus } from '../observe/events.js';
import { classifyFailure, type ClassifiedFailure } from '../upstream/classify-failure.js';
import { isProxyAuthRejection } from '../upstream/proxy-auth-rejection.js';
import { sendAttempt, type UpstreamResponse } from '../upstream/send-attempt.js';
import type { UpstreamClients } from '../upstream/upstream-clients.js';
import type { BodyEnd, DispatchRequest, DispatchSuccess, FailedAttempt } from './dispatch-types.js';
import type { LeaseHolder } from './lease-holder.js';
import { outcomeForStatus } from './status-outcome.js';

export interface AttemptDeps {
  clients: UpstreamClients;
  events: EventBus;
  leaseTtlMs: number;
  now: () => number;
}

export type AttemptResult =
  { kind: 'success'; success: DispatchSuccess } | { kind: 'failed'; failure: FailedAttempt };

export class Attempt {
  private readonly startedMs: number;

  constructor(
    private readonly deps: AttemptDeps,
    private readonly request: DispatchRequest,
    private readonly ip: ResolvedIp,
    private readonly holder: LeaseHolder,
    /** 0 for the first attempt. */
    private readonly index: number,
  ) {
    this.startedMs = deps.now();
  }

  async run(): Promise<AttemptResult> {
    const { request, holder } = this;
    holder.markSent(this.startedMs);
    // Renewal starts with the attempt: waiting for response headers can take as long as the
    // lease lives (responseTimeout and leaseTtl are both 30 s by default).
    holder.keepAlive(this.deps.leaseTtlMs);

    let response: UpstreamResponse;
    try {
      const body = request.body.forAttempt();
      response = await sendAttempt(
        this.deps.clients,
        this.ip,
        request.outbound,
        body,
        request.signal,
      );
    } catch (err) {
      return this.onSendFailure(err);
    }

    if (
      request.outbound.scheme === 'http' &&
      isProxyAuthRejection(response.statusCode, response.headers)
    ) {
      // Our credentials for this upstream proxy are wrong: an IP failure, never passed on.
      response.body.dump().catch(() => {});
      const detail = `UpstreamAuthError: upstream proxy rejected the credentials (${response.statusCode})`;
      await this.fail('connection_error', response.statusCode, detail, false);
      const failure = {
        kind: 'upstream_auth_failed' as const,
        status: response.statusCode,
        detail,
        retryAfter: null,
      };
      return { kind: 'failed', failure };
    }

    const outcome = outcomeForStatus(response.statusCode, request.target.config.retryOnStatus);
    if (outcome !== 'success') {
      const retryAfter = headerValue(response.headers['retry-after']);
      response.body.dump().catch(() => {});
      const detail = `Upstream returned ${response.statusCode}`;
      await this.fail(outcome, response.statusCode, detail, false);
      return {
        kind: 'failed',
        failure: { kind: 'status', status: response.statusCode, detail, retryAfter },
      };
    }

    const status = response.statusCode;
    const finish = (end: BodyEnd, error?: unknown): void => {
      void this.finishBody(status, end, error);
    };
    const success = { response, attempts: this.index + 1, address: this.ip.address, finish };
    return { kind: 'success', success };
  }

  private async onSendFailure(err: unknown): Promise<AttemptResult> {
    const failure = classifyFailure(err);
    if (failure.kind === 'aborted' || this.request.signal.aborted) {
      await this.holder.release({ result: 'neutral', cooldownFromRelease: false });
      throw new ProxyHopperError('proxy_error', 'Client closed the request', { cause: err });
    }
    if (failure.kind === 'invalid_request') {
      // Another IP would reject the same request, so this neither retries nor blames the IP.
      await this.holder.release({ result: 'neutral', cooldownFromRelease: false });
      const message = `The request cannot be sent upstream: ${failure.detail}`;
      throw new ProxyHopperError('bad_request', message, { cause: err });
    }
    await this.fail(outcomeForFailure(failure), null, failure.detail, true);
    return {
      kind: 'failed',
      failure: { kind: failure.kind, status: null, detail: failure.detail, retryAfter: null },
    };
  }

  private async finishBody(status: number, end: BodyEnd, error: unknown): Promise<void> {
    if (end === 'complete') {
      await this.holder.release({ result: 'success', cooldownFromRelease: false });
      this.publish('success', status, null);
      return;
    }
    if (end === 'client_aborted') {
      await this.holder.release({ result: 'neutral', cooldownFromRelease: false });
      this.publish('success', status, 'client closed the connection mid-body');
      return;
    }
    const detail = classifyFailure(error).detail;
    await this.fail('connection_error', status, `failed mid-body: ${detail}`, true);
  }

  private async fail(
    outcome: AttemptOutcome,
    status: number | null,
    detail: string,
    cooldownFromRelease: boolean,
  ): Promise<void> {
    await this.holder.release({ result: 'failure', cooldownFromRelease });
    this.publish(outcome, status, detail);
  }

  private publish(outcome: AttemptOutcome, status: number | null, error: string | null): void {
    this.deps.events.emit('attempt_end', {
      requestId: this.request.requestId,
      tag: this.request.tag,
      ...ipLabels(this.request.target.config.name, this.ip),
      attempt: this.index,
      outcome,
      status,
      startedAtMs: this.startedMs,
      durationMs: this.deps.now() - this.startedMs,
      error,
    });
  }
}

export function ipLabels(target: string, ip: ResolvedIp) {
  return { target, address: ip.address, provider: ip.provider, region: ip.region };
}

function outcomeForFailure(failure: ClassifiedFailure): AttemptOutcome {
  return failure.kind === 'proxy_error' ? 'error' : 'connection_error';
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
