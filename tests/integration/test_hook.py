"""OpenRequestHook: a program run with the request's CGI environment
before the upgrade decides it (status, subprotocol, extra headers);
handlers/open_hook.sh answers as its query string says."""

import os
import subprocess

import pytest

from harness import HANDLERS, OP_TEXT, WSClient, connect_ws, wait_until


@pytest.fixture(scope="module")
def hooked(module_daemons):
    return module_daemons(routes={
        "h": {"Path": "/h", "Backend": "echo",
            "OpenRequestHook": "handlers/open_hook.sh"},
        "hs": {"Path": "/hs", "Backend": "script:{handlers}/lines_echo.py",
            "OpenRequestHook": "{handlers}/open_hook.sh"},
        "plain": {"Path": "/plain", "Backend": "echo"},
    }, sections={"websocket": {"HandshakeTimeout": 1}})


def test_no_output_accepts(hooked):
    c = connect_ws(hooked.port, "/h?ok")
    c.echo(OP_TEXT, "through the hook")
    c.close_handshake(1000)


def test_script_backend_after_hook(hooked):
    c = connect_ws(hooked.port, "/hs?ok")
    c.echo(OP_TEXT, "script too")
    c.close_handshake(1000)


def test_status_and_headers_reject(hooked):
    start = hooked.mark()
    c = WSClient(hooked.port)
    try:
        resp = c.handshake("/h?deny", expect=401)
        assert resp.header("www-authenticate") == 'Basic realm="hook"'
        # The status's own reason phrase, not "Error".
        assert resp.reason == "Unauthorized"
    finally:
        c.close()
    hooked.wait_log(r"rejected .* 401 refused by the OpenRequestHook",
        start=start)


def test_subprotocol_and_headers_accept(hooked):
    c = WSClient(hooked.port)
    try:
        resp = c.handshake("/h?proto", protocols="x, chat")
        assert resp.header("sec-websocket-protocol") == "chat"
        assert resp.header("x-hook-path") == "/h"
        assert resp.header("x-hook-remote") == "127.0.0.1"
        c.echo(OP_TEXT, "with chat")
        c.close_handshake(1000)
    finally:
        c.close()


def test_subprotocol_not_offered_is_500(hooked):
    start = hooked.mark()
    c = WSClient(hooked.port)
    try:
        c.handshake("/h?badproto", protocols="x", expect=500)
    finally:
        c.close()
    hooked.wait_log(r"subprotocol not offered by the client", start=start)


def test_nonzero_exit_is_403_and_stderr_logged(hooked):
    start = hooked.mark()
    c = WSClient(hooked.port)
    try:
        c.handshake("/h?fail", expect=403)
    finally:
        c.close()
    hooked.wait_log(r"OpenRequestHook: hook says no", start=start)
    hooked.wait_log(r"OpenRequestHook exited 3: 403", start=start)


def test_timeout_is_503_and_killed(hooked):
    start = hooked.mark()
    c = WSClient(hooked.port)
    try:
        c.handshake("/h?sleep", expect=503, timeout=5)
    finally:
        c.close()
    hooked.wait_log(r"OpenRequestHook gave no answer within 1 s; killed",
        start=start)
    # The event loop was never blocked: other routes answered meanwhile,
    # and the daemon still serves.
    d = connect_ws(hooked.port, "/plain")
    d.echo(OP_TEXT, "alive")
    d.close_handshake(1000)


def test_event_loop_not_blocked_while_hook_runs(hooked):
    slow = WSClient(hooked.port)
    try:
        slow.send(b"GET /h?sleep HTTP/1.1\r\nHost: x\r\nUpgrade: websocket"
            b"\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
            b"dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        for i in range(5):
            c = connect_ws(hooked.port, "/h?ok%d" % i)
            c.echo(OP_TEXT, "meanwhile %d" % i)
            c.close_handshake(1000)
        resp = slow.read_http_response(timeout=5)
        assert resp.status == 503
    finally:
        slow.close()


def test_hook_then_mux_backend(module_daemons, tmp_path_factory):
    # On a mux route the hook answers first: a refusal never reaches the
    # backend; an accept passes the request on, and the 101 carries the
    # hook's subprotocol and headers.
    top = tmp_path_factory.mktemp("hookmux")
    sock, log = str(top / "m.sock"), str(top / "m.log")
    proc = subprocess.Popen(["/usr/bin/python3",
        os.path.join(HANDLERS, "mux_backend.py"), sock, log],
        stdin=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: os.path.exists(sock), 5.0)
        d = module_daemons(routes={"hm": {"Path": "/hm",
            "Backend": "unix+mux:%s" % sock,
            "OpenRequestHook": "{handlers}/open_hook.sh"}})
        c = WSClient(d.port)
        try:
            c.handshake("/hm?deny", expect=401)
        finally:
            c.close()
        c = WSClient(d.port)
        try:
            resp = c.handshake("/hm?proto", protocols="chat")
            assert resp.header("sec-websocket-protocol") == "chat"
            assert resp.header("x-hook-path") == "/hm"
            c.echo(OP_TEXT, "hook and mux")
            c.close_handshake(1000)
        finally:
            c.close()

        def events():
            with open(log) as f:
                return f.read().splitlines()
        assert wait_until(lambda: any(e.startswith("close ")
            for e in events()), 5.0)
        opens = [e for e in events() if e.startswith("open ")]
        assert len(opens) == 1, opens
    finally:
        proc.kill()
        proc.wait(5)
