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
