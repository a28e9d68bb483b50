/**
 * Zod field types shared by the config blocks. They accept what YAML and env vars produce
 * (numbers as numeric strings, booleans as `yes`/`on`/`1`) and fail with messages that name
 * the bad value.
 */
import { z } from 'zod';
import { parseDurationMs } from './duration.js';
import { parseSizeBytes } from './size.js';

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on', 'y', 't']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off', 'n', 'f']);

type Ctx = z.RefinementCtx;

function fail(ctx: Ctx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER as never;
}

/** Parses a boolean as pydantic does: true/false, 1/0, yes/no, on/off. */
export function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

export function boolField(defaultValue: boolean) {
  return z
    .unknown()
    .transform((value, ctx) => {
      const parsed = toBoolean(value);
      if (parsed === undefined)
        return fail(ctx, `Invalid boolean ${show(value)}: use true or false`);
      return parsed;
    })
    .default(defaultValue);
}

/** Parses an integer given as a number or a numeric string. */
export function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

export function intField(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.unknown().transform((value, ctx) => {
    const parsed = toInteger(value);
    if (value === undefined) return fail(ctx, 'is required');
    if (parsed === undefined) return fail(ctx, `Invalid integer ${show(value)}`);
    if (parsed < min || parsed > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      return fail(ctx, `Invalid value ${parsed}: must be ${range}`);
    }
    return parsed;
  });
}

export function durationMsField() {
  return z.unknown().transform((value, ctx) => {
    if (value === undefined) return fail(ctx, 'is required');
    const parsed = parseDurationMs(value);
    return typeof parsed === 'number' ? parsed : fail(ctx, parsed.error);
  });
}

export function sizeBytesField() {
  return z.unknown().transform((value, ctx) => {
    if (value === undefined) return fail(ctx, 'is required');
    const parsed = parseSizeBytes(value);
    return typeof parsed === 'number' ? parsed : fail(ctx, parsed.error);
  });
}

export function stringField() {
  return z.unknown().transform((value, ctx) => {
    if (typeof value === 'string') return value;
    if (value === undefined) return fail(ctx, 'is required');
    return fail(ctx, `Expected a string, got ${show(value)}. Put quotes around the value`);
  });
}

export function nonEmptyStringField() {
  return stringField().transform((value, ctx) =>
    value.trim() === '' ? fail(ctx, 'must not be empty') : value,
  );
}

/** Parses a list of strings. A single string is split on commas, as env vars and flags give it. */
export function stringListField() {
  return z.unknown().transform(toStringList);
}

/** Parses a string, giving undefined for a missing, null or empty value. */
export function optionalStringField() {
  return z
    .unknown()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === null || value === '') return undefined;
      if (typeof value === 'string') return value;
      return fail(ctx, `Expected a string, got ${show(value)}. Put quotes around the value`);
    });
}

export function toStringList(value: unknown, ctx: Ctx): string[] {
  if (value === undefined) return fail(ctx, 'is required');
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
  if (!Array.isArray(value)) return fail(ctx, `Expected a list of strings, got ${show(value)}`);
  const bad = value.find((item) => typeof item !== 'string');
  if (bad !== undefined)
    return fail(ctx, `Expected a list of strings, but it contains ${show(bad)}`);
  return value as string[];
}

/** Parses one of a fixed set of words, case-insensitively, and returns it in its listed case. */
export function choiceField<T extends string>(choices: readonly T[]) {
  return z.unknown().transform((value, ctx): T => {
    const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
    if (value === undefined) return fail(ctx, 'is required');
    const found = choices.find((choice) => choice.toLowerCase() === text);
    if (found !== undefined) return found;
    const listed = choices.map((choice) => `'${choice}'`).join(', ');
    return fail(ctx, `Invalid value ${show(value)}: use one of ${listed}`);
  });
}

/** Shows a config value in a message: strings quoted, lists and mappings by type. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}
