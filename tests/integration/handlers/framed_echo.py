#!/usr/bin/python3
"""framed_echo.py [LOG] - a MessageFormat = framed handler (the example of
wsserverd(8), FRAMED MESSAGES).

Echoes every message with its type. Text commands: "close CODE REASON"
ends the WebSocket with that close code; "ping DATA" pings the client;
"parts N" sends "part0".."partN-1" as one message in N parts; "binary"
sends the bytes 0..255. LOG, when given, gets every frame header read
from stdin, then "EOF".
"""
import sys

inp = sys.stdin.buffer
out = sys.stdout.buffer
log = open(sys.argv[1], "ab", buffering=0) if len(sys.argv) > 1 else None


def read_frame():
    """Returns (kind, code, payload), or None at the end of stdin."""
    header = inp.readline()
    if not header:
        return None
    if log:
        log.write(header)
    fields = header.rstrip(b"\n").split(b" ")
    kind = fields[0].decode()
    size = int(fields[-1])
    payload = inp.read(size)
    if len(payload) != size:
        sys.exit("stdin ended inside a frame")
    if kind == "C" and log:
        log.write(payload + b"\n")
    return kind, int(fields[1]) if kind == "C" else None, payload


def send(kind, payload=b"", code=None):
    """Writes one frame: T/t/B/b (t, b: more parts follow), P, or C."""
    if kind == "C":
        out.write(b"C %d %d\n" % (code, len(payload)))
    else:
        out.write(b"%s %d\n" % (kind.encode(), len(payload)))
    out.write(payload)
    out.flush()


message = b""
while True:
    frame = read_frame()
    if frame is None or frame[0] == "C":
        break          # the WebSocket is over ("C": how it ended)
    kind, _, payload = frame
    if kind not in "TtBbUV":
        continue       # R, I, O: ReadyToSend, the client's ping or pong
    kind = {"U": "T", "V": "B"}.get(kind, kind)
    message += payload
    if kind in "tb":
        continue       # a part; the message goes on
    data, message = message, b""
    if kind == "T" and data.startswith(b"close "):
        _, code, reason = data.split(b" ", 2)
        send("C", reason, int(code))
    elif kind == "T" and data.startswith(b"ping "):
        send("P", data[5:])
    elif kind == "T" and data.startswith(b"parts "):
        n = int(data[6:])
        for i in range(n):
            send("t" if i < n - 1 else "T", b"part%d" % i)
    elif kind == "T" and data == b"binary":
        send("B", bytes(range(256)))
    else:
        send(kind, data)
if log:
    log.write(b"EOF\n")
