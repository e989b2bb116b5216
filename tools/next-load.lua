-- wrk script: each request asks the router for the next statement of a member
-- (GET /api/dialogues/DIALOGUE/deliberation/next), members taken in turn from the
-- bearer tokens in TOKENS.
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  tokens = {}
  for line in io.lines(os.getenv("TOKENS")) do
    if #line > 0 then table.insert(tokens, line) end
  end
  path = "/api/dialogues/" .. os.getenv("DIALOGUE") .. "/deliberation/next"
  k = id
end

function request()
  k = k + 1
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[(k % #tokens) + 1] })
end

-- DELAY_MS (optional): each connection waits that long between requests.
function delay()
  return tonumber(os.getenv("DELAY_MS") or "0")
end
