"""test_admin_security.py - who may do what on the admin socket.

AdminAllowedUsers against a peer running as another uid (a child that
drops to nobody before connecting), the refusal logged, reads still
allowed; and hostile input on the socket: binary bytes, NULs, invalid
UTF-8, endless lines, many commands pipelined, all answered or refused
without disturbing other admin clients.
"""

import json
import os
import subprocess
import tempfile

import pytest

import harness
from admin_util import AdminClient, admin

NOBODY = 65534

# Runs as nobody: sends each command and prints one JSON list of replies.
PEER = r"""
import json, os, socket, sys
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
buf = b""
out = []
for cmd in sys.argv[2:]:
    s.sendall(cmd.encode() + b"\n")
    while b"\n\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    reply, _, buf = buf.partition(b"\n\n")
    out.append(reply.decode().split("\n"))
print(json.dumps(out))
"""


@pytest.fixture
def shared_dir():
    """A socket directory that nobody may enter (mkdtemp makes 0700)."""
    d = tempfile.mkdtemp(prefix="wsadm-")
    os.chmod(d, 0o755)
    yield d
    for name in os.listdir(d):
        os.unlink(os.path.join(d, name))
    os.rmdir(d)


def as_nobody(sock, *cmds):
    """Runs cmds over the admin socket as uid nobody; returns the replies."""
    p = subprocess.run(["/usr/bin/python3", "-c", PEER, sock] + list(cmds),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=20, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def start(daemon_factory, shared_dir, allowed):
    sock = os.path.join(shared_dir, "admin.sock")
    admin_keys = {"Socket": sock, "SocketMode": "0666"}
    if allowed is not None:
        admin_keys["AdminAllowedUsers"] = allowed
    d = daemon_factory(sections={"admin": admin_keys})
    return d, sock


def test_allowed_users_refuses_other_uids(daemon_factory, shared_dir):
    d, sock = start(daemon_factory, shared_dir, "root")
    mark = d.mark()
    replies = as_nobody(sock, "status", "stats", "connections",
        "config LogLevel", "config LogLevel=3", "shutdown", "reload",
        "disconnect 1", "help status")
    status, stats, conns, cfg_get, cfg_set, shut, rel, disc, hlp = replies
    # Reads work for anyone who can open the socket.
    assert status[0] == "OK" and status[1].startswith("Listening: ")
    assert stats[0] == "OK"
    assert conns[0].startswith("OK")
    assert cfg_get[0] == "OK" and cfg_get[1].startswith("LogLevel = ")
    assert hlp[0] == "OK"
    # State changes do not.
    for r, name in ((cfg_set, "config"), (shut, "shutdown"),
            (rel, "reload"), (disc, "disconnect")):
        assert r[0] == ("ERR 407 %s: permission denied (uid %d is not in "
            "AdminAllowedUsers)" % (name, NOBODY)), r
    for name in ("config", "shutdown", "reload", "disconnect"):
        d.wait_log(r"admin: uid %d pid \d+: %s refused \(not in "
            r"AdminAllowedUsers\)" % (NOBODY, name), start=mark)
    # Only the attempt to set is logged, not the read.
    assert not d.find_log(r"uid %d pid \d+: config LogLevel$" % NOBODY)
    # Nothing happened: the daemon runs, LogLevel unchanged.
    with admin(d) as a:
        r = a.cmd("config LogLevel")
        assert r.ok and r.lines == [cfg_get[1]]
        assert cfg_get[1] != "LogLevel = 3"
        # Root (the daemon's own user here) is allowed.
        assert a.cmd("config LogLevel=3").ok
        assert a.cmd("config LogLevel").lines == ["LogLevel = 3"]
    assert d.proc.poll() is None


def test_allowed_users_lists_the_peer(daemon_factory, shared_dir):
    d, sock = start(daemon_factory, shared_dir, "daemon, nobody")
    (r,) = as_nobody(sock, "config LogLevel=2")
    assert r[0] == "OK", r
    with admin(d) as a:
        assert a.cmd("config LogLevel").lines == ["LogLevel = 2"]


def test_no_allowed_users_means_socket_permissions(daemon_factory,
        shared_dir):
    d, sock = start(daemon_factory, shared_dir, None)
    (r,) = as_nobody(sock, "config LogLevel=2")
    assert r[0] == "OK", r
    # And a socket nobody may open keeps nobody out entirely.
    d2 = daemon_factory(sections={"admin": {
        "Socket": os.path.join(shared_dir, "closed.sock"),
        "SocketMode": "0600"}})
    p = subprocess.run(["/usr/bin/python3", "-c", PEER,
        os.path.join(shared_dir, "closed.sock"), "status"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=20, text=True)
    assert p.returncode != 0 and "PermissionError" in p.stderr
    assert d2.proc.poll() is None


def test_bad_allowed_user_is_a_config_error(daemon_factory, shared_dir):
    d = harness.Daemon(sections={"admin": {
        "AdminAllowedUsers": "root,no-such-user-zz"}})
    try:
        p = subprocess.run([harness.daemon_path(), "-t", "-c", d.ini],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=10, text=True)
    finally:
        d.cleanup()
    assert p.returncode != 0
    assert 'AdminAllowedUsers: no such user "no-such-user-zz"' in p.stdout


def test_binary_and_hostile_input(daemon_factory):
    d = daemon_factory()
    with admin(d) as bystander, admin(d) as a:
        # NULs, control bytes, invalid UTF-8 and high bytes: unknown
        # commands, answered, the connection still usable.
        a.send_raw(b"\x00\x01\x02status\n")
        r = a.read_reply()
        assert (r.code, r.text) == (403, "NUL, CR or LF inside the command "
            "line")
        a.send_raw(b"stat\xffus\n")
        assert a.read_reply().code == 401
        a.send_raw(b"status\x00 json\n")
        assert a.read_reply().code == 403
        a.send_raw(b"status\r json\n")
        assert a.read_reply().code == 403
        a.send_raw(b"\xc3\x28\xa0\xa1 \xf0\x28\x8c\x28\n")
        assert a.read_reply().code == 401
        a.send_raw(bytes(range(1, 10)) + b"\x0b\x0c" + bytes(range(14, 256)) +
            b"\n")
        assert a.read_reply().code == 401
        assert a.cmd("status").ok
        # A burst of pipelined commands is answered in order, each once.
        a.send_raw(b"status\n" * 500)
        for _ in range(500):
            r = a.read_reply()
            assert r.ok and r.lines[0].startswith("Listening: ")
        # The other client was never disturbed.
        assert bystander.cmd("status").ok
    # An endless line without a newline: 400 and the connection closed,
    # daemon memory bounded.
    rss0 = d.rss_kib()
    with admin(d) as a:
        try:
            for _ in range(64):
                a.send_raw(b"A" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = a.read_reply()
        assert r.code == 400
    assert d.rss_kib() - rss0 < 4096
    with admin(d) as a:
        assert a.cmd("status").ok
