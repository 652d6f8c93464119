"""test_reuseport.py - several daemons on one port: BindExclusively = False.

With BindExclusively off the listening socket sets SO_REUSEPORT, so one
instance per core can share a port and the kernel spreads new clients over
them; with it on (the default) a second daemon on a taken port refuses to
start.
"""

import socket
import subprocess

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
