import { after, before } from 'node:test';
import { RedisBackend } from '../../../src/backend/redis/redis-backend.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { runBackendContract } from './contract.js';

let server: RedisServerHandle;
let prefixes = 0;

before(async () => {
  server = await startRedisServer({ password: 'contract-pw' });
});

after(async () => {
  await server.stop();
});

runBackendContract('redis', async ({ leaseTtlMs, events }) => {
  prefixes += 1;
  return new RedisBackend({
    url: server.url,
    keyPrefix: `contract${prefixes}`,
    leaseTtlMs,
    events,
  });
});
