import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProxyHopperError } from '../../../src/errors/index.js';
import { outboundHeaders, readControlHeaders } from '../../../src/proxy/control-headers.js';
import { responseHeaders } from '../../../src/proxy/header-hygiene.js';

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function names(flat: string[]): string[] {
  return pairs(flat).map(([name]) => name.toLowerCase());
}

const base = {
  host: 'echo.test',
  requestId: 'rid-1',
  spoofUserAgent: false,
  bodyLengthBytes: null,
};

describe('control headers', () => {
  test('tag cut to 64 characters', () => {
    const control = readControlHeaders(['X-Proxy-Hopper-Tag', 'x'.repeat(100)]);
    assert.equal(control.tag, 'x'.repeat(64));
    assert.equal(control.tagTruncated, true);
  });

  test('retries accepts non-negative integers only', () => {
    assert.equal(readControlHeaders(['X-Proxy-Hopper-Retries', '0']).retries, 0);
    assert.equal(readControlHeaders(['X-Proxy-Hopper-Retries', ' 2 ']).retries, 2);
    assert.equal(readControlHeaders(['X-Proxy-Hopper-Retries', '-1']).retries, null);
    assert.equal(readControlHeaders(['X-Proxy-Hopper-Retries', 'abc']).retries, null);
    assert.equal(readControlHeaders(['X-Proxy-Hopper-Retries', '1.5']).retries, null);
  });

  test('request id kept when valid, made otherwise', () => {
    assert.equal(readControlHeaders(['X-Request-Id', 'abc-123']).requestId, 'abc-123');
    const made = readControlHeaders(['X-Request-Id', 'has space']).requestId;
    assert.match(made, /^[0-9a-f-]{36}$/);
  });

  test('target header sent twice is rejected', () => {
    assert.throws(
      () =>
        readControlHeaders([
          'X-Proxy-Hopper-Target',
          'http://a.test',
          'x-proxy-hopper-target',
          'http://b.test',
        ]),
      (err: unknown) => err instanceof ProxyHopperError && err.code === 'invalid_target',
    );
  });

  for (const name of [
    'Host',
    'Connection',
    'Content-Length',
    'Transfer-Encoding',
    'Proxy-Authorization',
    'Keep-Alive',
    'TE',
    'Upgrade',
    'Proxy-Foo',
  ]) {
    test(`override of ${name} is rejected`, () => {
      assert.throws(
        () => readControlHeaders([`X-Proxy-Hopper-${name}`, 'v']),
        (err: unknown) =>
          err instanceof ProxyHopperError &&
          err.code === 'bad_request' &&
          err.message.includes(`X-Proxy-Hopper-${name}`),
      );
    });
  }

  test('override replaces the client header', () => {
    const raw = [
      'Accept',
      'text/html',
      'X-Proxy-Hopper-Accept',
      'application/json',
      'X-Proxy-Hopper-User-Agent',
      'foo',
    ];
    const control = readControlHeaders(raw);
    const out = pairs(
      outboundHeaders(raw, { ...base, overrides: control.overrides, spoofUserAgent: true }),
    );
    assert.deepEqual(
      out.filter(([n]) => n.toLowerCase() === 'accept'),
      [['accept', 'application/json']],
    );
    assert.deepEqual(
      out.filter(([n]) => n.toLowerCase() === 'user-agent'),
      [['user-agent', 'foo']],
    );
  });
});

describe('outbound headers', () => {
  const raw = [
    'Host',
    'ph.local:8080',
    'Connection',
    'close, X-Secret-Hop',
    'X-Secret-Hop',
    '1',
    'Keep-Alive',
    'timeout=5',
    'TE',
    'trailers',
    'Proxy-Connection',
    'keep-alive',
    'Proxy-Authorization',
    'Basic Y2xpZW50OnNlY3JldA==',
    'Authorization',
    'Bearer abc',
    'X-Proxy-Hopper-Target',
    'http://echo.test',
    'X-Proxy-Hopper-Auth',
    'Bearer ph-token',
    'X-ProxyHopper-Force-IP',
    '1.2.3.4:80',
    'User-Agent',
    'curl/8',
    'Expect',
    '100-continue',
    'Content-Length',
    '5',
    'X-Keep',
    'yes',
    'Cookie',
    'a=1',
    'Cookie',
    'b=2',
  ];

  test('hop-by-hop, control and proxy headers removed', () => {
    const out = outboundHeaders(raw, { ...base, overrides: new Map(), bodyLengthBytes: 5 });
    assert.deepEqual(pairs(out), [
      ['host', 'echo.test'],
      ['Authorization', 'Bearer abc'],
      ['X-Keep', 'yes'],
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
      ['x-request-id', 'rid-1'],
      ['content-length', '5'],
    ]);
  });

  test('spoofed User-Agent is a browser one', () => {
    const out = pairs(
      outboundHeaders(raw, { ...base, overrides: new Map(), spoofUserAgent: true }),
    );
    const agents = out.filter(([n]) => n === 'user-agent');
    assert.equal(agents.length, 1);
    assert.match(agents[0]![1], /^Mozilla\/5\.0 /);
  });

  test('no User-Agent when spoofing is off', () => {
    assert.equal(
      names(outboundHeaders(raw, { ...base, overrides: new Map() })).includes('user-agent'),
      false,
    );
  });

  test('client request id passes through once', () => {
    const out = pairs(
      outboundHeaders(['X-Request-Id', 'mine'], {
        ...base,
        requestId: 'mine',
        overrides: new Map(),
      }),
    );
    assert.deepEqual(
      out.filter(([n]) => n.toLowerCase() === 'x-request-id'),
      [['x-request-id', 'mine']],
    );
  });
});

describe('response headers', () => {
  test('hop-by-hop and Connection-named headers dropped, duplicates kept', () => {
    const out = responseHeaders({
      connection: 'X-Internal',
      'x-internal': '1',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'set-cookie': [
        'sid=abc; Path=/; HttpOnly',
        'logout=deleted; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; Path=/',
        'pref=a,b; Path=/',
      ],
      vary: 'Accept',
    });
    assert.deepEqual(pairs(out), [
      ['set-cookie', 'sid=abc; Path=/; HttpOnly'],
      ['set-cookie', 'logout=deleted; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; Path=/'],
      ['set-cookie', 'pref=a,b; Path=/'],
      ['vary', 'Accept'],
    ]);
  });
});
