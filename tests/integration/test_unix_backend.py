"""unix: backends in stream mode: one UNIX-socket connection per WebSocket,
an SCGI header of CGI variables first, then the route's message format."""

import os
import shutil
import socket
import tempfile
import threading
import time

import pytest

from harness import (OP_BINARY, OP_TEXT, WSClient, build_frame, connect_ws,
    send_all_bounded, wait_until)


def read_scgi(f):
    """Reads an SCGI netstring header from file f: a list of (name, value)."""
    size = b""
    while not size.endswith(b":"):
        ch = f.read(1)
        assert ch, "EOF inside the netstring length"
        size += ch
        assert len(size) < 12
    body = f.read(int(size[:-1]))
    assert f.read(1) == b","
    fields = body.split(b"\0")
    assert fields[-1] == b""
    fields = [x.decode() for x in fields[:-1]]
    return list(zip(fields[0::2], fields[1::2]))


class Backend:
    """A UNIX-socket server; serve(conn, rfile, headers) runs per connection
    in its own thread. Everything it saw is kept for the tests."""

    def __init__(self, path, serve):
        self.path = path
        self.serve = serve
        self.headers = []
        self.events = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,),
                daemon=True).start()

    def _run(self, conn):
        conn.settimeout(10)
        rfile = conn.makefile("rb")
        try:
            headers = read_scgi(rfile)
            with self.lock:
                self.headers.append(dict(headers))
                self.headers[-1]["_order"] = [n for n, _ in headers]
            self.serve(self, conn, rfile)
        except (OSError, AssertionError) as e:
            self.event("error %s" % e)
        finally:
            rfile.close()
            conn.close()

    def event(self, text):
        with self.lock:
            self.events.append(text)

    def stop(self):
        self.stopping = True
        self.sock.close()
        self.thread.join(2)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def serve_lines(b, conn, rfile):
    """Echoes lines; "bye" makes it close its side; "flood N" sends N lines."""
    for line in rfile:
        if line == b"bye\n":
            b.event("bye")
            return
        if line.startswith(b"flood "):
            n = int(line[6:])
            conn.sendall(b"".join(b"%08d\n" % i for i in range(n)))
            continue
        conn.sendall(line)
    b.event("eof")


def serve_framed(b, conn, rfile):
    """Framed echo; "close CODE" closes with CODE; logs what it reads."""
    while True:
        header = rfile.readline()
        if not header:
            b.event("eof")
            return
        fields = header.rstrip(b"\n").split(b" ")
        payload = rfile.read(int(fields[-1]))
        if fields[0] == b"C":
            b.event("C %s %s" % (fields[1].decode(), payload.decode()))
            continue
        if payload.startswith(b"close "):
            conn.sendall(b"C %s 3\nbye" % payload[6:])
            continue
        conn.sendall(header + payload)


def serve_linger(b, conn, rfile):
    """Reads to EOF, then keeps its side open: measures when the daemon
    closes the connection (KillTimeout)."""
    while rfile.read(1):
        pass
    t0 = time.monotonic()
    b.event("eof")
    deadline = t0 + 5
    while time.monotonic() < deadline:
        try:
            conn.sendall(b"x\n")
        except OSError:
            b.event("closed after %.2f" % (time.monotonic() - t0))
            return
        time.sleep(0.05)
    b.event("never closed")


def serve_noread(b, conn, rfile):
    """Never reads after the header: the daemon must hold the client back."""
    b.event("stalled")
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and not b.stopping:
        time.sleep(0.05)


@pytest.fixture(scope="module")
def sockdir():
    d = tempfile.mkdtemp(prefix="wsit-ux-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def backends(sockdir):
    bs = {
        "lines": Backend(os.path.join(sockdir, "lines.sock"), serve_lines),
        "framed": Backend(os.path.join(sockdir, "framed.sock"),
            serve_framed),
        "linger": Backend(os.path.join(sockdir, "linger.sock"),
            serve_linger),
        "noread": Backend(os.path.join(sockdir, "noread.sock"),
            serve_noread),
    }
    yield bs
    for b in bs.values():
        b.stop()


@pytest.fixture(scope="module")
def ux(module_daemons, backends, sockdir):
    routes = {
        "lines": {"Path": "/lines/*", "Backend": "unix:%s/lines.sock" %
            sockdir, "PassEnv": "WSIT_SECRET"},
        "framed": {"Path": "/framed", "Backend": "unix:%s/framed.sock" %
            sockdir, "MessageFormat": "framed"},
        "linger": {"Path": "/linger", "Backend": "unix:%s/linger.sock" %
            sockdir},
        "down": {"Path": "/down", "Backend": "unix:%s/nobody.sock" %
            sockdir},
        "noread": {"Path": "/noread", "Backend": "unix:%s/noread.sock" %
            sockdir},
    }
    return module_daemons(routes=routes, env={"WSIT_SECRET": "no"},
        sections={"backend": {"KillTimeout": 1}})


def test_lines_echo(ux, backends):
    c = connect_ws(ux.port, "/lines/x")
    for m in ["hello", "", "\u00e9t\u00e9", "x" * 100000]:
        c.echo(OP_TEXT, m)
    c.close_handshake(1000)
    assert wait_until(lambda: "eof" in backends["lines"].events, 3)


def test_scgi_header(ux, backends):
    n = len(backends["lines"].headers)
    c = connect_ws(ux.port, "/lines/a/b?q=1",
        extra=[("Origin", "http://o.example"), ("X-Thing", "one")])
    c.echo(OP_TEXT, "x")
    c.close_handshake(1000)
    h = backends["lines"].headers[n]
    assert h["_order"][:2] == ["CONTENT_LENGTH", "SCGI"]
    assert (h["CONTENT_LENGTH"], h["SCGI"]) == ("0", "1")
    assert h["REQUEST_URI"] == "/lines/a/b?q=1"
    assert h["QUERY_STRING"] == "q=1"
    assert (h["SCRIPT_NAME"], h["PATH_INFO"]) == ("/lines", "/a/b")
    assert h["HTTP_ORIGIN"] == "http://o.example"
    assert h["HTTP_X_THING"] == "one"
    assert h["REMOTE_ADDR"] == "127.0.0.1"
    assert h["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert h["WSSERVERD_CONNECTION_ID"]
    # A socket gets the request, not the daemon's environment.
    assert "PATH" not in h and "WSIT_SECRET" not in h


def test_backend_eof_closes_1000(ux, backends):
    c = connect_ws(ux.port, "/lines/")
    c.echo(OP_TEXT, "before")
    c.send_text("bye")
    c.expect_close(1000)
    c.reply_close(1000)
    c.assert_closed(2.0)


def test_backend_to_client_flow_control(ux):
    # 2 MB of lines to a client that reads slowly: all of it, in order.
    c = connect_ws(ux.port, "/lines/")
    n = 200000
    c.send_text("flood %d" % n)
    time.sleep(0.5)
    for i in range(n):
        assert c.read_message(timeout=10) == (OP_TEXT, b"%08d" % i)
    c.close_handshake(1000)


def test_framed_round_trip(ux):
    c = connect_ws(ux.port, "/framed")
    c.echo(OP_TEXT, "multi\nline\n")
    c.echo(OP_BINARY, bytes(range(256)) * 400)
    c.echo(OP_BINARY, b"")
    c.close_handshake(1000)


def test_framed_close_code_both_ways(ux, backends):
    b = backends["framed"]
    c = connect_ws(ux.port, "/framed")
    c.send_close(4005, b"ciao")
    c.expect_close(4005)
    assert wait_until(lambda: "C 4005 ciao" in b.events, 3)
    c = connect_ws(ux.port, "/framed")
    c.send_text("close 4003")
    f = c.expect_close(4003)
    assert f.payload[2:] == b"bye"
    c.reply_close(4003)
    c.assert_closed(2.0)


def test_client_close_shuts_write_then_closes_after_kill_timeout(ux,
        backends):
    b = backends["linger"]
    c = connect_ws(ux.port, "/linger")
    c.close_handshake(1000)
    assert wait_until(lambda: any(e.startswith("closed after") or
        e == "never closed" for e in b.events), 6)
    ev = [e for e in b.events if e.startswith("closed after")]
    assert ev, b.events
    assert 0.7 < float(ev[0].split()[-1]) < 2.5


def test_backend_down_is_503(ux):
    c = WSClient(ux.port)
    c.handshake("/down", expect=503)
    c.close()
    ux.wait_log(r"cannot connect to backend .*nobody\.sock")
    ux.wait_log(r"rejected .* /down: 503 backend down")


def test_backend_restart(daemon_factory):
    d = daemon_factory(start=False, routes={"r": {"Path": "/r",
        "Backend": "unix:rel.sock"}})
    path = os.path.join(d.dir, "rel.sock")
    d.start()
    c = WSClient(d.port)
    c.handshake("/r", expect=503)
    c.close()
    b = Backend(path, serve_lines)
    try:
        c = connect_ws(d.port, "/r")
        c.echo(OP_TEXT, "up")
        b.stop()
        # Open connections outlive the listening socket.
        c.echo(OP_TEXT, "still")
        c.close_handshake(1000)
        c = WSClient(d.port)
        c.handshake("/r", expect=503)
        c.close()
        b = Backend(path, serve_lines)
        c = connect_ws(d.port, "/r")
        c.echo(OP_TEXT, "back")
        c.close_handshake(1000)
    finally:
        b.stop()


def test_many_connections(ux, backends):
    clients = [connect_ws(ux.port, "/lines/") for _ in range(50)]
    for i, c in enumerate(clients):
        c.send_text("m%d" % i)
    for i, c in enumerate(clients):
        assert c.read_message() == (OP_TEXT, b"m%d" % i)
    for c in clients:
        c.close_handshake(1000)


def test_client_to_backend_flow_control(ux):
    # A backend that does not read: the client is paused, memory stays
    # bounded, and other WebSockets are served meanwhile.
    base = ux.rss_kib()
    c = connect_ws(ux.port, "/noread")
    c.sock.settimeout(0.2)
    frame = build_frame(OP_TEXT, b"z" * 16384)
    sent = 0
    deadline = time.monotonic() + 3.0
    for _ in range(100000):
        if time.monotonic() >= deadline:
            break
        n = send_all_bounded(c.sock, frame, deadline)
        sent += n
        if n < len(frame):
            break
    assert sent < 32 << 20, "no back-pressure: %d MiB accepted" % (
        sent >> 20)
    grown = ux.rss_kib() - base
    assert grown < 64 * 1024, "RSS grew by %d KiB" % grown
    other = connect_ws(ux.port, "/lines/")
    other.echo(OP_TEXT, "served")
    other.close_handshake(1000)
    c.close()
