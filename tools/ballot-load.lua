-- wrk script: each request casts the next pre-made ballot (one JSON body per line of
-- the file in BODIES), so every request is a real, distinct ballot. Threads take
-- disjoint lines. wrk runs for a fixed time: there must be more ballots than the
-- server can take in that time, or the figure is wrong (the summary says so).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  nthreads = counter
  bodies = {}
  local n = 0
  for line in io.lines(os.getenv("BODIES")) do
    if n % tonumber(os.getenv("THREADS")) == id then table.insert(bodies, line) end
    n = n + 1
  end
  next_body = 1
  exhausted = 0
  created = 0
  refused = 0
  wrk.method = "POST"
  wrk.path = os.getenv("BALLOTS_PATH")
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local body = bodies[next_body]
  if body == nil then
    exhausted = 1
    body = bodies[#bodies]
  end
  next_body = next_body + 1
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local ok, bad, out = 0, 0, 0
  for _, t in ipairs(threads) do
    ok = ok + t:get("created")
    bad = bad + t:get("refused")
    out = out + t:get("exhausted")
  end
  if out > 0 then
    io.write("WARNING: the ballots ran out before the time did: give more voters or a shorter duration\n")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("ballots cast: %d, refused: %d, in %.2f s: %.0f ballots per second; latency p50 %.1f ms, p99 %.1f ms\n",
    ok, bad, seconds, ok / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
