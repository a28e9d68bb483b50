// Percent-encoded path bytes reach the destination exactly as the client sent them, after the
// base path of the target header (prepended once, no "//"), and the target regex is matched
// against that same raw URL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cleanupAll } from '../../helpers/processes.js';
import { recordEvents, target, viaHopper } from '../proxy/fixture.js';
import { startNamedSetup, type NamedSetup } from './named-fixture.js';

const RAW_PATH = '/queues/%2F/jobs%2520x?name=a%26b&q=%3F&empty=&flag';

describe('raw path bytes and regex matching', () => {
  let setup: NamedSetup;

  before(async () => {
    setup = await startNamedSetup([
      target('mq-tls', 'p', { regex: '^https://mq\\.test/api/queues/%2F/' }),
      target('mq-plain', 'p', { regex: '^http://mq\\.test:8081/api/queues/%2F/' }),
      target('all', 'p'),
    ]);
  });

  after(cleanupAll);

  const cases: [string, string][] = [
    ['https://mq.test/api', 'mq-tls'],
    ['http://mq.test:8081/api', 'mq-plain'],
  ];

  for (const [targetHeader, expectedTarget] of cases) {
    test(`${targetHeader}: destination gets /api${RAW_PATH} and target ${expectedTarget} matches`, async () => {
      const ends = recordEvents(setup.hopper, 'request_end');
      const response = await viaHopper(setup.hopper.proxyPort, targetHeader, RAW_PATH);
      assert.equal(response.status, 200, response.body.toString());
      const seen = setup.origin.requests.filter((request) => request.url.includes('jobs%2520x'));
      assert.deepEqual(
        seen.map((request) => request.url),
        [`/api${RAW_PATH}`],
      );
      setup.origin.requests.length = 0;
      assert.equal(ends[0]?.target, expectedTarget);
    });
  }

  test('base path with a trailing slash is joined without a double slash', async () => {
    const response = await viaHopper(setup.hopper.proxyPort, 'https://mq.test/api/', RAW_PATH);
    assert.equal(response.status, 200);
    const seen = setup.origin.requests.filter((request) => request.url.includes('jobs%2520x'));
    assert.deepEqual(
      seen.map((request) => request.url),
      [`/api${RAW_PATH}`],
    );
  });
});
