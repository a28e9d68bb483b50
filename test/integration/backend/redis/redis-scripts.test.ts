import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../../../src/observe/events.js';
import { poolSpec, leased } from '../contract.js';
import {
  redisCli,
  startRedisServer,
  type RedisServerHandle,
} from '../../../helpers/redis-server.js';
import { captureLogger, fastBackend, recordEvents } from './support.js';

const none = new Set<string>();
const success = { result: 'success', cooldownFromRelease: false } as const;
let server: RedisServerHandle;

before(async () => {
  server = await startRedisServer({ password: 'scripts-pw' });
});

after(async () => {
  await server.stop();
});

describe('Redis script cache', () => {
  test('NOSCRIPT after SCRIPT FLUSH recovers', async () => {
    const bus = new EventBus();
    const reloads = recordEvents(bus, ['backend_script_reload']);
    const { logger, lines } = captureLogger();
    const backend = fastBackend({ url: server.url, keyPrefix: 'flush', events: bus, logger });
    await backend.start();
    await backend.syncTarget(poolSpec());
    await backend.release(leased(await backend.tryAcquire('shop', none)), success);
    assert.equal(backend.scriptReloads, 0);

    assert.equal((await redisCli(server, ['SCRIPT', 'FLUSH'])).trim(), 'OK');
    const lease = leased(await backend.tryAcquire('shop', none));
    assert.equal(backend.scriptReloads, 1);
    assert.equal((await backend.release(lease, success)).applied, true);
    assert.equal(backend.scriptReloads, 2);
    const again = leased(await backend.tryAcquire('shop', none));
    await backend.release(again, success);
    assert.equal(backend.scriptReloads, 2);

    assert.deepEqual(reloads, [
      { name: 'backend_script_reload', payload: { script: 'acquire' } },
      { name: 'backend_script_reload', payload: { script: 'release' } },
    ]);
    const warnings = lines.filter((line) => line.msg.startsWith('redis script cache lost'));
    assert.equal(warnings.length, 2);
    assert.equal(warnings[0]?.level, 40);
    assert.equal(warnings[0]?.script, 'acquire');
    assert.equal(backend.isReady(), true);
    await backend.stop();
  });

  test('scripts preloaded at connect', async () => {
    await redisCli(server, ['SCRIPT', 'FLUSH']);
    const backend = fastBackend({ url: server.url, keyPrefix: 'preload' });
    await backend.start();
    await backend.syncTarget(poolSpec());
    await backend.release(leased(await backend.tryAcquire('shop', none)), success);
    await backend.renew(leased(await backend.tryAcquire('shop', none)));
    await backend.snapshot('shop');
    assert.equal(backend.scriptReloads, 0);
    await backend.stop();
  });
});
