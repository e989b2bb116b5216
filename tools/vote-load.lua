-- wrk script: deliberation votes through the JSON API, each request a real change.
-- TOKENS names a file of bearer tokens (one member each), STATEMENTS a file of
-- statement ids, DIALOGUE the dialogue. Request k (counted per thread, threads
-- interleaved) is member k mod M voting on statement (k div M) mod S, agree on even
-- passes over the whole matrix and disagree on odd ones: every request inserts a vote
-- or flips one.
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local function lines(path)
  local t = {}
  for line in io.lines(path) do
    if #line > 0 then table.insert(t, line) end
  end
  return t
end

function init(args)
  tokens = lines(os.getenv("TOKENS"))
  statements = lines(os.getenv("STATEMENTS"))
  threads = tonumber(os.getenv("THREADS"))
  prefix = "/api/dialogues/" .. os.getenv("DIALOGUE") .. "/statements/"
  k = id
  bodies = { '{"vote":"agree"}', '{"vote":"disagree"}' }
end

function request()
  local m = k % #tokens
  local rest = math.floor(k / #tokens)
  local s = rest % #statements
  local pass = math.floor(rest / #statements) % 2
  k = k + threads
  return wrk.format("POST", prefix .. statements[s + 1] .. "/vote",
    { ["Authorization"] = "Bearer " .. tokens[m + 1], ["Content-Type"] = "application/json" },
    bodies[pass + 1])
end

-- DELAY_MS (optional): each connection waits that long between requests.
function delay()
  return tonumber(os.getenv("DELAY_MS") or "0")
end
