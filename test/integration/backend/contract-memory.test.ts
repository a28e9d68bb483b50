import { MemoryBackend } from '../../../src/backend/memory-backend.js';
import { runBackendContract } from './contract.js';

runBackendContract(
  'memory',
  async ({ leaseTtlMs, events }) => new MemoryBackend({ leaseTtlMs, events }),
);
