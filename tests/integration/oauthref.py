# SPDX-License-Identifier: MIT
"""oauthref.py - what the python3-oauthlib comparisons share.

Results: "ok - NAME" / "not ok - NAME: detail" lines and the closing
"N passed, N failed". catch_base_strings(): python3-oauthlib logs the base
string it signs at DEBUG level; the handler keeps the last one, so a test can
compare base strings as well as signatures.
"""

import logging


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, name):
        self.passed += 1
        print(f"ok - {name}")

    def not_ok(self, name, detail):
        self.failed += 1
        print(f"not ok - {name}: {detail}")

    def done(self):
        """Prints the summary; the exit status (0 only when something passed and nothing failed)."""
        print(f"{self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 and self.passed > 0 else 1


class BaseStringCatcher(logging.Handler):
    PREFIX = "Signing: signature base string: "

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.last = None

    def emit(self, record):
        msg = record.getMessage()
        if msg.startswith(self.PREFIX):
            self.last = msg[len(self.PREFIX):]


def catch_base_strings():
    catcher = BaseStringCatcher()
    log = logging.getLogger("oauthlib")
    log.setLevel(logging.DEBUG)
    log.addHandler(catcher)
    log.propagate = False
    return catcher
