/**
 * Secret scrubbing for log output: the field names pino's `redact` censors at any depth up to
 * four levels, and a scanner that removes credentials from URLs inside free text.
 */

/** Field names whose values are censored up to MAX_REDACT_DEPTH, matched case-sensitively. */
export const SECRET_FIELD_NAMES = [
  'authorization',
  'Authorization',
  'proxy-authorization',
  'Proxy-Authorization',
  'x-proxy-hopper-auth',
  'X-Proxy-Hopper-Auth',
  'cookie',
  'Cookie',
  'set-cookie',
  'Set-Cookie',
  'password',
  'passwordHash',
  'token',
  'accessToken',
  'access_token',
  'key',
  'apiKey',
  'api_key',
  'clientSecret',
  'client_secret',
  'jwtSecret',
  'credentials',
] as const;

export const REDACTED = '[REDACTED]';

/** Deepest nesting, counted in objects above the field, that the redact paths cover. */
const MAX_REDACT_DEPTH = 4;

/** Builds pino `redact` paths that match every secret field at depth 0 to MAX_REDACT_DEPTH. */
export function buildRedactPaths(): string[] {
  const paths: string[] = [];
  for (const name of SECRET_FIELD_NAMES) {
    const plain = /^[A-Za-z_$][\w$]*$/.test(name);
    for (let depth = 0; depth <= MAX_REDACT_DEPTH; depth += 1) {
      const parents = Array.from({ length: depth }, () => '*').join('.');
      if (plain) paths.push(depth === 0 ? name : `${parents}.${name}`);
      else paths.push(depth === 0 ? `["${name}"]` : `${parents}["${name}"]`);
    }
  }
  return paths;
}

/** `scheme://userinfo@` in any text: the userinfo is replaced, the rest of the URL is kept. */
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;
/** Query parameters that carry tokens or keys (`?token=...` on event streams, API keys). */
const SECRET_QUERY_PARAM =
  /([?&](?:token|access_token|api_key|apikey|key|password|secret|client_secret)=)[^&#\s]*/gi;

/**
 * Replaces credentials in every URL inside `text`: `http://user:pass@host` becomes
 * `http://[REDACTED]@host`, and token-like query parameters lose their values.
 */
export function redactUrl(text: string): string {
  if (!text.includes('://') && !text.includes('=')) return text;
  return text.replace(URL_USERINFO, `$1${REDACTED}@`).replace(SECRET_QUERY_PARAM, `$1${REDACTED}`);
}
