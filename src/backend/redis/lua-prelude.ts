/**
 * Lua helpers shared by every pool script. Each script gets KEYS = [meta, ips, state] of one
 * target (see keys.ts) and ARGV[1] = wake channel, ARGV[2] = target name.
 *
 * Time comes from the Redis server's TIME inside the script, so instances with skewed clocks
 * agree on spacing, lease expiry and quarantine ends. Times are epoch ms, which cjson's 14
 * significant digits represent exactly.
 *
 * Each IP's state is one JSON field of the state hash, with these keys:
 * - lid: lease id, '' when none; lexp: lease expiry.
 * - last: start of the latest lease, -1 when never; next: next allowed start.
 * - f: consecutive failures; q: quarantine end, 0 when not quarantined.
 * - p and r: provider and region.
 */
export const LUA_PRELUDE = `
local META, IPS, STATE = KEYS[1], KEYS[2], KEYS[3]
local CHANNEL, TARGET = ARGV[1], ARGV[2]

local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function load_settings()
  local raw = redis.call('HMGET', META, 'interval', 'threshold', 'quarantine', 'floor')
  if not raw[1] then return nil end
  return {
    interval = tonumber(raw[1]),
    threshold = tonumber(raw[2]),
    quarantine = tonumber(raw[3]),
    floor = tonumber(raw[4]),
  }
end

-- HMGET in batches, because unpack() of more than about 8000 values fails in Redis' Lua.
local function load_ips()
  local addresses = redis.call('ZRANGE', IPS, 0, -1)
  local ips = {}
  for first = 1, #addresses, 1000 do
    local last = math.min(first + 999, #addresses)
    local raw = redis.call('HMGET', STATE, unpack(addresses, first, last))
    for i = first, last do
      local value = raw[i - first + 1]
      if value then
        local ip = cjson.decode(value)
        ip.a = addresses[i]
        table.insert(ips, ip)
      end
    end
  end
  return ips
end

local function save(ip)
  local fields = { lid = ip.lid, lexp = ip.lexp, last = ip.last, next = ip.next,
    f = ip.f, q = ip.q, p = ip.p, r = ip.r }
  redis.call('HSET', STATE, ip.a, cjson.encode(fields))
end

local function save_dirty(ips)
  for _, ip in ipairs(ips) do
    if ip.dirty then save(ip) end
  end
end

-- Ends due quarantines (failures reset) and frees expired leases. Returns the IPs released
-- from quarantine and whether any IP may have become free.
local function refresh(ips, now)
  local released, changed = {}, false
  for _, ip in ipairs(ips) do
    if ip.q > 0 and ip.q <= now then
      ip.q = 0
      ip.f = 0
      ip.dirty = true
      changed = true
      table.insert(released, { a = ip.a, p = ip.p, r = ip.r })
    end
    if ip.lid ~= '' and ip.lexp <= now then
      ip.lid = ''
      ip.dirty = true
      changed = true
    end
  end
  return released, changed
end

local function count_active(ips)
  local count = 0
  for _, ip in ipairs(ips) do
    if ip.q == 0 then count = count + 1 end
  end
  return count
end

local function next_quarantine_end(ips)
  local earliest = -1
  for _, ip in ipairs(ips) do
    if ip.q > 0 and (earliest < 0 or ip.q < earliest) then earliest = ip.q end
  end
  return earliest
end

-- Earliest lease expiry or quarantine end: when a timer should look at the pool again.
local function next_deadline(ips)
  local earliest = next_quarantine_end(ips)
  for _, ip in ipairs(ips) do
    if ip.lid ~= '' and (earliest < 0 or ip.lexp < earliest) then earliest = ip.lexp end
  end
  return earliest
end

local function wake()
  redis.call('PUBLISH', CHANNEL, TARGET)
end
`;
