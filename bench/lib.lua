-- Shared by the load scenarios: print one machine-readable line per run.
-- Each scenario script sets `request` (and maybe `init`) before or after
-- loading this file.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- This thread's share of the lines of a file: every n-th line, for n
-- threads, so that no two threads send the same line. Call it from `init`.
function thread_share(path)
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local lines, index = {}, 0
  for line in io.lines(path) do
    if index % threads == (id or 0) then
      table.insert(lines, line)
    end
    index = index + 1
  end
  return lines
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local statuses = {}
  for _, thread in ipairs(threads) do
    local seen = thread:get("statuses")
    if seen then
      for code, n in pairs(seen) do
        statuses[code] = (statuses[code] or 0) + n
      end
    end
  end
  local parts = {}
  for code, n in pairs(statuses) do
    table.insert(parts, code .. "=" .. n)
  end
  table.sort(parts)
  io.write(string.format(
    "RESULT requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d statuses=%s\n",
    summary.requests,
    summary.requests / seconds,
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ",")))
end

