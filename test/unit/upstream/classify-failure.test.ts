import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errors } from 'undici';
import { classifyFailure } from '../../../src/upstream/classify-failure.js';
import { isProxyAuthRejection } from '../../../src/upstream/proxy-auth-rejection.js';
import { TunnelError } from '../../../src/upstream/tunnel-error.js';
import { outcomeForStatus } from '../../../src/dispatch/status-outcome.js';

function errno(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

describe('classifyFailure', () => {
  const cases: [string, unknown, string, boolean][] = [
    ['refused', errno('ECONNREFUSED'), 'connection_error', false],
    ['reset', errno('ECONNRESET'), 'connection_error', false],
    ['connect timeout', new errors.ConnectTimeoutError(), 'connection_error', true],
    ['headers timeout', new errors.HeadersTimeoutError(), 'connection_error', true],
    ['body timeout', new errors.BodyTimeoutError(), 'connection_error', true],
    ['socket closed', new errors.SocketError('other side closed'), 'connection_error', false],
    [
      'tunnel 407',
      TunnelError.forStatus(407, 'HTTP/1.1 407 Proxy Authentication Required'),
      'upstream_auth_failed',
      false,
    ],
    [
      'tunnel 401 from tinyproxy',
      TunnelError.forStatus(401, 'HTTP/1.0 401 Unauthorized'),
      'upstream_auth_failed',
      false,
    ],
    ['tunnel 403', TunnelError.forStatus(403, 'HTTP/1.1 403 Forbidden'), 'connection_error', false],
    ['tunnel timeout', new TunnelError('tunnel_timeout', 'no answer'), 'connection_error', true],
    ['certificate', errno('DEPTH_ZERO_SELF_SIGNED_CERT'), 'connection_error', false],
    ['client abort', new errors.RequestAbortedError(), 'aborted', false],
    ['unknown', new TypeError('boom'), 'proxy_error', false],
  ];
  for (const [name, err, kind, timeout] of cases) {
    test(name, () => {
      const result = classifyFailure(err);
      assert.equal(result.kind, kind);
      assert.equal(result.timeout, timeout);
    });
  }

  test('certificate failure names server.caFile', () => {
    assert.match(
      classifyFailure(errno('UNABLE_TO_VERIFY_LEAF_SIGNATURE')).detail,
      /server\.caFile/,
    );
  });
});

describe('isProxyAuthRejection', () => {
  test('407 is always the proxy', () => {
    assert.equal(isProxyAuthRejection(407, {}), true);
  });
  test('tinyproxy 401 is the proxy', () => {
    assert.equal(
      isProxyAuthRejection(401, {
        server: 'tinyproxy/1.11.1',
        'www-authenticate': 'Basic realm="Tinyproxy"',
      }),
      true,
    );
  });
  test("a target's 401 passes through", () => {
    assert.equal(
      isProxyAuthRejection(401, { server: 'nginx', 'www-authenticate': 'Bearer' }),
      false,
    );
  });
});

describe('outcomeForStatus', () => {
  const retry = [429, 502, 503, 504];
  test('429 is rate_limited', () => assert.equal(outcomeForStatus(429, retry), 'rate_limited'));
  test('503 is server_error', () => assert.equal(outcomeForStatus(503, retry), 'server_error'));
  test('500 passes through', () => assert.equal(outcomeForStatus(500, retry), 'success'));
  test('404 passes through', () => assert.equal(outcomeForStatus(404, retry), 'success'));
  test('custom list', () => assert.equal(outcomeForStatus(500, [500]), 'server_error'));
});
