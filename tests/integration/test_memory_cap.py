"""test_memory_cap.py - MaxMemory: the cap on bytes queued over all connections.

Clients that never read fill their output queues until the sum passes the
cap; then new connections get 503, stats say so, a WebSocket with an
incomplete message is closed with 1013, a complete message from an open
client waits rather than being lost, and everything resumes (logged once
each way) when the queues are gone.
"""

import re
import socket
import time

import pytest

import harness
from admin_util import admin

# Alone (run.sh's serial run): the daemon's queued bytes are what is
# measured, and clients that never read are opened against its half-second
# eviction tick.
pytestmark = pytest.mark.serial

MSG = 3 << 20          # each non-reader's echo queues about this much


def stats(d):
    with admin(d) as a:
        r = a.cmd("stats")
        assert r.ok, r
        return dict(l.split(" ", 1) for l in r.lines)


def non_reader(port):
    """An open WebSocket that sends one MSG-byte message and never reads."""
    c = harness.connect_ws(port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # The daemon stops reading it part way: send what it takes, bounded.
    c.sock.settimeout(0.2)
    harness.send_all_bounded(c.sock, harness.build_frame(0x2, b"\x5a" * MSG),
        time.monotonic() + 1.0)
    return c


def start(daemon_factory, cap_mib, buffer_message="false"):
    return daemon_factory(sections={
        "server": {"MaxMemory": str(cap_mib), "OutBufferSize": "4096"},
        "websocket": {"BufferMessage": buffer_message,
            "MaxMessageSize": str(4 << 20)},
    })


def test_over_cap_refuses_then_ends_the_biggest(daemon_factory):
    d = start(daemon_factory, 2)
    port = d.port
    calm = harness.connect_ws(port)
    calm.echo(0x1, b"before")
    mark = d.mark()
    hogs = []
    try:
        # Streamed echoes: each non-reader holds a bit over 1 MiB (its
        # output queue's high mark, then it is no longer read). Open them
        # until the daemon refuses one: 503 with a reason. Over the cap,
        # the biggest holder is reset after half a second without
        # progress, and the daemon resumes: on a slow machine that can
        # happen before the next hog's handshake is read, which is then
        # accepted and crosses the cap again. So: keep opening (bounded).
        refused = None
        deadline = time.monotonic() + 60
        for _ in range(40):
            try:
                hogs.append(non_reader(port))
            except AssertionError as e:
                refused = str(e)
                break
            if time.monotonic() > deadline:
                break
        assert refused is not None and "status 503" in refused and \
            "server memory limit reached" in refused, refused
        assert len(hogs) >= 2
        d.wait_log(r"bytes queued, over MaxMemory \(2 MiB\): new "
            r"connections refused, reading paused", start=mark, timeout=10)
        # A complete message from an open client is not lost.
        calm.send_text("during")
        # Non-readers make no progress: the biggest are reset, one per
        # tick, until under three quarters of the cap.
        d.wait_log(r"bytes queued, under three quarters of MaxMemory "
            r"again: resuming", start=mark, timeout=10)
    finally:
        for h in hogs:
            h.close()
    assert calm.read_message(timeout=5) == (0x1, b"during")
    calm.echo(0x1, b"after")
    # A hog read again after a resume may cross once more just before the
    # hogs went: its way back down is logged as they close. Wait for it.
    harness.wait_until(lambda: "\n".join(d.lines[mark:]).count(
        "under three quarters of MaxMemory") == "\n".join(
        d.lines[mark:]).count("over MaxMemory (2 MiB)"), 5)
    text = "\n".join(d.lines[mark:])
    resets = text.count("over MaxMemory, and does not read")
    assert 1 <= resets <= len(hogs), text
    assert len(re.findall(r" close code=1013 by=server reason=\"server "
        r"memory limit reached\"", text)) == resets
    # Each crossing is logged once, each way (a slow machine may open the
    # next hog only after a reset: then there are several crossings).
    overs = text.count("over MaxMemory (2 MiB)")
    assert overs >= 1
    assert text.count("under three quarters of MaxMemory") == overs
    st = stats(d)
    assert st["memory.over"] == "no"
    assert int(st["rejected.memory"]) >= 1
    with harness.connect_ws(port) as c:
        c.echo(0x1, b"new")
    calm.close_handshake()


def test_incomplete_message_closed_1013(daemon_factory):
    d = start(daemon_factory, 2, buffer_message="true")
    c = harness.connect_ws(d.port)
    other = harness.connect_ws(d.port)
    mark = d.mark()
    # A reading client whose incomplete message alone passes the cap: it
    # gets a close frame (it reads, so the frame reaches it).
    c.send(harness.build_frame(0x2, b"\x01" * (5 << 19), fin=False))
    c.expect_close(1013, timeout=10)
    d.wait_log(r"closed \(1013\): it holds \d+ of the \d+ bytes queued, "
        r"over MaxMemory", start=mark)
    d.wait_log(r"under three quarters of MaxMemory again", start=mark)
    other.echo(0x2, b"\x02" * 1000)
    other.close_handshake()


def test_cap_zero_means_no_cap(daemon_factory):
    d = start(daemon_factory, 0)
    hogs = []
    try:
        for _ in range(4):
            hogs.append(non_reader(d.port))
        harness.wait_until(lambda: int(stats(d)["memory.queued"]) > 4 << 20,
            10)
        assert stats(d)["memory.over"] == "no"
        with harness.connect_ws(d.port) as c:
            c.echo(0x1, b"fine")
    finally:
        for h in hogs:
            h.close()
    assert "MaxMemory" not in d.log_text()
