#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""token_loss.py - the token disappears under load and comes back; the agent
must recover by itself, and never hand out a wrong signature.

usage: token_loss.py SOCKET AGENT_PID PROFILE CONSUMER_KEY TOKEN HOST
           SERVER_PID_FILE -- SERVER_COMMAND...
       (stdin: consumer secret, token secret - two lines)

The token is served by `p11-kit server` (SERVER_COMMAND, whose PID is in
SERVER_PID_FILE) and the agent reaches it through p11-kit-client.so, so
killing the server is the token going away (a pulled USB HSM, a dead RPC).
Cycles: load; SIGKILL the server and its per-connection children; keep the
load on through an outage; start the server again; wait for signatures to
resume. Then the same with no load during the outage (the agent's keepalive
must notice and recover on its own), and a single request after it.

Every reply is checked by tbaclient.py (base string built here, Python's
HMAC). Prints "ok - ..."/"not ok - ..." lines and a figures line.
"""

import argparse
import os
import signal
import subprocess
import sys
import threading
import time

import tbaclient

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name}{': ' + detail if detail else ''}")
    sys.stdout.flush()


class Server:
    def __init__(self, pid_file, cmd, sock):
        self.pid_file = pid_file
        self.cmd = cmd
        self.sock = sock
        with open(pid_file, encoding="ascii") as f:
            self.pid = int(f.read().strip())
        self.proc = None

    def kill(self):
        """SIGKILL the server and the p11-kit-remote children serving the agent:
        the server runs in its own process group (setsid), and so does every
        child it forks, even one forked while we kill."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc is not None:
            self.proc.wait()
        try:
            os.unlink(self.sock)
        except FileNotFoundError:
            pass

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     start_new_session=True)
        self.pid = self.proc.pid
        with open(self.pid_file, "w", encoding="ascii") as f:
            f.write(f"{self.pid}\n")
        for _ in range(100):
            if os.path.exists(self.sock):
                return
            time.sleep(0.05)
        raise RuntimeError("p11-kit server did not come back")


class Load:
    """n threads signing in a loop; every outcome recorded with its time."""

    def __init__(self, args, creds, n):
        self.args = args
        self.creds = creds
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.events = []      # (monotonic time sent, time answered, outcome)
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(n)]

    def record(self, t0, outcome):
        with self.lock:
            self.events.append((t0, time.monotonic(), outcome))

    def run(self, idx):
        conn = None
        i = 0
        while not self.stop.is_set():
            i += 1
            url = f"https://{self.args.host}/services/rest/record/v1/customer/{idx}-{i}?q=x%20y"
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = tbaclient.Agent(self.args.socket, timeout=10)
                reply = conn.sign(self.creds.profile, "GET", url)
                err = tbaclient.check_sign_reply(self.creds, "GET", url, None, reply)
                self.record(t0, "ok" if err is None else "WRONG: " + err)
            except tbaclient.AgentError as e:
                self.record(t0, e.name)
                time.sleep(0.01)
            except (OSError, ValueError) as e:
                self.record(t0, f"connection: {e}")
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()

    def between(self, a, b):
        with self.lock:
            return [e for e in self.events if a <= e[0] < b]


def one_sign(args, creds):
    url = f"https://{args.host}/services/rest/record/v1/employee/40"
    try:
        with tbaclient.Agent(args.socket, timeout=20) as c:
            reply = c.sign(creds.profile, "GET", url)
        return tbaclient.check_sign_reply(creds, "GET", url, None, reply) or "ok"
    except tbaclient.AgentError as e:
        return e.name
    except OSError as e:
        return f"connection: {e}"


def loaded_cycle(args, creds, server, n, figures):
    with Load(args, creds, args.clients) as load:
        time.sleep(args.before)
        t_kill = time.monotonic()
        server.kill()
        time.sleep(args.outage)
        t_up = time.monotonic()
        server.start()
        t_end = t_up + args.recover_max
        first_ok = None
        while time.monotonic() < t_end:
            time.sleep(0.1)
            oks = [e for e in load.between(t_up, time.monotonic()) if e[2] == "ok"]
            if oks:
                first_ok = min(e[1] for e in oks)
                break
        time.sleep(args.after)
        t_stop = time.monotonic()
    with load.lock:
        everything = list(load.events)
    # Answered before the kill: must be signed. Sent during the outage: only
    # TokenError. In flight at the kill: either (both are checked for wrong
    # signatures like everything else).
    before = [e for e in everything if e[1] < t_kill]
    during = load.between(t_kill, t_up)
    after = load.between(t_up, t_stop)
    wrong = [e[2] for e in everything if e[2].startswith("WRONG")]
    check(f"cycle {n}: no wrong signature among {len(everything)} replies", not wrong,
          wrong[0] if wrong else "")
    check(f"cycle {n}: all {len(before)} requests before the loss signed",
          len(before) > 0 and all(e[2] == "ok" for e in before),
          str(sorted({e[2] for e in before})))
    # p11-kit-client 0.24 can leave a call hanging for ever when its server
    # dies under concurrent callers; the agent abandons such calls after 5 s.
    # So a request that reached the module in the first instant of the
    # outage may never be answered: at most one per session, and only then.
    hung = [e for e in during if e[2].startswith("connection: timed out")]
    early = all(e[0] < t_kill + 0.5 for e in hung) and len(hung) <= args.sessions
    bad = sorted({e[2] for e in during
                  if e[2] not in ("ok", "io.tba.Agent.TokenError") and e not in hung})
    terr = sum(1 for e in during if e[2] == "io.tba.Agent.TokenError")
    # A request queued behind hung calls can also be served right after the
    # token is back: a right signature is fine, anything else is not.
    check(f"cycle {n}: during the outage only TokenError or (later) a right signature "
          f"({terr} TokenError of {len(during)}, {len(hung)} left hanging in the module "
          f"at the loss)", not bad and early,
          f"also {bad}; hung {[round(e[0] - t_kill, 2) for e in hung]}")
    # Clients are told: at least one TokenError answered between the loss
    # and the first signature after it. Counted by answer time, so it holds
    # even when every client was held from before the kill by calls hung in
    # the module (then the agent's 5 s limit answers them TokenError).
    t_back = first_ok if first_ok is not None else t_stop
    told = sum(1 for e in everything
               if e[2] == "io.tba.Agent.TokenError" and t_kill <= e[1] < t_back)
    check(f"cycle {n}: TokenError while the token is away ({told} answered between the "
          f"loss and the first signature after it)", told > 0)
    # Fast, or bounded by the agent's 5 s "token does not answer" limit when
    # the module's calls hang.
    slow = max((e[1] - e[0] for e in during if e not in hung), default=0)
    check(f"cycle {n}: outage replies come within 8 s (slowest {slow:.2f} s)", slow < 8)
    check(f"cycle {n}: signatures resume after the token is back", first_ok is not None,
          f"none within {args.recover_max} s")
    if first_ok is not None:
        tail = [e for e in after if e[0] >= first_ok]
        bad_after = sorted({e[2] for e in tail if e[2] != "ok"})
        check(f"cycle {n}: every request after recovery signed ({len(tail)})", not bad_after,
              str(bad_after))
        figures.append(f"cycle {n}: {len(before)} ok before, {terr} TokenError in "
                       f"{args.outage:.0f} s outage, recovered {first_ok - t_up:.2f} s "
                       f"after the token returned, {sum(1 for e in after if e[2] == 'ok')} ok after")


def idle_cycle(args, creds, server, figures):
    check("idle: signing works before", one_sign(args, creds) == "ok")
    server.kill()
    time.sleep(args.outage)
    server.start()
    # The keepalive (TBA_KEEPALIVE_SEC in the test) noticed the loss while
    # idle and recovery retried with backoff: the next request is served.
    time.sleep(args.idle_wait)
    got = one_sign(args, creds)
    check("idle: first request after the token came back is signed", got == "ok", got)
    figures.append(f"idle: first request {args.idle_wait:.0f} s after the token returned: {got}")


def main():
    ap = argparse.ArgumentParser()
    for a in ("socket", "pid", "profile", "consumer_key", "token", "host", "server_pid_file"):
        ap.add_argument(a)
    ap.add_argument("server_cmd", nargs="+")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--cycles", type=int, default=2)
    ap.add_argument("--before", type=float, default=2)
    ap.add_argument("--outage", type=float, default=3)
    ap.add_argument("--after", type=float, default=2)
    ap.add_argument("--recover-max", type=float, default=20)
    ap.add_argument("--sessions", type=int, default=4)
    # Retries are at most 4 s apart (plus the attempt itself): 9 s leaves
    # room for two under a loaded CI machine.
    ap.add_argument("--idle-wait", type=float, default=9)
    ap.add_argument("--p11-socket", required=True)
    args = ap.parse_args()
    cs, ts = tbaclient.read_secrets()
    creds = tbaclient.Creds(args.profile, args.consumer_key, cs, args.token, ts)
    server = Server(args.server_pid_file, args.server_cmd, args.p11_socket)
    figures = []
    try:
        for n in range(1, args.cycles + 1):
            loaded_cycle(args, creds, server, n, figures)
        idle_cycle(args, creds, server, figures)
    finally:
        pass
    try:
        os.kill(int(args.pid), 0)
        alive = True
    except ProcessLookupError:
        alive = False
    check("the agent never restarted (same process throughout)", alive)
    for f in figures:
        print("# " + f)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
