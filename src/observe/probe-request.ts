/**
 * One background probe: `GET <url>` through one upstream proxy with its Basic credentials,
 * redirects followed and TLS verification off, classified as success or a failure reason.
 */
import { ProxyAgent, interceptors, request } from 'undici';
import type { ResolvedIp } from '../config/types.js';
import type { EventMap } from './events.js';
import { redactUrl } from './redact.js';

export type ProbeReason = NonNullable<EventMap['probe_result']['reason']>;

export interface ProbeOutcome {
  ok: boolean;
  reason: ProbeReason | null;
  status: number | null;
  durationMs: number;
  /** Short description of the failure for logs; null on success. */
  detail: string | null;
}

const MAX_REDIRECTS = 5;
/** Socket errors that mean the upstream proxy itself could not be reached. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

class ProbeTimeoutError extends Error {}

/**
 * Probes `url` through `ip`. Never rejects; `cancel` ends the probe early as a timeout. A fresh connection is used per probe and destroyed
 * afterwards, so a probe measures a real connect and cannot borrow a live-traffic socket.
 */
export async function probeThroughProxy(
  ip: ResolvedIp,
  url: string,
  timeoutMs: number,
  cancel?: AbortSignal,
): Promise<ProbeOutcome> {
  const startedAt = performance.now();
  const agent = new ProxyAgent({
    uri: `http://${ip.address}`,
    ...(ip.credentials ? { token: basicToken(ip.credentials) } : {}),
    // Plain HTTP probe URLs use absolute-form, so proxies that reject CONNECT still pass.
    proxyTunnel: url.startsWith('https:'),
    requestTls: { rejectUnauthorized: false },
  });
  const dispatcher = agent.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTS }));
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // undici 7.30's signal does not end a CONNECT that gets no reply, so this race enforces the timeout.
  let onCancel = (): void => {};
  const deadline = new Promise<never>((_, reject) => {
    const fail = (message: string): void => {
      abort.abort();
      reject(new ProbeTimeoutError(message));
    };
    timer = setTimeout(() => fail(`no response within ${timeoutMs} ms`), timeoutMs);
    onCancel = () => fail('prober stopped');
  });
  if (cancel?.aborted) onCancel();
  cancel?.addEventListener('abort', onCancel, { once: true });

  try {
    const pending = request(url, { method: 'GET', dispatcher, signal: abort.signal });
    pending.catch(() => {}); // Rejections after the deadline are already reported as timeout.
    const response = await Promise.race([pending, deadline]);
    await Promise.race([response.body.dump(), deadline]);
    return classifyStatus(response.statusCode, elapsed(startedAt));
  } catch (err) {
    return classifyError(err, elapsed(startedAt));
  } finally {
    clearTimeout(timer);
    cancel?.removeEventListener('abort', onCancel);
    // Destroying can reject for sockets already gone; the probe result is settled by now.
    agent.destroy().catch(() => {});
  }
}

function basicToken(credentials: NonNullable<ResolvedIp['credentials']>): string {
  const pair = `${credentials.username}:${credentials.password}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

function elapsed(startedAt: number): number {
  return performance.now() - startedAt;
}

/** Below 500 is a success, except 407: the proxy rejected our credentials, so it is unusable. */
function classifyStatus(status: number, durationMs: number): ProbeOutcome {
  if (status < 500 && status !== 407) {
    return { ok: true, reason: null, status, durationMs, detail: null };
  }
  return { ok: false, reason: 'http_error', status, durationMs, detail: `status ${status}` };
}

function classifyError(err: unknown, durationMs: number): ProbeOutcome {
  const detail = redactUrl(err instanceof Error ? err.message : String(err));
  const code = (err as { code?: unknown }).code;
  const fail = (reason: ProbeReason, status: number | null = null): ProbeOutcome => ({
    ok: false,
    reason,
    status,
    durationMs,
    detail,
  });

  if (err instanceof ProbeTimeoutError) return fail('timeout');
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return fail('timeout');
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return fail('proxy_unreachable');
  // undici reports a proxy's refusal (407, or a failed CONNECT) as an error naming the status.
  const proxyStatus = /\((\d{3})\)/.exec(detail);
  if (proxyStatus?.[1] !== undefined) return fail('http_error', Number(proxyStatus[1]));
  return fail('connection_error');
}
