"""test_admin_send.py - the admin socket's messages of any size: sendbytes
(LEN raw bytes after the line, streamed, bounded memory), the reference's
MessageLength (one message in parts over several commands), and
wsserverctl -f, with one process and with workers."""

import base64
import os
import socket
import subprocess
import time

import harness
from admin_util import admin, conn_id, ctl, ctl_path
from harness import OP_BINARY, OP_CONT, OP_TEXT, connect_ws


SANITIZED = harness.sanitized()
# The daemon's growth while it holds the message back (see below).
RSS_BOUND_KIB = (40 if SANITIZED else 16) * 1024


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_sendbytes_raw_protocol(daemon_factory):
    d = daemon_factory(sections={"websocket": {"MaxMessageSize": 8 << 20}})
    with admin(d) as a:
        c = connect_ws(d.port)
        cid = conn_id(a, c)
        data = os.urandom(100000)
        a.send_raw(b"sendbytes %s %d\n" % (cid.encode(), len(data)) + data)
        r = a.read_reply()
        assert r.ok and r.text == "queued %d bytes to %s" % (len(data), cid)
        assert c.read_message(10.0) == (OP_BINARY, data)
        # Data that looks like a command is data.
        a.send_raw(b"sendbytes %s 7 text\nstatus\n" % cid.encode())
        assert a.read_reply().ok
        assert c.read_message(5.0) == (OP_TEXT, b"status\n")
        # Text that is not UTF-8: the message ends where the valid text
        # does, the rest is dropped.
        a.send_raw(b"sendbytes %s 10 text\nabc\xc3\x28defgh" %
            cid.encode())
        r = a.read_reply()
        assert r.code == 405 and "not UTF-8 (after 3 bytes)" in r.text, r
        assert c.read_message(5.0) == (OP_TEXT, b"abc")
        # Text with every width of character, a command right behind it.
        text = "d\u00e9j\u00e0 vu \U0001f600 " * 2000
        raw = text.encode()
        a.send_raw(b"sendbytes %s %d text\n" % (cid.encode(), len(raw)) +
            raw + b"status\n")
        assert a.read_reply().ok
        assert a.read_reply().ok
        assert c.read_message(10.0) == (OP_TEXT, raw)
        # An empty message.
        assert a.cmd("sendbytes %s 0" % cid).ok
        assert c.read_message() == (OP_BINARY, b"")
        # A refused sendbytes still takes its data: no stray commands.
        a.send_raw(b"sendbytes 999999 8\nstatus\n\n")
        r = a.read_reply()
        assert r.code == 126, r
        assert a.cmd("sendbytes %s 3 binary" % cid).code == 403
        a.send_raw(b"xyz")       # its data, dropped
        assert a.cmd("status").ok
        # Larger than MaxMessageSize: refused, the data dropped.
        n = (8 << 20) + 1
        a.send_line("sendbytes %s %d" % (cid, n))
        a.send_raw(b"\0" * n)
        r = a.read_reply(10.0)
        assert r.code == 405 and "MaxMessageSize" in r.text, r
        assert a.cmd("status").ok
    # A length that is no number: the stream cannot be framed, closed.
    with admin(d) as a:
        r = a.cmd("sendbytes %s ten" % cid)
        assert r.code == 405 and "closing" in r.text
        assert a.read_to_eof() == b""
    c.echo(OP_TEXT, "the WebSocket is fine")
    c.close_handshake(1000)


def test_wsserverctl_file_and_stdin(daemon_factory, tmp_path):
    d = daemon_factory(sections={"websocket": {"MaxMessageSize": 8 << 20}})
    with admin(d) as a:
        c = connect_ws(d.port)
        cid = conn_id(a, c)
    data = os.urandom(3 << 20)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    p = ctl("-s", d.admin_socket, "-f", str(path), "send", cid)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "queued %d bytes to %s\n" % (len(data), cid)
    op, got = c.read_message(20.0)
    assert op == OP_BINARY and got == data
    # From a pipe.
    text = "\u00fcber " * 50000
    p = subprocess.run([ctl_path(), "-s", d.admin_socket, "-f", "-",
        "sendtext", cid], input=text.encode(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=20)
    assert p.returncode == 0, p.stderr
    assert c.read_message(20.0) == (OP_TEXT, text.encode())
    # Usage errors.
    p = ctl("-s", d.admin_socket, "-f", str(path), "status")
    assert p.returncode == 2 and "-f goes with send" in p.stderr
    p = ctl("-s", d.admin_socket, "-f", str(path), "send", cid, "AAAA")
    assert p.returncode == 2
    c.close_handshake(1000)


def test_message_length_in_parts(daemon_factory):
    """The reference's MessageLength: the next N bytes sent are one
    message, its parts sent as fragments as they come."""
    d = daemon_factory()
    with admin(d) as a:
        c = connect_ws(d.port)
        cid = conn_id(a, c)
        assert a.cmd("config %s MessageLength=12" % cid).lines == [
            "MessageLength = 12"]
        r = a.cmd("sendtext %s hello " % cid)
        assert r.ok and r.text == ("queued 6 bytes to %s (6 of "
            "MessageLength to come)" % cid)
        f = c.read_frame()
        assert (f.opcode, f.fin, f.payload) == (OP_TEXT, False, b"hello ")
        assert a.cmd("config %s MessageLength" % cid).lines == [
            "MessageLength = 6"]
        # Too long for what is left, another type, a new length: refused.
        assert a.cmd("sendtext %s far too long" % cid).code == 405
        assert a.cmd("send %s %s" % (cid, base64.b64encode(b"ab").decode())
            ).code == 405
        assert a.cmd("config %s MessageLength=3" % cid).code == 409
        # Broadcast skips it meanwhile.
        r = a.cmd("broadcast to all")
        assert r.ok and "skipped 1 busy" in r.lines[0]
        a.send_raw(b"sendbytes %s 6 text\nworld!" % cid.encode())
        assert a.read_reply().ok
        f = c.read_frame()
        assert (f.opcode, f.fin, f.payload) == (OP_CONT, True, b"world!")
        # Binary in parts, ended early by interrupt.
        assert a.cmd("config %s MessageLength=100" % cid).ok
        assert a.cmd("send %s %s" % (cid, base64.b64encode(b"\0\1").decode())
            ).ok
        f = c.read_frame()
        assert (f.opcode, f.fin, f.payload) == (OP_BINARY, False, b"\0\1")
        r = a.cmd("interrupt %s" % cid)
        assert r.ok
        f = c.read_frame()
        assert (f.opcode, f.fin, f.payload) == (OP_CONT, True, b"")
        assert a.cmd("config %s MessageLength" % cid).lines == [
            "MessageLength = 0"]
        assert a.cmd("interrupt %s" % cid).code == 411
    c.echo(OP_TEXT, "and on")
    c.close_handshake(1000)


def test_sendbytes_to_a_slow_client_is_bounded(daemon_factory, tmp_path):
    """Streamed: 64 MiB to a client that does not read for a while cost
    the daemon about the client's queue (1 MiB), not the message. Under
    ASan its quarantine is cut to 16 MiB, so that freed memory does not
    count as growth (as in test_hostile.py)."""
    env = {"ASAN_OPTIONS": ":".join(o for o in (os.environ.get(
        "ASAN_OPTIONS"), "quarantine_size_mb=16") if o)} if SANITIZED \
        else None
    d = daemon_factory(sections={"websocket": {"MaxMessageSize": 64 << 20,
        "PingInterval": 0}}, env=env)
    n = 64 << 20
    path = tmp_path / "huge.bin"
    with open(path, "wb") as f:
        block = bytes(range(256)) * 4096
        for _ in range(n // len(block)):
            f.write(block)
    c = harness.WSClient(d.port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.handshake("/")
    with admin(d) as a:
        cid = conn_id(a, c)
    before = rss_kib(d.pid)
    p = subprocess.Popen([ctl_path(), "-s", d.admin_socket, "-f", str(path),
        "send", cid], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2.0)
    assert p.poll() is None           # waits for the client
    grown = rss_kib(d.pid) - before
    assert grown < RSS_BOUND_KIB, grown   # far from 64 MiB
    # Now read it all.
    got = 0
    frames = 0
    deadline = time.monotonic() + 60
    while got < n and time.monotonic() < deadline:
        f = c.read_frame(30.0)
        got += len(f.payload)
        frames += 1
    assert got == n and f.fin
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    c.close_handshake(1000)


def test_sendbytes_client_leaves_midway(daemon_factory):
    d = daemon_factory()
    with admin(d) as a:
        c = connect_ws(d.port)
        cid = conn_id(a, c)
    start = d.mark()
    a = admin(d)
    a.send_raw(b"sendbytes %s 1000\n" % cid.encode() + b"x" * 400)
    f = c.read_frame(5.0)
    assert (f.opcode, f.fin) == (OP_BINARY, False)
    a.close()
    # The message is ended (an empty last fragment); the WebSocket goes on.
    got = f.payload
    while True:
        f = c.read_frame(5.0)
        got += f.payload
        if f.fin:
            break
    assert got == b"x" * 400
    d.wait_log(r"sendbytes to %s cut short after 400 bytes" % cid,
        start=start)
    c.echo(OP_TEXT, "still here")
    c.close_handshake(1000)


def test_sendbytes_with_workers(daemon_factory, tmp_path):
    """The master passes the data on to the worker that owns the
    connection, as it comes."""
    d = daemon_factory(sections={"server": {"Workers": 2},
        "websocket": {"MaxMessageSize": 4 << 20}})
    cs = [connect_ws(d.port) for _ in range(4)]
    with admin(d) as a:
        ids = [conn_id(a, c) for c in cs]
        for i, (c, cid) in enumerate(zip(cs, ids)):
            data = bytes([i]) * (1 << 20) + os.urandom(1000)
            a.send_raw(b"sendbytes %s %d\n" % (cid.encode(), len(data)) +
                data)
            r = a.read_reply(20.0)
            assert r.ok, r
            assert c.read_message(20.0) == (OP_BINARY, data)
            assert a.cmd("config %s MessageLength=4" % cid).ok
            assert a.cmd("sendtext %s ab" % cid).ok
            a.send_raw(b"sendbytes %s 2 text\ncd" % cid.encode())
            assert a.read_reply().ok
            assert c.read_message() == (OP_TEXT, b"abcd")
        a.send_raw(b"sendbytes 999999999 4\nabcd")
        assert a.read_reply().code == 126
        assert a.cmd("status").ok
    for c in cs:
        c.close_handshake(1000)
