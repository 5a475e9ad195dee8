-- GraphQL `me` with a valid token.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
local body = '{"query":"{ me { id username } }"}'
request = function()
  return wrk.format("POST", "/graphql", headers, body)
end
