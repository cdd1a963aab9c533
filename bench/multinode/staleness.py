#!/usr/bin/python3
"""Cross-node staleness of the matching index (issue 7.2, docs/DEPLOYMENT.md).

Two faceport nodes on one PostgreSQL database, node B started with
--match_catch_up_on_request false, so that a matching request on B reads B's index as its
background follower left it (woken by LISTEN/NOTIFY, polling every index_catchup_ms).
Each sample: PATCH on node A attaches (or detaches) a descriptor to a person; from the moment
A acknowledged it (its 204 arrived), node B is polled with POST /4/matching/verify as fast as
one keep-alive connection allows until B's answer reflects the change. The time until then is
the staleness sample (an upper bound: it includes one poll's round trip).

usage: staleness.py A_PORT B_PORT SAMPLES IMAGE   (prints one line per sample, then a summary)
"""
import http.client
import json
import statistics
import sys
import time

a_port, b_port, samples, image = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read()


a = http.client.HTTPConnection("127.0.0.1", a_port, timeout=30)
b = http.client.HTTPConnection("127.0.0.1", b_port, timeout=30)
st, body = call(a, "POST", "/4/accounts",
                json.dumps({"organization_name": "o", "email": "stale-%d@example.com" % time.time_ns(),
                            "password": "password1"}), {"Content-Type": "application/json"})
assert st == 201, body
token = json.loads(body)["token"]
h = {"X-Auth-Token": token}
with open(image, "rb") as f:
    st, body = call(a, "POST", "/4/storage/descriptors", f.read(), dict(h, **{"Content-Type": "image/jpeg"}))
assert st == 201, body
descriptor = json.loads(body)["faces"][0]["id"]
st, body = call(a, "POST", "/4/storage/persons", json.dumps({"user_data": "s"}), dict(h, **{"Content-Type": "application/json"}))
assert st == 201, body
person = json.loads(body)["person_id"]

out = []
for i in range(samples):
    action = "attach" if i % 2 == 0 else "detach"
    want = 1 if action == "attach" else 0
    st, body = call(a, "PATCH", "/4/storage/persons/%s/linked_descriptors?descriptor_id=%s&do=%s" % (person, descriptor, action),
                    headers=h)
    assert st == 204, body
    t0 = time.monotonic()
    polls = 0
    while True:
        st, body = call(b, "POST", "/4/matching/verify?descriptor_id=%s&person_id=%s" % (descriptor, person), headers=h)
        polls += 1
        assert st == 201, body
        if len(json.loads(body)["candidates"]) == want:
            break
        if time.monotonic() - t0 > 30:
            raise SystemExit("node B never saw the change")
    ms = (time.monotonic() - t0) * 1000
    out.append(ms)
    print("sample %d %s: %.1f ms (%d polls)" % (i, action, ms, polls))
    time.sleep(0.05)

s = sorted(out)
p95 = s[min(len(s) - 1, int(0.95 * len(s)))]  # nearest rank
print("staleness over %d samples: median %.1f ms, p95 %.1f ms, max %.1f ms" % (len(out), statistics.median(out), p95, max(out)))
