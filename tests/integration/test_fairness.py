"""Fair limits per client (issue #19): MaxConnectionsPerClient and
HandshakeRatePerClient, checked against the real client (behind PROXY
once its header is read), over all workers, answered 429 and logged at
most once a second per address, counted in stats."""

import re
import socket
import time

import harness
from admin_util import admin
from harness import build_request

FLOODER = "127.0.0.2"
OTHER = "127.0.0.3"


def connect_from(src, port, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((harness.HOST, port))
    return s


def silent_flood(src, port, n, deadline=30.0):
    """n TCP connections from src that send nothing; returns them."""
    socks = []
    end = time.monotonic() + deadline
    for _ in range(n):
        assert time.monotonic() < end, "flood took too long"
        socks.append(connect_from(src, port))
    return socks


def answered(socks, timeout=5.0):
    """How many of socks were answered with each status (None: none yet)."""
    got = {}
    end = time.monotonic() + timeout
    for s in socks:
        s.settimeout(max(0.001, min(0.05, end - time.monotonic())))
        try:
            data = s.recv(200)
        except (socket.timeout, BlockingIOError):
            data = None
        except ConnectionResetError:
            data = b""
        m = re.match(rb"HTTP/1\.1 (\d{3}) ", data or b"")
        key = int(m.group(1)) if m else (None if data is None else "closed")
        got[key] = got.get(key, 0) + 1
    return got


def upgrade(s, port, lead=b""):
    """Sends lead and an upgrade request on s; returns (status, head, s)."""
    req, _ = build_request("/", port=port)
    s.sendall(lead + req)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", head)
    return (int(m.group(1)) if m else None), head, s


def ws_from(src, port):
    """An upgrade from src; returns (status, head, socket)."""
    return upgrade(connect_from(src, port), port)


def close_all(socks):
    for s in socks:
        s.close()


def stats(d):
    with admin(d) as a:
        return a.cmd("stats json").json(), a.cmd("stats").lines


def test_flood_from_one_address_leaves_room_for_others(daemon_factory):
    # One address opens 2,000 silent connections (MaxConnections is
    # 1000): it gets 100, the rest 429 at once, and another address still
    # gets its WebSockets.
    d = daemon_factory(sections={"server": {"MaxConnectionsPerClient": 100,
        "ConnectionBacklog": 511}})
    flood = silent_flood(FLOODER, d.port, 2000)
    try:
        got = answered(flood)
        assert got.get(429, 0) == 1900, got
        assert got.get(None, 0) == 100, got
        for _ in range(20):
            status, head, s = ws_from(OTHER, d.port)
            s.close()
            assert status == 101, head
        st, lines = stats(d)
        assert st["rejected"]["client"]["connections"] == 1900
        assert st["clients"]["tracked"] >= 1
        assert "rejected.client.connections 1900" in lines
        # One line a second at most for the address, not 1900.
        rx = r"refused (\d+) connection\(s\) from 127\.0\.0\.2: " \
            r"MaxConnectionsPerClient \(100\) reached"
        d.wait_log(rx)
        n = [int(m.group(1)) for m in re.finditer(rx, d.log_text())]
        assert 1 <= len(n) <= 30 and sum(n) <= 1900, n
    finally:
        close_all(flood)
    # The places come back when the flood goes.
    assert harness.wait_until(lambda: ws_from(FLOODER, d.port)[0] == 101,
        5.0)


def test_429_body_and_log(daemon_factory):
    d = daemon_factory(sections={"server": {"MaxConnectionsPerClient": 2}})
    keep = [ws_from(FLOODER, d.port)[2] for _ in range(2)]
    try:
        status, head, s = ws_from(FLOODER, d.port)
        s.close()
        assert status == 429, head
        assert head.startswith(b"HTTP/1.1 429 Too Many Requests\r\n")
        assert b"\r\nRetry-After:" not in head
        assert ws_from(OTHER, d.port)[0] == 101
    finally:
        close_all(keep)


def test_handshake_rate(daemon_factory):
    d = daemon_factory(sections={"server": {"HandshakeRatePerClient": 5,
        "HandshakeBurstPerClient": 5, "ConnectionBacklog": 64}})
    start = d.mark()
    results = [ws_from(FLOODER, d.port) for _ in range(10)]
    statuses = [r[0] for r in results]
    close_all([r[2] for r in results])
    # The burst goes, then a token every 200 ms.
    assert 5 <= statuses.count(101) <= 6, statuses
    refused = [r[1] for r in results if r[0] == 429]
    assert refused and all(b"\r\nRetry-After: 1\r\n" in h for h in refused)
    assert ws_from(OTHER, d.port)[0] == 101
    d.wait_log(r"refused \d+ connection\(s\) from 127\.0\.0\.2: "
        r"HandshakeRatePerClient \(5 per second, burst 5\) exceeded",
        start=start)
    time.sleep(1.1)
    assert ws_from(FLOODER, d.port)[0] == 101
    st, _ = stats(d)
    assert st["rejected"]["client"]["rate"] == statuses.count(429)


def proxy_v1(src, sport=40000):
    return ("PROXY TCP4 %s 127.0.0.1 %d 80\r\n" % (src, sport)).encode()


def ws_via_proxy(port, src, sport):
    """An upgrade through a balancer (127.0.0.1) for client src."""
    return upgrade(connect_from(harness.HOST, port), port,
        proxy_v1(src, sport))


def test_limits_apply_to_the_real_client_behind_proxy(daemon_factory):
    # The balancer (127.0.0.1) carries everyone: it is not limited; the
    # address its PROXY header names is, once the header is read.
    d = daemon_factory(sections={"server": {"ProxyProtocol": "v1",
        "ProxyTrustedClients": "127.0.0.1", "MaxConnectionsPerClient": 2}})
    start = d.mark()
    keep = []
    try:
        for sport in (1, 2):
            status, head, s = ws_via_proxy(d.port, "198.51.100.7", sport)
            keep.append(s)
            assert status == 101, head
        status, head, s = ws_via_proxy(d.port, "198.51.100.7", 3)
        s.close()
        assert status == 429, head
        d.wait_log(r"refused 1 connection\(s\) from 198\.51\.100\.7: "
            r"MaxConnectionsPerClient \(2\) reached", start=start)
        for sport in (4, 5):
            status, head, s = ws_via_proxy(d.port, "198.51.100.8", sport)
            keep.append(s)
            assert status == 101, head
    finally:
        close_all(keep)
    # Direct clients of the daemon (not balancers) are limited at accept.
    keep = [ws_from(FLOODER, d.port)[2] for _ in range(2)]
    try:
        assert ws_from(FLOODER, d.port)[0] == 429
    finally:
        close_all(keep)


def test_limits_hold_over_workers(daemon_factory):
    d = daemon_factory(sections={"server": {"Workers": 2,
        "MaxConnectionsPerClient": 10, "ConnectionBacklog": 64}})
    results = [ws_from(FLOODER, d.port) for _ in range(30)]
    try:
        statuses = [r[0] for r in results]
        assert statuses.count(101) == 10, statuses
        assert statuses.count(429) == 20, statuses
        st, _ = stats(d)
        assert st["rejected"]["client"]["connections"] == 20
    finally:
        close_all([r[2] for r in results])
    assert harness.wait_until(lambda: ws_from(FLOODER, d.port)[0] == 101,
        5.0)


def test_off_by_default(daemon_factory):
    d = daemon_factory()
    results = [ws_from(FLOODER, d.port) for _ in range(30)]
    try:
        assert [r[0] for r in results] == [101] * 30
    finally:
        close_all([r[2] for r in results])
    st, _ = stats(d)
    assert st["clients"]["tracked"] == 0
