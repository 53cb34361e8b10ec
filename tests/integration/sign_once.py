#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""sign_once.py - one Sign request through tba-agent, checked independently.

usage: sign_once.py SOCKET PROFILE CONSUMER_KEY TOKEN HOST
       (stdin: consumer secret, token secret - two lines)

Prints one word: "ok" for a right signature (tbaclient.py: base string built
here, Python's HMAC), the error name for an error reply
(io.tba.Agent.TokenError), "WRONG: ..." for a wrong signature, or
"connection: ..." when the agent cannot be reached.
"""

import sys

import tbaclient


def main():
    sock, profile, ck, token, host = sys.argv[1:6]
    cs, ts = tbaclient.read_secrets()
    creds = tbaclient.Creds(profile, ck, cs, token, ts)
    url = f"https://{host}/services/rest/record/v1/employee/40?expand=a%20b"
    try:
        with tbaclient.Agent(sock, timeout=30) as c:
            reply = c.sign(profile, "GET", url)
    except tbaclient.AgentError as e:
        print(e.name)
        return 0
    except OSError as e:
        print(f"connection: {e}")
        return 0
    err = tbaclient.check_sign_reply(creds, "GET", url, None, reply)
    print("ok" if err is None else "WRONG: " + err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
