#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""m2m_concurrent.py SOCKET PROFILE N - N first AccessToken calls at once.

Opens N connections to the agent, lines them up on a barrier and sends
io.tba.Agent.AccessToken for PROFILE on all of them together. Prints one
line: "ok=K tokens=T errors=E" (T distinct access tokens among the replies);
the test compares the stand-in's exchange count with it. An agent that is
busy with exchanges answers AuthorizationFailed with "retry": true; like
tba's client library, this asks again, backing off from 20 ms to 1 s.
"""

import json
import sys
import threading
import time

from agentwire import Conn


def main():
    sock, profile, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conns = [Conn(sock, timeout=60.0) for _ in range(n)]
    barrier = threading.Barrier(n)
    results = [None] * n

    def one(i):
        req = json.dumps({"method": "io.tba.Agent.AccessToken",
                          "parameters": {"profile": profile}}).encode() + b"\0"
        barrier.wait()
        deadline = time.time() + 40
        pause = 0.02
        while True:
            conns[i].send_raw(req)
            obj = json.loads(conns[i].read_msg())
            par = obj.get("parameters", {})
            if "error" not in obj:
                results[i] = (par, None)
                return
            if not par.get("retry") or time.time() > deadline:
                results[i] = (None, (obj["error"], par.get("message", "")))
                return
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r[0] for r in results if r[0] is not None]
    errors = [r[1] for r in results if r[0] is None]
    tokens = {p["access_token"] for p in ok}
    print("ok=%d tokens=%d errors=%d" % (len(ok), len(tokens), len(errors)))
    for e in errors[:3]:
        print("error: %s: %s" % e, file=sys.stderr)
    for c in conns:
        c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
