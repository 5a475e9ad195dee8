-- GraphQL revokeSession, ending a different session per request: ids from
-- BENCH_IDS (one per line), each thread taking its own share.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local ids = {}
local next_id = 1
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
function init(args)
  ids = thread_share(os.getenv("BENCH_IDS"))
end
request = function()
  local session = ids[next_id] or "exhausted"
  next_id = next_id + 1
  local body = '{"query":"mutation($id: ID!) { revokeSession(id: $id) { sessionId } }","variables":{"id":"' .. session .. '"}}'
  return wrk.format("POST", "/graphql", headers, body)
end
