/** Extraction of the token from an `X-Proxy-Hopper-Auth` or `Authorization` header value. */

/** Header values longer than this are rejected before any parsing or hashing. */
export const MAX_AUTH_HEADER_BYTES = 8 * 1024;

export type BearerToken =
  { kind: 'missing' } | { kind: 'too_large' } | { kind: 'token'; token: string };

const BEARER_PREFIX = /^bearer[ \t]+/i;

/**
 * Strips a leading `Bearer ` (the scheme is case-insensitive, RFC 7235 section 2.1) and trims
 * whitespace. A value without the prefix is the token itself, so raw API keys work too.
 */
export function extractBearerToken(headerValue: string | undefined): BearerToken {
  if (headerValue === undefined) return { kind: 'missing' };
  if (Buffer.byteLength(headerValue, 'utf8') > MAX_AUTH_HEADER_BYTES) return { kind: 'too_large' };

  const token = headerValue.trim().replace(BEARER_PREFIX, '').trim();
  if (token === '' || /^bearer$/i.test(token)) return { kind: 'missing' };
  return { kind: 'token', token };
}
