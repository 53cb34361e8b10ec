#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""abuse_req.py - one request to tba-agent, the reply or error printed as one line.

usage: abuse_req.py SOCKET METHOD [JSON_PARAMETERS]

Prints "OK <parameters as JSON>" or "ERR <error name> <message>" (the name
without io.tba.Agent.), "CLOSED" when the agent closed the connection.
"""

import json
import sys

import agentwire


def main():
    sock, method = sys.argv[1], sys.argv[2]
    params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    c = agentwire.Conn(sock, timeout=30)
    rep, err = c.request(method, params)
    if rep is not None:
        print("OK " + json.dumps(rep, sort_keys=True))
    elif err[0] == "closed":
        print("CLOSED")
    else:
        print("ERR " + err[0].replace(agentwire.PREFIX, "") + " " + err[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
