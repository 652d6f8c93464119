#!/usr/bin/python3
# chat-room.py SOCKET - a chat room as a wsserverd mux backend.
#
# Standard library only. Serve it with a route such as
#
#	[route:chat]
#	Path = /chat
#	Backend = unix+mux:/run/chat.sock
#
# and connect to ws://host/chat?name=alice. Every text message a client
# sends is broadcast to everyone as "alice: text"; joins and leaves are
# announced. A client that offers the subprotocol "chat" gets it. The
# protocol is in wsserverd(8), MUX PROTOCOL: one line of words, then
# exactly as many payload bytes as the line says.
import os
import selectors
import socket
import sys
import urllib.parse


def scgi_env(payload):
    """The CGI variables of an "open" command's SCGI netstring."""
    n, _, rest = payload.partition(b":")
    parts = rest[:int(n)].split(b"\0")
    return {parts[i].decode(): parts[i + 1].decode("utf-8", "replace")
            for i in range(0, len(parts) - 1, 2)}


# Payload lengths by command: the word that holds it, or None.
LENGTH_WORD = {"open": 2, "data": 3, "ping": 2, "close": 3}


class Room:
    def __init__(self, conn):
        self.conn = conn
        self.inbuf = b""
        self.out = bytearray()
        self.names = {}         # ConnectionId -> name, once connected
        self.pending = {}       # ConnectionId -> name, accepted
        self.parts = {}         # ConnectionId -> pieces of a message

    def put(self, line, payload=b""):
        self.out += line.encode() + b"\n" + payload

    def broadcast(self, text):
        body = text.encode()
        self.put("broadcast T %d" % len(body), body)

    def command(self, words, payload):
        cmd, cid = words[0], words[1]
        if cmd == "open":
            env = scgi_env(payload)
            q = urllib.parse.parse_qs(env.get("QUERY_STRING", ""))
            name = q.get("name", [cid])[0][:32]
            self.pending[cid] = name
            offered = [p.strip() for p in
                env.get("HTTP_SEC_WEBSOCKET_PROTOCOL", "").split(",")]
            if "chat" in offered:
                h = b"Sec-WebSocket-Protocol: chat\n"
                self.put("accept %s %d" % (cid, len(h)), h)
            else:
                self.put("accept %s" % cid)
        elif cmd == "connected":
            name = self.pending.pop(cid, cid)
            self.names[cid] = name
            self.broadcast("* %s joined (%d here)" % (name, len(self.names)))
        elif cmd == "data":
            self.parts.setdefault(cid, []).append(payload)
            if words[2] in ("t", "b"):
                return          # more parts to come
            msg = b"".join(self.parts.pop(cid))
            if words[2] == "T" and cid in self.names:
                self.broadcast("%s: %s" % (self.names[cid],
                    msg.decode("utf-8", "replace")))
        elif cmd == "close":
            self.parts.pop(cid, None)
            self.pending.pop(cid, None)
            name = self.names.pop(cid, None)
            if name is not None:
                self.broadcast("* %s left" % name)

    def feed(self, data):
        self.inbuf += data
        while True:
            nl = self.inbuf.find(b"\n")
            if nl < 0:
                return
            words = self.inbuf[:nl].decode().split(" ")
            w = LENGTH_WORD.get(words[0])
            n = int(words[w]) if w is not None else 0
            if len(self.inbuf) < nl + 1 + n:
                return          # the payload is not all here yet
            payload = self.inbuf[nl + 1:nl + 1 + n]
            self.inbuf = self.inbuf[nl + 1 + n:]
            self.command(words, payload)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: chat-room.py SOCKET")
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.listen(4)
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ)
    rooms = {}
    while True:
        for key, mask in sel.select():
            s = key.fileobj
            if s is lsock:
                # The daemon connects again after a restart of either side.
                c, _ = lsock.accept()
                c.setblocking(False)
                rooms[c] = Room(c)
                sel.register(c, selectors.EVENT_READ)
                continue
            room = rooms[s]
            if mask & selectors.EVENT_READ:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    data = None
                if data == b"":
                    sel.unregister(s)
                    s.close()
                    del rooms[s]
                    continue
                if data:
                    room.feed(data)
            if room.out:
                try:
                    n = s.send(room.out)
                    del room.out[:n]
                except BlockingIOError:
                    pass
            sel.modify(s, selectors.EVENT_READ |
                (selectors.EVENT_WRITE if room.out else 0))


if __name__ == "__main__":
    main()
