import { LUA_PRELUDE } from './lua-prelude.js';

/**
 * Registers or updates a target's pool. Kept addresses keep their state (including leases that
 * other instances hold), new ones start available, and only addresses missing from the new
 * list are removed. ARGV[3..6] = minRequestIntervalMs, ipFailuresUntilQuarantine,
 * quarantineMs, minActiveIps; ARGV[7..] = address, provider, region triples in config order.
 */
export const LUA_SYNC =
  LUA_PRELUDE +
  `
local now = server_now()
redis.call('HSET', META, 'interval', ARGV[3], 'threshold', ARGV[4], 'quarantine', ARGV[5],
  'floor', ARGV[6])

local wanted, order = {}, {}
for i = 7, #ARGV, 3 do
  wanted[ARGV[i]] = true
  table.insert(order, { a = ARGV[i], p = ARGV[i + 1], r = ARGV[i + 2] })
end
for _, address in ipairs(redis.call('HKEYS', STATE)) do
  if not wanted[address] then redis.call('HDEL', STATE, address) end
end

redis.call('DEL', IPS)
local added = 0
for index, entry in ipairs(order) do
  redis.call('ZADD', IPS, index, entry.a)
  local raw = redis.call('HGET', STATE, entry.a)
  if raw then
    local ip = cjson.decode(raw)
    if ip.p ~= entry.p or ip.r ~= entry.r then
      ip.a, ip.p, ip.r = entry.a, entry.p, entry.r
      save(ip)
    end
  else
    save({ a = entry.a, lid = '', lexp = 0, last = -1, next = 0, f = 0, q = 0,
      p = entry.p, r = entry.r })
    added = added + 1
  end
end
wake()
return cjson.encode({ now = now, added = added })
`;
