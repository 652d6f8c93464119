"""test_admin.py - the admin socket and wsserverctl, against the real daemon.

Every command, every reply code, wsserverctl's prefix matching and exit
codes, JSON parsed with json.loads, the socket's life cycle (stale file,
second daemon), bounded memory for clients that do not read, reload with
good and bad files, and that help, the man pages and the command table
agree.
"""

import base64
import os
import re
import signal
import socket
import subprocess
import time

import pytest

import harness
from admin_util import AdminClient, admin, conn_entry, conn_id, ctl, ctl_path

ROUTES = {
    "echo": {"Path": "/", "Backend": "echo"},
    "bee": {"Path": "/b", "Backend": "echo"},
}


@pytest.fixture(scope="module")
def dmn(module_daemons):
    """A daemon shared by the tests that leave its configuration alone."""
    return module_daemons(routes=ROUTES)


@pytest.fixture
def adm(dmn):
    a = admin(dmn)
    yield a
    a.close()


def wait_line(adm, pattern, timeout=5.0):
    """Reads watch lines until one matches; returns the match."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = adm.read_line(max(0.01, deadline - time.monotonic()))
        except socket.timeout:
            break
        seen.append(line)
        adm.history = getattr(adm, "history", []) + [line]
        m = rx.search(line)
        if m:
            return m
    raise AssertionError("no line matching %r; saw %r" % (pattern, seen[-20:]))


assert_silent = harness.assert_silent


# ---------------------------------------------------------------- table

def _src(*parts):
    return os.path.join(harness.TOP_SRCDIR, *parts)


def _table_names():
    text = open(_src("src", "admin", "cmd.c")).read()
    body = text[text.index("admin_cmds[] = {"):]
    body = body[:body.index("\n};")]
    return re.findall(r'\.name = "(\w+)"', body)


def _man_names(path, start, end):
    text = open(path).read()
    body = text[text.index(start):]
    body = body[:body.index(end, 1)]
    return re.findall(r"^\.It Cm (\w+)", body, re.M)


def test_help_man_and_table_agree(adm):
    table = _table_names()
    assert len(table) == 29 and len(set(table)) == len(table)
    r = adm.cmd("help")
    assert r.ok and r.status == "OK"
    assert [line.split()[0] for line in r.lines] == table
    assert _man_names(_src("man", "wsserverctl.8"), ".Sh COMMANDS",
        "\n.Sh ") == table
    assert _man_names(_src("man", "wsserverd.8"), ".Ss Commands",
        "\n.Ss ") == table
    # Every code the man page documents appears in its Error codes list.
    text = open(_src("man", "wsserverd.8")).read()
    codes = re.findall(r"^\.It (\d+)$", text[text.index(".Ss Error codes"):],
        re.M)
    for code in ("104", "106", "107", "108", "126", "400", "401", "402",
            "403", "404", "405", "406", "408", "409", "410", "411", "412", "422",
            "423", "500", "503", "4202"):
        assert code in codes
    one = adm.cmd("help sendf")
    assert one.ok and len(one.lines) == 1
    assert one.lines[0].startswith("sendfile") and "ID PATH" in one.lines[0]
    assert adm.cmd("help nope").code == 401
    # wsserverctl -h prints the same table without a daemon.
    p = ctl("-h")
    assert p.returncode == 0
    assert [l.split()[0] for l in p.stdout.splitlines()
        if l.startswith("  ") and not l.startswith("   ")
        and not l.lstrip().startswith("-")] == table


# ---------------------------------------------------------------- parser

def test_protocol_errors(adm):
    r = adm.cmd("frobnicate 1 2")
    assert r.code == 401 and 'unknown command "frobnicate"' in r.text
    r = adm.cmd("s")
    assert r.code == 402
    assert r.text.endswith("status, stats, send, sendtext, sendfile, start, "
        "stop, shutdown, sendbytes")
    r = adm.cmd("connection")
    assert (r.code, r.text) == (403, "usage: connection ID [json]")
    assert adm.cmd("status extra").code == 403
    assert adm.cmd("").code == 401
    # CRLF and prefixes are fine; replies come in order when pipelined.
    adm.send_raw(b"stat\r\nstatu\r\nconnections json\n")
    assert adm.read_reply().code == 402
    assert adm.read_reply().lines[0].startswith("Listening: ")
    assert isinstance(adm.read_reply().json(), list)


def test_line_too_long_closes(dmn):
    with admin(dmn) as a:
        a.send_raw(b"sendtext 1 " + b"x" * 10240 + b"\n")
        r = a.read_reply()
        assert (r.code, r.text) == (400, "line too long (at most 4096 bytes)")
        assert a.read_to_eof(2.0) == b""
    # A line of exactly 4096 bytes is still a command.
    with admin(dmn) as a:
        r = a.cmd("sendtext 999999 " + "y" * (4096 - 17 - 1))
        assert r.code == 126
        # Without a line end, 4096 bytes are already too many.
        a.send_raw(b"z" * 4096)
        assert a.read_reply().code == 400
    with admin(dmn) as a:
        assert a.cmd("status").ok


def test_many_admin_clients(dmn):
    clients = []
    try:
        for _ in range(64):
            clients.append(admin(dmn))
        for c in clients[:3]:
            assert c.cmd("status").ok
        with admin(dmn) as extra:
            r = extra.read_reply()
            assert (r.code, r.text) == (503, "too many admin clients")
    finally:
        for c in clients:
            c.close()
    ok = harness.wait_until(lambda: _try_status(dmn), 3.0)
    assert ok


def _try_status(dmn):
    try:
        with admin(dmn, timeout=1.0) as a:
            return a.cmd("status").ok
    except (EOFError, OSError, AssertionError):
        return False


# ---------------------------------------------------------------- read-only

def test_status(dmn, adm):
    r = adm.cmd("status")
    f = r.fields()
    assert r.ok and f["Listening"] == "yes"
    assert f["LocalPort"] == str(dmn.port)
    assert f["LocalAddress"] == "127.0.0.1:%d" % dmn.port
    assert f["Pid"] == str(dmn.pid)
    assert f["Version"] and "libevent" in f["BuildInfo"]
    j = adm.cmd("status json").json()
    assert j["Listening"] is True and j["LocalPort"] == dmn.port
    assert j["LocalHost"] == "127.0.0.1" and j["Pid"] == dmn.pid
    assert j["ShuttingDown"] is False and j["Uptime"] > 0
    with harness.connect_ws(dmn.port):
        assert adm.cmd("status json").json()["Connections"] >= 1


def test_connections_and_connection(dmn, adm):
    extra = [("Origin", "https://example.org"), ("X-Trace", 'a"b\\c')]
    c1 = harness.connect_ws(dmn.port, "/b?q=1", extra=extra,
        protocols="chat, superchat")
    c2 = harness.WSClient(dmn.port)		# still in the handshake
    try:
        harness.wait_until(lambda: len(adm.cmd("connections json").json())
            >= 2, 2.0)
        rows = adm.cmd("connections json").json()
        mine = [r for r in rows if r["RemotePort"] == c1.local_port][0]
        half = [r for r in rows if r["RemotePort"] == c2.local_port][0]
        for key in ("ConnectionId", "RemoteHost", "RemotePort",
                "LocalAddress", "Host", "Origin", "RequestURI",
                "SubProtocols", "Connected", "AcceptData", "BytesSent",
                "LineMode", "ReadyToSend", "Timeout", "Route", "Age",
                "BytesIn", "BytesOut", "MessagesIn", "MessagesOut"):
            assert key in mine, key
        assert mine["RemoteHost"] == "127.0.0.1"
        assert mine["LocalAddress"] == "127.0.0.1"
        assert mine["Origin"] == "https://example.org"
        assert mine["RequestURI"] == "/b?q=1"
        assert mine["Route"] == "bee" and mine["State"] == "open"
        assert mine["Connected"] is True and mine["AcceptData"] is True
        assert mine["LineMode"] is False and mine["ReadyToSend"] is True
        assert mine["SubProtocols"] == "chat, superchat"
        assert half["State"] == "handshake" and half["Connected"] is False
        c1.echo(harness.OP_TEXT, "hello")
        mine = conn_entry(adm, mine["ConnectionId"])
        assert mine["MessagesIn"] == 1 and mine["MessagesOut"] == 1
        assert mine["BytesSent"] == mine["BytesOut"] == 7	# frame only

        cid = mine["ConnectionId"]
        r = adm.cmd("connections")
        assert r.status.startswith("OK ") and r.lines[0].split()[0] == "ID"
        row = [l for l in r.lines if l.split()[0] == cid][0]
        assert row.split()[2:4] == ["open", "bee"]
        assert row.split()[-2:] == ["A-R-", "/b?q=1"]

        full = adm.cmd("connection %s json" % cid).json()
        assert full["tls"] is False
        # A plain connection has no TLS session fields (test_tls.py has them).
        assert not [k for k in full if k.startswith("SSL") or
            k.startswith("ClientCert") or k == "SNI"]
        assert ["X-Trace", 'a"b\\c'] in full["RequestHeaders"]
        assert ["Origin", "https://example.org"] in full["RequestHeaders"]
        r = adm.cmd("connection " + cid)
        f = r.fields()
        assert f["ConnectionId"] == cid and f["TLS"] == "no"
        assert not [k for k in f if k.startswith("SSL") or
            k.startswith("ClientCert") or k == "SNI"]
        assert f["RequestURI"] == "/b?q=1"
        assert r.lines[r.lines.index("RequestHeaders:") + 1].startswith("  ")
        assert "  X-Trace: a\"b\\c" in r.lines
        assert adm.cmd("connection 999999").code == 126
        assert adm.cmd("connection 999999 json").code == 126
    finally:
        c1.close()
        c2.close()


def test_cert_without_tls(dmn, adm):
    # UseSSL off: no certificate to show, in either form.
    for line in ("cert", "cert json", "ce"):
        r = adm.cmd(line)
        assert (r.code, r.text) == (412, "no certificate: UseSSL is off")
        assert r.lines == []
    assert adm.cmd("cert now").code == 403
    p = ctl("-s", dmn.admin_socket, "cert")
    assert p.returncode == 1
    assert "412" in p.stdout + p.stderr


def test_stats(dmn, adm):
    before = adm.cmd("stats json").json()
    with harness.connect_ws(dmn.port) as c:
        c.echo(harness.OP_BINARY, b"\x00" * 100)
        c.close_handshake(1000)
    with harness.WSClient(dmn.port) as c:
        c.handshake("/missing", expect=404)
    def closed():
        return adm.cmd("stats json").json()["closed"]["total"] > \
            before["closed"]["total"]
    assert harness.wait_until(closed, 3.0)
    after = adm.cmd("stats json").json()
    assert after["accepted"] >= before["accepted"] + 2
    assert after["opened"] == before["opened"] + 1
    assert after["rejected"]["http"]["404"] == \
        before["rejected"]["http"].get("404", 0) + 1
    assert after["rejected"]["handshake"] == \
        before["rejected"]["handshake"] + 1
    assert after["closed"]["codes"]["1000"] >= \
        before["closed"]["codes"].get("1000", 0) + 1
    assert after["messages"]["in"] >= before["messages"]["in"] + 1
    assert after["messages"]["out"] >= before["messages"]["out"] + 1
    assert after["bytes"]["in"] >= before["bytes"]["in"] + 106
    assert after["backend"]["spawns"] == before["backend"]["spawns"] + 1
    r = adm.cmd("stats")
    names = [l.split()[0] for l in r.lines]
    for n in ("accepted", "rejected.acl", "rejected.full",
            "rejected.memory", "rejected.handshake", "rejected.http.404",
            "opened", "closed", "closed.code.1000", "messages.in",
            "messages.out", "bytes.in", "bytes.out", "backend.spawns",
            "backend.failures", "connections", "memory.queued",
            "memory.over"):
        assert n in names, n


def test_stats_text_and_json_agree(dmn, adm):
    """Every figure of the text form is in the JSON form with the same
    value, and the other way round (one table makes both)."""
    with harness.connect_ws(dmn.port) as c:
        c.echo(harness.OP_TEXT, b"hi")
        c.close_handshake(1000)
    with harness.WSClient(dmn.port) as c:
        c.handshake("/missing", expect=404)
    assert harness.wait_until(
        lambda: adm.cmd("stats json").json()["closed"]["total"] >= 1, 3.0)
    text = dict(l.split(" ", 1) for l in adm.cmd("stats").lines)
    js = adm.cmd("stats json").json()

    def flat(obj, prefix=""):
        for k, v in obj.items():
            if isinstance(v, dict):
                yield from flat(v, prefix + k + ".")
            else:
                yield prefix + k, v
    from_json = {}
    for path, v in flat(js):
        name = {"closed.total": "closed"}.get(path,
            path.replace("closed.codes.", "closed.code."))
        from_json[name] = ("yes" if v else "no") if isinstance(v, bool) \
            else str(v)
    # Counters may move between the two commands: compare once more if not.
    if from_json != text:
        text = dict(l.split(" ", 1) for l in adm.cmd("stats").lines)
    assert from_json == text
    assert text["closed.code.1000"] == str(js["closed"]["codes"]["1000"])
    assert "rejected.http.404" in text


# ---------------------------------------------------------------- per connection

def test_disconnect(dmn, adm):
    with harness.connect_ws(dmn.port) as c:
        cid = conn_id(adm, c)
        r = adm.cmd("disconnect " + cid)
        assert r.ok and r.text == "closing " + cid
        c.expect_close(1000)
        c.reply_close(1000)
        c.assert_closed(2.0)
    with harness.connect_ws(dmn.port) as c:
        cid = conn_id(adm, c)
        assert adm.cmd("disconnect %s 1005" % cid).code == 405
        assert adm.cmd("disconnect %s abc" % cid).code == 405
        # Every code the protocol core refuses; 2**32 + 1000 must not wrap.
        for code in ("999", "1004", "1006", "1015", "2999", "5000", "-1000",
                "4294968296"):
            assert adm.cmd("disconnect %s %s" % (cid, code)).code == 405
        assert adm.cmd("disconnect %s 4001 %s" % (cid, "r" * 124)).code == 405
        r = adm.cmd("disconnect %s 4001 going  away" % cid)
        assert r.ok
        f = c.expect_close(4001)
        assert f.payload[2:] == b"going  away"
        c.reply_close(4001)
    assert adm.cmd("disconnect 999999").code == 126
    # The log reaches the harness through a reader thread: wait for it.
    assert dmn.wait_log(r"admin: uid %d pid \d+: disconnect \d+ 4001 going"
        % os.getuid())


def test_ping(dmn, adm):
    with harness.connect_ws(dmn.port) as c:
        cid = conn_id(adm, c)
        adm.send_line("ping " + cid)
        f = c.read_frame(3.0)
        assert f.opcode == harness.OP_PING
        assert f.payload.startswith(b"wsserverd-admin-ping-")
        c.send_frame(harness.OP_PONG, b"unrelated")
        c.send_frame(harness.OP_PONG, f.payload)
        r = adm.read_reply(3.0)
        m = re.match(r"OK pong from %s in (\d+\.\d{3}) ms$" % cid, r.status)
        assert m and float(m.group(1)) < 3000, r.status
        # The next ping has another payload.
        adm.send_line("ping " + cid)
        f2 = c.read_frame(3.0)
        assert f2.payload != f.payload
        c.send_frame(harness.OP_PONG, f2.payload)
        assert adm.read_reply(3.0).ok
        # Closed before the pong: 4202.
        adm.send_line("ping " + cid)
        c.read_frame(3.0)
        c.send_close(1000)
        r = adm.read_reply(3.0)
        assert r.code == 4202 and "closed before the pong" in r.text
    assert adm.cmd("ping 999999").code == 126
    with harness.WSClient(dmn.port) as half:
        harness.wait_until(lambda: any(r["RemotePort"] == half.local_port
            for r in adm.cmd("connections json").json()), 2.0)
        cid = conn_id(adm, half)
        r = adm.cmd("ping " + cid)
        assert r.code == 4202 and "not an open WebSocket" in r.text


def test_ping_timeout(daemon_factory):
    d = daemon_factory(sections={"server": {"DefaultTimeout": 1}})
    with admin(d) as a, harness.connect_ws(d.port) as c:
        cid = conn_id(a, c)
        t0 = time.monotonic()
        a.send_line("ping " + cid)
        # Commands sent meanwhile wait for the ping's reply.
        a.send_line("status")
        r = a.read_reply(4.0)
        assert (r.code, r.text) == (408, "no pong from %s within 1 s" % cid)
        assert 0.8 < time.monotonic() - t0 < 3.0
        assert a.read_reply().ok
        assert c.read_frame(1.0).opcode == harness.OP_PING


def test_send_sendtext_broadcast(dmn, adm):
    with harness.connect_ws(dmn.port) as a, \
            harness.connect_ws(dmn.port, "/b") as b:
        ida, idb = conn_id(adm, a), conn_id(adm, b)
        r = adm.cmd("sendtext %s  two  spaces é" % ida)
        assert r.ok and r.text == "queued 15 bytes to " + ida
        assert a.read_message() == (harness.OP_TEXT,
            " two  spaces é".encode())
        data = bytes(range(256)) * 3
        assert adm.cmd("send %s %s" % (ida, base64.b64encode(data)
            .decode())).ok
        assert a.read_message() == (harness.OP_BINARY, data)
        assert adm.cmd("send %s" % ida).code == 403
        assert adm.cmd("send %s !!!!" % ida).code == 405
        # The largest payload that fits a line.
        big = os.urandom(3060)
        assert adm.cmd("send %s %s" % (ida, base64.b64encode(big)
            .decode())).ok
        assert a.read_message() == (harness.OP_BINARY, big)
        adm.send_raw(b"sendtext " + ida.encode() + b" \xff\xfe\n")
        assert adm.read_reply().code == 405
        assert adm.cmd("sendtext 999999 hi").code == 126
        assert adm.cmd("send 999999 AA==").code == 126

        r = adm.cmd("broadcast hello all")
        assert r.ok and r.text.startswith("sent to ")
        assert a.read_message() == (harness.OP_TEXT, b"hello all")
        assert b.read_message() == (harness.OP_TEXT, b"hello all")
        r = adm.cmd("broadcast bee only bees")
        assert r.ok and r.text == "sent to 1 connection(s)"
        assert b.read_message() == (harness.OP_TEXT, b"only bees")
        assert adm.cmd("broadcast /b by path").text == \
            "sent to 1 connection(s)"
        assert b.read_message() == (harness.OP_TEXT, b"by path")
        assert adm.cmd("broadcast * bee for all").ok
        assert a.read_message() == (harness.OP_TEXT, b"bee for all")
        assert b.read_message() == (harness.OP_TEXT, b"bee for all")
        assert_silent(a, 0.2)
    with harness.WSClient(dmn.port) as half:
        harness.wait_until(lambda: any(r["RemotePort"] == half.local_port
            for r in adm.cmd("connections json").json()), 2.0)
        r = adm.cmd("sendtext %s hi" % conn_id(adm, half))
        assert r.code == 4202


def test_linemode_pause_resume(dmn, adm):
    with harness.connect_ws(dmn.port) as c:
        cid = conn_id(adm, c)
        r = adm.cmd("linemode %s on" % cid)
        assert r.ok and r.text == "LineMode of %s is True" % cid
        assert conn_entry(adm, cid)["LineMode"] is True
        assert adm.cmd("linemode %s maybe" % cid).code == 405
        assert adm.cmd("linemode %s off" % cid).ok
        assert conn_entry(adm, cid)["LineMode"] is False
        assert adm.cmd("linemode 999999 on").code == 126

        assert adm.cmd("pause " + cid).text == \
            "AcceptData of %s is False" % cid
        assert conn_entry(adm, cid)["AcceptData"] is False
        c.send_text("held")
        assert_silent(c, 0.4)
        assert adm.cmd("resume " + cid).ok
        assert c.read_message(3.0) == (harness.OP_TEXT, b"held")
        assert conn_entry(adm, cid)["AcceptData"] is True
        assert adm.cmd("pause 999999").code == 126
        assert adm.cmd("resume 999999").code == 126


def test_sendfile(daemon_factory, tmp_path):
    d = daemon_factory(sections={"websocket": {"MaxFrameSize": 65536},
        "admin": {"SendFileDirectory": str(tmp_path)}})
    data = os.urandom(3 * 1000 * 1000 + 17)
    path = tmp_path / "blob"
    path.write_bytes(data)
    with admin(d) as a, harness.connect_ws(d.port) as c:
        cid = conn_id(a, c)
        a.send_line("sendfile %s %s" % (cid, path))
        frames = []
        op, got = c.read_message(20.0, frames=frames)
        assert op == harness.OP_BINARY and got == data
        assert max(len(f.payload) for f in frames) == 65536
        assert len(frames) == len(data) // 65536 + 1
        r = a.read_reply(10.0)
        assert r.ok and r.text == "sent %d bytes to %s" % (len(data), cid)
        # The connection goes on: echo, and an empty file.
        c.echo(harness.OP_TEXT, "after")
        empty = tmp_path / "empty"
        empty.write_bytes(b"")
        assert a.cmd("sendfile %s %s" % (cid, empty)).ok
        assert c.read_message() == (harness.OP_BINARY, b"")
        # wsserverctl sends a relative path as seen from its own cwd.
        (tmp_path / "small").write_bytes(b"\x00tiny")
        p = ctl("-s", d.admin_socket, "sendfile", cid, "small", cwd=tmp_path)
        assert p.returncode == 0 and p.stdout == "sent 5 bytes to %s\n" % cid
        assert c.read_message() == (harness.OP_BINARY, b"\x00tiny")
        r = a.cmd("sendfile %s %s" % (cid, tmp_path / "nope"))
        assert r.code == 406 and "No such file" in r.text
        assert a.cmd("sendfile %s %s" % (cid, tmp_path)).code == 406
        assert a.cmd("sendfile 999999 %s" % path).code == 126
        assert a.cmd("interrupt " + cid).code == 411
        assert a.cmd("interrupt 999999").code == 126


def test_sendfile_interrupt_bounded(daemon_factory, tmp_path):
    d = daemon_factory(sections={"admin": {"SendFileDirectory":
        str(tmp_path)}})
    size = 48 * 1024 * 1024
    path = tmp_path / "big"
    with open(path, "wb") as f:
        f.truncate(size)
    with admin(d) as a, admin(d) as b, harness.connect_ws(d.port) as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        cid = conn_id(a, c)
        rss0 = d.rss_kib()
        a.send_line("sendfile %s %s" % (cid, path))
        assert harness.wait_until(lambda: conn_entry(b, cid)["SendingFile"],
            3.0)
        time.sleep(0.3)
        # The client reads nothing: the daemon holds about a queue's worth.
        assert d.rss_kib() - rss0 < 16 * 1024
        e = conn_entry(b, cid)
        assert e["ReadyToSend"] is False and e["BytesOut"] < size // 2
        assert b.cmd("sendtext %s hi" % cid).code == 409
        assert b.cmd("sendfile %s %s" % (cid, path)).code == 409
        assert "F" in [l for l in b.cmd("connections").lines
            if l.split()[0] == cid][0].split()[-2]
        r = b.cmd("interrupt " + cid)
        assert r.ok and r.text == "interrupted the sendfile to " + cid
        r = a.read_reply(5.0)
        assert r.code == 410 and r.text.startswith("interrupted after ")
        sent = int(r.text.split()[2])
        assert 0 < sent < size
        op, got = c.read_message(20.0)
        assert op == harness.OP_BINARY and len(got) == sent
        c.echo(harness.OP_TEXT, "still open")
        assert conn_entry(b, cid)["SendingFile"] is False


def test_sendfile_connection_closes(daemon_factory, tmp_path):
    d = daemon_factory(sections={"admin": {"SendFileDirectory":
        str(tmp_path)}})
    path = tmp_path / "big"
    with open(path, "wb") as f:
        f.truncate(32 * 1024 * 1024)
    with admin(d) as a:
        c = harness.connect_ws(d.port)
        cid = conn_id(a, c)
        a.send_line("sendfile %s %s" % (cid, path))
        time.sleep(0.2)
        c.close()
        r = a.read_reply(5.0)
        assert r.code == 4202 and "closed after" in r.text


# ---------------------------------------------------------------- config

def test_config(dmn, adm):
    r = adm.cmd("config")
    keys = [l.split(" = ")[0] for l in r.lines]
    for k in ("LocalPort", "DefaultTimeout", "MaxFrameSize", "LogLevel",
            "Socket", "SocketMode"):
        assert k in keys
    assert adm.cmd("config loglevel").lines == ["LogLevel = 1"]
    r = adm.cmd("config DisconnectStatusDescription = see you  soon")
    assert r.ok and r.lines == ["DisconnectStatusDescription = see you  soon"]
    with harness.connect_ws(dmn.port) as c:
        adm.cmd("disconnect " + conn_id(adm, c))
        f = c.expect_close(1000)
        assert f.payload[2:] == b"see you  soon"
        c.reply_close()
    assert adm.cmd("config DisconnectStatusDescription=").ok
    assert adm.cmd("config SocketMode").lines == ["SocketMode = 0660"]
    for key, code in (("LocalPort=1", 106), ("LocalHost=0.0.0.0", 107),
            ("MaxConnections=5", 108), ("UseIPv6=1", 423),
            ("Socket=/tmp/x.sock", 423), ("Bogus=1", 404), ("Bogus", 404),
            ("Path", 404), ("DefaultTimeout=-1", 405),
            ("TcpNoDelay=perhaps", 405)):
        r = adm.cmd("config " + key)
        assert r.code == code, (key, r)
    assert adm.cmd("config LocalPort=1").text == \
        "cannot change LocalPort while listening"
    assert adm.cmd("config LocalPort").lines == ["LocalPort = 0"]


def test_config_unmapped_reference_names(dmn, adm, tmp_path):
    """A name of the reference that is no key here gets the reason the ini
    file gives, not "unknown configuration key" (one table for both)."""
    for name in ("SSLCheckOCSP", "LicenseInfo", "BuildInfo",
            "SSLNegotiatedCipher", "GUIAvailable"):
        ini = tmp_path / ("u-%s.ini" % name)
        ini.write_text("[server]\n%s = 1\n[route:e]\nPath = /\n"
            "Backend = echo\n" % name)
        p = subprocess.run([harness.daemon_path(), "-t", "-c", str(ini)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=10)
        assert p.returncode == 1
        why = p.stdout.split("%s:2: " % ini, 1)[1].splitlines()[0]
        assert why.startswith(name + ": ") and "(" in why, why
        for line in ("config %s=1" % name, "config %s" % name):
            r = adm.cmd(line)
            assert r.code == 404 and r.text == why, (line, r)
    r = adm.cmd("config SSLCheckOCSP=1")
    assert r.text == ("SSLCheckOCSP: has no meaning on Linux (it checks a "
        "server's certificate; for client certificates use SSLCheckCRL)")


def test_config_loglevel_applies(daemon_factory):
    d = daemon_factory()
    with admin(d) as a:
        assert a.cmd("config LogLevel=3").ok
        with harness.connect_ws(d.port) as c:
            d.wait_log(r"DEBUG \d+ accepted 127\.0\.0\.1", 3.0)
            c.close_handshake()
        assert a.cmd("config LogLevel=1").ok


# ---------------------------------------------------------------- lifecycle

def test_start_stop(daemon_factory):
    d = daemon_factory()
    with admin(d) as a, harness.connect_ws(d.port) as c:
        r = a.cmd("start")
        assert (r.code, r.text) == (104, "already listening on 127.0.0.1:%d"
            % d.port)
        r = a.cmd("stop")
        assert r.ok and r.text == "stopped listening; 1 connection(s) stay"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((harness.HOST, d.port), timeout=2)
        c.echo(harness.OP_TEXT, "still here")
        assert a.cmd("stop").text == "not listening"
        assert a.cmd("status json").json()["Listening"] is False
        # Fixed keys may change while not listening.
        blocker = socket.socket()
        blocker.bind((harness.HOST, 0))
        blocker.listen(1)
        busy = blocker.getsockname()[1]
        assert a.cmd("config LocalPort=%d" % busy).ok
        r = a.cmd("start")
        assert (r.code, r.text) == (500, "cannot listen: address already "
            "in use")
        blocker.close()
        assert a.cmd("config LocalPort=0").ok
        r = a.cmd("start")
        assert r.ok and r.text.startswith("listening on 127.0.0.1:")
        port = a.cmd("status json").json()["LocalPort"]
        assert port != 0 and r.text.endswith(":%d" % port)
        with harness.connect_ws(port) as c2:
            c2.echo(harness.OP_TEXT, "new port")
        c.echo(harness.OP_TEXT, "old one too")


def test_shutdown(daemon_factory):
    d = daemon_factory()
    c = harness.connect_ws(d.port)
    try:
        with admin(d) as a:
            r = a.cmd("shutdown")
            assert r.ok and r.text == "shutting down: 1 connection(s)"
            c.expect_close(1001)
            c.reply_close(1001)
            assert d.wait_exit(10) == 0
        assert not os.path.exists(d.admin_socket)
        assert d.wait_log(r"admin: uid \d+ pid \d+: shutdown")
    finally:
        c.close()


def test_reload(daemon_factory):
    d = daemon_factory()
    with admin(d) as a, harness.connect_ws(d.port) as c:
        good = harness.make_ini({
            "server": {"LocalHost": harness.HOST, "LocalPort": 0,
                "ConnectionBacklog": 7, "ShutdownTimeout": 5},
            "admin": {"Socket": d.admin_socket},
            "route:echo": {"Path": "/", "Backend": "echo"},
            "route:new": {"Path": "/new", "Backend": "echo"},
        })
        with open(d.ini, "w") as f:
            f.write("[server]\nBogus = 1\nLocalPort = -3\n[route:x]\n")
        r = a.cmd("reload")
        assert r.code == 422
        assert r.text == "configuration has 4 error line(s); the running " \
            "configuration is unchanged"
        assert any(re.search(r"wsserverd\.ini:2: unknown key Bogus", l)
            for l in r.lines), r.lines
        assert any(":3: LocalPort: -3 out of range" in l for l in r.lines)
        c.echo(harness.OP_TEXT, "survives a bad reload")
        with harness.WSClient(d.port) as x:
            x.handshake("/new", expect=404)

        with open(d.ini, "w") as f:
            f.write(good)
        r = a.cmd("reload")
        assert r.ok and r.text == "reloaded " + d.ini
        assert 'ConnectionBacklog changed from "511" to "7": needs a ' \
            'restart (or stop and start)' in r.lines
        assert "1 connection(s) keep the previous configuration until " \
            "they close" in r.lines
        c.echo(harness.OP_TEXT, "survives a good reload")
        with harness.connect_ws(d.port, "/new") as n:
            n.echo(harness.OP_TEXT, "new route")
        assert a.cmd("config ConnectionBacklog").lines == \
            ["ConnectionBacklog = 7"]

        # SIGHUP does the same.
        m = d.mark()
        d.signal(signal.SIGHUP)
        d.wait_log(r"configuration reloaded from .*\(2 route\(s\)\)",
            start=m)
        c.echo(harness.OP_TEXT, "survives SIGHUP")
        c.close_handshake()


# ---------------------------------------------------------------- watch

def test_watch_events(dmn):
    with admin(dmn) as w, admin(dmn) as a:
        r = w.cmd("watch")
        assert r.ok and r.text == "watching (LogLevel 1)"
        c = harness.connect_ws(dmn.port, "/b")
        try:
            m = wait_line(w, r"^WebSocketOpenRequest (\d+) 127\.0\.0\.1:%d "
                r"/b 101 accepted$" % c.local_port)
            cid = m.group(1)
            wait_line(w, r"^Connected %s 127\.0\.0\.1:%d /b route=bee$"
                % (cid, c.local_port))
            # The log line about the open comes with the events.
            assert any(re.match(r"^Log INFO %s open 127\.0\.0\.1:%d /b "
                r"route=bee$" % (cid, c.local_port), l) for l in w.history)
            c.close_handshake(4000, "bye")
            wait_line(w, r'^Disconnected %s code=4000 by=client reason="bye"$'
                % cid)
        finally:
            c.close()
        with harness.WSClient(dmn.port) as x:
            x.handshake("/nowhere", expect=404)
        wait_line(w, r"^WebSocketOpenRequest \d+ 127\.0\.0\.1:\d+ /nowhere "
            r"404 no route for this path$")
        with harness.connect_ws(dmn.port) as bad:
            bad.send_frame(harness.OP_TEXT, b"x", mask=False)
            bad.expect_close(1002)
        wait_line(w, r"^Error \d+ 1002 ")
        a.cmd("linemode 999999 on")
        # Input from a watcher is ignored; it stays a watcher.
        w.send_line("status")
        with harness.connect_ws(dmn.port) as c3:
            wait_line(w, r"^Connected \d+ 127\.0\.0\.1:%d " % c3.local_port)


def test_watch_slow_client_bounded(daemon_factory):
    d = daemon_factory()
    w = admin(d)
    w.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        assert w.cmd("watch").ok
        rss0 = d.rss_kib()
        # Each command logs two lines, and each becomes a watch event.
        batch = b"config LogLevel=1\n" * 1000
        with admin(d) as a:
            for _ in range(30):
                a.send_raw(batch)
                for _ in range(1000):
                    assert a.read_reply().ok
        grown = d.rss_kib() - rss0
        assert grown < 8 * 1024, "daemon grew by %d KiB" % grown
        m = wait_line(w, r"^Dropped (\d+) event\(s\)$", timeout=10.0)
        assert int(m.group(1)) > 10000
        with harness.connect_ws(d.port) as c:
            wait_line(w, r"^Connected \d+ 127\.0\.0\.1:%d " % c.local_port)
    finally:
        w.close()


def test_reply_reader_that_never_reads_is_dropped(daemon_factory):
    d = daemon_factory()
    a = admin(d)
    a.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        rss0 = d.rss_kib()
        sent = 0
        try:
            for _ in range(200):
                a.send_raw(b"help\n" * 100)
                sent += 100
        except (BrokenPipeError, ConnectionResetError):
            pass
        d.wait_log(r"admin: client \d+ does not read its replies", 5.0)
        assert d.rss_kib() - rss0 < 8 * 1024
        got = a.read_to_eof(5.0)
        assert got.count(b"\n\n") < sent
    finally:
        a.close()
    with admin(d) as b:
        assert b.cmd("status").ok


# ---------------------------------------------------------------- socket

def test_socket_mode_and_group(daemon_factory):
    d = daemon_factory()
    st = os.stat(d.admin_socket)
    assert st.st_mode & 0o777 == 0o660
    d2 = daemon_factory(sections={"admin": {"SocketMode": "0600",
        "SocketGroup": str(os.getgid())}})
    st = os.stat(d2.admin_socket)
    assert st.st_mode & 0o777 == 0o600 and st.st_gid == os.getgid()


def _run_daemon(d, timeout=10):
    return subprocess.run([harness.daemon_path(), "-f", "-c", d.ini],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=timeout, text=True)


def test_second_daemon_refuses(daemon_factory):
    d = daemon_factory()
    d2 = harness.Daemon(sections={"admin": {"Socket": d.admin_socket}})
    try:
        p = _run_daemon(d2)
    finally:
        d2.cleanup()
    assert p.returncode == 1
    assert "admin socket %s is in use: another wsserverd is running there" \
        % d.admin_socket in p.stdout
    assert "listening on" not in p.stdout
    # The first one is untouched.
    with admin(d) as a:
        assert a.cmd("status").ok


def test_stale_socket_replaced(daemon_factory, tmp_path):
    path = str(tmp_path / "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
    assert os.path.exists(path)
    p = ctl("-s", path, "status")
    assert p.returncode == 3 and "is wsserverd running?" in p.stderr
    d = daemon_factory(sections={"admin": {"Socket": path}})
    assert d.find_log("replacing a stale socket file")
    assert ctl("-s", path, "status").returncode == 0
    # A file that is not a socket is left alone.
    other = tmp_path / "plain"
    other.write_text("keep me")
    d2 = harness.Daemon(sections={"admin": {"Socket": str(other)}})
    try:
        p = _run_daemon(d2)
    finally:
        d2.cleanup()
    assert p.returncode == 1 and "exists and is not a socket" in p.stdout
    assert other.read_text() == "keep me"


def test_socket_off(daemon_factory):
    d = daemon_factory(sections={"admin": {"Socket": ""}})
    assert d.find_log(r"admin socket off")
    p = ctl("-c", d.ini, "status")
    assert p.returncode == 3 and "turned off" in p.stderr


# ---------------------------------------------------------------- wsserverctl

def test_wsserverctl(dmn):
    s = dmn.admin_socket
    p = ctl("-s", s, "status")
    assert p.returncode == 0 and "Listening: yes" in p.stdout
    p = ctl("-c", dmn.ini, "statu")
    assert p.returncode == 0 and "LocalPort: %d" % dmn.port in p.stdout
    j = __import__("json").loads(ctl("-j", "-s", s, "status").stdout)
    assert j["LocalPort"] == dmn.port
    j = __import__("json").loads(ctl("-j", "-s", s, "connections").stdout)
    assert isinstance(j, list)
    p = ctl("-j", "-s", s, "config", "LogLevel")
    assert p.returncode == 0
    assert __import__("json").loads(p.stdout) == {"ok": True, "message": "",
        "lines": ["LogLevel = 1"]}
    p = ctl("-j", "-s", s, "connection", "999999")
    assert p.returncode == 1
    j = __import__("json").loads(p.stdout)
    assert j["ok"] is False and j["code"] == 126
    p = ctl("-s", s, "connection", "999999")
    assert p.returncode == 1 and p.stderr.startswith(
        "wsserverctl: error 126: Invalid ConnectionId")
    # Usage errors need no daemon.
    for args, msg in ((["frob"], 'unknown command "frob"'),
            (["stat"], 'ambiguous command "stat"; it could be: status, '
                'stats'),
            (["connection"], "usage: connection ID [json]"),
            (["status", "now"], "usage: status [json]"),
            (["sendtext", "1", "a\nb"], "CR or LF")):
        p = ctl("-s", "/nonexistent/sock", *args)
        assert p.returncode == 2 and msg in p.stderr, (args, p.stderr)
    assert ctl().returncode == 2
    assert ctl("-x", "status").returncode == 2
    assert ctl("-s", "x" * 4000, "sendtext", "1", "y" * 5000).returncode == 2
    p = ctl("-s", "/nonexistent/sock", "status")
    assert p.returncode == 3 and "is wsserverd running?" in p.stderr
    assert ctl("-c", "/nonexistent.ini", "status").returncode == 2
    # Prefixes and the rest of the line.
    with harness.connect_ws(dmn.port) as c:
        with admin(dmn) as a:
            cid = conn_id(a, c)
        p = ctl("-s", s, "sendt", cid, "a", " b")
        assert p.returncode == 0 and p.stdout == "queued 4 bytes to %s\n" % cid
        assert c.read_message() == (harness.OP_TEXT, b"a  b")
        p = ctl("-s", s, "disc", cid, "4002")
        assert p.returncode == 0 and p.stdout == "closing %s\n" % cid
        c.expect_close(4002)
        c.reply_close(4002)


def test_wsserverctl_watch_until_sigint(dmn):
    p = subprocess.Popen([ctl_path(), "-s", dmn.admin_socket, "watch"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith("watching")
        with harness.connect_ws(dmn.port) as c:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                line = p.stdout.readline()
                if line.startswith("Connected ") and \
                        ":%d " % c.local_port in line:
                    break
            else:
                raise AssertionError("no Connected line")
        p.send_signal(signal.SIGINT)
        assert p.wait(5) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        p.stdout.close()
        p.stderr.close()


def test_sendfile_holds_backend_output(daemon_factory, tmp_path):
    """A handler's lines wait while a file goes out, then follow in order."""
    marker = harness.unique_marker()
    d = daemon_factory(sections={"backend": {"KillTimeout": 0},
        "admin": {"SendFileDirectory": str(tmp_path)}},
        routes={"tick": {"Path": "/",
        "Backend": "script:{handlers}/tick_noread.py " + marker}})
    data = os.urandom(4 * 1024 * 1024)
    path = tmp_path / "blob"
    path.write_bytes(data)
    try:
        with admin(d) as a, harness.connect_ws(d.port) as c:
            cid = conn_id(a, c)
            assert c.read_message(3.0) == (harness.OP_TEXT, b"tick 0")
            a.send_line("sendfile %s %s" % (cid, path))
            time.sleep(0.4)		# ticks pile up behind the file
            ticks, blobs = [], []
            deadline = time.monotonic() + 15
            while (len(blobs) == 0 or len(ticks) < 12) and \
                    time.monotonic() < deadline:
                op, msg = c.read_message(5.0)
                if op == harness.OP_TEXT:
                    ticks.append(int(msg.split()[1]))
                else:
                    blobs.append(msg)
            assert blobs == [data]
            # No tick lost or reordered around the file.
            assert ticks == list(range(1, len(ticks) + 1))
            r = a.read_reply(5.0)
            assert r.ok and r.text == "sent %d bytes to %s" % (len(data), cid)
    finally:
        assert harness.wait_no_procs(marker, 10.0) == []


def test_stats_backend_failure(daemon_factory, tmp_path):
    prog = tmp_path / "h.sh"
    prog.write_text("#!/bin/sh\nexec cat\n")
    prog.chmod(0o755)
    d = daemon_factory(routes={"h": {"Path": "/", "Backend": "script:%s"
        % prog}})
    prog.chmod(0o644)		# the next spawn fails: 503, no upgrade
    with admin(d) as a:
        with harness.WSClient(d.port) as c:
            c.handshake(expect=503)
        st = a.cmd("stats json").json()
        assert st["backend"] == {"spawns": 0, "failures": 1}
        prog.chmod(0o755)
        with harness.connect_ws(d.port) as c:
            c.echo(harness.OP_TEXT, "cat")
            c.close_handshake()
        assert a.cmd("stats json").json()["backend"] == {"spawns": 1,
            "failures": 1}


def test_linemode_delivers_lines(daemon_factory):
    """LineMode: the backend (echo) gets one message per line; MaxLineLength
    cuts long lines (text on a code point boundary); off restores messages."""
    d = daemon_factory(routes=ROUTES,
                       sections={"websocket": {"MaxLineLength": "4"}})
    a = admin(d)
    try:
        with harness.connect_ws(d.port) as c:
            cid = conn_id(a, c)
            assert a.cmd("linemode %s on" % cid).ok
            c.send_text("a\nbb\r\nccc")
            got = [c.read_message(3.0) for _ in range(3)]
            assert got == [(harness.OP_TEXT, b"a"), (harness.OP_TEXT, b"bb"),
                           (harness.OP_TEXT, b"ccc")]
            # Longer than MaxLineLength: pieces of 4, EOL in the last.
            c.send_text("abcdefghij\n")
            got = [c.read_message(3.0) for _ in range(3)]
            assert got == [(harness.OP_TEXT, b"abcd"),
                           (harness.OP_TEXT, b"efgh"),
                           (harness.OP_TEXT, b"ij")]
            # A cut never splits a code point: "abc" + "\u00e9" is 5 bytes.
            c.send_text("abc\u00e9z\n")
            got = [c.read_message(3.0) for _ in range(2)]
            assert got == [(harness.OP_TEXT, b"abc"),
                           (harness.OP_TEXT, "\u00e9z".encode())]
            # A line split across fragments is one line.
            c.send_frame(harness.OP_TEXT, b"xy", fin=False)
            c.send_frame(harness.OP_CONT, b"z\nw", fin=True)
            got = [c.read_message(3.0) for _ in range(2)]
            assert got == [(harness.OP_TEXT, b"xyz"), (harness.OP_TEXT, b"w")]
            assert a.cmd("linemode %s off" % cid).ok
            c.send_text("p\nq")
            assert c.read_message(3.0) == (harness.OP_TEXT, b"p\nq")
    finally:
        a.close()


def test_timeout_per_connection(daemon_factory):
    """timeout ID SECONDS sets one connection's send timeout (the Timeout
    field); a client that then takes no queued data is dropped as 1008."""
    marker = harness.unique_marker()
    d = daemon_factory(routes={
        "echo": {"Path": "/", "Backend": "echo"},
        "flood": {"Path": "/flood",
                  "Backend": "script:{handlers}/flood.py " + marker}},
        sections={"backend": {"KillTimeout": 1}})
    a = admin(d)
    try:
        with harness.connect_ws(d.port) as c:
            cid = conn_id(a, c)
            assert conn_entry(a, cid)["Timeout"] == 0
            r = a.cmd("timeout %s 7" % cid)
            assert r.ok and r.text == "Timeout of %s is 7" % cid
            assert conn_entry(a, cid)["Timeout"] == 7
            assert a.cmd("timeout %s -1" % cid).code == 405
            assert a.cmd("timeout %s 1s" % cid).code == 405
            assert a.cmd("timeout 999999 1").code == 126
        c = harness.WSClient(d.port)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        c.handshake("/flood")
        cid = conn_id(a, c)
        start = d.mark()
        assert a.cmd("timeout %s 1" % cid).ok
        d.wait_log(r"%s close code=1008 by=timeout" % cid, timeout=8.0)
        # The log names the connection's own value, not DefaultTimeout's.
        assert d.find_log(r" %s send timeout \(Timeout 1 s\)$" % cid,
            start=start)
        c.close()
    finally:
        a.close()
