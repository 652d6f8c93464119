"""Route policy: exact and prefix Paths (longest prefix wins), SCRIPT_NAME
and PATH_INFO, AllowedOrigins (403), per-route MaxConnections (429) and
WorkingDirectory."""

import os

import pytest

from harness import (HANDLERS, OP_TEXT, WSClient, build_request, connect_ws,
    wait_until)

ROUTES = {
    "app": {"Path": "/app/*", "Backend": "script:{handlers}/pwd.py"},
    "deep": {"Path": "/app/deep/*", "Backend": "script:{handlers}/pwd.py"},
    "exact": {"Path": "/app/exact", "Backend": "script:{handlers}/pwd.py"},
    "chat": {"Path": "/chat*", "Backend": "script:{handlers}/pwd.py"},
    "wd": {"Path": "/wd", "Backend": "script:{handlers}/pwd.py",
        "WorkingDirectory": "{dir}"},
    "wdrel": {"Path": "/wdrel", "Backend": "script:{handlers}/pwd.py",
        "WorkingDirectory": "handlers"},
    "origins": {"Path": "/o", "Backend": "echo",
        "AllowedOrigins": "https://good.example, http://Also.Example:8080"},
    "same": {"Path": "/same", "Backend": "echo", "AllowedOrigins": "same"},
    "any": {"Path": "/any", "Backend": "echo"},
    "limited": {"Path": "/limited", "Backend": "echo", "MaxConnections": 2},
}


@pytest.fixture(scope="module")
def routed(module_daemons):
    return module_daemons(routes=ROUTES)


def pwd(d, path):
    """Connects to a pwd.py route: (cwd, SCRIPT_NAME, PATH_INFO)."""
    c = connect_ws(d.port, path)
    got = tuple(c.read_message()[1].decode() for _ in range(3))
    c.expect_close(1000)
    c.reply_close(1000)
    c.close()
    return got


def status(d, path, **kw):
    c = WSClient(d.port)
    try:
        return c.handshake(path, expect=kw.pop("expect"), **kw).status
    finally:
        c.close()


# ---------------------------------------------------------------- paths

def test_prefix_route_splits_path_info(routed):
    assert pwd(routed, "/app/x/y") == (HANDLERS, "/app", "/x/y")
    assert pwd(routed, "/app/") == (HANDLERS, "/app", "/")
    assert pwd(routed, "/app/x?q=1") == (HANDLERS, "/app", "/x")


def test_longest_prefix_wins(routed):
    assert pwd(routed, "/app/deep/z")[1:] == ("/app/deep", "/z")
    assert pwd(routed, "/app/deep/")[1:] == ("/app/deep", "/")
    assert pwd(routed, "/app/deepz")[1:] == ("/app", "/deepz")


def test_exact_beats_prefix(routed):
    assert pwd(routed, "/app/exact")[1:] == ("/app/exact", "")
    assert pwd(routed, "/app/exact/")[1:] == ("/app", "/exact/")


def test_prefix_without_slash(routed):
    assert pwd(routed, "/chat")[1:] == ("/chat", "")
    assert pwd(routed, "/chatroom")[1:] == ("/chat", "room")


@pytest.mark.parametrize("path", ["/app", "/ap", "/", "/wd/", "/APP/x",
    "/limited/x"])
def test_unmatched_paths_are_404(routed, path):
    assert status(routed, path, expect=404) == 404


# ---------------------------------------------------------------- WorkingDirectory

def test_working_directory(routed):
    # Default: the program's own directory.
    assert pwd(routed, "/app/x")[0] == HANDLERS
    assert pwd(routed, "/wd")[0] == os.path.realpath(routed.dir)
    # Relative to the ini file's directory ("handlers" is a symlink there).
    assert pwd(routed, "/wdrel")[0] == os.path.realpath(HANDLERS)


# ---------------------------------------------------------------- origins

@pytest.mark.parametrize("origin", ["https://good.example",
    "HTTPS://GOOD.EXAMPLE", "http://also.example:8080"])
def test_listed_origin_allowed(routed, origin):
    c = connect_ws(routed.port, "/o", extra=[("Origin", origin)])
    c.echo(OP_TEXT, "hi")
    c.close_handshake(1000)


@pytest.mark.parametrize("origin", ["https://evil.example",
    "http://good.example", "https://good.example:443x",
    "http://also.example", "null", ""])
def test_other_origin_403(routed, origin):
    assert status(routed, "/o", expect=403,
        extra=[("Origin", origin)]) == 403
    m = routed.wait_log(r"rejected .* /o: 403 origin not allowed")
    assert m


def test_no_origin_allowed(routed):
    c = connect_ws(routed.port, "/o")
    c.echo(OP_TEXT, "non-browser")
    c.close_handshake(1000)


def test_same_origin(routed):
    port = routed.port
    ok = ["http://127.0.0.1:%d" % port, "HTTP://127.0.0.1:%d" % port]
    for origin in ok:
        c = connect_ws(port, "/same", extra=[("Origin", origin)])
        c.echo(OP_TEXT, "same")
        c.close_handshake(1000)
    for origin in ["http://127.0.0.1", "http://127.0.0.1:%d" % (port + 1),
            "http://localhost:%d" % port, "127.0.0.1:%d" % port]:
        assert status(routed, "/same", expect=403,
            extra=[("Origin", origin)]) == 403
    # Default ports: "example.com:80" and "http://example.com" match.
    c = connect_ws(port, "/same", override={"Host": "example.com:80"},
        extra=[("Origin", "http://example.com")])
    c.close_handshake(1000)
    c = connect_ws(port, "/same", override={"Host": "Example.COM"},
        extra=[("Origin", "http://example.com:80")])
    c.close_handshake(1000)


def test_any_origin_by_default(routed):
    c = connect_ws(routed.port, "/any",
        extra=[("Origin", "https://anything.example")])
    c.close_handshake(1000)


# ---------------------------------------------------------------- MaxConnections

def test_route_max_connections_429(routed):
    a = connect_ws(routed.port, "/limited")
    b = connect_ws(routed.port, "/limited")
    assert status(routed, "/limited", expect=429) == 429
    routed.wait_log(r"rejected .* /limited: 429 route MaxConnections")
    # Other routes are not limited by it.
    c = connect_ws(routed.port, "/any")
    c.close_handshake(1000)
    a.echo(OP_TEXT, "still open")
    a.close_handshake(1000)
    a.close()

    # The slot freed by a's close is given out again.
    assert wait_until(lambda: _try(routed), 3.0)
    b.echo(OP_TEXT, "b too")
    b.close_handshake(1000)


def _try(d):
    """Opens and closes a /limited WebSocket; True if it was admitted."""
    c = WSClient(d.port)
    try:
        req, _ = build_request("/limited", port=d.port)
        c.send(req)
        resp = c.read_http_response()
        if resp.status != 101:
            return False
        c.close_handshake(1000)
        return True
    finally:
        c.close()
