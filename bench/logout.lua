-- Log out with a fresh token per request, from BENCH_TOKENS (one per line),
-- each thread taking every n-th line so no token is used twice.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local tokens = {}
local next_token = 1
local path = "/user/logout/" .. os.getenv("BENCH_USER_ID") .. "/"
function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local index = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if index % threads == (id or 0) then
      table.insert(tokens, line)
    end
    index = index + 1
  end
end
request = function()
  local token = tokens[next_token] or "exhausted"
  next_token = next_token + 1
  return wrk.format("POST", path, { ["Authorization"] = "Bearer " .. token }, "")
end
