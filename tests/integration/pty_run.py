#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Runs a command on a new pseudo-terminal and answers its prompts.

usage: pty_run.py PROMPT... -- CMD [ARG]... < answers

For each PROMPT (a substring of what the command writes) waits for it, then
types the next line of stdin. Prints everything the terminal showed, then
"exit N", then "echoed" if any answer appeared on the terminal (it must not:
secrets are read with echo off), else "not echoed".
"""
import os
import select
import sys
import time


def main():
    if "--" not in sys.argv:
        sys.exit(__doc__)
    cut = sys.argv.index("--")
    prompts = [p.encode() for p in sys.argv[1:cut]]
    cmd = sys.argv[cut + 1:]
    answers = [line.rstrip("\n").encode() for line in sys.stdin]
    pid, fd = os.forkpty()
    if pid == 0:
        os.execv(cmd[0], cmd)
    shown = b""
    seen = 0

    def pump(until=None, timeout=15.0):
        nonlocal shown
        end = time.time() + timeout
        while time.time() < end and (until is None or until not in shown[seen:]):
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:
                return
            if not data:
                return
            shown += data

    for prompt, answer in zip(prompts, answers):
        pump(prompt)
        seen = shown.find(prompt, seen) + len(prompt) if prompt in shown[seen:] else len(shown)
        os.write(fd, answer + b"\n")
    pump(None, 10.0)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(shown.decode(errors="replace"))
    print("\nexit %d" % os.waitstatus_to_exitcode(status))
    print("echoed" if any(a and a in shown for a in answers) else "not echoed")


if __name__ == "__main__":
    main()
