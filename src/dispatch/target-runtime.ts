import type { ResolvedIp, TargetConfig } from '../config/types.js';
import type { IpWaitQueue } from './ip-wait-queue.js';

/** A configured target with its wait queue and an address index of its pool. */
export interface TargetRuntime {
  config: TargetConfig;
  queue: IpWaitQueue;
  ipsByAddress: ReadonlyMap<string, ResolvedIp>;
}
