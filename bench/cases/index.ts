/** Every benchmark case, in report order. */
import { baselineCase } from './baseline.js';
import { proxyChainCase } from './proxy-chain.js';
import { apiKeyCase, memoryCase, oidcCase, redisCase } from './proxy-hopper.js';
import type { BenchCase } from './types.js';

export const ALL_CASES: BenchCase[] = [
  baselineCase,
  memoryCase,
  apiKeyCase,
  oidcCase,
  redisCase,
  proxyChainCase,
];
