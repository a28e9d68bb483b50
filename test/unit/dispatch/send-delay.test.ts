import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBackend } from '../../../src/backend/memory-backend.js';

test('spacing counts from the real send', async () => {
  let nowMs = 1_000_000;
  const backend = new MemoryBackend({ leaseTtlMs: 10_000, now: () => nowMs });
  await backend.start();
  await backend.syncTarget({
    target: 't',
    ips: [
      {
        address: '127.0.0.1:1',
        host: '127.0.0.1',
        port: 1,
        provider: '',
        region: '',
        credentials: null,
      },
    ],
    minRequestIntervalMs: 100,
    ipFailuresUntilQuarantine: 5,
    quarantineMs: 1000,
    minActiveIps: 1,
  });
  const first = await backend.tryAcquire('t', new Set());
  assert.equal(first.kind, 'leased');
  if (first.kind !== 'leased') return;
  // The event loop was busy: the attempt left 30 ms after the lease was taken.
  nowMs += 50;
  await backend.release(first.lease, {
    result: 'success',
    cooldownFromRelease: false,
    sendDelayMs: 30,
  });

  nowMs = 1_000_000 + 120;
  const early = await backend.tryAcquire('t', new Set());
  assert.equal(early.kind, 'wait');
  if (early.kind === 'wait') assert.equal(early.readyAtMs, 1_000_000 + 130);

  nowMs = 1_000_000 + 130;
  const onTime = await backend.tryAcquire('t', new Set());
  assert.equal(onTime.kind, 'leased');
  await backend.stop();
});
