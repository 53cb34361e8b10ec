#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""load.py - many concurrent clients signing through tba-agent, every
signature checked independently, the agent's memory watched.

usage: load.py SOCKET AGENT_PID PROFILE CONSUMER_KEY TOKEN HOST
           [--clients N] [--count N] [--seconds S] [--warmup N]
       (stdin: consumer secret, token secret - two lines)

Half the clients keep one connection for all their requests, half open a new
connection per request; together they are more than the agent's session
pool. Requests vary method, path, query (reserved, unicode, repeated and
empty parameters), form and client-chosen nonce/timestamp. Every reply's base
string must equal one built by tbaclient.py (RFC 5849) and its signature must
equal Python's HMAC over it. The agent's VmRSS is sampled after warm-up and
at the end.

Prints "ok - ..."/"not ok - ..." lines and a figures line:
  load: N signatures, C clients, T s, R sig/s, RSS A -> B KiB (+D)
Exit 0 only with zero errors and RSS growth under --max-growth KiB.
"""

import argparse
import random
import sys
import threading
import time

import tbaclient

WORDS = ["a", "b", "script", "deploy", "q", "x y", "ä€", "a+b", "=", "&", "%", "~-._",
         "/?#[]@", "!$'()*,;", "", "10", "snowman☃"]


def make_request(rng, host):
    method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH"])
    path = "/" + "/".join(rng.choice(["services", "rest", "record", "v1", "employee",
                                      str(rng.randrange(100000)), "app", "restlet.nl"])
                          for _ in range(rng.randrange(1, 6)))
    q = [(rng.choice(WORDS), rng.choice(WORDS)) for _ in range(rng.randrange(0, 5))]
    url = f"https://{host}{path}"
    if q:
        url += "?" + "&".join(tbaclient.enc(n) + "=" + tbaclient.enc(v) for n, v in q)
    form = None
    if method in ("POST", "PUT") and rng.random() < 0.5:
        form = [(rng.choice(WORDS), rng.choice(WORDS)) for _ in range(rng.randrange(1, 4))]
    ts = nonce = None
    if rng.random() < 0.2:
        ts = int(time.time()) + rng.randrange(-60, 4)  # at most 5 s ahead: the agent refuses later ones
        nonce = "".join(rng.choice("ABCdef0123456789") for _ in range(rng.randrange(6, 65)))
    return method, url, form, ts, nonce


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.done = 0
        self.errors = []

    def add(self, err):
        with self.lock:
            self.done += 1
            if err is not None and len(self.errors) < 1000:
                self.errors.append(err)


def client(idx, args, creds, quota, stats, deadline, persistent):
    rng = random.Random(idx * 7919 + 1)
    conn = None
    try:
        for _ in range(quota):
            if time.monotonic() > deadline:
                stats.add("deadline passed before all requests were sent")
                return
            method, url, form, ts, nonce = make_request(rng, args.host)
            err = None
            try:
                if conn is None:
                    conn = tbaclient.Agent(args.socket)
                reply = conn.sign(creds.profile, method, url, form, ts, nonce)
                err = tbaclient.check_sign_reply(creds, method, url, form, reply, ts, nonce)
            except (tbaclient.AgentError, OSError, ValueError) as e:
                err = f"{type(e).__name__}: {e}"
                if conn is not None:
                    conn.close()
                    conn = None
            if err is not None:
                err = f"client {idx} {method} {url}: {err}"
            stats.add(err)
            if not persistent and conn is not None:
                conn.close()
                conn = None
    finally:
        if conn is not None:
            conn.close()


def run_batch(args, creds, n, stats, deadline):
    per = [n // args.clients + (1 if i < n % args.clients else 0) for i in range(args.clients)]
    threads = [threading.Thread(target=client, args=(run_batch.seq + i, args, creds, per[i],
                                                     stats, deadline, i % 2 == 0))
               for i in range(args.clients)]
    run_batch.seq += args.clients
    for t in threads:
        t.start()
    for t in threads:
        t.join()


run_batch.seq = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("pid", type=int)
    ap.add_argument("profile")
    ap.add_argument("consumer_key")
    ap.add_argument("token")
    ap.add_argument("host")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--max-growth", type=int, default=1024, help="KiB; 0: not checked")
    args = ap.parse_args()
    cs, ts = tbaclient.read_secrets()
    creds = tbaclient.Creds(args.profile, args.consumer_key, cs, args.token, ts)
    deadline = time.monotonic() + args.seconds

    stats = Stats()
    run_batch(args, creds, args.warmup, stats, deadline)
    rss0 = tbaclient.rss_kib(args.pid)
    t0 = time.monotonic()
    run_batch(args, creds, args.count, stats, deadline)
    elapsed = time.monotonic() - t0
    rss1 = tbaclient.rss_kib(args.pid)

    total = args.warmup + args.count
    bad = 0
    if stats.done == total:
        print(f"ok - {total} requests answered")
    else:
        bad += 1
        print(f"not ok - {total} requests answered: only {stats.done}")
    if not stats.errors:
        print("ok - every signature right (base string and HMAC checked independently)")
    else:
        bad += 1
        print(f"not ok - {len(stats.errors)} errors; first: {stats.errors[0]}")
        for e in stats.errors[1:5]:
            print(f"#   {e}")
    growth = rss1 - rss0
    if args.max_growth <= 0:
        print(f"# agent RSS not checked ({rss0} -> {rss1} KiB)")
    elif growth < args.max_growth:
        print(f"ok - agent RSS flat after warm-up ({rss0} -> {rss1} KiB)")
    else:
        bad += 1
        print(f"not ok - agent RSS grew {growth} KiB after warm-up ({rss0} -> {rss1} KiB)")
    print(f"load: {args.count} signatures after {args.warmup} warm-up, {args.clients} clients, "
          f"{elapsed:.1f} s, {args.count / elapsed:.0f} sig/s, RSS {rss0} -> {rss1} KiB "
          f"({growth:+d})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
