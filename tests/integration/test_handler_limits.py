"""Handler processes bounded (issue #19): MaxHandlers counts every live
handler process over all workers, those whose client has left included
(503 past it, shown in status); the kill sequence is EOF, KillTimeout,
SIGTERM to the whole process group, SIGKILL one second later; and
MaxSpawnRate bounds how many processes a worker starts per second (the
rest wait for their turn, at most HandshakeTimeout)."""

import os
import signal
import time

import pytest

import harness
from admin_util import admin
from harness import OP_TEXT, WSClient, connect_ws, unique_marker, wait_until
from test_backend_faults import marked


def stubborn(marker):
    return {"s": {"Path": "/s",
        "Backend": "script:{handlers}/stubborn_ticker.sh " + marker}}


def kill_marked(marker):
    for pid in marked(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def open_and_leave(d, n):
    """n WebSockets whose handler says ready, then the clients just go."""
    for _ in range(n):
        c = connect_ws(d.port, "/s")
        assert c.read_message() == (OP_TEXT, b"ready")
        c.close()


def upgrade_status(c, path):
    """Sends an upgrade request on c; returns the response's status."""
    req, _ = harness.build_request(path, port=c.port)
    c.send(req)
    return c.read_http_response().status


def status(d):
    with admin(d) as a:
        return a.cmd("status").fields(), a.cmd("status json").json(), \
            a.cmd("stats json").json()


def test_lingering_handlers_count_against_max_handlers(daemon_factory):
    marker = unique_marker()
    d = daemon_factory(routes=stubborn(marker),
        sections={"backend": {"MaxHandlers": 4, "KillTimeout": 3}})
    try:
        # Open and close: the handlers ignore EOF, so they linger.
        open_and_leave(d, 4)
        text, js, _ = status(d)
        assert text["Connections"].startswith("0 of ") or \
            int(text["Connections"].split()[0]) <= 4
        assert text["Handlers"] == "4 of 4", text
        assert js["Handlers"] == 4 and js["MaxHandlers"] == 4
        start = d.mark()
        with WSClient(d.port) as c:
            resp = c.handshake("/s", expect=503)
            assert b"too many handler processes" in resp.body
        d.wait_log(r"refused 1 WebSocket\(s\): MaxHandlers \(4 handler "
            r"processes alive, lingering ones included\) reached",
            start=start)
        _, _, st = status(d)
        assert st["rejected"]["handlers"] == 1
        # KillTimeout (3 s) then SIGTERM (ignored) then SIGKILL 1 s later:
        # the places come back and a new WebSocket gets a handler.
        assert wait_until(lambda: not marked(marker), 8.0), marked(marker)
        assert wait_until(lambda: status(d)[1]["Handlers"] == 0, 3.0)
        c = connect_ws(d.port, "/s")
        assert c.read_message() == (OP_TEXT, b"ready")
        c.close()
    finally:
        kill_marked(marker)


def test_default_max_handlers_is_max_connections(daemon_factory):
    d = daemon_factory(sections={"server": {"MaxConnections": 7}})
    text, js, _ = status(d)
    assert text["Handlers"] == "0 of 7"
    assert js["MaxHandlers"] == 7


def test_kill_sequence_takes_the_whole_group(daemon_factory):
    # The handler ignores EOF, SIGTERM and SIGHUP, and so do the sleeps it
    # starts: EOF, KillTimeout (3 s), SIGTERM, 1 s, SIGKILL to the group.
    # Before, SIGKILL came another KillTimeout after SIGTERM (6 s).
    marker = unique_marker()
    kt = 3
    d = daemon_factory(routes=stubborn(marker), log_level=2,
        sections={"backend": {"KillTimeout": kt}})
    try:
        start = d.mark()
        c = connect_ws(d.port, "/s")
        assert c.read_message() == (OP_TEXT, b"ready")
        assert wait_until(lambda: len(marked(marker)) >= 2, 3.0)
        t0 = time.monotonic()
        c.close()
        assert wait_until(lambda: not marked(marker), kt + 4.0), \
            marked(marker)
        took = time.monotonic() - t0
        assert kt + 0.5 <= took <= kt + 2.0, took
        term = d.wait_log(r"handler still running after %d s: SIGTERM$" %
            kt, start=start)
        kill = d.wait_log(r"handler still running after 1 s: SIGKILL$",
            start=start)
        assert term and kill
        d.wait_log(r"handler killed by signal 9", start=start)
    finally:
        kill_marked(marker)


def test_spawn_rate(daemon_factory):
    # 12 upgrades at once: the burst of 5 starts now, the others wait for
    # their turn (a token every 200 ms) instead of being refused.
    d = daemon_factory(sections={"backend": {"MaxSpawnRate": 5}},
        routes={"cat": {"Path": "/cat", "Backend": "script:/bin/cat"},
        "echo": {"Path": "/", "Backend": "echo"}})
    start = d.mark()
    clients = [WSClient(d.port) for _ in range(12)]
    t0 = time.monotonic()
    for c in clients:
        req, _ = harness.build_request("/cat", port=d.port)
        c.send(req)
    # Meanwhile the event loop serves everyone else.
    e = connect_ws(d.port, "/")
    e.echo(OP_TEXT, "not starved")
    e.close_handshake(1000)
    opened = []
    for c in clients:
        assert c.read_http_response(10.0).status == 101
        opened.append(time.monotonic() - t0)
    for c in clients:
        c.echo(OP_TEXT, "cat")
        c.close()
    # The last 7 came at 5 per second.
    assert opened[-1] >= 1.0, opened
    d.wait_log(r"\d+ process start\(s\) wait for their turn: MaxSpawnRate "
        r"\(5 per second\) reached", start=start)
    _, _, st = status(d)
    assert 6 <= st["spawn"]["waited"] <= 7, st["spawn"]
    assert st["backend"]["failures"] == 0


def test_spawn_wait_bounded_by_handshake_timeout(daemon_factory):
    # A storm: 1 start a second, HandshakeTimeout 2 s: the first ones
    # start, the rest get 503 when their wait ends, with nothing left.
    d = daemon_factory(sections={"backend": {"MaxSpawnRate": 1},
        "websocket": {"HandshakeTimeout": 2}},
        routes={"cat": {"Path": "/cat", "Backend": "script:/bin/cat"}})
    clients = [WSClient(d.port) for _ in range(8)]
    try:
        for c in clients:
            req, _ = harness.build_request("/cat", port=d.port)
            c.send(req)
        got = [c.read_http_response(10.0).status for c in clients]
        assert got.count(101) in (2, 3, 4), got
        assert set(got) == {101, 503}, got
    finally:
        for c in clients:
            c.close()
    assert wait_until(lambda: status(d)[1]["Handlers"] == 0, 5.0)


def test_max_handlers_across_workers(daemon_factory):
    marker = unique_marker()
    d = daemon_factory(routes=stubborn(marker), sections={
        "server": {"Workers": 2},
        "backend": {"MaxHandlers": 4, "KillTimeout": 1}})
    clients = []
    statuses = []
    try:
        for _ in range(8):
            c = WSClient(d.port)
            clients.append(c)
            statuses.append(upgrade_status(c, "/s"))
        assert statuses.count(101) == 4, statuses
        assert statuses.count(503) == 4, statuses
        text, js, st = status(d)
        assert text["Handlers"] == "4 of 4", text
        assert st["rejected"]["handlers"] == 4
    finally:
        for c in clients:
            c.close()
        assert wait_until(lambda: not marked(marker), 6.0), marked(marker)
        kill_marked(marker)
