/** Figures of one benchmark run and lookups over them. */
import type { LoadFigures } from '../measure.js';
import type { BodySize } from '../peers/target.js';

/** One measured (case, connections, body size) cell. */
export interface CellResult {
  caseId: string;
  label: string;
  connections: number;
  size: BodySize;
  figures: LoadFigures | null;
  /** CPU time of the system under test per request, in microseconds; null for the baseline. */
  cpuUsPerRequest: number | null;
  peakRssBytes: number | null;
  /** Reason for missing figures (start failed, wrk failed), or null. */
  error: string | null;
  /** Throughput of every round of this cell; `figures` is from the median one. */
  roundRequestsPerSec: number[];
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  nodeVersion: string;
  os: string;
}

export interface BenchRun {
  startedAt: Date;
  command: string;
  durationSec: number;
  warmupSec: number;
  rounds: number;
  upstreamPorts: number;
  machine: MachineInfo;
  cases: { id: string; label: string; description: string }[];
  connections: number[];
  sizes: BodySize[];
  cells: CellResult[];
  /** Whether peak RSS covers each measured window only (clear_refs worked). */
  peakRssPerWindow: boolean;
  /** 1, 5 and 15 minute load averages of the machine when the run started and ended. */
  loadAverageAtStart: string;
  loadAverageAtEnd: string;
}

export function findCell(
  run: BenchRun,
  caseId: string,
  connections: number,
  size: BodySize,
): CellResult | undefined {
  return run.cells.find(
    (cell) => cell.caseId === caseId && cell.connections === connections && cell.size === size,
  );
}

/** Figures of a cell, or null when it was not measured. */
export function figuresOf(
  run: BenchRun,
  caseId: string,
  connections: number,
  size: BodySize,
): LoadFigures | null {
  return findCell(run, caseId, connections, size)?.figures ?? null;
}

export const SIZE_LABEL: Record<BodySize, string> = { small: '1 KiB', large: '1 MiB' };
