"""The dir: backend: the first path segment after a prefix Path names a
program of the directory (websocketd's --dir); it then runs as a script:
handler would. Everything else is a 404 before the upgrade."""

import os
import subprocess
import textwrap

import pytest

from harness import (OP_TEXT, WSClient, connect_ws, daemon_path,
    read_env)

PRINTENV = """#!/usr/bin/python3
import os, sys
for name in sorted(os.environ):
    sys.stdout.write("%s=%s\\n" % (name, os.environ[name].replace("\\n", " ")))
sys.stdout.write("END\\n")
"""
ECHO = """#!/usr/bin/python3
import sys
for line in sys.stdin:
    sys.stdout.write("echo:" + line)
    sys.stdout.flush()
"""


def write_exe(path, text, mode=0o755):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    top = tmp_path_factory.mktemp("dirbackend")
    d = top / "progs"
    d.mkdir()
    write_exe(d / "printenv", PRINTENV)
    write_exe(d / "echo", ECHO)
    write_exe(d / "noexec", ECHO, 0o644)
    write_exe(d / ".hidden", ECHO)
    (d / "sub").mkdir()
    write_exe(d / "sub" / "inner", ECHO)
    os.symlink("echo", d / "inlink")
    outside = top / "outside"
    outside.mkdir()
    write_exe(outside / "evil", ECHO)
    os.symlink(str(outside / "evil"), d / "outlink")
    os.symlink(str(outside), d / "outdir")
    return top


@pytest.fixture(scope="module")
def dird(module_daemons, tree):
    return module_daemons(routes={
        "d": {"Path": "/d/*", "Backend": "dir:" + str(tree / "progs")},
        "echo": {"Path": "/", "Backend": "echo"},
    })


def test_program_runs_with_path_info(dird):
    c = connect_ws(dird.port, "/d/printenv/a/b?q=1")
    env = read_env(c)
    assert env["SCRIPT_NAME"] == "/d/printenv"
    assert env["PATH_INFO"] == "/a/b"
    assert env["QUERY_STRING"] == "q=1"
    c.expect_close(1000)
    c.reply_close(1000)


def test_program_without_path_info(dird):
    c = connect_ws(dird.port, "/d/printenv")
    env = read_env(c)
    assert env["SCRIPT_NAME"] == "/d/printenv"
    assert env["PATH_INFO"] == ""
    c.expect_close(1000)
    c.reply_close(1000)


def test_echo_program(dird):
    c = connect_ws(dird.port, "/d/echo")
    for m in ["one", "two words", "\u00fcml"]:
        c.send_text(m)
        assert c.read_message() == (OP_TEXT, ("echo:" + m).encode())
    c.close_handshake(1000)


def test_symlink_inside_directory(dird):
    c = connect_ws(dird.port, "/d/inlink")
    c.send_text("x")
    assert c.read_message() == (OP_TEXT, b"echo:x")
    c.close_handshake(1000)


@pytest.mark.parametrize("path", [
    "/d/missing", "/d/noexec", "/d/.hidden", "/d/sub", "/d/sub/inner",
    "/d/outlink", "/d/outdir/evil", "/d/.",
    "/d/", "/d//", "/d/echo%2f", "/d/%2e%2e%2e", "/d/%2ehidden",
])
def test_refused_with_404(dird, path):
    refused_404(dird, path, "no such program")


def refused_404(dird, path, cause):
    start = dird.mark()
    c = WSClient(dird.port)
    try:
        c.handshake(path, expect=404)
    finally:
        c.close()
    dird.wait_log(r"rejected .* 404 " + cause, start=start)


@pytest.mark.parametrize("path", [
    "/d/../outside/evil", "/d/%2e%2e/outside/evil", "/d/%2E./outside/evil",
    "/d/x/../../outside/evil",
])
def test_dot_segments_leave_the_route(dird, path):
    # Dot segments are removed before routing (RFC 3986 5.2.4; %2e is a
    # dot): these paths are /outside/evil, which no route serves.
    refused_404(dird, path, "no route for this path")


def test_dot_segments_removed_before_routing(dird):
    # /d/sub/../printenv/./a/../b is /d/printenv/b: the program runs with
    # the clean PATH_INFO; REQUEST_URI keeps what was sent.
    c = connect_ws(dird.port, "/d/sub/../printenv/./a/../b")
    env = read_env(c)
    assert env["SCRIPT_NAME"] == "/d/printenv"
    assert env["PATH_INFO"] == "/b"
    assert env["REQUEST_URI"] == "/d/sub/../printenv/./a/../b"
    c.expect_close(1000)
    c.reply_close(1000)
    # /d/.. is "/", the echo route's path.
    c = connect_ws(dird.port, "/d/..")
    c.send_text("root")
    assert c.read_message() == (OP_TEXT, b"root")
    c.close_handshake(1000)


def test_other_routes_unaffected(dird):
    c = connect_ws(dird.port, "/")
    c.send_text("hi")
    assert c.read_message() == (OP_TEXT, b"hi")
    c.close_handshake(1000)


def check_config(tmp_path, route, root_ok=True):
    ini = tmp_path / "t.ini"
    ini.write_text(textwrap.dedent("""
        [server]
        LocalHost = 127.0.0.1
        [backend]
        AllowRootHandlers = %s
        [route:d]
        """ % ("true" if root_ok else "false")).lstrip("\n") + "".join("%s = %s\n" % kv for kv in route.items()))
    p = subprocess.run([daemon_path(), "-t", "-c", str(ini)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=10)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def test_config_needs_prefix_path(tmp_path, tree):
    rc, out = check_config(tmp_path, {"Path": "/d",
        "Backend": "dir:" + str(tree / "progs")})
    assert rc == 1, out
    assert "needs a prefix Path" in out


def test_config_needs_directory(tmp_path, tree):
    rc, out = check_config(tmp_path, {"Path": "/d/*",
        "Backend": "dir:" + str(tree / "nope")})
    assert rc == 1, out
    assert "not a directory" in out


def test_config_relative_directory(tmp_path, tree):
    os.symlink(str(tree / "progs"), tmp_path / "p")
    rc, out = check_config(tmp_path, {"Path": "/d/*", "Backend": "dir:p"})
    assert rc == 0, out


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_config_refuses_root_handlers(tmp_path, tree):
    rc, out = check_config(tmp_path, {"Path": "/d/*",
        "Backend": "dir:" + str(tree / "progs")}, root_ok=False)
    assert rc == 1, out
    assert "script handlers would run as root" in out
