#!/usr/bin/python3
# topic_mux.py SOCKET [HOST:PORT] - a mux backend for the topic tests.
#
# Serves the daemon's mux connections (wsserverd(8), MUX PROTOCOL) on the
# UNIX socket SOCKET, or with a second argument on TCP HOST:PORT (one
# connection per worker, each served alone). Every WebSocket is accepted;
# a request path containing "tsub" is accepted with a "Subscribe:" header
# line naming the topic after it ("/x/tsub-news" joins "news"). A client
# text message is a command:
#   sub:TOPIC            subscribe this WebSocket to TOPIC
#   unsub:TOPIC          unsubscribe it
#   pub:TOPIC TEXT       publish TEXT on TOPIC
#   pubb:TOPIC HEX       publish the bytes of HEX as a binary message
# and is answered "did CMD"; anything else is echoed. An "error" line of
# the daemon is sent to the WebSocket it names (to every one for "*") as
# a message "error WORDS". Standard library only.
import selectors
import socket
import sys


class Mux:
    def __init__(self, sock):
        self.sock = sock
        self.inbuf = b""
        self.out = bytearray()
        self.ids = set()
        self.parts = {}         # ID -> pieces of a client message

    def put(self, line, payload=b""):
        self.out += line.encode() + b"\n" + payload

    def send(self, cid, text):
        data = text.encode()
        self.put("send %s T %d" % (cid, len(data)), data)

    def command(self, cid, text):
        if text.startswith("sub:"):
            self.put("subscribe %s %s" % (cid, text[4:]))
        elif text.startswith("unsub:"):
            self.put("unsubscribe %s %s" % (cid, text[6:]))
        elif text.startswith("pub:"):
            topic, _, msg = text[4:].partition(" ")
            data = msg.encode()
            self.put("publish T %s %d" % (topic, len(data)), data)
        elif text.startswith("pubb:"):
            topic, _, hexa = text[5:].partition(" ")
            data = bytes.fromhex(hexa)
            self.put("publish B %s %d" % (topic, len(data)), data)
        else:
            self.send(cid, text)
            return
        self.send(cid, "did " + text)

    def handle(self, words, payload):
        cmd = words[0]
        if cmd == "open":
            cid = words[1]
            self.ids.add(cid)
            path = payload.split(b"REQUEST_URI\0", 1)[1].split(b"\0")[0]
            path = path.decode()
            if "tsub-" in path:
                h = ("Subscribe: %s\n" % path.split("tsub-", 1)[1]).encode()
                self.put("accept %s %d" % (cid, len(h)), h)
            else:
                self.put("accept %s" % cid)
        elif cmd == "data":
            whole = self.parts.pop(words[1], b"") + payload
            if words[2] in ("t", "b"):
                self.parts[words[1]] = whole
            elif words[2] == "T":
                self.command(words[1], whole.decode())
            else:
                self.put("send %s B %d" % (words[1], len(whole)), whole)
        elif cmd == "close":
            self.ids.discard(words[1])
        elif cmd == "error":
            # "error ID ..." goes to that WebSocket, "error * ..." to all.
            for cid in self.ids:
                if words[1] in ("*", cid):
                    self.send(cid, " ".join(words))

    def feed(self, data):
        self.inbuf += data
        while True:
            nl = self.inbuf.find(b"\n")
            if nl < 0:
                return
            words = self.inbuf[:nl].decode().split()
            n = 0
            if words and words[0] in ("open", "data", "close", "ping"):
                n = int(words[-1])
            if len(self.inbuf) < nl + 1 + n:
                return
            payload = self.inbuf[nl + 1:nl + 1 + n]
            self.inbuf = self.inbuf[nl + 1 + n:]
            if words:
                self.handle(words, payload)


def main():
    if len(sys.argv) > 2:
        host, port = sys.argv[2].rsplit(":", 1)
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((host, int(port)))
    else:
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(sys.argv[1])
    lsock.listen(16)
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    while True:
        for key, _ in sel.select(1.0):
            if key.data is None:
                s, _ = lsock.accept()
                sel.register(s, selectors.EVENT_READ, Mux(s))
                continue
            m = key.data
            try:
                data = m.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                sel.unregister(m.sock)
                m.sock.close()
                continue
            m.feed(data)
            if m.out:
                m.sock.sendall(bytes(m.out))
                m.out.clear()


main()
