import { LUA_PRELUDE } from './lua-prelude.js';

/**
 * Frees the leases that acquires took after this instance had given up on them (the command
 * timed out or the connection failed, so no caller holds the lease). Failures and spacing stay
 * as they are. ARGV[3..] = lease ids.
 */
export const LUA_CANCEL =
  LUA_PRELUDE +
  `
local now = server_now()
local ids = {}
for i = 3, #ARGV do ids[ARGV[i]] = true end
local ips = load_ips()
local cancelled = 0
for _, ip in ipairs(ips) do
  if ip.lid ~= '' and ids[ip.lid] then
    ip.lid = ''
    ip.dirty = true
    cancelled = cancelled + 1
  end
end
save_dirty(ips)
if cancelled > 0 then wake() end
return cjson.encode({ now = now, cancelled = cancelled })
`;
