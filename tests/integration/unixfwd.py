#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""unixfwd.py - forward a Unix socket the way `ssh -L LOCAL:REMOTE` does.

usage: unixfwd.py LISTEN_PATH TARGET_PATH

Listens on LISTEN_PATH (mode 0600) and, for each connection, opens one to
TARGET_PATH and copies bytes both ways until either side closes. The tests
use it where ssh would carry a p11-kit server socket or an agent socket to
another host: what crosses is the same byte stream.
"""
import os
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(conn, target):
    up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        up.connect(target)
    except OSError:
        conn.close()
        return
    threading.Thread(target=pump, args=(conn, up), daemon=True).start()
    pump(up, conn)


def main():
    listen, target = sys.argv[1], sys.argv[2]
    old = os.umask(0o177)
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(listen)
    os.umask(old)
    ls.listen(16)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, args=(conn, target), daemon=True).start()


if __name__ == "__main__":
    main()
