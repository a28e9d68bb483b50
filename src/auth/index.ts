/** Public surface of the auth component. */
export {
  createAuth,
  ANONYMOUS_PRINCIPAL,
  type Auth,
  type CreateAuthOptions,
} from './authorizer.js';
export { hashApiKey } from './api-keys.js';
export { hashPassword, verifyPassword, BCRYPT_COST } from './passwords.js';
export type { LoginHandler, LoginRequest, LoginResponse } from './login.js';
export type { Principal, ProxyAuthorizer } from './types.js';
