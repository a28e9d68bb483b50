/** `hash-password` (bcrypt, cost 12) and `hash-key` (SHA-256), for the `auth` block. */
import { hashApiKey, hashPassword as bcryptHash } from '../auth/index.js';
import { printErr, printOut } from './output.js';
import { readSecretFromStdin } from './read-secret.js';

export async function hashPassword(password: string | undefined): Promise<number> {
  const secret = password ?? (await readSecretFromStdin('password'));
  if (secret === '') {
    printErr('Error: the password is empty. Pass it as an argument or on stdin.');
    return 1;
  }
  printOut(await bcryptHash(secret));
  return 0;
}

export async function hashKey(key: string | undefined): Promise<number> {
  const secret = key ?? (await readSecretFromStdin('API key'));
  if (secret === '') {
    printErr('Error: the API key is empty. Pass it as an argument or on stdin.');
    return 1;
  }
  printOut(hashApiKey(secret));
  return 0;
}
