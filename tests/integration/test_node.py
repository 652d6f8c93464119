"""The npm "ws" client (Node.js) against the real daemon.

ws is the most used WebSocket implementation outside browsers and has its
own permessage-deflate code (on zlib too, but with its own framing and
negotiation). node/client.js runs a list of steps and prints one JSON
line; the assertions are here. Its node_modules comes from
node/package-lock.json through "npm ci" (see interop_util.node_modules).
"""

import hashlib
import json
import os

import pytest

from harness import HOST
import interop_util

MIB = 1 << 20
TOOLS = interop_util.node_tools()

pytestmark = pytest.mark.skipif(TOOLS is None,
    reason="node and npm are not installed (the machine's Node.js 20 "
    "provides both)")

ROUTES = {
    "echo": {"Path": "/", "Backend": "echo"},
    "ok": {"Path": "/ok", "Backend": "script:{handlers}/output.py 0 hello\\n"},
    "fail": {"Path": "/fail",
        "Backend": "script:{handlers}/output.py 3 failing\\n"},
}


@pytest.fixture(scope="module")
def node_dir():
    return interop_util.node_modules(timeout=120)


@pytest.fixture(scope="module")
def nd(module_daemons):
    return module_daemons(routes=ROUTES, sections={
        "backend": {"KillTimeout": 1},
        "websocket": {"MaxMessageSize": 17 * MIB}})


def run_node(node_dir, url, steps, deflate=True, timeout=60):
    """Runs one scenario; returns client.js's JSON result."""
    scenario = {"url": url, "deflate": deflate, "steps": steps,
        "timeoutMs": 20000}
    r = interop_util.run_bounded([TOOLS[0], os.path.join(node_dir,
        "client.js"), json.dumps(scenario)], timeout, cwd=node_dir)
    assert r.returncode == 0, "node exited %d:\n%s\n%s" % (r.returncode,
        r.stdout[-3000:], r.stderr[-3000:])
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    assert lines, "no JSON from client.js:\n%s\n%s" % (r.stdout[-3000:],
        r.stderr[-3000:])
    return json.loads(lines[-1])


def expected(kind, size, seed=0):
    """The bytes client.js makes for kind/size/seed (not for "noise")."""
    if kind == "utf8":
        unit = "h\u00e9llo w\u00f6rld \U0001f600 ".encode("utf-8")
        return unit * (size // len(unit))
    block = bytes((0x21 + ((i * 7 + seed) % 94)) if kind == "text" else
        ((i * 13 + seed * 31) & 0xFF) for i in range(251))
    return (block * (size // 251 + 1))[:size]


def check_echo(step, kind, size, seed=0):
    assert "error" not in step, step
    assert step["equal"] is True, step
    assert step["isBinary"] == (kind in ("binary", "noise")), step
    if kind != "noise":
        data = expected(kind, size, seed)
        assert step["len"] == len(data)
        assert step["sha"] == hashlib.sha256(data).hexdigest(), step


def open_line(d, start):
    return d.wait_log(r"INFO \S+ open 127\.0\.0\.1:\d+ / route=echo",
        start=start).string


SIZES = [0, 1, 125, 126, 65535, 65536, MIB, 16 * MIB]


@pytest.mark.parametrize("deflate", [True, False], ids=["deflate", "plain"])
def test_echo_sizes(node_dir, nd, deflate):
    steps = []
    for size in SIZES:
        steps.append({"op": "echo", "kind": "binary", "size": size,
            "seed": size % 7})
        steps.append({"op": "echo", "kind": "text", "size": size,
            "seed": size % 5})
    steps += [{"op": "echo", "kind": "noise", "size": MIB},
        {"op": "echo", "kind": "utf8", "size": 100000}]
    mark = nd.mark()
    out = run_node(node_dir, nd.url(), steps + [{"op": "close",
        "code": 1000}], deflate=deflate, timeout=90)
    assert out["open"] and out["error"] is None, out
    assert out["extensions"] == ("permessage-deflate" if deflate else ""), out
    # ws offers client_max_window_bits by default.
    assert out["header"] == ("permessage-deflate; client_max_window_bits=15"
        if deflate else None), out
    assert len(out["steps"]) == len(steps) + 1, out
    i = 0
    for size in SIZES:
        check_echo(out["steps"][i], "binary", size, size % 7)
        check_echo(out["steps"][i + 1], "text", size, size % 5)
        i += 2
    check_echo(out["steps"][i], "noise", MIB)
    check_echo(out["steps"][i + 1], "utf8", 100000)
    assert out["close"] == {"code": 1000, "reason": ""}
    assert open_line(nd, mark).endswith(" permessage-deflate") == deflate


DEFLATE_OPTIONS = [
    ({"threshold": 0}, "permessage-deflate; client_max_window_bits=15"),
    ({"threshold": 0, "clientNoContextTakeover": True,
        "serverNoContextTakeover": True},
        "permessage-deflate; server_no_context_takeover; "
        "client_no_context_takeover; client_max_window_bits=15"),
    ({"threshold": 0, "serverMaxWindowBits": 10, "clientMaxWindowBits": 9},
        "permessage-deflate; server_max_window_bits=10; "
        "client_max_window_bits=9"),
    ({"threshold": 0, "serverMaxWindowBits": 9, "clientMaxWindowBits": 15,
        "serverNoContextTakeover": True},
        "permessage-deflate; server_no_context_takeover; "
        "server_max_window_bits=9; client_max_window_bits=15"),
    ({"threshold": 0, "clientMaxWindowBits": False}, "permessage-deflate"),
]


@pytest.mark.parametrize("options,header", DEFLATE_OPTIONS,
    ids=["threshold0", "nct", "bits10-9", "bits9-nct", "no-cmwb"])
def test_deflate_options(node_dir, nd, options, header):
    steps = [{"op": "echo", "kind": k, "size": n, "seed": n % 3}
        for n in (0, 1, 70, 5000, 5000, 300000) for k in ("text", "binary")]
    out = run_node(node_dir, nd.url(), steps, deflate=options)
    assert out["open"] and out["error"] is None, out
    assert out["extensions"] == "permessage-deflate", out
    assert out["header"] == header, out
    for j, s in enumerate(steps):
        check_echo(out["steps"][j], s["kind"], s["size"], s["seed"])
    assert out["close"]["code"] == 1000


FRAGS = [[0, 0, 5], [1, 1, 1, 1], [1000, 0, 70000, 3], [65536, 65536, 1],
    [7, 300000, 11]]


@pytest.mark.parametrize("deflate", [{"threshold": 0}, True, False],
    ids=["deflate-all", "deflate", "plain"])
def test_fragmented_sends(node_dir, nd, deflate):
    steps = [{"op": "frag", "kind": k, "sizes": sizes, "seed": len(sizes)}
        for sizes in FRAGS for k in ("text", "binary", "utf8")]
    out = run_node(node_dir, nd.url(), steps, deflate=deflate)
    assert out["open"] and out["error"] is None, out
    assert len(out["steps"]) == len(steps), out
    for s, r in zip(steps, out["steps"]):
        assert "error" not in r, (s, r)
        assert r["equal"] is True, (s, r)
        assert r["isBinary"] == (s["kind"] == "binary")
        assert r["len"] == r["sentLen"]


@pytest.mark.parametrize("deflate", [True, False], ids=["deflate", "plain"])
def test_ping_pong_and_burst(node_dir, nd, deflate):
    steps = [{"op": "ping", "data": ""}, {"op": "ping", "data": "x" * 125},
        {"op": "burst", "count": 300, "size": 2000},
        {"op": "ping", "data": "after burst"}]
    out = run_node(node_dir, nd.url(), steps, deflate=deflate)
    assert out["open"] and out["error"] is None, out
    assert [s.get("pong") for s in out["steps"]] == ["", "x" * 125, None,
        "after burst"], out
    assert out["steps"][2]["good"] == 300


@pytest.mark.parametrize("code,reason", [(1000, ""), (1001, "going"),
    (3000, "app"), (4999, "\u00e9t\u00e9")])
def test_client_close_codes(node_dir, nd, code, reason):
    out = run_node(node_dir, nd.url(), [{"op": "echo", "kind": "text",
        "size": 3000}, {"op": "close", "code": code, "reason": reason}])
    assert out["error"] is None, out
    assert out["close"]["code"] == code, out
    # The server echoes the code; a reason, if echoed, is the same one.
    assert out["close"]["reason"] in ("", reason), out


@pytest.mark.parametrize("deflate", [True, False], ids=["deflate", "plain"])
def test_server_close_codes(node_dir, nd, daemon_factory, deflate):
    small = daemon_factory(sections={"websocket": {"MaxMessageSize": 100000}})
    out = run_node(node_dir, small.url(), [
        {"op": "echo", "kind": "binary", "size": 100000},
        {"op": "echo", "kind": "binary", "size": 100001}], deflate=deflate)
    check_echo(out["steps"][0], "binary", 100000)
    assert "error" in out["steps"][1]
    assert out["close"]["code"] == 1009, out

    out = run_node(node_dir, nd.url(), [{"op": "rawtext", "hex":
        "48656c6c6fc328"}, {"op": "wait_close"}], deflate=deflate)
    assert out["close"]["code"] == 1007, out

    out = run_node(node_dir, nd.url("/ok"), [{"op": "recv"},
        {"op": "wait_close"}], deflate=deflate)
    assert out["steps"][0] == {"op": "recv", "isBinary": False,
        "text": "hello"}, out
    assert out["close"]["code"] == 1000, out

    out = run_node(node_dir, nd.url("/fail"), [{"op": "recv"},
        {"op": "wait_close"}], deflate=deflate)
    assert out["steps"][0]["text"] == "failing", out
    assert out["close"]["code"] == 1011, out


def test_unknown_path_404(node_dir, nd):
    out = run_node(node_dir, "ws://%s:%d/nowhere" % (HOST, nd.port), [])
    assert out["open"] is False
    assert out["unexpected"] == {"status": 404}, out
