"""MaxConnections refusals are logged at most once a second, with a count:
a flood of clients must not become a flood of log lines."""

import re
import socket
import time

from harness import connect_ws


def refuse(port):
    """Opens a connection the daemon must refuse; returns its first bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=2.0)
    try:
        return s.recv(4096)
    finally:
        s.close()


def test_refusals_logged_once_a_second_with_a_count(daemon_factory):
    d = daemon_factory(sections={"server": {"MaxConnections": 1}})
    held = connect_ws(d.port)
    start = time.monotonic()
    for _ in range(20):
        assert refuse(d.port).startswith(b"HTTP/1.1 503 ")
    assert time.monotonic() - start < 0.9, "refusals too slow for the test"
    time.sleep(1.1)
    assert refuse(d.port).startswith(b"HTTP/1.1 503 ")
    d.wait_log(r"refused 20 connection\(s\): MaxConnections \(1\) reached")
    lines = re.findall(r"refused (\d+) connection\(s\): MaxConnections",
                       d.log_text())
    assert [int(n) for n in lines] == [1, 20]
    held.echo(1, "still served")
    held.close_handshake()
