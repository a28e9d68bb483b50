// JSON logs of the real server, with auth on and real squids that need credentials. Every line
// is one JSON object with the fixed keys. Each request's X-Request-Id is in its DEBUG line and
// in its warning lines. No line contains a client secret, the API key or the provider password.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { header, json } from '../../helpers/clients.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { startHopper, type LogLine, type TestHopper } from '../../helpers/proxy-hopper.js';
import { startSquids, type ProxyUser, type SquidPeer } from '../../helpers/squid.js';
import {
  headerValues,
  startTargets,
  type EchoBody,
  type TargetServers,
} from '../../helpers/targets.js';
import {
  Client,
  escapeRegex,
  poolDocument,
  providerDocument,
  targetDocument,
  waitFor,
} from './fixture.js';

const API_KEY = 'ph-e2e-log-key-93c1d0e4';
const UPSTREAM_USER: ProxyUser = { username: 'hopper', password: 'UpstreamPass123' };
const CLIENT_PROXY_CREDENTIALS = 'client-user:client-proxy-pass';
const TARGET_SECRET = 'target-secret';
const LEVELS = new Set(['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']);
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

const base64 = (text: string): string => Buffer.from(text).toString('base64');

/** Every text that must never reach a log line. */
const SECRETS = [
  API_KEY,
  UPSTREAM_USER.password,
  base64(`${UPSTREAM_USER.username}:${UPSTREAM_USER.password}`),
  base64(CLIENT_PROXY_CREDENTIALS),
  'client-proxy-pass',
  TARGET_SECRET,
];

interface Sent {
  requestId: string;
  path: string;
  status: number;
}

/** The three requests each hopper gets: retried once, retries exhausted, and unmatched. */
const REQUESTS: Sent[] = [
  {
    requestId: 'req-log-retried',
    path: `/fail-first/1/log-retried?api_key=${API_KEY}`,
    status: 200,
  },
  { requestId: 'req-log-exhausted', path: '/status/503', status: 503 },
  { requestId: 'req-log-unmatched', path: '/nomatch/1', status: 503 },
];

describe('JSON logs with secrets on every request', () => {
  let targets: TargetServers;
  let squids: SquidPeer[];
  const client = new Client();

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    squids = await startSquids(2, { users: [UPSTREAM_USER] });
  });

  after(cleanupAll);

  async function runHopper(logLevel: 'DEBUG' | 'TRACE', keySuffix: string): Promise<TestHopper> {
    const acme = {
      name: 'acme',
      addresses: squids.map((squid) => squid.address()),
      user: UPSTREAM_USER,
      regionTag: 'eu',
    };
    const hopper = await startHopper({
      server: { logLevel, logFormat: 'json' },
      auth: { enabled: true, apiKeys: [{ name: 'log-client', key: API_KEY }] },
      proxyProviders: [providerDocument(acme)],
      ipPools: [poolDocument('p', [acme])],
      targets: [
        targetDocument('t', `^${escapeRegex(targets.httpOrigin)}/(fail-first|status)/`, 'p', {
          numRetries: 1,
        }),
      ],
    });
    for (const sent of REQUESTS) {
      const path = sent.path.replace('log-retried', `log-retried-${keySuffix}`);
      const response = await client.via(hopper.proxyPort, targets.httpOrigin, path, {
        'x-request-id': sent.requestId,
        'x-proxy-hopper-auth': `Bearer ${API_KEY}`,
        authorization: `Bearer ${TARGET_SECRET}`,
        'proxy-authorization': `Basic ${base64(CLIENT_PROXY_CREDENTIALS)}`,
      });
      assert.equal(response.status, sent.status, sent.requestId);
      assert.equal(header(response, 'x-request-id'), sent.requestId);
      if (sent.status === 200) {
        const echo = json<EchoBody>(response);
        // The target gets the client's own Authorization, and none of the proxy credentials.
        assert.deepEqual(headerValues(echo.headers, 'authorization'), [`Bearer ${TARGET_SECRET}`]);
        assert.deepEqual(headerValues(echo.headers, 'proxy-authorization'), []);
        assert.deepEqual(headerValues(echo.headers, 'x-proxy-hopper-auth'), []);
      }
    }
    const finished = (line: LogLine) => line.message === 'request finished';
    const allFinished = await waitFor(
      () => hopper.logs.filter(finished).length === REQUESTS.length,
      5000,
    );
    assert.ok(allFinished, 'not every request wrote its request finished line');
    await hopper.stop();
    return hopper;
  }

  for (const [logLevel, keySuffix] of [
    ['DEBUG', 'debug'],
    ['TRACE', 'trace'],
  ] as const) {
    describe(`at ${logLevel}`, () => {
      let hopper: TestHopper;
      before(async () => {
        hopper = await runHopper(logLevel, keySuffix);
      });

      test('every line is JSON with the fixed keys', () => {
        assert.ok(hopper.rawLogLines.length > 0);
        assert.equal(hopper.rawLogLines.length, hopper.logs.length);
        for (const raw of hopper.rawLogLines) {
          const line = JSON.parse(raw) as Record<string, unknown>;
          assert.match(String(line.timestamp), TIMESTAMP, raw);
          assert.ok(LEVELS.has(String(line.level)), raw);
          assert.equal(typeof line.logger, 'string', raw);
          assert.match(String(line.logger), /^proxy_hopper(\.|$)/, raw);
          assert.equal(typeof line.message, 'string', raw);
          assert.notEqual(line.message, '', raw);
        }
      });

      test('no line contains a secret', () => {
        for (const raw of hopper.rawLogLines) {
          for (const secret of SECRETS) {
            assert.equal(raw.includes(secret), false, `log line contains ${secret}: ${raw}`);
          }
        }
      });

      test('one request finished line per request', () => {
        const lines = hopper.logs.filter((line) => line.message === 'request finished');
        assert.deepEqual(
          lines.map((line) => line.requestId).sort(),
          REQUESTS.map((sent) => sent.requestId).sort(),
        );
        for (const line of lines) {
          assert.equal(line.level, 'DEBUG');
          assert.equal(line.logger, 'proxy_hopper.requests');
          assert.equal(typeof line.durationMs, 'number');
          assert.ok((line.durationMs as number) >= 0);
          assert.equal(line.method, 'GET');
        }
        const byId = new Map(lines.map((line) => [line.requestId, line]));
        const retried = byId.get('req-log-retried') as LogLine;
        assert.equal(retried.target, 't');
        assert.equal(retried.status, 200);
        assert.equal(retried.attempts, 2);
        assert.equal(retried.address, (squids[1] as SquidPeer).address());
        assert.equal(retried.errorCode, null);
        assert.equal(
          retried.url,
          `${targets.httpOrigin}/fail-first/1/log-retried-${keySuffix}?api_key=[REDACTED]`,
        );
        const unmatched = byId.get('req-log-unmatched') as LogLine;
        assert.equal(unmatched.target, 'unmatched');
        assert.equal(unmatched.status, 503);
        assert.equal(unmatched.attempts, 0);
        assert.equal(unmatched.address, null);
        assert.equal(unmatched.errorCode, 'no_target_match');
      });

      test('failed request line names its attempts and last IP', () => {
        const line = hopper.logs.find(
          (entry) =>
            entry.message === 'request finished' && entry.requestId === 'req-log-exhausted',
        ) as LogLine;
        assert.equal(line.target, 't');
        assert.equal(line.status, 503);
        assert.equal(line.errorCode, 'upstream_error');
        // Both IPs were tried (numRetries 1), so the line must report 2 attempts and the last IP.
        assert.equal(line.attempts, 2);
        assert.equal(line.address, (squids[1] as SquidPeer).address());
      });

      test('warning lines carry the request id', () => {
        const warnings = hopper.logs.filter(
          (line) => line.level === 'WARNING' && line.logger === 'proxy_hopper.requests',
        );
        const pairs = warnings.map((line) => `${line.message}|${String(line.requestId)}`);
        assert.ok(pairs.includes('retrying on another ip|req-log-retried'), pairs.join('\n'));
        assert.ok(pairs.includes('retries exhausted|req-log-exhausted'), pairs.join('\n'));
        assert.ok(pairs.includes('no target matched|req-log-unmatched'), pairs.join('\n'));
        const ids = new Set(REQUESTS.map((sent) => sent.requestId));
        for (const line of warnings) {
          assert.ok(
            ids.has(String(line.requestId)),
            `warning without a request id: ${JSON.stringify(line)}`,
          );
        }
        if (logLevel === 'TRACE') {
          const attempts = hopper.logs.filter((line) => line.message === 'attempt finished');
          assert.deepEqual(attempts.map((line) => String(line.requestId)).sort(), [
            'req-log-exhausted',
            'req-log-exhausted',
            'req-log-retried',
            'req-log-retried',
          ]);
        }
      });
    });
  }
  test('startup lines are written once', async () => {
    const acme = {
      name: 'acme',
      addresses: squids.map((squid) => squid.address()),
      user: UPSTREAM_USER,
    };
    const hopper = await startHopper({
      server: {
        logLevel: 'INFO',
        metrics: true,
        metricsHost: '127.0.0.1',
        metricsPort: 0,
        admin: true,
        adminHost: '127.0.0.1',
        adminPort: 0,
      },
      proxyProviders: [providerDocument(acme)],
      ipPools: [poolDocument('p', [acme])],
      targets: [targetDocument('t', '.*', 'p')],
    });
    await hopper.stop();
    const { metricsPort, adminPort, proxyPort } = hopper.running;
    const expected = [
      `Prometheus metrics available on :${metricsPort}/metrics`,
      `Admin API listening on 127.0.0.1:${adminPort}`,
      `Proxy Hopper running on 127.0.0.1:${proxyPort} (backend=memory, auth=disabled)`,
    ];
    const counts = expected.map((message) => [
      message,
      hopper.logs.filter((line) => line.message === message && line.level === 'INFO').length,
    ]);
    assert.deepEqual(
      counts,
      expected.map((message) => [message, 1]),
    );
  });
});
