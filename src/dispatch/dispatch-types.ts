/** Types shared by the attempt loop and one attempt. */
import type { ClassifiedFailure } from '../upstream/classify-failure.js';
import type { OutboundRequest, UpstreamResponse } from '../upstream/send-attempt.js';
import type { RequestBody } from './request-body.js';
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

/** An attempt that ended in a retriable way, kept to build the final error when retries run out. */
export interface FailedAttempt {
  kind: 'status' | ClassifiedFailure['kind'];
  status: number | null;
  detail: string;
  retryAfter: string | null;
}
