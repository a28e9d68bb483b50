/**
 * Parsing of `X-Proxy-Hopper-Target` and joining it with the request's path and query into
 * the outbound URL. The path and query are kept byte for byte: nothing is decoded, re-encoded
 * or normalised, so `%2F`, `%25`, empty values and repeated `?`/`&` reach the target as sent.
 */
import { ProxyHopperError } from '../errors/index.js';

export interface ParsedTarget {
  scheme: 'http' | 'https';
  /** `scheme://host[:port]` with the default port left out. */
  origin: string;
  /** Host header value: host and a non-default port (RFC 9110 section 7.2). */
  host: string;
  /** Base path from the header without a trailing slash, `""` when none. */
  basePath: string;
}

/** Maximum length of the target header; longer values are almost certainly a client bug. */
export const MAX_TARGET_HEADER_LENGTH = 4096;

const EXAMPLE = 'for example X-Proxy-Hopper-Target: https://api.example.com';

export function parseTargetHeader(raw: string): ParsedTarget {
  const value = raw.trim();
  if (value === '') {
    throw new ProxyHopperError(
      'invalid_target',
      `X-Proxy-Hopper-Target is empty: send the destination's scheme and host, ${EXAMPLE}`,
    );
  }
  if (value.length > MAX_TARGET_HEADER_LENGTH) {
    throw new ProxyHopperError(
      'invalid_target',
      `X-Proxy-Hopper-Target is ${value.length} characters long; the limit is ${MAX_TARGET_HEADER_LENGTH}. Send only the scheme, host and an optional base path.`,
    );
  }
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new ProxyHopperError(
      'invalid_target',
      `X-Proxy-Hopper-Target '${JSON.stringify(value).slice(1, -1)}' contains spaces, control or non-ASCII characters; percent-encode them`,
    );
  }
  if (value.includes('?') || value.includes('#')) {
    throw new ProxyHopperError(
      'invalid_target',
      `X-Proxy-Hopper-Target '${value}' must not contain a query or fragment; put them on the request line`,
    );
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new ProxyHopperError(
      'invalid_target',
      `X-Proxy-Hopper-Target '${value}' is not an absolute URL: ${EXAMPLE}`,
    );
  }
  if (scheme !== 'http' && scheme !== 'https') {
    throw new ProxyHopperError(
      'invalid_target',
      `X-Proxy-Hopper-Target '${value}' uses scheme '${scheme}'; only http and https targets are supported`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ProxyHopperError(
      'invalid_target',
      `X-Proxy-Hopper-Target '${value}' is not a valid URL: ${EXAMPLE}`,
    );
  }
  if (url.hostname === '') {
    throw new ProxyHopperError(
      'invalid_target',
      `X-Proxy-Hopper-Target '${value}' has no host: ${EXAMPLE}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new ProxyHopperError(
      'invalid_target',
      'X-Proxy-Hopper-Target must not contain credentials; send them to the target in the Authorization header instead',
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ProxyHopperError(
      'invalid_target',
      `X-Proxy-Hopper-Target '${value}' must not contain a query or fragment; put them on the request line`,
    );
  }
  // The base path is taken from the raw value, not from URL parsing, so it keeps its bytes.
  const afterAuthority = value.slice(value.indexOf('//') + 2);
  const slash = afterAuthority.indexOf('/');
  const basePath = slash === -1 ? '' : afterAuthority.slice(slash).replace(/\/+$/, '');
  return { scheme, origin: `${scheme}://${url.host}`, host: url.host, basePath };
}

/**
 * Builds the raw path and query to send: the request target of the request line, or only its path
 * and query when a client sent the absolute form (`GET http://x/y`), prefixed by the base path.
 */
export function joinPath(target: ParsedTarget, requestTarget: string): string {
  let pathAndQuery = requestTarget;
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(requestTarget)) {
    const afterScheme = requestTarget.indexOf('//') + 2;
    const pathStart = requestTarget.slice(afterScheme).search(/[/?]/);
    pathAndQuery = pathStart === -1 ? '/' : requestTarget.slice(afterScheme + pathStart);
  } else if (requestTarget === '*') {
    pathAndQuery = '';
  }
  if (pathAndQuery.startsWith('?')) pathAndQuery = `/${pathAndQuery}`;
  const joined = target.basePath + pathAndQuery;
  return joined === '' ? '/' : joined.startsWith('/') ? joined : `/${joined}`;
}
