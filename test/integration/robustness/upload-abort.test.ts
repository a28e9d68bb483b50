/**
 * A client that goes away in the middle of a request body must end that request only. The
 * case that matters most: a body without Content-Length (chunked) that grows past
 * `retryBodyLimit` is handed on as a stream, and the client aborts while the request still
 * waits in the queue for an IP. Proxy Hopper runs as its own process here, so an unhandled
 * 'error' event shows up as an exit of that process instead of killing the test runner.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { send } from '../../helpers/clients.js';
import { startHopperProcess, type HopperProcess } from '../../helpers/hopper-process.js';
import { startChainProxy, type ChainProxy } from '../../helpers/node-proxy.js';
import { cleanupAll, registerCleanup, sleep } from '../../helpers/processes.js';

/** Starts a target that keeps `/busy` requests open until `releaseAll` and ends others at once. */
async function startBusyTarget(): Promise<{ origin: string; releaseAll(): void }> {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    if ((req.url ?? '').startsWith('/busy')) held.push(res);
    else req.once('end', () => res.end('done'));
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
    releaseAll: () => {
      for (const res of held.splice(0)) res.end('released');
    },
  };
}

/** Opens a raw client connection, writes `text` and leaves the socket open. */
function openRaw(port: number, text: string): net.Socket {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  socket.on('data', () => {});
  socket.write(text);
  return socket;
}

describe('client aborts during the request body', () => {
  let target: { origin: string; releaseAll(): void };
  let upstream: ChainProxy;

  before(async () => {
    target = await startBusyTarget();
    upstream = await startChainProxy('127.0.0.2', null);
    registerCleanup(() => upstream.close());
  });

  /** Starts a Proxy Hopper process per test, so one crash cannot fail the next test. */
  function startOwnHopper(name: string): Promise<HopperProcess> {
    return startHopperProcess({
      name,
      config: {
        server: { retryBodyLimit: '1KiB' },
        proxyProviders: [{ name: 'one', ipList: [upstream.address()] }],
        ipPools: [{ name: 'p', ipRequests: [{ provider: 'one', count: 1 }] }],
        targets: [
          { name: 't', regex: '.*', ipPool: 'p', minRequestInterval: '0ms', maxQueueWait: '10s' },
        ],
      },
    });
  }

  after(async () => {
    target.releaseAll();
    await cleanupAll();
  });

  test('queued chunked upload abort', async () => {
    const hopper = await startOwnHopper('upload-abort-chunked');
    const head = (path: string, extra: string): string =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${target.origin}\r\n${extra}\r\n`;
    // The only IP is busy, so the next request waits in the queue.
    const busy = openRaw(hopper.proxyPort, head('/busy', 'Content-Length: 0\r\n'));
    await sleep(300);
    const chunk = 'a'.repeat(2048);
    const upload = openRaw(
      hopper.proxyPort,
      `${head('/upload', 'Transfer-Encoding: chunked\r\n')}${chunk.length.toString(16)}\r\n${chunk}\r\n`,
    );
    await sleep(300);
    upload.destroy();
    await sleep(500);

    assert.equal(hopper.running, true, `Proxy Hopper exited:\n${hopper.outputTail()}`);
    assert.doesNotMatch(hopper.outputTail(20_000), /Unhandled 'error' event/);
    target.releaseAll();
    busy.destroy();
    const health = await send(hopper.proxyPort, { path: '/health' });
    assert.equal(health.status, 200);
  });

  test('queued Content-Length upload abort', async () => {
    const hopper = await startOwnHopper('upload-abort-length');
    const busy = openRaw(
      hopper.proxyPort,
      `GET /busy HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${target.origin}\r\n\r\n`,
    );
    await sleep(300);
    const upload = openRaw(
      hopper.proxyPort,
      `POST /upload HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${target.origin}\r\n` +
        `Content-Length: 5000\r\n\r\n${'a'.repeat(2048)}`,
    );
    await sleep(300);
    upload.destroy();
    await sleep(500);

    assert.equal(hopper.running, true, `Proxy Hopper exited:\n${hopper.outputTail()}`);
    target.releaseAll();
    busy.destroy();
    const health = await send(hopper.proxyPort, { path: '/health' });
    assert.equal(health.status, 200);
  });
});
