"""What users expect of the two programs' command lines.

--help and --version and a long form of every option (GNU getopt_long,
as help2man reads them), and errors before logging starts prefixed with
the program's name.
"""

import json
import re
import subprocess

import pytest

import harness
from admin_util import ctl, ctl_path

VERSION = r"\d+\.\d+\.\d+"


def run(argv, timeout=10):
    return subprocess.run(argv, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=timeout)


# ---------------------------------------------------------------- options

@pytest.mark.parametrize("prog,opts", [
    ("wsserverd", ["-c, --config=FILE", "-f, --foreground", "-t, --test",
        "-h, --help", "-V, --version"]),
    ("wsserverctl", ["-s, --socket=PATH", "-c, --config=FILE",
        "-j, --json", "-h, --help", "-V, --version"]),
])
def test_help_and_version(prog, opts):
    path = harness.daemon_path() if prog == "wsserverd" else ctl_path()
    for flag in ("--help", "-h"):
        p = run([path, flag])
        assert p.returncode == 0 and p.stderr == "", p.stderr
        assert p.stdout.startswith("Usage: %s [OPTION]..." % prog), p.stdout
        for o in opts:
            assert o in p.stdout, (o, p.stdout)
    for flag in ("--version", "-V", "--vers"):
        p = run([path, flag])
        assert p.returncode == 0, p.stderr
        assert re.fullmatch(r"%s %s\n" % (prog, VERSION), p.stdout), p.stdout
    p = run([path, "--no-such-option"])
    assert p.returncode == 2 and p.stdout == ""
    assert "unrecognized option '--no-such-option'" in p.stderr, p.stderr
    assert p.stderr.endswith("Try '%s --help' for more information.\n" %
        prog), p.stderr


def test_daemon_long_options(daemon_factory):
    d = harness.Daemon()			# its ini only, never started
    try:
        for argv in (["--test", "--config=" + d.ini],
                ["--test", "--config", d.ini], ["--te", "--conf", d.ini]):
            p = run([harness.daemon_path()] + argv)
            assert p.returncode == 0, (argv, p.stderr)
            assert p.stdout == "%s: configuration OK\n" % d.ini, p.stdout
    finally:
        d.cleanup()
    # --foreground and --config start it as -f -c do.
    d = daemon_factory(start=False)
    d.proc = subprocess.Popen([harness.daemon_path(), "--foreground",
        "--config=" + d.ini], stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/")
    d._reader = harness.threading.Thread(target=d._read_log, daemon=True)
    d._reader.start()
    port = int(d.wait_log(r"listening on 127\.0\.0\.1:(\d+)",
        timeout=10).group(1))
    with harness.connect_ws(port) as c:
        c.echo(harness.OP_TEXT, "long options")
        c.close_handshake()


def test_ctl_long_options(daemon_factory):
    d = daemon_factory()
    for argv in (["--socket=" + d.admin_socket, "status"],
            ["--socket", d.admin_socket, "status"],
            ["--config=" + d.ini, "status"],
            ["--config", d.ini, "--json", "status"]):
        p = ctl(*argv)
        assert p.returncode == 0, (argv, p.stderr)
        assert "Listening" in p.stdout or '"Listening"' in p.stdout, p.stdout
    assert json.loads(ctl("--json", "--socket", d.admin_socket,
        "status").stdout)["Listening"] is True


# ---------------------------------------------------------------- errors

def test_errors_carry_the_program_name(tmp_path):
    missing = str(tmp_path / "missing.ini")
    p = run([harness.daemon_path(), "-c", missing])
    assert p.returncode == 1
    assert p.stderr == "wsserverd: %s: No such file or directory\n" % missing
    bad = tmp_path / "bad.ini"
    bad.write_text("[server]\nLocalPort = 70000\nNoSuchKey = 1\n")
    p = run([harness.daemon_path(), "-t", "-c", str(bad)])
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert len(lines) >= 2, p.stderr
    assert all(ln.startswith("wsserverd: %s:" % bad) for ln in lines), \
        p.stderr
    p = ctl("-c", missing, "status")
    assert p.returncode == 2
    assert p.stderr.splitlines() and all(ln.startswith("wsserverctl: ")
        for ln in p.stderr.splitlines()), p.stderr
    assert "%s: No such file or directory" % missing in p.stderr
    p = ctl("-s", str(tmp_path / "none.sock"), "status")
    assert p.returncode == 3
    assert p.stderr.startswith("wsserverctl: "), p.stderr
