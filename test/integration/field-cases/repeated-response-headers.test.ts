// Repeated response headers reach the client with their number and order: three Set-Cookie
// field lines byte for byte (never joined), and every Vary, Link and WWW-Authenticate value in
// order (joined with ", " only where their grammar allows a list).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { headerAll, rawRequest } from '../../helpers/clients.js';
import { cleanupAll } from '../../helpers/processes.js';
import { COOKIE_LINES } from '../../helpers/targets.js';
import { REPEATED_HEADERS } from './named-origin.js';
import { startNamedSetup, type NamedSetup } from './named-fixture.js';

const LIST_HEADERS = ['Vary', 'Link', 'WWW-Authenticate'];

function sentValues(name: string): string[] {
  return REPEATED_HEADERS.filter(([key]) => key === name).map(([, value]) => value);
}

describe('repeated response headers', () => {
  let setup: NamedSetup;

  before(async () => {
    setup = await startNamedSetup();
  });

  after(cleanupAll);

  for (const targetHeader of ['http://api.example.test:8081', 'https://api.example.test']) {
    test(`${targetHeader}: Set-Cookie lines, Vary, Link and WWW-Authenticate keep every value`, async () => {
      const response = await rawRequest(
        setup.hopper.proxyPort,
        `GET /many-headers HTTP/1.1\r\nHost: ph\r\nX-Proxy-Hopper-Target: ${targetHeader}\r\n` +
          'Connection: close\r\n\r\n',
      );
      assert.equal(response.status, 200);
      assert.deepEqual(headerAll(response, 'set-cookie'), COOKIE_LINES);
      const rawLines = response.raw.toString('latin1').split('\r\n');
      assert.deepEqual(
        rawLines
          .filter((line) => /^set-cookie:/i.test(line))
          .map((line) => line.replace(/^set-cookie: /i, '')),
        COOKIE_LINES,
      );
      for (const name of LIST_HEADERS) {
        assert.equal(headerAll(response, name).join(', '), sentValues(name).join(', '), name);
      }
      assert.equal(response.body.toString(), 'ok\n');
    });
  }
});
