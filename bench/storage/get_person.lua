-- wrk script: GET /4/storage/persons/{id} with X-Auth-Token, ids round-robin from $PERSON_IDS.
local threads, counter = {}, 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local ids, k
ok, bad = 0, 0
function init(args)
  ids = {}
  for l in io.lines(os.getenv("PERSON_IDS")) do if l ~= "" then ids[#ids + 1] = l end end
  k = tid * 104729
  wrk.headers["X-Auth-Token"] = os.getenv("TOKEN")
end

function request()
  k = k + 1
  return wrk.format("GET", "/4/storage/persons/" .. ids[(k % #ids) + 1])
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad") end
  io.write(string.format("lua: status200=%d other=%d\n", o, b))
end
