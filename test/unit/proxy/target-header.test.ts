import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProxyHopperError } from '../../../src/errors/index.js';
import { joinPath, parseTargetHeader } from '../../../src/proxy/target-header.js';

function outbound(header: string, requestTarget: string): string {
  const target = parseTargetHeader(header);
  return target.origin + joinPath(target, requestTarget);
}

describe('outbound URL', () => {
  const cases: [string, string, string][] = [
    ['https://api.example.com', '/v1/data?q=1', 'https://api.example.com/v1/data?q=1'],
    ['https://api.example.com/', '/v1/data', 'https://api.example.com/v1/data'],
    ['https://api.example.com/v2', '/search', 'https://api.example.com/v2/search'],
    ['https://api.example.com/v2/', '/', 'https://api.example.com/v2/'],
    [
      'https://mq.test/api',
      '/queues/%2F/jobs%2520x?name=a%26b&q=%3F&empty=&flag',
      'https://mq.test/api/queues/%2F/jobs%2520x?name=a%26b&q=%3F&empty=&flag',
    ],
    ['http://h.test', '/a?x=1??y&&z=&', 'http://h.test/a?x=1??y&&z=&'],
    ['http://h.test', 'http://other.test/p?q=1', 'http://h.test/p?q=1'],
    ['http://h.test', 'http://other.test', 'http://h.test/'],
    ['http://h.test/base', '?only=query', 'http://h.test/base/?only=query'],
    ['HTTPS://Api.Example.com:443', '/x', 'https://api.example.com/x'],
  ];
  for (const [header, requestTarget, expected] of cases) {
    test(`${header} + ${requestTarget}`, () => {
      assert.equal(outbound(header, requestTarget), expected);
    });
  }
});

describe('Host of the target', () => {
  test('default https port left out', () => {
    assert.equal(parseTargetHeader('https://api.example.test:443').host, 'api.example.test');
  });
  test('default http port left out', () => {
    assert.equal(parseTargetHeader('http://api.example.test:80').host, 'api.example.test');
  });
  test('other port kept', () => {
    assert.equal(parseTargetHeader('http://api.example.test:8081').host, 'api.example.test:8081');
  });
  test('IPv6 literal kept in brackets', () => {
    assert.equal(parseTargetHeader('http://[::1]:9000').host, '[::1]:9000');
  });
});

describe('invalid target header', () => {
  const bad: [string, RegExp][] = [
    ['', /is empty/],
    ['api.example.com', /not an absolute URL/],
    ['ftp://files.test', /scheme 'ftp'/],
    ['ws://stream.test', /scheme 'ws'/],
    ['http://user:pw@h.test', /must not contain credentials/],
    ['http://h.test/?q=1', /must not contain a query/],
    ['http://h.test/#frag', /must not contain a query or fragment/],
    ['http://', /not a valid URL|has no host/],
    [`http://h.test/${'a'.repeat(5000)}`, /limit is 4096/],
  ];
  for (const [value, message] of bad) {
    test(`rejects ${JSON.stringify(value.slice(0, 40))}`, () => {
      assert.throws(
        () => parseTargetHeader(value),
        (err: unknown) =>
          err instanceof ProxyHopperError &&
          err.code === 'invalid_target' &&
          err.status === 400 &&
          message.test(err.message),
      );
    });
  }
});
