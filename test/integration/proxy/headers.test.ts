// The request line and headers that reach the target, and the target's response headers that
// reach the client. HTTPS targets go through a CONNECT tunnel that squid cannot touch, so
// those cases show Proxy Hopper's own header handling.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  header,
  headerAll,
  json,
  pythonRequest,
  rawRequest,
  type ClientResponse,
} from '../../helpers/clients.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import {
  headerValues,
  startTargets,
  type EchoBody,
  type TargetServers,
} from '../../helpers/targets.js';
import { testTls } from '../../helpers/tls.js';
import { pool, provider, recordEvents, target, viaHopper } from './fixture.js';

const ODD_PATH = '/queues/%2F/jobs%2520x?name=a%26b&q=%3F&empty=&flag&&x=1?y';

describe('request and response headers', () => {
  let targets: TargetServers;
  let squid: SquidPeer;
  let hopper: TestHopper;
  let plainHopper: TestHopper;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squid = await startSquid();
    const squids = provider('s', [squid.address()]);
    const base = { proxyProviders: [squids], ipPools: [pool('p', [squids])] };
    const server = { caFile: testTls().caPath };
    hopper = await startHopper({
      ...base,
      server,
      targets: [
        target('mq', 'p', { regex: '^https?://127\\.0\\.0\\.1:\\d+/api/queues/%2F/' }),
        target('all', 'p', { spoofUserAgent: true }),
      ],
    });
    plainHopper = await startHopper({
      ...base,
      server,
      targets: [target('all', 'p', { spoofUserAgent: false })],
    });
  });

  after(cleanupAll);

  const origins = (): [string, string][] => [
    ['http', targets.httpOrigin],
    ['https', targets.httpsOrigin],
  ];

  for (const scheme of ['http', 'https'] as const) {
    test(`odd path and query kept byte for byte (${scheme})`, async () => {
      const origin = scheme === 'http' ? targets.httpOrigin : targets.httpsOrigin;
      const ends = recordEvents(hopper, 'request_end');
      const response = await viaHopper(hopper.proxyPort, `${origin}/api`, ODD_PATH);
      assert.equal(response.status, 200);
      assert.equal(json<EchoBody>(response).url, `/api${ODD_PATH}`);
      assert.equal(ends[0]?.target, 'mq');
      if (scheme === 'http') {
        // Plain http goes to squid in absolute form, never through a CONNECT tunnel.
        const lines = squid.accessLines().filter((line) => line.includes('/api/queues/'));
        assert.equal(lines.length, 1);
        assert.equal(lines[0]?.trim().split(/\s+/)[6], `${origin}/api${ODD_PATH}`);
        assert.equal(lines[0]?.trim().split(/\s+/)[5], 'GET');
      }
    });
  }

  test('proxy credentials, control and hop-by-hop headers never reach the target', async () => {
    for (const [scheme, origin] of origins()) {
      const requestText = [
        `GET /echo/hygiene/${scheme} HTTP/1.1`,
        'Host: ph.local:8080',
        `X-Proxy-Hopper-Target: ${origin}`,
        'X-Proxy-Hopper-Auth: Bearer control-token',
        'X-Proxy-Hopper-Tag: tag-1',
        'X-Proxy-Hopper-Retries: 1',
        'X-ProxyHopper-Force-IP: 127.0.0.1:1',
        'Proxy-Authorization: Basic Y2xpZW50OnNlY3JldA==',
        'Authorization: Bearer abc',
        'Connection: close, X-Secret-Hop',
        'X-Secret-Hop: 1',
        'Keep-Alive: timeout=5',
        'TE: trailers',
        'Trailer: Expires',
        'Proxy-Connection: keep-alive',
        'X-Keep: yes',
        '',
        '',
      ].join('\r\n');
      const response = await rawRequest(hopper.proxyPort, requestText);
      assert.equal(response.status, 200, response.body.toString());
      const seen = json<EchoBody>(response).headers;
      const names = seen.map(([name]) => name.toLowerCase());
      for (const name of [
        'proxy-authorization',
        'keep-alive',
        'te',
        'trailer',
        'proxy-connection',
        'x-secret-hop',
      ]) {
        assert.ok(!names.includes(name), `${scheme}: target saw ${name}`);
      }
      assert.deepEqual(
        names.filter((name) => name.startsWith('x-proxy') || name.startsWith('x-proxyhopper')),
        [],
      );
      for (const value of headerValues(seen, 'connection')) {
        assert.ok(
          ['keep-alive', 'close'].includes(value.toLowerCase()),
          `${scheme}: Connection: ${value}`,
        );
      }
      assert.deepEqual(headerValues(seen, 'authorization'), ['Bearer abc']);
      assert.deepEqual(headerValues(seen, 'x-keep'), ['yes']);
      assert.deepEqual(headerValues(seen, 'host'), [origin.replace(/^https?:\/\//, '')]);
      assert.doesNotMatch(JSON.stringify(seen), /Y2xpZW50OnNlY3JldA==|czNjcmV0|control-token/);
    }
  });

  test('Host is the target authority for names and ports', async () => {
    const cases: [string, string][] = [
      [`http://localhost:${targets.httpPort}`, `localhost:${targets.httpPort}`],
      [`https://localhost:${targets.httpsPort}`, `localhost:${targets.httpsPort}`],
      [`http://api.example.test:${targets.httpPort}`, `api.example.test:${targets.httpPort}`],
      [`https://api.example.test:${targets.httpsPort}`, `api.example.test:${targets.httpsPort}`],
    ];
    // TODO: the default-port cases (https://api.example.test and :443 give Host without a
    // port) need a target on port 443, which these tests do not bind.
    for (const [targetHeader, expectedHost] of cases) {
      const response = await viaHopper(hopper.proxyPort, targetHeader, '/echo/host', {
        headers: { host: 'ph.local:8080' },
      });
      assert.equal(response.status, 200, `${targetHeader}: ${response.body.toString()}`);
      assert.deepEqual(
        headerValues(json<EchoBody>(response).headers, 'host'),
        [expectedHost],
        targetHeader,
      );
    }
  });

  test('each request on a kept-alive connection uses its own target', async () => {
    const first = `GET /echo/ka/1 HTTP/1.1\r\nHost: ph\r\nX-Proxy-Hopper-Target: ${targets.httpOrigin}\r\n\r\n`;
    const second =
      `GET /echo/ka/2 HTTP/1.1\r\nHost: ph\r\nX-Proxy-Hopper-Target: ${targets.httpsOrigin}\r\n` +
      'Connection: close\r\n\r\n';
    const response = await rawRequest(hopper.proxyPort, first + second, { untilClose: true });
    // Bodies end without CRLF, so the status lines are found by pattern, not by line.
    const statusLines = response.raw.toString('latin1').match(/HTTP\/1\.1 \d{3} [A-Za-z ]+/g);
    assert.deepEqual(statusLines, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    assert.deepEqual(
      targets.seen('/echo/ka/').map((seen) => [seen.url, seen.scheme]),
      [
        ['/echo/ka/1', 'http'],
        ['/echo/ka/2', 'https'],
      ],
    );
  });

  test('hop-by-hop response headers are dropped', async () => {
    const response = await viaHopper(hopper.proxyPort, targets.httpsOrigin, '/hop-by-hop');
    assert.equal(response.status, 200);
    assert.deepEqual(headerAll(response, 'x-internal'), []);
    // Node's own server may add `Keep-Alive: timeout=5` for the client connection.
    assert.ok(
      !headerAll(response, 'keep-alive').includes('timeout=7, max=9'),
      'target Keep-Alive passed',
    );
    assert.deepEqual(headerAll(response, 'x-keep'), ['yes']);
    for (const value of headerAll(response, 'connection'))
      assert.doesNotMatch(value, /x-internal/i);
    assert.equal(response.body.toString(), 'hop\n');
  });

  test('User-Agent override reaches the target', async () => {
    for (const [, origin] of origins()) {
      const response = await viaHopper(hopper.proxyPort, origin, '/echo/ua-override', {
        headers: { 'user-agent': 'client-ua/1.0', 'x-proxy-hopper-user-agent': 'foo' },
      });
      assert.deepEqual(headerValues(json<EchoBody>(response).headers, 'user-agent'), ['foo']);
    }
  });

  test('override of a managed header is rejected', async () => {
    const managed = [
      'Host',
      'Connection',
      'Content-Length',
      'Transfer-Encoding',
      'Proxy-Authorization',
      'Proxy-Connection',
    ];
    for (const name of managed) {
      const before = targets.requests.length;
      const response = await viaHopper(
        hopper.proxyPort,
        targets.httpsOrigin,
        '/echo/bad-override',
        {
          headers: { [`x-proxy-hopper-${name.toLowerCase()}`]: 'evil' },
        },
      );
      assert.equal(response.status, 400, name);
      assert.equal(header(response, 'x-proxy-hopper-error'), 'bad_request', name);
      assert.match(response.body.toString(), new RegExp(name, 'i'));
      assert.equal(targets.requests.length, before, `${name}: the request reached the target`);
    }
  });

  test('spoofUserAgent replaces the client User-Agent', async () => {
    for (const [scheme, origin] of origins()) {
      const response = await viaHopper(hopper.proxyPort, origin, '/echo/spoof', {
        headers: { 'user-agent': 'client-ua/1.0' },
      });
      const agents = headerValues(json<EchoBody>(response).headers, 'user-agent');
      assert.equal(agents.length, 1, `${scheme}: ${JSON.stringify(agents)}`);
      assert.match(agents[0] as string, /^Mozilla\/5\.0 \(/);
    }
  });

  test('spoofUserAgent false sends no User-Agent', async () => {
    for (const [scheme, origin] of origins()) {
      const response = await viaHopper(plainHopper.proxyPort, origin, '/echo/nospoof', {
        headers: { 'user-agent': 'client-ua/1.0' },
      });
      assert.deepEqual(headerValues(json<EchoBody>(response).headers, 'user-agent'), [], scheme);
    }
  });

  test('X-Request-Id is kept, or made when missing', async () => {
    const kept = await viaHopper(hopper.proxyPort, targets.httpsOrigin, '/echo/rid', {
      headers: { 'x-request-id': 'client-id-123' },
    });
    assert.deepEqual(headerValues(json<EchoBody>(kept).headers, 'x-request-id'), ['client-id-123']);
    assert.equal(header(kept, 'x-request-id'), 'client-id-123');

    const made: ClientResponse = await viaHopper(
      hopper.proxyPort,
      targets.httpsOrigin,
      '/echo/rid-made',
    );
    const sent = headerValues(json<EchoBody>(made).headers, 'x-request-id');
    assert.equal(sent.length, 1);
    assert.match(sent[0] as string, /^[\x21-\x7e]{8,}$/);
    assert.equal(header(made, 'x-request-id'), sent[0]);
  });

  test('python requests client gets the echo', async () => {
    const response = await pythonRequest(`${hopper.origin}/echo/python?a=1`, {
      method: 'POST',
      headers: { 'X-Proxy-Hopper-Target': targets.httpOrigin, 'Content-Type': 'text/plain' },
      body: Buffer.from('from python'),
    });
    assert.equal(response.status, 200);
    const echo = json<EchoBody>(response);
    assert.equal(echo.method, 'POST');
    assert.equal(echo.url, '/echo/python?a=1');
    assert.equal(echo.remote, '127.0.0.2');
    assert.equal(echo.bodyBytes, 11);
    assert.equal(header(response, 'content-type'), 'application/json');
  });
});
