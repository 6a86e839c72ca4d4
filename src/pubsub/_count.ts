/**
 * The cluster-wide connection count kept in Redis: one hash, one field per process
 * (its `PROCESS_ID`), the value `"<count>:<deadline>"` with the deadline in Redis's own
 * milliseconds (`TIME`), so that the processes' clocks never matter. A process refreshes
 * its field every `countIntervalMs`; a field past its deadline belongs to a process that
 * stopped and is neither counted nor kept. Hash fields cannot expire on their own before
 * Redis 7.4 (`HEXPIRE`), hence the deadlines in the values.
 *
 * @module
 */

// Milliseconds since the epoch by the Redis server's clock.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// Field and deadline of entry i of an HGETALL reply, or nil when malformed.
const PARSE = `local function parse(v)
  local sep = string.find(v, ':', 1, true)
  if not sep then return nil, nil end
  return tonumber(string.sub(v, 1, sep - 1)), tonumber(string.sub(v, sep + 1))
end
`;

/**
 * Writes this process's count. KEYS[1] the hash; ARGV: field, count, time to live in ms.
 * Drops the fields past their deadline and keeps the whole hash alive at least as long
 * as this field (so it disappears when every process is gone).
 */
export const WRITE_COUNT_SCRIPT: string = NOW + PARSE + `local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. string.format('%.0f', now + ttl))
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local n, deadline = parse(all[i + 1])
  if not deadline or deadline < now then redis.call('HDEL', KEYS[1], all[i]) end
end
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`;

/**
 * Sums the live counts of every process but one. KEYS[1] the hash; ARGV[1] the field to
 * leave out (the caller adds its own count, which is fresher).
 */
export const READ_COUNT_SCRIPT: string = NOW + PARSE + `local sum = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] then
    local n, deadline = parse(all[i + 1])
    if n and deadline and deadline >= now then sum = sum + n end
  end
end
return sum`;
