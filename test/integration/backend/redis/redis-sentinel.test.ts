import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../../../src/observe/events.js';
import { startSentinelSetup } from '../../../helpers/redis-sentinel.js';
import { redisCli } from '../../../helpers/redis-server.js';
import { leased, poolSpec } from '../contract.js';
import { fastBackend, recordEvents, waitFor } from './support.js';

const none = new Set<string>();
const PASSWORD = 'sentinel-pw';

describe('Redis Sentinel', () => {
  test('failover keeps the pool state', async () => {
    const setup = await startSentinelSetup(PASSWORD);
    const bus = new EventBus();
    const states = recordEvents(bus, ['backend_state']);
    const backend = fastBackend({ url: setup.url, keyPrefix: 'sentinel', events: bus });
    try {
      await backend.start();
      await backend.syncTarget(poolSpec());
      const failed = leased(await backend.tryAcquire('shop', none));
      await backend.release(failed, { result: 'failure', cooldownFromRelease: false });
      const held = leased(await backend.tryAcquire('shop', none));
      assert.equal(held.address, '10.0.0.2:3128');
      assert.equal((await redisCli(setup.primary, ['WAIT', '1', '2000'])).trim(), '1');

      await setup.primary.stop({ kill: true });
      await waitFor(() => !backend.isReady(), 3000, 'isReady() to turn false');
      await setup.waitForSentinelLog('+switch-master', 15_000);
      await waitFor(() => backend.isReady(), 15_000, 'isReady() after failover');

      const snapshot = await backend.snapshot('shop');
      assert.deepEqual(
        snapshot.map((state) => [state.address, state.failures, state.status]),
        [
          ['10.0.0.1:3128', 1, 'available'],
          ['10.0.0.2:3128', 0, 'leased'],
          ['10.0.0.3:3128', 0, 'available'],
        ],
      );
      assert.equal(
        (await backend.release(held, { result: 'success', cooldownFromRelease: false })).applied,
        true,
      );
      assert.equal(leased(await backend.tryAcquire('shop', none)).address, '10.0.0.3:3128');
      const role = await redisCli(setup.replica, ['ROLE']);
      assert.match(role, /^master/);
      assert.deepEqual(
        states.map((event) => event.payload.ready),
        [true, false, true],
      );
    } finally {
      await backend.stop();
      await setup.stop();
    }
  });
});
