// A gzip-encoded response reaches the client as the destination sent it: the compressed bytes,
// Content-Encoding: gzip and the compressed Content-Length. A request without Accept-Encoding
// leaves without one, so the destination may respond uncompressed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { header, headerAll, json } from '../../helpers/clients.js';
import { cleanupAll } from '../../helpers/processes.js';
import { GZIP_BODY, sha256 } from '../../helpers/targets.js';
import { viaHopper } from '../proxy/fixture.js';
import { startNamedSetup, type NamedSetup } from './named-fixture.js';

describe('gzip responses and Accept-Encoding', () => {
  let setup: NamedSetup;

  before(async () => {
    setup = await startNamedSetup();
  });

  after(cleanupAll);

  for (const targetHeader of ['http://api.example.test:8081', 'https://api.example.test']) {
    test(`${targetHeader}: gzip response passes unchanged`, async () => {
      const marker = `/gzip?t=${encodeURIComponent(targetHeader)}`;
      const response = await viaHopper(setup.hopper.proxyPort, targetHeader, marker, {
        headers: { 'accept-encoding': 'gzip' },
      });
      assert.equal(response.status, 200);
      assert.deepEqual(headerAll(response, 'content-encoding'), ['gzip']);
      assert.equal(header(response, 'content-length'), String(GZIP_BODY.length));
      assert.equal(sha256(response.body), sha256(GZIP_BODY));
      const seen = setup.origin.requests.filter((request) => request.url === marker);
      assert.deepEqual(
        seen
          .flatMap((request) =>
            request.headers.filter(([name]) => name.toLowerCase() === 'accept-encoding'),
          )
          .map(([, value]) => value),
        ['gzip'],
      );
    });

    test(`${targetHeader}: no Accept-Encoding is added`, async () => {
      const marker = `/echo/no-ae?t=${encodeURIComponent(targetHeader)}`;
      const response = await viaHopper(setup.hopper.proxyPort, targetHeader, marker);
      assert.equal(response.status, 200);
      const echoed = json<{ headers: [string, string][] }>(response).headers;
      assert.deepEqual(
        echoed.filter(([name]) => name.toLowerCase() === 'accept-encoding'),
        [],
      );
    });
  }
});
