/** Builds the state backend that `server.backend` selects. */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { EventBus } from '../observe/events.js';
import { MemoryBackend } from './memory-backend.js';
import { RedisBackend } from './redis/redis-backend.js';
import type { Backend } from './types.js';

export interface CreateBackendOptions {
  events?: EventBus;
  logger?: Logger;
  /**
   * Clock in epoch ms that the memory backend runs on. The Redis backend keeps its state in
   * Redis server time and only moves the times it returns onto this clock.
   */
  now?: () => number;
}

export function createBackend(config: Config, options: CreateBackendOptions = {}): Backend {
  const { backend, leaseTtlMs, redisUrl, redisKeyPrefix } = config.server;
  const { events, logger, now } = options;
  if (backend === 'redis') {
    return new RedisBackend({
      url: redisUrl,
      keyPrefix: redisKeyPrefix,
      leaseTtlMs,
      events,
      logger,
      now,
    });
  }
  return new MemoryBackend({ leaseTtlMs, events, now });
}
