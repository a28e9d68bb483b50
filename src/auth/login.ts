/**
 * `POST /auth/login`: checks a local user's password and issues a local JWT. The admin server
 * turns the returned `{status, headers, body}` into the HTTP response.
 */
import type { Logger } from 'pino';

import type { AuthConfig, LocalUserConfig } from '../config/types.js';
import type { LocalJwt } from './local-jwt.js';
import { parseLoginBody } from './login-body.js';
import type { LoginRateLimit } from './login-rate-limit.js';
import { rejectUnknownUser, verifyPassword } from './passwords.js';

export interface LoginRequest {
  body: Buffer;
  contentType: string | undefined;
  clientAddress: string;
}

export interface LoginResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON text. */
  body: string;
}

export interface LoginDependencies {
  auth: AuthConfig;
  localJwt: LocalJwt;
  rateLimit: LoginRateLimit;
  logger: Logger;
}

export type LoginHandler = (request: LoginRequest) => Promise<LoginResponse>;

export function createLoginHandler(deps: LoginDependencies): LoginHandler {
  const users = new Map(deps.auth.users.map((user) => [user.username, user]));

  return async (request) => {
    const referenceUser = deps.auth.users[0];
    if (!deps.auth.enabled || referenceUser === undefined) {
      return json(404, { detail: 'Local authentication is not configured' });
    }

    const retryAfterSec = deps.rateLimit.retryAfterSec(request.clientAddress);
    if (retryAfterSec > 0) {
      deps.logger.warn(
        { clientAddress: request.clientAddress },
        'login rejected: too many failures',
      );
      return json(
        429,
        { detail: `Too many failed logins; retry in ${retryAfterSec} seconds` },
        { 'Retry-After': String(retryAfterSec) },
      );
    }

    const body = parseLoginBody(request.body, request.contentType);
    if (!body.ok) return json(400, { detail: body.detail });

    const user = users.get(body.username);
    const passwordOk = user
      ? await verifyPassword(body.password, user.passwordHash)
      : await rejectUnknownUser(body.password, referenceUser.passwordHash);
    if (!user || !passwordOk) return reject(deps, request.clientAddress, body.username, user);

    const issued = await deps.localJwt.issue(user.username, user.role);
    deps.logger.info({ username: user.username, role: user.role }, 'login succeeded');
    return json(200, {
      access_token: issued.token,
      token_type: 'bearer',
      token: issued.token,
      expires_in: issued.expiresInSec,
    });
  };
}

function reject(
  deps: LoginDependencies,
  clientAddress: string,
  username: string,
  user: LocalUserConfig | undefined,
): LoginResponse {
  deps.rateLimit.recordFailure(clientAddress);
  const reason = user ? 'wrong password' : 'unknown user';
  deps.logger.info({ username, clientAddress, reason }, 'login failed');
  return json(401, { detail: 'Incorrect username or password' }, { 'WWW-Authenticate': 'Bearer' });
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): LoginResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(value),
  };
}
