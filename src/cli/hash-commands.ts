/** `hash-password` (bcrypt, cost 12) and `hash-key` (SHA-256), for the `auth` block. */
import bcrypt from 'bcryptjs';
import { sha256Hex } from '../config/index.js';
import { printErr, printOut } from './output.js';
import { readSecretFromStdin } from './read-secret.js';

export const BCRYPT_COST = 12;

export async function hashPassword(password: string | undefined): Promise<number> {
  const secret = password ?? (await readSecretFromStdin('password'));
  if (secret === '') {
    printErr('Error: the password is empty; pass it as an argument or on stdin.');
    return 1;
  }
  printOut(await bcrypt.hash(secret, BCRYPT_COST));
  return 0;
}

export async function hashKey(key: string | undefined): Promise<number> {
  const secret = key ?? (await readSecretFromStdin('API key'));
  if (secret === '') {
    printErr('Error: the API key is empty; pass it as an argument or on stdin.');
    return 1;
  }
  printOut(`sha256:${sha256Hex(secret)}`);
  return 0;
}
