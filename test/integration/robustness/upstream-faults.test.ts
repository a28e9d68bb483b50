/**
 * Upstream proxies that break the protocol: a reply that is not HTTP, an impossible status
 * code, no reply at all, and a body cut short. Each is the IP's fault, so it is a
 * connection_error (the code for connection errors, timeouts and broken proxies) and counts
 * against the IP. A cut body never reaches the client as if complete. The proxy_error code is
 * for Proxy Hopper's own internal failures only.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { header, json, rawRequest } from '../../helpers/clients.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { recordEvents } from '../proxy/fixture.js';

/** Raw replies of the fake proxy, keyed by the path of the absolute-form request. */
const REPLIES: Record<string, string | null> = {
  '/garbage': 'garbage garbage\r\n\r\n',
  '/status-099': 'HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok',
  '/status-1000': 'HTTP/1.1 1000 Odd\r\nContent-Length: 2\r\n\r\nok',
  '/double-length': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
  '/never': null,
  '/cut': `HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(100)}`,
};

/** Starts a proxy that writes, for each request head, the reply its path names. */
async function startScriptedProxy(): Promise<{ address: string; openSockets(): number }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      if (!buffered.includes('\r\n\r\n')) return;
      const requestLine = buffered.slice(0, buffered.indexOf('\r\n'));
      buffered = '';
      const path = new URL(requestLine.split(' ')[1] ?? '/', 'http://fallback.invalid').pathname;
      const reply = REPLIES[path];
      if (reply === null) return;
      socket.write(reply ?? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      if (path === '/cut') setTimeout(() => socket.destroy(), 50);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registerCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as net.AddressInfo;
  return { address: `127.0.0.1:${port}`, openSockets: () => sockets.size };
}

describe('upstream proxies that break the protocol', () => {
  let proxy: { address: string; openSockets(): number };
  let hopper: TestHopper;

  before(async () => {
    proxy = await startScriptedProxy();
  });

  beforeEach(async () => {
    hopper = await startHopper({
      server: { responseTimeout: '500ms', proxyReadTimeout: '500ms', connectTimeout: '1s' },
      proxyProviders: [{ name: 'scripted', ipList: [proxy.address] }],
      ipPools: [{ name: 'p', ipRequests: [{ provider: 'scripted', count: 1 }] }],
      targets: [
        {
          name: 't',
          regex: '.*',
          ipPool: 'p',
          minRequestInterval: '0ms',
          maxQueueWait: '5s',
          numRetries: 0,
          ipFailuresUntilQuarantine: 100,
        },
      ],
    });
  });

  afterEach(() => hopper.stop());

  after(cleanupAll);

  function get(path: string): ReturnType<typeof rawRequest> {
    return rawRequest(
      hopper.proxyPort,
      `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: http://dest.test\r\n\r\n`,
    );
  }

  async function failuresOfTheIp(): Promise<number> {
    const [state] = await hopper.running.backend.snapshot('t');
    return state?.failures ?? -1;
  }

  for (const path of ['/garbage', '/status-099', '/status-1000', '/double-length']) {
    test(`invalid HTTP reply ${path}`, async () => {
      const attempts = recordEvents(hopper, 'attempt_end');
      const response = await get(path);
      assert.equal(response.status, 502);
      assert.equal(header(response, 'x-proxy-hopper-error'), 'connection_error');
      assert.equal(json(response).error, 'connection_error');
      assert.deepEqual(
        attempts.map((attempt) => attempt.outcome),
        ['connection_error'],
      );
      assert.equal(await failuresOfTheIp(), 1);
    });
  }

  test('no reply within responseTimeout', async () => {
    const response = await get('/never');
    assert.equal(response.status, 502);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'connection_error');
    assert.match(String(json(response).detail), /server\.responseTimeout/);
    assert.equal(await failuresOfTheIp(), 1);
  });

  test('body cut short', async () => {
    const response = await rawRequest(
      hopper.proxyPort,
      'GET /cut HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: http://dest.test\r\n\r\n',
      { untilClose: true },
    );
    assert.equal(response.status, 200);
    assert.equal(header(response, 'content-length'), '1000');
    assert.equal(response.body.length, 100);
    assert.equal(await failuresOfTheIp(), 1);
  });
});
