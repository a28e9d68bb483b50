/** The shape every benchmark case has, and what cases get from the run. */
import type { LoadRequest } from '../measure.js';
import type { JwksIssuer } from '../peers/jwks.js';
import type { SquidPeer } from '../peers/squid.js';
import type { BodySize, TargetServer } from '../peers/target.js';

/** Peers shared by all cases of one run. */
export interface BenchEnv {
  /** Scratch dir of this run (configs, logs, wrk scripts). */
  dir: string;
  repoRoot: string;
  target: TargetServer;
  squid: SquidPeer;
  jwks: JwksIssuer;
  /** Run the system under test with `node --cpu-prof`, writing profiles to this dir. */
  cpuProfileDir: string | null;
}

/** A started system under test, ready for load. */
export interface RunningCase {
  /** Process whose CPU time and peak RSS are measured; null for the baseline. */
  pid: number | null;
  request(size: BodySize): LoadRequest;
  stop(): Promise<void>;
}

export interface BenchCase {
  id: string;
  /** Row label in the report. */
  label: string;
  /** One sentence on what is measured, for the report. */
  description: string;
  start(env: BenchEnv): Promise<RunningCase>;
}
