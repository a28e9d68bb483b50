import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { readRoleClaim } from '../../../src/auth/oidc/role-claim.js';

describe('role claim path', () => {
  const keycloak = {
    realm_access: { roles: ['offline_access', 'scraper'] },
    resource_access: { ph: { roles: ['admin'] } },
  };

  test('dotted path descends into nested objects', () => {
    assert.deepEqual(readRoleClaim(keycloak, 'realm_access.roles'), ['offline_access', 'scraper']);
    assert.deepEqual(readRoleClaim(keycloak, 'resource_access.ph.roles'), ['admin']);
  });

  test('literal top-level dotted key wins', () => {
    const payload = { 'realm_access.roles': 'literal', realm_access: { roles: ['nested'] } };
    assert.deepEqual(readRoleClaim(payload, 'realm_access.roles'), ['literal']);
  });

  test('string value is one role', () => {
    assert.deepEqual(readRoleClaim({ proxy_hopper_role: 'data-team' }, 'proxy_hopper_role'), [
      'data-team',
    ]);
    assert.deepEqual(readRoleClaim({ a: { b: 'maps-team' } }, 'a.b'), ['maps-team']);
  });

  test('array keeps only strings', () => {
    assert.deepEqual(readRoleClaim({ roles: ['a', 1, null, 'b', { c: 1 }] }, 'roles'), ['a', 'b']);
  });

  test('missing path is null', () => {
    assert.equal(readRoleClaim(keycloak, 'realm_access.groups'), null);
    assert.equal(readRoleClaim(keycloak, 'proxy_hopper_role'), null);
    assert.equal(readRoleClaim({ realm_access: 'x' }, 'realm_access.roles'), null);
    assert.equal(readRoleClaim({ roles: null }, 'roles'), null);
  });

  test('non-string values give no roles', () => {
    assert.deepEqual(readRoleClaim({ roles: 7 }, 'roles'), []);
    assert.deepEqual(readRoleClaim({ roles: { admin: true } }, 'roles'), []);
  });

  test('prototype names are not claims', () => {
    assert.equal(readRoleClaim({}, 'constructor'), null);
    assert.equal(readRoleClaim({ a: {} }, 'a.__proto__'), null);
  });
});
