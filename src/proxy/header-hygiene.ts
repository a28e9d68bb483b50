/**
 * Which headers cross Proxy Hopper. Hop-by-hop headers (RFC 9110 section 7.6.1) and any
 * header named in `Connection` apply to one connection only and are dropped in both
 * directions; Proxy Hopper's own control headers and the client's proxy credentials never
 * leave; the client's `Authorization` for the target passes unchanged.
 */

/** Hop-by-hop headers of RFC 9110 section 7.6.1, plus the non-standard ones proxies use. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

/** Headers that a `X-Proxy-Hopper-<Name>` override may never set. */
export const NOT_OVERRIDABLE = new Set([...HOP_BY_HOP, 'host', 'content-length', 'expect']);

/** Names listed in the `Connection` header values (lower-cased). */
export function connectionTokens(values: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (const value of values) {
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') tokens.add(name);
    }
  }
  return tokens;
}

export function isControlHeader(lowerName: string): boolean {
  return lowerName.startsWith('x-proxy-hopper-') || lowerName.startsWith('x-proxyhopper-');
}

/** Response headers to send to the client, as a flat name/value list keeping duplicates. */
export function responseHeaders(headers: Record<string, string | string[] | undefined>): string[] {
  const connection = headers.connection;
  const named = connectionTokens(
    connection === undefined ? [] : Array.isArray(connection) ? connection : [connection],
  );
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || named.has(name)) continue;
    if (Array.isArray(value)) {
      for (const item of value) out.push(name, item);
    } else {
      out.push(name, value);
    }
  }
  return out;
}
