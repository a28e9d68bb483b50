import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { request } from 'undici';

import { startAdminServer, type AdminServer } from '../../../src/admin/server.js';
import { createAuth, hashPassword, type Auth } from '../../../src/auth/index.js';
import { MemoryBackend } from '../../../src/backend/memory-backend.js';
import type { Config } from '../../../src/config/types.js';
import { EventBus } from '../../../src/observe/events.js';
import { createMetrics, type Metrics } from '../../../src/observe/metrics.js';
import { apiKey, configWithAuth } from '../../helpers/auth-config.js';
import { ip, poolSpec, serverConfig, target } from '../../helpers/observe/fixtures.js';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

const silent = pino({ level: 'silent' });
const A = ip('127.0.0.2:3128', 'acme', 'eu');
const B = ip('127.0.0.3:3128', 'acme', 'us');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

async function call(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const response = await request(`http://127.0.0.1:${port}${path}`, {
    method: (options.method ?? 'GET') as 'GET',
    headers: options.headers ?? {},
    body: options.body ?? null,
  });
  const text = await response.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Non-JSON bodies (metrics text) are checked through `text`.
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

interface Rig {
  auth: Auth;
  backend: MemoryBackend;
  metrics: Metrics;
  server: AdminServer;
  close(): Promise<void>;
}

async function startRig(config: Config, registryOff = false, notReady = false): Promise<Rig> {
  const backend = new MemoryBackend();
  await backend.start();
  for (const targetConfig of config.targets) await backend.syncTarget(poolSpec(targetConfig));
  const auth = createAuth(config, { logger: silent });
  const metrics = createMetrics({
    events: new EventBus(),
    backend,
    targets: () => config.targets,
    refreshIntervalMs: 0,
    defaultMetrics: false,
  });
  // The only stand-in: a memory backend that reports itself unavailable, as a down Redis does.
  const served = notReady
    ? { kind: 'redis' as const, isReady: () => false, snapshot: backend.snapshot.bind(backend) }
    : backend;
  const server = await startAdminServer({
    config,
    backend: served,
    authorizer: auth.authorizer,
    login: auth.login,
    registry: registryOff ? null : metrics.registry,
    logger: silent,
  });
  return {
    auth,
    backend,
    metrics,
    server,
    async close() {
      await server.close();
      metrics.stop();
      auth.close();
      await backend.stop();
    },
  };
}

async function authConfig(): Promise<Config> {
  const config = configWithAuth({
    users: [{ username: 'vera', passwordHash: await hashPassword('vera-pass'), role: 'viewer' }],
    apiKeys: [apiKey('ci', 'ci-key-0123456789')],
  });
  const shop = target('shop', [A, B], { ipFailuresUntilQuarantine: 1, quarantineMs: 60_000 });
  return { ...config, server: serverConfig(), targets: [shop] };
}

async function login(port: number, username: string, password: string): Promise<Reply> {
  return call(port, '/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
}

describe('admin server with auth on', () => {
  let rig: Rig;
  let token: string;
  let quarantinedAddress: string;

  before(async () => {
    rig = await startRig(await authConfig());
    const leased = await rig.backend.tryAcquire('shop', new Set());
    assert.equal(leased.kind, 'leased');
    if (leased.kind !== 'leased') return;
    quarantinedAddress = leased.lease.address;
    await rig.backend.release(leased.lease, { result: 'failure', cooldownFromRelease: false });
    const reply = await login(rig.server.port, 'vera', 'vera-pass');
    assert.equal(reply.status, 200);
    token = String(reply.json.access_token);
  });
  after(() => rig.close());

  test('health is public and exact', async () => {
    const reply = await call(rig.server.port, '/health');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, '{"status":"ok"}');
    assert.equal(reply.headers['content-type'], 'application/json');
  });

  test('status shape for a viewer', async () => {
    const reply = await call(rig.server.port, '/api/v1/status', {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.json.backend, 'memory');
    assert.equal(reply.json.backend_ready, true);
    assert.equal(reply.json.auth_enabled, true);
    assert.deepEqual(reply.json.user, { sub: 'vera', role: 'viewer', roles: ['viewer'] });
    const [shop] = reply.json.targets as Record<string, unknown>[];
    assert.equal(shop?.name, 'shop');
    assert.equal(shop?.regex, '.*shop.*');
    assert.equal(shop?.ip_count, 2);
    assert.equal(shop?.available, 1);
    assert.equal(shop?.quarantined, 1);
    const ips = shop?.ips as Record<string, unknown>[];
    const bad = ips.find((entry) => entry.address === quarantinedAddress);
    const good = ips.find((entry) => entry.address !== quarantinedAddress);
    assert.equal(bad?.status, 'quarantined');
    assert.equal(bad?.failures, 1);
    assert.equal(bad?.provider, 'acme');
    const until = Date.parse(String(bad?.quarantined_until));
    assert.ok(
      Math.abs(until - (Date.now() + 60_000)) < 5000,
      `quarantined_until ${String(bad?.quarantined_until)}`,
    );
    assert.match(String(bad?.quarantined_until), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.equal(good?.status, 'available');
    assert.equal(good?.quarantined_until, null);
    assert.equal(good?.reachable, null);
  });

  test('status accepts X-Proxy-Hopper-Auth', async () => {
    const reply = await call(rig.server.port, '/api/v1/status', {
      headers: { 'x-proxy-hopper-auth': `Bearer ${token}` },
    });
    assert.equal(reply.status, 200);
  });

  test('status without token is 401', async () => {
    const reply = await call(rig.server.port, '/api/v1/status');
    assert.equal(reply.status, 401);
    assert.deepEqual(reply.json, {
      detail: 'Authentication required — set Authorization: Bearer <token>',
    });
    assert.equal(reply.headers['www-authenticate'], 'Bearer');
  });

  test('invalid token is 401 with challenge', async () => {
    const reply = await call(rig.server.port, '/api/v1/status', {
      headers: { authorization: 'Bearer not-a-token' },
    });
    assert.equal(reply.status, 401);
    assert.deepEqual(reply.json, { detail: 'Invalid or expired token' });
    assert.match(String(reply.headers['www-authenticate']), /^Bearer/);
  });

  test('api key without permissions is 403', async () => {
    const reply = await call(rig.server.port, '/api/v1/status', {
      headers: { authorization: 'Bearer ci-key-0123456789' },
    });
    assert.equal(reply.status, 403);
    assert.equal(typeof reply.json.detail, 'string');
    assert.ok(!reply.text.includes('ci-key-0123456789'));
  });

  test('metrics need read and parse', async () => {
    const denied = await call(rig.server.port, '/metrics');
    assert.equal(denied.status, 401);
    const reply = await call(rig.server.port, '/metrics', {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(reply.status, 200);
    const names = parsePrometheusTextFormat(reply.text).map((family) => family.name);
    assert.ok(names.includes('proxy_hopper_requests_total'));
    assert.ok(names.includes('proxy_hopper_backend_up'));
  });

  test('wrong password passes the login answer through', async () => {
    const reply = await login(rig.server.port, 'vera', 'nope');
    assert.equal(reply.status, 401);
    assert.deepEqual(reply.json, { detail: 'Incorrect username or password' });
    assert.equal(reply.headers['www-authenticate'], 'Bearer');
  });

  test('login body over 64 KiB is 413', async () => {
    const reply = await call(rig.server.port, '/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'x'.repeat(70 * 1024), password: 'y' }),
    });
    assert.equal(reply.status, 413);
    assert.equal(reply.json.detail, 'Request body is larger than 65536 bytes');
  });

  test('unknown route 404 names the path', async () => {
    const reply = await call(rig.server.port, '/api/v2/nothing?token=secret-q');
    assert.equal(reply.status, 404);
    assert.deepEqual(reply.json, { detail: 'Not found: /api/v2/nothing' });
  });

  test('wrong method 405 with Allow', async () => {
    const health = await call(rig.server.port, '/health', { method: 'POST' });
    assert.equal(health.status, 405);
    assert.equal(health.headers.allow, 'GET, HEAD');
    assert.deepEqual(health.json, {
      detail: 'Method POST is not allowed on /health; use GET, HEAD',
    });
    const loginGet = await call(rig.server.port, '/auth/login');
    assert.equal(loginGet.status, 405);
    assert.equal(loginGet.headers.allow, 'POST');
  });

  test('cors preflight', async () => {
    const reply = await call(rig.server.port, '/api/v1/status', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://ui.test',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    assert.equal(reply.status, 204);
    assert.equal(reply.headers['access-control-allow-origin'], 'http://ui.test');
    assert.equal(reply.headers['access-control-allow-headers'], 'authorization');
    assert.equal(reply.headers['access-control-allow-credentials'], 'true');
  });
});

describe('admin server other modes', () => {
  test('auth off lets everyone read', async () => {
    const config = {
      ...(await authConfig()),
      auth: { ...(await authConfig()).auth, enabled: false },
    };
    const rig = await startRig(config);
    try {
      const reply = await call(rig.server.port, '/api/v1/status');
      assert.equal(reply.status, 200);
      assert.equal(reply.json.auth_enabled, false);
      assert.deepEqual(reply.json.user, { sub: 'anonymous', role: 'admin', roles: ['admin'] });
      const metrics = await call(rig.server.port, '/metrics');
      assert.equal(metrics.status, 200);
    } finally {
      await rig.close();
    }
  });

  test('metrics off is 404', async () => {
    const config = await authConfig();
    const rig = await startRig({ ...config, auth: { ...config.auth, enabled: false } }, true);
    try {
      const reply = await call(rig.server.port, '/metrics');
      assert.equal(reply.status, 404);
      assert.deepEqual(reply.json, { detail: 'Metrics are disabled: set server.metrics: true' });
    } finally {
      await rig.close();
    }
  });

  test('backend down makes health 503', async () => {
    const rig = await startRig(await authConfig(), false, true);
    try {
      const reply = await call(rig.server.port, '/health');
      assert.equal(reply.status, 503);
      assert.deepEqual(reply.json, {
        status: 'unavailable',
        failing: ['backend'],
        backend: 'redis',
      });
    } finally {
      await rig.close();
    }
  });
});
