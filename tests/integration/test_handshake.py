"""The opening handshake (RFC 6455 section 4) as wsserverd answers it."""

import pytest

from harness import (OP_BINARY, OP_TEXT, WSClient, accept_key, build_frame,
    build_request, connect_ws)

SUBPROTO_ROUTES = {
    "echo": {"Path": "/", "Backend": "echo"},
    "chat": {"Path": "/chat", "Backend": "echo",
        "SubProtocols": "chat, superchat"},
}


@pytest.fixture(scope="module")
def chat_daemon(module_daemons):
    return module_daemons(routes=SUBPROTO_ROUTES)


def http_error(port, expect, timeout=5.0, **kw):
    """Sends a request that must be refused with status expect; asserts
    the response and that the server then closes the connection."""
    with WSClient(port) as c:
        req, _ = build_request(port=port, **kw)
        c.send(req)
        resp = c.read_http_response(timeout)
        assert resp.status == expect, "status %d (%r), expected %d" % (
            resp.status, resp.body, expect)
        assert resp.header("sec-websocket-accept") is None
        assert resp.header("upgrade") is None
        c.assert_closed(1.0)
        return resp


def test_rfc_sample_key(echo_daemon):
    # RFC 6455 section 1.3's example key and accept value.
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    assert accept_key(key) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    with WSClient(echo_daemon.port) as c:
        resp = c.handshake("/", key=key)
        assert resp.status == 101
        assert resp.header("sec-websocket-accept") == \
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        assert resp.header("sec-websocket-protocol") is None
        c.echo(OP_TEXT, "after handshake")
        c.close_handshake(1000)


def test_not_get_is_405(echo_daemon):
    http_error(echo_daemon.port, 405, method="POST")


@pytest.mark.parametrize("omit", ["Upgrade", "Connection", "Host",
    "Sec-WebSocket-Key"])
def test_missing_header_is_400(echo_daemon, omit):
    http_error(echo_daemon.port, 400, omit=(omit,))


@pytest.mark.parametrize("name,value", [
    ("Upgrade", "h2c"),
    ("Connection", "keep-alive"),
    ("Sec-WebSocket-Key", "c2hvcnQ="),				# 5 bytes
    ("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAAA"),	# 18 bytes
    ("Sec-WebSocket-Key", "not base64 at all!!!!!=="),
])
def test_bad_header_is_400(echo_daemon, name, value):
    http_error(echo_daemon.port, 400, override={name: value})


def test_missing_version_is_426(echo_daemon):
    resp = http_error(echo_daemon.port, 426, omit=("Sec-WebSocket-Version",))
    assert resp.header("sec-websocket-version") == "13"


@pytest.mark.parametrize("version", ["8", "12", "14", "abc"])
def test_wrong_version_is_426(echo_daemon, version):
    resp = http_error(echo_daemon.port, 426,
        override={"Sec-WebSocket-Version": version})
    assert resp.header("sec-websocket-version") == "13"


def test_http10_is_refused(echo_daemon):
    # ws-handshake.h: HTTP versions before 1.1 are answered 505.
    http_error(echo_daemon.port, 505, version="HTTP/1.0")


def test_unknown_path_is_404(echo_daemon):
    http_error(echo_daemon.port, 404, path="/no/such/route")


def test_path_match_is_exact(daemon_factory):
    d = daemon_factory(routes={"a": {"Path": "/a", "Backend": "echo"}})
    for path in ("/", "/a/", "/ab", "/A"):
        http_error(d.port, 404, path=path)
    c = connect_ws(d.port, "/a?query=1")
    c.echo(OP_TEXT, "exact")
    c.close_handshake()


@pytest.mark.parametrize("upgrade,connection", [
    ("WebSocket", "upgrade"),
    ("websocket", "keep-alive, Upgrade"),
    ("WEBSOCKET", "Upgrade,keep-alive"),
])
def test_header_tokens_case_insensitive(echo_daemon, upgrade, connection):
    c = connect_ws(echo_daemon.port,
        override={"Upgrade": upgrade, "Connection": connection})
    c.echo(OP_TEXT, "ok")
    c.close_handshake()


def test_request_dribbled_byte_by_byte(echo_daemon):
    with WSClient(echo_daemon.port) as c:
        req, key = build_request(port=echo_daemon.port)
        c.send_chopped(req, 1)
        resp = c.read_http_response()
        assert resp.status == 101
        assert resp.header("sec-websocket-accept") == accept_key(key)
        c.echo(OP_BINARY, b"\x00\x01\x02")
        c.close_handshake()


def test_frames_pipelined_with_request(echo_daemon):
    # The head and two frames in one write: the frames are not lost.
    with WSClient(echo_daemon.port) as c:
        req, key = build_request(port=echo_daemon.port)
        c.send(req + build_frame(OP_TEXT, "first") +
            build_frame(OP_BINARY, b"second"))
        resp = c.read_http_response()
        assert resp.status == 101
        assert c.read_message() == (OP_TEXT, b"first")
        assert c.read_message() == (OP_BINARY, b"second")
        c.close_handshake()


@pytest.mark.parametrize("offered,chosen", [
    ("superchat, chat", "chat"),		# server preference wins
    ("chat", "chat"),
    ("superchat", "superchat"),
    ("other, superchat", "superchat"),
    ("other", None),
    (None, None),
])
def test_subprotocol_selection(chat_daemon, offered, chosen):
    d = chat_daemon
    with WSClient(d.port) as c:
        resp = c.handshake("/chat", protocols=offered)
        assert resp.header("sec-websocket-protocol") == chosen
        assert len(resp.header_all("sec-websocket-protocol")) == \
            (1 if chosen else 0)
        c.echo(OP_TEXT, "proto")
        c.close_handshake()


def test_subprotocol_split_over_headers(chat_daemon):
    d = chat_daemon
    with WSClient(d.port) as c:
        resp = c.handshake("/chat", extra=[
            ("Sec-WebSocket-Protocol", "other"),
            ("Sec-WebSocket-Protocol", "superchat")])
        assert resp.header("sec-websocket-protocol") == "superchat"
        c.close_handshake()


def test_route_without_subprotocols_sends_none(echo_daemon):
    with WSClient(echo_daemon.port) as c:
        resp = c.handshake("/", protocols="chat")
        assert resp.header("sec-websocket-protocol") is None
        c.close_handshake()


def test_open_and_close_log_lines(daemon_factory):
    d = daemon_factory(routes={"main": {"Path": "/main", "Backend": "echo"}})
    start = d.mark()
    c = connect_ws(d.port, "/main?x=1")
    m = d.wait_log(r"(\S+) open 127\.0\.0\.1:%d (\S+) route=(\S+)" %
        c.local_port, start=start)
    conn_id = m.group(1)
    assert m.group(2) == "/main?x=1"
    assert m.group(3) == "main"
    c.close_handshake(4001)
    d.wait_log(r"%s close code=4001\b" % conn_id, start=start)

    # Connection ids are never reused.
    c2 = connect_ws(d.port, "/main")
    m2 = d.wait_log(r"(\S+) open 127\.0\.0\.1:%d " % c2.local_port,
        start=start)
    assert m2.group(1) != conn_id
    c2.close_handshake()
