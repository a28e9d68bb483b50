import { LUA_PRELUDE } from './lua-prelude.js';

/**
 * Returns every IP of the target in config order, after ending due quarantines and expired
 * leases (so it doubles as the timer's refresh). No extra ARGV.
 */
export const LUA_SNAPSHOT =
  LUA_PRELUDE +
  `
local settings = load_settings()
if not settings then return cjson.encode({ missing = true }) end
local now = server_now()
local ips = load_ips()
local released, changed = refresh(ips, now)
save_dirty(ips)
if changed then wake() end
local rows = {}
for _, ip in ipairs(ips) do
  table.insert(rows, { a = ip.a, p = ip.p, r = ip.r, lid = ip.lid, lexp = ip.lexp,
    next = ip.next, f = ip.f, q = ip.q })
end
return cjson.encode({ now = now, released = released, ips = rows, changed = changed,
  deadline = next_deadline(ips) })
`;

/**
 * Extends a lease that is still held and not expired. ARGV[3] = address, ARGV[4] = lease id,
 * ARGV[5] = lease TTL in ms.
 */
export const LUA_RENEW =
  LUA_PRELUDE +
  `
local now = server_now()
local raw = redis.call('HGET', STATE, ARGV[3])
if not raw then return cjson.encode({ now = now, renewed = false }) end
local ip = cjson.decode(raw)
ip.a = ARGV[3]
if ip.lid ~= ARGV[4] or ip.lexp <= now then return cjson.encode({ now = now, renewed = false }) end
ip.lexp = now + tonumber(ARGV[5])
save(ip)
return cjson.encode({ now = now, renewed = true, deadline = ip.lexp })
`;
