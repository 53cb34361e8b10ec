#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks an M2M profile in a token with independent code: PyKCS11 for the token
and python3-cryptography for the certificate.

usage: check_m2m.py MODULE TOKEN_LABEL PIN_FILE PROFILE PEM_FILE [--next] [--bits N]
       check_m2m.py --count MODULE TOKEN_LABEL PIN_FILE PROFILE
       check_m2m.py --count-id MODULE TOKEN_LABEL PIN_FILE HEX_ID

Default mode: reads the profile's metadata object (CKA_APPLICATION "tba"),
finds the private key, public key and certificate that share its key_id
(with --next: next_key_id) and asserts
- the private key: CKA_LOCAL, CKA_NEVER_EXTRACTABLE, CKA_ALWAYS_SENSITIVE,
  CKA_SENSITIVE, CKA_SIGN, CKA_TOKEN, CKA_PRIVATE true; CKA_EXTRACTABLE,
  CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE false; label = profile;
- the certificate in PEM_FILE is byte for byte the CKO_CERTIFICATE's value,
  parses as X.509 v3, its public key is the token's public key (EC point, or
  modulus and exponent read with PyKCS11), the curve or RSA size fits the
  profile's alg, its self-signature verifies with cryptography (ECDSA, or
  PSS with MGF1 of the same hash and salt = hash length), it is valid for at
  most 730 days from about now, its serial is positive, CA:FALSE,
  digitalSignature; the metadata's not_after is its notAfter.
Prints "m2m ok" and exits 0, else prints the problem and exits 1.
--count prints "PRIVATE PUBLIC CERTIFICATES SECRET DATA": objects labelled
PROFILE by class. --count-id prints how many objects carry CKA_ID HEX_ID.
"""
import datetime
import json
import sys

import PyKCS11
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import SignatureAlgorithmOID

ALGS = {
    "ES256": (hashes.SHA256, "secp256r1"),
    "ES384": (hashes.SHA384, "secp384r1"),
    "ES512": (hashes.SHA512, "secp521r1"),
    "PS256": (hashes.SHA256, None),
    "PS384": (hashes.SHA384, None),
    "PS512": (hashes.SHA512, None),
}
CURVES = {"secp256r1": ec.SECP256R1(), "secp384r1": ec.SECP384R1(), "secp521r1": ec.SECP521R1()}


def fail(msg):
    print("check_m2m: " + msg)
    sys.exit(1)


def open_token(module, label, pin_file):
    lib = PyKCS11.PyKCS11Lib()
    lib.load(module)
    for slot in lib.getSlotList(tokenPresent=True):
        if lib.getTokenInfo(slot).label.rstrip(" \0") == label:
            session = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
            with open(pin_file, encoding="utf-8") as f:
                session.login(f.readline().rstrip("\r\n"))
            return session
    fail("no token labelled %s" % label)


def meta(session, name):
    objs = session.findObjects([
        (PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA),
        (PyKCS11.CKA_APPLICATION, "tba"),
        (PyKCS11.CKA_LABEL, name),
    ])
    if len(objs) != 1:
        fail("%d metadata objects for %s, want 1" % (len(objs), name))
    value = session.getAttributeValue(objs[0], [PyKCS11.CKA_VALUE], allAsBinary=True)[0]
    return json.loads(bytes(value).decode("utf-8"))


def one(session, cls, key_id, what):
    objs = session.findObjects([(PyKCS11.CKA_CLASS, cls), (PyKCS11.CKA_ID, key_id)])
    if len(objs) != 1:
        fail("%d %s objects with the profile's CKA_ID, want 1" % (len(objs), what))
    return objs[0]


def check_private(session, key, name):
    want = {
        PyKCS11.CKA_LOCAL: True, PyKCS11.CKA_NEVER_EXTRACTABLE: True,
        PyKCS11.CKA_ALWAYS_SENSITIVE: True, PyKCS11.CKA_SENSITIVE: True,
        PyKCS11.CKA_SIGN: True, PyKCS11.CKA_TOKEN: True, PyKCS11.CKA_PRIVATE: True,
        PyKCS11.CKA_EXTRACTABLE: False, PyKCS11.CKA_DECRYPT: False,
        PyKCS11.CKA_UNWRAP: False, PyKCS11.CKA_DERIVE: False,
    }
    got = session.getAttributeValue(key, list(want))
    for (attr, value), g in zip(want.items(), got):
        if bool(g) != value:
            fail("private key: %s is %s, want %s" % (PyKCS11.CKA[attr], g, value))
    label = bytes(session.getAttributeValue(key, [PyKCS11.CKA_LABEL], allAsBinary=True)[0])
    if label.decode() != name:
        fail("private key label %r, want %r" % (label, name))


def token_public(session, pub, curve):
    """The token's public key as a cryptography object, from its raw attributes."""
    if curve is not None:
        point = bytes(session.getAttributeValue(pub, [PyKCS11.CKA_EC_POINT], allAsBinary=True)[0])
        # DER OCTET STRING around the uncompressed point (short or long form length).
        if point[0] == 0x04 and point[1] < 0x80:
            point = point[2:]
        elif point[0] == 0x04 and point[1] == 0x81:
            point = point[3:]
        return ec.EllipticCurvePublicKey.from_encoded_point(CURVES[curve], point)
    n, e = session.getAttributeValue(pub, [PyKCS11.CKA_MODULUS, PyKCS11.CKA_PUBLIC_EXPONENT],
                                     allAsBinary=True)
    return rsa.RSAPublicNumbers(int.from_bytes(bytes(e), "big"),
                                int.from_bytes(bytes(n), "big")).public_key()


def spki(key):
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def check_cert(cert, alg, tpub, bits):
    hash_cls, curve = ALGS[alg]
    if cert.version != x509.Version.v3:
        fail("certificate is not X.509 v3")
    if spki(cert.public_key()) != spki(tpub):
        fail("the certificate's public key is not the token's")
    if cert.subject != cert.issuer:
        fail("subject and issuer differ")
    if cert.serial_number <= 0:
        fail("serial %d is not positive" % cert.serial_number)
    if curve is not None:
        if cert.public_key().curve.name != curve:
            fail("curve %s, want %s" % (cert.public_key().curve.name, curve))
        if not isinstance(cert.signature_hash_algorithm, hash_cls):
            fail("signature hash %s, want %s" % (cert.signature_hash_algorithm, hash_cls.name))
        cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hash_cls()))
    else:
        if cert.public_key().key_size != bits:
            fail("RSA key of %d bits, want %d" % (cert.public_key().key_size, bits))
        if cert.signature_algorithm_oid != SignatureAlgorithmOID.RSASSA_PSS:
            fail("signature algorithm %s, want RSASSA-PSS" % cert.signature_algorithm_oid)
        # An explicit salt length makes OpenSSL insist on exactly that length.
        cert.public_key().verify(
            cert.signature, cert.tbs_certificate_bytes,
            padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=hash_cls.digest_size),
            hash_cls())
    life = cert.not_valid_after - cert.not_valid_before
    if life > datetime.timedelta(days=730) or life <= datetime.timedelta(0):
        fail("validity of %s, want at most 730 days" % life)
    now = datetime.datetime.utcnow()
    if abs((cert.not_valid_before - now).total_seconds()) > 600:
        fail("notBefore %s is not about now (%s)" % (cert.not_valid_before, now))
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    if bc.value.ca or not bc.critical:
        fail("basicConstraints is not critical CA:FALSE")
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    if not ku.digital_signature:
        fail("keyUsage lacks digitalSignature")
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)


def check(session, name, pem_file, use_next, bits):
    doc = meta(session, name)
    if doc.get("kind") != "m2m":
        fail("profile kind %r, want m2m" % doc.get("kind"))
    alg = doc["alg"]
    key_id = bytes.fromhex(doc["next_key_id"] if use_next else doc["key_id"])
    not_after = doc["next_not_after"] if use_next else doc["not_after"]
    priv = one(session, PyKCS11.CKO_PRIVATE_KEY, key_id, "private key")
    pub = one(session, PyKCS11.CKO_PUBLIC_KEY, key_id, "public key")
    cobj = one(session, PyKCS11.CKO_CERTIFICATE, key_id, "certificate")
    check_private(session, priv, name)
    with open(pem_file, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    stored = bytes(session.getAttributeValue(cobj, [PyKCS11.CKA_VALUE], allAsBinary=True)[0])
    if stored != cert.public_bytes(serialization.Encoding.DER):
        fail("the token's certificate object differs from %s" % pem_file)
    check_cert(cert, alg, token_public(session, pub, ALGS[alg][1]), bits)
    na = int(cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp())
    if na != not_after:
        fail("metadata not_after %s, certificate notAfter %s" % (not_after, na))
    print("m2m ok")


def count(session, name):
    out = []
    for cls in (PyKCS11.CKO_PRIVATE_KEY, PyKCS11.CKO_PUBLIC_KEY, PyKCS11.CKO_CERTIFICATE,
                PyKCS11.CKO_SECRET_KEY, PyKCS11.CKO_DATA):
        out.append(len(session.findObjects([(PyKCS11.CKA_CLASS, cls), (PyKCS11.CKA_LABEL, name)])))
    print(" ".join(str(n) for n in out))


def main():
    args = sys.argv[1:]
    mode = "check"
    if args and args[0] in ("--count", "--count-id"):
        mode = args.pop(0)
    use_next = "--next" in args
    if use_next:
        args.remove("--next")
    bits = 3072
    if "--bits" in args:
        i = args.index("--bits")
        bits = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != (5 if mode == "check" else 4):
        sys.exit(__doc__)
    session = open_token(args[0], args[1], args[2])
    if mode == "--count":
        count(session, args[3])
    elif mode == "--count-id":
        print(len(session.findObjects([(PyKCS11.CKA_ID, bytes.fromhex(args[3]))])))
    else:
        try:
            check(session, args[3], args[4], use_next, bits)
        except Exception as e:  # an InvalidSignature or a parse error is a failed check
            fail("%s: %s" % (type(e).__name__, e))
    session.logout()
    session.closeSession()


if __name__ == "__main__":
    main()
