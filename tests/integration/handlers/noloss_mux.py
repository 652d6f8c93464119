#!/usr/bin/python3
# noloss_mux.py SOCKET [STATS] - a mux echo backend for load tests.
#
# Listens on SOCKET (replacing a stale file) and serves every connection
# the daemon makes (a new one after each reconnect), speaking wsserverd(8),
# MUX PROTOCOL: each request is accepted, each complete client message is
# sent back whole with its type, everything else is ignored. Standard
# library only, non-blocking, bounded buffers: a daemon that stops reading
# makes it stop reading too. With STATS, "messages N opens N closes N" is
# rewritten there at most every 0.2 s and when idle, for tests that
# count. Exits after 10 minutes at the latest, or on SIGTERM.
import os
import selectors
import signal
import socket
import sys
import time

# Payload length word of each command the daemon sends, if it has one.
LENGTH_WORD = {"open": 2, "data": 3, "ping": 2, "close": 3}
OUT_HIGH = 8 << 20	# stop reading a connection above this much output


class Chan:
    def __init__(self, sock):
        self.sock = sock
        self.inbuf = bytearray()
        self.out = bytearray()
        self.parts = {}		# id -> pieces of a message in progress


class Server:
    def __init__(self, path, stats):
        self.stats = stats
        self.counts = {"messages": 0, "opens": 0, "closes": 0}
        self.last_stats = 0.0
        self.sel = selectors.DefaultSelector()
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(path)
        self.lsock.listen(16)
        self.lsock.setblocking(False)
        self.sel.register(self.lsock, selectors.EVENT_READ, None)

    def command(self, ch, words, payload):
        cmd = words[0]
        if cmd == "open":
            ch.out += b"accept %s\n" % words[1].encode()
            self.counts["opens"] += 1
        elif cmd == "data":
            cid, typ = words[1], words[2]
            pieces = ch.parts.setdefault(cid, [])
            pieces.append(bytes(payload))
            if typ in ("T", "B"):
                body = b"".join(ch.parts.pop(cid))
                ch.out += b"send %s %s %d\n" % (cid.encode(),
                    typ.encode(), len(body)) + body
                self.counts["messages"] += 1
        elif cmd == "close":
            ch.parts.pop(words[1], None)
            self.counts["closes"] += 1

    def feed(self, ch):
        buf = ch.inbuf
        pos = 0
        while True:
            nl = buf.find(b"\n", pos)
            if nl < 0:
                break
            words = bytes(buf[pos:nl]).decode("ascii", "replace").split(" ")
            i = LENGTH_WORD.get(words[0])
            n = int(words[i]) if i is not None and len(words) > i else 0
            if len(buf) < nl + 1 + n:
                break
            self.command(ch, words, buf[nl + 1:nl + 1 + n])
            pos = nl + 1 + n
        del buf[:pos]

    def update(self, ch):
        events = selectors.EVENT_READ if len(ch.out) < OUT_HIGH else 0
        if ch.out:
            events |= selectors.EVENT_WRITE
        if events:
            self.sel.modify(ch.sock, events, ch)
        else:
            self.sel.modify(ch.sock, selectors.EVENT_WRITE, ch)

    def drop(self, ch):
        self.sel.unregister(ch.sock)
        ch.sock.close()

    def write_stats(self):
        if not self.stats:
            return
        tmp = self.stats + ".tmp"
        with open(tmp, "w") as f:
            f.write("messages %(messages)d opens %(opens)d closes "
                "%(closes)d\n" % self.counts)
        os.replace(tmp, self.stats)

    def run(self, deadline):
        while time.monotonic() < deadline:
            events = self.sel.select(1.0)
            for key, mask in events:
                if key.data is None:
                    try:
                        s, _ = self.lsock.accept()
                    except BlockingIOError:
                        continue
                    s.setblocking(False)
                    ch = Chan(s)
                    self.sel.register(s, selectors.EVENT_READ, ch)
                    continue
                ch = key.data
                if mask & selectors.EVENT_READ:
                    try:
                        data = ch.sock.recv(1 << 18)
                    except (BlockingIOError, InterruptedError):
                        data = None
                    except OSError:
                        data = b""
                    if data == b"":
                        self.drop(ch)
                        continue
                    if data:
                        ch.inbuf += data
                        self.feed(ch)
                if ch.out:
                    try:
                        n = ch.sock.send(ch.out)
                        del ch.out[:n]
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        self.drop(ch)
                        continue
                self.update(ch)
            now = time.monotonic()
            if not events or now - self.last_stats > 0.2:
                self.last_stats = now
                self.write_stats()


def main():
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(0))
    stats = sys.argv[2] if len(sys.argv) > 2 else None
    Server(sys.argv[1], stats).run(time.monotonic() + 600)


if __name__ == "__main__":
    main()
