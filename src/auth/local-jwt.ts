/**
 * Locally issued tokens: HS256 JWTs with `sub`, `role`, `iat` and `exp`, signed with
 * `auth.jwtSecret` (or a random secret made at start when none is configured).
 */
import { randomBytes } from 'node:crypto';

import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';

export const LOCAL_JWT_ALGORITHM = 'HS256';
/** Role of a local token that carries no `role` claim. */
export const DEFAULT_LOCAL_ROLE = 'viewer';

export interface IssuedToken {
  token: string;
  expiresInSec: number;
}

export interface LocalClaims {
  subject: string;
  role: string;
  expiresAtMs: number;
}

export type LocalVerifyResult =
  { ok: true; claims: LocalClaims } | { ok: false; reason: 'expired' | 'invalid' };

export interface LocalJwtOptions {
  /** Empty means "make a random secret"; tokens then stop working at restart. */
  secret: string;
  expiryMinutes: number;
  now: () => number;
}

export class LocalJwt {
  readonly secretGenerated: boolean;
  readonly #key: Uint8Array;
  readonly #expirySec: number;
  readonly #now: () => number;

  constructor(options: LocalJwtOptions) {
    this.secretGenerated = options.secret === '';
    const secret = this.secretGenerated ? randomBytes(32).toString('hex') : options.secret;
    this.#key = new TextEncoder().encode(secret);
    this.#expirySec = Math.round(options.expiryMinutes * 60);
    this.#now = options.now;
  }

  async issue(subject: string, role: string): Promise<IssuedToken> {
    const issuedAtSec = Math.floor(this.#now() / 1000);
    const token = await new SignJWT({ role })
      .setProtectedHeader({ alg: LOCAL_JWT_ALGORITHM, typ: 'JWT' })
      .setSubject(subject)
      .setIssuedAt(issuedAtSec)
      .setExpirationTime(issuedAtSec + this.#expirySec)
      .sign(this.#key);
    return { token, expiresInSec: this.#expirySec };
  }

  async verify(token: string): Promise<LocalVerifyResult> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: [LOCAL_JWT_ALGORITHM],
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(this.#now()),
      });
      const role = typeof payload.role === 'string' ? payload.role : DEFAULT_LOCAL_ROLE;
      const expiresAtMs = (payload.exp ?? 0) * 1000;
      return { ok: true, claims: { subject: payload.sub ?? '', role, expiresAtMs } };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return { ok: false, reason: 'expired' };
      return { ok: false, reason: 'invalid' };
    }
  }
}
