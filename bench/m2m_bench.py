#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""m2m_bench.py SOCKET M2M_PROFILE TBA_PROFILE URL AGENT_LOG [SECONDS] [RENEWALS]

The M2M cases of bench/m2m, against a running agent:
  - AccessToken answered from the agent's cache, replies/s on one connection,
    beside Sign (an HMAC in the token) on the same kind of connection;
  - one renewal (AccessToken with renew) against the local stand-in, split
    into its parts from the agent's own log line: the JWT signed in the
    token, the HTTPS exchange; medians over RENEWALS renewals.
Prints a Markdown table. Every reply is checked (an error fails the run).
"""

import json
import re
import socket
import statistics
import sys
import time

PREFIX = "io.tba.Agent."


def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def call(s, buf, req):
    s.sendall(req)
    while b"\0" not in buf[0]:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("the agent closed the connection")
        buf[0] += chunk
    msg, _, buf[0] = buf[0].partition(b"\0")
    obj = json.loads(msg)
    if "error" in obj:
        raise SystemExit("agent error: %s %s" % (obj["error"], obj["parameters"].get("message")))
    return obj["parameters"]


def rate(path, req, secs):
    s, buf = conn(path), [b""]
    call(s, buf, req)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < secs:
        call(s, buf, req)
        n += 1
    dt = time.perf_counter() - t0
    s.close()
    return n / dt


def main():
    sock, m2m, tba, url, log = sys.argv[1:6]
    secs = float(sys.argv[6]) if len(sys.argv) > 6 else 2.0
    renewals = int(sys.argv[7]) if len(sys.argv) > 7 else 10
    at = json.dumps({"method": PREFIX + "AccessToken", "parameters": {"profile": m2m}}).encode() + b"\0"
    sign = json.dumps({"method": PREFIX + "Sign", "parameters":
                       {"profile": tba, "method": "GET", "url": url}}).encode() + b"\0"
    renew = json.dumps({"method": PREFIX + "AccessToken",
                        "parameters": {"profile": m2m, "renew": True}}).encode() + b"\0"
    r_at = rate(sock, at, secs)
    r_sign = rate(sock, sign, secs)
    s, buf = conn(sock), [b""]
    walls = []
    for _ in range(renewals):
        t0 = time.perf_counter()
        call(s, buf, renew)
        walls.append((time.perf_counter() - t0) * 1e3)
    s.close()
    time.sleep(0.2)
    pat = re.compile(r"M2M profile '%s': new access token.*signed in the token in ([0-9.]+) ms, "
                     r"HTTPS exchange ([0-9.]+) ms" % re.escape(m2m))
    parts = [tuple(map(float, m.groups())) for m in pat.finditer(open(log).read())][-renewals:]
    if len(parts) < renewals:
        raise SystemExit("found %d of %d renewal lines in %s" % (len(parts), renewals, log))
    print("| M2M case | value |")
    print("|---|---|")
    print("| AccessToken from the cache, 1 connection | %.0f replies/s |" % r_at)
    print("| Sign (HMAC in the token), 1 connection | %.0f replies/s |" % r_sign)
    print("| one renewal, client's view (median of %d) | %.1f ms |" % (renewals, statistics.median(walls)))
    print("| - JWT built and signed in the token | %.1f ms |" % statistics.median(p[0] for p in parts))
    print("| - HTTPS exchange with the local stand-in | %.1f ms |" % statistics.median(p[1] for p in parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
