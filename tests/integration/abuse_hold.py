#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""abuse_hold.py - one process that holds many connections to tba-agent.

usage: abuse_hold.py SOCKET IDLE TRICKLE SECONDS

Opens IDLE connections that send nothing and TRICKLE that send a Ping one
byte a second (never finishing it), holds them SECONDS, then prints
"held N refused M other K": connections still open, those the agent
refused with "too many connections from this process", and any other
outcome (closed without that message).
"""

import resource
import socket
import sys
import time

import agentwire


def main():
    sock, n_idle, n_trickle, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n_idle + n_trickle + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    conns = []
    for _ in range(n_trickle + n_idle):
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        conns.append(s)
    trickle = conns[:n_trickle]
    msg = b'{"method": "' + agentwire.PREFIX.encode() + b'Ping"}'
    print("holding", flush=True)
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < secs:
        for s in trickle:
            try:
                s.send(msg[i % (len(msg) - 1):i % (len(msg) - 1) + 1], socket.MSG_DONTWAIT)
            except OSError:
                pass
        i += 1
        time.sleep(1)
    held = refused = other = 0
    for s in conns:
        s.setblocking(False)
        try:
            d = s.recv(65536)
        except BlockingIOError:
            held += 1
            continue
        except OSError:
            other += 1
            continue
        if b"too many connections from this process" in d:
            refused += 1
        else:
            other += 1
    print(f"held {held} refused {refused} other {other}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
