"""unix: backends in mux mode: one socket per route carries every
WebSocket, with the verdict, data, ping, close, broadcast, linemode and
ReadyToSend events of wsserverd(8), MUX PROTOCOL (handlers/mux_backend.py
is the backend)."""

import os
import select
import subprocess
import time

import pytest

from harness import (HANDLERS, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT,
    TOP_SRCDIR, WSClient, build_frame, build_request, connect_ws,
    wait_until)


class Backend:
    def __init__(self, sock, log):
        self.sock, self.log = sock, log
        self.proc = None

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.proc = subprocess.Popen(["/usr/bin/python3",
            os.path.join(HANDLERS, "mux_backend.py"), self.sock, self.log],
            stdin=subprocess.DEVNULL)
        assert wait_until(lambda: os.path.exists(self.sock), 5.0)

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None

    def events(self):
        try:
            with open(self.log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait_event(self, line, timeout=5.0):
        assert wait_until(lambda: line in self.events(), timeout), \
            "no %r in %r" % (line, self.events()[-20:])


@pytest.fixture(scope="module")
def mux(module_daemons, tmp_path_factory):
    top = tmp_path_factory.mktemp("mux")
    backends = {n: Backend(str(top / (n + ".sock")), str(top / (n + ".log")))
        for n in ("m", "r", "p")}
    for b in backends.values():
        b.start()
    d = module_daemons(routes={
        "m": {"Path": "/m/*", "Backend": "unix:%s mux" % backends["m"].sock},
        "r": {"Path": "/r", "Backend": "unix:%s mux" % backends["r"].sock},
        "p": {"Path": "/p", "Backend": "unix+mux:%s" % backends["p"].sock},
    }, sections={"websocket": {"HandshakeTimeout": 2}})
    d.backends = backends
    yield d
    for b in backends.values():
        b.stop()


def test_accept_and_echo(mux):
    b = mux.backends["m"]
    c = connect_ws(mux.port, "/m/x/y?name=echo1")
    b.wait_event("open echo1 /m /x/y")
    c.echo(OP_TEXT, "hello")
    c.echo(OP_TEXT, "\u00fcml\u00e4ut")
    c.echo(OP_BINARY, bytes(range(256)) * 40 + b"\n\0\r\n")
    c.echo(OP_TEXT, "")
    c.close_handshake(1000)
    b.wait_event("close echo1 1000 ")


def test_reject_is_403(mux):
    b = mux.backends["m"]
    start = mux.mark()
    c = WSClient(mux.port)
    try:
        c.handshake("/m/reject?name=rej", expect=403)
    finally:
        c.close()
    b.wait_event("open rej /m /reject")
    mux.wait_log(r"rejected .* 403 refused by the backend", start=start)
    assert not any(e.startswith("close rej") for e in b.events())


def test_no_verdict_is_503(mux):
    b = mux.backends["m"]
    c = WSClient(mux.port)
    t0 = time.monotonic()
    try:
        c.handshake("/m/silent?name=sil", expect=503, timeout=6)
    finally:
        c.close()
    assert 1.5 < time.monotonic() - t0 < 4.5
    b.wait_event("close sil 1006 ")


def test_bytes_after_request_wait_for_verdict(mux):
    # A frame sent right behind the request stays buffered while the
    # backend decides, then reaches it.
    c = WSClient(mux.port)
    req, _ = build_request("/m/q?name=early", port=mux.port)
    c.send(req + build_frame(OP_TEXT, "early bird"))
    resp = c.read_http_response()
    assert resp.status == 101
    assert c.read_message() == (OP_TEXT, b"early bird")
    c.close_handshake(1000)


def test_client_message_in_parts(mux):
    b = mux.backends["m"]
    c = connect_ws(mux.port, "/m/p?name=parts")
    c.send_frame(OP_TEXT, "ab", fin=False)
    c.send_frame(OP_CONT, "cde", fin=False)
    c.send_frame(OP_CONT, "f", fin=True)
    assert c.read_message() == (OP_TEXT, b"abcdef")
    ev = [e for e in b.events() if e.startswith("data parts ")]
    assert ev == ["data parts t 2", "data parts t 3", "data parts T 1"]
    c.send_frame(OP_BINARY, b"\x00\xff", fin=False)
    c.send_frame(OP_CONT, b"\x01", fin=True)
    assert c.read_message() == (OP_BINARY, b"\x00\xff\x01")
    c.close_handshake(1000)


def test_backend_message_in_parts(mux):
    c = connect_ws(mux.port, "/m/p?name=bparts")
    c.send_text("parts:one,two,three")
    frames = []
    assert c.read_message(frames=frames) == (OP_TEXT, b"onetwothree")
    assert [(f.opcode, f.fin, f.payload) for f in frames] == [
        (OP_TEXT, False, b"one"), (OP_CONT, False, b"two"),
        (OP_CONT, True, b"three")]
    c.close_handshake(1000)


def test_client_close_code_reaches_backend(mux):
    b = mux.backends["m"]
    c = connect_ws(mux.port, "/m/c?name=cclose")
    c.close_handshake(4001, b"bye now")
    b.wait_event("close cclose 4001 bye now")


def test_backend_close_with_code(mux):
    b = mux.backends["m"]
    c = connect_ws(mux.port, "/m/c?name=bclose")
    c.send_text("close:4002:done here")
    f = c.expect_close(4002)
    assert f.payload[2:] == b"done here"
    c.reply_close(4002)
    c.assert_closed(1.0)
    b.wait_event("close bclose 4002 done here")


def test_backend_close_code_one_rule(mux):
    """A code RFC 6455 7.4 reserves (1016-2999, 1004-1006, 1015) is never
    sent: the backend hears "error ID close CODE" and the WebSocket closes
    with DisconnectStatusCode (1000) and the backend's reason."""
    b = mux.backends["m"]
    for code in (2000, 1016, 2999, 1015, 1005):
        name = "badclose%d" % code
        c = connect_ws(mux.port, "/m/c?name=" + name)
        c.send_text("close:%d:nope" % code)
        f = c.expect_close(1000)
        assert f.payload[2:] == b"nope"
        c.reply_close(1000)
        c.assert_closed(1.0)
        b.wait_event("error %s close %d" % (name, code))
        b.wait_event("close %s 1000 nope" % name)


def test_ping_both_ways(mux):
    b = mux.backends["m"]
    c = connect_ws(mux.port, "/m/ping?name=pinger")
    c.send_ping(b"abc")
    f = c.read_frame()
    assert (f.opcode, f.payload) == (0xA, b"abc")
    b.wait_event("ping pinger abc")
    c.send_text("ping:xyz")
    f = c.read_frame()
    assert (f.opcode, f.payload) == (OP_PING, b"xyz")
    c.close_handshake(1000)


def test_broadcast(mux):
    cs = [connect_ws(mux.port, "/m/b?name=bc%d" % i) for i in range(3)]
    other = connect_ws(mux.port, "/r?name=other")
    cs[0].send_text("bcast:to all")
    for c in cs:
        assert c.read_message() == (OP_TEXT, b"to all")
    # Another route's WebSockets are not part of it.
    other.echo(OP_TEXT, "still alone")
    for c in cs + [other]:
        c.close_handshake(1000)


def test_linemode(mux):
    c = connect_ws(mux.port, "/m/l?name=lines")
    c.send_text("linemode:1")
    assert c.read_message() == (OP_TEXT, b"linemode 1")
    c.send_text("a\nbc\r\nd")
    assert [c.read_message() for _ in range(3)] == [(OP_TEXT, b"a"),
        (OP_TEXT, b"bc"), (OP_TEXT, b"d")]
    c.send_text("linemode:0")
    assert c.read_message() == (OP_TEXT, b"linemode 0")
    c.echo(OP_TEXT, "x\ny")
    c.close_handshake(1000)


def test_linemode_line_cut_is_not_an_end_of_line(mux):
    """The reference's DataIn EOL: a line cut at MaxLineLength (the
    WebSocket's own, set by the backend) comes as "data ID U", a line that
    ended at its end of line as "data ID T"."""
    b = mux.backends["m"]
    c = connect_ws(mux.port, "/m/l?name=eol")
    c.send_text("config:MaxLineLength=4")
    c.send_text("config:MaxLineLength")
    assert c.read_message() == (OP_TEXT, b"config MaxLineLength=4")
    c.send_text("linemode:1")
    assert c.read_message() == (OP_TEXT, b"linemode 1")
    c.send_text("abcdefghij\nxy")
    assert [c.read_message() for _ in range(4)] == [(OP_TEXT, b"abcd"),
        (OP_TEXT, b"efgh"), (OP_TEXT, b"ij"), (OP_TEXT, b"xy")]
    events = [e for e in b.events() if e.startswith("data eol ")]
    assert events[-5:] == ["data eol U 4", "data eol U 4", "data eol T 2",
        "data eol t 2", "data eol T 0"], events
    c.close_handshake(1000)


def test_config(mux):
    c = connect_ws(mux.port, "/m/cfg?name=cfg")
    c.send_text("config:Timeout")
    assert c.read_message() == (OP_TEXT, b"config Timeout=0")
    c.send_text("config:Timeout=7")
    c.send_text("config:Timeout")
    assert c.read_message() == (OP_TEXT, b"config Timeout=7")
    c.send_text("config:LineMode")
    assert c.read_message() == (OP_TEXT, b"config LineMode=0")
    c.send_text("config:LineMode=1")
    c.send_text("config:LineMode")
    assert c.read_message() == (OP_TEXT, b"config LineMode=1")
    c.send_text("a\nb")
    assert [c.read_message() for _ in range(2)] == [(OP_TEXT, b"a"),
        (OP_TEXT, b"b")]
    c.send_text("config:LineMode=0")
    c.send_text("config:ReadyToSend")
    assert c.read_message() == (OP_TEXT, b"config ReadyToSend=1")
    # Unknown keys, bad values and values for read-only keys get an error
    # event; the channel stays up.
    for word in ("Nope", "Nope=1", "Timeout=86401", "Timeout=-1",
            "Timeout=x", "LineMode=2", "ReadyToSend=1", "=1"):
        c.send_text("config:" + word)
        assert c.read_message() == (OP_TEXT, ("error config " +
            word).encode())
    c.send_text("config:Timeout")
    assert c.read_message() == (OP_TEXT, b"config Timeout=7")
    c.echo(OP_TEXT, "x\ny")
    c.close_handshake(1000)


def test_twenty_at_once(mux):
    cs = [connect_ws(mux.port, "/m/many?name=many%d" % i) for i in range(20)]
    for round_ in range(5):
        for i, c in enumerate(cs):
            c.send_text("msg %d %d" % (i, round_))
        for i, c in enumerate(cs):
            assert c.read_message() == (OP_TEXT,
                ("msg %d %d" % (i, round_)).encode())
    cs[7].send_text("count")
    n = int(cs[7].read_message()[1])
    assert n >= 20
    for c in cs:
        c.close_handshake(1000)


def test_thousand_websockets_one_channel(daemon_factory, tmp_path):
    # 1,000 WebSockets on one mux connection: broadcasts between two
    # messages of the backend's own reach every one exactly once, in
    # order, nothing lost. 2,000 descriptors here and in the daemon.
    n, rounds = 1000, 5
    b = Backend(str(tmp_path / "k.sock"), str(tmp_path / "k.log"))
    b.start()
    cs = []
    try:
        d = daemon_factory(routes={
            "k": {"Path": "/k", "Backend": "unix:%s mux" % b.sock}},
            sections={"server": {"MaxConnections": n + 100}})
        t0 = time.monotonic()
        for i in range(n):
            cs.append(connect_ws(d.port, "/k?name=k%d" % i))
        body = "all" + "x" * 1000
        cs[0].send_text("sandwich:%d:%s" % (rounds, body))
        want = [(OP_TEXT, b"pre")] + [(OP_TEXT, ("%s %d" % (body,
            i)).encode()) for i in range(rounds)] + [(OP_TEXT, b"post")]
        for c in cs:
            assert [c.read_message(timeout=10.0)
                for _ in range(rounds + 2)] == want
        # Nothing more (no duplicate): the next message is an echo.
        for i, c in enumerate(cs):
            c.echo(OP_TEXT, "after %d" % i)
        assert time.monotonic() - t0 < 30.0
        cs[0].send_text("count")
        assert cs[0].read_message() == (OP_TEXT, str(n).encode())
    finally:
        for c in cs:
            c.close()
        b.stop()


def test_slow_client_flow_control(mux):
    # 8 MiB to a client that does not read: past the per-client cap that
    # WebSocket alone is closed with 1008 and the backend hears "close";
    # the socket keeps being read, so another WebSocket of the route gets
    # its messages meanwhile (no head-of-line blocking).
    b = mux.backends["m"]
    start = mux.mark()
    other = connect_ws(mux.port, "/m/f?name=waiting")
    c = connect_ws(mux.port, "/m/f?name=slow")
    c.send_text("flood:128:65536")
    mux.wait_log(r"route m: \S+ is over 1048576 bytes behind; closing it "
        r"\(1008\)", start=start)
    b.wait_event("close slow 1008 client too slow")
    for i in range(20):
        other.echo(OP_TEXT, "still here %d" % i)
    # The slow client gets what was queued for it, then the 1008 close.
    got = 0
    while True:
        f = c.read_frame(10)
        if f.opcode == OP_CLOSE:
            assert f.payload[:2] == (1008).to_bytes(2, "big")
            assert f.payload[2:] == b"client too slow"
            break
        assert f.opcode in (OP_BINARY, OP_CONT)
        got += len(f.payload)
    assert 0 < got < 128 * 65536
    c.reply_close(1008)
    c.close()
    other.echo(OP_TEXT, "after")
    other.close_handshake(1000)
    d = connect_ws(mux.port, "/m/f?name=afterslow")
    d.echo(OP_TEXT, "fine")
    d.close_handshake(1000)


def test_accept_with_subprotocol_and_headers(mux):
    b = mux.backends["m"]
    c = WSClient(mux.port)
    try:
        resp = c.handshake("/m/withproto?name=wp", protocols="x, chat")
        assert resp.header("sec-websocket-protocol") == "chat"
        assert resp.header("x-backend") == "mux"
        b.wait_event("connected wp")
        c.echo(OP_TEXT, "hi")
        c.close_handshake(1000)
    finally:
        c.close()
    ev = b.events()
    assert ev.index("open wp /m /withproto") < ev.index("connected wp")


def test_accept_with_subprotocol_not_offered_is_500(mux):
    b = mux.backends["m"]
    start = mux.mark()
    c = WSClient(mux.port)
    try:
        c.handshake("/m/badproto?name=bp", protocols="x, chat",
            expect=500)
    finally:
        c.close()
    mux.wait_log(r"bad verdict from the backend: subprotocol not offered",
        start=start)
    assert "connected bp" not in b.events()


def test_reject_with_headers(mux):
    c = WSClient(mux.port)
    try:
        resp = c.handshake("/m/reject401?name=r401", expect=401)
        assert resp.header("www-authenticate") == 'Basic realm="mux"'
        assert resp.reason == "Unauthorized"
    finally:
        c.close()


def test_plain_accept_sends_connected(mux):
    b = mux.backends["m"]
    c = connect_ws(mux.port, "/m/f?name=plainconn")
    b.wait_event("connected plainconn")
    c.close_handshake(1000)


def test_backend_restart(mux):
    b = mux.backends["r"]
    cs = [connect_ws(mux.port, "/r?name=rs%d" % i) for i in range(3)]
    for c in cs:
        c.echo(OP_TEXT, "before")
    start = mux.mark()
    b.stop()
    for c in cs:
        c.expect_close(1011)
        c.reply_close(1011)
    mux.wait_log(r"route r: mux backend .* lost", start=start)
    c = WSClient(mux.port)
    try:
        c.handshake("/r?name=down", expect=503)
    finally:
        c.close()
    b.start()

    def reconnected():
        return mux.find_log(r"route r: mux backend .* connected",
            start=start) is not None
    assert wait_until(reconnected, 10.0)
    c = connect_ws(mux.port, "/r?name=again")
    c.echo(OP_TEXT, "after restart")
    c.close_handshake(1000)


def test_unix_plus_mux_spelling(mux):
    # "unix+mux:SOCKET" is "unix:SOCKET mux": the same protocol.
    b = mux.backends["p"]
    c = connect_ws(mux.port, "/p?name=plus")
    b.wait_event("open plus /p ")
    b.wait_event("connected plus")
    c.echo(OP_TEXT, "via unix+mux")
    c.close_handshake(1000)
    b.wait_event("close plus 1000 ")


EXAMPLES = os.path.join(TOP_SRCDIR, "examples")


def test_example_chat_room(daemon_factory, tmp_path):
    # examples/chat-room.py: joins, messages and leaves reach everyone.
    sock = str(tmp_path / "chat.sock")
    proc = subprocess.Popen(["/usr/bin/python3",
        os.path.join(EXAMPLES, "chat-room.py"), sock],
        stdin=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: os.path.exists(sock), 5.0)
        d = daemon_factory(routes={"chat": {"Path": "/chat",
            "Backend": "unix+mux:%s" % sock}})
        a = WSClient(d.port)
        resp = a.handshake("/chat?name=alice", protocols="chat")
        assert resp.header("sec-websocket-protocol") == "chat"
        assert a.read_message() == (OP_TEXT, b"* alice joined (1 here)")
        b = connect_ws(d.port, "/chat?name=bob")
        assert a.read_message() == (OP_TEXT, b"* bob joined (2 here)")
        assert b.read_message() == (OP_TEXT, b"* bob joined (2 here)")
        for i in range(50):
            b.send_text("msg %d \u00e9" % i)
        for c in (a, b):
            for i in range(50):
                assert c.read_message() == (OP_TEXT,
                    ("bob: msg %d \u00e9" % i).encode())
        b.close_handshake(1000)
        assert a.read_message() == (OP_TEXT, b"* bob left")
        a.close_handshake(1000)
        a.close()
    finally:
        proc.kill()
        proc.wait(5)


def test_example_framed_shell(daemon_factory):
    # examples/framed-echo.sh: a greeting, then parts back byte for byte.
    d = daemon_factory(routes={"e": {"Path": "/e",
        "Backend": "script:%s" % os.path.join(EXAMPLES, "framed-echo.sh"),
        "MessageFormat": "framed"}})
    c = connect_ws(d.port, "/e")
    assert c.read_message() == (OP_TEXT, b"hello from sh")
    c.echo(OP_TEXT, "two\nlines\n")
    c.echo(OP_BINARY, bytes(range(256)) + b"\n\0\r\n")
    c.echo(OP_TEXT, "")
    c.close_handshake(1000)
    d.wait_log(r"client closed with 1000")
