import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { differOnlyByTrailingSlash, discoveryUrl } from '../../../src/auth/oidc/discovery.js';

describe('discovery URL', () => {
  test('issuer with trailing slash gets no double slash', () => {
    assert.equal(
      discoveryUrl('https://auth.test/application/o/ph/'),
      'https://auth.test/application/o/ph/.well-known/openid-configuration',
    );
  });

  test('issuer without trailing slash keeps its path', () => {
    assert.equal(
      discoveryUrl('https://kc.test/realms/r1'),
      'https://kc.test/realms/r1/.well-known/openid-configuration',
    );
    assert.equal(
      discoveryUrl('https://login.test/tenant/v2.0'),
      'https://login.test/tenant/v2.0/.well-known/openid-configuration',
    );
  });

  test('trailing slash difference is detected', () => {
    assert.equal(differOnlyByTrailingSlash('https://a.test/o/ph/', 'https://a.test/o/ph'), true);
    assert.equal(differOnlyByTrailingSlash('https://a.test/o/ph', 'https://a.test/o/ph/'), true);
    assert.equal(differOnlyByTrailingSlash('https://a.test/o/ph/', 'https://a.test/o/ph/'), false);
    assert.equal(differOnlyByTrailingSlash('https://a.test/o/ph/', 'https://a.test/o/px/'), false);
  });
});
