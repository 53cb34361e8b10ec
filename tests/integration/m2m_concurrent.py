#!/usr/bin/python3
"""m2m_concurrent.py SOCKET PROFILE N - N first AccessToken calls at once.

Opens N connections to the agent, lines them up on a barrier and sends
io.tba.Agent.AccessToken for PROFILE on all of them together. Prints one
line: "ok=K tokens=T errors=E" (T distinct access tokens among the replies);
the test compares the stand-in's exchange count with it.
"""

import sys
import threading

from agentwire import Conn


def main():
    sock, profile, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conns = [Conn(sock, timeout=60.0) for _ in range(n)]
    barrier = threading.Barrier(n)
    results = [None] * n

    def one(i):
        barrier.wait()
        results[i] = conns[i].request("AccessToken", {"profile": profile})

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
