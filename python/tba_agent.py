# SPDX-License-Identifier: MIT
"""tba_agent - talk to tba-agent from Python (standard library only).

    import requests, tba_agent
    auth = tba_agent.Auth("prod")
    r = requests.get("https://1234567.suitetalk.api.netsuite.com"
                     "/services/rest/record/v1/customer?limit=5", auth=auth)
    print(r.json())

Agent(path=None) speaks the agent's wire protocol (doc/PROTOCOL.md: one JSON
object and a NUL byte per message, at most 65536 bytes) on its Unix socket:
path, else $TBA_AGENT_SOCK, else $XDG_RUNTIME_DIR/tba/agent.sock, else
/tmp/tba-UID/agent.sock. Before it sends anything it checks that the process
on the other end (SO_PEERCRED) runs as this user, root or the uid in
$TBA_AGENT_UID (a system agent's own user), as tba does.
Errors the agent returns raise AgentError with .name (for example
"io.tba.Agent.PolicyDenied") and .message.

Auth(profile) is an authentication object for requests (which this module
does not need: without it Auth is still importable and callable on any
object with .method, .url, .headers and .body). TBA profiles get a fresh
signature per request, redirects on the same host included, with an
application/x-www-form-urlencoded body signed too, and the request is sent
to the URL the agent signed; M2M profiles get "Authorization: Bearer" with the agent's access token, renewed
once when the server answers 401.
"""

import json
import os
import socket
import struct
import threading
import time
import urllib.parse

try:
    from requests.auth import AuthBase as _AuthBase
except ImportError:  # requests is optional
    _AuthBase = object

__all__ = ["Agent", "AgentError", "AgentUnreachable", "Auth", "default_paths"]

PREFIX = "io.tba.Agent."
_BUSY_SEC = 40.0  # how long access_token() asks again while the agent is busy
MAX_MESSAGE = 65536  # bytes per message, NUL included
TIMEOUT = 120.0  # seconds; a slow token may take a while to sign


class AgentError(Exception):
    """An error reply from the agent: .name is the error's full name
    ("io.tba.Agent.PolicyDenied", ...), .message the agent's explanation,
    .parameters the whole error parameters object."""

    def __init__(self, name, message, parameters=None):
        super().__init__("%s: %s" % (name, message) if name else message)
        self.name = name
        self.message = message
        self.parameters = parameters or {}


class AgentUnreachable(AgentError):
    """No agent answers at the socket, or its owner is not trusted (.name is None)."""

    def __init__(self, message):
        super().__init__(None, message)


def default_paths():
    """Where clients look for the agent when TBA_AGENT_SOCK is unset, in order."""
    paths = []
    rt = os.environ.get("XDG_RUNTIME_DIR", "")
    if rt.startswith("/"):
        paths.append(os.path.join(rt, "tba", "agent.sock"))
    paths.append("/tmp/tba-%d/agent.sock" % os.getuid())
    return paths


_START_HINT = 'start one with eval "$(tba-agent)"'


class Agent:
    """A connection to tba-agent (opened on first use, reopened after a failure).
    Thread-safe: calls on one Agent are serialised."""

    def __init__(self, path=None, timeout=TIMEOUT):
        self.path = path
        self.timeout = timeout
        self._sock = None
        self._path = None
        self._buf = b""
        self._lock = threading.Lock()

    # -- connection ------------------------------------------------------
    def _candidates(self):
        if self.path:
            return [self.path]
        env = os.environ.get("TBA_AGENT_SOCK", "")
        if env:
            return [env]
        return default_paths()

    def _open(self):
        errors = []
        refused = None
        for path in self._candidates():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(self.timeout)
            try:
                s.connect(path)
            except OSError as e:
                s.close()
                errors.append("%s (%s)" % (path, e.strerror or e))
                continue
            try:
                self._check_peer(s, path)
            except AgentUnreachable as e:
                s.close()
                refused = e
                continue
            self._sock, self._buf, self._path = s, b"", path
            return
        if refused is not None:
            raise refused
        if not self.path and not os.environ.get("TBA_AGENT_SOCK"):
            raise AgentUnreachable("TBA_AGENT_SOCK is not set and no agent listens at %s: %s"
                                   % (" or ".join(errors), _START_HINT))
        raise AgentUnreachable("no agent at %s: %s" % (errors[0], _START_HINT))

    @staticmethod
    def _check_peer(s, path):
        # struct ucred {pid_t pid; uid_t uid; gid_t gid;}
        cred = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", cred)
        if uid in (os.geteuid(), 0):
            return
        # A system agent running as its own user: trusted only when named, as tba does.
        named = os.environ.get("TBA_AGENT_UID", "")
        if named.isdigit() and int(named) == uid:
            return
        raise AgentUnreachable("the agent at %s runs as uid %d, not as you (uid %d) or root:"
                               " refusing to talk to it (set TBA_AGENT_UID=%d to trust that"
                               " user's agent)" % (path, uid, os.geteuid(), uid))

    def close(self):
        """Closes the connection (the next call opens a new one)."""
        with self._lock:
            self._drop()

    def _drop(self):
        if self._sock is not None:
            self._sock.close()
        self._sock, self._buf = None, b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read(self):
        while b"\0" not in self._buf:
            if len(self._buf) >= MAX_MESSAGE:
                raise AgentError(None, "the agent's reply is too large")
            chunk = self._sock.recv(MAX_MESSAGE - len(self._buf))
            if not chunk:
                raise AgentUnreachable("the agent at %s closed the connection (is this user "
                                       "allowed to use it? see tba-agent --allow-uid)"
                                       % self._path)
            self._buf += chunk
        msg, _, self._buf = self._buf.partition(b"\0")
        return msg

    def call(self, method, parameters=None):
        """Sends one request (method without the io.tba.Agent. prefix, or with it)
        and returns the reply's parameters as a dict, or raises AgentError."""
        if not method.startswith(PREFIX):
            method = PREFIX + method
        req = {"method": method}
        if parameters is not None:
            req["parameters"] = parameters
        data = json.dumps(req, separators=(",", ":")).encode() + b"\0"
        if len(data) > MAX_MESSAGE:
            raise AgentError(PREFIX + "MessageTooLarge", "the request is larger than %d bytes"
                             % MAX_MESSAGE)
        with self._lock:
            if self._sock is None:
                self._open()
            try:
                self._sock.sendall(data)
                msg = self._read()
            except OSError as e:
                self._drop()
                raise AgentUnreachable("talking to the agent: %s" % e) from e
            except AgentError:
                self._drop()
                raise
        try:
            obj = json.loads(msg.decode("utf-8"))
        except ValueError as e:
            raise AgentError(None, "the agent's reply is not JSON: %s" % e) from e
        if not isinstance(obj, dict):
            raise AgentError(None, "the agent's reply is not a JSON object")
        params = obj.get("parameters") or {}
        if "error" in obj:
            raise AgentError(obj["error"], params.get("message", ""), params)
        return params

    # -- methods -----------------------------------------------------------
    def ping(self):
        """The agent's version string."""
        return self.call("Ping").get("version")

    def list(self):
        """The profiles the agent serves: a list of dicts (name, kind, account, ...)."""
        return self.call("List").get("profiles", [])

    def sign(self, profile, method, url, form=None, timestamp=None, nonce=None):
        """Signs one request. form: the form body's parameters, as a dict or as
        (name, value) pairs, literal (not encoded). Returns the reply: authorization
        (the Authorization header's value), signature, nonce, timestamp,
        base_string and, from agents that report it, url (the URL signed: send that)."""
        params = {"profile": profile, "method": method, "url": url}
        if form is not None:
            items = form.items() if hasattr(form, "items") else form
            params["form"] = [[str(n), str(v)] for n, v in items]
        if timestamp is not None:
            params["timestamp"] = int(timestamp)
        if nonce is not None:
            params["nonce"] = nonce
        return self.call("Sign", params)

    def passport(self, profile, timestamp=None, nonce=None):
        """A SOAP tokenPassport's fields: account, consumer_key, token, nonce,
        timestamp, signature, algorithm."""
        params = {"profile": profile}
        if timestamp is not None:
            params["timestamp"] = int(timestamp)
        if nonce is not None:
            params["nonce"] = nonce
        return self.call("Passport", params)

    def access_token(self, profile, renew=False):
        """An M2M profile's access token: access_token, token_type, expires_at, scope.

        An AuthorizationFailed with "retry": true means the agent had too many
        requests waiting on token exchanges (it keeps its workers free for
        everyone else): asked again, backing off from 20 ms to 1 s, for as
        long as one exchange may take (40 s), as the C client does."""
        params = {"profile": profile, "renew": bool(renew)}
        waited, pause = 0.0, 0.02
        while True:
            try:
                return self.call("AccessToken", params)
            except AgentError as e:
                if (e.name != PREFIX + "AuthorizationFailed" or
                        e.parameters.get("retry") is not True or waited >= _BUSY_SEC):
                    raise
            time.sleep(pause)
            waited += pause
            pause = min(pause * 2, 1.0)


def _form_pairs(body, content_type):
    """The parameters of an application/x-www-form-urlencoded body, else None."""
    if not body or not content_type:
        return None
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return None
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if not isinstance(body, str):
        return None  # a stream: cannot be read twice
    return urllib.parse.parse_qsl(body, keep_blank_values=True)


class Auth(_AuthBase):
    """requests authentication with a tba profile: requests.get(url, auth=Auth("prod")).

    agent: an Agent to use (default: a new Agent(path))."""

    def __init__(self, profile, agent=None, path=None):
        self.profile = profile
        self.agent = agent if agent is not None else Agent(path)
        self._kind = None

    def kind(self):
        """The profile's kind as the agent lists it ("netsuite", "oauth1", "m2m")."""
        if self._kind is None:
            for p in self.agent.list():
                if p.get("name") == self.profile:
                    self._kind = p.get("kind", "netsuite")
                    break
            else:
                raise AgentError(PREFIX + "ProfileNotFound",
                                 "the agent has no profile '%s' (see tba list)" % self.profile)
        return self._kind

    def __call__(self, r):
        if self.kind() == "m2m":
            tok = self.agent.access_token(self.profile)
            r.headers["Authorization"] = "Bearer " + tok["access_token"]
            if hasattr(r, "register_hook"):
                r.register_hook("response", self._renew_on_401)
            return r
        self._sign(r)
        if hasattr(r, "register_hook"):
            r.register_hook("response", self._resign_redirect)
        return r

    def _sign(self, r):
        form = _form_pairs(r.body, r.headers.get("Content-Type"))
        reply = self.agent.sign(self.profile, r.method, r.url, form)
        if reply.get("url"):
            r.url = reply["url"]
        r.headers["Authorization"] = reply["authorization"]
        return reply

    def _resign_redirect(self, resp, **kwargs):
        """A redirect on the same host gets a signature of its own (requests
        would resend the first one, whose nonce the server has seen). requests
        builds the next request from resp.request and the Location header: the
        next request is worked out with requests' own code, signed, and the
        signature and the URL signed are put where requests will take them.
        Another host gets no signature: requests drops the header itself."""
        if not resp.is_redirect:
            return resp
        import requests  # only reached through requests

        nxt = next(requests.Session().resolve_redirects(resp, resp.request, yield_requests=True),
                   None)
        if nxt is None or "Authorization" not in nxt.headers:
            return resp
        reply = self._sign(nxt)
        resp.headers["Location"] = nxt.url
        resp.request.headers["Authorization"] = reply["authorization"]
        return resp

    def _renew_on_401(self, resp, **kwargs):
        """A cached token the server no longer takes: renew it once and resend."""
        req = resp.request
        if resp.status_code != 401 or getattr(req, "_tba_renewed", False):
            return resp
        tok = self.agent.access_token(self.profile, renew=True)
        resp.content  # read the body so the connection can be reused
        resp.close()
        again = req.copy()
        again._tba_renewed = True
        again.headers["Authorization"] = "Bearer " + tok["access_token"]
        new = resp.connection.send(again, **kwargs)
        new.history.append(resp)
        new.request = again
        return new
