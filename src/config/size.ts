/**
 * Byte sizes from config files: a number of bytes, or a string with a decimal (`kB`, `MB`,
 * `GB`, powers of 1000) or binary (`KiB`, `MiB`, `GiB`, powers of 1024) unit.
 */

const SIZE_PATTERN = /^(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)$/i;

const UNIT_BYTES: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

const SIZE_HINT = "use a number of bytes or a string such as '512KiB', '10MiB' or '1MB'";

/** Converts a size to whole bytes (rounded down), or returns an error message. */
export function parseSizeBytes(value: unknown): number | { error: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      return { error: `Invalid size '${value}': must be a number of bytes >= 0` };
    }
    return Math.floor(value);
  }
  if (typeof value !== 'string') return { error: `Invalid size: ${SIZE_HINT}` };
  const match = SIZE_PATTERN.exec(value.trim());
  const factor = match ? UNIT_BYTES[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || factor === undefined) return { error: `Invalid size '${value}': ${SIZE_HINT}` };
  return Math.floor(Number(match[1]) * factor);
}
