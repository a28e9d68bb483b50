// A real OIDC issuer (oidc-provider) on loopback, run as a child process by oidc-issuer.ts.
// Usage: node oidc-issuer-process.mjs <authentik|azure|keycloak>
// Prints `READY {"issuer":...,"origin":...}` once listening on a free port. Clients stand in
// for service accounts; each is in groups that map to Proxy Hopper roles. Every client's
// secret is `<client id>-secret`.
// Control: POST <origin>/__control/rotate adds a new signing key (kept old keys stay in JWKS)
// and answers {"kid": <new kid>}.
import http from 'node:http';

import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const SHAPES = {
  // Authentik: /application/o/<slug>/ with a trailing slash, a single-valued custom claim that a
  // scope mapping adds only for the `proxy_hopper` scope.
  authentik: { prefix: '/application/o/proxy-hopper/', audience: 'proxy-hopper' },
  // Azure AD v2: /<tenant>/v2.0 without a trailing slash, app roles in a `roles` array.
  azure: { prefix: '/tenant-1/v2.0', audience: 'api://proxy-hopper' },
  // Keycloak: /realms/<realm>, roles in `realm_access.roles`, access tokens for audience `account`.
  keycloak: { prefix: '/realms/r1', audience: 'account' },
};

const DEFAULT_RESOURCE = 'urn:proxy-hopper:default';

const CLIENT_GROUPS = {
  'proxy-hopper': ['proxy-hopper-admins'],
  'svc-admin': ['proxy-hopper-admins'],
  'svc-data': ['data-team'],
  'svc-maps': ['maps-team'],
  'svc-both': ['data-team', 'maps-team'],
  'svc-other': ['marketing'],
};

const shapeName = process.argv[2] ?? 'authentik';
const shape = SHAPES[shapeName];
if (shape === undefined) throw new Error(`unknown issuer shape ${shapeName}`);

/** Maps groups to one role, as the Authentik scope mapping of docs/auth.md does. */
function authentikRole(groups) {
  if (groups.includes('proxy-hopper-admins')) return 'admin';
  if (groups.includes('data-team')) return 'data-team';
  if (groups.includes('maps-team')) return 'maps-team';
  return 'viewer';
}

function groupRoles(groups) {
  const roles = groups.map((group) => (group === 'proxy-hopper-admins' ? 'admin' : group));
  return roles.filter((role) => role !== 'marketing');
}

function shapeClaims(clientId, scope) {
  const groups = CLIENT_GROUPS[clientId] ?? [];
  if (shapeName === 'authentik') {
    const scopes = String(scope ?? '').split(' ');
    return scopes.includes('proxy_hopper') ? { proxy_hopper_role: authentikRole(groups) } : {};
  }
  if (shapeName === 'azure') return { roles: groupRoles(groups), tid: 'tenant-1' };
  return { realm_access: { roles: ['offline_access', ...groupRoles(groups)] } };
}

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const issuer = `${origin}${shape.prefix}`;
const mountPath = shape.prefix.replace(/\/$/, '');

const signingKeys = [];
let callback = null;

async function addSigningKey() {
  const kid = `key-${signingKeys.length + 1}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  signingKeys.unshift({ ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' });
  callback = buildProvider().callback();
  return kid;
}

function buildProvider() {
  const provider = new Provider(issuer, {
    jwks: { keys: signingKeys },
    cookies: { keys: ['oidc-issuer-test-cookie-key'] },
    clients: Object.keys(CLIENT_GROUPS).map((clientId) => ({
      client_id: clientId,
      client_secret: `${clientId}-secret`,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    scopes: ['openid', 'proxy_hopper'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Resource indicators must be absolute URIs; the default one stands for the shape's
        // usual audience, and any other `resource` becomes the audience itself.
        defaultResource: () => DEFAULT_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => ({
          scope: 'openid proxy_hopper',
          audience: resourceIndicator === DEFAULT_RESOURCE ? shape.audience : resourceIndicator,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    extraTokenClaims: (_ctx, token) => shapeClaims(token.clientId, token.scope),
  });
  provider.on('server_error', (_ctx, error) => console.error('oidc-provider error', error));
  return provider;
}

await addSigningKey();

server.on('request', (req, res) => {
  if (req.method === 'POST' && req.url === '/__control/rotate') {
    addSigningKey().then((kid) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kid }));
    });
    return;
  }
  if (req.url === mountPath || req.url.startsWith(`${mountPath}/`)) {
    req.originalUrl = req.url;
    req.url = req.url.slice(mountPath.length) || '/';
    callback(req, res);
    return;
  }
  res.writeHead(404).end();
});

console.log(`READY ${JSON.stringify({ issuer, origin, shape: shapeName })}`);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
