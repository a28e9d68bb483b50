/**
 * Clients that go away at every stage of a request: while it waits for response headers,
 * mid-body, while queued for an IP, and during an upload (buffered and streamed). A client
 * leaving says nothing about the IP, so no lease may stay held and no failure may be counted.
 * Upstream connections must not pile up either. One idle kept-alive socket that gets reused is
 * fine, but one per aborted request is a leak.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { rawRequest } from '../../helpers/clients.js';
import { startChainProxy, type ChainProxy } from '../../helpers/node-proxy.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup, sleep } from '../../helpers/processes.js';
import { establishedTo } from '../../helpers/sockets.js';
import { recordEvents, waitUntil } from '../proxy/fixture.js';

interface AbortTarget {
  origin: string;
  port: number;
  paths: string[];
  /** Responses the target could not finish because the other side closed. */
  cutShort: number;
}

/** Starts a target: `/delay` responds after 3 s, `/drip` streams 100 bytes every 50 ms for 4 s. */
async function startAbortTarget(): Promise<AbortTarget> {
  const state = { origin: '', port: 0, paths: [] as string[], cutShort: 0 };
  const server = http.createServer((req, res) => {
    state.paths.push(req.url ?? '');
    res.on('close', () => {
      if (!res.writableFinished) state.cutShort += 1;
    });
    const path = req.url ?? '';
    if (path.startsWith('/delay')) {
      req.resume();
      const timer = setTimeout(() => res.end('late'), 3000);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (path.startsWith('/drip')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const every = setInterval(() => res.write('x'.repeat(100)), 50);
      const stop = setTimeout(() => (clearInterval(every), res.end()), 4000);
      res.on('close', () => (clearInterval(every), clearTimeout(stop)));
      return;
    }
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.end(`got ${bytes}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registerCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  state.port = (server.address() as net.AddressInfo).port;
  state.origin = `http://127.0.0.1:${state.port}`;
  return state;
}

describe('client aborts at every stage', () => {
  let target: AbortTarget;
  let upstream: ChainProxy;
  let hopper: TestHopper;

  before(async () => {
    target = await startAbortTarget();
    upstream = await startChainProxy('127.0.0.2', null);
    registerCleanup(() => upstream.close());
    hopper = await startHopper({
      server: { retryBodyLimit: '1KiB' },
      proxyProviders: [{ name: 'chain', ipList: [upstream.address()] }],
      ipPools: [{ name: 'p', ipRequests: [{ provider: 'chain', count: 1 }] }],
      targets: [
        {
          name: 't',
          regex: '.*',
          ipPool: 'p',
          minRequestInterval: '0ms',
          maxQueueWait: '10s',
          numRetries: 1,
          ipFailuresUntilQuarantine: 100,
        },
      ],
    });
  });

  // A completed request resets the failure count, so one failing case cannot fail the next.
  beforeEach(async () => {
    const response = await rawRequest(hopper.proxyPort, get('/reset'));
    assert.equal(response.status, 200);
  });

  after(cleanupAll);

  function open(text: string): net.Socket {
    const socket = net.connect({ port: hopper.proxyPort, host: '127.0.0.1' });
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.write(text);
    return socket;
  }

  const get = (path: string): string =>
    `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${target.origin}\r\n\r\n`;
  const post = (framing: string, body: string): string =>
    `POST /upload HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${target.origin}\r\n${framing}\r\n${body}`;

  /** The IP must end up free with no failure counted. */
  async function assertIpFree(): Promise<void> {
    let states = await hopper.running.backend.snapshot('t');
    for (let i = 0; i < 40 && states.some((state) => state.leaseExpiresAtMs !== null); i++) {
      await sleep(50);
      states = await hopper.running.backend.snapshot('t');
    }
    assert.deepEqual(
      states.map((state) => [state.status, state.failures, state.leaseExpiresAtMs]),
      [['available', 0, null]],
    );
  }

  test('abort while waiting for response headers', async () => {
    const socket = open(get('/delay/headers'));
    await sleep(300);
    socket.destroy();
    await assertIpFree();
  });

  test('abort mid-body', async () => {
    const socket = open(get('/drip/once'));
    await sleep(400);
    socket.destroy();
    await assertIpFree();
  });

  test('abort while queued never reaches the target', async () => {
    const depths = recordEvents(hopper, 'queue_depth');
    const holder = open(get('/delay/holder'));
    await sleep(200);
    const queued = open(get('/delay/queued'));
    await sleep(200);
    queued.destroy();
    await sleep(100);
    holder.destroy();
    await assertIpFree();
    assert.equal(depths.at(-1)?.depth, 0);
    assert.equal(target.paths.includes('/delay/queued'), false);
  });

  test('abort during a buffered upload', async () => {
    const socket = open(post('Content-Length: 500\r\n', 'abc'));
    await sleep(200);
    socket.destroy();
    await assertIpFree();
  });

  test('abort during a streamed upload', async () => {
    const socket = open(post('Content-Length: 100000\r\n', 'a'.repeat(5000)));
    await sleep(300);
    socket.destroy();
    await assertIpFree();
  });

  test('abort during a chunked upload past the retry limit', async () => {
    const chunk = 'a'.repeat(5000);
    const socket = open(post('Transfer-Encoding: chunked\r\n', `1388\r\n${chunk}\r\n`));
    await sleep(300);
    socket.destroy();
    await assertIpFree();
  });

  test('40 aborts leave no leaks', async () => {
    const before = target.cutShort;
    for (let i = 0; i < 20; i++) {
      const socket = open(get(`/delay/many-${i}`));
      await sleep(50);
      socket.destroy();
      await sleep(20);
    }
    for (let i = 0; i < 20; i++) {
      const socket = open(get(`/drip/many-${i}`));
      await sleep(120);
      socket.destroy();
      await sleep(20);
    }
    await assertIpFree();
    // Every aborted request was cut at the target too, not left running to the end.
    const allCut = await waitUntil(() => target.cutShort - before === 40, 3000);
    assert.equal(allCut, true, `cut short: ${target.cutShort - before} of 40`);
    assert.ok(
      establishedTo(upstream.port) <= 2,
      `${establishedTo(upstream.port)} upstream sockets`,
    );
    assert.ok(establishedTo(target.port) <= 2, `${establishedTo(target.port)} target sockets`);
  });
});
