import { LUA_PRELUDE } from './lua-prelude.js';

/**
 * Ends a lease with the attempt's outcome: failure count, quarantine or the minActiveIps
 * floor, and the cooldown restart. ARGV[3] = address, ARGV[4] = lease id,
 * ARGV[5] = 'success' | 'failure' | 'neutral', ARGV[6] = '1' to restart the cooldown at release, ARGV[7] = ms between the lease and the
 * attempt's real start, by which the next start moves back.
 */
export const LUA_RELEASE =
  LUA_PRELUDE +
  `
local settings = load_settings()
if not settings then return cjson.encode({ missing = true }) end
local now = server_now()
local ips = load_ips()
local released, changed = refresh(ips, now)
local active = count_active(ips)

local ip = nil
for _, candidate in ipairs(ips) do
  if candidate.a == ARGV[3] then ip = candidate end
end

local result = { now = now, released = released, applied = false, failures = 0,
  quarantined = false, floorHeld = false }
if ip == nil or ip.lid ~= ARGV[4] then
  if ip then
    result.failures = ip.f
    result.quarantined = ip.q > 0
  end
else
  result.applied = true
  if ARGV[5] == 'success' then
    ip.f = 0
  elseif ARGV[5] == 'failure' then
    ip.f = ip.f + 1
    if ip.f >= settings.threshold then
      if active - 1 < settings.floor then
        result.floorHeld = true
        result.floorActiveIps = active
        result.minActiveIps = settings.floor
      else
        ip.q = now + settings.quarantine
        result.quarantined = true
        result.quarantineMs = settings.quarantine
        active = active - 1
      end
    end
  end
  local send_delay = tonumber(ARGV[7]) or 0
  if send_delay > 0 then ip.next = ip.next + send_delay end
  if ARGV[6] == '1' then ip.next = math.max(ip.next, now + settings.interval) end
  ip.lid = ''
  ip.dirty = true
  changed = true
  result.failures = ip.f
  result.provider = ip.p
  result.region = ip.r
end
result.activeIps = active
save_dirty(ips)
if changed then wake() end
result.deadline = next_deadline(ips)
return cjson.encode(result)
`;
