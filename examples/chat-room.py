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
# announced. A client that offers the subprotocol "chat" gets it. With
# Workers each worker process keeps its own connection here, so the room
# spans all of them and says a broadcast on each. The
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
LENGTH_WORD = {"open": 2, "data": 3, "ping": 2, "pong": 2, "close": 3}


class Channel:
    """One connection from the daemon: one per worker process (Workers)."""

    def __init__(self, conn, room):
        self.conn = conn
        self.room = room
        self.inbuf = b""
        self.out = bytearray()

    def put(self, line, payload=b""):
        self.out += line.encode() + b"\n" + payload

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
            self.room.command(self, words, payload)


class Room:
    """Everyone, whichever worker (channel) serves them: ConnectionIds are
    unique across the daemon's workers."""

    def __init__(self):
        self.channels = set()
        self.names = {}         # ConnectionId -> (name, channel), connected
        self.pending = {}       # ConnectionId -> name, accepted
        self.parts = {}         # ConnectionId -> pieces of a message

    def broadcast(self, text):
        # "broadcast" reaches the WebSockets of one channel: say it on all.
        body = text.encode()
        for ch in self.channels:
            ch.put("broadcast T %d" % len(body), body)

    def command(self, ch, words, payload):
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
                ch.put("accept %s %d" % (cid, len(h)), h)
            else:
                ch.put("accept %s" % cid)
        elif cmd == "connected":
            name = self.pending.pop(cid, cid)
            self.names[cid] = (name, ch)
            self.broadcast("* %s joined (%d here)" % (name, len(self.names)))
        elif cmd == "data":
            self.parts.setdefault(cid, []).append(payload)
            if words[2] in ("t", "b"):
                return          # more parts to come
            msg = b"".join(self.parts.pop(cid))
            if words[2] == "T" and cid in self.names:
                self.broadcast("%s: %s" % (self.names[cid][0],
                    msg.decode("utf-8", "replace")))
        elif cmd == "close":
            self.parts.pop(cid, None)
            self.pending.pop(cid, None)
            entry = self.names.pop(cid, None)
            if entry is not None:
                self.broadcast("* %s left" % entry[0])

    def lost(self, ch):
        """A channel closed (its worker ended): its people are gone."""
        self.channels.discard(ch)
        for cid in [c for c, (_, x) in self.names.items() if x is ch]:
            self.broadcast("* %s left" % self.names.pop(cid)[0])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: chat-room.py SOCKET")
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ)
    room = Room()
    chans = {}
    while True:
        for key, mask in sel.select():
            s = key.fileobj
            if s is lsock:
                # One connection per worker; again after a restart.
                c, _ = lsock.accept()
                c.setblocking(False)
                chans[c] = Channel(c, room)
                room.channels.add(chans[c])
                sel.register(c, selectors.EVENT_READ)
                continue
            ch = chans[s]
            if mask & selectors.EVENT_READ:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    data = None
                if data == b"":
                    sel.unregister(s)
                    s.close()
                    del chans[s]
                    room.lost(ch)
                    continue
                if data:
                    ch.feed(data)
        # A broadcast may have queued output on any channel.
        for s, ch in chans.items():
            if ch.out:
                try:
                    n = s.send(ch.out)
                    del ch.out[:n]
                except BlockingIOError:
                    pass
            sel.modify(s, selectors.EVENT_READ |
                (selectors.EVENT_WRITE if ch.out else 0))


if __name__ == "__main__":
    main()
