/**
 * Signature and claim checks of one OIDC access token against a provider's keys. Only
 * asymmetric algorithms are accepted, so `none` and HMAC tokens (such as one "signed" with the
 * RSA public key as an HMAC secret) fail before any key is looked up.
 */
import {
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
} from 'jose';

export const ALLOWED_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

export type TokenFailureReason =
  | 'malformed'
  | 'alg_not_allowed'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not_yet_valid'
  | 'signature'
  | 'no_matching_key'
  | 'keys_unavailable'
  | 'claims';

export type TokenCheck =
  { ok: true; payload: JWTPayload } | { ok: false; reason: TokenFailureReason; detail: string };

export interface TokenRules {
  issuer: string;
  /** Accepted audiences; the token's `aud` must name one of them. Empty: `aud` is not checked. */
  audience: readonly string[];
  clockToleranceSec: number;
  nowMs: number;
}

/** Returns null when the token's `alg` is an allowed asymmetric algorithm, else the failure. */
export function checkAlgorithm(token: string): TokenCheck | null {
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    return { ok: false, reason: 'malformed', detail: 'token header is not a JOSE header' };
  }
  if (typeof alg === 'string' && ALLOWED_ALGORITHMS.includes(alg)) return null;
  return {
    ok: false,
    reason: 'alg_not_allowed',
    detail: `alg ${JSON.stringify(alg)} is not allowed`,
  };
}

export async function verifyToken(
  token: string,
  keys: JWTVerifyGetKey,
  rules: TokenRules,
): Promise<TokenCheck> {
  const rejected = checkAlgorithm(token);
  if (rejected !== null) return rejected;

  const options: JWTVerifyOptions = {
    algorithms: [...ALLOWED_ALGORITHMS],
    issuer: rules.issuer,
    clockTolerance: rules.clockToleranceSec,
    currentDate: new Date(rules.nowMs),
    requiredClaims: ['exp'],
  };
  if (rules.audience.length > 0) options.audience = [...rules.audience];

  try {
    const { payload } = await verifyWithEveryCandidate(token, keys, options);
    return checkIssuedAt(payload, rules);
  } catch (error) {
    return classifyFailure(error);
  }
}

/**
 * Verifies with the one matching key, or, when a token without `kid` matches several keys,
 * with each candidate until one verifies.
 */
async function verifyWithEveryCandidate(
  token: string,
  keys: JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<{ payload: JWTPayload }> {
  try {
    return await jwtVerify(token, keys, options);
  } catch (error) {
    if (!(error instanceof joseErrors.JWKSMultipleMatchingKeys)) throw error;

    let lastError: unknown = error;
    for await (const key of error) {
      try {
        return await jwtVerify(token, key, options);
      } catch (candidateError) {
        lastError = candidateError;
        if (!(candidateError instanceof joseErrors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw lastError;
  }
}

/** jose checks `iat` only with maxTokenAge; an `iat` beyond the tolerance in the future fails. */
function checkIssuedAt(payload: JWTPayload, rules: TokenRules): TokenCheck {
  const nowSec = rules.nowMs / 1000;
  if (payload.iat !== undefined && payload.iat > nowSec + rules.clockToleranceSec) {
    return { ok: false, reason: 'not_yet_valid', detail: 'iat is in the future' };
  }
  return { ok: true, payload };
}

function classifyFailure(error: unknown): TokenCheck {
  const detail = error instanceof Error ? error.message : String(error);
  const fail = (reason: TokenFailureReason): TokenCheck => ({ ok: false, reason, detail });

  if (error instanceof joseErrors.JWTExpired) return fail('expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return fail('audience');
    if (error.claim === 'iss') return fail('issuer');
    if (error.claim === 'nbf') return fail('not_yet_valid');
    return fail('claims');
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return fail('signature');
  if (error instanceof joseErrors.JWKSNoMatchingKey) return fail('no_matching_key');
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return fail('alg_not_allowed');
  return fail('malformed');
}
