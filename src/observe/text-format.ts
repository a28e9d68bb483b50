/**
 * The `text` log format: a synchronous stream that turns each pino JSON line into
 * `<timestamp> [<LEVEL padded to 8>] <logger>: <message> key=value ...`, one line per entry.
 */
import type { DestinationStream } from 'pino';

const HEADER_KEYS = new Set(['timestamp', 'level', 'logger', 'message']);
/** Values written without quotes: no spaces, quotes, `=` or control characters. */
const BARE_VALUE = /^[^\s"=\\]+$/;

/** Wraps `sink` so that every JSON line written to the result reaches it as a text line. */
export function createTextStream(sink: DestinationStream): DestinationStream {
  return {
    write(line: string): void {
      sink.write(formatTextLine(line));
    },
  };
}

/** Formats one pino JSON line; a line that is not JSON is passed through unchanged. */
export function formatTextLine(jsonLine: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    // Only pino writes here, so a non-JSON line is already text; keep it rather than lose it.
    return jsonLine.endsWith('\n') ? jsonLine : `${jsonLine}\n`;
  }

  const level = String(entry.level ?? '');
  const head = `${String(entry.timestamp ?? '')} [${level.padEnd(8)}] ${String(entry.logger ?? '')}:`;
  const parts = [head];
  if (entry.message !== undefined) parts.push(String(entry.message));

  for (const [key, value] of Object.entries(entry)) {
    if (HEADER_KEYS.has(key) || value === undefined) continue;
    if (key === 'err') parts.push(...formatError(value, level));
    else parts.push(`${key}=${formatValue(value)}`);
  }
  return `${parts.join(' ')}\n`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return BARE_VALUE.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return String(value);
  }
  return JSON.stringify(value);
}

/** `err="TypeError: boom"` plus `code=`; the stack (escaped, one line) only on ERROR lines. */
function formatError(value: unknown, level: string): string[] {
  if (value === null || typeof value !== 'object') return [`err=${formatValue(value)}`];
  const err = value as Record<string, unknown>;
  const summary = `${String(err.type ?? 'Error')}: ${String(err.message ?? '')}`;
  const parts = [`err=${JSON.stringify(summary)}`];
  if (err.code !== undefined) parts.push(`err_code=${formatValue(err.code)}`);
  const withStack = level === 'ERROR' || level === 'CRITICAL';
  if (withStack && typeof err.stack === 'string') parts.push(`stack=${JSON.stringify(err.stack)}`);
  return parts;
}
