/**
 * Lifecycle events published by the request path and the backend. Metrics, logs and the
 * status API subscribe to them, so the hot path never formats a log line or touches
 * prom-client itself. Listeners run synchronously and must not throw; a listener that throws
 * is reported on `listener_error` and the remaining listeners still run.
 */

/** Result of one upstream attempt, with the label values of `proxy_hopper_requests_total`. */
export type AttemptOutcome =
  'success' | 'rate_limited' | 'server_error' | 'connection_error' | 'error';

export interface IpLabels {
  target: string;
  address: string;
  provider: string;
  region: string;
}

export interface EventMap {
  connection_open: { remoteAddress: string };
  connection_close: { remoteAddress: string };
  request_start: { requestId: string; method: string; url: string; tag: string };
  /** A request that matched no target. */
  request_unmatched: { requestId: string; method: string; url: string; tag: string };
  /** Every response sent to the client: the target's or one Proxy Hopper made. */
  request_end: {
    requestId: string;
    method: string;
    url: string;
    target: string;
    tag: string;
    status: number;
    /** Error code when Proxy Hopper made the response itself. */
    errorCode: string | null;
    attempts: number;
    address: string | null;
    durationMs: number;
    /** True when the response body was cut off (client abort or upstream failure mid-body). */
    aborted: boolean;
  };
  attempt_end: IpLabels & {
    requestId: string;
    tag: string;
    attempt: number;
    outcome: AttemptOutcome;
    status: number | null;
    /** Epoch ms when the attempt started (the lease was taken). */
    startedAtMs: number;
    durationMs: number;
    error: string | null;
  };
  retry: IpLabels & { requestId: string; attempt: number; reason: string };
  retry_exhausted: { requestId: string; target: string; attempts: number; lastError: string };
  queue_depth: { target: string; depth: number };
  /** Time from arrival until an IP was leased for the first attempt. */
  queue_wait: { requestId: string; target: string; waitMs: number };
  queue_expired: { requestId: string; target: string; code: 'queue_timeout' | 'no_ip_available' };
  ip_failure: IpLabels & { failures: number };
  ip_success: IpLabels;
  quarantine: IpLabels & { failures: number; quarantineMs: number };
  /** Quarantine was due but would have left fewer than `minActiveIps` IPs in rotation. */
  quarantine_floor: IpLabels & { failures: number; activeIps: number; minActiveIps: number };
  quarantine_release: IpLabels;
  backend_error: { operation: string; err: unknown };
  backend_state: { ready: boolean; reason: string | null };
  /** Redis had lost a Lua script (NOSCRIPT) and the backend sent it again. */
  backend_script_reload: { script: string };
  probe_result: Omit<IpLabels, 'target'> & {
    ok: boolean;
    reason: 'http_error' | 'timeout' | 'proxy_unreachable' | 'connection_error' | null;
    durationMs: number;
    url: string;
    status: number | null;
  };
  listener_error: { event: string; err: unknown };
}

export type EventName = keyof EventMap;
type Listener<K extends EventName> = (payload: EventMap[K]) => void;

export class EventBus {
  private readonly listeners = new Map<EventName, Listener<never>[]>();

  on<K extends EventName>(event: K, listener: Listener<K>): () => void {
    const list = (this.listeners.get(event) ?? []) as Listener<K>[];
    list.push(listener);
    this.listeners.set(event, list as Listener<never>[]);
    return () => {
      const current = (this.listeners.get(event) ?? []) as Listener<K>[];
      this.listeners.set(event, current.filter((entry) => entry !== listener) as Listener<never>[]);
    };
  }

  emit<K extends EventName>(event: K, payload: EventMap[K]): void {
    const list = this.listeners.get(event) as Listener<K>[] | undefined;
    if (list === undefined) return;
    for (const listener of list) {
      try {
        listener(payload);
      } catch (err) {
        if (event !== 'listener_error') this.emit('listener_error', { event, err });
      }
    }
  }

  /** Returns true when a listener is registered, so a publisher can skip building an expensive payload. */
  has(event: EventName): boolean {
    return (this.listeners.get(event)?.length ?? 0) > 0;
  }
}
