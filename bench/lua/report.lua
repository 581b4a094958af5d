-- Shared by the load scripts: pacing (WRK_DELAY_MS) and a JSON summary.
-- Paced requests wait a random (exponential) time with that mean, so that
-- the connections arrive like independent visitors, not in lockstep bursts.
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0")
local seeded = false
if delay_ms > 0 then
  function delay()
    if not seeded then
      math.randomseed(os.time() + (id or 0) * 7919)
      seeded = true
    end
    return math.floor(-math.log(1 - math.random()) * delay_ms)
  end
end

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + (thread:get("bad") or 0) end
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "socket_errors": %d, "non_2xx_3xx": %d, "bad_status": %d, ' ..
    '"p50_ms": %.2f, "p99_ms": %.2f, "mean_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, bad,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000))
end

bad = 0
expected = tonumber(os.getenv("WRK_EXPECT") or "200")
function response(status, headers, body)
  if status ~= expected then bad = bad + 1 end
end
