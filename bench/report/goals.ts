/**
 * The performance goals and whether one run met them. These are benchmark goals, judged only
 * in the full run and recorded in BENCHMARKS.md; no test fails on them.
 */
import type { LoadFigures } from '../measure.js';
import type { BodySize } from '../peers/target.js';
import { SIZE_LABEL, figuresOf, type BenchRun } from './results.js';

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

function ratioGoal(
  goal: string,
  scenario: string,
  subject: LoadFigures | null,
  reference: LoadFigures | null,
  minRatio: number,
): GoalResult {
  if (subject === null || reference === null || reference.requestsPerSec === 0) {
    return { goal, scenario, measured: 'not measured', met: null };
  }
  const ratio = subject.requestsPerSec / reference.requestsPerSec;
  return { goal, scenario, measured: percent(ratio), met: ratio >= minRatio };
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
  return { goal, scenario, measured: `+${addedMs.toFixed(3)} ms`, met: addedMs < 0.3 };
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
    measured: `req/s ×${throughputRatio.toFixed(2)}, p99 ×${p99Ratio.toFixed(2)}`,
    met: throughputRatio > 1 && p99Ratio < 1,
  };
}

/** Evaluates every goal on the figures of `run`. */
export function evaluateGoals(run: BenchRun): GoalResult[] {
  const results: GoalResult[] = [];
  for (const size of run.sizes) {
    results.push(
      ratioGoal(
        'Memory backend at 64 connections ≥ 85% of baseline throughput',
        `64 conn, ${SIZE_LABEL[size]}`,
        figuresOf(run, MEMORY, 64, size),
        figuresOf(run, 'baseline', 64, size),
        0.85,
      ),
    );
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
      results.push(
        ratioGoal(
          `Auth on (${name}) costs < 5% throughput vs auth off`,
          `64 conn, ${SIZE_LABEL[size]}`,
          figuresOf(run, caseId, 64, size),
          figuresOf(run, MEMORY, 64, size),
          0.95,
        ),
      );
    }
  }
  for (const size of run.sizes) {
    results.push(
      ratioGoal(
        'Redis backend ≥ 70% of memory backend throughput at 64 connections',
        `64 conn, ${SIZE_LABEL[size]}`,
        figuresOf(run, 'proxy-hopper-redis', 64, size),
        figuresOf(run, MEMORY, 64, size),
        0.7,
      ),
    );
  }
  return results;
}
