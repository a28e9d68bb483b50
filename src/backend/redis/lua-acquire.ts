import { LUA_PRELUDE } from './lua-prelude.js';

/**
 * Leases the ready IP that has waited longest, or reports when one may be ready.
 * ARGV[3] = lease TTL in ms, ARGV[4] = new lease id, ARGV[5..] = addresses to avoid.
 */
export const LUA_ACQUIRE =
  LUA_PRELUDE +
  `
local settings = load_settings()
if not settings then return cjson.encode({ missing = true }) end
local now = server_now()
local ips = load_ips()
local released, changed = refresh(ips, now)

local avoid = {}
for i = 5, #ARGV do avoid[ARGV[i]] = true end
local in_rotation, preferred = {}, {}
for _, ip in ipairs(ips) do
  if ip.q == 0 then
    table.insert(in_rotation, ip)
    if not avoid[ip.a] then table.insert(preferred, ip) end
  end
end
local candidates = in_rotation
if #preferred > 0 then candidates = preferred end

local chosen = nil
for _, ip in ipairs(candidates) do
  if ip.lid == '' and ip.next <= now and (chosen == nil or ip.last < chosen.last) then
    chosen = ip
  end
end

local result = { now = now, released = released, inRotation = #in_rotation }
if chosen then
  chosen.lid = ARGV[4]
  chosen.lexp = now + tonumber(ARGV[3])
  chosen.last = now
  chosen.next = now + settings.interval
  chosen.dirty = true
  result.kind = 'leased'
  result.address = chosen.a
  result.expiresAt = chosen.lexp
else
  local ready_at = -1
  for _, ip in ipairs(candidates) do
    local at = ip.next
    if ip.lid ~= '' then at = math.max(ip.next, ip.lexp) end
    if ready_at < 0 or at < ready_at then ready_at = at end
  end
  result.kind = 'wait'
  result.readyAt = ready_at
  result.quarantineEnd = next_quarantine_end(ips)
end
save_dirty(ips)
if changed then wake() end
result.deadline = next_deadline(ips)
return cjson.encode(result)
`;
