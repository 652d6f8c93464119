"""test_reuseport.py - several daemons on one port: BindExclusively.

With BindExclusively off the listening socket sets SO_REUSEPORT, so one
instance per core can share a port and the kernel spreads new clients over
them; with it on (the default) a second daemon on a taken port refuses to
start, whatever Workers says on either side and with socket activation.
"""

import re
import socket
import subprocess

import pytest

import harness
from admin_util import admin


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def count(d):
    with admin(d) as a:
        return len(a.cmd("connections json").json())


def test_two_instances_share_a_port(daemon_factory):
    port = free_port()
    keys = {"server": {"LocalPort": port, "BindExclusively": False}}
    d1 = daemon_factory(sections=keys)
    d2 = daemon_factory(sections=keys)
    assert d1.port == d2.port == port
    clients = []
    try:
        # Source ports differ, so the kernel's hash sends some to each.
        for _ in range(40):
            c = harness.connect_ws(port)
            c.echo(harness.OP_TEXT, "hi")
            clients.append(c)
        n1, n2 = count(d1), count(d2)
        assert n1 + n2 == 40 and n1 > 0 and n2 > 0, (n1, n2)
    finally:
        for c in clients:
            c.close_handshake()
            c.close()
    # One stops: the other takes every new client.
    d1.stop()
    for _ in range(10):
        with harness.connect_ws(port) as c:
            c.echo(harness.OP_TEXT, "still")
            c.close_handshake()


def test_exclusive_port_refuses_a_second_daemon(daemon_factory):
    port = free_port()
    daemon_factory(sections={"server": {"LocalPort": port}})
    d2 = harness.Daemon(sections={"server": {"LocalPort": port,
        "BindExclusively": False}})
    try:
        p = subprocess.run([harness.daemon_path(), "-f", "-c", d2.ini],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=10, text=True)
    finally:
        d2.cleanup()
    assert p.returncode == 1
    assert "cannot listen" in p.stdout and "Address already in use" in \
        p.stdout, p.stdout


def _run_second(ini, timeout=15, argv=None):
    """Runs a daemon that must not start; returns (exit status, output)."""
    p = subprocess.run(argv or [harness.daemon_path(), "-f", "-c", ini],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=timeout, text=True)
    return p.returncode, p.stdout


@pytest.mark.parametrize("first,second", [(2, 2), (1, 2), (2, 1), (3, 3)])
def test_exclusive_port_with_workers(daemon_factory, first, second):
    """BindExclusively (the default) holds for every Workers value: the
    workers' SO_REUSEPORT sockets let no other process in (it did with
    Workers > 1: both started and the kernel split the clients)."""
    port = free_port()
    d1 = daemon_factory(sections={"server": {"LocalPort": port,
        "Workers": first}})
    assert d1.port == port
    d2 = harness.Daemon(sections={"server": {"LocalPort": port,
        "Workers": second}})
    try:
        rc, out = _run_second(d2.ini)
    finally:
        d2.cleanup()
    assert rc == 1, out
    assert "cannot listen" in out and re.search(
        "address already in use", out, re.I), out
    # The first still serves every client.
    for _ in range(10):
        with harness.connect_ws(port) as c:
            c.echo(harness.OP_TEXT, "mine")
            c.close_handshake()


# Runs wsserverd with LISTEN_FDS: fd 3 is a listening socket on the port,
# made with SO_REUSEPORT when argv[3] is "1" (as ReusePort=yes in a socket
# unit makes it).
ACTIVATE = r"""
import os, socket, sys
port, daemon, ini, reuse = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, int(reuse))
s.bind(("127.0.0.1", port))
s.listen(16)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(daemon, [daemon, "-f", "-c", ini])
"""


def _activated_argv(port, ini, reuse):
    return ["/usr/bin/python3", "-c", ACTIVATE, str(port),
        harness.daemon_path(), ini, "1" if reuse else "0"]


@pytest.mark.parametrize("workers", [1, 2])
def test_exclusive_port_socket_activation(daemon_factory, workers):
    """With socket activation: a daemon whose inherited socket shares its
    port with another process's (ReusePort=yes let it in) refuses to
    start; and a daemon started after an activated one (whose socket has
    SO_REUSEPORT) does not join it."""
    port = free_port()
    d1 = daemon_factory(sections={"server": {"LocalPort": port,
        "Workers": 2}})
    d2 = harness.Daemon(sections={"server": {"LocalPort": 1,
        "Workers": workers}})
    try:
        rc, out = _run_second(d2.ini, argv=_activated_argv(port, d2.ini,
            True))
    finally:
        d2.cleanup()
    assert rc == 1, out
    assert "another process listens on port %d" % port in out, out
    d1.stop()

    # An activated daemon first, its socket with SO_REUSEPORT.
    port = free_port()
    d3 = harness.Daemon(sections={"server": {"LocalPort": 1,
        "Workers": workers}})
    d3.proc = subprocess.Popen(_activated_argv(port, d3.ini, True),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, cwd="/", env=d3.env)
    import threading
    d3._reader = threading.Thread(target=d3._read_log, daemon=True)
    d3._reader.start()
    try:
        d3.wait_log(r"listening on 127\.0\.0\.1:%d" % port, timeout=10.0)
        d4 = harness.Daemon(sections={"server": {"LocalPort": port,
            "Workers": 2}})
        try:
            rc, out = _run_second(d4.ini)
        finally:
            d4.cleanup()
        assert rc == 1, out
        assert re.search("address already in use", out, re.I), out
        with harness.connect_ws(port) as c:
            c.echo(harness.OP_TEXT, "activated")
            c.close_handshake()
    finally:
        d3.stop()
        d3.cleanup()
