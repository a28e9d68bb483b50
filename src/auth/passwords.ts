/** bcrypt password hashing for local users (`proxy-hopper hash-password`) and its check. */
import bcrypt from 'bcryptjs';

export const BCRYPT_COST = 12;

/** Returns a bcrypt hash with cost 12 and the `$2b$` prefix. */
export async function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

/** Checks a password against a `$2a$`, `$2b$` or `$2y$` hash; a malformed hash never matches. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await bcrypt.compare(password, hash);
  } catch {
    // bcryptjs throws on arguments it cannot use; treating that as "no match" is the safe result.
    return false;
  }
}

/**
 * Spends the time of one real compare (against a configured user's hash, so with the same
 * cost) and returns false, so an unknown username takes as long as a wrong password.
 */
export async function rejectUnknownUser(password: string, referenceHash: string): Promise<false> {
  await verifyPassword(`${password}\u0000unknown-user`, referenceHash);
  return false;
}
