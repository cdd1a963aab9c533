-- wrk script for bench/match/http_identify.sh: POST $TARGET_PATH?descriptor_id=<ref>&list_id=$LIST_ID&limit=5
-- with X-Auth-Token $TOKEN, the reference descriptor rotating through the ids of $REFS_FILE
-- (one per line). Answers other than 201, and 201 answers without 5 candidates, are counted
-- and printed at the end.
local refs = {}
for line in io.lines(os.getenv("REFS_FILE")) do
  if #line > 0 then table.insert(refs, line) end
end
local path = os.getenv("TARGET_PATH") or "/4/matching/identify"
local list = os.getenv("LIST_ID")
local token = os.getenv("TOKEN")
local i = 0

local threads = {}
function setup(thread) table.insert(threads, thread) end

ok, bad, short = 0, 0, 0
function request()
  i = i % #refs + 1
  return wrk.format("POST", path .. "?descriptor_id=" .. refs[i] .. "&list_id=" .. list .. "&limit=5",
                    {["X-Auth-Token"] = token})
end

function response(status, headers, body)
  if status ~= 201 then
    bad = bad + 1
    return
  end
  ok = ok + 1
  local _, n = body:gsub('"similarity"', "")
  if n ~= 5 then short = short + 1 end
end

function done(summary, latency, requests)
  local o, b, s = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    b = b + t:get("bad")
    s = s + t:get("short")
  end
  io.write(string.format("lua: status201=%d other=%d fewer_than_5=%d\n", o, b, s))
  io.write(string.format("lua: p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f requests=%d\n",
                         latency:percentile(50) / 1000, latency:percentile(90) / 1000,
                         latency:percentile(99) / 1000, latency.max / 1000, summary.requests))
end
