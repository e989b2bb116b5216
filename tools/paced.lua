-- wrk script for a paced GET of the URL given to wrk: each connection waits DELAY_MS
-- between requests, so the rate is about connections × 1000 / DELAY_MS per second
-- and the latency measured is the server's, not a queue wrk built itself.
function delay()
  return tonumber(os.getenv("DELAY_MS") or "0")
end
