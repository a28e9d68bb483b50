/**
 * The measuring loop. Every case starts first and stays up. Then each (body size, connections)
 * cell is measured for every case in turn, baseline first, once per round. Interleaving keeps the baseline and
 * the cases compared with it close in time, which matters on a machine that other work shares.
 */
import type { BenchCase, BenchEnv, RunningCase } from './cases/types.js';
import { errorCount, readCpuMs, readPeakRssBytes, resetPeakRss, runLoad } from './measure.js';
import type { BodySize } from './peers/target.js';
import { SIZE_LABEL, type BenchRun, type CellResult } from './report/results.js';

export interface RunnerOptions {
  cases: BenchCase[];
  durationSec: number;
  warmupSec: number;
  /** Times each cell is measured; the report keeps the round with the median throughput. */
  rounds: number;
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

function formatFigures(cell: CellResult): string {
  const figures = cell.figures;
  if (figures === null) return `not run: ${cell.error?.split('\n')[0]}`;
  const cpu =
    cell.cpuUsPerRequest === null ? '' : `, CPU ${cell.cpuUsPerRequest.toFixed(1)} µs/req`;
  const errors = errorCount(figures.errors);
  return (
    `${Math.round(figures.requestsPerSec)} req/s, p50 ${figures.p50Ms.toFixed(3)} ms, ` +
    `p99 ${figures.p99Ms.toFixed(3)} ms${cpu}${errors > 0 ? `, ${errors} errors` : ''}`
  );
}

/** Measures one cell: CPU time and peak RSS of the case's process around one wrk run. */
async function measureCell(
  env: BenchEnv,
  run: BenchRun,
  entry: BenchCase,
  running: RunningCase,
  connections: number,
  size: BodySize,
  durationSec: number,
): Promise<CellResult> {
  const base = { caseId: entry.id, label: entry.label, connections, size };
  const pid = running.pid;
  if (pid !== null && !resetPeakRss(pid)) run.peakRssPerWindow = false;
  const cpuBeforeMs = pid === null ? 0 : readCpuMs(pid);
  try {
    const request = running.request(size);
    const figures = await runLoad({ request, connections, durationSec, scriptDir: env.dir });
    const cpuUsPerRequest =
      pid === null || figures.requests === 0
        ? null
        : ((readCpuMs(pid) - cpuBeforeMs) * 1000) / figures.requests;
    const peakRssBytes = pid === null ? null : readPeakRssBytes(pid);
    const roundRequestsPerSec = [figures.requestsPerSec];
    return { ...base, figures, cpuUsPerRequest, peakRssBytes, error: null, roundRequestsPerSec };
  } catch (err) {
    const error = (err as Error).message;
    const failed = { figures: null, cpuUsPerRequest: null, peakRssBytes: null, error };
    return { ...base, ...failed, roundRequestsPerSec: [] };
  }
}

/** Starts every case at once; a case that fails to start maps to its error. */
async function startAll(
  env: BenchEnv,
  cases: BenchCase[],
): Promise<Map<string, RunningCase | Error>> {
  progress(`== starting ${cases.map((entry) => entry.id).join(', ')}`);
  const outcomes = await Promise.all(
    cases.map((entry) =>
      entry.start(env).catch((err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        progress(`   ${entry.label}: start failed: ${error.message}`);
        return error;
      }),
    ),
  );
  return new Map(cases.map((entry, index) => [entry.id, outcomes[index] as RunningCase | Error]));
}

function failedCell(entry: BenchCase, connections: number, size: BodySize, err: Error): CellResult {
  return {
    caseId: entry.id,
    label: entry.label,
    connections,
    size,
    figures: null,
    cpuUsPerRequest: null,
    peakRssBytes: null,
    error: `start failed: ${err.message}`,
    roundRequestsPerSec: [],
  };
}

/** Returns the round with the median throughput; with an even count, the lower middle one. */
function medianRound(rounds: CellResult[]): CellResult {
  const measured = rounds.filter((round) => round.figures !== null);
  if (measured.length === 0) return rounds[0] as CellResult;
  const sorted = [...measured].sort(
    (a, b) => (a.figures?.requestsPerSec ?? 0) - (b.figures?.requestsPerSec ?? 0),
  );
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as CellResult;
  const roundRequestsPerSec = rounds.map((round) => round.figures?.requestsPerSec ?? 0);
  return { ...median, roundRequestsPerSec };
}

async function warmUp(
  env: BenchEnv,
  run: BenchRun,
  cases: BenchCase[],
  started: Map<string, RunningCase | Error>,
  size: BodySize,
  warmupSec: number,
): Promise<void> {
  for (const entry of cases) {
    const running = started.get(entry.id);
    if (running === undefined || running instanceof Error) continue;
    progress(`   warm-up ${warmupSec} s: ${entry.label}, ${SIZE_LABEL[size]}`);
    const request = running.request(size);
    const connections = Math.max(...run.connections);
    // A failed warm-up shows up again, with its error, in the measured rounds.
    await runLoad({ request, connections, durationSec: warmupSec, scriptDir: env.dir }).catch(
      () => null,
    );
  }
}

/**
 * Measures every cell of `run` in `options.rounds` interleaved rounds and appends, per cell,
 * the round with the median throughput to `run.cells`.
 */
export async function runCases(
  env: BenchEnv,
  run: BenchRun,
  options: RunnerOptions,
): Promise<void> {
  const { cases, durationSec, warmupSec, rounds } = options;
  const started = await startAll(env, cases);
  const total = cases.length * run.connections.length * run.sizes.length * rounds;
  let done = 0;
  try {
    for (const size of run.sizes) {
      if (warmupSec > 0) await warmUp(env, run, cases, started, size, warmupSec);
      for (const connections of run.connections) {
        const roundsByCase = new Map<string, CellResult[]>(cases.map((entry) => [entry.id, []]));
        for (let round = 1; round <= rounds; round++) {
          for (const entry of cases) {
            done++;
            const running = started.get(entry.id) as RunningCase | Error;
            if (running instanceof Error) {
              roundsByCase.get(entry.id)?.push(failedCell(entry, connections, size, running));
              continue;
            }
            const leftSec = (total - done + 1) * durationSec;
            const cellName = `${entry.label}, ${connections} conn, ${SIZE_LABEL[size]}, round ${round}/${rounds}`;
            progress(
              `[${done}/${total}] ${cellName}: ${durationSec} s (about ${leftSec} s of load left)`,
            );
            const cell = await measureCell(
              env,
              run,
              entry,
              running,
              connections,
              size,
              durationSec,
            );
            roundsByCase.get(entry.id)?.push(cell);
            progress(`      ${formatFigures(cell)}`);
          }
        }
        for (const entry of cases) run.cells.push(medianRound(roundsByCase.get(entry.id) ?? []));
      }
    }
  } finally {
    const stops = [...started.values()].map((running) =>
      running instanceof Error ? null : running.stop(),
    );
    await Promise.all(stops);
  }
}
