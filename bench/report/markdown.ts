/** Writes the figures of a full run as the Markdown page BENCHMARKS.md. */
import { goalVerdict, type GoalResult } from './goals.js';
import { errorCount, type LoadFigures } from '../measure.js';
import { SIZE_LABEL, findCell, type BenchRun, type CellResult } from './results.js';

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

function signed(value: number, digits: number): string {
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}`;
}

function thousands(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Throughput share, added median latency and p99 ratio against the baseline cell. */
function comparison(figures: LoadFigures, base: LoadFigures | null): string[] {
  if (base === null) return ['—', '—', '—'];
  return [
    `${fixed((figures.requestsPerSec / base.requestsPerSec) * 100, 1)}%`,
    signed(figures.p50Ms - base.p50Ms, 3),
    `×${fixed(figures.p99Ms / base.p99Ms, 2)}`,
  ];
}

function cellRow(cell: CellResult, baseline: CellResult | undefined): string {
  const scenario = [String(cell.connections), SIZE_LABEL[cell.size]];
  const figures = cell.figures;
  if (figures === null) {
    const reason = (cell.error ?? 'not measured').split('\n')[0]?.slice(0, 120) ?? '';
    return tableRow([cell.label, ...scenario, ...Array(9).fill('—'), `not run: ${reason}`]);
  }

  const base = cell.caseId === 'baseline' ? null : (baseline?.figures ?? null);
  const [throughputShare, addedP50, p99Ratio] = comparison(figures, base);
  const cpu = cell.cpuUsPerRequest === null ? '—' : fixed(cell.cpuUsPerRequest, 1);
  const rss = cell.peakRssBytes === null ? '—' : fixed(cell.peakRssBytes / 2 ** 20, 0);
  const errors = errorCount(figures.errors);
  return tableRow([
    cell.label,
    ...scenario,
    thousands(figures.requestsPerSec),
    roundRange(cell.roundRequestsPerSec),
    throughputShare as string,
    fixed(figures.p50Ms, 3),
    addedP50 as string,
    fixed(figures.p99Ms, 3),
    p99Ratio as string,
    cpu,
    rss,
    errors === 0 ? '0' : `${errors} (${JSON.stringify(figures.errors)})`,
  ]);
}

/** Lowest and highest throughput over the rounds of a cell, as `min–max`. */
function roundRange(roundRequestsPerSec: number[] | undefined): string {
  if (roundRequestsPerSec === undefined || roundRequestsPerSec.length < 2) return '—';
  const low = thousands(Math.min(...roundRequestsPerSec));
  const high = thousands(Math.max(...roundRequestsPerSec));
  return `${low}–${high}`;
}

function tableRow(columns: string[]): string {
  return `| ${columns.join(' | ')} |`;
}

function figuresTable(run: BenchRun): string[] {
  const lines = [
    '| Case | Conns | Body | req/s | rounds req/s | vs baseline | p50 ms | p50 added ms | p99 ms | p99 vs baseline | CPU µs/req | peak RSS MiB | errors |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const connections of run.connections) {
    for (const size of run.sizes) {
      const baseline = findCell(run, 'baseline', connections, size);
      for (const { id } of run.cases) {
        const cell = findCell(run, id, connections, size);
        if (cell) lines.push(cellRow(cell, baseline));
      }
    }
  }
  return lines;
}

function goalsTable(goals: GoalResult[]): string[] {
  const lines = ['| Goal | Scenario | Measured | Met |', '|---|---|---|---|'];
  for (const goal of goals) {
    const met = goalVerdict(goal);
    lines.push(`| ${goal.goal} | ${goal.scenario} | ${goal.measured} | ${met} |`);
  }
  return lines;
}

function setupSection(run: BenchRun): string[] {
  const { machine } = run;
  return [
    `- Date: ${run.startedAt.toISOString().replace('T', ' ').slice(0, 16)} UTC`,
    `- Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ${machine.os}`,
    `- Node: ${machine.nodeVersion}`,
    `- Load average (1, 5, 15 min) at start: ${run.loadAverageAtStart}; at end: ${run.loadAverageAtEnd}.`,
    `- Command: \`${run.command}\``,
    `- Each cell: ${run.warmupSec} s warm-up per case and body size (not counted), then ` +
      `${run.rounds} rounds of ${run.durationSec} s of load from wrk (1 thread per ` +
      'connection, at most one per core). The rounds of all cases take turns, and the table ' +
      'shows the round with the median throughput, with the range over all rounds.',
    `- Upstream: one squid with ${run.upstreamPorts} \`http_port\` lines and basic auth; ` +
      'the pool of Proxy Hopper and the round-robin list of proxy-chain hold every port.',
    '- Load generator, system under test, squid and the target share the same cores, and ' +
      'other work on the machine may run at the same time (see the load average). The ' +
      'figures compare cases within this run. They are not the capacity of a dedicated server.',
    '- CPU µs/req: user + system CPU time of the system-under-test process (all threads) ' +
      'from /proc/<pid>/stat over the measured window, divided by the requests served.',
    `- Peak RSS: VmHWM of that process, ${run.peakRssPerWindow ? 'reset before each measured window' : 'over the whole life of the process'}.`,
  ];
}

/** Returns the whole BENCHMARKS.md text; `analysis` is hand-written Markdown added at the end. */
export function renderMarkdown(
  run: BenchRun,
  goals: GoalResult[],
  chartPath: string,
  analysis: string | null,
): string {
  const caseLines = run.cases.map((entry) => `- **${entry.label}**: ${entry.description}`);
  const sections = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts). Loopback only. Rerun it to refresh this page; ' +
      '`npm run bench:smoke` is the short check that CI runs and writes nothing.',
    '',
    '## Setup',
    '',
    ...setupSection(run),
    '',
    '## Cases',
    '',
    ...caseLines,
    '',
    '## Figures',
    '',
    `![Requests per second and p99 latency per case](${chartPath})`,
    '',
    ...figuresTable(run),
    '',
    '## Goals',
    '',
    'Goals of the benchmark, checked on the figures above; no test fails on them.',
    '',
    ...goalsTable(goals),
    '',
  ];
  if (analysis !== null) sections.push(analysis.trim(), '');
  return sections.join('\n');
}
