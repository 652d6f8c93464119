"""test_liveness.py - PingInterval, PingTimeout and IdleTimeout (global, per
route, per connection, at run time), the reference's Ping event at the
backends (mux ping/pong, framed I/O) and in watch with the round trip, and
ConnectionRequest refusals in watch.

Clients are raw sockets (harness.WSClient), which answer pings only when
told to, and python3-websockets, which answers them by itself."""

import asyncio
import os
import re
import socket
import subprocess
import time

import pytest

import harness
from admin_util import admin, conn_id
from harness import (OP_PING, OP_PONG, OP_TEXT, assert_silent,
    connect_ws)

MUX = os.path.join(harness.HANDLERS, "mux_backend.py")


def read_ping(c, timeout=5.0):
    """The next frame, which must be a ping from the server; its payload."""
    f = c.read_frame(timeout)
    assert f.opcode == OP_PING, "expected a ping, got %r" % f
    return f.payload


def next_answering_pings(c, timeout):
    """The next frame that is not a ping; pings meanwhile are answered."""
    while True:
        f = c.read_frame(timeout)
        if f.opcode != OP_PING:
            return f
        c.send_frame(OP_PONG, f.payload)


class Watch:
    """A watch client of the admin socket: its event lines."""

    def __init__(self, d):
        self.a = admin(d)
        assert self.a.cmd("watch").ok

    def wait(self, pattern, timeout=8.0):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            line = self.a.read_line(max(0.01, deadline - time.monotonic()))
            if rx.search(line):
                return line

    def close(self):
        self.a.close()


# ---------------------------------------------------------------- pings

def test_ping_interval_pings_a_quiet_websocket(daemon_factory):
    d = daemon_factory(sections={"websocket": {"PingInterval": 1,
        "PingTimeout": 0}})
    c = connect_ws(d.port)
    t0 = time.monotonic()
    assert read_ping(c, 5.0) == b""
    assert time.monotonic() - t0 >= 0.4
    # Unanswered, with PingTimeout 0: pings go on, one an interval.
    for _ in range(2):
        assert read_ping(c, 5.0) == b""
    c.send_frame(OP_PONG, b"")
    assert read_ping(c, 5.0) == b""
    c.echo(OP_TEXT, "still open")
    c.close_handshake(1000)


def test_busy_websocket_gets_no_ping(daemon_factory):
    """Traffic both ways (an echo every 0.3 s) is liveness enough."""
    d = daemon_factory(sections={"websocket": {"PingInterval": 1}})
    c = connect_ws(d.port)
    end = time.monotonic() + 3.5
    while time.monotonic() < end:
        c.echo(OP_TEXT, "tick")      # a ping in between would fail this
        time.sleep(0.3)
    c.close_handshake(1000)


def test_ping_timeout_drops_a_silent_client(daemon_factory):
    d = daemon_factory(sections={"websocket": {"PingInterval": 1,
        "PingTimeout": 2}})
    w = Watch(d)
    try:
        start = d.mark()
        c = connect_ws(d.port)
        cid = d.wait_log(r"INFO (\d+) open ", start=start).group(1)
        assert read_ping(c, 5.0) == b""
        t0 = time.monotonic()
        # No pong: the daemon ends the connection without a close frame.
        c.assert_closed(8.0)
        assert time.monotonic() - t0 >= 1.5
        d.wait_log(r"INFO %s ping timeout: no pong within 2 s "
            r"\(PingTimeout\)$" % cid, start=start)
        d.wait_log(r'INFO %s close code=1006 by=server reason="ping '
            r'timeout: no pong within 2 s"' % cid, start=start)
        w.wait(r'^Disconnected %s code=1006 by=server reason="ping timeout'
            % cid)
    finally:
        w.close()


def test_paused_connection_is_not_held_to_ping_or_idle(daemon_factory):
    """While the client is not read through no fault of its own (the
    admin's pause, a backend that is behind), its pongs wait unread: no
    ping timeout, no idle timeout."""
    d = daemon_factory(sections={"websocket": {"PingInterval": 1,
        "PingTimeout": 1, "IdleTimeout": 2}})
    with admin(d) as a:
        c = connect_ws(d.port)
        cid = conn_id(a, c)
        assert a.cmd("pause %s" % cid).ok
        time.sleep(4.0)
        assert a.cmd("resume %s" % cid).ok
    # Maybe a ping that went before the pause: answered now.
    c.send_text("back")
    f = next_answering_pings(c, 5.0)
    assert (f.opcode, f.payload) == (OP_TEXT, b"back")
    c.close_handshake(1000)
    assert d.find_log("ping timeout") is None
    assert d.find_log("idle timeout") is None


def test_websockets_client_stays_through_pings(daemon_factory):
    """A real client answers the pings by itself: 4 s of PingInterval 1
    and PingTimeout 1 do not end it."""
    import websockets.client

    d = daemon_factory(sections={"websocket": {"PingInterval": 1,
        "PingTimeout": 1}})

    async def run():
        async with websockets.client.connect(d.url("/"),
                ping_interval=None) as ws:
            await asyncio.sleep(4.0)
            await ws.send("alive")
            assert await asyncio.wait_for(ws.recv(), 5) == "alive"

    asyncio.run(run())
    assert d.find_log("ping timeout") is None
    with admin(d) as a:
        assert a.cmd("stats json").json()["closed"]["total"] >= 1


def test_idle_timeout_closes_with_1001(daemon_factory):
    d = daemon_factory(sections={"websocket": {"PingInterval": 1,
        "PingTimeout": 0, "IdleTimeout": 2}})
    start = d.mark()
    c = connect_ws(d.port)
    # Messages keep it: one a second for 3 s.
    for _ in range(3):
        c.echo(OP_TEXT, "busy")
        time.sleep(0.9)
    # Then only pings (answered): they do not count.
    t0 = time.monotonic()
    f = next_answering_pings(c, 6.0)
    assert time.monotonic() - t0 >= 1.0
    assert f.opcode == harness.OP_CLOSE and f.close_code() == 1001
    assert f.payload[2:] == b"idle timeout"
    c.reply_close(1001)
    c.assert_closed(2.0)
    d.wait_log(r"idle timeout: no message either way for 2 s "
        r"\(IdleTimeout\)$", start=start)


def test_per_route_values(daemon_factory):
    d = daemon_factory(sections={"websocket": {"PingInterval": 1}},
        routes={"quiet": {"Path": "/quiet", "Backend": "echo",
                          "PingInterval": 0},
                "idle": {"Path": "/idle", "Backend": "echo",
                         "PingInterval": -1, "IdleTimeout": 1},
                "echo": {"Path": "/", "Backend": "echo"}})
    quiet = connect_ws(d.port, "/quiet")
    idle = connect_ws(d.port, "/idle")
    other = connect_ws(d.port, "/")
    assert read_ping(other, 5.0) == b""
    # The idle route closes after a second or two without messages.
    f = next_answering_pings(idle, 6.0)
    assert f.opcode == harness.OP_CLOSE and f.close_code() == 1001
    # PingInterval 0 on its route: no ping in 2.5 s.
    assert_silent(quiet, 2.5)
    quiet.close_handshake(1000)


def test_config_at_run_time_and_per_connection(daemon_factory):
    d = daemon_factory(sections={"websocket": {"PingInterval": 0}})
    with admin(d) as a:
        c = connect_ws(d.port)
        c2 = connect_ws(d.port)
        cid, cid2 = conn_id(a, c), conn_id(a, c2)
        assert_silent(c, 1.5)
        r = a.cmd("config %s" % cid)
        assert r.ok and "PingInterval = 0" in r.lines
        assert "IdleTimeout = 0" in r.lines and "MessageLength = 0" in \
            r.lines
        # One connection's own value.
        r = a.cmd("config %s PingInterval=1" % cid)
        assert r.ok and r.lines == ["PingInterval = 1"]
        assert read_ping(c, 5.0) == b""
        assert_silent(c2, 1.5)
        # The global value, at run time, reaches the other one.
        assert a.cmd("config PingInterval=1").lines == ["PingInterval = 1"]
        assert read_ping(c2, 5.0) == b""
        # Its own value wins over the global one.
        assert a.cmd("config %s PingInterval=0" % cid2).ok
        assert a.cmd("config %s pinginterval" % cid2).lines == [
            "PingInterval = 0"]
        c2.buf.clear()
        assert_silent(c2, 2.5)
        for line, code in (("config %s PingInterval=-1" % cid, 405),
                ("config %s PingInterval=86401" % cid, 405),
                ("config %s PingTimeout=x" % cid, 405),
                ("config %s ReadyToSend=0" % cid, 423),
                ("config %s Nope=1" % cid, 404),
                ("config %s MessageLength=99999999999" % cid, 405),
                ("config 999999 PingInterval=1", 126)):
            r = a.cmd(line)
            assert r.code == code, (line, r)
        assert a.cmd("config %s ReadyToSend" % cid).lines == [
            "ReadyToSend = 1"]
        # An IdleTimeout of its own.
        assert a.cmd("config %s IdleTimeout=1" % cid2).ok
        f = c2.expect_close(1001, timeout=5.0)
        assert f.payload[2:] == b"idle timeout"
        c2.reply_close(1001)
        c.send_frame(OP_PONG, b"")
        c.close_handshake(1000)


def test_config_connection_with_workers(daemon_factory):
    """config ID goes to the worker that owns the connection."""
    d = daemon_factory(sections={"server": {"Workers": 2},
        "websocket": {"PingInterval": 0}})
    with admin(d) as a:
        cs = [connect_ws(d.port) for _ in range(4)]
        for c in cs:
            cid = conn_id(a, c)
            r = a.cmd("config %s IdleTimeout=1" % cid)
            assert r.ok and r.lines == ["IdleTimeout = 1"], r
            assert a.cmd("config %s IdleTimeout" % cid).lines == [
                "IdleTimeout = 1"]
        for c in cs:
            c.expect_close(1001, timeout=5.0)
            c.reply_close(1001)
        # The master's own configuration did not change.
        assert a.cmd("config IdleTimeout").lines == ["IdleTimeout = 0"]


# ---------------------------------------------------------------- Ping event

def test_watch_shows_pings_with_round_trip(daemon_factory):
    d = daemon_factory(sections={"websocket": {"PingInterval": 1,
        "PingTimeout": 0}})
    w = Watch(d)
    try:
        c = connect_ws(d.port)
        with admin(d) as a:
            cid = conn_id(a, c)
        c.send_ping(b"abc")
        f = c.read_frame()
        assert (f.opcode, f.payload) == (OP_PONG, b"abc")
        w.wait(r'^Ping %s response=false len=3 payload="abc"$' % cid)
        payload = read_ping(c, 5.0)
        c.send_frame(OP_PONG, payload)
        line = w.wait(r"^Ping %s response=true len=0 " % cid)
        m = re.search(r"rtt=(\d+)\.(\d{3})ms", line)
        assert m and float(m.group(1) + "." + m.group(2)) < 5000, line
        # An unasked pong: no round trip.
        c.send_frame(OP_PONG, b"free")
        w.wait(r'^Ping %s response=true len=4 rtt=- payload="free"$' % cid)
        c.close_handshake(1000)
    finally:
        w.close()


@pytest.fixture
def mux_backend(tmp_path):
    sock, log = str(tmp_path / "m.sock"), str(tmp_path / "m.log")
    p = subprocess.Popen(["/usr/bin/python3", MUX, sock, log],
        stdin=subprocess.DEVNULL)
    assert harness.wait_until(lambda: os.path.exists(sock), 5.0)

    def events():
        try:
            with open(log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait_event(line, timeout=8.0):
        assert harness.wait_until(lambda: line in events(), timeout), \
            "no %r in %r" % (line, events()[-20:])

    yield sock, wait_event
    p.kill()
    p.wait(5)


def test_mux_hears_pings_and_pongs(daemon_factory, mux_backend):
    sock, wait_event = mux_backend
    d = daemon_factory(sections={"websocket": {"PingInterval": 1,
        "PingTimeout": 0}}, routes={"m": {"Path": "/m",
            "Backend": "unix:%s mux" % sock}})
    c = connect_ws(d.port, "/m?name=pp")
    c.send_ping(b"hi")
    assert c.read_frame().opcode == OP_PONG
    wait_event("ping pp hi")
    # The daemon's own ping: its pong reaches the backend.
    c.send_frame(OP_PONG, read_ping(c, 5.0))
    wait_event("pong pp ")
    # The backend's ping with a payload, answered.
    c.send_text("ping:xyz")
    f = c.read_frame()
    while f.payload == b"":
        f = c.read_frame()
    assert (f.opcode, f.payload) == (OP_PING, b"xyz")
    c.send_frame(OP_PONG, b"xyz")
    wait_event("pong pp xyz")
    c.close_handshake(1000)


def test_framed_handler_hears_pings_and_pongs(daemon_factory, tmp_path):
    log = str(tmp_path / "framed.log")
    d = daemon_factory(sections={"websocket": {"PingInterval": 0}},
        routes={"f": {"Path": "/f", "MessageFormat": "framed",
            "Backend": "script:{handlers}/framed_echo.py " + log}})
    with admin(d) as a:
        c = connect_ws(d.port, "/f")
        cid = conn_id(a, c)
        c.send_ping(b"abc")
        assert c.read_frame().payload == b"abc"
        # The admin's ping waits for the pong: the client answers it.
        a.send_line("ping %s" % cid)
        f = c.read_frame()
        assert f.opcode == OP_PING
        c.send_frame(OP_PONG, f.payload)
        r = a.read_reply()
        assert r.ok and r.text.startswith("pong from %s in " % cid)
    c.echo(OP_TEXT, "after the pings")
    c.close_handshake(1000)
    assert harness.wait_until(lambda: os.path.exists(log) and
        b"EOF" in open(log, "rb").read(), 8.0)
    headers = open(log, "rb").read().split(b"\n")
    assert b"I 3" in headers, headers
    assert b"O %d" % len(f.payload) in headers, headers


# ---------------------------------------------------------------- refusals

def test_watch_shows_connection_request_refusals(daemon_factory):
    d = daemon_factory(sections={"server": {"BlockedClients": "127.0.0.3",
        "MaxConnections": 1}})
    w = Watch(d)
    try:
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5,
            source_address=("127.0.0.3", 0))
        port = s.getsockname()[1]
        w.wait(r"^ConnectionRequest 127\.0\.0\.3:%d refused not allowed "
            r"by AllowedClients/BlockedClients$" % port)
        s.close()
        c = connect_ws(d.port)
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        port = s.getsockname()[1]
        w.wait(r"^ConnectionRequest 127\.0\.0\.1:%d refused too many "
            r"connections$" % port)
        s.close()
        c.close_handshake(1000)
    finally:
        w.close()
