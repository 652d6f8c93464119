"""Limits and admission: MaxConnections, Allowed/BlockedClients,
MaxMessageSize, HandshakeTimeout, MaxHeaderSize, and flow control that keeps
the daemon's memory bounded."""

import socket
import threading
import time

import pytest

from harness import (OP_BINARY, OP_TEXT, WSClient, build_frame,
    build_request, connect_ws, send_all_bounded, unique_marker,
    wait_no_procs)

RSS_BOUND_KIB = 64 * 1024


def read_refusal(port, timeout=2.0):
    """What the server says to a connection it will not serve: waits a
    moment for an unprompted answer, else sends a request. Returns every
    byte received before the server closed."""
    c = WSClient(port)
    try:
        c.sock.settimeout(0.5)
        try:
            first = c.sock.recv(65536)
        except socket.timeout:
            first = None
        except ConnectionResetError:
            first = b""
        if first is None:
            req, _ = build_request(port=port)
            try:
                c.send(req)
            except OSError:
                pass
            return c.read_to_eof(timeout)
        if first == b"":
            return b""
        c.buf += first
        return c.read_to_eof(timeout)
    finally:
        c.close()


def assert_refused_silently(port):
    """The server closes right after accept, without a single byte."""
    c = WSClient(port)
    try:
        t0 = time.monotonic()
        data = c.read_to_eof(1.0)
        assert data == b"", "refused client got %r" % data[:80]
        assert time.monotonic() - t0 < 1.0
    finally:
        c.close()


# ---------------------------------------------------------------- admission

def test_max_connections_503(daemon_factory):
    d = daemon_factory(sections={"server": {"MaxConnections": 2}})
    a = connect_ws(d.port)
    b = connect_ws(d.port)
    data = read_refusal(d.port)
    assert data.startswith(b"HTTP/1.1 503 "), data[:80]
    # The two accepted connections are unaffected.
    a.echo(OP_TEXT, "a")
    b.echo(OP_TEXT, "b")
    a.close_handshake()
    # Once one has gone, a new client gets in (the slot frees at once or
    # very soon after the close).
    deadline = time.monotonic() + 2.0
    while True:
        c = WSClient(d.port)
        req, _ = build_request(port=d.port)
        try:
            c.send(req)
            resp = c.read_http_response(2.0)
        except (OSError, AssertionError):
            resp = None
        if resp is not None and resp.status == 101:
            break
        c.close()
        assert time.monotonic() < deadline, "slot never freed"
        time.sleep(0.1)
    c.echo(OP_TEXT, "c")
    c.close_handshake()
    b.close_handshake()


@pytest.mark.parametrize("allowed,blocked,refused", [
    ("127.0.0.2", "", True),
    ("127.0.0.1", "", False),
    ("10.1.2.3, 127.0.0.1", "", False),
    ("127.0.*.*", "", False),
    ("127.0.0.*", "", False),
    ("192.168.*.*", "", True),
    ("127.0.0.0/8", "", False),
    ("127.0.0.0/31", "", False),
    ("10.0.0.0/8", "", True),
    ("*", "127.0.0.1", True),
    ("*", "127.0.0.*", True),
    ("*", "127.0.0.0/24", True),
    ("*", "10.*.*.*, 127.0.0.2", False),
    ("127.0.0.1", "127.0.0.1", True),
    # Host names, resolved when the configuration is loaded.
    ("localhost", "", False),
    ("10.1.2.3, localhost", "", False),
    ("*", "localhost", True),
])
def test_allowed_blocked_clients(daemon_factory, allowed, blocked, refused):
    server = {"AllowedClients": allowed}
    if blocked:
        server["BlockedClients"] = blocked
    d = daemon_factory(sections={"server": server})
    if refused:
        assert_refused_silently(d.port)
        assert_refused_silently(d.port)
    else:
        c = connect_ws(d.port)
        c.echo(OP_TEXT, "admitted")
        c.close_handshake()


# ---------------------------------------------------------------- messages

@pytest.fixture(scope="module")
def small_msg_daemon(module_daemons):
    return module_daemons(sections={"websocket": {"MaxMessageSize": 1000}})


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_max_message_size_exact_fits(small_msg_daemon, opcode):
    c = connect_ws(small_msg_daemon.port)
    c.echo(opcode, b"m" * 1000)
    c.close_handshake()


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_max_message_size_1009(small_msg_daemon, opcode):
    c = connect_ws(small_msg_daemon.port)
    c.send_frame(opcode, b"m" * 1001)
    c.expect_failure(1009, allow_partial=True)


def test_max_message_size_fragments_1009(small_msg_daemon):
    c = connect_ws(small_msg_daemon.port)
    c.send(build_frame(OP_BINARY, b"f" * 600, fin=False) +
        build_frame(0, b"f" * 600, fin=True))
    c.expect_failure(1009, allow_partial=True)


def test_max_message_size_by_header_alone(small_msg_daemon):
    # A frame announcing 1 GiB: refused from its header, the payload is
    # never needed.
    c = connect_ws(small_msg_daemon.port)
    frame = build_frame(OP_BINARY, b"", length=1 << 30)
    c.send(frame)
    c.expect_failure(1009, timeout=2.0)


# ---------------------------------------------------------------- handshake

@pytest.fixture(scope="module")
def hs_daemon(module_daemons):
    return module_daemons(sections={"websocket": {"HandshakeTimeout": 1,
        "MaxHeaderSize": 1024}})


def assert_timed_out(c, lo=0.5, hi=3.0, t0=None):
    t0 = time.monotonic() if t0 is None else t0
    data = c.read_to_eof(hi + 1)
    elapsed = time.monotonic() - t0
    assert lo <= elapsed <= hi, "closed after %.2fs" % elapsed
    assert data == b"" or data.startswith(b"HTTP/1.1 408 "), data[:80]


def test_handshake_timeout_idle(hs_daemon):
    with WSClient(hs_daemon.port) as c:
        assert_timed_out(c)


def test_handshake_timeout_partial_request(hs_daemon):
    with WSClient(hs_daemon.port) as c:
        t0 = time.monotonic()
        c.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert_timed_out(c, t0=t0)


def test_handshake_timeout_is_total_not_idle(hs_daemon):
    # A byte every 200 ms keeps the connection busy but the handshake
    # never completes in time.
    req, _ = build_request(port=hs_daemon.port,
        extra=[("X-Pad", "p" * 100)])
    with WSClient(hs_daemon.port) as c:
        t0 = time.monotonic()
        closed_at = None
        for i in range(len(req) - 1):
            if time.monotonic() - t0 > 4.0:
                break
            try:
                c.send(req[i:i + 1])
            except OSError:
                closed_at = time.monotonic()
                break
            c.sock.settimeout(0.2)
            try:
                data = c.sock.recv(4096)
            except socket.timeout:
                continue
            except ConnectionResetError:
                data = b""
            assert data == b"" or data.startswith(b"HTTP/1.1 408 ")
            closed_at = time.monotonic()
            break
        assert closed_at is not None, "still open after 4s"
        assert 0.5 <= closed_at - t0 <= 3.0


def test_handshake_timeout_not_after_upgrade(hs_daemon):
    c = connect_ws(hs_daemon.port)
    time.sleep(1.6)
    c.assert_open()
    c.echo(OP_TEXT, "still open")
    c.close_handshake()


def test_max_header_size_431(hs_daemon):
    with WSClient(hs_daemon.port) as c:
        req, _ = build_request(port=hs_daemon.port,
            extra=[("X-Big", "b" * 1500)])
        c.send(req)
        resp = c.read_http_response()
        assert resp.status == 431
        c.assert_closed(1.0)


def test_max_header_size_without_end(hs_daemon):
    # The head never ends; the server must not wait for it to.
    with WSClient(hs_daemon.port) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: " +
            b"e" * 2000)
        resp = c.read_http_response(timeout=0.9)
        assert resp.status == 431


def test_header_under_limit_accepted(hs_daemon):
    c = connect_ws(hs_daemon.port, extra=[("X-Pad", "p" * 600)])
    c.echo(OP_TEXT, "fits")
    c.close_handshake()


# ---------------------------------------------------------------- flow control

def warm_up(d, path="/"):
    """One round trip so that the baseline RSS includes the daemon's
    normal working set."""
    c = connect_ws(d.port, path)
    c.echo(OP_BINARY, b"w" * 70000)
    c.close_handshake()


def test_flooding_handler_bounded_memory(daemon_factory):
    marker = unique_marker()
    d = daemon_factory(routes={
        "echo": {"Path": "/", "Backend": "echo"},
        "flood": {"Path": "/flood",
            "Backend": "script:{handlers}/flood.py " + marker}},
        sections={"backend": {"KillTimeout": 1}})
    warm_up(d)
    base = d.rss_kib()
    c = WSClient(d.port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.handshake("/flood")
    time.sleep(3.0)			# the client reads nothing
    grown = d.rss_kib() - base
    assert grown < RSS_BOUND_KIB, "RSS grew by %d KiB" % grown
    # Nothing was lost or reordered while the handler was held back.
    for i in range(300):
        op, msg = c.read_message()
        assert op == OP_TEXT
        assert msg.startswith(b"line %08d " % i), msg[:20]
        assert len(msg) == 1023
    grown = d.rss_kib() - base
    assert grown < RSS_BOUND_KIB, "RSS grew by %d KiB" % grown
    c.close()
    assert wait_no_procs(marker, 2 * 1 + 3.0) == []


def test_client_flooding_echo_bounded_memory(daemon_factory):
    # The client sends and never reads the echoes: the daemon must stop
    # reading rather than buffer without limit.
    d = daemon_factory(sections={"websocket": {
        "MaxMessageSize": 2 * 1024 * 1024}})
    warm_up(d)
    base = d.rss_kib()
    c = WSClient(d.port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.handshake("/")
    frame = build_frame(OP_BINARY, b"F" * (1 << 20))
    deadline = time.monotonic() + 4.0
    sent = 0
    for _ in range(400):			# at most 400 MiB
        if time.monotonic() >= deadline:
            break
        n = send_all_bounded(c.sock, frame, deadline)
        sent += n
        if n < len(frame):
            break
    grown = d.rss_kib() - base
    assert grown < RSS_BOUND_KIB, "RSS grew by %d KiB after %d MiB sent" % (
        grown, sent >> 20)
    assert sent < 200 << 20, "no back-pressure: %d MiB accepted" % (
        sent >> 20)
    c.close()
    # Still serving.
    warm_up(d)


def test_client_flooding_nonreading_handler(daemon_factory):
    marker = unique_marker()
    d = daemon_factory(routes={
        "echo": {"Path": "/", "Backend": "echo"},
        "tick": {"Path": "/tick",
            "Backend": "script:{handlers}/tick_noread.py " + marker}},
        sections={"backend": {"KillTimeout": 1}})
    warm_up(d)
    base = d.rss_kib()
    a = connect_ws(d.port, "/tick")
    other = connect_ws(d.port, "/")
    stop = threading.Event()
    line = build_frame(OP_TEXT, b"z" * 16384)
    stats = {"sent": 0}

    def flood():
        deadline = time.monotonic() + 5.0
        for _ in range(20000):
            if stop.is_set() or time.monotonic() >= deadline:
                break
            n = send_all_bounded(a.sock, line, deadline, stop)
            stats["sent"] += n
            if n < len(line):
                break

    th = threading.Thread(target=flood, daemon=True)
    th.start()
    try:
        time.sleep(0.5)
        # The handler's output keeps flowing to the flooding client.
        ticks = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.5:
            op, msg = a.read_message(2.0)
            assert op == OP_TEXT and msg.startswith(b"tick ")
            ticks.append(int(msg.split()[1]))
        assert len(ticks) >= 10, ticks
        assert ticks == list(range(ticks[0], ticks[0] + len(ticks)))
        # Other connections are not stalled.
        for i in range(5):
            t1 = time.monotonic()
            other.assert_open()
            other.echo(OP_TEXT, "other %d" % i)
            assert time.monotonic() - t1 < 1.0
        grown = d.rss_kib() - base
        assert grown < RSS_BOUND_KIB, "RSS grew by %d KiB" % grown
    finally:
        stop.set()
        th.join(6)
    assert not th.is_alive()
    a.close()
    other.close_handshake()
    assert wait_no_procs(marker, 2 * 1 + 3.0) == []


def test_default_timeout_drops_a_client_that_does_not_read(daemon_factory):
    # DefaultTimeout: data is queued for the client and it takes none for
    # that long: the connection is dropped and logged as 1008; the handler
    # is ended like for any other close.
    marker = unique_marker()
    d = daemon_factory(routes={
        "flood": {"Path": "/flood",
            "Backend": "script:{handlers}/flood.py " + marker}},
        sections={"server": {"DefaultTimeout": 1},
                  "backend": {"KillTimeout": 1}})
    c = WSClient(d.port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.handshake("/flood")
    started = time.monotonic()
    d.wait_log(r"close code=1008 by=timeout reason=\"send timeout\"",
               timeout=8.0)
    # Not before the timeout: the queue filled at once, then 1 s passed.
    assert time.monotonic() - started >= 0.9
    assert wait_no_procs(marker, 2 * 1 + 3.0) == []
    c.close()


def test_default_timeout_spares_a_slow_reader(daemon_factory):
    # A client that reads slowly but steadily makes progress: no timeout.
    d = daemon_factory(sections={"server": {"DefaultTimeout": 1}})
    c = WSClient(d.port)
    c.handshake("/")
    for _ in range(3):
        c.echo(OP_BINARY, b"s" * 300000)
        time.sleep(0.6)
    c.close_handshake()
    assert "send timeout" not in d.log_text()
