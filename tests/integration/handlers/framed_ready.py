#!/usr/bin/python3
# framed_ready.py - a framed handler that floods numbered binary messages
# ("B 1024" records, the number in the first 8 bytes) until stdin brings a
# ReadyToSend record ("R 0"), then sends the text message
# "done SENT READY" and exits once stdin ends. Bounded: it stops flooding
# after 64 MiB or 30 s even without one.
import fcntl
import os
import select
import sys
import time

MAX_MSGS = 64 * 1024
deadline = time.monotonic() + 30
fl = fcntl.fcntl(1, fcntl.F_GETFL)
fcntl.fcntl(1, fcntl.F_SETFL, fl | os.O_NONBLOCK)

pending = b""
sent = 0
ready = 0
inbuf = b""
flooding = True
finished = False
stdin_open = True


def parse():
    """Consumes whole records from inbuf; counts R records."""
    global inbuf, ready
    while True:
        nl = inbuf.find(b"\n")
        if nl < 0:
            return
        kind, _, rest = inbuf[:nl].partition(b" ")
        n = int(rest.split(b" ")[-1])
        if len(inbuf) < nl + 1 + n:
            return
        if kind == b"R":
            ready += 1
        inbuf = inbuf[nl + 1 + n:]


while stdin_open or pending:
    if flooding and not pending:
        if ready > 0 or sent >= MAX_MSGS or time.monotonic() > deadline:
            flooding = False
            body = b"done %d %d" % (sent, ready)
            pending = b"T %d\n%s" % (len(body), body)
            finished = True
        else:
            body = b"%08d" % sent + b"y" * (1024 - 8)
            pending = b"B 1024\n" + body
            sent += 1
    rl = [0] if stdin_open else []
    wl = [1] if pending else []
    r, w, _ = select.select(rl, wl, [], 1.0)
    if r:
        data = os.read(0, 65536)
        if not data:
            stdin_open = False
        inbuf += data
        parse()
    if w:
        try:
            n = os.write(1, pending)
            pending = pending[n:]
        except BlockingIOError:
            pass
    if time.monotonic() > deadline + 30:
        break
