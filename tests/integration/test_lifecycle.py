"""The daemon's life: configuration check (-t), usage, shutdown on SIGTERM."""

import os
import re
import signal
import socket
import subprocess
import textwrap
import time

from harness import (HOST, OP_TEXT, TOP_SRCDIR, Daemon, connect_ws,
    daemon_path, procs_with_marker, unique_marker, wait_no_procs)


def run_daemon(*args, timeout=10):
    p = subprocess.run([daemon_path()] + list(args), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


def write_ini(tmp_path, text):
    path = tmp_path / "test.ini"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


# ---------------------------------------------------------------- -t

def test_check_good_config(tmp_path):
    d = Daemon(routes={"echo": {"Path": "/", "Backend": "echo"},
        "s": {"Path": "/s", "Backend": "script:handlers/lines_echo.py x"}})
    try:
        rc, out, err = run_daemon("-t", "-c", d.ini)
        assert rc == 0, err
        assert "configuration OK" in out + err
    finally:
        d.cleanup()


def test_check_shipped_config():
    ini = os.path.join(TOP_SRCDIR, "etc", "wsserverd.ini")
    rc, out, err = run_daemon("-t", "-c", ini)
    assert rc == 0, err
    assert "configuration OK" in out + err


def test_check_bad_config_lists_every_error(tmp_path):
    ini = write_ini(tmp_path, """
        [server]
        LocalHost = 127.0.0.1
        LocalPort = 70000
        NoSuchKey = 1
        MaxConnections = lots
        [websocket]
        WaitForCloseResponse = maybe
        [nosuchsection]
        Foo = bar
        [route:a]
        Path = /a
        Backend = echo
        MessageFormat = xml
        [route:b]
        Path = /a
        Backend = echo
        [route:c]
        Path = /c
        """)
    rc, out, err = run_daemon("-t", "-c", ini)
    assert rc == 1, (rc, out, err)
    assert "configuration OK" not in out + err
    # Each line carries the program's name (errors before logging starts).
    f = "wsserverd: " + re.escape(ini)
    expect = {
        "LocalPort out of range": r"^%s:3: " % f,
        "unknown key": r"^%s:4: .*NoSuchKey" % f,
        "not a number": r"^%s:5: .*MaxConnections" % f,
        "bad boolean": r"^%s:7: .*WaitForCloseResponse" % f,
        "unknown section": r"^%s:(8|9): " % f,
        "bad MessageFormat": r"^%s:13: .*MessageFormat" % f,
        "duplicate Path": r"^%s:(14|15): " % f,
        "route without Backend": r"^%s:\d+: .*Backend" % f,
    }
    missing = [what for what, rx in expect.items()
        if not re.search(rx, err, re.M)]
    assert missing == [], "not reported: %r\nstderr:\n%s" % (missing, err)
    lines = [ln for ln in err.splitlines() if re.match(r"^%s:\d+: " % f, ln)]
    assert len(lines) >= len(expect) - 1, err


def test_check_missing_file(tmp_path):
    path = str(tmp_path / "absent.ini")
    rc, out, err = run_daemon("-t", "-c", path)
    assert rc == 1
    assert err == "wsserverd: %s: No such file or directory\n" % path


def test_unknown_option_is_usage():
    # GNU style: getopt's complaint, then where the help is; status 2.
    for args in (["-Z"], ["--no-such-option"], ["extra-argument"]):
        rc, out, err = run_daemon(*args)
        assert rc == 2, args
        assert out == ""
        assert err.endswith("Try 'wsserverd --help' for more "
            "information.\n"), err


def test_port_in_use_fails(tmp_path):
    s = socket.socket()
    try:
        s.bind((HOST, 0))
        s.listen(1)
        port = s.getsockname()[1]
        ini = write_ini(tmp_path, """
            [server]
            LocalHost = 127.0.0.1
            LocalPort = %d
            [route:echo]
            Path = /
            Backend = echo
            """ % port)
        p = subprocess.run([daemon_path(), "-f", "-c", ini],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=10)
        assert p.returncode != 0, p.stdout
    finally:
        s.close()


# ---------------------------------------------------------------- shutdown

def test_sigterm_closes_1001_and_exits_0(daemon_factory):
    marker = unique_marker()
    d = daemon_factory(routes={
        "echo": {"Path": "/", "Backend": "echo"},
        "lines": {"Path": "/lines",
            "Backend": "script:{handlers}/lines_echo.py " + marker}},
        sections={"server": {"ShutdownTimeout": 3},
            "backend": {"KillTimeout": 1}})
    clients = [connect_ws(d.port), connect_ws(d.port),
        connect_ws(d.port, "/lines")]
    for i, c in enumerate(clients):
        c.echo(OP_TEXT, "before %d" % i)
    assert len(procs_with_marker(marker)) == 1
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    for c in clients:
        c.expect_close(1001, timeout=2.0)
        c.reply_close(1001)
        c.assert_closed(1.0)
    rc = d.wait_exit(3 + 1)
    assert rc == 0, "exit status %r after %.1fs" % (rc,
        time.monotonic() - t0)
    assert wait_no_procs(marker, 1.0) == []


def test_sigterm_with_stubborn_client_and_handler(daemon_factory):
    # A client that never answers the close and a handler that ignores
    # SIGTERM: the daemon still exits 0 within ShutdownTimeout and leaves
    # no process behind.
    marker = unique_marker()
    d = daemon_factory(routes={"linger": {"Path": "/linger",
        "Backend": "script:{handlers}/linger.py %s {dir}/state ignore" %
        marker}}, sections={"server": {"ShutdownTimeout": 2},
        "backend": {"KillTimeout": 10}})
    c = connect_ws(d.port, "/linger")
    assert c.read_message() == (OP_TEXT, b"ready")
    quiet = connect_ws(d.port, "/linger")
    assert quiet.read_message() == (OP_TEXT, b"ready")
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    c.expect_close(1001, timeout=2.0)
    rc = d.wait_exit(2 + 2)
    elapsed = time.monotonic() - t0
    assert rc == 0, "exit status %r after %.1fs" % (rc, elapsed)
    assert elapsed <= 2 + 1.5
    assert wait_no_procs(marker, 1.0) == []
    c.close()
    quiet.close()


def test_no_listening_after_shutdown(daemon_factory):
    d = daemon_factory()
    port = d.port
    d.signal(signal.SIGTERM)
    assert d.wait_exit(5) == 0
    s = socket.socket()
    s.settimeout(2)
    try:
        err = s.connect_ex((HOST, port))
    finally:
        s.close()
    assert err != 0
