/**
 * Loads a config from YAML text or a file. Every problem is collected with its path, and one
 * ConfigError lists them all, so a user fixes a broken file in one pass.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors/index.js';
import { buildAuthConfig } from './auth.js';
import type { Env } from './env.js';
import { isPlainObject, normalizeKeys } from './keys.js';
import { resolveInventory } from './resolve.js';
import { buildServerConfig, type ServerOverrides } from './server.js';
import type { Config } from './types.js';

const TOP_LEVEL_KEYS = ['server', 'auth', 'proxyProviders', 'ipPools', 'targets'];

export interface LoadOptions {
  /** Environment that `PROXY_HOPPER_*` variables are read from. Defaults to `process.env`. */
  env?: Env;
  /** CLI flag values keyed by the `server:` key they set. They beat YAML and env. */
  overrides?: ServerOverrides;
  /** When true (as for `validate`), a config without targets is an error instead of a warning. */
  requireTargets?: boolean;
}

export interface ParseOptions extends LoadOptions {
  /** File the text came from, kept in `Config.source`. */
  source?: string | null;
}

/** Parses YAML config text and throws a ConfigError that lists every problem. */
export function parseConfig(yamlText: string, options: ParseOptions = {}): Config {
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const raw = parseYaml(yamlText, issues);
  if (raw === undefined) throw new ConfigError(issues);
  const data = normalizeKeys(raw, issues) as Record<string, unknown>;
  for (const key of Object.keys(data)) {
    // `x-` keys are extension fields (as in Docker Compose), often holding YAML anchors.
    if (TOP_LEVEL_KEYS.includes(key) || key.startsWith('x-')) continue;
    warnings.push(`Ignoring unknown top-level key '${key}'`);
  }
  const env = options.env ?? process.env;
  const server = buildServerConfig(data.server, env, options.overrides ?? {}, issues, warnings);
  const inventory = resolveInventory(
    {
      proxyProviders: data.proxyProviders,
      ipPools: data.ipPools,
      targets: data.targets,
      requireTargets: options.requireTargets ?? false,
    },
    issues,
    warnings,
  );
  const auth = buildAuthConfig(data.auth, env, targetNamesOf(data.targets), issues, warnings);
  if (issues.length > 0 || server === undefined || auth === undefined)
    throw new ConfigError(issues);
  return { server, auth, ...inventory, warnings, source: options.source ?? null };
}

/** Reads and parses a config file. A missing or unreadable file is a ConfigError too. */
export function loadConfigFile(path: string, options: LoadOptions = {}): Config {
  let text: string;
  try {
    if (statSync(path).isDirectory()) {
      throw new ConfigError([
        { path: '', message: `Config path '${path}' is a directory. Pass a YAML file` },
      ]);
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? String(err)})`;
    throw new ConfigError([{ path: '', message: `Config file '${path}' ${reason}` }]);
  }
  return parseConfig(text, { ...options, source: path });
}

function parseYaml(text: string, issues: ConfigIssue[]): Record<string, unknown> | undefined {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true, merge: true });
  if (document.errors.length > 0) {
    for (const error of document.errors)
      issues.push({ path: '', message: `Invalid YAML: ${error.message}` });
    return undefined;
  }
  let value: unknown;
  try {
    value = document.toJS();
  } catch (err) {
    // The yaml library throws a ReferenceError for an alias bomb (more than 100 alias uses).
    const reason = err instanceof Error ? err.message : String(err);
    issues.push({ path: '', message: `Invalid YAML: ${reason}` });
    return undefined;
  }
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    issues.push({
      path: '',
      message: 'The config file must be a YAML mapping with keys such as server and targets',
    });
    return undefined;
  }
  return value;
}

function targetNamesOf(targets: unknown): string[] {
  if (!Array.isArray(targets)) return [];
  const names = targets
    .map((target) => (isPlainObject(target) ? target.name : undefined))
    .filter((name): name is string => typeof name === 'string');
  return [...new Set(names)];
}
