#!/usr/bin/python3
# framed_topics.py - a MessageFormat = framed handler for the topic tests.
# A client text message is a command, answered "did CMD":
#   sub:TOPIC        "S" frame: subscribe this WebSocket
#   unsub:TOPIC      "L" frame: unsubscribe it (leave)
#   pub:TOPIC TEXT   "M" frame: publish TEXT on TOPIC
#   pubb:TOPIC TEXT  "N" frame: publish TEXT's bytes as a binary message
# anything else is echoed. Standard library only.
import sys

inp = sys.stdin.buffer
out = sys.stdout.buffer


def frame(letter, payload, topic=b""):
    """One frame; with a topic, "M|N TLEN LEN" then the topic, the message."""
    head = letter + (" %d" % len(topic) if topic else "") + \
        " %d\n" % len(payload)
    out.write(head.encode() + topic + payload)


while True:
    head = inp.readline()
    if not head:
        break
    kind, *nums = head.decode().split()
    body = inp.read(int(nums[-1])) if nums else b""
    if kind == "C":
        break
    if kind != "T":
        continue
    text = body.decode()
    if text.startswith("sub:"):
        frame("S", text[4:].encode())
    elif text.startswith("unsub:"):
        frame("L", text[6:].encode())
    elif text.startswith("pub:") or text.startswith("pubb:"):
        cmd, _, rest = text.partition(":")
        topic, _, msg = rest.partition(" ")
        frame("M" if cmd == "pub" else "N", msg.encode(),
            topic=topic.encode())
    else:
        frame("T", body)
        out.flush()
        continue
    frame("T", ("did " + text).encode())
    out.flush()
