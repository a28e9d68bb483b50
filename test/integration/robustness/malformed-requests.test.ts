/**
 * Broken client requests sent over raw sockets: bad framing, bad bytes, oversized heads and
 * odd control headers. Each must get a 4xx from Proxy Hopper itself without any IP being
 * leased (the pool's spacing clock stays untouched) and without reaching the target.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { header, json, rawRequest } from '../../helpers/clients.js';
import { startChainProxy, type ChainProxy } from '../../helpers/node-proxy.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startTargets, type TargetServers, type EchoBody } from '../../helpers/targets.js';

interface Case {
  name: string;
  request: (target: string) => string | Buffer;
  status: number;
  /** X-Proxy-Hopper-Error value, or null when Node's own parser responds without one. */
  code: string | null;
}

const line = (target: string, extra = ''): string =>
  `GET /m HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${target}\r\n${extra}`;

const CASES: Case[] = [
  {
    name: 'no Host header on HTTP/1.1',
    request: (t) => `GET /m HTTP/1.1\r\nX-Proxy-Hopper-Target: ${t}\r\n\r\n`,
    status: 400,
    code: null,
  },
  {
    name: 'bad chunk size',
    request: (t) =>
      `POST /m HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${t}\r\n` +
      'Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'both Content-Length and Transfer-Encoding',
    request: (t) =>
      `POST /m HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${t}\r\n` +
      'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'two different Content-Length values',
    request: (t) =>
      `POST /m HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${t}\r\n` +
      'Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'a NUL byte in a header value',
    request: (t) => Buffer.from(line(t, 'X-A: a\0b\r\n\r\n'), 'latin1'),
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'a non-ASCII byte in the request target',
    request: (t) =>
      Buffer.concat([
        Buffer.from('GET /m'),
        Buffer.from([0xe9]),
        Buffer.from(` HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${t}\r\n\r\n`),
      ]),
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'a 70 000 byte Cookie',
    request: (t) => line(t, `Cookie: ${'c'.repeat(70_000)}\r\n\r\n`),
    status: 431,
    code: 'headers_too_large',
  },
  {
    name: '3 000 headers',
    request: (t) =>
      line(t, `${Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${i}`).join('\r\n')}\r\n\r\n`),
    status: 431,
    code: 'headers_too_large',
  },
  {
    name: 'a 10 000 character target header',
    request: (t) => line(`${t}/${'a'.repeat(10_000)}`, '\r\n'),
    status: 400,
    code: 'invalid_target',
  },
  {
    name: 'the target header twice',
    request: (t) => line(t, `X-Proxy-Hopper-Target: ${t}\r\n\r\n`),
    status: 400,
    code: 'invalid_target',
  },
  {
    name: 'an override with an empty name',
    request: (t) => line(t, 'X-Proxy-Hopper-: v\r\n\r\n'),
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'a Host override in odd casing',
    request: (t) => line(t, 'x-PROXY-hopper-HoSt: evil.test\r\n\r\n'),
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'a Transfer-Encoding override',
    request: (t) => line(t, 'X-PROXY-HOPPER-TRANSFER-ENCODING: chunked\r\n\r\n'),
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'a Proxy-Authorization override',
    request: (t) => line(t, 'X-Proxy-Hopper-Proxy-Authorization: Basic eDp5\r\n\r\n'),
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'an unknown method',
    request: (t) => `FOO /m HTTP/1.1\r\nHost: x\r\nX-Proxy-Hopper-Target: ${t}\r\n\r\n`,
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'a request line that is not HTTP',
    request: () => 'GARBAGE\r\n\r\n',
    status: 400,
    code: 'bad_request',
  },
  {
    // Standard proxy mode is not enabled, so CONNECT is a format no enabled mode supports.
    name: 'CONNECT while standard proxy mode is off',
    request: (t) => `CONNECT ${new URL(t).host} HTTP/1.1\r\nHost: ${new URL(t).host}\r\n\r\n`,
    status: 400,
    code: 'unsupported_request',
  },
];

describe('malformed client requests', () => {
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
        { name: 't', regex: '.*', ipPool: 'p', minRequestInterval: '0ms', maxQueueWait: '3s' },
      ],
    });
  });

  after(cleanupAll);

  for (const entry of CASES) {
    test(`${entry.name} is ${entry.status}${entry.code === null ? '' : ` ${entry.code}`}`, async () => {
      const response = await rawRequest(hopper.proxyPort, entry.request(targets.httpOrigin), {
        timeoutMs: 5000,
      });
      assert.equal(response.status, entry.status, response.body.toString());
      if (entry.code !== null) assert.equal(header(response, 'x-proxy-hopper-error'), entry.code);
      assert.equal(targets.requests.length, 0, 'the request reached the target');
      const [state] = await hopper.running.backend.snapshot('t');
      assert.equal(state?.nextReadyAtMs, 0, 'an IP was leased');
    });
  }

  test('invalid X-Request-Id replaced consistently', async () => {
    const response = await rawRequest(
      hopper.proxyPort,
      line(targets.httpOrigin, 'X-Request-Id: has spaces\r\n\r\n'),
    );
    assert.equal(response.status, 200);
    const seen = json<EchoBody>(response).headers.filter(
      ([name]) => name.toLowerCase() === 'x-request-id',
    );
    assert.deepEqual(seen, [['x-request-id', header(response, 'x-request-id')]]);
    targets.requests.length = 0;
  });
});
