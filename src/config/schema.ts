/**
 * Zod schemas for each config block, keyed by the canonical camelCase names. Semantic checks
 * that span blocks (names, references, IP resolution) live in resolve.ts and auth.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import {
  boolField,
  choiceField,
  durationMsField,
  intField,
  nonEmptyStringField,
  optionalStringField,
  sizeBytesField,
  stringField,
  stringListField,
} from './fields.js';
import { compileTargetRegex } from './regex.js';

export const DEFAULT_RETRY_ON_STATUS = [429, 502, 503, 504];
export const DEFAULT_ROLES_CLAIM = 'proxy_hopper_role';

function positiveDurationMs(defaultMs: number) {
  return durationMsField()
    .refine((ms) => ms > 0, { message: 'must be greater than zero' })
    .default(defaultMs);
}

const optionalString = optionalStringField;

const REDIS_URL = /^(rediss?(?:\+sentinel|\+cluster)?):\/\/[^/?#]+/;

/** Redis URL of any supported form; the check is loose because the backend parses it fully. */
function redisUrlField() {
  return stringField().refine((value) => REDIS_URL.test(value), {
    error: (issue) =>
      `Invalid Redis URL '${hidePassword(String(issue.input))}': expected redis://, rediss://, ` +
      'redis+sentinel://host:port,.../<master name> or redis+cluster://host:port,...',
  });
}

/** Replaces the password of a URL with `***`, so config errors never print it. */
function hidePassword(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

export function hasScheme(value: string, schemes: readonly string[]): boolean {
  try {
    const url = new URL(value);
    return schemes.includes(url.protocol.slice(0, -1)) && url.host !== '';
  } catch {
    return false;
  }
}

const caFileField = optionalString().transform((path, ctx) => {
  if (path === undefined) return null;
  const absolute = resolvePath(path);
  if (!existsSync(absolute)) {
    ctx.addIssue({ code: 'custom', message: `CA file '${path}' not found` });
    return z.NEVER;
  }
  try {
    if (!readFileSync(absolute, 'utf8').includes('-----BEGIN CERTIFICATE-----')) {
      ctx.addIssue({ code: 'custom', message: `CA file '${path}' contains no PEM certificate` });
    }
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `CA file '${path}' cannot be read: ${(err as Error).message}`,
    });
  }
  return absolute;
});

const portField = (defaultPort: number) => intField(0, 65535).default(defaultPort);

export const serverShape = {
  host: nonEmptyStringField().default('0.0.0.0'),
  port: portField(8080),
  /** Checked in server.ts, because an unknown level is a warning rather than an error. */
  logLevel: z.unknown().default('INFO'),
  logFormat: choiceField(['text', 'json'] as const).default('text'),
  logFile: optionalString().transform((value) => value ?? null),
  backend: choiceField(['memory', 'redis'] as const).default('memory'),
  redisUrl: redisUrlField().default('redis://localhost:6379/0'),
  redisKeyPrefix: nonEmptyStringField().default('ph'),
  metrics: boolField(false),
  metricsHost: nonEmptyStringField().default('0.0.0.0'),
  metricsPort: portField(9090),
  admin: boolField(false),
  adminHost: nonEmptyStringField().default('0.0.0.0'),
  adminPort: portField(8081),
  probe: boolField(true),
  probeInterval: positiveDurationMs(60_000),
  probeTimeout: positiveDurationMs(10_000),
  probeUrls: stringListField()
    .transform((urls, ctx) => {
      for (const url of urls) {
        if (!hasScheme(url, ['http', 'https'])) {
          ctx.addIssue({
            code: 'custom',
            message: `Invalid probe URL '${url}': expected an absolute URL starting with http:// or https://`,
          });
        }
      }
      return urls;
    })
    .default([]),
  probeQuarantine: boolField(false),
  connectTimeout: positiveDurationMs(10_000),
  responseTimeout: positiveDurationMs(30_000),
  proxyReadTimeout: positiveDurationMs(60_000),
  retryBodyLimit: sizeBytesField().default(10 * 1024 * 1024),
  caFile: caFileField,
  leaseTtl: positiveDurationMs(30_000),
  debugBackend: boolField(false),
  debugQuarantine: boolField(false),
  debugProbes: boolField(false),
};

/** Server keys that SPEC names but this build does not implement yet; set ones get a warning. */
export const UNSUPPORTED_SERVER_KEYS = [
  'prometheusUrl',
  'authServer',
  'configStoreUrl',
  'configWatch',
] as const;

export const serverSchema = z.object(serverShape);

export const providerAuthShape = {
  type: choiceField(['basic'] as const).default('basic'),
  username: stringField(),
  password: optionalString().transform((value) => value ?? ''),
};

export const providerShape = {
  name: optionalString(),
  ipList: stringListField().refine((list) => list.length > 0, {
    message: 'must list at least one address',
  }),
  auth: z
    .unknown()
    .optional()
    .transform((value) => (value === null ? undefined : value))
    .pipe(z.object(providerAuthShape).optional()),
  regionTag: optionalString().transform((value) => value ?? ''),
  mutable: boolField(true),
  static: boolField(true),
};

export const providerSchema = z.object(providerShape);

export const ipRequestShape = {
  provider: nonEmptyStringField(),
  count: intField(1),
};

export const poolShape = {
  name: optionalString(),
  ipRequests: z.array(z.object(ipRequestShape)).default([]),
  ipList: stringListField().default([]),
  mutable: boolField(true),
  static: boolField(true),
};

export const poolSchema = z.object(poolShape);

export const warmupShape = {
  enabled: boolField(true),
  path: stringField().default('/'),
};

export const identityShape = {
  enabled: boolField(false),
  cookies: boolField(true),
  rotateAfterRequests: intField(1).optional(),
  rotateOn429: boolField(true),
  warmup: z.object(warmupShape).optional(),
};

const regexField = stringField().transform((source, ctx) => {
  const compiled = compileTargetRegex(source);
  if ('error' in compiled) {
    ctx.addIssue({ code: 'custom', message: compiled.error });
    return z.NEVER;
  }
  return compiled;
});

export const targetShape = {
  name: optionalString(),
  regex: regexField,
  ipPool: optionalString(),
  ipList: stringListField().optional(),
  defaultProxyPort: intField(1, 65535).default(8080),
  minRequestInterval: durationMsField().default(1_000),
  maxQueueWait: durationMsField().default(30_000),
  numRetries: intField(0).default(3),
  ipFailuresUntilQuarantine: intField(1).default(5),
  quarantineTime: durationMsField().default(120_000),
  minActiveIps: intField(0).default(1),
  spoofUserAgent: boolField(true),
  retryOnStatus: z.array(intField(100, 599)).default(DEFAULT_RETRY_ON_STATUS),
  identity: z.object(identityShape).optional(),
  authManaged: boolField(false),
  mutable: boolField(true),
  static: boolField(true),
};

export const targetSchema = z.object(targetShape);

export type ServerInput = z.output<typeof serverSchema>;
export type ProviderInput = z.output<typeof providerSchema>;
export type PoolInput = z.output<typeof poolSchema>;
export type TargetInput = z.output<typeof targetSchema>;
