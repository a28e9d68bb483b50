/** OpenID Connect discovery: the discovery URL of an issuer and the fetch of JSON documents. */

export const DISCOVERY_PATH = '.well-known/openid-configuration';
export const DEFAULT_FETCH_TIMEOUT_MS = 10_000;

/**
 * Appends the well-known path to the issuer with exactly one slash in between, whether or not
 * the issuer ends in `/` (OpenID Connect Discovery 1.0 section 4). The issuer itself is never
 * changed, because token `iss` values are compared with it byte for byte.
 */
export function discoveryUrl(issuer: string): string {
  return issuer.endsWith('/') ? `${issuer}${DISCOVERY_PATH}` : `${issuer}/${DISCOVERY_PATH}`;
}

/** True when two issuers are equal except that one of them ends in a slash. */
export function differOnlyByTrailingSlash(a: string, b: string): boolean {
  return a !== b && a.replace(/\/$/, '') === b.replace(/\/$/, '');
}

export interface DiscoveryDocument {
  issuer: string;
  jwksUri: string;
}

export async function fetchDiscovery(
  issuer: string,
  signal: AbortSignal,
): Promise<DiscoveryDocument> {
  const url = discoveryUrl(issuer);
  const document = await fetchJson(url, signal);
  const { issuer: documentIssuer, jwks_uri: jwksUri } = document as Record<string, unknown>;

  if (typeof jwksUri !== 'string' || jwksUri === '') {
    throw new Error(`discovery document at ${url} has no jwks_uri`);
  }
  if (typeof documentIssuer !== 'string') {
    throw new Error(`discovery document at ${url} has no issuer`);
  }
  return { issuer: documentIssuer, jwksUri };
}

/** GETs a JSON object; throws with the URL and the status when the response is not usable. */
export async function fetchJson(url: string, signal: AbortSignal): Promise<object> {
  const response = await fetch(url, { headers: { accept: 'application/json' }, signal });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`GET ${url} returned HTTP ${response.status}`);
  }

  let value: unknown;
  try {
    value = await response.json();
  } catch (error) {
    throw new Error(`GET ${url} returned invalid JSON`, { cause: error });
  }
  if (typeof value !== 'object' || value === null) {
    throw new Error(`GET ${url} returned JSON that is not an object`);
  }
  return value;
}
