"""No loss: sequence-numbered messages over 1,000 concurrent WebSockets,
through a script handler (one /bin/cat per WebSocket, lines format) and
through a mux backend (handlers/noloss_mux.py, every WebSocket on one
socket), each also while the configuration is reloaded and while the
daemon drains. Every message must come back exactly once and in order,
then the client's close is answered with 1000 and TCP is closed.

The clients are raw asyncio streams (no library between the test and the
bytes), opened at most OPEN_PARALLEL at a time. The test process holds one
descriptor per WebSocket, the daemon one per WebSocket plus three pipes
per handler: 4,000 at most, well under the 20,000 allowed.

Under a sanitizer build (ASan/UBSan) forking 1,000 handlers and moving
40,000 frames can be several times slower: each test times its first 100
WebSockets and, when the whole run would not fit its time budget, uses
fewer connections, never below MIN_CONNS. The number used is printed and
logged by the test (pytest -s shows it).
"""

import asyncio
import os
import signal
import socket
import struct
import subprocess
import time

import pytest

from admin_util import ctl
from harness import (HANDLERS, HOST, OP_CLOSE, OP_TEXT, accept_key,
    build_frame, build_request, handlers_of, close_payload, wait_until)

CONNS = 1000
MIN_CONNS = 200
PROBE = 100
MSGS = 20
OPEN_PARALLEL = 50
# Seconds the opening of all WebSockets may take, as projected from the
# first PROBE; the traffic costs about as much again.
OPEN_BUDGET = 12.0
IO_TIMEOUT = 30.0


class Failure(AssertionError):
    pass


async def ws_open(port, path):
    """A raw WebSocket: (reader, writer) after a checked 101."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(HOST, port), IO_TIMEOUT)
    req, key = build_request(path, port=port)
    writer.write(req)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IO_TIMEOUT)
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 101"):
        writer.close()
        raise Failure("handshake answered %r" % lines[0])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("sec-websocket-accept") != accept_key(key):
        writer.close()
        raise Failure("bad Sec-WebSocket-Accept")
    return reader, writer


async def read_frame(reader):
    """(fin, opcode, payload) of one unmasked server frame."""
    b0, b1 = await reader.readexactly(2)
    if b1 & 0x80:
        raise Failure("server frame is masked")
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    payload = await reader.readexactly(n) if n else b""
    return bool(b0 & 0x80), b0 & 0x0F, payload


class Run:
    """One load run: n WebSockets, MSGS messages each, ping-pong."""

    def __init__(self, port, path, conns):
        self.port = port
        self.path = path
        self.conns = conns
        self.received = 0		# messages back, all connections
        self.closed_1000 = 0
        self.errors = []
        self.total = 0
        self.event_at = None		# self.received when the event was done
        self.opened = 0
        self.probe_seconds = None

    async def one(self, i, reader, writer, go):
        await go.wait()
        for k in range(MSGS):
            msg = ("c%d m%d seq" % (i, k)).encode()
            writer.write(build_frame(OP_TEXT, msg))
            fin, op, payload = await asyncio.wait_for(read_frame(reader),
                IO_TIMEOUT)
            if op == OP_CLOSE:
                raise Failure("conn %d: close %r instead of message %d" %
                    (i, payload[:40], k))
            if (fin, op, payload) != (True, OP_TEXT, msg):
                raise Failure("conn %d: message %d is %r %r, expected %r" %
                    (i, k, op, payload[:60], msg))
            self.received += 1
        writer.write(build_frame(OP_CLOSE, close_payload(1000)))
        fin, op, payload = await asyncio.wait_for(read_frame(reader),
            IO_TIMEOUT)
        if op != OP_CLOSE:
            raise Failure("conn %d: extra frame %r %r after message %d" %
                (i, op, payload[:60], MSGS - 1))
        if payload[:2] != struct.pack("!H", 1000):
            raise Failure("conn %d: close %r, expected 1000" % (i, payload))
        rest = await asyncio.wait_for(reader.read(), IO_TIMEOUT)
        if rest != b"":
            raise Failure("conn %d: bytes after close: %r" % (i, rest[:60]))
        self.closed_1000 += 1
        writer.close()

    async def open_all(self, n, out):
        """Opens n more WebSockets into out {index: (reader, writer)}."""
        sem = asyncio.Semaphore(OPEN_PARALLEL)
        first = len(out)

        async def opener(i):
            async with sem:
                out[i] = await ws_open(self.port, self.path)
                self.opened += 1

        await asyncio.gather(*(opener(i) for i in range(first, first + n)))

    async def main(self, event):
        pairs = {}
        t0 = time.monotonic()
        await self.open_all(PROBE, pairs)
        self.probe_seconds = time.monotonic() - t0
        per = self.probe_seconds / PROBE
        n = self.conns
        if per * self.conns > OPEN_BUDGET:
            n = max(MIN_CONNS, min(self.conns, int(OPEN_BUDGET / per)))
        self.conns = n
        await self.open_all(n - PROBE, pairs)
        self.total = n * MSGS
        go = asyncio.Event()
        tasks = [asyncio.ensure_future(self.one(i, r, w, go))
            for i, (r, w) in pairs.items()]
        go.set()
        if event is not None:
            loop = asyncio.get_running_loop()
            deadline = time.monotonic() + IO_TIMEOUT
            while self.received < self.total * 0.3:
                if time.monotonic() > deadline or all(t.done()
                        for t in tasks):
                    break
                await asyncio.sleep(0.005)
            await loop.run_in_executor(None, event)
            self.event_at = self.received
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for i, r in enumerate(results):
            if isinstance(r, BaseException):
                self.errors.append("conn %d: %r" % (i, r))
        for _, w in pairs.values():
            w.close()


def run_load(d, path, event=None, timeout=90.0):
    """Runs the load against d; returns the Run after checking it."""
    run = Run(d.port, path, CONNS)
    t0 = time.monotonic()
    asyncio.run(asyncio.wait_for(run.main(event), timeout))
    elapsed = time.monotonic() - t0
    print("noloss %s: %d WebSockets x %d messages, %d back, %d closed 1000, "
        "first %d opened in %.2fs, run %.1fs, event at %r" % (path,
        run.conns, MSGS, run.received, run.closed_1000, PROBE,
        run.probe_seconds, elapsed, run.event_at))
    assert run.errors == [], "%d failures, first: %s" % (len(run.errors),
        run.errors[:5])
    assert run.conns >= MIN_CONNS
    assert run.received == run.total == run.conns * MSGS
    assert run.closed_1000 == run.conns
    if event is not None:
        # The event happened with traffic still to come.
        assert run.event_at is not None and run.event_at < run.total, \
            (run.event_at, run.total)
    return run


def close_lines(d, start, code=1000):
    """How many WebSockets were logged closed since start, and how many
    with code (by the client, which closed each one)."""
    lines = d.lines[start:]
    closes = [ln for ln in lines if " close code=" in ln]
    good = [ln for ln in closes if " close code=%d by=client " % code in ln]
    return len(closes), len(good)


def assert_all_logged(d, start, n):
    """Every WebSocket's close line, once, as a client close 1000, with
    msgs_in == msgs_out == MSGS."""
    assert wait_until(lambda: close_lines(d, start)[0] >= n, 20.0), \
        close_lines(d, start)
    total, good = close_lines(d, start)
    assert (total, good) == (n, n)
    counts = [ln for ln in d.lines[start:] if " close code=" in ln and
        " msgs_in=%d msgs_out=%d " % (MSGS, MSGS) in ln]
    assert len(counts) == n


def no_children(d):
    return handlers_of(d.pid) == []


# ---------------------------------------------------------------- fixtures

SECTIONS = {
    "server": {"MaxConnections": CONNS + 200, "ConnectionBacklog": 1024,
        "ShutdownTimeout": 10},
    "backend": {"KillTimeout": 2},
}


def script_daemon(daemon_factory):
    return daemon_factory(sections=SECTIONS, routes={
        "cat": {"Path": "/cat", "Backend": "script:/bin/cat",
            "MessageFormat": "lines"}})


class MuxBackend:
    def __init__(self, tmp_path):
        self.sock = str(tmp_path / "noloss.sock")
        self.stats = str(tmp_path / "noloss.stats")
        self.proc = subprocess.Popen([os.path.join(HANDLERS,
            "noloss_mux.py"), self.sock, self.stats],
            stdin=subprocess.DEVNULL)
        assert wait_until(lambda: os.path.exists(self.sock), 10.0)

    def counts(self):
        try:
            with open(self.stats) as f:
                w = f.read().split()
        except FileNotFoundError:
            return {}
        return {w[i]: int(w[i + 1]) for i in range(0, len(w) - 1, 2)}

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def mux_backend(tmp_path):
    b = MuxBackend(tmp_path)
    yield b
    b.stop()


def mux_daemon(daemon_factory, backend):
    return daemon_factory(sections=SECTIONS, routes={
        "mux": {"Path": "/mux", "Backend": "unix+mux:%s" % backend.sock}})


def check_mux_counts(b, run):
    """The backend saw every WebSocket open and close, and echoed each
    message once."""
    want = {"messages": run.total, "opens": run.conns,
        "closes": run.conns}

    def done():
        c = b.counts()
        return all(c.get(k, -1) >= v for k, v in want.items())
    wait_until(done, 10.0)
    got = b.counts()
    assert {k: got.get(k) for k in want} == want


# ---------------------------------------------------------------- events

def reload_event(d):
    """Returns an event that reloads with a changed route list."""
    def event():
        with open(d.ini, "a") as f:
            f.write("\n[route:added]\nPath = /added\nBackend = echo\n")
        r = ctl("-s", d.admin_socket, "reload")
        assert r.returncode == 0, r.stdout + r.stderr
    return event


def sighup_event(d):
    def event():
        with open(d.ini, "a") as f:
            f.write("\n[route:added]\nPath = /added\nBackend = echo\n")
        os.kill(d.pid, signal.SIGHUP)
    return event


def drain_event(d):
    def event():
        r = ctl("-s", d.admin_socket, "drain", "60")
        assert r.returncode == 0, r.stdout + r.stderr
    return event


def check_reloaded(d, start):
    d.wait_log(r"configuration reloaded from .* \(2 route\(s\)\)",
        start=start, timeout=10.0)


def check_drained(d, start):
    d.wait_log(r"draining: \d+ connection\(s\) have 60 second\(s\)",
        start=start)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, d.port), 2.0).close()
    # Everyone left on their own, before the drain period ended.
    assert d.find_log(r"drain period over", start=start) is None


# ---------------------------------------------------------------- tests

def test_script_no_loss(daemon_factory):
    d = script_daemon(daemon_factory)
    start = d.mark()
    run = run_load(d, "/cat")
    assert_all_logged(d, start, run.conns)
    assert wait_until(lambda: no_children(d), 20.0), handlers_of(d.pid)


def test_script_no_loss_during_reload(daemon_factory):
    d = script_daemon(daemon_factory)
    start = d.mark()
    run = run_load(d, "/cat", reload_event(d))
    check_reloaded(d, start)
    assert_all_logged(d, start, run.conns)
    assert wait_until(lambda: no_children(d), 20.0), handlers_of(d.pid)


def test_script_no_loss_during_drain(daemon_factory):
    d = script_daemon(daemon_factory)
    start = d.mark()
    run = run_load(d, "/cat", drain_event(d))
    check_drained(d, start)
    assert_all_logged(d, start, run.conns)
    assert wait_until(lambda: no_children(d), 20.0), handlers_of(d.pid)


def test_mux_no_loss(daemon_factory, mux_backend):
    d = mux_daemon(daemon_factory, mux_backend)
    start = d.mark()
    run = run_load(d, "/mux")
    assert_all_logged(d, start, run.conns)
    check_mux_counts(mux_backend, run)


def test_mux_no_loss_during_sighup(daemon_factory, mux_backend):
    d = mux_daemon(daemon_factory, mux_backend)
    start = d.mark()
    run = run_load(d, "/mux", sighup_event(d))
    check_reloaded(d, start)
    assert_all_logged(d, start, run.conns)
    check_mux_counts(mux_backend, run)
    # One channel all along: the reload did not reconnect it.
    assert d.find_log(r"mux backend .* lost", start=start) is None


def test_mux_no_loss_during_drain(daemon_factory, mux_backend):
    d = mux_daemon(daemon_factory, mux_backend)
    start = d.mark()
    run = run_load(d, "/mux", drain_event(d))
    check_drained(d, start)
    assert_all_logged(d, start, run.conns)
    check_mux_counts(mux_backend, run)
