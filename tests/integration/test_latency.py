"""Latency with the default settings: no 40 ms stalls (Nagle + delayed ACK).

Two small writes close together, the second sent while the first is not
yet acknowledged, are what Nagle's algorithm holds until the client's
delayed ACK (40 ms on Linux). wsserverd turns TCP_NODELAY on by default,
and on the TLS path puts a message in one write (one record), so a real
client sees neither stall: a script's two lines 2 ms apart arrive about
2 ms apart, and a wss:// echo of a 1 KB..16 KB message comes back in well
under a millisecond on loopback. The bounds are medians of several
trials, far from the 40 ms a stall costs and far above what a loaded
machine adds.
"""

import asyncio
import statistics
import time

import pytest

import tls_util

# Alone (run.sh's serial run): latency medians are measured.
pytestmark = pytest.mark.serial

websockets = pytest.importorskip("websockets")

TRIALS = 11
# A stall costs >= 40 ms (the delayed ACK timer); a loaded machine adds a
# few ms of scheduling at most to a median.
BOUND = 0.025

ROUTES = {
    "echo": {"Path": "/", "Backend": "echo"},
    "two": {"Path": "/two", "Backend": "script:{handlers}/two_lines.py"},
}


def run(coro, timeout=60.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.fixture(scope="module")
def pki():
    p = tls_util.Pki()
    yield p
    p.cleanup()


def url(d, scheme, path):
    return "%s://%s:%d%s" % (scheme, "localhost" if scheme == "wss" else
        "127.0.0.1", d.port, path)


async def two_line_gaps(uri, ctx):
    """Per trial: the time between the handler's first and second line."""
    gaps = []
    async with websockets.connect(uri, ssl=ctx, compression=None,
            open_timeout=10, close_timeout=2) as ws:
        for _ in range(TRIALS):
            await ws.send("go")
            assert await ws.recv() == "first"
            t0 = time.monotonic()
            assert await ws.recv() == "second"
            gaps.append(time.monotonic() - t0)
    return gaps


async def echo_times(uri, ctx, size):
    """Per trial: the round trip of one text message of size bytes."""
    times = []
    msg = "x" * size
    async with websockets.connect(uri, ssl=ctx, compression=None,
            open_timeout=10, close_timeout=2, max_size=1 << 20) as ws:
        for _ in range(TRIALS):
            t0 = time.monotonic()
            await ws.send(msg)
            assert await ws.recv() == msg
            times.append(time.monotonic() - t0)
    return times


def sections(pki=None, **server):
    s = {"backend": {"KillTimeout": 1}}
    if server:
        s["server"] = server
    if pki is not None:
        s["ssl"] = {"UseSSL": True, "SSLCert": pki.path("server.pem")}
    return s


@pytest.mark.parametrize("tls", [False, True], ids=["ws", "wss"])
def test_script_lines_not_held_by_nagle(daemon_factory, pki, tls):
    d = daemon_factory(routes=ROUTES, sections=sections(pki if tls else None))
    ctx = pki.client_context() if tls else None
    gaps = run(two_line_gaps(url(d, "wss" if tls else "ws", "/two"), ctx))
    assert statistics.median(gaps) < BOUND, \
        "second line came %s s after the first" % sorted(gaps)


@pytest.mark.parametrize("size", [1024, 4096, 16000])
def test_wss_echo_not_held_by_nagle(daemon_factory, pki, size):
    d = daemon_factory(routes=ROUTES, sections=sections(pki))
    times = run(echo_times(url(d, "wss", "/"), pki.client_context(), size))
    assert statistics.median(times) < BOUND, \
        "round trips of %d bytes: %s s" % (size, sorted(times))


@pytest.mark.parametrize("size", [1024, 16000])
def test_wss_message_is_one_write_even_with_nagle(daemon_factory, pki,
        size):
    """TcpNoDelay = False is honoured, and still a message up to one TLS
    record goes out in one write, so nothing waits for a delayed ACK."""
    d = daemon_factory(routes=ROUTES,
        sections=sections(pki, TcpNoDelay=False))
    times = run(echo_times(url(d, "wss", "/"), pki.client_context(), size))
    assert statistics.median(times) < BOUND, \
        "round trips of %d bytes: %s s" % (size, sorted(times))
