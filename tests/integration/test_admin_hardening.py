"""The admin socket hardened (issue #19): sendfile only from
SendFileDirectory (off by default) and only for admins, AdminIdleTimeout for
clients that send nothing, and places kept for admins so that whoever can
merely connect cannot lock them out."""

import os
import socket
import subprocess
import time

import pytest

import harness
from admin_util import AdminClient, admin, conn_id
from test_admin_security import as_nobody, shared_dir, start  # noqa: F401

# Runs as nobody: opens argv[2] connections to the admin socket argv[1],
# prints the first reply line each got (or "open"), then holds them until
# its stdin closes.
HOLDER = r"""
import os, socket, sys
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
socks, out = [], []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(0.05)
    s.connect(sys.argv[1])
    try:
        out.append(s.recv(100).decode().split("\n")[0] or "closed")
    except socket.timeout:
        out.append("open")
    socks.append(s)
print(" ".join(x.replace(" ", "_") for x in out), flush=True)
sys.stdin.read()
"""


def hold_as_nobody(sock, n):
    """Starts a nobody process holding n admin connections; returns
    (process, the first reply word of each: "open" while kept)."""
    p = subprocess.Popen(["/usr/bin/python3", "-c", HOLDER, sock, str(n)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().split()
    assert len(line) == n, line
    return p, line


def release(p):
    p.stdin.close()
    p.wait(10)
    p.stdout.close()


# ---------------------------------------------------------------- sendfile

def test_sendfile_off_by_default(daemon_factory, tmp_path):
    d = daemon_factory()
    (tmp_path / "f").write_bytes(b"secret")
    with admin(d) as a, harness.connect_ws(d.port) as c:
        cid = conn_id(a, c)
        r = a.cmd("sendfile %s %s" % (cid, tmp_path / "f"))
        assert r.code == 407 and "sendfile is off" in r.text, r
        r = a.cmd("sendfile %s /etc/passwd" % cid)
        assert r.code == 407
        c.echo(harness.OP_TEXT, "nothing was sent")


@pytest.fixture
def tree(tmp_path):
    files = tmp_path / "files"
    (files / "sub").mkdir(parents=True)
    (files / "a.bin").write_bytes(b"\x00inside")
    (files / "sub" / "b.txt").write_bytes(b"deeper")
    (tmp_path / "outside").write_bytes(b"secret")
    os.symlink(str(tmp_path / "outside"), files / "out-link")
    os.symlink("a.bin", files / "in-link")
    os.symlink(str(tmp_path), files / "dir-link")
    return tmp_path


def test_sendfile_confined_to_its_directory(daemon_factory, tree):
    files = tree / "files"
    d = daemon_factory(sections={"admin": {"SendFileDirectory": "files"}},
        start=False)
    os.symlink(str(files), os.path.join(d.dir, "files"))
    d.start()
    with admin(d) as a, harness.connect_ws(d.port) as c:
        cid = conn_id(a, c)
        # Inside: absolute, relative to the directory, a link that stays.
        for path, data in ((files / "a.bin", b"\x00inside"),
                ("sub/b.txt", b"deeper"), ("in-link", b"\x00inside"),
                (str(files / "sub" / ".." / "a.bin"), b"\x00inside")):
            r = a.cmd("sendfile %s %s" % (cid, path))
            assert r.ok, (path, r)
            assert c.read_message() == (harness.OP_BINARY, data)
        # Outside: .., an absolute path, links that lead out.
        start = d.mark()
        for path in ("../outside", str(tree / "outside"), "/etc/passwd",
                "out-link", "dir-link/outside", "sub/../../outside"):
            r = a.cmd("sendfile %s %s" % (cid, path))
            assert r.code == 407 and "outside SendFileDirectory" in r.text, \
                (path, r)
        d.wait_log(r"sendfile of \S+/outside refused: outside "
            r"SendFileDirectory", start=start)
        assert a.cmd("sendfile %s nope" % cid).code == 406
        c.echo(harness.OP_TEXT, "only the inside files came")


def test_sendfile_needs_an_admin(daemon_factory, shared_dir, tmp_path):
    d, sock = start(daemon_factory, shared_dir, "root")
    (tmp_path / "f").write_bytes(b"x")
    with harness.connect_ws(d.port) as c:
        with admin(d) as a:
            cid = conn_id(a, c)
        replies = as_nobody(sock, "sendfile %s %s" % (cid, tmp_path / "f"))
        assert replies[0][0].startswith("ERR 407 sendfile: permission "
            "denied"), replies
        c.echo(harness.OP_TEXT, "nothing was sent")


# ---------------------------------------------------------------- idle

def test_idle_client_is_disconnected(daemon_factory):
    d = daemon_factory(sections={"admin": {"AdminIdleTimeout": 1}})
    start = d.mark()
    idle = AdminClient(d.admin_socket)
    busy = AdminClient(d.admin_socket)
    watcher = AdminClient(d.admin_socket)
    try:
        assert watcher.cmd("watch").ok
        t0 = time.monotonic()
        # busy sends a command every 0.4 s; idle sends nothing.
        while time.monotonic() - t0 < 2.5:
            assert busy.cmd("status").ok
            time.sleep(0.4)
        assert idle.read_to_eof(3.0) == b""
        took = time.monotonic() - t0
        assert took < 5.0
        d.wait_log(r"admin: client \d+ \(uid 0 pid \d+\) sent no command "
            r"for 1 s \(AdminIdleTimeout\): disconnected", start=start)
        assert busy.cmd("status").ok
        # The watcher still hears events well after the timeout.
        with harness.connect_ws(d.port):
            pass
        line = watcher.read_line(5.0)
        assert line.split()[0] in ("Log", "WebSocketOpenRequest",
            "Connected", "Disconnected"), line
    finally:
        idle.close()
        busy.close()
        watcher.close()


def test_idle_timeout_spares_a_running_command(daemon_factory):
    # A ping to a client that never answers runs past AdminIdleTimeout: the
    # admin client waits for its ERR 408, then the clock runs again.
    d = daemon_factory(sections={"admin": {"AdminIdleTimeout": 1},
        "server": {"DefaultTimeout": 2}})
    with admin(d) as a:
        s = socket.create_connection((harness.HOST, d.port), timeout=5)
        try:
            req, _ = harness.build_request(port=d.port)
            s.sendall(req)
            s.recv(4096)
            cid = a.cmd("connections json").json()[0]["ConnectionId"]
            r = a.cmd("ping %s" % cid, timeout=10.0)
            assert r.code == 408, r
            assert a.cmd("status").ok
        finally:
            s.close()


# ---------------------------------------------------------------- places

def test_places_kept_for_admins(daemon_factory, shared_dir):
    d, sock = start(daemon_factory, shared_dir, None)
    # Anyone may connect (SocketMode 0666), even run every command
    # (AdminAllowedUsers is empty), but the last 8 of 64 places are for
    # root, the daemon's user and AdminAllowedUsers.
    p, got = hold_as_nobody(sock, 60)
    try:
        assert got[:56] == ["open"] * 56, got
        assert got[56:] == ["ERR_503_too_many_admin_clients"] * 4, got
        d.wait_log(r"admin: refused a client \(uid 65534\): 56 already "
            r"connected, 8 places kept for admins")
        admins = [AdminClient(sock) for _ in range(8)]
        try:
            for a in admins:
                assert a.cmd("status").ok
            # All 64 taken: even root waits now.
            extra = AdminClient(sock)
            try:
                assert extra.read_line() == "ERR 503 too many admin clients"
            finally:
                extra.close()
        finally:
            for a in admins:
                a.close()
    finally:
        release(p)
    with admin(d) as a:
        assert a.cmd("status").ok
