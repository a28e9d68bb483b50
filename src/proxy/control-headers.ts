/**
 * Reads Proxy Hopper's control headers from a client request and builds the header list that
 * goes to the target: client headers minus hop-by-hop, proxy and control headers, then the
 * target's Host, the User-Agent rule and the `X-Proxy-Hopper-<Name>` overrides, which win.
 */
import { randomUUID } from 'node:crypto';
import { ProxyHopperError } from '../errors/index.js';
import {
  HOP_BY_HOP,
  NOT_OVERRIDABLE,
  connectionTokens,
  isControlHeader,
} from './header-hygiene.js';
import { randomUserAgent } from './user-agents.js';

export const TARGET_HEADER = 'x-proxy-hopper-target';
export const AUTH_HEADER = 'x-proxy-hopper-auth';
const TAG_HEADER = 'x-proxy-hopper-tag';
const RETRIES_HEADER = 'x-proxy-hopper-retries';
const OVERRIDE_PREFIX = 'x-proxy-hopper-';
/** Control headers that are not overrides; Force-IP in both spellings the original used. */
const CONTROL_NAMES = new Set([
  TARGET_HEADER,
  AUTH_HEADER,
  TAG_HEADER,
  RETRIES_HEADER,
  'x-proxy-hopper-force-ip',
  'x-proxyhopper-force-ip',
]);

export const MAX_TAG_LENGTH = 64;
const REQUEST_ID_PATTERN = /^[\x21-\x7e]{1,200}$/;

export interface ControlValues {
  requestId: string;
  /** Raw `X-Proxy-Hopper-Target` value, or null when absent. */
  target: string | null;
  /** Raw `X-Proxy-Hopper-Auth` value, or undefined when absent. */
  auth: string | undefined;
  /** `X-Proxy-Hopper-Tag`, cut to 64 characters; `""` when absent. */
  tag: string;
  tagTruncated: boolean;
  /** `X-Proxy-Hopper-Retries` when it is a non-negative integer, else null (target default). */
  retries: number | null;
  /** Header overrides, lower-case name to value. */
  overrides: Map<string, string>;
}

/** Extracts the control values from raw request headers (flat name/value list). */
export function readControlHeaders(rawHeaders: readonly string[]): ControlValues {
  let requestId: string | null = null;
  let target: string | null = null;
  let auth: string | undefined;
  let tag = '';
  let retries: number | null = null;
  const overrides = new Map<string, string>();

  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    if (name === 'x-request-id') {
      if (requestId === null && REQUEST_ID_PATTERN.test(value)) requestId = value;
      continue;
    }
    if (!isControlHeader(name) || CONTROL_NAMES.has(name)) {
      if (name === TARGET_HEADER) {
        if (target !== null) {
          throw new ProxyHopperError(
            'invalid_target',
            'X-Proxy-Hopper-Target was sent more than once; send it exactly once',
          );
        }
        target = value;
      }
      if (name === AUTH_HEADER && auth === undefined) auth = value;
      if (name === TAG_HEADER) tag = value;
      if (name === RETRIES_HEADER) retries = parseRetries(value);
      continue;
    }
    const overridden = name.slice(OVERRIDE_PREFIX.length);
    if (
      overridden === '' ||
      NOT_OVERRIDABLE.has(overridden) ||
      overridden.startsWith('proxy-') ||
      overridden === 'x-request-id' ||
      isControlHeader(overridden)
    ) {
      throw new ProxyHopperError(
        'bad_request',
        `Header ${rawHeaders[i]} cannot be used: ${overridden || 'an empty name'} is managed by Proxy Hopper (Host, Connection, Content-Length, Transfer-Encoding, Expect, X-Request-Id, Proxy Hopper's own, proxy and hop-by-hop headers cannot be overridden)`,
      );
    }
    overrides.set(overridden, value);
  }

  const tagTruncated = tag.length > MAX_TAG_LENGTH;
  return {
    requestId: requestId ?? randomUUID(),
    target,
    auth,
    tag: tagTruncated ? tag.slice(0, MAX_TAG_LENGTH) : tag,
    tagTruncated,
    retries,
    overrides,
  };
}

/**
 * Largest `X-Proxy-Hopper-Retries` honoured. A client asking for more gets this many, so one
 * request cannot send hundreds of attempts through the pool (each is still bounded by
 * maxQueueWait).
 */
export const MAX_RETRIES_OVERRIDE = 10;

function parseRetries(value: string): number | null {
  const trimmed = value.trim();
  if (!/^\d{1,9}$/.test(trimmed)) return null;
  return Math.min(Number(trimmed), MAX_RETRIES_OVERRIDE);
}

export interface OutboundHeaderOptions {
  host: string;
  requestId: string;
  overrides: ReadonlyMap<string, string>;
  spoofUserAgent: boolean;
  /** Known body length to send as Content-Length, or null to leave framing to the client. */
  bodyLengthBytes: number | null;
}

/** Builds the header list sent to the target, as a flat name/value list keeping duplicates. */
export function outboundHeaders(
  rawHeaders: readonly string[],
  options: OutboundHeaderOptions,
): string[] {
  const connectionValues: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection')
      connectionValues.push(rawHeaders[i + 1] ?? '');
  }
  const named = connectionTokens(connectionValues);

  const out: string[] = ['host', options.host];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower) || isControlHeader(lower)) continue;
    // Host is the target's; Content-Length is recomputed; Expect was handled already
    // (Node sends 100 Continue); the client's User-Agent is replaced, as the original does.
    if (
      lower === 'host' ||
      lower === 'content-length' ||
      lower === 'expect' ||
      lower === 'user-agent'
    )
      continue;
    if (options.overrides.has(lower)) continue;
    // The request id goes out once, as the client gets it back: a client id that was not
    // valid was replaced by a generated one.
    if (lower === 'x-request-id') continue;
    out.push(name, rawHeaders[i + 1] ?? '');
  }
  out.push('x-request-id', options.requestId);
  if (options.bodyLengthBytes !== null) out.push('content-length', String(options.bodyLengthBytes));
  if (options.spoofUserAgent && !options.overrides.has('user-agent'))
    out.push('user-agent', randomUserAgent());
  for (const [name, value] of options.overrides) out.push(name, value);
  return out;
}
