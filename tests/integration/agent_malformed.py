#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Hostile input for tba-agent: every bad message gets an error reply or a
closed connection, while another connection keeps getting correct signatures.

Usage: agent_malformed.py SOCK PROFILE CS TS

PROFILE is an oauth1 profile (HMAC-SHA256) whose only host is api.example.com
with secrets CS and TS; the background signer checks its signatures with
Python's hmac. Prints ok/not ok lines and "N passed, N failed".
"""

import json
import os
import random
import socket
import sys
import threading
import time

import agentwire

P = agentwire.PREFIX
passed = failed = 0
lock = threading.Lock()


def ok(name):
    global passed
    with lock:
        passed += 1
    print(f"ok - {name}")


def not_ok(name, detail):
    global failed
    with lock:
        failed += 1
    print(f"not ok - {name}: {detail}")


def expect(name, data, want_errors, sock, close_after=False):
    """Sends data on a new connection; passes on one of want_errors or (if None in it) a close."""
    try:
        c = agentwire.Conn(sock, timeout=10)
        c.send_raw(data)
        if close_after:
            c.sock.shutdown(socket.SHUT_WR)
        msg = c.read_msg()
        c.close()
    except (BrokenPipeError, ConnectionResetError):
        msg = None
    except socket.timeout:
        not_ok(name, "no reply within 10 s")
        return
    if msg is None:
        if None in want_errors:
            ok(f"{name}: connection closed")
        else:
            not_ok(name, "connection closed without a reply")
        return
    try:
        obj = json.loads(msg.decode())
    except ValueError:
        not_ok(name, f"reply is not JSON: {msg[:200]!r}")
        return
    e = obj.get("error")
    if e in [P + w for w in want_errors if w]:
        if not isinstance(obj.get("parameters", {}).get("message"), str):
            not_ok(name, f"error without a message: {obj}")
        else:
            ok(f"{name}: {e}")
    else:
        not_ok(name, f"got {msg[:300]!r}, want one of {want_errors}")


def req(method, params=None, raw=None):
    d = {"method": P + method} if raw is None else raw
    if params is not None:
        d["parameters"] = params
    return json.dumps(d).encode() + b"\0"


def main():
    sock, profile, cs, ts = sys.argv[1:5]
    rng = random.Random(int(os.environ.get("SEED", "0")) or None)
    signer = agentwire.Signer(sock, profile, cs, ts, pause=0.005)
    signer.start()
    IR, TL = "InvalidRequest", "MessageTooLarge"
    now = int(time.time())
    good = {"profile": profile, "method": "GET", "url": "https://api.example.com/x"}

    # Random bytes, each ended by a NUL so it is one message.
    for i in range(60):
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))).replace(b"\0", b"")
        expect(f"random bytes {i}", data + b"\0", [IR, None], sock)
    for i, s in enumerate([b"", b"{", b"}", b"[]", b"null", b"42", b'"str"', b"{method}",
                           b'{"method": "io.tba.Agent.Ping"', b'{"method": "io.tba.Agent.Ping"} x',
                           b'{"method": "io.tba.Agent.Ping",}', b"\xff\xfe{}",
                           b'{"method": "io.tba.Agent.Ping\xc3"}',
                           b'{"method": "io.tba.Agent.Ping", "method": "io.tba.Agent.Ping"}',
                           b'{"method": "io.tba.Agent.Sign", "parameters": {"profile": "a\\u0000b",'
                           b' "method": "GET", "url": "https://api.example.com/"}}']):
        expect(f"invalid JSON {i} {s[:40]!r}", s + b"\0", [IR], sock)

    # Wrong types and shapes.
    cases = [
        ("timestamp as string", dict(good, timestamp=str(now))),
        ("timestamp fraction", dict(good, timestamp=now + 0.5)),
        ("timestamp negative", dict(good, timestamp=-1)),
        ("timestamp bool", dict(good, timestamp=True)),
        ("timestamp huge", dict(good, timestamp=1e300)),
        ("profile number", dict(good, profile=5)),
        ("profile null", dict(good, profile=None)),
        ("method array", dict(good, method=["GET"])),
        ("url object", dict(good, url={"u": 1})),
        ("url missing", {"profile": profile, "method": "GET"}),
        ("nonce number", dict(good, nonce=123456)),
        ("form object", dict(good, method="POST", form={"a": "b"})),
        ("form pair of 3", dict(good, method="POST", form=[["a", "b", "c"]])),
        ("form pair numbers", dict(good, method="POST", form=[["a", 1]])),
        ("form flat", dict(good, method="POST", form=["a", "b"])),
        ("unknown parameter", dict(good, extra="x")),
        ("oversized url", dict(good, url="https://api.example.com/" + "a" * 9000)),
    ]
    for name, params in cases:
        expect(f"type: {name}", req("Sign", params), [IR], sock)
    expect("parameters is an array", req("Ping", [1]), [IR], sock)
    expect("method is a number", req(None, raw={"method": 7}), [IR], sock)
    expect("no method", req(None, raw={"parameters": {}}), [IR], sock)
    expect("extra top-level key", req(None, raw={"method": P + "Ping", "oneway": True}), [IR], sock)
    expect("Ping with parameters", req("Ping", {"x": 1}), [IR], sock)
    expect("Unlock pin number", req("Unlock", {"pin": 1234}), [IR], sock)
    expect("Passport timestamp string", req("Passport", {"profile": profile, "timestamp": "1"}),
           [IR], sock)

    # Depth and size.
    expect("100000 '['", b"[" * 100000 + b"\0", [IR, TL, None], sock)
    expect("deep object in parameters",
           req("Sign", dict(good, form=json.loads("[" * 30 + "]" * 30))), [IR], sock)
    expect("70000 bytes without NUL", b"x" * 70000, [TL, None], sock)
    expect("70000-byte JSON message", req("Sign", dict(good, url="https://api.example.com/" + "a" * 70000)),
           [TL, None], sock)
    expect("half a message, then close", b'{"method": "io.tba.Agent.Si', [None], sock, close_after=True)

    # Methods and profiles.
    for m in ["io.tba.Agent.Nope", "Ping", "io.tba.agent.Ping", "io.tba.Agent.", "io.tba.Agent.PING",
              "org.varlink.service.GetInfo"]:
        expect(f"unknown method {m}", req(None, raw={"method": m}), ["MethodNotFound"], sock)
    expect("unknown profile", req("Sign", dict(good, profile="nosuch")), ["ProfileNotFound"], sock)
    expect("bad profile name", req("Sign", dict(good, profile="../etc")), ["ProfileNotFound", IR], sock)
    expect("unknown profile (Passport)", req("Passport", {"profile": "nosuch"}), ["ProfileNotFound"], sock)

    # Policy.
    for name, m, url in [
            ("http", "GET", "http://api.example.com/"),
            ("other host", "GET", "https://example.org/"),
            ("suffix host", "GET", "https://evil-api.example.com/"),
            ("host with a suffix", "GET", "https://api.example.com.evil.org/"),
            ("userinfo", "GET", "https://user@api.example.com/"),
            ("userinfo with password", "GET", "https://u:p@api.example.com/"),
            ("port 8443", "GET", "https://api.example.com:8443/"),
            ("lower-case method", "get", "https://api.example.com/"),
            ("method with a dash", "G-T", "https://api.example.com/"),
            ("empty method", "", "https://api.example.com/"),
            ("ftp", "GET", "ftp://api.example.com/")]:
        expect(f"policy: {name}", req("Sign", dict(good, method=m, url=url)),
               ["PolicyDenied", IR], sock)
    expect("garbage url", req("Sign", dict(good, url="not a url")), [IR, "PolicyDenied"], sock)
    # Protocol parameters are the agent's: a client may not add its own.
    expect("oauth_timestamp in the query",
           req("Sign", dict(good, url="https://api.example.com/x?oauth_timestamp=1")),
           ["PolicyDenied"], sock)
    expect("oauth_nonce in the form",
           req("Sign", dict(good, method="POST", form=[["a", "1"], ["oauth_nonce", "abcdef"]])),
           ["PolicyDenied"], sock)

    # Client nonce and timestamp.
    for n in ["abc", "a" * 65, "abc-def!", "nonce with space", "ümlaut1", ""]:
        expect(f"bad nonce {n!r}", req("Sign", dict(good, nonce=n)), [IR], sock)
    expect("timestamp 1000 s ahead", req("Sign", dict(good, timestamp=now + 1000)),
           ["PolicyDenied", IR], sock)
    expect("timestamp 1000 s behind", req("Passport", {"profile": profile, "timestamp": now - 1000}),
           ["PolicyDenied", IR], sock)

    # Several requests in one write: answered in order, the connection stays usable.
    c = agentwire.Conn(sock)
    c.send_raw(req("Ping") + b"{bad}\0" + req("Sign", dict(good, nonce="abcdef", timestamp=now)))
    r1, r2, r3 = c.reply(), c.reply(), c.reply()
    if r1[0] and "version" in r1[0] and r2[1] and r2[1][0] == P + IR and r3[0] and r3[0]["nonce"] == "abcdef":
        ok("pipelined requests answered in order after an error")
    else:
        not_ok("pipelined requests", f"{r1} {r2} {r3}")
    c.close()

    # More connections from one process than the agent allows it (128): the extra
    # ones are told so in those words and closed.
    conns = []
    try:
        for _ in range(140):
            conns.append(agentwire.Conn(sock, timeout=5))
        time.sleep(0.3)
        refused = 0
        for k in conns:
            k.sock.setblocking(False)
            try:
                d = k.sock.recv(65536)
                if b"too many connections from this process" in d:
                    refused += 1
            except BlockingIOError:
                pass
        if refused >= 12:
            ok(f"connections past the per-process cap are refused ({refused} of 140 while the signer holds one)")
        else:
            not_ok("connection cap", f"only {refused} of 140 refused")
    finally:
        for k in conns:
            k.close()
    time.sleep(0.3)
    c = agentwire.Conn(sock)
    rep, err = c.request("Ping")
    if rep:
        ok("served again after the idle connections closed")
    else:
        not_ok("served again after the idle connections closed", err)
    c.close()

    signer.stop.set()
    signer.join(20)
    if signer.good >= 20 and signer.bad == 0:
        ok(f"the other connection kept getting correct signatures ({signer.good})")
    else:
        not_ok("the other connection kept signing", f"{signer.good} good, {signer.bad} bad: {signer.errors[:3]}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
