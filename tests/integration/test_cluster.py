"""The fleet on a real redis-server (wsserverd(8), THE FLEET): two or three
nodes on 127.0.0.1 share topics through Redis pub/sub, ConnectionIds carry
the node's name and commands for another node's connection are relayed to
it, status and connections --all see every live node; faults: Redis down
(local traffic goes on, publishes are counted as dropped, reconnect and
resubscribe), a subscriber Redis cuts for reading too slowly, a node killed,
the queue of what waits for Redis bounded; AUTH from a file, -t and reload
of [cluster]."""

import base64
import os
import re
import signal
import socket
import statistics
import subprocess
import threading
import time

import pytest

from admin_util import admin, conn_entry, ctl
from harness import (HANDLERS, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG,
    OP_TEXT, Daemon, WSClient, connect_ws, daemon_path, wait_until)
from redis_util import RedisServer, need_redis, redis_server, wait_fleet

pytestmark = pytest.mark.usefixtures()


def node(daemon_factory, redis, name, routes=None, **cluster):
    """A node of the fleet (daemon_factory None: a Daemon the test stops)."""
    sections = {"cluster": {"Redis": redis.url, "NodeName": name,
        "NodeTTL": 2000, "RedisTimeout": 1500, "RedisReconnectMax": 500,
        "CommandTimeout": 2000}}
    sections["cluster"].update(cluster)
    if routes is None:
        routes = {"chat": {"Path": "/chat/*", "Backend": "echo",
            "Subscribe": "room:{PATH_INFO}, all"}}
    if daemon_factory is None:
        d = Daemon(sections=sections, routes=routes)
        d.start()
        return d
    return daemon_factory(sections=sections, routes=routes)


def recv_text(c, timeout=5.0):
    op, data = c.read_message(timeout)
    assert op == OP_TEXT, "expected text, got %r" % ((op, data),)
    return data.decode()


def nothing_more(c, wait=0.3):
    with pytest.raises(socket.timeout):
        c.read_message(wait)


def my_id(adm, client):
    for c in adm.cmd("connections json").json():
        if c["RemotePort"] == client.local_port:
            return c["ConnectionId"]
    raise AssertionError("no connection from port %d" % client.local_port)


def subscribed(adm, n):
    """Waits until the node's topics are all subscribed in Redis."""
    assert wait_until(lambda: adm.cmd("stats json").json()["topics"][
        "redis"] == n, 10.0), adm.cmd("stats").lines


@pytest.fixture
def two(daemon_factory, redis_server):
    a = node(daemon_factory, redis_server, "n1")
    b = node(daemon_factory, redis_server, "n2")
    aa, ab = admin(a), admin(b)
    wait_fleet(aa, ["n1", "n2"])
    wait_fleet(ab, ["n1", "n2"])
    return a, b, aa, ab, redis_server


def test_ids_topics_and_plain_publish(two):
    a, b, aa, ab, redis = two
    ca = connect_ws(a.port, "/chat/7")
    cb = connect_ws(b.port, "/chat/7")
    ida, idb = my_id(aa, ca), my_id(ab, cb)
    assert re.fullmatch(r"n1:\d+", ida) and re.fullmatch(r"n2:\d+", idb)
    subscribed(aa, 2)
    subscribed(ab, 2)
    # A publish on one node reaches every node's subscribers.
    r = aa.cmd("publish room:/7 from n1")
    assert r.ok and "on this node only" not in r.status
    assert recv_text(ca) == "from n1"
    assert recv_text(cb) == "from n1"
    # Any application: a plain PUBLISH on the topic's channel.
    assert redis.cli("PUBLISH", "wsserverd:topic:all", "from cron").stdout \
        .strip() == "2"
    assert recv_text(ca) == "from cron" and recv_text(cb) == "from cron"
    # Binary, and text that starts with NUL, in the envelope.
    redis.publish_raw("wsserverd:topic:all", "\\x00B\\x00\\xff\\x01")
    assert ca.read_message() == (OP_BINARY, b"\x00\xff\x01")
    assert cb.read_message() == (OP_BINARY, b"\x00\xff\x01")
    redis.publish_raw("wsserverd:topic:all", "\\x00T\\x00nul")
    assert ca.read_message() == (OP_TEXT, b"\x00nul")
    assert cb.read_message() == (OP_TEXT, b"\x00nul")
    # What no WebSocket can take is dropped, counted and logged once.
    redis.publish_raw("wsserverd:topic:all", "\\xc3(")
    redis.publish_raw("wsserverd:topic:all", "\\x00X")
    assert wait_until(lambda: aa.cmd("stats json").json()["topics"][
        "invalid"] == 2, 5.0)
    assert len([l for l in a.lines if "was dropped" in l]) == 1
    nothing_more(ca)
    st = aa.cmd("stats json").json()
    assert st["topics"]["published"] == 1
    assert st["topics"]["received"] >= 5
    assert st["cluster"]["state"] == "connected"
    ca.close_handshake(1000)
    cb.close_handshake(1000)
    # The last subscriber gone, the node leaves the channel.
    subscribed(aa, 0)
    assert redis.cli("PUBSUB", "NUMSUB", "wsserverd:topic:room:/7").stdout \
        .split() == ["wsserverd:topic:room:/7", "0"]


def answer_pings(c, stop):
    """Answers the server's pings on a raw client until stop is set."""
    c.sock.settimeout(0.2)
    while not stop.is_set():
        try:
            f = c.read_frame(0.2)
        except (socket.timeout, OSError):
            continue
        if f.opcode == OP_PING:
            c.send_frame(OP_PONG, f.payload)
        else:
            c.received.append(f)


def test_commands_for_another_node(two):
    a, b, aa, ab, redis = two
    cb = connect_ws(b.port, "/chat/x")
    idb = my_id(ab, cb)
    # sendtext, send: queued on node n2, from n1.
    r = aa.cmd("sendtext %s hello over there" % idb)
    assert r.ok and r.status == "OK queued 16 bytes to %s" % idb
    assert recv_text(cb) == "hello over there"
    r = aa.cmd("send %s %s" % (idb, base64.b64encode(b"\x01\x02").decode()))
    assert r.ok
    assert cb.read_message() == (OP_BINARY, b"\x01\x02")
    # connection, pause, resume.
    r = aa.cmd("connection %s" % idb)
    assert r.ok and r.fields()["ConnectionId"] == idb
    assert r.fields()["RequestURI"] == "/chat/x"
    assert aa.cmd("connection %s json" % idb).json()["ConnectionId"] == idb
    assert aa.cmd("pause %s" % idb).ok
    assert conn_entry(ab, idb)["AcceptData"] is False
    assert aa.cmd("resume %s" % idb).ok
    assert conn_entry(ab, idb)["AcceptData"] is True
    # ping: the client's pong comes back through n2 to n1.
    cb.received = []
    stop = threading.Event()
    t = threading.Thread(target=answer_pings, args=(cb, stop))
    t.start()
    try:
        r = aa.cmd("ping %s" % idb)
        assert r.ok and r.status.startswith("OK pong from %s in" % idb)
    finally:
        stop.set()
        t.join()
    # Only commands about connections cross: sendfile does not.
    r = aa.cmd("sendfile %s /etc/hostname" % idb)
    assert r.code == 126 and "this node's connections only" in r.text
    # The checks of a command come first, on the node that got it.
    assert aa.cmd("disconnect %s 999" % idb).code == 405
    r = aa.cmd("disconnect %s 4000 bye" % idb)
    assert r.ok and r.status == "OK closing %s" % idb
    cb.expect_close(4000)
    cb.close()
    assert wait_until(lambda: conn_entry(ab, idb) is None, 5.0)
    # An id of a node that is not in the fleet: 126 at once.
    t0 = time.monotonic()
    r = aa.cmd("sendtext n9:1 x")
    assert r.code == 126 and "node n9 is not in the fleet" in r.text
    assert time.monotonic() - t0 < 1.0
    # A gone connection of a live node: that node's own 126.
    r = aa.cmd("sendtext %s x" % idb)
    assert r.code == 126 and "Invalid ConnectionId" in r.text
    st = aa.cmd("stats json").json()["cluster"]
    assert st["requests"] == 10 and st["requests_failed"] == 1
    # n2 ran all but the one for n9.
    assert ab.cmd("stats json").json()["cluster"]["served"] == 9
    # The served commands that change state are logged on n2.
    assert b.find_log(r"admin: from another node: sendtext %s" % idb)


def test_connections_all_and_status(daemon_factory, redis_server):
    a = node(daemon_factory, redis_server, "n1")
    b = node(daemon_factory, redis_server, "n2")
    c = node(None, redis_server, "n3")	# killed below
    try:
        all_and_status(a, b, c)
    finally:
        c.cleanup()


def all_and_status(a, b, c):
    aa = admin(a)
    wait_fleet(aa, ["n1", "n2", "n3"])
    clients = [connect_ws(d.port, "/chat/1") for d in (a, b, b, c)]
    r = aa.cmd("connections --all")
    assert r.ok and r.status == "OK 4 connection(s)", r
    ids = sorted(l.split()[0] for l in r.lines[1:])
    assert [i.split(":")[0] for i in ids] == ["n1", "n2", "n2", "n3"]
    j = aa.cmd("connections --all json").json()
    assert sorted(x["ConnectionId"] for x in j) == ids
    # Without --all, this node's alone.
    assert aa.cmd("connections").status == "OK 1 connection(s)"
    st = aa.cmd("status json").json()
    assert st["Fleet"] == "connected" and st["Node"] == "n1"
    assert sorted(n["Name"] for n in st["Nodes"]) == ["n1", "n2", "n3"]
    assert [n["Self"] for n in st["Nodes"]].count(True) == 1
    assert all(n["state"] == "connected" for n in st["Nodes"])
    r = aa.cmd("status")
    assert "Nodes: 3" in r.lines
    # kill -9 a node: its connections leave --all at once (nobody
    # answers on its channel) and the node leaves status within NodeTTL.
    ids_c = [i for i in ids if i.startswith("n3:")]
    os.kill(c.pid, signal.SIGKILL)
    c.wait_exit(10)
    t0 = time.monotonic()
    r = aa.cmd("connections --all")
    assert r.ok and r.status.startswith("OK 3 connection(s)"), r
    assert not [l for l in r.lines if l.startswith("n3:")]
    r = aa.cmd("sendtext %s x" % ids_c[0], timeout=5)
    assert r.code == 126 and "node n3 is not in the fleet" in r.text
    assert wait_until(lambda: sorted(n["Name"] for n in aa.cmd(
        "status json").json()["Nodes"]) == ["n1", "n2"], 5.0)
    assert time.monotonic() - t0 < 2.0 + 1.0
    for cl in clients[:3]:
        cl.close_handshake(1000)


def echo_rtts(c, n):
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        c.echo(OP_TEXT, "ping %d" % i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p99(xs):
    return sorted(xs)[int(len(xs) * 0.99) - 1]


def test_redis_outage(daemon_factory, redis_server):
    a = node(daemon_factory, redis_server, "n1")
    aa = admin(a)
    wait_fleet(aa, ["n1"])
    c = connect_ws(a.port, "/chat/1")
    subscribed(aa, 2)
    before = echo_rtts(c, 300)
    mark = a.mark()
    redis_server.stop()
    a.wait_log(r"fleet: lost Redis at .*this node serves alone", timeout=10,
        start=mark)
    # Alone: local traffic goes on (echo), a publish reaches this node's
    # subscribers and is counted as dropped for the fleet.
    during = echo_rtts(c, 300)
    r = aa.cmd("publish all while alone")
    assert r.ok and "on this node only" in r.status
    assert recv_text(c) == "while alone"
    assert aa.cmd("stats json").json()["topics"]["dropped"] == 1
    assert aa.cmd("status json").json()["Fleet"] == "down"
    # Commands for other nodes fail at once.
    t0 = time.monotonic()
    r = aa.cmd("sendtext n2:1 x")
    assert r.code == 503 and "unreachable" in r.text
    assert time.monotonic() - t0 < 0.5
    print("local echo during the outage: p50 %.3f ms p99 %.3f ms "
        "(before: p50 %.3f p99 %.3f)" % (statistics.median(during),
        p99(during), statistics.median(before), p99(before)))
    assert p99(during) < max(50.0, 5 * p99(before))
    # Back: reconnected and resubscribed, each change said once.
    time.sleep(1.5)
    mark2 = a.mark()
    t_back = time.monotonic()
    redis_server.start()
    a.wait_log(r"fleet: node n1 is in the fleet", timeout=10, start=mark2)
    assert wait_until(lambda: redis_server.cli("PUBLISH",
        "wsserverd:topic:all", "back").stdout.strip() == "1", 5.0)
    assert recv_text(c) == "back"
    assert time.monotonic() - t_back < 5.0
    lost = [l for l in a.lines[mark:] if "cannot reach Redis" in l or
        "lost Redis" in l]
    assert len(lost) == 1, lost
    assert len([l for l in a.lines[mark2:] if "connected to Redis" in l]) \
        == 1
    st = aa.cmd("stats json").json()
    assert st["cluster"]["reconnects"] == 1
    assert st["topics"]["redis"] == 2
    c.close_handshake(1000)


def test_redis_cuts_a_slow_subscriber(daemon_factory, redis_server):
    a = node(daemon_factory, redis_server, "n1", RedisTimeout=5000)
    aa = admin(a)
    wait_fleet(aa, ["n1"])
    c = connect_ws(a.port, "/chat/1")
    subscribed(aa, 2)
    assert redis_server.cli("CONFIG", "SET", "client-output-buffer-limit",
        "pubsub 262144 131072 1").returncode == 0
    mark = a.mark()
    os.kill(a.pid, signal.SIGSTOP)
    try:
        # 400 x 40 kB while the node does not read: more than its socket
        # buffers take, and 256 kB behind in Redis.
        line = 'PUBLISH wsserverd:topic:all "%s"\n' % ("z" * 40000)
        redis_server.cli(stdin=line * 400, timeout=30)
    finally:
        os.kill(a.pid, signal.SIGCONT)
    a.wait_log(r"Redis closed the subscriber connection.*"
        r"client-output-buffer-limit", timeout=10, start=mark)
    a.wait_log(r"fleet: node n1 is in the fleet", timeout=10, start=mark)
    # Some of the burst may have come through before the cut; then new
    # messages do.
    deadline = time.monotonic() + 5
    while True:
        redis_server.cli("PUBLISH", "wsserverd:topic:room:/1", "fresh")
        try:
            while True:
                op, data = c.read_message(0.5)
                if data == b"fresh":
                    break
            break
        except socket.timeout:
            assert time.monotonic() < deadline
    c.close_handshake(1000)


def test_pending_bounded(daemon_factory, redis_server):
    a = node(daemon_factory, redis_server, "n1", RedisMaxPending=65536,
        RedisTimeout=10000)
    aa = admin(a)
    wait_fleet(aa, ["n1"])
    os.kill(redis_server.proc.pid, signal.SIGSTOP)
    try:
        refused = 0
        for i in range(60):
            r = aa.cmd("publish t " + "p" * 3000)
            if not r.ok:
                assert r.code == 503 and "RedisMaxPending" in r.text
                refused += 1
        # About 64 kB of publishes wait; the rest are refused.
        assert 30 <= refused <= 45, refused
        st = aa.cmd("stats json").json()
        assert st["cluster"]["pending"] <= 65536
        assert st["topics"]["dropped"] == refused
    finally:
        os.kill(redis_server.proc.pid, signal.SIGCONT)
    assert wait_until(lambda: aa.cmd("stats json").json()["cluster"][
        "pending"] == 0, 5.0)


def test_auth_check_and_reload(daemon_factory, tmp_path):
    need_redis()
    r = RedisServer(password="pw with space")
    r.start()
    try:
        pwfile = tmp_path / "redis.pw"
        pwfile.write_text("pw with space\n")
        a = daemon_factory(sections={"cluster": {"Redis": r.url,
            "NodeName": "n1", "RedisPasswordFile": str(pwfile),
            "NodeTTL": 2000, "RedisReconnectMax": 500}},
            routes={"e": {"Path": "/", "Backend": "echo",
            "Subscribe": "x"}})
        aa = admin(a)
        wait_fleet(aa, ["n1"])
        c = connect_ws(a.port, "/")
        subscribed(aa, 1)
        assert r.cli("PUBLISH", "wsserverd:topic:x", "authed").stdout \
            .strip() == "1"
        assert recv_text(c) == "authed"
        # reload: another prefix; the node moves its channels.
        text = open(a.ini).read()
        with open(a.ini, "w") as f:
            f.write(text.replace("[cluster]", "[cluster]\nChannelPrefix = "
                "app2:"))
        mark = a.mark()
        assert aa.cmd("reload").ok
        a.wait_log(r"\[cluster\] changed by the reload", start=mark)
        wait_fleet(aa, ["n1"])
        subscribed(aa, 1)
        assert r.cli("PUBLISH", "wsserverd:topic:x", "old").stdout.strip() \
            == "0"
        assert r.cli("PUBLISH", "app2:topic:x", "new").stdout.strip() == "1"
        assert recv_text(c) == "new"
        c.close_handshake(1000)
        # A wrong password: refused, said once, retried quietly.
        pwfile.write_text("wrong\n")
        b = daemon_factory(sections={"cluster": {"Redis": r.url,
            "NodeName": "n2", "RedisPasswordFile": str(pwfile),
            "RedisReconnectMax": 300}})
        b.wait_log(r"cannot reach Redis .*refused the setup", timeout=10)
        time.sleep(1.0)
        assert len([l for l in b.lines if "cannot reach Redis" in l]) == 1
        assert admin(b).cmd("status json").json()["Fleet"] == "connecting"
    finally:
        r.cleanup()


def test_check_cluster_keys(tmp_path):
    ini = tmp_path / "w.ini"
    ini.write_text("[cluster]\nRedis = http://x\nNodeName = bad name\n"
        "[route:e]\nPath = /\nBackend = echo\n")
    p = subprocess.run([daemon_path(), "-t", "-c", str(ini)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 1
    assert "w.ini:2: Redis: use redis://HOST[:PORT][/DB] or unix:/PATH" \
        in p.stderr
    assert "w.ini:3: NodeName:" in p.stderr
    # The password file (relative to the ini) must be readable.
    ini.write_text("[cluster]\nRedis = redis://127.0.0.1\nNodeName = a\n"
        "RedisPasswordFile = nope\n[route:e]\nPath = /\nBackend = echo\n")
    p = subprocess.run([daemon_path(), "-t", "-c", str(ini)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 1
    assert "w.ini: RedisPasswordFile: %s/nope: No such file" % tmp_path \
        in p.stderr
    ini.write_text("[cluster]\nRedis = unix:/run/redis/redis.sock\n"
        "NodeName = web-1\n[route:e]\nPath = /\nBackend = echo\n")
    p = subprocess.run([daemon_path(), "-t", "-c", str(ini)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 0, p.stderr


def test_workers_in_the_fleet(daemon_factory, redis_server, tmp_path):
    sock = str(tmp_path / "m.sock")
    mux = subprocess.Popen(["/usr/bin/python3", os.path.join(HANDLERS,
        "topic_mux.py"), sock], stdin=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: os.path.exists(sock), 5.0)
        routes = {"m": {"Path": "/m/*", "Backend": "unix:%s mux" % sock,
            "Subscribe": "all"}}
        a = daemon_factory(sections={"server": {"Workers": 2},
            "cluster": {"Redis": redis_server.url, "NodeName": "w1",
            "NodeTTL": 2000}}, routes=routes)
        b = node(daemon_factory, redis_server, "n2")
        aa, ab = admin(a), admin(b)
        wait_fleet(aa, ["w1", "n2"])
        clients = [connect_ws(a.port, "/m/%d" % i) for i in range(12)]
        ids = [my_id(aa, c) for c in clients]
        assert {int(i.split(":")[1]) % 2 for i in ids} == {0, 1}
        cb = connect_ws(b.port, "/chat/q")
        assert wait_until(lambda: aa.cmd("stats json").json()["topics"][
            "redis"] == 1, 10.0)
        subscribed(ab, 2)
        # n2 publishes: both workers of w1 get it.
        assert ab.cmd("publish all to w1").ok
        for c in clients:
            assert recv_text(c) == "to w1"
        assert recv_text(cb) == "to w1"
        # A backend of a worker of w1 publishes: n2's client gets it.
        clients[3].send_text("pub:all from a worker")
        got = sorted([recv_text(clients[3]), recv_text(clients[3])])
        assert got == ["did pub:all from a worker", "from a worker"]
        assert recv_text(cb) == "from a worker"
        for c in clients:
            if c is not clients[3]:
                assert recv_text(c) == "from a worker"
        # n2 sends to each of w1's connections: the master routes it.
        for i, c in zip(ids, clients):
            assert ab.cmd("sendtext %s to %s" % (i, i)).ok
            assert recv_text(c) == "to %s" % i
        r = ab.cmd("connections --all")
        assert r.status == "OK 13 connection(s)", r
        for c in clients:
            c.close_handshake(1000)
        cb.close_handshake(1000)
    finally:
        mux.kill()
        mux.wait(5)
