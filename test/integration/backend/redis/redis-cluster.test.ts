import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisBackend } from '../../../../src/backend/redis/redis-backend.js';
import { targetKeys } from '../../../../src/backend/redis/keys.js';
import { startRedisCluster, type RedisClusterHandle } from '../../../helpers/redis-cluster.js';
import { redisCli } from '../../../helpers/redis-server.js';
import { leased, poolSpec, runBackendContract } from '../contract.js';

const PASSWORD = 'cluster-pw';
let cluster: RedisClusterHandle;
let prefixes = 0;

before(async () => {
  cluster = await startRedisCluster(PASSWORD);
});

after(async () => {
  await cluster.stop();
});

describe('Redis Cluster', () => {
  test('targets spread over nodes', async () => {
    const first = cluster.nodes[0];
    assert.ok(first);
    const targets = Array.from({ length: 12 }, (_, i) => `target-${i}`);
    const slots = new Set<string>();
    for (const target of targets) {
      const keys = Object.values(targetKeys('spread', target));
      const keySlots: string[] = await Promise.all(
        keys.map((key) => redisCli(first, ['CLUSTER', 'KEYSLOT', key])),
      );
      assert.equal(new Set(keySlots).size, 1, `keys of ${target} must share one slot`);
      slots.add(keySlots[0] ?? '');
    }
    assert.ok(slots.size > 1, 'targets should map to more than one slot');

    const backend = new RedisBackend({ url: cluster.url, keyPrefix: 'spread' });
    await backend.start();
    for (const target of targets) await backend.syncTarget(poolSpec({ target }));
    for (const target of targets) {
      const lease = leased(await backend.tryAcquire(target, new Set()));
      assert.equal(lease.target, target);
      assert.equal(lease.address, '10.0.0.1:3128');
    }
    const counts = await Promise.all(cluster.nodes.map((node) => redisCli(node, ['DBSIZE'])));
    const populated = counts.filter((count) => Number(count.trim()) > 0);
    assert.ok(populated.length >= 2, `keys on ${populated.length} node(s) only`);
    await backend.stop();
  });
});

runBackendContract('redis cluster', async ({ leaseTtlMs, events }) => {
  prefixes += 1;
  return new RedisBackend({
    url: cluster.url,
    keyPrefix: `cluster${prefixes}`,
    leaseTtlMs,
    events,
  });
});
