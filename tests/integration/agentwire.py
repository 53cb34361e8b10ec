# SPDX-License-Identifier: MIT
"""agentwire.py - the agent's wire protocol (doc/PROTOCOL.md) for the agent tests.

Written from doc/PROTOCOL.md, not from libtba: JSON + NUL over a Unix socket.
"""

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse

PREFIX = "io.tba.Agent."
MAX = 65536


class Conn:
    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def read_msg(self):
        """The next message as bytes (without NUL), or None when the agent closed."""
        while b"\0" not in self.buf:
            try:
                chunk = self.sock.recv(MAX)
            except (ConnectionResetError, BrokenPipeError):
                return None
            if not chunk:
                return None
            self.buf += chunk
            if len(self.buf) > 4 * MAX:
                raise ValueError("reply without NUL longer than 256 KiB")
        msg, _, self.buf = self.buf.partition(b"\0")
        return msg

    def request(self, method, params=None):
        """Returns (parameters, None) or (None, (error_name, message))."""
        req = {"method": PREFIX + method}
        if params is not None:
            req["parameters"] = params
        self.send_raw(json.dumps(req).encode() + b"\0")
        return self.reply()

    def reply(self):
        msg = self.read_msg()
        if msg is None:
            return None, ("closed", "")
        obj = json.loads(msg.decode())
        if "error" in obj:
            return None, (obj["error"], obj.get("parameters", {}).get("message", ""))
        return obj["parameters"], None


class Signer(threading.Thread):
    """A bystander: signs GET https://api.example.com/ok?n=<i> on its own
    connection until stop is set, checking each reply with Python's hmac
    (HMAC-SHA256, key from the secrets cs and ts) and that its base string is
    for request i. good and bad count the replies; errors keeps what went wrong."""

    def __init__(self, sock, profile, cs, ts, pause=0.01):
        super().__init__(daemon=True)
        enc = lambda v: urllib.parse.quote(v, safe="~")  # noqa: E731
        self.sock, self.profile, self.pause = sock, profile, pause
        self.key = (enc(cs) + "&" + enc(ts)).encode()
        self.good = self.bad = 0
        self.errors = []
        self.stop = threading.Event()

    def run(self):
        c = Conn(self.sock, timeout=10)
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                rep, err = c.request("Sign", {"profile": self.profile, "method": "GET",
                                              "url": f"https://api.example.com/ok?n={i}"})
            except Exception as e:  # a stalled or dead agent
                self.bad += 1
                self.errors.append(repr(e))
                return
            if rep is None:
                self.bad += 1
                self.errors.append(str(err))
                continue
            want = base64.b64encode(hmac.new(self.key, rep["base_string"].encode(),
                                             hashlib.sha256).digest()).decode()
            if rep["signature"] == want and f"n%3D{i}%26" in rep["base_string"]:
                self.good += 1
            else:
                self.bad += 1
                self.errors.append(f"signature {rep['signature']} != {want}")
            time.sleep(self.pause)
        c.close()
