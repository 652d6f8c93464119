"""test_workers.py - Workers = N: a master process and N worker processes.

The master keeps the admin socket and merges what the workers report; each
worker listens on the same port (SO_REUSEPORT) and serves its own
connections. These tests check what an operator sees through one admin
socket (counts, merged tables, commands reaching the worker that owns a
ConnectionId, events), that MaxConnections holds over all workers, that a
worker that dies is replaced while the others keep serving, and that a
shutdown or a failed start leaves no process behind.
"""

import os
import signal
import socket
import subprocess
import threading
import time

import harness
from admin_util import AdminClient, admin, ctl

N = 2


def workers(d):
    """The master's worker pids (its children)."""
    return sorted(pid for pid, state in harness.children_of(d.pid)
        if state != "Z")


def start(daemon_factory, n=N, sections=None, routes=None):
    keys = {"server": {"Workers": n}}
    for name, extra in (sections or {}).items():
        keys.setdefault(name, {}).update(extra)
    d = daemon_factory(sections=keys, routes=routes)
    d.wait_log(r"%d workers listening on 127\.0\.0\.1:%d" % (n, d.port))
    assert len(workers(d)) == n
    return d


def open_clients(d, count, path="/"):
    clients = []
    for i in range(count):
        c = harness.WSClient(d.port)
        c.handshake(path)
        c.echo(harness.OP_TEXT, "hello %d" % i)
        clients.append(c)
    return clients


def close_all(clients):
    for c in clients:
        c.close()


def by_port(adm):
    return {c["RemotePort"]: c for c in adm.cmd("connections json").json()}


def test_one_admin_socket_for_all_workers(daemon_factory):
    d = start(daemon_factory)
    clients = open_clients(d, 24)
    try:
        with admin(d) as a:
            st = a.cmd("status json").json()
            assert st["Workers"] == N
            assert st["Pid"] == d.pid
            assert st["Connections"] == 24
            assert st["Listening"] is True and st["LocalPort"] == d.port
            rows = by_port(a)
            assert sorted(rows) == sorted(c.local_port for c in clients)
            ids = [int(r["ConnectionId"]) for r in rows.values()]
            assert len(set(ids)) == 24
            # Source ports differ, so both workers got some (the chance
            # that the kernel's hash sent all 24 to one is 2^-23).
            assert {i % N for i in ids} == set(range(N))
            text = a.cmd("connections")
            assert text.ok and text.text == "24 connection(s)"
            assert text.lines[0].split()[:3] == ["ID", "REMOTE", "STATE"]
            assert len(text.lines) == 25
            stats = a.cmd("stats json").json()
            assert stats["opened"] == 24 and stats["connections"] == 24
            assert stats["messages"]["in"] == 24
            assert stats["messages"]["out"] == 24
            # Every per-connection command reaches the owner.
            for c in clients:
                cid = rows[c.local_port]["ConnectionId"]
                one = a.cmd("connection %s json" % cid).json()
                assert one["RemotePort"] == c.local_port
                r = a.cmd("sendtext %s to %s" % (cid, cid))
                assert r.ok, r
                assert c.read_message() == (harness.OP_TEXT,
                    ("to %s" % cid).encode())
            r = a.cmd("broadcast everyone")
            assert r.ok and r.text == "sent to 24 connection(s)"
            for c in clients:
                assert c.read_message() == (harness.OP_TEXT, b"everyone")
            # An id nobody has: the owner says so, as one process would.
            r = a.cmd("disconnect 999999")
            assert r.code == 126
            r = a.cmd("connection x1")
            assert r.code == 126
            victims = clients[:4]
            for c in victims:
                r = a.cmd("disconnect %s 4001 bye" %
                    rows[c.local_port]["ConnectionId"])
                assert r.ok, r
            for c in victims:
                c.expect_close(4001)
                c.close()
            assert harness.wait_until(
                lambda: a.cmd("status json").json()["Connections"] == 20, 5)
    finally:
        close_all(clients)
    d.stop()
    d.check_clean()


def test_ping_and_pause_reach_the_owner(daemon_factory):
    d = start(daemon_factory)
    clients = open_clients(d, 8)
    try:
        with admin(d) as a:
            rows = by_port(a)
        for c in clients:
            cid = rows[c.local_port]["ConnectionId"]
            with AdminClient(d.admin_socket) as a:
                a.send_line("ping %s" % cid)
                f = c.read_frame()
                assert f.opcode == harness.OP_PING
                c.send_frame(harness.OP_PONG, f.payload)
                r = a.read_reply()
                assert r.ok, r
                assert "ms" in r.text
                assert a.cmd("pause %s" % cid).ok
                assert by_port(a)[c.local_port]["AcceptData"] is False
                assert a.cmd("resume %s" % cid).ok
                assert by_port(a)[c.local_port]["AcceptData"] is True
            c.echo(harness.OP_TEXT, "still here")
    finally:
        close_all(clients)
    d.stop()
    d.check_clean()


def test_max_connections_counts_over_all_workers(daemon_factory):
    d = start(daemon_factory, sections={"server": {"MaxConnections": 10}})
    clients = open_clients(d, 10)
    try:
        for _ in range(6):
            c = harness.WSClient(d.port)
            resp = c.handshake(expect=503)
            assert resp.status == 503
            c.close()
        with admin(d) as a:
            st = a.cmd("stats json").json()
            assert st["rejected"]["full"] == 6
            assert st["connections"] == 10
        clients.pop().close()
        with admin(d) as a:
            assert harness.wait_until(
                lambda: a.cmd("status json").json()["Connections"] == 9, 5)
        clients += open_clients(d, 1)
    finally:
        close_all(clients)
    d.stop()
    d.check_clean()


def test_a_dead_worker_is_replaced(daemon_factory):
    d = start(daemon_factory)
    clients = open_clients(d, 16)
    try:
        with admin(d) as a:
            before = {int(r["ConnectionId"]) for r in
                a.cmd("connections json").json()}
        old = workers(d)
        mark = d.mark()
        os.kill(old[0], signal.SIGKILL)
        m = d.wait_log(r"worker (\d+) \(pid %d\) killed by signal 9; "
            r"restarting" % old[0], start=mark)
        d.wait_log(r"worker %s \(pid \d+\) serving" % m.group(1),
            start=mark)
        now = workers(d)
        assert len(now) == N and old[0] not in now and old[1] in now
        # The dead worker's clients are gone, the other's still served.
        alive = []
        for c in clients:
            try:
                c.echo(harness.OP_TEXT, "x", timeout=2)
                alive.append(c)
            except (AssertionError, OSError):
                pass
        assert 0 < len(alive) < 16
        with admin(d) as a:
            assert harness.wait_until(lambda: a.cmd("status json").json()
                ["Connections"] == len(alive), 5)
            fresh = open_clients(d, 16)
            clients += fresh
            rows = a.cmd("connections json").json()
            ids = {int(r["ConnectionId"]) for r in rows}
            assert len(rows) == len(alive) + 16
            # ConnectionIds are never reused, not even by the new worker.
            assert not (ids - {int(i) for i in before}) & before
            assert {i % N for i in ids - before} == set(range(N))
    finally:
        close_all(clients)
    d.stop()
    d.check_clean()
    assert harness.wait_until(lambda: not workers(d), 5)


def test_shutdown_closes_everything_and_leaves_no_process(daemon_factory):
    d = start(daemon_factory, routes={
        "cat": {"Path": "/", "Backend": "script:/bin/cat",
            "MessageFormat": "lines"}})
    clients = open_clients(d, 10)
    pids = workers(d)
    d.signal(signal.SIGTERM)
    for c in clients:
        c.expect_close(1001)
    assert d.wait_exit(10) == 0
    d.check_clean()
    for pid in pids:
        assert not os.path.exists("/proc/%d" % pid) or \
            harness._proc_status(pid).get("State", "Z")[:1] == "Z"
    assert not os.path.exists(d.admin_socket)
    close_all(clients)


def test_admin_shutdown_and_watch(daemon_factory):
    d = start(daemon_factory)
    with AdminClient(d.admin_socket) as w:
        r = w.cmd("watch")
        assert r.ok
        # 24 clients: the chance that the kernel's hash sends them all
        # to one worker is 2^-23.
        clients = open_clients(d, 24)
        seen = set()
        deadline = time.monotonic() + 5
        while len(seen) < 24 and time.monotonic() < deadline:
            line = w.read_line(timeout=5)
            if line.startswith("Connected "):
                seen.add(line.split()[1])
        assert len(seen) == 24
        assert {int(i) % N for i in seen} == set(range(N))
        with admin(d) as a:
            r = a.cmd("shutdown")
            assert r.ok and r.text == "shutting down: 24 connection(s)"
        for c in clients:
            c.expect_close(1001)
    assert d.wait_exit(10) == 0
    d.check_clean()
    close_all(clients)


def listening_inodes():
    """Socket inodes of every listening TCP socket on the machine."""
    out = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A":
                    out.add(cols[9])
    return out


def socket_inodes(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


def test_spawners_hold_no_listening_socket(daemon_factory):
    """Once the daemon is ready no spawner holds a copy of a listening
    socket: a stop must close them all (a spawner that had not yet closed
    what it inherited kept taking clients after a stop, under load)."""
    for n in (1, N):
        if n == 1:
            d = daemon_factory(sections={"server": {"Workers": 1}})
        else:
            d = start(daemon_factory, n=n)
        procs = workers(d) if n > 1 else [d.pid]
        spawners = [harness.spawner_of(p) for p in procs]
        assert None not in spawners, spawners
        assert d.port and listening_inodes()
        for sp in spawners:
            assert not socket_inodes(sp) & listening_inodes(), sp
        d.stop()


def test_stop_start_and_config_reach_every_worker(daemon_factory):
    d = start(daemon_factory)
    with admin(d) as a:
        r = a.cmd("stop")
        assert r.ok, r
        assert a.cmd("status json").json()["Listening"] is False
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex(("127.0.0.1", d.port)) != 0
        r = a.cmd("start")
        assert r.ok and r.text == "listening on 127.0.0.1:%d" % d.port
        clients = open_clients(d, 12)
        r = a.cmd("config DisconnectStatusDescription=see you")
        assert r.ok, r
        assert a.cmd("config DisconnectStatusDescription").lines == [
            "DisconnectStatusDescription = see you"]
        r = a.cmd("config Bogus=1")
        assert r.code == 404
        r = a.cmd("config LocalPort=1")
        assert r.code == 106, r
        rows = by_port(a)
        for c in clients:
            assert a.cmd("disconnect %s" %
                rows[c.local_port]["ConnectionId"]).ok
        for c in clients:
            f = c.read_close()
            assert f.close_code() == 1000
            assert f.payload[2:] == b"see you"
    close_all(clients)
    d.stop()
    d.check_clean()


def test_reload_reaches_every_worker(daemon_factory):
    d = start(daemon_factory)
    with open(d.ini) as f:
        text = f.read()
    with open(d.ini, "w") as f:
        f.write(text + "\n[route:second]\nPath = /second\nBackend = echo\n")
    with admin(d) as a:
        r = a.cmd("reload")
        assert r.ok, r
    # The master and then each worker (on the master's SIGHUP) read it.
    assert harness.wait_until(lambda: d.log_text().count(
        "configuration reloaded from") == N + 1, 5), d.log_tail()
    clients = open_clients(d, 16, path="/second")
    close_all(clients)
    d.stop()
    d.check_clean()


def test_a_failed_start_leaves_nothing():
    # The port is taken by a socket without SO_REUSEPORT: no worker can
    # bind it, so the daemon must not start (exit 1) and leave nothing.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(5)
        port = s.getsockname()[1]
        d = harness.Daemon(sections={"server": {"Workers": N,
            "LocalPort": port}})
        try:
            p = subprocess.run([harness.daemon_path(), "-f", "-c", d.ini],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, timeout=20)
            out = p.stdout.decode()
            assert p.returncode == 1, out
            assert "address already in use" in out
            assert "not starting" in out
            assert "AddressSanitizer" not in out and "runtime error" not in out
            assert not os.path.exists(d.admin_socket)
        finally:
            d.cleanup()


def test_admin_channels_do_not_leak(daemon_factory):
    d = start(daemon_factory)
    clients = open_clients(d, 4)
    pids = workers(d)

    def fds():
        return [len(os.listdir("/proc/%d/fd" % p)) for p in [d.pid] + pids]

    for _ in range(5):
        with admin(d) as a:
            a.cmd("connections")
    base = fds()
    for _ in range(60):
        with admin(d) as a:
            assert a.cmd("connections json").ok
            assert a.cmd("broadcast x").ok
    for c in clients:
        for _ in range(60):
            c.read_message()
    # Each admin client's channels close with it (the last one may still
    # be closing when base was taken).
    assert harness.wait_until(lambda: all(n <= b for n, b in
        zip(fds(), base)), 5), (fds(), base)
    close_all(clients)
    d.stop()
    d.check_clean()


def test_wsserverctl_through_the_master(daemon_factory):
    d = start(daemon_factory)
    clients = open_clients(d, 6)
    p = ctl("-s", d.admin_socket, "connections")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "6 connection(s)"
    p = ctl("-s", d.admin_socket, "status")
    assert "Workers: %d" % N in p.stdout
    close_all(clients)
    d.stop()
    d.check_clean()


def test_notify_from_the_master_only(daemon_factory):
    from test_systemd import Notify
    n = Notify()
    try:
        d2 = daemon_factory(env={"NOTIFY_SOCKET": n.address},
            sections={"server": {"Workers": N}})
        m = n.wait(r"^READY=1\nSTATUS=listening on 127\.0\.0\.1:(\d+) "
            r"\(%d workers\)$" % N)
        assert m.endswith("(%d workers)" % N)
        with admin(d2) as a:
            assert a.cmd("reload").ok
        n.wait(r"^RELOADING=1\n")
        n.wait(r"^READY=1\nSTATUS=configuration reloaded$")
        d2.signal(signal.SIGTERM)
        n.wait(r"^STOPPING=1")
        assert d2.wait_exit(10) == 0
        n.drain(0.3)
        # Nothing from the workers (systemd would log each as foreign).
        assert not [x for x in n.messages if "READY=1" in x], n.messages
    finally:
        n.close()


def test_socket_activation_shared_by_the_workers():
    from test_systemd import ActivatedDaemon, _free_port
    port = _free_port()
    d = ActivatedDaemon(port, sections={"server": {"Workers": N,
        "LocalPort": 1}})
    try:
        d.start()
        assert d.port == port
        d.wait_log(r"%d workers listening on 127\.0\.0\.1:%d" % (N, port))
        assert len([l for l in d.lines if
            "using the inherited socket fd 3" in l]) == N
        clients = open_clients(d, 16)
        with admin(d) as a:
            ids = [int(r["ConnectionId"]) for r in
                a.cmd("connections json").json()]
        assert len(ids) == 16
        close_all(clients)
        assert d.stop() == 0
        d.check_clean()
    except BaseException:
        print("---- wsserverd log ----\n" + d.log_tail(80))
        raise
    finally:
        d.cleanup()


def test_restarted_worker_serves_without_privileges(daemon_factory):
    # The listening socket is bound once, as root, and kept by the master:
    # a worker started after privileges were dropped accepts on it too.
    d = start(daemon_factory, sections={"server": {"User": "nobody"}})
    first = workers(d)
    for pid in [d.pid] + first:
        assert harness._proc_status(pid)["Uid"].split()[0] == "65534"
    time.sleep(1.2)   # past the crash-loop delay
    mark = d.mark()
    os.kill(first[0], signal.SIGKILL)
    d.wait_log(r"worker \d \(pid \d+\) serving", start=mark)
    (new,) = set(workers(d)) - set(first)
    # With the other worker gone too, only the new one can take clients.
    mark = d.mark()
    os.kill(first[1], signal.SIGKILL)
    d.wait_log(r"killed by signal 9; restarting it", start=mark)
    clients = open_clients(d, 8)
    with admin(d) as a:
        rows = a.cmd("connections json").json()
    assert len(rows) == 8
    assert not d.find_log(r"cannot listen|Address already in use")
    close_all(clients)
    d.stop()
    d.check_clean()


def test_a_worker_restarted_after_stop_does_not_listen(daemon_factory):
    d = start(daemon_factory)
    with admin(d) as a:
        assert a.cmd("stop").ok
        time.sleep(1.2)
        mark = d.mark()
        os.kill(workers(d)[0], signal.SIGKILL)
        d.wait_log(r"not listening \(stopped by wsserverctl\)", start=mark)
        d.wait_log(r"serving", start=mark)
        assert a.cmd("status json").json()["Listening"] is False
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex(("127.0.0.1", d.port)) != 0
        r = a.cmd("start")
        assert r.ok, r
        clients = open_clients(d, 12)
        ids = [int(x["ConnectionId"]) for x in
            a.cmd("connections json").json()]
        assert len(ids) == 12
    close_all(clients)
    d.stop()
    d.check_clean()


def test_a_stuck_worker_is_killed_and_replaced(daemon_factory):
    d = start(daemon_factory, sections={"server": {"WorkerTimeout": 2}})
    time.sleep(1.2)
    victim = workers(d)[0]
    mark = d.mark()
    t0 = time.monotonic()
    os.kill(victim, signal.SIGSTOP)
    try:
        d.wait_log(r"worker \d \(pid %d\) has not answered for 2 s: "
            r"killing it" % victim, start=mark, timeout=10)
        waited = time.monotonic() - t0
        d.wait_log(r"\(pid %d\) killed by signal 9; restarting it" % victim,
            start=mark)
        d.wait_log(r"serving", start=mark)
    finally:
        if os.path.exists("/proc/%d" % victim):
            os.kill(victim, signal.SIGCONT)
    assert 1.5 <= waited <= 5, waited
    assert victim not in workers(d) and len(workers(d)) == N
    clients = open_clients(d, 12)
    close_all(clients)
    # A worker that answers is left alone.
    time.sleep(3)
    assert len(d.log_text().split("has not answered")) == 2
    d.stop()
    d.check_clean()


def test_watch_follows_a_restarted_worker(daemon_factory):
    d = start(daemon_factory)
    time.sleep(1.2)
    with AdminClient(d.admin_socket) as w:
        assert w.cmd("watch").ok
        victim = workers(d)[0]
        mark = d.mark()
        os.kill(victim, signal.SIGKILL)
        d.wait_log(r"killed by signal 9; restarting", start=mark)
        # Clients keep coming (4 at a time) while the worker restarts: the
        # new one must not accept any before the watchers follow it.
        clients = []
        lock = threading.Lock()
        serving = r"worker \d \(pid \d+\) serving"

        def keep_coming():
            end = time.monotonic() + 10
            while (d.find_log(serving, start=mark) is None and
                    time.monotonic() < end):
                c = open_clients(d, 1)
                with lock:
                    clients.extend(c)
        threads = [threading.Thread(target=keep_coming) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert d.find_log(serving, start=mark)
        clients += open_clients(d, 24)
        with admin(d) as a:
            ids = {r["ConnectionId"] for r in
                a.cmd("connections json").json()}
        assert len(ids) == len(clients)
        seen = set()
        deadline = time.monotonic() + 20
        while not ids <= seen and time.monotonic() < deadline:
            line = w.read_line(timeout=deadline - time.monotonic())
            if line.startswith("Connected "):
                seen.add(line.split()[1])
        # Both workers' events, the new one's included: every client, those
        # that came during the restart too.
        assert ids <= seen
        assert {int(i) % N for i in ids} == set(range(N))
        close_all(clients)
    d.stop()
    d.check_clean()


def test_chat_room_spans_the_workers(daemon_factory, tmp_path):
    # examples/chat-room.py gets one mux connection per worker and says
    # each broadcast on all of them: everyone hears everyone.
    from test_mux import EXAMPLES
    sock = str(tmp_path / "chat.sock")
    proc = subprocess.Popen(["/usr/bin/python3",
        os.path.join(EXAMPLES, "chat-room.py"), sock],
        stdin=subprocess.DEVNULL)
    clients = []
    try:
        assert harness.wait_until(lambda: os.path.exists(sock), 5.0)
        d = start(daemon_factory, routes={"chat": {"Path": "/chat",
            "Backend": "unix+mux:%s" % sock}})
        # 24: the chance that the kernel's hash sends all to one worker is
        # 2^-23.
        for i in range(24):
            c = harness.connect_ws(d.port, "/chat?name=u%d" % i)
            clients.append(c)
            for x in clients:
                assert x.read_message() == (harness.OP_TEXT,
                    b"* u%d joined (%d here)" % (i, i + 1))
        with admin(d) as a:
            ids = [int(r["ConnectionId"]) for r in
                a.cmd("connections json").json()]
        assert {i % N for i in ids} == set(range(N))
        clients[0].send_text("hello all")
        for x in clients:
            assert x.read_message() == (harness.OP_TEXT, b"u0: hello all")
        close_all(clients)
        d.stop()
        d.check_clean()
    finally:
        proc.kill()
        proc.wait(5)
