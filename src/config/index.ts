/** Config loading: YAML and env into the resolved, validated Config of types.ts. */
export { parseConfig, loadConfigFile, type LoadOptions, type ParseOptions } from './load.js';
export type { ServerOverrides } from './server.js';
export type { Env } from './env.js';
export { parseDurationMs } from './duration.js';
export { parseSizeBytes } from './size.js';
export { parseAddress, type ParsedAddress } from './address.js';
export { compileTargetRegex } from './regex.js';
export { sha256Hex } from './auth.js';
export { pyRepr, pyListRepr } from './repr.js';
export type * from './types.js';
