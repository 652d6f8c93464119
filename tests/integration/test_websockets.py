"""A real client library against the daemon: Debian's python3-websockets.

Debian 12 ships websockets 10.4, which has only the asyncio API (the sync
client came with 11), so every test runs one bounded asyncio coroutine.
"""

import asyncio
import signal

import pytest

websockets = pytest.importorskip("websockets")
from websockets.exceptions import (ConnectionClosed,  # noqa: E402
    InvalidStatusCode)

ROUTES = {
    "echo": {"Path": "/", "Backend": "echo"},
    "chat": {"Path": "/chat", "Backend": "echo",
        "SubProtocols": "chat, superchat"},
    "lines": {"Path": "/lines",
        "Backend": "script:{handlers}/lines_echo.py wsit-websockets"},
    "ok": {"Path": "/ok", "Backend": "script:{handlers}/output.py 0 hello\\n"},
    "fail": {"Path": "/fail",
        "Backend": "script:{handlers}/output.py 3 failing\\n"},
}


def run(coro, timeout=20.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def connect(d, path="/", **kw):
    kw.setdefault("open_timeout", 5)
    kw.setdefault("close_timeout", 2)
    kw.setdefault("max_size", 32 * 1024 * 1024)
    kw.setdefault("compression", None)
    return websockets.connect(d.url(path), **kw)


@pytest.fixture(scope="module")
def lib_daemon(module_daemons):
    return module_daemons(routes=ROUTES, sections={
        "backend": {"KillTimeout": 1},
        "websocket": {"MaxMessageSize": 8 * 1024 * 1024}})


def test_echo_text_and_binary(lib_daemon):
    async def main():
        async with connect(lib_daemon) as ws:
            await ws.send("h\u00e9llo \U0001f600")
            assert await ws.recv() == "h\u00e9llo \U0001f600"
            await ws.send(b"\x00\x01\xfe\xff")
            assert await ws.recv() == b"\x00\x01\xfe\xff"
            await ws.send("")
            assert await ws.recv() == ""
        return ws.close_code
    assert run(main()) == 1000


@pytest.mark.parametrize("size", [125, 126, 65536, 1 << 20, 4 << 20])
def test_large_messages(lib_daemon, size):
    async def main():
        async with connect(lib_daemon) as ws:
            data = bytes(range(256)) * (size // 256)
            await ws.send(data)
            assert await ws.recv() == data
            text = "\u00e9" * (size // 2)
            await ws.send(text)
            assert await ws.recv() == text
    run(main())


def test_fragmented_send(lib_daemon):
    async def main():
        async with connect(lib_daemon) as ws:
            await ws.send(["frag", "mented ", "text"])
            assert await ws.recv() == "fragmented text"
            await ws.send([b"\x01", b"\x02\x03"])
            assert await ws.recv() == b"\x01\x02\x03"
    run(main())


def test_many_messages_in_flight(lib_daemon):
    async def main():
        async with connect(lib_daemon) as ws:
            msgs = ["message %d %s" % (i, "x" * (i * 7 % 4096))
                for i in range(500)]
            for m in msgs:
                await ws.send(m)
            for m in msgs:
                assert await ws.recv() == m
    run(main())


def test_ping(lib_daemon):
    async def main():
        async with connect(lib_daemon) as ws:
            for i in range(5):
                waiter = await ws.ping(b"lib ping %d" % i)
                await asyncio.wait_for(waiter, 2)
    run(main())


@pytest.mark.parametrize("offered,chosen", [
    (["superchat", "chat"], "chat"),
    (["superchat"], "superchat"),
    (None, None),
])
def test_subprotocol(lib_daemon, offered, chosen):
    async def main():
        async with connect(lib_daemon, "/chat", subprotocols=offered) as ws:
            assert ws.subprotocol == chosen
            await ws.send("proto")
            assert await ws.recv() == "proto"
    run(main())


def test_subprotocol_not_supported(lib_daemon):
    # The server answers without the header; the library then proceeds
    # without a subprotocol.
    async def main():
        async with connect(lib_daemon, "/chat", subprotocols=["other"]) as ws:
            assert ws.subprotocol is None
    run(main())


@pytest.mark.parametrize("code", [1000, 1001, 3000, 4999])
def test_client_close_code_echoed(lib_daemon, code):
    async def main():
        ws = await connect(lib_daemon)
        await ws.close(code=code, reason="bye")
        return ws.close_code
    assert run(main()) == code


def test_unknown_path_status(lib_daemon):
    async def main():
        with pytest.raises(InvalidStatusCode) as e:
            await connect(lib_daemon, "/nowhere")
        assert e.value.status_code == 404
    run(main())


def test_lines_handler(lib_daemon):
    async def main():
        async with connect(lib_daemon, "/lines") as ws:
            for m in ["one", "two words", "\u00e9\u00e8"]:
                await ws.send(m)
                assert await ws.recv() == m
    run(main())


def test_handler_exit_0_is_1000(lib_daemon):
    async def main():
        async with connect(lib_daemon, "/ok") as ws:
            assert await ws.recv() == "hello"
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            return ws.close_code
    assert run(main()) == 1000


def test_handler_exit_nonzero_is_1011(lib_daemon):
    async def main():
        async with connect(lib_daemon, "/fail") as ws:
            assert await ws.recv() == "failing"
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            return ws.close_code
    assert run(main()) == 1011


def test_binary_to_lines_handler_is_1003(lib_daemon):
    async def main():
        async with connect(lib_daemon, "/lines") as ws:
            await ws.send(b"\x00binary")
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            return ws.close_code
    assert run(main()) == 1003


def test_message_too_big_is_1009(daemon_factory):
    d = daemon_factory(sections={"websocket": {"MaxMessageSize": 1000}})

    async def main():
        async with connect(d) as ws:
            await ws.send(b"a" * 1000)
            assert await ws.recv() == b"a" * 1000
            await ws.send(b"a" * 1001)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            return ws.close_code
    assert run(main()) == 1009


def test_shutdown_is_1001(daemon_factory):
    d = daemon_factory(sections={"server": {"ShutdownTimeout": 3}})

    async def main():
        async with connect(d) as ws:
            await ws.send("before")
            assert await ws.recv() == "before"
            d.signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            return ws.close_code
    assert run(main()) == 1001
    assert d.wait_exit(5) == 0
