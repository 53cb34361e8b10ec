#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""standin_m2m_check.py PORT CA HOST M2M_FILE DIR - the stand-in's token
endpoint refuses what NetSuite refuses, so the agent's tests can fail.

Makes its own key and certificate with python3-cryptography, registers them
in M2M_FILE (the stand-in re-reads it), signs assertions with python3-jwt
and posts them: a good one passes; a reused jti, a wrong aud, iss or kid, an
expired or too-long one, RS256, alg none, a tampered signature, a scope the
client lacks and a certificate that is not valid yet are refused with
NetSuite's error codes. Prints "ok - ..." / "not ok - ..." lines.
"""

import datetime
import http.client
import json
import os
import secrets
import socket
import ssl
import sys
import time
import urllib.parse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def cert_for(key, days_from=-1, days_to=30):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "standin check")])
    now = datetime.datetime.utcnow()
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now + datetime.timedelta(days=days_from))
         .not_valid_after(now + datetime.timedelta(days=days_to))
         .sign(key, hashes.SHA256()))
    return c.public_bytes(serialization.Encoding.PEM)


def main():
    port, ca, host, m2m_file, d = sys.argv[1:6]
    account = host.split(".")[0]
    aud = "https://%s/services/rest/auth/oauth2/v1/token" % host
    eck = ec.generate_private_key(ec.SECP256R1())
    rsak = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    later = ec.generate_private_key(ec.SECP256R1())
    certs = {"chk-ec": cert_for(eck), "chk-rsa": cert_for(rsak), "chk-later": cert_for(later, 5, 30)}
    clients = json.load(open(m2m_file))
    entry = {"client_id": "chk-client", "account": account.replace("-", "_").upper(),
             "scopes": ["rest_webservices"], "certs": []}
    for kid, pem in certs.items():
        path = os.path.join(d, kid + ".pem")
        open(path, "wb").write(pem)
        entry["certs"].append({"id": kid, "pem_file": path})
    clients.append(entry)
    tmp = m2m_file + ".tmp"
    json.dump(clients, open(tmp, "w"))
    os.rename(tmp, m2m_file)
    time.sleep(0.05)

    ctx = ssl.create_default_context(cafile=ca)

    def post(assertion):
        body = urllib.parse.urlencode({
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion})
        c = http.client.HTTPSConnection(host, int(port), context=ctx)
        c.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port))), server_hostname=host)
        c.request("POST", "/services/rest/auth/oauth2/v1/token", body=body,
                  headers={"Content-Type": "application/x-www-form-urlencoded", "Host": host})
        r = c.getresponse()
        return r.status, json.loads(r.read() or b"{}")

    def claims(**kw):
        now = int(time.time())
        c = {"iss": "chk-client", "scope": "rest_webservices", "aud": aud, "iat": now,
             "exp": now + 300, "jti": secrets.token_urlsafe(16)}
        c.update(kw)
        return c

    def tok(c, key=eck, alg="ES256", kid="chk-ec"):
        return jwt.encode(c, key, algorithm=alg, headers={"kid": kid, "typ": "JWT"})

    fails = 0

    def expect(name, got, status, error=None):
        nonlocal fails
        st, body = got
        good = st == status and (error is None or body.get("error") == error)
        if status == 200:
            good = good and body.get("token_type") == "Bearer" and len(body.get("access_token", "")) > 20
        print("%s - stand-in: %s (HTTP %d %s)" % ("ok" if good else "not ok", name, st, body.get("error", "")))
        fails += not good

    c = claims()
    expect("a good ES256 assertion is accepted", post(tok(c)), 200)
    expect("the same jti again is refused", post(tok(c)), 400, "invalid_grant")
    expect("a good PS256 assertion is accepted", post(tok(claims(), rsak, "PS256", "chk-rsa")), 200)
    expect("RS256 is refused", post(tok(claims(), rsak, "RS256", "chk-rsa")), 400, "invalid_request")
    none = jwt.encode(claims(), None, algorithm="none", headers={"kid": "chk-ec"})
    expect("alg none is refused", post(none), 400, "invalid_request")
    expect("a wrong aud is refused", post(tok(claims(aud=aud + "x"))), 401, "invalid_client")
    expect("a wrong iss is refused", post(tok(claims(iss="someone"))), 401, "invalid_client")
    expect("an unknown kid is refused", post(tok(claims(), kid="nope")), 401, "invalid_client")
    expect("a key that is not the kid's is refused", post(tok(claims(), later, "ES256", "chk-ec")), 401, "invalid_client")
    t = tok(claims())
    h, p, s = t.split(".")
    s = ("A" if s[0] != "A" else "B") + s[1:]
    expect("a tampered signature is refused", post(".".join((h, p, s))), 401, "invalid_client")
    now = int(time.time())
    expect("an expired assertion is refused", post(tok(claims(iat=now - 900, exp=now - 600))), 400, "invalid_grant")
    expect("exp - iat over 3600 is refused", post(tok(claims(exp=now + 4000))), 400, "invalid_grant")
    expect("a scope the client lacks is refused", post(tok(claims(scope="rest_webservices,restlets"))), 400, "invalid_scope")
    expect("a certificate not valid yet is refused", post(tok(claims(), later, "ES256", "chk-later")), 401, "invalid_client")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
