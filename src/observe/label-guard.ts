/**
 * Keeps metric label values bounded whatever clients send: free-text values are truncated and
 * capped in number, and target and IP labels are only accepted for configured targets and
 * addresses, so untrusted input can never grow the number of series.
 */
import type { TargetConfig } from '../config/types.js';

/** Label value for every value seen after the cap is reached. */
export const OVERFLOW_LABEL = '__other__';
/** Target label for requests that matched no configured target. */
export const UNMATCHED_TARGET = 'unmatched';

/** Truncates values to `maxLength` code points and admits at most `maxValues` distinct ones. */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(
    private readonly maxValues: number,
    private readonly maxLength: number,
  ) {}

  /** Returns the label value to record for `raw`. */
  value(raw: string): string {
    const value = raw.length > this.maxLength ? truncate(raw, this.maxLength) : raw;
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.maxValues) return OVERFLOW_LABEL;
    this.seen.add(value);
    return value;
  }

  get size(): number {
    return this.seen.size;
  }
}

function truncate(value: string, maxLength: number): string {
  // Slicing by code point keeps a surrogate pair whole at the cut.
  return Array.from(value).slice(0, maxLength).join('');
}

/**
 * The configured targets and their addresses. `source` is read on every lookup; a new array
 * (a reload or a runtime change) rebuilds the sets and calls `onChange`.
 */
export class ConfiguredLabels {
  private targets = new Map<string, Set<string>>();
  private addresses = new Set<string>();
  private lastSource: readonly TargetConfig[] | null = null;
  private signature = '';

  constructor(
    private readonly source: () => readonly TargetConfig[],
    private readonly onChange: () => void = () => {},
  ) {}

  /** Reads `source` again. Returns true when targets or addresses changed. */
  sync(): boolean {
    const targets = this.source();
    if (targets === this.lastSource) return false;
    this.lastSource = targets;

    const signature = targets
      .map((target) => `${target.name}=${target.ips.map((ip) => ip.address).join(',')}`)
      .join(';');
    if (signature === this.signature) return false;
    this.signature = signature;
    this.targets = new Map(
      targets.map((target) => [target.name, new Set(target.ips.map((ip) => ip.address))]),
    );
    this.addresses = new Set(targets.flatMap((target) => target.ips.map((ip) => ip.address)));
    this.onChange();
    return true;
  }

  hasTarget(target: string): boolean {
    this.sync();
    return this.targets.has(target);
  }

  hasIp(target: string, address: string): boolean {
    this.sync();
    return this.targets.get(target)?.has(address) ?? false;
  }

  hasAddress(address: string): boolean {
    this.sync();
    return this.addresses.has(address);
  }

  /** Returns the target label for a response: the configured name, or `unmatched` for others. */
  responseTarget(target: string): string {
    return this.hasTarget(target) ? target : UNMATCHED_TARGET;
  }

  targetNames(): string[] {
    this.sync();
    return [...this.targets.keys()];
  }
}
