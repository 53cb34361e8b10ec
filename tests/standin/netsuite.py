#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""netsuite.py - a local HTTPS stand-in for NetSuite's TBA-protected APIs.

Every request is checked the way NetSuite checks it, with an implementation
that is not ours: Debian's python3-oauthlib rebuilds the signature base
string (oauthlib.oauth1.rfc5849.signature) and computes the HMAC. The
stand-in then checks the realm, the account host, the timestamp (+-300 s
against its own clock, which --clock-offset can move) and nonce reuse, and
answers like NetSuite: JSON bodies, 401 INVALID_LOGIN with NetSuite's error
shape, a Date header from its own clock.

    netsuite.py --cert server.pem --key server.key --creds FILE|- \
                [--port 0] [--port-file F] [--log F] [--clock-offset SECONDS] [--forbid-rest]

--creds is a JSON list (read from stdin with "-", so test secrets never sit
in argv): [{"realm": "1234567_SB1", "consumer_key": .., "consumer_secret": ..,
"token": .., "token_secret": .., "hosts": [..]}, ...]. --log appends one JSON
line per request (method, host, path, query, verified, reason, nonce,
base_string) for tests to assert on. SIGTERM/SIGINT stop it cleanly.

Endpoints (any host in a credential's hosts):
  GET  /services/rest/record/v1/metadata-catalog[/]      record catalog
  GET  /services/rest/record/v1/customer?q=&limit=&offset= list (echoes q)
  POST /services/rest/record/v1/customer                 204 + Location
  GET|PUT|PATCH|DELETE /services/rest/record/v1/customer/ID
  POST /services/rest/query/v1/suiteql?limit=&offset=    needs Prefer: transient
  GET|POST /app/site/hosting/restlet.nl?script=&deploy=  RESTlet echo
  POST /oauth1/form                                      form body (oauth1 profiles)
  ANY  /redirect?to=PATH[&code=302]                      redirect (re-signing)
  ANY  /echo...                                          what was verified
  ANY  /flaky?key=K&fails=N                              503 N times per K, then 200
  ANY  /forbidden                                        403 like a role without permission
For tba curl's conventions (route_curl):
  GET  /services/rest/record/v1/contact?limit=&offset=   paged list (23 contacts), links rel=next
  ANY  /paged-fail?fail_at=N&limit=                      paged list whose page N answers 429
  ANY  /paged-away?limit=                                paged list whose next link is another host
  ANY  /retry-after?key=K&fails=N&code=429|503&after=S|date  code + Retry-After N times per K,
                                                         then 200 with the seconds waited
  ANY  /slow?seconds=S                                   answers after S seconds
  ANY  /gzip                                             gzip body when Accept-Encoding allows
  ANY  /empty                                            closes the connection, no reply
SuiteQL answers carry links rel=next/self while hasMore, as NetSuite's do. Each
--log line also holds the request target as received (raw_path), the request
headers and the client's port (peer_port: one per TLS connection).

OAuth 2.0 client credentials (M2M), with --m2m FILE (re-read when it changes,
so a test can register a rotated certificate while the stand-in runs):
  POST /services/rest/auth/oauth2/v1/token   client assertion -> access token
FILE is a JSON list: [{"client_id": .., "account": "1234567_SB1",
"scopes": ["rest_webservices", ..], "certs": [{"id": CERTIFICATE_ID,
"pem_file": PATH, "revoked": false}]}]. Each assertion is verified with
python3-jwt and python3-cryptography (not our code) against the certificate
its kid names: the algorithm (ES256..PS512 only; RS256 and none refused), the
signature, iss = the certificate's client ID, aud = this host's token URL,
scope within the client's scopes, iat/exp against the stand-in's clock
(exp - iat <= 3600, not expired, iat not in the future), the jti not seen
before, the certificate's validity. Errors as NetSuite answers them:
{"error": "invalid_client"|"invalid_grant"|"invalid_scope"|"invalid_request"}
with HTTP 400 or 401; the log line says why. Access tokens are random,
last --m2m-expires-in seconds (3600) and work only on the client's account
hosts as "Authorization: Bearer TOKEN"; anything else gets 401 INVALID_LOGIN.
--m2m-refuse answers every exchange with invalid_client; --m2m-delay SECONDS
holds every exchange that long (a slow endpoint). POST /_standin/expire-tokens
forgets every access token issued (tests of the renew-on-401 path).
"""

import argparse
import email.utils
import gzip
import json
import os
import signal
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt as pyjwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from oauthlib.oauth1.rfc5849 import signature as oas
from oauthlib.oauth1.rfc5849 import utils as oautils

MAX_BODY = 1 << 20
SKEW = 300

INVALID_LOGIN = {
    "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
    "title": "Unauthorized",
    "status": 401,
    "o:errorDetails": [{
        "detail": "Invalid login attempt. For more details, see the Login Audit Trail "
                  "in the NetSuite UI at Setup > Users/Roles > User Management > "
                  "View Login Audit Trail.",
        "o:errorCode": "INVALID_LOGIN",
    }],
}

SIGNERS = {
    "HMAC-SHA256": oas.sign_hmac_sha256,
    "HMAC-SHA1": oas.sign_hmac_sha1,
}


def base64_token():
    # NetSuite's access tokens are JWTs; a random opaque one is as good for a client.
    import secrets
    return "eyJ" + secrets.token_urlsafe(48)


def ns_error(status, title, code, detail):
    return {
        "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.%d" % (status - 399),
        "title": title,
        "status": status,
        "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
    }


def page_links(url, limit, offset, total):
    """NetSuite's paging links: self, and next while there is more."""
    sep = "&" if "?" in url else "?"
    links = [{"rel": "self", "href": "%s%slimit=%d&offset=%d" % (url, sep, limit, offset)}]
    if offset + limit < total:
        links.insert(0, {"rel": "next", "href": "%s%slimit=%d&offset=%d" % (url, sep, limit, offset + limit)})
    return links


class State:
    def __init__(self, creds, clock_offset, log_path):
        self.creds = creds
        self.clock_offset = clock_offset
        self.log_path = log_path
        self.nonces = set()
        self.lock = threading.Lock()
        self.customers = {"107": {"id": "107", "companyName": "Acme Rockets, Inc.",
                                  "email": "ops@acme.example"}}
        self.next_id = 1000
        self.flaky = {}
        self.forbid_rest = False
        # M2M: registered clients (file, re-read on change), issued tokens, seen jtis.
        self.m2m_path = None
        self.m2m_mtime = None
        self.m2m_clients = []
        self.m2m_tokens = {}
        self.m2m_jtis = set()
        self.m2m_expires_in = 3600
        self.m2m_refuse = False
        self.m2m_delay = 0.0

    def m2m_load(self):
        if not self.m2m_path:
            return []
        with self.lock:
            try:
                mt = os.stat(self.m2m_path).st_mtime_ns
            except OSError:
                return self.m2m_clients
            if mt != self.m2m_mtime:
                with open(self.m2m_path, encoding="utf-8") as f:
                    self.m2m_clients = json.load(f)
                self.m2m_mtime = mt
            return self.m2m_clients

    def now(self):
        return time.time() + self.clock_offset

    def log(self, entry):
        if not self.log_path:
            return
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "NetSuite-standin/1"
    sys_version = ""

    # The Date header comes from the stand-in's clock, which may be set off.
    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(self.server.state.now(), usegmt=True)

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj=None, headers=None):
        body = b"" if obj is None else json.dumps(obj, indent=1).encode()
        self.send_response(status)
        if obj is not None:
            ctype = "application/vnd.oracle.resource+json; type=error" if status >= 400 \
                else "application/json; charset=UTF-8"
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    # Rebuilds the base string from what arrived on the wire, with oauthlib,
    # and checks it against the credentials the header names.
    def verify(self, body):
        st = self.server.state
        host = (self.headers.get("Host") or "").lower()
        hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host
        uri = "https://" + host + self.path
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form = body.decode("utf-8", "replace") if ctype == "application/x-www-form-urlencoded" else ""
        res = {"host": hostname, "method": self.command, "path": self.path.split("?")[0],
               "query": urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query,
                                               keep_blank_values=True),
               "form": urllib.parse.parse_qsl(form, keep_blank_values=True),
               "verified": False}
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("OAuth "):
            res["reason"] = "no OAuth Authorization header"
            return res, None
        try:
            # Header values are percent-encoded (RFC 5849 3.5.1).
            hdr = {k: oautils.unescape(v) for k, v in oautils.parse_authorization_header(auth)}
        except Exception as e:  # noqa: BLE001 - any parse failure is a login failure
            res["reason"] = "bad Authorization header: %s" % e
            return res, None
        res["nonce"] = hdr.get("oauth_nonce")
        res["realm"] = hdr.get("realm")
        cred = None
        for c in st.creds:
            if c["consumer_key"] == hdr.get("oauth_consumer_key") and c["token"] == hdr.get("oauth_token"):
                cred = c
        if cred is None:
            res["reason"] = "unknown consumer key / token pair"
            return res, None
        if hostname not in [h.lower() for h in cred.get("hosts", [])]:
            res["reason"] = "host %s is not this account's" % hostname
            return res, None
        if cred.get("realm") and hdr.get("realm") != cred["realm"]:
            res["reason"] = "realm %r, want %r" % (hdr.get("realm"), cred["realm"])
            return res, None
        if hdr.get("oauth_version", "1.0") != "1.0":
            res["reason"] = "oauth_version"
            return res, None
        method = hdr.get("oauth_signature_method", "")
        signer = SIGNERS.get(method)
        if signer is None:
            res["reason"] = "signature method %r" % method
            return res, None
        params = oas.collect_parameters(uri_query=urllib.parse.urlsplit(self.path).query,
                                        body=form, headers={"Authorization": auth},
                                        exclude_oauth_signature=True, with_realm=False)
        base = oas.signature_base_string(self.command, oas.base_string_uri(uri),
                                         oas.normalize_parameters(params))
        res["base_string"] = base
        want = signer(base, cred["consumer_secret"], cred["token_secret"])
        if not oas.safe_string_equals(want, hdr.get("oauth_signature", "")):
            res["reason"] = "signature mismatch"
            return res, None
        try:
            ts = int(hdr.get("oauth_timestamp", ""))
        except ValueError:
            res["reason"] = "bad timestamp"
            return res, None
        if abs(ts - st.now()) > SKEW:
            res["reason"] = "timestamp %d is %+d s from server clock" % (ts, ts - int(st.now()))
            return res, None
        nonce = hdr.get("oauth_nonce", "")
        if len(nonce) < 6:
            res["reason"] = "nonce too short"
            return res, None
        with st.lock:
            key = (cred["consumer_key"], cred["token"], nonce, ts)
            if key in st.nonces:
                res["reason"] = "nonce reused"
                return res, None
            st.nonces.add(key)
        res["verified"] = True
        return res, cred

    # POST .../auth/oauth2/v1/token: checks the client assertion independently.
    def m2m_token(self, body):
        st = self.server.state
        host = (self.headers.get("Host") or "").lower().rsplit(":", 1)[0]
        entry = {"m2m": "exchange", "host": host, "ok": False}
        status, err, why = 400, "invalid_request", None
        if st.m2m_delay:
            time.sleep(st.m2m_delay)
        try:
            status, err, why, grant = self.m2m_check(host, body)
        except Exception as e:  # noqa: BLE001 - a malformed assertion is a refusal
            grant, why = None, "bad assertion: %s" % e
            status, err = 401, "invalid_client"
        entry["reason"] = why
        if grant is not None:
            tok = base64_token()
            with st.lock:
                st.m2m_tokens[tok] = grant
            entry["ok"] = True
            entry["alg"] = grant["alg"]
            entry["kid"] = grant["kid"]
            st.log(entry)
            self.send_json(200, {"access_token": tok, "token_type": "Bearer",
                                 "expires_in": st.m2m_expires_in})
            return
        st.log(entry)
        self.send_json(status, {"error": err})

    def m2m_check(self, host, body):
        st = self.server.state
        if st.m2m_refuse:
            return 401, "invalid_client", "refusing every exchange (--m2m-refuse)", None
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return 400, "invalid_request", "content type %r" % ctype, None
        form = dict(urllib.parse.parse_qsl(body.decode("ascii"), strict_parsing=True))
        if form.get("grant_type") != "client_credentials":
            return 400, "unsupported_grant_type", "grant_type %r" % form.get("grant_type"), None
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return 400, "invalid_request", "client_assertion_type", None
        assertion = form.get("client_assertion", "")
        hdr = pyjwt.get_unverified_header(assertion)
        alg = hdr.get("alg")
        if alg not in ("ES256", "ES384", "ES512", "PS256", "PS384", "PS512"):
            return 400, "invalid_request", "algorithm %r refused" % alg, None
        if hdr.get("typ") != "JWT":
            return 400, "invalid_request", "typ %r" % hdr.get("typ"), None
        client, cert = None, None
        for c in st.m2m_load():
            for ce in c.get("certs", []):
                if ce["id"] == hdr.get("kid") and not ce.get("revoked"):
                    client, cert = c, ce
        if cert is None:
            return 401, "invalid_client", "unknown or revoked certificate ID %r" % hdr.get("kid"), None
        with open(cert["pem_file"], "rb") as f:
            crt = x509.load_pem_x509_certificate(f.read())
        now = st.now()
        if crt.not_valid_after.timestamp() < now or crt.not_valid_before.timestamp() > now + 300:
            return 401, "invalid_client", "certificate %s is not valid now" % cert["id"], None
        key = crt.public_key()
        want = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}.get(alg)
        if want is not None and not (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, want)):
            return 401, "invalid_client", "alg %s does not fit the certificate's key" % alg, None
        if want is None and not isinstance(key, rsa.RSAPublicKey):
            return 401, "invalid_client", "alg %s does not fit the certificate's key" % alg, None
        acct = client["account"].lower().replace("_", "-")
        aud = "https://%s.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token" % acct
        if host != acct + ".suitetalk.api.netsuite.com":
            return 401, "invalid_client", "token request to host %s, not the account's" % host, None
        try:
            claims = pyjwt.decode(assertion, key=key, algorithms=[alg], audience=aud,
                                  options={"verify_exp": False, "verify_iat": False,
                                           "verify_nbf": False,
                                           "require": ["iss", "aud", "iat", "exp", "jti", "scope"]})
        except pyjwt.InvalidAudienceError:
            return 401, "invalid_client", "aud is not %s" % aud, None
        except pyjwt.InvalidSignatureError:
            return 401, "invalid_client", "signature does not verify", None
        if claims["iss"] != client["client_id"]:
            return 401, "invalid_client", "iss %r is not the certificate's client" % claims["iss"], None
        iat, exp = int(claims["iat"]), int(claims["exp"])
        if exp - iat > 3600 or exp <= iat:
            return 400, "invalid_grant", "exp - iat = %d s" % (exp - iat), None
        if exp < now or iat > now + 60:
            return 400, "invalid_grant", "iat %d / exp %d against server clock %d" % (iat, exp, int(now)), None
        scopes = [x for x in str(claims["scope"]).split(",") if x]
        if not scopes or any(x not in client.get("scopes", ["rest_webservices"]) for x in scopes):
            return 400, "invalid_scope", "scope %r" % claims["scope"], None
        with st.lock:
            if claims["jti"] in st.m2m_jtis:
                return 400, "invalid_grant", "jti reused", None
            st.m2m_jtis.add(claims["jti"])
        hosts = ["%s.suitetalk.api.netsuite.com" % acct, "%s.restlets.api.netsuite.com" % acct,
                 "%s.app.netsuite.com" % acct]
        return 200, None, "ok", {"client_id": client["client_id"], "hosts": hosts, "alg": alg,
                                 "kid": hdr.get("kid"), "expires": now + st.m2m_expires_in,
                                 "scopes": scopes}

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # "Authorization: Bearer" on a REST request: a token this stand-in issued, for this host.
    def verify_bearer(self, auth):
        st = self.server.state
        host = (self.headers.get("Host") or "").lower().rsplit(":", 1)[0]
        res = {"host": host, "method": self.command, "path": self.path.split("?")[0],
               "query": urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query,
                                               keep_blank_values=True),
               "form": [], "verified": False, "bearer": True, "base_string": None}
        with st.lock:
            grant = st.m2m_tokens.get(auth[len("Bearer "):].strip())
        if grant is None:
            res["reason"] = "unknown access token"
        elif grant["expires"] < st.now():
            res["reason"] = "access token expired"
        elif host not in grant["hosts"]:
            res["reason"] = "access token for another account (host %s)" % host
        else:
            res["verified"] = True
            return res, grant
        return res, None

    def handle_any(self):
        try:
            body = self.read_body()
        except ValueError:
            self.reply(413, ns_error(413, "Payload Too Large", "INVALID_REQUEST", "Body too large."))
            return
        path = self.path.split("?")[0]
        if path == "/services/rest/auth/oauth2/v1/token" and self.command == "POST":
            self.m2m_token(body)
            return
        if path == "/_standin/expire-tokens" and self.command == "POST":
            with self.server.state.lock:
                self.server.state.m2m_tokens.clear()
            self.reply(204)
            return
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Bearer "):
            res, cred = self.verify_bearer(auth)
        else:
            res, cred = self.verify(body)
        res["raw_path"] = self.path
        res["headers"] = {k: v for k, v in self.headers.items()}
        res["peer_port"] = self.client_address[1]
        self.server.state.log(res)
        if cred is None:
            self.reply(401, INVALID_LOGIN)
            return
        try:
            self.route(res, cred, body)
        except Exception as e:  # noqa: BLE001 - turn bugs into a visible 500
            self.reply(500, ns_error(500, "Internal Server Error", "UNEXPECTED_ERROR", str(e)))

    def route(self, res, cred, body):
        st = self.server.state
        path = res["path"]
        q = dict(res["query"])
        host = res["host"]
        base = "https://%s/services/rest" % host
        m = self.command
        rec = "/services/rest/record/v1/"
        if self.route_curl(res, q, host):
            pass
        elif path.startswith(rec + "metadata-catalog") and st.forbid_rest:
            self.reply(403, ns_error(403, "Forbidden", "INSUFFICIENT_PERMISSION",
                                     "Permission Violation: You need the 'REST Web Services' permission "
                                     "to access this page. Contact your account administrator."))
        elif path in (rec + "metadata-catalog", rec + "metadata-catalog/") and m == "GET":
            items = [{"name": n, "links": [{"rel": "canonical", "href": base + "/record/v1/metadata-catalog/" + n,
                                            "mediaType": "application/json"}]}
                     for n in ("account", "customer", "salesOrder")]
            self.reply(200, {"items": items})
        elif path == rec + "customer" and m == "GET":
            limit = int(q.get("limit", "1000"))
            offset = int(q.get("offset", "0"))
            items = [{"links": [{"rel": "self", "href": base + "/record/v1/customer/" + i}], "id": i}
                     for i in sorted(st.customers)][offset:offset + limit]
            self.reply(200, {"links": [], "count": len(items), "hasMore": False, "items": items,
                             "offset": offset, "totalResults": len(st.customers), "q": q.get("q")})
        elif path == rec + "customer" and m == "POST":
            obj = json.loads(body or b"{}")
            with st.lock:
                cid = str(st.next_id)
                st.next_id += 1
                obj["id"] = cid
                st.customers[cid] = obj
            self.reply(204, None, {"Location": base + "/record/v1/customer/" + cid})
        elif path.startswith(rec + "customer/"):
            cid = path[len(rec + "customer/"):]
            if cid not in st.customers:
                self.reply(404, ns_error(404, "Record Not Found", "NONEXISTENT_ID",
                                         "The record instance does not exist. Provide a valid record instance ID."))
            elif m == "GET":
                self.reply(200, dict(st.customers[cid], links=[{"rel": "self", "href": base + path[13:]}]))
            elif m in ("PUT", "PATCH"):
                obj = json.loads(body or b"{}")
                with st.lock:
                    if m == "PUT":
                        st.customers[cid] = dict(obj, id=cid)
                    else:
                        st.customers[cid].update(obj)
                self.reply(204)
            elif m == "DELETE":
                with st.lock:
                    del st.customers[cid]
                self.reply(204)
            else:
                self.reply(405, ns_error(405, "Method Not Allowed", "INVALID_REQUEST", "Method not allowed."))
        elif path == "/services/rest/query/v1/suiteql" and m == "POST":
            if (self.headers.get("Prefer") or "").strip().lower() != "transient":
                self.reply(400, ns_error(400, "Bad Request", "INVALID_PARAMETER",
                                         "Invalid value for the Prefer header. Use 'transient'."))
                return
            obj = json.loads(body or b"{}")
            limit = int(q.get("limit", "1000"))
            offset = int(q.get("offset", "0"))
            rows = [{"links": [], "id": str(100 + i), "companyname": "Customer %d" % i} for i in range(25)]
            items = rows[offset:offset + limit]
            self.reply(200, {"links": page_links(base + "/query/v1/suiteql", limit, offset, len(rows)),
                             "count": len(items), "hasMore": offset + limit < len(rows),
                             "items": items, "offset": offset, "totalResults": len(rows), "q": obj.get("q")})
        elif path == "/app/site/hosting/restlet.nl" and m in ("GET", "POST"):
            if "script" not in q or "deploy" not in q:
                self.reply(400, ns_error(400, "Bad Request", "INVALID_REQUEST", "Missing script or deploy."))
                return
            self.reply(200, {"restlet": True, "method": m, "script": q["script"], "deploy": q["deploy"],
                             "params": res["query"], "body": body.decode("utf-8", "replace")})
        elif path == "/oauth1/form" and m == "POST":
            self.reply(200, {"form": res["form"], "query": res["query"]})
        elif path == "/redirect":
            to = q.get("to", "/echo")
            code = int(q.get("code", "302"))
            self.reply(code, {"redirect": to}, {"Location": to})
        elif path.startswith("/echo"):
            self.reply(200, {"verified": True, "method": m, "host": host, "path": path,
                             "query": res["query"], "form": res["form"], "realm": res.get("realm"),
                             "base_string": res["base_string"],
                             "content_type": self.headers.get("Content-Type"),
                             "accept": self.headers.get("Accept"),
                             "body": body.decode("utf-8", "replace")})
        elif path == "/flaky":
            # 503 for the first `fails` requests with this `key`, then 200.
            with st.lock:
                n = st.flaky.get(q.get("key", ""), 0)
                st.flaky[q.get("key", "")] = n + 1
            if n < int(q.get("fails", "1")):
                self.reply(503, ns_error(503, "Service Unavailable", "SSS_REQUEST_LIMIT_EXCEEDED",
                                         "Try again later."))
            else:
                self.reply(200, {"attempt": n + 1})
        elif path == "/forbidden":
            self.reply(403, ns_error(403, "Forbidden", "INSUFFICIENT_PERMISSION",
                                     "Permission Violation: You need the 'REST Web Services' permission "
                                     "to access this page. Contact your account administrator."))
        else:
            self.reply(404, ns_error(404, "Not Found", "INVALID_URL", "Invalid URL: %s" % path))

    # Endpoints for tba curl's options (paging, Retry-After, timeouts, gzip).
    # True when the request was one of them and has been answered.
    def route_curl(self, res, q, host):
        st = self.server.state
        path = res["path"]
        if path == "/services/rest/record/v1/contact":
            self.curl_paged(q, "https://%s/services/rest/record/v1/contact" % host, 23, None)
        elif path == "/paged-fail":
            fail_at = int(q.get("fail_at", "2"))
            self.curl_paged(q, "https://%s/paged-fail?fail_at=%d" % (host, fail_at), 10, fail_at)
        elif path == "/paged-away":
            # The next link leaves for another host (the agent must refuse it).
            self.curl_paged(q, "https://other.example.test/paged-away", 6, None)
        elif path == "/retry-after":
            with st.lock:
                key = "ra:" + q.get("key", "")
                n, last = st.flaky.get(key, (0, time.time()))
                st.flaky[key] = (n + 1, time.time())
            if n < int(q.get("fails", "1")):
                after = q.get("after", "1")
                if after == "date":
                    after = email.utils.formatdate(time.time() + 2, usegmt=True)
                code = int(q.get("code", "429"))
                self.reply(code, ns_error(code, "Too Many Requests", "CONCURRENCY_LIMIT_EXCEEDED",
                                          "Concurrent request limit exceeded. Request blocked."),
                           {"Retry-After": after})
            else:
                self.reply(200, {"attempt": n + 1, "waited": round(time.time() - last, 2)})
        elif path == "/slow":
            time.sleep(float(q.get("seconds", "30")))
            self.reply(200, {"slow": True})
        elif path == "/empty":
            # Closes the connection without a byte of reply (curl's 52).
            self.close_connection = True
        elif path == "/gzip":
            body = json.dumps({"compressed": True, "filler": "x" * 2000}).encode()
            accept = self.headers.get("Accept-Encoding") or ""
            hdrs = {"Content-Type": "application/json"}
            if "gzip" in accept:
                body = gzip.compress(body)
                hdrs["Content-Encoding"] = "gzip"
            self.send_response(200)
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            return False
        return True

    # A NetSuite record list of `total` items, paged by limit/offset; page
    # number fail_at (1-based) answers 429 instead.
    def curl_paged(self, q, url, total, fail_at):
        limit = int(q.get("limit", "1000"))
        offset = int(q.get("offset", "0"))
        if fail_at is not None and offset // max(limit, 1) + 1 == fail_at:
            self.reply(429, ns_error(429, "Too Many Requests", "CONCURRENCY_LIMIT_EXCEEDED",
                                     "Concurrent request limit exceeded. Request blocked."))
            return
        items = [{"links": [{"rel": "self", "href": url.split("?")[0] + "/" + str(i)}], "id": str(i)}
                 for i in range(1, total + 1)][offset:offset + limit]
        self.reply(200, {"links": page_links(url, limit, offset, total), "count": len(items),
                         "hasMore": offset + limit < total, "items": items, "offset": offset,
                         "totalResults": total})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


def main():
    ap = argparse.ArgumentParser(description="Local HTTPS NetSuite stand-in for tests.")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--creds", required=True, help="JSON credentials file, or - for stdin")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--clock-offset", type=int, default=0,
                    help="seconds to add to this server's clock (tests clock-skew diagnosis)")
    ap.add_argument("--forbid-rest", action="store_true",
                    help="answer the metadata catalog with 403, like a role without REST Web Services")
    ap.add_argument("--m2m", help="JSON file of M2M clients and their certificates (re-read on change)")
    ap.add_argument("--m2m-expires-in", type=int, default=3600)
    ap.add_argument("--m2m-refuse", action="store_true", help="refuse every token exchange")
    ap.add_argument("--m2m-delay", type=float, default=0.0, help="hold every exchange this long")
    a = ap.parse_args()

    if a.creds == "-":
        creds = json.load(sys.stdin)
    else:
        with open(a.creds, encoding="utf-8") as f:
            creds = json.load(f)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(a.cert, a.key)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.state = State(creds, a.clock_offset, a.log)
    srv.state.forbid_rest = a.forbid_rest
    srv.state.m2m_path = a.m2m
    srv.state.m2m_expires_in = a.m2m_expires_in
    srv.state.m2m_refuse = a.m2m_refuse
    srv.state.m2m_delay = a.m2m_delay
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    else:
        print(port, flush=True)

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
