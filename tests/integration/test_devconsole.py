"""DevConsole: a plain GET of a route's path returns a self-contained page
that talks to the route. Headless Debian Chromium loads it with
?autotest=TEXT in a frame: the page's own script connects, sends TEXT,
shows what came back and posts it to the outer page, which reports it."""

import os
import re
import shutil
import tempfile

import pytest

import harness
import interop_util
from harness import WSClient
from test_chromium import find_chromium


@pytest.fixture(scope="module")
def chromium():
    path = find_chromium()
    if path is None:
        pytest.skip("Debian's chromium is not installed and could not be "
            "installed (apt-get install chromium)")
    return path


def get(port, path, extra=""):
    c = WSClient(port)
    c.send(("GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n" % (path, harness.HOST,
        port, extra)).encode())
    resp = c.read_http_response()
    c.close()
    return resp


def test_page_served(daemon_factory):
    d = daemon_factory(sections={"server": {"DevConsole": True}},
        routes={"echo": {"Path": "/echo", "Backend": "echo"}})
    resp = get(d.port, "/echo?x=1")
    assert resp.status == 200
    assert resp.header("content-type") == "text/html; charset=utf-8"
    assert resp.header("connection") == "close"
    assert "connect-src ws: wss:" in resp.header("content-security-policy")
    body = resp.body.decode()
    assert body.startswith("<!DOCTYPE html>")
    assert "new WebSocket(" in body
    # Self-contained: nothing loaded from elsewhere.
    assert not re.search(r"(src|href)=\"?(https?:)?//", body)
    # Upgrades still upgrade; other paths are refused; off means off.
    c = harness.connect_ws(d.port, "/echo")
    c.close()
    assert get(d.port, "/nope").status == 400
    d2 = daemon_factory(routes={"echo": {"Path": "/echo", "Backend": "echo"}})
    assert get(d2.port, "/echo").status != 200


WRAPPER = """<!DOCTYPE html>
<html><body>
<iframe src="http://%s:%d/echo?autotest=hello%%20console"></iframe>
<script>
addEventListener('message', function (e) {
    fetch('/result', {method: 'POST', body: String(e.data)});
});
</script>
</body></html>
"""


def test_chromium_console(chromium, daemon_factory):
    """The console in a frame of a loopback page: it posts its result up,
    and the outer page POSTs it to the test's HTTP server."""
    d = daemon_factory(sections={"server": {"DevConsole": True}},
        routes={"echo": {"Path": "/echo", "Backend": "echo"}})
    web = tempfile.mkdtemp(prefix="wsserverd-it-devconsole-")
    try:
        with open(os.path.join(web, "wrap.html"), "w") as f:
            f.write(WRAPPER % (harness.HOST, d.port))
        body = interop_util.chromium_report(chromium, web, "wrap.html")
    finally:
        shutil.rmtree(web, ignore_errors=True)
    assert body == b"echo:hello console"
    d.wait_log(r"dev console 127\.0\.0\.1:\d+ /echo\?autotest=")
    d.wait_log(r"open 127\.0\.0\.1:\d+ /echo route=echo")
