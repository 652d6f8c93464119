"""A real browser against the real daemon: headless Debian Chromium.

Chromium offers permessage-deflate with client_max_window_bits, so this is
the compression path that every browser user takes. web/echo.html is served
from a loopback HTTP server in a thread; its script echoes text and binary
of several sizes through the daemon and POSTs what it saw to /result.
"""

import json
import re
import os
import shutil

import pytest

import harness
import interop_util

WEB = os.path.join(harness.HERE, "web")
CHROMIUM = "/usr/bin/chromium"
MIB = 1 << 20


def find_chromium():
    """Chromium's path, installing Debian's package once when it is
    missing (bounded); None when it cannot be had."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return None
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        interop_util.run_bounded([apt, "install", "-y", "-q",
            "--no-install-recommends", "chromium"], 400, env=env)
    except AssertionError:
        return None
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else None


@pytest.fixture(scope="module")
def chromium():
    path = find_chromium()
    if path is None:
        pytest.skip("Debian's chromium is not installed and could not be "
            "installed (apt-get install chromium)")
    return path


def run_page(chromium, daemon, timeout=45.0):
    """Loads echo.html pointed at daemon; returns the page's report."""
    body = interop_util.chromium_report(chromium, WEB,
        "echo.html?port=%d&path=/echo" % daemon.port, timeout)
    return json.loads(body)


EXPECTED_CHECKS = [(k, n) for n in (0, 1, 125, 126, 65536, MIB)
    for k in ("text", "binary")] + [("binary", 300000), ("utf8", 50000),
    ("burst", 200)]


@pytest.mark.parametrize("enabled", [True, False],
    ids=["deflate", "deflate-disabled"])
def test_chromium_echo(chromium, daemon_factory, enabled):
    d = daemon_factory(routes={"echo": {"Path": "/echo", "Backend": "echo"}},
        sections={"websocket": {"EnablePermessageDeflate": enabled,
        "MaxMessageSize": 4 * MIB}})
    report = run_page(chromium, d)
    assert report["error"] is None, report
    assert report["opened"] is True, report
    assert report["extensions"] == ("permessage-deflate; "
        "client_max_window_bits=15" if enabled else ""), report
    assert [(c["kind"], c["size"]) for c in report["checks"]] == \
        EXPECTED_CHECKS, report
    bad = [c for c in report["checks"] if not c["ok"]]
    assert not bad, bad
    assert report["close"] == {"code": 4000, "reason": "",
        "wasClean": True} or report["close"] == {"code": 4000,
        "reason": "done", "wasClean": True}, report
    line = d.wait_log(r"INFO \S+ open 127\.0\.0\.1:\d+ /echo route=echo")
    assert line.string.endswith(" permessage-deflate") == enabled, \
        line.string
    close = d.wait_log(r"INFO \S+ close code=4000 by=client")
    assert "msgs_in=214 msgs_out=214" in close.string, close.string
    # About 2.6 MB of payload each way, of which 300 kB is random: with
    # compression both directions must shrink to well under half.
    wire = [int(v) for v in re.findall(r"bytes_(?:in|out)=(\d+)",
        close.string)]
    assert len(wire) == 2
    for n in wire:
        assert (n < 1000000) if enabled else (n > 2600000), close.string
