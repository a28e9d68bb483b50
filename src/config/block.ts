/** Runs one zod schema over one config block and turns its issues into ConfigIssues. */
import type { z } from 'zod';
import type { ConfigIssue } from '../errors/index.js';
import { show } from './fields.js';
import { formatPath, isPlainObject } from './keys.js';

/** Returns the parsed block, or undefined after adding every problem in it to `issues`. */
export function parseBlock<S extends z.ZodType>(
  schema: S,
  value: unknown,
  path: readonly PropertyKey[],
  issues: ConfigIssue[],
): z.output<S> | undefined {
  const result = schema.safeParse(value, { error: describeIssue });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    issues.push({ path: formatPath([...path, ...issue.path]), message: issue.message });
  }
  return undefined;
}

type ShapeOutput<Shape extends Record<string, z.ZodType>> = {
  [K in keyof Shape]: z.output<Shape[K]>;
};

export interface ShapeResult<Shape extends Record<string, z.ZodType>> {
  /** Every field that parsed, so cross-block checks still run on a partly broken entry. */
  fields: Partial<ShapeOutput<Shape>>;
  /** The whole entry, when every field parsed. */
  complete: ShapeOutput<Shape> | undefined;
}

/**
 * Parses a mapping field by field against `shape`. Unlike one object schema, a bad field does
 * not hide the others, so the caller can still check names and references.
 */
export function parseShape<Shape extends Record<string, z.ZodType>>(
  shape: Shape,
  value: unknown,
  path: readonly PropertyKey[],
  issues: ConfigIssue[],
): ShapeResult<Shape> {
  if (!isPlainObject(value)) {
    issues.push({ path: formatPath(path), message: `Expected a mapping, got ${show(value)}` });
    return { fields: {}, complete: undefined };
  }
  const fields: Record<string, unknown> = {};
  let ok = true;
  for (const [key, schema] of Object.entries(shape)) {
    const parsed = parseBlock(schema, value[key], [...path, key], issues);
    if (parsed === undefined && !acceptsUndefined(schema, value[key])) ok = false;
    else fields[key] = parsed;
  }
  const typed = fields as Partial<ShapeOutput<Shape>>;
  return { fields: typed, complete: ok ? (typed as ShapeOutput<Shape>) : undefined };
}

/** Tells a field whose value is legitimately undefined from one that failed. */
function acceptsUndefined(schema: z.ZodType, value: unknown): boolean {
  return schema.safeParse(value).success;
}

/** Messages for the issues that zod raises itself, in the words the rest of the loader uses. */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'invalid_type') return undefined;
  if (issue.input === undefined) return 'is required';
  const expected =
    issue.expected === 'object'
      ? 'a mapping'
      : issue.expected === 'array'
        ? 'a list'
        : issue.expected;
  return `Expected ${expected}, got ${show(issue.input)}`;
}

/** Adds an issue for each key of `value` not in `allowed`, with the closest valid names. */
export function checkKeys(
  value: unknown,
  allowed: readonly string[],
  path: readonly PropertyKey[],
  issues: ConfigIssue[],
): void {
  if (!isPlainObject(value)) return;
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    issues.push({ path: formatPath([...path, key]), message: unknownKeyMessage(key, allowed) });
  }
}

export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const close = closestNames(key, allowed);
  if (close.length > 0) {
    return `Unknown key '${key}'. Did you mean ${close.map((name) => `'${name}'`).join(' or ')}?`;
  }
  return `Unknown key '${key}'. Valid keys: ${allowed.map((name) => `'${name}'`).join(', ')}`;
}

/**
 * Names at the smallest edit distance from `key` (case-insensitive), at most three, when that
 * distance is small enough to be a typo.
 */
export function closestNames(key: string, allowed: readonly string[]): string[] {
  const lower = key.toLowerCase();
  const limit = Math.max(2, Math.floor(key.length / 3));
  const scored = allowed.map((name) => ({
    name,
    distance: editDistance(lower, name.toLowerCase()),
  }));
  const best = Math.min(...scored.map((entry) => entry.distance));
  if (best > limit) return [];
  return scored
    .filter((entry) => entry.distance === best)
    .slice(0, 3)
    .map((entry) => entry.name);
}

/** Edit distance that counts a swap of two neighbouring letters as one edit (`prot`, `port`). */
function editDistance(a: string, b: string): number {
  // rows[i][j] is the distance between the first i letters of a and the first j of b.
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i += 1) {
    const row = new Array<number>(b.length + 1).fill(0);
    row[0] = i;
    rows.push(row);
  }
  for (let j = 0; j <= b.length; j += 1) (rows[0] as number[])[j] = j;
  const at = (i: number, j: number) => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}
