// The Authentik SSO steps of docs/auth.md end to end. A real OIDC issuer is shaped like
// Authentik and Proxy Hopper runs with the YAML of those steps. curl fetches a
// client-credentials token and then sends requests through Proxy Hopper and an upstream proxy
// to a loopback target.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { type CurlResponse, curl, header, json } from '../../helpers/clients.js';
import { type ChainProxy, startChainProxy } from '../../helpers/node-proxy.js';
import { type OidcIssuer, startOidcIssuer } from '../../helpers/oidc-issuer.js';
import { cleanupAll, registerCleanup } from '../../helpers/processes.js';
import { type TestHopper, startHopper } from '../../helpers/proxy-hopper.js';
import { type EchoBody, type TargetServers, startTargets } from '../../helpers/targets.js';

/** The Step 5 YAML of docs/auth.md, with the issuer, targets and upstream proxy of this test. */
function guideYaml(issuerUrl: string, upstream: string): string {
  return `
server:
  host: 127.0.0.1
  port: 0
  logLevel: DEBUG
  logFormat: json
auth:
  enabled: true
  oidc:
    issuerUrl: "${issuerUrl}"
    clientId: proxy-hopper
    clientSecret: proxy-hopper-secret
    roleClaimPath: proxy_hopper_role
    audience: proxy-hopper
  roles:
    data-team:
      targets: [data-api]
    maps-team:
      targets: [maps]
targets:
  - name: data-api
    regex: '/data/'
    ipList: ["${upstream}"]
    minRequestInterval: 0s
  - name: maps
    regex: '/maps/'
    ipList: ["${upstream}"]
    minRequestInterval: 0s
`;
}

describe('Authentik SSO guide', () => {
  let idp: OidcIssuer;
  let targets: TargetServers;
  let upstream: ChainProxy;
  let hopper: TestHopper;
  let tokenEndpoint: string;

  before(async () => {
    idp = await startOidcIssuer('authentik');
    registerCleanup(() => idp.stop());
    targets = await startTargets();
    registerCleanup(() => targets.close());
    upstream = await startChainProxy('127.0.0.31', null);
    registerCleanup(() => upstream.close());
    hopper = await startHopper(guideYaml(idp.issuer, upstream.address()));

    const discovery = await curl([`${idp.issuer}.well-known/openid-configuration`]);
    tokenEndpoint = String(json(discovery).token_endpoint);
  });

  after(cleanupAll);

  /** Step 6: `curl -u <client>:<secret> -d grant_type=client_credentials -d scope=...`. */
  async function fetchToken(clientId: string): Promise<string> {
    const response = await curl([
      '-u',
      `${clientId}:${clientId}-secret`,
      '-d',
      'grant_type=client_credentials',
      '--data-urlencode',
      'scope=openid proxy_hopper',
      tokenEndpoint,
    ]);
    assert.equal(response.status, 200, response.body.toString());
    return String(json(response).access_token);
  }

  function proxied(
    path: string,
    token: string | null,
    port = hopper.proxyPort,
  ): Promise<CurlResponse> {
    const auth = token === null ? [] : ['-H', `X-Proxy-Hopper-Auth: Bearer ${token}`];
    return curl([
      '-H',
      `X-Proxy-Hopper-Target: ${targets.httpOrigin}`,
      ...auth,
      `http://127.0.0.1:${port}${path}`,
    ]);
  }

  test('data-team token reaches its target', async () => {
    const token = await fetchToken('svc-data');
    const response = await proxied('/data/echo', token);
    assert.equal(response.status, 200, response.body.toString());
    const echo = json<EchoBody>(response);
    assert.equal(echo.remote, '127.0.0.31');
    assert.equal(echo.url, '/data/echo');
    const names = echo.headers.map(([name]) => name.toLowerCase());
    assert.equal(names.includes('x-proxy-hopper-auth'), false);
    assert.equal(names.includes('authorization'), false);
  });

  test('data-team token gets 403 on maps', async () => {
    const token = await fetchToken('svc-data');
    const response = await proxied('/maps/tile', token);
    assert.equal(response.status, 403);
    assert.equal(response.body.toString(), "Role 'data-team' cannot access target 'maps'");
    assert.equal(header(response, 'x-proxy-hopper-error'), 'forbidden');
  });

  test('admin token reaches both targets', async () => {
    const token = await fetchToken('svc-admin');
    for (const path of ['/data/echo', '/maps/echo']) {
      const response = await proxied(path, token);
      assert.equal(response.status, 200, path);
    }
  });

  test('fallback viewer has no proxy access', async () => {
    const response = await proxied('/maps/echo', await fetchToken('svc-other'));
    assert.equal(response.status, 403);
    assert.equal(response.body.toString(), "Role 'viewer' does not have proxy access");
  });

  test('missing token is 401 with a challenge', async () => {
    const response = await proxied('/data/echo', null);
    assert.equal(response.status, 401);
    assert.equal(
      response.body.toString(),
      'Authentication required — set X-Proxy-Hopper-Auth: Bearer <token>',
    );
    assert.equal(header(response, 'www-authenticate'), 'Bearer');
  });

  test('issuerUrl without trailing slash is 401 and logged', async () => {
    const withoutSlash = idp.issuer.replace(/\/$/, '');
    const strict = await startHopper(guideYaml(withoutSlash, upstream.address()));
    const token = await fetchToken('svc-admin');
    const response = await proxied('/data/echo', token, strict.proxyPort);
    assert.equal(response.status, 401);
    assert.equal(response.body.toString(), 'Invalid or expired token');
    assert.equal(header(response, 'www-authenticate'), 'Bearer error="invalid_token"');

    const line = await strict.waitForLog(
      (entry) => entry.message === 'OIDC token rejected: its issuer matches no configured issuer',
    );
    assert.equal(line.tokenIssuer, idp.issuer);
    assert.deepEqual(line.configuredIssuers, [withoutSlash]);
    assert.match(String(line.hint), /differ only by a trailing slash/);
    await strict.stop();
  });
});
