import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddress } from '../../../src/config/address.js';

describe('parseAddress', () => {
  const valid: [string, number, { host: string; port: number; address: string }][] = [
    ['10.0.0.1:3128', 8080, { host: '10.0.0.1', port: 3128, address: '10.0.0.1:3128' }],
    ['10.0.0.1', 8080, { host: '10.0.0.1', port: 8080, address: '10.0.0.1:8080' }],
    ['10.0.0.1', 3000, { host: '10.0.0.1', port: 3000, address: '10.0.0.1:3000' }],
    [
      'proxy.example.test:80',
      8080,
      { host: 'proxy.example.test', port: 80, address: 'proxy.example.test:80' },
    ],
    ['http://10.0.0.3:3129', 8080, { host: '10.0.0.3', port: 3129, address: '10.0.0.3:3129' }],
    ['https://10.0.0.3', 9000, { host: '10.0.0.3', port: 9000, address: '10.0.0.3:9000' }],
    ['socks5://gw.test:1080/', 8080, { host: 'gw.test', port: 1080, address: 'gw.test:1080' }],
    ['[::1]:3128', 8080, { host: '::1', port: 3128, address: '[::1]:3128' }],
    ['[::1]', 8080, { host: '::1', port: 8080, address: '[::1]:8080' }],
    ['[2001:DB8::5]:80', 8080, { host: '2001:db8::5', port: 80, address: '[2001:db8::5]:80' }],
    ['http://[::1]:3128', 8080, { host: '::1', port: 3128, address: '[::1]:3128' }],
    ['  127.0.0.1:1  ', 8080, { host: '127.0.0.1', port: 1, address: '127.0.0.1:1' }],
  ];
  for (const [entry, defaultPort, expected] of valid) {
    test(`parses ${entry} with default ${defaultPort}`, () => {
      assert.deepEqual(parseAddress(entry, defaultPort), expected);
    });
  }

  const invalid: [string, string][] = [
    ['', 'Invalid proxy address: the entry is empty'],
    ['::1', "Invalid proxy address '::1': write IPv6 addresses in brackets, such as '[::1]:3128'"],
    [
      '2001:db8::1:80',
      "Invalid proxy address '2001:db8::1:80': write IPv6 addresses in brackets, such as '[::1]:3128'",
    ],
    [
      '[::1:3128',
      "Invalid proxy address '[::1:3128': expected an IPv6 literal in brackets, such as '[::1]:3128'",
    ],
    [
      '[10.0.0.1]:80',
      "Invalid proxy address '[10.0.0.1]:80': expected an IPv6 literal in brackets, such as '[::1]:3128'",
    ],
    ['10.0.0.1:0', "Invalid proxy address '10.0.0.1:0': port must be a number from 1 to 65535"],
    [
      '10.0.0.1:65536',
      "Invalid proxy address '10.0.0.1:65536': port must be a number from 1 to 65535",
    ],
    ['10.0.0.1:abc', "Invalid proxy address '10.0.0.1:abc': port must be a number from 1 to 65535"],
    ['10.0.0.1:', "Invalid proxy address '10.0.0.1:': port must be a number from 1 to 65535"],
    [
      'bad host:80',
      "Invalid proxy address 'bad host:80': 'bad host' is not a valid host name or address",
    ],
    [':80', "Invalid proxy address ':80': '' is not a valid host name or address"],
    [
      'http://user:pw@10.0.0.1:3128',
      "Invalid proxy address 'http://user:pw@10.0.0.1:3128': put credentials in the provider's 'auth' block, not in the address",
    ],
  ];
  for (const [entry, message] of invalid) {
    test(`rejects '${entry}'`, () => {
      assert.deepEqual(parseAddress(entry, 8080), { error: message });
    });
  }
});
