// Bodies through Proxy Hopper and a real squid: large uploads and downloads, streaming,
// responses without a body, repeated Set-Cookie, gzip pass-through, Expect: 100-continue,
// and what a client abort leaves behind.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  curlHopper,
  header,
  headerAll,
  json,
  rawRequest,
  undiciAgent,
} from '../../helpers/clients.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, makeTempDir, registerCleanup, sleep } from '../../helpers/processes.js';
import { establishedTo } from '../../helpers/sockets.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import {
  BOTH_FRAMINGS_BODY,
  COOKIE_LINES,
  GZIP_BODY,
  headerValues,
  patternBytes,
  sha256,
  startTargets,
  type EchoBody,
  type TargetServers,
} from '../../helpers/targets.js';
import { testTls } from '../../helpers/tls.js';
import { pool, provider, singleTargetConfig, target, viaHopper, waitUntil } from './fixture.js';

const MIB = 1024 * 1024;

describe('request and response bodies', () => {
  let targets: TargetServers;
  let squid: SquidPeer;
  let hopper: TestHopper;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squid = await startSquid();
    hopper = await startHopper(
      singleTargetConfig(provider('s', [squid.address()]), {}, { caFile: testTls().caPath }),
    );
  });

  after(cleanupAll);

  const origins = (): [string, string][] => [
    ['http', targets.httpOrigin],
    ['https', targets.httpsOrigin],
  ];

  test('HTTPS target is reached through CONNECT with server.caFile', async () => {
    const response = await viaHopper(hopper.proxyPort, targets.httpsOrigin, '/echo/tls');
    assert.equal(response.status, 200);
    assert.equal(json<EchoBody>(response).remote, '127.0.0.2');
    assert.equal(targets.seen('/echo/tls')[0]?.scheme, 'https');
  });

  test('HTTPS target with an unknown CA fails with 502', async () => {
    const squids = provider('s', [squid.address()]);
    const noCa = await startHopper({
      proxyProviders: [squids],
      ipPools: [pool('p', [squids])],
      targets: [target('t', 'p', { numRetries: 0 })],
    });
    const response = await viaHopper(noCa.proxyPort, targets.httpsOrigin, '/echo/no-ca');
    assert.equal(response.status, 502);
    assert.equal(header(response, 'x-proxy-hopper-error'), 'connection_error');
    assert.equal(targets.seen('/echo/no-ca').length, 0);
    await noCa.stop();
  });

  test('20 MiB upload arrives intact', async () => {
    const data = patternBytes(20 * MIB);
    for (const [scheme, origin] of origins()) {
      const response = await viaHopper(hopper.proxyPort, origin, `/upload/${scheme}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: data,
      });
      assert.equal(response.status, 200, `${scheme}: ${response.body.toString().slice(0, 500)}`);
      const echo = json<EchoBody>(response);
      assert.equal(echo.bodyBytes, data.length, scheme);
      assert.equal(echo.bodySha256, sha256(data), scheme);
    }
  });

  test('20 MiB download arrives intact', async () => {
    const sizeBytes = 20 * MIB;
    const expected = sha256(patternBytes(sizeBytes));
    for (const [scheme, origin] of origins()) {
      for (const query of ['', '?chunked=1']) {
        const response = await viaHopper(hopper.proxyPort, origin, `/bytes/${sizeBytes}${query}`);
        assert.equal(response.status, 200);
        assert.equal(response.body.length, sizeBytes, `${scheme}${query}`);
        assert.equal(sha256(response.body), expected, `${scheme}${query}`);
        if (query === '') assert.equal(header(response, 'content-length'), String(sizeBytes));
      }
    }
  });

  test('chunked response streams before the target finishes', async () => {
    for (const [scheme, origin] of origins()) {
      const gate = `stream-${scheme}`;
      const response = await undiciAgent().request({
        origin: hopper.origin,
        path: `/slow?gate=${gate}`,
        method: 'GET',
        headers: { 'x-proxy-hopper-target': origin },
      });
      assert.equal(response.statusCode, 200);
      const iterator = response.body[Symbol.asyncIterator]();
      let early = '';
      while (early.length < 6) {
        const next = await Promise.race([iterator.next(), sleep(5000).then(() => null)]);
        assert.ok(next !== null, `${scheme}: first chunk did not arrive before the gate opened`);
        if (next.done === true) break;
        early += Buffer.from(next.value as Buffer).toString();
      }
      assert.equal(early, 'first\n', scheme);
      targets.releaseGate(gate);
      let rest = '';
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
        rest += Buffer.from(next.value as Buffer).toString();
      }
      assert.equal(rest, 'last\n', scheme);
    }
  });

  test('target abort mid-body cuts the client response', async () => {
    for (const [scheme, origin] of origins()) {
      const ends: boolean[] = [];
      const unsubscribe = hopper.running.events.on('request_end', (event) =>
        ends.push(event.aborted),
      );
      const path = `/abort?k=${scheme}`;
      const outcome = await viaHopper(hopper.proxyPort, origin, path).then(
        (response) => `status ${response.status}, ${response.body.length} bytes`,
        (err: unknown) => (err instanceof Error ? err.name : String(err)),
      );
      // Either the head arrived and the body broke off, or nothing arrived: never a whole body.
      assert.doesNotMatch(outcome, /^status 200/, `${scheme}: a cut body looked complete`);
      assert.equal(targets.seen(path).length, 1, `${scheme}: retried after the body started`);
      assert.ok(await waitUntil(() => ends.length === 1, 2000), `${scheme}: no request_end event`);
      assert.equal(ends[0], true, scheme);
      unsubscribe();
    }
  });

  test('response with both framings never reaches the client with both', async () => {
    for (const [scheme, origin] of origins()) {
      const response = await rawRequest(
        hopper.proxyPort,
        `GET /both-framings HTTP/1.1\r\nHost: ph\r\nX-Proxy-Hopper-Target: ${origin}\r\nConnection: close\r\n\r\n`,
        { untilClose: true },
      );
      const framings = [header(response, 'transfer-encoding'), header(response, 'content-length')];
      assert.ok(
        framings.includes(undefined),
        `${scheme}: both framings sent: ${JSON.stringify(framings)}`,
      );
      // RFC 9112 section 6.3 lets an intermediary reject such a response or forward it with
      // Content-Length removed. A forwarded body must be the whole 172 bytes.
      if (response.status === 200) {
        assert.equal(response.body.toString(), BOTH_FRAMINGS_BODY.toString(), scheme);
      } else {
        assert.equal(response.status, 502, scheme);
      }
    }
  });

  test('request with both framings is rejected 400', async () => {
    const before = targets.requests.length;
    const response = await rawRequest(
      hopper.proxyPort,
      `POST /echo/both HTTP/1.1\r\nHost: ph\r\nX-Proxy-Hopper-Target: ${targets.httpOrigin}\r\n` +
        'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      { untilClose: true },
    );
    assert.equal(response.status, 400);
    assert.equal(targets.requests.length, before);
  });

  test('HEAD keeps Content-Length and has no body', async () => {
    for (const [scheme, origin] of origins()) {
      const response = await rawRequest(
        hopper.proxyPort,
        `HEAD /bytes/1048576 HTTP/1.1\r\nHost: ph\r\nX-Proxy-Hopper-Target: ${origin}\r\nConnection: close\r\n\r\n`,
        { untilClose: true },
      );
      assert.equal(response.status, 200, scheme);
      assert.equal(header(response, 'content-length'), '1048576', scheme);
      const headEnd = response.raw.indexOf('\r\n\r\n') + 4;
      assert.equal(response.raw.length, headEnd, `${scheme}: bytes after the HEAD response`);
    }
  });

  test('HEAD leaves the client connection usable', async () => {
    for (const [scheme, origin] of origins()) {
      const head = `HEAD /bytes/1048576 HTTP/1.1\r\nHost: ph\r\nX-Proxy-Hopper-Target: ${origin}\r\n\r\n`;
      const get = `GET /echo/after-head HTTP/1.1\r\nHost: ph\r\nX-Proxy-Hopper-Target: ${origin}\r\nConnection: close\r\n\r\n`;
      const response = await rawRequest(hopper.proxyPort, head + get, { untilClose: true });
      const text = response.raw.toString('latin1');
      const statusLines = text.split('\r\n').filter((line) => line.startsWith('HTTP/1.1 '));
      assert.deepEqual(statusLines, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], scheme);
      const body = text.slice(text.lastIndexOf('\r\n\r\n') + 4);
      assert.equal((JSON.parse(body) as EchoBody).url, '/echo/after-head', scheme);
    }
  });

  test('204 and 304 have no body', async () => {
    for (const [scheme, origin] of origins()) {
      for (const code of [204, 304]) {
        const response = await rawRequest(
          hopper.proxyPort,
          `GET /status/${code} HTTP/1.1\r\nHost: ph\r\nX-Proxy-Hopper-Target: ${origin}\r\nConnection: close\r\n\r\n`,
          { untilClose: true },
        );
        assert.equal(response.status, code, scheme);
        const headEnd = response.raw.indexOf('\r\n\r\n') + 4;
        assert.equal(response.raw.length, headEnd, `${scheme} ${code}: bytes after the head`);
        assert.deepEqual(headerAll(response, 'transfer-encoding'), [], `${scheme} ${code}`);
      }
    }
  });

  test('Set-Cookie lines keep number and order', async () => {
    for (const [scheme, origin] of origins()) {
      const response = await rawRequest(
        hopper.proxyPort,
        `GET /cookies HTTP/1.1\r\nHost: ph\r\nX-Proxy-Hopper-Target: ${origin}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(response.status, 200);
      assert.deepEqual(headerAll(response, 'set-cookie'), COOKIE_LINES, scheme);
    }
  });

  test('gzip body passes through byte for byte', async () => {
    for (const [scheme, origin] of origins()) {
      const response = await viaHopper(hopper.proxyPort, origin, '/gzip', {
        headers: { 'accept-encoding': 'gzip' },
      });
      assert.equal(response.status, 200);
      assert.equal(header(response, 'content-encoding'), 'gzip', scheme);
      assert.equal(header(response, 'content-length'), String(GZIP_BODY.length), scheme);
      assert.deepEqual(response.body, GZIP_BODY, scheme);
    }
    const plain = await viaHopper(
      hopper.proxyPort,
      targets.httpsOrigin,
      '/echo/no-accept-encoding',
    );
    assert.deepEqual(headerValues(json<EchoBody>(plain).headers, 'accept-encoding'), []);
  });

  test('curl Expect: 100-continue upload', async () => {
    const dir = makeTempDir('expect');
    const file = path.join(dir, 'body.bin');
    const data = patternBytes(3 * MIB + 5);
    fs.writeFileSync(file, data);
    for (const [scheme, origin] of origins()) {
      const response = await curlHopper(
        hopper.proxyPort,
        `/upload/expect-${scheme}`,
        {
          'X-Proxy-Hopper-Target': origin,
          Expect: '100-continue',
          'Content-Type': 'application/octet-stream',
        },
        ['--data-binary', `@${file}`, '--expect100-timeout', '20'],
      );
      assert.equal(response.exitCode, 0, response.stderr);
      assert.equal(response.status, 200, scheme);
      assert.match(response.statusLines[0] ?? '', /^HTTP\/1\.1 100 /, scheme);
      const echo = json<EchoBody>(response);
      assert.equal(echo.bodyBytes, data.length, scheme);
      assert.equal(echo.bodySha256, sha256(data), scheme);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('client abort', () => {
  let targets: TargetServers;
  let squid: SquidPeer;
  let hopper: TestHopper;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squid = await startSquid({ outgoingAddresses: ['127.0.0.6'] });
    hopper = await startHopper(singleTargetConfig(provider('s', [squid.address()])));
  });

  after(cleanupAll);

  for (const route of ['/bytes/20971520?chunked=1', '/hang']) {
    test(`abort during ${route.split('?')[0]} leaves no socket behind`, async () => {
      for (let round = 0; round < 3; round++) await abortOnce(route);
      assert.ok(
        await waitUntil(() => establishedTo(hopper.proxyPort) === 0, 5000),
        'client socket to Proxy Hopper still open',
      );
      assert.ok(
        await waitUntil(() => targets.openConnections() === 0, 5000),
        'target connection still open',
      );
      // One idle keep-alive connection to squid may stay for reuse, but never one per abort.
      assert.ok(
        await waitUntil(() => establishedTo(squid.port) <= 1, 5000),
        `${establishedTo(squid.port)} sockets to squid`,
      );
      const states = await hopper.running.backend.snapshot('t');
      assert.notEqual(states[0]?.status, 'leased');
    });
  }

  async function abortOnce(route: string): Promise<void> {
    {
      const ends: boolean[] = [];
      const unsubscribe = hopper.running.events.on('request_end', (event) =>
        ends.push(event.aborted),
      );
      const controller = new AbortController();
      const arrived = targets.requests.length;
      const pending = undiciAgent()
        .request({
          origin: hopper.origin,
          path: route,
          method: 'GET',
          headers: { 'x-proxy-hopper-target': targets.httpOrigin },
          signal: controller.signal,
        })
        .then(async (response) => {
          for await (const chunk of response.body) {
            void chunk;
            controller.abort();
          }
        })
        .then(
          () => null,
          (err: unknown) => err,
        );
      assert.ok(
        await waitUntil(() => targets.requests.length > arrived, 5000),
        'request never reached the target',
      );
      if (route === '/hang') controller.abort();
      const failure = await pending;
      assert.ok(
        failure instanceof Error && failure.name === 'AbortError',
        `client saw ${String(failure)}`,
      );
      assert.ok(
        await waitUntil(() => targets.openConnections() === 0, 5000),
        'target connection still open',
      );
      assert.ok(await waitUntil(() => ends.length === 1, 2000), 'no request_end event');
      assert.equal(ends[0], true);
      unsubscribe();
    }
  }
});
