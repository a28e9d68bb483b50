/**
 * Child process for the crash test: leases one IP through its own Redis backend, prints the
 * lease as one JSON line and then idles until the test SIGKILLs it (or 30 s pass).
 */
import { RedisBackend } from '../../../../src/backend/redis/redis-backend.js';
import { poolSpec, ip } from '../contract.js';

const [url = '', keyPrefix = '', leaseTtlMs = '300'] = process.argv.slice(2);
const backend = new RedisBackend({ url, keyPrefix, leaseTtlMs: Number(leaseTtlMs) });
await backend.start();
await backend.syncTarget(poolSpec({ target: 'crash', ips: [ip('10.0.0.9:3128')] }));
const result = await backend.tryAcquire('crash', new Set());
process.stdout.write(`${JSON.stringify(result)}\n`);
setTimeout(() => process.exit(0), 30_000);
