#!/usr/bin/python3
# faults_unix_echo.py SOCKET - a unix: stream backend that can be killed
# and started again. Replaces a stale SOCKET file, then for every
# connection reads the SCGI header and echoes all later bytes back as they
# come (lines stay lines). Exits after 120 s at the latest.
import os
import socket
import sys
import threading
import time


def serve(conn):
    conn.settimeout(120)
    try:
        size = b""
        while not size.endswith(b":"):
            ch = conn.recv(1)
            if not ch or len(size) > 10:
                return
            size += ch
        need = int(size[:-1]) + 1		# the header and its ","
        while need > 0:
            chunk = conn.recv(min(need, 65536))
            if not chunk:
                return
            need -= len(chunk)
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    path = sys.argv[1]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.listen(64)
    lsock.settimeout(0.5)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn, _ = lsock.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
