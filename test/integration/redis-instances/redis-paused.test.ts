/**
 * Redis that stops replying while its TCP connection stays open: here SIGSTOP, in production
 * a stuck server, a long fork or a network partition. Requests must fail fast, `/health` must
 * report the backend as failing, and the commands that timed out on the client but ran once
 * Redis resumed must not leave IPs leased to nobody.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { header } from '../../helpers/clients.js';
import {
  getJson,
  healthStatus,
  startHopperProcess,
  type HopperProcess,
} from '../../helpers/hopper-process.js';
import { cleanupAll } from '../../helpers/processes.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import { pollUntil, redisConfig, statusOf, viaInstance } from './fixture.js';

const SOURCES = ['127.0.0.2', '127.0.0.3'];
/** RedisBackend's default command timeout is 2 s, so a refused request may take that long. */
const FAIL_FAST_MS = 3000;

let redis: RedisServerHandle;
let squid: SquidPeer;
let targets: TargetServers;
let first: HopperProcess;
let second: HopperProcess;

before(async () => {
  [redis, squid, targets] = await Promise.all([
    startRedisServer({ password: 'paused-pw' }),
    startSquid({ outgoingAddresses: SOURCES }),
    startTargets(),
  ]);
  // The default 30 s leaseTtl: a lease taken by a timed-out acquire would block its IP for
  // longer than maxQueueWait.
  const config = redisConfig(
    squid,
    { url: redis.url, keyPrefix: 'paused' },
    { minRequestInterval: '0ms', maxQueueWait: '5s', numRetries: 0 },
  );
  [first, second] = await Promise.all([
    startHopperProcess({ name: 'A', config, admin: true }),
    startHopperProcess({ name: 'B', config, admin: true }),
  ]);
});

after(async () => {
  resumeRedis();
  await cleanupAll();
  await Promise.all([targets?.close(), redis?.stop()]);
});

function pauseRedis(): void {
  process.kill(redis.pid, 'SIGSTOP');
}

function resumeRedis(): void {
  if (redis !== undefined) process.kill(redis.pid, 'SIGCONT');
}

/** Sends one request and returns its status, error code and duration. */
async function timedRequest(hopper: HopperProcess, requestPath: string) {
  const startedAtMs = Date.now();
  const response = await viaInstance(
    hopper,
    targets.httpOrigin,
    requestPath,
    {},
    AbortSignal.timeout(15_000),
  );
  return {
    status: response.status,
    code: header(response, 'x-proxy-hopper-error'),
    durationMs: Date.now() - startedAtMs,
  };
}

describe('Redis that stops replying', () => {
  test('health reports a stalled Redis', async () => {
    pauseRedis();
    try {
      const refused = await timedRequest(first, '/stalled/health');
      assert.equal(refused.status, 503);
      assert.equal(refused.code, 'backend_unavailable');
      assert.ok(refused.durationMs < FAIL_FAST_MS, `refused after ${refused.durationMs} ms`);

      await pollUntil(
        async () => (await healthStatus(first.proxyPort)) === 503,
        5000,
        "A's /health to return 503 while every backend command times out",
      );
      const health = await getJson(first.proxyPort, '/health');
      assert.deepEqual(health.body, {
        status: 'unavailable',
        failing: ['backend'],
        backend: 'redis',
      });
    } finally {
      resumeRedis();
    }
    await first.waitForHealth(200, 10_000);
  });

  test('stall leaks no lease', async () => {
    pauseRedis();
    let resumedAtMs = 0;
    try {
      // Each acquire times out on the client, but stays in Redis's input buffer and runs
      // when Redis resumes.
      const refused = await Promise.all([
        timedRequest(first, '/stalled/a'),
        timedRequest(second, '/stalled/b'),
      ]);
      assert.deepEqual(
        refused.map((result) => [result.status, result.code]),
        [
          [503, 'backend_unavailable'],
          [503, 'backend_unavailable'],
        ],
      );
    } finally {
      resumeRedis();
      resumedAtMs = Date.now();
    }

    // Right after SIGCONT the status may still fail to read Redis, so keep polling then.
    let lastRows = 'not read yet';
    await pollUntil(
      async () => {
        const view = await statusOf(first);
        const rows = view.targets.find((entry) => entry.name === 't')?.ips ?? null;
        if (rows === null) return false;
        lastRows = rows
          .map((row) => `${row.address} ${row.status} ${row.lease_expires_at}`)
          .join(', ');
        return rows.every((row) => row.status === 'available');
      },
      3000,
      'every IP available again after Redis resumed',
    ).catch((err: Error) => {
      const resumed = new Date(resumedAtMs).toISOString();
      throw new Error(`${err.message}; resumed at ${resumed}, IPs: ${lastRows}`);
    });
    const served = await Promise.all(
      [first, second, first, second].map((hopper, i) => timedRequest(hopper, `/resumed/${i}`)),
    );
    assert.deepEqual(
      served.map((result) => result.status),
      [200, 200, 200, 200],
    );
    assert.equal(targets.seen('/stalled/').length, 0);
  });
});
