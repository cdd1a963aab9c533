-- wrk script: PATCH /4/storage/persons/{p}/linked_descriptors?descriptor_id={d}&do=attach.
-- Descriptor ids come from $DESC_IDS (one a line), lines $OFFSET+1 .. $OFFSET+$COUNT, split
-- into disjoint slices per thread ($THREADS threads), so every request links a fresh
-- descriptor; person ids from $PERSON_IDS, round-robin (each descriptor always to the same
-- person). If a thread's slice is used up it starts it again: re-attaching to the same person
-- is harmless (and cheaper); such requests are counted as "repeat" in the summary.
local function read_lines(path)
  local t = {}
  for l in io.lines(path) do if l ~= "" then t[#t + 1] = l end end
  return t
end

local threads, counter = {}, 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local descs, persons, k
ok, bad, rep = 0, 0, 0
function init(args)
  local all = read_lines(os.getenv("DESC_IDS"))
  persons = read_lines(os.getenv("PERSON_IDS"))
  local offset = tonumber(os.getenv("OFFSET"))
  local count = tonumber(os.getenv("COUNT"))
  local nthreads = tonumber(os.getenv("THREADS"))
  local per = math.floor(count / nthreads)
  local first = offset + (tid - 1) * per
  descs = {}
  for i = first + 1, math.min(first + per, #all) do descs[#descs + 1] = all[i] end
  k = 0
  wrk.headers["X-Auth-Token"] = os.getenv("TOKEN")
end

function request()
  k = k + 1
  local i = ((k - 1) % #descs) + 1
  if k > #descs then rep = rep + 1 end
  local d = descs[i]
  local p = persons[((i + tid * 7919) % #persons) + 1]
  return wrk.format("PATCH", "/4/storage/persons/" .. p .. "/linked_descriptors?descriptor_id=" .. d .. "&do=attach")
end

function response(status, headers, body)
  if status == 204 or status == 200 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local o, b, r = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad"); r = r + t:get("rep") end
  io.write(string.format("lua: status2xx=%d other=%d repeat=%d\n", o, b, r))
end
