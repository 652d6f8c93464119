"""test_exec.py - how a script handler's program is run.

(config-value.c makes every handler path absolute, relative to the ini file.)
A file without "#!" is run by /bin/sh with its arguments, as execvp does;
a program that cannot be run is a 503 with the cause logged and nothing
left behind.
"""

import os

import harness


def write_prog(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def test_file_without_shebang_runs_under_sh(daemon_factory, tmp_path):
    prog = tmp_path / "noshebang"
    write_prog(prog, "echo \"args:$*\"\n")
    d = daemon_factory(routes={"n": {"Path": "/",
        "Backend": "script:%s one two" % prog}})
    with harness.connect_ws(d.port) as c:
        assert c.read_message() == (harness.OP_TEXT, b"args:one two")
        c.expect_close(1000)


def test_not_executable_is_503(daemon_factory, tmp_path):
    prog = tmp_path / "h"
    write_prog(prog, "#!/bin/sh\nexec cat\n")
    d = daemon_factory(routes={"h": {"Path": "/", "Backend":
        "script:%s" % prog}})
    prog.chmod(0o644)
    mark = d.mark()
    with harness.WSClient(d.port) as c:
        resp = c.handshake(expect=503)
        assert b"exec failed" in resp.body
    d.wait_log(r"cannot start handler \S+/h: exec failed: Permission denied",
        start=mark)
    assert harness.handlers_of(d.pid) == []
