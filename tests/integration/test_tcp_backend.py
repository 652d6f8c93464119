"""tcp: and tcp+mux: backends (wsserverd(8), BACKENDS): one backend service
over TCP serves every node. A stream backend's connect is decided before
the upgrade (503 when the backend is down, or when the connect passes
ConnectTimeout); the connection has TCP keep-alive; a mux channel over
TCP reconnects with back-off; TLS to the backend with its certificate
checked (BackendUseSSL)."""

import os
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from harness import (HANDLERS, OP_TEXT, WSClient, connect_ws, wait_until)
from redis_util import free_port


def read_scgi(conn):
    """Reads an SCGI header from conn; returns its variables."""
    buf = b""
    while b":" not in buf:
        buf += conn.recv(1)
    n = int(buf[:-1])
    body = b""
    while len(body) < n + 1:
        body += conn.recv(n + 1 - len(body))
    parts = body[:-1].split(b"\0")
    return {parts[i].decode(): parts[i + 1].decode()
        for i in range(0, len(parts) - 1, 2)}


class LineServer:
    """A TCP (or TLS) backend in lines mode: each line back in capitals."""

    def __init__(self, ctx=None, port=None):
        self.ctx = ctx
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", port or 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.envs = []
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        self.lsock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.lsock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self.serve, args=(c,),
                daemon=True).start()

    def serve(self, c):
        try:
            if self.ctx is not None:
                c = self.ctx.wrap_socket(c, server_side=True)
            self.envs.append(read_scgi(c))
            f = c.makefile("rwb", buffering=0)
            for line in f:
                f.write(line.upper())
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            c.close()

    def close(self):
        self.stop = True
        self.lsock.close()
        self.t.join(2)


def test_tcp_stream(daemon_factory):
    srv = LineServer()
    try:
        d = daemon_factory(routes={"t": {"Path": "/t/*",
            "Backend": "tcp:127.0.0.1:%d" % srv.port, "TcpKeepAlive": 7}})
        c = connect_ws(d.port, "/t/x?q=1")
        c.send_text("hello tcp")
        assert c.read_message() == (OP_TEXT, b"HELLO TCP")
        env = srv.envs[0]
        assert env["REQUEST_URI"] == "/t/x?q=1"
        assert env["PATH_INFO"] == "/x"
        # TcpKeepAlive is on the daemon's connection to the backend.
        if shutil.which("ss"):
            out = subprocess.run(["ss", "-tnoH", "state", "established",
                "( dport = :%d )" % srv.port], stdout=subprocess.PIPE,
                text=True).stdout
            assert "keepalive" in out, out
        c.close_handshake(1000)
    finally:
        srv.close()


def test_tcp_down_is_503(daemon_factory):
    port = free_port()
    d = daemon_factory(routes={"t": {"Path": "/t",
        "Backend": "tcp:127.0.0.1:%d" % port}})
    mark = d.mark()
    c = WSClient(d.port)
    try:
        resp = c.handshake("/t", expect=503)
        assert b"backend down" in resp.body
    finally:
        c.close()
    d.wait_log(r"cannot connect to backend tcp:127\.0\.0\.1:%d" % port,
        start=mark)


def test_tcp_connect_timeout(daemon_factory):
    # A listener whose queue is full drops new SYNs: the connect hangs.
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    port = ls.getsockname()[1]
    fillers = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(s)
    time.sleep(0.2)
    try:
        d = daemon_factory(routes={"t": {"Path": "/t",
            "Backend": "tcp:127.0.0.1:%d" % port, "ConnectTimeout": 700}})
        c = WSClient(d.port)
        t0 = time.monotonic()
        try:
            c.handshake("/t", expect=503, timeout=5)
        finally:
            c.close()
        assert 0.5 < time.monotonic() - t0 < 3.0
        d.wait_log(r"ConnectTimeout passed")
    finally:
        for s in fillers:
            s.close()
        ls.close()


def test_tcp_mux_reconnects(daemon_factory):
    port = free_port()

    def start():
        p = subprocess.Popen(["/usr/bin/python3", os.path.join(HANDLERS,
            "topic_mux.py"), "-", "127.0.0.1:%d" % port],
            stdin=subprocess.DEVNULL)
        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return True
            except OSError:
                return False
        assert wait_until(listening, 5.0)
        return p

    p = start()
    try:
        d = daemon_factory(routes={"m": {"Path": "/m/*",
            "Backend": "tcp+mux:127.0.0.1:%d" % port}})
        c = connect_ws(d.port, "/m/a")
        c.echo(OP_TEXT, "over tcp")
        d.wait_log(r"mux backend tcp:127\.0\.0\.1:%d connected" % port)
        mark = d.mark()
        p.kill()
        p.wait(5)
        c.expect_close(1011, timeout=5)
        c.close()
        d.wait_log(r"mux backend tcp:127\.0\.0\.1:%d lost" % port, start=mark)
        # Down: 503 before the upgrade.
        assert wait_until(lambda: d.find_log("cannot connect to mux "
            "backend", start=mark) is not None, 5.0)
        c = WSClient(d.port)
        try:
            c.handshake("/m/b", expect=503)
        finally:
            c.close()
        # Back: the back-off finds it, WebSockets open again.
        p = start()
        d.wait_log(r"mux backend tcp:127\.0\.0\.1:%d connected" % port,
            start=mark, timeout=10)
        c = connect_ws(d.port, "/m/c")
        c.echo(OP_TEXT, "again")
        c.close_handshake(1000)
    finally:
        p.kill()
        p.wait(5)


@pytest.fixture(scope="module")
def pki():
    tls_util = pytest.importorskip("tls_util")
    p = tls_util.Pki()
    yield p
    p.cleanup()


def test_tcp_tls_backend(daemon_factory, pki):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.path("server.crt"), pki.path("server.key"))
    srv = LineServer(ctx)
    try:
        d = daemon_factory(routes={
            "ok": {"Path": "/ok", "Backend": "tcp:127.0.0.1:%d" % srv.port,
                "BackendUseSSL": True, "BackendSSLCACerts": pki.ca},
            "byname": {"Path": "/byname",
                "Backend": "tcp:127.0.0.1:%d" % srv.port,
                "BackendUseSSL": True, "BackendSSLCACerts": pki.ca,
                "BackendSSLServerName": "localhost"},
            "wrongname": {"Path": "/wrong",
                "Backend": "tcp:127.0.0.1:%d" % srv.port,
                "BackendUseSSL": True, "BackendSSLCACerts": pki.ca,
                "BackendSSLServerName": "a.test"},
            "noca": {"Path": "/noca",
                "Backend": "tcp:127.0.0.1:%d" % srv.port,
                "BackendUseSSL": True}})
        for path in ("/ok", "/byname"):
            c = connect_ws(d.port, path)
            c.send_text("secret " + path)
            assert c.read_message() == (OP_TEXT, ("SECRET " +
                path.upper()).encode())
            c.close_handshake(1000)
        # A certificate for another name, or from an unknown CA: 503.
        for path in ("/wrong", "/noca"):
            mark = d.mark()
            c = WSClient(d.port)
            try:
                c.handshake(path, expect=503)
            finally:
                c.close()
            d.wait_log(r"cannot connect to backend .*TLS", start=mark)
    finally:
        srv.close()
