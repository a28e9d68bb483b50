// Shared helpers for the config unit tests.
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/errors/index.js';
import { parseConfig, type ParseOptions } from '../../../src/config/index.js';
import type { Config } from '../../../src/config/types.js';

export const MINIMAL_TARGETS = `
targets:
  - name: t
    regex: '.*'
    ipList: ['127.0.0.1:3128']
`;

/** Parses with an empty environment unless the test gives one. */
export function parse(yaml: string, options: ParseOptions = {}): Config {
  return parseConfig(yaml, { env: {}, ...options });
}

/** Returns every issue as `path: message`, failing when the config loads. */
export function issuesOf(yaml: string, options: ParseOptions = {}): string[] {
  try {
    parse(yaml, options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.issues.map((issue) =>
      issue.path ? `${issue.path}: ${issue.message}` : issue.message,
    );
  }
  assert.fail('expected the config to be rejected');
}

/** Replaces compiled regexes by `source/flags` strings, so two configs compare with deepEqual. */
export function comparable(config: Config): unknown {
  return {
    ...config,
    targets: config.targets.map((target) => ({
      ...target,
      regex: `${target.regex.source}/${target.regex.flags}`,
    })),
  };
}
