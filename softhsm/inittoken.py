#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Initialise a free SoftHSM slot as a token, PINs read from files.

softhsm2-util only takes PINs from argv or a terminal; this keeps them out of
argv (they would show in ps) by using PKCS#11 directly (python3-pykcs11).

usage: inittoken.py MODULE LABEL SO_PIN_FILE USER_PIN_FILE
"""
import sys

import PyKCS11


def first_line(path):
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n")


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    module, label, so_file, pin_file = sys.argv[1:]
    so_pin, pin = first_line(so_file), first_line(pin_file)
    lib = PyKCS11.PyKCS11Lib()
    lib.load(module)
    free = None
    for slot in lib.getSlotList(tokenPresent=True):
        info = lib.getTokenInfo(slot)
        if not info.flags & PyKCS11.CKF_TOKEN_INITIALIZED:
            free = slot
            break
    if free is None:
        sys.exit("inittoken: no free slot")
    # PyKCS11 pads the label with NUL bytes; PKCS#11 wants blanks, and
    # p11-kit's URI matching compares the blank-padded field.
    lib.initToken(free, so_pin, label.ljust(32))
    # initToken may renumber SoftHSM's slots; find the new token by label.
    for slot in lib.getSlotList(tokenPresent=True):
        if lib.getTokenInfo(slot).label.rstrip(" \0") == label:
            session = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
            session.login(so_pin, PyKCS11.CKU_SO)
            session.initPin(pin)
            session.logout()
            session.closeSession()
            return
    sys.exit("inittoken: token %s not found after init" % label)


if __name__ == "__main__":
    main()
