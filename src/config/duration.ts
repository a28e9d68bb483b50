/**
 * Duration values from config files and env vars. A bare number (or a numeric string) is
 * seconds; strings may carry one of the suffixes `ms`, `s`, `m` or `h`, with fractions.
 */

const DURATION_PATTERN = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(ms|s|m|h)?$/i;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export const DURATION_HINT =
  "use seconds as a number or a string such as '250ms', '2s', '5m' or '1h'";

/** Converts a duration to milliseconds, or returns an error message naming the value. */
export function parseDurationMs(value: unknown): number | { error: string } {
  if (typeof value === 'number') return secondsToMs(value, String(value));
  if (typeof value !== 'string') {
    return { error: `Invalid duration ${describe(value)}: ${DURATION_HINT}` };
  }
  const text = value.trim();
  // The regex tries `ms` before `m` and `s` because alternation is ordered.
  const match = DURATION_PATTERN.exec(text);
  if (!match) return { error: `Invalid duration '${value}': ${DURATION_HINT}` };
  const amount = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  if (amount < 0) return { error: `Invalid duration '${value}': must not be negative` };
  return amount * (UNIT_MS[unit] ?? 1000);
}

function secondsToMs(seconds: number, shown: string): number | { error: string } {
  if (!Number.isFinite(seconds)) return { error: `Invalid duration '${shown}': ${DURATION_HINT}` };
  if (seconds < 0) return { error: `Invalid duration '${shown}': must not be negative` };
  return seconds * 1000;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return Array.isArray(value) ? 'of type list' : 'of type mapping';
  return `'${String(value)}'`;
}
