"""The script: backend: websocketd-style CGI handlers, one process per
WebSocket, and their whole life cycle (EOF, SIGTERM, SIGKILL, reaping)."""

import os
import time

import pytest

from harness import (OP_BINARY, OP_TEXT, HANDLERS, UnexpectedClose,
    handlers_of, connect_ws, procs_with_marker, unique_marker, wait_no_procs,
    wait_until)

MARK = unique_marker()
ROUTES = {
    "lines": {"Path": "/lines",
        "Backend": "script:{handlers}/lines_echo.py " + MARK},
    "bin": {"Path": "/bin", "Backend": "script:{handlers}/binary_cat.py " + MARK,
        "MessageFormat": "binary"},
    "env": {"Path": "/env", "Backend": "script:{handlers}/printenv.py",
        "PassEnv": "WSIT_PASS"},
    "ok": {"Path": "/ok", "Backend": "script:{handlers}/output.py 0 one\\ntwo"},
    "fail": {"Path": "/fail",
        "Backend": "script:{handlers}/output.py 3 oops\\n"},
    "stderr": {"Path": "/stderr",
        "Backend": "script:{handlers}/stderr.py " + MARK},
    "rel": {"Path": "/rel",
        "Backend": "script:handlers/output.py 0 relative\\n"},
}
DAEMON_ENV = {"WSIT_SECRET": "must-not-leak", "WSIT_PASS": "passed-through"}


@pytest.fixture(scope="module")
def script_daemon(module_daemons):
    d = module_daemons(routes=ROUTES, env=DAEMON_ENV,
        sections={"backend": {"KillTimeout": 1}})
    yield d
    assert wait_no_procs(MARK, 5) == []


def no_zombies(d):
    zombies = [p for p, state in handlers_of(d.pid) if state == "Z"]
    return zombies == []


def assert_reaped(d, marker, timeout):
    """Every process of marker is gone and the daemon has no zombie child."""
    assert wait_no_procs(marker, timeout) == [], "handler survived"
    assert wait_until(lambda: no_zombies(d), 2.0), "zombie children: %r" % \
        handlers_of(d.pid)


def read_state(path):
    try:
        with open(path) as f:
            return [line.split() for line in f.read().splitlines()]
    except FileNotFoundError:
        return []


def event_time(path, name):
    for ev in read_state(path):
        if ev[0] == name:
            return float(ev[1])
    return None


# ---------------------------------------------------------------- formats

def test_lines_echo(script_daemon):
    c = connect_ws(script_daemon.port, "/lines")
    for m in ["hello", "with  spaces ", "\u00fcn\u00efc\u00f6d\u00e9", "",
            "x" * 10000]:
        c.send_text(m)
        assert c.read_message() == (OP_TEXT, m.encode())
    c.close_handshake(1000)


def test_each_stdout_line_is_a_message(script_daemon):
    # "one\ntwo" then exit 0: the last line has no newline but is sent.
    c = connect_ws(script_daemon.port, "/ok")
    assert c.read_message() == (OP_TEXT, b"one")
    assert c.read_message() == (OP_TEXT, b"two")
    c.expect_close(1000)
    c.reply_close(1000)
    c.assert_closed(1.0)


def test_exit_nonzero_is_1011(script_daemon):
    c = connect_ws(script_daemon.port, "/fail")
    assert c.read_message() == (OP_TEXT, b"oops")
    c.expect_close(1011)
    c.reply_close(1011)
    c.assert_closed(1.0)


def test_relative_handler_path(script_daemon):
    # Resolved against the ini file's directory (the daemon runs in "/").
    c = connect_ws(script_daemon.port, "/rel")
    assert c.read_message() == (OP_TEXT, b"relative")
    c.expect_close(1000)
    c.reply_close(1000)
    c.assert_closed(1.0)


def test_binary_in_lines_mode_is_1003(script_daemon):
    c = connect_ws(script_daemon.port, "/lines")
    c.send_binary(b"\x00\x01")
    c.expect_failure(1003)


def test_binary_format_raw_bytes(script_daemon):
    c = connect_ws(script_daemon.port, "/bin")
    data = bytes(range(256)) * 64 + b"\n\r\n\x00"
    c.send_binary(data[:5000])
    c.send_binary(data[5000:])
    got = b""
    deadline = time.monotonic() + 5
    while len(got) < len(data) and time.monotonic() < deadline:
        op, chunk = c.read_message()
        assert op == OP_BINARY
        got += chunk
    assert got == data
    c.close_handshake(1000)


# ---------------------------------------------------------------- env

def test_cgi_environment(script_daemon):
    d = script_daemon
    start = d.mark()
    c = connect_ws(d.port, "/env?x=1&y=two", extra=[
        ("X-Custom-Header", "custom value"),
        ("Proxy", "http://proxy.invalid:3128"),
        ("Origin", "http://origin.test")])
    m = d.wait_log(r"(\S+) open 127\.0\.0\.1:%d " % c.local_port,
        start=start)
    env = {}
    for _ in range(500):
        op, line = c.read_message()
        assert op == OP_TEXT
        if line == b"END":
            break
        name, _, value = line.decode().partition("=")
        env[name] = value
    c.expect_close(1000)
    c.reply_close(1000)
    c.assert_closed(1.0)

    assert env["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert env["REQUEST_METHOD"] == "GET"
    assert env["REQUEST_URI"] == "/env?x=1&y=two"
    assert env["QUERY_STRING"] == "x=1&y=two"
    assert env["SCRIPT_NAME"] == "/env"
    assert env["SERVER_NAME"] == "127.0.0.1"
    assert env["SERVER_PORT"] == str(d.port)
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["REMOTE_PORT"] == str(c.local_port)
    assert env["HTTP_HOST"] == "127.0.0.1:%d" % d.port
    assert env["HTTP_X_CUSTOM_HEADER"] == "custom value"
    assert env["HTTP_ORIGIN"] == "http://origin.test"
    assert env["HTTP_UPGRADE"] == "websocket"
    assert "HTTP_PROXY" not in env		# httpoxy
    assert env["WSSERVERD_CONNECTION_ID"] == m.group(1)
    assert env.get("PATH"), "no default PATH"
    assert env["WSIT_PASS"] == "passed-through"
    # A cleared environment: nothing of the daemon's own leaks through
    # (PATH and PassEnv names aside; Python itself may add LC_CTYPE).
    leaked = (set(d.env) & set(env)) - {"PATH", "WSIT_PASS", "LC_CTYPE"}
    assert leaked == set(), "leaked into the handler: %r" % sorted(leaked)
    assert "WSIT_SECRET" not in env


def test_connection_ids_differ(script_daemon):
    ids = []
    for _ in range(3):
        c = connect_ws(script_daemon.port, "/env")
        for _ in range(500):
            op, line = c.read_message()
            if line.startswith(b"WSSERVERD_CONNECTION_ID="):
                ids.append(line)
            if line == b"END":
                break
        c.expect_close(1000)
        c.close()
    assert len(ids) == 3 and len(set(ids)) == 3


# ---------------------------------------------------------------- stderr

def test_stderr_is_logged(script_daemon):
    d = script_daemon
    start = d.mark()
    c = connect_ws(d.port, "/stderr")
    m = d.wait_log(r"(\S+) open 127\.0\.0\.1:%d " % c.local_port,
        start=start)
    conn_id = m.group(1)
    assert c.read_message() == (OP_TEXT, b"ready")
    d.wait_log(r"%s handler stderr: first %s$" % (conn_id, MARK), start=start)
    d.wait_log(r"%s handler stderr: second %s$" % (conn_id, MARK),
        start=start)
    # stderr is not sent to the client.
    c.send_text("ping")
    assert c.read_message() == (OP_TEXT, b"ping")
    c.close_handshake(1000)


# ---------------------------------------------------------------- life cycle

def linger_daemon(daemon_factory, mode, kill_timeout=1):
    marker = unique_marker()
    d = daemon_factory(start=False, routes={"linger": {"Path": "/linger",
        "Backend": "script:{handlers}/linger.py %s {dir}/state %s" %
        (marker, mode)}}, sections={"backend": {"KillTimeout": kill_timeout}})
    d.start()
    return d, marker, os.path.join(d.dir, "state")


def test_handler_exits_on_eof(script_daemon):
    marker_pids = procs_with_marker(MARK)
    c = connect_ws(script_daemon.port, "/lines")
    c.send_text("hi")
    assert c.read_message() == (OP_TEXT, b"hi")
    mine = [p for p in procs_with_marker(MARK) if p not in marker_pids]
    assert len(mine) == 1, "expected one handler process, found %r" % mine
    c.close_handshake(1000)
    # lines_echo.py exits at EOF: no signal is needed, it goes at once.
    assert wait_until(lambda: mine[0] not in procs_with_marker(MARK), 1.0)
    assert_reaped(script_daemon, MARK, 2.0)


def test_eof_then_sigterm(daemon_factory):
    d, marker, state = linger_daemon(daemon_factory, "term")
    c = connect_ws(d.port, "/linger")
    assert c.read_message() == (OP_TEXT, b"ready")
    assert len(procs_with_marker(marker)) == 1
    t0 = time.monotonic()
    c.close_handshake(1000)
    assert wait_until(lambda: event_time(state, "term"), 4.0), \
        read_state(state)
    t_eof = event_time(state, "eof")
    t_term = event_time(state, "term")
    assert t_eof is not None and t_eof - t0 < 1.0, "no prompt stdin EOF"
    # SIGTERM only after the KillTimeout grace period.
    assert 0.8 <= t_term - t_eof <= 3.0, (t_eof, t_term)
    assert_reaped(d, marker, 1.0)


def test_eof_sigterm_then_sigkill(daemon_factory):
    d, marker, state = linger_daemon(daemon_factory, "ignore")
    c = connect_ws(d.port, "/linger")
    assert c.read_message() == (OP_TEXT, b"ready")
    t0 = time.monotonic()
    c.close_handshake(1000)
    assert wait_until(lambda: event_time(state, "term"), 4.0), \
        read_state(state)
    t_term = event_time(state, "term")
    assert procs_with_marker(marker), "died from an ignored SIGTERM?"
    assert wait_no_procs(marker, 4.0) == [], "SIGKILL never came"
    t_gone = time.monotonic()
    # SIGKILL another KillTimeout after SIGTERM.
    assert t_gone - t_term >= 0.8, (t0, t_term, t_gone)
    assert t_gone - t0 <= 2 * 1 + 2.5
    assert_reaped(d, marker, 1.0)


def test_client_vanishes_handler_reaped(daemon_factory):
    # No close frame at all: the TCP connection just goes away.
    d, marker, state = linger_daemon(daemon_factory, "ignore")
    c = connect_ws(d.port, "/linger")
    assert c.read_message() == (OP_TEXT, b"ready")
    c.close()
    assert wait_until(lambda: event_time(state, "eof"), 2.0), read_state(state)
    assert_reaped(d, marker, 2 * 1 + 3.0)


def test_handler_exit_while_client_talks(script_daemon):
    # /ok ends by itself; the client's late messages do not matter.
    c = connect_ws(script_daemon.port, "/ok")
    try:
        c.send_text("ignored")
    except OSError:
        pass
    got = []
    with pytest.raises(UnexpectedClose) as e:
        for _ in range(3):
            got.append(c.read_message())
    assert got == [(OP_TEXT, b"one"), (OP_TEXT, b"two")]
    assert e.value.frame.close_code() == 1000
    c.reply_close(1000)
    c.assert_closed(1.0)


def test_many_handlers_no_leftovers(script_daemon):
    d = script_daemon
    clients = [connect_ws(d.port, "/lines") for _ in range(20)]
    for i, c in enumerate(clients):
        c.send_text("client %d" % i)
    for i, c in enumerate(clients):
        assert c.read_message() == (OP_TEXT, b"client %d" % i)
    assert len(procs_with_marker(MARK)) >= 20
    for c in clients[:10]:
        c.close_handshake(1000)
    for c in clients[10:]:
        c.close()			# abrupt
    assert_reaped(d, MARK, 5.0)
    assert wait_until(lambda: handlers_of(d.pid) == [], 2.0), \
        handlers_of(d.pid)


def test_handlers_dir_is_executable():
    for name in os.listdir(HANDLERS):
        path = os.path.join(HANDLERS, name)
        assert os.access(path, os.X_OK), "%s lost its exec bit" % path
