/** Zod schemas for the `auth` block: local users, API keys, OIDC providers and roles. */
import { z } from 'zod';
import {
  boolField,
  durationMsField,
  intField,
  nonEmptyStringField,
  stringField,
  stringListField,
  toStringList,
} from './fields.js';
import { DEFAULT_ROLES_CLAIM, hasScheme } from './schema.js';

/** bcrypt hashes as `hash-password` prints them: `$2b$12$` and 53 characters of salt and hash. */
export const BCRYPT_PATTERN = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
export const KEY_HASH_PATTERN = /^sha256:([0-9a-fA-F]{64})$/;
export const PERMISSIONS = ['read', 'write', 'admin'] as const;

const passwordHashField = stringField().refine((hash) => BCRYPT_PATTERN.test(hash), {
  error: () =>
    "Invalid passwordHash: expected a bcrypt hash such as '$2b$12$...' (60 characters); create one with 'proxy-hopper hash-password'",
});

export const userShape = {
  username: nonEmptyStringField(),
  passwordHash: passwordHashField,
  role: nonEmptyStringField().default('admin'),
};

export const apiKeyShape = {
  name: nonEmptyStringField(),
  key: nonEmptyStringField().optional(),
  keyHash: stringField()
    .refine((hash) => KEY_HASH_PATTERN.test(hash), {
      error: () =>
        "Invalid keyHash: expected 'sha256:' and 64 hex digits; create one with 'proxy-hopper hash-key'",
    })
    .optional(),
  targets: stringListField().default(['*']),
};

const audienceField = z
  .unknown()
  .optional()
  .transform((value, ctx) =>
    value === null || value === undefined ? [] : toStringList(value, ctx),
  );

export const oidcShape = {
  name: nonEmptyStringField().optional(),
  issuer: stringField().refine((issuer) => hasScheme(issuer, ['http', 'https']), {
    error: (issue) =>
      `Invalid issuer '${String(issue.input)}': expected an absolute http:// or https:// URL`,
  }),
  audience: audienceField,
  rolesClaim: nonEmptyStringField().default(DEFAULT_ROLES_CLAIM),
  clockTolerance: durationMsField().default(60_000),
  jwksCacheTtl: durationMsField().default(300_000),
  clientId: stringField().optional(),
  clientSecret: stringField().optional(),
};

const permissionField = z.unknown().transform((value, ctx) => {
  const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
  const found = PERMISSIONS.find((permission) => permission === text);
  if (found !== undefined) return found;
  ctx.addIssue({
    code: 'custom',
    message: `Unknown permission '${String(value)}'. Valid permissions: ['read', 'write', 'admin']`,
  });
  return z.NEVER;
});

export const roleShape = {
  name: nonEmptyStringField(),
  permissions: z.array(permissionField).default(['read']),
  targets: stringListField().default(['*']),
};

export const authShape = {
  enabled: boolField(false),
  jwtSecret: stringField().default(''),
  jwtExpiryMinutes: intField(1).default(60),
  admin: z.object(userShape).optional(),
  users: z.array(z.unknown()).default([]),
  apiKeys: z.array(z.unknown()).default([]),
  oidc: z.unknown().optional(),
  roles: z.unknown().optional(),
};

export const authSchema = z.object(authShape);
export const userSchema = z.object(userShape);
export const apiKeySchema = z.object(apiKeyShape);
export const oidcSchema = z.object(oidcShape);
export const roleSchema = z.object(roleShape);
