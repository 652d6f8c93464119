"""wss:// bytes on the daemon's own I/O path: records both ways, back-pressure, the close.

The daemon reads TLS records itself (OpenSSL over the socket) and puts its
own records into the same output queue and writev as plain connections.
These tests push that path where it could break: every frame size, many
messages in flight, records of one byte, a client that stops reading and
starts again, permessage-deflate and a script handler over TLS, TLS 1.2
and 1.3, and the closing handshake ending with close_notify before TCP's
FIN.
"""

import asyncio
import os
import socket
import ssl
import time

import pytest

import harness
import tls_util

websockets = pytest.importorskip("websockets")

ROUTES = {
    "echo": {"Path": "/", "Backend": "echo"},
    "lines": {"Path": "/lines",
        "Backend": "script:{handlers}/lines_echo.py wsit-tls-io"},
}


@pytest.fixture(scope="module")
def pki():
    p = tls_util.Pki()
    yield p
    p.cleanup()


@pytest.fixture(scope="module")
def d(module_daemons, pki):
    return module_daemons(routes=ROUTES, sections={
        "ssl": {"UseSSL": True, "SSLCert": pki.path("server.pem")},
        "websocket": {"MaxMessageSize": 32 * 1024 * 1024,
            "EnablePermessageDeflate": True},
        "backend": {"KillTimeout": 1},
    })


def run(coro, timeout=60.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def wss(d, pki, path="/", **kw):
    kw.setdefault("open_timeout", 10)
    kw.setdefault("close_timeout", 5)
    kw.setdefault("max_size", 32 * 1024 * 1024)
    kw.setdefault("compression", None)
    return websockets.connect("wss://localhost:%d%s" % (d.port, path),
        ssl=pki.client_context(), **kw)


def raw_tls(d, pki, maxver=None):
    """A TLS socket to the daemon (no WebSocket yet)."""
    ctx = pki.client_context()
    if maxver is not None:
        ctx.maximum_version = maxver
    s = socket.create_connection((harness.HOST, d.port), timeout=10)
    return ctx.wrap_socket(s, server_hostname="localhost")


def upgrade(s, path="/"):
    s.sendall(harness.build_request(path)[0])
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return head[head.index(b"\r\n\r\n") + 4:]


def read_exact(s, n, have=b""):
    buf = bytearray(have)
    while len(buf) < n:
        chunk = s.recv(min(1 << 20, n - len(buf)))
        assert chunk, "EOF after %d of %d bytes" % (len(buf), n)
        buf += chunk
    return bytes(buf)


def read_frame(s, have=b"", fin=None):
    """One unmasked server frame: (opcode, payload, rest)."""
    buf = read_exact(s, 2, have)
    op, n = buf[0] & 0x0F, buf[1] & 0x7F
    if fin is not None:
        fin.append(bool(buf[0] & 0x80))
    hl = 2 + (2 if n == 126 else 8 if n == 127 else 0)
    buf = read_exact(s, hl, buf)
    if n == 126:
        n = int.from_bytes(buf[2:4], "big")
    elif n == 127:
        n = int.from_bytes(buf[2:10], "big")
    buf = read_exact(s, hl + n, buf)
    return op, buf[hl:hl + n], buf[hl + n:]


def read_message(s, have=b""):
    """One whole message, however the server fragmented it: (op, payload,
    rest)."""
    fin = []
    op, data, rest = read_frame(s, have, fin)
    while not fin[-1]:
        cop, more, rest = read_frame(s, rest, fin)
        assert cop == harness.OP_CONT
        data += more
    return op, data, rest


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 16383, 16384, 16385,
    65535, 65536, 1 << 20, 16 << 20])
def test_every_size_echoes(d, pki, size):
    payload = os.urandom(size)

    async def main():
        async with wss(d, pki) as ws:
            await ws.send(payload)
            assert await ws.recv() == payload
            await ws.send(payload[:size // 2].hex())
            assert await ws.recv() == payload[:size // 2].hex()
        return ws.close_code
    assert run(main()) == 1000


def test_many_in_flight_keep_their_order(d, pki):
    msgs = [os.urandom(i % 3000) for i in range(2000)]

    async def main():
        async with wss(d, pki) as ws:
            async def send():
                for m in msgs:
                    await ws.send(m)
            sender = asyncio.ensure_future(send())
            for m in msgs:
                assert await ws.recv() == m
            await sender
        return ws.close_code
    assert run(main()) == 1000


def test_one_byte_records(d, pki):
    """Every byte of a frame in a TLS record of its own."""
    s = raw_tls(d, pki)
    try:
        rest = upgrade(s)
        payload = b"records of one byte each"
        for b in harness.build_frame(harness.OP_TEXT, payload):
            s.sendall(bytes([b]))
        op, got, rest = read_message(s, rest)
        assert (op, got) == (harness.OP_TEXT, payload)
    finally:
        s.close()


def test_client_that_stops_reading(d, pki):
    """Output waits as plaintext while the client does not read: the daemon
    stops reading it (our sends stall) with its memory bounded, and all of
    it arrives, in order, once the client reads again."""
    s = raw_tls(d, pki)
    try:
        rest = upgrade(s)
        before = harness.rss_kib(d.pid)
        payload = os.urandom(256 * 1024)
        sent, stalled = 0, False
        s.settimeout(1.0)
        while sent < 200:
            frame = harness.build_frame(harness.OP_BINARY,
                payload[:-1] + bytes([sent]))
            try:
                s.sendall(frame)
            except socket.timeout:
                # The daemon stopped reading us: its output is full. This
                # frame went out in part; it is finished below.
                stalled = True
                break
            sent += 1
        assert stalled, "the daemon read %d MiB without pausing" % (
            sent // 4)
        # Held: about CONN_OUT_HIGH of plaintext and a bounded wire queue.
        grown = harness.rss_kib(d.pid) - before
        assert grown < 32 * 1024, "daemon grew %d KiB" % grown
        s.settimeout(30)
        for i in range(sent):
            op, got, rest = read_message(s, rest)
            assert op == harness.OP_BINARY
            assert got == payload[:-1] + bytes([i]), i
    finally:
        s.close()


def test_deflate_over_tls(d, pki):
    text = "wsserverd " * 5000

    async def main():
        async with wss(d, pki, compression="deflate") as ws:
            assert "permessage-deflate" in ws.response_headers.get(
                "Sec-WebSocket-Extensions", "")
            for i in range(50):
                await ws.send(text + str(i))
                assert await ws.recv() == text + str(i)
        return ws.close_code
    assert run(main()) == 1000


def test_script_handler_over_tls(d, pki):
    async def main():
        async with wss(d, pki, "/lines") as ws:
            for i in range(100):
                await ws.send("line %d" % i)
                assert await ws.recv() == "line %d" % i
        return ws.close_code
    assert run(main()) == 1000


@pytest.mark.parametrize("maxver", [ssl.TLSVersion.TLSv1_2,
    ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
def test_close_then_close_notify_then_fin(d, pki, maxver):
    """The server's close frame, then its close_notify, then EOF."""
    s = raw_tls(d, pki, maxver)
    try:
        rest = upgrade(s)
        s.sendall(harness.build_frame(harness.OP_CLOSE,
            harness.close_payload(1000, b"bye")))
        op, got, rest = read_frame(s, rest)
        assert op == harness.OP_CLOSE
        assert got[:2] == (1000).to_bytes(2, "big")
        assert rest == b""
        # close_notify: the TLS layer reports a clean end (b"") ...
        assert s.recv(1) == b""
        # ... and unwrap completes our side over what is left of TCP.
        raw = s.unwrap()
        raw.settimeout(5)
        assert raw.recv(1) == b""
        raw.close()
    finally:
        s.close()


def test_many_connections_at_once(d, pki):
    # 100 TLS handshakes at once from one Python thread: each may wait for
    # the others' on a loaded sanitizer run, so the open timeout is the
    # whole test's bound.
    async def one(i):
        async with wss(d, pki, open_timeout=100) as ws:
            await ws.send("c%d" % i)
            assert await ws.recv() == "c%d" % i
        return ws.close_code

    async def main():
        return await asyncio.gather(*(one(i) for i in range(100)))
    assert run(main(), timeout=120) == [1000] * 100
