-- Log out with a fresh token per request, from BENCH_TOKENS (one per line),
-- each thread taking its own share so no token is used twice.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local tokens = {}
local next_token = 1
local path = "/user/logout/" .. os.getenv("BENCH_USER_ID") .. "/"
function init(args)
  tokens = thread_share(os.getenv("BENCH_TOKENS"))
end
request = function()
  local token = tokens[next_token] or "exhausted"
  next_token = next_token + 1
  return wrk.format("POST", path, { ["Authorization"] = "Bearer " .. token }, "")
end
