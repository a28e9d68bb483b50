/**
 * The performance goals and whether one run met them. These are benchmark goals, judged only
 * in the full run and recorded in BENCHMARKS.md; no test fails on them.
 */
import type { BodySize } from '../peers/target.js';
import { SIZE_LABEL, figuresOf, findCell, type BenchRun } from './results.js';

export interface GoalResult {
  goal: string;
  scenario: string;
  measured: string;
  /** null when a figure the goal needs was not measured. */
  met: boolean | null;
}

const MEMORY = 'proxy-hopper-memory';

/** Returns `met`, `missed` or `not measured`. */
export function goalVerdict(goal: GoalResult): string {
  if (goal.met === null) return 'not measured';
  return goal.met ? 'met' : 'missed';
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/** ` (CPU/req ×r)` comparing two cells' CPU time per request, or `` when either is missing. */
function cpuContext(run: BenchRun, cells: [string, string], connections: number, size: BodySize) {
  const subject = findCell(run, cells[0], connections, size)?.cpuUsPerRequest ?? null;
  const reference = findCell(run, cells[1], connections, size)?.cpuUsPerRequest ?? null;
  if (subject === null || reference === null || reference === 0) return '';
  return ` (CPU/req ×${(subject / reference).toFixed(2)})`;
}

/** Goal: the throughput of case `subjectId` is at least `minRatio` of `referenceId`'s. */
function ratioGoal(
  run: BenchRun,
  goal: string,
  cells: [subjectId: string, referenceId: string],
  size: BodySize,
  minRatio: number,
): GoalResult {
  const connections = 64;
  const scenario = `${connections} conn, ${SIZE_LABEL[size]}`;
  const subject = figuresOf(run, cells[0], connections, size);
  const reference = figuresOf(run, cells[1], connections, size);
  if (subject === null || reference === null || reference.requestsPerSec === 0) {
    return { goal, scenario, measured: 'not measured', met: null };
  }
  const ratio = subject.requestsPerSec / reference.requestsPerSec;
  const measured = `${percent(ratio)}${cpuContext(run, cells, connections, size)}`;
  return { goal, scenario, measured, met: ratio >= minRatio };
}

function medianLatencyGoal(run: BenchRun, size: BodySize): GoalResult {
  const goal = 'Added median latency at 1 connection < 0.3 ms over baseline';
  const scenario = `1 conn, ${SIZE_LABEL[size]}`;
  const subject = figuresOf(run, MEMORY, 1, size);
  const baseline = figuresOf(run, 'baseline', 1, size);
  if (subject === null || baseline === null) {
    return { goal, scenario, measured: 'not measured', met: null };
  }
  const addedMs = subject.p50Ms - baseline.p50Ms;
  const measured = `${addedMs >= 0 ? '+' : '−'}${Math.abs(addedMs).toFixed(3)} ms`;
  return { goal, scenario, measured, met: addedMs < 0.3 };
}

function proxyChainGoal(run: BenchRun, connections: number, size: BodySize): GoalResult {
  const goal = 'Ahead of proxy-chain on throughput and p99';
  const scenario = `${connections} conn, ${SIZE_LABEL[size]}`;
  const subject = figuresOf(run, MEMORY, connections, size);
  const peer = figuresOf(run, 'proxy-chain', connections, size);
  if (subject === null || peer === null || peer.requestsPerSec === 0) {
    return { goal, scenario, measured: 'not measured', met: null };
  }
  const throughputRatio = subject.requestsPerSec / peer.requestsPerSec;
  const p99Ratio = subject.p99Ms / peer.p99Ms;
  return {
    goal,
    scenario,
    measured:
      `req/s ×${throughputRatio.toFixed(2)}, p99 ×${p99Ratio.toFixed(2)}` +
      cpuContext(run, [MEMORY, 'proxy-chain'], connections, size),
    met: throughputRatio > 1 && p99Ratio < 1,
  };
}

/** Evaluates every goal on the figures of `run`. */
export function evaluateGoals(run: BenchRun): GoalResult[] {
  const results: GoalResult[] = [];
  for (const size of run.sizes) {
    const goal = 'Memory backend at 64 connections ≥ 85% of baseline throughput';
    results.push(ratioGoal(run, goal, [MEMORY, 'baseline'], size, 0.85));
  }
  for (const size of run.sizes) results.push(medianLatencyGoal(run, size));
  for (const connections of run.connections) {
    for (const size of run.sizes) results.push(proxyChainGoal(run, connections, size));
  }
  for (const [caseId, name] of [
    ['proxy-hopper-api-key', 'API key'],
    ['proxy-hopper-oidc', 'OIDC JWT'],
  ] as const) {
    for (const size of run.sizes) {
      const goal = `Auth on (${name}) costs < 5% throughput vs auth off`;
      results.push(ratioGoal(run, goal, [caseId, MEMORY], size, 0.95));
    }
  }
  for (const size of run.sizes) {
    const goal = 'Redis backend ≥ 70% of memory backend throughput at 64 connections';
    results.push(ratioGoal(run, goal, ['proxy-hopper-redis', MEMORY], size, 0.7));
  }
  return results;
}
