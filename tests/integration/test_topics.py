"""Topics on one node (wsserverd(8), TOPICS): WebSockets join topics through
their route's Subscribe (CGI variables in braces), the OpenRequestHook's
Subscribe lines, a mux backend's subscribe command or a framed backend's S
frame; a publish from wsserverctl, a mux or framed backend reaches every
subscriber, across the workers too; subscriptions end with the connection
and are bounded; a slow client misses messages without holding up others."""

import base64
import os
import socket
import subprocess
import time

import pytest

from admin_util import admin, conn_id, ctl
from harness import (HANDLERS, OP_BINARY, OP_TEXT, WSClient, connect_ws,
    wait_until)


def recv_text(c, timeout=5.0):
    op, data = c.read_message(timeout)
    assert op == OP_TEXT, "expected text, got %r" % ((op, data),)
    return data.decode()


def recv_some(c, n, timeout=5.0):
    """The next n messages, sorted (their order is not the point)."""
    out = []
    for _ in range(n):
        op, data = c.read_message(timeout)
        out.append(data.decode() if op == OP_TEXT else data)
    return sorted(out, key=repr)


def nothing_more(c, wait=0.3):
    """Asserts that no message arrives for wait seconds."""
    with pytest.raises(socket.timeout):
        c.read_message(wait)


@pytest.fixture
def mux_backend(tmp_path):
    sock = str(tmp_path / "topics.sock")
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(HANDLERS,
        "topic_mux.py"), sock], stdin=subprocess.DEVNULL)
    assert wait_until(lambda: os.path.exists(sock), 5.0)
    yield sock
    p.kill()
    p.wait(5)


ROUTES = {
    "chat": {"Path": "/chat/*", "Backend": "echo",
        "Subscribe": "room:{PATH_INFO}, all, q:{QUERY_STRING}"},
    "plain": {"Path": "/plain", "Backend": "echo"},
}


def test_route_subscribe_and_publish(daemon_factory):
    d = daemon_factory(routes=ROUTES)
    adm = admin(d)
    a = connect_ws(d.port, "/chat/7?x")
    b = connect_ws(d.port, "/chat/8")
    p = connect_ws(d.port, "/plain")
    assert wait_until(lambda: adm.cmd("topics json").json() and len(
        adm.cmd("topics json").json()) == 5, 5.0)
    topics = {t["Topic"]: t["Subscribers"] for t in
        adm.cmd("topics json").json()}
    # An empty QUERY_STRING made "q:" for b; "x" made "q:x" for a.
    assert topics == {"room:/7": 1, "room:/8": 1, "all": 2, "q:x": 1,
        "q:": 1}
    r = adm.cmd("publish room:/7 seven")
    assert r.ok and "published 5 bytes on room:/7" in r.status
    assert recv_text(a) == "seven"
    r = adm.cmd("publish all to all, spaces kept ")
    assert r.ok
    assert recv_text(a) == "to all, spaces kept "
    assert recv_text(b) == "to all, spaces kept "
    r = adm.cmd("publishbin room:/8 " + base64.b64encode(
        b"\x00\xffbin").decode())
    assert r.ok
    assert b.read_message() == (OP_BINARY, b"\x00\xffbin")
    nothing_more(p)
    nothing_more(a, 0.1)
    # connection ID shows what it is subscribed to.
    r = adm.cmd("connection %s" % conn_id(adm, a))
    i = r.lines.index("Topics:")
    assert sorted(l.strip() for l in r.lines[i + 1:]) == ["all", "q:x",
        "room:/7"]
    j = adm.cmd("connection %s json" % conn_id(adm, a)).json()
    assert sorted(j["Topics"]) == ["all", "q:x", "room:/7"]
    # Stats count what was published and delivered.
    st = adm.cmd("stats json").json()["topics"]
    assert st["published"] == 3 and st["delivered"] == 4
    assert st["count"] == 5
    # A topic nobody has is published to nobody, without an error.
    assert adm.cmd("publish nobody x").ok
    for c in (a, b, p):
        c.close_handshake(1000)
    # Unsubscribed at close: no topic is left.
    assert wait_until(lambda: adm.cmd("topics").status == "OK 0 topic(s)",
        5.0)
    assert adm.cmd("stats json").json()["topics"]["count"] == 0


def test_publish_refusals(daemon_factory):
    d = daemon_factory(routes=ROUTES, sections={"websocket":
        {"MaxMessageSize": 200}})
    adm = admin(d)
    r = adm.cmd("publish bad\x01topic x")
    assert r.code == 403 or r.code == 405
    assert adm.cmd("publish " + "t" * 129 + " x").code == 405
    assert adm.cmd("publish t " + "x" * 201).code == 405
    assert adm.cmd("publishbin t !!!").code == 405
    assert adm.cmd("publish t").code == 403
    adm.send_raw(b"publish t \xff\n")
    assert adm.read_reply().code == 405
    # Without [cluster] Redis the node is alone: Fleet off.
    assert adm.cmd("status json").json()["Fleet"] == "off"


def test_hook_subscribe_header_consumed(daemon_factory):
    d = daemon_factory(routes={"h": {"Path": "/h", "Backend": "echo",
        "OpenRequestHook": "{handlers}/topic_hook.sh"}})
    adm = admin(d)
    c = WSClient(d.port)
    resp = c.handshake("/h?ann")
    # The hook's other header is sent; its Subscribe line is the daemon's.
    assert resp.header("x-hook") == "yes"
    assert resp.header("subscribe") is None
    assert wait_until(lambda: adm.cmd("topics").status == "OK 2 topic(s)",
        5.0)
    assert adm.cmd("publish user:ann hi ann").ok
    assert recv_text(c) == "hi ann"
    assert adm.cmd("publish vip hi vip").ok
    assert recv_text(c) == "hi vip"
    c.close_handshake(1000)


def test_mux_subscribe_publish(daemon_factory, mux_backend):
    d = daemon_factory(routes={"m": {"Path": "/m/*",
        "Backend": "unix:%s mux" % mux_backend}},
        sections={"cluster": {"MaxSubscriptions": 2}})
    adm = admin(d)
    a = connect_ws(d.port, "/m/a")
    b = connect_ws(d.port, "/m/tsub-news")	# its accept says Subscribe
    a.send_text("sub:news")
    assert recv_text(a) == "did sub:news"
    a.send_text("sub:sport")
    assert recv_text(a) == "did sub:sport"
    assert wait_until(lambda: adm.cmd("topics").status == "OK 2 topic(s)",
        5.0)
    # A backend publishes: every subscriber gets it, the sender too.
    b.send_text("pub:news headline")
    got = [recv_text(b), recv_text(b)]
    assert sorted(got) == ["did pub:news headline", "headline"]
    assert recv_text(a) == "headline"
    a.send_text("pubb:sport 00ff")
    assert recv_some(a, 2) == ["did pubb:sport 00ff", b"\x00\xff"]
    # MaxSubscriptions = 2: a third is refused, and the backend told.
    a.send_text("sub:third")
    msgs = sorted([recv_text(a), recv_text(a)])
    assert msgs == ["did sub:third", "error %s subscribe third" %
        conn_id(adm, a)]
    # A bad topic name is refused the same way; a bad publish says "*".
    a.send_text("pub:x\x7fy z")
    msgs = sorted([recv_text(a), recv_text(a)])
    assert msgs == ["did pub:x\x7fy z", "error * publish x\x7fy"]
    assert recv_text(b) == "error * publish x\x7fy"
    a.send_text("unsub:news")
    assert recv_text(a) == "did unsub:news"
    assert adm.cmd("publish news after").ok
    assert recv_text(b) == "after"
    nothing_more(a)
    a.close_handshake(1000)
    b.close_handshake(1000)
    assert wait_until(lambda: adm.cmd("topics").status == "OK 0 topic(s)",
        5.0)


def test_framed_subscribe_publish(daemon_factory):
    d = daemon_factory(routes={"f": {"Path": "/f",
        "Backend": "script:{handlers}/framed_topics.py",
        "MessageFormat": "framed"}})
    adm = admin(d)
    a = connect_ws(d.port, "/f")
    b = connect_ws(d.port, "/f")
    a.send_text("sub:t1")
    assert recv_text(a) == "did sub:t1"
    b.send_text("pub:t1 from b")
    assert recv_text(b) == "did pub:t1 from b"
    assert recv_text(a) == "from b"
    b.send_text("pubb:t1 raw")
    assert recv_text(b) == "did pubb:t1 raw"
    assert a.read_message() == (OP_BINARY, b"raw")
    # A framed publish may be as large as MSGSTREAM_PUBLISH_MAX.
    b.send_text("pub:t1 " + "y" * 65000)
    assert recv_text(b) == "did pub:t1 " + "y" * 65000
    assert recv_text(a) == "y" * 65000
    a.send_text("unsub:t1")
    assert recv_text(a) == "did unsub:t1"
    assert wait_until(lambda: adm.cmd("topics").status == "OK 0 topic(s)",
        5.0)
    b.send_text("pub:t1 nobody")
    assert recv_text(b) == "did pub:t1 nobody"
    nothing_more(a)
    a.echo(OP_TEXT, "still an echo")
    a.close_handshake(1000)
    b.close_handshake(1000)


def test_max_topics(daemon_factory, mux_backend):
    d = daemon_factory(routes={"m": {"Path": "/m/*",
        "Backend": "unix:%s mux" % mux_backend}},
        sections={"cluster": {"MaxTopics": 3, "MaxSubscriptions": 10}})
    adm = admin(d)
    a = connect_ws(d.port, "/m/a")
    for t in ("t1", "t2", "t3"):
        a.send_text("sub:" + t)
        assert recv_text(a) == "did sub:" + t
    a.send_text("sub:t4")
    msgs = sorted([recv_text(a), recv_text(a)])
    assert msgs[0] == "did sub:t4" and msgs[1].startswith("error ")
    assert adm.cmd("topics").status == "OK 3 topic(s)"
    a.close_handshake(1000)


def test_slow_client_does_not_hold_others(daemon_factory, mux_backend):
    routes = dict(ROUTES)
    routes["m"] = {"Path": "/m/*", "Backend": "unix:%s mux" % mux_backend}
    # Small socket buffers: the queue of the daemon fills, not the kernel's.
    d = daemon_factory(routes=routes, sections={"server":
        {"OutBufferSize": 16384}})
    adm = admin(d)
    slow = WSClient(d.port)
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    slow.handshake("/chat/1")
    fast = connect_ws(d.port, "/chat/1")
    pub = connect_ws(d.port, "/m/pub")
    assert wait_until(lambda: adm.cmd("topics").status == "OK 3 topic(s)",
        5.0)
    big = "x" * 60000
    # 60 publishes of 60 kB from a backend: the slow client's queue
    # passes its 1 MiB mark and it misses some; the fast one gets every
    # one, in order.
    for i in range(60):
        pub.send_text("pub:room:/1 %03d%s" % (i, big))
        assert recv_text(pub).startswith("did pub:room:/1 %03d" % i)
        assert recv_text(fast)[:3] == "%03d" % i
    st = adm.cmd("stats json").json()["topics"]
    assert st["skipped"] > 0
    assert st["delivered"] + st["skipped"] == 120
    # What the slow client gets is whole and in order.
    seen = []
    while True:
        try:
            op, data = slow.read_message(1.0)
        except socket.timeout:
            break
        assert len(data) == 60003
        seen.append(int(data[:3]))
    assert seen == sorted(seen) and len(seen) >= 1
    assert len(seen) == 60 - st["skipped"]
    fast.close_handshake(1000)
    pub.close_handshake(1000)


def test_workers_share_topics(daemon_factory, mux_backend):
    d = daemon_factory(routes={"m": {"Path": "/m/*",
        "Backend": "unix:%s mux" % mux_backend}},
        sections={"server": {"Workers": 2}})
    adm = admin(d)
    clients = [connect_ws(d.port, "/m/c%d" % i) for i in range(16)]
    for c in clients:
        c.send_text("sub:w")
        assert recv_text(c) == "did sub:w"
    # The kernel spread them over both workers (ids are N apart).
    owners = {int(conn_id(adm, c)) % 2 for c in clients}
    assert owners == {0, 1}, "all clients on one worker: rerun"
    # A publish from one worker's backend reaches the other's clients.
    clients[0].send_text("pub:w across")
    got = 0
    for c in clients:
        msgs = [recv_text(c)]
        if c is clients[0]:
            msgs.append(recv_text(c))
        assert "across" in msgs
        got += 1
    assert got == 16
    assert adm.cmd("publish w from admin").ok
    for c in clients:
        assert recv_text(c) == "from admin"
    r = adm.cmd("topics json")
    assert sum(t["Subscribers"] for t in r.json()) == 16
    for c in clients:
        c.close_handshake(1000)
    assert wait_until(lambda: adm.cmd("topics").status == "OK 0 topic(s)",
        5.0)
    p = ctl("-s", d.admin_socket, "publish", "w", "x")
    assert p.returncode == 0, p.stderr
