"""permessage-deflate (RFC 7692) against the real daemon.

Two halves: Debian's python3-websockets (10.4, asyncio API; it offers
permessage-deflate by default) as an independent implementation, and raw
sockets with frames compressed here by zlib for the exact negotiation
answers, the RSV rules, broken data and decompression bombs.
"""

import asyncio
import re
import time
import zlib

import pytest

import harness
from harness import (OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT,
    build_frame, connect_ws)
from interop_util import (RSV1, Inflater, compress_message, compressor,
    connect_deflate, noise, pattern, read_message_inflated, read_message_raw,
    send_compressed, vm_hwm_kib)

websockets = pytest.importorskip("websockets")
from websockets.exceptions import ConnectionClosed  # noqa: E402
from websockets.extensions.permessage_deflate import (  # noqa: E402
    ClientPerMessageDeflateFactory, PerMessageDeflate)

MIB = 1 << 20
BIG = 16 * MIB


def run(coro, timeout=30.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def connect(d, path="/", **kw):
    kw.setdefault("open_timeout", 5)
    kw.setdefault("close_timeout", 2)
    kw.setdefault("max_size", None)
    return websockets.connect(d.url(path), **kw)


def close_stats(d, local_port, timeout=5.0):
    """The daemon's open and close log lines of the connection from
    local_port: (open line, {key: value} of the close line)."""
    m = d.wait_log(r"^\S+ INFO (\S+) open 127\.0\.0\.1:%d " % local_port,
        timeout)
    cid = m.group(1)
    c = d.wait_log(r"INFO %s close (.*)$" % re.escape(cid), timeout)
    stats = dict(re.findall(r"(\w+)=(\S+)", c.group(1)))
    return m.string, stats


@pytest.fixture(scope="module")
def zd(module_daemons):
    """A daemon with the default deflate settings and room for 16 MiB."""
    return module_daemons(sections={"websocket": {
        "MaxMessageSize": BIG + MIB}})


def make_payload(opcode, size, seed=0):
    if opcode == OP_TEXT:
        return pattern(size, seed).decode("ascii")
    return pattern(size, seed)


# ---------------------------------------------------------------- library

@pytest.mark.parametrize("size", [0, 1, 125, 65536, BIG])
@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_lib_echo_compressed(zd, opcode, size):
    msg = make_payload(opcode, size)

    async def main():
        async with connect(zd) as ws:
            assert len(ws.extensions) == 1
            assert isinstance(ws.extensions[0], PerMessageDeflate)
            assert ws.response_headers["Sec-WebSocket-Extensions"] == \
                "permessage-deflate; client_max_window_bits=15"
            await ws.send(msg)
            got = await asyncio.wait_for(ws.recv(), 20)
            assert type(got) is type(msg)
            assert len(got) == len(msg)
            assert got == msg
            return ws.local_address[1], ws.close_code
    port, _ = run(main())
    line, stats = close_stats(zd, port)
    assert line.endswith(" permessage-deflate"), line
    assert stats["code"] == "1000"
    if size >= 65536:
        # The server really compressed: far fewer bytes than the payload.
        assert int(stats["bytes_out"]) < size // 4, stats
        assert int(stats["bytes_in"]) < size // 4, stats


def test_lib_echo_noise(zd):
    # Incompressible data: deflate's stored blocks must round-trip too.
    data = noise(300000, 7)

    async def main():
        async with connect(zd) as ws:
            for n in (1, 64, 4095, 300000):
                await ws.send(data[:n])
                assert await ws.recv() == data[:n]
    run(main())


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_lib_fragmented_compressed(zd, opcode):
    base = make_payload(opcode, 300000, 3)
    cuts = [0, 0, 1, 2, 100, 70000, 70000, 200000, 300000, 300000]
    frags = [base[cuts[i]:cuts[i + 1]] for i in range(len(cuts) - 1)]

    async def agen():
        for f in frags:
            yield f
            await asyncio.sleep(0)

    async def main():
        async with connect(zd) as ws:
            assert ws.extensions
            await ws.send(agen())
            assert await ws.recv() == base
            await ws.send(frags)
            assert await ws.recv() == base
            await ws.send(iter(frags[2:4]))
            assert await ws.recv() == base[1:100]
    run(main())


def test_lib_many_messages_context_takeover(zd):
    # Repeated content: each message refers back into earlier ones.
    msgs = [pattern(3000 + 17 * i, i % 3).decode() for i in range(200)]

    async def main():
        async with connect(zd) as ws:
            for m in msgs:
                await ws.send(m)
            for m in msgs:
                assert await ws.recv() == m
            return ws.local_address[1]
    port = run(main())
    _, stats = close_stats(zd, port)
    total = sum(len(m) for m in msgs)
    assert int(stats["bytes_out"]) < total // 20, stats


def test_lib_ping_with_compression(zd):
    async def main():
        async with connect(zd) as ws:
            for i in range(3):
                waiter = await ws.ping(b"zping %d" % i)
                await asyncio.wait_for(waiter, 2)
                await ws.send("after ping %d" % i * 20)
                assert await ws.recv() == "after ping %d" % i * 20
    run(main())


FACTORIES = [
    (dict(), "permessage-deflate; client_max_window_bits=15",
        dict(remote_no_context_takeover=False, local_no_context_takeover=False,
        remote_max_window_bits=15, local_max_window_bits=15)),
    (dict(client_max_window_bits=None), "permessage-deflate",
        dict(remote_max_window_bits=15, local_max_window_bits=15)),
    (dict(server_no_context_takeover=True),
        "permessage-deflate; server_no_context_takeover; "
        "client_max_window_bits=15",
        dict(remote_no_context_takeover=True,
        local_no_context_takeover=False)),
    (dict(client_no_context_takeover=True),
        "permessage-deflate; client_no_context_takeover; "
        "client_max_window_bits=15",
        dict(remote_no_context_takeover=False,
        local_no_context_takeover=True)),
    (dict(server_max_window_bits=10),
        "permessage-deflate; server_max_window_bits=10; "
        "client_max_window_bits=15",
        dict(remote_max_window_bits=10, local_max_window_bits=15)),
    (dict(client_max_window_bits=9),
        "permessage-deflate; client_max_window_bits=9",
        dict(remote_max_window_bits=15, local_max_window_bits=9)),
    (dict(server_no_context_takeover=True, client_no_context_takeover=True,
        server_max_window_bits=9, client_max_window_bits=9),
        "permessage-deflate; server_no_context_takeover; "
        "client_no_context_takeover; server_max_window_bits=9; "
        "client_max_window_bits=9",
        dict(remote_no_context_takeover=True, local_no_context_takeover=True,
        remote_max_window_bits=9, local_max_window_bits=9)),
]


@pytest.mark.parametrize("kw,header,attrs", FACTORIES,
    ids=[",".join("%s=%s" % kv for kv in f[0].items()) or "default"
    for f in FACTORIES])
def test_lib_extension_parameters(zd, kw, header, attrs):
    factory = ClientPerMessageDeflateFactory(**kw)
    msgs = [pattern(5000, i % 2).decode() for i in range(6)] + \
        [noise(70000, 5), pattern(MIB, 9), "", "x"]

    async def main():
        async with connect(zd, compression=None,
                extensions=[factory]) as ws:
            assert ws.response_headers["Sec-WebSocket-Extensions"] == header
            assert len(ws.extensions) == 1
            ext = ws.extensions[0]
            for k, v in attrs.items():
                assert getattr(ext, k) == v, (k, getattr(ext, k), v)
            for m in msgs:
                await ws.send(m)
                assert await ws.recv() == m
    run(main())


def test_lib_window_bits_8_declined(zd):
    # zlib cannot keep to a 256-byte window, so the offer is declined and
    # the library goes on without the extension.
    factory = ClientPerMessageDeflateFactory(server_max_window_bits=8)

    async def main():
        async with connect(zd, compression=None,
                extensions=[factory]) as ws:
            assert ws.extensions == []
            assert "Sec-WebSocket-Extensions" not in ws.response_headers
            await ws.send("plain " * 100)
            assert await ws.recv() == "plain " * 100
    run(main())


def test_lib_deflate_disabled(daemon_factory):
    d = daemon_factory(sections={"websocket": {
        "EnablePermessageDeflate": False}})

    async def main():
        async with connect(d) as ws:
            assert ws.extensions == []
            assert "Sec-WebSocket-Extensions" not in ws.response_headers
            for m in ("", "a", pattern(100000).decode(), pattern(1000)):
                await ws.send(m)
                assert await ws.recv() == m
            return ws.local_address[1]
    port = run(main())
    line, stats = close_stats(d, port)
    assert "permessage-deflate" not in line
    assert int(stats["bytes_out"]) > 101000


def test_lib_server_no_context_takeover_config(daemon_factory):
    d = daemon_factory(sections={"websocket": {
        "PermessageDeflateNoContextTakeover": True}})

    async def main():
        async with connect(d) as ws:
            assert ws.response_headers["Sec-WebSocket-Extensions"] == \
                "permessage-deflate; server_no_context_takeover; " \
                "client_max_window_bits=15"
            assert ws.extensions[0].remote_no_context_takeover is True
            for i in range(5):
                m = pattern(20000, i % 2)
                await ws.send(m)
                assert await ws.recv() == m
    run(main())


def test_lib_compressed_too_big_is_1009(daemon_factory):
    d = daemon_factory(sections={"websocket": {"MaxMessageSize": 100000}})

    async def main():
        async with connect(d) as ws:
            await ws.send(b"\0" * 100000)
            assert await ws.recv() == b"\0" * 100000
            await ws.send(b"\0" * 100001)
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            return ws.close_code
    assert run(main()) == 1009


# ---------------------------------------------------------------- negotiation

NEGOTIATION = [
    ("permessage-deflate", "permessage-deflate"),
    ("PerMessage-Deflate", "permessage-deflate"),
    ("permessage-deflate; client_max_window_bits",
        "permessage-deflate; client_max_window_bits=15"),
    ("permessage-deflate; client_max_window_bits=12",
        "permessage-deflate; client_max_window_bits=12"),
    ('permessage-deflate; client_max_window_bits="10"',
        "permessage-deflate; client_max_window_bits=10"),
    ("permessage-deflate;server_max_window_bits=9",
        "permessage-deflate; server_max_window_bits=9"),
    ("permessage-deflate; server_max_window_bits=15",
        "permessage-deflate; server_max_window_bits=15"),
    ("permessage-deflate; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover"),
    ("permessage-deflate; client_no_context_takeover",
        "permessage-deflate; client_no_context_takeover"),
    ("permessage-deflate; client_max_window_bits; server_max_window_bits=11;"
        " client_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover; "
        "client_no_context_takeover; server_max_window_bits=11; "
        "client_max_window_bits=15"),
    # Several offers: the first acceptable one is taken.
    ("x-webkit-deflate-frame, permessage-deflate; client_no_context_takeover,"
        " permessage-deflate",
        "permessage-deflate; client_no_context_takeover"),
    ("permessage-deflate; foo=1, permessage-deflate; server_max_window_bits=12",
        "permessage-deflate; server_max_window_bits=12"),
    ("permessage-deflate; server_max_window_bits=8, permessage-deflate; "
        "client_max_window_bits", "permessage-deflate; "
        "client_max_window_bits=15"),
    ("permessage-deflate; server_no_context_takeover; "
        "server_no_context_takeover, permessage-deflate",
        "permessage-deflate"),
    ("permessage-deflate; server_max_window_bits, permessage-deflate; "
        "client_no_context_takeover",
        "permessage-deflate; client_no_context_takeover"),
    ("permessage-deflate; server_no_context_takeover=1, permessage-deflate",
        "permessage-deflate"),
    ("foo; bar=\"a,b\", permessage-deflate",
        "permessage-deflate"),
    (";;;, permessage-deflate", "permessage-deflate"),
    # Declined: nothing acceptable, and the handshake still succeeds.
    ("permessage-deflate; server_max_window_bits=8", None),
    ("permessage-deflate; server_max_window_bits=16", None),
    ("permessage-deflate; server_max_window_bits=010", None),
    ("permessage-deflate; client_max_window_bits=7", None),
    ("permessage-deflate; client_max_window_bits=abc", None),
    ("permessage-deflate; unknown", None),
    ("permessage-deflate; x=y; server_no_context_takeover", None),
    ("x-webkit-deflate-frame", None),
    ("permessage-deflate-x", None),
    (";;;===,,,", None),
    ("permessage-deflate; =", None),
    ("permessage-deflate; client_max_window_bits=\"10", None),
    ("\"permessage-deflate\"", None),
    ("@#$%^&*", None),
]


@pytest.mark.parametrize("offer,answer", NEGOTIATION,
    ids=range(len(NEGOTIATION)))
def test_negotiation(zd, offer, answer):
    c, resp = connect_deflate(zd.port, offer)
    with c:
        assert resp.header_all("sec-websocket-extensions") == (
            [answer] if answer else [])
        # The connection works either way; compressed only when agreed.
        msg = pattern(1000)
        if answer:
            m = re.search(r"client_max_window_bits=(\d+)", answer)
            send_compressed(c, OP_BINARY, msg,
                compressor(int(m.group(1)) if m else 15))
        else:
            c.send_frame(OP_BINARY, msg)
        snct = answer is not None and "server_no_context_takeover" in answer
        op, compressed, got = read_message_inflated(c, Inflater(15, snct))
        assert (op, compressed, got) == (OP_BINARY, bool(answer), msg)
        c.close_handshake(1000)


def test_negotiation_split_header_lines(zd):
    c = harness.WSClient(zd.port)
    with c:
        resp = c.handshake(extra=[
            ("Sec-WebSocket-Extensions", "x-unknown; a=1"),
            ("Sec-WebSocket-Extensions",
                "permessage-deflate; server_max_window_bits=13")])
        assert resp.header_all("sec-websocket-extensions") == [
            "permessage-deflate; server_max_window_bits=13"]


@pytest.mark.parametrize("keys,offer,answer", [
    ({"EnablePermessageDeflate": False}, "permessage-deflate", None),
    ({"PermessageDeflateNoContextTakeover": True}, "permessage-deflate",
        "permessage-deflate; server_no_context_takeover"),
    ({"PermessageDeflateMaxWindowBits": 10},
        "permessage-deflate; server_max_window_bits=12",
        "permessage-deflate; server_max_window_bits=10"),
    ({"PermessageDeflateMaxWindowBits": 10},
        "permessage-deflate; server_max_window_bits=9",
        "permessage-deflate; server_max_window_bits=9"),
    ({"PermessageDeflateMaxWindowBits": 10}, "permessage-deflate",
        "permessage-deflate"),
], ids=["disabled", "nct", "cap-12", "cap-9", "cap-unasked"])
def test_negotiation_config(daemon_factory, keys, offer, answer):
    d = daemon_factory(sections={"websocket": keys})
    c, resp = connect_deflate(d.port, offer)
    with c:
        assert resp.header_all("sec-websocket-extensions") == (
            [answer] if answer else [])
        c.echo(OP_TEXT, "still works")
        c.close_handshake(1000)


# ---------------------------------------------------------------- raw frames

def strict_inflate(data, wbits):
    """Inflates with a window of exactly 2^wbits: output is taken in small
    pieces so that every back-reference must be served from the window
    (a distance beyond it fails with zlib.error)."""
    z = zlib.decompressobj(-wbits)
    out = bytearray()
    buf = data + b"\x00\x00\xff\xff"
    for _ in range(len(buf) * 1100 // 64 + 100):
        out += z.decompress(buf, 64)
        buf = z.unconsumed_tail
        if not buf:
            break
    assert not buf, "strict_inflate did not finish"
    out += z.flush()
    return bytes(out)


@pytest.mark.parametrize("size", [0, 1, 63, 64, 125, 126, 65536, 300000])
@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_raw_compressed_echo(zd, opcode, size):
    payload = pattern(size, size)
    c, _ = connect_deflate(zd.port)
    with c:
        comp = send_compressed(c, opcode, payload)
        if size == 0:
            # An empty message compresses to the single byte 00.
            assert comp == b"\x00"
        op, compressed, got = read_message_inflated(c, Inflater(), 10)
        assert op == opcode
        assert got == payload
        # PermessageDeflateMinSize (64): shorter whole messages go plain.
        assert compressed == (size >= 64)
        c.close_handshake(1000)


def test_raw_min_size_zero(daemon_factory):
    d = daemon_factory(sections={"websocket": {"PermessageDeflateMinSize": 0}})
    c, _ = connect_deflate(d.port)
    with c:
        inf = Inflater()
        for payload in (b"", b"a", b"ab" * 10):
            c.send_frame(OP_BINARY, payload)
            frames = []
            op, compressed, got = read_message_inflated(c, inf,
                frames=frames)
            assert (op, compressed, got) == (OP_BINARY, True, payload)
            if not payload:
                assert frames[0].payload == b"\x00"
        c.close_handshake(1000)


def test_raw_empty_compressed_payload(zd):
    # RSV1 with no payload at all: inflating just 00 00 ff ff is empty.
    c, _ = connect_deflate(zd.port)
    with c:
        c.send_frame(OP_TEXT, b"", rsv=RSV1)
        assert read_message_inflated(c, Inflater()) == (OP_TEXT, False, b"")
        c.echo(OP_BINARY, b"next")
        c.close_handshake(1000)


def test_raw_plain_message_on_deflate_connection(zd):
    c, _ = connect_deflate(zd.port)
    with c:
        inf = Inflater()
        for payload in (b"short", pattern(5000)):
            c.send_frame(OP_BINARY, payload)
            assert read_message_inflated(c, inf)[2] == payload
        c.close_handshake(1000)


@pytest.mark.parametrize("splits", [[0], [1], [1, 1, 2, 2], "every", "end"])
def test_raw_fragmented_compressed(zd, splits):
    payload = pattern(20000, 4)
    n = len(compress_message(payload))
    if splits == "every":
        splits = list(range(1, n))
    elif splits == "end":
        splits = [n, n]
    c, _ = connect_deflate(zd.port)
    with c:
        send_compressed(c, OP_TEXT, payload, splits=splits)
        assert read_message_inflated(c, Inflater(), 10) == (OP_TEXT, True,
            payload)
        c.close_handshake(1000)


def test_raw_ping_inside_compressed_message(zd):
    payload = pattern(5000, 2)
    data = compress_message(payload)
    c, _ = connect_deflate(zd.port)
    with c:
        c.send_frame(OP_BINARY, data[:10], fin=False, rsv=RSV1)
        c.send_ping(b"mid")
        c.send_frame(OP_CONT, data[10:100], fin=False)
        c.send_ping(b"mid2")
        c.send_frame(OP_CONT, data[100:])
        got = read_message_inflated(c, Inflater())
        assert got == (OP_BINARY, True, payload)
        assert c.pongs == [b"mid", b"mid2"]
        c.close_handshake(1000)


def test_raw_client_context_takeover(zd):
    # The same compressor across messages: later messages are mostly
    # back-references into earlier ones, which the server must keep.
    comp = compressor()
    c, _ = connect_deflate(zd.port)
    with c:
        inf = Inflater()
        sizes = []
        for i in range(5):
            payload = pattern(8000, 0)[i:]
            sizes.append(len(send_compressed(c, OP_TEXT, payload, comp)))
            assert read_message_inflated(c, inf)[2] == payload
        assert max(sizes[1:]) < sizes[0] // 4, sizes
        c.close_handshake(1000)


def test_raw_client_bfinal_messages(zd):
    # RFC 7692 7.2.3.3: a sender may end each message with a final block.
    c, _ = connect_deflate(zd.port)
    with c:
        inf = Inflater()
        for i in range(3):
            payload = pattern(3000, i)
            z = zlib.compressobj(6, zlib.DEFLATED, -15)
            data = z.compress(payload) + z.flush(zlib.Z_FINISH)
            c.send_frame(OP_BINARY, data, rsv=RSV1)
            assert read_message_inflated(c, inf)[2] == payload
        c.close_handshake(1000)


@pytest.mark.parametrize("offer,keys,takeover", [
    ("permessage-deflate", {}, True),
    ("permessage-deflate; server_no_context_takeover", {}, False),
    ("permessage-deflate", {"PermessageDeflateNoContextTakeover": True},
        False),
], ids=["takeover", "offered-nct", "config-nct"])
def test_raw_server_context_takeover(daemon_factory, offer, keys, takeover):
    d = daemon_factory(sections={"websocket": keys})
    payload = pattern(8000, 1)
    c, resp = connect_deflate(d.port, offer)
    with c:
        assert ("server_no_context_takeover" in
            resp.header("sec-websocket-extensions")) == (not takeover)
        raw = []
        for _ in range(3):
            c.send_frame(OP_BINARY, payload)
            op, compressed, data = read_message_raw(c)
            assert compressed
            raw.append(data)
        if takeover:
            inf = Inflater()
            assert [inf.message(r) for r in raw] == [payload] * 3
            assert len(raw[1]) < len(raw[0]) // 4
        else:
            # Each message inflates on its own, with an empty window.
            for r in raw:
                assert Inflater().message(r) == payload
            assert raw[1] == raw[0]
        c.close_handshake(1000)


@pytest.mark.parametrize("offer,keys,wbits", [
    ("permessage-deflate; server_max_window_bits=10", {}, 10),
    ("permessage-deflate; server_max_window_bits=9", {}, 9),
    ("permessage-deflate", {"PermessageDeflateMaxWindowBits": 10}, 10),
    ("permessage-deflate", {}, 15),
], ids=["offer-10", "offer-9", "config-10", "default-15"])
def test_raw_server_window_bits(daemon_factory, offer, keys, wbits):
    d = daemon_factory(sections={"websocket": keys})
    # Noise repeated at a distance of 3000 bytes: only a window of at
    # least 4 KiB can refer back to it.
    payload = noise(3000, 11) * 20
    c, _ = connect_deflate(d.port, offer)
    with c:
        c.send_frame(OP_BINARY, payload)
        op, compressed, data = read_message_raw(c)
        assert compressed
        assert strict_inflate(data, wbits) == payload
        if wbits < 12:
            assert len(data) > len(payload) * 9 // 10, len(data)
        else:
            assert len(data) < 6000, len(data)
        c.close_handshake(1000)


def test_raw_client_window_bits_9(zd):
    c, resp = connect_deflate(zd.port,
        "permessage-deflate; client_max_window_bits=9")
    with c:
        assert resp.header("sec-websocket-extensions") == \
            "permessage-deflate; client_max_window_bits=9"
        comp = compressor(9)
        inf = Inflater()
        for i in range(3):
            payload = pattern(50000, i)
            send_compressed(c, OP_TEXT, payload, comp)
            assert read_message_inflated(c, inf)[2] == payload
        c.close_handshake(1000)


def test_raw_plain_between_compressed(zd):
    # A plain message does not touch the inflater's window: the third
    # message still refers back into the first.
    comp = compressor()
    c, _ = connect_deflate(zd.port)
    with c:
        inf = Inflater()
        first = pattern(4000, 2)
        send_compressed(c, OP_BINARY, first, comp)
        assert read_message_inflated(c, inf)[2] == first
        c.send_frame(OP_BINARY, b"plain in between")
        assert read_message_inflated(c, inf)[2] == b"plain in between"
        third = first[::-1] + first
        send_compressed(c, OP_BINARY, third, comp)
        assert read_message_inflated(c, inf)[2] == third
        c.close_handshake(1000)


def test_raw_client_no_context_takeover_is_enforced(zd):
    # With client_no_context_takeover agreed the server starts every
    # message with an empty window, so a message that refers back into
    # the previous one does not inflate.
    comp = compressor()
    c, resp = connect_deflate(zd.port,
        "permessage-deflate; client_no_context_takeover")
    with c:
        assert resp.header("sec-websocket-extensions") == \
            "permessage-deflate; client_no_context_takeover"
        payload = pattern(3000, 5)
        send_compressed(c, OP_BINARY, payload, comp)
        assert read_message_inflated(c, Inflater())[2] == payload
        send_compressed(c, OP_BINARY, payload, comp)
        c.expect_failure(1007, allow_partial=True)


@pytest.mark.parametrize("max_frame", [131072, 1000])
def test_raw_compressed_output_fragmented_at_max_frame_size(daemon_factory,
        max_frame):
    d = daemon_factory(sections={"websocket": {"MaxFrameSize": max_frame}})
    payload = noise(400000, 3)
    c, _ = connect_deflate(d.port)
    with c:
        t = harness.SenderThread(c.sock, build_frame(OP_BINARY, payload))
        t.start()
        frames = []
        got = read_message_inflated(c, Inflater(), 20, frames=frames)
        t.finish()
        assert got == (OP_BINARY, True, payload)
        assert len(frames) >= 400000 // max_frame
        assert all(len(f.payload) <= max_frame for f in frames), \
            max(len(f.payload) for f in frames)
        c.close_handshake(1000)


@pytest.mark.parametrize("keys", [
    {"PermessageDeflateLevel": 9, "PermessageDeflateMemLevel": 9},
    {"PermessageDeflateLevel": 1, "PermessageDeflateMemLevel": 1,
        "PermessageDeflateMaxWindowBits": 9, "PermessageDeflateMinSize": 0},
], ids=["level9", "smallest"])
def test_lib_server_settings(daemon_factory, keys):
    d = daemon_factory(sections={"websocket": keys})
    msgs = ["", "a", pattern(70000).decode(), noise(200000, 4),
        pattern(2 * 100000, 1)[:100000]]

    async def main():
        async with connect(d) as ws:
            assert ws.extensions
            for m in msgs:
                await ws.send(m)
                assert await ws.recv() == m
            return ws.local_address[1]
    port = run(main())
    _, stats = close_stats(d, port)
    # 170 kB of the messages compress well, 200 kB of noise does not.
    plain = sum(len(m) for m in msgs)
    assert int(stats["bytes_out"]) < plain - 100000, stats


@pytest.mark.parametrize("min_size", [1000, 4000])
def test_raw_min_size(daemon_factory, min_size):
    d = daemon_factory(sections={"websocket": {
        "PermessageDeflateMinSize": min_size}})
    c, _ = connect_deflate(d.port)
    with c:
        inf = Inflater()
        for n in (min_size - 1, min_size):
            payload = pattern(n, 6)
            c.send_frame(OP_BINARY, payload)
            got = read_message_inflated(c, inf, 10)
            assert got == (OP_BINARY, n >= min_size, payload)
        c.close_handshake(1000)


# ---------------------------------------------------------------- failures

def test_rsv1_without_negotiation_is_1002(zd):
    c, resp = connect_deflate(zd.port, None)
    with c:
        assert resp.header("sec-websocket-extensions") is None
        c.send_frame(OP_TEXT, compress_message(b"hello hello"), rsv=RSV1)
        c.expect_failure(1002)


def test_rsv1_when_disabled_is_1002(daemon_factory):
    d = daemon_factory(sections={"websocket": {
        "EnablePermessageDeflate": False}})
    c, resp = connect_deflate(d.port)
    with c:
        assert resp.header("sec-websocket-extensions") is None
        c.send_frame(OP_TEXT, compress_message(b"hello hello"), rsv=RSV1)
        c.expect_failure(1002)


def test_rsv1_on_continuation_is_1002(zd):
    data = compress_message(pattern(1000))
    c, _ = connect_deflate(zd.port)
    with c:
        c.send_frame(OP_TEXT, data[:5], fin=False, rsv=RSV1)
        c.send_frame(OP_CONT, data[5:], rsv=RSV1)
        c.expect_failure(1002, allow_partial=True)


def test_rsv1_on_continuation_of_plain_message_is_1002(zd):
    c, _ = connect_deflate(zd.port)
    with c:
        c.send_frame(OP_TEXT, b"plain ", fin=False)
        c.send_frame(OP_CONT, compress_message(b"tail"), rsv=RSV1)
        c.expect_failure(1002, allow_partial=True)


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, harness.OP_CLOSE])
def test_rsv1_on_control_frame_is_1002(zd, opcode):
    c, _ = connect_deflate(zd.port)
    with c:
        payload = harness.close_payload(1000) if opcode == harness.OP_CLOSE \
            else b"ctl"
        c.send_frame(opcode, payload, rsv=RSV1)
        c.expect_failure(1002)


@pytest.mark.parametrize("rsv", [2, 1, RSV1 | 2])
def test_other_rsv_bits_are_1002(zd, rsv):
    c, _ = connect_deflate(zd.port)
    with c:
        c.send_frame(OP_BINARY, compress_message(b"abc"), rsv=rsv)
        c.expect_failure(1002)


@pytest.mark.parametrize("data", [
    b"\xff\xff\xff\xff",		# block type 3 (reserved)
    b"\x00\x05\x00\x00\x00abcde",	# stored block with a bad NLEN
    b"\x04\x00",			# dynamic block, too few codes... then junk
], ids=["btype3", "stored-nlen", "bad-dynamic"])
def test_bad_deflate_is_1007(zd, data):
    c, _ = connect_deflate(zd.port)
    with c:
        c.echo(OP_TEXT, "before")
        c.send_frame(OP_BINARY, data + b"\xff" * 8, rsv=RSV1)
        c.expect_failure(1007, allow_partial=True)


def test_bad_deflate_in_later_fragment_is_1007(zd):
    good = compress_message(pattern(2000))
    c, _ = connect_deflate(zd.port)
    with c:
        c.send_frame(OP_BINARY, good, fin=False, rsv=RSV1)
        c.send_frame(OP_CONT, b"\x07\xff\xff\xff")
        c.expect_failure(1007, allow_partial=True)


def test_compressed_invalid_utf8_is_1007(zd):
    c, _ = connect_deflate(zd.port)
    with c:
        send_compressed(c, OP_TEXT, b"valid start " * 10 + b"\xc3\x28")
        c.expect_failure(1007, allow_partial=True)


def test_compressed_utf8_split_across_frames(zd):
    # A multi-byte character cut by the compressed frame boundary and by
    # the inflater's pieces is still one valid character.
    payload = ("\u00e9\U0001f600" * 20000).encode("utf-8")
    c, _ = connect_deflate(zd.port)
    with c:
        n = len(compress_message(payload))
        send_compressed(c, OP_TEXT, payload, splits=list(range(1, n, 7)))
        assert read_message_inflated(c, Inflater(), 10) == (OP_TEXT, True,
            payload)
        c.close_handshake(1000)


@pytest.fixture
def limited(daemon_factory):
    return daemon_factory(sections={"websocket": {"MaxMessageSize": MIB}})


def test_compressed_exactly_max_message_size(limited):
    c, _ = connect_deflate(limited.port)
    with c:
        payload = pattern(MIB, 8)
        send_compressed(c, OP_BINARY, payload)
        assert read_message_inflated(c, Inflater(), 10)[2] == payload
        send_compressed(c, OP_BINARY, b"\0" * (MIB + 1))
        c.expect_failure(1009, allow_partial=True)


@pytest.mark.parametrize("fragments", [1, 40])
def test_zip_bomb_is_1009_without_memory_growth(limited, fragments):
    bomb = compress_message(b"\0" * (10 * 1000 * 1000))
    assert len(bomb) < 12000
    c, _ = connect_deflate(limited.port)
    with c:
        c.echo(OP_TEXT, "warm up")
        time.sleep(0.1)
        before = vm_hwm_kib(limited.pid)
        step = -(-len(bomb) // fragments)
        frames = bytearray()
        for i in range(fragments):
            part = bomb[i * step:(i + 1) * step]
            frames += build_frame(OP_BINARY if i == 0 else OP_CONT, part,
                fin=i == fragments - 1, rsv=RSV1 if i == 0 else 0)
        t0 = time.monotonic()
        c.send(bytes(frames))
        c.expect_failure(1009, allow_partial=True)
        took = time.monotonic() - t0
        grown = vm_hwm_kib(limited.pid) - before
        assert grown < 8 * 1024, "peak RSS grew by %d KiB" % grown
        assert took < 3.0, "the bomb took %.1fs to refuse" % took
    # The daemon is still serving.
    c2, _ = connect_deflate(limited.port)
    with c2:
        send_compressed(c2, OP_TEXT, "alive")
        assert read_message_inflated(c2, Inflater())[2] == b"alive"
        c2.close_handshake(1000)


def pong_after_data(c, token, timeout=5.0):
    """Pings and reads until the pong; the echo may stream data first."""
    c.send_ping(token)
    deadline = time.monotonic() + timeout
    while True:
        f = c.read_frame(max(0.001, deadline - time.monotonic()))
        if f.opcode == OP_PONG:
            assert f.payload == token
            return
        assert f.opcode in (OP_BINARY, OP_CONT) and not f.fin, repr(f)


def test_many_zip_bombs_memory_bounded(limited):
    # Ten connections each holding a half-inflated bomb message (the
    # final frame never comes) cost no more than their bounded buffers.
    bomb = compress_message(b"\0" * (900 * 1000))
    warm = connect_ws(limited.port)
    warm.echo(OP_TEXT, "warm")
    time.sleep(0.1)
    before = vm_hwm_kib(limited.pid)
    clients = []
    try:
        for _ in range(10):
            c, _ = connect_deflate(limited.port)
            clients.append(c)
            c.send_frame(OP_BINARY, bomb, fin=False, rsv=RSV1)
        for i, c in enumerate(clients):
            pong_after_data(c, b"bomb %d" % i)
        grown = vm_hwm_kib(limited.pid) - before
        assert grown < 12 * 1024, "peak RSS grew by %d KiB" % grown
    finally:
        for c in clients:
            c.close()
        warm.close()
