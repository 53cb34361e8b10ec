# SPDX-License-Identifier: MIT
"""tbaclient.py - a small, independent client of tba-agent for the tests.

It speaks the wire protocol straight from doc/PROTOCOL.md (JSON + NUL over a Unix
socket) and checks signatures with an OAuth 1.0a base string built here from
RFC 5849 and Python's hmac (OpenSSL) - never with libtba - so a test that
uses it cannot agree with the agent by sharing its bugs.

Used by test_load.py, test_token_loss.py and test_faults.sh.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import urllib.parse

import agentwire

PREFIX = agentwire.PREFIX
DIGESTS = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1,
           "HMAC-SHA512": hashlib.sha512}
NONCE_RE = re.compile(r"^[A-Za-z0-9]{20,64}$")


class AgentError(Exception):
    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class Agent(agentwire.Conn):
    """One connection; any number of calls in order; an error reply raises AgentError."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def raw(self, data):
        """Sends data as is and returns the next reply as a dict."""
        self.send_raw(data)
        msg = self.read_msg()
        if msg is None:
            raise ConnectionError("agent closed the connection")
        return json.loads(msg.decode("utf-8"))

    def call(self, method, params=None):
        """Returns the reply's parameters or raises AgentError."""
        req = {"method": PREFIX + method}
        if params is not None:
            req["parameters"] = params
        reply = self.raw(json.dumps(req).encode("utf-8") + b"\0")
        if "error" in reply:
            msg = reply.get("parameters", {}).get("message", "")
            raise AgentError(reply["error"], msg)
        return reply["parameters"]

    def sign(self, profile, method, url, form=None, timestamp=None, nonce=None):
        p = {"profile": profile, "method": method, "url": url}
        if form is not None:
            p["form"] = [[n, v] for n, v in form]
        if timestamp is not None:
            p["timestamp"] = timestamp
        if nonce is not None:
            p["nonce"] = nonce
        return self.call("Sign", p)


def enc(s):
    """RFC 3986 / RFC 5849 §3.6 percent-encoding of a str (UTF-8)."""
    return urllib.parse.quote(s.encode("utf-8"), safe="-._~")


def base_uri(url):
    u = urllib.parse.urlsplit(url)
    scheme = u.scheme.lower()
    host = (u.hostname or "").lower()
    if ":" in host:
        host = "[" + host + "]"
    port = u.port
    if port is not None and not ((scheme == "https" and port == 443) or
                                 (scheme == "http" and port == 80)):
        host += f":{port}"
    return f"{scheme}://{host}{u.path or '/'}"


def base_string(method, url, form, oauth):
    """RFC 5849 §3.4.1. url's path must already be as sent; form a list of
    decoded pairs; oauth the oauth_* parameters (without the signature)."""
    query = urllib.parse.urlsplit(url).query
    params = urllib.parse.parse_qsl(query, keep_blank_values=True)
    params += list(form or [])
    params += list(oauth.items())
    pairs = sorted((enc(n), enc(v)) for n, v in params)
    norm = "&".join(f"{n}={v}" for n, v in pairs)
    return "&".join([method.upper(), enc(base_uri(url)), enc(norm)])


def oauth_key(cs, ts):
    return (enc(cs) + "&" + enc(ts)).encode("utf-8")


def mac_b64(key, text, sigmethod="HMAC-SHA256"):
    d = hmac.new(key, text.encode("utf-8"), DIGESTS[sigmethod]).digest()
    return base64.b64encode(d).decode("ascii")


class Creds:
    """One profile's credentials as the test imported them."""

    def __init__(self, profile, consumer_key, consumer_secret, token, token_secret,
                 realm="", sigmethod="HMAC-SHA256"):
        self.profile = profile
        self.ck = consumer_key
        self.token = token
        self.key = oauth_key(consumer_secret, token_secret)
        self.realm = realm
        self.sigmethod = sigmethod


def check_sign_reply(creds, method, url, form, reply, timestamp=None, nonce=None):
    """Returns None when reply is a right signature of the request, else a
    one-line reason. Checks the base string against one built here and the
    signature against Python's hmac over both."""
    try:
        sig, bs = reply["signature"], reply["base_string"]
        rn, rt = reply["nonce"], str(reply["timestamp"])
        auth = reply["authorization"]
    except (KeyError, TypeError) as e:
        return f"reply lacks {e}"
    if nonce is not None and rn != nonce:
        return f"nonce {rn!r}, asked for {nonce!r}"
    if nonce is None and not NONCE_RE.match(rn):
        return f"agent nonce {rn!r} is not 20+ characters of A-Za-z0-9"
    if timestamp is not None and rt != str(timestamp):
        return f"timestamp {rt}, asked for {timestamp}"
    oauth = {"oauth_consumer_key": creds.ck, "oauth_nonce": rn,
             "oauth_signature_method": creds.sigmethod, "oauth_timestamp": rt,
             "oauth_token": creds.token, "oauth_version": "1.0"}
    mine = base_string(method, url, form, oauth)
    if bs != mine:
        return f"base string differs:\n  agent {bs}\n  mine  {mine}"
    want = mac_b64(creds.key, mine, creds.sigmethod)
    if sig != want:
        return f"WRONG SIGNATURE {sig} (want {want}) over {mine}"
    if f'oauth_signature="{enc(sig)}"' not in auth:
        return f"header does not carry the signature: {auth}"
    return None


def rss_kib(pid):
    """VmRSS of pid in KiB (Linux /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def read_secrets(fd=0):
    """Two lines from stdin: consumer secret, token secret (kept out of argv)."""
    with os.fdopen(fd, "r", closefd=False) as f:
        cs = f.readline().rstrip("\r\n")
        ts = f.readline().rstrip("\r\n")
    return cs, ts
