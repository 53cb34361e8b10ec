#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""agent_conn.py - how tba-agent serves connections.

usage: agent_conn.py SOCKET PROFILE CONSUMER_SECRET TOKEN_SECRET IDLE_SEC PARTIAL_SEC

The agent runs with $TBA_AGENT_IDLE_SEC=IDLE_SEC and
$TBA_AGENT_PARTIAL_SEC=PARTIAL_SEC. Checked, while a signer on its own
connection keeps getting correct signatures (Python's HMAC):
- an idle connection is closed after IDLE_SEC, not before;
- a half message is closed PARTIAL_SEC after it began, even when it trickles;
- 40 connections holding half messages do not stop a new one being served;
- a client that sends 300 Signs in one write and reads nothing gets every
  reply afterwards, in order, each a correct signature (replies larger than
  the socket buffer wait for the peer, they do not block the agent);
- one that never reads is closed after PARTIAL_SEC;
- 2000 Pings in one write: 2000 replies in order;
- 60 connections signing at once are all served.
Prints "ok - ..."/"not ok - ..." and "N passed, N failed".
"""

import base64
import hashlib
import hmac
import json
import socket
import sys
import threading
import time
import urllib.parse

import agentwire

P = agentwire.PREFIX
passed = failed = 0


def ok(name):
    global passed
    passed += 1
    print(f"ok - {name}")
    sys.stdout.flush()


def not_ok(name, detail):
    global failed
    failed += 1
    print(f"not ok - {name}: {detail}")
    sys.stdout.flush()


def check(name, cond, detail=""):
    if cond:
        ok(name)
    else:
        not_ok(name, detail)


def enc(s):
    return urllib.parse.quote(s, safe="~")


def sign_req(profile, i, nonce=None):
    p = {"profile": profile, "method": "GET", "url": f"https://api.example.com/c?i={i}"}
    if nonce is not None:
        p["nonce"] = nonce
    return json.dumps({"method": P + "Sign", "parameters": p}).encode() + b"\0"


def good_sig(key, rep):
    want = base64.b64encode(hmac.new(key, rep["base_string"].encode(), hashlib.sha256).digest())
    return rep["signature"] == want.decode()


def closed_within(conn, lo, hi):
    """Waits for the agent to close conn; returns (closed, seconds)."""
    t0 = time.monotonic()
    conn.sock.settimeout(hi + 2)
    try:
        while True:
            d = conn.sock.recv(65536)
            if not d:
                break
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        return False, time.monotonic() - t0
    return True, time.monotonic() - t0


def main():
    sock, profile, cs, ts = sys.argv[1:5]
    idle, partial = float(sys.argv[5]), float(sys.argv[6])
    key = (enc(cs) + "&" + enc(ts)).encode()
    signer = agentwire.Signer(sock, profile, cs, ts)
    signer.start()

    # Idle and half-message timeouts, measured side by side.
    c_idle = agentwire.Conn(sock)
    c_half = agentwire.Conn(sock)
    c_half.send_raw(b'{"method": "io.tba.Agent.Pi')
    c_trickle = agentwire.Conn(sock)
    trickle = b'{"method": "io.tba.Agent.Ping"}'
    stop_trickle = threading.Event()

    def trickler():
        for b in trickle[:-1]:
            if stop_trickle.is_set():
                return
            try:
                c_trickle.send_raw(bytes([b]))
            except OSError:
                return
            time.sleep(partial / 8)
    tt = threading.Thread(target=trickler, daemon=True)
    tt.start()
    res = {}
    ths = [threading.Thread(target=lambda k=k, c=c: res.__setitem__(k, closed_within(c, 0, idle + 2)))
           for k, c in (("idle", c_idle), ("half", c_half), ("trickle", c_trickle))]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    stop_trickle.set()
    closed, secs = res["idle"]
    check(f"an idle connection is closed after {idle:.0f} s ({secs:.1f} s)",
          closed and idle - 1.1 <= secs <= idle + 1.6, f"closed={closed} after {secs:.1f} s")
    closed, secs = res["half"]
    check(f"a half message is closed after {partial:.0f} s ({secs:.1f} s)",
          closed and partial - 1.1 <= secs <= partial + 1.6, f"closed={closed} after {secs:.1f} s")
    closed, secs = res["trickle"]
    check(f"a trickled message is closed {partial:.0f} s after it began ({secs:.1f} s)",
          closed and secs <= partial + 1.6, f"closed={closed} after {secs:.1f} s")

    # Many half messages do not hold up a new connection.
    halves = []
    for _ in range(40):
        k = agentwire.Conn(sock)
        k.send_raw(b'{"method": "io.tba.Agent.Sign", "parameters": {"profile"')
        halves.append(k)
    t0 = time.monotonic()
    c = agentwire.Conn(sock, timeout=5)
    rep, err = c.request("Ping")
    check("40 half messages open: a new connection is served at once",
          rep is not None and time.monotonic() - t0 < 1, f"{err} after {time.monotonic() - t0:.2f} s")
    c.close()
    for k in halves:
        k.close()

    # A pipelined batch whose replies exceed the socket buffer, read late.
    n = 300
    c = agentwire.Conn(sock, timeout=10)
    c.send_raw(b"".join(sign_req(profile, i, nonce=f"batch{i:05d}") for i in range(n)))
    time.sleep(0.5)
    t0 = time.monotonic()
    k = agentwire.Conn(sock, timeout=5)
    rep, err = k.request("Ping")
    check("while replies wait for a slow reader, others are served",
          rep is not None and time.monotonic() - t0 < 1, str(err))
    k.close()
    good = 0
    bad = []
    for i in range(n):
        rep, err = c.reply()
        if rep is not None and rep["nonce"] == f"batch{i:05d}" and good_sig(key, rep) \
                and f"i%3D{i}%26" in rep["base_string"]:
            good += 1
        elif len(bad) < 3:
            bad.append(str(err or rep["nonce"]))
    check(f"{n} pipelined Signs read late: every reply, in order, signed right ({good})",
          good == n, "; ".join(bad))
    c.close()

    # One that never reads its replies is closed after PARTIAL_SEC.
    c = agentwire.Conn(sock, timeout=10)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.send_raw(b"".join(sign_req(profile, i) for i in range(300)))
    time.sleep(partial + 2.5)
    c.sock.setblocking(False)
    total = 0
    eof = False
    try:
        while True:
            d = c.sock.recv(1 << 20)
            if not d:
                eof = True
                break
            total += len(d)
    except BlockingIOError:
        pass
    except (ConnectionResetError, BrokenPipeError):
        eof = True
    check(f"a peer that never reads is closed after {partial:.0f} s", eof,
          f"still open; {total} bytes waiting")
    c.close()

    # 2000 Pings in one write.
    c = agentwire.Conn(sock, timeout=10)
    ping = json.dumps({"method": P + "Ping"}).encode() + b"\0"
    c.send_raw(ping * 2000)
    got = 0
    for _ in range(2000):
        rep, err = c.reply()
        if rep is None or "version" not in rep:
            break
        got += 1
    check("2000 pipelined Pings: 2000 replies", got == 2000, f"{got}")
    c.close()

    # 60 connections at once.
    results = []

    def one(j):
        try:
            k = agentwire.Conn(sock, timeout=20)
            g = 0
            for i in range(20):
                k.send_raw(sign_req(profile, j * 100 + i))
                rep, _ = k.reply()
                if rep is not None and good_sig(key, rep):
                    g += 1
            k.close()
            results.append(g)
        except Exception as e:
            results.append(repr(e))
    ths = [threading.Thread(target=one, args=(j,)) for j in range(60)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    check("60 connections signing at once: all 1200 signed right",
          results == [20] * 60, str([r for r in results if r != 20][:3]))

    signer.stop.set()
    signer.join(20)
    check(f"the signer's connection was served throughout ({signer.good})",
          signer.good >= 20 and signer.bad == 0, f"{signer.bad} bad: {signer.errors[:3]}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
