/**
 * Role table: built-in roles plus the custom roles of `auth.roles`, which may shadow a built-in
 * name. Proxy access rule: a role grants proxy access when it is a custom role with the `read`
 * permission (to its own targets) or the built-in `admin` or `operator` (to every target). The
 * built-in `viewer` has `read` for the admin API but no proxy access, so a fallback role that an
 * IdP gives to everyone else is least privilege.
 */
import type { Permission, RoleConfig } from '../config/types.js';

export interface RoleGrant {
  permissions: ReadonlySet<Permission>;
  /** Targets the role may proxy to, `*` for all, or null when the role has no proxy access. */
  proxyTargets: '*' | ReadonlySet<string> | null;
}

/** Grant of a caller with several roles: the union of every known role's grant. */
export interface RoleUnion {
  permissions: ReadonlySet<Permission>;
  proxyAccess: boolean;
  /** Proxy targets, `*` for all; empty when there is no proxy access. */
  targets: '*' | ReadonlySet<string>;
}

export const PERMISSION_ORDER: readonly Permission[] = ['read', 'write', 'admin'];

const BUILT_IN_ROLES: ReadonlyMap<string, RoleGrant> = new Map([
  ['admin', { permissions: new Set<Permission>(['read', 'write', 'admin']), proxyTargets: '*' }],
  ['operator', { permissions: new Set<Permission>(['read', 'write']), proxyTargets: '*' }],
  ['viewer', { permissions: new Set<Permission>(['read']), proxyTargets: null }],
]);

export class RoleTable {
  readonly #roles: Map<string, RoleGrant>;

  constructor(customRoles: readonly RoleConfig[]) {
    this.#roles = new Map(BUILT_IN_ROLES);
    for (const role of customRoles) this.#roles.set(role.name, customGrant(role));
  }

  /** Returns the grant of a role name, or null for an unknown role. */
  lookup(name: string): RoleGrant | null {
    return this.#roles.get(name) ?? null;
  }

  /** Merges the grants of every known role in `names`; unknown names add nothing. */
  resolve(names: readonly string[]): RoleUnion {
    const permissions = new Set<Permission>();
    const targets = new Set<string>();
    let allTargets = false;
    let proxyAccess = false;

    for (const name of names) {
      const grant = this.lookup(name);
      if (grant === null) continue;
      for (const permission of grant.permissions) permissions.add(permission);
      if (grant.proxyTargets === null) continue;
      proxyAccess = true;
      if (grant.proxyTargets === '*') allTargets = true;
      else for (const target of grant.proxyTargets) targets.add(target);
    }
    return { permissions, proxyAccess, targets: allTargets ? '*' : targets };
  }
}

function customGrant(role: RoleConfig): RoleGrant {
  const permissions = new Set(role.permissions);
  if (!permissions.has('read')) return { permissions, proxyTargets: null };
  const proxyTargets = role.targets.includes('*') ? '*' : new Set(role.targets);
  return { permissions, proxyTargets };
}

/** Lists permissions in a fixed order for messages: `read, write`. */
export function formatPermissions(permissions: ReadonlySet<Permission>): string {
  return PERMISSION_ORDER.filter((permission) => permissions.has(permission)).join(', ');
}
