"""Clean inputs (issue #19): what a request may carry before routing and
what a handler then sees: Host (RFC 9112 3.2.2), the absolute-form host,
the HTTP version, a body on the upgrade, dot segments and encoded bytes in
the path, and the credentials passed to handlers."""

import pytest

from harness import OP_TEXT, WSClient, build_request, connect_ws, read_env

ROUTES = {
    "echo": {"Path": "/", "Backend": "echo"},
    "env": {"Path": "/env/*", "Backend": "script:{handlers}/printenv.py"},
    "auth": {"Path": "/auth", "Backend": "script:{handlers}/printenv.py",
        "PassAuthorization": True},
}


@pytest.fixture(scope="module")
def d(module_daemons):
    return module_daemons(routes=ROUTES)


def env_of(port, path, **kw):
    c = connect_ws(port, path, **kw)
    env = read_env(c)
    c.expect_close(1000)
    c.reply_close(1000)
    return env


def refused(port, request, expect):
    """Sends raw request bytes; asserts the status and the close after it."""
    with WSClient(port) as c:
        c.send(request)
        resp = c.read_http_response()
        assert resp.status == expect, (resp.status, resp.body)
        assert resp.header("upgrade") is None
        c.assert_closed(1.0)
        return resp


@pytest.mark.parametrize("host", [
    "a b", "exa\x9bmple.com", "\u00e9t\u00e9.example", "a/b", "u@host",
    "host:8o", "host:65536", "[::1", "[::g]", ":80", "a%2",
])
def test_bad_host_is_400(d, host):
    req, _ = build_request(port=d.port, override={"Host": host})
    start = d.mark()
    refused(d.port, req.decode("latin-1").encode("utf-8"), 400)
    d.wait_log(r"rejected .* 400 malformed Host", start=start)


@pytest.mark.parametrize("host", ["example.com:1", "[::1]:80", "EXAMPLE.org",
    "127.0.0.1", "a-b_c~d.example"])
def test_good_host_is_accepted(d, host):
    c = connect_ws(d.port, "/", override={"Host": host})
    c.send_text("hi")
    assert c.read_message() == (OP_TEXT, b"hi")
    c.close_handshake(1000)


def test_absolute_form_host_wins(d):
    # The request-target's host stands for Host (RFC 9112 3.2.2): the
    # handler's SERVER_NAME is the target's, not the header's.
    env = env_of(d.port, "ws://target.example:9/env/x?q=1",
        override={"Host": "header.example"})
    assert env["SERVER_NAME"] == "target.example"
    assert env["HTTP_HOST"] == "header.example"
    assert env["PATH_INFO"] == "/x"
    assert env["QUERY_STRING"] == "q=1"


@pytest.mark.parametrize("target", ["ws://u:p@a.example/env/x",
    "ws://a%zz/env/x", "ws://a.example:99999/env/x"])
def test_bad_absolute_form_host_is_400(d, target):
    req, _ = build_request(path=target, port=d.port)
    refused(d.port, req, 400)


@pytest.mark.parametrize("version", ["HTTP/1.9", "HTTP/1.2", "HTTP/1.0",
    "HTTP/2.0"])
def test_other_http_versions_are_505(d, version):
    req, _ = build_request(port=d.port, version=version)
    start = d.mark()
    refused(d.port, req, 505)
    d.wait_log(r"rejected .* 505 HTTP version not supported", start=start)


@pytest.mark.parametrize("name,value", [("Content-Length", "5"),
    ("Content-Length", "0"), ("Transfer-Encoding", "chunked"),
    ("transfer-encoding", "identity")])
def test_body_on_upgrade_is_400(d, name, value):
    # Without the rule, the "body" below would be read as WebSocket frames.
    req, _ = build_request(port=d.port, extra=[(name, value)])
    start = d.mark()
    refused(d.port, req + b"\x81\x80\x00\x00\x00\x00", 400)
    d.wait_log(r"rejected .* 400 Content-Length or Transfer-Encoding",
        start=start)


def test_path_info_clean(d):
    env = env_of(d.port, "/env/x/../y/./z/%2e%2e/w")
    assert env["PATH_INFO"] == "/y/w"
    assert env["SCRIPT_NAME"] == "/env"
    assert env["REQUEST_URI"] == "/env/x/../y/./z/%2e%2e/w"


def test_climbing_out_of_a_route_is_404(d):
    start = d.mark()
    req, _ = build_request(path="/env/../../etc/passwd", port=d.port)
    # /env/../../etc/passwd is /etc/passwd: the env route does not serve it.
    refused(d.port, req, 404)
    d.wait_log(r"rejected .* 404 no route for this path", start=start)


def test_encoded_slash_kept_encoded(d):
    env = env_of(d.port, "/env/a%2fb/%2F..")
    # %2F is not a separator, so "%2F.." is no dot segment.
    assert env["PATH_INFO"] == "/a%2fb/%2F.."


@pytest.mark.parametrize("path", ["/env/a%00b", "/env/%00", "/env/a%zz",
    "/env/a%4"])
def test_encoded_nul_and_bad_encoding_are_400(d, path):
    req, _ = build_request(path=path, port=d.port)
    refused(d.port, req, 400)


def test_proxy_authorization_never_reaches_handlers(d):
    env = env_of(d.port, "/auth", extra=[("Proxy-Authorization",
        "Basic cHJveHk6c2VjcmV0"), ("Authorization", "Bearer abc")])
    assert "HTTP_PROXY_AUTHORIZATION" not in env
    # PassAuthorization = true on this route.
    assert env["HTTP_AUTHORIZATION"] == "Bearer abc"


def test_authorization_not_passed_by_default(d):
    env = env_of(d.port, "/env/x", extra=[("Authorization", "Bearer abc"),
        ("Proxy-Authorization", "Basic eDp5"), ("Cookie", "c=1")])
    assert "HTTP_AUTHORIZATION" not in env
    assert "HTTP_PROXY_AUTHORIZATION" not in env
    assert env["HTTP_COOKIE"] == "c=1"


# ---------------------------------------------------------------- outputs

C1 = "\u009b"			# 8-bit CSI, as UTF-8 (0xc2 0x9b)
EVIL = "/?x=" + C1 + "31m\u00e9"


def raw_request(port, target, extra=()):
    """An upgrade request with raw UTF-8 bytes in the target and headers."""
    req, _ = build_request(path="PATH", port=port,
        extra=[(name, "VALUE%d" % i) for i, (name, _) in enumerate(extra)])
    req = req.replace(b"PATH", target.encode("utf-8"))
    for i, (_, value) in enumerate(extra):
        req = req.replace(b"VALUE%d" % i, value.encode("utf-8"))
    return req


def test_log_escapes_c1_and_keeps_the_line(d):
    start = d.mark()
    with WSClient(d.port) as c:
        c.send(raw_request(d.port, "/nope/\u0085x" + C1 + "[2J\\"))
        assert c.read_http_response().status == 404
    m = d.wait_log(r"rejected .* 404 no route for this path", start=start)
    line = m.string
    assert "/nope/\\xc2\\x85x\\xc2\\x9b[2J\\: 404" in line, line
    assert C1 not in line and "\u0085" not in line


def test_admin_outputs_escape_c1(d):
    from admin_util import admin, conn_id
    with WSClient(d.port) as c:
        c.send(raw_request(d.port, EVIL, extra=[("X-Evil",
            "a" + C1 + "[31m\u2028b\u202ec")]))
        assert c.read_http_response().status == 101
        with admin(d) as adm:
            cid = conn_id(adm, c)
            one = adm.cmd("connection %s" % cid)
            rows = adm.cmd("connections")
            js = adm.cmd("connection %s json" % cid).json()
        text = "\n".join(one.lines + rows.lines)
        assert C1 not in text and "\u2028" not in text and \
            "\u202e" not in text
        assert "RequestURI: /?x=\\xc2\\x9b31m\u00e9" in one.lines
        assert "  X-Evil: a\\xc2\\x9b[31m\\xe2\\x80\\xa8b\\xe2\\x80\\xaec" in \
            one.lines
        assert any(line.endswith(" /?x=\\xc2\\x9b31m\u00e9")
            for line in rows.lines), rows.lines
        # JSON stays JSON, and lossless.
        assert js["RequestURI"] == EVIL
        assert ["X-Evil", "a" + C1 + "[31m\u2028b\u202ec"] in \
            js["RequestHeaders"]


def test_watch_escapes_c1(d):
    from admin_util import admin
    with admin(d) as w:
        assert w.cmd("watch").ok
        with WSClient(d.port) as c:
            c.send(raw_request(d.port, "/w" + C1))
            assert c.read_http_response().status == 404
        deadline = 50
        seen = []
        while deadline > 0:
            deadline -= 1
            line = w.read_line()
            seen.append(line)
            if line.startswith("WebSocketOpenRequest"):
                break
        assert seen[-1].startswith("WebSocketOpenRequest"), seen
        assert "/w\\xc2\\x9b 404" in seen[-1], seen[-1]
        assert all(C1 not in s for s in seen)


def test_mask_by_field_keeps_the_line(d):
    # The text search hid everything after "Cookie:" (status and cause).
    start = d.mark()
    req, _ = build_request(path="/nope/Cookie:x", port=d.port)
    refused(d.port, req, 404)
    d.wait_log(r"rejected 127\.0\.0\.1:\d+ /nope/Cookie:x: 404 no route for "
        r"this path$", start=start)


@pytest.mark.parametrize("query,masked", [
    ("%74oken=s3cret&room=7", "%74oken=***&room=7"),
    ("room=7;token=s3cret", "room=7;token=***"),
    ("token[]=s3cret&x=1", "token[]=***&x=1"),
    ("TOKEN[a]=s3cret", "TOKEN[a]=***"),
    ("access%5Ftoken=s3cret", "access%5Ftoken=***"),
])
def test_mask_decoded_names(d, query, masked):
    from admin_util import admin, conn_id
    start = d.mark()
    c = connect_ws(d.port, "/?" + query)
    m = d.wait_log(r"open 127\.0\.0\.1:%d " % c.local_port, start=start)
    assert "/?" + masked + " route=" in m.string, m.string
    with admin(d) as adm:
        cid = conn_id(adm, c)
        one = adm.cmd("connection %s" % cid).fields()
        js = adm.cmd("connection %s json" % cid).json()
    assert one["RequestURI"] == "/?" + masked
    assert js["RequestURI"] == "/?" + masked
    c.close_handshake(1000)
    assert "s3cret" not in d.log_text()


def test_mask_path_parameter(d):
    start = d.mark()
    req, _ = build_request(path="/nope;token=s3cret/x", port=d.port)
    refused(d.port, req, 404)
    d.wait_log(r"rejected .* /nope;token=\*\*\*/x: 404", start=start)
    assert "s3cret" not in d.log_text()
