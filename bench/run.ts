/**
 * Benchmark CLI. `npm run bench` runs every case at 1 and 64 connections with 1 KiB and 1 MiB
 * responses and writes BENCHMARKS.md and docs/bench.svg. `npm run bench:smoke` runs each case
 * for 1 s at 8 connections with 1 KiB responses and checks that every case served requests
 * without errors. It exits 1 otherwise and writes no report. Progress goes to stderr, the
 * summary to stdout.
 *
 * Options: --smoke, --duration <s>, --rounds <n>, --warmup <s>, --cases <id,id,...>,
 * --connections <n,n,...>, --sizes <small,large>, --no-build, --profile (run the systems
 * under test with --cpu-prof and print where their time goes), --keep (keep the scratch dir
 * with every config and log), and --render <run.json>. The last one writes BENCHMARKS.md and
 * docs/bench.svg again from a saved run, for example after editing bench/analysis.md.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ALL_CASES } from './cases/index.js';
import type { BenchCase, BenchEnv } from './cases/types.js';
import { errorCount } from './measure.js';
import { runCases } from './runner.js';
import { startJwksIssuer } from './peers/jwks.js';
import { startSquid } from './peers/squid.js';
import { startTarget, type BodySize } from './peers/target.js';
import { evaluateGoals, goalVerdict } from './report/goals.js';
import { renderMarkdown } from './report/markdown.js';
import { summarizeProfiles } from './report/profile.js';
import { SIZE_LABEL, type BenchRun, type MachineInfo } from './report/results.js';
import { renderSvg } from './report/svg.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = path.join(repoRoot, 'bench', 'results');

interface Options {
  smoke: boolean;
  durationSec: number;
  warmupSec: number;
  rounds: number;
  cases: BenchCase[];
  /** True when no --cases, --connections or --sizes narrowed the run. */
  fullMatrix: boolean;
  profile: boolean;
  build: boolean;
  connections: number[];
  sizes: BodySize[];
  renderFrom: string | null;
  /** Keep the scratch dir (configs and logs of every process) after a successful run. */
  keepScratch: boolean;
}

function parseConnections(text: string | undefined): number[] | null {
  if (text === undefined) return null;
  const counts = text.split(',').map(Number);
  if (counts.some((count) => !Number.isInteger(count) || count < 1 || count > 1024)) {
    throw new Error(`--connections must list whole numbers from 1 to 1024, got ${text}`);
  }
  return counts;
}

function parseSizes(text: string | undefined): BodySize[] | null {
  if (text === undefined) return null;
  const sizes = text.split(',');
  if (sizes.some((size) => size !== 'small' && size !== 'large')) {
    throw new Error(`--sizes must list small and/or large, got ${text}`);
  }
  return sizes as BodySize[];
}

/** Parses a whole-number option, or returns `fallback` when the option is absent. */
function wholeNumber(
  flag: string,
  text: string | undefined,
  fallback: number,
  range: [number, number],
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  const [min, max] = range;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${flag} must be a whole number from ${min} to ${max}, got ${text}`);
  }
  return value;
}

function parseCases(text: string | undefined): BenchCase[] | null {
  if (text === undefined) return null;
  const ids = text.split(',').map((id) => id.trim());
  const unknown = ids.filter((id) => !ALL_CASES.some((entry) => entry.id === id));
  if (unknown.length > 0) {
    const known = ALL_CASES.map((entry) => entry.id).join(', ');
    throw new Error(`unknown case ${unknown.join(', ')} in --cases; known cases: ${known}`);
  }
  return ALL_CASES.filter((entry) => ids.includes(entry.id));
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean', default: false },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      cases: { type: 'string' },
      connections: { type: 'string' },
      sizes: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      render: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const smoke = values.smoke ?? false;
  const cases = parseCases(values.cases);
  const narrowed = cases !== null || values.connections !== undefined || values.sizes !== undefined;
  return {
    smoke,
    durationSec: wholeNumber('--duration', values.duration, smoke ? 1 : 3, [1, 120]),
    warmupSec: wholeNumber('--warmup', values.warmup, smoke ? 0 : 2, [0, 60]),
    rounds: wholeNumber('--rounds', values.rounds, smoke ? 1 : 5, [1, 9]),
    cases: cases ?? ALL_CASES,
    fullMatrix: !narrowed,
    profile: values.profile ?? false,
    build: !(values['no-build'] ?? false),
    connections: parseConnections(values.connections) ?? (smoke ? [8] : [1, 64]),
    sizes: parseSizes(values.sizes) ?? (smoke ? ['small'] : ['small', 'large']),
    renderFrom: values.render ?? null,
    keepScratch: values.keep ?? false,
  };
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

function readMachine(): MachineInfo {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model =
    /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    cpuModel: model,
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    nodeVersion: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

/** Returns the 1, 5 and 15 minute load averages from /proc/loadavg. */
function readLoadAverage(): string {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** Builds dist/ with `npm run build`; a full run always does, a smoke run only when it is missing. */
function ensureBuild(options: Options): void {
  const distEntry = path.join(repoRoot, 'dist', 'cli', 'main.js');
  const needsProxyHopper = options.cases.some((entry) => entry.id.startsWith('proxy-hopper'));
  if (!needsProxyHopper || !options.build) return;
  if (options.smoke && fs.existsSync(distEntry)) return;
  progress('building dist/ (npm run build) ...');
  const result = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, encoding: 'utf8' });
  if (result.status !== 0) {
    // tsc still writes dist/ when it reports type errors, so the cases may run anyway.
    progress(
      `npm run build exited with ${result.status}:\n${(result.stdout + result.stderr).slice(-2000)}`,
    );
  }
}

function smokeFailures(run: BenchRun): string[] {
  const failures: string[] = [];
  for (const cell of run.cells) {
    const name = `${cell.label}, ${cell.connections} conn, ${SIZE_LABEL[cell.size]}`;
    if (cell.figures === null) failures.push(`${name}: ${cell.error}`);
    else if (cell.figures.requests === 0) failures.push(`${name}: no requests completed`);
    else if (errorCount(cell.figures.errors) > 0) {
      failures.push(`${name}: errors ${JSON.stringify(cell.figures.errors)}`);
    }
  }
  return failures;
}

function saveRun(run: BenchRun): string {
  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = run.startedAt.toISOString().replace(/[:.]/g, '-');
  const file = path.join(resultsDir, `run-${stamp}.json`);
  fs.writeFileSync(file, JSON.stringify(run, null, 2));
  return path.relative(repoRoot, file);
}

function loadRun(file: string): BenchRun {
  const run = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchRun & { startedAt: string };
  return { ...run, startedAt: new Date(run.startedAt) };
}

function writeReports(run: BenchRun): void {
  const goals = evaluateGoals(run);
  const analysisPath = path.join(repoRoot, 'bench', 'analysis.md');
  const analysis = fs.existsSync(analysisPath) ? fs.readFileSync(analysisPath, 'utf8') : null;
  fs.mkdirSync(path.join(repoRoot, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(repoRoot, 'docs', 'bench.svg'), renderSvg(run));
  fs.writeFileSync(
    path.join(repoRoot, 'BENCHMARKS.md'),
    renderMarkdown(run, goals, 'docs/bench.svg', analysis),
  );
  progress('wrote BENCHMARKS.md and docs/bench.svg');
  for (const goal of goals) {
    const met = goalVerdict(goal);
    console.log(`${met.padEnd(12)} ${goal.goal} [${goal.scenario}]: ${goal.measured}`);
  }
}

function removeScratch(options: Options, dir: string): void {
  if (options.keepScratch) progress(`scratch dir kept: ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options.renderFrom !== null) {
    writeReports(loadRun(options.renderFrom));
    return 0;
  }
  const startedAt = new Date();
  ensureBuild(options);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-hopper-bench-'));
  const cpuProfileDir = options.profile ? path.join(resultsDir, 'profiles') : null;
  if (cpuProfileDir) {
    fs.rmSync(cpuProfileDir, { recursive: true, force: true });
    fs.mkdirSync(cpuProfileDir, { recursive: true });
  }

  const upstreamPorts = Math.max(...options.connections);
  progress(
    `scratch dir ${dir}; starting target, JWKS issuer and squid with ${upstreamPorts} ports ...`,
  );
  const target = await startTarget();
  const jwks = await startJwksIssuer();
  const squid = await startSquid(dir, upstreamPorts);
  const env: BenchEnv = { dir, repoRoot, target, squid, jwks, cpuProfileDir };
  const run: BenchRun = {
    startedAt,
    command: `npm run ${options.smoke ? 'bench:smoke' : 'bench'}${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    durationSec: options.durationSec,
    warmupSec: options.warmupSec,
    rounds: options.rounds,
    upstreamPorts,
    machine: readMachine(),
    cases: options.cases.map(({ id, label, description }) => ({ id, label, description })),
    connections: options.connections,
    sizes: options.sizes,
    cells: [],
    peakRssPerWindow: true,
    loadAverageAtStart: readLoadAverage(),
    loadAverageAtEnd: '',
  };
  try {
    await runCases(env, run, {
      cases: options.cases,
      durationSec: options.durationSec,
      warmupSec: options.warmupSec,
      rounds: options.rounds,
    });
  } finally {
    run.loadAverageAtEnd = readLoadAverage();
    await squid.stop();
    await jwks.close();
    await target.close();
  }

  if (cpuProfileDir) console.log(summarizeProfiles(cpuProfileDir));
  if (options.smoke) {
    const failures = smokeFailures(run);
    for (const failure of failures) console.log(`FAIL ${failure}`);
    if (failures.length > 0) {
      console.log(
        `bench smoke: ${failures.length} of ${run.cells.length} cells failed; logs in ${dir}`,
      );
      return 1;
    }
    console.log(`bench smoke: ${run.cells.length} cells OK`);
    removeScratch(options, dir);
    return 0;
  }
  const saved = saveRun(run);
  progress(`figures saved to ${saved}`);
  if (options.fullMatrix) writeReports(run);
  else progress('--cases, --connections or --sizes given, so BENCHMARKS.md is left as it is');
  removeScratch(options, dir);
  return 0;
}

process.once('SIGINT', () => process.exit(130));
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
