"""test_fdlimit.py - the daemon runs out of file descriptors.

With RLIMIT_NOFILE at 64, more clients arrive than it can hold: accept
fails with EMFILE, the daemon pauses accepting for a second at a time (no
busy loop: its CPU time stays near zero while the queue is full), logs it
at most once a second, keeps serving the WebSockets it has, and takes the
waiting clients once descriptors are free again.
"""

import os
import resource
import socket
import time

import pytest

import harness

# Alone (run.sh's serial run): RLIMIT_NOFILE is lowered in this process,
# and the daemon's CPU time is measured.
pytestmark = pytest.mark.serial

LIMIT = 64
EXTRA = 30


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_accept_pauses_and_resumes_at_fd_limit(daemon_factory):
    d = daemon_factory(start=False, sections={"server": {
        "ConnectionBacklog": 256, "MaxConnections": 1000}})
    old = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, old[1]))
    try:
        d.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, old)
    base = len(os.listdir("/proc/%d/fd" % d.pid))
    room = LIMIT - base
    opened, waiting = [], []
    try:
        for _ in range(room):
            opened.append(harness.connect_ws(d.port))
        mark = d.mark()
        # These wait in the kernel's queue: their requests go unanswered.
        for _ in range(EXTRA):
            c = harness.WSClient(d.port)
            req, _ = harness.build_request("/", port=d.port)
            c.send(req)
            waiting.append(c)
        d.wait_log(r"accept: Too many open files", start=mark, timeout=5)
        cpu0 = cpu_seconds(d.pid)
        time.sleep(3.0)
        cpu = cpu_seconds(d.pid) - cpu0
        assert cpu < 0.3, "busy loop at EMFILE: %.2f s CPU in 3 s" % cpu
        lines = "\n".join(d.lines[mark:]).count("accept: Too many open "
            "files")
        assert 1 <= lines <= 6, lines
        # The WebSockets it holds are served meanwhile.
        for c in opened[:5]:
            c.echo(harness.OP_TEXT, "still here")
        for w in waiting[:3]:
            w.sock.settimeout(0.2)
            with pytest.raises(socket.timeout):
                w.sock.recv(1)
            w.sock.settimeout(5.0)
        # Free descriptors: every waiting client is taken and upgraded.
        for c in opened[:EXTRA + 5]:
            c.close_handshake()
            c.close()
        del opened[:EXTRA + 5]
        t0 = time.monotonic()
        for w in waiting:
            resp = w.read_http_response(timeout=10)
            assert resp.status == 101
        assert time.monotonic() - t0 < 5.0
    finally:
        for c in opened + waiting:
            c.close()
    with harness.connect_ws(d.port) as c:
        c.echo(harness.OP_TEXT, "after")
        c.close_handshake()
