#!/usr/bin/python3
# mux_backend.py SOCKET LOG - an example backend for unix: ... mux routes.
#
# Listens on SOCKET and serves the daemon's one mux connection (a new one
# after each reconnect), speaking the protocol of wsserverd(8), MUX
# PROTOCOL. Standard library only. Every WebSocket is named by the "name"
# query parameter of its request (its ConnectionId otherwise); events are
# appended to LOG as lines "EVENT NAME ..." so tests can check them.
#
# Verdict: a request path containing "reject401" gets "reject ID 401" with a
# WWW-Authenticate header, "reject" gets "reject ID 403", "silent" gets no
# answer, "withproto" is accepted with subprotocol "chat" and a header
# "X-Backend: mux", "badproto" with subprotocol "nope" (not offered); all
# others are accepted plainly. "connected" events are logged too.
# A client text message (whole, after its parts) is a command:
#   bcast:TEXT         broadcast TEXT to every WebSocket of the route
#   close:CODE:REASON  close this WebSocket with CODE and REASON
#   ping:DATA          ping the client with DATA
#   linemode:0|1       ChangeLineMode, then send "linemode N"
#   parts:A,B,C        send one message in parts A, B, C
#   flood:N:SIZE       send N binary messages of SIZE bytes each
#   count              send the number of open WebSockets
#   sandwich:N:TEXT    send "pre" to every WebSocket, then broadcast
#                      "TEXT 0" .. "TEXT N-1", then send "post" to every one
#   config:WORD        send "config ID WORD"; the daemon's answer
#                      ("config ID KEY=VALUE" or "error ID config WORD")
#                      is sent back to the client as "config KEY=VALUE"
#                      or "error WORD"
# anything else is echoed (binary messages too), as one message.
import os
import selectors
import socket
import sys
import urllib.parse


def netstring_env(payload):
    n, _, rest = payload.partition(b":")
    body = rest[:int(n)]
    parts = body.split(b"\0")
    return {parts[i].decode(): parts[i + 1].decode()
            for i in range(0, len(parts) - 1, 2)}


class Mux:
    def __init__(self, sock, log):
        self.sock = sock
        self.log = log
        self.inbuf = b""
        self.out = bytearray()
        self.names = {}         # ID -> name
        self.msgs = {}          # ID -> (type, [pieces])

    def emit(self, *words):
        self.log.write(" ".join(str(w) for w in words) + "\n")
        self.log.flush()

    def put(self, line, payload=b""):
        self.out += line.encode() + b"\n" + payload

    def send(self, cid, typ, data):
        self.put("send %s %s %d" % (cid, typ, len(data)), data)

    def handle(self, words, payload):
        cmd, cid = words[0], words[1]
        if cmd == "open":
            env = netstring_env(payload)
            q = urllib.parse.parse_qs(env.get("QUERY_STRING", ""))
            name = q.get("name", [cid])[0]
            self.names[cid] = name
            path = env.get("REQUEST_URI", "")
            self.emit("open", name, env.get("SCRIPT_NAME", ""),
                env.get("PATH_INFO", ""))
            if "reject401" in path:
                h = b"WWW-Authenticate: Basic realm=\"mux\"\n"
                self.put("reject %s 401 %d" % (cid, len(h)), h)
            elif "reject" in path:
                self.put("reject %s 403" % cid)
            elif "withproto" in path:
                h = b"Sec-WebSocket-Protocol: chat\r\nX-Backend: mux\n"
                self.put("accept %s %d" % (cid, len(h)), h)
            elif "badproto" in path:
                h = b"Sec-WebSocket-Protocol: nope\n"
                self.put("accept %s %d" % (cid, len(h)), h)
            elif "silent" not in path:
                self.put("accept %s" % cid)
        elif cmd == "data":
            name = self.names.get(cid, cid)
            typ = words[2]
            self.emit("data", name, typ, len(payload))
            # U, V: a line cut at MaxLineLength (EOL false); a message.
            typ = {"U": "T", "V": "B"}.get(typ, typ)
            t, pieces = self.msgs.get(cid, (typ.upper(), []))
            pieces.append(payload)
            if typ in "tb":
                self.msgs[cid] = (t, pieces)
                return
            self.msgs.pop(cid, None)
            self.message(cid, t, b"".join(pieces))
        elif cmd == "ping":
            self.emit("ping", self.names.get(cid, cid), payload.decode())
        elif cmd == "pong":
            self.emit("pong", self.names.get(cid, cid), payload.decode())
        elif cmd == "close":
            self.emit("close", self.names.pop(cid, cid), words[2],
                payload.decode())
            self.msgs.pop(cid, None)
        elif cmd == "ready":
            self.emit("ready", self.names.get(cid, cid))
        elif cmd == "connected":
            self.emit("connected", self.names.get(cid, cid))
        elif cmd == "config":
            self.send(cid, "T", ("config " + words[2]).encode())
        elif cmd == "error":
            self.emit("error", self.names.get(cid, cid), *words[2:])
            self.send(cid, "T", ("error " + " ".join(words[2:])).encode())

    def message(self, cid, typ, data):
        if typ == "B":
            self.send(cid, "B", data)
            return
        text = data.decode()
        if text.startswith("bcast:"):
            body = text[6:].encode()
            self.put("broadcast T %d" % len(body), body)
        elif text.startswith("close:"):
            _, code, reason = text.split(":", 2)
            self.put("close %s %s %d" % (cid, code, len(reason.encode())),
                reason.encode())
        elif text.startswith("ping:"):
            body = text[5:].encode()
            self.put("ping %s %d" % (cid, len(body)), body)
        elif text.startswith("linemode:"):
            self.put("linemode %s %s" % (cid, text[9:]))
            self.send(cid, "T", ("linemode " + text[9:]).encode())
        elif text.startswith("parts:"):
            parts = text[6:].split(",")
            for i, p in enumerate(parts):
                self.send(cid, "T" if i == len(parts) - 1 else "t",
                    p.encode())
        elif text.startswith("flood:"):
            _, n, size = text.split(":")
            for i in range(int(n)):
                self.send(cid, "B", bytes([i % 256]) * int(size))
        elif text.startswith("config:"):
            self.put("config %s %s" % (cid, text[7:]))
        elif text.startswith("sandwich:"):
            _, n, body = text.split(":", 2)
            for other in self.names:
                self.send(other, "T", b"pre")
            for i in range(int(n)):
                b = ("%s %d" % (body, i)).encode()
                self.put("broadcast T %d" % len(b), b)
            for other in self.names:
                self.send(other, "T", b"post")
        elif text == "count":
            self.send(cid, "T", str(len(self.names)).encode())
        else:
            self.send(cid, "T", data)

    def feed(self, data):
        self.inbuf += data
        while True:
            nl = self.inbuf.find(b"\n")
            if nl < 0:
                return
            words = self.inbuf[:nl].decode().split(" ")
            n = 0
            if words[0] in ("open", "ping", "pong"):
                n = int(words[2])
            elif words[0] == "data":
                n = int(words[3])
            elif words[0] == "close":
                n = int(words[3])
            if len(self.inbuf) < nl + 1 + n:
                return
            payload = self.inbuf[nl + 1:nl + 1 + n]
            self.inbuf = self.inbuf[nl + 1 + n:]
            self.handle(words, payload)


def main():
    path, logpath = sys.argv[1], sys.argv[2]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.listen(8)
    log = open(logpath, "a")
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    muxes = {}
    while True:
        for key, _ in sel.select(1.0):
            if key.data is None:
                s, _ = lsock.accept()
                s.setblocking(False)
                muxes[s] = Mux(s, log)
                sel.register(s, selectors.EVENT_READ, muxes[s])
                continue
            m = key.data
            try:
                data = m.sock.recv(1 << 16)
            except BlockingIOError:
                data = None
            if data == b"":
                sel.unregister(m.sock)
                m.sock.close()
                del muxes[m.sock]
                continue
            if data:
                m.feed(data)
        for m in list(muxes.values()):
            while m.out:
                try:
                    n = m.sock.send(m.out)
                except BlockingIOError:
                    break
                except OSError:
                    m.out.clear()
                    break
                del m.out[:n]
            want = selectors.EVENT_READ | (selectors.EVENT_WRITE
                if m.out else 0)
            sel.modify(m.sock, want, m)


if __name__ == "__main__":
    main()
