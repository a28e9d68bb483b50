/** Shared pieces of the Redis backend tests: a log-capturing pino logger and polling. */
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import {
  RedisBackend,
  type RedisBackendOptions,
} from '../../../../src/backend/redis/redis-backend.js';
import { EventBus, type EventMap } from '../../../../src/observe/events.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => lines.push(JSON.parse(line)) },
  );
  return { logger, lines };
}

export async function waitFor(check: () => boolean, timeoutMs: number, what: string) {
  const deadlineMs = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadlineMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function recordEvents<K extends keyof EventMap>(bus: EventBus, names: K[]) {
  const events: { name: K; payload: EventMap[K] }[] = [];
  for (const name of names) bus.on(name, (payload) => events.push({ name, payload }));
  return events;
}

/** Builds a Redis backend with fast reconnects, so outage tests stay short. */
export function fastBackend(options: RedisBackendOptions): RedisBackend {
  return new RedisBackend({ retryBaseDelayMs: 20, retryMaxDelayMs: 100, ...options });
}
