-- wrk script: POST the file $BODY_FILE with Content-Type $CONTENT_TYPE and X-Auth-Token $TOKEN
-- to the URL's path. Optional: $IDS_OUT (prefix) writes the id matched by $ID_PATTERN in each
-- 201 response to $IDS_OUT<thread>.txt; $QUOTA (per thread) stops the thread after that many
-- 201 responses (bounded loads). Non-201 answers are counted and printed at the end.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE")
wrk.headers["X-Auth-Token"] = os.getenv("TOKEN")

local threads, counter = {}, 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local out, quota, pattern
ok, bad = 0, 0
function init(args)
  quota = tonumber(os.getenv("QUOTA") or "")
  pattern = os.getenv("ID_PATTERN") or '"id":"([%x%-]+)"'
  local prefix = os.getenv("IDS_OUT")
  if prefix and prefix ~= "" then
    out = assert(io.open(prefix .. tid .. ".txt", "w"))
    out:setvbuf("line")
  end
end

function response(status, headers, rbody)
  if status ~= 201 then
    bad = bad + 1
    return
  end
  ok = ok + 1
  if out then
    local id = rbody:match(pattern)
    if id then out:write(id, "\n") end
  end
  if quota and ok >= quota then
    if out then out:flush() end
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    b = b + t:get("bad")
  end
  io.write(string.format("lua: status201=%d other=%d\n", o, b))
end
