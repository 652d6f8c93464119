"""The default [admin] Socket is best effort: a minimal config with no
Socket set still starts (its directory is made when missing), and a second
instance on the same default path warns and serves without an admin
socket. A Socket set in the file stays required (test_admin.py)."""

import os

import harness
from harness import OP_TEXT

MINIMAL = """[server]
LocalHost = 127.0.0.1
LocalPort = 0
[admin]
[route:echo]
Path = /
Backend = echo
"""


def test_default_socket_is_best_effort(daemon_factory):
    first = daemon_factory(ini_text=MINIMAL)
    assert os.path.exists("/run/wsserverd/admin.sock") or \
        "the admin socket is off" in first.log_text()
    second = daemon_factory(ini_text=MINIMAL)
    second.wait_log(r"the admin socket is off \(set \[admin\] Socket to "
                    r"require one\)")
    for d in (first, second):
        with harness.connect_ws(d.port) as c:
            c.echo(OP_TEXT, "served")
