#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The alternative a user would pick: python3-oauthlib signing in software.

usage: oauthlib_bench.py --seconds S URL   sign in a loop for S seconds, print
                                           "signs_per_sec N" on stdout
       oauthlib_bench.py --once URL        sign once, print the header value
                                           (the one-shot case: process start +
                                           import + one signature)

Each signature does the job the agent does: parse the URL, fresh nonce and
timestamp, base string, HMAC-SHA256, Authorization header. The credentials are
Oracle's published example values (doc/PROTOCOL.md, appendix A), not real secrets: this
script exists to time the software path, which by design holds the secrets in
process memory -- the thing tba avoids.
"""
import sys
import time

from oauthlib import oauth1

# Oracle's public TBA example (doc/PROTOCOL.md, appendix A).
CK = "ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4"
CS = "d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5"
TOKEN = "2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc"
TS = "c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295"
REALM = "1234567_SB1"


def client():
    return oauth1.Client(CK, client_secret=CS, resource_owner_key=TOKEN,
                         resource_owner_secret=TS,
                         signature_method=oauth1.SIGNATURE_HMAC_SHA256,
                         realm=REALM)


def sign(c, url):
    _, headers, _ = c.sign(url, http_method="GET")
    return headers["Authorization"]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--once":
        print(sign(client(), sys.argv[2]))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "--seconds":
        secs = float(sys.argv[2])
        url = sys.argv[3]
        c = client()
        for _ in range(200):  # warm-up
            sign(c, url)
        n = 0
        t0 = time.monotonic()
        deadline = t0 + secs
        while True:
            for _ in range(100):
                sign(c, url)
            n += 100
            now = time.monotonic()
            if now >= deadline:
                break
        print("signs_per_sec %.1f" % (n / (now - t0)))
        return 0
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main())
