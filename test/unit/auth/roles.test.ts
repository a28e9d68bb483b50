import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { RoleTable, formatPermissions } from '../../../src/auth/roles.js';

describe('role table', () => {
  const table = new RoleTable([
    { name: 'data-team', permissions: ['read'], targets: ['data-api', 'reports'] },
    { name: 'maps-team', permissions: ['read'], targets: ['maps'] },
    { name: 'auditor', permissions: [], targets: ['*'] },
    { name: 'everywhere', permissions: ['read'], targets: ['*'] },
  ]);

  test('built-in admin has every permission and target', () => {
    const union = table.resolve(['admin']);
    assert.deepEqual(union.permissions, new Set(['read', 'write', 'admin']));
    assert.equal(union.proxyAccess, true);
    assert.equal(union.targets, '*');
  });

  test('built-in operator has read and write on all targets', () => {
    const union = table.resolve(['operator']);
    assert.deepEqual(union.permissions, new Set(['read', 'write']));
    assert.equal(union.proxyAccess, true);
    assert.equal(union.targets, '*');
  });

  test('built-in viewer has read but no proxy access', () => {
    const union = table.resolve(['viewer']);
    assert.deepEqual(union.permissions, new Set(['read']));
    assert.equal(union.proxyAccess, false);
    assert.deepEqual(union.targets, new Set());
  });

  test('custom role with read reaches its targets', () => {
    const union = table.resolve(['data-team']);
    assert.equal(union.proxyAccess, true);
    assert.deepEqual(union.targets, new Set(['data-api', 'reports']));
  });

  test('custom role without read has no proxy access', () => {
    const union = table.resolve(['auditor']);
    assert.equal(union.proxyAccess, false);
    assert.equal(union.permissions.size, 0);
  });

  test('several roles give the union', () => {
    const union = table.resolve(['data-team', 'maps-team', 'viewer']);
    assert.equal(union.proxyAccess, true);
    assert.deepEqual(union.targets, new Set(['data-api', 'reports', 'maps']));
    assert.deepEqual(union.permissions, new Set(['read']));
    assert.equal(table.resolve(['maps-team', 'everywhere']).targets, '*');
  });

  test('unknown roles add nothing', () => {
    const none = table.resolve(['offline_access', 'uma_authorization']);
    assert.equal(none.proxyAccess, false);
    assert.equal(none.permissions.size, 0);
    assert.deepEqual(table.resolve(['offline_access', 'maps-team']).targets, new Set(['maps']));
  });

  test('custom role shadows a built-in name', () => {
    const shadowed = new RoleTable([{ name: 'viewer', permissions: ['read'], targets: ['maps'] }]);
    const union = shadowed.resolve(['viewer']);
    assert.equal(union.proxyAccess, true);
    assert.deepEqual(union.targets, new Set(['maps']));
    const restricted = new RoleTable([{ name: 'admin', permissions: ['read'], targets: ['maps'] }]);
    assert.deepEqual(restricted.resolve(['admin']).permissions, new Set(['read']));
  });

  test('permissions are listed in a fixed order', () => {
    assert.equal(formatPermissions(new Set(['admin', 'read', 'write'])), 'read, write, admin');
    assert.equal(formatPermissions(new Set()), '');
  });
});
