/**
 * The process logger: pino writing synchronously to stderr or `logFile`, as JSON lines with the
 * keys `timestamp`, `level`, `logger` and `message`, or as one readable text line per entry.
 * Secret fields are censored by path and credentials in URLs are scrubbed from messages.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogFormat, LogLevel } from '../config/types.js';
import { REDACTED, buildRedactPaths, redactUrl } from './redact.js';
import { createTextStream } from './text-format.js';

export { redactUrl } from './redact.js';

/** Logger name used when a line comes from a logger without its own `logger` binding. */
export const ROOT_LOGGER_NAME = 'proxy_hopper';

export interface LoggerSettings {
  logLevel: LogLevel;
  logFormat: LogFormat;
  logFile: string | null;
}

/** Config level names to pino's level names (pino has no TRACE value of 5, so trace is 10). */
const PINO_LEVELS: Record<LogLevel, pino.Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  ERROR: 'error',
};

/** pino level labels to the names written in the `level` key. */
const OUTPUT_LEVELS: Record<string, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/** Converts a config level name to the pino level to pass to `logger.level`. */
export function toPinoLevel(level: LogLevel): pino.Level {
  return PINO_LEVELS[level];
}

/**
 * Creates the root logger. Components take a child named after them:
 * `logger.child({ logger: 'proxy_hopper.handlers' })`. `destination` replaces stderr and
 * `logFile`, for tests; it receives one complete line per `write` call.
 */
export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  const sink = destination ?? openDestination(settings.logFile);
  const stream = settings.logFormat === 'text' ? createTextStream(sink) : sink;
  return pino(
    {
      level: toPinoLevel(settings.logLevel),
      base: null,
      messageKey: 'message',
      errorKey: 'err',
      timestamp: () => `,"timestamp":"${formatLocalTimestamp(new Date())}"`,
      formatters: { level: (label) => ({ level: OUTPUT_LEVELS[label] ?? label.toUpperCase() }) },
      mixin: (_object, _level, logger) => (hasOwnName(logger) ? {} : { logger: ROOT_LOGGER_NAME }),
      redact: { paths: buildRedactPaths(), censor: REDACTED },
      serializers: { err: serializeError },
      hooks: { logMethod: scrubMessageArgs },
    },
    stream,
  );
}

function openDestination(logFile: string | null): DestinationStream {
  return pino.destination({ dest: logFile ?? 2, sync: true, mkdir: logFile !== null });
}

/** `YYYY-MM-DDTHH:MM:SS` in local time, without milliseconds or zone. */
export function formatLocalTimestamp(date: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** Cache of whether a logger has a `logger` binding, because bindings() parses JSON each call. */
const namedLoggers = new WeakMap<object, boolean>();

function hasOwnName(logger: unknown): boolean {
  const instance = logger as { bindings?: () => Record<string, unknown> };
  const cached = namedLoggers.get(instance);
  if (cached !== undefined) return cached;
  const named = typeof instance.bindings === 'function' && 'logger' in instance.bindings();
  namedLoggers.set(instance, named);
  return named;
}

function serializeError(err: unknown): unknown {
  const serialized = pino.stdSerializers.err(err as Error) as unknown;
  if (serialized === null || typeof serialized !== 'object') return serialized;
  const record = serialized as Record<string, unknown>;
  for (const field of ['message', 'stack']) {
    const value = record[field];
    if (typeof value === 'string') record[field] = redactUrl(value);
  }
  return record;
}

/** pino `logMethod` hook: scrubs URL credentials from the message and format arguments. */
function scrubMessageArgs(this: Logger, args: Parameters<pino.LogFn>, method: pino.LogFn): void {
  const scrubbed = (args as unknown[]).map((arg) =>
    typeof arg === 'string' ? redactUrl(arg) : arg,
  );
  method.apply(this, scrubbed as Parameters<pino.LogFn>);
}
