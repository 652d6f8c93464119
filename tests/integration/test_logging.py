"""[log]: LogFile with SIGUSR1 / wsserverctl reopen (logrotate), and
MaskSensitiveData in log lines and the admin socket's connection output."""

import os
import re
import signal

import harness
from admin_util import admin, conn_id, ctl
from harness import OP_TEXT, connect_ws


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def wait_in_file(path, text, timeout=5.0):
    ok = harness.wait_until(lambda: os.path.exists(path) and
        text in read(path), timeout)
    assert ok, "%r not in %s:\n%s" % (text, path, read(path)[-2000:]
        if os.path.exists(path) else "(missing)")


def test_log_file_and_reopen(daemon_factory):
    d = daemon_factory(start=False, sections={"log": {"LogFile": "wss.log"}})
    path = os.path.join(d.dir, "wss.log")
    # Lines go to the file, not stderr, where the harness looks for them.
    try:
        d.start(timeout=0.5)
    except harness.DaemonError:
        pass
    wait_in_file(path, "listening on")
    assert d.proc.poll() is None
    port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)",
        read(path)).group(1))
    c = connect_ws(port)
    wait_in_file(path, "open 127.0.0.1:%d / route=" % c.local_port)
    c.close()
    # logrotate: move the file, signal, and the next lines go to a new one.
    os.rename(path, path + ".1")
    d.signal(signal.SIGUSR1)
    wait_in_file(path, "log file reopened")
    os.rename(path, path + ".2")
    r = ctl("-s", d.admin_socket, "reopen")
    assert r.returncode == 0, r.stderr
    assert "log reopened" in r.stdout
    wait_in_file(path, "log file reopened (admin)")
    assert "reopen" in read(path + ".2")
    assert "open 127.0.0.1:%d" % c.local_port in read(path + ".1")
    assert not [l for l in d.lines if "listening on" in l]


def test_mask_sensitive(daemon_factory):
    d = daemon_factory()
    start = d.mark()
    c = connect_ws(d.port, "/?token=s3cret&room=7&KEY=abc", extra=[
        ("Authorization", "Bearer s3cret"), ("Cookie", "sid=s3cret")])
    d.wait_log(r"open 127\.0\.0\.1:%d /\?token=\*\*\*&room=7&KEY=\*\*\* "
        % c.local_port, start=start)
    with admin(d) as adm:
        cid = conn_id(adm, c)
        text = "\n".join(adm.cmd("connection %s" % cid).lines)
        js = adm.cmd("connection %s json" % cid).json()
        rows = "\n".join(adm.cmd("connections").lines)
    assert "RequestURI: /?token=***&room=7&KEY=***" in text
    assert "  Authorization: ***" in text and "  Cookie: ***" in text
    assert "s3cret" not in text and "s3cret" not in rows
    assert js["RequestURI"] == "/?token=***&room=7&KEY=***"
    assert ["Authorization", "***"] in js["RequestHeaders"]
    c.send_text(b"still works")
    assert c.read_message() == (OP_TEXT, b"still works")
    c.close()
    assert "s3cret" not in d.log_text()


def test_mask_off(daemon_factory):
    d = daemon_factory(sections={"log": {"MaskSensitiveData": False}})
    start = d.mark()
    c = connect_ws(d.port, "/?token=visible", extra=[
        ("Authorization", "Basic dmlzaWJsZQ==")])
    d.wait_log(r"open 127\.0\.0\.1:%d /\?token=visible " % c.local_port,
        start=start)
    with admin(d) as adm:
        text = "\n".join(adm.cmd("connection %s" % conn_id(adm, c)).lines)
    assert "Authorization: Basic dmlzaWJsZQ==" in text
    # Turned on at run time, for new lines.
    r = ctl("-s", d.admin_socket, "config", "MaskSensitiveData=True")
    assert r.returncode == 0, r.stderr
    c2 = connect_ws(d.port, "/?password=hidden")
    d.wait_log(r"open 127\.0\.0\.1:%d /\?password=\*\*\* " % c2.local_port,
        start=start)
    c.close()
    c2.close()
