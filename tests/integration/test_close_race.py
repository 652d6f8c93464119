"""Every client close is answered: "burst of echoes, then close", many times.

An outside conformance run once saw a client's close frame go unanswered
after 1,000 compressed 16-byte echoes (permessage-deflate with
client_max_window_bits=9). These tests repeat the patterns around it,
plain and compressed, and assert that every close is answered (the
close frame back, then TCP closed) within a second of the moment the
answer could come:

- echoes one at a time, then close (that conformance case's pattern);
- a pipelined burst of echoes read back, then close;
- a burst and the close in one write, read afterwards: the close waits
  behind the echoes in the daemon's input and its answer behind them in
  the output;
- a burst big enough to stop the daemon reading at its output high mark
  (the client reads nothing), the close sent behind it, then reading:
  the close is found in input left buffered while reading was paused;
- python3-websockets with compression and client_max_window_bits=9,
  closing after a burst (close_timeout 1 s).

They run in the parallel group, so CI's loaded run (stress-ng on every
CPU) runs them on a busy machine; nothing here depends on speed except
the one-second bound on each answer.
"""

import asyncio
import os
import socket
import time

import pytest

import harness
from admin_util import admin
from harness import OP_BINARY, OP_CLOSE, OP_TEXT
from interop_util import (RSV1, Inflater, compress_message, compressor,
    connect_deflate, read_message_inflated)

websockets = pytest.importorskip("websockets")
from websockets.extensions.permessage_deflate import (  # noqa: E402
    ClientPerMessageDeflateFactory)

ANSWER_S = 1.0			# the bound on every close answer
# The conformance case: 16-byte messages, window of 2^9 for the client's
# compressor, the server asked for no context takeover of its own.
OFFER = ("permessage-deflate; client_max_window_bits=9; "
    "server_no_context_takeover")
ROUNDS = 30			# connections per test (bounded, ~1-3 s idle)
MIB = 1 << 20


@pytest.fixture(scope="module")
def cd(module_daemons):
    """An echo daemon that compresses even 16-byte echoes."""
    return module_daemons(sections={"websocket": {
        "PermessageDeflateMinSize": 1, "MaxMessageSize": 4 * MIB}})


def message(i, n=16):
    """A 16-byte (by default) text payload, different each time."""
    return (b"%08d" % i + b"abcdefghijklmnop" * (n // 16 + 1))[:n]


class Peer:
    """One raw connection, plain or compressed, that sends echo requests
    and checks the echoes."""

    def __init__(self, port, deflate):
        self.deflate = deflate
        if deflate:
            self.c, resp = connect_deflate(port, OFFER)
            ext = resp.header("sec-websocket-extensions") or ""
            assert "permessage-deflate" in ext, ext
            assert "client_max_window_bits=9" in ext, ext
            assert "server_no_context_takeover" in ext, ext
            self.comp = compressor(wbits=9)
            self.inflater = Inflater(wbits=15, no_context_takeover=True)
        else:
            self.c = harness.connect_ws(port)

    def frame(self, payload):
        """One masked text frame carrying payload (compressed if agreed)."""
        if self.deflate:
            return harness.build_frame(OP_TEXT, compress_message(payload,
                self.comp), rsv=RSV1)
        return harness.build_frame(OP_TEXT, payload)

    def read_echo(self, want, timeout=10.0):
        if self.deflate:
            op, compressed, got = read_message_inflated(self.c, self.inflater,
                timeout)
            assert compressed, "echo of %d bytes not compressed" % len(want)
        else:
            op, got = self.c.read_message(timeout)
        assert op == OP_TEXT and got == want, (op, got[:40], want[:40])

    def close_answered(self, since=None):
        """Reads the answer to our close (1000) and the TCP close; asserts
        both came within ANSWER_S of since (default: now). Returns the
        time the answer took."""
        t0 = time.monotonic() if since is None else since
        try:
            f = self.c.read_frame(timeout=max(0.001, t0 + ANSWER_S -
                time.monotonic()))
        except socket.timeout:
            raise AssertionError("close not answered within %.1f s" %
                ANSWER_S)
        took = time.monotonic() - t0
        assert f.opcode == OP_CLOSE, "expected the close answer, got %r" % f
        assert f.close_code() == 1000, f
        self.c.assert_closed(max(0.05, t0 + ANSWER_S - time.monotonic()))
        assert took <= ANSWER_S, "close answered after %.2f s" % took
        return took

    def close(self):
        self.c.close()


def both(fn):
    return pytest.mark.parametrize("deflate", [False, True],
        ids=["plain", "deflate"])(fn)


@both
def test_echoes_one_at_a_time_then_close(cd, deflate):
    # The conformance case: 1,000 echoes, each awaited, then close; the
    # other rounds are shorter so that the test stays a few seconds long.
    for r in range(ROUNDS // 3):
        p = Peer(cd.port, deflate)
        try:
            for i in range(1000 if r == 0 else 50):
                m = message(i)
                p.c.send(p.frame(m))
                p.read_echo(m)
            p.c.send_close(1000)
            p.close_answered()
        finally:
            p.close()


@both
def test_burst_read_back_then_close(cd, deflate):
    for r in range(ROUNDS):
        p = Peer(cd.port, deflate)
        try:
            n = (1, 16, 100, 1000)[r % 4]
            msgs = [message(r * 10000 + i) for i in range(n)]
            p.c.send(b"".join(p.frame(m) for m in msgs))
            for m in msgs:
                p.read_echo(m)
            p.c.send_close(1000)
            p.close_answered()
        finally:
            p.close()


@both
def test_burst_and_close_in_one_write(cd, deflate):
    for r in range(ROUNDS):
        p = Peer(cd.port, deflate)
        try:
            n = (1, 16, 100, 1000)[r % 4]
            msgs = [message(r * 10000 + i) for i in range(n)]
            p.c.send(b"".join(p.frame(m) for m in msgs) +
                harness.build_frame(OP_CLOSE, harness.close_payload(1000)))
            for m in msgs:
                p.read_echo(m)
            # Everything before it has arrived: the answer is next.
            p.close_answered()
        finally:
            p.close()


@both
def test_close_behind_output_high_mark(daemon_factory, deflate):
    # 64 messages of 64 KiB whose echoes pass the 1 MiB output high mark
    # while the client reads nothing (a small send buffer, OutBufferSize,
    # so that the kernel holds little of it): the daemon stops reading, and
    # the close
    # waits in its input, or in the socket, until the client reads.
    d = daemon_factory(sections={"server": {"OutBufferSize": 4096},
        "websocket": {"PermessageDeflateMinSize": 1,
            "MaxMessageSize": 4 * MIB}})
    size = 64 * 1024
    for r in range(ROUNDS // 6):
        p = Peer(d.port, deflate)
        try:
            # Noise: compressed echoes must be big on the wire too.
            msgs = [os.urandom(size // 2).hex().encode() for _ in range(64)]
            data = b"".join(p.frame(m) for m in msgs) + harness.build_frame(
                OP_CLOSE, harness.close_payload(1000))
            sender = harness.SenderThread(p.c.sock, data, timeout=30.0)
            sender.start()
            # The daemon runs into its high mark before the client reads:
            # its output is full (ReadyToSend false).
            with admin(d) as a:
                assert harness.wait_until(lambda: any(not e["ReadyToSend"]
                    for e in a.cmd("connections json").json()), 10.0), \
                    "the output high mark was not reached"
            for m in msgs:
                p.read_echo(m, timeout=30.0)
            sender.finish(30.0)
            p.close_answered()
        finally:
            p.close()


def test_websockets_deflate_window_9_closes(cd):
    # An independent client: python3-websockets with compression, asking
    # for a 2^9 window on its side; its close waits close_timeout (1 s)
    # for our answer and the TCP close, and says so in close_code.
    async def one(r):
        ext = [ClientPerMessageDeflateFactory(client_max_window_bits=9,
            server_no_context_takeover=True)]
        async with websockets.connect(cd.url("/"), extensions=ext,
                open_timeout=10, close_timeout=ANSWER_S,
                compression=None) as ws:
            n = (16, 100, 1000)[r % 3]
            for i in range(n):
                await ws.send(message(r * 10000 + i).decode())
            for i in range(n):
                got = await asyncio.wait_for(ws.recv(), 10)
                assert got == message(r * 10000 + i).decode()
            t0 = time.monotonic()
            await ws.close()
            took = time.monotonic() - t0
            # 1006 (no close frame) if our answer did not come in time.
            assert ws.close_code == 1000, ws.close_code
            assert took <= ANSWER_S + 0.5, took
            return ws

    async def main():
        for r in range(ROUNDS // 2):
            ws = await one(r)
            assert ws.extensions and \
                ws.extensions[0].name == "permessage-deflate"
    asyncio.run(asyncio.wait_for(main(), 120))

