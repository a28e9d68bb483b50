/**
 * Slow clients next to normal traffic: a few connections trickle their request head one byte
 * at a time, a few trickle a small body. Normal requests keep getting responses. A body that
 * is still arriving (below retryBodyLimit) has no IP leased, so slow uploaders cannot starve
 * the pool. All trickling stops after a fixed number of bytes.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { send } from '../../helpers/clients.js';
import { startChainProxy, type ChainProxy } from '../../helpers/node-proxy.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup, sleep } from '../../helpers/processes.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';

const SLOW_HEADS = 10;
const SLOW_BODIES = 5;
const TRICKLE_EVERY_MS = 100;
const TRICKLE_STEPS = 25;
const NORMAL_REQUESTS = 100;

describe('slow clients beside normal traffic', () => {
  let targets: TargetServers;
  let upstream: ChainProxy;
  let hopper: TestHopper;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    upstream = await startChainProxy('127.0.0.2', null);
    registerCleanup(() => upstream.close());
    hopper = await startHopper({
      proxyProviders: [{ name: 'chain', ipList: [upstream.address()] }],
      ipPools: [{ name: 'p', ipRequests: [{ provider: 'chain', count: 1 }] }],
      targets: [
        { name: 't', regex: '.*', ipPool: 'p', minRequestInterval: '0ms', maxQueueWait: '10s' },
      ],
    });
  });

  after(cleanupAll);

  /** Writes `text` one byte every TRICKLE_EVERY_MS, at most TRICKLE_STEPS bytes. */
  function trickle(socket: net.Socket, text: string): Promise<void> {
    return (async () => {
      for (let i = 0; i < Math.min(text.length, TRICKLE_STEPS) && !socket.destroyed; i++) {
        socket.write(text[i] as string);
        await sleep(TRICKLE_EVERY_MS);
      }
    })();
  }

  function connect(): net.Socket {
    const socket = net.connect({ port: hopper.proxyPort, host: '127.0.0.1' });
    socket.on('error', () => {});
    socket.on('data', () => {});
    return socket;
  }

  test('normal traffic beside trickling clients', async () => {
    const sockets: net.Socket[] = [];
    const trickles: Promise<void>[] = [];
    const head = `GET /slow-head HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${targets.httpOrigin}\r\n\r\n`;
    for (let i = 0; i < SLOW_HEADS; i++) {
      const socket = connect();
      sockets.push(socket);
      trickles.push(trickle(socket, head));
    }
    for (let i = 0; i < SLOW_BODIES; i++) {
      const socket = connect();
      sockets.push(socket);
      socket.write(
        `POST /upload HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${targets.httpOrigin}\r\n` +
          'Content-Length: 1000\r\n\r\n',
      );
      trickles.push(trickle(socket, 'b'.repeat(1000)));
    }
    await sleep(300);

    // No lease is taken while a body is still arriving.
    const [during] = await hopper.running.backend.snapshot('t');
    assert.equal(during?.leaseExpiresAtMs, null);

    const statuses = await Promise.all(
      Array.from({ length: NORMAL_REQUESTS }, async (_, i) => {
        const response = await send(hopper.proxyPort, {
          path: `/normal/${i}`,
          headers: { 'x-proxy-hopper-target': targets.httpOrigin },
        });
        return response.status;
      }),
    );
    assert.deepEqual(
      statuses.filter((status) => status !== 200),
      [],
    );
    assert.equal(targets.seen('/normal/').length, NORMAL_REQUESTS);
    assert.equal(targets.seen('/slow-head').length, 0);
    assert.equal(targets.seen('/upload').length, 0);

    for (const socket of sockets) socket.destroy();
    await Promise.all(trickles);
    const [afterwards] = await hopper.running.backend.snapshot('t');
    assert.deepEqual(
      [afterwards?.status, afterwards?.failures, afterwards?.leaseExpiresAtMs],
      ['available', 0, null],
    );
  });
});
