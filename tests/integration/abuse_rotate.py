#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""abuse_rotate.py - signing clients through a credential rotation.

usage: abuse_rotate.py SOCKET PROFILE HOST CONSUMER_KEY SECONDS STOPFILE
       (stdin: four lines - old consumer secret, old token secret,
        new consumer secret, new token secret; the token IDs come back in
        each reply's Authorization header)

Four clients (two on one connection each, two with a new connection per
request) sign GET https://HOST/r?i=N until STOPFILE exists or SECONDS pass.
Each reply is checked with python3-oauthlib: the signature must be the one
oauthlib computes, for the reply's nonce, timestamp and token, under the old
secrets or the new. Prints one line per client problem, then
"total T failed F old O new N last_old L first_new W" (unix seconds with
decimals for L and W; 0 when none).
"""

import os
import re
import sys
import threading
import time
import urllib.parse

from oauthlib import oauth1

import agentwire


def oauthlib_sig(ck, cs, token, ts, nonce, stamp, url):
    client = oauth1.Client(ck, client_secret=cs, resource_owner_key=token,
                           resource_owner_secret=ts, signature_method=oauth1.SIGNATURE_HMAC_SHA256,
                           nonce=nonce, timestamp=str(stamp))
    _, headers, _ = client.sign(url, http_method="GET")
    return urllib.parse.unquote(re.search(r'oauth_signature="([^"]*)"', headers["Authorization"]).group(1))


def main():
    sock, profile, host, ck, secs, stopfile = sys.argv[1:7]
    secs = float(secs)
    old = (sys.stdin.readline().rstrip("\n"), sys.stdin.readline().rstrip("\n"))
    new = (sys.stdin.readline().rstrip("\n"), sys.stdin.readline().rstrip("\n"))
    lock = threading.Lock()
    st = dict(total=0, failed=0, old=0, new=0, last_old=0.0, first_new=0.0)
    t_end = time.monotonic() + secs

    def client(k, persistent):
        c = agentwire.Conn(sock, timeout=10) if persistent else None
        i = 0
        while time.monotonic() < t_end and not os.path.exists(stopfile):
            i += 1
            url = f"https://{host}/r?i={k}x{i}"
            try:
                conn = c if persistent else agentwire.Conn(sock, timeout=10)
                rep, err = conn.request("Sign", {"profile": profile, "method": "GET", "url": url})
                if not persistent:
                    conn.close()
            except Exception as e:
                rep, err = None, ("exception", repr(e))
            now = time.time()
            which = None
            if rep is not None:
                token = re.search(r'oauth_token="([^"]*)"', rep["authorization"]).group(1)
                token = urllib.parse.unquote(token)
                for name, (cs, ts) in (("old", old), ("new", new)):
                    if rep["signature"] == oauthlib_sig(ck, cs, token, ts, rep["nonce"], rep["timestamp"], url):
                        which = name
                        break
            with lock:
                st["total"] += 1
                if which is None:
                    st["failed"] += 1
                    if st["failed"] <= 5:
                        print(f"client {k}: request {i} failed: {err or 'signature under neither key'}", flush=True)
                elif which == "old":
                    st["old"] += 1
                    st["last_old"] = max(st["last_old"], now)
                else:
                    st["new"] += 1
                    if st["first_new"] == 0:
                        st["first_new"] = now
            time.sleep(0.005)
        if c is not None:
            c.close()

    ths = [threading.Thread(target=client, args=(k, k < 2)) for k in range(4)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    print(f"total {st['total']} failed {st['failed']} old {st['old']} new {st['new']} "
          f"last_old {st['last_old']:.3f} first_new {st['first_new']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
