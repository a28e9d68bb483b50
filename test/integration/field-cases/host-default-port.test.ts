// The destination's Host header and TLS server name come from the target header alone:
// a default port (443 for https) is left out of Host, an explicit other port is kept, and the
// client's own Host never reaches the destination. squid maps api.example.test to an origin
// that listens on the real default ports.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, sleep } from '../../helpers/processes.js';
import type { SquidPeer } from '../../helpers/squid.js';
import { viaHopper } from '../proxy/fixture.js';
import type { NamedOrigin } from './named-origin.js';
import { startNamedSetup } from './named-fixture.js';

describe('Host and TLS server name for default and explicit ports', () => {
  let origin: NamedOrigin;
  let squid: SquidPeer;
  let hopper: TestHopper;

  before(async () => {
    ({ origin, squid, hopper } = await startNamedSetup());
  });

  after(cleanupAll);

  const cases: [string, string, string | null][] = [
    ['https://api.example.test', 'api.example.test', 'api.example.test'],
    ['https://api.example.test:443', 'api.example.test', 'api.example.test'],
    ['http://api.example.test:8081', 'api.example.test:8081', null],
  ];

  for (const [targetHeader, expectedHost, expectedServername] of cases) {
    test(`${targetHeader} reaches the destination with Host ${expectedHost}`, async () => {
      const marker = `/v1/x?case=${encodeURIComponent(targetHeader)}`;
      const response = await viaHopper(hopper.proxyPort, targetHeader, marker, {
        headers: { host: 'ph.local:8080' },
      });
      assert.equal(response.status, 200, response.body.toString());
      const seen = origin.requests.filter((request) => request.url === marker);
      assert.equal(seen.length, 1);
      const hosts = (seen[0]?.headers ?? []).filter(([name]) => name.toLowerCase() === 'host');
      assert.deepEqual(
        hosts.map(([, value]) => value),
        [expectedHost],
      );
      assert.equal(seen[0]?.servername, expectedServername);
      assert.doesNotMatch(JSON.stringify(seen[0]?.headers), /ph\.local/);
    });
  }

  test('https targets without a port are tunnelled to port 443', async () => {
    const response = await viaHopper(hopper.proxyPort, 'https://api.example.test', '/v1/tunnel');
    assert.equal(response.status, 200);
    await hopper.stop();
    // squid writes a CONNECT line when the tunnel closes.
    const deadlineMs = Date.now() + 3000;
    let connects: string[] = [];
    while (Date.now() < deadlineMs) {
      connects = squid
        .accessLines()
        .map((line) => line.trim().split(/\s+/))
        .filter((fields) => fields[5] === 'CONNECT')
        .map((fields) => fields[6] as string);
      if (connects.length > 0) break;
      await sleep(50);
    }
    assert.ok(connects.length >= 1, 'squid logged no CONNECT');
    assert.deepEqual([...new Set(connects)], ['api.example.test:443']);
  });
});
