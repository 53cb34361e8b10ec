"""agentwire.py - the agent's wire protocol (SPEC.md §6) for the agent tests.

Written from the SPEC, not from libtba: JSON + NUL over a Unix socket.
"""

import json
import socket

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
