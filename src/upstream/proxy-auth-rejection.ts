/**
 * Tells an upstream proxy's rejection of our credentials apart from a target's own response on
 * absolute-form requests. 407 always comes from the proxy (RFC 9110 section 15.5.8).
 * tinyproxy 1.11 responds to wrong credentials with a 401 of its own instead. Its Server
 * header and realm identify it, so a target's genuine 401 still passes through.
 */
export function isProxyAuthRejection(
  status: number,
  headers: Record<string, string | string[] | undefined>,
): boolean {
  if (status === 407) return true;
  if (status !== 401) return false;
  const server = first(headers.server) ?? '';
  const challenge = first(headers['www-authenticate']) ?? '';
  return /^tinyproxy\//i.test(server) && /realm="tinyproxy"/i.test(challenge);
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
