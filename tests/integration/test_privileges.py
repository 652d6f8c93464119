"""Handlers and hooks gain no privilege (issue #19): a set-user-ID or
set-group-ID program is refused before it is started (dir: 403, script:
and OpenRequestHook 503, as suEXEC refuses them), and every handler runs
under PR_SET_NO_NEW_PRIVS, so a set-user-ID program it starts itself gets
no privilege either."""

import os
import shutil

import pytest

from harness import OP_TEXT, WSClient, connect_ws

NOBODY = 65534


def suid_copy(path, mode):
    """A copy of id(1) owned by nobody with mode (04755: set-user-ID)."""
    shutil.copy("/usr/bin/id", path)
    os.chown(path, NOBODY, NOBODY)
    os.chmod(path, mode)
    return str(path)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("needs root (chown, and a setuid bit that matters)")
    top = tmp_path_factory.mktemp("privs")
    progs = top / "progs"
    progs.mkdir()
    suid = suid_copy(progs / "id-suid", 0o4755)
    suid_copy(progs / "id-sgid", 0o2755)
    shutil.copy("/usr/bin/id", progs / "id-plain")
    os.chmod(progs / "id-plain", 0o755)
    # A handler that runs the set-user-ID program as its own child.
    child = top / "child.sh"
    child.write_text("#!/bin/sh\n%s -u\ngrep NoNewPrivs /proc/self/status\n"
        % suid)
    os.chmod(child, 0o755)
    return top


@pytest.fixture(scope="module")
def d(module_daemons, tree):
    progs = tree / "progs"
    return module_daemons(routes={
        "d": {"Path": "/d/*", "Backend": "dir:" + str(progs)},
        "suid": {"Path": "/suid",
            "Backend": "script:%s -u" % (progs / "id-suid")},
        "sgid": {"Path": "/sgid",
            "Backend": "script:%s -g" % (progs / "id-sgid")},
        "child": {"Path": "/child", "Backend": "script:%s" %
            (tree / "child.sh")},
        "hook": {"Path": "/hook", "Backend": "echo",
            "OpenRequestHook": str(progs / "id-suid")},
    })


def refused(d, path, status, pattern):
    start = d.mark()
    with WSClient(d.port) as c:
        c.handshake(path, expect=status)
    d.wait_log(pattern, start=start)


@pytest.mark.parametrize("name", ["id-suid", "id-sgid"])
def test_dir_refuses_setuid_program_403(d, name):
    refused(d, "/d/" + name, 403, r"refusing to run \S+/%s: a set-user-ID or "
        r"set-group-ID program \(mode [24]755\)" % name)


def test_dir_runs_a_plain_program(d):
    c = connect_ws(d.port, "/d/id-plain")
    op, text = c.read_message()
    assert op == OP_TEXT and text.startswith(b"uid=0(root)")
    c.expect_close(1000)


@pytest.mark.parametrize("path", ["/suid", "/sgid"])
def test_script_refuses_setuid_program_503(d, path):
    refused(d, path, 503, r"refusing to run \S+: a set-user-ID or "
        r"set-group-ID program")


def test_hook_refuses_setuid_program_503(d):
    refused(d, "/hook", 503, r"refusing to run \S+/id-suid: a set-user-ID")


def test_handler_children_gain_no_privilege(d):
    # The handler runs the set-user-ID id(1) itself: with no_new_privs its
    # euid stays the handler's (0), not nobody's.
    c = connect_ws(d.port, "/child")
    assert c.read_message() == (OP_TEXT, b"0")
    op, text = c.read_message()
    assert text.split() == [b"NoNewPrivs:", b"1"]
    c.expect_close(1000)
