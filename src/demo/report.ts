/** The demo's closing table: one row per upstream IP, from target arrivals and events. */
import type { Arrival } from './demo-target.js';

export interface IpRow {
  label: string;
  sourceAddress: string;
  failures: number;
  quarantines: number;
  /** Start times of the attempts Proxy Hopper sent through this IP, in ms. */
  attemptStartsMs: number[];
}

export interface DemoSummary {
  rows: IpRow[];
  arrivals: Arrival[];
  minRequestIntervalMs: number;
}

export function renderTable(summary: DemoSummary): string {
  const header = [
    'upstream IP',
    'source',
    'answered',
    'failed',
    'quarantined',
    'min start gap',
    'min arrival gap',
    `spacing >= ${summary.minRequestIntervalMs} ms`,
  ];
  const lines: string[][] = [header];
  for (const row of summary.rows) {
    const times = summary.arrivals
      .filter((a) => a.remoteAddress === row.sourceAddress)
      .map((a) => a.atMs);
    const arrivalGap = minGap(times);
    const startGap = minGap(row.attemptStartsMs);
    // Attempt starts are what Proxy Hopper controls; arrivals add the upstream's forwarding time.
    const respected = startGap === null || startGap >= summary.minRequestIntervalMs;
    lines.push([
      row.label,
      row.sourceAddress,
      String(times.length),
      String(row.failures),
      row.quarantines > 0 ? `yes (${row.quarantines}x)` : 'no',
      startGap === null ? '-' : `${startGap.toFixed(0)} ms`,
      arrivalGap === null ? '-' : `${arrivalGap.toFixed(0)} ms`,
      respected ? 'yes' : 'NO',
    ]);
  }
  const widths = header.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  const format = (line: string[]): string =>
    line.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [format(lines[0]!), rule, ...lines.slice(1).map(format)].join('\n');
}

export function minGap(times: readonly number[]): number | null {
  const sorted = [...times].sort((a, b) => a - b);
  let min: number | null = null;
  for (let i = 1; i < sorted.length; i += 1) {
    const gap = sorted[i]! - sorted[i - 1]!;
    if (min === null || gap < min) min = gap;
  }
  return min;
}
