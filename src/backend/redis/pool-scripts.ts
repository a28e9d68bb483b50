/** The pool's Lua scripts, with the SHA1 that EVALSHA uses. */
import { LUA_ACQUIRE } from './lua-acquire.js';
import { LUA_CANCEL } from './lua-cancel.js';
import { LUA_SNAPSHOT, LUA_RENEW } from './lua-read.js';
import { LUA_RELEASE } from './lua-release.js';
import { LUA_SYNC } from './lua-sync.js';
import { defineScript } from './script-runner.js';

export const POOL_SCRIPTS = {
  acquire: defineScript('acquire', LUA_ACQUIRE),
  release: defineScript('release', LUA_RELEASE),
  renew: defineScript('renew', LUA_RENEW),
  snapshot: defineScript('snapshot', LUA_SNAPSHOT),
  sync: defineScript('sync', LUA_SYNC),
  cancel: defineScript('cancel', LUA_CANCEL),
};
