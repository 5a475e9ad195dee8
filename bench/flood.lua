-- Many connections logging in at once; counts every status seen.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local body = string.format('{"username":"%s","password":"Vq7#kPz!rw-load"}', os.getenv("BENCH_USERNAME"))
statuses = {}
request = function()
  return wrk.format("POST", "/user/login/", { ["Content-Type"] = "application/json" }, body)
end
response = function(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end
