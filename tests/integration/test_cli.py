"""What users expect of the two programs' command lines.

--help and --version and a long form of every option (GNU getopt_long,
as help2man reads them), errors before logging starts prefixed with the
program's name, wsserverctl's bash completion (commands, the running
daemon's ConnectionIds, configuration keys) and "wsserverctl -j watch"
(one JSON object per event, checked field by field against the plain
event lines of a second watcher).
"""

import json
import os
import re
import shutil
import subprocess
import time

import pytest

import harness
from admin_util import ctl, ctl_path

COMPLETION = os.path.join(harness.TOP_SRCDIR, "completions", "wsserverctl")
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


# ---------------------------------------------------------------- completion

def complete(words, env=None):
    """Runs the completion function for words (the last is the one being
    completed) in bash; returns COMPREPLY."""
    script = ("source %s || exit 99\n"
        "COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
        "_wsserverctl\n"
        "printf '%%s\\n' \"${COMPREPLY[@]}\"\n" % COMPLETION)
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script,
        "bash", ctl_path()] + list(words), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=30)
    assert p.returncode == 0, p.stderr
    return [w for w in p.stdout.split("\n") if w]


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completion(daemon_factory):
    d = daemon_factory()
    a = harness.connect_ws(d.port)
    b = harness.connect_ws(d.port)
    try:
        ids = sorted(r.split()[0] for r in ctl("-s", d.admin_socket,
            "connections").stdout.splitlines()[2:])
        assert len(ids) == 2, ids
        # Commands: the table of --help, the same as the daemon's help.
        names = [ln.split()[0] for ln in ctl("-s", d.admin_socket,
            "help").stdout.splitlines() if ln.strip()]
        assert complete([""]) == names
        assert complete(["st"]) == [n for n in names if n.startswith("st")]
        assert complete(["-s", d.admin_socket, "help", "se"]) == \
            [n for n in names if n.startswith("se")]
        assert "--json" in complete(["--j"])
        # ConnectionIds from the daemon that -s (or -c) names.
        for cmd in ("disconnect", "disc", "ping", "sendtext", "pause"):
            assert sorted(complete(["-s", d.admin_socket, cmd, ""])) == ids
        assert sorted(complete(["--config=" + d.ini, "ping", ""])) == ids
        assert sorted(complete(["-c", d.ini, "connection", ""])) == ids
        assert complete(["-s", d.admin_socket, "connection", ids[0],
            ""]) == ["json"]
        assert complete(["-s", d.admin_socket, "linemode", ids[0],
            ""]) == ["on", "off"]
        # Configuration keys, from the running daemon's config.
        keys = complete(["-s", d.admin_socket, "config", "Max"])
        assert "MaxConnections" in keys and "MaxMessageSize" in keys
        assert all(k.startswith("Max") for k in keys)
        assert complete(["-s", d.admin_socket, "status", ""]) == ["json"]
        # No daemon: commands still complete, ids are simply none.
        assert complete(["-s", d.dir + "/none.sock", "ping", ""]) == []
    finally:
        a.close()
        b.close()


# ---------------------------------------------------------------- watch -j

def expected_event(line):
    """The JSON object wsserverctl(8) documents for one plain event line
    (an independent reading of wsserverd(8)'s formats)."""
    word, _, rest = line.partition(" ")
    m = re.fullmatch(r"(\S+) (.+):(\d+) (\S+) (\d+) (.*)", rest)
    if word == "WebSocketOpenRequest" and m:
        return {"event": word, "id": m[1], "address": m[2],
            "port": int(m[3]), "uri": m[4], "status": int(m[5]),
            "cause": m[6]}
    m = re.fullmatch(r"(\S+) (.+):(\d+) (\S+) route=(.*)", rest)
    if word == "Connected" and m:
        return {"event": word, "id": m[1], "address": m[2],
            "port": int(m[3]), "uri": m[4], "route": m[5]}
    m = re.fullmatch(r'(\S+) code=(\d+) by=(\S+) reason="(.*)"', rest)
    if word == "Disconnected" and m:
        return {"event": word, "id": m[1], "code": int(m[2]), "by": m[3],
            "reason": m[4]}
    m = re.fullmatch(r"(\S+) (\d+) (.*)", rest)
    if word == "Error" and m:
        return {"event": word, "id": m[1], "code": int(m[2]), "text": m[3]}
    m = re.fullmatch(r"(\S+) (.*)", rest)
    if word == "Log" and m:
        return {"event": word, "severity": m[1], "message": m[2]}
    m = re.fullmatch(r"(\d+) event\(s\)", rest)
    if word == "Dropped" and m:
        return {"event": word, "count": int(m[1])}
    return {"event": word, "line": line}


class Watcher:
    """wsserverctl [-j] watch in the background, its lines collected."""

    def __init__(self, d, *opts):
        self.p = subprocess.Popen([ctl_path(), "-s", d.admin_socket] +
            list(opts) + ["watch"], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.first = self.p.stdout.readline()

    def stop(self):
        self.p.terminate()
        out, err = self.p.communicate(timeout=10)
        assert self.p.returncode == 0, err
        return out.splitlines()


def test_watch_json(daemon_factory):
    d = daemon_factory(routes={"e": {"Path": "/*", "Backend": "echo"}})
    plain = Watcher(d)
    js = Watcher(d, "-j")
    assert plain.first.startswith("watching (LogLevel ")
    assert json.loads(js.first) == {"ok": True,
        "message": plain.first.rstrip("\n"), "lines": []}
    mark = d.mark()
    a = harness.connect_ws(d.port, path="/a?x=1&y=%22")
    b = harness.connect_ws(d.port, path="/b")
    b.send_text(b"\xff\xfe")			# invalid UTF-8: an Error event
    b.expect_failure(1007)
    a.close_handshake(1000, 'bye "there" \u00fc'.encode("utf-8"))
    a.close()
    b.close()
    # Both connections are gone once the daemon logged their close lines;
    # their Disconnected events went out before.
    for port in (a.local_port, b.local_port):
        cid = d.wait_log(r"INFO (\S+) open 127\.0\.0\.1:%d " % port,
            start=mark).group(1)
        d.wait_log(r"INFO %s close " % cid, start=mark, timeout=10)
    harness.wait_until(lambda: False, 0.3)	# the watchers read them
    lines = plain.stop()
    objs = [json.loads(ln) for ln in js.stop()]
    assert len(objs) == len(lines), (lines, objs)
    for line, obj in zip(lines, objs):
        assert obj == expected_event(line), (line, obj)
    kinds = [o["event"] for o in objs]
    for k in ("WebSocketOpenRequest", "Connected", "Error", "Disconnected",
            "Log"):
        assert k in kinds, kinds
    opened = [o for o in objs if o["event"] == "WebSocketOpenRequest"]
    assert {(o["port"], o["uri"], o["status"]) for o in opened} == {
        (a.local_port, "/a?x=1&y=%22", 101), (b.local_port, "/b", 101)}
    gone = {o["id"]: o for o in objs if o["event"] == "Disconnected"}
    conn = {o["port"]: o["id"] for o in objs if o["event"] == "Connected"}
    assert gone[conn[a.local_port]]["code"] == 1000
    assert gone[conn[a.local_port]]["by"] == "client"
    # The daemon's log form of the reason: quotes made spaces.
    assert gone[conn[a.local_port]]["reason"] == "bye  there  \u00fc"
    assert gone[conn[b.local_port]]["code"] == 1007
    err = [o for o in objs if o["event"] == "Error"]
    assert err and err[0]["id"] == conn[b.local_port] and \
        err[0]["code"] == 1007 and "UTF-8" in err[0]["text"]


def test_watch_json_unknown_line_kept_whole():
    # A daemon newer than wsserverctl may send an event of another form:
    # the object keeps its first word and the whole line. A tiny fake
    # admin socket stands in for such a daemon.
    import socket
    import tempfile
    import threading
    tmp = tempfile.mkdtemp(prefix="wsserverd-it-")
    path = os.path.join(tmp, "fake.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(10)
    sent = ["NewEvent 12 something \"quoted\"", "Dropped 3 event(s)",
        "Connected 5 [::1]:443 / route=x", "Connected 5 no-port / route=x",
        "Log INFO tab\tand back\\slash"]

    def serve():
        c, _ = srv.accept()
        c.settimeout(10)
        c.recv(100)
        c.sendall(b"OK watching (LogLevel 1)\n\n" + "".join(
            s + "\n" for s in sent).encode())
        time.sleep(0.2)
        c.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        p = ctl("-j", "-s", path, "watch", timeout=20)
        t.join(10)
        objs = [json.loads(ln) for ln in p.stdout.splitlines()]
        assert objs[0]["ok"] is True
        assert objs[1:] == [expected_event(s) for s in sent]
        assert objs[1] == {"event": "NewEvent", "line": sent[0]}
        assert objs[2] == {"event": "Dropped", "count": 3}
        assert objs[3]["address"] == "[::1]" and objs[3]["port"] == 443
        assert objs[4] == {"event": "Connected", "line": sent[3]}
    finally:
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)
