/**
 * A lease must stay held for the whole attempt, including a streamed upload that takes longer
 * than `leaseTtl`. Otherwise the lease expires mid-upload and the IP carries a second request
 * while the first one is still sending its body. The upload here is larger than
 * `retryBodyLimit` (so it streams through the leased IP) and takes about 2.8 s against a 1 s
 * lease TTL, with memory backend timings.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { send, type ClientResponse } from '../../helpers/clients.js';
import { startChainProxy, type ChainProxy } from '../../helpers/node-proxy.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup, sleep } from '../../helpers/processes.js';

const UPLOAD_STEPS = 28;
const STEP_BYTES = 1000;
const STEP_EVERY_MS = 100;
/** Step after which the second request is sent: past the 1 s lease TTL. */
const SECOND_REQUEST_AT_STEP = 15;

interface InFlightTarget {
  origin: string;
  maxInFlightPerSource(): number;
  completed: string[];
}

async function startInFlightTarget(): Promise<InFlightTarget> {
  const inFlight = new Map<string, number>();
  let highest = 0;
  const completed: string[] = [];
  const server = http.createServer((req, res) => {
    const source = req.socket.remoteAddress ?? '';
    inFlight.set(source, (inFlight.get(source) ?? 0) + 1);
    highest = Math.max(highest, inFlight.get(source) ?? 0);
    req.resume();
    req.on('end', () => {
      inFlight.set(source, (inFlight.get(source) ?? 1) - 1);
      completed.push(req.url ?? '');
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registerCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as net.AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    maxInFlightPerSource: () => highest,
    completed,
  };
}

describe('lease during a long streamed upload', () => {
  let target: InFlightTarget;
  let upstream: ChainProxy;
  let hopper: TestHopper;

  before(async () => {
    target = await startInFlightTarget();
    upstream = await startChainProxy('127.0.0.2', null);
    registerCleanup(() => upstream.close());
    hopper = await startHopper({
      server: { retryBodyLimit: '1KiB', leaseTtl: '1s' },
      proxyProviders: [{ name: 'chain', ipList: [upstream.address()] }],
      ipPools: [{ name: 'p', ipRequests: [{ provider: 'chain', count: 1 }] }],
      targets: [
        { name: 't', regex: '.*', ipPool: 'p', minRequestInterval: '0ms', maxQueueWait: '10s' },
      ],
    });
  });

  after(cleanupAll);

  test('upload longer than leaseTtl keeps its IP', async () => {
    const socket = net.connect({ port: hopper.proxyPort, host: '127.0.0.1' });
    socket.on('error', () => {});
    socket.on('data', () => {});
    const totalBytes = 2 * STEP_BYTES + UPLOAD_STEPS * STEP_BYTES;
    socket.write(
      `POST /long-upload HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${target.origin}\r\n` +
        `Content-Length: ${totalBytes}\r\n\r\n${'a'.repeat(2 * STEP_BYTES)}`,
    );
    let second: Promise<ClientResponse> | null = null;
    for (let step = 0; step < UPLOAD_STEPS; step++) {
      await sleep(STEP_EVERY_MS);
      socket.write('a'.repeat(STEP_BYTES));
      if (step === SECOND_REQUEST_AT_STEP) {
        second = send(hopper.proxyPort, {
          path: '/second',
          headers: { 'x-proxy-hopper-target': target.origin },
        });
      }
    }
    const response = await (second as Promise<ClientResponse> | null);
    socket.destroy();

    assert.equal(response?.status, 200);
    assert.equal(target.maxInFlightPerSource(), 1);
    assert.deepEqual(target.completed, ['/long-upload', '/second']);
  });
});
