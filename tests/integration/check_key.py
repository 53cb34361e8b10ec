#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks a tba profile in a token with an independent PKCS#11 client (PyKCS11).

usage: check_key.py MODULE TOKEN_LABEL PIN_FILE PROFILE [METHOD] < secrets
       check_key.py --meta MODULE TOKEN_LABEL PIN_FILE PROFILE
       check_key.py --count MODULE TOKEN_LABEL PIN_FILE PROFILE
       check_key.py --add-orphan MODULE TOKEN_LABEL PIN_FILE PROFILE

Default mode: stdin holds two lines, the consumer secret and the token
secret. Finds the profile's metadata object (CKA_APPLICATION "tba"), the key
it names by CKA_ID, asserts the key's attributes (include/tba/token.h) and
that C_Sign over random messages equals Python's HMAC with the OAuth key
enc(cs)&enc(ts) (RFC 5849 3.4.2, enc = RFC 3986 percent-encoding). Prints
"key ok" and exits 0, else prints the problem and exits 1.
--meta prints the metadata JSON. --count prints "KEYS DATA": how many secret
keys and metadata objects carry the label. --add-orphan creates a stray HMAC
key with the profile's label that no metadata names (as an interrupted import
would leave).
"""
import hashlib
import hmac
import json
import os
import sys
import urllib.parse

import PyKCS11
from PyKCS11 import LowLevel

METHODS = {
    "HMAC-SHA256": (hashlib.sha256, PyKCS11.CKM_SHA256_HMAC),
    "HMAC-SHA1": (hashlib.sha1, PyKCS11.CKM_SHA_1_HMAC),
    "HMAC-SHA512": (hashlib.sha512, PyKCS11.CKM_SHA512_HMAC),
}


def enc(s):
    # quote() keeps A-Z a-z 0-9 _ . - always; safe='~' adds the last RFC 3986 unreserved one.
    return urllib.parse.quote(s, safe="~")


def fail(msg):
    print("check_key: " + msg)
    sys.exit(1)


def open_token(module, label, pin_file):
    lib = PyKCS11.PyKCS11Lib()
    lib.load(module)
    for slot in lib.getSlotList(tokenPresent=True):
        if lib.getTokenInfo(slot).label.rstrip(" \0") == label:
            session = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
            with open(pin_file, encoding="utf-8") as f:
                session.login(f.readline().rstrip("\r\n"))
            return lib, session
    fail("no token labelled %s" % label)


def data_objects(session, name):
    return session.findObjects([
        (PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA),
        (PyKCS11.CKA_APPLICATION, "tba"),
        (PyKCS11.CKA_LABEL, name),
    ])


def keys_labelled(session, name):
    return session.findObjects([
        (PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY),
        (PyKCS11.CKA_LABEL, name),
    ])


def meta(session, name):
    objs = data_objects(session, name)
    if len(objs) != 1:
        fail("%d metadata objects for %s, want 1" % (len(objs), name))
    value = session.getAttributeValue(objs[0], [PyKCS11.CKA_VALUE], allAsBinary=True)[0]
    return bytes(value).decode("utf-8")


def check(session, name, method, cs, ts):
    md, mech = METHODS[method]
    # The encoding this checker relies on, against RFC 3986 by hand.
    if enc("a+/=& %~-._Z\u00e9") != "a%2B%2F%3D%26%20%25~-._Z%C3%A9":
        fail("percent-encoding self-check failed")
    doc = json.loads(meta(session, name))
    key_id = bytes.fromhex(doc["key_id"])
    keys = session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY), (PyKCS11.CKA_ID, key_id)])
    if len(keys) != 1:
        fail("%d keys with the metadata's key_id, want 1" % len(keys))
    key = keys[0]
    want = {
        PyKCS11.CKA_SENSITIVE: True, PyKCS11.CKA_EXTRACTABLE: False,
        PyKCS11.CKA_MODIFIABLE: False, PyKCS11.CKA_SIGN: True, PyKCS11.CKA_TOKEN: True,
        PyKCS11.CKA_PRIVATE: True, PyKCS11.CKA_ENCRYPT: False, PyKCS11.CKA_DECRYPT: False,
        PyKCS11.CKA_WRAP: False, PyKCS11.CKA_UNWRAP: False, PyKCS11.CKA_DERIVE: False,
    }
    got = session.getAttributeValue(key, list(want))
    for (attr, value), g in zip(want.items(), got):
        if bool(g) != value:
            fail("%s is %s, want %s" % (PyKCS11.CKA[attr], g, value))
    label = bytes(session.getAttributeValue(key, [PyKCS11.CKA_LABEL], allAsBinary=True)[0])
    if label.decode() != name:
        fail("key label %r, want %r" % (label, name))
    # The value must not be readable: the low-level call must fail.
    tmpl = LowLevel.ckattrlist(1)
    tmpl[0].SetType(PyKCS11.CKA_VALUE)
    rv = session.lib.C_GetAttributeValue(session.session, key, tmpl)
    if rv != PyKCS11.CKR_ATTRIBUTE_SENSITIVE:
        fail("reading CKA_VALUE returned %s, want CKR_ATTRIBUTE_SENSITIVE" % PyKCS11.CKR.get(rv, rv))
    okey = (enc(cs) + "&" + enc(ts)).encode("ascii")
    for n in (1, 17, 64, 65, 200, 1000):
        msg = os.urandom(n)
        token_mac = bytes(session.sign(key, msg, PyKCS11.Mechanism(mech, None)))
        if token_mac != hmac.new(okey, msg, md).digest():
            fail("token HMAC differs from Python's for a %d-byte message" % n)
    print("key ok")


def main():
    args = sys.argv[1:]
    mode = "check"
    if args and args[0] in ("--meta", "--count", "--add-orphan"):
        mode = args.pop(0)
    if len(args) not in (4, 5):
        sys.exit(__doc__)
    module, label, pin_file, name = args[:4]
    method = args[4] if len(args) == 5 else "HMAC-SHA256"
    lib, session = open_token(module, label, pin_file)
    if mode == "--meta":
        print(meta(session, name))
    elif mode == "--add-orphan":
        session.createObject([
            (PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY),
            (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_SHA256_HMAC),
            (PyKCS11.CKA_TOKEN, True), (PyKCS11.CKA_PRIVATE, True),
            (PyKCS11.CKA_SIGN, True), (PyKCS11.CKA_LABEL, name),
            (PyKCS11.CKA_ID, os.urandom(16)), (PyKCS11.CKA_VALUE, os.urandom(32)),
        ])
    elif mode == "--count":
        print(len(keys_labelled(session, name)), len(data_objects(session, name)))
    else:
        lines = sys.stdin.read().split("\n")
        if len(lines) < 2:
            fail("stdin must hold the consumer secret and the token secret")
        check(session, name, method, lines[0], lines[1])
    session.logout()
    session.closeSession()


if __name__ == "__main__":
    main()
