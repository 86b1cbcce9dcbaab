package callredis

import "github.com/redis/go-redis/v9"

// The scripts run atomically in Redis: a check and the change it allows
// are one step, whichever node asks. ARGV[1] is always the key prefix P;
// keys are built inside (this is a single Redis, not Redis Cluster):
//
//	P meta:<room>     hash salt, hash (of the passcode; "" for none), listed ("1"/"0")
//	P members:<room>  hash sid → member value (see encodeMember)
//	P list            sorted set of listed rooms, score -size
//	P listv           counter, +1 per change of a listed room
//	P nodes           set of node ids that may have members
//	P lease:<node>    present while the node is alive (PX LeaseTTL)
//	P node:<node>     set of "sid\nroom": the node's members
const luaLib = `
local P = ARGV[1]
local function owner(v) return string.match(v, '^([^\n]*)\n') end
local function touch(room, n)
  if redis.call('HGET', P .. 'meta:' .. room, 'listed') ~= '1' then return end
  if n == 0 then redis.call('ZREM', P .. 'list', room) else redis.call('ZADD', P .. 'list', -n, room) end
  redis.call('INCR', P .. 'listv')
end
-- drop takes sid out of room if node (any when '') has it there.
local function drop(room, sid, node)
  local mk = P .. 'members:' .. room
  local v = redis.call('HGET', mk, sid)
  if not v or (node ~= '' and owner(v) ~= node) then return false end
  redis.call('HDEL', mk, sid)
  redis.call('SREM', P .. 'node:' .. owner(v), sid .. '\n' .. room)
  local n = redis.call('HLEN', mk)
  touch(room, n)
  if n == 0 then redis.call('DEL', P .. 'meta:' .. room) end
  return true
end
-- add puts sid in room, which exists.
local function add(room, sid, node, value)
  local mk = P .. 'members:' .. room
  redis.call('HSET', mk, sid, value)
  redis.call('SADD', P .. 'node:' .. node, sid .. '\n' .. room)
  redis.call('SADD', P .. 'nodes', node)
  touch(room, redis.call('HLEN', mk))
end
`

// joinScript: ARGV P, room, sid, node, fold, value, cap, salt used, hash,
// new salt, new hash, listed, spent passcodes, spent joins, spent
// creates, has passcode. Returns {code, passcode} on a refusal, {"retry",
// "1", salt} when the room's salt is not the one used, or {"ok",
// passcode, listed, created, salt, hash, {sid, value, ...}}.
var joinScript = redis.NewScript(luaLib + `
local room, sid, node, fold, value = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local meta, mk = P .. 'meta:' .. room, P .. 'members:' .. room
local m = redis.call('HMGET', meta, 'salt', 'hash', 'listed')
local created = '0'
if m[3] then
  local pc = (m[2] ~= '') and '1' or '0'
  local again = redis.call('HEXISTS', mk, sid) == 1
  if pc == '1' and not again then
    if ARGV[13] == '1' then return {'rate_limited', pc} end
    if ARGV[16] ~= '1' then return {'bad_passcode', pc} end
    if m[1] ~= ARGV[8] then return {'retry', pc, m[1]} end
    if m[2] ~= ARGV[9] then return {'bad_passcode', pc} end
  end
  if not again then
    if redis.call('HLEN', mk) >= tonumber(ARGV[7]) then return {'room_full', pc} end
    for _, v in ipairs(redis.call('HVALS', mk)) do
      if string.match(v, '^[^\n]*\n([^\n]*)\n') == fold then return {'name_taken', pc} end
    end
    if ARGV[14] == '1' then return {'rate_limited', pc} end
  end
else
  if ARGV[14] == '1' or ARGV[15] == '1' then return {'rate_limited', '0'} end
  m = {ARGV[10], ARGV[11], ARGV[12]}
  redis.call('HSET', meta, 'salt', m[1], 'hash', m[2], 'listed', m[3])
  created = '1'
end
local peers = redis.call('HGETALL', mk)
add(room, sid, node, value)
return {'ok', (m[2] ~= '') and '1' or '0', m[3], created, m[1], m[2], peers}
`)

// leaveScript: ARGV P, room, sid. Returns 1 if sid was in room.
var leaveScript = redis.NewScript(luaLib + `
if drop(ARGV[2], ARGV[3], '') then return 1 end
return 0
`)

// leaseScript: ARGV P, node, ttl in ms. Renews the node's lease and
// returns 1 if it was still there, 0 if it had expired (or never was):
// the node's members may have been removed, and must be put back.
var leaseScript = redis.NewScript(luaLib + `
local had = redis.call('EXISTS', P .. 'lease:' .. ARGV[2])
redis.call('SET', P .. 'lease:' .. ARGV[2], '1', 'PX', ARGV[3])
redis.call('SADD', P .. 'nodes', ARGV[2])
return had
`)

// reapScript: ARGV P, this node. Removes the members of every other node
// whose lease has expired, and the node (this node's own expired lease is
// for leaseScript to see). Returns {room, sid, room, sid, ...} removed.
var reapScript = redis.NewScript(luaLib + `
local out = {}
for _, node in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if node ~= ARGV[2] and redis.call('EXISTS', P .. 'lease:' .. node) == 0 then
    for _, e in ipairs(redis.call('SMEMBERS', P .. 'node:' .. node)) do
      local sid, room = string.match(e, '^([^\n]*)\n(.*)$')
      if sid and drop(room, sid, node) then
        table.insert(out, room)
        table.insert(out, sid)
      end
    end
    redis.call('DEL', P .. 'node:' .. node)
    redis.call('SREM', P .. 'nodes', node)
  end
end
return out
`)

// resyncScript: ARGV P, node, then for each of the node's members: room,
// sid, value, salt, hash, listed. Makes the node's members in Redis
// exactly these: removes the others, puts back the missing (creating
// their room if it is gone, with no cap check: they are in a call).
// Returns {{room, sid, ...} removed, {room, sid, value, ...} added}.
var resyncScript = redis.NewScript(luaLib + `
local node = ARGV[2]
local want = {}
for i = 3, #ARGV, 6 do want[ARGV[i + 1] .. '\n' .. ARGV[i]] = true end
local removed, added = {}, {}
local idx = P .. 'node:' .. node
for _, e in ipairs(redis.call('SMEMBERS', idx)) do
  if not want[e] then
    local sid, room = string.match(e, '^([^\n]*)\n(.*)$')
    if sid and drop(room, sid, node) then
      table.insert(removed, room)
      table.insert(removed, sid)
    end
    redis.call('SREM', idx, e)
  end
end
for i = 3, #ARGV, 6 do
  local room, sid, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local v = redis.call('HGET', P .. 'members:' .. room, sid)
  if v ~= value then
    local meta = P .. 'meta:' .. room
    if redis.call('EXISTS', meta) == 0 then
      redis.call('HSET', meta, 'salt', ARGV[i + 3], 'hash', ARGV[i + 4], 'listed', ARGV[i + 5])
    end
    add(room, sid, node, value)
    if not v then
      table.insert(added, room)
      table.insert(added, sid)
      table.insert(added, value)
    end
  end
end
redis.call('SADD', P .. 'nodes', node)
return {removed, added}
`)
