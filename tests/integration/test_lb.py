"""Load balancers: /healthz, wsserverctl drain, and Debian's haproxy.

haproxy (mode tcp, send-proxy-v2, option httpchk GET /healthz) runs in
the foreground from a temp config on 127.0.0.1 in front of two daemons
with ProxyProtocol = v2. Handlers must see the real client (127.0.0.1 and
the client's own source port), and draining one daemon must lose no
message on either daemon's connections: the drained one keeps echoing
until the drain period ends, then says 1001.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import harness
from admin_util import ctl
from harness import OP_TEXT, WSClient, connect_ws

HAPROXY = "/usr/sbin/haproxy"
# The drain period of test_haproxy_drain: long enough for its steps on a
# busy machine, during which the drained daemon's connection must work.
DRAIN_S = 5

# Says who and where the client is, then echoes lines.
REMOTE_ECHO = """#!/usr/bin/python3
import os, sys
sys.stdout.write("REMOTE %s %s %s\\n" % (os.environ["REMOTE_ADDR"],
    os.environ["REMOTE_PORT"], sys.argv[1]))
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write(line)
    sys.stdout.flush()
"""


def http_get(port, path, version="HTTP/1.0", timeout=5.0):
    """A plain GET; returns (status, headers dict, body)."""
    with socket.create_connection((harness.HOST, port), timeout) as s:
        s.sendall(("GET %s %s\r\nHost: x\r\n\r\n" % (path, version)).encode())
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


def test_healthz(daemon_factory):
    d = daemon_factory(routes={"h": {"Path": "/healthz", "Backend": "echo"},
        "e": {"Path": "/", "Backend": "echo"}})
    for version in ("HTTP/1.0", "HTTP/1.1"):
        status, headers, body = http_get(d.port, "/healthz", version)
        assert (status, body) == (200, b"ok\n")
        assert headers["connection"] == "close"
        assert headers["content-length"] == "3"
    status, _, _ = http_get(d.port, "/healthz?full=1")
    assert status == 200
    # It shadows a route at the same path, upgrade or not.
    c = WSClient(d.port)
    req, _ = harness.build_request("/healthz", port=d.port)
    c.send(req)
    assert c.read_http_response().status == 200
    c.close()
    # Other paths are not health checks.
    status, _, _ = http_get(d.port, "/healthzz", "HTTP/1.1")
    assert status != 200


def test_healthz_off_and_custom(daemon_factory):
    d = daemon_factory(sections={"server": {"HealthPath": ""}},
        routes={"h": {"Path": "/healthz", "Backend": "echo"}})
    c = connect_ws(d.port, "/healthz")
    c.send_text(b"route")
    assert c.read_message() == (OP_TEXT, b"route")
    c.close()
    d2 = daemon_factory(sections={"server": {"HealthPath": "/lb/check"}})
    assert http_get(d2.port, "/lb/check")[:1] == (200,)


def test_drain(daemon_factory):
    d = daemon_factory()
    port = d.port
    c = connect_ws(port)
    # A client that connected but has not sent its request yet.
    pending = socket.create_connection((harness.HOST, port), 5.0)
    time.sleep(0.1)
    start = d.mark()
    r = ctl("-s", d.admin_socket, "drain", "2")
    assert r.returncode == 0, r.stderr
    assert "draining: 2 connection(s) have 2 second(s) to leave" in r.stdout
    d.wait_log(r"draining: \d+ connection\(s\) have 2 second\(s\)",
        start=start)
    # No longer listening: refused, which is what marks a node down.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((harness.HOST, port), 2.0)
    # A connection accepted before still gets an answer: 503.
    pending.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
    data = b""
    pending.settimeout(5.0)
    while True:
        chunk = pending.recv(4096)
        if not chunk:
            break
        data += chunk
    pending.close()
    assert data.startswith(b"HTTP/1.1 503 "), data
    assert data.endswith(b"\r\n\r\ndraining\n")
    # The open WebSocket keeps working during the period...
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < 1.2:
        c.send_text(b"m%d" % n)
        assert c.read_message() == (OP_TEXT, b"m%d" % n)
        n += 1
    # ...then is closed with 1001, and the daemon keeps running.
    c.expect_close(1001, timeout=4.0)
    c.reply_close(1001)
    c.close()
    r = ctl("-s", d.admin_socket, "status")
    assert r.returncode == 0, r.stderr
    # start ends the drain (LocalPort 0: a new port).
    r = ctl("-s", d.admin_socket, "start")
    assert r.returncode == 0, r.stderr
    port = int(re.search(r"listening on [\d.]+:(\d+)", r.stdout).group(1))
    assert http_get(port, "/healthz")[0] == 200
    r = ctl("-s", d.admin_socket, "drain", "x")
    assert r.returncode != 0


def free_port():
    with socket.socket() as s:
        s.bind((harness.HOST, 0))
        return s.getsockname()[1]


@pytest.fixture
def haproxy():
    if not os.access(HAPROXY, os.X_OK):
        pytest.skip("Debian's haproxy is not installed (apt-get install "
            "haproxy)")
    procs = []
    tmp = tempfile.mkdtemp(prefix="wsserverd-it-haproxy-")

    def start(backends):
        port = free_port()
        servers = "".join("    server s%d %s:%d send-proxy-v2 check inter "
            "100ms fall 1 rise 1\n" % (i, harness.HOST, p)
            for i, p in enumerate(backends))
        cfg = os.path.join(tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("""global
    maxconn 200
    stats socket %s mode 600 level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend fe
    bind %s:%d
    default_backend be
backend be
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
%s""" % (start.stats_socket, harness.HOST, port, servers))
        proc = subprocess.Popen([HAPROXY, "-db", "-f", cfg],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        procs.append(proc)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode()
            try:
                socket.create_connection((harness.HOST, port), 1.0).close()
                return port
            except OSError:
                time.sleep(0.05)
        raise AssertionError("haproxy did not listen")

    start.stats_socket = os.path.join(tmp, "stats.sock")
    yield start
    for p in procs:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    shutil.rmtree(tmp, ignore_errors=True)


def haproxy_status(stats_socket, server):
    """haproxy's view of one server of backend "be" ("UP", "DOWN"...),
    from "show stat" on its stats socket; None if it cannot be asked."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5.0)
            s.connect(stats_socket)
            s.sendall(b"show stat\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    lines = data.decode("utf-8", "replace").splitlines()
    if not lines or not lines[0].startswith("# "):
        return None
    cols = lines[0][2:].split(",")
    for line in lines[1:]:
        row = dict(zip(cols, line.split(",")))
        if row.get("pxname") == "be" and row.get("svname") == server:
            return row.get("status")
    return None


def lb_daemon(factory, tag):
    d = factory(start=False, sections={"server": {"ProxyProtocol": "v2",
        "ProxyTrustedClients": "127.0.0.1", "ShutdownTimeout": 5}},
        routes={"r": {"Path": "/who",
            "Backend": "script:{dir}/remote_echo.py " + tag}})
    path = os.path.join(d.dir, "remote_echo.py")
    with open(path, "w") as f:
        f.write(REMOTE_ECHO)
    os.chmod(path, 0o755)
    d.start()
    return d


def open_lb(port):
    """A WebSocket through haproxy; returns (client, REMOTE line fields)."""
    c = connect_ws(port, "/who")
    op, line = c.read_message()
    assert op == OP_TEXT
    words = line.decode().split()
    assert words[0] == "REMOTE"
    return c, words[1:]


def echo_round(c, tag, n):
    msg = ("%s-%d" % (tag, n)).encode()
    c.send_text(msg)
    assert c.read_message() == (OP_TEXT, msg)


def test_haproxy_drain(daemon_factory, haproxy):
    d1 = lb_daemon(daemon_factory, "d1")
    d2 = lb_daemon(daemon_factory, "d2")
    port = haproxy([d1.port, d2.port])

    # Round robin: a connection on each instance, bounded attempts.
    conns = {}
    extra = []
    for _ in range(20):
        c, (addr, rport, tag) = open_lb(port)
        # The handler sees the real client, not haproxy's own socket.
        assert addr == "127.0.0.1"
        assert int(rport) == c.local_port
        if tag in conns:
            extra.append(c)
        else:
            conns[tag] = c
        if len(conns) == 2:
            break
    assert set(conns) == {"d1", "d2"}
    for c in extra:
        c.close()

    sent = {"d1": 0, "d2": 0}

    def traffic(seconds, tags):
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            for tag in tags:
                echo_round(conns[tag], tag, sent[tag])
                sent[tag] += 1
            time.sleep(0.01)

    traffic(0.3, ("d1", "d2"))
    assert haproxy_status(haproxy.stats_socket, "s0") == "UP"
    r = ctl("-s", d1.admin_socket, "drain", str(DRAIN_S))
    assert r.returncode == 0, r.stderr
    t_drain = time.monotonic()
    # Both instances' connections keep answering every message.
    traffic(1.0, ("d1", "d2"))
    # haproxy's check (every 100 ms) now gets "connection refused" and
    # marks d1 down: waited for, since a busy machine delays its checks.
    assert harness.wait_until(lambda: haproxy_status(haproxy.stats_socket,
        "s0") == "DOWN", 15.0, interval=0.05), \
        haproxy_status(haproxy.stats_socket, "s0")
    # New clients all land on d2.
    for _ in range(4):
        c, (addr, rport, tag) = open_lb(port)
        assert tag == "d2" and addr == "127.0.0.1"
        assert int(rport) == c.local_port
        echo_round(c, "new", 0)
        c.close()
    # Until the drain period ends, d1's connection still works.
    while time.monotonic() - t_drain < DRAIN_S - 0.7:
        traffic(0.1, ("d1", "d2"))
    conns["d1"].expect_close(1001, timeout=DRAIN_S + 5.0)
    conns["d1"].reply_close(1001)
    conns["d1"].close()
    traffic(0.3, ("d2",))
    assert sent["d1"] > 20 and sent["d2"] > sent["d1"]
    # d1 kept every message: as many in as out, and still runs.
    d1.wait_log(r"close code=1001 .*msgs_in=%d msgs_out=%d" % (sent["d1"],
        sent["d1"] + 1))
    r = ctl("-s", d1.admin_socket, "status")
    assert r.returncode == 0 and d1.proc.poll() is None
    conns["d2"].close()
