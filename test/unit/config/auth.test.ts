import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { issuesOf, parse } from './helpers.js';

const HASH = '$2b$12$' + 'A'.repeat(53);
const TARGETS = `
targets:
  - {name: general, regex: '.*', ipList: ['127.0.0.1:1']}
  - {name: maps, regex: 'maps', ipList: ['127.0.0.1:2']}
`;

function withAuth(auth: string): string {
  return `auth:\n${auth.replace(/^\n/, '')}${TARGETS}`;
}

describe('auth block', () => {
  test('defaults', () => {
    assert.deepEqual(parse(TARGETS).auth, {
      enabled: false,
      jwtSecret: '',
      jwtExpiryMinutes: 60,
      users: [],
      apiKeys: [],
      oidc: [],
      roles: [],
    });
  });

  test('admin and users', () => {
    const auth = parse(
      withAuth(`
  admin: {username: root, passwordHash: '${HASH}'}
  users:
    - {username: ops, passwordHash: '$2a$10$${'b'.repeat(53)}', role: operator}
    - {username: view, passwordHash: '$2y$04$${'c'.repeat(53)}', role: viewer}
`),
    ).auth;
    assert.deepEqual(auth.users, [
      { username: 'root', passwordHash: HASH, role: 'admin' },
      { username: 'ops', passwordHash: `$2a$10$${'b'.repeat(53)}`, role: 'operator' },
      { username: 'view', passwordHash: `$2y$04$${'c'.repeat(53)}`, role: 'viewer' },
    ]);
  });

  test('API keys: key, keyHash and target defaults', () => {
    const digest = createHash('sha256').update('second').digest('hex');
    const auth = parse(
      withAuth(`
  apiKeys:
    - {name: one, key: first, targets: [maps]}
    - {name: two, keyHash: 'sha256:${digest.toUpperCase()}'}
`),
    ).auth;
    assert.deepEqual(auth.apiKeys, [
      {
        name: 'one',
        key: 'first',
        keySha256: createHash('sha256').update('first').digest('hex'),
        targets: ['maps'],
      },
      { name: 'two', key: null, keySha256: digest, targets: ['*'] },
    ]);
  });

  test('OIDC as one mapping keeps the issuer byte for byte', () => {
    const auth = parse(
      withAuth(`
  oidc:
    issuer: 'https://auth.test/application/o/ph/'
    audience: ph
    rolesClaim: groups
    clockTolerance: 30s
    jwksCacheTtl: 10m
    clientId: cid
    clientSecret: csecret
    name: authentik
`),
    ).auth;
    assert.deepEqual(auth.oidc, [
      {
        name: 'authentik',
        issuer: 'https://auth.test/application/o/ph/',
        audience: ['ph'],
        rolesClaim: 'groups',
        clockToleranceSec: 30,
        jwksCacheTtlMs: 600_000,
        clientId: 'cid',
        clientSecret: 'csecret',
      },
    ]);
  });

  test('OIDC as a list, docs spellings and a providers wrapper', () => {
    const list = parse(
      withAuth(`
  oidc:
    - {issuerUrl: 'https://kc.test/realms/r1', roleClaimPath: realm_access.roles, audience: [ph, account]}
    - {issuer: 'https://login.test/tenant/v2.0', roleClaim: roles, audience: api}
`),
    ).auth.oidc;
    assert.deepEqual(
      list.map((p) => [p.name, p.issuer, p.rolesClaim, p.audience]),
      [
        [
          'https://kc.test/realms/r1',
          'https://kc.test/realms/r1',
          'realm_access.roles',
          ['ph', 'account'],
        ],
        ['https://login.test/tenant/v2.0', 'https://login.test/tenant/v2.0', 'roles', ['api']],
      ],
    );
    const wrapped = parse(
      withAuth(`  oidc:\n    providers:\n      - {issuer: 'https://a.test/', audience: x}\n`),
    ).auth.oidc;
    assert.deepEqual(
      wrapped.map((p) => p.issuer),
      ['https://a.test/'],
    );
  });

  test('OIDC without audience warns', () => {
    const config = parse(withAuth(`  oidc: {issuer: 'https://a.test'}\n`));
    assert.deepEqual(config.auth.oidc[0]?.audience, []);
    assert.deepEqual(config.warnings, [
      "OIDC provider 'https://a.test' has no audience, so a token from this issuer is accepted whatever client it was issued for; set 'audience'",
    ]);
  });

  test('roles as a mapping and as a list', () => {
    const fromMap = parse(
      withAuth(`
  roles:
    maps-team: {targets: [maps]}
    editors: {permissions: [read, WRITE]}
    empty:
`),
    ).auth.roles;
    assert.deepEqual(fromMap, [
      { name: 'maps-team', permissions: ['read'], targets: ['maps'] },
      { name: 'editors', permissions: ['read', 'write'], targets: ['*'] },
      { name: 'empty', permissions: ['read'], targets: ['*'] },
    ]);
    const fromList = parse(
      withAuth(`
  roles:
    - {name: maps-team, targets: [maps]}
    - {name: ops, permissions: [read, write, admin], targets: ['*']}
`),
    ).auth.roles;
    assert.deepEqual(fromList, [
      { name: 'maps-team', permissions: ['read'], targets: ['maps'] },
      { name: 'ops', permissions: ['read', 'write', 'admin'], targets: ['*'] },
    ]);
  });

  test('user with an undefined role warns', () => {
    const config = parse(
      withAuth(`  users: [{username: u, passwordHash: '${HASH}', role: scrapers}]\n`),
    );
    assert.deepEqual(config.warnings, [
      "User 'u' has role 'scrapers', which is neither built in nor defined in auth.roles, so it has no permissions",
    ]);
  });

  test('auth enabled without credentials warns', () => {
    const config = parse(withAuth('  enabled: true\n'));
    assert.deepEqual(config.warnings, [
      'auth.enabled is true but no users, API keys or OIDC providers are configured, so every request is rejected',
    ]);
  });

  const invalid: [string, string, string[]][] = [
    [
      'issuer not an absolute URL',
      `  oidc: {issuer: 'auth.test/app', audience: x}\n`,
      [
        "auth.oidc.issuer: Invalid issuer 'auth.test/app': expected an absolute http:// or https:// URL",
      ],
    ],
    [
      'issuer with another scheme',
      `  oidc: [{issuer: 'ftp://auth.test/', audience: x}]\n`,
      [
        "auth.oidc[0].issuer: Invalid issuer 'ftp://auth.test/': expected an absolute http:// or https:// URL",
      ],
    ],
    [
      'API key naming an unknown target',
      `  apiKeys: [{name: k, key: s, targets: [general, nope]}]\n`,
      [
        "auth.apiKeys[0].targets[1]: API key 'k' names unknown target 'nope'. Defined targets: ['general', 'maps']",
      ],
    ],
    [
      'role naming an unknown target',
      `  roles: {r: {targets: [nope]}}\n`,
      [
        "auth.roles.r.targets[0]: Role 'r' names unknown target 'nope'. Defined targets: ['general', 'maps']",
      ],
    ],
    [
      'password hash that is not bcrypt',
      `  admin: {username: a, passwordHash: 'plain'}\n`,
      [
        "auth.admin.passwordHash: Invalid passwordHash: expected a bcrypt hash such as '$2b$12$...' (60 characters); create one with 'proxy-hopper hash-password'",
      ],
    ],
    [
      'bcrypt hash with a short body',
      `  users: [{username: a, passwordHash: '$2b$12$${'a'.repeat(52)}'}]\n`,
      [
        "auth.users[0].passwordHash: Invalid passwordHash: expected a bcrypt hash such as '$2b$12$...' (60 characters); create one with 'proxy-hopper hash-password'",
      ],
    ],
    [
      'two API keys with the same key',
      `  apiKeys: [{name: a, key: same}, {name: b, key: same}]\n`,
      [
        "auth.apiKeys[1].key: API key 'b' has the same key as API key 'a'. Every key must be unique",
      ],
    ],
    [
      'key and keyHash of the same secret',
      `  apiKeys: [{name: a, key: same}, {name: b, keyHash: 'sha256:${createHash('sha256').update('same').digest('hex')}'}]\n`,
      [
        "auth.apiKeys[1].keyHash: API key 'b' has the same key as API key 'a'. Every key must be unique",
      ],
    ],
    [
      'API key with both key and keyHash',
      `  apiKeys: [{name: a, key: s, keyHash: 'sha256:${'0'.repeat(64)}'}]\n`,
      ["auth.apiKeys[0]: API key 'a' must set exactly one of 'key' or 'keyHash'"],
    ],
    [
      'API key with neither',
      `  apiKeys: [{name: a}]\n`,
      ["auth.apiKeys[0]: API key 'a' must set exactly one of 'key' or 'keyHash'"],
    ],
    [
      'malformed keyHash',
      `  apiKeys: [{name: a, keyHash: 'md5:abc'}]\n`,
      [
        "auth.apiKeys[0].keyHash: Invalid keyHash: expected 'sha256:' and 64 hex digits; create one with 'proxy-hopper hash-key'",
      ],
    ],
    [
      'duplicate API key name',
      `  apiKeys: [{name: a, key: one}, {name: a, key: two}]\n`,
      ["auth.apiKeys[1].name: Duplicate API key name: 'a'"],
    ],
    [
      'unknown permission',
      `  roles: [{name: r, permissions: [read, fly]}]\n`,
      [
        "auth.roles[0].permissions[1]: Unknown permission 'fly'. Valid permissions: ['read', 'write', 'admin']",
      ],
    ],
    [
      'duplicate username',
      `  admin: {username: a, passwordHash: '${HASH}'}\n  users: [{username: a, passwordHash: '${HASH}'}]\n`,
      ["auth.users[0].username: Duplicate username: 'a'"],
    ],
    [
      'duplicate role in list form',
      `  roles: [{name: r}, {name: r}]\n`,
      ["auth.roles[1].name: Duplicate role name: 'r'"],
    ],
    [
      'typo in an auth key',
      `  jwtSecrets: x\n`,
      ["auth.jwtSecrets: Unknown key 'jwtSecrets'. Did you mean 'jwtSecret'?"],
    ],
    [
      'typo in an OIDC key',
      `  oidc: {issuer: 'https://a.test/', audiences: x}\n`,
      ["auth.oidc.audiences: Unknown key 'audiences'. Did you mean 'audience'?"],
    ],
  ];
  for (const [name, auth, expected] of invalid) {
    test(name, () => {
      assert.deepEqual(issuesOf(withAuth(auth)), expected);
    });
  }
});
