-- GraphQL `me` with a valid token: `{ me { id username } }`, or the query
-- in BENCH_QUERY (the selection with the user's sessions, say).
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
local query = os.getenv("BENCH_QUERY") or "{ me { id username } }"
local body = '{"query":"' .. query .. '"}'
request = function()
  return wrk.format("POST", "/graphql", headers, body)
end
